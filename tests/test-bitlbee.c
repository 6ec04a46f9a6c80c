/* test-bitlbee.c: the built plugin in Debian's BitlBee (bitlbee-libpurple),
 * driven as a person drives it: a scripted IRC client registers with
 * BitlBee, adds a PPMessage agent account with `account add` and `account
 * set`, and chats with a visitor and a colleague of the test server.
 *
 * BitlBee runs as Debian's bitlbee.socket runs it: in inetd mode (-I) on a
 * connection accepted from a loopback listener bound to port 0, so the port
 * is free by construction. Its configuration is private (a throw-away
 * ConfigDir), and the plugin is found where BitlBee looks besides libpurple's
 * own directory: <PluginDir>/purple.
 *
 * Skipped when BitlBee is not installed (package bitlbee-libpurple). Under
 * SANITIZE=1 skipped like the Finch and Pidgin tests: an instrumented plugin
 * cannot be loaded into an uninstrumented BitlBee.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#define BITLBEE        "/usr/sbin/bitlbee"
#define OWN_NICK       "tester"
#define AGENT_EMAIL    "alice@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define BOB_EMAIL      "bob@ppmessage.local"
#define BOB_PASSWORD   "bobpass"
#define WAIT_MS        20000

/* Alice is the account in BitlBee; Bob is her colleague. */
static const char TEAM_SEED[] =
  "{\"app\": {\"app_name\": \"Acme Support\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"user_status\": \"OWNER_2\","
  "   \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB_EMAIL "\", \"password\": \"" BOB_PASSWORD "\","
  "   \"user_fullname\": \"Bob Colleague\", \"is_service_user\": true}"
  " ]}";

typedef struct {
  char *dir;                 /* private configuration and plugin directory */
  GSubprocess *process;
  GSocketConnection *irc;    /* the IRC user's side */
  GDataInputStream *input;
  GCancellable *cancel;
  GPtrArray *lines;          /* everything BitlBee sent, in order */
  gboolean closed;
  gboolean exited;
  guint pings;
} Bitlbee;

static gboolean
bitlbee_missing (void)
{
  if (g_strcmp0 (g_getenv ("SANITIZE"), "1") == 0) {
    g_test_skip ("an ASan build of the plugin cannot be loaded into BitlBee");
    return TRUE;
  }
  if (!g_file_test (BITLBEE, G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip ("BitlBee is not installed (package bitlbee-libpurple)");
    return TRUE;
  }
  return FALSE;
}

static char *
built_plugin (void)
{
  const char *dir = g_getenv ("PLUGIN_DIR");
  g_autofree char *relative = g_build_filename (dir != NULL && *dir != '\0' ? dir : "build",
                                                "libppmessage.so", NULL);

  return g_canonicalize_filename (relative, NULL);
}

static void
write_file (const char *path, const char *contents)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
irc_send (Bitlbee *bl, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
irc_send (Bitlbee *bl, const char *format, ...)
{
  va_list args;
  g_autofree char *line = NULL;
  g_autofree char *wire = NULL;
  g_autoptr (GError) error = NULL;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  wire = g_strconcat (line, "\r\n", NULL);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (bl->irc)), wire,
                             strlen (wire), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* A command in BitlBee's control channel. */
#define CONTROL(bl, ...) irc_send (bl, "PRIVMSG &bitlbee :" __VA_ARGS__)

static void irc_read_line (Bitlbee *bl);

static void
on_irc_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Bitlbee *bl = data;
  g_autoptr (GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                          NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;             /* bl may be gone */
  if (line == NULL) {
    bl->closed = TRUE;
    return;
  }
  g_strchomp (line);    /* the \r of \r\n */
  if (g_test_verbose ())
    g_printerr ("irc< %s\n", line);
  if (g_str_has_prefix (line, "PING "))
    irc_send (bl, "PONG %s", line + 5);
  g_ptr_array_add (bl->lines, line);
  irc_read_line (bl);
}

static void
irc_read_line (Bitlbee *bl)
{
  g_data_input_stream_read_line_async (bl->input, G_PRIORITY_DEFAULT, bl->cancel, on_irc_line, bl);
}

typedef struct {
  Bitlbee *bl;
  const char *text;
  guint from;
} LineSearch;

/* Index of the first line from `from` on that contains text, or -1. */
static int
find_line (Bitlbee *bl, const char *text, guint from)
{
  for (guint i = from; i < bl->lines->len; i++)
    if (strstr (g_ptr_array_index (bl->lines, i), text) != NULL)
      return (int) i;
  return -1;
}

static guint
count_lines (Bitlbee *bl, const char *text)
{
  guint count = 0;

  for (guint i = 0; i < bl->lines->len; i++)
    if (strstr (g_ptr_array_index (bl->lines, i), text) != NULL)
      count++;
  return count;
}

static gboolean
line_arrived (gpointer data)
{
  LineSearch *search = data;

  return search->bl->closed || find_line (search->bl, search->text, search->from) >= 0;
}

/* Waits for a line containing text (from line `from` on); returns its index
 * or fails the test with everything BitlBee said. */
static guint
wait_line_from (Bitlbee *bl, const char *text, guint from)
{
  LineSearch search = { bl, text, from };
  int found;

  ppms_wait_until (line_arrived, &search, WAIT_MS);
  found = find_line (bl, text, from);
  if (found < 0) {
    GString *said = g_string_new (NULL);

    for (guint i = 0; i < bl->lines->len; i++)
      g_string_append_printf (said, "%s\n", (char *) g_ptr_array_index (bl->lines, i));
    g_error ("BitlBee did not say \"%s\"%s; it said:\n%s", text,
             bl->closed ? " (connection closed)" : "", said->str);
  }
  return (guint) found;
}

typedef struct {
  Bitlbee *bl;
  const char *sender;
  const char *text;
} SenderSearch;

static gboolean
sender_said (gpointer data)
{
  SenderSearch *search = data;

  for (guint i = 0; i < search->bl->lines->len; i++) {
    const char *line = g_ptr_array_index (search->bl->lines, i);

    if (g_str_has_prefix (line, search->sender) && strstr (line, search->text) != NULL)
      return TRUE;
  }
  return search->bl->closed;
}

/* Whether a line from sender (":nick!") containing text arrives in time. */
static gboolean
line_arrives (Bitlbee *bl, const char *sender, const char *text, guint timeout_ms)
{
  SenderSearch search = { bl, sender, text };

  return ppms_wait_until (sender_said, &search, timeout_ms) && !bl->closed;
}

static guint
wait_line (Bitlbee *bl, const char *text)
{
  return wait_line_from (bl, text, 0);
}

/* Every line BitlBee sends because of what came before this call has
 * arrived once it answers a PING sent now: BitlBee handles one thing at a
 * time. Returns the number of lines then. */
static guint
irc_sync (Bitlbee *bl)
{
  g_autofree char *token = g_strdup_printf ("sync-%u", ++bl->pings);
  g_autofree char *pong = g_strdup_printf ("PONG localhost :%s", token);

  irc_send (bl, "PING :%s", token);
  return wait_line (bl, pong);
}

/* BitlBee gets SIGTERM when this test dies (a failed assertion aborts). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* A callback on the main context, so a wait for the exit wakes up. */
static void
on_bitlbee_exit (GObject *process, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (process), result, NULL);
  ((Bitlbee *) data)->exited = TRUE;
}

/* Starts BitlBee with a private configuration on a connection accepted from
 * a loopback listener on port 0, and registers as OWN_NICK. */
static Bitlbee *
bitlbee_start (void)
{
  Bitlbee *bl = g_new0 (Bitlbee, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) accepted = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autofree char *plugin = built_plugin ();
  g_autofree char *purple_dir = NULL, *plugin_link = NULL, *config_dir = NULL;
  g_autofree char *config = NULL, *config_text = NULL;
  int fd;

  bl->dir = g_dir_make_tmp ("ppm-bitlbee-XXXXXX", &error);
  g_assert_no_error (error);
  purple_dir = g_build_filename (bl->dir, "plugins", "purple", NULL);
  config_dir = g_build_filename (bl->dir, "config", NULL);
  g_assert_cmpint (g_mkdir_with_parents (purple_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (config_dir, 0700), ==, 0);
  plugin_link = g_build_filename (purple_dir, "libppmessage.so", NULL);
  g_assert_true (g_file_test (plugin, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (symlink (plugin, plugin_link), ==, 0);
  config = g_build_filename (bl->dir, "bitlbee.conf", NULL);
  config_text = g_strdup_printf ("[settings]\n"
                                 "RunMode = Inetd\n"
                                 "AuthMode = Open\n"
                                 "ConfigDir = %s\n"
                                 "PluginDir = %s/plugins\n", config_dir, bl->dir);
  write_file (config, config_text);

  g_socket_listener_add_address (listener, any_port, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);
  bl->irc = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (bound), NULL, &error);
  g_assert_no_error (error);
  accepted = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);

  /* stdin and stdout are the IRC connection; stderr stays the test's log. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  fd = g_socket_get_fd (g_socket_connection_get_socket (accepted));
  g_subprocess_launcher_take_stdin_fd (launcher, dup (fd));
  g_subprocess_launcher_take_stdout_fd (launcher, dup (fd));
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_unsetenv (launcher, "BITLBEE_DEBUG");
  bl->process = g_subprocess_launcher_spawn (launcher, &error, BITLBEE, "-I", "-c", config, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (bl->process, NULL, on_bitlbee_exit, bl);
  g_io_stream_close (G_IO_STREAM (accepted), NULL, NULL);

  bl->lines = g_ptr_array_new_with_free_func (g_free);
  bl->cancel = g_cancellable_new ();
  bl->input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (bl->irc)));
  irc_read_line (bl);
  irc_send (bl, "NICK " OWN_NICK);
  irc_send (bl, "USER " OWN_NICK " 0 * :BitlBee tester");
  wait_line (bl, "Running BitlBee-LIBPURPLE");
  /* Saves this user's settings in the private ConfigDir. */
  CONTROL (bl, "register tester-secret");
  wait_line (bl, "Account successfully created");
  return bl;
}

static gboolean
bitlbee_exited (gpointer data)
{
  return ((Bitlbee *) data)->exited;
}

static void
bitlbee_stop (Bitlbee *bl)
{
  irc_send (bl, "QUIT");
  wait_line (bl, "ERROR :Closing link");
  /* BitlBee in inetd mode ends once its side of the connection is closed. */
  g_cancellable_cancel (bl->cancel);
  g_io_stream_close (G_IO_STREAM (bl->irc), NULL, NULL);
  if (!ppms_wait_until (bitlbee_exited, bl, WAIT_MS)) {
    g_subprocess_force_exit (bl->process);
    ppms_wait_until (bitlbee_exited, bl, WAIT_MS);
  }
  g_clear_object (&bl->cancel);
  g_clear_object (&bl->input);
  g_clear_object (&bl->irc);
  g_clear_object (&bl->process);
  g_ptr_array_unref (bl->lines);
  ppms_remove_tree (bl->dir);
  g_free (bl->dir);
  g_free (bl);
}

static PpmsServer *
start_server (void)
{
  g_autoptr (GError) error = NULL;
  PpmsServer *server = ppms_server_new_from_data (TEAM_SEED, &error);

  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (server, 0, &error));
  g_assert_no_error (error);
  return server;
}

/* account add + account set, by the setting names, and sign-in. */
static void
add_account (Bitlbee *bl, const char *password, const char *server_url)
{
  if (password != NULL)
    CONTROL (bl, "account add ppmessage " AGENT_EMAIL " %s", password);
  else
    CONTROL (bl, "account add ppmessage " AGENT_EMAIL);
  wait_line (bl, "Account successfully added with tag ppmessage");
  CONTROL (bl, "account ppmessage set server %s", server_url);
  wait_line (bl, "server = `");
  CONTROL (bl, "account ppmessage set role agent");
  wait_line (bl, "role = `agent'");
}

/* A test server with the team, and BitlBee with the agent's account added
 * for it (password NULL: none). */
typedef struct {
  PpmsServer *server;
  Bitlbee *bl;
} Scene;

/* FALSE when the test is skipped. */
static gboolean
scene_start (Scene *scene, const char *password)
{
  if (bitlbee_missing ())
    return FALSE;
  scene->server = start_server ();
  scene->bl = bitlbee_start ();
  add_account (scene->bl, password, ppms_server_get_url (scene->server));
  return TRUE;
}

static void
scene_stop (Scene *scene)
{
  bitlbee_stop (scene->bl);
  ppms_server_free (scene->server);
}

static void
sign_in (Bitlbee *bl)
{
  guint from = bl->lines->len;

  CONTROL (bl, "account ppmessage on");
  wait_line_from (bl, "ppmessage - Logging in: Logged in", from);
}

static PpmsPeer *
start_visitor (PpmsServer *server)
{
  g_autoptr (GError) error = NULL;
  PpmsPeer *visitor = ppms_peer_new_named_visitor (ppms_server_get_url (server),
                                                   ppms_server_app_uuid (server),
                                                   ppms_server_ppcom_key (server),
                                                   ppms_server_ppcom_secret (server),
                                                   "jane@visitor.example", "Jane Doe");

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  return visitor;
}

/* The nick BitlBee gave a contact: the sender of its JOIN to the control
 * channel whose user part is that handle. */
static char *
nick_of_handle (Bitlbee *bl, const char *handle)
{
  g_autofree char *user_part = g_strdup_printf ("!%s@", handle);
  guint found = wait_line (bl, user_part);
  const char *line = g_ptr_array_index (bl->lines, found);

  g_assert_true (line[0] == ':');
  return g_strndup (line + 1, strstr (line, "!") - line - 1);
}

/* The nick BitlBee lists for a contact in `blist all`. */
static char *
nick_in_buddy_list (Bitlbee *bl, const char *handle)
{
  guint from = bl->lines->len;
  guint found;
  const char *nick;

  CONTROL (bl, "blist all");
  found = wait_line_from (bl, handle, from);
  nick = strstr (g_ptr_array_index (bl->lines, found), " :") + 2;
  return g_strndup (nick, strcspn (nick, " "));
}

/* Visitor and colleague join the control channel under their names, a
 * visitor's message arrives once as a private message, the reply, typing
 * notices both ways, a colleague's message and an own message typed in
 * PPKefu elsewhere reach the visitor's query. */
static void
test_chat (void)
{
  Scene scene = { 0 };
  PpmsServer *server;
  PpmsPeer *visitor, *bob, *alice_phone;
  Bitlbee *bl;
  g_autofree char *jane = NULL, *bob_nick = NULL;
  g_autofree char *first = NULL, *second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *bob_to_alice = NULL, *from_phone = NULL;
  guint mark;
  gboolean seen = FALSE;

  if (!scene_start (&scene, AGENT_PASSWORD))
    return;
  server = scene.server;
  bl = scene.bl;
  visitor = start_visitor (server);
  CONTROL (bl, "set typing_notice true");
  wait_line (bl, "typing_notice = `true'");
  sign_in (bl);

  /* A colleague is a contact from the start (offline, so not in the control
   * channel), under a readable, IRC-safe nick, without any nick setting of
   * the user. */
  bob_nick = nick_in_buddy_list (bl, ppms_server_user_uuid_by_email (server, BOB_EMAIL));
  g_assert_cmpstr (bob_nick, ==, "BobColleague");

  /* A visitor's first messages (the server lists a conversation from its
   * first message on): she joins under her name, and each message arrives
   * as a private message exactly once (the second one arriving after it
   * shows nothing more of the first is coming). */
  first = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "Where is my order?");
  second = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "It is #1234.");
  g_assert_nonnull (first);
  g_assert_nonnull (second);
  mark = wait_line (bl, "PRIVMSG " OWN_NICK " :It is #1234.");
  jane = nick_of_handle (bl, ppms_peer_user_uuid (visitor));
  g_assert_cmpstr (jane, ==, "JaneDoe");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (bl->lines, mark), ":JaneDoe!"));
  g_assert_cmpint (find_line (bl, "PRIVMSG " OWN_NICK " :Where is my order?", 0), <, (int) mark);
  g_assert_cmpuint (count_lines (bl, "PRIVMSG " OWN_NICK " :Where is my order?"), ==, 1);
  g_assert_cmpuint (count_lines (bl, "PRIVMSG " OWN_NICK " :It is #1234."), ==, 1);

  /* The reply reaches the visitor. */
  irc_send (bl, "PRIVMSG JaneDoe :It left our warehouse today.");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "It left our warehouse today.", WAIT_MS));

  /* Typing: hers shows as BitlBee's CTCP TYPING, ours reaches her. The
   * server relays typing between sockets watching the conversation, and the
   * plugin's watch is set up asynchronously: try a few times. */
  ppms_peer_watch_typing (visitor, ppms_peer_conversation_uuid (visitor));
  for (int attempt = 0; attempt < 10 && !seen; attempt++) {
    ppms_peer_send_typing (visitor);
    seen = line_arrives (bl, ":JaneDoe!", "PRIVMSG " OWN_NICK " :\001TYPING 1\001", 1500);
  }
  g_assert_true (seen);
  seen = FALSE;
  for (int attempt = 0; attempt < 10 && !seen; attempt++) {
    irc_send (bl, "PRIVMSG JaneDoe :\001TYPING 1\001");
    seen = ppms_peer_wait_typing (visitor, 1500);
  }
  g_assert_true (seen);

  /* A colleague writes to Alice: a private message from his nick. */
  bob = ppms_peer_new_agent (ppms_server_get_url (server), ppms_server_ppkefu_key (server),
                             BOB_EMAIL, BOB_PASSWORD, NULL);
  g_assert_true (ppms_peer_start_sync (bob, &error));
  g_assert_no_error (error);
  bob_to_alice = ppms_peer_create_s2s_sync (bob, ppms_server_user_uuid_by_email (server, AGENT_EMAIL),
                                            NULL, &error);
  g_assert_no_error (error);
  g_free (ppms_peer_send_text (bob, bob_to_alice, "Can you take the Acme ticket?"));
  mark = wait_line (bl, "PRIVMSG " OWN_NICK " :Can you take the Acme ticket?");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (bl->lines, mark), ":BobColleague!"));
  irc_send (bl, "PRIVMSG BobColleague :Yes, I will.");
  g_assert_nonnull (ppms_peer_wait_message (bob, "Yes, I will.", WAIT_MS));

  /* Bob answers Jane: a message from Bob that says whom he answered. */
  g_free (ppms_peer_send_text (bob, ppms_peer_conversation_uuid (visitor), "Bob here, I checked."));
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Bob here, I checked.", WAIT_MS));
  mark = wait_line (bl, "PRIVMSG " OWN_NICK " :(to Jane Doe) Bob here, I checked.");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (bl->lines, mark), ":BobColleague!"));

  /* Alice answers Jane from PPKefu on her phone: BitlBee shows it as her own
   * message to Jane (a self-message), not as one from Jane. */
  alice_phone = ppms_peer_new_agent (ppms_server_get_url (server), ppms_server_ppkefu_key (server),
                                     AGENT_EMAIL, AGENT_PASSWORD, NULL);
  ppms_peer_set_agent_ostype (alice_phone, "android");
  g_assert_true (ppms_peer_start_sync (alice_phone, &error));
  g_assert_no_error (error);
  from_phone = ppms_peer_send_text (alice_phone, ppms_peer_conversation_uuid (visitor),
                                    "Sent from my phone.");
  g_assert_nonnull (from_phone);
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Sent from my phone.", WAIT_MS));
  mark = wait_line (bl, "Sent from my phone.");
  g_assert_cmpstr (g_ptr_array_index (bl->lines, mark), ==,
                   ":" OWN_NICK "!" OWN_NICK "@localhost PRIVMSG JaneDoe :Sent from my phone.");
  g_assert_cmpuint (count_lines (bl, "Sent from my phone."), ==, 1);

  ppms_peer_free (alice_phone);
  ppms_peer_free (bob);
  ppms_peer_free (visitor);
  scene_stop (&scene);
}

/* A message that cannot be delivered is reported in the control channel:
 * BitlBee passes no error line of a conversation on to IRC. */
static void
test_failed_send (void)
{
  Scene scene = { 0 };

  if (!scene_start (&scene, AGENT_PASSWORD))
    return;
  sign_in (scene.bl);
  /* A contact with no conversation on the server (added by hand). */
  CONTROL (scene.bl, "add ppmessage 0badc0de-0000-4000-8000-000000000000 nobody");
  wait_line (scene.bl, "Adding `0badc0de-0000-4000-8000-000000000000' to contact list");
  irc_send (scene.bl, "PRIVMSG nobody :Anyone there?");
  wait_line (scene.bl, "Message not delivered: there is no open conversation with this contact.");
  scene_stop (&scene);
}

/* After a sign-in error the control channel says whether BitlBee will retry;
 * everything it says about the failure comes before the answer to a PING. */
static guint
wait_sign_in_error (Bitlbee *bl, const char *error_text)
{
  guint from = bl->lines->len;
  guint error_line, synced;

  CONTROL (bl, "account ppmessage on");
  error_line = wait_line_from (bl, error_text, from);
  wait_line_from (bl, "Signing off", error_line);
  synced = irc_sync (bl);
  /* One attempt, one report. */
  g_assert_cmpuint (count_lines (bl, "Logging in: Connecting"), <=, 1);
  g_assert_cmpuint (count_lines (bl, error_text), ==, 1);
  return synced;
}

/* A wrong password: reported once, no retry. */
static void
test_wrong_password (void)
{
  Scene scene = { 0 };

  if (!scene_start (&scene, "not-the-password"))
    return;
  wait_sign_in_error (scene.bl, "Sign-in refused: Wrong e-mail or password");
  g_assert_cmpint (find_line (scene.bl, "Reconnecting", 0), ==, -1);
  g_assert_cmpuint (count_lines (scene.bl, "not-the-password"), ==, 0);
  scene_stop (&scene);
}

/* A server nobody listens on: a connection problem, retried by BitlBee after
 * its own delay (5 s, growing), not at once. */
static void
test_unreachable_server (void)
{
  PpmsServer *server;
  Bitlbee *bl;
  g_autofree char *url = NULL;
  int reconnect;
  guint seconds = 0;

  if (bitlbee_missing ())
    return;
  /* A port that was just free: a stopped test server's. */
  server = start_server ();
  url = g_strdup (ppms_server_get_url (server));
  ppms_server_free (server);
  bl = bitlbee_start ();
  add_account (bl, AGENT_PASSWORD, url);
  wait_sign_in_error (bl, "Connection problem:");
  reconnect = find_line (bl, "Reconnecting in ", 0);
  g_assert_cmpint (reconnect, >=, 0);
  g_assert_cmpint (sscanf (strstr (g_ptr_array_index (bl->lines, reconnect), "Reconnecting in "),
                           "Reconnecting in %u seconds", &seconds), ==, 1);
  g_assert_cmpuint (seconds, >=, 5);
  g_assert_cmpuint (count_lines (bl, "Reconnecting in "), ==, 1);
  bitlbee_stop (bl);
}

/* No password: BitlBee has no password dialog, so the sign-in says what is
 * missing at once instead of waiting forever; setting it signs in. */
static void
test_password_missing (void)
{
  Scene scene = { 0 };

  if (!scene_start (&scene, NULL))
    return;
  wait_sign_in_error (scene.bl, "A password is required to sign in as an agent: set the "
                                "account's password.");
  g_assert_cmpint (find_line (scene.bl, "Reconnecting", 0), ==, -1);
  CONTROL (scene.bl, "account ppmessage set password " AGENT_PASSWORD);
  wait_line (scene.bl, "Setting changed successfully");
  g_assert_cmpuint (count_lines (scene.bl, AGENT_PASSWORD), ==, 0);
  sign_in (scene.bl);
  scene_stop (&scene);
}

/* A self-signed certificate: the error names its fingerprint and the
 * setting that trusts it; no question is left that BitlBee would drop. */
static void
test_certificate (void)
{
  PpmsServer *server;
  Bitlbee *bl;
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = g_build_filename ("tests", "data", "tls", "server-self-signed.pem", NULL);
  g_autofree char *key = g_build_filename ("tests", "data", "tls", "server-self-signed.key", NULL);
  const char *hint = "set the account's pinned_certificate to ";
  g_autofree char *fingerprint = NULL;
  const char *line;
  guint found;

  if (bitlbee_missing ())
    return;
  server = ppms_server_new_from_data (TEAM_SEED, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen_tls (server, 0, cert, key, &error));
  g_assert_no_error (error);
  bl = bitlbee_start ();
  add_account (bl, AGENT_PASSWORD, ppms_server_get_url (server));
  wait_sign_in_error (bl, "The server's certificate could not be verified");
  g_assert_cmpint (find_line (bl, "Reconnecting", 0), ==, -1);
  g_assert_cmpint (find_line (bl, "Request:", 0), ==, -1);
  found = wait_line (bl, hint);
  line = strstr (g_ptr_array_index (bl->lines, found), hint) + strlen (hint);
  fingerprint = g_strndup (line, strspn (line, "0123456789ABCDEF:"));
  g_assert_cmpuint (strlen (fingerprint), ==, 32 * 3 - 1);

  CONTROL (bl, "account ppmessage set pinned_certificate %s", fingerprint);
  wait_line (bl, "pinned_certificate = `");
  sign_in (bl);
  bitlbee_stop (bl);
  ppms_server_free (server);
}

/* BitlBee makes a fresh libpurple account at every sign-in: what the
 * plugin remembers between sign-ins (its device id, the last message seen)
 * must survive that, or a message that came while the account was off is
 * never shown. It is shown at the next sign-in, once, and nothing older
 * comes again. */
static void
test_offline_messages (void)
{
  Scene scene = { 0 };
  PpmsPeer *visitor;
  g_autofree char *while_away = NULL;
  int code = -1;

  if (!scene_start (&scene, AGENT_PASSWORD))
    return;
  visitor = start_visitor (scene.server);
  sign_in (scene.bl);
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "First."));
  wait_line (scene.bl, "PRIVMSG " OWN_NICK " :First.");
  CONTROL (scene.bl, "account ppmessage off");
  wait_line (scene.bl, "Signing off");

  while_away = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                                    "While you were away.");
  g_assert_true (ppms_peer_wait_ack (visitor, while_away, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  sign_in (scene.bl);
  wait_line (scene.bl, "PRIVMSG " OWN_NICK " :While you were away.");
  g_assert_cmpuint (count_lines (scene.bl, "PRIVMSG " OWN_NICK " :While you were away."), ==, 1);
  g_assert_cmpuint (count_lines (scene.bl, "PRIVMSG " OWN_NICK " :First."), ==, 1);
  ppms_peer_free (visitor);
  scene_stop (&scene);
}

/* The IRC client's side of a DCC SEND: what arrived so far. */
typedef struct {
  GSocket *socket;
  GByteArray *received;
  gboolean closed;
} DccReceive;

static gboolean
on_dcc_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  DccReceive *dcc = data;
  guint8 buffer[4096];
  gssize got = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, NULL);
  guint32 ack;

  if (got <= 0) {
    dcc->closed = TRUE;
    return G_SOURCE_REMOVE;
  }
  g_byte_array_append (dcc->received, buffer, (guint) got);
  /* DCC: the receiver acknowledges the total it has, in network order. */
  ack = g_htonl (dcc->received->len);
  g_socket_send (socket, (const char *) &ack, sizeof ack, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* Accepts the offer "DCC SEND name ip port size" as an IRC client does
 * and receives the file. */
static GBytes *
dcc_accept (const char *offer)
{
  const char *args = strstr (offer, "DCC SEND ");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSource) source = NULL;
  DccReceive dcc = { 0 };
  guint ip = 0, port = 0;
  gsize size = 0;

  g_assert_nonnull (args);
  g_assert_cmpint (sscanf (args, "DCC SEND %*s %u %u %zu", &ip, &port, &size), ==, 3);
  g_assert_cmpuint (ip, ==, 0x7f000001);
  address = g_inet_socket_address_new (loopback, (guint16) port);
  dcc.socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                             &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (dcc.socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (dcc.socket, FALSE);
  dcc.received = g_byte_array_new ();
  source = g_socket_create_source (dcc.socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_dcc_readable), &dcc, NULL);
  g_source_attach (source, NULL);
  g_assert_true (PPMS_WAIT_FOR (dcc.received->len >= size || dcc.closed, WAIT_MS));
  g_source_destroy (source);
  g_object_unref (dcc.socket);
  return g_byte_array_free_to_bytes (dcc.received);
}

/* A visitor's file: a line with its name, size and link (all an IRC
 * client without DCC gets), and BitlBee's own file transfer, a DCC SEND
 * from the visitor's nick that the IRC client accepts and receives byte
 * for byte. A picture is its line with the link, without the /original
 * hint of Pidgin and Finch (BitlBee passes no libpurple commands). */
static void
test_file_offer (void)
{
  static const char text[] = "Order #1234: two chairs, one table.\n";
  Scene scene = { 0 };
  PpmsPeer *visitor;
  g_autoptr (GBytes) content = g_bytes_new_static (text, strlen (text));
  g_autoptr (GBytes) png = ppms_test_png (16, 12), received = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fid = NULL, *body = NULL, *image_fid = NULL, *image_body = NULL;
  g_autofree char *link = NULL, *image_line = NULL;
  guint mark;

  if (!scene_start (&scene, AGENT_PASSWORD))
    return;
  visitor = start_visitor (scene.server);
  sign_in (scene.bl);

  fid = ppms_peer_upload_sync (visitor, "order.txt", "text/plain", content, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"name\": \"order.txt\", \"mime\": "
                          "\"text/plain\", \"size\": %zu}", fid, strlen (text));
  g_free (ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), "FILE", body));
  link = g_strdup_printf ("PRIVMSG " OWN_NICK " :File: order.txt (%zu bytes) %s"
                          "/download/download/%s?file_name=order.txt", strlen (text),
                          ppms_server_get_url (scene.server), fid);
  mark = wait_line (scene.bl, link);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (scene.bl->lines, mark), ":JaneDoe!"));
  mark = wait_line (scene.bl, "PRIVMSG " OWN_NICK " :\001DCC SEND order.txt ");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (scene.bl->lines, mark), ":JaneDoe!"));
  wait_line (scene.bl, "File transfer request from JaneDoe for order.txt");
  received = dcc_accept (g_ptr_array_index (scene.bl->lines, mark));
  g_assert_true (g_bytes_equal (received, content));

  image_fid = ppms_peer_upload_sync (visitor, "dot.png", "image/png", png, &error);
  g_assert_no_error (error);
  image_body = g_strdup_printf ("{\"fid\": \"%s\", \"mime\": \"image/png\"}", image_fid);
  g_free (ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), "IMAGE",
                                  image_body));
  image_line = g_strdup_printf ("PRIVMSG " OWN_NICK " :Image: %s/download/download/%s",
                                ppms_server_get_url (scene.server), image_fid);
  mark = wait_line (scene.bl, image_line);
  g_assert_cmpstr (strstr (g_ptr_array_index (scene.bl->lines, mark), " :Image: "), ==,
                   strstr (image_line, " :Image: "));
  ppms_peer_free (visitor);
  scene_stop (&scene);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bitlbee/chat", test_chat);
  g_test_add_func ("/bitlbee/offline-messages", test_offline_messages);
  g_test_add_func ("/bitlbee/file-offer", test_file_offer);
  g_test_add_func ("/bitlbee/failed-send", test_failed_send);
  g_test_add_func ("/bitlbee/wrong-password", test_wrong_password);
  g_test_add_func ("/bitlbee/unreachable-server", test_unreachable_server);
  g_test_add_func ("/bitlbee/password-missing", test_password_missing);
  g_test_add_func ("/bitlbee/certificate", test_certificate);
  return g_test_run ();
}
