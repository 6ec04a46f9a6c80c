/* ppm-api.c: the REST caller (see ppm-api.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-api.h"
#include "ppm-json.h"
#include "ppm-redact.h"
#include "ppm-tls.h"

#include <glib/gi18n-lib.h>
#include <stdarg.h>
#include <string.h>

/* API error codes that mean "this token is not (or no longer) valid". */
#define API_ERR_NO_ACCESS_TOKEN 3
#define API_ERR_WRONG_ACCESS_TOKEN 4

struct _PpmApi {
  PpmTransport *transport;
  PpmTlsWatch *tls_watch;     /* decides on each request's certificate, or NULL */
  char *base_url;
  gboolean secure;
  char *token;
  guint timeout_ms;
  /* The request envelope (the protocol document's "common request
   * envelope"): who asks, from which device, in which team. */
  char *app_uuid;
  char *user_uuid;
  char *device_uuid;
};

typedef enum {
  REQUEST_API,
  REQUEST_TOKEN,
  REQUEST_GET,
} RequestKind;

/* One request in flight. It holds its own references so that it may finish
 * after the PpmApi is gone (the callback then only sees a cancellation). */
typedef struct {
  RequestKind kind;
  char *what;                 /* for logs and messages: "PPKEFU_LOGIN", "/ppauth/token" */
  SoupSession *session;
  PpmTransportTurn *turn;     /* its place among the transport's requests */
  SoupMessage *message;
  GCancellable *cancellable;  /* this request's own */
  GCancellable *parent;       /* the caller's, linked to ours */
  gulong parent_handler;
  guint timeout_id;
  gboolean timed_out;
  PpmApiCallback callback;
  PpmApiBytesCallback bytes_callback;
  gpointer user_data;
  gsize max_bytes;
  GInputStream *stream;       /* the body being read */
  GByteArray *received;
} Request;

/* ---- Base URL ---- */

static char *
normalised_base_url (const char *server_url, gboolean *secure, GError **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (server_url ? server_url : ""));
  g_autoptr (GUri) uri = NULL;
  g_autofree char *path = NULL;
  const char *scheme, *host;

  if (*trimmed == '\0') {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SETTINGS, _("The server URL is empty"));
    return NULL;
  }
  uri = g_uri_parse (trimmed, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)) {
    g_set_error (error, PPM_ERROR, PPM_ERROR_SETTINGS,
                 _("The server URL \"%s\" must start with http:// or https://"), trimmed);
    return NULL;
  }
  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0') {
    g_set_error (error, PPM_ERROR, PPM_ERROR_SETTINGS,
                 _("The server URL \"%s\" has no host name"), trimmed);
    return NULL;
  }
  *secure = g_ascii_strcasecmp (scheme, "https") == 0;
  path = g_strdup (g_uri_get_path (uri));
  while (*path && path[strlen (path) - 1] == '/')
    path[strlen (path) - 1] = '\0';
  return g_uri_join (G_URI_FLAGS_NONE, *secure ? "https" : "http", NULL, host,
                     g_uri_get_port (uri), path, NULL, NULL);
}

PpmApi *
ppm_api_new (const char *server_url, GError **error)
{
  g_autoptr (PpmTransport) transport = ppm_transport_new (NULL);

  return ppm_api_new_with_transport (server_url, transport, error);
}

PpmApi *
ppm_api_new_with_transport (const char *server_url, PpmTransport *transport, GError **error)
{
  gboolean secure = FALSE;
  char *base_url = normalised_base_url (server_url, &secure, error);
  PpmApi *api;

  if (base_url == NULL)
    return NULL;
  api = g_new0 (PpmApi, 1);
  api->base_url = base_url;
  api->secure = secure;
  api->timeout_ms = PPM_API_DEFAULT_TIMEOUT_MS;
  api->transport = ppm_transport_ref (transport);
  return api;
}

PpmApi *
ppm_api_copy (PpmApi *api)
{
  PpmApi *copy = g_new0 (PpmApi, 1);

  copy->base_url = g_strdup (api->base_url);
  copy->secure = api->secure;
  copy->token = g_strdup (api->token);
  copy->timeout_ms = api->timeout_ms;
  ppm_api_set_envelope (copy, api->app_uuid, api->user_uuid, api->device_uuid);
  copy->transport = ppm_transport_ref (api->transport);
  ppm_api_set_tls_watch (copy, api->tls_watch);
  return copy;
}

void
ppm_api_free (PpmApi *api)
{
  if (api == NULL)
    return;
  g_clear_pointer (&api->transport, ppm_transport_unref);
  g_clear_pointer (&api->tls_watch, ppm_tls_watch_unref);
  g_free (api->base_url);
  g_free (api->token);
  g_free (api->app_uuid);
  g_free (api->user_uuid);
  g_free (api->device_uuid);
  g_free (api);
}

void
ppm_api_set_envelope (PpmApi *api, const char *app_uuid, const char *user_uuid,
                      const char *device_uuid)
{
  char *app = g_strdup (app_uuid), *user = g_strdup (user_uuid), *device = g_strdup (device_uuid);

  g_free (api->app_uuid);
  g_free (api->user_uuid);
  g_free (api->device_uuid);
  api->app_uuid = app;
  api->user_uuid = user;
  api->device_uuid = device;
}

JsonObject *
ppm_api_new_body (PpmApi *api)
{
  JsonObject *body = json_object_new ();

  if (api->app_uuid)
    json_object_set_string_member (body, "app_uuid", api->app_uuid);
  if (api->user_uuid)
    json_object_set_string_member (body, "user_uuid", api->user_uuid);
  if (api->device_uuid)
    json_object_set_string_member (body, "device_uuid", api->device_uuid);
  return body;
}

const char *
ppm_api_get_base_url (PpmApi *api)
{
  return api->base_url;
}

char *
ppm_api_get_ws_url (PpmApi *api)
{
  /* base_url starts with "http" in both cases: swap the scheme's prefix. */
  return g_strconcat (api->secure ? "wss" : "ws", api->base_url + (api->secure ? 5 : 4),
                      "/pcsocket/WS", NULL);
}

SoupSession *
ppm_api_get_session (PpmApi *api)
{
  return ppm_transport_get_http_session (api->transport);
}

PpmTransport *
ppm_api_get_transport (PpmApi *api)
{
  return api->transport;
}

void
ppm_api_set_tls_watch (PpmApi *api, PpmTlsWatch *watch)
{
  ppm_tls_watch_replace (&api->tls_watch, watch);
}

void
ppm_api_set_token (PpmApi *api, const char *access_token)
{
  g_free (api->token);
  api->token = g_strdup (access_token);
}

const char *
ppm_api_get_token (PpmApi *api)
{
  return api->token;
}

void
ppm_api_set_timeout (PpmApi *api, guint milliseconds)
{
  api->timeout_ms = milliseconds > 0 ? milliseconds : PPM_API_DEFAULT_TIMEOUT_MS;
}

/* ---- Helpers ---- */

char *
ppm_password_sha1 (const char *password)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA1, password ? password : "", -1);
}

char *
ppm_form_encode (const char *first_name, ...)
{
  GString *form = g_string_new (NULL);
  const char *name = first_name;
  va_list args;

  va_start (args, first_name);
  while (name != NULL) {
    const char *value = va_arg (args, const char *);
    g_autofree char *escaped = g_uri_escape_string (value ? value : "", NULL, FALSE);

    if (form->len > 0)
      g_string_append_c (form, '&');
    g_string_append_printf (form, "%s=%s", name, escaped);
    name = va_arg (args, const char *);
  }
  va_end (args);
  return g_string_free (form, FALSE);
}

/* ---- Requests ---- */

static void
request_free (Request *request)
{
  if (request->timeout_id)
    g_source_remove (request->timeout_id);
  if (request->parent_handler)
    g_cancellable_disconnect (request->parent, request->parent_handler);
  g_clear_object (&request->parent);
  g_clear_pointer (&request->turn, ppm_transport_end_turn);
  g_clear_object (&request->cancellable);
  g_clear_object (&request->message);
  g_clear_object (&request->session);
  g_clear_object (&request->stream);
  g_clear_pointer (&request->received, g_byte_array_unref);
  g_free (request->what);
  g_free (request);
}

static gboolean
on_request_timeout (gpointer data)
{
  Request *request = data;

  request->timeout_id = 0;
  request->timed_out = TRUE;
  g_cancellable_cancel (request->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_parent_cancelled (GCancellable *parent, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static void
finish (Request *request, JsonObject *answer, GBytes *body, GError *error)
{
  if (error != NULL && !ppm_error_is_cancelled (error))
    g_debug ("%s failed: %s", request->what, error->message);
  if (request->kind == REQUEST_GET) {
    if (request->bytes_callback)
      request->bytes_callback (body, error, request->user_data);
  } else if (request->callback) {
    request->callback (answer, error, request->user_data);
  }
}

static GError *
transport_error (Request *request, const GError *error)
{
  if (ppm_error_is_cancelled (error)) {
    if (request->timed_out)
      return g_error_new (PPM_ERROR, PPM_ERROR_NETWORK, _("%s: the server did not answer in time"),
                          request->what);
    return g_error_copy (error);
  }
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    return g_error_new (PPM_ERROR, PPM_ERROR_CERTIFICATE,
                        _("%s: the server's certificate is not trusted (%s)"), request->what,
                        error->message);
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new (PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                        _("%s: the server did not answer as a PPMessage server (%s)"),
                        request->what, error->message);
  return g_error_new (PPM_ERROR, PPM_ERROR_NETWORK, "%s: %s", request->what, error->message);
}

/* The error for a non-2xx status, per kind of request. */
static GError *
status_error (Request *request, guint status)
{
  if (status >= 500)
    return g_error_new (PPM_ERROR, PPM_ERROR_PROTOCOL, _("%s: server error (HTTP %u)"),
                        request->what, status);
  if (request->kind == REQUEST_TOKEN && status == 400)
    return g_error_new (PPM_ERROR, PPM_ERROR_AUTH, _("The server refused the API key (HTTP 400)"));
  return g_error_new (PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                      _("%s: unexpected answer (HTTP %u); is this a PPMessage server?"),
                      request->what, status);
}

static void
log_answer (Request *request, guint status, GBytes *body)
{
  gsize size = 0;
  const char *data = body ? g_bytes_get_data (body, &size) : NULL;
  g_autofree char *text = NULL;
  g_autofree char *redacted = NULL;

  if (request->kind == REQUEST_GET) {
    g_debug ("<- %s HTTP %u, %" G_GSIZE_FORMAT " bytes", request->what, status, size);
    return;
  }
  if (!ppm_log_bodies_wanted ()) {
    g_debug ("<- %s HTTP %u", request->what, status);
    return;
  }
  text = g_strndup (data ? data : "", size);
  redacted = ppm_redact (text);
  g_debug ("<- %s HTTP %u %s", request->what, status, redacted);
}

/* The envelope of an /api answer. */
static GError *
api_envelope_error (const char *what, JsonObject *answer)
{
  gint64 code;

  if (!ppm_json_get_int (answer, "error_code", &code, NULL))
    return g_error_new (PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                        _("%s: the answer has no error_code; is this a PPMessage server?"),
                        what);
  if (code == 0)
    return NULL;
  if (code == API_ERR_NO_ACCESS_TOKEN || code == API_ERR_WRONG_ACCESS_TOKEN)
    return g_error_new (PPM_ERROR, PPM_ERROR_TOKEN_REFUSED,
                        _("%s: the server refused the access token"), what);
  return g_error_new (PPM_ERROR, PPM_ERROR_API, _("%s: %s (error %lld)"), what,
                      ppm_json_opt_string (answer, "error_string") ?: _("no reason given"),
                      (long long) code);
}

static GError *
token_envelope_error (const char *what, JsonObject *answer)
{
  gint64 code = 0;

  if (ppm_json_get_int (answer, "error_code", &code, NULL) && code != 0)
    return g_error_new_literal (PPM_ERROR, PPM_ERROR_AUTH, _("Wrong e-mail or password"));
  if (ppm_json_opt_nonempty (answer, "access_token") == NULL)
    return g_error_new (PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                        _("%s: the answer has no access token; is this a PPMessage server?"),
                        what);
  return NULL;
}

static JsonObject *
parse_envelope (const char *what, const char *text, gsize size, gboolean token,
                GError **error)
{
  JsonObject *answer = ppm_json_parse_object (text, (gssize) size, NULL);
  GError *local;

  if (answer == NULL) {
    g_set_error (error, PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                 _("%s: the answer is not JSON; is this a PPMessage server?"), what);
    return NULL;
  }
  local = token ? token_envelope_error (what, answer) : api_envelope_error (what, answer);
  if (local)
    g_propagate_error (error, local);
  return answer;
}

JsonObject *
ppm_api_parse_answer (const char *what, const char *text, gsize size, GError **error)
{
  return parse_envelope (what, text, size, FALSE, error);
}

JsonObject *
ppm_api_parse_token_answer (const char *text, gsize size, GError **error)
{
  return parse_envelope ("/ppauth/token", text, size, TRUE, error);
}

/* The whole answer is at hand (body) or the request failed (local). */
static void
complete_request (Request *request, GBytes *body, const GError *local)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) cancelled = NULL;
  g_autoptr (JsonObject) answer = NULL;
  guint status;
  gsize size = 0;
  const char *text;

  if (body != NULL && !request->timed_out && g_cancellable_is_cancelled (request->cancellable)) {
    /* Answered, but the caller gave up meanwhile: it must not see the answer. */
    body = NULL;
    cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
    local = cancelled;
  }
  if (body == NULL) {
    error = local->domain == G_IO_ERROR && local->code == G_IO_ERROR_MESSAGE_TOO_LARGE
              ? g_error_copy (local) : transport_error (request, local);
    finish (request, NULL, NULL, error);
    request_free (request);
    return;
  }
  status = soup_message_get_status (request->message);
  log_answer (request, status, body);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    error = status_error (request, status);
    finish (request, NULL, NULL, error);
    request_free (request);
    return;
  }
  if (request->kind == REQUEST_GET) {
    finish (request, NULL, body, NULL);
    request_free (request);
    return;
  }
  text = g_bytes_get_data (body, &size);
  answer = parse_envelope (request->what, text, size, request->kind == REQUEST_TOKEN, &error);
  finish (request, answer, NULL, error);
  request_free (request);
}

static void read_more (Request *request);

static void
on_body_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *request = data;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source),
                                                               result, &local);
  gsize size;

  if (chunk == NULL) {
    complete_request (request, NULL, local);
    return;
  }
  size = g_bytes_get_size (chunk);
  if (size == 0) {
    g_autoptr (GBytes) body = g_byte_array_free_to_bytes (g_steal_pointer (&request->received));

    complete_request (request, body, NULL);
    return;
  }
  if (request->received->len + size > request->max_bytes) {
    local = g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                         _("%s: the answer is larger than %zu bytes"), request->what,
                         (size_t) request->max_bytes);
    g_cancellable_cancel (request->cancellable);  /* drops the connection */
    complete_request (request, NULL, local);
    return;
  }
  g_byte_array_append (request->received, g_bytes_get_data (chunk, NULL), size);
  read_more (request);
}

static void
read_more (Request *request)
{
  g_input_stream_read_bytes_async (request->stream, 65536, G_PRIORITY_DEFAULT,
                                   request->cancellable, on_body_read, request);
}

static void
on_request_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *request = data;
  g_autoptr (GError) local = NULL;

  request->stream = soup_session_send_finish (SOUP_SESSION (source), result, &local);
  if (request->stream == NULL) {
    complete_request (request, NULL, local);
    return;
  }
  request->received = g_byte_array_new ();
  read_more (request);
}

static void
send_now (gpointer data)
{
  Request *request = data;

  soup_session_send_async (request->session, request->message, G_PRIORITY_DEFAULT,
                           request->cancellable, on_request_sent, request);
}

static void
start_request (PpmApi *api, Request *request, GCancellable *cancellable)
{
  request->session = g_object_ref (ppm_api_get_session (api));
  request->cancellable = g_cancellable_new ();
  if (request->max_bytes == 0)
    request->max_bytes = PPM_API_MAX_ANSWER_BYTES;
  if (cancellable != NULL) {
    request->parent = g_object_ref (cancellable);
    request->parent_handler = g_cancellable_connect (cancellable,
                                                     G_CALLBACK (on_parent_cancelled),
                                                     g_object_ref (request->cancellable),
                                                     g_object_unref);
  }
  request->timeout_id = g_timeout_add (api->timeout_ms, on_request_timeout, request);
  ppm_tls_watch_message (api->tls_watch, request->message);
  request->turn = ppm_transport_wait_turn (api->transport, request->cancellable, send_now,
                                           request);
}

static SoupMessage *
new_post (PpmApi *api, const char *path, const char *content_type, const char *body)
{
  g_autofree char *url = g_strconcat (api->base_url, path, NULL);
  SoupMessage *message = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

  if (message == NULL)
    return NULL;
  soup_message_set_request_body_from_bytes (message, content_type, bytes);
  return message;
}

/* A request whose URL could not be built still answers asynchronously. */
static gboolean
fail_later (gpointer data)
{
  Request *request = data;
  g_autoptr (GError) error = g_error_new (PPM_ERROR, PPM_ERROR_SETTINGS,
                                          _("%s: invalid request URL"), request->what);

  finish (request, NULL, NULL, error);
  request_free (request);
  return G_SOURCE_REMOVE;
}

static void
dispatch (PpmApi *api, Request *request, GCancellable *cancellable)
{
  if (request->message == NULL) {
    g_idle_add (fail_later, request);
    return;
  }
  start_request (api, request, cancellable);
}

/* libsoup sends a POST on a new connection each time unless it is told the
 * call is idempotent: a TCP handshake and a server-side accept per call
 * (1,000 a sign-in with 1,000 conversations). Reads and acknowledgements
 * may share kept-alive connections; libsoup may send them again when a
 * reused connection turns out closed, which is harmless for them, and never
 * does for the calls that create or change something. */
static gboolean
call_is_idempotent (const char *name)
{
  return strstr (name, "_GET_") != NULL || strstr (name, "_PAGE_") != NULL ||
         g_str_equal (name, "ACK_MESSAGE");
}

void
ppm_api_call (PpmApi *api, const char *name, JsonObject *body, GCancellable *cancellable,
              PpmApiCallback callback, gpointer user_data)
{
  Request *request = g_new0 (Request, 1);
  g_autofree char *path = g_strconcat ("/api/", name, NULL);
  g_autofree char *json = ppm_json_object_to_string (body);
  g_autofree char *redacted = ppm_log_bodies_wanted () ? ppm_redact (json) : NULL;

  request->kind = REQUEST_API;
  request->what = g_strdup (name);
  request->callback = callback;
  request->user_data = user_data;
  request->message = new_post (api, path, "application/json", json);
  if (request->message != NULL && api->token != NULL) {
    g_autofree char *authorization = g_strconcat ("OAuth ", api->token, NULL);

    soup_message_headers_replace (soup_message_get_request_headers (request->message),
                                  "Authorization", authorization);
  }
  if (request->message != NULL && call_is_idempotent (name))
    soup_message_add_flags (request->message, SOUP_MESSAGE_IDEMPOTENT);
  g_debug ("-> %s %s", name, redacted ? redacted : "");
  dispatch (api, request, cancellable);
}

static void
token_request (PpmApi *api, char *form, GCancellable *cancellable,
               PpmApiCallback callback, gpointer user_data)
{
  Request *request = g_new0 (Request, 1);
  g_autofree char *redacted = ppm_redact (form);

  request->kind = REQUEST_TOKEN;
  request->what = g_strdup ("/ppauth/token");
  request->callback = callback;
  request->user_data = user_data;
  request->message = new_post (api, "/ppauth/token", "application/x-www-form-urlencoded", form);
  g_debug ("-> /ppauth/token %s", redacted);
  memset (form, 0, strlen (form));
  g_free (form);
  dispatch (api, request, cancellable);
}

void
ppm_api_token_password (PpmApi *api, const char *api_key, const char *email,
                        const char *password, GCancellable *cancellable,
                        PpmApiCallback callback, gpointer user_data)
{
  g_autofree char *hash = ppm_password_sha1 (password);

  token_request (api, ppm_form_encode ("grant_type", "password", "user_email", email,
                                       "user_password", hash, "client_id", api_key, NULL),
                 cancellable, callback, user_data);
}

void
ppm_api_token_client (PpmApi *api, const char *api_key, const char *api_secret,
                      GCancellable *cancellable, PpmApiCallback callback, gpointer user_data)
{
  token_request (api, ppm_form_encode ("grant_type", "client_credentials", "client_id", api_key,
                                       "client_secret", api_secret, NULL),
                 cancellable, callback, user_data);
}

void
ppm_api_get (PpmApi *api, const char *path, GCancellable *cancellable,
             PpmApiBytesCallback callback, gpointer user_data)
{
  ppm_api_get_limited (api, path, PPM_API_MAX_ANSWER_BYTES, cancellable, callback, user_data);
}

void
ppm_api_get_limited (PpmApi *api, const char *path, gsize max_bytes,
                     GCancellable *cancellable, PpmApiBytesCallback callback,
                     gpointer user_data)
{
  Request *request = g_new0 (Request, 1);
  g_autofree char *url = g_strconcat (api->base_url, path, NULL);

  request->kind = REQUEST_GET;
  request->max_bytes = max_bytes;
  request->what = g_strdup (path);
  request->bytes_callback = callback;
  request->user_data = user_data;
  request->message = soup_message_new (SOUP_METHOD_GET, url);
  g_debug ("-> GET %s", path);
  dispatch (api, request, cancellable);
}
