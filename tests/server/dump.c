/* dump.c: serialises the store in the seed format (tests/data/README.md).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppms-internal.h"

static void
set_str (JsonObject *o, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, name, value);
}

static JsonArray *
add_array (JsonObject *root, const char *name)
{
  JsonArray *a = json_array_new ();
  json_object_set_array_member (root, name, a);
  return a;
}

static gint
by_createtime (gconstpointer a, gconstpointer b, gsize offset)
{
  gint64 ta = G_STRUCT_MEMBER (gint64, *(gpointer *) a, offset);
  gint64 tb = G_STRUCT_MEMBER (gint64, *(gpointer *) b, offset);
  return ta < tb ? -1 : ta > tb;
}

static gint by_user (gconstpointer a, gconstpointer b) { return by_createtime (a, b, G_STRUCT_OFFSET (PpmsUser, createtime)); }
static gint by_conv (gconstpointer a, gconstpointer b) { return by_createtime (a, b, G_STRUCT_OFFSET (PpmsConversation, createtime)); }
static gint by_push (gconstpointer a, gconstpointer b) { return by_createtime (a, b, G_STRUCT_OFFSET (PpmsPush, createtime)); }

static GPtrArray *
sorted_values (GHashTable *table, GCompareFunc compare)
{
  GPtrArray *values = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer v;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &v))
    g_ptr_array_add (values, v);
  if (compare)
    g_ptr_array_sort (values, compare);
  return values;
}

static void
dump_users (PpmsServer *server, JsonObject *root)
{
  JsonArray *array = add_array (root, "users");
  g_autoptr (GPtrArray) users = sorted_values (server->users, by_user);

  for (guint i = 0; i < users->len; i++)
    {
      PpmsUser *u = g_ptr_array_index (users, i);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "uuid", u->uuid);
      for (const char *const *col = ppms_user_column_names (); *col; col++)
        {
          char **field = ppms_user_string_column (u, *col);
          if (field != NULL)
            set_str (o, *col, *field);
        }
      set_str (o, "user_password", u->user_password);
      json_object_set_boolean_member (o, "is_service_user", u->is_service_user);
      json_object_set_boolean_member (o, "is_owner_user", u->is_owner_user);
      json_object_set_boolean_member (o, "is_anonymous_user", u->is_anonymous_user);
      if (u->extra)
        json_object_set_object_member (o, "extra", json_object_ref (u->extra));
      json_object_set_int_member (o, "createtime", u->createtime);
      json_object_set_int_member (o, "updatetime", u->updatetime);
      json_array_add_object_element (array, o);
    }
}

static void
dump_devices (PpmsServer *server, JsonObject *root)
{
  JsonArray *array = add_array (root, "devices");
  g_autoptr (GPtrArray) devices = sorted_values (server->devices, NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      PpmsDevice *d = g_ptr_array_index (devices, i);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "uuid", d->uuid);
      set_str (o, "terminal_uuid", d->terminal_uuid);
      set_str (o, "user_uuid", d->user_uuid);
      set_str (o, "app_uuid", d->app_uuid);
      set_str (o, "device_ostype", d->device_ostype);
      set_str (o, "device_osversion", d->device_osversion);
      set_str (o, "device_fullname", d->device_fullname);
      json_object_set_boolean_member (o, "is_online", d->is_online);
      json_object_set_boolean_member (o, "is_ppcom_device", d->is_ppcom_device);
      if (d->extra)
        json_object_set_object_member (o, "extra", json_object_ref (d->extra));
      json_object_set_int_member (o, "createtime", d->createtime);
      json_object_set_int_member (o, "updatetime", d->updatetime);
      json_array_add_object_element (array, o);
    }
}

static JsonObject *
member_json (PpmsMember *m)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", m->uuid);
  set_str (o, "user_uuid", m->user_uuid);
  set_str (o, "status", m->status);
  set_str (o, "conversation_name", m->conversation_name);
  set_str (o, "conversation_icon", m->conversation_icon);
  set_str (o, "conversation_type", m->conversation_type);
  set_str (o, "user_name", m->user_name);
  json_object_set_int_member (o, "createtime", m->createtime);
  json_object_set_int_member (o, "updatetime", m->updatetime);
  return o;
}

static JsonObject *
message_json (PpmsMessage *m)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", m->uuid);
  set_str (o, "conversation_uuid", m->conversation_uuid);
  set_str (o, "conversation_type", m->conversation_type);
  set_str (o, "from_uuid", m->from_uuid);
  set_str (o, "from_type", m->from_type);
  set_str (o, "from_device_uuid", m->from_device_uuid);
  set_str (o, "to_uuid", m->to_uuid);
  set_str (o, "to_type", m->to_type);
  set_str (o, "message_type", m->message_type);
  set_str (o, "message_subtype", m->message_subtype);
  set_str (o, "body", m->body);
  set_str (o, "message_body", m->message_body);
  set_str (o, "task_status", m->task_status);
  json_object_set_int_member (o, "createtime", m->createtime);
  if (m->updatetime)
    json_object_set_int_member (o, "updatetime", m->updatetime);
  return o;
}

static void
dump_conversations (PpmsServer *server, JsonObject *root)
{
  JsonArray *convs = add_array (root, "conversations");
  JsonArray *messages = add_array (root, "messages");
  g_autoptr (GPtrArray) list = sorted_values (server->conversations, by_conv);

  for (guint i = 0; i < list->len; i++)
    {
      PpmsConversation *c = g_ptr_array_index (list, i);
      JsonObject *o = json_object_new ();
      JsonArray *members = json_array_new ();
      json_object_set_string_member (o, "uuid", c->uuid);
      set_str (o, "conversation_type", c->conversation_type);
      set_str (o, "user_uuid", c->user_uuid);
      set_str (o, "assigned_uuid", c->assigned_uuid);
      set_str (o, "group_uuid", c->group_uuid);
      set_str (o, "conversation_name", c->conversation_name);
      set_str (o, "conversation_icon", c->conversation_icon);
      set_str (o, "status", c->status);
      set_str (o, "latest_task", c->latest_task);
      json_object_set_int_member (o, "createtime", c->createtime);
      json_object_set_int_member (o, "updatetime", c->updatetime);
      for (guint j = 0; j < c->members->len; j++)
        json_array_add_object_element (members, member_json (g_ptr_array_index (c->members, j)));
      json_object_set_array_member (o, "members", members);
      json_array_add_object_element (convs, o);
      for (guint j = 0; j < c->messages->len; j++)
        json_array_add_object_element (messages, message_json (g_ptr_array_index (c->messages, j)));
    }
}

static void
dump_pushes_tokens_keys (PpmsServer *server, JsonObject *root)
{
  JsonArray *pushes = add_array (root, "pushes");
  JsonArray *tokens = add_array (root, "tokens");
  JsonArray *keys = add_array (root, "api_keys");
  g_autoptr (GPtrArray) list = sorted_values (server->pushes, by_push);
  GHashTableIter iter;
  gpointer v;

  for (guint i = 0; i < list->len; i++)
    {
      PpmsPush *p = g_ptr_array_index (list, i);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "uuid", p->uuid);
      set_str (o, "user_uuid", p->user_uuid);
      set_str (o, "message_uuid", p->message_uuid);
      set_str (o, "status", p->status);
      json_object_set_int_member (o, "createtime", p->createtime);
      json_array_add_object_element (pushes, o);
    }
  g_hash_table_iter_init (&iter, server->tokens);
  while (g_hash_table_iter_next (&iter, NULL, &v))
    {
      PpmsToken *t = v;
      JsonObject *o = json_object_new ();
      set_str (o, "token", t->token);
      set_str (o, "level", t->level);
      set_str (o, "api_uuid", t->api_uuid);
      json_array_add_object_element (tokens, o);
    }
  g_hash_table_iter_init (&iter, server->api_keys);
  while (g_hash_table_iter_next (&iter, NULL, &v))
    {
      PpmsApiKey *k = v;
      JsonObject *o = json_object_new ();
      set_str (o, "uuid", k->uuid);
      set_str (o, "level", k->level);
      set_str (o, "key", k->key);
      set_str (o, "secret", k->secret);
      json_array_add_object_element (keys, o);
    }
}

static void
dump_files (PpmsServer *server, JsonObject *root)
{
  JsonArray *array = add_array (root, "files");
  GHashTableIter iter;
  gpointer v;

  g_hash_table_iter_init (&iter, server->files);
  while (g_hash_table_iter_next (&iter, NULL, &v))
    {
      PpmsFile *f = v;
      JsonObject *o = json_object_new ();
      gsize len = 0;
      const guchar *data = g_bytes_get_data (f->data, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      json_object_set_string_member (o, "uuid", f->uuid);
      set_str (o, "file_name", f->file_name);
      set_str (o, "file_mime", f->file_mime);
      json_object_set_string_member (o, "data_base64", b64);
      json_array_add_object_element (array, o);
    }
}

char *
ppms_seed_dump (PpmsServer *server)
{
  g_autoptr (JsonObject) root = json_object_new ();
  JsonObject *app = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_object_set_string_member (app, "uuid", server->app->uuid);
  set_str (app, "app_name", server->app->app_name);
  set_str (app, "app_key", server->app->app_key);
  set_str (app, "app_secret", server->app->app_secret);
  set_str (app, "welcome_message", server->app->welcome_message);
  set_str (app, "app_icon", server->app->app_icon);
  set_str (app, "user_uuid", server->app->user_uuid);
  json_object_set_int_member (app, "createtime", server->app->createtime);
  json_object_set_int_member (app, "updatetime", server->app->updatetime);
  json_object_set_object_member (root, "app", app);
  dump_pushes_tokens_keys (server, root);
  dump_users (server, root);
  dump_devices (server, root);
  dump_conversations (server, root);
  dump_files (server, root);
  json_node_set_object (node, root);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
