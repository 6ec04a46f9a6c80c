/* compare-bare.c: the limit the plugin is measured against. A PPMessage agent
 * client on the same libraries (libsoup 3, json-glib, GLib main loop) that
 * does exactly the protocol work and nothing else: the sign-in requests in
 * the library's order (token, login, team, conversation list, websocket,
 * catch-up) and with its page sizes (conversations 100 a page, unacked 50),
 * parsing every answer and frame, the websocket auth, an ACK_MESSAGE for
 * every message (one call per main-loop iteration, as the library batches),
 * sends with their ACK SEND tracked by uuid, and while idle a websocket ping
 * every 30 s and the team list every 60 s. No libpurple, no
 * de-duplication store, no settings, no reconnect.
 *
 * Same command line and output as the other compare-* clients (see
 * compare-common.h); compare.py runs them against one server process.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "compare-common.h"

#define CONVERSATION_PAGE 100   /* PPM_CONVERSATION_PAGE_SIZE */
#define UNACKED_PAGE      50    /* PPM_UNACKED_PAGE_SIZE */
/* What a connected agent must do while idle, as the library does it: a
 * websocket ping every 30 s (a silent connection is otherwise never known
 * dead) and the team list every 60 s (the server pushes no presence). */
#define KEEPALIVE_SECONDS 30
#define TEAM_POLL_SECONDS 60

typedef void (*ApiDone) (JsonObject *answer, gpointer data);

typedef struct {
  CompareRun *run;
  SoupSession *session;
  char *token, *user_uuid, *device_uuid, *app_uuid;
  SoupWebsocketConnection *ws;
  GHashTable *conversation_visitor;   /* conversation uuid -> visitor uuid */
  guint conversation_page;
  gboolean conversations_done, authenticated, unacked_done, failed;
  GPtrArray *acks_due;                /* pids to acknowledge at the next idle */
  guint ack_idle, acks_in_flight;
  GHashTable *sends_pending;          /* message uuid of a send without its ACK SEND */
  guint send_acks;
} Bare;

static void fetch_unacked (Bare *bare);

static void
fail (Bare *bare, const char *what)
{
  if (!bare->failed)
    compare_fail (bare->run, what);
  bare->failed = TRUE;
}

typedef struct {
  Bare *bare;
  ApiDone done;
  gpointer data;
  char *name;
} Call;

static void
on_answer (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *call = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (bytes == NULL
      || !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || json_object_get_int_member_with_default (json_node_get_object (root), "error_code", -1) != 0)
    {
      g_autofree char *what = g_strdup_printf ("%s failed: %s", call->name,
                                               error ? error->message : "error_code");
      fail (call->bare, what);
    }
  else
    call->done (json_node_get_object (root), call->data);
  g_free (call->name);
  g_free (call);
}

static void
post (Bare *bare, const char *path, const char *content_type, char *body, const char *name,
      ApiDone done, gpointer data)
{
  g_autofree char *url = g_strconcat (bare->run->url, path, NULL);
  g_autoptr (SoupMessage) message = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) bytes = g_bytes_new_take (body, strlen (body));
  Call *call = g_new0 (Call, 1);

  call->bare = bare;
  call->done = done;
  call->data = data;
  call->name = g_strdup (name);
  if (bare->token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("OAuth ", bare->token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization",
                                    authorization);
    }
  soup_message_set_request_body_from_bytes (message, content_type, bytes);
  /* Reads and acks reuse kept-alive connections, as the library's do. */
  if (strstr (name, "_GET_") != NULL || strstr (name, "_PAGE_") != NULL
      || g_str_equal (name, "ACK_MESSAGE"))
    soup_message_add_flags (message, SOUP_MESSAGE_IDEMPOTENT);
  soup_session_send_and_read_async (bare->session, message, G_PRIORITY_DEFAULT, NULL, on_answer, call);
}

/* POST /api/NAME with the caller's members plus who is asking. */
static void
api (Bare *bare, const char *name, JsonObject *body, ApiDone done, gpointer data)
{
  g_autofree char *path = g_strconcat ("/api/", name, NULL);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (body, "app_uuid", bare->app_uuid);
  json_object_set_string_member (body, "user_uuid", bare->user_uuid);
  json_object_set_string_member (body, "device_uuid", bare->device_uuid);
  json_node_take_object (node, body);
  post (bare, path, "application/json", json_to_string (node, FALSE), name, done, data);
}

/* ---- Acknowledging ---- */

static void
on_acked (JsonObject *answer, gpointer data)
{
  Bare *bare = data;

  bare->acks_in_flight--;
}

static gboolean
flush_acks (gpointer data)
{
  Bare *bare = data;
  JsonObject *body = json_object_new ();
  JsonArray *list = json_array_new ();

  bare->ack_idle = 0;
  for (guint i = 0; i < bare->acks_due->len; i++)
    json_array_add_string_element (list, g_ptr_array_index (bare->acks_due, i));
  g_ptr_array_set_size (bare->acks_due, 0);
  json_object_set_array_member (body, "list", list);
  bare->acks_in_flight++;
  api (bare, "ACK_MESSAGE", body, on_acked, bare);
  return G_SOURCE_REMOVE;
}

static void
ack_later (Bare *bare, const char *pid)
{
  g_ptr_array_add (bare->acks_due, g_strdup (pid));
  if (bare->ack_idle == 0)
    bare->ack_idle = g_idle_add (flush_acks, bare);
}

/* ---- The websocket ---- */

static void
on_frame (SoupWebsocketConnection *ws, int type, GBytes *bytes, gpointer data)
{
  Bare *bare = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *frame;
  const char *kind;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  frame = json_node_get_object (json_parser_get_root (parser));
  kind = json_object_get_string_member_with_default (frame, "type", "");
  if (g_str_equal (kind, "MSG"))
    {
      JsonObject *msg = json_object_get_object_member (frame, "msg");
      const char *pid = msg ? json_object_get_string_member_with_default (msg, "pid", NULL) : NULL;

      if (msg == NULL || pid == NULL)
        return;
      compare_shown (bare->run, json_object_get_string_member_with_default (msg, "bo", ""));
      ack_later (bare, pid);
    }
  else if (g_str_equal (kind, "ACK"))
    {
      const char *what = json_object_get_string_member_with_default (frame, "what", "");
      gint64 code = json_object_get_int_member_with_default (frame, "code", -1);
      JsonObject *extra = json_object_get_member (frame, "extra")
                          && JSON_NODE_HOLDS_OBJECT (json_object_get_member (frame, "extra"))
                            ? json_object_get_object_member (frame, "extra") : NULL;

      if (g_str_equal (what, "AUTH"))
        {
          if (code != 0)
            fail (bare, "websocket auth refused");
          bare->authenticated = TRUE;
          fetch_unacked (bare);
        }
      else if (g_str_equal (what, "SEND") && extra != NULL
               && g_hash_table_remove (bare->sends_pending,
                                       json_object_get_string_member_with_default (extra, "uuid", "")))
        {
          if (code != 0)
            fail (bare, "a send was refused");
          compare_send_acked (bare->run);
        }
    }
}

static void
on_ws_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Bare *bare = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  bare->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (bare->ws == NULL)
    {
      fail (bare, error->message);
      return;
    }
  soup_websocket_connection_set_keepalive_interval (bare->ws, KEEPALIVE_SECONDS);
  g_signal_connect (bare->ws, "message", G_CALLBACK (on_frame), bare);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "auth");
  json_builder_set_member_name (builder, "api_token");
  json_builder_add_string_value (builder, bare->token);
  json_builder_set_member_name (builder, "app_uuid");
  json_builder_add_string_value (builder, bare->app_uuid);
  json_builder_set_member_name (builder, "user_uuid");
  json_builder_add_string_value (builder, bare->user_uuid);
  json_builder_set_member_name (builder, "device_uuid");
  json_builder_add_string_value (builder, bare->device_uuid);
  json_builder_set_member_name (builder, "is_service_user");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  soup_websocket_connection_send_text (bare->ws, text);
}

/* In the library's order: the team and the conversation list first, then
 * the websocket, then (at its AUTH ack) the catch-up. */
static void
open_websocket (Bare *bare)
{
  g_autofree char *ws_url = g_strconcat ("ws", bare->run->url + strlen ("http"), "/pcsocket/WS", NULL);
  g_autoptr (SoupMessage) upgrade = soup_message_new (SOUP_METHOD_GET, ws_url);

  soup_session_websocket_connect_async (bare->session, upgrade, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, on_ws_connected, bare);
}

/* ---- Catch-up: the unacked list, page 0 until it is empty ---- */

static void
on_unacked_acked (JsonObject *answer, gpointer data)
{
  fetch_unacked (data);
}

/* Acked pushes leave the list, so page 0 always holds the next ones. */
static void
on_unacked_page (JsonObject *answer, gpointer data)
{
  Bare *bare = data;
  JsonArray *list = json_object_has_member (answer, "list") ? json_object_get_array_member (answer, "list") : NULL;
  JsonObject *messages = json_object_has_member (answer, "message")
                         && JSON_NODE_HOLDS_OBJECT (json_object_get_member (answer, "message"))
                           ? json_object_get_object_member (answer, "message") : NULL;
  guint length = list ? json_array_get_length (list) : 0;
  JsonObject *body;
  JsonArray *acks;

  if (length == 0)
    {
      bare->unacked_done = TRUE;
      return;
    }
  acks = json_array_new ();
  for (guint i = 0; i < length; i++)
    {
      const char *pid = json_array_get_string_element (list, i);
      const char *compact = messages ? json_object_get_string_member_with_default (messages, pid, NULL) : NULL;
      g_autoptr (JsonParser) parser = json_parser_new ();

      if (compact != NULL && json_parser_load_from_data (parser, compact, -1, NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        compare_shown (bare->run, json_object_get_string_member_with_default (
                                    json_node_get_object (json_parser_get_root (parser)), "bo", ""));
      json_array_add_string_element (acks, pid);
    }
  body = json_object_new ();
  json_object_set_array_member (body, "list", acks);
  api (bare, "ACK_MESSAGE", body, on_unacked_acked, bare);
}

static void
fetch_unacked (Bare *bare)
{
  JsonObject *body = json_object_new ();

  json_object_set_int_member (body, "page_offset", 0);
  json_object_set_int_member (body, "page_size", UNACKED_PAGE);
  api (bare, "PP_PAGE_UNACKED_MESSAGE", body, on_unacked_page, bare);
}

/* ---- The team and the conversation list ---- */

static void fetch_conversations (Bare *bare);

static void
on_conversation_page (JsonObject *answer, gpointer data)
{
  Bare *bare = data;
  JsonArray *list = json_object_get_array_member (answer, "list");
  gint64 total = json_object_get_int_member_with_default (answer, "total_count", 0);

  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *item = json_array_get_object_element (list, i);
      JsonObject *from = json_object_has_member (item, "from_user")
                         && JSON_NODE_HOLDS_OBJECT (json_object_get_member (item, "from_user"))
                           ? json_object_get_object_member (item, "from_user") : NULL;
      const char *uuid = json_object_get_string_member_with_default (item, "uuid", NULL);
      const char *visitor = json_object_get_string_member_with_default (item, "user_uuid", NULL);

      /* The buddy's name comes from from_user, as the library takes it. */
      if (from != NULL)
        (void) json_object_get_string_member_with_default (from, "user_fullname", NULL);
      if (uuid != NULL && visitor != NULL)
        g_hash_table_replace (bare->conversation_visitor, g_strdup (uuid), g_strdup (visitor));
    }
  bare->conversation_page++;
  if ((gint64) bare->conversation_page * CONVERSATION_PAGE < total)
    {
      fetch_conversations (bare);
      return;
    }
  bare->conversations_done = TRUE;
  compare_set_buddies (bare->run, g_hash_table_size (bare->conversation_visitor));
  open_websocket (bare);
}

static void
fetch_conversations (Bare *bare)
{
  JsonObject *body = json_object_new ();

  json_object_set_int_member (body, "page_offset", bare->conversation_page);
  json_object_set_int_member (body, "page_size", CONVERSATION_PAGE);
  api (bare, "PP_PAGE_USER_CONVERSATION", body, on_conversation_page, bare);
}

static void
on_team (JsonObject *answer, gpointer data)
{
}

static gboolean
poll_team (gpointer data)
{
  Bare *bare = data;

  api (bare, "PP_GET_APP_SERVICE_USER_LIST", json_object_new (), on_team, bare);
  return G_SOURCE_CONTINUE;
}

static void
on_login (JsonObject *answer, gpointer data)
{
  Bare *bare = data;
  JsonObject *app = json_object_get_object_member (answer, "app");

  bare->user_uuid = g_strdup (json_object_get_string_member (answer, "uuid"));
  bare->device_uuid = g_strdup (json_object_get_string_member (answer, "browser_device_uuid"));
  bare->app_uuid = g_strdup (json_object_get_string_member (app, "uuid"));
  api (bare, "PP_GET_APP_SERVICE_USER_LIST", json_object_new (), on_team, bare);
  g_timeout_add_seconds (TEAM_POLL_SECONDS, poll_team, bare);
  fetch_conversations (bare);
}

static void
on_token (JsonObject *answer, gpointer data)
{
  Bare *bare = data;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *body = json_object_new ();

  bare->token = g_strdup (json_object_get_string_member (answer, "access_token"));
  json_object_set_string_member (body, "terminal", "compare-bare");
  json_object_set_string_member (body, "user_email", bare->run->email);
  json_object_set_string_member (body, "ostype", "LIN");
  json_object_set_string_member (body, "device_fullname", "compare-bare");
  json_node_take_object (node, body);
  post (bare, "/api/PPKEFU_LOGIN", "application/json", json_to_string (node, FALSE),
        "PPKEFU_LOGIN", on_login, bare);
}

/* ---- What compare-common drives ---- */

static void
bare_sign_in (gpointer data)
{
  Bare *bare = data;
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, bare->run->password, -1);
  char *form = soup_form_encode ("grant_type", "password", "user_email", bare->run->email,
                                 "user_password", hash, "client_id", bare->run->key, NULL);

  post (bare, "/ppauth/token", "application/x-www-form-urlencoded", form, "token", on_token, bare);
}

static gboolean
bare_signed_in (gpointer data)
{
  Bare *bare = data;

  return bare->conversations_done && bare->unacked_done && bare->acks_in_flight == 0
         && bare->ack_idle == 0;
}

static gboolean
bare_acked_all (gpointer data)
{
  Bare *bare = data;

  return bare->acks_in_flight == 0 && bare->ack_idle == 0;
}

static guint
bare_send (gpointer data, guint count)
{
  Bare *bare = data;
  g_autoptr (GList) conversations = g_hash_table_get_keys (bare->conversation_visitor);
  GList *next = conversations;

  if (conversations == NULL)
    return 0;
  for (guint i = 0; i < count; i++, next = next->next ? next->next : conversations)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      g_autofree char *text = g_strdup_printf ("agent text %u", i);
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *frame = NULL;

#define MEMBER(name, value) \
  (json_builder_set_member_name (builder, name), json_builder_add_string_value (builder, value))
      json_builder_begin_object (builder);
      MEMBER ("type", "send");
      json_builder_set_member_name (builder, "send");
      json_builder_begin_object (builder);
      MEMBER ("uuid", uuid);
      MEMBER ("app_uuid", bare->app_uuid);
      MEMBER ("conversation_uuid", next->data);
      MEMBER ("conversation_type", "S2P");
      MEMBER ("message_type", "NOTI");
      MEMBER ("message_subtype", "TEXT");
      MEMBER ("message_body", text);
      MEMBER ("from_uuid", bare->user_uuid);
      MEMBER ("from_type", "DU");
      MEMBER ("device_uuid", bare->device_uuid);
      MEMBER ("to_uuid", g_hash_table_lookup (bare->conversation_visitor, next->data));
      MEMBER ("to_type", "DU");
      json_builder_end_object (builder);
      json_builder_end_object (builder);
#undef MEMBER
      root = json_builder_get_root (builder);
      frame = json_to_string (root, FALSE);
      g_hash_table_add (bare->sends_pending, g_steal_pointer (&uuid));
      soup_websocket_connection_send_text (bare->ws, frame);
    }
  return count;
}

static void
on_logged_out (JsonObject *answer, gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
bare_sign_out (gpointer data)
{
  Bare *bare = data;
  gboolean done = FALSE;

  api (bare, "PPKEFU_LOGOUT", json_object_new (), on_logged_out, &done);
  bench_wait_flag (&done, 10000);
  if (bare->ws != NULL)
    soup_websocket_connection_close (bare->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

int
main (int argc, char **argv)
{
  CompareRun *run = compare_run_new (&argc, &argv, "bare");
  Bare bare = { .run = run };
  static const CompareClient client = {
    .sign_in = bare_sign_in, .signed_in = bare_signed_in, .acked_all = bare_acked_all,
    .send = bare_send, .sign_out = bare_sign_out,
  };

  if (run == NULL)
    return 2;
  bare.session = soup_session_new_with_options ("max-conns", 12, "max-conns-per-host", 6, NULL);
  bare.conversation_visitor = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  bare.acks_due = g_ptr_array_new_with_free_func (g_free);
  bare.sends_pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return compare_run_main (run, &client, &bare);
}
