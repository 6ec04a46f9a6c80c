/* ppm-purple.h: the libpurple glue's per-account state and the contract
 * between its files (one file per libpurple concept). Nothing here is global:
 * every account keeps a PpmAccount as its connection's protocol data.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

/* Build as a loadable plugin (PURPLE_INIT_PLUGIN exports purple_init_plugin). */
#define PURPLE_PLUGINS

#include <glib.h>
#include <glib/gi18n-lib.h>

#include <account.h>
#include <accountopt.h>
#include <blist.h>
#include <connection.h>
#include <core.h>
#include <conversation.h>
#include <debug.h>
#include <notify.h>
#include <plugin.h>
#include <prpl.h>
#include <proxy.h>
#include <request.h>
#include <server.h>
#include <signals.h>
#include <status.h>
#include <util.h>
#include <version.h>

#include "ppm-client.h"

#define PPM_PLUGIN_ID      "prpl-ppmessage"
#define PPM_PROTOCOL_NAME  "PPMessage"
#define PPM_DEBUG_CATEGORY "ppmessage"

/* Seconds a "typing" notice stays on screen without a new one. */
#define PPM_TYPING_TIMEOUT_S 6

typedef struct {
  PurpleAccount *account;
  PurpleConnection *gc;
  PpmClient *client;
  PpmRole role;
  gboolean closing;          /* close() began: libpurple calls that come late do nothing */
  gboolean showing_message;  /* a window that opens now was opened by a message (history.c) */
  GHashTable *pending_sends; /* message uuid -> IM partner name, until send_result */
  GList *xfers;              /* PurpleXfer* of this account still moving bytes (xfer.c) */
  GQueue outgoing;           /* parts of typed messages waiting for an image's upload (im.c) */
  gpointer image_upload;     /* the image being uploaded, or NULL (im.c) */
  char *typing_partner;      /* IM window whose conversation we watch for typing */
  guint typing_watch_id;     /* typing.c: the watch of a window just opened, asked for soon */
  GPtrArray *requests;       /* PpmRequest* waiting for the library's answer */
  struct _PpmIconQueue *icons; /* people.c: icons waiting or being downloaded */
  GHashTable *chat_ids;      /* chat.c: conversation uuid -> libpurple chat id */
  int last_chat_id;
  GHashTable *chat_typing;   /* chat.c: typing marks -> their timer ids */
  gpointer roomlist;         /* chat.c: the last room list (PurpleRoomlist*) */
  GHashTable *last_images;   /* original.c: IM partner -> the last image shown there */
  GPtrArray *team_scripts;   /* canned.c: the team's canned replies (PpmScript*) last listed */
} PpmAccount;

static inline PpmAccount *
ppm_account_from_gc (PurpleConnection *gc)
{
  return gc != NULL ? purple_connection_get_protocol_data (gc) : NULL;
}

/* A question to the library whose answer comes back through a callback:
 * what the answer is for (a buddy or window name). The library never calls
 * back after the session stopped; those left are freed with the account. */
typedef struct {
  PpmAccount *pa;
  char *who;
  gboolean paging;           /* history.c: /history (else: a window opened) */
} PpmRequest;

/* connection.c */
PpmRequest *ppm_request_new (PpmAccount *pa, const char *who);
/* The answer came: forgets and frees the request. */
void        ppm_request_done (PpmRequest *request);
void ppm_connection_login (PurpleAccount *account);
void ppm_connection_close (PurpleConnection *gc);
/* The single place where library errors become libpurple's reasons. */
PurpleConnectionError ppm_connection_error_reason (const GError *error, char **message);

/* settings.c: account options and the library's persistent state */
#define PPM_SETTING_SERVER   "server"
#define PPM_SETTING_ROLE     "role"
#define PPM_SETTING_API_KEY  "api_key"
#define PPM_SETTING_TERMINAL "terminal"
/* Hidden tuning settings (integers, seconds; 0 or unset: the library's
 * defaults), for tests and for unusual networks (accounts.xml):
 * how long a sent message may wait for the server's confirmation before it
 * is reported as not delivered, and the websocket keep-alive interval. */
#define PPM_SETTING_SEND_TIMEOUT "send_timeout"
/* Hidden: the SHA-256 fingerprint (hex) of a server certificate the user
 * chose to trust although it failed verification (see certificate.c). */
#define PPM_SETTING_PINNED_CERTIFICATE "pinned_certificate"
#define PPM_SETTING_KEEPALIVE    "keepalive_interval"
/* BitlBee only: its own setting for the IRC nicks of contacts, whose
 * default the plugin sets (settings.c). */
#define PPM_SETTING_BITLBEE_NICK_FORMAT "nick_format"
GList      *ppm_settings_account_options (void);
/* TRUE inside BitlBee, whose IRC front end shows no libpurple dialogs, drops
 * error lines written into conversations and signs an account out (closing
 * its questions) as soon as a sign-in fails. */
gboolean    ppm_ui_is_bitlbee (void);
PpmRole     ppm_settings_role (PurpleAccount *account);
const char *ppm_settings_terminal (PurpleAccount *account);
void        ppm_settings_save (PurpleAccount *account, const char *key, const char *value);
char       *ppm_settings_load (PurpleAccount *account, const char *key);
/* The library's keys (without the hidden prefix) that start with prefix. */
GPtrArray  *ppm_settings_list (PurpleAccount *account, const char *prefix);
/* Inside BitlBee the plugin's own state is also kept in a file of
 * libpurple's user directory (settings.c says why): writes it now if a
 * change is pending; shutdown also forgets it (plugin unload). */
void        ppm_settings_flush (void);
void        ppm_settings_shutdown (void);
/* Applies the hidden tuning settings to a client before it connects. */
void        ppm_settings_apply_tuning (PurpleAccount *account, PpmClient *client);

/* buddies.c: colleagues and visitors on the buddy list */
void ppm_buddies_user_changed (PpmAccount *pa, const PpmUser *user);
void ppm_buddies_conversation_changed (PpmAccount *pa, const PpmConversation *conversation);
void ppm_buddies_conversations_synced (PpmAccount *pa, GPtrArray *open_conversations);
/* The buddy name of the IM window that shows a conversation, or NULL. */
const char *ppm_buddies_partner_for_conversation (PpmAccount *pa,
                                                  const PpmConversation *conversation);
/* The conversation shown in the IM window with this buddy name, or NULL. */
const PpmConversation *ppm_buddies_conversation_for_partner (PpmAccount *pa,
                                                             const char *partner);
/* A conversation this agent is closing (actions.c): once closed its buddy
 * stays, marked closed and offline, until reopened or the next sign-in. */
void     ppm_buddies_set_closing (PurpleBuddy *buddy, gboolean closing);
gboolean ppm_buddies_is_closed (PurpleBuddy *buddy);
/* prpl tooltip_text: e-mail and role of the buddy's user. */
void ppm_buddies_tooltip (PurpleBuddy *buddy, PurpleNotifyUserInfo *info, gboolean full);
/* The account's own full name, shown by the UI for its messages. */
void ppm_buddies_show_own_name (PpmAccount *pa, const char *fullname);
/* A readable name for a user uuid (full name, e-mail, or the uuid), raw:
 * pass it through ppm_text_one_line () before libpurple sees it. */
const char *ppm_buddies_display_name (PpmAccount *pa, const char *user_uuid);

/* im.c: messages both ways */
int  ppm_im_send (PurpleConnection *gc, const char *who, const char *message,
                  PurpleMessageFlags flags);
void ppm_im_message (PpmAccount *pa, const PpmMessage *message,
                     const PpmConversation *conversation);
void ppm_im_send_result (PpmAccount *pa, const char *conversation_uuid,
                         const char *message_uuid, const GError *error);
/* The account closes: messages waiting behind an image are dropped. */
void ppm_im_clear_outgoing (PpmAccount *pa);
/* Writes a notice into the IM window with this partner, opening it if needed. */
void ppm_im_write_error (PpmAccount *pa, const char *partner, const char *text);
/* Writes an earlier message (history) into an open IM window: delayed, with
 * its time, no notification; the caller pauses the window's logging. */
void ppm_im_write_history (PpmAccount *pa, PurpleConversation *conv, const PpmMessage *message);
/* A message as plain text (images and files: name, size and link). */
char *ppm_im_plain_text (const PpmMessage *message);
/* Puts the message's downloaded picture in the image store ahead of html;
 * returns the store id to unref once written (0: none). */
int   ppm_im_prepend_image (const PpmMessage *message, char **html);

/* chat.c: group conversations of agents as libpurple chats */
gboolean ppm_chat_is_group (PpmAccount *pa, const char *conversation_uuid);
void     ppm_chat_conversation_changed (PpmAccount *pa, const PpmConversation *conversation);
void     ppm_chat_conversations_synced (PpmAccount *pa, GPtrArray *open_conversations);
/* The next three return FALSE when the conversation is no group (then it
 * is an IM's). */
gboolean ppm_chat_message (PpmAccount *pa, const PpmMessage *message,
                           const PpmConversation *conversation);
gboolean ppm_chat_send_result (PpmAccount *pa, const char *conversation_uuid,
                               const char *message_uuid, const GError *error);
gboolean ppm_chat_typing (PpmAccount *pa, const char *conversation_uuid, const char *user_uuid);
/* Writes an earlier message (history) into a chat window. */
void     ppm_chat_write_history (PpmAccount *pa, PurpleConversation *conv,
                                 const PpmMessage *message);
/* prpl chat calls */
GList      *ppm_chat_info (PurpleConnection *gc);
GHashTable *ppm_chat_info_defaults (PurpleConnection *gc, const char *chat_name);
char       *ppm_chat_get_name (GHashTable *components);
PurpleChat *ppm_chat_find_blist_chat (PurpleAccount *account, const char *conversation_uuid);
void        ppm_chat_join (PurpleConnection *gc, GHashTable *components);
void        ppm_chat_invite (PurpleConnection *gc, int id, const char *message, const char *who);
void        ppm_chat_leave (PurpleConnection *gc, int id);
int         ppm_chat_send (PurpleConnection *gc, int id, const char *message,
                           PurpleMessageFlags flags);
struct _PurpleRoomlist *ppm_chat_roomlist_get_list (PurpleConnection *gc);
void        ppm_chat_roomlist_cancel (struct _PurpleRoomlist *list);
/* The buddy-list menu of a group's chat: leaving the group. */
GList      *ppm_chat_menu (PurpleChat *chat);
void        ppm_chat_account_closed (PpmAccount *pa);

/* history.c: earlier messages in an IM window, once when the user first
 * sees it and on /history; the messages each window holds, so none is
 * shown twice. */
#define PPM_SETTING_HISTORY_COUNT "history_count"
#define PPM_HISTORY_COUNT_DEFAULT 20
void     ppm_history_plugin_load (PurplePlugin *plugin);
void     ppm_history_plugin_unload (PurplePlugin *plugin);
/* Follows IM windows opening and closing (from the first sign-in on). */
void     ppm_history_watch_windows (void);
/* The session ended: its reads will not answer. */
void     ppm_history_account_closed (PpmAccount *pa);
/* TRUE when the IM window with partner already shows this message. */
gboolean ppm_history_window_shows (PpmAccount *pa, const char *partner,
                                   const char *message_uuid);
/* The IM window with partner now shows this message (time_us 0: now). */
void     ppm_history_window_note (PpmAccount *pa, const char *partner,
                                  const char *message_uuid, gint64 time_us);

/* people.c: Get Info and buddy icons */
void ppm_people_get_info (PurpleConnection *gc, const char *who);
/* Downloads the buddy's icon unless it already came from icon_url. */
void ppm_people_update_icon (PpmAccount *pa, const char *who, const char *icon_url);
/* Icons wait until the account is connected: this starts them. */
void ppm_people_fetch_icons (PpmAccount *pa);
void ppm_people_account_closed (PpmAccount *pa);
/* A visitor's page (PpmUser.page_title, page_url) changed: a system line
 * says where the visitor is in the open window, or in the window once it
 * opens; Get Info and the tooltip show it too. */
void ppm_people_page_changed (PpmAccount *pa, const PpmUser *user);
void ppm_people_window_opened (PpmAccount *pa, PurpleConversation *conv);
void ppm_people_add_page (PpmAccount *pa, const char *user_uuid, PurpleNotifyUserInfo *info);

/* actions.c: the buddy menu and the account's actions */
GList *ppm_actions_buddy_menu (PurpleBlistNode *node);
GList *ppm_actions_account (PurplePlugin *plugin, gpointer context);

/* canned.c: /canned, the agent's canned replies kept with the account */
void ppm_canned_plugin_load (PurplePlugin *plugin);
void ppm_canned_plugin_unload (PurplePlugin *plugin);

/* original.c: /original, the full-size picture of an IM window's last image */
void ppm_original_plugin_load (PurplePlugin *plugin);
void ppm_original_plugin_unload (PurplePlugin *plugin);
/* An image (any message: others are ignored) was shown in the IM window with partner. */
void ppm_original_image_shown (PpmAccount *pa, const char *partner, const PpmMessage *message);
void ppm_original_account_closed (PpmAccount *pa);
/* An image's text line (taken) with how to get the full size, where the UI has commands. */
char *ppm_original_image_line (char *line);

/* typing.c */
void ppm_typing_start (PpmAccount *pa);
void ppm_typing_stop (PpmAccount *pa);
void ppm_typing_refresh_watches (PpmAccount *pa);
unsigned int ppm_typing_send (PurpleConnection *gc, const char *name, PurpleTypingState state);
void ppm_typing_received (PpmAccount *pa, const char *conversation_uuid, const char *user_uuid);
/* The window showing this partner (or group) watches its conversation. */
void ppm_typing_watch (PpmAccount *pa, const char *partner);

/* status.c */
GList *ppm_status_types (PurpleAccount *account);
void   ppm_status_set (PurpleAccount *account, PurpleStatus *status);
/* Sends the account's active status to the server (after sign-in). */
void   ppm_status_push_current (PpmAccount *pa);
/* A buddy whose conversation this agent closed shows offline. */
void   ppm_status_show_closed (PpmAccount *pa, const char *who);
/* Account action: asks for the service status and sets the account's. */
void   ppm_status_ask_service_status (PurpleConnection *gc);
/* Shows a user's presence on its buddy. */
void   ppm_status_show_presence (PpmAccount *pa, const char *user_uuid, PpmPresence presence);

/* text.c: the only way server text reaches libpurple */
/* Message text as libpurple's HTML: valid UTF-8, control characters other
 * than \n and \t removed, markup escaped. */
char *ppm_text_to_html (const char *plain);
/* Plain text on one line, for names (aliases, senders) and error details:
 * valid UTF-8, no control characters, trimmed. Not escaped: libpurple's UIs
 * escape aliases, senders and connection errors themselves. */
char *ppm_text_one_line (const char *name);

/* certificate.c */
/* libpurple's reason for a certificate that failed verification. */
PurpleConnectionError ppm_certificate_error_reason (PurpleAccount *account,
                                                    const char *fingerprint,
                                                    GTlsCertificateFlags errors);
/* Asks the user whether to trust (pin) this certificate for the account;
 * trusting it signs the account in again. */
void ppm_certificate_ask (PurpleAccount *account, const char *fingerprint);
/* "AB:CD:..." for a hex fingerprint (NULL: empty). */
char *ppm_certificate_readable_fingerprint (const char *hex);

/* proxy.c */
GProxyResolver *ppm_proxy_resolver_for_account (PurpleAccount *account);

/* xfer.c: files as libpurple file transfers */
/* Offers the file of a received FILE message for download. */
void ppm_xfer_offer (PpmAccount *pa, const char *partner, const PpmMessage *message);
/* Offers the file at url (of this server) for download under name (made
 * safe here); size -1: unknown. */
void ppm_xfer_offer_download (PpmAccount *pa, const char *partner, const char *url,
                              const char *name, gint64 size);
/* prpl send_file, new_xfer, can_receive_file: "Send File" to a contact
 * with an open conversation. */
void        ppm_xfer_send_file (PurpleConnection *gc, const char *who, const char *file);
PurpleXfer *ppm_xfer_new (PurpleConnection *gc, const char *who);
gboolean    ppm_xfer_can_receive (PurpleConnection *gc, const char *who);
/* The account closes: its transfers are cancelled. */
void ppm_xfer_cancel_all (PpmAccount *pa);
