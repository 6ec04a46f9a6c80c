/* bench-lib-files.c: files are streamed, so a big one does not grow the
 * client's memory. Peak RSS growth of the client library's transfers
 * (src/lib/ppm-transfer.c, what the plugin's file transfers run on) while
 * receiving a 200 MB file to disk and while sending the largest file the
 * shipped server takes (20 MiB; a 200 MB one is refused before a byte is
 * sent, ../shared/protocol/PPMESSAGE-PROTOCOL.md "Sizes"). The test server
 * runs in a child process holding the file, so its memory is not counted;
 * each scenario runs in its own process.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ppm-transfer.h"
#include "ppm-error.h"
#include "ppm-test-server.h"
#include "ppms-internal.h"
#include "util.h"

#define RECEIVED_BYTES ((goffset) 200 * 1000 * 1000)
#define SENT_BYTES     ((goffset) PPM_UPLOAD_MAX_BYTES)
/* Streaming holds a few chunks and libsoup's buffers, whatever the size. */
#define GROWTH_LIMIT_KIB 32768

typedef struct {
  GPid pid;
  char *url;
  char *fid;
} FileServer;

/* A test server in a child process holding a file of size bytes. */
static gboolean
file_server_start (FileServer *server, goffset size)
{
  int fds[2];
  char line[512] = { 0 };
  ssize_t got;
  char **fields;

  if (pipe (fds) != 0)
    return FALSE;
  server->pid = fork ();
  if (server->pid < 0)
    return FALSE;
  if (server->pid == 0) {
    PpmsServer *ppms = ppms_server_new (NULL, NULL);
    guint8 *data = g_malloc (size);
    GBytes *bytes;
    PpmsFile *file;
    char *announce;

    for (goffset i = 0; i < size; i++)
      data[i] = (guint8) (i * 31 + (i >> 12));
    bytes = g_bytes_new_take (data, size);
    file = ppms_file_add (ppms, "big.bin", "application/octet-stream", bytes);
    if (!ppms_server_listen (ppms, 0, NULL))
      _exit (1);
    announce = g_strdup_printf ("%s %s\n", ppms_server_get_url (ppms), file->uuid);
    if (write (fds[1], announce, strlen (announce)) < 0)
      _exit (1);
    for (;;)
      g_main_context_iteration (NULL, TRUE);
  }
  close (fds[1]);
  got = read (fds[0], line, sizeof line - 1);
  close (fds[0]);
  if (got <= 0)
    return FALSE;
  fields = g_strsplit (g_strstrip (line), " ", 2);
  server->url = g_strdup (fields[0]);
  server->fid = g_strdup (fields[1]);
  g_strfreev (fields);
  return server->fid != NULL;
}

static void
file_server_stop (FileServer *server)
{
  kill (server->pid, SIGTERM);
  waitpid (server->pid, NULL, 0);
  g_free (server->url);
  g_free (server->fid);
}

typedef struct {
  int fd;
  goffset bytes;
  gboolean done;
  GError *error;
  char *fid;
} Outcome;

static gboolean
on_data (gpointer user_data, const guint8 *bytes, gsize size, GError **error)
{
  Outcome *outcome = user_data;

  if (write (outcome->fd, bytes, size) != (ssize_t) size) {
    g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (errno), "write");
    return FALSE;
  }
  outcome->bytes += size;
  return TRUE;
}

static void
on_finished (gpointer user_data, const char *fid, const GError *error)
{
  Outcome *outcome = user_data;

  outcome->error = error ? g_error_copy (error) : NULL;
  outcome->fid = g_strdup (fid);
  outcome->done = TRUE;
}

static const PpmTransferCallbacks callbacks = {
  .data = on_data,
  .finished = on_finished,
};

static void
scenario_receive (gconstpointer arg)
{
  FileServer server;
  g_autoptr (SoupSession) session = NULL;
  g_autofree char *url = NULL, *path = NULL;
  Outcome outcome = { 0 };
  long before;
  double started;

  if (!file_server_start (&server, RECEIVED_BYTES)) {
    bench_fail ("the file server did not start");
    return;
  }
  session = soup_session_new ();
  url = g_strconcat (server.url, "/download/download/", server.fid, NULL);
  outcome.fd = g_file_open_tmp ("ppm-bench-XXXXXX", &path, NULL);
  before = bench_peak_rss_kib ();
  started = bench_now_ms ();
  ppm_transfer_download (session, NULL, url, RECEIVED_BYTES, &callbacks, &outcome);
  if (!bench_wait_flag (&outcome.done, 600000) || outcome.error != NULL ||
      outcome.bytes != RECEIVED_BYTES)
    bench_fail ("the download failed: %s", outcome.error ? outcome.error->message : "timeout");
  else {
    bench_figure ("receive_200mb_peak_rss_growth", (double) (bench_peak_rss_kib () - before),
                  "KiB", "<=", GROWTH_LIMIT_KIB);
    bench_figure ("receive_200mb_ms", bench_now_ms () - started, "ms", NULL, 0);
  }
  close (outcome.fd);
  g_remove (path);
  file_server_stop (&server);
}

static void
scenario_send (gconstpointer arg)
{
  FileServer server;
  g_autoptr (SoupSession) session = NULL;
  g_autofree char *url = NULL, *path = NULL;
  g_autoptr (GError) refused = NULL;
  Outcome outcome = { 0 };
  int fd;
  long before;

  if (!file_server_start (&server, 1024)) {
    bench_fail ("the file server did not start");
    return;
  }
  session = soup_session_new ();
  url = g_strconcat (server.url, "/upload/upload/", NULL);
  fd = g_file_open_tmp ("ppm-bench-XXXXXX", &path, NULL);
  /* A 200 MB file: refused before anything is sent. */
  if (ftruncate (fd, (off_t) RECEIVED_BYTES) != 0 ||
      ppm_transfer_upload (session, NULL, url, path, "big.bin", NULL, NULL, &callbacks, &outcome,
                           &refused) != NULL ||
      !g_error_matches (refused, PPM_ERROR, PPM_ERROR_SEND_REFUSED))
    bench_fail ("a 200 MB upload was not refused before sending");
  /* The largest file the server takes, with distinct bytes (no sparse read). */
  if (ftruncate (fd, 0) != 0)
    bench_fail ("truncate");
  for (goffset written = 0; written < SENT_BYTES; written += 4096) {
    guint8 block[4096];

    for (guint i = 0; i < sizeof block; i++)
      block[i] = (guint8) (written / 4096 + i);
    if (write (fd, block, (size_t) MIN ((goffset) sizeof block, SENT_BYTES - written)) < 0)
      bench_fail ("write");
  }
  before = bench_peak_rss_kib ();
  ppm_transfer_upload (session, NULL, url, path, "big.bin", NULL, NULL, &callbacks, &outcome,
                       NULL);
  if (!bench_wait_flag (&outcome.done, 600000) || outcome.error != NULL || outcome.fid == NULL)
    bench_fail ("the upload failed: %s", outcome.error ? outcome.error->message : "timeout");
  else
    bench_figure ("send_20mib_peak_rss_growth", (double) (bench_peak_rss_kib () - before),
                  "KiB", "<=", GROWTH_LIMIT_KIB);
  close (fd);
  g_remove (path);
  file_server_stop (&server);
}

int
main (int argc, char **argv)
{
  gboolean ok = bench_run_isolated (scenario_receive, NULL);

  ok = bench_run_isolated (scenario_send, NULL) && ok;
  return ok && !bench_failed () ? 0 : 1;
}
