/* files.c: uploads (/upload/upload/, /ppkefu/upload/), downloads and
 * identicons (protocol 10), without authentication as on the real server.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

static GHashTable *
query_of (SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  return query ? soup_form_decode (query) : NULL;
}

static void
upload (PpmsServer *server, SoupServerMessage *msg)
{
  g_autofree char *filename = NULL, *content_type = NULL, *text = NULL;
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GHashTable) fields = NULL;
  g_autoptr (JsonObject) o = json_object_new ();
  g_autofree char *hash = NULL;
  guint before;
  PpmsFile *f;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      ppms_respond_html_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
      return;
    }
  fields = ppms_form_parse (msg, "file", &filename, &content_type, &data);
  if (fields == NULL || data == NULL || g_bytes_get_size (data) == 0)
    {
      ppms_respond_traceback (msg, "../../backend/tornadouploadapp", "KeyError: 'file'");
      return;
    }
  before = g_hash_table_size (server->files);
  f = ppms_file_add (server, filename, content_type, data);
  if (g_hash_table_size (server->files) > before)
    {
      /* New file: recorded with its uploader; de-duplicated answers lack CORS. */
      g_free (f->user_uuid);
      f->user_uuid = g_strdup (g_hash_table_lookup (fields, "user_uuid"));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Access-Control-Allow-Origin", "*");
    }
  json_object_set_string_member (o, "fuuid", f->uuid);
  text = ppms_json_object_to_string (o);
  ppms_respond_bytes (msg, SOUP_STATUS_OK, "text/html; charset=UTF-8", text, strlen (text));
}

static PpmsFile *
ppkefu_upload_file (PpmsServer *server, SoupServerMessage *msg, GHashTable *form,
                    const char *type, GBytes *file, const char *filename, const char *ctype)
{
  const char *value;

  if (g_str_equal (type, "file") && file != NULL)
    return ppms_file_add_copy (server, filename, ctype, file);
  if (g_str_equal (type, "content_txt") && (value = g_hash_table_lookup (form, "content_txt")))
    {
      g_autoptr (GBytes) b = g_bytes_new (value, strlen (value));
      return ppms_file_add_copy (server, "txt", "text/plain", b);
    }
  if (g_str_equal (type, "content_html") && (value = g_hash_table_lookup (form, "content_html")))
    {
      g_autoptr (GBytes) b = g_bytes_new (value, strlen (value));
      return ppms_file_add_copy (server, "html", "text/html", b);
    }
  if (g_str_equal (type, "content_icon") && (value = g_hash_table_lookup (form, "content_icon"))
      && strchr (value, ',') != NULL)
    {
      gsize len = 0;
      guchar *raw = g_base64_decode (strchr (value, ',') + 1, &len);
      g_autoptr (GBytes) b = g_bytes_new_take (raw, len);
      return ppms_file_add_copy (server, "icon", "image/png", b);
    }
  return NULL;
}

static void
ppkefu_upload (PpmsServer *server, SoupServerMessage *msg)
{
  g_autofree char *filename = NULL, *ctype = NULL;
  g_autoptr (GBytes) file = NULL;
  g_autoptr (GHashTable) form = ppms_form_parse (msg, "file", &filename, &ctype, &file);
  g_autoptr (JsonObject) o = json_object_new ();
  const char *type = form ? g_hash_table_lookup (form, "upload_type") : NULL;
  PpmsFile *f = type ? ppkefu_upload_file (server, msg, form, type, file, filename, ctype) : NULL;

  if (f == NULL)
    {
      ppms_respond_bytes (msg, SOUP_STATUS_OK, "text/html; charset=UTF-8", "", 0);
      return;
    }
  json_object_set_string_member (o, "fid", f->uuid);
  json_object_set_string_member (o, "mime", f->file_mime);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Access-Control-Allow-Origin", "*");
  {
    g_autofree char *text = ppms_json_object_to_string (o);
    ppms_respond_bytes (msg, SOUP_STATUS_OK, "application/json", text, strlen (text));
  }
}

static void
serve_file (SoupServerMessage *msg, PpmsFile *f, const char *content_type, const char *attachment,
            gboolean cors)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (f->createtime / G_USEC_PER_SEC);
  g_autofree char *modified = g_date_time_format (when, "%a, %d %b %Y %H:%M:%S GMT");
  g_autofree char *etag = g_strdup_printf ("\"%s\"", f->file_hash);
  const char *if_none_match = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                           "If-None-Match");
  gsize len = 0;
  const void *data = g_bytes_get_data (f->data, &len);

  if (cors)
    soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (h, "Accept-Ranges", "bytes");
  soup_message_headers_replace (h, "Etag", etag);
  soup_message_headers_replace (h, "Last-Modified", modified);
  /* Tornado refuses a header value with a control character ("Unsafe
   * header value", a ValueError): the ?file_name= of a name holding a line
   * break ends in HTTP 500. */
  for (const char *c = attachment; c != NULL && *c != '\0'; c++)
    if ((guchar) *c < 0x20)
      {
        ppms_respond_bytes (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/html; charset=UTF-8",
                            "500: Internal Server Error", 26);
        return;
      }
  if (attachment != NULL)
    {
      g_autofree char *value = g_strdup_printf ("attachment; filename=\"%s\"", attachment);
      soup_message_headers_replace (h, "Content-Disposition", value);
    }
  if (g_strcmp0 (if_none_match, etag) == 0)
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
  else
    ppms_respond_bytes (msg, SOUP_STATUS_OK, content_type, data, len);
}

static void
download (PpmsServer *server, SoupServerMessage *msg, const char *uuid, gboolean material)
{
  PpmsFile *f = ppms_file_lookup (server, uuid);
  g_autoptr (GHashTable) query = query_of (msg);
  const char *name = query ? g_hash_table_lookup (query, "file_name") : NULL;

  if (f == NULL)
    ppms_respond_html_error (msg, SOUP_STATUS_NOT_FOUND);
  else if (material && name == NULL)
    ppms_respond_html_error (msg, SOUP_STATUS_BAD_REQUEST);
  else
    serve_file (msg, f, material ? "application/octet-stream" : f->file_mime, name, TRUE);
}

/* Generated identicons: "<n>.png" (0..255), "<sha1>.png" group icons and
 * "default_icon.png" are all the same small PNG; "<file uuid>" serves an
 * icon set through PP_UPDATE_USER. */
static gboolean
identicon_known (const char *name)
{
  g_autofree char *stem = g_str_has_suffix (name, ".png") ? g_strndup (name, strlen (name) - 4) : NULL;
  char *end = NULL;
  guint64 n;

  if (stem == NULL)
    return FALSE;
  if (g_str_equal (stem, "default_icon"))
    return TRUE;
  if (strlen (stem) == 40 && strspn (stem, "0123456789abcdef") == 40)
    return TRUE;
  n = g_ascii_strtoull (stem, &end, 10);
  return *stem != '\0' && end != NULL && *end == '\0' && n < 256;
}

static void
identicon (PpmsServer *server, SoupServerMessage *msg, const char *name)
{
  PpmsFile *f = ppms_file_lookup (server, name);
  static const char not_found[] =
    "Traceback (most recent call last):\n"
    "  File \"tornado/web.py\", line 1735, in _execute\n"
    "  File \"tornado/web.py\", line 2636, in get\n"
    "  File \"ppmessage/core/identiconhandler.py\", line 63, in validate_absolute_path\n"
    "tornado.web.HTTPError: HTTP 404: Not Found\n";

  if (f != NULL)
    serve_file (msg, f, f->file_mime, NULL, TRUE);
  else if (identicon_known (name))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Access-Control-Allow-Origin", "*");
      ppms_respond_bytes (msg, SOUP_STATUS_OK, "image/png", ppms_identicon_png, sizeof ppms_identicon_png);
    }
  else
    ppms_respond_bytes (msg, SOUP_STATUS_NOT_FOUND, "text/plain", not_found, strlen (not_found));
}

gboolean
ppms_files_handle (PpmsServer *server, SoupServerMessage *msg, const char *path)
{
  if (g_str_has_prefix (path, "/upload/upload/"))
    upload (server, msg);
  else if (g_str_has_prefix (path, "/ppkefu/upload/"))
    ppkefu_upload (server, msg);
  else if (g_str_has_prefix (path, "/download/download/"))
    download (server, msg, path + strlen ("/download/download/"), FALSE);
  else if (g_str_has_prefix (path, "/ppkefu/download/"))
    download (server, msg, path + strlen ("/ppkefu/download/"), FALSE);
  else if (g_str_has_prefix (path, "/ppkefu/material/"))
    download (server, msg, path + strlen ("/ppkefu/material/"), TRUE);
  else if (g_str_has_prefix (path, "/ppkefu/icon/"))
    download (server, msg, path + strlen ("/ppkefu/icon/"), FALSE);
  else if (g_str_has_prefix (path, "/identicon/identicon/"))
    identicon (server, msg, path + strlen ("/identicon/identicon/"));
  else
    return FALSE;
  return TRUE;
}
