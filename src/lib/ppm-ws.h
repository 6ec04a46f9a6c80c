/* ppm-ws.h: the pcsocket websocket: connecting (ws/wss from the base URL),
 * JSON text frames both ways, protocol pings for keep-alive, and the
 * parsing of server frames (ACK, MSG, TYPING, ONLINE).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "ppm-clock.h"
#include "ppm-tls.h"

G_BEGIN_DECLS

typedef struct _PpmWs PpmWs;

typedef enum {
  PPM_FRAME_ACK,
  PPM_FRAME_MSG,
  PPM_FRAME_TYPING,
  PPM_FRAME_ONLINE,
  PPM_FRAME_OTHER,
} PpmFrameKind;

/* A parsed server frame; every pointer is borrowed from the frame object. */
typedef struct {
  PpmFrameKind kind;
  const char *type;
  /* ACK */
  const char *what;
  gint64 code;
  const char *reason;
  const char *extra_uuid;
  const char *extra_conversation_uuid;
  /* MSG */
  JsonObject *msg;
  /* TYPING, ONLINE */
  const char *user_uuid;
  const char *conversation_uuid;
  const char *browser;
  const char *mobile;
  /* ONLINE: the navigation data of the socket that came or went (a
   * visitor's page), or NULL. */
  JsonObject *extra_data;
} PpmFrame;

typedef struct {
  void (*opened) (gpointer user_data);
  /* A server frame, parsed; malformed ones are only logged. */
  void (*frame) (gpointer user_data, const PpmFrame *frame);
  /* Connecting failed or the connection ended; error is always set. */
  void (*closed) (gpointer user_data, const GError *error);
} PpmWsEvents;

#define PPM_WS_KEEPALIVE_SECONDS 30
#define PPM_WS_CONNECT_TIMEOUT_MS 30000

/* session: one for websockets (ppm_transport_get_socket_session()), so
 * that the handshake never waits for a place in a pool of HTTP calls. */
PpmWs    *ppm_ws_new (SoupSession *session, const char *url, const PpmWsEvents *events,
                      gpointer user_data);
/* Decides on the certificate the handshake meets (referenced; NULL:
 * libsoup's verification alone). Before ppm_ws_connect(). */
void      ppm_ws_set_tls_watch (PpmWs *ws, PpmTlsWatch *watch);
/* Closes without calling back. */
void      ppm_ws_free (PpmWs *ws);
void      ppm_ws_connect (PpmWs *ws, guint timeout_ms);
/* Protocol pings every `seconds`; three intervals without a pong or a
 * frame close the connection as lost. Before ppm_ws_connect(). */
void      ppm_ws_set_keepalive (PpmWs *ws, guint seconds);
gboolean  ppm_ws_is_open (PpmWs *ws);
/* Sends one frame; FALSE when the socket is not open. */
gboolean  ppm_ws_send (PpmWs *ws, JsonObject *frame);

gboolean ppm_ws_parse_frame (JsonObject *object, PpmFrame *frame, GError **error);

/* Client frames. */
JsonObject *ppm_ws_auth_frame (const char *token, const char *app_uuid, const char *user_uuid,
                               const char *device_uuid, gboolean is_service_user,
                               JsonObject *extra_data);
JsonObject *ppm_ws_typing_watch_frame (const char *conversation_uuid);
JsonObject *ppm_ws_typing_unwatch_frame (void);
JsonObject *ppm_ws_typing_frame (void);
/* A text message as PPKefu and PPCom send it ({"type": "send", "send":
 * {...}}); conversation_type is the sender's view: P2S from a visitor,
 * S2P from an agent to a visitor, S2S between agents. */
JsonObject *ppm_ws_send_text_frame (const char *message_uuid, const char *app_uuid,
                                    const char *conversation_uuid,
                                    const char *conversation_type, const char *from_uuid,
                                    const char *device_uuid, const char *to_uuid,
                                    const char *text);

G_END_DECLS
