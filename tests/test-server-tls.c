/* test-server-tls.c: the test server over TLS (ppms_server_listen_tls) with a
 * real libsoup client: a self-signed certificate, or one signed by a test CA
 * that the default trust store does not know, is refused with an unknown-CA
 * error; with the test CA in a GTlsFileDatabase, https /api calls and a wss
 * auth succeed. Certificates: tests/data/tls/ (test-only keys).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "ppm-test-server.h"
#include "ppms-internal.h"   /* device look-up by terminal */

#define TIMEOUT_MS 10000

static PpmsServer *
tls_server (const char *cert, const char *key)
{
  g_autofree char *cert_path = ppms_test_tls_file (cert), *key_path = ppms_test_tls_file (key);
  g_autoptr (GError) error = NULL;
  PpmsServer *server = ppms_server_new (NULL, &error);

  g_assert_no_error (error);
  g_assert_true (ppms_server_listen_tls (server, 0, cert_path, key_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (ppms_server_get_url (server), "https://127.0.0.1:"));
  return server;
}

/* A session trusting only the test CA. */
static SoupSession *
session_trusting_test_ca (void)
{
  g_autofree char *ca = ppms_test_tls_file ("ca.pem");
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) database = g_tls_file_database_new (ca, &error);
  SoupSession *session = soup_session_new ();

  g_assert_no_error (error);
  soup_session_set_tls_database (session, database);
  return session;
}

static gboolean
timed_out_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_for (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (TIMEOUT_MS, timed_out_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

/* ---- HTTPS requests ---- */

typedef struct {
  GBytes *body;
  GError *error;
  guint status;
  GTlsCertificateFlags refused;   /* errors seen by accept-certificate */
  gboolean asked;
  gboolean done;
} Reply;

static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer data)
{
  Reply *r = data;

  r->asked = TRUE;
  r->refused = errors;
  return FALSE;   /* never accept a certificate the database did not */
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  Reply *r = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &r->error);
  r->status = soup_message_get_status (msg);
  r->done = TRUE;
}

/* POST (body non-NULL) or GET path. */
static void
post (SoupSession *session, PpmsServer *server, const char *path, const char *content_type,
      const char *body, const char *token, Reply *r)
{
  g_autofree char *url = g_strconcat (ppms_server_get_url (server), path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (body ? "POST" : "GET", url);

  memset (r, 0, sizeof *r);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }
  if (token != NULL)
    {
      g_autofree char *auth = g_strconcat ("OAuth ", token, NULL);
      soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), r);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, r);
  wait_for (&r->done);
}

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_error (&r->error);
}

static JsonObject *
reply_object (Reply *r)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size;
  const char *data;

  g_assert_no_error (r->error);
  g_assert_cmpuint (r->status, ==, 200);
  data = g_bytes_get_data (r->body, &size);
  g_assert_true (json_parser_load_from_data (parser, data, size, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* Asserts that the request was refused for an unknown issuer. */
static void
assert_refused_unknown_ca (Reply *r)
{
  g_assert_error (r->error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_true (r->asked);
  g_assert_true (r->refused & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_null (r->body);
}

static void
assert_default_database_refuses (const char *cert, const char *key)
{
  PpmsServer *server = tls_server (cert, key);
  g_autoptr (SoupSession) session = soup_session_new ();
  Reply r;

  post (session, server, "/api/PP_GET_APP_INFO", "application/json", "{}", NULL, &r);
  assert_refused_unknown_ca (&r);
  reply_clear (&r);
  /* Nothing was accepted behind the refusal: no token was issued either. */
  post (session, server, "/ppauth/token", "application/x-www-form-urlencoded",
        "grant_type=client_credentials", NULL, &r);
  assert_refused_unknown_ca (&r);
  reply_clear (&r);
  ppms_server_free (server);
}

static void
test_self_signed_refused (void)
{
  assert_default_database_refuses ("server-self-signed.pem", "server-self-signed.key");
}

static void
test_unknown_ca_refused (void)
{
  assert_default_database_refuses ("server-ca-signed.pem", "server-ca-signed.key");
}

/* The test CA does not make a self-signed certificate acceptable. */
static void
test_self_signed_refused_with_test_ca (void)
{
  PpmsServer *server = tls_server ("server-self-signed.pem", "server-self-signed.key");
  g_autoptr (SoupSession) session = session_trusting_test_ca ();
  Reply r;

  post (session, server, "/api/PP_GET_APP_INFO", "application/json", "{}", NULL, &r);
  assert_refused_unknown_ca (&r);
  reply_clear (&r);
  ppms_server_free (server);
}

/* ---- wss ---- */

typedef struct {
  SoupWebsocketConnection *conn;
  GError *error;
  GTlsCertificateFlags refused;
  gboolean asked;
  gboolean done;
  JsonObject *frame;
} Ws;

static void
ws_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Ws *ws = data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &ws->error);
  ws->done = TRUE;
}

static gboolean
ws_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer data)
{
  Ws *ws = data;

  ws->asked = TRUE;
  ws->refused = errors;
  return FALSE;
}

static void
ws_connect (SoupSession *session, PpmsServer *server, Ws *ws)
{
  g_autofree char *url = g_strdup_printf ("wss://127.0.0.1:%u/pcsocket/WS", ppms_server_get_port (server));
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);

  memset (ws, 0, sizeof *ws);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (ws_accept_certificate), ws);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        ws_connected, ws);
  wait_for (&ws->done);
}

static void
ws_on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  Ws *ws = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size;
  const char *text = g_bytes_get_data (message, &size);

  if (ws->frame == NULL && json_parser_load_from_data (parser, text, size, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    ws->frame = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gboolean
ws_has_frame (gpointer data)
{
  return ((Ws *) data)->frame != NULL;
}

static gboolean
socket_registered (gpointer data)
{
  return ppms_server_count_sockets (data) == 1;
}

static void
wait_until (gboolean (*cond) (gpointer), gpointer data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (TIMEOUT_MS, timed_out_cb, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
test_wss_refused_by_default (void)
{
  PpmsServer *server = tls_server ("server-self-signed.pem", "server-self-signed.key");
  g_autoptr (SoupSession) session = soup_session_new ();
  Ws ws;

  ws_connect (session, server, &ws);
  g_assert_null (ws.conn);
  g_assert_error (ws.error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_true (ws.asked && (ws.refused & G_TLS_CERTIFICATE_UNKNOWN_CA));
  g_clear_error (&ws.error);
  g_assert_cmpuint (ppms_server_count_sockets (server), ==, 0);
  ppms_server_free (server);
}

/* ---- With the test CA: a whole agent sign-in over https and wss ---- */

static char *
agent_token (SoupSession *session, PpmsServer *server)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, "agentpass", -1);
  g_autofree char *key = g_uri_escape_string (ppms_server_ppkefu_key (server), NULL, FALSE);
  g_autofree char *form = g_strdup_printf ("grant_type=password&user_email=agent%%40ppmessage.local"
                                           "&user_password=%s&client_id=%s", hash, key);
  g_autoptr (JsonObject) o = NULL;
  Reply r;

  post (session, server, "/ppauth/token", "application/x-www-form-urlencoded", form, NULL, &r);
  g_assert_false (r.asked);   /* the database verified the chain on its own */
  o = reply_object (&r);
  reply_clear (&r);
  g_assert_cmpint (json_object_get_int_member (o, "error_code"), ==, 0);
  return g_strdup (json_object_get_string_member (o, "access_token"));
}

static void
test_trusted_ca_https_and_wss (void)
{
  PpmsServer *server = tls_server ("server-ca-signed.pem", "server-ca-signed.key");
  g_autoptr (SoupSession) session = session_trusting_test_ca ();
  g_autofree char *token = agent_token (session, server);
  const char *agent = ppms_server_user_uuid_by_email (server, "agent@ppmessage.local");
  g_autofree char *login = g_strdup_printf ("{\"terminal\": \"tls-terminal\", \"user_email\": "
                                            "\"agent@ppmessage.local\", \"ostype\": \"LIB\"}");
  g_autofree char *auth = NULL;
  g_autoptr (JsonObject) o = NULL;
  PpmsDevice *device;
  Reply r;
  Ws ws;

  post (session, server, "/api/PPKEFU_LOGIN", "application/json", login, token, &r);
  o = reply_object (&r);
  reply_clear (&r);
  g_assert_cmpint (json_object_get_int_member (o, "error_code"), ==, 0);
  device = ppms_device_lookup_by_terminal (server, "tls-terminal");
  g_assert_nonnull (device);

  ws_connect (session, server, &ws);
  g_assert_no_error (ws.error);
  g_assert_nonnull (ws.conn);
  g_assert_false (ws.asked);
  g_signal_connect (ws.conn, "message", G_CALLBACK (ws_on_message), &ws);
  auth = g_strdup_printf ("{\"type\": \"auth\", \"api_token\": \"%s\", \"app_uuid\": \"%s\", "
                          "\"user_uuid\": \"%s\", \"device_uuid\": \"%s\", \"is_service_user\": true}",
                          token, ppms_server_app_uuid (server), agent, device->uuid);
  soup_websocket_connection_send_text (ws.conn, auth);
  wait_until (ws_has_frame, &ws);
  g_assert_cmpstr (json_object_get_string_member (ws.frame, "type"), ==, "ACK");
  g_assert_cmpstr (json_object_get_string_member (ws.frame, "what"), ==, "AUTH");
  g_assert_cmpint (json_object_get_int_member (ws.frame, "code"), ==, 0);
  wait_until (socket_registered, server);
  json_object_unref (ws.frame);
  g_signal_handlers_disconnect_by_data (ws.conn, &ws);
  soup_websocket_connection_close (ws.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (ws.conn);
  ppms_server_free (server);
}

/* The PPCom configuration advertises wss and https once TLS is on, and a
 * restart keeps TLS on the same port. */
static void
test_assets_and_restart (void)
{
  PpmsServer *server = tls_server ("server-ca-signed.pem", "server-ca-signed.key");
  g_autoptr (SoupSession) session = session_trusting_test_ca ();
  g_autofree char *wss = g_strdup_printf ("wss://127.0.0.1:%u/pcsocket/WS", ppms_server_get_port (server));
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint port = ppms_server_get_port (server);
  Reply r;

  post (session, server, "/ppcom/assets/pp-library.min.js", NULL, NULL, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  text = g_strndup (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body));
  reply_clear (&r);
  g_assert_nonnull (strstr (text, wss));
  g_assert_null (strstr (text, "ws://"));
  g_assert_null (strstr (text, "http://"));

  ppms_server_stop (server);
  g_assert_true (ppms_server_restart (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ppms_server_get_port (server), ==, port);
  g_assert_true (g_str_has_prefix (ppms_server_get_url (server), "https://"));
  post (session, server, "/ppauth/token", "application/x-www-form-urlencoded",
        "grant_type=client_credentials", NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 500);   /* the real KeyError traceback, over TLS */
  reply_clear (&r);
  ppms_server_free (server);
}

static void
test_bad_certificate_path (void)
{
  g_autoptr (GError) error = NULL;
  PpmsServer *server = ppms_server_new (NULL, &error);

  g_assert_false (ppms_server_listen_tls (server, 0, "/nonexistent/cert.pem", "/nonexistent/key.pem", &error));
  g_assert_nonnull (error);
  ppms_server_free (server);
}

static void
test_no_tls_backend (void)
{
  g_test_skip ("no GIO TLS backend (glib-networking)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_add_func ("/server-tls/no-tls-backend", test_no_tls_backend);
      return g_test_run ();
    }
  g_test_add_func ("/server-tls/self-signed-refused", test_self_signed_refused);
  g_test_add_func ("/server-tls/unknown-ca-refused", test_unknown_ca_refused);
  g_test_add_func ("/server-tls/self-signed-refused-with-test-ca", test_self_signed_refused_with_test_ca);
  g_test_add_func ("/server-tls/wss-refused-by-default", test_wss_refused_by_default);
  g_test_add_func ("/server-tls/trusted-ca-https-and-wss", test_trusted_ca_https_and_wss);
  g_test_add_func ("/server-tls/assets-and-restart", test_assets_and_restart);
  g_test_add_func ("/server-tls/bad-certificate-path", test_bad_certificate_path);
  return g_test_run ();
}
