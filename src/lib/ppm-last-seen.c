/* ppm-last-seen.c: the last message seen per conversation, bounded; see
 * ppm-last-seen.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-last-seen.h"
#include "ppm-clock.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_SETTING "last_seen_index"
#define HORIZON_SETTING "last_seen_horizon"
#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

typedef struct {
  gint64 time_us;             /* server time of the last message seen */
  gint64 seen_us;             /* wall clock when it was seen */
} LastSeenEntry;

static char *
key_of (const char *conversation_uuid)
{
  return g_strconcat ("last_seen/", conversation_uuid, NULL);
}

void
ppm_last_seen_init (PpmLastSeen *last_seen, const PpmPorts *ports, gpointer owner)
{
  memset (last_seen, 0, sizeof *last_seen);
  last_seen->ports = ports;
  last_seen->owner = owner;
  last_seen->index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* "uuid=time/seen,...", in seconds since the epoch (enough for days). */
static void
load (PpmLastSeen *last_seen)
{
  g_autofree char *index = NULL;
  g_autofree char *horizon = NULL;
  g_auto (GStrv) entries = NULL;

  if (last_seen->loaded)
    return;
  last_seen->loaded = TRUE;
  index = last_seen->ports->load_setting (last_seen->owner, INDEX_SETTING);
  horizon = last_seen->ports->load_setting (last_seen->owner, HORIZON_SETTING);
  last_seen->horizon_us = horizon ? g_ascii_strtoll (horizon, NULL, 10) * G_USEC_PER_SEC : 0;
  entries = index ? g_strsplit (index, ",", -1) : NULL;
  for (guint i = 0; entries && entries[i]; i++) {
    char *equals = strchr (entries[i], '=');
    char *end = NULL;
    LastSeenEntry *entry;

    if (equals == NULL || equals == entries[i])
      continue;                 /* unreadable: dropped, its setting stays */
    entry = g_new (LastSeenEntry, 1);
    entry->time_us = g_ascii_strtoll (equals + 1, &end, 10) * G_USEC_PER_SEC;
    entry->seen_us = end && *end == '/' ? g_ascii_strtoll (end + 1, NULL, 10) * G_USEC_PER_SEC
                                        : entry->time_us;
    g_hash_table_replace (last_seen->index, g_strndup (entries[i], equals - entries[i]),
                          entry);
  }
}

void
ppm_last_seen_flush (PpmLastSeen *last_seen)
{
  GString *text;
  GHashTableIter iter;
  gpointer uuid, value;

  g_clear_handle_id (&last_seen->write_id, g_source_remove);
  if (!last_seen->dirty)
    return;
  last_seen->dirty = FALSE;
  text = g_string_sized_new (g_hash_table_size (last_seen->index) * 48);
  g_hash_table_iter_init (&iter, last_seen->index);
  while (g_hash_table_iter_next (&iter, &uuid, &value)) {
    LastSeenEntry *entry = value;

    g_string_append_printf (text, "%s%s=%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                            text->len ? "," : "", (const char *) uuid,
                            entry->time_us / G_USEC_PER_SEC, entry->seen_us / G_USEC_PER_SEC);
  }
  last_seen->ports->save_setting (last_seen->owner, INDEX_SETTING, text->str);
  g_string_free (text, TRUE);
}

static gboolean
write_later (gpointer data)
{
  PpmLastSeen *last_seen = data;

  last_seen->write_id = 0;
  ppm_last_seen_flush (last_seen);
  return G_SOURCE_REMOVE;
}

void
ppm_last_seen_clear (PpmLastSeen *last_seen)
{
  if (last_seen->index == NULL)
    return;
  ppm_last_seen_flush (last_seen);
  g_clear_pointer (&last_seen->index, g_hash_table_unref);
}

char *
ppm_last_seen_get (PpmLastSeen *last_seen, const char *conversation_uuid)
{
  g_autofree char *key = key_of (conversation_uuid);
  char *value = last_seen->ports->load_setting (last_seen->owner, key);

  if (value != NULL && *value == '\0')
    g_clear_pointer (&value, g_free);
  /* A setting from before the index (or whose entry was lost) joins it, so
   * that it can be forgotten one day. */
  load (last_seen);
  if (value != NULL && !g_hash_table_contains (last_seen->index, conversation_uuid))
    ppm_last_seen_set (last_seen, conversation_uuid, value, 0);
  return value;
}

void
ppm_last_seen_set (PpmLastSeen *last_seen, const char *conversation_uuid,
                   const char *message_uuid, gint64 time_us)
{
  g_autofree char *key = key_of (conversation_uuid);
  gint64 now = ppm_clock_wall_us ();
  LastSeenEntry *entry;

  load (last_seen);
  last_seen->ports->save_setting (last_seen->owner, key, message_uuid);
  if (time_us <= 0)
    time_us = now;
  entry = g_hash_table_lookup (last_seen->index, conversation_uuid);
  if (entry == NULL) {
    entry = g_new0 (LastSeenEntry, 1);
    g_hash_table_insert (last_seen->index, g_strdup (conversation_uuid), entry);
  } else if (entry->time_us / G_USEC_PER_SEC == time_us / G_USEC_PER_SEC &&
             entry->seen_us / G_USEC_PER_SEC == now / G_USEC_PER_SEC) {
    return;                     /* the index keeps seconds */
  }
  entry->time_us = time_us;
  entry->seen_us = now;
  last_seen->dirty = TRUE;
  if (last_seen->write_id == 0)
    last_seen->write_id = g_timeout_add (PPM_LAST_SEEN_INDEX_DELAY_MS, write_later, last_seen);
}

guint
ppm_last_seen_prune (PpmLastSeen *last_seen, GHashTable *open)
{
  gint64 keep_after = ppm_clock_wall_us () - PPM_LAST_SEEN_KEEP_DAYS * DAY_US;
  gint64 horizon = 0;
  GHashTableIter iter;
  gpointer uuid, value;
  guint forgotten = 0;

  load (last_seen);
  g_hash_table_iter_init (&iter, last_seen->index);
  while (g_hash_table_iter_next (&iter, &uuid, &value)) {
    LastSeenEntry *entry = value;
    g_autofree char *key = NULL;

    if (g_hash_table_contains (open, uuid) || entry->seen_us >= keep_after)
      continue;
    horizon = MAX (horizon, entry->time_us);
    key = key_of (uuid);
    last_seen->ports->save_setting (last_seen->owner, key, NULL);
    g_hash_table_iter_remove (&iter);
    forgotten++;
  }
  if (forgotten == 0)
    return 0;
  if (horizon > last_seen->horizon_us) {
    g_autofree char *text = NULL;

    /* Rounded up to the second: the index keeps seconds. */
    last_seen->horizon_us = (horizon / G_USEC_PER_SEC + 1) * G_USEC_PER_SEC;
    text = g_strdup_printf ("%" G_GINT64_FORMAT, last_seen->horizon_us / G_USEC_PER_SEC);
    last_seen->ports->save_setting (last_seen->owner, HORIZON_SETTING, text);
  }
  last_seen->dirty = TRUE;
  ppm_last_seen_flush (last_seen);
  g_debug ("forgot the last seen message of %u closed conversation(s)", forgotten);
  return forgotten;
}

gint64
ppm_last_seen_horizon (PpmLastSeen *last_seen)
{
  load (last_seen);
  return last_seen->horizon_us;
}
