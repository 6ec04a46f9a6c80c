/* test-lib-groups.c: group conversations of agents in the client library,
 * against the PPMessage test server: which conversation is a group (never
 * a visitor's, however many agents are in it; never a one-to-one), creating
 * one around the server's bugs (no two members at once; a one-to-one handed
 * back for one member), refusing what cannot be a group before asking the
 * server, adding a member and leaving.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "server-start.h"
#include "ppms-internal.h"

#define WAIT_MS 15000
#define ALICE "agent@ppmessage.local"
#define BOB   "bob@ppmessage.local"
#define CAROL "carol@ppmessage.local"
#define DAVE  "dave@ppmessage.local"

static const char team_seed[] =
  "{\"app\": {\"app_name\": \"Group Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" ALICE "\", \"password\": \"agentpass\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true},"
  "  {\"user_email\": \"" BOB "\", \"password\": \"bobpass\","
  "   \"user_fullname\": \"Bob Assistance\", \"is_service_user\": true},"
  "  {\"user_email\": \"" CAROL "\", \"password\": \"carolpass\","
  "   \"user_fullname\": \"Carol Care\", \"is_service_user\": true},"
  "  {\"user_email\": \"" DAVE "\", \"password\": \"davepass\","
  "   \"user_fullname\": \"Dave Desk\", \"is_service_user\": true}"
  " ]}";

typedef struct {
  PpmsServer *server;
  PpmClient *client;
  gboolean connected;
  guint send_results;
  gboolean done;
  char *done_uuid;
  GError *done_error;
} Fixture;

static void
on_connected (gpointer data)
{
  ((Fixture *) data)->connected = TRUE;
}

static void
on_send_result (gpointer data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  g_assert_no_error (error);
  ((Fixture *) data)->send_results++;
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .send_result = on_send_result,
};

static void
on_done (gpointer data, const char *uuid, const GError *error)
{
  Fixture *f = data;

  g_assert_false (f->done);
  f->done = TRUE;
  f->done_uuid = g_strdup (uuid);
  f->done_error = error ? g_error_copy (error) : NULL;
}

static void
reset_done (Fixture *f)
{
  f->done = FALSE;
  g_clear_pointer (&f->done_uuid, g_free);
  g_clear_error (&f->done_error);
}

static const char *
uuid_of (Fixture *f, const char *email)
{
  const char *uuid = ppms_server_user_uuid_by_email (f->server, email);

  g_assert_nonnull (uuid);
  return uuid;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PpmClientConfig config = { .role = PPM_ROLE_AGENT, .email = ALICE, .password = "agentpass",
                             .terminal = "terminal-of-test", .device_name = "test-lib-groups" };

  f->server = server_start_with_seed (team_seed);
  config.server_url = ppms_server_get_url (f->server);
  f->client = ppm_client_new (&config, &events, f);
  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (PPMS_WAIT_FOR (f->connected, WAIT_MS));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  ppm_client_free (f->client);
  ppms_server_free (f->server);
  reset_done (f);
}

static gboolean
server_has_member (Fixture *f, const char *conversation, const char *user)
{
  PpmsConversation *c = ppms_conversation_lookup (f->server, conversation);

  return c != NULL && ppms_conversation_find_member (c, user) != NULL;
}

/* Alice's one-to-one with a colleague, made by her first message. */
static const PpmConversation *
one_to_one (Fixture *f, const char *email)
{
  guint before = f->send_results;
  g_autofree char *uuid = ppm_client_send_text_to_user (f->client, uuid_of (f, email), "hi");

  g_assert_nonnull (uuid);
  g_assert_true (PPMS_WAIT_FOR (f->send_results == before + 1, WAIT_MS));
  return ppm_client_conversation_for_user (f->client, uuid_of (f, email));
}

static const PpmConversation *
create (Fixture *f, const char *name, const char *first, const char *second)
{
  const char *members[] = { first, second, NULL };

  reset_done (f);
  ppm_client_create_group (f->client, name, members, on_done, f);
  g_assert_true (PPMS_WAIT_FOR (f->done, WAIT_MS));
  return f->done_uuid ? ppm_client_lookup_conversation (f->client, f->done_uuid) : NULL;
}

static void
test_which_is_a_group (Fixture *f, gconstpointer data)
{
  PpmsPeer *visitor = ppms_peer_new_visitor (ppms_server_get_url (f->server),
                                             ppms_server_app_uuid (f->server),
                                             ppms_server_ppcom_key (f->server),
                                             ppms_server_ppcom_secret (f->server), NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *sent = NULL;
  const PpmConversation *conversation;
  GPtrArray *groups;

  /* A visitor's conversation with the four agents of the team. */
  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  sent = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor), "hello team");
  g_assert_true (PPMS_WAIT_FOR ((conversation = ppm_client_lookup_conversation (
                                   f->client, ppms_peer_conversation_uuid (visitor))) != NULL
                                  && conversation->member_uuids->len == 5, WAIT_MS));
  g_assert_false (conversation->is_group);
  g_assert_cmpstr (conversation->peer_uuid, ==, ppms_peer_user_uuid (visitor));
  /* A one-to-one with a colleague. */
  conversation = one_to_one (f, BOB);
  g_assert_false (conversation->is_group);
  /* A group: this agent and two colleagues. */
  conversation = create (f, "Night shift", uuid_of (f, CAROL), uuid_of (f, DAVE));
  g_assert_no_error (f->done_error);
  g_assert_true (conversation->is_group);
  g_assert_null (conversation->peer_uuid);
  g_assert_cmpstr (conversation->name, ==, "Night shift");
  g_assert_cmpuint (conversation->member_uuids->len, ==, 3);
  groups = ppm_client_list_groups (f->client);
  g_assert_cmpuint (groups->len, ==, 1);
  g_assert_true (groups->pdata[0] == conversation);
  g_ptr_array_unref (groups);
  ppms_peer_free (visitor);
}

static void
test_create_around_one_to_ones (Fixture *f, gconstpointer data)
{
  const char *alice = uuid_of (f, ALICE), *bob = uuid_of (f, BOB), *carol = uuid_of (f, CAROL);
  const PpmConversation *with_bob = one_to_one (f, BOB);
  const PpmConversation *group;
  g_autofree char *with_bob_uuid = g_strdup (with_bob->uuid);
  g_autofree char *with_carol_uuid = NULL;

  /* Bob's one-to-one comes back for Bob: Carol is tried, Bob added. */
  group = create (f, "Launch", bob, carol);
  g_assert_no_error (f->done_error);
  g_assert_cmpstr (group->uuid, !=, with_bob_uuid);
  g_assert_true (server_has_member (f, group->uuid, alice));
  g_assert_true (server_has_member (f, group->uuid, bob));
  g_assert_true (server_has_member (f, group->uuid, carol));
  g_assert_cmpuint (ppms_conversation_lookup (f->server, with_bob_uuid)->members->len, ==, 2);
  g_assert_false (ppm_client_lookup_conversation (f->client, with_bob_uuid)->is_group);

  /* One-to-ones with both (the group counts for neither): nothing made. */
  with_carol_uuid = g_strdup (one_to_one (f, CAROL)->uuid);
  g_assert_cmpstr (with_carol_uuid, !=, group->uuid);
  ppms_server_set_logging (f->server, TRUE);
  g_assert_null (create (f, "Again", bob, carol));
  g_assert_error (f->done_error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  g_assert_cmpuint (ppms_server_log_count (f->server, NULL, "-> POST /api/PP_CREATE_CONVERSATION"),
                    ==, 2);
  g_assert_cmpuint (ppms_server_log_count (f->server, NULL,
                                           "-> POST /api/PP_UPDATE_CONVERSATION_MEMBER"), ==, 0);
  g_assert_cmpuint (ppms_conversation_lookup (f->server, with_carol_uuid)->members->len, ==, 2);
}

static void
test_refused_before_asking (Fixture *f, gconstpointer data)
{
  ppms_server_set_logging (f->server, TRUE);
  /* One colleague (twice) is no group; self and strangers are no members. */
  g_assert_null (create (f, "Pair", uuid_of (f, BOB), uuid_of (f, BOB)));
  g_assert_error (f->done_error, PPM_ERROR, PPM_ERROR_SETTINGS);
  g_assert_null (create (f, "Self", uuid_of (f, BOB), uuid_of (f, ALICE)));
  g_assert_error (f->done_error, PPM_ERROR, PPM_ERROR_SETTINGS);
  g_assert_null (create (f, "Stranger", uuid_of (f, BOB), "no-such-user"));
  g_assert_error (f->done_error, PPM_ERROR, PPM_ERROR_SETTINGS);
  g_assert_cmpuint (ppms_server_log_count (f->server, NULL, "-> POST /api/*"), ==, 0);
}

static void
test_add_then_leave (Fixture *f, gconstpointer data)
{
  const char *dave = uuid_of (f, DAVE);
  const PpmConversation *group = create (f, NULL, uuid_of (f, BOB), uuid_of (f, CAROL));
  g_autofree char *uuid = g_strdup (group->uuid);
  GPtrArray *groups;

  g_assert_cmpstr (group->name, ==, "Bob Assistance, Carol Care");
  reset_done (f);
  ppm_client_add_group_member (f->client, uuid, dave, on_done, f);
  g_assert_true (PPMS_WAIT_FOR (f->done, WAIT_MS));
  g_assert_no_error (f->done_error);
  g_assert_true (server_has_member (f, uuid, dave));
  g_assert_cmpuint (group->member_uuids->len, ==, 4);

  reset_done (f);
  ppm_client_leave_group (f->client, uuid, on_done, f);
  g_assert_true (PPMS_WAIT_FOR (f->done, WAIT_MS));
  g_assert_no_error (f->done_error);
  g_assert_false (server_has_member (f, uuid, uuid_of (f, ALICE)));
  g_assert_false (group->is_open);
  groups = ppm_client_list_groups (f->client);
  g_assert_cmpuint (groups->len, ==, 0);
  g_ptr_array_unref (groups);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/groups/which-is-a-group", Fixture, NULL, fixture_set_up, test_which_is_a_group,
              fixture_tear_down);
  g_test_add ("/groups/create-around-one-to-ones", Fixture, NULL, fixture_set_up,
              test_create_around_one_to_ones, fixture_tear_down);
  g_test_add ("/groups/refused-before-asking", Fixture, NULL, fixture_set_up,
              test_refused_before_asking, fixture_tear_down);
  g_test_add ("/groups/add-then-leave", Fixture, NULL, fixture_set_up, test_add_then_leave,
              fixture_tear_down);
  return g_test_run ();
}
