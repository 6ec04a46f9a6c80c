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
#define CONTACT_READY "contact ready"

/* This program, which runs the core too (not /proc/self/exe: under
 * valgrind that is valgrind). */
static char *self_path;

/* ---- The libpurple process with the bridge (the child) ---- */

/* SIGTERM: a clean quit, also when it comes before the main loop runs
 * (the test may stop a process as soon as it said it is ready). */
static GMainLoop *main_loop;
static gboolean terminated;

static gboolean
on_sigterm (gpointer data)
{
  terminated = TRUE;
  g_main_loop_quit (main_loop);
  return G_SOURCE_REMOVE;
}

static void
catch_sigterm (void)
{
  main_loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_sigterm, NULL);
}

/* For a failing case: the core's debug log beside its state, kept fresh
 * (a killed core writes nothing at its end). */
static gboolean
write_log (gpointer path)
{
  g_file_set_contents (path, harness_debug_log (), -1, NULL);
  return G_SOURCE_CONTINUE;
}

/* The account of this process, as the command line gives it, found
 * again in the user dir after a restart. */
static PurpleAccount *
own_account (const char *protocol, const char *username, const char *password, guint port)
{
  PurpleAccount *account = purple_accounts_find (username, protocol);

  if (account != NULL) {
    /* libpurple keeps no password it was not told to remember. */
    purple_account_set_password (account, password);
    return account;
  }
  account = purple_account_new (username, protocol);
  purple_account_set_int (account, "port", (int) port);
  if (g_str_equal (protocol, "prpl-irc")) {
    purple_account_set_bool (account, "ssl", FALSE);
  } else {
    purple_account_set_password (account, password);
    purple_account_set_string (account, "connect_server", "127.0.0.1");
    purple_account_set_string (account, "connection_security", "opportunistic_tls");
    purple_account_set_bool (account, "auth_plain_in_clear", TRUE);
  }
  purple_accounts_add (account);
  return account;
}

static void
sign_in_and_say_ready (PurpleAccount *account, const char *ready)
{
  harness_connect (account);
  g_assert_true (harness_wait_connected (account, LOCAL_WAIT_MS));
  g_print ("%s\n", ready);
  fflush (stdout);
}

/* Runs until SIGTERM (catch_sigterm first). */
static void
run_until_terminated (void)
{
  if (!terminated)
    g_main_loop_run (main_loop);
  harness_shutdown ();
  g_main_loop_unref (main_loop);
}

/* What the bridge tells the user, where the test reads it. */
static void *
print_notice (PurpleNotifyMsgType type, const char *title, const char *primary,
              const char *secondary)
{
  g_print ("notice\t%s\t%s\n", primary, secondary ? secondary : "");
  fflush (stdout);
  return NULL;
}

static PurpleNotifyUiOps notice_ops = { .notify_message = print_notice };

static int
run_core (const char *user_dir, const char *link, const char *protocol, const char *username,
          const char *password, guint port, int quiet_seconds)
{
  /* As src/bridge/prefs.c names it: a '/' of the user name becomes '|'. */
  g_autofree char *name = g_strdelimit (g_strdup (username), "/", '|');
  g_autofree char *bridged = g_strdup_printf (BRIDGE_PREFS "/accounts/%s:%s", protocol, name);
  PurpleAccount *account;
  PurplePlugin *bridge;

  catch_sigterm ();
  harness_init_in (user_dir);
  purple_notify_set_ui_ops (&notice_ops);
  g_timeout_add (200, write_log, g_build_filename (user_dir, "core.log", NULL));
  account = own_account (protocol, username, password, port);
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
  sign_in_and_say_ready (account, CORE_READY);
  run_until_terminated ();
  return 0;
}

/* ---- A contact on a network with no raw client here (XMPP): a second
 * libpurple process. Lines "say<TAB>WHO<TAB>TEXT" on stdin are sent,
 * "typing<TAB>WHO" tells WHO it types, "file<TAB>WHO<TAB>PATH" offers WHO
 * that file; every file offered is accepted into the user dir, and
 * printed as "received<TAB>PATH" once complete; every message received is printed
 * as "heard<TAB>TEXT" (plain text), every typing notice as "typing". ---- */

static void
on_contact_received (PurpleAccount *account, char *sender, char *message,
                     PurpleConversation *conv, PurpleMessageFlags flags, gpointer data)
{
  g_autofree char *plain = purple_markup_strip_html (message);

  g_print ("heard\t%s\n", plain);
  fflush (stdout);
}

/* The bridged account is online for the contact: what it writes now is
 * delivered (a message to an account with no resource online is lost). */
static void
on_contact_buddy_online (PurpleBuddy *buddy, gpointer data)
{
  g_print ("online\n");
  fflush (stdout);
}

static void
on_contact_typing (PurpleAccount *account, const char *who, gpointer data)
{
  g_print ("typing\n");
  fflush (stdout);
}

static void
on_contact_file_offered (PurpleXfer *xfer, gpointer data)
{
  g_autofree char *name = g_strconcat ("received-", purple_xfer_get_filename (xfer), NULL);
  g_autofree char *path = g_build_filename (purple_user_dir (), name, NULL);

  purple_xfer_request_accepted (xfer, path);
}

static void
on_contact_file_received (PurpleXfer *xfer, gpointer data)
{
  /* libpurple closes the file after this signal: the test reads it now. */
  fflush (xfer->dest_fp);
  g_print ("received\t%s\n", purple_xfer_get_local_filename (xfer));
  fflush (stdout);
}

static gboolean
on_contact_command (GIOChannel *input, GIOCondition condition, gpointer account)
{
  g_autofree char *line = NULL;
  g_auto (GStrv) parts = NULL;
  g_autofree char *html = NULL;
  PurpleConversation *conv;

  if (g_io_channel_read_line (input, &line, NULL, NULL, NULL) != G_IO_STATUS_NORMAL)
    return condition & G_IO_IN ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
  parts = g_strsplit (g_strchomp (line), "\t", 3);
  if (g_strv_length (parts) == 3 && g_str_equal (parts[0], "say")) {
    html = g_markup_escape_text (parts[2], -1);
    conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, parts[1]);
    purple_conv_im_send (PURPLE_CONV_IM (conv), html);
  } else if (g_strv_length (parts) == 3 && g_str_equal (parts[0], "file")) {
    serv_send_file (purple_account_get_connection (account), parts[1], parts[2]);
  } else if (g_strv_length (parts) == 2 && g_str_equal (parts[0], "typing")) {
    serv_send_typing (purple_account_get_connection (account), parts[1], PURPLE_TYPING);
  }
  return G_SOURCE_CONTINUE;
}

static int
run_contact (const char *user_dir, const char *protocol, const char *username,
             const char *password, guint port)
{
  GIOChannel *commands = g_io_channel_unix_new (0);
  PurpleAccount *account;

  catch_sigterm ();
  harness_init_in (user_dir);
  account = own_account (protocol, username, password, port);
  purple_signal_connect (purple_conversations_get_handle (), "received-im-msg", account,
                         PURPLE_CALLBACK (on_contact_received), NULL);
  purple_signal_connect (purple_conversations_get_handle (), "buddy-typing", account,
                         PURPLE_CALLBACK (on_contact_typing), NULL);
  purple_signal_connect (purple_blist_get_handle (), "buddy-signed-on", account,
                         PURPLE_CALLBACK (on_contact_buddy_online), NULL);
  purple_signal_connect (purple_xfers_get_handle (), "file-recv-request", account,
                         PURPLE_CALLBACK (on_contact_file_offered), NULL);
  purple_signal_connect (purple_xfers_get_handle (), "file-recv-complete", account,
                         PURPLE_CALLBACK (on_contact_file_received), NULL);
  sign_in_and_say_ready (account, CONTACT_READY);
  g_io_add_watch (commands, G_IO_IN | G_IO_HUP, on_contact_command, account);
  run_until_terminated ();
  g_io_channel_unref (commands);
  return 0;
}

/* ---- The test's side: servers, the agent, the contact ---- */

typedef enum { NETWORK_IRC, NETWORK_XMPP } Network;

/* A libpurple process of this test (the bridge, or an XMPP contact). */
typedef struct {
  GSubprocess *process;
  GDataInputStream *output;
  GCancellable *cancel;
  const char *ready_line;
  gboolean ready;
  GPtrArray *heard;         /* texts after "heard\t", whole "notice\t..." and "received\t..." lines */
  guint typing;             /* "typing" lines */
  guint online;             /* "online" lines: the bridged account came online */
} Child;

typedef struct {
  Network network;
  PpmsServer *server;
  LocalServer *network_server;  /* ngircd or prosody */
  PpmsPeer *agent;
  IrcPal *irc_contact;
  Child *xmpp_contact;
  char *contact_dir;
  char *user_dir;
  char *link;
  int quiet_seconds;
  Child *core;
  char *conversation;       /* the contact's visitor conversation */
  char *visitor;            /* its visitor's uuid */
} Bridge;

#define XMPP_BRIDGE   "agent@" XMPP_DOMAIN "/bridge"
#define XMPP_BRIDGE_BARE "agent@" XMPP_DOMAIN
#define XMPP_CONTACT  "pal@" XMPP_DOMAIN "/tests"
#define XMPP_CONTACT_BARE "pal@" XMPP_DOMAIN

static void
on_child_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Child *child = data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, NULL);

  if (line == NULL)
    return;             /* the child is gone, or the test stopped listening */
  if (g_str_equal (line, child->ready_line))
    child->ready = TRUE;
  else if (g_str_equal (line, "typing"))
    child->typing++;
  else if (g_str_equal (line, "online"))
    child->online++;
  else if (g_str_has_prefix (line, "heard\t") || g_str_has_prefix (line, "notice\t")
           || g_str_has_prefix (line, "received\t"))
    g_ptr_array_add (child->heard, g_strdup (line + strlen (line[0] == 'h' ? "heard\t" : "")));
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT,
                                       child->cancel, on_child_line, child);
}

static void
die_with_test (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Runs this program with argv (after its own path) and waits for ready_line. */
static Child *
child_start (const char *const *argv, const char *ready_line)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr (GPtrArray) full = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  Child *child = g_new0 (Child, 1);

  g_ptr_array_add (full, self_path);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (char *) argv[i]);
  g_ptr_array_add (full, NULL);
  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  child->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) full->pdata,
                                                 &error);
  g_assert_no_error (error);
  child->ready_line = ready_line;
  child->heard = g_ptr_array_new_with_free_func (g_free);
  child->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child->process));
  child->cancel = g_cancellable_new ();
  g_data_input_stream_read_line_async (child->output, G_PRIORITY_DEFAULT, child->cancel,
                                       on_child_line, child);
  g_assert_true (HARNESS_WAIT_FOR (child->ready, WAIT_MS));
  return child;
}

static gboolean
child_gone (Child *child)
{
  return g_subprocess_get_identifier (child->process) == NULL;
}

/* SIGKILL: a crash, nothing written at the end; SIGTERM: a clean quit. */
static void
child_stop (Child *child, int signal)
{
  g_subprocess_send_signal (child->process, signal);
  g_assert_true (HARNESS_WAIT_FOR (child_gone (child), WAIT_MS));
  /* A clean quit ends well (under valgrind: no memory error, no leak). */
  if (signal == SIGTERM)
    g_assert_true (g_subprocess_get_successful (child->process));
  g_cancellable_cancel (child->cancel);
  g_object_unref (child->cancel);
  g_object_unref (child->output);
  g_object_unref (child->process);
  g_ptr_array_unref (child->heard);
  g_free (child);
}

static void
child_command (Child *child, const char *line)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (g_subprocess_get_stdin_pipe (child->process), line, strlen (line),
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
child_say (Child *child, const char *to, const char *text)
{
  g_autofree char *line = g_strdup_printf ("say\t%s\t%s\n", to, text);

  child_command (child, line);
}

/* The contact offers the bridged account a file with these bytes. */
static void
contact_sends_file (Bridge *b, const char *name, GBytes *content)
{
  g_autofree char *path = g_build_filename (b->contact_dir, name, NULL);
  g_autofree char *line = g_strdup_printf ("file\t%s\t%s\n", XMPP_BRIDGE, path);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                      (gssize) g_bytes_get_size (content), NULL));
  child_command (b->xmpp_contact, line);
}

static void
child_type (Child *child, const char *to)
{
  g_autofree char *line = g_strdup_printf ("typing\t%s\n", to);

  child_command (child, line);
}

static void
core_start (Bridge *b)
{
  gboolean irc = b->network == NETWORK_IRC;
  g_autofree char *port = g_strdup_printf ("%u", b->network_server->port);
  g_autofree char *quiet = g_strdup_printf ("%d", b->quiet_seconds);
  const char *argv[] = { "--bridge-core", b->user_dir, b->link,
                         irc ? "prpl-irc" : "prpl-jabber",
                         irc ? BRIDGE_NICK "@127.0.0.1" : XMPP_BRIDGE,
                         irc ? "" : XMPP_PASSWORD, port, quiet, NULL };
  guint online = b->xmpp_contact ? b->xmpp_contact->online : 0;

  b->core = child_start (argv, CORE_READY);
  /* The contact writes only to an account it sees online. */
  if (b->xmpp_contact != NULL)
    g_assert_true (HARNESS_WAIT_FOR (b->xmpp_contact->online > online, WAIT_MS));
}

static void
core_stop (Bridge *b, int signal)
{
  child_stop (g_steal_pointer (&b->core), signal);
  /* The next core signs in under the same nick. */
  if (b->irc_contact != NULL)
    irc_pal_wait_nick_free (b->irc_contact, BRIDGE_NICK);
}

static void
contact_start (Bridge *b)
{
  g_autofree char *port = g_strdup_printf ("%u", b->network_server->port);
  const char *argv[] = { "--contact", b->contact_dir, "prpl-jabber", XMPP_CONTACT,
                         XMPP_PASSWORD, port, NULL };

  if (b->network == NETWORK_IRC) {
    b->irc_contact = irc_pal_connect (b->network_server, CONTACT_NICK);
    return;
  }
  b->contact_dir = g_dir_make_tmp ("ppm-contact-XXXXXX", NULL);
  argv[1] = b->contact_dir;
  b->xmpp_contact = child_start (argv, CONTACT_READY);
}

/* The network's server, or NULL (the case is skipped) when not installed. */
static LocalServer *
network_server_start (Network network)
{
  g_autofree char *program = find_daemon (network == NETWORK_IRC ? "ngircd" : "prosody");

  if (program == NULL) {
    g_test_skip (network == NETWORK_IRC ? "ngircd is not installed (package: ngircd)"
                                        : "prosody is not installed (package: prosody)");
    return NULL;
  }
  return network == NETWORK_IRC ? irc_server_start (program) : xmpp_server_start (program);
}

static Bridge *
bridge_start (Network network, int quiet_seconds)
{
  LocalServer *network_server = network_server_start (network);
  Bridge *b;

  if (network_server == NULL)
    return NULL;
  b = g_new0 (Bridge, 1);
  b->network = network;
  b->network_server = network_server;
  /* Slower under valgrind, as the waits are (HARNESS_TIMEOUT_SCALE). */
  b->quiet_seconds = quiet_seconds * MAX (1, atoi (g_getenv ("HARNESS_TIMEOUT_SCALE") ?: "1"));
  b->server = server_start ();
  b->agent = colleague_start (b->server, AGENT_EMAIL, AGENT_PASSWORD);
  if (network == NETWORK_XMPP)
    xmpp_server_befriend (network_server, "agent", "pal");
  contact_start (b);
  b->user_dir = g_dir_make_tmp ("ppm-bridge-XXXXXX", NULL);
  b->link = ppms_server_enterprise_link (b->server);
  g_test_message ("the bridge's libpurple directory: %s", b->user_dir);
  core_start (b);
  return b;
}

static void
bridge_free (Bridge *b)
{
  if (b->core != NULL)
    core_stop (b, SIGTERM);
  if (b->irc_contact != NULL)
    irc_pal_free (b->irc_contact);
  if (b->xmpp_contact != NULL) {
    child_stop (b->xmpp_contact, SIGTERM);
    ppms_remove_tree (b->contact_dir);
  }
  ppms_peer_free (b->agent);
  local_server_free (b->network_server);
  ppms_server_free (b->server);
  ppms_remove_tree (b->user_dir);
  g_free (b->contact_dir);
  g_free (b->user_dir);
  g_free (b->link);
  g_free (b->conversation);
  g_free (b->visitor);
  g_free (b);
}

/* How many notices the bridge gave the user with this text. */
static guint
notices (Bridge *b, const char *text)
{
  guint count = 0;

  for (guint i = 0; i < b->core->heard->len; i++) {
    const char *line = g_ptr_array_index (b->core->heard, i);

    count += g_str_has_prefix (line, "notice\t") && strstr (line, text) != NULL;
  }
  return count;
}

/* How many messages the contact received from the bridge with this text. */
static guint
contact_heard (Bridge *b, const char *text)
{
  g_autofree char *expected = g_strdup_printf (BRIDGE_NICK " %s", text);
  GPtrArray *heard = b->irc_contact ? b->irc_contact->privmsgs : b->xmpp_contact->heard;
  guint count = 0;

  for (guint i = 0; i < heard->len; i++)
    count += g_strcmp0 (g_ptr_array_index (heard, i), b->irc_contact ? expected : text) == 0;
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

static void
contact_writes (Bridge *b, const char *text)
{
  if (b->irc_contact != NULL)
    irc_pal_say (b->irc_contact, BRIDGE_NICK, text);
  else
    child_say (b->xmpp_contact, XMPP_BRIDGE_BARE, text);
}

/* The contact writes; the agent gets it live, from the contact's visitor. */
static void
contact_says (Bridge *b, const char *text)
{
  const JsonObject *msg;

  contact_writes (b, text);
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

/* Typing both ways, where the network carries it (XMPP chat states). */
static void
assert_typing_both_ways (Bridge *b)
{
  ppms_peer_watch_typing (b->agent, b->conversation);
  child_type (b->xmpp_contact, XMPP_BRIDGE_BARE);
  g_assert_true (ppms_peer_wait_typing (b->agent, WAIT_MS));
  ppms_peer_send_typing (b->agent);
  g_assert_true (HARNESS_WAIT_FOR (b->xmpp_contact->typing > 0, WAIT_MS));
}

/* ---- The cases ---- */

static void  file_by_dcc (Bridge *b);
static void  file_by_dcc_broken_off (Bridge *b);
static guint team_has_subtype (Bridge *b, const char *subtype, const char **body);

static void
test_both_ways (gconstpointer network)
{
  Bridge *b;
  PpmsUser *visitor;

  if ((b = bridge_start (GPOINTER_TO_INT (network), 600)) == NULL)
    return;
  contact_says (b, "Hello from IRC");
  contact_says (b, "My order is late");
  /* What the agents see: the contact's name and network. */
  visitor = ppms_user_lookup (b->server, b->visitor);
  g_assert_nonnull (visitor);
  if (b->network == NETWORK_IRC) {
    g_assert_cmpstr (visitor->user_fullname, ==, CONTACT_NICK " (IRC)");
    g_assert_nonnull (strstr (visitor->user_signature, "IRC: " CONTACT_NICK));
    file_by_dcc (b);
    file_by_dcc_broken_off (b);
  } else {
    g_assert_cmpstr (visitor->user_fullname, ==, XMPP_CONTACT_BARE " (XMPP)");
    g_assert_nonnull (strstr (visitor->user_signature, "XMPP: " XMPP_CONTACT_BARE));
    assert_typing_both_ways (b);
  }
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
  /* The IRC contact's file, once. */
  g_assert_cmpuint (team_has_subtype (b, "FILE", NULL), ==, b->network == NETWORK_IRC);
  bridge_free (b);
}

static void
test_restart (gconstpointer network)
{
  Bridge *b;
  g_autofree char *reply = NULL;

  if ((b = bridge_start (GPOINTER_TO_INT (network), 600)) == NULL)
    return;
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
test_server_outage (gconstpointer network)
{
  Bridge *b;
  g_autoptr (GError) error = NULL;
  guint stored;

  if ((b = bridge_start (GPOINTER_TO_INT (network), 600)) == NULL)
    return;
  contact_says (b, "Before the outage");
  g_free (agent_says (b, "Answer before"));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Answer before") == 1, WAIT_MS));
  stored = ppms_server_count_messages (b->server, b->conversation);
  ppms_server_stop (b->server);
  contact_writes (b, "During the outage");
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
test_reply_while_closed (gconstpointer network)
{
  Bridge *b;

  if ((b = bridge_start (GPOINTER_TO_INT (network), 2)) == NULL)
    return;
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

/* A wrong team link: the user is told, once, and the contact's messages
 * wait in the state file. */
static void
test_wrong_team_link (gconstpointer network)
{
  Bridge *b;
  g_autofree char *json = g_strdup ("{\"uuid\": \"no-such-team\"}");
  g_autofree char *encoded = g_base64_encode ((const guchar *) json, strlen (json));

  if ((b = bridge_start (GPOINTER_TO_INT (network), 600)) == NULL)
    return;
  core_stop (b, SIGTERM);
  g_free (b->link);
  b->link = g_strdup_printf ("%s/ppcom/enterprise/%s", ppms_server_get_url (b->server), encoded);
  core_start (b);
  contact_writes (b, "Is anybody there?");
  g_assert_true (HARNESS_WAIT_FOR (notices (b, "The server has no team no-such-team") == 1,
                                   WAIT_MS));
  contact_writes (b, "Hello?");
  g_assert_true (HARNESS_WAIT_FOR (state_has (b, "to_team", "Hello?"), WAIT_MS));
  g_assert_true (state_has (b, "to_team", "Is anybody there?"));
  g_assert_cmpuint (notices (b, "The server has no team no-such-team"), ==, 1);
  bridge_free (b);
}

static gboolean
is_file_message (const JsonObject *msg, gpointer data)
{
  const char *subtype = json_object_get_string_member ((JsonObject *) msg, "ms");

  return g_strcmp0 (subtype, "IMAGE") == 0 || g_strcmp0 (subtype, "FILE") == 0;
}

/* How many messages of this subtype the server stored from the contact's
 * visitor; body (optional): the body of the newest. */
static guint
team_has_subtype (Bridge *b, const char *subtype, const char **body)
{
  GHashTableIter iter;
  gpointer value;
  PpmsMessage *newest = NULL;
  guint count = 0;

  g_hash_table_iter_init (&iter, b->server->messages);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    PpmsMessage *message = value;

    if (g_strcmp0 (message->conversation_uuid, b->conversation) == 0
        && g_strcmp0 (message->from_uuid, b->visitor) == 0
        && g_strcmp0 (message->message_subtype, subtype) == 0) {
      if (newest == NULL || message->seq > newest->seq)
        newest = message;
      count++;
    }
  }
  if (body != NULL && newest != NULL)
    *body = newest->body;
  return count;
}

/* The bridge's debug log (written every 200 ms) says this. */
static gboolean
core_logged (Bridge *b, const char *text)
{
  g_autofree char *path = g_build_filename (b->user_dir, "core.log", NULL);
  g_autofree char *log = NULL;

  return g_file_get_contents (path, &log, NULL, NULL) && strstr (log, text) != NULL;
}

/* How many entries a group of the contact's state file holds. */
static guint
state_count (Bridge *b, const char *group)
{
  g_autoptr (GPtrArray) states = load_states (b);
  guint count = 0;

  for (guint i = 0; i < states->len; i++) {
    g_auto (GStrv) keys = g_key_file_get_keys (states->pdata[i], group, NULL, NULL);

    count += keys ? g_strv_length (keys) : 0;
  }
  return count;
}

/* What is left in the bridge's directory of files from contacts. */
static guint
kept_files (Bridge *b)
{
  g_autofree char *dir = g_build_filename (b->user_dir, "ppmessage-bridge", "files", NULL);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  guint count = 0;

  while (listing != NULL && g_dir_read_name (listing) != NULL)
    count++;
  return count;
}

/* The path of the file the contact received, or NULL. */
static const char *
contact_received_file (Bridge *b)
{
  for (guint i = 0; i < b->xmpp_contact->heard->len; i++) {
    const char *line = g_ptr_array_index (b->xmpp_contact->heard, i);

    if (g_str_has_prefix (line, "received\t"))
      return line + strlen ("received\t");
  }
  return NULL;
}

/* The last line the contact got says this. */
static gboolean
contact_last_heard_has (Bridge *b, const char *text)
{
  GPtrArray *heard = b->xmpp_contact->heard;

  return heard->len > 0 && strstr (g_ptr_array_index (heard, heard->len - 1), text) != NULL;
}

/* The agent shares a file of these bytes under this name. */
static char *
agent_shares_file (Bridge *b, const char *name, GBytes *content)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fid = ppms_peer_upload_sync (b->agent, name, "text/plain", content, &error);
  g_autofree char *body = NULL;

  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"name\": \"%s\", \"mime\": \"text/plain\", "
                          "\"size\": %zu}", fid, name, g_bytes_get_size (content));
  g_free (ppms_peer_send_message (b->agent, b->conversation, "FILE", body));
  return g_steal_pointer (&fid);
}

/* The agent gets the contact's file from its visitor, as a message of
 * this subtype; its body (json_object_unref), whose member fid_member names
 * the stored file, which holds these very bytes. */
static JsonObject *
agent_gets_file (Bridge *b, const char *subtype, const char *fid_member, GBytes *content)
{
  const JsonObject *msg = ppms_peer_wait_message_match (b->agent, is_file_message, NULL, WAIT_MS);
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GBytes) stored = NULL;

  g_assert_nonnull (msg);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "ms"), ==, subtype);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "fi"), ==, b->visitor);
  body = message_body_object (msg);
  stored = server_file (b->server, json_object_get_string_member (body, fid_member));
  g_assert_true (g_bytes_equal (stored, content));
  return g_steal_pointer (&body);
}

/* A picture the contact sends reaches the agent as a picture (an IMAGE
 * message), with its very bytes; the bridge keeps no copy. */
static void
picture_to_team (Bridge *b)
{
  g_autoptr (GBytes) png = test_png (40, 30);
  g_autoptr (JsonObject) body = NULL;

  contact_sends_file (b, "parcel.png", png);
  body = agent_gets_file (b, "IMAGE", "orig", png);
  g_assert_cmpstr (json_object_get_string_member (body, "mime"), ==, "image/png");
  g_assert_true (HARNESS_WAIT_FOR (kept_files (b) == 0, WAIT_MS));
}

/* A file the IRC contact offers by DCC SEND: the bridge connects to the
 * contact, acknowledges every byte (the file spans many reads), and the
 * agent gets it as a file under its name, once; the bridge keeps no copy. */
static void
file_by_dcc (Bridge *b)
{
  g_autoptr (GString) note = g_string_new (NULL);
  g_autoptr (GBytes) content = NULL;
  g_autoptr (JsonObject) body = NULL;
  IrcDccOffer *offer;

  for (guint line = 1; line <= 4000; line++)
    g_string_append_printf (note, "Parcel %u: left the depot\n", line);
  content = g_bytes_new (note->str, note->len);
  offer = irc_pal_offer_file (b->irc_contact, BRIDGE_NICK, "delivery-note.txt", content);
  body = agent_gets_file (b, "FILE", "fid", content);
  g_assert_cmpstr (json_object_get_string_member (body, "name"), ==, "delivery-note.txt");
  g_assert_true (HARNESS_WAIT_FOR (offer->finished, WAIT_MS));
  g_assert_cmpuint (offer->acked, ==, note->len);
  g_assert_true (HARNESS_WAIT_FOR (kept_files (b) == 0, WAIT_MS));
  irc_dcc_offer_free (offer);
}

/* A DCC SEND broken off halfway: the contact is told, nothing reaches the
 * team, and the part received is deleted. */
static void
file_by_dcc_broken_off (Bridge *b)
{
  g_autoptr (GBytes) half = g_bytes_new_static ("the first half of it\n", 21);
  guint files = team_has_subtype (b, "FILE", NULL);
  IrcDccOffer *offer = irc_pal_offer_file_cut (b->irc_contact, BRIDGE_NICK, "broken.txt", half,
                                               2 * g_bytes_get_size (half));

  g_assert_true (HARNESS_WAIT_FOR (offer->finished, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (contact_heard (b, "Your file broken.txt did not reach the "
                                                  "team: the transfer broke off") == 1, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (kept_files (b) == 0, WAIT_MS));
  g_assert_cmpuint (team_has_subtype (b, "FILE", NULL), ==, files);
  irc_dcc_offer_free (offer);
}

/* An agent's file reaches the contact as a file, byte for byte, instead
 * of its link; one the bridge cannot fetch comes as its link. The bridge
 * keeps no copy. */
static void
file_to_contact (Bridge *b)
{
  g_autoptr (GBytes) content = g_bytes_new_static ("Invoice 1234: 3 parcels\n", 24);
  g_autofree char *unwanted_fid = NULL;
  g_autofree char *link = NULL;
  g_autofree char *saved = NULL;
  gsize saved_size = 0;

  g_free (agent_shares_file (b, "invoice.txt", content));
  g_assert_true (HARNESS_WAIT_FOR (contact_received_file (b) != NULL, WAIT_MS));
  g_assert_true (g_file_get_contents (contact_received_file (b), &saved, &saved_size, NULL));
  g_assert_cmpmem (saved, saved_size, g_bytes_get_data (content, NULL), 24);
  /* The file came instead of its link. */
  for (guint i = 0; i < b->xmpp_contact->heard->len; i++)
    g_assert_null (strstr (g_ptr_array_index (b->xmpp_contact->heard, i), "/download/"));
  ppms_server_set_http_fault (b->server, PPMS_FAULT_HTTP_500, "/download/", 1.0, 0, 0);
  unwanted_fid = agent_shares_file (b, "unwanted.txt", content);
  link = g_strdup_printf ("/download/download/%s", unwanted_fid);
  g_assert_true (HARNESS_WAIT_FOR (contact_last_heard_has (b, link), WAIT_MS));
  ppms_server_clear_faults (b->server);
  g_assert_true (HARNESS_WAIT_FOR (kept_files (b) == 0, WAIT_MS));
}

/* A file the team's server refuses: the contact is told, no copy is left. */
static void
file_refused (Bridge *b)
{
  g_autoptr (GBytes) content = g_bytes_new_static ("order 1234\n", 11);

  ppms_server_set_http_fault (b->server, PPMS_FAULT_HTTP_500, "/upload/", 1.0, 0, 0);
  contact_sends_file (b, "order.txt", content);
  g_assert_true (HARNESS_WAIT_FOR (
    contact_last_heard_has (b, "Your file order.txt did not reach the team"), WAIT_MS));
  ppms_server_clear_faults (b->server);
  g_assert_true (HARNESS_WAIT_FOR (kept_files (b) == 0, WAIT_MS));
}

/* A picture complete while the server is down waits in the contact's
 * state, survives a crash of Pidgin and reaches the team once when both
 * are back. */
static void
picture_across_crash (Bridge *b)
{
  g_autoptr (GBytes) png = test_png (30, 20);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GBytes) stored = NULL;
  const char *stored_body = NULL;
  guint images = team_has_subtype (b, "IMAGE", NULL);
  g_autofree char *half_file = g_build_filename (b->user_dir, "ppmessage-bridge", "files",
                                                 "cut-off-by-the-crash", NULL);

  ppms_server_stop (b->server);
  contact_sends_file (b, "later.png", png);
  g_assert_true (HARNESS_WAIT_FOR (state_count (b, "files_to_team") == 1, WAIT_MS));
  /* It tried, and kept the file for the next try. */
  g_assert_true (HARNESS_WAIT_FOR (core_logged (b, "not with the team yet"), WAIT_MS));
  core_stop (b, SIGKILL);
  /* A receive the crash cut off leaves its part behind: the restart
   * deletes it (kept_files below), and keeps the picture waiting. */
  g_assert_true (g_file_set_contents (half_file, "half a file", -1, NULL));
  g_assert_true (ppms_server_restart (b->server, &error));
  g_assert_no_error (error);
  core_start (b);
  g_assert_true (HARNESS_WAIT_FOR (team_has_subtype (b, "IMAGE", &stored_body) == images + 1,
                                   WAIT_MS));
  body = json_from_string (stored_body, NULL);
  g_assert_nonnull (body);
  stored = server_file (b->server, json_object_get_string_member (json_node_get_object (body),
                                                                  "orig"));
  g_assert_true (g_bytes_equal (stored, png));
  g_assert_true (HARNESS_WAIT_FOR (kept_files (b) == 0 && state_count (b, "files_to_team") == 0,
                                   WAIT_MS));
  ppms_peer_close (b->agent);
  g_assert_true (ppms_peer_start_sync (b->agent, &error));
  g_assert_no_error (error);
}

/* Files both ways over XMPP's file transfer, each once (an IRC
 * contact's DCC SEND is in /bridge/irc/both-ways; an agent's file would
 * need the IRC contact's client to accept a connection: it goes as a
 * link). */
static void
test_files (gconstpointer network)
{
  Bridge *b;

  if ((b = bridge_start (GPOINTER_TO_INT (network), 600)) == NULL)
    return;
  contact_says (b, "A picture of the parcel follows");
  picture_to_team (b);
  file_to_contact (b);
  file_refused (b);
  picture_across_crash (b);
  assert_once_each (b, (const char *[]) { "A picture of the parcel follows", NULL },
                    (const char *[]) { NULL });
  g_assert_cmpuint (team_has_subtype (b, "IMAGE", NULL), ==, 2);
  g_assert_cmpuint (team_has_subtype (b, "FILE", NULL), ==, 0);
  bridge_free (b);
}

int
main (int argc, char **argv)
{
  if (argc == 9 && g_str_equal (argv[1], "--bridge-core"))
    return run_core (argv[2], argv[3], argv[4], argv[5], argv[6], (guint) atoi (argv[7]),
                     atoi (argv[8]));
  if (argc == 7 && g_str_equal (argv[1], "--contact"))
    return run_contact (argv[2], argv[3], argv[4], argv[5], (guint) atoi (argv[6]));
  self_path = g_canonicalize_filename (argv[0], NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/bridge/irc/both-ways", GINT_TO_POINTER (NETWORK_IRC), test_both_ways);
  g_test_add_data_func ("/bridge/irc/restart", GINT_TO_POINTER (NETWORK_IRC), test_restart);
  g_test_add_data_func ("/bridge/irc/server-outage", GINT_TO_POINTER (NETWORK_IRC),
                        test_server_outage);
  g_test_add_data_func ("/bridge/irc/reply-while-closed", GINT_TO_POINTER (NETWORK_IRC),
                        test_reply_while_closed);
  g_test_add_data_func ("/bridge/irc/wrong-team-link", GINT_TO_POINTER (NETWORK_IRC),
                        test_wrong_team_link);
  /* XMPP: the same exchange through another protocol (its contacts write
   * from a resource: one visitor per bare address). Restarts, outages and
   * closed sessions are the bridge's own and run once, on IRC, to keep the
   * suite short. */
  g_test_add_data_func ("/bridge/xmpp/both-ways", GINT_TO_POINTER (NETWORK_XMPP),
                        test_both_ways);
  g_test_add_data_func ("/bridge/xmpp/files", GINT_TO_POINTER (NETWORK_XMPP), test_files);
  return g_test_run ();
}
