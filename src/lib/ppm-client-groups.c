/* ppm-client-groups.c: group conversations of agents (PpmConversation's
 * is_group): creating one, adding a colleague, leaving, and the list of
 * the groups this agent can open. Messages of a group come and go the way
 * every conversation's do (delivery, catch-up, outbox); this file only
 * changes who is in which group.
 *
 * The shipped server cannot create a conversation with two or more
 * members at once (PPMESSAGE-PROTOCOL.md section 4.17: HTTP 500), so a
 * group is created with one colleague and the others are added with
 * PP_UPDATE_CONVERSATION_MEMBER (section 4.19). Creating with one member
 * hands back the existing one-to-one conversation with that colleague when
 * there is one: that colleague is then tried as a later member instead.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>

static gboolean
can_ask (PpmClient *client)
{
  return client->api != NULL && client->state != SESSION_ENDED && client->cancellable != NULL &&
         client->registry.self != NULL && client->role == PPM_ROLE_AGENT;
}

/* One change of membership or creation on its way. */
typedef struct {
  PpmClient *client;
  char *name;
  GPtrArray *members;         /* char*: the colleagues, self not included */
  guint seed;                 /* index of the member the creation is tried with */
  char *conversation_uuid;
  char *action;               /* "ADD" or "REMOVE" */
  PpmClientDone done;
  gpointer user_data;
} GroupRequest;

static void
group_request_free (GroupRequest *request)
{
  g_free (request->name);
  g_ptr_array_unref (request->members);
  g_free (request->conversation_uuid);
  g_free (request->action);
  g_free (request);
}

/* Calls back once (error NULL: done) and frees the request. */
static void
group_request_finish (GroupRequest *request, const GError *error)
{
  request->done (request->user_data, request->conversation_uuid, error);
  group_request_free (request);
}

static void
fail_with (GroupRequest *request, const char *what, const GError *error)
{
  g_autoptr (GError) failure = NULL;

  ppm_client_note_http_error (request->client, what, error);
  failure = g_error_new (PPM_ERROR, error->domain == PPM_ERROR ? error->code : PPM_ERROR_API,
                         "%s", error->message);
  g_clear_pointer (&request->conversation_uuid, g_free);
  group_request_finish (request, failure);
}

static void
add_member_uuid (GPtrArray *members, const char *uuid)
{
  for (guint i = 0; i < members->len; i++)
    if (g_strcmp0 (members->pdata[i], uuid) == 0)
      return;
  g_ptr_array_add (members, g_strdup (uuid));
}

/* The registry learns the membership change the server agreed to. */
static void
apply_membership (GroupRequest *request)
{
  PpmRegistry *registry = &request->client->registry;
  PpmConv *conv = ppm_registry_lookup_conv (registry, request->conversation_uuid);

  if (conv == NULL)
    return;
  if (g_str_equal (request->action, "REMOVE")) {
    conv->pub.is_open = FALSE;
  } else {
    for (guint i = 0; i < request->members->len; i++)
      add_member_uuid (conv->pub.member_uuids, request->members->pdata[i]);
    conv->pub.is_open = TRUE;
    ppm_registry_conv_touch (registry, conv);
  }
  /* The peer and the name follow the members. */
  ppm_registry_conv_set_peer (registry, conv, NULL);
  ppm_registry_conv_emit (registry, conv);
}

static void
on_membership_changed (JsonObject *answer, const GError *error, gpointer data)
{
  GroupRequest *request = data;

  if (ppm_error_is_cancelled (error)) {
    group_request_free (request);
    return;
  }
  if (error != NULL) {
    fail_with (request, "PP_UPDATE_CONVERSATION_MEMBER", error);
    return;
  }
  apply_membership (request);
  group_request_finish (request, NULL);
}

/* PP_UPDATE_CONVERSATION_MEMBER for the members from index first on. */
static void
change_membership (GroupRequest *request, guint first)
{
  g_autoptr (JsonObject) body = json_object_new ();
  JsonArray *list = json_array_new ();
  PpmClient *client = request->client;

  for (guint i = first; i < request->members->len; i++)
    json_array_add_string_element (list, request->members->pdata[i]);
  json_object_set_string_member (body, "conversation_uuid", request->conversation_uuid);
  json_object_set_string_member (body, "action", request->action);
  json_object_set_array_member (body, "member_list", list);
  client->ports.call (client, "PP_UPDATE_CONVERSATION_MEMBER", body, client->cancellable,
                      on_membership_changed, request);
}

static void request_creation (GroupRequest *request);

static void
on_group_created (JsonObject *answer, const GError *error, gpointer data)
{
  GroupRequest *request = data;
  PpmRegistry *registry;
  const char *uuid;
  PpmConv *conv;
  char *seed;

  if (ppm_error_is_cancelled (error)) {
    group_request_free (request);
    return;
  }
  if (error != NULL) {
    fail_with (request, "PP_CREATE_CONVERSATION", error);
    return;
  }
  registry = &request->client->registry;
  uuid = ppm_json_opt_nonempty (answer, "uuid");
  /* Only a new conversation's answer lists its members: without the list
   * it is the existing one-to-one with the seed, which must stay one. */
  if (uuid != NULL && ppm_json_opt_array (answer, "user_list") == NULL) {
    if (++request->seed < request->members->len) {
      request_creation (request);
      return;
    }
    uuid = NULL;
  }
  if (uuid == NULL) {
    g_autoptr (GError) failure =
      g_error_new (PPM_ERROR, PPM_ERROR_PROTOCOL, "%s",
                   _("The server made no new group: it hands back your one-to-one "
                     "conversation with each of these colleagues instead"));

    group_request_finish (request, failure);
    return;
  }
  conv = ppm_registry_take_conversation (registry, uuid, answer, "S2S");
  g_free (conv->group_name);
  conv->group_name = g_strdup (request->name);
  g_ptr_array_set_size (conv->pub.member_uuids, 0);
  g_ptr_array_add (conv->pub.member_uuids, g_strdup (registry->self->uuid));
  request->conversation_uuid = g_strdup (uuid);
  /* The seed is in already; the others are added in one call. */
  seed = request->members->pdata[request->seed];
  request->members->pdata[request->seed] = request->members->pdata[0];
  request->members->pdata[0] = seed;
  g_ptr_array_add (conv->pub.member_uuids, g_strdup (seed));
  change_membership (request, 1);
}

static void
request_creation (GroupRequest *request)
{
  PpmClient *client = request->client;
  g_autoptr (JsonObject) body = json_object_new ();
  JsonArray *list = json_array_new ();

  json_array_add_string_element (list, request->members->pdata[request->seed]);
  json_object_set_string_member (body, "user_uuid", client->registry.self->uuid);
  json_object_set_string_member (body, "conversation_type", "S2S");
  json_object_set_array_member (body, "member_list", list);
  json_object_set_string_member (body, "conversation_name", request->name);
  client->ports.call (client, "PP_CREATE_CONVERSATION", body, client->cancellable,
                      on_group_created, request);
}

static GroupRequest *
group_request_new (PpmClient *client, const char *action, PpmClientDone done,
                   gpointer user_data)
{
  GroupRequest *request = g_new0 (GroupRequest, 1);

  request->client = client;
  request->members = g_ptr_array_new_with_free_func (g_free);
  request->action = g_strdup (action);
  request->done = done;
  request->user_data = user_data;
  return request;
}

/* The group's name when the user gave none: its members' names. */
static char *
default_name (PpmClient *client, GPtrArray *members)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < members->len; i++) {
    const PpmUser *user = ppm_registry_lookup_user (&client->registry, members->pdata[i]);

    g_string_append_printf (names, "%s%s", i ? ", " : "",
                            user && user->fullname ? user->fullname
                                                   : (const char *) members->pdata[i]);
  }
  return g_string_free (names, FALSE);
}

void
ppm_client_create_group (PpmClient *client, const char *name, const char *const *member_uuids,
                         PpmClientDone done, gpointer user_data)
{
  GroupRequest *request;

  g_return_if_fail (client != NULL && done != NULL);
  if (!can_ask (client))
    return;
  request = group_request_new (client, "ADD", done, user_data);
  for (guint i = 0; member_uuids != NULL && member_uuids[i] != NULL; i++) {
    const PpmUser *user = ppm_registry_lookup_user (&client->registry, member_uuids[i]);

    if (user == NULL || !user->is_service_user || user == client->registry.self) {
      g_autoptr (GError) error = g_error_new (PPM_ERROR, PPM_ERROR_SETTINGS,
                                              _("%s is not a colleague of this team"),
                                              member_uuids[i]);

      group_request_finish (request, error);
      return;
    }
    add_member_uuid (request->members, member_uuids[i]);
  }
  if (request->members->len < 2) {
    g_autoptr (GError) error =
      g_error_new (PPM_ERROR, PPM_ERROR_SETTINGS, "%s",
                   _("A group needs at least two colleagues besides you; write to one "
                     "colleague directly instead"));

    group_request_finish (request, error);
    return;
  }
  request->name = name != NULL && *name != '\0' ? g_strdup (name)
                                                : default_name (client, request->members);
  request_creation (request);
}

void
ppm_client_add_group_member (PpmClient *client, const char *conversation_uuid,
                             const char *user_uuid, PpmClientDone done, gpointer user_data)
{
  GroupRequest *request;

  g_return_if_fail (client != NULL && done != NULL);
  if (!can_ask (client) || conversation_uuid == NULL || user_uuid == NULL)
    return;
  request = group_request_new (client, "ADD", done, user_data);
  request->conversation_uuid = g_strdup (conversation_uuid);
  g_ptr_array_add (request->members, g_strdup (user_uuid));
  change_membership (request, 0);
}

void
ppm_client_leave_group (PpmClient *client, const char *conversation_uuid, PpmClientDone done,
                        gpointer user_data)
{
  GroupRequest *request;

  g_return_if_fail (client != NULL && done != NULL);
  if (!can_ask (client) || conversation_uuid == NULL)
    return;
  request = group_request_new (client, "REMOVE", done, user_data);
  request->conversation_uuid = g_strdup (conversation_uuid);
  g_ptr_array_add (request->members, g_strdup (client->registry.self->uuid));
  change_membership (request, 0);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  const PpmConversation *first = *(const PpmConversation *const *) a;
  const PpmConversation *second = *(const PpmConversation *const *) b;

  return g_utf8_collate (first->name ? first->name : "", second->name ? second->name : "");
}

GPtrArray *
ppm_client_list_groups (PpmClient *client)
{
  GPtrArray *groups = g_ptr_array_new ();
  GHashTableIter iter;
  PpmConv *conv;

  g_return_val_if_fail (client != NULL, groups);
  if (client->registry.conversations == NULL)
    return groups;
  g_hash_table_iter_init (&iter, client->registry.conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conv))
    if (conv->pub.is_group && conv->pub.is_open)
      g_ptr_array_add (groups, &conv->pub);
  g_ptr_array_sort (groups, by_name);
  return groups;
}
