/* test-purple-session.c: the built plugin in a headless libpurple core, for
 * the life of a session beyond the everyday (test-purple-agent.c): the
 * agent's own replies from a phone, a clean sign-out, presence, fatal
 * errors, undelivered messages, hostile text and names, and proxies.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include "purple-fixtures.h"
#include "ppms-internal.h"
#include "test-proxy.h"

/* Hidden account settings of the plugin (seconds), see ppm-purple.h. */
#define SETTING_SEND_TIMEOUT "send_timeout"
#define SETTING_KEEPALIVE    "keepalive_interval"

/* ---- Own replies from elsewhere ---- */

/* Alice answers from PPKefu on her phone while Pidgin is signed in: the
 * reply is hers (sent, from elsewhere), shown once under her name. */
static void
test_own_reply_from_phone_live (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  PpmsPeer *phone = ppms_peer_new_agent (ppms_server_get_url (server),
                                         ppms_server_ppkefu_key (server), AGENT_EMAIL,
                                         AGENT_PASSWORD, NULL);
  const HarnessWrite *w;

  ppms_peer_set_agent_ostype (phone, "android"); /* a phone does not kick a browser */
  g_assert_true (ppms_peer_start_sync (phone, NULL));
  send_and_wait_ack (phone, ppms_peer_conversation_uuid (visitor), "Answered from my phone");

  w = wait_write (account, "Answered from my phone");
  g_assert_cmpstr (w->conversation, ==, ppms_peer_user_uuid (visitor));
  g_assert_cmpint (w->flags & (PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_REMOTE_SEND), ==,
                   PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_REMOTE_SEND);
  g_assert_false (w->flags & PURPLE_MESSAGE_RECV);
  g_assert_false (w->flags & PURPLE_MESSAGE_DELAYED); /* live, not caught up */
  g_assert_cmpstr (w->alias, ==, AGENT_NAME);
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Answered from my phone", WAIT_MS));
  harness_run_for (500);
  g_assert_cmpuint (harness_count_writes (account, "Answered from my phone"), ==, 1);
  g_assert_true (purple_account_is_connected (account));
  g_assert_null (harness_find_error (account));

  sign_out (account);
  ppms_peer_free (phone);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- Signing out ---- */

static GPtrArray *
token_names (PpmsServer *server)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer token;

  g_hash_table_iter_init (&iter, server->tokens);
  while (g_hash_table_iter_next (&iter, &token, NULL))
    g_ptr_array_add (names, g_strdup (token));
  return names;
}

static guint
count_lines_with (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *p = text; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* A message shown, but the server never confirmed its ack before the
 * account was disabled: enabled again, the account acks it and does not
 * show it a second time. */
static void
test_unconfirmed_ack_kept_across_sign_out (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *conversation = ppms_peer_conversation_uuid (visitor);

  ppms_server_set_http_fault (server, PPMS_FAULT_HTTP_500, "ACK_MESSAGE", 1.0, 0, 0);
  send_and_wait_ack (visitor, conversation, "Shown once");
  wait_write (account, "Shown once");
  sign_out (account);
  /* The sign-out's last ACK_MESSAGE failed too (the logout follows it). */
  g_assert_true (HARNESS_WAIT_FOR (strstr (harness_debug_log (), "<- PPKEFU_LOGOUT") != NULL,
                                   WAIT_MS));
  ppms_server_clear_faults (server);
  sign_in_again (account);
  /* Caught-up messages come before live ones. */
  send_and_wait_ack (visitor, conversation, "After signing in again");
  wait_write (account, "After signing in again");
  g_assert_cmpuint (harness_count_writes (account, "Shown once"), ==, 1);

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* accounts.xml does not keep a last seen mark for every conversation ever
 * seen: the sign-in that reads the whole list removes the marks of closed
 * conversations nobody was active in for 14 days (the glue lists and
 * removes the account's settings for the library), and keeps the rest. */
static void
test_old_last_seen_marks_removed (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_account (server);
  g_autofree char *recent = g_strdup_printf ("m-recent %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                                             g_get_real_time () / G_USEC_PER_SEC,
                                             g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *open_key = g_strconcat ("ppm_last_seen/",
                                           ppms_peer_conversation_uuid (visitor), NULL);

  /* Closed conversations: one untouched since 2001, one active today. */
  purple_account_set_string (account, "ppm_last_seen/closed-long-ago",
                             "m-old 1000000000 1000000000");
  purple_account_set_string (account, "ppm_last_seen/closed-today", recent);
  sign_in_again (account);
  g_assert_null (purple_account_get_string (account, "ppm_last_seen/closed-long-ago", NULL));
  g_assert_cmpstr (purple_account_get_string (account, "ppm_last_seen/closed-today", NULL), ==,
                   recent);
  g_assert_cmpstr (purple_account_get_string (account, "ppm_last_seen_horizon", NULL), ==,
                   "1000000001");
  /* The open conversation got its mark (its newest message, first sign-in). */
  g_assert_nonnull (purple_account_get_string (account, open_key, NULL));

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Disabling the account signs out (PPKEFU_LOGOUT: token revoked, device
 * offline, socket closed), and nothing of the plugin runs afterwards. */
static void
test_sign_out_is_clean (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_account (server);
  GPtrArray *before = token_names (server);
  GPtrArray *after;
  PpmsDevice *device;
  char *session_token = NULL;
  gsize log_length;
  guint writes;

  /* Keep-alive every second: a timer left behind would fire below. */
  purple_account_set_int (account, SETTING_KEEPALIVE, 1);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  device = ppms_device_lookup_by_terminal (server, purple_account_get_string (account, "terminal",
                                                                              ""));
  g_assert_nonnull (device);
  g_assert_true (device->is_online);
  after = token_names (server);
  for (guint i = 0; i < after->len && session_token == NULL; i++)
    if (!g_ptr_array_find_with_equal_func (before, after->pdata[i], g_str_equal, NULL))
      session_token = g_strdup (after->pdata[i]);
  g_assert_nonnull (session_token);
  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (server) == 2, WAIT_MS));

  harness_disconnect (account);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
  g_assert_null (purple_account_get_connection (account));
  /* The logout goes on in the background, after libpurple let go. */
  g_assert_true (HARNESS_WAIT_FOR (!g_hash_table_contains (server->tokens, session_token)
                                   && !device->is_online
                                   && ppms_server_count_sockets (server) == 1, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (strstr (harness_debug_log (), "<- PPKEFU_LOGOUT") != NULL,
                                   WAIT_MS));
  g_assert_null (harness_find_error (account));

  /* Three keep-alive intervals with the server still there: no timer,
   * callback or write of the plugin (ASan catches a use after free). */
  log_length = strlen (harness_debug_log ());
  writes = harness_writes ()->len;
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "Anyone still there?");
  harness_run_for (3500);
  g_assert_cmpuint (count_lines_with (harness_debug_log () + log_length, "ppmessage:"), ==, 0);
  g_assert_cmpuint (harness_writes ()->len, ==, writes);
  g_assert_cmpuint (ppms_server_count_sockets (server), ==, 1); /* the visitor's */

  g_free (session_token);
  g_ptr_array_unref (before);
  g_ptr_array_unref (after);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- Presence ---- */

typedef struct {
  PurpleAccount *account;
  char *name;
  guint changes;
} StatusWatch;

static void
on_buddy_signed_on_or_off (PurpleBuddy *buddy, gpointer data)
{
  StatusWatch *watch = data;

  if (purple_buddy_get_account (buddy) == watch->account
      && g_strcmp0 (purple_buddy_get_name (buddy), watch->name) == 0)
    watch->changes++;
}

static void
on_buddy_status_changed (PurpleBuddy *buddy, PurpleStatus *old_status, PurpleStatus *status,
                         gpointer data)
{
  on_buddy_signed_on_or_off (buddy, data);
}

static StatusWatch *
status_watch_new (PurpleAccount *account, const char *name)
{
  StatusWatch *watch = g_new0 (StatusWatch, 1);

  watch->account = account;
  watch->name = g_strdup (name);
  /* Online and offline are sign-on and sign-off, not status changes. */
  purple_signal_connect (purple_blist_get_handle (), "buddy-status-changed", watch,
                         PURPLE_CALLBACK (on_buddy_status_changed), watch);
  purple_signal_connect (purple_blist_get_handle (), "buddy-signed-on", watch,
                         PURPLE_CALLBACK (on_buddy_signed_on_or_off), watch);
  purple_signal_connect (purple_blist_get_handle (), "buddy-signed-off", watch,
                         PURPLE_CALLBACK (on_buddy_signed_on_or_off), watch);
  return watch;
}

static void
status_watch_free (StatusWatch *watch)
{
  purple_signals_disconnect_by_handle (watch);
  g_free (watch->name);
  g_free (watch);
}

static gboolean
buddy_online (PurpleAccount *account, const char *name)
{
  PurpleBuddy *buddy = harness_find_buddy (account, name);

  return buddy != NULL && PURPLE_BUDDY_IS_ONLINE (buddy);
}

/* A server that delivers ONLINE frames: the visitor's buddy follows the
 * visitor's socket. */
static void
test_visitor_presence_delivered (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor;
  PurpleAccount *account;
  char *who;

  ppms_server_set_deliver_online (server, TRUE);
  visitor = visitor_start (server);
  who = g_strdup (ppms_peer_user_uuid (visitor)); /* outlives the peer's restart */
  account = agent_with_visitor (server, visitor);
  g_assert_true (buddy_online (account, who));

  ppms_peer_close (visitor);
  g_assert_true (HARNESS_WAIT_FOR (!buddy_online (account, who), WAIT_MS));
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  g_assert_true (HARNESS_WAIT_FOR (buddy_online (account, who), WAIT_MS));
  g_assert_true (purple_account_is_connected (account));

  g_free (who);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* The shipped server never delivers ONLINE frames: nothing is guessed from
 * silence, the buddy stays as the API said. */
static void
test_visitor_presence_not_guessed (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  /* A copy: the peer's own string does not outlive a restart. */
  char *who = g_strdup (ppms_peer_user_uuid (visitor));
  PurpleAccount *account = agent_with_visitor (server, visitor);
  StatusWatch *watch = status_watch_new (account, who);
  gboolean online_before = buddy_online (account, who);

  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  /* Ordered after the socket's close and re-auth on the server. */
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "Back again");
  wait_write (account, "Back again");
  g_assert_cmpuint (watch->changes, ==, 0);
  g_assert_cmpint (buddy_online (account, who), ==, online_before);

  status_watch_free (watch);
  g_free (who);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Colleagues' presence comes with the team list at sign-in. */
static void
test_colleague_presence_at_sign_in (void)
{
  PpmsServer *server = server_start ();
  const char *bob_uuid = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *bob;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, bob_uuid) != NULL, WAIT_MS));
  g_assert_false (buddy_online (account, bob_uuid));
  sign_out (account);

  bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (buddy_online (account, bob_uuid), WAIT_MS));

  sign_out (account);
  ppms_peer_free (bob);
  ppms_server_free (server);
}

/* ---- Fatal errors ---- */

static guint
count_account_errors (PurpleAccount *account)
{
  GPtrArray *errors = harness_errors ();
  guint n = 0;

  for (guint i = 0; i < errors->len; i++)
    if (((HarnessError *) g_ptr_array_index (errors, i))->account == account)
      n++;
  return n;
}

/* A wrong password is for the user to fix: fatal, and not tried again. */
static void
test_wrong_password_not_retried (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = harness_add_account (ppms_server_get_url (server), AGENT_EMAIL,
                                                "not-the-password");
  const HarnessError *error;
  guint progress;

  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  error = harness_find_error (account);
  g_assert_cmpint (error->reason, ==, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (purple_connection_error_is_fatal (error->reason));
  g_assert_nonnull (strstr (error->text, "refused"));
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));

  progress = harness_progress ()->len;
  harness_run_for (3000);
  g_assert_true (purple_account_is_disconnected (account));
  g_assert_cmpuint (count_account_errors (account), ==, 1);
  g_assert_cmpuint (harness_progress ()->len, ==, progress);
  g_assert_cmpuint (count_lines_with (harness_debug_log (), "-> /ppauth/token"), ==, 1);
  assert_log_has_no_secrets (server, "not-the-password");
  ppms_server_free (server);
}

/* ---- Messages that are not delivered ---- */

static const HarnessWrite *
wait_error_write (PurpleAccount *account, const char *conversation)
{
  const HarnessWrite *w;

  if (!HARNESS_WAIT_FOR (harness_find_write (account, "Message not delivered") != NULL, WAIT_MS))
    g_error ("no \"Message not delivered\" notice");
  w = harness_find_write (account, "Message not delivered");
  g_assert_true (w->flags & PURPLE_MESSAGE_ERROR);
  g_assert_false (w->flags & (PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_RECV));
  g_assert_cmpstr (w->conversation, ==, conversation);
  return w;
}

/* The server takes the frame and never confirms it: after the account's
 * bound on delivery (hidden setting send_timeout, here 2 s instead of the
 * library's 120 s) the message is reported in its window. */
static void
test_send_timeout_reported (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_account (server);
  const char *who = ppms_peer_user_uuid (visitor);
  const HarnessWrite *w;

  purple_account_set_int (account, SETTING_SEND_TIMEOUT, 2);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, who), WAIT_MS));
  ppms_server_set_ws_stall (server, TRUE);
  send_from_pidgin (account, who, "This one is lost");
  w = wait_error_write (account, who);
  g_assert_nonnull (strstr (w->text, "Message not delivered: "));
  g_assert_cmpuint (strlen (w->text), >, strlen ("Message not delivered: ")); /* a reason */
  g_assert_cmpuint (harness_count_writes (account, "This one is lost"), ==, 1); /* the echo */
  g_assert_cmpuint (harness_count_writes (account, "Message not delivered"), ==, 1);

  ppms_server_set_ws_stall (server, FALSE);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* The server refuses to start the conversation a first message to a
 * colleague needs: reported in the colleague's window, with the reason. */
static void
test_send_refused_reported (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  const char *bob_uuid = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  const HarnessWrite *w;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, bob_uuid) != NULL, WAIT_MS));
  ppms_server_set_http_fault (server, PPMS_FAULT_MALFORMED_JSON, "PP_CREATE_CONVERSATION", 1.0,
                              0, 0);
  send_from_pidgin (account, bob_uuid, "Bob, are you there?");
  w = wait_error_write (account, bob_uuid);
  g_assert_cmpuint (strlen (w->text), >, strlen ("Message not delivered: "));
  g_assert_true (purple_account_is_connected (account));

  ppms_server_clear_faults (server);
  sign_out (account);
  ppms_server_free (server);
}

/* Nobody to send to (no conversation, not a colleague): said at once. */
static void
test_send_without_conversation_reported (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  const HarnessWrite *w;

  send_from_pidgin (account, "no-such-user", "Hello?");
  w = wait_error_write (account, "no-such-user");
  g_assert_nonnull (strstr (w->text, "no open conversation"));

  sign_out (account);
  ppms_server_free (server);
}

/* Alice, Bob and Carol: two colleagues to start conversations with. */
static const char TEAM_OF_THREE[] =
  "{\"app\": {\"app_name\": \"" TEAM_NAME "\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"" AGENT_NAME "\", \"is_service_user\": true,"
  "   \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB_EMAIL "\", \"password\": \"" BOB_PASSWORD "\","
  "   \"user_fullname\": \"" BOB_NAME "\", \"is_service_user\": true},"
  "  {\"user_email\": \"carol@ppmessage.local\", \"password\": \"carolpass\","
  "   \"user_fullname\": \"Carol Care\", \"is_service_user\": true}"
  " ]}";

static guint
count_error_writes_in (PurpleAccount *account, const char *conversation)
{
  GPtrArray *writes = harness_writes ();
  guint count = 0;

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (writes, i);

    if (w->account == account && (w->flags & PURPLE_MESSAGE_ERROR)
        && g_strcmp0 (w->conversation, conversation) == 0
        && strstr (w->text, "Message not delivered") != NULL)
      count++;
  }
  return count;
}

/* First messages to two colleagues, written one after the other while their
 * conversations are being created, and the server refuses to create them:
 * each failure is reported in its own window, not in the last one used. */
static void
test_first_messages_to_colleagues_refused (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_THREE);
  PurpleAccount *account = agent_sign_in (server);
  const char *bob = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  const char *carol = ppms_server_user_uuid_by_email (server, "carol@ppmessage.local");

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, bob) != NULL
                                   && harness_find_buddy (account, carol) != NULL, WAIT_MS));
  ppms_server_set_http_fault (server, PPMS_FAULT_HTTP_500, "PP_CREATE_CONVERSATION", 1.0, 0, 0);
  send_from_pidgin (account, bob, "Bob, a word?");
  send_from_pidgin (account, carol, "Carol, a word?");
  g_assert_true (HARNESS_WAIT_FOR (harness_count_writes (account, "Message not delivered") == 2,
                                   WAIT_MS));
  g_assert_cmpuint (count_error_writes_in (account, bob), ==, 1);
  g_assert_cmpuint (count_error_writes_in (account, carol), ==, 1);
  g_assert_true (purple_account_is_connected (account));

  sign_out (account);
  ppms_server_free (server);
}

/* ---- Hostile input ---- */

/* No markup and no control character (but \n and \t) in any write. */
static void
assert_writes_are_inert (PurpleAccount *account)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (writes, i);

    if (w->account != account || w->text == NULL)
      continue;
    g_assert_null (strchr (w->text, '<'));
    g_assert_null (strchr (w->text, '>'));
    for (const char *p = w->text; *p != '\0'; p++)
      g_assert_true ((guchar) *p >= 0x20 || *p == '\n' || *p == '\t');
    g_assert_true (g_utf8_validate (w->text, -1, NULL));
  }
}

static void
test_hostile_message_text (void)
{
  static const struct { const char *sent, *shown; } cases[] = {
    { "Markup <b>bold</b> & <i>it</i>",
      "Markup &lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;it&lt;/i&gt;" },
    { "Image <img src=\"http://evil.example/x.png\" onerror=\"alert(1)\">",
      "Image &lt;img src=&quot;http://evil.example/x.png&quot; onerror=&quot;alert(1)&quot;&gt;" },
    { "Link <a href=\"javascript:alert(1)\">click</a> javascript:alert(2)",
      "Link &lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;/a&gt; javascript:alert(2)" },
    { "Controls bell\a esc\x1b[31mred\x1b[0m \x01\x02\x7f tab\there\nnew line\r\ncrlf\rcr",
      "Controls bell esc[31mred[0m  tab\there\nnew line\ncrlf\ncr" },
    { "Entity &lt;script&gt; &#60;script&#62; <script>alert(3)</script>",
      "Entity &amp;lt;script&amp;gt; &amp;#60;script&amp;#62; &lt;script&gt;alert(3)&lt;/script&gt;" },
  };
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *conversation = ppms_peer_conversation_uuid (visitor);
  GString *overlong = g_string_new ("Overlong ");
  char *expected;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    char *prefix = g_strndup (cases[i].sent, strcspn (cases[i].sent, " "));

    send_and_wait_ack (visitor, conversation, cases[i].sent);
    g_assert_cmpstr (wait_write (account, prefix)->text, ==, cases[i].shown);
    g_free (prefix);
  }
  /* One 20 kB line (stored as a file by the server, downloaded as text). */
  for (int i = 0; i < 2000; i++)
    g_string_append (overlong, i == 1000 ? "<img src=x>" : "0123456789");
  send_and_wait_ack (visitor, conversation, overlong->str);
  expected = g_markup_escape_text (overlong->str, -1);
  g_assert_cmpstr (wait_write (account, "Overlong ")->text, ==, expected);
  g_free (expected);

  assert_writes_are_inert (account);
  g_string_free (overlong, TRUE);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

#define MALLORY_EMAIL    "mallory@ppmessage.local"
#define MALLORY_PASSWORD "mallorypass"
/* Names are plain text for libpurple (Pidgin and Finch escape aliases and
 * senders themselves): markup stays visible as text, control characters go. */
#define MALLORY_NAME_JSON  "<b>Mallory</b>\\n\\u001b[31m<img src=x>\\t"
#define MALLORY_NAME_SHOWN "<b>Mallory</b> [31m<img src=x>"
#define EVE_NAME           "<script>Eve</script>\r\n\a"
#define EVE_NAME_SHOWN     "<script>Eve</script>"

static const char HOSTILE_SEED[] =
  "{\"app\": {\"app_name\": \"" TEAM_NAME "\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"" AGENT_NAME "\", \"user_status\": \"OWNER_2\","
  "   \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"" MALLORY_EMAIL "\", \"password\": \"" MALLORY_PASSWORD "\","
  "   \"user_fullname\": \"" MALLORY_NAME_JSON "\", \"user_status\": \"SERVICE\","
  "   \"is_service_user\": true}"
  " ]}";

static void
test_hostile_names (void)
{
  PpmsServer *server = server_start_with_seed (HOSTILE_SEED);
  const char *mallory_uuid = ppms_server_user_uuid_by_email (server, MALLORY_EMAIL);
  PpmsPeer *eve = ppms_peer_new_named_visitor (ppms_server_get_url (server),
                                               ppms_server_app_uuid (server),
                                               ppms_server_ppcom_key (server),
                                               ppms_server_ppcom_secret (server),
                                               "eve@example.com", EVE_NAME);
  PpmsPeer *mallory;
  PurpleAccount *account;
  PurpleBuddy *buddy;
  const HarnessWrite *w;

  g_assert_true (ppms_peer_start_sync (eve, NULL));
  send_and_wait_ack (eve, ppms_peer_conversation_uuid (eve), "Hi from Eve");
  account = agent_with_visitor (server, eve);

  buddy = harness_find_buddy (account, ppms_peer_user_uuid (eve));
  g_assert_true (g_str_has_prefix (purple_buddy_get_alias (buddy), EVE_NAME_SHOWN));
  g_assert_null (strpbrk (purple_buddy_get_alias (buddy), "\r\n\a\t"));
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, mallory_uuid) != NULL, WAIT_MS));
  buddy = harness_find_buddy (account, mallory_uuid);
  g_assert_cmpstr (purple_buddy_get_alias (buddy), ==, MALLORY_NAME_SHOWN);

  /* Mallory answers Eve: the sender's name, cleaned, on the message. */
  mallory = colleague_start (server, MALLORY_EMAIL, MALLORY_PASSWORD);
  send_and_wait_ack (mallory, ppms_peer_conversation_uuid (eve), "Mallory here");
  w = wait_write (account, "Mallory here");
  g_assert_cmpstr (w->who, ==, MALLORY_NAME_SHOWN);
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  assert_writes_are_inert (account);

  sign_out (account);
  ppms_peer_free (mallory);
  ppms_peer_free (eve);
  ppms_server_free (server);
}

/* ---- Proxies (a real one: Debian's tinyproxy) ---- */

/* Debian's tinyproxy in front of the server, or NULL (the test is skipped). */
static TestProxy *
proxy_for (PpmsServer *server)
{
  char *program = test_proxy_find_program ("tinyproxy");
  TestProxy *proxy;

  if (program == NULL) {
    g_test_skip ("tinyproxy is not installed (apt-get install tinyproxy)");
    return NULL;
  }
  proxy = test_proxy_start_http (program, (guint16) ppms_server_get_port (server));
  g_free (program);
  return proxy;
}

static PurpleProxyInfo *
http_proxy_info (TestProxy *proxy)
{
  PurpleProxyInfo *info = purple_proxy_info_new ();

  purple_proxy_info_set_type (info, PURPLE_PROXY_HTTP);
  purple_proxy_info_set_host (info, "127.0.0.1");
  purple_proxy_info_set_port (info, test_proxy_get_port (proxy));
  return info;
}

/* Signs in through the proxy and checks, in this order, that the API calls
 * and then the websocket went through it (its log names each request). */
static void
sign_in_through (TestProxy *proxy, PpmsServer *server, PurpleAccount *account)
{
  char *log;
  const HarnessError *error;

  harness_connect (account);
  HARNESS_WAIT_FOR (purple_account_is_connected (account)
                    || harness_find_error (account) != NULL, 60000);
  log = test_proxy_read_log (proxy);
  if (strstr (log, "/api/PPKEFU_LOGIN") == NULL)
    g_error ("the proxy did not carry the API calls; its log:\n%s", log);
  error = harness_find_error (account);
  if (error != NULL || !purple_account_is_connected (account))
    g_error ("the API went through the proxy, the websocket did not: %s; the proxy's log:\n%s",
             error != NULL ? error->text : "timeout", log);
  {
    /* The websocket of an http:// server goes through a CONNECT tunnel,
     * whose path the proxy never sees; plain API calls never use CONNECT. */
    char *tunnel = g_strdup_printf ("CONNECT 127.0.0.1:%u ", ppms_server_get_port (server));
    g_assert_nonnull (strstr (log, tunnel));
    g_free (tunnel);
  }
  g_free (log);
}

/* A visitor's message in, the agent's reply out: the session works. */
static void
assert_session_works (PpmsServer *server, PpmsPeer *visitor, PurpleAccount *account,
                      const char *tag)
{
  char *in = g_strdup_printf ("Through the proxy in (%s)", tag);
  char *out = g_strdup_printf ("Through the proxy out (%s)", tag);

  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), in);
  wait_write (account, in);
  send_from_pidgin (account, ppms_peer_user_uuid (visitor), out);
  g_assert_nonnull (ppms_peer_wait_message (visitor, out, WAIT_MS));
  g_free (in);
  g_free (out);
}

static void
test_http_proxy_account (void)
{
  PpmsServer *server = server_start ();
  TestProxy *proxy = proxy_for (server);
  PpmsPeer *visitor;
  PurpleAccount *account;

  if (proxy == NULL) {
    ppms_server_free (server);
    return;
  }
  visitor = visitor_start (server);
  account = agent_account (server);
  purple_account_set_proxy_info (account, http_proxy_info (proxy));
  sign_in_through (proxy, server, account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  assert_session_works (server, visitor, account, "account");

  /* Without the proxy, the account cannot reach the server: no way around it. */
  sign_out (account);
  test_proxy_stop (proxy);
  harness_clear ();
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, 60000));
  g_assert_cmpint (harness_find_error (account)->reason, ==, PURPLE_CONNECTION_ERROR_NETWORK_ERROR);

  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* An account that uses the global proxy settings (Pidgin's default). */
static void
test_http_proxy_global (void)
{
  PpmsServer *server = server_start ();
  TestProxy *proxy = proxy_for (server);
  PurpleProxyInfo *global;
  PpmsPeer *visitor;
  PurpleAccount *account;

  if (proxy == NULL) {
    ppms_server_free (server);
    return;
  }
  global = purple_global_proxy_get_info ();
  purple_proxy_info_set_type (global, PURPLE_PROXY_HTTP);
  purple_proxy_info_set_host (global, "127.0.0.1");
  purple_proxy_info_set_port (global, test_proxy_get_port (proxy));
  visitor = visitor_start (server);
  account = agent_account (server); /* no proxy info of its own: the global one */
  sign_in_through (proxy, server, account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  assert_session_works (server, visitor, account, "global");

  sign_out (account);
  test_proxy_stop (proxy);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- Certificates ---- */

/* The SHA-256 fingerprint of a PEM certificate, lower-case hex. */
static char *
certificate_fingerprint (const char *pem_path)
{
  GError *error = NULL;
  GTlsCertificate *certificate = g_tls_certificate_new_from_file (pem_path, &error);
  GByteArray *der = NULL;
  char *hex;

  g_assert_no_error (error);
  g_object_get (certificate, "certificate", &der, NULL);
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  g_byte_array_unref (der);
  g_object_unref (certificate);
  return hex;
}

/* "AB:CD:..." or "abcd...": compared without separators or case. */
static char *
bare_hex (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (out, g_ascii_tolower (*p));
  return g_string_free (out, FALSE);
}

static PpmsServer *
self_signed_server (char **fingerprint)
{
  char *cert = ppms_test_tls_file ("server-self-signed.pem");
  char *key = ppms_test_tls_file ("server-self-signed.key");
  PpmsServer *server = server_start_tls (cert, key);

  *fingerprint = certificate_fingerprint (cert);
  g_free (key);
  g_free (cert);
  return server;
}

/* The question about the certificate shows its fingerprint. */
static void
assert_asked_about (const char *fingerprint)
{
  GPtrArray *questions = harness_questions ();
  const HarnessQuestion *question;
  char *shown;

  g_assert_cmpuint (questions->len, ==, 1);
  question = g_ptr_array_index (questions, 0);
  shown = bare_hex (question->secondary);
  g_assert_nonnull (strstr (shown, fingerprint));
  g_free (shown);
}

/* A self-signed server, and the user does not trust it: the connection
 * fails with the certificate's reason (fatal), nothing is pinned. */
static void
test_certificate_refused (void)
{
  char *fingerprint;
  PpmsServer *server = self_signed_server (&fingerprint);
  PurpleAccount *account = agent_account (server);
  const HarnessError *error;

  harness_set_action_answer ("Cancel");
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  error = harness_find_error (account);
  g_assert_cmpint (error->reason, ==, PURPLE_CONNECTION_ERROR_CERT_UNTRUSTED);
  g_assert_true (purple_connection_error_is_fatal (error->reason));
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
  assert_asked_about (fingerprint);
  harness_run_for (500);
  g_assert_null (purple_account_get_string (account, "pinned_certificate", NULL));
  g_assert_true (purple_account_is_disconnected (account));
  g_assert_cmpuint (ppms_server_count_sockets (server), ==, 0);

  g_free (fingerprint);
  ppms_server_free (server);
}

/* The user trusts it: pinned for the account, signed in at once, and the
 * next sign-in asks nothing. */
static void
test_certificate_trusted_and_pinned (void)
{
  char *fingerprint;
  PpmsServer *server = self_signed_server (&fingerprint);
  PurpleAccount *account = agent_account (server);

  harness_set_action_answer ("Trust this certificate");
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_connected (account), WAIT_MS));
  assert_asked_about (fingerprint);
  g_assert_cmpstr (purple_account_get_string (account, "pinned_certificate", NULL), ==,
                   fingerprint);
  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (server) == 1, WAIT_MS)); /* wss */

  sign_out (account);
  harness_set_action_answer (NULL);
  harness_clear (); /* the first attempt's certificate error */
  sign_in_again (account);
  g_assert_cmpuint (harness_questions ()->len, ==, 1);
  assert_log_has_no_secrets (server, AGENT_PASSWORD);

  sign_out (account);
  g_free (fingerprint);
  ppms_server_free (server);
}

/* A pinned certificate is that one only: another untrusted one fails. */
static void
test_certificate_pin_mismatch (void)
{
  char *fingerprint;
  PpmsServer *server = self_signed_server (&fingerprint);
  PurpleAccount *account = agent_account (server);

  purple_account_set_string (account, "pinned_certificate",
                             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  g_assert_cmpint (harness_find_error (account)->reason, ==,
                   PURPLE_CONNECTION_ERROR_CERT_FINGERPRINT_MISMATCH);
  assert_asked_about (fingerprint); /* the new one, for the user to decide */
  g_assert_cmpuint (ppms_server_count_sockets (server), ==, 0);

  g_free (fingerprint);
  ppms_server_free (server);
}

#define SOCKS_USER     "ppm-user"
#define SOCKS_PASSWORD "socks-secret"

/* A SOCKS5 proxy with a user name and password (microsocks): every
 * connection, HTTP and websocket, is tunnelled, with the account's
 * credentials, which stay out of the debug log. */
static void
test_socks5_proxy_account (void)
{
  char *program = test_proxy_find_program ("microsocks");
  PpmsServer *server;
  TestProxy *proxy;
  PurpleProxyInfo *info;
  PpmsPeer *visitor;
  PurpleAccount *account;
  char *log, *target;

  if (program == NULL) {
    g_test_skip ("microsocks is not installed (apt-get install microsocks)");
    return;
  }
  server = server_start ();
  proxy = test_proxy_start_socks5 (program, SOCKS_USER, SOCKS_PASSWORD);
  visitor = visitor_start (server);
  account = agent_account (server);
  info = purple_proxy_info_new ();
  purple_proxy_info_set_type (info, PURPLE_PROXY_SOCKS5);
  purple_proxy_info_set_host (info, "127.0.0.1");
  purple_proxy_info_set_port (info, test_proxy_get_port (proxy));
  purple_proxy_info_set_username (info, SOCKS_USER);
  purple_proxy_info_set_password (info, SOCKS_PASSWORD);
  purple_account_set_proxy_info (account, info);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  assert_session_works (server, visitor, account, "socks5");
  log = test_proxy_read_log (proxy);
  target = g_strdup_printf ("connected to 127.0.0.1:%u", ppms_server_get_port (server));
  if (count_lines_with (log, target) < 2) /* at least the API and the websocket */
    g_error ("the SOCKS proxy did not carry the session; its log:\n%s", log);
  g_assert_null (strstr (harness_debug_log (), SOCKS_PASSWORD));

  /* Without the proxy, the account cannot reach the server. */
  sign_out (account);
  test_proxy_stop (proxy);
  harness_clear ();
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, 60000));
  g_assert_cmpint (harness_find_error (account)->reason, ==, PURPLE_CONNECTION_ERROR_NETWORK_ERROR);

  g_free (target);
  g_free (log);
  g_free (program);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* An https server behind an HTTP proxy (the usual corporate case): the API
 * and the websocket are tunnelled with CONNECT, with the pinned certificate.
 * (Test peers do not speak TLS to a self-signed server: the agent alone.) */
static void
test_http_proxy_https_server (void)
{
  char *fingerprint;
  PpmsServer *server = self_signed_server (&fingerprint);
  TestProxy *proxy = proxy_for (server);
  PurpleAccount *account;
  char *log, *tunnel;

  if (proxy == NULL) {
    g_free (fingerprint);
    ppms_server_free (server);
    return;
  }
  account = agent_account (server);
  purple_account_set_string (account, "pinned_certificate", fingerprint);
  purple_account_set_proxy_info (account, http_proxy_info (proxy));
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (server) == 1, WAIT_MS)); /* wss */
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_server_user_uuid_by_email (
                                                         server, BOB_EMAIL)) != NULL, WAIT_MS));
  log = test_proxy_read_log (proxy);
  tunnel = g_strdup_printf ("CONNECT 127.0.0.1:%u", ppms_server_get_port (server));
  if (count_lines_with (log, tunnel) < 2) /* at least the API and the websocket */
    g_error ("the proxy did not tunnel the session; its log:\n%s", log);
  g_assert_cmpuint (harness_questions ()->len, ==, 0); /* the pin was enough */

  sign_out (account);
  test_proxy_stop (proxy);
  g_free (tunnel);
  g_free (log);
  g_free (fingerprint);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/session/own-reply-from-phone", test_own_reply_from_phone_live);
  harness_add_test ("/purple/session/sign-out-is-clean", test_sign_out_is_clean);
  harness_add_test ("/purple/session/unconfirmed-ack-kept-across-sign-out",
                    test_unconfirmed_ack_kept_across_sign_out);
  harness_add_test ("/purple/session/wrong-password-not-retried", test_wrong_password_not_retried);
  harness_add_test ("/purple/session/old-last-seen-marks-removed",
                    test_old_last_seen_marks_removed);
  harness_add_test ("/purple/presence/visitor-delivered", test_visitor_presence_delivered);
  harness_add_test ("/purple/presence/visitor-not-guessed", test_visitor_presence_not_guessed);
  harness_add_test ("/purple/presence/colleague-at-sign-in", test_colleague_presence_at_sign_in);
  harness_add_test ("/purple/failed-send/timeout", test_send_timeout_reported);
  harness_add_test ("/purple/failed-send/refused", test_send_refused_reported);
  harness_add_test ("/purple/failed-send/no-conversation", test_send_without_conversation_reported);
  harness_add_test ("/purple/failed-send/first-messages-to-colleagues",
                    test_first_messages_to_colleagues_refused);
  harness_add_test ("/purple/hostile/message-text", test_hostile_message_text);
  harness_add_test ("/purple/hostile/names", test_hostile_names);
  harness_add_test ("/purple/certificate/refused", test_certificate_refused);
  harness_add_test ("/purple/certificate/trusted-and-pinned", test_certificate_trusted_and_pinned);
  harness_add_test ("/purple/certificate/pin-mismatch", test_certificate_pin_mismatch);
  harness_add_test ("/purple/proxy/http-account", test_http_proxy_account);
  harness_add_test ("/purple/proxy/http-global", test_http_proxy_global);
  harness_add_test ("/purple/proxy/socks5-account", test_socks5_proxy_account);
  harness_add_test ("/purple/proxy/http-https-server", test_http_proxy_https_server);
  return g_test_run ();
}
