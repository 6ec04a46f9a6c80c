/* original.c: /original, the full-size picture of the last image in an IM
 * window. An image is shown inline as the server's thumbnail when it made
 * a smaller one; /original offers the original as a libpurple file
 * transfer (accept, choose where to save, progress, open), which Pidgin
 * and Finch show alike. The link in the image's line is the original too.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <cmds.h>

typedef struct {
  char *url;
  char *name;
  gint64 time_us;             /* 0: unknown */
} LastImage;

static PurpleCmdId original_command_id;

static void
last_image_free (LastImage *image)
{
  g_free (image->url);
  g_free (image->name);
  g_free (image);
}

/* A name to save it under, from its type (the server keeps none). */
static const char *
image_file_name (const char *mime)
{
  if (g_strcmp0 (mime, "image/jpeg") == 0)
    return "image.jpg";
  if (g_strcmp0 (mime, "image/gif") == 0)
    return "image.gif";
  return "image.png";
}

void
ppm_original_image_shown (PpmAccount *pa, const char *partner, const PpmMessage *message)
{
  LastImage *image, *last;

  if (message->kind != PPM_MESSAGE_IMAGE || message->file_url == NULL || partner == NULL)
    return;
  if (pa->last_images == NULL)
    pa->last_images = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) last_image_free);
  /* History comes after live messages but is older than them. */
  last = g_hash_table_lookup (pa->last_images, partner);
  if (last != NULL && message->time_us > 0 && message->time_us < last->time_us)
    return;
  image = g_new0 (LastImage, 1);
  image->url = g_strdup (message->file_url);
  image->name = g_strdup (image_file_name (message->mime));
  image->time_us = message->time_us;
  g_hash_table_replace (pa->last_images, g_strdup (partner), image);
}

char *
ppm_original_image_line (char *line)
{
  char *with_hint;

  /* BitlBee passes no libpurple commands: the link is the way there. */
  if (ppm_ui_is_bitlbee ())
    return line;
  /* TRANSLATORS: after an image's line ("Image: <link>"); /original is a
   * command, not to be translated. */
  with_hint = g_strdup_printf (_("%s (full size: /original)"), line);
  g_free (line);
  return with_hint;
}

void
ppm_original_account_closed (PpmAccount *pa)
{
  g_clear_pointer (&pa->last_images, g_hash_table_destroy);
}

static PurpleCmdRet
original_command (PurpleConversation *conv, const gchar *cmd, gchar **args, gchar **error,
                  void *data)
{
  PurpleConnection *gc = purple_conversation_get_gc (conv);
  PpmAccount *pa = gc != NULL ? ppm_account_from_gc (gc) : NULL;
  const char *partner = purple_conversation_get_name (conv);
  LastImage *image;

  if (pa == NULL || pa->client == NULL || pa->closing) {
    *error = g_strdup (_("Not signed in."));
    return PURPLE_CMD_RET_FAILED;
  }
  image = pa->last_images != NULL ? g_hash_table_lookup (pa->last_images, partner) : NULL;
  if (image == NULL) {
    *error = g_strdup (_("No image has come in this conversation since you signed in."));
    return PURPLE_CMD_RET_FAILED;
  }
  ppm_xfer_offer_download (pa, partner, image->url, image->name, -1);
  return PURPLE_CMD_RET_OK;
}

void
ppm_original_plugin_load (PurplePlugin *plugin)
{
  original_command_id =
    purple_cmd_register ("original", "", PURPLE_CMD_P_PRPL,
                         PURPLE_CMD_FLAG_IM | PURPLE_CMD_FLAG_PRPL_ONLY,
                         PPM_PLUGIN_ID, original_command,
                         _("original: offers the full-size picture of the last image in "
                           "this conversation as a file to save."),
                         NULL);
}

void
ppm_original_plugin_unload (PurplePlugin *plugin)
{
  if (original_command_id != 0)
    purple_cmd_unregister (original_command_id);
  original_command_id = 0;
}
