/* fuzz-message.c: message bodies of every subtype, in the three wire forms
 * (compact push, message_body text of lists, history record), plus the
 * creation-time parser.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fuzz-common.h"
#include "ppm-json.h"
#include "ppm-message.h"

#define BASE "http://127.0.0.1:8945/prefix"

static const char *const subtypes[] = { "TEXT", "TXT", "IMAGE", "FILE", "AUDIO", "card" };

/* The input as the "bo" body of a compact message of each subtype. */
static void
parse_as_bodies (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (subtypes); i++) {
    g_autoptr (JsonObject) msg = json_object_new ();
    g_autoptr (PpmMessage) message = NULL;

    json_object_set_string_member (msg, "id", "m");
    json_object_set_string_member (msg, "ci", "c");
    json_object_set_string_member (msg, "fi", "f");
    json_object_set_string_member (msg, "ms", subtypes[i]);
    json_object_set_string_member (msg, "bo", text);
    message = ppm_message_parse_compact (msg, BASE, NULL, NULL);
    if (message && ppm_message_needs_text (message))
      ppm_message_set_text (message, text);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (JsonObject) object = ppm_json_parse_object ((const char *) data, (gssize) size,
                                                         NULL);

  ppm_message_parse_createtime (text);
  if (g_utf8_validate (text, -1, NULL))
    parse_as_bodies (text);
  if (object == NULL)
    return 0;
  {
    g_autoptr (PpmMessage) compact = ppm_message_parse_compact (object, BASE, NULL, NULL);
    g_autoptr (PpmMessage) record = ppm_message_parse_record (object, BASE, NULL);
    g_autoptr (PpmMessage) from_text = ppm_message_parse_compact_text (text, BASE, NULL);
    g_autoptr (PpmMessage) copy = record ? ppm_message_copy (record) : NULL;
  }
  return 0;
}
