/* index.c: the store's secondary indexes, so the requests of a client's
 * sign-in stay fast with tens of thousands of conversations and hundreds of
 * thousands of messages: every user's memberships (with a cached list of the
 * OPEN ones, newest activity first), every user's unacked pushes, and the
 * position of a message in its conversation.
 *
 * Members' status and updatetime are plain fields written by several parts,
 * so the cached order is not trusted blindly: every read checks the stamps of
 * the user's memberships (O(memberships of that user), no sorting, no look-up
 * of other users' records) and rebuilds the order when one moved.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

#define NOT_OPEN G_MININT64

struct _PpmsUserIndex {
  GArray *all;            /* PpmsMembership: every conversation the user is a member of */
  GArray *stamps;         /* gint64 per `all` item: updatetime when OPEN at the last build, else NOT_OPEN */
  GArray *open;           /* PpmsMembership: the OPEN ones, newest activity first */
  GHashTable *position;   /* conversation uuid -> position in `open` + 1 */
  gboolean valid;
  GPtrArray *unacked;     /* PpmsPush*, not owned: PUSHED ones (and some not yet dropped) */
  gboolean unacked_sorted;
};

static void
user_index_free (PpmsUserIndex *index)
{
  g_array_unref (index->all);
  g_array_unref (index->stamps);
  g_array_unref (index->open);
  g_hash_table_unref (index->position);
  g_ptr_array_unref (index->unacked);
  g_free (index);
}

void
ppms_index_init (PpmsServer *server)
{
  server->user_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) user_index_free);
}

void
ppms_index_clear (PpmsServer *server)
{
  g_clear_pointer (&server->user_index, g_hash_table_unref);
}

static PpmsUserIndex *
user_index (PpmsServer *server, const char *user_uuid, gboolean create)
{
  PpmsUserIndex *index;

  if (user_uuid == NULL || server->user_index == NULL)
    return NULL;
  index = g_hash_table_lookup (server->user_index, user_uuid);
  if (index != NULL || !create)
    return index;
  index = g_new0 (PpmsUserIndex, 1);
  index->all = g_array_new (FALSE, FALSE, sizeof (PpmsMembership));
  index->stamps = g_array_new (FALSE, FALSE, sizeof (gint64));
  index->open = g_array_new (FALSE, FALSE, sizeof (PpmsMembership));
  index->position = g_hash_table_new (g_str_hash, g_str_equal);
  index->unacked = g_ptr_array_new ();
  index->unacked_sorted = TRUE;
  g_hash_table_insert (server->user_index, g_strdup (user_uuid), index);
  return index;
}

/* ---- Memberships ---- */

void
ppms_index_add_member (PpmsServer *server, PpmsConversation *conv, PpmsMember *member)
{
  PpmsUserIndex *index = user_index (server, member->user_uuid, TRUE);
  PpmsMembership item = { conv, member };
  gint64 stamp = NOT_OPEN;

  if (index == NULL)
    return;
  g_array_append_val (index->all, item);
  g_array_append_val (index->stamps, stamp);
  index->valid = FALSE;
}

void
ppms_index_remove_member (PpmsServer *server, PpmsConversation *conv, PpmsMember *member)
{
  PpmsUserIndex *index = user_index (server, member->user_uuid, FALSE);

  for (guint i = 0; index != NULL && i < index->all->len; i++)
    if (g_array_index (index->all, PpmsMembership, i).member == member)
      {
        g_array_remove_index (index->all, i);
        g_array_remove_index (index->stamps, i);
        index->valid = FALSE;
        return;
      }
}

void
ppms_index_forget_conversation (PpmsServer *server, PpmsConversation *conv)
{
  for (guint i = 0; conv->members != NULL && i < conv->members->len; i++)
    ppms_index_remove_member (server, conv, g_ptr_array_index (conv->members, i));
}

static gint64
stamp_of (PpmsMember *member)
{
  return g_strcmp0 (member->status, "OPEN") == 0 ? member->updatetime : NOT_OPEN;
}

/* Newest activity first; ties by newer membership, then by uuid, so the
 * order is the same on every run. */
static gint
by_activity_desc (gconstpointer a, gconstpointer b)
{
  const PpmsMembership *ia = a, *ib = b;

  if (ia->member->updatetime != ib->member->updatetime)
    return ia->member->updatetime > ib->member->updatetime ? -1 : 1;
  if (ia->member->createtime != ib->member->createtime)
    return ia->member->createtime > ib->member->createtime ? -1 : 1;
  return strcmp (ia->conv->uuid, ib->conv->uuid);
}

static void
rebuild_open (PpmsUserIndex *index)
{
  g_array_set_size (index->open, 0);
  g_hash_table_remove_all (index->position);
  for (guint i = 0; i < index->all->len; i++)
    {
      PpmsMembership *item = &g_array_index (index->all, PpmsMembership, i);
      gint64 stamp = stamp_of (item->member);

      g_array_index (index->stamps, gint64, i) = stamp;
      if (stamp != NOT_OPEN)
        g_array_append_val (index->open, *item);
    }
  g_array_sort (index->open, by_activity_desc);
  for (guint i = 0; i < index->open->len; i++)
    g_hash_table_insert (index->position, g_array_index (index->open, PpmsMembership, i).conv->uuid,
                         GUINT_TO_POINTER (i + 1));
  index->valid = TRUE;
}

static gboolean
stamps_current (PpmsUserIndex *index)
{
  for (guint i = 0; i < index->all->len; i++)
    if (g_array_index (index->stamps, gint64, i)
        != stamp_of (g_array_index (index->all, PpmsMembership, i).member))
      return FALSE;
  return TRUE;
}

static PpmsUserIndex *
current_index (PpmsServer *server, const char *user_uuid)
{
  PpmsUserIndex *index = user_index (server, user_uuid, TRUE);

  if (index != NULL && (!index->valid || !stamps_current (index)))
    rebuild_open (index);
  return index;
}

const GArray *
ppms_user_open_conversations (PpmsServer *server, const char *user_uuid)
{
  PpmsUserIndex *index = current_index (server, user_uuid);
  return index != NULL ? index->open : NULL;
}

gint
ppms_user_open_position (PpmsServer *server, const char *user_uuid, const char *conversation_uuid)
{
  PpmsUserIndex *index = current_index (server, user_uuid);
  gpointer at;

  if (index == NULL || conversation_uuid == NULL)
    return -1;
  at = g_hash_table_lookup (index->position, conversation_uuid);
  return at != NULL ? (gint) GPOINTER_TO_UINT (at) - 1 : -1;
}

const GArray *
ppms_user_memberships (PpmsServer *server, const char *user_uuid)
{
  PpmsUserIndex *index = user_index (server, user_uuid, FALSE);
  return index != NULL ? index->all : NULL;
}

/* ---- Unacked pushes ---- */

void
ppms_index_add_push (PpmsServer *server, PpmsPush *push)
{
  PpmsUserIndex *index = user_index (server, push->user_uuid, TRUE);
  PpmsPush *last;

  if (index == NULL)
    return;
  last = index->unacked->len > 0 ? g_ptr_array_index (index->unacked, index->unacked->len - 1) : NULL;
  if (last != NULL && last->createtime > push->createtime)
    index->unacked_sorted = FALSE;
  g_ptr_array_add (index->unacked, push);
}

void
ppms_index_remove_push (PpmsServer *server, PpmsPush *push)
{
  PpmsUserIndex *index = user_index (server, push->user_uuid, FALSE);

  if (index != NULL)
    g_ptr_array_remove (index->unacked, push);
}

static gint
push_by_time (gconstpointer a, gconstpointer b)
{
  const PpmsPush *pa = *(PpmsPush *const *) a, *pb = *(PpmsPush *const *) b;
  return pa->createtime < pb->createtime ? -1 : pa->createtime > pb->createtime;
}

static gboolean
push_is_unacked (PpmsPush *push)
{
  return g_strcmp0 (push->status, "PUSHED") == 0;
}

const GPtrArray *
ppms_user_unacked_pushes (PpmsServer *server, const char *user_uuid)
{
  PpmsUserIndex *index = user_index (server, user_uuid, TRUE);
  guint kept = 0;

  if (index == NULL)
    return NULL;
  /* Acked pushes leave the index lazily (ACK only flips the status). */
  for (guint i = 0; i < index->unacked->len; i++)
    {
      PpmsPush *push = g_ptr_array_index (index->unacked, i);
      if (push_is_unacked (push))
        g_ptr_array_index (index->unacked, kept++) = push;
    }
  g_ptr_array_set_size (index->unacked, kept);
  if (!index->unacked_sorted)
    {
      g_ptr_array_sort (index->unacked, push_by_time);   /* stable: equal times keep their order */
      index->unacked_sorted = TRUE;
    }
  return index->unacked;
}

/* ---- Messages in their conversation ---- */

gint
ppms_conversation_message_index (PpmsServer *server, PpmsConversation *conv, const char *uuid)
{
  PpmsMessage *message = ppms_message_lookup (server, uuid);
  guint low = 0, high;

  if (message == NULL || conv == NULL || conv->messages == NULL
      || g_strcmp0 (message->conversation_uuid, conv->uuid) != 0)
    return -1;
  /* conv->messages is in storage order, so by increasing sequence number. */
  high = conv->messages->len;
  while (low < high)
    {
      guint mid = low + (high - low) / 2;
      PpmsMessage *at = g_ptr_array_index (conv->messages, mid);

      if (at->seq < message->seq)
        low = mid + 1;
      else
        high = mid;
    }
  if (low < conv->messages->len && g_ptr_array_index (conv->messages, low) == message)
    return (gint) low;
  return -1;
}
