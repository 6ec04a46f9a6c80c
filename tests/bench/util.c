/* util.c: see util.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <glib-unix.h>

#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "ppms-internal.h"   /* request counts per path */

#define READY_TIMEOUT_MS 600000   /* generating and loading a big scenario */
#define VISITOR_TEXT     "bench"

static gboolean failed;

/* ---- Figures ---- */

void
bench_figure (const char *name, double value, const char *unit, const char *op, double limit)
{
  if (op != NULL)
    printf ("figure %s %.6g %s %s %.6g\n", name, value, unit, op, limit);
  else
    printf ("figure %s %.6g %s - -\n", name, value, unit);
  fflush (stdout);
}

void
bench_fail (const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  printf ("error %s\n", text);
  fflush (stdout);
  failed = TRUE;
}

gboolean
bench_failed (void)
{
  return failed;
}

double
bench_now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

long
bench_peak_rss_kib (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

gboolean
bench_run_isolated (void (*scenario) (gconstpointer arg), gconstpointer arg)
{
  pid_t pid;
  int status = 0;

  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    {
      bench_fail ("fork: %s", g_strerror (errno));
      return FALSE;
    }
  if (pid == 0)
    {
      scenario (arg);
      fflush (stdout);
      _exit (failed ? 1 : 0);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  if (WIFSIGNALED (status))
    bench_fail ("scenario killed by signal %d", WTERMSIG (status));
  else
    failed = TRUE;   /* the child said why */
  return FALSE;
}

static gboolean
flag_expired (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
bench_iterate (guint max_wait_ms)
{
  gboolean tick = FALSE;
  guint timer = g_timeout_add (max_wait_ms, flag_expired, &tick);   /* bounds the wait */

  g_main_context_iteration (NULL, TRUE);
  if (!tick)
    g_source_remove (timer);
}

gboolean
bench_wait_flag (const gboolean *flag, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint timer = g_timeout_add (timeout_ms, flag_expired, &expired);

  while (!*flag && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);
  return *flag;
}

/* ---- Stalls ---- */

#define STALL_TICK_MS 10

static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
stall_tick (gpointer data)
{
  BenchStallMeter *meter = data;
  gint64 now = g_get_monotonic_time (), cpu = thread_cpu_us ();

  meter->longest_us = MAX (meter->longest_us, now - meter->last_us);
  meter->longest_cpu_us = MAX (meter->longest_cpu_us, cpu - meter->last_cpu_us);
  meter->last_us = now;
  meter->last_cpu_us = cpu;
  return G_SOURCE_CONTINUE;
}

void
bench_stall_start (BenchStallMeter *meter)
{
  bench_stall_reset (meter);
  meter->source = g_timeout_add_full (G_PRIORITY_HIGH, STALL_TICK_MS, stall_tick, meter, NULL);
}

void
bench_stall_reset (BenchStallMeter *meter)
{
  meter->last_us = g_get_monotonic_time ();
  meter->last_cpu_us = thread_cpu_us ();
  meter->longest_us = meter->longest_cpu_us = 0;
}

double
bench_stall_longest_ms (const BenchStallMeter *meter)
{
  /* A gap still open counts too. */
  return MAX (meter->longest_us, g_get_monotonic_time () - meter->last_us) / 1000.0;
}

double
bench_stall_longest_cpu_ms (const BenchStallMeter *meter)
{
  return MAX (meter->longest_cpu_us, thread_cpu_us () - meter->last_cpu_us) / 1000.0;
}

void
bench_stall_stop (BenchStallMeter *meter)
{
  g_clear_handle_id (&meter->source, g_source_remove);
}

/* ---- The server child ---- */

typedef struct {
  PpmsServer *server;
  GPtrArray *visitors;        /* PpmsPeer* */
  GString *input;
  gboolean eof;
  int out_fd;
} Child;

static void
child_reply (Child *child, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strconcat (text, "\n", NULL);
  for (size_t done = 0, len = strlen (line); done < len;)
    {
      ssize_t n = write (child->out_fd, line + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        _exit (3);
      done += (size_t) n;
    }
}

static void
child_start_visitors (Child *child, guint count)
{
  const char *url = ppms_server_get_url (child->server);

  for (guint i = 0; i < count; i++)
    {
      g_autoptr (GError) error = NULL;
      PpmsPeer *peer = ppms_peer_new_visitor (url, ppms_server_app_uuid (child->server),
                                              ppms_server_ppcom_key (child->server),
                                              ppms_server_ppcom_secret (child->server), NULL);

      if (!ppms_peer_start_sync (peer, &error) || ppms_peer_conversation_uuid (peer) == NULL)
        {
          child_reply (child, "error visitor %u: %s", i, error ? error->message : "no conversation");
          ppms_peer_free (peer);
          return;
        }
      g_ptr_array_add (child->visitors, peer);
    }
  child_reply (child, "ok");
}

static void
child_send (Child *child, guint round, guint per_visitor)
{
  for (guint k = 0; k < per_visitor; k++)
    for (guint v = 0; v < child->visitors->len; v++)
      {
        PpmsPeer *peer = g_ptr_array_index (child->visitors, v);
        g_autofree char *text = g_strdup_printf (VISITOR_TEXT " r%u v%u m%u", round, v, k);

        g_free (ppms_peer_send_text (peer, ppms_peer_conversation_uuid (peer), text));
      }
  child_reply (child, "ok");
}

/* "path=count ..." for every path asked more than once, most asked first. */
static const char *
child_paths (Child *child)
{
  static char *text;
  g_autoptr (GList) paths = g_hash_table_get_keys (child->server->request_counts);
  GHashTable *counts = child->server->request_counts;
  GString *out = g_string_new (NULL);

  for (GList *l = paths; l != NULL; l = l->next)
    for (GList *m = l->next; m != NULL; m = m->next)
      if (GPOINTER_TO_UINT (g_hash_table_lookup (counts, m->data))
          > GPOINTER_TO_UINT (g_hash_table_lookup (counts, l->data)))
        {
          gpointer t = l->data;
          l->data = m->data;
          m->data = t;
        }
  for (GList *l = paths; l != NULL; l = l->next)
    g_string_append_printf (out, "%s%s=%u", out->len ? " " : "", (char *) l->data,
                            GPOINTER_TO_UINT (g_hash_table_lookup (counts, l->data)));
  g_free (text);
  text = g_string_free (out, FALSE);
  return text;
}

static void
child_command (Child *child, const char *line)
{
  guint a = 0, b = 0;

  if (g_str_equal (line, "requests"))
    child_reply (child, "%u %u", ppms_server_count_requests (child->server, "/api/"),
                 ppms_server_count_requests (child->server, NULL));
  else if (sscanf (line, "visitors %u", &a) == 1)
    child_start_visitors (child, a);
  else if (sscanf (line, "send %u %u", &a, &b) == 2)
    child_send (child, a, b);
  else if (g_str_equal (line, "paths"))
    child_reply (child, "%s", child_paths (child));
  else if (g_str_equal (line, "acked"))
    {
      guint stored = 0;
      for (guint v = 0; v < child->visitors->len; v++)
        stored += ppms_server_count_messages (child->server,
                                              ppms_peer_conversation_uuid (g_ptr_array_index (child->visitors, v)));
      child_reply (child, "%u", stored);
    }
  else
    child_reply (child, "error unknown command %s", line);
}

static gboolean
on_child_input (int fd, GIOCondition condition, gpointer data)
{
  Child *child = data;
  char buffer[4096];
  ssize_t n = read (fd, buffer, sizeof buffer);

  if (n > 0)
    {
      g_string_append_len (child->input, buffer, n);
      return G_SOURCE_CONTINUE;
    }
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  child->eof = TRUE;
  return G_SOURCE_REMOVE;
}

/* Commands run between main-loop iterations, never inside a dispatch, as the
 * peers' *_sync calls iterate the loop themselves. */
static void
child_take_commands (Child *child)
{
  char *newline;

  while ((newline = strchr (child->input->str, '\n')) != NULL)
    {
      g_autofree char *line = g_strndup (child->input->str, newline - child->input->str);

      g_string_erase (child->input, 0, newline - child->input->str + 1);
      child_command (child, line);
    }
}

static void G_GNUC_NORETURN
server_child (int in_fd, int out_fd, const char *generate_json, double timer_scale)
{
  g_autoptr (GError) error = NULL;
  Child child = { .out_fd = out_fd, .input = g_string_new (NULL),
                  .visitors = g_ptr_array_new () };

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  child.server = ppms_server_new_from_data ("{\"app\": {\"app_name\": \"Bench\"}}", &error);
  if (child.server == NULL || !ppms_server_generate (child.server, generate_json, &error)
      || !ppms_server_listen (child.server, 0, &error))
    {
      child_reply (&child, "error %s", error ? error->message : "?");
      _exit (2);
    }
  ppms_server_set_timer_scale (child.server, timer_scale);
  child_reply (&child, "ready %s %s %s", ppms_server_get_url (child.server),
               ppms_server_app_uuid (child.server), ppms_server_ppkefu_key (child.server));
  g_unix_set_fd_nonblocking (in_fd, TRUE, NULL);
  g_unix_fd_add (in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_child_input, &child);
  while (!child.eof)
    {
      g_main_context_iteration (NULL, TRUE);
      child_take_commands (&child);
    }
  /* The data is thrown away with the process. */
  _exit (0);
}

/* ---- The parent's side ---- */

static gboolean
on_server_output (int fd, GIOCondition condition, gpointer data)
{
  BenchServer *server = data;
  char buffer[4096];
  ssize_t n = read (fd, buffer, sizeof buffer);

  if (n > 0)
    g_string_append_len (server->pending, buffer, n);
  else if (n == 0 || (errno != EINTR && errno != EAGAIN))
    {
      g_string_append (server->pending, "\n");   /* ends a partial line */
      close (server->from_child);
      server->from_child = -1;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static char *
read_line (BenchServer *server, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint watch;
  char *newline;
  char *line = NULL;

  if (server->from_child < 0)
    return NULL;
  watch = g_unix_fd_add (server->from_child, G_IO_IN | G_IO_HUP | G_IO_ERR, on_server_output, server);
  while ((newline = strchr (server->pending->str, '\n')) == NULL && server->from_child >= 0
         && g_get_monotonic_time () < deadline)
    {
      bench_iterate (100);
    }
  if (server->from_child >= 0)
    g_source_remove (watch);
  newline = strchr (server->pending->str, '\n');
  if (newline != NULL && newline != server->pending->str)
    line = g_strndup (server->pending->str, newline - server->pending->str);
  if (newline != NULL)
    g_string_erase (server->pending, 0, newline - server->pending->str + 1);
  return line;
}

BenchServer *
bench_server_start (const char *generate_json, double timer_scale)
{
  int down[2], up[2];
  BenchServer *server;
  g_autofree char *line = NULL;
  g_auto (GStrv) words = NULL;

  if (pipe (down) < 0 || pipe (up) < 0)
    {
      bench_fail ("pipe: %s", g_strerror (errno));
      return NULL;
    }
  fflush (stdout);
  server = g_new0 (BenchServer, 1);
  server->pid = fork ();
  if (server->pid == 0)
    {
      close (down[1]);
      close (up[0]);
      server_child (down[0], up[1], generate_json, timer_scale);
    }
  close (down[0]);
  close (up[1]);
  server->to_child = down[1];
  server->from_child = up[0];
  server->pending = g_string_new (NULL);
  g_unix_set_fd_nonblocking (server->from_child, TRUE, NULL);
  line = read_line (server, READY_TIMEOUT_MS);
  words = line ? g_strsplit (line, " ", 0) : NULL;
  if (words == NULL || g_strv_length (words) != 4 || !g_str_equal (words[0], "ready"))
    {
      bench_fail ("test server did not start: %s", line ? line : "no answer");
      bench_server_stop (server);
      return NULL;
    }
  server->url = g_strdup (words[1]);
  server->app_uuid = g_strdup (words[2]);
  server->ppkefu_key = g_strdup (words[3]);
  return server;
}

char *
bench_server_command (BenchServer *server, const char *command, guint timeout_ms)
{
  g_autofree char *line = g_strconcat (command, "\n", NULL);

  if (write (server->to_child, line, strlen (line)) != (ssize_t) strlen (line))
    return NULL;
  return read_line (server, timeout_ms);
}

int
bench_server_api_requests (BenchServer *server)
{
  g_autofree char *reply = bench_server_command (server, "requests", 30000);
  int api = -1;

  if (reply == NULL || sscanf (reply, "%d", &api) != 1)
    return -1;
  return api;
}

void
bench_server_stop (BenchServer *server)
{
  if (server == NULL)
    return;
  close (server->to_child);   /* EOF: the child exits */
  if (server->from_child >= 0)
    close (server->from_child);
  while (waitpid (server->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  g_string_free (server->pending, TRUE);
  g_free (server->url);
  g_free (server->app_uuid);
  g_free (server->ppkefu_key);
  g_free (server);
}
