/* ppm-history.c: earlier messages of a conversation on request (see
 * ppm-history.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-history.h"

#include "ppm-error.h"
#include "ppm-json.h"
#include "ppm-message.h"

typedef struct {
  PpmHistory *history;
  char *conversation_uuid;
  guint count;
  PpmHistoryDone done;
  gpointer data;
  GPtrArray *messages;        /* read, oldest first */
  gboolean reached_start;
  guint texts_loading;        /* long texts (TXT) still being downloaded */
  gboolean cancelled;
} HistoryRead;

typedef struct {
  HistoryRead *read;
  PpmMessage *message;
} TextDownload;

static void
history_read_free (HistoryRead *read)
{
  if (read->messages != NULL)
    g_ptr_array_unref (read->messages);
  g_free (read->conversation_uuid);
  g_free (read);
}

void
ppm_history_init (PpmHistory *history, const PpmPorts *ports, gpointer owner,
                  PpmRegistry *registry)
{
  history->ports = ports;
  history->owner = owner;
  history->registry = registry;
  history->cancellable = g_cancellable_new ();
}

void
ppm_history_reset (PpmHistory *history)
{
  g_cancellable_cancel (history->cancellable);
  g_clear_object (&history->cancellable);
  history->cancellable = g_cancellable_new ();
}

void
ppm_history_clear (PpmHistory *history)
{
  if (history->cancellable != NULL)
    g_cancellable_cancel (history->cancellable);
  g_clear_object (&history->cancellable);
}

/* The sender's name and whether this user wrote it, as the delivery
 * gives them to live messages. */
static void
name_sender (PpmHistory *history, PpmMessage *message)
{
  PpmRegistry *registry = history->registry;
  const PpmUser *sender;

  message->outgoing = registry->self != NULL &&
                      g_strcmp0 (message->from_uuid, registry->self->uuid) == 0;
  if (!message->outgoing)
    ppm_registry_ensure_sender (registry, message);
  sender = ppm_registry_lookup_user (registry, message->from_uuid);
  if (sender != NULL && sender->fullname != NULL) {
    g_free (message->from_name);
    message->from_name = g_strdup (sender->fullname);
  }
}

static void
finish_read (HistoryRead *read)
{
  if (!read->cancelled)
    read->done (read->data, read->conversation_uuid, read->messages, read->reached_start, NULL);
  history_read_free (read);
}

/* A long text's download ended: a failure leaves the message a text
 * saying so, with its link, as on the live path. */
static void
on_text_downloaded (GBytes *body, const GError *error, gpointer data)
{
  TextDownload *download = data;
  HistoryRead *read = download->read;

  if (ppm_error_is_cancelled (error))
    read->cancelled = TRUE;
  else
    ppm_message_complete_download (download->message, body, error);
  g_free (download);
  if (--read->texts_loading == 0)
    finish_read (read);
}

/* The server keeps a text over 128 bytes as a file (TXT): its record
 * carries only the link, so the text is fetched before the read is
 * handed on (PPMESSAGE-PROTOCOL.md section 10.4). */
static void
load_long_texts (HistoryRead *read)
{
  PpmHistory *history = read->history;

  read->texts_loading = 1;      /* held until every download started */
  for (guint i = 0; i < read->messages->len; i++) {
    PpmMessage *message = read->messages->pdata[i];
    TextDownload *download;

    if (!ppm_message_needs_text (message))
      continue;
    download = g_new0 (TextDownload, 1);
    download->read = read;
    download->message = message;
    read->texts_loading++;
    history->ports->download (history->owner, message->file_url, PPM_MAX_TEXT_BYTES,
                              history->cancellable, on_text_downloaded, download);
  }
  if (--read->texts_loading == 0)
    finish_read (read);
}

static void
on_history_page (JsonObject *answer, const GError *error, gpointer data)
{
  HistoryRead *read = data;
  GPtrArray *messages;
  JsonArray *list;
  guint length, listed = 0;
  const char *base;

  if (ppm_error_is_cancelled (error)) {
    history_read_free (read);
    return;
  }
  if (error != NULL) {
    read->done (read->data, read->conversation_uuid, NULL, FALSE, error);
    history_read_free (read);
    return;
  }
  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_message_free);
  read->messages = messages;
  list = ppm_json_opt_array (answer, "list");
  length = list != NULL ? json_array_get_length (list) : 0;
  base = read->history->ports->base_url (read->history->owner);
  /* Newest first on the wire: taken from the end to hand on oldest first. */
  for (guint i = length; i > 0; i--) {
    JsonObject *record = ppm_json_array_object (list, i - 1);
    g_autoptr (GError) parse_error = NULL;
    PpmMessage *message = record ? ppm_message_parse_record (record, base, &parse_error) : NULL;

    if (record != NULL)
      listed++;
    if (message == NULL) {
      g_debug ("history of %s: skipping a record: %s", read->conversation_uuid,
               parse_error ? parse_error->message : "not an object");
      continue;
    }
    if (g_strcmp0 (message->conversation_uuid, read->conversation_uuid) != 0) {
      g_debug ("history of %s: skipping a record of %s", read->conversation_uuid,
               message->conversation_uuid ? message->conversation_uuid : "no conversation");
      ppm_message_free (message);
      continue;
    }
    message->delayed = TRUE;
    name_sender (read->history, message);
    g_ptr_array_add (messages, message);
  }
  read->reached_start = listed < read->count;
  load_long_texts (read);
}

void
ppm_history_read (PpmHistory *history, const char *conversation_uuid,
                  const char *before_uuid, guint count, PpmHistoryDone done, gpointer data)
{
  g_autoptr (JsonObject) body = json_object_new ();
  HistoryRead *read = g_new0 (HistoryRead, 1);

  read->history = history;
  read->conversation_uuid = g_strdup (conversation_uuid);
  read->count = CLAMP (count, 1, PPM_HISTORY_READ_MAX);
  read->done = done;
  read->data = data;
  json_object_set_string_member (body, "conversation_uuid", conversation_uuid);
  /* max_uuid: strictly older, newest first; without it, page mode from
   * the newest. */
  if (before_uuid != NULL)
    json_object_set_string_member (body, "max_uuid", before_uuid);
  else
    json_object_set_int_member (body, "page_offset", 0);
  json_object_set_int_member (body, "page_size", read->count);
  history->ports->call (history->owner, "PP_PAGE_HISTORY_MESSAGE", body, history->cancellable,
                        on_history_page, read);
}
