/* test-server-paging.c: the message endpoints of the test server (history
 * and unacked paging, ACK_MESSAGE, PP_SEND_MESSAGE) and the websocket part
 * driven through the REST flows of ppm-test-peer.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "test-server-messaging.h"

/* ---- History paging (4.14, 16.6; transcripts 04 and 15) ---- */

/* PP_PAGE_HISTORY_MESSAGE on the fixture's conversation with more members. */
static JsonObject *
history (Fixture *f, const char *params)
{
  g_autofree char *body = g_strdup_printf ("{\"conversation_uuid\": \"%s\"%s%s}", f->conv->uuid,
                                           *params ? ", " : "", params);
  JsonObject *answer = api_post (f, f->agent_token, "PP_PAGE_HISTORY_MESSAGE", body, NULL);
  g_assert_nonnull (answer);
  return answer;
}

/* Checks the list against message numbers (first to last inclusive,
 * 1-based, either direction; first 0 = empty list). */
static void
assert_history (JsonObject *answer, guint first, guint last)
{
  JsonArray *list = json_object_get_array_member (answer, "list");
  guint expected = first == 0 ? 0 : (first > last ? first - last : last - first) + 1;

  g_assert_cmpint (json_object_get_int_member (answer, "error_code"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (answer, "total_count"), ==, 60);
  g_assert_cmpuint (json_array_get_length (list), ==, expected);
  g_assert_cmpint (json_object_get_int_member (answer, "return_count"), ==, expected);
  for (guint i = 0; i < expected; i++)
    {
      JsonObject *item = json_array_get_object_element (list, i);
      guint number = first > last ? first - i : first + i;
      g_autofree char *body = g_strdup_printf ("history #%02u", number);
      g_assert_cmpstr (json_object_get_string_member (item, "body"), ==, body);
    }
}

#define CHECK_HISTORY(params, first, last) \
  G_STMT_START { g_autoptr (JsonObject) a_ = history (f, params); assert_history (a_, first, last); } G_STMT_END

static void
test_history_paging (Fixture *f, gconstpointer data)
{
  TestWs *visitor = connect_visitor (f);
  g_auto (GStrv) uuids = send_numbered (f, visitor, 60);
  g_autofree char *max41 = g_strdup_printf ("\"max_uuid\": \"%s\", \"page_size\": 20", uuids[40]);
  g_autofree char *max60 = g_strdup_printf ("\"max_uuid\": \"%s\", \"page_size\": 0", uuids[59]);
  g_autofree char *min1 = g_strdup_printf ("\"min_uuid\": \"%s\", \"page_size\": 20", uuids[0]);
  g_autofree char *min58 = g_strdup_printf ("\"min_uuid\": \"%s\", \"page_size\": 20", uuids[57]);
  g_autofree char *min1_size1 = g_strdup_printf ("\"min_uuid\": \"%s\", \"page_size\": 1", uuids[0]);
  g_autofree char *both = g_strdup_printf ("\"min_uuid\": \"%s\", \"max_uuid\": \"%s\"", uuids[10], uuids[20]);
  g_autoptr (JsonObject) first_page = NULL, error42 = NULL, empty = NULL, null_conv = NULL;
  g_autofree char *crash_body = NULL;
  JsonObject *item;
  guint status = 0;

  CHECK_HISTORY ("\"page_offset\": 0, \"page_size\": 20", 60, 41);
  CHECK_HISTORY ("\"page_offset\": 2, \"page_size\": 20", 20, 1);
  CHECK_HISTORY ("\"page_offset\": 3, \"page_size\": 20", 0, 0);
  CHECK_HISTORY ("\"page_offset\": 2, \"page_size\": 25", 10, 1);
  CHECK_HISTORY ("\"page_offset\": 0, \"page_size\": 0", 60, 1);
  CHECK_HISTORY ("\"page_offset\": 0", 60, 31);
  CHECK_HISTORY ("\"page_offset\": 1, \"page_size\": -5", 30, 1);
  CHECK_HISTORY ("\"page_offset\": 99, \"page_size\": 20", 0, 0);
  CHECK_HISTORY (max41, 40, 21);
  CHECK_HISTORY (max60, 0, 0);
  CHECK_HISTORY ("\"max_uuid\": \"f74518ec-ebe3-11f1-baf7-02fc00000001\", \"page_size\": 20", 0, 0);
  CHECK_HISTORY (min1, 2, 20);
  CHECK_HISTORY (min58, 59, 60);
  CHECK_HISTORY (min1_size1, 0, 0);

  /* PPCom's first call, and the record's shape. */
  first_page = history (f, "\"max_uuid\": null");
  assert_history (first_page, 60, 31);
  g_assert_cmpint (json_object_get_int_member (first_page, "page_size"), ==, 30);
  g_assert_cmpint (json_object_get_int_member (first_page, "page_offset"), ==, 0);
  item = json_array_get_object_element (json_object_get_array_member (first_page, "list"), 0);
  g_assert_cmpstr (json_object_get_string_member (item, "uuid"), ==, uuids[59]);
  g_assert_cmpstr (json_object_get_string_member (item, "task_status"), ==, "PROCESSED");
  g_assert_cmpstr (json_object_get_string_member (item, "from_device_uuid"), ==, f->visitor_device);
  g_assert_nonnull (json_object_get_string_member (item, "message_body"));
  g_assert_false (json_object_has_member (item, "title"));
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (item, "from_user")), ==, 4);

  error42 = history (f, both);
  g_assert_cmpint (json_object_get_int_member (error42, "error_code"), ==, 42);
  g_assert_false (json_object_has_member (error42, "list"));
  empty = api_post (f, f->agent_token, "PP_PAGE_HISTORY_MESSAGE",
                    "{\"conversation_uuid\": \"unknown\", \"page_size\": 20}", NULL);
  g_assert_cmpint (json_object_get_int_member (empty, "total_count"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (empty, "return_count"), ==, 0);
  g_assert_false (json_object_has_member (empty, "list"));
  null_conv = api_post (f, f->agent_token, "PP_PAGE_HISTORY_MESSAGE", "{\"conversation_uuid\": null}", NULL);
  g_assert_cmpint (json_object_get_int_member (null_conv, "error_code"), ==, 6);
  /* A page_size that is not a number makes the real handler raise. */
  crash_body = g_strdup_printf ("{\"conversation_uuid\": \"%s\", \"page_size\": \"20\"}", f->conv->uuid);
  g_assert_null (api_post (f, f->agent_token, "PP_PAGE_HISTORY_MESSAGE", crash_body, &status));
  g_assert_cmpuint (status, ==, 500);
  test_ws_free (visitor);
}

/* ---- Unacked paging (4.13; transcripts 04 and 12) ---- */

static JsonObject *
unacked (Fixture *f, const char *params, guint *status)
{
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\"%s%s}",
                                           ppms_server_app_uuid (f->server), f->agent->uuid,
                                           *params ? ", " : "", params);
  return api_post (f, f->agent_token, "PP_PAGE_UNACKED_MESSAGE", body, status);
}

static void
test_unacked_paging (Fixture *f, gconstpointer data)
{
  TestWs *visitor = connect_visitor (f);
  g_auto (GStrv) uuids = NULL;
  g_autoptr (GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) ack = g_string_new ("{\"list\": [");
  g_autoptr (JsonObject) all = NULL, after = NULL, unknown = NULL, ack_answer = NULL;
  g_autofree char *max_known = NULL;
  guint status = 0;

  /* The agent has no socket, but its device is flagged online: pushes are
   * recorded (7.9 rule 3). */
  uuids = send_numbered (f, visitor, 5);
  all = unacked (f, "\"page_size\": 30", NULL);
  g_assert_cmpint (json_object_get_int_member (all, "total_count"), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      const char *pid = json_array_get_string_element (json_object_get_array_member (all, "list"), i);
      const char *body = json_object_get_string_member (json_object_get_object_member (all, "message"), pid);
      g_autofree char *expected = g_strdup_printf ("{\"id\": \"%s\", ", uuids[i]);
      g_assert_true (g_str_has_prefix (body, expected));   /* oldest first */
      g_ptr_array_add (pids, g_strdup (pid));
      g_string_append_printf (ack, "%s\"%s\"", i ? ", " : "", pid);
    }
  for (guint page = 0; page < 3; page++)
    {
      g_autofree char *params = g_strdup_printf ("\"page_offset\": %u, \"page_size\": 2", page);
      g_autoptr (JsonObject) answer = unacked (f, params, NULL);
      JsonArray *list = json_object_get_array_member (answer, "list");
      g_assert_cmpint (json_object_get_int_member (answer, "return_count"), ==, 0);
      g_assert_cmpint (json_object_get_int_member (answer, "total_count"), ==, 5);
      g_assert_cmpuint (json_array_get_length (list), ==, page < 2 ? 2 : 1);
      g_assert_cmpstr (json_array_get_string_element (list, 0), ==, g_ptr_array_index (pids, page * 2));
    }
  max_known = g_strdup_printf ("\"max_uuid\": \"%s\", \"page_size\": 2", (char *) g_ptr_array_index (pids, 2));
  g_assert_null (unacked (f, max_known, &status));
  g_assert_cmpuint (status, ==, 500);
  unknown = unacked (f, "\"max_uuid\": \"unknown\"", NULL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (unknown, "list")), ==, 0);

  g_string_append (ack, "]}");
  ack_answer = api_post (f, f->agent_token, "ACK_MESSAGE", ack->str, NULL);
  g_assert_cmpint (json_object_get_int_member (ack_answer, "error_code"), ==, 0);
  after = unacked (f, "", NULL);
  g_assert_cmpint (json_object_get_int_member (after, "total_count"), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (after, "list")), ==, 0);
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (after, "message")), ==, 0);
  test_ws_free (visitor);
}

/* ---- PP_SEND_MESSAGE and ACK_MESSAGE errors (4.15, 4.16.2) ---- */

static void
test_http_send_and_ack_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *frame = send_text (f, f->visitor, f->visitor_device, "P2S", "TEXT", "\"over http\"", "h-1");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *body = NULL;
  g_autoptr (JsonObject) answer = NULL, missing = NULL, no_list = NULL;

  g_assert_true (json_parser_load_from_data (parser, frame, -1, NULL));
  body = ppms_json_object_to_string (json_object_get_object_member (
                                       json_node_get_object (json_parser_get_root (parser)), "send"));
  answer = api_post (f, f->visitor_token, "PP_SEND_MESSAGE", body, NULL);
  g_assert_cmpint (json_object_get_int_member (answer, "error_code"), ==, 16);
  g_assert_cmpstr (json_object_get_string_member (answer, "error_string"), ==, "illegal message.");
  g_assert_null (ppms_message_lookup (f->server, "h-1"));
  missing = api_post (f, f->visitor_token, "PP_SEND_MESSAGE", "{\"app_uuid\": \"a\", \"uuid\": \"h-2\"}", NULL);
  g_assert_cmpint (json_object_get_int_member (missing, "error_code"), ==, 6);
  no_list = api_post (f, f->visitor_token, "ACK_MESSAGE", "{\"list\": \"pid\"}", NULL);
  g_assert_cmpint (json_object_get_int_member (no_list, "error_code"), ==, 6);
}

/* ---- Through the REST flows of the other part (ppm-test-peer) ---- */

static PpmsPeer *
start_peer_agent (Fixture *f, const char *terminal)
{
  g_autoptr (GError) error = NULL;
  PpmsPeer *agent = ppms_peer_new_agent (ppms_server_get_url (f->server), ppms_server_ppkefu_key (f->server),
                                         "agent@ppmessage.local", "agentpass", terminal);

  g_assert_true (ppms_peer_start_sync (agent, &error));
  g_assert_no_error (error);
  return agent;
}

static void
test_peers_chat (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PpmsPeer *agent = start_peer_agent (f, NULL);
  PpmsPeer *visitor = ppms_peer_new_visitor (ppms_server_get_url (f->server), ppms_server_app_uuid (f->server),
                                             ppms_server_ppcom_key (f->server),
                                             ppms_server_ppcom_secret (f->server), NULL);
  g_autofree char *question = NULL, *answer = NULL;
  const JsonObject *got;
  int code = -1;

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  question = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "Where is my order?");
  g_assert_true (ppms_peer_wait_ack (visitor, question, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  got = ppms_peer_wait_message (agent, "Where is my order?", WAIT_MS);
  g_assert_nonnull (got);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) got, "fi"), ==, ppms_peer_user_uuid (visitor));
  answer = ppms_peer_send_text (agent, ppms_peer_conversation_uuid (visitor), "On its way.");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "On its way.", WAIT_MS));
  g_assert_cmpuint (ppms_server_count_messages (f->server, ppms_peer_conversation_uuid (visitor)), ==, 2);
  ppms_peer_free (visitor);
  ppms_peer_free (agent);
}

static gboolean
peer_kicked (gpointer data)
{
  return ppms_peer_was_kicked (data);
}

/* Transcript 08: a second PPKEFU_LOGIN from another browser kicks the first. */
static void
test_peers_kick (Fixture *f, gconstpointer data)
{
  PpmsPeer *first = start_peer_agent (f, "terminal-one");
  PpmsPeer *second = start_peer_agent (f, "terminal-two");

  g_assert_true (ppms_wait_until (peer_kicked, first, WAIT_MS));
  g_assert_false (ppms_peer_was_kicked (second));
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 1);
  ppms_peer_free (first);
  ppms_peer_free (second);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func) g_test_add ("/server-paging/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("history-paging", test_history_paging);
  ADD ("unacked-paging", test_unacked_paging);
  ADD ("http-send-and-ack-errors", test_http_send_and_ack_errors);
  ADD ("peers-chat", test_peers_chat);
  ADD ("peers-kick", test_peers_kick);
#undef ADD
  return g_test_run ();
}
