/* test-purple-chat.c: group conversations of agents as libpurple chats,
 * with the built plugin in a headless libpurple core against the test
 * server: a group a colleague made opens as a chat with its members (no
 * "entered" lines for them), messages both ways under each sender's name,
 * closing the window and coming back; a group created from "Join a Chat"
 * (the server sees the creation and the membership call, also when a
 * one-to-one with the first colleague exists); inviting; typing; leaving
 * the group from the buddy list; the room list;
 * /history in a chat; a visitor's conversation with three agents stays an
 * IM.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include <glib/gstdio.h>

#include <cmds.h>
#include <roomlist.h>

#include "purple-fixtures.h"
#include "ppms-internal.h"

#define CAROL_EMAIL    "carol@ppmessage.local"
#define CAROL_NAME     "Carol Care"
#define DAVE_EMAIL     "dave@ppmessage.local"
#define GROUP_NAME     "Support leads"
#define EARLY_COUNT    24

static const char TEAM_OF_FOUR[] =
  "{\"app\": {\"app_name\": \"" TEAM_NAME "\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"" AGENT_NAME "\", \"is_service_user\": true,"
  "   \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB_EMAIL "\", \"password\": \"" BOB_PASSWORD "\","
  "   \"user_fullname\": \"" BOB_NAME "\", \"is_service_user\": true},"
  "  {\"user_email\": \"" CAROL_EMAIL "\", \"password\": \"carolpass\","
  "   \"user_fullname\": \"" CAROL_NAME "\", \"is_service_user\": true},"
  "  {\"user_email\": \"" DAVE_EMAIL "\", \"password\": \"davepass\","
  "   \"user_fullname\": \"Dave Desk\", \"is_service_user\": true}"
  " ]}";

static const char *
uuid_of (PpmsServer *server, const char *email)
{
  const char *uuid = ppms_server_user_uuid_by_email (server, email);

  g_assert_nonnull (uuid);
  return uuid;
}

/* What PPKefu would do for a group: the server cannot create one with two
 * members at once, so Bob creates it with Alice and adds Carol. */
static char *
bob_makes_group (PpmsServer *server, PpmsPeer *bob)
{
  GError *error = NULL;
  char *uuid = ppms_peer_create_s2s_sync (bob, uuid_of (server, AGENT_EMAIL), GROUP_NAME, &error);

  g_assert_no_error (error);
  g_assert_true (ppms_peer_add_member_sync (bob, uuid, uuid_of (server, CAROL_EMAIL), &error));
  g_assert_no_error (error);
  return uuid;
}

static PurpleConversation *
chat_window (PurpleAccount *account, const char *conversation_uuid)
{
  return purple_find_conversation_with_account (PURPLE_CONV_TYPE_CHAT, conversation_uuid,
                                                account);
}

static const HarnessWrite *
last_exact_write (PurpleAccount *account, const char *text)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = writes->len; i > 0; i--) {
    const HarnessWrite *w = writes->pdata[i - 1];

    if (w->account == account && g_strcmp0 (w->text, text) == 0)
      return w;
  }
  return NULL;
}

static gboolean
server_has_member (PpmsServer *server, const char *conversation_uuid, const char *user_uuid)
{
  PpmsConversation *c = ppms_conversation_lookup (server, conversation_uuid);

  return c != NULL && ppms_conversation_find_member (c, user_uuid) != NULL;
}

/* The one chat window of the account, or NULL. */
static PurpleConversation *
only_chat (PurpleAccount *account)
{
  PurpleConversation *found = NULL;

  for (GList *l = purple_get_chats (); l != NULL; l = l->next)
    if (purple_conversation_get_account (l->data) == account) {
      g_assert_null (found);
      found = l->data;
    }
  return found;
}

static void
join_from_dialog (PurpleAccount *account, const char *name, const char *members)
{
  GHashTable *components = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert (components, g_strdup ("name"), g_strdup (name));
  if (members != NULL)
    g_hash_table_insert (components, g_strdup ("members"), g_strdup (members));
  serv_join_chat (purple_account_get_connection (account), components);
  g_hash_table_destroy (components);
}

static void
test_group_of_colleague (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  char *group = bob_makes_group (server, bob);
  const char *alice = uuid_of (server, AGENT_EMAIL);
  const char *bob_uuid = uuid_of (server, BOB_EMAIL);
  const char *carol = uuid_of (server, CAROL_EMAIL);
  const HarnessWrite *w;
  PurpleConversation *conv;
  PurpleConvChat *chat;
  PurpleChat *blist_chat;
  PurpleConvChatBuddy *member;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, carol) != NULL, WAIT_MS));
  send_and_wait_ack (bob, group, "Hello group");
  w = wait_write (account, "Hello group");
  g_assert_cmpint (w->type, ==, PURPLE_CONV_TYPE_CHAT);
  g_assert_cmpstr (w->conversation, ==, group);
  g_assert_cmpstr (w->who, ==, bob_uuid);
  g_assert_cmpstr (w->alias, ==, BOB_NAME);
  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  /* Its members are in the window, with their names, without a line each. */
  conv = chat_window (account, group);
  g_assert_nonnull (conv);
  chat = PURPLE_CONV_CHAT (conv);
  /* Met live, a group is called by its members: only the server's lists
   * tell the name it was created with (see the room list test). */
  g_assert_cmpstr (purple_conversation_get_title (conv), ==, BOB_NAME ", " CAROL_NAME);
  g_assert_cmpuint (g_list_length (purple_conv_chat_get_users (chat)), ==, 3);
  member = purple_conv_chat_cb_find (chat, carol);
  g_assert_nonnull (member);
  g_assert_cmpstr (member->alias, ==, CAROL_NAME);
  g_assert_nonnull (purple_conv_chat_cb_find (chat, alice));
  g_assert_cmpuint (harness_count_writes (account, "entered"), ==, 0);
  /* No buddy for the group: a chat on the list, named after it. */
  g_assert_null (harness_find_buddy (account, group));
  blist_chat = purple_blist_find_chat (account, group);
  g_assert_nonnull (blist_chat);
  g_assert_cmpstr (purple_chat_get_name (blist_chat), ==, BOB_NAME ", " CAROL_NAME);

  /* Alice answers: Bob gets it, her window shows it once, as hers. */
  purple_conv_chat_send (chat, "Hi both");
  g_assert_nonnull (ppms_peer_wait_message (bob, "Hi both", WAIT_MS));
  g_assert_cmpuint (count_exact_writes (account, "Hi both"), ==, 1);
  w = find_exact_write (account, "Hi both");
  g_assert_true (w->flags & PURPLE_MESSAGE_SEND);
  g_assert_cmpstr (w->who, ==, alice);

  /* Closing the window leaves the group: its next message opens a new
   * window, shown once there, and once viewed, the earlier ones (as
   * history). */
  purple_conversation_destroy (conv);
  g_assert_null (chat_window (account, group));
  g_assert_true (server_has_member (server, group, alice));
  send_and_wait_ack (bob, group, "Still there?");
  wait_write (account, "Still there?");
  g_assert_nonnull (chat_window (account, group));
  harness_view_conversation (chat_window (account, group));
  g_assert_cmpuint (count_exact_writes (account, "Still there?"), ==, 1);
  g_assert_true (HARNESS_WAIT_FOR (count_exact_writes (account, "Hello group") == 2, WAIT_MS));
  g_assert_true (last_exact_write (account, "Hello group")->flags & PURPLE_MESSAGE_DELAYED);

  ppms_peer_free (bob);
  g_free (group);
  sign_out (account);
  ppms_server_free (server);
}

/* Runs the item of the chat's buddy-list menu with this label; FALSE when
 * there is none. */
static gboolean
run_chat_menu_item (PurpleChat *chat, const char *label)
{
  PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO (purple_find_prpl (
                                                                  HARNESS_PLUGIN_ID));
  GList *items = info->blist_node_menu (PURPLE_BLIST_NODE (chat));
  gboolean found = FALSE;

  for (GList *l = items; l != NULL; l = l->next) {
    PurpleMenuAction *item = l->data;

    if (g_strcmp0 (item->label, label) == 0) {
      found = TRUE;
      ((void (*) (PurpleBlistNode *, gpointer)) item->callback) (PURPLE_BLIST_NODE (chat),
                                                                 item->data);
    }
  }
  g_list_free_full (items, (GDestroyNotify) purple_menu_action_free);
  return found;
}

static gboolean
member_types (PurpleConversation *conv, const char *user_uuid)
{
  return (purple_conv_chat_user_get_flags (PURPLE_CONV_CHAT (conv), user_uuid)
          & PURPLE_CBFLAGS_TYPING) != 0;
}

/* Bob types in the group whose window is open: his member entry says so,
 * for a while. Then Alice leaves the group for good from the buddy list:
 * the server forgets her membership and the chat leaves the list. */
static void
test_typing_then_leave_group (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  char *group = bob_makes_group (server, bob);
  const char *alice = uuid_of (server, AGENT_EMAIL);
  const char *bob_uuid = uuid_of (server, BOB_EMAIL);
  PurpleConversation *conv;

  send_and_wait_ack (bob, group, "Anyone around?");
  wait_write (account, "Anyone around?");
  conv = chat_window (account, group);
  g_assert_nonnull (conv);
  g_assert_false (member_types (conv, bob_uuid));
  ppms_peer_watch_typing (bob, group);
  ppms_peer_send_typing (bob);
  g_assert_true (HARNESS_WAIT_FOR (member_types (conv, bob_uuid), WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (!member_types (conv, bob_uuid), PPM_TYPING_TIMEOUT_TEST_MS));

  g_assert_true (run_chat_menu_item (purple_blist_find_chat (account, group), "Leave group"));
  g_assert_true (HARNESS_WAIT_FOR (!server_has_member (server, group, alice), WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (purple_blist_find_chat (account, group) == NULL, WAIT_MS));
  g_assert_true (server_has_member (server, group, bob_uuid));

  ppms_peer_free (bob);
  g_free (group);
  sign_out (account);
  ppms_server_free (server);
}

static void
test_create_from_join_dialog (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  const char *alice = uuid_of (server, AGENT_EMAIL);
  const char *bob_uuid = uuid_of (server, BOB_EMAIL);
  const char *carol = uuid_of (server, CAROL_EMAIL);
  PpmsConversation *one_to_one;
  PurpleConversation *conv;
  const char *group;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, carol) != NULL, WAIT_MS));
  /* Alice already has a one-to-one with Bob: creating with Bob alone would
   * hand it back, and it must stay a one-to-one. */
  send_from_pidgin (account, bob_uuid, "Bob, one thing");
  g_assert_nonnull (ppms_peer_wait_message (bob, "Bob, one thing", WAIT_MS));
  one_to_one = ppms_find_one_to_one (server, alice, bob_uuid);
  g_assert_nonnull (one_to_one);

  ppms_server_set_logging (server, TRUE);
  join_from_dialog (account, "Launch", BOB_EMAIL ", " CAROL_NAME);
  g_assert_true (HARNESS_WAIT_FOR (only_chat (account) != NULL, WAIT_MS));
  conv = only_chat (account);
  group = purple_conversation_get_name (conv);
  g_assert_cmpstr (purple_conversation_get_title (conv), ==, "Launch");
  /* Bob first (the one-to-one came back), then Carol, then Bob added. */
  g_assert_cmpuint (ppms_server_log_count (server, "purple-ppmessage",
                                           "-> POST /api/PP_CREATE_CONVERSATION"), ==, 2);
  g_assert_cmpuint (ppms_server_log_count (server, "purple-ppmessage",
                                           "<- 200 /api/PP_CREATE_CONVERSATION error_code=0"), ==, 2);
  g_assert_cmpuint (ppms_server_log_count (server, "purple-ppmessage",
                                           "<- 200 /api/PP_UPDATE_CONVERSATION_MEMBER error_code=0"),
                    ==, 1);
  g_ptr_array_unref (ppms_server_take_log (server));
  g_assert_true (server_has_member (server, group, alice));
  g_assert_true (server_has_member (server, group, bob_uuid));
  g_assert_true (server_has_member (server, group, carol));
  g_assert_cmpuint (one_to_one->members->len, ==, 2);
  g_assert_cmpuint (g_list_length (purple_conv_chat_get_users (PURPLE_CONV_CHAT (conv))), ==, 3);
  g_assert_nonnull (purple_blist_find_chat (account, group));

  /* The group works: Bob gets Alice's message and answers into it. */
  purple_conv_chat_send (PURPLE_CONV_CHAT (conv), "Kick-off at ten");
  g_assert_nonnull (ppms_peer_wait_message (bob, "Kick-off at ten", WAIT_MS));
  send_and_wait_ack (bob, group, "Fine by me");
  g_assert_cmpint (wait_write (account, "Fine by me")->type, ==, PURPLE_CONV_TYPE_CHAT);

  /* Joining it again by name opens the same window; an unknown name with
   * no colleagues creates nothing. */
  join_from_dialog (account, "launch", NULL);
  join_from_dialog (account, "No such group", NULL);
  g_assert_true (only_chat (account) == conv);
  g_assert_cmpuint (ppms_server_log_count (server, "purple-ppmessage",
                                           "-> POST /api/PP_CREATE_CONVERSATION"), ==, 0);

  ppms_peer_free (bob);
  sign_out (account);
  ppms_server_free (server);
}

static void
test_invite (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PurpleAccount *account = agent_sign_in (server);
  const char *dave = uuid_of (server, DAVE_EMAIL);
  PurpleConversation *conv;
  const char *group;

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, dave) != NULL, WAIT_MS));
  join_from_dialog (account, "Launch", BOB_EMAIL "," CAROL_EMAIL);
  g_assert_true (HARNESS_WAIT_FOR (only_chat (account) != NULL, WAIT_MS));
  conv = only_chat (account);
  group = purple_conversation_get_name (conv);
  g_assert_false (server_has_member (server, group, dave));

  serv_chat_invite (purple_account_get_connection (account),
                    purple_conv_chat_get_id (PURPLE_CONV_CHAT (conv)), "", DAVE_EMAIL);
  g_assert_true (HARNESS_WAIT_FOR (purple_conv_chat_find_user (PURPLE_CONV_CHAT (conv), dave),
                                   WAIT_MS));
  g_assert_true (server_has_member (server, group, dave));
  /* Someone who is no colleague is refused in the window. */
  serv_chat_invite (purple_account_get_connection (account),
                    purple_conv_chat_get_id (PURPLE_CONV_CHAT (conv)), "", "nobody@example.com");
  g_assert_nonnull (wait_write (account, "nobody@example.com"));
  g_assert_cmpuint (g_list_length (purple_conv_chat_get_users (PURPLE_CONV_CHAT (conv))), ==, 4);

  sign_out (account);
  ppms_server_free (server);
}

static void
test_room_list (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  char *group = bob_makes_group (server, bob);
  PurpleAccount *account;
  PurpleRoomlist *list;
  PurpleRoomlistRoom *room;
  GList *rooms;

  /* Listed once it has a message (the server lists it from then on). */
  send_and_wait_ack (bob, group, "First words");
  account = agent_sign_in (server);
  g_assert_null (only_chat (account));
  g_assert_nonnull (purple_blist_find_chat (account, group));
  list = purple_roomlist_get_list (purple_account_get_connection (account));
  g_assert_nonnull (list);
  g_assert_false (purple_roomlist_get_in_progress (list));
  rooms = list->rooms;
  g_assert_cmpuint (g_list_length (rooms), ==, 1);
  room = rooms->data;
  g_assert_cmpstr (purple_roomlist_room_get_name (room), ==, GROUP_NAME);
  g_assert_cmpstr (purple_chat_get_name (purple_blist_find_chat (account, group)), ==, GROUP_NAME);
  g_assert_cmpstr (purple_roomlist_room_get_fields (room)->data, ==, group);
  g_assert_cmpint (GPOINTER_TO_INT (purple_roomlist_room_get_fields (room)->next->data), ==, 3);
  purple_roomlist_room_join (list, room);
  g_assert_true (HARNESS_WAIT_FOR (chat_window (account, group) != NULL, WAIT_MS));
  g_assert_cmpuint (g_list_length (purple_conv_chat_get_users (
                      PURPLE_CONV_CHAT (chat_window (account, group)))), ==, 3);

  ppms_peer_free (bob);
  g_free (group);
  sign_out (account);
  ppms_server_free (server);
}

static char *
early_text (guint n)
{
  return g_strdup_printf ("early %02u", n);
}

static void
test_history_in_chat (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  char *group = bob_makes_group (server, bob);
  PurpleAccount *account;
  PurpleConversation *conv;
  char *error = NULL;

  for (guint n = 1; n <= EARLY_COUNT; n++) {
    char *text = early_text (n);

    send_and_wait_ack (bob, group, text);
    g_free (text);
  }
  /* A first sign-in replays nothing; the next message opens the window,
   * which shows the recent ones once when viewed. */
  account = agent_sign_in (server);
  send_and_wait_ack (bob, group, "latest");
  wait_write (account, "latest");
  conv = chat_window (account, group);
  g_assert_nonnull (conv);
  harness_view_conversation (conv);
  g_assert_true (HARNESS_WAIT_FOR (find_exact_write (account, "early 24") != NULL, WAIT_MS));
  /* The 20 most recent are "latest" (in the window already) and 06 to 24. */
  g_assert_true (HARNESS_WAIT_FOR (find_exact_write (account, "early 06") != NULL, WAIT_MS));
  g_assert_null (find_exact_write (account, "early 05"));
  g_assert_true (find_exact_write (account, "early 06")->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_cmpstr (find_exact_write (account, "early 06")->alias, ==, BOB_NAME);

  /* /history pages back to the start, each message once. */
  g_assert_cmpint (purple_cmd_do_command (conv, "history 10", "history 10", &error), ==,
                   PURPLE_CMD_STATUS_OK);
  g_free (error);
  g_assert_true (HARNESS_WAIT_FOR (find_exact_write (account, "early 01") != NULL, WAIT_MS));
  error = NULL;
  g_assert_cmpint (purple_cmd_do_command (conv, "history", "history", &error), ==,
                   PURPLE_CMD_STATUS_OK);
  g_free (error);
  wait_write (account, "No earlier messages");
  for (guint n = 1; n <= EARLY_COUNT; n++) {
    char *text = early_text (n);

    g_assert_cmpuint (count_exact_writes (account, text), ==, 1);
    g_free (text);
  }
  g_assert_cmpuint (count_exact_writes (account, "latest"), ==, 1);

  ppms_peer_free (bob);
  g_free (group);
  sign_out (account);
  ppms_server_free (server);
}

static void
test_visitor_with_three_agents_stays_im (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  /* Signed in first: the plugin meets the conversation live and reads all
   * its members (the distributor gave it to the whole team). */
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *visitor = visitor_start (server);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  const char *conversation = ppms_peer_conversation_uuid (visitor);
  const char *visitor_uuid = ppms_peer_user_uuid (visitor);
  const HarnessWrite *w;

  g_assert_cmpuint (ppms_conversation_lookup (server, conversation)->members->len, ==, 5);
  wait_write (account, VISITOR_GREETING);
  send_and_wait_ack (bob, conversation, "Bob here, how can we help?");
  w = wait_write (account, "Bob here, how can we help?");
  g_assert_cmpint (w->type, ==, PURPLE_CONV_TYPE_IM);
  g_assert_cmpstr (w->conversation, ==, visitor_uuid);
  g_assert_cmpstr (w->who, ==, BOB_NAME);
  send_and_wait_ack (visitor, conversation, "Thanks, Bob");
  g_assert_cmpint (wait_write (account, "Thanks, Bob")->type, ==, PURPLE_CONV_TYPE_IM);
  g_assert_null (only_chat (account));
  g_assert_null (purple_blist_find_chat (account, conversation));

  ppms_peer_free (bob);
  ppms_peer_free (visitor);
  sign_out (account);
  ppms_server_free (server);
}

/* A file written to the group by a colleague: its line in the chat, and a
 * transfer offered from that colleague, saved byte for byte. */
static void
test_file_in_group (void)
{
  PpmsServer *server = server_start_with_seed (TEAM_OF_FOUR);
  PurpleAccount *account = agent_sign_in (server);
  PpmsPeer *bob = colleague_start (server, BOB_EMAIL, BOB_PASSWORD);
  char *group = bob_makes_group (server, bob);
  g_autofree char *directory = g_dir_make_tmp ("ppm-save-XXXXXX", NULL);
  g_autofree char *expected_path = g_build_filename (directory, "minutes.txt", NULL);
  g_autofree char *saved = NULL;
  g_autoptr (GBytes) content = g_bytes_new_static ("minutes of the meeting\n", 23);
  GError *error = NULL;
  gsize saved_size = 0;
  char *fid, *body;
  HarnessXfer *xfer;

  harness_set_action_answer ("Accept");
  harness_set_save_directory (directory);
  fid = ppms_peer_upload_sync (bob, "minutes.txt", "text/plain", content, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"name\": \"minutes.txt\", "
                          "\"mime\": \"text/plain\"}", fid);
  g_free (ppms_peer_send_message (bob, group, "FILE", body));
  g_free (body);

  xfer = wait_xfer_ended (PURPLE_XFER_RECEIVE);
  g_assert_cmpint (xfer->status, ==, PURPLE_XFER_STATUS_DONE);
  g_assert_cmpuint (harness_xfers ()->len, ==, 1);
  g_assert_true (g_file_get_contents (expected_path, &saved, &saved_size, NULL));
  g_assert_cmpmem (saved, saved_size, g_bytes_get_data (content, NULL),
                   g_bytes_get_size (content));
  g_assert_cmpint (wait_write (account, "File:")->type, ==, PURPLE_CONV_TYPE_CHAT);
  g_remove (expected_path);
  g_assert_cmpint (g_rmdir (directory), ==, 0);

  g_free (fid);
  ppms_peer_free (bob);
  g_free (group);
  sign_out (account);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/chat/group-of-colleague", test_group_of_colleague);
  harness_add_test ("/purple/chat/create-from-join-dialog", test_create_from_join_dialog);
  harness_add_test ("/purple/chat/invite", test_invite);
  harness_add_test ("/purple/chat/typing-then-leave-group", test_typing_then_leave_group);
  harness_add_test ("/purple/chat/room-list", test_room_list);
  harness_add_test ("/purple/chat/history", test_history_in_chat);
  harness_add_test ("/purple/chat/file-in-group", test_file_in_group);
  harness_add_test ("/purple/chat/visitor-with-three-agents-stays-im",
                    test_visitor_with_three_agents_stays_im);
  return g_test_run ();
}
