/* ppm-resend-check.c: see ppm-resend-check.h. The look-up itself knows only
 * the API; the two hooks at the end tie it to the client's send queue.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-resend-check.h"
#include "ppm-client-private.h"

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
  PpmApi *api;
  JsonObject *request_body;
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
  json_object_unref (check->request_body);
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
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  json_object_iter_init (&iter, check->request_body);
  while (json_object_iter_next (&iter, &name, &value))
    json_object_set_member (body, name, json_node_copy (value));
  json_object_set_string_member (body, "conversation_uuid", conv->conversation_uuid);
  if (conv->page_mode)
    json_object_set_int_member (body, "page_offset", conv->pages);
  else
    json_object_set_string_member (body, "min_uuid", conv->cursor);
  json_object_set_int_member (body, "page_size", RESEND_CHECK_PAGE_SIZE);
  ppm_api_call (check->api, "PP_PAGE_HISTORY_MESSAGE", body, check->cancellable, on_page, check);
}

void
ppm_resend_check_run (PpmApi *api, JsonObject *request_body, const PpmResendDoubt *doubts,
                      guint n_doubts, GCancellable *cancellable, PpmResendCheckDone done,
                      gpointer data)
{
  ResendCheck *check = g_new0 (ResendCheck, 1);
  g_autoptr (GHashTable) by_uuid = g_hash_table_new (g_str_hash, g_str_equal);

  check->api = api;
  check->request_body = json_object_ref (request_body);
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

/* ---- The hooks of the send queue ---- */

char *
ppm_resend_check_seen_before (PpmClient *client, const char *conversation_uuid)
{
  g_autofree char *key = ppm_client_last_seen_key (conversation_uuid);

  return ppm_client_load_setting (client, key);
}

static void
on_checked (GHashTable *stored, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GPtrArray) confirmed = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = client->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    if (!send->being_checked)
      continue;
    send->being_checked = FALSE;
    if (error)
      continue;                 /* still in doubt: checked again after the repair */
    send->maybe_stored = FALSE;
    if (g_hash_table_contains (stored, send->uuid))
      g_ptr_array_add (confirmed, g_strdup (send->uuid));
  }
  if (error) {
    ppm_client_fail (client, error);
    return;
  }
  g_debug ("resend check: %u message(s) were stored without their ACK SEND", confirmed->len);
  /* Confirmed in the order they were written, as their ACK SEND would have. */
  for (guint i = 0; i < confirmed->len; i++)
    ppm_send_handle_ack (client, confirmed->pdata[i], 0, NULL);
  ppm_send_flush_unsent (client);
}

/* PPM_TEST_HOOK_BROKEN_RESEND: a test-only switch that breaks the check on
 * purpose, so that the fault test shows its counts catch what follows:
 * "resend-all" sends every message in doubt again without the look-up
 * (duplicates), "resend-none" confirms them all unseen (losses). */
static gboolean
broken_for_tests (PpmClient *client)
{
  const char *hook = g_getenv ("PPM_TEST_HOOK_BROKEN_RESEND");
  gboolean resend_all = g_strcmp0 (hook, "resend-all") == 0;
  gboolean resend_none = g_strcmp0 (hook, "resend-none") == 0;
  g_autoptr (GPtrArray) doubted = g_ptr_array_new_with_free_func (g_free);

  if (!resend_all && !resend_none)
    return FALSE;
  for (GList *l = client->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    if (send->maybe_stored)
      g_ptr_array_add (doubted, g_strdup (send->uuid));
    send->maybe_stored = FALSE;
  }
  g_message ("PPM_TEST_HOOK_BROKEN_RESEND=%s: %u message(s) in doubt %s", hook, doubted->len,
             resend_all ? "sent again unchecked" : "taken as stored unchecked");
  for (guint i = 0; resend_none && i < doubted->len; i++)
    ppm_send_handle_ack (client, doubted->pdata[i], 0, NULL);
  return TRUE;
}

gboolean
ppm_resend_check_holds_queue (PpmClient *client)
{
  g_autoptr (GArray) doubts = g_array_new (FALSE, FALSE, sizeof (PpmResendDoubt));
  g_autoptr (JsonObject) body = NULL;

  for (GList *l = client->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    if (send->being_checked)
      return TRUE;
    if (send->maybe_stored) {
      PpmResendDoubt doubt = { send->uuid, send->conversation_uuid, send->seen_before };

      g_array_append_val (doubts, doubt);
    }
  }
  if (doubts->len == 0 || broken_for_tests (client))
    return FALSE;
  for (GList *l = client->unsent.head; l; l = l->next) {
    PendingSend *send = l->data;

    send->being_checked = send->maybe_stored;
  }
  g_debug ("resend check: %u message(s) were in flight when the connection was lost",
           doubts->len);
  body = ppm_client_request_body (client);
  ppm_resend_check_run (client->api, body, (PpmResendDoubt *) doubts->data, doubts->len,
                        client->cancellable, on_checked, client);
  return TRUE;
}
