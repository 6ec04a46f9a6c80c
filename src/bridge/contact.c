/* contact.c: one bridged contact: its PPMessage visitor session and the
 * messages in transit both ways.
 *
 * Exactly once, both ways, across restarts: a contact's message is written
 * to the state file (with the uuid it will carry) before anything is sent,
 * and leaves it only when the team stored it (send_result without error);
 * until then it is sent again at each session with the same uuid, which the
 * server stores once. An agent's reply is written to the state file inside
 * the library's message callback, before the library acknowledges it, and
 * leaves it only when the other network took it (serv_send_im >= 0); the
 * library's catch-up (last message seen, kept in the same file) brings the
 * replies written while no session was open. A reply whose acknowledgement
 * a crash kept from the server comes again: the latest uuids taken over are
 * kept too, and such a reply is dropped.
 *
 * A contact's file goes the same way (contact-files.c): kept (its path
 * and name under the uuid its message will carry) once complete, uploaded
 * one at a time, and sent with that uuid; it leaves the state, and the
 * disk, when the team stored the message. After a restart it is uploaded
 * again and its message carries the same uuid, so the team gets it once.
 * A file the server refuses (its size, an error other than the network's)
 * is dropped, and the contact is told.
 *
 * Many contacts, few active: a session opens when the contact writes (or
 * at start when one was open or work is left) and closes after the quiet
 * period; replies written while it is closed come with its next catch-up.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "contact.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define LOG "ppmessage-bridge"
/* A failed session is tried again after this, doubling up to the maximum. */
#define RETRY_FIRST_S 2
#define RETRY_MAX_S   300
/* An agent's typing shows this long on the other network unless renewed
 * (an agent's client repeats its notice while they type). */
#define TYPING_SHOWN_S 5
/* Replies remembered as taken over: more than can be in doubt at once. */
#define TAKEN_KEPT    200

static GHashTable *contacts; /* path -> BridgeContact* */
static char *problem_told;   /* the last problem the user was told of */
/* The contacts' sessions share their connections: N open sessions hold N
 * websockets and one bounded pool of HTTP connections (ppm-transport.h),
 * not a pool each. Dropped with the last session, so that nothing stays
 * open while no contact is active. */
static PpmTransport *transport;
static guint transport_users;

static void session_open (BridgeContact *contact);
static void session_close (BridgeContact *contact);

/* ---- The contact ---- */

static PpmClient *
visitor_client_new (const PpmClientConfig *config, const PpmClientEvents *events,
                    BridgeContact *contact)
{
  PpmClient *client = ppm_client_new (config, events, contact);

  if (transport == NULL)
    transport = ppm_transport_new (config->pinned_certificate);
  transport_users++;
  ppm_client_set_transport (client, transport);
  return client;
}

static void
visitor_client_free (PpmClient *client)
{
  if (client == NULL)
    return;
  ppm_client_free (client);
  if (--transport_users == 0)
    g_clear_pointer (&transport, ppm_transport_unref);
}

PurpleAccount *
contact_account (BridgeContact *contact)
{
  return purple_accounts_find (contact->account_name, contact->protocol_id);
}

void
contact_save (BridgeContact *contact)
{
  bridge_state_save (contact->state, contact->path);
}

static gboolean
group_empty (BridgeContact *contact, const char *group)
{
  g_auto (GStrv) keys = bridge_state_keys (contact->state, group);

  return keys[0] == NULL;
}

static void
contact_free (BridgeContact *contact)
{
  contact_offer_abandon (contact);
  g_clear_handle_id (&contact->quiet_id, g_source_remove);
  g_clear_handle_id (&contact->retry_id, g_source_remove);
  g_clear_handle_id (&contact->typing_id, g_source_remove);
  g_clear_pointer (&contact->client, visitor_client_free);
  g_key_file_unref (contact->state);
  g_hash_table_unref (contact->in_flight);
  g_free (contact->conversation_uuid);
  g_free (contact->uploading);
  g_free (contact->path);
  g_free (contact->protocol_id);
  g_free (contact->account_name);
  g_free (contact->who);
  g_free (contact);
}

static BridgeContact *
contact_from_file (const char *path)
{
  BridgeContact *contact = g_hash_table_lookup (contacts, path);

  if (contact != NULL)
    return contact;
  contact = g_new0 (BridgeContact, 1);
  contact->path = g_strdup (path);
  contact->state = bridge_state_load (path);
  contact->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  contact->protocol_id = g_key_file_get_string (contact->state, BRIDGE_GROUP_CONTACT, "protocol",
                                                NULL);
  contact->account_name = g_key_file_get_string (contact->state, BRIDGE_GROUP_CONTACT, "account",
                                                 NULL);
  contact->who = g_key_file_get_string (contact->state, BRIDGE_GROUP_CONTACT, "who", NULL);
  g_hash_table_insert (contacts, contact->path, contact);
  return contact;
}

BridgeContact *
contact_for (PurpleAccount *account, const char *who)
{
  g_autofree char *path = bridge_state_path (account, who);
  BridgeContact *contact = contact_from_file (path);

  if (contact->who == NULL) {
    g_autofree char *terminal = g_uuid_string_random ();

    contact->protocol_id = g_strdup (purple_account_get_protocol_id (account));
    contact->account_name = g_strdup (purple_account_get_username (account));
    contact->who = g_strdup (purple_normalize (account, who));
    g_key_file_set_string (contact->state, BRIDGE_GROUP_CONTACT, "protocol", contact->protocol_id);
    g_key_file_set_string (contact->state, BRIDGE_GROUP_CONTACT, "account",
                           contact->account_name);
    g_key_file_set_string (contact->state, BRIDGE_GROUP_CONTACT, "who", contact->who);
    /* The visitor's identity on the server, the same at every session. */
    g_key_file_set_string (contact->state, BRIDGE_GROUP_CONTACT, "terminal", terminal);
  }
  return contact;
}

/* "Name (network)" for the agents, and where the contact writes from. */
static void
contact_profile (BridgeContact *contact, PurpleAccount *account, char **name, char **about)
{
  PurplePlugin *prpl = purple_find_prpl (contact->protocol_id);
  const char *network = prpl ? purple_plugin_get_name (prpl) : contact->protocol_id;
  PurpleBuddy *buddy = account ? purple_find_buddy (account, contact->who) : NULL;
  const char *shown = buddy ? purple_buddy_get_alias (buddy) : contact->who;

  *name = g_strdup_printf ("%s (%s)", shown, network);
  *about = g_strdup_printf ("%s: %s (to %s)", network, contact->who, contact->account_name);
}

/* ---- The agents' replies to the contact ---- */

PurpleConnection *
contact_connection (BridgeContact *contact)
{
  PurpleAccount *account = contact_account (contact);
  PurpleConnection *gc = account ? purple_account_get_connection (account) : NULL;

  return gc != NULL && PURPLE_CONNECTION_IS_CONNECTED (gc) ? gc : NULL;
}

static void
typing_send (BridgeContact *contact, PurpleTypingState state)
{
  PurpleConnection *gc = contact_connection (contact);

  if (gc != NULL)
    serv_send_typing (gc, contact->who, state);
}

static gboolean
on_typing_faded (gpointer data)
{
  BridgeContact *contact = data;

  contact->typing_id = 0;
  typing_send (contact, PURPLE_NOT_TYPING);
  return G_SOURCE_REMOVE;
}

/* The agent's typing, shown to the contact until it fades or a reply
 * comes (which ends it on the network's side). */
static void
typing_show (BridgeContact *contact)
{
  if (contact->typing_id == 0)
    typing_send (contact, PURPLE_TYPING);
  g_clear_handle_id (&contact->typing_id, g_source_remove);
  contact->typing_id = g_timeout_add_seconds (TYPING_SHOWN_S, on_typing_faded, contact);
}

/* Hands the waiting replies, in order, to the other network; stops at the
 * first it does not take (the account is offline, say). An agent's file
 * is offered as a file where the network takes files, and meanwhile the
 * replies after it go on. */
void
contact_deliver_replies (BridgeContact *contact)
{
  PurpleAccount *account = contact_account (contact);
  PurpleConnection *gc = contact_connection (contact);
  g_auto (GStrv) uuids = bridge_state_keys (contact->state, BRIDGE_GROUP_TO_CONTACT);
  gboolean changed = FALSE;

  if (gc == NULL)
    return;
  for (guint i = 0; uuids[i] != NULL; i++) {
    g_autofree char *text = g_key_file_get_string (contact->state, BRIDGE_GROUP_TO_CONTACT,
                                                   uuids[i], NULL);
    g_autofree char *escaped = g_markup_escape_text (text ? text : "", -1);
    g_autofree char *html = purple_strdup_withhtml (escaped);
    PurpleConversation *conv;

    if (g_key_file_has_key (contact->state, BRIDGE_GROUP_FILES_OUT, uuids[i], NULL)) {
      if (contact_offer_file (contact, gc, uuids[i]))
        continue;
      g_key_file_remove_key (contact->state, BRIDGE_GROUP_FILES_OUT, uuids[i], NULL);
      changed = TRUE;
    }
    if (serv_send_im (gc, contact->who, html, 0) < 0) {
      purple_debug_warning (LOG, "the network did not take a reply; kept for later\n");
      break;
    }
    /* The local user sees the reply in the contact's window as usual. */
    conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, contact->who, account);
    if (conv == NULL)
      conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, contact->who);
    purple_conv_im_write (PURPLE_CONV_IM (conv), NULL, html, PURPLE_MESSAGE_SEND, time (NULL));
    g_key_file_remove_key (contact->state, BRIDGE_GROUP_TO_CONTACT, uuids[i], NULL);
    g_clear_handle_id (&contact->typing_id, g_source_remove);
    changed = TRUE;
  }
  if (changed)
    contact_save (contact);
}

/* ---- The contact's messages to the team ---- */

/* A line of the bridge's own, delivered as the replies are. */
void
contact_tell (BridgeContact *contact, const char *text)
{
  g_autofree char *uuid = g_uuid_string_random ();

  g_key_file_set_string (contact->state, BRIDGE_GROUP_TO_CONTACT, uuid, text);
  contact_save (contact);
  contact_deliver_replies (contact);
}

static void
send_to_team (BridgeContact *contact)
{
  g_auto (GStrv) uuids = NULL;

  if (!contact->connected || contact->conversation_uuid == NULL)
    return;
  uuids = bridge_state_keys (contact->state, BRIDGE_GROUP_TO_TEAM);
  for (guint i = 0; uuids[i] != NULL; i++) {
    g_autofree char *text = NULL;

    if (g_hash_table_contains (contact->in_flight, uuids[i]))
      continue;
    text = g_key_file_get_string (contact->state, BRIDGE_GROUP_TO_TEAM, uuids[i], NULL);
    g_hash_table_add (contact->in_flight, g_strdup (uuids[i]));
    ppm_client_send_text_with_uuid (contact->client, contact->conversation_uuid,
                                    text ? text : "", uuids[i]);
  }
  contact_upload_next (contact);
}

/* ---- Quiet period and retries ---- */

static gboolean
on_quiet (gpointer data)
{
  BridgeContact *contact = data;

  contact->quiet_id = 0;
  /* A message still on its way keeps the session open. */
  if (g_hash_table_size (contact->in_flight) > 0 || !group_empty (contact, BRIDGE_GROUP_TO_TEAM)
      || !group_empty (contact, BRIDGE_GROUP_FILES)) {
    contact_touch (contact);
    return G_SOURCE_REMOVE;
  }
  purple_debug_info (LOG, "a contact's session closes after its quiet period\n");
  session_close (contact);
  /* Nothing of it stays in memory but what waits for its network. */
  if (group_empty (contact, BRIDGE_GROUP_TO_CONTACT))
    g_hash_table_remove (contacts, contact->path);
  return G_SOURCE_REMOVE;
}

/* Something happened: the quiet period starts again. */
void
contact_touch (BridgeContact *contact)
{
  int quiet = purple_prefs_get_int (BRIDGE_PREF_QUIET);

  g_clear_handle_id (&contact->quiet_id, g_source_remove);
  contact->quiet_id = g_timeout_add_seconds (quiet > 0 ? quiet : BRIDGE_QUIET_DEFAULT, on_quiet,
                                             contact);
}

static gboolean
on_retry (gpointer data)
{
  BridgeContact *contact = data;

  contact->retry_id = 0;
  if (contact->client != NULL)
    send_to_team (contact);     /* a send failed within a session */
  else
    session_open (contact);
  return G_SOURCE_REMOVE;
}

void
contact_retry_later (BridgeContact *contact)
{
  contact->retry_s = CLAMP (contact->retry_s * 2, RETRY_FIRST_S, RETRY_MAX_S);
  g_clear_handle_id (&contact->retry_id, g_source_remove);
  contact->retry_id = g_timeout_add_seconds (contact->retry_s, on_retry, contact);
}

/* The user learns once per problem that contacts cannot reach the team (a
 * wrong team link, a server that is not PPMessage): their messages wait. */
static void
tell_user_once (const GError *error)
{
  if (g_strcmp0 (problem_told, error->message) == 0)
    return;
  g_free (problem_told);
  problem_told = g_strdup (error->message);
  purple_notify_error (NULL, _("PPMessage Bridge"),
                       _("Contacts cannot reach the team; their messages wait."),
                       error->message);
}

/* ---- The library's events ---- */

static void
on_connected (gpointer data)
{
  BridgeContact *contact = data;

  contact->connected = TRUE;
  contact->retry_s = 0;
  contact_touch (contact);
  send_to_team (contact);
}

/* Clients whose session ended, freed from an idle (not from within their
 * own callback), or at shutdown if the plugin stops first. */
static GPtrArray *clients_ended;
static guint clients_ended_idle;

static gboolean
free_ended_clients (gpointer data)
{
  clients_ended_idle = 0;
  g_clear_pointer (&clients_ended, g_ptr_array_unref);
  return G_SOURCE_REMOVE;
}

static void
free_client_later (PpmClient *client)
{
  if (clients_ended == NULL)
    clients_ended = g_ptr_array_new_with_free_func ((GDestroyNotify) visitor_client_free);
  g_ptr_array_add (clients_ended, client);
  if (clients_ended_idle == 0)
    clients_ended_idle = g_idle_add (free_ended_clients, NULL);
}

static void
on_disconnected (gpointer data, const GError *error)
{
  BridgeContact *contact = data;

  if (error == NULL || contact->client == NULL)
    return;                     /* session_close() frees it */
  purple_debug_warning (LOG, "a contact's session ended: %s\n", error->message);
  if (!g_error_matches (error, PPM_ERROR, PPM_ERROR_NETWORK))
    tell_user_once (error);
  free_client_later (g_steal_pointer (&contact->client));
  contact->connected = FALSE;
  g_hash_table_remove_all (contact->in_flight);
  g_clear_pointer (&contact->uploading, g_free);
  if (contact->offer_stream != NULL)
    contact_offer_abandon (contact);    /* its download goes with the client */
  g_clear_handle_id (&contact->quiet_id, g_source_remove);
  contact_retry_later (contact);
}

static void
take_conversation (BridgeContact *contact, const PpmConversation *conversation)
{
  if (contact->conversation_uuid != NULL || conversation == NULL)
    return;
  contact->conversation_uuid = g_strdup (conversation->uuid);
  /* The agents' typing in it comes as long as the session is open. */
  ppm_client_watch_typing (contact->client, contact->conversation_uuid, TRUE);
  send_to_team (contact);
}

static void
on_synced (gpointer data, GPtrArray *open)
{
  if (open->len > 0)
    take_conversation (data, g_ptr_array_index (open, 0));
}

static void
on_conversation (gpointer data, const PpmConversation *conversation)
{
  take_conversation (data, conversation);
}

/* A reply the bridge took over before: the library may bring it again
 * when its acknowledgement did not reach the server before a crash. */
static gboolean
taken_before (BridgeContact *contact, const char *uuid)
{
  return g_key_file_has_key (contact->state, BRIDGE_GROUP_TAKEN, uuid, NULL);
}

static void
remember_taken (BridgeContact *contact, const char *uuid)
{
  g_auto (GStrv) taken = bridge_state_keys (contact->state, BRIDGE_GROUP_TAKEN);
  guint count = g_strv_length (taken);

  for (guint i = 0; count >= TAKEN_KEPT && taken[i] != NULL; i++, count--)
    g_key_file_remove_key (contact->state, BRIDGE_GROUP_TAKEN, taken[i], NULL);
  g_key_file_set_boolean (contact->state, BRIDGE_GROUP_TAKEN, uuid, TRUE);
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  BridgeContact *contact = data;

  /* The contact's own messages (sent from here) are never bridged back. */
  if (message->outgoing || taken_before (contact, message->uuid))
    return;
  /* Kept before the library acknowledges it (after this returns). */
  g_key_file_set_string (contact->state, BRIDGE_GROUP_TO_CONTACT, message->uuid,
                         message->text ? message->text : "");
  if ((message->kind == PPM_MESSAGE_FILE || message->kind == PPM_MESSAGE_IMAGE)
      && message->file_url != NULL)
    contact_keep_file_out (contact, message);
  remember_taken (contact, message->uuid);
  contact_save (contact);
  contact_touch (contact);
  contact_deliver_replies (contact);
}

static void
on_typing (gpointer data, const char *conversation_uuid, const char *user_uuid)
{
  BridgeContact *contact = data;

  if (g_strcmp0 (conversation_uuid, contact->conversation_uuid) == 0)
    typing_show (contact);
}

static void
on_send_result (gpointer data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  BridgeContact *contact = data;

  g_hash_table_remove (contact->in_flight, message_uuid);
  if (error != NULL) {
    /* Kept with its uuid: sent again at the next session. */
    purple_debug_warning (LOG, "a contact's message is not with the team yet: %s\n",
                          error->message);
    if (contact->client != NULL && contact->connected)
      contact_retry_later (contact);
    return;
  }
  if (g_key_file_has_key (contact->state, BRIDGE_GROUP_FILES, message_uuid, NULL))
    contact_file_forget (contact, message_uuid);
  g_key_file_remove_key (contact->state, BRIDGE_GROUP_TO_TEAM, message_uuid, NULL);
  contact_save (contact);
  contact_touch (contact);
}

static void
on_save_setting (gpointer data, const char *key, const char *value)
{
  BridgeContact *contact = data;

  if (value != NULL)
    g_key_file_set_string (contact->state, BRIDGE_GROUP_SETTINGS, key, value);
  else
    g_key_file_remove_key (contact->state, BRIDGE_GROUP_SETTINGS, key, NULL);
  contact_save (contact);
}

static char *
on_load_setting (gpointer data, const char *key)
{
  BridgeContact *contact = data;

  return g_key_file_get_string (contact->state, BRIDGE_GROUP_SETTINGS, key, NULL);
}

static GPtrArray *
on_list_settings (gpointer data, const char *prefix)
{
  BridgeContact *contact = data;
  g_auto (GStrv) keys = bridge_state_keys (contact->state, BRIDGE_GROUP_SETTINGS);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; keys[i] != NULL; i++)
    if (g_str_has_prefix (keys[i], prefix))
      g_ptr_array_add (names, g_strdup (keys[i]));
  return names;
}

/* ---- The session ---- */

static void
set_open (BridgeContact *contact, gboolean open)
{
  g_key_file_set_boolean (contact->state, BRIDGE_GROUP_CONTACT, "open", open);
  contact_save (contact);
}

static void
session_open (BridgeContact *contact)
{
  static const PpmClientEvents events = {
    .connected = on_connected,
    .disconnected = on_disconnected,
    .conversations_synced = on_synced,
    .conversation_changed = on_conversation,
    .message = on_message,
    .typing = on_typing,
    .send_result = on_send_result,
    .save_setting = on_save_setting,
    .load_setting = on_load_setting,
    .list_settings = on_list_settings,
  };
  /* A bridge runs unattended: it repairs its sessions for ever. */
  static const PpmReconnectPolicy policy = { 1000, 60000, 0, 0 };
  g_autofree char *link = g_strdup (purple_prefs_get_string (BRIDGE_PREF_LINK));
  g_autofree char *terminal = g_key_file_get_string (contact->state, BRIDGE_GROUP_CONTACT,
                                                     "terminal", NULL);
  g_autofree char *name = NULL;
  g_autofree char *about = NULL;
  g_autoptr (GError) error = NULL;
  PpmClientConfig config = {
    .server_url = link,
    .role = PPM_ROLE_VISITOR,
    .terminal = terminal,
    .device_name = "purple-ppmessage bridge",
  };

  if (contact->client != NULL || contact->retry_id != 0)
    return;
  contact_profile (contact, contact_account (contact), &name, &about);
  contact->client = visitor_client_new (&config, &events, contact);
  ppm_client_set_visitor_profile (contact->client, name, about);
  /* The contact wrote first: every agent's answer is new to them. */
  ppm_client_replay_unseen_conversations (contact->client);
  ppm_client_set_reconnect_policy (contact->client, &policy);
  set_open (contact, TRUE);
  if (!ppm_client_connect (contact->client, &error)) {
    /* A wrong team link: nothing to retry until the settings change. */
    purple_debug_error (LOG, "cannot open a contact's session: %s\n", error->message);
    tell_user_once (error);
    g_clear_pointer (&contact->client, visitor_client_free);
  }
}

static void
session_close (BridgeContact *contact)
{
  PpmClient *client = g_steal_pointer (&contact->client);

  g_clear_handle_id (&contact->quiet_id, g_source_remove);
  g_clear_handle_id (&contact->typing_id, g_source_remove);
  contact->connected = FALSE;
  g_hash_table_remove_all (contact->in_flight);
  g_clear_pointer (&contact->uploading, g_free);
  if (contact->offer_stream != NULL)
    contact_offer_abandon (contact);    /* its download goes with the client */
  g_clear_pointer (&contact->conversation_uuid, g_free);
  if (client != NULL) {
    ppm_client_disconnect (client);
    visitor_client_free (client);
  }
  set_open (contact, FALSE);
}

/* ---- Entry points ---- */

/* Something new for the team was kept: it goes now, or once a session is up. */
static void
send_kept (BridgeContact *contact)
{
  contact_save (contact);
  if (contact->client == NULL) {
    g_clear_handle_id (&contact->retry_id, g_source_remove);
    session_open (contact);
  } else {
    contact_touch (contact);
    send_to_team (contact);
  }
}

void
bridge_contact_heard (PurpleAccount *account, const char *who, const char *text)
{
  BridgeContact *contact = contact_for (account, who);
  g_autofree char *uuid = g_uuid_string_random ();

  /* Kept (with the uuid it will carry) before anything is sent. */
  g_key_file_set_string (contact->state, BRIDGE_GROUP_TO_TEAM, uuid, text);
  send_kept (contact);
}

void
bridge_contact_sent_file (PurpleAccount *account, const char *who, const char *path,
                          const char *name)
{
  BridgeContact *contact = contact_for (account, who);
  g_autofree char *uuid = g_uuid_string_random ();
  const char *file[] = { path, name, NULL };

  g_key_file_set_string_list (contact->state, BRIDGE_GROUP_FILES, uuid, file, 2);
  send_kept (contact);
}

void
bridge_contact_file_refused (PurpleAccount *account, const char *who, const char *name,
                             const char *why)
{
  contact_tell_file_refused (contact_for (account, who), name, why);
}

void
bridge_contact_typing (PurpleAccount *account, const char *who)
{
  g_autofree char *path = bridge_state_path (account, who);
  BridgeContact *contact = g_hash_table_lookup (contacts, path);

  if (contact != NULL && contact->connected && contact->conversation_uuid != NULL)
    ppm_client_send_typing (contact->client, contact->conversation_uuid);
  if (contact != NULL && contact->client != NULL)
    contact_touch (contact);
}

void
bridge_contacts_account_online (PurpleAccount *account)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    BridgeContact *contact = value;

    if (contact_account (contact) == account)
      contact_deliver_replies (contact);
  }
}

void
bridge_contacts_offer_ended (const char *path, gboolean delivered)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    BridgeContact *contact = value;

    if (g_strcmp0 (contact->offer_path, path) == 0) {
      contact_offer_end (contact, delivered, "the contact did not take the file");
      return;
    }
  }
}

void
bridge_contacts_resume (void)
{
  g_autofree char *dir = bridge_state_dir ();
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_autoptr (GHashTable) kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) bridged = g_ptr_array_new ();
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    BridgeContact *contact;

    if (!g_str_has_suffix (name, ".state"))
      continue;
    contact = contact_from_file (path);
    contact_list_kept_files (contact, kept);
    if (contact->who == NULL || !bridge_account_is_bridged (contact_account (contact)))
      g_hash_table_remove (contacts, path);
    else
      g_ptr_array_add (bridged, contact);
  }
  /* Before any session writes a file there again. */
  bridge_files_sweep (kept);
  for (guint i = 0; i < bridged->len; i++) {
    BridgeContact *contact = bridged->pdata[i];

    if (g_key_file_get_boolean (contact->state, BRIDGE_GROUP_CONTACT, "open", NULL)
        || !group_empty (contact, BRIDGE_GROUP_TO_TEAM)
        || !group_empty (contact, BRIDGE_GROUP_FILES))
      session_open (contact);
    contact_deliver_replies (contact);
  }
}

void
bridge_contacts_init (void)
{
  contacts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                    (GDestroyNotify) contact_free);
}

void
bridge_contacts_shutdown (void)
{
  GHashTableIter iter;
  gpointer value;

  /* Before the contacts their events point to. */
  g_clear_handle_id (&clients_ended_idle, g_source_remove);
  free_ended_clients (NULL);
  g_hash_table_iter_init (&iter, contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    BridgeContact *contact = value;
    /* Still open at the next start: replies written meanwhile come then. */
    gboolean was_open = contact->client != NULL;

    session_close (contact);
    if (was_open)
      set_open (contact, TRUE);
  }
  g_clear_pointer (&contacts, g_hash_table_unref);
  g_clear_pointer (&problem_told, g_free);
}
