/* canned.c: the agent's canned replies, kept by the plugin with the account
 * (the settings "ppm_canned/NAME"), since the shipped server cannot hand
 * its predefined scripts to clients (../shared/protocol/PPMESSAGE-PROTOCOL.md,
 * the list of what the shipped server lacks). In an IM window:
 *   /canned                  lists them
 *   /canned NAME             sends one, as if typed
 *   /canned add NAME TEXT    adds or replaces one
 *   /canned remove NAME      removes one
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <cmds.h>
#include <string.h>

#define CANNED_PREFIX "canned/"

static PurpleCmdId canned_command_id;

static char *
canned_key (const char *name)
{
  return g_strconcat (CANNED_PREFIX, name, NULL);
}

static void
write_system_line (PurpleConversation *conv, const char *text)
{
  char *html = ppm_text_to_html (text);

  purple_conversation_write (conv, NULL, html, PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG,
                             time (NULL));
  g_free (html);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_utf8_collate (*(const char *const *) a, *(const char *const *) b);
}

static void
list_canned (PurpleConversation *conv)
{
  PurpleAccount *account = purple_conversation_get_account (conv);
  GPtrArray *keys = ppm_settings_list (account, CANNED_PREFIX);
  GString *text = g_string_new (NULL);

  g_ptr_array_sort (keys, compare_names);
  for (guint i = 0; i < keys->len; i++) {
    char *reply = ppm_settings_load (account, keys->pdata[i]);

    if (reply != NULL)
      g_string_append_printf (text, "\n%s: %s",
                              (const char *) keys->pdata[i] + strlen (CANNED_PREFIX), reply);
    g_free (reply);
  }
  if (text->len == 0)
    write_system_line (conv, _("No canned replies yet. Add one with /canned add NAME TEXT."));
  else {
    g_string_prepend (text, _("Canned replies:"));
    write_system_line (conv, text->str);
  }
  g_string_free (text, TRUE);
  g_ptr_array_unref (keys);
}

static PurpleCmdRet
canned_command (PurpleConversation *conv, const gchar *cmd, gchar **args, gchar **error,
                void *data)
{
  PurpleAccount *account = purple_conversation_get_account (conv);
  g_autofree char *line = g_strstrip (g_strdup (args != NULL && args[0] != NULL ? args[0] : ""));
  g_auto (GStrv) words = g_strsplit_set (line, " \t", 3);
  guint count = g_strv_length (words);
  char *key, *reply;

  if (count == 0 || *words[0] == '\0') {
    list_canned (conv);
    return PURPLE_CMD_RET_OK;
  }
  if (g_str_equal (words[0], "add") && count == 3 && *g_strstrip (words[2]) != '\0') {
    key = canned_key (words[1]);
    ppm_settings_save (account, key, words[2]);
    g_free (key);
    write_system_line (conv, _("Canned reply saved."));
    return PURPLE_CMD_RET_OK;
  }
  if (g_str_equal (words[0], "remove") && count == 2) {
    key = canned_key (words[1]);
    reply = ppm_settings_load (account, key);
    if (reply != NULL)
      ppm_settings_save (account, key, NULL);
    write_system_line (conv, reply != NULL ? _("Canned reply removed.")
                                           : _("There is no canned reply by that name."));
    g_free (reply);
    g_free (key);
    return PURPLE_CMD_RET_OK;
  }
  if (count > 1 || g_str_equal (words[0], "add") || g_str_equal (words[0], "remove")) {
    *error = g_strdup (_("Usage: /canned, /canned NAME, /canned add NAME TEXT, "
                         "/canned remove NAME"));
    return PURPLE_CMD_RET_FAILED;
  }
  key = canned_key (words[0]);
  reply = ppm_settings_load (account, key);
  g_free (key);
  if (reply == NULL) {
    *error = g_strdup (_("There is no canned reply by that name."));
    return PURPLE_CMD_RET_FAILED;
  }
  {
    /* Sent as if typed: libpurple shows it once and hands it to send_im,
     * which expects Pidgin's HTML. */
    char *html = g_markup_escape_text (reply, -1);

    purple_conv_im_send (PURPLE_CONV_IM (conv), html);
    g_free (html);
  }
  g_free (reply);
  return PURPLE_CMD_RET_OK;
}

void
ppm_canned_plugin_load (PurplePlugin *plugin)
{
  canned_command_id =
    purple_cmd_register ("canned", "s", PURPLE_CMD_P_PRPL,
                         PURPLE_CMD_FLAG_IM | PURPLE_CMD_FLAG_PRPL_ONLY
                         | PURPLE_CMD_FLAG_ALLOW_WRONG_ARGS,
                         PPM_PLUGIN_ID, canned_command,
                         _("canned [NAME | add NAME TEXT | remove NAME]: lists your canned "
                           "replies, sends one, adds or removes one."),
                         NULL);
}

void
ppm_canned_plugin_unload (PurplePlugin *plugin)
{
  if (canned_command_id != 0)
    purple_cmd_unregister (canned_command_id);
  canned_command_id = 0;
}
