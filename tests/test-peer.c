/* test-peer.c: the scripted test peer (tests/server/peer.c) against the test
 * server: visitor start-up through the distributor, agent login, text both
 * ways with ACK SEND and auto-acked pushes, typing, auto-reply, S2S between
 * agents, a phone-class agent device, and the kick of a second browser login.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#define WAIT_MS 5000

static const char seed[] =
  "{\"users\": ["
  " {\"user_email\": \"agent@ppmessage.local\", \"password\": \"agentpass\","
  "  \"user_fullname\": \"Alice Agent\", \"user_status\": \"OWNER_2\","
  "  \"is_service_user\": true, \"is_owner_user\": true},"
  " {\"user_email\": \"bob@ppmessage.local\", \"password\": \"bobpass\","
  "  \"user_fullname\": \"Bob Assistance\", \"is_service_user\": true}]}";

typedef struct {
  PpmsServer *server;
  PpmsPeer *agent;
  PpmsPeer *visitor;
} Fixture;

static PpmsPeer *
start_agent (Fixture *f, const char *email, const char *password, const char *ostype)
{
  GError *error = NULL;
  PpmsPeer *peer = ppms_peer_new_agent (ppms_server_get_url (f->server),
                                        ppms_server_ppkefu_key (f->server), email, password, NULL);

  if (ostype != NULL)
    ppms_peer_set_agent_ostype (peer, ostype);
  g_assert_true (ppms_peer_start_sync (peer, &error));
  g_assert_no_error (error);
  return peer;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  GError *error = NULL;

  f->server = ppms_server_new_from_data (seed, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (f->server, 0, &error));
  g_assert_no_error (error);
  ppms_server_set_timer_scale (f->server, 0.1);
  f->agent = start_agent (f, "agent@ppmessage.local", "agentpass", NULL);
  f->visitor = ppms_peer_new_visitor (ppms_server_get_url (f->server),
                                      ppms_server_app_uuid (f->server),
                                      ppms_server_ppcom_key (f->server),
                                      ppms_server_ppcom_secret (f->server), NULL);
  g_assert_true (ppms_peer_start_sync (f->visitor, &error));
  g_assert_no_error (error);
  g_assert_nonnull (ppms_peer_conversation_uuid (f->visitor));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  ppms_peer_free (f->visitor);
  ppms_peer_free (f->agent);
  ppms_server_free (f->server);
}

static void
test_text_both_ways (Fixture *f, gconstpointer data)
{
  const char *conv = ppms_peer_conversation_uuid (f->visitor);
  char *sent = ppms_peer_send_text (f->visitor, conv, "hello agent");
  const JsonObject *msg;
  char *reply;
  int code = -1;

  g_assert_true (ppms_peer_wait_ack (f->visitor, sent, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  msg = ppms_peer_wait_message (f->agent, "hello agent", WAIT_MS);
  g_assert_nonnull (msg);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) msg, "ci"), ==, conv);
  reply = ppms_peer_send_text (f->agent, conv, "hi visitor");
  g_assert_true (ppms_peer_wait_ack (f->agent, reply, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
  g_assert_nonnull (ppms_peer_wait_message (f->visitor, "hi visitor", WAIT_MS));
  /* Both messages were stored in the visitor's conversation. */
  g_assert_cmpuint (ppms_server_count_messages (f->server, conv), ==, 2);
  g_free (sent);
  g_free (reply);
}

static void
test_typing (Fixture *f, gconstpointer data)
{
  const char *conv = ppms_peer_conversation_uuid (f->visitor);

  ppms_peer_watch_typing (f->visitor, conv);
  ppms_peer_watch_typing (f->agent, conv);
  g_assert_false (ppms_peer_wait_typing (f->agent, 300));
  ppms_peer_send_typing (f->visitor);
  g_assert_true (ppms_peer_wait_typing (f->agent, WAIT_MS));
}

static char *
answer (PpmsPeer *peer, const JsonObject *msg, gpointer data)
{
  return g_strdup ("auto answer");
}

static void
test_auto_reply (Fixture *f, gconstpointer data)
{
  ppms_peer_set_auto_reply (f->visitor, answer, NULL);
  g_free (ppms_peer_send_text (f->agent, ppms_peer_conversation_uuid (f->visitor), "question?"));
  g_assert_nonnull (ppms_peer_wait_message (f->agent, "auto answer", WAIT_MS));
}

static void
test_agent_to_agent (Fixture *f, gconstpointer data)
{
  PpmsPeer *bob = start_agent (f, "bob@ppmessage.local", "bobpass", NULL);
  GError *error = NULL;
  char *conv = ppms_peer_create_s2s_sync (f->agent, ppms_peer_user_uuid (bob), "Bob", &error);

  g_assert_no_error (error);
  g_free (ppms_peer_send_text (f->agent, conv, "hey bob"));
  g_assert_nonnull (ppms_peer_wait_message (bob, "hey bob", WAIT_MS));
  g_free (ppms_peer_send_text (bob, conv, "hey alice"));
  g_assert_nonnull (ppms_peer_wait_message (f->agent, "hey alice", WAIT_MS));
  g_free (conv);
  ppms_peer_free (bob);
}

static void
test_phone_and_kick (Fixture *f, gconstpointer data)
{
  PpmsPeer *phone = start_agent (f, "agent@ppmessage.local", "agentpass", "android");
  PpmsPeer *second;

  g_assert_cmpstr (ppms_peer_device_uuid (phone), !=, ppms_peer_device_uuid (f->agent));
  g_free (ppms_peer_send_text (f->visitor, ppms_peer_conversation_uuid (f->visitor), "to both"));
  g_assert_nonnull (ppms_peer_wait_message (phone, "to both", WAIT_MS));
  g_assert_nonnull (ppms_peer_wait_message (f->agent, "to both", WAIT_MS));
  g_assert_false (ppms_peer_was_kicked (f->agent));
  /* A second browser login kicks the first browser, not the phone. */
  second = start_agent (f, "agent@ppmessage.local", "agentpass", NULL);
  g_assert_nonnull (ppms_peer_wait_message_match (f->agent, NULL, NULL, WAIT_MS));
  g_assert_true (ppms_peer_was_kicked (f->agent));
  g_assert_false (ppms_peer_was_kicked (phone));
  ppms_peer_free (second);
  ppms_peer_free (phone);
}

static void
test_wrong_password (void)
{
  GError *error = NULL;
  PpmsServer *server = ppms_server_new_from_data (seed, &error);
  PpmsPeer *peer;

  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (server, 0, &error));
  peer = ppms_peer_new_agent (ppms_server_get_url (server), ppms_server_ppkefu_key (server),
                              "agent@ppmessage.local", "wrong", NULL);
  g_assert_false (ppms_peer_start_sync (peer, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  ppms_peer_free (peer);
  ppms_server_free (server);
}

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/peer/text-both-ways", test_text_both_ways);
  ADD ("/peer/typing", test_typing);
  ADD ("/peer/auto-reply", test_auto_reply);
  ADD ("/peer/agent-to-agent", test_agent_to_agent);
  ADD ("/peer/phone-and-kick", test_phone_and_kick);
  g_test_add_func ("/peer/wrong-password", test_wrong_password);
  return g_test_run ();
}
