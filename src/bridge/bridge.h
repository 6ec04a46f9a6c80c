/* bridge.h: the PPMessage bridge plugin's parts. A contact who writes to
 * a bridged account of another network becomes a PPMessage visitor of the
 * team (one PpmClient per contact, opened when needed); the agents'
 * replies go back to the contact on the original network.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <purple.h>

#include "ppm-client.h"

#define BRIDGE_PLUGIN_ID      "core-ppmessage-bridge"
#define BRIDGE_PPMESSAGE_PRPL "prpl-ppmessage"
#define BRIDGE_PREFS          "/plugins/core/ppmessage-bridge"
#define BRIDGE_PREF_LINK      BRIDGE_PREFS "/team_link"
#define BRIDGE_PREF_QUIET     BRIDGE_PREFS "/quiet_seconds"
#define BRIDGE_PREF_ACCOUNTS  BRIDGE_PREFS "/accounts"
#define BRIDGE_QUIET_DEFAULT  1800

/* ---- prefs.c: Tools > Plugins > Configure ---- */
void bridge_prefs_init (void);
PurplePluginUiInfo *bridge_prefs_ui_info (void);
/* An account the user chose to bridge (never a PPMessage account). */
gboolean bridge_account_is_bridged (PurpleAccount *account);
/* Its preference path (g_free), e.g. for a test that sets it. */
char *bridge_account_pref (PurpleAccount *account);

/* ---- state.c: a contact's state file in purple_user_dir() ---- */
/* Groups of a state file. */
#define BRIDGE_GROUP_CONTACT    "contact"     /* account, protocol, who, terminal, open */
#define BRIDGE_GROUP_SETTINGS   "settings"    /* the client library's own settings */
#define BRIDGE_GROUP_TO_TEAM    "to_team"     /* message uuid = text, not yet stored by the team */
#define BRIDGE_GROUP_TO_CONTACT "to_contact"  /* message uuid = text, not yet taken by the network */
#define BRIDGE_GROUP_TAKEN      "taken"       /* uuids of the latest replies taken over, oldest first */
/* message uuid = local path;name: a contact's file not yet stored by the team */
#define BRIDGE_GROUP_FILES      "files_to_team"
/* reply uuid = url;name;size: an agent's file offered to the contact as a
 * file; its to_contact line (the link) goes only if that fails */
#define BRIDGE_GROUP_FILES_OUT  "files_to_contact"
char     *bridge_state_dir (void);
/* The file of this account's contact (g_free). */
char     *bridge_state_path (PurpleAccount *account, const char *who);
GKeyFile *bridge_state_load (const char *path);
/* Written whole and atomically (rename): a crash leaves the old or the new. */
void      bridge_state_save (GKeyFile *state, const char *path);
/* The keys of a group in file order (g_strfreev), never NULL. */
char    **bridge_state_keys (GKeyFile *state, const char *group);

/* ---- contact.c: one bridged contact and its visitor session ---- */
typedef struct _BridgeContact BridgeContact;
void bridge_contacts_init (void);
/* Stops every session (signing out) and forgets the contacts. */
void bridge_contacts_shutdown (void);
/* Sessions that were open, and work left, when the process last stopped. */
void bridge_contacts_resume (void);
/* The contact wrote text (plain text) to a bridged account. */
void bridge_contact_heard (PurpleAccount *account, const char *who, const char *text);
/* The contact is typing (only a session already open carries it: typing
 * alone opens none). */
void bridge_contact_typing (PurpleAccount *account, const char *who);
/* The account is back: replies waiting for it go out. */
void bridge_contacts_account_online (PurpleAccount *account);
/* The contact sent a file, complete at path (the bridge's own copy, deleted
 * once the team has it), under this name. */
void bridge_contact_sent_file (PurpleAccount *account, const char *who, const char *path,
                               const char *name);
/* The contact is told that their file did not reach the team, and why
 * (a line kept until the network took it, like a reply). */
void bridge_contact_file_refused (PurpleAccount *account, const char *who, const char *name,
                                  const char *why);

/* A file the bridge offered a contact (at path) was taken, or not: then
 * its link goes instead. */
void bridge_contacts_offer_ended (const char *path, gboolean delivered);

/* ---- files.c: files a contact offers, accepted into the state ---- */
/* Where they are kept until the team has them (g_free). */
char *bridge_files_dir (void);
void  bridge_files_init (PurplePlugin *plugin);
/* Deletes what a crash left in that directory (a receive cut off, a copy
 * of an agent's file being offered): every file but the kept ones (a set
 * of paths) and those of transfers running now. */
void  bridge_files_sweep (GHashTable *kept_paths);
/* Cancels the bridge's offer of the file at path; FALSE: none runs. */
gboolean bridge_files_cancel_offer (const char *path);
