/* peer.c: a scripted PPCom visitor or PPKefu agent over the real protocol,
 * for tests, the demo and benchmarks (see ppm-test-peer.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <libsoup/soup.h>
#include "ppm-test-peer.h"

#define PEER_START_TIMEOUT_MS 10000
#define PEER_HTTP_TIMEOUT_MS  10000
#define PEER_AMD_POLL_MS      20

typedef enum { PEER_VISITOR, PEER_NAMED_VISITOR, PEER_AGENT } PeerRole;

typedef struct {
  char *conversation_type;   /* "P2S" or "S2S" */
  char *creator_uuid;        /* conversation.user_uuid */
} PeerConversation;

struct _PpmsPeer {
  PeerRole role;
  SoupSession *session;
  char *server_url;
  char *api_key;
  char *api_secret;
  char *trace_id;            /* visitor: ppcom_trace_uuid; agent: terminal */
  char *device_id;           /* visitor: PPCom's device_id */
  char *email;
  char *fullname;
  char *password_sha1;
  char *ostype;              /* agent: "LIB" (browser) or a phone class ("AND", "IOS") */

  char *token;
  char *app_uuid;
  char *user_uuid;
  char *device_uuid;
  char *conversation_uuid;

  SoupWebsocketConnection *ws;
  gboolean ws_opening;
  GError *ws_error;
  gboolean authed;
  int auth_code;
  gboolean kicked;

  GQueue *inbox;             /* JsonObject* msg objects not yet consumed (owned) */
  GPtrArray *consumed;       /* JsonObject* handed out (owned) */
  GHashTable *acks;          /* message uuid -> GINT_TO_POINTER (code + 1) */
  GHashTable *conversations; /* uuid -> PeerConversation* */
  guint received;
  guint typing;

  PpmsAutoReply auto_reply;
  gpointer auto_reply_data;
};

/* ---- Waiting ---- */

static gboolean
wake_up (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Slow runs (valgrind) stretch every wait by HARNESS_TIMEOUT_SCALE. */
gint64
ppms_deadline_ (guint timeout_ms)
{
  const char *text = g_getenv ("HARNESS_TIMEOUT_SCALE");
  double scale = text != NULL ? g_ascii_strtod (text, NULL) : 1.0;

  return g_get_monotonic_time () + (gint64) (timeout_ms * MAX (scale, 1.0)) * 1000;
}

gboolean
ppms_iterate_until_ (gint64 deadline)
{
  GMainContext *ctx = g_main_context_get_thread_default ();
  gint64 now = g_get_monotonic_time ();
  gboolean woken = FALSE;
  GSource *timer;

  if (now >= deadline)
    return FALSE;
  if (ctx == NULL)
    ctx = g_main_context_default ();
  /* A timer bounds the blocking iteration, so the deadline is honoured. */
  timer = g_timeout_source_new (MAX (1, (deadline - now) / 1000));
  g_source_set_callback (timer, wake_up, &woken, NULL);
  g_source_attach (timer, ctx);
  g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return TRUE;
}

gboolean
ppms_wait_until (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  return PPMS_WAIT_FOR (cond (data), timeout_ms);
}

void
ppms_run_for (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (ppms_iterate_until_ (deadline))
    ;
}

/* Lets the main loop run for ms without blocking it (the distributor poll). */
static void
peer_pause (guint ms)
{
  ppms_run_for (ms);
}

/* ---- Construction ---- */

static PpmsPeer *
peer_new (PeerRole role, const char *server_url)
{
  PpmsPeer *peer = g_new0 (PpmsPeer, 1);

  peer->role = role;
  peer->server_url = g_strdup (server_url);
  /* Named in the server's exchange log apart from the client under test. */
  peer->session = soup_session_new_with_options ("user-agent", "ppm-test-peer", NULL);
  peer->inbox = g_queue_new ();
  peer->consumed = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  peer->acks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  peer->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return peer;
}

PpmsPeer *
ppms_peer_new_visitor (const char *server_url, const char *app_uuid, const char *ppcom_key,
                       const char *ppcom_secret, const char *trace_id)
{
  PpmsPeer *peer = peer_new (PEER_VISITOR, server_url);

  peer->app_uuid = g_strdup (app_uuid);
  peer->api_key = g_strdup (ppcom_key);
  peer->api_secret = g_strdup (ppcom_secret);
  peer->trace_id = trace_id ? g_strdup (trace_id) : g_uuid_string_random ();
  /* PPCom derives its device id from the browser; one per trace id here. */
  peer->device_id = g_compute_checksum_for_string (G_CHECKSUM_MD5, peer->trace_id, -1);
  return peer;
}

PpmsPeer *
ppms_peer_new_named_visitor (const char *server_url, const char *app_uuid, const char *ppcom_key,
                             const char *ppcom_secret, const char *email, const char *fullname)
{
  PpmsPeer *peer = ppms_peer_new_visitor (server_url, app_uuid, ppcom_key, ppcom_secret, NULL);

  peer->role = PEER_NAMED_VISITOR;
  peer->email = g_strdup (email);
  peer->fullname = g_strdup (fullname);
  return peer;
}

PpmsPeer *
ppms_peer_new_agent (const char *server_url, const char *ppkefu_key, const char *email,
                     const char *password, const char *terminal)
{
  PpmsPeer *peer = peer_new (PEER_AGENT, server_url);

  peer->api_key = g_strdup (ppkefu_key);
  peer->email = g_strdup (email);
  peer->password_sha1 = g_compute_checksum_for_string (G_CHECKSUM_SHA1, password, -1);
  peer->trace_id = terminal ? g_strdup (terminal) : g_uuid_string_random ();
  peer->ostype = g_strdup ("LIB");
  return peer;
}

void
ppms_peer_set_agent_ostype (PpmsPeer *peer, const char *ostype)
{
  g_free (peer->ostype);
  peer->ostype = g_strdup (ostype ? ostype : "LIB");
}

static void
conversation_free (gpointer data)
{
  PeerConversation *conv = data;

  g_free (conv->conversation_type);
  g_free (conv->creator_uuid);
  g_free (conv);
}

void
ppms_peer_free (PpmsPeer *peer)
{
  GHashTableIter iter;
  gpointer value;

  if (peer == NULL)
    return;
  ppms_peer_close (peer);
  g_hash_table_iter_init (&iter, peer->conversations);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    conversation_free (value);
  g_hash_table_destroy (peer->conversations);
  g_hash_table_destroy (peer->acks);
  g_queue_free_full (peer->inbox, (GDestroyNotify) json_object_unref);
  g_ptr_array_unref (peer->consumed);
  g_clear_error (&peer->ws_error);
  g_object_unref (peer->session);
  g_free (peer->server_url);
  g_free (peer->api_key);
  g_free (peer->api_secret);
  g_free (peer->trace_id);
  g_free (peer->device_id);
  g_free (peer->email);
  g_free (peer->fullname);
  g_free (peer->password_sha1);
  g_free (peer->ostype);
  g_free (peer->token);
  g_free (peer->app_uuid);
  g_free (peer->user_uuid);
  g_free (peer->device_uuid);
  g_free (peer->conversation_uuid);
  g_free (peer);
}

/* ---- HTTP ---- */

typedef struct {
  gboolean done;
  GBytes *body;
  GError *error;
} HttpWait;

static void
http_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  HttpWait *wait = data;

  wait->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &wait->error);
  wait->done = TRUE;
}

static gboolean
http_is_done (gpointer data)
{
  return ((HttpWait *) data)->done;
}

/* Sends msg and parses the reply as a JSON object (new reference). */
static JsonObject *
peer_http_json_sync (PpmsPeer *peer, SoupMessage *msg, GError **error)
{
  HttpWait wait = { 0 };
  GCancellable *cancel = g_cancellable_new ();
  JsonParser *parser;
  JsonObject *reply = NULL;
  guint status;

  soup_session_send_and_read_async (peer->session, msg, G_PRIORITY_DEFAULT, cancel,
                                    http_done_cb, &wait);
  if (!ppms_wait_until (http_is_done, &wait, PEER_HTTP_TIMEOUT_MS)) {
    g_cancellable_cancel (cancel);
    ppms_wait_until (http_is_done, &wait, PEER_HTTP_TIMEOUT_MS);
  }
  g_object_unref (cancel);
  if (wait.error != NULL) {
    g_propagate_error (error, wait.error);
    g_clear_pointer (&wait.body, g_bytes_unref);
    return NULL;
  }
  status = soup_message_get_status (msg);
  parser = json_parser_new ();
  if (status != SOUP_STATUS_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: HTTP %u",
                 g_uri_get_path (soup_message_get_uri (msg)), status);
  } else if (!json_parser_load_from_data (parser, g_bytes_get_data (wait.body, NULL),
                                          g_bytes_get_size (wait.body), error)) {
    /* error set by the parser */
  } else if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: reply is not an object",
                 g_uri_get_path (soup_message_get_uri (msg)));
  } else {
    reply = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  }
  g_object_unref (parser);
  g_bytes_unref (wait.body);
  return reply;
}

static char *
json_object_to_text (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  char *text;

  json_node_set_object (node, object);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  return text;
}

static void
body_default (JsonObject *body, const char *member, const char *value)
{
  if (value != NULL && !json_object_has_member (body, member))
    json_object_set_string_member (body, member, value);
}

static SoupMessage *
peer_api_message (PpmsPeer *peer, const char *name, JsonObject *body)
{
  char *url = g_strdup_printf ("%s/api/%s", peer->server_url, name);
  SoupMessage *msg = soup_message_new ("POST", url);
  char *text = json_object_to_text (body);
  GBytes *bytes = g_bytes_new_take (text, strlen (text));

  g_free (url);
  soup_message_set_request_body_from_bytes (msg, "application/json;charset=utf-8", bytes);
  g_bytes_unref (bytes);
  if (peer->token != NULL) {
    char *auth = g_strdup_printf ("OAuth %s", peer->token);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    g_free (auth);
  }
  return msg;
}

JsonObject *
ppms_peer_api_sync (PpmsPeer *peer, const char *name, JsonObject *body, GError **error)
{
  JsonObject *request = json_object_new ();
  SoupMessage *msg;
  JsonObject *reply;

  if (body != NULL) {
    GList *members = json_object_get_members (body);
    for (GList *l = members; l != NULL; l = l->next)
      json_object_set_member (request, l->data,
                              json_node_copy (json_object_get_member (body, l->data)));
    g_list_free (members);
  }
  /* PPKefu's own calls after login carry its ids (the login itself has none). */
  if (peer->role == PEER_AGENT && peer->device_uuid != NULL) {
    body_default (request, "app_uuid", peer->app_uuid);
    body_default (request, "user_uuid", peer->user_uuid);
    body_default (request, "device_uuid", peer->device_uuid);
  }
  msg = peer_api_message (peer, name, request);
  json_object_unref (request);
  reply = peer_http_json_sync (peer, msg, error);
  g_object_unref (msg);
  return reply;
}

static int
reply_error_code (JsonObject *reply)
{
  JsonNode *node = json_object_get_member (reply, "error_code");

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return -1000;
  return (int) json_node_get_int (node);
}

static const char *
reply_string (JsonObject *reply, const char *member)
{
  JsonNode *node = json_object_get_member (reply, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* An API call that must succeed (error_code 0, or one of the allowed codes). */
static JsonObject *
peer_api_expect (PpmsPeer *peer, const char *name, JsonObject *body, int allowed, GError **error)
{
  JsonObject *reply = ppms_peer_api_sync (peer, name, body, error);
  int code;

  if (reply == NULL)
    return NULL;
  code = reply_error_code (reply);
  if (code != 0 && code != allowed) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: error_code %d", name, code);
    json_object_unref (reply);
    return NULL;
  }
  return reply;
}

static gboolean
peer_token_sync (PpmsPeer *peer, GError **error)
{
  char *url = g_strdup_printf ("%s/ppauth/token", peer->server_url);
  GHashTable *form = g_hash_table_new (g_str_hash, g_str_equal);
  SoupMessage *msg;
  JsonObject *reply;
  const char *token;

  g_hash_table_insert (form, "client_id", peer->api_key);
  if (peer->role == PEER_AGENT) {
    g_hash_table_insert (form, "grant_type", "password");
    g_hash_table_insert (form, "user_email", peer->email);
    g_hash_table_insert (form, "user_password", peer->password_sha1);
  } else {
    g_hash_table_insert (form, "grant_type", "client_credentials");
    g_hash_table_insert (form, "client_secret", peer->api_secret);
  }
  msg = soup_message_new_from_encoded_form ("POST", url, soup_form_encode_hash (form));
  g_hash_table_destroy (form);
  g_free (url);
  reply = peer_http_json_sync (peer, msg, error);
  g_object_unref (msg);
  if (reply == NULL)
    return FALSE;
  token = reply_string (reply, "access_token");
  if (token == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "token refused");
    json_object_unref (reply);
    return FALSE;
  }
  g_free (peer->token);
  peer->token = g_strdup (token);
  if (peer->user_uuid == NULL && reply_string (reply, "user_uuid") != NULL)
    peer->user_uuid = g_strdup (reply_string (reply, "user_uuid"));
  json_object_unref (reply);
  return TRUE;
}

/* ---- Sign-in ---- */

static gboolean
agent_login_sync (PpmsPeer *peer, GError **error)
{
  JsonObject *body = json_object_new ();
  JsonObject *reply, *app;
  const char *device;

  json_object_set_null_member (body, "token");
  json_object_set_string_member (body, "terminal", peer->trace_id);
  json_object_set_string_member (body, "ostype", peer->ostype);
  json_object_set_string_member (body, "osversion", "5.0 (X11)");
  json_object_set_string_member (body, "device_fullname", "ppms test peer");
  json_object_set_boolean_member (body, "ios_app_development", TRUE);
  json_object_set_string_member (body, "user_email", peer->email);
  json_object_set_string_member (body, "user_password", peer->password_sha1);
  g_clear_pointer (&peer->device_uuid, g_free);  /* the login carries no ids */
  reply = peer_api_expect (peer, "PPKEFU_LOGIN", body, 0, error);
  json_object_unref (body);
  if (reply == NULL)
    return FALSE;
  app = json_object_has_member (reply, "app") ? json_object_get_object_member (reply, "app") : NULL;
  /* A browser login fills browser_device_uuid, a phone login mobile_device_uuid. */
  device = reply_string (reply, g_strcmp0 (peer->ostype, "LIB") == 0 ? "browser_device_uuid"
                                                                      : "mobile_device_uuid");
  if (reply_string (reply, "uuid") == NULL || device == NULL
      || app == NULL || reply_string (app, "uuid") == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "PPKEFU_LOGIN: incomplete reply");
    json_object_unref (reply);
    return FALSE;
  }
  g_free (peer->user_uuid);
  peer->user_uuid = g_strdup (reply_string (reply, "uuid"));
  g_free (peer->device_uuid);
  peer->device_uuid = g_strdup (device);
  g_free (peer->app_uuid);
  peer->app_uuid = g_strdup (reply_string (app, "uuid"));
  json_object_unref (reply);
  return TRUE;
}

static gboolean
visitor_user_sync (PpmsPeer *peer, GError **error)
{
  JsonObject *body = json_object_new ();
  JsonObject *reply;
  const char *name;

  json_object_set_string_member (body, "app_uuid", peer->app_uuid);
  if (peer->role == PEER_NAMED_VISITOR) {
    json_object_set_string_member (body, "user_email", peer->email);
    json_object_set_string_member (body, "user_fullname", peer->fullname);
    json_object_set_null_member (body, "user_icon");
    name = "PP_GET_USER_UUID";
  } else {
    json_object_set_string_member (body, "ppcom_trace_uuid", peer->trace_id);
    name = "PP_CREATE_ANONYMOUS";
  }
  reply = peer_api_expect (peer, name, body, 0, error);
  json_object_unref (body);
  if (reply == NULL)
    return FALSE;
  if (reply_string (reply, "user_uuid") == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no user_uuid", name);
    json_object_unref (reply);
    return FALSE;
  }
  g_free (peer->user_uuid);
  peer->user_uuid = g_strdup (reply_string (reply, "user_uuid"));
  json_object_unref (reply);
  return TRUE;
}

static gboolean
visitor_device_sync (PpmsPeer *peer, GError **error)
{
  JsonObject *body = json_object_new ();
  JsonObject *reply;

  json_object_set_string_member (body, "app_uuid", peer->app_uuid);
  json_object_set_string_member (body, "user_uuid", peer->user_uuid);
  json_object_set_string_member (body, "device_ostype", "LIB");
  json_object_set_string_member (body, "ppcom_trace_uuid", peer->trace_id);
  json_object_set_string_member (body, "device_id", peer->device_id);
  /* A returning browser gets error 25 (EX_DEVICE) with the existing device. */
  reply = peer_api_expect (peer, "PP_CREATE_DEVICE", body, 25, error);
  json_object_unref (body);
  if (reply == NULL)
    return FALSE;
  if (reply_string (reply, "device_uuid") == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "PP_CREATE_DEVICE: no device_uuid");
    json_object_unref (reply);
    return FALSE;
  }
  g_free (peer->device_uuid);
  peer->device_uuid = g_strdup (reply_string (reply, "device_uuid"));
  json_object_unref (reply);

  body = json_object_new ();
  json_object_set_string_member (body, "device_uuid", peer->device_uuid);
  json_object_set_string_member (body, "device_ostype", "LIB");
  reply = peer_api_expect (peer, "PP_UPDATE_DEVICE", body, 0, error);
  json_object_unref (body);
  if (reply == NULL)
    return FALSE;
  json_object_unref (reply);
  return TRUE;
}

/* PPCOM_GET_DEFAULT_CONVERSATION; NULL (no error) while the distributor is busy. */
static char *
visitor_default_conversation (PpmsPeer *peer, GError **error)
{
  JsonObject *body = json_object_new ();
  JsonObject *reply;
  char *uuid;

  json_object_set_string_member (body, "app_uuid", peer->app_uuid);
  json_object_set_string_member (body, "user_uuid", peer->user_uuid);
  json_object_set_string_member (body, "device_uuid", peer->device_uuid);
  reply = peer_api_expect (peer, "PPCOM_GET_DEFAULT_CONVERSATION", body, 0, error);
  json_object_unref (body);
  if (reply == NULL)
    return NULL;
  uuid = g_strdup (reply_string (reply, "uuid"));
  json_object_unref (reply);
  return uuid;
}

static gboolean
visitor_conversation_sync (PpmsPeer *peer, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + PEER_START_TIMEOUT_MS * (gint64) 1000;
  char *uuid = visitor_default_conversation (peer, error);

  while (uuid == NULL) {
    JsonObject *body, *reply;

    if ((error != NULL && *error != NULL) || g_get_monotonic_time () > deadline)
      break;
    /* PPCom polls the distributor queue until its conversation exists. */
    body = json_object_new ();
    json_object_set_string_member (body, "app_uuid", peer->app_uuid);
    json_object_set_string_member (body, "user_uuid", peer->user_uuid);
    reply = peer_api_expect (peer, "PP_GET_AMD_QUEUE_LENGTH", body, 0, error);
    json_object_unref (body);
    if (reply == NULL)
      return FALSE;
    if (reply_string (reply, "conversation_uuid") != NULL)
      uuid = visitor_default_conversation (peer, error);
    else
      peer_pause (PEER_AMD_POLL_MS);
    json_object_unref (reply);
  }
  if (uuid == NULL) {
    if (error != NULL && *error == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no default conversation");
    return FALSE;
  }
  g_free (peer->conversation_uuid);
  peer->conversation_uuid = uuid;
  return TRUE;
}

/* ---- Websocket ---- */

static void peer_send_frame (PpmsPeer *peer, JsonObject *frame);

static void
ack_message_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  if (body != NULL)
    g_bytes_unref (body);
}

/* Acknowledges a push the way the clients do, without waiting for the reply. */
static void
peer_ack_push (PpmsPeer *peer, const char *pid)
{
  JsonObject *body = json_object_new ();
  JsonArray *list = json_array_new ();
  SoupMessage *msg;

  json_array_add_string_element (list, pid);
  json_object_set_array_member (body, "list", list);
  if (peer->role == PEER_AGENT) {
    body_default (body, "app_uuid", peer->app_uuid);
    body_default (body, "user_uuid", peer->user_uuid);
    body_default (body, "device_uuid", peer->device_uuid);
  }
  msg = peer_api_message (peer, "ACK_MESSAGE", body);
  json_object_unref (body);
  soup_session_send_and_read_async (peer->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    ack_message_done_cb, NULL);
  g_object_unref (msg);
}

static void
peer_remember_conversation (PpmsPeer *peer, const char *uuid, const char *type,
                            const char *creator)
{
  PeerConversation *conv;

  if (uuid == NULL || type == NULL || creator == NULL
      || g_hash_table_contains (peer->conversations, uuid))
    return;
  conv = g_new0 (PeerConversation, 1);
  conv->conversation_type = g_strdup (type);
  conv->creator_uuid = g_strdup (creator);
  g_hash_table_insert (peer->conversations, g_strdup (uuid), conv);
}

static void
peer_handle_msg (PpmsPeer *peer, JsonObject *msg)
{
  const char *pid = reply_string (msg, "pid");
  const char *from = reply_string (msg, "fi");
  const char *ct = reply_string (msg, "ct");

  if (g_strcmp0 (reply_string (msg, "mt"), "SYS") == 0
      && g_strcmp0 (reply_string (msg, "ms"), "LOGOUT") == 0)
    peer->kicked = TRUE;
  peer->received++;
  if (pid != NULL && peer->token != NULL)
    peer_ack_push (peer, pid);
  /* A visitor's message to an agent: the reply goes S2P to the visitor. */
  if (g_strcmp0 (ct, "P2S") == 0)
    peer_remember_conversation (peer, reply_string (msg, "ci"), "P2S", from);
  g_queue_push_tail (peer->inbox, json_object_ref (msg));

  if (peer->auto_reply != NULL && g_strcmp0 (from, peer->user_uuid) != 0
      && g_strcmp0 (reply_string (msg, "mt"), "NOTI") == 0) {
    char *text = peer->auto_reply (peer, msg, peer->auto_reply_data);
    if (text != NULL) {
      g_free (ppms_peer_send_text (peer, reply_string (msg, "ci"), text));
      g_free (text);
    }
  }
}

static void
peer_handle_frame (PpmsPeer *peer, JsonObject *frame)
{
  const char *type = reply_string (frame, "type");

  if (g_strcmp0 (type, "ACK") == 0) {
    const char *what = reply_string (frame, "what");
    JsonNode *code_node = json_object_get_member (frame, "code");
    int code = code_node && json_node_get_value_type (code_node) == G_TYPE_INT64
               ? (int) json_node_get_int (code_node) : -1;
    JsonNode *extra = json_object_get_member (frame, "extra");

    if (g_strcmp0 (what, "AUTH") == 0) {
      peer->authed = TRUE;
      peer->auth_code = code;
    } else if (g_strcmp0 (what, "SEND") == 0 && extra != NULL && JSON_NODE_HOLDS_OBJECT (extra)) {
      const char *uuid = reply_string (json_node_get_object (extra), "uuid");
      if (uuid != NULL)
        g_hash_table_replace (peer->acks, g_strdup (uuid), GINT_TO_POINTER (code + 1));
    }
  } else if (g_strcmp0 (type, "MSG") == 0) {
    JsonNode *msg = json_object_get_member (frame, "msg");
    if (msg != NULL && JSON_NODE_HOLDS_OBJECT (msg))
      peer_handle_msg (peer, json_node_get_object (msg));
  } else if (g_strcmp0 (type, "TYPING") == 0) {
    peer->typing++;
  }
}

static void
ws_message_cb (SoupWebsocketConnection *ws, gint type, GBytes *data, gpointer user_data)
{
  PpmsPeer *peer = user_data;
  JsonParser *parser = json_parser_new ();

  if (json_parser_load_from_data (parser, g_bytes_get_data (data, NULL),
                                  g_bytes_get_size (data), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    peer_handle_frame (peer, json_node_get_object (json_parser_get_root (parser)));
  g_object_unref (parser);
}

static void
ws_closed_cb (SoupWebsocketConnection *ws, gpointer user_data)
{
  PpmsPeer *peer = user_data;

  if (peer->ws == ws) {
    g_signal_handlers_disconnect_by_data (ws, peer);
    g_clear_object (&peer->ws);
    peer->authed = FALSE;
  }
}

static void
ws_connected_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  PpmsPeer *peer = data;
  SoupWebsocketConnection *ws;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &peer->ws_error);
  peer->ws_opening = FALSE;
  if (ws == NULL)
    return;
  peer->ws = ws;
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), peer);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), peer);
}

static gboolean
ws_open_settled (gpointer data)
{
  return !((PpmsPeer *) data)->ws_opening;
}

static gboolean
ws_auth_settled (gpointer data)
{
  PpmsPeer *peer = data;
  return peer->authed || peer->ws == NULL;
}

static void
peer_send_frame (PpmsPeer *peer, JsonObject *frame)
{
  char *text;

  if (peer->ws == NULL
      || soup_websocket_connection_get_state (peer->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  text = json_object_to_text (frame);
  soup_websocket_connection_send_text (peer->ws, text);
  g_free (text);
}

static gboolean
peer_ws_connect_sync (PpmsPeer *peer, GError **error)
{
  char *url = g_strdup_printf ("%s/pcsocket/WS", peer->server_url);
  SoupMessage *msg = soup_message_new ("GET", url);
  JsonObject *auth = json_object_new ();

  g_free (url);
  g_clear_error (&peer->ws_error);
  peer->ws_opening = TRUE;
  peer->authed = FALSE;
  soup_session_websocket_connect_async (peer->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, ws_connected_cb, peer);
  g_object_unref (msg);
  ppms_wait_until (ws_open_settled, peer, PEER_START_TIMEOUT_MS);
  if (peer->ws == NULL) {
    if (peer->ws_error != NULL)
      g_propagate_error (error, g_steal_pointer (&peer->ws_error));
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "websocket connect timed out");
    json_object_unref (auth);
    return FALSE;
  }

  json_object_set_string_member (auth, "type", "auth");
  json_object_set_string_member (auth, "api_token", peer->token);
  json_object_set_string_member (auth, "app_uuid", peer->app_uuid);
  json_object_set_string_member (auth, "user_uuid", peer->user_uuid);
  json_object_set_string_member (auth, "device_uuid", peer->device_uuid);
  json_object_set_boolean_member (auth, "is_service_user", peer->role == PEER_AGENT);
  if (peer->role != PEER_AGENT) {
    /* PPCom's navigation data: page title and location (never a top-level href). */
    JsonObject *extra = json_object_new ();
    JsonObject *location = json_object_new ();
    json_object_set_string_member (extra, "title", "PPMessage test page");
    json_object_set_string_member (location, "href", "http://127.0.0.1/test/index.html");
    json_object_set_string_member (location, "pathname", "/test/index.html");
    json_object_set_object_member (extra, "location", location);
    json_object_set_object_member (auth, "extra_data", extra);
  }
  peer_send_frame (peer, auth);
  json_object_unref (auth);
  if (!ppms_wait_until (ws_auth_settled, peer, PEER_START_TIMEOUT_MS) || !peer->authed
      || peer->auth_code != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "websocket auth failed (code %d)", peer->authed ? peer->auth_code : -1);
    return FALSE;
  }
  return TRUE;
}

gboolean
ppms_peer_start_sync (PpmsPeer *peer, GError **error)
{
  g_return_val_if_fail (peer != NULL, FALSE);
  if (!peer_token_sync (peer, error))
    return FALSE;
  if (peer->role == PEER_AGENT) {
    if (!agent_login_sync (peer, error))
      return FALSE;
  } else if (!visitor_user_sync (peer, error) || !visitor_device_sync (peer, error)
             || !visitor_conversation_sync (peer, error)) {
    return FALSE;
  }
  return peer_ws_connect_sync (peer, error);
}

static gboolean
ws_is_closed (gpointer data)
{
  return ((PpmsPeer *) data)->ws == NULL;
}

void
ppms_peer_close (PpmsPeer *peer)
{
  if (peer->ws == NULL)
    return;
  if (soup_websocket_connection_get_state (peer->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (peer->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  ppms_wait_until (ws_is_closed, peer, 2000);
  if (peer->ws != NULL) {
    g_signal_handlers_disconnect_by_data (peer->ws, peer);
    g_clear_object (&peer->ws);
  }
  peer->authed = FALSE;
}

const char *ppms_peer_user_uuid (PpmsPeer *peer) { return peer->user_uuid; }
const char *ppms_peer_device_uuid (PpmsPeer *peer) { return peer->device_uuid; }
const char *ppms_peer_app_uuid (PpmsPeer *peer) { return peer->app_uuid; }
const char *ppms_peer_token (PpmsPeer *peer) { return peer->token; }
const char *ppms_peer_conversation_uuid (PpmsPeer *peer) { return peer->conversation_uuid; }
gboolean ppms_peer_is_connected (PpmsPeer *peer) { return peer->ws != NULL && peer->authed; }
gboolean ppms_peer_was_kicked (PpmsPeer *peer) { return peer->kicked; }
guint ppms_peer_count_received (PpmsPeer *peer) { return peer->received; }

/* ---- Sending ---- */

/* Agent side: the conversation's type and creator, asked once. */
static PeerConversation *
agent_conversation (PpmsPeer *peer, const char *conversation_uuid)
{
  PeerConversation *conv = g_hash_table_lookup (peer->conversations, conversation_uuid);
  JsonObject *body, *reply;

  if (conv != NULL)
    return conv;
  body = json_object_new ();
  json_object_set_string_member (body, "conversation_uuid", conversation_uuid);
  reply = peer_api_expect (peer, "PP_GET_CONVERSATION_INFO", body, 0, NULL);
  json_object_unref (body);
  if (reply == NULL)
    return NULL;
  peer_remember_conversation (peer, conversation_uuid, reply_string (reply, "conversation_type"),
                              reply_string (reply, "user_uuid"));
  json_object_unref (reply);
  return g_hash_table_lookup (peer->conversations, conversation_uuid);
}

char *
ppms_peer_send_message (PpmsPeer *peer, const char *conversation_uuid, const char *subtype,
                        const char *message_body)
{
  JsonObject *frame, *send;
  const char *to_uuid = conversation_uuid, *type = "P2S";
  char *uuid;

  if (peer->ws == NULL || conversation_uuid == NULL)
    return NULL;
  if (peer->role == PEER_AGENT) {
    PeerConversation *conv = agent_conversation (peer, conversation_uuid);
    if (conv == NULL)
      return NULL;
    /* PPKefu: to_uuid = conversation.user_uuid; S2P towards a visitor. */
    to_uuid = conv->creator_uuid;
    type = g_strcmp0 (conv->conversation_type, "S2S") == 0 ? "S2S" : "S2P";
  }
  uuid = g_uuid_string_random ();
  send = json_object_new ();
  json_object_set_string_member (send, "uuid", uuid);
  json_object_set_string_member (send, "app_uuid", peer->app_uuid);
  json_object_set_string_member (send, "conversation_uuid", conversation_uuid);
  json_object_set_string_member (send, "conversation_type", type);
  json_object_set_string_member (send, "to_uuid", to_uuid);
  json_object_set_string_member (send, "to_type", "DU");
  json_object_set_string_member (send, "from_uuid", peer->user_uuid);
  json_object_set_string_member (send, "from_type", "DU");
  json_object_set_string_member (send, "device_uuid", peer->device_uuid);
  json_object_set_string_member (send, "message_type", "NOTI");
  json_object_set_string_member (send, "message_subtype", subtype);
  json_object_set_string_member (send, "message_body", message_body);
  frame = json_object_new ();
  json_object_set_string_member (frame, "type", "send");
  json_object_set_object_member (frame, "send", send);
  peer_send_frame (peer, frame);
  json_object_unref (frame);
  return uuid;
}

char *
ppms_peer_send_text (PpmsPeer *peer, const char *conversation_uuid, const char *text)
{
  return ppms_peer_send_message (peer, conversation_uuid, "TEXT", text);
}

char *
ppms_peer_upload_sync (PpmsPeer *peer, const char *filename, const char *mime, GBytes *data,
                       GError **error)
{
  char *url = g_strdup_printf ("%s/upload/upload/", peer->server_url);
  SoupMultipart *multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
  SoupMessage *msg;
  JsonObject *reply;
  char *fuuid = NULL;

  if (peer->user_uuid != NULL)
    soup_multipart_append_form_string (multipart, "user_uuid", peer->user_uuid);
  soup_multipart_append_form_file (multipart, "file", filename, mime, data);
  msg = soup_message_new_from_multipart (url, multipart);
  soup_multipart_free (multipart);
  g_free (url);
  reply = peer_http_json_sync (peer, msg, error);
  g_object_unref (msg);
  if (reply == NULL)
    return NULL;
  fuuid = g_strdup (reply_string (reply, "fuuid"));
  if (fuuid == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "upload: no fuuid");
  json_object_unref (reply);
  return fuuid;
}

typedef struct {
  PpmsPeer *peer;
  const char *uuid;
} AckWait;

static gboolean
ack_arrived (gpointer data)
{
  AckWait *wait = data;
  return g_hash_table_contains (wait->peer->acks, wait->uuid);
}

gboolean
ppms_peer_wait_ack (PpmsPeer *peer, const char *message_uuid, guint timeout_ms, int *code)
{
  AckWait wait = { peer, message_uuid };

  if (message_uuid == NULL || !ppms_wait_until (ack_arrived, &wait, timeout_ms))
    return FALSE;
  if (code != NULL)
    *code = GPOINTER_TO_INT (g_hash_table_lookup (peer->acks, message_uuid)) - 1;
  return TRUE;
}

/* ---- Receiving ---- */

typedef struct {
  PpmsPeer *peer;
  PpmsMessagePredicate pred;
  gpointer data;
  GList *found;
} MessageWait;

static gboolean
message_found (gpointer data)
{
  MessageWait *wait = data;

  for (GList *l = wait->peer->inbox->head; l != NULL; l = l->next) {
    if (wait->pred == NULL || wait->pred (l->data, wait->data)) {
      wait->found = l;
      return TRUE;
    }
  }
  return FALSE;
}

const JsonObject *
ppms_peer_wait_message_match (PpmsPeer *peer, PpmsMessagePredicate pred, gpointer data,
                              guint timeout_ms)
{
  MessageWait wait = { peer, pred, data, NULL };
  JsonObject *msg;

  if (!ppms_wait_until (message_found, &wait, timeout_ms))
    return NULL;
  msg = wait.found->data;
  g_queue_delete_link (peer->inbox, wait.found);
  g_ptr_array_add (peer->consumed, msg);
  return msg;
}

static gboolean
body_contains (const JsonObject *msg, gpointer data)
{
  const char *bo = reply_string ((JsonObject *) msg, "bo");
  return bo != NULL && strstr (bo, data) != NULL;
}

const JsonObject *
ppms_peer_wait_message (PpmsPeer *peer, const char *text, guint timeout_ms)
{
  return ppms_peer_wait_message_match (peer, text ? body_contains : NULL, (gpointer) text,
                                       timeout_ms);
}

void
ppms_peer_watch_typing (PpmsPeer *peer, const char *conversation_uuid)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "typing_watch");
  json_object_set_string_member (frame, "conversation_uuid", conversation_uuid);
  peer_send_frame (peer, frame);
  json_object_unref (frame);
}

void
ppms_peer_send_typing (PpmsPeer *peer)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "typing");
  peer_send_frame (peer, frame);
  json_object_unref (frame);
}

typedef struct {
  PpmsPeer *peer;
  guint seen;
} TypingWait;

static gboolean
typing_arrived (gpointer data)
{
  TypingWait *wait = data;
  return wait->peer->typing > wait->seen;
}

gboolean
ppms_peer_wait_typing (PpmsPeer *peer, guint timeout_ms)
{
  TypingWait wait = { peer, peer->typing };

  /* A TYPING frame that already arrived and was not waited for counts. */
  if (peer->typing > 0) {
    peer->typing--;
    return TRUE;
  }
  if (!ppms_wait_until (typing_arrived, &wait, timeout_ms))
    return FALSE;
  peer->typing--;
  return TRUE;
}

char *
ppms_peer_create_s2s_sync (PpmsPeer *peer, const char *other_user_uuid,
                           const char *conversation_name, GError **error)
{
  JsonObject *body = json_object_new ();
  JsonArray *members = json_array_new ();
  JsonObject *reply;
  char *uuid;

  json_array_add_string_element (members, other_user_uuid);
  json_object_set_array_member (body, "member_list", members);
  json_object_set_string_member (body, "conversation_type", "S2S");
  json_object_set_string_member (body, "conversation_name", conversation_name);
  reply = peer_api_expect (peer, "PP_CREATE_CONVERSATION", body, 0, error);
  json_object_unref (body);
  if (reply == NULL)
    return NULL;
  uuid = g_strdup (reply_string (reply, "uuid"));
  if (uuid == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "PP_CREATE_CONVERSATION: no uuid");
  else
    peer_remember_conversation (peer, uuid, "S2S", peer->user_uuid);
  json_object_unref (reply);
  return uuid;
}

gboolean
ppms_peer_add_member_sync (PpmsPeer *peer, const char *conversation_uuid,
                           const char *user_uuid, GError **error)
{
  JsonObject *body = json_object_new ();
  JsonArray *members = json_array_new ();
  JsonObject *reply;

  json_array_add_string_element (members, user_uuid);
  json_object_set_string_member (body, "conversation_uuid", conversation_uuid);
  json_object_set_string_member (body, "action", "ADD");
  json_object_set_array_member (body, "member_list", members);
  reply = peer_api_expect (peer, "PP_UPDATE_CONVERSATION_MEMBER", body, 0, error);
  json_object_unref (body);
  if (reply == NULL)
    return FALSE;
  json_object_unref (reply);
  return TRUE;
}

void
ppms_peer_set_auto_reply (PpmsPeer *peer, PpmsAutoReply reply, gpointer data)
{
  peer->auto_reply = reply;
  peer->auto_reply_data = data;
}

/* ---- The demo's scripted visitor ---- */

static char *
demo_visitor_reply (PpmsPeer *peer, const JsonObject *msg, gpointer data)
{
  const char *ms = reply_string ((JsonObject *) msg, "ms");
  const char *bo = reply_string ((JsonObject *) msg, "bo");

  if (g_strcmp0 (ms, "TEXT") != 0 || bo == NULL)
    return g_strdup ("Thanks, I got your file.");
  if (strstr (bo, "?") != NULL)
    return g_strdup ("Order #1234, it has not arrived yet.");
  return g_strdup_printf ("You said: %s", bo);
}

PpmsPeer *
ppms_peer_start_demo_visitor (const char *server_url, const char *app_uuid,
                              const char *ppcom_key, const char *ppcom_secret,
                              const char *name, GError **error)
{
  PpmsPeer *peer;
  char *greeting;

  if (name != NULL) {
    char *email = g_strdup_printf ("%s@visitor.example", name);
    peer = ppms_peer_new_named_visitor (server_url, app_uuid, ppcom_key, ppcom_secret,
                                        email, name);
    g_free (email);
  } else {
    peer = ppms_peer_new_visitor (server_url, app_uuid, ppcom_key, ppcom_secret, NULL);
  }
  if (!ppms_peer_start_sync (peer, error)) {
    ppms_peer_free (peer);
    return NULL;
  }
  ppms_peer_set_auto_reply (peer, demo_visitor_reply, NULL);
  greeting = ppms_peer_send_text (peer, peer->conversation_uuid,
                                  "Hello! I have a question about my order.");
  g_free (greeting);
  return peer;
}
