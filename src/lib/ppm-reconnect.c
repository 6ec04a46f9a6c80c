/* ppm-reconnect.c: repairing a session lost after connected(): which errors
 * are worth another try, the jittered exponential back-off of
 * PpmReconnectPolicy, and the restart itself (a new socket, or a fresh
 * sign-in when the token was refused).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"

#include <glib/gi18n-lib.h>
#include <time.h>

static gint64 clock_skipped_us;

gint64
ppm_clock_now_us (void)
{
#ifdef CLOCK_BOOTTIME
  struct timespec now;

  /* Unlike CLOCK_MONOTONIC it advances while the machine sleeps, so a
   * connection that went quiet across a suspend is found dead at once. */
  if (clock_gettime (CLOCK_BOOTTIME, &now) == 0)
    return (gint64) now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000 + clock_skipped_us;
#endif
  return g_get_monotonic_time () + clock_skipped_us;
}

void
ppm_clock_skip_for_tests (gint64 microseconds)
{
  clock_skipped_us += microseconds;
}

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
  if (!client->need_sign_in) {
    ppm_session_open_socket (client);
    return;
  }
  g_debug ("signing in again");
  client->need_sign_in = FALSE;
  client->state = SESSION_CONNECTING;
  client->sign_in_cancellable = g_cancellable_new ();
  if (client->role == PPM_ROLE_VISITOR)
    ppm_visitor_start (client);
  else
    ppm_session_start (client);
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
  g_clear_handle_id (&client->page_retry_id, g_source_remove);
  if (client->sign_in_cancellable) {
    g_cancellable_cancel (client->sign_in_cancellable);
    g_clear_object (&client->sign_in_cancellable);
  }
  ppm_session_close_socket (client);
  ppm_sync_abort_catch_up (client);
  ppm_send_requeue_in_flight (client);
}

void
ppm_reconnect_schedule (PpmClient *client, const GError *error)
{
  guint delay;

  if (error->domain == PPM_ERROR && error->code == PPM_ERROR_TOKEN_REFUSED)
    client->need_sign_in = TRUE;
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
  client->state = SESSION_CONNECTED;
  client->reconnect_id = g_timeout_add (delay, reconnect_now, client);
}

void
ppm_reconnect_sign_in_again (PpmClient *client, const GError *error)
{
  client->need_sign_in = TRUE;  /* before: the schedule may end the session */
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
  client->need_sign_in = FALSE;
}
