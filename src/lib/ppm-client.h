/* ppm-client.h: a PPMessage client session (agent or visitor), independent of
 * libpurple. It signs in, keeps the team, the conversations and the websocket,
 * recovers missed messages, de-duplicates them and reports everything through
 * PpmClientEvents. The libpurple glue only turns events into UI calls and user
 * actions into the calls below.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <gio/gio.h>

#include "ppm-error.h"
#include "ppm-transfer.h"
#include "ppm-transport.h"
#include "ppm-types.h"

G_BEGIN_DECLS

typedef struct {
  const char *server_url;   /* "https://chat.example.com" or "http://127.0.0.1:8945" */
  PpmRole role;
  const char *email;        /* agent: the sign-in e-mail; visitor: optional known-user e-mail */
  const char *password;     /* agent: the plain password (hashed by the library, never logged) */
  const char *api_key;      /* NULL or "": discovered from the server's public assets */
  const char *api_secret;   /* visitor (PPCOM) secret; NULL: discovered */
  const char *terminal;     /* stable device id of this account (PPKefu's terminal) */
  const char *device_name;  /* shown to the server as the device's full name */
  /* Addition. Visitor: the team's app uuid (PPCom's embed snippet carries
   * it). NULL: taken from a server_url of the form
   * http://host/ppcom/enterprise/<base64 JSON {"uuid": ...}>, PPConsole's
   * "enterprise" link. Ignored for agents. */
  const char *app_uuid;
  /* Addition. NULL: https/wss certificates must verify against the system's
   * store. Else the SHA-256 fingerprint (hex, case and ':' separators
   * ignored) of a certificate the user accepted although it failed
   * verification; only that exact certificate is then accepted. */
  const char *pinned_certificate;
} PpmClientConfig;

typedef struct _PpmClient PpmClient;

/* All callbacks are optional and run on the main loop. Pointers passed to
 * them are valid only during the call. */
typedef struct {
  void (*progress) (gpointer user_data, const char *step_text, int step, int steps);
  /* Signed in, synchronised and listening. */
  void (*connected) (gpointer user_data);
  /* The session ended: error is NULL after ppm_client_disconnect(). */
  void (*disconnected) (gpointer user_data, const GError *error);
  /* A user (agent or visitor) became known or changed. */
  void (*user_changed) (gpointer user_data, const PpmUser *user);
  /* A conversation became known or changed (name, members, open state). */
  void (*conversation_changed) (gpointer user_data, const PpmConversation *conversation);
  /* After each sign-in (also the silent one that repairs a refused token):
   * the complete set of open conversations, so the UI can drop what the
   * server closed. Array of const PpmConversation*. Not called when the
   * list could not be read whole (more than 100,000 open conversations):
   * the conversations read are announced by conversation_changed only. */
  void (*conversations_synced) (gpointer user_data, GPtrArray *open_conversations);
  /* A message to show, exactly once, with its conversation (known to the
   * library by then; its peer and name are current). The library
   * acknowledges it to the server after this callback returns. */
  void (*message) (gpointer user_data, const PpmMessage *message,
                   const PpmConversation *conversation);
  /* Somebody types in a conversation (expires by itself after a few seconds). */
  void (*typing) (gpointer user_data, const char *conversation_uuid, const char *user_uuid);
  /* Outcome of ppm_client_send_text(): error NULL when the server stored it. */
  void (*send_result) (gpointer user_data, const char *conversation_uuid,
                       const char *message_uuid, const GError *error);
  /* Persistent per-account state (the glue keeps it in account settings):
   * the API key once discovered, and the last message seen per conversation
   * (bounded: see ppm-last-seen.h). value NULL: remove the setting. */
  void (*save_setting) (gpointer user_data, const char *key, const char *value);
  char *(*load_setting) (gpointer user_data, const char *key);
  /* Addition: the names of the settings kept through save_setting that
   * start with prefix (a GPtrArray of char* whose free function frees them;
   * the library unrefs it), or NULL.
   * Without it the last messages seen are never forgotten. */
  GPtrArray *(*list_settings) (gpointer user_data, const char *prefix);
} PpmClientEvents;

PpmClient *ppm_client_new (const PpmClientConfig *config, const PpmClientEvents *events,
                           gpointer user_data);
/* Stops everything without calling back, but for save_setting (the acks
 * the server has not confirmed are kept for the next session); safe in any
 * state. */
void       ppm_client_free (PpmClient *client);

/* Addition, visitor only, before ppm_client_connect(): an anonymous
 * visitor (config email NULL) shown to the agents under name, with about
 * as its profile's signature (NULL: none), e.g. where a bridged contact
 * writes from. */
void       ppm_client_set_visitor_profile (PpmClient *client, const char *name,
                                           const char *about);
/* Addition: from now on, a conversation this account never saw a message
 * of is replayed from its start at the next catch-up, instead of taking
 * its newest message as the baseline. For a client that was there when
 * each of its conversations began (a bridge's visitor, who wrote first):
 * the agents' answers written while no session was open then come. Kept
 * with the settings (save_setting). */
void       ppm_client_replay_unseen_conversations (PpmClient *client);

/* Validates the settings, then signs in asynchronously (progress, then
 * connected or disconnected). Returns FALSE with error for bad settings.
 * Agent: PPKEFU key (discovered when api_key is empty, then saved with
 * save_setting "api_key"), token, PPKEFU_LOGIN, team, open conversations,
 * websocket, catch-up. Visitor: PPCOM key and secret (discovered and saved
 * as "api_key"/"api_secret"), an anonymous visitor (the terminal is its
 * identity) or a named one (email), its device, the default conversation,
 * websocket, catch-up. connected() comes before the caught-up messages.
 * Catch-up: unacked pushes plus history since save_setting
 * "last_seen/<conversation>"; a conversation without it is not replayed
 * (its newest message becomes the baseline). What this user sent from this
 * device is never replayed: the UI showed it when it was written.
 *
 * After connected(), the session repairs itself silently (no second
 * connected(), no progress): a websocket that closes, stays silent for three
 * keep-alive intervals (measured on CLOCK_BOOTTIME, so a suspend counts), or
 * stops confirming sent messages for a keep-alive interval, and HTTP calls
 * that fail for network or server reasons, lead to a new socket after a
 * jittered exponential back-off (see PpmReconnectPolicy), re-authentication,
 * catch-up, then the queued sends in order (same message uuids: the server
 * stores a resent message once, and the client de-duplicates by uuid). A
 * token the server stops accepting (API error 3/4, ACK AUTH 8/9/10) leads to
 * a fresh sign-in with the same terminal. Only when the policy's limits are
 * exhausted does the session end with PPM_ERROR_NETWORK; authentication,
 * settings and certificate problems end it at once. */
gboolean   ppm_client_connect (PpmClient *client, GError **error);
/* Signs out cleanly (agent: PPKEFU_LOGOUT after the last acks, finishing
 * in the background), closes the socket and calls disconnected(NULL) before
 * returning; the receiver may free the client from within that callback.
 * Between the call and that callback the library calls nothing but
 * save_setting and load_setting, so a UI that is closing needs no guard
 * in its other callbacks. */
void       ppm_client_disconnect (PpmClient *client);

/* The signed-in user, or NULL. */
const PpmUser *ppm_client_get_self (PpmClient *client);
const char    *ppm_client_get_team_name (PpmClient *client);
const PpmUser *ppm_client_lookup_user (PpmClient *client, const char *uuid);
const PpmConversation *ppm_client_lookup_conversation (PpmClient *client, const char *uuid);

/* Sends plain text; returns the new message's uuid (owned by the caller).
 * The outcome arrives through send_result. */
char      *ppm_client_send_text (PpmClient *client, const char *conversation_uuid,
                                 const char *text);
/* Addition: the same with a uuid the caller chose and kept before (a
 * bridge that resends after a restart what it never saw confirmed): the
 * server stores a message resent with its uuid once. */
void       ppm_client_send_text_with_uuid (PpmClient *client, const char *conversation_uuid,
                                           const char *text, const char *message_uuid);
/* Finds or creates the 1:1 conversation with another agent (a visitor:
 * with that agent), then sends. Returns the new message's uuid (g_free), as
 * ppm_client_send_text() does; send_result reports it the same way, also
 * when the conversation could not be created. */
char      *ppm_client_send_text_to_user (PpmClient *client, const char *user_uuid,
                                         const char *text);
/* The conversation currently used with this user (a visitor's P2S or a
 * colleague's S2S), or NULL. */
const PpmConversation *ppm_client_conversation_for_user (PpmClient *client,
                                                         const char *user_uuid);

/* The server reports typing in one watched conversation per socket: this
 * one from now on (watched again on every new socket; asking again for the
 * one watched sends nothing), or, with watch FALSE, none if it was this. */
void       ppm_client_watch_typing (PpmClient *client, const char *conversation_uuid,
                                    gboolean watch);
/* Tells the others this user is typing (throttled by the library). */
void       ppm_client_send_typing (PpmClient *client, const char *conversation_uuid);

/* Agent status: "READY", "BUSY" or "REST"; kept and sent again after a
 * silent fresh sign-in (which would reset it to READY). */
void       ppm_client_set_service_status (PpmClient *client, const char *status);

/* Routes HTTP and websocket traffic through this resolver (libpurple proxy
 * settings). Set it before ppm_client_connect(); later it applies to new
 * connections. Ignored on a shared transport: ppm_transport_set_proxy_resolver()
 * sets that one's for all its clients. */
void       ppm_client_set_proxy_resolver (PpmClient *client, GProxyResolver *resolver);
/* Addition, before ppm_client_connect(): the session's connections are
 * this transport's (referenced), shared with the other clients given it,
 * instead of ones of its own (ppm-transport.h). Meant for many sessions
 * of one team in one process, such as a bridge's visitors: N open
 * sessions then hold N websockets and at most 2 x
 * PPM_TRANSPORT_HTTP_CONNS_PER_HOST HTTP connections between them,
 * instead of up to that many HTTP connections each. Each client's
 * requests, cancellations and certificate reports stay its own. The
 * client's pinned_certificate must be the transport's (else connect fails
 * with PPM_ERROR_SETTINGS). NULL: back to its own. */
void       ppm_client_set_transport (PpmClient *client, PpmTransport *transport);

/* ---- Addition: files, streamed to and from disk (ppm-transfer.h) ---- */

/* Downloads a file of a message (its file_url), handing the bytes to
 * callbacks->data as they arrive; expected_size (the message's file_size,
 * -1 unknown) bounds it. Stop it with ppm_transfer_cancel(); the client
 * cancels what still runs when it is freed (no callback then). Only once
 * the client has connected at least once (NULL before). */
PpmTransfer *ppm_client_download_file (PpmClient *client, const char *url,
                                       goffset expected_size,
                                       const PpmTransferCallbacks *callbacks,
                                       gpointer user_data);
/* Uploads the file at path (streamed; progress through callbacks), then
 * sends it to the conversation under this name: as an IMAGE when
 * as_image (mime must be a PNG, JPEG or GIF type), else as a FILE.
 * callbacks->finished reports the upload; on success its fid argument is
 * the new message's uuid (owned by the library), whose send_result
 * follows as for text; on failure or cancel nothing is sent. NULL with
 * error when the file cannot be read or the server would refuse its size
 * (ppm_transfer_upload_refusal()), before anything is sent. */
PpmTransfer *ppm_client_send_file (PpmClient *client, const char *conversation_uuid,
                                   const char *path, const char *name, const char *mime,
                                   gboolean as_image, const PpmTransferCallbacks *callbacks,
                                   gpointer user_data, GError **error);
/* The same with a message uuid the caller chose and kept before (a bridge
 * that sends again after a restart what it never saw confirmed): the file
 * is uploaded again, and the message carries this uuid each time, as
 * ppm_client_send_text_with_uuid() does. */
PpmTransfer *ppm_client_send_file_with_uuid (PpmClient *client, const char *conversation_uuid,
                                             const char *path, const char *name,
                                             const char *mime, gboolean as_image,
                                             const char *message_uuid,
                                             const PpmTransferCallbacks *callbacks,
                                             gpointer user_data, GError **error);
/* The same for bytes in memory (an image pasted into a message). */
PpmTransfer *ppm_client_send_file_data (PpmClient *client, const char *conversation_uuid,
                                        GBytes *data, const char *name, const char *mime,
                                        gboolean as_image,
                                        const PpmTransferCallbacks *callbacks,
                                        gpointer user_data, GError **error);

/* ---- Additions (optional; defaults suit real use) ---- */

/* The bound on delivering a sent message: if the server has not confirmed it
 * within this time after ppm_client_send_text(), counting the time it waits
 * in the queue while the connection is being repaired, send_result reports
 * PPM_ERROR_SEND_TIMEOUT (default 120000 ms). A message is never dropped
 * without a send_result. */
void       ppm_client_set_send_timeout (PpmClient *client, guint milliseconds);
/* How long to wait for any HTTP answer before PPM_ERROR_NETWORK (default
 * 30000 ms). Takes effect at the next ppm_client_connect(). */
void       ppm_client_set_request_timeout (PpmClient *client, guint milliseconds);
/* Seconds between websocket pings (default 30); a connection silent for
 * three intervals, or that confirms no sent message for one interval, is
 * taken for lost and repaired (see ppm_client_connect()). Takes effect at
 * the next socket. */
void       ppm_client_set_keepalive_interval (PpmClient *client, guint seconds);
/* Seconds between refreshes of the team list (default 60): colleagues'
 * presence, since the server never pushes it, and a check that the server
 * still counts this device online (if not, e.g. after a late sign-out of an
 * earlier session of this device, the session signs in again silently).
 * Takes effect at the next connection. */
void       ppm_client_set_team_poll_interval (PpmClient *client, guint seconds);
/* How a session lost after connected() is repaired. Attempt n (0-based)
 * waits a random time between half and all of min (first_delay_ms << n,
 * max_delay_ms). The session ends with PPM_ERROR_NETWORK after max_attempts
 * failed attempts in a row, or once the outage has lasted give_up_after_ms
 * of time awake (a suspend does not count), whichever comes first; 0
 * disables that limit (both 0: retry forever, for headless clients).
 * Defaults: 1000 ms, 60000 ms, 5 attempts, 120000 ms. */
typedef struct {
  guint first_delay_ms;
  guint max_delay_ms;
  guint max_attempts;
  guint give_up_after_ms;
} PpmReconnectPolicy;
void       ppm_client_set_reconnect_policy (PpmClient *client, const PpmReconnectPolicy *policy);
/* After PPM_ERROR_CERTIFICATE: the SHA-256 fingerprint (lower-case hex, no
 * separators) of the certificate the server presented, and what was wrong
 * with it (GTlsCertificateFlags); NULL and 0 otherwise. The glue shows it to
 * the user and, when accepted, stores it as PpmClientConfig.pinned_certificate
 * for the next ppm_client_new()/connect. */
const char *ppm_client_get_peer_certificate_fingerprint (PpmClient *client);
GTlsCertificateFlags ppm_client_get_peer_certificate_errors (PpmClient *client);
/* Process-wide: whether the bodies of requests, answers and frames are
 * written to the debug log (redacted). Checked at each one; NULL (the
 * default): always. Formatting them costs about a sixth of a big
 * sign-in's instructions, wasted when nobody reads the log. */
void ppm_client_set_log_bodies_check (gboolean (*wanted) (void));
/* The device uuid the server gave this session, or NULL. */
const char *ppm_client_get_device_uuid (PpmClient *client);
/* The app (team) uuid, or NULL before sign-in. */
const char *ppm_client_get_app_uuid (PpmClient *client);

/* Addition: earlier messages of a conversation, for a window that opens or
 * a user paging back: up to count (at most 100) messages older than
 * before_uuid (NULL: the most recent ones). done gets them oldest first
 * (PpmMessage*, marked delayed, outgoing set for this user's own), or an
 * error; reached_start: nothing older exists. Nothing read here is
 * acknowledged or de-duplicated against what message() showed: that is the
 * caller's. done is not called once the session stopped. */
typedef void (*PpmClientHistoryDone) (gpointer user_data, const char *conversation_uuid,
                                      GPtrArray *messages, gboolean reached_start,
                                      const GError *error);
void       ppm_client_read_history (PpmClient *client, const char *conversation_uuid,
                                    const char *before_uuid, guint count,
                                    PpmClientHistoryDone done, gpointer user_data);

/* Addition: a user's profile as PP_GET_USER_INFO gives it (strings NULL
 * when the server has none), for Get Info. */
typedef enum {
  PPM_DEVICE_UNKNOWN,
  PPM_DEVICE_BROWSER,       /* a visitor on PPCom in a desktop browser */
  PPM_DEVICE_MOBILE,        /* a visitor on PPCom on a phone */
} PpmDeviceKind;
typedef struct {
  const char *uuid;
  const char *fullname;
  const char *email;
  const char *signature;
  const char *company;
  const char *language;
  const char *icon_url;
  const char *service_status; /* agents: READY, BUSY, REST */
  gboolean is_service_user;
  PpmDeviceKind device;
} PpmUserProfile;
/* profile is valid during the call; NULL with error. Not called once the
 * session stopped. */
typedef void (*PpmClientProfileDone) (gpointer user_data, const char *user_uuid,
                                      const PpmUserProfile *profile, const GError *error);
void       ppm_client_read_profile (PpmClient *client, const char *user_uuid,
                                    PpmClientProfileDone done, gpointer user_data);
/* Addition: downloads a user's icon (PpmUser.icon_url; at most 1 MB).
 * body NULL with error. Not called once the session stopped. */
typedef void (*PpmClientBytesDone) (gpointer user_data, const char *url, GBytes *body,
                                    const GError *error);
void       ppm_client_download_icon (PpmClient *client, const char *url,
                                     PpmClientBytesDone done, gpointer user_data);

/* Addition: closes the conversation for this user (PP_CLOSE_CONVERSATION;
 * the others in it are not told). Once the server agreed,
 * conversation_changed reports it closed, then done is called (error NULL).
 * There is no working call to reopen one on the shipped server
 * (../shared/protocol/PPMESSAGE-PROTOCOL.md, "Closing and reopening"):
 * the next message in it, from anyone, reopens it, and
 * conversation_changed reports it open again. Not called back once the
 * session stopped. */
typedef void (*PpmClientDone) (gpointer user_data, const char *uuid, const GError *error);
void       ppm_client_close_conversation (PpmClient *client, const char *conversation_uuid,
                                          PpmClientDone done, gpointer user_data);

/* Addition: group conversations of agents (PpmConversation.is_group;
 * agents only). Their messages arrive through message() and are sent with
 * ppm_client_send_text() like any other conversation's.
 *
 * Creates a group named name (NULL or "": its members' names) of this
 * agent and the colleagues listed (NULL-terminated, at least two besides
 * this agent), then reports it through conversation_changed and calls done
 * with its uuid (error NULL), or with NULL and the error. The others learn
 * of it with its first message (the server tells nobody). */
void       ppm_client_create_group (PpmClient *client, const char *name,
                                    const char *const *member_uuids, PpmClientDone done,
                                    gpointer user_data);
/* Adds a colleague to a conversation (PP_UPDATE_CONVERSATION_MEMBER);
 * conversation_changed reports the new members, then done is called. */
void       ppm_client_add_group_member (PpmClient *client, const char *conversation_uuid,
                                        const char *user_uuid, PpmClientDone done,
                                        gpointer user_data);
/* Leaves a group for good (this agent's membership is removed; nobody is
 * told); conversation_changed reports it closed, then done is called. */
void       ppm_client_leave_group (PpmClient *client, const char *conversation_uuid,
                                   PpmClientDone done, gpointer user_data);
/* The open groups this agent is in, by name: a new array (g_ptr_array_unref)
 * of const PpmConversation* valid until the next event. */
GPtrArray *ppm_client_list_groups (PpmClient *client);

/* Addition: the team's predefined scripts (canned replies) as
 * PP_GET_ALL_PREDEFINED_SCRIPT gives them, for agents. The shipped server
 * answers one null per script (PPMESSAGE-PROTOCOL.md section 16.5): those
 * are skipped, so there scripts is empty. scripts: PpmScript*, sorted by
 * question, valid during the call; NULL with error. Not called once the
 * session stopped. */
typedef struct {
  char *question;           /* may be NULL: the server does not require one */
  char *answer;
} PpmScript;
typedef void (*PpmClientScriptsDone) (gpointer user_data, GPtrArray *scripts,
                                      const GError *error);
void       ppm_client_read_team_scripts (PpmClient *client, PpmClientScriptsDone done,
                                         gpointer user_data);

/* Addition: the team's icon URL as PPConsole set it (the app's app_icon),
 * or NULL (a team whose icon was never set). */
const char *ppm_client_get_team_icon (PpmClient *client);

G_END_DECLS
