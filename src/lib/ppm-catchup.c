/* ppm-catchup.c: what the session missed; see ppm-catchup.h.
 *
 * First sign-in of an account (no setting "synced"): nothing is replayed
 * from history, so an account does not flood the UI with old chats; each
 * conversation's newest message becomes its baseline. What the server
 * still holds as unacked for this user is shown anyway. Right after the
 * conversation list was read, a conversation whose latest message is its
 * last_seen is not asked for history at all.
 *
 * One read of the unacked list stops at PPM_UNACKED_MAX_PAGES pages (a bound
 * on sign-in time and memory). When it stopped there, more wait on the
 * server: once everything it gave was delivered and the server confirmed its
 * acks (acked pushes leave the list), the list is read again from its first
 * page, round after round, until a round comes back short. A reconnect or
 * sign-out cancels this with the catch-up; a round whose page keeps failing
 * is given up until the next catch-up, which reads the list anyway.
 *
 * Histories are fetched for up to PPM_PARALLEL_REQUESTS conversations at
 * once, each one's pages in order.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-catchup.h"
#include "ppm-json.h"

#include <string.h>

static void fetch_unacked_page (PpmCatchUp *catchup);
static void start_history_fetches (PpmCatchUp *catchup);
static void finish_catch_up (PpmCatchUp *catchup);
static void read_backlog_when_acked (PpmCatchUp *catchup);

void
ppm_catchup_init (PpmCatchUp *catchup, const PpmPorts *ports, const PpmCatchUpSink *sink,
                  gpointer owner, PpmRegistry *registry, PpmLastSeen *last_seen)
{
  memset (catchup, 0, sizeof *catchup);
  catchup->ports = ports;
  catchup->sink = *sink;
  catchup->owner = owner;
  catchup->registry = registry;
  catchup->last_seen = last_seen;
  catchup->baselines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  catchup->history_targets = g_ptr_array_new_with_free_func (g_free);
  catchup->history_waiting = g_ptr_array_new ();
  catchup->caught_history = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_queued_free);
  catchup->caught_unacked = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_queued_free);
}

void
ppm_catchup_clear (PpmCatchUp *catchup)
{
  if (catchup->baselines == NULL)
    return;
  ppm_catchup_abort (catchup);
  g_clear_pointer (&catchup->device_uuid, g_free);
  g_clear_pointer (&catchup->baselines, g_hash_table_unref);
  g_clear_pointer (&catchup->history_targets, g_ptr_array_unref);
  g_clear_pointer (&catchup->history_waiting, g_ptr_array_unref);
  g_clear_pointer (&catchup->caught_history, g_ptr_array_unref);
  g_clear_pointer (&catchup->caught_unacked, g_ptr_array_unref);
}

gboolean
ppm_catchup_is_running (PpmCatchUp *catchup)
{
  return catchup->cancellable != NULL;
}

/* A page failed for good during a repair: everything stops, the owner
 * starts the repair over. */
static void
stop_failed (PpmCatchUp *catchup, const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);

  ppm_catchup_abort (catchup);
  catchup->sink.failed (catchup->owner, copy);
}


/* Which conversations to replay from history, and from where: every open
 * one (after a reconnect, also those that started during the session),
 * except, right after the conversation list was read, those whose latest
 * message is the last one seen. One without a last seen message is new to
 * this account: at its very first sign-in its newest message becomes the
 * baseline (years of history are not replayed); afterwards ("synced") it
 * started while the account was away and is replayed from its start,
 * since the server keeps no unacked push for a device that was offline. */
static void
plan_history (PpmCatchUp *catchup)
{
  GHashTableIter iter;
  PpmConv *conv;
  PpmRegistry *registry = catchup->registry;
  gboolean list_fresh = registry->list_fresh;
  g_autofree char *synced = catchup->ports->load_setting (catchup->owner, "synced");

  registry->list_fresh = FALSE;  /* a later repair does not read the list again */
  g_hash_table_remove_all (catchup->baselines);
  g_ptr_array_set_size (catchup->history_targets, 0);
  g_hash_table_iter_init (&iter, registry->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conv)) {
    char *last_seen;

    if (!conv->pub.is_open)
      continue;
    last_seen = ppm_last_seen_get (catchup->last_seen, conv->pub.uuid);
    if (last_seen != NULL) {
      if (list_fresh && g_strcmp0 (last_seen, conv->latest_message_uuid) == 0) {
        g_free (last_seen);
        continue;               /* nothing new since */
      }
      g_hash_table_insert (catchup->baselines, g_strdup (conv->pub.uuid), last_seen);
      g_ptr_array_add (catchup->history_targets, g_strdup (conv->pub.uuid));
    } else if (synced != NULL) {
      g_ptr_array_add (catchup->history_targets, g_strdup (conv->pub.uuid));
    } else if (conv->latest_message_uuid) {
      ppm_last_seen_set (catchup->last_seen, conv->pub.uuid, conv->latest_message_uuid, 0);
    }
  }
  if (synced == NULL && list_fresh)
    catchup->ports->save_setting (catchup->owner, "synced", "1");
}

/* The history of one conversation being fetched, page after page. */
typedef struct {
  PpmCatchUp *catchup;
  char *uuid;
  char *cursor;               /* min_uuid of the next page */
  gboolean from_start;        /* no last seen: pages of the whole history */
  GPtrArray *newest_first;    /* from_start: PpmQueued* as the pages give them */
  guint pages;
  guint retries;              /* of the current page */
  guint retry_id;
  gboolean reached_horizon;   /* from_start: older pages were all shown before */
} HistoryFetch;

static void
history_fetch_free (HistoryFetch *fetch)
{
  g_clear_handle_id (&fetch->retry_id, g_source_remove);
  g_free (fetch->uuid);
  g_free (fetch->cursor);
  g_clear_pointer (&fetch->newest_first, g_ptr_array_unref);
  g_free (fetch);
}

void
ppm_catchup_abort (PpmCatchUp *catchup)
{
  if (catchup->cancellable) {
    g_cancellable_cancel (catchup->cancellable);
    g_clear_object (&catchup->cancellable);
  }
  g_clear_handle_id (&catchup->page_retry_id, g_source_remove);
  for (guint i = 0; i < catchup->history_waiting->len; i++)
    history_fetch_free (catchup->history_waiting->pdata[i]);
  g_ptr_array_set_size (catchup->history_waiting, 0);
  catchup->history_in_flight = 0;
  g_ptr_array_set_size (catchup->caught_history, 0);
  g_ptr_array_set_size (catchup->caught_unacked, 0);
  catchup->recent_look_ups = 0;
  /* The next catch-up reads the unacked list from its start anyway. */
  catchup->backlog_round = FALSE;
  catchup->backlog_due = FALSE;
  g_clear_pointer (&catchup->backlog_unconfirmed, g_hash_table_unref);
  g_clear_pointer (&catchup->unacked_first_pid, g_free);
}

static void
plan_and_fetch_history (PpmCatchUp *catchup)
{
  plan_history (catchup);
  catchup->history_next = 0;
  catchup->history_in_flight = 0;
  start_history_fetches (catchup);
}

/* ---- Conversations that started during an outage ---- */

/* A sign-in reads the whole conversation list; a repair reads its first
 * page (newest activity first) for the conversations that started while
 * the socket was down. The server made no push for those (the device was
 * offline), so they are looked up, then replayed from their start like any
 * conversation without a last seen message. */
static void
on_recent_resolved (gpointer data, const char *uuid)
{
  PpmCatchUp *catchup = data;

  if (--catchup->recent_look_ups == 0)
    plan_and_fetch_history (catchup);
}

static void
on_recent_conversations (JsonObject *answer, const GError *error, gpointer data)
{
  PpmCatchUp *catchup = data;
  JsonArray *list;
  guint length;

  if (ppm_error_is_cancelled (error))
    return;
  if (error) {
    /* Best effort: the known conversations are caught up all the same. */
    catchup->ports->http_failed (catchup->owner, "PP_PAGE_USER_CONVERSATION", error);
    plan_and_fetch_history (catchup);
    return;
  }
  list = ppm_json_opt_array (answer, "list");
  length = list ? json_array_get_length (list) : 0;
  catchup->recent_look_ups = 1;  /* held until every look-up has started */
  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    const char *uuid = item ? ppm_json_opt_nonempty (item, "uuid") : NULL;

    if (uuid == NULL || ppm_registry_lookup_conv (catchup->registry, uuid) != NULL)
      continue;
    catchup->recent_look_ups++;
    catchup->ports->resolve (catchup->owner, uuid, catchup->cancellable, on_recent_resolved,
                             catchup);
  }
  on_recent_resolved (catchup, NULL);
}

void
ppm_catchup_start (PpmCatchUp *catchup, const char *device_uuid, gboolean read_recent)
{
  g_autoptr (JsonObject) body = NULL;

  ppm_catchup_abort (catchup);
  g_free (catchup->device_uuid);
  catchup->device_uuid = g_strdup (device_uuid);
  catchup->cancellable = g_cancellable_new ();
  catchup->page_retries = 0;
  if (!read_recent) {
    plan_and_fetch_history (catchup);
    return;
  }
  body = json_object_new ();
  json_object_set_int_member (body, "page_offset", 0);
  json_object_set_int_member (body, "page_size", PPM_CONVERSATION_PAGE_SIZE);
  catchup->ports->call (catchup->owner, "PP_PAGE_USER_CONVERSATION", body, catchup->cancellable,
                        on_recent_conversations, catchup);
}

/* Sent by this user from this device, in this session or an earlier one:
 * the UI showed it when it was written, so it is not replayed. */
static gboolean
written_here (PpmCatchUp *catchup, JsonObject *record)
{
  const PpmUser *self = catchup->registry->self;

  return self != NULL && catchup->device_uuid != NULL &&
         g_strcmp0 (ppm_json_opt_string (record, "from_uuid"), self->uuid) == 0 &&
         g_strcmp0 (ppm_json_opt_string (record, "from_device_uuid"), catchup->device_uuid) == 0;
}

static void
take_history_page (PpmCatchUp *catchup, HistoryFetch *fetch, JsonArray *list, guint *taken)
{
  GPtrArray *target = fetch->from_start ? fetch->newest_first : catchup->caught_history;

  guint length = list ? json_array_get_length (list) : 0;
  const char *base = catchup->ports->base_url (catchup->owner);
  gint64 horizon = ppm_last_seen_horizon (catchup->last_seen);

  *taken = 0;
  for (guint i = 0; i < length; i++) {
    JsonObject *record = ppm_json_array_object (list, i);
    g_autoptr (GError) error = NULL;
    gboolean time_is_epoch = FALSE;
    PpmMessage *message = record ? ppm_message_parse_record_timed (record, base, &time_is_epoch,
                                                                   &error)
                                 : NULL;
    const char *uuid = record ? ppm_json_opt_nonempty (record, "uuid") : NULL;
    PpmQueued *queued;

    if (uuid) {
      g_free (fetch->cursor);
      fetch->cursor = g_strdup (uuid);
      (*taken)++;
    }
    if (message != NULL && written_here (catchup, record)) {
      ppm_message_free (message);
      continue;
    }
    if (message == NULL) {
      g_debug ("skipping a history record: %s", error ? error->message : "not an object");
      continue;
    }
    /* A conversation replayed from its start may be one whose last seen
     * message was forgotten: what was shown before is not shown again. */
    if (fetch->from_start && time_is_epoch && message->time_us <= horizon) {
      fetch->reached_horizon = TRUE;
      ppm_message_free (message);
      continue;
    }
    message->delayed = TRUE;
    queued = ppm_queued_new (message, NULL, ppm_json_opt_string (record, "conversation_type"));
    queued->time_is_epoch = time_is_epoch;
    g_ptr_array_add (target, queued);
  }
}

static void fetch_history_page (HistoryFetch *fetch);

static gboolean
retry_history_page (gpointer data)
{
  HistoryFetch *fetch = data;

  fetch->retry_id = 0;
  g_ptr_array_remove_fast (fetch->catchup->history_waiting, fetch);
  fetch_history_page (fetch);
  return G_SOURCE_REMOVE;
}

/* One conversation's history is complete (or given up): the next one. */
static void
history_fetch_done (HistoryFetch *fetch)
{
  PpmCatchUp *catchup = fetch->catchup;

  /* Page mode gives the newest first: shown oldest first. */
  if (fetch->newest_first != NULL) {
    gsize length = 0;
    gpointer *items = g_ptr_array_steal (fetch->newest_first, &length);

    for (gsize i = length; i > 0; i--)
      g_ptr_array_add (catchup->caught_history, items[i - 1]);
    g_free (items);
  }
  history_fetch_free (fetch);
  catchup->history_in_flight--;
  start_history_fetches (catchup);
}

/* A history page failed: asked again a few times; then, once connected,
 * the whole repair starts over (nothing may be skipped); at the first
 * sign-in the conversation is given up, as one is not worth the session. */
static void
history_page_failed (HistoryFetch *fetch, const GError *error)
{
  PpmCatchUp *catchup = fetch->catchup;

  if (fetch->retries < PPM_PAGE_RETRIES) {
    fetch->retries++;
    g_debug ("history page failed (%s); asking again", error->message);
    fetch->retry_id = g_timeout_add (PPM_PAGE_RETRY_DELAY_MS * fetch->retries,
                                     retry_history_page, fetch);
    g_ptr_array_add (catchup->history_waiting, fetch);
    return;
  }
  if (!catchup->give_up_failed_pages) {
    history_fetch_free (fetch);
    stop_failed (catchup, error);
    return;
  }
  g_debug ("history of %s given up: %s", fetch->uuid, error->message);
  history_fetch_done (fetch);
}

static void
on_history_page (JsonObject *answer, const GError *error, gpointer data)
{
  HistoryFetch *fetch = data;
  guint taken = 0;

  if (ppm_error_is_cancelled (error)) {
    history_fetch_free (fetch);
    return;
  }
  if (error) {
    history_page_failed (fetch, error);
    return;
  }
  fetch->retries = 0;
  take_history_page (fetch->catchup, fetch, ppm_json_opt_array (answer, "list"), &taken);
  fetch->pages++;
  /* min_uuid paging returns at most page_size - 1 items, oldest first;
   * page mode up to page_size, newest first. */
  if (taken == 0 || taken < PPM_HISTORY_PAGE_SIZE - (fetch->from_start ? 0 : 1) ||
      fetch->pages >= PPM_HISTORY_MAX_PAGES || fetch->reached_horizon)
    history_fetch_done (fetch);
  else
    fetch_history_page (fetch);
}

static void
fetch_history_page (HistoryFetch *fetch)
{
  PpmCatchUp *catchup = fetch->catchup;
  g_autoptr (JsonObject) body = json_object_new ();

  json_object_set_string_member (body, "conversation_uuid", fetch->uuid);
  if (fetch->from_start)
    json_object_set_int_member (body, "page_offset", fetch->pages);
  else
    json_object_set_string_member (body, "min_uuid", fetch->cursor);
  json_object_set_int_member (body, "page_size", PPM_HISTORY_PAGE_SIZE);
  catchup->ports->call (catchup->owner, "PP_PAGE_HISTORY_MESSAGE", body, catchup->cancellable,
                        on_history_page, fetch);
}

/* Keeps up to PPM_PARALLEL_REQUESTS conversations' histories in flight
 * (each one's pages in order); then the unacked messages. */
static void
start_history_fetches (PpmCatchUp *catchup)
{
  while (catchup->history_in_flight < PPM_PARALLEL_REQUESTS &&
         catchup->history_next < catchup->history_targets->len) {
    HistoryFetch *fetch = g_new0 (HistoryFetch, 1);

    fetch->catchup = catchup;
    fetch->uuid = g_strdup (catchup->history_targets->pdata[catchup->history_next++]);
    fetch->cursor = g_strdup (g_hash_table_lookup (catchup->baselines, fetch->uuid));
    if (fetch->cursor == NULL) {
      fetch->from_start = TRUE;
      fetch->newest_first = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_queued_free);
    }
    catchup->history_in_flight++;
    fetch_history_page (fetch);
  }
  if (catchup->history_in_flight == 0 && catchup->history_next >= catchup->history_targets->len) {
    catchup->history_next = G_MAXUINT;   /* only once */
    catchup->unacked_page = 0;
    fetch_unacked_page (catchup);
  }
}

static gboolean
retry_unacked_page (gpointer data)
{
  PpmCatchUp *catchup = data;

  catchup->page_retry_id = 0;
  fetch_unacked_page (catchup);
  return G_SOURCE_REMOVE;
}

/* Asks a failed unacked page again after a delay, a few times; FALSE when
 * the retries are used up. */
static gboolean
retry_page_later (PpmCatchUp *catchup, const GError *error, GSourceFunc retry)
{
  if (catchup->page_retries < PPM_PAGE_RETRIES) {
    catchup->page_retries++;
    g_debug ("unacked page failed (%s); asking again", error->message);
    catchup->page_retry_id = g_timeout_add (PPM_PAGE_RETRY_DELAY_MS * catchup->page_retries,
                                            retry, catchup);
    return TRUE;
  }
  catchup->page_retries = 0;
  return FALSE;
}

/* An unacked page failed: asked again a few times; then, once connected, the
 * whole repair starts over (nothing may be skipped); at the first sign-in
 * the page is given up.
 * Returns TRUE when the caller should carry on without the page. */
static gboolean
page_failed (PpmCatchUp *catchup, const GError *error, GSourceFunc retry)
{
  if (retry_page_later (catchup, error, retry))
    return FALSE;
  if (!catchup->give_up_failed_pages) {
    stop_failed (catchup, error);
    return FALSE;
  }
  g_debug ("catch-up page given up: %s", error->message);
  return TRUE;
}

static guint
take_unacked_page (PpmCatchUp *catchup, JsonObject *answer)
{
  JsonArray *list = ppm_json_opt_array (answer, "list");
  JsonObject *messages = ppm_json_opt_object (answer, "message");
  guint length = list ? json_array_get_length (list) : 0;
  const char *base = catchup->ports->base_url (catchup->owner);

  if (catchup->backlog_unconfirmed == NULL)
    catchup->backlog_unconfirmed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < length; i++) {
    const char *pid = ppm_json_array_string (list, i);
    const char *text = pid && messages ? ppm_json_opt_string (messages, pid) : NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) compact = text ? ppm_json_parse_object (text, -1, &error) : NULL;
    PpmMessage *message = compact ? ppm_message_parse_compact (compact, base, NULL, &error)
                                  : NULL;
    PpmQueued *queued;

    /* Noted before it can be acked: a next round waits for its ack. */
    if (pid != NULL)
      g_hash_table_add (catchup->backlog_unconfirmed, g_strdup (pid));
    if (message == NULL && pid == NULL)
      continue;
    /* Gone or unreadable (message NULL): the delivery acks it, so that it
     * stops coming back; so it does with what an earlier session showed. */
    if (message)
      message->delayed = TRUE;
    queued = ppm_queued_new (message, pid, ppm_json_opt_string (compact, "ct"));
    queued->time_is_epoch = TRUE;
    queued->from_unacked_list = TRUE;
    g_ptr_array_add (catchup->caught_unacked, queued);
  }
  return length;
}

static void finish_backlog_round (PpmCatchUp *catchup);

/* A backlog round never ends the session: its messages stay unacked on the
 * server, so the next catch-up reads them anyway. */
static void
backlog_page_failed (PpmCatchUp *catchup, const GError *error)
{
  if (retry_page_later (catchup, error, retry_unacked_page))
    return;
  g_debug ("unacked backlog given up until the next catch-up");
  catchup->backlog_due = FALSE;
  finish_backlog_round (catchup);
  /* Logs it; a refused token still repairs the session. */
  catchup->ports->http_failed (catchup->owner, "PP_PAGE_UNACKED_MESSAGE", error);
}

/* Every ack of the last read was confirmed before a backlog round, so its
 * first page must start elsewhere; notes this read's first push id. */
static gboolean
unacked_list_moved_on (PpmCatchUp *catchup, JsonObject *answer)
{
  JsonArray *list = ppm_json_opt_array (answer, "list");
  const char *first = list && json_array_get_length (list) > 0 ? ppm_json_array_string (list, 0)
                                                                : NULL;
  gboolean moved = !catchup->backlog_round || first == NULL ||
                   g_strcmp0 (first, catchup->unacked_first_pid) != 0;

  g_free (catchup->unacked_first_pid);
  catchup->unacked_first_pid = g_strdup (first);
  return moved;
}

static void
on_unacked_page (JsonObject *answer, const GError *error, gpointer data)
{
  PpmCatchUp *catchup = data;
  gboolean full;

  if (ppm_error_is_cancelled (error))
    return;
  if (error && catchup->backlog_round) {
    backlog_page_failed (catchup, error);
    return;
  }
  if (error) {
    if (page_failed (catchup, error, retry_unacked_page))
      finish_catch_up (catchup);
    return;
  }
  catchup->page_retries = 0;
  if (catchup->unacked_page == 0 && !unacked_list_moved_on (catchup, answer)) {
    g_debug ("unacked backlog: acked pushes stay in the list; stopping");
    catchup->backlog_due = FALSE;
    finish_backlog_round (catchup);
    return;
  }
  full = take_unacked_page (catchup, answer) == PPM_UNACKED_PAGE_SIZE;
  catchup->unacked_page++;
  if (full && catchup->unacked_page < PPM_UNACKED_MAX_PAGES) {
    fetch_unacked_page (catchup);
    return;
  }
  catchup->backlog_due = full;   /* stopped at the bound: more wait on the server */
  catchup->read_whole = !full;  /* read to its end */
  if (catchup->backlog_round)
    finish_backlog_round (catchup);
  else
    finish_catch_up (catchup);
}

static void
fetch_unacked_page (PpmCatchUp *catchup)
{
  g_autoptr (JsonObject) body = json_object_new ();

  /* Acks only happen after delivery, so page offsets stay stable. */
  json_object_set_int_member (body, "page_offset", catchup->unacked_page);
  json_object_set_int_member (body, "page_size", PPM_UNACKED_PAGE_SIZE);
  catchup->ports->call (catchup->owner, "PP_PAGE_UNACKED_MESSAGE", body, catchup->cancellable,
                        on_unacked_page, catchup);
}

/* History first (in order per conversation), then the unacked pushes;
 * the owner queues them before what was pushed meanwhile. */
static void
finish_catch_up (PpmCatchUp *catchup)
{
  g_debug ("catch-up: %u from history, %u unacked", catchup->caught_history->len,
           catchup->caught_unacked->len);
  g_clear_object (&catchup->cancellable);
  catchup->sink.done (catchup->owner, catchup->caught_history, catchup->caught_unacked,
                      catchup->read_whole);
  g_ptr_array_set_size (catchup->caught_history, 0);
  g_ptr_array_set_size (catchup->caught_unacked, 0);
  if (!catchup->backlog_due)
    g_clear_pointer (&catchup->backlog_unconfirmed, g_hash_table_unref);
  read_backlog_when_acked (catchup);
}

/* ---- The unacked backlog beyond one read ---- */

static void
start_backlog_round (PpmCatchUp *catchup)
{
  g_debug ("reading the unacked list again for the rest of the backlog");
  catchup->backlog_due = FALSE;
  catchup->backlog_round = TRUE;
  g_clear_pointer (&catchup->backlog_unconfirmed, g_hash_table_unref);
  catchup->cancellable = g_cancellable_new ();
  catchup->page_retries = 0;
  catchup->unacked_page = 0;
  fetch_unacked_page (catchup);
}

/* The next round starts once the server confirmed every ack of the last
 * read: only then does the list start with messages not given yet. */
static void
read_backlog_when_acked (PpmCatchUp *catchup)
{
  if (!catchup->backlog_due || catchup->backlog_round || catchup->cancellable != NULL)
    return;
  if (catchup->backlog_unconfirmed != NULL && g_hash_table_size (catchup->backlog_unconfirmed) > 0)
    return;
  start_backlog_round (catchup);
}

void
ppm_catchup_acks_confirmed (PpmCatchUp *catchup, GPtrArray *pids, gboolean may_read_backlog)
{
  if (catchup->backlog_unconfirmed == NULL)
    return;
  for (guint i = 0; i < pids->len; i++)
    g_hash_table_remove (catchup->backlog_unconfirmed, pids->pdata[i]);
  if (may_read_backlog)
    read_backlog_when_acked (catchup);
}

/* After what was shown so far (pushes included): marked delayed, with
 * their server time. */
static void
finish_backlog_round (PpmCatchUp *catchup)
{
  g_clear_object (&catchup->cancellable);
  catchup->backlog_round = FALSE;
  g_clear_handle_id (&catchup->page_retry_id, g_source_remove);
  g_debug ("unacked backlog: %u more read%s", catchup->caught_unacked->len,
           catchup->backlog_due ? ", and more on the server" : "");
  catchup->sink.backlog_done (catchup->owner, catchup->caught_unacked, catchup->read_whole);
  g_ptr_array_set_size (catchup->caught_unacked, 0);
  if (!catchup->backlog_due)
    g_clear_pointer (&catchup->backlog_unconfirmed, g_hash_table_unref);
  read_backlog_when_acked (catchup);
}
