/* plugin.c: the bridge plugin: its description, its life cycle and the
 * libpurple signals it listens to. A message a contact writes to a bridged
 * account goes to the team; nothing the bridge itself writes is read back.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "bridge.h"

#include <glib/gi18n-lib.h>

#define BRIDGE_VERSION "0.1.0"

/* What the local user or the network wrote itself (our own messages from
 * another device, auto-replies, notices) is not the contact speaking: an
 * away message answering a reply would ping-pong with the team. */
#define NOT_FROM_CONTACT (PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_REMOTE_SEND | PURPLE_MESSAGE_AUTO_RESP \
                          | PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_ERROR | PURPLE_MESSAGE_NOTIFY)

static void
on_received_im (PurpleAccount *account, char *sender, char *message, PurpleConversation *conv,
                PurpleMessageFlags flags, gpointer data)
{
  g_autofree char *plain = NULL;

  if ((flags & NOT_FROM_CONTACT) != 0 || sender == NULL || message == NULL
      || !bridge_account_is_bridged (account))
    return;
  plain = purple_markup_strip_html (message);
  g_strstrip (plain);
  if (*plain != '\0')
    bridge_contact_heard (account, sender, plain);
}

/* PPMessage has typing notices, no "stopped typing": the agents' view of
 * them fades by itself, so buddy-typing-stopped has nothing to carry. */
static void
on_buddy_typing (PurpleAccount *account, const char *who, gpointer data)
{
  if (who != NULL && bridge_account_is_bridged (account))
    bridge_contact_typing (account, who);
}

static void
on_signed_on (PurpleConnection *gc, gpointer data)
{
  PurpleAccount *account = purple_connection_get_account (gc);

  if (bridge_account_is_bridged (account))
    bridge_contacts_account_online (account);
}

static gboolean
bridge_load (PurplePlugin *plugin)
{
  bridge_prefs_init ();
  bridge_contacts_init ();
  purple_signal_connect (purple_conversations_get_handle (), "received-im-msg", plugin,
                         PURPLE_CALLBACK (on_received_im), NULL);
  purple_signal_connect (purple_conversations_get_handle (), "buddy-typing", plugin,
                         PURPLE_CALLBACK (on_buddy_typing), NULL);
  purple_signal_connect (purple_connections_get_handle (), "signed-on", plugin,
                         PURPLE_CALLBACK (on_signed_on), NULL);
  bridge_files_init (plugin);
  bridge_contacts_resume ();
  return TRUE;
}

static gboolean
bridge_unload (PurplePlugin *plugin)
{
  purple_signals_disconnect_by_handle (plugin);
  bridge_contacts_shutdown ();
  return TRUE;
}

static PurplePluginInfo bridge_info = {
  .magic = PURPLE_PLUGIN_MAGIC,
  .major_version = PURPLE_MAJOR_VERSION,
  .minor_version = PURPLE_MINOR_VERSION,
  .type = PURPLE_PLUGIN_STANDARD,
  .priority = PURPLE_PRIORITY_DEFAULT,
  .id = BRIDGE_PLUGIN_ID,
  .name = "PPMessage Bridge",
  .version = BRIDGE_VERSION,
  .homepage = "https://github.com/PPMessage/ppmessage",
  .load = bridge_load,
  .unload = bridge_unload,
};

static void
bridge_init (PurplePlugin *plugin)
{
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  bridge_info.summary = _("Customers on your other accounts reach your PPMessage team");
  bridge_info.description =
    _("Whoever writes to a bridged account (IRC, XMPP or any other network) becomes a visitor "
      "of your PPMessage team; the agents' replies go back to them on that network.");
  bridge_info.prefs_info = bridge_prefs_ui_info ();
}

PURPLE_INIT_PLUGIN (ppmessage_bridge, bridge_init, bridge_info)
