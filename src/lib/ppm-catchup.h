/* ppm-catchup.h: what the session missed, read from the server once the
 * socket is authenticated: the history of each open conversation since
 * its last message seen (or from its start, for one that started while
 * the account was away), then the unacked pushes; after a repair first
 * the conversations that started during the outage. Then, while the
 * unacked list was longer than one read, backlog rounds.
 *
 * It hands ordered batches to its owner (history first, oldest first per
 * conversation, then the unacked pushes); de-duplication and showing are
 * the delivery's. A state module: its own struct, no events of the
 * client, the world through PpmPorts.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-delivery.h"

G_BEGIN_DECLS

/* Page sizes and bounds. */
#define PPM_CONVERSATION_PAGE_SIZE 100
#define PPM_UNACKED_PAGE_SIZE 50
/* One read of the unacked list (a catch-up, or a backlog round after it)
 * stops at this many pages; when it stopped there, the list is read again
 * once what it gave is delivered and acked. */
#define PPM_UNACKED_MAX_PAGES 40
#define PPM_HISTORY_PAGE_SIZE 30
#define PPM_HISTORY_MAX_PAGES 20
/* A page that fails is asked again this many times. */
#define PPM_PAGE_RETRIES 3
#define PPM_PAGE_RETRY_DELAY_MS 200

typedef struct {
  /* The catch-up is complete: history (oldest first per conversation),
   * then the unacked pushes, PpmQueued* to take (the arrays are emptied
   * after the call). read_whole: the unacked list was read to its end. */
  void (*done) (gpointer owner, GPtrArray *history, GPtrArray *unacked, gboolean read_whole);
  /* A backlog round read more unacked pushes. */
  void (*backlog_done) (gpointer owner, GPtrArray *unacked, gboolean read_whole);
  /* A page kept failing during a repair: nothing may be skipped, so the
   * repair starts over. The catch-up has stopped. */
  void (*failed) (gpointer owner, const GError *error);
} PpmCatchUpSink;

typedef struct {
  const PpmPorts *ports;
  PpmCatchUpSink sink;
  gpointer owner;
  PpmRegistry *registry;
  PpmLastSeen *last_seen;
  char *device_uuid;          /* records from this device are not replayed */
  /* At the first sign-in a page that keeps failing is given up (one
   * conversation is not worth the session); in a repair it is fatal. */
  gboolean give_up_failed_pages;

  GCancellable *cancellable;  /* the running catch-up's (or backlog round's) requests */
  GHashTable *baselines;      /* conversation uuid -> last message seen before */
  guint recent_look_ups;      /* after a repair: conversations of the list's first page
                               * being looked up before the history is planned */
  GPtrArray *history_targets; /* char* conversation uuids to replay */
  guint history_next;         /* the next of history_targets to fetch */
  guint history_in_flight;    /* conversations being fetched */
  GPtrArray *history_waiting; /* HistoryFetch* waiting to ask a failed page again */
  int unacked_page;
  guint page_retries;         /* of the current unacked page */
  guint page_retry_id;
  GPtrArray *caught_history;  /* PpmQueued* */
  GPtrArray *caught_unacked;  /* PpmQueued* */

  /* Backlog: unacked messages beyond what one read of the list gives. */
  gboolean backlog_round;     /* the unacked pages being read are a backlog round */
  gboolean backlog_due;       /* the last read stopped at PPM_UNACKED_MAX_PAGES */
  GHashTable *backlog_unconfirmed;  /* push ids of the last read whose ack the
                                     * server has not confirmed yet, or NULL */
  char *unacked_first_pid;    /* the first push id of the last read */
  gboolean read_whole;        /* the last read reached the end of the list */
} PpmCatchUp;

void     ppm_catchup_init (PpmCatchUp *catchup, const PpmPorts *ports,
                           const PpmCatchUpSink *sink, gpointer owner, PpmRegistry *registry,
                           PpmLastSeen *last_seen);
void     ppm_catchup_clear (PpmCatchUp *catchup);
/* Starts over (a running one is abandoned). read_recent: first read the
 * first page of the conversation list for conversations that started
 * during an outage (a repair; a sign-in just read the whole list). */
void     ppm_catchup_start (PpmCatchUp *catchup, const char *device_uuid, gboolean read_recent);
/* Abandons a running catch-up or backlog round; no callback. */
void     ppm_catchup_abort (PpmCatchUp *catchup);
gboolean ppm_catchup_is_running (PpmCatchUp *catchup);
/* The server confirmed these acks; may_read_backlog: the session is
 * connected, so a backlog round may start once the last read is acked. */
void     ppm_catchup_acks_confirmed (PpmCatchUp *catchup, GPtrArray *pids,
                                     gboolean may_read_backlog);

G_END_DECLS
