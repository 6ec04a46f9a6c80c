/* util.h: what the benchmarks share: figures in the format run-bench.sh
 * reads, clocks and memory, and a PPMessage test server running in a child
 * process, so its work and memory never count as the client's.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

#include "loop.h"

G_BEGIN_DECLS

/* Prints "figure NAME VALUE UNIT OP LIMIT" (OP "<=" or ">="), or with op NULL
 * "figure NAME VALUE UNIT - -" (shown, no target). run-bench.sh judges them. */
void    bench_figure (const char *name, double value, const char *unit, const char *op,
                      double limit);
/* A failure that leaves no figure to judge (the run is marked failed). */
void    bench_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* TRUE once bench_fail was called in this process. */
gboolean bench_failed (void);

/* Monotonic milliseconds, and this process's peak RSS (ru_maxrss) in KiB. */
double  bench_now_ms (void);
long    bench_peak_rss_kib (void);

/* Runs scenario (arg) in a child process and waits for it: each scenario
 * starts with a small heap, so its peak RSS is its own. Returns FALSE when
 * the child failed. Call it before anything creates a GLib thread. */
gboolean bench_run_isolated (void (*scenario) (gconstpointer arg), gconstpointer arg);


/* ---- The test server in a child process ---- */

typedef struct {
  GPid pid;
  int to_child, from_child;
  GString *pending;           /* bytes read but not yet a whole line */
  char *url, *app_uuid, *ppkefu_key;
} BenchServer;

/* Forks a test server seeded with a generated scenario (the "generate"
 * member of tests/data/README.md) and timers scaled by timer_scale, and waits
 * until it listens. NULL (after bench_fail) on failure. */
BenchServer *bench_server_start (const char *generate_json, double timer_scale);
/* Sends a command and returns the reply line (g_free), iterating this
 * process's main context meanwhile; NULL on timeout or a dead server.
 *   "requests"        -> "<API calls> <all HTTP requests>" received so far
 *   "visitors N"      -> "ok": N anonymous visitors signed in, each with its
 *                        conversation (no message yet)
 *   "send ROUND M"    -> "ok": each visitor queued M texts
 *                        "bench r<ROUND> v<visitor> m<k>" (interleaved)
 *   "paths"           -> "PATH=COUNT ..." of every request so far, most first
 *   "acked"           -> number of those texts the server stored so far
 *   "stored PREFIX"   -> messages of any sender stored so far whose text
 *                        starts with PREFIX */
char        *bench_server_command (BenchServer *server, const char *command, guint timeout_ms);
/* "requests", parsed: API calls so far (-1 on failure). */
int          bench_server_api_requests (BenchServer *server);
/* Ends the child (an attached server runs on) and frees. */
void         bench_server_stop (BenchServer *server);
/* A server another process started (compare-server, for compare.py), reached
 * through its control socket: the same commands, and also
 *   "watch EMAIL"     -> "ok": log what this agent is sent from now on
 *   "pushlog PATH"    -> "ok N": writes "<monotonic us>\t<text>" per MSG
 *                        frame written to the watched agent
 *   "sendacks"        -> SEND acks with code 0 written to the watched agent
 *   "unacked EMAIL"   -> that agent's pushes not acknowledged yet
 *   "paced ROUND TOTAL RATE" -> "ok" at once; the visitors then send TOTAL
 *                        texts in turn, RATE a second
 *   "visitors close"  -> "ok": every visitor's websocket closed (they stay
 *                        members of their conversations)
 * url is the server's base URL, kept in the result. NULL after bench_fail. */
BenchServer *bench_server_attach (const char *control_path, const char *url);
/* The server's side: serves commands from in_fd (replies on out_fd) and,
 * with control_path, from every connection to a Unix socket there, until
 * in_fd ends; then exits the process. compare-server's main. */
void         bench_server_run (int in_fd, int out_fd, const char *generate_json,
                               double timer_scale, const char *control_path) G_GNUC_NORETURN;

G_END_DECLS
