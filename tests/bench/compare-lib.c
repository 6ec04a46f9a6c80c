/* compare-lib.c: the client library alone (src/lib, no libpurple) as a
 * compare.py client: a message counts as shown at the library's message
 * event; the library acknowledges it itself, so "acknowledged" is the
 * server's word (no unacked push left for this agent). Settings are kept in
 * memory for the run. Command line and output: compare-common.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>

#include "ppm-client.h"
#include "compare-common.h"

typedef struct {
  CompareRun *run;
  PpmClient *client;
  GHashTable *settings;
  GPtrArray *open_conversations;   /* char* uuids, from conversations_synced */
  gboolean connected, synced, ended;
  gint64 next_server_check_us;
} Lib;

static void
on_connected (gpointer data)
{
  ((Lib *) data)->connected = TRUE;
}

static void
on_disconnected (gpointer data, const GError *error)
{
  Lib *lib = data;

  lib->ended = TRUE;
  if (error != NULL)
    compare_fail (lib->run, error->message);
}

static void
on_synced (gpointer data, GPtrArray *open_conversations)
{
  Lib *lib = data;

  g_ptr_array_set_size (lib->open_conversations, 0);
  for (guint i = 0; i < open_conversations->len; i++)
    g_ptr_array_add (lib->open_conversations,
                     g_strdup (((const PpmConversation *) g_ptr_array_index (open_conversations, i))->uuid));
  compare_set_buddies (lib->run, open_conversations->len);
  lib->synced = TRUE;
}

static void
on_message (gpointer data, const PpmMessage *message, const PpmConversation *conversation)
{
  compare_shown (((Lib *) data)->run, message->text ? message->text : "");
}

static void
on_send_result (gpointer data, const char *conversation_uuid, const char *message_uuid,
                const GError *error)
{
  Lib *lib = data;

  if (error != NULL)
    compare_fail (lib->run, error->message);
  else
    compare_send_acked (lib->run);
}

static void
on_save_setting (gpointer data, const char *key, const char *value)
{
  g_hash_table_replace (((Lib *) data)->settings, g_strdup (key), g_strdup (value));
}

static char *
on_load_setting (gpointer data, const char *key)
{
  return g_strdup (g_hash_table_lookup (((Lib *) data)->settings, key));
}

static const PpmClientEvents events = {
  .connected = on_connected,
  .disconnected = on_disconnected,
  .conversations_synced = on_synced,
  .message = on_message,
  .send_result = on_send_result,
  .save_setting = on_save_setting,
  .load_setting = on_load_setting,
};

static void
lib_sign_in (gpointer data)
{
  Lib *lib = data;
  PpmClientConfig config = {
    .server_url = lib->run->url, .role = PPM_ROLE_AGENT, .email = lib->run->email,
    .password = lib->run->password, .api_key = lib->run->key, .terminal = "compare-lib",
    .device_name = "compare-lib",
  };
  g_autoptr (GError) error = NULL;

  lib->client = ppm_client_new (&config, &events, lib);
  if (!ppm_client_connect (lib->client, &error))
    compare_fail (lib->run, error->message);
}

/* Asks the server at most every 2 ms (a round trip of a fraction of that):
 * the bare client knows at once when its last ack was answered, so a
 * coarser poll would add its delay to the library's figure only. */
static gboolean
server_has_no_unacked (Lib *lib)
{
  gint64 now = g_get_monotonic_time ();

  if (now < lib->next_server_check_us)
    return FALSE;
  lib->next_server_check_us = now + 2000;
  return compare_server_unacked (lib->run) == 0;
}

static gboolean
lib_acked_all (gpointer data)
{
  return server_has_no_unacked (data);
}

static gboolean
lib_signed_in (gpointer data)
{
  Lib *lib = data;
  gboolean backlog = g_str_equal (lib->run->mode, "signin");

  return lib->connected && lib->synced && (!backlog || lib->run->shown >= lib->run->count)
         && server_has_no_unacked (lib);
}

static guint
lib_send (gpointer data, guint count)
{
  Lib *lib = data;

  if (lib->open_conversations->len == 0)
    return 0;
  for (guint i = 0; i < count; i++)
    {
      g_autofree char *text = g_strdup_printf ("agent text %u", i);

      g_free (ppm_client_send_text (lib->client,
                                    g_ptr_array_index (lib->open_conversations,
                                                       i % lib->open_conversations->len),
                                    text));
    }
  return count;
}

static void
lib_sign_out (gpointer data)
{
  Lib *lib = data;
  gboolean done = FALSE;

  if (lib->client == NULL)
    return;
  ppm_client_disconnect (lib->client);
  ppm_client_free (lib->client);
  /* PPKEFU_LOGOUT finishes in the background: half a second for it. */
  bench_wait_flag (&done, 500);
}

int
main (int argc, char **argv)
{
  CompareRun *run = compare_run_new (&argc, &argv, "lib");
  Lib lib = { .run = run };
  static const CompareClient client = {
    .sign_in = lib_sign_in, .signed_in = lib_signed_in, .acked_all = lib_acked_all,
    .send = lib_send, .sign_out = lib_sign_out,
  };

  if (run == NULL)
    return 2;
  lib.settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lib.open_conversations = g_ptr_array_new_with_free_func (g_free);
  return compare_run_main (run, &client, &lib);
}
