/* test-faults.c: no message lost or doubled while the server misbehaves.
 * The library (an agent) and test-peer visitors exchange a burst of at
 * least 1,000 messages each way while the test server drops every
 * websocket, stops and restarts, stalls its websocket or its HTTP side,
 * answers HTTP 500, truncated or malformed JSON on random calls, or delays
 * every answer; or while the agent signs out and in again (a new session
 * on the same account settings, as Pidgin does when they change). Afterwards the server's history of every conversation is
 * the truth: each visitor message must have reached the agent exactly once
 * and in order, each agent message must be stored exactly once and in
 * order, every send must be confirmed, and the agent must be connected.
 * The figures of each fault are printed as TAP comments and written to
 * $BUILD/fault-figures.txt for the README. Timings are never asserted.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#include <stdio.h>
#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define VISITORS 4
#define PER_ROUND 5             /* messages per visitor and round, each way */
#define SETTLE_MS 60000

static const char team_seed[] =
  "{\"app\": {\"app_name\": \"Fault Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

typedef enum {
  FAULT_DROP,
  FAULT_STOP,
  FAULT_WS_STALL,
  FAULT_HTTP,
  FAULT_SIGN_OUT,
} FaultType;

typedef struct {
  const char *name;
  FaultType type;
  PpmsFaultKind http_kind;
  const char *path_match;     /* NULL: every HTTP request */
  double probability;
  guint delay_ms;
  guint duration_ms;          /* how long the fault lasts (0: instantaneous) */
} FaultSpec;

typedef struct {
  const FaultSpec *spec;
  PpmsServer *server;
  PpmClient *client;
  GHashTable *settings;
  PpmsPeer *visitors[VISITORS];
  char *conversations[VISITORS];
  GHashTable *delivered;      /* message uuid -> count, to the agent */
  GHashTable *delivered_order;  /* conversation uuid -> GPtrArray of uuids */
  GHashTable *sent_order;     /* conversation uuid -> GPtrArray of agent uuids */
  GHashTable *results;        /* agent message uuid -> "ok" or the error */
  guint agent_sent;
  guint visitor_writes;       /* texts the peers wrote to their socket */
  guint results_ok;
  guint results_failed;
  gboolean connected;
  gboolean disconnected;
  gint64 fault_end_us;        /* 0 while the fault lasts or before it */
  gint64 recovered_us;        /* first confirmed send after the fault */
  gboolean fault_active;
  guint burst;
} Run;

/* ---- Events ---- */

static void
on_connected (gpointer data)
{
  ((Run *) data)->connected = TRUE;
}

static void
on_disconnected (gpointer data, const GError *error)
{
  Run *run = data;

  run->disconnected = TRUE;
  g_test_message ("agent disconnected: %s", error ? error->message : "(no error)");
}

static GPtrArray *
order_of (GHashTable *table, const char *conversation)
{
  GPtrArray *order = g_hash_table_lookup (table, conversation);

  if (order == NULL) {
    order = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (table, g_strdup (conversation), order);
  }
  return order;
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  Run *run = data;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (run->delivered, message->uuid));

  g_hash_table_insert (run->delivered, g_strdup (message->uuid), GUINT_TO_POINTER (count + 1));
  g_ptr_array_add (order_of (run->delivered_order, message->conversation_uuid),
                   g_strdup (message->uuid));
}

static void
on_send_result (gpointer data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  Run *run = data;

  if (g_hash_table_contains (run->results, message_uuid))
    g_error ("a second send_result for %s", message_uuid);
  g_hash_table_insert (run->results, g_strdup (message_uuid),
                       g_strdup (error ? error->message : "ok"));
  if (error) {
    run->results_failed++;
    g_test_message ("send of %s failed: %s", message_uuid, error->message);
    return;
  }
  run->results_ok++;
  if (run->fault_end_us && !run->recovered_us)
    run->recovered_us = g_get_monotonic_time ();
}

static void
on_save_setting (gpointer data, const char *key, const char *value)
{
  g_hash_table_insert (((Run *) data)->settings, g_strdup (key), g_strdup (value));
}

static char *
on_load_setting (gpointer data, const char *key)
{
  return g_strdup (g_hash_table_lookup (((Run *) data)->settings, key));
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .disconnected = on_disconnected,
  .message = on_message,
  .send_result = on_send_result,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
};

/* ---- Waiting ---- */

static gboolean
never (gpointer data)
{
  return FALSE;
}

/* Lets the main loop run for a while: pacing, not synchronisation. */
static void
run_loop_for (guint ms)
{
  ppms_wait_until (never, NULL, ms);
}

static gboolean
is_connected_or_done (gpointer data)
{
  Run *run = data;

  return run->connected || run->disconnected;
}

static gboolean
knows_all_conversations (gpointer data)
{
  Run *run = data;

  for (guint i = 0; i < VISITORS; i++)
    if (ppm_client_lookup_conversation (run->client, run->conversations[i]) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
backlog_small (gpointer data)
{
  Run *run = data;

  return run->agent_sent - (run->results_ok + run->results_failed) < 200;
}

/* ---- Set-up ---- */

/* A session of the agent on the run's account settings, connected. */
static void
agent_sign_in (Run *run)
{
  g_autoptr (GError) error = NULL;
  PpmReconnectPolicy policy = {
    .first_delay_ms = 50, .max_delay_ms = 500, .max_attempts = 0, .give_up_after_ms = 0,
  };
  PpmClientConfig config = {
    .role = PPM_ROLE_AGENT, .email = AGENT_EMAIL, .password = AGENT_PASSWORD,
    .terminal = "terminal-of-test-faults", .device_name = "test-faults",
    .server_url = ppms_server_get_url (run->server),
    .api_key = ppms_server_ppkefu_key (run->server),
  };

  run->connected = FALSE;
  run->client = ppm_client_new (&config, &events, run);
  ppm_client_set_reconnect_policy (run->client, &policy);
  ppm_client_set_keepalive_interval (run->client, 1);
  ppm_client_set_request_timeout (run->client, 2000);
  ppm_client_set_send_timeout (run->client, SETTLE_MS);
  g_assert_true (ppm_client_connect (run->client, &error));
  g_assert_true (ppms_wait_until (is_connected_or_done, run, 10000));
  g_assert_true (run->connected);
}

static void
run_start (Run *run, const FaultSpec *spec, guint burst)
{
  g_autoptr (GError) error = NULL;

  memset (run, 0, sizeof *run);
  run->spec = spec;
  run->burst = burst;
  run->server = ppms_server_new_from_data (team_seed, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (run->server, 0, &error));
  ppms_server_set_timer_scale (run->server, 0.05);
  run->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  run->delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run->delivered_order = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify) g_ptr_array_unref);
  run->sent_order = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_ptr_array_unref);
  run->results = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < VISITORS; i++) {
    run->visitors[i] = ppms_peer_new_visitor (ppms_server_get_url (run->server),
                                              ppms_server_app_uuid (run->server),
                                              ppms_server_ppcom_key (run->server),
                                              ppms_server_ppcom_secret (run->server), NULL);
    g_assert_true (ppms_peer_start_sync (run->visitors[i], &error));
    g_assert_no_error (error);
    run->conversations[i] = g_strdup (ppms_peer_conversation_uuid (run->visitors[i]));
  }
  agent_sign_in (run);
  /* Each visitor says hello, so that the agent knows every conversation. */
  for (guint i = 0; i < VISITORS; i++)
    g_free (ppms_peer_send_text (run->visitors[i], run->conversations[i], "hello"));
  g_assert_true (ppms_wait_until (knows_all_conversations, run, 10000));
}

static void
run_finish (Run *run)
{
  ppm_client_free (run->client);
  for (guint i = 0; i < VISITORS; i++) {
    ppms_peer_free (run->visitors[i]);
    g_free (run->conversations[i]);
  }
  ppms_server_free (run->server);
  g_hash_table_unref (run->settings);
  g_hash_table_unref (run->delivered);
  g_hash_table_unref (run->delivered_order);
  g_hash_table_unref (run->sent_order);
  g_hash_table_unref (run->results);
}

/* ---- The burst ---- */

static void
visitor_send (Run *run, guint index, guint number)
{
  PpmsPeer *peer = run->visitors[index];
  g_autofree char *text = g_strdup_printf ("v%u-%u", index, number);

  if (!ppms_peer_is_connected (peer)) {
    /* The peers are only the other side, not under test: they wait for
     * the end of a lasting fault before signing in again. */
    if (run->fault_active)
      return;
    ppms_peer_close (peer);
    if (!ppms_peer_start_sync (peer, NULL))
      return;                   /* the fault is still on: next round */
  }
  g_autofree char *uuid = ppms_peer_send_text (peer, run->conversations[index], text);

  if (uuid)
    run->visitor_writes++;
}

static void
agent_send (Run *run, guint index, guint number)
{
  g_autofree char *text = g_strdup_printf ("a%u-%u", index, number);
  char *uuid = ppm_client_send_text (run->client, run->conversations[index], text);

  run->agent_sent++;
  g_ptr_array_add (order_of (run->sent_order, run->conversations[index]), uuid);
}

static gboolean last_send_confirmed (gpointer data);

/* Signs out (once what the agent wrote was confirmed, as a user would wait
 * for) and signs in again at once: a new session, a new de-duplication,
 * the same account settings. Visitors go on writing meanwhile. */
static void
agent_signs_out_and_in (Run *run)
{
  g_assert_true (ppms_wait_until (last_send_confirmed, run, SETTLE_MS));
  ppm_client_disconnect (run->client);
  g_clear_pointer (&run->client, ppm_client_free);
  run->disconnected = FALSE;    /* asked for: not a failure */
  for (guint i = 0; i < VISITORS; i++)
    visitor_send (run, i, 900000);
  agent_sign_in (run);
}

static void
fault_begin (Run *run)
{
  const FaultSpec *spec = run->spec;

  run->fault_active = spec->type != FAULT_DROP && spec->type != FAULT_SIGN_OUT;
  switch (spec->type) {
  case FAULT_DROP:
    ppms_server_drop_websockets (run->server);
    break;
  case FAULT_STOP:
    ppms_server_stop (run->server);
    break;
  case FAULT_WS_STALL:
    ppms_server_set_ws_stall (run->server, TRUE);
    break;
  case FAULT_HTTP:
    ppms_server_set_http_fault (run->server, spec->http_kind, spec->path_match, spec->probability,
                                spec->delay_ms, 4242);
    /* A repair (catch-up and all) has to go through the faulty HTTP side. */
    ppms_server_drop_websockets (run->server);
    break;
  case FAULT_SIGN_OUT:
    agent_signs_out_and_in (run);
    break;
  }
}

static void
fault_end (Run *run)
{
  g_autoptr (GError) error = NULL;

  switch (run->spec->type) {
  case FAULT_DROP:
    ppms_server_drop_websockets (run->server);   /* twice, the second mid-repair */
    break;
  case FAULT_STOP:
    g_assert_true (ppms_server_restart (run->server, &error));
    g_assert_no_error (error);
    break;
  case FAULT_WS_STALL:
    ppms_server_set_ws_stall (run->server, FALSE);
    break;
  case FAULT_HTTP:
    ppms_server_clear_faults (run->server);
    break;
  case FAULT_SIGN_OUT:
    agent_signs_out_and_in (run);   /* twice */
    break;
  }
  run->fault_end_us = g_get_monotonic_time ();
  run->fault_active = FALSE;
}

/* Both sides send their share of the burst, round after round; the fault
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

      if (left > 0)
        run_loop_for ((guint) (left / 1000));
      fault_end (run);
    }
    for (guint k = 0; k < PER_ROUND; k++, number++)
      for (guint i = 0; i < VISITORS; i++) {
        visitor_send (run, i, number);
        agent_send (run, i, number);
      }
    if (fault_started && !run->fault_end_us)
      run_loop_for (20);
    else
      ppms_wait_until (backlog_small, run, 2000);
  }
}

/* ---- The truth: the server's history ---- */

typedef struct {
  GPtrArray *from_visitor;    /* uuids, oldest first */
  GPtrArray *from_agent;
  guint agent_duplicates;     /* agent uuids stored more than once */
} History;

static void
history_clear (History *history)
{
  g_ptr_array_unref (history->from_visitor);
  g_ptr_array_unref (history->from_agent);
}

static void
read_history (Run *run, guint index, const char *agent_uuid, History *history)
{
  g_autoptr (JsonObject) body = json_object_new ();
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) stored = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *list;

  json_object_set_string_member (body, "conversation_uuid", run->conversations[index]);
  json_object_set_int_member (body, "page_size", 0);       /* everything, newest first */
  json_object_set_int_member (body, "page_offset", 0);
  if (!ppms_peer_is_connected (run->visitors[index]))
    g_assert_true (ppms_peer_start_sync (run->visitors[index], NULL));
  answer = ppms_peer_api_sync (run->visitors[index], "PP_PAGE_HISTORY_MESSAGE", body, &error);
  g_assert_no_error (error);
  list = json_object_get_array_member (answer, "list");
  history->from_visitor = g_ptr_array_new_with_free_func (g_free);
  history->from_agent = g_ptr_array_new_with_free_func (g_free);
  for (guint i = json_array_get_length (list); i > 0; i--) {
    JsonObject *record = json_array_get_object_element (list, i - 1);
    const char *uuid = json_object_get_string_member (record, "uuid");
    const char *from = json_object_get_string_member (record, "from_uuid");

    if (g_strcmp0 (from, agent_uuid) != 0) {
      g_ptr_array_add (history->from_visitor, g_strdup (uuid));
      continue;
    }
    if (!g_hash_table_add (stored, (gpointer) uuid))
      history->agent_duplicates++;
    else
      g_ptr_array_add (history->from_agent, g_strdup (uuid));
  }
}

typedef struct {
  guint visitor_stored, delivered, lost, duplicated;
  guint agent_sent, agent_stored, agent_lost, agent_duplicated, failed_sends;
  gboolean in_order;
} Figures;

static gboolean
same_sequence (const char *what, GPtrArray *a, GPtrArray *b)
{
  guint length_a = a ? a->len : 0, length_b = b ? b->len : 0;

  for (guint i = 0; i < MIN (length_a, length_b); i++)
    if (strcmp (a->pdata[i], b->pdata[i]) != 0) {
      guint where = 0;

      g_ptr_array_find_with_equal_func (a, b->pdata[i], g_str_equal, &where);
      g_test_message ("%s: order differs at %u of %u: %s stored, %s seen (stored at %u)",
                      what, i, length_a, (char *) a->pdata[i], (char *) b->pdata[i], where);
      return FALSE;
    }
  if (length_a != length_b)
    g_test_message ("%s: %u stored, %u seen", what, length_a, length_b);
  return length_a == length_b;
}

static void
count_conversation (Run *run, guint index, const char *agent_uuid, Figures *figures)
{
  History history = { 0 };
  GPtrArray *delivered = g_hash_table_lookup (run->delivered_order, run->conversations[index]);
  GPtrArray *sent = g_hash_table_lookup (run->sent_order, run->conversations[index]);
  g_autoptr (GHashTable) stored_agent = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) confirmed = g_ptr_array_new ();

  read_history (run, index, agent_uuid, &history);
  figures->visitor_stored += history.from_visitor->len;
  for (guint i = 0; i < history.from_visitor->len; i++) {
    guint count = GPOINTER_TO_UINT (g_hash_table_lookup (run->delivered,
                                                         history.from_visitor->pdata[i]));

    if (count == 0)
      figures->lost++;
    else
      figures->delivered++;
    if (count > 1)
      figures->duplicated += count - 1;
  }
  /* Delivered in the stored order, and nothing else delivered. */
  if (!same_sequence ("visitor messages", history.from_visitor, delivered))
    figures->in_order = FALSE;
  for (guint i = 0; i < history.from_agent->len; i++)
    g_hash_table_add (stored_agent, history.from_agent->pdata[i]);
  figures->agent_duplicated += history.agent_duplicates;
  figures->agent_stored += history.from_agent->len;
  for (guint i = 0; sent && i < sent->len; i++) {
    figures->agent_sent++;
    if (!g_hash_table_contains (stored_agent, sent->pdata[i]))
      figures->agent_lost++;
    else
      g_ptr_array_add (confirmed, sent->pdata[i]);
  }
  /* Stored in the order they were written. */
  if (!same_sequence ("agent messages", history.from_agent, confirmed))
    figures->in_order = FALSE;
  history_clear (&history);
}

/* ---- Settling ---- */

static guint
stored_from_visitors (Run *run)
{
  guint total = 0;

  for (guint i = 0; i < VISITORS; i++)
    total += ppms_server_count_messages (run->server, run->conversations[i]);
  return total > run->results_ok ? total - run->results_ok : 0;
}

static gboolean
all_settled (gpointer data)
{
  Run *run = data;

  return run->results_ok + run->results_failed == run->agent_sent &&
         g_hash_table_size (run->delivered) >= stored_from_visitors (run);
}

/* Visitors whose messages were lost on their way to the server (the test
 * peers do not resend) top the burst up to its size. */
static void
top_up_visitors (Run *run)
{
  guint number = 100000;

  while (stored_from_visitors (run) < run->burst + VISITORS) {
    for (guint i = 0; i < VISITORS; i++)
      visitor_send (run, i, number);
    number++;
    run_loop_for (5);
  }
}

static gboolean
last_send_confirmed (gpointer data)
{
  Run *run = data;

  return run->results_ok + run->results_failed == run->agent_sent;
}

static void
report (Run *run, const Figures *figures, double recover_ms)
{
  g_autofree char *line = g_strdup_printf (
    "fault %-16s visitors->agent: sent %u delivered %u lost %u duplicated %u "
    "(the naive test peers wrote %u, the server got %u) | "
    "agent->visitors: sent %u stored %u lost %u duplicated %u failed %u | "
    "in order: %s | recovered in %.0f ms",
    run->spec->name, figures->visitor_stored, figures->delivered, figures->lost,
    figures->duplicated, run->visitor_writes, figures->visitor_stored - VISITORS,
    figures->agent_sent, figures->agent_stored, figures->agent_lost,
    figures->agent_duplicated, figures->failed_sends, figures->in_order ? "yes" : "NO",
    recover_ms);
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
 * slower, to keep the program within about 90 s there too. */
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
  Figures figures = { .in_order = TRUE };
  const char *agent_uuid;

  run_start (&run, spec, burst_size ());
  agent_uuid = ppms_server_user_uuid_by_email (run.server, AGENT_EMAIL);
  exchange_burst (&run);
  /* Settled first, so that the server's count splits into both sides. */
  ppms_wait_until (all_settled, &run, SETTLE_MS);
  top_up_visitors (&run);
  if (!ppms_wait_until (all_settled, &run, SETTLE_MS))
    g_test_message ("not settled: %u of %u sends answered, %u of %u delivered",
                    run.results_ok + run.results_failed, run.agent_sent,
                    g_hash_table_size (run.delivered), stored_from_visitors (&run));
  /* Still connected: one more message goes through. */
  agent_send (&run, 0, 999999);
  g_assert_true (ppms_wait_until (last_send_confirmed, &run, SETTLE_MS));
  for (guint i = 0; i < VISITORS; i++)
    count_conversation (&run, i, agent_uuid, &figures);
  figures.failed_sends = run.results_failed;
  report (&run, &figures,
          run.recovered_us ? (run.recovered_us - run.fault_end_us) / 1000.0 : -1);
  g_assert_false (run.disconnected);
  g_assert_cmpuint (figures.visitor_stored, >=, run.burst);
  g_assert_cmpuint (figures.agent_sent, >=, run.burst);
  g_assert_cmpuint (figures.lost, ==, 0);
  g_assert_cmpuint (figures.duplicated, ==, 0);
  g_assert_cmpuint (figures.agent_lost, ==, 0);
  g_assert_cmpuint (figures.agent_duplicated, ==, 0);
  g_assert_cmpuint (figures.failed_sends, ==, 0);
  g_assert_true (figures.in_order);
  run_finish (&run);
}

/* A stalled request keeps its connection until the client gives up; the
 * test peers wait 10 s for that, so the stall hits the agent's catch-up
 * calls (PP_PAGE_HISTORY_MESSAGE, PP_PAGE_UNACKED_MESSAGE) only. */
static const FaultSpec faults[] = {
  { "drop-websockets", FAULT_DROP, PPMS_FAULT_NONE, NULL, 0, 0, 300 },
  { "stop-restart", FAULT_STOP, PPMS_FAULT_NONE, NULL, 0, 0, 1500 },
  { "ws-stall", FAULT_WS_STALL, PPMS_FAULT_NONE, NULL, 0, 0, 1500 },
  { "http-stall", FAULT_HTTP, PPMS_FAULT_STALL, "PP_PAGE_", 1.0, 0, 2500 },
  { "http-500", FAULT_HTTP, PPMS_FAULT_HTTP_500, NULL, 0.3, 0, 1500 },
  { "truncated-json", FAULT_HTTP, PPMS_FAULT_TRUNCATED_JSON, NULL, 0.3, 0, 1500 },
  { "malformed-json", FAULT_HTTP, PPMS_FAULT_MALFORMED_JSON, NULL, 0.3, 0, 1500 },
  { "http-delay", FAULT_HTTP, PPMS_FAULT_DELAY, NULL, 1.0, 300, 1500 },
  { "sign-out-and-in", FAULT_SIGN_OUT, PPMS_FAULT_NONE, NULL, 0, 0, 0 },
};

int
main (int argc, char **argv)
{
  const char *build = g_getenv ("BUILD");
  g_autofree char *path = g_build_filename (build && *build ? build : "build",
                                            "fault-figures.txt", NULL);

  g_test_init (&argc, &argv, NULL);
  remove (path);
  for (guint i = 0; i < G_N_ELEMENTS (faults); i++) {
    g_autofree char *name = g_strdup_printf ("/faults/%s", faults[i].name);

    g_test_add_data_func (name, &faults[i], test_fault);
  }
  return g_test_run ();
}
