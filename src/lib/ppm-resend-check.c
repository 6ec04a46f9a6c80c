/* ppm-resend-check.c: see ppm-resend-check.h. The look-up knows only the
 * ports; the outbox decides when it runs and what follows (ppm-outbox.c).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-resend-check.h"
#include "ppm-catchup.h"
#include "ppm-json.h"

/* History pages read per conversation before the doubts left are taken as
 * not stored (a bound on a conversation that was very busy meanwhile). */
#define RESEND_CHECK_PAGE_SIZE 50
#define RESEND_CHECK_MAX_PAGES 40

typedef struct {
  char *conversation_uuid;
  char *cursor;               /* min_uuid of the next page, NULL: page mode */
  gboolean page_mode;         /* no last seen message: newest first from the start */
  guint pages;
  guint retries;              /* of the current page */
  GHashTable *missing;        /* doubts of it not found yet */
} ConversationCheck;

typedef struct {
  const PpmPorts *ports;
  gpointer owner;
  GCancellable *cancellable;
  PpmResendCheckDone done;
  gpointer data;
  GPtrArray *conversations;   /* ConversationCheck*, one after the other */
  guint current;
  GHashTable *stored;
} ResendCheck;

static void
conversation_check_free (ConversationCheck *check)
{
  g_free (check->conversation_uuid);
  g_free (check->cursor);
  g_hash_table_unref (check->missing);
  g_free (check);
}

static void
resend_check_free (ResendCheck *check)
{
  g_clear_object (&check->cancellable);
  g_ptr_array_unref (check->conversations);
  g_hash_table_unref (check->stored);
  g_free (check);
}

static void fetch_page (ResendCheck *check);

static void
finish (ResendCheck *check, const GError *error)
{
  check->done (error ? NULL : check->stored, error, check->data);
  resend_check_free (check);
}

static void
next_conversation (ResendCheck *check)
{
  check->current++;
  if (check->current >= check->conversations->len)
    finish (check, NULL);
  else
    fetch_page (check);
}

static void
on_page (JsonObject *answer, const GError *error, gpointer data)
{
  ResendCheck *check = data;
  ConversationCheck *conv = check->conversations->pdata[check->current];
  JsonArray *list;
  guint length, full;

  if (ppm_error_is_cancelled (error)) {
    resend_check_free (check);
    return;
  }
  if (error) {
    if (conv->retries++ < PPM_PAGE_RETRIES) {
      g_debug ("resend check: history page failed (%s); asking again", error->message);
      fetch_page (check);
    } else {
      finish (check, error);
    }
    return;
  }
  conv->retries = 0;
  conv->pages++;
  list = ppm_json_opt_array (answer, "list");
  length = list ? json_array_get_length (list) : 0;
  for (guint i = 0; i < length; i++) {
    JsonObject *record = ppm_json_array_object (list, i);
    const char *uuid = record ? ppm_json_opt_nonempty (record, "uuid") : NULL;

    if (uuid == NULL)
      continue;
    if (g_hash_table_remove (conv->missing, uuid))
      g_hash_table_add (check->stored, g_strdup (uuid));
    g_free (conv->cursor);
    conv->cursor = g_strdup (uuid);
  }
  /* min_uuid mode gives at most page_size - 1 messages, oldest first; page
   * mode up to page_size, newest first (../shared/protocol/
   * PPMESSAGE-PROTOCOL.md, PP_PAGE_HISTORY_MESSAGE). A shorter page is the
   * end of the history. */
  full = RESEND_CHECK_PAGE_SIZE - (conv->page_mode ? 0 : 1);
  if (g_hash_table_size (conv->missing) == 0 || length < full ||
      conv->pages >= RESEND_CHECK_MAX_PAGES) {
    if (g_hash_table_size (conv->missing) > 0)
      g_debug ("resend check: %u message(s) of %s not stored", g_hash_table_size (conv->missing),
               conv->conversation_uuid);
    next_conversation (check);
    return;
  }
  fetch_page (check);
}

static void
fetch_page (ResendCheck *check)
{
  ConversationCheck *conv = check->conversations->pdata[check->current];
  g_autoptr (JsonObject) body = json_object_new ();

  json_object_set_string_member (body, "conversation_uuid", conv->conversation_uuid);
  if (conv->page_mode)
    json_object_set_int_member (body, "page_offset", conv->pages);
  else
    json_object_set_string_member (body, "min_uuid", conv->cursor);
  json_object_set_int_member (body, "page_size", RESEND_CHECK_PAGE_SIZE);
  check->ports->call (check->owner, "PP_PAGE_HISTORY_MESSAGE", body, check->cancellable, on_page,
                      check);
}

void
ppm_resend_check_run (const PpmPorts *ports, gpointer owner, const PpmResendDoubt *doubts,
                      guint n_doubts, GCancellable *cancellable, PpmResendCheckDone done,
                      gpointer data)
{
  ResendCheck *check = g_new0 (ResendCheck, 1);
  g_autoptr (GHashTable) by_uuid = g_hash_table_new (g_str_hash, g_str_equal);

  check->ports = ports;
  check->owner = owner;
  check->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  check->done = done;
  check->data = data;
  check->conversations = g_ptr_array_new_with_free_func ((GDestroyNotify) conversation_check_free);
  check->stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < n_doubts; i++) {
    ConversationCheck *conv = g_hash_table_lookup (by_uuid, doubts[i].conversation_uuid);

    if (conv == NULL) {
      conv = g_new0 (ConversationCheck, 1);
      conv->conversation_uuid = g_strdup (doubts[i].conversation_uuid);
      conv->cursor = g_strdup (doubts[i].seen_before);
      conv->page_mode = conv->cursor == NULL;
      conv->missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_ptr_array_add (check->conversations, conv);
      g_hash_table_insert (by_uuid, conv->conversation_uuid, conv);
    }
    g_hash_table_add (conv->missing, g_strdup (doubts[i].message_uuid));
  }
  if (check->conversations->len == 0)
    finish (check, NULL);
  else
    fetch_page (check);
}
