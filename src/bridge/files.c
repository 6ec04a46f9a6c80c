/* files.c: files a contact offers on a bridged account (an XMPP file
 * transfer, an IRC DCC SEND). The bridge accepts them into a private
 * directory of its state and, once complete, hands them to the contact
 * (contact.c), which sends them to the team and deletes them once the
 * team's server has them. Files on other accounts, and every file while
 * the bridge is off, are left to the user as usual. The agents' files the
 * bridge offers a contact are watched here until they end.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "bridge.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define LOG "ppmessage-bridge"

char *
bridge_files_dir (void)
{
  g_autofree char *dir = bridge_state_dir ();

  return g_build_filename (dir, "files", NULL);
}

/* A transfer of the bridge's own (its file in the bridge's directory), not
 * one the user started or saved. */
static gboolean
is_bridged (PurpleXfer *xfer, PurpleXferType type)
{
  const char *local = purple_xfer_get_local_filename (xfer);
  g_autofree char *dir = bridge_files_dir ();
  g_autofree char *parent = local ? g_path_get_dirname (local) : NULL;

  return purple_xfer_get_type (xfer) == type && g_strcmp0 (parent, dir) == 0;
}

static void
on_file_recv_request (PurpleXfer *xfer, gpointer data)
{
  PurpleAccount *account = purple_xfer_get_account (xfer);
  const char *who = purple_xfer_get_remote_user (xfer);
  g_autofree char *refusal = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (purple_xfer_get_type (xfer) != PURPLE_XFER_RECEIVE || who == NULL
      || !bridge_account_is_bridged (account))
    return;
  /* Refused before a byte moves when the size is known already. */
  if (purple_xfer_get_size (xfer) > 0
      && (refusal = ppm_transfer_upload_refusal ((goffset) purple_xfer_get_size (xfer)))) {
    bridge_contact_file_refused (account, who, purple_xfer_get_filename (xfer), refusal);
    /* The documented way to refuse from this signal (libpurple 2 has no
     * setter): the caller then cancels it. */
    xfer->status = PURPLE_XFER_STATUS_CANCEL_LOCAL;
    return;
  }
  dir = bridge_files_dir ();
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    purple_debug_error (LOG, "cannot create %s: %s; the file is left to the user\n", dir,
                        g_strerror (errno));
    return;
  }
  /* The contact's name of the file travels with it; on disk a name of ours. */
  name = g_uuid_string_random ();
  path = g_build_filename (dir, name, NULL);
  purple_xfer_request_accepted (xfer, path);
}

static void
on_file_recv_complete (PurpleXfer *xfer, gpointer data)
{
  g_autofree char *name = NULL;

  if (!is_bridged (xfer, PURPLE_XFER_RECEIVE))
    return;
  /* libpurple closes the file only after this signal: its end, still
   * buffered, must be on disk before the upload reads it. */
  if (xfer->dest_fp != NULL && fflush (xfer->dest_fp) != 0) {
    purple_debug_error (LOG, "cannot write a contact's file: %s\n", g_strerror (errno));
    return;
  }
  name = ppm_file_name_safe (purple_xfer_get_filename (xfer));
  bridge_contact_sent_file (purple_xfer_get_account (xfer), purple_xfer_get_remote_user (xfer),
                            purple_xfer_get_local_filename (xfer), name);
}

/* A transfer that broke off (the contact's side or ours, the account
 * going offline) leaves no half file behind, and the contact, whose client
 * may show it as sent, learns that the team has nothing. */
static void
on_file_recv_cancel (PurpleXfer *xfer, gpointer data)
{
  if (!is_bridged (xfer, PURPLE_XFER_RECEIVE))
    return;
  g_unlink (purple_xfer_get_local_filename (xfer));
  bridge_contact_file_refused (purple_xfer_get_account (xfer), purple_xfer_get_remote_user (xfer),
                               purple_xfer_get_filename (xfer), _("the transfer broke off"));
}

/* An agent's file the bridge offered the contact (from its directory). */
static void
on_file_send_ended (PurpleXfer *xfer, gpointer data)
{
  if (is_bridged (xfer, PURPLE_XFER_SEND))
    bridge_contacts_offer_ended (purple_xfer_get_local_filename (xfer),
                                 purple_xfer_is_completed (xfer));
}

void
bridge_files_sweep (GHashTable *kept_paths)
{
  g_autofree char *dir = bridge_files_dir ();
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_autoptr (GHashTable) running = g_hash_table_new (g_str_hash, g_str_equal);
  const char *name;

  for (GList *l = purple_xfers_get_all (); l != NULL; l = l->next) {
    const char *local = purple_xfer_get_local_filename (l->data);

    if (local != NULL)
      g_hash_table_add (running, (gpointer) local);
  }
  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);

    if (g_hash_table_contains (kept_paths, path) || g_hash_table_contains (running, path))
      continue;
    purple_debug_info (LOG, "a file left by an earlier run is deleted: %s\n", name);
    if (g_unlink (path) != 0)
      purple_debug_warning (LOG, "could not delete %s: %s\n", path, g_strerror (errno));
  }
}

gboolean
bridge_files_cancel_offer (const char *path)
{
  for (GList *l = purple_xfers_get_all (); l != NULL; l = l->next) {
    PurpleXfer *xfer = l->data;

    if (is_bridged (xfer, PURPLE_XFER_SEND)
        && g_strcmp0 (purple_xfer_get_local_filename (xfer), path) == 0
        && !purple_xfer_is_completed (xfer) && !purple_xfer_is_canceled (xfer)) {
      purple_xfer_cancel_local (xfer);
      return TRUE;
    }
  }
  return FALSE;
}

void
bridge_files_init (PurplePlugin *plugin)
{
  void *xfers = purple_xfers_get_handle ();

  purple_signal_connect (xfers, "file-recv-request", plugin,
                         PURPLE_CALLBACK (on_file_recv_request), NULL);
  purple_signal_connect (xfers, "file-recv-complete", plugin,
                         PURPLE_CALLBACK (on_file_recv_complete), NULL);
  purple_signal_connect (xfers, "file-recv-cancel", plugin,
                         PURPLE_CALLBACK (on_file_recv_cancel), NULL);
  purple_signal_connect (xfers, "file-send-complete", plugin,
                         PURPLE_CALLBACK (on_file_send_ended), NULL);
  purple_signal_connect (xfers, "file-send-cancel", plugin,
                         PURPLE_CALLBACK (on_file_send_ended), NULL);
}
