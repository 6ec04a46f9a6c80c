/* bench-purple-bridge.c: 1,000 contacts of one bridged account each write
 * once, all at the same moment, through the bridge plugin
 * (libppmessage-bridge.so) in a headless libpurple core; each becomes a
 * PPMessage visitor of a generated team on the test server (in a child
 * process). Figures: the time until the server stored all 1,000 messages
 * (every visitor signed in, its conversation found, its message sent and
 * confirmed), the peak RSS and the most sockets open meanwhile, then RSS
 * and sockets once the quiet period closed every session.
 *
 * No network is needed for the contacts' side: the bridged account is an
 * IRC account that never signs in, and each contact's message is the
 * libpurple signal a protocol emits for a received IM ("received-im-msg"),
 * emitted here. From there on everything is the bridge's real path: its
 * state file, the client library's visitor sign-in, the websocket, the
 * server's confirmation. The agents' replies are not part of this figure.
 * Targets: tests/bench/README.md.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "purple-bench.h"
#include "util.h"

#define CONTACTS         1000
#define BRIDGE_ID        "core-ppmessage-bridge"
#define BRIDGE_PREFS     "/plugins/core/ppmessage-bridge"
#define BRIDGED_ACCOUNT  "bench@irc.example.org"
#define TEXT_PREFIX      "bench bridge "
#define QUIET_S          10
#define STORED_TIMEOUT_MS 600000
#define CLOSED_TIMEOUT_MS (QUIET_S * 1000 + 120000)

/* Sockets this process has open now; *all: its descriptors of any kind. */
static guint
open_sockets (guint *all)
{
  g_autoptr (GDir) fds = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint sockets = 0, descriptors = 0;

  while (fds != NULL && (name = g_dir_read_name (fds)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      descriptors++;
      sockets += target != NULL && g_str_has_prefix (target, "socket:");
    }
  if (all != NULL)
    *all = MAX (*all, descriptors);
  return sockets;
}

/* This process's RSS now (VmRSS), in KiB; -1 if unknown. */
static long
rss_now_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      || (line = strstr (status, "\nVmRSS:")) == NULL)
    return -1;
  return atol (line + strlen ("\nVmRSS:"));
}

/* Contacts whose visitor session is open, from the bridge's state files. */
static guint
open_sessions (void)
{
  g_autofree char *dir = g_build_filename (purple_user_dir (), "ppmessage-bridge", NULL);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint open = 0;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GKeyFile) state = g_key_file_new ();

      if (g_str_has_suffix (name, ".state") && g_key_file_load_from_file (state, path, 0, NULL))
        open += g_key_file_get_boolean (state, "contact", "open", NULL);
    }
  return open;
}

static guint
stored (BenchServer *server)
{
  g_autofree char *reply = bench_server_command (server, "stored " TEXT_PREFIX, 60000);

  return reply != NULL ? (guint) atoi (reply) : 0;
}

/* The bridge, loaded as Pidgin would, bridging one (never signed-in) IRC
 * account to the server's team. */
static PurpleAccount *
bridge_start (BenchServer *server)
{
  g_autofree char *json = g_strdup_printf ("{\"uuid\": \"%s\"}", server->app_uuid);
  g_autofree char *encoded = g_base64_encode ((const guchar *) json, strlen (json));
  g_autofree char *link = g_strdup_printf ("%s/ppcom/enterprise/%s", server->url, encoded);
  PurpleAccount *account = purple_account_new (BRIDGED_ACCOUNT, "prpl-irc");
  PurplePlugin *bridge;

  purple_accounts_add (account);
  purple_prefs_add_none (BRIDGE_PREFS);
  purple_prefs_add_none (BRIDGE_PREFS "/accounts");
  purple_prefs_add_string (BRIDGE_PREFS "/team_link", link);
  purple_prefs_add_int (BRIDGE_PREFS "/quiet_seconds", QUIET_S);
  purple_prefs_add_bool (BRIDGE_PREFS "/accounts/prpl-irc:" BRIDGED_ACCOUNT, TRUE);
  bridge = purple_plugins_find_with_id (BRIDGE_ID);
  if (bridge == NULL || !purple_plugin_load (bridge))
    {
      bench_fail ("the bridge plugin did not load (PLUGIN_DIR?)");
      return NULL;
    }
  return account;
}

/* 1,000 sessions open at once hold 1,000 websockets, with the pool and
 * libpurple's own descriptors a little more than a desktop's default
 * limit of 1,024 (tests/bench/README.md): the soft limit goes up to the
 * hard one, as a user would raise it. */
static void
raise_open_files_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
    printf ("info open files limit %llu\n", (unsigned long long) limit.rlim_cur);
  fflush (stdout);            /* before the scenario's fork */
}

static void
scenario (gconstpointer arg)
{
  BenchServer *server = bench_server_start ("{\"agents\": 1, \"conversations\": 0}", 0.05);
  PurpleAccount *account;
  guint sockets_before, sockets_peak, fds_peak = 0, count = 0;
  long rss_before;
  double start, all_stored = -1, closed_wait;

  if (server == NULL)
    return;
  bench_purple_init ();
  if ((account = bridge_start (server)) == NULL)
    {
      harness_shutdown ();
      bench_server_stop (server);
      return;
    }
  rss_before = rss_now_kib ();
  sockets_before = sockets_peak = open_sockets (&fds_peak);
  start = bench_now_ms ();
  for (guint i = 0; i < CONTACTS; i++)
    {
      g_autofree char *who = g_strdup_printf ("contact%04u", i);
      g_autofree char *text = g_strdup_printf (TEXT_PREFIX "c%u", i);

      purple_signal_emit (purple_conversations_get_handle (), "received-im-msg", account, who,
                          text, NULL, PURPLE_MESSAGE_RECV);
    }
  while (bench_now_ms () - start < STORED_TIMEOUT_MS)
    {
      bench_iterate (200);
      sockets_peak = MAX (sockets_peak, open_sockets (&fds_peak));
      if ((count = stored (server)) >= CONTACTS)
        {
          all_stored = bench_now_ms () - start;
          break;
        }
    }
  bench_figure ("bridge.contacts.stored", count, "msgs", ">=", CONTACTS);
  bench_figure ("bridge.contacts.duplicates", count > CONTACTS ? count - CONTACTS : 0, "msgs",
                "<=", 0);
  if (all_stored >= 0)
    bench_figure ("bridge.contacts.all_stored_ms", all_stored, "ms", NULL, 0);
  else
    bench_fail ("only %u of %u messages stored", count, CONTACTS);
  bench_figure ("bridge.contacts.peak_rss_kib", bench_peak_rss_kib (), "KiB", NULL, 0);
  bench_figure ("bridge.contacts.rss_growth_per_contact", (bench_peak_rss_kib () - rss_before)
                * 1024.0 / CONTACTS, "bytes", NULL, 0);
  /* One websocket per open session and one shared pool of HTTP
   * connections: about 1,010 measured. A pool per session (3,300 to 4,800
   * before the sessions shared one) fails it. */
  bench_figure ("bridge.contacts.peak_sockets", sockets_peak - sockets_before, "sockets", "<=",
                2 * CONTACTS);
  bench_figure ("bridge.contacts.peak_descriptors", fds_peak, "fds", NULL, 0);

  /* The quiet period closes every session: what stays is the idle cost. */
  closed_wait = bench_now_ms ();
  while (open_sessions () > 0 && bench_now_ms () - closed_wait < CLOSED_TIMEOUT_MS)
    bench_iterate (1000);
  bench_iterate (1000);       /* the last sockets' close handshakes */
  bench_figure ("bridge.closed.open_sessions", open_sessions (), "sessions", "<=", 0);
  bench_figure ("bridge.closed.sockets", (double) open_sockets (NULL) - sockets_before, "sockets",
                "<=", 0);
  bench_figure ("bridge.closed.rss_kib", rss_now_kib (), "KiB", NULL, 0);
  harness_shutdown ();
  bench_server_stop (server);
}

int
main (void)
{
  gboolean ok;

  raise_open_files_limit ();
  ok = bench_run_isolated (scenario, NULL);

  return ok && !bench_failed () ? 0 : 1;
}
