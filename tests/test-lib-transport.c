/* test-lib-transport.c: visitor clients sharing one transport
 * (ppm_client_set_transport(), ppm-transport.h), as the bridge's contacts
 * do, against the test server over loopback: each signs in, sends and
 * receives its own messages; one leaving or cancelling does not touch the
 * other's requests; many of them hold one websocket each and one bounded
 * pool of HTTP connections between them (counted at the server); a
 * websocket opens while the pool is full of requests the server never
 * answers; over https, clients that trust the transport's pinned
 * certificate pass it on every connection, one that does not is refused.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "server-start.h"

#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define WAIT_MS 10000
/* Enough visitors that connections of their own would outnumber the pool
 * several times (each holds idle kept-alive connections after its sign-in). */
#define MANY 12
/* The client library, as the test server's exchange log names it. */
#define CLIENT "purple-ppmessage"

static const char team_seed[] =
  "{\"app\": {\"app_name\": \"Test Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

/* One visitor client and what it reported. */
typedef struct {
  PpmClient *client;
  GHashTable *settings;
  char *conversation;         /* its default conversation, once known */
  GPtrArray *received;        /* texts */
  guint sent;                 /* send_result without error */
  GError *send_error;
  gboolean connected;
  GError *ended;
  guint history_reads;        /* history reads answered without error */
  GError *history_error;
} Visitor;

typedef struct {
  PpmsServer *server;
  PpmTransport *transport;
  PpmsPeer *alice;
  GPtrArray *visitors;        /* Visitor* */
  guint peak_http_connections;
} Fixture;

/* ---- Events ---- */

static void
on_connected (gpointer data)
{
  ((Visitor *) data)->connected = TRUE;
}

static void
on_disconnected (gpointer data, const GError *error)
{
  Visitor *visitor = data;

  if (error != NULL && visitor->ended == NULL)
    visitor->ended = g_error_copy (error);
}

static void
on_conversation (gpointer data, const PpmConversation *conversation)
{
  Visitor *visitor = data;

  if (visitor->conversation == NULL)
    visitor->conversation = g_strdup (conversation->uuid);
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  g_ptr_array_add (((Visitor *) data)->received, g_strdup (message->text));
}

static void
on_send_result (gpointer data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  Visitor *visitor = data;

  if (error == NULL)
    visitor->sent++;
  else if (visitor->send_error == NULL)
    visitor->send_error = g_error_copy (error);
}

static void
on_save_setting (gpointer data, const char *key, const char *value)
{
  Visitor *visitor = data;

  if (value == NULL)
    g_hash_table_remove (visitor->settings, key);
  else
    g_hash_table_replace (visitor->settings, g_strdup (key), g_strdup (value));
}

static char *
on_load_setting (gpointer data, const char *key)
{
  return g_strdup (g_hash_table_lookup (((Visitor *) data)->settings, key));
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .disconnected = on_disconnected,
  .conversation_changed = on_conversation,
  .message = on_message,
  .send_result = on_send_result,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
};

static void
on_history (gpointer data, const char *conversation_uuid, GPtrArray *messages,
            gboolean reached_start, const GError *error)
{
  Visitor *visitor = data;

  if (error == NULL)
    visitor->history_reads++;
  else if (visitor->history_error == NULL)
    visitor->history_error = g_error_copy (error);
}

/* ---- Visitors ---- */

static void
visitor_free (Visitor *visitor)
{
  if (visitor->client != NULL)
    ppm_client_free (visitor->client);
  g_hash_table_unref (visitor->settings);
  g_free (visitor->conversation);
  g_ptr_array_unref (visitor->received);
  g_clear_error (&visitor->send_error);
  g_clear_error (&visitor->ended);
  g_clear_error (&visitor->history_error);
  g_free (visitor);
}

/* A visitor of the team on the fixture's shared transport, connecting. */
static Visitor *
visitor_start_pinned (Fixture *f, const char *terminal, const char *pin)
{
  g_autofree char *link = ppms_server_enterprise_link (f->server);
  PpmClientConfig config = {
    .server_url = link,
    .role = PPM_ROLE_VISITOR,
    .terminal = terminal,
    .device_name = "test-lib-transport",
    .pinned_certificate = pin,
  };
  /* Repairs come at once: no test waits for a back-off. */
  PpmReconnectPolicy policy = { 10, 100, 0, 0 };
  Visitor *visitor = g_new0 (Visitor, 1);
  g_autoptr (GError) error = NULL;

  visitor->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  visitor->received = g_ptr_array_new_with_free_func (g_free);
  visitor->client = ppm_client_new (&config, &events, visitor);
  ppm_client_set_transport (visitor->client, f->transport);
  ppm_client_set_reconnect_policy (visitor->client, &policy);
  /* Requests the server holds must not end by a timeout during a test. */
  ppm_client_set_request_timeout (visitor->client, 120000);
  g_assert_true (ppm_client_connect (visitor->client, &error));
  g_assert_no_error (error);
  g_ptr_array_add (f->visitors, visitor);
  return visitor;
}

static Visitor *
visitor_start (Fixture *f, const char *terminal)
{
  return visitor_start_pinned (f, terminal, NULL);
}

static void
note_peak (Fixture *f)
{
  f->peak_http_connections = MAX (f->peak_http_connections,
                                  ppms_server_count_http_connections (f->server, CLIENT));
}

static gboolean
all_connected (Fixture *f)
{
  note_peak (f);
  for (guint i = 0; i < f->visitors->len; i++) {
    Visitor *visitor = f->visitors->pdata[i];

    g_assert_no_error (visitor->ended);
    if (!visitor->connected || visitor->conversation == NULL)
      return FALSE;
  }
  return TRUE;
}

static gboolean
has_received (Visitor *visitor, const char *text)
{
  for (guint i = 0; i < visitor->received->len; i++)
    if (g_strcmp0 (visitor->received->pdata[i], text) == 0)
      return TRUE;
  return FALSE;
}

/* The visitor writes to the team, the agent answers; each side gets it. */
static void
exchange (Fixture *f, Visitor *visitor, const char *question, const char *answer)
{
  guint sent = visitor->sent;

  g_free (ppm_client_send_text (visitor->client, visitor->conversation, question));
  g_assert_true (PPMS_WAIT_FOR (visitor->sent > sent || visitor->send_error, WAIT_MS));
  g_assert_no_error (visitor->send_error);
  g_assert_nonnull (ppms_peer_wait_message (f->alice, question, WAIT_MS));
  g_free (ppms_peer_send_text (f->alice, visitor->conversation, answer));
  g_assert_true (PPMS_WAIT_FOR (has_received (visitor, answer), WAIT_MS));
}

/* ---- Fixture ---- */

static char *
file_fingerprint (const char *name)
{
  g_autofree char *path = ppms_test_tls_file (name);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = g_tls_certificate_new_from_file (path, &error);

  g_assert_no_error (error);
  return ppm_tls_certificate_fingerprint (certificate);
}

/* data "tls": the server speaks https and wss with a self-signed
 * certificate, which the transport trusts (pinned); there is no agent
 * then (the test peers speak no TLS). */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  gboolean tls = g_strcmp0 (data, "tls") == 0;
  g_autofree char *pin = tls ? file_fingerprint ("server-self-signed.pem") : NULL;
  g_autofree char *cert = ppms_test_tls_file ("server-self-signed.pem");
  g_autofree char *key = ppms_test_tls_file ("server-self-signed.key");
  g_autoptr (GError) error = NULL;

  f->server = tls ? server_start_tls_with_seed (team_seed, cert, key)
                  : server_start_with_seed (team_seed);
  f->transport = ppm_transport_new (pin);
  f->visitors = g_ptr_array_new_with_free_func ((GDestroyNotify) visitor_free);
  if (tls)
    return;
  f->alice = ppms_peer_new_agent (ppms_server_get_url (f->server),
                                  ppms_server_ppkefu_key (f->server), AGENT_EMAIL,
                                  AGENT_PASSWORD, NULL);
  g_assert_true (ppms_peer_start_sync (f->alice, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  ppms_server_clear_faults (f->server);
  ppms_server_reset_stalled_requests (f->server);
  g_ptr_array_unref (f->visitors);
  ppm_transport_unref (f->transport);
  g_clear_pointer (&f->alice, ppms_peer_free);
  ppms_server_free (f->server);
}

/* ---- Tests ---- */

static void
test_two_share (Fixture *f, gconstpointer data)
{
  Visitor *anna = visitor_start (f, "terminal-anna");
  Visitor *ben = visitor_start (f, "terminal-ben");

  g_assert_true (PPMS_WAIT_FOR (all_connected (f), WAIT_MS));
  g_assert_cmpstr (anna->conversation, !=, ben->conversation);
  exchange (f, anna, "anna asks", "answer for anna");
  exchange (f, ben, "ben asks", "answer for ben");
  /* Each got its own answer only. */
  g_assert_cmpuint (anna->received->len, ==, 1);
  g_assert_cmpuint (ben->received->len, ==, 1);

  /* Both have a request in flight when Anna cancels hers by leaving. */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_DELAY, "PP_PAGE_HISTORY_MESSAGE", 1.0, 300,
                              0);
  ppm_client_read_history (anna->client, anna->conversation, NULL, 10, on_history, anna);
  ppm_client_read_history (ben->client, ben->conversation, NULL, 10, on_history, ben);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_requests (f->server, "PP_PAGE_HISTORY_MESSAGE")
                                == 2, WAIT_MS));
  ppm_client_disconnect (anna->client);
  g_clear_pointer (&anna->client, ppm_client_free);
  g_assert_true (PPMS_WAIT_FOR (ben->history_reads == 1 || ben->history_error, WAIT_MS));
  g_assert_no_error (ben->history_error);
  g_assert_cmpuint (anna->history_reads, ==, 0);
  ppms_server_clear_faults (f->server);

  /* Ben goes on over the same connections. */
  exchange (f, ben, "ben again", "second answer for ben");
  g_assert_no_error (ben->ended);
  g_assert_true (ppm_client_get_self (ben->client) != NULL);
}

static void
test_many_bounded (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < MANY; i++) {
    g_autofree char *terminal = g_strdup_printf ("terminal-%u", i);

    visitor_start (f, terminal);
  }
  g_assert_true (PPMS_WAIT_FOR (all_connected (f), WAIT_MS));
  /* One websocket each, plus the agent's. */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == MANY + 1, WAIT_MS));
  /* The pool: at most its per-host bound once the server saw the closes
   * libsoup made to stay within it, never more than its overall bound. */
  g_assert_cmpuint (f->peak_http_connections, <=, 2 * PPM_TRANSPORT_HTTP_CONNS_PER_HOST);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_http_connections (f->server, CLIENT)
                                <= PPM_TRANSPORT_HTTP_CONNS_PER_HOST, WAIT_MS));
  /* And each still works. */
  exchange (f, f->visitors->pdata[0], "first of many", "answer to the first");
  exchange (f, f->visitors->pdata[MANY - 1], "last of many", "answer to the last");
}

static void
test_socket_not_behind_pool (Fixture *f, gconstpointer data)
{
  Visitor *anna = visitor_start (f, "terminal-anna");
  guint opened;

  g_assert_true (PPMS_WAIT_FOR (all_connected (f), WAIT_MS));
  /* Twice as many reads as the pool has connections, none answered: the
   * pool is full and requests wait for it. */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, "PP_PAGE_HISTORY_MESSAGE", 1.0, 0,
                              0);
  for (guint i = 0; i < 2 * PPM_TRANSPORT_HTTP_CONNS_PER_HOST; i++)
    ppm_client_read_history (anna->client, anna->conversation, NULL, 10, on_history, anna);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_requests (f->server, "PP_PAGE_HISTORY_MESSAGE")
                                == PPM_TRANSPORT_HTTP_CONNS_PER_HOST, WAIT_MS));
  /* The socket is lost; its repair opens a new one at once, and the
   * server accepts the session on it. */
  opened = ppms_server_count_websockets_opened (f->server);
  ppms_server_set_logging (f->server, TRUE);
  ppms_server_set_fault_target (f->server, CLIENT);
  ppms_server_drop_websockets (f->server);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_log_count (f->server, CLIENT,
                                                       "<= ws ACK what=AUTH code=0") == 1,
                                WAIT_MS));
  g_assert_cmpuint (ppms_server_count_websockets_opened (f->server), ==, opened + 1);
  g_assert_cmpuint (anna->history_reads, ==, 0);
  g_assert_no_error (anna->ended);
}

static void
test_pinned (Fixture *f, gconstpointer data)
{
  g_autofree char *pin = file_fingerprint ("server-self-signed.pem");
  g_autofree char *link = ppms_server_enterprise_link (f->server);
  PpmClientConfig config = { .server_url = link, .role = PPM_ROLE_VISITOR };
  PpmClient *stranger;
  g_autoptr (GError) error = NULL;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_test_skip ("no GIO TLS backend (glib-networking) installed");
    return;
  }
  /* Both trust what the transport trusts: their requests and websockets
   * pass the certificate, whoever's request opened the connection. */
  visitor_start_pinned (f, "terminal-anna", pin);
  visitor_start_pinned (f, "terminal-ben", pin);
  g_assert_true (PPMS_WAIT_FOR (all_connected (f), WAIT_MS));
  /* A client that does not trust it may not ride on those connections. */
  stranger = ppm_client_new (&config, NULL, NULL);
  ppm_client_set_transport (stranger, f->transport);
  g_assert_false (ppm_client_connect (stranger, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_SETTINGS);
  ppm_client_free (stranger);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lib/transport/two-share", Fixture, NULL, fixture_set_up, test_two_share,
              fixture_tear_down);
  g_test_add ("/lib/transport/many-bounded", Fixture, NULL, fixture_set_up, test_many_bounded,
              fixture_tear_down);
  g_test_add ("/lib/transport/socket-not-behind-pool", Fixture, NULL, fixture_set_up,
              test_socket_not_behind_pool, fixture_tear_down);
  g_test_add ("/lib/transport/pinned", Fixture, "tls", fixture_set_up, test_pinned,
              fixture_tear_down);
  return g_test_run ();
}
