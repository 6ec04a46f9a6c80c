/* ppm-message.c: message parsing (see ppm-message.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-message.h"
#include "ppm-json.h"
#include "ppm-transfer.h"

#include <glib/gi18n-lib.h>

#include <stdio.h>
#include <string.h>

void
ppm_message_free (PpmMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->uuid);
  g_free (message->conversation_uuid);
  g_free (message->from_uuid);
  g_free (message->from_name);
  g_free (message->subtype);
  g_free (message->text);
  g_free (message->file_url);
  g_free (message->file_name);
  g_free (message->mime);
  g_free (message->preview_url);
  g_clear_pointer (&message->image, g_bytes_unref);
  g_free (message->image_error);
  g_free (message);
}

PpmMessage *
ppm_message_copy (const PpmMessage *message)
{
  PpmMessage *copy = g_new0 (PpmMessage, 1);

  *copy = *message;
  copy->uuid = g_strdup (message->uuid);
  copy->conversation_uuid = g_strdup (message->conversation_uuid);
  copy->from_uuid = g_strdup (message->from_uuid);
  copy->from_name = g_strdup (message->from_name);
  copy->subtype = g_strdup (message->subtype);
  copy->text = g_strdup (message->text);
  copy->file_url = g_strdup (message->file_url);
  copy->file_name = g_strdup (message->file_name);
  copy->mime = g_strdup (message->mime);
  copy->preview_url = g_strdup (message->preview_url);
  copy->image = message->image ? g_bytes_ref (message->image) : NULL;
  copy->image_error = g_strdup (message->image_error);
  return copy;
}

char *
ppm_message_download_url (const char *base_url, const char *fid, const char *name)
{
  g_autofree char *escaped_fid = g_uri_escape_string (fid, NULL, FALSE);
  g_autofree char *escaped_name = NULL;

  /* The server puts file_name into a Content-Disposition header, and
   * answers HTTP 500 for a control character in it (Tornado's "Unsafe
   * header value"): such a name is left out of the address. */
  for (const char *c = name; c != NULL && *c != '\0'; c++)
    if ((guchar) *c < 0x20)
      name = NULL;
  if (name == NULL || *name == '\0')
    return g_strconcat (base_url, "/download/download/", escaped_fid, NULL);
  escaped_name = g_uri_escape_string (name, NULL, FALSE);
  return g_strconcat (base_url, "/download/download/", escaped_fid, "?file_name=",
                      escaped_name, NULL);
}

/* The optional " ffffff" after the seconds: microseconds, 0 when absent
 * or unreadable (the seconds are enough to show a time). */
static int
parse_microseconds (const char *text)
{
  int microseconds = 0, digits = 0;

  if (*text++ != ' ')
    return 0;
  for (; g_ascii_isdigit (*text) && digits < 6; text++, digits++)
    microseconds = microseconds * 10 + (*text - '0');
  if (digits == 0 || *text != '\0')
    return 0;
  for (; digits < 6; digits++)  /* a shorter field is still a fraction */
    microseconds *= 10;
  return microseconds;
}

gint64
ppm_message_parse_createtime_us (const char *text)
{
  int year, month, day, hour, minute, second, end = 0;
  g_autoptr (GDateTime) time = NULL;

  if (text == NULL ||
      sscanf (text, "%d-%d-%d %d:%d:%d%n", &year, &month, &day, &hour, &minute, &second,
              &end) != 6 || end == 0)
    return -1;
  time = g_date_time_new_local (year, month, day, hour, minute, second);
  if (time == NULL)
    return -1;
  return g_date_time_to_unix (time) * G_USEC_PER_SEC + parse_microseconds (text + end);
}

gint64
ppm_message_parse_createtime (const char *text)
{
  gint64 time_us = ppm_message_parse_createtime_us (text);

  return time_us < 0 ? -1 : time_us / G_USEC_PER_SEC;
}

/* Anything beyond the year 5000 is not a time. */
#define MAX_TS 1e11

/* Microseconds since the epoch of a compact form's float "ts", or 0. */
static gint64
ts_to_us (double ts)
{
  if (!(ts > 0 && ts < MAX_TS))
    return 0;
  /* Doubles of this size keep the microseconds: round, not truncate. */
  return (gint64) (ts * G_USEC_PER_SEC + 0.5);
}

gboolean
ppm_message_is_logout (JsonObject *msg, const char **device_uuid)
{
  const char *type = ppm_json_opt_string (msg, "mt");
  const char *subtype = ppm_json_opt_string (msg, "ms");

  if (g_strcmp0 (type, "SYS") != 0 || g_strcmp0 (subtype, "LOGOUT") != 0)
    return FALSE;
  if (device_uuid)
    *device_uuid = ppm_json_opt_string (msg, "bo");
  return TRUE;
}

gboolean
ppm_message_needs_text (const PpmMessage *message)
{
  return g_strcmp0 (message->subtype, "TXT") == 0 && message->text == NULL &&
         message->file_url != NULL;
}

void
ppm_message_set_text (PpmMessage *message, const char *text)
{
  g_free (message->text);
  message->text = g_strdup (text);
}

const char *
ppm_message_pending_download (const PpmMessage *message, gsize *max_bytes)
{
  if (ppm_message_needs_text (message)) {
    *max_bytes = PPM_MAX_TEXT_BYTES;
    return message->file_url;
  }
  if (message->kind == PPM_MESSAGE_IMAGE && message->preview_url != NULL &&
      message->image == NULL && message->image_error == NULL) {
    *max_bytes = PPM_MAX_IMAGE_BYTES;
    return message->preview_url;
  }
  return NULL;
}

static void
complete_text (PpmMessage *message, GBytes *body, const GError *error)
{
  g_autofree char *text = NULL;

  if (error == NULL) {
    gsize size = 0;
    const char *data = g_bytes_get_data (body, &size);

    text = g_utf8_make_valid (data ? data : "", size);
  } else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    text = g_strdup_printf ("(a message longer than %u KiB, not shown here: %s)",
                            PPM_MAX_TEXT_BYTES / 1024, message->file_url);
    /* Too long to show: offered as a file instead. */
    message->kind = PPM_MESSAGE_FILE;
    message->file_name = g_strdup ("long-message.txt");
  } else {
    text = g_strdup_printf ("(a long message that could not be downloaded: %s)",
                            message->file_url);
  }
  ppm_message_set_text (message, text);
}

/* PNG, JPEG or GIF, the types the server takes for images, by their
 * first bytes: anything else would be a broken picture in the window. */
static gboolean
looks_like_image (GBytes *body)
{
  gsize size = 0;
  const guint8 *data = body != NULL ? g_bytes_get_data (body, &size) : NULL;

  return ppm_file_image_mime (data, size) != NULL;
}

void
ppm_message_complete_download (PpmMessage *message, GBytes *body, const GError *error)
{
  if (message->kind != PPM_MESSAGE_IMAGE) {
    complete_text (message, body, error);
  } else if (error == NULL && looks_like_image (body)) {
    message->image = g_bytes_ref (body);
  } else if (error == NULL) {
    g_debug ("message %s: the picture downloaded is no PNG, JPEG or GIF", message->uuid);
    message->image_error = g_strdup (_("the server sent no picture"));
  } else if (error != NULL &&
             g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    message->image_error = g_strdup_printf (_("larger than %u MiB"),
                                            PPM_MAX_IMAGE_BYTES / (1024 * 1024));
  } else {
    message->image_error = g_strdup (error->message);
  }
}

/* "1.5 MB" and the like. */
static char *
size_text (gint64 size)
{
  return size >= 0 ? g_format_size ((guint64) size) : g_strdup ("unknown size");
}

/* The non-TEXT bodies are JSON documents inside the string. */
static JsonObject *
body_object (const char *body)
{
  return body ? ppm_json_parse_object (body, -1, NULL) : NULL;
}

static void
fill_txt (PpmMessage *message, const char *body, const char *base_url)
{
  g_autoptr (JsonObject) object = body_object (body);
  const char *fid = object ? ppm_json_opt_nonempty (object, "fid") : NULL;

  message->kind = PPM_MESSAGE_TEXT;
  if (fid == NULL) {
    message->text = g_strdup ("(a long text message that could not be read)");
    return;
  }
  message->file_url = ppm_message_download_url (base_url, fid, NULL);
  message->mime = g_strdup ("text/plain");
}

/* The thumbnail where the server made one with fewer pixels, else the
 * original: a small image is its own thumbnail (thum = orig, observed in
 * ../shared/protocol/transcripts/06-upload-image-file.jsonl), and a GIF
 * is never reduced (../shared/protocol/PPMESSAGE-PROTOCOL.md, "Body by
 * sub-type"); PPM_MAX_IMAGE_BYTES bounds a large one. */
static const char *
preview_fid (JsonObject *object, const char *orig)
{
  const char *thum = ppm_json_opt_nonempty (object, "thum");
  gint64 orig_pixels = ppm_json_opt_int (object, "orig_width", 0) *
                       ppm_json_opt_int (object, "orig_height", 0);
  gint64 thum_pixels = ppm_json_opt_int (object, "thum_width", 0) *
                       ppm_json_opt_int (object, "thum_height", 0);

  if (thum == NULL || (orig_pixels > 0 && thum_pixels >= orig_pixels))
    return orig;
  return thum;
}

static void
fill_image (PpmMessage *message, const char *body, const char *base_url)
{
  g_autoptr (JsonObject) object = body_object (body);
  const char *fid = object ? ppm_json_opt_nonempty (object, "orig") : NULL;
  const char *preview;

  if (fid == NULL && object)
    fid = ppm_json_opt_nonempty (object, "fid");
  if (fid == NULL && object)
    fid = ppm_json_opt_nonempty (object, "thum");
  if (fid == NULL) {
    message->kind = PPM_MESSAGE_OTHER;
    message->text = g_strdup ("(an image that could not be read)");
    return;
  }
  message->kind = PPM_MESSAGE_IMAGE;
  message->file_url = ppm_message_download_url (base_url, fid, NULL);
  message->mime = g_strdup (ppm_json_opt_nonempty (object, "mime"));
  preview = preview_fid (object, fid);
  message->preview_url = ppm_message_download_url (base_url, preview, NULL);
  message->text = g_strdup_printf ("Image: %s", message->file_url);
}

static void
fill_file (PpmMessage *message, const char *body, const char *base_url)
{
  g_autoptr (JsonObject) object = body_object (body);
  const char *fid = object ? ppm_json_opt_nonempty (object, "fid") : NULL;
  const char *name;
  g_autofree char *size = NULL;

  if (fid == NULL) {
    message->kind = PPM_MESSAGE_OTHER;
    message->text = g_strdup ("(a file that could not be read)");
    return;
  }
  name = ppm_json_opt_nonempty (object, "name");
  message->kind = PPM_MESSAGE_FILE;
  message->file_name = g_strdup (name ? name : fid);
  message->mime = g_strdup (ppm_json_opt_nonempty (object, "mime"));
  message->file_size = ppm_json_opt_int (object, "size", -1);
  message->file_url = ppm_message_download_url (base_url, fid, message->file_name);
  size = size_text (message->file_size);
  message->text = g_strdup_printf ("File: %s (%s) %s", message->file_name, size,
                                   message->file_url);
}

/* A voice message: the server keeps it as mp3, m4a and amr (a desktop
 * plays mp3, ../shared/protocol/PPMESSAGE-PROTOCOL.md "Download"), offered
 * as a file. */
static void
fill_audio (PpmMessage *message, const char *body, const char *base_url)
{
  static const struct {
    const char *member, *name, *mime;
  } formats[] = {
    { "mp3", "voice-message.mp3", "audio/mpeg" },
    { "m4a", "voice-message.m4a", "audio/mp4" },
    { "amr", "voice-message.amr", "audio/amr" },
  };
  g_autoptr (JsonObject) object = body_object (body);

  for (guint i = 0; object != NULL && i < G_N_ELEMENTS (formats); i++) {
    JsonObject *format = ppm_json_opt_object (object, formats[i].member);
    const char *fid = format ? ppm_json_opt_nonempty (format, "fid") : NULL;

    if (fid == NULL)
      continue;
    message->kind = PPM_MESSAGE_FILE;
    message->file_name = g_strdup (formats[i].name);
    message->mime = g_strdup (formats[i].mime);
    message->file_url = ppm_message_download_url (base_url, fid, message->file_name);
    message->text = g_strdup_printf ("Voice message: %s", message->file_url);
    return;
  }
  message->kind = PPM_MESSAGE_OTHER;
  message->text = g_strdup ("(a voice message that could not be read)");
}

static void
fill_body (PpmMessage *message, const char *body, const char *base_url)
{
  const char *subtype = message->subtype;

  if (g_strcmp0 (subtype, "TEXT") == 0) {
    message->kind = PPM_MESSAGE_TEXT;
    message->text = g_strdup (body ? body : "");
  } else if (g_strcmp0 (subtype, "TXT") == 0) {
    fill_txt (message, body, base_url);
  } else if (g_strcmp0 (subtype, "IMAGE") == 0) {
    fill_image (message, body, base_url);
  } else if (g_strcmp0 (subtype, "FILE") == 0) {
    fill_file (message, body, base_url);
  } else if (g_strcmp0 (subtype, "AUDIO") == 0) {
    fill_audio (message, body, base_url);
  } else {
    message->kind = PPM_MESSAGE_OTHER;
    message->text = g_strdup_printf ("(a message of type %s, which this client cannot show)",
                                     subtype);
  }
}

static PpmMessage *
new_message (const char *uuid, const char *conversation, const char *from,
             const char *subtype)
{
  PpmMessage *message = g_new0 (PpmMessage, 1);

  message->uuid = g_strdup (uuid);
  message->conversation_uuid = g_strdup (conversation);
  message->from_uuid = g_strdup (from);
  message->subtype = g_ascii_strup (subtype, -1);
  message->file_size = -1;
  message->time = g_get_real_time () / G_USEC_PER_SEC;
  return message;
}

static void
take_sender_name (PpmMessage *message, JsonObject *container)
{
  JsonObject *from_user = ppm_json_opt_object (container, "from_user");
  const char *name = from_user ? ppm_json_opt_nonempty (from_user, "user_fullname") : NULL;

  if (name != NULL)
    message->from_name = g_strdup (name);
}

PpmMessage *
ppm_message_parse_compact (JsonObject *msg, const char *base_url, char **pid, GError **error)
{
  const char *id, *conversation, *from, *subtype, *body = NULL;
  PpmMessage *message;
  double ts;

  if (pid)
    *pid = NULL;
  if (!ppm_json_get_string (msg, "id", &id, error) ||
      !ppm_json_get_string (msg, "ci", &conversation, error) ||
      !ppm_json_get_string (msg, "fi", &from, error) ||
      !ppm_json_get_string (msg, "ms", &subtype, error))
    return NULL;
  body = ppm_json_opt_string (msg, "bo");
  message = new_message (id, conversation, from, subtype);
  if (ppm_json_get_double (msg, "ts", &ts, NULL))
    message->time_us = ts_to_us (ts);
  if (message->time_us > 0)
    message->time = message->time_us / G_USEC_PER_SEC;
  take_sender_name (message, msg);
  fill_body (message, body, base_url);
  if (pid)
    *pid = g_strdup (ppm_json_opt_nonempty (msg, "pid"));
  return message;
}

PpmMessage *
ppm_message_parse_compact_text (const char *text, const char *base_url, GError **error)
{
  g_autoptr (JsonObject) msg = ppm_json_parse_object (text, -1, error);

  return msg ? ppm_message_parse_compact (msg, base_url, NULL, error) : NULL;
}

/* A record without message_body (not dispatched yet): the long fields. */
static PpmMessage *
parse_long_fields (JsonObject *record, const char *base_url, GError **error)
{
  const char *id, *conversation, *from, *subtype;
  PpmMessage *message;
  gint64 time_us;

  if (!ppm_json_get_string (record, "uuid", &id, error) ||
      !ppm_json_get_string (record, "conversation_uuid", &conversation, error) ||
      !ppm_json_get_string (record, "from_uuid", &from, error) ||
      !ppm_json_get_string (record, "message_subtype", &subtype, error))
    return NULL;
  message = new_message (id, conversation, from, subtype);
  time_us = ppm_message_parse_createtime_us (ppm_json_opt_string (record, "createtime"));
  if (time_us > 0) {
    message->time_us = time_us;
    message->time = time_us / G_USEC_PER_SEC;
  }
  fill_body (message, ppm_json_opt_string (record, "body"), base_url);
  return message;
}

PpmMessage *
ppm_message_parse_record_timed (JsonObject *record, const char *base_url,
                                gboolean *time_is_epoch, GError **error)
{
  const char *compact = ppm_json_opt_nonempty (record, "message_body");
  PpmMessage *message = NULL;

  *time_is_epoch = FALSE;
  if (compact != NULL)
    message = ppm_message_parse_compact_text (compact, base_url, NULL);
  if (message != NULL)
    *time_is_epoch = TRUE;
  else
    message = parse_long_fields (record, base_url, error);
  if (message != NULL && message->from_name == NULL)
    take_sender_name (message, record);
  return message;
}

PpmMessage *
ppm_message_parse_record (JsonObject *record, const char *base_url, GError **error)
{
  gboolean time_is_epoch;

  return ppm_message_parse_record_timed (record, base_url, &time_is_epoch, error);
}
