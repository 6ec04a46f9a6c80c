/* ppm-reconnect.c: repairing a session lost after connected(): which errors
 * are worth another try, the jittered exponential back-off of
 * PpmReconnectPolicy, and the restart itself (a new socket, or a fresh
 * sign-in when the token was refused); and the team refresh, which also
 * finds a device the server stopped counting online.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>

gboolean
ppm_reconnect_is_recoverable (const GError *error)
{
  if (error == NULL || error->domain != PPM_ERROR)
    return error != NULL && error->domain != PPM_ERROR;
  switch (error->code) {
  case PPM_ERROR_NETWORK:
  case PPM_ERROR_PROTOCOL:
  case PPM_ERROR_NOT_PPMESSAGE:
  case PPM_ERROR_API:
  case PPM_ERROR_SEND_TIMEOUT:
  case PPM_ERROR_TOKEN_REFUSED:
    return TRUE;
  default:
    return FALSE;               /* authentication, settings, certificate, kicked */
  }
}

static void
restart (PpmClient *client)
{
  if (!client->repair_signs_in) {
    ppm_socket_open (client);
    return;
  }
  g_debug ("signing in again");
  client->repair_signs_in = FALSE;
  ppm_signin_start (client);
}

static gboolean
reconnect_now (gpointer data)
{
  PpmClient *client = data;

  client->reconnect_id = 0;
  restart (client);
  return G_SOURCE_REMOVE;
}

static guint
next_delay (PpmClient *client)
{
  guint first = client->policy.first_delay_ms ? client->policy.first_delay_ms : 1;
  guint cap = MAX (client->policy.max_delay_ms, first);
  guint attempt = MIN (client->reconnect_attempts, 20);
  guint64 base = MIN ((guint64) first << attempt, (guint64) cap);

  /* "Equal jitter": clients cut off together do not come back together. */
  return (guint) (base / 2 + g_random_int_range (0, (gint32) (base / 2) + 1));
}

static gboolean
policy_exhausted (PpmClient *client)
{
  const PpmReconnectPolicy *policy = &client->policy;

  if (policy->max_attempts > 0 && client->reconnect_attempts >= policy->max_attempts)
    return TRUE;
  return policy->give_up_after_ms > 0 && client->reconnect_attempts > 0 &&
         g_get_monotonic_time () - client->outage_started >=
           (gint64) policy->give_up_after_ms * 1000;
}

/* Everything that belongs to the lost connection goes; what the user sent
 * and what waits for delivery stays. */
static void
drop_connection_state (PpmClient *client)
{
  g_clear_handle_id (&client->reconnect_id, g_source_remove);
  g_clear_handle_id (&client->auth_timeout_id, g_source_remove);
  g_clear_handle_id (&client->amd_poll_id, g_source_remove);
  if (client->sign_in_cancellable) {
    g_cancellable_cancel (client->sign_in_cancellable);
    g_clear_object (&client->sign_in_cancellable);
  }
  client->steps = NULL;
  ppm_socket_close (client);
  ppm_catchup_abort (&client->catchup);
  ppm_outbox_requeue_in_flight (&client->outbox);
}

void
ppm_reconnect_schedule (PpmClient *client, const GError *error)
{
  guint delay;

  if (error->domain == PPM_ERROR && error->code == PPM_ERROR_TOKEN_REFUSED)
    client->repair_signs_in = TRUE;
  drop_connection_state (client);
  /* Awake time: an outage that spans a suspend is not given up at the
   * first failed try after the resume, while the network comes back. */
  if (client->reconnect_attempts == 0)
    client->outage_started = g_get_monotonic_time ();
  if (policy_exhausted (client)) {
    g_autoptr (GError) final = g_error_new (PPM_ERROR, PPM_ERROR_NETWORK,
                                            _("Connection lost: %s"), error->message);

    ppm_client_end_with_error (client, final);
    return;
  }
  delay = next_delay (client);
  client->reconnect_attempts++;
  g_debug ("%s; reconnecting in %u ms (attempt %u)", error->message, delay,
           client->reconnect_attempts);
  /* Deliveries already queued may go on while we wait. */
  ppm_client_set_state (client, SESSION_REPAIRING);
  client->reconnect_id = g_timeout_add (delay, reconnect_now, client);
}

void
ppm_reconnect_sign_in_again (PpmClient *client, const GError *error)
{
  client->repair_signs_in = TRUE;  /* before: the schedule may end the session */
  ppm_reconnect_schedule (client, error);
}

void
ppm_reconnect_succeeded (PpmClient *client)
{
  if (client->reconnect_attempts > 0)
    g_debug ("session repaired after %u attempt(s), %" G_GINT64_FORMAT " ms",
             client->reconnect_attempts,
             (g_get_monotonic_time () - client->outage_started) / 1000);
  client->reconnect_attempts = 0;
}

void
ppm_reconnect_stop (PpmClient *client)
{
  drop_connection_state (client);
  client->reconnect_attempts = 0;
  client->repair_signs_in = FALSE;
}

/* ---- The team refresh ---- */

/* Pushes are only made for devices the server counts online (the routing
 * rules of ../shared/protocol/PPMESSAGE-PROTOCOL.md): a device flagged
 * offline behind the session's back (PPKEFU_LOGOUT of an earlier session
 * of this device arriving late, for one) gets nothing while its socket
 * looks healthy. A fresh sign-in flags it online again and
 * the catch-up brings what was missed. */
static void
check_own_device_online (PpmClient *client, JsonArray *list)
{
  guint length = list ? json_array_get_length (list) : 0;
  g_autoptr (GError) error = NULL;
  const PpmUser *self = client->registry.self;

  if (client->state != SESSION_CONNECTED || self == NULL)
    return;
  for (guint i = 0; i < length; i++) {
    JsonObject *item = ppm_json_array_object (list, i);
    gboolean online;

    if (item == NULL || g_strcmp0 (ppm_json_opt_string (item, "uuid"), self->uuid) != 0)
      continue;
    if (!ppm_json_get_bool (item, "is_browser_online", &online, NULL) || online)
      return;
    error = g_error_new_literal (PPM_ERROR, PPM_ERROR_NETWORK,
                                 _("The server counts this device offline"));
    ppm_reconnect_sign_in_again (client, error);
    return;
  }
}

static void
on_team_polled (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  JsonArray *list;

  if (ppm_error_is_cancelled (error))
    return;
  if (error) {
    ppm_client_note_http_error (client, "team refresh", error);
    return;
  }
  list = ppm_json_opt_array (answer, "list");
  ppm_registry_apply_team_list (&client->registry, list);
  check_own_device_online (client, list);
}

static gboolean
poll_team (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  ppm_api_call (client->api, "PP_GET_APP_SERVICE_USER_LIST", body, client->cancellable,
                on_team_polled, client);
  return G_SOURCE_CONTINUE;
}

void
ppm_team_poll_start (PpmClient *client)
{
  if (client->team_poll_id == 0)
    client->team_poll_id = g_timeout_add_seconds (client->team_poll_seconds, poll_team, client);
}

