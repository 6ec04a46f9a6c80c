/* bench-purple-signin.c: the built plugin in a headless libpurple core signs
 * in as an agent with 5,000 and 20,000 open conversations (generated, three
 * messages each, the newest one unacked), then signs out and in again with
 * what it saved. Figures: time to connected, time
 * until the buddy list and the conversations stop changing, buddies in the
 * list, messages shown (counted at received-im-msg, by text, which names the
 * message: "Message J in conversation C"), the longest main-loop stall (a freeze the user would
 * see) and peak RSS growth per conversation. Targets: tests/bench/README.md.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <stdio.h>

#include "purple-bench.h"

#include "util.h"

#define AGENT_EMAIL    "agent1@generated.test"
#define AGENT_PASSWORD "agentpass"
#define SIGN_IN_TIMEOUT_MS 600000
#define SAMPLE_MS      250
#define QUIET_MS       3000   /* nothing changed for this long: sign-in is over */

typedef struct {
  double start_ms, connected_ms, settled_ms;
  guint buddies, shown, shown_twice;
  double longest_stall_ms, longest_stall_cpu_ms;
} SignIn;

/* Where the user sees a message: text -> times shown, this sign-in. */
static GHashTable *shown_texts;

static void
on_received_im (PurpleAccount *account, char *sender, char *message, PurpleConversation *conv,
                PurpleMessageFlags flags, gpointer data)
{
  guint times = GPOINTER_TO_UINT (g_hash_table_lookup (shown_texts, message));

  g_hash_table_insert (shown_texts, g_strdup (message), GUINT_TO_POINTER (times + 1));
}

static void
count_shown (SignIn *out)
{
  GHashTableIter iter;
  gpointer times;

  out->shown = g_hash_table_size (shown_texts);
  g_hash_table_iter_init (&iter, shown_texts);
  while (g_hash_table_iter_next (&iter, NULL, &times))
    out->shown_twice += GPOINTER_TO_UINT (times) > 1;
  g_hash_table_remove_all (shown_texts);
}

/* Signs in and runs until neither the buddy list nor the conversations have
 * changed for QUIET_MS (sampled, so the bench adds no per-iteration scan). */
static gboolean
sign_in (PurpleAccount *account, BenchStallMeter *meter, SignIn *out)
{
  double last_change, next_sample;
  guint buddies = 0, writes = 0;

  out->start_ms = bench_now_ms ();
  bench_stall_reset (meter);
  harness_connect (account);
  while (!purple_account_is_connected (account) && harness_find_error (account) == NULL
         && bench_now_ms () - out->start_ms < SIGN_IN_TIMEOUT_MS)
    bench_iterate (100);
  if (!purple_account_is_connected (account))
    {
      const HarnessError *error = harness_find_error (account);
      bench_fail ("not signed in after %.0f ms: %s", bench_now_ms () - out->start_ms,
                  error ? error->text : "timeout");
      return FALSE;
    }
  out->connected_ms = bench_now_ms () - out->start_ms;
  last_change = next_sample = bench_now_ms ();
  while (bench_now_ms () - last_change < QUIET_MS
         && bench_now_ms () - out->start_ms < SIGN_IN_TIMEOUT_MS)
    {
      bench_iterate (SAMPLE_MS);
      if (bench_now_ms () < next_sample)
        continue;
      next_sample = bench_now_ms () + SAMPLE_MS;
      if (bench_count_buddies (account) != buddies || harness_writes ()->len != writes)
        {
          buddies = bench_count_buddies (account);
          writes = harness_writes ()->len;
          last_change = bench_now_ms ();
        }
    }
  out->settled_ms = last_change - out->start_ms;
  out->buddies = buddies;
  count_shown (out);
  out->longest_stall_ms = bench_stall_longest_ms (meter);
  out->longest_stall_cpu_ms = bench_stall_longest_cpu_ms (meter);
  return TRUE;
}

static void
report (const char *label, gint64 conversations, gint64 expected_shown, const SignIn *s,
        double rss_per_conversation, int api_calls)
{
  char name[128];

#define FIG(suffix, value, unit, op, limit) \
  (g_snprintf (name, sizeof name, "purple.%s.%" G_GINT64_FORMAT suffix, label, conversations), \
   bench_figure (name, value, unit, op, limit))
  /* Collapse guards, about twice what was measured (2026-12-07: settled in
   * 1.3 s with 5,000 and 6.1 s with 20,000; after windows opened by the
   * backlog stopped reading their history, 1.5 s and 8.6 s with CI running
   * on the same two cores); compare.py has the targets. */
  FIG (".connected_ms", s->connected_ms, "ms", "<=", 1000 + conversations * 0.6);
  FIG (".settled_ms", s->settled_ms, "ms", "<=", 1000 + conversations * 0.6);
  FIG (".buddies", s->buddies, "buddies", ">=", conversations);
  /* Each waiting message exactly once, and nothing else (no history). */
  FIG (".messages_shown", s->shown, "msgs", ">=", expected_shown);
  FIG (".messages_shown_at_most", s->shown, "msgs", "<=", expected_shown);
  FIG (".messages_shown_twice", s->shown_twice, "msgs", "<=", 0);
  FIG (".longest_stall_cpu_ms", s->longest_stall_cpu_ms, "ms", "<=", 500);
  FIG (".longest_stall_ms", s->longest_stall_ms, "ms", "<=", 2000);
  if (rss_per_conversation >= 0)
    FIG (".peak_rss_per_conversation", rss_per_conversation, "bytes", "<=", 16384);   /* measured 6.7-7.5 KiB */
#undef FIG
  printf ("info purple.%s.%" G_GINT64_FORMAT ": %d API calls\n", label, conversations, api_calls);
}

/* Signs out and waits until the account is offline. */
static gboolean
sign_out (PurpleAccount *account)
{
  double start = bench_now_ms ();

  harness_disconnect (account);
  while (!purple_account_is_disconnected (account) && bench_now_ms () - start < 30000)
    bench_iterate (100);
  /* The sign-out request finishes in the background. */
  while (bench_now_ms () - start < 1000)
    bench_iterate (100);
  harness_clear ();
  if (!purple_account_is_disconnected (account))
    bench_fail ("the account did not sign out");
  return purple_account_is_disconnected (account);
}

static void
scenario (gconstpointer arg)
{
  gint64 conversations = GPOINTER_TO_SIZE (arg);
  g_autofree char *spec = g_strdup_printf (
    "{\"agents\": 1, \"conversations\": %" G_GINT64_FORMAT ", \"messages_per_conversation\": 3,"
    " \"unacked_per_conversation\": 1, \"seed\": 7}", conversations);
  BenchServer *server = bench_server_start (spec, 0.05);
  BenchStallMeter meter = { 0 };
  PurpleAccount *account;
  SignIn first = { 0 }, again = { 0 };
  long rss_before;
  int api_before;

  if (server == NULL)
    return;
  bench_purple_init ();
  shown_texts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  purple_signal_connect (purple_conversations_get_handle (), "received-im-msg", shown_texts,
                         PURPLE_CALLBACK (on_received_im), NULL);
  account = harness_add_account (server->url, AGENT_EMAIL, AGENT_PASSWORD);
  bench_stall_start (&meter);
  rss_before = bench_peak_rss_kib ();
  if (sign_in (account, &meter, &first))
    {
      api_before = bench_server_api_requests (server);
      report ("signin", conversations, conversations, &first,
              (bench_peak_rss_kib () - rss_before) * 1024.0 / conversations, api_before);
      /* Again, with what the first sign-in saved (last seen messages, buddies). */
      if (sign_out (account) && sign_in (account, &meter, &again))
        report ("signin_again", conversations, 0, &again, -1,
                bench_server_api_requests (server) - api_before);
    }
  bench_stall_stop (&meter);
  purple_signals_disconnect_by_handle (shown_texts);
  g_clear_pointer (&shown_texts, g_hash_table_destroy);
  harness_shutdown ();
  bench_server_stop (server);
}

int
main (int argc, char **argv)
{
  static const gint64 sizes[] = { 5000, 20000 };
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      if (argc > 1 && g_ascii_strtoll (argv[1], NULL, 10) != sizes[i])
        continue;
      ok &= bench_run_isolated (scenario, GSIZE_TO_POINTER (sizes[i]));
    }
  return ok && !bench_failed () ? 0 : 1;
}
