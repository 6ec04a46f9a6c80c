/* contact-files.c: a bridged contact's files, both ways (contact.c has
 * the contact and its session). A contact's file, complete in the
 * bridge's directory (files.c), is uploaded as the contact's visitor, one
 * at a time, under the message uuid kept with it; an agent's file is
 * downloaded and offered to the contact where the network takes files,
 * else (and when that fails) its line with the link goes as a reply.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "contact.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define LOG "ppmessage-bridge"
/* An agent's file offered to the contact and not taken by then goes as
 * its link (a contact's client may never answer an offer). */
#define OFFER_WAIT_S  600

/* ---- The agents' files, offered to the contact ---- */

/* The offer in this process ends; its entry stays in the state. */
void
contact_offer_abandon (BridgeContact *contact)
{
  g_clear_handle_id (&contact->offer_timeout_id, g_source_remove);
  g_clear_pointer (&contact->offer_stream, fclose);
  if (contact->offer_path != NULL)
    g_unlink (contact->offer_path);
  g_clear_pointer (&contact->offer_path, g_free);
  g_clear_pointer (&contact->offering, g_free);
}

/* The file was taken (its line is not needed), or not (its line, with
 * the link, goes instead). */
void
contact_offer_end (BridgeContact *contact, gboolean delivered, const char *why)
{
  g_autofree char *uuid = g_strdup (contact->offering);

  if (!delivered)
    purple_debug_warning (LOG, "an agent's file goes to the contact as a link: %s\n", why);
  contact_offer_abandon (contact);
  g_key_file_remove_key (contact->state, BRIDGE_GROUP_FILES_OUT, uuid, NULL);
  if (delivered)
    g_key_file_remove_key (contact->state, BRIDGE_GROUP_TO_CONTACT, uuid, NULL);
  contact_save (contact);
  contact_deliver_replies (contact);
}

static gboolean
on_offer_data (gpointer data, const guint8 *bytes, gsize size, GError **error)
{
  BridgeContact *contact = data;

  if (contact->offer_stream != NULL && fwrite (bytes, 1, size, contact->offer_stream) == size)
    return TRUE;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s", g_strerror (errno));
  return FALSE;
}

static gboolean
on_offer_unanswered (gpointer data)
{
  BridgeContact *contact = data;

  contact->offer_timeout_id = 0;
  /* Its cancel signal ends the offer; without a transfer, this does. */
  if (!bridge_files_cancel_offer (contact->offer_path))
    contact_offer_end (contact, FALSE, "the contact did not take the file");
  return G_SOURCE_REMOVE;
}

static void
on_offer_downloaded (gpointer data, const char *fid, const GError *error)
{
  BridgeContact *contact = data;
  PurpleConnection *gc = contact_connection (contact);
  gboolean written;

  if (contact->offer_stream == NULL)
    return;                     /* abandoned with its session */
  written = fclose (g_steal_pointer (&contact->offer_stream)) == 0;
  if (error != NULL || !written || gc == NULL) {
    contact_offer_end (contact, FALSE,
               error ? error->message : "the account is offline or the file unwritable");
    return;
  }
  /* Its end comes as a file-send signal (files.c). */
  contact->offer_timeout_id = g_timeout_add_seconds (OFFER_WAIT_S, on_offer_unanswered, contact);
  serv_send_file (gc, contact->who, contact->offer_path);
}

static const PpmTransferCallbacks offer_callbacks = {
  .data = on_offer_data,
  .finished = on_offer_downloaded,
};

/* Whether the contact's network takes files from the bridged account. */
static gboolean
network_takes_files (BridgeContact *contact, PurpleConnection *gc)
{
  PurplePlugin *prpl = purple_connection_get_prpl (gc);
  PurplePluginProtocolInfo *info = prpl ? PURPLE_PLUGIN_PROTOCOL_INFO (prpl) : NULL;

  /* Without can_receive_file (IRC's DCC) the contact's client would have
   * to reach the bridge's computer: the link is surer. */
  return info != NULL && info->send_file != NULL && info->can_receive_file != NULL
         && info->can_receive_file (gc, contact->who);
}

/* Offers the agent's file of this reply, unless another one is being
 * offered (it comes next). FALSE: it cannot be offered, its line goes. */
gboolean
contact_offer_file (BridgeContact *contact, PurpleConnection *gc, const char *uuid)
{
  g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES_OUT, uuid,
                                                    NULL, NULL);
  g_autofree char *dir = bridge_files_dir ();
  g_autofree char *name = NULL;

  if (contact->offering != NULL)
    return TRUE;
  if (file == NULL || g_strv_length (file) < 3 || !contact->connected
      || !network_takes_files (contact, gc) || g_mkdir_with_parents (dir, 0700) != 0)
    return FALSE;
  /* The name the contact sees is the file's own. */
  name = ppm_file_name_safe (file[1]);
  contact->offer_path = g_build_filename (dir, name, NULL);
  if (g_file_test (contact->offer_path, G_FILE_TEST_EXISTS)) {
    g_autofree char *unique = g_strdup_printf ("%.8s-%s", uuid, name);

    g_free (contact->offer_path);
    contact->offer_path = g_build_filename (dir, unique, NULL);
  }
  contact->offer_stream = g_fopen (contact->offer_path, "wb");
  if (contact->offer_stream == NULL) {
    g_clear_pointer (&contact->offer_path, g_free);
    return FALSE;
  }
  contact->offering = g_strdup (uuid);
  ppm_client_download_file (contact->client, file[0], g_ascii_strtoll (file[2], NULL, 10),
                            &offer_callbacks, contact);
  return TRUE;
}

/* ---- The contact's files, to the team ---- */

/* The file is with the team, or will never be: the local copy goes. */
void
contact_file_forget (BridgeContact *contact, const char *uuid)
{
  g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES, uuid,
                                                    NULL, NULL);

  if (file != NULL && file[0] != NULL && g_unlink (file[0]) != 0 && errno != ENOENT)
    purple_debug_warning (LOG, "could not delete %s: %s\n", file[0], g_strerror (errno));
  g_key_file_remove_key (contact->state, BRIDGE_GROUP_FILES, uuid, NULL);
  contact_save (contact);
}

void
contact_list_kept_files (BridgeContact *contact, GHashTable *paths)
{
  g_auto (GStrv) uuids = bridge_state_keys (contact->state, BRIDGE_GROUP_FILES);

  for (guint i = 0; uuids[i] != NULL; i++) {
    g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES,
                                                      uuids[i], NULL, NULL);

    if (file != NULL && file[0] != NULL)
      g_hash_table_add (paths, g_strdup (file[0]));
  }
}

/* The contact learns that their file did not arrive, and why. */
void
contact_tell_file_refused (BridgeContact *contact, const char *name, const char *why)
{
  g_autofree char *line = g_strdup_printf (_("Your file %s did not reach the team: %s"),
                                           name ? name : "", why);

  purple_debug_warning (LOG, "a contact's file did not reach the team: %s\n", why);
  contact_tell (contact, line);
}

/* The server refused the file (its size, its answer): it never will take
 * it. */
static void
file_refused (BridgeContact *contact, const char *uuid, const GError *error)
{
  g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES, uuid,
                                                    NULL, NULL);
  g_autofree char *name = g_strdup (file != NULL && file[0] != NULL ? file[1] : NULL);

  contact_file_forget (contact, uuid);
  contact_tell_file_refused (contact, name, error->message);
}

/* An image as the agents should see it (a picture), else any file. */
static char *
file_mime (const char *path, const char *name, gboolean *as_image)
{
  guint8 head[16] = { 0 };
  gsize size = 0;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  /* GIO, not fread: with fread (of a size the compiler knows) as its only
   * fortifiable call, the Debian package's lintian finds the plugin built
   * without _FORTIFY_SOURCE (hardening-no-fortify-functions). */
  g_autoptr (GFileInputStream) stream = g_file_read (file, NULL, NULL);
  const char *image;
  g_autofree char *type = NULL;

  if (stream != NULL && !g_input_stream_read_all (G_INPUT_STREAM (stream), head, sizeof head,
                                                  &size, NULL, NULL))
    size = 0;
  image = ppm_file_image_mime (head, size);
  *as_image = image != NULL;
  if (image != NULL)
    return g_strdup (image);
  type = g_content_type_guess (name, NULL, 0, NULL);
  return g_content_type_get_mime_type (type) ?: g_strdup ("application/octet-stream");
}

/* The server said no (the size, its answer): it will say so again. A
 * failure on the way (the library's network error, a connection refused
 * or broken) may pass at the next try. */
static gboolean
refused_by_server (const GError *error)
{
  return error->domain == PPM_ERROR && error->code != PPM_ERROR_NETWORK;
}

static void on_upload_finished (gpointer data, const char *fid, const GError *error);

static const PpmTransferCallbacks upload_callbacks = {
  .finished = on_upload_finished,
};

/* Uploads the next file kept for the team, if none is on its way. */
void
contact_upload_next (BridgeContact *contact)
{
  g_auto (GStrv) uuids = bridge_state_keys (contact->state, BRIDGE_GROUP_FILES);

  for (guint i = 0; uuids[i] != NULL && contact->uploading == NULL; i++) {
    g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES,
                                                      uuids[i], NULL, NULL);
    g_autoptr (GError) error = NULL;
    g_autofree char *mime = NULL;
    gboolean as_image;

    if (g_hash_table_contains (contact->in_flight, uuids[i]))
      continue;
    if (file == NULL || file[0] == NULL || file[1] == NULL) {
      purple_debug_error (LOG, "a damaged file entry in %s is dropped\n", contact->path);
      contact_file_forget (contact, uuids[i]);
      continue;
    }
    mime = file_mime (file[0], file[1], &as_image);
    if (ppm_client_send_file_with_uuid (contact->client, contact->conversation_uuid, file[0],
                                        file[1], mime, as_image, uuids[i], &upload_callbacks,
                                        contact, &error) == NULL) {
      if (g_error_matches (error, PPM_ERROR, PPM_ERROR_NETWORK)) {
        contact_retry_later (contact);
        return;
      }
      file_refused (contact, uuids[i], error);
      continue;
    }
    contact->uploading = g_strdup (uuids[i]);
    g_hash_table_add (contact->in_flight, g_strdup (uuids[i]));
  }
}

static void
on_upload_finished (gpointer data, const char *fid, const GError *error)
{
  BridgeContact *contact = data;
  g_autofree char *uuid = g_steal_pointer (&contact->uploading);

  if (uuid == NULL)
    return;                     /* its session ended meanwhile */
  contact_touch (contact);
  if (error == NULL) {
    /* Its message is on its way: send_result ends it. */
    contact_upload_next (contact);
    return;
  }
  g_hash_table_remove (contact->in_flight, uuid);
  if (!refused_by_server (error)) {
    purple_debug_warning (LOG, "a contact's file is not with the team yet: %s\n",
                          error->message);
    contact_retry_later (contact);
    return;
  }
  file_refused (contact, uuid, error);
  contact_upload_next (contact);
}

/* ---- An agent's file, kept for the contact ---- */

/* An agent's file or picture, to offer as a file; its line (name, size,
 * link) stays for the networks that take no files. */
void
contact_keep_file_out (BridgeContact *contact, const PpmMessage *message)
{
  g_autofree char *size = g_strdup_printf ("%" G_GINT64_FORMAT, message->file_size);
  g_autofree char *picture = NULL;
  const char *name = message->file_name;
  const char *file[4] = { message->file_url, NULL, size, NULL };

  if (name == NULL) {
    /* A picture has no name: "picture.png" after its type. */
    const char *slash = message->mime ? strchr (message->mime, '/') : NULL;

    picture = g_strconcat ("picture", slash && slash[1] ? "." : "", slash ? slash + 1 : "", NULL);
    name = picture;
  }
  file[1] = name;
  g_key_file_set_string_list (contact->state, BRIDGE_GROUP_FILES_OUT, message->uuid, file, 3);
}
