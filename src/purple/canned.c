/* canned.c: the agent's canned replies, kept by the plugin with the account
 * (the settings "ppm_canned/NAME"), since the shipped server cannot hand
 * its predefined scripts to clients (PPMESSAGE-PROTOCOL.md section 16.5).
 * A server that does return them has them listed too, numbered and
 * read-only, as the team's. In an IM window:
 *   /canned                  lists them (and the team's)
 *   /canned NAME             sends one, as if typed
 *   /canned #N               sends the team's reply N of the last list
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

/* The agent's own replies, then the team's (PpmScript*) where there are. */
static void
write_list (PurpleConversation *conv, GPtrArray *team)
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
  if (text->len > 0)
    g_string_prepend (text, _("Canned replies:"));
  for (guint i = 0; team != NULL && i < team->len; i++) {
    const PpmScript *script = team->pdata[i];

    if (i == 0)
      g_string_append_printf (text, "%s%s", text->len > 0 ? "\n" : "",
                              _("The team's canned replies (read-only; /canned #N sends one):"));
    if (script->question != NULL)
      g_string_append_printf (text, "\n#%u %s: %s", i + 1, script->question, script->answer);
    else
      g_string_append_printf (text, "\n#%u %s", i + 1, script->answer);
  }
  if (text->len == 0)
    write_system_line (conv, _("No canned replies yet. Add one with /canned add NAME TEXT."));
  else
    write_system_line (conv, text->str);
  g_string_free (text, TRUE);
  g_ptr_array_unref (keys);
}

/* The shipped server has none to give and an older one may fail: either
 * way the list is the agent's own, and only the debug log says why. */
static void
on_team_scripts (gpointer data, GPtrArray *scripts, const GError *error)
{
  PpmRequest *request = data;
  PpmAccount *pa = request->pa;
  PurpleConversation *conv =
    purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, request->who, pa->account);

  if (error != NULL)
    purple_debug_info (PPM_DEBUG_CATEGORY, "the team's canned replies could not be read: %s\n",
                       error->message);
  else {
    g_clear_pointer (&pa->team_scripts, g_ptr_array_unref);
    pa->team_scripts = g_ptr_array_ref (scripts);
  }
  if (conv != NULL)
    write_list (conv, error == NULL ? scripts : NULL);
  ppm_request_done (request);
}

static void
list_canned (PurpleConversation *conv)
{
  PurpleConnection *gc = purple_conversation_get_gc (conv);
  PpmAccount *pa = gc != NULL ? ppm_account_from_gc (gc) : NULL;

  if (pa == NULL || pa->client == NULL || pa->closing || pa->role != PPM_ROLE_AGENT ||
      purple_connection_get_state (gc) != PURPLE_CONNECTED) {
    write_list (conv, NULL);
    return;
  }
  ppm_client_read_team_scripts (pa->client, on_team_scripts,
                                ppm_request_new (pa, purple_conversation_get_name (conv)));
}

/* "#N": the team's reply N of the last list, or NULL. */
static const char *
team_reply (PurpleConversation *conv, const char *word)
{
  PurpleConnection *gc = purple_conversation_get_gc (conv);
  PpmAccount *pa = gc != NULL ? ppm_account_from_gc (gc) : NULL;
  guint64 number = 0;

  if (pa == NULL || pa->team_scripts == NULL || word[0] != '#' ||
      !g_ascii_string_to_unsigned (word + 1, 10, 1, pa->team_scripts->len, &number, NULL))
    return NULL;
  return ((const PpmScript *) pa->team_scripts->pdata[number - 1])->answer;
}

/* Sent as if typed: libpurple shows it once and hands it to send_im,
 * which expects Pidgin's HTML. */
static void
send_reply (PurpleConversation *conv, const char *reply)
{
  char *html = g_markup_escape_text (reply, -1);

  purple_conv_im_send (PURPLE_CONV_IM (conv), html);
  g_free (html);
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
  /* "#N" names the team's replies: no own reply takes such a name. */
  if (g_str_equal (words[0], "add") && count == 3 && words[1][0] != '#' &&
      *g_strstrip (words[2]) != '\0') {
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
  if (words[0][0] == '#') {
    const char *team = team_reply (conv, words[0]);

    if (team == NULL) {
      *error = g_strdup (_("There is no team reply by that number: list them with /canned."));
      return PURPLE_CMD_RET_FAILED;
    }
    send_reply (conv, team);
    return PURPLE_CMD_RET_OK;
  }
  key = canned_key (words[0]);
  reply = ppm_settings_load (account, key);
  g_free (key);
  if (reply == NULL) {
    *error = g_strdup (_("There is no canned reply by that name."));
    return PURPLE_CMD_RET_FAILED;
  }
  send_reply (conv, reply);
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
                         _("canned [NAME | #N | add NAME TEXT | remove NAME]: lists your "
                           "canned replies and the team's, sends one, adds or removes one "
                           "of yours."),
                         NULL);
}

void
ppm_canned_plugin_unload (PurplePlugin *plugin)
{
  if (canned_command_id != 0)
    purple_cmd_unregister (canned_command_id);
  canned_command_id = 0;
}
