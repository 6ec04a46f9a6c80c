/* test-lib-backlog.c: the client library against the PPMessage test server
 * when an agent has more unacknowledged messages than one read of the
 * unacked list gives (2,000): the rest follow in the same session, once and
 * in order, without signing in again; a failing or interrupted follow-up
 * never ends the session, and the next repair brings the rest.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "server-start.h"

#include <stdlib.h>
#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define WAIT_MS 30000
/* What one read of the unacked list gives (PPM_UNACKED_MAX_PAGES pages of
 * PPM_UNACKED_PAGE_SIZE). */
#define ONE_READ 2000
#define ONE_READ_PAGES 40
#define PAGE_RETRIES 3
/* Generated messages dated 2001-09-09 (microseconds), long before any clock
 * these tests run on: live messages are newer. */
#define OLD_START_TIME G_GINT64_CONSTANT (1000000000000000)
/* Texts of the messages the tests send live (the generator's never start so). */
#define LIVE_PREFIX "Live "

/* One agent, so that the generated unacked pushes are all hers. */
static const char team_seed[] =
  "{\"app\": {\"app_name\": \"Busy Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

typedef struct {
  PpmsServer *server;
  PpmClient *client;
  GHashTable *settings;       /* the account settings */
  GHashTable *shown;          /* message uuid -> times shown (GUINT) */
  GHashTable *last_index;     /* conversation uuid -> index + 1 of its last message shown */
  guint messages;
  gboolean out_of_order;
  gboolean connected;
  gboolean disconnected;
  GError *disconnect_error;
  /* When the message count reaches fault_at, this fault is set on the
   * unacked list: the follow-up's first page meets it. */
  guint fault_at;
  PpmsFaultKind fault;
  const char *fault_path;     /* NULL: the unacked list */
  /* The agent's unacked pushes at the last look, and the ACK_MESSAGE
   * requests the server had received then (G_MAXUINT: look again). */
  guint unacked_seen;
  guint acks_at_look;
} Fixture;

/* ---- Events ---- */

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

  f->disconnected = TRUE;
  g_clear_error (&f->disconnect_error);
  f->disconnect_error = error ? g_error_copy (error) : NULL;
}

/* The generator's texts: "Message j in conversation c" or "Reply j in ...". */
static guint
message_index (const char *text)
{
  const char *space = text ? strchr (text, ' ') : NULL;

  g_assert_nonnull (space);
  return (guint) strtoul (space + 1, NULL, 10);
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  Fixture *f = data;
  guint times = GPOINTER_TO_UINT (g_hash_table_lookup (f->shown, message->uuid));
  guint index, last;

  g_assert_true (f->connected);
  g_hash_table_insert (f->shown, g_strdup (message->uuid), GUINT_TO_POINTER (times + 1));
  f->messages++;
  if (g_str_has_prefix (message->text, LIVE_PREFIX))
    return;                     /* sent by the test: counted only */
  index = message_index (message->text);
  last = GPOINTER_TO_UINT (g_hash_table_lookup (f->last_index, message->conversation_uuid));
  g_assert_true (message->delayed);
  if (last > index)             /* index + 1 <= last: not after the one before */
    f->out_of_order = TRUE;
  g_hash_table_insert (f->last_index, g_strdup (message->conversation_uuid),
                       GUINT_TO_POINTER (index + 1));
  if (f->messages == f->fault_at)
    ppms_server_set_http_fault (f->server, f->fault,
                                f->fault_path ? f->fault_path : "PP_PAGE_UNACKED_MESSAGE", 1.0,
                                0, 1);
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
  .connected = on_connected,
  .disconnected = on_disconnected,
  .message = on_message,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
};

/* ---- Fixture ---- */

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->server = server_start_with_seed (team_seed);
  f->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->last_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->client, ppm_client_free);
  ppms_server_free (f->server);
  g_hash_table_unref (f->settings);
  g_hash_table_unref (f->shown);
  g_hash_table_unref (f->last_index);
  g_clear_error (&f->disconnect_error);
}

/* `conversations` conversations whose last `unacked` messages each wait
 * unacknowledged for the agent (half from visitors, half her own replies
 * from another device). */
static void
generate_backlog_from (Fixture *f, guint conversations, guint unacked, gint64 start_time)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *spec = g_strdup_printf ("{\"conversations\": %u,"
                                           " \"messages_per_conversation\": %u,"
                                           " \"unacked_per_conversation\": %u, \"seed\": 7,"
                                           " \"start_time\": %" G_GINT64_FORMAT "}",
                                           conversations, unacked, unacked, start_time);

  g_assert_true (ppms_server_generate (f->server, spec, &error));
  g_assert_no_error (error);
}

/* The generator's default dates (2026-01-01). */
static void
generate_backlog (Fixture *f, guint conversations, guint unacked)
{
  generate_backlog_from (f, conversations, unacked, G_GINT64_CONSTANT (1767225600000000));
}

static gboolean
is_connected_or_done (gpointer data)
{
  Fixture *f = data;

  return f->connected || f->disconnected;
}

static void
connect_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  PpmClientConfig config = {
    .server_url = ppms_server_get_url (f->server),
    .role = PPM_ROLE_AGENT,
    .email = AGENT_EMAIL,
    .password = AGENT_PASSWORD,
    .terminal = "terminal-of-test",
    .device_name = "test-lib-backlog",
  };
  PpmReconnectPolicy policy = { .first_delay_ms = 50, .max_delay_ms = 200 };

  f->client = ppm_client_new (&config, &events, f);
  ppm_client_set_reconnect_policy (f->client, &policy);
  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (ppms_wait_until (is_connected_or_done, f, WAIT_MS));
  if (f->disconnect_error)
    g_error ("sign-in failed: %s", f->disconnect_error->message);
  g_assert_true (f->connected);
}

typedef struct {
  Fixture *f;
  guint count;
} CountWait;

static gboolean
has_messages (gpointer data)
{
  CountWait *wait = data;

  return g_hash_table_size (wait->f->shown) >= wait->count || wait->f->disconnected;
}

static void
wait_messages (Fixture *f, guint count)
{
  CountWait wait = { f, count };

  if (!ppms_wait_until (has_messages, &wait, WAIT_MS))
    g_error ("got %u messages, expected %u", g_hash_table_size (f->shown), count);
  g_assert_false (f->disconnected);
}

static gboolean
has_unacked_requests (gpointer data)
{
  CountWait *wait = data;

  return ppms_server_count_requests (wait->f->server, "PP_PAGE_UNACKED_MESSAGE") >= wait->count;
}

static void
wait_unacked_requests (Fixture *f, guint count)
{
  CountWait wait = { f, count };

  if (!ppms_wait_until (has_unacked_requests, &wait, WAIT_MS))
    g_error ("%u PP_PAGE_UNACKED_MESSAGE requests, expected %u",
             ppms_server_count_requests (f->server, "PP_PAGE_UNACKED_MESSAGE"), count);
}

/* Iterates the main loop for a while (only to show that nothing more comes). */
static gboolean
never (gpointer data)
{
  return FALSE;
}

static void
settle (guint ms)
{
  ppms_wait_until (never, NULL, ms);
}

/* The server's unacked list of the agent, from its seed-format dump. */
static guint
server_unacked (Fixture *f)
{
  g_autofree char *dump = ppms_server_dump_data (f->server);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  const char *agent = ppms_server_user_uuid_by_email (f->server, AGENT_EMAIL);
  JsonArray *pushes;
  guint unacked = 0;

  g_assert_true (json_parser_load_from_data (parser, dump, -1, &error));
  g_assert_no_error (error);
  pushes = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                         "pushes");
  for (guint i = 0; pushes && i < json_array_get_length (pushes); i++) {
    JsonObject *push = json_array_get_object_element (pushes, i);

    if (g_strcmp0 (json_object_get_string_member_with_default (push, "user_uuid", ""),
                   agent) == 0 &&
        g_strcmp0 (json_object_get_string_member_with_default (push, "status", ""),
                   "PUSHED") == 0)
      unacked++;
  }
  return unacked;
}

/* The dump is slow (a main-loop iteration that long can starve idle
 * sources, such as the client's next ACK_MESSAGE): it is read again only
 * after another ACK_MESSAGE. */
static gboolean
all_acked (gpointer data)
{
  Fixture *f = data;
  guint acks = ppms_server_count_requests (f->server, "/ACK_MESSAGE");

  if (acks != f->acks_at_look) {
    f->unacked_seen = server_unacked (f);
    f->acks_at_look = acks;
  }
  return f->unacked_seen == 0;
}

static void
wait_all_acked (Fixture *f)
{
  f->acks_at_look = G_MAXUINT;
  if (!ppms_wait_until (all_acked, f, WAIT_MS))
    g_error ("%u pushes still unacked", server_unacked (f));
}

/* Every message shown exactly once, in order per conversation, acked. */
static void
assert_all_shown_once (Fixture *f, guint count)
{
  GHashTableIter iter;
  gpointer times;

  settle (300);
  g_assert_cmpuint (g_hash_table_size (f->shown), ==, count);
  g_assert_cmpuint (f->messages, ==, count);
  g_hash_table_iter_init (&iter, f->shown);
  while (g_hash_table_iter_next (&iter, NULL, &times))
    g_assert_cmpuint (GPOINTER_TO_UINT (times), ==, 1);
  g_assert_false (f->out_of_order);
  wait_all_acked (f);
  g_assert_false (f->disconnected);
}

/* One sign-in for the whole test. */
static void
assert_signed_in_once (Fixture *f)
{
  g_assert_cmpuint (ppms_server_count_requests (f->server, "/ppauth/token"), ==, 1);
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PPKEFU_LOGIN"), ==, 1);
}

typedef struct {
  Fixture *f;
  const char *uuid;
} ShownWait;

static gboolean
is_shown (gpointer data)
{
  ShownWait *wait = data;

  return g_hash_table_contains (wait->f->shown, wait->uuid) || wait->f->disconnected;
}

static void
wait_shown (Fixture *f, const char *uuid)
{
  ShownWait wait = { f, uuid };

  g_assert_nonnull (uuid);
  if (!ppms_wait_until (is_shown, &wait, WAIT_MS))
    g_error ("message %s not shown", uuid);
  g_assert_false (f->disconnected);
}

/* The generated visitor of conversation c, signed in (its latest
 * conversation is c). */
static PpmsPeer *
start_generated_visitor (Fixture *f, guint c)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *email = g_strdup_printf ("visitor%u@generated.test", c);
  g_autofree char *name = g_strdup_printf ("Visitor %u", c);
  PpmsPeer *visitor = ppms_peer_new_named_visitor (ppms_server_get_url (f->server),
                                                   ppms_server_app_uuid (f->server),
                                                   ppms_server_ppcom_key (f->server),
                                                   ppms_server_ppcom_secret (f->server),
                                                   email, name);

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  g_assert_nonnull (ppms_peer_conversation_uuid (visitor));
  return visitor;
}

/* Signs out and in again with a new client on the same account settings,
 * once the acks sent at sign-out reached the server. */
static void
sign_in_again (Fixture *f)
{
  ppm_client_disconnect (f->client);
  g_assert_true (f->disconnected);
  g_assert_null (f->disconnect_error);
  g_clear_pointer (&f->client, ppm_client_free);
  wait_all_acked (f);
  f->connected = FALSE;
  f->disconnected = FALSE;
  connect_ok (f);
}

static void
assert_none_shown_twice (Fixture *f)
{
  GHashTableIter iter;
  gpointer uuid, times;

  g_hash_table_iter_init (&iter, f->shown);
  while (g_hash_table_iter_next (&iter, &uuid, &times))
    if (GPOINTER_TO_UINT (times) != 1)
      g_error ("message %s shown %u times", (const char *) uuid, GPOINTER_TO_UINT (times));
}

/* ---- Tests ---- */

/* 2,600 unacked messages (130 conversations of 20): 2,000 at sign-in, the
 * other 600 right after, once the first ones are acked. */
static void
test_backlog_follows_in_the_same_session (Fixture *f, gconstpointer data)
{
  generate_backlog (f, 130, 20);
  g_assert_cmpuint (server_unacked (f), ==, 2600);
  connect_ok (f);
  wait_messages (f, 2600);
  assert_all_shown_once (f, 2600);
  assert_signed_in_once (f);
  /* One read of 40 pages, then one of 12 full pages and an empty one. */
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_PAGE_UNACKED_MESSAGE"), ==,
                    ONE_READ_PAGES + 13);
}

/* 4,100 unacked (82 conversations of 50): three reads, 2,000 + 2,000 + 100. */
static void
test_backlog_of_several_rounds (Fixture *f, gconstpointer data)
{
  generate_backlog (f, 82, 50);
  connect_ok (f);
  wait_messages (f, 4100);
  assert_all_shown_once (f, 4100);
  assert_signed_in_once (f);
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_PAGE_UNACKED_MESSAGE"), ==,
                    2 * ONE_READ_PAGES + 3);
}

/* The follow-up's page fails every time: the session goes on without it;
 * the next repair (a dropped socket) brings the rest, still once each. */
static void
test_failed_follow_up_waits_for_the_repair (Fixture *f, gconstpointer data)
{
  generate_backlog (f, 130, 20);
  f->fault_at = ONE_READ;
  f->fault = PPMS_FAULT_HTTP_500;
  connect_ok (f);
  wait_messages (f, ONE_READ);
  /* The follow-up's first page and its retries, then nothing more. */
  wait_unacked_requests (f, ONE_READ_PAGES + 1 + PAGE_RETRIES);
  settle (1500);
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_PAGE_UNACKED_MESSAGE"), ==,
                    ONE_READ_PAGES + 1 + PAGE_RETRIES);
  g_assert_false (f->disconnected);
  g_assert_cmpuint (g_hash_table_size (f->shown), ==, ONE_READ);
  g_assert_cmpuint (server_unacked (f), ==, 600);

  ppms_server_clear_faults (f->server);
  ppms_server_drop_websockets (f->server);
  wait_messages (f, 2600);
  assert_all_shown_once (f, 2600);
  assert_signed_in_once (f);
}

/* Signs in with 2,600 unacked messages; returns once the first read was
 * shown and the follow-up's first page is held unanswered by the server. */
static void
sign_in_with_follow_up_stalled (Fixture *f)
{
  generate_backlog (f, 130, 20);
  f->fault_at = ONE_READ;
  f->fault = PPMS_FAULT_STALL;
  connect_ok (f);
  wait_messages (f, ONE_READ);
  wait_unacked_requests (f, ONE_READ_PAGES + 1);
}

/* A socket lost while the follow-up's page is unanswered: the follow-up
 * is dropped with the connection; the repair's catch-up brings the rest. */
static void
test_repair_during_follow_up (Fixture *f, gconstpointer data)
{
  sign_in_with_follow_up_stalled (f);
  ppms_server_clear_faults (f->server);
  ppms_server_drop_websockets (f->server);
  wait_messages (f, 2600);
  assert_all_shown_once (f, 2600);
  assert_signed_in_once (f);
  /* The stalled page is not asked again: the repair read from the start. */
  g_assert_cmpuint (ppms_server_count_requests (f->server, "PP_PAGE_UNACKED_MESSAGE"), ==,
                    ONE_READ_PAGES + 1 + 13);
}

/* Signing out while the follow-up's page is unanswered ends cleanly. */
static void
test_sign_out_during_follow_up (Fixture *f, gconstpointer data)
{
  sign_in_with_follow_up_stalled (f);
  ppm_client_disconnect (f->client);
  g_assert_true (f->disconnected);
  g_assert_null (f->disconnect_error);
  g_clear_pointer (&f->client, ppm_client_free);
  ppms_server_clear_faults (f->server);
  settle (300);
  g_assert_cmpuint (g_hash_table_size (f->shown), ==, ONE_READ);
  g_assert_cmpuint (server_unacked (f), ==, 600);
}

/* A live message of a conversation whose unacked messages come in the
 * next round (conversation 0 is the most recently active: its pushes end
 * the list) is shown before them; their older times do not move the
 * conversation's last seen back, so the next sign-in, which replays history
 * from it, shows nothing again. Round 2 waits for the acks of round 1, held
 * back by failing ACK_MESSAGE until the live message was shown. */
static void
test_backlog_after_live_keeps_last_seen (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor;
  g_autofree char *live = NULL;
  g_autofree char *barrier = NULL;
  const char *conversation;

  generate_backlog_from (f, 130, 20, OLD_START_TIME);
  f->fault_at = ONE_READ;
  f->fault = PPMS_FAULT_HTTP_500;
  f->fault_path = "/ACK_MESSAGE";
  connect_ok (f);
  wait_messages (f, ONE_READ);
  visitor = start_generated_visitor (f, 0);
  conversation = ppms_peer_conversation_uuid (visitor);
  live = ppms_peer_send_text (visitor, conversation, LIVE_PREFIX "before the backlog");
  wait_shown (f, live);
  /* Nothing of conversation 0 yet: its backlog is all in round 2. */
  g_assert_false (g_hash_table_contains (f->last_index, conversation));
  g_assert_cmpuint (f->messages, ==, ONE_READ + 1);

  ppms_server_clear_faults (f->server);
  wait_messages (f, 2600 + 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (f->last_index, conversation)), ==,
                    20);
  g_assert_false (f->out_of_order);
  wait_all_acked (f);

  sign_in_again (f);
  /* Catch-up messages come before live ones: after this one, it is over. */
  barrier = ppms_peer_send_text (visitor, conversation, LIVE_PREFIX "after signing in again");
  wait_shown (f, barrier);
  assert_none_shown_twice (f);
  g_assert_cmpuint (f->messages, ==, 2600 + 2);
  g_assert_false (f->disconnected);
  ppms_peer_free (visitor);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lib/backlog/follows-in-the-same-session", Fixture, NULL, fixture_set_up,
              test_backlog_follows_in_the_same_session, fixture_tear_down);
  g_test_add ("/lib/backlog/several-rounds", Fixture, NULL, fixture_set_up,
              test_backlog_of_several_rounds, fixture_tear_down);
  g_test_add ("/lib/backlog/failed-follow-up-waits-for-the-repair", Fixture, NULL,
              fixture_set_up, test_failed_follow_up_waits_for_the_repair, fixture_tear_down);
  g_test_add ("/lib/backlog/repair-during-follow-up", Fixture, NULL, fixture_set_up,
              test_repair_during_follow_up, fixture_tear_down);
  g_test_add ("/lib/backlog/sign-out-during-follow-up", Fixture, NULL, fixture_set_up,
              test_sign_out_during_follow_up, fixture_tear_down);
  g_test_add ("/lib/backlog/backlog-after-live-keeps-last-seen", Fixture, NULL, fixture_set_up,
              test_backlog_after_live_keeps_last_seen, fixture_tear_down);
  return g_test_run ();
}
