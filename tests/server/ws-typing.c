/* ws-typing.c: typing notifications (protocol 6.3.3 - 6.3.5, transcript 03)
 * and ONLINE presence frames (6.4.4, 8.3, transcripts 05 and 05b).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-messaging.h"

/* ---- Typing ---- */

typedef struct {
  char *user_uuid;          /* who types */
  char *conversation_uuid;  /* the typing socket's watched conversation */
} TypingItem;

void
ppms_typing_item_free (gpointer data)
{
  TypingItem *item = data;

  g_free (item->user_uuid);
  g_free (item->conversation_uuid);
  g_free (item);
}

void
ppms_typing_watch (PpmsSocket *socket, JsonObject *frame)
{
  const char *conversation_uuid = ppms_json_get_string (frame, "conversation_uuid");
  PpmsConversation *conv;

  /* A conversation uuid that is not a string cannot name a conversation. */
  conv = conversation_uuid != NULL ? ppms_conversation_lookup (socket->server, conversation_uuid) : NULL;
  /* Listener of every other current member; earlier registrations stay. */
  for (guint i = 0; conv != NULL && conv->members != NULL && i < conv->members->len; i++)
    {
      PpmsMember *member = g_ptr_array_index (conv->members, i);
      if (member->user_uuid != NULL && g_strcmp0 (member->user_uuid, socket->user_uuid) != 0)
        g_hash_table_add (socket->typing_listened, g_strdup (member->user_uuid));
    }
  g_free (socket->watched_conversation);
  socket->watched_conversation = g_strdup (conversation_uuid);
}

void
ppms_typing_unwatch (PpmsSocket *socket)
{
  g_hash_table_remove_all (socket->typing_listened);
  g_clear_pointer (&socket->watched_conversation, g_free);
}

void
ppms_typing (PpmsSocket *socket)
{
  PpmsMessaging *state = ppms_messaging_get (socket->server);
  TypingItem *item;

  if (socket->watched_conversation == NULL || socket->user_uuid == NULL)
    return;
  item = g_new0 (TypingItem, 1);
  item->user_uuid = g_strdup (socket->user_uuid);
  item->conversation_uuid = g_strdup (socket->watched_conversation);
  ppms_timed_queue_push (&state->typing_queue, item);
}

/* The 1 s typing loop: every listener of the typing user that watches the
 * same conversation gets a TYPING frame. */
void
ppms_typing_run (PpmsServer *server, gpointer data)
{
  TypingItem *item = data;
  g_autoptr (JsonObject) frame = json_object_new ();
  g_autofree char *text = NULL;

  json_object_set_string_member (frame, "type", "TYPING");
  json_object_set_string_member (frame, "user_uuid", item->user_uuid);
  json_object_set_string_member (frame, "conversation_uuid", item->conversation_uuid);
  text = ppms_ws_frame_text (frame);
  for (GList *l = server->sockets; l; l = l->next)
    {
      PpmsSocket *listener = l->data;
      if (g_hash_table_contains (listener->typing_listened, item->user_uuid)
          && g_strcmp0 (listener->watched_conversation, item->conversation_uuid) == 0)
        ppms_ws_send_text (listener, text);
    }
}

/* ---- Presence ---- */

void
ppms_presence_register (PpmsSocket *socket)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_remove_all (socket->presence_watched);
  /* Agents watch every service user (themselves included) and every portal
   * user; visitors every service user. Taken now, never extended. */
  g_hash_table_iter_init (&iter, socket->server->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PpmsUser *user = value;
      if (user->uuid != NULL && (user->is_service_user || socket->is_service_user))
        g_hash_table_add (socket->presence_watched, g_strdup (user->uuid));
    }
}

static char *
format_seconds_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%Y-%m-%d %H:%M:%S");
}

void
ppms_presence_notify (PpmsServer *server, const char *user_uuid, const char *browser,
                      const char *mobile, JsonNode *extra_data)
{
  PpmsMessaging *state;
  g_autofree char *createtime = NULL;

  /* BUG 1 (15): the shipped server never delivers them. */
  if (!server->deliver_online || user_uuid == NULL)
    return;
  state = ppms_messaging_get (server);
  createtime = format_seconds_now ();
  /* Listeners are looked up when the notification is queued. */
  for (GList *l = server->sockets; l; l = l->next)
    {
      PpmsSocket *listener = l->data;
      g_autoptr (JsonObject) frame = NULL;

      if (listener->device_uuid == NULL
          || ppms_ws_socket_for_device (server, listener->device_uuid) != listener
          || !g_hash_table_contains (listener->presence_watched, user_uuid))
        continue;
      frame = json_object_new ();
      json_object_set_string_member (frame, "type", "ONLINE");
      json_object_set_string_member (frame, "user_uuid", user_uuid);
      json_object_set_member (frame, "extra_data", extra_data != NULL
                              ? json_node_copy (extra_data) : json_node_new (JSON_NODE_NULL));
      json_object_set_string_member (frame, "mobile", mobile);
      json_object_set_string_member (frame, "browser", browser);
      json_object_set_string_member (frame, "device_uuid", listener->device_uuid);
      json_object_set_string_member (frame, "createtime", createtime);
      ppms_queue_device_frame (&state->online_queue, listener->device_uuid,
                               ppms_ws_frame_text (frame));
    }
}
