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
#include <sys/socket.h>
#include <sys/un.h>
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

/* ---- The server child ---- */

/* One source of commands: the parent's pipe, or a client program connected
 * to the control socket (tests/bench/compare.py runs several clients
 * against one server process). Replies go back on the line they came from. */
typedef struct {
  int in_fd, out_fd;
  GString *input;
  gboolean eof;
  guint watch;
} ControlLine;

typedef struct {
  PpmsServer *server;
  GPtrArray *visitors;        /* PpmsPeer* */
  ControlLine parent;         /* the pipe of the process that forked the server */
  GPtrArray *lines;           /* ControlLine* connected to the control socket */
  ControlLine *replying;      /* the line of the command being run */
  /* What the watched agent was sent ("watch EMAIL"): the monotonic time each
   * MSG frame was written (to time push to signal) and the SEND acks. */
  char *watched_user_uuid;
  GString *push_log;          /* "<monotonic us>\t<bo>\n" per MSG frame */
  guint pushes_logged, send_acks;
  /* "paced ...": visitor texts sent at a steady rate from a timer. */
  guint paced_round, paced_total, paced_sent, paced_rate, paced_source;
  gint64 paced_start_us;
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
      ssize_t n = write (child->replying->out_fd, line + done, len - done);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0 && child->replying == &child->parent)
        _exit (3);
      if (n <= 0)
        break;   /* a client went away: its reply is lost, the server runs on */
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

/* The frame observer: only frames to a device of the watched agent count. */
static void
on_frame_written (PpmsServer *server, const char *device_uuid, const char *text, gpointer data)
{
  Child *child = data;
  PpmsDevice *device = ppms_device_lookup (server, device_uuid);
  const char *body, *end;

  if (child->watched_user_uuid == NULL || device == NULL
      || g_strcmp0 (device->user_uuid, child->watched_user_uuid) != 0)
    return;
  if (g_str_has_prefix (text, "{\"type\": \"MSG\"")
      && (body = strstr (text, "\"bo\": \"")) != NULL)
    {
      /* Bench texts are plain ASCII: the first quote ends the body. */
      body += strlen ("\"bo\": \"");
      end = strchr (body, '"');
      if (end == NULL)
        return;
      g_string_append_printf (child->push_log, "%" G_GINT64_FORMAT "\t", g_get_monotonic_time ());
      g_string_append_len (child->push_log, body, end - body);
      g_string_append_c (child->push_log, '\n');
      child->pushes_logged++;
    }
  else if (g_str_has_prefix (text, "{\"type\": \"ACK\"") && strstr (text, "\"what\": \"SEND\"")
           && strstr (text, "\"code\": 0,"))
    child->send_acks++;
}

/* "watch EMAIL": from now on, logs what that agent is sent (and forgets
 * what was logged before). */
static void
child_watch (Child *child, const char *email)
{
  PpmsUser *user = ppms_user_lookup_by_email (child->server, email);

  if (user == NULL)
    {
      child_reply (child, "error no user %s", email);
      return;
    }
  g_free (child->watched_user_uuid);
  child->watched_user_uuid = g_strdup (user->uuid);
  g_string_truncate (child->push_log, 0);
  child->pushes_logged = child->send_acks = 0;
  child_reply (child, "ok");
}

/* "pushlog PATH": writes the push log of the watched agent to PATH. */
static void
child_write_push_log (Child *child, const char *path)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, child->push_log->str, child->push_log->len, &error))
    child_reply (child, "error %s", error->message);
  else
    child_reply (child, "ok %u", child->pushes_logged);
}

static void
send_visitor_text (Child *child, guint round, guint index)
{
  guint v = index % child->visitors->len;
  PpmsPeer *peer = g_ptr_array_index (child->visitors, v);
  g_autofree char *text = g_strdup_printf (VISITOR_TEXT " r%u v%u m%u", round, v,
                                           index / child->visitors->len);

  g_free (ppms_peer_send_text (peer, ppms_peer_conversation_uuid (peer), text));
}

/* Sends what is due by now, so the rate holds whatever the timer's jitter. */
static gboolean
paced_tick (gpointer data)
{
  Child *child = data;
  gint64 elapsed = g_get_monotonic_time () - child->paced_start_us;
  guint due = MIN (child->paced_total, (guint) (elapsed * child->paced_rate / G_USEC_PER_SEC) + 1);

  while (child->paced_sent < due)
    send_visitor_text (child, child->paced_round, child->paced_sent++);
  if (child->paced_sent < child->paced_total)
    return G_SOURCE_CONTINUE;
  child->paced_source = 0;
  return G_SOURCE_REMOVE;
}

/* "paced ROUND TOTAL RATE": the visitors send TOTAL texts in turn, RATE a
 * second; the reply comes at once, the texts follow. */
static void
child_start_paced (Child *child, guint round, guint total, guint rate)
{
  if (child->visitors->len == 0 || rate == 0)
    {
      child_reply (child, "error no visitors or no rate");
      return;
    }
  g_clear_handle_id (&child->paced_source, g_source_remove);
  child->paced_round = round;
  child->paced_total = total;
  child->paced_rate = rate;
  child->paced_sent = 0;
  child->paced_start_us = g_get_monotonic_time ();
  child->paced_source = g_timeout_add (1, paced_tick, child);
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


/* Messages of any conversation whose text starts with prefix. */
static guint
count_stored (PpmsServer *server, const char *prefix)
{
  GHashTableIter iter;
  gpointer value;
  guint stored = 0;

  g_hash_table_iter_init (&iter, server->messages);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    stored += g_str_has_prefix (((PpmsMessage *) value)->body ?: "", prefix);
  return stored;
}

static void
child_command (Child *child, const char *line)
{
  guint a = 0, b = 0, c = 0;

  if (g_str_equal (line, "requests"))
    child_reply (child, "%u %u", ppms_server_count_requests (child->server, "/api/"),
                 ppms_server_count_requests (child->server, NULL));
  else if (sscanf (line, "visitors %u", &a) == 1)
    child_start_visitors (child, a);
  else if (sscanf (line, "send %u %u", &a, &b) == 2)
    child_send (child, a, b);
  else if (g_str_equal (line, "paths"))
    child_reply (child, "%s", child_paths (child));
  else if (g_str_equal (line, "visitors close"))
    {
      /* Agents' sends then reach no visitor socket: no push, and no visitor
       * acking each one from inside this process while the next client runs. */
      for (guint v = 0; v < child->visitors->len; v++)
        ppms_peer_close (g_ptr_array_index (child->visitors, v));
      child_reply (child, "ok");
    }
  else if (g_str_has_prefix (line, "watch "))
    child_watch (child, line + strlen ("watch "));
  else if (g_str_has_prefix (line, "pushlog "))
    child_write_push_log (child, line + strlen ("pushlog "));
  else if (g_str_equal (line, "sendacks"))
    child_reply (child, "%u", child->send_acks);
  else if (g_str_has_prefix (line, "unacked "))
    {
      PpmsUser *user = ppms_user_lookup_by_email (child->server, line + strlen ("unacked "));
      const GPtrArray *pushes = user ? ppms_user_unacked_pushes (child->server, user->uuid) : NULL;
      child_reply (child, "%u", pushes ? pushes->len : 0);
    }
  else if (sscanf (line, "paced %u %u %u", &a, &b, &c) == 3)
    child_start_paced (child, a, b, c);
  else if (g_str_has_prefix (line, "stored "))
    child_reply (child, "%u", count_stored (child->server, line + strlen ("stored ")));
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
on_line_input (int fd, GIOCondition condition, gpointer data)
{
  ControlLine *line = data;
  char buffer[4096];
  ssize_t n = read (fd, buffer, sizeof buffer);

  if (n > 0)
    {
      g_string_append_len (line->input, buffer, n);
      return G_SOURCE_CONTINUE;
    }
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  line->eof = TRUE;
  line->watch = 0;
  return G_SOURCE_REMOVE;
}

static void
control_line_watch (ControlLine *line)
{
  g_unix_set_fd_nonblocking (line->in_fd, TRUE, NULL);
  line->watch = g_unix_fd_add (line->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_line_input, line);
}

/* A client program connected to the control socket. */
static gboolean
on_control_connect (int fd, GIOCondition condition, gpointer data)
{
  Child *child = data;
  int client = accept (fd, NULL, NULL);
  ControlLine *line;

  if (client < 0)
    return G_SOURCE_CONTINUE;
  line = g_new0 (ControlLine, 1);
  line->in_fd = line->out_fd = client;
  line->input = g_string_new (NULL);
  control_line_watch (line);
  g_ptr_array_add (child->lines, line);
  return G_SOURCE_CONTINUE;
}

static void
take_line_commands (Child *child, ControlLine *line)
{
  char *newline;

  child->replying = line;
  while ((newline = strchr (line->input->str, '\n')) != NULL)
    {
      g_autofree char *text = g_strndup (line->input->str, newline - line->input->str);

      g_string_erase (line->input, 0, newline - line->input->str + 1);
      child_command (child, text);
    }
  child->replying = &child->parent;
}

/* Commands run between main-loop iterations, never inside a dispatch, as the
 * peers' *_sync calls iterate the loop themselves. */
static void
child_take_commands (Child *child)
{
  take_line_commands (child, &child->parent);
  for (guint i = 0; i < child->lines->len;)
    {
      ControlLine *line = g_ptr_array_index (child->lines, i);

      take_line_commands (child, line);
      if (!line->eof)
        {
          i++;
          continue;
        }
      close (line->in_fd);
      g_string_free (line->input, TRUE);
      g_ptr_array_remove_index_fast (child->lines, i);
      g_free (line);
    }
}

/* A Unix socket at path (in a private temporary directory: no port to
 * collide with), or -1. */
static int
listen_control (const char *path)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0 || strlen (path) >= sizeof address.sun_path)
    return -1;
  strcpy (address.sun_path, path);
  if (bind (fd, (struct sockaddr *) &address, sizeof address) < 0 || listen (fd, 16) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

void
bench_server_run (int in_fd, int out_fd, const char *generate_json, double timer_scale,
                  const char *control_path)
{
  g_autoptr (GError) error = NULL;
  Child child = { .parent = { .in_fd = in_fd, .out_fd = out_fd, .input = g_string_new (NULL) },
                  .visitors = g_ptr_array_new (), .lines = g_ptr_array_new (),
                  .push_log = g_string_new (NULL) };
  int control = -1;

  child.replying = &child.parent;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  child.server = ppms_server_new_from_data ("{\"app\": {\"app_name\": \"Bench\"}}", &error);
  if (child.server == NULL || !ppms_server_generate (child.server, generate_json, &error)
      || !ppms_server_listen (child.server, 0, &error))
    {
      child_reply (&child, "error %s", error ? error->message : "?");
      _exit (2);
    }
  if (control_path != NULL && (control = listen_control (control_path)) < 0)
    {
      child_reply (&child, "error control socket %s: %s", control_path, g_strerror (errno));
      _exit (2);
    }
  if (control >= 0)
    g_unix_fd_add (control, G_IO_IN, on_control_connect, &child);
  ppms_server_set_timer_scale (child.server, timer_scale);
  child.server->frame_observer = on_frame_written;
  child.server->frame_observer_data = &child;
  child_reply (&child, "ready %s %s %s", ppms_server_get_url (child.server),
               ppms_server_app_uuid (child.server), ppms_server_ppkefu_key (child.server));
  control_line_watch (&child.parent);
  while (!child.parent.eof)
    {
      g_main_context_iteration (NULL, TRUE);
      child_take_commands (&child);
    }
  if (control_path != NULL)
    unlink (control_path);
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
      bench_server_run (down[0], up[1], generate_json, timer_scale, NULL);
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

BenchServer *
bench_server_attach (const char *control_path, const char *url)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BenchServer *server;

  if (fd < 0 || strlen (control_path) >= sizeof address.sun_path)
    {
      bench_fail ("control socket %s: bad path", control_path);
      return NULL;
    }
  strcpy (address.sun_path, control_path);
  if (connect (fd, (struct sockaddr *) &address, sizeof address) < 0)
    {
      bench_fail ("control socket %s: %s", control_path, g_strerror (errno));
      close (fd);
      return NULL;
    }
  server = g_new0 (BenchServer, 1);
  server->to_child = server->from_child = fd;
  server->pending = g_string_new (NULL);
  server->url = g_strdup (url);
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  return server;
}

void
bench_server_stop (BenchServer *server)
{
  if (server == NULL)
    return;
  if (server->to_child != server->from_child)
    close (server->to_child);   /* EOF: the child exits */
  if (server->from_child >= 0)
    close (server->from_child);
  while (server->pid > 0 && waitpid (server->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  g_string_free (server->pending, TRUE);
  g_free (server->url);
  g_free (server->app_uuid);
  g_free (server->ppkefu_key);
  g_free (server);
}
