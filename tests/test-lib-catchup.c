/* test-lib-catchup.c: the catch-up of the client library on its own,
 * without a server or a clock. Each test reads like the exchange: what the
 * catch-up asks for, what the "server" answers, which batches come out.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fake-ports.h"

/* The world first: the catch-up hands its ports and its sink the same
 * owner pointer, the fixture, which is also a FakeWorld. */
typedef struct {
  FakeWorld world;
  PpmRegistry registry;
  PpmLastSeen last_seen;
  PpmCatchUp catchup;
  GPtrArray *history;         /* char* message uuids of the last done() */
  GPtrArray *unacked;         /* char* message uuids (or "-" for an ack only) */
  guint done;
  guint backlog_done;
  gboolean read_whole;
} Fixture;

#define WORLD(f) (&(f)->world)
#define SELF "agent-self"
#define DEVICE "device-here"

static void
take_uuids (GPtrArray *from, GPtrArray *into)
{
  g_ptr_array_set_size (into, 0);
  for (guint i = 0; i < from->len; i++) {
    PpmQueued *queued = from->pdata[i];

    g_ptr_array_add (into, g_strdup (queued->message ? queued->message->uuid : "-"));
  }
  g_ptr_array_set_size (from, 0);
}

static void
on_done (gpointer owner, GPtrArray *history, GPtrArray *unacked, gboolean read_whole)
{
  Fixture *f = owner;

  f->done++;
  f->read_whole = read_whole;
  take_uuids (history, f->history);
  take_uuids (unacked, f->unacked);
}

static void
on_backlog_done (gpointer owner, GPtrArray *unacked, gboolean read_whole)
{
  Fixture *f = owner;

  f->backlog_done++;
  f->read_whole = read_whole;
  take_uuids (unacked, f->unacked);
}

static void
on_failed (gpointer owner, const GError *error)
{
  g_error ("the catch-up failed: %s", error->message);
}

static void
setup (Fixture *f, gconstpointer data)
{
  static const PpmCatchUpSink sink = {
    .done = on_done, .backlog_done = on_backlog_done, .failed = on_failed,
  };

  ppm_registry_init (&f->registry, PPM_ROLE_AGENT, NULL, NULL);
  ppm_registry_set_self (&f->registry, SELF);
  fake_world_init (&f->world, &f->registry);
  ppm_last_seen_init (&f->last_seen, &f->world.ports, f);
  ppm_catchup_init (&f->catchup, &f->world.ports, &sink, f, &f->registry, &f->last_seen);
  f->history = g_ptr_array_new_with_free_func (g_free);
  f->unacked = g_ptr_array_new_with_free_func (g_free);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  ppm_catchup_abort (&f->catchup);
  fake_world_cancel_all (&f->world);
  ppm_catchup_clear (&f->catchup);
  ppm_registry_clear (&f->registry);
  fake_world_clear (&f->world);
  g_ptr_array_unref (f->history);
  g_ptr_array_unref (f->unacked);
}

static void
set (Fixture *f, const char *key, const char *value)
{
  g_hash_table_insert (f->world.settings, g_strdup (key), g_strdup (value));
}

static const char *
get (Fixture *f, const char *key)
{
  return g_hash_table_lookup (f->world.settings, key);
}

static void
assert_uuids (GPtrArray *got, const char *const *expected)
{
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < MIN (n, got->len); i++)
    g_assert_cmpstr (got->pdata[i], ==, expected[i]);
  g_assert_cmpuint (got->len, ==, n);
}

/* A stored record in the long form history pages give. */
static char *
record (const char *uuid, const char *conversation, const char *from, const char *device)
{
  return g_strdup_printf ("{\"uuid\":\"%s\",\"conversation_uuid\":\"%s\",\"from_uuid\":\"%s\","
                          "\"from_device_uuid\":\"%s\",\"message_subtype\":\"TEXT\","
                          "\"body\":\"%s\",\"createtime\":\"2026-12-01 10:00:00 000000\"}",
                          uuid, conversation, from, device, uuid);
}

static void
answer_empty_unacked (Fixture *f)
{
  expect_request (WORLD (f), "PP_PAGE_UNACKED_MESSAGE", "\"page_offset\":0");
  answer_request (WORLD (f), "{\"error_code\":0,\"list\":[],\"message\":{}}");
}

/* An unacked page of `count` pushes named <prefix><n>, from `first` on. */
static char *
unacked_page (const char *prefix, guint first, guint count)
{
  g_autoptr (GString) list = g_string_new (NULL);
  g_autoptr (GString) messages = g_string_new (NULL);

  for (guint i = first; i < first + count; i++) {
    g_string_append_printf (list, "%s\"pid-%s%u\"", i > first ? "," : "", prefix, i);
    g_string_append_printf (messages, "%s\"pid-%s%u\":\"{\\\"id\\\":\\\"%s%u\\\","
                            "\\\"ci\\\":\\\"c1\\\",\\\"fi\\\":\\\"v1\\\",\\\"ms\\\":\\\"TEXT\\\","
                            "\\\"bo\\\":\\\"hi\\\",\\\"ts\\\":%u.5}\"",
                            i > first ? "," : "", prefix, i, prefix, i, 1700000000 + i);
  }
  return g_strdup_printf ("{\"error_code\":0,\"list\":[%s],\"message\":{%s}}",
                          list->str, messages->str);
}

static void
test_first_sign_in_takes_baselines (Fixture *f, gconstpointer data)
{
  PpmConv *conv = known_conversation (&f->registry, "c1");

  conv->latest_message_uuid = g_strdup ("m9");
  f->registry.list_fresh = TRUE;
  ppm_catchup_start (&f->catchup, DEVICE, FALSE);
  /* Years of history are not replayed at an account's first sign-in. */
  answer_empty_unacked (f);
  g_assert_cmpuint (f->done, ==, 1);
  assert_uuids (f->history, (const char *[]) { NULL });
  g_assert_true (g_str_has_prefix (get (f, "last_seen/c1"), "m9 "));
  g_assert_cmpstr (get (f, "synced"), ==, "1");
  expect_no_request (WORLD (f));
}

static void
test_history_since_last_seen (Fixture *f, gconstpointer data)
{
  PpmConv *conv = known_conversation (&f->registry, "c1");
  PpmConv *quiet = known_conversation (&f->registry, "c2");
  g_autofree char *m1 = record ("m1", "c1", "v1", "d1");
  g_autofree char *m2 = record ("m2", "c1", "v1", "d1");
  g_autofree char *page = g_strdup_printf ("{\"error_code\":0,\"list\":[%s,%s]}", m1, m2);

  set (f, "synced", "1");
  set (f, "last_seen/c1", "m0");
  set (f, "last_seen/c2", "q5");
  conv->latest_message_uuid = g_strdup ("m2");
  quiet->latest_message_uuid = g_strdup ("q5");
  f->registry.list_fresh = TRUE;
  ppm_catchup_start (&f->catchup, DEVICE, FALSE);
  /* c2's latest message was seen: no history asked for it. */
  expect_request (WORLD (f), "PP_PAGE_HISTORY_MESSAGE", "\"min_uuid\":\"m0\"");
  g_assert_nonnull (strstr (((FakeRequest *) f->world.requests->pdata[0])->detail,
                            "\"conversation_uuid\":\"c1\""));
  answer_request (WORLD (f), page);
  answer_empty_unacked (f);
  g_assert_cmpuint (f->done, ==, 1);
  assert_uuids (f->history, (const char *[]) { "m1", "m2", NULL });
}

static void
test_started_while_away_is_replayed_oldest_first (Fixture *f, gconstpointer data)
{
  g_autofree char *m1 = record ("m1", "c2", "v2", "d2");
  g_autofree char *m2 = record ("m2", "c2", SELF, DEVICE);
  g_autofree char *m3 = record ("m3", "c2", SELF, "phone");
  g_autofree char *page = NULL;

  known_conversation (&f->registry, "c2");
  set (f, "synced", "1");
  ppm_catchup_start (&f->catchup, DEVICE, FALSE);
  /* No last seen message after the first sign-in: from its start, newest
   * page first. */
  expect_request (WORLD (f), "PP_PAGE_HISTORY_MESSAGE", "\"page_offset\":0");
  page = g_strdup_printf ("{\"error_code\":0,\"list\":[%s,%s,%s]}", m3, m2, m1);
  answer_request (WORLD (f), page);
  answer_empty_unacked (f);
  /* m2 was written on this device: the UI showed it then. m3 came from
   * this user's phone and is shown. */
  assert_uuids (f->history, (const char *[]) { "m1", "m3", NULL });
}

static void
test_unacked_beyond_one_read_comes_in_rounds (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *last = NULL;
  guint per_read = PPM_UNACKED_PAGE_SIZE * PPM_UNACKED_MAX_PAGES;

  ppm_catchup_start (&f->catchup, DEVICE, FALSE);
  for (guint page = 0; page < PPM_UNACKED_MAX_PAGES; page++) {
    g_autofree char *offset = g_strdup_printf ("\"page_offset\":%u", page);
    g_autofree char *answer = unacked_page ("a", page * PPM_UNACKED_PAGE_SIZE,
                                            PPM_UNACKED_PAGE_SIZE);

    expect_request (WORLD (f), "PP_PAGE_UNACKED_MESSAGE", offset);
    answer_request (WORLD (f), answer);
  }
  g_assert_cmpuint (f->done, ==, 1);
  g_assert_cmpuint (f->unacked->len, ==, per_read);
  g_assert_false (f->read_whole);
  /* The next round waits until the server confirmed every ack. */
  expect_no_request (WORLD (f));
  for (guint i = 0; i < per_read; i++)
    g_ptr_array_add (pids, g_strdup_printf ("pid-a%u", i));
  ppm_catchup_acks_confirmed (&f->catchup, pids, TRUE);
  expect_request (WORLD (f), "PP_PAGE_UNACKED_MESSAGE", "\"page_offset\":0");
  last = unacked_page ("b", 0, 10);
  answer_request (WORLD (f), last);
  g_assert_cmpuint (f->backlog_done, ==, 1);
  g_assert_cmpuint (f->unacked->len, ==, 10);
  g_assert_cmpstr (f->unacked->pdata[0], ==, "b0");
  g_assert_true (f->read_whole);
  expect_no_request (WORLD (f));
}

static void
test_abort_mid_catch_up_delivers_nothing (Fixture *f, gconstpointer data)
{
  g_autofree char *m1 = record ("m1", "c1", "v1", "d1");
  g_autofree char *page = g_strdup_printf ("{\"error_code\":0,\"list\":[%s]}", m1);

  known_conversation (&f->registry, "c1");
  set (f, "synced", "1");
  set (f, "last_seen/c1", "m0");
  ppm_catchup_start (&f->catchup, DEVICE, FALSE);
  expect_request (WORLD (f), "PP_PAGE_HISTORY_MESSAGE", "m0");
  ppm_catchup_abort (&f->catchup);
  g_assert_false (ppm_catchup_is_running (&f->catchup));
  /* The answer comes after all: as a cancellation, and nothing follows. */
  answer_request (WORLD (f), page);
  expect_no_request (WORLD (f));
  g_assert_cmpuint (f->done, ==, 0);
}

static void
test_repair_looks_for_conversations_started_meanwhile (Fixture *f, gconstpointer data)
{
  known_conversation (&f->registry, "c1");
  set (f, "synced", "1");
  set (f, "last_seen/c1", "m0");
  ppm_catchup_start (&f->catchup, DEVICE, TRUE);
  expect_request (WORLD (f), "PP_PAGE_USER_CONVERSATION", "\"page_offset\":0");
  answer_request (WORLD (f), "{\"error_code\":0,\"list\":[{\"uuid\":\"c1\"},{\"uuid\":\"c-new\"}]}");
  /* Only the unknown one is looked up; then both histories are read. */
  expect_request (WORLD (f), "RESOLVE", "c-new");
  answer_resolve (WORLD (f));
  g_assert_cmpuint (f->world.requests->len, ==, 2);
  for (guint i = 0; i < 2; i++) {
    FakeRequest *request = expect_request (WORLD (f), "PP_PAGE_HISTORY_MESSAGE", NULL);

    g_assert_true (strstr (request->detail, "\"min_uuid\":\"m0\"") ||
                   strstr (request->detail, "\"page_offset\":0"));
    answer_request (WORLD (f), "{\"error_code\":0,\"list\":[]}");
  }
  answer_empty_unacked (f);
  g_assert_cmpuint (f->done, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/lib/catchup/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("first-sign-in-takes-baselines", test_first_sign_in_takes_baselines);
  ADD ("history-since-last-seen", test_history_since_last_seen);
  ADD ("started-while-away-is-replayed-oldest-first",
       test_started_while_away_is_replayed_oldest_first);
  ADD ("unacked-beyond-one-read-comes-in-rounds", test_unacked_beyond_one_read_comes_in_rounds);
  ADD ("abort-mid-catch-up-delivers-nothing", test_abort_mid_catch_up_delivers_nothing);
  ADD ("repair-looks-for-conversations-started-meanwhile",
       test_repair_looks_for_conversations_started_meanwhile);
#undef ADD
  return g_test_run ();
}
