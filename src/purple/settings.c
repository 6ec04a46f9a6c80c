/* settings.c: the account options a user fills in, and the per-account state
 * the library asks us to keep (hidden settings prefixed "ppm_").
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

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
 * file in libpurple's user directory (BitlBee's configuration directory),
 * one group per account, and read back when the account lacks it. */
#define PPM_BITLBEE_STATE_FILE "ppmessage-state.ini"

/* The file's contents, read once; a change is written a second later, so a
 * sign-in that records thousands of conversations writes the file once.
 * Plugin-wide, like the file: each account has its own group in it. */
static GKeyFile *bitlbee_state;
static guint bitlbee_state_write_id;

static char *
bitlbee_state_path (void)
{
  return g_build_filename (purple_user_dir (), PPM_BITLBEE_STATE_FILE, NULL);
}

/* The account as BitlBee knows it: user name and server. */
static char *
bitlbee_state_group (PurpleAccount *account)
{
  return g_strdup_printf ("%s %s", purple_account_get_username (account),
                          purple_account_get_string (account, PPM_SETTING_SERVER, ""));
}

static GKeyFile *
bitlbee_state_get (void)
{
  if (bitlbee_state == NULL) {
    char *path = bitlbee_state_path ();

    bitlbee_state = g_key_file_new ();
    /* Missing at first: an empty state. */
    g_key_file_load_from_file (bitlbee_state, path, G_KEY_FILE_NONE, NULL);
    g_free (path);
  }
  return bitlbee_state;
}

static gboolean
bitlbee_state_write (gpointer data)
{
  char *path = bitlbee_state_path ();
  GError *error = NULL;

  bitlbee_state_write_id = 0;
  if (!g_key_file_save_to_file (bitlbee_state_get (), path, &error)) {
    purple_debug_warning (PPM_DEBUG_CATEGORY, "state not saved: %s\n", error->message);
    g_error_free (error);
  }
  g_free (path);
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
  g_clear_pointer (&bitlbee_state, g_key_file_free);
}

static void
bitlbee_state_store (PurpleAccount *account, const char *name, const char *value)
{
  char *group = bitlbee_state_group (account);

  if (value != NULL)
    g_key_file_set_string (bitlbee_state_get (), group, name, value);
  else
    g_key_file_remove_key (bitlbee_state_get (), group, name, NULL);
  if (bitlbee_state_write_id == 0)
    bitlbee_state_write_id = purple_timeout_add_seconds (1, bitlbee_state_write, NULL);
  g_free (group);
}

/* An account setting, or inside BitlBee what the state file remembers. */
static const char *
remembered_string (PurpleAccount *account, const char *name)
{
  const char *value = purple_account_get_string (account, name, NULL);

  if ((value == NULL || *value == '\0') && ppm_ui_is_bitlbee ()) {
    char *group = bitlbee_state_group (account);
    char *stored = g_key_file_get_string (bitlbee_state_get (), group, name, NULL);

    if (stored != NULL) {
      purple_account_set_string (account, name, stored);
      value = purple_account_get_string (account, name, NULL);
    }
    g_free (stored);
    g_free (group);
  }
  return value;
}

static void
remember_string (PurpleAccount *account, const char *name, const char *value)
{
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
