/* test-lib-json.c: the typed JSON accessors of the client library, on
 * malformed input and on answers recorded from the real server.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-json.h"

#include <string.h>

/* PP_GET_APP_SERVICE_USER_LIST, transcript 01 seq 8. */
static const char team_answer[] =
  "{\"uri\": \"/api/PP_GET_APP_SERVICE_USER_LIST\", \"error_code\": 0, \"error_string\": "
  "\"success.\", \"list\": [{\"is_browser_online\": true, \"is_mobile_online\": false, "
  "\"group\": [], \"uuid\": \"7c61b332-ebda-11f1-b627-02fc00000001\", \"user_icon\": "
  "\"http://127.0.0.1:18945/identicon/identicon/77.png\", \"user_email\": "
  "\"agent@ppmessage.local\", \"user_fullname\": \"Alice Agent\", \"user_signature\": null, "
  "\"updatetime\": \"2026-11-29 09:51:45 909613\", \"is_owner_user\": true, "
  "\"is_service_user\": true}]}";

/* PP_PAGE_UNACKED_MESSAGE (transcript 04 seq 53): the message is a JSON string. */
static const char unacked_answer[] =
  "{\"uri\": \"/api/PP_PAGE_UNACKED_MESSAGE\", \"error_code\": 0, \"error_string\": "
  "\"success.\", \"total_count\": 5, \"return_count\": 0, \"page_size\": 2, \"page_offset\": 2, "
  "\"list\": [\"862945b0-ebda-11f1-b627-02fc00000001\"], \"message\": "
  "{\"862945b0-ebda-11f1-b627-02fc00000001\": \"{\\\"id\\\": \\\"47041806-7e8b-4f92-8935-"
  "4d6b7ff409bc\\\", \\\"fi\\\": \\\"8528148e-ebda-11f1-b627-02fc00000001\\\", \\\"ms\\\": "
  "\\\"TEXT\\\", \\\"bo\\\": \\\"visitor message 5\\\", \\\"ts\\\": 1795945921.141204}\"}}";

/* A raw-hash item of PP_PAGE_USER_CONVERSATION: every value a string. */
static const char raw_hash[] =
  "{\"uuid\": \"85bdfeb8-ebda-11f1-b627-02fc00000001\", \"status\": \"OPEN\", "
  "\"user_mute_notification\": \"False\", \"count\": \"42\", \"ratio\": \"1.5\"}";

static JsonObject *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonObject *object = ppm_json_parse_object (text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (object);
  return object;
}

static void
test_parse_malformed (void)
{
  static const char *const bad[] = {
    "", "{", "{\"a\": }", "[1, 2]", "\"text\"", "42", "null", "<html>500</html>",
    "{\"a\": 1} trailing", "\xff\xfe{}", "{\"a\": \"\xc3\x28\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    JsonObject *object = ppm_json_parse_object (bad[i], -1, &error);

    g_assert_null (object);
    g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (ppm_json_parse_object (NULL, 0, &error));
    g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  }
}

static void
test_parse_truncated_recording (void)
{
  /* PPMS_FAULT_TRUNCATED_JSON: the real body cut in half. */
  gsize half = strlen (team_answer) / 2;
  g_autoptr (GError) error = NULL;

  g_assert_null (ppm_json_parse_object (team_answer, half, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
}

static void
test_recorded_team_list (void)
{
  g_autoptr (JsonObject) answer = parse (team_answer);
  g_autoptr (GError) error = NULL;
  JsonArray *list = NULL;
  JsonObject *item;
  const char *uuid = NULL;
  gboolean online = FALSE;
  gint64 code = -1;

  g_assert_true (ppm_json_get_int (answer, "error_code", &code, &error));
  g_assert_cmpint (code, ==, 0);
  g_assert_true (ppm_json_get_array (answer, "list", &list, &error));
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  item = ppm_json_array_object (list, 0);
  g_assert_nonnull (item);
  g_assert_true (ppm_json_get_string (item, "uuid", &uuid, &error));
  g_assert_cmpstr (uuid, ==, "7c61b332-ebda-11f1-b627-02fc00000001");
  g_assert_true (ppm_json_get_bool (item, "is_browser_online", &online, &error));
  g_assert_true (online);
  g_assert_no_error (error);
  /* null members are "missing" for the strict getters, NULL for the optional ones. */
  g_assert_false (ppm_json_get_string (item, "user_signature", &uuid, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_assert_null (ppm_json_opt_string (item, "user_signature"));
  g_assert_null (ppm_json_array_string (list, 0));
  g_assert_null (ppm_json_array_object (list, 1));
}

static void
test_wrong_types (void)
{
  g_autoptr (JsonObject) answer = parse (team_answer);
  g_autoptr (GError) error = NULL;
  const char *text = NULL;
  JsonObject *object = NULL;
  JsonArray *array = NULL;
  gint64 number = 0;
  gboolean flag = FALSE;

  g_assert_false (ppm_json_get_string (answer, "list", &text, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (ppm_json_get_int (answer, "uri", &number, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (ppm_json_get_object (answer, "list", &object, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (ppm_json_get_array (answer, "error_code", &array, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (ppm_json_get_bool (answer, "error_string", &flag, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (ppm_json_get_string (answer, "no_such_member", &text, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_clear_error (&error);
  /* A NULL object is a missing member, not a crash. */
  g_assert_false (ppm_json_get_string (NULL, "uuid", &text, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_assert_null (ppm_json_opt_object (NULL, "x"));
  g_assert_null (ppm_json_opt_array (answer, "uri"));
  g_assert_cmpint (ppm_json_opt_int (answer, "uri", 7), ==, 7);
  g_assert_true (ppm_json_opt_bool (answer, "uri", TRUE));
}

static void
test_raw_hash_strings (void)
{
  g_autoptr (JsonObject) item = parse (raw_hash);
  gboolean flag = TRUE;
  gint64 number = 0;
  double ratio = 0;

  g_assert_true (ppm_json_get_bool (item, "user_mute_notification", &flag, NULL));
  g_assert_false (flag);
  g_assert_true (ppm_json_get_int (item, "count", &number, NULL));
  g_assert_cmpint (number, ==, 42);
  g_assert_true (ppm_json_get_double (item, "ratio", &ratio, NULL));
  g_assert_cmpfloat_with_epsilon (ratio, 1.5, 1e-9);
  g_assert_false (ppm_json_get_int (item, "status", &number, NULL));
  g_assert_false (ppm_json_get_int (item, "ratio", &number, NULL));
  g_assert_null (ppm_json_opt_nonempty (item, "missing"));
}

static void
test_numbers (void)
{
  g_autoptr (JsonObject) object = parse ("{\"ts\": 1795945921.34096, \"updatetime\": 1795945904,"
                                         " \"big\": 9007199254740993}");
  double ts = 0;
  gint64 number = 0;

  g_assert_true (ppm_json_get_double (object, "ts", &ts, NULL));
  g_assert_cmpfloat_with_epsilon (ts, 1795945921.34096, 1e-6);
  g_assert_true (ppm_json_get_double (object, "updatetime", &ts, NULL));
  g_assert_cmpfloat_with_epsilon (ts, 1795945904.0, 1e-6);
  g_assert_false (ppm_json_get_int (object, "ts", &number, NULL));
  g_assert_true (ppm_json_get_int (object, "big", &number, NULL));
  g_assert_cmpint (number, ==, G_GINT64_CONSTANT (9007199254740993));
}

static void
test_nested_json_string (void)
{
  g_autoptr (JsonObject) answer = parse (unacked_answer);
  JsonArray *list = ppm_json_opt_array (answer, "list");
  JsonObject *messages = ppm_json_opt_object (answer, "message");
  const char *pid = ppm_json_array_string (list, 0);
  const char *text = ppm_json_opt_string (messages, pid);
  g_autoptr (JsonObject) compact = NULL;

  g_assert_nonnull (text);
  compact = parse (text);
  g_assert_cmpstr (ppm_json_opt_string (compact, "bo"), ==, "visitor message 5");
}

static void
test_escapes_and_surrogates (void)
{
  /* Python's ensure_ascii output: BMP escapes and a surrogate pair (U+1F600). */
  g_autoptr (JsonObject) object =
    parse ("{\"bo\": \"Thanks \\u8c22\\u8c22 \\u2014 unicode \\u2713 \\ud83d\\ude00\","
           " \"tornado\": \"<\\/script>\"}");

  g_assert_cmpstr (ppm_json_opt_string (object, "bo"), ==,
                   "Thanks 谢谢 — unicode ✓ \xf0\x9f\x98\x80");
  g_assert_cmpstr (ppm_json_opt_string (object, "tornado"), ==, "</script>");
}

static void
test_serialise (void)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autofree char *text = NULL;
  g_autoptr (JsonObject) back = NULL;

  json_object_set_string_member (object, "message_body", "emoji \xf0\x9f\x98\x80 \"quoted\"");
  json_object_set_boolean_member (object, "is_service_user", TRUE);
  text = ppm_json_object_to_string (object);
  back = parse (text);
  g_assert_cmpstr (ppm_json_opt_string (back, "message_body"), ==,
                   "emoji \xf0\x9f\x98\x80 \"quoted\"");
  g_assert_true (ppm_json_opt_bool (back, "is_service_user", FALSE));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lib/json/parse-malformed", test_parse_malformed);
  g_test_add_func ("/lib/json/parse-truncated-recording", test_parse_truncated_recording);
  g_test_add_func ("/lib/json/recorded-team-list", test_recorded_team_list);
  g_test_add_func ("/lib/json/wrong-types", test_wrong_types);
  g_test_add_func ("/lib/json/raw-hash-strings", test_raw_hash_strings);
  g_test_add_func ("/lib/json/numbers", test_numbers);
  g_test_add_func ("/lib/json/nested-json-string", test_nested_json_string);
  g_test_add_func ("/lib/json/escapes-and-surrogates", test_escapes_and_surrogates);
  g_test_add_func ("/lib/json/serialise", test_serialise);
  return g_test_run ();
}
