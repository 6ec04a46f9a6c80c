/* compare-server.c: the PPMessage test server for compare.py, seeded with a
 * generated team, listening on 127.0.0.1 (port 0: any free port). Every
 * client program of one comparison talks to this one process, so their
 * figures share its load and their ratios cancel the machine's noise.
 *
 * Usage: compare-server GENERATE_JSON TIMER_SCALE CONTROL_SOCKET_PATH
 * Prints "ready URL APP_UUID PPKEFU_KEY", then answers the commands of
 * util.h on stdin and on the control socket; exits when stdin closes.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <stdio.h>
#include <unistd.h>

#include "util.h"

int
main (int argc, char **argv)
{
  if (argc != 4)
    {
      fprintf (stderr, "usage: %s GENERATE_JSON TIMER_SCALE CONTROL_SOCKET_PATH\n", argv[0]);
      return 2;
    }
  bench_server_run (STDIN_FILENO, STDOUT_FILENO, argv[1], g_ascii_strtod (argv[2], NULL), argv[3]);
}
