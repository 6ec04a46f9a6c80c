/* main.c: the standalone PPMessage test server (for the demo and manual runs).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

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
  gboolean deliver_online = FALSE, demo_visitor = FALSE, return_scripts = FALSE;
  char *demo_visitor_name = NULL, *tls_cert = NULL, *tls_key = NULL, *generate = NULL;
  PpmsPeer *visitor = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (127.0.0.1; 0: any free port)", "N" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Seed data file (tests/data/README.md)", "FILE" },
    { "generate", 'g', 0, G_OPTION_ARG_STRING, &generate,
      "Add a generated scenario, e.g. '{\"conversations\": 20000, \"messages_per_conversation\": 10}' "
      "(the \"generate\" member of tests/data/README.md)", "JSON" },
    { "timer-scale", 's', 0, G_OPTION_ARG_DOUBLE, &timer_scale, "Scale of the server's timers (1.0: real)", "X" },
    { "deliver-online", 0, 0, G_OPTION_ARG_NONE, &deliver_online, "Deliver ONLINE frames (the shipped server never does)", NULL },
    { "return-predefined-scripts", 0, 0, G_OPTION_ARG_NONE, &return_scripts, "Return the predefined scripts (canned replies; the shipped server answers nulls)", NULL },
    { "demo-visitor", 0, 0, G_OPTION_ARG_NONE, &demo_visitor,
      "After listening, start a scripted PPCom visitor (make demo): it signs in, greets the agents "
      "and answers every agent message", NULL },
    { "demo-visitor-name", 0, 0, G_OPTION_ARG_STRING, &demo_visitor_name,
      "With --demo-visitor: a named visitor NAME (<NAME>@visitor.example) instead of an anonymous one", "NAME" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Speak https/wss with this PEM certificate (with --tls-key)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key of --tls-cert", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- PPMessage test server");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  PpmsServer *server;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || port < 0 || port > 65535 || timer_scale <= 0
      || (tls_cert == NULL) != (tls_key == NULL))
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
  if (generate != NULL && !ppms_server_generate (server, generate, &error))
    {
      fprintf (stderr, "cannot generate %s: %s\n", generate, error->message);
      ppms_server_free (server);
      return 1;
    }
  ppms_server_set_timer_scale (server, timer_scale);
  ppms_server_set_deliver_online (server, deliver_online);
  ppms_server_set_return_predefined_scripts (server, return_scripts);
  if (tls_cert != NULL ? !ppms_server_listen_tls (server, (guint) port, tls_cert, tls_key, &error)
                       : !ppms_server_listen (server, (guint) port, &error))
    {
      fprintf (stderr, "cannot listen on port %d: %s\n", port, error->message);
      ppms_server_free (server);
      return 1;
    }
  printf ("%s\n", ppms_server_get_url (server));
  fflush (stdout);
  if (demo_visitor)
    {
      /* Runs the main loop until the visitor has its conversation. */
      visitor = ppms_peer_start_demo_visitor (ppms_server_get_url (server), ppms_server_app_uuid (server),
                                              ppms_server_ppcom_key (server), ppms_server_ppcom_secret (server),
                                              demo_visitor_name, &error);
      if (visitor == NULL)
        {
          fprintf (stderr, "cannot start the demo visitor: %s\n", error->message);
          ppms_server_free (server);
          return 1;
        }
      fprintf (stderr, "demo visitor %s greeted the team in conversation %s\n",
               ppms_peer_user_uuid (visitor), ppms_peer_conversation_uuid (visitor));
    }
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  /* Its terminal closed (make demo): shut down as on Ctrl-C. */
  g_unix_signal_add (SIGHUP, on_signal, loop);
  g_main_loop_run (loop);
  g_clear_pointer (&visitor, ppms_peer_free);
  ppms_server_free (server);
  g_free (data);
  g_free (demo_visitor_name);
  g_free (generate);
  g_free (tls_cert);
  g_free (tls_key);
  return 0;
}
