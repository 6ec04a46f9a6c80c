/* local-servers.h: real servers of other networks for the tests, run in
 * the foreground on a free loopback port with a throw-away configuration
 * (ngircd for IRC, prosody for XMPP), and a second IRC user as a raw
 * socket client.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LOCAL_WAIT_MS 20000
#define XMPP_DOMAIN   "localhost"
#define XMPP_PASSWORD "xmpppass"

/* A server program run with a throw-away configuration in its own
 * directory, on a free loopback port; its output tells when it listens. */
typedef struct {
  GSubprocess *process;
  GDataInputStream *output;
  GCancellable *cancel;
  GString *log;
  guint port;
  char *dir;
  char *ready_text;         /* printed once it listens on port */
  const char *failed_text;  /* printed when it could not listen (it may run on) */
  gboolean ready;
  gboolean failed;
  gboolean output_closed;
} LocalServer;

/* Writes the configuration for server->port into server->dir and returns
 * the command line that runs the server in the foreground with it. */
typedef GStrv (*LocalServerConfigure) (LocalServer *server, const char *program);

/* The program by name, also in /usr/sbin (g_free), or NULL. */
char *find_daemon (const char *name);
/* A loopback port nobody listens on right now. */
guint free_loopback_port (void);
void write_config (const char *path, const char *config);
/* Starts it (a few attempts); the test fails when it does not come up. */
LocalServer *local_server_start (const char *program, LocalServerConfigure configure,
                                 const char *ready_format, const char *failed_text);
void local_server_free (LocalServer *server);
LocalServer *irc_server_start (const char *ngircd);
/* With the users "agent" and "pal" (password XMPP_PASSWORD). */
LocalServer *xmpp_server_start (const char *prosody);
/* Each on the other's roster with presence both ways (one other each: the
 * roster is written whole), as XMPP chat states need; before they sign in. */
void         xmpp_server_befriend (LocalServer *xmpp, const char *user, const char *other);

typedef struct {
  GSocketConnection *connection;
  GDataInputStream *input;
  GCancellable *cancel;
  GPtrArray *privmsgs;      /* "sender text" of every PRIVMSG received */
  GPtrArray *ison_replies;  /* the nicks online of each ISON answer (RPL_ISON 303) */
  gboolean registered;      /* got 001 */
  gboolean closed;
} IrcPal;

IrcPal  *irc_pal_connect (LocalServer *irc, const char *nick);
void     irc_pal_send (IrcPal *pal, const char *line);
void     irc_pal_say (IrcPal *pal, const char *to, const char *text);
/* A PRIVMSG from this sender with exactly this text was received. */
gboolean irc_pal_heard (IrcPal *pal, const char *from, const char *text);
void     irc_pal_free (IrcPal *pal);
/* Asks the server until nick is nobody's (a client that quit may hold it
 * a moment longer); the test fails if it stays taken. */
void     irc_pal_wait_nick_free (IrcPal *pal, const char *nick);

/* A file the pal offers by DCC SEND: a listener of its own on a loopback
 * port sends the bytes to the one receiver that connects and reads its
 * acknowledgements (the running count of bytes received). */
typedef struct {
  GSocketListener *listener;
  GSocketConnection *connection;
  GCancellable *cancel;
  GBytes *data;
  guint8 ack[4];
  guint32 acked;            /* the receiver's last count */
  gboolean finished;        /* all acknowledged, or the receiver hung up */
  guint pending;            /* its operations under way */
} IrcDccOffer;

/* name: without spaces (it goes unquoted). */
IrcDccOffer *irc_pal_offer_file (IrcPal *pal, const char *to, const char *name, GBytes *data);
/* The same announcing announced_size bytes: with more than data holds,
 * the pal closes once data is acknowledged, a transfer broken off. */
IrcDccOffer *irc_pal_offer_file_cut (IrcPal *pal, const char *to, const char *name,
                                     GBytes *data, gsize announced_size);
void         irc_dcc_offer_free (IrcDccOffer *offer);

G_END_DECLS
