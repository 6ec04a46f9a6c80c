/* purple-fixtures.c: see purple-fixtures.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "purple-fixtures.h"

#include <string.h>

#include "ppms-internal.h"

/* The team of these tests: two agents (the default seed's shape). */
static const char TEAM_SEED[] =
  "{\"app\": {\"app_name\": \"" TEAM_NAME "\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"" AGENT_NAME "\", \"user_status\": \"OWNER_2\","
  "   \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB_EMAIL "\", \"password\": \"" BOB_PASSWORD "\","
  "   \"user_fullname\": \"" BOB_NAME "\", \"user_status\": \"SERVICE\","
  "   \"is_service_user\": true}"
  " ]}";

PpmsServer *
server_start (void)
{
  return server_start_with_seed (TEAM_SEED);
}

PpmsServer *
server_start_tls (const char *cert_pem_path, const char *key_pem_path)
{
  return server_start_tls_with_seed (TEAM_SEED, cert_pem_path, key_pem_path);
}

PpmsPeer *
visitor_start (PpmsServer *server)
{
  GError *error = NULL;
  PpmsPeer *visitor = ppms_peer_new_visitor (ppms_server_get_url (server),
                                             ppms_server_app_uuid (server),
                                             ppms_server_ppcom_key (server),
                                             ppms_server_ppcom_secret (server), NULL);

  char *uuid;
  int code = -1;

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  g_assert_nonnull (ppms_peer_conversation_uuid (visitor));
  /* A conversation shows in the agents' lists from its first message on. */
  uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), VISITOR_GREETING);
  g_assert_true (ppms_peer_wait_ack (visitor, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  g_free (uuid);
  return visitor;
}

PpmsPeer *
colleague_start (PpmsServer *server, const char *email, const char *password)
{
  GError *error = NULL;
  PpmsPeer *agent = ppms_peer_new_agent (ppms_server_get_url (server),
                                         ppms_server_ppkefu_key (server), email, password, NULL);

  g_assert_true (ppms_peer_start_sync (agent, &error));
  g_assert_no_error (error);
  return agent;
}

const char *
visitor_name (PpmsServer *server, PpmsPeer *visitor)
{
  PpmsUser *user = ppms_user_lookup (server, ppms_peer_user_uuid (visitor));

  g_assert_nonnull (user);
  return user->user_fullname;
}

PurpleAccount *
agent_sign_in_as (PpmsServer *server, const char *email, const char *password)
{
  PurpleAccount *account = harness_add_account (ppms_server_get_url (server), email, password);

  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS)) {
    const HarnessError *error = harness_find_error (account);

    g_error ("%s did not sign in: %s", email, error != NULL ? error->text : "timeout");
  }
  return account;
}

PurpleAccount *
agent_account (PpmsServer *server)
{
  return harness_add_account (ppms_server_get_url (server), AGENT_EMAIL, AGENT_PASSWORD);
}

PurpleAccount *
agent_sign_in (PpmsServer *server)
{
  return agent_sign_in_as (server, AGENT_EMAIL, AGENT_PASSWORD);
}

void
sign_out (PurpleAccount *account)
{
  harness_disconnect (account);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (account), WAIT_MS));
}

void
sign_in_again (PurpleAccount *account)
{
  harness_connect (account);
  g_assert_true (harness_wait_connected (account, WAIT_MS));
}

/* The first write of the account containing text, waited for. */
const HarnessWrite *
wait_write (PurpleAccount *account, const char *text)
{
  if (!HARNESS_WAIT_FOR (harness_find_write (account, text) != NULL, WAIT_MS))
    g_error ("no conversation write containing \"%s\"", text);
  return harness_find_write (account, text);
}

/* The last transfer of this type that libpurple destroyed, waited for. */
HarnessXfer *
wait_xfer_ended (PurpleXferType type)
{
  HarnessXfer *found = NULL;

  HARNESS_WAIT_FOR (({
    found = NULL;
    for (guint i = 0; i < harness_xfers ()->len; i++) {
      HarnessXfer *record = g_ptr_array_index (harness_xfers (), i);

      if (record->type == type && record->destroyed)
        found = record;
    }
    found != NULL;
  }), WAIT_MS);
  g_assert_nonnull (found);
  return found;
}

gboolean
push_acked (PpmsServer *server, const char *message_uuid, const char *user_uuid)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, server->pushes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    PpmsPush *push = value;

    if (g_strcmp0 (push->message_uuid, message_uuid) == 0
        && g_strcmp0 (push->user_uuid, user_uuid) == 0)
      return g_strcmp0 (push->status, "ACKED") == 0;
  }
  return FALSE;
}

/* The debug log holds no password, password hash, token, API key or secret. */
void
assert_log_has_no_secrets (PpmsServer *server, const char *password)
{
  const char *log = harness_debug_log ();
  char *hash = ppms_sha1_hex (password);
  GHashTableIter iter;
  gpointer token;

  g_assert_null (strstr (log, password));
  g_assert_null (strstr (log, hash));
  g_hash_table_iter_init (&iter, server->tokens);
  while (g_hash_table_iter_next (&iter, &token, NULL))
    g_assert_null (strstr (log, (const char *) token));
  g_assert_null (strstr (log, ppms_server_ppcom_secret (server)));
  g_assert_null (strstr (log, ppms_server_ppkefu_key (server)));
  g_free (hash);
}

void
send_from_pidgin (PurpleAccount *account, const char *who, const char *html)
{
  PurpleConversation *conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who,
                                                                    account);

  if (conv == NULL)
    conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  purple_conv_im_send (PURPLE_CONV_IM (conv), html);
}

GBytes *
test_png (guint width, guint height)
{
  return ppms_test_png (width, height);
}

PurpleAccount *
agent_with_visitor (PpmsServer *server, PpmsPeer *visitor)
{
  PurpleAccount *account = agent_sign_in (server);

  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  return account;
}

/* Wait until a sent message is stored (acknowledged) on the server. */
void
send_and_wait_ack (PpmsPeer *peer, const char *conversation_uuid, const char *text)
{
  char *uuid = ppms_peer_send_text (peer, conversation_uuid, text);
  int code = -1;

  g_assert_nonnull (uuid);
  g_assert_true (ppms_peer_wait_ack (peer, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  g_free (uuid);
}

const HarnessWrite *
find_exact_write (PurpleAccount *account, const char *text)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = writes->pdata[i];

    if (w->account == account && g_strcmp0 (w->text, text) == 0)
      return w;
  }
  return NULL;
}

guint
count_exact_writes (PurpleAccount *account, const char *text)
{
  GPtrArray *writes = harness_writes ();
  guint count = 0;

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = writes->pdata[i];

    count += w->account == account && g_strcmp0 (w->text, text) == 0;
  }
  return count;
}

static void
on_file_read (GObject *session, GAsyncResult *result, gpointer data)
{
  GBytes **body = data;
  GError *error = NULL;

  *body = soup_session_send_and_read_finish (SOUP_SESSION (session), result, &error);
  g_assert_no_error (error);
}

GBytes *
server_file (PpmsServer *server, const char *fid)
{
  g_autofree char *url = g_strconcat (ppms_server_get_url (server), "/download/download/", fid,
                                      NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) message = soup_message_new (SOUP_METHOD_GET, url);
  GBytes *body = NULL;

  soup_session_send_and_read_async (session, message, G_PRIORITY_DEFAULT, NULL, on_file_read,
                                    &body);
  g_assert_true (HARNESS_WAIT_FOR (body != NULL, WAIT_MS));
  g_assert_cmpuint (soup_message_get_status (message), ==, 200);
  return body;
}

JsonObject *
message_body_object (const JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_from_string (
    json_object_get_string_member ((JsonObject *) msg, "bo"), NULL);

  g_assert_nonnull (node);
  return json_node_dup_object (node);
}
