/* test-purple-agent.c: the built plugin in a headless libpurple core, signed
 * in as an agent against the in-process test server. Every case asserts what
 * a Pidgin user would see: connection progress and errors, the buddy list,
 * messages with their flags and names, typing, and a debug log free of
 * secrets. Visitors and colleagues are test peers speaking the real protocol.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <libsoup/soup.h>

#include "purple-fixtures.h"
#include "ppms-internal.h"

/* ---- The plugin as libpurple sees it ---- */

static void
test_plugin_loads (void)
{
  PurplePlugin *prpl = purple_find_prpl (HARNESS_PLUGIN_ID);
  PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO (prpl);
  PurpleAccount *account = harness_add_account ("http://127.0.0.1:1", AGENT_EMAIL, NULL);
  GList *l, *types;
  GHashTable *options = g_hash_table_new (g_str_hash, g_str_equal);
  const char *status_ids[] = { "available", "busy", "away", "offline" };
  guint i = 0;

  g_assert_cmpstr (purple_plugin_get_name (prpl), ==, "PPMessage");
  g_assert_cmpuint (info->struct_size, ==, sizeof (PurplePluginProtocolInfo));
  g_assert_cmpstr (info->list_icon (account, NULL), ==, "ppmessage");
  for (l = info->protocol_options; l != NULL; l = l->next)
    g_hash_table_insert (options, (gpointer) purple_account_option_get_setting (l->data), l->data);
  g_assert_true (g_hash_table_contains (options, "server"));
  g_assert_true (g_hash_table_contains (options, "api_key"));
  g_assert_true (g_hash_table_contains (options, "role"));
  g_assert_cmpstr (purple_account_option_get_default_list_value (
                     g_hash_table_lookup (options, "role")), ==, "agent");
  g_assert_false (g_hash_table_contains (options, "terminal")); /* hidden */
  types = info->status_types (account);
  for (l = types; l != NULL; l = l->next, i++)
    g_assert_cmpstr (purple_status_type_get_id (l->data), ==, status_ids[i]);
  g_assert_cmpuint (i, ==, G_N_ELEMENTS (status_ids));
  g_list_free_full (types, (GDestroyNotify) purple_status_type_destroy);
  g_hash_table_destroy (options);
}

/* ---- Signing in ---- */

static void
test_sign_in (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  GPtrArray *progress = harness_progress ();
  size_t last_step = 0;
  const char *terminal;

  g_assert_null (harness_find_error (account));
  g_assert_cmpuint (progress->len, >=, 2);
  for (guint i = 0; i < progress->len; i++) {
    HarnessProgress *p = g_ptr_array_index (progress, i);

    g_assert_true (p->account == account);
    g_assert_cmpuint (p->step, <, p->count);
    g_assert_cmpuint (p->step, >=, last_step);
    last_step = p->step;
  }
  g_assert_cmpstr (purple_connection_get_display_name (purple_account_get_connection (account)),
                   ==, AGENT_NAME);
  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (server) == 1, WAIT_MS));
  terminal = purple_account_get_string (account, "terminal", NULL);
  g_assert_nonnull (terminal);
  g_assert_cmpuint (strlen (terminal), ==, 36);

  /* Signing in again keeps the device: same terminal, no second device. */
  {
    char *first = g_strdup (terminal);
    guint devices = g_hash_table_size (server->devices);

    sign_out (account);
    g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (server) == 0, WAIT_MS));
    sign_in_again (account);
    g_assert_cmpstr (purple_account_get_string (account, "terminal", NULL), ==, first);
    g_assert_cmpuint (g_hash_table_size (server->devices), ==, devices);
    g_free (first);
  }
  assert_log_has_no_secrets (server, AGENT_PASSWORD);
  sign_out (account);
  ppms_server_free (server);
}

static void
test_wrong_password (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = harness_add_account (ppms_server_get_url (server), AGENT_EMAIL,
                                                "not-the-password");
  const HarnessError *error;

  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  error = harness_find_error (account);
  g_assert_cmpint (error->reason, ==, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (purple_connection_error_is_fatal (error->reason));
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
  assert_log_has_no_secrets (server, "not-the-password");
  ppms_server_free (server);
}

static void
test_unreachable_server (void)
{
  PpmsServer *server = server_start ();
  char *url = g_strdup (ppms_server_get_url (server));
  PurpleAccount *account;
  const HarnessError *error;

  ppms_server_free (server); /* nobody listens on that port any more */
  account = harness_add_account (url, AGENT_EMAIL, AGENT_PASSWORD);
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, 60000));
  error = harness_find_error (account);
  g_assert_cmpint (error->reason, ==, PURPLE_CONNECTION_ERROR_NETWORK_ERROR);
  g_assert_false (purple_connection_error_is_fatal (error->reason)); /* Pidgin retries */
  g_free (url);
}

static void
answer_not_ppmessage (SoupServer *soup, SoupServerMessage *msg, const char *path,
                      GHashTable *query, gpointer data)
{
  static const char body[] = "<html><body>It works!</body></html>";

  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, body, strlen (body));
}

static void
test_not_a_ppmessage_server (void)
{
  SoupServer *soup = soup_server_new (NULL, NULL);
  GError *error = NULL;
  GSList *uris;
  char *url;
  PurpleAccount *account;
  const HarnessError *reported;

  soup_server_add_handler (soup, NULL, answer_not_ppmessage, NULL, NULL);
  g_assert_true (soup_server_listen_local (soup, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (soup);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  account = harness_add_account (url, AGENT_EMAIL, AGENT_PASSWORD);
  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  reported = harness_find_error (account);
  g_assert_cmpint (reported->reason, ==, PURPLE_CONNECTION_ERROR_INVALID_SETTINGS);
  g_assert_nonnull (strstr (reported->text, "PPMessage"));
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
  g_object_unref (soup);
  g_free (url);
}


static void
test_missing_server_url (void)
{
  PurpleAccount *account = harness_add_account ("", AGENT_EMAIL, AGENT_PASSWORD);

  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  g_assert_cmpint (harness_find_error (account)->reason, ==,
                   PURPLE_CONNECTION_ERROR_INVALID_SETTINGS);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
}

/* No saved password: the user is asked for it, as Pidgin does. */
static void
test_password_prompt (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *asked = harness_add_account (ppms_server_get_url (server), AGENT_EMAIL, NULL);
  PurpleAccount *refused = harness_add_account (ppms_server_get_url (server), BOB_EMAIL, NULL);

  harness_set_password_answer (AGENT_PASSWORD);
  harness_connect (asked);
  g_assert_true (harness_wait_connected (asked, WAIT_MS));
  g_assert_cmpuint (harness_count_password_prompts (), ==, 1);

  harness_set_password_answer (NULL); /* the user cancels */
  harness_connect (refused);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (refused) != NULL, WAIT_MS));
  g_assert_cmpint (harness_find_error (refused)->reason, ==,
                   PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED);
  g_assert_cmpuint (harness_count_password_prompts (), ==, 2);
  assert_log_has_no_secrets (server, AGENT_PASSWORD);

  sign_out (asked);
  ppms_server_free (server);
}

static void
test_key_discovery (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account;

  account = harness_add_account (ppms_server_get_url (server), AGENT_EMAIL, AGENT_PASSWORD);
  g_assert_cmpstr (purple_account_get_string (account, "api_key", ""), ==, "");
  harness_connect (account);
  g_assert_true (harness_wait_connected (account, WAIT_MS));
  g_assert_cmpstr (purple_account_get_string (account, "api_key", ""), ==,
                   ppms_server_ppkefu_key (server));
  /* The next sign-in uses the saved key. */
  sign_out (account);
  sign_in_again (account);
  assert_log_has_no_secrets (server, AGENT_PASSWORD);
  sign_out (account);
  ppms_server_free (server);
}

/* ---- The buddy list ---- */

static void
close_for_agent (PpmsServer *server, const char *conversation_uuid, const char *agent_uuid)
{
  PpmsConversation *conv = ppms_conversation_lookup (server, conversation_uuid);
  PpmsMember *member = conv != NULL ? ppms_conversation_find_member (conv, agent_uuid) : NULL;

  g_assert_nonnull (member);
  g_free (member->status);
  member->status = g_strdup ("CLOSE");
}

static void
test_buddy_list (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *staying = visitor_start (server);
  PpmsPeer *leaving = visitor_start (server);
  const char *bob = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  const char *alice = ppms_server_user_uuid_by_email (server, AGENT_EMAIL);
  PurpleAccount *account = agent_sign_in (server);
  PurpleBuddy *buddy;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (staying))
                                   && harness_find_buddy (account, ppms_peer_user_uuid (leaving))
                                   && harness_find_buddy (account, bob), WAIT_MS));
  buddy = harness_find_buddy (account, ppms_peer_user_uuid (staying));
  g_assert_cmpstr (harness_buddy_group (buddy), ==, TEAM_NAME " Visitors");
  g_assert_true (g_str_has_prefix (purple_buddy_get_alias (buddy), visitor_name (server, staying)));
  buddy = harness_find_buddy (account, bob);
  g_assert_cmpstr (harness_buddy_group (buddy), ==, TEAM_NAME " Colleagues");
  g_assert_cmpstr (purple_buddy_get_alias (buddy), ==, BOB_NAME);
  g_assert_null (harness_find_buddy (account, alice)); /* not oneself */
  g_assert_null (purple_get_ims ());                   /* no window pops up at sign-in */
  g_assert_cmpuint (harness_count_writes (account, VISITOR_GREETING), ==, 0); /* no history flood */

  sign_out (account);
  close_for_agent (server, ppms_peer_conversation_uuid (leaving), alice);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (
    harness_find_buddy (account, ppms_peer_user_uuid (leaving)) == NULL, WAIT_MS));
  g_assert_cmpuint (harness_count_buddies (account, ppms_peer_user_uuid (staying)), ==, 1);
  g_assert_cmpuint (harness_count_buddies (account, bob), ==, 1);
  g_assert_cmpuint (harness_count_buddies (account, NULL), ==, 2);
  g_assert_null (purple_get_ims ());

  sign_out (account);
  ppms_peer_free (staying);
  ppms_peer_free (leaving);
  ppms_server_free (server);
}

/* ---- Messages ---- */

static void
test_visitor_message (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *alice = ppms_server_user_uuid_by_email (server, AGENT_EMAIL);
  char *uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                                    "Hello, is <anyone> there?");
  const HarnessWrite *w = wait_write (account, "Hello, is &lt;anyone&gt; there?");

  g_assert_nonnull (uuid);
  g_assert_cmpstr (w->conversation, ==, ppms_peer_user_uuid (visitor));
  g_assert_cmpint (w->type, ==, PURPLE_CONV_TYPE_IM);
  g_assert_cmpstr (w->who, ==, ppms_peer_user_uuid (visitor));
  /* The visitor's name (made distinct by the library for anonymous ones). */
  g_assert_true (g_str_has_prefix (w->alias, visitor_name (server, visitor)));
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  g_assert_false (w->flags & (PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_DELAYED));
  g_assert_true (HARNESS_WAIT_FOR (push_acked (server, uuid, alice), WAIT_MS));
  harness_run_for (500);
  g_assert_cmpuint (harness_count_writes (account, "there?"), ==, 1);

  assert_log_has_no_secrets (server, AGENT_PASSWORD);
  g_free (uuid);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}


/* The everyday case: a visitor arrives while the agent is online. */
static void
test_new_visitor_while_online (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *visitor = visitor_start (server); /* greets with VISITOR_GREETING */
  const char *who = ppms_peer_user_uuid (visitor);
  const HarnessWrite *w = wait_write (account, VISITOR_GREETING);
  PurpleBuddy *buddy;

  g_assert_cmpstr (w->conversation, ==, who);
  g_assert_cmpstr (w->who, ==, who);
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  g_assert_false (w->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_true (g_str_has_prefix (w->alias, visitor_name (server, visitor)));
  g_assert_true (HARNESS_WAIT_FOR ((buddy = harness_find_buddy (account, who)) != NULL, WAIT_MS));
  g_assert_cmpstr (harness_buddy_group (buddy), ==, TEAM_NAME " Visitors");
  g_assert_cmpuint (harness_count_buddies (account, who), ==, 1);

  send_from_pidgin (account, who, "Welcome! How can I help?");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Welcome! How can I help?", WAIT_MS));
  harness_run_for (300);
  g_assert_cmpuint (harness_count_writes (account, VISITOR_GREETING), ==, 1);

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static void
test_agent_reply (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const HarnessWrite *echo;

  /* Pidgin hands over HTML. */
  send_from_pidgin (account, ppms_peer_user_uuid (visitor),
                    "Hi <b>there</b> &amp; welcome &lt;3<br>Line two");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Hi there & welcome <3\nLine two", WAIT_MS));
  harness_run_for (500);
  /* Shown once, by libpurple's own echo. */
  g_assert_cmpuint (harness_count_writes (account, "welcome"), ==, 1);
  echo = harness_find_write (account, "welcome");
  g_assert_true (echo->flags & PURPLE_MESSAGE_SEND);
  g_assert_false (echo->flags & PURPLE_MESSAGE_REMOTE_SEND);

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static void
test_unicode_and_long_text (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *short_text = "Grüße 👋 你好 — ça va? ½ & <ok>";
  GString *long_text = g_string_new ("Long: ");
  char *escaped;
  char *uuid;

  for (int i = 0; i < 40; i++)
    g_string_append_printf (long_text, "%d 😀 Zürich 東京 <&> ", i);

  uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), short_text);
  g_free (uuid);
  escaped = g_markup_escape_text (short_text, -1);
  g_assert_cmpstr (wait_write (account, "Grüße")->text, ==, escaped);
  g_free (escaped);

  uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), long_text->str);
  g_free (uuid);
  escaped = g_markup_escape_text (long_text->str, -1);
  g_assert_cmpstr (wait_write (account, "Long: ")->text, ==, escaped);
  g_assert_cmpuint (harness_count_writes (account, "Long: "), ==, 1);
  g_free (escaped);

  send_from_pidgin (account, ppms_peer_user_uuid (visitor), "Réponse 🎉 &lt;tag&gt;");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Réponse 🎉 <tag>", WAIT_MS));

  g_string_free (long_text, TRUE);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static void
test_colleague_reply (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  char *uuid = ppms_peer_send_text (bob, ppms_peer_conversation_uuid (visitor),
                                    "Bob answering the visitor");
  const HarnessWrite *w = wait_write (account, "Bob answering the visitor");

  /* In the visitor's window, under Bob's name, as received. */
  g_assert_cmpstr (w->conversation, ==, ppms_peer_user_uuid (visitor));
  g_assert_cmpstr (w->who, ==, BOB_NAME);
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  g_assert_false (w->flags & PURPLE_MESSAGE_SEND);
  harness_run_for (300);
  g_assert_cmpuint (harness_count_writes (account, "Bob answering"), ==, 1);

  g_free (uuid);
  sign_out (account);
  ppms_peer_free (bob);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static void
test_own_message_from_elsewhere (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  PpmsPeer *browser;
  const HarnessWrite *w;

  /* Alice answers from PPKefu in a browser while Pidgin is off. */
  sign_out (account);
  browser = colleague_start (server, AGENT_EMAIL, AGENT_PASSWORD);
  send_and_wait_ack (browser, ppms_peer_conversation_uuid (visitor), "Answered from the browser");
  ppms_peer_close (browser);
  sign_in_again (account);
  w = wait_write (account, "Answered from the browser");
  g_assert_cmpstr (w->conversation, ==, ppms_peer_user_uuid (visitor));
  g_assert_true (w->flags & PURPLE_MESSAGE_SEND);
  g_assert_true (w->flags & PURPLE_MESSAGE_REMOTE_SEND);
  g_assert_true (w->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_false (w->flags & PURPLE_MESSAGE_RECV);
  harness_run_for (300);
  g_assert_cmpuint (harness_count_writes (account, "Answered from the browser"), ==, 1);

  sign_out (account);
  ppms_peer_free (browser);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A reply typed in Pidgin is shown once when sent; the next sign-in does not
 * bring it back from the history as if it came from elsewhere. */
static void
test_own_reply_not_replayed (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *visitor_uuid = ppms_peer_user_uuid (visitor);

  send_from_pidgin (account, visitor_uuid, "Typed in Pidgin");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Typed in Pidgin", WAIT_MS));
  g_assert_cmpuint (harness_count_writes (account, "Typed in Pidgin"), ==, 1);
  sign_out (account);
  sign_in_again (account);
  /* Caught-up messages come before live ones: once this is shown, the
   * catch-up is over. */
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "Thanks!");
  wait_write (account, "Thanks!");
  g_assert_cmpuint (harness_count_writes (account, "Typed in Pidgin"), ==, 1);

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static void
test_missed_messages_recovered_once (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const HarnessWrite *first, *second;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;

  sign_out (account);
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "While you were away 1");
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "While you were away 2");
  sign_in_again (account);
  first = wait_write (account, "While you were away 1");
  second = wait_write (account, "While you were away 2");
  g_assert_true (first->flags & PURPLE_MESSAGE_RECV);
  g_assert_true (first->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_true (second->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_cmpstr (first->conversation, ==, ppms_peer_user_uuid (visitor));
  g_assert_cmpstr (first->who, ==, ppms_peer_user_uuid (visitor));
  /* The server's time, not 0 and not in the future. */
  g_assert_cmpint (first->time, >=, before - 5);
  g_assert_cmpint (first->time, <=, g_get_real_time () / G_USEC_PER_SEC + 5);
  g_assert_cmpint (first->time, <=, second->time);

  /* Once each, also after the next sign-in. */
  sign_out (account);
  sign_in_again (account);
  harness_run_for (1000);
  g_assert_cmpuint (harness_count_writes (account, "While you were away 1"), ==, 1);
  g_assert_cmpuint (harness_count_writes (account, "While you were away 2"), ==, 1);
  /* The greeting before the first sign-in was history, not shown. */
  g_assert_cmpuint (harness_count_writes (account, VISITOR_GREETING), ==, 0);

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}


static void
test_images_and_files_as_text (void)
{
  static const char png_base64[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GError *error = NULL;
  gsize png_size;
  guchar *png = g_base64_decode (png_base64, &png_size);
  GBytes *image = g_bytes_new_take (png, png_size);
  GBytes *report = g_bytes_new_static ("Q3 figures\n", 11);
  char *fid, *body, *uuid;
  const HarnessWrite *w;

  fid = ppms_peer_upload_sync (visitor, "dot.png", "image/png", image, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"mime\": \"image/png\"}", fid);
  uuid = ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), "IMAGE", body);
  g_free (uuid);
  g_free (body);
  /* Finch strips HTML: the image is announced as text with its link. */
  w = wait_write (account, "Image");
  g_assert_nonnull (strstr (w->text, ppms_server_get_url (server)));
  g_assert_nonnull (strstr (w->text, fid));
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  g_free (fid);

  fid = ppms_peer_upload_sync (visitor, "report.txt", "text/plain", report, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"mime\": \"text/plain\"}", fid);
  uuid = ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), "FILE", body);
  g_free (uuid);
  g_free (body);
  w = wait_write (account, "File");
  g_assert_nonnull (strstr (w->text, "report.txt"));
  g_assert_nonnull (strstr (w->text, "11 bytes"));
  g_assert_nonnull (strstr (w->text, ppms_server_get_url (server)));
  g_free (fid);

  g_bytes_unref (image);
  g_bytes_unref (report);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A colleague chat: Pidgin starts it (the 1:1 conversation is created on
 * the first message), the colleague answers in the same window. */
static void
test_colleague_chat (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  const char *bob_uuid = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  const JsonObject *received;
  const char *conversation_uuid;
  char *uuid;
  const HarnessWrite *w;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, bob_uuid) != NULL, WAIT_MS));
  send_from_pidgin (account, bob_uuid, "Bob, can you take the next visitor?");
  received = ppms_peer_wait_message (bob, "can you take the next visitor", WAIT_MS);
  g_assert_nonnull (received);
  conversation_uuid = json_object_get_string_member ((JsonObject *) received, "ci");
  g_assert_nonnull (conversation_uuid);

  uuid = ppms_peer_send_text (bob, conversation_uuid, "Sure, Alice");
  w = wait_write (account, "Sure, Alice");
  g_assert_cmpstr (w->conversation, ==, bob_uuid);
  g_assert_cmpstr (w->who, ==, bob_uuid);
  g_assert_cmpstr (w->alias, ==, BOB_NAME);
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  /* Still one window with Bob, and one conversation on the server. */
  g_assert_cmpuint (g_list_length (purple_get_ims ()), ==, 1);
  g_assert_cmpuint (ppms_server_count_messages (server, conversation_uuid), ==, 2);

  g_free (uuid);
  sign_out (account);
  ppms_peer_free (bob);
  ppms_server_free (server);
}

static gboolean
count_proxy_connection (GSocketService *service, GSocketConnection *connection,
                        GObject *source, gpointer data)
{
  (*(guint *) data)++;
  return FALSE; /* dropped: the proxy refuses everything */
}

/* The account's proxy setting is honoured (libsoup does not go through
 * libpurple's proxy code by itself). */
static void
test_account_proxy_used (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = harness_add_account (ppms_server_get_url (server), AGENT_EMAIL,
                                                AGENT_PASSWORD);
  GSocketService *proxy = g_socket_service_new ();
  PurpleProxyInfo *info = purple_proxy_info_new ();
  GError *error = NULL;
  guint connections = 0;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (proxy), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (proxy, "incoming", G_CALLBACK (count_proxy_connection), &connections);
  purple_proxy_info_set_type (info, PURPLE_PROXY_HTTP);
  purple_proxy_info_set_host (info, "127.0.0.1");
  purple_proxy_info_set_port (info, port);
  purple_account_set_proxy_info (account, info);

  harness_connect (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, 60000));
  g_assert_cmpuint (connections, >, 0);
  g_assert_cmpint (harness_find_error (account)->reason, ==,
                   PURPLE_CONNECTION_ERROR_NETWORK_ERROR);
  g_assert_cmpuint (ppms_server_count_sockets (server), ==, 0);

  g_socket_service_stop (proxy);
  g_object_unref (proxy);
  ppms_server_free (server);
}



/* A dropped websocket is the library's to repair: the account stays online
 * (headless UIs never reconnect by themselves) and nothing is lost. */
static void
test_dropped_socket_recovers (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);

  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (server) == 2, WAIT_MS));
  ppms_server_drop_websockets (server);
  /* The visitor's page reconnects too (it is a test peer: by hand). */
  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "Sent while you were cut off");
  wait_write (account, "Sent while you were cut off");
  harness_run_for (500);
  g_assert_cmpuint (harness_count_writes (account, "Sent while you were cut off"), ==, 1);
  g_assert_null (harness_find_error (account));
  g_assert_true (purple_account_is_connected (account));

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- The visitor role ---- */

static void
test_visitor_account (void)
{
  PpmsServer *server = server_start ();
  char *link = ppms_server_enterprise_link (server);
  PurpleAccount *account = harness_add_account (link, "visitor@example.com", NULL);
  PpmsPeer *alice;
  const JsonObject *received;
  const char *conversation_uuid;
  const HarnessWrite *w;
  GSList *buddies;
  char *uuid;

  purple_account_set_string (account, "role", "visitor");
  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS))
    g_error ("the visitor did not sign in: %s",
             harness_find_error (account) ? harness_find_error (account)->text : "timeout");
  /* One buddy: the team's conversation, in the team's group. */
  g_assert_true (HARNESS_WAIT_FOR (harness_count_buddies (account, NULL) == 1, WAIT_MS));
  buddies = purple_find_buddies (account, NULL);
  conversation_uuid = purple_buddy_get_name (buddies->data);
  g_assert_cmpstr (harness_buddy_group (buddies->data), ==, TEAM_NAME);
  g_slist_free (buddies);

  alice = colleague_start (server, AGENT_EMAIL, AGENT_PASSWORD);
  send_from_pidgin (account, conversation_uuid, "Do you ship to Norway?");
  received = ppms_peer_wait_message (alice, "Do you ship to Norway?", WAIT_MS);
  g_assert_nonnull (received);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) received, "ci"), ==,
                   conversation_uuid);

  uuid = ppms_peer_send_text (alice, conversation_uuid, "Yes, we do");
  w = wait_write (account, "Yes, we do");
  g_assert_cmpstr (w->conversation, ==, conversation_uuid);
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  g_assert_cmpuint (harness_count_writes (account, "Norway"), ==, 1);

  g_free (uuid);
  g_free (link);
  sign_out (account);
  ppms_peer_free (alice);
  ppms_server_free (server);
}

/* ---- Typing ---- */

static void
test_typing_both_ways (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConnection *gc = purple_account_get_connection (account);
  gboolean seen = FALSE;

  /* The server relays typing between sockets watching the conversation:
   * the visitor's page, and the agent's window once it is open. */
  ppms_peer_watch_typing (visitor, ppms_peer_conversation_uuid (visitor));
  purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  for (int attempt = 0; attempt < 10 && !seen; attempt++) {
    ppms_peer_send_typing (visitor);
    seen = HARNESS_WAIT_FOR (harness_count_typing (account, who, PURPLE_TYPING) > 0, 1500);
  }
  g_assert_true (seen);
  /* The notice goes away by itself. */
  g_assert_true (HARNESS_WAIT_FOR (harness_count_typing (account, who, PURPLE_NOT_TYPING) > 0,
                                   PPM_TYPING_TIMEOUT_TEST_MS));

  seen = FALSE;
  for (int attempt = 0; attempt < 10 && !seen; attempt++) {
    serv_send_typing (gc, who, PURPLE_TYPING);
    seen = ppms_peer_wait_typing (visitor, 1500);
  }
  g_assert_true (seen);

  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* At sign-in every waiting message opens its window in one go; only the
 * last window keeps the typing watch, so one watch is asked for, not one
 * per window. */
static void
test_backlog_windows_watch_typing_once (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitors[3];
  PurpleAccount *account = agent_sign_in (server);
  const char *log, *from;
  guint watches = 0;
  gsize log_start;

  sign_out (account);
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++) {
    char *text = g_strdup_printf ("waiting %u", i);

    visitors[i] = visitor_start (server);
    send_and_wait_ack (visitors[i], ppms_peer_conversation_uuid (visitors[i]), text);
    g_free (text);
  }
  log_start = strlen (harness_debug_log ());
  sign_in_again (account);
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++) {
    char *text = g_strdup_printf ("waiting %u", i);

    wait_write (account, text);
    g_free (text);
  }
  g_assert_true (HARNESS_WAIT_FOR (strstr (harness_debug_log () + log_start, "typing_watch") != NULL,
                                   WAIT_MS));
  harness_run_for (300);
  log = harness_debug_log ();
  for (from = log + log_start; (from = strstr (from, "\"type\":\"typing_watch\"")) != NULL; from++)
    watches++;
  g_assert_cmpuint (watches, ==, 1);

  sign_out (account);
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++)
    ppms_peer_free (visitors[i]);
  ppms_server_free (server);
}

/* ---- Failures ---- */

static void
test_signed_in_elsewhere (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *browser = colleague_start (server, AGENT_EMAIL, AGENT_PASSWORD);
  const HarnessError *error;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_error (account) != NULL, WAIT_MS));
  error = harness_find_error (account);
  g_assert_cmpint (error->reason, ==, PURPLE_CONNECTION_ERROR_NAME_IN_USE);
  g_assert_true (purple_connection_error_is_fatal (error->reason)); /* no reconnect fight */
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
  g_assert_false (ppms_peer_was_kicked (browser));

  ppms_peer_free (browser);
  ppms_server_free (server);
}

/* ---- Status ---- */

static void
test_status_reaches_server (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  const char *alice = ppms_server_user_uuid_by_email (server, AGENT_EMAIL);
  static const struct { const char *id, *server_status; } steps[] = {
    { "busy", "BUSY" }, { "away", "REST" }, { "available", "READY" },
  };

  g_assert_true (HARNESS_WAIT_FOR (
    g_strcmp0 (ppms_server_user_service_status (server, alice), "READY") == 0, WAIT_MS));
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    purple_account_set_status (account, steps[i].id, TRUE, NULL);
    g_assert_true (HARNESS_WAIT_FOR (g_strcmp0 (ppms_server_user_service_status (server, alice),
                                                steps[i].server_status) == 0, WAIT_MS));
    g_assert_true (purple_account_is_connected (account));
  }
  sign_out (account);
  ppms_server_free (server);
}

/* ---- Several accounts ---- */

static void
test_two_accounts_two_servers (void)
{
  PpmsServer *one = server_start ();
  PpmsServer *two = server_start ();
  PpmsPeer *visitor_one = visitor_start (one);
  PpmsPeer *visitor_two = visitor_start (two);
  PurpleAccount *alice = agent_with_visitor (one, visitor_one);
  PurpleAccount *bob = agent_sign_in_as (two, BOB_EMAIL, BOB_PASSWORD);
  char *uuid;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (bob, ppms_peer_user_uuid (visitor_two)),
                                   WAIT_MS));
  g_assert_null (harness_find_buddy (alice, ppms_peer_user_uuid (visitor_two)));
  g_assert_null (harness_find_buddy (bob, ppms_peer_user_uuid (visitor_one)));

  uuid = ppms_peer_send_text (visitor_one, ppms_peer_conversation_uuid (visitor_one), "To server one");
  g_free (uuid);
  uuid = ppms_peer_send_text (visitor_two, ppms_peer_conversation_uuid (visitor_two), "To server two");
  g_free (uuid);
  g_assert_cmpstr (wait_write (alice, "To server one")->conversation, ==,
                   ppms_peer_user_uuid (visitor_one));
  g_assert_cmpstr (wait_write (bob, "To server two")->conversation, ==,
                   ppms_peer_user_uuid (visitor_two));
  g_assert_cmpuint (harness_count_writes (NULL, "To server one"), ==, 1);
  g_assert_cmpuint (harness_count_writes (NULL, "To server two"), ==, 1);

  /* One account going away leaves the other alone. */
  sign_out (alice);
  uuid = ppms_peer_send_text (visitor_two, ppms_peer_conversation_uuid (visitor_two), "Still here");
  g_free (uuid);
  wait_write (bob, "Still here");
  g_assert_true (purple_account_is_connected (bob));

  assert_log_has_no_secrets (one, AGENT_PASSWORD);
  assert_log_has_no_secrets (two, BOB_PASSWORD);
  sign_out (bob);
  ppms_peer_free (visitor_one);
  ppms_peer_free (visitor_two);
  ppms_server_free (one);
  ppms_server_free (two);
}

/* ---- Secrets ---- */

static void
test_debug_log_has_no_secrets (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  char *uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "Secret test");

  wait_write (account, "Secret test");
  send_from_pidgin (account, ppms_peer_user_uuid (visitor), "Answer");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "Answer", WAIT_MS));
  sign_out (account);
  sign_in_again (account);
  sign_out (account);

  /* The log is real (the plugin and the library wrote to it)... */
  g_assert_nonnull (strstr (harness_debug_log (), "ppmessage"));
  g_assert_cmpuint (g_hash_table_size (server->tokens), >, 0);
  /* ...and holds nothing to steal. */
  assert_log_has_no_secrets (server, AGENT_PASSWORD);

  g_free (uuid);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Names are normalised as libpurple's default does (NFD, case kept), only
 * faster for ASCII: a buddy or window is found by any spelling it was. */
static void
test_names_normalized_as_libpurple_does (void)
{
  PurpleAccount *account = harness_add_account ("http://127.0.0.1:1", AGENT_EMAIL, NULL);
  static const char *const names[] = {
    "25d3b328-f24a-11f1-8e07-1b802fe1ecdc", "Alice Agent", "Caf\xc3\xa9 \xe5\xae\xa2\xe6\x9c\x8d",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *expected = g_utf8_normalize (names[i], -1, G_NORMALIZE_DEFAULT);

    g_assert_cmpstr (purple_normalize (account, names[i]), ==, expected);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/plugin/loads", test_plugin_loads);
  harness_add_test ("/purple/plugin/names-normalized-as-libpurple-does",
                    test_names_normalized_as_libpurple_does);
  harness_add_test ("/purple/sign-in/success", test_sign_in);
  harness_add_test ("/purple/sign-in/wrong-password", test_wrong_password);
  harness_add_test ("/purple/sign-in/unreachable", test_unreachable_server);
  harness_add_test ("/purple/sign-in/not-ppmessage", test_not_a_ppmessage_server);
  harness_add_test ("/purple/sign-in/key-discovery", test_key_discovery);
  harness_add_test ("/purple/sign-in/missing-server", test_missing_server_url);
  harness_add_test ("/purple/sign-in/password-prompt", test_password_prompt);
  harness_add_test ("/purple/sign-in/signed-in-elsewhere", test_signed_in_elsewhere);
  harness_add_test ("/purple/buddies/reconcile", test_buddy_list);
  harness_add_test ("/purple/im/visitor-message", test_visitor_message);
  harness_add_test ("/purple/im/own-reply-not-replayed", test_own_reply_not_replayed);
  harness_add_test ("/purple/im/new-visitor-while-online", test_new_visitor_while_online);
  harness_add_test ("/purple/im/agent-reply", test_agent_reply);
  harness_add_test ("/purple/im/unicode-and-long", test_unicode_and_long_text);
  harness_add_test ("/purple/im/colleague-reply", test_colleague_reply);
  harness_add_test ("/purple/im/own-from-elsewhere", test_own_message_from_elsewhere);
  harness_add_test ("/purple/im/missed-recovered-once", test_missed_messages_recovered_once);
  harness_add_test ("/purple/im/dropped-socket-recovers", test_dropped_socket_recovers);
  harness_add_test ("/purple/im/images-and-files", test_images_and_files_as_text);
  harness_add_test ("/purple/im/colleague-chat", test_colleague_chat);
  harness_add_test ("/purple/sign-in/account-proxy", test_account_proxy_used);
  harness_add_test ("/purple/typing/both-ways", test_typing_both_ways);
  harness_add_test ("/purple/typing/backlog-windows-watch-once",
                    test_backlog_windows_watch_typing_once);
  harness_add_test ("/purple/visitor-role/talks-with-team", test_visitor_account);
  harness_add_test ("/purple/status/reaches-server", test_status_reaches_server);
  harness_add_test ("/purple/accounts/two-servers", test_two_accounts_two_servers);
  harness_add_test ("/purple/secrets/debug-log", test_debug_log_has_no_secrets);
  return g_test_run ();
}
