/* ppm-types.h: the library's data model as the glue sees it: users,
 * conversations and messages, plain structs with no behaviour.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PPM_ROLE_AGENT,
  PPM_ROLE_VISITOR,
} PpmRole;

typedef enum {
  PPM_PRESENCE_UNKNOWN,     /* the server does not tell */
  PPM_PRESENCE_OFFLINE,
  PPM_PRESENCE_ONLINE,
} PpmPresence;

typedef struct {
  char *uuid;
  char *fullname;
  char *email;
  char *icon_url;
  gboolean is_service_user; /* an agent (colleague) rather than a visitor */
  PpmPresence presence;
  /* A visitor's page (title and address) as PPCom told the server, from
   * the navigation data of ONLINE frames (servers that deliver them); NULL
   * when unknown. */
  char *page_title;
  char *page_url;
} PpmUser;

typedef struct {
  char *uuid;
  char *type;               /* "P2S" (visitor with the team) or "S2S" (agents) */
  char *name;               /* this user's name for it */
  char *peer_uuid;          /* the visitor of a P2S, the other agent of a 1:1 S2S, else NULL */
  GPtrArray *member_uuids;  /* char* */
  gboolean is_open;
  /* Addition: a conversation of agents with more than two members (a group
   * a colleague made, an org group), which an agent's UI shows as a group
   * chat. Never a visitor's conversation, however many agents joined it,
   * and never for a visitor account. */
  gboolean is_group;
} PpmConversation;

typedef enum {
  PPM_MESSAGE_TEXT,         /* text (TEXT, or TXT already downloaded) */
  PPM_MESSAGE_IMAGE,
  PPM_MESSAGE_FILE,
  PPM_MESSAGE_OTHER,        /* a sub-type shown as a short notice */
} PpmMessageKind;

typedef struct {
  char *uuid;               /* message id (dedup key) */
  char *conversation_uuid;
  char *from_uuid;
  char *from_name;          /* sender's display name, when known */
  PpmMessageKind kind;
  char *subtype;            /* as on the wire: TEXT, TXT, IMAGE, FILE, ... */
  char *text;               /* plain text (not escaped); a summary for non-text kinds */
  char *file_url;           /* image or file download URL */
  char *file_name;
  char *mime;
  gint64 file_size;         /* -1 unknown */
  gint64 time;              /* server time, seconds since the epoch */
  gint64 time_us;           /* server time in microseconds, for ordering; 0 unknown */
  gboolean outgoing;        /* sent by this user (from another device, or backfilled) */
  gboolean delayed;         /* recovered at sign-in or after a reconnect */
  /* Addition, images: the picture shown inline (the thumbnail when the
   * server made a smaller one, else the original), its bytes once
   * downloaded (before the message is shown), or why it is not shown
   * inline (the text of a notice; the link in text still works). */
  char *preview_url;
  GBytes *image;
  char *image_error;
} PpmMessage;

G_END_DECLS
