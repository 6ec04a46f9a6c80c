/* purple-harness.c: the headless libpurple core of the plugin tests.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "purple-harness.h"

#include <glib/gstdio.h>
#include <string.h>
#include <gmodule.h>

#include "ppm-test-peer.h"

typedef struct {
  char *user_dir;
  gboolean keep_user_dir;     /* the caller's: not removed at shutdown */
  GPtrArray *writes;
  GPtrArray *progress;
  GPtrArray *errors;
  GPtrArray *typing;
  GString *debug_log;
  GHashTable *ui_info;
  GModule *plugin_module;
  char *password_answer;     /* NULL: password prompts are cancelled */
  guint password_prompts;
  char *action_answer;       /* label of the action to choose; NULL: none */
  GPtrArray *questions;      /* HarnessQuestion*: every action request */
  char *save_directory;      /* file requests answered with a file in it; NULL: cancelled */
  GPtrArray *xfers;          /* HarnessXfer*: every file transfer */
  double cancel_at_progress; /* > 0: a transfer is cancelled on reaching it (below 1) */
} Harness;

static Harness harness;

/* ---- GLib event loop for libpurple (as nullclient does) ---- */

typedef struct {
  PurpleInputFunction function;
  gpointer data;
} InputClosure;

#define READ_CONDITION  (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define WRITE_CONDITION (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

static gboolean
input_dispatch (GIOChannel *source, GIOCondition condition, gpointer data)
{
  InputClosure *closure = data;
  PurpleInputCondition purple_condition = 0;

  if (condition & READ_CONDITION)
    purple_condition |= PURPLE_INPUT_READ;
  if (condition & WRITE_CONDITION)
    purple_condition |= PURPLE_INPUT_WRITE;
  closure->function (closure->data, g_io_channel_unix_get_fd (source), purple_condition);
  return TRUE;
}

static guint
input_add (gint fd, PurpleInputCondition condition, PurpleInputFunction function, gpointer data)
{
  InputClosure *closure = g_new0 (InputClosure, 1);
  GIOCondition glib_condition = 0;
  GIOChannel *channel;
  guint id;

  closure->function = function;
  closure->data = data;
  if (condition & PURPLE_INPUT_READ)
    glib_condition |= READ_CONDITION;
  if (condition & PURPLE_INPUT_WRITE)
    glib_condition |= WRITE_CONDITION;
  channel = g_io_channel_unix_new (fd);
  id = g_io_add_watch_full (channel, G_PRIORITY_DEFAULT, glib_condition, input_dispatch,
                            closure, g_free);
  g_io_channel_unref (channel);
  return id;
}

static PurpleEventLoopUiOps eventloop_ops = {
  .timeout_add = g_timeout_add,
  .timeout_remove = g_source_remove,
  .input_add = input_add,
  .input_remove = g_source_remove,
  .timeout_add_seconds = g_timeout_add_seconds,
};

PurpleEventLoopUiOps *
harness_eventloop_ops (void)
{
  return &eventloop_ops;
}

/* ---- Captures ---- */

static void
write_free (gpointer p)
{
  HarnessWrite *w = p;

  g_free (w->conversation);
  g_free (w->who);
  g_free (w->alias);
  g_free (w->text);
  g_clear_pointer (&w->images, g_ptr_array_unref);
  g_free (w);
}

static void
progress_free (gpointer p)
{
  HarnessProgress *pr = p;

  g_free (pr->text);
  g_free (pr);
}

static void
error_free (gpointer p)
{
  HarnessError *e = p;

  g_free (e->text);
  g_free (e);
}

static void
typing_free (gpointer p)
{
  HarnessTyping *t = p;

  g_free (t->who);
  g_free (t);
}

/* The bytes of every <img id=N> of a line, read from libpurple's image
 * store while the line is written (the plugin unrefs its images after
 * writing, as Pidgin's window then holds its own reference). */
static GPtrArray *
images_of_line (const char *html)
{
  GPtrArray *images = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *at = html;

  while (at != NULL && (at = strstr (at, "<img id=\"")) != NULL) {
    PurpleStoredImage *image;

    at += strlen ("<img id=\"");
    image = purple_imgstore_find_by_id ((int) g_ascii_strtoll (at, NULL, 10));
    if (image != NULL)
      g_ptr_array_add (images, g_bytes_new (purple_imgstore_get_data (image),
                                            purple_imgstore_get_size (image)));
  }
  return images;
}

static void
on_write_conv (PurpleConversation *conv, const char *name, const char *alias,
               const char *message, PurpleMessageFlags flags, time_t mtime)
{
  HarnessWrite *w = g_new0 (HarnessWrite, 1);

  w->account = purple_conversation_get_account (conv);
  w->conversation = g_strdup (purple_conversation_get_name (conv));
  w->type = purple_conversation_get_type (conv);
  w->who = g_strdup (name);
  w->alias = g_strdup (alias);
  w->text = g_strdup (message);
  w->flags = flags;
  w->time = mtime;
  w->images = images_of_line (message);
  g_ptr_array_add (harness.writes, w);
  if (g_getenv ("HARNESS_VERBOSE") != NULL)
    g_printerr ("[write %s] %s (%s) flags 0x%x: %s\n", w->conversation, name ? name : "",
                alias ? alias : "", flags, message);
}

/* The window the user looks at, as a UI with windows would report it. */
static PurpleConversation *focused_conversation;

static gboolean
on_has_focus (PurpleConversation *conv)
{
  return conv == focused_conversation;
}

static void
on_destroy_conversation (PurpleConversation *conv)
{
  if (conv == focused_conversation)
    focused_conversation = NULL;
}

void
harness_view_conversation (PurpleConversation *conv)
{
  focused_conversation = conv;
  /* What Pidgin (a tab shown) and Finch (a window focused) emit. */
  if (conv != NULL)
    purple_conversation_update (conv, PURPLE_CONV_UPDATE_UNSEEN);
}

static PurpleConversationUiOps conversation_ops = {
  .write_conv = on_write_conv,
  .destroy_conversation = on_destroy_conversation,
  .has_focus = on_has_focus,
};

static void
on_connect_progress (PurpleConnection *gc, const char *text, size_t step, size_t count)
{
  HarnessProgress *pr = g_new0 (HarnessProgress, 1);

  pr->account = purple_connection_get_account (gc);
  pr->text = g_strdup (text);
  pr->step = step;
  pr->count = count;
  g_ptr_array_add (harness.progress, pr);
}

static void
on_report_disconnect_reason (PurpleConnection *gc, PurpleConnectionError reason,
                             const char *text)
{
  HarnessError *e = g_new0 (HarnessError, 1);

  e->account = purple_connection_get_account (gc);
  e->reason = reason;
  e->text = g_strdup (text);
  g_ptr_array_add (harness.errors, e);
  if (g_getenv ("HARNESS_VERBOSE") != NULL)
    g_printerr ("[error] reason %d: %s\n", reason, text);
}

static PurpleConnectionUiOps connection_ops = {
  .connect_progress = on_connect_progress,
  .report_disconnect_reason = on_report_disconnect_reason,
};

static const char *
level_name (PurpleDebugLevel level)
{
  switch (level) {
  case PURPLE_DEBUG_MISC: return "misc";
  case PURPLE_DEBUG_INFO: return "info";
  case PURPLE_DEBUG_WARNING: return "warning";
  case PURPLE_DEBUG_ERROR: return "error";
  case PURPLE_DEBUG_FATAL: return "fatal";
  default: return "all";
  }
}

static void
on_debug_print (PurpleDebugLevel level, const char *category, const char *arg_s)
{
  g_string_append_printf (harness.debug_log, "%s %s: %s\n", level_name (level),
                          category != NULL ? category : "-", arg_s);
  if (g_getenv ("HARNESS_VERBOSE") != NULL)
    g_printerr ("(%s) %s: %s\n", level_name (level), category != NULL ? category : "-", arg_s);
}

static gboolean
on_debug_is_enabled (PurpleDebugLevel level, const char *category)
{
  return TRUE;
}

static PurpleDebugUiOps debug_ops = {
  .print = on_debug_print,
  .is_enabled = on_debug_is_enabled,
};

static void
on_typing_changed (PurpleAccount *account, const char *name, PurpleTypingState state)
{
  HarnessTyping *t = g_new0 (HarnessTyping, 1);

  t->account = account;
  t->who = g_strdup (name);
  t->state = state;
  g_ptr_array_add (harness.typing, t);
}

static void
on_buddy_typing (PurpleAccount *account, const char *name, gpointer data)
{
  on_typing_changed (account, name, PURPLE_TYPING);
}

static void
on_buddy_typing_stopped (PurpleAccount *account, const char *name, gpointer data)
{
  on_typing_changed (account, name, PURPLE_NOT_TYPING);
}

/* ---- Requests: password prompts answered (or cancelled) like a user would ---- */

typedef struct {
  PurpleRequestFields *fields;
  GCallback ok_cb;
  GCallback cancel_cb;
  gpointer user_data;
} HarnessRequest;

static gboolean
answer_request (gpointer data)
{
  HarnessRequest *request = data;
  PurpleRequestField *password = purple_request_fields_get_field (request->fields, "password");

  if (password != NULL && harness.password_answer != NULL) {
    purple_request_field_string_set_value (password, harness.password_answer);
    if (request->ok_cb != NULL)
      ((PurpleRequestFieldsCb) request->ok_cb) (request->user_data, request->fields);
  } else if (request->cancel_cb != NULL) {
    ((PurpleRequestFieldsCb) request->cancel_cb) (request->user_data, request->fields);
  }
  purple_request_close (PURPLE_REQUEST_FIELDS, request);
  return G_SOURCE_REMOVE;
}

static void *
on_request_fields (const char *title, const char *primary, const char *secondary,
                   PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
                   const char *cancel_text, GCallback cancel_cb, PurpleAccount *account,
                   const char *who, PurpleConversation *conv, void *user_data)
{
  HarnessRequest *request = g_new0 (HarnessRequest, 1);

  if (purple_request_fields_get_field (fields, "password") != NULL)
    harness.password_prompts++;
  request->fields = fields;
  request->ok_cb = ok_cb;
  request->cancel_cb = cancel_cb;
  request->user_data = user_data;
  g_idle_add (answer_request, request);
  return request;
}

static void
on_close_request (PurpleRequestType type, void *ui_handle)
{
  HarnessRequest *request = ui_handle;

  if (type != PURPLE_REQUEST_FIELDS || request == NULL)
    return;
  purple_request_fields_destroy (request->fields);
  g_free (request);
}

/* ---- Action requests (questions with buttons), answered by label ---- */

typedef struct {
  GPtrArray *labels;     /* char* */
  GPtrArray *callbacks;  /* PurpleRequestActionCb */
  gpointer user_data;
} HarnessAction;

static gboolean
answer_action (gpointer data)
{
  HarnessAction *action = data;

  for (guint i = 0; harness.action_answer != NULL && i < action->labels->len; i++) {
    PurpleRequestActionCb callback = (PurpleRequestActionCb) action->callbacks->pdata[i];

    if (g_strcmp0 (action->labels->pdata[i], harness.action_answer) == 0) {
      if (callback != NULL)
        callback (action->user_data, (int) i);
      purple_request_close (PURPLE_REQUEST_ACTION, action);
      return G_SOURCE_REMOVE;
    }
  }
  return G_SOURCE_REMOVE; /* left open, as a user who does not answer */
}

static void
question_free (gpointer p)
{
  HarnessQuestion *q = p;

  g_free (q->title);
  g_free (q->primary);
  g_free (q->secondary);
  g_free (q);
}

static void *
on_request_action (const char *title, const char *primary, const char *secondary,
                   int default_action, PurpleAccount *account, const char *who,
                   PurpleConversation *conv, void *user_data, size_t action_count,
                   va_list actions)
{
  HarnessAction *action = g_new0 (HarnessAction, 1);
  HarnessQuestion *question = g_new0 (HarnessQuestion, 1);

  question->account = account;
  question->title = g_strdup (title);
  question->primary = g_strdup (primary);
  question->secondary = g_strdup (secondary);
  g_ptr_array_add (harness.questions, question);
  action->labels = g_ptr_array_new_with_free_func (g_free);
  action->callbacks = g_ptr_array_new ();
  action->user_data = user_data;
  for (size_t i = 0; i < action_count; i++) {
    const char *label = va_arg (actions, const char *);
    PurpleRequestActionCb callback = va_arg (actions, PurpleRequestActionCb);

    /* Mnemonics ("_Cancel") are not part of what the user reads. */
    g_ptr_array_add (action->labels, purple_strreplace (label, "_", ""));
    g_ptr_array_add (action->callbacks, (gpointer) callback);
  }
  g_idle_add (answer_action, action);
  return action;
}

static void
action_free (HarnessAction *action)
{
  g_ptr_array_unref (action->labels);
  g_ptr_array_unref (action->callbacks);
  g_free (action);
}

typedef struct _HarnessFileAnswer HarnessFileAnswer;
static void file_answer_free (HarnessFileAnswer *answer);

static void
on_close_any_request (PurpleRequestType type, void *ui_handle)
{
  if (type == PURPLE_REQUEST_ACTION) {
    /* The idle answer may still be pending: it must not see freed memory. */
    g_idle_remove_by_data (ui_handle);
    action_free (ui_handle);
    return;
  }
  if (type == PURPLE_REQUEST_FILE) {
    file_answer_free (ui_handle);
    return;
  }
  on_close_request (type, ui_handle);
}

void
harness_set_action_answer (const char *label)
{
  g_free (harness.action_answer);
  harness.action_answer = g_strdup (label);
}

GPtrArray *
harness_questions (void)
{
  return harness.questions;
}

/* ---- File requests and file transfers ---- */

struct _HarnessFileAnswer {
  PurpleRequestFileCb ok;
  PurpleRequestFileCb cancel;
  gpointer user_data;
  char *path;                /* NULL: cancelled */
};

static gboolean
answer_file (gpointer data)
{
  HarnessFileAnswer *answer = data;

  if (answer->path != NULL)
    answer->ok (answer->user_data, answer->path);
  else if (answer->cancel != NULL)
    answer->cancel (answer->user_data, NULL);
  return G_SOURCE_REMOVE;      /* libpurple closes the request later */
}

static void
file_answer_free (HarnessFileAnswer *answer)
{
  g_idle_remove_by_data (answer);
  g_free (answer->path);
  g_free (answer);
}

/* The save dialog: the file the plugin suggested, in save_directory. */
static void *
on_request_file (const char *title, const char *filename, gboolean savedialog,
                 GCallback ok_cb, GCallback cancel_cb, PurpleAccount *account, const char *who,
                 PurpleConversation *conv, void *user_data)
{
  HarnessFileAnswer *answer = g_new0 (HarnessFileAnswer, 1);

  answer->ok = (PurpleRequestFileCb) ok_cb;
  answer->cancel = (PurpleRequestFileCb) cancel_cb;
  answer->user_data = user_data;
  if (harness.save_directory != NULL)
    answer->path = g_build_filename (harness.save_directory, filename ? filename : "", NULL);
  g_idle_add (answer_file, answer);
  return answer;
}

void
harness_set_save_directory (const char *directory)
{
  g_free (harness.save_directory);
  harness.save_directory = g_strdup (directory);
}

static void
xfer_record_free (gpointer p)
{
  HarnessXfer *record = p;

  g_free (record->filename);
  g_free (record->local_filename);
  g_free (record);
}

static HarnessXfer *
xfer_record (PurpleXfer *xfer)
{
  for (guint i = 0; i < harness.xfers->len; i++) {
    HarnessXfer *record = g_ptr_array_index (harness.xfers, i);

    if (record->xfer == xfer)
      return record;
  }
  return NULL;
}

/* Copies what a test asserts while the transfer still exists. */
static void
xfer_note (PurpleXfer *xfer)
{
  HarnessXfer *record = xfer_record (xfer);

  if (record == NULL)
    return;
  record->status = purple_xfer_get_status (xfer);
  record->bytes_sent = purple_xfer_get_bytes_sent (xfer);
  record->size = purple_xfer_get_size (xfer);
  if (record->filename == NULL && purple_xfer_get_filename (xfer) != NULL)
    record->filename = g_strdup (purple_xfer_get_filename (xfer));
  if (record->local_filename == NULL && purple_xfer_get_local_filename (xfer) != NULL)
    record->local_filename = g_strdup (purple_xfer_get_local_filename (xfer));
}

static void
on_new_xfer (PurpleXfer *xfer)
{
  HarnessXfer *record = g_new0 (HarnessXfer, 1);

  record->xfer = xfer;
  record->type = purple_xfer_get_type (xfer);
  g_ptr_array_add (harness.xfers, record);
}

static void
on_xfer_progress (PurpleXfer *xfer, double percent)
{
  HarnessXfer *record = xfer_record (xfer);

  xfer_note (xfer);
  if (record == NULL)
    return;
  record->progress_updates++;
  if (percent > 0 && percent < 1)
    record->partial_progress_updates++;
  if (harness.cancel_at_progress > 0 && percent >= harness.cancel_at_progress && percent < 1 &&
      !purple_xfer_is_canceled (xfer)) {
    record->cancelled_at = percent;
    purple_xfer_cancel_local (xfer);
  }
}

static void
on_xfer_destroy (PurpleXfer *xfer)
{
  HarnessXfer *record = xfer_record (xfer);

  xfer_note (xfer);
  if (record != NULL) {
    record->destroyed = TRUE;
    record->xfer = NULL;
  }
}

static PurpleXferUiOps xfer_ops = {
  .new_xfer = on_new_xfer,
  .destroy = on_xfer_destroy,
  .add_xfer = xfer_note,
  .update_progress = on_xfer_progress,
  .cancel_local = xfer_note,
  .cancel_remote = xfer_note,
};

GPtrArray *
harness_xfers (void)
{
  return harness.xfers;
}

void
harness_set_cancel_at_progress (double fraction)
{
  harness.cancel_at_progress = fraction;
}

static PurpleRequestUiOps request_ops = {
  .request_fields = on_request_fields,
  .request_action = on_request_action,
  .request_file = on_request_file,
  .close_request = on_close_any_request,
};

void
harness_set_password_answer (const char *password)
{
  g_free (harness.password_answer);
  harness.password_answer = g_strdup (password);
}

guint
harness_count_password_prompts (void)
{
  return harness.password_prompts;
}

static GHashTable *
get_ui_info (void)
{
  if (harness.ui_info == NULL) {
    harness.ui_info = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_insert (harness.ui_info, "name", "ppm-tests");
    g_hash_table_insert (harness.ui_info, "version", "1");
    g_hash_table_insert (harness.ui_info, "client_type", "bot");
  }
  return harness.ui_info;
}

static void
ui_init (void)
{
  purple_conversations_set_ui_ops (&conversation_ops);
  purple_connections_set_ui_ops (&connection_ops);
  purple_request_set_ui_ops (&request_ops);
  purple_xfers_set_ui_ops (&xfer_ops);
}

static PurpleCoreUiOps core_ops = {
  .ui_init = ui_init,
  .get_ui_info = get_ui_info,
};

/* ---- Life cycle ---- */

void
harness_init (void)
{
  harness_init_in (NULL);
}

void
harness_init_in (const char *user_dir)
{
  const char *plugin_dir = g_getenv ("PLUGIN_DIR");
  PurplePlugin *prpl;

  harness.writes = g_ptr_array_new_with_free_func (write_free);
  harness.progress = g_ptr_array_new_with_free_func (progress_free);
  harness.errors = g_ptr_array_new_with_free_func (error_free);
  harness.typing = g_ptr_array_new_with_free_func (typing_free);
  harness.questions = g_ptr_array_new_with_free_func (question_free);
  harness.xfers = g_ptr_array_new_with_free_func (xfer_record_free);
  harness.debug_log = g_string_new (NULL);
  harness.user_dir = user_dir ? g_strdup (user_dir) : g_dir_make_tmp ("ppm-purple-XXXXXX", NULL);
  harness.keep_user_dir = user_dir != NULL;
  g_assert_nonnull (harness.user_dir);

  purple_util_set_user_dir (harness.user_dir);
  purple_debug_set_ui_ops (&debug_ops);
  purple_debug_set_enabled (TRUE);
  purple_debug_set_verbose (TRUE);
  purple_core_set_ui_ops (&core_ops);
  purple_eventloop_set_ui_ops (&eventloop_ops);
  purple_plugins_add_search_path (plugin_dir != NULL && *plugin_dir != '\0' ? plugin_dir : "build");
  g_assert_true (purple_core_init (HARNESS_UI_ID));

  purple_set_blist (purple_blist_new ());
  purple_blist_load ();
  purple_prefs_set_string ("/purple/away/idle_reporting", "none");
  purple_prefs_set_bool ("/purple/logging/log_ims", FALSE);
  purple_prefs_set_bool ("/purple/logging/log_chats", FALSE);
  purple_signal_connect (purple_conversations_get_handle (), "buddy-typing", &harness,
                         PURPLE_CALLBACK (on_buddy_typing), NULL);
  purple_signal_connect (purple_conversations_get_handle (), "buddy-typing-stopped", &harness,
                         PURPLE_CALLBACK (on_buddy_typing_stopped), NULL);

  prpl = purple_find_prpl (HARNESS_PLUGIN_ID);
  if (prpl == NULL)
    g_error ("the plugin %s was not found in %s", HARNESS_PLUGIN_ID,
             plugin_dir != NULL ? plugin_dir : "build");
  g_assert_true (purple_plugin_is_loaded (prpl));
  /* One more reference keeps the plugin mapped after purple_core_quit(), so
   * leak checkers (valgrind) can name its functions. */
  harness.plugin_module = g_module_open (prpl->path, G_MODULE_BIND_LAZY);
}

void
harness_shutdown (void)
{
  GList *l;

  /* Sign every account out, then let the sign-out requests go. */
  for (l = purple_accounts_get_all (); l != NULL; l = l->next)
    purple_account_set_enabled (l->data, HARNESS_UI_ID, FALSE);
  harness_run_for (100);
  purple_signals_disconnect_by_handle (&harness);
  purple_core_quit ();
  if (!harness.keep_user_dir)
    ppms_remove_tree (harness.user_dir);
  g_free (harness.user_dir);
  g_ptr_array_unref (harness.writes);
  g_ptr_array_unref (harness.progress);
  g_ptr_array_unref (harness.errors);
  g_ptr_array_unref (harness.typing);
  g_string_free (harness.debug_log, TRUE);
  if (harness.ui_info != NULL)
    g_hash_table_destroy (harness.ui_info);
  g_free (harness.password_answer);
  g_free (harness.action_answer);
  g_ptr_array_unref (harness.questions);
  g_clear_pointer (&harness.xfers, g_ptr_array_unref);
  g_clear_pointer (&harness.save_directory, g_free);
  harness.cancel_at_progress = 0;
  /* harness.plugin_module stays open until exit, on purpose. */
  memset (&harness, 0, sizeof harness);
}

typedef struct {
  void (*body) (gconstpointer data);
  gconstpointer data;
} DataTest;

static void
run_plain_body (gconstpointer data)
{
  ((void (*) (void)) data) ();
}

static void
run_test_in_child (gconstpointer data)
{
  const DataTest *test = data;

  if (g_test_subprocess ()) {
    harness_init ();
    test->body (test->data);
    harness_shutdown ();
    return;
  }
  /* A fresh process: a fresh libpurple core, no state shared with other cases.
   * A failing child fails its case only; the next cases still run. */
  g_test_set_nonfatal_assertions ();
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

void
harness_add_data_test (const char *path, gconstpointer data, void (*body) (gconstpointer data))
{
  /* The cases live as long as the test program. Kept here rather than
   * handed to GLib to free: a case's subprocess exits without GLib freeing
   * the others, and valgrind would count them definitely lost. */
  static GPtrArray *tests;
  DataTest *test = g_new0 (DataTest, 1);

  if (tests == NULL)
    tests = g_ptr_array_new ();
  g_ptr_array_add (tests, test);
  test->body = body;
  test->data = data;
  g_test_add_data_func (path, test, run_test_in_child);
}

void
harness_add_test (const char *path, void (*body) (void))
{
  harness_add_data_test (path, (gconstpointer) body, run_plain_body);
}

/* ---- Accounts ---- */

PurpleAccount *
harness_add_account (const char *server_url, const char *email, const char *password)
{
  PurpleAccount *account = purple_account_new (email, HARNESS_PLUGIN_ID);

  purple_account_set_string (account, "server", server_url);
  if (password != NULL) {
    purple_account_set_remember_password (account, TRUE);
    purple_account_set_password (account, password);
  }
  purple_accounts_add (account);
  return account;
}

void
harness_connect (PurpleAccount *account)
{
  purple_account_set_enabled (account, HARNESS_UI_ID, TRUE);
  purple_account_set_status (account, "available", TRUE, NULL);
  if (purple_account_is_disconnected (account))
    purple_account_connect (account);
}

void
harness_disconnect (PurpleAccount *account)
{
  purple_account_set_enabled (account, HARNESS_UI_ID, FALSE);
}

/* ---- Waiting: the test peer's, one way for every test ---- */

gboolean
harness_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  return ppms_wait_until (cond, data, timeout_ms);
}

void
harness_run_for (guint ms)
{
  ppms_run_for (ms);
}

gboolean
harness_is_connected (PurpleAccount *account)
{
  return purple_account_is_connected (account);
}

gboolean
harness_wait_connected (PurpleAccount *account, guint timeout_ms)
{
  return HARNESS_WAIT_FOR (purple_account_is_connected (account)
                           || harness_find_error (account) != NULL, timeout_ms)
         && purple_account_is_connected (account);
}

/* ---- Queries ---- */

GPtrArray *harness_writes (void) { return harness.writes; }
GPtrArray *harness_progress (void) { return harness.progress; }
GPtrArray *harness_errors (void) { return harness.errors; }
GPtrArray *harness_typing (void) { return harness.typing; }
const char *harness_debug_log (void) { return harness.debug_log->str; }

const HarnessWrite *
harness_find_write (PurpleAccount *account, const char *substring)
{
  for (guint i = 0; i < harness.writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (harness.writes, i);

    if ((account == NULL || w->account == account) && w->text != NULL
        && strstr (w->text, substring) != NULL)
      return w;
  }
  return NULL;
}

guint
harness_count_writes (PurpleAccount *account, const char *substring)
{
  guint n = 0;

  for (guint i = 0; i < harness.writes->len; i++) {
    const HarnessWrite *w = g_ptr_array_index (harness.writes, i);

    if ((account == NULL || w->account == account) && w->text != NULL
        && strstr (w->text, substring) != NULL)
      n++;
  }
  return n;
}

const HarnessError *
harness_find_error (PurpleAccount *account)
{
  for (guint i = 0; i < harness.errors->len; i++) {
    const HarnessError *e = g_ptr_array_index (harness.errors, i);

    if (account == NULL || e->account == account)
      return e;
  }
  return NULL;
}

guint
harness_count_typing (PurpleAccount *account, const char *who, PurpleTypingState state)
{
  guint n = 0;

  for (guint i = 0; i < harness.typing->len; i++) {
    const HarnessTyping *t = g_ptr_array_index (harness.typing, i);

    if ((account == NULL || t->account == account) && t->state == state
        && (who == NULL || g_strcmp0 (t->who, who) == 0))
      n++;
  }
  return n;
}

void
harness_clear (void)
{
  g_ptr_array_set_size (harness.writes, 0);
  g_ptr_array_set_size (harness.progress, 0);
  g_ptr_array_set_size (harness.errors, 0);
  g_ptr_array_set_size (harness.typing, 0);
}

PurpleBuddy *
harness_find_buddy (PurpleAccount *account, const char *name)
{
  return purple_find_buddy (account, name);
}

guint
harness_count_buddies (PurpleAccount *account, const char *name)
{
  GSList *buddies = purple_find_buddies (account, name);
  guint n = g_slist_length (buddies);

  g_slist_free (buddies);
  return n;
}

const char *
harness_buddy_group (PurpleBuddy *buddy)
{
  PurpleGroup *group = purple_buddy_get_group (buddy);

  return group != NULL ? purple_group_get_name (group) : NULL;
}
