/* ppm-clock.c: the clocks of the library. Liveness checks measure silence
 * on the boot-time clock, so that a suspend counts; settings that must
 * survive a restart use the wall clock. Tests move both forward.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-clock.h"

#include <time.h>

static gint64 clock_skipped_us;

gint64
ppm_clock_now_us (void)
{
#ifdef CLOCK_BOOTTIME
  struct timespec now;

  /* Unlike CLOCK_MONOTONIC it advances while the machine sleeps, so a
   * connection that went quiet across a suspend is found dead at once. */
  if (clock_gettime (CLOCK_BOOTTIME, &now) == 0)
    return (gint64) now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000 + clock_skipped_us;
#endif
  return g_get_monotonic_time () + clock_skipped_us;
}

void
ppm_clock_skip_for_tests (gint64 microseconds)
{
  clock_skipped_us += microseconds;
}

gint64
ppm_clock_wall_us (void)
{
  return g_get_real_time () + clock_skipped_us;
}
