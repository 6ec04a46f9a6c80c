/* ppm-resend-check.h: before messages whose ACK SEND never came are sent
 * again, ask the server which of them it stored anyway.
 *
 * The server stores and dispatches every "send" it takes, even one with a
 * uuid it already has ("a reused UUID overwrites the earlier message", in
 * ../shared/protocol/PPMESSAGE-PROTOCOL.md, the message object a client
 * sends), so re-sending a message that was stored but whose ACK SEND was
 * lost with the connection shows it twice to the other side. The
 * conversation's history holds the stored ones by uuid.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-ports.h"

G_BEGIN_DECLS

/* One message in doubt: its conversation, and the last message seen in that
 * conversation before it was written (NULL: none), which the server stored
 * before it. */
typedef struct {
  const char *message_uuid;
  const char *conversation_uuid;
  const char *seen_before;
} PpmResendDoubt;

/* stored: the message uuids of the doubts found in their conversation's
 * history (a set, owned by the check); error: the history could not be read
 * (then stored is NULL). Never called once cancellable is cancelled. */
typedef void (*PpmResendCheckDone) (GHashTable *stored, const GError *error, gpointer data);

/* Reads, for each conversation of doubts, PP_PAGE_HISTORY_MESSAGE after the
 * seen_before of its first doubt (doubts are in the order they were written,
 * and a conversation's last seen message only moves forward), page after
 * page until every doubt of it is found or the history ends, through the
 * ports' call (which adds the session's envelope). A message not found is
 * taken as not stored: sent again, a duplicate at worst, never a loss. */
void ppm_resend_check_run (const PpmPorts *ports, gpointer owner, const PpmResendDoubt *doubts,
                           guint n_doubts, GCancellable *cancellable, PpmResendCheckDone done,
                           gpointer data);

G_END_DECLS
