/* prefs.c: the bridge's preferences (Pidgin: Tools > Plugins > Configure
 * Plugin): the team's PPCom "enterprise" link, the quiet period after
 * which a contact's session closes, and one box per account of another
 * network: bridged or not. PPMessage accounts are never offered.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "bridge.h"

#include <glib/gi18n-lib.h>

static gboolean
is_ppmessage (PurpleAccount *account)
{
  return g_strcmp0 (purple_account_get_protocol_id (account), BRIDGE_PPMESSAGE_PRPL) == 0;
}

char *
bridge_account_pref (PurpleAccount *account)
{
  /* A '/' would make a deeper preference path. */
  g_autofree char *name = g_strdelimit (g_strdup (purple_account_get_username (account)), "/",
                                        '|');

  return g_strdup_printf (BRIDGE_PREF_ACCOUNTS "/%s:%s", purple_account_get_protocol_id (account),
                          name);
}

gboolean
bridge_account_is_bridged (PurpleAccount *account)
{
  g_autofree char *pref = NULL;

  if (account == NULL || is_ppmessage (account))
    return FALSE;
  pref = bridge_account_pref (account);
  return purple_prefs_exists (pref) && purple_prefs_get_bool (pref);
}

void
bridge_prefs_init (void)
{
  purple_prefs_add_none (BRIDGE_PREFS);
  purple_prefs_add_string (BRIDGE_PREF_LINK, "");
  purple_prefs_add_int (BRIDGE_PREF_QUIET, BRIDGE_QUIET_DEFAULT);
  purple_prefs_add_none (BRIDGE_PREF_ACCOUNTS);
}

static PurplePluginPrefFrame *
pref_frame (PurplePlugin *plugin)
{
  PurplePluginPrefFrame *frame = purple_plugin_pref_frame_new ();
  PurplePluginPref *pref;

  pref = purple_plugin_pref_new_with_name_and_label (
    BRIDGE_PREF_LINK, _("The team's PPCom link (PPConsole's \"enterprise\" link)"));
  purple_plugin_pref_frame_add (frame, pref);
  pref = purple_plugin_pref_new_with_name_and_label (
    BRIDGE_PREF_QUIET, _("Close a contact's session after this many quiet seconds"));
  purple_plugin_pref_set_bounds (pref, 10, 7 * 24 * 3600);
  purple_plugin_pref_frame_add (frame, pref);
  pref = purple_plugin_pref_new_with_label (_("Accounts whose contacts reach the team:"));
  purple_plugin_pref_frame_add (frame, pref);
  for (GList *l = purple_accounts_get_all (); l != NULL; l = l->next) {
    PurpleAccount *account = l->data;
    g_autofree char *path = NULL;
    g_autofree char *label = NULL;
    PurplePlugin *prpl;

    if (is_ppmessage (account))
      continue;
    path = bridge_account_pref (account);
    prpl = purple_find_prpl (purple_account_get_protocol_id (account));
    /* TRANSLATORS: an account in the bridge's settings: user name, network. */
    label = g_strdup_printf (_("%s (%s)"), purple_account_get_username (account),
                             prpl ? purple_plugin_get_name (prpl)
                                  : purple_account_get_protocol_id (account));
    purple_prefs_add_bool (path, FALSE);
    pref = purple_plugin_pref_new_with_name_and_label (path, label);
    purple_plugin_pref_frame_add (frame, pref);
  }
  return frame;
}

PurplePluginUiInfo *
bridge_prefs_ui_info (void)
{
  static PurplePluginUiInfo info = {
    .get_plugin_pref_frame = pref_frame,
  };

  return &info;
}
