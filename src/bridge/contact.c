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
 * A contact's file goes the same way: kept (its path and name under the
 * uuid its message will carry) once complete, uploaded one at a time, and
 * sent with that uuid; it leaves the state, and the disk, when the team
 * stored the message. After a restart it is uploaded again and its
 * message carries the same uuid, so the team gets it once. A file the
 * server refuses (its size, an error other than the network's) is
 * dropped, and the contact is told.
 *
 * Many contacts, few active: a session opens when the contact writes (or
 * at start when one was open or work is left) and closes after the quiet
 * period; replies written while it is closed come with its next catch-up.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "bridge.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define LOG "ppmessage-bridge"
/* A failed session is tried again after this, doubling up to the maximum. */
#define RETRY_FIRST_S 2
#define RETRY_MAX_S   300
/* An agent's typing shows this long on the other network unless renewed
 * (an agent's client repeats its notice while they type). */
#define TYPING_SHOWN_S 5
/* An agent's file offered to the contact and not taken by then goes as
 * its link (a contact's client may never answer an offer). */
#define OFFER_WAIT_S  600
/* Replies remembered as taken over: more than can be in doubt at once. */
#define TAKEN_KEPT    200

struct _BridgeContact {
  char *path;               /* the state file */
  GKeyFile *state;
  char *protocol_id;
  char *account_name;
  char *who;
  PpmClient *client;
  char *conversation_uuid;
  GHashTable *in_flight;    /* uuids sent in this session, waiting for their result */
  char *uploading;          /* the uuid of the file being uploaded, one at a time */
  char *offering;           /* the uuid of the agent's file offered to the contact, one at a time */
  char *offer_path;         /* its copy, downloaded */
  FILE *offer_stream;       /* open while it downloads */
  guint offer_timeout_id;
  gboolean connected;
  guint quiet_id;
  guint retry_id;
  guint retry_s;
  guint typing_id;          /* the agent's typing shown to the contact, until this */
};

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
static void touch (BridgeContact *contact);
static void retry_later (BridgeContact *contact);
static void upload_next (BridgeContact *contact);

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

static PurpleAccount *
contact_account (BridgeContact *contact)
{
  return purple_accounts_find (contact->account_name, contact->protocol_id);
}

static void
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

static void offer_abandon (BridgeContact *contact);

static void
contact_free (BridgeContact *contact)
{
  offer_abandon (contact);
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

static BridgeContact *
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

static PurpleConnection *
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

/* ---- The agents' files, offered to the contact ---- */

/* The offer in this process ends; its entry stays in the state. */
static void
offer_abandon (BridgeContact *contact)
{
  g_clear_handle_id (&contact->offer_timeout_id, g_source_remove);
  g_clear_pointer (&contact->offer_stream, fclose);
  if (contact->offer_path != NULL)
    g_unlink (contact->offer_path);
  g_clear_pointer (&contact->offer_path, g_free);
  g_clear_pointer (&contact->offering, g_free);
}

static void deliver_replies (BridgeContact *contact);

/* The file was taken (its line is not needed), or not (its line, with
 * the link, goes instead). */
static void
offer_end (BridgeContact *contact, gboolean delivered, const char *why)
{
  g_autofree char *uuid = g_strdup (contact->offering);

  if (!delivered)
    purple_debug_warning (LOG, "an agent's file goes to the contact as a link: %s\n", why);
  offer_abandon (contact);
  g_key_file_remove_key (contact->state, BRIDGE_GROUP_FILES_OUT, uuid, NULL);
  if (delivered)
    g_key_file_remove_key (contact->state, BRIDGE_GROUP_TO_CONTACT, uuid, NULL);
  contact_save (contact);
  deliver_replies (contact);
}

static gboolean
on_offer_data (gpointer data, const guint8 *bytes, gsize size, GError **error)
{
  BridgeContact *contact = data;

  if (contact->offer_stream != NULL && fwrite (bytes, 1, size, contact->offer_stream) == size)
    return TRUE;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s", g_strerror (errno));
  return FALSE;
}

static gboolean
on_offer_unanswered (gpointer data)
{
  BridgeContact *contact = data;

  contact->offer_timeout_id = 0;
  /* Its cancel signal ends the offer; without a transfer, this does. */
  if (!bridge_files_cancel_offer (contact->offer_path))
    offer_end (contact, FALSE, "the contact did not take the file");
  return G_SOURCE_REMOVE;
}

static void
on_offer_downloaded (gpointer data, const char *fid, const GError *error)
{
  BridgeContact *contact = data;
  PurpleConnection *gc = contact_connection (contact);
  gboolean written;

  if (contact->offer_stream == NULL)
    return;                     /* abandoned with its session */
  written = fclose (g_steal_pointer (&contact->offer_stream)) == 0;
  if (error != NULL || !written || gc == NULL) {
    offer_end (contact, FALSE,
               error ? error->message : "the account is offline or the file unwritable");
    return;
  }
  /* Its end comes as a file-send signal (files.c). */
  contact->offer_timeout_id = g_timeout_add_seconds (OFFER_WAIT_S, on_offer_unanswered, contact);
  serv_send_file (gc, contact->who, contact->offer_path);
}

static const PpmTransferCallbacks offer_callbacks = {
  .data = on_offer_data,
  .finished = on_offer_downloaded,
};

/* Whether the contact's network takes files from the bridged account. */
static gboolean
network_takes_files (BridgeContact *contact, PurpleConnection *gc)
{
  PurplePlugin *prpl = purple_connection_get_prpl (gc);
  PurplePluginProtocolInfo *info = prpl ? PURPLE_PLUGIN_PROTOCOL_INFO (prpl) : NULL;

  /* Without can_receive_file (IRC's DCC) the contact's client would have
   * to reach the bridge's computer: the link is surer. */
  return info != NULL && info->send_file != NULL && info->can_receive_file != NULL
         && info->can_receive_file (gc, contact->who);
}

/* Offers the agent's file of this reply, unless another one is being
 * offered (it comes next). FALSE: it cannot be offered, its line goes. */
static gboolean
offer_file (BridgeContact *contact, PurpleConnection *gc, const char *uuid)
{
  g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES_OUT, uuid,
                                                    NULL, NULL);
  g_autofree char *dir = bridge_files_dir ();
  g_autofree char *name = NULL;

  if (contact->offering != NULL)
    return TRUE;
  if (file == NULL || g_strv_length (file) < 3 || !contact->connected
      || !network_takes_files (contact, gc) || g_mkdir_with_parents (dir, 0700) != 0)
    return FALSE;
  /* The name the contact sees is the file's own. */
  name = ppm_file_name_safe (file[1]);
  contact->offer_path = g_build_filename (dir, name, NULL);
  if (g_file_test (contact->offer_path, G_FILE_TEST_EXISTS)) {
    g_autofree char *unique = g_strdup_printf ("%.8s-%s", uuid, name);

    g_free (contact->offer_path);
    contact->offer_path = g_build_filename (dir, unique, NULL);
  }
  contact->offer_stream = g_fopen (contact->offer_path, "wb");
  if (contact->offer_stream == NULL) {
    g_clear_pointer (&contact->offer_path, g_free);
    return FALSE;
  }
  contact->offering = g_strdup (uuid);
  ppm_client_download_file (contact->client, file[0], g_ascii_strtoll (file[2], NULL, 10),
                            &offer_callbacks, contact);
  return TRUE;
}

/* Hands the waiting replies, in order, to the other network; stops at the
 * first it does not take (the account is offline, say). An agent's file
 * is offered as a file where the network takes files, and meanwhile the
 * replies after it go on. */
static void
deliver_replies (BridgeContact *contact)
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
      if (offer_file (contact, gc, uuids[i]))
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
static void
tell (BridgeContact *contact, const char *text)
{
  g_autofree char *uuid = g_uuid_string_random ();

  g_key_file_set_string (contact->state, BRIDGE_GROUP_TO_CONTACT, uuid, text);
  contact_save (contact);
  deliver_replies (contact);
}

/* The file is with the team, or will never be: the local copy goes. */
static void
file_forget (BridgeContact *contact, const char *uuid)
{
  g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES, uuid,
                                                    NULL, NULL);

  if (file != NULL && file[0] != NULL && g_unlink (file[0]) != 0 && errno != ENOENT)
    purple_debug_warning (LOG, "could not delete %s: %s\n", file[0], g_strerror (errno));
  g_key_file_remove_key (contact->state, BRIDGE_GROUP_FILES, uuid, NULL);
  contact_save (contact);
}

/* The contact learns that their file did not arrive, and why. */
static void
tell_file_refused (BridgeContact *contact, const char *name, const char *why)
{
  g_autofree char *line = g_strdup_printf (_("Your file %s did not reach the team: %s"),
                                           name ? name : "", why);

  purple_debug_warning (LOG, "a contact's file did not reach the team: %s\n", why);
  tell (contact, line);
}

/* The server refused the file (its size, its answer): it never will take
 * it. */
static void
file_refused (BridgeContact *contact, const char *uuid, const GError *error)
{
  g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES, uuid,
                                                    NULL, NULL);
  g_autofree char *name = g_strdup (file != NULL && file[0] != NULL ? file[1] : NULL);

  file_forget (contact, uuid);
  tell_file_refused (contact, name, error->message);
}

/* An image as the agents should see it (a picture), else any file. */
static char *
file_mime (const char *path, const char *name, gboolean *as_image)
{
  guint8 head[16] = { 0 };
  gsize size = 0;
  FILE *stream = g_fopen (path, "rb");
  const char *image;
  g_autofree char *type = NULL;

  if (stream != NULL) {
    size = fread (head, 1, sizeof head, stream);
    fclose (stream);
  }
  image = ppm_file_image_mime (head, size);
  *as_image = image != NULL;
  if (image != NULL)
    return g_strdup (image);
  type = g_content_type_guess (name, NULL, 0, NULL);
  return g_content_type_get_mime_type (type) ?: g_strdup ("application/octet-stream");
}

/* The server said no (the size, its answer): it will say so again. A
 * failure on the way (the library's network error, a connection refused
 * or broken) may pass at the next try. */
static gboolean
refused_by_server (const GError *error)
{
  return error->domain == PPM_ERROR && error->code != PPM_ERROR_NETWORK;
}

static void on_upload_finished (gpointer data, const char *fid, const GError *error);

static const PpmTransferCallbacks upload_callbacks = {
  .finished = on_upload_finished,
};

/* Uploads the next file kept for the team, if none is on its way. */
static void
upload_next (BridgeContact *contact)
{
  g_auto (GStrv) uuids = bridge_state_keys (contact->state, BRIDGE_GROUP_FILES);

  for (guint i = 0; uuids[i] != NULL && contact->uploading == NULL; i++) {
    g_auto (GStrv) file = g_key_file_get_string_list (contact->state, BRIDGE_GROUP_FILES,
                                                      uuids[i], NULL, NULL);
    g_autoptr (GError) error = NULL;
    g_autofree char *mime = NULL;
    gboolean as_image;

    if (g_hash_table_contains (contact->in_flight, uuids[i]))
      continue;
    if (file == NULL || file[0] == NULL || file[1] == NULL) {
      purple_debug_error (LOG, "a damaged file entry in %s is dropped\n", contact->path);
      file_forget (contact, uuids[i]);
      continue;
    }
    mime = file_mime (file[0], file[1], &as_image);
    if (ppm_client_send_file_with_uuid (contact->client, contact->conversation_uuid, file[0],
                                        file[1], mime, as_image, uuids[i], &upload_callbacks,
                                        contact, &error) == NULL) {
      if (g_error_matches (error, PPM_ERROR, PPM_ERROR_NETWORK)) {
        retry_later (contact);
        return;
      }
      file_refused (contact, uuids[i], error);
      continue;
    }
    contact->uploading = g_strdup (uuids[i]);
    g_hash_table_add (contact->in_flight, g_strdup (uuids[i]));
  }
}

static void
on_upload_finished (gpointer data, const char *fid, const GError *error)
{
  BridgeContact *contact = data;
  g_autofree char *uuid = g_steal_pointer (&contact->uploading);

  if (uuid == NULL)
    return;                     /* its session ended meanwhile */
  touch (contact);
  if (error == NULL) {
    /* Its message is on its way: send_result ends it. */
    upload_next (contact);
    return;
  }
  g_hash_table_remove (contact->in_flight, uuid);
  if (!refused_by_server (error)) {
    purple_debug_warning (LOG, "a contact's file is not with the team yet: %s\n",
                          error->message);
    retry_later (contact);
    return;
  }
  file_refused (contact, uuid, error);
  upload_next (contact);
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
  upload_next (contact);
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
    touch (contact);
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
static void
touch (BridgeContact *contact)
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

static void
retry_later (BridgeContact *contact)
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
  touch (contact);
  send_to_team (contact);
}

static gboolean
free_client_later (gpointer data)
{
  visitor_client_free (data);
  return G_SOURCE_REMOVE;
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
  /* Not from within its own callback. */
  g_idle_add (free_client_later, g_steal_pointer (&contact->client));
  contact->connected = FALSE;
  g_hash_table_remove_all (contact->in_flight);
  g_clear_pointer (&contact->uploading, g_free);
  if (contact->offer_stream != NULL)
    offer_abandon (contact);    /* its download goes with the client */
  g_clear_handle_id (&contact->quiet_id, g_source_remove);
  retry_later (contact);
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

/* An agent's file or picture, to offer as a file; its line (name, size,
 * link) stays for the networks that take no files. */
static void
keep_file_out (BridgeContact *contact, const PpmMessage *message)
{
  g_autofree char *size = g_strdup_printf ("%" G_GINT64_FORMAT, message->file_size);
  g_autofree char *picture = NULL;
  const char *name = message->file_name;
  const char *file[4] = { message->file_url, NULL, size, NULL };

  if (name == NULL) {
    /* A picture has no name: "picture.png" after its type. */
    const char *slash = message->mime ? strchr (message->mime, '/') : NULL;

    picture = g_strconcat ("picture", slash && slash[1] ? "." : "", slash ? slash + 1 : "", NULL);
    name = picture;
  }
  file[1] = name;
  g_key_file_set_string_list (contact->state, BRIDGE_GROUP_FILES_OUT, message->uuid, file, 3);
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
    keep_file_out (contact, message);
  remember_taken (contact, message->uuid);
  contact_save (contact);
  touch (contact);
  deliver_replies (contact);
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
      retry_later (contact);
    return;
  }
  if (g_key_file_has_key (contact->state, BRIDGE_GROUP_FILES, message_uuid, NULL))
    file_forget (contact, message_uuid);
  g_key_file_remove_key (contact->state, BRIDGE_GROUP_TO_TEAM, message_uuid, NULL);
  contact_save (contact);
  touch (contact);
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
    offer_abandon (contact);    /* its download goes with the client */
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
    touch (contact);
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
  tell_file_refused (contact_for (account, who), name, why);
}

void
bridge_contact_typing (PurpleAccount *account, const char *who)
{
  g_autofree char *path = bridge_state_path (account, who);
  BridgeContact *contact = g_hash_table_lookup (contacts, path);

  if (contact != NULL && contact->connected && contact->conversation_uuid != NULL)
    ppm_client_send_typing (contact->client, contact->conversation_uuid);
  if (contact != NULL && contact->client != NULL)
    touch (contact);
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
      deliver_replies (contact);
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
      offer_end (contact, delivered, "the contact did not take the file");
      return;
    }
  }
}

void
bridge_contacts_resume (void)
{
  g_autofree char *dir = bridge_state_dir ();
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    BridgeContact *contact;
    PurpleAccount *account;

    if (!g_str_has_suffix (name, ".state"))
      continue;
    contact = contact_from_file (path);
    account = contact_account (contact);
    if (contact->who == NULL || !bridge_account_is_bridged (account)) {
      g_hash_table_remove (contacts, path);
      continue;
    }
    if (g_key_file_get_boolean (contact->state, BRIDGE_GROUP_CONTACT, "open", NULL)
        || !group_empty (contact, BRIDGE_GROUP_TO_TEAM)
        || !group_empty (contact, BRIDGE_GROUP_FILES))
      session_open (contact);
    deliver_replies (contact);
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
