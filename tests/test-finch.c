/* test-finch.c: the built plugin in the real Finch. Finch runs in a detached
 * tmux session with a throw-away profile whose agent account signs in to the
 * in-process test server; a visitor (test peer) writes, the message must show
 * on Finch's screen, a reply typed into Finch must reach the visitor, and
 * every message must be shown exactly once. Rich messages (an image, a
 * file, a text long enough for the server to store it as a file) read as
 * meaningful text: what they are, their name and size, their link.
 *
 * Skipped when finch or tmux is missing, and under SANITIZE=1: the plugin of
 * that build is ASan-instrumented and cannot be loaded into a Finch that is
 * not. Waiting polls the screen at a fixed interval while iterating the GLib
 * main loop (the server lives in this process), up to a timeout.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#define AGENT_EMAIL    "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define VISITOR_TEXT   "Hello from the visitor, order 4711"
#define REPLY_TEXT     "Finch agent here, order 4711 ships today"
#define VISITOR_THANKS "Great, thanks for order 4711"
#define SCREEN_POLL_MS 100
#define WAIT_MS        30000
#define SESSION        "finch"
#define SCREEN_COLUMNS "260"
#define LONG_TEXT      "A longer question about order 4711: the chairs arrived, but the table " \
                       "did not, and the tracking page has said in transit for a week. Why?"

typedef struct {
  PpmsServer *server;
  PpmsPeer *visitor;
  char *profile;       /* Finch's config directory (finch -c) */
  char *tmux_socket;   /* tmux -L name, unique to this process */
  GPid finch_pid;      /* 0 until Finch runs */
} Fixture;

/* What must not outlive this process when an assertion aborts it. */
static volatile pid_t running_finch_pid;
static volatile pid_t running_tmux_pid;

/* ---- tmux ---- */

/* Runs tmux on our own server socket; returns its stdout (NULL on failure). */
static char *
tmux_run (Fixture *fx, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *conf = g_build_filename (fx->profile, "tmux.conf", NULL);
  g_autofree char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "tmux");
  g_ptr_array_add (argv, (gpointer) "-L");
  g_ptr_array_add (argv, fx->tmux_socket);
  g_ptr_array_add (argv, (gpointer) "-f");
  g_ptr_array_add (argv, conf);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                     &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    return NULL;
  return g_steal_pointer (&out);
}

static char *
screen_text (Fixture *fx)
{
  const char *const args[] = { "capture-pane", "-p", "-t", SESSION, NULL };

  return tmux_run (fx, args);
}

static void
send_keys (Fixture *fx, gboolean literal, const char *keys)
{
  const char *const literal_args[] = { "send-keys", "-t", SESSION, "-l", keys, NULL };
  const char *const key_args[] = { "send-keys", "-t", SESSION, keys, NULL };
  g_autofree char *out = tmux_run (fx, literal ? literal_args : key_args);

  g_assert_nonnull (out);
}

/* "1 <status>" once Finch has exited (the pane stays, remain-on-exit). */
static gboolean
finch_exited (Fixture *fx, char **how)
{
  const char *const args[] = { "display-message", "-p", "-t", SESSION,
                               "#{pane_dead} #{pane_dead_status}", NULL };
  g_autofree char *out = tmux_run (fx, args);

  if (out != NULL && out[0] != '1')
    return FALSE;
  *how = out != NULL ? g_strdup (g_strstrip (out)) : g_strdup ("tmux session gone");
  return TRUE;
}

/* ---- Waiting ---- */

typedef gboolean (*ScreenCondition) (Fixture *fx, const char *screen, gconstpointer data);

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_CONTINUE;
}

static char *
read_finch_log (Fixture *fx)
{
  g_autofree char *path = g_build_filename (fx->profile, "finch-stderr.log", NULL);
  char *log = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &log, &length, NULL))
    return g_strdup ("(no log)");
  /* The end is what tells why. */
  if (length > 4000)
    {
      char *tail = g_strdup (log + length - 4000);

      g_free (log);
      log = tail;
    }
  return log;
}

/* Iterates the main loop; every SCREEN_POLL_MS captures Finch's screen and
 * asks cond. Fails the test, with the screen and Finch's standard error, when
 * Finch exits or WAIT_MS pass. */
static void
wait_for_screen (Fixture *fx, ScreenCondition cond, gconstpointer data, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean tick = TRUE;
  guint source = g_timeout_add (SCREEN_POLL_MS, set_flag, &tick);
  g_autofree char *screen = NULL;
  g_autofree char *exit_status = NULL;
  g_autofree char *log = NULL;

  for (;;)
    {
      if (tick)
        {
          tick = FALSE;
          g_free (screen);
          screen = screen_text (fx);
          if (screen != NULL && cond (fx, screen, data))
            {
              g_source_remove (source);
              return;
            }
          if (finch_exited (fx, &exit_status) || g_get_monotonic_time () > deadline)
            break;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (source);
  log = read_finch_log (fx);
  g_test_message ("Finch's screen:\n%s", screen != NULL ? screen : "(none)");
  g_test_message ("Finch's standard error (end):\n%s", log);
  if (exit_status != NULL)
    g_error ("finch exited (%s) while waiting for %s (profile kept in %s)", exit_status, what,
             fx->profile);
  g_error ("timed out waiting for %s (profile kept in %s)", what, fx->profile);
}

static gboolean
screen_contains (Fixture *fx, const char *screen, gconstpointer text)
{
  return strstr (screen, text) != NULL;
}

static guint
count_occurrences (const char *haystack, const char *needle)
{
  guint count = 0;

  for (const char *at = strstr (haystack, needle); at != NULL; at = strstr (at + 1, needle))
    count++;
  return count;
}

/* The sent reply shows as a line of the history ("(time) name: text"), and
 * no longer in the entry. */
static gboolean
reply_in_history (Fixture *fx, const char *screen, gconstpointer data)
{
  return strstr (screen, ": " REPLY_TEXT) != NULL && strstr (screen, REPLY_TEXT "_") == NULL;
}

/* Online: the agent's websocket is registered at the server, and Finch shows
 * its buddy list. */
static gboolean
account_online (Fixture *fx, const char *screen, gconstpointer data)
{
  return ppms_server_count_sockets (fx->server) >= 1 && strstr (screen, "Buddy List") != NULL;
}

/* ---- Profile and Finch ---- */

static void
write_profile_file (Fixture *fx, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (fx->profile, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static char *
built_plugin_path (void)
{
  const char *dir = g_getenv ("PLUGIN_DIR");

  if (dir == NULL || *dir == '\0')
    dir = g_getenv ("BUILD");
  if (dir == NULL || *dir == '\0')
    dir = "build";
  return g_build_filename (dir, "libppmessage.so", NULL);
}

static void
install_plugin (Fixture *fx)
{
  g_autofree char *source = built_plugin_path ();
  g_autofree char *plugins = g_build_filename (fx->profile, "plugins", NULL);
  g_autofree char *target = g_build_filename (plugins, "libppmessage.so", NULL);
  g_autofree char *bytes = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (source, &bytes, &length, &error))
    g_error ("the built plugin is missing: %s", error->message);
  g_assert_cmpint (g_mkdir_with_parents (plugins, 0700), ==, 0);
  g_file_set_contents (target, bytes, (gssize) length, &error);
  g_assert_no_error (error);
}

/* The agent account, signed in at start-up (auto-login of Finch's UI). */
static void
write_accounts (Fixture *fx)
{
  g_autofree char *url = g_markup_escape_text (ppms_server_get_url (fx->server), -1);
  g_autofree char *xml = g_strdup_printf (
    "<?xml version='1.0' encoding='UTF-8' ?>\n"
    "<account version='1.0'>\n"
    " <account>\n"
    "  <protocol>prpl-ppmessage</protocol>\n"
    "  <name>" AGENT_EMAIL "</name>\n"
    "  <password>" AGENT_PASSWORD "</password>\n"
    "  <settings>\n"
    "   <setting name='server' type='string'>%s</setting>\n"
    "   <setting name='role' type='string'>agent</setting>\n"
    "  </settings>\n"
    "  <settings ui='gnt-purple'>\n"
    "   <setting name='auto-login' type='bool'>1</setting>\n"
    "  </settings>\n"
    " </account>\n"
    "</account>\n", url);

  write_profile_file (fx, "accounts.xml", xml);
}

/* A conversation window wide enough that a message line, even one with a
 * download link, does not wrap (the screen is SCREEN_COLUMNS wide), right
 * of the buddy list. Finch adds the other
 * preferences with their defaults. */
static void
write_prefs (Fixture *fx)
{
  write_profile_file (fx, "prefs.xml",
    "<?xml version='1.0' encoding='UTF-8' ?>\n"
    "<pref version='1' name='/'>\n"
    " <pref name='finch'>\n"
    "  <pref name='conversations'>\n"
    "   <pref name='size'>\n"
    "    <pref name='width' type='int' value='230'/>\n"
    "    <pref name='height' type='int' value='20'/>\n"
    "   </pref>\n"
    "   <pref name='position'>\n"
    "    <pref name='x' type='int' value='26'/>\n"
    "    <pref name='y' type='int' value='0'/>\n"
    "   </pref>\n"
    "  </pref>\n"
    " </pref>\n"
    "</pref>\n");
}

static void
start_finch (Fixture *fx)
{
  g_autofree char *quoted_profile = g_shell_quote (fx->profile);
  g_autofree char *log = g_build_filename (fx->profile, "finch-stderr.log", NULL);
  g_autofree char *quoted_log = g_shell_quote (log);
  /* exec: the pane's process is Finch itself, so its pid is ours to end. */
  g_autofree char *command = g_strdup_printf ("exec finch -c %s 2>%s", quoted_profile,
                                              quoted_log);
  const char *const new_session[] = { "new-session", "-d", "-s", SESSION, "-x", SCREEN_COLUMNS, "-y", "50",
                                      command, NULL };
  const char *const pane_pid[] = { "display-message", "-p", "-t", SESSION, "#{pane_pid}", NULL };
  const char *const server_pid[] = { "display-message", "-p", "-t", SESSION, "#{pid}", NULL };
  g_autofree char *started = NULL;
  g_autofree char *pid = NULL;
  g_autofree char *tmux_pid = NULL;

  /* Keep the pane after Finch exits, to report its status; no status bar. */
  write_profile_file (fx, "tmux.conf", "set -g remain-on-exit on\nset -g status off\n");
  started = tmux_run (fx, new_session);
  g_assert_nonnull (started);
  pid = tmux_run (fx, pane_pid);
  g_assert_nonnull (pid);
  fx->finch_pid = (GPid) g_ascii_strtoll (pid, NULL, 10);
  g_assert_cmpint (fx->finch_pid, >, 1);
  running_finch_pid = fx->finch_pid;
  tmux_pid = tmux_run (fx, server_pid);
  g_assert_nonnull (tmux_pid);
  running_tmux_pid = (pid_t) g_ascii_strtoll (tmux_pid, NULL, 10);
}

/* Gone: no such process, or a zombie nobody reaps yet. */
static gboolean
process_gone (GPid pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (kill (pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return TRUE;
  /* "pid (comm) S ...": the state follows the last parenthesis. */
  state = strrchr (stat, ')');
  return state != NULL && state[1] == ' ' && state[2] == 'Z';
}

/* Polls until the process is gone, at most timeout_ms; the main loop keeps
 * running meanwhile. */
static gboolean
wait_process_gone (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean tick = FALSE;
  guint source = g_timeout_add (10, set_flag, &tick);
  gboolean gone;

  while (!(gone = process_gone (pid)) && g_get_monotonic_time () < deadline)
    {
      while (!tick)
        g_main_context_iteration (NULL, TRUE);
      tick = FALSE;
    }
  g_source_remove (source);
  return gone;
}

/* Quits Finch as a user does (Alt-Q), SIGKILL if it lingers, then ends our
 * tmux server. */
static void
stop_finch (Fixture *fx)
{
  const char *const quit[] = { "send-keys", "-t", SESSION, "M-q", NULL };
  const char *const kill_server[] = { "kill-server", NULL };
  g_autofree char *quit_out = NULL;
  g_autofree char *out = NULL;

  if (fx->finch_pid > 1)
    {
      quit_out = tmux_run (fx, quit);
      if (!wait_process_gone (fx->finch_pid, 5000))
        {
          kill (fx->finch_pid, SIGKILL);
          wait_process_gone (fx->finch_pid, 5000);
        }
    }
  out = tmux_run (fx, kill_server);
  running_finch_pid = 0;
  running_tmux_pid = 0;
}

/* A failed assertion aborts without tear-down: end Finch and tmux here
 * (async-signal-safe calls only), then die of the same signal. */
static void
kill_finch_on_signal (int sig)
{
  if (running_finch_pid > 1)
    kill (running_finch_pid, SIGKILL);
  if (running_tmux_pid > 1)
    kill (running_tmux_pid, SIGTERM);
  signal (sig, SIG_DFL);
  raise (sig);
}

/* ---- Fixture ---- */

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->profile = g_dir_make_tmp ("ppm-finch-XXXXXX", &error);
  g_assert_no_error (error);
  fx->tmux_socket = g_strdup_printf ("ppm-test-finch-%d", (int) getpid ());
  fx->server = ppms_server_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (fx->server, 0, &error));
  g_assert_no_error (error);
  ppms_server_set_timer_scale (fx->server, 0.1);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  stop_finch (fx);
  if (fx->visitor != NULL)
    ppms_peer_free (fx->visitor);
  ppms_server_free (fx->server);
  ppms_remove_tree (fx->profile);
  g_free (fx->profile);
  g_free (fx->tmux_socket);
}

/* ---- The test ---- */

static gboolean
finch_unusable (void)
{
  g_autofree char *finch = g_find_program_in_path ("finch");
  g_autofree char *tmux = g_find_program_in_path ("tmux");

  if (g_strcmp0 (g_getenv ("SANITIZE"), "1") == 0)
    {
      g_test_skip ("SANITIZE=1: the ASan-instrumented plugin cannot be loaded into an "
                   "uninstrumented finch");
      return TRUE;
    }
  if (finch == NULL || tmux == NULL)
    {
      g_test_skip (finch == NULL ? "finch is not installed" : "tmux is not installed");
      return TRUE;
    }
  return FALSE;
}

static void
start_visitor (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  fx->visitor = ppms_peer_new_visitor (ppms_server_get_url (fx->server),
                                       ppms_server_app_uuid (fx->server),
                                       ppms_server_ppcom_key (fx->server),
                                       ppms_server_ppcom_secret (fx->server), NULL);
  g_assert_true (ppms_peer_start_sync (fx->visitor, &error));
  g_assert_no_error (error);
  g_assert_nonnull (ppms_peer_conversation_uuid (fx->visitor));
}

/* Finch with the agent account signed in; FALSE when the test is skipped. */
static gboolean
finch_signed_in (Fixture *fx)
{
  if (finch_unusable ())
    return FALSE;
  install_plugin (fx);
  write_accounts (fx);
  write_prefs (fx);
  start_finch (fx);
  wait_for_screen (fx, account_online, NULL, "the agent account to come online");
  return TRUE;
}

static void
test_finch_conversation (Fixture *fx, gconstpointer data)
{
  g_autofree char *sent = NULL;
  const JsonObject *reply;
  g_autofree char *screen = NULL;

  if (!finch_signed_in (fx))
    return;

  start_visitor (fx);
  sent = ppms_peer_send_text (fx->visitor, ppms_peer_conversation_uuid (fx->visitor),
                              VISITOR_TEXT);
  g_assert_nonnull (sent);
  /* Finch opens a conversation window for it. */
  wait_for_screen (fx, screen_contains, VISITOR_TEXT, "the visitor's message on Finch's screen");

  /* Finch does not give an incoming conversation the focus: Alt-2 raises the
   * second window (the first is the buddy list). What is typed then shows in
   * its entry, padded with underscores. */
  send_keys (fx, FALSE, "M-2");
  send_keys (fx, TRUE, REPLY_TEXT);
  wait_for_screen (fx, screen_contains, REPLY_TEXT "_", "the typed reply in the entry");
  send_keys (fx, FALSE, "Enter");
  /* Echoed once in the window (the entry is empty again), and delivered. */
  wait_for_screen (fx, reply_in_history, NULL, "the reply in the conversation history");
  reply = ppms_peer_wait_message (fx->visitor, REPLY_TEXT, WAIT_MS);
  g_assert_nonnull (reply);

  /* Once the visitor's next message is on screen, anything the server sent
   * back about the reply has been handled: each message is shown once. */
  g_free (sent);
  sent = ppms_peer_send_text (fx->visitor, ppms_peer_conversation_uuid (fx->visitor),
                              VISITOR_THANKS);
  g_assert_nonnull (sent);
  wait_for_screen (fx, screen_contains, VISITOR_THANKS, "the visitor's second message");
  screen = screen_text (fx);
  g_assert_nonnull (screen);
  g_assert_cmpuint (count_occurrences (screen, VISITOR_TEXT), ==, 1);
  g_assert_cmpuint (count_occurrences (screen, ": " REPLY_TEXT), ==, 1);
  g_assert_cmpuint (count_occurrences (screen, VISITOR_THANKS), ==, 1);
}

/* The visitor uploads content and sends it as a message of that sub-type
 * (the fid is returned). */
static char *
visitor_sends_upload (Fixture *fx, const char *subtype, const char *name, const char *mime,
                      GBytes *content)
{
  g_autoptr (GError) error = NULL;
  char *fid = ppms_peer_upload_sync (fx->visitor, name, mime, content, &error);
  g_autofree char *body = NULL;

  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"name\": \"%s\", \"mime\": \"%s\", "
                          "\"size\": %zu}", fid, name, mime, g_bytes_get_size (content));
  g_free (ppms_peer_send_message (fx->visitor, ppms_peer_conversation_uuid (fx->visitor),
                                  subtype, body));
  return fid;
}

/* An image, a file and a long text, each on Finch's screen as a line that
 * says what it is: the image's link (the full-size picture) and how to
 * save it (/original, which offers it as a file), the file's name, size
 * and link (and Finch's own transfer request), the long text in full. */
static void
test_finch_rich_messages (Fixture *fx, gconstpointer data)
{
  static const char order[] = "Order 4711: two chairs, one table.\n";
  g_autoptr (GBytes) png = ppms_test_png (16, 12);
  g_autoptr (GBytes) file = g_bytes_new_static (order, strlen (order));
  g_autofree char *image_fid = NULL, *file_fid = NULL, *image_line = NULL, *file_line = NULL;
  g_autofree char *screen = NULL;

  if (!finch_signed_in (fx))
    return;
  start_visitor (fx);
  g_free (ppms_peer_send_text (fx->visitor, ppms_peer_conversation_uuid (fx->visitor),
                               VISITOR_TEXT));
  wait_for_screen (fx, screen_contains, VISITOR_TEXT, "the visitor's message on Finch's screen");

  image_fid = visitor_sends_upload (fx, "IMAGE", "dot.png", "image/png", png);
  /* Below the sender's name: the picture Finch cannot show comes first. */
  image_line = g_strdup_printf ("Image: %s/download/download/%s (full size: /original)",
                                ppms_server_get_url (fx->server), image_fid);
  wait_for_screen (fx, screen_contains, image_line, "the image's line");
  /* /original, typed in the window, offers the picture as a file. */
  send_keys (fx, FALSE, "M-2");
  send_keys (fx, TRUE, "/original");
  wait_for_screen (fx, screen_contains, "/original_", "the command in the entry");
  send_keys (fx, FALSE, "Enter");
  wait_for_screen (fx, screen_contains, "is offering to send file image.png",
                   "the picture offered as a file");

  g_free (ppms_peer_send_text (fx->visitor, ppms_peer_conversation_uuid (fx->visitor),
                               LONG_TEXT));
  wait_for_screen (fx, screen_contains, ": " LONG_TEXT, "the long text in full");

  file_fid = visitor_sends_upload (fx, "FILE", "order.txt", "text/plain", file);
  file_line = g_strdup_printf (": File: order.txt (%zu bytes) %s/download/download/%s"
                               "?file_name=order.txt", strlen (order),
                               ppms_server_get_url (fx->server), file_fid);
  wait_for_screen (fx, screen_contains, file_line, "the file's line");
  wait_for_screen (fx, screen_contains, "is offering to send file order.txt",
                   "Finch's file transfer request");
  screen = screen_text (fx);
  g_test_message ("Finch's screen:\n%s", screen);
  g_assert_cmpuint (count_occurrences (screen, image_line), ==, 1);
  g_assert_cmpuint (count_occurrences (screen, LONG_TEXT), ==, 1);
  g_assert_cmpuint (count_occurrences (screen, file_line), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGABRT, kill_finch_on_signal);
  signal (SIGTERM, kill_finch_on_signal);
  signal (SIGINT, kill_finch_on_signal);
  signal (SIGTRAP, kill_finch_on_signal);
  g_test_add ("/finch/visitor-message-and-reply", Fixture, NULL, fixture_set_up,
              test_finch_conversation, fixture_tear_down);
  g_test_add ("/finch/rich-messages", Fixture, NULL, fixture_set_up, test_finch_rich_messages,
              fixture_tear_down);
  return g_test_run ();
}
