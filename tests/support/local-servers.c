/* local-servers.c: see local-servers.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "local-servers.h"
#include "ppm-test-peer.h"

/* ---- Local servers (ngircd, prosody) in the foreground ---- */


char *
find_daemon (const char *name)
{
  char *path = g_find_program_in_path (name);
  g_autofree char *in_sbin = g_build_filename ("/usr/sbin", name, NULL);

  /* Debian puts daemons such as ngircd in /usr/sbin, which a plain user's
   * PATH lacks. */
  if (path == NULL && g_file_test (in_sbin, G_FILE_TEST_IS_EXECUTABLE))
    path = g_steal_pointer (&in_sbin);
  return path;
}

/* A loopback port nobody listens on right now. */
guint
free_loopback_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void local_server_read_line (LocalServer *server);

static void
on_local_server_line (GObject *source, GAsyncResult *result, gpointer data)
{
  LocalServer *server = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;             /* server may be gone */
  if (line == NULL) {
    server->output_closed = TRUE;
    return;
  }
  g_string_append_printf (server->log, "%s\n", line);
  if (strstr (line, server->ready_text) != NULL)
    server->ready = TRUE;
  if (server->failed_text != NULL && strstr (line, server->failed_text) != NULL)
    server->failed = TRUE;
  local_server_read_line (server);
}

static void
local_server_read_line (LocalServer *server)
{
  g_data_input_stream_read_line_async (server->output, G_PRIORITY_DEFAULT, server->cancel,
                                       on_local_server_line, server);
}

static gboolean
local_server_settled (gpointer data)
{
  LocalServer *server = data;

  return server->ready || server->failed || server->output_closed;
}

/* Servers get SIGTERM when this test dies (a failed assertion aborts). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
process_gone (GSubprocess *process)
{
  return g_subprocess_get_identifier (process) == NULL;
}

void
local_server_free (LocalServer *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  if (!PPMS_WAIT_FOR (process_gone (server->process), LOCAL_WAIT_MS))
    g_subprocess_force_exit (server->process);
  g_cancellable_cancel (server->cancel);
  g_object_unref (server->cancel);
  g_object_unref (server->output);
  g_object_unref (server->process);
  g_string_free (server->log, TRUE);
  ppms_remove_tree (server->dir);
  g_free (server->dir);
  g_free (server->ready_text);
  g_free (server);
}

/* Starts the server in the foreground on a free port. NULL (its output
 * appended to failures) when it did not come up. */
static LocalServer *
local_server_try_start (const char *program, LocalServerConfigure configure,
                        const char *ready_format, const char *failed_text, GString *failures)
{
  LocalServer *server = g_new0 (LocalServer, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_auto (GStrv) argv = NULL;

  server->dir = g_dir_make_tmp ("ppm-server-XXXXXX", NULL);
  g_assert_nonnull (server->dir);
  server->port = free_loopback_port ();
  server->ready_text = g_strdup_printf (ready_format, server->port);
  server->failed_text = failed_text;
  server->log = g_string_new (NULL);
  server->cancel = g_cancellable_new ();
  argv = configure (server, program);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv, &error);
  g_assert_no_error (error);
  server->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  local_server_read_line (server);
  if (!PPMS_WAIT_FOR (local_server_settled (server), LOCAL_WAIT_MS) || !server->ready) {
    g_string_append (failures, server->log->str);
    local_server_free (server);
    return NULL;
  }
  return server;
}

/* The free port may be taken before the server binds it: a few attempts. */
LocalServer *
local_server_start (const char *program, LocalServerConfigure configure,
                    const char *ready_format, const char *failed_text)
{
  g_autoptr (GString) failures = g_string_new (NULL);
  LocalServer *server = NULL;

  for (guint attempt = 0; attempt < 3 && server == NULL; attempt++)
    server = local_server_try_start (program, configure, ready_format, failed_text, failures);
  if (server == NULL)
    g_error ("%s did not start:\n%s", program, failures->str);
  return server;
}

void
write_config (const char *path, const char *config)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
}

/* ngircd: no DNS, ident or PAM, and not the system's configuration. */
static GStrv
configure_ngircd (LocalServer *irc, const char *ngircd)
{
  g_autofree char *include_dir = g_build_filename (irc->dir, "conf.d", NULL);
  g_autofree char *path = g_build_filename (irc->dir, "ngircd.conf", NULL);
  g_autofree char *config = g_strdup_printf (
    "[Global]\n"
    "Name = irc.ppm.test\n"
    "Info = purple-ppmessage test network\n"
    "AdminInfo1 = purple-ppmessage tests\n"
    "AdminInfo2 = loopback only\n"
    "AdminEMail = nobody@ppm.test\n"
    "Listen = 127.0.0.1\n"
    "Ports = %u\n"
    "MotdPhrase = \"A throw-away network for tests\"\n"
    "IncludeDir = %s\n"      /* not the system's /etc/ngircd/ngircd.conf.d */
    "[Options]\n"
    "DNS = no\n"
    "Ident = no\n"
    "PAM = no\n", irc->port, include_dir);

  g_assert_cmpint (g_mkdir (include_dir, 0755), ==, 0);
  write_config (path, config);
  return g_strdupv ((char *[]) { (char *) ngircd, "-n", "-f", path, NULL });
}

LocalServer *
irc_server_start (const char *ngircd)
{
  return local_server_start (ngircd, configure_ngircd, "Now listening on", NULL);
}

/* prosody (XMPP): c2s only, on the free port, plain-text sign-in allowed
 * (loopback only, no certificates), accounts in its private data directory
 * (internal_plain storage: one Lua file per user, written here). */

static void
add_xmpp_user (LocalServer *xmpp, const char *user)
{
  g_autofree char *accounts = g_build_filename (xmpp->dir, "data", XMPP_DOMAIN, "accounts", NULL);
  g_autofree char *file = g_strdup_printf ("%s/%s.dat", accounts, user);

  g_assert_cmpint (g_mkdir_with_parents (accounts, 0700), ==, 0);
  write_config (file, "return {\n\t[\"password\"] = \"" XMPP_PASSWORD "\";\n};\n");
}

static GStrv
configure_prosody (LocalServer *xmpp, const char *prosody)
{
  g_autofree char *path = g_build_filename (xmpp->dir, "prosody.cfg.lua", NULL);
  g_autofree char *certs = g_build_filename (xmpp->dir, "certs", NULL);
  g_autofree char *config = g_strdup_printf (
    "pidfile = \"%s/prosody.pid\"\n"
    "data_path = \"%s/data\"\n"
    "certificates = \"%s\"\n"
    "run_as_root = true\n"           /* CI runs as root; nothing to switch to */
    "log = { info = \"*console\" }\n"
    "interfaces = { \"127.0.0.1\" }\n"
    "local_interfaces = { \"127.0.0.1\" }\n"
    "c2s_ports = { %u }\n"
    "c2s_direct_tls_ports = { }\n"
    "legacy_ssl_ports = { }\n"
    "s2s_ports = { }\n"
    "http_ports = { }\n"
    "https_ports = { }\n"
    "modules_enabled = { \"roster\", \"saslauth\", \"disco\", \"ping\" }\n"
    "modules_disabled = { \"s2s\", \"offline\" }\n"
    "authentication = \"internal_plain\"\n"
    "storage = \"internal\"\n"
    "c2s_require_encryption = false\n"
    "allow_unencrypted_plain_auth = true\n"
    "VirtualHost \"" XMPP_DOMAIN "\"\n",
    xmpp->dir, xmpp->dir, certs, xmpp->port);

  g_assert_cmpint (g_mkdir (certs, 0700), ==, 0);
  add_xmpp_user (xmpp, "agent");
  add_xmpp_user (xmpp, "pal");
  write_config (path, config);
  return g_strdupv ((char *[]) { (char *) prosody, "-F", "--config", path, NULL });
}

static void
add_roster_entry (LocalServer *xmpp, const char *user, const char *other)
{
  g_autofree char *rosters = g_build_filename (xmpp->dir, "data", XMPP_DOMAIN, "roster", NULL);
  g_autofree char *file = g_strdup_printf ("%s/%s.dat", rosters, user);
  g_autofree char *roster = g_strdup_printf (
    "return {\n\t[\"%s@" XMPP_DOMAIN "\"] = {\n\t\t[\"subscription\"] = \"both\";\n"
    "\t\t[\"groups\"] = {};\n\t};\n};\n", other);

  g_assert_cmpint (g_mkdir_with_parents (rosters, 0700), ==, 0);
  write_config (file, roster);
}

void
xmpp_server_befriend (LocalServer *xmpp, const char *user, const char *other)
{
  add_roster_entry (xmpp, user, other);
  add_roster_entry (xmpp, other, user);
}

LocalServer *
xmpp_server_start (const char *prosody)
{
  /* A taken port does not stop prosody: it says so and runs on. */
  return local_server_start (prosody, configure_prosody,
                             "Activated service 'c2s' on [127.0.0.1]:%u",
                             "Activated service 'c2s' on no ports");
}

/* ---- A second IRC user: a raw socket client ---- */


void
irc_pal_send (IrcPal *pal, const char *line)
{
  g_autofree char *wire = g_strdup_printf ("%s\r\n", line);
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (pal->connection)),
                             wire, strlen (wire), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* ":nick!user@host PRIVMSG target :text" -> "nick text". */
static void
irc_pal_note_privmsg (IrcPal *pal, const char *line)
{
  const char *bang = strchr (line, '!');
  const char *text = strstr (line, " :");

  if (line[0] != ':' || bang == NULL || text == NULL || bang > text)
    return;
  g_ptr_array_add (pal->privmsgs, g_strdup_printf ("%.*s %s", (int) (bang - line - 1), line + 1,
                                                   text + 2));
}

static void irc_pal_read_line (IrcPal *pal);

static void
on_irc_pal_line (GObject *source, GAsyncResult *result, gpointer data)
{
  IrcPal *pal = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);
  char **words;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;             /* pal may be gone */
  if (line == NULL) {
    pal->closed = TRUE;
    return;
  }
  g_strchomp (line);    /* the \r of \r\n */
  words = g_strsplit (line, " ", 3);
  if (g_strcmp0 (words[0], "PING") == 0) {
    g_autofree char *pong = g_strdup_printf ("PONG %s", words[1] != NULL ? words[1] : "");

    irc_pal_send (pal, pong);
  } else if (g_strcmp0 (words[1], "001") == 0) {
    pal->registered = TRUE;
  } else if (g_strcmp0 (words[1], "PRIVMSG") == 0) {
    irc_pal_note_privmsg (pal, line);
  } else if (g_strcmp0 (words[1], "303") == 0) {
    const char *nicks = strstr (line + 1, " :");

    g_ptr_array_add (pal->ison_replies, g_strstrip (g_strdup (nicks ? nicks + 2 : "")));
  }
  g_strfreev (words);
  irc_pal_read_line (pal);
}

static void
irc_pal_read_line (IrcPal *pal)
{
  g_data_input_stream_read_line_async (pal->input, G_PRIORITY_DEFAULT, pal->cancel,
                                       on_irc_pal_line, pal);
}

IrcPal *
irc_pal_connect (LocalServer *irc, const char *nick)
{
  IrcPal *pal = g_new0 (IrcPal, 1);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *nick_line = g_strdup_printf ("NICK %s", nick);
  g_autofree char *user_line = g_strdup_printf ("USER %s 0 * :IRC pal of the tests", nick);

  pal->connection = g_socket_client_connect_to_host (client, "127.0.0.1", irc->port, NULL, &error);
  g_assert_no_error (error);
  pal->input = g_data_input_stream_new (
    g_io_stream_get_input_stream (G_IO_STREAM (pal->connection)));
  g_data_input_stream_set_newline_type (pal->input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  pal->cancel = g_cancellable_new ();
  pal->privmsgs = g_ptr_array_new_with_free_func (g_free);
  pal->ison_replies = g_ptr_array_new_with_free_func (g_free);
  irc_pal_read_line (pal);
  irc_pal_send (pal, nick_line);
  irc_pal_send (pal, user_line);
  g_assert_true (PPMS_WAIT_FOR (pal->registered || pal->closed, LOCAL_WAIT_MS));
  g_assert_true (pal->registered);
  return pal;
}

void
irc_pal_say (IrcPal *pal, const char *to, const char *text)
{
  g_autofree char *line = g_strdup_printf ("PRIVMSG %s :%s", to, text);

  irc_pal_send (pal, line);
}

gboolean
irc_pal_heard (IrcPal *pal, const char *from, const char *text)
{
  g_autofree char *expected = g_strdup_printf ("%s %s", from, text);

  for (guint i = 0; i < pal->privmsgs->len; i++)
    if (g_strcmp0 (g_ptr_array_index (pal->privmsgs, i), expected) == 0)
      return TRUE;
  return FALSE;
}

void
irc_pal_free (IrcPal *pal)
{
  irc_pal_send (pal, "QUIT :done");
  g_cancellable_cancel (pal->cancel);
  g_io_stream_close (G_IO_STREAM (pal->connection), NULL, NULL);
  g_object_unref (pal->cancel);
  g_object_unref (pal->input);
  g_object_unref (pal->connection);
  g_ptr_array_unref (pal->privmsgs);
  g_ptr_array_unref (pal->ison_replies);
  g_free (pal);
}


void
irc_pal_wait_nick_free (IrcPal *pal, const char *nick)
{
  g_autofree char *ison = g_strdup_printf ("ISON %s", nick);
  gint64 deadline = ppms_deadline_ (LOCAL_WAIT_MS);

  for (;;) {
    guint asked = pal->ison_replies->len;

    irc_pal_send (pal, ison);
    g_assert_true (PPMS_WAIT_FOR (pal->ison_replies->len > asked, LOCAL_WAIT_MS));
    if (*(char *) g_ptr_array_index (pal->ison_replies, asked) == '\0')
      return;
    /* The server says nothing when the nick frees: ask again, paced. */
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    ppms_run_for (20);
  }
}

/* ---- The pal's DCC SEND ---- */

/* DCC writes an IPv4 address as one decimal number. */
#define DCC_LOOPBACK "2130706433"   /* 127.0.0.1 */

static void
irc_dcc_finish (IrcDccOffer *offer)
{
  offer->finished = TRUE;
  if (offer->connection != NULL)
    g_io_stream_close (G_IO_STREAM (offer->connection), NULL, NULL);
}

static void irc_dcc_read_ack (IrcDccOffer *offer);

static void
on_irc_dcc_ack (GObject *source, GAsyncResult *result, gpointer data)
{
  IrcDccOffer *offer = data;
  g_autoptr (GError) error = NULL;
  gsize size = 0;
  guint32 count;

  offer->pending--;
  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &size, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error == NULL && size == sizeof offer->ack) {
    memcpy (&count, offer->ack, sizeof count);
    offer->acked = GUINT32_FROM_BE (count);
    if (offer->acked < g_bytes_get_size (offer->data)) {
      irc_dcc_read_ack (offer);
      return;
    }
  }
  /* The last count, or the receiver hung up: the sender closes. */
  irc_dcc_finish (offer);
}

static void
irc_dcc_read_ack (IrcDccOffer *offer)
{
  offer->pending++;
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (offer->connection)),
                                 offer->ack, sizeof offer->ack, G_PRIORITY_DEFAULT, offer->cancel,
                                 on_irc_dcc_ack, offer);
}

static void
on_irc_dcc_written (GObject *source, GAsyncResult *result, gpointer data)
{
  IrcDccOffer *offer = data;
  g_autoptr (GError) error = NULL;

  offer->pending--;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    irc_dcc_finish (offer);
}

static void
on_irc_dcc_accepted (GObject *source, GAsyncResult *result, gpointer data)
{
  IrcDccOffer *offer = data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source),
                                                                   result, NULL, &error);

  offer->pending--;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_assert_no_error (error);
  offer->connection = connection;
  g_socket_listener_close (offer->listener);
  /* The counts come while the bytes go. */
  offer->pending++;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                   g_bytes_get_data (offer->data, NULL),
                                   g_bytes_get_size (offer->data), G_PRIORITY_DEFAULT,
                                   offer->cancel, on_irc_dcc_written, offer);
  irc_dcc_read_ack (offer);
}

IrcDccOffer *
irc_pal_offer_file (IrcPal *pal, const char *to, const char *name, GBytes *data)
{
  return irc_pal_offer_file_cut (pal, to, name, data, g_bytes_get_size (data));
}

IrcDccOffer *
irc_pal_offer_file_cut (IrcPal *pal, const char *to, const char *name, GBytes *data,
                        gsize announced_size)
{
  IrcDccOffer *offer = g_new0 (IrcDccOffer, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  g_assert_null (strchr (name, ' '));
  offer->listener = g_socket_listener_new ();
  offer->cancel = g_cancellable_new ();
  offer->data = g_bytes_ref (data);
  g_socket_listener_add_address (offer->listener, any_port, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  offer->pending++;
  g_socket_listener_accept_async (offer->listener, offer->cancel, on_irc_dcc_accepted, offer);
  line = g_strdup_printf ("PRIVMSG %s :\001DCC SEND %s " DCC_LOOPBACK " %u %zu\001", to, name,
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)),
                          announced_size);
  irc_pal_send (pal, line);
  return offer;
}

void
irc_dcc_offer_free (IrcDccOffer *offer)
{
  g_cancellable_cancel (offer->cancel);
  /* Their callbacks use it. */
  g_assert_true (PPMS_WAIT_FOR (offer->pending == 0, LOCAL_WAIT_MS));
  g_socket_listener_close (offer->listener);
  if (offer->connection != NULL) {
    g_io_stream_close (G_IO_STREAM (offer->connection), NULL, NULL);
    g_object_unref (offer->connection);
  }
  g_object_unref (offer->listener);
  g_object_unref (offer->cancel);
  g_bytes_unref (offer->data);
  g_free (offer);
}
