/* api-misc.c: user look-ups (4.12) and the minor endpoints the recordings
 * touch: org groups, online visitors, navigation, console counters, canned
 * replies (broken as shipped) and PP_CREATE_USER.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppms-internal.h"
#include "ppms-messaging.h"

#define CONSOLE_LEVELS "PPCONSOLE,THIRD_PARTY_CONSOLE"
#define SCRIPT_LEVELS "PPCONSOLE,THIRD_PARTY_CONSOLE,PPKEFU,THIRD_PARTY_KEFU"

static void
merge_into (JsonObject *target, JsonObject *source)
{
  GList *members = json_object_get_members (source);

  for (GList *l = members; l; l = l->next)
    json_object_set_member (target, l->data, json_node_copy (json_object_get_member (source, l->data)));
  g_list_free (members);
}

static void
get_user_info (PpmsApiCall *call)
{
  g_autoptr (JsonObject) o = NULL;
  PpmsUser *u;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", NULL))
    return;
  if ((u = ppms_user_lookup (call->server, ppms_call_string (call, "user_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_USER;
      return;
    }
  o = ppms_user_to_json (call->server, u);
  json_object_set_int_member (o, "updatetime", ppms_epoch_seconds (u->updatetime));
  json_object_set_int_member (o, "createtime", ppms_epoch_seconds (u->createtime));
  json_object_set_boolean_member (o, "is_owner_user", u->is_owner_user);
  json_object_set_boolean_member (o, "is_service_user", u->is_service_user);
  merge_into (call->reply, o);
}

static void
get_user_detail (PpmsApiCall *call)
{
  g_autoptr (JsonObject) o = NULL;
  PpmsUser *u;
  gint64 with_password = 0;

  if (!ppms_call_require (call, "user_uuid", NULL))
    return;
  if ((u = ppms_user_lookup (call->server, ppms_call_string (call, "user_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_OBJECT;
      return;
    }
  o = ppms_user_to_json (call->server, u);
  ppms_json_set_string_or_null (o, "pinyinname0", u->user_fullname);
  ppms_json_set_string_or_null (o, "pinyinname1", u->user_fullname);
  /* BUG 23: any level may read the stored hash. */
  if (ppms_json_get_int (call->body, "return_password", &with_password) && with_password)
    ppms_json_set_string_or_null (o, "user_password", u->user_password);
  merge_into (call->reply, o);
}

static void
get_yvobject_detail (PpmsApiCall *call)
{
  JsonObject *r = call->reply;
  const char *type;
  PpmsUser *u;
  gint64 timestamp, updated;

  if (!ppms_call_require (call, "type", "uuid", NULL))
    return;
  type = ppms_call_string (call, "type");
  u = g_str_equal (type, "DU") ? ppms_user_lookup (call->server, ppms_call_string (call, "uuid")) : NULL;
  if (u == NULL)
    {
      call->error_code = PPMS_ERR_NO_OBJECT;
      return;
    }
  updated = ppms_epoch_seconds (u->updatetime);
  if (ppms_json_get_int (call->body, "timestamp", &timestamp) && updated <= timestamp)
    {
      json_object_set_boolean_member (r, "updated", FALSE);
      return;
    }
  json_object_set_string_member (r, "type", "DU");
  json_object_set_string_member (r, "uuid", u->uuid);
  ppms_json_set_string_or_null (r, "email", u->user_email);
  ppms_json_set_string_or_null (r, "name", u->user_name);
  json_object_set_null_member (r, "desc");
  ppms_json_set_string_or_null (r, "fullname", u->user_fullname);
  ppms_json_set_string_or_null (r, "pinyinname0", u->user_fullname);
  ppms_json_set_string_or_null (r, "pinyinname1", u->user_fullname);
  ppms_json_set_string_or_null (r, "icon", u->user_icon);
  json_object_set_int_member (r, "timestamp", updated);
  json_object_set_boolean_member (r, "updated", TRUE);
}

static void
empty_list (PpmsApiCall *call)
{
  json_object_set_array_member (call->reply, "list", json_array_new ());
}

static void
no_org_group (PpmsApiCall *call)
{
  call->error_code = 30;
}

static void
empty_page (PpmsApiCall *call)
{
  gint64 size = 30, offset = 0;

  if (!ppms_json_get_int (call->body, "page_size", &size) || size < 0)
    size = 30;
  ppms_json_get_int (call->body, "page_offset", &offset);
  json_object_set_int_member (call->reply, "total_count", 0);
  json_object_set_int_member (call->reply, "return_count", 0);
  json_object_set_int_member (call->reply, "page_size", size);
  json_object_set_int_member (call->reply, "page_offset", offset);
  empty_list (call);
}

static void
page_online_portal_user (PpmsApiCall *call)
{
  GHashTableIter iter;
  const char *uuid;

  /* BUG 14: the list is empty unless the index has an online device, and
   * then the handler raises. */
  g_hash_table_iter_init (&iter, call->server->online_portal_index);
  while (g_hash_table_iter_next (&iter, (gpointer *) &uuid, NULL))
    {
      PpmsDevice *d = ppms_device_lookup (call->server, uuid);
      if (d != NULL && d->is_online)
        {
          ppms_call_crash (call, "NameError: name '_users_fields' is not defined");
          return;
        }
    }
  empty_page (call);
}

static void
page_user_navigation (PpmsApiCall *call)
{
  /* BUG 14: any stored navigation data crashes the handler. */
  if (ppms_ws_user_has_navigation (call->server, ppms_json_get_string (call->body, "user_uuid")))
    ppms_call_crash (call, "NameError: name '_user_list' is not defined");
  else
    empty_page (call);
}

static void
real_time_customer_number (PpmsApiCall *call)
{
  guint per_hour[24] = { 0 };
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  JsonArray *list = json_array_new ();
  GHashTableIter iter;
  PpmsUser *u;

  g_hash_table_iter_init (&iter, call->server->users);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &u))
    {
      g_autoptr (GDateTime) created = g_date_time_new_from_unix_local (u->createtime / G_USEC_PER_SEC);
      if (!u->is_service_user && created != NULL
          && g_date_time_get_day_of_year (created) == g_date_time_get_day_of_year (now)
          && g_date_time_get_year (created) == g_date_time_get_year (now))
        per_hour[g_date_time_get_hour (created)]++;
    }
  for (guint h = 0; h < 24; h++)
    {
      JsonObject *o = json_object_new ();
      g_autofree char *key = g_strdup_printf ("%u", h);
      json_object_set_int_member (o, key, per_hour[h]);
      json_array_add_object_element (list, o);
    }
  json_object_set_array_member (call->reply, "number", list);
}

static void
add_predefined_script (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  JsonObject *script;
  g_autofree char *uuid = NULL;

  if (!ppms_call_require (call, "script_answer", NULL))
    return;
  if (server->predefined_scripts == NULL)
    server->predefined_scripts = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  script = json_object_new ();
  uuid = ppms_uuid_new ();
  json_object_set_string_member (script, "uuid", uuid);
  json_object_set_string_member (script, "app_uuid", ppms_call_string (call, "app_uuid"));
  json_object_set_null_member (script, "group_uuid");
  json_object_set_string_member (script, "script_question",
                                 ppms_call_string (call, "script_question"));
  json_object_set_string_member (script, "script_answer",
                                 ppms_call_string (call, "script_answer"));
  g_ptr_array_add (server->predefined_scripts, script);
}

static void
get_all_predefined_script (PpmsApiCall *call)
{
  GPtrArray *scripts = call->server->predefined_scripts;
  JsonArray *list = json_array_new ();

  for (guint i = 0; scripts != NULL && i < scripts->len; i++) {
    JsonObject *script = scripts->pdata[i];

    /* As shipped: one null per script (the detail function returns nothing). */
    if (!call->server->return_predefined_scripts)
      json_array_add_null_element (list);
    else if (g_strcmp0 (json_object_get_string_member (script, "app_uuid"),
                        ppms_call_string (call, "app_uuid")) == 0)
      json_array_add_object_element (list, json_object_ref (script));
  }
  json_object_set_array_member (call->reply, "list", list);
}

static void
add_predefined_script_group (PpmsApiCall *call)
{
  ppms_call_crash (call, "NameError: name 'PredefinedScriptGroup' is not defined");
}

static void
get_all_predefined_script_group (PpmsApiCall *call)
{
  call->drop_connection = TRUE;
}

static void
nothing (PpmsApiCall *call)
{
}

static void
create_user (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *email = ppms_call_string (call, "user_email");
  const char *fullname = ppms_call_string (call, "user_fullname");
  gint64 service = 0;
  PpmsUser *u;

  if (!ppms_call_require (call, "user_email", "user_fullname", "user_password", NULL))
    return;
  if (ppms_user_lookup_by_email (server, email) != NULL)
    {
      call->error_code = 22;
      return;
    }
  u = g_new0 (PpmsUser, 1);
  u->uuid = ppms_uuid_new ();
  u->user_email = g_strdup (email);
  u->user_name = g_strdup (email);
  u->user_fullname = g_strdup (fullname);
  u->user_password = g_strdup (ppms_call_string (call, "user_password"));
  u->user_status = g_strdup (ppms_call_string (call, "user_status") ? ppms_call_string (call, "user_status") : "THIRDPARTY");
  u->user_icon = ppms_identicon_url (server, email);
  u->is_service_user = ppms_json_get_int (call->body, "is_service_user", &service) && service;
  u->createtime = u->updatetime = g_get_real_time ();
  u->extra = json_object_new ();
  json_object_set_boolean_member (u->extra, "is_anonymous_user", FALSE);
  ppms_store_add_user (server, u);
  json_object_set_string_member (call->reply, "uuid", u->uuid);
  json_object_set_string_member (call->reply, "user_status", u->user_status);
  json_object_set_string_member (call->reply, "user_name", u->user_name);
  json_object_set_string_member (call->reply, "user_email", u->user_email);
  json_object_set_string_member (call->reply, "user_icon", u->user_icon);
  json_object_set_null_member (call->reply, "user_language");
  json_object_set_string_member (call->reply, "user_fullname", u->user_fullname);
  json_object_set_string_member (call->reply, "user_password", u->user_password);
  json_object_set_boolean_member (call->reply, "is_anonymous_user", FALSE);
}

static void
forward_message (PpmsApiCall *call)
{
  if (!ppms_call_require (call, "from_uuid", "to_type", "to_uuid", "task_uuid", "device_uuid", NULL))
    return;
  if (ppms_message_lookup (call->server, ppms_call_string (call, "task_uuid")) == NULL)
    call->error_code = 11;
  else   /* BUG 11: dictionary values read as attributes. */
    ppms_call_crash (call, "AttributeError: 'dict' object has no attribute 'conversation_uuid'");
}

static gint
by_conversation_update_desc (gconstpointer a, gconstpointer b)
{
  const PpmsConversation *ca = *(PpmsConversation **) a, *cb = *(PpmsConversation **) b;
  return ca->updatetime > cb->updatetime ? -1 : ca->updatetime < cb->updatetime;
}

static gboolean
closed_by_anyone (PpmsConversation *c)
{
  for (guint i = 0; i < c->members->len; i++)
    if (g_strcmp0 (((PpmsMember *) g_ptr_array_index (c->members, i))->status, "CLOSE") == 0)
      return TRUE;
  return FALSE;
}

/* 4.9.2: conversations with a message, not closed by any member, newest first. */
static void
get_app_conversation_list (PpmsApiCall *call)
{
  g_autoptr (GPtrArray) convs = g_ptr_array_new ();
  JsonArray *list = json_array_new ();
  GHashTableIter iter;
  PpmsConversation *c;

  g_hash_table_iter_init (&iter, call->server->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &c))
    if (ppms_conversation_latest_message (call->server, c) != NULL && !closed_by_anyone (c))
      g_ptr_array_add (convs, c);
  g_ptr_array_sort (convs, by_conversation_update_desc);
  for (guint i = 0; i < convs->len; i++)
    {
      PpmsConversation *conv = g_ptr_array_index (convs, i);
      PpmsUser *creator = ppms_user_lookup (call->server, conv->user_uuid);
      JsonObject *o = ppms_conversation_to_json (conv, NULL);

      if (creator != NULL)
        json_object_set_object_member (o, "create_user", ppms_user_to_json (call->server, creator));
      else
        json_object_set_null_member (o, "create_user");
      json_object_set_object_member (o, "latest_message",
                                     ppms_message_to_json (ppms_conversation_latest_message (call->server, conv)));
      json_object_set_int_member (o, "message_total_count", conv->messages->len);
      json_array_add_object_element (list, o);
    }
  json_object_set_array_member (call->reply, "list", list);
}

static void
get_app_owned_by_user (PpmsApiCall *call)
{
  if (!ppms_call_require (call, "user_uuid", NULL))
    return;
  if (g_strcmp0 (call->server->app->user_uuid, ppms_call_string (call, "user_uuid")) != 0)
    call->error_code = PPMS_ERR_NO_APP;
  else
    json_object_set_object_member (call->reply, "app", ppms_app_to_json (call->server));
}

void
ppms_misc_api_init (PpmsServer *server)
{
  ppms_api_register (server, "FORWARD_MESSAGE", PPMS_LEVELS_FIVE ",PPCONSOLE_BEFORE_LOGIN", FALSE, forward_message);
  ppms_api_register (server, "PP_GET_APP_CONVERSATION_LIST", PPMS_LEVELS_FIVE, TRUE, get_app_conversation_list);
  ppms_api_register (server, "PP_GET_APP_OWNED_BY_USER", PPMS_LEVELS_FIVE, FALSE, get_app_owned_by_user);
  ppms_api_register (server, "PP_GET_USER_INFO", PPMS_LEVELS_FIVE, TRUE, get_user_info);
  ppms_api_register (server, "PP_GET_USER_DETAIL", PPMS_LEVELS_FIVE, FALSE, get_user_detail);
  ppms_api_register (server, "GET_YVOBJECT_DETAIL", PPMS_LEVELS_FIVE, FALSE, get_yvobject_detail);
  ppms_api_register (server, "PP_GET_APP_ORG_GROUP_LIST", PPMS_LEVELS_FIVE, TRUE, empty_list);
  ppms_api_register (server, "PP_GET_ORG_GROUP_USER_LIST", PPMS_LEVELS_FIVE, TRUE, no_org_group);
  ppms_api_register (server, "PP_PAGE_ONLINE_PORTAL_USER", "PPKEFU,PPCONSOLE,THIRD_PARTY_KEFU,THIRD_PARTY_CONSOLE", TRUE, page_online_portal_user);
  ppms_api_register (server, "PP_PAGE_USER_NAVIGATION", PPMS_LEVELS_FIVE, TRUE, page_user_navigation);
  ppms_api_register (server, "PPCONSOLE_GET_REAL_TIME_CUSTOMER_NUMBER", "PPCONSOLE", TRUE, real_time_customer_number);
  ppms_api_register (server, "PP_ADD_PREDEFINED_SCRIPT", SCRIPT_LEVELS, TRUE, add_predefined_script);
  ppms_api_register (server, "PP_GET_ALL_PREDEFINED_SCRIPT", SCRIPT_LEVELS, TRUE, get_all_predefined_script);
  ppms_api_register (server, "PP_ADD_PREDEFINED_SCRIPT_GROUP", CONSOLE_LEVELS, TRUE, add_predefined_script_group);
  ppms_api_register (server, "PP_GET_ALL_PREDEFINED_SCRIPT_GROUP", SCRIPT_LEVELS, TRUE, get_all_predefined_script_group);
  ppms_api_register (server, "PP_GET_PREDEFINED_SCRIPT_WITH_GROUP", CONSOLE_LEVELS, TRUE, nothing);
  ppms_api_register (server, "PP_CREATE_USER", CONSOLE_LEVELS, TRUE, create_user);
}
