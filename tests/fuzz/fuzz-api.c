/* fuzz-api.c: answers of the HTTP API: the /api/NAME envelope, the
 * /ppauth/token answer, and the members the sign-in reads from them.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fuzz-common.h"
#include "ppm-api.h"
#include "ppm-json.h"

/* What the client reads from list answers (conversations, team, history,
 * unacked), each with the typed accessors. */
static void
read_lists (JsonObject *answer)
{
  JsonArray *list = ppm_json_opt_array (answer, "list");
  JsonObject *messages = ppm_json_opt_object (answer, "message");

  ppm_json_opt_int (answer, "total_count", -1);
  for (guint i = 0; list && i < json_array_get_length (list) && i < 256; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    const char *pid = ppm_json_array_string (list, i);

    if (item) {
      ppm_json_opt_nonempty (item, "uuid");
      ppm_json_opt_object (item, "conversation_data");
      ppm_json_opt_object (item, "latest_message");
      ppm_json_opt_bool (item, "is_service_user", FALSE);
    }
    if (pid && messages)
      ppm_json_opt_string (messages, pid);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) token_error = NULL;
  g_autoptr (JsonObject) answer = ppm_api_parse_answer ("PP_FUZZ", (const char *) data, size,
                                                        &error);
  g_autoptr (JsonObject) token = ppm_api_parse_token_answer ((const char *) data, size,
                                                             &token_error);

  if (answer == NULL)
    g_assert (error != NULL);
  else
    read_lists (answer);
  if (token)
    ppm_json_opt_nonempty (token, "access_token");
  return 0;
}
