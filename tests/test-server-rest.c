/* test-server-rest.c: the test server's HTTP side through a real libsoup
 * client on loopback: envelope rules, token grants, login/device/kick logic,
 * the distributor, conversation paging, files, assets, faults, stop/restart.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "ppms-internal.h"   /* JSON and time formatting helpers */

#define TIMEOUT_MS 10000

typedef struct {
  PpmsServer *server;
  SoupSession *session;
  const char *url;      /* a server in another process (NULL: server's url) */
} Fixture;

typedef struct {
  guint status;
  GBytes *body;
  SoupMessageHeaders *headers;
  GError *error;
  gboolean done;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_clear_error (&r->error);
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until *flag or the timeout; FALSE on timeout. */
static gboolean
wait_for (gboolean *flag, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, on_timeout, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  Reply *r = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &r->error);
  r->status = soup_message_get_status (msg);
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  r->done = TRUE;
}

static SoupMessage *
new_message (Fixture *f, const char *method, const char *path, const char *content_type,
             const char *body, gsize len, const char *auth)
{
  g_autofree char *url = g_strconcat (f->url ? f->url : ppms_server_get_url (f->server), path, NULL);
  SoupMessage *msg = soup_message_new (method, url);

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, len);
      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }
  if (auth != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  return msg;
}

static void
send_async (Fixture *f, SoupMessage *msg, Reply *r, GCancellable *cancel)
{
  memset (r, 0, sizeof *r);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, cancel, on_sent, r);
}

static void
http (Fixture *f, const char *method, const char *path, const char *content_type,
      const char *body, const char *auth, Reply *r)
{
  g_autoptr (SoupMessage) msg = new_message (f, method, path, content_type, body,
                                             body ? strlen (body) : 0, auth);
  send_async (f, msg, r, NULL);
  g_assert_true (wait_for (&r->done, TIMEOUT_MS));
}

static JsonObject *
reply_json (Reply *r)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data;

  g_assert_no_error (r->error);
  data = g_bytes_get_data (r->body, &len);
  g_assert_true (json_parser_load_from_data (parser, data, (gssize) len, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static char *
form_encode (const char *first, ...)
{
  va_list ap;
  GString *out = g_string_new (NULL);
  const char *name = first;

  va_start (ap, first);
  while (name != NULL)
    {
      const char *value = va_arg (ap, const char *);
      g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);
      g_string_append_printf (out, "%s%s=%s", out->len ? "&" : "", name, escaped);
      name = va_arg (ap, const char *);
    }
  va_end (ap);
  return g_string_free (out, FALSE);
}

static JsonObject *
token_request (Fixture *f, const char *form, guint expected_status)
{
  Reply r;
  JsonObject *o = NULL;

  http (f, "POST", "/ppauth/token", "application/x-www-form-urlencoded", form, NULL, &r);
  g_assert_cmpuint (r.status, ==, expected_status);
  if (expected_status == 200)
    o = reply_json (&r);
  reply_clear (&r);
  return o;
}

static char *
agent_token (Fixture *f)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, "agentpass", -1);
  g_autofree char *form = form_encode ("grant_type", "password", "user_email", "agent@ppmessage.local",
                                       "user_password", hash, "client_id", ppms_server_ppkefu_key (f->server), NULL);
  g_autoptr (JsonObject) o = token_request (f, form, 200);

  g_assert_cmpint (json_object_get_int_member (o, "error_code"), ==, 0);
  return g_strdup (json_object_get_string_member (o, "access_token"));
}

static char *
visitor_token (Fixture *f)
{
  g_autofree char *form = form_encode ("grant_type", "client_credentials",
                                       "client_id", ppms_server_ppcom_key (f->server),
                                       "client_secret", ppms_server_ppcom_secret (f->server), NULL);
  g_autoptr (JsonObject) o = token_request (f, form, 200);

  g_assert_false (json_object_has_member (o, "error_code"));
  g_assert_cmpstr (json_object_get_string_member (o, "token_type"), ==, "Bearer");
  return g_strdup (json_object_get_string_member (o, "access_token"));
}

/* POST /api/<name> with a JSON body; returns the answer object (HTTP 200). */
static JsonObject *
api (Fixture *f, const char *token, const char *name, const char *json)
{
  g_autofree char *path = g_strconcat ("/api/", name, NULL);
  g_autofree char *auth = token ? g_strconcat ("OAuth ", token, NULL) : NULL;
  Reply r;
  JsonObject *o;

  http (f, "POST", path, "application/json", json, auth, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Access-Control-Allow-Origin"), ==, "*");
  o = reply_json (&r);
  reply_clear (&r);
  return o;
}

static gint64
error_code (JsonObject *o)
{
  return json_object_get_int_member (o, "error_code");
}

static void
fixture_set_up_with (Fixture *f, const char *seed_json)
{
  g_autoptr (GError) error = NULL;

  f->server = ppms_server_new_from_data (seed_json, &error);
  g_assert_no_error (error);
  ppms_server_set_timer_scale (f->server, 0.02);
  g_assert_true (ppms_server_listen (f->server, 0, &error));
  g_assert_no_error (error);
  /* No client-side timeout (libsoup's default is 60 s): a stalled request
   * must stay pending until the test cancels it, however slow the run. */
  f->session = soup_session_new_with_options ("timeout", 0, "idle-timeout", 0, NULL);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  fixture_set_up_with (f, data);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->session);
  ppms_server_free (f->server);
}

/* ---- Envelope rules (protocol 1.4) ---- */

static void
test_envelope (Fixture *f, gconstpointer data)
{
  g_autofree char *agent = agent_token (f);
  g_autofree char *visitor = visitor_token (f);
  g_autofree char *bearer = g_strconcat ("Bearer ", agent, NULL);
  g_autofree char *oauth = g_strconcat ("oauth ", agent, NULL);
  g_autofree char *app_body = g_strdup_printf ("{\"app_uuid\": \"%s\"}", ppms_server_app_uuid (f->server));
  JsonObject *o;
  Reply r;

  /* GET: error 1 with the envelope and CORS. */
  http (f, "GET", "/api/PP_GET_APP_INFO", NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  o = reply_json (&r);
  g_assert_cmpint (error_code (o), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (o, "error_string"), ==, "request not json.");
  g_assert_cmpstr (json_object_get_string_member (o, "uri"), ==, "/api/PP_GET_APP_INFO");
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Content-Type"), ==, "application/json");
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Access-Control-Max-Age"), ==, "1728000");
  json_object_unref (o);
  reply_clear (&r);

  /* OPTIONS: CORS headers, empty body. */
  http (f, "OPTIONS", "/api/PP_GET_APP_INFO", NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (r.body), ==, 0);
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Access-Control-Allow-Headers"), ==,
                   "Content-Type, Authorization");
  reply_clear (&r);

  /* Wrong content type, bad JSON: 1; no or Bearer authorization: 3. */
  http (f, "POST", "/api/PP_GET_APP_INFO", "text/plain", app_body, oauth, &r);
  o = reply_json (&r);
  g_assert_cmpint (error_code (o), ==, 1);
  json_object_unref (o);
  reply_clear (&r);
  o = api (f, agent, "PP_GET_APP_INFO", "{not json");
  g_assert_cmpint (error_code (o), ==, 1);
  json_object_unref (o);
  o = api (f, NULL, "PP_GET_APP_INFO", app_body);
  g_assert_cmpint (error_code (o), ==, 3);
  json_object_unref (o);
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json;charset=utf-8", app_body, bearer, &r);
  o = reply_json (&r);
  g_assert_cmpint (error_code (o), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (o, "error_string"), ==, "no such access token.");
  json_object_unref (o);
  reply_clear (&r);

  /* "oauth" is case-insensitive; unknown token, missing app_uuid, wrong level: 4. */
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", app_body, oauth, &r);
  o = reply_json (&r);
  g_assert_cmpint (error_code (o), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "app_name"), ==, "Demo Team");
  /* A team whose icon was never set in PPConsole. */
  g_assert_true (json_object_get_null_member (o, "app_icon"));
  json_object_unref (o);
  reply_clear (&r);
  o = api (f, "bm90LWEtdG9rZW4=", "PP_GET_APP_INFO", app_body);
  g_assert_cmpint (error_code (o), ==, 4);
  json_object_unref (o);
  o = api (f, agent, "PP_GET_APP_INFO", "{\"app_uuid\": null}");
  g_assert_cmpint (error_code (o), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (o, "error_string"), ==, "wrong access token.");
  json_object_unref (o);
  o = api (f, visitor, "PPKEFU_LOGIN", "{\"terminal\": \"t\", \"user_email\": \"agent@ppmessage.local\", \"ostype\": \"LIB\"}");
  g_assert_cmpint (error_code (o), ==, 4);
  json_object_unref (o);

  /* Unknown endpoint and trailing slash: Tornado's 404 page. */
  http (f, "POST", "/api/PP_NO_SUCH_THING", "application/json", "{}", oauth, &r);
  g_assert_cmpuint (r.status, ==, 404);
  reply_clear (&r);
  http (f, "POST", "/api/PP_GET_APP_INFO/", "application/json", app_body, oauth, &r);
  g_assert_cmpuint (r.status, ==, 404);
  reply_clear (&r);

  /* A crash: HTTP 500, plain-text traceback, no CORS. */
  http (f, "POST", "/api/PP_OPEN_CONVERSATION", "application/json",
        "{\"app_uuid\": \"a\", \"conversation_uuid\": \"c\"}", oauth, &r);
  g_assert_cmpuint (r.status, ==, 500);
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Content-Type"), ==, "text/plain");
  g_assert_null (soup_message_headers_get_one (r.headers, "Access-Control-Allow-Origin"));
  g_assert_true (g_str_has_prefix (g_bytes_get_data (r.body, NULL), "Traceback (most recent call last):"));
  reply_clear (&r);

  /* A JSON array with a valid token: the handler raises. */
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", "[1, 2]", oauth, &r);
  g_assert_cmpuint (r.status, ==, 500);
  reply_clear (&r);

  /* Missing parameters: 6. */
  o = api (f, agent, "PPKEFU_LOGIN", "{\"terminal\": \"t\", \"ostype\": \"LIB\"}");
  g_assert_cmpint (error_code (o), ==, 6);
  g_assert_cmpstr (json_object_get_string_member (o, "error_string"), ==, "required parameter not provided.");
  json_object_unref (o);
}

/* ---- Token grants (protocol 2.3) ---- */

static void
test_tokens (Fixture *f, gconstpointer data)
{
  g_autofree char *bad = form_encode ("grant_type", "password", "user_email", "agent@ppmessage.local",
                                      "user_password", "0000000000000000000000000000000000000000",
                                      "client_id", ppms_server_ppkefu_key (f->server), NULL);
  g_autofree char *kefu_cc = form_encode ("grant_type", "client_credentials",
                                          "client_id", ppms_server_ppkefu_key (f->server),
                                          "client_secret", "whatever", NULL);
  g_autofree char *wrong_secret = form_encode ("grant_type", "client_credentials",
                                               "client_id", ppms_server_ppcom_key (f->server),
                                               "client_secret", "nope", NULL);
  g_autofree char *token = agent_token (f);
  g_autofree char *visitor = visitor_token (f);
  g_autoptr (JsonObject) failed = token_request (f, bad, 200);
  Reply r;

  g_assert_cmpuint (strlen (token), ==, 56);
  g_assert_true (g_str_has_suffix (token, "=="));
  g_assert_cmpstr (token, !=, visitor);
  g_assert_cmpint (json_object_get_size (failed), ==, 1);
  g_assert_cmpint (json_object_get_int_member (failed, "error_code"), ==, -1);
  http (f, "POST", "/ppauth/token", "application/x-www-form-urlencoded", kefu_cc, NULL, &r);
  g_assert_cmpuint (r.status, ==, 400);
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Content-Type"), ==, "text/html; charset=UTF-8");
  g_assert_cmpstr (g_bytes_get_data (r.body, NULL), ==,
                   "<html><title>400: Bad Request</title><body>400: Bad Request</body></html>");
  reply_clear (&r);
  g_assert_null (token_request (f, wrong_secret, 400));
  g_assert_null (token_request (f, "client_id=x", 400));
}

/* ---- Login, devices, kick, logout (4.3, 4.22, 4.23) ---- */

static JsonObject *
login (Fixture *f, const char *token, const char *terminal, const char *ostype)
{
  g_autofree char *body = g_strdup_printf ("{\"terminal\": \"%s\", \"user_email\": \"agent@ppmessage.local\", "
                                           "\"ostype\": \"%s\", \"user_status\": \"BUSY\"}", terminal, ostype);
  JsonObject *o = api (f, token, "PPKEFU_LOGIN", body);

  g_assert_cmpint (error_code (o), ==, 0);
  return o;
}

static gboolean
device_valid (Fixture *f, const char *token, const char *user, const char *device)
{
  g_autofree char *body = g_strdup_printf ("{\"user_uuid\": \"%s\", \"device_uuid\": \"%s\"}", user, device);
  g_autoptr (JsonObject) o = api (f, token, "PP_VALIDATE_ONLINE_DEVICE", body);

  g_assert_cmpint (error_code (o), ==, 0);
  return json_object_get_boolean_member (o, "valid");
}

static void
test_login_devices (Fixture *f, gconstpointer data)
{
  g_autofree char *token = agent_token (f);
  g_autoptr (JsonObject) first = login (f, token, "terminal-A", "LIB");
  g_autoptr (JsonObject) again = login (f, token, "terminal-A", "LIB");
  g_autoptr (JsonObject) other = login (f, token, "terminal-B", "linux");
  g_autoptr (JsonObject) phone = login (f, token, "terminal-P", "android");
  const char *user = json_object_get_string_member (first, "uuid");
  const char *device_a = json_object_get_string_member (first, "browser_device_uuid");
  const char *device_b = json_object_get_string_member (other, "browser_device_uuid");
  g_autofree char *logout = NULL;
  JsonObject *o;

  /* Shape: integer updatetime, string createtime, app with keys, mqtt topic. */
  g_assert_true (JSON_NODE_TYPE (json_object_get_member (first, "updatetime")) == JSON_NODE_VALUE);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (first, "updatetime")), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (first, "createtime")), ==, G_TYPE_STRING);
  g_assert_false (json_object_has_member (first, "user_password"));
  g_assert_true (json_object_get_boolean_member (first, "is_service_user"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (first, "app"), "uuid"), ==,
                   ppms_server_app_uuid (f->server));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (first, "mqtt_topic"), device_a));
  g_assert_cmpstr (ppms_server_user_service_status (f->server, user), ==, "BUSY");

  /* Same terminal, same device; another browser-class terminal takes the slot
   * and flags the old device offline; a phone-class login kicks nobody. */
  g_assert_cmpstr (json_object_get_string_member (again, "browser_device_uuid"), ==, device_a);
  g_assert_cmpstr (device_a, !=, device_b);
  g_assert_cmpstr (json_object_get_string_member (phone, "browser_device_uuid"), ==, device_b);
  g_assert_nonnull (json_object_get_string_member (phone, "mobile_device_uuid"));
  g_assert_false (device_valid (f, token, user, device_a));
  g_assert_true (device_valid (f, token, user, device_b));
  g_assert_true (device_valid (f, token, user, json_object_get_string_member (phone, "mobile_device_uuid")));

  /* Logout: device offline, status cleared, token revoked. */
  logout = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", \"device_uuid\": \"%s\"}",
                            ppms_server_app_uuid (f->server), user, device_b);
  o = api (f, token, "PPKEFU_LOGOUT", logout);
  g_assert_cmpint (error_code (o), ==, 0);
  json_object_unref (o);
  g_assert_null (ppms_server_user_service_status (f->server, user));
  o = api (f, token, "PPKEFU_LOGOUT", logout);
  g_assert_cmpint (error_code (o), ==, 4);
  json_object_unref (o);
}

/* ---- Visitor start-up and the distributor (5.4 - 5.9) ---- */

static JsonObject *
default_conversation (Fixture *f, const char *token, const char *user, const char *device)
{
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", \"device_uuid\": \"%s\"}",
                                           ppms_server_app_uuid (f->server), user, device);
  return api (f, token, "PPCOM_GET_DEFAULT_CONVERSATION", body);
}

static void
test_distributor (Fixture *f, gconstpointer data)
{
  g_autofree char *token = visitor_token (f);
  g_autofree char *anon = g_strdup_printf ("{\"app_uuid\": \"%s\", \"ppcom_trace_uuid\": \"trace-1\"}",
                                           ppms_server_app_uuid (f->server));
  g_autoptr (JsonObject) visitor = api (f, token, "PP_CREATE_ANONYMOUS", anon);
  g_autoptr (JsonObject) again = api (f, token, "PP_CREATE_ANONYMOUS", anon);
  const char *user = json_object_get_string_member (visitor, "user_uuid");
  g_autofree char *dev_body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", \"device_ostype\": \"LIB\", "
                                               "\"ppcom_trace_uuid\": \"trace-1\", \"device_id\": \"d\"}",
                                               ppms_server_app_uuid (f->server), user);
  g_autoptr (JsonObject) device = api (f, token, "PP_CREATE_DEVICE", dev_body);
  g_autoptr (JsonObject) device_again = api (f, token, "PP_CREATE_DEVICE", dev_body);
  const char *device_uuid = json_object_get_string_member (device, "device_uuid");
  g_autoptr (JsonObject) waiting = default_conversation (f, token, user, device_uuid);
  JsonObject *conv = NULL;
  JsonArray *others;

  g_assert_cmpstr (json_object_get_string_member (visitor, "user_fullname"), ==, "Unknown Area.User");
  g_assert_cmpint (strlen (json_object_get_string_member (visitor, "user_email")), ==, 13);
  g_assert_cmpstr (json_object_get_string_member (again, "user_uuid"), ==, user);
  g_assert_cmpstr (json_object_get_string_member (again, "user_status"), ==, "ANONYMOUS");
  g_assert_cmpint (error_code (device), ==, 0);
  g_assert_cmpint (error_code (device_again), ==, 25);
  g_assert_cmpstr (json_object_get_string_member (device_again, "device_uuid"), ==, device_uuid);

  /* First answer: the bare envelope; the conversation appears on a tick. */
  g_assert_cmpint (json_object_get_size (waiting), ==, 3);
  for (guint i = 0; i < 2000 && conv == NULL; i++)
    {
      gboolean tick = FALSE;
      g_autofree char *q = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\"}",
                                            ppms_server_app_uuid (f->server), user);
      g_autoptr (JsonObject) length = api (f, token, "PP_GET_AMD_QUEUE_LENGTH", q);
      if (!json_object_get_null_member (length, "conversation_uuid"))
        {
          g_assert_cmpstr (json_object_get_string_member (length, "result"), ==, "SUCCESS");
          conv = default_conversation (f, token, user, device_uuid);
          break;
        }
      g_timeout_add (5, on_timeout, &tick);
      wait_for (&tick, TIMEOUT_MS);
    }
  g_assert_nonnull (conv);
  g_assert_cmpstr (json_object_get_string_member (conv, "status"), ==, "NEW");
  g_assert_cmpstr (json_object_get_string_member (conv, "conversation_name"), ==, "Alice Agent");
  g_assert_cmpstr (json_object_get_string_member (conv, "assigned_uuid"), ==,
                   ppms_server_user_uuid_by_email (f->server, "agent@ppmessage.local"));
  others = json_object_get_array_member (conv, "user_list");
  g_assert_cmpuint (json_array_get_length (others), ==, 1);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (json_array_get_object_element (others, 0),
                                                                     "updatetime")), ==, G_TYPE_INT64);
  json_object_unref (conv);
}

/* ---- Conversation paging (4.8) from seeded open conversations ---- */

static const char paging_seed[] =
  "{\"app\": {\"uuid\": \"app-1\", \"app_name\": \"Paging\"},"
  " \"users\": [{\"uuid\": \"agent-1\", \"user_email\": \"agent@ppmessage.local\", \"password\": \"agentpass\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"uuid\": \"visitor-1\", \"user_email\": \"v@x\", \"user_fullname\": \"V\"}],"
  " \"conversations\": ["
  "  {\"uuid\": \"c1\", \"user_uuid\": \"visitor-1\", \"status\": \"OPEN\", \"members\": ["
  "    {\"user_uuid\": \"agent-1\", \"status\": \"OPEN\", \"updatetime\": 1000001}]},"
  "  {\"uuid\": \"c2\", \"user_uuid\": \"visitor-1\", \"status\": \"OPEN\", \"members\": ["
  "    {\"user_uuid\": \"agent-1\", \"status\": \"OPEN\", \"updatetime\": 1000005}]},"
  "  {\"uuid\": \"c3\", \"user_uuid\": \"visitor-1\", \"status\": \"OPEN\", \"members\": ["
  "    {\"user_uuid\": \"agent-1\", \"status\": \"OPEN\", \"updatetime\": 1000003}]},"
  "  {\"uuid\": \"c4\", \"user_uuid\": \"visitor-1\", \"status\": \"OPEN\", \"members\": ["
  "    {\"user_uuid\": \"agent-1\", \"status\": \"OPEN\", \"updatetime\": 1000004}]},"
  "  {\"uuid\": \"c5\", \"user_uuid\": \"visitor-1\", \"status\": \"NEW\", \"members\": ["
  "    {\"user_uuid\": \"agent-1\", \"status\": \"NEW\", \"updatetime\": 1000009}]}],"
  " \"messages\": [{\"uuid\": \"m1\", \"conversation_uuid\": \"c2\", \"from_uuid\": \"visitor-1\","
  "   \"body\": \"hello\", \"message_body\": \"{}\", \"createtime\": 1000005}]}";

static char *
page_uuids (Fixture *f, const char *token, const char *extra, gint64 *total)
{
  const char *app = ppms_server_app_uuid (f->server);
  const char *agent = ppms_server_user_uuid_by_email (f->server, "agent@ppmessage.local");
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\"%s}", app, agent, extra);
  g_autoptr (JsonObject) o = api (f, token, "PP_PAGE_USER_CONVERSATION", body);
  JsonArray *list = json_object_get_array_member (o, "list");
  GString *out = g_string_new (NULL);

  g_assert_cmpint (error_code (o), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "return_count"), ==, json_array_get_length (list));
  *total = json_object_get_int_member (o, "total_count");
  for (guint i = 0; i < json_array_get_length (list); i++)
    g_string_append_printf (out, "%s%s", i ? "," : "",
                            json_object_get_string_member (json_array_get_object_element (list, i), "uuid"));
  return g_string_free (out, FALSE);
}

static void
test_conversation_paging (Fixture *f, gconstpointer data)
{
  g_autofree char *token = agent_token (f);
  gint64 total = 0;
  g_autofree char *all = page_uuids (f, token, "", &total);
  g_autofree char *p0 = page_uuids (f, token, ", \"page_offset\": 0, \"page_size\": 2", &total);
  g_autofree char *p1 = page_uuids (f, token, ", \"page_offset\": 1, \"page_size\": 2", &total);
  g_autofree char *p2 = page_uuids (f, token, ", \"page_offset\": 2, \"page_size\": 2", &total);
  g_autofree char *older = page_uuids (f, token, ", \"max_uuid\": \"c4\", \"page_size\": 5", &total);
  g_autofree char *newer = page_uuids (f, token, ", \"min_uuid\": \"c1\", \"page_size\": 2", &total);
  g_autofree char *unknown = page_uuids (f, token, ", \"max_uuid\": \"c5\"", &total);
  g_autoptr (JsonObject) page = api (f, token, "PP_PAGE_USER_CONVERSATION",
                                     "{\"app_uuid\": \"app-1\", \"user_uuid\": \"agent-1\", \"page_size\": 1}");
  JsonObject *item = json_array_get_object_element (json_object_get_array_member (page, "list"), 0);

  /* Newest activity first; NEW conversations are invisible. */
  g_assert_cmpstr (all, ==, "c2,c4,c3,c1");
  g_assert_cmpint (total, ==, 4);
  g_assert_cmpstr (p0, ==, "c2,c4");
  g_assert_cmpstr (p1, ==, "c3,c1");
  g_assert_cmpstr (p2, ==, "");
  g_assert_cmpstr (older, ==, "c3,c1");
  g_assert_cmpstr (newer, ==, "c4,c3");
  g_assert_cmpstr (unknown, ==, "");
  /* Raw-hash item: strings only, latest_message with its body as a string. */
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (item, "latest_message"), "body"), ==, "hello");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (item, "conversation_data"),
                                                  "conversation_status"), ==, "OPEN");
  g_assert_false (json_object_has_member (item, "group_uuid"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (item, "from_user"), "uuid"), ==,
                   "visitor-1");
}

/* ---- Files (protocol 10) ---- */

static char *
upload (Fixture *f, const char *name, const char *mime, const void *data, gsize len, gboolean *cors)
{
  g_autoptr (SoupMultipart) multipart = soup_multipart_new ("multipart/form-data");
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *url = g_strconcat (ppms_server_get_url (f->server), "/upload/upload/", NULL);
  g_autoptr (JsonObject) o = NULL;
  Reply r;

  soup_multipart_append_form_string (multipart, "user_uuid", "someone");
  soup_multipart_append_form_file (multipart, "file", name, mime, bytes);
  msg = soup_message_new_from_multipart (url, multipart);
  send_async (f, msg, &r, NULL);
  g_assert_true (wait_for (&r.done, TIMEOUT_MS));
  g_assert_cmpuint (r.status, ==, 200);
  *cors = soup_message_headers_get_one (r.headers, "Access-Control-Allow-Origin") != NULL;
  o = reply_json (&r);
  reply_clear (&r);
  return g_strdup (json_object_get_string_member (o, "fuuid"));
}

static void
test_files (Fixture *f, gconstpointer data)
{
  static const char pdf[] = "%PDF-1.4 not really a pdf file\n";
  gboolean cors = FALSE, cors_again = TRUE;
  g_autofree char *fid = upload (f, "invoice.pdf", "application/pdf", pdf, sizeof pdf - 1, &cors);
  g_autofree char *same = upload (f, "other.bin", "application/octet-stream", pdf, sizeof pdf - 1, &cors_again);
  g_autofree char *path = g_strdup_printf ("/download/download/%s?file_name=invoice.pdf", fid);
  g_autoptr (JsonObject) txt = NULL;
  g_autofree char *txt_path = NULL;
  Reply r;

  /* De-duplicated by content: same fuuid, without the CORS header. */
  g_assert_true (cors);
  g_assert_cmpstr (fid, ==, same);
  g_assert_false (cors_again);
  http (f, "GET", path, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Content-Type"), ==, "application/pdf");
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Content-Disposition"), ==,
                   "attachment; filename=\"invoice.pdf\"");
  g_assert_cmpmem (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body), pdf, sizeof pdf - 1);
  reply_clear (&r);
  http (f, "GET", "/download/download/no-such-file", NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 404);
  reply_clear (&r);

  /* /ppkefu/upload/ content_txt -> {"fid", "mime"} and the text back. */
  http (f, "POST", "/ppkefu/upload/", "application/x-www-form-urlencoded",
        "upload_type=content_txt&content_txt=long+text+%E2%9C%93", NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  txt = reply_json (&r);
  reply_clear (&r);
  g_assert_cmpstr (json_object_get_string_member (txt, "mime"), ==, "text/plain");
  txt_path = g_strconcat ("/download/download/", json_object_get_string_member (txt, "fid"), NULL);
  http (f, "GET", txt_path, NULL, NULL, NULL, &r);
  g_assert_cmpmem (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body), "long text \xe2\x9c\x93", 13);
  reply_clear (&r);
  http (f, "POST", "/ppkefu/upload/", "application/x-www-form-urlencoded", "nothing=here", NULL, &r);
  g_assert_cmpuint (g_bytes_get_size (r.body), ==, 0);
  reply_clear (&r);

  /* Identicons: generated PNGs, unknown names 404. */
  http (f, "GET", "/identicon/identicon/77.png", NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (r.headers, "Content-Type"), ==, "image/png");
  g_assert_cmpmem (g_bytes_get_data (r.body, NULL), 4, "\x89PNG", 4);
  reply_clear (&r);
  http (f, "GET", "/identicon/identicon/does-not-exist.png", NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 404);
  reply_clear (&r);
}

/* ---- Assets with the keys (transcript 10) ---- */

static char *
get_text (Fixture *f, const char *path)
{
  Reply r;
  char *text;

  http (f, "GET", path, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  text = g_strndup (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body));
  reply_clear (&r);
  return text;
}

static char *
match_group (const char *pattern, const char *text)
{
  g_autoptr (GRegex) regex = g_regex_new (pattern, G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GMatchInfo) info = NULL;

  if (!g_regex_match (regex, text, 0, &info))
    return NULL;
  return g_match_info_fetch (info, 1);
}

static void
test_assets (Fixture *f, gconstpointer data)
{
  g_autofree char *page = get_text (f, "/ppkefu/");
  g_autofree char *bundle = get_text (f, "/ppkefu/js/ppkefu.min.js");
  g_autofree char *library = get_text (f, "/ppcom/assets/pp-library.min.js");
  g_autofree char *kefu_key = match_group ("window\\.ppmessage=\\{[^}]*api_key:\"([^\"]+)\"", bundle);
  g_autofree char *com_key = match_group ("Configuration = \\{\\s*api_key: '([^']+)',", library);
  g_autofree char *com_secret = match_group ("Configuration = \\{.*?api_secret: '([^']+)',", library);
  g_autofree char *first_key = match_group ("api_key: ([^,\\n]+)", library);
  Reply r;

  g_assert_nonnull (strstr (page, "<script src=\"js/ppkefu.min.js\">"));
  g_assert_null (strstr (page, ppms_server_ppkefu_key (f->server)));
  g_assert_cmpstr (kefu_key, ==, ppms_server_ppkefu_key (f->server));
  g_assert_cmpuint (strlen (kefu_key), ==, 56);
  g_assert_cmpstr (com_key, ==, ppms_server_ppcom_key (f->server));
  g_assert_cmpstr (com_secret, ==, ppms_server_ppcom_secret (f->server));
  g_assert_nonnull (strstr (library, "api_key: null"));
  g_assert_nonnull (first_key);
  http (f, "GET", "/", NULL, NULL, NULL, &r);
  /* libsoup follows the redirect to /ppconsole/; the final answer is a page. */
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
}

/* ---- Fault injection ---- */

static void
test_faults (Fixture *f, gconstpointer data)
{
  g_autofree char *token = agent_token (f);
  g_autofree char *auth = g_strconcat ("OAuth ", token, NULL);
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\"}", ppms_server_app_uuid (f->server));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (SoupMessage) stalled = NULL;
  guint answered = 0;
  gboolean tick = FALSE;
  Reply r, s;

  ppms_server_set_http_fault (f->server, PPMS_FAULT_HTTP_500, "/api/", 1.0, 0, 1);
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, auth, &r);
  g_assert_cmpuint (r.status, ==, 500);
  reply_clear (&r);

  ppms_server_set_http_fault (f->server, PPMS_FAULT_MALFORMED_JSON, "PP_GET_APP_INFO", 1.0, 0, 1);
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, auth, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_false (json_parser_load_from_data (parser, g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body), NULL));
  reply_clear (&r);

  ppms_server_set_http_fault (f->server, PPMS_FAULT_TRUNCATED_JSON, NULL, 1.0, 0, 1);
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, auth, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (r.body), >, 10);
  g_assert_false (json_parser_load_from_data (parser, g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body), NULL));
  reply_clear (&r);

  /* Another path is not affected. */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_HTTP_500, "/upload/", 1.0, 0, 1);
  g_autoptr (JsonObject) fine = api (f, token, "PP_GET_APP_INFO", body);
  g_assert_cmpint (error_code (fine), ==, 0);

  /* Probability 0.5 with a seed: some answered, some not, repeatably. */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_HTTP_500, NULL, 0.5, 0, 42);
  for (guint i = 0; i < 20; i++)
    {
      http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, auth, &r);
      answered += r.status == 200;
      reply_clear (&r);
    }
  g_assert_cmpuint (answered, >, 0);
  g_assert_cmpuint (answered, <, 20);

  /* Delay: answered, later. */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_DELAY, NULL, 1.0, 50, 1);
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, auth, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);

  /* Stall: no answer while stalled; the request still hangs after the
   * fault is cleared, until the client gives up. */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, NULL, 1.0, 0, 1);
  stalled = new_message (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, strlen (body), auth);
  send_async (f, stalled, &s, cancel);
  g_timeout_add (200, on_timeout, &tick);
  wait_for (&tick, TIMEOUT_MS);
  g_assert_false (s.done);
  ppms_server_clear_faults (f->server);
  http (f, "POST", "/api/PP_GET_APP_INFO", "application/json", body, auth, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
  g_assert_false (s.done);
  g_cancellable_cancel (cancel);
  g_assert_true (wait_for (&s.done, TIMEOUT_MS));
  reply_clear (&s);
}

/* ---- Stop and restart keep the data; dump and reload ---- */

static void
test_stop_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *token = visitor_token (f);
  g_autofree char *anon = g_strdup_printf ("{\"app_uuid\": \"%s\", \"ppcom_trace_uuid\": \"keep-me\"}",
                                           ppms_server_app_uuid (f->server));
  g_autoptr (JsonObject) before = api (f, token, "PP_CREATE_ANONYMOUS", anon);
  g_autoptr (JsonObject) after = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dump = NULL;
  guint port = ppms_server_get_port (f->server);
  g_autoptr (SoupMessage) stalled = NULL;
  gboolean tick = FALSE;
  PpmsServer *copy;
  Reply r, s;

  /* A stalled request is dropped by stop(). */
  ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, NULL, 1.0, 0, 1);
  stalled = new_message (f, "POST", "/api/PP_CREATE_ANONYMOUS", "application/json", anon, strlen (anon), NULL);
  send_async (f, stalled, &s, NULL);
  g_timeout_add (100, on_timeout, &tick);
  wait_for (&tick, TIMEOUT_MS);
  g_assert_false (s.done);
  ppms_server_stop (f->server);
  ppms_server_clear_faults (f->server);
  g_assert_true (wait_for (&s.done, TIMEOUT_MS));
  g_assert_nonnull (s.error);
  reply_clear (&s);
  http (f, "POST", "/api/PP_CREATE_ANONYMOUS", "application/json", anon, NULL, &r);
  g_assert_nonnull (r.error);
  reply_clear (&r);
  g_assert_true (ppms_server_restart (f->server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ppms_server_get_port (f->server), ==, port);
  after = api (f, token, "PP_CREATE_ANONYMOUS", anon);
  g_assert_cmpstr (json_object_get_string_member (after, "user_uuid"), ==,
                   json_object_get_string_member (before, "user_uuid"));

  /* The dump seeds an equivalent server. */
  dump = ppms_server_dump_data (f->server);
  copy = ppms_server_new_from_data (dump, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ppms_server_app_uuid (copy), ==, ppms_server_app_uuid (f->server));
  g_assert_cmpstr (ppms_server_ppcom_secret (copy), ==, ppms_server_ppcom_secret (f->server));
  g_assert_cmpstr (ppms_server_user_uuid_by_email (copy, "agent@ppmessage.local"), ==,
                   ppms_server_user_uuid_by_email (f->server, "agent@ppmessage.local"));
  ppms_server_free (copy);
}

/* ---- JSON text like Python's json.dumps ---- */

static void
test_json_output (Fixture *f, gconstpointer data)
{
  g_autofree char *token = agent_token (f);
  const char *user = ppms_server_user_uuid_by_email (f->server, "agent@ppmessage.local");
  g_autofree char *update = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", "
                                             "\"user_fullname\": \"Zo\\u00eb \\ud83d\\ude00\"}",
                                             ppms_server_app_uuid (f->server), user);
  g_autofree char *info = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\"}",
                                           ppms_server_app_uuid (f->server), user);
  g_autofree char *auth = g_strconcat ("OAuth ", token, NULL);
  g_autoptr (JsonObject) o = api (f, token, "PP_UPDATE_USER", update);
  g_autofree char *text = NULL;
  char *values[] = { ppms_format_double (1795945921.34096), ppms_format_double (1795949826.73947),
                     ppms_format_double (1470190867.418236), ppms_format_double (2.0) };
  Reply r;

  g_assert_cmpint (error_code (o), ==, 0);
  http (f, "POST", "/api/PP_GET_USER_INFO", "application/json", info, auth, &r);
  text = g_strndup (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body));
  reply_clear (&r);
  /* ensure_ascii with surrogate pairs, and Python's ", " / ": " separators. */
  g_assert_nonnull (strstr (text, "\"user_fullname\": \"Zo\\u00eb \\ud83d\\ude00\""));
  g_assert_true (g_str_has_prefix (text, "{\"uri\": \"/api/PP_GET_USER_INFO\", \"error_code\": 0, "));
  /* Floats as Python's repr: the shortest text that reads back. */
  g_assert_cmpstr (values[0], ==, "1795945921.34096");
  g_assert_cmpstr (values[1], ==, "1795949826.73947");
  g_assert_cmpstr (values[2], ==, "1470190867.418236");
  g_assert_cmpstr (values[3], ==, "2.0");
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_free (values[i]);
}

/* ---- tests/data/demo-team.json loads and lists as documented ---- */

static void
test_demo_team (void)
{
  g_autofree char *dir = g_path_get_dirname (__FILE__);
  g_autofree char *path = g_build_filename (dir, "data", "demo-team.json", NULL);
  g_autoptr (GError) error = NULL;
  Fixture fixture = { 0 }, *f = &fixture;
  g_autofree char *token = NULL, *page = NULL;
  gint64 total = 0;

  f->server = ppms_server_new (path, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (f->server, 0, &error));
  f->session = soup_session_new ();
  token = agent_token (f);
  page = page_uuids (f, token, "", &total);
  g_assert_cmpint (total, ==, 3);
  g_assert_cmpuint (strlen (page), ==, 3 * 36 + 2);
  g_assert_nonnull (ppms_server_user_uuid_by_email (f->server, "bob@ppmessage.local"));
  g_assert_cmpuint (ppms_server_count_messages (f->server, "5e0a0000-0000-11f1-8000-0000000001c1"), ==, 3);
  fixture_tear_down (f, NULL);
}

/* ---- The program's --demo-visitor: greets, then answers the agent ---- */

static const char demo_seed[] =
  "{\"app\": {\"uuid\": \"5e0a0000-0000-11f1-8000-0000000000f0\"},"
  " \"api_keys\": [{\"level\": \"PPKEFU\", \"key\": \"demo-kefu-key\", \"secret\": \"s\"}],"
  " \"users\": [{\"uuid\": \"5e0a0000-0000-11f1-8000-0000000000a1\", \"user_email\": \"agent@ppmessage.local\","
  "   \"password\": \"agentpass\", \"user_fullname\": \"Alice Agent\", \"is_service_user\": true,"
  "   \"is_owner_user\": true}]}";

static char *
read_line_matching (GInputStream *stream, const char *prefix)
{
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (stream);
  char *line;

  /* Blocking reads: the program prints the line or exits (EOF). */
  while ((line = g_data_input_stream_read_line (in, NULL, NULL, NULL)) != NULL)
    {
      if (g_str_has_prefix (line, prefix))
        return line;
      g_free (line);
    }
  return NULL;
}

static void
test_demo_visitor_program (void)
{
  const char *exe = g_getenv ("SERVER_EXE") ? g_getenv ("SERVER_EXE") : "build/ppmessage-test-server";
  g_autoptr (GError) error = NULL;
  g_autofree char *seed_path = NULL, *url = NULL, *greeted = NULL;
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (JsonObject) history = NULL, body = json_object_new ();
  const char *conversation;
  PpmsPeer *agent;
  g_autofree char *sent = NULL;
  int fd;

  if (!g_file_test (exe, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no ppmessage-test-server program (set SERVER_EXE)");
      return;
    }
  fd = g_file_open_tmp ("ppms-demo-XXXXXX.json", &seed_path, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (seed_path, demo_seed, -1, &error));
  close (fd);
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, exe,
                            "--port", "0", "--data", seed_path, "--timer-scale", "0.1", "--demo-visitor", NULL);
  g_assert_no_error (error);
  url = read_line_matching (g_subprocess_get_stdout_pipe (child), "http://127.0.0.1:");
  g_assert_nonnull (url);
  greeted = read_line_matching (g_subprocess_get_stderr_pipe (child), "demo visitor ");
  g_assert_nonnull (greeted);
  conversation = strstr (greeted, " in conversation ");
  g_assert_nonnull (conversation);
  conversation += strlen (" in conversation ");

  /* An agent asks; the scripted visitor answers. */
  agent = ppms_peer_new_agent (url, "demo-kefu-key", "agent@ppmessage.local", "agentpass", NULL);
  g_assert_true (ppms_peer_start_sync (agent, &error));
  g_assert_no_error (error);
  sent = ppms_peer_send_text (agent, conversation, "Where is your order?");
  g_assert_nonnull (sent);
  g_assert_nonnull (ppms_peer_wait_message (agent, "Order #1234", TIMEOUT_MS));

  /* The greeting came first. */
  json_object_set_string_member (body, "conversation_uuid", conversation);
  json_object_set_int_member (body, "page_size", 10);
  history = ppms_peer_api_sync (agent, "PP_PAGE_HISTORY_MESSAGE", body, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (history, "total_count"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                     json_object_get_array_member (history, "list"), 2), "body"),
                   ==, "Hello! I have a question about my order.");
  ppms_peer_free (agent);
  g_subprocess_send_signal (child, SIGTERM);
  g_assert_true (g_subprocess_wait (child, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (child));
  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 0);
  g_unlink (seed_path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, seed, func) \
  g_test_add (name, Fixture, seed, fixture_set_up, func, fixture_tear_down)
  ADD ("/server-rest/envelope", NULL, test_envelope);
  ADD ("/server-rest/tokens", NULL, test_tokens);
  ADD ("/server-rest/login-devices", NULL, test_login_devices);
  ADD ("/server-rest/distributor", NULL, test_distributor);
  ADD ("/server-rest/conversation-paging", paging_seed, test_conversation_paging);
  ADD ("/server-rest/files", NULL, test_files);
  ADD ("/server-rest/assets", NULL, test_assets);
  ADD ("/server-rest/faults", NULL, test_faults);
  ADD ("/server-rest/stop-restart", NULL, test_stop_restart);
  ADD ("/server-rest/json-output", NULL, test_json_output);
  g_test_add_func ("/server-rest/demo-team", test_demo_team);
  g_test_add_func ("/server-rest/demo-visitor-program", test_demo_visitor_program);
#undef ADD
  return g_test_run ();
}
