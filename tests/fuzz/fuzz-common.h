/* fuzz-common.h: what every libFuzzer target of the client library shares:
 * GLib criticals and warnings abort (a g_return_if_fail() hit by server
 * data is a bug), and debug output stays quiet.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

static void
fuzz_quiet_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
    g_printerr ("%s: %s\n", domain ? domain : "", message);
    __builtin_trap ();
  }
}

int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_default_handler (fuzz_quiet_log, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
