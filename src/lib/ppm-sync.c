/* ppm-sync.c: getting every message to the UI exactly once: the catch-up
 * after the socket is authenticated (unacked pushes, then history since
 * the last message seen per conversation), live pushes, de-duplication by
 * message uuid, the delivery queue (unknown conversations are looked up and
 * long texts downloaded first, in order) and acknowledgements.
 *
 * First sign-in for a conversation (no "last_seen/<uuid>" setting): nothing
 * is replayed from history, so an account does not flood the UI with old
 * chats; the conversation's newest message becomes the baseline. What the
 * server still holds as unacked for this user is shown anyway. Right after
 * the conversation list was read, a conversation whose latest message is its
 * last_seen is not asked for history at all.
 *
 * One read of the unacked list stops at PPM_UNACKED_MAX_PAGES pages (a bound
 * on sign-in time and memory). When it stopped there, more wait on the
 * server: once everything it gave was delivered and the server confirmed its
 * acks (acked pushes leave the list), the list is read again from its first
 * page, round after round, until a round comes back short. A reconnect or
 * sign-out cancels this with the catch-up; a round whose page keeps failing
 * is given up until the next catch-up, which reads the list anyway.
 *
 * Costs stay linear and requests few: histories are fetched for up to
 * PPM_PARALLEL_REQUESTS conversations at once, unknown conversations of
 * queued messages are looked up ahead in parallel, the queue is shown
 * PPM_DELIVERY_BATCH messages per main-loop iteration, and acks go in one
 * ACK_MESSAGE per iteration.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static void fetch_unacked_page (PpmClient *client);
static void start_history_fetches (PpmClient *client);
static void finish_catch_up (PpmClient *client);
static void deliver_queue (PpmClient *client);
static void confirm_backlog_acks (PpmClient *client, GPtrArray *pids);
static void read_backlog_when_acked (PpmClient *client);

void
queued_message_free (QueuedMessage *queued)
{
  ppm_message_free (queued->message);
  g_free (queued->pid);
  g_free (queued->conversation_type);
  g_free (queued);
}

static QueuedMessage *
queued_message_new (PpmMessage *message, const char *pid, const char *conversation_type)
{
  QueuedMessage *queued = g_new0 (QueuedMessage, 1);

  queued->message = message;
  queued->pid = g_strdup (pid);
  queued->conversation_type = g_strdup (conversation_type);
  return queued;
}

/* ---- De-duplication ---- */

/* Remembers a message uuid; FALSE when it was already seen. */
gboolean
ppm_sync_mark_seen (PpmClient *client, const char *message_uuid)
{
  char *key;

  if (message_uuid == NULL || g_hash_table_contains (client->seen, message_uuid))
    return FALSE;
  key = g_strdup (message_uuid);
  g_hash_table_add (client->seen, key);
  g_queue_push_tail (&client->seen_order, key);
  while (g_queue_get_length (&client->seen_order) > PPM_SEEN_CAPACITY)
    g_hash_table_remove (client->seen, g_queue_pop_head (&client->seen_order));
  return TRUE;
}

/* Forgets a message uuid again: it was queued but never shown. */
static void
forget_seen (PpmClient *client, const char *message_uuid)
{
  GList *link = g_queue_find_custom (&client->seen_order, message_uuid,
                                     (GCompareFunc) g_strcmp0);

  if (link == NULL)
    return;
  g_queue_delete_link (&client->seen_order, link);
  g_hash_table_remove (client->seen, message_uuid);
}

void
ppm_sync_drop_undelivered (PpmClient *client)
{
  QueuedMessage *queued;

  while ((queued = g_queue_pop_head (&client->delivery)) != NULL) {
    forget_seen (client, queued->message->uuid);
    queued_message_free (queued);
  }
  client->delivery_busy = FALSE;
  g_clear_handle_id (&client->delivery_idle_id, g_source_remove);
  /* Look-ups in flight are cancelled with the session's requests. */
  g_queue_clear_full (&client->look_up_queue, g_free);
  g_hash_table_remove_all (client->looking_up);
  client->look_ups_in_flight = 0;
}

/* ---- Acknowledgements ---- */

/* A push shown is acked after the message callback; until the server
 * confirms the ack it stays in unconfirmed_acks. A session that ends before
 * (sign-out with an ack in flight, a connection lost for good) keeps those
 * ids in the setting "unconfirmed_acks": the de-duplication is in memory
 * only, so the next session acks them without showing them again. */

/* One ACK_MESSAGE in flight: its push ids come back to the pending list
 * when it fails, so that the server stops offering them. */
typedef struct {
  PpmClient *client;
  GPtrArray *pids;
} AckBatch;

static gboolean flush_acks_idle (gpointer data);

static void
on_acked (JsonObject *answer, const GError *error, gpointer data)
{
  AckBatch *batch = data;
  PpmClient *client = batch->client;

  if (error && !ppm_error_is_cancelled (error)) {
    ppm_client_note_http_error (client, "ACK_MESSAGE", error);
    for (guint i = 0; i < batch->pids->len; i++)
      g_ptr_array_add (client->pending_acks, g_strdup (batch->pids->pdata[i]));
    if (client->ack_retry_id == 0 && client->ack_idle_id == 0)
      client->ack_retry_id = g_timeout_add (PPM_ACK_RETRY_MS, flush_acks_idle, client);
  } else if (error == NULL) {
    for (guint i = 0; i < batch->pids->len; i++) {
      g_hash_table_remove (client->unconfirmed_acks, batch->pids->pdata[i]);
      g_hash_table_remove (client->shown_earlier, batch->pids->pdata[i]);
    }
    confirm_backlog_acks (client, batch->pids);
  }
  g_ptr_array_unref (batch->pids);
  g_free (batch);
}

static JsonObject *
acks_body (PpmClient *client, GPtrArray *pids)
{
  JsonObject *body = ppm_client_request_body (client);
  JsonArray *list = json_array_new ();

  for (guint i = 0; i < pids->len; i++)
    json_array_add_string_element (list, pids->pdata[i]);
  json_object_set_array_member (body, "list", list);
  return body;
}

/* At sign-out: every unconfirmed ack, the pending ones and those whose
 * request is about to be cancelled with the session. */
JsonObject *
ppm_sync_take_acks (PpmClient *client)
{
  g_autoptr (GPtrArray) pids = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer pid;

  g_clear_handle_id (&client->ack_idle_id, g_source_remove);
  g_clear_handle_id (&client->ack_retry_id, g_source_remove);
  g_ptr_array_set_size (client->pending_acks, 0);
  g_hash_table_iter_init (&iter, client->unconfirmed_acks);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    g_ptr_array_add (pids, pid);
  return pids->len > 0 ? acks_body (client, pids) : NULL;
}

void
ppm_sync_keep_unconfirmed_acks (PpmClient *client)
{
  GHashTableIter iter;
  gpointer pid;
  GString *kept = g_string_new (NULL);
  guint count = 0;

  /* What the server confirmed is gone from both; the rest is kept, within
   * a bound on the setting's size (beyond it, a few may show twice). */
  g_hash_table_iter_init (&iter, client->shown_earlier);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    g_hash_table_add (client->unconfirmed_acks, g_strdup (pid));
  g_hash_table_iter_init (&iter, client->unconfirmed_acks);
  while (g_hash_table_iter_next (&iter, &pid, NULL) && count < PPM_UNCONFIRMED_ACKS_MAX) {
    g_string_append_printf (kept, "%s%s", count ? "," : "", (const char *) pid);
    count++;
  }
  if (count > 0 || client->kept_acks_loaded)
    ppm_client_save_setting (client, "unconfirmed_acks", kept->str);
  if (count > 0)
    g_debug ("%u shown push(es) without a confirmed ack kept for the next session", count);
  g_string_free (kept, TRUE);
  g_hash_table_remove_all (client->unconfirmed_acks);
  g_hash_table_remove_all (client->shown_earlier);
  client->kept_acks_loaded = FALSE;
}

/* At a catch-up: what an earlier session showed without a confirmed ack. */
static void
load_unconfirmed_acks (PpmClient *client)
{
  g_autofree char *kept = ppm_client_load_setting (client, "unconfirmed_acks");
  g_auto (GStrv) pids = NULL;

  if (kept == NULL)
    return;
  client->kept_acks_loaded = TRUE;
  pids = g_strsplit (kept, ",", PPM_UNCONFIRMED_ACKS_MAX + 1);
  for (guint i = 0; pids[i] != NULL && i < PPM_UNCONFIRMED_ACKS_MAX; i++)
    if (*pids[i] != '\0')
      g_hash_table_add (client->shown_earlier, g_strdup (pids[i]));
}

/* At sign-out: no cancellable and no retry, the client is going away. */
static void
on_last_acked (JsonObject *answer, const GError *error, gpointer data)
{
  if (error && !ppm_error_is_cancelled (error))
    g_debug ("ACK_MESSAGE failed: %s", error->message);
}

void
ppm_sync_flush_acks (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_sync_take_acks (client);

  if (body && client->api)
    ppm_api_call (client->api, "ACK_MESSAGE", body, NULL, on_last_acked, NULL);
}

static gboolean
flush_acks_idle (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (JsonObject) body = NULL;
  AckBatch *batch;

  client->ack_idle_id = 0;
  client->ack_retry_id = 0;
  if (client->pending_acks->len == 0 || client->api == NULL)
    return G_SOURCE_REMOVE;
  body = acks_body (client, client->pending_acks);
  batch = g_new0 (AckBatch, 1);
  batch->client = client;
  batch->pids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < client->pending_acks->len; i++)
    g_ptr_array_add (batch->pids, g_steal_pointer (&client->pending_acks->pdata[i]));
  g_ptr_array_set_size (client->pending_acks, 0);
  ppm_api_call (client->api, "ACK_MESSAGE", body, client->cancellable, on_acked, batch);
  return G_SOURCE_REMOVE;
}

static void
ack_later (PpmClient *client, const char *pid)
{
  if (pid == NULL)
    return;
  g_ptr_array_add (client->pending_acks, g_strdup (pid));
  g_hash_table_add (client->unconfirmed_acks, g_strdup (pid));
  if (client->ack_idle_id == 0 && client->ack_retry_id == 0)
    client->ack_idle_id = g_idle_add (flush_acks_idle, client);
}

/* ---- Delivery ---- */

/* Returns FALSE when the message was already shown (it is only acked). */
static gboolean
enqueue (PpmClient *client, QueuedMessage *queued)
{
  if (!ppm_sync_mark_seen (client, queued->message->uuid)) {
    g_debug ("message %s already shown", queued->message->uuid);
    ack_later (client, queued->pid);
    queued_message_free (queued);
    return FALSE;
  }
  g_queue_push_tail (&client->delivery, queued);
  return TRUE;
}

static void
resume_delivery (PpmClient *client, const char *uuid, gpointer data)
{
  client->delivery_busy = FALSE;
  deliver_queue (client);
}

typedef struct {
  PpmClient *client;
  guint attempts;
} Download;

static void start_download (PpmClient *client, Download *download, PpmMessage *message);

static void
on_text_downloaded (GBytes *body, const GError *error, gpointer data)
{
  Download *download = data;
  PpmClient *client = download->client;
  QueuedMessage *queued;

  if (ppm_error_is_cancelled (error)) {
    g_free (download);
    return;
  }
  queued = g_queue_peek_head (&client->delivery);
  if (error && queued && download->attempts < PPM_PAGE_RETRIES &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    g_debug ("long text download failed (%s); trying again", error->message);
    start_download (client, download, queued->message);
    return;
  }
  g_free (download);
  if (queued != NULL) {
    if (error == NULL) {
      gsize size = 0;
      const char *data = g_bytes_get_data (body, &size);
      g_autofree char *text = g_utf8_make_valid (data ? data : "", size);

      ppm_message_set_text (queued->message, text);
    } else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
      g_autofree char *text = g_strdup_printf ("(a message longer than %u KiB, not shown "
                                               "here: %s)", PPM_MAX_TEXT_BYTES / 1024,
                                               queued->message->file_url);

      ppm_message_set_text (queued->message, text);
    } else {
      g_autofree char *text = g_strdup_printf ("(a long message that could not be "
                                               "downloaded: %s)", queued->message->file_url);

      ppm_message_set_text (queued->message, text);
    }
  }
  resume_delivery (client, NULL, NULL);
}

static void
start_download (PpmClient *client, Download *download, PpmMessage *message)
{
  const char *base = ppm_api_get_base_url (client->api);

  download->attempts++;
  client->delivery_busy = TRUE;
  /* file_url was built from the base URL: request its path part. */
  ppm_api_get_limited (client->api, message->file_url + strlen (base), PPM_MAX_TEXT_BYTES,
                       client->cancellable, on_text_downloaded, download);
}

static void
download_text (PpmClient *client, PpmMessage *message)
{
  Download *download = g_new0 (Download, 1);

  download->client = client;
  start_download (client, download, message);
}

/* A sender that no list told us about: a visitor, named from the push. */
static void
ensure_sender (PpmClient *client, PpmMessage *message)
{
  PpmUser *user;

  if (ppm_client_lookup_user (client, message->from_uuid) != NULL)
    return;
  user = ppm_client_user_ensure (client, message->from_uuid);
  /* A visitor only hears from agents; agents from visitors or new colleagues. */
  user->is_service_user = client->role == PPM_ROLE_VISITOR;
  if (message->from_name && (user->is_service_user ||
                             g_strcmp0 (message->from_name, "Unknown Area.User") != 0))
    ppm_client_user_set_fullname (client, user, g_strdup (message->from_name));
  else
    ppm_client_user_set_fullname (client, user,
                                  g_strdup_printf ("%s #%.6s", message->from_name ?: "Visitor",
                                                   message->from_uuid));
  ppm_client_user_emit (client, user);
}

/* The next message is shown only when its conversation is known and its
 * text is at hand; returns FALSE while waiting for either. */
static gboolean
prepare_head (PpmClient *client, QueuedMessage *queued)
{
  PpmMessage *message = queued->message;

  if (!g_hash_table_contains (client->conversations, message->conversation_uuid)) {
    client->delivery_busy = TRUE;
    if (g_hash_table_contains (client->looking_up, message->conversation_uuid))
      return FALSE;             /* looked up ahead: on_looked_up() resumes */
    ppm_sync_resolve_conversation (client, message->conversation_uuid, client->cancellable,
                                   resume_delivery, NULL);
    return FALSE;
  }
  if (ppm_message_needs_text (message)) {
    download_text (client, message);
    return FALSE;
  }
  return TRUE;
}

/* "last_seen/<conversation>" never moves back in server time: the next
 * sign-in replays history from it and the de-duplication is in memory only,
 * so moving it back would show again what was shown after it. Only
 * messages of the unacked list come after newer ones of their conversation
 * (a read of it follows history, a backlog round follows live pushes): one
 * older than the message last_seen was set to in this session leaves it.
 * Times compare only when both are a compact form's "ts" (since the epoch):
 * a record's createtime is the server's local time read as ours, off by the
 * zones' difference. A message without such a time blocks nothing. */
static void
move_last_seen (PpmClient *client, PpmConv *conv, QueuedMessage *queued)
{
  PpmMessage *message = queued->message;
  gint64 time_us = queued->time_is_epoch ? message->time_us : 0;
  g_autofree char *key = NULL;

  if (conv && queued->from_unacked_list && time_us > 0 && time_us < conv->last_seen_time_us) {
    g_debug ("message %s is older than the last seen of %s: kept", message->uuid,
             message->conversation_uuid);
    return;
  }
  key = ppm_client_last_seen_key (message->conversation_uuid);
  ppm_client_save_setting (client, key, message->uuid);
  if (conv && time_us > 0)
    conv->last_seen_time_us = time_us;
}

static void
deliver_one (PpmClient *client, QueuedMessage *queued)
{
  PpmMessage *message = queued->message;
  PpmConv *conv = g_hash_table_lookup (client->conversations, message->conversation_uuid);
  const PpmUser *sender;

  message->outgoing = client->self && g_strcmp0 (message->from_uuid, client->self->uuid) == 0;
  if (!message->outgoing)
    ensure_sender (client, message);
  sender = ppm_client_lookup_user (client, message->from_uuid);
  if (sender && sender->fullname) {
    g_free (message->from_name);
    message->from_name = g_strdup (sender->fullname);
  }
  if (conv) {
    ppm_client_conv_touch (client, conv);
    if (!conv->pub.is_open) {
      conv->pub.is_open = TRUE;   /* any message reopens it on the server too */
      ppm_client_conv_emit (client, conv);
    }
  }
  g_debug ("delivering message %s of %s%s", message->uuid, message->conversation_uuid,
           message->delayed ? " (delayed)" : "");
  if (client->events.message)
    client->events.message (client->user_data, message);
  ack_later (client, queued->pid);
  move_last_seen (client, conv, queued);
}

static gboolean
deliver_batch_idle (gpointer data)
{
  PpmClient *client = data;

  client->delivery_idle_id = 0;
  deliver_queue (client);
  return G_SOURCE_REMOVE;
}

/* Shows the queue in order, a batch now and the rest in later iterations. */
static void
deliver_queue (PpmClient *client)
{
  guint shown = 0;

  if (client->delivery_idle_id != 0)
    return;                     /* the next batch is already due */
  while (!client->delivery_busy && client->state == SESSION_CONNECTED) {
    QueuedMessage *queued = g_queue_peek_head (&client->delivery);

    if (queued == NULL)
      return;
    if (shown == PPM_DELIVERY_BATCH) {
      client->delivery_idle_id = g_idle_add (deliver_batch_idle, client);
      return;
    }
    if (!prepare_head (client, queued))
      return;
    g_queue_pop_head (&client->delivery);
    deliver_one (client, queued);
    queued_message_free (queued);
    shown++;
  }
}

/* ---- Conversations found in messages ---- */

typedef struct {
  PpmClient *client;
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
  PpmClient *client = resolve->client;

  conv->pub.is_open = TRUE;
  ppm_client_conv_touch (client, conv);
  ppm_client_conv_emit (client, conv);
  resolve->done (client, resolve->uuid, resolve->data);
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
  conv = ppm_client_conv_ensure (resolve->client, resolve->uuid);
  if (error == NULL)
    ppm_client_conv_set_members (resolve->client, conv, ppm_json_opt_array (answer, "list"));
  resolve_done (resolve, conv);
}

static void
on_resolve_info (JsonObject *answer, const GError *error, gpointer data)
{
  Resolve *resolve = data;
  PpmClient *client;
  PpmConv *conv;
  g_autoptr (JsonObject) body = NULL;
  JsonObject *membership;

  if (ppm_error_is_cancelled (error)) {
    resolve_free (resolve);
    return;
  }
  client = resolve->client;
  conv = ppm_client_conv_ensure (client, resolve->uuid);
  if (error) {
    g_debug ("conversation %s unknown to the server: %s", resolve->uuid, error->message);
    if (conv->pub.type == NULL)
      conv->pub.type = g_strdup ("P2S");
    resolve_done (resolve, conv);
    return;
  }
  g_free (conv->pub.type);
  conv->pub.type = g_strdup (ppm_json_opt_nonempty (answer, "conversation_type") ?: "P2S");
  g_free (conv->creator_uuid);
  conv->creator_uuid = g_strdup (ppm_json_opt_nonempty (answer, "user_uuid"));
  g_free (conv->assigned_uuid);
  conv->assigned_uuid = g_strdup (ppm_json_opt_nonempty (answer, "assigned_uuid"));
  membership = ppm_json_opt_object (answer, "conversation_data");
  if (conv->pub.name == NULL)
    conv->pub.name = g_strdup (membership ? ppm_json_opt_nonempty (membership,
                                                                   "conversation_name")
                                          : ppm_json_opt_nonempty (answer, "conversation_name"));
  body = ppm_client_request_body (client);
  json_object_set_string_member (body, "conversation_uuid", resolve->uuid);
  ppm_api_call (client->api, "PP_GET_CONVERSATION_USER_LIST", body, resolve->cancellable,
                on_resolve_members, resolve);
}

void
ppm_sync_resolve_conversation (PpmClient *client, const char *uuid, GCancellable *cancellable,
                               PpmResolved done, gpointer data)
{
  Resolve *resolve = g_new0 (Resolve, 1);
  g_autoptr (JsonObject) body = ppm_client_request_body (client);

  resolve->client = client;
  resolve->uuid = g_strdup (uuid);
  resolve->done = done;
  resolve->data = data;
  resolve->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  g_debug ("looking up conversation %s", uuid);
  json_object_set_string_member (body, "conversation_uuid", uuid);
  ppm_api_call (client->api, "PP_GET_CONVERSATION_INFO", body, cancellable,
                on_resolve_info, resolve);
}

/* ---- Looking up unknown conversations ahead of delivery ---- */

static void start_look_ups (PpmClient *client);

static void
on_looked_up (PpmClient *client, const char *uuid, gpointer data)
{
  QueuedMessage *head = g_queue_peek_head (&client->delivery);
  gboolean head_waits = client->delivery_busy && head != NULL &&
                        g_strcmp0 (head->message->conversation_uuid, uuid) == 0;

  g_hash_table_remove (client->looking_up, uuid);
  client->look_ups_in_flight--;
  start_look_ups (client);
  if (head_waits)
    resume_delivery (client, uuid, NULL);
}

static void
start_look_ups (PpmClient *client)
{
  while (client->look_ups_in_flight < PPM_PARALLEL_REQUESTS) {
    g_autofree char *uuid = g_queue_pop_head (&client->look_up_queue);

    if (uuid == NULL)
      return;
    client->look_ups_in_flight++;
    ppm_sync_resolve_conversation (client, uuid, client->cancellable, on_looked_up, NULL);
  }
}

/* The conversations of queued messages that no list told about are looked
 * up in parallel, not one at a time as each message comes up. */
static void
look_up_unknown_conversations (PpmClient *client)
{
  QueuedMessage *head = g_queue_peek_head (&client->delivery);
  /* When the head waits, its look-up (if any) already runs. */
  const char *head_uuid = client->delivery_busy && head ? head->message->conversation_uuid
                                                        : NULL;

  for (GList *l = client->delivery.head; l != NULL; l = l->next) {
    const char *uuid = ((QueuedMessage *) l->data)->message->conversation_uuid;

    if (uuid == NULL || g_strcmp0 (uuid, head_uuid) == 0 ||
        g_hash_table_contains (client->conversations, uuid) ||
        g_hash_table_contains (client->looking_up, uuid))
      continue;
    g_hash_table_add (client->looking_up, g_strdup (uuid));
    g_queue_push_tail (&client->look_up_queue, g_strdup (uuid));
  }
  start_look_ups (client);
}

/* ---- Live pushes ---- */

void
ppm_sync_handle_push (PpmClient *client, JsonObject *msg)
{
  const char *device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pid = NULL;
  PpmMessage *message;
  QueuedMessage *queued;

  if (ppm_message_is_logout (msg, &device)) {
    if (g_strcmp0 (device, client->device_uuid) == 0) {
      error = g_error_new_literal (PPM_ERROR, PPM_ERROR_SIGNED_IN_ELSEWHERE,
                                   _("This account signed in from another place"));
      ppm_client_fail (client, error);
    }
    return;
  }
  message = ppm_message_parse_compact (msg, ppm_api_get_base_url (client->api), &pid, &error);
  if (message == NULL) {
    g_debug ("ignoring a push that is not a message: %s", error->message);
    ack_later (client, ppm_json_opt_nonempty (msg, "pid"));
    return;
  }
  queued = queued_message_new (message, pid, ppm_json_opt_string (msg, "ct"));
  queued->time_is_epoch = TRUE;
  if (client->state == SESSION_CONNECTED) {
    enqueue (client, queued);
    deliver_queue (client);
  } else {
    g_queue_push_tail (&client->held_pushes, queued);
  }
}

/* ---- Catch-up ---- */

/* Which conversations to replay from history, and from where: every open
 * one (after a reconnect, also those that started during the session),
 * except, right after the conversation list was read, those whose latest
 * message is the last one seen. One without a last seen message is new to
 * this account: at its very first sign-in its newest message becomes the
 * baseline (years of history are not replayed); afterwards ("synced") it
 * started while the account was away and is replayed from its start,
 * since the server keeps no unacked push for a device that was offline. */
static void
plan_history (PpmClient *client)
{
  GHashTableIter iter;
  PpmConv *conv;
  gboolean list_fresh = client->list_fresh;
  g_autofree char *synced = ppm_client_load_setting (client, "synced");

  client->list_fresh = FALSE;   /* a later repair does not read the list again */
  g_hash_table_remove_all (client->baselines);
  g_ptr_array_set_size (client->history_targets, 0);
  g_hash_table_iter_init (&iter, client->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conv)) {
    g_autofree char *key = ppm_client_last_seen_key (conv->pub.uuid);
    char *last_seen;

    if (!conv->pub.is_open)
      continue;
    last_seen = ppm_client_load_setting (client, key);
    if (last_seen != NULL && *last_seen != '\0') {
      if (list_fresh && g_strcmp0 (last_seen, conv->latest_message_uuid) == 0) {
        g_free (last_seen);
        continue;               /* nothing new since */
      }
      g_hash_table_insert (client->baselines, g_strdup (conv->pub.uuid), last_seen);
      g_ptr_array_add (client->history_targets, g_strdup (conv->pub.uuid));
    } else if (synced != NULL) {
      g_free (last_seen);
      g_ptr_array_add (client->history_targets, g_strdup (conv->pub.uuid));
    } else {
      g_free (last_seen);
      if (conv->latest_message_uuid)
        ppm_client_save_setting (client, key, conv->latest_message_uuid);
    }
  }
  if (synced == NULL && list_fresh)
    ppm_client_save_setting (client, "synced", "1");
}

/* The history of one conversation being fetched, page after page. */
typedef struct {
  PpmClient *client;
  char *uuid;
  char *cursor;               /* min_uuid of the next page */
  gboolean from_start;        /* no last seen: pages of the whole history */
  GPtrArray *newest_first;    /* from_start: QueuedMessage* as the pages give them */
  guint pages;
  guint retries;              /* of the current page */
  guint retry_id;
} HistoryFetch;

static void
history_fetch_free (HistoryFetch *fetch)
{
  g_clear_handle_id (&fetch->retry_id, g_source_remove);
  g_free (fetch->uuid);
  g_free (fetch->cursor);
  g_clear_pointer (&fetch->newest_first, g_ptr_array_unref);
  g_free (fetch);
}

void
ppm_sync_abort_catch_up (PpmClient *client)
{
  if (client->catch_up_cancellable) {
    g_cancellable_cancel (client->catch_up_cancellable);
    g_clear_object (&client->catch_up_cancellable);
  }
  g_clear_handle_id (&client->page_retry_id, g_source_remove);
  for (guint i = 0; i < client->history_waiting->len; i++)
    history_fetch_free (client->history_waiting->pdata[i]);
  g_ptr_array_set_size (client->history_waiting, 0);
  client->history_in_flight = 0;
  g_ptr_array_set_size (client->caught_history, 0);
  g_ptr_array_set_size (client->caught_unacked, 0);
  client->recent_look_ups = 0;
  /* The next catch-up reads the unacked list from its start anyway. */
  client->backlog_round = FALSE;
  client->backlog_due = FALSE;
  g_clear_pointer (&client->backlog_unconfirmed, g_hash_table_unref);
  g_clear_pointer (&client->unacked_first_pid, g_free);
}

static void
plan_and_fetch_history (PpmClient *client)
{
  plan_history (client);
  client->history_next = 0;
  client->history_in_flight = 0;
  start_history_fetches (client);
}

/* ---- Conversations that started during an outage ---- */

/* A sign-in reads the whole conversation list; a repair reads its first
 * page (newest activity first) for the conversations that started while
 * the socket was down. The server made no push for those (the device was
 * offline), so they are looked up, then replayed from their start like any
 * conversation without a last seen message. */
static void
on_recent_resolved (PpmClient *client, const char *uuid, gpointer data)
{
  if (--client->recent_look_ups == 0)
    plan_and_fetch_history (client);
}

static void
on_recent_conversations (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  JsonArray *list;
  guint length;

  if (ppm_error_is_cancelled (error))
    return;
  if (error) {
    /* Best effort: the known conversations are caught up all the same. */
    ppm_client_note_http_error (client, "PP_PAGE_USER_CONVERSATION", error);
    if (client->state == SESSION_CATCHING_UP)
      plan_and_fetch_history (client);
    return;
  }
  list = ppm_json_opt_array (answer, "list");
  length = list ? json_array_get_length (list) : 0;
  client->recent_look_ups = 1;  /* held until every look-up has started */
  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    const char *uuid = item ? ppm_json_opt_nonempty (item, "uuid") : NULL;

    if (uuid == NULL || g_hash_table_contains (client->conversations, uuid) ||
        g_hash_table_contains (client->looking_up, uuid))
      continue;
    client->recent_look_ups++;
    ppm_sync_resolve_conversation (client, uuid, client->catch_up_cancellable,
                                   on_recent_resolved, NULL);
  }
  on_recent_resolved (client, NULL, NULL);
}

void
ppm_sync_start_catch_up (PpmClient *client)
{
  g_autoptr (JsonObject) body = NULL;

  ppm_sync_abort_catch_up (client);
  client->catch_up_cancellable = g_cancellable_new ();
  client->state = SESSION_CATCHING_UP;
  client->page_retries = 0;
  if (!client->kept_acks_loaded)
    load_unconfirmed_acks (client);
  g_ptr_array_set_size (client->caught_history, 0);
  g_ptr_array_set_size (client->caught_unacked, 0);
  if (client->list_fresh || client->role != PPM_ROLE_AGENT) {
    plan_and_fetch_history (client);
    return;
  }
  body = ppm_client_request_body (client);
  json_object_set_int_member (body, "page_offset", 0);
  json_object_set_int_member (body, "page_size", PPM_CONVERSATION_PAGE_SIZE);
  ppm_api_call (client->api, "PP_PAGE_USER_CONVERSATION", body, client->catch_up_cancellable,
                on_recent_conversations, client);
}

/* Sent by this user from this device, in this session or an earlier one:
 * the UI showed it when it was written, so it is not replayed. */
static gboolean
written_here (PpmClient *client, JsonObject *record)
{
  return client->self != NULL && client->device_uuid != NULL &&
         g_strcmp0 (ppm_json_opt_string (record, "from_uuid"), client->self->uuid) == 0 &&
         g_strcmp0 (ppm_json_opt_string (record, "from_device_uuid"), client->device_uuid) == 0;
}

static void
take_history_page (PpmClient *client, HistoryFetch *fetch, JsonArray *list, guint *taken)
{
  GPtrArray *target = fetch->from_start ? fetch->newest_first : client->caught_history;

  guint length = list ? json_array_get_length (list) : 0;
  const char *base = ppm_api_get_base_url (client->api);

  *taken = 0;
  for (guint i = 0; i < length; i++) {
    JsonObject *record = ppm_json_array_object (list, i);
    g_autoptr (GError) error = NULL;
    gboolean time_is_epoch = FALSE;
    PpmMessage *message = record ? ppm_message_parse_record_timed (record, base, &time_is_epoch,
                                                                   &error)
                                 : NULL;
    const char *uuid = record ? ppm_json_opt_nonempty (record, "uuid") : NULL;
    QueuedMessage *queued;

    if (uuid) {
      g_free (fetch->cursor);
      fetch->cursor = g_strdup (uuid);
      (*taken)++;
    }
    if (message != NULL && written_here (client, record)) {
      ppm_message_free (message);
      continue;
    }
    if (message == NULL) {
      g_debug ("skipping a history record: %s", error ? error->message : "not an object");
      continue;
    }
    message->delayed = TRUE;
    queued = queued_message_new (message, NULL, ppm_json_opt_string (record, "conversation_type"));
    queued->time_is_epoch = time_is_epoch;
    g_ptr_array_add (target, queued);
  }
}

static void fetch_history_page (HistoryFetch *fetch);

static gboolean
retry_history_page (gpointer data)
{
  HistoryFetch *fetch = data;

  fetch->retry_id = 0;
  g_ptr_array_remove_fast (fetch->client->history_waiting, fetch);
  fetch_history_page (fetch);
  return G_SOURCE_REMOVE;
}

/* One conversation's history is complete (or given up): the next one. */
static void
history_fetch_done (HistoryFetch *fetch)
{
  PpmClient *client = fetch->client;

  /* Page mode gives the newest first: shown oldest first. */
  if (fetch->newest_first != NULL) {
    gsize length = 0;
    gpointer *items = g_ptr_array_steal (fetch->newest_first, &length);

    for (gsize i = length; i > 0; i--)
      g_ptr_array_add (client->caught_history, items[i - 1]);
    g_free (items);
  }
  history_fetch_free (fetch);
  client->history_in_flight--;
  start_history_fetches (client);
}

/* A history page failed: asked again a few times; then, once connected,
 * the whole repair starts over (nothing may be skipped); at the first
 * sign-in the conversation is given up, as one is not worth the session. */
static void
history_page_failed (HistoryFetch *fetch, const GError *error)
{
  PpmClient *client = fetch->client;

  if (fetch->retries < PPM_PAGE_RETRIES) {
    fetch->retries++;
    g_debug ("history page failed (%s); asking again", error->message);
    fetch->retry_id = g_timeout_add (PPM_PAGE_RETRY_DELAY_MS * fetch->retries,
                                     retry_history_page, fetch);
    g_ptr_array_add (client->history_waiting, fetch);
    return;
  }
  if (client->connected_once) {
    history_fetch_free (fetch);
    ppm_client_fail (client, error);
    return;
  }
  g_debug ("history of %s given up: %s", fetch->uuid, error->message);
  history_fetch_done (fetch);
}

static void
on_history_page (JsonObject *answer, const GError *error, gpointer data)
{
  HistoryFetch *fetch = data;
  guint taken = 0;

  if (ppm_error_is_cancelled (error)) {
    history_fetch_free (fetch);
    return;
  }
  if (error) {
    history_page_failed (fetch, error);
    return;
  }
  fetch->retries = 0;
  take_history_page (fetch->client, fetch, ppm_json_opt_array (answer, "list"), &taken);
  fetch->pages++;
  /* min_uuid paging returns at most page_size - 1 items, oldest first;
   * page mode up to page_size, newest first. */
  if (taken == 0 || taken < PPM_HISTORY_PAGE_SIZE - (fetch->from_start ? 0 : 1) ||
      fetch->pages >= PPM_HISTORY_MAX_PAGES)
    history_fetch_done (fetch);
  else
    fetch_history_page (fetch);
}

static void
fetch_history_page (HistoryFetch *fetch)
{
  PpmClient *client = fetch->client;
  g_autoptr (JsonObject) body = ppm_client_request_body (client);

  json_object_set_string_member (body, "conversation_uuid", fetch->uuid);
  if (fetch->from_start)
    json_object_set_int_member (body, "page_offset", fetch->pages);
  else
    json_object_set_string_member (body, "min_uuid", fetch->cursor);
  json_object_set_int_member (body, "page_size", PPM_HISTORY_PAGE_SIZE);
  ppm_api_call (client->api, "PP_PAGE_HISTORY_MESSAGE", body, client->catch_up_cancellable,
                on_history_page, fetch);
}

/* Keeps up to PPM_PARALLEL_REQUESTS conversations' histories in flight
 * (each one's pages in order); then the unacked messages. */
static void
start_history_fetches (PpmClient *client)
{
  while (client->history_in_flight < PPM_PARALLEL_REQUESTS &&
         client->history_next < client->history_targets->len) {
    HistoryFetch *fetch = g_new0 (HistoryFetch, 1);

    fetch->client = client;
    fetch->uuid = g_strdup (client->history_targets->pdata[client->history_next++]);
    fetch->cursor = g_strdup (g_hash_table_lookup (client->baselines, fetch->uuid));
    if (fetch->cursor == NULL) {
      fetch->from_start = TRUE;
      fetch->newest_first = g_ptr_array_new_with_free_func ((GDestroyNotify) queued_message_free);
    }
    client->history_in_flight++;
    fetch_history_page (fetch);
  }
  if (client->history_in_flight == 0 && client->history_next >= client->history_targets->len) {
    client->history_next = G_MAXUINT;   /* only once */
    client->unacked_page = 0;
    fetch_unacked_page (client);
  }
}

static gboolean
retry_unacked_page (gpointer data)
{
  PpmClient *client = data;

  client->page_retry_id = 0;
  fetch_unacked_page (client);
  return G_SOURCE_REMOVE;
}

/* Asks a failed unacked page again after a delay, a few times; FALSE when
 * the retries are used up. */
static gboolean
retry_page_later (PpmClient *client, const GError *error, GSourceFunc retry)
{
  if (client->page_retries < PPM_PAGE_RETRIES) {
    client->page_retries++;
    g_debug ("unacked page failed (%s); asking again", error->message);
    client->page_retry_id = g_timeout_add (PPM_PAGE_RETRY_DELAY_MS * client->page_retries,
                                           retry, client);
    return TRUE;
  }
  client->page_retries = 0;
  return FALSE;
}

/* An unacked page failed: asked again a few times; then, once connected, the
 * whole repair starts over (nothing may be skipped); at the first sign-in
 * the page is given up.
 * Returns TRUE when the caller should carry on without the page. */
static gboolean
page_failed (PpmClient *client, const GError *error, GSourceFunc retry)
{
  if (retry_page_later (client, error, retry))
    return FALSE;
  if (client->connected_once) {
    ppm_client_fail (client, error);
    return FALSE;
  }
  g_debug ("catch-up page given up: %s", error->message);
  return TRUE;
}

static guint
take_unacked_page (PpmClient *client, JsonObject *answer)
{
  JsonArray *list = ppm_json_opt_array (answer, "list");
  JsonObject *messages = ppm_json_opt_object (answer, "message");
  guint length = list ? json_array_get_length (list) : 0;
  const char *base = ppm_api_get_base_url (client->api);

  if (client->backlog_unconfirmed == NULL)
    client->backlog_unconfirmed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < length; i++) {
    const char *pid = ppm_json_array_string (list, i);
    const char *text = pid && messages ? ppm_json_opt_string (messages, pid) : NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) compact = text ? ppm_json_parse_object (text, -1, &error) : NULL;
    PpmMessage *message = compact ? ppm_message_parse_compact (compact, base, NULL, &error)
                                  : NULL;
    QueuedMessage *queued;

    /* Noted before it can be acked: a next round waits for its ack. */
    if (pid != NULL)
      g_hash_table_add (client->backlog_unconfirmed, g_strdup (pid));
    if (pid != NULL && g_hash_table_contains (client->shown_earlier, pid)) {
      g_debug ("push %s was shown by an earlier session: acked, not shown again", pid);
      ack_later (client, pid);
      g_clear_pointer (&message, ppm_message_free);
      continue;
    }
    if (message == NULL) {
      /* Gone or unreadable: ack it so that it stops coming back. */
      ack_later (client, pid);
      continue;
    }
    message->delayed = TRUE;
    queued = queued_message_new (message, pid, ppm_json_opt_string (compact, "ct"));
    queued->time_is_epoch = TRUE;
    queued->from_unacked_list = TRUE;
    g_ptr_array_add (client->caught_unacked, queued);
  }
  return length;
}

static void finish_backlog_round (PpmClient *client);

/* A backlog round never ends the session: its messages stay unacked on the
 * server, so the next catch-up reads them anyway. */
static void
backlog_page_failed (PpmClient *client, const GError *error)
{
  if (retry_page_later (client, error, retry_unacked_page))
    return;
  g_debug ("unacked backlog given up until the next catch-up");
  client->backlog_due = FALSE;
  finish_backlog_round (client);
  /* Logs it; a refused token still repairs the session. */
  ppm_client_note_http_error (client, "PP_PAGE_UNACKED_MESSAGE", error);
}

/* Every ack of the last read was confirmed before a backlog round, so its
 * first page must start elsewhere; notes this read's first push id. */
static gboolean
unacked_list_moved_on (PpmClient *client, JsonObject *answer)
{
  JsonArray *list = ppm_json_opt_array (answer, "list");
  const char *first = list && json_array_get_length (list) > 0 ? ppm_json_array_string (list, 0)
                                                                : NULL;
  gboolean moved = !client->backlog_round || first == NULL ||
                   g_strcmp0 (first, client->unacked_first_pid) != 0;

  g_free (client->unacked_first_pid);
  client->unacked_first_pid = g_strdup (first);
  return moved;
}

static void
on_unacked_page (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  gboolean full;

  if (ppm_error_is_cancelled (error))
    return;
  if (error && client->backlog_round) {
    backlog_page_failed (client, error);
    return;
  }
  if (error) {
    if (page_failed (client, error, retry_unacked_page))
      finish_catch_up (client);
    return;
  }
  client->page_retries = 0;
  if (client->unacked_page == 0 && !unacked_list_moved_on (client, answer)) {
    g_debug ("unacked backlog: acked pushes stay in the list; stopping");
    client->backlog_due = FALSE;
    finish_backlog_round (client);
    return;
  }
  full = take_unacked_page (client, answer) == PPM_UNACKED_PAGE_SIZE;
  client->unacked_page++;
  if (full && client->unacked_page < PPM_UNACKED_MAX_PAGES) {
    fetch_unacked_page (client);
    return;
  }
  client->backlog_due = full;   /* stopped at the bound: more wait on the server */
  if (!full)                    /* read to its end: the rest of them were acked */
    g_hash_table_remove_all (client->shown_earlier);
  if (client->backlog_round)
    finish_backlog_round (client);
  else
    finish_catch_up (client);
}

static void
fetch_unacked_page (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_client_request_body (client);

  /* Acks only happen after delivery, so page offsets stay stable. */
  json_object_set_int_member (body, "page_offset", client->unacked_page);
  json_object_set_int_member (body, "page_size", PPM_UNACKED_PAGE_SIZE);
  ppm_api_call (client->api, "PP_PAGE_UNACKED_MESSAGE", body, client->catch_up_cancellable,
                on_unacked_page, client);
}

/* Returns how many were not shown before. */
static guint
move_to_delivery (PpmClient *client, GPtrArray *messages)
{
  gsize length = 0;
  gpointer *items = g_ptr_array_steal (messages, &length);
  guint fresh = 0;

  for (gsize i = 0; i < length; i++)
    fresh += enqueue (client, items[i]);
  g_free (items);
  return fresh;
}

/* History first (in order per conversation), then the unacked pushes (only
 * new ones remain after de-duplication), then what was pushed meanwhile. */
static void
finish_catch_up (PpmClient *client)
{
  QueuedMessage *queued;

  g_debug ("catch-up: %u from history, %u unacked, %u pushed meanwhile",
           client->caught_history->len, client->caught_unacked->len,
           g_queue_get_length (&client->held_pushes));
  g_clear_object (&client->catch_up_cancellable);
  client->state = SESSION_CONNECTED;
  ppm_reconnect_succeeded (client);
  if (client->role == PPM_ROLE_AGENT)
    ppm_client_start_team_poll (client);
  if (!client->connected_once) {
    client->connected_once = TRUE;
    if (client->events.connected)
      client->events.connected (client->user_data);
    if (client->state != SESSION_CONNECTED)
      return;                   /* disconnected from within the callback */
  }
  move_to_delivery (client, client->caught_history);
  move_to_delivery (client, client->caught_unacked);
  while ((queued = g_queue_pop_head (&client->held_pushes)) != NULL)
    enqueue (client, queued);
  look_up_unknown_conversations (client);
  deliver_queue (client);
  if (client->state == SESSION_CONNECTED)
    ppm_send_flush_unsent (client);
  if (!client->backlog_due)
    g_clear_pointer (&client->backlog_unconfirmed, g_hash_table_unref);
  read_backlog_when_acked (client);
}

/* ---- The unacked backlog beyond one read ---- */

static void
start_backlog_round (PpmClient *client)
{
  g_debug ("reading the unacked list again for the rest of the backlog");
  client->backlog_due = FALSE;
  client->backlog_round = TRUE;
  g_clear_pointer (&client->backlog_unconfirmed, g_hash_table_unref);
  client->catch_up_cancellable = g_cancellable_new ();
  client->page_retries = 0;
  client->unacked_page = 0;
  fetch_unacked_page (client);
}

/* The next round starts once the server confirmed every ack of the last
 * read: only then does the list start with messages not given yet. */
static void
read_backlog_when_acked (PpmClient *client)
{
  if (!client->backlog_due || client->backlog_round || client->catch_up_cancellable != NULL ||
      client->state != SESSION_CONNECTED || client->api == NULL)
    return;
  if (client->backlog_unconfirmed != NULL && g_hash_table_size (client->backlog_unconfirmed) > 0)
    return;
  start_backlog_round (client);
}

static void
confirm_backlog_acks (PpmClient *client, GPtrArray *pids)
{
  if (client->backlog_unconfirmed == NULL)
    return;
  for (guint i = 0; i < pids->len; i++)
    g_hash_table_remove (client->backlog_unconfirmed, pids->pdata[i]);
  read_backlog_when_acked (client);
}

/* After what was shown so far (pushes included): marked delayed, with
 * their server time. */
static void
finish_backlog_round (PpmClient *client)
{
  guint fresh;

  g_clear_object (&client->catch_up_cancellable);
  client->backlog_round = FALSE;
  g_clear_handle_id (&client->page_retry_id, g_source_remove);
  fresh = move_to_delivery (client, client->caught_unacked);
  g_debug ("unacked backlog: %u more to show%s", fresh,
           client->backlog_due ? ", and more on the server" : "");
  if (!client->backlog_due)
    g_clear_pointer (&client->backlog_unconfirmed, g_hash_table_unref);
  look_up_unknown_conversations (client);
  deliver_queue (client);
  read_backlog_when_acked (client);
}
