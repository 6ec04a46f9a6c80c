/* ppm-ws-tunnel.c: the websocket through an HTTP proxy's CONNECT tunnel
 * (see ppm-ws-tunnel.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-ws-tunnel.h"
#include "ppm-error.h"

#include <string.h>

#define WEBSOCKET_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HEADERS_END "\r\n\r\n"
/* A handshake answer is a few hundred bytes; more is not a websocket server. */
#define MAX_RESPONSE_BYTES (16 * 1024)

typedef struct {
  SoupMessage *message;       /* for the libsoup path */
  GUri *uri;
  char *url;
  GProxyResolver *resolver;
  GSocketClient *socket_client;
  GSocketConnection *connection;
  char *key;                  /* Sec-WebSocket-Key */
  char *request;
  GString *response;
  char read_buffer[4];
} Tunnel;

static void
tunnel_free (Tunnel *tunnel)
{
  g_clear_object (&tunnel->message);
  g_clear_pointer (&tunnel->uri, g_uri_unref);
  g_free (tunnel->url);
  g_clear_object (&tunnel->resolver);
  g_clear_object (&tunnel->socket_client);
  g_clear_object (&tunnel->connection);
  g_free (tunnel->key);
  g_free (tunnel->request);
  if (tunnel->response)
    g_string_free (tunnel->response, TRUE);
  g_free (tunnel);
}

char *
ppm_ws_tunnel_accept_key (const char *key)
{
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize length = sizeof digest;

  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) WEBSOCKET_GUID, -1);
  g_checksum_get_digest (sha1, digest, &length);
  return g_base64_encode (digest, length);
}

gboolean
ppm_ws_tunnel_applies (const char *ws_url, char **proxy_uris)
{
  return ws_url != NULL && g_ascii_strncasecmp (ws_url, "ws://", 5) == 0 &&
         proxy_uris != NULL && proxy_uris[0] != NULL &&
         g_ascii_strncasecmp (proxy_uris[0], "http://", 7) == 0;
}

/* Cancellation is passed on as it is (ppm-ws.c tells a timeout from it);
 * anything else is a network error. */
static void
tunnel_fail (GTask *task, GError *error, const char *what)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, error);
  else {
    g_task_return_new_error (task, PPM_ERROR, PPM_ERROR_NETWORK, "%s: %s", what,
                             error->message);
    g_error_free (error);
  }
  g_object_unref (task);
}

static void
tunnel_fail_literal (GTask *task, const char *text)
{
  g_task_return_new_error (task, PPM_ERROR, PPM_ERROR_NETWORK, "%s", text);
  g_object_unref (task);
}

/* ---- The libsoup path ---- */

static void
on_soup_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  GError *error = NULL;
  SoupWebsocketConnection *connection =
    soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);

  if (connection == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, connection, g_object_unref);
  g_object_unref (task);
}

static void
connect_with_soup (GTask *task)
{
  Tunnel *tunnel = g_task_get_task_data (task);

  soup_session_websocket_connect_async (g_task_get_source_object (task), tunnel->message,
                                        NULL, NULL, G_PRIORITY_DEFAULT,
                                        g_task_get_cancellable (task), on_soup_connected, task);
}

/* ---- The handshake on the tunnel ---- */

static char *
handshake_request (Tunnel *tunnel)
{
  const char *host = g_uri_get_host (tunnel->uri);
  const char *path = g_uri_get_path (tunnel->uri);
  const char *query = g_uri_get_query (tunnel->uri);
  int port = g_uri_get_port (tunnel->uri);
  gboolean ipv6 = strchr (host, ':') != NULL;
  g_autofree char *authority = NULL;

  authority = g_strdup_printf ("%s%s%s", ipv6 ? "[" : "", host, ipv6 ? "]" : "");
  if (port > 0 && port != 80) {
    char *with_port = g_strdup_printf ("%s:%d", authority, port);

    g_free (authority);
    authority = with_port;
  }
  return g_strdup_printf ("GET %s%s%s HTTP/1.1\r\n"
                          "Host: %s\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "\r\n",
                          *path ? path : "/", query ? "?" : "", query ? query : "",
                          authority, tunnel->key);
}

static char *
random_key (void)
{
  guint8 bytes[16];

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8) g_random_int_range (0, 256);
  return g_base64_encode (bytes, sizeof bytes);
}

/* NULL when the answer accepts this handshake, else why not (g_free). */
static char *
check_handshake_response (Tunnel *tunnel)
{
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autofree char *reason = NULL;
  g_autofree char *expected = NULL;
  const char *accept;
  guint status = 0;

  if (!soup_headers_parse_response (tunnel->response->str, (int) tunnel->response->len,
                                    headers, NULL, &status, &reason))
    return g_strdup ("the websocket handshake got an answer that is not HTTP");
  if (status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return g_strdup_printf ("the websocket handshake was refused (HTTP %u %s)", status,
                            reason ? reason : "");
  if (!soup_message_headers_header_contains (headers, "Upgrade", "websocket") ||
      !soup_message_headers_header_contains (headers, "Connection", "upgrade"))
    return g_strdup ("the server did not switch to the websocket protocol");
  expected = ppm_ws_tunnel_accept_key (tunnel->key);
  accept = soup_message_headers_get_one (headers, "Sec-WebSocket-Accept");
  if (g_strcmp0 (accept, expected) != 0)
    return g_strdup ("the server's Sec-WebSocket-Accept does not match the key");
  return NULL;
}

static void
finish_handshake (GTask *task)
{
  Tunnel *tunnel = g_task_get_task_data (task);
  g_autofree char *problem = check_handshake_response (tunnel);
  SoupWebsocketConnection *connection;

  if (problem != NULL) {
    g_autofree char *text = g_strdup_printf ("Could not open the websocket through the proxy: %s",
                                             problem);

    tunnel_fail_literal (task, text);
    return;
  }
  g_debug ("websocket handshake through the proxy's tunnel done");
  connection = soup_websocket_connection_new (G_IO_STREAM (tunnel->connection), tunnel->uri,
                                              SOUP_WEBSOCKET_CONNECTION_CLIENT, NULL, NULL, NULL);
  g_task_return_pointer (task, connection, g_object_unref);
  g_object_unref (task);
}

/* How many bytes may be read without reading past the end of the headers:
 * 4 minus the part of CRLFCRLF the response already ends with. */
static gsize
bytes_before_headers_end (GString *response)
{
  for (gsize matched = 3; matched > 0; matched--)
    if (response->len >= matched &&
        memcmp (response->str + response->len - matched, HEADERS_END, matched) == 0)
      return 4 - matched;
  return 4;
}

static void read_response (GTask *task);

static void
on_response_read (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  Tunnel *tunnel = g_task_get_task_data (task);
  GError *error = NULL;
  gssize count = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (count < 0) {
    tunnel_fail (task, error, "Could not read the websocket handshake through the proxy");
    return;
  }
  if (count == 0) {
    tunnel_fail_literal (task, "The connection through the proxy closed during the "
                               "websocket handshake");
    return;
  }
  g_string_append_len (tunnel->response, tunnel->read_buffer, count);
  if (g_str_has_suffix (tunnel->response->str, HEADERS_END))
    finish_handshake (task);
  else if (tunnel->response->len > MAX_RESPONSE_BYTES)
    tunnel_fail_literal (task, "The websocket handshake answer through the proxy is too long");
  else
    read_response (task);
}

static void
read_response (GTask *task)
{
  Tunnel *tunnel = g_task_get_task_data (task);
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (tunnel->connection));

  g_input_stream_read_async (input, tunnel->read_buffer,
                             bytes_before_headers_end (tunnel->response), G_PRIORITY_DEFAULT,
                             g_task_get_cancellable (task), on_response_read, task);
}

static void
on_request_written (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error)) {
    tunnel_fail (task, error, "Could not send the websocket handshake through the proxy");
    return;
  }
  read_response (task);
}

static void
on_tunnel_open (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  Tunnel *tunnel = g_task_get_task_data (task);
  GError *error = NULL;
  GOutputStream *output;

  tunnel->connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), result,
                                                              &error);
  if (tunnel->connection == NULL) {
    tunnel_fail (task, error, "Could not reach the server through the proxy");
    return;
  }
  tunnel->key = random_key ();
  tunnel->request = handshake_request (tunnel);
  tunnel->response = g_string_new (NULL);
  output = g_io_stream_get_output_stream (G_IO_STREAM (tunnel->connection));
  g_output_stream_write_all_async (output, tunnel->request, strlen (tunnel->request),
                                   G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                   on_request_written, task);
}

/* GSocketClient hands an http:// proxy to GLib's GHttpProxy, which opens
 * the tunnel with CONNECT (and Proxy-Authorization from the proxy URI). */
static void
open_tunnel (GTask *task)
{
  Tunnel *tunnel = g_task_get_task_data (task);

  g_debug ("opening the websocket through the HTTP proxy's tunnel");
  tunnel->socket_client = g_socket_client_new ();
  g_socket_client_set_proxy_resolver (tunnel->socket_client, tunnel->resolver);
  g_socket_client_connect_to_uri_async (tunnel->socket_client, tunnel->url, 80,
                                        g_task_get_cancellable (task), on_tunnel_open, task);
}

/* ---- Choosing the path ---- */

static void
on_proxy_looked_up (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  Tunnel *tunnel = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) proxies = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result,
                                                          &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error (task, g_steal_pointer (&error));
    g_object_unref (task);
  } else if (ppm_ws_tunnel_applies (tunnel->url, proxies)) {
    open_tunnel (task);
  } else {
    /* No proxy, another kind, or a failed look-up: libsoup's own way
     * (which reports the look-up failure itself). */
    connect_with_soup (task);
  }
}

void
ppm_ws_tunnel_connect_async (SoupSession *session, SoupMessage *message,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GTask *task = g_task_new (session, cancellable, callback, user_data);
  Tunnel *tunnel = g_new0 (Tunnel, 1);
  GProxyResolver *resolver = soup_session_get_proxy_resolver (session);

  g_task_set_source_tag (task, ppm_ws_tunnel_connect_async);
  g_task_set_task_data (task, tunnel, (GDestroyNotify) tunnel_free);
  tunnel->message = g_object_ref (message);
  tunnel->uri = g_uri_ref (soup_message_get_uri (message));
  tunnel->url = g_uri_to_string (tunnel->uri);
  if (resolver == NULL || g_ascii_strcasecmp (g_uri_get_scheme (tunnel->uri), "ws") != 0) {
    connect_with_soup (task);
    return;
  }
  tunnel->resolver = g_object_ref (resolver);
  g_proxy_resolver_lookup_async (resolver, tunnel->url, cancellable, on_proxy_looked_up, task);
}

SoupWebsocketConnection *
ppm_ws_tunnel_connect_finish (SoupSession *session, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, session), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
