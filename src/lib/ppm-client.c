/* ppm-client.c: the owner of a session: its life cycle (creation,
 * connecting, failing, signing out), the one session state, the events
 * (no other file calls them) and the small public calls.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"
#include "ppm-redact.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static char *
secret_dup (const char *value)
{
  return value && *value ? g_strdup (value) : NULL;
}

static void
secret_free (char *value)
{
  if (value) {
    memset (value, 0, strlen (value));
    g_free (value);
  }
}

static void
on_certificate_refused (const char *fingerprint, GTlsCertificateFlags errors, gpointer data)
{
  PpmClient *client = data;

  g_free (client->peer_certificate);
  client->peer_certificate = g_strdup (fingerprint);
  client->peer_certificate_errors = errors;
}

PpmClient *
ppm_client_new (const PpmClientConfig *config, const PpmClientEvents *events,
                gpointer user_data)
{
  PpmClient *client = g_new0 (PpmClient, 1);

  client->role = config->role;
  client->server_url = g_strdup (config->server_url);
  client->email = g_strdup (config->email);
  client->password = secret_dup (config->password);
  client->api_key = secret_dup (config->api_key);
  client->api_secret = secret_dup (config->api_secret);
  client->terminal = g_strdup (config->terminal);
  client->device_name = g_strdup (config->device_name);
  client->configured_app_uuid = config->app_uuid && *config->app_uuid
                                  ? g_strdup (config->app_uuid) : NULL;
  if (events)
    client->events = *events;
  client->user_data = user_data;
  client->request_timeout_ms = PPM_API_DEFAULT_TIMEOUT_MS;
  client->team_poll_seconds = PPM_TEAM_POLL_SECONDS;
  client->policy.first_delay_ms = PPM_RECONNECT_FIRST_DELAY_MS;
  client->policy.max_delay_ms = PPM_RECONNECT_MAX_DELAY_MS;
  client->policy.max_attempts = PPM_RECONNECT_MAX_ATTEMPTS;
  client->policy.give_up_after_ms = PPM_RECONNECT_GIVE_UP_MS;
  client->tls_watch = ppm_tls_watch_new (config->pinned_certificate, on_certificate_refused,
                                         client);
  client->listed = g_ptr_array_new_with_free_func (g_free);
  client->member_targets = g_ptr_array_new_with_free_func (g_free);
  ppm_client_init_modules (client);
  ppm_send_init (client);
  return client;
}

/* Drops everything the running session holds; no callback. */
static void
session_stop (PpmClient *client)
{
  if (client->cancellable) {
    g_cancellable_cancel (client->cancellable);
    g_clear_object (&client->cancellable);
  }
  ppm_reconnect_stop (client);
  g_clear_handle_id (&client->team_poll_id, g_source_remove);
  ppm_delivery_reset (&client->delivery);
  ppm_outbox_reset (&client->outbox);
  ppm_history_reset (&client->history);
  ppm_send_reset (client);
}

void
ppm_client_free (PpmClient *client)
{
  if (client == NULL)
    return;
  session_stop (client);
  ppm_tls_watch_forget (client->tls_watch);
  ppm_catchup_clear (&client->catchup);
  ppm_history_clear (&client->history);
  ppm_delivery_clear (&client->delivery);
  ppm_outbox_clear (&client->outbox);
  ppm_registry_clear (&client->registry);
  ppm_send_clear (client);
  g_clear_pointer (&client->api, ppm_api_free);
  g_clear_object (&client->proxy_resolver);
  g_clear_pointer (&client->shared_transport, ppm_transport_unref);
  g_ptr_array_unref (client->listed);
  g_ptr_array_unref (client->member_targets);
  g_free (client->service_status);
  g_free (client->server_url);
  g_free (client->email);
  secret_free (client->password);
  secret_free (client->api_key);
  secret_free (client->api_secret);
  g_free (client->terminal);
  g_free (client->device_name);
  g_free (client->configured_app_uuid);
  g_strfreev (client->visitor_profile);
  g_free (client->device_uuid);
  g_free (client->app_uuid);
  g_free (client->team_name);
  g_free (client->team_icon);
  g_free (client->peer_certificate);
  g_free (client);
}

/* ---- The session state ---- */

static const char *const state_names[] = {
  "idle", "signing in", "authenticating", "catching up", "connected", "repairing", "ended",
};

void
ppm_client_set_state (PpmClient *client, SessionState state)
{
  if (client->state != state)
    g_debug ("session: %s -> %s", state_names[client->state], state_names[state]);
  client->state = state;
  /* Messages are shown while connected, and while a repair waits for its
   * next try; a catch-up holds them until it is done. */
  ppm_delivery_set_open (&client->delivery, state == SESSION_CONNECTED ||
                                            state == SESSION_REPAIRING);
}

gboolean
ppm_client_was_connected (PpmClient *client)
{
  return client->state == SESSION_CONNECTED || client->state == SESSION_REPAIRING;
}

/* ---- Connecting and disconnecting ---- */

static gboolean
missing_setting (const char *value, const char *message, GError **error)
{
  if (value != NULL && *value != '\0')
    return FALSE;
  g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SETTINGS, message);
  return TRUE;
}

#define ENTERPRISE_PATH "/ppcom/enterprise/"

/* PPConsole's enterprise link: <base>/ppcom/enterprise/<base64 of
 * {"uuid": <app uuid>, "app_name": ...}>. Splits it into the base URL and
 * the app uuid; FALSE when the URL is not such a link. */
static gboolean
split_enterprise_url (const char *url, char **base, char **app_uuid)
{
  const char *path = url ? strstr (url, ENTERPRISE_PATH) : NULL;
  g_autofree char *encoded = NULL;
  g_autofree guchar *decoded = NULL;
  g_autoptr (JsonObject) object = NULL;
  gsize length = 0;
  const char *uuid;

  if (path == NULL)
    return FALSE;
  encoded = g_strdup (path + strlen (ENTERPRISE_PATH));
  g_strdelimit (encoded, "/?#", '\0');
  decoded = g_base64_decode (encoded, &length);
  object = decoded ? ppm_json_parse_object ((const char *) decoded, length, NULL) : NULL;
  uuid = object ? ppm_json_opt_nonempty (object, "uuid") : NULL;
  if (uuid == NULL)
    return FALSE;
  *base = g_strndup (url, path - url);
  *app_uuid = g_strdup (uuid);
  return TRUE;
}

static gboolean
validate_settings (PpmClient *client, GError **error)
{
  if (client->role == PPM_ROLE_VISITOR) {
    g_autofree char *base = NULL;
    g_autofree char *app_uuid = NULL;

    if (split_enterprise_url (client->server_url, &base, &app_uuid)) {
      g_free (client->server_url);
      client->server_url = g_steal_pointer (&base);
      if (client->configured_app_uuid == NULL)
        client->configured_app_uuid = g_steal_pointer (&app_uuid);
    }
    if (client->configured_app_uuid == NULL) {
      g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SETTINGS,
                           _("The team (app uuid) is missing: use the team's PPCom "
                             "\"enterprise\" link as the server URL"));
      return FALSE;
    }
    return TRUE;
  }
  if (missing_setting (client->email, _("The e-mail address is missing"), error) ||
      missing_setting (client->password, _("The password is missing"), error))
    return FALSE;
  return TRUE;
}

gboolean
ppm_client_connect (PpmClient *client, GError **error)
{
  PpmApi *api;

  g_return_val_if_fail (client != NULL, FALSE);
  if (client->state != SESSION_IDLE && client->state != SESSION_ENDED) {
    g_set_error_literal (error, PPM_ERROR, PPM_ERROR_SETTINGS, _("Already connected"));
    return FALSE;
  }
  if (!validate_settings (client, error))
    return FALSE;
  api = ppm_client_open_api (client, error);
  if (api == NULL)
    return FALSE;
  if (client->terminal == NULL || *client->terminal == '\0') {
    /* A stable device id per account, so re-logins do not kick each other. */
    g_free (client->terminal);
    client->terminal = g_compute_checksum_for_string (G_CHECKSUM_SHA1,
                                                      client->email ? client->email : "", -1);
  }
  session_stop (client);
  g_clear_pointer (&client->api, ppm_api_free);
  client->api = api;
  if (client->role == PPM_ROLE_VISITOR)
    ppm_client_set_identity (client, client->configured_app_uuid, NULL);
  client->cancellable = g_cancellable_new ();
  ppm_delivery_set_cancellable (&client->delivery, client->cancellable);
  ppm_outbox_set_cancellable (&client->outbox, client->cancellable);
  g_clear_pointer (&client->peer_certificate, g_free);
  client->peer_certificate_errors = 0;
  ppm_client_set_state (client, SESSION_SIGNING_IN);
  ppm_signin_start (client);
  return TRUE;
}

/* Ends the session and reports it; the callback comes last so that the
 * receiver may free the client from within it. */
static void
end_session (PpmClient *client, const GError *error)
{
  void (*disconnected) (gpointer, const GError *) = client->events.disconnected;
  gpointer user_data = client->user_data;

  session_stop (client);
  ppm_client_set_state (client, SESSION_ENDED);
  if (disconnected)
    disconnected (user_data, error);
}

void
ppm_client_end_with_error (PpmClient *client, const GError *error)
{
  g_autoptr (GError) reported = NULL;

  if (client->state == SESSION_IDLE || client->state == SESSION_ENDED)
    return;
  g_debug ("session failed: %s", error->message);
  if (error->domain == PPM_ERROR && error->code == PPM_ERROR_TOKEN_REFUSED)
    reported = g_error_new_literal (PPM_ERROR, PPM_ERROR_AUTH, error->message);
  else
    reported = g_error_copy (error);
  ppm_outbox_fail_all (&client->outbox, reported);
  end_session (client, reported);
}

void
ppm_client_fail (PpmClient *client, const GError *error)
{
  if (client->state == SESSION_IDLE || client->state == SESSION_ENDED)
    return;
  if (ppm_client_was_connected (client) && ppm_reconnect_is_recoverable (error)) {
    ppm_reconnect_schedule (client, error);
    return;
  }
  ppm_client_end_with_error (client, error);
}

gboolean
ppm_client_answer_usable (PpmClient *client, const GError *error)
{
  if (ppm_error_is_cancelled (error))
    return FALSE;               /* the client may be gone: touch nothing */
  if (error) {
    ppm_client_fail (client, error);
    return FALSE;
  }
  return TRUE;
}

void
ppm_client_fail_protocol (PpmClient *client, const char *what, const GError *detail)
{
  g_autoptr (GError) error = g_error_new (PPM_ERROR, PPM_ERROR_PROTOCOL,
                                          _("Unexpected answer to %s: %s"), what,
                                          detail ? detail->message : _("missing data"));

  ppm_client_fail (client, error);
}

void
ppm_client_note_http_error (PpmClient *client, const char *what, const GError *error)
{
  if (ppm_error_is_cancelled (error))
    return;
  g_debug ("%s failed: %s", what, error->message);
  if (error->domain == PPM_ERROR && error->code == PPM_ERROR_TOKEN_REFUSED)
    ppm_client_fail (client, error);
}

/* Signing out outlives the client: the last acks, then PPKEFU_LOGOUT, in
 * this order (the logout deletes the token the acks need). */
typedef struct {
  PpmApi *api;
  JsonObject *logout;
} SignOut;

static void
on_signed_out (JsonObject *answer, const GError *error, gpointer data)
{
  SignOut *sign_out = data;

  if (error)
    g_debug ("PPKEFU_LOGOUT failed: %s", error->message);
  json_object_unref (sign_out->logout);
  ppm_api_free (sign_out->api);
  g_free (sign_out);
}

static void
on_last_acks (JsonObject *answer, const GError *error, gpointer data)
{
  SignOut *sign_out = data;

  if (error)
    g_debug ("ACK_MESSAGE failed: %s", error->message);
  ppm_api_call (sign_out->api, "PPKEFU_LOGOUT", sign_out->logout, NULL, on_signed_out,
                sign_out);
}

static void
sign_out (PpmClient *client)
{
  SignOut *sign_out;
  JsonArray *acks;

  if (client->api == NULL || client->registry.self == NULL || client->device_uuid == NULL ||
      client->app_uuid == NULL || ppm_api_get_token (client->api) == NULL)
    return;
  if (client->role == PPM_ROLE_VISITOR) {
    ppm_delivery_flush_acks_final (&client->delivery);  /* visitors have no logout */
    return;
  }
  sign_out = g_new0 (SignOut, 1);
  sign_out->api = ppm_api_copy (client->api);  /* a pinned certificate holds */
  sign_out->logout = ppm_api_new_body (sign_out->api);
  acks = ppm_delivery_take_acks (&client->delivery);
  if (acks) {
    g_autoptr (JsonObject) body = ppm_api_new_body (sign_out->api);

    json_object_set_array_member (body, "list", acks);
    ppm_api_call (sign_out->api, "ACK_MESSAGE", body, NULL, on_last_acks, sign_out);
  } else {
    on_last_acks (NULL, NULL, sign_out);
  }
}

void
ppm_client_disconnect (PpmClient *client)
{
  g_return_if_fail (client != NULL);
  if (client->state == SESSION_IDLE || client->state == SESSION_ENDED)
    return;
  sign_out (client);
  end_session (client, NULL);
}

/* ---- Small public calls ---- */

const PpmUser *
ppm_client_get_self (PpmClient *client)
{
  return client->registry.self;
}

const char *
ppm_client_get_team_name (PpmClient *client)
{
  return client->team_name;
}

const char *
ppm_client_get_team_icon (PpmClient *client)
{
  return client->team_icon;
}

void
ppm_client_set_log_bodies_check (gboolean (*wanted) (void))
{
  ppm_log_set_bodies_wanted (wanted);
}

const char *
ppm_client_get_device_uuid (PpmClient *client)
{
  return client->device_uuid;
}

const char *
ppm_client_get_app_uuid (PpmClient *client)
{
  return client->app_uuid;
}

const PpmUser *
ppm_client_lookup_user (PpmClient *client, const char *uuid)
{
  return ppm_registry_lookup_user (&client->registry, uuid);
}

const PpmConversation *
ppm_client_lookup_conversation (PpmClient *client, const char *uuid)
{
  PpmConv *conv = ppm_registry_lookup_conv (&client->registry, uuid);

  return conv ? &conv->pub : NULL;
}

const PpmConversation *
ppm_client_conversation_for_user (PpmClient *client, const char *user_uuid)
{
  PpmConv *conv = ppm_registry_conv_for_user (&client->registry, user_uuid);

  return conv ? &conv->pub : NULL;
}

void
ppm_client_set_send_timeout (PpmClient *client, guint milliseconds)
{
  client->outbox.send_timeout_ms = milliseconds > 0 ? milliseconds : PPM_SEND_TIMEOUT_MS;
}

void
ppm_client_set_reconnect_policy (PpmClient *client, const PpmReconnectPolicy *policy)
{
  g_return_if_fail (client != NULL && policy != NULL);
  client->policy = *policy;
  if (client->policy.first_delay_ms == 0)
    client->policy.first_delay_ms = PPM_RECONNECT_FIRST_DELAY_MS;
  if (client->policy.max_delay_ms == 0)
    client->policy.max_delay_ms = PPM_RECONNECT_MAX_DELAY_MS;
}

const char *
ppm_client_get_peer_certificate_fingerprint (PpmClient *client)
{
  return client->peer_certificate;
}

GTlsCertificateFlags
ppm_client_get_peer_certificate_errors (PpmClient *client)
{
  return client->peer_certificate_errors;
}

void
ppm_client_set_keepalive_interval (PpmClient *client, guint seconds)
{
  client->keepalive_seconds = seconds;
}

void
ppm_client_set_request_timeout (PpmClient *client, guint milliseconds)
{
  client->request_timeout_ms = milliseconds > 0 ? milliseconds : PPM_API_DEFAULT_TIMEOUT_MS;
}

static void
on_status_set (JsonObject *answer, const GError *error, gpointer data)
{
  if (error)
    ppm_client_note_http_error (data, "setting the service status", error);
}

void
ppm_client_send_service_status (PpmClient *client)
{
  g_autoptr (JsonObject) body = NULL;

  if (client->service_status == NULL || client->role != PPM_ROLE_AGENT || client->api == NULL)
    return;
  body = ppm_api_new_body (client->api);
  json_object_set_string_member (body, "user_status", client->service_status);
  ppm_api_call (client->api, "PPKEFU_SET_SERVICE_USER_STATUS", body, client->cancellable,
                on_status_set, client);
}

void
ppm_client_set_service_status (PpmClient *client, const char *status)
{
  /* Any other value makes the server answer HTTP 500. */
  if (g_strcmp0 (status, "READY") != 0 && g_strcmp0 (status, "BUSY") != 0 &&
      g_strcmp0 (status, "REST") != 0) {
    g_debug ("ignoring unknown service status %s", status ? status : "(null)");
    return;
  }
  g_free (client->service_status);
  client->service_status = g_strdup (status);
  /* While repairing too: the HTTP side may well work. */
  if (client->state == SESSION_CONNECTED || client->state == SESSION_CATCHING_UP ||
      client->state == SESSION_REPAIRING)
    ppm_client_send_service_status (client);
}

void
ppm_client_set_team_poll_interval (PpmClient *client, guint seconds)
{
  client->team_poll_seconds = seconds > 0 ? seconds : PPM_TEAM_POLL_SECONDS;
}

/* ---- Helpers for the other parts ---- */

void
ppm_client_set_identity (PpmClient *client, const char *app_uuid, const char *device_uuid)
{
  const PpmUser *self = client->registry.self;

  if (app_uuid != client->app_uuid) {
    g_free (client->app_uuid);
    client->app_uuid = g_strdup (app_uuid);
  }
  if (device_uuid != client->device_uuid) {
    g_free (client->device_uuid);
    client->device_uuid = g_strdup (device_uuid);
  }
  ppm_api_set_envelope (client->api, client->app_uuid, self ? self->uuid : NULL,
                        client->device_uuid);
}

char *
ppm_client_load_setting (PpmClient *client, const char *key)
{
  return client->events.load_setting ? client->events.load_setting (client->user_data, key)
                                     : NULL;
}

GPtrArray *
ppm_client_list_settings (PpmClient *client, const char *prefix)
{
  return client->events.list_settings ? client->events.list_settings (client->user_data, prefix)
                                      : NULL;
}

void
ppm_client_save_setting (PpmClient *client, const char *key, const char *value)
{
  if (client->events.save_setting)
    client->events.save_setting (client->user_data, key, value);
}

/* ---- The sign-in sequences ---- */

void
ppm_signin_start (PpmClient *client)
{
  if (client->sign_in_cancellable == NULL)
    client->sign_in_cancellable = g_cancellable_new ();
  if (client->role == PPM_ROLE_VISITOR)
    ppm_signin_visitor_start (client);
  else
    ppm_signin_agent_start (client);
}

void
ppm_signin_run (PpmClient *client, const PpmSignInStep *steps, guint n_steps)
{
  client->steps = steps;
  client->n_steps = n_steps;
  client->step = 0;
  client->progress_step = 0;
  /* The steps that will run, then the socket and the catch-up. */
  client->progress_steps = 2;
  for (guint i = 0; i < n_steps; i++)
    if (steps[i].progress && (steps[i].needed == NULL || steps[i].needed (client)))
      client->progress_steps++;
  ppm_signin_next (client);
}

void
ppm_signin_next (PpmClient *client)
{
  while (client->step < client->n_steps) {
    const PpmSignInStep *step = &client->steps[client->step++];

    if (step->needed && !step->needed (client))
      continue;
    if (step->progress)
      ppm_client_emit_progress (client, step->progress);
    step->run (client);
    return;
  }
  client->steps = NULL;
  ppm_socket_open (client);
}

/* ---- The events: nothing else calls client->events ---- */

void
ppm_client_emit_progress (PpmClient *client, const char *text)
{
  int step = (int) client->progress_step++;

  g_debug ("sign-in step %d: %s", step, text);
  if (ppm_client_was_connected (client))
    return;                     /* a repair, not a sign-in */
  if (client->events.progress)
    client->events.progress (client->user_data, text, step,
                             (int) MAX (client->progress_steps, client->progress_step));
}

gboolean
ppm_client_emit_connected (PpmClient *client)
{
  if (client->events.connected)
    client->events.connected (client->user_data);
  return client->state == SESSION_CONNECTED;
}

void
ppm_client_emit_user (PpmClient *client, const PpmUser *user)
{
  if (client->events.user_changed)
    client->events.user_changed (client->user_data, user);
}

void
ppm_client_emit_conversation (PpmClient *client, const PpmConversation *conversation)
{
  if (client->events.conversation_changed)
    client->events.conversation_changed (client->user_data, conversation);
}

void
ppm_client_emit_synced (PpmClient *client, GPtrArray *open_conversations)
{
  if (client->events.conversations_synced)
    client->events.conversations_synced (client->user_data, open_conversations);
}

void
ppm_client_emit_message (PpmClient *client, const PpmMessage *message,
                         const PpmConversation *conversation)
{
  if (client->events.message)
    client->events.message (client->user_data, message, conversation);
}

void
ppm_client_emit_typing (PpmClient *client, const char *conversation_uuid, const char *user_uuid)
{
  if (client->events.typing)
    client->events.typing (client->user_data, conversation_uuid, user_uuid);
}

void
ppm_client_emit_send_result (PpmClient *client, const char *conversation_uuid,
                             const char *message_uuid, const GError *error)
{
  if (client->events.send_result)
    client->events.send_result (client->user_data, conversation_uuid, message_uuid, error);
}
