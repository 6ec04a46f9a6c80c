/* ws-queue.c: the periodic queues of the real server (protocol 6.8), as
 * one-shot timers armed when the first item arrives; and the messaging state.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppms-messaging.h"

static gboolean
timed_queue_fire (gpointer data)
{
  PpmsTimedQueue *queue = data;
  GQueue batch = G_QUEUE_INIT;
  gpointer item;

  /* Items queued while this batch runs wait for the next period. */
  g_source_unref (queue->source);
  queue->source = NULL;
  batch = queue->items;
  g_queue_init (&queue->items);
  while ((item = g_queue_pop_head (&batch)) != NULL)
    {
      queue->run (queue->server, item);
      queue->free_item (item);
    }
  return G_SOURCE_REMOVE;
}

void
ppms_timed_queue_init (PpmsTimedQueue *queue, PpmsServer *server, guint period_ms,
                       PpmsQueueRun run, GDestroyNotify free_item)
{
  queue->server = server;
  queue->period_ms = period_ms;
  queue->run = run;
  queue->free_item = free_item;
  g_queue_init (&queue->items);
  queue->source = NULL;
}

void
ppms_timed_queue_push (PpmsTimedQueue *queue, gpointer item)
{
  g_queue_push_tail (&queue->items, item);
  if (queue->source != NULL)
    return;
  /* Attached to the caller's context: every caller runs in the server's. */
  queue->source = g_timeout_source_new (ppms_server_scaled_ms (queue->server, queue->period_ms));
  g_source_set_callback (queue->source, timed_queue_fire, queue, NULL);
  g_source_attach (queue->source, g_main_context_get_thread_default ());
}

void
ppms_timed_queue_clear (PpmsTimedQueue *queue)
{
  gpointer item;

  if (queue->source != NULL)
    {
      g_source_destroy (queue->source);
      g_source_unref (queue->source);
      queue->source = NULL;
    }
  while ((item = g_queue_pop_head (&queue->items)) != NULL)
    queue->free_item (item);
}

void
ppms_device_frame_free (gpointer data)
{
  PpmsDeviceFrame *frame = data;

  g_free (frame->device_uuid);
  g_free (frame->text);
  g_free (frame);
}

void
ppms_queue_device_frame (PpmsTimedQueue *queue, const char *device_uuid, char *text)
{
  PpmsDeviceFrame *frame = g_new0 (PpmsDeviceFrame, 1);

  frame->device_uuid = g_strdup (device_uuid);
  frame->text = text;
  ppms_timed_queue_push (queue, frame);
}

void
ppms_deliver_device_frame (PpmsServer *server, gpointer item)
{
  PpmsDeviceFrame *frame = item;
  PpmsSocket *socket = ppms_ws_socket_for_device (server, frame->device_uuid);

  /* Pushes for a device without a registered socket are dropped (6.6). */
  if (socket == NULL)
    return;
  if (frame->text == NULL)
    {
      ppms_ws_abort (socket);   /* a lost ACK SEND after the push (ppms_server_set_ack_loss) */
      return;
    }
  ppms_ws_send_text (socket, frame->text);
  if (server->frame_observer != NULL)
    server->frame_observer (server, frame->device_uuid, frame->text, server->frame_observer_data);
}

static void
forced_logout_run (PpmsServer *server, gpointer item)
{
  ppms_ws_deliver_forced_logout (server, item);
}

PpmsMessaging *
ppms_messaging_get (PpmsServer *server)
{
  PpmsMessaging *state = server->messaging;

  if (state != NULL)
    return state;
  state = g_new0 (PpmsMessaging, 1);
  ppms_timed_queue_init (&state->send_queue, server, 50, ppms_send_run, ppms_send_item_free);
  ppms_timed_queue_init (&state->dispatch_queue, server, 20, ppms_dispatch_run, g_free);
  ppms_timed_queue_init (&state->push_queue, server, 50, ppms_deliver_device_frame,
                         ppms_device_frame_free);
  ppms_timed_queue_init (&state->ack_queue, server, 100, ppms_deliver_device_frame,
                         ppms_device_frame_free);
  ppms_timed_queue_init (&state->typing_queue, server, 1000, ppms_typing_run,
                         ppms_typing_item_free);
  /* The 1 s loops have a random phase: half a period on average (0.48 s
   * observed for the forced logout, 0.25 to 0.76 s for ONLINE frames). */
  ppms_timed_queue_init (&state->logout_queue, server, 500, forced_logout_run, g_free);
  ppms_timed_queue_init (&state->online_queue, server, 500, ppms_deliver_device_frame,
                         ppms_device_frame_free);
  state->navigation_users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->messaging = state;
  return state;
}

gint64
ppms_messaging_now (PpmsServer *server)
{
  PpmsMessaging *state = ppms_messaging_get (server);
  gint64 now = g_get_real_time ();

  if (now <= state->last_time)
    now = state->last_time + 1;
  state->last_time = now;
  return now;
}
