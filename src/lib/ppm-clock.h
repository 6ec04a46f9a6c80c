/* ppm-clock.h: the library's clocks (ppm-clock.c).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Microseconds on a clock that keeps running during a suspend. */
gint64    ppm_clock_now_us (void);
/* Microseconds since the epoch (the wall clock), moved with the one above. */
gint64    ppm_clock_wall_us (void);
/* Moves both clocks forward, as a suspend of that length would: for tests. */
void      ppm_clock_skip_for_tests (gint64 microseconds);

G_END_DECLS
