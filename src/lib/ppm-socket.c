/* ppm-socket.c: the websocket of a session, for both roles: opening it,
 * authenticating (ACK AUTH), the dispatch of server frames (ACK SEND to
 * the outbox, pushes to the delivery, typing and presence), and handing a
 * lost socket to the repair.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>

static void
handle_auth_ack (PpmClient *client, const PpmFrame *frame)
{
  g_autoptr (GError) error = NULL;

  if (frame->code != 0) {
    /* 8, 9, 10: no, an unknown or an unfit token (the protocol document,
     * "auth processing, in server order"). Mid-session (say
     * the server lost its tokens) a fresh sign-in repairs it. */
    gboolean token = frame->code == 8 || frame->code == 9 || frame->code == 10;
    int code = !ppm_client_was_connected (client) ? PPM_ERROR_AUTH
               : token ? PPM_ERROR_TOKEN_REFUSED : PPM_ERROR_PROTOCOL;

    error = g_error_new (PPM_ERROR, code,
                         _("The server refused the session (%s, code %lld)"),
                         frame->reason ? frame->reason : _("no reason given"),
                         (long long) frame->code);
    ppm_client_fail (client, error);
    return;
  }
  if (client->ws_authenticated)
    return;
  g_clear_handle_id (&client->auth_timeout_id, g_source_remove);
  client->ws_authenticated = TRUE;
  g_debug ("websocket authenticated");
  ppm_send_rewatch_typing (client);
  /* The queued sends go after the catch-up, in order. */
  ppm_client_emit_progress (client, N_("Fetching missed messages"));
  ppm_client_start_catch_up (client);
}

static void
handle_typing (PpmClient *client, const PpmFrame *frame)
{
  const PpmUser *self = client->registry.self;

  if (self && g_strcmp0 (frame->user_uuid, self->uuid) == 0)
    return;
  ppm_client_emit_typing (client, frame->conversation_uuid, frame->user_uuid);
}

/* Takes a visitor's page from PPCom's navigation data ({"title": ...,
 * "location": {"href": ...}}, ../shared/protocol/PPMESSAGE-PROTOCOL.md,
 * the visitor's auth frame); TRUE when it changed. Anything else in it is
 * ignored. */
static gboolean
take_page (PpmUser *user, JsonObject *extra_data)
{
  JsonObject *location = extra_data ? ppm_json_opt_object (extra_data, "location") : NULL;
  const char *title = extra_data ? ppm_json_opt_nonempty (extra_data, "title") : NULL;
  const char *url = location ? ppm_json_opt_nonempty (location, "href") : NULL;

  if ((title == NULL && url == NULL) ||
      (g_strcmp0 (title, user->page_title) == 0 && g_strcmp0 (url, user->page_url) == 0))
    return FALSE;
  g_free (user->page_title);
  user->page_title = g_strdup (title);
  g_free (user->page_url);
  user->page_url = g_strdup (url);
  return TRUE;
}

static void
handle_online (PpmClient *client, const PpmFrame *frame)
{
  PpmUser *user = g_hash_table_lookup (client->registry.users, frame->user_uuid);
  PpmPresence presence;
  gboolean changed;

  /* Visitors and agents alike: an ONLINE frame is the server's word
   * (../shared/protocol/transcripts/05b-online-presence-typo-fixed.jsonl). */
  if (user == NULL)
    return;
  changed = !user->is_service_user && take_page (user, frame->extra_data);
  if (g_strcmp0 (frame->browser, "ONLINE") == 0 || g_strcmp0 (frame->mobile, "ONLINE") == 0)
    presence = PPM_PRESENCE_ONLINE;
  else if (g_strcmp0 (frame->browser, "OFFLINE") == 0 ||
           g_strcmp0 (frame->mobile, "OFFLINE") == 0)
    presence = PPM_PRESENCE_OFFLINE;
  else
    presence = user->presence;
  changed |= presence != user->presence;
  user->presence = presence;
  if (changed)
    ppm_registry_user_emit (&client->registry, user);
}

static void
handle_push (PpmClient *client, JsonObject *msg)
{
  const char *device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pid = NULL;
  PpmMessage *message;
  PpmQueued *queued;

  if (ppm_message_is_logout (msg, &device)) {
    if (g_strcmp0 (device, client->device_uuid) == 0) {
      error = g_error_new_literal (PPM_ERROR, PPM_ERROR_SIGNED_IN_ELSEWHERE,
                                   _("This account signed in from another place"));
      ppm_client_fail (client, error);
    }
    return;
  }
  message = ppm_message_parse_compact (msg, ppm_api_get_base_url (client->api), &pid, &error);
  if (message == NULL) {
    g_debug ("ignoring a push that is not a message: %s", error->message);
    ppm_delivery_ack (&client->delivery, ppm_json_opt_nonempty (msg, "pid"));
    return;
  }
  queued = ppm_queued_new (message, pid, ppm_json_opt_string (msg, "ct"));
  queued->time_is_epoch = TRUE;
  ppm_delivery_push (&client->delivery, queued);
}

static void
on_ws_frame (gpointer data, const PpmFrame *frame)
{
  PpmClient *client = data;

  switch (frame->kind) {
  case PPM_FRAME_ACK:
    if (g_ascii_strcasecmp (frame->what, "AUTH") == 0)
      handle_auth_ack (client, frame);
    else if (g_ascii_strcasecmp (frame->what, "SEND") == 0)
      ppm_outbox_handle_ack (&client->outbox, frame->extra_uuid, frame->code, frame->reason);
    else
      g_debug ("server ACK %s code %" G_GINT64_FORMAT ": %s", frame->what, frame->code,
               frame->reason ? frame->reason : "");
    break;
  case PPM_FRAME_MSG:
    handle_push (client, frame->msg);
    break;
  case PPM_FRAME_TYPING:
    handle_typing (client, frame);
    break;
  case PPM_FRAME_ONLINE:
    handle_online (client, frame);
    break;
  case PPM_FRAME_OTHER:
    g_debug ("ignoring a frame of type %s", frame->type);
    break;
  }
}

static gboolean
on_auth_timeout (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                                                  _("The server did not accept the session "
                                                    "in time"));

  client->auth_timeout_id = 0;
  ppm_client_fail (client, error);
  return G_SOURCE_REMOVE;
}

/* Mandatory for visitors. PPCom's shape: a top-level "href" would make the
 * server drop the socket (a server bug listed in the protocol document),
 * so it stays inside "location". */
static JsonObject *
visitor_extra_data (PpmClient *client)
{
  JsonObject *extra = json_object_new ();
  JsonObject *location = json_object_new ();

  json_object_set_string_member (location, "href", ppm_api_get_base_url (client->api));
  json_object_set_string_member (extra, "title",
                                 client->device_name ? client->device_name : "purple-ppmessage");
  json_object_set_object_member (extra, "location", location);
  return extra;
}

static void
on_ws_opened (gpointer data)
{
  PpmClient *client = data;
  gboolean agent = client->role == PPM_ROLE_AGENT;
  g_autoptr (JsonObject) extra = agent ? NULL : visitor_extra_data (client);
  g_autoptr (JsonObject) auth = ppm_ws_auth_frame (ppm_api_get_token (client->api),
                                                   client->app_uuid,
                                                   client->registry.self->uuid,
                                                   client->device_uuid, agent, extra);

  ppm_ws_send (client->ws, auth);
  client->auth_timeout_id = g_timeout_add (client->request_timeout_ms, on_auth_timeout, client);
}

static void
on_ws_closed (gpointer data, const GError *error)
{
  PpmClient *client = data;

  client->ws_authenticated = FALSE;
  g_clear_handle_id (&client->auth_timeout_id, g_source_remove);
  ppm_client_fail (client, error);
}

void
ppm_socket_close (PpmClient *client)
{
  g_clear_pointer (&client->ws, ppm_ws_free);
  client->ws_authenticated = FALSE;
  ppm_outbox_stop_watchdog (&client->outbox);
}

void
ppm_socket_open (PpmClient *client)
{
  static const PpmWsEvents events = {
    .opened = on_ws_opened,
    .frame = on_ws_frame,
    .closed = on_ws_closed,
  };
  g_autofree char *url = ppm_api_get_ws_url (client->api);

  ppm_client_emit_progress (client, N_("Connecting to the server"));
  if (!ppm_client_was_connected (client))
    ppm_client_set_state (client, SESSION_AUTHENTICATING);
  ppm_socket_close (client);
  client->outbox.ack_wait_seconds = client->keepalive_seconds ? client->keepalive_seconds
                                                              : PPM_WS_KEEPALIVE_SECONDS;
  client->ws = ppm_ws_new (ppm_transport_get_socket_session (ppm_api_get_transport (client->api)),
                           url, &events, client);
  ppm_ws_set_tls_watch (client->ws, client->tls_watch);
  if (client->keepalive_seconds > 0)
    ppm_ws_set_keepalive (client->ws, client->keepalive_seconds);
  ppm_ws_connect (client->ws, client->request_timeout_ms);
}

gboolean
ppm_socket_send_frame (PpmClient *client, JsonObject *frame)
{
  return client->ws_authenticated && ppm_ws_send (client->ws, frame);
}
