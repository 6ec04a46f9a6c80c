/* ppm-client-transport.c: the connections a client's session runs on
 * (ppm-transport.h): a transport shared with other clients of the team,
 * or one of its own per connection, as before there was sharing; the
 * proxy and the certificate decisions that go with either.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>

void
ppm_client_set_transport (PpmClient *client, PpmTransport *transport)
{
  g_return_if_fail (client != NULL);
  if (transport != NULL)
    ppm_transport_ref (transport);
  g_clear_pointer (&client->shared_transport, ppm_transport_unref);
  client->shared_transport = transport;
}

void
ppm_client_set_proxy_resolver (PpmClient *client, GProxyResolver *resolver)
{
  g_set_object (&client->proxy_resolver, resolver);
  /* A shared transport's proxy is its owner's to set, for all. */
  if (client->shared_transport != NULL) {
    g_debug ("a proxy for one client of a shared transport is ignored");
    return;
  }
  if (client->api)
    ppm_transport_set_proxy_resolver (ppm_api_get_transport (client->api), resolver);
}

PpmApi *
ppm_client_open_api (PpmClient *client, GError **error)
{
  g_autoptr (PpmTransport) own = NULL;
  PpmTransport *transport = client->shared_transport;
  PpmApi *api;

  if (transport != NULL &&
      g_strcmp0 (ppm_transport_get_pinned_certificate (transport),
                 ppm_tls_watch_get_pinned (client->tls_watch)) != 0) {
    /* Its kept-alive connections would carry this client's requests past
     * a certificate it never accepted, or refuse one it did. */
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SETTINGS,
                         _("The shared connections trust a different certificate than this "
                           "account"));
    return NULL;
  }
  if (transport == NULL) {
    transport = own = ppm_transport_new (ppm_tls_watch_get_pinned (client->tls_watch));
    if (client->proxy_resolver)
      ppm_transport_set_proxy_resolver (own, client->proxy_resolver);
  }
  api = ppm_api_new_with_transport (client->server_url, transport, error);
  if (api == NULL)
    return NULL;
  ppm_api_set_timeout (api, client->request_timeout_ms);
  ppm_api_set_tls_watch (api, client->tls_watch);
  return api;
}
