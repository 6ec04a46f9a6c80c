/* http.c: the HTTP side of the test server: route table, Tornado-like
 * answers (CORS, HTML errors, tracebacks) and HTTP fault injection.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

typedef struct {
  PpmsServer *server;
  SoupServerMessage *msg;
  guint timeout_id;
  gboolean truncate;
} PpmsPending;

void
ppms_add_cors (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (h, "Access-Control-Allow-Methods", "POST, GET, OPTIONS");
  soup_message_headers_replace (h, "Access-Control-Allow-Headers", "Content-Type, Authorization");
  soup_message_headers_replace (h, "Access-Control-Max-Age", "1728000");
}

void
ppms_respond_bytes (SoupServerMessage *msg, guint status, const char *content_type,
                    const void *data, gsize len)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, data, len);
}

void
ppms_respond_json (SoupServerMessage *msg, guint status, JsonObject *object, gboolean cors)
{
  g_autofree char *text = ppms_json_object_to_string (object);

  if (cors)
    ppms_add_cors (msg);
  ppms_respond_bytes (msg, status, "application/json", text, strlen (text));
}

/* Tornado's small HTML error page. */
void
ppms_respond_html_error (SoupServerMessage *msg, guint status)
{
  const char *phrase = soup_status_get_phrase (status);
  g_autofree char *body = g_strdup_printf ("<html><title>%u: %s</title><body>%u: %s</body></html>",
                                           status, phrase, status, phrase);
  ppms_respond_bytes (msg, status, "text/html; charset=UTF-8", body, strlen (body));
}

/* HTTP 500 with a Python traceback cut to frame names and the final line,
 * as the recordings show it; no CORS headers. */
void
ppms_respond_traceback (SoupServerMessage *msg, const char *handler_file, const char *final_line)
{
  g_autofree char *body = g_strdup_printf (
      "Traceback (most recent call last):\n"
      "  File \"tornado/web.py\", line 1733, in _execute\n"
      "  File \"ppmessage/api/handlers/basehandler.py\", line 149, in post\n"
      "  File \"ppmessage/api/handlers/basehandler.py\", line 107, in _handle\n"
      "  File \"ppmessage/api/handlers/%s.py\", line 1, in _Task\n"
      "%s\n", handler_file, final_line);
  ppms_respond_bytes (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain", body, strlen (body));
}

static void
respond_redirect (SoupServerMessage *msg, const char *location)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);
  ppms_respond_bytes (msg, SOUP_STATUS_FOUND, "text/html; charset=UTF-8", "", 0);
}

static void
route (PpmsServer *server, SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  if (g_str_equal (path, "/"))
    respond_redirect (msg, "/ppconsole/");
  else if (g_str_has_prefix (path, "/api/"))
    ppms_api_dispatch (server, msg, path + strlen ("/api/"));
  else if (g_str_has_prefix (path, "/ppauth/token"))
    ppms_auth_token (server, msg);
  else if (ppms_files_handle (server, msg, path) || ppms_assets_handle (server, msg, path))
    return;
  else
    ppms_respond_html_error (msg, SOUP_STATUS_NOT_FOUND);
}

static void
truncate_response (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len = g_bytes_get_size (bytes);

  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, g_bytes_get_data (bytes, NULL), len / 2);
}

/* ---- Paused requests (stall, delay) ---- */

static void
pending_free (PpmsPending *p)
{
  if (p->timeout_id)
    g_source_remove (p->timeout_id);
  g_object_unref (p->msg);
  g_free (p);
}

static void
pending_forget (PpmsPending *p)
{
  p->server->pending = g_list_remove (p->server->pending, p);
  g_signal_handlers_disconnect_by_data (p->msg, p);
  pending_free (p);
}

static void
on_pending_gone (SoupServerMessage *msg, PpmsPending *p)
{
  pending_forget (p);
}

static gboolean
on_delay_done (gpointer data)
{
  PpmsPending *p = data;
  PpmsServer *server = p->server;
  SoupServerMessage *msg = g_object_ref (p->msg);

  p->timeout_id = 0;
  pending_forget (p);
  route (server, msg);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

/* Kept until it ends or the server stops. */
static PpmsPending *
hold_request (PpmsServer *server, SoupServerMessage *msg)
{
  PpmsPending *p = g_new0 (PpmsPending, 1);

  p->server = server;
  p->msg = g_object_ref (msg);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_pending_gone), p);
  g_signal_connect (msg, "finished", G_CALLBACK (on_pending_gone), p);
  server->pending = g_list_prepend (server->pending, p);
  return p;
}

static void
pause_request (PpmsServer *server, SoupServerMessage *msg, guint delay_ms)
{
  PpmsPending *p = hold_request (server, msg);

  soup_server_message_pause (msg);
  if (delay_ms > 0)
    p->timeout_id = g_timeout_add (delay_ms, on_delay_done, p);
}

/* A transfer that hangs midway: the answer announces its whole length,
 * its first half goes out, and libsoup waits for the rest, which never
 * comes. */
static void
send_half_then_stall (PpmsServer *server, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len = g_bytes_get_size (bytes);

  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg), len);
  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, g_bytes_get_data (bytes, NULL), len / 2);
  hold_request (server, msg);
}

/* Stop: stalled and delayed requests are dropped with their connections. */
void
ppms_http_drop_pending (PpmsServer *server)
{
  while (server->pending != NULL)
    pending_forget (server->pending->data);
}

gboolean
ppms_fault_targets (PpmsServer *server, SoupServerMessage *msg)
{
  const char *agent;

  if (server->fault_target == NULL)
    return TRUE;
  agent = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                        "User-Agent");
  return agent != NULL && strstr (agent, server->fault_target) != NULL;
}

void
ppms_http_reset_pending (PpmsServer *server)
{
  for (GList *l = server->pending; l; l = l->next)
    {
      GSocket *socket = soup_server_message_get_socket (((PpmsPending *) l->data)->msg);

      if (socket != NULL)
        g_socket_shutdown (socket, TRUE, TRUE, NULL);
    }
  ppms_http_drop_pending (server);
}

static gboolean
fault_applies (PpmsServer *server, SoupServerMessage *msg, const char *path)
{
  PpmsHttpFault *f = &server->fault;

  if (f->kind == PPMS_FAULT_NONE || !ppms_fault_targets (server, msg))
    return FALSE;
  if (f->path_match != NULL && strstr (path, f->path_match) == NULL)
    return FALSE;
  if (f->probability >= 1.0)
    return TRUE;
  return f->rand != NULL && g_rand_double (f->rand) < f->probability;
}

static void
remember_connection (PpmsServer *server, SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  const char *user_agent;

  if (socket == NULL || g_hash_table_contains (server->connections, socket))
    return;
  if (g_hash_table_size (server->connections) >= MAX (server->connections_sweep_at, 64))
    {
      /* Forget connections that are gone, so long runs do not accumulate
       * them; the next sweep waits until the set has doubled, so many open
       * connections (benchmarks) cost amortised O(1) per new one. */
      GHashTableIter iter;
      GSocket *known;
      g_hash_table_iter_init (&iter, server->connections);
      while (g_hash_table_iter_next (&iter, (gpointer *) &known, NULL))
        if (g_socket_is_closed (known))
          g_hash_table_iter_remove (&iter);
      server->connections_sweep_at = 2 * g_hash_table_size (server->connections);
    }
  user_agent = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                             "User-Agent");
  g_hash_table_insert (server->connections, g_object_ref (socket),
                       g_strdup (user_agent ? user_agent : ""));
}

static void
count_request (PpmsServer *server, const char *path)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (server->request_counts, path));

  g_hash_table_replace (server->request_counts, g_strdup (path), GUINT_TO_POINTER (count + 1));
}

void
ppms_http_callback (SoupServer *soup, SoupServerMessage *msg, const char *path,
                    GHashTable *query, gpointer user_data)
{
  PpmsServer *server = user_data;

  remember_connection (server, msg);
  count_request (server, path);
  ppms_log_http_request (server, msg);
  if (!fault_applies (server, msg, path))
    {
      route (server, msg);
      return;
    }
  switch (server->fault.kind)
    {
    case PPMS_FAULT_HTTP_500:
      ppms_respond_bytes (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain",
                          "Internal Server Error (injected)\n", 32);
      break;
    case PPMS_FAULT_MALFORMED_JSON:
      ppms_add_cors (msg);
      ppms_respond_bytes (msg, SOUP_STATUS_OK, "application/json", "<html>not json{", 15);
      break;
    case PPMS_FAULT_TRUNCATED_JSON:
      route (server, msg);
      truncate_response (msg);
      break;
    case PPMS_FAULT_STALL:
      pause_request (server, msg, 0);
      break;
    case PPMS_FAULT_DELAY:
      pause_request (server, msg, MAX (server->fault.delay_ms, 1));
      break;
    case PPMS_FAULT_STALL_HALFWAY:
      route (server, msg);
      send_half_then_stall (server, msg);
      break;
    case PPMS_FAULT_500_AFTER_WORK:
      /* The change is made; only its answer is lost on the way. */
      route (server, msg);
      soup_message_body_truncate (soup_server_message_get_response_body (msg));
      ppms_respond_bytes (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain",
                          "Internal Server Error (injected)\n", 32);
      break;
    default:
      route (server, msg);
    }
}

void
ppms_http_shutdown_connections (PpmsServer *server)
{
  GHashTableIter iter;
  GSocket *socket;

  g_hash_table_iter_init (&iter, server->connections);
  while (g_hash_table_iter_next (&iter, (gpointer *) &socket, NULL))
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  g_hash_table_remove_all (server->connections);
}

/* Form fields of a urlencoded or multipart request body (NULL without a form
 * Content-Type). For multipart, the part named file_field (if any) is
 * returned through the out parameters. */
GHashTable *
ppms_form_parse (SoupServerMessage *msg, const char *file_field, char **filename,
                 char **content_type, GBytes **file)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *ct = soup_message_headers_get_content_type (h, NULL);
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));

  if (ct == NULL)
    return NULL;
  if (g_ascii_strcasecmp (ct, "application/x-www-form-urlencoded") == 0)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
      return soup_form_decode (text);
    }
  if (g_ascii_strcasecmp (ct, "multipart/form-data") == 0)
    {
      SoupMultipart *multipart = soup_multipart_new_from_message (h, body);

      /* soup_form_decode_multipart takes the multipart. */
      return multipart ? soup_form_decode_multipart (multipart, file_field, filename, content_type, file) : NULL;
    }
  return NULL;
}
