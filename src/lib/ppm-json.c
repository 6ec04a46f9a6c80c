/* ppm-json.c: JSON parsing and typed member access (see ppm-json.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-json.h"
#include "ppm-error.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

JsonObject *
ppm_json_parse_object (const char *data, gssize length, GError **error)
{
  /* Not json_parser_new_immutable (): sealing hashes every object parsed,
   * about an eighth of the parse, and nothing here shares nodes. */
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = NULL;
  JsonNode *root;

  if (data == NULL) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_PROTOCOL, _("empty answer"));
    return NULL;
  }
  if (length < 0)
    length = (gssize) strlen (data);
  /* json-glib checks the UTF-8 first ("JSON data must be UTF-8 encoded"):
   * a pass of ours before it cost as much again. */
  if (!json_parser_load_from_data (parser, data, length, &parse_error)) {
    g_set_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL, _("answer is not JSON: %s"),
                 parse_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_PROTOCOL, _("answer is not a JSON object"));
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

/* The member's node when it exists and is not null, else an error. */
static JsonNode *
member_node (JsonObject *object, const char *member, GError **error)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    g_set_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL, _("member \"%s\" is missing"), member);
    return NULL;
  }
  return node;
}

static gboolean
wrong_type (const char *member, const char *expected, GError **error)
{
  /* TRANSLATORS: the second %s is a JSON type name: string, integer, ... */
  g_set_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL, _("member \"%s\" is not of type %s"),
               member, expected);
  return FALSE;
}

static gboolean
node_is_value_of (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

gboolean
ppm_json_get_string (JsonObject *object, const char *member, const char **value,
                     GError **error)
{
  JsonNode *node = member_node (object, member, error);

  if (node == NULL)
    return FALSE;
  if (!node_is_value_of (node, G_TYPE_STRING))
    return wrong_type (member, "string", error);
  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
parse_decimal_int (const char *text, gint64 *value)
{
  char *end = NULL;
  gint64 parsed;

  if (text == NULL || *text == '\0')
    return FALSE;
  errno = 0;
  parsed = g_ascii_strtoll (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0')
    return FALSE;
  *value = parsed;
  return TRUE;
}

gboolean
ppm_json_get_int (JsonObject *object, const char *member, gint64 *value, GError **error)
{
  JsonNode *node = member_node (object, member, error);

  if (node == NULL)
    return FALSE;
  if (node_is_value_of (node, G_TYPE_INT64)) {
    *value = json_node_get_int (node);
    return TRUE;
  }
  if (node_is_value_of (node, G_TYPE_STRING) &&
      parse_decimal_int (json_node_get_string (node), value))
    return TRUE;
  return wrong_type (member, "integer", error);
}

gboolean
ppm_json_get_double (JsonObject *object, const char *member, double *value, GError **error)
{
  JsonNode *node = member_node (object, member, error);

  if (node == NULL)
    return FALSE;
  if ((node_is_value_of (node, G_TYPE_INT64) || node_is_value_of (node, G_TYPE_DOUBLE)) &&
      isfinite (json_node_get_double (node))) {
    *value = json_node_get_double (node);
    return TRUE;
  }
  if (node_is_value_of (node, G_TYPE_STRING)) {
    const char *text = json_node_get_string (node);
    char *end = NULL;
    double parsed;

    errno = 0;
    parsed = g_ascii_strtod (text, &end);
    if (errno == 0 && end != text && *end == '\0' && isfinite (parsed)) {
      *value = parsed;
      return TRUE;
    }
  }
  return wrong_type (member, "number", error);
}

gboolean
ppm_json_get_bool (JsonObject *object, const char *member, gboolean *value, GError **error)
{
  JsonNode *node = member_node (object, member, error);

  if (node == NULL)
    return FALSE;
  if (node_is_value_of (node, G_TYPE_BOOLEAN)) {
    *value = json_node_get_boolean (node);
    return TRUE;
  }
  if (node_is_value_of (node, G_TYPE_STRING)) {
    const char *text = json_node_get_string (node);

    if (g_ascii_strcasecmp (text, "true") == 0 || g_ascii_strcasecmp (text, "false") == 0) {
      *value = g_ascii_strcasecmp (text, "true") == 0;
      return TRUE;
    }
  }
  return wrong_type (member, "boolean", error);
}

gboolean
ppm_json_get_object (JsonObject *object, const char *member, JsonObject **value,
                     GError **error)
{
  JsonNode *node = member_node (object, member, error);

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return wrong_type (member, "object", error);
  *value = json_node_get_object (node);
  return TRUE;
}

gboolean
ppm_json_get_array (JsonObject *object, const char *member, JsonArray **value,
                    GError **error)
{
  JsonNode *node = member_node (object, member, error);

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return wrong_type (member, "array", error);
  *value = json_node_get_array (node);
  return TRUE;
}

const char *
ppm_json_opt_string (JsonObject *object, const char *member)
{
  const char *value = NULL;

  return ppm_json_get_string (object, member, &value, NULL) ? value : NULL;
}

const char *
ppm_json_opt_nonempty (JsonObject *object, const char *member)
{
  const char *value = ppm_json_opt_string (object, member);

  return value != NULL && *value != '\0' ? value : NULL;
}

gboolean
ppm_json_opt_bool (JsonObject *object, const char *member, gboolean fallback)
{
  gboolean value;

  return ppm_json_get_bool (object, member, &value, NULL) ? value : fallback;
}

gint64
ppm_json_opt_int (JsonObject *object, const char *member, gint64 fallback)
{
  gint64 value;

  return ppm_json_get_int (object, member, &value, NULL) ? value : fallback;
}

JsonObject *
ppm_json_opt_object (JsonObject *object, const char *member)
{
  JsonObject *value = NULL;

  return ppm_json_get_object (object, member, &value, NULL) ? value : NULL;
}

JsonArray *
ppm_json_opt_array (JsonObject *object, const char *member)
{
  JsonArray *value = NULL;

  return ppm_json_get_array (object, member, &value, NULL) ? value : NULL;
}

const char *
ppm_json_array_string (JsonArray *array, guint index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);
  return node_is_value_of (node, G_TYPE_STRING) ? json_node_get_string (node) : NULL;
}

JsonObject *
ppm_json_array_object (JsonArray *array, guint index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

char *
ppm_json_object_to_string (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, FALSE);
}
