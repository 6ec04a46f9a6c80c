/* ppm-delivery.c: every message to the UI exactly once, in order; see
 * ppm-delivery.h.
 *
 * Acks go in one ACK_MESSAGE per main-loop iteration; unknown
 * conversations of queued messages are looked up ahead, up to
 * PPM_PARALLEL_REQUESTS at once; the queue is shown PPM_DELIVERY_BATCH
 * messages per iteration.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-delivery.h"
#include "ppm-json.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static void deliver_queue (PpmDelivery *delivery);
static void look_up_unknown_conversations (PpmDelivery *delivery);
static void drop_undelivered (PpmDelivery *delivery);
static void keep_unconfirmed_acks (PpmDelivery *delivery);

PpmQueued *
ppm_queued_new (PpmMessage *message, const char *pid, const char *conversation_type)
{
  PpmQueued *queued = g_new0 (PpmQueued, 1);

  queued->message = message;
  queued->pid = g_strdup (pid);
  queued->conversation_type = g_strdup (conversation_type);
  return queued;
}

void
ppm_queued_free (PpmQueued *queued)
{
  g_clear_pointer (&queued->message, ppm_message_free);
  g_free (queued->pid);
  g_free (queued->conversation_type);
  g_free (queued);
}

void
ppm_delivery_init (PpmDelivery *delivery, const PpmPorts *ports, const PpmDeliverySink *sink,
                   gpointer owner, PpmRegistry *registry, PpmLastSeen *last_seen)
{
  memset (delivery, 0, sizeof *delivery);
  delivery->ports = ports;
  if (sink)
    delivery->sink = *sink;
  delivery->owner = owner;
  delivery->registry = registry;
  delivery->last_seen = last_seen;
  g_queue_init (&delivery->held);
  g_queue_init (&delivery->queue);
  g_queue_init (&delivery->look_up_queue);
  g_queue_init (&delivery->seen_order);
  delivery->looking_up = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  delivery->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  delivery->pending_acks = g_ptr_array_new_with_free_func (g_free);
  delivery->unconfirmed_acks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  delivery->shown_earlier = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
ppm_delivery_reset (PpmDelivery *delivery)
{
  delivery->open = FALSE;
  delivery->holding = FALSE;
  g_clear_handle_id (&delivery->ack_idle_id, g_source_remove);
  g_clear_handle_id (&delivery->ack_retry_id, g_source_remove);
  g_queue_clear_full (&delivery->held, (GDestroyNotify) ppm_queued_free);
  drop_undelivered (delivery);
  keep_unconfirmed_acks (delivery);
  g_ptr_array_set_size (delivery->pending_acks, 0);
  delivery->cancellable = NULL;
}

void
ppm_delivery_clear (PpmDelivery *delivery)
{
  if (delivery->seen == NULL)
    return;
  ppm_delivery_reset (delivery);
  g_clear_pointer (&delivery->looking_up, g_hash_table_unref);
  g_clear_pointer (&delivery->seen, g_hash_table_unref);
  g_queue_clear (&delivery->seen_order);
  g_clear_pointer (&delivery->pending_acks, g_ptr_array_unref);
  g_clear_pointer (&delivery->unconfirmed_acks, g_hash_table_unref);
  g_clear_pointer (&delivery->shown_earlier, g_hash_table_unref);
}

void
ppm_delivery_set_cancellable (PpmDelivery *delivery, GCancellable *cancellable)
{
  delivery->cancellable = cancellable;
}

/* ---- De-duplication ---- */

/* Remembers a message uuid; FALSE when it was already seen. */
gboolean
ppm_delivery_mark_seen (PpmDelivery *delivery, const char *message_uuid)
{
  char *key;

  if (message_uuid == NULL || g_hash_table_contains (delivery->seen, message_uuid))
    return FALSE;
  key = g_strdup (message_uuid);
  g_hash_table_add (delivery->seen, key);
  g_queue_push_tail (&delivery->seen_order, key);
  while (g_queue_get_length (&delivery->seen_order) > PPM_SEEN_CAPACITY)
    g_hash_table_remove (delivery->seen, g_queue_pop_head (&delivery->seen_order));
  return TRUE;
}

/* Forgets a message uuid again: it was queued but never shown. */
static void
forget_seen (PpmDelivery *delivery, const char *message_uuid)
{
  GList *link = g_queue_find_custom (&delivery->seen_order, message_uuid,
                                     (GCompareFunc) g_strcmp0);

  if (link == NULL)
    return;
  g_queue_delete_link (&delivery->seen_order, link);
  g_hash_table_remove (delivery->seen, message_uuid);
}

static void
drop_undelivered (PpmDelivery *delivery)
{
  PpmQueued *queued;

  while ((queued = g_queue_pop_head (&delivery->queue)) != NULL) {
    forget_seen (delivery, queued->message->uuid);
    ppm_queued_free (queued);
  }
  delivery->busy = FALSE;
  g_clear_handle_id (&delivery->idle_id, g_source_remove);
  /* Look-ups in flight are cancelled with the session's requests. */
  g_queue_clear_full (&delivery->look_up_queue, g_free);
  g_hash_table_remove_all (delivery->looking_up);
  delivery->look_ups_in_flight = 0;
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
  PpmDelivery *delivery;
  GPtrArray *pids;
} AckBatch;

static gboolean flush_acks_idle (gpointer data);

static void
on_acked (JsonObject *answer, const GError *error, gpointer data)
{
  AckBatch *batch = data;
  PpmDelivery *delivery = batch->delivery;

  if (error && !ppm_error_is_cancelled (error)) {
    delivery->ports->http_failed (delivery->owner, "ACK_MESSAGE", error);
    for (guint i = 0; i < batch->pids->len; i++)
      g_ptr_array_add (delivery->pending_acks, g_strdup (batch->pids->pdata[i]));
    if (delivery->ack_retry_id == 0 && delivery->ack_idle_id == 0)
      delivery->ack_retry_id = g_timeout_add (PPM_ACK_RETRY_MS, flush_acks_idle, delivery);
  } else if (error == NULL) {
    for (guint i = 0; i < batch->pids->len; i++) {
      g_hash_table_remove (delivery->unconfirmed_acks, batch->pids->pdata[i]);
      g_hash_table_remove (delivery->shown_earlier, batch->pids->pdata[i]);
    }
    if (delivery->sink.acks_confirmed)
      delivery->sink.acks_confirmed (delivery->owner, batch->pids);
  }
  g_ptr_array_unref (batch->pids);
  g_free (batch);
}

static JsonObject *
acks_body (GPtrArray *pids)
{
  JsonObject *body = json_object_new ();
  JsonArray *list = json_array_new ();

  for (guint i = 0; i < pids->len; i++)
    json_array_add_string_element (list, pids->pdata[i]);
  json_object_set_array_member (body, "list", list);
  return body;
}

/* At sign-out: every unconfirmed ack, the pending ones and those whose
 * request is about to be cancelled with the session. */
JsonArray *
ppm_delivery_take_acks (PpmDelivery *delivery)
{
  g_autoptr (GPtrArray) pids = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer pid;
  JsonArray *list;

  g_clear_handle_id (&delivery->ack_idle_id, g_source_remove);
  g_clear_handle_id (&delivery->ack_retry_id, g_source_remove);
  g_ptr_array_set_size (delivery->pending_acks, 0);
  g_hash_table_iter_init (&iter, delivery->unconfirmed_acks);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    g_ptr_array_add (pids, pid);
  if (pids->len == 0)
    return NULL;
  list = json_array_new ();
  for (guint i = 0; i < pids->len; i++)
    json_array_add_string_element (list, pids->pdata[i]);
  return list;
}

static void
keep_unconfirmed_acks (PpmDelivery *delivery)
{
  GHashTableIter iter;
  gpointer pid;
  GString *kept = g_string_new (NULL);
  guint count = 0;

  /* What the server confirmed is gone from both; the rest is kept, within
   * a bound on the setting's size (beyond it, a few may show twice). */
  g_hash_table_iter_init (&iter, delivery->shown_earlier);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    g_hash_table_add (delivery->unconfirmed_acks, g_strdup (pid));
  g_hash_table_iter_init (&iter, delivery->unconfirmed_acks);
  while (g_hash_table_iter_next (&iter, &pid, NULL) && count < PPM_UNCONFIRMED_ACKS_MAX) {
    g_string_append_printf (kept, "%s%s", count ? "," : "", (const char *) pid);
    count++;
  }
  if (count > 0 || delivery->kept_acks_loaded)
    delivery->ports->save_setting (delivery->owner, "unconfirmed_acks", kept->str);
  if (count > 0)
    g_debug ("%u shown push(es) without a confirmed ack kept for the next session", count);
  g_string_free (kept, TRUE);
  g_hash_table_remove_all (delivery->unconfirmed_acks);
  g_hash_table_remove_all (delivery->shown_earlier);
  delivery->kept_acks_loaded = FALSE;
}

/* At a catch-up: what an earlier session showed without a confirmed ack. */
void
ppm_delivery_load_kept_acks (PpmDelivery *delivery)
{
  g_autofree char *kept = delivery->ports->load_setting (delivery->owner, "unconfirmed_acks");
  g_auto (GStrv) pids = NULL;

  if (delivery->kept_acks_loaded || kept == NULL)
    return;
  delivery->kept_acks_loaded = TRUE;
  pids = g_strsplit (kept, ",", PPM_UNCONFIRMED_ACKS_MAX + 1);
  for (guint i = 0; pids[i] != NULL && i < PPM_UNCONFIRMED_ACKS_MAX; i++)
    if (*pids[i] != '\0')
      g_hash_table_add (delivery->shown_earlier, g_strdup (pids[i]));
}

/* At sign-out: no cancellable and no retry, the client is going away. */
static void
on_last_acked (JsonObject *answer, const GError *error, gpointer data)
{
  if (error && !ppm_error_is_cancelled (error))
    g_debug ("ACK_MESSAGE failed: %s", error->message);
}

void
ppm_delivery_flush_acks_final (PpmDelivery *delivery)
{
  JsonArray *list = ppm_delivery_take_acks (delivery);
  g_autoptr (JsonObject) body = NULL;

  if (list == NULL)
    return;
  body = json_object_new ();
  json_object_set_array_member (body, "list", list);
  delivery->ports->call (delivery->owner, "ACK_MESSAGE", body, NULL, on_last_acked, NULL);
}

static gboolean
flush_acks_idle (gpointer data)
{
  PpmDelivery *delivery = data;
  g_autoptr (JsonObject) body = NULL;
  AckBatch *batch;

  delivery->ack_idle_id = 0;
  delivery->ack_retry_id = 0;
  if (delivery->pending_acks->len == 0 || delivery->cancellable == NULL)
    return G_SOURCE_REMOVE;
  body = acks_body (delivery->pending_acks);
  batch = g_new0 (AckBatch, 1);
  batch->delivery = delivery;
  batch->pids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < delivery->pending_acks->len; i++)
    g_ptr_array_add (batch->pids, g_steal_pointer (&delivery->pending_acks->pdata[i]));
  g_ptr_array_set_size (delivery->pending_acks, 0);
  delivery->ports->call (delivery->owner, "ACK_MESSAGE", body, delivery->cancellable, on_acked,
                         batch);
  return G_SOURCE_REMOVE;
}

static void
ack_later (PpmDelivery *delivery, const char *pid)
{
  if (pid == NULL)
    return;
  g_ptr_array_add (delivery->pending_acks, g_strdup (pid));
  g_hash_table_add (delivery->unconfirmed_acks, g_strdup (pid));
  if (delivery->ack_idle_id == 0 && delivery->ack_retry_id == 0)
    delivery->ack_idle_id = g_idle_add (flush_acks_idle, delivery);
}

/* ---- Delivery ---- */

/* Returns FALSE when the message is not to be shown (it is only acked). */
static gboolean
enqueue (PpmDelivery *delivery, PpmQueued *queued)
{
  if (queued->message == NULL) {
    ack_later (delivery, queued->pid);    /* gone or unreadable: it stops coming back */
    ppm_queued_free (queued);
    return FALSE;
  }
  if (queued->pid != NULL && g_hash_table_contains (delivery->shown_earlier, queued->pid)) {
    g_debug ("push %s was shown by an earlier session: acked, not shown again", queued->pid);
    ack_later (delivery, queued->pid);
    ppm_queued_free (queued);
    return FALSE;
  }
  if (!ppm_delivery_mark_seen (delivery, queued->message->uuid)) {
    g_debug ("message %s already shown", queued->message->uuid);
    ack_later (delivery, queued->pid);
    ppm_queued_free (queued);
    return FALSE;
  }
  g_queue_push_tail (&delivery->queue, queued);
  return TRUE;
}

static void
resume_delivery (gpointer data, const char *uuid)
{
  PpmDelivery *delivery = data;

  delivery->busy = FALSE;
  deliver_queue (delivery);
}

typedef struct {
  PpmDelivery *delivery;
  guint attempts;
} Download;

static void start_download (PpmDelivery *delivery, Download *download, PpmMessage *message);

/* The head's long text or picture arrived, or finally failed: the message
 * is completed (a failure leaves it its text) and shown. */
static void
on_downloaded (GBytes *body, const GError *error, gpointer data)
{
  Download *download = data;
  PpmDelivery *delivery = download->delivery;
  PpmQueued *queued;

  if (ppm_error_is_cancelled (error)) {
    g_free (download);
    return;
  }
  queued = g_queue_peek_head (&delivery->queue);
  if (error && queued && download->attempts < PPM_DOWNLOAD_ATTEMPTS &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    g_debug ("download failed (%s); trying again", error->message);
    start_download (delivery, download, queued->message);
    return;
  }
  g_free (download);
  if (queued != NULL) {
    if (error != NULL)
      g_debug ("download for message %s failed: %s", queued->message->uuid, error->message);
    ppm_message_complete_download (queued->message, body, error);
  }
  resume_delivery (delivery, NULL);
}

static void
start_download (PpmDelivery *delivery, Download *download, PpmMessage *message)
{
  gsize max_bytes = 0;
  const char *url = ppm_message_pending_download (message, &max_bytes);

  download->attempts++;
  delivery->busy = TRUE;
  delivery->ports->download (delivery->owner, url, max_bytes, delivery->cancellable,
                             on_downloaded, download);
}

static void
download_for_head (PpmDelivery *delivery, PpmMessage *message)
{
  Download *download = g_new0 (Download, 1);

  download->delivery = delivery;
  start_download (delivery, download, message);
}

/* The next message is shown only when its conversation is known and its
 * text or picture is at hand; returns FALSE while waiting for either. The
 * queue waits for a picture as it does for a long text, so that messages
 * keep their order and each is written once, whole (a picture shown later
 * would be a second line or an edit no libpurple UI has). */
static gboolean
prepare_head (PpmDelivery *delivery, PpmQueued *queued)
{
  PpmMessage *message = queued->message;
  gsize max_bytes;

  if (ppm_registry_lookup_conv (delivery->registry, message->conversation_uuid) == NULL) {
    delivery->busy = TRUE;
    if (g_hash_table_contains (delivery->looking_up, message->conversation_uuid))
      return FALSE;             /* looked up ahead: on_looked_up() resumes */
    delivery->ports->resolve (delivery->owner, message->conversation_uuid,
                              delivery->cancellable, resume_delivery, delivery);
    return FALSE;
  }
  if (ppm_message_pending_download (message, &max_bytes) != NULL) {
    download_for_head (delivery, message);
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
move_last_seen (PpmDelivery *delivery, PpmConv *conv, PpmQueued *queued)
{
  PpmMessage *message = queued->message;
  gint64 time_us = queued->time_is_epoch ? message->time_us : 0;

  if (conv && queued->from_unacked_list && time_us > 0 && time_us < conv->last_seen_time_us) {
    g_debug ("message %s is older than the last seen of %s: kept", message->uuid,
             message->conversation_uuid);
    return;
  }
  ppm_last_seen_set (delivery->last_seen, message->conversation_uuid, message->uuid, time_us);
  if (conv && time_us > 0)
    conv->last_seen_time_us = time_us;
}

static void
deliver_one (PpmDelivery *delivery, PpmQueued *queued)
{
  PpmMessage *message = queued->message;
  PpmRegistry *registry = delivery->registry;
  PpmConv *conv = ppm_registry_lookup_conv (registry, message->conversation_uuid);
  const PpmUser *sender;

  message->outgoing = registry->self &&
                      g_strcmp0 (message->from_uuid, registry->self->uuid) == 0;
  if (!message->outgoing)
    ppm_registry_ensure_sender (registry, message);
  sender = ppm_registry_lookup_user (registry, message->from_uuid);
  if (sender && sender->fullname) {
    g_free (message->from_name);
    message->from_name = g_strdup (sender->fullname);
  }
  if (conv) {
    ppm_registry_conv_touch (registry, conv);
    if (!conv->pub.is_open) {
      conv->pub.is_open = TRUE;   /* any message reopens it on the server too */
      ppm_registry_conv_emit (registry, conv);
    }
  }
  g_debug ("delivering message %s of %s%s", message->uuid, message->conversation_uuid,
           message->delayed ? " (delayed)" : "");
  if (delivery->sink.show)
    delivery->sink.show (delivery->owner, message, conv ? &conv->pub : NULL);
  ack_later (delivery, queued->pid);
  move_last_seen (delivery, conv, queued);
}

static gboolean
deliver_batch_idle (gpointer data)
{
  PpmDelivery *delivery = data;

  delivery->idle_id = 0;
  deliver_queue (delivery);
  return G_SOURCE_REMOVE;
}

/* Shows the queue in order, a batch now and the rest in later iterations. */
static void
deliver_queue (PpmDelivery *delivery)
{
  guint shown = 0;

  if (delivery->idle_id != 0)
    return;                     /* the next batch is already due */
  while (!delivery->busy && delivery->open) {
    PpmQueued *queued = g_queue_peek_head (&delivery->queue);

    if (queued == NULL)
      return;
    if (shown == PPM_DELIVERY_BATCH) {
      /* At the socket's priority, not below it: the next batch takes turns
       * with the frames still coming instead of waiting for them to stop. */
      delivery->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT, deliver_batch_idle, delivery, NULL);
      return;
    }
    if (!prepare_head (delivery, queued))
      return;
    g_queue_pop_head (&delivery->queue);
    deliver_one (delivery, queued);
    ppm_queued_free (queued);
    shown++;
  }
}

/* ---- Looking up unknown conversations ahead of delivery ---- */

static void start_look_ups (PpmDelivery *delivery);

static void
on_looked_up (gpointer data, const char *uuid)
{
  PpmDelivery *delivery = data;
  PpmQueued *head = g_queue_peek_head (&delivery->queue);
  gboolean head_waits = delivery->busy && head != NULL &&
                        g_strcmp0 (head->message->conversation_uuid, uuid) == 0;

  g_hash_table_remove (delivery->looking_up, uuid);
  delivery->look_ups_in_flight--;
  start_look_ups (delivery);
  if (head_waits)
    resume_delivery (delivery, uuid);
}

static void
start_look_ups (PpmDelivery *delivery)
{
  while (delivery->look_ups_in_flight < PPM_PARALLEL_REQUESTS) {
    g_autofree char *uuid = g_queue_pop_head (&delivery->look_up_queue);

    if (uuid == NULL)
      return;
    delivery->look_ups_in_flight++;
    delivery->ports->resolve (delivery->owner, uuid, delivery->cancellable, on_looked_up,
                              delivery);
  }
}

/* The conversations of queued messages that no list told about are looked
 * up in parallel, not one at a time as each message comes up. */
static void
look_up_unknown_conversations (PpmDelivery *delivery)
{
  PpmQueued *head = g_queue_peek_head (&delivery->queue);
  /* When the head waits, its look-up (if any) already runs. */
  const char *head_uuid = delivery->busy && head ? head->message->conversation_uuid
                                                        : NULL;

  for (GList *l = delivery->queue.head; l != NULL; l = l->next) {
    const char *uuid = ((PpmQueued *) l->data)->message->conversation_uuid;

    if (uuid == NULL || g_strcmp0 (uuid, head_uuid) == 0 ||
        ppm_registry_lookup_conv (delivery->registry, uuid) != NULL ||
        g_hash_table_contains (delivery->looking_up, uuid))
      continue;
    g_hash_table_add (delivery->looking_up, g_strdup (uuid));
    g_queue_push_tail (&delivery->look_up_queue, g_strdup (uuid));
  }
  start_look_ups (delivery);
}


/* ---- Entry points ---- */

void
ppm_delivery_set_open (PpmDelivery *delivery, gboolean open)
{
  delivery->open = open;
}

void
ppm_delivery_run (PpmDelivery *delivery)
{
  look_up_unknown_conversations (delivery);
  deliver_queue (delivery);
}

void
ppm_delivery_hold (PpmDelivery *delivery)
{
  delivery->holding = TRUE;
}

void
ppm_delivery_release_held (PpmDelivery *delivery)
{
  PpmQueued *queued;

  delivery->holding = FALSE;
  while ((queued = g_queue_pop_head (&delivery->held)) != NULL)
    enqueue (delivery, queued);
  look_up_unknown_conversations (delivery);
  deliver_queue (delivery);
}

void
ppm_delivery_push (PpmDelivery *delivery, PpmQueued *queued)
{
  if (delivery->holding) {
    g_queue_push_tail (&delivery->held, queued);
    return;
  }
  enqueue (delivery, queued);
  deliver_queue (delivery);
}

guint
ppm_delivery_enqueue_batch (PpmDelivery *delivery, GPtrArray *batch)
{
  gsize length = 0;
  gpointer *items = g_ptr_array_steal (batch, &length);
  guint fresh = 0;

  for (gsize i = 0; i < length; i++)
    fresh += enqueue (delivery, items[i]);
  g_free (items);
  return fresh;
}

void
ppm_delivery_ack (PpmDelivery *delivery, const char *pid)
{
  ack_later (delivery, pid);
}

void
ppm_delivery_forget_shown_earlier (PpmDelivery *delivery)
{
  g_hash_table_remove_all (delivery->shown_earlier);
}
