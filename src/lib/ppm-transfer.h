/* ppm-transfer.h: files to and from the server, streamed both ways: a
 * download is handed on chunk by chunk as it arrives, an upload is read
 * from disk as it is sent, so memory stays bounded whatever the size.
 * Upload and download as the server has them:
 * ../shared/protocol/PPMESSAGE-PROTOCOL.md, "Files: upload, download,
 * icons, long text"; the sizes it refuses: "Limits and edge cases".
 *
 * A leaf: HTTP on the caller's SoupSession (and its certificate decisions,
 * the tls argument: NULL for libsoup's verification alone), no session
 * state.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>

#include "ppm-tls.h"

G_BEGIN_DECLS

typedef struct _PpmTransfer PpmTransfer;

/* Called on the main loop; none after ppm_transfer_cancel(). */
typedef struct {
  /* Download: the next bytes, in order, valid during the call. FALSE (with
   * error set) stops the transfer; finished then reports that error. */
  gboolean (*data) (gpointer user_data, const guint8 *bytes, gsize size, GError **error);
  /* File bytes moved so far, of total (-1: unknown). */
  void (*progress) (gpointer user_data, goffset done, goffset total);
  /* The end, exactly once: error NULL on success, and for an upload the
   * new file's fid. The transfer is freed after it returns. */
  void (*finished) (gpointer user_data, const char *fid, const GError *error);
  /* Optional: the transfer is being freed (after finished, or once a
   * cancelled transfer's pending operation ended); user_data may go. */
  void (*destroy) (gpointer user_data);
} PpmTransferCallbacks;

/* The server's upload limit (UPLOAD_MAX_BYTES, 20 MiB; larger bodies are
 * answered with HTTP 500), less room for the multipart framing. */
#define PPM_UPLOAD_MAX_BYTES (20 * 1024 * 1024 - 64 * 1024)

/* GET url, streamed. expected_size >= 0: more or fewer bytes are an error
 * (the message announced the size). */
PpmTransfer *ppm_transfer_download (SoupSession *session, PpmTlsWatch *tls, const char *url,
                                    goffset expected_size,
                                    const PpmTransferCallbacks *callbacks, gpointer user_data);
/* POST the file at path to upload_url as multipart part "file" named name
 * with this mime type and the field user_uuid (as PPCom does), streamed
 * from disk. NULL with error when the file cannot be read or the server
 * would refuse it (see ppm_transfer_upload_refusal()). */
PpmTransfer *ppm_transfer_upload (SoupSession *session, PpmTlsWatch *tls,
                                  const char *upload_url,
                                  const char *path, const char *name, const char *mime,
                                  const char *user_uuid, const PpmTransferCallbacks *callbacks,
                                  gpointer user_data, GError **error);
/* The same for bytes in memory (a picture pasted into a message). */
PpmTransfer *ppm_transfer_upload_bytes (SoupSession *session, PpmTlsWatch *tls,
                                        const char *upload_url,
                                        GBytes *data, const char *name, const char *mime,
                                        const char *user_uuid,
                                        const PpmTransferCallbacks *callbacks,
                                        gpointer user_data, GError **error);
/* Stops the transfer; no callback follows. */
void         ppm_transfer_cancel (PpmTransfer *transfer);

/* Why the shipped server refuses a file of this size (empty, or over its
 * limit), translated, or NULL. */
char        *ppm_transfer_upload_refusal (goffset size);
/* A name safe to save a server's file under: no directories, not hidden,
 * no control characters; "download" when nothing is left. */
char        *ppm_file_name_safe (const char *name);
/* "image/png", "image/jpeg" or "image/gif" (the types the server takes for
 * an IMAGE) by a file's first bytes, else NULL. */
const char  *ppm_file_image_mime (const guint8 *data, gsize size);

G_END_DECLS
