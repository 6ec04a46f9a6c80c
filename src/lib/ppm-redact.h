/* ppm-redact.h: keeps secrets (tokens, passwords and their SHA-1, API keys
 * and secrets) out of debug logs. Setting the environment variable
 * PPM_DEBUG_UNSAFE=1 logs raw text instead (for protocol debugging only).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when PPM_DEBUG_UNSAFE asks for raw logging. */
gboolean ppm_redact_disabled (void);

/* A copy of text fit for a log line: JSON members and form fields with a
 * secret name have their value replaced by "<redacted>", any long run of
 * token-like characters (base64 keys and tokens, SHA-1 hex) too, and the
 * result is cut to a bounded length. NULL gives "(null)". */
char *ppm_redact (const char *text);

G_END_DECLS
