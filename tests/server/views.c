/* views.c: JSON views of the records, in the shapes the real server answers.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppms-internal.h"

/* User columns in the real server's order, after uuid/updatetime/createtime. */
static const char *const user_columns[] = {
  "user_name", "user_email", "user_status", "user_firstname", "user_lastname", "user_fullname",
  "user_icon", "user_mobile", "user_qq", "user_wechat", "user_signature", "user_defined",
  "mobile_device_uuid", "browser_device_uuid", "ppcom_mobile_device_uuid",
  "ppcom_browser_device_uuid", "user_language", "user_silence_notification", "user_show_badge",
  "user_mute_notification", "user_mute_other_mobile_device", "user_company", "is_email_verified",
  "is_mobile_verified", "create_status", "service_user_status", "is_anonymous_user",
  "ppcom_trace_uuid", "latest_send_message_time", "geolite_latitude", "geolite_longitude",
  "ent_user_uuid", "ent_user_data", NULL
};

const char *const *
ppms_user_column_names (void)
{
  return user_columns;
}

/* The struct-backed string columns of a user; NULL if the column is not one. */
char **
ppms_user_string_column (PpmsUser *u, const char *name)
{
  static const struct { const char *name; gsize offset; } map[] = {
    { "user_name", G_STRUCT_OFFSET (PpmsUser, user_name) },
    { "user_email", G_STRUCT_OFFSET (PpmsUser, user_email) },
    { "user_password", G_STRUCT_OFFSET (PpmsUser, user_password) },
    { "user_status", G_STRUCT_OFFSET (PpmsUser, user_status) },
    { "user_fullname", G_STRUCT_OFFSET (PpmsUser, user_fullname) },
    { "user_icon", G_STRUCT_OFFSET (PpmsUser, user_icon) },
    { "user_signature", G_STRUCT_OFFSET (PpmsUser, user_signature) },
    { "mobile_device_uuid", G_STRUCT_OFFSET (PpmsUser, mobile_device_uuid) },
    { "browser_device_uuid", G_STRUCT_OFFSET (PpmsUser, browser_device_uuid) },
    { "ppcom_mobile_device_uuid", G_STRUCT_OFFSET (PpmsUser, ppcom_mobile_device_uuid) },
    { "ppcom_browser_device_uuid", G_STRUCT_OFFSET (PpmsUser, ppcom_browser_device_uuid) },
    { "user_language", G_STRUCT_OFFSET (PpmsUser, user_language) },
    { "service_user_status", G_STRUCT_OFFSET (PpmsUser, service_user_status) },
    { "ppcom_trace_uuid", G_STRUCT_OFFSET (PpmsUser, ppcom_trace_uuid) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (map[i].name, name))
      return G_STRUCT_MEMBER_P (u, map[i].offset);
  return NULL;
}

JsonObject *
ppms_user_to_json (PpmsServer *server, PpmsUser *u)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", u->uuid);
  ppms_json_set_datetime (o, "updatetime", u->updatetime);
  ppms_json_set_datetime (o, "createtime", u->createtime);
  for (guint i = 0; user_columns[i]; i++)
    {
      const char *name = user_columns[i];
      char **field = ppms_user_string_column (u, name);
      if (field != NULL)
        ppms_json_set_string_or_null (o, name, *field);
      else if (g_str_equal (name, "is_anonymous_user") && u->is_anonymous_user)
        json_object_set_boolean_member (o, name, TRUE);
      else if (u->extra && json_object_has_member (u->extra, name))
        json_object_set_member (o, name, json_node_copy (json_object_get_member (u->extra, name)));
      else
        json_object_set_null_member (o, name);
    }
  return o;
}

JsonObject *
ppms_user_to_from_user_json (PpmsServer *server, PpmsUser *u)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", u->uuid);
  ppms_json_set_string_or_null (o, "user_icon", u->user_icon);
  ppms_json_set_string_or_null (o, "user_email", u->user_email);
  ppms_json_set_string_or_null (o, "user_fullname", u->user_fullname);
  json_object_set_int_member (o, "updatetime", ppms_epoch_seconds (u->updatetime));
  return o;
}

JsonObject *
ppms_user_to_list_item (PpmsServer *server, PpmsUser *u)
{
  JsonObject *o = json_object_new ();

  json_object_set_boolean_member (o, "is_browser_online", ppms_user_browser_online (server, u));
  json_object_set_boolean_member (o, "is_mobile_online", ppms_user_mobile_online (server, u));
  json_object_set_array_member (o, "group", json_array_new ());
  json_object_set_string_member (o, "uuid", u->uuid);
  ppms_json_set_string_or_null (o, "user_icon", u->user_icon);
  ppms_json_set_string_or_null (o, "user_email", u->user_email);
  ppms_json_set_string_or_null (o, "user_fullname", u->user_fullname);
  ppms_json_set_string_or_null (o, "user_signature", u->user_signature);
  ppms_json_set_datetime (o, "updatetime", u->updatetime);
  return o;
}

JsonObject *
ppms_app_to_json (PpmsServer *server)
{
  static const char *const null_columns[] = {
    "app_route_policy", "company_name", "app_billing_email", "app_billing_uuid",
    "return_offline_message", "offline_message", "welcome_message", "show_ppcom_hover",
    "ppcom_launcher_color", "ppcom_launcher_style", "ppcom_powered_by_name",
    "ppcom_powered_by_link", "ppcom_powered_by_visible", "robot_train_chat",
    "robot_train_track", "robot_train_click", "robot_train_method", "robot_user_uuid",
    "enable_apns_push", "enable_mqtt_push", "enable_gcm_push", "enable_jpush", "gcm_api_key",
    "apns_combination_pem_data", "apns_combination_pem_password", "jpush_api_key",
    "jpush_master_secret", NULL
  };
  PpmsApp *a = server->app;
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", a->uuid);
  ppms_json_set_datetime (o, "updatetime", a->updatetime);
  ppms_json_set_datetime (o, "createtime", a->createtime);
  json_object_set_null_member (o, "api_uuid");
  ppms_json_set_string_or_null (o, "user_uuid", a->user_uuid);
  ppms_json_set_string_or_null (o, "app_key", a->app_key);
  ppms_json_set_string_or_null (o, "app_secret", a->app_secret);
  ppms_json_set_string_or_null (o, "app_name", a->app_name);
  for (guint i = 0; null_columns[i]; i++)
    json_object_set_null_member (o, null_columns[i]);
  ppms_json_set_string_or_null (o, "welcome_message", a->welcome_message);
  ppms_json_set_string_or_null (o, "app_icon", a->app_icon);
  return o;
}

JsonObject *
ppms_conversation_to_json (PpmsConversation *c, PpmsMember *member)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", c->uuid);
  ppms_json_set_datetime (o, "updatetime", c->updatetime);
  ppms_json_set_datetime (o, "createtime", c->createtime);
  ppms_json_set_string_or_null (o, "app_uuid", c->app_uuid);
  ppms_json_set_string_or_null (o, "group_uuid", c->group_uuid);
  ppms_json_set_string_or_null (o, "user_uuid", c->user_uuid);
  ppms_json_set_string_or_null (o, "assigned_uuid", c->assigned_uuid);
  ppms_json_set_string_or_null (o, "status", c->status);
  json_object_set_null_member (o, "rule_uuid");
  ppms_json_set_string_or_null (o, "conversation_name", member ? member->conversation_name : c->conversation_name);
  ppms_json_set_string_or_null (o, "conversation_icon", member ? member->conversation_icon : c->conversation_icon);
  ppms_json_set_string_or_null (o, "conversation_type", c->conversation_type);
  ppms_json_set_string_or_null (o, "latest_task", c->latest_task);
  return o;
}

static void
set_if (JsonObject *o, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, name, value);
}

JsonObject *
ppms_conversation_to_raw_json (PpmsConversation *c)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", c->uuid);
  ppms_json_set_datetime (o, "updatetime", c->updatetime);
  ppms_json_set_datetime (o, "createtime", c->createtime);
  set_if (o, "app_uuid", c->app_uuid);
  set_if (o, "user_uuid", c->user_uuid);
  set_if (o, "assigned_uuid", c->assigned_uuid);
  set_if (o, "group_uuid", c->group_uuid);
  set_if (o, "status", c->status);
  set_if (o, "conversation_type", c->conversation_type);
  set_if (o, "conversation_name", c->conversation_name);
  set_if (o, "conversation_icon", c->conversation_icon);
  set_if (o, "latest_task", c->latest_task);
  return o;
}

JsonObject *
ppms_member_to_json (PpmsServer *server, PpmsConversation *c, PpmsMember *m)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", m->uuid);
  ppms_json_set_datetime (o, "updatetime", m->updatetime);
  ppms_json_set_datetime (o, "createtime", m->createtime);
  ppms_json_set_string_or_null (o, "app_uuid", c->app_uuid);
  ppms_json_set_string_or_null (o, "user_uuid", m->user_uuid);
  json_object_set_null_member (o, "user_mute_notification");
  ppms_json_set_string_or_null (o, "conversation_name", m->conversation_name);
  ppms_json_set_string_or_null (o, "conversation_icon", m->conversation_icon);
  ppms_json_set_string_or_null (o, "conversation_type", m->conversation_type);
  ppms_json_set_string_or_null (o, "user_name", m->user_name);
  json_object_set_string_member (o, "conversation_uuid", c->uuid);
  ppms_json_set_string_or_null (o, "conversation_status", m->status);
  return o;
}

JsonObject *
ppms_member_to_raw_json (PpmsServer *server, PpmsConversation *c, PpmsMember *m)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", m->uuid);
  ppms_json_set_datetime (o, "updatetime", m->updatetime);
  ppms_json_set_datetime (o, "createtime", m->createtime);
  set_if (o, "app_uuid", c->app_uuid);
  set_if (o, "user_uuid", m->user_uuid);
  set_if (o, "conversation_name", m->conversation_name);
  set_if (o, "conversation_icon", m->conversation_icon);
  set_if (o, "conversation_type", m->conversation_type);
  set_if (o, "user_name", m->user_name);
  json_object_set_string_member (o, "conversation_uuid", c->uuid);
  set_if (o, "conversation_status", m->status);
  return o;
}

static gint64
message_updatetime (PpmsMessage *m)
{
  return m->updatetime ? m->updatetime : m->createtime;
}

JsonObject *
ppms_message_to_json (PpmsMessage *m)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", m->uuid);
  ppms_json_set_datetime (o, "updatetime", message_updatetime (m));
  ppms_json_set_datetime (o, "createtime", m->createtime);
  ppms_json_set_string_or_null (o, "app_uuid", m->app_uuid);
  ppms_json_set_string_or_null (o, "conversation_uuid", m->conversation_uuid);
  ppms_json_set_string_or_null (o, "conversation_type", m->conversation_type);
  ppms_json_set_string_or_null (o, "from_uuid", m->from_uuid);
  ppms_json_set_string_or_null (o, "from_type", m->from_type);
  ppms_json_set_string_or_null (o, "from_device_uuid", m->from_device_uuid);
  json_object_set_null_member (o, "to_device_uuid");
  ppms_json_set_string_or_null (o, "to_uuid", m->to_uuid);
  ppms_json_set_string_or_null (o, "to_type", m->to_type);
  ppms_json_set_string_or_null (o, "message_type", m->message_type);
  ppms_json_set_string_or_null (o, "message_subtype", m->message_subtype);
  ppms_json_set_string_or_null (o, "body", m->body);
  json_object_set_null_member (o, "title");
  ppms_json_set_string_or_null (o, "message_body", m->message_body);
  ppms_json_set_string_or_null (o, "task_status", m->task_status);
  json_object_set_null_member (o, "is_development");
  return o;
}

JsonObject *
ppms_message_to_raw_json (PpmsMessage *m)
{
  JsonObject *o = json_object_new ();

  ppms_json_set_string_or_null (o, "message_body", m->message_body);
  ppms_json_set_string_or_null (o, "message_subtype", m->message_subtype);
  ppms_json_set_string_or_null (o, "message_type", m->message_type);
  ppms_json_set_string_or_null (o, "body", m->body);
  ppms_json_set_string_or_null (o, "conversation_type", m->conversation_type);
  ppms_json_set_string_or_null (o, "from_uuid", m->from_uuid);
  ppms_json_set_string_or_null (o, "from_type", m->from_type);
  json_object_set_string_member (o, "uuid", m->uuid);
  ppms_json_set_datetime (o, "createtime", m->createtime);
  ppms_json_set_datetime (o, "updatetime", message_updatetime (m));
  return o;
}
