/* test-purple-history.c: earlier messages in an IM window, with the built
 * plugin in a headless libpurple core against the test server: the recent
 * ones once when the user first sees a window (one the user opens at once,
 * one a message opens when it is viewed; none at sign-in; windows opening
 * together read one after another), /history paging back, and no message
 * twice in a window whichever way it came first.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include "purple-fixtures.h"

#define EARLY_COUNT 24

static guint
write_index (const HarnessWrite *write)
{
  GPtrArray *writes = harness_writes ();
  guint index = 0;

  g_assert_true (g_ptr_array_find (writes, write, &index));
  return index;
}

static char *
early_text (guint n)
{
  return g_strdup_printf ("early %02u", n);
}

/* A visitor whose conversation holds the greeting and EARLY_COUNT more. */
static PpmsPeer *
visitor_with_history (PpmsServer *server)
{
  PpmsPeer *visitor = visitor_start (server);

  for (guint n = 1; n <= EARLY_COUNT; n++) {
    char *text = early_text (n);

    send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), text);
    g_free (text);
  }
  return visitor;
}

/* The user looks at the window with who, which a message opened. */
static PurpleConversation *
view_window (PurpleAccount *account, const char *who)
{
  PurpleConversation *conv =
    purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who, account);

  g_assert_nonnull (conv);
  harness_view_conversation (conv);
  return conv;
}

static PurpleCmdStatus
run_command (PurpleConversation *conv, const char *command)
{
  char *error = NULL;
  PurpleCmdStatus status = purple_cmd_do_command (conv, command, command, &error);

  g_free (error);
  return status;
}

/* Early messages first..last were written oldest first, after the write
 * at index after. */
static void
assert_batch_in_order (PurpleAccount *account, guint after, guint first, guint last)
{
  guint previous = after;

  for (guint n = first; n <= last; n++) {
    char *text = early_text (n);
    guint index = write_index (find_exact_write (account, text));

    g_assert_cmpuint (index, >, previous);
    previous = index;
    g_free (text);
  }
}

/* Each early message from first to last shown exactly once, earlier ones
 * not at all; the ones shown delayed, from the visitor. */
static void
assert_early_shown (PurpleAccount *account, const char *who, guint first, guint last)
{
  for (guint n = 1; n <= EARLY_COUNT; n++) {
    char *text = early_text (n);
    const HarnessWrite *w = find_exact_write (account, text);

    if (n < first || n > last) {
      g_assert_null (w);
    } else {
      g_assert_nonnull (w);
      g_assert_cmpuint (count_exact_writes (account, text), ==, 1);
      g_assert_true (w->flags & PURPLE_MESSAGE_DELAYED);
      g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
      g_assert_cmpstr (w->who, ==, who);
      g_assert_cmpint (w->time, >, 0);
      g_assert_cmpint (w->time, <=, time (NULL));
    }
    g_free (text);
  }
}

static void
test_recent_once_on_open_then_paging (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_with_history (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv;
  const HarnessWrite *live;

  /* Signing in opens no window and shows no history. */
  harness_run_for (500);
  g_assert_null (purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who, account));
  g_assert_cmpuint (harness_count_writes (account, "early"), ==, 0);

  /* Opening the window shows the 20 most recent ones, once. */
  conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  wait_write (account, "early 24");
  assert_early_shown (account, who, EARLY_COUNT - 19, EARLY_COUNT);
  assert_batch_in_order (account, 0, EARLY_COUNT - 19, EARLY_COUNT);
  g_assert_null (find_exact_write (account, VISITOR_GREETING));

  /* A live message afterwards is not delayed. */
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "live one");
  live = wait_write (account, "live one");
  g_assert_false (live->flags & PURPLE_MESSAGE_DELAYED);

  /* /history 3: the three before the oldest shown. */
  g_assert_cmpint (run_command (conv, "history 3"), ==, PURPLE_CMD_STATUS_OK);
  wait_write (account, "early 04");
  assert_early_shown (account, who, 2, EARLY_COUNT);
  assert_batch_in_order (account, write_index (live), 2, 4);
  /* /history: the default count, back to the greeting. */
  g_assert_cmpint (run_command (conv, "history"), ==, PURPLE_CMD_STATUS_OK);
  wait_write (account, "early 01");
  assert_early_shown (account, who, 1, EARLY_COUNT);
  g_assert_cmpuint (write_index (find_exact_write (account, "early 01")), >,
                    write_index (find_exact_write (account, VISITOR_GREETING)));
  g_assert_true (find_exact_write (account, VISITOR_GREETING)->flags & PURPLE_MESSAGE_DELAYED);
  /* Nothing older. */
  g_assert_cmpint (run_command (conv, "history 5"), ==, PURPLE_CMD_STATUS_OK);
  wait_write (account, "No earlier messages");
  g_assert_cmpint (run_command (conv, "history zero"), ==, PURPLE_CMD_STATUS_FAILED);

  assert_early_shown (account, who, 1, EARLY_COUNT);
  g_assert_cmpuint (count_exact_writes (account, VISITOR_GREETING), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "live one"), ==, 1);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A window opened by live messages, a reply typed in it: none comes again
 * from history, there or after /history; a window opened again shows them
 * once each: also the second of two live lines before the window is
 * viewed, which the window holds apart from the first. */
static void
test_no_duplicate_against_window (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv;
  const HarnessWrite *greeting, *live;

  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "first live");
  live = wait_write (account, "first live");
  g_assert_false (live->flags & PURPLE_MESSAGE_DELAYED);
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "second live");
  wait_write (account, "second live");
  /* The window's history when viewed: the greeting, below the live lines. */
  view_window (account, who);
  greeting = wait_write (account, VISITOR_GREETING);
  g_assert_true (greeting->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_cmpuint (write_index (greeting), >, write_index (live));
  g_assert_cmpuint (count_exact_writes (account, "first live"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "second live"), ==, 1);

  send_from_pidgin (account, who, "my reply");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "my reply", WAIT_MS));
  conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who, account);
  g_assert_cmpint (run_command (conv, "history 10"), ==, PURPLE_CMD_STATUS_OK);
  wait_write (account, "No earlier messages");
  g_assert_cmpuint (count_exact_writes (account, VISITOR_GREETING), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "first live"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "second live"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "my reply"), ==, 1);

  /* Closed and opened again: each once, the reply as sent by us. */
  purple_conversation_destroy (conv);
  harness_clear ();
  purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  wait_write (account, "my reply");
  g_assert_cmpuint (count_exact_writes (account, VISITOR_GREETING), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "first live"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "second live"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "my reply"), ==, 1);
  g_assert_true (find_exact_write (account, "my reply")->flags & PURPLE_MESSAGE_SEND);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* History lines are drawn as messages (Pidgin draws a NO_LOG message as a
 * grey line without sender or time) and are not logged again, while the
 * live message that opened the window is logged, and logging stays on. */
static void
test_history_drawn_as_messages_not_logged (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account;
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv;
  const HarnessWrite *greeting;
  GList *logs;
  GString *logged = g_string_new (NULL);

  purple_prefs_set_bool ("/purple/logging/log_ims", TRUE);
  account = agent_with_visitor (server, visitor);
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "opens the window");
  wait_write (account, "opens the window");
  view_window (account, who);
  greeting = wait_write (account, VISITOR_GREETING);
  g_assert_true (greeting->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_false (greeting->flags & PURPLE_MESSAGE_NO_LOG);
  g_assert_cmpstr (greeting->who, ==, who);
  conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who, account);
  g_assert_true (purple_conversation_is_logging (conv));

  logs = purple_log_get_logs (PURPLE_LOG_IM, who, account);
  g_assert_nonnull (logs);
  for (GList *l = logs; l != NULL; l = l->next) {
    PurpleLogReadFlags flags;
    char *text = purple_log_read (l->data, &flags);

    g_string_append (logged, text);
    g_free (text);
    purple_log_free (l->data);
  }
  g_list_free (logs);
  g_assert_nonnull (strstr (logged->str, "opens the window"));
  g_assert_null (strstr (logged->str, VISITOR_GREETING));
  g_string_free (logged, TRUE);

  purple_prefs_set_bool ("/purple/logging/log_ims", FALSE);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A window opened by a live message while a newer one is stored but not
 * shown yet (the plugin's socket went down meanwhile): the window's
 * history shows what came before the live one; the newer one comes in its
 * place, through libpurple's received-im-msg (here from the catch-up after
 * the repair), not as an earlier message. */
static void
test_newer_than_window_not_history (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor;
  PurpleAccount *account;
  const char *conversation;
  const HarnessWrite *greeting, *newer;

  /* The faults hit the plugin only (a socket is marked when it opens). */
  ppms_server_set_fault_target (server, "purple-ppmessage");
  visitor = visitor_start (server);
  account = agent_sign_in (server);
  conversation = ppms_peer_conversation_uuid (visitor);
  ppms_server_set_http_fault (server, PPMS_FAULT_DELAY, "PP_PAGE_HISTORY_MESSAGE", 1.0, 1500, 0);
  send_and_wait_ack (visitor, conversation, "first live");
  wait_write (account, "first live");
  view_window (account, ppms_peer_user_uuid (visitor));
  /* The window's history read is on its way when the plugin's socket goes
   * down and the next message is stored. */
  ppms_server_set_ws_down (server, TRUE);
  send_and_wait_ack (visitor, conversation, "stored meanwhile");
  greeting = wait_write (account, VISITOR_GREETING);
  g_assert_true (greeting->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_cmpuint (count_exact_writes (account, "stored meanwhile"), ==, 0);

  ppms_server_clear_faults (server);
  ppms_server_set_ws_down (server, FALSE);
  newer = wait_write (account, "stored meanwhile");
  g_assert_cmpuint (write_index (newer), >, write_index (greeting));
  g_assert_cmpuint (count_exact_writes (account, "stored meanwhile"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, "first live"), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, VISITOR_GREETING), ==, 1);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A window opened at sign-in by a message that waited (the backlog: a
 * thousand such windows for a busy team) reads no history while nobody
 * looks at it, not even on an UNSEEN update while it has no focus (Pidgin
 * marks a background tab so when a message comes); viewed, it reads its
 * history once, whatever the views after. */
static void
test_backlog_window_reads_when_viewed (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_with_history (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv;
  const HarnessWrite *waiting;
  guint catch_up_reads;

  sign_out (account);
  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), "waited for you");
  sign_in_again (account);
  /* The catch-up found the message with a read of its own. */
  catch_up_reads = ppms_server_count_requests (server, "PP_PAGE_HISTORY_MESSAGE");
  waiting = wait_write (account, "waited for you");
  g_assert_true (waiting->flags & PURPLE_MESSAGE_DELAYED); /* it waited */
  conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who, account);
  g_assert_nonnull (conv);
  purple_conversation_update (conv, PURPLE_CONV_UPDATE_UNSEEN);
  harness_run_for (500);
  g_assert_cmpuint (ppms_server_count_requests (server, "PP_PAGE_HISTORY_MESSAGE"), ==,
                    catch_up_reads);
  g_assert_cmpuint (harness_count_writes (account, "early"), ==, 0);

  /* The 20 most recent: the waiting one, shown already, and 19 before. */
  view_window (account, who);
  wait_write (account, "early 24");
  assert_early_shown (account, who, EARLY_COUNT - 18, EARLY_COUNT);
  assert_batch_in_order (account, write_index (waiting), EARLY_COUNT - 18, EARLY_COUNT);
  harness_view_conversation (NULL);
  view_window (account, who);
  harness_run_for (500);
  g_assert_cmpuint (ppms_server_count_requests (server, "PP_PAGE_HISTORY_MESSAGE"), ==,
                    catch_up_reads + 1);
  assert_early_shown (account, who, EARLY_COUNT - 18, EARLY_COUNT);
  g_assert_cmpuint (count_exact_writes (account, "waited for you"), ==, 1);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* The account's history_count: 3 shows three; 0 none. */
static void
test_history_count_option (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_with_history (server);
  PurpleAccount *account = agent_account (server);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv;

  purple_account_set_int (account, "history_count", 3);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, who), WAIT_MS));
  conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  wait_write (account, "early 24");
  assert_early_shown (account, who, EARLY_COUNT - 2, EARLY_COUNT);

  purple_conversation_destroy (conv);
  harness_clear ();
  purple_account_set_int (account, "history_count", 0);
  conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  harness_run_for (500);
  g_assert_cmpuint (harness_count_writes (account, "early"), ==, 0);
  /* /history still works, with the default count. */
  g_assert_cmpint (run_command (conv, "history"), ==, PURPLE_CMD_STATUS_OK);
  wait_write (account, "early 24");
  assert_early_shown (account, who, EARLY_COUNT - 19, EARLY_COUNT);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Windows opening together read their histories one after another (so the
 * messages waiting to be shown go first): every window gets its own, once. */
static void
test_windows_read_one_after_another (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitors[3];
  PurpleAccount *account = agent_account (server);

  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++)
    visitors[i] = visitor_start (server);
  sign_in_again (account);
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++)
    g_assert_true (HARNESS_WAIT_FOR (
      harness_find_buddy (account, ppms_peer_user_uuid (visitors[i])), WAIT_MS));
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++)
    purple_conversation_new (PURPLE_CONV_TYPE_IM, account, ppms_peer_user_uuid (visitors[i]));
  g_assert_true (HARNESS_WAIT_FOR (
    count_exact_writes (account, VISITOR_GREETING) == G_N_ELEMENTS (visitors), WAIT_MS));
  harness_run_for (500);
  g_assert_cmpuint (count_exact_writes (account, VISITOR_GREETING), ==, G_N_ELEMENTS (visitors));
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++) {
    const char *who = ppms_peer_user_uuid (visitors[i]);
    guint in_window = 0;

    for (guint w = 0; w < harness_writes ()->len; w++) {
      const HarnessWrite *write = harness_writes ()->pdata[w];

      in_window += g_strcmp0 (write->conversation, who) == 0 &&
                   g_strcmp0 (write->text, VISITOR_GREETING) == 0;
    }
    g_assert_cmpuint (in_window, ==, 1);
  }
  sign_out (account);
  for (guint i = 0; i < G_N_ELEMENTS (visitors); i++)
    ppms_peer_free (visitors[i]);
  ppms_server_free (server);
}

/* Signed out while a window's history was being read: the answer never
 * comes, and the window reads again in the next session. */
static void
test_read_cut_by_sign_out (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_with_history (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);

  /* The read is on its way; no answer can have come in between. */
  sign_out (account);
  g_assert_cmpuint (harness_count_writes (account, "early"), ==, 0);
  sign_in_again (account);
  g_assert_cmpint (run_command (conv, "history 2"), ==, PURPLE_CMD_STATUS_OK);
  wait_write (account, "early 24");
  assert_early_shown (account, who, EARLY_COUNT - 1, EARLY_COUNT);
  g_assert_cmpuint (harness_count_writes (account, "being loaded"), ==, 0);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A text over 128 bytes that the server stored as a TXT file, of n
 * characters. */
static char *
long_text (char letter, guint n)
{
  char *text = g_strnfill (n, letter);

  memcpy (text, "long ", 5);
  return text;
}

/* Long texts are stored as TXT files: history shows their full text, on
 * opening a window and with /history, as the live path does. */
static void
test_long_text_in_history (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  const char *conversation = ppms_peer_conversation_uuid (visitor);
  char *older = long_text ('o', 300), *newer = long_text ('n', 2000);
  PurpleAccount *account = agent_account (server);
  const char *who = ppms_peer_user_uuid (visitor);
  PurpleConversation *conv;

  send_and_wait_ack (visitor, conversation, older);
  send_and_wait_ack (visitor, conversation, "between");
  send_and_wait_ack (visitor, conversation, newer);
  purple_account_set_int (account, "history_count", 2);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, who), WAIT_MS));

  conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  wait_write (account, "between");
  g_assert_nonnull (find_exact_write (account, newer));
  g_assert_true (find_exact_write (account, newer)->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_cmpuint (write_index (find_exact_write (account, newer)), >,
                    write_index (find_exact_write (account, "between")));
  g_assert_null (find_exact_write (account, ""));

  g_assert_cmpint (run_command (conv, "history 1"), ==, PURPLE_CMD_STATUS_OK);
  g_assert_true (HARNESS_WAIT_FOR (find_exact_write (account, older) != NULL, WAIT_MS));
  g_assert_cmpuint (count_exact_writes (account, older), ==, 1);
  g_assert_cmpuint (count_exact_writes (account, newer), ==, 1);
  g_assert_null (find_exact_write (account, ""));
  sign_out (account);
  g_free (older);
  g_free (newer);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A long text whose file cannot be downloaded says so, with its link,
 * instead of an empty line. */
static void
test_long_text_download_fails (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  char *text = long_text ('f', 400);
  PurpleAccount *account = agent_account (server);
  const char *who = ppms_peer_user_uuid (visitor);
  const HarnessWrite *fallback;

  send_and_wait_ack (visitor, ppms_peer_conversation_uuid (visitor), text);
  sign_in_again (account);
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, who), WAIT_MS));
  ppms_server_set_http_fault (server, PPMS_FAULT_HTTP_500, "/download/", 1.0, 0, 0);
  purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  fallback = wait_write (account, "could not be downloaded");
  g_assert_nonnull (strstr (fallback->text, "/download/download/"));
  g_assert_true (fallback->flags & PURPLE_MESSAGE_DELAYED);
  g_assert_null (find_exact_write (account, text));
  g_assert_null (find_exact_write (account, ""));
  sign_out (account);
  g_free (text);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/history/recent-once-then-paging",
                    test_recent_once_on_open_then_paging);
  harness_add_test ("/purple/history/no-duplicate-against-window",
                    test_no_duplicate_against_window);
  harness_add_test ("/purple/history/backlog-window-reads-when-viewed",
                    test_backlog_window_reads_when_viewed);
  harness_add_test ("/purple/history/count-option", test_history_count_option);
  harness_add_test ("/purple/history/windows-read-one-after-another",
                    test_windows_read_one_after_another);
  harness_add_test ("/purple/history/newer-than-window-not-history",
                    test_newer_than_window_not_history);
  harness_add_test ("/purple/history/read-cut-by-sign-out", test_read_cut_by_sign_out);
  harness_add_test ("/purple/history/drawn-as-messages-not-logged-again",
                    test_history_drawn_as_messages_not_logged);
  harness_add_test ("/purple/history/long-text", test_long_text_in_history);
  harness_add_test ("/purple/history/long-text-download-fails", test_long_text_download_fails);
  return g_test_run ();
}
