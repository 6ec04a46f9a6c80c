/* history.c: earlier messages in an IM or group chat window. A window shows
 * the conversation's recent messages once (the account's history_count,
 * default 20; 0: none) when the user can first see it, and /history [N]
 * pages further back. Each window remembers the messages it holds (live,
 * sent from it, or from history), so no message is shown twice in it
 * whichever way it came first, and the oldest of them, where the next
 * /history starts. libpurple can only append to a window: earlier messages
 * come below a line saying so, marked delayed with their real times.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <cmds.h>

#define WINDOW_KEY "ppm-history"

/* What one IM window holds. Most windows hold one message (a sign-in opens
 * a window per waiting message): the first uuid is kept alone, and the set
 * of the others is made for a second one, which spares each such window a
 * hash table (about 200 bytes, 2 MB at 10,000 windows). */
typedef struct {
  char *first_uuid;           /* the first message uuid noted, NULL: none yet */
  GHashTable *shown;          /* the others, NULL until there is one */
  char *oldest_uuid;          /* where /history goes on from */
  gint64 oldest_time_us;
  gboolean reading;           /* a read for this window is waiting */
  gboolean unseen;            /* opened by a message: reads when first viewed */
} WindowHistory;

static PurpleCmdId history_command_id;

/* Windows that opened and wait for their history: read one at a time, at
 * low priority, so that a sign-in opening a window per waiting message, or
 * a burst opening many, shows and acknowledges the messages first (a read
 * and its answer cost about as much as twenty messages). */
static GQueue opened_windows = G_QUEUE_INIT;   /* PurpleConversation* */
static guint opened_pump_id;
static gboolean opened_reading;

static void read_opened_later (void);

static void
window_history_free (WindowHistory *window)
{
  g_clear_pointer (&window->shown, g_hash_table_destroy);
  g_free (window->first_uuid);
  g_free (window->oldest_uuid);
  g_free (window);
}

static gboolean
is_ours (PurpleConversation *conv)
{
  PurpleConversationType type = purple_conversation_get_type (conv);

  return (type == PURPLE_CONV_TYPE_IM || type == PURPLE_CONV_TYPE_CHAT) &&
         g_strcmp0 (purple_account_get_protocol_id (purple_conversation_get_account (conv)),
                    PPM_PLUGIN_ID) == 0;
}

static WindowHistory *
window_history (PurpleConversation *conv, gboolean create)
{
  WindowHistory *window = purple_conversation_get_data (conv, WINDOW_KEY);

  if (window == NULL && create && is_ours (conv)) {
    window = g_new0 (WindowHistory, 1);
    purple_conversation_set_data (conv, WINDOW_KEY, window);
  }
  return window;
}

static gboolean
window_holds (const WindowHistory *window, const char *message_uuid)
{
  return g_strcmp0 (window->first_uuid, message_uuid) == 0 ||
         (window->shown != NULL && g_hash_table_contains (window->shown, message_uuid));
}

/* The IM window with partner, or the chat window of the group named so. */
static PurpleConversation *
find_window (PpmAccount *pa, const char *partner)
{
  PurpleConversation *conv;

  if (partner == NULL)
    return NULL;
  conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, partner, pa->account);
  if (conv == NULL)
    conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_CHAT, partner, pa->account);
  return conv;
}

static gboolean
is_chat (PurpleConversation *conv)
{
  return purple_conversation_get_type (conv) == PURPLE_CONV_TYPE_CHAT;
}

gboolean
ppm_history_window_shows (PpmAccount *pa, const char *partner, const char *message_uuid)
{
  PurpleConversation *conv = find_window (pa, partner);
  WindowHistory *window = conv != NULL ? window_history (conv, FALSE) : NULL;

  return window != NULL && message_uuid != NULL && window_holds (window, message_uuid);
}

static void
window_note (WindowHistory *window, const char *message_uuid, gint64 time_us)
{
  if (message_uuid == NULL)
    return;
  if (window->first_uuid == NULL)
    window->first_uuid = g_strdup (message_uuid);
  else if (!window_holds (window, message_uuid)) {
    if (window->shown == NULL)
      window->shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add (window->shown, g_strdup (message_uuid));
  }
  if (time_us <= 0)
    time_us = g_get_real_time ();
  if (window->oldest_uuid == NULL || time_us < window->oldest_time_us) {
    g_free (window->oldest_uuid);
    window->oldest_uuid = g_strdup (message_uuid);
    window->oldest_time_us = time_us;
  }
}

void
ppm_history_window_note (PpmAccount *pa, const char *partner, const char *message_uuid,
                         gint64 time_us)
{
  PurpleConversation *conv = find_window (pa, partner);
  WindowHistory *window = conv != NULL ? window_history (conv, TRUE) : NULL;

  if (window != NULL)
    window_note (window, message_uuid, time_us);
}

static void
write_system_line (PurpleConversation *conv, const char *text)
{
  purple_conversation_write (conv, NULL, text, PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG,
                             time (NULL));
}

/* Writes one earlier message as a message (sender, time, delayed) with the
 * window's logging paused: it was logged when first shown, or belongs to
 * the server's record, not this log. PURPLE_MESSAGE_NO_LOG would keep it out
 * of the log too, but Pidgin 2 draws such a message as a grey line with no
 * sender and no time (pidgin/gtkconv.c, pidgin_conv_write_conv). */
static void
write_earlier_message (PpmAccount *pa, PurpleConversation *conv, const char *partner,
                       const PpmMessage *message)
{
  gboolean logging = purple_conversation_is_logging (conv);

  purple_conversation_set_logging (conv, FALSE);
  if (is_chat (conv))
    ppm_chat_write_history (pa, conv, message);
  else {
    ppm_im_write_history (pa, conv, message);
    ppm_original_image_shown (pa, partner, message);
  }
  purple_conversation_set_logging (conv, logging);
}

static void
on_history_read (gpointer data, const char *conversation_uuid, GPtrArray *messages,
                 gboolean reached_start, const GError *error)
{
  PpmRequest *read = data;
  PpmAccount *pa = read->pa;
  PurpleConversation *conv = find_window (pa, read->who);
  WindowHistory *window = conv != NULL ? window_history (conv, TRUE) : NULL;
  gboolean header_written = FALSE;
  gint64 limit_us;

  if (!read->paging) {
    opened_reading = FALSE;
    read_opened_later ();
  }
  if (window == NULL) {
    ppm_request_done (read);
    return;
  }
  window->reading = FALSE;
  if (error != NULL) {
    purple_debug_warning (PPM_DEBUG_CATEGORY, "history of %s not read: %s\n",
                          conversation_uuid, error->message);
    if (read->paging) {
      char *notice = g_strdup_printf (_("Earlier messages could not be loaded: %s"),
                                      error->message);

      if (is_chat (conv)) {
        char *html = ppm_text_to_html (notice);

        purple_conversation_write (conv, NULL, html, PURPLE_MESSAGE_ERROR, time (NULL));
        g_free (html);
      } else
        ppm_im_write_error (pa, read->who, notice);
      g_free (notice);
    }
    ppm_request_done (read);
    return;
  }
  /* A window opened by a message shows what came before it: anything newer
   * that the server already holds is on its way live and is shown then, in
   * its place, not as earlier history (as pushes or catch-up, it would
   * otherwise be skipped as shown and come out of order). */
  limit_us = !read->paging && window->oldest_uuid != NULL ? window->oldest_time_us : 0;
  for (guint i = 0; i < messages->len; i++) {
    const PpmMessage *message = messages->pdata[i];

    if (message->uuid == NULL || window_holds (window, message->uuid))
      continue;
    if (limit_us > 0 && message->time_us >= limit_us)
      continue;
    if (!header_written)
      write_system_line (conv, _("Earlier messages:"));
    header_written = TRUE;
    write_earlier_message (pa, conv, read->who, message);
    window_note (window, message->uuid, message->time_us);
  }
  if (!header_written && read->paging)
    write_system_line (conv, _("No earlier messages in this conversation."));
  ppm_request_done (read);
}

/* Asks the library for count messages before the oldest the window holds
 * (paging) or for the most recent ones (a window that opened). */
static gboolean
start_read (PpmAccount *pa, PurpleConversation *conv, guint count, gboolean paging)
{
  const char *partner = purple_conversation_get_name (conv);
  const PpmConversation *conversation = ppm_buddies_conversation_for_partner (pa, partner);
  WindowHistory *window = window_history (conv, TRUE);
  PpmRequest *read;

  if (conversation == NULL || window == NULL || window->reading)
    return FALSE;
  read = ppm_request_new (pa, partner);
  read->paging = paging;
  window->reading = TRUE;
  ppm_client_read_history (pa->client, conversation->uuid,
                           paging ? window->oldest_uuid : NULL, count, on_history_read, read);
  return TRUE;
}

static PpmAccount *
signed_in_account (PurpleConversation *conv)
{
  PurpleConnection *gc = purple_conversation_get_gc (conv);
  PpmAccount *pa = gc != NULL ? ppm_account_from_gc (gc) : NULL;

  if (pa == NULL || pa->client == NULL || pa->closing ||
      purple_connection_get_state (gc) != PURPLE_CONNECTED)
    return NULL;
  return pa;
}

static guint
history_count (PurpleAccount *account)
{
  int count = purple_account_get_int (account, PPM_SETTING_HISTORY_COUNT,
                                      PPM_HISTORY_COUNT_DEFAULT);

  return count > 0 ? (guint) count : 0;
}

static gboolean
read_next_opened (gpointer data)
{
  opened_pump_id = 0;
  while (!opened_reading && !g_queue_is_empty (&opened_windows)) {
    PurpleConversation *conv = g_queue_pop_head (&opened_windows);
    PpmAccount *pa = signed_in_account (conv);
    guint count = history_count (purple_conversation_get_account (conv));

    if (pa != NULL && count > 0)
      opened_reading = start_read (pa, conv, count, FALSE);
  }
  return G_SOURCE_REMOVE;
}

static void
read_opened_later (void)
{
  if (opened_pump_id == 0 && !opened_reading && !g_queue_is_empty (&opened_windows))
    opened_pump_id = g_idle_add_full (G_PRIORITY_LOW, read_next_opened, NULL, NULL);
}

static void
queue_recent_read (PpmAccount *pa, PurpleConversation *conv)
{
  if (history_count (purple_conversation_get_account (conv)) > 0) {
    g_queue_push_tail (&opened_windows, conv);
    read_opened_later ();
  }
}

/* A window the user opened reads its recent history at once; one a message
 * opened (at sign-in with a backlog, a thousand of them) only when the user
 * looks at it: when it has focus now or later. A UI that reports no focus
 * (the headless core; BitlBee reads none anyway) shows such a window no
 * history until /history. */
static void
on_conversation_created (PurpleConversation *conv, gpointer data)
{
  PpmAccount *pa;

  if (!is_ours (conv) || ppm_ui_is_bitlbee ())
    return;
  pa = signed_in_account (conv);
  if (pa == NULL)
    return;
  ppm_people_window_opened (pa, conv);
  if (pa->showing_message && !purple_conversation_has_focus (conv))
    window_history (conv, TRUE)->unseen = TRUE;
  else
    queue_recent_read (pa, conv);
}

/* Pidgin (a tab shown, the window focused) and Finch (its window focused)
 * both report a window seen as an UNSEEN update, with the window focused. */
static void
on_conversation_updated (PurpleConversation *conv, PurpleConvUpdateType type, gpointer data)
{
  WindowHistory *window;
  PpmAccount *pa;

  if (type != PURPLE_CONV_UPDATE_UNSEEN || !is_ours (conv))
    return;
  window = window_history (conv, FALSE);
  if (window == NULL || !window->unseen || !purple_conversation_has_focus (conv))
    return;
  pa = signed_in_account (conv);
  if (pa == NULL)
    return;
  window->unseen = FALSE;
  queue_recent_read (pa, conv);
}

static void
on_deleting_conversation (PurpleConversation *conv, gpointer data)
{
  WindowHistory *window = purple_conversation_get_data (conv, WINDOW_KEY);

  g_queue_remove (&opened_windows, conv);
  if (window != NULL) {
    purple_conversation_set_data (conv, WINDOW_KEY, NULL);
    window_history_free (window);
  }
}

static PurpleCmdRet
history_command (PurpleConversation *conv, const gchar *cmd, gchar **args, gchar **error,
                 void *data)
{
  PpmAccount *pa = signed_in_account (conv);
  const char *argument = args != NULL ? args[0] : NULL;
  guint64 count = history_count (purple_conversation_get_account (conv));

  if (count == 0)
    count = PPM_HISTORY_COUNT_DEFAULT;
  if (argument != NULL &&
      !g_ascii_string_to_unsigned (argument, 10, 1, 100, &count, NULL)) {
    *error = g_strdup (_("Usage: /history [N], N from 1 to 100"));
    return PURPLE_CMD_RET_FAILED;
  }
  if (pa == NULL) {
    *error = g_strdup (_("Not signed in."));
    return PURPLE_CMD_RET_FAILED;
  }
  if (!start_read (pa, conv, (guint) count, TRUE))
    write_system_line (conv, _("Earlier messages are being loaded, or this contact has no "
                               "conversation yet."));
  return PURPLE_CMD_RET_OK;
}

/* libpurple loads protocol plugins before its conversations exist, so the
 * windows are watched from the first sign-in on. */
static int windows_watched;

void
ppm_history_watch_windows (void)
{
  if (windows_watched)
    return;
  windows_watched = TRUE;
  purple_signal_connect (purple_conversations_get_handle (), "conversation-created",
                         &windows_watched, PURPLE_CALLBACK (on_conversation_created), NULL);
  purple_signal_connect (purple_conversations_get_handle (), "deleting-conversation",
                         &windows_watched, PURPLE_CALLBACK (on_deleting_conversation), NULL);
  purple_signal_connect (purple_conversations_get_handle (), "conversation-updated",
                         &windows_watched, PURPLE_CALLBACK (on_conversation_updated), NULL);
}

void
ppm_history_plugin_load (PurplePlugin *plugin)
{
  history_command_id =
    purple_cmd_register ("history", "w", PURPLE_CMD_P_PRPL,
                         PURPLE_CMD_FLAG_IM | PURPLE_CMD_FLAG_CHAT | PURPLE_CMD_FLAG_PRPL_ONLY
                         | PURPLE_CMD_FLAG_ALLOW_WRONG_ARGS,
                         PPM_PLUGIN_ID, history_command,
                         _("history [N]: shows N earlier messages of this conversation "
                           "(default: the account's history count)."),
                         NULL);
}

void
ppm_history_plugin_unload (PurplePlugin *plugin)
{
  if (history_command_id != 0)
    purple_cmd_unregister (history_command_id);
  history_command_id = 0;
  if (windows_watched) {
    purple_signals_disconnect_by_handle (&windows_watched);
    for (GList *l = purple_get_conversations (); l != NULL; l = l->next)
      on_deleting_conversation (l->data, NULL);
  }
  windows_watched = FALSE;
  g_queue_clear (&opened_windows);
  g_clear_handle_id (&opened_pump_id, g_source_remove);
  opened_reading = FALSE;
}

void
ppm_history_account_closed (PpmAccount *pa)
{
  /* The reads of this session will never answer (the library calls back
   * no more): the windows, which outlive the session, may read again. */
  for (GList *l = purple_get_conversations (); l != NULL; l = l->next) {
    WindowHistory *window = purple_conversation_get_account (l->data) == pa->account
                              ? purple_conversation_get_data (l->data, WINDOW_KEY)
                              : NULL;

    if (window != NULL)
      window->reading = FALSE;
  }
  /* As a read under way, a window waiting for its read belongs to the
   * session it opened in. */
  for (GList *l = opened_windows.head; l != NULL;) {
    GList *next = l->next;

    if (purple_conversation_get_account (l->data) == pa->account)
      g_queue_delete_link (&opened_windows, l);
    l = next;
  }
  opened_reading = FALSE;
  read_opened_later ();
}
