/* compare-plugin.c: the built plugin in the headless libpurple core of
 * tests/support (as a user runs Pidgin: debug output off) as a compare.py
 * client. A message counts as shown at libpurple's received-im-msg signal,
 * so libpurple's and the plugin's work up to the UI is in the figure; sends
 * go through purple_conv_im_send as Pidgin's entry does. What the plugin
 * acknowledged, and which sends the server confirmed, is the server's word
 * (the plugin shows neither). Command line and output: compare-common.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "purple-bench.h"
#include "compare-common.h"

#define CAPTURE_KEEP 1000   /* the harness's captured writes are dropped beyond this */

typedef struct {
  CompareRun *run;
  PurpleAccount *account;
  gint64 next_server_check_us;
  gboolean buddies_complete;
} Plugin;

static void
on_received_im (PurpleAccount *account, char *sender, char *message, PurpleConversation *conv,
                PurpleMessageFlags flags, gpointer data)
{
  Plugin *plugin = data;
  g_autofree char *text = purple_unescape_html (message);

  compare_shown (plugin->run, text);
}

/* libpurple's core starts before the clock: Pidgin is running when the
 * user signs in. */
static void
plugin_prepare (gpointer data)
{
  Plugin *plugin = data;

  bench_purple_init ();
  purple_signal_connect (purple_conversations_get_handle (), "received-im-msg", plugin,
                         PURPLE_CALLBACK (on_received_im), plugin);
}

static void
plugin_sign_in (gpointer data)
{
  Plugin *plugin = data;

  plugin->account = harness_add_account (plugin->run->url, plugin->run->email, plugin->run->password);
  purple_account_set_string (plugin->account, "api_key", plugin->run->key);
  purple_account_set_string (plugin->account, "terminal", "compare-plugin");
  harness_connect (plugin->account);
}

/* At most every 2 ms: asking the server costs a round trip (a fraction of
 * that), and a coarser poll would add its delay to the plugin's figure
 * only (the bare client knows at once when its last ack was answered). */
static gboolean
check_due (Plugin *plugin)
{
  gint64 now = g_get_monotonic_time ();

  /* The harness keeps every write for tests; a user's UI does not. */
  if (harness_writes ()->len > CAPTURE_KEEP)
    harness_clear ();
  if (now < plugin->next_server_check_us)
    return FALSE;
  plugin->next_server_check_us = now + 2000;
  return TRUE;
}

static gboolean
plugin_signed_in (gpointer data)
{
  Plugin *plugin = data;
  gboolean backlog = g_str_equal (plugin->run->mode, "signin");

  if (harness_find_error (plugin->account) != NULL)
    {
      compare_fail (plugin->run, harness_find_error (plugin->account)->text);
      return FALSE;
    }
  if (!purple_account_is_connected (plugin->account)
      || (backlog && plugin->run->shown < plugin->run->count) || !check_due (plugin))
    return FALSE;
  if (!plugin->buddies_complete)
    {
      guint buddies = bench_count_buddies (plugin->account);

      compare_set_buddies (plugin->run, buddies);
      plugin->buddies_complete = !backlog || buddies >= plugin->run->count;
      if (!plugin->buddies_complete)
        return FALSE;
    }
  return compare_server_unacked (plugin->run) == 0;
}

static gboolean
plugin_acked_all (gpointer data)
{
  Plugin *plugin = data;

  return check_due (plugin) && compare_server_unacked (plugin->run) == 0;
}

/* Sends count texts to the buddies in turn; the server counts their acks. */
static guint
plugin_send (gpointer data, guint count)
{
  Plugin *plugin = data;
  GSList *buddies = purple_find_buddies (plugin->account, NULL);
  GPtrArray *conversations = g_ptr_array_new ();

  /* The visitors only, as the other clients send to the visitors'
   * conversations (a colleague would need a conversation created first). */
  for (GSList *l = buddies; l != NULL; l = l->next)
    if (g_str_has_suffix (purple_group_get_name (purple_buddy_get_group (l->data)), " Visitors"))
      g_ptr_array_add (conversations,
                       purple_conversation_new (PURPLE_CONV_TYPE_IM, plugin->account,
                                                purple_buddy_get_name (l->data)));
  g_slist_free (buddies);
  if (conversations->len == 0)
    count = 0;
  for (guint i = 0; i < count; i++)
    {
      g_autofree char *text = g_strdup_printf ("agent text %u", i);

      purple_conv_im_send (PURPLE_CONV_IM (g_ptr_array_index (conversations, i % conversations->len)), text);
    }
  g_ptr_array_free (conversations, TRUE);
  return count;
}

/* The sends are confirmed when the server has written their acks. */
static void
poll_send_acks (CompareRun *run)
{
  g_autofree char *reply = compare_server_command (run, "sendacks");
  guint acked = reply ? (guint) atoi (reply) : 0;

  while (run->sends_acked < acked)
    compare_send_acked (run);
}

static gboolean
on_send_poll (gpointer data)
{
  Plugin *plugin = data;

  if (plugin->account != NULL)
    poll_send_acks (plugin->run);
  return G_SOURCE_CONTINUE;
}

/* After a sign-in with a backlog: what libpurple keeps on disk for it (it
 * saves accounts.xml and blist.xml 5 s after a change). */
static void
plugin_extra_result (gpointer data, GString *json)
{
  Plugin *plugin = data;
  const char *files[] = { "accounts.xml", "blist.xml" };

  if (!g_str_equal (plugin->run->mode, "signin"))
    return;
  harness_run_for (6000);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (purple_user_dir (), files[i], NULL);
      GStatBuf st;

      if (g_stat (path, &st) == 0)
        g_string_append_printf (json, ", \"%.*s_bytes\": %ld", (int) strcspn (files[i], "."),
                                files[i], (long) st.st_size);
    }
}

static void
plugin_new_round (gpointer data)
{
  Plugin *plugin = data;

  while (purple_get_conversations () != NULL)
    purple_conversation_destroy (purple_get_conversations ()->data);
  harness_clear ();
  harness_disconnect (plugin->account);
  while (!purple_account_is_disconnected (plugin->account))
    harness_run_for (10);
  harness_connect (plugin->account);
}

static void
plugin_sign_out (gpointer data)
{
  Plugin *plugin = data;

  harness_disconnect (plugin->account);
  /* The sign-out (PPKEFU_LOGOUT) finishes in the background. */
  harness_run_for (500);
  harness_shutdown ();
}

int
main (int argc, char **argv)
{
  CompareRun *run = compare_run_new (&argc, &argv, "plugin");
  Plugin plugin = { .run = run };
  static const CompareClient client = {
    .prepare = plugin_prepare, .sign_in = plugin_sign_in, .signed_in = plugin_signed_in, .acked_all = plugin_acked_all,
    .send = plugin_send, .sign_out = plugin_sign_out, .extra_result = plugin_extra_result,
    .new_round = plugin_new_round,
  };

  if (run == NULL)
    return 2;
  if (g_str_equal (run->mode, "send"))
    g_timeout_add (2, on_send_poll, &plugin);
  return compare_run_main (run, &client, &plugin);
}
