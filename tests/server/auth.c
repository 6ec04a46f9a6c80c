/* auth.c: the token endpoint /ppauth/token (protocol 2.3), with the real
 * server's answer shapes: {"error_code": -1} for password failures, HTML 400
 * for client_credentials failures, no error_code on client_credentials success.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppms-internal.h"

static void
answer_token_json (SoupServerMessage *msg, JsonObject *o)
{
  ppms_respond_json (msg, SOUP_STATUS_OK, o, TRUE);
}

static void
password_failure (SoupServerMessage *msg)
{
  g_autoptr (JsonObject) o = json_object_new ();
  json_object_set_int_member (o, "error_code", -1);
  answer_token_json (msg, o);
}

static void
grant_password (PpmsServer *server, SoupServerMessage *msg, GHashTable *form)
{
  const char *client_id = g_hash_table_lookup (form, "client_id");
  const char *email = g_hash_table_lookup (form, "user_email");
  const char *password = g_hash_table_lookup (form, "user_password");
  g_autoptr (JsonObject) o = NULL;
  PpmsApiKey *key;
  PpmsUser *user;
  PpmsToken *token;

  if (client_id == NULL || email == NULL)
    {
      ppms_respond_traceback (msg, "../../ppauth/tokenhandler", "KeyError: 'client_id'");
      return;
    }
  key = ppms_api_key_lookup (server, client_id);
  user = ppms_user_lookup_by_email (server, email);
  if (key == NULL || (g_strcmp0 (key->level, "PPKEFU") != 0 && g_strcmp0 (key->level, "PPCONSOLE") != 0)
      || user == NULL || password == NULL || g_strcmp0 (user->user_password, password) != 0)
    {
      password_failure (msg);
      return;
    }
  token = ppms_token_issue (server, key, key->level);
  o = json_object_new ();
  json_object_set_int_member (o, "error_code", 0);
  json_object_set_string_member (o, "access_token", token->token);
  json_object_set_string_member (o, "user_uuid", user->uuid);
  json_object_set_string_member (o, "token_type", "Bearer");
  answer_token_json (msg, o);
}

static void
grant_client_credentials (PpmsServer *server, SoupServerMessage *msg, GHashTable *form)
{
  const char *client_id = g_hash_table_lookup (form, "client_id");
  const char *secret = g_hash_table_lookup (form, "client_secret");
  g_autoptr (JsonObject) o = NULL;
  PpmsApiKey *key;
  PpmsToken *token;

  if (client_id == NULL)
    {
      ppms_respond_traceback (msg, "../../ppauth/tokenhandler", "KeyError: 'client_id'");
      return;
    }
  key = ppms_api_key_lookup (server, client_id);
  if (key == NULL
      || !(g_strcmp0 (key->level, "PPCOM") == 0 || g_strcmp0 (key->level, "PPCONSOLE") == 0
           || g_strcmp0 (key->level, "THIRD_PARTY_CONSOLE") == 0)
      || g_strcmp0 (key->secret, secret) != 0)
    {
      ppms_respond_html_error (msg, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  token = ppms_token_issue (server, key, g_strcmp0 (key->level, "PPCONSOLE") == 0
                                           ? "PPCONSOLE_BEFORE_LOGIN" : key->level);
  o = json_object_new ();
  json_object_set_string_member (o, "access_token", token->token);
  json_object_set_string_member (o, "token_type", "Bearer");
  answer_token_json (msg, o);
}

void
ppms_auth_token (PpmsServer *server, SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GHashTable) form = NULL;
  const char *grant;

  if (g_str_equal (method, "OPTIONS"))
    {
      ppms_add_cors (msg);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      return;
    }
  if (!g_str_equal (method, "POST"))
    {
      ppms_respond_html_error (msg, g_str_equal (method, "GET") ? SOUP_STATUS_INTERNAL_SERVER_ERROR
                                                              : SOUP_STATUS_METHOD_NOT_ALLOWED);
      return;
    }
  form = ppms_form_parse (msg, NULL, NULL, NULL, NULL);
  grant = form ? g_hash_table_lookup (form, "grant_type") : NULL;
  if (g_strcmp0 (grant, "password") == 0)
    grant_password (server, msg, form);
  else if (g_strcmp0 (grant, "client_credentials") == 0)
    grant_client_credentials (server, msg, form);
  else if (g_strcmp0 (grant, "authorization_code") == 0 && g_hash_table_lookup (form, "code") == NULL)
    ppms_respond_traceback (msg, "../../ppauth/tokenhandler", "KeyError: 'code'");
  else
    ppms_respond_html_error (msg, SOUP_STATUS_BAD_REQUEST);
}
