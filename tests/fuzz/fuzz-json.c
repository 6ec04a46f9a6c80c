/* fuzz-json.c: JSON parsing, the typed accessors on every member, and the
 * log redaction that server text goes through.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fuzz-common.h"
#include "ppm-json.h"
#include "ppm-redact.h"

static void
probe_member (JsonObject *object, const char *name)
{
  const char *text;
  gint64 number;
  double real;
  gboolean flag;
  JsonObject *child;
  JsonArray *array;

  ppm_json_get_string (object, name, &text, NULL);
  ppm_json_get_int (object, name, &number, NULL);
  ppm_json_get_double (object, name, &real, NULL);
  ppm_json_get_bool (object, name, &flag, NULL);
  ppm_json_opt_string (object, name);
  ppm_json_opt_nonempty (object, name);
  ppm_json_opt_bool (object, name, FALSE);
  ppm_json_opt_int (object, name, -1);
  if (ppm_json_get_object (object, name, &child, NULL))
    ppm_json_opt_string (child, "uuid");
  if (ppm_json_get_array (object, name, &array, NULL)) {
    for (guint i = 0; i < json_array_get_length (array) && i < 64; i++) {
      ppm_json_array_string (array, i);
      ppm_json_array_object (array, i);
    }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) object = ppm_json_parse_object ((const char *) data, (gssize) size,
                                                         &error);
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autofree char *redacted = ppm_redact (text);

  if (object == NULL)
    return 0;
  {
    g_autoptr (GList) members = json_object_get_members (object);
    g_autofree char *again = ppm_json_object_to_string (object);

    for (GList *l = members; l; l = l->next)
      probe_member (object, l->data);
    probe_member (object, "missing member");
  }
  return 0;
}
