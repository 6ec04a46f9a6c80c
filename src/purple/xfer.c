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
  char *reason = g_strdup_printf (format, purple_xfer_get_filename (xfer),
                                  error != NULL ? error->message : _("unknown error"));

  purple_debug_warning (PPM_DEBUG_CATEGORY, "file transfer failed: %s\n", reason);
  xfer_data (xfer)->transfer = NULL;    /* it ended by itself */
  purple_xfer_conversation_write (xfer, reason, TRUE);
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
ppm_xfer_offer (PpmAccount *pa, const char *partner, const PpmMessage *message)
{
  PurpleXfer *xfer;
  XferData *data;
  char *name;

  if (message->outgoing || message->file_url == NULL || pa->client == NULL)
    return;
  xfer = purple_xfer_new (pa->account, PURPLE_XFER_RECEIVE, partner);
  data = attach (pa, xfer);
  data->url = g_strdup (message->file_url);
  data->size = message->file_size;
  /* The server's name may hold a path or start with a dot. */
  name = ppm_file_name_safe (message->file_name);
  purple_xfer_set_filename (xfer, name);
  if (message->file_size > 0)
    purple_xfer_set_size (xfer, (size_t) message->file_size);
  purple_xfer_set_init_fnc (xfer, accept_download);
  purple_xfer_set_start_fnc (xfer, start_download);
  purple_xfer_request (xfer);
  g_free (name);
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
