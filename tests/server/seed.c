/* seed.c: loading the seed data (tests/data/README.md), the built-in default
 * team, and dumping the store in the same format.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

#define S(o, n) g_strdup (ppms_json_get_string ((o), (n)))

static gint64
time_member (JsonObject *o, const char *name, gint64 fallback)
{
  gint64 v;
  return ppms_json_get_int (o, name, &v) ? v : fallback;
}

static gboolean
bool_member (JsonObject *o, const char *name)
{
  gint64 v;
  return ppms_json_get_int (o, name, &v) && v != 0;
}

static char *
uuid_member (JsonObject *o)
{
  const char *uuid = ppms_json_get_nonempty (o, "uuid");
  return uuid ? g_strdup (uuid) : ppms_uuid_new ();
}

typedef void (*ItemLoader) (PpmsServer *server, JsonObject *item, gint64 now);

static void
load_array (PpmsServer *server, JsonObject *root, const char *name, ItemLoader loader, gint64 now)
{
  JsonNode *node = json_object_get_member (root, name);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_OBJECT (item))
        loader (server, json_node_get_object (item), now + i);
    }
}

static void
load_key (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsApiKey *k = g_new0 (PpmsApiKey, 1);

  k->uuid = uuid_member (o);
  k->level = S (o, "level");
  k->key = ppms_json_get_nonempty (o, "key") ? S (o, "key") : ppms_new_key ();
  k->secret = ppms_json_get_nonempty (o, "secret") ? S (o, "secret") : ppms_new_key ();
  if (k->level == NULL)
    k->level = g_strdup ("PPCOM");
  g_hash_table_replace (server->api_keys, k->key, k);
}

static void
load_user (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsUser *u = g_new0 (PpmsUser, 1);
  const char *plain = ppms_json_get_string (o, "password");
  JsonNode *extra = json_object_get_member (o, "extra");

  u->uuid = uuid_member (o);
  for (const char *const *col = ppms_user_column_names (); *col; col++)
    {
      char **field = ppms_user_string_column (u, *col);
      if (field != NULL)
        *field = S (o, *col);
    }
  u->user_password = plain ? ppms_sha1_hex (plain) : S (o, "user_password");
  u->is_service_user = bool_member (o, "is_service_user");
  u->is_owner_user = bool_member (o, "is_owner_user");
  u->is_anonymous_user = bool_member (o, "is_anonymous_user");
  if (u->user_status == NULL)
    u->user_status = g_strdup (u->is_service_user ? "SERVICE" : "THIRDPARTY");
  if (u->user_icon == NULL)
    u->user_icon = ppms_identicon_url (server, u->user_email ? u->user_email : u->uuid);
  if (extra != NULL && JSON_NODE_HOLDS_OBJECT (extra))
    u->extra = json_object_ref (json_node_get_object (extra));
  /* is_anonymous_user is null for the wizard's owner and false for agents
   * the console created; an explicit false is kept. */
  if (!u->is_anonymous_user
      && (json_object_has_member (o, "is_anonymous_user") || (u->is_service_user && !u->is_owner_user)))
    {
      if (u->extra == NULL)
        u->extra = json_object_new ();
      json_object_set_boolean_member (u->extra, "is_anonymous_user", FALSE);
    }
  u->createtime = time_member (o, "createtime", now);
  u->updatetime = time_member (o, "updatetime", u->createtime);
  ppms_store_add_user (server, u);
}

static void
load_device (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsDevice *d = g_new0 (PpmsDevice, 1);
  JsonNode *extra = json_object_get_member (o, "extra");

  d->uuid = uuid_member (o);
  d->terminal_uuid = S (o, "terminal_uuid");
  d->user_uuid = S (o, "user_uuid");
  d->app_uuid = S (o, "app_uuid");
  d->device_ostype = S (o, "device_ostype");
  d->device_osversion = S (o, "device_osversion");
  d->device_fullname = S (o, "device_fullname");
  d->is_online = bool_member (o, "is_online");
  d->is_ppcom_device = bool_member (o, "is_ppcom_device");
  if (extra != NULL && JSON_NODE_HOLDS_OBJECT (extra))
    d->extra = json_object_ref (json_node_get_object (extra));
  d->createtime = time_member (o, "createtime", now);
  d->updatetime = time_member (o, "updatetime", d->createtime);
  ppms_store_add_device (server, d);
}

static void
load_member (PpmsConversation *c, JsonObject *o, gint64 now)
{
  const char *user_uuid = ppms_json_get_nonempty (o, "user_uuid");
  PpmsMember *m;

  if (user_uuid == NULL || ppms_conversation_find_member (c, user_uuid) != NULL)
    return;
  m = ppms_conversation_add_member (c, user_uuid, ppms_json_get_string (o, "conversation_name"),
                                    ppms_json_get_string (o, "conversation_icon"));
  if (ppms_json_get_nonempty (o, "uuid"))
    {
      g_free (m->uuid);
      m->uuid = S (o, "uuid");
    }
  g_free (m->status);
  m->status = ppms_json_get_nonempty (o, "status") ? S (o, "status") : g_strdup (c->status);
  m->conversation_type = S (o, "conversation_type");
  m->user_name = S (o, "user_name");
  m->createtime = time_member (o, "createtime", now);
  m->updatetime = time_member (o, "updatetime", m->createtime);
}

static void
load_conversation (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsConversation *c = g_new0 (PpmsConversation, 1);
  JsonNode *members = json_object_get_member (o, "members");

  c->uuid = uuid_member (o);
  c->app_uuid = g_strdup (server->app->uuid);
  c->conversation_type = ppms_json_get_nonempty (o, "conversation_type") ? S (o, "conversation_type") : g_strdup ("P2S");
  c->user_uuid = S (o, "user_uuid");
  c->assigned_uuid = S (o, "assigned_uuid");
  c->group_uuid = S (o, "group_uuid");
  c->conversation_name = S (o, "conversation_name");
  c->conversation_icon = S (o, "conversation_icon");
  c->status = ppms_json_get_nonempty (o, "status") ? S (o, "status") : g_strdup ("NEW");
  c->latest_task = S (o, "latest_task");
  c->createtime = time_member (o, "createtime", now);
  c->updatetime = time_member (o, "updatetime", c->createtime);
  ppms_store_add_conversation (server, c);
  if (members != NULL && JSON_NODE_HOLDS_ARRAY (members))
    {
      JsonArray *array = json_node_get_array (members);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *item = json_array_get_element (array, i);
          if (JSON_NODE_HOLDS_OBJECT (item))
            load_member (c, json_node_get_object (item), c->createtime + i);
        }
    }
}

static void
load_message (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsMessage *m = g_new0 (PpmsMessage, 1);

  m->uuid = uuid_member (o);
  m->app_uuid = g_strdup (server->app->uuid);
  m->conversation_uuid = S (o, "conversation_uuid");
  m->conversation_type = S (o, "conversation_type");
  m->from_uuid = S (o, "from_uuid");
  m->from_type = ppms_json_get_nonempty (o, "from_type") ? S (o, "from_type") : g_strdup ("DU");
  m->from_device_uuid = S (o, "from_device_uuid");
  m->to_uuid = S (o, "to_uuid");
  m->to_type = S (o, "to_type");
  m->message_type = ppms_json_get_nonempty (o, "message_type") ? S (o, "message_type") : g_strdup ("NOTI");
  m->message_subtype = ppms_json_get_nonempty (o, "message_subtype") ? S (o, "message_subtype") : g_strdup ("TEXT");
  m->body = S (o, "body");
  m->message_body = S (o, "message_body");
  m->task_status = ppms_json_get_nonempty (o, "task_status") ? S (o, "task_status") : g_strdup ("PROCESSED");
  m->createtime = time_member (o, "createtime", now);
  m->updatetime = time_member (o, "updatetime", 0);
  ppms_store_add_message (server, m);
}

static void
load_push (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsPush *p = g_new0 (PpmsPush, 1);

  p->uuid = uuid_member (o);
  p->user_uuid = S (o, "user_uuid");
  p->message_uuid = S (o, "message_uuid");
  p->status = ppms_json_get_nonempty (o, "status") ? S (o, "status") : g_strdup ("PUSHED");
  p->createtime = time_member (o, "createtime", now);
  ppms_store_add_push (server, p);
}

static void
load_token (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsToken *t;

  if (ppms_json_get_nonempty (o, "token") == NULL)
    return;
  t = g_new0 (PpmsToken, 1);
  t->token = S (o, "token");
  t->level = S (o, "level");
  t->api_uuid = S (o, "api_uuid");
  t->app_uuid = g_strdup (server->app->uuid);
  g_hash_table_replace (server->tokens, t->token, t);
}

static void
load_file (PpmsServer *server, JsonObject *o, gint64 now)
{
  const char *b64 = ppms_json_get_string (o, "data_base64");
  const char *text = ppms_json_get_string (o, "text");
  g_autoptr (GBytes) data = NULL;
  PpmsFile *f;
  gsize len = 0;

  if (b64 != NULL)
    {
      guchar *raw = g_base64_decode (b64, &len);
      data = g_bytes_new_take (raw, len);
    }
  else
    data = g_bytes_new (text ? text : "", text ? strlen (text) : 0);
  f = ppms_file_add_copy (server, ppms_json_get_string (o, "file_name"),
                          ppms_json_get_string (o, "file_mime"), data);
  if (ppms_json_get_nonempty (o, "uuid"))
    {
      g_hash_table_steal (server->files, f->uuid);
      g_free (f->uuid);
      f->uuid = S (o, "uuid");
      g_hash_table_replace (server->files, f->uuid, f);
    }
}

static void
load_app (PpmsServer *server, JsonObject *o, gint64 now)
{
  PpmsApp *a = g_new0 (PpmsApp, 1);

  a->uuid = o ? uuid_member (o) : ppms_uuid_new ();
  a->app_name = g_strdup (o && ppms_json_get_string (o, "app_name") ? ppms_json_get_string (o, "app_name") : "Demo Team");
  a->app_key = o && ppms_json_get_string (o, "app_key") ? S (o, "app_key") : ppms_uuid_new ();
  a->app_secret = o && ppms_json_get_string (o, "app_secret") ? S (o, "app_secret") : ppms_uuid_new ();
  a->welcome_message = o ? S (o, "welcome_message") : NULL;
  a->app_icon = o ? S (o, "app_icon") : NULL;
  a->user_uuid = o ? S (o, "user_uuid") : NULL;
  a->createtime = o ? time_member (o, "createtime", now) : now;
  a->updatetime = o ? time_member (o, "updatetime", a->createtime) : now;
  server->app = a;
}

static void
ensure_keys (PpmsServer *server)
{
  static const char *const levels[] = { "PPCOM", "PPKEFU", "PPCONSOLE", "PPCONSOLE_BEFORE_LOGIN",
                                        "THIRD_PARTY_KEFU", "THIRD_PARTY_CONSOLE" };
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    if (ppms_api_key_by_level (server, levels[i]) == NULL)
      {
        g_autoptr (JsonObject) o = json_object_new ();
        json_object_set_string_member (o, "level", levels[i]);
        load_key (server, o, 0);
      }
}

gboolean
ppms_seed_load (PpmsServer *server, JsonObject *root, GError **error)
{
  JsonNode *app = json_object_get_member (root, "app");
  JsonNode *generate = json_object_get_member (root, "generate");
  gint64 now = g_get_real_time ();

  if (generate != NULL && !JSON_NODE_HOLDS_OBJECT (generate))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "\"generate\" is not an object");
      return FALSE;
    }
  load_app (server, app && JSON_NODE_HOLDS_OBJECT (app) ? json_node_get_object (app) : NULL, now);
  load_array (server, root, "api_keys", load_key, now);
  ensure_keys (server);
  load_array (server, root, "users", load_user, now);
  load_array (server, root, "devices", load_device, now);
  load_array (server, root, "conversations", load_conversation, now);
  load_array (server, root, "messages", load_message, now);
  load_array (server, root, "pushes", load_push, now);
  load_array (server, root, "tokens", load_token, now);
  load_array (server, root, "files", load_file, now);
  if (server->app->user_uuid == NULL)
    {
      GHashTableIter iter;
      PpmsUser *u;
      g_hash_table_iter_init (&iter, server->users);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &u))
        if (u->is_owner_user && server->app->user_uuid == NULL)
          server->app->user_uuid = g_strdup (u->uuid);
    }
  /* After the explicit records: generated conversations use their agents. */
  return generate == NULL || ppms_generate_load (server, json_node_get_object (generate), error);
}

/* One owner agent, as the recorded server (credentials of the recordings). */
static const char default_team[] =
  "{\"app\": {\"app_name\": \"Demo Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"agent@ppmessage.local\", \"password\": \"agentpass\","
  "   \"user_fullname\": \"Alice Agent\", \"user_status\": \"OWNER_2\", \"user_language\": \"en_US\","
  "   \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

void
ppms_seed_default_team (PpmsServer *server)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (json_parser_load_from_data (parser, default_team, -1, NULL))
    ppms_seed_load (server, json_node_get_object (json_parser_get_root (parser)), NULL);
}

/* Icons given relative to the server ("/identicon/...") become absolute once
 * the url is known. */
static void
absolutize (PpmsServer *server, char **url)
{
  if (*url != NULL && (*url)[0] == '/')
    {
      char *abs = g_strconcat (server->url, *url, NULL);
      g_free (*url);
      *url = abs;
    }
}

void
ppms_store_absolutize_urls (PpmsServer *server)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, server->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    absolutize (server, &((PpmsUser *) value)->user_icon);
  absolutize (server, &server->app->app_icon);
  g_hash_table_iter_init (&iter, server->conversations);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PpmsConversation *c = value;
      absolutize (server, &c->conversation_icon);
      for (guint i = 0; i < c->members->len; i++)
        absolutize (server, &((PpmsMember *) g_ptr_array_index (c->members, i))->conversation_icon);
    }
}
