/* connection.c: signing in and out, and turning the library's session events
 * into libpurple's connection states and error reasons.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

/* Only NETWORK_ERROR makes Pidgin and Finch retry; every other reason is fatal
 * and disables the account. So fatal reasons are kept for what the user must
 * fix: the password, a setting, or another device that took the session. */
PurpleConnectionError
ppm_connection_error_reason (const GError *error, char **message)
{
  PurpleConnectionError reason = PURPLE_CONNECTION_ERROR_NETWORK_ERROR;
  const char *detail = error != NULL && error->message != NULL ? error->message : "";

  if (error != NULL && error->domain == PPM_ERROR) {
    switch ((PpmErrorCode) error->code) {
    case PPM_ERROR_AUTH:
      reason = PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED;
      *message = g_strdup_printf (_("Sign-in refused: %s"), detail);
      return reason;
    case PPM_ERROR_SETTINGS:
      reason = PURPLE_CONNECTION_ERROR_INVALID_SETTINGS;
      *message = g_strdup_printf (_("Check the account settings: %s"), detail);
      return reason;
    case PPM_ERROR_NOT_PPMESSAGE:
      /* The server answered, but not as PPMessage does: a wrong URL. */
      reason = PURPLE_CONNECTION_ERROR_INVALID_SETTINGS;
      *message = g_strdup_printf (_("The server is not a PPMessage server; check the "
                                    "server URL: %s"), detail);
      return reason;
    case PPM_ERROR_CERTIFICATE:
      /* Fatal: an unverified certificate is never retried silently. */
      reason = PURPLE_CONNECTION_ERROR_CERT_OTHER_ERROR;
      *message = g_strdup_printf (_("The server's certificate could not be verified: %s"),
                                  detail);
      return reason;
    case PPM_ERROR_SIGNED_IN_ELSEWHERE:
      reason = PURPLE_CONNECTION_ERROR_NAME_IN_USE;
      *message = g_strdup_printf (_("Signed in elsewhere: %s"), detail);
      return reason;
    case PPM_ERROR_NETWORK:
    case PPM_ERROR_PROTOCOL:
    case PPM_ERROR_SEND_REFUSED:
    case PPM_ERROR_SEND_TIMEOUT:
    case PPM_ERROR_API:
    default:
      break;
    }
  }
  /* Anything else may be transient: let the UI reconnect later. */
  *message = g_strdup_printf (_("Connection problem: %s"), detail);
  return reason;
}

static void
on_progress (gpointer user_data, const char *step_text, int step, int steps)
{
  PpmAccount *pa = user_data;
  const char *shown;

  purple_debug_info (PPM_DEBUG_CATEGORY, "progress %d/%d: %s\n", step, steps,
                     step_text != NULL ? step_text : "");
  /* Progress is a sign-in matter; reconnects after that stay silent. */
  if (purple_connection_get_state (pa->gc) != PURPLE_CONNECTING)
    return;
  /* libpurple insists on count > 1 and step < count. */
  steps = MAX (steps, 2);
  step = CLAMP (step, 0, steps - 1);
  /* The library's step names come untranslated (N_() in its step tables):
   * our catalog translates them. */
  shown = step_text != NULL ? g_dgettext (GETTEXT_PACKAGE, step_text) : "";
  purple_connection_update_progress (pa->gc, shown, step, steps);
}

/* The user's full name, shown by the UI for this account's own messages. */
static void
show_own_name (PpmAccount *pa)
{
  const PpmUser *self = ppm_client_get_self (pa->client);

  if (self != NULL)
    ppm_buddies_show_own_name (pa, self->fullname);
}

/* The library's events. Once close() began they stop, but for
 * disconnected(NULL) and the settings (ppm_client_disconnect() in
 * ppm-client.h), so none of them checks pa->closing. */

static void
on_connected (gpointer user_data)
{
  PpmAccount *pa = user_data;

  purple_debug_info (PPM_DEBUG_CATEGORY, "signed in\n");
  if (purple_connection_get_state (pa->gc) != PURPLE_CONNECTED)
    purple_connection_set_state (pa->gc, PURPLE_CONNECTED);
  show_own_name (pa);
  ppm_status_push_current (pa);
  ppm_typing_refresh_watches (pa);
  ppm_people_fetch_icons (pa);
}

static void
on_disconnected (gpointer user_data, const GError *error)
{
  PpmAccount *pa = user_data;
  PurpleConnectionError reason;
  char *message = NULL;
  char *shown;

  if (error == NULL)
    return;                     /* our own sign-out */
  reason = ppm_connection_error_reason (error, &message);
  if (g_error_matches (error, PPM_ERROR, PPM_ERROR_CERTIFICATE)) {
    const char *fingerprint = ppm_client_get_peer_certificate_fingerprint (pa->client);
    GTlsCertificateFlags errors = ppm_client_get_peer_certificate_errors (pa->client);

    reason = ppm_certificate_error_reason (pa->account, fingerprint, errors);
    if (ppm_ui_is_bitlbee ()) {
      /* BitlBee closes a question when the failed sign-in signs the account
       * out: say how to trust the certificate instead. */
      char *readable = ppm_certificate_readable_fingerprint (fingerprint);
      char *with_hint = g_strdup_printf (_("%s; to trust this certificate, set the account's "
                                           "pinned_certificate to %s"), message, readable);

      g_free (message);
      message = with_hint;
      g_free (readable);
    } else
      ppm_certificate_ask (pa->account, fingerprint);
  }
  /* The details may quote the server: one plain line. */
  shown = ppm_text_one_line (message);
  purple_debug_warning (PPM_DEBUG_CATEGORY, "session ended (reason %d): %s\n", reason, shown);
  /* libpurple closes the connection (and so the client) from an idle callback. */
  purple_connection_error_reason (pa->gc, reason, shown);
  g_free (shown);
  g_free (message);
}

static void
on_user_changed (gpointer user_data, const PpmUser *user)
{
  ppm_buddies_user_changed (user_data, user);
}

static void
on_conversation_changed (gpointer user_data, const PpmConversation *conversation)
{
  PpmAccount *pa = user_data;

  ppm_buddies_conversation_changed (pa, conversation);
  ppm_chat_conversation_changed (pa, conversation);
  ppm_typing_refresh_watches (pa);
}

static void
on_conversations_synced (gpointer user_data, GPtrArray *open_conversations)
{
  PpmAccount *pa = user_data;

  ppm_buddies_conversations_synced (pa, open_conversations);
  ppm_chat_conversations_synced (pa, open_conversations);
  ppm_typing_refresh_watches (pa);
}

static void
on_message (gpointer user_data, const PpmMessage *message, const PpmConversation *conversation)
{
  PpmAccount *pa = user_data;

  pa->showing_message = TRUE;
  if (!ppm_chat_message (pa, message, conversation))
    ppm_im_message (pa, message, conversation);
  pa->showing_message = FALSE;
}

static void
on_typing (gpointer user_data, const char *conversation_uuid, const char *user_uuid)
{
  if (!ppm_chat_typing (user_data, conversation_uuid, user_uuid))
    ppm_typing_received (user_data, conversation_uuid, user_uuid);
}

static void
on_send_result (gpointer user_data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  if (!ppm_chat_send_result (user_data, conversation_uuid, message_uuid, error))
    ppm_im_send_result (user_data, conversation_uuid, message_uuid, error);
}

static void
on_save_setting (gpointer user_data, const char *key, const char *value)
{
  PpmAccount *pa = user_data;

  /* Also while closing: the sign-out keeps unconfirmed acks for the next
   * session, and the account outlives its connection. */
  ppm_settings_save (pa->account, key, value);
}

static char *
on_load_setting (gpointer user_data, const char *key)
{
  PpmAccount *pa = user_data;

  return ppm_settings_load (pa->account, key);
}

static GPtrArray *
on_list_settings (gpointer user_data, const char *prefix)
{
  PpmAccount *pa = user_data;

  return ppm_settings_list (pa->account, prefix);
}

static const PpmClientEvents ppm_client_events = {
  .progress = on_progress,
  .connected = on_connected,
  .disconnected = on_disconnected,
  .user_changed = on_user_changed,
  .conversation_changed = on_conversation_changed,
  .conversations_synced = on_conversations_synced,
  .message = on_message,
  .typing = on_typing,
  .send_result = on_send_result,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
  .list_settings = on_list_settings,
};

static char *
device_name (void)
{
  const char *ui = NULL;
  GHashTable *ui_info = purple_core_get_ui_info ();

  if (ui_info != NULL)
    ui = g_hash_table_lookup (ui_info, "name");
  return g_strdup_printf ("%s (%s)", ui != NULL ? ui : "libpurple", g_get_host_name ());
}

static void
start_client (PpmAccount *pa)
{
  PurpleAccount *account = pa->account;
  PpmClientConfig config = { 0 };
  GProxyResolver *resolver;
  GError *error = NULL;
  char *name = device_name ();

  config.server_url = purple_account_get_string (account, PPM_SETTING_SERVER, "");
  config.role = pa->role;
  config.email = purple_account_get_username (account);
  config.password = purple_account_get_password (account);
  config.api_key = purple_account_get_string (account, PPM_SETTING_API_KEY, "");
  config.terminal = ppm_settings_terminal (account);
  config.pinned_certificate = purple_account_get_string (account, PPM_SETTING_PINNED_CERTIFICATE,
                                                         NULL);
  config.device_name = name;

  pa->client = ppm_client_new (&config, &ppm_client_events, pa);
  g_free (name);
  ppm_settings_apply_tuning (account, pa->client);
  resolver = ppm_proxy_resolver_for_account (account);
  if (resolver != NULL) {
    ppm_client_set_proxy_resolver (pa->client, resolver);
    g_object_unref (resolver);
  }
  purple_connection_update_progress (pa->gc, _("Connecting"), 0, 2);
  if (!ppm_client_connect (pa->client, &error)) {
    on_disconnected (pa, error);
    g_error_free (error);
  }
}

static void
password_entered (PurpleConnection *gc, PurpleRequestFields *fields)
{
  PpmAccount *pa;
  const char *password = purple_request_fields_get_string (fields, "password");
  gboolean remember = purple_request_fields_get_bool (fields, "remember");

  /* The account may have been disabled while the prompt was open. */
  if (!PURPLE_CONNECTION_IS_VALID (gc) || (pa = ppm_account_from_gc (gc)) == NULL || pa->closing)
    return;
  if (password == NULL || *password == '\0') {
    purple_connection_error_reason (gc, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
                                    _("A password is required to sign in as an agent."));
    return;
  }
  purple_account_set_remember_password (pa->account, remember);
  purple_account_set_password (pa->account, password);
  start_client (pa);
}

static void
password_cancelled (PurpleConnection *gc, PurpleRequestFields *fields)
{
  if (PURPLE_CONNECTION_IS_VALID (gc) && ppm_account_from_gc (gc) != NULL)
    purple_connection_error_reason (gc, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
                                    _("A password is required to sign in as an agent."));
}

static void
request_free (PpmRequest *request)
{
  g_free (request->who);
  g_free (request);
}

PpmRequest *
ppm_request_new (PpmAccount *pa, const char *who)
{
  PpmRequest *request = g_new0 (PpmRequest, 1);

  request->pa = pa;
  request->who = g_strdup (who);
  if (pa->requests == NULL)
    pa->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  g_ptr_array_add (pa->requests, request);
  return request;
}

void
ppm_request_done (PpmRequest *request)
{
  g_ptr_array_remove_fast (request->pa->requests, request);
}

void
ppm_connection_login (PurpleAccount *account)
{
  PurpleConnection *gc = purple_account_get_connection (account);
  PpmAccount *pa = g_new0 (PpmAccount, 1);
  const char *password = purple_account_get_password (account);

  pa->account = account;
  pa->gc = gc;
  pa->role = ppm_settings_role (account);
  pa->pending_sends = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  purple_connection_set_protocol_data (gc, pa);
  /* Plain text and images: no fonts, colours or link descriptions. An
   * image inserted into the message is uploaded and sent (im.c). */
  gc->flags |= PURPLE_CONNECTION_NO_BGCOLOR | PURPLE_CONNECTION_NO_FONTSIZE
               | PURPLE_CONNECTION_NO_URLDESC;
  ppm_typing_start (pa);
  ppm_history_watch_windows ();

  if (pa->role == PPM_ROLE_AGENT && (password == NULL || *password == '\0')) {
    PurpleRequestUiOps *request_ui = purple_request_get_ui_ops ();

    /* A UI without forms (BitlBee) would never answer the prompt, and the
     * sign-in would hang: say what is missing. */
    if (request_ui == NULL || request_ui->request_fields == NULL) {
      purple_connection_error_reason (gc, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
                                      _("A password is required to sign in as an agent: "
                                        "set the account's password."));
      return;
    }
    purple_account_request_password (account, G_CALLBACK (password_entered),
                                     G_CALLBACK (password_cancelled), gc);
    return;
  }
  start_client (pa);
}

void
ppm_connection_close (PurpleConnection *gc)
{
  PpmAccount *pa = ppm_account_from_gc (gc);

  if (pa == NULL)
    return;
  pa->closing = TRUE;
  ppm_typing_stop (pa);
  ppm_xfer_cancel_all (pa);
  /* The library calls nothing back from here on: what waits is ours. */
  ppm_im_clear_outgoing (pa);
  if (pa->client != NULL) {
    ppm_client_disconnect (pa->client);
    ppm_client_free (pa->client);
  }
  ppm_history_account_closed (pa);
  ppm_chat_account_closed (pa);
  g_clear_pointer (&pa->requests, g_ptr_array_unref);
  ppm_people_account_closed (pa);
  ppm_original_account_closed (pa);
  g_clear_pointer (&pa->team_scripts, g_ptr_array_unref);
  g_hash_table_destroy (pa->pending_sends);
  purple_connection_set_protocol_data (gc, NULL);
  g_free (pa);
  /* What this session recorded outlives it (BitlBee: in the state file). */
  ppm_settings_flush ();
}
