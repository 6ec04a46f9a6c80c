/* purple-harness.h: a headless libpurple core for plugin tests (nullclient
 * style). It loads the built plugin from PLUGIN_DIR (default "build"), runs on
 * the GLib main loop, and records what a Pidgin user would see: every
 * conversation write, connection progress and errors, typing notices, the
 * buddy list, and the complete debug log.
 *
 * Each test case runs in its own process (harness_add_test), with a fresh
 * temporary libpurple user directory, so cases cannot leak into each other.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>
#include <purple.h>

#include "ppm-test-peer.h"

G_BEGIN_DECLS

#define HARNESS_UI_ID "ppm-tests"
#define HARNESS_PLUGIN_ID "prpl-ppmessage"

typedef struct {
  PurpleAccount *account;
  char *conversation;         /* conversation name (the buddy name for IMs) */
  PurpleConversationType type;
  char *who;
  char *alias;
  char *text;
  PurpleMessageFlags flags;
  time_t time;
  GPtrArray *images;          /* GBytes* of each <img id=N> in text, from the image store */
} HarnessWrite;

typedef struct {
  PurpleAccount *account;
  char *text;
  size_t step;
  size_t count;
} HarnessProgress;

typedef struct {
  PurpleAccount *account;
  PurpleConnectionError reason;
  char *text;
} HarnessError;

typedef struct {
  PurpleAccount *account;
  char *who;
  PurpleTypingState state;
} HarnessTyping;

/* A question with buttons the plugin asked (purple_request_action). */
typedef struct {
  PurpleAccount *account;
  char *title;
  char *primary;
  char *secondary;
} HarnessQuestion;

/* A file transfer as the UI saw it (kept after libpurple frees it). */
typedef struct {
  PurpleXfer *xfer;           /* NULL once libpurple destroyed it */
  PurpleXferType type;
  char *filename;             /* the name offered or sent */
  char *local_filename;       /* where it was saved or read from */
  PurpleXferStatusType status;  /* the last seen */
  size_t bytes_sent;
  size_t size;
  guint progress_updates;
  guint partial_progress_updates;  /* strictly between 0 and 100 % */
  double cancelled_at;        /* the progress at which the harness cancelled it, or 0 */
  gboolean destroyed;
} HarnessXfer;

/* Registers a test case that runs body in a child process with its own
 * libpurple core (harness_init before, harness_shutdown after). */
void harness_add_test (const char *path, void (*body) (void));
/* Same for a body that takes data (e.g. one case of a table). */
void harness_add_data_test (const char *path, gconstpointer data,
                            void (*body) (gconstpointer data));

/* libpurple's event loop on the GLib main loop (nullclient's glue), for
 * programs that run a core of their own (tests/purple-probe.c). */
PurpleEventLoopUiOps *harness_eventloop_ops (void);

/* Core up with a fresh user dir and the plugin loaded; done by harness_add_test. */
void harness_init (void);
void harness_shutdown (void);
/* Same in an existing user dir, kept at shutdown (a libpurple process
 * that starts again where an earlier one stopped). */
void harness_init_in (const char *user_dir);

/* A PPMessage agent account (not yet connected). */
PurpleAccount *harness_add_account (const char *server_url, const char *email,
                                    const char *password);
/* Enables the account and sets it available, which signs it in. */
void harness_connect (PurpleAccount *account);
/* Signs the account out (sets it offline). */
void harness_disconnect (PurpleAccount *account);

/* Iterates the default main context until cond (data) is TRUE or timeout_ms
 * passes (the timeout is multiplied by HARNESS_TIMEOUT_SCALE when set).
 * Returns cond's last value. Never sleeps. */
gboolean harness_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms);
/* Same for an expression, re-evaluated after each main-loop iteration. */
#define HARNESS_WAIT_FOR(expr, timeout_ms) PPMS_WAIT_FOR (expr, timeout_ms)
/* Runs the main loop for a while (to show that something does NOT happen). */
void harness_run_for (guint ms);

gboolean harness_is_connected (PurpleAccount *account);
gboolean harness_wait_connected (PurpleAccount *account, guint timeout_ms);

/* Password prompts (an agent account without a saved password) are answered
 * with this password, or cancelled when it is NULL (the default). */
void  harness_set_password_answer (const char *password);
guint harness_count_password_prompts (void);

/* Questions (purple_request_action) are answered with the action of this
 * label (without mnemonic underscores), or left open when it is NULL (the
 * default) or no action has that label. */
void  harness_set_action_answer (const char *label);

/* Save dialogs (purple_request_file) are answered with the suggested
 * name in this directory, or cancelled when it is NULL (the default). */
void  harness_set_save_directory (const char *directory);
/* A transfer whose progress reaches this fraction (0 < fraction < 1) is
 * cancelled by the user at once; 0 (the default): never. */
void  harness_set_cancel_at_progress (double fraction);

/* ---- Captured ---- */
GPtrArray *harness_xfers (void);         /* HarnessXfer*, in order of creation */
GPtrArray *harness_questions (void);     /* HarnessQuestion*, in order */
GPtrArray *harness_writes (void);        /* HarnessWrite*, in order */
GPtrArray *harness_progress (void);      /* HarnessProgress* */
GPtrArray *harness_errors (void);        /* HarnessError* */
GPtrArray *harness_typing (void);        /* HarnessTyping* */
/* First write (account NULL: any) whose text contains substring. */
const HarnessWrite *harness_find_write (PurpleAccount *account, const char *substring);
guint harness_count_writes (PurpleAccount *account, const char *substring);
/* The account's first connection error, or NULL. */
const HarnessError *harness_find_error (PurpleAccount *account);
guint harness_count_typing (PurpleAccount *account, const char *who, PurpleTypingState state);
/* Every libpurple debug line so far ("level category: text" lines). */
const char *harness_debug_log (void);
/* The user looks at conv (NULL: at no window): it has focus from now on,
 * and libpurple's conversation-updated (UNSEEN) says so, as in Pidgin and
 * Finch. */
void harness_view_conversation (PurpleConversation *conv);
/* Forgets the writes, progress, errors and typing captured so far (not the log). */
void harness_clear (void);

/* Buddy of the account with this name (the user's uuid), or NULL. */
PurpleBuddy *harness_find_buddy (PurpleAccount *account, const char *name);
/* Number of buddies of the account with this name (duplicates show up). */
guint harness_count_buddies (PurpleAccount *account, const char *name);
/* Name of the group a buddy is in. */
const char *harness_buddy_group (PurpleBuddy *buddy);

G_END_DECLS
