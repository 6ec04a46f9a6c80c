/* test-proxy.c: see test-proxy.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "test-proxy.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>

#include "purple-harness.h"

#define PROXY_START_TIMEOUT_MS 10000

struct _TestProxy {
  GSubprocess *process;
  char *dir;
  char *config_path;
  char *log_path;
  guint16 port;
};

char *
test_proxy_find_program (const char *name)
{
  char *program = g_find_program_in_path (name);
  char *in_usr_bin = g_build_filename ("/usr/bin", name, NULL);

  /* PATH may lack /usr/sbin-style locations for root-less runs. */
  if (program == NULL && g_file_test (in_usr_bin, G_FILE_TEST_IS_EXECUTABLE))
    program = g_strdup (in_usr_bin);
  g_free (in_usr_bin);
  return program;
}

/* A loopback port nobody listens on right now. */
static guint16
free_loopback_port (void)
{
  GError *error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any_port = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *bound;
  guint16 port;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (any_port);
  g_object_unref (loopback);
  g_object_unref (socket);
  return port;
}

static void
write_config (TestProxy *proxy, guint16 connect_port)
{
  GError *error = NULL;
  /* Only the test server's port may be tunnelled; only loopback may ask. */
  char *config = g_strdup_printf ("Port %u\n"
                                  "Listen 127.0.0.1\n"
                                  "Timeout 60\n"
                                  "MaxClients 50\n"
                                  "LogFile \"%s\"\n"
                                  "LogLevel Info\n"
                                  "Allow 127.0.0.1\n"
                                  "ConnectPort %u\n"
                                  "DisableViaHeader Yes\n",
                                  proxy->port, proxy->log_path, connect_port);

  g_assert_true (g_file_set_contents (proxy->config_path, config, -1, &error));
  g_assert_no_error (error);
  g_free (config);
}

static gboolean
accepts_connections (guint16 port)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *connection =
    g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  gboolean ok = connection != NULL;

  g_clear_object (&connection);
  g_object_unref (client);
  return ok;
}

/* The proxy dies with the test process, also when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Keeps the main loop turning while we look for the proxy's port. */
static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static TestProxy *
proxy_new (void)
{
  TestProxy *proxy = g_new0 (TestProxy, 1);
  GError *error = NULL;

  proxy->dir = g_dir_make_tmp ("ppm-proxy-XXXXXX", &error);
  g_assert_no_error (error);
  proxy->config_path = g_build_filename (proxy->dir, "proxy.conf", NULL);
  proxy->log_path = g_build_filename (proxy->dir, "proxy.log", NULL);
  proxy->port = free_loopback_port ();
  return proxy;
}

/* Runs argv in the foreground, its output in the log file unless it writes
 * its own log there, and waits until it accepts connections on its port. */
static void
proxy_run (TestProxy *proxy, const char *const *argv, gboolean output_is_log)
{
  GSubprocessLauncher *launcher =
    g_subprocess_launcher_new (output_is_log ? G_SUBPROCESS_FLAGS_STDERR_MERGE
                                             : G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                               | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  GError *error = NULL;
  guint tick_id;
  gboolean up;

  if (output_is_log)
    g_subprocess_launcher_set_stdout_file_path (launcher, proxy->log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proxy->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_object_unref (launcher);
  g_assert_no_error (error);
  tick_id = g_timeout_add (20, tick, NULL);
  up = HARNESS_WAIT_FOR (accepts_connections (proxy->port), PROXY_START_TIMEOUT_MS);
  g_source_remove (tick_id);
  if (!up) {
    char *log = test_proxy_read_log (proxy);

    g_error ("%s did not start on port %u; its output:\n%s", argv[0], proxy->port, log);
  }
}

TestProxy *
test_proxy_start_http (const char *program, guint16 connect_port)
{
  TestProxy *proxy = proxy_new ();
  /* -d: stay in the foreground, so the test owns (and ends) the process. */
  const char *argv[] = { program, "-d", "-c", proxy->config_path, NULL };

  write_config (proxy, connect_port);
  proxy_run (proxy, argv, FALSE);
  return proxy;
}

TestProxy *
test_proxy_start_socks5 (const char *program, const char *user, const char *password)
{
  TestProxy *proxy = proxy_new ();
  char *port = g_strdup_printf ("%u", proxy->port);
  const char *argv[] = { program, "-i", "127.0.0.1", "-p", port, "-u", user, "-P", password,
                         NULL };

  proxy_run (proxy, argv, TRUE); /* it logs each connection on stderr */
  g_free (port);
  return proxy;
}

guint16
test_proxy_get_port (TestProxy *proxy)
{
  return proxy->port;
}

char *
test_proxy_read_log (TestProxy *proxy)
{
  char *log = NULL;

  if (!g_file_get_contents (proxy->log_path, &log, NULL, NULL))
    return g_strdup ("");
  return log;
}

void
test_proxy_stop (TestProxy *proxy)
{
  if (proxy == NULL)
    return;
  g_subprocess_send_signal (proxy->process, SIGTERM);
  g_subprocess_wait (proxy->process, NULL, NULL);
  g_object_unref (proxy->process);
  g_unlink (proxy->log_path);
  g_unlink (proxy->config_path); /* tinyproxy only */
  g_rmdir (proxy->dir);
  g_free (proxy->log_path);
  g_free (proxy->config_path);
  g_free (proxy->dir);
  g_free (proxy);
}
