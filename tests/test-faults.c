/* test-faults.c: no message lost, doubled or out of order, counted where
 * people see them, while the server misbehaves towards the agent.
 *
 * The built plugin runs in the headless libpurple core as the agent; test
 * peers are the visitors. Both sides exchange a burst of at least 1,000
 * messages each way while the test server breaks the agent's connections
 * only (its websocket, its HTTP calls or both; stalls, HTTP 500 before or
 * after doing the work, truncated or malformed JSON, delays, lost ACK SEND
 * frames), so the visitors keep writing through the whole outage; or while
 * the agent signs out and in again. Counting is by message: at libpurple's
 * received-im-msg and wrote-im-msg on the agent's side, and at the frames
 * the visitor peers received on the other; the server's stored history is
 * the truth they are held against. Messages visitors wrote during the fault
 * are counted apart. Two more cases run the lost-ACK fault against a
 * deliberately broken library (PPM_TEST_HOOK_BROKEN_RESEND) and expect the
 * duplicate, or the loss, to be counted: the counts can fail.
 *
 * The figures of each case are printed as TAP comments and appended to
 * $BUILD/fault-figures.txt; tests/fault-figures-to-readme.py makes the
 * README's table from that file. Recovery (fault end to the first message
 * through in each direction) is asserted within RECOVERY_BOUND_MS.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "purple-fixtures.h"

#include <stdio.h>
#include <string.h>

#define VISITORS 4
#define PER_ROUND 5             /* messages per visitor and round, each way */
#define SETTLE_MS 60000
#define RECOVERY_BOUND_MS 15000
/* The plugin's User-Agent (src/lib/ppm-api.c): the faults hit it only. */
#define AGENT_USER_AGENT "purple-ppmessage"

typedef enum {
  FAULT_DROP,
  FAULT_WS_DOWN,
  FAULT_WS_STALL,
  FAULT_HTTP,
  FAULT_HTTP_AND_WS_DOWN,
  FAULT_ACK_LOSS,
  FAULT_SIGN_OUT,
} FaultType;

typedef enum {
  EXPECT_CLEAN,
  EXPECT_DUPLICATE,             /* the broken variant must be caught */
  EXPECT_LOSS,
} Expectation;

typedef struct {
  const char *name;
  FaultType type;
  PpmsFaultKind http_kind;
  double probability;
  guint delay_ms;
  PpmsAckLoss ack_loss;
  guint duration_ms;          /* how long the fault lasts (0: instantaneous) */
  const char *broken_resend;  /* PPM_TEST_HOOK_BROKEN_RESEND, or NULL */
  Expectation expect;
} FaultSpec;

typedef struct {
  GPtrArray *order;           /* texts as seen, in order (owned) */
  GHashTable *count;          /* text -> times seen */
} Seen;

typedef struct {
  const FaultSpec *spec;
  PpmsServer *server;
  PurpleAccount *account;
  PpmsPeer *visitors[VISITORS];
  char *conversations[VISITORS];
  Seen at_agent[VISITORS];        /* visitor texts at received-im-msg */
  Seen at_visitor[VISITORS];      /* agent texts in the visitor's MSG frames */
  GPtrArray *typed[VISITORS];     /* agent texts typed, in order */
  GHashTable *visitor_of;         /* visitor user uuid -> index + 1 */
  GHashTable *during_fault;       /* visitor texts written during the fault */
  GHashTable *after_fault;        /* texts (both ways) written after it */
  GHashTable *agent_echoes;       /* agent text -> times written as sent */
  guint written_at_agent;         /* wrote-im-msg with RECV */
  guint received_at_agent;        /* received-im-msg */
  guint send_errors;              /* wrote-im-msg with ERROR */
  guint visitor_writes;
  guint agent_typed;
  gint64 fault_end_us;
  gint64 agent_recovered_us;      /* a visitor text written after the fault shown */
  gint64 visitor_recovered_us;    /* an agent text typed after the fault received */
  gboolean fault_active;
  guint burst;
} Run;

static Run *the_run;            /* the one case of this child process */

/* ---- Counting ---- */

static void
seen_init (Seen *seen)
{
  seen->order = g_ptr_array_new_with_free_func (g_free);
  seen->count = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
seen_clear (Seen *seen)
{
  g_ptr_array_unref (seen->order);
  g_hash_table_unref (seen->count);
}

static guint
seen_count (Seen *seen, const char *text)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (seen->count, text));
}

static void
seen_add (Seen *seen, const char *text)
{
  g_hash_table_replace (seen->count, g_strdup (text), GUINT_TO_POINTER (seen_count (seen, text) + 1));
  g_ptr_array_add (seen->order, g_strdup (text));
}

static int
visitor_index (Run *run, const char *user_uuid)
{
  return (int) GPOINTER_TO_UINT (g_hash_table_lookup (run->visitor_of, user_uuid)) - 1;
}

static void
on_received_im (PurpleAccount *account, char *sender, char *message, PurpleConversation *conv,
                PurpleMessageFlags flags, gpointer data)
{
  Run *run = the_run;
  int index = visitor_index (run, sender);
  g_autofree char *text = purple_markup_strip_html (message);

  run->received_at_agent++;
  if (index < 0)
    return;
  seen_add (&run->at_agent[index], text);
  if (run->fault_end_us && !run->agent_recovered_us &&
      g_hash_table_contains (run->after_fault, text))
    run->agent_recovered_us = g_get_monotonic_time ();
}

static void
on_wrote_im (PurpleAccount *account, const char *who, char *message, PurpleConversation *conv,
             PurpleMessageFlags flags, gpointer data)
{
  Run *run = the_run;
  g_autofree char *text = purple_markup_strip_html (message);

  if (flags & PURPLE_MESSAGE_ERROR) {
    run->send_errors++;
    g_test_message ("error shown at the agent: %s", text);
  } else if (flags & PURPLE_MESSAGE_RECV) {
    run->written_at_agent++;
  } else if (flags & PURPLE_MESSAGE_SEND) {
    guint count = GPOINTER_TO_UINT (g_hash_table_lookup (run->agent_echoes, text));

    g_hash_table_replace (run->agent_echoes, g_strdup (text), GUINT_TO_POINTER (count + 1));
  }
}

/* Every MSG frame a visitor peer receives (the peer's auto-reply hook,
 * which answers nothing). */
static char *
on_visitor_frame (PpmsPeer *peer, const JsonObject *msg, gpointer data)
{
  Run *run = the_run;
  guint index = GPOINTER_TO_UINT (data);
  const char *text = json_object_get_string_member_with_default ((JsonObject *) msg, "bo", "");

  seen_add (&run->at_visitor[index], text);
  if (run->fault_end_us && !run->visitor_recovered_us &&
      g_hash_table_contains (run->after_fault, text))
    run->visitor_recovered_us = g_get_monotonic_time ();
  return NULL;
}

/* ---- Set-up ---- */

static gboolean
knows_every_visitor (gpointer data)
{
  Run *run = data;

  for (guint i = 0; i < VISITORS; i++)
    if (harness_find_buddy (run->account, ppms_peer_user_uuid (run->visitors[i])) == NULL)
      return FALSE;
  return TRUE;
}

static void
run_start (Run *run, const FaultSpec *spec, guint burst)
{
  g_autoptr (GError) error = NULL;

  memset (run, 0, sizeof *run);
  the_run = run;
  run->spec = spec;
  run->burst = burst;
  run->server = server_start ();
  ppms_server_set_fault_target (run->server, AGENT_USER_AGENT);
  run->visitor_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run->during_fault = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run->after_fault = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run->agent_echoes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < VISITORS; i++) {
    seen_init (&run->at_agent[i]);
    seen_init (&run->at_visitor[i]);
    run->typed[i] = g_ptr_array_new_with_free_func (g_free);
    run->visitors[i] = ppms_peer_new_visitor (ppms_server_get_url (run->server),
                                              ppms_server_app_uuid (run->server),
                                              ppms_server_ppcom_key (run->server),
                                              ppms_server_ppcom_secret (run->server), NULL);
    g_assert_true (ppms_peer_start_sync (run->visitors[i], &error));
    g_assert_no_error (error);
    run->conversations[i] = g_strdup (ppms_peer_conversation_uuid (run->visitors[i]));
    g_hash_table_insert (run->visitor_of, g_strdup (ppms_peer_user_uuid (run->visitors[i])),
                         GUINT_TO_POINTER (i + 1));
    ppms_peer_set_auto_reply (run->visitors[i], on_visitor_frame, GUINT_TO_POINTER (i));
  }
  purple_signal_connect (purple_conversations_get_handle (), "received-im-msg", run,
                         PURPLE_CALLBACK (on_received_im), NULL);
  purple_signal_connect (purple_conversations_get_handle (), "wrote-im-msg", run,
                         PURPLE_CALLBACK (on_wrote_im), NULL);
  if (spec->broken_resend)
    g_setenv ("PPM_TEST_HOOK_BROKEN_RESEND", spec->broken_resend, TRUE);
  run->account = agent_account (run->server);
  /* A stalled socket is noticed after a keepalive interval (1 s here). */
  purple_account_set_int (run->account, "keepalive_interval", 1);
  harness_connect (run->account);
  g_assert_true (harness_wait_connected (run->account, WAIT_MS));
  /* Each visitor says hello, so that the agent has every conversation. */
  for (guint i = 0; i < VISITORS; i++)
    send_and_wait_ack (run->visitors[i], run->conversations[i], "hello");
  g_assert_true (harness_wait (knows_every_visitor, run, WAIT_MS));
}

static void
run_finish (Run *run)
{
  purple_signals_disconnect_by_handle (run);
  sign_out (run->account);
  for (guint i = 0; i < VISITORS; i++) {
    ppms_peer_free (run->visitors[i]);
    g_free (run->conversations[i]);
    seen_clear (&run->at_agent[i]);
    seen_clear (&run->at_visitor[i]);
    g_ptr_array_unref (run->typed[i]);
  }
  ppms_server_free (run->server);
  g_hash_table_unref (run->visitor_of);
  g_hash_table_unref (run->during_fault);
  g_hash_table_unref (run->after_fault);
  g_hash_table_unref (run->agent_echoes);
  g_unsetenv ("PPM_TEST_HOOK_BROKEN_RESEND");
  the_run = NULL;
}

/* ---- The burst ---- */

static void
note_phase (Run *run, const char *text, gboolean from_visitor)
{
  if (run->fault_active && from_visitor)
    g_hash_table_add (run->during_fault, g_strdup (text));
  else if (run->fault_end_us)
    g_hash_table_add (run->after_fault, g_strdup (text));
}

static void
visitor_send (Run *run, guint index, guint number)
{
  g_autofree char *text = g_strdup_printf ("v%u-%u", index, number);
  g_autofree char *uuid = ppms_peer_send_text (run->visitors[index], run->conversations[index],
                                               text);

  /* The faults spare the visitors: every write must get through. */
  g_assert_nonnull (uuid);
  run->visitor_writes++;
  note_phase (run, text, TRUE);
}

static void
agent_send (Run *run, guint index, guint number)
{
  char *text = g_strdup_printf ("a%u-%u", index, number);

  send_from_pidgin (run->account, ppms_peer_user_uuid (run->visitors[index]), text);
  run->agent_typed++;
  note_phase (run, text, FALSE);
  g_ptr_array_add (run->typed[index], text);
}

static guint
agent_texts_through (Run *run)
{
  guint through = 0;

  for (guint i = 0; i < VISITORS; i++)
    through += g_hash_table_size (run->at_visitor[i].count);
  return through;
}

/* Pacing: the agent is at most 200 texts ahead, or the text typed last
 * came through (then nothing typed before it is on its way: the plugin
 * sends in order, so texts lost on purpose do not hold the burst up). */
static gboolean
backlog_small (gpointer data)
{
  Run *run = data;
  GPtrArray *last = run->typed[VISITORS - 1];

  return run->agent_typed - agent_texts_through (run) < 200 ||
         (last->len > 0 &&
          seen_count (&run->at_visitor[VISITORS - 1], last->pdata[last->len - 1]) > 0);
}

static gboolean
every_agent_text_through (gpointer data)
{
  Run *run = data;

  return agent_texts_through (run) + run->send_errors >= run->agent_typed;
}

/* Signs out once what the agent typed got through (as a person would wait
 * for), the visitors write meanwhile, and signs in again at once. */
static void
agent_signs_out_and_in (Run *run)
{
  gboolean was_active = run->fault_active;

  g_assert_true (harness_wait (every_agent_text_through, run, SETTLE_MS));
  sign_out (run->account);
  run->fault_active = TRUE;     /* written while the agent is away */
  for (guint i = 0; i < VISITORS; i++)
    visitor_send (run, i, 900000 + g_hash_table_size (run->during_fault));
  run->fault_active = was_active;
  sign_in_again (run->account);
}

static void
fault_begin (Run *run)
{
  const FaultSpec *spec = run->spec;
  const char *agent = ppms_server_user_uuid_by_email (run->server, AGENT_EMAIL);

  run->fault_active = spec->type != FAULT_DROP && spec->type != FAULT_SIGN_OUT;
  switch (spec->type) {
  case FAULT_DROP:
    ppms_server_drop_websockets (run->server);
    break;
  case FAULT_WS_DOWN:
    ppms_server_set_ws_down (run->server, TRUE);
    break;
  case FAULT_WS_STALL:
    ppms_server_set_ws_stall (run->server, TRUE);
    break;
  case FAULT_HTTP:
  case FAULT_HTTP_AND_WS_DOWN:
    ppms_server_set_http_fault (run->server, spec->http_kind, NULL, spec->probability,
                                spec->delay_ms, 4242);
    /* A repair (catch-up and all) has to go through the faulty HTTP side. */
    ppms_server_set_ws_down (run->server, spec->type == FAULT_HTTP_AND_WS_DOWN);
    ppms_server_drop_websockets (run->server);
    break;
  case FAULT_ACK_LOSS:
    ppms_server_set_ack_loss (run->server, spec->ack_loss, agent, 25);
    break;
  case FAULT_SIGN_OUT:
    agent_signs_out_and_in (run);
    break;
  }
}

static void
fault_end (Run *run)
{
  switch (run->spec->type) {
  case FAULT_DROP:
    ppms_server_drop_websockets (run->server);   /* twice, the second mid-repair */
    break;
  case FAULT_WS_DOWN:
    ppms_server_set_ws_down (run->server, FALSE);
    break;
  case FAULT_WS_STALL:
    ppms_server_set_ws_stall (run->server, FALSE);
    break;
  case FAULT_HTTP:
  case FAULT_HTTP_AND_WS_DOWN:
  case FAULT_ACK_LOSS:
    ppms_server_clear_faults (run->server);
    ppms_server_set_ws_down (run->server, FALSE);
    ppms_server_reset_stalled_requests (run->server);
    break;
  case FAULT_SIGN_OUT:
    agent_signs_out_and_in (run);   /* twice */
    break;
  }
  run->fault_end_us = g_get_monotonic_time ();
  run->fault_active = FALSE;
}

/* Both sides write their share of the burst, round after round; the fault
 * covers the middle third (for at least its duration). */
static void
exchange_burst (Run *run)
{
  guint rounds = (run->burst + VISITORS * PER_ROUND - 1) / (VISITORS * PER_ROUND);
  guint number = 0;
  gint64 fault_started = 0;

  for (guint round = 0; round < rounds; round++) {
    if (round == rounds / 3) {
      fault_begin (run);
      fault_started = g_get_monotonic_time ();
    }
    if (round == 2 * rounds / 3) {
      gint64 left = (gint64) run->spec->duration_ms * 1000 -
                    (g_get_monotonic_time () - fault_started);

      /* Pacing, not synchronisation: the visitors write on meanwhile. */
      while (left > 0) {
        for (guint i = 0; i < VISITORS; i++)
          visitor_send (run, i, 500000 + number++);
        harness_run_for (50);
        left = (gint64) run->spec->duration_ms * 1000 - (g_get_monotonic_time () - fault_started);
      }
      fault_end (run);
    }
    for (guint k = 0; k < PER_ROUND; k++, number++)
      for (guint i = 0; i < VISITORS; i++) {
        visitor_send (run, i, number);
        agent_send (run, i, number);
      }
    if (run->fault_active)
      harness_run_for (20);
    else
      harness_wait (backlog_small, run, 2000);
  }
}

/* ---- The truth: the server's history ---- */

typedef struct {
  GPtrArray *from_visitor;    /* texts, oldest first */
  GPtrArray *from_agent;
} History;

static void
read_history (Run *run, guint index, const char *agent_uuid, History *history)
{
  g_autoptr (JsonObject) body = json_object_new ();
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *list;

  json_object_set_string_member (body, "conversation_uuid", run->conversations[index]);
  json_object_set_int_member (body, "page_size", 0);       /* everything, newest first */
  json_object_set_int_member (body, "page_offset", 0);
  answer = ppms_peer_api_sync (run->visitors[index], "PP_PAGE_HISTORY_MESSAGE", body, &error);
  g_assert_no_error (error);
  list = json_object_get_array_member (answer, "list");
  history->from_visitor = g_ptr_array_new_with_free_func (g_free);
  history->from_agent = g_ptr_array_new_with_free_func (g_free);
  for (guint i = json_array_get_length (list); i > 0; i--) {
    JsonObject *record = json_array_get_object_element (list, i - 1);
    const char *text = json_object_get_string_member (record, "body");
    const char *from = json_object_get_string_member (record, "from_uuid");

    g_ptr_array_add (g_strcmp0 (from, agent_uuid) == 0 ? history->from_agent
                                                        : history->from_visitor, g_strdup (text));
  }
}

typedef struct {
  guint visitor_written, visitor_stored, visitor_during_fault;
  guint to_agent_lost, to_agent_duplicated, to_agent_during_lost, to_agent_during_duplicated;
  guint agent_typed, agent_stored, to_visitor_lost, to_visitor_duplicated;
  guint agent_echo_wrong, send_errors;
  gboolean to_agent_in_order, to_visitor_in_order;
} Figures;

/* The first occurrence of each text, in the order seen. */
static GPtrArray *
first_seen (Seen *seen)
{
  GPtrArray *firsts = g_ptr_array_new ();
  g_autoptr (GHashTable) had = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < seen->order->len; i++)
    if (g_hash_table_add (had, seen->order->pdata[i]))
      g_ptr_array_add (firsts, seen->order->pdata[i]);
  return firsts;
}

static gboolean
same_order (const char *what, GPtrArray *expected, GPtrArray *seen)
{
  for (guint i = 0; i < MIN (expected->len, seen->len); i++)
    if (strcmp (expected->pdata[i], seen->pdata[i]) != 0) {
      g_test_message ("%s: order differs at %u: %s expected, %s seen", what, i,
                      (char *) expected->pdata[i], (char *) seen->pdata[i]);
      return FALSE;
    }
  return TRUE;
}

static void
count_conversation (Run *run, guint index, const char *agent_uuid, Figures *figures)
{
  History history = { 0 };
  g_autoptr (GPtrArray) shown = first_seen (&run->at_agent[index]);
  g_autoptr (GPtrArray) received = first_seen (&run->at_visitor[index]);
  g_autoptr (GPtrArray) received_typed = g_ptr_array_new ();
  GPtrArray *typed = run->typed[index];

  read_history (run, index, agent_uuid, &history);
  /* Visitors to the agent: each stored message shown once, in stored order. */
  figures->visitor_stored += history.from_visitor->len;
  for (guint i = 0; i < history.from_visitor->len; i++) {
    const char *text = history.from_visitor->pdata[i];
    guint count = seen_count (&run->at_agent[index], text);
    gboolean during = g_hash_table_contains (run->during_fault, text);

    figures->visitor_during_fault += during;
    if (count == 0) {
      figures->to_agent_lost++;
      figures->to_agent_during_lost += during;
    } else if (count > 1) {
      figures->to_agent_duplicated += count - 1;
      if (during)
        figures->to_agent_during_duplicated += count - 1;
    }
  }
  if (!same_order ("visitor to agent", history.from_visitor, shown))
    figures->to_agent_in_order = FALSE;
  /* The agent to a visitor: each typed message received once, in typed order. */
  figures->agent_typed += typed->len;
  figures->agent_stored += history.from_agent->len;
  for (guint i = 0; i < typed->len; i++) {
    guint count = seen_count (&run->at_visitor[index], typed->pdata[i]);
    guint echoes = GPOINTER_TO_UINT (g_hash_table_lookup (run->agent_echoes, typed->pdata[i]));

    if (count == 0)
      figures->to_visitor_lost++;
    else
      g_ptr_array_add (received_typed, typed->pdata[i]);
    if (count > 1)
      figures->to_visitor_duplicated += count - 1;
    if (echoes != 1)
      figures->agent_echo_wrong++;
  }
  if (!same_order ("agent to visitor", received_typed, received))
    figures->to_visitor_in_order = FALSE;
  g_ptr_array_unref (history.from_visitor);
  g_ptr_array_unref (history.from_agent);
}

/* ---- Settling ---- */

/* The plugin sends in the order typed, one queue for all conversations:
 * once the last text typed (LAST_TEXT, to visitor 0) has come through,
 * nothing typed before it is still on its way, and what remains is for
 * every stored message to be seen. The broken-on-purpose runs settle too. */
#define LAST_NUMBER 999999
#define LAST_TEXT "a0-999999"

static gboolean
all_settled (gpointer data)
{
  Run *run = data;
  guint stored = 0, shown = 0;

  if (seen_count (&run->at_visitor[0], LAST_TEXT) == 0 && run->send_errors == 0)
    return FALSE;
  for (guint i = 0; i < VISITORS; i++) {
    stored += ppms_server_count_messages (run->server, run->conversations[i]);
    shown += g_hash_table_size (run->at_agent[i].count);
  }
  return shown >= run->visitor_writes + VISITORS && shown + agent_texts_through (run) >= stored;
}

static void
report (Run *run, const Figures *f, double recovered_ms)
{
  g_autofree char *line = g_strdup_printf (
    "fault %-22s visitors->agent: written %u stored %u (during the fault %u) lost %u (%u) "
    "duplicated %u (%u) in order %s | agent->visitors: typed %u stored %u lost %u "
    "duplicated %u in order %s errors %u | recovered in %.0f ms",
    run->spec->name, run->visitor_writes, f->visitor_stored, f->visitor_during_fault,
    f->to_agent_lost, f->to_agent_during_lost, f->to_agent_duplicated,
    f->to_agent_during_duplicated, f->to_agent_in_order ? "yes" : "NO", f->agent_typed,
    f->agent_stored, f->to_visitor_lost, f->to_visitor_duplicated,
    f->to_visitor_in_order ? "yes" : "NO", f->send_errors, recovered_ms);
  const char *build = g_getenv ("BUILD");
  g_autofree char *path = g_build_filename (build && *build ? build : "build",
                                            "fault-figures.txt", NULL);
  FILE *file = fopen (path, "a");

  g_test_message ("%s", line);
  if (file) {
    fprintf (file, "%s\n", line);
    fclose (file);
  }
}

/* 1,000 each way; half under the sanitizers (SANITIZE=1), which are only
 * slower. */
static guint
burst_size (void)
{
  const char *sanitize = g_getenv ("SANITIZE");

  return sanitize && strcmp (sanitize, "1") == 0 ? 500 : 1000;
}

static void
test_fault (gconstpointer data)
{
  const FaultSpec *spec = data;
  Run run;
  Figures figures = { .to_agent_in_order = TRUE, .to_visitor_in_order = TRUE };
  const char *agent_uuid;
  double recovered_ms = -1;

  run_start (&run, spec, burst_size ());
  agent_uuid = ppms_server_user_uuid_by_email (run.server, AGENT_EMAIL);
  exchange_burst (&run);
  /* One more each way after the burst: recovery is measured even when the
   * fault ended with the last round. */
  visitor_send (&run, 0, LAST_NUMBER);
  agent_send (&run, 0, LAST_NUMBER);
  if (!harness_wait (all_settled, &run, SETTLE_MS))
    g_test_message ("not settled: %u of %u agent texts through", agent_texts_through (&run),
                    run.agent_typed);
  for (guint i = 0; i < VISITORS; i++)
    count_conversation (&run, i, agent_uuid, &figures);
  figures.send_errors = run.send_errors;
  if (run.agent_recovered_us && run.visitor_recovered_us)
    recovered_ms = (MAX (run.agent_recovered_us, run.visitor_recovered_us) - run.fault_end_us)
                   / 1000.0;
  report (&run, &figures, recovered_ms);

  g_assert_true (purple_account_is_connected (run.account));
  g_assert_null (harness_find_error (run.account));
  g_assert_cmpuint (figures.visitor_stored, >=, run.burst);
  g_assert_cmpuint (figures.visitor_stored, ==, run.visitor_writes + VISITORS);
  g_assert_cmpuint (figures.agent_typed, >=, run.burst);
  /* Both of libpurple's signals saw every visitor message alike. */
  g_assert_cmpuint (run.received_at_agent, ==, run.written_at_agent);
  g_assert_cmpuint (figures.to_agent_lost, ==, 0);
  g_assert_cmpuint (figures.to_agent_duplicated, ==, 0);
  g_assert_true (figures.to_agent_in_order);
  g_assert_cmpuint (figures.agent_echo_wrong, ==, 0);
  g_assert_cmpuint (figures.send_errors, ==, 0);
  switch (spec->expect) {
  case EXPECT_CLEAN:
    g_assert_cmpuint (figures.to_visitor_lost, ==, 0);
    g_assert_cmpuint (figures.to_visitor_duplicated, ==, 0);
    g_assert_true (figures.to_visitor_in_order);
    g_assert_cmpuint (figures.agent_stored, ==, figures.agent_typed);
    g_assert_cmpfloat (recovered_ms, >=, 0);
    g_assert_cmpfloat (recovered_ms, <=, RECOVERY_BOUND_MS);
    break;
  case EXPECT_DUPLICATE:
    g_assert_cmpuint (figures.to_visitor_duplicated, >, 0);
    break;
  case EXPECT_LOSS:
    g_assert_cmpuint (figures.to_visitor_lost, >, 0);
    break;
  }
  run_finish (&run);
}

/* Every fault hits the agent's connections only (AGENT_USER_AGENT). */
static const FaultSpec faults[] = {
  { "drop-websockets", FAULT_DROP, 0, 0, 0, 0, 300, NULL, EXPECT_CLEAN },
  { "websocket-down", FAULT_WS_DOWN, 0, 0, 0, 0, 1500, NULL, EXPECT_CLEAN },
  { "websocket-stall", FAULT_WS_STALL, 0, 0, 0, 0, 1500, NULL, EXPECT_CLEAN },
  { "http-down", FAULT_HTTP, PPMS_FAULT_HTTP_500, 1.0, 0, 0, 1500, NULL, EXPECT_CLEAN },
  { "http-and-websocket-down", FAULT_HTTP_AND_WS_DOWN, PPMS_FAULT_HTTP_500, 1.0, 0, 0, 1500,
    NULL, EXPECT_CLEAN },
  { "http-stall", FAULT_HTTP, PPMS_FAULT_STALL, 1.0, 0, 0, 2500, NULL, EXPECT_CLEAN },
  { "http-500", FAULT_HTTP, PPMS_FAULT_HTTP_500, 0.3, 0, 0, 1500, NULL, EXPECT_CLEAN },
  { "http-500-after-work", FAULT_HTTP, PPMS_FAULT_500_AFTER_WORK, 0.3, 0, 0, 1500, NULL,
    EXPECT_CLEAN },
  { "truncated-json", FAULT_HTTP, PPMS_FAULT_TRUNCATED_JSON, 0.3, 0, 0, 1500, NULL,
    EXPECT_CLEAN },
  { "malformed-json", FAULT_HTTP, PPMS_FAULT_MALFORMED_JSON, 0.3, 0, 0, 1500, NULL,
    EXPECT_CLEAN },
  { "http-delay", FAULT_HTTP, PPMS_FAULT_DELAY, 1.0, 300, 0, 1500, NULL, EXPECT_CLEAN },
  { "ack-lost-before-push", FAULT_ACK_LOSS, 0, 0, 0, PPMS_ACK_LOSS_BEFORE_PUSH, 1500, NULL,
    EXPECT_CLEAN },
  { "ack-lost-after-push", FAULT_ACK_LOSS, 0, 0, 0, PPMS_ACK_LOSS_AFTER_PUSH, 1500, NULL,
    EXPECT_CLEAN },
  { "sign-out-and-in", FAULT_SIGN_OUT, 0, 0, 0, 0, 0, NULL, EXPECT_CLEAN },
  /* The same fault against a library broken on purpose: the counts catch it. */
  { "broken:resend-all", FAULT_ACK_LOSS, 0, 0, 0, PPMS_ACK_LOSS_AFTER_PUSH, 1500, "resend-all",
    EXPECT_DUPLICATE },
  { "broken:resend-none", FAULT_ACK_LOSS, 0, 0, 0, PPMS_ACK_LOSS_BEFORE_PUSH, 1500,
    "resend-none", EXPECT_LOSS },
};

int
main (int argc, char **argv)
{
  const char *build = g_getenv ("BUILD");
  g_autofree char *path = g_build_filename (build && *build ? build : "build",
                                            "fault-figures.txt", NULL);

  g_test_init (&argc, &argv, NULL);
  if (!g_test_subprocess ())
    remove (path);
  for (guint i = 0; i < G_N_ELEMENTS (faults); i++) {
    g_autofree char *name = g_strdup_printf ("/faults/%s", faults[i].name);

    harness_add_data_test (name, &faults[i], test_fault);
  }
  return g_test_run ();
}
