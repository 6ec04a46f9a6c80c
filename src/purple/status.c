/* status.c: the agent's own service status (ready, busy, rest) and the
 * presence of the people on the buddy list.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#define PPM_STATUS_AVAILABLE "available"
#define PPM_STATUS_BUSY      "busy"
#define PPM_STATUS_AWAY      "away"
#define PPM_STATUS_OFFLINE   "offline"

GList *
ppm_status_types (PurpleAccount *account)
{
  GList *types = NULL;

  types = g_list_append (types,
    purple_status_type_new (PURPLE_STATUS_AVAILABLE, PPM_STATUS_AVAILABLE, _("Available"), TRUE));
  types = g_list_append (types,
    purple_status_type_new (PURPLE_STATUS_UNAVAILABLE, PPM_STATUS_BUSY, _("Busy"), TRUE));
  types = g_list_append (types,
    purple_status_type_new (PURPLE_STATUS_AWAY, PPM_STATUS_AWAY, _("Away"), TRUE));
  types = g_list_append (types,
    purple_status_type_new (PURPLE_STATUS_OFFLINE, PPM_STATUS_OFFLINE, _("Offline"), TRUE));
  return types;
}

/* The server's service status for a libpurple status id, or NULL. */
static const char *
service_status_for (const char *status_id)
{
  if (g_strcmp0 (status_id, PPM_STATUS_AVAILABLE) == 0)
    return "READY";
  if (g_strcmp0 (status_id, PPM_STATUS_BUSY) == 0)
    return "BUSY";
  if (g_strcmp0 (status_id, PPM_STATUS_AWAY) == 0)
    return "REST";
  return NULL;
}

static void
send_status (PpmAccount *pa, PurpleStatus *status)
{
  const char *service_status;

  if (pa == NULL || pa->closing || pa->client == NULL || pa->role != PPM_ROLE_AGENT)
    return;
  if (status == NULL || !purple_status_is_active (status))
    return;
  service_status = service_status_for (purple_status_get_id (status));
  if (service_status == NULL)
    return;
  purple_debug_info (PPM_DEBUG_CATEGORY, "service status %s\n", service_status);
  ppm_client_set_service_status (pa->client, service_status);
}

void
ppm_status_set (PurpleAccount *account, PurpleStatus *status)
{
  PurpleConnection *gc = purple_account_get_connection (account);

  if (gc == NULL || !PURPLE_CONNECTION_IS_CONNECTED (gc))
    return; /* sent once signed in, by ppm_status_push_current() */
  send_status (ppm_account_from_gc (gc), status);
}

void
ppm_status_push_current (PpmAccount *pa)
{
  PurpleStatus *status = purple_account_get_active_status (pa->account);

  /* Signing in makes the agent READY already; a second request could
   * overtake a status the user picks right after sign-in. */
  if (status != NULL && g_strcmp0 (purple_status_get_id (status), PPM_STATUS_AVAILABLE) == 0)
    return;
  send_status (pa, status);
}

void
ppm_status_show_presence (PpmAccount *pa, const char *user_uuid, PpmPresence presence)
{
  /* Unknown presence (visitors, most of the time) shows as available, so an
   * open conversation is never hidden among offline buddies. */
  const char *id = presence == PPM_PRESENCE_OFFLINE ? PPM_STATUS_OFFLINE : PPM_STATUS_AVAILABLE;

  purple_prpl_got_user_status (pa->account, user_uuid, id, NULL);
}

/* A conversation this agent closed: its buddy shows offline until it is
 * reopened (buddies.c). */
void
ppm_status_show_closed (PpmAccount *pa, const char *who)
{
  purple_prpl_got_user_status (pa->account, who, PPM_STATUS_OFFLINE, NULL);
}

static void
on_service_status_chosen (gpointer data, int choice)
{
  static const char *const ids[] = { PPM_STATUS_AVAILABLE, PPM_STATUS_BUSY, PPM_STATUS_AWAY };
  PurpleAccount *account = data;

  /* The account's status is what reaches the server (ppm_status_set). */
  if (choice >= 0 && choice < (int) G_N_ELEMENTS (ids))
    purple_account_set_status (account, ids[choice], TRUE, NULL);
}

void
ppm_status_ask_service_status (PurpleConnection *gc)
{
  PurpleAccount *account = purple_connection_get_account (gc);

  purple_request_action (gc, _("Service status"), _("Set your service status"),
                         _("PPMessage records it for the team: Ready, Busy or Away."), 0,
                         account, NULL, NULL, account, 4,
                         _("Ready"), on_service_status_chosen,
                         _("Busy"), on_service_status_chosen,
                         _("Away"), on_service_status_chosen,
                         _("Cancel"), NULL);
}
