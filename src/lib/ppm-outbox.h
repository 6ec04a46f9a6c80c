/* ppm-outbox.h: messages on their way to the server: waiting for the
 * socket, written and waiting for the server's ACK SEND, each bounded by
 * the send timeout, every one ending in exactly one result. A socket that
 * takes frames but confirms none for an ack-wait interval is reported as
 * stalled.
 *
 * Messages that were written when the connection was lost, before their
 * ACK SEND came, are in doubt: the server may have stored them. Before the
 * queue is written again they are looked up in their conversations'
 * history (ppm-resend-check.h); the ones found are confirmed as by their
 * ACK SEND, the others written again (same uuid). Re-sending a stored one
 * would show it twice to the other side: the server pushes every send.
 *
 * A state module: its own struct, no events of the client; frames are
 * written and outcomes reported through the sink its owner installs, the
 * history read through its ports.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-ports.h"

G_BEGIN_DECLS

/* The bound on getting a sent message confirmed (ppm_client_set_send_timeout). */
#define PPM_SEND_TIMEOUT_MS 120000

typedef struct {
  /* Writes a frame to the socket; FALSE while the session cannot take it
   * (no authenticated socket, or a catch-up still running). */
  gboolean (*write) (gpointer owner, JsonObject *frame);
  /* A message's outcome: error NULL when the server stored it. */
  void     (*result) (gpointer owner, const char *conversation_uuid, const char *message_uuid,
                      const GError *error);
  /* Written frames got no ACK SEND for an ack-wait interval, or the
   * messages in doubt could not be looked up: the connection is to be
   * repaired (they stay queued). */
  void     (*stalled) (gpointer owner, const GError *error);
} PpmOutboxSink;

typedef struct {
  PpmOutboxSink sink;
  gpointer owner;
  const PpmPorts *ports;
  GCancellable *cancellable;  /* the session's requests (the look-up of doubts) */
  guint send_timeout_ms;
  guint ack_wait_seconds;     /* how long written frames may go unconfirmed */
  GHashTable *pending;        /* message uuid -> PendingSend*, every send not ended */
  GQueue unsent;              /* PendingSend* waiting for the socket */
  GQueue in_flight;           /* PendingSend* written, waiting for ACK SEND */
  gint64 progress_at;         /* ppm_clock_now_us() of the last ACK SEND or first write */
  guint watchdog_id;
  guint failed_idle_id;
} PpmOutbox;

void ppm_outbox_init (PpmOutbox *outbox, const PpmOutboxSink *sink, gpointer owner,
                      const PpmPorts *ports);
/* The cancellable of the session's requests (a reference is not taken). */
void ppm_outbox_set_cancellable (PpmOutbox *outbox, GCancellable *cancellable);
/* The session ended: every send is dropped without a result (the owner
 * reported them with ppm_outbox_fail_all() when that was due). */
void ppm_outbox_reset (PpmOutbox *outbox);
void ppm_outbox_clear (PpmOutbox *outbox);

/* Queues a send frame (taken) of a new message; call ppm_outbox_flush().
 * seen_before: the conversation's last message seen now (or NULL), which
 * the server stored before this one: a look-up of it starts there. */
void ppm_outbox_queue (PpmOutbox *outbox, const char *message_uuid,
                       const char *conversation_uuid, const char *seen_before,
                       JsonObject *frame);
/* A send that failed before reaching the server (error taken): reported
 * from an idle callback, never from within the caller. */
void ppm_outbox_fail_later (PpmOutbox *outbox, const char *message_uuid,
                            const char *conversation_uuid, GError *error);
/* Writes what waits, in order, while the socket takes it; first the
 * messages in doubt are looked up (the queue waits meanwhile). */
void ppm_outbox_flush (PpmOutbox *outbox);
/* The socket is gone: what was written but not confirmed goes back to
 * the head of the queue, in order, to be written again after the repair
 * (same uuid, so the server stores it once). */
void ppm_outbox_requeue_in_flight (PpmOutbox *outbox);
/* Ends every send with a network error saying why. */
void ppm_outbox_fail_all (PpmOutbox *outbox, const GError *why);
/* An ACK SEND of the server. */
void ppm_outbox_handle_ack (PpmOutbox *outbox, const char *message_uuid, gint64 code,
                            const char *reason);
void ppm_outbox_stop_watchdog (PpmOutbox *outbox);

G_END_DECLS
