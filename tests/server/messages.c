/* messages.c: the message endpoints of /api: ACK_MESSAGE, PP_SEND_MESSAGE
 * (broken as shipped), PP_PAGE_HISTORY_MESSAGE and PP_PAGE_UNACKED_MESSAGE
 * (protocol 4.13 - 4.16, 11.2, 16.6; transcripts 04, 07, 12, 15).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-messaging.h"

#define DEFAULT_PAGE_SIZE 30
#define PAGE_LEVELS "PPCOM,PPKEFU,THIRD_PARTY_KEFU"
#define FIVE_LEVELS "PPCOM,PPKEFU,PPCONSOLE,THIRD_PARTY_KEFU,THIRD_PARTY_CONSOLE"

/* ---- Paging parameters (11.2) ---- */

/* Reads an optional integer: absent, null or negative gives the default.
 * Another type makes the real handler raise (comparison with 0): FALSE and
 * call->crash set. */
static gboolean
page_param (PpmsApiCall *call, const char *name, gint64 fallback, gint64 *out)
{
  JsonNode *node = json_object_get_member (call->body, name);

  *out = fallback;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      if (json_node_get_int (node) >= 0)
        *out = json_node_get_int (node);
      return TRUE;
    }
  call->crash = g_strdup_printf ("TypeError: '<' not supported between instances of '%s' and 'int'",
                                 JSON_NODE_HOLDS_VALUE (node)
                                 && json_node_get_value_type (node) == G_TYPE_STRING ? "str"
                                 : JSON_NODE_HOLDS_OBJECT (node) ? "dict"
                                 : JSON_NODE_HOLDS_ARRAY (node) ? "list" : "float");
  return FALSE;
}

/* A uuid parameter: NULL when absent or null; other types cannot match. */
static const char *
uuid_param (PpmsApiCall *call, const char *name, gboolean *present)
{
  *present = ppms_json_has_nonnull (call->body, name);
  return ppms_json_get_string (call->body, name);
}

/* ---- ACK_MESSAGE (4.15) ---- */

static void
ack_message (PpmsApiCall *call)
{
  JsonNode *node = json_object_get_member (call->body, "list");
  JsonArray *list;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      call->error_code = PPMS_ERR_NO_PARA;
      return;
    }
  list = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *element = json_array_get_element (list, i);
      PpmsPush *push;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        continue;
      push = g_hash_table_lookup (call->server->pushes, json_node_get_string (element));
      if (push != NULL)
        {
          g_free (push->status);
          push->status = g_strdup ("ACKED");
        }
    }
}

/* ---- PP_SEND_MESSAGE (4.16.2): BUG 2, always 16 ---- */

static void
send_message (PpmsApiCall *call)
{
  static const char *required[] = {
    "uuid", "conversation_uuid", "message_type", "message_subtype", "message_body",
    "from_uuid", "from_type", "to_uuid", "to_type",
  };

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!ppms_json_has_nonnull (call->body, required[i]))
      {
        call->error_code = PPMS_ERR_NO_PARA;
        return;
      }
  /* The sub-type parsers are never registered on this path. */
  call->error_code = PPMS_ERR_MESSAGE;
}

/* ---- PP_PAGE_HISTORY_MESSAGE (4.14, 16.6) ---- */

static void
set_string_if (JsonObject *object, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
}

JsonObject *
ppms_message_to_history_json (PpmsServer *server, PpmsMessage *message)
{
  JsonObject *item = json_object_new ();
  PpmsUser *user = message->from_uuid != NULL ? ppms_user_lookup (server, message->from_uuid) : NULL;

  /* A raw Redis hash: only the fields that are set, every value a string. */
  set_string_if (item, "uuid", message->uuid);
  ppms_json_set_datetime (item, "createtime", message->createtime);
  ppms_json_set_datetime (item, "updatetime",
                          message->updatetime != 0 ? message->updatetime : message->createtime);
  set_string_if (item, "app_uuid", message->app_uuid);
  set_string_if (item, "conversation_uuid", message->conversation_uuid);
  set_string_if (item, "conversation_type", message->conversation_type);
  set_string_if (item, "from_uuid", message->from_uuid);
  set_string_if (item, "from_type", message->from_type);
  set_string_if (item, "from_device_uuid", message->from_device_uuid);
  set_string_if (item, "to_uuid", message->to_uuid);
  set_string_if (item, "to_type", message->to_type);
  set_string_if (item, "message_type", message->message_type);
  set_string_if (item, "message_subtype", message->message_subtype);
  set_string_if (item, "body", message->body);
  set_string_if (item, "task_status", message->task_status);
  set_string_if (item, "message_body", message->message_body);
  if (message->from_uuid == NULL)
    return item;
  if (user == NULL)
    {
      json_object_set_null_member (item, "from_user");
      return item;
    }
  {
    JsonObject *from_user = json_object_new ();
    ppms_json_set_string_or_null (from_user, "user_fullname", user->user_fullname);
    ppms_json_set_string_or_null (from_user, "user_icon", user->user_icon);
    ppms_json_set_string_or_null (from_user, "user_email", user->user_email);
    json_object_set_string_member (from_user, "uuid", user->uuid);
    json_object_set_object_member (item, "from_user", from_user);
  }
  return item;
}

/* Appends messages[from..to] (inclusive, either direction) to the reply. */
static void
reply_messages (PpmsApiCall *call, GPtrArray *messages, gint from, gint to)
{
  JsonArray *list = json_array_new ();
  gint step = from <= to ? 1 : -1;

  for (gint i = from; messages->len > 0 && i != to + step; i += step)
    json_array_add_object_element (list,
                                   ppms_message_to_history_json (call->server,
                                                                 g_ptr_array_index (messages, i)));
  json_object_set_int_member (call->reply, "return_count", json_array_get_length (list));
  json_object_set_array_member (call->reply, "list", list);
}

static void
history_by_page (PpmsApiCall *call, GPtrArray *messages, gint64 offset_pages, gint64 size)
{
  gint64 total = messages->len, offset = offset_pages * size, count;

  json_object_set_int_member (call->reply, "return_count", 0);
  json_object_set_int_member (call->reply, "page_size", size);
  json_object_set_int_member (call->reply, "page_offset", offset_pages);
  json_object_set_array_member (call->reply, "list", json_array_new ());
  if (offset >= total)
    return;
  /* Newest first; page_size 0 returns everything (range end -1). */
  count = size == 0 || offset + size > total ? total - offset : size;
  reply_messages (call, messages, (gint) (total - 1 - offset), (gint) (total - offset - count));
}

static void
history_by_max (PpmsApiCall *call, PpmsConversation *conv, const char *max_uuid, gint64 size)
{
  GPtrArray *messages = conv->messages;
  gint index = max_uuid != NULL ? ppms_conversation_message_index (call->server, conv, max_uuid) : -1;
  gint64 count;

  json_object_set_int_member (call->reply, "return_count", 0);
  json_object_set_member (call->reply, "max_uuid",
                          json_node_copy (json_object_get_member (call->body, "max_uuid")));
  json_object_set_array_member (call->reply, "list", json_array_new ());
  if (index <= 0)
    return;
  /* Strictly older than max_uuid, newest first, page_size items. */
  count = MIN (size, (gint64) index);
  if (count > 0)
    reply_messages (call, messages, index - 1, (gint) (index - count));
}

static void
history_by_min (PpmsApiCall *call, PpmsConversation *conv, const char *min_uuid, gint64 size)
{
  GPtrArray *messages = conv->messages;
  gint index = min_uuid != NULL ? ppms_conversation_message_index (call->server, conv, min_uuid) : -1;
  gint64 count;

  json_object_set_int_member (call->reply, "return_count", 0);
  json_object_set_member (call->reply, "min_uuid",
                          json_node_copy (json_object_get_member (call->body, "min_uuid")));
  json_object_set_array_member (call->reply, "list", json_array_new ());
  if (index < 0)
    return;
  /* The window of page_size includes min_uuid itself, which is dropped:
   * page_size - 1 newer messages, oldest first. */
  count = MIN (size - 1, (gint64) messages->len - 1 - index);
  if (count > 0)
    reply_messages (call, messages, index + 1, (gint) (index + count));
}

static void
page_history (PpmsApiCall *call)
{
  JsonNode *conv_node = json_object_get_member (call->body, "conversation_uuid");
  gboolean has_max, has_min;
  const char *max_uuid = uuid_param (call, "max_uuid", &has_max);
  const char *min_uuid = uuid_param (call, "min_uuid", &has_min);
  PpmsConversation *conv;
  gint64 size, offset;

  if (conv_node == NULL || JSON_NODE_HOLDS_NULL (conv_node))
    {
      call->error_code = PPMS_ERR_NO_PARA;
      return;
    }
  if (has_max && has_min)
    {
      call->error_code = PPMS_ERR_PAGE_MAX_MIN;
      return;
    }
  if (!JSON_NODE_HOLDS_VALUE (conv_node) || json_node_get_value_type (conv_node) != G_TYPE_STRING)
    {
      call->crash = g_strdup ("TypeError: can only concatenate str (not \"int\") to str");
      return;
    }
  conv = ppms_conversation_lookup (call->server, json_node_get_string (conv_node));
  if (conv == NULL || conv->messages == NULL || conv->messages->len == 0)
    {
      /* No list key at all (transcripts 02 and 15). */
      json_object_set_int_member (call->reply, "total_count", 0);
      json_object_set_int_member (call->reply, "return_count", 0);
      return;
    }
  json_object_set_int_member (call->reply, "total_count", conv->messages->len);
  if (!page_param (call, "page_size", DEFAULT_PAGE_SIZE, &size))
    return;
  if (has_max)
    history_by_max (call, conv, max_uuid, size);
  else if (has_min)
    history_by_min (call, conv, min_uuid, size);
  else if (page_param (call, "page_offset", 0, &offset))
    history_by_page (call, conv->messages, offset, size);
}

/* ---- PP_PAGE_UNACKED_MESSAGE (4.13) ---- */

static void
unacked_page (PpmsApiCall *call, const GPtrArray *pushes, gint64 offset_pages, gint64 size)
{
  JsonArray *list = json_array_new ();
  JsonObject *messages = json_object_new ();
  gint64 total = pushes->len, offset = offset_pages * size;
  gint64 end = size == 0 ? total : MIN (total, offset + size);

  /* BUG 5 (15): return_count is never updated. */
  json_object_set_int_member (call->reply, "return_count", 0);
  json_object_set_int_member (call->reply, "page_size", size);
  json_object_set_int_member (call->reply, "page_offset", offset_pages);
  for (gint64 i = offset; i < end; i++)
    {
      PpmsPush *push = g_ptr_array_index (pushes, i);
      PpmsMessage *message = ppms_message_lookup (call->server, push->message_uuid);

      json_array_add_string_element (list, push->uuid);
      if (message != NULL && message->message_body != NULL)
        json_object_set_string_member (messages, push->uuid, message->message_body);
      else
        json_object_set_null_member (messages, push->uuid);
    }
  json_object_set_array_member (call->reply, "list", list);
  json_object_set_object_member (call->reply, "message", messages);
}

static void
page_unacked (PpmsApiCall *call)
{
  const char *user_uuid = ppms_json_get_string (call->body, "user_uuid");
  gboolean has_max;
  const char *max_uuid = uuid_param (call, "max_uuid", &has_max);
  const GPtrArray *pushes;
  gint64 size, offset;

  if (user_uuid == NULL || !ppms_json_has_nonnull (call->body, "app_uuid"))
    {
      call->error_code = PPMS_ERR_NO_PARA;
      return;
    }
  pushes = ppms_user_unacked_pushes (call->server, user_uuid);   /* oldest first */
  json_object_set_int_member (call->reply, "total_count", pushes->len);
  if (!page_param (call, "page_offset", 0, &offset) || !page_param (call, "page_size", DEFAULT_PAGE_SIZE, &size))
    return;
  if (has_max)
    {
      /* BUG 5 (15): a known push uuid crashes the handler (transcript 04). */
      if (max_uuid != NULL && g_hash_table_contains (call->server->pushes, max_uuid))
        {
          call->crash = g_strdup ("TypeError: object of type 'NoneType' has no len()");
          return;
        }
      json_object_set_int_member (call->reply, "return_count", 0);
      json_object_set_member (call->reply, "max_uuid",
                              json_node_copy (json_object_get_member (call->body, "max_uuid")));
      json_object_set_array_member (call->reply, "list", json_array_new ());
      json_object_set_object_member (call->reply, "message", json_object_new ());
      return;
    }
  /* min_uuid is never read (the code reads max_uuid twice): page mode. */
  unacked_page (call, pushes, offset, size);
}

void
ppms_messages_init (PpmsServer *server)
{
  ppms_messaging_get (server);
  ppms_api_register (server, "ACK_MESSAGE", PAGE_LEVELS, FALSE, ack_message);
  ppms_api_register (server, "PP_SEND_MESSAGE", PAGE_LEVELS, TRUE, send_message);
  ppms_api_register (server, "PP_PAGE_HISTORY_MESSAGE", FIVE_LEVELS, FALSE, page_history);
  ppms_api_register (server, "PP_PAGE_UNACKED_MESSAGE", PAGE_LEVELS, TRUE, page_unacked);
}
