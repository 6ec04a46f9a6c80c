/* test-pidgin.c: the built plugin in the real Pidgin. Pidgin runs on a
 * private Xvfb display with its D-Bus interface on a private session bus and
 * a throw-away profile whose agent account signs in to the in-process test
 * server. A visitor (test peer) writes; the message must reach Pidgin (seen
 * through Pidgin's D-Bus API); a reply sent through that API must reach the
 * visitor. Screenshots of the buddy list and the conversation window, and of
 * a picture inline, a file transfer in progress and Get Info, go to
 * $PPM_SCREENSHOTS_DIR (the README's pictures) or $BUILD/screenshots.
 * A second session shows a group conversation of agents as a Pidgin chat
 * with its member list (group-chat.png).
 * A third session bridges an IRC account (ngircd here, a scripted IRC
 * contact) to the team with libppmessage-bridge.so, beside the agent's
 * account: the contact's message shows in the IRC conversation and, from
 * the visitor "ircpal (IRC)", in the agent's; the agent's reply reaches
 * the contact's socket (bridged-irc.png, bridged-agent.png).
 *
 * Pidgin finds protocol icons only in its own data directory. When our icons
 * are not installed there, Pidgin runs in a private mount namespace where a
 * copy of that directory with our icons is mounted over it (as after `make
 * install`), so the system is never touched; without namespaces it runs as is.
 *
 * Skipped under SANITIZE=1 (an ASan plugin cannot load into an uninstrumented
 * Pidgin) and when pidgin, Xvfb, dbus-daemon, ImageMagick's import or
 * xwininfo is missing (the bridge's session also when ngircd is).
 * Waiting iterates the GLib main loop (the server lives in this process) and
 * re-checks the condition at least every POLL_MS, up to a timeout.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "local-servers.h"
#include "server-start.h"

#define AGENT_EMAIL      "agent@ppmessage.local"
#define AGENT_PASSWORD   "agentpass"
#define AGENT_NAME       "Alice Agent"
#define VISITOR_EMAIL    "dana@example.com"
#define VISITOR_NAME     "Dana Whitfield"
#define OTHER_EMAIL      "carlos@example.com"
#define OTHER_NAME       "Carlos Mendes"
#define GREETING         "Hello! I have a question about my order."
#define VISITOR_TEXT     "Hi! My order 4711 has not arrived yet. Could you check?"
#define REPLY_TEXT       "Sorry about that, Dana! Order 4711 left our warehouse today."
#define THANKS_TEXT      "Great, thank you!"
#define BOB_EMAIL        "bob@ppmessage.local"
#define GROUP_NAME       "Escalations"
#define GROUP_FIRST      "Morning! Acme's order 4711 is late again, who takes it?"
#define GROUP_SECOND     "Carol, could you look at their invoice too?"
#define GROUP_REPLY      "I'll call Acme now and report back here."
#define IRC_ACCOUNT      "bridge@127.0.0.1"
#define IRC_BRIDGE_NICK  "bridge"
#define IRC_CONTACT_NICK "ircpal"
#define IRC_CONTACT_TEXT "Hi, I found you on IRC. Is order 4711 on its way?"
#define IRC_REPLY_TEXT   "Hello from the team! Order 4711 left our warehouse today."

#define PURPLE_SERVICE   "im.pidgin.purple.PurpleService"
#define PURPLE_PATH      "/im/pidgin/purple/PurpleObject"
#define PURPLE_INTERFACE "im.pidgin.purple.PurpleInterface"
#define PURPLE_CONV_TYPE_IM 1

#define START_TIMEOUT_MS 60000  /* Xvfb, the bus, Pidgin up and signed in (loaded machine) */
#define WAIT_MS          20000
#define CALL_TIMEOUT_MS  10000
#define POLL_MS          100
/* Pidgin shows a "just signed on" emblem for 10 s; README pictures wait it out. */
#define SIGNON_EMBLEM_MS 11000

static const char TEAM_SEED[] =
  "{\"app\": {\"app_name\": \"Demo Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"" AGENT_NAME "\", \"user_status\": \"OWNER_2\","
  "   \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"bob@ppmessage.local\", \"password\": \"bobpass\","
  "   \"user_fullname\": \"Bob Assistance\", \"user_status\": \"SERVICE\","
  "   \"is_service_user\": true}"
  " ]}";

/* Three agents, for a group conversation. */
static const char GROUP_TEAM_SEED[] =
  "{\"app\": {\"app_name\": \"Demo Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"" AGENT_NAME "\", \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB_EMAIL "\", \"password\": \"bobpass\","
  "   \"user_fullname\": \"Bob Assistance\", \"is_service_user\": true},"
  "  {\"user_email\": \"carol@ppmessage.local\", \"password\": \"carolpass\","
  "   \"user_fullname\": \"Carol Care\", \"is_service_user\": true}"
  " ]}";

typedef struct {
  gint32 account;
  char *sender;
  char *message;
} ReceivedIm;

typedef struct {
  char *workdir;
  GSubprocess *xvfb;
  GSubprocess *bus;
  GSubprocess *pidgin;
  gboolean icon_overlay;    /* Pidgin runs with our icons mounted into its data dir */
  char *display;            /* ":N" */
  char *bus_address;
  GDBusConnection *dbus;
  gboolean service_up;
  guint watch_id;
  guint signal_id;
  GPtrArray *received;      /* ReceivedIm*, from the ReceivedImMsg signal */
  gint64 signed_on_at;      /* monotonic time */
  char *bridge_link;        /* with the bridge: the team's PPCom link ... */
  guint irc_port;           /* ... and the IRC server its bridged account uses */
} Session;

/* ---- Waiting ---- */

static gboolean
keep_ticking (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* ppms_wait_until, with a tick so conditions asking Pidgin over D-Bus are
 * re-checked even when nothing else happens in this process. */
static gboolean
poll_until (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  guint tick = g_timeout_add (POLL_MS, keep_ticking, NULL);
  gboolean ok = ppms_wait_until (cond, data, timeout_ms);

  g_source_remove (tick);
  return ok;
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

/* ---- Processes ---- */

/* Child processes get SIGTERM when this test dies (a failed assertion aborts). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static char *
work_path (Session *s, const char *name)
{
  return g_build_filename (s->workdir, name, NULL);
}

/* Starts argv with stdout and stderr into <workdir>/<log_name>. With
 * ready_fd, the child's fd 3 is the write end of a pipe whose read end is
 * returned there (Xvfb -displayfd 3, dbus-daemon --print-address=3). */
static GSubprocess *
spawn (Session *s, const char *const *argv, const char *log_name, int *ready_fd)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *log = work_path (s, log_name);
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;

  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  /* GLib debugging of this test (fatal-criticals) is not Pidgin's business. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_setenv (launcher, "HOME", s->workdir, TRUE);
  g_subprocess_launcher_setenv (launcher, "NO_AT_BRIDGE", "1", TRUE);
  if (s->display != NULL)
    g_subprocess_launcher_setenv (launcher, "DISPLAY", s->display, TRUE);
  if (s->bus_address != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", s->bus_address, TRUE);
  if (ready_fd != NULL) {
    int fds[2];

    g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
    g_subprocess_launcher_take_fd (launcher, fds[1], 3);
    *ready_fd = fds[0];
  }
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return proc;
}

typedef struct {
  GString *line;
  gboolean done;            /* a full line, or end of file */
} ReadyLine;

static gboolean
on_ready_input (int fd, GIOCondition condition, gpointer data)
{
  ReadyLine *ready = data;
  char c;
  ssize_t n = read (fd, &c, 1);

  if (n <= 0 || c == '\n') {
    ready->done = TRUE;
    return G_SOURCE_REMOVE;
  }
  g_string_append_c (ready->line, c);
  return G_SOURCE_CONTINUE;
}

/* The first line the child writes to its readiness pipe, or NULL. */
static char *
read_ready_line (int fd, guint timeout_ms)
{
  ReadyLine ready = { g_string_new (NULL), FALSE };
  guint watch = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_ready_input, &ready);

  ppms_wait_until (flag_is_set, &ready.done, timeout_ms);
  if (!ready.done)
    g_source_remove (watch);
  close (fd);
  if (!ready.done || ready.line->len == 0) {
    g_string_free (ready.line, TRUE);
    return NULL;
  }
  return g_string_free (ready.line, FALSE);
}

typedef struct {
  gboolean done;
  gboolean ok;
} ProcessWait;

static void
on_process_exit (GObject *source, GAsyncResult *result, gpointer data)
{
  ProcessWait *wait = data;

  wait->ok = g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, NULL);
  wait->done = TRUE;
}

/* Runs argv to its end while the main loop keeps going; TRUE on exit status 0. */
static gboolean
run_to_end (Session *s, const char *const *argv, const char *log_name)
{
  g_autoptr (GSubprocess) proc = spawn (s, argv, log_name, NULL);
  ProcessWait wait = { FALSE, FALSE };

  g_subprocess_wait_check_async (proc, NULL, on_process_exit, &wait);
  if (!ppms_wait_until (flag_is_set, &wait.done, WAIT_MS)) {
    g_subprocess_force_exit (proc);
    ppms_wait_until (flag_is_set, &wait.done, WAIT_MS);
  }
  return wait.ok;
}

/* GSubprocess forgets the pid once it has reaped the process. */
static gboolean
process_has_exited (gpointer data)
{
  return g_subprocess_get_identifier (data) == NULL;
}

static void
stop_process (GSubprocess **proc)
{
  if (*proc == NULL)
    return;
  if (!process_has_exited (*proc)) {
    g_subprocess_send_signal (*proc, SIGTERM);
    if (!poll_until (process_has_exited, *proc, WAIT_MS))
      g_subprocess_force_exit (*proc);
    poll_until (process_has_exited, *proc, WAIT_MS);
  }
  g_clear_object (proc);
}

/* ---- Xvfb and the session bus ---- */

static void
start_xvfb (Session *s)
{
  const char *const argv[] = { "Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24",
                               "-nolisten", "tcp", NULL };
  int fd;
  g_autofree char *number = NULL;

  s->xvfb = spawn (s, argv, "xvfb.log", &fd);
  /* Xvfb writes the display number once it accepts clients. */
  number = read_ready_line (fd, START_TIMEOUT_MS);
  g_assert_nonnull (number);
  s->display = g_strdup_printf (":%s", number);
  g_test_message ("Xvfb on display %s", s->display);
}

static void
start_bus (Session *s)
{
  const char *const argv[] = { "dbus-daemon", "--session", "--nofork", "--nopidfile",
                               "--print-address=3", NULL };
  int fd;

  s->bus = spawn (s, argv, "dbus.log", &fd);
  s->bus_address = read_ready_line (fd, START_TIMEOUT_MS);
  g_assert_nonnull (s->bus_address);
}

static void
on_bus_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Session *s = data;
  g_autoptr (GError) error = NULL;

  s->dbus = g_dbus_connection_new_for_address_finish (result, &error);
  g_assert_no_error (error);
}

static gboolean
bus_is_connected (gpointer data)
{
  return ((Session *) data)->dbus != NULL;
}

static void
on_service_appeared (GDBusConnection *connection, const char *name, const char *owner,
                     gpointer data)
{
  ((Session *) data)->service_up = TRUE;
}

static void
on_received_im (GDBusConnection *connection, const char *sender_name, const char *path,
                const char *interface, const char *signal, GVariant *parameters, gpointer data)
{
  Session *s = data;
  ReceivedIm *im = g_new0 (ReceivedIm, 1);
  gint32 conv;
  guint32 flags;

  g_variant_get (parameters, "(issiu)", &im->account, &im->sender, &im->message, &conv, &flags);
  g_ptr_array_add (s->received, im);
}

static void
received_im_free (gpointer data)
{
  ReceivedIm *im = data;

  g_free (im->sender);
  g_free (im->message);
  g_free (im);
}

/* Connects to the private bus and listens for Pidgin before it starts. */
static void
connect_bus (Session *s)
{
  g_dbus_connection_new_for_address (s->bus_address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                     | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, NULL, on_bus_connected, s);
  g_assert_true (ppms_wait_until (bus_is_connected, s, START_TIMEOUT_MS));
  s->watch_id = g_bus_watch_name_on_connection (s->dbus, PURPLE_SERVICE,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                on_service_appeared, NULL, s, NULL);
  s->signal_id = g_dbus_connection_signal_subscribe (s->dbus, NULL, PURPLE_INTERFACE,
                                                     "ReceivedImMsg", PURPLE_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_received_im,
                                                     s, NULL);
}

/* ---- Pidgin's D-Bus API ---- */

typedef struct {
  GVariant *reply;
  GError *error;
  gboolean done;
} CallResult;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer data)
{
  CallResult *call = data;

  call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);
  call->done = TRUE;
}

/* Calls a PurpleInterface method while the main loop (and the server) runs. */
static GVariant *
purple_call (Session *s, const char *method, GVariant *args, const char *reply_type)
{
  CallResult call = { NULL, NULL, FALSE };

  g_dbus_connection_call (s->dbus, PURPLE_SERVICE, PURPLE_PATH, PURPLE_INTERFACE, method, args,
                          G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          CALL_TIMEOUT_MS, NULL, on_call_done, &call);
  /* The call times out by itself first, so call outlives every callback. */
  if (!ppms_wait_until (flag_is_set, &call.done, CALL_TIMEOUT_MS * 3))
    g_error ("D-Bus %s: no answer", method);
  if (call.error != NULL)
    g_error ("D-Bus %s failed: %s", method, call.error->message);
  return call.reply;
}

static gint32
purple_call_int (Session *s, const char *method, GVariant *args)
{
  g_autoptr (GVariant) reply = purple_call (s, method, args, "(i)");
  gint32 value;

  g_variant_get (reply, "(i)", &value);
  return value;
}

static char *
purple_call_string (Session *s, const char *method, GVariant *args)
{
  g_autoptr (GVariant) reply = purple_call (s, method, args, "(s)");
  char *value;

  g_variant_get (reply, "(s)", &value);
  return value;
}

/* ---- Pidgin ---- */

static void
write_file (Session *s, const char *name, const char *contents)
{
  g_autofree char *path = work_path (s, name);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* Debian 12's third-party protocol plugins (make check installs them):
 * Pidgin loads them beside ours, and each has an account, configured but
 * not enabled, as for a user who keeps several networks in one Pidgin. */
static const struct {
  const char *package;
  const char *prpl;
  const char *library;
  const char *user;
} OTHER_PROTOCOLS[] = {
  { "purple-discord", "prpl-eionrobb-discord", "/libdiscord.so", "someone@discord.invalid" },
  { "purple-rocketchat", "prpl-eionrobb-rocketchat", "/librocketchat.so", "someone|chat.invalid" },
  { "pidgin-sipe", "prpl-sipe", "/libsipe.so", "someone@sipe.invalid" },
  { "pidgin-nateon", "prpl-nateon", "/libnateon.so", "someone@nateon.invalid" },
};

/* accounts.xml: the agent account, enabled (auto-login) for Pidgin's UI,
 * and an account of each other protocol, not enabled (so offline). */
static void
write_accounts (Session *s, const char *server_url)
{
  g_autoptr (GString) xml = g_string_new ("<?xml version='1.0' encoding='UTF-8' ?>\n"
                                          "<account version='1.0'>\n");
  g_autofree char *agent = g_markup_printf_escaped (
    " <account>\n"
    "  <protocol>prpl-ppmessage</protocol>\n"
    "  <name>%s</name>\n"
    "  <password>%s</password>\n"
    "  <settings>\n"
    "   <setting name='server' type='string'>%s</setting>\n"
    "   <setting name='role' type='string'>agent</setting>\n"
    "  </settings>\n"
    "  <settings ui='gtk-gaim'>\n"
    "   <setting name='auto-login' type='bool'>1</setting>\n"
    "  </settings>\n"
    " </account>\n", AGENT_EMAIL, AGENT_PASSWORD, server_url);

  g_string_append (xml, agent);
  for (guint i = 0; i < G_N_ELEMENTS (OTHER_PROTOCOLS); i++) {
    g_autofree char *other = g_markup_printf_escaped (" <account>\n"
                                                      "  <protocol>%s</protocol>\n"
                                                      "  <name>%s</name>\n"
                                                      " </account>\n",
                                                      OTHER_PROTOCOLS[i].prpl,
                                                      OTHER_PROTOCOLS[i].user);

    g_string_append (xml, other);
  }
  if (s->bridge_link != NULL)
    g_string_append_printf (xml, " <account>\n"
                            "  <protocol>prpl-irc</protocol>\n"
                            "  <name>" IRC_ACCOUNT "</name>\n"
                            "  <settings>\n"
                            "   <setting name='port' type='int'>%u</setting>\n"
                            "   <setting name='ssl' type='bool'>0</setting>\n"
                            "  </settings>\n"
                            "  <settings ui='gtk-gaim'>\n"
                            "   <setting name='auto-login' type='bool'>1</setting>\n"
                            "  </settings>\n"
                            " </account>\n", s->irc_port);
  g_string_append (xml, "</account>\n");
  write_file (s, "profile/accounts.xml", xml->str);
}

/* libpurple's own plugin directory (its autoaccept plugin is there). */
static char *
libpurple_plugin_dir (void)
{
  const char *argv[] = { "pkg-config", "--variable=plugindir", "purple", NULL };
  char *out = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, NULL, NULL, NULL));
  return g_strstrip (out);
}

/* prefs.xml: no tray icon to wait for, protocol icons and offline buddies
 * shown. There is no window manager: the conversation window opens at the
 * top left corner (Pidgin does not place it), the buddy list goes beside it.
 * libpurple's autoaccept plugin is loaded, to accept files from the
 * contacts a test marks into <workdir>/downloads without a dialog.
 * With the bridge, it is loaded too, with the team's link and the IRC
 * account bridged (the preferences its Configure Plugin dialog sets). */
static void
write_prefs (Session *s)
{
  g_autofree char *plugin_dir = libpurple_plugin_dir ();
  g_autofree char *autoaccept = g_build_filename (plugin_dir, "autoaccept.so", NULL);
  g_autofree char *downloads = work_path (s, "downloads");
  g_autofree char *bridge = work_path (s, "profile/plugins/libppmessage-bridge.so");
  g_autofree char *autoaccept_prefs = NULL, *bridge_prefs = NULL, *loaded = NULL;
  g_autofree char *prefs = NULL;

  g_assert_true (g_file_test (autoaccept, G_FILE_TEST_EXISTS));
  autoaccept_prefs = g_markup_printf_escaped (
    "  <pref name='core-plugin_pack-autoaccept'>\n"
    "   <pref name='path' type='string' value='%s'/>\n"
    "   <pref name='notify' type='bool' value='0'/>\n"
    "   <pref name='newdir' type='bool' value='0'/>\n"
    "  </pref>\n", downloads);
  loaded = g_markup_printf_escaped ("   <item value='%s'/>\n", autoaccept);
  if (s->bridge_link != NULL) {
    g_autofree char *autoaccept_item = g_steal_pointer (&loaded);
    g_autofree char *bridge_item = g_markup_printf_escaped ("   <item value='%s'/>\n", bridge);

    loaded = g_strconcat (autoaccept_item, bridge_item, NULL);
    bridge_prefs = g_markup_printf_escaped (
      "  <pref name='ppmessage-bridge'>\n"
      "   <pref name='team_link' type='string' value='%s'/>\n"
      "   <pref name='accounts'>\n"
      "    <pref name='prpl-irc:" IRC_ACCOUNT "' type='bool' value='1'/>\n"
      "   </pref>\n"
      "  </pref>\n", s->bridge_link);
  }
  prefs = g_strdup_printf (
    "<?xml version='1.0' encoding='UTF-8' ?>\n"
    "<pref version='1' name='/'>\n"
    " <pref name='plugins'><pref name='core'>\n"
    "%s%s"
    " </pref></pref>\n"
    " <pref name='pidgin'>\n"
    "  <pref name='plugins'><pref name='loaded' type='pathlist'>\n"
    "%s"
    "  </pref></pref>\n"
    "  <pref name='docklet'><pref name='show' type='string' value='never'/></pref>\n"
    "  <pref name='blist'>\n"
    "   <pref name='show_protocol_icons' type='bool' value='1'/>\n"
    "   <pref name='show_offline_buddies' type='bool' value='1'/>\n"
    "   <pref name='list_visible' type='bool' value='1'/>\n"
    "   <pref name='x' type='int' value='600'/>\n"
    "   <pref name='y' type='int' value='0'/>\n"
    "   <pref name='width' type='int' value='300'/>\n"
    "   <pref name='height' type='int' value='440'/>\n"
    "  </pref>\n"
    "  <pref name='conversations'><pref name='im'>\n"
    "   <pref name='width' type='int' value='560'/>\n"
    "   <pref name='height' type='int' value='440'/>\n"
    "  </pref></pref>\n"
    " </pref>\n"
    "</pref>\n", autoaccept_prefs, bridge_prefs != NULL ? bridge_prefs : "", loaded);
  g_assert_cmpint (g_mkdir_with_parents (downloads, 0700), ==, 0);
  write_file (s, "profile/prefs.xml", prefs);
}

/* Copies a built plugin (libppmessage.so, libppmessage-bridge.so) into the profile. */
static void
install_plugin (Session *s, const char *name)
{
  const char *plugin_dir = g_getenv ("PLUGIN_DIR");
  g_autofree char *source_path = g_build_filename (plugin_dir != NULL && *plugin_dir != '\0'
                                                   ? plugin_dir : "build", name, NULL);
  g_autofree char *target = g_build_filename ("profile", "plugins", name, NULL);
  g_autofree char *target_path = work_path (s, target);
  g_autoptr (GFile) source = g_file_new_for_path (source_path);
  g_autoptr (GFile) target_file = g_file_new_for_path (target_path);
  g_autoptr (GError) error = NULL;

  g_file_copy (source, target_file, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Pidgin's protocol icon directory (it has no other place for them). */
static const char *
pidgin_protocol_icon_dir (void)
{
  static const char *const candidates[] = {
    "/usr/share/pixmaps/pidgin/protocols", "/usr/local/share/pixmaps/pidgin/protocols",
  };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (g_file_test (candidates[i], G_FILE_TEST_IS_DIR))
      return candidates[i];
  return NULL;
}

static const char *
our_icon_dir (void)
{
  const char *dir = g_getenv ("PPM_ICONS_DIR");

  return dir != NULL && *dir != '\0' ? dir : "icons";
}

static gboolean
icons_installed (const char *protocol_dir)
{
  g_autofree char *path = g_build_filename (protocol_dir, "16", "ppmessage.png", NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
can_unshare_mounts (void)
{
  const char *const root_argv[] = { "unshare", "--mount", "true", NULL };
  const char *const user_argv[] = { "unshare", "--mount", "--map-root-user", "true", NULL };
  g_autofree char *unshare = g_find_program_in_path ("unshare");
  int status = 0;

  return unshare != NULL
    && g_spawn_sync (NULL, (char **) (geteuid () == 0 ? root_argv : user_argv), NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                     | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL)
    && g_spawn_check_wait_status (status, NULL);
}

/* In its own mount namespace, a copy of Pidgin's protocol icon directory plus
 * our icons is mounted over the original, then Pidgin replaces the shell
 * (also when that failed: the marker line in pidgin.log tells). */
#define OVERLAY_MARKER "ppm-test: our protocol icons are mounted"
static const char OVERLAY_SCRIPT[] =
  "proto=$1; copy=$2; ours=$3; shift 3\n"
  "if cp -R \"$proto/.\" \"$copy\" && mkdir -p \"$copy/scalable\" \\\n"
  "   && cp \"$ours/16/ppmessage.png\" \"$copy/16/\" && cp \"$ours/22/ppmessage.png\" \"$copy/22/\" \\\n"
  "   && cp \"$ours/48/ppmessage.png\" \"$copy/48/\" \\\n"
  "   && cp \"$ours/scalable/ppmessage.svg\" \"$copy/scalable/\" \\\n"
  "   && mount --bind \"$copy\" \"$proto\"; then\n"
  "  echo '" OVERLAY_MARKER "'\n"
  "fi\n"
  "exec \"$@\"\n";

static void
start_pidgin (Session *s)
{
  const char *protocol_dir = pidgin_protocol_icon_dir ();
  g_autofree char *profile = work_path (s, "profile");
  g_autofree char *copy = work_path (s, "protocol-icons");
  g_autofree char *ours = g_canonicalize_filename (our_icon_dir (), NULL);
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_auto (GStrv) args = NULL;

  s->icon_overlay = protocol_dir != NULL && !icons_installed (protocol_dir)
    && g_file_test (ours, G_FILE_TEST_IS_DIR) && can_unshare_mounts ();
  if (s->icon_overlay) {
    g_assert_cmpint (g_mkdir (copy, 0700), ==, 0);
    g_strv_builder_add_many (argv, "unshare", "--mount", NULL);
    if (geteuid () != 0)
      g_strv_builder_add (argv, "--map-root-user");
    g_strv_builder_add_many (argv, "sh", "-c", OVERLAY_SCRIPT, "sh", protocol_dir, copy, ours,
                             NULL);
  }
  g_test_message ("protocol icons: %s", s->icon_overlay ? "to be mounted for Pidgin"
                  : protocol_dir != NULL && icons_installed (protocol_dir) ? "installed"
                  : "not available to Pidgin");
  /* -d: the debug log goes to pidgin.log, shown when the test fails. */
  g_strv_builder_add_many (argv, "pidgin", "-d", "-c", profile, NULL);
  args = g_strv_builder_end (argv);
  s->pidgin = spawn (s, (const char *const *) args, "pidgin.log", NULL);
}

static char *
pidgin_log (Session *s)
{
  g_autofree char *path = work_path (s, "pidgin.log");
  char *log = NULL;

  if (!g_file_get_contents (path, &log, NULL, NULL))
    log = g_strdup ("(no log)");
  return log;
}

/* Shows the end of Pidgin's log, then fails. */
static void G_GNUC_NORETURN
fail_with_log (Session *s, const char *what)
{
  g_autofree char *log = pidgin_log (s);
  size_t length = strlen (log);
  const char *tail = length > 6000 ? log + length - 6000 : log;

  g_printerr ("---- end of %s/pidgin.log ----\n%s\n----\n", s->workdir, tail);
  g_error ("%s", what);
}

static gboolean
service_is_up (gpointer data)
{
  Session *s = data;

  return s->service_up || process_has_exited (s->pidgin);
}

typedef struct {
  Session *session;
  const char *username;
  const char *protocol;
  gint32 id;
} AccountWait;

/* Pidgin knows the account and says it is connected. */
static gboolean
account_is_online (gpointer data)
{
  AccountWait *wait = data;
  Session *s = wait->session;

  if (process_has_exited (s->pidgin))
    return TRUE;
  if (wait->id == 0)
    wait->id = purple_call_int (s, "PurpleAccountsFind",
                                g_variant_new ("(ss)", wait->username, wait->protocol));
  return wait->id != 0
    && purple_call_int (s, "PurpleAccountIsConnected", g_variant_new ("(i)", wait->id)) == 1;
}

static gint32
wait_account_online (Session *s, const char *username, const char *protocol)
{
  AccountWait wait = { s, username, protocol, 0 };

  if (!poll_until (account_is_online, &wait, START_TIMEOUT_MS) || process_has_exited (s->pidgin))
    fail_with_log (s, "Pidgin did not sign an account in");
  return wait.id;
}

/* The agent's account. */
static gint32
wait_signed_on (Session *s)
{
  gint32 account;

  if (!poll_until (service_is_up, s, START_TIMEOUT_MS) || !s->service_up)
    fail_with_log (s, "Pidgin did not appear on the session bus");
  account = wait_account_online (s, AGENT_EMAIL, "prpl-ppmessage");
  s->signed_on_at = g_get_monotonic_time ();
  return account;
}

/* ---- Waiting for what Pidgin shows ---- */

typedef struct {
  Session *session;
  gint32 account;
  const char *name;
  gint32 found;
} BuddyWait;

static gboolean
buddy_is_listed (gpointer data)
{
  BuddyWait *wait = data;

  wait->found = purple_call_int (wait->session, "PurpleFindBuddy",
                                 g_variant_new ("(is)", wait->account, wait->name));
  return wait->found != 0;
}

static gint32
wait_buddy (Session *s, gint32 account, const char *name)
{
  BuddyWait wait = { s, account, name, 0 };

  if (!poll_until (buddy_is_listed, &wait, WAIT_MS))
    fail_with_log (s, "the visitor did not appear in Pidgin's buddy list");
  return wait.found;
}

typedef struct {
  Session *session;
  gint32 account;           /* 0: any */
  const char *sender;       /* NULL: any */
  const char *text;
  const char *found_sender;
} ReceivedWait;

static gboolean
im_was_received (gpointer data)
{
  ReceivedWait *wait = data;
  GPtrArray *received = wait->session->received;

  for (guint i = 0; i < received->len; i++) {
    ReceivedIm *im = g_ptr_array_index (received, i);

    if ((wait->account == 0 || im->account == wait->account)
        && (wait->sender == NULL || g_strcmp0 (im->sender, wait->sender) == 0)
        && strstr (im->message, wait->text) != NULL) {
      wait->found_sender = im->sender;
      return TRUE;
    }
  }
  return FALSE;
}

static void
wait_received (Session *s, const char *sender, const char *text)
{
  ReceivedWait wait = { s, 0, sender, text, NULL };

  if (!poll_until (im_was_received, &wait, WAIT_MS))
    fail_with_log (s, "Pidgin did not receive the visitor's message");
}

/* The conversation of those list_method lists (PurpleGetIms,
 * PurpleGetChats) that Pidgin opened with name, or 0. */
static gint32
find_conversation (Session *s, const char *list_method, const char *name)
{
  g_autoptr (GVariant) reply = purple_call (s, list_method, NULL, "(ai)");
  g_autoptr (GVariantIter) iter = NULL;
  gint32 conv, found = 0;

  g_variant_get (reply, "(ai)", &iter);
  while (found == 0 && g_variant_iter_next (iter, "i", &conv)) {
    g_autofree char *conv_name = purple_call_string (s, "PurpleConversationGetName",
                                                     g_variant_new ("(i)", conv));

    if (g_strcmp0 (conv_name, name) == 0)
      found = conv;
  }
  return found;
}

typedef struct {
  Session *session;
  const char *name;
  gint32 found;
} ChatWait;

static gboolean
chat_is_open (gpointer data)
{
  ChatWait *wait = data;

  /* A group's chat is named by the group's uuid. */
  wait->found = find_conversation (wait->session, "PurpleGetChats", wait->name);
  return wait->found != 0;
}

/* How often Pidgin's conversation shows a message containing text. */
static guint
count_in_history (Session *s, gint32 conv, const char *text)
{
  g_autoptr (GVariant) reply = purple_call (s, "PurpleConversationGetMessageHistory",
                                            g_variant_new ("(i)", conv), "(ai)");
  g_autoptr (GVariantIter) iter = NULL;
  gint32 message;
  guint count = 0;

  g_variant_get (reply, "(ai)", &iter);
  while (g_variant_iter_next (iter, "i", &message)) {
    g_autofree char *shown = purple_call_string (s, "PurpleConversationMessageGetMessage",
                                                 g_variant_new ("(i)", message));

    if (strstr (shown, text) != NULL)
      count++;
  }
  return count;
}

typedef struct {
  Session *session;
  gint32 conv;
  const char *text;
} HistoryWait;

static gboolean
is_in_history (gpointer data)
{
  HistoryWait *wait = data;

  return count_in_history (wait->session, wait->conv, wait->text) > 0;
}

/* Waits until the conversation shows a message containing text. */
static void
wait_in_history (Session *s, gint32 conv, const char *text)
{
  HistoryWait wait = { s, conv, text };

  if (!poll_until (is_in_history, &wait, WAIT_MS))
    fail_with_log (s, "Pidgin's conversation did not show the message awaited");
}

/* ---- Screenshots ---- */

static char *
screenshot_dir (void)
{
  const char *dir = g_getenv ("PPM_SCREENSHOTS_DIR");
  const char *build = g_getenv ("BUILD");

  if (dir != NULL && *dir != '\0')
    return g_strdup (dir);
  return g_build_filename (build != NULL && *build != '\0' ? build : "build", "screenshots", NULL);
}

static void
assert_is_png (const char *path)
{
  static const guchar signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree char *data = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &data, &length, NULL));
  g_assert_cmpuint (length, >, 1000);
  g_assert_cmpmem (data, sizeof signature, signature, sizeof signature);
}

/* Saves the window with this title (X11 WM_NAME) as a PNG. */
static void
screenshot (Session *s, const char *window_title, const char *file_name)
{
  g_autofree char *dir = screenshot_dir ();
  g_autofree char *path = g_build_filename (dir, file_name, NULL);
  const char *const argv[] = { "import", "-window", window_title, path, NULL };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  if (!run_to_end (s, argv, "import.log"))
    fail_with_log (s, "import could not save a screenshot");
  assert_is_png (path);
  g_test_message ("screenshot: %s", path);
}

typedef struct {
  Session *session;
  const char *title_start;
  char *title;
} WindowWait;

/* xwininfo lists each window as: 0x<id> "<title>": (...). */
static gboolean
window_is_shown (gpointer data)
{
  WindowWait *wait = data;
  const char *const argv[] = { "xwininfo", "-root", "-tree", NULL };
  g_autofree char *path = work_path (wait->session, "xwininfo.log");
  g_autofree char *listing = NULL, *quoted = g_strconcat ("\"", wait->title_start, NULL);
  const char *start, *end;

  if (!run_to_end (wait->session, argv, "xwininfo.log") ||
      !g_file_get_contents (path, &listing, NULL, NULL) ||
      (start = strstr (listing, quoted)) == NULL || (end = strchr (start + 1, '"')) == NULL)
    return FALSE;
  wait->title = g_strndup (start + 1, end - start - 1);
  return TRUE;
}

/* Waits until Pidgin shows a window whose title starts with title_start
 * (the File Transfers window adds its progress); returns the title. */
static char *
wait_window (Session *s, const char *title_start)
{
  WindowWait wait = { s, title_start, NULL };

  if (!poll_until (window_is_shown, &wait, WAIT_MS))
    fail_with_log (s, "Pidgin did not show the window awaited");
  return wait.title;
}

/* README pictures wait until Pidgin drops its "just signed on" emblems (a
 * cosmetic pause only when PPM_SCREENSHOTS_DIR asks for those pictures). */
static void
settle_for_readme (Session *s)
{
  gint64 ready_at = s->signed_on_at + SIGNON_EMBLEM_MS * 1000;
  gboolean never = FALSE;
  gint64 now = g_get_monotonic_time ();

  if (g_getenv ("PPM_SCREENSHOTS_DIR") == NULL || now >= ready_at)
    return;
  ppms_wait_until (flag_is_set, &never, (guint) ((ready_at - now) / 1000));
}

/* ---- Session life cycle ---- */

static const char *
skip_reason (void)
{
  static const char *const programs[] = { "pidgin", "Xvfb", "dbus-daemon", "import", "xwininfo" };
  static char reason[128];

#ifdef __SANITIZE_ADDRESS__
  return "an ASan-instrumented plugin cannot be loaded into an uninstrumented Pidgin";
#endif
  if (g_strcmp0 (g_getenv ("SANITIZE"), "1") == 0)
    return "SANITIZE=1: the plugin cannot be loaded into an uninstrumented Pidgin";
  for (guint i = 0; i < G_N_ELEMENTS (programs); i++) {
    g_autofree char *path = g_find_program_in_path (programs[i]);

    if (path == NULL) {
      g_snprintf (reason, sizeof reason, "%s is not installed (packages: pidgin xvfb dbus "
                  "imagemagick x11-utils)", programs[i]);
      return reason;
    }
  }
  return NULL;
}

static void
session_start (Session *s, const char *server_url)
{
  g_autofree char *plugins = NULL;

  s->workdir = g_dir_make_tmp ("ppm-pidgin-XXXXXX", NULL);
  g_assert_nonnull (s->workdir);
  s->received = g_ptr_array_new_with_free_func (received_im_free);
  plugins = work_path (s, "profile/plugins");
  g_assert_cmpint (g_mkdir_with_parents (plugins, 0700), ==, 0);
  install_plugin (s, "libppmessage.so");
  if (s->bridge_link != NULL)
    install_plugin (s, "libppmessage-bridge.so");
  write_accounts (s, server_url);
  write_prefs (s);
  start_xvfb (s);
  start_bus (s);
  connect_bus (s);
  start_pidgin (s);
}

static void
session_stop (Session *s)
{
  stop_process (&s->pidgin);
  if (s->dbus != NULL) {
    g_dbus_connection_signal_unsubscribe (s->dbus, s->signal_id);
    g_bus_unwatch_name (s->watch_id);
    g_dbus_connection_close_sync (s->dbus, NULL, NULL);
    g_clear_object (&s->dbus);
  }
  stop_process (&s->bus);
  stop_process (&s->xvfb);
  ppms_remove_tree (s->workdir);
  g_free (s->workdir);
  g_free (s->display);
  g_free (s->bus_address);
  g_ptr_array_unref (s->received);
}

/* ---- The test ---- */

static PpmsPeer *
visitor_greets (PpmsServer *server, const char *email, const char *name)
{
  GError *error = NULL;
  PpmsPeer *visitor = ppms_peer_new_named_visitor (ppms_server_get_url (server),
                                                   ppms_server_app_uuid (server),
                                                   ppms_server_ppcom_key (server),
                                                   ppms_server_ppcom_secret (server),
                                                   email, name);
  char *uuid;
  int code = -1;

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), GREETING);
  g_assert_true (ppms_peer_wait_ack (visitor, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  g_free (uuid);
  return visitor;
}

static void
visitor_says (PpmsPeer *visitor, const char *text)
{
  g_autofree char *uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                                               text);
  int code = -1;

  g_assert_true (ppms_peer_wait_ack (visitor, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
}

static gboolean
package_installed (const char *package)
{
  const char *argv[] = { "dpkg-query", "-W", "-f", "${Status}", package, NULL };
  g_autofree char *out = NULL;

  return g_spawn_sync (NULL, (char **) argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                       NULL, NULL)
         && g_strcmp0 (out, "install ok installed") == 0;
}

/* Every other protocol plugin installed is loaded in the same Pidgin and
 * lists its protocol; its account sits offline. Returns the packages that
 * are not installed (for the skip message), or NULL. */
static char *
check_other_protocols (Session *s)
{
  g_autoptr (GString) missing = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (OTHER_PROTOCOLS); i++) {
    gint32 plugin = purple_call_int (s, "PurpleFindPrpl",
                                     g_variant_new ("(s)", OTHER_PROTOCOLS[i].prpl));
    gint32 account;

    /* libpurple lists a protocol only once its plugin has loaded. */
    if (plugin == 0) {
      if (package_installed (OTHER_PROTOCOLS[i].package))
        g_error ("%s is installed, but Pidgin did not load %s", OTHER_PROTOCOLS[i].package,
                 OTHER_PROTOCOLS[i].prpl);
      g_string_append_printf (missing, " %s", OTHER_PROTOCOLS[i].package);
      continue;
    }
    account = purple_call_int (s, "PurpleAccountsFind",
                               g_variant_new ("(ss)", OTHER_PROTOCOLS[i].user,
                                              OTHER_PROTOCOLS[i].prpl));
    g_assert_cmpint (account, !=, 0);
    g_assert_cmpint (purple_call_int (s, "PurpleAccountIsConnected",
                                      g_variant_new ("(i)", account)), ==, 0);
  }
  return missing->len > 0 ? g_strdup (missing->str + 1) : NULL;
}

/* No protocol plugin of ours or theirs failed to load (a clash of symbols
 * shows as a plugin that is "not loadable"). libpurple also says "not
 * usable" of helper libraries in its directory (libjabber.so), which are
 * no plugins: only the plugins' own lines count. */
static void
assert_plugins_loaded_cleanly (const char *log)
{
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    if (strstr (lines[i], "is not loadable") == NULL && strstr (lines[i], "is not usable") == NULL)
      continue;
    g_assert_null (strstr (lines[i], "/libppmessage.so"));
    for (guint j = 0; j < G_N_ELEMENTS (OTHER_PROTOCOLS); j++)
      g_assert_null (strstr (lines[i], OTHER_PROTOCOLS[j].library));
  }
}

static void
test_pidgin_chat (void)
{
  const char *skip = skip_reason ();
  PpmsServer *server;
  PpmsPeer *visitor, *other;
  Session s = { 0 };
  gint32 account, buddy, conv, im;
  g_autofree char *alias = NULL;
  g_autofree char *title = NULL;
  g_autofree char *log = NULL;
  g_autofree char *missing = NULL;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  server = server_start_with_seed (TEAM_SEED);
  visitor = visitor_greets (server, VISITOR_EMAIL, VISITOR_NAME);
  other = visitor_greets (server, OTHER_EMAIL, OTHER_NAME);

  session_start (&s, ppms_server_get_url (server));
  account = wait_signed_on (&s);

  /* The visitor is a buddy, under the name the team knows. */
  buddy = wait_buddy (&s, account, ppms_peer_user_uuid (visitor));
  alias = purple_call_string (&s, "PurpleBuddyGetAlias", g_variant_new ("(i)", buddy));
  g_assert_nonnull (strstr (alias, VISITOR_NAME));
  wait_buddy (&s, account, ppms_peer_user_uuid (other));

  /* Visitor -> Pidgin. */
  visitor_says (visitor, VISITOR_TEXT);
  wait_received (&s, ppms_peer_user_uuid (visitor), VISITOR_TEXT);
  conv = find_conversation (&s, "PurpleGetIms", ppms_peer_user_uuid (visitor));
  g_assert_cmpint (conv, !=, 0);

  /* Pidgin -> visitor. */
  im = purple_call_int (&s, "PurpleConvIm", g_variant_new ("(i)", conv));
  g_assert_cmpint (im, !=, 0);
  g_variant_unref (purple_call (&s, "PurpleConvImSend", g_variant_new ("(is)", im, REPLY_TEXT),
                                "()"));
  g_assert_nonnull (ppms_peer_wait_message (visitor, REPLY_TEXT, WAIT_MS));
  visitor_says (visitor, THANKS_TEXT);
  wait_received (&s, ppms_peer_user_uuid (visitor), THANKS_TEXT);

  /* The conversation shows each message once, as the user saw it. */
  g_assert_cmpuint (count_in_history (&s, conv, VISITOR_TEXT), ==, 1);
  g_assert_cmpuint (count_in_history (&s, conv, REPLY_TEXT), ==, 1);
  g_assert_cmpuint (count_in_history (&s, conv, THANKS_TEXT), ==, 1);

  /* Pictures of both windows (they sit side by side). */
  settle_for_readme (&s);
  title = purple_call_string (&s, "PurpleConversationGetTitle", g_variant_new ("(i)", conv));
  screenshot (&s, "Buddy List", "buddy-list.png");
  screenshot (&s, title, "conversation.png");
  /* Pidgin found our protocol icon wherever it was offered to it. */
  log = pidgin_log (&s);
  if (strstr (log, OVERLAY_MARKER) != NULL)
    g_assert_null (strstr (log, "ppmessage.png: Failed to open"));
  g_assert_true (purple_call_int (&s, "PurpleAccountIsConnected",
                                  g_variant_new ("(i)", account)) == 1);
  /* Beside Debian's other protocol plugins, all loaded, theirs offline. */
  missing = check_other_protocols (&s);
  assert_plugins_loaded_cleanly (log);

  session_stop (&s);
  ppms_peer_free (other);
  ppms_peer_free (visitor);
  ppms_server_free (server);
  if (missing != NULL) {
    g_autofree char *reason = g_strdup_printf ("the chat passed; not installed, so not loaded "
                                               "beside it: %s", missing);

    g_test_skip (reason);
  }
}

/* The visitor uploads content and sends it as a message of that sub-type. */
static char *
visitor_sends_upload (PpmsPeer *visitor, const char *subtype, const char *name,
                      const char *mime, GBytes *content)
{
  g_autoptr (GError) error = NULL;
  char *fid = ppms_peer_upload_sync (visitor, name, mime, content, &error);
  g_autofree char *body = NULL, *uuid = NULL;

  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"name\": \"%s\", \"mime\": \"%s\", "
                          "\"size\": %zu}", fid, name, mime, g_bytes_get_size (content));
  uuid = ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), subtype, body);
  g_assert_nonnull (uuid);
  return fid;
}

typedef struct {
  Session *session;
  gint32 xfer;              /* from the FileRecvStart signal */
  guint64 at_least;
} XferWait;

static void
on_file_recv_start (GDBusConnection *connection, const char *sender_name, const char *path,
                    const char *interface, const char *signal, GVariant *parameters,
                    gpointer data)
{
  XferWait *wait = data;

  g_variant_get (parameters, "(i)", &wait->xfer);
}

static gboolean
xfer_has_bytes (gpointer data)
{
  XferWait *wait = data;

  /* libpurple's D-Bus API gives the count as an int (a size_t cut down). */
  return wait->xfer != 0 &&
         purple_call_int (wait->session, "PurpleXferGetBytesSent",
                          g_variant_new ("(i)", wait->xfer)) >= (gint64) wait->at_least;
}

/* Pidgin redraws a transfer at most once a second: it is asked to until
 * its window's title shows the half received. */
static gboolean
transfers_show_half (gpointer data)
{
  XferWait *wait = data;
  WindowWait window = { wait->session, "File Transfers - 50%", NULL };

  g_variant_unref (purple_call (wait->session, "PurpleXferUpdateProgress",
                                g_variant_new ("(i)", wait->xfer), "()"));
  if (!window_is_shown (&window))
    return FALSE;
  g_free (window.title);
  return TRUE;
}

/* Pictures of what Pidgin makes of rich messages (the README's): a
 * visitor's picture inline in the conversation; Get Info on the visitor;
 * a file from the visitor being received, in Pidgin's File Transfers
 * window (libpurple's autoaccept plugin takes it, the test server sends
 * half of it and then nothing more, so it stays in progress). */
static void
test_pidgin_rich_messages (void)
{
  const char *skip = skip_reason ();
  PpmsServer *server;
  PpmsPeer *visitor;
  Session s = { 0 };
  XferWait xfer = { &s, 0, 0 };
  gint32 account, buddy, contact, conv, gc;
  guint signal_id;
  g_autoptr (GBytes) picture = NULL, report = NULL;
  g_autofree char *image_fid = NULL, *file_fid = NULL, *title = NULL, *transfers_title = NULL;
  GString *report_text;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  server = server_start_with_seed (TEAM_SEED);
  visitor = visitor_greets (server, VISITOR_EMAIL, VISITOR_NAME);
  session_start (&s, ppms_server_get_url (server));
  account = wait_signed_on (&s);
  buddy = wait_buddy (&s, account, ppms_peer_user_uuid (visitor));

  /* The window is open (its history shows the greeting), then a picture
   * comes, inline. */
  conv = purple_call_int (&s, "PurpleConversationNew",
                          g_variant_new ("(iis)", PURPLE_CONV_TYPE_IM, account,
                                         ppms_peer_user_uuid (visitor)));
  g_assert_cmpint (conv, !=, 0);
  wait_in_history (&s, conv, GREETING);
  visitor_says (visitor, VISITOR_TEXT);
  picture = ppms_test_png (180, 100);
  image_fid = visitor_sends_upload (visitor, "IMAGE", "photo.png", "image/png", picture);
  wait_received (&s, ppms_peer_user_uuid (visitor), image_fid);
  g_assert_cmpuint (count_in_history (&s, conv, "<img id=\""), ==, 1);
  settle_for_readme (&s);
  title = purple_call_string (&s, "PurpleConversationGetTitle", g_variant_new ("(i)", conv));
  screenshot (&s, title, "conversation-image.png");

  /* Get Info. */
  gc = purple_call_int (&s, "PurpleAccountGetConnection", g_variant_new ("(i)", account));
  g_variant_unref (purple_call (&s, "ServGetInfo",
                                g_variant_new ("(is)", gc, ppms_peer_user_uuid (visitor)), "()"));
  g_free (wait_window (&s, "Buddy Information"));
  screenshot (&s, "Buddy Information", "get-info.png");

  /* A file being received: half of it arrives, then it waits. */
  contact = purple_call_int (&s, "PurpleBuddyGetContact", g_variant_new ("(i)", buddy));
  g_variant_unref (purple_call (&s, "PurpleBlistNodeSetInt",
                                g_variant_new ("(isi)", contact, "autoaccept", 1), "()"));
  signal_id = g_dbus_connection_signal_subscribe (s.dbus, NULL, PURPLE_INTERFACE,
                                                  "FileRecvStart", PURPLE_PATH, NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_file_recv_start,
                                                  &xfer, NULL);
  report_text = g_string_new (NULL);
  while (report_text->len < 3 * 1024 * 1024)
    g_string_append (report_text, "Quarterly figures of order 4711 and its neighbours. ");
  report = g_string_free_to_bytes (report_text);
  xfer.at_least = g_bytes_get_size (report) / 2;
  ppms_server_set_fault_target (server, "purple-ppmessage");
  ppms_server_set_http_fault (server, PPMS_FAULT_STALL_HALFWAY, "/download/download/", 1.0, 0,
                              0);
  file_fid = visitor_sends_upload (visitor, "FILE", "quarterly-report.txt", "text/plain",
                                   report);
  if (!poll_until (xfer_has_bytes, &xfer, WAIT_MS))
    fail_with_log (&s, "Pidgin did not receive half of the file");
  g_assert_cmpint (purple_call_int (&s, "PurpleXferIsCompleted", g_variant_new ("(i)", xfer.xfer)),
                   ==, 0);
  if (!poll_until (transfers_show_half, &xfer, WAIT_MS))
    fail_with_log (&s, "Pidgin's File Transfers window did not show the half received");
  transfers_title = wait_window (&s, "File Transfers");
  screenshot (&s, transfers_title, "file-transfer.png");
  g_dbus_connection_signal_unsubscribe (s.dbus, signal_id);

  session_stop (&s);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Bob makes a group of the three agents the way PPKefu can (the server
 * takes one member at creation) and writes its first message. */
static char *
bob_makes_group (PpmsServer *server, PpmsPeer *bob)
{
  GError *error = NULL;
  char *group = ppms_peer_create_s2s_sync (bob, ppms_server_user_uuid_by_email (server,
                                                                              AGENT_EMAIL),
                                           GROUP_NAME, &error);

  g_assert_no_error (error);
  g_assert_true (ppms_peer_add_member_sync (
    bob, group, ppms_server_user_uuid_by_email (server, "carol@ppmessage.local"), &error));
  g_assert_no_error (error);
  return group;
}

static void
bob_says (PpmsPeer *bob, const char *group, const char *text)
{
  g_autofree char *uuid = ppms_peer_send_text (bob, group, text);
  int code = -1;

  g_assert_true (ppms_peer_wait_ack (bob, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
}

static void
test_pidgin_group_chat (void)
{
  const char *skip = skip_reason ();
  GError *error = NULL;
  PpmsServer *server;
  PpmsPeer *bob;
  Session s = { 0 };
  ChatWait wait = { &s, NULL, 0 };
  g_autofree char *group = NULL;
  g_autofree char *title = NULL;
  gint32 chat;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  server = server_start_with_seed (GROUP_TEAM_SEED);
  bob = ppms_peer_new_agent (ppms_server_get_url (server), ppms_server_ppkefu_key (server),
                             BOB_EMAIL, "bobpass", NULL);
  g_assert_true (ppms_peer_start_sync (bob, &error));
  g_assert_no_error (error);
  group = bob_makes_group (server, bob);
  bob_says (bob, group, GROUP_FIRST);

  session_start (&s, ppms_server_get_url (server));
  wait_signed_on (&s);
  /* Bob's next message opens the group's chat, with the first one above. */
  bob_says (bob, group, GROUP_SECOND);
  wait.name = group;
  if (!poll_until (chat_is_open, &wait, WAIT_MS))
    fail_with_log (&s, "Pidgin opened no chat for the group");
  chat = purple_call_int (&s, "PurpleConvChat", g_variant_new ("(i)", wait.found));
  g_variant_unref (purple_call (&s, "PurpleConvChatSend", g_variant_new ("(is)", chat,
                                                                         GROUP_REPLY), "()"));
  g_assert_nonnull (ppms_peer_wait_message (bob, GROUP_REPLY, WAIT_MS));
  g_assert_cmpuint (count_in_history (&s, wait.found, GROUP_SECOND), ==, 1);
  g_assert_cmpuint (count_in_history (&s, wait.found, GROUP_REPLY), ==, 1);

  settle_for_readme (&s);
  title = purple_call_string (&s, "PurpleConversationGetTitle", g_variant_new ("(i)",
                                                                              wait.found));
  g_assert_cmpstr (title, ==, GROUP_NAME);
  screenshot (&s, title, "group-chat.png");

  session_stop (&s);
  ppms_peer_free (bob);
  ppms_server_free (server);
}

/* ---- The bridge ---- */

/* Waits until this account of Pidgin receives text; returns its sender. */
static const char *
wait_account_received (Session *s, gint32 account, const char *text)
{
  ReceivedWait wait = { s, account, NULL, text, NULL };

  if (!poll_until (im_was_received, &wait, WAIT_MS))
    fail_with_log (s, "an account of Pidgin did not receive the message awaited");
  return wait.found_sender;
}

typedef struct {
  IrcPal *pal;
  const char *text;
} PalWait;

static guint
pal_heard_count (IrcPal *pal, const char *text)
{
  g_autofree char *expected = g_strdup_printf (IRC_BRIDGE_NICK " %s", text);
  guint count = 0;

  for (guint i = 0; i < pal->privmsgs->len; i++)
    count += g_strcmp0 (g_ptr_array_index (pal->privmsgs, i), expected) == 0;
  return count;
}

static gboolean
pal_heard (gpointer data)
{
  PalWait *wait = data;

  return pal_heard_count (wait->pal, wait->text) > 0;
}

/* Screenshots the window once its title is this conversation's (the
 * window of tabs is named by the tab in front). */
static void
screenshot_conversation (Session *s, gint32 conv, const char *file_name)
{
  g_autofree char *title = purple_call_string (s, "PurpleConversationGetTitle",
                                               g_variant_new ("(i)", conv));
  g_autofree char *exact = g_strconcat (title, "\"", NULL);

  g_free (wait_window (s, exact));
  screenshot (s, title, file_name);
}

/* An IRC contact writes to the bridged IRC account of this Pidgin; the
 * agent's account in the same Pidgin gets it from the visitor
 * "ircpal (IRC)" and answers; the answer reaches the contact on IRC. */
static void
test_pidgin_bridge (void)
{
  const char *skip = skip_reason ();
  g_autofree char *ngircd = find_daemon ("ngircd");
  PpmsServer *server;
  LocalServer *irc;
  IrcPal *contact;
  Session s = { 0 };
  PalWait reply_heard;
  gint32 agent, irc_account, irc_conv, agent_conv, im;
  g_autofree char *visitor = NULL, *alias = NULL;

  if (skip == NULL && ngircd == NULL)
    skip = "ngircd is not installed (package: ngircd)";
  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  server = server_start_with_seed (TEAM_SEED);
  irc = irc_server_start (ngircd);
  contact = irc_pal_connect (irc, IRC_CONTACT_NICK);
  s.bridge_link = ppms_server_enterprise_link (server);
  s.irc_port = irc->port;
  session_start (&s, ppms_server_get_url (server));
  agent = wait_signed_on (&s);
  irc_account = wait_account_online (&s, IRC_ACCOUNT, "prpl-irc");

  /* IRC contact -> the IRC conversation and the agent's. */
  irc_pal_say (contact, IRC_BRIDGE_NICK, IRC_CONTACT_TEXT);
  g_assert_cmpstr (wait_account_received (&s, irc_account, IRC_CONTACT_TEXT), ==,
                   IRC_CONTACT_NICK);
  visitor = g_strdup (wait_account_received (&s, agent, IRC_CONTACT_TEXT));
  alias = purple_call_string (&s, "PurpleBuddyGetAlias",
                              g_variant_new ("(i)", wait_buddy (&s, agent, visitor)));
  /* (the agent role adds a short id to anonymous visitors' names) */
  g_assert_true (g_str_has_prefix (alias, IRC_CONTACT_NICK " (IRC)"));

  /* The agent -> the IRC contact, once. */
  agent_conv = find_conversation (&s, "PurpleGetIms", visitor);
  irc_conv = find_conversation (&s, "PurpleGetIms", IRC_CONTACT_NICK);
  g_assert_cmpint (agent_conv, !=, 0);
  g_assert_cmpint (irc_conv, !=, 0);
  im = purple_call_int (&s, "PurpleConvIm", g_variant_new ("(i)", agent_conv));
  g_variant_unref (purple_call (&s, "PurpleConvImSend",
                                g_variant_new ("(is)", im, IRC_REPLY_TEXT), "()"));
  reply_heard = (PalWait) { contact, IRC_REPLY_TEXT };
  if (!poll_until (pal_heard, &reply_heard, WAIT_MS))
    fail_with_log (&s, "the agent's reply did not reach the IRC contact");
  wait_in_history (&s, irc_conv, IRC_REPLY_TEXT);
  g_assert_cmpuint (pal_heard_count (contact, IRC_REPLY_TEXT), ==, 1);
  g_assert_cmpuint (count_in_history (&s, irc_conv, IRC_CONTACT_TEXT), ==, 1);
  g_assert_cmpuint (count_in_history (&s, irc_conv, IRC_REPLY_TEXT), ==, 1);
  g_assert_cmpuint (count_in_history (&s, agent_conv, IRC_CONTACT_TEXT), ==, 1);
  g_assert_cmpuint (count_in_history (&s, agent_conv, IRC_REPLY_TEXT), ==, 1);

  settle_for_readme (&s);
  /* Both share a window of tabs, the IRC one in front: it is closed
   * after its picture (Pidgin's Present does not switch tabs here). */
  screenshot_conversation (&s, irc_conv, "bridged-irc.png");
  g_variant_unref (purple_call (&s, "PurpleConversationDestroy", g_variant_new ("(i)", irc_conv),
                                "()"));
  screenshot_conversation (&s, agent_conv, "bridged-agent.png");

  session_stop (&s);
  g_free (s.bridge_link);
  irc_pal_free (contact);
  local_server_free (irc);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pidgin/chat-and-screenshots", test_pidgin_chat);
  g_test_add_func ("/pidgin/rich-messages-screenshots", test_pidgin_rich_messages);
  g_test_add_func ("/pidgin/group-chat-screenshot", test_pidgin_group_chat);
  g_test_add_func ("/pidgin/bridge-screenshots", test_pidgin_bridge);
  return g_test_run ();
}
