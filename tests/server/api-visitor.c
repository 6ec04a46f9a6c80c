/* api-visitor.c: the visitor (PPCom) endpoints: anonymous and named
 * visitors, devices, the default conversation through the distributor (AMD)
 * queue, PPCOM_CREATE_CONVERSATION and PP_GET_APP_INFO.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

#define ANONYMOUS_NAME "Unknown Area.User"

typedef struct {
  char *user_uuid;
  char *device_uuid;
} AmdRequest;

static void
amd_request_free (gpointer data)
{
  AmdRequest *r = data;
  g_free (r->user_uuid);
  g_free (r->device_uuid);
  g_free (r);
}

static void
replace (char **field, const char *value)
{
  char *copy = g_strdup (value);
  g_free (*field);
  *field = copy;
}

PpmsConversation *
ppms_user_latest_conversation (PpmsServer *server, const char *user_uuid)
{
  const GArray *memberships = ppms_user_memberships (server, user_uuid);
  PpmsConversation *best = NULL;

  for (guint i = 0; memberships != NULL && i < memberships->len; i++)
    {
      PpmsConversation *c = g_array_index (memberships, PpmsMembership, i).conv;
      if (best == NULL || c->updatetime > best->updatetime)
        best = c;
    }
  return best;
}

static gboolean
wrong_app (PpmsApiCall *call)
{
  if (g_strcmp0 (ppms_json_get_string (call->body, "app_uuid"), call->server->app->uuid) == 0)
    return FALSE;
  call->error_code = PPMS_ERR_NO_APP;
  return TRUE;
}

static void
create_anonymous (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *trace;
  PpmsUser *u;

  if (!ppms_call_require (call, "ppcom_trace_uuid", NULL))
    return;
  trace = ppms_call_string (call, "ppcom_trace_uuid");
  if ((u = ppms_user_lookup_by_trace (server, trace)) != NULL)
    {
      json_object_set_string_member (call->reply, "user_uuid", u->uuid);
      ppms_json_set_string_or_null (call->reply, "user_email", u->user_email);
      ppms_json_set_string_or_null (call->reply, "user_fullname", u->user_fullname);
      ppms_json_set_string_or_null (call->reply, "user_icon", u->user_icon);
      ppms_json_set_string_or_null (call->reply, "user_status", u->user_status);
      return;
    }
  u = g_new0 (PpmsUser, 1);
  u->uuid = ppms_uuid_new ();
  u->user_email = g_strdup_printf ("%.6s@%.6s", u->uuid, server->app->uuid);
  u->user_name = g_strdup (ANONYMOUS_NAME);
  u->user_fullname = g_strdup (ANONYMOUS_NAME);
  u->user_icon = ppms_identicon_url (server, u->uuid);
  u->user_status = g_strdup ("ANONYMOUS");
  u->is_anonymous_user = TRUE;
  u->ppcom_trace_uuid = g_strdup (trace);
  u->createtime = u->updatetime = g_get_real_time ();
  ppms_store_add_user (server, u);
  json_object_set_string_member (call->reply, "user_uuid", u->uuid);
  json_object_set_string_member (call->reply, "user_fullname", u->user_fullname);
  json_object_set_string_member (call->reply, "user_email", u->user_email);
  json_object_set_string_member (call->reply, "user_name", u->user_name);
  json_object_set_string_member (call->reply, "user_icon", u->user_icon);
}

static void
get_user_uuid (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *email, *fullname, *icon;
  PpmsUser *u;

  if (!ppms_call_require (call, "user_email", NULL))
    return;
  email = ppms_call_string (call, "user_email");
  if ((u = ppms_user_lookup_by_email (server, email)) != NULL)
    {
      if (u->is_service_user)
        call->error_code = PPMS_ERR_NOT_PORTAL;
      else
        json_object_set_string_member (call->reply, "user_uuid", u->uuid);
      return;
    }
  fullname = ppms_call_string (call, "user_fullname");
  icon = ppms_call_string (call, "user_icon");
  u = g_new0 (PpmsUser, 1);
  u->uuid = ppms_uuid_new ();
  u->user_email = g_strdup (email);
  u->user_name = g_strdup (email);
  u->user_fullname = fullname ? g_strdup (fullname) : g_strndup (email, strcspn (email, "@"));
  u->user_icon = icon ? g_strdup (icon) : ppms_identicon_url (server, email);
  u->user_status = g_strdup ("THIRDPARTY");
  u->createtime = u->updatetime = g_get_real_time ();
  ppms_store_add_user (server, u);
  json_object_set_string_member (call->reply, "user_uuid", u->uuid);
}

static void
create_device (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *terminal, *ostype;
  PpmsUser *user;
  PpmsDevice *d;
  gboolean mobile;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", "device_ostype", NULL))
    return;
  terminal = ppms_call_string (call, "ppcom_trace_uuid");
  if (terminal == NULL)
    terminal = ppms_call_string (call, "device_id");
  if (terminal == NULL)
    {
      call->error_code = PPMS_ERR_NO_PARA;
      return;
    }
  ostype = ppms_call_string (call, "device_ostype");
  mobile = g_str_equal (ostype, "AND") || g_str_equal (ostype, "IOS");
  user = ppms_user_lookup (server, ppms_call_string (call, "user_uuid"));
  if ((d = ppms_device_lookup_by_terminal (server, terminal)) != NULL)
    call->error_code = PPMS_ERR_EX_DEVICE;   /* the device's own user_uuid is kept */
  else
    {
      d = g_new0 (PpmsDevice, 1);
      d->uuid = ppms_uuid_new ();
      d->terminal_uuid = g_strdup (terminal);
      d->user_uuid = g_strdup (ppms_call_string (call, "user_uuid"));
      d->app_uuid = g_strdup (ppms_call_string (call, "app_uuid"));
      d->device_ostype = g_strdup (ostype);
      d->is_ppcom_device = TRUE;
      d->createtime = d->updatetime = g_get_real_time ();
      ppms_store_add_device (server, d);
    }
  if (user != NULL)
    replace (mobile ? &user->ppcom_mobile_device_uuid : &user->ppcom_browser_device_uuid, d->uuid);
  json_object_set_string_member (call->reply, "device_uuid", d->uuid);
}

static void
update_device (PpmsApiCall *call)
{
  static const char *const columns[] = {
    "terminal_uuid", "user_uuid", "app_uuid", "device_ostype", "device_osversion",
    "device_fullname", "device_ios_model", "device_phonenumber", "device_android_apilevel",
    "device_ios_token", "device_android_gcmtoken", "device_android_jpush_registrationid",
    "device_is_online", "is_ppcom_device", "is_development", "api_session_uuid", NULL
  };
  PpmsDevice *d;
  gboolean updated = FALSE;

  if (!ppms_call_require (call, "device_uuid", NULL))
    return;
  if ((d = ppms_device_lookup (call->server, ppms_call_string (call, "device_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_GENERIC_UPDATE;
      return;
    }
  for (guint i = 0; columns[i]; i++)
    {
      JsonNode *value = json_object_get_member (call->body, columns[i]);
      if (value == NULL)
        continue;
      if (g_str_equal (columns[i], "terminal_uuid") && d->terminal_uuid)
        g_hash_table_remove (call->server->devices_by_terminal, d->terminal_uuid);
      ppms_device_set_column (d, columns[i], value);
      if (g_str_equal (columns[i], "terminal_uuid") && d->terminal_uuid)
        g_hash_table_replace (call->server->devices_by_terminal, g_strdup (d->terminal_uuid), d);
      updated = TRUE;
    }
  if (!updated)
    call->error_code = PPMS_ERR_GENERIC_UPDATE;
  else if (d->is_online && d->is_ppcom_device && json_object_has_member (call->body, "app_uuid"))
    /* Saving the device with app_uuid writes the online-visitor index. */
    g_hash_table_add (call->server->online_portal_index, g_strdup (d->uuid));
}

/* ---- The default conversation and the distributor ---- */

static gint
by_updatetime_desc (gconstpointer a, gconstpointer b)
{
  const PpmsUser *ua = *(PpmsUser **) a, *ub = *(PpmsUser **) b;
  return ua->updatetime > ub->updatetime ? -1 : ua->updatetime < ub->updatetime;
}

static JsonArray *
other_members (PpmsServer *server, PpmsConversation *c, const char *self)
{
  g_autoptr (GPtrArray) users = g_ptr_array_new ();
  JsonArray *list = json_array_new ();

  for (guint i = 0; i < c->members->len; i++)
    {
      PpmsMember *m = g_ptr_array_index (c->members, i);
      PpmsUser *u = ppms_user_lookup (server, m->user_uuid);
      if (u != NULL && g_strcmp0 (u->uuid, self) != 0)
        g_ptr_array_add (users, u);
    }
  g_ptr_array_sort (users, by_updatetime_desc);
  for (guint i = 0; i < users->len; i++)
    {
      PpmsUser *u = g_ptr_array_index (users, i);
      JsonObject *item = ppms_user_to_list_item (server, u);
      json_object_set_int_member (item, "updatetime", ppms_epoch_seconds (u->updatetime));
      json_array_add_object_element (list, item);
    }
  return list;
}

static void
answer_default_conversation (PpmsApiCall *call, PpmsConversation *c, const char *user_uuid)
{
  PpmsServer *server = call->server;
  g_autoptr (JsonObject) conv = NULL;
  GList *members;

  if (c->members->len == 0)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION_MEMBER;
      return;
    }
  json_object_set_string_member (call->reply, "app_name", server->app->app_name);
  ppms_json_set_string_or_null (call->reply, "app_welcome", server->app->welcome_message);
  conv = ppms_conversation_to_json (c, ppms_conversation_find_member (c, user_uuid));
  members = json_object_get_members (conv);
  for (GList *l = members; l; l = l->next)
    json_object_set_member (call->reply, l->data, json_node_copy (json_object_get_member (conv, l->data)));
  g_list_free (members);
  json_object_set_array_member (call->reply, "user_list", other_members (server, c, user_uuid));
}

static gboolean
amd_queued (PpmsServer *server, const char *user_uuid, const char *device_uuid)
{
  for (GList *l = server->distributor_queue; l; l = l->next)
    {
      AmdRequest *r = l->data;
      if (g_str_equal (r->user_uuid, user_uuid) && g_strcmp0 (r->device_uuid, device_uuid) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
get_default_conversation (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *user_uuid, *device_uuid;
  PpmsConversation *c;
  AmdRequest *r;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", "device_uuid", NULL) || wrong_app (call))
    return;
  user_uuid = ppms_call_string (call, "user_uuid");
  device_uuid = ppms_call_string (call, "device_uuid");
  if ((c = ppms_user_latest_conversation (server, user_uuid)) != NULL)
    {
      answer_default_conversation (call, c, user_uuid);
      return;
    }
  if (amd_queued (server, user_uuid, device_uuid))
    return;
  r = g_new0 (AmdRequest, 1);
  r->user_uuid = g_strdup (user_uuid);
  r->device_uuid = g_strdup (device_uuid);
  server->distributor_queue = g_list_append (server->distributor_queue, r);
  g_hash_table_replace (server->amd_results, g_strdup (user_uuid), g_strdup ("WAITING"));
}

/* "<url>/identicon/identicon/<sha1 of the member uuids>.png", or the
 * single member's own icon. */
static char *
group_icon (PpmsServer *server, GPtrArray *agents)
{
  g_autoptr (GString) seed = g_string_new (NULL);
  g_autofree char *hash = NULL;

  if (agents->len == 1)
    return g_strdup (((PpmsUser *) g_ptr_array_index (agents, 0))->user_icon);
  for (guint i = 0; i < agents->len; i++)
    g_string_append (seed, ((PpmsUser *) g_ptr_array_index (agents, i))->uuid);
  hash = ppms_sha1_hex (seed->str);
  return g_strdup_printf ("%s/identicon/identicon/%s.png", ppms_server_base (server), hash);
}

static void
distribute (PpmsServer *server, AmdRequest *r)
{
  g_autoptr (GPtrArray) agents = ppms_service_users (server);
  PpmsUser *visitor = ppms_user_lookup (server, r->user_uuid);
  g_autoptr (GString) names = g_string_new (NULL);
  g_autofree char *icon = NULL;
  PpmsConversation *c;

  if (agents->len == 0 || visitor == NULL)
    {
      /* BUG 20: the request is lost. */
      g_hash_table_replace (server->amd_results, g_strdup (r->user_uuid), g_strdup ("ERROR"));
      return;
    }
  if (ppms_user_latest_conversation (server, r->user_uuid) == NULL)
    {
      c = ppms_conversation_new (server, "P2S", visitor->uuid);
      if (agents->len == 1)
        c->assigned_uuid = g_strdup (((PpmsUser *) g_ptr_array_index (agents, 0))->uuid);
      for (guint i = 0; i < agents->len; i++)
        {
          PpmsUser *agent = g_ptr_array_index (agents, i);
          ppms_conversation_add_member (c, agent->uuid, visitor->user_fullname, visitor->user_icon);
          g_string_append_printf (names, "%s%s", i ? "," : "", agent->user_fullname ? agent->user_fullname : "");
        }
      icon = group_icon (server, agents);
      ppms_conversation_add_member (c, visitor->uuid, names->str, icon);
    }
  g_hash_table_replace (server->amd_results, g_strdup (r->user_uuid), g_strdup ("SUCCESS"));
}

static gboolean
distributor_tick (gpointer data)
{
  PpmsServer *server = data;
  GList *queue = server->distributor_queue;

  server->distributor_queue = NULL;
  for (GList *l = queue; l; l = l->next)
    distribute (server, l->data);
  g_list_free_full (queue, amd_request_free);
  return G_SOURCE_CONTINUE;
}

void
ppms_distributor_start (PpmsServer *server)
{
  if (server->distributor_source == 0)
    server->distributor_source = g_timeout_add (ppms_server_scaled_ms (server, 1000), distributor_tick, server);
}

void
ppms_distributor_stop (PpmsServer *server)
{
  if (server->distributor_source != 0)
    g_source_remove (server->distributor_source);
  server->distributor_source = 0;
}

static void
get_amd_queue_length (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *user_uuid, *result;
  PpmsConversation *c;
  int position = -1, index = 0;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", NULL))
    return;
  user_uuid = ppms_call_string (call, "user_uuid");
  for (GList *l = server->distributor_queue; l; l = l->next, index++)
    if (position < 0 && g_str_equal (((AmdRequest *) l->data)->user_uuid, user_uuid))
      position = index;
  json_object_set_int_member (call->reply, "length", g_list_length (server->distributor_queue));
  if (position >= 0)
    json_object_set_int_member (call->reply, "position", position);
  else
    json_object_set_null_member (call->reply, "position");
  result = g_hash_table_lookup (server->amd_results, user_uuid);
  ppms_json_set_string_or_null (call->reply, "result", result);
  c = ppms_user_latest_conversation (server, user_uuid);
  ppms_json_set_string_or_null (call->reply, "conversation_uuid", c ? c->uuid : NULL);
  json_object_set_string_member (call->reply, "user_uuid", user_uuid);
}

static void
cancel_waiting (PpmsApiCall *call)
{
  /* BUG 13: the key does not match the queued request; nothing is cancelled. */
}

static void
answer_conversation (PpmsApiCall *call, PpmsConversation *c, const char *user_uuid)
{
  g_autoptr (JsonObject) conv = ppms_conversation_to_json (c, ppms_conversation_find_member (c, user_uuid));
  GList *members = json_object_get_members (conv);

  for (GList *l = members; l; l = l->next)
    json_object_set_member (call->reply, l->data, json_node_copy (json_object_get_member (conv, l->data)));
  g_list_free (members);
}

PpmsConversation *
ppms_find_one_to_one (PpmsServer *server, const char *creator, const char *member)
{
  GHashTableIter iter;
  PpmsConversation *c;

  g_hash_table_iter_init (&iter, server->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &c))
    if (g_strcmp0 (c->user_uuid, creator) == 0 && g_strcmp0 (c->assigned_uuid, member) == 0
        && c->members->len == 2)
      return c;
  return NULL;
}

static void
ppcom_create_conversation (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  JsonNode *list = json_object_get_member (call->body, "member_list");
  const char *user_uuid;
  PpmsConversation *c;
  PpmsUser *visitor, *agent;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", NULL))
    return;
  user_uuid = ppms_call_string (call, "user_uuid");
  if (list != NULL && JSON_NODE_HOLDS_ARRAY (list) && json_array_get_length (json_node_get_array (list)) == 1)
    {
      const char *member = ppms_json_array_get_string (json_node_get_array (list), 0);
      if (member == NULL)
        {
          ppms_call_crash (call, "TypeError: unhashable type: 'dict'");
          return;
        }
      if ((c = ppms_find_one_to_one (server, user_uuid, member)) == NULL)
        {
          visitor = ppms_user_lookup (server, user_uuid);
          agent = ppms_user_lookup (server, member);
          if (visitor == NULL || agent == NULL)
            {
              ppms_call_crash (call, "TypeError: 'NoneType' object is not subscriptable");
              return;
            }
          c = ppms_conversation_new (server, "P2S", user_uuid);
          c->assigned_uuid = g_strdup (member);
          ppms_conversation_add_member (c, user_uuid, agent->user_fullname, agent->user_icon);
          ppms_conversation_add_member (c, member, visitor->user_fullname, visitor->user_icon);
        }
      answer_conversation (call, c, user_uuid);
      return;
    }
  if ((c = ppms_user_latest_conversation (server, user_uuid)) == NULL)
    {
      ppms_call_crash (call, "NameError: name '_request' is not defined");
      return;
    }
  answer_conversation (call, c, user_uuid);
}

static void
get_app_info (PpmsApiCall *call)
{
  g_autoptr (JsonObject) app = NULL;
  GList *members;

  if (wrong_app (call))
    return;
  app = ppms_app_to_json (call->server);
  members = json_object_get_members (app);
  for (GList *l = members; l; l = l->next)
    json_object_set_member (call->reply, l->data, json_node_copy (json_object_get_member (app, l->data)));
  g_list_free (members);
}

void
ppms_visitor_api_init (PpmsServer *server)
{
  ppms_api_register (server, "PP_CREATE_ANONYMOUS", "PPCOM", TRUE, create_anonymous);
  ppms_api_register (server, "PP_GET_USER_UUID", "PPCOM,PPCONSOLE,THIRD_PARTY_CONSOLE", TRUE, get_user_uuid);
  ppms_api_register (server, "PP_CREATE_DEVICE", "PPCOM", TRUE, create_device);
  ppms_api_register (server, "PP_UPDATE_DEVICE", PPMS_LEVELS_CHAT, FALSE, update_device);
  ppms_api_register (server, "PPCOM_GET_DEFAULT_CONVERSATION", "PPCOM", TRUE, get_default_conversation);
  ppms_api_register (server, "PP_GET_AMD_QUEUE_LENGTH", "PPCOM", TRUE, get_amd_queue_length);
  ppms_api_register (server, "PP_CANCEL_WAITING_CREATE_CONVERSATION", "PPCOM", TRUE, cancel_waiting);
  ppms_api_register (server, "PPCOM_CREATE_CONVERSATION", "PPCOM", TRUE, ppcom_create_conversation);
  ppms_api_register (server, "PP_GET_APP_INFO", PPMS_LEVELS_FIVE, TRUE, get_app_info);
}
