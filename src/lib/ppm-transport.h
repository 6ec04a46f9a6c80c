/* ppm-transport.h: the connections a client's sessions run on, which
 * several clients of one team may share (a bridge's visitors): a bounded
 * pool of kept-alive HTTP connections for the REST calls and the file
 * transfers, and apart from it the websockets' handshakes.
 *
 * Why two SoupSessions: libsoup 3 takes a websocket's connection out of
 * its session's pool once the server answered "101 Switching Protocols"
 * (soup_session_steal_connection()), so open websockets never count
 * against the pool's limits; but the handshake itself asks for a new
 * connection of the pool (SOUP_MESSAGE_NEW_CONNECTION) and waits while the
 * host has max-conns-per-host connections. Sharing one session, a socket
 * would wait behind every sign-in in flight. The socket session holds only
 * handshakes in flight, so its limits are left open.
 *
 * libsoup walks its whole queue of waiting requests each time a
 * connection frees (O(queue) per request, measured: a thousand visitors
 * signing in at once spent half their time there). So requests wait in
 * the transport's own first-come queue instead, and libsoup is handed at
 * most PPM_TRANSPORT_HTTP_IN_FLIGHT of them at a time: enough to keep every
 * connection of the pool busy. A request's timeout counts its wait there,
 * as it counted its wait in libsoup's queue.
 *
 * Nothing of one client hangs on the sessions: certificate decisions are
 * made per message (ppm-tls.h), cancellations per request. Clients that
 * share a transport share what is a session's: the proxy and the trusted
 * certificate (a kept-alive connection one client's request opened serves
 * the others' requests without a new handshake), so both are the
 * transport's.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _PpmTransport PpmTransport;

/* HTTP connections per host (and twice that in all). A sign-in and a
 * catch-up keep several calls in flight; libsoup's default of 2 would
 * queue them. It is also the bound of a shared transport's pool. */
#define PPM_TRANSPORT_HTTP_CONNS_PER_HOST 8

/* Requests handed to the HTTP session at a time. */
#define PPM_TRANSPORT_HTTP_IN_FLIGHT (2 * PPM_TRANSPORT_HTTP_CONNS_PER_HOST)

/* pinned_certificate: as PpmClientConfig.pinned_certificate (NULL: the
 * system's store alone). */
PpmTransport *ppm_transport_new (const char *pinned_certificate);
PpmTransport *ppm_transport_ref (PpmTransport *transport);
/* Connections of requests still in flight stay until those end. */
void          ppm_transport_unref (PpmTransport *transport);

/* REST calls, downloads and uploads. */
SoupSession  *ppm_transport_get_http_session (PpmTransport *transport);
/* Websocket handshakes only. */
SoupSession  *ppm_transport_get_socket_session (PpmTransport *transport);
/* The pinned certificate's fingerprint, normalised (ppm-tls.h), or NULL. */
const char   *ppm_transport_get_pinned_certificate (PpmTransport *transport);
/* For both sessions; applies to connections made from now on. */
void          ppm_transport_set_proxy_resolver (PpmTransport *transport,
                                                GProxyResolver *resolver);

/* A request's turn: start sends it on the HTTP session, now or once
 * another request left. A cancellation meanwhile starts it at once (it
 * then ends at once, cancelled) instead of leaving it waiting. */
typedef struct _PpmTransportTurn PpmTransportTurn;
typedef void (*PpmTransportStart) (gpointer data);
PpmTransportTurn *ppm_transport_wait_turn (PpmTransport *transport, GCancellable *cancellable,
                                           PpmTransportStart start, gpointer data);
/* The request started by its turn ended: the next one may start. */
void              ppm_transport_end_turn (PpmTransportTurn *turn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PpmTransport, ppm_transport_unref)

G_END_DECLS
