/* plugin.c: the plugin and protocol descriptions libpurple loads. The only
 * global state of the glue lives here; everything per account hangs off the
 * connection (see connection.c).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#define PPM_PLUGIN_VERSION "0.1.0"

static const char *
ppm_list_icon (PurpleAccount *account, PurpleBuddy *buddy)
{
  return "ppmessage";
}

/* The server keeps messages for people who are away: no "buddy is offline"
 * warning before sending. */
static gboolean
ppm_offline_message (const PurpleBuddy *buddy)
{
  return TRUE;
}

/* libpurple's default is an NFD normalisation, the costliest step of every
 * buddy and window look-up by name (8 % of a sign-in with 1,000
 * conversations); it leaves ASCII as it is, and the names here are uuids. */
static const char *
ppm_normalize (const PurpleAccount *account, const char *who)
{
  for (const char *c = who; *c != '\0'; c++)
    if ((guchar) *c >= 0x80)
      return NULL;              /* libpurple's default, then */
  return who;
}

static PurplePluginProtocolInfo ppm_protocol_info = {
  .struct_size = sizeof (PurplePluginProtocolInfo),
  /* The password is required for agents only; login asks for it then. */
  .options = OPT_PROTO_PASSWORD_OPTIONAL,
  /* Users' icons as the server serves them (identicons are PNG). */
  .icon_spec = { "png,gif,jpeg", 0, 0, 96, 96, 0, PURPLE_ICON_SCALE_DISPLAY },
  .list_icon = ppm_list_icon,
  .normalize = ppm_normalize,
  .status_types = ppm_status_types,
  .tooltip_text = ppm_buddies_tooltip,
  .get_info = ppm_people_get_info,
  .blist_node_menu = ppm_actions_buddy_menu,
  .login = ppm_connection_login,
  .close = ppm_connection_close,
  .send_im = ppm_im_send,
  .send_typing = ppm_typing_send,
  .set_status = ppm_status_set,
  .offline_message = ppm_offline_message,
  .can_receive_file = ppm_xfer_can_receive,
  .send_file = ppm_xfer_send_file,
  .new_xfer = ppm_xfer_new,
  .chat_info = ppm_chat_info,
  .chat_info_defaults = ppm_chat_info_defaults,
  .join_chat = ppm_chat_join,
  .get_chat_name = ppm_chat_get_name,
  .find_blist_chat = ppm_chat_find_blist_chat,
  .chat_invite = ppm_chat_invite,
  .chat_leave = ppm_chat_leave,
  .chat_send = ppm_chat_send,
  .roomlist_get_list = ppm_chat_roomlist_get_list,
  .roomlist_cancel = ppm_chat_roomlist_cancel,
};

/* The client library logs with GLib under this domain (already redacted). */
#define PPM_LIB_LOG_DOMAIN "ppmessage"

static guint ppm_lib_log_handler_id;

/* Sends the library's GLib log lines to libpurple's debug log, where users
 * find them (Help > Debug Window, finch -d) for bug reports. */
static void
forward_lib_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & G_LOG_LEVEL_WARNING)
    purple_debug_warning (PPM_DEBUG_CATEGORY, "%s\n", message);
  else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    purple_debug_info (PPM_DEBUG_CATEGORY, "%s\n", message);
  else
    purple_debug_misc (PPM_DEBUG_CATEGORY, "%s\n", message);
}

/* Bodies are worth formatting only when the debug log is read: libpurple's
 * debug output is on (pidgin -d, finch -d), or the UI's debug window says
 * it shows our category (Pidgin's, while it is open). */
static gboolean
debug_log_read (void)
{
  PurpleDebugUiOps *ops = purple_debug_get_ui_ops ();

  if (purple_debug_is_enabled ())
    return TRUE;
  return ops != NULL && ops->print != NULL &&
         (ops->is_enabled == NULL || ops->is_enabled (PURPLE_DEBUG_MISC, PPM_DEBUG_CATEGORY));
}

static gboolean
ppm_plugin_load (PurplePlugin *plugin)
{
  /* Criticals keep GLib's default handling (G_DEBUG=fatal-criticals). */
  ppm_lib_log_handler_id =
    g_log_set_handler (PPM_LIB_LOG_DOMAIN,
                       G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO
                       | G_LOG_LEVEL_DEBUG,
                       forward_lib_log, NULL);
  ppm_client_set_log_bodies_check (debug_log_read);
  ppm_history_plugin_load (plugin);
  ppm_canned_plugin_load (plugin);
  ppm_original_plugin_load (plugin);
  return TRUE;
}

static gboolean
ppm_plugin_unload (PurplePlugin *plugin)
{
  if (ppm_lib_log_handler_id != 0)
    g_log_remove_handler (PPM_LIB_LOG_DOMAIN, ppm_lib_log_handler_id);
  ppm_lib_log_handler_id = 0;
  ppm_client_set_log_bodies_check (NULL);
  ppm_history_plugin_unload (plugin);
  ppm_canned_plugin_unload (plugin);
  ppm_original_plugin_unload (plugin);
  ppm_settings_shutdown ();
  return TRUE;
}

static PurplePluginInfo ppm_plugin_info = {
  .magic = PURPLE_PLUGIN_MAGIC,
  .major_version = PURPLE_MAJOR_VERSION,
  .minor_version = PURPLE_MINOR_VERSION,
  .type = PURPLE_PLUGIN_PROTOCOL,
  .priority = PURPLE_PRIORITY_DEFAULT,
  .id = PPM_PLUGIN_ID,
  .name = PPM_PROTOCOL_NAME,
  .version = PPM_PLUGIN_VERSION,
  .homepage = "https://github.com/PPMessage/ppmessage",
  .load = ppm_plugin_load,
  .unload = ppm_plugin_unload,
  .extra_info = &ppm_protocol_info,
  .actions = ppm_actions_account,
};

static void
ppm_plugin_init (PurplePlugin *plugin)
{
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  ppm_plugin_info.summary = _("PPMessage customer-service chat");
  ppm_plugin_info.description =
    _("Answer your website's visitors and talk with your colleagues on a PPMessage server.");
  ppm_protocol_info.protocol_options = ppm_settings_account_options ();
}

PURPLE_INIT_PLUGIN (ppmessage, ppm_plugin_init, ppm_plugin_info)
