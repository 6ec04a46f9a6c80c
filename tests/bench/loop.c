/* loop.c: see loop.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "loop.h"

#include <time.h>

gboolean
bench_flag_expired (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
bench_iterate (guint max_wait_ms)
{
  gboolean tick = FALSE;
  guint timer = g_timeout_add (max_wait_ms, bench_flag_expired, &tick);   /* bounds the wait */

  g_main_context_iteration (NULL, TRUE);
  if (!tick)
    g_source_remove (timer);
}

gboolean
bench_wait_flag (const gboolean *flag, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint timer = g_timeout_add (timeout_ms, bench_flag_expired, &expired);

  while (!*flag && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);
  return *flag;
}

#define STALL_TICK_MS 10

static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
stall_tick (gpointer data)
{
  BenchStallMeter *meter = data;
  gint64 now = g_get_monotonic_time (), cpu = thread_cpu_us ();

  meter->longest_us = MAX (meter->longest_us, now - meter->last_us);
  meter->longest_cpu_us = MAX (meter->longest_cpu_us, cpu - meter->last_cpu_us);
  meter->last_us = now;
  meter->last_cpu_us = cpu;
  return G_SOURCE_CONTINUE;
}

void
bench_stall_start (BenchStallMeter *meter)
{
  bench_stall_reset (meter);
  meter->source = g_timeout_add_full (G_PRIORITY_HIGH, STALL_TICK_MS, stall_tick, meter, NULL);
}

void
bench_stall_reset (BenchStallMeter *meter)
{
  meter->last_us = g_get_monotonic_time ();
  meter->last_cpu_us = thread_cpu_us ();
  meter->longest_us = meter->longest_cpu_us = 0;
}

double
bench_stall_longest_ms (const BenchStallMeter *meter)
{
  /* A gap still open counts too. */
  return MAX (meter->longest_us, g_get_monotonic_time () - meter->last_us) / 1000.0;
}

double
bench_stall_longest_cpu_ms (const BenchStallMeter *meter)
{
  return MAX (meter->longest_cpu_us, thread_cpu_us () - meter->last_cpu_us) / 1000.0;
}

void
bench_stall_stop (BenchStallMeter *meter)
{
  g_clear_handle_id (&meter->source, g_source_remove);
}

