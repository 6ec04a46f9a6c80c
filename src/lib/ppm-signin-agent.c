/* ppm-signin-agent.c: the agent (PPKefu) sign-in sequence: key
 * discovery, token, login, team, conversations and their members; then
 * the owner opens the socket.
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

/* Agents on a desktop: "LIN" makes the login a browser-class one
 * (PPKEFU_LOGIN in the protocol document). */
#define AGENT_OSTYPE "LIN"

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
  ppm_signin_next (client);
}

static gboolean
key_unknown (PpmClient *client)
{
  return client->api_key == NULL;
}

static void
discover_key (PpmClient *client)
{
  ppm_discovery_fetch_ppkefu (client->api, client->sign_in_cancellable, on_key_discovered,
                              client);
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
  ppm_signin_next (client);
}

static void
request_token (PpmClient *client)
{
  ppm_api_token_password (client->api, client->api_key, client->email, client->password,
                          client->sign_in_cancellable, on_token, client);
}

/* ---- PPKEFU_LOGIN ---- */

static gboolean
take_login_answer (PpmClient *client, JsonObject *answer, GError **error)
{
  const char *uuid, *device_uuid, *app_uuid;
  JsonObject *app;
  PpmUser *self;

  if (!ppm_json_get_string (answer, "uuid", &uuid, error) ||
      !ppm_json_get_string (answer, "browser_device_uuid", &device_uuid, error) ||
      !ppm_json_get_object (answer, "app", &app, error) ||
      !ppm_json_get_string (app, "uuid", &app_uuid, error))
    return FALSE;
  self = ppm_registry_set_self (&client->registry, uuid);
  self->is_service_user = TRUE;
  self->presence = PPM_PRESENCE_ONLINE;
  g_free (self->fullname);
  self->fullname = g_strdup (ppm_json_opt_nonempty (answer, "user_fullname") ?: client->email);
  g_free (self->email);
  self->email = g_strdup (ppm_json_opt_string (answer, "user_email") ?: client->email);
  g_free (self->icon_url);
  self->icon_url = g_strdup (ppm_json_opt_string (answer, "user_icon"));
  ppm_client_set_identity (client, app_uuid, device_uuid);
  g_free (client->team_name);
  client->team_name = g_strdup (ppm_json_opt_string (app, "app_name"));
  g_free (client->team_icon);
  client->team_icon = g_strdup (ppm_json_opt_nonempty (app, "app_icon"));
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
  g_debug ("signed in as user %s, device %s, app %s", client->registry.self->uuid,
           client->device_uuid, client->app_uuid);
  if (ppm_client_was_connected (client))
    ppm_client_send_service_status (client);  /* the login reset it to READY */
  ppm_signin_next (client);
}

static void
request_login (PpmClient *client)
{
  g_autoptr (JsonObject) body = json_object_new ();

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
  ppm_registry_apply_team_list (&client->registry, list);
  ppm_signin_next (client);
}

static void
request_team (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  ppm_api_call (client->api, "PP_GET_APP_SERVICE_USER_LIST", body, client->sign_in_cancellable,
                on_team, client);
}

/* ---- Conversations ---- */

/* A P2S item names its visitor (from_user, the creator): the members need
 * not be fetched. Returns FALSE when they must be. */
static gboolean
take_visitor_of_item (PpmClient *client, PpmConv *conv, JsonObject *item)
{
  PpmRegistry *registry = &client->registry;
  JsonObject *from = ppm_json_opt_object (item, "from_user");
  const char *uuid = from ? ppm_json_opt_nonempty (from, "uuid") : NULL;
  const PpmUser *known;
  PpmUser *user;

  if (g_strcmp0 (conv->pub.type, "P2S") != 0 || uuid == NULL ||
      g_strcmp0 (uuid, conv->creator_uuid) != 0 || registry->self == NULL ||
      g_strcmp0 (uuid, registry->self->uuid) == 0)
    return FALSE;
  known = ppm_registry_lookup_user (registry, uuid);
  if (known && known->is_service_user)
    return FALSE;               /* not a visitor: ask who is */
  user = ppm_registry_user_from_json (registry, from, FALSE);
  if (user == NULL)
    return FALSE;
  if (known == NULL)
    ppm_registry_user_emit (registry, user);
  if (conv->pub.member_uuids->len == 0) {
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (uuid));
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (registry->self->uuid));
  }
  ppm_registry_conv_emit (registry, conv);
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
  PpmConv *conv = ppm_registry_take_conversation (&client->registry, uuid, item, "P2S");

  if (conv == NULL)
    return;
  g_free (conv->latest_message_uuid);
  conv->latest_message_uuid = g_strdup (latest_of_item (item));
  /* An item's own conversation_name is the one given at creation: a
   * group's name (PPMESSAGE-PROTOCOL.md section 4.8). */
  g_free (conv->group_name);
  conv->group_name = g_strdup (ppm_json_opt_nonempty (item, "conversation_name"));
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
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  json_object_set_int_member (body, "page_offset", client->conversation_page);
  json_object_set_int_member (body, "page_size", PPM_CONVERSATION_PAGE_SIZE);
  ppm_api_call (client->api, "PP_PAGE_USER_CONVERSATION", body, client->sign_in_cancellable,
                on_conversation_page, client);
}

static void
finish_conversations (PpmClient *client)
{
  PpmRegistry *registry = &client->registry;
  g_autoptr (GPtrArray) open = g_ptr_array_new ();
  GHashTableIter iter;
  PpmConv *conv;
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < client->listed->len; i++)
    g_hash_table_add (listed, client->listed->pdata[i]);
  /* Newest first in the list: give the first the highest activity. */
  for (guint i = client->listed->len; i > 0; i--) {
    conv = ppm_registry_lookup_conv (registry, client->listed->pdata[i - 1]);
    if (conv)
      ppm_registry_conv_touch (registry, conv);
  }
  registry->list_fresh = TRUE;
  /* A list cut short says nothing about the conversations beyond it. */
  if (!client->listed_complete) {
    ppm_signin_next (client);
    return;
  }
  g_hash_table_iter_init (&iter, registry->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conv)) {
    if (!g_hash_table_contains (listed, conv->pub.uuid) && conv->pub.is_open) {
      conv->pub.is_open = FALSE;
      ppm_registry_conv_emit (registry, conv);
    }
  }
  /* The whole list is known: the last seen messages of conversations
   * closed long ago are forgotten. */
  ppm_last_seen_prune (&client->last_seen, listed);
  /* A conversation can be listed twice when the list moves between pages. */
  g_hash_table_remove_all (listed);
  for (guint i = 0; i < client->listed->len; i++) {
    conv = ppm_registry_lookup_conv (registry, client->listed->pdata[i]);
    if (conv && g_hash_table_add (listed, conv->pub.uuid))
      g_ptr_array_add (open, &conv->pub);
  }
  ppm_client_emit_synced (client, open);
  ppm_signin_next (client);
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
  conv = ppm_registry_conv_ensure (&client->registry, uuid);
  if (error)
    g_debug ("members of %s unknown: %s", uuid, error->message);
  else
    ppm_registry_conv_set_members (&client->registry, conv, ppm_json_opt_array (answer, "list"));
  ppm_registry_conv_emit (&client->registry, conv);
  request_members (client);
}

/* Keeps up to PPM_PARALLEL_REQUESTS member look-ups in flight; when all
 * are answered, the conversations are complete. */
static void
request_members (PpmClient *client)
{
  while (client->members_in_flight < PPM_PARALLEL_REQUESTS &&
         client->member_next < client->member_targets->len) {
    g_autoptr (JsonObject) body = ppm_api_new_body (client->api);
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

static void
request_conversations (PpmClient *client)
{
  client->conversation_page = 0;
  g_ptr_array_set_size (client->listed, 0);
  g_ptr_array_set_size (client->member_targets, 0);
  request_conversation_page (client);
}

static const PpmSignInStep agent_steps[] = {
  { N_("Finding the API key"), key_unknown, discover_key },
  { N_("Signing in"), NULL, request_token },
  { N_("Opening the session"), NULL, request_login },
  { N_("Loading the team"), NULL, request_team },
  { N_("Loading the conversations"), NULL, request_conversations },
};

void
ppm_signin_agent_start (PpmClient *client)
{
  ppm_signin_run (client, agent_steps, G_N_ELEMENTS (agent_steps));
}
