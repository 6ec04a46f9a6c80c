/* im.c: messages both ways. Outgoing text from Pidgin is HTML and becomes
 * plain text; incoming text is plain and is escaped before any window sees it.
 * libpurple echoes what we send (send_im returns 1), so our own messages are
 * shown once, and only those typed elsewhere are written here.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <errno.h>

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
  if (uuid != NULL)
    g_hash_table_insert (pa->pending_sends, uuid, g_strdup (who));
  return TRUE;
}

int
ppm_im_send (PurpleConnection *gc, const char *who, const char *message,
             PurpleMessageFlags flags)
{
  PpmAccount *pa = ppm_account_from_gc (gc);
  char *text;
  int shown = 1; /* libpurple shows it once, now */

  if (pa == NULL || pa->client == NULL || pa->closing)
    return -ENOTCONN;
  /* Pidgin's HTML (entities, <br>, formatting) becomes the plain text PPMessage carries. */
  text = purple_markup_strip_html (message);
  g_strchomp (text);
  if (*text == '\0') {
    shown = 0;
  } else if (!deliver_text (pa, who, text)) {
    char *notice = g_strdup_printf (_("Message not delivered: %s"),
                                    _("there is no open conversation with this contact."));

    ppm_im_write_error (pa, who, notice);
    g_free (notice);
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
    return file_fallback (message, _("Image"));
  case PPM_MESSAGE_FILE:
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
  if (image_id != 0)
    purple_imgstore_unref_by_id (image_id);
  write_image_notice (pa, partner, message);
  if (message->kind == PPM_MESSAGE_FILE)
    ppm_xfer_offer (pa, partner, message);
  g_free (html);
  g_free (plain);
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
