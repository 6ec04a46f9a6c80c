/* test-server-scale.c: the seed format's generator and the test server at
 * scale. A generated team of 20,000 conversations and 200,000 messages (a
 * tenth of it under SANITIZE=1) is read through the real HTTP API the way a
 * client signs in: the agent's whole conversation list page by page, one
 * conversation's whole history both ways, the unacked messages and their
 * acknowledgement. Asserts counts, order and the absence of duplicates, not
 * timings (those belong in benchmarks).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <stdlib.h>
#include <string.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "ppm-test-server.h"
#include "ppms-internal.h"   /* the store, as the oracle of the expected order */

#define TIMEOUT_MS 30000
#define AGENTS 2

typedef struct {
  gint64 conversations, messages_per_conversation, long_messages;
} Scale;

static struct {
  Scale scale;
  PpmsServer *server;
  SoupSession *session;
  char *token, *agent, *long_conversation;
} world;

/* ---- HTTP ---- */

typedef struct {
  GBytes *body;
  GError *error;
  guint status;
  gboolean done;
} Reply;

static gboolean
timed_out_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  Reply *r = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &r->error);
  r->status = soup_message_get_status (msg);
  r->done = TRUE;
}

static JsonObject *
request (const char *path, const char *content_type, const char *body, const char *token)
{
  g_autofree char *url = g_strconcat (ppms_server_get_url (world.server), path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (TIMEOUT_MS, timed_out_cb, &timed_out);
  Reply r = { 0 };
  JsonObject *o;
  gsize size;
  const char *data;

  soup_message_set_request_body_from_bytes (msg, content_type, bytes);
  if (token != NULL)
    {
      g_autofree char *auth = g_strconcat ("OAuth ", token, NULL);
      soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  soup_session_send_and_read_async (world.session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &r);
  while (!r.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 200);
  data = g_bytes_get_data (r.body, &size);
  g_assert_true (json_parser_load_from_data (parser, data, size, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  o = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  g_bytes_unref (r.body);
  return o;
}

/* POST /api/<name>; body is a JSON object text; asserts error_code 0. */
static JsonObject *
api (const char *name, const char *body)
{
  g_autofree char *path = g_strconcat ("/api/", name, NULL);
  JsonObject *o = request (path, "application/json", body, world.token);

  g_assert_cmpint (json_object_get_int_member (o, "error_code"), ==, 0);
  return o;
}

static char *
agent_token (void)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, "agentpass", -1);
  g_autofree char *key = g_uri_escape_string (ppms_server_ppkefu_key (world.server), NULL, FALSE);
  g_autofree char *form = g_strdup_printf ("grant_type=password&user_email=agent1%%40generated.test"
                                           "&user_password=%s&client_id=%s", hash, key);
  g_autoptr (JsonObject) o = request ("/ppauth/token", "application/x-www-form-urlencoded", form, NULL);

  g_assert_cmpint (json_object_get_int_member (o, "error_code"), ==, 0);
  return g_strdup (json_object_get_string_member (o, "access_token"));
}

/* ---- The world ---- */

static char *
scale_spec (const Scale *s, guint seed, gint64 unacked)
{
  return g_strdup_printf ("{\"agents\": %d, \"conversations\": %" G_GINT64_FORMAT ", \"visitors\": %"
                          G_GINT64_FORMAT ", \"messages_per_conversation\": %" G_GINT64_FORMAT
                          ", \"long_conversation_messages\": %" G_GINT64_FORMAT
                          ", \"unacked_per_conversation\": %" G_GINT64_FORMAT ", \"seed\": %u}",
                          AGENTS, s->conversations, s->conversations / 2, s->messages_per_conversation,
                          s->long_messages, unacked, seed);
}

static gint64
total_messages (const Scale *s)
{
  return (s->conversations - 1) * s->messages_per_conversation + s->long_messages;
}

static void
world_set_up (void)
{
  g_autofree char *spec = scale_spec (&world.scale, 42, 1);
  g_autofree char *seed = g_strdup_printf ("{\"app\": {\"app_name\": \"Scale\"}, \"generate\": %s}", spec);
  g_autoptr (GError) error = NULL;

  world.server = ppms_server_new_from_data (seed, &error);
  g_assert_no_error (error);
  g_assert_true (ppms_server_listen (world.server, 0, &error));
  world.session = soup_session_new_with_options ("timeout", 60, NULL);
  world.token = agent_token ();
  world.agent = g_strdup (ppms_server_user_uuid_by_email (world.server, "agent1@generated.test"));
  g_assert_nonnull (world.agent);
}

static void
world_tear_down (void)
{
  g_clear_object (&world.session);
  ppms_server_free (world.server);
  g_free (world.token);
  g_free (world.agent);
  g_free (world.long_conversation);
}

/* The oracle: the agent's OPEN conversations from a scan of the whole store,
 * newest activity first (generated activity times are all distinct). */
static gint
by_member_time_desc (gconstpointer a, gconstpointer b)
{
  gint64 ta = ppms_conversation_find_member (*(PpmsConversation **) a, world.agent)->updatetime;
  gint64 tb = ppms_conversation_find_member (*(PpmsConversation **) b, world.agent)->updatetime;
  return ta > tb ? -1 : ta < tb;
}

static GPtrArray *
expected_conversations (void)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  PpmsConversation *c;

  g_hash_table_iter_init (&iter, world.server->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &c))
    {
      PpmsMember *m = ppms_conversation_find_member (c, world.agent);
      if (m != NULL && g_strcmp0 (m->status, "OPEN") == 0)
        g_ptr_array_add (list, c);
    }
  g_ptr_array_sort (list, by_member_time_desc);
  return list;
}

/* ---- The generator ---- */

static char *
dump_of_generated (const char *spec)
{
  g_autofree char *seed = g_strdup_printf ("{\"app\": {\"uuid\": \"5e0a0000-0000-11f1-8000-00000000aaaa\"}, "
                                           "\"api_keys\": [{\"level\": \"PPCOM\", \"key\": \"k\", \"secret\": \"s\"}], "
                                           "\"generate\": %s}", spec);
  g_autoptr (GError) error = NULL;
  PpmsServer *server = ppms_server_new_from_data (seed, &error);
  char *dump;

  g_assert_no_error (error);
  dump = ppms_server_dump_data (server);
  ppms_server_free (server);
  return dump;
}

/* Keys and tokens are random by design; the generated records are not. */
static char *
generated_part (char *dump)
{
  char *users = strstr (dump, "\"users\"");
  char *tokens = strstr (dump, "\"tokens\"");

  g_assert_nonnull (users);
  if (tokens != NULL && tokens > users)
    *tokens = '\0';
  return users;
}

static void
test_generate_deterministic (void)
{
  Scale small = { 12, 3, 7 };
  g_autofree char *spec = scale_spec (&small, 7, 2), *other_spec = scale_spec (&small, 8, 2);
  g_autofree char *a = dump_of_generated (spec), *b = dump_of_generated (spec);
  g_autofree char *c = dump_of_generated (other_spec);
  g_autoptr (GError) error = NULL;
  PpmsServer *server;
  g_autoptr (GPtrArray) agents = NULL;

  /* (Not cmpstr: a failure would print megabytes.) */
  g_assert_true (g_str_equal (generated_part (a), generated_part (b)));
  g_assert_false (g_str_equal (generated_part (a), generated_part (c)));

  /* The records: agents, visitors, conversations with every agent, history. */
  server = ppms_server_new_from_data ("{\"generate\": {\"conversations\": 5, \"visitors\": 2, "
                                      "\"agents\": 3, \"messages_per_conversation\": 4}}", &error);
  g_assert_no_error (error);
  agents = ppms_service_users (server);
  g_assert_cmpuint (agents->len, ==, 3);
  g_assert_cmpstr (server->app->user_uuid, ==, ((PpmsUser *) g_ptr_array_index (agents, 0))->uuid);
  g_assert_nonnull (ppms_server_user_uuid_by_email (server, "visitor1@generated.test"));
  g_assert_null (ppms_server_user_uuid_by_email (server, "visitor2@generated.test"));
  g_assert_cmpuint (g_hash_table_size (server->conversations), ==, 5);
  g_assert_cmpuint (g_hash_table_size (server->messages), ==, 20);
  for (guint i = 0; i < agents->len; i++)
    {
      PpmsUser *agent = g_ptr_array_index (agents, i);
      const GArray *open = ppms_user_open_conversations (server, agent->uuid);
      g_assert_cmpuint (open->len, ==, 5);
      for (guint j = 0; j < open->len; j++)
        {
          PpmsConversation *conv = g_array_index (open, PpmsMembership, j).conv;
          g_assert_cmpuint (conv->members->len, ==, 4);
          g_assert_cmpuint (ppms_server_count_messages (server, conv->uuid), ==, 4);
          g_assert_cmpstr (ppms_conversation_latest_message (server, conv)->uuid, ==,
                           ((PpmsMessage *) g_ptr_array_index (conv->messages, 3))->uuid);
        }
    }
  ppms_server_free (server);

  /* Generation through the C API adds to a running team. */
  server = ppms_server_new (NULL, &error);
  g_assert_true (ppms_server_generate (server, "{\"conversations\": 3, \"messages_per_conversation\": 2}", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (server->conversations), ==, 3);
  g_assert_cmpuint (ppms_user_open_conversations (server, ppms_server_user_uuid_by_email (server, "agent@ppmessage.local"))->len,
                    ==, 3);
  ppms_server_free (server);
}

static void
test_generate_rejects_bad_spec (void)
{
  static const char *const bad[] = {
    "{\"generate\": 3}",
    "{\"generate\": {\"conversations\": \"many\"}}",
    "{\"generate\": {\"conversations\": -1}}",
    "{\"generate\": {\"conversations\": 1.5}}",
    "{\"generate\": {\"conversations\": 5, \"visitors\": 0}}",
    "{\"generate\": {\"conversations\": 2000000, \"messages_per_conversation\": 100}}",
    "{\"generate\": {\"seed\": null}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      PpmsServer *server = ppms_server_new_from_data (bad[i], &error);
      g_assert_null (server);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

/* ---- The agent's conversation list ---- */

static JsonObject *
conversation_page (const char *extra)
{
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", \"page_size\": 100%s}",
                                           ppms_server_app_uuid (world.server), world.agent, extra);
  return api ("PP_PAGE_USER_CONVERSATION", body);
}

/* Appends the page's uuids; returns the number of items. */
static guint
collect_uuids (JsonObject *page, GPtrArray *uuids)
{
  JsonArray *list = json_object_get_array_member (page, "list");

  for (guint i = 0; i < json_array_get_length (list); i++)
    g_ptr_array_add (uuids, g_strdup (json_object_get_string_member (json_array_get_object_element (list, i), "uuid")));
  return json_array_get_length (list);
}

static void
assert_same_order (GPtrArray *uuids, GPtrArray *expected)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (uuids->len, ==, expected->len);
  for (guint i = 0; i < uuids->len; i++)
    {
      g_assert_true (g_hash_table_add (seen, g_ptr_array_index (uuids, i)));   /* no duplicate */
      g_assert_cmpstr (g_ptr_array_index (uuids, i), ==, ((PpmsConversation *) g_ptr_array_index (expected, i))->uuid);
    }
}

static void
test_conversation_list (void)
{
  g_autoptr (GPtrArray) expected = expected_conversations ();
  g_autoptr (GPtrArray) by_max = g_ptr_array_new_with_free_func (g_free);
  gint64 pages = (world.scale.conversations + 99) / 100;

  g_assert_cmpint (expected->len, ==, world.scale.conversations);
  /* The whole list by max_uuid, as a client continues from its last item. */
  for (;;)
    {
      g_autofree char *extra = by_max->len == 0 ? g_strdup ("")
        : g_strdup_printf (", \"max_uuid\": \"%s\"", (char *) g_ptr_array_index (by_max, by_max->len - 1));
      g_autoptr (JsonObject) page = conversation_page (extra);

      g_assert_cmpint (json_object_get_int_member (page, "total_count"), ==, world.scale.conversations);
      if (collect_uuids (page, by_max) == 0)
        break;
      g_assert_cmpuint (by_max->len, <=, expected->len);
    }
  assert_same_order (by_max, expected);
  /* The long conversation is the most recently active one. */
  world.long_conversation = g_strdup (g_ptr_array_index (by_max, 0));
  g_assert_cmpuint (ppms_server_count_messages (world.server, world.long_conversation), ==, world.scale.long_messages);

  /* Pages by offset (a sample: the first ones, one in the middle, the
   * last, one past the end) hold the same items. */
  for (gint64 p = 0; p <= pages; p = p < 2 ? p + 1 : p == 2 ? MAX (3, pages / 2) : p < pages - 1 ? pages - 1 : p + 1)
    {
      g_autofree char *extra = g_strdup_printf (", \"page_offset\": %" G_GINT64_FORMAT, p);
      g_autoptr (JsonObject) page = conversation_page (extra);
      g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
      guint n = collect_uuids (page, uuids);

      g_assert_cmpint (json_object_get_int_member (page, "total_count"), ==, world.scale.conversations);
      g_assert_cmpuint (n, ==, p < pages ? MIN (100, world.scale.conversations - p * 100) : 0);
      for (guint i = 0; i < n; i++)
        g_assert_cmpstr (g_ptr_array_index (uuids, i), ==, g_ptr_array_index (by_max, p * 100 + i));
    }
}
/* ---- Members of conversations ---- */

static void
test_conversation_user_lists (void)
{
  g_autoptr (GPtrArray) expected = expected_conversations ();

  for (guint i = 0; i < expected->len; i += MAX (1, expected->len / 25))
    {
      PpmsConversation *conv = g_ptr_array_index (expected, i);
      g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"conversation_uuid\": \"%s\"}",
                                               ppms_server_app_uuid (world.server), conv->uuid);
      g_autoptr (JsonObject) o = api ("PP_GET_CONVERSATION_USER_LIST", body);
      JsonArray *list = json_object_get_array_member (o, "list");
      gboolean has_agent = FALSE, has_creator = FALSE;

      g_assert_cmpuint (json_array_get_length (list), ==, AGENTS + 1);
      for (guint j = 0; j < json_array_get_length (list); j++)
        {
          const char *uuid = json_object_get_string_member (json_array_get_object_element (list, j), "uuid");
          has_agent |= g_strcmp0 (uuid, world.agent) == 0;
          has_creator |= g_strcmp0 (uuid, conv->user_uuid) == 0;
        }
      g_assert_true (has_agent && has_creator);
    }
}

/* ---- One long history, both ways ---- */

static JsonObject *
history_page (const char *extra)
{
  g_autofree char *body = g_strdup_printf ("{\"conversation_uuid\": \"%s\", \"page_size\": 100%s}",
                                           world.long_conversation, extra);
  JsonObject *o = api ("PP_PAGE_HISTORY_MESSAGE", body);

  g_assert_cmpint (json_object_get_int_member (o, "total_count"), ==, world.scale.long_messages);
  return o;
}

static guint
collect_messages (JsonObject *page, GPtrArray *uuids)
{
  JsonArray *list = json_object_get_array_member (page, "list");

  g_assert_cmpint (json_object_get_int_member (page, "return_count"), ==, json_array_get_length (list));
  for (guint i = 0; i < json_array_get_length (list); i++)
    g_ptr_array_add (uuids, g_strdup (json_object_get_string_member (json_array_get_object_element (list, i), "uuid")));
  return json_array_get_length (list);
}

static void
assert_history (GPtrArray *uuids, gboolean newest_first)
{
  PpmsConversation *conv = ppms_conversation_lookup (world.server, world.long_conversation);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = conv->messages->len;

  g_assert_cmpuint (uuids->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      PpmsMessage *m = g_ptr_array_index (conv->messages, newest_first ? n - 1 - i : i);
      g_assert_true (g_hash_table_add (seen, g_ptr_array_index (uuids, i)));
      g_assert_cmpstr (g_ptr_array_index (uuids, i), ==, m->uuid);
    }
}

static void
test_history (void)
{
  g_autoptr (GPtrArray) older = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) newer = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonObject) first = NULL;

  if (world.long_conversation == NULL)
    {
      g_autoptr (GPtrArray) convs = expected_conversations ();
      world.long_conversation = g_strdup (((PpmsConversation *) g_ptr_array_index (convs, 0))->uuid);
    }
  /* Newest page first, then older ones by max_uuid, as a client scrolls up. */
  first = history_page ("");
  collect_messages (first, older);
  for (;;)
    {
      g_autofree char *extra = g_strdup_printf (", \"max_uuid\": \"%s\"", (char *) g_ptr_array_index (older, older->len - 1));
      g_autoptr (JsonObject) page = history_page (extra);
      if (collect_messages (page, older) == 0)
        break;
    }
  assert_history (older, TRUE);

  /* From the oldest forward by min_uuid (the window includes min_uuid), the
   * first 40 pages: the same messages, oldest first. */
  g_ptr_array_add (newer, g_strdup (g_ptr_array_index (older, older->len - 1)));
  for (guint pages = 0; pages < 40; pages++)
    {
      g_autofree char *extra = g_strdup_printf (", \"min_uuid\": \"%s\"", (char *) g_ptr_array_index (newer, newer->len - 1));
      g_autoptr (JsonObject) page = history_page (extra);
      if (collect_messages (page, newer) == 0)
        break;
    }
  g_assert_cmpuint (newer->len, ==, MIN (older->len, 1 + 40 * 99));
  for (guint i = 0; i < newer->len; i++)
    g_assert_cmpstr (g_ptr_array_index (newer, i), ==, g_ptr_array_index (older, older->len - 1 - i));

  /* A message of another conversation is no anchor in this one. */
  {
    g_autoptr (GPtrArray) convs = expected_conversations ();
    PpmsConversation *other = g_ptr_array_index (convs, convs->len - 1);
    g_autofree char *extra = g_strdup_printf (", \"max_uuid\": \"%s\"",
                                              ((PpmsMessage *) g_ptr_array_index (other->messages, 1))->uuid);
    g_autoptr (JsonObject) page = history_page (extra);

    g_assert_cmpint (json_object_get_int_member (page, "return_count"), ==, 0);
  }
}

/* ---- Unacked messages and their acknowledgement ---- */

static JsonObject *
unacked_page (gint64 offset)
{
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", \"page_size\": 100, "
                                           "\"page_offset\": %" G_GINT64_FORMAT "}",
                                           ppms_server_app_uuid (world.server), world.agent, offset);
  return api ("PP_PAGE_UNACKED_MESSAGE", body);
}

/* The "ts" of a push body (JSON text); the generated bodies end with it. */
static double
body_ts (JsonObject *messages, const char *pid)
{
  const char *text = json_object_get_string_member (messages, pid);
  const char *ts = text != NULL ? strstr (text, "\"ts\": ") : NULL;

  g_assert_nonnull (ts);
  return g_ascii_strtod (ts + strlen ("\"ts\": "), NULL);
}

static void
test_unacked_and_ack (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GString) ack = g_string_new (NULL);
  gint64 total = world.scale.conversations, pages = (total + 99) / 100;
  double last_ts = 0;

  for (gint64 p = 0; p < pages; p++)
    {
      g_autoptr (JsonObject) page = unacked_page (p);
      JsonArray *list = json_object_get_array_member (page, "list");
      JsonObject *messages = json_object_get_object_member (page, "message");

      g_assert_cmpint (json_object_get_int_member (page, "total_count"), ==, total);
      g_assert_cmpuint (json_array_get_length (list), ==, MIN (100, total - p * 100));
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          const char *pid = json_array_get_string_element (list, i);
          double ts = body_ts (messages, pid);

          g_assert_true (g_hash_table_add (seen, g_strdup (pid)));
          g_assert_cmpfloat (ts, >=, last_ts);   /* oldest first */
          last_ts = ts;
          if (p == 0)
            g_string_append_printf (ack, "%s\"%s\"", i ? ", " : "", pid);
        }
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, total);

  /* Acknowledging the first page removes exactly it. */
  {
    g_autofree char *body = g_strdup_printf ("{\"list\": [%s]}", ack->str);
    g_autoptr (JsonObject) acked = api ("ACK_MESSAGE", body);
    g_autoptr (JsonObject) page = unacked_page (0);
    JsonArray *list = json_object_get_array_member (page, "list");

    g_assert_cmpint (json_object_get_int_member (page, "total_count"), ==, total - 100);
    for (guint i = 0; i < json_array_get_length (list); i++)
      g_assert_null (strstr (ack->str, json_array_get_string_element (list, i)));
  }
}

/* ---- The list follows changes (the index is never stale) ---- */

static void
test_list_follows_changes (void)
{
  g_autoptr (GPtrArray) before = expected_conversations ();
  const char *closed = ((PpmsConversation *) g_ptr_array_index (before, 1))->uuid;
  g_autofree char *body = g_strdup_printf ("{\"app_uuid\": \"%s\", \"user_uuid\": \"%s\", \"conversation_uuid\": \"%s\"}",
                                           ppms_server_app_uuid (world.server), world.agent, closed);
  g_autoptr (JsonObject) o = api ("PP_CLOSE_CONVERSATION", body);
  g_autoptr (JsonObject) page = conversation_page ("");
  g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) after = expected_conversations ();

  g_assert_cmpint (json_object_get_int_member (page, "total_count"), ==, world.scale.conversations - 1);
  collect_uuids (page, uuids);
  for (guint i = 0; i < uuids->len; i++)
    {
      g_assert_cmpstr (g_ptr_array_index (uuids, i), !=, closed);
      g_assert_cmpstr (g_ptr_array_index (uuids, i), ==, ((PpmsConversation *) g_ptr_array_index (after, i))->uuid);
    }
  /* The other agent still has it. */
  {
    PpmsUser *other = ppms_user_lookup_by_email (world.server, "agent2@generated.test");
    g_assert_cmpint (ppms_user_open_position (world.server, other->uuid, closed), >=, 0);
    g_assert_cmpint (ppms_user_open_position (world.server, world.agent, closed), ==, -1);
  }
}

int
main (int argc, char **argv)
{
  gboolean sanitize = g_strcmp0 (g_getenv ("SANITIZE"), "1") == 0;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* 20,000 conversations and 200,000 messages; a tenth under the sanitizers. */
  world.scale.conversations = sanitize ? 2000 : 20000;
  world.scale.messages_per_conversation = 9;
  world.scale.long_messages = world.scale.conversations + 9;
  g_assert_cmpint (total_messages (&world.scale), ==, sanitize ? 20000 : 200000);
  g_test_add_func ("/server-scale/generate-deterministic", test_generate_deterministic);
  g_test_add_func ("/server-scale/generate-rejects-bad-spec", test_generate_rejects_bad_spec);
  g_test_add_func ("/server-scale/conversation-list", test_conversation_list);
  g_test_add_func ("/server-scale/conversation-user-lists", test_conversation_user_lists);
  g_test_add_func ("/server-scale/history", test_history);
  g_test_add_func ("/server-scale/unacked-and-ack", test_unacked_and_ack);
  g_test_add_func ("/server-scale/list-follows-changes", test_list_follows_changes);
  world_set_up ();
  status = g_test_run ();
  world_tear_down ();
  return status;
}
