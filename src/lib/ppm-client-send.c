/* ppm-client-send.c: what the user sends: text to a conversation (over
 * the websocket, through the outbox), the first message to a colleague or
 * an agent (the 1:1 conversation is created first), and typing
 * notifications.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>

typedef struct {
  char *uuid;
  char *text;
} PendingText;

static void
pending_text_free (PendingText *pending)
{
  g_free (pending->uuid);
  g_free (pending->text);
  g_free (pending);
}

/* ---- Sending ---- */

void
ppm_send_init (PpmClient *client)
{
  client->creating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
  client->typing_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
ppm_send_reset (PpmClient *client)
{
  g_hash_table_remove_all (client->creating);
  g_clear_pointer (&client->watched_conversation, g_free);
}

void
ppm_send_clear (PpmClient *client)
{
  ppm_files_clear (client);
  g_clear_pointer (&client->creating, g_hash_table_unref);
  g_clear_pointer (&client->typing_sent, g_hash_table_unref);
  g_clear_pointer (&client->watched_conversation, g_free);
}

/* Writes the queue in order once the socket is authenticated and caught up. */
void
ppm_send_flush (PpmClient *client)
{
  if (client->ws_authenticated && client->state == SESSION_CONNECTED)
    ppm_outbox_flush (&client->outbox);
}

static JsonObject *
send_frame (PpmClient *client, PpmConv *conv, const char *uuid, const char *subtype,
            const char *body)
{
  JsonObject *frame;
  gboolean visitor_chat = g_strcmp0 (conv->pub.type, "P2S") == 0;
  gboolean as_visitor = client->role == PPM_ROLE_VISITOR;
  const char *to = conv->pub.peer_uuid ? conv->pub.peer_uuid : conv->creator_uuid;
  const char *type = as_visitor ? "P2S" : visitor_chat ? "S2P" : "S2S";

  /* PPCom addresses its messages to the conversation itself (the
   * protocol document, "Sending and receiving as a visitor"). Agents
   * answer a visitor's P2S conversation as S2P ("Conversation types"). */
  if (as_visitor)
    to = conv->pub.uuid;
  frame = ppm_ws_send_text_frame (uuid, client->app_uuid, conv->pub.uuid, type,
                                  client->registry.self->uuid, client->device_uuid,
                                  to ? to : conv->pub.uuid, body);
  /* A file or an image travels as a TEXT does, with its own sub-type and
   * a JSON body (../shared/protocol/PPMESSAGE-PROTOCOL.md, "Body by
   * sub-type"). */
  json_object_set_string_member (json_object_get_object_member (frame, "send"),
                                 "message_subtype", subtype);
  return frame;
}

/* Sends are taken once signed in, and queued while a repair runs. */
static gboolean
session_usable (PpmClient *client)
{
  if (client->registry.self == NULL)
    return FALSE;
  return client->state == SESSION_CATCHING_UP || ppm_client_was_connected (client);
}

void
ppm_send_message_with_uuid (PpmClient *client, const char *conversation_uuid,
                            const char *subtype, const char *body, const char *uuid)
{
  PpmConv *conv = ppm_registry_lookup_conv (&client->registry, conversation_uuid);
  g_autofree char *seen_before = NULL;

  if (!session_usable (client)) {
    ppm_outbox_fail_later (&client->outbox, uuid, conversation_uuid,
                           g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK, _("Not connected")));
    return;
  }
  if (conv == NULL) {
    ppm_outbox_fail_later (&client->outbox, uuid, conversation_uuid,
                           g_error_new (PPM_ERROR, PPM_ERROR_SEND_REFUSED,
                                        _("Unknown conversation %s"), conversation_uuid));
    return;
  }
  /* Our own message must never come back as a received one. */
  ppm_delivery_mark_seen (&client->delivery, uuid);
  seen_before = ppm_last_seen_get (&client->last_seen, conversation_uuid);
  ppm_outbox_queue (&client->outbox, uuid, conversation_uuid, seen_before,
                    send_frame (client, conv, uuid, subtype, body ? body : ""));
  ppm_send_flush (client);
}

static void
send_with_uuid (PpmClient *client, const char *conversation_uuid, const char *text,
                const char *uuid)
{
  ppm_send_message_with_uuid (client, conversation_uuid, "TEXT", text, uuid);
}

char *
ppm_client_send_text (PpmClient *client, const char *conversation_uuid, const char *text)
{
  char *uuid = g_uuid_string_random ();

  g_return_val_if_fail (client != NULL && conversation_uuid != NULL, NULL);
  send_with_uuid (client, conversation_uuid, text, uuid);
  return uuid;
}

void
ppm_client_send_text_with_uuid (PpmClient *client, const char *conversation_uuid,
                                const char *text, const char *message_uuid)
{
  g_return_if_fail (client != NULL && conversation_uuid != NULL && message_uuid != NULL);
  send_with_uuid (client, conversation_uuid, text, message_uuid);
}

/* ---- 1:1 conversations with colleagues ---- */

typedef struct {
  PpmClient *client;
  char *user_uuid;
} Creation;

static void
creation_free (Creation *creation)
{
  g_free (creation->user_uuid);
  g_free (creation);
}

static PpmConv *
take_created_conversation (PpmClient *client, JsonObject *answer, const char *user_uuid)
{
  PpmRegistry *registry = &client->registry;
  PpmConv *conv = ppm_registry_take_conversation (registry,
                                                  ppm_json_opt_nonempty (answer, "uuid"),
                                                  answer, "S2S");

  if (conv == NULL)
    return NULL;
  if (conv->pub.member_uuids->len == 0) {
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (registry->self->uuid));
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (user_uuid));
  }
  /* Named after the colleague, as the peer is found again. */
  ppm_registry_conv_set_peer (registry, conv, NULL);
  g_clear_pointer (&conv->pub.name, g_free);
  conv->pub.is_open = TRUE;
  ppm_registry_conv_touch (registry, conv);
  ppm_registry_conv_emit (registry, conv);
  return conv;
}

static void
on_conversation_created (JsonObject *answer, const GError *error, gpointer data)
{
  Creation *creation = data;
  PpmClient *client;
  g_autoptr (GPtrArray) texts = NULL;
  g_autofree char *key = NULL;
  PpmConv *conv = NULL;

  if (ppm_error_is_cancelled (error)) {
    creation_free (creation);
    return;
  }
  client = creation->client;

  g_hash_table_steal_extended (client->creating, creation->user_uuid, (gpointer *) &key,
                               (gpointer *) &texts);
  if (error == NULL)
    conv = take_created_conversation (client, answer, creation->user_uuid);
  for (guint i = 0; texts && i < texts->len; i++) {
    PendingText *pending = texts->pdata[i];

    if (conv) {
      send_with_uuid (client, conv->pub.uuid, pending->text, pending->uuid);
    } else {
      g_autoptr (GError) failure = g_error_new (PPM_ERROR, PPM_ERROR_SEND_REFUSED,
                                                _("Could not start a conversation: %s"),
                                                error ? error->message
                                                      : _("the server gave no conversation"));

      ppm_client_emit_send_result (client, NULL, pending->uuid, failure);
    }
  }
  creation_free (creation);
}

char *
ppm_client_send_text_to_user (PpmClient *client, const char *user_uuid, const char *text)
{
  const PpmConversation *existing = ppm_client_conversation_for_user (client, user_uuid);
  PendingText *pending;
  GPtrArray *texts;
  Creation *creation;
  g_autoptr (JsonObject) body = NULL;
  JsonArray *members;
  const PpmUser *user;

  g_return_val_if_fail (client != NULL && user_uuid != NULL, NULL);
  if (existing != NULL || !session_usable (client))
    return ppm_client_send_text (client, existing ? existing->uuid : "", text);
  pending = g_new0 (PendingText, 1);
  pending->uuid = g_uuid_string_random ();
  pending->text = g_strdup (text);
  texts = g_hash_table_lookup (client->creating, user_uuid);
  if (texts != NULL) {
    g_ptr_array_add (texts, pending);   /* a creation is already on its way */
    return g_strdup (pending->uuid);
  }
  texts = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_text_free);
  g_ptr_array_add (texts, pending);
  g_hash_table_insert (client->creating, g_strdup (user_uuid), texts);
  creation = g_new0 (Creation, 1);
  creation->client = client;
  creation->user_uuid = g_strdup (user_uuid);
  body = ppm_api_new_body (client->api);
  members = json_array_new ();
  json_array_add_string_element (members, user_uuid);
  json_object_set_array_member (body, "member_list", members);
  if (client->role == PPM_ROLE_VISITOR) {
    /* A visitor asks for a conversation with that one agent
     * (PPCOM_CREATE_CONVERSATION in the protocol document). */
    ppm_api_call (client->api, "PPCOM_CREATE_CONVERSATION", body, client->cancellable,
                  on_conversation_created, creation);
    return g_strdup (pending->uuid);
  }
  json_object_set_string_member (body, "conversation_type", "S2S");
  user = ppm_registry_lookup_user (&client->registry, user_uuid);
  if (user && user->fullname)
    json_object_set_string_member (body, "conversation_name", user->fullname);
  ppm_api_call (client->api, "PP_CREATE_CONVERSATION", body, client->cancellable,
                on_conversation_created, creation);
  return g_strdup (pending->uuid);
}

/* ---- Typing ---- */

static void
watch (PpmClient *client, const char *conversation_uuid)
{
  g_autoptr (JsonObject) frame = ppm_ws_typing_watch_frame (conversation_uuid);

  g_free (client->watched_conversation);
  client->watched_conversation = g_strdup (conversation_uuid);
  ppm_socket_send_frame (client, frame);
}

void
ppm_client_watch_typing (PpmClient *client, const char *conversation_uuid, gboolean watching)
{
  g_return_if_fail (client != NULL);
  if (conversation_uuid == NULL)
    return;
  if (watching) {
    if (g_strcmp0 (client->watched_conversation, conversation_uuid) != 0)
      watch (client, conversation_uuid);
  } else if (g_strcmp0 (client->watched_conversation, conversation_uuid) == 0) {
    g_autoptr (JsonObject) frame = ppm_ws_typing_unwatch_frame ();

    g_clear_pointer (&client->watched_conversation, g_free);
    ppm_socket_send_frame (client, frame);
  }
}

void
ppm_send_rewatch_typing (PpmClient *client)
{
  g_autofree char *watched = g_strdup (client->watched_conversation);

  if (watched)
    watch (client, watched);
}

void
ppm_client_send_typing (PpmClient *client, const char *conversation_uuid)
{
  gint64 now = g_get_monotonic_time ();
  gint64 *last;
  g_autoptr (JsonObject) frame = NULL;

  g_return_if_fail (client != NULL);
  if (conversation_uuid == NULL || !client->ws_authenticated)
    return;
  last = g_hash_table_lookup (client->typing_sent, conversation_uuid);
  if (last && now - *last < PPM_TYPING_INTERVAL_MS * 1000)
    return;
  if (last == NULL) {
    last = g_new0 (gint64, 1);
    g_hash_table_insert (client->typing_sent, g_strdup (conversation_uuid), last);
  }
  *last = now;
  /* The server sends typing for the socket's one watched conversation. */
  if (g_strcmp0 (client->watched_conversation, conversation_uuid) != 0)
    watch (client, conversation_uuid);
  frame = ppm_ws_typing_frame ();
  ppm_socket_send_frame (client, frame);
}
