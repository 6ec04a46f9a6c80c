/* server.c: the test server's lifetime and public control surface
 * (ppm-test-server.h): create, listen, stop/restart, faults, inspection.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "ppms-internal.h"

typedef struct {
  PpmsServer *server;
  guint id;
  GSourceFunc func;
  gpointer data;
  GDestroyNotify destroy;
} PpmsTimer;

static void
timer_free (PpmsTimer *t)
{
  if (t->destroy)
    t->destroy (t->data);
  g_free (t);
}

static gboolean
timer_fire (gpointer data)
{
  PpmsTimer *t = data;
  PpmsServer *server = t->server;

  t->func (t->data);
  server->timers = g_list_remove (server->timers, t);
  t->id = 0;
  timer_free (t);
  return G_SOURCE_REMOVE;
}

void
ppms_server_add_timer (PpmsServer *server, guint real_ms, GSourceFunc func, gpointer data,
                       GDestroyNotify destroy)
{
  PpmsTimer *t = g_new0 (PpmsTimer, 1);

  t->server = server;
  t->func = func;
  t->data = data;
  t->destroy = destroy;
  t->id = g_timeout_add (ppms_server_scaled_ms (server, real_ms), timer_fire, t);
  server->timers = g_list_prepend (server->timers, t);
}

static void
cancel_timers (PpmsServer *server)
{
  while (server->timers != NULL)
    {
      PpmsTimer *t = server->timers->data;
      server->timers = g_list_delete_link (server->timers, server->timers);
      g_source_remove (t->id);
      timer_free (t);
    }
}

static void
register_parts (PpmsServer *server)
{
  ppms_api_init (server);
  ppms_agent_api_init (server);
  ppms_visitor_api_init (server);
  ppms_conversations_api_init (server);
  ppms_misc_api_init (server);
  ppms_messages_init (server);
  soup_server_add_handler (server->soup, NULL, ppms_http_callback, server, NULL);
  ppms_ws_init (server);
}

PpmsServer *
ppms_server_new_from_data (const char *seed_json, GError **error)
{
  PpmsServer *server = g_new0 (PpmsServer, 1);

  server->timer_scale = 1.0;
  server->connections = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref,
                                              g_free);
  server->request_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ppms_store_init (server);
  if (seed_json != NULL)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (!json_parser_load_from_data (parser, seed_json, -1, error))
        goto fail;
      root = json_parser_get_root (parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "seed data is not a JSON object");
          goto fail;
        }
      if (!ppms_seed_load (server, json_node_get_object (root), error))
        goto fail;
    }
  else
    ppms_seed_default_team (server);
  server->soup = soup_server_new ("server-header", "TornadoServer/6.2", NULL);
  register_parts (server);
  return server;

fail:
  ppms_store_clear (server);
  g_hash_table_unref (server->connections);
  g_hash_table_unref (server->request_counts);
  g_free (server);
  return NULL;
}

PpmsServer *
ppms_server_new (const char *seed_path, GError **error)
{
  g_autofree char *contents = NULL;

  if (seed_path == NULL)
    return ppms_server_new_from_data (NULL, error);
  if (!g_file_get_contents (seed_path, &contents, NULL, error))
    return NULL;
  return ppms_server_new_from_data (contents, error);
}

static gboolean
listen_on (PpmsServer *server, guint port, GError **error)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  GSList *uris;

  if (!soup_server_listen (server->soup, address,
                           server->tls_certificate ? SOUP_SERVER_LISTEN_HTTPS : 0, error))
    return FALSE;
  uris = soup_server_get_uris (server->soup);
  if (uris != NULL)
    server->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_free (server->url);
  server->url = g_strdup_printf ("%s://127.0.0.1:%u", server->tls_certificate ? "https" : "http",
                                 server->port);
  server->listening = TRUE;
  ppms_store_absolutize_urls (server);
  ppms_distributor_start (server);
  return TRUE;
}

gboolean
ppms_server_listen (PpmsServer *server, guint port, GError **error)
{
  g_return_val_if_fail (server != NULL && !server->listening, FALSE);
  return listen_on (server, port, error);
}

gboolean
ppms_server_listen_tls (PpmsServer *server, guint port, const char *cert_pem_path,
                        const char *key_pem_path, GError **error)
{
  GTlsCertificate *certificate;

  g_return_val_if_fail (server != NULL && !server->listening, FALSE);
  certificate = g_tls_certificate_new_from_files (cert_pem_path, key_pem_path, error);
  if (certificate == NULL)
    return FALSE;
  g_clear_object (&server->tls_certificate);
  server->tls_certificate = certificate;
  soup_server_set_tls_certificate (server->soup, certificate);
  return listen_on (server, port, error);
}

guint
ppms_server_get_port (PpmsServer *server)
{
  return server->port;
}

const char *
ppms_server_get_url (PpmsServer *server)
{
  return server->url;
}

void
ppms_server_stop (PpmsServer *server)
{
  if (!server->listening)
    return;
  server->listening = FALSE;
  ppms_distributor_stop (server);
  ppms_ws_close_all (server);
  ppms_http_drop_pending (server);
  ppms_http_shutdown_connections (server);
  soup_server_disconnect (server->soup);
}

gboolean
ppms_server_restart (PpmsServer *server, GError **error)
{
  if (server->listening)
    return TRUE;
  return listen_on (server, server->port, error);
}

void
ppms_server_free (PpmsServer *server)
{
  if (server == NULL)
    return;
  ppms_server_stop (server);
  cancel_timers (server);
  ppms_messaging_free (server);
  g_clear_object (&server->soup);
  g_clear_object (&server->tls_certificate);
  g_clear_pointer (&server->api_handlers, g_hash_table_unref);
  g_clear_pointer (&server->connections, g_hash_table_unref);
  g_clear_pointer (&server->request_counts, g_hash_table_unref);
  g_clear_pointer (&server->predefined_scripts, g_ptr_array_unref);
  ppms_log_free (server);
  ppms_server_clear_faults (server);
  g_free (server->fault_target);
  ppms_store_clear (server);
  g_free (server->url);
  g_free (server);
}

void
ppms_server_set_timer_scale (PpmsServer *server, double scale)
{
  server->timer_scale = scale > 0 ? scale : 1.0;
  if (server->listening)
    {
      ppms_distributor_stop (server);
      ppms_distributor_start (server);
    }
}

void
ppms_server_set_deliver_online (PpmsServer *server, gboolean deliver)
{
  server->deliver_online = deliver;
}

void
ppms_server_set_return_predefined_scripts (PpmsServer *server, gboolean on)
{
  server->return_predefined_scripts = on;
}

static void
clear_http_fault (PpmsServer *server)
{
  server->fault.kind = PPMS_FAULT_NONE;
  g_clear_pointer (&server->fault.path_match, g_free);
  g_clear_pointer (&server->fault.rand, g_rand_free);
}

void
ppms_server_set_http_fault (PpmsServer *server, PpmsFaultKind kind, const char *path_match,
                            double probability, guint delay_ms, guint32 seed)
{
  clear_http_fault (server);
  server->fault.kind = kind;
  server->fault.path_match = g_strdup (path_match);
  server->fault.probability = probability;
  server->fault.delay_ms = delay_ms;
  server->fault.rand = g_rand_new_with_seed (seed);
}

void
ppms_server_clear_faults (PpmsServer *server)
{
  clear_http_fault (server);
  server->ack_loss = PPMS_ACK_LOSS_NONE;
  g_clear_pointer (&server->ack_loss_user, g_free);
  g_clear_pointer (&server->ack_loss_after_push, g_hash_table_unref);
}

void
ppms_server_set_fault_target (PpmsServer *server, const char *user_agent_match)
{
  g_free (server->fault_target);
  server->fault_target = g_strdup (user_agent_match);
}

void
ppms_server_set_ws_down (PpmsServer *server, gboolean down)
{
  server->ws_down = down;
  if (down)
    ppms_ws_drop_all (server);
}

void
ppms_server_set_ack_loss (PpmsServer *server, PpmsAckLoss when, const char *user_uuid,
                          guint every)
{
  ppms_server_clear_faults (server);
  server->ack_loss = when;
  server->ack_loss_user = g_strdup (user_uuid);
  server->ack_loss_every = MAX (every, 1);
  server->ack_loss_sends = 0;
  server->ack_loss_after_push = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
ppms_server_reset_stalled_requests (PpmsServer *server)
{
  ppms_http_reset_pending (server);
}

void
ppms_server_drop_websockets (PpmsServer *server)
{
  ppms_ws_drop_all (server);
}

void
ppms_server_set_ws_stall (PpmsServer *server, gboolean stall)
{
  server->ws_stall = stall;
}

guint
ppms_server_count_sockets (PpmsServer *server)
{
  return ppms_ws_count_registered (server);
}

guint
ppms_server_count_websockets_opened (PpmsServer *server)
{
  return server->websockets_opened;
}

/* The client has not closed its end. The server may be slow to close
 * its own after the client closed a kept-alive connection, so the state
 * of the GSocket alone would count those too. */
static gboolean
client_holds (GSocket *socket)
{
  char byte;
  ssize_t got;

  if (g_socket_is_closed (socket))
    return FALSE;
  got = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return got > 0 || (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

guint
ppms_server_count_http_connections (PpmsServer *server, const char *user_agent_match)
{
  GHashTableIter iter;
  GSocket *socket;
  const char *user_agent;
  guint open = 0;

  g_hash_table_iter_init (&iter, server->connections);
  while (g_hash_table_iter_next (&iter, (gpointer *) &socket, (gpointer *) &user_agent))
    open += client_holds (socket)
            && (user_agent_match == NULL || strstr (user_agent, user_agent_match) != NULL);
  return open;
}

guint
ppms_server_count_requests (PpmsServer *server, const char *path_match)
{
  GHashTableIter iter;
  gpointer path, count;
  guint total = 0;

  g_hash_table_iter_init (&iter, server->request_counts);
  while (g_hash_table_iter_next (&iter, &path, &count))
    if (path_match == NULL || strstr (path, path_match) != NULL)
      total += GPOINTER_TO_UINT (count);
  return total;
}

guint
ppms_server_count_unacked_pushes (PpmsServer *server, const char *user_uuid)
{
  const GPtrArray *pushes = ppms_user_unacked_pushes (server, user_uuid);

  return pushes != NULL ? pushes->len : 0;
}

guint
ppms_server_count_messages (PpmsServer *server, const char *conversation_uuid)
{
  PpmsConversation *conv = ppms_conversation_lookup (server, conversation_uuid);
  return conv ? conv->messages->len : 0;
}

const char *
ppms_server_user_uuid_by_email (PpmsServer *server, const char *email)
{
  PpmsUser *user = ppms_user_lookup_by_email (server, email);
  return user ? user->uuid : NULL;
}

const char *
ppms_server_app_uuid (PpmsServer *server)
{
  return server->app->uuid;
}

char *
ppms_server_enterprise_link (PpmsServer *server)
{
  g_autofree char *json = g_strdup_printf ("{\"uuid\": \"%s\"}", server->app->uuid);
  g_autofree char *encoded = g_base64_encode ((const guchar *) json, strlen (json));

  return g_strdup_printf ("%s/ppcom/enterprise/%s", ppms_server_get_url (server), encoded);
}

static const PpmsApiKey *
key_of (PpmsServer *server, const char *level)
{
  return ppms_api_key_by_level (server, level);
}

const char *
ppms_server_ppkefu_key (PpmsServer *server)
{
  const PpmsApiKey *k = key_of (server, "PPKEFU");
  return k ? k->key : NULL;
}

const char *
ppms_server_ppcom_key (PpmsServer *server)
{
  const PpmsApiKey *k = key_of (server, "PPCOM");
  return k ? k->key : NULL;
}

const char *
ppms_server_ppcom_secret (PpmsServer *server)
{
  const PpmsApiKey *k = key_of (server, "PPCOM");
  return k ? k->secret : NULL;
}

const char *
ppms_server_user_service_status (PpmsServer *server, const char *user_uuid)
{
  PpmsUser *user = ppms_user_lookup (server, user_uuid);

  if (user == NULL || user->service_user_status == NULL
      || g_str_equal (user->service_user_status, "NULL"))
    return NULL;
  return user->service_user_status;
}

char *
ppms_server_dump_data (PpmsServer *server)
{
  return ppms_seed_dump (server);
}
