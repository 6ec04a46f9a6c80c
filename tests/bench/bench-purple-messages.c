/* bench-purple-messages.c: 2,000 visitor messages (100 visitors, 20 each,
 * interleaved) through the built plugin in a headless libpurple core, twice.
 * Figures per round: messages per second until all are shown, the longest
 * main-loop stall, and peak RSS growth per message once they are shown and
 * their windows closed. The second round reuses what the first allocated, so
 * its growth is the leak indicator. Targets: tests/bench/README.md.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <stdio.h>
#include <string.h>

#include "purple-bench.h"
#include "util.h"

#define AGENT_EMAIL    "agent1@generated.test"
#define AGENT_PASSWORD "agentpass"
#define VISITORS       100
#define PER_VISITOR    20
#define MESSAGES       (VISITORS * PER_VISITOR)
#define ROUND_TIMEOUT_MS 300000
#define AFTER_MS       1000   /* run on after the last one: nothing more may come */

typedef struct {
  guint scanned;              /* harness writes looked at so far */
  guint shown;                /* of them, this round's messages */
  char *marker;               /* "bench r<round> " */
} Round;

/* Looks only at the writes that came since the last call. */
static void
count_new_writes (Round *round)
{
  GPtrArray *writes = harness_writes ();

  for (; round->scanned < writes->len; round->scanned++)
    {
      const HarnessWrite *w = g_ptr_array_index (writes, round->scanned);

      if (w->text != NULL && strstr (w->text, round->marker) != NULL)
        round->shown++;
    }
}

/* Closes every conversation window and forgets the captured writes, so the
 * next round can reuse their memory. */
static void
close_windows (void)
{
  while (purple_get_conversations () != NULL)
    purple_conversation_destroy (purple_get_conversations ()->data);
  harness_clear ();
}

typedef struct {
  double per_second, longest_stall_ms, longest_stall_cpu_ms, growth_per_message;
  guint shown;
} RoundResult;

static gboolean
run_round (BenchServer *server, BenchStallMeter *meter, guint number, RoundResult *out)
{
  g_autofree char *command = g_strdup_printf ("send %u %u", number, PER_VISITOR);
  g_autofree char *reply = NULL;
  Round round = { .marker = g_strdup_printf ("bench r%u ", number) };
  long rss_before = bench_peak_rss_kib ();
  double start, end;

  reply = bench_server_command (server, command, 60000);
  if (g_strcmp0 (reply, "ok") != 0)
    {
      bench_fail ("round %u: the visitors did not send: %s", number, reply ? reply : "no answer");
      g_free (round.marker);
      return FALSE;
    }
  start = bench_now_ms ();
  bench_stall_reset (meter);
  while (round.shown < MESSAGES && bench_now_ms () - start < ROUND_TIMEOUT_MS)
    {
      bench_iterate (100);
      count_new_writes (&round);
    }
  end = bench_now_ms ();
  out->longest_stall_ms = bench_stall_longest_ms (meter);
  out->longest_stall_cpu_ms = bench_stall_longest_cpu_ms (meter);
  while (bench_now_ms () - end < AFTER_MS)
    {
      bench_iterate (100);
      count_new_writes (&round);
    }
  out->shown = round.shown;
  out->per_second = round.shown * 1000.0 / MAX (end - start, 1.0);
  close_windows ();
  out->growth_per_message = (bench_peak_rss_kib () - rss_before) * 1024.0 / MESSAGES;
  g_free (round.marker);
  return TRUE;
}

static void
report (guint number, const RoundResult *r)
{
  char name[96];

#define FIG(suffix, value, unit, op, limit) \
  (g_snprintf (name, sizeof name, "purple.messages.round%u" suffix, number), \
   bench_figure (name, value, unit, op, limit))
  FIG (".shown", r->shown, "msgs", ">=", MESSAGES);
  FIG (".duplicates", r->shown > MESSAGES ? r->shown - MESSAGES : 0, "msgs", "<=", 0);
  /* A collapse guard at about half the 4,500 to 6,300 measured. */
  FIG (".per_second", r->per_second, "msg/s", ">=", 2000);
  FIG (".longest_stall_cpu_ms", r->longest_stall_cpu_ms, "ms", "<=", 500);
  FIG (".longest_stall_ms", r->longest_stall_ms, "ms", "<=", 2000);
  /* The first round also pays for warm-up (caches, hash tables, buddies). */
  FIG (".rss_growth_per_message", r->growth_per_message, "bytes", "<=", number == 1 ? 16384 : 1024);
#undef FIG
}

static void
scenario (gconstpointer arg)
{
  BenchServer *server = bench_server_start ("{\"agents\": 1, \"conversations\": 0}", 0.05);
  g_autofree char *reply = NULL;
  g_autofree char *visitors = g_strdup_printf ("visitors %d", VISITORS);
  BenchStallMeter meter = { 0 };
  PurpleAccount *account;
  RoundResult result[2] = { { 0 } };

  if (server == NULL)
    return;
  reply = bench_server_command (server, visitors, 120000);
  if (g_strcmp0 (reply, "ok") != 0)
    {
      bench_fail ("visitors did not start: %s", reply ? reply : "no answer");
      bench_server_stop (server);
      return;
    }
  bench_purple_init ();
  account = harness_add_account (server->url, AGENT_EMAIL, AGENT_PASSWORD);
  harness_connect (account);
  if (!harness_wait_connected (account, 60000))
    bench_fail ("the agent did not sign in");
  else
    {
      bench_stall_start (&meter);
      for (guint i = 0; i < 2 && run_round (server, &meter, i + 1, &result[i]); i++)
        report (i + 1, &result[i]);
      bench_stall_stop (&meter);
    }
  harness_shutdown ();
  bench_server_stop (server);
}

int
main (void)
{
  gboolean ok = bench_run_isolated (scenario, NULL);

  return ok && !bench_failed () ? 0 : 1;
}
