/* test-server-messaging.h: the world and the clients shared by the test
 * programs of the server's websocket and messaging part: a fixture with one
 * agent, one visitor and their P2S conversation, a libsoup websocket client,
 * a raw websocket client (control frames, TCP closes) and a REST client.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <string.h>
#include "ppms-internal.h"
#include "ppms-messaging.h"
#include "ppm-test-peer.h"

/* ---- The world: one agent (browser), one visitor, a P2S conversation ---- */

typedef struct {
  PpmsServer *server;
  SoupSession *session;
  char *ws_url;
  PpmsUser *agent, *bob, *visitor;
  char *agent_device, *visitor_device;
  char *agent_token, *visitor_token;
  PpmsConversation *conv;
} Fixture;

/* ---- Waiting: iterate the main loop until a condition, or fail ---- */

typedef gboolean (*TestCondition) (gpointer data);

G_GNUC_UNUSED static gboolean
timeout_hit (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

G_GNUC_UNUSED static gboolean
test_iterate_until (TestCondition condition, gpointer data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_hit, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

#define WAIT_MS 5000

G_GNUC_UNUSED static gboolean
test_queue_idle (gpointer data)
{
  PpmsTimedQueue *queue = data;
  return queue->source == NULL && g_queue_is_empty (&queue->items);
}

/* ---- A websocket client (libsoup) collecting frames ---- */

typedef struct {
  SoupWebsocketConnection *conn;
  GQueue frames;          /* JsonObject* */
  gboolean closed;
  GError *connect_error;
  gboolean connect_done;
} TestWs;

G_GNUC_UNUSED static void
ws_on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  TestWs *ws = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size;
  const char *text = g_bytes_get_data (message, &size);

  g_assert_true (json_parser_load_from_data (parser, text, size, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  g_queue_push_tail (&ws->frames, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

G_GNUC_UNUSED static void
ws_on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  ((TestWs *) data)->closed = TRUE;
}

G_GNUC_UNUSED static void
ws_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  TestWs *ws = data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &ws->connect_error);
  ws->connect_done = TRUE;
}

G_GNUC_UNUSED static gboolean
ws_connect_done (gpointer data)
{
  return ((TestWs *) data)->connect_done;
}

G_GNUC_UNUSED static TestWs *
test_ws_connect (SoupSession *session, const char *url)
{
  TestWs *ws = g_new0 (TestWs, 1);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);

  g_queue_init (&ws->frames);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        ws_connected, ws);
  g_assert_true (test_iterate_until (ws_connect_done, ws, WAIT_MS));
  g_assert_no_error (ws->connect_error);
  g_signal_connect (ws->conn, "message", G_CALLBACK (ws_on_message), ws);
  g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_on_closed), ws);
  return ws;
}

G_GNUC_UNUSED static void
test_ws_free (TestWs *ws)
{
  g_signal_handlers_disconnect_by_data (ws->conn, ws);
  if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (ws->conn);
  g_queue_clear_full (&ws->frames, (GDestroyNotify) json_object_unref);
  g_free (ws);
}

G_GNUC_UNUSED static void
test_ws_send (TestWs *ws, const char *text)
{
  soup_websocket_connection_send_text (ws->conn, text);
}

G_GNUC_UNUSED static gboolean
ws_has_frame (gpointer data)
{
  TestWs *ws = data;
  return !g_queue_is_empty (&ws->frames) || ws->closed;
}

G_GNUC_UNUSED static JsonObject *
test_ws_next (TestWs *ws)
{
  g_assert_true (test_iterate_until (ws_has_frame, ws, WAIT_MS));
  g_assert_false (g_queue_is_empty (&ws->frames));
  return g_queue_pop_head (&ws->frames);
}

G_GNUC_UNUSED static JsonObject *
test_ws_next_of_type (TestWs *ws, const char *type)
{
  JsonObject *frame = test_ws_next (ws);
  g_assert_cmpstr (json_object_get_string_member (frame, "type"), ==, type);
  return frame;
}

G_GNUC_UNUSED static gboolean
ws_is_closed (gpointer data)
{
  return ((TestWs *) data)->closed;
}

/* Waits for the close; returns the close code received (0: none). */
G_GNUC_UNUSED static gushort
test_ws_wait_closed (TestWs *ws)
{
  g_assert_true (test_iterate_until (ws_is_closed, ws, WAIT_MS));
  return soup_websocket_connection_get_close_code (ws->conn);
}

G_GNUC_UNUSED static void
test_assert_ack (JsonObject *ack, const char *what, gint64 code)
{
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ACK");
  g_assert_cmpstr (json_object_get_string_member (ack, "what"), ==, what);
  g_assert_cmpint (json_object_get_int_member (ack, "code"), ==, code);
  g_assert_true (json_object_has_member (ack, "reason"));
  g_assert_true (json_object_has_member (ack, "extra"));
  g_assert_cmpuint (json_object_get_size (ack), ==, 5);
}

/* ---- A raw websocket client, to see control frames and TCP closes ---- */

typedef struct {
  GSocketConnection *connection;
  GSocket *socket;
  GByteArray *in;
  gboolean eof;
} RawWs;

G_GNUC_UNUSED static gboolean
raw_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Reads what is there; waits for more (main loop) until want bytes or EOF. */
G_GNUC_UNUSED static void
raw_fill (RawWs *raw, guint want)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_MS, timeout_hit, &timed_out);
  GSource *source = g_socket_create_source (raw->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);

  g_source_set_callback (source, G_SOURCE_FUNC (raw_readable), NULL, NULL);
  g_source_attach (source, NULL);
  while (raw->in->len < want && !raw->eof && !timed_out)
    {
      guint8 buf[4096];
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (raw->socket, (char *) buf, sizeof buf, NULL, &error);

      if (n > 0)
        g_byte_array_append (raw->in, buf, n);
      else if (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        raw->eof = TRUE;
      else
        g_main_context_iteration (NULL, TRUE);
    }
  g_source_destroy (source);
  g_source_unref (source);
  if (!timed_out)
    g_source_remove (id);
  g_assert_false (timed_out);
}

G_GNUC_UNUSED static void
raw_write (RawWs *raw, const guint8 *data, gsize len)
{
  gsize written = 0;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (raw->connection)),
                                            data, len, &written, NULL, NULL));
}

G_GNUC_UNUSED static RawWs *
raw_connect (Fixture *f)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  RawWs *raw = g_new0 (RawWs, 1);
  g_autofree char *request = g_strdup_printf (
    "GET /pcsocket/WS HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n");
  g_autoptr (GError) error = NULL;
  char *end;

  raw->connection = g_socket_client_connect_to_host (client, "127.0.0.1", ppms_server_get_port (f->server),
                                                     NULL, &error);
  g_assert_no_error (error);
  raw->socket = g_socket_connection_get_socket (raw->connection);
  raw->in = g_byte_array_new ();
  raw_write (raw, (const guint8 *) request, strlen (request));
  g_socket_set_blocking (raw->socket, FALSE);
  while (raw->in->len == 0
         || (end = g_strstr_len ((char *) raw->in->data, raw->in->len, "\r\n\r\n")) == NULL)
    {
      guint len = raw->in->len;
      raw_fill (raw, len + 1);
      g_assert_false (raw->eof);
    }
  g_assert_true (g_str_has_prefix ((char *) raw->in->data, "HTTP/1.1 101"));
  g_byte_array_remove_range (raw->in, 0, end + 4 - (char *) raw->in->data);
  return raw;
}

G_GNUC_UNUSED static void
raw_free (RawWs *raw)
{
  g_object_unref (raw->connection);
  g_byte_array_unref (raw->in);
  g_free (raw);
}

G_GNUC_UNUSED static void
raw_send (RawWs *raw, guint8 opcode, const char *payload)
{
  gsize len = strlen (payload);
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  guint8 head[4] = { 0x80 | opcode, 0x80 | (guint8) len, 0, 0 };
  const guint8 mask[4] = { 0x11, 0x22, 0x33, 0x44 };

  g_assert_cmpuint (len, <, 65536);
  if (len >= 126)
    {
      head[1] = 0x80 | 126;
      head[2] = len >> 8;
      head[3] = len & 0xff;
    }
  g_byte_array_append (frame, head, len >= 126 ? 4 : 2);
  g_byte_array_append (frame, mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = payload[i] ^ mask[i % 4];
      g_byte_array_append (frame, &b, 1);
    }
  raw_write (raw, frame->data, frame->len);
}

/* The next frame (opcode, payload); FALSE at EOF without a frame. */
G_GNUC_UNUSED static gboolean
raw_next (RawWs *raw, guint8 *opcode, char **payload)
{
  guint64 len;
  guint header = 2;

  raw_fill (raw, 2);
  if (raw->in->len < 2)
    return FALSE;
  len = raw->in->data[1] & 0x7f;
  if (len == 126)
    {
      raw_fill (raw, 4);
      len = (raw->in->data[2] << 8) | raw->in->data[3];
      header = 4;
    }
  g_assert_cmpuint (len, <, 65536);
  raw_fill (raw, header + len);
  g_assert_cmpuint (raw->in->len, >=, header + len);
  *opcode = raw->in->data[0] & 0x0f;
  *payload = g_strndup ((char *) raw->in->data + header, len);
  g_byte_array_remove_range (raw->in, 0, header + len);
  return TRUE;
}

/* ---- The REST API ---- */

typedef struct {
  GBytes *body;
  guint status;
  gboolean done;
} ApiAnswer;

G_GNUC_UNUSED static void
api_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ApiAnswer *answer = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  answer->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  answer->status = soup_message_get_status (msg);
  answer->done = TRUE;
}

G_GNUC_UNUSED static gboolean
api_is_done (gpointer data)
{
  return ((ApiAnswer *) data)->done;
}

/* POSTs a JSON body; returns the answer object, or NULL (with *status) when
 * it is not JSON. */
G_GNUC_UNUSED static JsonObject *
api_post (Fixture *f, const char *token, const char *name, const char *body, guint *status)
{
  g_autofree char *url = g_strdup_printf ("%s/api/%s", ppms_server_get_url (f->server), name);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autofree char *auth = g_strdup_printf ("OAuth %s", token);
  g_autoptr (GBytes) request = g_bytes_new (body, strlen (body));
  g_autoptr (JsonParser) parser = json_parser_new ();
  ApiAnswer answer = { 0 };
  gsize size;
  const char *data;

  soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization", auth);
  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, api_done, &answer);
  g_assert_true (test_iterate_until (api_is_done, &answer, WAIT_MS));
  if (status != NULL)
    *status = answer.status;
  g_assert_nonnull (answer.body);
  data = g_bytes_get_data (answer.body, &size);
  if (!json_parser_load_from_data (parser, data, size, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_bytes_unref (answer.body);
      return NULL;
    }
  g_bytes_unref (answer.body);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

G_GNUC_UNUSED static PpmsDevice *
add_device (Fixture *f, PpmsUser *user, const char *ostype, gboolean online)
{
  PpmsDevice *d = g_new0 (PpmsDevice, 1);

  d->uuid = ppms_uuid_new ();
  d->terminal_uuid = ppms_uuid_new ();
  d->user_uuid = g_strdup (user->uuid);
  d->device_ostype = g_strdup (ostype);
  d->is_online = online;
  d->createtime = d->updatetime = g_get_real_time ();
  ppms_store_add_device (f->server, d);
  return d;
}

G_GNUC_UNUSED static PpmsUser *
add_visitor (Fixture *f)
{
  PpmsUser *u = g_new0 (PpmsUser, 1);
  PpmsDevice *d;

  u->uuid = ppms_uuid_new ();
  u->user_email = g_strdup_printf ("%.6s@visitor", u->uuid);
  u->user_fullname = g_strdup ("Unknown Area.User");
  u->user_icon = g_strdup ("http://127.0.0.1/identicon/identicon/1.png");
  u->user_status = g_strdup ("ANONYMOUS");
  u->is_anonymous_user = TRUE;
  u->createtime = u->updatetime = g_get_real_time ();
  ppms_store_add_user (f->server, u);
  d = add_device (f, u, "LIB", FALSE);
  d->is_ppcom_device = TRUE;
  u->ppcom_browser_device_uuid = g_strdup (d->uuid);
  return u;
}

G_GNUC_UNUSED static char *
issue_token (Fixture *f, const char *level)
{
  PpmsApiKey *key = ppms_api_key_by_level (f->server, level);
  g_assert_nonnull (key);
  return g_strdup (ppms_token_issue (f->server, key, level)->token);
}

G_GNUC_UNUSED static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PpmsDevice *d;

  f->server = ppms_server_new (NULL, &error);
  g_assert_no_error (error);
  ppms_server_set_timer_scale (f->server, 0.05);
  g_assert_true (ppms_server_listen (f->server, 0, &error));
  g_assert_no_error (error);
  f->session = soup_session_new ();
  f->ws_url = g_strdup_printf ("ws://127.0.0.1:%u/pcsocket/WS", ppms_server_get_port (f->server));
  f->agent = ppms_user_lookup_by_email (f->server, "agent@ppmessage.local");
  f->bob = g_new0 (PpmsUser, 1);
  f->bob->uuid = ppms_uuid_new ();
  f->bob->user_email = g_strdup ("bob@ppmessage.local");
  f->bob->user_fullname = g_strdup ("Bob Assistance");
  f->bob->is_service_user = TRUE;
  ppms_store_add_user (f->server, f->bob);
  g_assert_nonnull (f->agent);
  g_assert_nonnull (f->bob);
  d = add_device (f, f->agent, "LIB", TRUE);   /* PPKEFU_LOGIN flags it online */
  g_free (f->agent->browser_device_uuid);
  f->agent->browser_device_uuid = g_strdup (d->uuid);
  f->agent_device = g_strdup (d->uuid);
  f->visitor = add_visitor (f);
  f->visitor_device = g_strdup (f->visitor->ppcom_browser_device_uuid);
  f->agent_token = issue_token (f, "PPKEFU");
  f->visitor_token = issue_token (f, "PPCOM");
  f->conv = ppms_conversation_new (f->server, "P2S", f->visitor->uuid);
  ppms_conversation_add_member (f->conv, f->visitor->uuid, "Alice Agent", NULL);
  ppms_conversation_add_member (f->conv, f->agent->uuid, "Unknown Area.User", NULL);
}

G_GNUC_UNUSED static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  ppms_server_free (f->server);
  g_object_unref (f->session);
  g_free (f->ws_url);
  g_free (f->agent_device);
  g_free (f->visitor_device);
  g_free (f->agent_token);
  g_free (f->visitor_token);
  /* Let the closed connections finish on the client side. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* ---- Sockets of the world ---- */

G_GNUC_UNUSED static char *
auth_text (const char *token, const char *app, const char *user, const char *device,
           gboolean service, const char *extra_json)
{
  return g_strdup_printf ("{\"type\": \"auth\", \"api_token\": \"%s\", \"app_uuid\": \"%s\","
                          " \"user_uuid\": \"%s\", \"device_uuid\": \"%s\","
                          " \"is_service_user\": %s%s%s}",
                          token, app, user, device, service ? "true" : "false",
                          extra_json ? ", \"extra_data\": " : "", extra_json ? extra_json : "");
}

#define NAV_EXTRA "{\"title\": \"Shop\", \"location\": {\"href\": \"http://shop/\"}}"

G_GNUC_UNUSED static TestWs *
connect_authed (Fixture *f, const char *token, PpmsUser *user, const char *device, gboolean service)
{
  TestWs *ws = test_ws_connect (f->session, f->ws_url);
  g_autofree char *auth = auth_text (token, ppms_server_app_uuid (f->server), user->uuid, device,
                                     service, service ? NULL : NAV_EXTRA);
  g_autoptr (JsonObject) ack = NULL;

  test_ws_send (ws, auth);
  ack = test_ws_next (ws);
  test_assert_ack (ack, "AUTH", 0);
  return ws;
}

G_GNUC_UNUSED static TestWs *
connect_agent (Fixture *f)
{
  return connect_authed (f, f->agent_token, f->agent, f->agent_device, TRUE);
}

G_GNUC_UNUSED static TestWs *
connect_visitor (Fixture *f)
{
  return connect_authed (f, f->visitor_token, f->visitor, f->visitor_device, FALSE);
}

G_GNUC_UNUSED static char *
send_text (Fixture *f, PpmsUser *from, const char *device, const char *ct,
           const char *subtype, const char *body_json, const char *uuid_or_null)
{
  g_autofree char *uuid = uuid_or_null ? g_strdup (uuid_or_null) : ppms_uuid_new ();

  return g_strdup_printf ("{\"type\": \"send\", \"send\": {\"uuid\": \"%s\", \"app_uuid\": \"%s\","
                          " \"conversation_uuid\": \"%s\", \"conversation_type\": \"%s\","
                          " \"message_type\": \"NOTI\", \"message_subtype\": \"%s\","
                          " \"from_uuid\": \"%s\", \"from_type\": \"DU\", \"device_uuid\": \"%s\","
                          " \"to_uuid\": \"%s\", \"to_type\": \"DU\", \"message_body\": %s}}",
                          uuid, ppms_server_app_uuid (f->server), f->conv->uuid, ct, subtype,
                          from->uuid, device, f->conv->uuid, body_json);
}

/* A send and its ack; returns the message uuid. */
G_GNUC_UNUSED static char *
send_and_ack (Fixture *f, TestWs *ws, PpmsUser *from, const char *device, const char *ct,
              const char *subtype, const char *body_json)
{
  char *uuid = ppms_uuid_new ();
  g_autofree char *text = send_text (f, from, device, ct, subtype, body_json, uuid);
  g_autoptr (JsonObject) ack = NULL;

  test_ws_send (ws, text);
  ack = test_ws_next_of_type (ws, "ACK");
  test_assert_ack (ack, "SEND", 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (ack, "extra"), "uuid"),
                   ==, uuid);
  return uuid;
}

/* Proves that nothing else was queued for this socket: an unknown frame's
 * ACK must be the next frame. */
G_GNUC_UNUSED static void
assert_nothing_before_barrier (TestWs *ws)
{
  g_autoptr (JsonObject) ack = NULL;

  test_ws_send (ws, "{\"type\": \"barrier\"}");
  ack = test_ws_next (ws);
  test_assert_ack (ack, "WS", 5);
}

G_GNUC_UNUSED static void
drain_queue (PpmsTimedQueue *queue)
{
  g_assert_true (test_iterate_until (test_queue_idle, queue, WAIT_MS));
}

G_GNUC_UNUSED static PpmsMessaging *
state_of (Fixture *f)
{
  return f->server->messaging;
}


/* ---- Pushed messages ---- */

G_GNUC_UNUSED static void
assert_msg_shape (JsonObject *frame, PpmsUser *from, const char *ti, const char *tt, const char *ct)
{
  JsonObject *msg = json_object_get_object_member (frame, "msg");
  JsonObject *from_user = json_object_get_object_member (msg, "from_user");
  JsonNode *ts = json_object_get_member (msg, "ts");

  g_assert_cmpstr (json_object_get_string_member (frame, "type"), ==, "MSG");
  g_assert_cmpuint (json_object_get_size (frame), ==, 2);
  g_assert_cmpuint (json_object_get_size (msg), ==, 14);
  g_assert_cmpstr (json_object_get_string_member (msg, "fi"), ==, from->uuid);
  g_assert_cmpstr (json_object_get_string_member (msg, "ti"), ==, ti);
  g_assert_cmpstr (json_object_get_string_member (msg, "tt"), ==, tt);
  g_assert_cmpstr (json_object_get_string_member (msg, "ct"), ==, ct);
  g_assert_cmpstr (json_object_get_string_member (msg, "ft"), ==, "DU");
  g_assert_cmpstr (json_object_get_string_member (msg, "mt"), ==, "NOTI");
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (msg, "tl")));
  g_assert_cmpint (json_node_get_value_type (ts), ==, G_TYPE_DOUBLE);
  g_assert_nonnull (json_object_get_string_member (msg, "pid"));
  g_assert_cmpuint (json_object_get_size (from_user), ==, 5);
  g_assert_cmpstr (json_object_get_string_member (from_user, "uuid"), ==, from->uuid);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (from_user, "updatetime")), ==, G_TYPE_INT64);
}

G_GNUC_UNUSED static const char *
msg_member (JsonObject *frame, const char *name)
{
  return json_object_get_string_member (json_object_get_object_member (frame, "msg"), name);
}

G_GNUC_UNUSED static gboolean
sockets_gone (gpointer data)
{
  return ((PpmsServer *) data)->sockets == NULL;
}


/* ---- Numbered messages, for paging ---- */

G_GNUC_UNUSED static char **
send_numbered (Fixture *f, TestWs *ws, guint count)
{
  char **uuids = g_new0 (char *, count + 1);

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *body = g_strdup_printf ("\"history #%02u\"", i + 1);
      g_autofree char *text = NULL;
      uuids[i] = ppms_uuid_new ();
      text = send_text (f, f->visitor, f->visitor_device, "P2S", "TEXT", body, uuids[i]);
      test_ws_send (ws, text);
    }
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (JsonObject) ack = test_ws_next_of_type (ws, "ACK");
      test_assert_ack (ack, "SEND", 0);
    }
  drain_queue (&state_of (f)->dispatch_queue);
  return uuids;
}
