/* main.c: the standalone PPMessage test server (for the demo and manual runs).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include "ppm-test-server.h"

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  int port = 8945;
  char *data = NULL;
  double timer_scale = 1.0;
  gboolean deliver_online = FALSE;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (127.0.0.1; 0: any free port)", "N" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Seed data file (tests/data/README.md)", "FILE" },
    { "timer-scale", 's', 0, G_OPTION_ARG_DOUBLE, &timer_scale, "Scale of the server's timers (1.0: real)", "X" },
    { "deliver-online", 0, 0, G_OPTION_ARG_NONE, &deliver_online, "Deliver ONLINE frames (the shipped server never does)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- PPMessage test server");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  PpmsServer *server;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || port < 0 || port > 65535 || timer_scale <= 0)
    {
      fprintf (stderr, "%s\n", error ? error->message : "invalid option value");
      return 2;
    }
  server = ppms_server_new (data, &error);
  if (server == NULL)
    {
      fprintf (stderr, "cannot load %s: %s\n", data, error->message);
      return 1;
    }
  ppms_server_set_timer_scale (server, timer_scale);
  ppms_server_set_deliver_online (server, deliver_online);
  if (!ppms_server_listen (server, (guint) port, &error))
    {
      fprintf (stderr, "cannot listen on port %d: %s\n", port, error->message);
      ppms_server_free (server);
      return 1;
    }
  printf ("%s\n", ppms_server_get_url (server));
  fflush (stdout);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  ppms_server_free (server);
  g_free (data);
  return 0;
}
