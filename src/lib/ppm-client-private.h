/* ppm-client-private.h: the owner of a session, shared by the files that
 * make it up and by the sign-in sequences it runs. Nothing below the owner
 * (the leaves and the state modules) includes this header; they get what
 * they need through the sinks and ports the owner installs.
 *
 * Who may call whom (README "The client library, inside"):
 *   ppm-client.c          life cycle, the public calls, the session state
 *                         (it alone writes it) and the events (it alone
 *                         calls them)
 *   ppm-client-ports.c    the ports and sinks of the state modules: what
 *                         follows a catch-up, a shown message, an ack
 *   ppm-client-send.c     sending, new 1:1 conversations, typing
 *   ppm-client-requests.c the user's requests outside the session's flow:
 *                         history, profiles, icons, closing a conversation
 *   ppm-client-groups.c   group conversations: create, add, leave, list
 *   ppm-client-transport.c the connections: a shared transport or one of
 *                         the client's own, its proxy and certificates
 *   ppm-socket.c          the websocket: open, authenticate, dispatch frames
 *   ppm-reconnect.c       the repair of a lost session, the team refresh
 *   ppm-signin-agent.c, ppm-signin-visitor.c   the sign-in step tables
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-client.h"
#include "ppm-api.h"
#include "ppm-catchup.h"
#include "ppm-delivery.h"
#include "ppm-history.h"
#include "ppm-json.h"
#include "ppm-last-seen.h"
#include "ppm-message.h"
#include "ppm-outbox.h"
#include "ppm-registry.h"
#include "ppm-tls.h"
#include "ppm-ws.h"

G_BEGIN_DECLS

#define PPM_TYPING_INTERVAL_MS 1500
/* A safety bound: a conversation list longer than this is used but not
 * taken as complete, so that nothing is closed for not being in it. */
#define PPM_CONVERSATION_MAX 100000
/* The default PpmReconnectPolicy. */
#define PPM_RECONNECT_FIRST_DELAY_MS 1000
#define PPM_RECONNECT_MAX_DELAY_MS 60000
#define PPM_RECONNECT_MAX_ATTEMPTS 5
#define PPM_RECONNECT_GIVE_UP_MS 120000
/* Colleagues' presence is only known by polling the team list. */
#define PPM_TEAM_POLL_SECONDS 60

/* The one session state; only ppm-client.c writes it (ppm_client_set_state). */
typedef enum {
  SESSION_IDLE,           /* never connected */
  SESSION_SIGNING_IN,     /* the sign-in steps: key, token, login, lists */
  SESSION_AUTHENTICATING, /* the socket is opened and authenticated */
  SESSION_CATCHING_UP,    /* what was missed is read; pushes are held */
  SESSION_CONNECTED,      /* connected() was emitted; messages flow */
  SESSION_REPAIRING,      /* after connected(): the session was lost and is being
                           * restored (back-off, sign-in, socket, catch-up) */
  SESSION_ENDED,          /* disconnected() was emitted */
} SessionState;

/* One step of a sign-in sequence: its progress text (NULL: no progress of
 * its own) and what it does; it ends by calling ppm_signin_next() or by
 * failing the session. needed (optional) tells whether it runs at all. */
typedef struct {
  const char *progress;
  gboolean  (*needed) (PpmClient *client);
  void      (*run) (PpmClient *client);
} PpmSignInStep;

struct _PpmClient {
  /* Configuration (copies). */
  PpmRole role;
  char *server_url;
  char *email;
  char *password;
  char *api_key;
  char *api_secret;
  char *terminal;
  char *device_name;
  char *configured_app_uuid;  /* visitor: the team, from the config or the URL */
  GStrv visitor_profile;      /* visitor: { name, about or "" } set by the caller, or NULL */
  PpmClientEvents events;
  gpointer user_data;
  GProxyResolver *proxy_resolver;
  PpmTransport *shared_transport; /* given by ppm_client_set_transport(), or NULL */
  guint request_timeout_ms;
  guint keepalive_seconds;
  guint team_poll_seconds;
  PpmReconnectPolicy policy;
  char *service_status;       /* the agent's status last asked for, or NULL */

  /* The session. */
  SessionState state;
  GCancellable *cancellable;  /* every request of the session */
  GCancellable *sign_in_cancellable;  /* the running sign-in sequence */
  PpmApi *api;
  char *device_uuid;
  char *app_uuid;
  char *team_name;
  char *team_icon;            /* the app's icon URL, or NULL */

  /* The sign-in sequence running. */
  const PpmSignInStep *steps;
  guint n_steps;
  guint step;                 /* the next step to run */
  guint progress_steps;       /* the steps that report progress, socket and catch-up included */
  guint progress_step;        /* progress reported so far */

  /* The socket (ppm-socket.c). */
  PpmWs *ws;
  gboolean ws_authenticated;
  guint auth_timeout_id;      /* waiting for ACK AUTH */

  /* The repair (ppm-reconnect.c). */
  guint reconnect_id;
  guint reconnect_attempts;   /* failed repairs in a row */
  gint64 outage_started;      /* g_get_monotonic_time() of the first of them */
  gboolean repair_signs_in;   /* the token was refused: the repair signs in again */
  guint team_poll_id;

  /* The agent's sign-in lists (ppm-signin-agent.c). */
  int conversation_page;
  GPtrArray *listed;          /* char* uuids of open conversations, newest first */
  gboolean listed_complete;   /* the list was read to its end */
  GPtrArray *member_targets;  /* char* uuids of conversations whose members are fetched */
  guint member_next;          /* the next of member_targets to ask for */
  guint members_in_flight;
  /* The visitor's wait for the distributor (ppm-signin-visitor.c). */
  guint amd_poll_id;
  guint amd_polls;

  /* The state modules. */
  PpmPorts ports;
  PpmRegistry registry;
  PpmLastSeen last_seen;
  PpmOutbox outbox;
  PpmDelivery delivery;
  PpmCatchUp catchup;
  PpmHistory history;

  /* Sending (ppm-client-send.c). */
  GHashTable *creating;       /* user uuid -> GPtrArray of PendingText* */
  char *watched_conversation;
  GHashTable *typing_sent;    /* conversation uuid -> gint64* monotonic time */

  /* TLS. */
  PpmTlsWatch *tls_watch;
  char *peer_certificate;     /* fingerprint of a refused certificate */
  GTlsCertificateFlags peer_certificate_errors;

  /* Files (ppm-client-files.c). */
  GHashTable *file_jobs;      /* FileJob* running, cancelled when the client goes */
};

/* ---- ppm-client.c: the state, failures, events ---- */

void      ppm_client_set_state (PpmClient *client, SessionState state);
/* connected() was emitted (and the session not ended since). */
gboolean  ppm_client_was_connected (PpmClient *client);
/* Ends the session and reports it (disconnected). */
void      ppm_client_end_with_error (PpmClient *client, const GError *error);
/* Ends the session, or, after connected(), hands a recoverable error to
 * the repair (ppm-reconnect.c). */
void      ppm_client_fail (PpmClient *client, const GError *error);
/* Common preamble of every answer during sign-in: TRUE when the session
 * should go on; a cancelled call touches nothing, an error ends or repairs. */
gboolean  ppm_client_answer_usable (PpmClient *client, const GError *error);
/* Fails the session with PPM_ERROR_PROTOCOL for an unusable answer to `what`. */
void      ppm_client_fail_protocol (PpmClient *client, const char *what, const GError *detail);
/* An HTTP call outside the sign-in sequence failed: a refused token starts
 * a repair with a fresh sign-in; anything else is only logged. */
void      ppm_client_note_http_error (PpmClient *client, const char *what, const GError *error);
/* The identity the sign-in found: kept and put into every request's envelope. */
void      ppm_client_set_identity (PpmClient *client, const char *app_uuid,
                                   const char *device_uuid);
char     *ppm_client_load_setting (PpmClient *client, const char *key);
void      ppm_client_save_setting (PpmClient *client, const char *key, const char *value);
GPtrArray *ppm_client_list_settings (PpmClient *client, const char *prefix);
/* Sends the status last asked for (PPKEFU_LOGIN resets it to READY). */
void      ppm_client_send_service_status (PpmClient *client);

/* The events; each returns FALSE when the session ended from within it. */
void      ppm_client_emit_progress (PpmClient *client, const char *text);
gboolean  ppm_client_emit_connected (PpmClient *client);
void      ppm_client_emit_user (PpmClient *client, const PpmUser *user);
void      ppm_client_emit_conversation (PpmClient *client, const PpmConversation *conversation);
void      ppm_client_emit_synced (PpmClient *client, GPtrArray *open_conversations);
void      ppm_client_emit_message (PpmClient *client, const PpmMessage *message,
                                   const PpmConversation *conversation);
void      ppm_client_emit_typing (PpmClient *client, const char *conversation_uuid,
                                  const char *user_uuid);
void      ppm_client_emit_send_result (PpmClient *client, const char *conversation_uuid,
                                       const char *message_uuid, const GError *error);

/* ---- The sign-in sequences ---- */

/* Runs a step table from its start (ppm-client.c). */
void      ppm_signin_run (PpmClient *client, const PpmSignInStep *steps, guint n_steps);
/* The running step is done: the next one, or, after the last, the socket. */
void      ppm_signin_next (PpmClient *client);
/* ppm-signin-agent.c, ppm-signin-visitor.c */
void      ppm_signin_agent_start (PpmClient *client);
void      ppm_signin_visitor_start (PpmClient *client);
/* Starts the sign-in sequence of the client's role. */
void      ppm_signin_start (PpmClient *client);

/* ---- ppm-client-ports.c ---- */

/* Initialises the state modules with the client's ports and sinks. */
void      ppm_client_init_modules (PpmClient *client);
/* The socket is authenticated: pushes are held, the catch-up starts. */
void      ppm_client_start_catch_up (PpmClient *client);

/* ---- ppm-socket.c ---- */

/* Opens and authenticates the socket, then catches up; the restart point
 * of a repair. */
void      ppm_socket_open (PpmClient *client);
/* The frames of the current socket are no longer wanted. */
void      ppm_socket_close (PpmClient *client);
gboolean  ppm_socket_send_frame (PpmClient *client, JsonObject *frame);

/* ---- ppm-reconnect.c ---- */

gboolean  ppm_reconnect_is_recoverable (const GError *error);
/* Drops the socket and what runs on it, and tries again after the back-off,
 * or ends the session with error when the policy is exhausted. */
void      ppm_reconnect_schedule (PpmClient *client, const GError *error);
/* The server no longer counts this session's device online: a fresh
 * sign-in (PPKEFU_LOGIN sets it online again) after the usual back-off. */
void      ppm_reconnect_sign_in_again (PpmClient *client, const GError *error);
/* The session is whole again (caught up): the attempts start over. */
void      ppm_reconnect_succeeded (PpmClient *client);
void      ppm_reconnect_stop (PpmClient *client);
void      ppm_team_poll_start (PpmClient *client);

/* ---- ppm-client-send.c ---- */

void      ppm_send_init (PpmClient *client);
/* Cancels the downloads and uploads still running (ppm-client-files.c). */
void      ppm_files_clear (PpmClient *client);
/* Queues a message of any sub-type with this body and uuid (ends with a
 * send_result, as a text does). */
void      ppm_send_message_with_uuid (PpmClient *client, const char *conversation_uuid,
                                      const char *subtype, const char *body,
                                      const char *uuid);
void      ppm_send_clear (PpmClient *client);
/* The session ended: conversations being created are forgotten. */
void      ppm_send_reset (PpmClient *client);
/* Writes what waits once the socket is authenticated and caught up. */
void      ppm_send_flush (PpmClient *client);
void      ppm_send_rewatch_typing (PpmClient *client);

/* ---- ppm-client-transport.c ---- */

/* A new PpmApi for a connection: on the shared transport, or on one of
 * its own with the client's proxy; with the client's timeout and
 * certificate decisions. NULL with error for a bad URL, or a pinned
 * certificate the shared transport does not trust. */
PpmApi   *ppm_client_open_api (PpmClient *client, GError **error);

G_END_DECLS
