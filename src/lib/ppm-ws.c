/* ppm-ws.c: the pcsocket websocket (see ppm-ws.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-ws.h"
#include "ppm-clock.h"
#include "ppm-error.h"
#include "ppm-json.h"
#include "ppm-redact.h"
#include "ppm-ws-tunnel.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* Pushes are small (the server turns long texts into TXT downloads); a
 * larger frame is refused by libsoup, which closes the connection. */
#define MAX_INCOMING_PAYLOAD (1024 * 1024)

struct _PpmWs {
  SoupSession *session;
  PpmTlsWatch *tls_watch;
  char *url;
  PpmWsEvents events;
  gpointer user_data;
  GCancellable *cancellable;
  guint timeout_id;
  gboolean timed_out;
  SoupWebsocketConnection *connection;
  GError *error;              /* the last "error" signal, reported at close */
  guint keepalive_seconds;
  guint liveness_id;
  gint64 last_heard;          /* ppm_clock_now_us() of the last frame or pong */
  struct ConnectAttempt *attempt;
};

/* The pending connect; outlives the PpmWs when that is freed first. */
typedef struct ConnectAttempt {
  PpmWs *ws;                  /* NULL once the PpmWs is gone */
} ConnectAttempt;

PpmWs *
ppm_ws_new (SoupSession *session, const char *url, const PpmWsEvents *events,
            gpointer user_data)
{
  PpmWs *ws = g_new0 (PpmWs, 1);

  ws->session = g_object_ref (session);
  ws->url = g_strdup (url);
  ws->events = *events;
  ws->user_data = user_data;
  ws->cancellable = g_cancellable_new ();
  ws->keepalive_seconds = PPM_WS_KEEPALIVE_SECONDS;
  return ws;
}

void
ppm_ws_set_tls_watch (PpmWs *ws, PpmTlsWatch *watch)
{
  ppm_tls_watch_replace (&ws->tls_watch, watch);
}

void
ppm_ws_set_keepalive (PpmWs *ws, guint seconds)
{
  ws->keepalive_seconds = seconds > 0 ? seconds : PPM_WS_KEEPALIVE_SECONDS;
}

static void
drop_connection (PpmWs *ws)
{
  g_clear_handle_id (&ws->liveness_id, g_source_remove);
  if (ws->connection == NULL)
    return;
  g_signal_handlers_disconnect_by_data (ws->connection, ws);
  if (soup_websocket_connection_get_state (ws->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (ws->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&ws->connection);
}

void
ppm_ws_free (PpmWs *ws)
{
  if (ws == NULL)
    return;
  if (ws->attempt)
    ws->attempt->ws = NULL;
  g_cancellable_cancel (ws->cancellable);
  if (ws->timeout_id)
    g_source_remove (ws->timeout_id);
  drop_connection (ws);
  g_clear_object (&ws->cancellable);
  g_clear_object (&ws->session);
  g_clear_pointer (&ws->tls_watch, ppm_tls_watch_unref);
  g_clear_error (&ws->error);
  g_free (ws->url);
  g_free (ws);
}

gboolean
ppm_ws_is_open (PpmWs *ws)
{
  return ws != NULL && ws->connection != NULL &&
         soup_websocket_connection_get_state (ws->connection) == SOUP_WEBSOCKET_STATE_OPEN;
}

gboolean
ppm_ws_send (PpmWs *ws, JsonObject *frame)
{
  g_autofree char *text = NULL;
  g_autofree char *redacted = NULL;

  if (!ppm_ws_is_open (ws))
    return FALSE;
  text = ppm_json_object_to_string (frame);
  if (ppm_log_bodies_wanted ()) {
    redacted = ppm_redact (text);
    g_debug ("=> %s", redacted);
  }
  soup_websocket_connection_send_text (ws->connection, text);
  return TRUE;
}

static void
on_message (SoupWebsocketConnection *connection, gint type, GBytes *message, gpointer data)
{
  PpmWs *ws = data;
  g_autoptr (JsonObject) frame = NULL;
  g_autoptr (GError) error = NULL;
  gsize size = 0;
  const char *text = g_bytes_get_data (message, &size);
  PpmFrame parsed;

  ws->last_heard = ppm_clock_now_us ();
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    g_debug ("<= ignoring a binary frame of %" G_GSIZE_FORMAT " bytes", size);
    return;
  }
  frame = ppm_json_parse_object (text, size, &error);
  if (frame == NULL) {
    g_debug ("<= ignoring a frame that is not a JSON object: %s", error->message);
    return;
  }
  if (ppm_log_bodies_wanted () && (ppm_redact_disabled () || size < 4096)) {
    g_autofree char *copy = g_strndup (text, size);
    g_autofree char *redacted = ppm_redact (copy);

    g_debug ("<= %s", redacted);
  }
  if (!ppm_ws_parse_frame (frame, &parsed, &error)) {
    g_debug ("<= ignoring a malformed frame: %s", error->message);
    return;
  }
  if (ws->events.frame)
    ws->events.frame (ws->user_data, &parsed);
}

static void
on_error (SoupWebsocketConnection *connection, GError *error, gpointer data)
{
  PpmWs *ws = data;

  g_debug ("websocket error: %s", error->message);
  if (ws->error == NULL)
    ws->error = g_error_copy (error);
}

static void
on_pong (SoupWebsocketConnection *connection, GBytes *message, gpointer data)
{
  PpmWs *ws = data;

  ws->last_heard = ppm_clock_now_us ();
}

/* The server never pings and never closes an idle socket
 * (../shared/protocol/transcripts/13-websocket-keepalive.jsonl): a
 * connection that answers none of our pings for a while is dead (a
 * suspended laptop, a vanished NAT entry). */
static gboolean
check_liveness (gpointer data)
{
  PpmWs *ws = data;
  gint64 silence = ppm_clock_now_us () - ws->last_heard;
  g_autoptr (GError) error = NULL;

  if (silence < (gint64) ws->keepalive_seconds * 3 * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  ws->liveness_id = 0;
  error = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK,
                       _("Connection lost: no answer from the server for %d seconds"),
                       (int) (silence / G_USEC_PER_SEC));
  g_debug ("%s", error->message);
  drop_connection (ws);
  if (ws->events.closed)
    ws->events.closed (ws->user_data, error);
  return G_SOURCE_REMOVE;
}

static void
on_closed (SoupWebsocketConnection *connection, gpointer data)
{
  PpmWs *ws = data;
  g_autoptr (GError) error = NULL;

  if (ws->error != NULL)
    error = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK, _("Connection lost: %s"),
                         ws->error->message);
  else
    error = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK,
                         _("The server closed the connection (code %u)"),
                         soup_websocket_connection_get_close_code (connection));
  g_debug ("websocket closed: %s", error->message);
  drop_connection (ws);
  if (ws->events.closed)
    ws->events.closed (ws->user_data, error);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *connection;
  PpmWs *ws;

  ConnectAttempt *attempt = data;

  ws = attempt->ws;
  g_free (attempt);
  connection = ppm_ws_tunnel_connect_finish (SOUP_SESSION (source), result, &local);
  if (ws == NULL) {
    g_clear_object (&connection);
    return;
  }
  ws->attempt = NULL;
  if (connection == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      ws->timed_out)
    error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                                 _("The websocket connection timed out"));
  if (ws->timeout_id) {
    g_source_remove (ws->timeout_id);
    ws->timeout_id = 0;
  }
  if (connection == NULL) {
    if (error == NULL && g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
      error = g_error_new (PPM_ERROR, PPM_ERROR_CERTIFICATE,
                           _("The server's certificate is not trusted (%s)"), local->message);
    if (error == NULL)
      error = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK, _("Could not open the websocket: %s"),
                           local->message);
    g_debug ("%s", error->message);
    if (ws->events.closed)
      ws->events.closed (ws->user_data, error);
    return;
  }
  ws->connection = connection;
  soup_websocket_connection_set_keepalive_interval (connection, ws->keepalive_seconds);
  ws->last_heard = ppm_clock_now_us ();
  ws->liveness_id = g_timeout_add_seconds (ws->keepalive_seconds, check_liveness, ws);
  soup_websocket_connection_set_max_incoming_payload_size (connection, MAX_INCOMING_PAYLOAD);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), ws);
  g_signal_connect (connection, "error", G_CALLBACK (on_error), ws);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), ws);
  g_signal_connect (connection, "pong", G_CALLBACK (on_pong), ws);
  g_debug ("websocket open");
  if (ws->events.opened)
    ws->events.opened (ws->user_data);
}

static gboolean
on_connect_timeout (gpointer data)
{
  PpmWs *ws = data;

  ws->timeout_id = 0;
  ws->timed_out = TRUE;
  g_cancellable_cancel (ws->cancellable);
  return G_SOURCE_REMOVE;
}

void
ppm_ws_connect (PpmWs *ws, guint timeout_ms)
{
  SoupMessage *message = soup_message_new (SOUP_METHOD_GET, ws->url);

  g_debug ("opening websocket %s", ws->url);
  if (message == NULL) {
    g_autoptr (GError) error = g_error_new (PPM_ERROR, PPM_ERROR_SETTINGS,
                                            _("Invalid websocket URL %s"), ws->url);

    if (ws->events.closed)
      ws->events.closed (ws->user_data, error);
    return;
  }
  ws->timeout_id = g_timeout_add (timeout_ms ? timeout_ms : PPM_WS_CONNECT_TIMEOUT_MS,
                                  on_connect_timeout, ws);
  ws->attempt = g_new0 (ConnectAttempt, 1);
  ws->attempt->ws = ws;
  ppm_tls_watch_message (ws->tls_watch, message);
  /* libsoup's own way, except ws:// through an HTTP proxy (ppm-ws-tunnel.h). */
  ppm_ws_tunnel_connect_async (ws->session, message, ws->cancellable, on_connected, ws->attempt);
  g_object_unref (message);
}

/* ---- Frames ---- */

gboolean
ppm_ws_parse_frame (JsonObject *object, PpmFrame *frame, GError **error)
{
  memset (frame, 0, sizeof *frame);
  if (!ppm_json_get_string (object, "type", &frame->type, error))
    return FALSE;
  if (g_ascii_strcasecmp (frame->type, "ACK") == 0) {
    JsonObject *extra = ppm_json_opt_object (object, "extra");

    frame->kind = PPM_FRAME_ACK;
    if (!ppm_json_get_string (object, "what", &frame->what, error) ||
        !ppm_json_get_int (object, "code", &frame->code, error))
      return FALSE;
    frame->reason = ppm_json_opt_string (object, "reason");
    if (extra) {
      frame->extra_uuid = ppm_json_opt_string (extra, "uuid");
      frame->extra_conversation_uuid = ppm_json_opt_string (extra, "conversation_uuid");
    }
  } else if (g_ascii_strcasecmp (frame->type, "MSG") == 0) {
    frame->kind = PPM_FRAME_MSG;
    if (!ppm_json_get_object (object, "msg", &frame->msg, error))
      return FALSE;
  } else if (g_ascii_strcasecmp (frame->type, "TYPING") == 0) {
    frame->kind = PPM_FRAME_TYPING;
    if (!ppm_json_get_string (object, "user_uuid", &frame->user_uuid, error) ||
        !ppm_json_get_string (object, "conversation_uuid", &frame->conversation_uuid, error))
      return FALSE;
  } else if (g_ascii_strcasecmp (frame->type, "ONLINE") == 0) {
    frame->kind = PPM_FRAME_ONLINE;
    if (!ppm_json_get_string (object, "user_uuid", &frame->user_uuid, error))
      return FALSE;
    frame->browser = ppm_json_opt_string (object, "browser");
    frame->mobile = ppm_json_opt_string (object, "mobile");
    frame->extra_data = ppm_json_opt_object (object, "extra_data");
  } else {
    frame->kind = PPM_FRAME_OTHER;
  }
  return TRUE;
}

JsonObject *
ppm_ws_auth_frame (const char *token, const char *app_uuid, const char *user_uuid,
                   const char *device_uuid, gboolean is_service_user, JsonObject *extra_data)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "auth");
  json_object_set_string_member (frame, "api_token", token);
  json_object_set_string_member (frame, "app_uuid", app_uuid);
  json_object_set_string_member (frame, "user_uuid", user_uuid);
  json_object_set_string_member (frame, "device_uuid", device_uuid);
  json_object_set_boolean_member (frame, "is_service_user", is_service_user);
  if (extra_data)
    json_object_set_object_member (frame, "extra_data", json_object_ref (extra_data));
  return frame;
}

JsonObject *
ppm_ws_typing_watch_frame (const char *conversation_uuid)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "typing_watch");
  json_object_set_string_member (frame, "conversation_uuid", conversation_uuid);
  return frame;
}

JsonObject *
ppm_ws_typing_unwatch_frame (void)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "typing_unwatch");
  return frame;
}

JsonObject *
ppm_ws_typing_frame (void)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "typing");
  return frame;
}

JsonObject *
ppm_ws_send_text_frame (const char *message_uuid, const char *app_uuid,
                        const char *conversation_uuid, const char *conversation_type,
                        const char *from_uuid, const char *device_uuid, const char *to_uuid,
                        const char *text)
{
  JsonObject *frame = json_object_new ();
  JsonObject *message = json_object_new ();

  json_object_set_string_member (message, "uuid", message_uuid);
  json_object_set_string_member (message, "app_uuid", app_uuid);
  json_object_set_string_member (message, "conversation_uuid", conversation_uuid);
  json_object_set_string_member (message, "conversation_type", conversation_type);
  json_object_set_string_member (message, "message_type", "NOTI");
  /* Text over 128 bytes is turned into TXT by the server itself (the
   * protocol document, "Body by sub-type"). */
  json_object_set_string_member (message, "message_subtype", "TEXT");
  json_object_set_string_member (message, "message_body", text);
  json_object_set_string_member (message, "from_uuid", from_uuid);
  json_object_set_string_member (message, "from_type", "DU");
  json_object_set_string_member (message, "device_uuid", device_uuid);
  json_object_set_string_member (message, "to_uuid", to_uuid);
  json_object_set_string_member (message, "to_type", "DU");
  json_object_set_string_member (frame, "type", "send");
  json_object_set_object_member (frame, "send", message);
  return frame;
}
