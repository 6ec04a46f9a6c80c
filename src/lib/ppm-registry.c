/* ppm-registry.c: the users and conversations a session knows: creation
 * from list items, readable and distinct visitor names, presence from the
 * team list, members and the "peer" of each conversation, the one parser
 * of conversation objects, and the look-up of unknown conversations.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-registry.h"
#include "ppm-json.h"

#include <string.h>

/* The name the server gives every anonymous visitor (until geo-IP renames it). */
#define ANONYMOUS_VISITOR_NAME "Unknown Area.User"
/* Characters of a uuid appended to make visitor names distinct. */
#define SHORT_ID_LENGTH 6

static void ppm_conv_free (PpmConv *conv);

void
ppm_registry_init (PpmRegistry *registry, PpmRole role, const PpmRegistrySink *sink,
                   gpointer owner)
{
  memset (registry, 0, sizeof *registry);
  registry->role = role;
  if (sink)
    registry->sink = *sink;
  registry->owner = owner;
  registry->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify) ppm_user_free);
  registry->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                   (GDestroyNotify) ppm_conv_free);
  registry->user_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  registry->peer_conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_ptr_array_unref);
}

void
ppm_registry_clear (PpmRegistry *registry)
{
  g_clear_pointer (&registry->self, ppm_user_free);
  /* The peer index points into the conversations: it goes first. */
  g_clear_pointer (&registry->peer_conversations, g_hash_table_unref);
  g_clear_pointer (&registry->conversations, g_hash_table_unref);
  g_clear_pointer (&registry->users, g_hash_table_unref);
  g_clear_pointer (&registry->user_names, g_hash_table_unref);
}

void
ppm_user_free (PpmUser *user)
{
  g_free (user->uuid);
  g_free (user->fullname);
  g_free (user->email);
  g_free (user->icon_url);
  g_free (user->page_title);
  g_free (user->page_url);
  g_free (user);
}

static void
ppm_conv_free (PpmConv *conv)
{
  g_free (conv->pub.uuid);
  g_free (conv->pub.type);
  g_free (conv->pub.name);
  g_free (conv->pub.peer_uuid);
  g_ptr_array_unref (conv->pub.member_uuids);
  g_free (conv->creator_uuid);
  g_free (conv->assigned_uuid);
  g_free (conv->group_uuid);
  g_free (conv->group_name);
  g_free (conv->latest_message_uuid);
  g_free (conv);
}

const PpmUser *
ppm_registry_lookup_user (PpmRegistry *registry, const char *uuid)
{
  if (uuid == NULL)
    return NULL;
  if (registry->self && g_strcmp0 (registry->self->uuid, uuid) == 0)
    return registry->self;
  return g_hash_table_lookup (registry->users, uuid);
}

PpmConv *
ppm_registry_lookup_conv (PpmRegistry *registry, const char *uuid)
{
  return uuid ? g_hash_table_lookup (registry->conversations, uuid) : NULL;
}

PpmConv *
ppm_registry_conv_for_user (PpmRegistry *registry, const char *user_uuid)
{
  GPtrArray *convs = user_uuid ? g_hash_table_lookup (registry->peer_conversations, user_uuid)
                               : NULL;
  PpmConv *best = NULL;

  for (guint i = 0; convs != NULL && i < convs->len; i++) {
    PpmConv *conv = convs->pdata[i];

    if (best == NULL || conv->activity > best->activity)
      best = conv;
  }
  return best;
}

void
ppm_registry_conv_set_peer (PpmRegistry *registry, PpmConv *conv, const char *peer)
{
  GPtrArray *convs;

  if (g_strcmp0 (conv->pub.peer_uuid, peer) == 0)
    return;
  if (conv->pub.peer_uuid != NULL) {
    convs = g_hash_table_lookup (registry->peer_conversations, conv->pub.peer_uuid);
    if (convs != NULL) {
      g_ptr_array_remove_fast (convs, conv);
      if (convs->len == 0)
        g_hash_table_remove (registry->peer_conversations, conv->pub.peer_uuid);
    }
  }
  g_free (conv->pub.peer_uuid);
  conv->pub.peer_uuid = g_strdup (peer);
  if (peer == NULL)
    return;
  convs = g_hash_table_lookup (registry->peer_conversations, peer);
  if (convs == NULL) {
    convs = g_ptr_array_new ();
    g_hash_table_insert (registry->peer_conversations, g_strdup (peer), convs);
  }
  g_ptr_array_add (convs, conv);
}

/* ---- Users ---- */

PpmUser *
ppm_registry_user_ensure (PpmRegistry *registry, const char *uuid)
{
  PpmUser *user;

  if (registry->self && g_strcmp0 (registry->self->uuid, uuid) == 0)
    return registry->self;
  user = g_hash_table_lookup (registry->users, uuid);
  if (user == NULL) {
    user = g_new0 (PpmUser, 1);
    user->uuid = g_strdup (uuid);
    user->presence = PPM_PRESENCE_UNKNOWN;
    g_hash_table_insert (registry->users, user->uuid, user);
  }
  return user;
}

void
ppm_registry_user_emit (PpmRegistry *registry, PpmUser *user)
{
  if (user == registry->self)
    return;
  if (registry->sink.user_changed)
    registry->sink.user_changed (registry->owner, user);
}

static gboolean
is_anonymous_email (const char *email)
{
  /* Anonymous visitors get "<6 hex>@<6 hex>", not a real address
   * (PP_CREATE_ANONYMOUS in ../shared/protocol/PPMESSAGE-PROTOCOL.md). */
  if (email == NULL || strlen (email) != 13 || email[6] != '@')
    return FALSE;
  for (int i = 0; i < 13; i++)
    if (i != 6 && !g_ascii_isxdigit (email[i]))
      return FALSE;
  return TRUE;
}

static guint
name_count (PpmRegistry *registry, const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (registry->user_names, name));
}

static void
count_name (PpmRegistry *registry, const char *name, int delta)
{
  guint count = name_count (registry, name) + delta;

  if (count == 0)
    g_hash_table_remove (registry->user_names, name);
  else
    g_hash_table_replace (registry->user_names, g_strdup (name), GUINT_TO_POINTER (count));
}

void
ppm_registry_user_set_fullname (PpmRegistry *registry, PpmUser *user, char *name)
{
  /* Only users of the users table are counted (never self). */
  gboolean counted = user != registry->self;

  if (counted && user->fullname != NULL)
    count_name (registry, user->fullname, -1);
  g_free (user->fullname);
  user->fullname = name;
  if (counted && name != NULL)
    count_name (registry, name, +1);
}

/* Whether a user other than uuid is called name. */
static gboolean
name_taken (PpmRegistry *registry, const char *name, const char *uuid)
{
  const PpmUser *user = g_hash_table_lookup (registry->users, uuid);
  guint own = user && g_strcmp0 (user->fullname, name) == 0 ? 1 : 0;

  return name_count (registry, name) > own;
}

/* Visitors are mostly all called "Unknown Area.User": append a short id to
 * anonymous ones, and to any name another user already has. */
static char *
visitor_name (PpmRegistry *registry, const char *fullname, const char *email, const char *uuid)
{
  g_autofree char *short_id = g_strndup (uuid, SHORT_ID_LENGTH);

  if (fullname == NULL || *fullname == '\0')
    return g_strdup_printf ("Visitor %s", short_id);
  if (g_strcmp0 (fullname, ANONYMOUS_VISITOR_NAME) == 0 || is_anonymous_email (email) ||
      name_taken (registry, fullname, uuid))
    return g_strdup_printf ("%s #%s", fullname, short_id);
  return g_strdup (fullname);
}

static PpmPresence
presence_of (JsonObject *item)
{
  gboolean browser, mobile;

  if (!ppm_json_get_bool (item, "is_browser_online", &browser, NULL))
    return PPM_PRESENCE_UNKNOWN;
  mobile = ppm_json_opt_bool (item, "is_mobile_online", FALSE);
  return browser || mobile ? PPM_PRESENCE_ONLINE : PPM_PRESENCE_OFFLINE;
}

/* Creates or updates a user from a user-list item; NULL without a uuid. */
PpmUser *
ppm_registry_user_from_json (PpmRegistry *registry, JsonObject *item, gboolean is_service_user)
{
  const char *uuid = ppm_json_opt_nonempty (item, "uuid");
  const char *fullname = ppm_json_opt_string (item, "user_fullname");
  const char *email = ppm_json_opt_string (item, "user_email");
  const char *icon = ppm_json_opt_string (item, "user_icon");
  PpmUser *user;

  if (uuid == NULL)
    return NULL;
  user = ppm_registry_user_ensure (registry, uuid);
  user->is_service_user = user->is_service_user || is_service_user;
  if (user->fullname == NULL || fullname != NULL) {
    ppm_registry_user_set_fullname (registry, user,
                                    user->is_service_user || user == registry->self
                                      ? g_strdup (fullname ? fullname : email ? email : uuid)
                                      : visitor_name (registry, fullname, email, uuid));
  }
  if (email) {
    g_free (user->email);
    user->email = g_strdup (email);
  }
  if (icon) {
    g_free (user->icon_url);
    user->icon_url = g_strdup (icon);
  }
  /* Visitors always look offline in member lists, whatever they are: a
   * server bug (../shared/protocol/PPMESSAGE-PROTOCOL.md, list of server
   * bugs; seen in transcripts/04-history-unacked-lists-details.jsonl). */
  user->presence = user->is_service_user ? presence_of (item) : PPM_PRESENCE_UNKNOWN;
  return user;
}

void
ppm_registry_apply_team_list (PpmRegistry *registry, JsonArray *list)
{
  guint length = list ? json_array_get_length (list) : 0;

  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    const char *uuid = item ? ppm_json_opt_nonempty (item, "uuid") : NULL;
    PpmUser *user;
    PpmPresence before = PPM_PRESENCE_UNKNOWN;
    g_autofree char *name_before = NULL;
    gboolean known;

    if (uuid == NULL)
      continue;
    known = g_hash_table_contains (registry->users, uuid);
    if (known) {
      PpmUser *old = g_hash_table_lookup (registry->users, uuid);

      before = old->presence;
      name_before = g_strdup (old->fullname);
    }
    user = ppm_registry_user_from_json (registry, item, TRUE);
    if (user && (!known || before != user->presence ||
                 g_strcmp0 (name_before, user->fullname) != 0))
      ppm_registry_user_emit (registry, user);
  }
}

/* ---- Conversations ---- */

PpmConv *
ppm_registry_conv_ensure (PpmRegistry *registry, const char *uuid)
{
  PpmConv *conv = g_hash_table_lookup (registry->conversations, uuid);

  if (conv == NULL) {
    conv = g_new0 (PpmConv, 1);
    conv->pub.uuid = g_strdup (uuid);
    conv->pub.member_uuids = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (registry->conversations, conv->pub.uuid, conv);
  }
  return conv;
}

void
ppm_registry_conv_touch (PpmRegistry *registry, PpmConv *conv)
{
  conv->activity = ++registry->activity_counter;
}

static gboolean
is_agent (PpmRegistry *registry, const char *uuid)
{
  const PpmUser *user = ppm_registry_lookup_user (registry, uuid);

  return user != NULL && user->is_service_user;
}

/* The visitor of a P2S, the other agent of a 1:1 S2S, else NULL. */
static const char *
find_peer (PpmRegistry *registry, PpmConv *conv)
{
  GPtrArray *members = conv->pub.member_uuids;
  const char *self = registry->self ? registry->self->uuid : NULL;

  if (registry->role == PPM_ROLE_VISITOR) {
    /* The one agent of the conversation, when there is only one. */
    const char *other = NULL;

    for (guint i = 0; i < members->len; i++) {
      if (g_strcmp0 (members->pdata[i], self) == 0)
        continue;
      if (other != NULL)
        return conv->assigned_uuid;
      other = members->pdata[i];
    }
    return other ? other : conv->assigned_uuid;
  }
  if (g_strcmp0 (conv->pub.type, "P2S") == 0) {
    if (conv->creator_uuid && !is_agent (registry, conv->creator_uuid))
      return conv->creator_uuid;
    for (guint i = 0; i < members->len; i++)
      if (!is_agent (registry, members->pdata[i]))
        return members->pdata[i];
    return NULL;
  }
  if (members->len == 2)
    return g_strcmp0 (members->pdata[0], self) == 0 ? members->pdata[1] : members->pdata[0];
  if (members->len == 0) {
    /* Not resolved yet: the creator or the assigned member, whichever is not us. */
    if (conv->creator_uuid && g_strcmp0 (conv->creator_uuid, self) != 0)
      return conv->creator_uuid;
    if (conv->assigned_uuid && g_strcmp0 (conv->assigned_uuid, self) != 0)
      return conv->assigned_uuid;
  }
  return NULL;
}

/* A group of agents: S2S with more than two members (PPMESSAGE-PROTOCOL.md
 * section 7.7: there is no group type; a group is a conversation with more
 * than two members), or made for an org group. Only agents see groups. */
static gboolean
is_group (PpmRegistry *registry, PpmConv *conv)
{
  return registry->role == PPM_ROLE_AGENT && g_strcmp0 (conv->pub.type, "S2S") == 0 &&
         (conv->pub.member_uuids->len > 2 || conv->group_uuid != NULL);
}

/* "Bob, Carol": the other members' names. */
static char *
members_names (PpmRegistry *registry, PpmConv *conv)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < conv->pub.member_uuids->len; i++) {
    const char *uuid = conv->pub.member_uuids->pdata[i];
    const PpmUser *user = ppm_registry_lookup_user (registry, uuid);

    if (user == registry->self && user != NULL)
      continue;
    g_string_append_printf (names, "%s%s", names->len ? ", " : "",
                            user && user->fullname ? user->fullname : uuid);
  }
  return g_string_free (names, FALSE);
}

static void
update_peer_and_name (PpmRegistry *registry, PpmConv *conv)
{
  const char *peer;
  const PpmUser *user;

  conv->pub.is_group = is_group (registry, conv);
  peer = conv->pub.is_group ? NULL : find_peer (registry, conv);
  user = ppm_registry_lookup_user (registry, peer);
  ppm_registry_conv_set_peer (registry, conv, peer);
  if (user && user->fullname) {
    g_free (conv->pub.name);
    conv->pub.name = g_strdup (user->fullname);
  } else if (conv->pub.name == NULL) {
    conv->pub.name = g_strdup (g_strcmp0 (conv->pub.type, "P2S") == 0 ? "Visitor"
                                                                       : "Group chat");
  }
  /* A group is called by the name it was created with, else by its
   * members: this member's own name for it is the creator's name when the
   * group was created with this member first (PPMESSAGE-PROTOCOL.md
   * section 4.17). */
  if (conv->pub.is_group) {
    g_free (conv->pub.name);
    conv->pub.name = conv->group_name ? g_strdup (conv->group_name)
                                      : members_names (registry, conv);
  }
}

/* Members from a PP_GET_CONVERSATION_USER_LIST list; new visitors are
 * announced through user_changed. */
void
ppm_registry_conv_set_members (PpmRegistry *registry, PpmConv *conv, JsonArray *list)
{
  guint length = list ? json_array_get_length (list) : 0;

  g_ptr_array_set_size (conv->pub.member_uuids, 0);
  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    const char *uuid = item ? ppm_json_opt_nonempty (item, "uuid") : NULL;
    gboolean known;
    PpmUser *user;

    if (uuid == NULL)
      continue;
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (uuid));
    if (registry->self && g_strcmp0 (uuid, registry->self->uuid) == 0)
      continue;
    known = ppm_registry_lookup_user (registry, uuid) != NULL;
    if (known && is_agent (registry, uuid) && registry->role == PPM_ROLE_AGENT)
      continue;                /* colleagues come from the team list */
    /* A visitor only ever talks with agents. */
    user = ppm_registry_user_from_json (registry, item, registry->role == PPM_ROLE_VISITOR);
    if (user && !known)
      ppm_registry_user_emit (registry, user);
  }
  update_peer_and_name (registry, conv);
}

void
ppm_registry_conv_emit (PpmRegistry *registry, PpmConv *conv)
{
  if (conv->pub.peer_uuid == NULL || conv->pub.name == NULL)
    update_peer_and_name (registry, conv);
  if (registry->sink.conversation_changed)
    registry->sink.conversation_changed (registry->owner, &conv->pub);
}

PpmUser *
ppm_registry_set_self (PpmRegistry *registry, const char *uuid)
{
  if (registry->self == NULL)
    registry->self = g_new0 (PpmUser, 1);
  if (g_strcmp0 (registry->self->uuid, uuid) != 0) {
    g_free (registry->self->uuid);
    registry->self->uuid = g_strdup (uuid);
  }
  return registry->self;
}

void
ppm_registry_ensure_sender (PpmRegistry *registry, const PpmMessage *message)
{
  PpmUser *user;

  if (ppm_registry_lookup_user (registry, message->from_uuid) != NULL)
    return;
  user = ppm_registry_user_ensure (registry, message->from_uuid);
  /* A visitor only hears from agents; agents from visitors or new colleagues. */
  user->is_service_user = registry->role == PPM_ROLE_VISITOR;
  if (message->from_name && (user->is_service_user ||
                             g_strcmp0 (message->from_name, ANONYMOUS_VISITOR_NAME) != 0))
    ppm_registry_user_set_fullname (registry, user, g_strdup (message->from_name));
  else
    ppm_registry_user_set_fullname (registry, user,
                                    g_strdup_printf ("%s #%.*s",
                                                     message->from_name ?: "Visitor",
                                                     SHORT_ID_LENGTH, message->from_uuid));
  ppm_registry_user_emit (registry, user);
}

PpmConv *
ppm_registry_take_conversation (PpmRegistry *registry, const char *uuid, JsonObject *object,
                                const char *default_type)
{
  JsonObject *data = ppm_json_opt_object (object, "conversation_data");
  const char *name = data ? ppm_json_opt_nonempty (data, "conversation_name") : NULL;
  PpmConv *conv;

  if (uuid == NULL)
    return NULL;
  conv = ppm_registry_conv_ensure (registry, uuid);
  g_free (conv->pub.type);
  conv->pub.type = g_strdup (ppm_json_opt_nonempty (object, "conversation_type") ?: default_type);
  g_free (conv->creator_uuid);
  conv->creator_uuid = g_strdup (ppm_json_opt_nonempty (object, "user_uuid"));
  g_free (conv->assigned_uuid);
  conv->assigned_uuid = g_strdup (ppm_json_opt_nonempty (object, "assigned_uuid"));
  g_free (conv->group_uuid);
  conv->group_uuid = g_strdup (ppm_json_opt_nonempty (object, "group_uuid"));
  /* The user's own name for it (conversation_data) before the shared one. */
  if (name == NULL)
    name = ppm_json_opt_nonempty (object, "conversation_name");
  if (name && conv->pub.name == NULL)
    conv->pub.name = g_strdup (name);
  return conv;
}

/* ---- Conversations found in messages ---- */

typedef struct {
  PpmRegistry *registry;
  PpmApi *api;
  char *uuid;
  PpmResolved done;
  gpointer data;
  GCancellable *cancellable;
} Resolve;

static void
resolve_free (Resolve *resolve)
{
  g_free (resolve->uuid);
  g_clear_object (&resolve->cancellable);
  g_free (resolve);
}

static void
resolve_done (Resolve *resolve, PpmConv *conv)
{
  PpmRegistry *registry = resolve->registry;

  conv->pub.is_open = TRUE;
  ppm_registry_conv_touch (registry, conv);
  ppm_registry_conv_emit (registry, conv);
  resolve->done (resolve->data, resolve->uuid);
  resolve_free (resolve);
}

static void
on_resolve_members (JsonObject *answer, const GError *error, gpointer data)
{
  Resolve *resolve = data;
  PpmConv *conv;

  if (ppm_error_is_cancelled (error)) {
    resolve_free (resolve);
    return;
  }
  conv = ppm_registry_conv_ensure (resolve->registry, resolve->uuid);
  if (error == NULL)
    ppm_registry_conv_set_members (resolve->registry, conv, ppm_json_opt_array (answer, "list"));
  resolve_done (resolve, conv);
}

static void
on_resolve_info (JsonObject *answer, const GError *error, gpointer data)
{
  Resolve *resolve = data;
  PpmConv *conv;
  g_autoptr (JsonObject) body = NULL;

  if (ppm_error_is_cancelled (error)) {
    resolve_free (resolve);
    return;
  }
  if (error) {
    g_debug ("conversation %s unknown to the server: %s", resolve->uuid, error->message);
    conv = ppm_registry_conv_ensure (resolve->registry, resolve->uuid);
    if (conv->pub.type == NULL)
      conv->pub.type = g_strdup ("P2S");
    resolve_done (resolve, conv);
    return;
  }
  ppm_registry_take_conversation (resolve->registry, resolve->uuid, answer, "P2S");
  body = ppm_api_new_body (resolve->api);
  json_object_set_string_member (body, "conversation_uuid", resolve->uuid);
  ppm_api_call (resolve->api, "PP_GET_CONVERSATION_USER_LIST", body, resolve->cancellable,
                on_resolve_members, resolve);
}

void
ppm_registry_resolve (PpmRegistry *registry, PpmApi *api, const char *uuid,
                      GCancellable *cancellable, PpmResolved done, gpointer data)
{
  Resolve *resolve = g_new0 (Resolve, 1);
  g_autoptr (JsonObject) body = ppm_api_new_body (api);

  resolve->registry = registry;
  resolve->api = api;
  resolve->uuid = g_strdup (uuid);
  resolve->done = done;
  resolve->data = data;
  resolve->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  g_debug ("looking up conversation %s", uuid);
  json_object_set_string_member (body, "conversation_uuid", uuid);
  ppm_api_call (api, "PP_GET_CONVERSATION_INFO", body, cancellable, on_resolve_info, resolve);
}
