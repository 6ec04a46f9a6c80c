/* compare-common.h: what the C clients of compare.py share (the bare client,
 * the client library alone, the plugin in a headless libpurple): the command
 * line, the scenario driver and the result line, so that the three programs
 * differ only in the client under test. compare-peer.py does the same in
 * Python.
 *
 * Command line: --url URL --key PPKEFU_KEY --email E --password P
 *   --control SOCKET (the server's control socket, util.h)
 *   --mode signin|burst|send|idle --count N --round R --recv-log PATH
 *   --idle-seconds S --rounds K --no-stall-meter
 *
 * Modes (each signs in first; time starts at the sign-in's first request):
 *   signin  until the buddy list is complete and the N unacked messages are
 *           shown and acknowledged;
 *   burst   prints "ready", then counts the N texts "bench rR ..." that the
 *           visitors send (compare.py starts them), until all are shown and
 *           acknowledged, plus a second to catch duplicates;
 *   send    sends N texts to the open conversations in turn, until every
 *           ACK SEND came back;
 *   idle    stays connected and idle for S seconds, counting wake-ups;
 *   rounds  --rounds K bursts as in burst mode (rounds R, R+1, ...; "ready"
 *           before each), each followed by closing every window and signing
 *           out and in again; the RSS after each round is in the result.
 * Every shown message is logged to --recv-log as "<monotonic us>\t<text>"
 * (compare.py counts them by text, which is unique per message, and joins
 * them with the server's push log for latencies). The last line of stdout
 * is "result {JSON}".
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

#include "loop.h"

G_BEGIN_DECLS

typedef struct {
  char *url, *key, *email, *password, *control, *mode, *recv_log, *label;
  guint count, round, idle_seconds, rounds;
  /* --break drop|double: a broken variant that drops the first shown message
   * or shows it twice, so compare.py --self-test proves its counters fail. */
  char *broken;
  int control_fd;
  GString *log;
  gboolean log_started;        /* recv_log holds its first part */
  char *marker;               /* "bench rR " in burst mode */
  guint shown, shown_marked, sends_acked, buddies;
  gint64 first_marked_us, last_marked_us;
  /* Main-loop stalls (loop.h), not in idle mode, where the meter's ticks
   * would be the wake-ups. */
  gboolean stall_meter;        /* off: --no-stall-meter (instruction counts) */
  BenchStallMeter stalls;
  GString *failure;
} CompareRun;

/* The client under test, driven by compare_run_main(). */
typedef struct {
  /* Optional: set-up before the clock starts (libpurple's core). */
  void     (*prepare) (gpointer data);
  void     (*sign_in) (gpointer data);
  /* The sign-in is complete: buddy list, backlog shown (run->count in
   * signin mode) and acknowledged. Polled after each main-loop iteration. */
  gboolean (*signed_in) (gpointer data);
  /* Every message shown so far is acknowledged (confirmed by the server). */
  gboolean (*acked_all) (gpointer data);
  /* Queues count sends; returns how many were queued. */
  guint    (*send) (gpointer data, guint count);
  void     (*sign_out) (gpointer data);
  /* Rounds mode: closes every window, signs out and starts signing in again. */
  void     (*new_round) (gpointer data);
  /* Optional: appends ", \"name\": value" members to the result. */
  void     (*extra_result) (gpointer data, GString *json);
} CompareClient;

/* Parses the command line (NULL on a usage error). */
CompareRun *compare_run_new (int *argc, char ***argv, const char *label);
/* Runs the scenario and prints the result; the exit status. */
int         compare_run_main (CompareRun *run, const CompareClient *client, gpointer data);

/* The client's events. */
void        compare_shown (CompareRun *run, const char *text);
void        compare_send_acked (CompareRun *run);
void        compare_set_buddies (CompareRun *run, guint buddies);
void        compare_fail (CompareRun *run, const char *what);

/* A command to the server's control socket, answered synchronously (a
 * fraction of a millisecond); the reply line (g_free) or NULL. */
char       *compare_server_command (CompareRun *run, const char *command);
/* The server's count of this agent's pushes not acknowledged yet, or -1. */
int         compare_server_unacked (CompareRun *run);

G_END_DECLS
