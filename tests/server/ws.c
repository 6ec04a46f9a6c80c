/* ws.c: the pcsocket websocket (/pcsocket/WS): connection lifecycle, frame
 * dispatch and auth, as the AUG16 server behaves (protocol 6, transcripts 01,
 * 03, 08, 13, 14).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-messaging.h"

static const char *
ws_reason (int code)
{
  static const char *reasons[] = {
    "success, nothing to say.", "no app_uuid/user_uuid/device_uuid.",
    "no service/portal type.", "no extra data for portal user.", "parameters error.",
    "no type provided or type is unknown.", "message data is not JSON.",
    "message content is illegal.", "no api auth token provided.", "token not in db.",
    "wrong api auth level.",
  };
  if (code >= 0 && code < (int) G_N_ELEMENTS (reasons))
    return reasons[code];
  return "unknown error, nothing to say.";
}

/* ---- Frames out ---- */

char *
ppms_ws_frame_text (JsonObject *frame)
{
  g_autofree char *text = ppms_json_object_to_string (frame);
  g_auto (GStrv) parts = g_strsplit (text, "</", -1);

  return g_strjoinv ("<\\/", parts);
}

gboolean
ppms_ws_stalled (PpmsSocket *socket)
{
  return socket->server->ws_stall && socket->fault_target;
}

void
ppms_ws_send_text (PpmsSocket *socket, const char *text)
{
  if (ppms_ws_stalled (socket) || socket->aborting)
    return;
  if (soup_websocket_connection_get_state (socket->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  ppms_log_ws_frame (socket, FALSE, text, strlen (text));
  soup_websocket_connection_send_text (socket->conn, text);
}

void
ppms_ws_send_frame (PpmsSocket *socket, JsonObject *frame)
{
  g_autofree char *text = ppms_ws_frame_text (frame);
  ppms_ws_send_text (socket, text);
}

JsonObject *
ppms_ws_ack_frame (const char *what, int code, JsonNode *extra)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "ACK");
  json_object_set_string_member (frame, "what", what);
  json_object_set_int_member (frame, "code", code);
  json_object_set_string_member (frame, "reason", ws_reason (code));
  json_object_set_member (frame, "extra", extra != NULL ? extra : json_node_new (JSON_NODE_NULL));
  return frame;
}

static void
send_ack (PpmsSocket *socket, const char *what, int code)
{
  g_autoptr (JsonObject) frame = ppms_ws_ack_frame (what, code, NULL);
  ppms_ws_send_frame (socket, frame);
}

/* ---- Lookups ---- */

static GHashTable *
socket_map (PpmsServer *server)
{
  if (server->socket_by_device == NULL)
    server->socket_by_device = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return server->socket_by_device;
}

PpmsSocket *
ppms_ws_socket_for_device (PpmsServer *server, const char *device_uuid)
{
  if (device_uuid == NULL || server->socket_by_device == NULL)
    return NULL;
  return g_hash_table_lookup (server->socket_by_device, device_uuid);
}

guint
ppms_ws_count_registered (PpmsServer *server)
{
  return server->socket_by_device != NULL ? g_hash_table_size (server->socket_by_device) : 0;
}

gboolean
ppms_ws_user_has_navigation (PpmsServer *server, const char *user_uuid)
{
  PpmsMessaging *state = ppms_messaging_get (server);
  return user_uuid != NULL && g_hash_table_contains (state->navigation_users, user_uuid);
}

static gboolean
socket_is_registered (PpmsSocket *socket)
{
  return socket->device_uuid != NULL
         && ppms_ws_socket_for_device (socket->server, socket->device_uuid) == socket;
}

/* Removes the device registration and the watches, without touching the
 * device's online flag. */
static void
socket_detach (PpmsSocket *socket)
{
  if (socket_is_registered (socket))
    g_hash_table_remove (socket->server->socket_by_device, socket->device_uuid);
  ppms_typing_unwatch (socket);
  g_hash_table_remove_all (socket->presence_watched);
}

/* ---- Abort: TCP close without a close frame ---- */

static gboolean
abort_now (gpointer data)
{
  SoupWebsocketConnection *conn = data;
  GIOStream *stream = soup_websocket_connection_get_io_stream (conn);

  if (G_IS_SOCKET_CONNECTION (stream))
    g_socket_shutdown (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)),
                       TRUE, TRUE, NULL);
  else if (!g_io_stream_is_closed (stream))
    g_io_stream_close (stream, NULL, NULL);
  return G_SOURCE_REMOVE;
}

void
ppms_ws_abort (PpmsSocket *socket)
{
  GSource *source;

  if (socket->aborting)
    return;
  socket->aborting = TRUE;
  /* After the frames already written (the success ack before an href crash). */
  source = g_idle_source_new ();
  g_source_set_callback (source, abort_now, g_object_ref (socket->conn), g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

/* ---- Forced logout (6.4.5, 6.7) ---- */

static void
send_forced_logout (PpmsSocket *socket, const char *device_uuid)
{
  g_autoptr (JsonObject) frame = json_object_new ();
  JsonObject *msg = json_object_new ();

  json_object_set_string_member (msg, "mt", "SYS");
  json_object_set_string_member (msg, "ms", "LOGOUT");
  json_object_set_string_member (msg, "bo", device_uuid);
  json_object_set_string_member (frame, "type", "MSG");
  json_object_set_object_member (frame, "msg", msg);
  ppms_ws_send_frame (socket, frame);
}

void
ppms_ws_deliver_forced_logout (PpmsServer *server, const char *device_uuid)
{
  PpmsSocket *socket = ppms_ws_socket_for_device (server, device_uuid);

  if (socket == NULL)
    return;
  send_forced_logout (socket, device_uuid);
  socket_detach (socket);   /* stays open, receives nothing more */
}

void
ppms_ws_force_logout (PpmsServer *server, const char *device_uuid)
{
  PpmsMessaging *state = ppms_messaging_get (server);

  if (device_uuid != NULL)
    ppms_timed_queue_push (&state->logout_queue, g_strdup (device_uuid));
}

/* ---- auth (6.5) ---- */

static const char *
member_string (JsonObject *object, const char *name)
{
  return ppms_json_get_string (object, name);
}

/* Python truthiness of a JSON value; -1 when null or missing. */
static int
member_truth (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return -1;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_object_get_size (json_node_get_object (node)) > 0;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return json_array_get_length (json_node_get_array (node)) > 0;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_BOOLEAN: return json_node_get_boolean (node);
    case G_TYPE_INT64: return json_node_get_int (node) != 0;
    case G_TYPE_DOUBLE: return json_node_get_double (node) != 0.0;
    case G_TYPE_STRING: return *json_node_get_string (node) != '\0';
    default: return 0;
    }
}

static gboolean
device_is_mobile (PpmsServer *server, const char *device_uuid)
{
  PpmsDevice *device = ppms_device_lookup (server, device_uuid);

  return device != NULL && device->device_ostype != NULL
         && (strcmp (device->device_ostype, "AND") == 0 || strcmp (device->device_ostype, "IOS") == 0);
}

static int
auth_check (PpmsSocket *socket, JsonObject *frame)
{
  PpmsServer *server = socket->server;
  const char *token_text = member_string (frame, "api_token");
  PpmsToken *token;

  if (!ppms_json_has_nonnull (frame, "api_token"))
    return PPMS_WS_NOTOKEN;
  token = token_text != NULL ? ppms_token_lookup (server, token_text) : NULL;
  if (token == NULL)
    return PPMS_WS_NODBKEY;
  if (token->level == NULL
      || (strcmp (token->level, "PPCOM") != 0 && strcmp (token->level, "PPKEFU") != 0
          && strcmp (token->level, "THIRD_PARTY_KEFU") != 0))
    return PPMS_WS_WRLEVEL;
  if (member_string (frame, "app_uuid") == NULL || member_string (frame, "user_uuid") == NULL
      || member_string (frame, "device_uuid") == NULL)
    return PPMS_WS_NOUUIDS;
  if (member_truth (frame, "is_service_user") < 0)
    return PPMS_WS_NOSERVICE;
  if (member_truth (frame, "is_service_user") == 0 && !ppms_json_has_nonnull (frame, "extra_data"))
    return PPMS_WS_NOEXTRA;
  return PPMS_WS_NOERR;
}

static void
auth_take_identity (PpmsSocket *socket, JsonObject *frame)
{
  JsonNode *extra = json_object_get_member (frame, "extra_data");

  /* A re-auth on this socket under another device leaves the old one. */
  if (socket_is_registered (socket)
      && g_strcmp0 (socket->device_uuid, member_string (frame, "device_uuid")) != 0)
    socket_detach (socket);
  g_free (socket->app_uuid);
  g_free (socket->user_uuid);
  g_free (socket->device_uuid);
  socket->app_uuid = g_strdup (member_string (frame, "app_uuid"));
  socket->user_uuid = g_strdup (member_string (frame, "user_uuid"));
  socket->device_uuid = g_strdup (member_string (frame, "device_uuid"));
  socket->is_service_user = member_truth (frame, "is_service_user") > 0;
  socket->is_mobile = device_is_mobile (socket->server, socket->device_uuid);
  g_clear_pointer (&socket->extra_data, json_node_unref);
  if (extra != NULL && !JSON_NODE_HOLDS_NULL (extra))
    socket->extra_data = json_node_copy (extra);
}

/* Whether this socket's open and close move the device's online flag
 * (8.2: agents' mobile devices stay as PPKEFU_LOGIN left them). */
static gboolean
socket_moves_online_flag (PpmsSocket *socket)
{
  return !socket->is_service_user || !socket->is_mobile;
}

static void
auth_kick_same_device (PpmsSocket *socket)
{
  PpmsSocket *old = ppms_ws_socket_for_device (socket->server, socket->device_uuid);

  if (old == NULL || old == socket)
    return;
  send_forced_logout (old, socket->device_uuid);
  socket_detach (old);
  if (socket_moves_online_flag (old))
    ppms_device_set_online (socket->server, socket->device_uuid, FALSE);
}

static void
handle_auth (PpmsSocket *socket, JsonObject *frame)
{
  PpmsServer *server = socket->server;
  int code = auth_check (socket, frame);

  if (code != PPMS_WS_NOERR)
    {
      send_ack (socket, "AUTH", code);
      socket->closed_by_server = TRUE;
      if (soup_websocket_connection_get_state (socket->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (socket->conn, SOUP_WEBSOCKET_CLOSE_NO_STATUS, NULL);
      return;
    }
  auth_take_identity (socket, frame);
  send_ack (socket, "AUTH", PPMS_WS_NOERR);
  auth_kick_same_device (socket);
  if (socket->extra_data != NULL)
    {
      /* BUG 4 (15): a top-level href crashes the navigation store. */
      if (JSON_NODE_HOLDS_OBJECT (socket->extra_data)
          && json_object_has_member (json_node_get_object (socket->extra_data), "href"))
        {
          ppms_ws_abort (socket);
          return;
        }
      g_hash_table_add (ppms_messaging_get (server)->navigation_users, g_strdup (socket->user_uuid));
    }
  g_hash_table_replace (socket_map (server), g_strdup (socket->device_uuid), socket);
  ppms_presence_register (socket);
  if (!socket_moves_online_flag (socket))
    return;
  ppms_device_set_online (server, socket->device_uuid, TRUE);
  ppms_presence_notify (server, socket->user_uuid, socket->is_mobile ? "UNCHANGED" : "ONLINE",
                        socket->is_mobile ? "ONLINE" : "UNCHANGED", socket->extra_data);
}

/* ---- Frames in (6.3) ---- */

static void
handle_send (PpmsSocket *socket, JsonObject *frame)
{
  JsonNode *send = json_object_get_member (frame, "send");

  /* BUG 3 (15): no send member, or not an object, raises: abort. */
  if (send == NULL || !JSON_NODE_HOLDS_OBJECT (send))
    {
      ppms_ws_abort (socket);
      return;
    }
  ppms_send_enqueue (socket->server, json_node_get_object (send), socket->device_uuid);
}

static void
handle_typing_watch (PpmsSocket *socket, JsonObject *frame)
{
  if (!ppms_json_has_nonnull (frame, "conversation_uuid"))
    {
      send_ack (socket, "TYPING_WATCH", PPMS_WS_PARAM);
      return;
    }
  ppms_typing_watch (socket, frame);
}

static void
handle_object (PpmsSocket *socket, JsonObject *frame)
{
  JsonNode *type_node = json_object_get_member (frame, "type");
  g_autofree char *type = NULL;

  if (type_node == NULL || JSON_NODE_HOLDS_NULL (type_node))
    {
      send_ack (socket, "WS", PPMS_WS_TYPE);
      return;
    }
  if (!JSON_NODE_HOLDS_VALUE (type_node) || json_node_get_value_type (type_node) != G_TYPE_STRING)
    {
      ppms_ws_abort (socket);   /* .upper() of a non-string raises */
      return;
    }
  type = g_ascii_strup (json_node_get_string (type_node), -1);
  if (strcmp (type, "AUTH") == 0)
    handle_auth (socket, frame);
  else if (strcmp (type, "SEND") == 0)
    handle_send (socket, frame);
  else if (strcmp (type, "TYPING_WATCH") == 0)
    handle_typing_watch (socket, frame);
  else if (strcmp (type, "TYPING_UNWATCH") == 0)
    ppms_typing_unwatch (socket);
  else if (strcmp (type, "TYPING") == 0)
    ppms_typing (socket);
  else
    send_ack (socket, "WS", PPMS_WS_TYPE);
}

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  PpmsSocket *socket = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size = 0;
  const char *bytes = g_bytes_get_data (message, &size);
  JsonNode *root;

  ppms_log_ws_frame (socket, TRUE, bytes, size);
  if (socket->aborting || ppms_ws_stalled (socket))
    return;
  if (bytes == NULL || !g_utf8_validate (bytes, size, NULL)
      || !json_parser_load_from_data (parser, bytes, size, NULL)
      || (root = json_parser_get_root (parser)) == NULL)
    {
      send_ack (socket, "WS", PPMS_WS_JSON);
      return;
    }
  if (JSON_NODE_HOLDS_NULL (root))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      ppms_ws_abort (socket);
      return;
    }
  handle_object (socket, json_node_get_object (root));
}

/* ---- Lifecycle ---- */

static void
socket_free (PpmsSocket *socket)
{
  if (socket->message_handler != 0)
    g_signal_handler_disconnect (socket->conn, socket->message_handler);
  if (socket->closed_handler != 0)
    g_signal_handler_disconnect (socket->conn, socket->closed_handler);
  g_object_unref (socket->conn);
  g_free (socket->app_uuid);
  g_free (socket->user_uuid);
  g_free (socket->device_uuid);
  g_clear_pointer (&socket->extra_data, json_node_unref);
  g_free (socket->watched_conversation);
  g_hash_table_unref (socket->typing_listened);
  g_hash_table_unref (socket->presence_watched);
  g_free (socket);
}

/* on_close (6.6): unregister, remove the watches, flag the device offline
 * (visitors always, agents on non-mobile devices). */
static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  PpmsSocket *socket = data;
  PpmsServer *server = socket->server;

  ppms_log_ws_close (socket, socket->aborting || socket->closed_by_server ? "server" : "client");
  server->sockets = g_list_remove (server->sockets, socket);
  if (socket_is_registered (socket))
    {
      socket_detach (socket);
      if (socket_moves_online_flag (socket))
        {
          ppms_device_set_online (server, socket->device_uuid, FALSE);
          ppms_presence_notify (server, socket->user_uuid,
                                socket->is_mobile ? "UNCHANGED" : "OFFLINE",
                                socket->is_mobile ? "OFFLINE" : "UNCHANGED", socket->extra_data);
        }
    }
  socket_detach (socket);
  socket_free (socket);
}

static void
on_websocket (SoupServer *soup, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *conn, gpointer data)
{
  PpmsServer *server = data;
  PpmsSocket *socket = g_new0 (PpmsSocket, 1);

  server->websockets_opened++;
  ppms_messaging_get (server);
  socket->server = server;
  socket->conn = g_object_ref (conn);
  ppms_log_ws_open (server, msg, conn);
  socket->typing_listened = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  socket->presence_watched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* The real server never pings, has no idle timeout and no size limit. */
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  socket->message_handler = g_signal_connect (conn, "message", G_CALLBACK (on_message), socket);
  socket->closed_handler = g_signal_connect (conn, "closed", G_CALLBACK (on_closed), socket);
  server->sockets = g_list_append (server->sockets, socket);
  socket->fault_target = ppms_fault_targets (server, msg);
  if (server->ws_down && socket->fault_target)
    ppms_ws_abort (socket);
}

void
ppms_ws_init (PpmsServer *server)
{
  ppms_messaging_get (server);
  socket_map (server);
  soup_server_add_websocket_handler (server->soup, "/pcsocket/WS", NULL, NULL,
                                     on_websocket, server, NULL);
}

void
ppms_ws_drop_all (PpmsServer *server)
{
  /* Like a network failure: the server notices the close (on_closed runs). */
  for (GList *l = server->sockets; l; l = l->next)
    {
      PpmsSocket *socket = l->data;
      if (!socket->fault_target)
        continue;
      socket->aborting = TRUE;
      abort_now (socket->conn);
    }
}

void
ppms_ws_close_all (PpmsServer *server)
{
  /* Like the process going away: no on_close, the online flags stay (8.2). */
  while (server->sockets != NULL)
    {
      PpmsSocket *socket = server->sockets->data;
      server->sockets = g_list_delete_link (server->sockets, server->sockets);
      ppms_log_ws_close (socket, "server");
      socket_detach (socket);
      abort_now (socket->conn);
      socket_free (socket);
    }
  if (server->socket_by_device != NULL)
    g_hash_table_remove_all (server->socket_by_device);
}

void
ppms_messaging_free (PpmsServer *server)
{
  PpmsMessaging *state = server->messaging;

  ppms_ws_close_all (server);
  g_clear_pointer (&server->socket_by_device, g_hash_table_unref);
  if (state == NULL)
    return;
  ppms_timed_queue_clear (&state->send_queue);
  ppms_timed_queue_clear (&state->dispatch_queue);
  ppms_timed_queue_clear (&state->push_queue);
  ppms_timed_queue_clear (&state->ack_queue);
  ppms_timed_queue_clear (&state->typing_queue);
  ppms_timed_queue_clear (&state->logout_queue);
  ppms_timed_queue_clear (&state->online_queue);
  g_hash_table_unref (state->navigation_users);
  g_free (state);
  server->messaging = NULL;
}
