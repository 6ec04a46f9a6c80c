/* api-create.c: PP_CREATE_CONVERSATION (protocol 4.17) with the real
 * server's bugs: 2+ members and P2S-without-list for a user with
 * conversations crash, S2P creates no membership.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppms-internal.h"

static void
merge_into (JsonObject *target, JsonObject *source)
{
  GList *members = json_object_get_members (source);

  for (GList *l = members; l; l = l->next)
    json_object_set_member (target, l->data, json_node_copy (json_object_get_member (source, l->data)));
  g_list_free (members);
}

static PpmsConversation *
find_by_group (PpmsServer *server, const char *creator, const char *group)
{
  GHashTableIter iter;
  PpmsConversation *c;

  g_hash_table_iter_init (&iter, server->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &c))
    if (g_strcmp0 (c->user_uuid, creator) == 0 && g_strcmp0 (c->group_uuid, group) == 0)
      return c;
  return NULL;
}

static void
answer_existing (PpmsApiCall *call, PpmsConversation *c, const char *creator)
{
  g_autoptr (JsonObject) conv = ppms_conversation_to_json (c, NULL);
  PpmsMember *m = ppms_conversation_find_member (c, creator);

  merge_into (call->reply, conv);
  if (m != NULL)
    {
      ppms_json_set_string_or_null (call->reply, "conversation_name", m->conversation_name);
      ppms_json_set_string_or_null (call->reply, "conversation_icon", m->conversation_icon);
    }
}

static void
answer_new (PpmsApiCall *call, PpmsConversation *c, GPtrArray *members)
{
  JsonObject *r = call->reply;
  JsonArray *list = json_array_new ();
  g_autofree char *ts_text = ppms_format_ts (c->createtime);
  double ts = g_ascii_strtod (ts_text, NULL);

  for (guint i = 0; i < members->len; i++)
    json_array_add_string_element (list, ((PpmsUser *) g_ptr_array_index (members, i))->uuid);
  json_object_set_array_member (r, "user_list", list);
  json_object_set_string_member (r, "uuid", c->uuid);
  json_object_set_string_member (r, "app_uuid", c->app_uuid);
  json_object_set_string_member (r, "user_uuid", c->user_uuid);
  ppms_json_set_string_or_null (r, "assigned_uuid", c->assigned_uuid);
  ppms_json_set_string_or_null (r, "group_uuid", c->group_uuid);
  json_object_set_string_member (r, "status", c->status);
  ppms_json_set_string_or_null (r, "conversation_name", c->conversation_name);
  ppms_json_set_string_or_null (r, "conversation_icon", c->conversation_icon);
  json_object_set_string_member (r, "conversation_type", c->conversation_type);
  ppms_json_set_datetime (r, "updatetime", c->updatetime);
  ppms_json_set_datetime (r, "createtime", c->createtime);
  json_object_set_double_member (r, "updatetimestamp", ts);
  json_object_set_double_member (r, "createtimestamp", ts);
}

/* Creator's view of a group: names joined, icon of the single member or
 * the composed group icon. */
static void
creator_view (PpmsServer *server, GPtrArray *members, char **name, char **icon)
{
  GString *names = g_string_new (NULL);
  GString *seed = g_string_new (NULL);

  for (guint i = 0; i < members->len; i++)
    {
      PpmsUser *u = g_ptr_array_index (members, i);
      g_string_append_printf (names, "%s%s", i ? "," : "", u->user_fullname ? u->user_fullname : "");
      g_string_append (seed, u->uuid);
    }
  if (members->len == 1)
    *icon = g_strdup (((PpmsUser *) g_ptr_array_index (members, 0))->user_icon);
  else
    {
      g_autofree char *hash = ppms_sha1_hex (seed->str);
      *icon = g_strdup_printf ("%s/identicon/identicon/%s.png", ppms_server_base (server), hash);
    }
  *name = g_string_free (names, FALSE);
  g_string_free (seed, TRUE);
}

static void
create_new (PpmsApiCall *call, PpmsUser *creator, const char *type, GPtrArray *members)
{
  PpmsServer *server = call->server;
  PpmsConversation *c = ppms_conversation_new (server, type, creator->uuid);
  const char *requested_name = ppms_call_string (call, "conversation_name");
  g_autofree char *view_name = NULL, *view_icon = NULL;

  c->group_uuid = g_strdup (ppms_call_string (call, "group_uuid"));
  if (members->len == 1)
    c->assigned_uuid = g_strdup (((PpmsUser *) g_ptr_array_index (members, 0))->uuid);
  creator_view (server, members, &view_name, &view_icon);
  c->conversation_name = g_strdup (requested_name ? requested_name : view_name);
  c->conversation_icon = g_strdup (view_icon);
  if (g_str_equal (type, "S2S") && members->len == 1)
    {
      PpmsUser *other = g_ptr_array_index (members, 0);
      PpmsMember *mine = ppms_conversation_add_member (c, creator->uuid, other->user_fullname, other->user_icon);
      PpmsMember *theirs = ppms_conversation_add_member (c, other->uuid, creator->user_fullname, creator->user_icon);
      mine->conversation_type = g_strdup ("S2S");
      mine->user_name = g_strdup (creator->user_fullname);
      theirs->conversation_type = g_strdup ("S2S");
      theirs->user_name = g_strdup (other->user_fullname);
    }
  else if (!g_str_equal (type, "S2P"))
    {
      for (guint i = 0; i < members->len; i++)
        {
          PpmsUser *u = g_ptr_array_index (members, i);
          PpmsMember *m = ppms_conversation_add_member (c, u->uuid, requested_name, creator->user_icon);
          m->conversation_type = g_strdup (type);
        }
      ppms_conversation_add_member (c, creator->uuid, view_name, view_icon)->conversation_type = g_strdup (type);
    }
  answer_new (call, c, members);
}

static gboolean
has_any_conversation (PpmsServer *server, const char *user_uuid)
{
  return ppms_user_latest_conversation (server, user_uuid) != NULL;
}

static void
create_conversation (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  JsonNode *list_node = json_object_get_member (call->body, "member_list");
  JsonArray *list = list_node && JSON_NODE_HOLDS_ARRAY (list_node) ? json_node_get_array (list_node) : NULL;
  const char *creator_uuid, *type, *group;
  g_autoptr (GPtrArray) members = g_ptr_array_new ();
  PpmsUser *creator;
  PpmsConversation *c;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", "conversation_type", NULL))
    return;
  creator_uuid = ppms_call_string (call, "user_uuid");
  type = ppms_call_string (call, "conversation_type");
  group = ppms_call_string (call, "group_uuid");
  if (!g_str_equal (type, "P2S") && list == NULL)
    {
      call->error_code = PPMS_ERR_NO_PARA;
      return;
    }
  if (group != NULL && (c = find_by_group (server, creator_uuid, group)) != NULL)
    {
      answer_existing (call, c, creator_uuid);
      return;
    }
  if (list != NULL && json_array_get_length (list) >= 2)
    {
      ppms_call_crash (call, "UnboundLocalError: cannot access local variable '_conversations' where it is not associated with a value");
      return;
    }
  if (list != NULL && json_array_get_length (list) == 1)
    {
      const char *member = ppms_json_array_get_string (list, 0);
      if (member != NULL && (c = ppms_find_one_to_one (server, creator_uuid, member)) != NULL)
        {
          answer_existing (call, c, creator_uuid);
          return;
        }
    }
  if (list == NULL && has_any_conversation (server, creator_uuid))
    {
      ppms_call_crash (call, "NameError: name '_conversation_uuid' is not defined");
      return;
    }
  if ((creator = ppms_user_lookup (server, creator_uuid)) == NULL)
    {
      ppms_call_crash (call, "TypeError: 'NoneType' object is not subscriptable");
      return;
    }
  if (list == NULL)
    {
      g_autoptr (GPtrArray) agents = ppms_service_users (server);
      for (guint i = 0; i < agents->len; i++)
        g_ptr_array_add (members, g_ptr_array_index (agents, i));
    }
  else
    for (guint i = 0; i < json_array_get_length (list); i++)
      {
        PpmsUser *u = ppms_user_lookup (server, ppms_json_array_get_string (list, i));
        if (u == NULL)
          {
            ppms_call_crash (call, "TypeError: 'NoneType' object is not subscriptable");
            return;
          }
        g_ptr_array_add (members, u);
      }
  if (members->len == 0)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION_MEMBER;
      return;
    }
  create_new (call, creator, type, members);
}

void
ppms_create_conversation_init (PpmsServer *server)
{
  ppms_api_register (server, "PP_CREATE_CONVERSATION", PPMS_LEVELS_CHAT, TRUE, create_conversation);
}
