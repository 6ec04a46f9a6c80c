/* ppm-outbox.c: messages on their way to the server; see ppm-outbox.h.
 * Messages go over the websocket: the HTTP PP_SEND_MESSAGE always fails on
 * the server as shipped (../shared/protocol/PPMESSAGE-PROTOCOL.md, on
 * sending messages).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-outbox.h"
#include "ppm-clock.h"
#include "ppm-error.h"
#include "ppm-resend-check.h"

#include <glib/gi18n-lib.h>
#include <string.h>

typedef struct {
  PpmOutbox *outbox;
  char *uuid;
  char *conversation_uuid;
  JsonObject *frame;
  guint deadline_id;          /* the send bound: an error result when it fires */
  GError *error;              /* set when it failed before reaching the server */
  char *seen_before;          /* the conversation's last seen message when it was sent */
  gboolean maybe_stored;      /* written, then the connection was lost before its ACK SEND */
  gboolean being_checked;     /* looked up in the history (ppm-resend-check.c) */
} PendingSend;

static void
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
report (PpmOutbox *outbox, const char *conversation_uuid, const char *message_uuid,
        const GError *error)
{
  if (error)
    g_debug ("message %s not sent: %s", message_uuid, error->message);
  else
    g_debug ("message %s stored by the server", message_uuid);
  outbox->sink.result (outbox->owner, conversation_uuid, message_uuid, error);
}

/* Removes a pending send and reports its outcome. */
static void
complete (PpmOutbox *outbox, PendingSend *send, const GError *error)
{
  g_autofree char *conversation = g_strdup (send->conversation_uuid);
  g_autofree char *uuid = g_strdup (send->uuid);

  g_queue_remove (&outbox->unsent, send);
  g_queue_remove (&outbox->in_flight, send);
  g_hash_table_remove (outbox->pending, uuid);
  report (outbox, conversation, uuid, error);
}

static gboolean
on_send_deadline (gpointer data)
{
  PendingSend *send = data;
  g_autoptr (GError) error = g_error_new_literal (PPM_ERROR, PPM_ERROR_SEND_TIMEOUT,
                                                  _("The server did not confirm the message "
                                                    "in time"));

  send->deadline_id = 0;
  complete (send->outbox, send, error);
  return G_SOURCE_REMOVE;
}

/* ---- The ACK watchdog: a socket that takes frames but confirms none ---- */

static gint64
ack_wait_us (PpmOutbox *outbox)
{
  return (gint64) outbox->ack_wait_seconds * G_USEC_PER_SEC;
}

void
ppm_outbox_stop_watchdog (PpmOutbox *outbox)
{
  g_clear_handle_id (&outbox->watchdog_id, g_source_remove);
}

static gboolean
check_acks (gpointer data)
{
  PpmOutbox *outbox = data;
  g_autoptr (GError) error = NULL;

  if (g_queue_is_empty (&outbox->in_flight)) {
    outbox->watchdog_id = 0;
    return G_SOURCE_REMOVE;
  }
  if (ppm_clock_now_us () - outbox->progress_at < ack_wait_us (outbox))
    return G_SOURCE_CONTINUE;
  outbox->watchdog_id = 0;
  error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                               _("The server stopped confirming sent messages"));
  outbox->sink.stalled (outbox->owner, error);
  return G_SOURCE_REMOVE;
}

static gboolean
write_now (PpmOutbox *outbox, PendingSend *send)
{
  if (!outbox->sink.write (outbox->owner, send->frame))
    return FALSE;
  if (g_queue_is_empty (&outbox->in_flight))
    outbox->progress_at = ppm_clock_now_us ();
  g_queue_push_tail (&outbox->in_flight, send);
  if (outbox->watchdog_id == 0)
    outbox->watchdog_id = g_timeout_add (MAX (ack_wait_us (outbox) / 4000, 100),
                                         check_acks, outbox);
  return TRUE;
}

void
ppm_outbox_requeue_in_flight (PpmOutbox *outbox)
{
  PendingSend *send;

  /* Newest first onto the head of the queue: the order stays the same. */
  while ((send = g_queue_pop_tail (&outbox->in_flight)) != NULL) {
    send->maybe_stored = TRUE;
    g_queue_push_head (&outbox->unsent, send);
  }
  ppm_outbox_stop_watchdog (outbox);
}

static gboolean holds_queue (PpmOutbox *outbox);

void
ppm_outbox_flush (PpmOutbox *outbox)
{
  PendingSend *send;

  if (holds_queue (outbox))
    return;
  while ((send = g_queue_pop_head (&outbox->unsent)) != NULL) {
    if (!write_now (outbox, send)) {
      g_queue_push_head (&outbox->unsent, send);
      return;
    }
  }
}

/* Sends that failed before reaching the server are reported from an idle
 * callback: never from within the call that queued them. */
static gboolean
report_failed_sends (gpointer data)
{
  PpmOutbox *outbox = data;
  GHashTableIter iter;
  PendingSend *send;

  outbox->failed_idle_id = 0;
  for (;;) {
    PendingSend *failed = NULL;

    g_hash_table_iter_init (&iter, outbox->pending);
    while (failed == NULL && g_hash_table_iter_next (&iter, NULL, (gpointer *) &send))
      if (send->error)
        failed = send;
    if (failed == NULL)
      break;
    {
      g_autoptr (GError) error = g_steal_pointer (&failed->error);

      complete (outbox, failed, error);
    }
  }
  return G_SOURCE_REMOVE;
}

static PendingSend *
pending_send_new (PpmOutbox *outbox, const char *message_uuid, const char *conversation_uuid)
{
  PendingSend *send = g_new0 (PendingSend, 1);

  send->outbox = outbox;
  send->uuid = g_strdup (message_uuid);
  send->conversation_uuid = g_strdup (conversation_uuid);
  g_hash_table_insert (outbox->pending, send->uuid, send);
  return send;
}

void
ppm_outbox_fail_later (PpmOutbox *outbox, const char *message_uuid,
                       const char *conversation_uuid, GError *error)
{
  PendingSend *send = pending_send_new (outbox, message_uuid, conversation_uuid);

  send->error = error;
  if (outbox->failed_idle_id == 0)
    outbox->failed_idle_id = g_idle_add (report_failed_sends, outbox);
}

void
ppm_outbox_fail_all (PpmOutbox *outbox, const GError *error)
{
  g_autoptr (GList) sends = g_hash_table_get_values (outbox->pending);
  g_autoptr (GError) lost = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK,
                                         _("The message may not have been sent: %s"),
                                         error->message);

  for (GList *l = sends; l; l = l->next)
    complete (outbox, l->data, lost);
}

void
ppm_outbox_handle_ack (PpmOutbox *outbox, const char *message_uuid, gint64 code,
                       const char *reason)
{
  PendingSend *send = message_uuid ? g_hash_table_lookup (outbox->pending, message_uuid)
                                   : NULL;
  g_autoptr (GError) error = NULL;

  if (send == NULL) {
    g_debug ("ACK SEND for an unknown message %s", message_uuid ? message_uuid : "(null)");
    return;
  }
  if (code != 0) {
    error = g_error_new (PPM_ERROR, PPM_ERROR_SEND_REFUSED,
                         _("The server refused the message: %s (code %lld)"),
                         reason ? reason : _("no reason given"), (long long) code);
    complete (outbox, send, error);
    return;
  }
  outbox->progress_at = ppm_clock_now_us ();
  complete (outbox, send, NULL);
}


void
ppm_outbox_init (PpmOutbox *outbox, const PpmOutboxSink *sink, gpointer owner,
                 const PpmPorts *ports)
{
  memset (outbox, 0, sizeof *outbox);
  outbox->sink = *sink;
  outbox->owner = owner;
  outbox->ports = ports;
  outbox->send_timeout_ms = PPM_SEND_TIMEOUT_MS;
  outbox->ack_wait_seconds = 30;
  outbox->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify) pending_send_free);
  g_queue_init (&outbox->unsent);
  g_queue_init (&outbox->in_flight);
}

void
ppm_outbox_reset (PpmOutbox *outbox)
{
  ppm_outbox_stop_watchdog (outbox);
  g_clear_handle_id (&outbox->failed_idle_id, g_source_remove);
  g_queue_clear (&outbox->unsent);
  g_queue_clear (&outbox->in_flight);
  g_hash_table_remove_all (outbox->pending);
  outbox->cancellable = NULL;
}

void
ppm_outbox_clear (PpmOutbox *outbox)
{
  if (outbox->pending == NULL)
    return;
  ppm_outbox_reset (outbox);
  g_clear_pointer (&outbox->pending, g_hash_table_unref);
}

void
ppm_outbox_set_cancellable (PpmOutbox *outbox, GCancellable *cancellable)
{
  outbox->cancellable = cancellable;
}

void
ppm_outbox_queue (PpmOutbox *outbox, const char *message_uuid, const char *conversation_uuid,
                  const char *seen_before, JsonObject *frame)
{
  PendingSend *send = pending_send_new (outbox, message_uuid, conversation_uuid);

  send->seen_before = g_strdup (seen_before);
  send->frame = frame;
  send->deadline_id = g_timeout_add (outbox->send_timeout_ms, on_send_deadline, send);
  g_queue_push_tail (&outbox->unsent, send);
}

/* ---- Messages in doubt ---- */

static void
on_checked (GHashTable *stored, const GError *error, gpointer data)
{
  PpmOutbox *outbox = data;
  g_autoptr (GPtrArray) confirmed = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = outbox->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    if (!send->being_checked)
      continue;
    send->being_checked = FALSE;
    if (error)
      continue;                 /* still in doubt: checked again after the repair */
    send->maybe_stored = FALSE;
    if (g_hash_table_contains (stored, send->uuid))
      g_ptr_array_add (confirmed, g_strdup (send->uuid));
  }
  if (error) {
    outbox->sink.stalled (outbox->owner, error);
    return;
  }
  g_debug ("resend check: %u message(s) were stored without their ACK SEND", confirmed->len);
  /* Confirmed in the order they were written, as their ACK SEND would have. */
  for (guint i = 0; i < confirmed->len; i++)
    ppm_outbox_handle_ack (outbox, confirmed->pdata[i], 0, NULL);
  ppm_outbox_flush (outbox);
}

/* PPM_TEST_HOOK_BROKEN_RESEND: a test-only switch that breaks the look-up
 * on purpose, so that the fault test shows its counts catch what follows:
 * "resend-all" sends every message in doubt again without the look-up
 * (duplicates), "resend-none" confirms them all unseen (losses). */
static gboolean
broken_for_tests (PpmOutbox *outbox)
{
  const char *hook = g_getenv ("PPM_TEST_HOOK_BROKEN_RESEND");
  gboolean resend_all = g_strcmp0 (hook, "resend-all") == 0;
  gboolean resend_none = g_strcmp0 (hook, "resend-none") == 0;
  g_autoptr (GPtrArray) doubted = g_ptr_array_new_with_free_func (g_free);

  if (!resend_all && !resend_none)
    return FALSE;
  for (GList *l = outbox->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    if (send->maybe_stored)
      g_ptr_array_add (doubted, g_strdup (send->uuid));
    send->maybe_stored = FALSE;
  }
  g_message ("PPM_TEST_HOOK_BROKEN_RESEND=%s: %u message(s) in doubt %s", hook, doubted->len,
             resend_all ? "sent again unchecked" : "taken as stored unchecked");
  for (guint i = 0; resend_none && i < doubted->len; i++)
    ppm_outbox_handle_ack (outbox, doubted->pdata[i], 0, NULL);
  return TRUE;
}

/* TRUE while the queue must wait: the messages in doubt are being looked
 * up (the look-up is started here when there are some). */
static gboolean
holds_queue (PpmOutbox *outbox)
{
  g_autoptr (GArray) doubts = g_array_new (FALSE, FALSE, sizeof (PpmResendDoubt));

  for (GList *l = outbox->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    if (send->being_checked)
      return TRUE;
    if (send->maybe_stored) {
      PpmResendDoubt doubt = { send->uuid, send->conversation_uuid, send->seen_before };

      g_array_append_val (doubts, doubt);
    }
  }
  if (doubts->len == 0 || outbox->cancellable == NULL || broken_for_tests (outbox))
    return FALSE;
  for (GList *l = outbox->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    send->being_checked = send->maybe_stored;
  }
  g_debug ("resend check: %u message(s) were in flight when the connection was lost",
           doubts->len);
  ppm_resend_check_run (outbox->ports, outbox->owner, (PpmResendDoubt *) doubts->data,
                        doubts->len, outbox->cancellable, on_checked, outbox);
  return TRUE;
}
