/* settings.c: the account options a user fills in, and the per-account state
 * the library asks us to keep (hidden settings prefixed "ppm_").
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <errno.h>

#include "ppm-purple.h"

#include <string.h>

#define PPM_ROLE_AGENT_ID   "agent"
#define PPM_ROLE_VISITOR_ID "visitor"
#define PPM_HIDDEN_PREFIX   "ppm_"

static PurpleKeyValuePair *
role_choice (const char *label, const char *id)
{
  PurpleKeyValuePair *kvp = g_new0 (PurpleKeyValuePair, 1);

  kvp->key = g_strdup (label);
  kvp->value = g_strdup (id);
  return kvp;
}

GList *
ppm_settings_account_options (void)
{
  GList *options = NULL;
  GList *roles = NULL;

  options = g_list_append (options,
    purple_account_option_string_new (_("Server URL (visitors: the team's PPCom link)"),
                                      PPM_SETTING_SERVER, ""));
  /* The first choice is the default. */
  roles = g_list_append (roles, role_choice (_("Agent (PPKefu)"), PPM_ROLE_AGENT_ID));
  roles = g_list_append (roles, role_choice (_("Visitor (PPCom)"), PPM_ROLE_VISITOR_ID));
  options = g_list_append (options,
    purple_account_option_list_new (_("Sign in as"), PPM_SETTING_ROLE, roles));
  options = g_list_append (options,
    purple_account_option_string_new (_("API key (empty: ask the server)"),
                                      PPM_SETTING_API_KEY, ""));
  /* BitlBee has its own logs and no command line of ours: no history. */
  if (!ppm_ui_is_bitlbee ())
    options = g_list_append (options,
      purple_account_option_int_new (_("Earlier messages shown when a window opens"),
                                      PPM_SETTING_HISTORY_COUNT, PPM_HISTORY_COUNT_DEFAULT));
  if (ppm_ui_is_bitlbee ()) {
    /* BitlBee makes every option an account setting, and an option with the
     * name of one of its own settings changes that setting's default. Its
     * default nick format takes the buddy name, here a user's uuid; the full
     * name (our server alias) gives nicks people can read. */
    /* TRANSLATORS: BitlBee's nick_format setting, shown by its help. */
    options = g_list_append (options,
      purple_account_option_string_new (_("IRC nicks of contacts"),
                                        PPM_SETTING_BITLBEE_NICK_FORMAT, "%full_name"));
    /* No trust dialog reaches an IRC user: the certificate error names the
     * fingerprint, and this setting trusts it. */
    options = g_list_append (options,
      purple_account_option_string_new (_("Trusted certificate (SHA-256 fingerprint)"),
                                        PPM_SETTING_PINNED_CERTIFICATE, ""));
  }
  return options;
}

gboolean
ppm_ui_is_bitlbee (void)
{
  return g_strcmp0 (purple_core_get_ui (), "BitlBee") == 0;
}

PpmRole
ppm_settings_role (PurpleAccount *account)
{
  const char *role = purple_account_get_string (account, PPM_SETTING_ROLE, PPM_ROLE_AGENT_ID);

  return g_strcmp0 (role, PPM_ROLE_VISITOR_ID) == 0 ? PPM_ROLE_VISITOR : PPM_ROLE_AGENT;
}

/* BitlBee makes a fresh libpurple account at every sign-in and keeps only
 * the account options (as its own settings), so what the plugin remembers
 * in the account (the device id, the last message seen in each
 * conversation, acknowledgements still to confirm) would be forgotten from
 * one sign-in to the next, and messages that came while the account was
 * off would never be shown. Inside BitlBee that state is also kept in a key
 * file per account in libpurple's user directory (BitlBee's configuration
 * directory, shared by all the users of a BitlBee server, each in a process
 * of their own: one file per account, so they never write over each
 * other's), and read back when the account lacks it. */
#define PPM_BITLBEE_STATE_DIR   "ppmessage"
#define PPM_BITLBEE_STATE_GROUP "state"

typedef struct {
  GKeyFile *keys;
  gboolean changed;
} StateFile;

/* Path -> StateFile, each read once; changes are written a second later,
 * so a sign-in that records thousands of conversations writes once. */
static GHashTable *bitlbee_states;
static guint bitlbee_state_write_id;

static void
state_file_free (gpointer data)
{
  StateFile *file = data;

  g_key_file_free (file->keys);
  g_free (file);
}

/* <user dir>/ppmessage/<SHA-1 of e-mail and server>.ini */
static char *
bitlbee_state_path (PurpleAccount *account)
{
  char *id = g_strdup_printf ("%s %s", purple_account_get_username (account),
                              purple_account_get_string (account, PPM_SETTING_SERVER, ""));
  char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA1, id, -1);
  char *name = g_strconcat (sum, ".ini", NULL);
  char *path = g_build_filename (purple_user_dir (), PPM_BITLBEE_STATE_DIR, name, NULL);

  g_free (name);
  g_free (sum);
  g_free (id);
  return path;
}

static StateFile *
bitlbee_state_get (PurpleAccount *account)
{
  char *path = bitlbee_state_path (account);
  StateFile *file;

  if (bitlbee_states == NULL)
    bitlbee_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, state_file_free);
  file = g_hash_table_lookup (bitlbee_states, path);
  if (file == NULL) {
    file = g_new0 (StateFile, 1);
    file->keys = g_key_file_new ();
    /* Missing at first: an empty state. */
    g_key_file_load_from_file (file->keys, path, G_KEY_FILE_NONE, NULL);
    g_hash_table_insert (bitlbee_states, g_strdup (path), file);
  }
  g_free (path);
  return file;
}

static gboolean
bitlbee_state_write (gpointer data)
{
  GHashTableIter iter;
  gpointer path, value;

  bitlbee_state_write_id = 0;
  g_hash_table_iter_init (&iter, bitlbee_states);
  while (g_hash_table_iter_next (&iter, &path, &value)) {
    StateFile *file = value;
    char *dir = g_path_get_dirname (path);
    GError *error = NULL;

    if (!file->changed)
      continue;
    file->changed = FALSE;
    if (g_mkdir_with_parents (dir, 0700) != 0
        || !g_key_file_save_to_file (file->keys, path, &error))
      purple_debug_warning (PPM_DEBUG_CATEGORY, "state not saved in %s: %s\n", dir,
                            error != NULL ? error->message : g_strerror (errno));
    g_clear_error (&error);
    g_free (dir);
  }
  return FALSE;
}

void
ppm_settings_flush (void)
{
  if (bitlbee_state_write_id != 0) {
    purple_timeout_remove (bitlbee_state_write_id);
    bitlbee_state_write (NULL);
  }
}

void
ppm_settings_shutdown (void)
{
  ppm_settings_flush ();
  g_clear_pointer (&bitlbee_states, g_hash_table_destroy);
}

static void
bitlbee_state_store (PurpleAccount *account, const char *name, const char *value)
{
  StateFile *file = bitlbee_state_get (account);

  if (value != NULL)
    g_key_file_set_string (file->keys, PPM_BITLBEE_STATE_GROUP, name, value);
  else
    g_key_file_remove_key (file->keys, PPM_BITLBEE_STATE_GROUP, name, NULL);
  file->changed = TRUE;
  if (bitlbee_state_write_id == 0)
    bitlbee_state_write_id = purple_timeout_add_seconds (1, bitlbee_state_write, NULL);
}

/* An account setting, or inside BitlBee what the state file remembers. */
static const char *
remembered_string (PurpleAccount *account, const char *name)
{
  const char *value = purple_account_get_string (account, name, NULL);

  if ((value == NULL || *value == '\0') && ppm_ui_is_bitlbee ()) {
    char *stored = g_key_file_get_string (bitlbee_state_get (account)->keys,
                                          PPM_BITLBEE_STATE_GROUP, name, NULL);

    if (stored != NULL) {
      purple_account_set_string (account, name, stored);
      value = purple_account_get_string (account, name, NULL);
    }
    g_free (stored);
  }
  return value;
}

/* value NULL: the library no longer needs it (a conversation's last seen
 * message once it is closed and old); accounts.xml does not keep it. */
static void
remember_string (PurpleAccount *account, const char *name, const char *value)
{
  if (value == NULL) {
    /* libpurple 2 does not save accounts.xml for a removal alone (the
     * setting would come back at the next start): a change first
     * schedules the save, which then finds the setting gone. */
    if (purple_account_get_string (account, name, NULL) != NULL)
      purple_account_set_string (account, name, "");
    purple_account_remove_setting (account, name);
  } else
    purple_account_set_string (account, name, value);
  if (ppm_ui_is_bitlbee ())
    bitlbee_state_store (account, name, value);
}

/* The device id the server knows this account by: generated once, then kept,
 * so a new sign-in replaces this device's session instead of adding one. */
const char *
ppm_settings_terminal (PurpleAccount *account)
{
  const char *terminal = remembered_string (account, PPM_SETTING_TERMINAL);

  if (terminal == NULL || *terminal == '\0') {
    char *fresh = g_uuid_string_random ();

    remember_string (account, PPM_SETTING_TERMINAL, fresh);
    g_free (fresh);
    terminal = purple_account_get_string (account, PPM_SETTING_TERMINAL, NULL);
  }
  return terminal;
}

/* The discovered API key fills the visible option, so the user sees it;
 * everything else is hidden state. */
static char *
setting_name (const char *key)
{
  if (g_strcmp0 (key, PPM_SETTING_API_KEY) == 0)
    return g_strdup (PPM_SETTING_API_KEY);
  return g_strconcat (PPM_HIDDEN_PREFIX, key, NULL);
}

void
ppm_settings_save (PurpleAccount *account, const char *key, const char *value)
{
  char *name;

  g_return_if_fail (key != NULL);
  name = setting_name (key);
  remember_string (account, name, value);
  g_free (name);
}

GPtrArray *
ppm_settings_list (PurpleAccount *account, const char *prefix)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  char *name = setting_name (prefix);
  gsize hidden = strlen (PPM_HIDDEN_PREFIX);
  GHashTableIter iter;
  gpointer setting;

  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);

  /* libpurple 2 has no call that lists an account's settings; its struct
   * is public (account.h), and the table is keyed by the setting names. */
  g_hash_table_iter_init (&iter, account->settings);
  while (g_hash_table_iter_next (&iter, &setting, NULL))
    if (g_str_has_prefix (setting, name) && g_hash_table_add (listed, setting))
      g_ptr_array_add (keys, g_strdup ((const char *) setting + hidden));
  /* Inside BitlBee the account is new at every sign-in: the state file
   * remembers the rest. */
  if (ppm_ui_is_bitlbee ()) {
    g_auto (GStrv) stored = g_key_file_get_keys (bitlbee_state_get (account)->keys,
                                                 PPM_BITLBEE_STATE_GROUP, NULL, NULL);

    for (guint i = 0; stored && stored[i]; i++)
      if (g_str_has_prefix (stored[i], name) && !g_hash_table_contains (listed, stored[i]))
        g_ptr_array_add (keys, g_strdup (stored[i] + hidden));
  }
  g_free (name);
  return keys;
}

char *
ppm_settings_load (PurpleAccount *account, const char *key)
{
  char *name;
  const char *value;

  g_return_val_if_fail (key != NULL, NULL);
  name = setting_name (key);
  value = remembered_string (account, name);
  g_free (name);
  return value != NULL && *value != '\0' ? g_strdup (value) : NULL;
}

void
ppm_settings_apply_tuning (PurpleAccount *account, PpmClient *client)
{
  int send_timeout = purple_account_get_int (account, PPM_SETTING_SEND_TIMEOUT, 0);
  int keepalive = purple_account_get_int (account, PPM_SETTING_KEEPALIVE, 0);

  if (send_timeout > 0)
    ppm_client_set_send_timeout (client, (guint) MIN (send_timeout, G_MAXINT / 1000) * 1000);
  if (keepalive > 0)
    ppm_client_set_keepalive_interval (client, (guint) keepalive);
}
