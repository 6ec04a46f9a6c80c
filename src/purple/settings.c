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

/* The device id the server knows this account by: generated once, then kept,
 * so a new sign-in replaces this device's session instead of adding one. */
const char *
ppm_settings_terminal (PurpleAccount *account)
{
  const char *terminal = purple_account_get_string (account, PPM_SETTING_TERMINAL, NULL);

  if (terminal == NULL || *terminal == '\0') {
    char *fresh = g_uuid_string_random ();

    purple_account_set_string (account, PPM_SETTING_TERMINAL, fresh);
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
  purple_account_set_string (account, name, value);
  g_free (name);
}

char *
ppm_settings_load (PurpleAccount *account, const char *key)
{
  char *name;
  const char *value;

  g_return_val_if_fail (key != NULL, NULL);
  name = setting_name (key);
  value = purple_account_get_string (account, name, NULL);
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
