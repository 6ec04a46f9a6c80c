/* ppm-signin-visitor.c: the visitor (PPCom) sign-in sequence: PPCOM key
 * and secret, client-credentials token, the team, an anonymous (or named)
 * visitor and its device, then the default conversation from the
 * distributor. The socket and the catch-up are the owner's, as for agents.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-client-private.h"
#include "ppm-discovery.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* PPCom's device classes are LIB (Linux browser), MAB, WIB. */
#define VISITOR_OSTYPE "LIB"
/* EX_DEVICE: a device already registered for this terminal: success
 * (PP_CREATE_DEVICE in the protocol document). */
#define API_ERR_EX_DEVICE 25
/* EX_SERVICE_USER: this e-mail belongs to an agent (PP_GET_USER_UUID in
 * the protocol document). */
#define API_ERR_SERVICE_USER_EMAIL 29
#define AMD_POLL_MS 300
#define AMD_MAX_POLLS 100

static void request_conversation (PpmClient *client, const char *uuid);

/* ---- Keys and token ---- */

static void
on_keys_discovered (const char *api_key, const char *api_secret, const GError *error,
                    gpointer data)
{
  PpmClient *client = data;

  if (!ppm_client_answer_usable (client, error))
    return;
  g_free (client->api_key);
  client->api_key = g_strdup (api_key);
  g_free (client->api_secret);
  client->api_secret = g_strdup (api_secret);
  ppm_client_save_setting (client, "api_key", api_key);
  ppm_client_save_setting (client, "api_secret", api_secret);
  ppm_signin_next (client);
}

static gboolean
keys_unknown (PpmClient *client)
{
  return client->api_key == NULL || client->api_secret == NULL;
}

static void
discover_keys (PpmClient *client)
{
  ppm_discovery_fetch_ppcom (client->api, client->sign_in_cancellable, on_keys_discovered,
                             client);
}

static void
on_token (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;

  if (!ppm_client_answer_usable (client, error))
    return;
  ppm_api_set_token (client->api, ppm_json_opt_nonempty (answer, "access_token"));
  ppm_signin_next (client);
}

static void
request_token (PpmClient *client)
{
  ppm_api_token_client (client->api, client->api_key, client->api_secret,
                        client->sign_in_cancellable,
                        on_token, client);
}

/* ---- The team ---- */

static void
on_app (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) local = NULL;

  if (ppm_error_is_cancelled (error))
    return;
  if (error && g_error_matches (error, PPM_ERROR, PPM_ERROR_API)) {
    local = g_error_new (PPM_ERROR, PPM_ERROR_SETTINGS, _("The server has no team %s"),
                         client->app_uuid);
    ppm_client_fail (client, local);
    return;
  }
  if (!ppm_client_answer_usable (client, error))
    return;
  g_free (client->team_name);
  client->team_name = g_strdup (ppm_json_opt_string (answer, "app_name"));
  g_free (client->team_icon);
  client->team_icon = g_strdup (ppm_json_opt_nonempty (answer, "app_icon"));
  ppm_signin_next (client);
}

static void
request_app (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  ppm_api_call (client->api, "PP_GET_APP_INFO", body, client->sign_in_cancellable, on_app, client);
}

/* ---- The visitor and its device ---- */

static void
set_self (PpmClient *client, const char *uuid, JsonObject *answer)
{
  const char *name = answer ? ppm_json_opt_nonempty (answer, "user_fullname") : NULL;
  PpmUser *self = ppm_registry_set_self (&client->registry, uuid);

  g_free (self->fullname);
  self->fullname = g_strdup (name ? name : client->email ? client->email : "Visitor");
  g_free (self->email);
  self->email = g_strdup (answer && ppm_json_opt_string (answer, "user_email")
                            ? ppm_json_opt_string (answer, "user_email")
                            : client->email);
  g_free (self->icon_url);
  self->icon_url = g_strdup (answer ? ppm_json_opt_string (answer, "user_icon") : NULL);
  self->is_service_user = FALSE;
  self->presence = PPM_PRESENCE_ONLINE;
  ppm_client_set_identity (client, client->app_uuid, client->device_uuid);
}

/* A visitor account's "e-mail" may be just a name to show to the agents. */
static gboolean
is_email (const char *text)
{
  return strchr (text, '@') != NULL;
}

static void
on_name_set (JsonObject *answer, const GError *error, gpointer data)
{
  if (error && !ppm_error_is_cancelled (error))
    g_debug ("could not set the visitor's name: %s", error->message);
}

void
ppm_client_set_visitor_profile (PpmClient *client, const char *name, const char *about)
{
  g_return_if_fail (client != NULL && name != NULL);
  g_strfreev (client->visitor_profile);
  client->visitor_profile = g_strdupv ((char *[]) { (char *) name,
                                                    (char *) (about ? about : ""), NULL });
}

/* The catch-up's own marker of an account that has read its conversations
 * once: from then on one without a last message seen is replayed whole. */
void
ppm_client_replay_unseen_conversations (PpmClient *client)
{
  ppm_client_save_setting (client, "synced", "1");
}

static void
set_visitor_name (PpmClient *client, const char *name, const char *about)
{
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  g_free (client->registry.self->fullname);
  client->registry.self->fullname = g_strdup (name);
  json_object_set_string_member (body, "user_fullname", name);
  if (about && *about)
    json_object_set_string_member (body, "user_signature", about);
  ppm_api_call (client->api, "PP_UPDATE_USER", body,
                client->sign_in_cancellable, on_name_set, client);
}

static void
on_user (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) local = NULL;
  const char *uuid;

  if (ppm_error_is_cancelled (error))
    return;
  if (error && ppm_json_opt_int (answer, "error_code", 0) == API_ERR_SERVICE_USER_EMAIL) {
    local = g_error_new (PPM_ERROR, PPM_ERROR_AUTH,
                         _("%s belongs to an agent: sign in as an agent instead"), client->email);
    ppm_client_fail (client, local);
    return;
  }
  if (!ppm_client_answer_usable (client, error))
    return;
  if (!ppm_json_get_string (answer, "user_uuid", &uuid, &local)) {
    ppm_client_fail_protocol (client, "the visitor sign-in", local);
    return;
  }
  set_self (client, uuid, answer);
  if (client->visitor_profile)
    set_visitor_name (client, client->visitor_profile[0], client->visitor_profile[1]);
  else if (client->email && *client->email && !is_email (client->email))
    set_visitor_name (client, client->email, NULL);
  ppm_signin_next (client);
}

static void
request_user (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  if (client->visitor_profile == NULL && client->email != NULL && is_email (client->email)) {
    json_object_set_string_member (body, "user_email", client->email);
    ppm_api_call (client->api, "PP_GET_USER_UUID", body,
                  client->sign_in_cancellable, on_user, client);
  } else {
    /* The terminal is this account's ppcom_trace_uuid: the same visitor each time. */
    json_object_set_string_member (body, "ppcom_trace_uuid", client->terminal);
    ppm_api_call (client->api, "PP_CREATE_ANONYMOUS", body, client->sign_in_cancellable, on_user,
                  client);
  }
}

static void
on_device (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  g_autoptr (GError) local = NULL;
  const char *device;

  if (ppm_error_is_cancelled (error))
    return;
  if (error && ppm_json_opt_int (answer, "error_code", 0) == API_ERR_EX_DEVICE)
    error = NULL;
  if (!ppm_client_answer_usable (client, error))
    return;
  if (!ppm_json_get_string (answer, "device_uuid", &device, &local)) {
    ppm_client_fail_protocol (client, "PP_CREATE_DEVICE", local);
    return;
  }
  ppm_client_set_identity (client, client->app_uuid, device);
  ppm_signin_next (client);
}

static void
request_device (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  json_object_set_string_member (body, "device_ostype", VISITOR_OSTYPE);
  json_object_set_string_member (body, "ppcom_trace_uuid", client->terminal);
  json_object_set_string_member (body, "device_id", client->terminal);
  ppm_api_call (client->api, "PP_CREATE_DEVICE", body,
                client->sign_in_cancellable, on_device, client);
}

/* ---- The conversation ---- */

static void poll_distributor (PpmClient *client);

static void
on_queue_length (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  const char *conversation;

  if (!ppm_client_answer_usable (client, error))
    return;
  conversation = ppm_json_opt_nonempty (answer, "conversation_uuid");
  if (conversation != NULL)
    request_conversation (client, conversation);
  else
    poll_distributor (client);
}

static gboolean
poll_now (gpointer data)
{
  PpmClient *client = data;
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  client->amd_poll_id = 0;
  ppm_api_call (client->api, "PP_GET_AMD_QUEUE_LENGTH", body, client->sign_in_cancellable,
                on_queue_length, client);
  return G_SOURCE_REMOVE;
}

/* The distributor creates the conversation within about a second. */
static void
poll_distributor (PpmClient *client)
{
  g_autoptr (GError) error = NULL;

  if (++client->amd_polls > AMD_MAX_POLLS) {
    error = g_error_new_literal (PPM_ERROR, PPM_ERROR_PROTOCOL,
                                 _("The team has no agent to talk to yet"));
    ppm_client_fail (client, error);
    return;
  }
  client->amd_poll_id = g_timeout_add (AMD_POLL_MS, poll_now, client);
}

static void
on_default_conversation (JsonObject *answer, const GError *error, gpointer data)
{
  PpmClient *client = data;
  const char *uuid;

  if (!ppm_client_answer_usable (client, error))
    return;
  uuid = ppm_json_opt_nonempty (answer, "uuid");
  if (uuid != NULL) {
    request_conversation (client, uuid);
    return;
  }
  /* Only the envelope: queued for the distributor. */
  client->amd_polls = 0;
  poll_distributor (client);
}

static void
request_default_conversation (PpmClient *client)
{
  g_autoptr (JsonObject) body = ppm_api_new_body (client->api);

  ppm_api_call (client->api, "PPCOM_GET_DEFAULT_CONVERSATION", body, client->sign_in_cancellable,
                on_default_conversation, client);
}

static void
conversation_ready (gpointer data, const char *uuid)
{
  PpmClient *client = data;
  PpmConv *conv = ppm_registry_lookup_conv (&client->registry, uuid);
  g_autoptr (GPtrArray) open = g_ptr_array_new ();

  g_ptr_array_set_size (client->listed, 0);
  if (conv) {
    g_ptr_array_add (client->listed, g_strdup (uuid));
    g_ptr_array_add (open, &conv->pub);
    /* A visitor's list is its one conversation, read whole: its first
     * sign-in marks the account "synced" (ppm-catchup.c), so at later ones
     * an answer written while no session was open (the server pushes
     * nothing to an offline device) is replayed instead of becoming the
     * baseline unseen. */
    client->registry.list_fresh = TRUE;
  }
  ppm_client_emit_synced (client, open);
  ppm_signin_next (client);
}

static void
request_conversation (PpmClient *client, const char *uuid)
{
  ppm_registry_resolve (&client->registry, client->api, uuid, client->sign_in_cancellable,
                        conversation_ready, client);
}

static const PpmSignInStep visitor_steps[] = {
  { N_("Finding the API key"), keys_unknown, discover_keys },
  { N_("Signing in"), NULL, request_token },
  { N_("Loading the team"), NULL, request_app },
  { N_("Opening the session"), NULL, request_user },
  { NULL, NULL, request_device },
  { N_("Loading the conversation"), NULL, request_default_conversation },
};

void
ppm_signin_visitor_start (PpmClient *client)
{
  ppm_signin_run (client, visitor_steps, G_N_ELEMENTS (visitor_steps));
}
