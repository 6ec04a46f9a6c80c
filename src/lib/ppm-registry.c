/* ppm-registry.c: the users and conversations a session knows: creation
 * from list items, readable and distinct visitor names, presence from the
 * team list (polled, since the server never pushes it), members and the
 * "peer" of each conversation, and the look-ups of the public API.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* The name the server gives every anonymous visitor (until geo-IP renames it). */
#define ANONYMOUS_VISITOR_NAME "Unknown Area.User"
/* Characters of a uuid appended to make visitor names distinct. */
#define SHORT_ID_LENGTH 6

void
ppm_user_free (PpmUser *user)
{
  g_free (user->uuid);
  g_free (user->fullname);
  g_free (user->email);
  g_free (user->icon_url);
  g_free (user);
}

void
ppm_conv_free (PpmConv *conv)
{
  g_free (conv->pub.uuid);
  g_free (conv->pub.type);
  g_free (conv->pub.name);
  g_free (conv->pub.peer_uuid);
  g_ptr_array_unref (conv->pub.member_uuids);
  g_free (conv->creator_uuid);
  g_free (conv->assigned_uuid);
  g_free (conv->latest_message_uuid);
  g_free (conv);
}

const PpmUser *
ppm_client_lookup_user (PpmClient *client, const char *uuid)
{
  if (uuid == NULL)
    return NULL;
  if (client->self && g_strcmp0 (client->self->uuid, uuid) == 0)
    return client->self;
  return g_hash_table_lookup (client->users, uuid);
}

const PpmConversation *
ppm_client_lookup_conversation (PpmClient *client, const char *uuid)
{
  return uuid ? g_hash_table_lookup (client->conversations, uuid) : NULL;
}

const PpmConversation *
ppm_client_conversation_for_user (PpmClient *client, const char *user_uuid)
{
  GPtrArray *convs = user_uuid ? g_hash_table_lookup (client->peer_conversations, user_uuid)
                               : NULL;
  PpmConv *best = NULL;

  for (guint i = 0; convs != NULL && i < convs->len; i++) {
    PpmConv *conv = convs->pdata[i];

    if (best == NULL || conv->activity > best->activity)
      best = conv;
  }
  return best ? &best->pub : NULL;
}

void
ppm_client_conv_set_peer (PpmClient *client, PpmConv *conv, const char *peer)
{
  GPtrArray *convs;

  if (g_strcmp0 (conv->pub.peer_uuid, peer) == 0)
    return;
  if (conv->pub.peer_uuid != NULL) {
    convs = g_hash_table_lookup (client->peer_conversations, conv->pub.peer_uuid);
    if (convs != NULL) {
      g_ptr_array_remove_fast (convs, conv);
      if (convs->len == 0)
        g_hash_table_remove (client->peer_conversations, conv->pub.peer_uuid);
    }
  }
  g_free (conv->pub.peer_uuid);
  conv->pub.peer_uuid = g_strdup (peer);
  if (peer == NULL)
    return;
  convs = g_hash_table_lookup (client->peer_conversations, peer);
  if (convs == NULL) {
    convs = g_ptr_array_new ();
    g_hash_table_insert (client->peer_conversations, g_strdup (peer), convs);
  }
  g_ptr_array_add (convs, conv);
}

/* ---- Users ---- */

PpmUser *
ppm_client_user_ensure (PpmClient *client, const char *uuid)
{
  PpmUser *user;

  if (client->self && g_strcmp0 (client->self->uuid, uuid) == 0)
    return client->self;
  user = g_hash_table_lookup (client->users, uuid);
  if (user == NULL) {
    user = g_new0 (PpmUser, 1);
    user->uuid = g_strdup (uuid);
    user->presence = PPM_PRESENCE_UNKNOWN;
    g_hash_table_insert (client->users, user->uuid, user);
  }
  return user;
}

void
ppm_client_user_emit (PpmClient *client, PpmUser *user)
{
  if (user == client->self)
    return;
  if (client->events.user_changed)
    client->events.user_changed (client->user_data, user);
}

static gboolean
is_anonymous_email (const char *email)
{
  /* Anonymous visitors get "<6 hex>@<6 hex>", not a real address (5.4). */
  if (email == NULL || strlen (email) != 13 || email[6] != '@')
    return FALSE;
  for (int i = 0; i < 13; i++)
    if (i != 6 && !g_ascii_isxdigit (email[i]))
      return FALSE;
  return TRUE;
}

static guint
name_count (PpmClient *client, const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (client->user_names, name));
}

static void
count_name (PpmClient *client, const char *name, int delta)
{
  guint count = name_count (client, name) + delta;

  if (count == 0)
    g_hash_table_remove (client->user_names, name);
  else
    g_hash_table_replace (client->user_names, g_strdup (name), GUINT_TO_POINTER (count));
}

void
ppm_client_user_set_fullname (PpmClient *client, PpmUser *user, char *name)
{
  /* Only users of the users table are counted (never self). */
  gboolean counted = user != client->self;

  if (counted && user->fullname != NULL)
    count_name (client, user->fullname, -1);
  g_free (user->fullname);
  user->fullname = name;
  if (counted && name != NULL)
    count_name (client, name, +1);
}

/* Whether a user other than uuid is called name. */
static gboolean
name_taken (PpmClient *client, const char *name, const char *uuid)
{
  const PpmUser *user = g_hash_table_lookup (client->users, uuid);
  guint own = user && g_strcmp0 (user->fullname, name) == 0 ? 1 : 0;

  return name_count (client, name) > own;
}

/* Visitors are mostly all called "Unknown Area.User": append a short id to
 * anonymous ones, and to any name another user already has. */
static char *
visitor_name (PpmClient *client, const char *fullname, const char *email, const char *uuid)
{
  g_autofree char *short_id = g_strndup (uuid, SHORT_ID_LENGTH);

  if (fullname == NULL || *fullname == '\0')
    return g_strdup_printf ("Visitor %s", short_id);
  if (g_strcmp0 (fullname, ANONYMOUS_VISITOR_NAME) == 0 || is_anonymous_email (email) ||
      name_taken (client, fullname, uuid))
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
ppm_client_user_from_json (PpmClient *client, JsonObject *item, gboolean is_service_user)
{
  const char *uuid = ppm_json_opt_nonempty (item, "uuid");
  const char *fullname = ppm_json_opt_string (item, "user_fullname");
  const char *email = ppm_json_opt_string (item, "user_email");
  const char *icon = ppm_json_opt_string (item, "user_icon");
  PpmUser *user;

  if (uuid == NULL)
    return NULL;
  user = ppm_client_user_ensure (client, uuid);
  user->is_service_user = user->is_service_user || is_service_user;
  if (user->fullname == NULL || fullname != NULL) {
    ppm_client_user_set_fullname (client, user,
                                  user->is_service_user || user == client->self
                                    ? g_strdup (fullname ? fullname : email ? email : uuid)
                                    : visitor_name (client, fullname, email, uuid));
  }
  if (email) {
    g_free (user->email);
    user->email = g_strdup (email);
  }
  if (icon) {
    g_free (user->icon_url);
    user->icon_url = g_strdup (icon);
  }
  /* Visitors always look offline in member lists (server bug 21). */
  user->presence = user->is_service_user ? presence_of (item) : PPM_PRESENCE_UNKNOWN;
  return user;
}

void
ppm_client_apply_team_list (PpmClient *client, JsonArray *list)
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
    known = g_hash_table_contains (client->users, uuid);
    if (known) {
      PpmUser *old = g_hash_table_lookup (client->users, uuid);

      before = old->presence;
      name_before = g_strdup (old->fullname);
    }
    user = ppm_client_user_from_json (client, item, TRUE);
    if (user && (!known || before != user->presence ||
                 g_strcmp0 (name_before, user->fullname) != 0))
      ppm_client_user_emit (client, user);
  }
}

/* Pushes are only made for devices the server counts online (routing rule
 * 2): a device flagged offline behind the session's back (PPKEFU_LOGOUT of
 * an earlier session of this device arriving late, for one) gets nothing
 * while its socket looks healthy. A fresh sign-in flags it online again and
 * the catch-up brings what was missed. */
static void
check_own_device_online (PpmClient *client, JsonArray *list)
{
  guint length = list ? json_array_get_length (list) : 0;
  g_autoptr (GError) error = NULL;

  if (client->state != SESSION_CONNECTED || client->self == NULL)
    return;
  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    gboolean online;

    if (item == NULL || g_strcmp0 (ppm_json_opt_string (item, "uuid"), client->self->uuid) != 0)
      continue;
    if (!ppm_json_get_bool (item, "is_browser_online", &online, NULL) || online)
      return;
    error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                                 _("The server counts this device offline"));
    ppm_reconnect_sign_in_again (client, error);
    return;
  }
}

static void
on_team_polled (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  JsonArray *list;

  if (ppm_error_is_cancelled (error))
    return;
  if (error) {
    ppm_client_note_http_error (client, "team refresh", error);
    return;
  }
  list = ppm_json_opt_array (answer, "list");
  ppm_client_apply_team_list (client, list);
  check_own_device_online (client, list);
}

static gboolean
poll_team (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (JsonObject) body = ppm_client_request_body (client);

  ppm_api_call (client->api, "PP_GET_APP_SERVICE_USER_LIST", body, client->cancellable,
                on_team_polled, client);
  return G_SOURCE_CONTINUE;
}

void
ppm_client_start_team_poll (PpmClient *client)
{
  if (client->team_poll_id == 0)
    client->team_poll_id = g_timeout_add_seconds (client->team_poll_seconds, poll_team, client);
}

/* ---- Conversations ---- */

PpmConv *
ppm_client_conv_ensure (PpmClient *client, const char *uuid)
{
  PpmConv *conv = g_hash_table_lookup (client->conversations, uuid);

  if (conv == NULL) {
    conv = g_new0 (PpmConv, 1);
    conv->pub.uuid = g_strdup (uuid);
    conv->pub.member_uuids = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (client->conversations, conv->pub.uuid, conv);
  }
  return conv;
}

void
ppm_client_conv_touch (PpmClient *client, PpmConv *conv)
{
  conv->activity = ++client->activity_counter;
}

static gboolean
is_agent (PpmClient *client, const char *uuid)
{
  const PpmUser *user = ppm_client_lookup_user (client, uuid);

  return user != NULL && user->is_service_user;
}

/* The visitor of a P2S, the other agent of a 1:1 S2S, else NULL. */
static const char *
find_peer (PpmClient *client, PpmConv *conv)
{
  GPtrArray *members = conv->pub.member_uuids;
  const char *self = client->self ? client->self->uuid : NULL;

  if (client->role == PPM_ROLE_VISITOR) {
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
    if (conv->creator_uuid && !is_agent (client, conv->creator_uuid))
      return conv->creator_uuid;
    for (guint i = 0; i < members->len; i++)
      if (!is_agent (client, members->pdata[i]))
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

static void
update_peer_and_name (PpmClient *client, PpmConv *conv)
{
  const char *peer = find_peer (client, conv);
  const PpmUser *user = ppm_client_lookup_user (client, peer);

  ppm_client_conv_set_peer (client, conv, peer);
  if (user && user->fullname) {
    g_free (conv->pub.name);
    conv->pub.name = g_strdup (user->fullname);
  } else if (conv->pub.name == NULL) {
    conv->pub.name = g_strdup (g_strcmp0 (conv->pub.type, "P2S") == 0 ? "Visitor"
                                                                       : "Group chat");
  }
}

/* Members from a PP_GET_CONVERSATION_USER_LIST list; new visitors are
 * announced through user_changed. */
void
ppm_client_conv_set_members (PpmClient *client, PpmConv *conv, JsonArray *list)
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
    if (client->self && g_strcmp0 (uuid, client->self->uuid) == 0)
      continue;
    known = ppm_client_lookup_user (client, uuid) != NULL;
    if (known && is_agent (client, uuid) && client->role == PPM_ROLE_AGENT)
      continue;                /* colleagues come from the team list */
    /* A visitor only ever talks with agents. */
    user = ppm_client_user_from_json (client, item, client->role == PPM_ROLE_VISITOR);
    if (user && !known)
      ppm_client_user_emit (client, user);
  }
  update_peer_and_name (client, conv);
}

void
ppm_client_conv_emit (PpmClient *client, PpmConv *conv)
{
  if (conv->pub.peer_uuid == NULL || conv->pub.name == NULL)
    update_peer_and_name (client, conv);
  if (client->events.conversation_changed)
    client->events.conversation_changed (client->user_data, &conv->pub);
}
