/* ppm-transfer.c: streamed downloads and uploads (see ppm-transfer.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-transfer.h"
#include "ppm-error.h"
#include "ppm-json.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* Read and handed on at a time: what memory a transfer holds. */
#define CHUNK_BYTES (64 * 1024)

struct _PpmTransfer {
  PpmTransferCallbacks callbacks;
  gpointer user_data;
  SoupMessage *message;
  GCancellable *cancellable;
  GInputStream *body;          /* download: the response being read */
  gboolean detached;           /* cancelled: the pending operation frees it */
  goffset expected_size;       /* download: -1 unknown */
  goffset done;
  goffset total;
  goffset framing_before_file; /* upload: multipart bytes sent before the file's */
  goffset written;             /* upload: body bytes written so far */
};

static void
transfer_free (PpmTransfer *transfer)
{
  if (transfer->callbacks.destroy != NULL)
    transfer->callbacks.destroy (transfer->user_data);
  g_clear_object (&transfer->body);
  g_clear_object (&transfer->message);
  g_clear_object (&transfer->cancellable);
  g_free (transfer);
}

void
ppm_transfer_cancel (PpmTransfer *transfer)
{
  if (transfer == NULL)
    return;
  /* An operation is always pending between start and finish: its
   * completion sees the flag and frees the transfer. */
  transfer->detached = TRUE;
  g_cancellable_cancel (transfer->cancellable);
}

static void
finish (PpmTransfer *transfer, const char *fid, const GError *error)
{
  if (error != NULL)
    g_debug ("transfer failed: %s", error->message);
  if (transfer->callbacks.finished != NULL)
    transfer->callbacks.finished (transfer->user_data, fid, error);
  transfer_free (transfer);
}

/* TRUE when the transfer was cancelled: it is freed and nothing follows. */
static gboolean
freed_if_detached (PpmTransfer *transfer)
{
  if (!transfer->detached)
    return FALSE;
  transfer_free (transfer);
  return TRUE;
}

static void
report_progress (PpmTransfer *transfer)
{
  if (transfer->callbacks.progress != NULL)
    transfer->callbacks.progress (transfer->user_data, transfer->done, transfer->total);
}

static GError *
status_error (SoupMessage *message)
{
  guint status = soup_message_get_status (message);

  return g_error_new (PPM_ERROR, status >= 500 ? PPM_ERROR_SEND_REFUSED : PPM_ERROR_PROTOCOL,
                      _("the server answered HTTP %u"), status);
}

/* ---- Download ---- */

static void read_next (PpmTransfer *transfer);

static void
on_chunk_read (GObject *source, GAsyncResult *result, gpointer data)
{
  PpmTransfer *transfer = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                                               &error);
  gsize size = chunk ? g_bytes_get_size (chunk) : 0;

  if (freed_if_detached (transfer))
    return;
  if (error != NULL) {
    finish (transfer, NULL, error);
    return;
  }
  if (size == 0) {
    if (transfer->expected_size >= 0 && transfer->done != transfer->expected_size)
      error = g_error_new (PPM_ERROR, PPM_ERROR_PROTOCOL,
                           _("the server sent %lld of %lld bytes"), (long long) transfer->done,
                           (long long) transfer->expected_size);
    finish (transfer, NULL, error);
    return;
  }
  if (transfer->expected_size >= 0 && transfer->done + (goffset) size > transfer->expected_size) {
    error = g_error_new (PPM_ERROR, PPM_ERROR_PROTOCOL,
                         _("the server sent more than the %lld bytes announced"),
                         (long long) transfer->expected_size);
    finish (transfer, NULL, error);
    return;
  }
  if (transfer->callbacks.data != NULL &&
      !transfer->callbacks.data (transfer->user_data, g_bytes_get_data (chunk, NULL), size,
                                 &error)) {
    if (freed_if_detached (transfer))
      return;
    finish (transfer, NULL, error);
    return;
  }
  if (freed_if_detached (transfer))
    return;
  transfer->done += size;
  report_progress (transfer);
  if (freed_if_detached (transfer))
    return;
  read_next (transfer);
}

static void
read_next (PpmTransfer *transfer)
{
  g_input_stream_read_bytes_async (transfer->body, CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   transfer->cancellable, on_chunk_read, transfer);
}

static void
on_download_answered (GObject *source, GAsyncResult *result, gpointer data)
{
  PpmTransfer *transfer = data;
  g_autoptr (GError) error = NULL;
  GInputStream *body = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  goffset length;

  transfer->body = body;
  if (freed_if_detached (transfer))
    return;
  if (error != NULL) {
    finish (transfer, NULL, error);
    return;
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (transfer->message))) {
    error = status_error (transfer->message);
    finish (transfer, NULL, error);
    return;
  }
  length = soup_message_headers_get_content_length (
    soup_message_get_response_headers (transfer->message));
  transfer->total = transfer->expected_size >= 0 ? transfer->expected_size
                    : length > 0                  ? length
                                                  : -1;
  read_next (transfer);
}

static PpmTransfer *
transfer_new (SoupMessage *message, const PpmTransferCallbacks *callbacks, gpointer user_data)
{
  PpmTransfer *transfer = g_new0 (PpmTransfer, 1);

  transfer->callbacks = *callbacks;
  transfer->user_data = user_data;
  transfer->message = message;
  transfer->cancellable = g_cancellable_new ();
  transfer->expected_size = -1;
  transfer->total = -1;
  return transfer;
}

static gboolean
fail_invalid_url (gpointer data)
{
  PpmTransfer *transfer = data;
  g_autoptr (GError) error = NULL;

  if (freed_if_detached (transfer))
    return G_SOURCE_REMOVE;
  error = g_error_new_literal (PPM_ERROR, PPM_ERROR_PROTOCOL, _("invalid file address"));
  finish (transfer, NULL, error);
  return G_SOURCE_REMOVE;
}

PpmTransfer *
ppm_transfer_download (SoupSession *session, PpmTlsWatch *tls, const char *url,
                       goffset expected_size,
                       const PpmTransferCallbacks *callbacks, gpointer user_data)
{
  PpmTransfer *transfer = transfer_new (soup_message_new (SOUP_METHOD_GET, url), callbacks,
                                        user_data);

  transfer->expected_size = expected_size;
  if (transfer->message == NULL) {
    g_idle_add (fail_invalid_url, transfer);
    return transfer;
  }
  g_debug ("-> GET %s (streamed)", url);
  ppm_tls_watch_message (tls, transfer->message);
  soup_session_send_async (session, transfer->message, G_PRIORITY_DEFAULT,
                           transfer->cancellable, on_download_answered, transfer);
  return transfer;
}

/* ---- Upload ---- */

/* The multipart body: the framing before the file, the file read from
 * disk as the socket takes it, the framing after. Reads complete on the
 * main loop (a local file answers at once): GInputStream's default
 * asynchronous read would use a thread. */
typedef struct {
  GInputStream parent;
  GBytes *parts[3];
  GInputStream *file;
  guint part;
  gsize offset;
} PpmUploadStream;

typedef struct {
  GInputStreamClass parent_class;
} PpmUploadStreamClass;

G_DEFINE_TYPE (PpmUploadStream, ppm_upload_stream, G_TYPE_INPUT_STREAM)

static gssize
upload_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                    GError **error)
{
  PpmUploadStream *self = (PpmUploadStream *) stream;

  while (self->part < 3) {
    gssize got;

    if (self->part == 1) {
      got = g_input_stream_read (self->file, buffer, count, cancellable, error);
    } else {
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (self->parts[self->part], &size);

      got = (gssize) MIN (count, size - self->offset);
      memcpy (buffer, data + self->offset, (gsize) got);
      self->offset += (gsize) got;
    }
    if (got != 0)
      return got;
    self->part++;
    self->offset = 0;
  }
  return 0;
}

static void
upload_stream_read_async (GInputStream *stream, void *buffer, gsize count, int io_priority,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);
  GError *error = NULL;
  gssize got = upload_stream_read (stream, buffer, count, cancellable, &error);

  if (got < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, got);
  g_object_unref (task);
}

static gssize
upload_stream_read_finish (GInputStream *stream, GAsyncResult *result, GError **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}

static gboolean
upload_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_input_stream_close (((PpmUploadStream *) stream)->file, cancellable, error);
}

static void
upload_stream_close_async (GInputStream *stream, int io_priority, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);
  GError *error = NULL;

  if (upload_stream_close (stream, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
upload_stream_close_finish (GInputStream *stream, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
upload_stream_finalize (GObject *object)
{
  PpmUploadStream *self = (PpmUploadStream *) object;

  g_bytes_unref (self->parts[0]);
  g_bytes_unref (self->parts[2]);
  g_clear_object (&self->file);
  G_OBJECT_CLASS (ppm_upload_stream_parent_class)->finalize (object);
}

static void
ppm_upload_stream_class_init (PpmUploadStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = upload_stream_finalize;
  stream_class->read_fn = upload_stream_read;
  stream_class->read_async = upload_stream_read_async;
  stream_class->read_finish = upload_stream_read_finish;
  stream_class->close_fn = upload_stream_close;
  stream_class->close_async = upload_stream_close_async;
  stream_class->close_finish = upload_stream_close_finish;
}

static void
ppm_upload_stream_init (PpmUploadStream *self)
{
}

/* A quoted-string of a header parameter: no quote, backslash or line break. */
static char *
header_quoted (const char *text)
{
  GString *quoted = g_string_new (NULL);

  for (const char *c = text; *c != '\0'; c++)
    g_string_append_c (quoted, (*c == '"' || *c == '\\' || (guchar) *c < 0x20) ? '_' : *c);
  return g_string_free (quoted, FALSE);
}

static void
on_body_written (SoupMessage *message, guint chunk_size, gpointer data)
{
  PpmTransfer *transfer = data;

  if (transfer->detached)
    return;
  transfer->written += chunk_size;
  transfer->done = CLAMP (transfer->written - transfer->framing_before_file, 0, transfer->total);
  report_progress (transfer);
}

/* The answer: HTTP 200 and {"fuuid": ...} (as text/html). */
static void
on_upload_answered (GObject *source, GAsyncResult *result, gpointer data)
{
  PpmTransfer *transfer = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                                 &error);
  g_autoptr (JsonObject) object = NULL;
  const char *fid = NULL;
  gsize size = 0;
  const char *text = answer ? g_bytes_get_data (answer, &size) : NULL;

  if (freed_if_detached (transfer))
    return;
  if (error == NULL && !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (transfer->message)))
    error = status_error (transfer->message);
  if (error == NULL) {
    object = ppm_json_parse_object (text ? text : "", (gssize) size, NULL);
    fid = object ? ppm_json_opt_nonempty (object, "fuuid") : NULL;
    if (fid == NULL)
      error = g_error_new_literal (PPM_ERROR, PPM_ERROR_PROTOCOL,
                                   _("the server gave no file id for the upload"));
  }
  finish (transfer, fid, error);
}

char *
ppm_transfer_upload_refusal (goffset size)
{
  /* In MiB, the unit of the server's limit (not g_format_size's MB). */
  g_autofree char *limit = g_format_size_full (PPM_UPLOAD_MAX_BYTES, G_FORMAT_SIZE_IEC_UNITS);

  if (size <= 0)
    return g_strdup (_("the server does not accept empty files"));
  if (size > PPM_UPLOAD_MAX_BYTES)
    return g_strdup_printf (_("the server accepts files of at most %s"), limit);
  return NULL;
}

/* The upload of size bytes read from source (taken), framed as the part
 * "file" of a multipart body. */
static PpmTransfer *
upload_stream (SoupSession *session, PpmTlsWatch *tls, const char *upload_url,
               GInputStream *source,
               goffset size, const char *name, const char *mime, const char *user_uuid,
               const PpmTransferCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_autofree char *refusal = ppm_transfer_upload_refusal (size);
  g_autofree char *boundary = NULL, *quoted_name = NULL, *content_type = NULL;
  g_autofree char *head = NULL, *tail = NULL;
  PpmUploadStream *body;
  PpmTransfer *transfer;
  SoupMessage *message;

  if (refusal != NULL) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SEND_REFUSED, refusal);
    g_object_unref (source);
    return NULL;
  }
  message = soup_message_new (SOUP_METHOD_POST, upload_url);
  if (message == NULL) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SETTINGS, _("invalid file address"));
    g_object_unref (source);
    return NULL;
  }
  boundary = g_strdup_printf ("ppm%08x%08x", g_random_int (), g_random_int ());
  quoted_name = header_quoted (name);
  head = g_strdup_printf ("--%s\r\nContent-Disposition: form-data; name=\"user_uuid\"\r\n\r\n"
                          "%s\r\n--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                          "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
                          boundary, user_uuid ? user_uuid : "", boundary, quoted_name,
                          mime ? mime : "application/octet-stream");
  tail = g_strdup_printf ("\r\n--%s--\r\n", boundary);
  body = g_object_new (ppm_upload_stream_get_type (), NULL);
  body->parts[0] = g_bytes_new (head, strlen (head));
  body->file = source;
  body->parts[2] = g_bytes_new (tail, strlen (tail));
  content_type = g_strconcat ("multipart/form-data; boundary=", boundary, NULL);
  /* The server requires a Content-Length (a chunked upload fails). */
  soup_message_set_request_body (message, content_type, G_INPUT_STREAM (body),
                                 (gssize) (strlen (head) + (gsize) size + strlen (tail)));
  g_object_unref (body);

  transfer = transfer_new (message, callbacks, user_data);
  transfer->total = size;
  transfer->framing_before_file = (goffset) strlen (head);
  g_signal_connect (message, "wrote-body-data", G_CALLBACK (on_body_written), transfer);
  g_debug ("-> POST upload of %" G_GOFFSET_FORMAT " bytes (streamed)", size);
  ppm_tls_watch_message (tls, message);
  soup_session_send_and_read_async (session, message, G_PRIORITY_DEFAULT,
                                    transfer->cancellable, on_upload_answered, transfer);
  return transfer;
}

PpmTransfer *
ppm_transfer_upload (SoupSession *session, PpmTlsWatch *tls, const char *upload_url,
                     const char *path,
                     const char *name, const char *mime, const char *user_uuid,
                     const PpmTransferCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                  G_FILE_QUERY_INFO_NONE, NULL, error);
  g_autofree char *refusal = NULL;
  GFileInputStream *source;

  if (info == NULL)
    return NULL;
  /* Refused before the file is even opened. */
  refusal = ppm_transfer_upload_refusal (g_file_info_get_size (info));
  if (refusal != NULL) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SEND_REFUSED, refusal);
    return NULL;
  }
  source = g_file_read (file, NULL, error);
  if (source == NULL)
    return NULL;
  return upload_stream (session, tls, upload_url, G_INPUT_STREAM (source),
                        g_file_info_get_size (info), name, mime, user_uuid, callbacks,
                        user_data, error);
}

PpmTransfer *
ppm_transfer_upload_bytes (SoupSession *session, PpmTlsWatch *tls, const char *upload_url,
                           GBytes *data,
                           const char *name, const char *mime, const char *user_uuid,
                           const PpmTransferCallbacks *callbacks, gpointer user_data,
                           GError **error)
{
  return upload_stream (session, tls, upload_url, g_memory_input_stream_new_from_bytes (data),
                        (goffset) g_bytes_get_size (data), name, mime, user_uuid, callbacks,
                        user_data, error);
}

/* ---- Names ---- */

char *
ppm_file_name_safe (const char *name)
{
  const char *base = name ? name : "";
  g_autofree char *valid = NULL;
  GString *safe;

  for (const char *c = base; *c != '\0'; c++)
    if (*c == '/' || *c == '\\')
      base = c + 1;
  valid = g_utf8_make_valid (base, -1);
  safe = g_string_new (NULL);
  for (const char *c = valid; *c != '\0'; c = g_utf8_next_char (c)) {
    gunichar ch = g_utf8_get_char (c);

    if (safe->len == 0 && (ch == '.' || g_unichar_isspace (ch)))
      continue;                 /* no hidden file, no "..", no leading blank */
    if (g_unichar_iscntrl (ch) || ch == ':')
      g_string_append_c (safe, '_');
    else
      g_string_append_unichar (safe, ch);
  }
  if (safe->len == 0)
    g_string_assign (safe, "download");
  return g_string_free (safe, FALSE);
}

const char *
ppm_file_image_mime (const guint8 *data, gsize size)
{
  if (data == NULL)
    return NULL;
  if (size >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "image/png";
  if (size >= 3 && memcmp (data, "\xff\xd8\xff", 3) == 0)
    return "image/jpeg";
  if (size >= 6 && (memcmp (data, "GIF87a", 6) == 0 || memcmp (data, "GIF89a", 6) == 0))
    return "image/gif";
  return NULL;
}
