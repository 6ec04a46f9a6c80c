/* test-purple-actions.c: the buddy menu and the account's actions, with the
 * built plugin in a headless libpurple core against the test server:
 * closing a visitor's conversation and reopening it (by writing, and by the
 * visitor writing again), setting the service status, opening PPConsole.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include "purple-fixtures.h"
#include "ppms-internal.h"

/* ---- The menus as Pidgin shows them ---- */

static GList *
buddy_menu (PurpleBuddy *buddy)
{
  PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO (purple_find_prpl (
                                                                  HARNESS_PLUGIN_ID));

  return info->blist_node_menu (PURPLE_BLIST_NODE (buddy));
}

/* TRUE when the buddy's menu has an item of this label; runs it if run. */
static gboolean
buddy_menu_item (PurpleBuddy *buddy, const char *label, gboolean run)
{
  GList *items = buddy_menu (buddy);
  gboolean found = FALSE;

  for (GList *l = items; l != NULL; l = l->next) {
    PurpleMenuAction *item = l->data;

    if (g_strcmp0 (item->label, label) == 0) {
      found = TRUE;
      if (run)
        ((void (*) (PurpleBlistNode *, gpointer)) item->callback) (
          PURPLE_BLIST_NODE (buddy), item->data);
    }
  }
  g_list_free_full (items, (GDestroyNotify) purple_menu_action_free);
  return found;
}

static gboolean
run_account_action (PurpleAccount *account, const char *label)
{
  PurplePlugin *prpl = purple_find_prpl (HARNESS_PLUGIN_ID);
  PurpleConnection *gc = purple_account_get_connection (account);
  GList *actions = PURPLE_PLUGIN_ACTIONS (prpl, gc);
  gboolean found = FALSE;

  for (GList *l = actions; l != NULL; l = l->next) {
    PurplePluginAction *action = l->data;

    if (action != NULL && g_strcmp0 (action->label, label) == 0) {
      action->plugin = prpl;
      action->context = gc;
      action->callback (action);
      found = TRUE;
    }
  }
  g_list_free_full (actions, (GDestroyNotify) purple_plugin_action_free);
  return found;
}

static const char *
member_status (PpmsServer *server, const char *conversation_uuid, const char *user_uuid)
{
  PpmsMember *member = ppms_conversation_find_member (
    ppms_conversation_lookup (server, conversation_uuid), user_uuid);

  return member != NULL ? member->status : NULL;
}

static gboolean
buddy_online (PurpleAccount *account, const char *who)
{
  PurpleBuddy *buddy = harness_find_buddy (account, who);

  return buddy != NULL && PURPLE_BUDDY_IS_ONLINE (buddy);
}

static void
test_close_and_reopen (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  const char *conversation = ppms_peer_conversation_uuid (visitor);
  const char *alice = ppms_server_user_uuid_by_email (server, AGENT_EMAIL);
  PurpleBuddy *buddy = harness_find_buddy (account, who);

  g_assert_true (buddy_online (account, who));
  g_assert_false (buddy_menu_item (buddy, "Reopen conversation", FALSE));
  g_assert_true (buddy_menu_item (buddy, "Close conversation", TRUE));
  g_assert_true (HARNESS_WAIT_FOR (!buddy_online (account, who), WAIT_MS));
  g_assert_cmpstr (member_status (server, conversation, alice), ==, "CLOSE");
  /* Marked closed, still on the list, with its way back. */
  buddy = harness_find_buddy (account, who);
  g_assert_nonnull (buddy);
  g_assert_false (buddy_menu_item (buddy, "Close conversation", FALSE));

  /* Reopen: the window says how; the message sent reopens it. */
  g_assert_true (buddy_menu_item (buddy, "Reopen conversation", TRUE));
  wait_write (account, "your next message reopens it");
  send_from_pidgin (account, who, "We are back");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "We are back", WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (buddy_online (account, who), WAIT_MS));
  g_assert_cmpstr (member_status (server, conversation, alice), ==, "OPEN");
  g_assert_true (buddy_menu_item (buddy, "Close conversation", FALSE));

  /* Closed again; the visitor writing brings it back by itself. */
  g_assert_true (buddy_menu_item (buddy, "Close conversation", TRUE));
  g_assert_true (HARNESS_WAIT_FOR (!buddy_online (account, who), WAIT_MS));
  send_and_wait_ack (visitor, conversation, "Me again");
  wait_write (account, "Me again");
  g_assert_true (HARNESS_WAIT_FOR (buddy_online (account, who), WAIT_MS));
  g_assert_cmpuint (harness_count_writes (account, "Me again"), ==, 1);
  g_assert_true (buddy_menu_item (harness_find_buddy (account, who), "Close conversation",
                                  FALSE));

  /* Closed at sign-out: the next sign-in leaves it off the list. */
  g_assert_true (buddy_menu_item (harness_find_buddy (account, who), "Close conversation",
                                  TRUE));
  g_assert_true (HARNESS_WAIT_FOR (!buddy_online (account, who), WAIT_MS));
  sign_out (account);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, who) == NULL, WAIT_MS));
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* ---- Account actions ---- */

static char *opened_uri;

static void *
capture_uri (const char *uri)
{
  g_free (opened_uri);
  opened_uri = g_strdup (uri);
  return NULL;
}

static PurpleNotifyUiOps notify_ops = {
  .notify_uri = capture_uri,
};

static void
test_account_actions (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *account = agent_sign_in (server);
  const char *alice = ppms_server_user_uuid_by_email (server, AGENT_EMAIL);
  char *console;

  purple_notify_set_ui_ops (&notify_ops);
  g_assert_cmpstr (ppms_server_user_service_status (server, alice), ==, "READY");
  harness_set_action_answer ("Busy");
  g_assert_true (run_account_action (account, "Set Service Status..."));
  g_assert_true (HARNESS_WAIT_FOR (
    g_strcmp0 (ppms_server_user_service_status (server, alice), "BUSY") == 0, WAIT_MS));
  g_assert_cmpstr (purple_status_get_id (purple_account_get_active_status (account)), ==,
                   "busy");

  g_assert_true (run_account_action (account, "Open the Team's PPConsole"));
  console = g_strdup_printf ("%s/ppconsole/", ppms_server_get_url (server));
  g_assert_cmpstr (opened_uri, ==, console);
  g_free (console);
  sign_out (account);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/actions/close-and-reopen", test_close_and_reopen);
  harness_add_test ("/purple/actions/account", test_account_actions);
  return g_test_run ();
}
