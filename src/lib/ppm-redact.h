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

/* Whether request, answer and frame bodies go to the debug log at all.
 * Redacting and formatting every one of them costs about a sixth of the
 * instructions of a big sign-in (tests/bench/README.md), wasted when
 * nobody reads the log. The library's user installs the check (the glue:
 * libpurple's debug output is on); without one, bodies are logged. */
typedef gboolean (*PpmLogBodiesWanted) (void);
void     ppm_log_set_bodies_wanted (PpmLogBodiesWanted wanted);
gboolean ppm_log_bodies_wanted (void);

/* A copy of text fit for a log line: JSON members and form fields with a
 * secret name have their value replaced by "<redacted>", any long run of
 * token-like characters (base64 keys and tokens, SHA-1 hex) too, and the
 * result is cut to a bounded length. NULL gives "(null)". */
char *ppm_redact (const char *text);

G_END_DECLS
