/* test-lib-last-seen.c: the client library keeps a conversation's last
 * message seen only while the conversation is open or recently active (a
 * message in the last PPM_LAST_SEEN_KEEP_DAYS days), so an account's
 * settings do not grow with every conversation it ever saw; and a
 * conversation whose setting was forgotten shows none of its old messages
 * again when it opens anew. Against the PPMessage test server, with a
 * generated team of 5,000 conversations.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-clock.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"

#include <string.h>

#define AGENT_EMAIL "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define WAIT_MS 60000
#define CONVERSATIONS 5000
#define KEPT_OPEN 100
/* Generated messages dated 2001-09-09: long closed conversations. */
#define OLD_START_TIME G_GINT64_CONSTANT (1000000000000000)

static const char team_seed[] =
  "{\"app\": {\"app_name\": \"Busy Team\"},"
  " \"users\": ["
  "  {\"user_email\": \"" AGENT_EMAIL "\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Alice Agent\", \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

typedef struct {
  PpmsServer *server;
  PpmClient *client;
  PpmsPeer *phone;            /* the same agent on a phone */
  GHashTable *settings;       /* the account settings */
  GHashTable *shown;          /* message text -> times shown (GUINT) */
  gboolean connected;
  gboolean disconnected;
} Fixture;

static void
on_connected (gpointer data)
{
  ((Fixture *) data)->connected = TRUE;
}

static void
on_disconnected (gpointer data, const GError *error)
{
  Fixture *f = data;

  if (error)
    g_error ("the session ended: %s", error->message);
  f->disconnected = TRUE;
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  Fixture *f = data;
  guint times = GPOINTER_TO_UINT (g_hash_table_lookup (f->shown, message->text));

  g_hash_table_insert (f->shown, g_strdup (message->text), GUINT_TO_POINTER (times + 1));
}

static void
on_save_setting (gpointer data, const char *key, const char *value)
{
  Fixture *f = data;

  if (value == NULL)
    g_hash_table_remove (f->settings, key);
  else
    g_hash_table_insert (f->settings, g_strdup (key), g_strdup (value));
}

static char *
on_load_setting (gpointer data, const char *key)
{
  return g_strdup (g_hash_table_lookup (((Fixture *) data)->settings, key));
}

static GPtrArray *
on_list_settings (gpointer data, const char *prefix)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, ((Fixture *) data)->settings);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, prefix))
      g_ptr_array_add (keys, g_strdup (key));
  return keys;
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .disconnected = on_disconnected,
  .message = on_message,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
  .list_settings = on_list_settings,
};

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *spec = g_strdup_printf ("{\"conversations\": %d,"
                                           " \"messages_per_conversation\": 1, \"seed\": 11,"
                                           " \"start_time\": %" G_GINT64_FORMAT "}",
                                           CONVERSATIONS, OLD_START_TIME);

  f->server = ppms_server_new_from_data (team_seed, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_generate (f->server, spec, &error));
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (f->server, 0, &error));
  g_assert_no_error (error);
  ppms_server_set_timer_scale (f->server, 0.05);
  f->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* A phone is not kicked by a desktop sign-in of the same agent. */
  f->phone = ppms_peer_new_agent (ppms_server_get_url (f->server),
                                  ppms_server_ppkefu_key (f->server), AGENT_EMAIL,
                                  AGENT_PASSWORD, "phone-of-alice");
  ppms_peer_set_agent_ostype (f->phone, "AND");
  g_assert_true (ppms_peer_start_sync (f->phone, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->client, ppm_client_free);
  ppms_peer_free (f->phone);
  ppms_server_free (f->server);
  g_hash_table_unref (f->settings);
  g_hash_table_unref (f->shown);
}

static gboolean
is_connected (gpointer data)
{
  return ((Fixture *) data)->connected;
}

static void
sign_in (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  PpmClientConfig config = {
    .server_url = ppms_server_get_url (f->server),
    .role = PPM_ROLE_AGENT,
    .email = AGENT_EMAIL,
    .password = AGENT_PASSWORD,
    .terminal = "terminal-of-test",
    .device_name = "test-lib-last-seen",
  };

  f->connected = FALSE;
  f->client = ppm_client_new (&config, &events, f);
  g_assert_true (ppm_client_connect (f->client, &error));
  g_assert_no_error (error);
  g_assert_true (ppms_wait_until (is_connected, f, WAIT_MS));
}

static void
sign_out (Fixture *f)
{
  ppm_client_disconnect (f->client);
  g_assert_true (f->disconnected);
  g_clear_pointer (&f->client, ppm_client_free);
  f->disconnected = FALSE;
}

typedef struct {
  Fixture *f;
  const char *text;
} ShownWait;

static gboolean
text_shown (gpointer data)
{
  ShownWait *wait = data;

  return g_hash_table_contains (wait->f->shown, wait->text);
}

static void
wait_shown (Fixture *f, const char *text)
{
  ShownWait wait = { f, text };

  if (!ppms_wait_until (text_shown, &wait, WAIT_MS))
    g_error ("\"%s\" was not shown", text);
}

/* The conversations that have a last_seen setting, sorted. */
static GPtrArray *
remembered (Fixture *f)
{
  GPtrArray *uuids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, f->settings);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, "last_seen/"))
      g_ptr_array_add (uuids, g_strdup ((char *) key + strlen ("last_seen/")));
  g_ptr_array_sort (uuids, (GCompareFunc) g_strcmp0);
  return uuids;
}


static void
phone_call (Fixture *f, const char *name, const char *conversation)
{
  g_autoptr (JsonObject) body = json_object_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) answer = NULL;

  json_object_set_string_member (body, "app_uuid", ppms_server_app_uuid (f->server));
  json_object_set_string_member (body, "user_uuid", ppms_peer_user_uuid (f->phone));
  json_object_set_string_member (body, "conversation_uuid", conversation);
  answer = ppms_peer_api_sync (f->phone, name, body, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (answer, "error_code"), ==, 0);
}

static void
test_closed_conversations_are_forgotten (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) left = NULL;
  const char *recent, *reopened;
  GHashTableIter iter;
  gpointer text;

  /* The first sign-in takes each conversation's newest message as seen. */
  sign_in (f);
  sign_out (f);
  all = remembered (f);
  g_assert_cmpuint (all->len, ==, CONVERSATIONS);
  recent = all->pdata[CONVERSATIONS - 1];
  reopened = all->pdata[KEPT_OPEN];

  /* Fifteen days later (signed out, so no watchdog sees them pass) the
   * agent works in one conversation, then closes it with 4,899 others
   * nobody wrote in. */
  ppm_clock_skip_for_tests ((gint64) 15 * 24 * 3600 * G_USEC_PER_SEC);
  sign_in (f);
  g_free (ppms_peer_send_text (f->phone, recent, "Written today"));
  wait_shown (f, "Written today");
  sign_out (f);
  for (guint i = KEPT_OPEN; i < CONVERSATIONS; i++)
    phone_call (f, "PP_CLOSE_CONVERSATION", all->pdata[i]);

  /* The next sign-in reads the whole list: what is closed and was not
   * active in the last 14 days is forgotten. */
  sign_in (f);
  sign_out (f);
  left = remembered (f);
  g_assert_cmpuint (left->len, ==, KEPT_OPEN + 1);
  g_assert_true (g_ptr_array_find_with_equal_func (left, recent, g_str_equal, NULL));
  g_assert_false (g_ptr_array_find_with_equal_func (left, reopened, g_str_equal, NULL));
  g_assert_nonnull (g_hash_table_lookup (f->settings, "last_seen_horizon"));

  /* A forgotten conversation opens again (any message reopens it). Its
   * old message was seen at the first sign-in: only the new one shows. */
  g_hash_table_remove_all (f->shown);
  g_free (ppms_peer_send_text (f->phone, reopened, "Back to this one"));
  sign_in (f);
  wait_shown (f, "Back to this one");
  g_hash_table_iter_init (&iter, f->shown);
  while (g_hash_table_iter_next (&iter, &text, NULL))
    if (g_strcmp0 (text, "Back to this one") != 0)
      g_error ("shown again after its last seen message was forgotten: \"%s\"", (char *) text);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (f->shown, "Back to this one")), ==, 1);
  sign_out (f);
  g_ptr_array_unref (left);
  left = remembered (f);
  g_assert_true (g_ptr_array_find_with_equal_func (left, reopened, g_str_equal, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lib/last-seen/closed-conversations-are-forgotten", Fixture, NULL,
              fixture_set_up, test_closed_conversations_are_forgotten, fixture_tear_down);
  return g_test_run ();
}
