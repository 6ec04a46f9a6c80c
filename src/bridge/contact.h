/* contact.h: a bridged contact as contact.c and contact-files.c share
 * it: its state, its session, and what each file calls of the other.
 * Private to those two; the rest of the bridge goes through bridge.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "bridge.h"

struct _BridgeContact {
  char *path;               /* the state file */
  GKeyFile *state;
  char *protocol_id;
  char *account_name;
  char *who;
  PpmClient *client;
  char *conversation_uuid;
  GHashTable *in_flight;    /* uuids sent in this session, waiting for their result */
  char *uploading;          /* the uuid of the file being uploaded, one at a time */
  char *offering;           /* the uuid of the agent's file offered to the contact, one at a time */
  char *offer_path;         /* its copy, downloaded */
  FILE *offer_stream;       /* open while it downloads */
  guint offer_timeout_id;
  gboolean connected;
  guint quiet_id;
  guint retry_id;
  guint retry_s;
  guint typing_id;          /* the agent's typing shown to the contact, until this */
};

/* ---- contact.c ---- */
/* The contact of this account's handle, loaded or made. */
BridgeContact    *contact_for (PurpleAccount *account, const char *who);
PurpleAccount    *contact_account (BridgeContact *contact);
/* The bridged account's connection, or NULL while it is offline. */
PurpleConnection *contact_connection (BridgeContact *contact);
void              contact_save (BridgeContact *contact);
/* A line of the bridge's own to the contact, delivered as the replies are. */
void              contact_tell (BridgeContact *contact, const char *text);
/* Hands the waiting replies, in order, to the other network. */
void              contact_deliver_replies (BridgeContact *contact);
/* Activity: the quiet period starts again. */
void              contact_touch (BridgeContact *contact);
/* The session failed or the server is away: tried again later. */
void              contact_retry_later (BridgeContact *contact);

/* ---- contact-files.c ---- */
/* Uploads the next file kept for the team, if none is on its way. */
void contact_upload_next (BridgeContact *contact);
/* The file is with the team, or will never be: the local copy goes. */
void contact_file_forget (BridgeContact *contact, const char *uuid);
/* Adds the paths of the contact's files kept for the team to the set. */
void contact_list_kept_files (BridgeContact *contact, GHashTable *paths);
/* The contact learns that their file did not arrive, and why. */
void contact_tell_file_refused (BridgeContact *contact, const char *name, const char *why);
/* Keeps an agent's file or picture of this reply to offer as a file. */
void contact_keep_file_out (BridgeContact *contact, const PpmMessage *message);
/* Offers the agent's file of this reply, unless another one is being
 * offered (it comes next). FALSE: it cannot be offered, its line goes. */
gboolean contact_offer_file (BridgeContact *contact, PurpleConnection *gc, const char *uuid);
/* The offer was taken (its line is not needed), or not (the link goes). */
void contact_offer_end (BridgeContact *contact, gboolean delivered, const char *why);
/* The offer in this process ends; its entry stays in the state. */
void contact_offer_abandon (BridgeContact *contact);
