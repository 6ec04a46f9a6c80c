/* ppm-json.h: parsing and typed, NULL-safe access to JSON answers and frames.
 * Every getter returns FALSE with a PPM_ERROR_PROTOCOL error when the member
 * is missing or has another type; the "opt" variants return a default.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Parses UTF-8 text that must hold one JSON object; returns a new reference. */
JsonObject *ppm_json_parse_object (const char *data, gssize length, GError **error);

gboolean ppm_json_get_string (JsonObject *object, const char *member,
                              const char **value, GError **error);
/* Integers; a decimal string is accepted too (raw Redis hashes hold strings). */
gboolean ppm_json_get_int (JsonObject *object, const char *member,
                           gint64 *value, GError **error);
/* Integer or float; a decimal string is accepted too. */
gboolean ppm_json_get_double (JsonObject *object, const char *member,
                              double *value, GError **error);
/* JSON booleans, or the strings "True"/"False" of raw hashes. */
gboolean ppm_json_get_bool (JsonObject *object, const char *member,
                            gboolean *value, GError **error);
gboolean ppm_json_get_object (JsonObject *object, const char *member,
                              JsonObject **value, GError **error);
gboolean ppm_json_get_array (JsonObject *object, const char *member,
                             JsonArray **value, GError **error);

/* NULL when missing, null or not a string. */
const char *ppm_json_opt_string (JsonObject *object, const char *member);
/* The string, or NULL when it is missing, null, not a string or empty. */
const char *ppm_json_opt_nonempty (JsonObject *object, const char *member);
gboolean    ppm_json_opt_bool (JsonObject *object, const char *member, gboolean fallback);
gint64      ppm_json_opt_int (JsonObject *object, const char *member, gint64 fallback);
JsonObject *ppm_json_opt_object (JsonObject *object, const char *member);
JsonArray  *ppm_json_opt_array (JsonObject *object, const char *member);

/* A string element of an array, or NULL. */
const char *ppm_json_array_string (JsonArray *array, guint index);
/* An object element of an array, or NULL. */
JsonObject *ppm_json_array_object (JsonArray *array, guint index);

/* Compact serialisation of an object. */
char *ppm_json_object_to_string (JsonObject *object);

G_END_DECLS
