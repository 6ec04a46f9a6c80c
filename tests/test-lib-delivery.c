/* test-lib-delivery.c: the delivery queue of the client library on its
 * own, without a server or a clock: order, duplicates between pushes and
 * catch-up batches, batched acks, a big batch in slices that go on while
 * the socket stays busy, conversations looked up before their messages,
 * pushes held during a catch-up, what an earlier session showed, and
 * last_seen.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fake-ports.h"

/* The world first: the delivery hands its ports and its sink the same
 * owner pointer, the fixture, which is also a FakeWorld. */
typedef struct {
  FakeWorld world;
  PpmRegistry registry;
  PpmLastSeen last_seen;
  PpmDelivery delivery;
  GPtrArray *shown;           /* char* message uuids, in the order shown */
  GPtrArray *confirmed;       /* char* push ids the server confirmed */
  GCancellable *cancellable;  /* the session's */
} Fixture;

static void
on_show (gpointer owner, const PpmMessage *message, const PpmConversation *conversation)
{
  Fixture *f = owner;

  g_assert_nonnull (conversation);
  g_assert_cmpstr (conversation->uuid, ==, message->conversation_uuid);
  g_ptr_array_add (f->shown, g_strdup (message->uuid));
}

static void
on_acks_confirmed (gpointer owner, GPtrArray *pids)
{
  Fixture *f = owner;

  for (guint i = 0; i < pids->len; i++)
    g_ptr_array_add (f->confirmed, g_strdup (pids->pdata[i]));
}

static void
setup (Fixture *f, gconstpointer data)
{
  static const PpmDeliverySink sink = { .show = on_show, .acks_confirmed = on_acks_confirmed };

  ppm_registry_init (&f->registry, PPM_ROLE_AGENT, NULL, NULL);
  fake_world_init (&f->world, &f->registry);
  ppm_last_seen_init (&f->last_seen, &f->world.ports, f);
  ppm_delivery_init (&f->delivery, &f->world.ports, &sink, f, &f->registry, &f->last_seen);
  f->shown = g_ptr_array_new_with_free_func (g_free);
  f->confirmed = g_ptr_array_new_with_free_func (g_free);
  f->cancellable = g_cancellable_new ();
  ppm_delivery_set_cancellable (&f->delivery, f->cancellable);
  ppm_delivery_set_open (&f->delivery, TRUE);
  known_conversation (&f->registry, "c1");
  known_conversation (&f->registry, "c2");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_cancellable_cancel (f->cancellable);
  fake_world_cancel_all (&f->world);
  ppm_delivery_clear (&f->delivery);
  g_object_unref (f->cancellable);
  ppm_registry_clear (&f->registry);
  fake_world_clear (&f->world);
  g_ptr_array_unref (f->shown);
  g_ptr_array_unref (f->confirmed);
  drain ();
}

#define WORLD(f) (&(f)->world)

static PpmQueued *
queued (const char *uuid, const char *conversation, const char *pid, gint64 time_us)
{
  PpmMessage *message = g_new0 (PpmMessage, 1);

  message->uuid = g_strdup (uuid);
  message->conversation_uuid = g_strdup (conversation);
  message->from_uuid = g_strdup ("visitor-1");
  message->from_name = g_strdup ("Ann");
  message->kind = PPM_MESSAGE_TEXT;
  message->subtype = g_strdup ("TEXT");
  message->text = g_strdup (uuid);
  message->file_size = -1;
  message->time_us = time_us;
  message->time = time_us / G_USEC_PER_SEC;
  return ppm_queued_new (message, pid, "P2S");
}

static void
assert_shown (Fixture *f, const char *const *expected)
{
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < MIN (n, f->shown->len); i++)
    g_assert_cmpstr (f->shown->pdata[i], ==, expected[i]);
  g_assert_cmpuint (f->shown->len, ==, n);
}

static GPtrArray *
batch_of (PpmQueued *first, ...)
{
  GPtrArray *batch = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_queued_free);
  va_list args;

  va_start (args, first);
  for (PpmQueued *q = first; q != NULL; q = va_arg (args, PpmQueued *))
    g_ptr_array_add (batch, q);
  va_end (args);
  return batch;
}

static void
test_order_and_one_ack_call (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) batch = batch_of (queued ("m1", "c1", "p1", 1), queued ("m2", "c2", "p2", 2),
                                          queued ("m3", "c1", "p3", 3), NULL);

  g_assert_cmpuint (ppm_delivery_enqueue_batch (&f->delivery, batch), ==, 3);
  ppm_delivery_run (&f->delivery);
  assert_shown (f, (const char *[]) { "m1", "m2", "m3", NULL });
  /* The acks go after the messages were shown, in one call. */
  expect_no_request (WORLD (f));
  drain ();
  expect_request (WORLD (f), "ACK_MESSAGE", "\"list\":[\"p1\",\"p2\",\"p3\"]");
  answer_request (WORLD (f), "{\"error_code\":0}");
  g_assert_cmpuint (f->confirmed->len, ==, 3);
  expect_no_request (WORLD (f));
}

static void
test_push_then_catch_up_shows_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) batch = batch_of (queued ("m1", "c1", "p1-again", 1),
                                          queued ("m2", "c1", "p2", 2), NULL);

  ppm_delivery_push (&f->delivery, queued ("m1", "c1", "p1", 1));
  g_assert_cmpuint (ppm_delivery_enqueue_batch (&f->delivery, batch), ==, 1);
  ppm_delivery_run (&f->delivery);
  assert_shown (f, (const char *[]) { "m1", "m2", NULL });
  /* The duplicate's push id is acked all the same, so the server stops
   * offering it. */
  drain ();
  expect_request (WORLD (f), "ACK_MESSAGE", "\"p1\",\"p1-again\",\"p2\"");
}

static void
test_unknown_conversation_keeps_the_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) batch = batch_of (queued ("m1", "c1", NULL, 1),
                                          queued ("m2", "c-new", NULL, 2),
                                          queued ("m3", "c1", NULL, 3), NULL);

  ppm_delivery_enqueue_batch (&f->delivery, batch);
  ppm_delivery_run (&f->delivery);
  /* m3 waits behind m2, whose conversation is looked up first. */
  assert_shown (f, (const char *[]) { "m1", NULL });
  expect_request (WORLD (f), "RESOLVE", "c-new");
  answer_resolve (WORLD (f));
  assert_shown (f, (const char *[]) { "m1", "m2", "m3", NULL });
}

static void
test_pushes_held_during_catch_up_come_after_it (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) history = batch_of (queued ("old", "c1", NULL, 1), NULL);

  ppm_delivery_hold (&f->delivery);
  ppm_delivery_push (&f->delivery, queued ("live", "c1", "p9", 3));
  drain ();
  assert_shown (f, (const char *[]) { NULL });
  ppm_delivery_enqueue_batch (&f->delivery, history);
  ppm_delivery_release_held (&f->delivery);
  assert_shown (f, (const char *[]) { "old", "live", NULL });
}

static void
test_a_big_batch_is_shown_in_slices (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_queued_free);
  guint count = PPM_DELIVERY_BATCH * 2 + 20;

  for (guint i = 0; i < count; i++) {
    g_autofree char *uuid = g_strdup_printf ("m%03u", i);

    g_ptr_array_add (batch, queued (uuid, "c1", NULL, i + 1));
  }
  ppm_delivery_enqueue_batch (&f->delivery, batch);
  ppm_delivery_run (&f->delivery);
  /* One slice per main-loop iteration: the UI is never frozen. */
  g_assert_cmpuint (f->shown->len, ==, PPM_DELIVERY_BATCH);
  drain ();
  g_assert_cmpuint (f->shown->len, ==, count);
  for (guint i = 0; i < count; i++) {
    g_autofree char *uuid = g_strdup_printf ("m%03u", i);

    g_assert_cmpstr (f->shown->pdata[i], ==, uuid);
  }
}

/* A busy socket: ready at every iteration, at the default priority. */
static gboolean
busy_source (gpointer data)
{
  guint *iterations = data;

  return ++*iterations < 1000 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The next slices do not wait for the socket to fall silent. */
static void
test_slices_go_on_while_the_socket_is_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) ppm_queued_free);
  guint count = PPM_DELIVERY_BATCH * 3;
  guint iterations = 0;

  for (guint i = 0; i < count; i++) {
    g_autofree char *uuid = g_strdup_printf ("m%03u", i);

    g_ptr_array_add (batch, queued (uuid, "c1", NULL, i + 1));
  }
  ppm_delivery_enqueue_batch (&f->delivery, batch);
  ppm_delivery_run (&f->delivery);
  g_idle_add_full (G_PRIORITY_DEFAULT, busy_source, &iterations, NULL);
  while (iterations < 10)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->shown->len, ==, count);
  while (iterations < 1000)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_shown_by_an_earlier_session_is_only_acked (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) batch = batch_of (queued ("m1", "c1", "p-kept", 1),
                                          queued ("m2", "c1", "p-new", 2), NULL);

  g_hash_table_insert (f->world.settings, g_strdup ("unconfirmed_acks"), g_strdup ("p-kept"));
  ppm_delivery_load_kept_acks (&f->delivery);
  ppm_delivery_enqueue_batch (&f->delivery, batch);
  ppm_delivery_run (&f->delivery);
  assert_shown (f, (const char *[]) { "m2", NULL });
  drain ();
  expect_request (WORLD (f), "ACK_MESSAGE", "\"p-kept\",\"p-new\"");
}

static void
test_unconfirmed_acks_are_kept_at_reset (Fixture *f, gconstpointer data)
{
  ppm_delivery_push (&f->delivery, queued ("m1", "c1", "p1", 1));
  drain ();
  expect_request (WORLD (f), "ACK_MESSAGE", "p1");
  /* The session ends before the server confirmed the ack. */
  ppm_delivery_reset (&f->delivery);
  g_assert_cmpstr (g_hash_table_lookup (f->world.settings, "unconfirmed_acks"), ==, "p1");
}

static void
test_not_shown_before_reset_is_shown_later (Fixture *f, gconstpointer data)
{
  ppm_delivery_push (&f->delivery, queued ("m1", "c-new", NULL, 1));
  expect_request (WORLD (f), "RESOLVE", "c-new");
  ppm_delivery_reset (&f->delivery);
  assert_shown (f, (const char *[]) { NULL });
  /* A later session gets it from its catch-up and shows it. */
  known_conversation (&f->registry, "c-new");
  ppm_delivery_set_cancellable (&f->delivery, f->cancellable);
  ppm_delivery_set_open (&f->delivery, TRUE);
  ppm_delivery_push (&f->delivery, queued ("m1", "c-new", NULL, 1));
  assert_shown (f, (const char *[]) { "m1", NULL });
}

static void
assert_last_seen (Fixture *f, const char *expected)
{
  g_autofree char *uuid = ppm_last_seen_get (&f->last_seen, "c1");

  g_assert_cmpstr (uuid, ==, expected);
}

static void
test_last_seen_never_moves_back (Fixture *f, gconstpointer data)
{
  PpmQueued *late = queued ("older", "c1", "p2", 1000);
  g_autoptr (GPtrArray) backlog = batch_of (late, NULL);

  late->time_is_epoch = TRUE;
  late->from_unacked_list = TRUE;
  {
    PpmQueued *live = queued ("newer", "c1", "p1", 2000);

    live->time_is_epoch = TRUE;
    ppm_delivery_push (&f->delivery, live);
  }
  assert_last_seen (f, "newer");
  ppm_delivery_enqueue_batch (&f->delivery, backlog);
  ppm_delivery_run (&f->delivery);
  assert_shown (f, (const char *[]) { "newer", "older", NULL });
  assert_last_seen (f, "newer");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/lib/delivery/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("order-and-one-ack-call", test_order_and_one_ack_call);
  ADD ("push-then-catch-up-shows-once", test_push_then_catch_up_shows_once);
  ADD ("unknown-conversation-keeps-the-order", test_unknown_conversation_keeps_the_order);
  ADD ("pushes-held-during-catch-up-come-after-it",
       test_pushes_held_during_catch_up_come_after_it);
  ADD ("a-big-batch-is-shown-in-slices", test_a_big_batch_is_shown_in_slices);
  ADD ("slices-go-on-while-the-socket-is-busy", test_slices_go_on_while_the_socket_is_busy);
  ADD ("shown-by-an-earlier-session-is-only-acked",
       test_shown_by_an_earlier_session_is_only_acked);
  ADD ("unconfirmed-acks-are-kept-at-reset", test_unconfirmed_acks_are_kept_at_reset);
  ADD ("not-shown-before-reset-is-shown-later", test_not_shown_before_reset_is_shown_later);
  ADD ("last-seen-never-moves-back", test_last_seen_never_moves_back);
#undef ADD
  return g_test_run ();
}
