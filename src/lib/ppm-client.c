/* ppm-client.c: the client's life cycle (creation, connecting, failing,
 * signing out) and the small public calls. Users and conversations are kept
 * by ppm-registry.c, the sign-in sequences are in ppm-session.c (agent) and
 * ppm-visitor.c, catch-up and delivery in ppm-sync.c, sending in ppm-send.c.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

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
  client->pinned_certificate = ppm_tls_normalise_fingerprint (config->pinned_certificate);
  client->send_timeout_ms = PPM_SEND_TIMEOUT_MS;
  client->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) ppm_user_free);
  client->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify) ppm_conv_free);
  client->user_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->peer_conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) g_ptr_array_unref);
  client->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->looking_up = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->pending_sends = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify) pending_send_free);
  client->creating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
  client->typing_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  client->baselines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  client->pending_acks = g_ptr_array_new_with_free_func (g_free);
  client->unconfirmed_acks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->shown_earlier = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->listed = g_ptr_array_new_with_free_func (g_free);
  client->member_targets = g_ptr_array_new_with_free_func (g_free);
  client->history_targets = g_ptr_array_new_with_free_func (g_free);
  client->history_waiting = g_ptr_array_new ();
  client->caught_history = g_ptr_array_new_with_free_func ((GDestroyNotify) queued_message_free);
  client->caught_unacked = g_ptr_array_new_with_free_func ((GDestroyNotify) queued_message_free);
  g_queue_init (&client->held_pushes);
  g_queue_init (&client->delivery);
  g_queue_init (&client->look_up_queue);
  g_queue_init (&client->seen_order);
  g_queue_init (&client->unsent);
  g_queue_init (&client->in_flight);
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
  g_clear_handle_id (&client->ack_idle_id, g_source_remove);
  g_clear_handle_id (&client->ack_retry_id, g_source_remove);
  g_clear_handle_id (&client->failed_sends_idle_id, g_source_remove);
  g_queue_clear_full (&client->held_pushes, (GDestroyNotify) queued_message_free);
  ppm_sync_drop_undelivered (client);
  ppm_sync_keep_unconfirmed_acks (client);
  g_ptr_array_set_size (client->pending_acks, 0);
  g_ptr_array_set_size (client->history_targets, 0);
  g_queue_clear (&client->unsent);
  g_queue_clear (&client->in_flight);
  g_hash_table_remove_all (client->pending_sends);
  g_hash_table_remove_all (client->creating);
  g_clear_pointer (&client->watched_conversation, g_free);
}

void
ppm_client_free (PpmClient *client)
{
  if (client == NULL)
    return;
  session_stop (client);
  ppm_tls_forget (client);
  g_clear_pointer (&client->api, ppm_api_free);
  g_clear_object (&client->proxy_resolver);
  g_clear_pointer (&client->self, ppm_user_free);
  g_hash_table_unref (client->users);
  g_hash_table_unref (client->conversations);
  g_hash_table_unref (client->user_names);
  g_hash_table_unref (client->peer_conversations);
  g_hash_table_unref (client->seen);
  g_hash_table_unref (client->looking_up);
  g_queue_clear (&client->seen_order);
  g_hash_table_unref (client->pending_sends);
  g_hash_table_unref (client->creating);
  g_hash_table_unref (client->typing_sent);
  g_hash_table_unref (client->baselines);
  g_ptr_array_unref (client->pending_acks);
  g_hash_table_unref (client->unconfirmed_acks);
  g_hash_table_unref (client->shown_earlier);
  g_ptr_array_unref (client->listed);
  g_ptr_array_unref (client->member_targets);
  g_ptr_array_unref (client->history_targets);
  g_ptr_array_unref (client->history_waiting);
  g_ptr_array_unref (client->caught_history);
  g_ptr_array_unref (client->caught_unacked);
  g_free (client->service_status);
  g_free (client->server_url);
  g_free (client->email);
  secret_free (client->password);
  secret_free (client->api_key);
  secret_free (client->api_secret);
  g_free (client->terminal);
  g_free (client->device_name);
  g_free (client->configured_app_uuid);
  g_free (client->device_uuid);
  g_free (client->app_uuid);
  g_free (client->team_name);
  g_free (client->pinned_certificate);
  g_free (client->peer_certificate);
  g_free (client);
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
  api = ppm_api_new (client->server_url, error);
  if (api == NULL)
    return FALSE;
  if (client->terminal == NULL || *client->terminal == '\0') {
    /* A stable device id per account, so re-logins do not kick each other. */
    g_free (client->terminal);
    client->terminal = g_compute_checksum_for_string (G_CHECKSUM_SHA1,
                                                      client->email ? client->email : "", -1);
  }
  if (client->role == PPM_ROLE_VISITOR) {
    g_free (client->app_uuid);
    client->app_uuid = g_strdup (client->configured_app_uuid);
  }
  session_stop (client);
  g_clear_pointer (&client->api, ppm_api_free);
  client->api = api;
  ppm_api_set_timeout (api, client->request_timeout_ms);
  if (client->proxy_resolver)
    ppm_api_set_proxy_resolver (api, client->proxy_resolver);
  ppm_tls_watch_session (client, api);
  client->cancellable = g_cancellable_new ();
  client->sign_in_cancellable = g_cancellable_new ();
  client->connected_once = FALSE;
  g_clear_pointer (&client->peer_certificate, g_free);
  client->peer_certificate_errors = 0;
  client->state = SESSION_CONNECTING;
  if (client->role == PPM_ROLE_VISITOR)
    ppm_visitor_start (client);
  else
    ppm_session_start (client);
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
  client->state = SESSION_ENDED;
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
  ppm_send_fail_all (client, reported);
  end_session (client, reported);
}

void
ppm_client_fail (PpmClient *client, const GError *error)
{
  if (client->state == SESSION_IDLE || client->state == SESSION_ENDED)
    return;
  if (client->connected_once && ppm_reconnect_is_recoverable (error)) {
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
  g_autoptr (JsonObject) acks = NULL;

  if (client->api == NULL || client->self == NULL || client->device_uuid == NULL ||
      client->app_uuid == NULL || ppm_api_get_token (client->api) == NULL)
    return;
  if (client->role == PPM_ROLE_VISITOR) {
    ppm_sync_flush_acks (client);       /* visitors have no logout */
    return;
  }
  sign_out = g_new0 (SignOut, 1);
  sign_out->api = ppm_api_copy (client->api);
  ppm_tls_watch_session (client, sign_out->api);   /* a pinned certificate holds */
  sign_out->logout = ppm_client_request_body (client);
  acks = ppm_sync_take_acks (client);
  if (acks)
    ppm_api_call (sign_out->api, "ACK_MESSAGE", acks, NULL, on_last_acks, sign_out);
  else
    on_last_acks (NULL, NULL, sign_out);
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
  return client->self;
}

const char *
ppm_client_get_team_name (PpmClient *client)
{
  return client->team_name;
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

void
ppm_client_set_proxy_resolver (PpmClient *client, GProxyResolver *resolver)
{
  g_set_object (&client->proxy_resolver, resolver);
  if (client->api)
    ppm_api_set_proxy_resolver (client->api, resolver);
}

void
ppm_client_set_send_timeout (PpmClient *client, guint milliseconds)
{
  client->send_timeout_ms = milliseconds > 0 ? milliseconds : PPM_SEND_TIMEOUT_MS;
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
  body = ppm_client_request_body (client);
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
  if (client->state == SESSION_CONNECTED || client->state == SESSION_CATCHING_UP)
    ppm_client_send_service_status (client);
}

void
ppm_client_set_team_poll_interval (PpmClient *client, guint seconds)
{
  client->team_poll_seconds = seconds > 0 ? seconds : PPM_TEAM_POLL_SECONDS;
}

/* ---- Helpers for the other parts ---- */

void
ppm_client_emit_progress (PpmClient *client, const char *text, int step)
{
  g_debug ("sign-in step %d: %s", step, text);
  if (client->connected_once)
    return;                     /* a socket repair, not a sign-in */
  if (client->events.progress)
    client->events.progress (client->user_data, text, step, 6);
}

JsonObject *
ppm_client_request_body (PpmClient *client)
{
  JsonObject *body = json_object_new ();

  if (client->app_uuid)
    json_object_set_string_member (body, "app_uuid", client->app_uuid);
  if (client->self)
    json_object_set_string_member (body, "user_uuid", client->self->uuid);
  if (client->device_uuid)
    json_object_set_string_member (body, "device_uuid", client->device_uuid);
  return body;
}

char *
ppm_client_load_setting (PpmClient *client, const char *key)
{
  return client->events.load_setting ? client->events.load_setting (client->user_data, key)
                                     : NULL;
}

void
ppm_client_save_setting (PpmClient *client, const char *key, const char *value)
{
  if (client->events.save_setting)
    client->events.save_setting (client->user_data, key, value);
}

char *
ppm_client_last_seen_key (const char *conversation_uuid)
{
  return g_strconcat ("last_seen/", conversation_uuid, NULL);
}
