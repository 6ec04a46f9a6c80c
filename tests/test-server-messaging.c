/* test-server-messaging.c: the test server's websocket part through real
 * sockets on loopback: auth codes, frame errors and aborts, routing, bodies,
 * long text, typing, forced logout, presence, faults of the websocket.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "test-server-messaging.h"

/* ---- auth (6.5) ---- */

static void
assert_auth_fails (Fixture *f, const char *auth, gint64 code)
{
  TestWs *ws = test_ws_connect (f->session, f->ws_url);
  g_autoptr (JsonObject) ack = NULL;

  test_ws_send (ws, auth);
  ack = test_ws_next (ws);
  test_assert_ack (ack, "AUTH", code);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (ack, "extra")));
  /* A normal close by the server, with a close frame (no status). */
  g_assert_cmpuint (test_ws_wait_closed (ws), ==, SOUP_WEBSOCKET_CLOSE_NO_STATUS);
  test_ws_free (ws);
}

static void
test_auth_codes (Fixture *f, gconstpointer data)
{
  const char *app = ppms_server_app_uuid (f->server);
  g_autofree char *console = issue_token (f, "PPCONSOLE");
  g_autofree char *no_token = g_strdup_printf ("{\"type\": \"auth\", \"app_uuid\": \"%s\"}", app);
  g_autofree char *bad_token = auth_text ("bm90LWEtdG9rZW4=", app, f->agent->uuid, f->agent_device, TRUE, NULL);
  g_autofree char *level = auth_text (console, app, f->agent->uuid, f->agent_device, TRUE, NULL);
  g_autofree char *no_uuids = g_strdup_printf ("{\"type\": \"AUTH\", \"api_token\": \"%s\", \"app_uuid\": \"%s\","
                                               " \"is_service_user\": true}", f->agent_token, app);
  g_autofree char *no_service = g_strdup_printf ("{\"type\": \"auth\", \"api_token\": \"%s\", \"app_uuid\": \"%s\","
                                                 " \"user_uuid\": \"%s\", \"device_uuid\": \"%s\"}",
                                                 f->agent_token, app, f->agent->uuid, f->agent_device);
  g_autofree char *no_extra = auth_text (f->visitor_token, app, f->visitor->uuid, f->visitor_device, FALSE, "null");
  TestWs *agent;

  assert_auth_fails (f, no_token, 8);
  assert_auth_fails (f, bad_token, 9);
  assert_auth_fails (f, level, 10);
  assert_auth_fails (f, no_uuids, 1);
  assert_auth_fails (f, no_service, 2);
  assert_auth_fails (f, no_extra, 3);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 0);
  g_assert_false (ppms_device_lookup (f->server, f->visitor_device)->is_online);

  agent = connect_agent (f);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 1);
  test_ws_free (agent);
}

/* ---- Frames the server does not like (6.3, 16.4) ---- */

static void
test_frame_errors (Fixture *f, gconstpointer data)
{
  TestWs *ws = connect_agent (f);
  const char *unknown[] = { "{\"type\": \"ping\"}", "{\"type\": \"PING\"}", "{}", "{\"type\": null}" };
  const char *not_json[] = { "ping", "{\"type\": \"auth\"", "" };

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr (JsonObject) ack = NULL;
      test_ws_send (ws, unknown[i]);
      ack = test_ws_next (ws);
      test_assert_ack (ack, "WS", 5);
      g_assert_cmpstr (json_object_get_string_member (ack, "reason"), ==, "no type provided or type is unknown.");
    }
  for (guint i = 0; i < G_N_ELEMENTS (not_json); i++)
    {
      g_autoptr (JsonObject) ack = NULL;
      test_ws_send (ws, not_json[i]);
      ack = test_ws_next (ws);
      test_assert_ack (ack, "WS", 6);
      g_assert_cmpstr (json_object_get_string_member (ack, "reason"), ==, "message data is not JSON.");
    }
  {
    g_autoptr (JsonObject) ack = NULL;
    soup_websocket_connection_send_binary (ws->conn, "\x00\x01not json", 10);
    ack = test_ws_next (ws);
    test_assert_ack (ack, "WS", 6);
  }
  {
    g_autoptr (JsonObject) ack = NULL;
    soup_websocket_connection_send_binary (ws->conn, "{\"type\": \"keepalive\"}", 21);
    ack = test_ws_next (ws);
    test_assert_ack (ack, "WS", 5);
  }
  {
    g_autoptr (JsonObject) ack = NULL;
    test_ws_send (ws, "{\"type\": \"typing_watch\"}");
    ack = test_ws_next (ws);
    test_assert_ack (ack, "TYPING_WATCH", 4);
    g_assert_cmpstr (json_object_get_string_member (ack, "reason"), ==, "parameters error.");
  }
  /* JSON null: no answer at all, the socket stays usable. */
  test_ws_send (ws, "null");
  assert_nothing_before_barrier (ws);
  g_assert_false (ws->closed);
  test_ws_free (ws);
}

/* Frames that make the real handler raise: TCP close, no close frame. */
static void
test_frame_aborts (Fixture *f, gconstpointer data)
{
  const char *crashes[] = { "[1, 2]", "\"ping\"", "{\"type\": 7}", "{\"type\": \"send\"}",
                            "{\"type\": \"send\", \"send\": [1]}" };

  for (guint i = 0; i < G_N_ELEMENTS (crashes); i++)
    {
      RawWs *raw = raw_connect (f);
      guint8 opcode;
      char *payload = NULL;

      raw_send (raw, 0x1, crashes[i]);
      g_assert_false (raw_next (raw, &opcode, &payload));   /* EOF, no frame at all */
      g_assert_true (raw->eof);
      raw_free (raw);
    }
}

/* 16.4: PING answered with the same payload, before auth too. */
static void
test_ping_pong (Fixture *f, gconstpointer data)
{
  RawWs *raw = raw_connect (f);
  const char *payloads[] = { "client-ping-1", "" };

  for (guint i = 0; i < G_N_ELEMENTS (payloads); i++)
    {
      guint8 opcode;
      g_autofree char *payload = NULL;
      raw_send (raw, 0x9, payloads[i]);
      g_assert_true (raw_next (raw, &opcode, &payload));
      g_assert_cmpuint (opcode, ==, 0xA);
      g_assert_cmpstr (payload, ==, payloads[i]);
    }
  g_assert_cmpuint (soup_websocket_connection_get_keepalive_interval (
                      ((PpmsSocket *) f->server->sockets->data)->conn), ==, 0);
  raw_free (raw);
}

/* ---- The chat loop (transcript 03) ---- */

static void
test_chat_loop (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  g_autofree char *hello = NULL, *reply = NULL, *ack_body = NULL, *unacked_body = NULL;
  g_autoptr (JsonObject) push = NULL;
  g_autoptr (JsonObject) back = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (JsonObject) unacked = NULL;
  PpmsMessage *stored;

  ppms_conversation_add_member (f->conv, f->bob->uuid, "Unknown Area.User", NULL);   /* offline */
  g_assert_true (ppms_device_lookup (f->server, f->visitor_device)->is_online);
  hello = send_and_ack (f, visitor, f->visitor, f->visitor_device, "P2S", "TEXT",
                        "\"Thanks \\u8c22\\u8c22 </b>\"");
  push = test_ws_next_of_type (agent, "MSG");
  assert_msg_shape (push, f->visitor, f->conv->uuid, "DU", "P2S");
  g_assert_cmpstr (msg_member (push, "id"), ==, hello);
  g_assert_cmpstr (msg_member (push, "bo"), ==, "Thanks \xe8\xb0\xa2\xe8\xb0\xa2 </b>");
  stored = ppms_message_lookup (f->server, hello);
  g_assert_cmpstr (stored->task_status, ==, "PROCESSED");
  g_assert_nonnull (strstr (stored->message_body, "\"ms\": \"TEXT\", \"ci\""));
  g_assert_cmpstr (f->conv->status, ==, "OPEN");
  g_assert_cmpstr (((PpmsMember *) g_ptr_array_index (f->conv->members, 0))->status, ==, "OPEN");
  g_assert_cmpuint (ppms_server_count_messages (f->server, f->conv->uuid), ==, 1);

  /* The agent acks through the API; Bob (offline) has no push record. */
  ack_body = g_strdup_printf ("{\"list\": [\"%s\", null, \"unknown\"]}", msg_member (push, "pid"));
  answer = api_post (f, f->agent_token, "ACK_MESSAGE", ack_body, NULL);
  g_assert_cmpint (json_object_get_int_member (answer, "error_code"), ==, 0);
  g_assert_cmpstr (((PpmsPush *) g_hash_table_lookup (f->server->pushes, msg_member (push, "pid")))->status,
                   ==, "ACKED");
  g_assert_cmpuint (g_hash_table_size (f->server->pushes), ==, 1);

  /* The agent's S2P reply is pushed to the app (ti = app uuid, tt AP). */
  reply = send_and_ack (f, agent, f->agent, f->agent_device, "S2P", "TEXT", "\"Hi!\"");
  back = test_ws_next_of_type (visitor, "MSG");
  assert_msg_shape (back, f->agent, ppms_server_app_uuid (f->server), "AP", "S2P");
  unacked_body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\"}",
                                  ppms_server_app_uuid (f->server), f->visitor->uuid);
  unacked = api_post (f, f->visitor_token, "PP_PAGE_UNACKED_MESSAGE", unacked_body, NULL);
  g_assert_cmpint (json_object_get_int_member (unacked, "total_count"), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (unacked, "list"), 0),
                   ==, msg_member (back, "pid"));
  /* The sender never gets its own message. */
  assert_nothing_before_barrier (agent);
  assert_nothing_before_barrier (visitor);
  test_ws_free (agent);
  test_ws_free (visitor);
}

/* ---- Bodies (7.5, 10.4) ---- */

static void
test_long_text (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  GString *at_limit = g_string_new ("\"");
  GString *over = g_string_new ("\"");
  g_autofree char *a = NULL, *b = NULL, *over_text = NULL;
  g_autoptr (JsonObject) first = NULL, second = NULL, fid = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  PpmsFile *file;
  gsize size;

  /* 42 three-byte characters + 2 bytes = 128 bytes; one more byte is 129. */
  for (int i = 0; i < 42; i++)
    {
      g_string_append (at_limit, "\\u8c22");
      g_string_append (over, "\\u8c22");
    }
  g_string_append (at_limit, "ab\"");
  g_string_append (over, "abc\"");
  a = send_and_ack (f, visitor, f->visitor, f->visitor_device, "P2S", "TEXT", at_limit->str);
  first = test_ws_next_of_type (agent, "MSG");
  g_assert_cmpstr (msg_member (first, "ms"), ==, "TEXT");
  b = send_and_ack (f, visitor, f->visitor, f->visitor_device, "P2S", "TEXT", over->str);
  second = test_ws_next_of_type (agent, "MSG");
  g_assert_cmpstr (msg_member (second, "ms"), ==, "TXT");
  g_assert_true (json_parser_load_from_data (parser, msg_member (second, "bo"), -1, NULL));
  fid = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  g_assert_cmpuint (json_object_get_size (fid), ==, 1);
  file = ppms_file_lookup (f->server, json_object_get_string_member (fid, "fid"));
  g_assert_nonnull (file);
  g_assert_cmpstr (file->file_mime, ==, "text/plain");
  over_text = g_strndup (over->str + 1, over->len - 2);
  g_assert_cmpuint (g_bytes_get_size (file->data), ==, 129);
  g_assert_cmpmem (g_bytes_get_data (file->data, &size), 3, "\xe8\xb0\xa2", 3);
  g_assert_cmpstr (ppms_message_lookup (f->server, b)->message_subtype, ==, "TXT");
  g_string_free (at_limit, TRUE);
  g_string_free (over, TRUE);
  test_ws_free (agent);
  test_ws_free (visitor);
}

static void
test_send_validation (Fixture *f, gconstpointer data)
{
  TestWs *visitor = connect_visitor (f);
  g_autoptr (GBytes) pdf = g_bytes_new_static ("%PDF-1.4\n% fake pdf for the rig\n", 32);
  PpmsFile *upload = ppms_file_add (f->server, "invoice.pdf", "application/pdf", pdf);
  g_autofree char *missing = g_strdup_printf ("{\"type\": \"send\", \"send\": {\"uuid\": \"u-1\","
                                              " \"conversation_uuid\": \"%s\"}}", f->conv->uuid);
  g_autofree char *gps = send_text (f, f->visitor, f->visitor_device, "P2S", "GPS_LOCATION", "\"{}\"", "u-2");
  g_autofree char *image = send_text (f, f->visitor, f->visitor_device, "P2S", "IMAGE",
                                      "\"{\\\"fid\\\": \\\"nope\\\", \\\"mime\\\": \\\"image/png\\\"}\"", "u-3");
  g_autofree char *broken = send_text (f, f->visitor, f->visitor_device, "P2S", "FILE", "\"{not json\"", "u-4");
  g_autofree char *file_body = g_strdup_printf ("\"{\\\"fid\\\": \\\"%s\\\", \\\"mime\\\": \\\"x/y\\\"}\"", upload->uuid);
  g_autofree char *file = send_text (f, f->visitor, f->visitor_device, "P2S", "FILE", file_body, "u-5");
  TestWs *agent = connect_agent (f);
  JsonObject *ack;
  g_autoptr (JsonObject) push = NULL;
  g_autofree char *expected_bo = NULL;

  test_ws_send (visitor, missing);
  ack = test_ws_next (visitor);
  test_assert_ack (ack, "SEND", 4);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (ack, "extra"), "uuid"), ==, "u-1");
  json_object_unref (ack);
  test_ws_send (visitor, gps);
  ack = test_ws_next (visitor);
  test_assert_ack (ack, "SEND", 7);
  g_assert_cmpstr (json_object_get_string_member (ack, "reason"), ==, "message content is illegal.");
  json_object_unref (ack);
  test_ws_send (visitor, image);
  ack = test_ws_next (visitor);
  test_assert_ack (ack, "SEND", 7);
  json_object_unref (ack);
  /* A body that is not JSON: no ack at all; the next ack is the FILE's. */
  test_ws_send (visitor, broken);
  test_ws_send (visitor, file);
  ack = test_ws_next (visitor);
  test_assert_ack (ack, "SEND", 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (ack, "extra"), "uuid"), ==, "u-5");
  json_object_unref (ack);
  push = test_ws_next_of_type (agent, "MSG");
  expected_bo = g_strdup_printf ("{\"fid\": \"%s\", \"mime\": \"application/pdf\", \"size\": 32,"
                                 " \"name\": \"invoice.pdf\"}", upload->uuid);
  g_assert_cmpstr (msg_member (push, "bo"), ==, expected_bo);
  g_assert_null (ppms_message_lookup (f->server, "u-4"));
  g_assert_null (ppms_message_lookup (f->server, "u-2"));
  test_ws_free (agent);
  test_ws_free (visitor);
}

/* ---- IMAGE bodies (7.5; transcript 06) ---- */

static PpmsFile *
add_png (Fixture *f, guint width, guint height)
{
  guint8 png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  g_autoptr (GBytes) bytes = NULL;

  png[16] = width >> 24; png[17] = width >> 16; png[18] = width >> 8; png[19] = width;
  png[20] = height >> 24; png[21] = height >> 16; png[22] = height >> 8; png[23] = height;
  png[24] = 8; png[25] = 2;
  bytes = g_bytes_new (png, sizeof png);
  return ppms_file_add (f->server, "shot.png", "image/png", bytes);
}

static void
test_image_bodies (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  PpmsFile *big = add_png (f, 320, 240), *small = add_png (f, 64, 64);
  g_autofree char *big_body = g_strdup_printf ("\"{\\\"fid\\\": \\\"%s\\\", \\\"mime\\\": \\\"IMAGE/PNG\\\"}\"", big->uuid);
  g_autofree char *small_body = g_strdup_printf ("\"{\\\"fid\\\": \\\"%s\\\", \\\"mime\\\": \\\"image/png\\\"}\"", small->uuid);
  g_autofree char *a = NULL, *b = NULL, *expected_small = NULL;
  g_autoptr (JsonObject) big_push = NULL, small_push = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *bo;

  a = send_and_ack (f, visitor, f->visitor, f->visitor_device, "P2S", "IMAGE", big_body);
  big_push = test_ws_next_of_type (agent, "MSG");
  g_assert_cmpstr (msg_member (big_push, "ms"), ==, "IMAGE");
  g_assert_true (json_parser_load_from_data (parser, msg_member (big_push, "bo"), -1, NULL));
  bo = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (bo), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (bo, "orig"), ==, big->uuid);
  g_assert_cmpstr (json_object_get_string_member (bo, "thum"), !=, big->uuid);
  g_assert_nonnull (ppms_file_lookup (f->server, json_object_get_string_member (bo, "thum")));
  g_assert_cmpstr (json_object_get_string_member (bo, "mime"), ==, "image/png");
  g_assert_cmpint (json_object_get_int_member (bo, "thum_width"), ==, 120);
  g_assert_cmpint (json_object_get_int_member (bo, "thum_height"), ==, 90);

  b = send_and_ack (f, agent, f->agent, f->agent_device, "S2P", "IMAGE", small_body);
  small_push = test_ws_next_of_type (visitor, "MSG");
  expected_small = g_strdup_printf ("{\"thum\": \"%s\", \"orig\": \"%s\", \"mime\": \"image/png\","
                                    " \"orig_width\": 64, \"orig_height\": 64, \"thum_width\": 64,"
                                    " \"thum_height\": 64}", small->uuid, small->uuid);
  g_assert_cmpstr (msg_member (small_push, "bo"), ==, expected_small);
  test_ws_free (agent);
  test_ws_free (visitor);
}

/* ---- Agent to agent (16.2; transcript 11) ---- */

static void
test_s2s_fan_out (Fixture *f, gconstpointer data)
{
  PpmsDevice *bob_device = add_device (f, f->bob, "LIB", TRUE);
  g_autofree char *bob_token = issue_token (f, "PPKEFU");
  TestWs *alice = connect_agent (f), *bob;
  g_autoptr (JsonObject) push = NULL;
  g_autofree char *uuid = NULL;

  f->bob->browser_device_uuid = g_strdup (bob_device->uuid);
  bob = connect_authed (f, bob_token, f->bob, bob_device->uuid, TRUE);
  /* A group: the P2S members plus Bob; to_uuid does not route. */
  ppms_conversation_add_member (f->conv, f->bob->uuid, "Group", NULL);
  uuid = send_and_ack (f, alice, f->agent, f->agent_device, "S2S", "TEXT", "\"Team: news\"");
  push = test_ws_next_of_type (bob, "MSG");
  assert_msg_shape (push, f->agent, f->conv->uuid, "DU", "S2S");   /* ti as sent */
  g_assert_cmpstr (msg_member (push, "id"), ==, uuid);
  /* The visitor is offline: no push record for it; Bob has one. */
  g_assert_cmpuint (g_hash_table_size (f->server->pushes), ==, 1);
  assert_nothing_before_barrier (alice);
  test_ws_free (alice);
  test_ws_free (bob);
}

/* ---- Stored but never dispatched (7.9 rules 8 and 9) ---- */

static void
test_undeliverable (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  g_autofree char *no_app = g_strdup_printf (
    "{\"type\": \"send\", \"send\": {\"uuid\": \"n-1\", \"conversation_uuid\": \"%s\","
    " \"message_type\": \"NOTI\", \"message_subtype\": \"TEXT\", \"from_uuid\": \"%s\","
    " \"from_type\": \"DU\", \"to_uuid\": \"x\", \"to_type\": \"DU\", \"message_body\": \"lost\"}}",
    f->conv->uuid, f->visitor->uuid);
  g_autofree char *stub = g_strdup_printf (
    "{\"type\": \"send\", \"send\": {\"uuid\": \"n-2\", \"app_uuid\": \"%s\", \"conversation_uuid\": \"new-conv\","
    " \"message_type\": \"noti\", \"message_subtype\": \"text\", \"from_uuid\": \"nobody\","
    " \"from_type\": \"DU\", \"to_uuid\": \"x\", \"to_type\": \"DU\", \"message_body\": \"stub\"}}",
    ppms_server_app_uuid (f->server));
  g_autoptr (JsonObject) ack1 = NULL, ack2 = NULL;
  PpmsMessage *pending, *stored;

  test_ws_send (visitor, no_app);
  ack1 = test_ws_next (visitor);
  test_assert_ack (ack1, "SEND", 0);
  test_ws_send (visitor, stub);
  ack2 = test_ws_next (visitor);
  test_assert_ack (ack2, "SEND", 0);
  drain_queue (&state_of (f)->dispatch_queue);
  drain_queue (&state_of (f)->push_queue);
  pending = ppms_message_lookup (f->server, "n-1");
  g_assert_cmpstr (pending->task_status, ==, "PENDING");
  g_assert_null (pending->message_body);
  stored = ppms_message_lookup (f->server, "n-2");
  g_assert_cmpstr (stored->message_type, ==, "NOTI");
  g_assert_cmpstr (stored->message_subtype, ==, "TEXT");
  g_assert_nonnull (ppms_conversation_lookup (f->server, "new-conv"));
  g_assert_cmpuint (ppms_server_count_messages (f->server, "new-conv"), ==, 1);
  assert_nothing_before_barrier (agent);
  test_ws_free (agent);
  test_ws_free (visitor);
}

/* Ill-typed members never crash the server: each frame gets its ack or
 * nothing, and the socket stays usable. */
static void
test_ill_typed_members (Fixture *f, gconstpointer data)
{
  TestWs *ws = connect_agent (f);
  const char *frames[] = {
    "{\"type\": \"typing_watch\", \"conversation_uuid\": {\"a\": 1}}",
    "{\"type\": \"typing\"}",
    "{\"type\": \"typing_unwatch\", \"conversation_uuid\": 5}",
    "{\"type\": \"send\", \"send\": {}}",
    "{\"type\": \"send\", \"send\": {\"uuid\": 5, \"message_body\": [1]}}",
    "{\"type\": \"send\", \"send\": {\"uuid\": \"t\", \"conversation_uuid\": \"c\", \"message_type\": \"NOTI\","
    " \"message_subtype\": \"TXT\", \"message_body\": \"[1]\", \"from_uuid\": \"u\", \"from_type\": \"DU\","
    " \"to_uuid\": \"u\", \"to_type\": \"DU\"}}",
    "{\"type\": \"send\", \"send\": {\"uuid\": \"t2\", \"conversation_uuid\": \"c\", \"message_type\": \"NOTI\","
    " \"message_subtype\": \"AUDIO\", \"message_body\": \"{\\\"fid\\\": 1}\", \"from_uuid\": \"u\","
    " \"from_type\": \"DU\", \"to_uuid\": \"u\", \"to_type\": \"DU\"}}",
  };
  gint64 expected_codes[] = { -1, -1, -1, 4, 4, -1, 7 };

  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    {
      test_ws_send (ws, frames[i]);
      if (expected_codes[i] >= 0)
        {
          g_autoptr (JsonObject) ack = test_ws_next (ws);
          test_assert_ack (ack, "SEND", expected_codes[i]);
        }
    }
  drain_queue (&state_of (f)->send_queue);
  drain_queue (&state_of (f)->ack_queue);
  assert_nothing_before_barrier (ws);
  {
    g_autofree char *auth = g_strdup_printf ("{\"type\": \"auth\", \"api_token\": 12, \"app_uuid\": 1}");
    g_autoptr (JsonObject) ack = NULL;
    test_ws_send (ws, auth);
    ack = test_ws_next (ws);
    test_assert_ack (ack, "AUTH", 9);
  }
  test_ws_free (ws);
}

/* ---- Typing (6.3.3 - 6.3.5) ---- */

static void
test_typing (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  g_autofree char *watch = g_strdup_printf ("{\"type\": \"typing_watch\", \"conversation_uuid\": \"%s\"}",
                                            f->conv->uuid);
  g_autoptr (JsonObject) typing = NULL;

  /* Only the visitor watches: its typing reaches nobody. */
  test_ws_send (visitor, watch);
  test_ws_send (visitor, "{\"type\": \"typing\"}");
  assert_nothing_before_barrier (visitor);
  drain_queue (&state_of (f)->typing_queue);
  assert_nothing_before_barrier (agent);

  /* Both watch: the typing arrives, about one (scaled) second later. */
  test_ws_send (agent, watch);
  test_ws_send (visitor, "{\"type\": \"TYPING\"}");
  typing = test_ws_next_of_type (agent, "TYPING");
  g_assert_cmpuint (json_object_get_size (typing), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (typing, "user_uuid"), ==, f->visitor->uuid);
  g_assert_cmpstr (json_object_get_string_member (typing, "conversation_uuid"), ==, f->conv->uuid);
  /* The typer does not hear itself. */
  assert_nothing_before_barrier (visitor);

  /* After typing_unwatch on the listener: nothing. */
  test_ws_send (agent, "{\"type\": \"typing_unwatch\"}");
  test_ws_send (visitor, "{\"type\": \"typing\"}");
  assert_nothing_before_barrier (visitor);
  drain_queue (&state_of (f)->typing_queue);
  assert_nothing_before_barrier (agent);
  test_ws_free (agent);
  test_ws_free (visitor);
}

/* ---- Kicks (6.4.5, 6.7; transcript 08) ---- */

static void
assert_logout_frame (JsonObject *frame, const char *device)
{
  JsonObject *msg = json_object_get_object_member (frame, "msg");

  g_assert_cmpstr (json_object_get_string_member (frame, "type"), ==, "MSG");
  g_assert_cmpuint (json_object_get_size (msg), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (msg, "mt"), ==, "SYS");
  g_assert_cmpstr (json_object_get_string_member (msg, "ms"), ==, "LOGOUT");
  g_assert_cmpstr (json_object_get_string_member (msg, "bo"), ==, device);
}

static gboolean
two_sockets_left (gpointer data)
{
  return g_list_length (((PpmsServer *) data)->sockets) == 2;
}

static void
test_same_device_kick (Fixture *f, gconstpointer data)
{
  TestWs *first = connect_agent (f);
  TestWs *second = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  g_autoptr (JsonObject) logout = test_ws_next (first);
  g_autoptr (JsonObject) push = NULL;
  g_autofree char *uuid = NULL;

  assert_logout_frame (logout, f->agent_device);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 2);
  g_assert_true (ppms_device_lookup (f->server, f->agent_device)->is_online);
  /* Pushes go to the new socket only; the old one's close changes nothing. */
  uuid = send_and_ack (f, visitor, f->visitor, f->visitor_device, "P2S", "TEXT", "\"hi\"");
  push = test_ws_next_of_type (second, "MSG");
  g_assert_cmpstr (msg_member (push, "id"), ==, uuid);
  g_assert_false (first->closed);
  test_ws_free (first);
  g_assert_true (test_iterate_until (two_sockets_left, f->server, WAIT_MS));
  assert_nothing_before_barrier (second);
  g_assert_true (ppms_device_lookup (f->server, f->agent_device)->is_online);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 2);
  test_ws_free (second);
  test_ws_free (visitor);
}

static gboolean
no_registered_socket (gpointer data)
{
  return ppms_server_count_sockets (data) == 0;
}

static void
test_forced_logout (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  g_autoptr (JsonObject) logout = NULL;

  ppms_ws_force_logout (f->server, f->agent_device);
  logout = test_ws_next (agent);
  assert_logout_frame (logout, f->agent_device);
  g_assert_true (test_iterate_until (no_registered_socket, f->server, WAIT_MS));
  /* Detached, not closed: it still answers, but receives no pushes. */
  assert_nothing_before_barrier (agent);
  g_assert_false (agent->closed);
  test_ws_free (agent);
}

/* ---- Presence flags and sockets closing (6.6, 8.2; transcript 12) ---- */

static gboolean
device_offline (gpointer data)
{
  return !((PpmsDevice *) data)->is_online;
}

static void
test_close_flags (Fixture *f, gconstpointer data)
{
  PpmsDevice *phone = add_device (f, f->agent, "AND", TRUE);
  TestWs *visitor = connect_visitor (f);
  TestWs *browser = connect_agent (f);
  TestWs *mobile;
  PpmsDevice *visitor_device = ppms_device_lookup (f->server, f->visitor_device);
  PpmsDevice *browser_device = ppms_device_lookup (f->server, f->agent_device);

  f->agent->mobile_device_uuid = g_strdup (phone->uuid);
  mobile = connect_authed (f, f->agent_token, f->agent, phone->uuid, TRUE);
  g_assert_true (visitor_device->is_online);
  test_ws_free (visitor);
  test_ws_free (browser);
  test_ws_free (mobile);
  g_assert_true (test_iterate_until (device_offline, visitor_device, WAIT_MS));
  g_assert_true (test_iterate_until (device_offline, browser_device, WAIT_MS));
  g_assert_true (test_iterate_until (sockets_gone, f->server, WAIT_MS));
  g_assert_true (phone->is_online);   /* an agent's phone stays online */
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 0);
}

/* 7.9 rule 6 and 16.3: the sender's other device gets a copy. */
static void
test_other_device_echo (Fixture *f, gconstpointer data)
{
  PpmsDevice *phone = add_device (f, f->agent, "AND", TRUE);
  TestWs *visitor, *browser, *mobile;
  g_autoptr (JsonObject) to_visitor = NULL, copy = NULL, both1 = NULL, both2 = NULL;
  g_autofree char *uuid = NULL, *from_visitor = NULL;

  f->agent->mobile_device_uuid = g_strdup (phone->uuid);
  visitor = connect_visitor (f);
  browser = connect_agent (f);
  mobile = connect_authed (f, f->agent_token, f->agent, phone->uuid, TRUE);
  uuid = send_and_ack (f, browser, f->agent, f->agent_device, "S2P", "TEXT", "\"from the browser\"");
  to_visitor = test_ws_next_of_type (visitor, "MSG");
  copy = test_ws_next_of_type (mobile, "MSG");
  assert_msg_shape (copy, f->agent, ppms_server_app_uuid (f->server), "AP", "S2P");
  g_assert_cmpstr (msg_member (copy, "id"), ==, uuid);
  g_assert_cmpstr (msg_member (copy, "pid"), !=, msg_member (to_visitor, "pid"));
  assert_nothing_before_barrier (browser);

  /* A visitor message reaches both devices with one pid. */
  from_visitor = send_and_ack (f, visitor, f->visitor, f->visitor_device, "P2S", "TEXT", "\"to both\"");
  both1 = test_ws_next_of_type (browser, "MSG");
  both2 = test_ws_next_of_type (mobile, "MSG");
  g_assert_cmpstr (msg_member (both1, "pid"), ==, msg_member (both2, "pid"));
  test_ws_free (visitor);
  test_ws_free (browser);
  test_ws_free (mobile);
}

/* ---- href in extra_data (BUG 4) ---- */

static void
test_href_abort (Fixture *f, gconstpointer data)
{
  RawWs *raw = raw_connect (f);
  g_autofree char *auth = auth_text (f->visitor_token, ppms_server_app_uuid (f->server), f->visitor->uuid,
                                     f->visitor_device, FALSE, "{\"title\": \"Flat\", \"href\": \"http://x/\"}");
  g_autofree char *payload = NULL;
  char *none = NULL;
  guint8 opcode;

  raw_send (raw, 0x1, auth);
  /* The success ack, then the TCP close without a close frame. */
  g_assert_true (raw_next (raw, &opcode, &payload));
  g_assert_cmpuint (opcode, ==, 0x1);
  g_assert_nonnull (strstr (payload, "\"what\": \"AUTH\", \"code\": 0"));
  g_assert_false (raw_next (raw, &opcode, &none));
  g_assert_true (raw->eof);
  raw_free (raw);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 0);
  g_assert_false (ppms_device_lookup (f->server, f->visitor_device)->is_online);
}

/* ---- ONLINE frames (6.4.4; transcripts 05 and 05b) ---- */

static void
test_online_frames (Fixture *f, gconstpointer data)
{
  TestWs *agent, *visitor;
  g_autoptr (JsonObject) self = NULL, visitor_online = NULL, visitor_offline = NULL;

  /* As shipped: nothing is ever queued. */
  agent = connect_agent (f);
  visitor = connect_visitor (f);
  g_assert_true (g_queue_is_empty (&state_of (f)->online_queue.items));
  test_ws_free (visitor);
  test_ws_free (agent);
  g_assert_true (test_iterate_until (sockets_gone, f->server, WAIT_MS));
  g_assert_true (g_queue_is_empty (&state_of (f)->online_queue.items));

  ppms_server_set_deliver_online (f->server, TRUE);
  agent = connect_agent (f);
  self = test_ws_next_of_type (agent, "ONLINE");
  g_assert_cmpuint (json_object_get_size (self), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (self, "user_uuid"), ==, f->agent->uuid);
  g_assert_cmpstr (json_object_get_string_member (self, "browser"), ==, "ONLINE");
  g_assert_cmpstr (json_object_get_string_member (self, "mobile"), ==, "UNCHANGED");
  g_assert_cmpstr (json_object_get_string_member (self, "device_uuid"), ==, f->agent_device);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (self, "extra_data")));
  g_assert_cmpuint (strlen (json_object_get_string_member (self, "createtime")), ==, 19);
  visitor = connect_visitor (f);
  visitor_online = test_ws_next_of_type (agent, "ONLINE");
  g_assert_cmpstr (json_object_get_string_member (visitor_online, "user_uuid"), ==, f->visitor->uuid);
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (visitor_online, "extra_data"), "title"), ==, "Shop");
  test_ws_free (visitor);
  visitor_offline = test_ws_next_of_type (agent, "ONLINE");
  g_assert_cmpstr (json_object_get_string_member (visitor_offline, "browser"), ==, "OFFLINE");
  g_assert_true (json_object_has_member (json_object_get_object_member (visitor_offline, "extra_data"), "location"));
  test_ws_free (agent);
}

/* ---- Faults: drop and stall ---- */

static void
test_drop_websockets (Fixture *f, gconstpointer data)
{
  TestWs *agent = connect_agent (f);
  TestWs *visitor = connect_visitor (f);
  gushort code;

  ppms_server_drop_websockets (f->server);
  code = test_ws_wait_closed (agent);
  g_assert_true (code == 0 || code == SOUP_WEBSOCKET_CLOSE_ABNORMAL);
  code = test_ws_wait_closed (visitor);
  g_assert_true (code == 0 || code == SOUP_WEBSOCKET_CLOSE_ABNORMAL);
  g_assert_true (test_iterate_until (sockets_gone, f->server, WAIT_MS));
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 0);
  g_assert_false (ppms_device_lookup (f->server, f->visitor_device)->is_online);
  test_ws_free (agent);
  test_ws_free (visitor);
}

static void
test_ws_stall (Fixture *f, gconstpointer data)
{
  RawWs *raw = raw_connect (f);
  guint8 opcode;
  g_autofree char *pong = NULL, *first = NULL, *second = NULL, *pong2 = NULL;

  ppms_server_set_ws_stall (f->server, TRUE);
  raw_send (raw, 0x1, "{\"type\": \"nonsense\"}");
  raw_send (raw, 0x9, "p1");
  g_assert_true (raw_next (raw, &opcode, &pong));   /* the frame before it was swallowed */
  g_assert_cmpuint (opcode, ==, 0xA);
  ppms_server_set_ws_stall (f->server, FALSE);
  raw_send (raw, 0x1, "{\"type\": \"nonsense\"}");
  raw_send (raw, 0x9, "p2");
  g_assert_true (raw_next (raw, &opcode, &first));
  g_assert_cmpuint (opcode, ==, 0x1);
  g_assert_nonnull (strstr (first, "\"code\": 5"));
  g_assert_true (raw_next (raw, &opcode, &pong2));
  g_assert_cmpuint (opcode, ==, 0xA);
  g_assert_cmpstr (pong2, ==, "p2");
  raw_free (raw);
}

/* ---- Server stop keeps the flags (8.2) ---- */

static void
test_stop_keeps_flags (Fixture *f, gconstpointer data)
{
  TestWs *visitor = connect_visitor (f);

  ppms_server_stop (f->server);
  test_ws_wait_closed (visitor);
  g_assert_null (f->server->sockets);
  g_assert_true (ppms_device_lookup (f->server, f->visitor_device)->is_online);
  test_ws_free (visitor);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func) g_test_add ("/server-messaging/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("auth-codes", test_auth_codes);
  ADD ("frame-errors", test_frame_errors);
  ADD ("frame-aborts", test_frame_aborts);
  ADD ("ping-pong", test_ping_pong);
  ADD ("chat-loop", test_chat_loop);
  ADD ("long-text", test_long_text);
  ADD ("send-validation", test_send_validation);
  ADD ("image-bodies", test_image_bodies);
  ADD ("s2s-fan-out", test_s2s_fan_out);
  ADD ("undeliverable", test_undeliverable);
  ADD ("ill-typed-members", test_ill_typed_members);
  ADD ("typing", test_typing);
  ADD ("same-device-kick", test_same_device_kick);
  ADD ("forced-logout", test_forced_logout);
  ADD ("close-flags", test_close_flags);
  ADD ("other-device-echo", test_other_device_echo);
  ADD ("href-abort", test_href_abort);
  ADD ("online-frames", test_online_frames);
  ADD ("drop-websockets", test_drop_websockets);
  ADD ("ws-stall", test_ws_stall);
  ADD ("stop-keeps-flags", test_stop_keeps_flags);
#undef ADD
  return g_test_run ();
}
