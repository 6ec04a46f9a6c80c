/* test-lib-client.c: the client library against the PPMessage test server
 * over loopback: sign-in and its failures, key discovery, receiving (once,
 * acknowledged), replying, long text and emoji, catch-up at sign-in, being
 * signed in elsewhere, service status, typing, colleagues, send timeouts.
 * Visitors and other agents are ppm-test-peer peers speaking the protocol.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-api.h"
#include "ppm-ws.h"
#include "ppm-message.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "server-start.h"

#include <libsoup/soup.h>
#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define BOB_EMAIL "bob@ppmessage.local"
#define BOB_PASSWORD "bobpass"
#define WAIT_MS 10000

/* The client library under test, as the test server's exchange log names
 * it (the first word of its User-Agent); peers are "ppm-test-peer". */
#define CLIENT "purple-ppmessage"

/* Parts of the exchange that many steps share, in the words of the
 * recordings' index (../shared/protocol/transcripts/INDEX.md, 01 and 02). */
#define AGENT_KEY_DISCOVERY \
  "-> GET /ppkefu/js/ppkefu.min.js", \
  "<- 200 /ppkefu/js/ppkefu.min.js (text)"
#define AGENT_SIGN_IN \
  "-> POST /ppauth/token", \
  "<- 200 /ppauth/token error_code=0", \
  "-> POST /api/PPKEFU_LOGIN", \
  "<- 200 /api/PPKEFU_LOGIN error_code=0", \
  "-> POST /api/PP_GET_APP_SERVICE_USER_LIST", \
  "<- 200 /api/PP_GET_APP_SERVICE_USER_LIST error_code=0", \
  "-> POST /api/PP_PAGE_USER_CONVERSATION", \
  "<- 200 /api/PP_PAGE_USER_CONVERSATION error_code=0"
#define SOCKET_AUTH \
  "ws_open 101", \
  "=> ws auth", \
  "<= ws ACK what=AUTH code=0"
#define API_CALL(name) \
  "-> POST /api/" name, \
  "<- 200 /api/" name " error_code=0"
/* An account's first sign-in with nothing to catch up: the key is
 * discovered, and no history is read. */
#define AGENT_FIRST_SIGN_IN \
  AGENT_KEY_DISCOVERY, \
  AGENT_SIGN_IN, \
  SOCKET_AUTH, \
  API_CALL ("PP_PAGE_UNACKED_MESSAGE")

/* Two agents: Alice (the owner, the account under test) and Bob. */
static const char team_seed[] =
  "{\"app\": {\"app_name\": \"Test Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB_EMAIL "\", \"password\": \"" BOB_PASSWORD "\","
  "   \"user_fullname\": \"Bob Assistance\", \"is_service_user\": true}"
  " ]}";

typedef struct {
  char *conversation_uuid;
  char *message_uuid;
  GError *error;
} SendResult;

typedef struct {
  PpmsServer *server;
  PpmClient *client;
  GHashTable *settings;       /* the account settings, kept across clients */
  GPtrArray *messages;        /* PpmMessage copies */
  GPtrArray *send_results;    /* SendResult* */
  GPtrArray *progress;        /* char* step texts */
  GHashTable *users;          /* uuid -> fullname */
  GHashTable *conversations;  /* uuid -> peer uuid ("" when none) */
  guint synced;
  guint typing;
  gboolean connected;
  gboolean disconnected;
  GError *disconnect_error;
  GPtrArray *peers;           /* PpmsPeer* to free */
} Fixture;

/* ---- Events ---- */

static void
on_progress (gpointer data, const char *text, int step, int steps)
{
  Fixture *f = data;

  g_assert_cmpint (step, >=, 0);
  g_assert_cmpint (step, <, steps);
  g_ptr_array_add (f->progress, g_strdup (text));
}

static void
on_connected (gpointer data)
{
  Fixture *f = data;

  g_assert_false (f->connected);
  f->connected = TRUE;
}

static void
on_disconnected (gpointer data, const GError *error)
{
  Fixture *f = data;

  g_assert_false (f->disconnected);
  f->disconnected = TRUE;
  f->disconnect_error = error ? g_error_copy (error) : NULL;
}

static void
on_user_changed (gpointer data, const PpmUser *user)
{
  Fixture *f = data;

  g_assert_nonnull (user->uuid);
  g_assert_nonnull (user->fullname);
  g_hash_table_insert (f->users, g_strdup (user->uuid), g_strdup (user->fullname));
}

static void
on_conversation_changed (gpointer data, const PpmConversation *conversation)
{
  Fixture *f = data;

  g_assert_nonnull (conversation->uuid);
  g_assert_nonnull (conversation->type);
  g_hash_table_insert (f->conversations, g_strdup (conversation->uuid),
                       g_strdup (conversation->peer_uuid ? conversation->peer_uuid : ""));
}

static void
on_synced (gpointer data, GPtrArray *open)
{
  Fixture *f = data;

  for (guint i = 0; i < open->len; i++)
    g_assert_true (((const PpmConversation *) open->pdata[i])->is_open);
  f->synced++;
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  Fixture *f = data;

  g_assert_true (f->connected);
  g_assert_nonnull (message->uuid);
  g_assert_nonnull (message->text);
  g_assert_nonnull (ppm_client_lookup_conversation (f->client, message->conversation_uuid));
  g_ptr_array_add (f->messages, ppm_message_copy (message));
}

static void
on_typing (gpointer data, const char *conversation_uuid, const char *user_uuid)
{
  Fixture *f = data;

  f->typing++;
}

static void
send_result_free (SendResult *result)
{
  g_free (result->conversation_uuid);
  g_free (result->message_uuid);
  g_clear_error (&result->error);
  g_free (result);
}

static void
on_send_result (gpointer data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  Fixture *f = data;
  SendResult *result = g_new0 (SendResult, 1);

  result->conversation_uuid = g_strdup (conversation_uuid);
  result->message_uuid = g_strdup (message_uuid);
  result->error = error ? g_error_copy (error) : NULL;
  g_ptr_array_add (f->send_results, result);
}

static void
on_save_setting (gpointer data, const char *key, const char *value)
{
  Fixture *f = data;

  g_hash_table_insert (f->settings, g_strdup (key), g_strdup (value));
}

static char *
on_load_setting (gpointer data, const char *key)
{
  Fixture *f = data;

  return g_strdup (g_hash_table_lookup (f->settings, key));
}

static const PpmClientEvents events = {
  .progress = on_progress,
  .connected = on_connected,
  .disconnected = on_disconnected,
  .user_changed = on_user_changed,
  .conversation_changed = on_conversation_changed,
  .conversations_synced = on_synced,
  .message = on_message,
  .typing = on_typing,
  .send_result = on_send_result,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
};

/* ---- Fixture ---- */

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->server = server_start_with_seed (team_seed);
  f->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_message_free);
  f->send_results = g_ptr_array_new_with_free_func ((GDestroyNotify) send_result_free);
  f->progress = g_ptr_array_new_with_free_func (g_free);
  f->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) ppms_peer_free);
}

/* Forgets the current client (and what it reported); settings stay. */
static void
drop_client (Fixture *f)
{
  g_clear_pointer (&f->client, ppm_client_free);
  g_ptr_array_set_size (f->messages, 0);
  g_ptr_array_set_size (f->send_results, 0);
  g_ptr_array_set_size (f->progress, 0);
  g_hash_table_remove_all (f->users);
  g_hash_table_remove_all (f->conversations);
  f->synced = 0;
  f->typing = 0;
  f->connected = FALSE;
  f->disconnected = FALSE;
  g_clear_error (&f->disconnect_error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  drop_client (f);
  g_ptr_array_unref (f->peers);
  ppms_server_free (f->server);
  g_hash_table_unref (f->settings);
  g_ptr_array_unref (f->messages);
  g_ptr_array_unref (f->send_results);
  g_ptr_array_unref (f->progress);
  g_hash_table_unref (f->users);
  g_hash_table_unref (f->conversations);
}

/* A new client in place of the fixture's, on the same account settings. */
static PpmClient *
replace_client (Fixture *f, const PpmClientConfig *config)
{
  drop_client (f);
  f->client = ppm_client_new (config, &events, f);
  return f->client;
}

static PpmClient *
new_client_for (Fixture *f, const char *url, const char *email, const char *password,
                const char *api_key, const char *terminal)
{
  PpmClientConfig config = {
    .server_url = url,
    .role = PPM_ROLE_AGENT,
    .email = email,
    .password = password,
    .api_key = api_key,
    .terminal = terminal,
    .device_name = "test-lib-client",
  };

  return replace_client (f, &config);
}

static PpmClient *
new_client (Fixture *f)
{
  return new_client_for (f, ppms_server_get_url (f->server), AGENT_EMAIL, AGENT_PASSWORD,
                         g_hash_table_lookup (f->settings, "api_key"), "terminal-of-test");
}

static void
connect_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (PPMS_WAIT_FOR (f->connected || f->disconnected, WAIT_MS));
  if (f->disconnect_error)
    g_error ("sign-in failed: %s", f->disconnect_error->message);
  g_assert_true (f->connected);
  g_assert_false (f->disconnected);
}

/* Connects and expects the session to end with this error. */
static void
connect_fails (Fixture *f, int code)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (PPMS_WAIT_FOR (f->disconnected, WAIT_MS));
  g_assert_false (f->connected);
  g_assert_error (f->disconnect_error, PPM_ERROR, code);
}

/* Ends a step on something the server saw the client do (a line of the
 * exchange log, glob pattern), not on a time. */
static void
wait_exchange (Fixture *f, const char *pattern)
{
  if (!PPMS_WAIT_FOR (ppms_server_log_count (f->server, CLIENT, pattern) > 0, WAIT_MS))
    g_error ("the server never saw \"%s\" from the client", pattern);
}

/* The body of the client's one request of this API in a taken log. */
static JsonObject *
request_body (GPtrArray *log, const char *api)
{
  JsonObject *body = NULL;

  for (guint i = 0; i < log->len; i++) {
    PpmsLogEntry *entry = log->pdata[i];

    if (entry->kind == PPMS_LOG_HTTP_REQUEST && strcmp (entry->actor, CLIENT) == 0
        && strcmp (entry->name, api) == 0) {
      g_assert_null (body);
      body = entry->body;
    }
  }
  g_assert_nonnull (body);
  return body;
}

/* Pushes the client acknowledged in the ACK_MESSAGE calls of a taken log. */
static guint
acked_pushes (GPtrArray *log)
{
  guint pushes = 0;

  for (guint i = 0; i < log->len; i++) {
    PpmsLogEntry *entry = log->pdata[i];

    if (entry->kind == PPMS_LOG_HTTP_REQUEST && strcmp (entry->actor, CLIENT) == 0
        && strcmp (entry->name, "ACK_MESSAGE") == 0)
      pushes += json_array_get_length (json_object_get_array_member (entry->body, "list"));
  }
  return pushes;
}

static PpmsPeer *
start_visitor (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  PpmsPeer *visitor = ppms_peer_new_visitor (ppms_server_get_url (f->server),
                                             ppms_server_app_uuid (f->server),
                                             ppms_server_ppcom_key (f->server),
                                             ppms_server_ppcom_secret (f->server), NULL);

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  g_ptr_array_add (f->peers, visitor);
  return visitor;
}

static PpmsPeer *
start_agent_peer (Fixture *f, const char *email, const char *password, const char *terminal)
{
  g_autoptr (GError) error = NULL;
  PpmsPeer *agent = ppms_peer_new_agent (ppms_server_get_url (f->server),
                                         ppms_server_ppkefu_key (f->server), email, password,
                                         terminal);

  g_assert_true (ppms_peer_start_sync (agent, &error));
  g_assert_no_error (error);
  g_ptr_array_add (f->peers, agent);
  return agent;
}

static void
wait_messages (Fixture *f, guint count)
{
  if (!PPMS_WAIT_FOR (f->messages->len >= count, WAIT_MS))
    g_error ("got %u messages, expected %u", f->messages->len, count);
}

static SendResult *
wait_send_result (Fixture *f)
{
  g_assert_true (PPMS_WAIT_FOR (f->send_results->len > 0, WAIT_MS));
  return f->send_results->pdata[0];
}

/* Iterates the main loop for a while (only to show that nothing more comes). */
static void
settle (guint ms)
{
  ppms_run_for (ms);
}

static const char *
agent_uuid (Fixture *f)
{
  return ppms_server_user_uuid_by_email (f->server, AGENT_EMAIL);
}

/* Unacked push count of the agent, asked over the API by a visitor peer. */
static gint64
unacked_count (Fixture *f, PpmsPeer *asker)
{
  g_autoptr (JsonObject) body = json_object_new ();
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;

  json_object_set_string_member (body, "app_uuid", ppms_server_app_uuid (f->server));
  json_object_set_string_member (body, "user_uuid", agent_uuid (f));
  json_object_set_int_member (body, "page_size", 100);
  answer = ppms_peer_api_sync (asker, "PP_PAGE_UNACKED_MESSAGE", body, &error);
  g_assert_no_error (error);
  return json_object_get_int_member (answer, "total_count");
}

static guint
count_uuid (Fixture *f, const char *uuid)
{
  guint count = 0;

  for (guint i = 0; i < f->messages->len; i++)
    if (g_strcmp0 (((PpmMessage *) f->messages->pdata[i])->uuid, uuid) == 0)
      count++;
  return count;
}

/* ---- Sign-in ---- */

static void
test_sign_in (Fixture *f, gconstpointer data)
{
  const PpmUser *self;
  const char *bob = ppms_server_user_uuid_by_email (f->server, BOB_EMAIL);

  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  self = ppm_client_get_self (f->client);
  g_assert_nonnull (self);
  g_assert_cmpstr (self->uuid, ==, agent_uuid (f));
  g_assert_cmpstr (self->fullname, ==, "Alice Agent");
  g_assert_true (self->is_service_user);
  g_assert_nonnull (ppm_client_get_team_name (f->client));
  g_assert_cmpstr (ppm_client_get_app_uuid (f->client), ==, ppms_server_app_uuid (f->server));
  g_assert_nonnull (ppm_client_get_device_uuid (f->client));
  /* The colleague is announced, the user itself is not. */
  g_assert_cmpstr (g_hash_table_lookup (f->users, bob), ==, "Bob Assistance");
  g_assert_false (g_hash_table_contains (f->users, self->uuid));
  g_assert_cmpint (ppm_client_lookup_user (f->client, bob)->presence, ==, PPM_PRESENCE_OFFLINE);
  g_assert_cmpuint (f->synced, ==, 1);
  g_assert_cmpuint (f->progress->len, >=, 6);
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 1);
  /* The key was discovered and saved. */
  g_assert_cmpstr (g_hash_table_lookup (f->settings, "api_key"), ==,
                   ppms_server_ppkefu_key (f->server));
  /* As PPKefu signs in (transcript 01), then a look for pushes kept while
   * no device was online; connected() comes after the last answer. */
  ppms_assert_exchange (f->server, CLIENT, AGENT_FIRST_SIGN_IN);
}

/* The agent's service status on the server is this one. */
static gboolean
status_is (Fixture *f, const char *status)
{
  return g_strcmp0 (ppms_server_user_service_status (f->server, agent_uuid (f)), status) == 0;
}

static void
test_disconnect (Fixture *f, gconstpointer data)
{
  new_client (f);
  connect_ok (f);
  ppm_client_disconnect (f->client);
  g_assert_true (f->disconnected);
  g_assert_null (f->disconnect_error);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 0, WAIT_MS));
  /* PPKEFU_LOGOUT reached the server: it resets the service status. */
  g_assert_true (PPMS_WAIT_FOR (!status_is (f, "READY"), WAIT_MS));
  /* Calls after the end are harmless. */
  ppm_client_disconnect (f->client);
  ppm_client_set_service_status (f->client, "BUSY");
  ppm_client_send_typing (f->client, "x");
  g_free (ppm_client_send_text (f->client, "x", "late"));
  g_assert_error (wait_send_result (f)->error, PPM_ERROR, PPM_ERROR_NETWORK);
}

static void
test_key_given (Fixture *f, gconstpointer data)
{
  g_hash_table_insert (f->settings, g_strdup ("api_key"),
                       g_strdup (ppms_server_ppkefu_key (f->server)));
  g_hash_table_insert (f->settings, g_strdup ("marker"), g_strdup ("x"));
  new_client (f);
  connect_ok (f);
  /* No discovery step. */
  for (guint i = 0; i < f->progress->len; i++)
    g_assert_null (strstr (f->progress->pdata[i], "API key"));
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  new_client_for (f, ppms_server_get_url (f->server), AGENT_EMAIL, AGENT_PASSWORD,
                  "bm90LWEta2V5", "terminal-of-test");
  connect_fails (f, PPM_ERROR_AUTH);
}

static void
test_wrong_password (Fixture *f, gconstpointer data)
{
  new_client_for (f, ppms_server_get_url (f->server), AGENT_EMAIL, "not the password", NULL,
                  "terminal-of-test");
  connect_fails (f, PPM_ERROR_AUTH);
  new_client_for (f, ppms_server_get_url (f->server), "nobody@example.com", AGENT_PASSWORD,
                  NULL, "terminal-of-test");
  connect_fails (f, PPM_ERROR_AUTH);
}

static void
test_unreachable (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup (ppms_server_get_url (f->server));

  ppms_server_stop (f->server);
  new_client_for (f, url, AGENT_EMAIL, AGENT_PASSWORD, NULL, "t");
  connect_fails (f, PPM_ERROR_NETWORK);
  new_client_for (f, url, AGENT_EMAIL, AGENT_PASSWORD, "a2V5", "t");
  connect_fails (f, PPM_ERROR_NETWORK);
}

static void
test_malformed_url (Fixture *f, gconstpointer data)
{
  static const char *const urls[] = { "", "chat.example.com", "ftp://127.0.0.1:1", "http://" };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++) {
    g_autoptr (GError) error = NULL;

    new_client_for (f, urls[i], AGENT_EMAIL, AGENT_PASSWORD, NULL, "t");
    g_assert_false (ppm_client_connect (f->client, &error));
    g_assert_error (error, PPM_ERROR, PPM_ERROR_SETTINGS);
    settle (20);
    g_assert_false (f->disconnected);
  }
  {
    g_autoptr (GError) error = NULL;

    new_client_for (f, ppms_server_get_url (f->server), AGENT_EMAIL, "", NULL, "t");
    g_assert_false (ppm_client_connect (f->client, &error));
    g_assert_error (error, PPM_ERROR, PPM_ERROR_SETTINGS);
  }
}

static void
test_visitor_needs_team (Fixture *f, gconstpointer data)
{
  PpmClientConfig config = { .server_url = ppms_server_get_url (f->server),
                             .role = PPM_ROLE_VISITOR };
  g_autoptr (GError) error = NULL;

  replace_client (f, &config);
  g_assert_false (ppm_client_connect (f->client, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_SETTINGS);
}

/* ---- Visitor role ---- */

static char *
enterprise_url (Fixture *f)
{
  g_autofree char *json = g_strdup_printf ("{\"uuid\":\"%s\",\"app_name\":\"Test%%20Team\"}",
                                           ppms_server_app_uuid (f->server));
  g_autofree char *encoded = g_base64_encode ((const guchar *) json, strlen (json));

  return g_strdup_printf ("%s/ppcom/enterprise/%s", ppms_server_get_url (f->server), encoded);
}

static PpmClient *
new_visitor_client (Fixture *f, const char *url, const char *app_uuid, const char *email)
{
  PpmClientConfig config = {
    .server_url = url,
    .role = PPM_ROLE_VISITOR,
    .email = email,
    .api_key = g_hash_table_lookup (f->settings, "api_key"),
    .api_secret = g_hash_table_lookup (f->settings, "api_secret"),
    .terminal = "visitor-terminal",
    .device_name = "test-lib-client",
    .app_uuid = app_uuid,
  };

  return replace_client (f, &config);
}

static void
test_visitor_chat (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);
  PpmsPeer *alice = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, NULL);
  const PpmUser *self;
  const JsonObject *msg;
  const char *conversation = NULL;
  GHashTableIter iter;
  gpointer key;
  g_autofree char *uuid = NULL;
  g_autofree char *reply = NULL;
  PpmMessage *message;
  g_autoptr (GPtrArray) log = NULL;

  ppms_server_set_logging (f->server, TRUE);
  new_visitor_client (f, url, NULL, NULL);
  connect_ok (f);
  /* As PPCom starts (transcript 02), with the team's name asked for; the
   * distributor is asked until it made the conversation, as often as the
   * timing wants. */
  log = ppms_server_take_log (f->server);
  g_assert_cmpuint (ppms_log_remove (log, CLIENT, "* /api/PP_GET_AMD_QUEUE_LENGTH*"), >=, 2);
  ppms_assert_log (log, CLIENT,
                   "-> GET /ppcom/assets/pp-library.min.js",
                   "<- 200 /ppcom/assets/pp-library.min.js (text)",
                   "-> POST /ppauth/token",
                   "<- 200 /ppauth/token keys=access_token,token_type",
                   API_CALL ("PP_GET_APP_INFO"),
                   API_CALL ("PP_CREATE_ANONYMOUS"),
                   API_CALL ("PP_CREATE_DEVICE"),
                   API_CALL ("PPCOM_GET_DEFAULT_CONVERSATION"),
                   API_CALL ("PP_GET_CONVERSATION_INFO"),
                   API_CALL ("PP_GET_CONVERSATION_USER_LIST"),
                   SOCKET_AUTH,
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"));
  /* Keys discovered in pp-library.min.js and kept. */
  g_assert_cmpstr (g_hash_table_lookup (f->settings, "api_key"), ==,
                   ppms_server_ppcom_key (f->server));
  g_assert_cmpstr (g_hash_table_lookup (f->settings, "api_secret"), ==,
                   ppms_server_ppcom_secret (f->server));
  self = ppm_client_get_self (f->client);
  g_assert_nonnull (self);
  g_assert_false (self->is_service_user);
  g_assert_cmpstr (ppm_client_get_team_name (f->client), ==, "Test Team");
  /* The distributor's conversation, with both agents. */
  g_assert_cmpuint (g_hash_table_size (f->conversations), ==, 1);
  g_hash_table_iter_init (&iter, f->conversations);
  g_assert_true (g_hash_table_iter_next (&iter, &key, NULL));
  conversation = key;
  g_assert_cmpstr (g_hash_table_lookup (f->users, ppms_peer_user_uuid (alice)), ==,
                   "Alice Agent");
  g_assert_true (ppm_client_lookup_user (f->client, ppms_peer_user_uuid (alice))->is_service_user);
  /* Visitor -> agents. */
  uuid = ppm_client_send_text (f->client, conversation, "Hello from Pidgin \xf0\x9f\x98\x80");
  g_assert_no_error (wait_send_result (f)->error);
  msg = ppms_peer_wait_message (alice, "Hello from Pidgin", WAIT_MS);
  g_assert_nonnull (msg);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "ct"), ==, "P2S");
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "bo"), ==,
                   "Hello from Pidgin \xf0\x9f\x98\x80");
  ppms_assert_exchange (f->server, CLIENT,
                        "=> ws send ms=TEXT ct=P2S",
                        "<= ws ACK what=SEND code=0");
  /* Agent -> visitor. */
  reply = ppms_peer_send_text (alice, conversation, "Hi, visitor!");
  wait_messages (f, 1);
  message = f->messages->pdata[0];
  g_assert_cmpstr (message->text, ==, "Hi, visitor!");
  g_assert_cmpstr (message->from_name, ==, "Alice Agent");
  g_assert_false (message->outgoing);
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "<= ws MSG mt=NOTI ms=TEXT ct=S2P",
                        API_CALL ("ACK_MESSAGE"));
  ppm_client_disconnect (f->client);
  g_assert_true (f->disconnected);
  g_assert_null (f->disconnect_error);
  /* A visitor has no log-out call: the socket's end is all. */
  wait_exchange (f, "ws_close *");
  ppms_assert_exchange (f->server, CLIENT, "ws_close client");
}

static void
test_visitor_returns (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);
  PpmsPeer *alice = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, NULL);
  const char *self_uuid;
  g_autofree char *first_self = NULL;
  const char *conversation;
  GHashTableIter iter;
  gpointer key;
  g_autofree char *missed = NULL;

  new_visitor_client (f, url, NULL, NULL);
  connect_ok (f);
  first_self = g_strdup (ppm_client_get_self (f->client)->uuid);
  g_hash_table_iter_init (&iter, f->conversations);
  g_assert_true (g_hash_table_iter_next (&iter, &key, NULL));
  conversation = key;
  g_free (ppms_peer_send_text (alice, conversation, "first answer"));
  wait_messages (f, 1);
  ppm_client_disconnect (f->client);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  missed = ppms_peer_send_text (alice, conversation, "while you were away");
  g_assert_true (ppms_peer_wait_ack (alice, missed, WAIT_MS, NULL));
  /* Same terminal: the same visitor and conversation; the reply is recovered. */
  new_visitor_client (f, ppms_server_get_url (f->server), ppms_server_app_uuid (f->server),
                      NULL);
  connect_ok (f);
  self_uuid = ppm_client_get_self (f->client)->uuid;
  g_assert_cmpstr (self_uuid, ==, first_self);
  wait_messages (f, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, "while you were away");
  g_assert_true (((PpmMessage *) f->messages->pdata[0])->delayed);
}

static void
test_visitor_to_chosen_agent (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);
  PpmsPeer *bob = start_agent_peer (f, BOB_EMAIL, BOB_PASSWORD, NULL);
  const PpmConversation *conversation;
  g_autofree char *uuid = NULL;
  SendResult *result;

  new_visitor_client (f, url, NULL, "carol@example.com");
  connect_ok (f);
  g_assert_cmpstr (ppm_client_get_self (f->client)->email, ==, "carol@example.com");
  uuid = ppm_client_send_text_to_user (f->client, ppms_peer_user_uuid (bob), "Bob only, please");
  result = wait_send_result (f);
  g_assert_no_error (result->error);
  g_assert_cmpstr (result->message_uuid, ==, uuid);
  conversation = ppm_client_conversation_for_user (f->client, ppms_peer_user_uuid (bob));
  g_assert_nonnull (conversation);
  g_assert_cmpstr (conversation->type, ==, "P2S");
  g_assert_nonnull (ppms_peer_wait_message (bob, "Bob only, please", WAIT_MS));
}

static void
test_visitor_with_name (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);
  PpmsPeer *alice = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, NULL);
  const PpmConversation *conversation;
  const JsonObject *msg;
  JsonObject *from_user;
  GHashTableIter iter;
  gpointer key;

  new_visitor_client (f, url, NULL, "Dana Visitor");
  connect_ok (f);
  g_assert_cmpstr (ppm_client_get_self (f->client)->fullname, ==, "Dana Visitor");
  g_hash_table_iter_init (&iter, f->conversations);
  g_assert_true (g_hash_table_iter_next (&iter, &key, NULL));
  conversation = ppm_client_lookup_conversation (f->client, key);
  g_free (ppm_client_send_text (f->client, conversation->uuid, "hello, it's Dana"));
  msg = ppms_peer_wait_message (alice, "hello, it's Dana", WAIT_MS);
  g_assert_nonnull (msg);
  from_user = json_object_get_object_member ((JsonObject *) msg, "from_user");
  g_assert_cmpstr (json_object_get_string_member (from_user, "user_fullname"), ==,
                   "Dana Visitor");
}

/* A bridge's visitor: an anonymous visitor under the name and signature
 * given (an '@' in the name does not make it an e-mail), and a message
 * sent again under the uuid kept from before is stored once. */
static void
test_visitor_profile_and_kept_uuid (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);
  PpmsPeer *alice = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, NULL);
  const char *kept = "0b0e4a5c-3f0d-4a59-9c52-6f1f2b8d7e01";
  const JsonObject *msg;
  JsonObject *from_user;
  g_autoptr (JsonObject) body = json_object_new ();
  g_autoptr (JsonObject) info = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer conversation;

  new_visitor_client (f, url, NULL, NULL);
  ppm_client_set_visitor_profile (f->client, "pal@example.org (XMPP)",
                                  "XMPP: pal@example.org");
  connect_ok (f);
  g_assert_cmpstr (ppm_client_get_self (f->client)->fullname, ==, "pal@example.org (XMPP)");
  g_hash_table_iter_init (&iter, f->conversations);
  g_assert_true (g_hash_table_iter_next (&iter, &conversation, NULL));
  ppm_client_send_text_with_uuid (f->client, conversation, "sent twice", kept);
  g_assert_no_error (wait_send_result (f)->error);
  g_assert_cmpstr (wait_send_result (f)->message_uuid, ==, kept);
  ppm_client_send_text_with_uuid (f->client, conversation, "sent twice", kept);
  g_assert_true (PPMS_WAIT_FOR (f->send_results->len == 2, WAIT_MS));
  g_assert_cmpuint (ppms_server_count_messages (f->server, conversation), ==, 1);
  msg = ppms_peer_wait_message (alice, "sent twice", WAIT_MS);
  g_assert_nonnull (msg);
  from_user = json_object_get_object_member ((JsonObject *) msg, "from_user");
  g_assert_cmpstr (json_object_get_string_member (from_user, "user_fullname"), ==,
                   "pal@example.org (XMPP)");
  json_object_set_string_member (body, "user_uuid", ppm_client_get_self (f->client)->uuid);
  info = ppms_peer_api_sync (alice, "PP_GET_USER_INFO", body, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (info, "user_signature"), ==,
                   "XMPP: pal@example.org");
}

/* A visitor who wrote first and never saw an answer: the answer written
 * while no session was open comes at the next one, not taken as the
 * baseline; with replay_unseen_conversations (data non-NULL, the bridge's
 * way) from the very first session, without it (a visitor account) from
 * the second, since the first marked the account synced. */
static void
test_visitor_replays_unseen (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);
  PpmsPeer *alice = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, NULL);
  g_autofree char *answer = NULL;
  GHashTableIter iter;
  gpointer key;
  g_autofree char *conversation = NULL;

  new_visitor_client (f, url, NULL, NULL);
  if (data != NULL)
    ppm_client_replay_unseen_conversations (f->client);
  connect_ok (f);
  g_hash_table_iter_init (&iter, f->conversations);
  g_assert_true (g_hash_table_iter_next (&iter, &key, NULL));
  conversation = g_strdup (key);
  g_free (ppm_client_send_text (f->client, conversation, "anyone?"));
  g_assert_no_error (wait_send_result (f)->error);
  ppm_client_disconnect (f->client);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  answer = ppms_peer_send_text (alice, conversation, "answered while you were away");
  g_assert_true (ppms_peer_wait_ack (alice, answer, WAIT_MS, NULL));
  new_visitor_client (f, url, NULL, NULL);
  connect_ok (f);
  wait_messages (f, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==,
                   "answered while you were away");
  /* Its own message is not replayed. */
  g_assert_cmpuint (f->messages->len, ==, 1);
}

static void
test_visitor_with_agent_email (Fixture *f, gconstpointer data)
{
  g_autofree char *url = enterprise_url (f);

  new_visitor_client (f, url, NULL, AGENT_EMAIL);
  connect_fails (f, PPM_ERROR_AUTH);
}

static void
test_visitor_unknown_team (Fixture *f, gconstpointer data)
{
  new_visitor_client (f, ppms_server_get_url (f->server), "00000000-0000-0000-0000-000000000000",
                      NULL);
  connect_fails (f, PPM_ERROR_SETTINGS);
}

/* A web server that is not PPMessage: HTML for everything. */
static void
html_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
  static const char page[] = "<html><head><title>Welcome</title></head><body>nginx</body></html>";

  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, page, strlen (page));
}

static void
test_not_ppmessage (Fixture *f, gconstpointer data)
{
  g_autoptr (SoupServer) html = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoslist (GUri) uris = NULL;
  g_autofree char *url = NULL;

  soup_server_add_handler (html, NULL, html_handler, NULL, NULL);
  g_assert_true (soup_server_listen_local (html, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (html);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  /* Discovery finds no key... */
  new_client_for (f, url, AGENT_EMAIL, AGENT_PASSWORD, NULL, "t");
  connect_fails (f, PPM_ERROR_NOT_PPMESSAGE);
  /* ...and with a key the token answer is not JSON. */
  new_client_for (f, url, AGENT_EMAIL, AGENT_PASSWORD, "a2V5", "t");
  connect_fails (f, PPM_ERROR_NOT_PPMESSAGE);
  drop_client (f);
}

static void
test_server_error (Fixture *f, gconstpointer data)
{
  ppms_server_set_http_fault (f->server, PPMS_FAULT_HTTP_500, "PPKEFU_LOGIN", 1.0, 0, 1);
  new_client (f);
  connect_fails (f, PPM_ERROR_PROTOCOL);
  ppms_server_clear_faults (f->server);
  ppms_server_set_http_fault (f->server, PPMS_FAULT_TRUNCATED_JSON,
                              "PP_GET_APP_SERVICE_USER_LIST", 1.0, 0, 1);
  new_client (f);
  connect_fails (f, PPM_ERROR_NOT_PPMESSAGE);
  ppms_server_clear_faults (f->server);
}

static void
test_server_stall (Fixture *f, gconstpointer data)
{
  ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, "PP_PAGE_USER_CONVERSATION", 1.0,
                              0, 1);
  new_client (f);
  ppm_client_set_request_timeout (f->client, 300);
  connect_fails (f, PPM_ERROR_NETWORK);
  ppms_server_clear_faults (f->server);
}

/* A stall at any step of the sign-in (key discovery, token, login, team,
 * conversation list): the request times out, the sign-in fails with an
 * error the UI retries after, and the next sign-in works. A stalled
 * catch-up (the unacked list) is given up at a first sign-in after its
 * retries: the session starts, and what the server still holds unacked
 * is shown by the next catch-up. */
static void
test_stall_at_every_sign_in_step (Fixture *f, gconstpointer data)
{
  static const char *const steps[] = {
    "/ppkefu/js/", "/ppauth/token", "PPKEFU_LOGIN", "PP_GET_APP_SERVICE_USER_LIST",
    "PP_PAGE_USER_CONVERSATION",
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    g_test_message ("stalled: %s", steps[i]);
    ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, steps[i], 1.0, 0, 1);
    new_client (f);
    ppm_client_set_request_timeout (f->client, 300);
    connect_fails (f, PPM_ERROR_NETWORK);
    ppms_server_clear_faults (f->server);
    ppms_server_reset_stalled_requests (f->server);
  }
  ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, "PP_PAGE_UNACKED_MESSAGE", 1.0, 0, 1);
  new_client (f);
  /* Long enough for the calls that are answered, under valgrind too. */
  ppm_client_set_request_timeout (f->client, 1000);
  connect_ok (f);
  ppms_server_clear_faults (f->server);
}

/* ---- Messages ---- */

/* The message uuid a conversation's last_seen setting names (the setting
 * also holds its times). */
static char *
last_seen_uuid (Fixture *f, const char *conversation)
{
  g_autofree char *key = g_strconcat ("last_seen/", conversation, NULL);
  const char *value = g_hash_table_lookup (f->settings, key);

  return value ? g_strndup (value, strcspn (value, " ")) : NULL;
}

static void
test_visitor_message_once_and_acked (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  g_autofree char *uuid = NULL;
  PpmMessage *message;
  const char *conversation;
  const char *visitor_name;
  g_autofree char *last_seen = NULL;

  new_client (f);
  connect_ok (f);
  ppms_server_set_logging (f->server, TRUE);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  uuid = ppms_peer_send_text (visitor, conversation, "Hello, I have a question");
  g_assert_nonnull (uuid);
  wait_messages (f, 1);
  message = f->messages->pdata[0];
  g_assert_cmpstr (message->uuid, ==, uuid);
  g_assert_cmpstr (message->text, ==, "Hello, I have a question");
  g_assert_cmpstr (message->conversation_uuid, ==, conversation);
  g_assert_cmpstr (message->from_uuid, ==, ppms_peer_user_uuid (visitor));
  g_assert_false (message->outgoing);
  g_assert_false (message->delayed);
  /* The new conversation was looked up: its peer is the visitor, with a
   * name that tells anonymous visitors apart. */
  g_assert_cmpstr (g_hash_table_lookup (f->conversations, conversation), ==,
                   ppms_peer_user_uuid (visitor));
  visitor_name = g_hash_table_lookup (f->users, ppms_peer_user_uuid (visitor));
  g_assert_nonnull (visitor_name);
  g_assert_nonnull (strstr (visitor_name, "#"));
  g_assert_cmpstr (message->from_name, ==, visitor_name);
  g_assert_cmpstr (ppm_client_conversation_for_user (f->client,
                                                     ppms_peer_user_uuid (visitor))->uuid,
                   ==, conversation);
  /* Acknowledged to the server, and shown only once. */
  g_assert_true (PPMS_WAIT_FOR (unacked_count (f, visitor) == 0, WAIT_MS));
  g_assert_cmpuint (f->messages->len, ==, 1);
  last_seen = last_seen_uuid (f, conversation);
  g_assert_cmpstr (last_seen, ==, uuid);
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("PP_GET_CONVERSATION_INFO"),
                        API_CALL ("PP_GET_CONVERSATION_USER_LIST"),
                        API_CALL ("ACK_MESSAGE"));
  /* The visitor's next message is the next thing shown, and the
   * conversation is not looked up again. */
  g_free (ppms_peer_send_text (visitor, conversation, "and one more"));
  wait_messages (f, 2);
  g_assert_cmpuint (f->messages->len, ==, 2);
  g_assert_cmpuint (count_uuid (f, uuid), ==, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, "and one more");
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

static void
test_reply_reaches_visitor (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  g_autofree char *uuid = NULL;
  g_autofree char *first = NULL;
  const JsonObject *msg;
  SendResult *result;

  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  first = ppms_peer_send_text (visitor, conversation, "question");
  wait_messages (f, 1);
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_server_set_logging (f->server, TRUE);
  uuid = ppm_client_send_text (f->client, conversation, "Hi! How can I help?");
  g_assert_nonnull (uuid);
  g_assert_true (g_uuid_string_is_valid (uuid));
  result = wait_send_result (f);
  g_assert_no_error (result->error);
  g_assert_cmpstr (result->message_uuid, ==, uuid);
  g_assert_cmpstr (result->conversation_uuid, ==, conversation);
  msg = ppms_peer_wait_message (visitor, "Hi! How can I help?", WAIT_MS);
  g_assert_nonnull (msg);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "ct"), ==, "S2P");
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "id"), ==, uuid);
  /* Our own message is not delivered back to us: the visitor's answer is
   * the next thing that comes. */
  g_assert_cmpuint (f->messages->len, ==, 1);
  g_free (ppms_peer_send_text (visitor, conversation, "thanks"));
  wait_messages (f, 2);
  g_assert_cmpuint (f->messages->len, ==, 2);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, "thanks");
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "=> ws send ms=TEXT ct=S2P",
                        "<= ws ACK what=SEND code=0",
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

/* ---- Downloading with the main loop running (the server lives in it) ---- */

typedef struct {
  GBytes *body;
  gboolean done;
} Download;

static void
on_downloaded (GObject *source, GAsyncResult *result, gpointer data)
{
  Download *download = data;

  download->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  download->done = TRUE;
}

static char *
download_text (const char *url)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) message = soup_message_new ("GET", url);
  Download download = { NULL, FALSE };
  char *text;

  soup_session_send_and_read_async (session, message, G_PRIORITY_DEFAULT, NULL, on_downloaded,
                                    &download);
  g_assert_true (PPMS_WAIT_FOR (download.done, WAIT_MS));
  g_assert_nonnull (download.body);
  text = g_strndup (g_bytes_get_data (download.body, NULL), g_bytes_get_size (download.body));
  g_bytes_unref (download.body);
  return text;
}

static void
test_long_text_and_emoji (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  GString *long_text = g_string_new ("Long: ");
  g_autofree char *reply = NULL;
  g_autofree char *uuid = NULL;
  const JsonObject *msg;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *url = NULL;
  g_autofree char *downloaded = NULL;
  const char *emoji = "Thanks \xf0\x9f\x98\x80\xf0\x9f\x8e\x89 谢谢";

  for (int i = 0; i < 20; i++)
    g_string_append (long_text, "emoji \xf0\x9f\x98\x80 text ");
  g_assert_cmpuint (long_text->len, >, 128);
  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  /* Visitor -> agent: delivered as TXT, downloaded by the library. */
  g_free (ppms_peer_send_text (visitor, conversation, long_text->str));
  g_free (ppms_peer_send_text (visitor, conversation, emoji));
  wait_messages (f, 2);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->subtype, ==, "TXT");
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, long_text->str);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, emoji);
  /* Agent -> visitor: the long text arrives as TXT with the same content. */
  uuid = ppm_client_send_text (f->client, conversation, long_text->str);
  g_assert_no_error (wait_send_result (f)->error);
  msg = ppms_peer_wait_message_match (visitor, NULL, NULL, WAIT_MS);
  g_assert_nonnull (msg);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "ms"), ==, "TXT");
  g_assert_true (json_parser_load_from_data (parser,
                                             json_object_get_string_member ((JsonObject *) msg,
                                                                            "bo"),
                                             -1, NULL));
  url = g_strdup_printf ("%s/download/download/%s", ppms_server_get_url (f->server),
                         json_object_get_string_member (
                           json_node_get_object (json_parser_get_root (parser)), "fid"));
  downloaded = download_text (url);
  g_assert_cmpstr (downloaded, ==, long_text->str);
  g_free (ppm_client_send_text (f->client, conversation, emoji));
  g_assert_nonnull (ppms_peer_wait_message (visitor, emoji, WAIT_MS));
  g_string_free (long_text, TRUE);
}

/* ---- Catch-up at sign-in ---- */


static void
test_catch_up_at_sign_in (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor, *phone;
  const char *conversation;
  g_autofree char *first = NULL, *missed1 = NULL, *missed2 = NULL, *unacked1 = NULL;
  g_autofree char *unacked2 = NULL;
  g_autoptr (JsonObject) login = json_object_new ();
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) log = NULL;

  ppms_server_set_logging (f->server, TRUE);
  /* First session: one message seen live, which sets the baseline. */
  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  first = ppms_peer_send_text (visitor, conversation, "seen live");
  wait_messages (f, 1);
  ppm_client_disconnect (f->client);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  /* Missed while signed out: only in history. */
  missed1 = ppms_peer_send_text (visitor, conversation, "missed 1");
  missed2 = ppms_peer_send_text (visitor, conversation, "missed 2");
  g_assert_true (ppms_peer_wait_ack (visitor, missed2, WAIT_MS, NULL));
  /* A phone-class login of the same agent keeps a device online without a
   * socket: what is sent now lands in the agent's unacked list. */
  phone = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, "phone-terminal");
  ppms_peer_close (phone);
  json_object_set_string_member (login, "terminal", "phone-of-alice");
  json_object_set_string_member (login, "user_email", AGENT_EMAIL);
  json_object_set_string_member (login, "ostype", "AND");
  answer = ppms_peer_api_sync (phone, "PPKEFU_LOGIN", login, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (answer, "error_code"), ==, 0);
  unacked1 = ppms_peer_send_text (visitor, conversation, "unacked 1");
  unacked2 = ppms_peer_send_text (visitor, conversation, "unacked 2");
  g_assert_true (ppms_peer_wait_ack (visitor, unacked2, WAIT_MS, NULL));
  g_assert_cmpint (unacked_count (f, visitor), ==, 2);
  /* Second session: everything recovered once, in order, delayed, acked. */
  wait_exchange (f, "<- * /api/PPKEFU_LOGOUT *");
  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  wait_messages (f, 4);
  g_assert_cmpuint (f->messages->len, ==, 4);
  g_assert_cmpuint (count_uuid (f, first), ==, 0);
  g_assert_cmpuint (count_uuid (f, missed1), ==, 1);
  g_assert_cmpuint (count_uuid (f, missed2), ==, 1);
  g_assert_cmpuint (count_uuid (f, unacked1), ==, 1);
  g_assert_cmpuint (count_uuid (f, unacked2), ==, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, "missed 1");
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[3])->text, ==, "unacked 2");
  for (guint i = 0; i < f->messages->len; i++)
    g_assert_true (((PpmMessage *) f->messages->pdata[i])->delayed);
  g_assert_true (PPMS_WAIT_FOR (unacked_count (f, visitor) == 0, WAIT_MS));
  /* Before connected(): the history after the last message seen, then the
   * pushes kept for the phone; after it, the two pushes acked in one call. */
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  log = ppms_server_take_log (f->server);
  ppms_assert_log (log, CLIENT,
                   AGENT_SIGN_IN,
                   SOCKET_AUTH,
                   API_CALL ("PP_PAGE_HISTORY_MESSAGE"),
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                   API_CALL ("ACK_MESSAGE"));
  g_assert_cmpstr (json_object_get_string_member (request_body (log, "PP_PAGE_HISTORY_MESSAGE"),
                                                  "conversation_uuid"), ==, conversation);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      request_body (log, "ACK_MESSAGE"), "list")), ==, 2);
  /* A live message after the catch-up is not delayed, and it is the next
   * thing shown: nothing came again in between. */
  g_free (ppms_peer_send_text (visitor, conversation, "live again"));
  wait_messages (f, 5);
  g_assert_cmpuint (f->messages->len, ==, 5);
  g_assert_false (((PpmMessage *) f->messages->pdata[4])->delayed);
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

/* A visitor who starts a conversation while the agent is signed out gets
 * no unacked push (the agent had no device online): only the history has
 * the messages, and the next sign-in replays the new conversation from its
 * start, oldest first. (At an account's very first sign-in, old
 * conversations are not replayed: test_first_sign_in_does_not_flood.) */
static void
test_conversation_started_while_away (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  char *texts[] = { "hello?", "anybody there?", "I'll wait" };

  new_client (f);
  connect_ok (f);
  ppm_client_disconnect (f->client);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_autofree char *uuid = ppms_peer_send_text (visitor, conversation, texts[i]);

    g_assert_true (ppms_peer_wait_ack (visitor, uuid, WAIT_MS, NULL));
  }
  new_client (f);
  connect_ok (f);
  wait_messages (f, G_N_ELEMENTS (texts));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
    const PpmMessage *message = f->messages->pdata[i];

    g_assert_cmpstr (message->text, ==, texts[i]);
    g_assert_cmpstr (message->conversation_uuid, ==, conversation);
    g_assert_true (message->delayed);
  }
}

/* What was shown or sent in one session is not shown again in the next:
 * our own reply is the newest message of the conversation, but it was
 * written here, not elsewhere. */
static void
test_next_session_shows_nothing_twice (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  g_autofree char *conversation = NULL;
  g_autofree char *reply = NULL;

  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = g_strdup (ppms_peer_conversation_uuid (visitor));
  g_free (ppms_peer_send_text (visitor, conversation, "hello"));
  wait_messages (f, 1);
  reply = ppm_client_send_text (f->client, conversation, "hello, how can I help?");
  g_assert_no_error (wait_send_result (f)->error);
  g_assert_nonnull (ppms_peer_wait_message (visitor, "how can I help", WAIT_MS));
  ppm_client_disconnect (f->client);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  wait_exchange (f, "<- * /api/PPKEFU_LOGOUT *");

  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  g_free (ppms_peer_send_text (visitor, conversation, "thanks"));
  wait_messages (f, 1);
  g_assert_cmpuint (f->messages->len, ==, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, "thanks");
  /* The history after the last message shown holds only the own reply,
   * which is not shown again. */
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        AGENT_SIGN_IN,
                        SOCKET_AUTH,
                        API_CALL ("PP_PAGE_HISTORY_MESSAGE"),
                        API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
  /* Nothing old comes after it either: the next message is the next shown. */
  g_free (ppms_peer_send_text (visitor, conversation, "bye"));
  wait_messages (f, 2);
  g_assert_cmpuint (f->messages->len, ==, 2);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, "bye");
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

/* A visitor message is shown while the server holds every ACK_MESSAGE
 * unanswered; returns once its ack is on its way. */
static PpmsPeer *
message_shown_with_ack_held (Fixture *f)
{
  PpmsPeer *visitor = start_visitor (f);
  guint acks;

  ppms_server_set_http_fault (f->server, PPMS_FAULT_STALL, "ACK_MESSAGE", 1.0, 0, 0);
  acks = ppms_server_count_requests (f->server, "ACK_MESSAGE");
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "shown once"));
  wait_messages (f, 1);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_requests (f->server, "ACK_MESSAGE") > acks,
                                WAIT_MS));
  return visitor;
}

/* Signing out while an ack is in flight: the sign-out acks it (the request
 * in flight is cancelled with the session), so the server does not offer
 * the message again. */
static void
test_sign_out_acks_what_is_in_flight (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;

  new_client (f);
  connect_ok (f);
  visitor = message_shown_with_ack_held (f);
  ppms_server_clear_faults (f->server);
  ppm_client_disconnect (f->client);
  g_assert_true (PPMS_WAIT_FOR (unacked_count (f, visitor) == 0, WAIT_MS));
}

/* The session is lost for good before the server confirmed an ack: the
 * next session acks that push instead of showing the message again. */
static void
test_unconfirmed_ack_survives_a_lost_session (Fixture *f, gconstpointer data)
{
  PpmReconnectPolicy brief = { .first_delay_ms = 50, .max_delay_ms = 100, .max_attempts = 1 };
  PpmsPeer *visitor;

  new_client (f);
  ppm_client_set_reconnect_policy (f->client, &brief);
  connect_ok (f);
  visitor = message_shown_with_ack_held (f);
  ppms_server_stop (f->server);
  g_assert_true (PPMS_WAIT_FOR (f->disconnected, WAIT_MS));
  g_assert_error (f->disconnect_error, PPM_ERROR, PPM_ERROR_NETWORK);
  g_assert_nonnull (g_hash_table_lookup (f->settings, "unconfirmed_acks"));
  ppms_server_clear_faults (f->server);
  g_assert_true (ppms_server_restart (f->server, NULL));

  new_client (f);
  connect_ok (f);
  /* Caught-up messages come before live ones: the next one is the first. */
  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "new"));
  wait_messages (f, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, "new");
  g_assert_true (PPMS_WAIT_FOR (unacked_count (f, visitor) == 0, WAIT_MS));
  g_assert_cmpuint (f->messages->len, ==, 1);
}

static void
test_first_sign_in_does_not_flood (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  g_autofree char *last_seen = NULL;
  g_autofree char *last = NULL;

  /* History exists before this account ever signed in with the library. */
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  for (int i = 0; i < 3; i++)
    g_free (ppms_peer_send_text (visitor, conversation, "old message"));
  last = ppms_peer_send_text (visitor, conversation, "old message");
  g_assert_true (ppms_peer_wait_ack (visitor, last, WAIT_MS, NULL));
  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  g_assert_cmpuint (f->messages->len, ==, 0);
  /* The conversation is known, and its newest message is the baseline. */
  g_assert_true (g_hash_table_contains (f->conversations, conversation));
  last_seen = last_seen_uuid (f, conversation);
  g_assert_cmpstr (last_seen, ==, last);
  /* No history is read, and the next message is the first one shown. */
  g_free (ppms_peer_send_text (visitor, conversation, "new message"));
  wait_messages (f, 1);
  g_assert_cmpuint (f->messages->len, ==, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, "new message");
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        AGENT_FIRST_SIGN_IN,
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

/* More open conversations than fit a page (250, pages of 100): all are
 * listed, their visitors named from the list items without a member
 * look-up each, every unacked message shown once and acknowledged in
 * batches; the next sign-in fetches no history for conversations whose
 * latest message was already seen. */
static void
test_many_conversations (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) shown = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  const char *uuid, *peer;
  guint acks;
  g_autoptr (GPtrArray) log = NULL;

  ppms_server_set_logging (f->server, TRUE);
  g_assert_true (ppms_server_generate (f->server,
                                       "{\"conversations\": 250, \"messages_per_conversation\": 2,"
                                       " \"unacked_per_conversation\": 1}", &error));
  g_assert_no_error (error);
  new_client (f);
  connect_ok (f);
  wait_messages (f, 250);
  /* The catch-up ends with every push shown acknowledged. */
  g_assert_true (PPMS_WAIT_FOR (
    ppms_server_count_unacked_pushes (f->server, agent_uuid (f)) == 0
    && ppms_server_log_count (f->server, CLIENT, "<- * /api/ACK_MESSAGE *")
       == ppms_server_log_count (f->server, CLIENT, "-> * /api/ACK_MESSAGE"), WAIT_MS));
  g_assert_cmpuint (f->messages->len, ==, 250);
  for (guint i = 0; i < f->messages->len; i++)
    g_assert_true (g_hash_table_add (shown, ((PpmMessage *) f->messages->pdata[i])->uuid));
  g_assert_cmpuint (f->synced, ==, 1);
  g_assert_cmpuint (g_hash_table_size (f->conversations), ==, 250);
  g_hash_table_iter_init (&iter, f->conversations);
  while (g_hash_table_iter_next (&iter, (gpointer *) &uuid, (gpointer *) &peer)) {
    g_assert_cmpstr (peer, !=, "");
    g_assert_true (g_hash_table_contains (f->users, peer));
    g_assert_cmpstr (ppm_client_conversation_for_user (f->client, peer)->uuid, ==, uuid);
  }
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_PAGE_USER_CONVERSATION"), ==, 3);
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_GET_CONVERSATION_USER_LIST"), ==, 0);
  acks = ppms_server_count_requests (f->server, "ACK_MESSAGE");
  g_assert_cmpuint (acks, >=, 1);
  g_assert_cmpuint (acks, <=, 250 / 50 + 2);
  /* Three conversation pages, then the unacked pages (50 each, and the
   * empty one that ends them); the acks, however they were batched, name
   * every push once. */
  log = ppms_server_take_log (f->server);
  g_assert_cmpuint (acked_pushes (log), ==, 250);
  g_assert_cmpuint (ppms_log_remove (log, CLIENT, "* /api/ACK_MESSAGE*"), ==, 2 * acks);
  ppms_assert_log (log, CLIENT,
                   AGENT_KEY_DISCOVERY,
                   AGENT_SIGN_IN,
                   API_CALL ("PP_PAGE_USER_CONVERSATION"),
                   API_CALL ("PP_PAGE_USER_CONVERSATION"),
                   SOCKET_AUTH,
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                   API_CALL ("PP_PAGE_UNACKED_MESSAGE"));

  /* The client freed closes its socket, and signs nothing out. */
  new_client (f);
  wait_exchange (f, "ws_close *");
  ppms_assert_exchange (f->server, CLIENT, "ws_close client");
  connect_ok (f);
  g_assert_cmpuint (f->messages->len, ==, 0);
  g_assert_cmpuint (f->synced, ==, 1);
  g_assert_cmpuint (g_hash_table_size (f->conversations), ==, 250);
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_PAGE_HISTORY_MESSAGE"), ==, 0);
  /* A status change is the next thing the session does: no history page
   * and nothing shown came before it. */
  ppm_client_set_service_status (f->client, "BUSY");
  wait_exchange (f, "<- * /api/PPKEFU_SET_SERVICE_USER_STATUS *");
  g_assert_cmpuint (f->messages->len, ==, 0);
  ppms_assert_exchange (f->server, CLIENT,
                        AGENT_SIGN_IN,
                        API_CALL ("PP_PAGE_USER_CONVERSATION"),
                        API_CALL ("PP_PAGE_USER_CONVERSATION"),
                        SOCKET_AUTH,
                        API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                        API_CALL ("PPKEFU_SET_SERVICE_USER_STATUS"));
}

/* ---- Sessions elsewhere ---- */

static void
test_kicked_elsewhere (Fixture *f, gconstpointer data)
{
  new_client (f);
  connect_ok (f);
  ppms_server_set_logging (f->server, TRUE);
  start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, "another-browser");
  g_assert_true (PPMS_WAIT_FOR (f->disconnected, WAIT_MS));
  g_assert_error (f->disconnect_error, PPM_ERROR, PPM_ERROR_SIGNED_IN_ELSEWHERE);
  /* Transcript 08: the other browser's sign-in sends this socket SYS/LOGOUT.
   * The client only closes its socket: no PPKEFU_LOGOUT (it would sign the
   * other browser's device out) and no attempt to sign in again. */
  wait_exchange (f, "ws_close *");
  ppms_assert_exchange (f->server, CLIENT,
                        "<= ws MSG mt=SYS ms=LOGOUT ct=None",
                        "ws_close client");
}

/* The same agent on a phone-class device, driven with the library's own
 * REST and websocket parts (a browser-class login would kick the client). */
typedef struct {
  JsonObject *answer;
  gboolean done;
  gboolean opened;
  gboolean authenticated;
  gboolean send_acked;
} Phone;

static void
on_phone_answer (JsonObject *answer, const GError *error, gpointer data)
{
  Phone *phone = data;

  g_assert_no_error (error);
  phone->answer = json_object_ref (answer);
  phone->done = TRUE;
}

static void
on_phone_opened (gpointer data)
{
  ((Phone *) data)->opened = TRUE;
}

static void
on_phone_frame (gpointer data, const PpmFrame *frame)
{
  Phone *phone = data;

  if (frame->kind != PPM_FRAME_ACK)
    return;
  if (g_strcmp0 (frame->what, "AUTH") == 0 && frame->code == 0)
    phone->authenticated = TRUE;
  if (g_strcmp0 (frame->what, "SEND") == 0 && frame->code == 0)
    phone->send_acked = TRUE;
}

static void
on_phone_closed (gpointer data, const GError *error)
{
}

static JsonObject *
phone_call (PpmApi *api, Phone *phone, const char *name, JsonObject *body)
{
  phone->done = FALSE;
  g_clear_pointer (&phone->answer, json_object_unref);
  ppm_api_call (api, name, body, NULL, on_phone_answer, phone);
  g_assert_true (PPMS_WAIT_FOR (phone->done, WAIT_MS));
  return phone->answer;
}

static void
phone_send (Fixture *f, const char *conversation, const char *uuid, const char *text)
{
  static const PpmWsEvents ws_events = {
    .opened = on_phone_opened, .frame = on_phone_frame, .closed = on_phone_closed,
  };
  Phone phone = { NULL };
  PpmApi *api = ppm_api_new (ppms_server_get_url (f->server), NULL);
  g_autoptr (JsonObject) login = json_object_new ();
  g_autoptr (JsonObject) auth = NULL;
  g_autoptr (JsonObject) frame = NULL;
  g_autofree char *url = ppm_api_get_ws_url (api);
  g_autofree char *device = NULL;
  PpmWs *ws;

  ppm_api_token_password (api, ppms_server_ppkefu_key (f->server), AGENT_EMAIL,
                          AGENT_PASSWORD, NULL, on_phone_answer, &phone);
  g_assert_true (PPMS_WAIT_FOR (phone.done, WAIT_MS));
  ppm_api_set_token (api, json_object_get_string_member (phone.answer, "access_token"));
  json_object_set_string_member (login, "terminal", "phone-of-alice");
  json_object_set_string_member (login, "user_email", AGENT_EMAIL);
  json_object_set_string_member (login, "ostype", "AND");
  phone_call (api, &phone, "PPKEFU_LOGIN", login);
  device = g_strdup (json_object_get_string_member (phone.answer, "mobile_device_uuid"));
  g_assert_nonnull (device);
  ws = ppm_ws_new (ppm_api_get_session (api), url, &ws_events, &phone);
  ppm_ws_connect (ws, WAIT_MS);
  g_assert_true (PPMS_WAIT_FOR (phone.opened, WAIT_MS));
  auth = ppm_ws_auth_frame (ppm_api_get_token (api), ppms_server_app_uuid (f->server),
                            agent_uuid (f), device, TRUE, NULL);
  ppm_ws_send (ws, auth);
  g_assert_true (PPMS_WAIT_FOR (phone.authenticated, WAIT_MS));
  frame = ppm_ws_send_text_frame (uuid, ppms_server_app_uuid (f->server), conversation, "S2P",
                                  agent_uuid (f), device, conversation, text);
  ppm_ws_send (ws, frame);
  g_assert_true (PPMS_WAIT_FOR (phone.send_acked, WAIT_MS));
  ppm_ws_free (ws);
  g_clear_pointer (&phone.answer, json_object_unref);
  ppm_api_free (api);
}

static void
test_own_message_from_other_device (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  g_autofree char *uuid = g_uuid_string_random ();
  PpmMessage *message;

  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  g_free (ppms_peer_send_text (visitor, conversation, "hello"));
  wait_messages (f, 1);
  phone_send (f, conversation, uuid, "answered from the phone");
  wait_messages (f, 2);
  message = f->messages->pdata[1];
  g_assert_cmpstr (message->uuid, ==, uuid);
  g_assert_true (message->outgoing);
  g_assert_cmpstr (message->text, ==, "answered from the phone");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "answered from the phone", WAIT_MS));
  g_assert_false (f->disconnected);
}

/* The server flags this session's device offline behind its back (here a
 * late PPKEFU_LOGOUT naming it, sent from the agent's phone): no push
 * reaches the healthy-looking socket any more. The team refresh notices,
 * the session signs in again silently, keeps its status and catches up. */
static void
test_device_flagged_offline_signs_in_again (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor, *phone;
  g_autoptr (JsonObject) logout = json_object_new ();
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  guint tokens;

  new_client (f);
  ppm_client_set_team_poll_interval (f->client, 1);
  connect_ok (f);
  ppm_client_set_service_status (f->client, "BUSY");
  g_assert_true (PPMS_WAIT_FOR (status_is (f, "BUSY"), WAIT_MS));
  visitor = start_visitor (f);
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "before"));
  wait_messages (f, 1);

  phone = ppms_peer_new_agent (ppms_server_get_url (f->server),
                               ppms_server_ppkefu_key (f->server), AGENT_EMAIL, AGENT_PASSWORD,
                               "phone-of-alice");
  ppms_peer_set_agent_ostype (phone, "AND");
  g_ptr_array_add (f->peers, phone);
  g_assert_true (ppms_peer_start_sync (phone, &error));
  tokens = ppms_server_count_requests (f->server, "/ppauth/token");
  json_object_set_string_member (logout, "device_uuid", ppm_client_get_device_uuid (f->client));
  answer = ppms_peer_api_sync (phone, "PPKEFU_LOGOUT", logout, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (answer, "error_code"), ==, 0);
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                               "while the device was offline"));

  /* A fresh sign-in happened and the status asked for is back on the server. */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_requests (f->server, "/ppauth/token") > tokens
                                && status_is (f, "BUSY"), WAIT_MS));
  wait_messages (f, 2);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==,
                   "while the device was offline");
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "live again"));
  wait_messages (f, 3);
  g_assert_false (((PpmMessage *) f->messages->pdata[2])->delayed);
  g_assert_false (f->disconnected);
  g_assert_true (f->connected);
}

static void
test_status_change (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) log = NULL;

  new_client (f);
  connect_ok (f);
  ppms_server_set_logging (f->server, TRUE);
  g_assert_cmpstr (ppms_server_user_service_status (f->server, agent_uuid (f)), ==, "READY");
  ppm_client_set_service_status (f->client, "BUSY");
  g_assert_true (PPMS_WAIT_FOR (status_is (f, "BUSY"), WAIT_MS));
  /* Unknown values never reach the server (it would answer HTTP 500): the
   * call after it is the next thing the server sees. */
  ppm_client_set_service_status (f->client, "SLEEPING");
  ppm_client_set_service_status (f->client, "BUSY");
  g_assert_true (PPMS_WAIT_FOR (ppms_server_log_count (f->server, CLIENT,
                                                       "<- * /api/PPKEFU_SET_SERVICE_USER_STATUS *")
                                == 2, WAIT_MS));
  g_assert_cmpstr (ppms_server_user_service_status (f->server, agent_uuid (f)), ==, "BUSY");
  log = ppms_server_take_log (f->server);
  ppms_assert_log (log, CLIENT,
                   API_CALL ("PPKEFU_SET_SERVICE_USER_STATUS"),
                   API_CALL ("PPKEFU_SET_SERVICE_USER_STATUS"));
  for (guint i = 0; i < log->len; i++) {
    PpmsLogEntry *entry = log->pdata[i];

    if (entry->kind == PPMS_LOG_HTTP_REQUEST && strcmp (entry->actor, CLIENT) == 0)
      g_assert_cmpstr (json_object_get_string_member (entry->body, "user_status"), ==, "BUSY");
  }
}

/* ---- Typing, colleagues, failures while connected ---- */

static void
test_typing (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;

  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  g_free (ppms_peer_send_text (visitor, conversation, "hi"));
  wait_messages (f, 1);
  ppm_client_watch_typing (f->client, conversation, TRUE);
  ppms_peer_watch_typing (visitor, conversation);
  /* The two watches travel on different sockets: type until it shows. */
  for (int i = 0; i < 50 && f->typing == 0; i++) {
    ppms_peer_send_typing (visitor);
    PPMS_WAIT_FOR (f->typing > 0, 200);
  }
  g_assert_cmpuint (f->typing, >, 0);
  /* And the other way round. */
  ppm_client_send_typing (f->client, conversation);
  ppm_client_send_typing (f->client, conversation);   /* throttled */
  g_assert_true (ppms_peer_wait_typing (visitor, WAIT_MS));
}

static void
test_send_to_colleague (Fixture *f, gconstpointer data)
{
  PpmsPeer *bob = start_agent_peer (f, BOB_EMAIL, BOB_PASSWORD, NULL);
  const char *bob_uuid = ppms_peer_user_uuid (bob);
  const PpmConversation *conversation;
  const JsonObject *msg;
  g_autofree char *reply = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  SendResult *result;

  new_client (f);
  connect_ok (f);
  first = ppm_client_send_text_to_user (f->client, bob_uuid, "Bob, can you take this one?");
  result = wait_send_result (f);
  g_assert_no_error (result->error);
  g_assert_cmpstr (result->message_uuid, ==, first);
  conversation = ppm_client_conversation_for_user (f->client, bob_uuid);
  g_assert_nonnull (conversation);
  g_assert_cmpstr (conversation->type, ==, "S2S");
  g_assert_cmpstr (conversation->peer_uuid, ==, bob_uuid);
  msg = ppms_peer_wait_message (bob, "Bob, can you take this one?", WAIT_MS);
  g_assert_nonnull (msg);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "id"), ==, first);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "ct"), ==, "S2S");
  /* A second message reuses the conversation. */
  second = ppm_client_send_text_to_user (f->client, bob_uuid, "thanks");
  g_assert_nonnull (ppms_peer_wait_message (bob, "thanks", WAIT_MS));
  g_assert_true (PPMS_WAIT_FOR (f->send_results->len >= 2, WAIT_MS));
  g_assert_no_error (((SendResult *) f->send_results->pdata[1])->error);
  g_assert_cmpstr (((SendResult *) f->send_results->pdata[1])->message_uuid, ==, second);
  g_assert_cmpstr (((SendResult *) f->send_results->pdata[1])->conversation_uuid, ==,
                   conversation->uuid);
  /* Bob answers in the same conversation. */
  reply = ppms_peer_send_text (bob, conversation->uuid, "sure");
  wait_messages (f, 1);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->text, ==, "sure");
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[0])->from_name, ==, "Bob Assistance");
}

/* The conversation cannot be created: every message written meanwhile is
 * reported by the uuid the call returned, none is left without an answer. */
static void
test_send_to_colleague_refused (Fixture *f, gconstpointer data)
{
  const char *bob_uuid = ppms_server_user_uuid_by_email (f->server, BOB_EMAIL);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  new_client (f);
  connect_ok (f);
  ppms_server_set_http_fault (f->server, PPMS_FAULT_HTTP_500, "PP_CREATE_CONVERSATION", 1.0,
                              0, 0);
  first = ppm_client_send_text_to_user (f->client, bob_uuid, "one");
  second = ppm_client_send_text_to_user (f->client, bob_uuid, "two");
  g_assert_nonnull (first);
  g_assert_nonnull (second);
  g_assert_cmpstr (first, !=, second);
  g_assert_true (PPMS_WAIT_FOR (f->send_results->len >= 2, WAIT_MS));
  for (guint i = 0; i < 2; i++) {
    SendResult *result = f->send_results->pdata[i];

    g_assert_error (result->error, PPM_ERROR, PPM_ERROR_SEND_REFUSED);
    g_assert_cmpstr (result->message_uuid, ==, i == 0 ? first : second);
  }
  g_assert_null (ppm_client_conversation_for_user (f->client, bob_uuid));
  g_assert_false (f->disconnected);
}

static void
test_send_timeout (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  g_autofree char *uuid = NULL;
  SendResult *result;

  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  g_free (ppms_peer_send_text (visitor, conversation, "hi"));
  wait_messages (f, 1);
  ppm_client_set_send_timeout (f->client, 300);
  ppms_server_set_ws_stall (f->server, TRUE);
  uuid = ppm_client_send_text (f->client, conversation, "into the void");
  result = wait_send_result (f);
  g_assert_error (result->error, PPM_ERROR, PPM_ERROR_SEND_TIMEOUT);
  g_assert_cmpstr (result->message_uuid, ==, uuid);
  ppms_server_set_ws_stall (f->server, FALSE);
}

static void
test_send_unknown_conversation (Fixture *f, gconstpointer data)
{
  g_autofree char *uuid = NULL;

  new_client (f);
  connect_ok (f);
  uuid = ppm_client_send_text (f->client, "no-such-conversation", "hello");
  g_assert_nonnull (uuid);
  /* Reported later, never from within the call. */
  g_assert_cmpuint (f->send_results->len, ==, 0);
  g_assert_error (wait_send_result (f)->error, PPM_ERROR, PPM_ERROR_SEND_REFUSED);
}

static void
test_dropped_socket_recovers (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  g_autofree char *conversation = NULL;
  g_autofree char *missed = NULL;
  g_autofree char *queued = NULL;
  SendResult *result;

  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = g_strdup (ppms_peer_conversation_uuid (visitor));
  g_free (ppms_peer_send_text (visitor, conversation, "before"));
  wait_messages (f, 1);
  /* The new conversation is looked up before its message is shown. */
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        AGENT_FIRST_SIGN_IN,
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("PP_GET_CONVERSATION_INFO"),
                        API_CALL ("PP_GET_CONVERSATION_USER_LIST"),
                        API_CALL ("ACK_MESSAGE"));
  ppms_server_drop_websockets (f->server);
  /* Written while the socket is down: queued, sent after the repair. */
  queued = ppm_client_send_text (f->client, conversation, "queued reply");
  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  missed = ppms_peer_send_text (visitor, conversation, "sent while you were cut off");
  g_assert_true (ppms_peer_wait_ack (visitor, missed, WAIT_MS, NULL));
  /* Repaired without a new sign-in: no second connected(), no error. */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 2, WAIT_MS));
  wait_messages (f, 2);
  g_assert_cmpuint (f->messages->len, ==, 2);
  g_assert_cmpuint (count_uuid (f, missed), ==, 1);
  g_assert_false (f->disconnected);
  result = wait_send_result (f);
  g_assert_no_error (result->error);
  g_assert_cmpstr (result->message_uuid, ==, queued);
  g_assert_nonnull (ppms_peer_wait_message (visitor, "queued reply", WAIT_MS));
  /* And it still works live; it is the next thing shown. */
  g_free (ppms_peer_send_text (visitor, conversation, "live after repair"));
  wait_messages (f, 3);
  g_assert_cmpuint (f->messages->len, ==, 3);
  g_assert_false (((PpmMessage *) f->messages->pdata[2])->delayed);
  /* The repair, in order: a new socket, what started or was said during
   * the outage, and only then the reply written meanwhile, sent once. */
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppms_assert_exchange (f->server, CLIENT,
                        "ws_close server",
                        SOCKET_AUTH,
                        API_CALL ("PP_PAGE_USER_CONVERSATION"),
                        API_CALL ("PP_PAGE_HISTORY_MESSAGE"),
                        API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                        API_CALL ("PP_PAGE_HISTORY_MESSAGE"),
                        "=> ws send ms=TEXT ct=S2P",
                        "<= ws ACK what=SEND code=0",
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

/* ---- A lost ACK SEND ---- */

typedef struct {
  PpmRole role;
  PpmsAckLoss when;
} LostAck;

/* The server stores two messages and pushes them, then the connection dies
 * before their ACK SEND reaches us (before or after the push). After the
 * repair the history shows them stored: both are confirmed, in order, and
 * the other side receives each exactly once (twice without the look-up:
 * PPM_TEST_HOOK_BROKEN_RESEND=resend-all fails this). As an agent and as a
 * visitor. */
static void
test_lost_ack_send (Fixture *f, gconstpointer data)
{
  const LostAck *lost = data;
  g_autofree char *url = enterprise_url (f);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *after = NULL;
  PpmsPeer *other;
  const char *conversation;
  GHashTableIter iter;
  gpointer key;
  guint opened;

  if (lost->role == PPM_ROLE_AGENT) {
    new_client (f);
    connect_ok (f);
    other = start_visitor (f);
    conversation = ppms_peer_conversation_uuid (other);
    g_free (ppms_peer_send_text (other, conversation, "question"));
    wait_messages (f, 1);
  } else {
    other = start_agent_peer (f, AGENT_EMAIL, AGENT_PASSWORD, NULL);
    new_visitor_client (f, url, NULL, NULL);
    connect_ok (f);
    g_hash_table_iter_init (&iter, f->conversations);
    g_assert_true (g_hash_table_iter_next (&iter, &key, NULL));
    conversation = key;
  }
  opened = ppms_server_count_websockets_opened (f->server);
  ppms_server_set_ack_loss (f->server, lost->when, ppm_client_get_self (f->client)->uuid, 1);
  first = ppm_client_send_text (f->client, conversation, "stored, its ACK lost");
  second = ppm_client_send_text (f->client, conversation, "right behind it");
  /* Once: the repair's socket is healthy (it opens before the catch-up). */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_websockets_opened (f->server) > opened, WAIT_MS));
  ppms_server_clear_faults (f->server);
  g_assert_true (PPMS_WAIT_FOR (f->send_results->len >= 2, WAIT_MS));
  g_assert_no_error (((SendResult *) f->send_results->pdata[0])->error);
  g_assert_cmpstr (((SendResult *) f->send_results->pdata[0])->message_uuid, ==, first);
  g_assert_no_error (((SendResult *) f->send_results->pdata[1])->error);
  g_assert_cmpstr (((SendResult *) f->send_results->pdata[1])->message_uuid, ==, second);
  /* A message after them marks the end of what the other side gets. */
  after = ppm_client_send_text (f->client, conversation, "after the repair");
  g_assert_nonnull (ppms_peer_wait_message (other, "stored, its ACK lost", WAIT_MS));
  g_assert_nonnull (ppms_peer_wait_message (other, "right behind it", WAIT_MS));
  g_assert_nonnull (ppms_peer_wait_message (other, "after the repair", WAIT_MS));
  g_assert_cmpuint (ppms_peer_count_received (other), ==, 3);
  g_assert_false (f->disconnected);
}

static const LostAck lost_ack_agent_before_push = { PPM_ROLE_AGENT, PPMS_ACK_LOSS_BEFORE_PUSH };
static const LostAck lost_ack_agent_after_push = { PPM_ROLE_AGENT, PPMS_ACK_LOSS_AFTER_PUSH };
static const LostAck lost_ack_visitor_after_push = { PPM_ROLE_VISITOR, PPMS_ACK_LOSS_AFTER_PUSH };

/* ---- Changes made, answers lost: HTTP 500 after the work ---- */

static void
answer_500_after_work (Fixture *f, const char *call)
{
  ppms_server_set_http_fault (f->server, PPMS_FAULT_500_AFTER_WORK, call, 1.0, 0, 0);
}

/* Every call of an agent that changes something on the server, answered
 * HTTP 500 after the server made the change: nothing is shown or sent
 * twice, nothing is sent behind the user's back, and the session goes on
 * (or, at sign-in, fails with an error the UI tries again after). */
static void
test_changes_answered_500_after_work (Fixture *f, gconstpointer data)
{
  PpmsPeer *bob = start_agent_peer (f, BOB_EMAIL, BOB_PASSWORD, NULL);
  PpmsPeer *visitor;
  guint acks;
  guint opened;
  g_autofree char *shown = NULL;
  g_autofree char *later = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  /* PPKEFU_LOGIN: a protocol error, which libpurple is told is a network
   * error (src/purple/connection.c), so that the UI tries again. */
  answer_500_after_work (f, "PPKEFU_LOGIN");
  new_client (f);
  connect_fails (f, PPM_ERROR_PROTOCOL);
  ppms_server_clear_faults (f->server);
  new_client (f);
  connect_ok (f);

  /* ACK_MESSAGE: acked on the server, so never offered again. */
  visitor = start_visitor (f);
  answer_500_after_work (f, "ACK_MESSAGE");
  acks = ppms_server_count_requests (f->server, "ACK_MESSAGE");
  shown = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "acked once");
  wait_messages (f, 1);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_requests (f->server, "ACK_MESSAGE") > acks, WAIT_MS));
  g_assert_true (PPMS_WAIT_FOR (unacked_count (f, visitor) == 0, WAIT_MS));
  ppms_server_clear_faults (f->server);
  opened = ppms_server_count_websockets_opened (f->server);
  ppms_server_drop_websockets (f->server);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_websockets_opened (f->server) > opened, WAIT_MS));
  /* The drop cut the peers too. */
  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  ppms_peer_close (bob);
  g_assert_true (ppms_peer_start_sync (bob, NULL));
  later = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "after the repair");
  wait_messages (f, 2);
  g_assert_cmpuint (count_uuid (f, shown), ==, 1);
  g_assert_cmpuint (count_uuid (f, later), ==, 1);

  /* PPKEFU_SET_SERVICE_USER_STATUS: the status stands. */
  answer_500_after_work (f, "PPKEFU_SET_SERVICE_USER_STATUS");
  ppm_client_set_service_status (f->client, "BUSY");
  g_assert_true (PPMS_WAIT_FOR (status_is (f, "BUSY"), WAIT_MS));
  ppms_server_clear_faults (f->server);

  /* PP_CREATE_CONVERSATION: the conversation exists, the message is
   * reported not sent and is not sent later; the next one goes through the
   * same conversation. */
  answer_500_after_work (f, "PP_CREATE_CONVERSATION");
  first = ppm_client_send_text_to_user (f->client, ppms_peer_user_uuid (bob), "first try");
  g_assert_nonnull (wait_send_result (f)->error);
  ppms_server_clear_faults (f->server);
  second = ppm_client_send_text_to_user (f->client, ppms_peer_user_uuid (bob), "second try");
  g_assert_true (PPMS_WAIT_FOR (f->send_results->len >= 2, WAIT_MS));
  g_assert_no_error (((SendResult *) f->send_results->pdata[1])->error);
  g_assert_nonnull (ppms_peer_wait_message (bob, "second try", WAIT_MS));
  g_assert_null (ppms_peer_wait_message (bob, "first try", 300));
  g_assert_cmpstr (((SendResult *) f->send_results->pdata[1])->conversation_uuid, ==,
                   ppm_client_conversation_for_user (f->client, ppms_peer_user_uuid (bob))->uuid);
  g_assert_false (f->disconnected);
}


static void
test_server_gone (Fixture *f, gconstpointer data)
{
  PpmReconnectPolicy policy = { .first_delay_ms = 100, .max_delay_ms = 400, .max_attempts = 3 };

  new_client (f);
  ppm_client_set_reconnect_policy (f->client, &policy);
  connect_ok (f);
  ppms_server_stop (f->server);
  /* A few attempts to reopen the socket, then the session ends. */
  g_assert_true (PPMS_WAIT_FOR (f->disconnected, 30000));
  g_assert_error (f->disconnect_error, PPM_ERROR, PPM_ERROR_NETWORK);
}

static void
test_free_while_connecting (Fixture *f, gconstpointer data)
{
  /* Freed at every stage of the sign-in: nothing may call back. */
  for (guint delay = 0; delay < 60; delay += 3) {
    g_autoptr (GError) error = NULL;

    new_client (f);
    g_assert_true (ppm_client_connect (f->client, &error));
    settle (delay);
    g_clear_pointer (&f->client, ppm_client_free);
    f->connected = FALSE;
    settle (20);
    g_assert_false (f->disconnected);
  }
}


/* ---- Liveness, through a TCP relay that can go silent ---- */

/* Relays bytes between the client and the server; when frozen it keeps what
 * it reads and forwards nothing, like a connection whose far end vanished.
 * Reference-counted: each pipe holds the relay until its last callback. */
typedef struct {
  GSocketService *service;
  guint16 port;
  guint16 target_port;
  gboolean frozen;
  gboolean refusing;          /* new connections are closed at once */
  guint epoch;                /* connections of earlier epochs are silent */
  guint attempts;             /* connections the client opened */
  guint connections;          /* ... that reached the server */
  GPtrArray *streams;         /* GIOStream* to close at the end */
} Relay;

typedef struct {
  Relay *relay;
  guint epoch;
  GIOStream *from;
  GIOStream *to;
  guint8 buffer[16384];
} Pipe;

static void
relay_clear (Relay *relay)
{
  g_ptr_array_unref (relay->streams);
}

static void
pipe_free (Pipe *pipe)
{
  g_object_unref (pipe->from);
  g_object_unref (pipe->to);
  g_rc_box_release_full (pipe->relay, (GDestroyNotify) relay_clear);
  g_free (pipe);
}

static gboolean
pipe_is_silent (Pipe *pipe)
{
  return pipe->relay->frozen || pipe->epoch != pipe->relay->epoch;
}

/* One side closed or failed: so does the other, as a router would pass it on. */
static void
pipe_end (Pipe *pipe)
{
  g_io_stream_close (pipe->from, NULL, NULL);
  g_io_stream_close (pipe->to, NULL, NULL);
  pipe_free (pipe);
}

static void pipe_read (Pipe *pipe);

static void
on_pipe_written (GObject *source, GAsyncResult *result, gpointer data)
{
  Pipe *pipe = data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    pipe_end (pipe);
  else if (pipe_is_silent (pipe))
    pipe_free (pipe);
  else
    pipe_read (pipe);
}

static void
on_pipe_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Pipe *pipe = data;
  gssize size = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (pipe_is_silent (pipe))
    pipe_free (pipe);           /* silent from now on */
  else if (size <= 0)
    pipe_end (pipe);
  else
    g_output_stream_write_all_async (g_io_stream_get_output_stream (pipe->to), pipe->buffer,
                                     size, G_PRIORITY_DEFAULT, NULL, on_pipe_written, pipe);
}

static void
pipe_read (Pipe *pipe)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (pipe->from), pipe->buffer,
                             sizeof pipe->buffer, G_PRIORITY_DEFAULT, NULL, on_pipe_read, pipe);
}

static void
start_pipe (Relay *relay, GIOStream *from, GIOStream *to)
{
  Pipe *pipe = g_new0 (Pipe, 1);

  pipe->relay = g_rc_box_acquire (relay);
  pipe->epoch = relay->epoch;
  pipe->from = g_object_ref (from);
  pipe->to = g_object_ref (to);
  pipe_read (pipe);
}

static gboolean
on_relay_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
                   gpointer data)
{
  Relay *relay = data;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) upstream = NULL;

  relay->attempts++;
  if (relay->refusing)
    return FALSE;
  upstream = g_socket_client_connect_to_host (client, "127.0.0.1", relay->target_port, NULL,
                                              NULL);
  if (upstream == NULL)
    return FALSE;
  relay->connections++;
  g_ptr_array_add (relay->streams, g_object_ref (connection));
  g_ptr_array_add (relay->streams, g_object_ref (upstream));
  start_pipe (relay, G_IO_STREAM (connection), G_IO_STREAM (upstream));
  start_pipe (relay, G_IO_STREAM (upstream), G_IO_STREAM (connection));
  return TRUE;
}

static Relay *
relay_new (guint16 target_port)
{
  Relay *relay = g_rc_box_new0 (Relay);
  g_autoptr (GError) error = NULL;

  relay->target_port = target_port;
  relay->streams = g_ptr_array_new_with_free_func (g_object_unref);
  relay->service = g_socket_service_new ();
  relay->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (relay->service), NULL,
                                                     &error);
  g_assert_no_error (error);
  g_signal_connect (relay->service, "incoming", G_CALLBACK (on_relay_incoming), relay);
  g_socket_service_start (relay->service);
  return relay;
}

/* Closes every connection open now, as a network that goes away would. */
static void
relay_cut (Relay *relay)
{
  for (guint i = 0; i < relay->streams->len; i++)
    g_io_stream_close (relay->streams->pdata[i], NULL, NULL);
}

/* The connections open now go silent (their far end vanished); new ones work. */
static void
relay_silence_open_connections (Relay *relay)
{
  relay->epoch++;
}

static void
relay_free (Relay *relay)
{
  g_socket_service_stop (relay->service);
  g_socket_listener_close (G_SOCKET_LISTENER (relay->service));
  g_clear_object (&relay->service);
  relay->frozen = TRUE;
  for (guint i = 0; i < relay->streams->len; i++)
    g_io_stream_close (relay->streams->pdata[i], NULL, NULL);
  g_rc_box_release_full (relay, (GDestroyNotify) relay_clear);
}

/* Signs the agent in through the relay, with websocket pings every
 * keepalive_seconds, and waits for a first message from a new visitor. */
static PpmsPeer *
agent_through_relay (Fixture *f, Relay *relay, guint keepalive_seconds)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", relay->port);
  PpmsPeer *visitor;

  new_client_for (f, url, AGENT_EMAIL, AGENT_PASSWORD, ppms_server_ppkefu_key (f->server),
                  "terminal-of-test");
  ppm_client_set_keepalive_interval (f->client, keepalive_seconds);
  ppm_client_set_request_timeout (f->client, 2000);
  connect_ok (f);
  visitor = start_visitor (f);
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "one"));
  wait_messages (f, 1);
  return visitor;
}

/* After a repair: the visitor's next message arrives, no error was
 * reported; then the client and the relay go. */
static void
assert_repaired_silently (Fixture *f, Relay *relay, PpmsPeer *visitor)
{
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "two"));
  g_assert_true (PPMS_WAIT_FOR (f->messages->len >= 2, 30000));
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, "two");
  g_assert_false (f->disconnected);
  drop_client (f);
  relay_free (relay);
}

static void
test_silent_connection_is_repaired (Fixture *f, gconstpointer data)
{
  Relay *relay = relay_new (ppms_server_get_port (f->server));
  PpmsPeer *visitor = agent_through_relay (f, relay, 1);
  guint connections;

  /* Pongs keep a quiet connection alive. */
  settle (3500);
  g_assert_false (f->disconnected);
  /* The far end goes silent: noticed by the missing pongs, and repaired. */
  connections = relay->connections;
  relay->frozen = TRUE;
  g_assert_true (PPMS_WAIT_FOR (relay->connections > connections, 20000));
  relay->frozen = FALSE;
  assert_repaired_silently (f, relay, visitor);
}

/* A suspend of an hour: the boot-time clock jumps while the main loop's
 * timers do not, and the far end says nothing (its TCP state is gone). The
 * next liveness check must see the hour of silence, not wait three more
 * keep-alive intervals, and the repair stays silent. */
static void
test_silence_across_suspend_is_found_at_next_check (Fixture *f, gconstpointer data)
{
  Relay *relay = relay_new (ppms_server_get_port (f->server));
  PpmsPeer *visitor = agent_through_relay (f, relay, 4);
  guint opened;

  opened = ppms_server_count_websockets_opened (f->server);
  relay_silence_open_connections (relay);
  /* Measured on the boot-time clock, the silence includes the hour; on a
   * clock that stops during a suspend it would be about 12 s. */
  g_test_expect_message ("ppmessage", G_LOG_LEVEL_DEBUG,
                         "*no answer from the server for 36?? seconds*");
  ppm_clock_skip_for_tests ((gint64) 3600 * G_USEC_PER_SEC);
  /* One check interval (plus the timer's one-second slack) and the first
   * back-off, well inside the three intervals a stopped clock would need. */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_websockets_opened (f->server) > opened,
                                3 * 4000 - 1000));
  g_test_assert_expected_messages ();
  assert_repaired_silently (f, relay, visitor);
}

/* The network went away, then the lid was closed for an hour: the give-up
 * budget counts time awake, so the first failed try after the resume (the
 * network is not back yet) does not end the session. */
static void
test_outage_across_suspend_is_not_given_up (Fixture *f, gconstpointer data)
{
  Relay *relay = relay_new (ppms_server_get_port (f->server));
  PpmReconnectPolicy patient = { .first_delay_ms = 100, .max_delay_ms = 400,
                                 .give_up_after_ms = 60000 };
  PpmsPeer *visitor;
  guint attempts;

  agent_through_relay (f, relay, PPM_WS_KEEPALIVE_SECONDS);
  ppm_client_set_reconnect_policy (f->client, &patient);

  ppms_server_stop (f->server);
  attempts = relay->attempts + 2;
  g_assert_true (PPMS_WAIT_FOR (relay->attempts >= attempts || f->disconnected, WAIT_MS));
  ppm_clock_skip_for_tests ((gint64) 3600 * G_USEC_PER_SEC);
  attempts = relay->attempts + 1;
  g_assert_true (PPMS_WAIT_FOR (relay->attempts >= attempts || f->disconnected, WAIT_MS));
  g_assert_false (f->disconnected);

  g_assert_true (ppms_server_restart (f->server, NULL));
  /* The old visitor's socket went with the server: a new one speaks. */
  visitor = start_visitor (f);
  g_free (ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "after"));
  wait_messages (f, 2);
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, "after");
  g_assert_false (f->disconnected);
  drop_client (f);
  relay_free (relay);
}

/* A visitor starts a conversation while the agent's network is away: the
 * server makes no push for the agent (its device went offline with the
 * socket), so the repair finds the conversation in the list's first page
 * and replays it from its start. */
static void
test_conversation_started_during_outage (Fixture *f, gconstpointer data)
{
  Relay *relay = relay_new (ppms_server_get_port (f->server));
  PpmReconnectPolicy patient = { .first_delay_ms = 100, .max_delay_ms = 500 };
  PpmsPeer *newcomer;
  g_autofree char *hello = NULL;
  const PpmMessage *message;

  agent_through_relay (f, relay, PPM_WS_KEEPALIVE_SECONDS);
  ppm_client_set_reconnect_policy (f->client, &patient);
  relay->refusing = TRUE;
  relay_cut (relay);
  /* The first visitor's socket is left: the agent's is gone. */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  newcomer = start_visitor (f);
  hello = ppms_peer_send_text (newcomer, ppms_peer_conversation_uuid (newcomer), "new here");
  g_assert_true (ppms_peer_wait_ack (newcomer, hello, WAIT_MS, NULL));
  relay->refusing = FALSE;

  wait_messages (f, 2);
  message = f->messages->pdata[1];
  g_assert_cmpstr (message->uuid, ==, hello);
  g_assert_cmpstr (message->text, ==, "new here");
  g_assert_true (message->delayed);
  g_assert_cmpstr (g_hash_table_lookup (f->conversations, ppms_peer_conversation_uuid (newcomer)),
                   ==, ppms_peer_user_uuid (newcomer));
  g_assert_false (f->disconnected);
  drop_client (f);
  relay_free (relay);
}

static void
test_socket_never_accepted (Fixture *f, gconstpointer data)
{
  ppms_server_set_ws_stall (f->server, TRUE);
  new_client (f);
  ppm_client_set_request_timeout (f->client, 500);
  connect_fails (f, PPM_ERROR_NETWORK);
  ppms_server_set_ws_stall (f->server, FALSE);
}

/* ---- Bounds ---- */

static void
test_send_bound_while_down (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  g_autofree char *conversation = NULL;
  g_autofree char *uuid = NULL;
  PpmReconnectPolicy forever = { .first_delay_ms = 50, .max_delay_ms = 200 };
  SendResult *result;

  ppms_server_set_logging (f->server, TRUE);
  new_client (f);
  ppm_client_set_reconnect_policy (f->client, &forever);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = g_strdup (ppms_peer_conversation_uuid (visitor));
  g_free (ppms_peer_send_text (visitor, conversation, "hi"));
  wait_messages (f, 1);
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  ppm_client_set_send_timeout (f->client, 700);
  ppms_server_stop (f->server);
  /* Typed while the server is away: queued, and reported when the bound
   * passes, never dropped in silence; the session itself stays. */
  uuid = ppm_client_send_text (f->client, conversation, "nobody hears this");
  result = wait_send_result (f);
  g_assert_error (result->error, PPM_ERROR, PPM_ERROR_SEND_TIMEOUT);
  g_assert_cmpstr (result->message_uuid, ==, uuid);
  g_assert_false (f->disconnected);
  ppms_server_set_logging (f->server, TRUE);
  g_assert_true (ppms_server_restart (f->server, NULL));
  /* A reported message is not sent later behind the user's back: not in
   * the repair, nor before the visitor's next message. */
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) >= 1, WAIT_MS));
  wait_exchange (f, "<- * /api/PP_PAGE_UNACKED_MESSAGE *");
  g_assert_cmpuint (ppms_server_count_messages (f->server, conversation), ==, 1);
  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, NULL));
  g_free (ppms_peer_send_text (visitor, conversation, "still there?"));
  wait_messages (f, 2);
  wait_exchange (f, "<- * /api/ACK_MESSAGE *");
  g_assert_cmpuint (ppms_server_count_messages (f->server, conversation), ==, 2);
  ppms_assert_exchange (f->server, CLIENT,
                        SOCKET_AUTH,
                        API_CALL ("PP_PAGE_USER_CONVERSATION"),
                        API_CALL ("PP_PAGE_HISTORY_MESSAGE"),
                        API_CALL ("PP_PAGE_UNACKED_MESSAGE"),
                        "<= ws MSG mt=NOTI ms=TEXT ct=P2S",
                        API_CALL ("ACK_MESSAGE"));
}

static void
test_oversized_long_text (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  const char *conversation;
  g_autoptr (GError) error = NULL;
  gsize size = 1024 * 1024 + 1;
  g_autofree char *text = g_malloc (size);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *fid = NULL;
  g_autofree char *body = NULL;
  const PpmMessage *message;

  memset (text, 'a', size);
  bytes = g_bytes_new_take (g_steal_pointer (&text), size);
  new_client (f);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = ppms_peer_conversation_uuid (visitor);
  fid = ppms_peer_upload_sync (visitor, "long.txt", "text/plain", bytes, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\"}", fid);
  g_free (ppms_peer_send_message (visitor, conversation, "TXT", body));
  g_free (ppms_peer_send_text (visitor, conversation, "after the long one"));
  wait_messages (f, 2);
  message = f->messages->pdata[0];
  /* Not loaded into memory: a notice with the link instead. */
  g_assert_nonnull (strstr (message->text, "longer than 1024 KiB"));
  g_assert_nonnull (strstr (message->text, fid));
  g_assert_cmpstr (((PpmMessage *) f->messages->pdata[1])->text, ==, "after the long one");
}

/* ---- TLS: certificates that fail verification ---- */

static char *
file_fingerprint (const char *name)
{
  g_autofree char *path = ppms_test_tls_file (name);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = g_tls_certificate_new_from_file (path, &error);
  g_autoptr (GByteArray) der = NULL;

  g_assert_no_error (error);
  g_object_get (certificate, "certificate", &der, NULL);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

/* The fixture's server again, speaking https and wss with a self-signed
 * certificate. */
static void
listen_tls_self_signed (Fixture *f)
{
  g_autofree char *cert = ppms_test_tls_file ("server-self-signed.pem");
  g_autofree char *key = ppms_test_tls_file ("server-self-signed.key");

  ppms_server_free (f->server);
  f->server = server_start_tls_with_seed (team_seed, cert, key);
}

static PpmClient *
new_tls_client (Fixture *f, const char *pin)
{
  PpmClientConfig config = {
    .server_url = ppms_server_get_url (f->server),
    .role = PPM_ROLE_AGENT,
    .email = AGENT_EMAIL,
    .password = AGENT_PASSWORD,
    .terminal = "terminal-of-test",
    .device_name = "test-lib-client",
    .pinned_certificate = pin,
  };

  return replace_client (f, &config);
}

static gboolean
tls_backend_missing (void)
{
  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return FALSE;
  g_test_skip ("no GIO TLS backend (glib-networking) installed");
  return TRUE;
}

static void
test_tls_untrusted_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *expected = file_fingerprint ("server-self-signed.pem");

  if (tls_backend_missing ())
    return;
  listen_tls_self_signed (f);
  g_assert_true (g_str_has_prefix (ppms_server_get_url (f->server), "https://"));
  new_tls_client (f, NULL);
  connect_fails (f, PPM_ERROR_CERTIFICATE);
  /* Refused, not accepted silently, and the glue can show what was seen. */
  g_assert_cmpstr (ppm_client_get_peer_certificate_fingerprint (f->client), ==, expected);
  g_assert_true (ppm_client_get_peer_certificate_errors (f->client) &
                 G_TLS_CERTIFICATE_UNKNOWN_CA);
}

static void
test_tls_pinned_accepted (Fixture *f, gconstpointer data)
{
  g_autofree char *fingerprint = file_fingerprint ("server-self-signed.pem");
  g_autoptr (GString) pin = g_string_new (NULL);

  if (tls_backend_missing ())
    return;
  listen_tls_self_signed (f);
  /* As a user might paste it: upper case, with colons. */
  for (guint i = 0; fingerprint[i]; i += 2)
    g_string_append_printf (pin, "%s%c%c", i ? ":" : "", g_ascii_toupper (fingerprint[i]),
                            g_ascii_toupper (fingerprint[i + 1]));
  new_tls_client (f, pin->str);
  /* connected() comes after the websocket (wss) is authenticated. */
  connect_ok (f);
  g_assert_null (ppm_client_get_peer_certificate_fingerprint (f->client));
}

static void
test_tls_other_pin_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *other = file_fingerprint ("ca.pem");

  if (tls_backend_missing ())
    return;
  listen_tls_self_signed (f);
  new_tls_client (f, other);
  connect_fails (f, PPM_ERROR_CERTIFICATE);
}

/* ---- Proxy: one resolver for HTTP and the websocket ---- */

/* A GProxyResolver that answers "direct" and remembers what it was asked. */
typedef struct {
  GObject parent;
  GPtrArray *asked;           /* URIs */
  const char *proxy;          /* the answer; NULL: "direct://" */
} RecordingResolver;

typedef struct {
  GObjectClass parent_class;
} RecordingResolverClass;

static void recording_resolver_iface_init (GProxyResolverInterface *iface);

G_DEFINE_TYPE_WITH_CODE (RecordingResolver, recording_resolver, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER,
                                                recording_resolver_iface_init))

static void
recording_resolver_finalize (GObject *object)
{
  g_ptr_array_unref (((RecordingResolver *) object)->asked);
  G_OBJECT_CLASS (recording_resolver_parent_class)->finalize (object);
}

static void
recording_resolver_class_init (RecordingResolverClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = recording_resolver_finalize;
}

static void
recording_resolver_init (RecordingResolver *resolver)
{
  resolver->asked = g_ptr_array_new_with_free_func (g_free);
}

static char **
recording_lookup (GProxyResolver *resolver, const char *uri, GCancellable *cancellable,
                  GError **error)
{
  const char *proxy = ((RecordingResolver *) resolver)->proxy;
  char *answer[] = { (char *) (proxy ? proxy : "direct://"), NULL };

  g_ptr_array_add (((RecordingResolver *) resolver)->asked, g_strdup (uri));
  return g_strdupv (answer);
}

static void
recording_lookup_async (GProxyResolver *resolver, const char *uri, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, data);

  g_task_return_pointer (task, recording_lookup (resolver, uri, cancellable, NULL),
                         (GDestroyNotify) g_strfreev);
}

static char **
recording_lookup_finish (GProxyResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
recording_is_supported (GProxyResolver *resolver)
{
  return TRUE;
}

static void
recording_resolver_iface_init (GProxyResolverInterface *iface)
{
  iface->is_supported = recording_is_supported;
  iface->lookup = recording_lookup;
  iface->lookup_async = recording_lookup_async;
  iface->lookup_finish = recording_lookup_finish;
}

static gboolean
asked_about (RecordingResolver *resolver, const char *scheme)
{
  for (guint i = 0; i < resolver->asked->len; i++)
    if (g_str_has_prefix (resolver->asked->pdata[i], scheme))
      return TRUE;
  return FALSE;
}

/* How often the resolver was asked the way to a websocket (once an attempt). */
static guint
count_socket_lookups (RecordingResolver *resolver)
{
  guint count = 0;

  for (guint i = 0; i < resolver->asked->len; i++)
    if (g_str_has_suffix (resolver->asked->pdata[i], "/pcsocket/WS"))
      count++;
  return count;
}

static void
test_proxy_resolver_for_http_and_websocket (Fixture *f, gconstpointer data)
{
  RecordingResolver *resolver = g_object_new (recording_resolver_get_type (), NULL);
  PpmReconnectPolicy policy = { .first_delay_ms = 50, .max_delay_ms = 200 };
  guint lookups;

  new_client (f);
  ppm_client_set_proxy_resolver (f->client, G_PROXY_RESOLVER (resolver));
  ppm_client_set_reconnect_policy (f->client, &policy);
  connect_ok (f);
  g_assert_true (asked_about (resolver, "http://"));
  /* The websocket obeys it too: while it names a proxy that refuses
   * connections, the lost socket cannot come back; then it can. */
  resolver->proxy = "http://127.0.0.1:9";
  lookups = count_socket_lookups (resolver);
  ppms_server_set_logging (f->server, TRUE);
  ppms_server_drop_websockets (f->server);
  /* Three attempts to come back went to the proxy, and none reached the
   * server. */
  g_assert_true (PPMS_WAIT_FOR (count_socket_lookups (resolver) >= lookups + 3, WAIT_MS));
  g_assert_cmpuint (ppms_server_count_sockets (f->server), ==, 0);
  wait_exchange (f, "ws_close *");
  ppms_assert_exchange (f->server, CLIENT, "ws_close server");
  resolver->proxy = NULL;
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) == 1, WAIT_MS));
  g_assert_false (f->disconnected);
  drop_client (f);
  g_object_unref (resolver);
}

/* ---- A token the server stops accepting ---- */

static void
test_refused_token_signs_in_again (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  g_autofree char *conversation = NULL;
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dump = NULL;
  PpmReconnectPolicy policy = { .first_delay_ms = 50, .max_delay_ms = 200, .max_attempts = 5 };

  new_client (f);
  ppm_client_set_reconnect_policy (f->client, &policy);
  connect_ok (f);
  visitor = start_visitor (f);
  conversation = g_strdup (ppms_peer_conversation_uuid (visitor));
  g_free (ppms_peer_send_text (visitor, conversation, "before"));
  wait_messages (f, 1);
  /* A new server with the same data but no tokens (as after a restart that
   * lost them): the old token gets ACK AUTH 9 and API error 4. */
  dump = ppms_server_dump_data (f->server);
  {
    guint port = ppms_server_get_port (f->server);
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autofree char *without_tokens = NULL;
    JsonObject *root;

    g_assert_true (json_parser_load_from_data (parser, dump, -1, &error));
    root = json_node_get_object (json_parser_get_root (parser));
    g_assert_true (json_object_has_member (root, "tokens"));
    json_object_remove_member (root, "tokens");
    without_tokens = json_to_string (json_parser_get_root (parser), FALSE);
    g_ptr_array_set_size (f->peers, 0);
    ppms_server_free (f->server);
    f->server = ppms_server_new_from_data (without_tokens, &error);
    g_assert_no_error (error);
    g_assert_true (ppms_server_listen (f->server, port, &error));
    g_assert_no_error (error);
    ppms_server_set_timer_scale (f->server, 0.05);
  }
  visitor = start_visitor (f);
  g_assert_true (PPMS_WAIT_FOR (ppms_server_count_sockets (f->server) >= 2 || f->disconnected,
                                WAIT_MS));
  g_assert_false (f->disconnected);
  after = ppm_client_send_text (f->client, conversation, "after");
  g_assert_no_error (wait_send_result (f)->error);
  g_assert_cmpstr (wait_send_result (f)->message_uuid, ==, after);
}

#define ADD(name, func) \
  g_test_add ("/lib/client/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("sign-in", test_sign_in);
  ADD ("disconnect", test_disconnect);
  ADD ("key-given", test_key_given);
  ADD ("wrong-key", test_wrong_key);
  ADD ("wrong-password", test_wrong_password);
  ADD ("unreachable", test_unreachable);
  ADD ("malformed-url", test_malformed_url);
  ADD ("visitor-needs-team", test_visitor_needs_team);
  ADD ("visitor-chat", test_visitor_chat);
  ADD ("visitor-returns", test_visitor_returns);
  ADD ("visitor-to-chosen-agent", test_visitor_to_chosen_agent);
  ADD ("visitor-with-name", test_visitor_with_name);
  ADD ("visitor-profile-and-kept-uuid", test_visitor_profile_and_kept_uuid);
  g_test_add ("/lib/client/visitor-replays-unseen", Fixture, "replay unseen", fixture_set_up,
              test_visitor_replays_unseen, fixture_tear_down);
  ADD ("visitor-answer-while-away", test_visitor_replays_unseen);
  ADD ("visitor-with-agent-email", test_visitor_with_agent_email);
  ADD ("visitor-unknown-team", test_visitor_unknown_team);
  ADD ("not-ppmessage", test_not_ppmessage);
  ADD ("server-error", test_server_error);
  ADD ("server-stall", test_server_stall);
  ADD ("visitor-message-once-and-acked", test_visitor_message_once_and_acked);
  ADD ("reply-reaches-visitor", test_reply_reaches_visitor);
  ADD ("long-text-and-emoji", test_long_text_and_emoji);
  ADD ("catch-up-at-sign-in", test_catch_up_at_sign_in);
  ADD ("first-sign-in-does-not-flood", test_first_sign_in_does_not_flood);
  ADD ("next-session-shows-nothing-twice", test_next_session_shows_nothing_twice);
  ADD ("conversation-started-while-away", test_conversation_started_while_away);
  ADD ("sign-out-acks-what-is-in-flight", test_sign_out_acks_what_is_in_flight);
  ADD ("unconfirmed-ack-survives-a-lost-session", test_unconfirmed_ack_survives_a_lost_session);
  ADD ("many-conversations", test_many_conversations);
  ADD ("kicked-elsewhere", test_kicked_elsewhere);
  ADD ("own-message-from-other-device", test_own_message_from_other_device);
  ADD ("status-change", test_status_change);
  ADD ("device-flagged-offline-signs-in-again", test_device_flagged_offline_signs_in_again);
  ADD ("typing", test_typing);
  ADD ("send-to-colleague", test_send_to_colleague);
  ADD ("send-to-colleague-refused", test_send_to_colleague_refused);
  ADD ("send-timeout", test_send_timeout);
  ADD ("send-unknown-conversation", test_send_unknown_conversation);
  ADD ("dropped-socket-recovers", test_dropped_socket_recovers);
  g_test_add ("/lib/client/lost-ack-send/agent-before-push", Fixture, &lost_ack_agent_before_push,
              fixture_set_up, test_lost_ack_send, fixture_tear_down);
  g_test_add ("/lib/client/lost-ack-send/agent-after-push", Fixture, &lost_ack_agent_after_push,
              fixture_set_up, test_lost_ack_send, fixture_tear_down);
  g_test_add ("/lib/client/lost-ack-send/visitor-after-push", Fixture,
              &lost_ack_visitor_after_push, fixture_set_up, test_lost_ack_send, fixture_tear_down);
  ADD ("changes-answered-500-after-work", test_changes_answered_500_after_work);
  ADD ("stall-at-every-sign-in-step", test_stall_at_every_sign_in_step);
  ADD ("server-gone", test_server_gone);
  ADD ("free-while-connecting", test_free_while_connecting);
  ADD ("silent-connection-is-repaired", test_silent_connection_is_repaired);
  ADD ("silence-across-suspend-is-found-at-next-check",
       test_silence_across_suspend_is_found_at_next_check);
  ADD ("outage-across-suspend-is-not-given-up", test_outage_across_suspend_is_not_given_up);
  ADD ("conversation-started-during-outage", test_conversation_started_during_outage);
  ADD ("socket-never-accepted", test_socket_never_accepted);
  ADD ("send-bound-while-down", test_send_bound_while_down);
  ADD ("oversized-long-text", test_oversized_long_text);
  ADD ("tls-untrusted-refused", test_tls_untrusted_refused);
  ADD ("tls-pinned-accepted", test_tls_pinned_accepted);
  ADD ("tls-other-pin-refused", test_tls_other_pin_refused);
  ADD ("refused-token-signs-in-again", test_refused_token_signs_in_again);
  ADD ("proxy-resolver-for-http-and-websocket", test_proxy_resolver_for_http_and_websocket);
  return g_test_run ();
}
