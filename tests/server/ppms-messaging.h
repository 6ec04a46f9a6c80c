/* ppms-messaging.h: the websocket and messaging part of the test server
 * (pcsocket, the send pipeline, typing, presence, message paging).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppms-internal.h"

G_BEGIN_DECLS

/* DIS_ERR codes of the AUG16 pcsocket (protocol 6.2). */
enum {
  PPMS_WS_NOERR = 0, PPMS_WS_NOUUIDS = 1, PPMS_WS_NOSERVICE = 2, PPMS_WS_NOEXTRA = 3,
  PPMS_WS_PARAM = 4, PPMS_WS_TYPE = 5, PPMS_WS_JSON = 6, PPMS_WS_MESSAGE = 7,
  PPMS_WS_NOTOKEN = 8, PPMS_WS_NODBKEY = 9, PPMS_WS_WRLEVEL = 10,
};

/* One open websocket. Owned by server->sockets until its connection closes. */
struct _PpmsSocket {
  PpmsServer *server;
  SoupWebsocketConnection *conn;  /* ref */
  gulong message_handler;
  gulong closed_handler;
  gboolean aborting;              /* abort scheduled: frames are ignored */
  gboolean closed_by_server;      /* the server sent the close frame (failed auth) */
  gboolean fault_target;          /* opened by the client the faults aim at */

  /* From the last auth that reached the success ack (NULL before). */
  char *app_uuid;
  char *user_uuid;
  char *device_uuid;
  gboolean is_service_user;
  gboolean is_mobile;
  JsonNode *extra_data;           /* the visitor's navigation data, or NULL */

  /* Typing (6.3.3 - 6.3.5). */
  char *watched_conversation;
  GHashTable *typing_listened;    /* user uuid set: users whose typing this socket hears */
  /* Presence (8.3): users this socket watches, fixed at auth. */
  GHashTable *presence_watched;
};

/* A queue served by a one-shot timer of the real server's period (6.8),
 * scaled by the timer scale: items queued together are delivered together. */
typedef void (*PpmsQueueRun) (PpmsServer *server, gpointer item);

typedef struct {
  PpmsServer *server;
  guint period_ms;                /* real server period */
  PpmsQueueRun run;
  GDestroyNotify free_item;
  GQueue items;
  GSource *source;
} PpmsTimedQueue;

/* server->messaging */
typedef struct {
  gint64 last_time;               /* keeps storage times strictly increasing */
  PpmsTimedQueue send_queue;      /* received send objects -> validation, storage (50 ms) */
  PpmsTimedQueue dispatch_queue;  /* stored messages -> routing (20 ms) */
  PpmsTimedQueue push_queue;      /* MSG frames (50 ms) */
  PpmsTimedQueue ack_queue;       /* ACK SEND frames (100 ms) */
  PpmsTimedQueue typing_queue;    /* TYPING notifications (1 s) */
  PpmsTimedQueue logout_queue;    /* forced logouts (1 s loop) */
  PpmsTimedQueue online_queue;    /* ONLINE frames when delivered (1 s loop) */
  GHashTable *navigation_users;   /* user uuids that have navigation data */
} PpmsMessaging;

/* ws-queue.c */
void  ppms_timed_queue_init (PpmsTimedQueue *queue, PpmsServer *server, guint period_ms,
                             PpmsQueueRun run, GDestroyNotify free_item);
void  ppms_timed_queue_push (PpmsTimedQueue *queue, gpointer item);
void  ppms_timed_queue_clear (PpmsTimedQueue *queue);
PpmsMessaging *ppms_messaging_get (PpmsServer *server);
/* Now, strictly after every earlier value returned (storage order). */
gint64 ppms_messaging_now (PpmsServer *server);
/* A queued frame for the socket registered for a device at delivery time. */
typedef struct {
  char *device_uuid;
  char *text;
} PpmsDeviceFrame;
void  ppms_device_frame_free (gpointer frame);
/* Queues a frame for a device (owned text; NULL aborts its socket instead). */
void  ppms_queue_device_frame (PpmsTimedQueue *queue, const char *device_uuid, char *text);
/* Runner of device-frame queues: sends to the registered socket, if any. */
void  ppms_deliver_device_frame (PpmsServer *server, gpointer item);

/* ws.c */
/* Frame text as Tornado writes it (json.dumps, then "</" as "<\/"). */
char *ppms_ws_frame_text (JsonObject *frame);
/* Sends a text frame unless the socket is closing or the server stalls. */
void  ppms_ws_send_text (PpmsSocket *socket, const char *text);
void  ppms_ws_send_frame (PpmsSocket *socket, JsonObject *frame);
/* {"type": "ACK", "what", "code", "reason", "extra"} (extra taken, may be NULL). */
JsonObject *ppms_ws_ack_frame (const char *what, int code, JsonNode *extra);
PpmsSocket *ppms_ws_socket_for_device (PpmsServer *server, const char *device_uuid);
/* Runner of the forced-logout loop: SYS/LOGOUT frame, then detach (6.7). */
void  ppms_ws_deliver_forced_logout (PpmsServer *server, const char *device_uuid);
/* Drops the TCP connection without a close frame (Tornado's abort). */
void  ppms_ws_abort (PpmsSocket *socket);
/* Whether the websocket stall hits this socket (ppms_server_set_ws_stall). */
gboolean ppms_ws_stalled (PpmsSocket *socket);
/* Whether a user has stored navigation data (visitor extra_data), for
 * PP_PAGE_USER_NAVIGATION. */
gboolean ppms_ws_user_has_navigation (PpmsServer *server, const char *user_uuid);

/* ws-typing.c */
void  ppms_typing_watch (PpmsSocket *socket, JsonObject *frame);
void  ppms_typing_unwatch (PpmsSocket *socket);
void  ppms_typing (PpmsSocket *socket);
void  ppms_typing_run (PpmsServer *server, gpointer item);
void  ppms_typing_item_free (gpointer item);
/* Presence: registers what an authenticated socket watches (6.5 step 12). */
void  ppms_presence_register (PpmsSocket *socket);
/* Queues ONLINE frames for a user's change (only with deliver_online). */
void  ppms_presence_notify (PpmsServer *server, const char *user_uuid, const char *browser,
                            const char *mobile, JsonNode *extra_data);

/* ws-send.c */
/* A send object from a socket (device_uuid of that socket, may be NULL). */
void  ppms_send_enqueue (PpmsServer *server, JsonObject *send, const char *ack_device_uuid);
void  ppms_send_run (PpmsServer *server, gpointer item);
void  ppms_send_item_free (gpointer item);
void  ppms_dispatch_run (PpmsServer *server, gpointer item);

/* messages.c: the history record of a message (4.14), shared with the
 * conversation lists' latest_message. */
JsonObject *ppms_message_to_history_json (PpmsServer *server, PpmsMessage *message);

G_END_DECLS
