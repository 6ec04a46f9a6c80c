/* ppm-client-files.c: the client's downloads and uploads: transfers
 * (ppm-transfer.c) on the session's SoupSession, kept so that freeing the
 * client stops them, and a finished upload sent as a FILE or IMAGE message
 * through the outbox like a text.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"
#include "ppm-json.h"

#include <glib/gi18n-lib.h>

typedef struct {
  PpmClient *client;          /* NULL once the client is gone: nothing is passed on */
  PpmTransferCallbacks callbacks;
  gpointer user_data;
  PpmTransfer *transfer;
  /* An upload: what to send once the file is stored. */
  char *conversation_uuid;
  char *name;
  char *mime;
  gboolean as_image;
  char *message_uuid;         /* NULL: a new one */
} FileJob;

static GHashTable *
file_jobs (PpmClient *client)
{
  if (client->file_jobs == NULL)
    client->file_jobs = g_hash_table_new (g_direct_hash, g_direct_equal);
  return client->file_jobs;
}

void
ppm_files_clear (PpmClient *client)
{
  GHashTableIter iter;
  FileJob *job;

  if (client->file_jobs == NULL)
    return;
  g_hash_table_iter_init (&iter, client->file_jobs);
  while (g_hash_table_iter_next (&iter, (gpointer *) &job, NULL)) {
    job->client = NULL;
    ppm_transfer_cancel (job->transfer);
  }
  g_clear_pointer (&client->file_jobs, g_hash_table_unref);
}

static gboolean
job_data (gpointer data, const guint8 *bytes, gsize size, GError **error)
{
  FileJob *job = data;

  if (job->client == NULL || job->callbacks.data == NULL)
    return TRUE;
  return job->callbacks.data (job->user_data, bytes, size, error);
}

static void
job_progress (gpointer data, goffset done, goffset total)
{
  FileJob *job = data;

  if (job->client != NULL && job->callbacks.progress != NULL)
    job->callbacks.progress (job->user_data, done, total);
}

/* The body of the message that carries an uploaded file, as PPKefu sends
 * it (../shared/protocol/PPMESSAGE-PROTOCOL.md, "Body by sub-type"). */
static char *
message_body (FileJob *job, const char *fid)
{
  g_autoptr (JsonObject) body = json_object_new ();

  json_object_set_string_member (body, "fid", fid);
  if (!job->as_image)
    json_object_set_string_member (body, "name", job->name);
  json_object_set_string_member (body, "mime", job->mime);
  return ppm_json_object_to_string (body);
}

static void
job_finished (gpointer data, const char *fid, const GError *error)
{
  FileJob *job = data;
  g_autofree char *uuid = NULL, *body = NULL;

  if (job->client == NULL)
    return;
  if (error == NULL && job->conversation_uuid != NULL) {
    uuid = job->message_uuid ? g_strdup (job->message_uuid) : g_uuid_string_random ();
    body = message_body (job, fid);
    ppm_send_message_with_uuid (job->client, job->conversation_uuid,
                                job->as_image ? "IMAGE" : "FILE", body, uuid);
    fid = uuid;
  }
  if (job->callbacks.finished != NULL)
    job->callbacks.finished (job->user_data, fid, error);
}

static void
job_destroy (gpointer data)
{
  FileJob *job = data;

  if (job->client != NULL) {
    g_hash_table_remove (file_jobs (job->client), job);
    if (job->callbacks.destroy != NULL)
      job->callbacks.destroy (job->user_data);
  }
  g_free (job->conversation_uuid);
  g_free (job->name);
  g_free (job->mime);
  g_free (job->message_uuid);
  g_free (job);
}

static const PpmTransferCallbacks job_callbacks = {
  .data = job_data,
  .progress = job_progress,
  .finished = job_finished,
  .destroy = job_destroy,
};

static FileJob *
job_new (PpmClient *client, const PpmTransferCallbacks *callbacks, gpointer user_data)
{
  FileJob *job = g_new0 (FileJob, 1);

  job->client = client;
  job->callbacks = *callbacks;
  job->user_data = user_data;
  return job;
}

PpmTransfer *
ppm_client_download_file (PpmClient *client, const char *url, goffset expected_size,
                          const PpmTransferCallbacks *callbacks, gpointer user_data)
{
  FileJob *job;

  /* The session comes with the first connect (ppm_client_connect). */
  g_return_val_if_fail (client->api != NULL, NULL);
  job = job_new (client, callbacks, user_data);
  g_hash_table_add (file_jobs (client), job);
  job->transfer = ppm_transfer_download (ppm_api_get_session (client->api), client->tls_watch,
                                         url, expected_size, &job_callbacks, job);
  return job->transfer;
}

/* An upload's job, or NULL with error when there is no session to send it. */
static FileJob *
upload_job_new (PpmClient *client, const char *conversation_uuid, const char *name,
                const char *mime, gboolean as_image, const char *message_uuid,
                const PpmTransferCallbacks *callbacks, gpointer user_data, GError **error)
{
  FileJob *job;

  if (client->registry.self == NULL || client->api == NULL) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_NETWORK, _("Not connected"));
    return NULL;
  }
  job = job_new (client, callbacks, user_data);
  job->conversation_uuid = g_strdup (conversation_uuid);
  job->name = g_strdup (name);
  job->mime = g_strdup (mime ? mime : "application/octet-stream");
  job->as_image = as_image;
  job->message_uuid = g_strdup (message_uuid);
  return job;
}

/* The upload started (kept until it ends), or did not: no callback. */
static PpmTransfer *
upload_job_started (PpmClient *client, FileJob *job, PpmTransfer *transfer)
{
  job->transfer = transfer;
  if (transfer == NULL) {
    job->client = NULL;
    job_destroy (job);
    return NULL;
  }
  g_hash_table_add (file_jobs (client), job);
  return transfer;
}

static char *
upload_url (PpmClient *client)
{
  return g_strconcat (ppm_api_get_base_url (client->api), "/upload/upload/", NULL);
}

/* An upload of a file on disk (path) or of bytes in memory (data). */
static PpmTransfer *
send_upload (PpmClient *client, const char *conversation_uuid, const char *path, GBytes *data,
             const char *name, const char *mime, gboolean as_image, const char *message_uuid,
             const PpmTransferCallbacks *callbacks, gpointer user_data, GError **error)
{
  FileJob *job = upload_job_new (client, conversation_uuid, name, mime, as_image, message_uuid,
                                 callbacks, user_data, error);
  g_autofree char *url = NULL;
  SoupSession *session;
  const char *from;

  if (job == NULL)
    return NULL;
  url = upload_url (client);
  session = ppm_api_get_session (client->api);
  from = client->registry.self->uuid;
  return upload_job_started (
    client, job,
    path ? ppm_transfer_upload (session, client->tls_watch, url, path, name, job->mime, from,
                                &job_callbacks, job, error)
         : ppm_transfer_upload_bytes (session, client->tls_watch, url, data, name, job->mime,
                                      from, &job_callbacks, job, error));
}

PpmTransfer *
ppm_client_send_file (PpmClient *client, const char *conversation_uuid, const char *path,
                      const char *name, const char *mime, gboolean as_image,
                      const PpmTransferCallbacks *callbacks, gpointer user_data,
                      GError **error)
{
  return send_upload (client, conversation_uuid, path, NULL, name, mime, as_image, NULL,
                      callbacks, user_data, error);
}

PpmTransfer *
ppm_client_send_file_with_uuid (PpmClient *client, const char *conversation_uuid,
                                const char *path, const char *name, const char *mime,
                                gboolean as_image, const char *message_uuid,
                                const PpmTransferCallbacks *callbacks, gpointer user_data,
                                GError **error)
{
  g_return_val_if_fail (message_uuid != NULL, NULL);
  return send_upload (client, conversation_uuid, path, NULL, name, mime, as_image, message_uuid,
                      callbacks, user_data, error);
}

PpmTransfer *
ppm_client_send_file_data (PpmClient *client, const char *conversation_uuid, GBytes *data,
                           const char *name, const char *mime, gboolean as_image,
                           const PpmTransferCallbacks *callbacks, gpointer user_data,
                           GError **error)
{
  return send_upload (client, conversation_uuid, NULL, data, name, mime, as_image, NULL,
                      callbacks, user_data, error);
}
