/* api-conversations.c: conversation lists, info, members, creation (with the
 * real server's bugs), membership changes and closing.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

static void
merge_into (JsonObject *target, JsonObject *source)
{
  GList *members = json_object_get_members (source);

  for (GList *l = members; l; l = l->next)
    json_object_set_member (target, l->data, json_node_copy (json_object_get_member (source, l->data)));
  g_list_free (members);
}

static gint64
page_size_of (JsonObject *body)
{
  gint64 size;
  return ppms_json_get_int (body, "page_size", &size) && size >= 0 ? size : 30;
}

static gint64
page_offset_of (JsonObject *body)
{
  gint64 offset;
  return ppms_json_get_int (body, "page_offset", &offset) && offset > 0 ? offset : 0;
}

static JsonObject *
page_item (PpmsServer *server, const PpmsMembership *item)
{
  JsonObject *o = ppms_conversation_to_raw_json (item->conv);
  PpmsUser *creator = ppms_user_lookup (server, item->conv->user_uuid);
  PpmsMessage *latest = ppms_conversation_latest_message (server, item->conv);

  json_object_set_object_member (o, "conversation_data", ppms_member_to_raw_json (server, item->conv, item->member));
  if (creator != NULL)
    {
      JsonObject *from = json_object_new ();
      ppms_json_set_string_or_null (from, "user_fullname", creator->user_fullname);
      ppms_json_set_string_or_null (from, "user_icon", creator->user_icon);
      ppms_json_set_string_or_null (from, "user_email", creator->user_email);
      json_object_set_string_member (from, "uuid", creator->uuid);
      json_object_set_object_member (o, "from_user", from);
    }
  else
    json_object_set_null_member (o, "from_user");
  if (latest != NULL)
    json_object_set_object_member (o, "latest_message", ppms_message_to_raw_json (latest));
  else
    json_object_set_null_member (o, "latest_message");
  return o;
}

static void
page_user_conversation (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const char *user_uuid = ppms_json_get_string (call->body, "user_uuid");
  const char *max_uuid = ppms_json_get_string (call->body, "max_uuid");
  const char *min_uuid = ppms_json_get_string (call->body, "min_uuid");
  gint64 size = page_size_of (call->body), offset = page_offset_of (call->body);
  const GArray *items;
  JsonArray *list = json_array_new ();
  gint64 start = 0, end = -1;

  if (user_uuid == NULL || ppms_json_get_string (call->body, "page_size") != NULL
      || ppms_json_get_string (call->body, "page_offset") != NULL)
    {
      /* Missing user or string paging values: the handler raises. */
      json_array_unref (list);
      ppms_call_crash (call, user_uuid ? "TypeError: can't multiply sequence by non-int of type 'str'"
                                       : "KeyError: 'user_uuid'");
      return;
    }
  items = ppms_user_open_conversations (server, user_uuid);
  if (max_uuid != NULL || min_uuid != NULL)
    {
      gint at = ppms_user_open_position (server, user_uuid, max_uuid ? max_uuid : min_uuid);
      if (at >= 0 && max_uuid != NULL)
        start = at + 1, end = MIN ((gint64) items->len, at + 1 + size);
      else if (at >= 0)
        start = MAX (0, at - size), end = at;
    }
  else
    {
      start = offset * size;
      end = size > 0 ? MIN ((gint64) items->len, start + size) : (gint64) items->len;
    }
  for (gint64 i = MAX (start, 0); i < end && i < (gint64) items->len; i++)
    json_array_add_object_element (list, page_item (server, &g_array_index (items, PpmsMembership, i)));
  json_object_set_int_member (call->reply, "total_count", items->len);
  json_object_set_int_member (call->reply, "return_count", json_array_get_length (list));
  json_object_set_int_member (call->reply, "page_offset", offset);
  json_object_set_int_member (call->reply, "page_size", size);
  ppms_json_set_string_or_null (call->reply, "max_uuid", max_uuid);
  ppms_json_set_string_or_null (call->reply, "min_uuid", min_uuid);
  json_object_set_array_member (call->reply, "list", list);
}

static JsonObject *
creator_json (PpmsUser *u)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "uuid", u->uuid);
  ppms_json_set_string_or_null (o, "user_name", u->user_name);
  ppms_json_set_string_or_null (o, "user_email", u->user_email);
  json_object_set_null_member (o, "user_firstname");
  json_object_set_null_member (o, "user_lastname");
  ppms_json_set_string_or_null (o, "user_fullname", u->user_fullname);
  ppms_json_set_string_or_null (o, "user_icon", u->user_icon);
  ppms_json_set_string_or_null (o, "user_status", u->user_status);
  json_object_set_int_member (o, "updatetime", ppms_epoch_seconds (u->updatetime));
  json_object_set_int_member (o, "createtime", ppms_epoch_seconds (u->createtime));
  return o;
}

static void
get_user_conversation_list (PpmsApiCall *call)
{
  PpmsServer *server = call->server;
  const GArray *items;
  JsonArray *list;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", NULL))
    return;
  items = ppms_user_open_conversations (server, ppms_call_string (call, "user_uuid"));
  list = json_array_new ();
  for (guint i = 0; i < items->len; i++)
    {
      const PpmsMembership *item = &g_array_index (items, PpmsMembership, i);
      JsonObject *o = ppms_conversation_to_json (item->conv, NULL);
      PpmsUser *creator = ppms_user_lookup (server, item->conv->user_uuid);
      PpmsMessage *latest = ppms_conversation_latest_message (server, item->conv);

      if (item->member->conversation_name)
        json_object_set_string_member (o, "conversation_name", item->member->conversation_name);
      if (item->member->conversation_icon)
        json_object_set_string_member (o, "conversation_icon", item->member->conversation_icon);
      json_object_set_object_member (o, "conversation_data", ppms_member_to_json (server, item->conv, item->member));
      if (creator)
        json_object_set_object_member (o, "from_user", creator_json (creator));
      else
        json_object_set_null_member (o, "from_user");
      if (latest)
        json_object_set_object_member (o, "latest_message", ppms_message_to_json (latest));
      else
        json_object_set_null_member (o, "latest_message");
      json_array_add_object_element (list, o);
    }
  json_object_set_array_member (call->reply, "list", list);
}

static void
get_conversation_info (PpmsApiCall *call)
{
  PpmsConversation *c;
  PpmsMember *m;
  g_autoptr (JsonObject) conv = NULL;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", "conversation_uuid", NULL))
    return;
  c = ppms_conversation_lookup (call->server, ppms_call_string (call, "conversation_uuid"));
  m = ppms_conversation_find_member (c, ppms_call_string (call, "user_uuid"));
  if (m == NULL)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION;
      return;
    }
  conv = ppms_conversation_to_json (c, m);
  merge_into (call->reply, conv);
  json_object_set_object_member (call->reply, "conversation_data", ppms_member_to_json (call->server, c, m));
}

static void
get_conversation_user_list (PpmsApiCall *call)
{
  PpmsConversation *c;
  JsonArray *list;

  if (!ppms_call_require (call, "app_uuid", "conversation_uuid", NULL))
    return;
  if ((c = ppms_conversation_lookup (call->server, ppms_call_string (call, "conversation_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION;
      return;
    }
  list = json_array_new ();
  for (guint i = 0; i < c->members->len; i++)
    {
      PpmsUser *u = ppms_user_lookup (call->server, ((PpmsMember *) g_ptr_array_index (c->members, i))->user_uuid);
      if (u != NULL)
        json_array_add_object_element (list, ppms_user_to_list_item (call->server, u));
    }
  json_object_set_array_member (call->reply, "list", list);
}

static void
close_conversation (PpmsApiCall *call)
{
  PpmsConversation *c;
  PpmsMember *m;

  if (!ppms_call_require (call, "app_uuid", "user_uuid", "conversation_uuid", NULL))
    return;
  c = ppms_conversation_lookup (call->server, ppms_call_string (call, "conversation_uuid"));
  if ((m = ppms_conversation_find_member (c, ppms_call_string (call, "user_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION;
      return;
    }
  g_free (m->status);
  m->status = g_strdup ("CLOSE");
  m->updatetime = g_get_real_time ();
}

static void
open_conversation (PpmsApiCall *call)
{
  if (ppms_call_require (call, "conversation_uuid", NULL))
    ppms_call_crash (call, "NameError: name '_user_app' is not defined");
}

static void
update_conversation (PpmsApiCall *call)
{
  PpmsConversation *c;

  if (!ppms_call_require (call, "conversation_uuid", "assigned_uuid", NULL))
    return;
  if ((c = ppms_conversation_lookup (call->server, ppms_call_string (call, "conversation_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION;
      return;
    }
  g_free (c->assigned_uuid);
  c->assigned_uuid = g_strdup (ppms_call_string (call, "assigned_uuid"));
  c->updatetime = g_get_real_time ();
}

static void
update_conversation_member (PpmsApiCall *call)
{
  JsonNode *list_node;
  JsonArray *list;
  PpmsConversation *c;
  const char *action, *group;

  if (!ppms_call_require (call, "app_uuid", "conversation_uuid", "action", NULL))
    return;
  if ((list_node = json_object_get_member (call->body, "member_list")) == NULL || JSON_NODE_HOLDS_NULL (list_node))
    {
      call->error_code = PPMS_ERR_NO_PARA;
      return;
    }
  if (!JSON_NODE_HOLDS_ARRAY (list_node))
    {
      call->error_code = PPMS_ERR_NOT_LIST;
      return;
    }
  if ((c = ppms_conversation_lookup (call->server, ppms_call_string (call, "conversation_uuid"))) == NULL)
    {
      call->error_code = PPMS_ERR_NO_CONVERSATION;
      return;
    }
  list = json_node_get_array (list_node);
  action = ppms_call_string (call, "action");
  group = ppms_call_string (call, "group_uuid");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      const char *uuid = ppms_json_array_get_string (list, i);
      PpmsMember *m = ppms_conversation_find_member (c, uuid);
      if (uuid == NULL)
        continue;
      if (g_str_equal (action, "ADD") && m == NULL)
        {
          m = ppms_conversation_add_member (c, uuid, NULL, NULL);
          g_free (m->status);
          m->status = g_strdup ("OPEN");
          m->conversation_type = g_strdup (c->conversation_type);
        }
      else if (g_str_equal (action, "REMOVE") && m != NULL)
        ppms_conversation_remove_member (c, m);
    }
  if (g_str_equal (action, "ADD") && group != NULL)
    {
      g_free (c->group_uuid);
      c->group_uuid = g_strdup (group);
    }
}

void
ppms_conversations_api_init (PpmsServer *server)
{
  ppms_api_register (server, "PP_PAGE_USER_CONVERSATION", PPMS_LEVELS_CHAT, TRUE, page_user_conversation);
  ppms_api_register (server, "PP_GET_USER_CONVERSATION_LIST", PPMS_LEVELS_FIVE, TRUE, get_user_conversation_list);
  ppms_api_register (server, "PP_GET_CONVERSATION_INFO", PPMS_LEVELS_FIVE, TRUE, get_conversation_info);
  ppms_api_register (server, "PP_GET_CONVERSATION_USER_LIST", PPMS_LEVELS_FIVE, TRUE, get_conversation_user_list);
  ppms_api_register (server, "PP_CLOSE_CONVERSATION", PPMS_LEVELS_FIVE, TRUE, close_conversation);
  ppms_api_register (server, "PP_OPEN_CONVERSATION", PPMS_LEVELS_FIVE, TRUE, open_conversation);
  ppms_api_register (server, "PP_UPDATE_CONVERSATION", PPMS_LEVELS_CHAT, FALSE, update_conversation);
  ppms_api_register (server, "PP_UPDATE_CONVERSATION_MEMBER", PPMS_LEVELS_CHAT, TRUE, update_conversation_member);
  ppms_create_conversation_init (server);
}
