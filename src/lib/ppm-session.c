/* ppm-session.c: the agent sign-in sequence (key discovery, token, login,
 * team, conversations and their members) and the websocket: opening,
 * authentication, the dispatch of server frames, and its repair when it is
 * lost after the sign-in.
 *
 * The conversation list is paged to its end (bounded by PPM_CONVERSATION_MAX);
 * a P2S item names its visitor (from_user), so members are only fetched for
 * the others, PPM_PARALLEL_REQUESTS at a time.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"
#include "ppm-discovery.h"

#include <glib/gi18n-lib.h>

enum {
  STEP_TOKEN,
  STEP_LOGIN,
  STEP_TEAM,
  STEP_CONVERSATIONS,
  STEP_SOCKET,
  STEP_CATCH_UP,
};

/* Agents on a desktop: "LIN" makes the login a browser-class one (4.3). */
#define AGENT_OSTYPE "LIN"

static void request_token (PpmClient *client);
static void request_login (PpmClient *client);
static void request_team (PpmClient *client);
static void request_conversation_page (PpmClient *client);
static void request_members (PpmClient *client);

/* ---- Key discovery and token ---- */

static void
on_key_discovered (const char *api_key, const char *api_secret, const GError *error,
                   gpointer data)
{
  PpmClient *client = data;

  if (!ppm_client_answer_usable (client, error))
    return;
  client->api_key = g_strdup (api_key);
  ppm_client_save_setting (client, "api_key", api_key);
  request_token (client);
}

void
ppm_session_start (PpmClient *client)
{
  if (client->api_key == NULL) {
    ppm_client_emit_progress (client, "Finding the API key", STEP_TOKEN);
    ppm_discovery_fetch_ppkefu (client->api,
                                client->sign_in_cancellable, on_key_discovered, client);
    return;
  }
  request_token (client);
}

static void
on_token (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  const char *token;

  if (!ppm_client_answer_usable (client, error))
    return;
  token = ppm_json_opt_nonempty (answer, "access_token");
  ppm_api_set_token (client->api, token);
  request_login (client);
}

static void
request_token (PpmClient *client)
{
  ppm_client_emit_progress (client, "Signing in", STEP_TOKEN);
  ppm_api_token_password (client->api, client->api_key, client->email, client->password,
                          client->sign_in_cancellable, on_token, client);
}

/* ---- PPKEFU_LOGIN ---- */

static gboolean
take_login_answer (PpmClient *client, JsonObject *answer, GError **error)
{
  const char *uuid, *device_uuid, *app_uuid;
  JsonObject *app;

  if (!ppm_json_get_string (answer, "uuid", &uuid, error) ||
      !ppm_json_get_string (answer, "browser_device_uuid", &device_uuid, error) ||
      !ppm_json_get_object (answer, "app", &app, error) ||
      !ppm_json_get_string (app, "uuid", &app_uuid, error))
    return FALSE;
  if (client->self == NULL) {
    client->self = g_new0 (PpmUser, 1);
    client->self->uuid = g_strdup (uuid);
  } else if (g_strcmp0 (client->self->uuid, uuid) != 0) {
    g_free (client->self->uuid);
    client->self->uuid = g_strdup (uuid);
  }
  client->self->is_service_user = TRUE;
  client->self->presence = PPM_PRESENCE_ONLINE;
  g_free (client->self->fullname);
  client->self->fullname = g_strdup (ppm_json_opt_nonempty (answer, "user_fullname")
                                       ?: client->email);
  g_free (client->self->email);
  client->self->email = g_strdup (ppm_json_opt_string (answer, "user_email") ?: client->email);
  g_free (client->self->icon_url);
  client->self->icon_url = g_strdup (ppm_json_opt_string (answer, "user_icon"));
  g_free (client->device_uuid);
  client->device_uuid = g_strdup (device_uuid);
  g_free (client->app_uuid);
  client->app_uuid = g_strdup (app_uuid);
  g_free (client->team_name);
  client->team_name = g_strdup (ppm_json_opt_string (app, "app_name"));
  return TRUE;
}

static void
on_login (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) local = NULL;

  if (ppm_error_is_cancelled (error))
    return;
  if (error && g_error_matches (error, PPM_ERROR, PPM_ERROR_API)) {
    gint64 code = ppm_json_opt_int (answer, "error_code", 0);

    /* 7: no such user; 13 and 40: not an agent of any team. */
    if (code == 7 || code == 13 || code == 40) {
      local = g_error_new (PPM_ERROR, PPM_ERROR_AUTH,
                           _("%s is not a service agent of any team on this server"),
                           client->email);
      ppm_client_fail (client, local);
      return;
    }
  }
  if (!ppm_client_answer_usable (client, error))
    return;
  if (!take_login_answer (client, answer, &local)) {
    ppm_client_fail_protocol (client, "PPKEFU_LOGIN", local);
    return;
  }
  g_debug ("signed in as user %s, device %s, app %s", client->self->uuid,
           client->device_uuid, client->app_uuid);
  if (client->connected_once)
    ppm_client_send_service_status (client);  /* the login reset it to READY */
  request_team (client);
}

static void
request_login (PpmClient *client)
{
  g_autoptr (JsonObject) body = json_object_new ();

  ppm_client_emit_progress (client, "Opening the session", STEP_LOGIN);
  json_object_set_string_member (body, "terminal", client->terminal);
  json_object_set_string_member (body, "user_email", client->email);
  json_object_set_string_member (body, "ostype", AGENT_OSTYPE);
  json_object_set_string_member (body, "device_fullname",
                                 client->device_name ? client->device_name
                                                     : "purple-ppmessage");
  ppm_api_call (client->api, "PPKEFU_LOGIN", body, client->sign_in_cancellable, on_login, client);
}

/* ---- Team ---- */

static void
on_team (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) local = NULL;
  JsonArray *list;

  if (!ppm_client_answer_usable (client, error))
    return;
  if (!ppm_json_get_array (answer, "list", &list, &local)) {
    ppm_client_fail_protocol (client, "PP_GET_APP_SERVICE_USER_LIST", local);
    return;
  }
  ppm_client_apply_team_list (client, list);
  client->conversation_page = 0;
  g_ptr_array_set_size (client->listed, 0);
  g_ptr_array_set_size (client->member_targets, 0);
  request_conversation_page (client);
}

static void
request_team (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_client_request_body (client);

  ppm_client_emit_progress (client, "Loading the team", STEP_TEAM);
  ppm_api_call (client->api, "PP_GET_APP_SERVICE_USER_LIST", body, client->sign_in_cancellable,
                on_team, client);
}

/* ---- Conversations ---- */

/* A P2S item names its visitor (from_user, the creator): the members need
 * not be fetched. Returns FALSE when they must be. */
static gboolean
take_visitor_of_item (PpmClient *client, PpmConv *conv, JsonObject *item)
{
  JsonObject *from = ppm_json_opt_object (item, "from_user");
  const char *uuid = from ? ppm_json_opt_nonempty (from, "uuid") : NULL;
  const PpmUser *known;
  PpmUser *user;

  if (g_strcmp0 (conv->pub.type, "P2S") != 0 || uuid == NULL ||
      g_strcmp0 (uuid, conv->creator_uuid) != 0 || client->self == NULL ||
      g_strcmp0 (uuid, client->self->uuid) == 0)
    return FALSE;
  known = ppm_client_lookup_user (client, uuid);
  if (known && known->is_service_user)
    return FALSE;               /* not a visitor: ask who is */
  user = ppm_client_user_from_json (client, from, FALSE);
  if (user == NULL)
    return FALSE;
  if (known == NULL)
    ppm_client_user_emit (client, user);
  if (conv->pub.member_uuids->len == 0) {
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (uuid));
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (client->self->uuid));
  }
  ppm_client_conv_emit (client, conv);
  return TRUE;
}

/* The latest message of a list item: latest_message, else latest_task. */
static const char *
latest_of_item (JsonObject *item)
{
  JsonObject *latest = ppm_json_opt_object (item, "latest_message");
  const char *uuid = latest ? ppm_json_opt_nonempty (latest, "uuid") : NULL;

  return uuid ? uuid : ppm_json_opt_nonempty (item, "latest_task");
}

static void
take_conversation_item (PpmClient *client, JsonObject *item)
{
  const char *uuid = ppm_json_opt_nonempty (item, "uuid");
  JsonObject *data = ppm_json_opt_object (item, "conversation_data");
  const char *name;
  PpmConv *conv;

  if (uuid == NULL)
    return;
  conv = ppm_client_conv_ensure (client, uuid);
  g_free (conv->pub.type);
  conv->pub.type = g_strdup (ppm_json_opt_nonempty (item, "conversation_type") ?: "P2S");
  g_free (conv->creator_uuid);
  conv->creator_uuid = g_strdup (ppm_json_opt_nonempty (item, "user_uuid"));
  g_free (conv->assigned_uuid);
  conv->assigned_uuid = g_strdup (ppm_json_opt_nonempty (item, "assigned_uuid"));
  name = data ? ppm_json_opt_nonempty (data, "conversation_name") : NULL;
  if (name == NULL)
    name = ppm_json_opt_nonempty (item, "conversation_name");
  if (name && conv->pub.name == NULL)
    conv->pub.name = g_strdup (name);
  g_free (conv->latest_message_uuid);
  conv->latest_message_uuid = g_strdup (latest_of_item (item));
  conv->pub.is_open = TRUE;
  g_ptr_array_add (client->listed, g_strdup (uuid));
  if (!take_visitor_of_item (client, conv, item))
    g_ptr_array_add (client->member_targets, g_strdup (uuid));
}

static void
on_conversation_page (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) local = NULL;
  JsonArray *list;
  guint length;
  gint64 total;

  if (!ppm_client_answer_usable (client, error))
    return;
  if (!ppm_json_get_array (answer, "list", &list, &local)) {
    ppm_client_fail_protocol (client, "PP_PAGE_USER_CONVERSATION", local);
    return;
  }
  length = json_array_get_length (list);
  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);

    if (item)
      take_conversation_item (client, item);
  }
  total = ppm_json_opt_int (answer, "total_count", -1);
  client->conversation_page++;
  /* A short (or empty) page, or the total reached: the end of the list. */
  client->listed_complete = length < PPM_CONVERSATION_PAGE_SIZE ||
                            (total >= 0 && client->listed->len >= (guint64) total);
  if (!client->listed_complete && client->listed->len < PPM_CONVERSATION_MAX) {
    request_conversation_page (client);
    return;
  }
  if (!client->listed_complete)
    g_debug ("more than %d open conversations: the list is not taken as complete",
             PPM_CONVERSATION_MAX);
  client->member_next = 0;
  client->members_in_flight = 0;
  request_members (client);
}

static void
request_conversation_page (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_client_request_body (client);

  if (client->conversation_page == 0)
    ppm_client_emit_progress (client, "Loading the conversations", STEP_CONVERSATIONS);
  json_object_set_int_member (body, "page_offset", client->conversation_page);
  json_object_set_int_member (body, "page_size", PPM_CONVERSATION_PAGE_SIZE);
  ppm_api_call (client->api, "PP_PAGE_USER_CONVERSATION", body, client->sign_in_cancellable,
                on_conversation_page, client);
}

static void
finish_conversations (PpmClient *client)
{
  g_autoptr (GPtrArray) open = g_ptr_array_new ();
  GHashTableIter iter;
  PpmConv *conv;
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < client->listed->len; i++)
    g_hash_table_add (listed, client->listed->pdata[i]);
  /* Newest first in the list: give the first the highest activity. */
  for (guint i = client->listed->len; i > 0; i--) {
    conv = g_hash_table_lookup (client->conversations, client->listed->pdata[i - 1]);
    if (conv)
      ppm_client_conv_touch (client, conv);
  }
  client->list_fresh = TRUE;
  /* A list cut short says nothing about the conversations beyond it. */
  if (!client->listed_complete) {
    ppm_session_open_socket (client);
    return;
  }
  g_hash_table_iter_init (&iter, client->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conv)) {
    if (!g_hash_table_contains (listed, conv->pub.uuid) && conv->pub.is_open) {
      conv->pub.is_open = FALSE;
      ppm_client_conv_emit (client, conv);
    }
  }
  /* A conversation can be listed twice when the list moves between pages. */
  g_hash_table_remove_all (listed);
  for (guint i = 0; i < client->listed->len; i++) {
    conv = g_hash_table_lookup (client->conversations, client->listed->pdata[i]);
    if (conv && g_hash_table_add (listed, conv->pub.uuid))
      g_ptr_array_add (open, &conv->pub);
  }
  if (client->events.conversations_synced)
    client->events.conversations_synced (client->user_data, open);
  ppm_session_open_socket (client);
}

/* One PP_GET_CONVERSATION_USER_LIST in flight. */
typedef struct {
  PpmClient *client;
  char *uuid;
} MembersCall;

static void
on_members (JsonObject *answer, const GError *error, gpointer data)
{
  MembersCall *call = data;
  PpmClient *client = call->client;
  g_autofree char *uuid = call->uuid;
  PpmConv *conv;

  g_free (call);
  if (ppm_error_is_cancelled (error))
    return;
  client->members_in_flight--;
  conv = ppm_client_conv_ensure (client, uuid);
  if (error)
    g_debug ("members of %s unknown: %s", uuid, error->message);
  else
    ppm_client_conv_set_members (client, conv, ppm_json_opt_array (answer, "list"));
  ppm_client_conv_emit (client, conv);
  request_members (client);
}

/* Keeps up to PPM_PARALLEL_REQUESTS member look-ups in flight; when all
 * are answered, the conversations are complete. */
static void
request_members (PpmClient *client)
{
  while (client->members_in_flight < PPM_PARALLEL_REQUESTS &&
         client->member_next < client->member_targets->len) {
    g_autoptr (JsonObject) body = ppm_client_request_body (client);
    MembersCall *call = g_new0 (MembersCall, 1);

    call->client = client;
    call->uuid = g_strdup (client->member_targets->pdata[client->member_next++]);
    json_object_set_string_member (body, "conversation_uuid", call->uuid);
    client->members_in_flight++;
    ppm_api_call (client->api, "PP_GET_CONVERSATION_USER_LIST", body,
                  client->sign_in_cancellable, on_members, call);
  }
  if (client->members_in_flight == 0 && client->member_next >= client->member_targets->len)
    finish_conversations (client);
}

/* ---- The websocket ---- */

static void
handle_auth_ack (PpmClient *client, const PpmFrame *frame)
{
  g_autoptr (GError) error = NULL;

  if (frame->code != 0) {
    /* 8, 9, 10: no, an unknown or an unfit token (6.5). Mid-session (say
     * the server lost its tokens) a fresh sign-in repairs it. */
    gboolean token = frame->code == 8 || frame->code == 9 || frame->code == 10;
    int code = !client->connected_once ? PPM_ERROR_AUTH
               : token ? PPM_ERROR_TOKEN_REFUSED : PPM_ERROR_PROTOCOL;

    error = g_error_new (PPM_ERROR, code,
                         _("The server refused the session (%s, code %lld)"),
                         frame->reason ? frame->reason : _("no reason given"),
                         (long long) frame->code);
    ppm_client_fail (client, error);
    return;
  }
  if (client->ws_authenticated)
    return;
  g_clear_handle_id (&client->auth_timeout_id, g_source_remove);
  client->ws_authenticated = TRUE;
  g_debug ("websocket authenticated");
  ppm_send_rewatch_typing (client);
  /* The queued sends go after the catch-up (ppm-sync.c), in order. */
  ppm_client_emit_progress (client, "Fetching missed messages", STEP_CATCH_UP);
  ppm_sync_start_catch_up (client);
}

static void
handle_typing (PpmClient *client, const PpmFrame *frame)
{
  if (client->self && g_strcmp0 (frame->user_uuid, client->self->uuid) == 0)
    return;
  if (client->events.typing)
    client->events.typing (client->user_data, frame->conversation_uuid, frame->user_uuid);
}

static void
handle_online (PpmClient *client, const PpmFrame *frame)
{
  PpmUser *user = g_hash_table_lookup (client->users, frame->user_uuid);
  PpmPresence presence;

  /* Visitors and agents alike: an ONLINE frame is the server's word (05b). */
  if (user == NULL)
    return;
  if (g_strcmp0 (frame->browser, "ONLINE") == 0 || g_strcmp0 (frame->mobile, "ONLINE") == 0)
    presence = PPM_PRESENCE_ONLINE;
  else if (g_strcmp0 (frame->browser, "OFFLINE") == 0 ||
           g_strcmp0 (frame->mobile, "OFFLINE") == 0)
    presence = PPM_PRESENCE_OFFLINE;
  else
    return;
  if (presence != user->presence) {
    user->presence = presence;
    ppm_client_user_emit (client, user);
  }
}

static void
on_ws_frame (gpointer data, JsonObject *object)
{
  PpmClient *client = data;
  g_autoptr (GError) error = NULL;
  PpmFrame frame;

  if (!ppm_ws_parse_frame (object, &frame, &error)) {
    g_debug ("ignoring a malformed frame: %s", error->message);
    return;
  }
  switch (frame.kind) {
  case PPM_FRAME_ACK:
    if (g_ascii_strcasecmp (frame.what, "AUTH") == 0)
      handle_auth_ack (client, &frame);
    else if (g_ascii_strcasecmp (frame.what, "SEND") == 0)
      ppm_send_handle_ack (client, frame.extra_uuid, frame.code, frame.reason);
    else
      g_debug ("server ACK %s code %" G_GINT64_FORMAT ": %s", frame.what, frame.code,
               frame.reason ? frame.reason : "");
    break;
  case PPM_FRAME_MSG:
    ppm_sync_handle_push (client, frame.msg);
    break;
  case PPM_FRAME_TYPING:
    handle_typing (client, &frame);
    break;
  case PPM_FRAME_ONLINE:
    handle_online (client, &frame);
    break;
  case PPM_FRAME_OTHER:
    g_debug ("ignoring a frame of type %s", frame.type);
    break;
  }
}

static gboolean
on_auth_timeout (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                                                  _("The server did not accept the session "
                                                    "in time"));

  client->auth_timeout_id = 0;
  ppm_client_fail (client, error);
  return G_SOURCE_REMOVE;
}

/* Mandatory for visitors. PPCom's shape: a top-level "href" would make the
 * server drop the socket (bug 4), so it stays inside "location". */
static JsonObject *
visitor_extra_data (PpmClient *client)
{
  JsonObject *extra = json_object_new ();
  JsonObject *location = json_object_new ();

  json_object_set_string_member (location, "href", ppm_api_get_base_url (client->api));
  json_object_set_string_member (extra, "title",
                                 client->device_name ? client->device_name : "purple-ppmessage");
  json_object_set_object_member (extra, "location", location);
  return extra;
}

static void
on_ws_opened (gpointer data)
{
  PpmClient *client = data;
  gboolean agent = client->role == PPM_ROLE_AGENT;
  g_autoptr (JsonObject) extra = agent ? NULL : visitor_extra_data (client);
  g_autoptr (JsonObject) auth = ppm_ws_auth_frame (ppm_api_get_token (client->api),
                                                   client->app_uuid, client->self->uuid,
                                                   client->device_uuid, agent, extra);

  ppm_ws_send (client->ws, auth);
  client->auth_timeout_id = g_timeout_add (client->request_timeout_ms, on_auth_timeout, client);
}

static void
on_ws_closed (gpointer data, const GError *error)
{
  PpmClient *client = data;

  client->ws_authenticated = FALSE;
  g_clear_handle_id (&client->auth_timeout_id, g_source_remove);
  ppm_client_fail (client, error);
}

void
ppm_session_close_socket (PpmClient *client)
{
  g_clear_pointer (&client->ws, ppm_ws_free);
  client->ws_authenticated = FALSE;
  ppm_send_stop_watchdog (client);
}

void
ppm_session_open_socket (PpmClient *client)
{
  static const PpmWsEvents events = {
    .opened = on_ws_opened,
    .frame = on_ws_frame,
    .closed = on_ws_closed,
  };
  g_autofree char *url = ppm_api_get_ws_url (client->api);

  ppm_client_emit_progress (client, "Connecting to the server", STEP_SOCKET);
  ppm_session_close_socket (client);
  client->ws = ppm_ws_new (ppm_api_get_session (client->api), url, &events, client);
  if (client->keepalive_seconds > 0)
    ppm_ws_set_keepalive (client->ws, client->keepalive_seconds);
  ppm_ws_connect (client->ws, client->request_timeout_ms);
}

gboolean
ppm_session_send_frame (PpmClient *client, JsonObject *frame)
{
  return client->ws_authenticated && ppm_ws_send (client->ws, frame);
}
