/* test-lib-requests.c: what the user asks for outside the session's flow,
 * against the PPMessage test server. ppm_client_read_history(): the most
 * recent messages, then pages further back until the conversation's start,
 * each message exactly once, oldest first, marked delayed, this user's own
 * marked outgoing, over one kept-alive connection; an unknown conversation
 * gives nothing; a read cut short
 * by freeing the client never calls back. ppm_client_read_profile() and
 * ppm_client_download_icon(): a visitor's profile and icon.
 * ppm_client_close_conversation(): closed on the server and reported so,
 * reopened by the next message sent. A visitor's page from the ONLINE
 * frames of a server that delivers them.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "server-start.h"
#include "ppms-internal.h"

#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define WAIT_MS 15000
#define VISITOR_MESSAGES 23
#define PAGE 5

static const char team_seed[] =
  "{\"app\": {\"app_name\": \"History Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

typedef struct {
  PpmsServer *server;
  PpmsPeer *visitor;
  PpmClient *client;
  gboolean connected;
  guint send_results;
  int conversation_open;      /* the visitor's conversation as last reported: -1 unknown */
  /* The last read: its conversation and outcome. */
  const char *read_conversation;
  gboolean read_done;
  GPtrArray *read_texts;      /* char* */
  GPtrArray *read_uuids;      /* char* */
  gboolean reached_start;
  gboolean all_delayed;
  guint outgoing;
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

static void
on_conversation_changed (gpointer data, const PpmConversation *conversation)
{
  Fixture *f = data;

  if (g_strcmp0 (conversation->uuid, ppms_peer_conversation_uuid (f->visitor)) == 0)
    f->conversation_open = conversation->is_open;
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .send_result = on_send_result,
  .conversation_changed = on_conversation_changed,
};

static gboolean
is_connected (gpointer data)
{
  return ((Fixture *) data)->connected;
}

static gboolean
is_read_done (gpointer data)
{
  return ((Fixture *) data)->read_done;
}

static gboolean
one_sent (gpointer data)
{
  return ((Fixture *) data)->send_results == 1;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PpmClientConfig config = { .role = PPM_ROLE_AGENT, .email = AGENT_EMAIL,
                             .password = AGENT_PASSWORD, .terminal = "terminal-of-test",
                             .device_name = "test-lib-requests" };

  f->server = server_start_with_seed (team_seed);
  /* data: a server that delivers ONLINE frames (the shipped one does not). */
  ppms_server_set_deliver_online (f->server, data != NULL);
  f->visitor = ppms_peer_new_visitor (ppms_server_get_url (f->server),
                                      ppms_server_app_uuid (f->server),
                                      ppms_server_ppcom_key (f->server),
                                      ppms_server_ppcom_secret (f->server), NULL);
  g_assert_true (ppms_peer_start_sync (f->visitor, &error));
  g_assert_no_error (error);
  for (guint n = 1; n <= VISITOR_MESSAGES; n++) {
    g_autofree char *text = g_strdup_printf ("visitor %02u", n);
    g_autofree char *uuid = ppms_peer_send_text (f->visitor,
                                                 ppms_peer_conversation_uuid (f->visitor), text);
    int code = -1;

    g_assert_true (ppms_peer_wait_ack (f->visitor, uuid, WAIT_MS, &code));
    g_assert_cmpint (code, ==, 0);
  }
  config.server_url = ppms_server_get_url (f->server);
  f->client = ppm_client_new (&config, &events, f);
  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (ppms_wait_until (is_connected, f, WAIT_MS));
  f->read_texts = g_ptr_array_new_with_free_func (g_free);
  f->read_uuids = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->client, ppm_client_free);
  ppms_peer_free (f->visitor);
  ppms_server_free (f->server);
  g_ptr_array_unref (f->read_texts);
  g_ptr_array_unref (f->read_uuids);
}

static void
on_history (gpointer data, const char *conversation_uuid, GPtrArray *messages,
            gboolean reached_start, const GError *error)
{
  Fixture *f = data;

  g_assert_no_error (error);
  g_assert_false (f->read_done);
  g_assert_cmpstr (conversation_uuid, ==, f->read_conversation);
  f->read_done = TRUE;
  f->reached_start = reached_start;
  g_ptr_array_set_size (f->read_texts, 0);
  g_ptr_array_set_size (f->read_uuids, 0);
  f->all_delayed = TRUE;
  f->outgoing = 0;
  for (guint i = 0; i < messages->len; i++) {
    const PpmMessage *message = messages->pdata[i];

    g_ptr_array_add (f->read_texts, g_strdup (message->text));
    g_ptr_array_add (f->read_uuids, g_strdup (message->uuid));
    f->all_delayed &= message->delayed;
    f->outgoing += message->outgoing;
    if (!message->outgoing)
      g_assert_nonnull (message->from_name);
  }
}

static void
read_history (Fixture *f, const char *conversation_uuid, const char *before, guint count)
{
  f->read_done = FALSE;
  f->read_conversation = conversation_uuid;
  ppm_client_read_history (f->client, conversation_uuid, before, count, on_history, f);
  g_assert_true (ppms_wait_until (is_read_done, f, WAIT_MS));
}

/* Most recent first, then back page by page: everything once, in order. */
static void
test_pages_back_to_start (Fixture *f, gconstpointer data)
{
  const char *conversation = ppms_peer_conversation_uuid (f->visitor);
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *before = NULL;
  g_autofree char *sent = NULL;
  guint reads = 0;

  sent = ppm_client_send_text (f->client, conversation, "agent answer");
  g_assert_nonnull (sent);
  g_assert_true (ppms_wait_until (one_sent, f, WAIT_MS));

  read_history (f, conversation, NULL, PAGE);
  g_assert_cmpuint (f->read_texts->len, ==, PAGE);
  g_assert_cmpstr (f->read_texts->pdata[PAGE - 1], ==, "agent answer");
  g_assert_cmpstr (f->read_texts->pdata[0], ==, "visitor 20");
  g_assert_cmpuint (f->outgoing, ==, 1);
  g_assert_true (f->all_delayed);
  g_assert_false (f->reached_start);
  do {
    /* Each page goes before what was read so far. */
    for (guint i = f->read_texts->len; i > 0; i--)
      g_ptr_array_insert (all, 0, g_strdup (f->read_texts->pdata[i - 1]));
    g_free (before);
    before = g_strdup (f->read_uuids->pdata[0]);
    if (f->reached_start)
      break;
    read_history (f, conversation, before, PAGE);
    g_assert_true (f->all_delayed);
    g_assert_cmpuint (f->outgoing, ==, 0);
    g_assert_cmpuint (++reads, <, 10);
  } while (TRUE);
  /* The visitor's messages and the answer, each once, oldest first. */
  g_assert_cmpuint (all->len, ==, VISITOR_MESSAGES + 1);
  for (guint n = 1; n <= VISITOR_MESSAGES; n++) {
    g_autofree char *text = g_strdup_printf ("visitor %02u", n);

    g_assert_cmpstr (all->pdata[n - 1], ==, text);
  }
  g_assert_cmpstr (all->pdata[VISITOR_MESSAGES], ==, "agent answer");
  /* Nothing before the first. */
  read_history (f, conversation, before, PAGE);
  g_assert_cmpuint (f->read_texts->len, ==, 0);
  g_assert_true (f->reached_start);
}

/* Reads go over a kept-alive connection: libsoup opens a new one for every
 * POST it is not told is idempotent (a handshake per read otherwise). */
static void
test_reads_share_a_connection (Fixture *f, gconstpointer data)
{
  const char *conversation = ppms_peer_conversation_uuid (f->visitor);
  guint connections;

  read_history (f, conversation, NULL, PAGE);
  connections = g_hash_table_size (f->server->connections);
  for (guint i = 0; i < 5; i++)
    read_history (f, conversation, NULL, PAGE);
  g_assert_cmpuint (g_hash_table_size (f->server->connections), ==, connections);
}

static void
test_unknown_conversation (Fixture *f, gconstpointer data)
{
  read_history (f, "00000000-0000-0000-0000-000000000000", NULL, PAGE);
  /* The server reads any conversation without a membership check. */
  g_assert_cmpuint (f->read_texts->len, ==, 0);
}

static void
never_called (gpointer data, const char *conversation_uuid, GPtrArray *messages,
              gboolean reached_start, const GError *error)
{
  g_error ("a read of a freed client called back");
}

static void
test_freed_client_never_calls_back (Fixture *f, gconstpointer data)
{
  ppm_client_read_history (f->client, ppms_peer_conversation_uuid (f->visitor), NULL, PAGE,
                           never_called, f);
  g_clear_pointer (&f->client, ppm_client_free);
  /* The server's answer comes and goes unheard. */
  g_assert_false (ppms_wait_until (is_read_done, f, 500));
}

/* ---- Profiles and icons ---- */

typedef struct {
  gboolean done;
  char *fullname;
  char *icon_url;
  gboolean is_service_user;
  PpmDeviceKind device;
  GBytes *icon;
  GError *error;
} Answer;

static gboolean
is_answered (gpointer data)
{
  return ((Answer *) data)->done;
}

static void
on_profile (gpointer data, const char *user_uuid, const PpmUserProfile *profile,
            const GError *error)
{
  Answer *answer = data;

  answer->done = TRUE;
  answer->error = error != NULL ? g_error_copy (error) : NULL;
  if (profile != NULL) {
    g_assert_cmpstr (profile->uuid, ==, user_uuid);
    answer->fullname = g_strdup (profile->fullname);
    answer->icon_url = g_strdup (profile->icon_url);
    answer->is_service_user = profile->is_service_user;
    answer->device = profile->device;
  }
}

static void
on_icon (gpointer data, const char *url, GBytes *body, const GError *error)
{
  Answer *answer = data;

  answer->done = TRUE;
  answer->error = error != NULL ? g_error_copy (error) : NULL;
  answer->icon = body != NULL ? g_bytes_ref (body) : NULL;
}

static void
answer_clear (Answer *answer)
{
  g_free (answer->fullname);
  g_free (answer->icon_url);
  g_clear_pointer (&answer->icon, g_bytes_unref);
  g_clear_error (&answer->error);
  memset (answer, 0, sizeof *answer);
}

static void
test_profile_and_icon (Fixture *f, gconstpointer data)
{
  const char *visitor = ppms_peer_user_uuid (f->visitor);
  const PpmUser *known = ppm_client_lookup_user (f->client, visitor);
  Answer answer = { 0 };

  ppm_client_read_profile (f->client, visitor, on_profile, &answer);
  g_assert_true (ppms_wait_until (is_answered, &answer, WAIT_MS));
  g_assert_no_error (answer.error);
  g_assert_nonnull (known);
  g_assert_cmpstr (answer.fullname, ==, known->fullname);
  g_assert_false (answer.is_service_user);
  g_assert_cmpint (answer.device, ==, PPM_DEVICE_BROWSER);
  g_assert_cmpstr (answer.icon_url, ==, ppms_user_lookup (f->server, visitor)->user_icon);

  ppm_client_download_icon (f->client, answer.icon_url, on_icon, &answer);
  answer.done = FALSE;
  g_assert_true (ppms_wait_until (is_answered, &answer, WAIT_MS));
  g_assert_no_error (answer.error);
  g_assert_cmpmem (g_bytes_get_data (answer.icon, NULL), g_bytes_get_size (answer.icon),
                   ppms_identicon_png, sizeof ppms_identicon_png);
  answer_clear (&answer);

  /* Nobody by that uuid: the server's error, no profile. */
  ppm_client_read_profile (f->client, "00000000-0000-0000-0000-000000000000", on_profile,
                           &answer);
  g_assert_true (ppms_wait_until (is_answered, &answer, WAIT_MS));
  g_assert_nonnull (answer.error);
  g_assert_null (answer.fullname);
  answer_clear (&answer);
}

/* ---- Closing ---- */

static void
on_closed (gpointer data, const char *uuid, const GError *error)
{
  Answer *answer = data;

  answer->done = TRUE;
  answer->error = error != NULL ? g_error_copy (error) : NULL;
}

static gboolean
is_reopened (gpointer data)
{
  return ((Fixture *) data)->conversation_open == TRUE;
}

static void
test_close_then_reopen_by_sending (Fixture *f, gconstpointer data)
{
  const char *conversation = ppms_peer_conversation_uuid (f->visitor);
  const char *alice = ppms_server_user_uuid_by_email (f->server, AGENT_EMAIL);
  Answer answer = { 0 };
  g_autofree char *sent = NULL;

  f->conversation_open = -1;
  ppm_client_close_conversation (f->client, conversation, on_closed, &answer);
  g_assert_true (ppms_wait_until (is_answered, &answer, WAIT_MS));
  g_assert_no_error (answer.error);
  /* Reported closed before done. */
  g_assert_cmpint (f->conversation_open, ==, FALSE);
  g_assert_false (ppm_client_lookup_conversation (f->client, conversation)->is_open);
  g_assert_cmpstr (ppms_conversation_find_member (ppms_conversation_lookup (f->server,
                                                                            conversation),
                                                  alice)->status, ==, "CLOSE");
  sent = ppm_client_send_text (f->client, conversation, "reopening");
  g_assert_nonnull (sent);
  g_assert_true (ppms_wait_until (is_reopened, f, WAIT_MS));
  g_assert_cmpstr (ppms_conversation_find_member (ppms_conversation_lookup (f->server,
                                                                            conversation),
                                                  alice)->status, ==, "OPEN");
  answer_clear (&answer);

  /* A conversation the server does not know: its error, nothing closed. */
  ppm_client_close_conversation (f->client, "00000000-0000-0000-0000-000000000000", on_closed,
                                 &answer);
  g_assert_true (ppms_wait_until (is_answered, &answer, WAIT_MS));
  g_assert_nonnull (answer.error);
  answer_clear (&answer);
}

/* ---- A visitor's page ---- */

typedef struct {
  Fixture *f;
  const char *uuid;
} UserWait;

static gboolean
page_known (gpointer data)
{
  UserWait *wait = data;
  const PpmUser *user = ppm_client_lookup_user (wait->f->client, wait->uuid);

  return user != NULL && user->page_url != NULL;
}

static void
test_visitor_page_from_online_frames (Fixture *f, gconstpointer data)
{
  g_autofree char *visitor = g_strdup (ppms_peer_user_uuid (f->visitor));
  UserWait wait = { f, visitor };
  const PpmUser *user;
  g_autoptr (GError) error = NULL;

  g_assert_false (page_known (&wait));
  /* PPCom opened again: its auth's navigation data reaches the agent. */
  ppms_peer_close (f->visitor);
  g_assert_true (ppms_peer_start_sync (f->visitor, &error));
  g_assert_no_error (error);
  g_assert_true (ppms_wait_until (page_known, &wait, WAIT_MS));
  user = ppm_client_lookup_user (f->client, visitor);
  g_assert_cmpstr (user->page_title, ==, "PPMessage test page");
  g_assert_cmpstr (user->page_url, ==, "http://127.0.0.1/test/index.html");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/history/pages-back-to-start", Fixture, NULL, fixture_set_up,
              test_pages_back_to_start, fixture_tear_down);
  g_test_add ("/history/reads-share-a-connection", Fixture, NULL, fixture_set_up,
              test_reads_share_a_connection, fixture_tear_down);
  g_test_add ("/history/unknown-conversation", Fixture, NULL, fixture_set_up,
              test_unknown_conversation, fixture_tear_down);
  g_test_add ("/history/freed-client-never-calls-back", Fixture, NULL, fixture_set_up,
              test_freed_client_never_calls_back, fixture_tear_down);
  g_test_add ("/requests/profile-and-icon", Fixture, NULL, fixture_set_up,
              test_profile_and_icon, fixture_tear_down);
  g_test_add ("/requests/close-then-reopen-by-sending", Fixture, NULL, fixture_set_up,
              test_close_then_reopen_by_sending, fixture_tear_down);
  g_test_add ("/requests/visitor-page-from-online-frames", Fixture, "deliver online",
              fixture_set_up, test_visitor_page_from_online_frames, fixture_tear_down);
  return g_test_run ();
}
