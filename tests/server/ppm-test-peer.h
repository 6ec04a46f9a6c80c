/* ppm-test-peer.h: a scripted PPMessage client for tests, the demo and
 * benchmarks. It speaks the real protocol (HTTP + websocket, libsoup 3) as a
 * PPCom-like visitor or a PPKefu-like agent. Everything runs on the
 * thread-default GLib main context; the *_sync and wait functions iterate that
 * context until the event happens or the timeout expires (never sleep).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _PpmsPeer PpmsPeer;

/* Iterates the thread-default main context (the global default when none is
 * pushed) until cond (data) is TRUE or timeout_ms (times HARNESS_TIMEOUT_SCALE
 * when set, for valgrind) passes. Returns cond's last value. The one way tests
 * wait for something. */
gboolean ppms_wait_until (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms);
/* Same for an expression, evaluated again after each main-loop iteration:
 * PPMS_WAIT_FOR (f->messages->len >= 2, WAIT_MS). */
#define PPMS_WAIT_FOR(expr, timeout_ms) \
  ({ gint64 _ppms_deadline = ppms_deadline_ (timeout_ms); gboolean _ppms_ok; \
     while (!(_ppms_ok = !!(expr)) && ppms_iterate_until_ (_ppms_deadline)) \
       ; \
     _ppms_ok; })
gint64   ppms_deadline_ (guint timeout_ms);
gboolean ppms_iterate_until_ (gint64 deadline);
/* Runs that main context for ms, never scaled: pacing, not a timeout. */
void ppms_run_for (guint ms);
/* Removes a directory and everything below it (links are not followed). */
void ppms_remove_tree (const char *path);

/* An anonymous PPCom visitor. trace_id is PPCom's ppcom_trace_uuid cookie
 * (NULL: a random one); the same trace id comes back as the same visitor. */
PpmsPeer *ppms_peer_new_visitor (const char *server_url, const char *app_uuid,
                                 const char *ppcom_key, const char *ppcom_secret,
                                 const char *trace_id);
/* A named (known web-site user) visitor, signed in with PP_GET_USER_UUID. */
PpmsPeer *ppms_peer_new_named_visitor (const char *server_url, const char *app_uuid,
                                       const char *ppcom_key, const char *ppcom_secret,
                                       const char *email, const char *fullname);
/* A PPKefu agent: password grant (password in clear, sent as its SHA-1 hex)
 * and PPKEFU_LOGIN from this terminal (NULL: a random one). */
PpmsPeer *ppms_peer_new_agent (const char *server_url, const char *ppkefu_key,
                               const char *email, const char *password,
                               const char *terminal);
void      ppms_peer_free (PpmsPeer *peer);
/* Agent only, before start: the ostype PPKEFU_LOGIN sends. "LIB" (the
 * default) is a browser-class device, "android" or "ios" a phone, which a
 * browser login does not kick (transcript 12). */
void      ppms_peer_set_agent_ostype (PpmsPeer *peer, const char *ostype);

/* Signs in, (visitor) gets the default conversation through the distributor,
 * opens the websocket and authenticates it. Timeout: 10 s. */
gboolean  ppms_peer_start_sync (PpmsPeer *peer, GError **error);
/* Closes the websocket (the peer keeps its identity and can start again). */
void      ppms_peer_close (PpmsPeer *peer);

const char *ppms_peer_user_uuid (PpmsPeer *peer);
const char *ppms_peer_device_uuid (PpmsPeer *peer);
const char *ppms_peer_app_uuid (PpmsPeer *peer);
const char *ppms_peer_token (PpmsPeer *peer);
/* Visitor: its default conversation. Agent: NULL until it opens one. */
const char *ppms_peer_conversation_uuid (PpmsPeer *peer);
gboolean    ppms_peer_is_connected (PpmsPeer *peer);
/* TRUE once a SYS/LOGOUT (kick) frame arrived. */
gboolean    ppms_peer_was_kicked (PpmsPeer *peer);

/* POSTs /api/<name> with the peer's token. An agent's body gets app_uuid,
 * user_uuid and device_uuid when it lacks them, as PPKefu does. Returns the
 * reply object (new reference), or NULL with error on a transport failure,
 * non-200 status or non-object body. A non-zero error_code is NOT an error
 * here: read it from the reply. body may be NULL (empty object). */
JsonObject *ppms_peer_api_sync (PpmsPeer *peer, const char *name, JsonObject *body,
                                GError **error);

/* Sends a TEXT over the websocket; returns the message uuid (g_free), or NULL
 * when not connected. An agent sends S2P to a visitor conversation and S2S to
 * an agent conversation (looked up with PP_GET_CONVERSATION_INFO once). */
char     *ppms_peer_send_text (PpmsPeer *peer, const char *conversation_uuid, const char *text);
/* Sends any subtype with a raw message_body (IMAGE/FILE: {"fid","mime"} JSON). */
char     *ppms_peer_send_message (PpmsPeer *peer, const char *conversation_uuid,
                                  const char *subtype, const char *message_body);
/* Uploads to /upload/upload/ (multipart field "file"); returns the fuuid. */
char     *ppms_peer_upload_sync (PpmsPeer *peer, const char *filename, const char *mime,
                                 GBytes *data, GError **error);
/* Waits for the ACK SEND of that message; *code gets its code. */
gboolean  ppms_peer_wait_ack (PpmsPeer *peer, const char *message_uuid, guint timeout_ms,
                              int *code);

/* Waits for a received MSG whose "bo" contains text (NULL: any), removes it
 * from the queue and returns its "msg" object (owned by the peer, valid until
 * the peer is freed). Every MSG is acknowledged with ACK_MESSAGE on arrival. */
const JsonObject *ppms_peer_wait_message (PpmsPeer *peer, const char *text, guint timeout_ms);
typedef gboolean (*PpmsMessagePredicate) (const JsonObject *msg, gpointer data);
const JsonObject *ppms_peer_wait_message_match (PpmsPeer *peer, PpmsMessagePredicate pred,
                                                gpointer data, guint timeout_ms);
/* MSG frames received so far (consumed or not). */
guint     ppms_peer_count_received (PpmsPeer *peer);

/* typing_watch / typing; waits for a TYPING frame (counts them). */
void      ppms_peer_watch_typing (PpmsPeer *peer, const char *conversation_uuid);
void      ppms_peer_send_typing (PpmsPeer *peer);
gboolean  ppms_peer_wait_typing (PpmsPeer *peer, guint timeout_ms);

/* Agent: PP_CREATE_CONVERSATION S2S with one colleague; returns its uuid. */
char     *ppms_peer_create_s2s_sync (PpmsPeer *peer, const char *other_user_uuid,
                                     const char *conversation_name, GError **error);

/* Agent: PP_UPDATE_CONVERSATION_MEMBER ADD of one user (the way PPKefu
 * grows a group the server created with one member); FALSE with error. */
gboolean  ppms_peer_add_member_sync (PpmsPeer *peer, const char *conversation_uuid,
                                    const char *user_uuid, GError **error);

/* Auto-responder: for every MSG from someone else, the callback may return a
 * reply text (g_free'd by the peer) that is sent to the same conversation. */
typedef char *(*PpmsAutoReply) (PpmsPeer *peer, const JsonObject *msg, gpointer data);
void      ppms_peer_set_auto_reply (PpmsPeer *peer, PpmsAutoReply reply, gpointer data);

/* The demo's scripted visitor: starts a visitor named `name` (NULL: an
 * anonymous one), greets, and answers every agent message. Returns the running
 * peer (free it to stop) or NULL with error. The caller runs the main loop. */
PpmsPeer *ppms_peer_start_demo_visitor (const char *server_url, const char *app_uuid,
                                        const char *ppcom_key, const char *ppcom_secret,
                                        const char *name, GError **error);

G_END_DECLS
