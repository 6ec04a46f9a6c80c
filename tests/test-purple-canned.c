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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/canned/add-list-send-remove", test_canned_replies);
  return g_test_run ();
}
