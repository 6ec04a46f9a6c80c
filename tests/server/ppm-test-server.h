/* ppm-test-server.h: a double of the PPMessage server for tests, the demo and
 * benchmarks. REST, token service, websocket push, files and key-discovery
 * assets, faithful to ../shared/protocol/transcripts (server bugs included).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _PpmsServer PpmsServer;

/* Creates a server seeded from a JSON data file (see tests/data/README.md for
 * the format), or with the built-in default team when seed_path is NULL.
 * The server attaches its sources to the thread-default main context at the
 * time of ppms_server_listen(). */
PpmsServer *ppms_server_new (const char *seed_path, GError **error);
/* Same, from a JSON document in memory. */
PpmsServer *ppms_server_new_from_data (const char *seed_json, GError **error);
/* Adds a generated scenario: spec_json is the object of the seed format's
 * "generate" member (tests/data/README.md), e.g. {"conversations": 20000,
 * "messages_per_conversation": 10, "seed": 42}. Deterministic for a spec. */
gboolean    ppms_server_generate (PpmsServer *server, const char *spec_json, GError **error);
void        ppms_server_free (PpmsServer *server);

/* Listens on 127.0.0.1 only; port 0 picks a free port. */
gboolean    ppms_server_listen (PpmsServer *server, guint port, GError **error);
/* Same, but the port speaks TLS only (https and wss) with this certificate
 * and private key (PEM files, e.g. tests/data/tls/). restart() keeps TLS. */
gboolean    ppms_server_listen_tls (PpmsServer *server, guint port, const char *cert_pem_path,
                                    const char *key_pem_path, GError **error);
guint       ppms_server_get_port (PpmsServer *server);
/* "http://127.0.0.1:<port>" ("https://" with TLS), owned by the server. */
const char *ppms_server_get_url (PpmsServer *server);

/* Stops listening and drops every connection and socket; the data is kept.
 * ppms_server_restart() listens again on the same port. */
void        ppms_server_stop (PpmsServer *server);
gboolean    ppms_server_restart (PpmsServer *server, GError **error);

/* Timers of the real server (send 50 ms, ack 100 ms, typing 1 s, distributor
 * 1 s, forced logout 1 s). Tests may scale them down, never to zero: acks and
 * pushes stay asynchronous. 1.0 is the real server's timing. */
void        ppms_server_set_timer_scale (PpmsServer *server, double scale);

/* ONLINE frames are never delivered by the shipped server (its typo). TRUE
 * delivers them in the shape of transcript 05b. Default FALSE. */
void        ppms_server_set_deliver_online (PpmsServer *server, gboolean deliver);

/* PP_GET_ALL_PREDEFINED_SCRIPT answers one null per script as shipped (its
 * detail function returns nothing). TRUE answers the scripts themselves
 * ({uuid, app_uuid, group_uuid, script_question, script_answer}), as the
 * handler means to. Default FALSE. */
void        ppms_server_set_return_predefined_scripts (PpmsServer *server, gboolean on);

/* A file of tests/data/tls (test-only certificates and keys) as an
 * absolute path (g_free), for a test run from the top of the tree as
 * `make check` runs them. */
char       *ppms_test_tls_file (const char *name);

/* A valid RGB PNG of this size with a gradient (each size its own bytes),
 * for tests to send as a picture. */
GBytes     *ppms_test_png (guint width, guint height);

/* ---- Fault injection (control surface for tests) ---- */
typedef enum {
  PPMS_FAULT_NONE = 0,
  PPMS_FAULT_HTTP_500,        /* answer HTTP 500 with a text body */
  PPMS_FAULT_MALFORMED_JSON,  /* answer 200 with a body that is not JSON */
  PPMS_FAULT_TRUNCATED_JSON,  /* answer 200 with the real body cut in half */
  PPMS_FAULT_STALL,           /* accept the request, never answer */
  PPMS_FAULT_DELAY,           /* answer after delay_ms */
  PPMS_FAULT_500_AFTER_WORK,  /* do what was asked (store, ack, ...), then answer HTTP 500 */
  PPMS_FAULT_STALL_HALFWAY,   /* answer with the whole length announced, send half, stall */
} PpmsFaultKind;

/* Applies a fault to HTTP requests whose path contains path_match (NULL: all
 * requests), with the given probability (1.0: every one), until cleared.
 * probability < 1.0 draws from a generator seeded with `seed` so runs repeat. */
void        ppms_server_set_http_fault (PpmsServer *server, PpmsFaultKind kind,
                                        const char *path_match, double probability,
                                        guint delay_ms, guint32 seed);
void        ppms_server_clear_faults (PpmsServer *server);
/* Resets the connections of stalled and delayed requests, as a network
 * that comes back after a partition does (the clients see an error). */
void        ppms_server_reset_stalled_requests (PpmsServer *server);
/* Closes every open websocket (of the fault target) abruptly (no close frame). */
void        ppms_server_drop_websockets (PpmsServer *server);
/* Websocket stall (of the fault target): accept new sockets and frames but never answer. */
void        ppms_server_set_ws_stall (PpmsServer *server, gboolean stall);
/* Aims the faults above (and ws_down) at one client: only HTTP requests and
 * websockets whose User-Agent contains user_agent_match are hit, so the
 * other clients (the test peers) stay healthy. NULL: every client (the
 * default). Kept until changed; ppms_server_clear_faults() keeps it. */
void        ppms_server_set_fault_target (PpmsServer *server, const char *user_agent_match);
/* While TRUE, every websocket of the fault target is aborted as soon as it
 * opens (drop_websockets once, and again for each new one). */
void        ppms_server_set_ws_down (PpmsServer *server, gboolean down);

/* A lost ACK SEND: every `every`-th "send" of the user is stored and
 * dispatched as usual, but its ACK SEND is dropped and the sender's socket
 * aborted, before or after the push to the other members went out; until
 * cleared (ppms_server_clear_faults). ACKs queued for that socket are lost
 * with it. */
typedef enum {
  PPMS_ACK_LOSS_NONE = 0,
  PPMS_ACK_LOSS_BEFORE_PUSH,
  PPMS_ACK_LOSS_AFTER_PUSH,
} PpmsAckLoss;
void        ppms_server_set_ack_loss (PpmsServer *server, PpmsAckLoss when,
                                      const char *user_uuid, guint every);

/* ---- Inspection, for assertions ---- */
/* Number of authenticated websockets currently registered. */
guint       ppms_server_count_sockets (PpmsServer *server);
/* Number of websockets accepted since the server was created. */
guint       ppms_server_count_websockets_opened (PpmsServer *server);
/* Number of HTTP connections the clients hold open now, busy or kept alive
 * (websockets are not counted), of those whose first request's User-Agent
 * contains user_agent_match (NULL: all). */
guint       ppms_server_count_http_connections (PpmsServer *server,
                                                const char *user_agent_match);
/* Number of HTTP requests received so far whose path contains path_match
 * (NULL: all), e.g. "/api/" for API calls; benchmarks count a client's calls. */
guint       ppms_server_count_requests (PpmsServer *server, const char *path_match);
/* Number of pushes to this user not acknowledged yet (PUSHED). */
guint       ppms_server_count_unacked_pushes (PpmsServer *server, const char *user_uuid);
/* Number of messages stored in a conversation (0 when unknown). */
guint       ppms_server_count_messages (PpmsServer *server, const char *conversation_uuid);
/* UUID of the user with this e-mail, or NULL. */
const char *ppms_server_user_uuid_by_email (PpmsServer *server, const char *email);
/* The app (team) uuid, and the public API keys. */
const char *ppms_server_app_uuid (PpmsServer *server);
const char *ppms_server_ppkefu_key (PpmsServer *server);
const char *ppms_server_ppcom_key (PpmsServer *server);
const char *ppms_server_ppcom_secret (PpmsServer *server);
/* PPConsole's "enterprise" link: the PPCom page of the server's team, the
 * server URL of a visitor account and the bridge's team link (g_free). */
char       *ppms_server_enterprise_link (PpmsServer *server);
/* Service-user status of a user (READY, BUSY, REST) or NULL. */
const char *ppms_server_user_service_status (PpmsServer *server, const char *user_uuid);
/* Serialises the current data in the seed format. */
char       *ppms_server_dump_data (PpmsServer *server);

/* ---- Exchange log: what each client sent and received, in order ----
 * Every HTTP request and answer and every websocket frame in and out, in
 * the order the server saw them, written as the index of the recordings
 * (../shared/protocol/transcripts/INDEX.md) writes them, from the client's
 * side: "-> POST /api/PPKEFU_LOGIN", "<- 200 /api/PPKEFU_LOGIN error_code=0",
 * "ws_open 101", "=> ws auth", "<= ws ACK what=AUTH code=0",
 * "<= ws MSG mt=NOTI ms=TEXT ct=P2S", "ws_close client". Off by default (the
 * scale tests push 200,000 messages); bounded to 100,000 entries between
 * two takes. */
typedef enum {
  PPMS_LOG_HTTP_REQUEST,
  PPMS_LOG_HTTP_ANSWER,
  PPMS_LOG_WS_OPEN,
  PPMS_LOG_WS_IN,             /* a frame the client sent */
  PPMS_LOG_WS_OUT,            /* a frame the server sent */
  PPMS_LOG_WS_CLOSE,
} PpmsLogKind;

typedef struct {
  guint connection;           /* the TCP connection: 1, 2, ... as the server first logged them */
  char *actor;                /* the first product of the User-Agent ("purple-ppmessage" for
                               * the client library, "ppm-test-peer" for peers), "" without one */
  PpmsLogKind kind;
  char *name;                 /* API name or path ("PPKEFU_LOGIN", "/ppauth/token"), frame type */
  char *line;                 /* the line as above */
  JsonObject *body;           /* the request, answer or frame; NULL when it is not a JSON object */
} PpmsLogEntry;

/* Switches the log on or off; either way it starts empty. */
void        ppms_server_set_logging (PpmsServer *server, gboolean on);
/* The entries so far (PpmsLogEntry*, oldest first, the array frees them);
 * the log starts again empty. */
GPtrArray  *ppms_server_take_log (PpmsServer *server);
void        ppms_log_entry_free (PpmsLogEntry *entry);
/* Entries not yet taken of this actor (NULL: any) whose line matches the
 * glob pattern: what a test waits for to end a step. */
guint       ppms_server_log_count (PpmsServer *server, const char *actor, const char *pattern);
/* Removes from a taken log the entries of this actor (NULL: any) whose line
 * matches the pattern, and says how many: for requests whose number depends
 * on timing (a poll), which a test then bounds on its own. */
guint       ppms_log_remove (GPtrArray *log, const char *actor, const char *pattern);

/* Asserts that the entries of this actor (NULL: every client) are exactly
 * these lines, glob patterns, in this order, and nothing else; on failure
 * the message is a diff of the expected lines against those seen. */
#define ppms_assert_log(log, actor, ...) \
  ppms_assert_log_ ((log), (actor), (const char *const[]) { __VA_ARGS__, NULL }, \
                    __FILE__, __LINE__, G_STRFUNC)
/* Same on the log taken from the server now. ppms_assert_exchange (server,
 * actor, NULL): the actor did nothing since the last take. */
#define ppms_assert_exchange(server, actor, ...) \
  ppms_assert_exchange_ ((server), (actor), (const char *const[]) { __VA_ARGS__, NULL }, \
                         __FILE__, __LINE__, G_STRFUNC)
void        ppms_assert_log_ (GPtrArray *log, const char *actor, const char *const *patterns,
                              const char *file, int line, const char *func);
void        ppms_assert_exchange_ (PpmsServer *server, const char *actor,
                                   const char *const *patterns, const char *file, int line,
                                   const char *func);

G_END_DECLS
