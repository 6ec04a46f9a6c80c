/* log.c: the exchange log of the test server: every HTTP request and answer
 * and every websocket frame in and out, in the order the server saw them,
 * each tagged with its TCP connection and the client that sent it. Tests
 * assert on it the way ../shared/protocol/transcripts/INDEX.md reads, so a
 * step is shown to have made exactly these requests and nothing else,
 * instead of sleeping to see whether something more comes.
 *
 * Off by default: the scale tests push 200,000 messages, and a line per
 * frame would cost them memory and time. A switched-on log is bounded too.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-messaging.h"

/* A runaway test (a client that loops) fails with a clear word instead of
 * filling memory; no test's step comes near it. */
#define LOG_LIMIT 100000

struct _PpmsLog {
  gboolean on;
  GPtrArray *entries;          /* PpmsLogEntry*, oldest first */
  gboolean overflowed;
  guint last_connection;       /* connection numbers given so far */
};

/* Kept on a connection's GSocket and websocket: qdata dies with the
 * object, so a new socket at a reused address never inherits a number. */
#define CONNECTION_KEY "ppms-log-connection"
#define ACTOR_KEY "ppms-log-actor"
#define REQUEST_KEY "ppms-log-request"

void
ppms_log_entry_free (PpmsLogEntry *entry)
{
  g_free (entry->actor);
  g_free (entry->name);
  g_free (entry->line);
  g_clear_pointer (&entry->body, json_object_unref);
  g_free (entry);
}

static void
log_clear (PpmsLog *log)
{
  g_ptr_array_unref (log->entries);
}

/* Reference-counted: a request whose answer is still to come holds the log,
 * so an answer written (or dropped) after the server is gone finds it. */
static PpmsLog *
log_get (PpmsServer *server)
{
  if (server->log == NULL)
    {
      server->log = g_rc_box_new0 (PpmsLog);
      server->log->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ppms_log_entry_free);
    }
  return server->log;
}

void
ppms_log_free (PpmsServer *server)
{
  if (server->log == NULL)
    return;
  server->log->on = FALSE;
  g_rc_box_release_full (g_steal_pointer (&server->log), (GDestroyNotify) log_clear);
}

gboolean
ppms_log_is_on (PpmsServer *server)
{
  return server->log != NULL && server->log->on;
}

void
ppms_server_set_logging (PpmsServer *server, gboolean on)
{
  PpmsLog *log = log_get (server);

  log->on = on;
  g_ptr_array_set_size (log->entries, 0);
  log->overflowed = FALSE;
}

GPtrArray *
ppms_server_take_log (PpmsServer *server)
{
  PpmsLog *log = log_get (server);
  GPtrArray *taken = log->entries;

  if (log->overflowed)
    g_error ("the test server's exchange log passed %u entries: take it more often", LOG_LIMIT);
  log->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ppms_log_entry_free);
  return taken;
}

/* ---- Identity of a connection ---- */

static guint
connection_number (PpmsLog *log, GObject *holder)
{
  guint number = GPOINTER_TO_UINT (g_object_get_data (holder, CONNECTION_KEY));

  if (number == 0)
    {
      number = ++log->last_connection;
      g_object_set_data (holder, CONNECTION_KEY, GUINT_TO_POINTER (number));
    }
  return number;
}

/* The product named first in the User-Agent ("purple-ppmessage/1.0
 * libsoup/3.2" -> "purple-ppmessage"); "" when the client sends none. */
static char *
actor_of (SoupServerMessage *msg)
{
  const char *agent = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "User-Agent");

  if (agent == NULL)
    return g_strdup ("");
  return g_strndup (agent, strcspn (agent, "/ "));
}

/* ---- Adding entries ---- */

static void
add_entry (PpmsLog *log, guint connection, const char *actor, PpmsLogKind kind,
           const char *name, char *line, JsonObject *body)
{
  PpmsLogEntry *entry;

  if (!log->on)
    {
      g_free (line);
      g_clear_pointer (&body, json_object_unref);
      return;
    }
  if (log->entries->len >= LOG_LIMIT)
    {
      log->overflowed = TRUE;
      g_free (line);
      g_clear_pointer (&body, json_object_unref);
      return;
    }
  entry = g_new0 (PpmsLogEntry, 1);
  entry->connection = connection;
  entry->actor = g_strdup (actor);
  entry->kind = kind;
  entry->name = g_strdup (name);
  entry->line = line;
  entry->body = body;
  g_ptr_array_add (log->entries, entry);
}

static JsonObject *
parse_object (const char *data, gsize size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (data == NULL || !json_parser_load_from_data (parser, data, size, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* A request body as an object: JSON as it is, a form as string members. */
static JsonObject *
request_body (SoupServerMessage *msg)
{
  g_autoptr (GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  GHashTable *form = ppms_form_parse (msg, NULL, NULL, NULL, NULL);
  JsonObject *object;
  GHashTableIter iter;
  gpointer key, value;

  if (form == NULL)
    return parse_object (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  object = json_object_new ();
  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_string_member (object, key, value);
  g_hash_table_unref (form);
  return object;
}

/* "error_code=0" when the answer has one, else its keys, else "(text)". */
static char *
answer_summary (JsonObject *body)
{
  g_autoptr (GList) names = NULL;
  GString *keys;

  if (body == NULL)
    return g_strdup ("(text)");
  if (json_object_has_member (body, "error_code")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (body, "error_code")))
    return g_strdup_printf ("error_code=%" G_GINT64_FORMAT,
                            json_object_get_int_member (body, "error_code"));
  names = g_list_sort (json_object_get_members (body), (GCompareFunc) strcmp);
  keys = g_string_new ("keys=");
  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (keys, "%s%s", l == names ? "" : ",", (char *) l->data);
  return g_string_free (keys, FALSE);
}

typedef struct {
  PpmsLog *log;              /* a reference */
  guint connection;
  char *actor;
  char *path;
  gboolean answered;
} LoggedRequest;

static void
logged_request_free (LoggedRequest *request)
{
  g_rc_box_release_full (request->log, (GDestroyNotify) log_clear);
  g_free (request->actor);
  g_free (request->path);
  g_free (request);
}

static void
log_answer (SoupServerMessage *msg, LoggedRequest *request)
{
  guint status = soup_server_message_get_status (msg);
  g_autoptr (GBytes) bytes = NULL;
  JsonObject *body;
  g_autofree char *summary = NULL;

  if (request->answered)
    return;
  request->answered = TRUE;
  bytes = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  body = parse_object (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  summary = answer_summary (body);
  add_entry (request->log, request->connection, request->actor, PPMS_LOG_HTTP_ANSWER,
             request->path, g_strdup_printf ("<- %u %s %s", status, request->path, summary),
             body);
}

/* The connection went before an answer was written (a stalled request at
 * stop(), or a dropped connection). */
static void
log_no_answer (SoupServerMessage *msg, LoggedRequest *request)
{
  if (request->answered)
    return;
  request->answered = TRUE;
  add_entry (request->log, request->connection, request->actor, PPMS_LOG_HTTP_ANSWER,
             request->path, g_strdup_printf ("<- none %s (connection closed)", request->path),
             NULL);
}

void
ppms_log_http_request (PpmsServer *server, SoupServerMessage *msg)
{
  LoggedRequest *request;
  GSocket *socket = soup_server_message_get_socket (msg);
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const char *name = g_str_has_prefix (path, "/api/") ? path + strlen ("/api/") : path;

  if (!ppms_log_is_on (server))
    return;
  request = g_new0 (LoggedRequest, 1);
  request->log = g_rc_box_acquire (server->log);
  request->connection = socket != NULL ? connection_number (server->log, G_OBJECT (socket)) : 0;
  request->actor = actor_of (msg);
  request->path = g_strdup (path);
  add_entry (server->log, request->connection, request->actor, PPMS_LOG_HTTP_REQUEST, name,
             g_strdup_printf ("-> %s %s", soup_server_message_get_method (msg), path),
             request_body (msg));
  g_object_set_data_full (G_OBJECT (msg), REQUEST_KEY, request,
                          (GDestroyNotify) logged_request_free);
  g_signal_connect (msg, "finished", G_CALLBACK (log_answer), request);
  g_signal_connect (msg, "disconnected", G_CALLBACK (log_no_answer), request);
}

/* ---- Websocket ---- */

void
ppms_log_ws_open (PpmsServer *server, SoupServerMessage *msg, SoupWebsocketConnection *conn)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  guint connection;

  /* Numbered and named even while the log is off: a test may switch it on
   * with the socket already open. One number and one string a socket. */
  connection = connection_number (log_get (server),
                                  socket != NULL ? G_OBJECT (socket) : G_OBJECT (conn));
  g_object_set_data (G_OBJECT (conn), CONNECTION_KEY, GUINT_TO_POINTER (connection));
  g_object_set_data_full (G_OBJECT (conn), ACTOR_KEY, actor_of (msg), g_free);
  if (ppms_log_is_on (server))
    add_entry (server->log, connection, g_object_get_data (G_OBJECT (conn), ACTOR_KEY),
               PPMS_LOG_WS_OPEN, "ws_open", g_strdup ("ws_open 101"), NULL);
}

static const char *
actor_of_socket (PpmsSocket *socket)
{
  const char *actor = g_object_get_data (G_OBJECT (socket->conn), ACTOR_KEY);

  return actor != NULL ? actor : "";
}

/* A member as the transcripts' index prints it: Python's None when absent. */
static const char *
shown_member (JsonObject *object, const char *name)
{
  const char *value = object != NULL ? ppms_json_get_string (object, name) : NULL;

  return value != NULL ? value : "None";
}

/* "ACK what=AUTH code=0", "MSG mt=NOTI ms=TEXT ct=P2S", "send ms=TEXT ct=S2P",
 * "auth": the frame type as sent and the fields that tell frames apart. */
static char *
frame_summary (JsonObject *frame, const char **type_out)
{
  JsonNode *type_node = frame != NULL ? json_object_get_member (frame, "type") : NULL;
  const char *type;

  *type_out = "<raw text frame>";
  if (frame == NULL)
    return g_strdup (*type_out);
  if (type_node == NULL || !JSON_NODE_HOLDS_VALUE (type_node)
      || json_node_get_value_type (type_node) != G_TYPE_STRING)
    {
      *type_out = "<no type>";
      return g_strdup (*type_out);
    }
  type = *type_out = json_node_get_string (type_node);
  if (strcmp (type, "ACK") == 0)
    return g_strdup_printf ("ACK what=%s code=%" G_GINT64_FORMAT, shown_member (frame, "what"),
                            json_object_get_int_member_with_default (frame, "code", -1));
  if (strcmp (type, "MSG") == 0)
    {
      JsonObject *msg = ppms_json_has_nonnull (frame, "msg")
                        && JSON_NODE_HOLDS_OBJECT (json_object_get_member (frame, "msg"))
                        ? json_object_get_object_member (frame, "msg") : NULL;

      return g_strdup_printf ("MSG mt=%s ms=%s ct=%s", shown_member (msg, "mt"),
                              shown_member (msg, "ms"), shown_member (msg, "ct"));
    }
  if (g_ascii_strcasecmp (type, "send") == 0)
    {
      JsonObject *send = ppms_json_has_nonnull (frame, "send")
                         && JSON_NODE_HOLDS_OBJECT (json_object_get_member (frame, "send"))
                         ? json_object_get_object_member (frame, "send") : NULL;

      return g_strdup_printf ("%s ms=%s ct=%s", type, shown_member (send, "message_subtype"),
                              shown_member (send, "conversation_type"));
    }
  return g_strdup (type);
}

void
ppms_log_ws_frame (PpmsSocket *socket, gboolean from_client, const char *text, gsize size)
{
  PpmsServer *server = socket->server;
  JsonObject *frame;
  const char *type;
  g_autofree char *summary = NULL;

  if (!ppms_log_is_on (server))
    return;
  frame = parse_object (text, size);
  summary = frame_summary (frame, &type);
  add_entry (server->log, connection_number (server->log, G_OBJECT (socket->conn)),
             actor_of_socket (socket), from_client ? PPMS_LOG_WS_IN : PPMS_LOG_WS_OUT, type,
             g_strdup_printf ("%s ws %s", from_client ? "=>" : "<=", summary), frame);
}

void
ppms_log_ws_close (PpmsSocket *socket, const char *by)
{
  PpmsServer *server = socket->server;

  if (!ppms_log_is_on (server))
    return;
  add_entry (server->log, connection_number (server->log, G_OBJECT (socket->conn)),
             actor_of_socket (socket), PPMS_LOG_WS_CLOSE, "ws_close",
             g_strdup_printf ("ws_close %s", by), NULL);
}

/* ---- Assertions ---- */

static gboolean
entry_is_of (PpmsLogEntry *entry, const char *actor)
{
  return actor == NULL || strcmp (entry->actor, actor) == 0;
}

guint
ppms_server_log_count (PpmsServer *server, const char *actor, const char *pattern)
{
  guint count = 0;

  if (server->log == NULL)
    return 0;
  for (guint i = 0; i < server->log->entries->len; i++)
    {
      PpmsLogEntry *entry = server->log->entries->pdata[i];

      if (entry_is_of (entry, actor) && g_pattern_match_simple (pattern, entry->line))
        count++;
    }
  return count;
}

guint
ppms_log_remove (GPtrArray *log, const char *actor, const char *pattern)
{
  guint removed = 0;

  for (guint i = log->len; i-- > 0;)
    {
      PpmsLogEntry *entry = log->pdata[i];

      if (entry_is_of (entry, actor) && g_pattern_match_simple (pattern, entry->line))
        {
          g_ptr_array_remove_index (log, i);
          removed++;
        }
    }
  return removed;
}

/* A line-by-line diff of the patterns against the lines seen (longest
 * common subsequence, both are short): "  " matched, "- " expected and not
 * seen, "+ " seen and not expected. */
static char *
render_diff (GPtrArray *patterns, GPtrArray *seen)
{
  guint n = patterns->len, m = seen->len;
  guint *lcs = g_new0 (guint, (n + 1) * (m + 1));
  GString *out = g_string_new (NULL);
  guint i = 0, j = 0;

#define LCS(a, b) lcs[(a) * (m + 1) + (b)]
  for (guint a = n; a-- > 0;)
    for (guint b = m; b-- > 0;)
      {
        PpmsLogEntry *entry = seen->pdata[b];

        LCS (a, b) = g_pattern_match_simple (patterns->pdata[a], entry->line)
                     ? LCS (a + 1, b + 1) + 1 : MAX (LCS (a + 1, b), LCS (a, b + 1));
      }
  while (i < n || j < m)
    {
      PpmsLogEntry *entry = j < m ? seen->pdata[j] : NULL;

      if (i < n && j < m && g_pattern_match_simple (patterns->pdata[i], entry->line)
          && LCS (i, j) == LCS (i + 1, j + 1) + 1)
        {
          g_string_append_printf (out, "    #%-3u %s\n", entry->connection, entry->line);
          i++, j++;
        }
      else if (j < m && (i == n || LCS (i, j + 1) >= LCS (i + 1, j)))
        {
          g_string_append_printf (out, "  + #%-3u %s\n", entry->connection, entry->line);
          j++;
        }
      else
        {
          g_string_append_printf (out, "  -      %s\n", (char *) patterns->pdata[i]);
          i++;
        }
    }
#undef LCS
  g_free (lcs);
  return g_string_free (out, FALSE);
}

void
ppms_assert_log_ (GPtrArray *log, const char *actor, const char *const *patterns,
                  const char *file, int line, const char *func)
{
  g_autoptr (GPtrArray) expected = g_ptr_array_new ();
  g_autoptr (GPtrArray) seen = g_ptr_array_new ();
  gboolean same;

  for (const char *const *p = patterns; *p != NULL; p++)
    g_ptr_array_add (expected, (gpointer) *p);
  for (guint i = 0; i < log->len; i++)
    if (entry_is_of (log->pdata[i], actor))
      g_ptr_array_add (seen, log->pdata[i]);
  same = expected->len == seen->len;
  for (guint i = 0; same && i < seen->len; i++)
    same = g_pattern_match_simple (expected->pdata[i], ((PpmsLogEntry *) seen->pdata[i])->line);
  if (!same)
    {
      g_autofree char *diff = render_diff (expected, seen);
      g_autofree char *message = g_strdup_printf (
        "the exchange of %s is not the one expected (- expected, not seen; + seen, not "
        "expected; #N: the connection):\n%s", actor ? actor : "every client", diff);

      g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
    }
}

void
ppms_assert_exchange_ (PpmsServer *server, const char *actor, const char *const *patterns,
                       const char *file, int line, const char *func)
{
  g_autoptr (GPtrArray) log = ppms_server_take_log (server);

  ppms_assert_log_ (log, actor, patterns, file, line, func);
}
