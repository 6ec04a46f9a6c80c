/* test-purple-people.c: who a buddy is, with the built plugin in a headless
 * libpurple core against the test server: Get Info, buddy icons (fetched
 * once, again only when the user's icon changes), a visitor's page (where
 * the server tells it), and a visitor account's one buddy named after the
 * team.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include "purple-fixtures.h"
#include "ppms-internal.h"

#define BOB_SIGNATURE "Here to help, 9 to 5"

/* ---- Get Info windows, captured ---- */

static GPtrArray *user_infos;  /* char*: "who\nlabel: value\n..." */

static void *
capture_userinfo (PurpleConnection *gc, const char *who, PurpleNotifyUserInfo *info)
{
  GString *text = g_string_new (who);

  for (GList *l = purple_notify_user_info_get_entries (info); l != NULL; l = l->next)
    g_string_append_printf (text, "\n%s: %s", purple_notify_user_info_entry_get_label (l->data),
                            purple_notify_user_info_entry_get_value (l->data));
  g_ptr_array_add (user_infos, g_string_free (text, FALSE));
  return NULL;
}

static PurpleNotifyUiOps notify_ops = {
  .notify_userinfo = capture_userinfo,
};

static void
capture_notifications (void)
{
  user_infos = g_ptr_array_new_with_free_func (g_free);
  purple_notify_set_ui_ops (&notify_ops);
}

static const char *
get_info (PurpleAccount *account, const char *who)
{
  PurpleConnection *gc = purple_account_get_connection (account);
  guint before = user_infos->len;

  serv_get_info (gc, who);
  g_assert_true (HARNESS_WAIT_FOR (user_infos->len > before, WAIT_MS));
  return user_infos->pdata[before];
}

/* info holds this line exactly. */
static gboolean
has_line (const char *info, const char *line)
{
  g_auto (GStrv) lines = g_strsplit (info, "\n", -1);

  return g_strv_contains ((const char *const *) lines, line);
}

static void
test_get_info (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account;
  const char *bob = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  const char *info;
  PpmsPeer *bob_peer;

  capture_notifications ();
  ppms_user_lookup (server, bob)->user_signature = g_strdup (BOB_SIGNATURE);
  account = agent_with_visitor (server, visitor);

  info = get_info (account, bob);
  g_assert_true (has_line (info, "Name: " BOB_NAME));
  g_assert_true (has_line (info, "E-mail: " BOB_EMAIL));
  g_assert_true (has_line (info, "Role: Colleague"));
  g_assert_true (has_line (info, "Signature: " BOB_SIGNATURE));
  /* Bob never signed in: the server has no service status for him. */
  g_assert_null (strstr (info, "Service status"));
  bob_peer = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  g_assert_true (has_line (get_info (account, bob), "Service status: Available"));

  info = get_info (account, ppms_peer_user_uuid (visitor));
  g_assert_true (g_str_has_prefix (strstr (info, "Name: ") + strlen ("Name: "),
                                   visitor_name (server, visitor)));
  g_assert_true (has_line (info, "Role: Visitor"));
  g_assert_true (has_line (info, "Device: Web browser (PPCom)"));
  g_assert_null (strstr (info, "Signature"));
  /* The shipped server never says which page a visitor is on. */
  g_assert_null (strstr (info, "Page"));

  sign_out (account);
  ppms_peer_free (bob_peer);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- Where a visitor is ---- */

#define TEST_PAGE_TITLE "PPMessage test page"
#define TEST_PAGE_URL "http://127.0.0.1/test/index.html"

static gboolean
tooltip_has (PurpleAccount *account, const char *who, const char *line)
{
  PurplePluginProtocolInfo *prpl = PURPLE_PLUGIN_PROTOCOL_INFO (purple_find_prpl (
                                                                  HARNESS_PLUGIN_ID));
  PurpleNotifyUserInfo *info = purple_notify_user_info_new ();
  GString *text = g_string_new (who);
  gboolean found;

  prpl->tooltip_text (harness_find_buddy (account, who), info, TRUE);
  for (GList *l = purple_notify_user_info_get_entries (info); l != NULL; l = l->next)
    g_string_append_printf (text, "\n%s: %s", purple_notify_user_info_entry_get_label (l->data),
                            purple_notify_user_info_entry_get_value (l->data));
  found = has_line (text->str, line);
  g_string_free (text, TRUE);
  purple_notify_user_info_destroy (info);
  return found;
}

/* A server that delivers ONLINE frames (not the shipped one) tells the
 * page a visitor opened PPCom on. */
static void
test_visitor_page (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor;
  PurpleAccount *account;
  char *who;
  const HarnessWrite *context, *message;
  GError *error = NULL;

  capture_notifications ();
  ppms_server_set_deliver_online (server, TRUE);
  visitor = visitor_start (server);
  who = g_strdup (ppms_peer_user_uuid (visitor)); /* outlives the peer's restart */
  account = agent_with_visitor (server, visitor);
  g_assert_false (tooltip_has (account, who, "Page: " TEST_PAGE_TITLE));

  /* The visitor comes back (PPCom opened again): its socket's auth. */
  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  g_assert_true (HARNESS_WAIT_FOR (tooltip_has (account, who, "Page: " TEST_PAGE_TITLE), WAIT_MS));
  g_assert_true (tooltip_has (account, who, "Page address: " TEST_PAGE_URL));
  g_assert_cmpuint (harness_count_writes (account, TEST_PAGE_TITLE), ==, 0); /* no window */

  /* It writes: the window opens with the line saying where it is. */
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "I am here");
  message = wait_write (account, "I am here");
  context = wait_write (account, " is on " TEST_PAGE_TITLE " (" TEST_PAGE_URL ")");
  g_assert_true (context->flags & PURPLE_MESSAGE_SYSTEM);
  g_assert_cmpstr (context->conversation, ==, who);
  g_assert_true (g_ptr_array_find (harness_writes (), context, NULL));
  {
    guint context_index = 0, message_index = 0;

    g_ptr_array_find (harness_writes (), context, &context_index);
    g_ptr_array_find (harness_writes (), message, &message_index);
    g_assert_cmpuint (context_index, <, message_index);
  }
  g_assert_true (has_line (get_info (account, who), "Page: " TEST_PAGE_TITLE));
  harness_run_for (300);
  g_assert_cmpuint (harness_count_writes (account, " is on "), ==, 1);
  g_free (who);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- Icons ---- */

static gboolean
has_icon_from (PurpleAccount *account, const char *who, const char *url)
{
  PurpleBuddyIcon *icon = purple_buddy_icons_find (account, who);

  return icon != NULL && g_strcmp0 (purple_buddy_icon_get_checksum (icon), url) == 0;
}

static void
assert_identicon (PurpleAccount *account, const char *who)
{
  PurpleBuddyIcon *icon = purple_buddy_icons_find (account, who);
  size_t size = 0;
  gconstpointer data = purple_buddy_icon_get_data (icon, &size);

  g_assert_cmpmem (data, size, ppms_identicon_png, sizeof ppms_identicon_png);
}

static void
test_icons_fetched_once (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  const char *bob = ppms_server_user_uuid_by_email (server, BOB_EMAIL);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  PpmsUser *bob_user = ppms_user_lookup (server, bob);
  char *new_icon;
  guint fetched;

  g_assert_true (HARNESS_WAIT_FOR (has_icon_from (account, bob, bob_user->user_icon), WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (
    has_icon_from (account, who, ppms_user_lookup (server, who)->user_icon), WAIT_MS));
  assert_identicon (account, bob);
  assert_identicon (account, who);
  fetched = ppms_server_count_requests (server, "/identicon/");
  g_assert_cmpuint (fetched, ==, 2);

  /* Signed in again, nothing changed: nothing fetched. */
  sign_out (account);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, who), WAIT_MS));
  harness_run_for (1000);
  g_assert_cmpuint (ppms_server_count_requests (server, "/identicon/"), ==, fetched);

  /* Bob's icon changes: his alone is fetched, once. */
  sign_out (account);
  new_icon = g_strdup_printf ("%s/identicon/identicon/42.png", ppms_server_get_url (server));
  g_free (bob_user->user_icon);
  bob_user->user_icon = new_icon;
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (has_icon_from (account, bob, new_icon), WAIT_MS));
  harness_run_for (1000);
  g_assert_cmpuint (ppms_server_count_requests (server, "/identicon/"), ==, fetched + 1);
  g_assert_true (has_icon_from (account, who, ppms_user_lookup (server, who)->user_icon));
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A sign-in with a backlog of 300 conversations: their visitors' icons
 * wait until the account is connected (they were 300 downloads queued ahead
 * of the catch-up), then every one arrives. libpurple counts the users of
 * one icon image in 8 bits: 300 visitors with the same picture must not
 * wrap it (the image was freed under the buddies and windows still showing
 * it; valgrind sees the reads). */
static gboolean
icons_settled (PpmsServer *server, guint expected)
{
  return ppms_server_count_requests (server, "/identicon/") >= expected;
}

static gint icons_asked_at_sign_on = -1;

static void
on_signed_on (PurpleConnection *gc, gpointer server)
{
  icons_asked_at_sign_on = (gint) ppms_server_count_requests (server, "/identicon/");
}

static gboolean
every_buddy_has_its_icon (PpmsServer *server, PurpleAccount *account)
{
  GSList *buddies = purple_find_buddies (account, NULL);
  gboolean all = buddies != NULL;

  for (GSList *l = buddies; all && l != NULL; l = l->next) {
    PpmsUser *user = ppms_user_lookup (server, purple_buddy_get_name (l->data));

    all = user != NULL
          && g_strcmp0 (purple_buddy_icons_get_checksum_for_user (l->data), user->user_icon) == 0;
  }
  g_slist_free (buddies);
  return all;
}

static void
test_icons_after_backlog (void)
{
  PpmsServer *server = server_start ();
  g_autoptr (GError) error = NULL;
  PurpleAccount *account;
  GSList *buddies;
  static int handle;

  g_assert_true (ppms_server_generate (server, "{\"conversations\": 300, \"messages_per_conversation\": 1,"
                                               " \"unacked_per_conversation\": 1, \"seed\": 3}", &error));
  g_assert_no_error (error);
  purple_signal_connect (purple_connections_get_handle (), "signed-on", &handle,
                         PURPLE_CALLBACK (on_signed_on), server);
  account = harness_add_account (ppms_server_get_url (server), AGENT_EMAIL, AGENT_PASSWORD);
  harness_connect (account);
  g_assert_true (harness_wait_connected (account, WAIT_MS));
  g_assert_cmpint (icons_asked_at_sign_on, ==, 0);
  g_assert_true (HARNESS_WAIT_FOR (icons_settled (server, 300), WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (every_buddy_has_its_icon (server, account), WAIT_MS));
  /* One download each (the visitors and the colleagues), none twice. */
  g_assert_cmpuint (ppms_server_count_requests (server, "/identicon/"), ==,
                    harness_count_buddies (account, NULL));
  purple_signal_disconnect (purple_connections_get_handle (), "signed-on", &handle,
                            PURPLE_CALLBACK (on_signed_on));
  /* Every window closed and every buddy removed drops the image's users. */
  while (purple_get_conversations () != NULL)
    purple_conversation_destroy (purple_get_conversations ()->data);
  buddies = purple_find_buddies (account, NULL);
  for (GSList *l = buddies; l != NULL; l = l->next)
    purple_blist_remove_buddy (l->data);
  g_slist_free (buddies);
  sign_out (account);
  ppms_server_free (server);
}

/* ---- A visitor account's buddy ---- */

static void
test_visitor_buddy_is_the_team (void)
{
  PpmsServer *server = server_start ();
  char *link = ppms_server_enterprise_link (server);
  PurpleAccount *account = harness_add_account (link, "visitor@example.com", NULL);
  char *team_icon = g_strdup_printf ("%s/identicon/identicon/7.png", ppms_server_get_url (server));
  PpmsPeer *alice, *bob;
  const char *conversation_uuid;
  PurpleBuddy *team;
  GSList *buddies;

  /* The team's icon, as PPConsole sets it. */
  server->app->app_icon = g_strdup (team_icon);
  purple_account_set_string (account, "role", "visitor");
  harness_connect (account);
  g_assert_true (harness_wait_connected (account, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (harness_count_buddies (account, NULL) == 1, WAIT_MS));
  buddies = purple_find_buddies (account, NULL);
  team = buddies->data;
  g_slist_free (buddies);
  conversation_uuid = purple_buddy_get_name (team);
  g_assert_cmpstr (purple_buddy_get_alias (team), ==, TEAM_NAME);
  g_assert_true (HARNESS_WAIT_FOR (has_icon_from (account, conversation_uuid, team_icon),
                                   WAIT_MS));
  assert_identicon (account, conversation_uuid);

  /* Agents answering change the server's name of the conversation, not
   * the buddy's. */
  alice = colleague_start (server, AGENT_EMAIL, AGENT_PASSWORD);
  bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  send_and_wait_ack (alice, conversation_uuid, "Alice here");
  send_and_wait_ack (bob, conversation_uuid, "Bob here");
  wait_write (account, "Bob here");
  g_assert_cmpstr (purple_buddy_get_alias (team), ==, TEAM_NAME);
  sign_out (account);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_count_buddies (account, NULL) == 1, WAIT_MS));
  g_assert_cmpstr (purple_buddy_get_alias (harness_find_buddy (account, conversation_uuid)), ==,
                   TEAM_NAME);
  g_free (link);
  g_free (team_icon);
  sign_out (account);
  ppms_peer_free (alice);
  ppms_peer_free (bob);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/people/get-info", test_get_info);
  harness_add_test ("/purple/people/icons-fetched-once", test_icons_fetched_once);
  harness_add_test ("/purple/people/icons-after-backlog", test_icons_after_backlog);
  harness_add_test ("/purple/people/visitor-page", test_visitor_page);
  harness_add_test ("/purple/people/visitor-buddy-is-the-team", test_visitor_buddy_is_the_team);
  return g_test_run ();
}
