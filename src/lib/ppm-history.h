/* ppm-history.h: earlier messages of a conversation, read on request (a
 * UI window that opens, or the user paging back), not part of any
 * catch-up: nothing read here is de-duplicated, acknowledged or moves the
 * last message seen; the caller decides what it shows. The server's
 * PP_PAGE_HISTORY_MESSAGE (../shared/protocol/PPMESSAGE-PROTOCOL.md,
 * "PP_PAGE_HISTORY_MESSAGE") answers newest first both in page mode (the
 * most recent messages) and with max_uuid (those strictly older than a
 * message); the reader hands them on oldest first, each long text (TXT)
 * already downloaded as the live path does (or saying why it could not be).
 *
 * A state module: its own struct, no events of the client, the server
 * through PpmPorts, the senders' names from the registry.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-ports.h"

G_BEGIN_DECLS

/* The most messages one read asks for (a larger count is cut to it). */
#define PPM_HISTORY_READ_MAX 100

/* The outcome of one read: messages (PpmMessage*, oldest first, owned by
 * the array) or error; reached_start: the conversation has nothing older
 * than the first of them. Not called when the read is cancelled. */
typedef void (*PpmHistoryDone) (gpointer data, const char *conversation_uuid,
                                GPtrArray *messages, gboolean reached_start,
                                const GError *error);

typedef struct {
  const PpmPorts *ports;
  gpointer owner;
  PpmRegistry *registry;
  GCancellable *cancellable;  /* the reads running */
} PpmHistory;

void ppm_history_init (PpmHistory *history, const PpmPorts *ports, gpointer owner,
                       PpmRegistry *registry);
/* Abandons the reads running (no callback). */
void ppm_history_reset (PpmHistory *history);
void ppm_history_clear (PpmHistory *history);
/* Reads up to count messages of the conversation older than before_uuid
 * (NULL: the most recent ones). */
void ppm_history_read (PpmHistory *history, const char *conversation_uuid,
                       const char *before_uuid, guint count, PpmHistoryDone done,
                       gpointer data);

G_END_DECLS
