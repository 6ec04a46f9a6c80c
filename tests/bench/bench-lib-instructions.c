/* bench-lib-instructions.c: instructions the client library executes to sign
 * in with 100 and with 400 conversations (bench-lib-signin under valgrind
 * --tool=callgrind, collecting only during the sign-in; the test server runs
 * uncounted). Instruction counts do not depend on the machine's load, so the
 * ratio catches super-linear work even where timings are noisy: linear work
 * gives at most 4, quadratic work 16. Skipped (shown, no target) without
 * valgrind. Targets: tests/bench/README.md.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "util.h"

#define SMALL 100
#define LARGE 400

/* Sum of the "summary:"/"totals:" Ir of every callgrind output in dir (the
 * test server's file counts nothing: it never collects). */
static double
sum_instructions (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  double total = 0;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = NULL;
      const char *line;

      if (g_file_get_contents (path, &text, NULL, NULL)
          && ((line = strstr (text, "\nsummary: ")) != NULL || (line = strstr (text, "\ntotals: ")) != NULL))
        total += g_ascii_strtod (strchr (line + 1, ' ') + 1, NULL);
      g_unlink (path);
    }
  return total;
}

/* Instructions of one sign-in with this many conversations, or -1. */
static double
count (const char *signin_path, int conversations)
{
  g_autofree char *dir = g_dir_make_tmp ("ppm-callgrind-XXXXXX", NULL);
  g_autofree char *out = g_strdup_printf ("--callgrind-out-file=%s/callgrind.out.%%p", dir);
  g_autofree char *size = g_strdup_printf ("%d", conversations);
  const char *argv[] = { "valgrind", "--tool=callgrind", "--collect-atstart=no", out,
                         signin_path, "--count-instructions", size, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *child_out = NULL, *child_err = NULL;
  int status = 0;
  double total;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &child_out,
                     &child_err, &status, &error) || !g_spawn_check_wait_status (status, &error))
    {
      bench_fail ("callgrind run with %d conversations: %s", conversations, error->message);
      return -1;
    }
  total = sum_instructions (dir);
  g_rmdir (dir);
  if (total <= 0)
    bench_fail ("callgrind counted nothing with %d conversations", conversations);
  return total > 0 ? total : -1;
}

int
main (int argc, char **argv)
{
  g_autofree char *dir = g_path_get_dirname (argv[0]);
  g_autofree char *signin = g_build_filename (dir, "bench-lib-signin", NULL);
  g_autofree char *valgrind = g_find_program_in_path ("valgrind");
  double small, large;

  if (valgrind == NULL)
    {
      printf ("info valgrind is not installed: instruction counts skipped\n");
      bench_figure ("lib.instructions.skipped", 1, "-", NULL, 0);
      return 0;
    }
  small = count (signin, SMALL);
  large = count (signin, LARGE);
  if (small > 0 && large > 0)
    {
      bench_figure ("lib.instructions.signin_100", small / 1e6, "Minstr", NULL, 0);
      bench_figure ("lib.instructions.signin_400", large / 1e6, "Minstr", NULL, 0);
      bench_figure ("lib.instructions.per_conversation_400", large / LARGE / 1e3, "Kinstr", "<=", 1600);
      bench_figure ("lib.instructions.ratio_400_to_100", large / small, "x", "<=", 6);
    }
  return bench_failed () ? 1 : 0;
}
