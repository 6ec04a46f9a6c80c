/* ppm-error.c: the PPM_ERROR domain of the client library.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-error.h"

G_DEFINE_QUARK (ppm-error-quark, ppm_error)
