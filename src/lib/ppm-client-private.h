/* ppm-client-private.h: the session state shared by ppm-client.c (life
 * cycle), ppm-registry.c (users and conversations), ppm-session.c (agent
 * sign-in and socket), ppm-visitor.c (visitor sign-in), ppm-sync.c
 * (catch-up, de-duplication, delivery, acks) and ppm-send.c (sending,
 * typing, new conversations).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-client.h"
#include "ppm-api.h"
#include "ppm-json.h"
#include "ppm-message.h"
#include "ppm-ws.h"

G_BEGIN_DECLS

/* The bound on getting a sent message confirmed (ppm_client_set_send_timeout). */
#define PPM_SEND_TIMEOUT_MS 120000
#define PPM_TYPING_INTERVAL_MS 1500
/* Long (TXT) messages longer than this are not downloaded. */
#define PPM_MAX_TEXT_BYTES (1024 * 1024)
/* How many message uuids the de-duplication remembers. */
#define PPM_SEEN_CAPACITY 4096
/* Messages shown per main-loop iteration, so that a big catch-up never
 * freezes the UI. */
#define PPM_DELIVERY_BATCH 50
/* Paging sizes and bounds of the sign-in synchronisation. */
#define PPM_CONVERSATION_PAGE_SIZE 100
/* A safety bound: a list longer than this is used but not taken as
 * complete, so that nothing is closed for not being in it. */
#define PPM_CONVERSATION_MAX 100000
/* Look-ups of the sign-in and catch-up kept in flight at once. */
#define PPM_PARALLEL_REQUESTS 6
#define PPM_UNACKED_PAGE_SIZE 50
/* One read of the unacked list (a catch-up, or a backlog round after it)
 * stops at this many pages; when it stopped there, the list is read again
 * once what it gave is delivered and acked. */
#define PPM_UNACKED_MAX_PAGES 40
/* Push ids shown without a confirmed ack kept from one session to the next. */
#define PPM_UNCONFIRMED_ACKS_MAX 5000
#define PPM_HISTORY_PAGE_SIZE 30
#define PPM_HISTORY_MAX_PAGES 20
/* The default PpmReconnectPolicy. */
#define PPM_RECONNECT_FIRST_DELAY_MS 1000
#define PPM_RECONNECT_MAX_DELAY_MS 60000
#define PPM_RECONNECT_MAX_ATTEMPTS 5
#define PPM_RECONNECT_GIVE_UP_MS 120000
/* A catch-up page that fails is asked again this many times before the
 * whole repair starts over. */
#define PPM_PAGE_RETRIES 3
#define PPM_PAGE_RETRY_DELAY_MS 200
/* Failed ACK_MESSAGE calls are retried after this delay. */
#define PPM_ACK_RETRY_MS 1000
/* Colleagues' presence is only known by polling the team list. */
#define PPM_TEAM_POLL_SECONDS 60

typedef enum {
  SESSION_IDLE,
  SESSION_CONNECTING,     /* token, login, team, conversations, socket */
  SESSION_CATCHING_UP,    /* unacked list and history being fetched */
  SESSION_CONNECTED,
  SESSION_ENDED,
} SessionState;

/* A conversation with what the library needs beyond the public part. */
typedef struct {
  PpmConversation pub;        /* first: a PpmConv* is a PpmConversation* */
  char *creator_uuid;         /* the conversation's user_uuid */
  char *assigned_uuid;
  char *latest_message_uuid;  /* from the list, the baseline of a first sign-in */
  guint64 activity;           /* higher: more recent */
  gint64 last_seen_time_us;   /* "ts" of the message last_seen was set to in this
                               * session (microseconds), 0 unknown */
} PpmConv;

/* A message waiting for delivery. */
typedef struct {
  PpmMessage *message;
  char *pid;                  /* push id to ack, or NULL */
  char *conversation_type;    /* "ct" of the compact form, or NULL */
  gboolean time_is_epoch;     /* message->time_us is from "ts", not a createtime */
  gboolean from_unacked_list; /* may come after newer messages of its conversation */
} QueuedMessage;

typedef struct {
  PpmClient *client;
  char *uuid;
  char *conversation_uuid;
  JsonObject *frame;
  guint deadline_id;          /* the send bound: send_result error when it fires */
  GError *error;              /* set when it failed before reaching the server */
  char *seen_before;          /* the conversation's last seen message when it was sent */
  gboolean maybe_stored;      /* written, then the connection was lost before its ACK SEND */
  gboolean being_checked;     /* ppm-resend-check.c looks it up in the history */
} PendingSend;

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
  PpmClientEvents events;
  gpointer user_data;
  GProxyResolver *proxy_resolver;
  guint request_timeout_ms;
  guint send_timeout_ms;
  guint team_poll_seconds;
  char *service_status;       /* the agent's status last asked for, or NULL */

  /* Session. */
  SessionState state;
  GCancellable *cancellable;  /* every request of the session */
  GCancellable *sign_in_cancellable;  /* the running sign-in sequence */
  PpmApi *api;
  PpmWs *ws;
  gboolean ws_authenticated;
  guint team_poll_id;
  guint auth_timeout_id;      /* waiting for ACK AUTH */
  gboolean connected_once;    /* connected() was emitted: later socket losses are repaired */
  guint reconnect_id;
  guint reconnect_attempts;   /* failed repairs in a row */
  gint64 outage_started;      /* g_get_monotonic_time() of the first of them */
  gboolean need_sign_in;      /* the token was refused: the repair signs in again */
  PpmReconnectPolicy policy;
  guint page_retries;         /* of the current catch-up page */
  guint page_retry_id;
  guint keepalive_seconds;
  guint amd_poll_id;          /* visitor: waiting for the distributor */
  guint amd_polls;
  char *configured_app_uuid;  /* visitor: the team, from the config or the URL */

  /* Who we are. */
  PpmUser *self;
  char *device_uuid;
  char *app_uuid;
  char *team_name;

  GHashTable *users;          /* uuid -> PpmUser* */
  GHashTable *conversations;  /* uuid -> PpmConv* */
  GHashTable *user_names;     /* fullname -> how many of users have it (GUINT) */
  GHashTable *peer_conversations; /* peer uuid -> GPtrArray of PpmConv* having it */
  guint64 activity_counter;

  /* Sign-in synchronisation. */
  int conversation_page;
  GPtrArray *listed;          /* char* uuids of open conversations, newest first */
  gboolean listed_complete;   /* the list was read to its end */
  gboolean list_fresh;        /* latest_message_uuid is from this sign-in's list */
  GPtrArray *member_targets;  /* char* uuids of conversations whose members are fetched */
  guint member_next;          /* the next of member_targets to ask for */
  guint members_in_flight;

  /* Catch-up. */
  GCancellable *catch_up_cancellable;  /* the running catch-up's (or backlog round's) requests */
  GHashTable *baselines;      /* conversation uuid -> last message seen before this session */
  guint recent_look_ups;      /* after a repair: conversations of the list's first page
                               * being looked up before the history is planned */
  GPtrArray *history_targets; /* char* conversation uuids to replay */
  guint history_next;         /* the next of history_targets to fetch */
  guint history_in_flight;    /* conversations being fetched */
  GPtrArray *history_waiting; /* HistoryFetch* waiting to ask a failed page again */
  int unacked_page;
  GPtrArray *caught_history;  /* QueuedMessage* */
  GPtrArray *caught_unacked;  /* QueuedMessage* */
  GQueue held_pushes;         /* QueuedMessage* that arrived during the catch-up */

  /* Backlog: unacked messages beyond what one read of the list gives. */
  gboolean backlog_round;     /* the unacked pages being read are a backlog round */
  gboolean backlog_due;       /* the last read stopped at PPM_UNACKED_MAX_PAGES */
  GHashTable *backlog_unconfirmed;  /* push ids of the last read whose ACK_MESSAGE
                                     * the server has not confirmed yet, or NULL */
  char *unacked_first_pid;    /* the first push id of the last read */

  /* Delivery. */
  GQueue delivery;            /* QueuedMessage* */
  gboolean delivery_busy;     /* the head waits for a download or a look-up */
  guint delivery_idle_id;     /* the next batch of the queue */
  GHashTable *looking_up;     /* uuids of unknown conversations of queued messages being
                               * looked up ahead of delivery (queued or in flight) */
  GQueue look_up_queue;       /* char* of looking_up not asked yet */
  guint look_ups_in_flight;
  GHashTable *seen;           /* message uuid set */
  GQueue seen_order;          /* char* owned by seen, oldest first */
  GPtrArray *pending_acks;    /* char* push ids */
  GHashTable *unconfirmed_acks;  /* push ids shown whose ack the server has not
                                  * confirmed: pending and in flight */
  GHashTable *shown_earlier;  /* push ids an earlier session showed without a
                               * confirmed ack (setting "unconfirmed_acks") */
  gboolean kept_acks_loaded;  /* that setting was read in this session */
  guint ack_idle_id;
  guint ack_retry_id;

  /* Sending. */
  GHashTable *pending_sends;  /* message uuid -> PendingSend* */
  GQueue unsent;              /* PendingSend* waiting for the socket */
  GQueue in_flight;           /* PendingSend* written, waiting for ACK SEND */
  gint64 send_progress_at;    /* ppm_clock_now_us() of the last ACK SEND or first write */
  guint ack_watchdog_id;
  guint failed_sends_idle_id;
  GHashTable *creating;       /* user uuid -> GPtrArray of PendingText* */

  /* Typing. */
  char *watched_conversation;
  GHashTable *typing_sent;    /* conversation uuid -> gint64* monotonic time */

  /* TLS. */
  char *pinned_certificate;   /* normalised sha256 hex, or NULL */
  struct _PpmTlsWatch *tls_watch;
  char *peer_certificate;     /* fingerprint of a refused certificate */
  GTlsCertificateFlags peer_certificate_errors;
};

/* ppm-registry.c */
void      ppm_user_free (PpmUser *user);
void      ppm_conv_free (PpmConv *conv);

/* ppm-client.c */
/* Ends the session, or, after connected(), hands a recoverable error to
 * the repair (ppm-reconnect.c). */
void      ppm_client_end_with_error (PpmClient *client, const GError *error);
void      ppm_client_emit_progress (PpmClient *client, const char *text, int step);
void      ppm_client_fail (PpmClient *client, const GError *error);
/* Common preamble of every answer during sign-in: TRUE when the session
 * should go on; a cancelled call touches nothing, an error ends or repairs. */
gboolean  ppm_client_answer_usable (PpmClient *client, const GError *error);
/* Fails the session with PPM_ERROR_PROTOCOL for an unusable answer to `what`. */
void      ppm_client_fail_protocol (PpmClient *client, const char *what, const GError *detail);
PpmUser  *ppm_client_user_ensure (PpmClient *client, const char *uuid);
/* Replaces user's fullname (takes name), keeping the name index right. */
void      ppm_client_user_set_fullname (PpmClient *client, PpmUser *user, char *name);
/* Replaces conv's peer (copies peer), keeping the peer index right. */
void      ppm_client_conv_set_peer (PpmClient *client, PpmConv *conv, const char *peer);
void      ppm_client_user_emit (PpmClient *client, PpmUser *user);
PpmUser  *ppm_client_user_from_json (PpmClient *client, JsonObject *item, gboolean is_service_user);
PpmConv  *ppm_client_conv_ensure (PpmClient *client, const char *uuid);
void      ppm_client_conv_touch (PpmClient *client, PpmConv *conv);
void      ppm_client_conv_set_members (PpmClient *client, PpmConv *conv, JsonArray *list);
void      ppm_client_conv_emit (PpmClient *client, PpmConv *conv);
JsonObject *ppm_client_request_body (PpmClient *client);
char     *ppm_client_load_setting (PpmClient *client, const char *key);
/* Sends the status last asked for (PPKEFU_LOGIN resets it to READY). */
void      ppm_client_send_service_status (PpmClient *client);
void      ppm_client_save_setting (PpmClient *client, const char *key, const char *value);
char     *ppm_client_last_seen_key (const char *conversation_uuid);
void      ppm_client_start_team_poll (PpmClient *client);
void      ppm_client_apply_team_list (PpmClient *client, JsonArray *list);

/* An HTTP call outside the sign-in sequence failed: a refused token starts
 * a repair with a fresh sign-in; anything else is only logged. */
void      ppm_client_note_http_error (PpmClient *client, const char *what, const GError *error);

/* ppm-reconnect.c */
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

/* ppm-tls.c */
/* Lower-case hex without separators, or NULL for NULL, "" or non-hex. */
char     *ppm_tls_normalise_fingerprint (const char *text);
char     *ppm_tls_certificate_fingerprint (GTlsCertificate *certificate);
/* Decides on certificates that fail verification for the requests and
 * websockets of api's session: only the pinned one is accepted; others are
 * noted for ppm_client_get_peer_certificate_fingerprint(). */
void      ppm_tls_watch_session (PpmClient *client, PpmApi *api);
/* The client is going away: pending handshakes no longer report to it. */
void      ppm_tls_forget (PpmClient *client);

/* ppm-visitor.c */
void      ppm_visitor_start (PpmClient *client);

/* ppm-session.c */
void      ppm_session_start (PpmClient *client);
/* Opens and authenticates the socket, then catches up; the restart point
 * of a repair. */
void      ppm_session_open_socket (PpmClient *client);
/* The frames of the current socket are no longer wanted. */
void      ppm_session_close_socket (PpmClient *client);
gboolean  ppm_session_send_frame (PpmClient *client, JsonObject *frame);

/* ppm-sync.c */
void      ppm_sync_start_catch_up (PpmClient *client);
/* Abandons a running catch-up (its socket is gone); pushes held stay held. */
void      ppm_sync_abort_catch_up (PpmClient *client);
void      ppm_sync_handle_push (PpmClient *client, JsonObject *msg);
/* Fetches a conversation and its members, announces it, then calls done. */
typedef void (*PpmResolved) (PpmClient *client, const char *conversation_uuid, gpointer data);
void      ppm_sync_resolve_conversation (PpmClient *client, const char *uuid,
                                         GCancellable *cancellable, PpmResolved done,
                                         gpointer data);
gboolean  ppm_sync_mark_seen (PpmClient *client, const char *message_uuid);
void      ppm_sync_flush_acks (PpmClient *client);
/* At the end of a session: keeps the push ids shown without a confirmed
 * ack for the next one (setting "unconfirmed_acks"). */
void      ppm_sync_keep_unconfirmed_acks (PpmClient *client);
/* The pending acks as an ACK_MESSAGE body, or NULL; they are no longer pending. */
JsonObject *ppm_sync_take_acks (PpmClient *client);
void      queued_message_free (QueuedMessage *queued);
/* Empties the delivery queue; its messages count as never seen, so that a
 * later catch-up shows them. */
void      ppm_sync_drop_undelivered (PpmClient *client);

/* ppm-send.c */
void      ppm_send_handle_ack (PpmClient *client, const char *message_uuid, gint64 code,
                               const char *reason);
void      ppm_send_flush_unsent (PpmClient *client);
/* The socket is gone: what was written but not acknowledged is sent again
 * after the repair, but for what the history shows stored (ppm-resend-check.h). */
void      ppm_send_requeue_in_flight (PpmClient *client);
void      ppm_send_fail_all (PpmClient *client, const GError *error);
void      ppm_send_stop_watchdog (PpmClient *client);
void      pending_send_free (PendingSend *send);
void      ppm_send_rewatch_typing (PpmClient *client);

G_END_DECLS
