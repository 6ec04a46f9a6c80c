/* buddies.c: colleagues and visitors on the buddy list. A buddy's name is the
 * user's uuid (stable), its server alias the readable name. Buddies that exist
 * because of a conversation (visitors) carry a node flag, so a sign-in can
 * drop the ones whose conversation the server closed, and only those.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

/* Node setting marking a buddy that lives as long as its conversation. */
#define PPM_NODE_CONVERSATION_BUDDY "ppm-conversation-buddy"
/* This agent asked the server to close the buddy's conversation, and the
 * server did: see actions.c. */
#define PPM_NODE_CLOSING "ppm-closing"
#define PPM_NODE_CLOSED  "ppm-closed"
/* The page a visitor was last said to be on. */
#define PPM_NODE_PAGE "ppm-page"

static const char *
team_name (PpmAccount *pa)
{
  const char *team = ppm_client_get_team_name (pa->client);

  return team != NULL && *team != '\0' ? team : PPM_PROTOCOL_NAME;
}

static gboolean
is_self (PpmAccount *pa, const char *user_uuid)
{
  const PpmUser *self = ppm_client_get_self (pa->client);

  return self != NULL && user_uuid != NULL && g_strcmp0 (self->uuid, user_uuid) == 0;
}

const char *
ppm_buddies_display_name (PpmAccount *pa, const char *user_uuid)
{
  const PpmUser *user = user_uuid != NULL ? ppm_client_lookup_user (pa->client, user_uuid) : NULL;

  if (user != NULL && user->fullname != NULL && *user->fullname != '\0')
    return user->fullname;
  if (user != NULL && user->email != NULL && *user->email != '\0')
    return user->email;
  return user_uuid != NULL ? user_uuid : "";
}

const char *
ppm_buddies_partner_for_conversation (PpmAccount *pa, const PpmConversation *conversation)
{
  if (conversation == NULL || conversation->uuid == NULL)
    return NULL;
  /* A visitor talks with the team as a whole: one window per conversation. */
  if (pa->role == PPM_ROLE_VISITOR)
    return conversation->uuid;
  if (conversation->peer_uuid != NULL && *conversation->peer_uuid != '\0'
      && !is_self (pa, conversation->peer_uuid))
    return conversation->peer_uuid;
  /* A group of agents has no single partner: the conversation is the buddy. */
  return conversation->uuid;
}

const PpmConversation *
ppm_buddies_conversation_for_partner (PpmAccount *pa, const char *partner)
{
  const PpmConversation *conversation;

  if (partner == NULL)
    return NULL;
  conversation = ppm_client_conversation_for_user (pa->client, partner);
  if (conversation == NULL)
    conversation = ppm_client_lookup_conversation (pa->client, partner);
  return conversation;
}

/* Group names embed the team's name, which comes from the server. */
static PurpleGroup *
group_named (const char *name)
{
  char *clean = ppm_text_one_line (name);
  PurpleGroup *group = purple_find_group (clean);

  if (group == NULL) {
    group = purple_group_new (clean);
    purple_blist_add_group (group, NULL);
  }
  g_free (clean);
  return group;
}

/* Server names are shown as they are, minus control characters (a newline
 * in a full name must not split a buddy list row). */
static void
set_server_alias (PurpleBuddy *buddy, const char *alias)
{
  char *clean = ppm_text_one_line (alias);

  if (*clean != '\0' && g_strcmp0 (purple_buddy_get_server_alias (buddy), clean) != 0)
    purple_blist_server_alias_buddy (buddy, clean);
  g_free (clean);
}

void
ppm_buddies_show_own_name (PpmAccount *pa, const char *fullname)
{
  char *clean = ppm_text_one_line (fullname);

  if (*clean != '\0')
    purple_connection_set_display_name (pa->gc, clean);
  g_free (clean);
}

static PurpleBuddy *
ensure_buddy (PpmAccount *pa, const char *name, const char *alias, const char *group_name,
              gboolean conversation_buddy)
{
  PurpleBuddy *buddy = purple_find_buddy (pa->account, name);

  if (buddy == NULL) {
    PurpleContact *contact = purple_contact_new ();

    buddy = purple_buddy_new (pa->account, name, NULL);
    /* Given no contact, purple_blist_add_buddy() walks the whole group to
     * append one (quadratic over a sign-in); a contact put first is not. */
    purple_blist_add_contact (contact, group_named (group_name), NULL);
    purple_blist_add_buddy (buddy, contact, NULL, NULL);
    purple_debug_info (PPM_DEBUG_CATEGORY, "buddy added: %s\n", name);
  }
  set_server_alias (buddy, alias);
  purple_blist_node_set_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CONVERSATION_BUDDY,
                              conversation_buddy);
  return buddy;
}

static void
ensure_colleague (PpmAccount *pa, const PpmUser *user)
{
  char *group = g_strdup_printf (_("%s Colleagues"), team_name (pa));

  ensure_buddy (pa, user->uuid, ppm_buddies_display_name (pa, user->uuid), group, FALSE);
  ppm_people_update_icon (pa, user->uuid, user->icon_url);
  ppm_status_show_presence (pa, user->uuid, user->presence);
  g_free (group);
}

/* The visitor's page last shown, kept with the buddy: a user_changed for
 * anything else writes no second line. */
static gboolean
page_changed (PurpleBuddy *buddy, const PpmUser *user)
{
  char *page;
  gboolean changed;

  if (user->page_title == NULL && user->page_url == NULL)
    return FALSE;
  page = g_strdup_printf ("%s\n%s", user->page_title ? user->page_title : "",
                          user->page_url ? user->page_url : "");
  changed = g_strcmp0 (purple_blist_node_get_string (PURPLE_BLIST_NODE (buddy), PPM_NODE_PAGE),
                       page) != 0;
  if (changed)
    purple_blist_node_set_string (PURPLE_BLIST_NODE (buddy), PPM_NODE_PAGE, page);
  g_free (page);
  return changed;
}

void
ppm_buddies_user_changed (PpmAccount *pa, const PpmUser *user)
{
  PurpleBuddy *buddy;

  if (user == NULL || user->uuid == NULL)
    return;
  if (is_self (pa, user->uuid)) {
    ppm_buddies_show_own_name (pa, user->fullname);
    return;
  }
  if (pa->role == PPM_ROLE_AGENT && user->is_service_user) {
    ensure_colleague (pa, user);
    return;
  }
  buddy = purple_find_buddy (pa->account, user->uuid);
  if (buddy == NULL)
    return; /* a visitor shows up with an open conversation */
  set_server_alias (buddy, ppm_buddies_display_name (pa, user->uuid));
  ppm_people_update_icon (pa, user->uuid, user->icon_url);
  if (!ppm_buddies_is_closed (buddy))
    ppm_status_show_presence (pa, user->uuid, user->presence);
  if (pa->role == PPM_ROLE_AGENT && page_changed (buddy, user))
    ppm_people_page_changed (pa, user);
}

/* The alias of a conversation's buddy: the visitor's name, else the
 * conversation's. A visitor account's one buddy is the team: the server's
 * name for that conversation lists the agents in it and changes as they
 * join. */
static const char *
conversation_alias (PpmAccount *pa, const PpmConversation *conversation, const char *partner)
{
  const PpmUser *user = ppm_client_lookup_user (pa->client, partner);

  if (pa->role == PPM_ROLE_VISITOR)
    return team_name (pa);
  if (user != NULL)
    return ppm_buddies_display_name (pa, partner);
  if (conversation->name != NULL && *conversation->name != '\0')
    return conversation->name;
  return partner;
}

/* Makes sure an open conversation has its buddy; returns the buddy's name. */
static const char *
ensure_conversation_buddy (PpmAccount *pa, const PpmConversation *conversation)
{
  const char *partner = ppm_buddies_partner_for_conversation (pa, conversation);
  const PpmUser *user;
  char *group;

  /* A group is a chat on the list (chat.c), no buddy. */
  if (partner == NULL || conversation->is_group)
    return NULL;
  user = ppm_client_lookup_user (pa->client, partner);
  if (user != NULL && user->is_service_user && pa->role == PPM_ROLE_AGENT) {
    ensure_colleague (pa, user);
    return partner;
  }
  if (pa->role == PPM_ROLE_VISITOR)
    group = g_strdup (team_name (pa));
  else if (g_strcmp0 (conversation->type, "S2S") == 0)
    group = g_strdup_printf (_("%s Colleagues"), team_name (pa));
  else
    group = g_strdup_printf (_("%s Visitors"), team_name (pa));
  purple_blist_node_set_bool (PURPLE_BLIST_NODE (
    ensure_buddy (pa, partner, conversation_alias (pa, conversation, partner), group, TRUE)),
    PPM_NODE_CLOSED, FALSE);
  if (user != NULL)
    ppm_people_update_icon (pa, partner, user->icon_url);
  else if (pa->role == PPM_ROLE_VISITOR)
    ppm_people_update_icon (pa, partner, ppm_client_get_team_icon (pa->client));
  ppm_status_show_presence (pa, partner,
                            user != NULL ? user->presence : PPM_PRESENCE_UNKNOWN);
  g_free (group);
  return partner;
}

static void
remove_conversation_buddy (PpmAccount *pa, const char *name)
{
  PurpleBuddy *buddy = purple_find_buddy (pa->account, name);

  if (buddy == NULL
      || !purple_blist_node_get_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CONVERSATION_BUDDY))
    return;
  purple_debug_info (PPM_DEBUG_CATEGORY, "buddy removed (conversation closed): %s\n", name);
  purple_blist_remove_buddy (buddy);
}

void
ppm_buddies_conversation_changed (PpmAccount *pa, const PpmConversation *conversation)
{
  const char *partner;
  PurpleBuddy *buddy;

  if (conversation == NULL)
    return;
  if (conversation->is_open) {
    ensure_conversation_buddy (pa, conversation);
    return;
  }
  partner = ppm_buddies_partner_for_conversation (pa, conversation);
  buddy = partner != NULL ? purple_find_buddy (pa->account, partner) : NULL;
  if (buddy != NULL && purple_blist_node_get_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CLOSING)) {
    purple_blist_node_set_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CLOSING, FALSE);
    purple_blist_node_set_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CLOSED, TRUE);
    ppm_status_show_closed (pa, partner);
    return;
  }
  if (partner != NULL)
    remove_conversation_buddy (pa, partner);
}

void
ppm_buddies_set_closing (PurpleBuddy *buddy, gboolean closing)
{
  purple_blist_node_set_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CLOSING, closing);
}

gboolean
ppm_buddies_is_closed (PurpleBuddy *buddy)
{
  return purple_blist_node_get_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CLOSED);
}

void
ppm_buddies_conversations_synced (PpmAccount *pa, GPtrArray *open_conversations)
{
  GHashTable *open_names = g_hash_table_new (g_str_hash, g_str_equal);
  GSList *buddies, *l;
  GPtrArray *stale = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; open_conversations != NULL && i < open_conversations->len; i++) {
    const char *name = ensure_conversation_buddy (pa, g_ptr_array_index (open_conversations, i));

    if (name != NULL)
      g_hash_table_add (open_names, (gpointer) name);
  }
  /* Collect first: removing while walking the list would free its nodes. */
  buddies = purple_find_buddies (pa->account, NULL);
  for (l = buddies; l != NULL; l = l->next) {
    PurpleBuddy *buddy = l->data;
    const char *name = purple_buddy_get_name (buddy);

    if (purple_blist_node_get_bool (PURPLE_BLIST_NODE (buddy), PPM_NODE_CONVERSATION_BUDDY)
        && !g_hash_table_contains (open_names, name))
      g_ptr_array_add (stale, g_strdup (name));
  }
  g_slist_free (buddies);
  g_hash_table_destroy (open_names);
  for (i = 0; i < stale->len; i++)
    remove_conversation_buddy (pa, g_ptr_array_index (stale, i));
  g_ptr_array_free (stale, TRUE);
}

/* Hovering a buddy: who it is, beyond the alias. */
void
ppm_buddies_tooltip (PurpleBuddy *buddy, PurpleNotifyUserInfo *info, gboolean full)
{
  PurpleConnection *gc = purple_account_get_connection (purple_buddy_get_account (buddy));
  PpmAccount *pa = ppm_account_from_gc (gc);
  const PpmUser *user;

  if (pa == NULL || pa->client == NULL || pa->closing)
    return;
  if (ppm_buddies_is_closed (buddy))
    purple_notify_user_info_add_pair_plaintext (info, _("Conversation"), _("closed"));
  user = ppm_client_lookup_user (pa->client, purple_buddy_get_name (buddy));
  if (user == NULL)
    return;
  if (user->email != NULL && *user->email != '\0')
    purple_notify_user_info_add_pair_plaintext (info, _("E-mail"), user->email);
  ppm_people_add_page (pa, user->uuid, info);
  purple_notify_user_info_add_pair_plaintext (info, _("Role"),
                                              user->is_service_user ? _("Colleague") : _("Visitor"));
}
