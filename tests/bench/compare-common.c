/* compare-common.c: see compare-common.h. GLib only, so that the bare
 * client links nothing it does not need.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "compare-common.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#define SIGN_IN_TIMEOUT_MS 600000
#define ROUND_TIMEOUT_MS   300000
#define LINGER_MS          1000   /* after the last expected message: duplicates come now */
#define READY_PAUSE_MS     300    /* after sign-in, before "ready": the session settles */
#define POLL_MS            2      /* the end of a run is seen within this */

CompareRun *
compare_run_new (int *argc, char ***argv, const char *label)
{
  CompareRun *run = g_new0 (CompareRun, 1);
  int count = 0, round = 1, idle = 60, rounds = 10;
  gboolean no_stall_meter = FALSE;
  GOptionEntry entries[] = {
    { "url", 0, 0, G_OPTION_ARG_STRING, &run->url, "server URL", NULL },
    { "key", 0, 0, G_OPTION_ARG_STRING, &run->key, "PPKEFU API key", NULL },
    { "email", 0, 0, G_OPTION_ARG_STRING, &run->email, "agent e-mail", NULL },
    { "password", 0, 0, G_OPTION_ARG_STRING, &run->password, "agent password", NULL },
    { "control", 0, 0, G_OPTION_ARG_STRING, &run->control, "server control socket", NULL },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &run->mode, "signin, burst, send or idle", NULL },
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "messages", NULL },
    { "round", 0, 0, G_OPTION_ARG_INT, &round, "burst round", NULL },
    { "idle-seconds", 0, 0, G_OPTION_ARG_INT, &idle, "idle window", NULL },
    { "no-stall-meter", 0, 0, G_OPTION_ARG_NONE, &no_stall_meter,
      "no 10 ms ticks (instruction counts)", NULL },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds (rounds mode)", NULL },
    { "recv-log", 0, 0, G_OPTION_ARG_STRING, &run->recv_log, "shown messages log", NULL },
    { "break", 0, 0, G_OPTION_ARG_STRING, &run->broken, "drop or double (self-test)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  struct sockaddr_un address = { .sun_family = AF_UNIX };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error) || run->url == NULL || run->key == NULL
      || run->email == NULL || run->password == NULL || run->control == NULL || run->mode == NULL
      || strlen (run->control) >= sizeof address.sun_path)
    {
      fprintf (stderr, "%s: %s\n", label, error ? error->message : "missing or bad option");
      return NULL;
    }
  run->count = count;
  run->round = round;
  run->idle_seconds = idle;
  run->rounds = rounds;
  run->stall_meter = !no_stall_meter;
  run->label = g_strdup (label);
  run->log = g_string_new (NULL);
  run->failure = g_string_new (NULL);
  run->marker = g_strdup_printf ("bench r%u ", run->round);
  strcpy (address.sun_path, run->control);
  run->control_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (run->control_fd < 0 || connect (run->control_fd, (struct sockaddr *) &address, sizeof address) < 0)
    {
      fprintf (stderr, "%s: control socket %s: %s\n", label, run->control, g_strerror (errno));
      return NULL;
    }
  return run;
}

void
compare_fail (CompareRun *run, const char *what)
{
  g_string_append_printf (run->failure, "%s%s", run->failure->len ? "; " : "", what);
}

void
compare_shown (CompareRun *run, const char *text)
{
  gint64 now = g_get_monotonic_time ();
  guint times = 1;

  if (run->broken != NULL && run->shown == 0)
    times = g_str_equal (run->broken, "drop") ? 0 : 2;
  for (guint i = 0; i < times; i++)
    {
      g_string_append_printf (run->log, "%" G_GINT64_FORMAT "\t%s\n", now, text);
      run->shown++;
      if (g_str_has_prefix (text, run->marker))
        {
          if (run->shown_marked++ == 0)
            run->first_marked_us = now;
          run->last_marked_us = now;
        }
    }
  if (times == 0)
    {
      /* Handled as shown, never logged: a loss the counters must find. */
      run->shown++;
      if (g_str_has_prefix (text, run->marker))
        run->shown_marked++;
    }
}

/* Writes out what the log holds (the first call starts the file afresh).
 * Between rounds: a log kept whole would grow by every message of every
 * round, which is the benchmark's memory, not the client's. */
static void
flush_log (CompareRun *run)
{
  FILE *file = run->recv_log ? fopen (run->recv_log, run->log_started ? "a" : "w") : NULL;

  if (file != NULL)
    {
      fwrite (run->log->str, 1, run->log->len, file);
      fclose (file);
      run->log_started = TRUE;
    }
  g_string_truncate (run->log, 0);
}

void
compare_send_acked (CompareRun *run)
{
  run->sends_acked++;
}

void
compare_set_buddies (CompareRun *run, guint buddies)
{
  run->buddies = buddies;
}

char *
compare_server_command (CompareRun *run, const char *command)
{
  g_autofree char *line = g_strconcat (command, "\n", NULL);
  GString *reply = g_string_new (NULL);
  char c;

  if (write (run->control_fd, line, strlen (line)) != (ssize_t) strlen (line))
    return g_string_free (reply, TRUE), NULL;
  /* Byte by byte: replies are short, and nothing past the newline is ours. */
  while (read (run->control_fd, &c, 1) == 1 && c != '\n')
    g_string_append_c (reply, c);
  return g_string_free (reply, FALSE);
}

int
compare_server_unacked (CompareRun *run)
{
  g_autofree char *command = g_strconcat ("unacked ", run->email, NULL);
  g_autofree char *reply = compare_server_command (run, command);

  return reply != NULL && g_ascii_isdigit (reply[0]) ? atoi (reply) : -1;
}

/* Runs the loop until done (data) or timeout_ms; checks after each
 * iteration, and at least every POLL_MS. */
static gboolean
run_until (gboolean (*done) (gpointer data), gpointer data, CompareRun *run, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done (data))
    {
      gboolean tick = FALSE;
      guint timer;

      if (run->failure->len > 0 || g_get_monotonic_time () > deadline)
        return FALSE;
      timer = g_timeout_add (POLL_MS, bench_flag_expired, &tick);
      g_main_context_iteration (NULL, TRUE);
      if (!tick)
        g_source_remove (timer);
    }
  return TRUE;
}

static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, bench_flag_expired, &done);
  bench_wait_flag (&done, ms + 1000);
}

/* Voluntary context switches of every thread of this process, those that
 * ended included: each is a sleep (in poll() or another blocking call) that
 * something later ended, counted by the kernel. */
static long
voluntary_switches (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_nvcsw;
}

/* Main-loop wake-ups: polls that blocked (timeout not 0) and returned. */
static guint main_loop_wakeups;
static GPollFunc default_poll;

static gint
counting_poll (GPollFD *fds, guint nfds, gint timeout)
{
  gint ready = default_poll (fds, nfds, timeout);

  if (timeout != 0)
    main_loop_wakeups++;
  return ready;
}

/* Wake-ups per minute while idle for seconds: every thread's, and the main
 * loop's alone. */
static void
count_idle_wakeups (guint seconds, double *per_minute, double *loop_per_minute)
{
  long switches = voluntary_switches ();
  guint wakeups = main_loop_wakeups;

  run_for (seconds * 1000);
  /* Less one: the timeout that ends the window is the meter's own. */
  *per_minute = MAX (voluntary_switches () - switches - 1, 0) * 60.0 / MAX (seconds, 1);
  *loop_per_minute = MAX ((long) (main_loop_wakeups - wakeups) - 1, 0) * 60.0 / MAX (seconds, 1);
}

/* This process's resident memory now (not its peak), in KiB. */
static long
current_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      || (line = strstr (status, "VmRSS:")) == NULL)
    return -1;
  return atol (line + strlen ("VmRSS:"));
}

/* The heap in use now, in KiB: next to the RSS it tells a leak (both grow)
 * from pages the allocator keeps after a peak (only the RSS stays). */
static long
live_heap_kib (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (long) ((info.uordblks + info.hblkhd) / 1024);
}

typedef struct {
  const CompareClient *client;
  gpointer data;
  CompareRun *run;
} Scenario;

static gboolean
marked_all (gpointer data)
{
  Scenario *s = data;

  return s->run->shown_marked >= s->run->count;
}

static gboolean
sends_all_acked (gpointer data)
{
  Scenario *s = data;

  return s->run->sends_acked >= s->run->count;
}

static gboolean
client_signed_in (gpointer data)
{
  Scenario *s = data;

  return s->client->signed_in (s->data);
}

static gboolean
client_acked_all (gpointer data)
{
  Scenario *s = data;

  return s->client->acked_all (s->data);
}

int
compare_run_main (CompareRun *run, const CompareClient *client, gpointer data)
{
  Scenario s = { client, data, run };
  GString *result = g_string_new (NULL);
  g_autoptr (GString) rounds_rss = g_string_new (NULL);
  g_autoptr (GString) rounds_heap = g_string_new (NULL);
  gint64 start, signed_in_us = 0, end = 0;
  double stall_longest_ms = 0, stall_longest_cpu_ms = 0;
  double per_minute = -1, loop_per_minute = -1, baseline_per_minute = -1,
         baseline_loop_per_minute = -1;
  struct rusage usage;

  default_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, counting_poll);
  if (client->prepare != NULL)
    client->prepare (data);
  /* What the process does idle before it signs in (libpurple's own timers). */
  if (g_str_equal (run->mode, "idle"))
    count_idle_wakeups (MAX (run->idle_seconds / 2, 1), &baseline_per_minute,
                        &baseline_loop_per_minute);
  if (run->stall_meter && !g_str_equal (run->mode, "idle"))
    bench_stall_start (&run->stalls);
  start = g_get_monotonic_time ();
  client->sign_in (data);
  if (!run_until (client_signed_in, &s, run, SIGN_IN_TIMEOUT_MS))
    compare_fail (run, "sign-in did not complete");
  signed_in_us = g_get_monotonic_time () - start;

  if (run->failure->len == 0 && g_str_equal (run->mode, "burst"))
    {
      run_for (READY_PAUSE_MS);
      printf ("ready\n");
      fflush (stdout);
      if (!run_until (marked_all, &s, run, ROUND_TIMEOUT_MS))
        compare_fail (run, "not every message of the burst came");
      run_for (LINGER_MS);
      if (!run_until (client_acked_all, &s, run, 60000))
        compare_fail (run, "not every message was acknowledged");
    }
  else if (run->failure->len == 0 && g_str_equal (run->mode, "rounds"))
    {
      g_string_append (rounds_rss, ", \"rss_after_round_kib\": [");
      g_string_append (rounds_heap, ", \"live_heap_after_round_kib\": [");
      for (guint r = 0; r < run->rounds && run->failure->len == 0; r++)
        {
          g_free (run->marker);
          run->marker = g_strdup_printf ("bench r%u ", run->round + r);
          run->shown_marked = 0;
          run_for (READY_PAUSE_MS);
          printf ("ready\n");
          fflush (stdout);
          if (!run_until (marked_all, &s, run, ROUND_TIMEOUT_MS))
            compare_fail (run, "not every message of a round came");
          run_for (LINGER_MS);
          if (!run_until (client_acked_all, &s, run, 60000))
            compare_fail (run, "not every message was acknowledged");
          client->new_round (data);
          if (!run_until (client_signed_in, &s, run, SIGN_IN_TIMEOUT_MS))
            compare_fail (run, "signing in again did not complete");
          flush_log (run);
          g_string_append_printf (rounds_rss, "%s%ld", r ? ", " : "", current_rss_kib ());
          g_string_append_printf (rounds_heap, "%s%ld", r ? ", " : "", live_heap_kib ());
        }
      g_string_append (rounds_rss, "]");
      g_string_append (rounds_heap, "]");
    }
  else if (run->failure->len == 0 && g_str_equal (run->mode, "send"))
    {
      gint64 send_start;

      run_for (READY_PAUSE_MS);
      send_start = g_get_monotonic_time ();
      if (client->send (data, run->count) != run->count)
        compare_fail (run, "could not queue every send");
      else if (!run_until (sends_all_acked, &s, run, ROUND_TIMEOUT_MS))
        compare_fail (run, "not every send was acknowledged");
      end = g_get_monotonic_time ();
      start = send_start;
    }
  else if (run->failure->len == 0 && g_str_equal (run->mode, "idle"))
    {
      run_for (READY_PAUSE_MS);
      count_idle_wakeups (run->idle_seconds, &per_minute, &loop_per_minute);
    }
  getrusage (RUSAGE_SELF, &usage);
  if (run->stalls.source != 0)
    {
      stall_longest_ms = bench_stall_longest_ms (&run->stalls);
      stall_longest_cpu_ms = bench_stall_longest_cpu_ms (&run->stalls);
      bench_stall_stop (&run->stalls);
    }
  if (client->extra_result != NULL)
    client->extra_result (data, result);
  client->sign_out (data);

  flush_log (run);
  {
    g_autofree char *head = g_strdup_printf ("result {\"client\": \"%s\", \"mode\": \"%s\", \"count\": %u",
                                             run->label, run->mode, run->count);
    g_string_prepend (result, head);
  }
  g_string_append (result, rounds_rss->str);
  g_string_append (result, rounds_heap->str);
  if (stall_longest_ms > 0)
    g_string_append_printf (result, ", \"longest_stall_ms\": %.1f, \"longest_stall_cpu_ms\": %.1f",
                            stall_longest_ms, stall_longest_cpu_ms);
  g_string_append_printf (result, ", \"signin_ms\": %.3f", signed_in_us / 1000.0);
  if (end > 0)
    g_string_append_printf (result, ", \"time_ms\": %.3f", (end - start) / 1000.0);
  g_string_append_printf (result, ", \"shown\": %u, \"buddies\": %u, \"sends_acked\": %u",
                          run->shown, run->buddies, run->sends_acked);
  if (run->shown_marked > 0)
    g_string_append_printf (result, ", \"first_shown_us\": %" G_GINT64_FORMAT
                            ", \"last_shown_us\": %" G_GINT64_FORMAT,
                            run->first_marked_us, run->last_marked_us);
  if (per_minute >= 0)
    g_string_append_printf (result, ", \"idle_wakeups_per_minute\": %.1f"
                            ", \"idle_main_loop_wakeups_per_minute\": %.1f"
                            ", \"idle_before_sign_in_wakeups_per_minute\": %.1f"
                            ", \"idle_before_sign_in_main_loop_wakeups_per_minute\": %.1f",
                            per_minute, loop_per_minute, baseline_per_minute,
                            baseline_loop_per_minute);
  g_string_append_printf (result, ", \"cpu_ms\": %.1f, \"peak_rss_kib\": %ld",
                          (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0
                          + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0,
                          usage.ru_maxrss);
  if (run->failure->len > 0)
    {
      g_autofree char *escaped = g_strescape (run->failure->str, NULL);
      g_string_append_printf (result, ", \"error\": \"%s\"", escaped);
    }
  g_string_append (result, "}\n");
  fputs (result->str, stdout);
  fflush (stdout);
  g_string_free (result, TRUE);
  return run->failure->len > 0 ? 1 : 0;
}
