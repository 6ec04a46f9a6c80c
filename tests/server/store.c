/* store.c: the test server's records, their lifetime, look-ups and JSON views.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

/* ---- Freeing ---- */

static void
api_key_free (PpmsApiKey *k)
{
  g_free (k->uuid); g_free (k->level); g_free (k->key); g_free (k->secret);
  g_free (k);
}

void
ppms_app_free (PpmsApp *a)
{
  if (a == NULL)
    return;
  g_free (a->uuid); g_free (a->app_name); g_free (a->app_key); g_free (a->app_secret);
  g_free (a->welcome_message); g_free (a->app_icon); g_free (a->user_uuid);
  g_free (a);
}

static void
user_free (PpmsUser *u)
{
  g_free (u->uuid); g_free (u->user_email); g_free (u->user_password); g_free (u->user_fullname);
  g_free (u->user_icon); g_free (u->user_signature); g_free (u->user_status);
  g_free (u->ppcom_trace_uuid); g_free (u->browser_device_uuid); g_free (u->mobile_device_uuid);
  g_free (u->ppcom_browser_device_uuid); g_free (u->ppcom_mobile_device_uuid);
  g_free (u->service_user_status); g_free (u->user_name); g_free (u->user_language);
  if (u->extra)
    json_object_unref (u->extra);
  g_free (u);
}

static void
device_free (PpmsDevice *d)
{
  g_free (d->uuid); g_free (d->terminal_uuid); g_free (d->user_uuid); g_free (d->device_ostype);
  g_free (d->device_osversion); g_free (d->device_fullname); g_free (d->app_uuid);
  if (d->extra)
    json_object_unref (d->extra);
  g_free (d);
}

void
ppms_member_free (PpmsMember *m)
{
  g_free (m->uuid); g_free (m->user_uuid); g_free (m->conversation_type); g_free (m->user_name);
  g_free (m->status); g_free (m->conversation_name); g_free (m->conversation_icon);
  g_free (m);
}

static void
conversation_free (PpmsConversation *c)
{
  g_free (c->uuid); g_free (c->app_uuid); g_free (c->conversation_type); g_free (c->user_uuid);
  g_free (c->assigned_uuid); g_free (c->conversation_name); g_free (c->conversation_icon);
  g_free (c->status); g_free (c->latest_task); g_free (c->group_uuid);
  g_ptr_array_unref (c->members);
  g_ptr_array_unref (c->messages);
  g_free (c);
}

void
ppms_message_free (PpmsMessage *m)
{
  g_free (m->uuid); g_free (m->app_uuid); g_free (m->conversation_uuid); g_free (m->conversation_type);
  g_free (m->from_uuid); g_free (m->from_type); g_free (m->from_device_uuid); g_free (m->to_uuid);
  g_free (m->to_type); g_free (m->message_type); g_free (m->message_subtype); g_free (m->body);
  g_free (m->message_body); g_free (m->task_status);
  g_free (m);
}

static void
push_free (PpmsPush *p)
{
  g_free (p->uuid); g_free (p->user_uuid); g_free (p->message_uuid); g_free (p->status);
  g_free (p);
}

void
ppms_token_free (PpmsToken *t)
{
  g_free (t->token); g_free (t->level); g_free (t->api_uuid); g_free (t->app_uuid);
  g_free (t);
}

static void
file_free (PpmsFile *f)
{
  g_free (f->uuid); g_free (f->file_name); g_free (f->file_mime); g_free (f->file_hash);
  g_free (f->user_uuid);
  if (f->data)
    g_bytes_unref (f->data);
  g_free (f);
}

void
ppms_store_init (PpmsServer *s)
{
  s->api_keys = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) api_key_free);
  s->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) user_free);
  s->users_by_email = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) device_free);
  s->devices_by_terminal = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) conversation_free);
  s->messages = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) ppms_message_free);
  s->pushes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) push_free);
  s->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) ppms_token_free);
  s->files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) file_free);
  s->amd_results = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->online_portal_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ppms_index_init (s);
}

void
ppms_store_clear (PpmsServer *s)
{
  /* The indexes and conversations first: they point at records they do not own. */
  ppms_index_clear (s);
  g_clear_pointer (&s->conversations, g_hash_table_unref);
  g_clear_pointer (&s->messages, g_hash_table_unref);
  g_clear_pointer (&s->pushes, g_hash_table_unref);
  g_clear_pointer (&s->users_by_email, g_hash_table_unref);
  g_clear_pointer (&s->users, g_hash_table_unref);
  g_clear_pointer (&s->devices_by_terminal, g_hash_table_unref);
  g_clear_pointer (&s->devices, g_hash_table_unref);
  g_clear_pointer (&s->tokens, g_hash_table_unref);
  g_clear_pointer (&s->files, g_hash_table_unref);
  g_clear_pointer (&s->api_keys, g_hash_table_unref);
  g_clear_pointer (&s->amd_results, g_hash_table_unref);
  g_clear_pointer (&s->online_portal_index, g_hash_table_unref);
  g_list_free_full (s->distributor_queue, g_free);
  s->distributor_queue = NULL;
  g_clear_pointer (&s->app, ppms_app_free);
}

/* ---- Look-ups ---- */

PpmsUser *
ppms_user_lookup (PpmsServer *server, const char *uuid)
{
  return uuid ? g_hash_table_lookup (server->users, uuid) : NULL;
}

PpmsUser *
ppms_user_lookup_by_email (PpmsServer *server, const char *email)
{
  return email ? g_hash_table_lookup (server->users_by_email, email) : NULL;
}

PpmsUser *
ppms_user_lookup_by_trace (PpmsServer *server, const char *trace)
{
  GHashTableIter iter;
  PpmsUser *user;

  if (trace == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, server->users);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &user))
    if (g_strcmp0 (user->ppcom_trace_uuid, trace) == 0)
      return user;
  return NULL;
}

PpmsDevice *
ppms_device_lookup (PpmsServer *server, const char *uuid)
{
  return uuid ? g_hash_table_lookup (server->devices, uuid) : NULL;
}

PpmsDevice *
ppms_device_lookup_by_terminal (PpmsServer *server, const char *terminal)
{
  return terminal ? g_hash_table_lookup (server->devices_by_terminal, terminal) : NULL;
}

PpmsConversation *
ppms_conversation_lookup (PpmsServer *server, const char *uuid)
{
  return uuid ? g_hash_table_lookup (server->conversations, uuid) : NULL;
}

PpmsMember *
ppms_conversation_find_member (PpmsConversation *conv, const char *user_uuid)
{
  if (conv == NULL || user_uuid == NULL)
    return NULL;
  for (guint i = 0; i < conv->members->len; i++)
    {
      PpmsMember *m = g_ptr_array_index (conv->members, i);
      if (g_strcmp0 (m->user_uuid, user_uuid) == 0)
        return m;
    }
  return NULL;
}

PpmsToken *
ppms_token_lookup (PpmsServer *server, const char *token)
{
  return token ? g_hash_table_lookup (server->tokens, token) : NULL;
}

PpmsFile *
ppms_file_lookup (PpmsServer *server, const char *uuid)
{
  return uuid ? g_hash_table_lookup (server->files, uuid) : NULL;
}

PpmsMessage *
ppms_message_lookup (PpmsServer *server, const char *uuid)
{
  return uuid ? g_hash_table_lookup (server->messages, uuid) : NULL;
}

PpmsApiKey *
ppms_api_key_lookup (PpmsServer *server, const char *key)
{
  return key ? g_hash_table_lookup (server->api_keys, key) : NULL;
}

PpmsApiKey *
ppms_api_key_by_level (PpmsServer *server, const char *level)
{
  GHashTableIter iter;
  PpmsApiKey *k;

  g_hash_table_iter_init (&iter, server->api_keys);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &k))
    if (g_strcmp0 (k->level, level) == 0)
      return k;
  return NULL;
}

/* ---- Adding ---- */

void
ppms_store_add_user (PpmsServer *server, PpmsUser *user)
{
  g_hash_table_replace (server->users, user->uuid, user);
  if (user->user_email && !g_hash_table_contains (server->users_by_email, user->user_email))
    g_hash_table_insert (server->users_by_email, g_strdup (user->user_email), user);
}

void
ppms_store_add_device (PpmsServer *server, PpmsDevice *device)
{
  g_hash_table_replace (server->devices, device->uuid, device);
  if (device->terminal_uuid)
    g_hash_table_replace (server->devices_by_terminal, g_strdup (device->terminal_uuid), device);
}

void
ppms_store_add_conversation (PpmsServer *server, PpmsConversation *conv)
{
  PpmsConversation *old = ppms_conversation_lookup (server, conv->uuid);

  if (old == conv)
    return;
  /* A record replaced under the same uuid leaves the member index. */
  if (old != NULL)
    ppms_index_forget_conversation (server, old);
  conv->server = server;
  for (guint i = 0; conv->members != NULL && i < conv->members->len; i++)
    ppms_index_add_member (server, conv, g_ptr_array_index (conv->members, i));
  if (conv->members == NULL)
    conv->members = g_ptr_array_new_with_free_func ((GDestroyNotify) ppms_member_free);
  if (conv->messages == NULL)
    conv->messages = g_ptr_array_new ();
  g_hash_table_replace (server->conversations, conv->uuid, conv);
}

void
ppms_store_add_message (PpmsServer *server, PpmsMessage *message)
{
  PpmsConversation *conv = ppms_conversation_lookup (server, message->conversation_uuid);
  PpmsMessage *old = ppms_message_lookup (server, message->uuid);

  /* A record replaced under the same uuid leaves its conversation too. */
  if (old != NULL && old != message)
    {
      PpmsConversation *old_conv = ppms_conversation_lookup (server, old->conversation_uuid);
      if (old_conv != NULL)
        g_ptr_array_remove (old_conv->messages, old);
    }
  message->seq = ++server->message_seq;
  g_hash_table_replace (server->messages, message->uuid, message);
  if (conv != NULL)
    g_ptr_array_add (conv->messages, message);
}

void
ppms_store_add_push (PpmsServer *server, PpmsPush *push)
{
  PpmsPush *old = g_hash_table_lookup (server->pushes, push->uuid);

  if (old != NULL && old != push)
    ppms_index_remove_push (server, old);
  g_hash_table_replace (server->pushes, push->uuid, push);
  ppms_index_add_push (server, push);
}

void
ppms_token_remove (PpmsServer *server, const char *token)
{
  if (token != NULL)
    g_hash_table_remove (server->tokens, token);
}

PpmsToken *
ppms_token_issue (PpmsServer *server, PpmsApiKey *key, const char *level)
{
  PpmsToken *t = g_new0 (PpmsToken, 1);

  t->token = ppms_new_key ();
  t->level = g_strdup (level);
  t->api_uuid = g_strdup (key->uuid);
  t->app_uuid = g_strdup (server->app ? server->app->uuid : NULL);
  g_hash_table_replace (server->tokens, t->token, t);
  return t;
}

PpmsConversation *
ppms_conversation_new (PpmsServer *server, const char *type, const char *creator)
{
  PpmsConversation *c = g_new0 (PpmsConversation, 1);

  c->uuid = ppms_uuid_new ();
  c->app_uuid = g_strdup (server->app->uuid);
  c->conversation_type = g_strdup (type);
  c->user_uuid = g_strdup (creator);
  c->status = g_strdup ("NEW");
  c->createtime = c->updatetime = g_get_real_time ();
  ppms_store_add_conversation (server, c);
  return c;
}

PpmsMember *
ppms_conversation_add_member (PpmsConversation *conv, const char *user_uuid,
                              const char *name, const char *icon)
{
  PpmsMember *m = ppms_conversation_find_member (conv, user_uuid);

  if (m != NULL)
    return m;
  m = g_new0 (PpmsMember, 1);
  m->uuid = ppms_uuid_new ();
  m->user_uuid = g_strdup (user_uuid);
  m->status = g_strdup (conv->status ? conv->status : "NEW");
  m->conversation_name = g_strdup (name);
  m->conversation_icon = g_strdup (icon);
  m->createtime = m->updatetime = g_get_real_time ();
  g_ptr_array_add (conv->members, m);
  if (conv->server != NULL)
    ppms_index_add_member (conv->server, conv, m);
  return m;
}

void
ppms_conversation_remove_member (PpmsConversation *conv, PpmsMember *member)
{
  if (conv->server != NULL)
    ppms_index_remove_member (conv->server, conv, member);
  g_ptr_array_remove (conv->members, member);
}

PpmsMessage *
ppms_conversation_latest_message (PpmsServer *server, PpmsConversation *conv)
{
  PpmsMessage *m;

  if (conv == NULL)
    return NULL;
  if (conv->latest_task && (m = ppms_message_lookup (server, conv->latest_task)) != NULL)
    return m;
  for (guint i = conv->messages->len; i > 0; i--)
    {
      m = g_ptr_array_index (conv->messages, i - 1);
      if (g_strcmp0 (m->task_status, "PROCESSED") == 0)
        return m;
    }
  return NULL;
}

PpmsFile *
ppms_file_add (PpmsServer *server, const char *name, const char *mime, GBytes *data)
{
  g_autofree char *hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA1, data);
  GHashTableIter iter;
  PpmsFile *f;

  g_hash_table_iter_init (&iter, server->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &f))
    if (g_strcmp0 (f->file_hash, hash) == 0)
      return f;
  return ppms_file_add_copy (server, name, mime, data);
}

PpmsFile *
ppms_file_add_copy (PpmsServer *server, const char *name, const char *mime, GBytes *data)
{
  PpmsFile *f = g_new0 (PpmsFile, 1);

  f->uuid = ppms_uuid_new ();
  f->file_name = g_strdup (name ? name : f->uuid);
  f->file_mime = g_strdup (mime ? mime : "application/octet-stream");
  f->file_hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA1, data);
  f->data = g_bytes_ref (data);
  f->createtime = g_get_real_time ();
  g_hash_table_replace (server->files, f->uuid, f);
  return f;
}

/* ---- Presence ---- */

void
ppms_device_set_online (PpmsServer *server, const char *device_uuid, gboolean online)
{
  PpmsDevice *d = ppms_device_lookup (server, device_uuid);

  if (d != NULL)
    d->is_online = online;
}

static gboolean
slot_online (PpmsServer *server, const char *device_uuid)
{
  PpmsDevice *d = (device_uuid && *device_uuid) ? ppms_device_lookup (server, device_uuid) : NULL;
  return d != NULL && d->is_online;
}

gboolean
ppms_user_browser_online (PpmsServer *server, PpmsUser *user)
{
  return slot_online (server, user->browser_device_uuid);
}

gboolean
ppms_user_mobile_online (PpmsServer *server, PpmsUser *user)
{
  return slot_online (server, user->mobile_device_uuid);
}

gboolean
ppms_user_is_online (PpmsServer *server, PpmsUser *user)
{
  return user != NULL
         && (slot_online (server, user->browser_device_uuid) || slot_online (server, user->mobile_device_uuid)
             || slot_online (server, user->ppcom_browser_device_uuid)
             || slot_online (server, user->ppcom_mobile_device_uuid));
}

void
ppms_user_touch (PpmsUser *user)
{
  gint64 now = g_get_real_time ();
  user->updatetime = now > user->updatetime ? now : user->updatetime + 1;
}
