/* state.c: a bridged contact's state file: its visitor identity, the
 * client library's settings (last message seen, acks to confirm) and the
 * messages each way that are not handed over yet. One small key file per
 * contact in purple_user_dir()/ppmessage-bridge/, so a thousand contacts
 * cost a thousand small writes, never one big one, and a restart finds
 * everything the way it was left.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "bridge.h"

#include <glib/gstdio.h>

char *
bridge_state_dir (void)
{
  return g_build_filename (purple_user_dir (), "ppmessage-bridge", NULL);
}

char *
bridge_state_path (PurpleAccount *account, const char *who)
{
  g_autofree char *dir = bridge_state_dir ();
  /* Names of other networks may hold any character: the file is named
   * after a digest of the account and the contact. */
  g_autofree char *identity = g_strdup_printf ("%s\n%s\n%s", purple_account_get_protocol_id (account),
                                               purple_account_get_username (account),
                                               purple_normalize (account, who));
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, identity, -1);
  g_autofree char *name = g_strdup_printf ("%.32s.state", digest);

  return g_build_filename (dir, name, NULL);
}

GKeyFile *
bridge_state_load (const char *path)
{
  GKeyFile *state = g_key_file_new ();
  g_autoptr (GError) error = NULL;

  if (!g_key_file_load_from_file (state, path, G_KEY_FILE_KEEP_COMMENTS, &error)
      && !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    purple_debug_error ("ppmessage-bridge", "%s unreadable, starting afresh: %s\n", path,
                        error->message);
  return state;
}

void
bridge_state_save (GKeyFile *state, const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0 || !g_key_file_save_to_file (state, path, &error))
    purple_debug_error ("ppmessage-bridge", "could not write %s: %s\n", path,
                        error ? error->message : g_strerror (errno));
}

char **
bridge_state_keys (GKeyFile *state, const char *group)
{
  char **keys = g_key_file_get_keys (state, group, NULL, NULL);

  return keys ? keys : g_new0 (char *, 1);
}
