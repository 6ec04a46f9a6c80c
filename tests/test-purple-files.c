/* test-purple-files.c: images and files through the built plugin in a
 * headless libpurple core, against the in-process test server: a visitor's
 * picture shown inline from libpurple's image store with its text fallback,
 * a download that fails and the order of the messages around it; files,
 * voice messages and over-long texts offered as transfers and saved under
 * a safe name; "Send File" with progress, cancel and refusals; an image
 * from the message box; an agent and a visitor account of this plugin
 * exchanging all of it.
 * Protocol: ../shared/protocol/PPMESSAGE-PROTOCOL.md ("Body by sub-type",
 * "Files: upload, download, icons, long text") and
 * ../shared/protocol/transcripts/06-upload-image-file.jsonl.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <unistd.h>

#include "purple-fixtures.h"

/* The visitor uploads a picture and sends it as PPCom does ({"fid",
 * "mime"}); returns the fid. */
static char *
visitor_sends_image (PpmsPeer *visitor, const char *name, GBytes *png)
{
  GError *error = NULL;
  char *fid = ppms_peer_upload_sync (visitor, name, "image/png", png, &error);
  char *body, *uuid;

  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"mime\": \"image/png\"}", fid);
  uuid = ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), "IMAGE", body);
  g_assert_nonnull (uuid);
  g_free (uuid);
  g_free (body);
  return fid;
}

static guint
write_index (const HarnessWrite *wanted)
{
  GPtrArray *writes = harness_writes ();

  for (guint i = 0; i < writes->len; i++)
    if (g_ptr_array_index (writes, i) == wanted)
      return i;
  g_assert_not_reached ();
}

/* A 320 x 240 picture: the server makes a 120 x 90 thumbnail, which is
 * what the agent downloads and sees inline; the line keeps the link for
 * Finch and the log. */
static void
test_image_shown_inline (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GBytes *png = test_png (320, 240);
  char *fid = visitor_sends_image (visitor, "screenshot.png", png);
  char *original_path = g_strconcat ("/download/download/", fid, NULL);
  const HarnessWrite *w = wait_write (account, fid);

  g_assert_true (w->flags & PURPLE_MESSAGE_RECV);
  g_assert_true (w->flags & PURPLE_MESSAGE_IMAGES);
  g_assert_nonnull (strstr (w->text, "<img id=\""));
  g_assert_nonnull (strstr (w->text, ppms_server_get_url (server)));
  g_assert_cmpuint (w->images->len, ==, 1);
  /* The test server's thumbnail holds the original's bytes under its own
   * fid: the bytes are the server's, and the original was not fetched. */
  g_assert_true (g_bytes_equal (g_ptr_array_index (w->images, 0), png));
  g_assert_cmpuint (ppms_server_count_requests (server, original_path), ==, 0);
  g_assert_cmpuint (ppms_server_count_requests (server, "/download/download/"), ==, 1);
  g_assert_cmpuint (harness_count_writes (account, "could not be shown"), ==, 0);

  g_free (original_path);
  g_free (fid);
  g_bytes_unref (png);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Downloads that fail: the picture's line is still written once, with its
 * link and a notice, and the text sent after it comes after it. */
static void
test_image_download_fails (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GBytes *png = test_png (64, 64);  /* small: its own thumbnail */
  char *fid, *uuid;
  const HarnessWrite *image_line, *notice, *text_line;

  ppms_server_set_http_fault (server, PPMS_FAULT_HTTP_500, "/download/download/", 1.0, 0, 1);
  fid = visitor_sends_image (visitor, "small.png", png);
  uuid = ppms_peer_send_text (visitor, ppms_peer_conversation_uuid (visitor),
                              "after the picture");
  g_free (uuid);
  text_line = wait_write (account, "after the picture");
  image_line = harness_find_write (account, fid);
  notice = harness_find_write (account, "could not be shown");
  g_assert_nonnull (image_line);
  g_assert_nonnull (notice);
  g_assert_cmpuint (image_line->images->len, ==, 0);
  g_assert_false (image_line->flags & PURPLE_MESSAGE_IMAGES);
  g_assert_null (strstr (image_line->text, "<img"));
  g_assert_true (notice->flags & PURPLE_MESSAGE_SYSTEM);
  g_assert_cmpuint (write_index (image_line), <, write_index (notice));
  g_assert_cmpuint (write_index (notice), <, write_index (text_line));
  g_assert_cmpuint (harness_count_writes (account, "Image:"), ==, 1);

  g_free (fid);
  g_bytes_unref (png);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Bytes that differ everywhere, so a lost, doubled or reordered chunk shows. */
static GBytes *
patterned_bytes (gsize size)
{
  guint8 *data = g_malloc (size);
  guint32 state = 2463534242u;

  for (gsize i = 0; i < size; i++) {
    state ^= state << 13, state ^= state >> 17, state ^= state << 5;
    data[i] = (guint8) state;
  }
  return g_bytes_new_take (data, size);
}

/* A visitor's file, named by a hostile client with a path, a leading dot
 * and a line break: offered under a safe name, accepted, saved where the
 * user chose, byte for byte, with progress on the way. */
static void
test_file_received (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  g_autofree char *directory = g_dir_make_tmp ("ppm-save-XXXXXX", NULL);
  g_autofree char *expected_path = g_build_filename (directory, "evil_name.pdf", NULL);
  g_autofree char *saved = NULL;
  GBytes *content = patterned_bytes (700 * 1024);  /* several chunks */
  GError *error = NULL;
  gsize saved_size = 0;
  char *fid, *body, *uuid;
  HarnessXfer *xfer;

  harness_set_action_answer ("Accept");
  harness_set_save_directory (directory);
  fid = ppms_peer_upload_sync (visitor, "upload.bin", "application/pdf", content, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"name\": \"../../.evil\\nname.pdf\", "
                          "\"mime\": \"application/pdf\"}", fid);
  uuid = ppms_peer_send_message (visitor, ppms_peer_conversation_uuid (visitor), "FILE", body);
  g_free (uuid);
  g_free (body);

  xfer = wait_xfer_ended (PURPLE_XFER_RECEIVE);
  g_assert_cmpint (xfer->status, ==, PURPLE_XFER_STATUS_DONE);
  g_assert_cmpstr (xfer->filename, ==, "evil_name.pdf");
  g_assert_cmpstr (xfer->local_filename, ==, expected_path);
  g_assert_cmpuint (xfer->partial_progress_updates, >, 0);
  g_assert_true (g_file_get_contents (expected_path, &saved, &saved_size, NULL));
  g_assert_cmpuint (saved_size, ==, g_bytes_get_size (content));
  g_assert_cmpmem (saved, saved_size, g_bytes_get_data (content, NULL), saved_size);
  /* The fallback line for Finch and the log is there too. */
  g_assert_nonnull (harness_find_write (account, "File:"));
  g_remove (expected_path);
  g_assert_cmpint (g_rmdir (directory), ==, 0);  /* nothing else was written there */

  g_free (fid);
  g_bytes_unref (content);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static char *
write_temp_file (const char *name, GBytes *content)
{
  g_autofree char *directory = g_dir_make_tmp ("ppm-send-XXXXXX", NULL);
  char *path = g_build_filename (directory, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                      (gssize) g_bytes_get_size (content), NULL));
  return path;
}

static void
remove_temp_file (char *path)
{
  g_autofree char *directory = g_path_get_dirname (path);

  g_remove (path);
  g_rmdir (directory);
  g_free (path);
}

/* "Send File" to a visitor: uploaded with progress, sent as a FILE
 * message the visitor receives with its name and size, and the server
 * holds the very bytes. */
static void
test_file_sent (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GBytes *content = patterned_bytes (3 * 1024 * 1024 + 17);
  char *path = write_temp_file ("figures.bin", content);
  const JsonObject *received;
  g_autoptr (JsonNode) body_node = NULL;
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GBytes) stored = NULL;
  HarnessXfer *xfer;

  serv_send_file (purple_account_get_connection (account), ppms_peer_user_uuid (visitor), path);
  xfer = wait_xfer_ended (PURPLE_XFER_SEND);
  g_assert_cmpint (xfer->status, ==, PURPLE_XFER_STATUS_DONE);
  g_assert_cmpuint (xfer->partial_progress_updates, >, 0);
  g_assert_cmpuint (xfer->bytes_sent, ==, g_bytes_get_size (content));

  received = ppms_peer_wait_message (visitor, "figures.bin", WAIT_MS);
  g_assert_nonnull (received);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) received, "ms"), ==, "FILE");
  body_node = json_from_string (json_object_get_string_member ((JsonObject *) received, "bo"),
                                NULL);
  g_assert_nonnull (body_node);
  body = json_node_dup_object (body_node);
  g_assert_cmpint (json_object_get_int_member (body, "size"), ==, g_bytes_get_size (content));
  stored = server_file (server, json_object_get_string_member (body, "fid"));
  g_assert_true (g_bytes_equal (stored, content));
  g_assert_cmpuint (harness_count_writes (account, "not delivered"), ==, 0);
  g_assert_cmpuint (harness_count_writes (account, "was not sent"), ==, 0);

  remove_temp_file (path);
  g_bytes_unref (content);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* Cancelled at a third of the upload: the server stores nothing that is
 * sent, the visitor gets no file, libpurple never says "complete", and
 * the conversation goes on. */
static void
test_file_send_cancelled (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GBytes *content = patterned_bytes (16 * 1024 * 1024);
  char *path = write_temp_file ("big.bin", content);
  guint messages_before = ppms_server_count_messages (server,
                                                      ppms_peer_conversation_uuid (visitor));
  HarnessXfer *xfer;

  harness_set_cancel_at_progress (0.3);
  serv_send_file (purple_account_get_connection (account), ppms_peer_user_uuid (visitor), path);
  xfer = wait_xfer_ended (PURPLE_XFER_SEND);
  g_assert_cmpint (xfer->status, ==, PURPLE_XFER_STATUS_CANCEL_LOCAL);
  g_assert_cmpfloat (xfer->cancelled_at, >=, 0.3);
  g_assert_cmpfloat (xfer->cancelled_at, <, 1.0);
  g_assert_cmpuint (harness_count_writes (account, "complete"), ==, 0);
  /* Long enough for the rest of the upload and its message, had they gone
   * on (16 MiB over loopback take a fraction of it). */
  harness_run_for (3000);
  g_assert_null (ppms_peer_wait_message (visitor, "big.bin", 0));

  /* A text sent afterwards arrives, and nothing came before it. */
  send_from_pidgin (account, ppms_peer_user_uuid (visitor), "after the cancel");
  g_assert_nonnull (ppms_peer_wait_message (visitor, "after the cancel", WAIT_MS));
  g_assert_cmpuint (ppms_server_count_messages (server, ppms_peer_conversation_uuid (visitor)),
                    ==, messages_before + 1);
  g_assert_null (ppms_peer_wait_message (visitor, "big.bin", 0));

  remove_temp_file (path);
  g_bytes_unref (content);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A file over the server's limit is refused before a byte is sent, with
 * the reason; an upload the server fails is reported the same way. */
static void
test_file_send_refused (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GBytes *small = patterned_bytes (1000);
  char *small_path = write_temp_file ("small.bin", small);
  g_autofree char *directory = g_dir_make_tmp ("ppm-send-XXXXXX", NULL);
  g_autofree char *big_path = g_build_filename (directory, "huge.iso", NULL);
  FILE *big = fopen (big_path, "wb");
  const HarnessWrite *refusal, *failure;

  /* A sparse file just over 20 MiB. */
  g_assert_nonnull (big);
  g_assert_cmpint (ftruncate (fileno (big), 20 * 1024 * 1024 + 1), ==, 0);
  fclose (big);
  serv_send_file (purple_account_get_connection (account), ppms_peer_user_uuid (visitor),
                  big_path);
  refusal = wait_write (account, "huge.iso was not sent");
  g_assert_true (refusal->flags & PURPLE_MESSAGE_ERROR);
  g_assert_nonnull (strstr (refusal->text, "19.9"));
  g_assert_nonnull (strstr (refusal->text, "MiB"));
  g_assert_cmpuint (ppms_server_count_requests (server, "/upload/upload/"), ==, 0);

  ppms_server_set_http_fault (server, PPMS_FAULT_HTTP_500, "/upload/upload/", 1.0, 0, 1);
  serv_send_file (purple_account_get_connection (account), ppms_peer_user_uuid (visitor),
                  small_path);
  failure = wait_write (account, "small.bin was not sent");
  g_assert_nonnull (strstr (failure->text, "500"));
  g_assert_cmpuint (ppms_server_count_requests (server, "/upload/upload/"), ==, 1);
  g_assert_cmpuint (harness_count_writes (account, "complete"), ==, 0);

  g_remove (big_path);
  g_rmdir (directory);
  remove_temp_file (small_path);
  g_bytes_unref (small);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* An image inserted into Pidgin's message box between two words: the
 * visitor gets the text before, the image (the server holds its very
 * bytes) and the text after, in that order. */
static void
test_image_from_entry (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  GBytes *png = test_png (40, 30);
  int id = purple_imgstore_add_with_id (g_memdup2 (g_bytes_get_data (png, NULL),
                                                   g_bytes_get_size (png)),
                                        g_bytes_get_size (png), "pasted.png");
  char *html = g_strdup_printf ("Look at this: <IMG ID=\"%d\"> and <b>tell me</b>", id);
  const JsonObject *first, *second, *third;
  g_autoptr (JsonObject) image_body = NULL;
  g_autoptr (GBytes) stored = NULL;

  /* Pidgin offers Insert > Image only without this flag. */
  g_assert_false (purple_account_get_connection (account)->flags
                  & PURPLE_CONNECTION_NO_IMAGES);
  send_from_pidgin (account, ppms_peer_user_uuid (visitor), html);
  first = ppms_peer_wait_message (visitor, NULL, WAIT_MS);
  second = ppms_peer_wait_message (visitor, NULL, WAIT_MS);
  third = ppms_peer_wait_message (visitor, NULL, WAIT_MS);
  g_assert_nonnull (first);
  g_assert_nonnull (second);
  g_assert_nonnull (third);
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) first, "bo"), ==,
                   "Look at this:");
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) second, "ms"), ==, "IMAGE");
  g_assert_cmpstr (json_object_get_string_member ((JsonObject *) third, "bo"), ==,
                   "and tell me");
  image_body = message_body_object (second);
  g_assert_cmpstr (json_object_get_string_member (image_body, "mime"), ==, "image/png");
  stored = server_file (server, json_object_get_string_member (image_body, "orig"));
  g_assert_true (g_bytes_equal (stored, png));
  g_assert_cmpuint (harness_count_writes (account, "not sent"), ==, 0);
  g_assert_cmpuint (harness_count_writes (account, "not delivered"), ==, 0);

  purple_imgstore_unref_by_id (id);
  g_free (html);
  g_bytes_unref (png);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

static guint
count_xfers_ended (PurpleXferType type)
{
  guint ended = 0;

  for (guint i = 0; i < harness_xfers ()->len; i++) {
    HarnessXfer *record = g_ptr_array_index (harness_xfers (), i);

    ended += record->type == type && record->destroyed;
  }
  return ended;
}

static void
assert_saved (const char *directory, const char *name, GBytes *content)
{
  g_autofree char *path = g_build_filename (directory, name, NULL);
  g_autofree char *saved = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (path, &saved, &size, NULL));
  g_assert_cmpuint (size, ==, g_bytes_get_size (content));
  g_assert_cmpmem (saved, size, g_bytes_get_data (content, NULL), size);
  g_remove (path);
}

/* /original in the window: the full-size picture of the last image,
 * offered as a file transfer and saved with the server's bytes of the
 * original (not the thumbnail shown); the line says how. */
static void
test_image_original_on_request (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  const char *who = ppms_peer_user_uuid (visitor);
  g_autofree char *directory = g_dir_make_tmp ("ppm-save-XXXXXX", NULL);
  GBytes *png = test_png (320, 240);
  PurpleConversation *conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, account, who);
  char *fid, *original_path, *error = NULL;
  const HarnessWrite *line;
  HarnessXfer *xfer;

  /* Nothing to save yet. */
  g_assert_cmpint (purple_cmd_do_command (conv, "original", "original", &error), ==,
                   PURPLE_CMD_STATUS_FAILED);
  g_assert_nonnull (strstr (error, "No image"));
  g_clear_pointer (&error, g_free);

  harness_set_action_answer ("Accept");
  harness_set_save_directory (directory);
  fid = visitor_sends_image (visitor, "screenshot.png", png);
  original_path = g_strconcat ("/download/download/", fid, NULL);
  line = wait_write (account, fid);
  g_assert_nonnull (strstr (line->text, "/original"));
  g_assert_cmpuint (ppms_server_count_requests (server, original_path), ==, 0);

  g_assert_cmpint (purple_cmd_do_command (conv, "original", "original", &error), ==,
                   PURPLE_CMD_STATUS_OK);
  g_assert_null (error);
  xfer = wait_xfer_ended (PURPLE_XFER_RECEIVE);
  g_assert_cmpint (xfer->status, ==, PURPLE_XFER_STATUS_DONE);
  g_assert_cmpstr (xfer->filename, ==, "image.png");
  g_assert_cmpuint (ppms_server_count_requests (server, original_path), ==, 1);
  assert_saved (directory, "image.png", png);
  g_assert_cmpint (g_rmdir (directory), ==, 0);

  g_free (original_path);
  g_free (fid);
  g_bytes_unref (png);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* A voice message and a text too long to show are files too: offered,
 * saved byte for byte, with a line naming what they are. */
static void
test_voice_and_long_text_offered (void)
{
  PpmsServer *server = server_start ();
  PpmsPeer *visitor = visitor_start (server);
  PurpleAccount *account = agent_with_visitor (server, visitor);
  g_autofree char *directory = g_dir_make_tmp ("ppm-save-XXXXXX", NULL);
  const char *conversation = ppms_peer_conversation_uuid (visitor);
  GBytes *voice = patterned_bytes (5000);
  gsize long_size = 1100 * 1024;  /* over the 1 MiB shown inline */
  GBytes *long_text = g_bytes_new_take (memset (g_malloc (long_size), 'a', long_size),
                                        long_size);
  GError *error = NULL;
  char *fid, *body;

  harness_set_action_answer ("Accept");
  harness_set_save_directory (directory);
  fid = ppms_peer_upload_sync (visitor, "memo.m4a", "audio/m4a", voice, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\", \"mime\": \"audio/m4a\", \"dura\": 3}", fid);
  g_free (ppms_peer_send_message (visitor, conversation, "AUDIO", body));
  g_free (body);
  g_free (fid);
  fid = ppms_peer_upload_sync (visitor, "long.txt", "text/plain", long_text, &error);
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"fid\": \"%s\"}", fid);
  g_free (ppms_peer_send_message (visitor, conversation, "TXT", body));
  g_free (body);
  g_free (fid);

  g_assert_true (HARNESS_WAIT_FOR (count_xfers_ended (PURPLE_XFER_RECEIVE) == 2, WAIT_MS));
  assert_saved (directory, "voice-message.mp3", voice);
  assert_saved (directory, "long-message.txt", long_text);
  g_assert_nonnull (harness_find_write (account, "Voice message:"));
  g_assert_nonnull (harness_find_write (account, "Long message:"));
  g_assert_cmpint (g_rmdir (directory), ==, 0);

  g_bytes_unref (voice);
  g_bytes_unref (long_text);
  sign_out (account);
  ppms_peer_free (visitor);
  ppms_server_free (server);
}

/* The first write of account whose text contains text and that holds an
 * image, waited for. */
static const HarnessWrite *
wait_image_write (PurpleAccount *account, const char *text)
{
  const HarnessWrite *found = NULL;

  HARNESS_WAIT_FOR (({
    GPtrArray *writes = harness_writes ();

    found = NULL;
    for (guint i = 0; i < writes->len && found == NULL; i++) {
      const HarnessWrite *w = g_ptr_array_index (writes, i);

      if (w->account == account && w->images->len > 0 && strstr (w->text, text) != NULL &&
          (w->flags & PURPLE_MESSAGE_RECV))
        found = w;
    }
    found != NULL;
  }), WAIT_MS);
  g_assert_nonnull (found);
  return found;
}

static void
send_image_from_pidgin (PurpleAccount *account, const char *who, GBytes *png, const char *name)
{
  int id = purple_imgstore_add_with_id (g_memdup2 (g_bytes_get_data (png, NULL),
                                                   g_bytes_get_size (png)),
                                        g_bytes_get_size (png), name);
  g_autofree char *html = g_strdup_printf ("<IMG ID=\"%d\">", id);

  send_from_pidgin (account, who, html);
  purple_imgstore_unref_by_id (id);
}

/* An agent account and a visitor account of this plugin in one libpurple
 * core: text, an image from the message box and a file, both ways. */
static void
test_agent_and_visitor_accounts (void)
{
  PpmsServer *server = server_start ();
  PurpleAccount *agent = agent_sign_in (server);
  g_autofree char *link = ppms_server_enterprise_link (server);
  PurpleAccount *visitor = harness_add_account (link, "visitor@example.com", NULL);
  g_autofree char *directory = g_dir_make_tmp ("ppm-save-XXXXXX", NULL);
  g_autofree char *team = NULL, *visitor_user = NULL;
  g_autofree char *visitor_file_path = NULL, *agent_file_path = NULL;
  GBytes *visitor_png = test_png (50, 40), *agent_png = test_png (30, 60);
  GBytes *visitor_file = patterned_bytes (200 * 1024), *agent_file = patterned_bytes (90 * 1000);
  GSList *buddies;
  const HarnessWrite *w;

  harness_set_action_answer ("Accept");
  harness_set_save_directory (directory);
  purple_account_set_string (visitor, "role", "visitor");
  harness_connect (visitor);
  g_assert_true (harness_wait_connected (visitor, WAIT_MS));
  g_assert_true (HARNESS_WAIT_FOR (harness_count_buddies (visitor, NULL) == 1, WAIT_MS));
  buddies = purple_find_buddies (visitor, NULL);
  team = g_strdup (purple_buddy_get_name (buddies->data));
  g_slist_free (buddies);

  /* Text both ways. */
  send_from_pidgin (visitor, team, "Hello from the visitor account");
  w = wait_write (agent, "Hello from the visitor account");
  visitor_user = g_strdup (w->conversation);
  send_from_pidgin (agent, visitor_user, "Hello from the agent account");
  g_assert_true (wait_write (visitor, "Hello from the agent account")->flags
                 & PURPLE_MESSAGE_RECV);

  /* Images both ways, inline with the sender's bytes. */
  send_image_from_pidgin (visitor, team, visitor_png, "visitor.png");
  w = wait_image_write (agent, "Image:");
  g_assert_true (g_bytes_equal (g_ptr_array_index (w->images, 0), visitor_png));
  send_image_from_pidgin (agent, visitor_user, agent_png, "agent.png");
  w = wait_image_write (visitor, "Image:");
  g_assert_true (g_bytes_equal (g_ptr_array_index (w->images, 0), agent_png));

  /* Files both ways, offered, accepted and saved. */
  visitor_file_path = write_temp_file ("from-visitor.bin", visitor_file);
  serv_send_file (purple_account_get_connection (visitor), team, visitor_file_path);
  g_assert_true (HARNESS_WAIT_FOR (count_xfers_ended (PURPLE_XFER_RECEIVE) == 1, WAIT_MS));
  assert_saved (directory, "from-visitor.bin", visitor_file);
  agent_file_path = write_temp_file ("from-agent.bin", agent_file);
  serv_send_file (purple_account_get_connection (agent), visitor_user, agent_file_path);
  g_assert_true (HARNESS_WAIT_FOR (count_xfers_ended (PURPLE_XFER_RECEIVE) == 2, WAIT_MS));
  assert_saved (directory, "from-agent.bin", agent_file);
  g_assert_cmpuint (count_xfers_ended (PURPLE_XFER_SEND), ==, 2);
  g_assert_cmpuint (harness_count_writes (NULL, "not sent"), ==, 0);
  g_assert_cmpuint (harness_count_writes (NULL, "not delivered"), ==, 0);
  g_assert_cmpint (g_rmdir (directory), ==, 0);

  remove_temp_file (g_steal_pointer (&visitor_file_path));
  remove_temp_file (g_steal_pointer (&agent_file_path));
  g_bytes_unref (visitor_png);
  g_bytes_unref (agent_png);
  g_bytes_unref (visitor_file);
  g_bytes_unref (agent_file);
  sign_out (visitor);
  sign_out (agent);
  ppms_server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  harness_add_test ("/purple/files/image-inline", test_image_shown_inline);
  harness_add_test ("/purple/files/image-download-fails", test_image_download_fails);
  harness_add_test ("/purple/files/image-original", test_image_original_on_request);
  harness_add_test ("/purple/files/file-received", test_file_received);
  harness_add_test ("/purple/files/voice-and-long-text", test_voice_and_long_text_offered);
  harness_add_test ("/purple/files/file-sent", test_file_sent);
  harness_add_test ("/purple/files/file-send-cancelled", test_file_send_cancelled);
  harness_add_test ("/purple/files/file-send-refused", test_file_send_refused);
  harness_add_test ("/purple/files/image-from-entry", test_image_from_entry);
  harness_add_test ("/purple/files/agent-and-visitor-accounts", test_agent_and_visitor_accounts);
  return g_test_run ();
}
