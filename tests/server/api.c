/* api.c: the /api/<NAME> envelope of protocol 1.4: method, content type, JSON,
 * token, levels and app_uuid checks, error strings, CORS and crashes.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

static const char *const error_strings[] = {
  "success.", "request not json.", "no required UUIDs.", "no such access token.",
  "wrong access token.", "session timeout or already logout.",
  "required parameter not provided.", "no such user", "no such device",
  "no such enterprise user", "password mismatch.", "no such push task.", "no such push item.",
  "no such application.", "no such file.", "no such material.", "illegal message.",
  "system error.", "no such object", "wrong signal.", "no such permission.", "no such action.",
  "user already exited.", "group has no leader so far.", "verify code error.", "device existed.",
  "no such conversation", "contact existed.", "wrong type of para.",
  "not portal user of PPMESSAGE.", "no such org group.",
  "parameter is not a list, but list is required.", "user not in this group", "can not update",
  "no service user for the portal user.", "no conversation member.",
  "wrong conversation type.", "group user has been in this covnersation.",
  "user is the owner of app.", "user is not the owner of app.", "app not has this user.",
  "page offset is too large.", "should not provide max_uuid and min_uuid in the same time.",
  "user is not a admin user.", "invalid value of para.", "no such table",
};

const char *
ppms_error_string (int code)
{
  if (code < 0 || code >= (int) G_N_ELEMENTS (error_strings))
    return "no such error";
  return error_strings[code];
}

static void
endpoint_free (PpmsApiEndpoint *e)
{
  g_free (e->name);
  g_strfreev (e->levels);
  g_free (e);
}

void
ppms_api_init (PpmsServer *server)
{
  server->api_handlers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                (GDestroyNotify) endpoint_free);
}

void
ppms_api_register (PpmsServer *server, const char *name, const char *levels,
                   gboolean needs_app_uuid, PpmsApiHandler handler)
{
  PpmsApiEndpoint *e = g_new0 (PpmsApiEndpoint, 1);

  e->name = g_strdup (name);
  e->levels = g_strsplit (levels ? levels : "", ",", -1);
  e->needs_app_uuid = needs_app_uuid;
  e->handler = handler;
  g_hash_table_replace (server->api_handlers, e->name, e);
}

static gboolean
level_allowed (PpmsApiEndpoint *e, const char *level)
{
  return level != NULL && g_strv_contains ((const char *const *) e->levels, level);
}

/* The uri member: the request path and query as received. */
static char *
request_uri (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);

  return query ? g_strdup_printf ("%s?%s", g_uri_get_path (uri), query) : g_strdup (g_uri_get_path (uri));
}

static void
answer_envelope (PpmsServer *server, SoupServerMessage *msg, int code, JsonObject *data)
{
  g_autoptr (JsonObject) o = json_object_new ();
  g_autofree char *uri = request_uri (msg);

  json_object_set_string_member (o, "uri", uri);
  json_object_set_int_member (o, "error_code", code);
  json_object_set_string_member (o, "error_string", ppms_error_string (code));
  if (data != NULL)
    {
      GList *members = json_object_get_members (data);
      for (GList *l = members; l; l = l->next)
        if (!json_object_has_member (o, l->data))
          json_object_set_member (o, l->data, json_node_copy (json_object_get_member (data, l->data)));
      g_list_free (members);
    }
  ppms_respond_json (msg, SOUP_STATUS_OK, o, TRUE);
}

static gboolean
content_type_is_json (SoupServerMessage *msg)
{
  const char *ct = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                 "Content-Type");
  g_autofree char *lower = ct ? g_ascii_strdown (ct, -1) : NULL;

  return lower != NULL && strstr (lower, "application/json") != NULL;
}

/* "OAuth <token>": split on single spaces, exactly two parts. */
static char *
oauth_token (SoupServerMessage *msg)
{
  const char *value = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_auto (GStrv) parts = value ? g_strsplit (value, " ", -1) : NULL;

  if (parts == NULL || g_strv_length (parts) != 2 || g_ascii_strcasecmp (parts[0], "oauth") != 0)
    return NULL;
  return g_strdup (parts[1]);
}

static JsonNode *
parse_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len == 0 || !json_parser_load_from_data (parser, data, (gssize) len, NULL))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static void
run_handler (PpmsServer *server, SoupServerMessage *msg, PpmsApiEndpoint *e,
             JsonObject *body, PpmsToken *token)
{
  PpmsApiCall call = { 0 };

  call.server = server;
  call.msg = msg;
  call.name = e->name;
  call.body = body;
  call.token = token;
  call.reply = json_object_new ();
  e->handler (&call);
  if (call.drop_connection)
    {
      GSocket *socket = soup_server_message_get_socket (msg);
      if (socket != NULL)
        g_socket_shutdown (socket, TRUE, TRUE, NULL);
      ppms_respond_bytes (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain", "", 0);
    }
  else if (call.crash != NULL)
    {
      g_autofree char *file = g_ascii_strdown (e->name, -1);
      ppms_respond_traceback (msg, file, call.crash);
    }
  else
    answer_envelope (server, msg, call.error_code, call.reply);
  g_free (call.crash);
  json_object_unref (call.reply);
}

void
ppms_api_dispatch (PpmsServer *server, SoupServerMessage *msg, const char *name)
{
  PpmsApiEndpoint *e = g_hash_table_lookup (server->api_handlers, name);
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *token_text = NULL;
  PpmsToken *token;

  if (e == NULL)
    {
      ppms_respond_html_error (msg, SOUP_STATUS_NOT_FOUND);
      return;
    }
  if (g_str_equal (method, "OPTIONS"))
    {
      ppms_add_cors (msg);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      return;
    }
  if (g_str_equal (method, "GET"))
    {
      answer_envelope (server, msg, PPMS_ERR_NO_JSON, NULL);
      return;
    }
  if (!g_str_equal (method, "POST"))
    {
      ppms_respond_html_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
      return;
    }
  if (!content_type_is_json (msg) || (root = parse_body (msg)) == NULL)
    {
      answer_envelope (server, msg, PPMS_ERR_NO_JSON, NULL);
      return;
    }
  if ((token_text = oauth_token (msg)) == NULL)
    {
      answer_envelope (server, msg, PPMS_ERR_NO_ACCESS_TOKEN, NULL);
      return;
    }
  token = ppms_token_lookup (server, token_text);
  if (token == NULL || !level_allowed (e, token->level))
    {
      answer_envelope (server, msg, PPMS_ERR_WRONG_ACCESS_TOKEN, NULL);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      /* A JSON value that is not an object: the first .get() raises. */
      ppms_respond_traceback (msg, "basehandler", "AttributeError: 'list' object has no attribute 'get'");
      return;
    }
  if (e->needs_app_uuid && !ppms_json_has_nonnull (json_node_get_object (root), "app_uuid"))
    {
      answer_envelope (server, msg, PPMS_ERR_WRONG_ACCESS_TOKEN, NULL);
      return;
    }
  run_handler (server, msg, e, json_node_get_object (root), token);
}

/* ---- Helpers for handlers ---- */

void
ppms_call_crash (PpmsApiCall *call, const char *final_line)
{
  g_free (call->crash);
  call->crash = g_strdup (final_line);
}

/* Requires non-empty string members; sets error 6 and returns FALSE if one is missing. */
gboolean
ppms_call_require (PpmsApiCall *call, ...)
{
  va_list ap;
  const char *name;
  gboolean ok = TRUE;

  va_start (ap, call);
  while ((name = va_arg (ap, const char *)) != NULL)
    if (ppms_json_get_nonempty (call->body, name) == NULL)
      ok = FALSE;
  va_end (ap);
  if (!ok)
    call->error_code = PPMS_ERR_NO_PARA;
  return ok;
}

const char *
ppms_call_string (PpmsApiCall *call, const char *name)
{
  return ppms_json_get_nonempty (call->body, name);
}
