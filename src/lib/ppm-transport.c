/* ppm-transport.c: the connections a client's sessions run on (see
 * ppm-transport.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-transport.h"
#include "ppm-tls.h"

struct _PpmTransport {
  SoupSession *http;
  SoupSession *sockets;
  char *pinned;
  guint in_flight;            /* turns started and not ended */
  GQueue waiting;             /* PpmTransportTurn*, first come first */
};

struct _PpmTransportTurn {
  PpmTransport *transport;    /* a reference: the turn may outlive its owner's */
  GList link;                 /* in waiting, while it waits */
  GCancellable *cancellable;
  gulong cancelled_id;
  PpmTransportStart start;
  gpointer data;
  gboolean started;
};

static SoupSession *
new_session (int conns_per_host, int conns)
{
  SoupSession *session = soup_session_new_with_options ("max-conns-per-host", conns_per_host,
                                                        "max-conns", conns, NULL);

  soup_session_set_user_agent (session, "purple-ppmessage ");
  return session;
}

PpmTransport *
ppm_transport_new (const char *pinned_certificate)
{
  PpmTransport *transport = g_rc_box_new0 (PpmTransport);

  transport->http = new_session (PPM_TRANSPORT_HTTP_CONNS_PER_HOST,
                                 2 * PPM_TRANSPORT_HTTP_CONNS_PER_HOST);
  /* Each connection leaves at its handshake's end: no bound is needed
   * beyond the sockets being opened at once. */
  transport->sockets = new_session (G_MAXINT, G_MAXINT);
  transport->pinned = ppm_tls_normalise_fingerprint (pinned_certificate);
  return transport;
}

PpmTransport *
ppm_transport_ref (PpmTransport *transport)
{
  return g_rc_box_acquire (transport);
}

static void
transport_clear (PpmTransport *transport)
{
  g_clear_object (&transport->http);
  g_clear_object (&transport->sockets);
  g_free (transport->pinned);
}

void
ppm_transport_unref (PpmTransport *transport)
{
  if (transport != NULL)
    g_rc_box_release_full (transport, (GDestroyNotify) transport_clear);
}

SoupSession *
ppm_transport_get_http_session (PpmTransport *transport)
{
  return transport->http;
}

SoupSession *
ppm_transport_get_socket_session (PpmTransport *transport)
{
  return transport->sockets;
}

const char *
ppm_transport_get_pinned_certificate (PpmTransport *transport)
{
  return transport->pinned;
}

static void
turn_start (PpmTransportTurn *turn)
{
  turn->started = TRUE;
  turn->transport->in_flight++;
  turn->start (turn->data);
}

static void
start_waiting (PpmTransport *transport)
{
  while (transport->in_flight < PPM_TRANSPORT_HTTP_IN_FLIGHT && transport->waiting.head) {
    GList *link = transport->waiting.head;

    g_queue_unlink (&transport->waiting, link);
    turn_start (link->data);
  }
}

/* Runs where g_cancellable_cancel() was called: the start only queues the
 * request in libsoup, which ends it later on the main loop. */
static void
on_turn_cancelled (GCancellable *cancellable, gpointer data)
{
  PpmTransportTurn *turn = data;

  if (turn->started)
    return;
  g_queue_unlink (&turn->transport->waiting, &turn->link);
  turn_start (turn);
}

PpmTransportTurn *
ppm_transport_wait_turn (PpmTransport *transport, GCancellable *cancellable,
                         PpmTransportStart start, gpointer data)
{
  PpmTransportTurn *turn = g_new0 (PpmTransportTurn, 1);

  turn->transport = ppm_transport_ref (transport);
  turn->link.data = turn;
  turn->start = start;
  turn->data = data;
  if (transport->in_flight < PPM_TRANSPORT_HTTP_IN_FLIGHT && transport->waiting.head == NULL) {
    turn_start (turn);
    return turn;
  }
  g_queue_push_tail_link (&transport->waiting, &turn->link);
  if (cancellable != NULL) {
    turn->cancellable = g_object_ref (cancellable);
    /* Called at once when already cancelled. */
    turn->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_turn_cancelled),
                                                turn, NULL);
  }
  return turn;
}

void
ppm_transport_end_turn (PpmTransportTurn *turn)
{
  PpmTransport *transport;

  if (turn == NULL)
    return;
  transport = turn->transport;
  if (turn->cancelled_id)
    g_cancellable_disconnect (turn->cancellable, turn->cancelled_id);
  g_clear_object (&turn->cancellable);
  if (turn->started) {
    transport->in_flight--;
    start_waiting (transport);
  } else {
    g_queue_unlink (&transport->waiting, &turn->link);
  }
  g_free (turn);
  ppm_transport_unref (transport);
}

void
ppm_transport_set_proxy_resolver (PpmTransport *transport, GProxyResolver *resolver)
{
  soup_session_set_proxy_resolver (transport->http, resolver);
  soup_session_set_proxy_resolver (transport->sockets, resolver);
}
