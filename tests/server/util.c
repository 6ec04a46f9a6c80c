/* util.c: identifiers, time formats and JSON output in the real server's style.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <math.h>
#include <time.h>
#include "ppms-internal.h"

char *
ppms_uuid_new (void)
{
  /* uuid1 layout: 60-bit time in 100 ns since 1582-10-15, version 1, a clock
   * sequence and a node; a counter keeps uuids made in the same tick apart. */
  static guint64 last_ticks;
  static guint16 clock_seq;
  static guint64 node;
  guint64 ticks = (guint64) g_get_real_time () * 10 + G_GUINT64_CONSTANT (0x01B21DD213814000);

  if (node == 0)
    {
      node = ((guint64) g_random_int () << 16 | (g_random_int () & 0xffff)) & G_GUINT64_CONSTANT (0xffffffffffff);
      node |= G_GUINT64_CONSTANT (0x010000000000);   /* multicast bit: not a real MAC */
      clock_seq = g_random_int () & 0x3fff;
    }
  if (ticks <= last_ticks)
    ticks = last_ticks + 1;
  last_ticks = ticks;
  return g_strdup_printf ("%08x-%04x-1%03x-%04x-%012" G_GINT64_MODIFIER "x",
                          (guint) (ticks & 0xffffffff), (guint) ((ticks >> 32) & 0xffff),
                          (guint) ((ticks >> 48) & 0x0fff), (guint) (0x8000 | clock_seq),
                          node);
}

char *
ppms_format_datetime (gint64 us)
{
  /* localtime_r, not GDateTime: GLib re-reads the zone on every call, which
   * dominated big list answers. */
  time_t seconds = (time_t) (us / G_USEC_PER_SEC);
  struct tm tm;
  char base[32];

  if (us < 0 || localtime_r (&seconds, &tm) == NULL
      || strftime (base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    return g_strdup ("1970-01-01 00:00:00 000000");
  return g_strdup_printf ("%s %06d", base, (int) (us % G_USEC_PER_SEC));
}

gint64
ppms_epoch_seconds (gint64 us)
{
  return us / G_USEC_PER_SEC;
}

/* Fast path of the repr for the common case, times in microseconds: when
 * value is the double nearest to a whole number of microseconds and below
 * 2^33, that decimal (trailing zeros dropped) is the shortest one reading
 * back as value (half an ulp < 1e-6 there), so it is Python's repr. */
static gboolean
format_microsecond_grid (double value, char *buf, gsize size)
{
  double magnitude = fabs (value);
  gint64 us, whole, fraction;
  int len;

  if (magnitude < 1e-4 || magnitude >= 8589934592.0)
    return FALSE;
  us = (gint64) llround (magnitude * 1e6);
  if ((double) us / 1e6 != magnitude)
    return FALSE;
  whole = us / 1000000;
  fraction = us % 1000000;
  len = g_snprintf (buf, size, "%s%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT, value < 0 ? "-" : "", whole, fraction);
  while (len > 0 && buf[len - 1] == '0' && buf[len - 2] != '.')
    buf[--len] = '\0';
  return TRUE;
}

/* Python repr of a float: the shortest decimal that reads back the same. */
char *
ppms_format_double (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    return g_strdup ("null");
  if (format_microsecond_grid (value, buf, sizeof buf))
    return g_strdup (buf);
  static const char *formats[] = { "%.1g", "%.2g", "%.3g", "%.4g", "%.5g", "%.6g", "%.7g",
                                   "%.8g", "%.9g", "%.10g", "%.11g", "%.12g", "%.13g",
                                   "%.14g", "%.15g", "%.16g", "%.17g" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buf, sizeof buf, formats[i], value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }
  if (strchr (buf, 'e') != NULL && fabs (value) < 1e16 && value == floor (value))
    g_ascii_formatd (buf, sizeof buf, "%.0f", value);   /* Python: no exponent below 1e16 */
  if (strpbrk (buf, ".eEn") == NULL)
    return g_strconcat (buf, ".0", NULL);
  return g_strdup (buf);
}

char *
ppms_format_ts (gint64 us)
{
  return ppms_format_double ((double) us / G_USEC_PER_SEC);
}

guint
ppms_server_scaled_ms (PpmsServer *server, guint ms)
{
  double scaled = ms * (server->timer_scale > 0 ? server->timer_scale : 1.0);
  return scaled < 1.0 ? 1 : (guint) scaled;
}

char *
ppms_sha1_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA1, text, -1);
}

char *
ppms_new_key (void)
{
  /* Base64 of the SHA-1 hex of a fresh uuid: 56 characters ending "==". */
  g_autofree char *uuid = ppms_uuid_new ();
  g_autofree char *seed = g_strdup_printf ("%s-%08x", uuid, g_random_int ());
  g_autofree char *hex = ppms_sha1_hex (seed);
  return g_base64_encode ((const guchar *) hex, strlen (hex));
}

char *
ppms_identicon_url (PpmsServer *server, const char *seed)
{
  guint sum = 0;

  for (const guchar *p = (const guchar *) seed; p && *p; p++)
    sum += *p;
  return g_strdup_printf ("%s/identicon/identicon/%u.png", ppms_server_base (server), sum % 256);
}

const char *
ppms_server_base (PpmsServer *server)
{
  return server->url != NULL ? server->url : "";
}

/* ---- JSON text like Python's json.dumps (ensure_ascii, ", " and ": ") ---- */

static void
append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s; *p; )
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append (out, "\\ufffd");
          p++;
          continue;
        }
      p = g_utf8_next_char (p);
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if (c >= 0x20 && c < 0x7f)
            g_string_append_c (out, (char) c);
          else if (c < 0x10000)
            g_string_append_printf (out, "\\u%04x", c);
          else
            {
              gunichar v = c - 0x10000;
              g_string_append_printf (out, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            }
        }
    }
  g_string_append_c (out, '"');
}

static void append_node (GString *out, JsonNode *node);

static void
append_object (GString *out, JsonObject *object)
{
  GList *members = json_object_get_members (object);

  g_string_append_c (out, '{');
  for (GList *l = members; l; l = l->next)
    {
      if (l != members)
        g_string_append (out, ", ");
      append_string (out, l->data);
      g_string_append (out, ": ");
      append_node (out, json_object_get_member (object, l->data));
    }
  g_string_append_c (out, '}');
  g_list_free (members);
}

static void
append_node (GString *out, JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      g_string_append (out, "null");
      return;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      append_object (out, json_node_get_object (node));
      return;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      g_string_append_c (out, '[');
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          append_node (out, json_array_get_element (array, i));
        }
      g_string_append_c (out, ']');
      return;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      {
        g_autofree char *text = ppms_format_double (json_node_get_double (node));
        g_string_append (out, text);
        break;
      }
    case G_TYPE_STRING:
      append_string (out, json_node_get_string (node));
      break;
    default:
      g_string_append (out, "null");
    }
}

char *
ppms_json_to_string (JsonNode *node)
{
  GString *out = g_string_new (NULL);
  append_node (out, node);
  return g_string_free (out, FALSE);
}

char *
ppms_json_object_to_string (JsonObject *object)
{
  GString *out = g_string_new (NULL);
  append_object (out, object);
  return g_string_free (out, FALSE);
}

/* ---- Small JSON helpers for handlers ---- */

const char *
ppms_json_get_string (JsonObject *object, const char *name)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, name)) == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

const char *
ppms_json_get_nonempty (JsonObject *object, const char *name)
{
  const char *value = ppms_json_get_string (object, name);
  return value != NULL && *value != '\0' ? value : NULL;
}

gboolean
ppms_json_has_nonnull (JsonObject *object, const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;
  return node != NULL && !JSON_NODE_HOLDS_NULL (node);
}

gboolean
ppms_json_get_int (JsonObject *object, const char *name, gint64 *out)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64: *out = json_node_get_int (node); return TRUE;
    case G_TYPE_DOUBLE: *out = (gint64) json_node_get_double (node); return TRUE;
    case G_TYPE_BOOLEAN: *out = json_node_get_boolean (node); return TRUE;
    default: return FALSE;
    }
}

void
ppms_json_set_string_or_null (JsonObject *object, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

void
ppms_json_set_datetime (JsonObject *object, const char *name, gint64 us)
{
  g_autofree char *text = ppms_format_datetime (us);
  json_object_set_string_member (object, name, text);
}

const char *
ppms_json_array_get_string (JsonArray *array, guint index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

char *
ppms_test_tls_file (const char *name)
{
  g_autofree char *dir = g_path_get_dirname (__FILE__);   /* tests/server */
  g_autofree char *path = g_build_filename (dir, "..", "data", "tls", name, NULL);

  /* GTlsFileDatabase wants an absolute anchor path. */
  return g_canonicalize_filename (path, NULL);
}
