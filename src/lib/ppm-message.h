/* ppm-message.h: turning the wire forms of a message into a PpmMessage: the
 * compact push form (a MSG frame's "msg", the "message_body" string of
 * history and unacked lists) and the stored record of history.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-types.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Compact form: id, ci, fi, ms, bo, ts, optional from_user and pid. The
 * push id (pid), when present, is returned in *pid (may be NULL). */
PpmMessage *ppm_message_parse_compact (JsonObject *msg, const char *base_url,
                                       char **pid, GError **error);
/* The same, from the JSON text of a message_body. */
PpmMessage *ppm_message_parse_compact_text (const char *text, const char *base_url,
                                            GError **error);
/* A history record: its message_body when there is one, else the long
 * fields (uuid, conversation_uuid, from_uuid, message_subtype, body,
 * createtime). from_user gives the sender's name. */
PpmMessage *ppm_message_parse_record (JsonObject *record, const char *base_url,
                                      GError **error);
/* The same; *time_is_epoch tells whether time_us came from the compact
 * form's "ts" (since the epoch) rather than from createtime (the server's
 * local time, read as this machine's): only the former compare safely with
 * the times of pushes. */
PpmMessage *ppm_message_parse_record_timed (JsonObject *record, const char *base_url,
                                            gboolean *time_is_epoch, GError **error);

/* TRUE for the forced-logout push {"mt": "SYS", "ms": "LOGOUT", "bo": <device>}. */
gboolean    ppm_message_is_logout (JsonObject *msg, const char **device_uuid);

/* A TXT message whose text is still to be downloaded from file_url. */
gboolean    ppm_message_needs_text (const PpmMessage *message);
/* Sets the downloaded text of a TXT message. */
void        ppm_message_set_text (PpmMessage *message, const char *text);
/* What must be downloaded before the message is shown (the text of a
 * TXT, the picture of an IMAGE), with the most bytes to read, or NULL. */
const char *ppm_message_pending_download (const PpmMessage *message, gsize *max_bytes);
/* The outcome of that download: the body, or the error that leaves the
 * message its text (a TXT says why; an IMAGE keeps its fallback and gets
 * image_error). Afterwards nothing is pending. */
void        ppm_message_complete_download (PpmMessage *message, GBytes *body,
                                           const GError *error);

/* Long (TXT) messages longer than this are not downloaded. */
#define PPM_MAX_TEXT_BYTES (1024 * 1024)
/* Pictures larger than this are not shown inline (the link remains). */
#define PPM_MAX_IMAGE_BYTES (2 * 1024 * 1024)

PpmMessage *ppm_message_copy (const PpmMessage *message);
void        ppm_message_free (PpmMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PpmMessage, ppm_message_free)

/* <base>/download/download/<fid>[?file_name=<name>] */
char       *ppm_message_download_url (const char *base_url, const char *fid, const char *name);
/* Seconds since the epoch of "YYYY-MM-DD HH:MM:SS[ ffffff]" in local time, or -1. */
gint64      ppm_message_parse_createtime (const char *text);
/* The same in microseconds (the optional field is the microseconds), or -1. */
gint64      ppm_message_parse_createtime_us (const char *text);

G_END_DECLS
