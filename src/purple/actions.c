/* actions.c: the buddy menu (close and reopen a conversation) and the
 * account's actions (service status, the team's PPConsole page).
 *
 * Closing asks the server to close the conversation for this agent
 * (PP_CLOSE_CONVERSATION); its buddy stays on the list, shown offline and
 * marked closed, until the next sign-in drops it with the other closed
 * conversations. The shipped server has no working call to reopen one
 * (../shared/protocol/PPMESSAGE-PROTOCOL.md, "Closing and reopening"): the
 * next message in it reopens it, so "Reopen" opens the window to write it,
 * and a visitor who writes again reopens it too.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

static PpmAccount *
signed_in (PurpleConnection *gc)
{
  PpmAccount *pa = ppm_account_from_gc (gc);

  if (pa == NULL || pa->client == NULL || pa->closing ||
      purple_connection_get_state (gc) != PURPLE_CONNECTED)
    return NULL;
  return pa;
}

static PpmAccount *
buddy_account (PurpleBuddy *buddy)
{
  return signed_in (purple_account_get_connection (purple_buddy_get_account (buddy)));
}

static void
on_conversation_closed (gpointer data, const char *conversation_uuid, const GError *error)
{
  PpmRequest *request = data;
  PpmAccount *pa = request->pa;
  PurpleBuddy *buddy = purple_find_buddy (pa->account, request->who);

  if (error != NULL) {
    purple_debug_warning (PPM_DEBUG_CATEGORY, "closing %s failed: %s\n", conversation_uuid,
                          error->message);
    if (buddy != NULL)
      ppm_buddies_set_closing (buddy, FALSE);
    purple_notify_error (pa->gc, _("Close conversation"),
                         _("The conversation could not be closed."), error->message);
  }
  ppm_request_done (request);
}

static void
close_conversation (PurpleBlistNode *node, gpointer data)
{
  PurpleBuddy *buddy = PURPLE_BUDDY (node);
  PpmAccount *pa = buddy_account (buddy);
  const char *who = purple_buddy_get_name (buddy);
  const PpmConversation *conversation =
    pa != NULL ? ppm_buddies_conversation_for_partner (pa, who) : NULL;

  if (conversation == NULL)
    return;
  /* Told apart from a conversation the server closed, whose buddy leaves. */
  ppm_buddies_set_closing (buddy, TRUE);
  ppm_client_close_conversation (pa->client, conversation->uuid, on_conversation_closed,
                                 ppm_request_new (pa, who));
}

static void
reopen_conversation (PurpleBlistNode *node, gpointer data)
{
  PurpleBuddy *buddy = PURPLE_BUDDY (node);
  PpmAccount *pa = buddy_account (buddy);
  const char *who = purple_buddy_get_name (buddy);
  PurpleConversation *conv;

  if (pa == NULL)
    return;
  conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who, pa->account);
  if (conv == NULL)
    conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, pa->account, who);
  purple_conversation_present (conv);
  purple_conversation_write (conv, NULL,
                             _("This conversation is closed: your next message reopens it."),
                             PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG, time (NULL));
}

GList *
ppm_actions_buddy_menu (PurpleBlistNode *node)
{
  PurpleBuddy *buddy;
  PpmAccount *pa;
  const PpmConversation *conversation;

  if (PURPLE_BLIST_NODE_IS_CHAT (node))
    return ppm_chat_menu (PURPLE_CHAT (node));
  if (!PURPLE_BLIST_NODE_IS_BUDDY (node))
    return NULL;
  buddy = PURPLE_BUDDY (node);
  pa = buddy_account (buddy);
  if (pa == NULL || pa->role != PPM_ROLE_AGENT)
    return NULL;
  conversation = ppm_buddies_conversation_for_partner (pa, purple_buddy_get_name (buddy));
  if (conversation == NULL)
    return NULL;
  if (ppm_buddies_is_closed (buddy) || !conversation->is_open)
    return g_list_append (NULL, purple_menu_action_new (_("Reopen conversation"),
                                                        PURPLE_CALLBACK (reopen_conversation),
                                                        NULL, NULL));
  return g_list_append (NULL, purple_menu_action_new (_("Close conversation"),
                                                      PURPLE_CALLBACK (close_conversation),
                                                      NULL, NULL));
}

/* ---- The account's actions ---- */

static void
set_service_status (PurplePluginAction *action)
{
  if (signed_in (action->context) != NULL)
    ppm_status_ask_service_status (action->context);
}

static void
open_console (PurplePluginAction *action)
{
  PurpleConnection *gc = action->context;
  PpmAccount *pa = signed_in (gc);
  const char *server;
  char *base, *url;

  if (pa == NULL)
    return;
  server = purple_account_get_string (pa->account, PPM_SETTING_SERVER, "");
  base = g_strstrip (g_strdup (server));
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  url = g_strdup_printf ("%s/ppconsole/", base);
  purple_notify_uri (gc, url);
  g_free (url);
  g_free (base);
}

GList *
ppm_actions_account (PurplePlugin *plugin, gpointer context)
{
  PpmAccount *pa = signed_in (context);
  GList *actions = NULL;

  /* Visitors have neither a service status nor a console. */
  if (pa == NULL || pa->role != PPM_ROLE_AGENT)
    return NULL;
  actions = g_list_append (actions, purple_plugin_action_new (_("Set Service Status..."),
                                                              set_service_status));
  actions = g_list_append (actions, purple_plugin_action_new (_("Open the Team's PPConsole"),
                                                              open_console));
  return actions;
}
