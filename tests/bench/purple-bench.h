/* purple-bench.h: the headless libpurple core for benchmarks, set up as a
 * user runs Pidgin: no debug window (BENCH_DEBUG=1 keeps the harness's full
 * debug capture and its output).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "purple-harness.h"

/* harness_init () with libpurple's start-up chatter and debug output off. */
static inline void
bench_purple_init (void)
{
  int saved = -1, devnull;

  if (g_getenv ("BENCH_DEBUG") != NULL)
    {
      harness_init ();
      return;
    }
  fflush (stdout);
  devnull = open ("/dev/null", O_WRONLY);
  if (devnull >= 0)
    {
      saved = dup (STDOUT_FILENO);
      dup2 (devnull, STDOUT_FILENO);
      close (devnull);
    }
  harness_init ();
  purple_debug_set_enabled (FALSE);
  purple_debug_set_ui_ops (NULL);
  fflush (stdout);
  if (saved >= 0)
    {
      dup2 (saved, STDOUT_FILENO);
      close (saved);
    }
}

/* Buddies of the account in the list (a walk of the list: sample it). */
static inline guint
bench_count_buddies (PurpleAccount *account)
{
  GSList *buddies = purple_find_buddies (account, NULL);
  guint n = g_slist_length (buddies);

  g_slist_free (buddies);
  return n;
}
