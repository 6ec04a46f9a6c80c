/* loop.h: main-loop helpers every benchmark client shares (GLib only, so
 * the bare client links nothing else): bounded waits, and the stall meter.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A GSourceFunc that sets the gboolean at data and ends. */
gboolean bench_flag_expired (gpointer data);
/* One iteration of the default main context, blocking at most max_wait_ms. */
void     bench_iterate (guint max_wait_ms);
/* Iterates the default main context until *flag is TRUE or timeout_ms pass. */
gboolean bench_wait_flag (const gboolean *flag, guint timeout_ms);

/* Main-loop stalls, what a user sees as a freeze: a G_PRIORITY_HIGH timeout every 10 ms records the longest gap between two
 * of its runs: 10 ms when the loop is responsive, more when some callback
 * (or a burst of them) kept the loop busy. On a loaded machine a gap can
 * also be time the process waited for a CPU, so the meter also records the
 * main thread's CPU time within each gap: the longest of those is the work
 * that froze the loop, whatever the load. */
typedef struct {
  guint source;
  gint64 last_us, longest_us;
  gint64 last_cpu_us, longest_cpu_us;
} BenchStallMeter;

void    bench_stall_start (BenchStallMeter *meter);
/* Forgets the longest gaps so far (a new measurement window). */
void    bench_stall_reset (BenchStallMeter *meter);
/* Longest gap: wall-clock, and main-thread CPU time spent within a gap. */
double  bench_stall_longest_ms (const BenchStallMeter *meter);
double  bench_stall_longest_cpu_ms (const BenchStallMeter *meter);
void    bench_stall_stop (BenchStallMeter *meter);

G_END_DECLS
