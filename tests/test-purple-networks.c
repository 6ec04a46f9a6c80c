/* test-purple-networks.c: the plugin next to other networks in one libpurple
 * process, as in a real Pidgin: two PPMessage agent accounts on two test
 * servers and an IRC account (libpurple's own prpl-irc) on a real local IRC
 * server (ngircd, started here on a free loopback port with a throw-away
 * configuration). All three chat at the same time; then one PPMessage server
 * goes down, and the other PPMessage account and the IRC account must keep
 * working while the orphaned account reports a network error (which makes
 * Pidgin retry) and signs in again once its server is back.
 *
 * The IRC side: a second IRC user is a raw socket client in this test.
 * Skipped cleanly when ngircd is not installed or prpl-irc is not available.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "purple-harness.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

/* libpurple keeps one account per user name and protocol: each server has
 * its own agent. */
#define AGENT_ONE      "alice@one.ppmessage.local"
#define AGENT_TWO      "bob@two.ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define IRC_OWN_NICK   "ppmagent"
#define IRC_PAL_NICK   "ircpal"
#define WAIT_MS        20000
/* Stopping a server: the websocket is retried after 1, 2 and 4 s first. */
#define GIVE_UP_MS     60000

/* A team with one agent (printf format: team name, e-mail). */
static const char TEAM_SEED_FORMAT[] =
  "{\"app\": {\"app_name\": \"%s\"},"
  " \"users\": ["
  "  {\"user_email\": \"%s\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Agent of %s\", \"user_status\": \"OWNER_2\","
  "   \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

/* ---- A local IRC server (ngircd) ---- */

typedef struct {
  GSubprocess *process;
  GDataInputStream *output;
  GCancellable *cancel;
  GString *log;
  guint port;
  gboolean ready;           /* it said it listens */
  gboolean output_closed;
  char *dir;
} IrcServer;

static char *
find_ngircd (void)
{
  char *path = g_find_program_in_path ("ngircd");

  /* Debian puts it in /usr/sbin, which a plain user's PATH lacks. */
  if (path == NULL && g_file_test ("/usr/sbin/ngircd", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/sbin/ngircd");
  return path;
}

/* A loopback port nobody listens on right now. */
static guint
free_loopback_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
irc_server_read_line (IrcServer *irc);

static void
on_irc_server_line (GObject *source, GAsyncResult *result, gpointer data)
{
  IrcServer *irc = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;             /* irc may be gone */
  if (line == NULL) {
    irc->output_closed = TRUE;
    return;
  }
  g_string_append_printf (irc->log, "%s\n", line);
  if (strstr (line, "Now listening on") != NULL)
    irc->ready = TRUE;
  irc_server_read_line (irc);
}

static void
irc_server_read_line (IrcServer *irc)
{
  g_data_input_stream_read_line_async (irc->output, G_PRIORITY_DEFAULT, irc->cancel,
                                       on_irc_server_line, irc);
}

static void
write_ngircd_config (IrcServer *irc, const char *path)
{
  g_autofree char *include_dir = g_build_filename (irc->dir, "conf.d", NULL);
  g_autofree char *config = g_strdup_printf (
    "[Global]\n"
    "Name = irc.ppm.test\n"
    "Info = purple-ppmessage test network\n"
    "AdminInfo1 = purple-ppmessage tests\n"
    "AdminInfo2 = loopback only\n"
    "AdminEMail = nobody@ppm.test\n"
    "Listen = 127.0.0.1\n"
    "Ports = %u\n"
    "MotdPhrase = \"A throw-away network for tests\"\n"
    "IncludeDir = %s\n"      /* not the system's /etc/ngircd/ngircd.conf.d */
    "[Options]\n"
    "DNS = no\n"
    "Ident = no\n"
    "PAM = no\n", irc->port, include_dir);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir (include_dir, 0755), ==, 0);
  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
}

static gboolean
irc_server_settled (gpointer data)
{
  IrcServer *irc = data;

  return irc->ready || irc->output_closed;
}

/* ngircd gets SIGTERM when this test dies (a failed assertion aborts). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
process_gone (GSubprocess *process)
{
  return g_subprocess_get_identifier (process) == NULL;
}

static void
irc_server_free (IrcServer *irc)
{
  g_subprocess_send_signal (irc->process, SIGTERM);
  if (!HARNESS_WAIT_FOR (process_gone (irc->process), WAIT_MS))
    g_subprocess_force_exit (irc->process);
  g_cancellable_cancel (irc->cancel);
  g_object_unref (irc->cancel);
  g_object_unref (irc->output);
  g_object_unref (irc->process);
  g_string_free (irc->log, TRUE);
  {
    g_autofree char *config = g_build_filename (irc->dir, "ngircd.conf", NULL);
    g_autofree char *include_dir = g_build_filename (irc->dir, "conf.d", NULL);

    g_unlink (config);
    g_rmdir (include_dir);
    g_rmdir (irc->dir);
  }
  g_free (irc->dir);
  g_free (irc);
}

/* Starts ngircd in the foreground (-n) on a free port; its log tells when it
 * listens. NULL (log appended to failures) when it did not come up. */
static IrcServer *
irc_server_try_start (const char *ngircd, GString *failures)
{
  IrcServer *irc = g_new0 (IrcServer, 1);
  g_autofree char *config = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  GInputStream *stdout_pipe;

  irc->dir = g_dir_make_tmp ("ppm-ngircd-XXXXXX", NULL);
  g_assert_nonnull (irc->dir);
  irc->port = free_loopback_port ();
  irc->log = g_string_new (NULL);
  irc->cancel = g_cancellable_new ();
  config = g_build_filename (irc->dir, "ngircd.conf", NULL);
  write_ngircd_config (irc, config);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  irc->process = g_subprocess_launcher_spawn (launcher, &error, ngircd, "-n", "-f", config, NULL);
  g_assert_no_error (error);
  stdout_pipe = g_subprocess_get_stdout_pipe (irc->process);
  irc->output = g_data_input_stream_new (stdout_pipe);
  irc_server_read_line (irc);
  if (!HARNESS_WAIT_FOR (irc_server_settled (irc), WAIT_MS) || !irc->ready) {
    g_string_append (failures, irc->log->str);
    irc_server_free (irc);
    return NULL;
  }
  return irc;
}

/* The free port may be taken before ngircd binds it: a few attempts. */
static IrcServer *
irc_server_start (const char *ngircd)
{
  g_autoptr (GString) failures = g_string_new (NULL);
  IrcServer *irc = NULL;

  for (guint attempt = 0; attempt < 3 && irc == NULL; attempt++)
    irc = irc_server_try_start (ngircd, failures);
  if (irc == NULL)
    g_error ("ngircd did not start:\n%s", failures->str);
  return irc;
}

/* ---- A second IRC user: a raw socket client ---- */

typedef struct {
  GSocketConnection *connection;
  GDataInputStream *input;
  GCancellable *cancel;
  GPtrArray *privmsgs;      /* "sender text" of every PRIVMSG received */
  gboolean registered;      /* got 001 */
  gboolean closed;
} IrcPal;

static void
irc_pal_send (IrcPal *pal, const char *line)
{
  g_autofree char *wire = g_strdup_printf ("%s\r\n", line);
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (pal->connection)),
                             wire, strlen (wire), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* ":nick!user@host PRIVMSG target :text" -> "nick text". */
static void
irc_pal_note_privmsg (IrcPal *pal, const char *line)
{
  const char *bang = strchr (line, '!');
  const char *text = strstr (line, " :");

  if (line[0] != ':' || bang == NULL || text == NULL || bang > text)
    return;
  g_ptr_array_add (pal->privmsgs, g_strdup_printf ("%.*s %s", (int) (bang - line - 1), line + 1,
                                                   text + 2));
}

static void irc_pal_read_line (IrcPal *pal);

static void
on_irc_pal_line (GObject *source, GAsyncResult *result, gpointer data)
{
  IrcPal *pal = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);
  char **words;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;             /* pal may be gone */
  if (line == NULL) {
    pal->closed = TRUE;
    return;
  }
  g_strchomp (line);    /* the \r of \r\n */
  words = g_strsplit (line, " ", 3);
  if (g_strcmp0 (words[0], "PING") == 0) {
    g_autofree char *pong = g_strdup_printf ("PONG %s", words[1] != NULL ? words[1] : "");

    irc_pal_send (pal, pong);
  } else if (g_strcmp0 (words[1], "001") == 0) {
    pal->registered = TRUE;
  } else if (g_strcmp0 (words[1], "PRIVMSG") == 0) {
    irc_pal_note_privmsg (pal, line);
  }
  g_strfreev (words);
  irc_pal_read_line (pal);
}

static void
irc_pal_read_line (IrcPal *pal)
{
  g_data_input_stream_read_line_async (pal->input, G_PRIORITY_DEFAULT, pal->cancel,
                                       on_irc_pal_line, pal);
}

static IrcPal *
irc_pal_connect (IrcServer *irc, const char *nick)
{
  IrcPal *pal = g_new0 (IrcPal, 1);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *nick_line = g_strdup_printf ("NICK %s", nick);
  g_autofree char *user_line = g_strdup_printf ("USER %s 0 * :IRC pal of the tests", nick);

  pal->connection = g_socket_client_connect_to_host (client, "127.0.0.1", irc->port, NULL, &error);
  g_assert_no_error (error);
  pal->input = g_data_input_stream_new (
    g_io_stream_get_input_stream (G_IO_STREAM (pal->connection)));
  g_data_input_stream_set_newline_type (pal->input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  pal->cancel = g_cancellable_new ();
  pal->privmsgs = g_ptr_array_new_with_free_func (g_free);
  irc_pal_read_line (pal);
  irc_pal_send (pal, nick_line);
  irc_pal_send (pal, user_line);
  g_assert_true (HARNESS_WAIT_FOR (pal->registered || pal->closed, WAIT_MS));
  g_assert_true (pal->registered);
  return pal;
}

static void
irc_pal_say (IrcPal *pal, const char *to, const char *text)
{
  g_autofree char *line = g_strdup_printf ("PRIVMSG %s :%s", to, text);

  irc_pal_send (pal, line);
}

static gboolean
irc_pal_heard (IrcPal *pal, const char *from, const char *text)
{
  g_autofree char *expected = g_strdup_printf ("%s %s", from, text);

  for (guint i = 0; i < pal->privmsgs->len; i++)
    if (g_strcmp0 (g_ptr_array_index (pal->privmsgs, i), expected) == 0)
      return TRUE;
  return FALSE;
}

static void
irc_pal_free (IrcPal *pal)
{
  irc_pal_send (pal, "QUIT :done");
  g_cancellable_cancel (pal->cancel);
  g_io_stream_close (G_IO_STREAM (pal->connection), NULL, NULL);
  g_object_unref (pal->cancel);
  g_object_unref (pal->input);
  g_object_unref (pal->connection);
  g_ptr_array_unref (pal->privmsgs);
  g_free (pal);
}

/* ---- PPMessage side ---- */

static PpmsServer *
server_start (const char *team, const char *agent_email)
{
  GError *error = NULL;
  g_autofree char *seed = g_strdup_printf (TEAM_SEED_FORMAT, team, agent_email, team);
  PpmsServer *server = ppms_server_new_from_data (seed, &error);

  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (server, 0, &error));
  g_assert_no_error (error);
  ppms_server_set_timer_scale (server, 0.05);
  return server;
}

static void
visitor_says (PpmsPeer *visitor, const char *text)
{
  g_autofree char *uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                                               text);
  int code = -1;

  g_assert_nonnull (uuid);
  g_assert_true (ppms_peer_wait_ack (visitor, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
}

static PpmsPeer *
visitor_start (PpmsServer *server)
{
  GError *error = NULL;
  PpmsPeer *visitor = ppms_peer_new_visitor (ppms_server_get_url (server),
                                             ppms_server_app_uuid (server),
                                             ppms_server_ppcom_key (server),
                                             ppms_server_ppcom_secret (server), NULL);

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  /* A conversation shows in the agents' lists from its first message on. */
  visitor_says (visitor, "Hello, anyone there?");
  return visitor;
}

static PurpleAccount *
agent_sign_in (PpmsServer *server, const char *email, PpmsPeer *visitor)
{
  PurpleAccount *account = harness_add_account (ppms_server_get_url (server), email,
                                                AGENT_PASSWORD);

  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS))
    g_error ("the agent did not sign in to %s", ppms_server_get_url (server));
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  return account;
}

static PurpleAccount *
irc_sign_in (IrcServer *irc)
{
  PurpleAccount *account = purple_account_new (IRC_OWN_NICK "@127.0.0.1", "prpl-irc");

  purple_account_set_int (account, "port", (int) irc->port);
  purple_account_set_bool (account, "ssl", FALSE);
  purple_accounts_add (account);
  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS)) {
    const HarnessError *error = harness_find_error (account);

    g_error ("the IRC account did not sign in: %s\n%s",
             error != NULL ? error->text : "timeout", irc->log->str);
  }
  return account;
}

/* Sends from libpurple, as the Pidgin user typing into an IM window. */
static void
im_send (PurpleAccount *account, const char *who, const char *text)
{
  PurpleConversation *conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who,
                                                                    account);

  if (conv == NULL)
    conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  purple_conv_im_send (PURPLE_CONV_IM (conv), text);
}

static gboolean
received (PurpleAccount *account, const char *who, const char *text)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (writes, i);

    if (w->account == account && (w->flags & PURPLE_MESSAGE_RECV)
        && g_strcmp0 (w->conversation, who) == 0 && strstr (w->text, text) != NULL)
      return TRUE;
  }
  return FALSE;
}

static void
wait_received (PurpleAccount *account, const char *who, const char *text)
{
  if (!HARNESS_WAIT_FOR (received (account, who, text), WAIT_MS))
    g_error ("%s did not receive \"%s\" from %s", purple_account_get_username (account), text,
             who);
}

typedef struct {
  PpmsServer *server_one, *server_two;
  IrcServer *irc_server;
  PurpleAccount *one, *two, *irc;
  PpmsPeer *visitor_one, *visitor_two;
  IrcPal *pal;
} Networks;

/* One round of chatting on the accounts still expected to work: everybody
 * writes first, then everybody answers, then every message is checked. */
static void
chat_round (Networks *n, gboolean with_one, const char *tag)
{
  g_autofree char *to_one = g_strdup_printf ("Visitor one, %s", tag);
  g_autofree char *to_two = g_strdup_printf ("Visitor two, %s", tag);
  g_autofree char *to_irc = g_strdup_printf ("IRC pal, %s", tag);
  g_autofree char *reply_one = g_strdup_printf ("Agent on server one, %s", tag);
  g_autofree char *reply_two = g_strdup_printf ("Agent on server two, %s", tag);
  g_autofree char *reply_irc = g_strdup_printf ("Agent on IRC, %s", tag);

  if (with_one)
    visitor_says (n->visitor_one, to_one);
  visitor_says (n->visitor_two, to_two);
  irc_pal_say (n->pal, IRC_OWN_NICK, to_irc);

  if (with_one)
    wait_received (n->one, ppms_peer_user_uuid (n->visitor_one), to_one);
  wait_received (n->two, ppms_peer_user_uuid (n->visitor_two), to_two);
  wait_received (n->irc, IRC_PAL_NICK, to_irc);

  if (with_one)
    im_send (n->one, ppms_peer_user_uuid (n->visitor_one), reply_one);
  im_send (n->two, ppms_peer_user_uuid (n->visitor_two), reply_two);
  im_send (n->irc, IRC_PAL_NICK, reply_irc);

  if (with_one)
    g_assert_nonnull (ppms_peer_wait_message (n->visitor_one, reply_one, WAIT_MS));
  g_assert_nonnull (ppms_peer_wait_message (n->visitor_two, reply_two, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (irc_pal_heard (n->pal, IRC_OWN_NICK, reply_irc), WAIT_MS));
  /* Nothing crossed over between the networks. */
  g_assert_cmpuint (harness_count_writes (n->two, to_irc), ==, 0);
  g_assert_cmpuint (harness_count_writes (n->irc, to_two), ==, 0);
  if (with_one) {
    g_assert_cmpuint (harness_count_writes (n->one, to_two), ==, 0);
    g_assert_cmpuint (harness_count_writes (n->two, to_one), ==, 0);
  }
}

static void
assert_still_fine (PurpleAccount *account)
{
  g_assert_true (purple_account_is_connected (account));
  g_assert_null (harness_find_error (account));
}

/* Why the test cannot run here, or NULL. */
static const char *
skip_reason (char **ngircd)
{
  *ngircd = find_ngircd ();
  if (*ngircd == NULL)
    return "ngircd is not installed (package: ngircd)";
  if (purple_find_prpl ("prpl-irc") == NULL)
    return "libpurple's IRC protocol (prpl-irc) is not available";
  return NULL;
}

/* Both PPMessage servers and the IRC server up, every account signed in,
 * and a first round of chatting on all three at once. */
static void
networks_start (Networks *n, const char *ngircd)
{
  n->server_one = server_start ("Team One", AGENT_ONE);
  n->server_two = server_start ("Team Two", AGENT_TWO);
  n->irc_server = irc_server_start (ngircd);
  n->visitor_one = visitor_start (n->server_one);
  n->visitor_two = visitor_start (n->server_two);
  n->one = agent_sign_in (n->server_one, AGENT_ONE, n->visitor_one);
  n->two = agent_sign_in (n->server_two, AGENT_TWO, n->visitor_two);
  n->irc = irc_sign_in (n->irc_server);
  n->pal = irc_pal_connect (n->irc_server, IRC_PAL_NICK);
  chat_round (n, TRUE, "all three at once");
}

static void
networks_stop (Networks *n)
{
  irc_pal_free (n->pal);
  harness_disconnect (n->irc);
  harness_disconnect (n->one);
  harness_disconnect (n->two);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (n->one)
                                   && purple_account_is_disconnected (n->two)
                                   && purple_account_is_disconnected (n->irc), WAIT_MS));
  ppms_peer_free (n->visitor_one);
  ppms_peer_free (n->visitor_two);
  irc_server_free (n->irc_server);
  ppms_server_free (n->server_one);
  ppms_server_free (n->server_two);
}

/* The visitor's page reconnects by itself; the test peer does it by hand. */
static void
visitor_reconnects (PpmsPeer *visitor)
{
  GError *error = NULL;

  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
}

static void
test_one_server_down (void)
{
  g_autofree char *ngircd = NULL;
  const char *skip = skip_reason (&ngircd);
  Networks n = { 0 };
  GError *error = NULL;
  const HarnessError *lost;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  networks_start (&n, ngircd);

  /* Server one goes down. While its account tries to get back (and after it
   * gave up), the other accounts chat on undisturbed. */
  ppms_server_stop (n.server_one);
  chat_round (&n, FALSE, "while server one is down");
  if (!HARNESS_WAIT_FOR (harness_find_error (n.one) != NULL, GIVE_UP_MS))
    g_error ("the account of the stopped server reported nothing");
  lost = harness_find_error (n.one);
  g_assert_cmpint (lost->reason, ==, PURPLE_CONNECTION_ERROR_NETWORK_ERROR);
  g_assert_false (purple_connection_error_is_fatal (lost->reason)); /* Pidgin retries */
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (n.one), WAIT_MS));
  chat_round (&n, FALSE, "after server one was given up");
  assert_still_fine (n.two);
  assert_still_fine (n.irc);

  /* Server one is back: the account signs in again (as Pidgin's reconnect
   * does) and catches up with what its visitor wrote meanwhile. */
  g_assert_true (ppms_server_restart (n.server_one, &error));
  g_assert_no_error (error);
  visitor_reconnects (n.visitor_one);
  visitor_says (n.visitor_one, "Are you back?");
  harness_connect (n.one);
  /* (harness_wait_connected would stop at the error reported earlier.) */
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_connected (n.one), WAIT_MS));
  wait_received (n.one, ppms_peer_user_uuid (n.visitor_one), "Are you back?");
  chat_round (&n, TRUE, "all three again");
  assert_still_fine (n.two);
  assert_still_fine (n.irc);

  networks_stop (&n);
}

/* A short outage (the server is back before the library gives up): the
 * account repairs its connection by itself, without an error, and what its
 * visitor wrote meanwhile arrives once. The other accounts never notice. */
static void
test_one_server_blips (void)
{
  g_autofree char *ngircd = NULL;
  const char *skip = skip_reason (&ngircd);
  Networks n = { 0 };
  GError *error = NULL;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  networks_start (&n, ngircd);

  ppms_server_stop (n.server_one);
  g_assert_true (ppms_server_restart (n.server_one, &error));
  g_assert_no_error (error);
  visitor_reconnects (n.visitor_one);
  visitor_says (n.visitor_one, "Did you see my message?");
  wait_received (n.one, ppms_peer_user_uuid (n.visitor_one), "Did you see my message?");
  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (n.server_one) == 2, WAIT_MS));
  chat_round (&n, TRUE, "after the blip");
  g_assert_cmpuint (harness_count_writes (n.one, "Did you see my message?"), ==, 1);
  assert_still_fine (n.one);
  assert_still_fine (n.two);
  assert_still_fine (n.irc);

  networks_stop (&n);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/networks/one-server-down", test_one_server_down);
  harness_add_test ("/purple/networks/one-server-blips", test_one_server_blips);
  return g_test_run ();
}
