/* chat.c: group conversations of agents (PpmConversation's is_group) as
 * libpurple chats. A chat's name is its conversation's uuid (stable), its
 * title the group's name; its members are named by user uuid, so the
 * colleagues' buddies give them their names. Each group is a chat on the
 * buddy list, listed in the room list; "Join a Chat" opens one by name or
 * creates one with the colleagues given; inviting adds a colleague.
 *
 * Closing a chat window only closes it: the agent stays in the group and
 * its next message opens the window again (no message is lost). Leaving
 * the group for good is the chat's buddy-list menu item.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <errno.h>
#include <roomlist.h>

/* Components of a chat (the Join a Chat fields and the buddy list's). */
#define CHAT_NAME         "name"
#define CHAT_MEMBERS      "members"
#define CHAT_CONVERSATION "conversation"

/* Node setting of a PurpleChat the plugin put on the list for a group. */
#define PPM_NODE_GROUP_CHAT "ppm-group-chat"

static const PpmConversation *
group_of (PpmAccount *pa, const char *conversation_uuid)
{
  const PpmConversation *conversation =
    conversation_uuid != NULL ? ppm_client_lookup_conversation (pa->client, conversation_uuid)
                              : NULL;

  return conversation != NULL && conversation->is_group ? conversation : NULL;
}

gboolean
ppm_chat_is_group (PpmAccount *pa, const char *conversation_uuid)
{
  return group_of (pa, conversation_uuid) != NULL;
}

static int
chat_id (PpmAccount *pa, const char *conversation_uuid)
{
  gpointer id;

  if (pa->chat_ids == NULL)
    pa->chat_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!g_hash_table_lookup_extended (pa->chat_ids, conversation_uuid, NULL, &id)) {
    id = GINT_TO_POINTER (++pa->last_chat_id);
    g_hash_table_insert (pa->chat_ids, g_strdup (conversation_uuid), id);
  }
  return GPOINTER_TO_INT (id);
}

static PurpleConversation *
find_chat_window (PpmAccount *pa, const char *conversation_uuid)
{
  return purple_find_conversation_with_account (PURPLE_CONV_TYPE_CHAT, conversation_uuid,
                                                pa->account);
}

static const char *
self_uuid (PpmAccount *pa)
{
  const PpmUser *self = ppm_client_get_self (pa->client);

  return self != NULL ? self->uuid : NULL;
}

static gboolean
has_member (const PpmConversation *conversation, const char *uuid)
{
  for (guint i = 0; i < conversation->member_uuids->len; i++)
    if (g_strcmp0 (conversation->member_uuids->pdata[i], uuid) == 0)
      return TRUE;
  return FALSE;
}

/* The window's member list follows the group's: members already there when
 * it opens are added without "entered the room" lines (new_arrivals). */
static void
sync_members (PpmAccount *pa, PurpleConversation *conv, const PpmConversation *conversation,
              gboolean new_arrivals)
{
  PurpleConvChat *chat = PURPLE_CONV_CHAT (conv);
  GList *add = NULL, *flags = NULL, *gone = NULL;

  for (guint i = 0; i < conversation->member_uuids->len; i++) {
    const char *uuid = conversation->member_uuids->pdata[i];

    if (!purple_conv_chat_find_user (chat, uuid)) {
      add = g_list_prepend (add, (gpointer) uuid);
      flags = g_list_prepend (flags, GINT_TO_POINTER (PURPLE_CBFLAGS_NONE));
    }
  }
  for (GList *l = purple_conv_chat_get_users (chat); l != NULL; l = l->next) {
    const char *name = purple_conv_chat_cb_get_name (l->data);

    if (!has_member (conversation, name))
      gone = g_list_prepend (gone, g_strdup (name));
  }
  if (add != NULL)
    purple_conv_chat_add_users (chat, add, NULL, flags, new_arrivals);
  if (gone != NULL)
    purple_conv_chat_remove_users (chat, gone, NULL);
  g_list_free (add);
  g_list_free (flags);
  g_list_free_full (gone, g_free);
}

static char *
chat_title (const PpmConversation *conversation)
{
  return ppm_text_one_line (conversation->name != NULL ? conversation->name
                                                       : conversation->uuid);
}

/* The group's window, opened (joined) when it is not. */
static PurpleConversation *
open_chat (PpmAccount *pa, const PpmConversation *conversation)
{
  PurpleConversation *conv = find_chat_window (pa, conversation->uuid);
  char *title;

  if (conv != NULL && !purple_conv_chat_has_left (PURPLE_CONV_CHAT (conv)))
    return conv;
  conv = serv_got_joined_chat (pa->gc, chat_id (pa, conversation->uuid), conversation->uuid);
  if (conv == NULL)
    return NULL;
  title = chat_title (conversation);
  purple_conversation_set_title (conv, title);
  g_free (title);
  if (self_uuid (pa) != NULL)
    purple_conv_chat_set_nick (PURPLE_CONV_CHAT (conv), self_uuid (pa));
  sync_members (pa, conv, conversation, FALSE);
  /* The server tells who types in the one conversation watched. */
  ppm_typing_watch (pa, conversation->uuid);
  return conv;
}

/* ---- The buddy list ---- */

/* libpurple would match a chat by its first Join a Chat field (the
 * group's name, which can change): a group's chat is found by its uuid. */
PurpleChat *
ppm_chat_find_blist_chat (PurpleAccount *account, const char *conversation_uuid)
{
  for (PurpleBlistNode *node = purple_blist_get_root (); node != NULL;
       node = purple_blist_node_next (node, TRUE)) {
    if (PURPLE_BLIST_NODE_IS_CHAT (node) && purple_chat_get_account (PURPLE_CHAT (node)) == account
        && g_strcmp0 (g_hash_table_lookup (purple_chat_get_components (PURPLE_CHAT (node)),
                                           CHAT_CONVERSATION), conversation_uuid) == 0)
      return PURPLE_CHAT (node);
  }
  return NULL;
}

static PurpleChat *
find_blist_chat (PpmAccount *pa, const char *conversation_uuid)
{
  return ppm_chat_find_blist_chat (pa->account, conversation_uuid);
}

static void
ensure_blist_chat (PpmAccount *pa, const PpmConversation *conversation)
{
  PurpleChat *chat = find_blist_chat (pa, conversation->uuid);
  char *alias = chat_title (conversation);

  if (chat == NULL) {
    GHashTable *components = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    const char *team = ppm_client_get_team_name (pa->client);
    char *group_name = g_strdup_printf (_("%s Groups"), team != NULL && *team != '\0'
                                                          ? team : PPM_PROTOCOL_NAME);
    char *clean = ppm_text_one_line (group_name);
    PurpleGroup *group = purple_find_group (clean);

    if (group == NULL) {
      group = purple_group_new (clean);
      purple_blist_add_group (group, NULL);
    }
    g_hash_table_insert (components, g_strdup (CHAT_CONVERSATION), g_strdup (conversation->uuid));
    chat = purple_chat_new (pa->account, alias, components);
    purple_blist_add_chat (chat, group, NULL);
    purple_blist_node_set_bool (PURPLE_BLIST_NODE (chat), PPM_NODE_GROUP_CHAT, TRUE);
    g_free (clean);
    g_free (group_name);
  } else if (g_strcmp0 (purple_chat_get_name (chat), alias) != 0) {
    purple_blist_alias_chat (chat, alias);
  }
  g_free (alias);
}

static void
remove_blist_chat (PpmAccount *pa, const char *conversation_uuid)
{
  PurpleChat *chat = find_blist_chat (pa, conversation_uuid);

  if (chat != NULL && purple_blist_node_get_bool (PURPLE_BLIST_NODE (chat), PPM_NODE_GROUP_CHAT))
    purple_blist_remove_chat (chat);
}

void
ppm_chat_conversation_changed (PpmAccount *pa, const PpmConversation *conversation)
{
  PurpleConversation *conv;

  if (conversation == NULL || !conversation->is_group)
    return;
  if (!conversation->is_open) {
    remove_blist_chat (pa, conversation->uuid);
    return;
  }
  ensure_blist_chat (pa, conversation);
  conv = find_chat_window (pa, conversation->uuid);
  if (conv != NULL && !purple_conv_chat_has_left (PURPLE_CONV_CHAT (conv))) {
    char *title = chat_title (conversation);

    purple_conversation_set_title (conv, title);
    g_free (title);
    sync_members (pa, conv, conversation, TRUE);
  }
}

void
ppm_chat_conversations_synced (PpmAccount *pa, GPtrArray *open_conversations)
{
  GHashTable *open = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *stale = g_ptr_array_new_with_free_func (g_free);
  PurpleBlistNode *node;

  for (guint i = 0; open_conversations != NULL && i < open_conversations->len; i++) {
    const PpmConversation *conversation = open_conversations->pdata[i];

    if (conversation->is_group) {
      ensure_blist_chat (pa, conversation);
      g_hash_table_add (open, conversation->uuid);
    }
  }
  /* Collect first: removing while walking would free the nodes walked. */
  for (node = purple_blist_get_root (); node != NULL; node = purple_blist_node_next (node, FALSE)) {
    PurpleChat *chat;
    const char *uuid;

    if (!PURPLE_BLIST_NODE_IS_CHAT (node) || purple_chat_get_account (PURPLE_CHAT (node)) != pa->account
        || !purple_blist_node_get_bool (node, PPM_NODE_GROUP_CHAT))
      continue;
    chat = PURPLE_CHAT (node);
    uuid = g_hash_table_lookup (purple_chat_get_components (chat), CHAT_CONVERSATION);
    if (uuid != NULL && !g_hash_table_contains (open, uuid))
      g_ptr_array_add (stale, g_strdup (uuid));
  }
  for (guint i = 0; i < stale->len; i++)
    remove_blist_chat (pa, stale->pdata[i]);
  g_ptr_array_free (stale, TRUE);
  g_hash_table_destroy (open);
}

/* ---- Messages ---- */

/* A notice in the group's window (NULL: none open); reasons may quote the
 * server or the user. */
static void
write_error (PurpleConversation *conv, const char *text)
{
  char *html = ppm_text_to_html (text);

  if (conv != NULL)
    purple_conversation_write (conv, NULL, html, PURPLE_MESSAGE_ERROR, time (NULL));
  g_free (html);
}

/* Writes a message into the group's window: live (flags 0) or from
 * history (delayed; the caller pauses the window's logging). Own messages
 * typed elsewhere are under this agent's name. */
static void
write_message (PpmAccount *pa, PurpleConversation *conv, const PpmMessage *message,
               PurpleMessageFlags flags)
{
  char *plain = ppm_im_plain_text (message);
  char *html = ppm_text_to_html (plain);
  time_t when = message->time > 0 ? (time_t) message->time : time (NULL);
  const char *sender = message->outgoing ? self_uuid (pa) : message->from_uuid;
  int image_id = ppm_im_prepend_image (message, &html);

  if (image_id != 0)
    flags |= PURPLE_MESSAGE_IMAGES;
  if (message->delayed)
    flags |= PURPLE_MESSAGE_DELAYED;
  if (message->outgoing)
    flags |= PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_REMOTE_SEND;
  else
    flags |= PURPLE_MESSAGE_RECV;
  purple_conv_chat_write (PURPLE_CONV_CHAT (conv), sender != NULL ? sender : "", html, flags,
                          when);
  if (image_id != 0)
    purple_imgstore_unref_by_id (image_id);
  g_free (html);
  g_free (plain);
}

gboolean
ppm_chat_message (PpmAccount *pa, const PpmMessage *message, const PpmConversation *conversation)
{
  PurpleConversation *conv;

  if (conversation == NULL || !conversation->is_group)
    return FALSE;
  conv = open_chat (pa, conversation);
  /* Shown already by the history of the window. */
  if (conv == NULL || ppm_history_window_shows (pa, conversation->uuid, message->uuid))
    return TRUE;
  write_message (pa, conv, message, 0);
  ppm_history_window_note (pa, conversation->uuid, message->uuid, message->time_us);
  /* libpurple's transfers are between two people: a file written to the
   * group is offered as a transfer from the colleague who wrote it, the
   * line in the chat staying for Finch and the log. */
  if (message->kind == PPM_MESSAGE_FILE && message->from_uuid != NULL)
    ppm_xfer_offer (pa, message->from_uuid, message);
  return TRUE;
}

void
ppm_chat_write_history (PpmAccount *pa, PurpleConversation *conv, const PpmMessage *message)
{
  write_message (pa, conv, message, PURPLE_MESSAGE_DELAYED);
}

gboolean
ppm_chat_send_result (PpmAccount *pa, const char *conversation_uuid, const char *message_uuid,
                      const GError *error)
{
  PurpleConversation *conv;
  char *notice;

  if (!ppm_chat_is_group (pa, conversation_uuid))
    return FALSE;
  if (error == NULL)
    return TRUE;
  conv = open_chat (pa, group_of (pa, conversation_uuid));
  notice = g_strdup_printf (_("Message not delivered: %s"),
                            error->message != NULL ? error->message : _("unknown error"));
  write_error (conv, notice);
  purple_debug_warning (PPM_DEBUG_CATEGORY, "send to a group failed: %s\n", notice);
  g_free (notice);
  return TRUE;
}

/* A member's typing mark, cleared when no notice renewed it in time. */
typedef struct {
  PurpleAccount *account;
  char *conversation_uuid;
  char *user_uuid;
} TypingMark;

static void
typing_mark_free (gpointer data)
{
  TypingMark *mark = data;

  g_free (mark->conversation_uuid);
  g_free (mark->user_uuid);
  g_free (mark);
}

static void
set_typing (PurpleAccount *account, const char *conversation_uuid, const char *user_uuid,
            gboolean typing)
{
  PurpleConversation *conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_CHAT,
                                                                    conversation_uuid, account);
  PurpleConvChat *chat = conv != NULL ? PURPLE_CONV_CHAT (conv) : NULL;
  PurpleConvChatBuddyFlags flags;

  if (chat == NULL || purple_conv_chat_cb_find (chat, user_uuid) == NULL)
    return;
  flags = purple_conv_chat_user_get_flags (chat, user_uuid);
  flags = typing ? flags | PURPLE_CBFLAGS_TYPING : flags & ~PURPLE_CBFLAGS_TYPING;
  purple_conv_chat_user_set_flags (chat, user_uuid, flags);
}

static gboolean
typing_expired (gpointer data)
{
  TypingMark *mark = data;
  PpmAccount *pa = ppm_account_from_gc (purple_account_get_connection (mark->account));

  set_typing (mark->account, mark->conversation_uuid, mark->user_uuid, FALSE);
  if (pa != NULL && pa->chat_typing != NULL)
    g_hash_table_remove (pa->chat_typing, mark);
  return G_SOURCE_REMOVE;
}

gboolean
ppm_chat_typing (PpmAccount *pa, const char *conversation_uuid, const char *user_uuid)
{
  TypingMark *mark;
  GHashTableIter iter;
  gpointer source;

  if (!ppm_chat_is_group (pa, conversation_uuid))
    return FALSE;
  if (user_uuid == NULL || g_strcmp0 (user_uuid, self_uuid (pa)) == 0)
    return TRUE;
  if (pa->chat_typing == NULL)
    /* The marks belong to their timers (freed when one is removed). */
    pa->chat_typing = g_hash_table_new (NULL, NULL);
  /* A renewed notice restarts the member's timer. */
  g_hash_table_iter_init (&iter, pa->chat_typing);
  while (g_hash_table_iter_next (&iter, (gpointer *) &mark, &source))
    if (g_str_equal (mark->conversation_uuid, conversation_uuid)
        && g_str_equal (mark->user_uuid, user_uuid)) {
      g_source_remove (GPOINTER_TO_UINT (source));
      g_hash_table_iter_remove (&iter);
      break;
    }
  mark = g_new0 (TypingMark, 1);
  mark->account = pa->account;
  mark->conversation_uuid = g_strdup (conversation_uuid);
  mark->user_uuid = g_strdup (user_uuid);
  g_hash_table_insert (pa->chat_typing, mark,
                       GUINT_TO_POINTER (g_timeout_add_seconds_full (
                         G_PRIORITY_DEFAULT, PPM_TYPING_TIMEOUT_S, typing_expired, mark,
                         typing_mark_free)));
  set_typing (pa->account, conversation_uuid, user_uuid, TRUE);
  return TRUE;
}

/* ---- libpurple's chat calls ---- */

static PpmAccount *
usable (PurpleConnection *gc)
{
  PpmAccount *pa = ppm_account_from_gc (gc);

  return pa != NULL && pa->client != NULL && !pa->closing && pa->role == PPM_ROLE_AGENT ? pa
                                                                                      : NULL;
}

GList *
ppm_chat_info (PurpleConnection *gc)
{
  struct proto_chat_entry *name = g_new0 (struct proto_chat_entry, 1);
  struct proto_chat_entry *members = g_new0 (struct proto_chat_entry, 1);

  name->label = _("Group _name:");
  name->identifier = CHAT_NAME;
  members->label = _("New group's _colleagues (e-mails, comma-separated):");
  members->identifier = CHAT_MEMBERS;
  return g_list_append (g_list_append (NULL, name), members);
}

GHashTable *
ppm_chat_info_defaults (PurpleConnection *gc, const char *chat_name)
{
  GHashTable *defaults = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  if (chat_name != NULL)
    g_hash_table_insert (defaults, CHAT_NAME, g_strdup (chat_name));
  return defaults;
}

char *
ppm_chat_get_name (GHashTable *components)
{
  const char *uuid = g_hash_table_lookup (components, CHAT_CONVERSATION);

  return g_strdup (uuid != NULL ? uuid : g_hash_table_lookup (components, CHAT_NAME));
}

static void
notify_failure (PpmAccount *pa, const char *primary, const char *reason)
{
  purple_notify_error (pa->gc, _("Group chat"), primary, reason);
}

/* A group this agent is in, by uuid or by name (case ignored). */
static const PpmConversation *
find_group (PpmAccount *pa, const char *uuid, const char *name)
{
  GPtrArray *groups = ppm_client_list_groups (pa->client);
  const PpmConversation *found = NULL;

  for (guint i = 0; found == NULL && i < groups->len; i++) {
    const PpmConversation *group = groups->pdata[i];

    if ((uuid != NULL && g_strcmp0 (group->uuid, uuid) == 0)
        || (uuid == NULL && name != NULL && group->name != NULL
            && g_utf8_collate (group->name, name) == 0))
      found = group;
  }
  g_ptr_array_unref (groups);
  if (found == NULL && uuid != NULL)
    found = group_of (pa, uuid);
  return found;
}

/* A colleague named by e-mail, buddy name or full name, or NULL. */
static const char *
find_colleague (PpmAccount *pa, const char *text)
{
  GSList *buddies = purple_find_buddies (pa->account, NULL);
  const char *found = NULL;

  for (GSList *l = buddies; found == NULL && l != NULL; l = l->next) {
    const PpmUser *user = ppm_client_lookup_user (pa->client, purple_buddy_get_name (l->data));

    if (user != NULL && user->is_service_user
        && (g_ascii_strcasecmp (text, user->uuid) == 0
            || (user->email != NULL && g_ascii_strcasecmp (text, user->email) == 0)
            || (user->fullname != NULL && g_utf8_collate (text, user->fullname) == 0)))
      found = user->uuid;
  }
  g_slist_free (buddies);
  return found;
}

static void
on_group_created (gpointer data, const char *conversation_uuid, const GError *error)
{
  PpmRequest *request = data;
  PpmAccount *pa = request->pa;
  const PpmConversation *conversation = group_of (pa, conversation_uuid);

  if (error != NULL)
    notify_failure (pa, _("The group could not be created"), error->message);
  else if (conversation != NULL)
    open_chat (pa, conversation);
  ppm_request_done (request);
}

static void
create_group (PpmAccount *pa, const char *name, const char *members_text)
{
  char **parts = g_strsplit_set (members_text, ",;\n", -1);
  GPtrArray *members = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++) {
    const char *uuid;

    g_strstrip (parts[i]);
    if (*parts[i] == '\0')
      continue;
    if ((uuid = find_colleague (pa, parts[i])) == NULL) {
      char *reason = g_strdup_printf (_("No colleague is called %s."), parts[i]);

      notify_failure (pa, _("The group could not be created"), reason);
      g_free (reason);
      g_ptr_array_free (members, TRUE);
      g_strfreev (parts);
      return;
    }
    g_ptr_array_add (members, (gpointer) uuid);
  }
  g_ptr_array_add (members, NULL);
  ppm_client_create_group (pa->client, name, (const char *const *) members->pdata,
                           on_group_created, ppm_request_new (pa, name));
  g_ptr_array_free (members, TRUE);
  g_strfreev (parts);
}

void
ppm_chat_join (PurpleConnection *gc, GHashTable *components)
{
  PpmAccount *pa = usable (gc);
  const char *uuid = g_hash_table_lookup (components, CHAT_CONVERSATION);
  const char *name = g_hash_table_lookup (components, CHAT_NAME);
  const char *members = g_hash_table_lookup (components, CHAT_MEMBERS);
  const PpmConversation *group;
  PpmAccount *visitor = ppm_account_from_gc (gc);

  if (pa == NULL) {
    if (visitor != NULL && visitor->role == PPM_ROLE_VISITOR && !visitor->closing)
      notify_failure (visitor, _("No group chats here"),
                      _("A visitor talks with the team in one conversation; group chats are "
                        "for agents."));
    return;
  }
  if (uuid != NULL && *uuid == '\0')
    uuid = NULL;
  group = find_group (pa, uuid, name);
  if (group != NULL) {
    open_chat (pa, group);
    return;
  }
  if (uuid == NULL && members != NULL && *members != '\0') {
    create_group (pa, name, members);
    return;
  }
  notify_failure (pa, _("No such group"),
                  _("Give the names or e-mail addresses of the colleagues to create it with."));
}

static void
on_member_added (gpointer data, const char *conversation_uuid, const GError *error)
{
  PpmRequest *request = data;

  if (error != NULL) {
    char *notice = g_strdup_printf (_("%s could not be added: %s"), request->who, error->message);

    write_error (find_chat_window (request->pa, conversation_uuid), notice);
    g_free (notice);
  }
  ppm_request_done (request);
}

void
ppm_chat_invite (PurpleConnection *gc, int id, const char *message, const char *who)
{
  PpmAccount *pa = usable (gc);
  PurpleConversation *conv = pa != NULL ? purple_find_chat (gc, id) : NULL;
  const char *uuid = conv != NULL && who != NULL ? find_colleague (pa, who) : NULL;

  if (conv == NULL)
    return;
  if (uuid == NULL) {
    char *notice = g_strdup_printf (_("No colleague is called %s."), who ? who : "");

    write_error (conv, notice);
    g_free (notice);
    return;
  }
  ppm_client_add_group_member (pa->client, purple_conversation_get_name (conv), uuid,
                               on_member_added, ppm_request_new (pa, who));
}

void
ppm_chat_leave (PurpleConnection *gc, int id)
{
  /* Only the window closes (see the top of this file). */
  serv_got_chat_left (gc, id);
}

int
ppm_chat_send (PurpleConnection *gc, int id, const char *message, PurpleMessageFlags flags)
{
  PpmAccount *pa = usable (gc);
  PurpleConversation *conv = pa != NULL ? purple_find_chat (gc, id) : NULL;
  char *text, *uuid;

  if (conv == NULL)
    return -ENOTCONN;
  text = purple_markup_strip_html (message);
  g_strstrip (text);
  if (*text == '\0') {
    g_free (text);
    return 0;
  }
  uuid = ppm_client_send_text (pa->client, purple_conversation_get_name (conv), text);
  g_free (text);
  /* libpurple never echoes a chat message: this is its one showing. */
  serv_got_chat_in (gc, id, self_uuid (pa) != NULL ? self_uuid (pa) : "", PURPLE_MESSAGE_SEND,
                    message, time (NULL));
  ppm_history_window_note (pa, purple_conversation_get_name (conv), uuid, 0);
  g_free (uuid);
  return 0;
}

/* ---- The room list ---- */

PurpleRoomlist *
ppm_chat_roomlist_get_list (PurpleConnection *gc)
{
  PpmAccount *pa = usable (gc);
  PurpleRoomlist *list;
  GList *fields = NULL;
  GPtrArray *groups;

  if (pa == NULL)
    return NULL;
  list = purple_roomlist_new (pa->account);
  /* The account holds the list's first reference (the UI takes its own),
   * until the next list or the end of the session. */
  g_clear_pointer ((PurpleRoomlist **) &pa->roomlist, purple_roomlist_unref);
  pa->roomlist = list;
  /* The hidden field is the component a room is joined by. */
  fields = g_list_append (fields, purple_roomlist_field_new (PURPLE_ROOMLIST_FIELD_STRING, "",
                                                             CHAT_CONVERSATION, TRUE));
  fields = g_list_append (fields, purple_roomlist_field_new (PURPLE_ROOMLIST_FIELD_INT,
                                                             _("Members"), CHAT_MEMBERS, FALSE));
  purple_roomlist_set_fields (list, fields);
  groups = ppm_client_list_groups (pa->client);
  for (guint i = 0; i < groups->len; i++) {
    const PpmConversation *group = groups->pdata[i];
    char *title = chat_title (group);
    PurpleRoomlistRoom *room = purple_roomlist_room_new (PURPLE_ROOMLIST_ROOMTYPE_ROOM, title,
                                                         NULL);

    purple_roomlist_room_add_field (list, room, group->uuid);
    purple_roomlist_room_add_field (list, room, GUINT_TO_POINTER (group->member_uuids->len));
    purple_roomlist_room_add (list, room);
    g_free (title);
  }
  g_ptr_array_unref (groups);
  /* Built from what the session knows: complete at once. */
  purple_roomlist_set_in_progress (list, FALSE);
  return list;
}

void
ppm_chat_roomlist_cancel (PurpleRoomlist *list)
{
  purple_roomlist_set_in_progress (list, FALSE);
}

/* ---- Leaving a group for good: the chat's buddy-list menu ---- */

static void
on_group_left (gpointer data, const char *conversation_uuid, const GError *error)
{
  PpmRequest *request = data;

  if (error != NULL)
    notify_failure (request->pa, _("The group could not be left"), error->message);
  ppm_request_done (request);
}

static void
leave_group_action (PurpleBlistNode *node, gpointer data)
{
  PurpleChat *chat = PURPLE_CHAT (node);
  PpmAccount *pa = usable (purple_account_get_connection (purple_chat_get_account (chat)));
  const char *uuid = g_hash_table_lookup (purple_chat_get_components (chat), CHAT_CONVERSATION);

  if (pa != NULL && uuid != NULL)
    ppm_client_leave_group (pa->client, uuid, on_group_left, ppm_request_new (pa, uuid));
}

GList *
ppm_chat_menu (PurpleChat *chat)
{
  if (!purple_blist_node_get_bool (PURPLE_BLIST_NODE (chat), PPM_NODE_GROUP_CHAT))
    return NULL;
  return g_list_append (NULL, purple_menu_action_new (_("Leave group"),
                                                     PURPLE_CALLBACK (leave_group_action),
                                                     NULL, NULL));
}

void
ppm_chat_account_closed (PpmAccount *pa)
{
  GHashTableIter iter;
  gpointer source;

  g_clear_pointer (&pa->chat_ids, g_hash_table_destroy);
  if (pa->chat_typing != NULL) {
    /* Removing a timer frees its mark. */
    g_hash_table_iter_init (&iter, pa->chat_typing);
    while (g_hash_table_iter_next (&iter, NULL, &source))
      g_source_remove (GPOINTER_TO_UINT (source));
    g_clear_pointer (&pa->chat_typing, g_hash_table_destroy);
  }
  g_clear_pointer ((PurpleRoomlist **) &pa->roomlist, purple_roomlist_unref);
}
