/* test-purple-networks.c: the plugin next to other networks in one libpurple
 * process, as in a real Pidgin: two PPMessage agent accounts on two test
 * servers and an IRC account (libpurple's own prpl-irc) on a real local IRC
 * server (ngircd, started here on a free loopback port with a throw-away
 * configuration). All three chat at the same time; then one PPMessage server
 * goes down, and the other PPMessage account and the IRC account must keep
 * working while the orphaned account reports a network error (which makes
 * Pidgin retry) and signs in again once its server is back.
 *
 * The IRC side: a second IRC user is a raw socket client in this test.
 * Skipped cleanly when ngircd is not installed or prpl-irc is not available.
 *
 * Beside IRC and XMPP: one PPMessage account, the IRC account and two XMPP
 * accounts (libpurple's prpl-jabber) on a local prosody, also started here
 * on a free loopback port with a throw-away configuration, chat at the same
 * time; prosody is stopped, and PPMessage and IRC chat on undisturbed.
 * Skipped when prosody is not installed.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "purple-harness.h"
#include "ppm-test-server.h"
#include "ppm-test-peer.h"
#include "local-servers.h"
#include "server-start.h"

/* libpurple keeps one account per user name and protocol: each server has
 * its own agent. */
#define AGENT_ONE      "alice@one.ppmessage.local"
#define AGENT_TWO      "bob@two.ppmessage.local"
#define AGENT_PASSWORD "agentpass"
#define IRC_OWN_NICK   "ppmagent"
#define IRC_PAL_NICK   "ircpal"
#define WAIT_MS        20000
/* Stopping a server: the websocket is retried after 1, 2 and 4 s first. */
#define GIVE_UP_MS     60000

/* A team with one agent (printf format: team name, e-mail). */
static const char TEAM_SEED_FORMAT[] =
  "{\"app\": {\"app_name\": \"%s\"},"
  " \"users\": ["
  "  {\"user_email\": \"%s\", \"password\": \"" AGENT_PASSWORD "\","
  "   \"user_fullname\": \"Agent of %s\", \"user_status\": \"OWNER_2\","
  "   \"is_service_user\": true, \"is_owner_user\": true}"
  " ]}";

/* ---- PPMessage side ---- */

static PpmsServer *
server_start (const char *team, const char *agent_email)
{
  g_autofree char *seed = g_strdup_printf (TEAM_SEED_FORMAT, team, agent_email, team);

  return server_start_with_seed (seed);
}

static void
visitor_says (PpmsPeer *visitor, const char *text)
{
  g_autofree char *uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                                               text);
  int code = -1;

  g_assert_nonnull (uuid);
  g_assert_true (ppms_peer_wait_ack (visitor, uuid, WAIT_MS, &code));
  g_assert_cmpint (code, ==, 0);
}

static PpmsPeer *
visitor_start (PpmsServer *server)
{
  GError *error = NULL;
  PpmsPeer *visitor = ppms_peer_new_visitor (ppms_server_get_url (server),
                                             ppms_server_app_uuid (server),
                                             ppms_server_ppcom_key (server),
                                             ppms_server_ppcom_secret (server), NULL);

  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
  /* A conversation shows in the agents' lists from its first message on. */
  visitor_says (visitor, "Hello, anyone there?");
  return visitor;
}

static PurpleAccount *
agent_sign_in (PpmsServer *server, const char *email, PpmsPeer *visitor)
{
  PurpleAccount *account = harness_add_account (ppms_server_get_url (server), email,
                                                AGENT_PASSWORD);

  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS))
    g_error ("the agent did not sign in to %s", ppms_server_get_url (server));
  g_assert_true (HARNESS_WAIT_FOR (harness_find_buddy (account, ppms_peer_user_uuid (visitor)),
                                   WAIT_MS));
  return account;
}

static PurpleAccount *
irc_sign_in (LocalServer *irc)
{
  PurpleAccount *account = purple_account_new (IRC_OWN_NICK "@127.0.0.1", "prpl-irc");

  purple_account_set_int (account, "port", (int) irc->port);
  purple_account_set_bool (account, "ssl", FALSE);
  purple_accounts_add (account);
  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS)) {
    const HarnessError *error = harness_find_error (account);

    g_error ("the IRC account did not sign in: %s\n%s",
             error != NULL ? error->text : "timeout", irc->log->str);
  }
  return account;
}

/* Sends from libpurple, as the Pidgin user typing into an IM window. */
static void
im_send (PurpleAccount *account, const char *who, const char *text)
{
  PurpleConversation *conv = purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, who,
                                                                    account);

  if (conv == NULL)
    conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  purple_conv_im_send (PURPLE_CONV_IM (conv), text);
}

static gboolean
received (PurpleAccount *account, const char *who, const char *text)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (writes, i);

    if (w->account == account && (w->flags & PURPLE_MESSAGE_RECV)
        && g_strcmp0 (w->conversation, who) == 0 && strstr (w->text, text) != NULL)
      return TRUE;
  }
  return FALSE;
}

static void
wait_received (PurpleAccount *account, const char *who, const char *text)
{
  if (!HARNESS_WAIT_FOR (received (account, who, text), WAIT_MS))
    g_error ("%s did not receive \"%s\" from %s", purple_account_get_username (account), text,
             who);
}

typedef struct {
  PpmsServer *server_one, *server_two;
  LocalServer *irc_server;
  PurpleAccount *one, *two, *irc;
  PpmsPeer *visitor_one, *visitor_two;
  IrcPal *pal;
} Networks;

/* One round of chatting on the accounts still expected to work: everybody
 * writes first, then everybody answers, then every message is checked. */
static void
chat_round (Networks *n, gboolean with_one, const char *tag)
{
  g_autofree char *to_one = g_strdup_printf ("Visitor one, %s", tag);
  g_autofree char *to_two = g_strdup_printf ("Visitor two, %s", tag);
  g_autofree char *to_irc = g_strdup_printf ("IRC pal, %s", tag);
  g_autofree char *reply_one = g_strdup_printf ("Agent on server one, %s", tag);
  g_autofree char *reply_two = g_strdup_printf ("Agent on server two, %s", tag);
  g_autofree char *reply_irc = g_strdup_printf ("Agent on IRC, %s", tag);

  if (with_one)
    visitor_says (n->visitor_one, to_one);
  visitor_says (n->visitor_two, to_two);
  irc_pal_say (n->pal, IRC_OWN_NICK, to_irc);

  if (with_one)
    wait_received (n->one, ppms_peer_user_uuid (n->visitor_one), to_one);
  wait_received (n->two, ppms_peer_user_uuid (n->visitor_two), to_two);
  wait_received (n->irc, IRC_PAL_NICK, to_irc);

  if (with_one)
    im_send (n->one, ppms_peer_user_uuid (n->visitor_one), reply_one);
  im_send (n->two, ppms_peer_user_uuid (n->visitor_two), reply_two);
  im_send (n->irc, IRC_PAL_NICK, reply_irc);

  if (with_one)
    g_assert_nonnull (ppms_peer_wait_message (n->visitor_one, reply_one, WAIT_MS));
  g_assert_nonnull (ppms_peer_wait_message (n->visitor_two, reply_two, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (irc_pal_heard (n->pal, IRC_OWN_NICK, reply_irc), WAIT_MS));
  /* Nothing crossed over between the networks. */
  g_assert_cmpuint (harness_count_writes (n->two, to_irc), ==, 0);
  g_assert_cmpuint (harness_count_writes (n->irc, to_two), ==, 0);
  if (with_one) {
    g_assert_cmpuint (harness_count_writes (n->one, to_two), ==, 0);
    g_assert_cmpuint (harness_count_writes (n->two, to_one), ==, 0);
  }
}

static void
assert_still_fine (PurpleAccount *account)
{
  g_assert_true (purple_account_is_connected (account));
  g_assert_null (harness_find_error (account));
}

/* Why the test cannot run here, or NULL. */
static const char *
skip_reason (char **ngircd)
{
  *ngircd = find_daemon ("ngircd");
  if (*ngircd == NULL)
    return "ngircd is not installed (package: ngircd)";
  if (purple_find_prpl ("prpl-irc") == NULL)
    return "libpurple's IRC protocol (prpl-irc) is not available";
  return NULL;
}

/* Both PPMessage servers and the IRC server up, every account signed in,
 * and a first round of chatting on all three at once. */
static void
networks_start (Networks *n, const char *ngircd)
{
  n->server_one = server_start ("Team One", AGENT_ONE);
  n->server_two = server_start ("Team Two", AGENT_TWO);
  n->irc_server = irc_server_start (ngircd);
  n->visitor_one = visitor_start (n->server_one);
  n->visitor_two = visitor_start (n->server_two);
  n->one = agent_sign_in (n->server_one, AGENT_ONE, n->visitor_one);
  n->two = agent_sign_in (n->server_two, AGENT_TWO, n->visitor_two);
  n->irc = irc_sign_in (n->irc_server);
  n->pal = irc_pal_connect (n->irc_server, IRC_PAL_NICK);
  chat_round (n, TRUE, "all three at once");
}

static void
networks_stop (Networks *n)
{
  irc_pal_free (n->pal);
  harness_disconnect (n->irc);
  harness_disconnect (n->one);
  harness_disconnect (n->two);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (n->one)
                                   && purple_account_is_disconnected (n->two)
                                   && purple_account_is_disconnected (n->irc), WAIT_MS));
  ppms_peer_free (n->visitor_one);
  ppms_peer_free (n->visitor_two);
  local_server_free (n->irc_server);
  ppms_server_free (n->server_one);
  ppms_server_free (n->server_two);
}

/* The visitor's page reconnects by itself; the test peer does it by hand. */
static void
visitor_reconnects (PpmsPeer *visitor)
{
  GError *error = NULL;

  ppms_peer_close (visitor);
  g_assert_true (ppms_peer_start_sync (visitor, &error));
  g_assert_no_error (error);
}

static void
test_one_server_down (void)
{
  g_autofree char *ngircd = NULL;
  const char *skip = skip_reason (&ngircd);
  Networks n = { 0 };
  GError *error = NULL;
  const HarnessError *lost;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  networks_start (&n, ngircd);

  /* Server one goes down. While its account tries to get back (and after it
   * gave up), the other accounts chat on undisturbed. */
  ppms_server_stop (n.server_one);
  chat_round (&n, FALSE, "while server one is down");
  if (!HARNESS_WAIT_FOR (harness_find_error (n.one) != NULL, GIVE_UP_MS))
    g_error ("the account of the stopped server reported nothing");
  lost = harness_find_error (n.one);
  g_assert_cmpint (lost->reason, ==, PURPLE_CONNECTION_ERROR_NETWORK_ERROR);
  g_assert_false (purple_connection_error_is_fatal (lost->reason)); /* Pidgin retries */
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (n.one), WAIT_MS));
  chat_round (&n, FALSE, "after server one was given up");
  assert_still_fine (n.two);
  assert_still_fine (n.irc);

  /* Server one is back: the account signs in again (as Pidgin's reconnect
   * does) and catches up with what its visitor wrote meanwhile. */
  g_assert_true (ppms_server_restart (n.server_one, &error));
  g_assert_no_error (error);
  visitor_reconnects (n.visitor_one);
  visitor_says (n.visitor_one, "Are you back?");
  harness_connect (n.one);
  /* (harness_wait_connected would stop at the error reported earlier.) */
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_connected (n.one), WAIT_MS));
  wait_received (n.one, ppms_peer_user_uuid (n.visitor_one), "Are you back?");
  chat_round (&n, TRUE, "all three again");
  assert_still_fine (n.two);
  assert_still_fine (n.irc);

  networks_stop (&n);
}

/* A short outage (the server is back before the library gives up): the
 * account repairs its connection by itself, without an error, and what its
 * visitor wrote meanwhile arrives once. The other accounts never notice. */
static void
test_one_server_blips (void)
{
  g_autofree char *ngircd = NULL;
  const char *skip = skip_reason (&ngircd);
  Networks n = { 0 };
  GError *error = NULL;

  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  networks_start (&n, ngircd);

  ppms_server_stop (n.server_one);
  g_assert_true (ppms_server_restart (n.server_one, &error));
  g_assert_no_error (error);
  visitor_reconnects (n.visitor_one);
  visitor_says (n.visitor_one, "Did you see my message?");
  wait_received (n.one, ppms_peer_user_uuid (n.visitor_one), "Did you see my message?");
  g_assert_true (HARNESS_WAIT_FOR (ppms_server_count_sockets (n.server_one) == 2, WAIT_MS));
  chat_round (&n, TRUE, "after the blip");
  g_assert_cmpuint (harness_count_writes (n.one, "Did you see my message?"), ==, 1);
  assert_still_fine (n.one);
  assert_still_fine (n.two);
  assert_still_fine (n.irc);

  networks_stop (&n);
}

/* ---- PPMessage beside IRC and XMPP ---- */

static PurpleAccount *
xmpp_sign_in (LocalServer *xmpp, const char *user)
{
  g_autofree char *jid = g_strdup_printf ("%s@" XMPP_DOMAIN "/tests", user);
  PurpleAccount *account = purple_account_new (jid, "prpl-jabber");

  purple_account_set_password (account, XMPP_PASSWORD);
  purple_account_set_string (account, "connect_server", "127.0.0.1");
  purple_account_set_int (account, "port", (int) xmpp->port);
  purple_account_set_string (account, "connection_security", "opportunistic_tls");
  purple_account_set_bool (account, "auth_plain_in_clear", TRUE);
  purple_accounts_add (account);
  harness_connect (account);
  if (!harness_wait_connected (account, WAIT_MS)) {
    const HarnessError *error = harness_find_error (account);

    g_error ("the XMPP account %s did not sign in: %s\n%s", jid,
             error != NULL ? error->text : "timeout", xmpp->log->str);
  }
  return account;
}

/* A message with text received on the account, from whichever resource. */
static gboolean
received_anywhere (PurpleAccount *account, const char *text)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = 0; i < writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (writes, i);

    if (w->account == account && (w->flags & PURPLE_MESSAGE_RECV) && strstr (w->text, text) != NULL)
      return TRUE;
  }
  return FALSE;
}

typedef struct {
  PpmsServer *server;
  LocalServer *irc_server, *xmpp_server;
  PpmsPeer *visitor;
  IrcPal *pal;
  PurpleAccount *ppm, *irc, *xmpp, *xmpp_pal;
} ThreeNetworks;

/* Everybody writes first, then everybody answers, then every message is
 * checked: the networks carry messages at the same time. */
static void
three_networks_round (ThreeNetworks *t, gboolean with_xmpp, const char *tag)
{
  g_autofree char *to_ppm = g_strdup_printf ("PPMessage visitor, %s", tag);
  g_autofree char *to_irc = g_strdup_printf ("IRC pal, %s", tag);
  g_autofree char *to_xmpp = g_strdup_printf ("XMPP pal, %s", tag);
  g_autofree char *reply_ppm = g_strdup_printf ("Agent on PPMessage, %s", tag);
  g_autofree char *reply_irc = g_strdup_printf ("Agent on IRC, %s", tag);
  g_autofree char *reply_xmpp = g_strdup_printf ("Agent on XMPP, %s", tag);

  visitor_says (t->visitor, to_ppm);
  irc_pal_say (t->pal, IRC_OWN_NICK, to_irc);
  if (with_xmpp)
    im_send (t->xmpp_pal, "agent@" XMPP_DOMAIN, to_xmpp);

  wait_received (t->ppm, ppms_peer_user_uuid (t->visitor), to_ppm);
  wait_received (t->irc, IRC_PAL_NICK, to_irc);
  if (with_xmpp)
    g_assert_true (HARNESS_WAIT_FOR (received_anywhere (t->xmpp, to_xmpp), WAIT_MS));

  im_send (t->ppm, ppms_peer_user_uuid (t->visitor), reply_ppm);
  im_send (t->irc, IRC_PAL_NICK, reply_irc);
  if (with_xmpp)
    im_send (t->xmpp, "pal@" XMPP_DOMAIN, reply_xmpp);

  g_assert_nonnull (ppms_peer_wait_message (t->visitor, reply_ppm, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (irc_pal_heard (t->pal, IRC_OWN_NICK, reply_irc), WAIT_MS));
  if (with_xmpp)
    g_assert_true (HARNESS_WAIT_FOR (received_anywhere (t->xmpp_pal, reply_xmpp), WAIT_MS));
  /* Nothing crossed over between the networks, nothing came twice. */
  g_assert_cmpuint (harness_count_writes (t->ppm, to_irc), ==, 0);
  g_assert_cmpuint (harness_count_writes (t->ppm, to_xmpp), ==, 0);
  g_assert_cmpuint (harness_count_writes (t->irc, to_ppm), ==, 0);
  g_assert_cmpuint (harness_count_writes (t->xmpp, to_ppm), ==, 0);
  g_assert_cmpuint (harness_count_writes (t->ppm, to_ppm), ==, 1);
}

/* The plugin, libpurple's IRC on ngircd and libpurple's XMPP on prosody in
 * one process, all three chatting at once; then the XMPP server stops, its
 * accounts report a network error, and the other two chat on undisturbed. */
static void
test_beside_irc_and_xmpp (void)
{
  g_autofree char *ngircd = NULL;
  g_autofree char *prosody = find_daemon ("prosody");
  const char *skip = skip_reason (&ngircd);
  ThreeNetworks t = { 0 };
  const HarnessError *lost;

  if (skip == NULL && prosody == NULL)
    skip = "prosody is not installed (package: prosody)";
  if (skip == NULL && purple_find_prpl ("prpl-jabber") == NULL)
    skip = "libpurple's XMPP protocol (prpl-jabber) is not available";
  if (skip != NULL) {
    g_test_skip (skip);
    return;
  }
  t.server = server_start ("Team One", AGENT_ONE);
  t.visitor = visitor_start (t.server);
  t.irc_server = irc_server_start (ngircd);
  t.xmpp_server = xmpp_server_start (prosody);
  t.ppm = agent_sign_in (t.server, AGENT_ONE, t.visitor);
  t.irc = irc_sign_in (t.irc_server);
  t.xmpp = xmpp_sign_in (t.xmpp_server, "agent");
  t.xmpp_pal = xmpp_sign_in (t.xmpp_server, "pal");
  t.pal = irc_pal_connect (t.irc_server, IRC_PAL_NICK);
  three_networks_round (&t, TRUE, "all three at once");

  local_server_free (t.xmpp_server);
  if (!HARNESS_WAIT_FOR (harness_find_error (t.xmpp) != NULL, WAIT_MS))
    g_error ("the XMPP account did not notice its server stopped");
  lost = harness_find_error (t.xmpp);
  g_assert_cmpint (lost->reason, ==, PURPLE_CONNECTION_ERROR_NETWORK_ERROR);
  three_networks_round (&t, FALSE, "after the XMPP server stopped");
  assert_still_fine (t.ppm);
  assert_still_fine (t.irc);

  irc_pal_free (t.pal);
  harness_disconnect (t.irc);
  harness_disconnect (t.ppm);
  g_assert_true (HARNESS_WAIT_FOR (purple_account_is_disconnected (t.ppm)
                                   && purple_account_is_disconnected (t.irc), WAIT_MS));
  ppms_peer_free (t.visitor);
  local_server_free (t.irc_server);
  ppms_server_free (t.server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/networks/one-server-down", test_one_server_down);
  harness_add_test ("/purple/networks/one-server-blips", test_one_server_blips);
  harness_add_test ("/purple/networks/beside-irc-and-xmpp", test_beside_irc_and_xmpp);
  return g_test_run ();
}
