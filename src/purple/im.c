/* im.c: messages both ways. Outgoing text from Pidgin is HTML and becomes
 * plain text; incoming text is plain and is escaped before any window sees it.
 * libpurple echoes what we send (send_im returns 1), so our own messages are
 * shown once, and only those typed elsewhere are written here.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <errno.h>
#include <string.h>

static PurpleConversation *
im_window (PpmAccount *pa, const char *partner)
{
  PurpleConversation *conv =
    purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, partner, pa->account);

  if (conv == NULL)
    conv = purple_conversation_new (PURPLE_CONV_TYPE_IM, pa->account, partner);
  return conv;
}

void
ppm_im_write_error (PpmAccount *pa, const char *partner, const char *text)
{
  PurpleConversation *conv = im_window (pa, partner);
  char *html = ppm_text_to_html (text); /* reasons may quote the server */

  purple_conversation_write (conv, NULL, html, PURPLE_MESSAGE_ERROR, time (NULL));
  g_free (html);
  /* BitlBee passes no error line of a conversation on to IRC; a notice
   * reaches its control channel, naming the contact. */
  if (ppm_ui_is_bitlbee ()) {
    char *contact = ppm_text_one_line (purple_conversation_get_title (conv));

    purple_notify_error (pa->gc, contact, text, NULL);
    g_free (contact);
  }
}

/* Hands plain text to the library; FALSE when there is nowhere to send it. */
static gboolean
deliver_text (PpmAccount *pa, const char *who, const char *text)
{
  const PpmConversation *conversation = ppm_buddies_conversation_for_partner (pa, who);
  const PpmUser *user;
  char *uuid;

  if (conversation != NULL) {
    uuid = ppm_client_send_text (pa->client, conversation->uuid, text);
  } else {
    user = ppm_client_lookup_user (pa->client, who);
    if (user == NULL || !user->is_service_user || pa->role != PPM_ROLE_AGENT)
      return FALSE;
    /* A colleague without a conversation yet: the library creates it. */
    uuid = ppm_client_send_text_to_user (pa->client, who, text);
  }
  /* Remembered until send_result, to report a failure in the right window. */
  if (uuid != NULL) {
    ppm_history_window_note (pa, who, uuid, 0);
    g_hash_table_insert (pa->pending_sends, uuid, g_strdup (who));
  }
  return TRUE;
}

static void
write_not_delivered (PpmAccount *pa, const char *who, const char *reason)
{
  char *notice = g_strdup_printf (_("Message not delivered: %s"), reason);

  ppm_im_write_error (pa, who, notice);
  g_free (notice);
}

/* ---- Images in typed messages ---- */

/* A part of a typed message: text (HTML) or a picture from the image store. */
typedef struct {
  char *who;
  char *html;
  GBytes *image;
  char *image_name;
  char *image_mime;            /* NULL: not a type the server takes as IMAGE */
} OutgoingPart;

static void
outgoing_part_free (OutgoingPart *part)
{
  g_free (part->who);
  g_free (part->html);
  g_clear_pointer (&part->image, g_bytes_unref);
  g_free (part->image_name);
  g_free (part->image_mime);
  g_free (part);
}

/* The IMAGE types the server accepts, by the store's extension
 * (../shared/protocol/PPMESSAGE-PROTOCOL.md, "Body by sub-type"). */
static const char *
image_mime (const char *extension)
{
  if (g_strcmp0 (extension, "png") == 0)
    return "image/png";
  if (g_strcmp0 (extension, "jpg") == 0)
    return "image/jpeg";
  if (g_strcmp0 (extension, "gif") == 0)
    return "image/gif";
  return NULL;
}

static OutgoingPart *
image_part (const char *who, int id)
{
  PurpleStoredImage *image = purple_imgstore_find_by_id (id);
  OutgoingPart *part;
  const char *extension;

  if (image == NULL)
    return NULL;
  part = g_new0 (OutgoingPart, 1);
  part->who = g_strdup (who);
  part->image = g_bytes_new (purple_imgstore_get_data (image), purple_imgstore_get_size (image));
  extension = purple_imgstore_get_extension (image);
  part->image_mime = g_strdup (image_mime (extension));
  part->image_name = purple_imgstore_get_filename (image) != NULL
                     ? g_strdup (purple_imgstore_get_filename (image))
                     : g_strdup_printf ("image.%s", extension);
  return part;
}

static OutgoingPart *
text_part (const char *who, const char *html, gsize length)
{
  OutgoingPart *part = g_new0 (OutgoingPart, 1);

  part->who = g_strdup (who);
  part->html = g_strndup (html, length);
  return part;
}

/* The id of an <img id="N"> tag (any case, quotes optional), or 0. */
static int
image_tag_id (const char *tag, const char *end)
{
  for (const char *c = tag; c + 3 < end; c++)
    if (g_ascii_strncasecmp (c, "id=", 3) == 0 && g_ascii_isspace (c[-1])) {
      c += 3;
      if (*c == '"' || *c == '\'')
        c++;
      return g_ascii_isdigit (*c) ? (int) g_ascii_strtoll (c, NULL, 10) : 0;
    }
  return 0;
}

/* Splits Pidgin's HTML at its <img id=N> tags into text and images, in
 * order; FALSE when it holds no image. */
static gboolean
split_images (const char *who, const char *html, GQueue *parts)
{
  const char *text = html, *tag;
  gboolean found = FALSE;

  while ((tag = strcasestr (text, "<img")) != NULL) {
    const char *end = strchr (tag, '>');
    int id = end != NULL ? image_tag_id (tag, end) : 0;
    OutgoingPart *image = id > 0 ? image_part (who, id) : NULL;

    if (end == NULL)
      break;
    if (image != NULL) {
      g_queue_push_tail (parts, text_part (who, text, (gsize) (tag - text)));
      g_queue_push_tail (parts, image);
      found = TRUE;
      text = end + 1;
    } else {
      /* Not an image of the store: left to the text, which drops the tag. */
      g_queue_push_tail (parts, text_part (who, text, (gsize) (end + 1 - text)));
      text = end + 1;
    }
  }
  g_queue_push_tail (parts, text_part (who, text, strlen (text)));
  return found;
}

static void send_outgoing (PpmAccount *pa);

typedef struct {
  PpmAccount *pa;
  char *who;
  char *name;
} ImageUpload;

static void
image_upload_free (ImageUpload *upload)
{
  g_free (upload->who);
  g_free (upload->name);
  g_free (upload);
}

static void
on_image_uploaded (gpointer user_data, const char *message_uuid, const GError *error)
{
  ImageUpload *upload = user_data;
  PpmAccount *pa = upload->pa;

  if (error != NULL) {
    /* TRANSLATORS: the image's name, then the reason. */
    char *notice = g_strdup_printf (_("%s was not sent: %s"), upload->name, error->message);

    ppm_im_write_error (pa, upload->who, notice);
    g_free (notice);
  } else {
    g_hash_table_insert (pa->pending_sends, g_strdup (message_uuid), g_strdup (upload->who));
  }
  pa->image_upload = NULL;
  image_upload_free (upload);
  send_outgoing (pa);           /* what was typed after the image follows it */
}

static const PpmTransferCallbacks image_upload_callbacks = {
  .finished = on_image_uploaded,
};

/* Starts the image's upload; when it cannot start, says why. */
static void
upload_image (PpmAccount *pa, OutgoingPart *part)
{
  const PpmConversation *conversation = ppm_buddies_conversation_for_partner (pa, part->who);
  ImageUpload *upload = g_new0 (ImageUpload, 1);
  GError *error = NULL;

  upload->pa = pa;
  upload->who = g_strdup (part->who);
  upload->name = g_strdup (part->image_name);
  if (conversation == NULL)
    error = g_error_new_literal (PPM_ERROR, PPM_ERROR_SEND_REFUSED,
                                 _("there is no open conversation with this contact."));
  else if (ppm_client_send_file_data (pa->client, conversation->uuid, part->image,
                                      part->image_name,
                                      part->image_mime ? part->image_mime
                                                       : "application/octet-stream",
                                      part->image_mime != NULL, &image_upload_callbacks,
                                      upload, &error) != NULL) {
    pa->image_upload = upload;
    return;
  }
  on_image_uploaded (upload, NULL, error);
  g_error_free (error);
}

static void
send_text_part (PpmAccount *pa, const char *who, const char *html)
{
  char *text = purple_markup_strip_html (html);

  g_strstrip (text);
  if (*text != '\0' && !deliver_text (pa, who, text))
    write_not_delivered (pa, who, _("there is no open conversation with this contact."));
  g_free (text);
}

/* Sends the waiting parts in order, pausing at an image until it is
 * stored: the server gets text, image and text in the order typed. */
static void
send_outgoing (PpmAccount *pa)
{
  OutgoingPart *part;

  while (pa->image_upload == NULL && (part = g_queue_pop_head (&pa->outgoing)) != NULL) {
    if (part->image != NULL)
      upload_image (pa, part);  /* a failure is said; the rest goes on */
    else
      send_text_part (pa, part->who, part->html);
    outgoing_part_free (part);
  }
}

void
ppm_im_clear_outgoing (PpmAccount *pa)
{
  /* The client, freed before, calls nothing back: the upload is ours. */
  g_clear_pointer ((ImageUpload **) &pa->image_upload, image_upload_free);
  g_queue_clear_full (&pa->outgoing, (GDestroyNotify) outgoing_part_free);
}

int
ppm_im_send (PurpleConnection *gc, const char *who, const char *message,
             PurpleMessageFlags flags)
{
  PpmAccount *pa = ppm_account_from_gc (gc);
  GQueue parts = G_QUEUE_INIT;
  char *text;
  int shown = 1; /* libpurple shows it once, now */

  if (pa == NULL || pa->client == NULL || pa->closing)
    return -ENOTCONN;
  /* An image, or text typed while one uploads, waits its turn. */
  if (split_images (who, message, &parts) || pa->image_upload != NULL) {
    while (!g_queue_is_empty (&parts))
      g_queue_push_tail (&pa->outgoing, g_queue_pop_head (&parts));
    send_outgoing (pa);
    return shown;
  }
  g_queue_clear_full (&parts, (GDestroyNotify) outgoing_part_free);
  /* Pidgin's HTML (entities, <br>, formatting) becomes the plain text PPMessage carries. */
  text = purple_markup_strip_html (message);
  g_strchomp (text);
  if (*text == '\0') {
    shown = 0;
  } else if (!deliver_text (pa, who, text)) {
    write_not_delivered (pa, who, _("there is no open conversation with this contact."));
    shown = 0;
  }
  g_free (text);
  return shown;
}

static char *
file_fallback (const PpmMessage *message, const char *label)
{
  GString *line = g_string_new (label);

  g_string_append_c (line, ':');
  if (message->file_name != NULL && *message->file_name != '\0')
    g_string_append_printf (line, " %s", message->file_name);
  if (message->file_size >= 0) {
    char *size = g_format_size ((guint64) message->file_size);

    g_string_append_printf (line, " (%s)", size);
    g_free (size);
  }
  if (message->file_url != NULL && *message->file_url != '\0')
    g_string_append_printf (line, " %s", message->file_url);
  return g_string_free (line, FALSE);
}

/* Plain text for every kind: Finch strips HTML, so images and files get
 * their name, size and link as text. */
static char *
message_plain_text (const PpmMessage *message)
{
  switch (message->kind) {
  case PPM_MESSAGE_IMAGE:
    return ppm_original_image_line (file_fallback (message, _("Image")));
  case PPM_MESSAGE_FILE:
    if (g_strcmp0 (message->subtype, "AUDIO") == 0)
      return file_fallback (message, _("Voice message"));
    if (g_strcmp0 (message->subtype, "TXT") == 0)
      return file_fallback (message, _("Long message"));
    return file_fallback (message, _("File"));
  case PPM_MESSAGE_TEXT:
  case PPM_MESSAGE_OTHER:
  default:
    return g_strdup (message->text != NULL ? message->text : "");
  }
}

static const char *
partner_for_message (PpmAccount *pa, const PpmMessage *message,
                     const PpmConversation *conversation)
{
  const char *partner = ppm_buddies_partner_for_conversation (pa, conversation);

  if (partner != NULL)
    return partner;
  if (!message->outgoing && message->from_uuid != NULL && pa->role == PPM_ROLE_AGENT)
    return message->from_uuid;
  return message->conversation_uuid;
}

/* The picture the library downloaded, put in libpurple's image store
 * ahead of the text fallback: Pidgin shows <img id=N> inline, Finch and
 * the text log strip it and keep the name, size and link. Returns the
 * store id (0: none), to unref once the line is written (the window
 * holds its own reference). */
static int
prepend_image (const PpmMessage *message, char **html)
{
  gsize size = 0;
  const guint8 *data;
  int id;
  char *with_image;

  if (message->image == NULL)
    return 0;
  data = g_bytes_get_data (message->image, &size);
  id = purple_imgstore_add_with_id (g_memdup2 (data, size), size, message->file_name);
  if (id == 0)
    return 0;
  with_image = g_strdup_printf ("<img id=\"%d\"><br>%s", id, *html);
  g_free (*html);
  *html = with_image;
  return id;
}

/* An image that could not be shown inline: its fallback line stays, with a
 * notice saying why. */
static void
write_image_notice (PpmAccount *pa, const char *partner, const PpmMessage *message)
{
  char *notice, *html;

  if (message->image_error == NULL)
    return;
  /* TRANSLATORS: the reason follows, e.g. "Connection refused". */
  notice = g_strdup_printf (_("The image above could not be shown here: %s"),
                            message->image_error);
  html = ppm_text_to_html (notice);
  purple_conversation_write (im_window (pa, partner), NULL, html, PURPLE_MESSAGE_SYSTEM,
                             time (NULL));
  g_free (html);
  g_free (notice);
}

void
ppm_im_message (PpmAccount *pa, const PpmMessage *message, const PpmConversation *conversation)
{
  const char *partner;
  char *plain, *html;
  PurpleMessageFlags line_flags;
  time_t when;
  int image_id;

  if (message == NULL || message->conversation_uuid == NULL)
    return;
  partner = partner_for_message (pa, message, conversation);
  if (partner == NULL)
    return;
  /* Shown already by the history of the window that is open. */
  if (ppm_history_window_shows (pa, partner, message->uuid))
    return;
  plain = message_plain_text (message);
  html = ppm_text_to_html (plain);
  line_flags = message->delayed ? PURPLE_MESSAGE_DELAYED : 0;
  image_id = prepend_image (message, &html);
  if (image_id != 0)
    line_flags |= PURPLE_MESSAGE_IMAGES;
  when = message->time > 0 ? (time_t) message->time : time (NULL);

  if (message->outgoing) {
    /* Typed on another device (PPKefu in a browser): ours, not echoed yet.
     * BitlBee takes the writer of an IM line for the contact the line is
     * with, so there it is the contact: our own line to them. */
    purple_conv_im_write (PURPLE_CONV_IM (im_window (pa, partner)),
                          ppm_ui_is_bitlbee () ? partner
                                               : purple_account_get_username (pa->account),
                          html, PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_REMOTE_SEND | line_flags, when);
  } else if (pa->role == PPM_ROLE_VISITOR || g_strcmp0 (message->from_uuid, partner) == 0) {
    serv_got_im (pa->gc, partner, html, line_flags, when);
  } else if (ppm_ui_is_bitlbee () && message->from_uuid != NULL) {
    /* BitlBee shows an IM line as a private message from its writer's nick
     * (a name that is no contact becomes a stray one): a colleague's answer
     * to a visitor comes from the colleague, saying whom it answered. */
    char *visitor = ppm_text_one_line (ppm_buddies_display_name (pa, partner));
    /* TRANSLATORS: BitlBee (IRC): a colleague's answer to a visitor; the
     * visitor's name, then the message. */
    char *addressed = g_strdup_printf (_("(to %s) %s"), visitor, plain);
    char *addressed_html = ppm_text_to_html (addressed);

    purple_conv_im_write (PURPLE_CONV_IM (im_window (pa, partner)), message->from_uuid,
                          addressed_html, PURPLE_MESSAGE_RECV | line_flags, when);
    g_free (addressed_html);
    g_free (addressed);
    g_free (visitor);
  } else {
    /* A colleague answering the visitor: shown in the visitor's window
     * under the colleague's name (the library names every sender). */
    char *sender = ppm_text_one_line (message->from_name ? message->from_name
                                                         : message->from_uuid);

    purple_conv_im_write (PURPLE_CONV_IM (im_window (pa, partner)), sender, html,
                          PURPLE_MESSAGE_RECV | line_flags, when);
    g_free (sender);
  }
  ppm_history_window_note (pa, partner, message->uuid, message->time_us);
  g_free (html);
  g_free (plain);
  if (image_id != 0)
    purple_imgstore_unref_by_id (image_id);
  write_image_notice (pa, partner, message);
  if (message->kind == PPM_MESSAGE_FILE)
    ppm_xfer_offer (pa, partner, message);
  ppm_original_image_shown (pa, partner, message);
}

void
ppm_im_send_result (PpmAccount *pa, const char *conversation_uuid, const char *message_uuid,
                    const GError *error)
{
  char *partner = NULL;
  char *pending_uuid = NULL;

  if (message_uuid != NULL)
    g_hash_table_steal_extended (pa->pending_sends, message_uuid, (gpointer *) &pending_uuid,
                                 (gpointer *) &partner);
  if (error != NULL) {
    const char *reason = error->message != NULL ? error->message : _("unknown error");
    char *notice = g_strdup_printf (_("Message not delivered: %s"), reason);
    const char *name = partner;

    if (name == NULL)
      name = ppm_buddies_partner_for_conversation (
        pa, ppm_client_lookup_conversation (pa->client, conversation_uuid));
    if (name != NULL)
      ppm_im_write_error (pa, name, notice);
    purple_debug_warning (PPM_DEBUG_CATEGORY, "send failed: %s\n", reason);
    g_free (notice);
  }
  g_free (pending_uuid);
  g_free (partner);
}

void
ppm_im_write_history (PpmAccount *pa, PurpleConversation *conv, const PpmMessage *message)
{
  const char *partner = purple_conversation_get_name (conv);
  /* The caller pauses the window's logging (history.c). */
  PurpleMessageFlags flags = PURPLE_MESSAGE_DELAYED;
  char *plain = message_plain_text (message);
  char *html = ppm_text_to_html (plain);
  char *sender = NULL;
  time_t when = message->time > 0 ? (time_t) message->time : time (NULL);

  if (message->outgoing)
    purple_conv_im_write (PURPLE_CONV_IM (conv), purple_account_get_username (pa->account),
                          html, flags | PURPLE_MESSAGE_SEND, when);
  else if (pa->role == PPM_ROLE_VISITOR || g_strcmp0 (message->from_uuid, partner) == 0)
    purple_conv_im_write (PURPLE_CONV_IM (conv), partner, html, flags | PURPLE_MESSAGE_RECV,
                          when);
  else {
    sender = ppm_text_one_line (message->from_name   ? message->from_name
                                : message->from_uuid ? message->from_uuid
                                                     : partner);
    purple_conv_im_write (PURPLE_CONV_IM (conv), sender, html, flags | PURPLE_MESSAGE_RECV,
                          when);
  }
  g_free (sender);
  g_free (html);
  g_free (plain);
}

char *
ppm_im_plain_text (const PpmMessage *message)
{
  return message_plain_text (message);
}

int
ppm_im_prepend_image (const PpmMessage *message, char **html)
{
  return prepend_image (message, html);
}
