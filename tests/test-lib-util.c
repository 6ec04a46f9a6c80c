/* test-lib-util.c: the small helpers of the client library: server URL
 * validation, form encoding and password hashing, API key discovery in the
 * web assets (literal forms of transcript 10), and log redaction.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-api.h"
#include "ppm-discovery.h"
#include "ppm-redact.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#include <string.h>

#define PPKEFU_KEY "OGIwZmI1ODZjMmFlY2I4NjBiZDM1MDk2MzUyYjBkMzIwM2E1NzA3Nw=="
#define PPCOM_KEY "YTI4ZTBhNDgzZjZmZWY3NWVhMTVhYTg3NjdmMTNlZTk5ZjQ3OGU3Nw=="
#define PPCOM_SECRET "ZWE3OTU1MWI4MTQwZDRlZWQxY2NiMzcwNWM4NDgyN2NlNWEwNjEyZg=="
#define TOKEN "Njc2NWI1OTFhZDhjODJlNThjOTJhNDQ0OGNiNzgxMGJkMDFiODVkNg=="
#define SHA1_OF_AGENTPASS "7aa11913cf59e9102c094d9d5581ecd4ddf0b8bb"

static void
test_base_url (void)
{
  static const struct {
    const char *input;
    const char *base;
    const char *ws;
  } good[] = {
    { "http://127.0.0.1:8945", "http://127.0.0.1:8945", "ws://127.0.0.1:8945/pcsocket/WS" },
    { "  https://chat.example.com/  ", "https://chat.example.com",
      "wss://chat.example.com/pcsocket/WS" },
    { "HTTP://Chat.Example.com:80/ppm//", "http://chat.example.com:80/ppm",
      "ws://chat.example.com:80/ppm/pcsocket/WS" },
    { "http://[::1]:8945/", "http://[::1]:8945", "ws://[::1]:8945/pcsocket/WS" },
  };
  static const char *const bad[] = {
    NULL, "", "   ", "chat.example.com", "ftp://chat.example.com", "http://",
    "http:///path", "ws://127.0.0.1:8945", "javascript:alert(1)", "http://host:99999",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    PpmApi *api = ppm_api_new (good[i].input, &error);
    g_autofree char *ws = NULL;

    g_assert_no_error (error);
    /* Host names keep the user's case; compare without it. */
    g_assert_cmpint (g_ascii_strcasecmp (ppm_api_get_base_url (api), good[i].base), ==, 0);
    ws = ppm_api_get_ws_url (api);
    g_assert_cmpint (g_ascii_strcasecmp (ws, good[i].ws), ==, 0);
    ppm_api_free (api);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_null (ppm_api_new (bad[i], &error));
    g_assert_error (error, PPM_ERROR, PPM_ERROR_SETTINGS);
  }
}

static void
test_form_and_password (void)
{
  g_autofree char *form = ppm_form_encode ("user_email", "a+b&c=d@example.com",
                                           "user_password", "x y", "empty", NULL, NULL);
  g_autofree char *hash = ppm_password_sha1 ("agentpass");

  g_assert_cmpstr (form, ==, "user_email=a%2Bb%26c%3Dd%40example.com&user_password=x%20y&empty=");
  /* The digest the recorded server accepted (transcript 01, seq 3). */
  g_assert_cmpstr (hash, ==, SHA1_OF_AGENTPASS);
}

/* Excerpts of the assets, as recorded in transcript 10. */
static const char ppkefu_script[] =
  "function(){return this.indexOf(t)!==-1}}}window.ppmessage={version:\"1.1.2\","
  "developer_mode:!1,api_key:\"" PPKEFU_KEY "\",disableOnbeforeunload:!1};"
  "var ppmessageModule=angular.module(\"ppmessage\",[]);";
static const char ppcom_script[] =
  "  child.prototype = new ctor();\n  child.__super__ = parent.prototype;\n"
  "  return child;\n};\n\n//PP Configuration\nConfiguration = {\n"
  "    api_key: '" PPCOM_KEY "',\n"
  "    api_secret: '" PPCOM_SECRET "',\n"
  "    assets_path: 'http://127.0.0.1:18945/ppcom/assets/',\n};\n"
  "var later = {\n                api_key: null,\n                api_secret: null,\n};\n";
/* The decoy first: a discoverer that takes the first api_key: must not win. */
static const char ppcom_decoy_first[] =
  "var settings = { api_key: null, api_secret: null };\n"
  "Configuration = {\n    api_key: '" PPCOM_KEY "',\n    api_secret: '" PPCOM_SECRET "',\n};";

static void
test_discovery_parsers (void)
{
  char *key = NULL, *secret = NULL;

  g_assert_true (ppm_discovery_parse_ppkefu (ppkefu_script, strlen (ppkefu_script), &key));
  g_assert_cmpstr (key, ==, PPKEFU_KEY);
  g_clear_pointer (&key, g_free);
  g_assert_true (ppm_discovery_parse_ppcom (ppcom_script, strlen (ppcom_script), &key,
                                            &secret));
  g_assert_cmpstr (key, ==, PPCOM_KEY);
  g_assert_cmpstr (secret, ==, PPCOM_SECRET);
  g_clear_pointer (&key, g_free);
  g_clear_pointer (&secret, g_free);
  g_assert_true (ppm_discovery_parse_ppcom (ppcom_decoy_first, strlen (ppcom_decoy_first),
                                            &key, &secret));
  g_assert_cmpstr (key, ==, PPCOM_KEY);
  g_assert_cmpstr (secret, ==, PPCOM_SECRET);
  g_clear_pointer (&key, g_free);
  g_clear_pointer (&secret, g_free);
}

static void
test_discovery_absent (void)
{
  static const char *const scripts[] = {
    "", "<html><body>Hello</body></html>", "api_key:", "api_key: null", "api_key:\"\"",
    "window.ppmessage={api_key:\"unterminated", "my_api_key:\"" PPKEFU_KEY "\"",
  };
  char *key = NULL, *secret = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (scripts); i++) {
    g_assert_false (ppm_discovery_parse_ppkefu (scripts[i], strlen (scripts[i]), &key));
    g_assert_null (key);
    g_assert_false (ppm_discovery_parse_ppcom (scripts[i], strlen (scripts[i]), &key,
                                               &secret));
    g_assert_null (key);
    g_assert_null (secret);
  }
  /* A key without its secret is no PPCom configuration. */
  g_assert_false (ppm_discovery_parse_ppcom ("Configuration = { api_key: 'abc' }", 34,
                                             &key, &secret));
  g_assert_null (key);
}

static void
assert_no_secret (const char *text, const char *secret)
{
  g_autofree char *redacted = ppm_redact (text);

  if (strstr (redacted, secret) != NULL)
    g_error ("secret left in \"%s\"", redacted);
  g_assert_nonnull (strstr (redacted, "<redacted>"));
}

static void
test_redaction (void)
{
  g_autofree char *plain = NULL;

  g_unsetenv ("PPM_DEBUG_UNSAFE");
  /* The shapes that reach the logs: ws auth frame, token form, answers. */
  assert_no_secret ("{\"type\":\"auth\",\"api_token\":\"" TOKEN "\",\"app_uuid\":\"a\"}", TOKEN);
  assert_no_secret ("grant_type=password&user_email=a%40b&user_password=" SHA1_OF_AGENTPASS
                    "&client_id=" PPKEFU_KEY, SHA1_OF_AGENTPASS);
  assert_no_secret ("grant_type=password&user_password=" SHA1_OF_AGENTPASS
                    "&client_id=" PPKEFU_KEY, PPKEFU_KEY);
  assert_no_secret ("{\"error_code\": 0, \"access_token\": \"" TOKEN "\"}", TOKEN);
  assert_no_secret ("{\"app\": {\"app_key\": \"" PPCOM_KEY "\", \"app_secret\": \"" PPCOM_SECRET
                    "\"}}", PPCOM_SECRET);
  assert_no_secret ("Authorization: OAuth " TOKEN, TOKEN);
  assert_no_secret ("short password: {\"password\": \"hunter2\"}", "hunter2");
  /* A token in an unexpected place is still caught by its shape. */
  assert_no_secret ("{\"whatever\": \"" TOKEN "\"}", TOKEN);
  /* Ordinary content stays readable. */
  plain = ppm_redact ("{\"uuid\": \"7c61b332-ebda-11f1-b627-02fc00000001\", \"bo\": \"Hello\"}");
  g_assert_cmpstr (plain, ==,
                   "{\"uuid\": \"7c61b332-ebda-11f1-b627-02fc00000001\", \"bo\": \"Hello\"}");
  g_clear_pointer (&plain, g_free);
  plain = ppm_redact (NULL);
  g_assert_cmpstr (plain, ==, "(null)");
  g_clear_pointer (&plain, g_free);
  /* Raw logging only on request. */
  g_setenv ("PPM_DEBUG_UNSAFE", "1", TRUE);
  plain = ppm_redact ("{\"api_token\": \"" TOKEN "\"}");
  g_assert_nonnull (strstr (plain, TOKEN));
  g_unsetenv ("PPM_DEBUG_UNSAFE");
}

static void
test_redaction_bounds (void)
{
  GString *big = g_string_new (NULL);
  g_autofree char *redacted = NULL;

  for (int i = 0; i < 5000; i++)
    g_string_append (big, "word ");
  g_string_append (big, "\xff\xfe");
  redacted = ppm_redact (big->str);
  g_assert_cmpuint (strlen (redacted), <=, 2100);
  g_assert_true (g_utf8_validate (redacted, -1, NULL));
  g_string_free (big, TRUE);
}

/* ---- Bodies in the debug log only when it is read ---- */

static gboolean log_read;

static gboolean
is_log_read (void)
{
  return log_read;
}

static void
collect_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_string_append_printf (data, "%s\n", message);
}

static void
on_answer (JsonObject *answer, const GError *error, gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* One API call against the test server; what the library logged. */
static char *
log_of_one_call (PpmsServer *server)
{
  GString *log = g_string_new (NULL);
  guint handler = g_log_set_handler ("ppmessage", G_LOG_LEVEL_DEBUG, collect_log, log);
  PpmApi *api = ppm_api_new (ppms_server_get_url (server), NULL);
  g_autoptr (JsonObject) body = json_object_new ();
  gboolean answered = FALSE;

  json_object_set_string_member (body, "app_uuid", ppms_server_app_uuid (server));
  ppm_api_call (api, "PP_GET_APP_INFO", body, NULL, on_answer, &answered);
  g_assert_true (PPMS_WAIT_FOR (answered, 10000));
  ppm_api_free (api);
  g_log_remove_handler ("ppmessage", handler);
  return g_string_free (log, FALSE);
}

static void
test_bodies_logged_only_when_read (void)
{
  g_autoptr (GError) error = NULL;
  PpmsServer *server = ppms_server_new (NULL, &error);
  g_autofree char *unread = NULL;
  g_autofree char *read = NULL;

  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (server, 0, &error));
  ppm_client_set_log_bodies_check (is_log_read);
  log_read = FALSE;
  unread = log_of_one_call (server);
  log_read = TRUE;
  read = log_of_one_call (server);
  ppm_client_set_log_bodies_check (NULL);
  /* The call and its answer are always named; their JSON only when read. */
  g_assert_nonnull (strstr (unread, "-> PP_GET_APP_INFO"));
  g_assert_nonnull (strstr (unread, "<- PP_GET_APP_INFO HTTP 200"));
  g_assert_null (strchr (unread, '{'));
  g_assert_nonnull (strstr (read, "-> PP_GET_APP_INFO {"));
  g_assert_nonnull (strstr (read, "\"error_code\""));
  ppms_server_free (server);
}

/* A server's file name becomes one safe to save under. */
static void
test_file_name_safe (void)
{
  static const struct {
    const char *name;
    const char *safe;
  } cases[] = {
    { "report.pdf", "report.pdf" },
    { "../../etc/passwd", "passwd" },
    { "C:\\Users\\x\\evil.exe", "evil.exe" },
    { ".bashrc", "bashrc" },
    { "../../.evil\nname.pdf", "evil_name.pdf" },
    { " ..hidden", "hidden" },
    { "a:b", "a_b" },
    { "..", "download" },
    { "dir/", "download" },
    { "", "download" },
    { NULL, "download" },
    { "\xff\xfeimage.png", "\xef\xbf\xbd\xef\xbf\xbdimage.png" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *safe = ppm_file_name_safe (cases[i].name);

    g_assert_cmpstr (safe, ==, cases[i].safe);
  }
}

/* An image by its first bytes, the types the server takes as IMAGE. */
static void
test_file_image_mime (void)
{
  static const struct {
    const char *head;
    gsize size;
    const char *mime;
  } cases[] = {
    { "\x89PNG\r\n\x1a\n\0\0", 10, "image/png" },
    { "\xff\xd8\xff\xe0", 4, "image/jpeg" },
    { "GIF89a", 6, "image/gif" },
    { "GIF87a", 6, "image/gif" },
    { "\x89PNG\r\n\x1a", 7, NULL },   /* cut short */
    { "<svg>", 5, NULL },
    { "", 0, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (ppm_file_image_mime ((const guint8 *) cases[i].head, cases[i].size), ==,
                     cases[i].mime);
  g_assert_null (ppm_file_image_mime (NULL, 0));
}

/* The sizes the shipped server refuses are refused before uploading. */
static void
test_upload_refusal (void)
{
  g_autofree char *empty = ppm_transfer_upload_refusal (0);
  g_autofree char *too_big = ppm_transfer_upload_refusal (PPM_UPLOAD_MAX_BYTES + 1);
  g_autofree char *fine = ppm_transfer_upload_refusal (PPM_UPLOAD_MAX_BYTES);

  g_assert_nonnull (empty);
  g_assert_nonnull (too_big);
  g_assert_null (fine);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lib/util/base-url", test_base_url);
  g_test_add_func ("/lib/util/form-and-password", test_form_and_password);
  g_test_add_func ("/lib/util/discovery-parsers", test_discovery_parsers);
  g_test_add_func ("/lib/util/discovery-absent", test_discovery_absent);
  g_test_add_func ("/lib/util/redaction", test_redaction);
  g_test_add_func ("/lib/util/file-name-safe", test_file_name_safe);
  g_test_add_func ("/lib/util/upload-refusal", test_upload_refusal);
  g_test_add_func ("/lib/util/file-image-mime", test_file_image_mime);
  g_test_add_func ("/lib/util/redaction-bounds", test_redaction_bounds);
  g_test_add_func ("/lib/util/bodies-logged-only-when-read", test_bodies_logged_only_when_read);
  return g_test_run ();
}
