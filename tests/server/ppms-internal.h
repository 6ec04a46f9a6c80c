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
  char *app_icon;             /* set in PPConsole; NULL as after installation */
  char *user_uuid;      /* owner */
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
  char *user_name;      /* NULL for the first owner; the full name for anonymous visitors */
  char *user_language;
  JsonObject *extra;    /* other user columns set through PP_UPDATE_USER (may be NULL) */
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
  char *app_uuid;       /* visitor devices only */
  gboolean is_ppcom_device;
  JsonObject *extra;    /* other device columns (PP_UPDATE_DEVICE, SET_DEVICE_INFO), may be NULL */
  gint64 createtime;
  gint64 updatetime;
} PpmsDevice;

typedef struct {
  char *uuid;                /* the membership record's own uuid */
  char *user_uuid;
  char *conversation_type;   /* NULL for distributor-created records */
  char *user_name;           /* the member's alias (S2S 1:1) */
  char *status;              /* "NEW", "OPEN", "CLOSE" */
  char *conversation_name;   /* per member */
  char *conversation_icon;
  gint64 createtime;
  gint64 updatetime;         /* orders the member's conversation list */
} PpmsMember;

typedef struct {
  PpmsServer *server;        /* set by ppms_store_add_conversation (member index) */
  char *uuid;
  char *app_uuid;
  char *conversation_type;   /* "P2S" or "S2S" */
  char *user_uuid;           /* creator */
  char *assigned_uuid;
  char *conversation_name;
  char *conversation_icon;
  char *status;
  char *latest_task;         /* uuid of the latest message */
  char *group_uuid;
  gint64 createtime;
  gint64 updatetime;
  GPtrArray *members;        /* PpmsMember*, owned; change it only with ppms_conversation_add_member
                              * and ppms_conversation_remove_member (they keep the member index) */
  GPtrArray *messages;       /* PpmsMessage*, not owned, in storage order (increasing seq):
                              * only ppms_store_add_message appends */
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
  gint64 updatetime;         /* 0: same as createtime */
  guint64 seq;               /* storage order, set by ppms_store_add_message */
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
  char *user_uuid;           /* uploader, may be NULL */
  gint64 createtime;
} PpmsFile;

typedef struct _PpmsSocket PpmsSocket;   /* defined by the websocket part */
typedef struct _PpmsLog PpmsLog;         /* log.c */
typedef struct _PpmsUserIndex PpmsUserIndex;   /* index.c */

typedef struct {
  PpmsFaultKind kind;
  char *path_match;
  double probability;
  guint delay_ms;
  GRand *rand;
} PpmsHttpFault;

/* Benchmarks time the server's push of a frame to the client's signal:
 * called right after a queued device frame (MSG, ACK) is written to its
 * socket. */
typedef void (*PpmsFrameObserver) (PpmsServer *server, const char *device_uuid,
                                   const char *frame_text, gpointer data);

struct _PpmsServer {
  SoupServer *soup;
  guint port;
  char *url;                     /* "http://127.0.0.1:<port>" or "https://..." */
  GTlsCertificate *tls_certificate; /* set: https and wss only (ppms_server_listen_tls) */
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
  GHashTable *user_index;        /* user uuid -> PpmsUserIndex* (index.c) */
  guint64 message_seq;           /* last PpmsMessage.seq given */

  GList *sockets;                /* PpmsSocket*, every open websocket */
  guint websockets_opened;       /* since the server was created */
  GHashTable *socket_by_device;  /* device uuid -> PpmsSocket* (registered) */
  GList *distributor_queue;      /* visitors waiting for a conversation */
  GList *pending;                /* paused messages (stall, delay), for stop() */

  PpmsHttpFault fault;
  char *fault_target;            /* User-Agent substring the faults hit, NULL: all */
  gboolean ws_down;              /* abort the target's websockets as they open */
  PpmsAckLoss ack_loss;
  char *ack_loss_user;
  guint ack_loss_every;
  guint ack_loss_sends;          /* sends of ack_loss_user counted so far */
  GHashTable *ack_loss_after_push; /* message uuid -> sender device uuid, until dispatched */
  gpointer messaging;            /* state of the messaging part */

  /* HTTP core (server.c) and distributor (api-visitor.c) state */
  gboolean listening;
  GHashTable *connections;       /* GSocket* of every HTTP connection seen (ref) -> the
                                  * User-Agent of its first request, for stop() and counts */
  guint connections_sweep_at;    /* size of connections that triggers the next sweep of closed ones */
  GHashTable *amd_results;       /* visitor user uuid -> "WAITING"/"SUCCESS"/"ERROR" */
  guint distributor_source;
  GList *timers;                 /* PpmsTimer*: kick delays etc., cancelled on free */
  /* PP_ADD_PREDEFINED_SCRIPT's scripts (JsonObject*), read back as nulls
   * unless return_predefined_scripts (ppms_server_set_return_predefined_scripts). */
  GPtrArray *predefined_scripts;
  gboolean return_predefined_scripts;
  GHashTable *online_portal_index; /* device uuids re-saved with app_uuid while online (BUG 14) */
  GHashTable *request_counts;    /* HTTP path -> number of requests (GUINT_TO_POINTER), for benchmarks */
  PpmsLog *log;                  /* the exchange log (log.c), NULL until first used */
  PpmsFrameObserver frame_observer; /* benchmarks: told of every pushed or ack frame written */
  gpointer frame_observer_data;
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
  gboolean drop_connection;  /* set: close the connection without any answer */
} PpmsApiCall;

typedef void (*PpmsApiHandler) (PpmsApiCall *call);

/* Whether the faults are aimed at this request's client (ppms_server_set_fault_target). */
gboolean ppms_fault_targets (PpmsServer *server, SoupServerMessage *msg);

typedef struct {
  char *name;
  char **levels;             /* NULL-terminated */
  gboolean needs_app_uuid;
  PpmsApiHandler handler;
} PpmsApiEndpoint;

/* levels: comma-separated, e.g. "PPCOM,PPKEFU,THIRD_PARTY_KEFU". */
void ppms_api_register (PpmsServer *server, const char *name, const char *levels,
                        gboolean needs_app_uuid, PpmsApiHandler handler);

/* ---- Store helpers (store.c, util.c), shared by every part ---- */

/* A new uuid in the server's form: uuid1-like, lower case, 36 characters. */
char *ppms_uuid_new (void);
/* "YYYY-MM-DD HH:MM:SS ffffff" (local time, as the server's str(datetime)
 * with the space before the microseconds). */
char *ppms_format_datetime (gint64 us);
/* Whole seconds since the epoch, as the integer updatetime of pushes. */
gint64 ppms_epoch_seconds (gint64 us);
/* Seconds as a float, in Python repr's shortest round-trip form ("1480.25"). */
char *ppms_format_ts (gint64 us);
/* A duration of the real server scaled by the timer scale, at least 1 ms. */
guint ppms_server_scaled_ms (PpmsServer *server, guint ms);

PpmsUser         *ppms_user_lookup (PpmsServer *server, const char *uuid);
PpmsDevice       *ppms_device_lookup (PpmsServer *server, const char *uuid);
PpmsConversation *ppms_conversation_lookup (PpmsServer *server, const char *uuid);
PpmsMember       *ppms_conversation_find_member (PpmsConversation *conv, const char *user_uuid);
PpmsToken        *ppms_token_lookup (PpmsServer *server, const char *token);
PpmsFile         *ppms_file_lookup (PpmsServer *server, const char *uuid);
PpmsMessage      *ppms_message_lookup (PpmsServer *server, const char *uuid);

/* Stores a file; content already stored (same SHA-1) returns the existing
 * record, as the real server de-duplicates. data is referenced. */
PpmsFile *ppms_file_add (PpmsServer *server, const char *name, const char *mime, GBytes *data);
/* For an IMAGE message: fills out_body with "thum", "orig", "mime" (lower
 * case), "orig_width", "orig_height", "thum_width", "thum_height" of protocol
 * 7.5. An image larger than 120 x 160 gets a new thumbnail file (a copy of
 * the original, sizes scaled); a smaller one or a GIF uses the original.
 * FALSE when the file is not a PNG, GIF or JPEG. */
gboolean ppms_image_thumbnail (PpmsServer *server, PpmsFile *orig, const char *mime,
                               JsonObject *out_body);

/* Adds records to the store (takes ownership) and keeps the indexes. */
void ppms_store_add_user (PpmsServer *server, PpmsUser *user);
void ppms_store_add_device (PpmsServer *server, PpmsDevice *device);
void ppms_store_add_conversation (PpmsServer *server, PpmsConversation *conv);
void ppms_store_add_message (PpmsServer *server, PpmsMessage *message);
void ppms_store_add_push (PpmsServer *server, PpmsPush *push);
/* Adds a member (or returns the existing one); conversation name/icon as given. */
PpmsMember *ppms_conversation_add_member (PpmsConversation *conv, const char *user_uuid,
                                          const char *name, const char *icon);
/* The latest PROCESSED message of a conversation, or NULL. */
PpmsMessage *ppms_conversation_latest_message (PpmsServer *server, PpmsConversation *conv);

/* User JSON: the full record of PP_GET_USER_INFO / detail. */
JsonObject *ppms_user_to_json (PpmsServer *server, PpmsUser *user);
/* The "from_user" object of pushes and message lists: updatetime as an
 * integer of epoch seconds, as the real pushes carry it. */
JsonObject *ppms_user_to_from_user_json (PpmsServer *server, PpmsUser *user);
/* The device's "is_online" flag; the websocket part sets it on auth and
 * clears it on close. */
void ppms_device_set_online (PpmsServer *server, const char *device_uuid, gboolean online);
/* A user is online when one of its devices is (browser or mobile). */
gboolean ppms_user_is_online (PpmsServer *server, PpmsUser *user);
/* Drops one token (PPKEFU_LOGOUT). */
void ppms_token_remove (PpmsServer *server, const char *token);

/* Removes a member from a conversation (and the member index), frees it. */
void ppms_conversation_remove_member (PpmsConversation *conv, PpmsMember *member);

/* ---- Indexes (index.c), kept by the store.c functions above ---- */
typedef struct {
  PpmsConversation *conv;
  PpmsMember *member;
} PpmsMembership;

void ppms_index_init (PpmsServer *server);
void ppms_index_clear (PpmsServer *server);
void ppms_index_add_member (PpmsServer *server, PpmsConversation *conv, PpmsMember *member);
void ppms_index_remove_member (PpmsServer *server, PpmsConversation *conv, PpmsMember *member);
void ppms_index_forget_conversation (PpmsServer *server, PpmsConversation *conv);
void ppms_index_add_push (PpmsServer *server, PpmsPush *push);
void ppms_index_remove_push (PpmsServer *server, PpmsPush *push);
/* The user's OPEN memberships (PpmsMembership), newest activity first (member
 * updatetime, then createtime, then conversation uuid). Owned by the index,
 * valid until the store changes. NULL only for a NULL user. */
const GArray    *ppms_user_open_conversations (PpmsServer *server, const char *user_uuid);
/* Position of a conversation in that list, or -1. */
gint             ppms_user_open_position (PpmsServer *server, const char *user_uuid,
                                          const char *conversation_uuid);
/* Every membership of the user, any status (NULL: none). */
const GArray    *ppms_user_memberships (PpmsServer *server, const char *user_uuid);
/* The user's PUSHED pushes, oldest first (owned by the index, valid until
 * the store changes). NULL only for a NULL user. */
const GPtrArray *ppms_user_unacked_pushes (PpmsServer *server, const char *user_uuid);
/* Index of a message in conv->messages (binary search), or -1 when the
 * message is unknown or in another conversation. */
gint             ppms_conversation_message_index (PpmsServer *server, PpmsConversation *conv,
                                                  const char *uuid);

/* ---- Scenario generator (generate.c, tests/data/README.md "generate") ---- */
gboolean ppms_generate_load (PpmsServer *server, JsonObject *spec, GError **error);

/* ---- More store helpers (store.c, views.c, seed.c) ---- */
void        ppms_store_init (PpmsServer *server);
void        ppms_store_clear (PpmsServer *server);
void        ppms_app_free (PpmsApp *app);
void        ppms_member_free (PpmsMember *member);
void        ppms_message_free (PpmsMessage *message);
void        ppms_token_free (PpmsToken *token);
PpmsUser   *ppms_user_lookup_by_email (PpmsServer *server, const char *email);
PpmsUser   *ppms_user_lookup_by_trace (PpmsServer *server, const char *ppcom_trace_uuid);
PpmsDevice *ppms_device_lookup_by_terminal (PpmsServer *server, const char *terminal);
PpmsApiKey *ppms_api_key_lookup (PpmsServer *server, const char *key);
PpmsApiKey *ppms_api_key_by_level (PpmsServer *server, const char *level);
PpmsToken  *ppms_token_issue (PpmsServer *server, PpmsApiKey *key, const char *level);
/* A new conversation (status NEW, times now) of the server's app, stored. */
PpmsConversation *ppms_conversation_new (PpmsServer *server, const char *type, const char *creator);
/* Stores a copy without de-duplication (thumbnails, /ppkefu/upload/). */
PpmsFile   *ppms_file_add_copy (PpmsServer *server, const char *name, const char *mime, GBytes *data);
gboolean    ppms_user_browser_online (PpmsServer *server, PpmsUser *user);
gboolean    ppms_user_mobile_online (PpmsServer *server, PpmsUser *user);
/* Sets updatetime to now (strictly increasing). */
void        ppms_user_touch (PpmsUser *user);

/* JSON views of records (views.c). Datetimes as strings unless noted. */
JsonObject *ppms_app_to_json (PpmsServer *server);
/* User columns after uuid/updatetime/createtime (NULL-terminated), and the
 * address of the struct field backing a string column (NULL: not a field). */
const char *const *ppms_user_column_names (void);
char      **ppms_user_string_column (PpmsUser *user, const char *name);
/* 4.7 item: uuid, names, icon, signature, updatetime (string), online flags, group. */
JsonObject *ppms_user_to_list_item (PpmsServer *server, PpmsUser *user);
/* Every conversation column; name/icon from the member when given and non-null. */
JsonObject *ppms_conversation_to_json (PpmsConversation *conv, PpmsMember *member);
/* The raw-hash forms (only present fields, all strings) of PP_PAGE_USER_CONVERSATION. */
JsonObject *ppms_conversation_to_raw_json (PpmsConversation *conv);
JsonObject *ppms_member_to_json (PpmsServer *server, PpmsConversation *conv, PpmsMember *member);
JsonObject *ppms_member_to_raw_json (PpmsServer *server, PpmsConversation *conv, PpmsMember *member);
/* The full message record (9.7) and its raw latest_message subset. */
JsonObject *ppms_message_to_json (PpmsMessage *message);
JsonObject *ppms_message_to_raw_json (PpmsMessage *message);

/* Seed and dump (seed.c). */
gboolean    ppms_seed_load (PpmsServer *server, JsonObject *root, GError **error);
void        ppms_seed_default_team (PpmsServer *server);
char       *ppms_seed_dump (PpmsServer *server);
/* Rewrites icon URLs given relative ("/identicon/...") to the server's url. */
void        ppms_store_absolutize_urls (PpmsServer *server);

/* ---- Utilities (util.c) ---- */
char       *ppms_format_double (double value);          /* Python repr of a float */
char       *ppms_sha1_hex (const char *text);
char       *ppms_new_key (void);                        /* 56-char base64 key/token */
/* "<server url>/identicon/identicon/<sum of the seed's bytes mod 256>.png" */
char       *ppms_identicon_url (PpmsServer *server, const char *seed);
const char *ppms_server_base (PpmsServer *server);      /* url or "" before listen */
/* JSON text as Python's json.dumps: ensure_ascii, ", " and ": " separators. */
char       *ppms_json_to_string (JsonNode *node);
char       *ppms_json_object_to_string (JsonObject *object);
/* Typed member access: NULL/FALSE when missing or of another type. */
const char *ppms_json_get_string (JsonObject *object, const char *name);
const char *ppms_json_get_nonempty (JsonObject *object, const char *name);
gboolean    ppms_json_has_nonnull (JsonObject *object, const char *name);
gboolean    ppms_json_get_int (JsonObject *object, const char *name, gint64 *out);
const char *ppms_json_array_get_string (JsonArray *array, guint index);
void        ppms_json_set_string_or_null (JsonObject *object, const char *name, const char *value);
void        ppms_json_set_datetime (JsonObject *object, const char *name, gint64 us);
/* A one-shot timer owned by the server (removed on free); scaled ms. */
void        ppms_server_add_timer (PpmsServer *server, guint real_ms, GSourceFunc func,
                                   gpointer data, GDestroyNotify destroy);

/* ---- HTTP core (http.c, api.c) ---- */
void        ppms_http_callback (SoupServer *soup, SoupServerMessage *msg, const char *path,
                                GHashTable *query, gpointer user_data);
void        ppms_http_drop_pending (PpmsServer *server);
/* Stalled and delayed requests are dropped and their connections reset. */
void        ppms_http_reset_pending (PpmsServer *server);
void        ppms_http_shutdown_connections (PpmsServer *server);
void        ppms_add_cors (SoupServerMessage *msg);
void        ppms_respond_bytes (SoupServerMessage *msg, guint status, const char *content_type,
                                const void *data, gsize len);
void        ppms_respond_json (SoupServerMessage *msg, guint status, JsonObject *object, gboolean cors);
void        ppms_respond_html_error (SoupServerMessage *msg, guint status);
void        ppms_respond_traceback (SoupServerMessage *msg, const char *handler_file,
                                    const char *final_line);
GHashTable *ppms_form_parse (SoupServerMessage *msg, const char *file_field, char **filename,
                             char **content_type, GBytes **file);
void        ppms_api_init (PpmsServer *server);
void        ppms_api_dispatch (PpmsServer *server, SoupServerMessage *msg, const char *name);
const char *ppms_error_string (int code);
/* Handler helpers: crash = HTTP 500 traceback ending in final_line;
 * require = non-empty string members (NULL-terminated) else error 6. */
void        ppms_call_crash (PpmsApiCall *call, const char *final_line);
gboolean    ppms_call_require (PpmsApiCall *call, ...) G_GNUC_NULL_TERMINATED;
const char *ppms_call_string (PpmsApiCall *call, const char *name);

/* Level sets of table 3.2. */
#define PPMS_LEVELS_FIVE "PPCOM,PPKEFU,PPCONSOLE,THIRD_PARTY_KEFU,THIRD_PARTY_CONSOLE"
#define PPMS_LEVELS_CHAT "PPCOM,PPKEFU,THIRD_PARTY_KEFU"
#define PPMS_LEVELS_KEFU "PPKEFU,THIRD_PARTY_KEFU"

/* ---- Endpoint groups (REST part) ---- */
void        ppms_auth_token (PpmsServer *server, SoupServerMessage *msg);      /* auth.c */
void        ppms_agent_api_init (PpmsServer *server);                          /* api-agent.c */
/* Service users of the app, oldest first (api-agent.c). */
GPtrArray  *ppms_service_users (PpmsServer *server);
/* Stores one device column (PP_UPDATE_DEVICE, SET_DEVICE_INFO). */
void        ppms_device_set_column (PpmsDevice *device, const char *column, JsonNode *value);
void        ppms_visitor_api_init (PpmsServer *server);                        /* api-visitor.c */
/* The most recently updated conversation the user is a member of (any status). */
PpmsConversation *ppms_user_latest_conversation (PpmsServer *server, const char *user_uuid);
/* A conversation by creator with assigned_uuid = member and exactly 2 members. */
PpmsConversation *ppms_find_one_to_one (PpmsServer *server, const char *creator, const char *member);
void        ppms_distributor_start (PpmsServer *server);
void        ppms_distributor_stop (PpmsServer *server);
void        ppms_conversations_api_init (PpmsServer *server);                  /* api-conversations.c */
void        ppms_create_conversation_init (PpmsServer *server);               /* api-create.c */
void        ppms_misc_api_init (PpmsServer *server);                           /* api-misc.c */
gboolean    ppms_files_handle (PpmsServer *server, SoupServerMessage *msg, const char *path);   /* files.c */
/* Width and height from PNG, GIF or JPEG headers (image.c). */
gboolean    ppms_image_size (GBytes *data, guint *width, guint *height);
extern const guint8 ppms_identicon_png[79];
gboolean    ppms_assets_handle (PpmsServer *server, SoupServerMessage *msg, const char *path);  /* assets.c */

/* ---- Exchange log (log.c); each call does nothing while the log is off ---- */
gboolean    ppms_log_is_on (PpmsServer *server);
void        ppms_log_free (PpmsServer *server);
/* The request now, its answer when written (or the connection's end). */
void        ppms_log_http_request (PpmsServer *server, SoupServerMessage *msg);
/* Numbers and names the socket's connection even while the log is off. */
void        ppms_log_ws_open (PpmsServer *server, SoupServerMessage *msg,
                              SoupWebsocketConnection *conn);
void        ppms_log_ws_frame (PpmsSocket *socket, gboolean from_client, const char *text,
                               gsize size);
/* by: "client" or "server", as the recordings say who closed. */
void        ppms_log_ws_close (PpmsSocket *socket, const char *by);

/* ---- Implemented by the messaging part (ws.c, messages.c) ---- */
void  ppms_messages_init (PpmsServer *server);   /* registers its API endpoints */
void  ppms_ws_init (PpmsServer *server);         /* adds the /pcsocket/WS handler to server->soup */
void  ppms_ws_drop_all (PpmsServer *server);     /* abrupt close of the fault target's, no close frame */
void  ppms_ws_close_all (PpmsServer *server);    /* for stop() */
guint ppms_ws_count_registered (PpmsServer *server);
void  ppms_messaging_free (PpmsServer *server);
/* Sends the forced-logout frame (SYS/LOGOUT of transcript 08) to the socket of
 * this device, if any. Called by PPKEFU_LOGIN when it kicks a device. */
void  ppms_ws_force_logout (PpmsServer *server, const char *device_uuid);

G_END_DECLS
