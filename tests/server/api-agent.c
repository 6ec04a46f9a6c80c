/* api-agent.c: the agent (PPKefu) endpoints: login with the terminal/device
 * logic and kicking (4.3), logout, service-user status, device info, online
 * validation, the service-user list and PP_UPDATE_USER.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"
#include "ppms-messaging.h"

static gboolean
ostype_is_mobile (const char *ostype3)
{
  return g_str_equal (ostype3, "AND") || g_str_equal (ostype3, "IOS") || g_str_equal (ostype3, "WIP");
}

static void
replace (char **field, const char *value)
{
  char *copy = g_strdup (value);
  g_free (*field);
  *field = copy;
}

static gboolean
has_push_token (JsonObject *body)
{
  return ppms_json_has_nonnull (body, "device_ios_token")
         || ppms_json_has_nonnull (body, "device_android_gcmtoken")
         || ppms_json_has_nonnull (body, "device_android_jpush_registrationid");
}

static PpmsDevice *
login_device (PpmsApiCall *call, PpmsUser *user, const char *terminal, const char *ostype3,
              gboolean mobile)
{
  PpmsServer *server = call->server;
  PpmsDevice *d = ppms_device_lookup_by_terminal (server, terminal);

  if (d == NULL)
    {
      d = g_new0 (PpmsDevice, 1);
      d->uuid = ppms_uuid_new ();
      d->terminal_uuid = g_strdup (terminal);
      d->createtime = g_get_real_time ();
      ppms_store_add_device (server, d);
    }
  else if (has_push_token (call->body))
    {
      ppms_call_crash (call, "NameError: name '_update_device_with_token' is not defined");
      return NULL;
    }
  else if (g_strcmp0 (d->user_uuid, user->uuid) != 0)
    {
      PpmsUser *other = ppms_user_lookup (server, d->user_uuid);
      if (other != NULL)
        replace (mobile ? &other->mobile_device_uuid : &other->browser_device_uuid, "");
    }
  replace (&d->user_uuid, user->uuid);
  replace (&d->device_ostype, ostype3);
  if (ppms_json_get_string (call->body, "osversion"))
    replace (&d->device_osversion, ppms_json_get_string (call->body, "osversion"));
  if (ppms_json_get_string (call->body, "device_fullname"))
    replace (&d->device_fullname, ppms_json_get_string (call->body, "device_fullname"));
  d->updatetime = g_get_real_time ();
  return d;
}

/* The user's previous device of this class, if different, online: flagged
 * offline and its socket told to log out (after the 1 s loop, in ws.c). */
static void
kick_previous (PpmsServer *server, const char *previous, PpmsDevice *device)
{
  PpmsDevice *old = (previous && *previous) ? ppms_device_lookup (server, previous) : NULL;

  if (old == NULL || old == device || !old->is_online)
    return;
  old->is_online = FALSE;
  ppms_ws_force_logout (server, old->uuid);
}

static const char *
normalized_status (const char *status)
{
  static const char *const valid[] = { "READY", "BUSY", "REST", "NULL", NULL };
  return status && g_strv_contains (valid, status) ? status : "READY";
}

static void
ppkefu_login (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *terminal, *ostype;
  g_autofree char *ostype3 = NULL;
  PpmsUser *user;
  PpmsDevice *device;
  gboolean mobile;
  char **slot;
  gint64 previous_update;
  JsonObject *answer;

  if (!ppms_call_require (call, "terminal", "user_email", "ostype", NULL))
    return;
  terminal = ppms_call_string (call, "terminal");
  ostype = ppms_call_string (call, "ostype");
  if ((user = ppms_user_lookup_by_email (server, ppms_call_string (call, "user_email"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_USER;
      return;
    }
  if (!user->is_service_user)
    {
      call->error_code = PPMS_ERR_NO_APP;
      return;
    }
  ostype3 = g_ascii_strup (ostype, MIN (strlen (ostype), 3));
  mobile = ostype_is_mobile (ostype3);
  if ((device = login_device (call, user, terminal, ostype3, mobile)) == NULL)
    return;
  slot = mobile ? &user->mobile_device_uuid : &user->browser_device_uuid;
  kick_previous (server, *slot, device);
  replace (slot, device->uuid);
  replace (&user->service_user_status, normalized_status (ppms_json_get_string (call->body, "user_status")));
  device->is_online = TRUE;
  ppms_presence_notify (server, user->uuid, mobile ? "UNCHANGED" : "ONLINE",
                        mobile ? "ONLINE" : "UNCHANGED", NULL);

  previous_update = user->updatetime;
  answer = ppms_user_to_json (server, user);
  json_object_set_int_member (answer, "updatetime", ppms_epoch_seconds (previous_update));
  json_object_set_boolean_member (answer, "is_owner_user", user->is_owner_user);
  json_object_set_boolean_member (answer, "is_service_user", user->is_service_user);
  {
    g_autofree char *topic = g_strdup_printf ("%s/#", device->uuid);
    json_object_set_string_member (answer, "mqtt_topic", topic);
  }
  json_object_set_object_member (answer, "app", ppms_app_to_json (server));
  json_object_unref (call->reply);
  call->reply = answer;
  ppms_user_touch (user);
}

static void
ppkefu_logout (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  PpmsUser *user;
  PpmsDevice *device;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", "device_uuid", NULL))
    return;
  device = ppms_device_lookup (server, ppms_call_string (call, "device_uuid"));
  if (device != NULL)
    device->is_online = FALSE;
  if ((user = ppms_user_lookup (server, ppms_call_string (call, "user_uuid"))) != NULL)
    {
      replace (&user->service_user_status, "NULL");
      ppms_presence_notify (server, user->uuid,
                            device && g_strcmp0 (user->browser_device_uuid, device->uuid) == 0 ? "OFFLINE" : "UNCHANGED",
                            device && g_strcmp0 (user->mobile_device_uuid, device->uuid) == 0 ? "OFFLINE" : "UNCHANGED",
                            NULL);
    }
  ppms_token_remove (server, call->token->token);
  call->token = NULL;
}

static PpmsUser *
status_user (PpmsApiCall *call)
{
  PpmsUser *user;

  if (!ppms_call_require (call, "user_uuid", NULL))
    return NULL;
  if ((user = ppms_user_lookup (call->server, ppms_call_string (call, "user_uuid"))) == NULL)
    call->error_code = PPMS_ERR_NO_USER;
  return user;
}

static void
set_service_user_status (PpmsApiCall *call)
{
  static const char *const valid[] = { "READY", "BUSY", "REST", "NULL", NULL };
  PpmsUser *user = status_user (call);
  const char *status = ppms_json_get_string (call->body, "user_status");

  if (user == NULL)
    return;
  if (status == NULL || !g_strv_contains (valid, status))
    {
      ppms_call_crash (call, "AttributeError: type object 'API_ERR' has no attribute 'WRONG_PARAM'");
      return;
    }
  replace (&user->service_user_status, status);
}

static void
set_ready (PpmsApiCall *call)
{
  PpmsUser *user = status_user (call);
  if (user != NULL)
    replace (&user->service_user_status, "READY");
}

static void
set_busy (PpmsApiCall *call)
{
  PpmsUser *user = status_user (call);
  if (user != NULL)
    replace (&user->service_user_status, "BUSY");
}

static void
set_rest (PpmsApiCall *call)
{
  if (status_user (call) != NULL)
    ppms_call_crash (call, "NameError: name 'SERVICE_USER_STATUS' is not defined");
}

/* Stores a device column: the struct's own fields, the rest in extra. */
void
ppms_device_set_column (PpmsDevice *d, const char *column, JsonNode *value)
{
  const char *text = JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING
                     ? json_node_get_string (value) : NULL;

  if (g_str_equal (column, "device_ostype"))
    replace (&d->device_ostype, text);
  else if (g_str_equal (column, "device_osversion"))
    replace (&d->device_osversion, text);
  else if (g_str_equal (column, "device_fullname"))
    replace (&d->device_fullname, text);
  else if (g_str_equal (column, "user_uuid"))
    replace (&d->user_uuid, text);
  else if (g_str_equal (column, "app_uuid"))
    replace (&d->app_uuid, text);
  else if (g_str_equal (column, "terminal_uuid"))
    replace (&d->terminal_uuid, text);
  else if (g_str_equal (column, "device_is_online"))
    d->is_online = JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_BOOLEAN
                   && json_node_get_boolean (value);
  else
    {
      if (d->extra == NULL)
        d->extra = json_object_new ();
      json_object_set_member (d->extra, column, json_node_copy (value));
    }
  d->updatetime = g_get_real_time ();
}

static void
set_device_info (PpmsApiCall *call)
{
  static const char *const map[][2] = {
    { "fullname", "device_fullname" }, { "osversion", "device_osversion" },
    { "apilevel", "device_android_apilevel" }, { "phone", "device_phonenumber" },
    { "iosmodel", "device_ios_model" }, { "iostoken", "device_ios_token" },
    { "device_android_gcmtoken", "device_android_gcmtoken" },
    { "device_android_jpush_registrationid", "device_android_jpush_registrationid" },
  };
  const char *uuid = ppms_json_get_string (call->body, "device_uuid");
  PpmsDevice *d = ppms_device_lookup (call->server, uuid);
  const char *ostype;

  if (uuid == NULL)
    {
      ppms_call_crash (call, "AttributeError: type object 'API_ERR' has no attribute 'ERR_PARAM'");
      return;
    }
  if (d == NULL)
    {
      ppms_call_crash (call, "NameError: name '_key' is not defined");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    {
      JsonNode *value = json_object_get_member (call->body, map[i][0]);
      if (value != NULL)
        ppms_device_set_column (d, map[i][1], value);
    }
  if ((ostype = ppms_json_get_string (call->body, "ostype")) != NULL)
    {
      g_autofree char *upper = g_ascii_strup (ostype, -1);
      replace (&d->device_ostype, upper);
    }
}

static void
validate_online_device (PpmsApiCall *call)
{
  PpmsUser *user;
  PpmsDevice *d;

  if (!ppms_call_require (call, "user_uuid", "device_uuid", NULL))
    return;
  if ((user = ppms_user_lookup (call->server, ppms_call_string (call, "user_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_USER;
      return;
    }
  d = ppms_device_lookup (call->server, ppms_call_string (call, "device_uuid"));
  if (d == NULL || g_strcmp0 (d->user_uuid, user->uuid) != 0)
    {
      call->error_code = PPMS_ERR_NO_DEVICE;
      return;
    }
  json_object_set_boolean_member (call->reply, "valid",
                                  d->is_online && (g_strcmp0 (user->mobile_device_uuid, d->uuid) == 0
                                                   || g_strcmp0 (user->browser_device_uuid, d->uuid) == 0));
}

static gint
by_createtime (gconstpointer a, gconstpointer b)
{
  const PpmsUser *ua = *(PpmsUser **) a, *ub = *(PpmsUser **) b;
  return ua->createtime < ub->createtime ? -1 : ua->createtime > ub->createtime;
}

GPtrArray *
ppms_service_users (PpmsServer *server)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  PpmsUser *u;

  g_hash_table_iter_init (&iter, server->users);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &u))
    if (u->is_service_user)
      g_ptr_array_add (list, u);
  g_ptr_array_sort (list, by_createtime);
  return list;
}

static void
get_app_service_user_list (PpmsApiCall *call)
{
  g_autoptr (GPtrArray) users = ppms_service_users (call->server);
  JsonArray *list = json_array_new ();

  for (guint i = 0; i < users->len; i++)
    {
      PpmsUser *u = g_ptr_array_index (users, i);
      JsonObject *item = ppms_user_to_list_item (call->server, u);
      json_object_set_boolean_member (item, "is_owner_user", u->is_owner_user);
      json_object_set_boolean_member (item, "is_service_user", u->is_service_user);
      json_array_add_object_element (list, item);
    }
  json_object_set_array_member (call->reply, "list", list);
}

/* user_icon: an http URL as given, else an uploaded file's identicon URL. */
static gboolean
update_icon (PpmsApiCall *call, PpmsUser *user, const char *icon)
{
  g_autofree char *url = NULL;

  if (icon == NULL || g_str_has_prefix (icon, "http"))
    {
      replace (&user->user_icon, icon);
      return TRUE;
    }
  if (ppms_file_lookup (call->server, icon) == NULL)
    {
      ppms_call_crash (call, "TypeError: expected str, bytes or os.PathLike object, not NoneType");
      return FALSE;
    }
  url = g_strdup_printf ("%s/identicon/identicon/%s", ppms_server_base (call->server), icon);
  replace (&user->user_icon, url);
  return TRUE;
}

static void
update_user (PpmsApiCall *call)
{
  PpmsUser *user;
  const char *old_password;
  GList *members;
  gboolean updated = FALSE;

  if (!ppms_call_require (call, "user_uuid", NULL))
    return;
  if ((user = ppms_user_lookup (call->server, ppms_call_string (call, "user_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_GENERIC_UPDATE;
      return;
    }
  old_password = ppms_json_get_string (call->body, "old_password");
  if (old_password != NULL && json_object_has_member (call->body, "user_password")
      && g_strcmp0 (old_password, user->user_password) != 0)
    {
      call->error_code = 10;
      return;
    }
  members = json_object_get_members (call->body);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *value = json_object_get_member (call->body, name);
      const char *text = JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING
                         ? json_node_get_string (value) : NULL;
      char **field = ppms_user_string_column (user, name);

      if (g_str_equal (name, "user_icon"))
        {
          if (!update_icon (call, user, text))
            break;
        }
      else if (field != NULL)
        replace (field, text);
      else if (g_strv_contains (ppms_user_column_names (), name))
        {
          if (user->extra == NULL)
            user->extra = json_object_new ();
          json_object_set_member (user->extra, name, json_node_copy (value));
        }
      else
        continue;
      updated = TRUE;
    }
  g_list_free (members);
  if (call->crash != NULL)
    return;
  if (!updated)
    call->error_code = PPMS_ERR_GENERIC_UPDATE;
  else
    ppms_user_touch (user);
}

void
ppms_agent_api_init (PpmsServer *server)
{
  ppms_api_register (server, "PPKEFU_LOGIN", "PPKEFU", FALSE, ppkefu_login);
  ppms_api_register (server, "PPKEFU_LOGOUT", "PPKEFU", TRUE, ppkefu_logout);
  ppms_api_register (server, "PPKEFU_SET_SERVICE_USER_STATUS", PPMS_LEVELS_KEFU, TRUE, set_service_user_status);
  ppms_api_register (server, "PPKEFU_SET_READY", PPMS_LEVELS_KEFU, TRUE, set_ready);
  ppms_api_register (server, "PPKEFU_SET_BUSY", PPMS_LEVELS_KEFU, TRUE, set_busy);
  ppms_api_register (server, "PPKEFU_SET_REST", PPMS_LEVELS_KEFU, TRUE, set_rest);
  ppms_api_register (server, "SET_DEVICE_INFO", PPMS_LEVELS_KEFU, FALSE, set_device_info);
  ppms_api_register (server, "PP_VALIDATE_ONLINE_DEVICE", PPMS_LEVELS_KEFU, FALSE, validate_online_device);
  ppms_api_register (server, "PP_GET_APP_SERVICE_USER_LIST", PPMS_LEVELS_FIVE, TRUE, get_app_service_user_list);
  ppms_api_register (server, "PP_UPDATE_USER", PPMS_LEVELS_FIVE, TRUE, update_user);
}
