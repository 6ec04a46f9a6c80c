/* ppm-delivery.h: getting every message to the UI exactly once and in
 * order: de-duplication by message uuid, the ordered delivery queue (an
 * unknown conversation is looked up and a long text downloaded before its
 * message is shown), pushes held while a catch-up runs, acknowledgements
 * (batched, retried, kept across sessions while unconfirmed) and moving
 * each conversation's last message seen.
 *
 * A state module: its own struct, no events of the client; the world is
 * reached through the PpmPorts its owner installs and messages go to the
 * owner's sink, so it runs without a server in the unit tests.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-last-seen.h"
#include "ppm-ports.h"
#include "ppm-message.h"

G_BEGIN_DECLS

/* How many message uuids the de-duplication remembers. */
#define PPM_SEEN_CAPACITY 4096
/* Messages shown per main-loop iteration, so that a big catch-up never
 * freezes the UI. */
#define PPM_DELIVERY_BATCH 50
/* Conversation look-ups kept in flight at once. */
#define PPM_PARALLEL_REQUESTS 6
/* Push ids shown without a confirmed ack kept from one session to the next. */
#define PPM_UNCONFIRMED_ACKS_MAX 5000
/* Failed ACK_MESSAGE calls are retried after this delay. */
#define PPM_ACK_RETRY_MS 1000
/* A download that fails is tried this many times in all. */
#define PPM_DOWNLOAD_ATTEMPTS 3

/* A message waiting for delivery. */
typedef struct {
  PpmMessage *message;        /* NULL: nothing to show, only the push id to ack */
  char *pid;                  /* push id to ack, or NULL */
  char *conversation_type;    /* "ct" of the compact form, or NULL */
  gboolean time_is_epoch;     /* message->time_us is from "ts", not a createtime */
  gboolean from_unacked_list; /* may come after newer messages of its conversation */
} PpmQueued;

PpmQueued *ppm_queued_new (PpmMessage *message, const char *pid, const char *conversation_type);
void       ppm_queued_free (PpmQueued *queued);

typedef struct {
  /* A message to show, with its conversation; acked after it returns. */
  void (*show) (gpointer owner, const PpmMessage *message, const PpmConversation *conversation);
  /* The server confirmed these push ids acked (char*). */
  void (*acks_confirmed) (gpointer owner, GPtrArray *pids);
} PpmDeliverySink;

typedef struct {
  const PpmPorts *ports;
  PpmDeliverySink sink;
  gpointer owner;
  PpmRegistry *registry;
  PpmLastSeen *last_seen;
  GCancellable *cancellable;  /* the session's requests (look-ups, downloads, acks) */

  gboolean open;              /* messages may be shown now */
  gboolean holding;           /* pushes wait in held (a catch-up runs) */
  GQueue held;                /* PpmQueued* pushed while holding */
  GQueue queue;               /* PpmQueued*, shown in order */
  gboolean busy;              /* the head waits for a download or a look-up */
  guint idle_id;              /* the next batch of the queue */
  GHashTable *looking_up;     /* uuids of unknown conversations of queued messages being
                               * looked up ahead of delivery (queued or in flight) */
  GQueue look_up_queue;       /* char* of looking_up not asked yet */
  guint look_ups_in_flight;

  GHashTable *seen;           /* message uuid set */
  GQueue seen_order;          /* char* owned by seen, oldest first */

  GPtrArray *pending_acks;    /* char* push ids */
  GHashTable *unconfirmed_acks;  /* push ids shown whose ack the server has not
                                  * confirmed: pending and in flight */
  GHashTable *shown_earlier;  /* push ids an earlier session showed without a
                               * confirmed ack (setting "unconfirmed_acks") */
  gboolean kept_acks_loaded;  /* that setting was read in this session */
  guint ack_idle_id;
  guint ack_retry_id;
} PpmDelivery;

void     ppm_delivery_init (PpmDelivery *delivery, const PpmPorts *ports,
                            const PpmDeliverySink *sink, gpointer owner, PpmRegistry *registry,
                            PpmLastSeen *last_seen);
/* The session ended: what was not shown counts as never seen (a later
 * catch-up shows it), held pushes are dropped, the unconfirmed acks are
 * kept in the setting "unconfirmed_acks". No callback. */
void     ppm_delivery_reset (PpmDelivery *delivery);
void     ppm_delivery_clear (PpmDelivery *delivery);
/* The cancellable of the session's requests (a reference is not taken). */
void     ppm_delivery_set_cancellable (PpmDelivery *delivery, GCancellable *cancellable);

/* Whether messages may be shown now; when not, the queue waits. */
void     ppm_delivery_set_open (PpmDelivery *delivery, gboolean open);
/* Looks up the unknown conversations of the queue ahead and shows what
 * may be shown. */
void     ppm_delivery_run (PpmDelivery *delivery);
/* While holding, pushes wait; released after the catch-up's batches. */
void     ppm_delivery_hold (PpmDelivery *delivery);
void     ppm_delivery_release_held (PpmDelivery *delivery);

/* Remembers a message uuid; FALSE when it was already seen. */
gboolean ppm_delivery_mark_seen (PpmDelivery *delivery, const char *message_uuid);
/* A live push (takes queued): held, or queued and shown. */
void     ppm_delivery_push (PpmDelivery *delivery, PpmQueued *queued);
/* Queues a batch in its order (takes the items; the array is emptied);
 * returns how many were not seen before. ppm_delivery_run() shows them. */
guint    ppm_delivery_enqueue_batch (PpmDelivery *delivery, GPtrArray *batch);

/* Acks a push id without showing anything. */
void     ppm_delivery_ack (PpmDelivery *delivery, const char *pid);
/* At a catch-up: reads the setting "unconfirmed_acks" once per session. */
void     ppm_delivery_load_kept_acks (PpmDelivery *delivery);
/* The unacked list was read to its end: pushes an earlier session showed
 * and not listed any more were acked. */
void     ppm_delivery_forget_shown_earlier (PpmDelivery *delivery);
/* At sign-out: every unconfirmed ack as a list of push ids (NULL if none);
 * they are no longer pending. */
JsonArray *ppm_delivery_take_acks (PpmDelivery *delivery);
/* At sign-out of a visitor: the last acks, with no retry. */
void     ppm_delivery_flush_acks_final (PpmDelivery *delivery);


G_END_DECLS
