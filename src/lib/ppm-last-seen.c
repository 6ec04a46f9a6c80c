/* ppm-last-seen.c: the last message seen per conversation, bounded; see
 * ppm-last-seen.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-last-seen.h"
#include "ppm-clock.h"

#include <string.h>

#define KEY_PREFIX "last_seen/"
#define HORIZON_SETTING "last_seen_horizon"
#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

typedef struct {
  char *message_uuid;
  gint64 time_us;             /* server time of the message, 0: unknown */
  gint64 seen_us;             /* wall clock when it was seen, 0: unknown */
} Entry;

static char *
key_of (const char *conversation_uuid)
{
  return g_strconcat (KEY_PREFIX, conversation_uuid, NULL);
}

/* "<message uuid> <time> <seen>", seconds since the epoch (enough for
 * days); a setting written before the times were kept is the uuid alone. */
static gboolean
parse (const char *value, Entry *entry)
{
  g_auto (GStrv) fields = value ? g_strsplit (value, " ", 3) : NULL;

  memset (entry, 0, sizeof *entry);
  if (fields == NULL || fields[0] == NULL || *fields[0] == '\0')
    return FALSE;
  entry->message_uuid = g_strdup (fields[0]);
  if (fields[1] && fields[2]) {
    entry->time_us = g_ascii_strtoll (fields[1], NULL, 10) * G_USEC_PER_SEC;
    entry->seen_us = g_ascii_strtoll (fields[2], NULL, 10) * G_USEC_PER_SEC;
  }
  return TRUE;
}

static void
write_entry (PpmLastSeen *last_seen, const char *conversation_uuid, const char *message_uuid,
             gint64 time_us, gint64 seen_us)
{
  g_autofree char *key = key_of (conversation_uuid);
  g_autofree char *value = g_strdup_printf ("%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                                            message_uuid, time_us / G_USEC_PER_SEC,
                                            seen_us / G_USEC_PER_SEC);

  last_seen->ports->save_setting (last_seen->owner, key, value);
}

void
ppm_last_seen_init (PpmLastSeen *last_seen, const PpmPorts *ports, gpointer owner)
{
  memset (last_seen, 0, sizeof *last_seen);
  last_seen->ports = ports;
  last_seen->owner = owner;
}

char *
ppm_last_seen_get (PpmLastSeen *last_seen, const char *conversation_uuid)
{
  g_autofree char *key = key_of (conversation_uuid);
  g_autofree char *value = last_seen->ports->load_setting (last_seen->owner, key);
  Entry entry;

  return parse (value, &entry) ? entry.message_uuid : NULL;
}

void
ppm_last_seen_set (PpmLastSeen *last_seen, const char *conversation_uuid,
                   const char *message_uuid, gint64 time_us)
{
  gint64 now = ppm_clock_wall_us ();

  write_entry (last_seen, conversation_uuid, message_uuid, time_us > 0 ? time_us : now, now);
}

static void
save_horizon (PpmLastSeen *last_seen, gint64 horizon_us)
{
  g_autofree char *text = NULL;

  if (horizon_us <= ppm_last_seen_horizon (last_seen))
    return;
  /* Rounded up to the second: the settings keep seconds. */
  last_seen->horizon_us = (horizon_us / G_USEC_PER_SEC + 1) * G_USEC_PER_SEC;
  text = g_strdup_printf ("%" G_GINT64_FORMAT, last_seen->horizon_us / G_USEC_PER_SEC);
  last_seen->ports->save_setting (last_seen->owner, HORIZON_SETTING, text);
}

guint
ppm_last_seen_prune (PpmLastSeen *last_seen, GHashTable *open)
{
  gint64 now = ppm_clock_wall_us ();
  gint64 keep_after = now - PPM_LAST_SEEN_KEEP_DAYS * DAY_US;
  g_autoptr (GPtrArray) keys = NULL;
  gint64 horizon = 0;
  guint forgotten = 0;

  if (last_seen->ports->list_settings == NULL)
    return 0;
  keys = last_seen->ports->list_settings (last_seen->owner, KEY_PREFIX);
  for (guint i = 0; keys && i < keys->len; i++) {
    const char *key = keys->pdata[i];
    const char *conversation_uuid = key + strlen (KEY_PREFIX);
    g_autofree char *value = NULL;
    Entry entry;

    if (!g_str_has_prefix (key, KEY_PREFIX) || g_hash_table_contains (open, conversation_uuid))
      continue;
    value = last_seen->ports->load_setting (last_seen->owner, key);
    if (!parse (value, &entry))
      continue;
    if (entry.seen_us == 0) {
      /* Kept before its times were: its retention starts now. */
      write_entry (last_seen, conversation_uuid, entry.message_uuid, now, now);
    } else if (entry.seen_us < keep_after) {
      horizon = MAX (horizon, entry.time_us);
      last_seen->ports->save_setting (last_seen->owner, key, NULL);
      forgotten++;
    }
    g_free (entry.message_uuid);
  }
  if (forgotten > 0) {
    save_horizon (last_seen, horizon);
    g_debug ("forgot the last seen message of %u closed conversation(s)", forgotten);
  }
  return forgotten;
}

gint64
ppm_last_seen_horizon (PpmLastSeen *last_seen)
{
  if (!last_seen->horizon_loaded) {
    g_autofree char *text = last_seen->ports->load_setting (last_seen->owner, HORIZON_SETTING);

    last_seen->horizon_loaded = TRUE;
    last_seen->horizon_us = text ? g_ascii_strtoll (text, NULL, 10) * G_USEC_PER_SEC : 0;
  }
  return last_seen->horizon_us;
}
