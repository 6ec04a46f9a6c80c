/* test-bridge.c: the bridge plugin (libppmessage-bridge.so) between a
 * real IRC network (ngircd, started here on a free loopback port) and the
 * PPMessage test server with an agent (a PPKefu test peer). An IRC user
 * (a raw socket client, "the contact") writes to the bridged IRC account;
 * the agent sees a visitor "ircpal (IRC)" and answers; the contact gets
 * the answer on IRC. Every message is counted where it arrives: at the
 * server (the team's copy) and at the contact's socket, exactly once.
 *
 * The libpurple process with the bridge (this program run with
 * --bridge-core) is a child of the test, so the test can kill it in the
 * middle of a conversation and start it again on the same user directory,
 * as a crash and a restart of Pidgin would. Skipped when ngircd or prpl-irc
 * is missing.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "purple-fixtures.h"
#include "local-servers.h"
#include "ppms-internal.h"

#define BRIDGE_NICK   "bridge"
#define CONTACT_NICK  "ircpal"
#define BRIDGE_ID     "core-ppmessage-bridge"
#define BRIDGE_PREFS  "/plugins/core/ppmessage-bridge"
#define CORE_READY    "bridge core ready"

/* This program, which runs the core too (not /proc/self/exe: under
 * valgrind that is valgrind). */
static char *self_path;

/* ---- The libpurple process with the bridge (the child) ---- */

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* For a failing case: the core's debug log beside its state, kept fresh
 * (a killed core writes nothing at its end). */
static gboolean
write_log (gpointer path)
{
  g_file_set_contents (path, harness_debug_log (), -1, NULL);
  return G_SOURCE_CONTINUE;
}

static int
run_core (const char *user_dir, const char *link, guint irc_port, int quiet_seconds)
{
  g_autofree char *username = g_strdup (BRIDGE_NICK "@127.0.0.1");
  g_autofree char *bridged = g_strdup_printf (BRIDGE_PREFS "/accounts/prpl-irc:%s", username);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  PurpleAccount *account;
  PurplePlugin *bridge;
  g_autofree char *log = NULL;

  harness_init_in (user_dir);
  account = purple_accounts_find (username, "prpl-irc");
  if (account == NULL) {
    account = purple_account_new (username, "prpl-irc");
    purple_account_set_int (account, "port", (int) irc_port);
    purple_account_set_bool (account, "ssl", FALSE);
    purple_accounts_add (account);
  }
  purple_prefs_add_none (BRIDGE_PREFS);
  purple_prefs_add_none (BRIDGE_PREFS "/accounts");
  purple_prefs_add_string (BRIDGE_PREFS "/team_link", link);
  purple_prefs_set_string (BRIDGE_PREFS "/team_link", link);
  purple_prefs_add_int (BRIDGE_PREFS "/quiet_seconds", quiet_seconds);
  purple_prefs_set_int (BRIDGE_PREFS "/quiet_seconds", quiet_seconds);
  purple_prefs_add_bool (bridged, TRUE);
  bridge = purple_plugins_find_with_id (BRIDGE_ID);
  g_assert_nonnull (bridge);
  g_assert_true (purple_plugin_load (bridge));
  harness_connect (account);
  g_assert_true (harness_wait_connected (account, LOCAL_WAIT_MS));
  g_print ("%s\n", CORE_READY);
  fflush (stdout);
  g_unix_signal_add (SIGTERM, quit_loop, loop);
  log = g_build_filename (user_dir, "core.log", NULL);
  g_timeout_add (200, write_log, log);
  g_main_loop_run (loop);
  harness_shutdown ();
  return 0;
}

/* ---- The test's side: servers, the agent, the contact ---- */

typedef struct {
  PpmsServer *server;
  LocalServer *irc;
  PpmsPeer *agent;
  IrcPal *contact;
  char *user_dir;
  char *link;
  int quiet_seconds;
  GSubprocess *core;
  GDataInputStream *core_output;
  GCancellable *core_cancel;
  gboolean core_ready;
  char *conversation;       /* the contact's visitor conversation */
  char *visitor;            /* its visitor's uuid */
} Bridge;

static void
on_core_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Bridge *b = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);

  if (line == NULL)
    return;             /* the core is gone, or the test stopped listening */
  if (strstr (line, CORE_READY) != NULL)
    b->core_ready = TRUE;
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT,
                                       b->core_cancel, on_core_line, b);
}

static void
die_with_test (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
core_start (Bridge *b)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *port = g_strdup_printf ("%u", b->irc->port);
  g_autofree char *quiet = g_strdup_printf ("%d", b->quiet_seconds);
  g_autoptr (GError) error = NULL;

  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  b->core_ready = FALSE;
  b->core = g_subprocess_launcher_spawn (launcher, &error, self_path, "--bridge-core",
                                         b->user_dir, b->link, port, quiet, NULL);
  g_assert_no_error (error);
  b->core_output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (b->core));
  b->core_cancel = g_cancellable_new ();
  g_data_input_stream_read_line_async (b->core_output, G_PRIORITY_DEFAULT, b->core_cancel,
                                       on_core_line, b);
  g_assert_true (HARNESS_WAIT_FOR (b->core_ready, WAIT_MS));
}

static gboolean
core_gone (Bridge *b)
{
  return g_subprocess_get_identifier (b->core) == NULL;
}

/* SIGKILL: a crash, nothing written at the end; SIGTERM: a clean quit. */
static void
core_stop (Bridge *b, int signal)
{
  g_subprocess_send_signal (b->core, signal);
  g_assert_true (HARNESS_WAIT_FOR (core_gone (b), WAIT_MS));
  /* A clean quit ends well (under valgrind: no memory error, no leak). */
  if (signal == SIGTERM)
    g_assert_true (g_subprocess_get_successful (b->core));
  g_cancellable_cancel (b->core_cancel);
  g_clear_object (&b->core_cancel);
  g_clear_object (&b->core_output);
  g_clear_object (&b->core);
}

static Bridge *
bridge_start (int quiet_seconds)
{
  g_autofree char *ngircd = find_daemon ("ngircd");
  Bridge *b = g_new0 (Bridge, 1);

  /* Slower under valgrind, as the waits are (HARNESS_TIMEOUT_SCALE). */
  b->quiet_seconds = quiet_seconds * MAX (1, atoi (g_getenv ("HARNESS_TIMEOUT_SCALE") ?: "1"));
  b->server = server_start ();
  b->irc = irc_server_start (ngircd);
  b->agent = colleague_start (b->server, AGENT_EMAIL, AGENT_PASSWORD);
  b->contact = irc_pal_connect (b->irc, CONTACT_NICK);
  b->user_dir = g_dir_make_tmp ("ppm-bridge-XXXXXX", NULL);
  b->link = visitor_link (b->server);
  g_test_message ("the bridge's libpurple directory: %s", b->user_dir);
  core_start (b);
  return b;
}

static void
bridge_free (Bridge *b)
{
  if (b->core != NULL)
    core_stop (b, SIGTERM);
  irc_pal_free (b->contact);
  ppms_peer_free (b->agent);
  local_server_free (b->irc);
  ppms_server_free (b->server);
  ppms_remove_tree (b->user_dir);
  g_free (b->user_dir);
  g_free (b->link);
  g_free (b->conversation);
  g_free (b->visitor);
  g_free (b);
}

/* How many PRIVMSGs the contact received from the bridge with this text. */
static guint
contact_heard (Bridge *b, const char *text)
{
  g_autofree char *expected = g_strdup_printf (BRIDGE_NICK " %s", text);
  guint count = 0;

  for (guint i = 0; i < b->contact->privmsgs->len; i++)
    count += g_strcmp0 (g_ptr_array_index (b->contact->privmsgs, i), expected) == 0;
  return count;
}

/* How many messages of the conversation the server stored with this text. */
static guint
team_has (Bridge *b, const char *text)
{
  GHashTableIter iter;
  gpointer value;
  guint count = 0;

  g_hash_table_iter_init (&iter, b->server->messages);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    PpmsMessage *message = value;

    count += g_strcmp0 (message->conversation_uuid, b->conversation) == 0
             && g_strcmp0 (message->body, text) == 0;
  }
  return count;
}

/* The contact writes; the agent gets it live, from the contact's visitor. */
static void
contact_says (Bridge *b, const char *text)
{
  const JsonObject *msg;

  irc_pal_say (b->contact, BRIDGE_NICK, text);
  msg = ppms_peer_wait_message (b->agent, text, WAIT_MS);
  g_assert_nonnull (msg);
  if (b->conversation == NULL) {
    b->conversation = g_strdup (json_object_get_string_member ((JsonObject *) msg, "ci"));
    b->visitor = g_strdup (json_object_get_string_member ((JsonObject *) msg, "fi"));
  }
  /* The same visitor every time, restarts included. */
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "fi"), ==, b->visitor);
}

static char *
agent_says (Bridge *b, const char *text)
{
  char *uuid = ppms_peer_send_text (b->agent, b->conversation, text);
  int code = -1;

  g_assert_nonnull (uuid);
  g_assert_true (ppms_peer_wait_ack (b->agent, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  return uuid;
}

/* Each text once at the team and once at the contact. A last exchange both
 * ways is the barrier: anything late or doubled would have come before it. */
static void
assert_once_each (Bridge *b, const char *const *to_team, const char *const *to_contact)
{
  contact_says (b, "Barrier to the team");
  g_free (agent_says (b, "Barrier to the contact"));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Barrier to the contact") == 1, WAIT_MS));
  for (guint i = 0; to_team[i] != NULL; i++)
    g_assert_cmpuint (team_has (b, to_team[i]), ==, 1);
  for (guint i = 0; to_contact[i] != NULL; i++)
    g_assert_cmpuint (contact_heard (b, to_contact[i]), ==, 1);
}

/* libpurple's IRC protocol comes with libpurple itself; ngircd may be missing. */
static gboolean
skipped (void)
{
  g_autofree char *ngircd = find_daemon ("ngircd");

  if (ngircd == NULL)
    g_test_skip ("ngircd is not installed (package: ngircd)");
  return ngircd == NULL;
}

/* The contact's state files, loaded (GKeyFile*). */
static GPtrArray *
load_states (Bridge *b)
{
  g_autofree char *dir = g_build_filename (b->user_dir, "ppmessage-bridge", NULL);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  GPtrArray *states = g_ptr_array_new_with_free_func ((GDestroyNotify) g_key_file_unref);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    GKeyFile *state = g_key_file_new ();

    if (g_str_has_suffix (name, ".state") && g_key_file_load_from_file (state, path, 0, NULL))
      g_ptr_array_add (states, state);
    else
      g_key_file_unref (state);
  }
  return states;
}

/* Whether a contact's session is open, from its state file. */
static gboolean
session_open (Bridge *b)
{
  g_autoptr (GPtrArray) states = load_states (b);
  gboolean open = FALSE;

  for (guint i = 0; i < states->len; i++)
    open |= g_key_file_get_boolean (states->pdata[i], "contact", "open", NULL);
  return open;
}

/* Whether a state file holds this text in this group. */
static gboolean
state_has (Bridge *b, const char *group, const char *text)
{
  g_autoptr (GPtrArray) states = load_states (b);
  gboolean found = FALSE;

  for (guint i = 0; i < states->len; i++) {
    g_auto (GStrv) keys = g_key_file_get_keys (states->pdata[i], group, NULL, NULL);

    for (guint k = 0; keys != NULL && keys[k] != NULL; k++) {
      g_autofree char *value = g_key_file_get_string (states->pdata[i], group, keys[k], NULL);

      found |= g_strcmp0 (value, text) == 0;
    }
  }
  return found;
}

/* ---- The cases ---- */

static void
test_both_ways (void)
{
  Bridge *b;
  PpmsUser *visitor;

  if (skipped ())
    return;
  b = bridge_start (600);
  contact_says (b, "Hello from IRC");
  contact_says (b, "My order is late");
  /* What the agents see: the contact's name and network. */
  visitor = ppms_user_lookup (b->server, b->visitor);
  g_assert_nonnull (visitor);
  g_assert_cmpstr (visitor->user_fullname, ==, CONTACT_NICK " (IRC)");
  g_assert_nonnull (strstr (visitor->user_signature, "IRC: " CONTACT_NICK));
  g_free (agent_says (b, "Which order is it?"));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Which order is it?") == 1, WAIT_MS));
  /* Text as typed, markup characters included, both ways. */
  contact_says (b, "Number <1234> & \"5678\"");
  g_free (agent_says (b, "<b>It left</b> today & arrives soon"));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "<b>It left</b> today & arrives soon") == 1,
                                   WAIT_MS));
  assert_once_each (b,
                    (const char *[]) { "Hello from IRC", "My order is late",
                                       "Number <1234> & \"5678\"", NULL },
                    (const char *[]) { "Which order is it?",
                                       "<b>It left</b> today & arrives soon", NULL });
  /* The agent's messages are the agent's, the contact's are the visitor's. */
  g_assert_cmpuint (contact_heard (b, "Hello from IRC"), ==, 0);
  bridge_free (b);
}

static void
test_restart (void)
{
  Bridge *b;
  g_autofree char *reply = NULL;

  if (skipped ())
    return;
  b = bridge_start (600);
  contact_says (b, "Before the crash");
  reply = agent_says (b, "First answer");
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "First answer") == 1, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (push_acked (b->server, reply, b->visitor), WAIT_MS));
  /* The libpurple process dies in the middle of the conversation. */
  core_stop (b, SIGKILL);
  g_free (agent_says (b, "Written while Pidgin was down"));
  core_start (b);
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Written while Pidgin was down") == 1,
                                   WAIT_MS));
  contact_says (b, "After the restart");
  /* A clean quit and start too. */
  core_stop (b, SIGTERM);
  g_free (agent_says (b, "Written during a clean restart"));
  core_start (b);
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Written during a clean restart") == 1,
                                   WAIT_MS));
  assert_once_each (b, (const char *[]) { "Before the crash", "After the restart", NULL },
                    (const char *[]) { "First answer", "Written while Pidgin was down",
                                       "Written during a clean restart", NULL });
  bridge_free (b);
}

static void
test_server_outage (void)
{
  Bridge *b;
  g_autoptr (GError) error = NULL;
  guint stored;

  if (skipped ())
    return;
  b = bridge_start (600);
  contact_says (b, "Before the outage");
  g_free (agent_says (b, "Answer before"));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Answer before") == 1, WAIT_MS));
  stored = ppms_server_count_messages (b->server, b->conversation);
  ppms_server_stop (b->server);
  irc_pal_say (b->contact, BRIDGE_NICK, "During the outage");
  /* The bridge holds it; then Pidgin dies before the server is back. */
  g_assert_true (HARNESS_WAIT_FOR (state_has (b, "to_team", "During the outage"), WAIT_MS));
  core_stop (b, SIGKILL);
  g_assert_true (ppms_server_restart (b->server, &error));
  g_assert_no_error (error);
  core_start (b);
  /* Kept by the bridge and sent once the server is back. */
  g_assert_true (HARNESS_WAIT_FOR (team_has (b, "During the outage") == 1, 60000));
  g_assert_cmpuint (ppms_server_count_messages (b->server, b->conversation), ==, stored + 1);
  ppms_peer_close (b->agent);
  g_assert_true (ppms_peer_start_sync (b->agent, &error));
  g_assert_no_error (error);
  g_free (agent_says (b, "Answer after"));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Answer after") == 1, WAIT_MS));
  assert_once_each (b, (const char *[]) { "Before the outage", "During the outage", NULL },
                    (const char *[]) { "Answer before", "Answer after", NULL });
  bridge_free (b);
}

static void
test_reply_while_closed (void)
{
  Bridge *b;

  if (skipped ())
    return;
  b = bridge_start (2);
  contact_says (b, "Hello");
  g_assert_true (HARNESS_WAIT_FOR (!session_open (b), WAIT_MS));
  g_free (agent_says (b, "Answer while your session is closed"));
  contact_says (b, "Anyone?");
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Answer while your session is closed") == 1,
                                   WAIT_MS));
  assert_once_each (b, (const char *[]) { "Hello", "Anyone?", NULL },
                    (const char *[]) { "Answer while your session is closed", NULL });
  bridge_free (b);
}

int
main (int argc, char **argv)
{
  if (argc == 6 && g_str_equal (argv[1], "--bridge-core"))
    return run_core (argv[2], argv[3], (guint) atoi (argv[4]), atoi (argv[5]));
  self_path = g_canonicalize_filename (argv[0], NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bridge/irc/both-ways", test_both_ways);
  g_test_add_func ("/bridge/irc/restart", test_restart);
  g_test_add_func ("/bridge/irc/server-outage", test_server_outage);
  g_test_add_func ("/bridge/irc/reply-while-closed", test_reply_while_closed);
  return g_test_run ();
}
