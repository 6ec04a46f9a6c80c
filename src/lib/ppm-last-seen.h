/* ppm-last-seen.h: the last message seen of each conversation, kept in the
 * account's settings ("last_seen/<conversation>") so that the next session
 * replays history from there, and bounded: a busy agent sees thousands of
 * conversations a month, and libpurple rewrites accounts.xml whole.
 *
 * Each setting holds the message uuid, its server time (the wall clock
 * when unknown: an upper bound) and when this account last saw something
 * of the conversation. A conversation that is closed and was not active
 * for PPM_LAST_SEEN_KEEP_DAYS ("recently active": this account saw a
 * message of it, or took its baseline, in the last 14 days) loses its
 * setting at the next sign-in that reads the whole conversation list. The
 * newest last message among those forgotten becomes "last_seen_horizon":
 * when such a conversation opens again and is replayed from its start,
 * nothing at or before the horizon is shown again.
 *
 * A state module: its own struct, no events; settings through PpmPorts
 * (forgetting needs its list_settings; without it nothing is forgotten).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-ports.h"

G_BEGIN_DECLS

#define PPM_LAST_SEEN_KEEP_DAYS 14

typedef struct {
  const PpmPorts *ports;
  gpointer owner;
  gint64 horizon_us;          /* 0: nothing forgotten yet */
  gboolean horizon_loaded;
} PpmLastSeen;

void     ppm_last_seen_init (PpmLastSeen *last_seen, const PpmPorts *ports, gpointer owner);

/* The last message seen of a conversation (g_free), or NULL. */
char    *ppm_last_seen_get (PpmLastSeen *last_seen, const char *conversation_uuid);
/* message_uuid was seen; time_us: its server time since the epoch, 0 when
 * unknown (the wall clock is then taken, an upper bound). */
void     ppm_last_seen_set (PpmLastSeen *last_seen, const char *conversation_uuid,
                            const char *message_uuid, gint64 time_us);
/* The conversation list was read whole: forgets the conversations not in
 * open (a set of uuids) that were not active for the retention. Returns
 * how many were forgotten. */
guint    ppm_last_seen_prune (PpmLastSeen *last_seen, GHashTable *open);
/* Messages at or before this server time (µs) of a conversation replayed
 * from its start were shown before its setting was forgotten; 0: none. */
gint64   ppm_last_seen_horizon (PpmLastSeen *last_seen);

G_END_DECLS
