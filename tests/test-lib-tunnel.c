/* test-lib-tunnel.c: the pcsocket websocket through an HTTP proxy's CONNECT
 * tunnel (ppm-ws-tunnel.c). A small proxy written here sits in front of the
 * real test server: it tunnels CONNECT requests, forwards plain HTTP
 * requests, and counts both; on demand it refuses CONNECT or never answers.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-ws.h"
#include "ppm-ws-tunnel.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#include <libsoup/soup.h>
#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define WAIT_MS 10000

/* ---- The proxy ---- */

typedef enum {
  PROXY_CARRY,                /* tunnel CONNECT, forward the rest */
  PROXY_REFUSE,               /* answer CONNECT with 403 */
  PROXY_STALL,                /* read CONNECT, never answer */
  PROXY_AUTH,                 /* tunnel only with PROXY_USER:PROXY_PASSWORD, else 407 */
} ProxyMode;

#define PROXY_USER "proxy-user"
#define PROXY_PASSWORD "proxy-secret"

typedef struct {
  GSocketService *service;
  guint16 port;
  ProxyMode mode;
  GCancellable *cancellable;  /* every operation of every connection */
  guint tunnels;              /* CONNECT requests tunnelled */
  guint forwarded;            /* connections carrying plain HTTP requests */
  guint connects_seen;        /* CONNECT requests received, answered or not */
  char *last_connect_target;  /* host:port of the last CONNECT */
  guint live;                 /* ProxyClients not yet freed */
  GPtrArray *stalled;         /* ProxyClient* never answered */
} ConnectProxy;

typedef struct {
  ConnectProxy *proxy;
  GSocketConnection *downstream;
  GDataInputStream *input;    /* downstream input: request head, then the rest */
  GSocketConnection *upstream;
  GString *head;              /* the request head as received */
  char *method;
  char *target;               /* host:port for CONNECT, else the absolute URI */
} ProxyClient;

static void
proxy_client_free (ProxyClient *pc)
{
  pc->proxy->live--;
  g_clear_object (&pc->input);
  g_clear_object (&pc->downstream);
  g_clear_object (&pc->upstream);
  g_string_free (pc->head, TRUE);
  g_free (pc->method);
  g_free (pc->target);
  g_free (pc);
}

static void
on_spliced (GObject *source, GAsyncResult *result, gpointer data)
{
  g_io_stream_splice_finish (result, NULL);
  proxy_client_free (data);
}

/* Carries bytes both ways until either side closes. */
static void
splice (ProxyClient *pc)
{
  g_autoptr (GIOStream) downstream =
    g_simple_io_stream_new (G_INPUT_STREAM (pc->input),
                            g_io_stream_get_output_stream (G_IO_STREAM (pc->downstream)));

  g_io_stream_splice_async (downstream, G_IO_STREAM (pc->upstream),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, pc->proxy->cancellable, on_spliced, pc);
}

static void
on_written_then_splice (GObject *source, GAsyncResult *result, gpointer data)
{
  ProxyClient *pc = data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL)) {
    proxy_client_free (pc);
    return;
  }
  splice (pc);
}

static void
on_written_then_free (GObject *source, GAsyncResult *result, gpointer data)
{
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  proxy_client_free (data);
}

static void
write_then (GSocketConnection *connection, const char *text, GAsyncReadyCallback done,
            ProxyClient *pc)
{
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                   text, strlen (text), G_PRIORITY_DEFAULT,
                                   pc->proxy->cancellable, done, pc);
}

static void
on_upstream_open (GObject *source, GAsyncResult *result, gpointer data)
{
  ProxyClient *pc = data;

  pc->upstream = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, NULL);
  if (pc->upstream == NULL) {
    write_then (pc->downstream, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
                on_written_then_free, pc);
    return;
  }
  if (strcmp (pc->method, "CONNECT") == 0) {
    pc->proxy->tunnels++;
    write_then (pc->downstream, "HTTP/1.1 200 Connection established\r\n\r\n",
                on_written_then_splice, pc);
  } else {
    /* Servers accept the absolute form of the request line (RFC 9112 3.2.2). */
    pc->proxy->forwarded++;
    write_then (pc->upstream, pc->head->str, on_written_then_splice, pc);
  }
}

static void
open_upstream (ProxyClient *pc, const char *host_and_port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();

  g_socket_client_connect_to_host_async (client, host_and_port, 80, pc->proxy->cancellable,
                                         on_upstream_open, pc);
}

/* The request head holds "Proxy-Authorization: Basic <PROXY_USER:PROXY_PASSWORD>". */
static gboolean
is_authorised (ProxyClient *pc)
{
  g_autofree char *token = g_base64_encode ((const guchar *) PROXY_USER ":" PROXY_PASSWORD,
                                            strlen (PROXY_USER ":" PROXY_PASSWORD));
  g_autofree char *expected = g_strdup_printf ("\r\nproxy-authorization: basic %s\r\n", token);
  g_autofree char *head = g_ascii_strdown (pc->head->str, -1);
  g_autofree char *lower_expected = g_ascii_strdown (expected, -1);

  return strstr (head, lower_expected) != NULL;
}

static void
handle_request (ProxyClient *pc)
{
  ConnectProxy *proxy = pc->proxy;

  if (strcmp (pc->method, "CONNECT") != 0) {
    g_autoptr (GUri) uri = g_uri_parse (pc->target, G_URI_FLAGS_NONE, NULL);
    g_autofree char *host_and_port = NULL;

    if (uri == NULL) {
      write_then (pc->downstream, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                  on_written_then_free, pc);
      return;
    }
    host_and_port = g_strdup_printf ("%s:%d", g_uri_get_host (uri),
                                     g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 80);
    open_upstream (pc, host_and_port);
    return;
  }
  proxy->connects_seen++;
  g_free (proxy->last_connect_target);
  proxy->last_connect_target = g_strdup (pc->target);
  if (proxy->mode == PROXY_STALL)
    g_ptr_array_add (proxy->stalled, pc);
  else if (proxy->mode == PROXY_AUTH && !is_authorised (pc))
    write_then (pc->downstream, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                "Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
                on_written_then_free, pc);
  else if (proxy->mode == PROXY_REFUSE)
    write_then (pc->downstream, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                on_written_then_free, pc);
  else
    open_upstream (pc, pc->target);
}

static void read_head_line (ProxyClient *pc);

static void
on_head_line (GObject *source, GAsyncResult *result, gpointer data)
{
  ProxyClient *pc = data;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);

  if (line == NULL) {
    proxy_client_free (pc);
    return;
  }
  g_string_append_printf (pc->head, "%s\r\n", line);
  if (pc->method == NULL) {
    g_auto (GStrv) parts = g_strsplit (line, " ", 3);

    if (g_strv_length (parts) != 3) {
      proxy_client_free (pc);
      return;
    }
    pc->method = g_strdup (parts[0]);
    pc->target = g_strdup (parts[1]);
  }
  if (*line == '\0')
    handle_request (pc);
  else
    read_head_line (pc);
}

static void
read_head_line (ProxyClient *pc)
{
  g_data_input_stream_read_line_async (pc->input, G_PRIORITY_DEFAULT, pc->proxy->cancellable,
                                       on_head_line, pc);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer data)
{
  ProxyClient *pc = g_new0 (ProxyClient, 1);

  pc->proxy = data;
  pc->proxy->live++;
  pc->downstream = g_object_ref (connection);
  pc->input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (pc->input, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (pc->input), FALSE);
  pc->head = g_string_new (NULL);
  read_head_line (pc);
  return TRUE;
}

static ConnectProxy *
proxy_start (ProxyMode mode)
{
  ConnectProxy *proxy = g_new0 (ConnectProxy, 1);
  g_autoptr (GSocketAddress) loopback = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  proxy->mode = mode;
  proxy->cancellable = g_cancellable_new ();
  proxy->stalled = g_ptr_array_new_with_free_func ((GDestroyNotify) proxy_client_free);
  proxy->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (proxy->service), loopback,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                 &error);
  g_assert_no_error (error);
  proxy->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (proxy->service, "incoming", G_CALLBACK (on_incoming), proxy);
  g_socket_service_start (proxy->service);
  return proxy;
}

static char *
proxy_uri (ConnectProxy *proxy)
{
  return g_strdup_printf ("http://127.0.0.1:%u", proxy->port);
}

static gboolean
proxy_idle (gpointer data)
{
  ConnectProxy *proxy = data;

  return proxy->live == 0;
}

static void
proxy_stop (ConnectProxy *proxy)
{
  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
  g_ptr_array_set_size (proxy->stalled, 0);
  g_cancellable_cancel (proxy->cancellable);
  g_assert_true (ppms_wait_until (proxy_idle, proxy, WAIT_MS));
  g_ptr_array_unref (proxy->stalled);
  g_object_unref (proxy->service);
  g_object_unref (proxy->cancellable);
  g_free (proxy->last_connect_target);
  g_free (proxy);
}

/* ---- Fixture: the test server and a proxy in front of it ---- */

typedef struct {
  PpmsServer *server;
  ConnectProxy *proxy;
  GProxyResolver *resolver;   /* every URL through the proxy */
  PpmClient *client;
  gboolean connected;
  GError *disconnect_error;
  gboolean disconnected;
  /* Direct calls of ppm_ws_tunnel_connect_async(). */
  gboolean done;
  SoupWebsocketConnection *connection;
  GError *error;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = NULL;

  f->server = ppms_server_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (f->server, 0, &error));
  g_assert_no_error (error);
  f->proxy = proxy_start (GPOINTER_TO_INT (data));
  uri = proxy_uri (f->proxy);
  f->resolver = g_simple_proxy_resolver_new (uri, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->client, ppm_client_free);
  g_clear_object (&f->connection);
  g_clear_error (&f->error);
  g_clear_error (&f->disconnect_error);
  proxy_stop (f->proxy);
  g_object_unref (f->resolver);
  ppms_server_free (f->server);
}

/* ---- The handshake's parts ---- */

static void
test_accept_key (void)
{
  /* The example of RFC 6455 1.3. */
  g_autofree char *accept = ppm_ws_tunnel_accept_key ("dGhlIHNhbXBsZSBub25jZQ==");

  g_assert_cmpstr (accept, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void
test_applies (void)
{
  char *http[] = { "http://proxy:3128", "direct://", NULL };
  char *socks[] = { "socks5://proxy:1080", NULL };
  char *direct[] = { "direct://", NULL };
  char *none[] = { NULL };

  g_assert_true (ppm_ws_tunnel_applies ("ws://host/pcsocket/WS", http));
  g_assert_true (ppm_ws_tunnel_applies ("WS://host/pcsocket/WS", http));
  g_assert_false (ppm_ws_tunnel_applies ("wss://host/pcsocket/WS", http));
  g_assert_false (ppm_ws_tunnel_applies ("ws://host/pcsocket/WS", socks));
  g_assert_false (ppm_ws_tunnel_applies ("ws://host/pcsocket/WS", direct));
  g_assert_false (ppm_ws_tunnel_applies ("ws://host/pcsocket/WS", none));
  g_assert_false (ppm_ws_tunnel_applies ("ws://host/pcsocket/WS", NULL));
}

/* ---- A client signs in through the proxy ---- */

static void
on_connected (gpointer data)
{
  Fixture *f = data;

  f->connected = TRUE;
}

static void
on_disconnected (gpointer data, const GError *error)
{
  Fixture *f = data;

  f->disconnected = TRUE;
  if (error != NULL && f->disconnect_error == NULL)
    f->disconnect_error = g_error_copy (error);
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .disconnected = on_disconnected,
};

static gboolean
is_connected_or_done (gpointer data)
{
  Fixture *f = data;

  return f->connected || f->disconnected;
}

static void
test_sign_in_through_tunnel (Fixture *f, gconstpointer data)
{
  PpmClientConfig config = {
    .server_url = ppms_server_get_url (f->server),
    .role = PPM_ROLE_AGENT,
    .email = AGENT_EMAIL,
    .password = AGENT_PASSWORD,
    .terminal = "terminal-of-test-lib-tunnel",
    .device_name = "test-lib-tunnel",
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *server_authority = g_strdup_printf ("127.0.0.1:%u",
                                                       ppms_server_get_port (f->server));

  f->client = ppm_client_new (&config, &events, f);
  ppm_client_set_proxy_resolver (f->client, f->resolver);
  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (ppms_wait_until (is_connected_or_done, f, WAIT_MS));
  if (f->disconnect_error != NULL)
    g_error ("sign-in through the proxy failed: %s", f->disconnect_error->message);
  g_assert_true (f->connected);
  /* The API calls were forwarded, the websocket was tunnelled to the server. */
  g_assert_cmpuint (f->proxy->forwarded, >=, 1);
  g_assert_cmpuint (f->proxy->tunnels, >=, 1);
  g_assert_cmpstr (f->proxy->last_connect_target, ==, server_authority);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 1);
}

/* A resolver that proxies nothing: libsoup's own path, no tunnel. */
static void
test_no_proxy_no_tunnel (Fixture *f, gconstpointer data)
{
  PpmClientConfig config = {
    .server_url = ppms_server_get_url (f->server),
    .role = PPM_ROLE_AGENT,
    .email = AGENT_EMAIL,
    .password = AGENT_PASSWORD,
    .terminal = "terminal-of-test-lib-tunnel",
    .device_name = "test-lib-tunnel",
  };
  g_autoptr (GProxyResolver) direct = g_simple_proxy_resolver_new (NULL, NULL);
  g_autoptr (GError) error = NULL;

  f->client = ppm_client_new (&config, &events, f);
  ppm_client_set_proxy_resolver (f->client, direct);
  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_true (ppms_wait_until (is_connected_or_done, f, WAIT_MS));
  if (f->disconnect_error != NULL)
    g_error ("direct sign-in failed: %s", f->disconnect_error->message);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 1);
  g_assert_cmpuint (f->proxy->connects_seen, ==, 0);
  g_assert_cmpuint (f->proxy->forwarded, ==, 0);
}

/* ---- ppm_ws_tunnel_connect_async() on its own ---- */

static void
on_tunnel_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *f = data;

  f->connection = ppm_ws_tunnel_connect_finish (SOUP_SESSION (source), result, &f->error);
  f->done = TRUE;
}

static gboolean
is_done (gpointer data)
{
  Fixture *f = data;

  return f->done;
}

static void
open_websocket (Fixture *f, const char *path, GCancellable *cancellable)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u%s",
                                          ppms_server_get_port (f->server), path);
  g_autoptr (SoupMessage) message = soup_message_new (SOUP_METHOD_GET, url);

  soup_session_set_proxy_resolver (session, f->resolver);
  ppm_ws_tunnel_connect_async (session, message, cancellable, on_tunnel_done, f);
  g_assert_true (ppms_wait_until (is_done, f, WAIT_MS));
}

static void
test_tunnel_opens (Fixture *f, gconstpointer data)
{
  open_websocket (f, "/pcsocket/WS", NULL);
  g_assert_no_error (f->error);
  g_assert_nonnull (f->connection);
  g_assert_cmpint (soup_websocket_connection_get_state (f->connection), ==,
                   SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpuint (f->proxy->tunnels, ==, 1);
  soup_websocket_connection_close (f->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

/* The proxy refuses the CONNECT (PROXY_REFUSE), or asks for credentials the
 * resolver does not have (PROXY_AUTH): one attempt, no tunnel, a network
 * error. */
static void
test_tunnel_refused (Fixture *f, gconstpointer data)
{
  open_websocket (f, "/pcsocket/WS", NULL);
  g_assert_null (f->connection);
  g_assert_error (f->error, PPM_ERROR, PPM_ERROR_NETWORK);
  g_assert_cmpuint (f->proxy->connects_seen, ==, 1);
  g_assert_cmpuint (f->proxy->tunnels, ==, 0);
}

/* Credentials in the proxy URI become Proxy-Authorization on CONNECT. */
static void
test_tunnel_with_credentials (Fixture *f, gconstpointer data)
{
  g_autofree char *uri = g_strdup_printf ("http://" PROXY_USER ":" PROXY_PASSWORD
                                          "@127.0.0.1:%u", f->proxy->port);

  g_object_unref (f->resolver);
  f->resolver = g_simple_proxy_resolver_new (uri, NULL);
  open_websocket (f, "/pcsocket/WS", NULL);
  g_assert_no_error (f->error);
  g_assert_nonnull (f->connection);
  g_assert_cmpuint (f->proxy->tunnels, ==, 1);
  soup_websocket_connection_close (f->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

/* The tunnel opens, but the path is no websocket: no 101. */
static void
test_handshake_refused (Fixture *f, gconstpointer data)
{
  open_websocket (f, "/no-such-websocket", NULL);
  g_assert_null (f->connection);
  g_assert_error (f->error, PPM_ERROR, PPM_ERROR_NETWORK);
  g_assert_nonnull (strstr (f->error->message, "HTTP"));
  g_assert_cmpuint (f->proxy->tunnels, ==, 1);
}

static gboolean
connect_seen (gpointer data)
{
  Fixture *f = data;

  return f->proxy->connects_seen > 0;
}

/* A proxy that never answers: cancelling ends the attempt. */
static void
test_stalled_proxy_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/pcsocket/WS",
                                          ppms_server_get_port (f->server));
  g_autoptr (SoupMessage) message = soup_message_new (SOUP_METHOD_GET, url);

  soup_session_set_proxy_resolver (session, f->resolver);
  ppm_ws_tunnel_connect_async (session, message, cancellable, on_tunnel_done, f);
  g_assert_true (ppms_wait_until (connect_seen, f, WAIT_MS));
  g_assert_false (f->done);
  g_cancellable_cancel (cancellable);
  g_assert_true (ppms_wait_until (is_done, f, WAIT_MS));
  g_assert_null (f->connection);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Through PpmWs: its connect timeout ends a stalled tunnel as a timeout. */
typedef struct {
  gboolean closed;
  GError *error;
} WsOutcome;

static void
on_ws_closed (gpointer data, const GError *error)
{
  WsOutcome *outcome = data;

  outcome->closed = TRUE;
  outcome->error = g_error_copy (error);
}

static gboolean
ws_closed (gpointer data)
{
  return ((WsOutcome *) data)->closed;
}

static void
test_stalled_proxy_times_out (Fixture *f, gconstpointer data)
{
  const PpmWsEvents ws_events = { .closed = on_ws_closed };
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/pcsocket/WS",
                                          ppms_server_get_port (f->server));
  WsOutcome outcome = { 0 };
  PpmWs *ws;

  soup_session_set_proxy_resolver (session, f->resolver);
  ws = ppm_ws_new (session, url, &ws_events, &outcome);
  ppm_ws_connect (ws, 1000);
  g_assert_true (ppms_wait_until (ws_closed, &outcome, WAIT_MS));
  g_assert_error (outcome.error, PPM_ERROR, PPM_ERROR_NETWORK);
  g_assert_nonnull (strstr (outcome.error->message, "timed out"));
  g_assert_cmpuint (f->proxy->connects_seen, ==, 1);
  g_error_free (outcome.error);
  ppm_ws_free (ws);
}

#define ADD(path, mode, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (mode), fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lib/tunnel/accept-key", test_accept_key);
  g_test_add_func ("/lib/tunnel/applies", test_applies);
  ADD ("/lib/tunnel/sign-in", PROXY_CARRY, test_sign_in_through_tunnel);
  ADD ("/lib/tunnel/no-proxy", PROXY_CARRY, test_no_proxy_no_tunnel);
  ADD ("/lib/tunnel/opens", PROXY_CARRY, test_tunnel_opens);
  ADD ("/lib/tunnel/connect-refused", PROXY_REFUSE, test_tunnel_refused);
  ADD ("/lib/tunnel/proxy-credentials", PROXY_AUTH, test_tunnel_with_credentials);
  ADD ("/lib/tunnel/proxy-needs-credentials", PROXY_AUTH, test_tunnel_refused);
  ADD ("/lib/tunnel/handshake-refused", PROXY_CARRY, test_handshake_refused);
  ADD ("/lib/tunnel/stalled-cancelled", PROXY_STALL, test_stalled_proxy_cancelled);
  ADD ("/lib/tunnel/stalled-timeout", PROXY_STALL, test_stalled_proxy_times_out);
  return g_test_run ();
}
