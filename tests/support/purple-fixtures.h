/* purple-fixtures.h: the common cast of the plugin tests: a test server
 * with a two-agent team, visitors and colleagues as test peers, and the
 * plugin's agent account signing in and out, with waits that fail the test
 * when the awaited thing does not happen.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "purple-harness.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "server-start.h"

G_BEGIN_DECLS

#define AGENT_EMAIL    "agent@ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define AGENT_NAME     "Alice Agent"
#define BOB_EMAIL      "bob@ppmessage.local"
#define BOB_PASSWORD   "bobpass"
#define BOB_NAME       "Bob Assistance"
#define TEAM_NAME      "Demo Team"
#define VISITOR_GREETING "Hello, I have a question"
#define WAIT_MS        15000
/* The plugin keeps a typing notice 6 s; allow for a loaded machine. */
#define PPM_TYPING_TIMEOUT_TEST_MS 12000

/* A test server with the team (TEAM_NAME: Alice, owner, and Bob), fast timers. */
PpmsServer *server_start (void);
/* The team's server speaking https and wss only, with this certificate. */
PpmsServer *server_start_tls (const char *cert_pem_path, const char *key_pem_path);
/* An anonymous visitor whose conversation has its first message (VISITOR_GREETING). */
PpmsPeer *visitor_start (PpmsServer *server);
/* A PPKefu agent peer, signed in (browser-class: it kicks the plugin's
 * session of the same agent; see ppms_peer_set_agent_ostype). */
PpmsPeer *colleague_start (PpmsServer *server, const char *email, const char *password);
const char *visitor_name (PpmsServer *server, PpmsPeer *visitor);

/* The plugin's agent account, signed in (the test fails otherwise). */
PurpleAccount *agent_sign_in_as (PpmsServer *server, const char *email, const char *password);
PurpleAccount *agent_sign_in (PpmsServer *server);
/* Alice's account, not signed in yet (to change its settings first). */
PurpleAccount *agent_account (PpmsServer *server);
/* Signed in, with the visitor's buddy on the list. */
PurpleAccount *agent_with_visitor (PpmsServer *server, PpmsPeer *visitor);
void sign_out (PurpleAccount *account);
/* Signs an existing account in and waits (the test fails otherwise). */
void sign_in_again (PurpleAccount *account);

/* The first write of the account containing text, waited for. */
const HarnessWrite *wait_write (PurpleAccount *account, const char *text);
/* The last transfer of this type that libpurple destroyed, waited for. */
HarnessXfer *wait_xfer_ended (PurpleXferType type);
/* TRUE once the server has the push of this message to this user acknowledged. */
gboolean push_acked (PpmsServer *server, const char *message_uuid, const char *user_uuid);
/* The debug log holds no password, password hash, token, API key or secret. */
void assert_log_has_no_secrets (PpmsServer *server, const char *password);
/* Types html into the IM window with who, as a Pidgin user would. */
void send_from_pidgin (PurpleAccount *account, const char *who, const char *html);
/* A peer's message, stored (acknowledged) by the server. */
void send_and_wait_ack (PpmsPeer *peer, const char *conversation_uuid, const char *text);
/* A valid RGB PNG of this size with a gradient (each size its own bytes). */
GBytes *test_png (guint width, guint height);
/* What the server stores under fid, fetched as any client would (the
 * server runs on this main loop: no synchronous request). */
GBytes *server_file (PpmsServer *server, const char *fid);
/* A received message's body ("bo"), a JSON object (FILE, IMAGE). */
JsonObject *message_body_object (const JsonObject *msg);
/* The account's first write whose text is exactly text, or NULL; how many. */
const HarnessWrite *find_exact_write (PurpleAccount *account, const char *text);
guint count_exact_writes (PurpleAccount *account, const char *text);

G_END_DECLS
