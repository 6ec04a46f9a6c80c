/* test-purple-canned.c: the agent's canned replies (/canned), with the built
 * plugin in a headless libpurple core against the test server: add, list,
 * send (the visitor receives it, the window shows it once), remove, and
 * the replies written with the account to accounts.xml, which libpurple
 * reads at its next start.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include "purple-fixtures.h"

#define GREETING_REPLY "Hello & welcome! How can I help?"

static PurpleCmdStatus
run_command (PurpleConversation *conv, const char *command, char **error)
{
  return purple_cmd_do_command (conv, command, command, error);
}

static void
assert_command_ok (PurpleConversation *conv, const char *command)
{
  char *error = NULL;

  g_assert_cmpint (run_command (conv, command, &error), ==, PURPLE_CMD_STATUS_OK);
  g_assert_null (error);
}

/* The account's canned reply as written in accounts.xml, or NULL. */
static char *
saved_reply (PurpleAccount *account, const char *name)
{
  char *path = g_build_filename (purple_user_dir (), "accounts.xml", NULL);
  xmlnode *root = purple_util_read_xml_from_file ("accounts.xml", "accounts");
  char *setting = g_strconcat ("ppm_canned/", name, NULL);
  char *found = NULL;

  for (xmlnode *node = root ? xmlnode_get_child (root, "account") : NULL; node != NULL;
       node = xmlnode_get_next_twin (node)) {
    xmlnode *settings = xmlnode_get_child (node, "settings");

    for (xmlnode *s = settings ? xmlnode_get_child (settings, "setting") : NULL; s != NULL;
         s = xmlnode_get_next_twin (s))
      if (g_strcmp0 (xmlnode_get_attrib (s, "name"), setting) == 0) {
        g_free (found);
        found = xmlnode_get_data (s);
      }
  }
  if (root != NULL)
    xmlnode_free (root);
  g_free (setting);
  g_free (path);
  return found;
}

static gboolean
saved_as (PurpleAccount *account, const char *name, const char *text)
{
  char *reply = saved_reply (account, name);
  gboolean same = g_strcmp0 (reply, text) == 0;

  g_free (reply);
  return same;
}

static void
test_canned_replies (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  char *error = NULL;

  assert_command_ok (conv, "canned");
  wait_write (account, "No canned replies yet");

  assert_command_ok (conv, "canned add greet " GREETING_REPLY);
  assert_command_ok (conv, "canned add bye Goodbye, and thanks");
  assert_command_ok (conv, "canned");
  wait_write (account, "Canned replies:");
  g_assert_nonnull (harness_find_write (account, "bye: Goodbye, and thanks"));
  g_assert_nonnull (harness_find_write (account, "greet: Hello &amp; welcome!"));

  /* Sent as typed: the visitor gets the text, the window shows it once. */
  assert_command_ok (conv, "canned greet");
  g_assert_nonnull (ppms_peer_wait_message (visitor, GREETING_REPLY, WAIT_MS));
  harness_run_for (300);
  g_assert_cmpuint (count_exact_writes (account, "Hello &amp; welcome! How can I help?"), ==, 1);
  g_assert_true (find_exact_write (account, "Hello &amp; welcome! How can I help?")->flags
                 & PURPLE_MESSAGE_SEND);

  g_assert_cmpint (run_command (conv, "canned nosuch", &error), ==, PURPLE_CMD_STATUS_FAILED);
  g_assert_nonnull (strstr (error, "no canned reply"));
  g_clear_pointer (&error, g_free);

  /* Kept with the account on disk, for the next start. */
  g_assert_true (HARNESS_WAIT_FOR (saved_as (account, "greet", GREETING_REPLY), 30000));
  g_assert_true (saved_as (account, "bye", "Goodbye, and thanks"));

  assert_command_ok (conv, "canned remove bye");
  wait_write (account, "Canned reply removed.");
  g_assert_true (HARNESS_WAIT_FOR (saved_as (account, "bye", NULL), 30000));
  g_assert_true (saved_as (account, "greet", GREETING_REPLY));
  g_assert_cmpint (run_command (conv, "canned bye", &error), ==, PURPLE_CMD_STATUS_FAILED);
  g_clear_pointer (&error, g_free);

  /* And after signing in again. */
  sign_out (account);
  sign_in_again (account);
  harness_clear ();
  assert_command_ok (conv, "canned");
  wait_write (account, "greet: Hello &amp; welcome!");
  g_assert_null (harness_find_write (account, "bye:"));
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A colleague (in PPConsole or PPKefu) stores a predefined script. */
static void
add_team_script (PpmsPeer *colleague, const char *question, const char *answer)
{
  g_autoptr (JsonObject) body = json_object_new ();
  g_autoptr (JsonObject) reply = NULL;
  GError *error = NULL;

  json_object_set_string_member (body, "script_question", question);
  json_object_set_string_member (body, "script_answer", answer);
  reply = ppms_peer_api_sync (colleague, "PP_ADD_PREDEFINED_SCRIPT", body, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (reply, "error_code"), ==, 0);
}

/* An agent signed in, the IM window with a visitor open, and a colleague
 * (Bob) who stores the team's scripts. */
typedef struct {
  PpmsServer *server;
  PpmsPeer *visitor, *bob;
  PurpleAccount *account;
  PurpleConversation *conv;
} TeamScene;

static PpmsServer *
team_scene_start (TeamScene *scene)
{
  scene->server = server_start ();
  scene->visitor = visitor_start (scene->server);
  scene->bob = colleague_start (scene->server, BOB_EMAIL, BOB_PASSWORD);
  scene->account = agent_with_visitor (scene->server, scene->visitor);
  scene->conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, scene->account,
                                         ppms_peer_user_uuid (scene->visitor));
  return scene->server;
}

static void
team_scene_stop (TeamScene *scene)
{
  sign_out (scene->account);
  ppms_peer_free (scene->bob);
  ppms_peer_free (scene->visitor);
  ppms_server_free (scene->server);
}

/* The shipped server answers a null per script, and a server may fail the
 * call: /canned lists the agent's own replies, and the user sees no error
 * and no team line. */
static void
test_team_scripts_as_shipped (void)
{
  TeamScene scene;
  PpmsServer *server = team_scene_start (&scene);
  PurpleAccount *account = scene.account;
  PurpleConversation *conv = scene.conv;

  add_team_script (scene.bob, "Shipping time?", "Orders ship within 2 working days.");
  assert_command_ok (conv, "canned");
  wait_write (account, "No canned replies yet");
  g_assert_cmpuint (ppms_server_count_requests (server, "PP_GET_ALL_PREDEFINED_SCRIPT"), ==, 1);

  ppms_server_set_http_fault (server, PPMS_FAULT_HTTP_500, "PP_GET_ALL_PREDEFINED_SCRIPT", 1.0,
                              0, 0);
  assert_command_ok (conv, "canned add greet Hello");
  assert_command_ok (conv, "canned");
  wait_write (account, "greet: Hello");
  g_assert_cmpuint (ppms_server_count_requests (server, "PP_GET_ALL_PREDEFINED_SCRIPT"), ==, 2);
  g_assert_true (harness_is_connected (account));
  g_assert_null (harness_find_write (account, "team"));
  g_assert_null (harness_find_write (account, "Orders ship"));
  g_assert_null (harness_find_write (account, "500"));
  for (guint i = 0; i < harness_writes ()->len; i++)
    g_assert_false (((HarnessWrite *) harness_writes ()->pdata[i])->flags & PURPLE_MESSAGE_ERROR);
  team_scene_stop (&scene);
}

/* A server that returns its predefined scripts: /canned lists them after
 * the agent's own, numbered and marked as the team's; /canned #N sends
 * one; they cannot be removed from here. */
static void
test_team_scripts_returned (void)
{
  TeamScene scene;
  PpmsServer *server = team_scene_start (&scene);
  PurpleAccount *account = scene.account;
  PurpleConversation *conv = scene.conv;
  const HarnessWrite *list;
  char *error = NULL;

  ppms_server_set_return_predefined_scripts (server, TRUE);
  add_team_script (scene.bob, "Shipping time?", "Orders ship within 2 working days.");
  add_team_script (scene.bob, "Returns?", "Returns are free for 30 days.");
  assert_command_ok (conv, "canned add greet Hello");

  /* Before the list, no number means anything. */
  g_assert_cmpint (run_command (conv, "canned #1", &error), ==, PURPLE_CMD_STATUS_FAILED);
  g_clear_pointer (&error, g_free);
  assert_command_ok (conv, "canned");
  list = wait_write (account, "canned replies (read-only");
  g_assert_nonnull (strstr (list->text, "greet: Hello"));
  g_assert_nonnull (strstr (list->text, "#1 Returns?: Returns are free for 30 days."));
  g_assert_nonnull (strstr (list->text, "#2 Shipping time?: Orders ship within 2 working days."));
  g_assert_cmpuint (strstr (list->text, "greet:") - list->text, <,
                    strstr (list->text, "read-only") - list->text);

  assert_command_ok (conv, "canned #2");
  g_assert_nonnull (ppms_peer_wait_message (scene.visitor, "Orders ship within 2 working days.",
                                            WAIT_MS));
  g_assert_cmpint (run_command (conv, "canned #3", &error), ==, PURPLE_CMD_STATUS_FAILED);
  g_assert_nonnull (strstr (error, "/canned"));
  g_clear_pointer (&error, g_free);
  assert_command_ok (conv, "canned remove #1");
  wait_write (account, "There is no canned reply by that name.");
  g_assert_cmpint (run_command (conv, "canned add #1 Mine", &error), ==,
                   PURPLE_CMD_STATUS_FAILED);
  g_clear_pointer (&error, g_free);
  team_scene_stop (&scene);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/canned/add-list-send-remove", test_canned_replies);
  harness_add_test ("/purple/canned/team-scripts-as-shipped", test_team_scripts_as_shipped);
  harness_add_test ("/purple/canned/team-scripts-returned", test_team_scripts_returned);
  return g_test_run ();
}
