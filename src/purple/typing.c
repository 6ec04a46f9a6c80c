/* typing.c: typing notices both ways. The server tells who types only to
 * those watching a conversation, so the IM window opened last watches its
 * conversation, from the moment the window (or the conversation) appears
 * (windows opening together: the last of them, asked for once);
 * the library also watches whatever conversation the agent types in.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

/* Pidgin sends "still typing" again after this many seconds. */
#define PPM_TYPING_RESEND_S (PPM_TYPING_TIMEOUT_S - 2)

static gboolean
is_our_im (PpmAccount *pa, PurpleConversation *conv)
{
  return purple_conversation_get_type (conv) == PURPLE_CONV_TYPE_IM
         && purple_conversation_get_account (conv) == pa->account;
}

/* The server reports typing for one watched conversation per socket: the
 * one in the window the agent opened last. The library keeps which one it
 * watches (and watches it again on a new socket); asking again for the
 * same one sends nothing. */
static void
apply_watch (PpmAccount *pa)
{
  const PpmConversation *conversation =
    ppm_buddies_conversation_for_partner (pa, pa->typing_partner);

  if (conversation != NULL)
    ppm_client_watch_typing (pa->client, conversation->uuid, TRUE);
}

void
ppm_typing_watch (PpmAccount *pa, const char *partner)
{
  g_free (pa->typing_partner);
  pa->typing_partner = g_strdup (partner);
  apply_watch (pa);
}

static gboolean
apply_watch_now (gpointer data)
{
  PpmAccount *pa = data;

  pa->typing_watch_id = 0;
  apply_watch (pa);
  return G_SOURCE_REMOVE;
}

/* A sign-in with a backlog opens a window per waiting message in one go:
 * only the last of them keeps the watch, so it is asked for once, after. */
static void
on_conversation_created (PurpleConversation *conv, gpointer user_data)
{
  PpmAccount *pa = user_data;

  if (pa->closing || pa->client == NULL || !is_our_im (pa, conv))
    return;
  g_free (pa->typing_partner);
  pa->typing_partner = g_strdup (purple_conversation_get_name (conv));
  if (pa->typing_watch_id == 0)
    pa->typing_watch_id = g_idle_add (apply_watch_now, pa);
}

static void
on_deleting_conversation (PurpleConversation *conv, gpointer user_data)
{
  PpmAccount *pa = user_data;
  const PpmConversation *conversation;

  if (pa->closing || pa->client == NULL || !is_our_im (pa, conv)
      || g_strcmp0 (pa->typing_partner, purple_conversation_get_name (conv)) != 0)
    return;
  conversation = ppm_buddies_conversation_for_partner (pa, pa->typing_partner);
  if (conversation != NULL)
    ppm_client_watch_typing (pa->client, conversation->uuid, FALSE);
  g_clear_pointer (&pa->typing_partner, g_free);
}

void
ppm_typing_start (PpmAccount *pa)
{
  void *handle = purple_conversations_get_handle ();

  purple_signal_connect (handle, "conversation-created", pa,
                         PURPLE_CALLBACK (on_conversation_created), pa);
  purple_signal_connect (handle, "deleting-conversation", pa,
                         PURPLE_CALLBACK (on_deleting_conversation), pa);
}

void
ppm_typing_stop (PpmAccount *pa)
{
  purple_signals_disconnect_by_handle (pa);
  g_clear_handle_id (&pa->typing_watch_id, g_source_remove);
  g_clear_pointer (&pa->typing_partner, g_free);
}

/* Called when conversations become known: a window opened before its
 * conversation was known (or before sign-in) gets its watch now. */
void
ppm_typing_refresh_watches (PpmAccount *pa)
{
  GList *l;

  if (pa->closing || pa->client == NULL)
    return;
  if (pa->typing_partner == NULL) {
    for (l = purple_get_ims (); l != NULL; l = l->next)
      if (is_our_im (pa, l->data)) {
        pa->typing_partner = g_strdup (purple_conversation_get_name (l->data));
        break;
      }
  }
  if (pa->typing_partner != NULL)
    apply_watch (pa);
}

unsigned int
ppm_typing_send (PurpleConnection *gc, const char *name, PurpleTypingState state)
{
  PpmAccount *pa = ppm_account_from_gc (gc);
  const PpmConversation *conversation;

  if (pa == NULL || pa->closing || pa->client == NULL || state != PURPLE_TYPING)
    return 0;
  conversation = ppm_buddies_conversation_for_partner (pa, name);
  if (conversation == NULL)
    return 0;
  ppm_client_send_typing (pa->client, conversation->uuid);
  return PPM_TYPING_RESEND_S;
}

void
ppm_typing_received (PpmAccount *pa, const char *conversation_uuid, const char *user_uuid)
{
  const PpmConversation *conversation =
    ppm_client_lookup_conversation (pa->client, conversation_uuid);
  const PpmUser *self = ppm_client_get_self (pa->client);
  const char *partner = ppm_buddies_partner_for_conversation (pa, conversation);

  if (partner == NULL || user_uuid == NULL)
    return;
  if (self != NULL && g_strcmp0 (self->uuid, user_uuid) == 0)
    return;
  /* A colleague typing in a visitor's conversation is not the visitor. */
  if (pa->role == PPM_ROLE_AGENT && g_strcmp0 (partner, user_uuid) != 0)
    return;
  serv_got_typing (pa->gc, partner, PPM_TYPING_TIMEOUT_S, PURPLE_TYPING);
}
