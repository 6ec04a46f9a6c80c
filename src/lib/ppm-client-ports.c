/* ppm-client-ports.c: how the owner wires its state modules: the ports
 * they reach the world through (its PpmApi, its settings), the sinks they
 * report to, and what follows a catch-up: the session is connected, the
 * batches go to the delivery in order, then what was pushed meanwhile,
 * then the messages waiting to be sent.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <string.h>

/* ---- Ports ---- */

static void
port_call (gpointer owner, const char *name, JsonObject *body, GCancellable *cancellable,
           PpmApiCallback callback, gpointer data)
{
  PpmClient *client = owner;
  g_autoptr (JsonObject) envelope = ppm_api_new_body (client->api);
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  json_object_iter_init (&iter, body);
  while (json_object_iter_next (&iter, &member, &node))
    json_object_set_member (envelope, member, json_node_copy (node));
  ppm_api_call (client->api, name, envelope, cancellable, callback, data);
}

static void
port_download (gpointer owner, const char *url, gsize max_bytes, GCancellable *cancellable,
               PpmApiBytesCallback callback, gpointer data)
{
  PpmClient *client = owner;
  const char *base = ppm_api_get_base_url (client->api);

  /* Message URLs are built from the base URL: request their path part. */
  ppm_api_get_limited (client->api, g_str_has_prefix (url, base) ? url + strlen (base) : url,
                       max_bytes, cancellable, callback, data);
}

static void
port_resolve (gpointer owner, const char *conversation_uuid, GCancellable *cancellable,
              PpmResolved done, gpointer data)
{
  PpmClient *client = owner;

  ppm_registry_resolve (&client->registry, client->api, conversation_uuid, cancellable, done,
                        data);
}

static char *
port_load_setting (gpointer owner, const char *key)
{
  return ppm_client_load_setting (owner, key);
}

static void
port_save_setting (gpointer owner, const char *key, const char *value)
{
  ppm_client_save_setting (owner, key, value);
}

static GPtrArray *
port_list_settings (gpointer owner, const char *prefix)
{
  return ppm_client_list_settings (owner, prefix);
}

static void
port_http_failed (gpointer owner, const char *what, const GError *error)
{
  ppm_client_note_http_error (owner, what, error);
}

static const char *
port_base_url (gpointer owner)
{
  return ppm_api_get_base_url (((PpmClient *) owner)->api);
}

/* ---- The registry's sink ---- */

static void
on_user_changed (gpointer owner, const PpmUser *user)
{
  ppm_client_emit_user (owner, user);
}

static void
on_conversation_changed (gpointer owner, const PpmConversation *conversation)
{
  ppm_client_emit_conversation (owner, conversation);
}

/* ---- The delivery's sink ---- */

static void
on_show (gpointer owner, const PpmMessage *message, const PpmConversation *conversation)
{
  ppm_client_emit_message (owner, message, conversation);
}

static void
on_acks_confirmed (gpointer owner, GPtrArray *pids)
{
  PpmClient *client = owner;

  ppm_catchup_acks_confirmed (&client->catchup, pids, client->state == SESSION_CONNECTED);
}

/* ---- The outbox's sink ---- */

/* Sends go after the catch-up, in order: only a connected session writes. */
static gboolean
on_write (gpointer owner, JsonObject *frame)
{
  PpmClient *client = owner;

  return client->state == SESSION_CONNECTED && ppm_socket_send_frame (client, frame);
}

static void
on_send_result (gpointer owner, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  PpmClient *client = owner;
  PpmConv *conv;

  if (error)
    g_debug ("message %s not sent: %s", message_uuid, error->message);
  else
    g_debug ("message %s stored by the server", message_uuid);
  /* "last_seen" is not moved to our own message: a visitor's message stored
   * just before it may still be on its way to us, and a catch-up from our
   * message would skip it. Our own uuids are known to the de-duplication. */
  conv = error == NULL ? ppm_registry_lookup_conv (&client->registry, conversation_uuid) : NULL;
  if (conv)
    ppm_registry_conv_touch (&client->registry, conv);
  /* A message reopens a closed conversation on the server, for everyone. */
  if (conv && !conv->pub.is_open) {
    conv->pub.is_open = TRUE;
    ppm_registry_conv_emit (&client->registry, conv);
  }
  ppm_client_emit_send_result (client, conversation_uuid, message_uuid, error);
}

static void
on_send_stalled (gpointer owner, const GError *error)
{
  ppm_client_fail (owner, error);
}

/* ---- The catch-up's sink ---- */

/* History first (in order per conversation), then the unacked pushes (only
 * new ones remain after de-duplication), then what was pushed meanwhile. */
static void
on_caught_up (gpointer owner, GPtrArray *history, GPtrArray *unacked, gboolean read_whole)
{
  PpmClient *client = owner;
  gboolean first = !ppm_client_was_connected (client);

  ppm_client_set_state (client, SESSION_CONNECTED);
  ppm_reconnect_succeeded (client);
  if (client->role == PPM_ROLE_AGENT)
    ppm_team_poll_start (client);
  if (first && !ppm_client_emit_connected (client))
    return;                     /* disconnected from within the callback */
  ppm_delivery_enqueue_batch (&client->delivery, history);
  ppm_delivery_enqueue_batch (&client->delivery, unacked);
  /* After the batch, which is checked against it: the rest of what an
   * earlier session showed was acked. */
  if (read_whole)
    ppm_delivery_forget_shown_earlier (&client->delivery);
  ppm_delivery_release_held (&client->delivery);
  if (client->state == SESSION_CONNECTED)
    ppm_send_flush (client);
}

static void
on_backlog_read (gpointer owner, GPtrArray *unacked, gboolean read_whole)
{
  PpmClient *client = owner;

  ppm_delivery_enqueue_batch (&client->delivery, unacked);
  if (read_whole)
    ppm_delivery_forget_shown_earlier (&client->delivery);
  ppm_delivery_run (&client->delivery);
}

static void
on_catch_up_failed (gpointer owner, const GError *error)
{
  ppm_client_fail (owner, error);
}

void
ppm_client_start_catch_up (PpmClient *client)
{
  gboolean repair = ppm_client_was_connected (client);

  ppm_delivery_hold (&client->delivery);
  ppm_delivery_load_kept_acks (&client->delivery);
  client->catchup.give_up_failed_pages = !repair;
  if (!repair)
    ppm_client_set_state (client, SESSION_CATCHING_UP);
  /* A sign-in just read the whole conversation list; a repair reads its
   * first page for the conversations that started during the outage. */
  ppm_catchup_start (&client->catchup, client->device_uuid,
                     !client->registry.list_fresh && client->role == PPM_ROLE_AGENT);
  ppm_delivery_set_open (&client->delivery, FALSE);
}

void
ppm_client_init_modules (PpmClient *client)
{
  static const PpmRegistrySink registry_sink = {
    .user_changed = on_user_changed,
    .conversation_changed = on_conversation_changed,
  };
  static const PpmDeliverySink delivery_sink = {
    .show = on_show,
    .acks_confirmed = on_acks_confirmed,
  };
  static const PpmOutboxSink outbox_sink = {
    .write = on_write,
    .result = on_send_result,
    .stalled = on_send_stalled,
  };
  static const PpmCatchUpSink catchup_sink = {
    .done = on_caught_up,
    .backlog_done = on_backlog_read,
    .failed = on_catch_up_failed,
  };

  client->ports = (PpmPorts) {
    .call = port_call,
    .download = port_download,
    .resolve = port_resolve,
    .load_setting = port_load_setting,
    .save_setting = port_save_setting,
    .list_settings = port_list_settings,
    .http_failed = port_http_failed,
    .base_url = port_base_url,
  };
  ppm_registry_init (&client->registry, client->role, &registry_sink, client);
  ppm_last_seen_init (&client->last_seen, &client->ports, client);
  ppm_outbox_init (&client->outbox, &outbox_sink, client, &client->ports);
  ppm_delivery_init (&client->delivery, &client->ports, &delivery_sink, client,
                     &client->registry, &client->last_seen);
  ppm_catchup_init (&client->catchup, &client->ports, &catchup_sink, client,
                    &client->registry, &client->last_seen);
  ppm_history_init (&client->history, &client->ports, client, &client->registry);
}
