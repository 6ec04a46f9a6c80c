/* ppm-ws-tunnel.h: opening the pcsocket websocket through an HTTP proxy.
 *
 * libsoup 3 sends a plain ws:// handshake to an HTTP proxy as a forwarded
 * "GET ws://host/..." request, which proxies refuse. When the session's
 * proxy resolver names an http:// proxy for a ws:// URL, the websocket is
 * opened here instead: a CONNECT tunnel (GLib's GHttpProxy, through a
 * GSocketClient with the same resolver), then the client handshake of RFC
 * 6455 written on the tunnel. Every other case (wss://, no proxy, SOCKS)
 * stays on soup_session_websocket_connect_async().
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Like soup_session_websocket_connect_async (session, message, NULL, NULL,
 * G_PRIORITY_DEFAULT, ...), tunnelling when needed (see above). The
 * cancellable also bounds the time: cancelling it ends the attempt with
 * G_IO_ERROR_CANCELLED. Tunnel failures are PPM_ERROR_NETWORK; errors of the
 * libsoup path are passed on unchanged. */
void ppm_ws_tunnel_connect_async (SoupSession *session, SoupMessage *message,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
SoupWebsocketConnection *ppm_ws_tunnel_connect_finish (SoupSession *session,
                                                       GAsyncResult *result, GError **error);

/* The handshake's parts, exposed for unit tests. */
/* base64 (SHA-1 (key + the RFC 6455 GUID)) (g_free). */
char    *ppm_ws_tunnel_accept_key (const char *key);
/* TRUE when the first proxy URI is http:// and the URL is ws://. */
gboolean ppm_ws_tunnel_applies (const char *ws_url, char **proxy_uris);

G_END_DECLS
