/* fake-ports.h: PpmPorts without a server, for the unit tests of the
 * library's state modules (test-lib-delivery.c, test-lib-catchup.c). Every
 * call, download and look-up is recorded and waits until the test answers
 * it, so a test reads like the exchange it expects: "it asked for this;
 * answer that; now it shows these". Settings live in a hash table. Nothing
 * here waits on a clock: idle callbacks are drained with drain().
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-catchup.h"

#include <string.h>

typedef struct {
  char *name;                 /* API name, "GET" or "RESOLVE" */
  char *detail;               /* the body as JSON text, the URL, or the uuid */
  JsonObject *body;           /* calls: a copy of the body */
  GCancellable *cancellable;
  PpmApiCallback callback;
  PpmApiBytesCallback bytes_callback;
  PpmResolved resolved;
  gpointer data;
} FakeRequest;

typedef struct {
  PpmPorts ports;
  GPtrArray *requests;        /* FakeRequest*, not answered yet, oldest first */
  GHashTable *settings;       /* key -> value */
  PpmRegistry *registry;      /* resolve answers by adding the conversation here */
} FakeWorld;

static void
fake_request_free (FakeRequest *request)
{
  g_free (request->name);
  g_free (request->detail);
  g_clear_pointer (&request->body, json_object_unref);
  g_clear_object (&request->cancellable);
  g_free (request);
}

static FakeRequest *
fake_request_add (FakeWorld *world, const char *name, const char *detail,
                  GCancellable *cancellable, gpointer data)
{
  FakeRequest *request = g_new0 (FakeRequest, 1);

  request->name = g_strdup (name);
  request->detail = g_strdup (detail);
  request->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  request->data = data;
  g_ptr_array_add (world->requests, request);
  return request;
}

static void
fake_call (gpointer owner, const char *name, JsonObject *body, GCancellable *cancellable,
           PpmApiCallback callback, gpointer data)
{
  FakeWorld *world = owner;
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), body);
  g_autofree char *text = json_to_string (node, FALSE);
  FakeRequest *request = fake_request_add (world, name, text, cancellable, data);

  request->body = json_object_ref (body);
  request->callback = callback;
}

static void
fake_download (gpointer owner, const char *url, gsize max_bytes, GCancellable *cancellable,
               PpmApiBytesCallback callback, gpointer data)
{
  FakeRequest *request = fake_request_add (owner, "GET", url, cancellable, data);

  request->bytes_callback = callback;
}

static void
fake_resolve (gpointer owner, const char *conversation_uuid, GCancellable *cancellable,
              PpmResolved done, gpointer data)
{
  FakeRequest *request = fake_request_add (owner, "RESOLVE", conversation_uuid, cancellable,
                                           data);

  request->resolved = done;
}

static char *
fake_load_setting (gpointer owner, const char *key)
{
  return g_strdup (g_hash_table_lookup (((FakeWorld *) owner)->settings, key));
}

static void
fake_save_setting (gpointer owner, const char *key, const char *value)
{
  FakeWorld *world = owner;

  if (value == NULL)
    g_hash_table_remove (world->settings, key);
  else
    g_hash_table_insert (world->settings, g_strdup (key), g_strdup (value));
}

static GPtrArray *
fake_list_settings (gpointer owner, const char *prefix)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, ((FakeWorld *) owner)->settings);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, prefix))
      g_ptr_array_add (keys, g_strdup (key));
  return keys;
}

static void
fake_http_failed (gpointer owner, const char *what, const GError *error)
{
}

static const char *
fake_base_url (gpointer owner)
{
  return "http://ppm.test";
}

static void
fake_world_init (FakeWorld *world, PpmRegistry *registry)
{
  memset (world, 0, sizeof *world);
  world->ports = (PpmPorts) {
    .call = fake_call, .download = fake_download, .resolve = fake_resolve,
    .load_setting = fake_load_setting, .save_setting = fake_save_setting,
    .list_settings = fake_list_settings,
    .http_failed = fake_http_failed, .base_url = fake_base_url,
  };
  world->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_request_free);
  world->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  world->registry = registry;
}

/* Every request left ends as the cancelled requests of a session do: calls
 * and downloads report the cancellation, look-ups say nothing. */
static void
fake_world_cancel_all (FakeWorld *world)
{
  g_autoptr (GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                      "cancelled");

  while (world->requests->len > 0) {
    FakeRequest *request = g_ptr_array_steal_index (world->requests, 0);

    if (request->callback)
      request->callback (NULL, cancelled, request->data);
    else if (request->bytes_callback)
      request->bytes_callback (NULL, cancelled, request->data);
    fake_request_free (request);
  }
}

static void
fake_world_clear (FakeWorld *world)
{
  fake_world_cancel_all (world);
  g_ptr_array_unref (world->requests);
  g_hash_table_unref (world->settings);
}

/* Runs the idle callbacks due now; never waits. */
G_GNUC_UNUSED static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The oldest request not answered yet, which must be `name`; its detail
 * (body, URL or uuid) must contain `contains` when given. */
static FakeRequest *
expect_request (FakeWorld *world, const char *name, const char *contains)
{
  FakeRequest *request;

  if (world->requests->len == 0)
    g_error ("expected a request %s, none was made", name);
  request = world->requests->pdata[0];
  if (g_strcmp0 (request->name, name) != 0 ||
      (contains && strstr (request->detail, contains) == NULL))
    g_error ("expected %s with %s, got %s %s", name, contains ? contains : "anything",
             request->name, request->detail);
  return request;
}

static void
expect_no_request (FakeWorld *world)
{
  if (world->requests->len > 0) {
    FakeRequest *request = world->requests->pdata[0];

    g_error ("expected no request, got %s %s", request->name, request->detail);
  }
}

/* Answers the oldest request (a call) with this JSON text, or a
 * cancellation when it was cancelled meanwhile, as PpmApi does. */
static void
answer_request (FakeWorld *world, const char *json)
{
  FakeRequest *request = g_ptr_array_steal_index (world->requests, 0);

  g_assert_nonnull (request->callback);
  if (request->cancellable && g_cancellable_is_cancelled (request->cancellable)) {
    g_autoptr (GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                        "cancelled");

    request->callback (NULL, cancelled, request->data);
  } else {
    g_autoptr (JsonParser) parser = json_parser_new ();

    g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
    request->callback (json_node_get_object (json_parser_get_root (parser)), NULL,
                       request->data);
  }
  fake_request_free (request);
}

/* Answers the oldest request (a look-up): the conversation becomes known
 * as a visitor's. */
static void
answer_resolve (FakeWorld *world)
{
  FakeRequest *request = g_ptr_array_steal_index (world->requests, 0);
  PpmConv *conv;

  g_assert_nonnull (request->resolved);
  conv = ppm_registry_conv_ensure (world->registry, request->detail);
  if (conv->pub.type == NULL)
    conv->pub.type = g_strdup ("P2S");
  conv->pub.is_open = TRUE;
  request->resolved (request->data, request->detail);
  fake_request_free (request);
}

/* A conversation the registry knows, open. */
static PpmConv *
known_conversation (PpmRegistry *registry, const char *uuid)
{
  PpmConv *conv = ppm_registry_conv_ensure (registry, uuid);

  conv->pub.type = g_strdup ("P2S");
  conv->pub.is_open = TRUE;
  return conv;
}
