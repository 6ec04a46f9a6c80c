/* ppm-error.c: the PPM_ERROR domain of the client library.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-error.h"

#include <gio/gio.h>

G_DEFINE_QUARK (ppm-error-quark, ppm_error)

gboolean
ppm_error_is_cancelled (const GError *error)
{
  return error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}
