/* xfer.c: files as libpurple file transfers, both ways. A file someone
 * sends is offered (accept or decline, where to save: libpurple's and the
 * UI's dialogs, which also ask before overwriting) under a name made safe,
 * then streamed to disk as it downloads. "Send File" uploads the chosen
 * file, streamed from disk with progress, and sends it as a FILE message;
 * cancelling stops the upload and sends nothing. libpurple writes the file
 * itself (purple_xfer_start with no socket opens it), this file moves the
 * bytes through the library's transfers.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <ft.h>

typedef struct {
  PpmAccount *pa;
  PpmTransfer *transfer;      /* running download or upload, or NULL */
  char *url;                  /* receive: the file's download address */
  goffset size;               /* receive: the size the message announced, -1 unknown */
} XferData;

static XferData *
xfer_data (PurpleXfer *xfer)
{
  return xfer->data;
}

/* The transfer ended one way or another: what it held goes. */
static void
release (PurpleXfer *xfer)
{
  XferData *data = xfer_data (xfer);

  if (data == NULL)
    return;
  xfer->data = NULL;
  if (data->transfer != NULL)
    ppm_transfer_cancel (data->transfer);
  data->pa->xfers = g_list_remove (data->pa->xfers, xfer);
  g_free (data->url);
  g_free (data);
}

static XferData *
attach (PpmAccount *pa, PurpleXfer *xfer)
{
  XferData *data = g_new0 (XferData, 1);

  data->pa = pa;
  data->size = -1;
  xfer->data = data;
  pa->xfers = g_list_prepend (pa->xfers, xfer);
  purple_xfer_set_end_fnc (xfer, release);
  purple_xfer_set_request_denied_fnc (xfer, release);
  purple_xfer_set_cancel_recv_fnc (xfer, release);
  purple_xfer_set_cancel_send_fnc (xfer, release);
  return data;
}

/* A download or upload that failed: said in the conversation, then the
 * transfer ends as cancelled (libpurple has no "failed" end). */
static void
fail (PurpleXfer *xfer, const char *format, const GError *error)
{
  XferData *data = xfer_data (xfer);
  const char *name = purple_xfer_get_filename (xfer);
  char *reason = g_strdup_printf (format, name != NULL ? name : "",
                                  error != NULL ? error->message : _("unknown error"));

  purple_debug_warning (PPM_DEBUG_CATEGORY, "file transfer failed: %s\n", reason);
  data->transfer = NULL;        /* it ended by itself */
  ppm_im_write_error (data->pa, purple_xfer_get_remote_user (xfer), reason);
  purple_xfer_cancel_local (xfer);
  g_free (reason);
}

static void
on_progress (gpointer user_data, goffset done, goffset total)
{
  PurpleXfer *xfer = user_data;

  if (purple_xfer_get_type (xfer) == PURPLE_XFER_SEND)
    purple_xfer_set_bytes_sent (xfer, (size_t) done);
  purple_xfer_update_progress (xfer);
}

/* ---- Receiving ---- */

static gboolean
on_download_data (gpointer user_data, const guint8 *bytes, gsize size, GError **error)
{
  PurpleXfer *xfer = user_data;

  if (purple_xfer_write_file (xfer, bytes, size))
    return TRUE;
  /* libpurple cancelled the transfer (a full disk): release() stopped it. */
  g_set_error_literal (error, PPM_ERROR, PPM_ERROR_PROTOCOL, _("could not write the file"));
  return FALSE;
}

static void
on_download_finished (gpointer user_data, const char *fid, const GError *error)
{
  PurpleXfer *xfer = user_data;

  if (error != NULL) {
    /* TRANSLATORS: the file's name, then the reason. */
    fail (xfer, _("The download of %s failed: %s"), error);
    return;
  }
  xfer_data (xfer)->transfer = NULL;
  purple_xfer_set_completed (xfer, TRUE);
  purple_xfer_end (xfer);
}

static const PpmTransferCallbacks download_callbacks = {
  .data = on_download_data,
  .progress = on_progress,
  .finished = on_download_finished,
};

/* libpurple opened the chosen file for writing: the download starts. */
static void
start_download (PurpleXfer *xfer)
{
  XferData *data = xfer_data (xfer);

  data->transfer = ppm_client_download_file (data->pa->client, data->url, data->size,
                                             &download_callbacks, xfer);
}

static void
accept_download (PurpleXfer *xfer)
{
  purple_xfer_start (xfer, -1, NULL, 0);
}

void
ppm_xfer_offer_download (PpmAccount *pa, const char *partner, const char *url,
                         const char *name, gint64 size)
{
  PurpleXfer *xfer;
  XferData *data;
  char *safe_name;

  if (url == NULL || pa->client == NULL)
    return;
  xfer = purple_xfer_new (pa->account, PURPLE_XFER_RECEIVE, partner);
  data = attach (pa, xfer);
  data->url = g_strdup (url);
  data->size = size;
  /* The server's name may hold a path or start with a dot. */
  safe_name = ppm_file_name_safe (name);
  purple_xfer_set_filename (xfer, safe_name);
  if (size > 0)
    purple_xfer_set_size (xfer, (size_t) size);
  purple_xfer_set_init_fnc (xfer, accept_download);
  purple_xfer_set_start_fnc (xfer, start_download);
  purple_xfer_request (xfer);
  g_free (safe_name);
}

void
ppm_xfer_offer (PpmAccount *pa, const char *partner, const PpmMessage *message)
{
  if (!message->outgoing)
    ppm_xfer_offer_download (pa, partner, message->file_url, message->file_name,
                             message->file_size);
}

/* ---- Sending ---- */

static void
on_upload_finished (gpointer user_data, const char *message_uuid, const GError *error)
{
  PurpleXfer *xfer = user_data;
  XferData *data = xfer_data (xfer);

  if (error != NULL) {
    /* TRANSLATORS: the file's name, then the reason. */
    fail (xfer, _("%s was not sent: %s"), error);
    return;
  }
  data->transfer = NULL;
  /* Stored: the FILE message is on its way, and a send_result that fails
   * is reported in this window as for text. */
  g_hash_table_insert (data->pa->pending_sends, g_strdup (message_uuid),
                       g_strdup (purple_xfer_get_remote_user (xfer)));
  purple_xfer_set_completed (xfer, TRUE);
  purple_xfer_end (xfer);
}

static const PpmTransferCallbacks upload_callbacks = {
  .progress = on_progress,
  .finished = on_upload_finished,
};

static char *
mime_type_of (const char *path)
{
  char *content_type = g_content_type_guess (path, NULL, 0, NULL);
  char *mime = g_content_type_get_mime_type (content_type);

  g_free (content_type);
  return mime != NULL ? mime : g_strdup ("application/octet-stream");
}

/* libpurple opened the chosen file: the upload starts. */
static void
start_upload (PurpleXfer *xfer)
{
  XferData *data = xfer_data (xfer);
  const PpmConversation *conversation =
    ppm_buddies_conversation_for_partner (data->pa, purple_xfer_get_remote_user (xfer));
  char *mime = mime_type_of (purple_xfer_get_local_filename (xfer));
  GError *error = NULL;

  data->transfer = ppm_client_send_file (data->pa->client, conversation->uuid,
                                         purple_xfer_get_local_filename (xfer),
                                         purple_xfer_get_filename (xfer), mime, FALSE,
                                         &upload_callbacks, xfer, &error);
  if (data->transfer == NULL)
    fail (xfer, _("%s was not sent: %s"), error);
  g_clear_error (&error);
  g_free (mime);
}

/* The file is chosen: what the server would refuse is refused here,
 * before a byte is sent. */
static void
accept_upload (PurpleXfer *xfer)
{
  XferData *data = xfer_data (xfer);
  const char *who = purple_xfer_get_remote_user (xfer);
  char *refusal = NULL;

  if (ppm_buddies_conversation_for_partner (data->pa, who) == NULL)
    refusal = g_strdup (_("there is no open conversation with this contact."));
  else
    refusal = ppm_transfer_upload_refusal ((goffset) purple_xfer_get_size (xfer));
  if (refusal != NULL) {
    GError *error = g_error_new_literal (PPM_ERROR, PPM_ERROR_SEND_REFUSED, refusal);

    fail (xfer, _("%s was not sent: %s"), error);
    g_error_free (error);
    g_free (refusal);
    return;
  }
  purple_xfer_start (xfer, -1, NULL, 0);
}

PurpleXfer *
ppm_xfer_new (PurpleConnection *gc, const char *who)
{
  PpmAccount *pa = ppm_account_from_gc (gc);
  PurpleXfer *xfer;

  if (pa == NULL || pa->client == NULL || pa->closing)
    return NULL;
  xfer = purple_xfer_new (pa->account, PURPLE_XFER_SEND, who);
  attach (pa, xfer);
  purple_xfer_set_init_fnc (xfer, accept_upload);
  purple_xfer_set_start_fnc (xfer, start_upload);
  return xfer;
}

void
ppm_xfer_send_file (PurpleConnection *gc, const char *who, const char *file)
{
  PurpleXfer *xfer = ppm_xfer_new (gc, who);

  if (xfer == NULL)
    return;
  if (file != NULL)
    purple_xfer_request_accepted (xfer, file);
  else
    purple_xfer_request (xfer);  /* the UI asks which file */
}

gboolean
ppm_xfer_can_receive (PurpleConnection *gc, const char *who)
{
  PpmAccount *pa = ppm_account_from_gc (gc);

  return pa != NULL && ppm_buddies_conversation_for_partner (pa, who) != NULL;
}

void
ppm_xfer_cancel_all (PpmAccount *pa)
{
  while (pa->xfers != NULL) {
    PurpleXfer *xfer = pa->xfers->data;

    release (xfer);
    if (!purple_xfer_is_canceled (xfer) && !purple_xfer_is_completed (xfer))
      purple_xfer_cancel_local (xfer);
  }
}
