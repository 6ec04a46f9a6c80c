/* ppm-send.c: sending text over the websocket (the HTTP PP_SEND_MESSAGE is
 * broken on the real server), waiting for the server's ACK SEND, starting
 * 1:1 conversations with colleagues, and typing notifications.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"
#include "ppm-resend-check.h"

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

void
pending_send_free (PendingSend *send)
{
  g_clear_handle_id (&send->deadline_id, g_source_remove);
  g_clear_pointer (&send->frame, json_object_unref);
  g_clear_error (&send->error);
  g_free (send->uuid);
  g_free (send->conversation_uuid);
  g_free (send->seen_before);
  g_free (send);
}

static void
report (PpmClient *client, const char *conversation_uuid, const char *message_uuid,
        const GError *error)
{
  if (error)
    g_debug ("message %s not sent: %s", message_uuid, error->message);
  else
    g_debug ("message %s stored by the server", message_uuid);
  if (client->events.send_result)
    client->events.send_result (client->user_data, conversation_uuid, message_uuid, error);
}

/* Removes a pending send and reports its outcome. */
static void
complete (PpmClient *client, PendingSend *send, const GError *error)
{
  g_autofree char *conversation = g_strdup (send->conversation_uuid);
  g_autofree char *uuid = g_strdup (send->uuid);

  g_queue_remove (&client->unsent, send);
  g_queue_remove (&client->in_flight, send);
  g_hash_table_remove (client->pending_sends, uuid);
  report (client, conversation, uuid, error);
}

static gboolean
on_send_deadline (gpointer data)
{
  PendingSend *send = data;
  g_autoptr (GError) error = g_error_new_literal (PPM_ERROR, PPM_ERROR_SEND_TIMEOUT,
                                                  _("The server did not confirm the message "
                                                    "in time"));

  send->deadline_id = 0;
  complete (send->client, send, error);
  return G_SOURCE_REMOVE;
}

/* ---- The ACK watchdog: a socket that takes frames but confirms none ---- */

static gint64
ack_wait_us (PpmClient *client)
{
  guint seconds = client->keepalive_seconds ? client->keepalive_seconds
                                            : PPM_WS_KEEPALIVE_SECONDS;

  return (gint64) seconds * G_USEC_PER_SEC;
}

void
ppm_send_stop_watchdog (PpmClient *client)
{
  g_clear_handle_id (&client->ack_watchdog_id, g_source_remove);
}

static gboolean
check_acks (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) error = NULL;

  if (g_queue_is_empty (&client->in_flight)) {
    client->ack_watchdog_id = 0;
    return G_SOURCE_REMOVE;
  }
  if (ppm_clock_now_us () - client->send_progress_at < ack_wait_us (client))
    return G_SOURCE_CONTINUE;
  client->ack_watchdog_id = 0;
  error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                               _("The server stopped confirming sent messages"));
  ppm_client_fail (client, error);
  return G_SOURCE_REMOVE;
}

static gboolean
write_now (PpmClient *client, PendingSend *send)
{
  if (!ppm_session_send_frame (client, send->frame))
    return FALSE;
  if (g_queue_is_empty (&client->in_flight))
    client->send_progress_at = ppm_clock_now_us ();
  g_queue_push_tail (&client->in_flight, send);
  if (client->ack_watchdog_id == 0)
    client->ack_watchdog_id = g_timeout_add (MAX (ack_wait_us (client) / 4000, 100),
                                             check_acks, client);
  return TRUE;
}

void
ppm_send_requeue_in_flight (PpmClient *client)
{
  PendingSend *send;

  /* Newest first onto the head of the queue: the order stays the same. */
  while ((send = g_queue_pop_tail (&client->in_flight)) != NULL) {
    send->maybe_stored = TRUE;
    g_queue_push_head (&client->unsent, send);
  }
  ppm_send_stop_watchdog (client);
}

/* Writes the queue in order once the socket is authenticated and caught up. */
void
ppm_send_flush_unsent (PpmClient *client)
{
  PendingSend *send;

  if (!client->ws_authenticated || client->state != SESSION_CONNECTED)
    return;
  if (ppm_resend_check_holds_queue (client))
    return;
  while ((send = g_queue_pop_head (&client->unsent)) != NULL) {
    if (!write_now (client, send)) {
      g_queue_push_head (&client->unsent, send);
      return;
    }
  }
}

/* Sends that failed before reaching the server are reported from an idle
 * callback: never from within ppm_client_send_text(). */
static gboolean
report_failed_sends (gpointer data)
{
  PpmClient *client = data;
  GHashTableIter iter;
  PendingSend *send;

  client->failed_sends_idle_id = 0;
  for (;;) {
    PendingSend *failed = NULL;

    g_hash_table_iter_init (&iter, client->pending_sends);
    while (failed == NULL && g_hash_table_iter_next (&iter, NULL, (gpointer *) &send))
      if (send->error)
        failed = send;
    if (failed == NULL)
      break;
    {
      g_autoptr (GError) error = g_steal_pointer (&failed->error);

      complete (client, failed, error);
    }
  }
  return G_SOURCE_REMOVE;
}

static void
fail_later (PpmClient *client, PendingSend *send, GError *error)
{
  send->error = error;
  if (client->failed_sends_idle_id == 0)
    client->failed_sends_idle_id = g_idle_add (report_failed_sends, client);
}

void
ppm_send_fail_all (PpmClient *client, const GError *error)
{
  g_autoptr (GList) sends = g_hash_table_get_values (client->pending_sends);
  g_autoptr (GError) lost = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK,
                                         _("The message may not have been sent: %s"),
                                         error->message);

  for (GList *l = sends; l; l = l->next)
    complete (client, l->data, lost);
}

void
ppm_send_handle_ack (PpmClient *client, const char *message_uuid, gint64 code,
                     const char *reason)
{
  PendingSend *send = message_uuid ? g_hash_table_lookup (client->pending_sends, message_uuid)
                                   : NULL;
  g_autoptr (GError) error = NULL;
  PpmConv *conv;

  if (send == NULL) {
    g_debug ("ACK SEND for an unknown message %s", message_uuid ? message_uuid : "(null)");
    return;
  }
  if (code != 0) {
    error = g_error_new (PPM_ERROR, PPM_ERROR_SEND_REFUSED,
                         _("The server refused the message: %s (code %lld)"),
                         reason ? reason : _("no reason given"), (long long) code);
    complete (client, send, error);
    return;
  }
  client->send_progress_at = ppm_clock_now_us ();
  /* "last_seen" is not moved to our own message: a visitor's message stored
   * just before it may still be on its way to us, and a catch-up from our
   * message would skip it. Our own uuids are known to the de-duplication. */
  conv = g_hash_table_lookup (client->conversations, send->conversation_uuid);
  if (conv)
    ppm_client_conv_touch (client, conv);
  complete (client, send, NULL);
}

/* ---- Sending ---- */

static JsonObject *
send_frame (PpmClient *client, PpmConv *conv, const char *uuid, const char *text)
{
  JsonObject *frame = json_object_new ();
  JsonObject *message = json_object_new ();
  gboolean visitor_chat = g_strcmp0 (conv->pub.type, "P2S") == 0;
  gboolean as_visitor = client->role == PPM_ROLE_VISITOR;
  const char *to = conv->pub.peer_uuid ? conv->pub.peer_uuid : conv->creator_uuid;
  const char *type = as_visitor ? "P2S" : visitor_chat ? "S2P" : "S2S";

  /* PPCom addresses its messages to the conversation itself (5.11). */
  if (as_visitor)
    to = conv->pub.uuid;

  json_object_set_string_member (message, "uuid", uuid);
  json_object_set_string_member (message, "app_uuid", client->app_uuid);
  json_object_set_string_member (message, "conversation_uuid", conv->pub.uuid);
  /* Agents answer a visitor's P2S conversation as S2P (7.7). */
  json_object_set_string_member (message, "conversation_type", type);
  json_object_set_string_member (message, "message_type", "NOTI");
  /* Text over 128 bytes is turned into TXT by the server itself (7.5). */
  json_object_set_string_member (message, "message_subtype", "TEXT");
  json_object_set_string_member (message, "message_body", text);
  json_object_set_string_member (message, "from_uuid", client->self->uuid);
  json_object_set_string_member (message, "from_type", "DU");
  json_object_set_string_member (message, "device_uuid", client->device_uuid);
  json_object_set_string_member (message, "to_uuid", to ? to : conv->pub.uuid);
  json_object_set_string_member (message, "to_type", "DU");
  json_object_set_string_member (frame, "type", "send");
  json_object_set_object_member (frame, "send", message);
  return frame;
}

/* Sends are taken once signed in, and queued while a repair runs. */
static gboolean
session_usable (PpmClient *client)
{
  if (client->self == NULL || client->state == SESSION_IDLE || client->state == SESSION_ENDED)
    return FALSE;
  return client->connected_once || client->state == SESSION_CONNECTED ||
         client->state == SESSION_CATCHING_UP;
}

static void
send_with_uuid (PpmClient *client, const char *conversation_uuid, const char *text,
                const char *uuid)
{
  PpmConv *conv = g_hash_table_lookup (client->conversations, conversation_uuid);
  PendingSend *send = g_new0 (PendingSend, 1);

  send->client = client;
  send->uuid = g_strdup (uuid);
  send->conversation_uuid = g_strdup (conversation_uuid);
  send->seen_before = ppm_resend_check_seen_before (client, conversation_uuid);
  g_hash_table_insert (client->pending_sends, send->uuid, send);
  if (!session_usable (client)) {
    fail_later (client, send, g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                                                   _("Not connected")));
    return;
  }
  if (conv == NULL) {
    fail_later (client, send, g_error_new (PPM_ERROR, PPM_ERROR_SEND_REFUSED,
                                           _("Unknown conversation %s"), conversation_uuid));
    return;
  }
  /* Our own message must never come back as a received one. */
  ppm_sync_mark_seen (client, uuid);
  send->frame = send_frame (client, conv, uuid, text ? text : "");
  send->deadline_id = g_timeout_add (client->send_timeout_ms, on_send_deadline, send);
  g_queue_push_tail (&client->unsent, send);
  ppm_send_flush_unsent (client);
}

char *
ppm_client_send_text (PpmClient *client, const char *conversation_uuid, const char *text)
{
  char *uuid = g_uuid_string_random ();

  g_return_val_if_fail (client != NULL && conversation_uuid != NULL, NULL);
  send_with_uuid (client, conversation_uuid, text, uuid);
  return uuid;
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
  const char *uuid = ppm_json_opt_nonempty (answer, "uuid");
  PpmConv *conv;

  if (uuid == NULL)
    return NULL;
  conv = ppm_client_conv_ensure (client, uuid);
  g_free (conv->pub.type);
  conv->pub.type = g_strdup (ppm_json_opt_nonempty (answer, "conversation_type") ?: "S2S");
  g_free (conv->creator_uuid);
  conv->creator_uuid = g_strdup (ppm_json_opt_nonempty (answer, "user_uuid"));
  g_free (conv->assigned_uuid);
  conv->assigned_uuid = g_strdup (ppm_json_opt_nonempty (answer, "assigned_uuid"));
  if (conv->pub.member_uuids->len == 0) {
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (client->self->uuid));
    g_ptr_array_add (conv->pub.member_uuids, g_strdup (user_uuid));
  }
  ppm_client_conv_set_peer (client, conv, NULL);
  g_free (conv->pub.name);
  conv->pub.name = NULL;
  conv->pub.is_open = TRUE;
  ppm_client_conv_touch (client, conv);
  ppm_client_conv_emit (client, conv);
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

      report (client, NULL, pending->uuid, failure);
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
  body = ppm_client_request_body (client);
  members = json_array_new ();
  json_array_add_string_element (members, user_uuid);
  json_object_set_array_member (body, "member_list", members);
  if (client->role == PPM_ROLE_VISITOR) {
    /* A visitor asks for a conversation with that one agent (5.10). */
    ppm_api_call (client->api, "PPCOM_CREATE_CONVERSATION", body, client->cancellable,
                  on_conversation_created, creation);
    return g_strdup (pending->uuid);
  }
  json_object_set_string_member (body, "conversation_type", "S2S");
  user = ppm_client_lookup_user (client, user_uuid);
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
  ppm_session_send_frame (client, frame);
}

void
ppm_client_watch_typing (PpmClient *client, const char *conversation_uuid, gboolean watching)
{
  g_return_if_fail (client != NULL);
  if (conversation_uuid == NULL)
    return;
  if (watching) {
    watch (client, conversation_uuid);
  } else if (g_strcmp0 (client->watched_conversation, conversation_uuid) == 0) {
    g_autoptr (JsonObject) frame = ppm_ws_typing_unwatch_frame ();

    g_clear_pointer (&client->watched_conversation, g_free);
    ppm_session_send_frame (client, frame);
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
  ppm_session_send_frame (client, frame);
}
