/* ppms-internal.h: the test server's data model and the contract between its
 * parts (HTTP core and REST API, websocket and messaging).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "ppm-test-server.h"

G_BEGIN_DECLS

/* API error codes (protocol 3.1) used by the double. */
enum {
  PPMS_ERR_OK = 0, PPMS_ERR_NO_JSON = 1, PPMS_ERR_NO_ACCESS_TOKEN = 3,
  PPMS_ERR_WRONG_ACCESS_TOKEN = 4, PPMS_ERR_NO_PARA = 6, PPMS_ERR_NO_USER = 7,
  PPMS_ERR_NO_DEVICE = 8, PPMS_ERR_NO_APP = 13, PPMS_ERR_MESSAGE = 16,
  PPMS_ERR_NO_OBJECT = 18, PPMS_ERR_EX_DEVICE = 25, PPMS_ERR_NO_CONVERSATION = 26,
  PPMS_ERR_NOT_PORTAL = 29, PPMS_ERR_NOT_LIST = 31, PPMS_ERR_GENERIC_UPDATE = 33,
  PPMS_ERR_NO_CONVERSATION_MEMBER = 35, PPMS_ERR_NO_APP_USER = 40,
  PPMS_ERR_PAGE_MAX_MIN = 42,
};

/* Times are microseconds since the epoch (g_get_real_time ()). */

typedef struct {
  char *uuid;
  char *level;          /* "PPCOM", "PPKEFU", "PPCONSOLE", ... */
  char *key;
  char *secret;
} PpmsApiKey;

typedef struct {
  char *uuid;
  char *app_name;
  char *app_key;
  char *app_secret;
  char *welcome_message;
  gint64 createtime;
  gint64 updatetime;
} PpmsApp;

typedef struct {
  char *uuid;
  char *user_email;
  char *user_password;  /* lower-case SHA-1 hex, as stored by the server */
  char *user_fullname;
  char *user_icon;
  char *user_signature;
  char *user_status;    /* "OWNER_2", "SERVICE", "ANONYMOUS", ... */
  gboolean is_service_user;
  gboolean is_owner_user;
  gboolean is_anonymous_user;
  char *ppcom_trace_uuid;
  char *browser_device_uuid;
  char *mobile_device_uuid;
  char *ppcom_browser_device_uuid;
  char *ppcom_mobile_device_uuid;
  char *service_user_status;  /* "READY", "BUSY", "REST" or NULL */
  gint64 createtime;
  gint64 updatetime;
} PpmsUser;

typedef struct {
  char *uuid;
  char *terminal_uuid;
  char *user_uuid;
  char *device_ostype;
  char *device_osversion;
  char *device_fullname;
  gboolean is_online;
  gint64 createtime;
  gint64 updatetime;
} PpmsDevice;

typedef struct {
  char *user_uuid;
  char *status;              /* "NEW", "OPEN", "CLOSE" */
  char *conversation_name;   /* per member */
  char *conversation_icon;
  gint64 createtime;
  gint64 updatetime;         /* orders the member's conversation list */
} PpmsMember;

typedef struct {
  char *uuid;
  char *app_uuid;
  char *conversation_type;   /* "P2S" or "S2S" */
  char *user_uuid;           /* creator */
  char *assigned_uuid;
  char *conversation_name;
  char *conversation_icon;
  char *status;
  char *latest_task;         /* uuid of the latest message */
  gint64 createtime;
  gint64 updatetime;
  GPtrArray *members;        /* PpmsMember*, owned */
  GPtrArray *messages;       /* PpmsMessage*, not owned, in storage order */
} PpmsConversation;

typedef struct {
  char *uuid;
  char *app_uuid;
  char *conversation_uuid;
  char *conversation_type;
  char *from_uuid;
  char *from_type;
  char *from_device_uuid;
  char *to_uuid;
  char *to_type;
  char *message_type;
  char *message_subtype;     /* after conversion (TEXT > 128 bytes is TXT) */
  char *body;                /* as processed (7.5) */
  char *message_body;        /* the compact push form without pid/from_user, JSON text; NULL while PENDING */
  char *task_status;         /* "PENDING", "PROCESSED" */
  gint64 createtime;
} PpmsMessage;

typedef struct {
  char *uuid;                /* the pid */
  char *user_uuid;
  char *message_uuid;
  char *status;              /* "PUSHED", "ACKED" */
  gint64 createtime;
} PpmsPush;

typedef struct {
  char *token;
  char *level;
  char *api_uuid;
  char *app_uuid;
} PpmsToken;

typedef struct {
  char *uuid;
  char *file_name;
  char *file_mime;
  char *file_hash;           /* SHA-1 hex of the content, for de-duplication */
  GBytes *data;
  gint64 createtime;
} PpmsFile;

typedef struct _PpmsSocket PpmsSocket;   /* defined by the websocket part */

typedef struct {
  PpmsFaultKind kind;
  char *path_match;
  double probability;
  guint delay_ms;
  GRand *rand;
} PpmsHttpFault;

struct _PpmsServer {
  SoupServer *soup;
  guint port;
  char *url;
  double timer_scale;
  gboolean deliver_online;
  gboolean ws_stall;

  PpmsApp *app;
  GHashTable *api_keys;          /* key string -> PpmsApiKey* (owned) */
  GHashTable *users;             /* uuid -> PpmsUser* (owned) */
  GHashTable *users_by_email;    /* email -> PpmsUser* */
  GHashTable *devices;           /* uuid -> PpmsDevice* (owned) */
  GHashTable *devices_by_terminal; /* terminal -> PpmsDevice* */
  GHashTable *conversations;     /* uuid -> PpmsConversation* (owned) */
  GHashTable *messages;          /* uuid -> PpmsMessage* (owned) */
  GHashTable *pushes;            /* pid -> PpmsPush* (owned) */
  GHashTable *tokens;            /* token -> PpmsToken* (owned) */
  GHashTable *files;             /* uuid -> PpmsFile* (owned) */
  GHashTable *api_handlers;      /* name -> PpmsApiEndpoint* (owned) */

  GList *sockets;                /* PpmsSocket*, every open websocket */
  GHashTable *socket_by_device;  /* device uuid -> PpmsSocket* (registered) */
  GList *distributor_queue;      /* visitors waiting for a conversation */
  GList *pending;                /* paused messages (stall, delay), for stop() */

  PpmsHttpFault fault;
  gpointer messaging;            /* state of the messaging part */
};

/* ---- The REST API contract ---- */

typedef struct {
  PpmsServer *server;
  SoupServerMessage *msg;
  const char *name;          /* "ACK_MESSAGE" */
  JsonObject *body;          /* the request object */
  PpmsToken *token;
  JsonObject *reply;         /* data members, merged at the envelope's top level */
  int error_code;            /* set by the handler; 0 = success */
  char *crash;               /* set: answer HTTP 500 with this as the final traceback line */
} PpmsApiCall;

typedef void (*PpmsApiHandler) (PpmsApiCall *call);

typedef struct {
  char *name;
  char **levels;             /* NULL-terminated */
  gboolean needs_app_uuid;
  PpmsApiHandler handler;
} PpmsApiEndpoint;

/* levels: comma-separated, e.g. "PPCOM,PPKEFU,THIRD_PARTY_KEFU". */
void ppms_api_register (PpmsServer *server, const char *name, const char *levels,
                        gboolean needs_app_uuid, PpmsApiHandler handler);

G_END_DECLS
