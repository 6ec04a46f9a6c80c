/* ppm-registry.h: the users and conversations a session knows, with their
 * indexes (names, peers), the one parser of conversation objects, and the
 * look-up of a conversation the session does not know yet.
 *
 * A state module: its own struct, no events of the client. Changes are
 * reported to the sink its owner installs.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-api.h"
#include "ppm-types.h"

G_BEGIN_DECLS

/* A conversation with what the library needs beyond the public part. */
typedef struct {
  PpmConversation pub;        /* first: a PpmConv* is a PpmConversation* */
  char *creator_uuid;         /* the conversation's user_uuid */
  char *assigned_uuid;
  char *group_uuid;           /* the org group it was made for, or NULL */
  char *group_name;           /* the name a group was created with (only lists and the
                               * creation answer tell it), or NULL */
  char *latest_message_uuid;  /* from the list, the baseline of a first sign-in */
  guint64 activity;           /* higher: more recent */
  gint64 last_seen_time_us;   /* "ts" of the message last_seen was set to in this
                               * session (microseconds), 0 unknown */
} PpmConv;

typedef struct {
  /* A user (never self) became known or changed. */
  void (*user_changed) (gpointer owner, const PpmUser *user);
  void (*conversation_changed) (gpointer owner, const PpmConversation *conversation);
} PpmRegistrySink;

typedef struct {
  PpmRole role;
  PpmUser *self;              /* the signed-in user, or NULL */
  GHashTable *users;          /* uuid -> PpmUser* */
  GHashTable *conversations;  /* uuid -> PpmConv* */
  GHashTable *user_names;     /* fullname -> how many of users have it (GUINT) */
  GHashTable *peer_conversations; /* peer uuid -> GPtrArray of PpmConv* having it */
  guint64 activity_counter;
  /* latest_message_uuid of the conversations is from this sign-in's list
   * (the catch-up then skips those whose latest message was seen). */
  gboolean list_fresh;
  PpmRegistrySink sink;
  gpointer owner;
} PpmRegistry;

void      ppm_registry_init (PpmRegistry *registry, PpmRole role, const PpmRegistrySink *sink,
                             gpointer owner);
void      ppm_registry_clear (PpmRegistry *registry);
void      ppm_user_free (PpmUser *user);

/* Self or a known user, or NULL. */
const PpmUser *ppm_registry_lookup_user (PpmRegistry *registry, const char *uuid);
PpmConv  *ppm_registry_lookup_conv (PpmRegistry *registry, const char *uuid);
/* The conversation used most recently with this user, or NULL. */
PpmConv  *ppm_registry_conv_for_user (PpmRegistry *registry, const char *user_uuid);

/* Self from the sign-in (created or updated; the uuid may change). */
PpmUser  *ppm_registry_set_self (PpmRegistry *registry, const char *uuid);
PpmUser  *ppm_registry_user_ensure (PpmRegistry *registry, const char *uuid);
/* Replaces user's fullname (takes name), keeping the name index right. */
void      ppm_registry_user_set_fullname (PpmRegistry *registry, PpmUser *user, char *name);
void      ppm_registry_user_emit (PpmRegistry *registry, PpmUser *user);
/* Creates or updates a user from a user-list item; NULL without a uuid. */
PpmUser  *ppm_registry_user_from_json (PpmRegistry *registry, JsonObject *item,
                                       gboolean is_service_user);
/* A message's sender that no list told about (a visitor, or a new
 * colleague), named from the message and announced. */
void      ppm_registry_ensure_sender (PpmRegistry *registry, const PpmMessage *message);
/* The team list (PP_GET_APP_SERVICE_USER_LIST); changes are announced. */
void      ppm_registry_apply_team_list (PpmRegistry *registry, JsonArray *list);

PpmConv  *ppm_registry_conv_ensure (PpmRegistry *registry, const char *uuid);
/* The one parser of a conversation object (a list item, a
 * PP_GET_CONVERSATION_INFO answer, a created conversation): type (else
 * default_type), creator, assignee, and the name if it has none yet.
 * Returns the conversation, or NULL without a uuid. */
PpmConv  *ppm_registry_take_conversation (PpmRegistry *registry, const char *uuid,
                                          JsonObject *object, const char *default_type);
void      ppm_registry_conv_touch (PpmRegistry *registry, PpmConv *conv);
/* Replaces conv's peer (copies peer), keeping the peer index right. */
void      ppm_registry_conv_set_peer (PpmRegistry *registry, PpmConv *conv, const char *peer);
/* Members from a PP_GET_CONVERSATION_USER_LIST list; new users are announced. */
void      ppm_registry_conv_set_members (PpmRegistry *registry, PpmConv *conv, JsonArray *list);
void      ppm_registry_conv_emit (PpmRegistry *registry, PpmConv *conv);

/* Fetches a conversation and its members from the server, opens and
 * announces it, then calls done (also when the server does not know it:
 * it is then taken as a visitor's). */
typedef void (*PpmResolved) (gpointer data, const char *conversation_uuid);
void      ppm_registry_resolve (PpmRegistry *registry, PpmApi *api, const char *uuid,
                                GCancellable *cancellable, PpmResolved done, gpointer data);

G_END_DECLS
