/* people.c: who a buddy is: Get Info (the user's profile as the server
 * gives it) and buddy icons. An icon is downloaded from the user's icon
 * URL only when that URL differs from the one its current icon came from:
 * libpurple keeps the URL as the icon's checksum with the buddy list, so
 * an unchanged icon is not fetched again, not even after a restart. Icons
 * are fetched once the account is connected, a few at a time.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

static void
add_pair (PurpleNotifyUserInfo *info, const char *label, const char *value)
{
  char *clean;

  if (value == NULL || *value == '\0')
    return;
  clean = ppm_text_one_line (value);
  purple_notify_user_info_add_pair_plaintext (info, label, clean);
  g_free (clean);
}

static const char *
service_status_label (const char *status)
{
  if (g_strcmp0 (status, "READY") == 0)
    return _("Available");
  if (g_strcmp0 (status, "BUSY") == 0)
    return _("Busy");
  if (g_strcmp0 (status, "REST") == 0)
    return _("Away");
  return status;
}

static const char *
device_label (PpmDeviceKind device)
{
  switch (device) {
  case PPM_DEVICE_BROWSER:
    return _("Web browser (PPCom)");
  case PPM_DEVICE_MOBILE:
    return _("Mobile (PPCom)");
  case PPM_DEVICE_UNKNOWN:
  default:
    return NULL;
  }
}

static void
on_profile (gpointer data, const char *user_uuid, const PpmUserProfile *profile,
            const GError *error)
{
  PpmRequest *request = data;
  PpmAccount *pa = request->pa;
  PurpleNotifyUserInfo *info = purple_notify_user_info_new ();

  if (error != NULL) {
    char *notice = g_strdup_printf (_("The profile could not be loaded: %s"), error->message);

    purple_debug_warning (PPM_DEBUG_CATEGORY, "profile of %s not read: %s\n", user_uuid,
                          error->message);
    add_pair (info, _("Error"), notice);
    g_free (notice);
  } else {
    add_pair (info, _("Name"), profile->fullname);
    add_pair (info, _("E-mail"), profile->email);
    add_pair (info, _("Role"), profile->is_service_user ? _("Colleague") : _("Visitor"));
    add_pair (info, _("Signature"), profile->signature);
    add_pair (info, _("Company"), profile->company);
    add_pair (info, _("Language"), profile->language);
    add_pair (info, _("Service status"), service_status_label (profile->service_status));
    add_pair (info, _("Device"), device_label (profile->device));
    ppm_people_add_page (pa, user_uuid, info);
  }
  purple_notify_userinfo (pa->gc, request->who, info, NULL, NULL);
  purple_notify_user_info_destroy (info);
  ppm_request_done (request);
}

void
ppm_people_get_info (PurpleConnection *gc, const char *who)
{
  PpmAccount *pa = ppm_account_from_gc (gc);
  PurpleNotifyUserInfo *info;
  PurpleBuddy *buddy;

  if (pa == NULL || pa->client == NULL || pa->closing || who == NULL)
    return;
  if (ppm_client_lookup_user (pa->client, who) != NULL) {
    ppm_client_read_profile (pa->client, who, on_profile, ppm_request_new (pa, who));
    return;
  }
  /* Not a person: a group of agents, or a visitor account's team. */
  info = purple_notify_user_info_new ();
  buddy = purple_find_buddy (pa->account, who);
  add_pair (info, _("Name"), buddy != NULL ? purple_buddy_get_alias (buddy) : who);
  add_pair (info, _("Role"), pa->role == PPM_ROLE_VISITOR ? _("Team") : _("Group conversation"));
  purple_notify_userinfo (gc, who, info, NULL, NULL);
  purple_notify_user_info_destroy (info);
}

/* ---- Icons ---- */

/* libpurple keeps one stored image per distinct icon (its file name is the
 * data's SHA-1) and counts that image's users in 8 bits: past 255 buddies
 * with the same picture (a team's default avatar, the test server's one
 * identicon) the count wraps and the image is freed under the buddies still
 * showing it. So an image is given to this many buddies at most; the
 * others keep the protocol's icon. Entries stay for the process's life
 * (libpurple frees icons without telling), which errs on the safe side. */
#define ICON_SHARERS_MAX 200

static GHashTable *icon_sharers; /* icon file name -> set of "account\nbuddy" */

static gboolean
icon_share_allowed (PurpleAccount *account, const char *who, const char *icon_file)
{
  g_autofree char *key = g_strdup_printf ("%p\n%s", (void *) account, who);
  GHashTable *sharers;

  if (icon_sharers == NULL)
    icon_sharers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_hash_table_destroy);
  sharers = g_hash_table_lookup (icon_sharers, icon_file);
  if (sharers == NULL) {
    sharers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert (icon_sharers, g_strdup (icon_file), sharers);
  }
  if (g_hash_table_contains (sharers, key))
    return TRUE;
  if (g_hash_table_size (sharers) >= ICON_SHARERS_MAX)
    return FALSE;
  g_hash_table_add (sharers, g_steal_pointer (&key));
  return TRUE;
}

/* At sign-in every open conversation's buddy wants its icon: a thousand
 * downloads queued at once delayed the catch-up's own requests behind them
 * (libsoup serves its queue in order, and walks it for every request) and
 * kept the server busy. So icons wait until the account is connected (the
 * catch-up read), then go a few at a time from a low-priority idle, after
 * the delivery of the backlog and whatever else is ready. */
#define ICON_DOWNLOADS_AT_ONCE 2

typedef struct _PpmIconQueue PpmIconQueue;

struct _PpmIconQueue {
  GHashTable *waiting;  /* buddy name -> icon URL not asked for yet */
  GQueue order;         /* the waiting buddy names, first wanted first (owned) */
  GHashTable *loading;  /* buddy name -> icon URL being downloaded */
  guint idle_id;
};

static void schedule_downloads (PpmAccount *pa);

static void
on_icon (gpointer data, const char *url, GBytes *body, const GError *error)
{
  PpmRequest *request = data;
  PpmAccount *pa = request->pa;
  gsize size = 0;
  const guchar *bytes = body != NULL ? g_bytes_get_data (body, &size) : NULL;
  PurpleBuddy *buddy = purple_find_buddy (pa->account, request->who);
  g_autofree char *icon_file = NULL;

  g_hash_table_remove (pa->icons->loading, request->who);
  if (error != NULL || size == 0) {
    purple_debug_warning (PPM_DEBUG_CATEGORY, "icon of %s not loaded from %s: %s\n",
                          request->who, url, error != NULL ? error->message : "empty");
  } else if (buddy != NULL) {
    icon_file = purple_util_get_image_filename (bytes, size);
    if (icon_file == NULL || !icon_share_allowed (pa->account, request->who, icon_file)) {
      purple_debug_info (PPM_DEBUG_CATEGORY, "icon of %s not set: %d buddies show it already\n",
                         request->who, ICON_SHARERS_MAX);
      /* Handled: not fetched again while the URL stays. */
      purple_blist_node_set_string (PURPLE_BLIST_NODE (buddy), "icon_checksum", url);
    } else {
      purple_debug_info (PPM_DEBUG_CATEGORY, "icon of %s loaded (%" G_GSIZE_FORMAT " bytes)\n",
                         request->who, size);
      /* libpurple takes the data; the URL is the checksum it keeps. */
      purple_buddy_icons_set_for_user (pa->account, request->who, g_memdup2 (bytes, size), size,
                                       url);
    }
  }
  ppm_request_done (request);
  schedule_downloads (pa);
}

static gboolean
start_downloads (gpointer data)
{
  PpmAccount *pa = data;
  PpmIconQueue *icons = pa->icons;
  char *who;

  icons->idle_id = 0;
  while (g_hash_table_size (icons->loading) < ICON_DOWNLOADS_AT_ONCE
         && (who = g_queue_pop_head (&icons->order)) != NULL) {
    char *url = NULL;
    PpmRequest *request = ppm_request_new (pa, who);

    g_hash_table_steal_extended (icons->waiting, who, NULL, (gpointer *) &url);
    g_hash_table_replace (icons->loading, who, url);
    ppm_client_download_icon (pa->client, url, on_icon, request);
  }
  return G_SOURCE_REMOVE;
}

static void
schedule_downloads (PpmAccount *pa)
{
  PpmIconQueue *icons = pa->icons;

  if (icons->idle_id != 0 || g_queue_is_empty (&icons->order)
      || purple_connection_get_state (pa->gc) != PURPLE_CONNECTED)
    return;
  icons->idle_id = g_idle_add_full (G_PRIORITY_LOW, start_downloads, pa, NULL);
}

void
ppm_people_fetch_icons (PpmAccount *pa)
{
  if (pa->icons != NULL)
    schedule_downloads (pa);
}

void
ppm_people_account_closed (PpmAccount *pa)
{
  PpmIconQueue *icons = g_steal_pointer (&pa->icons);

  if (icons == NULL)
    return;
  g_clear_handle_id (&icons->idle_id, g_source_remove);
  g_queue_clear_full (&icons->order, g_free);
  g_hash_table_destroy (icons->waiting);
  g_hash_table_destroy (icons->loading);
  g_free (icons);
}

void
ppm_people_update_icon (PpmAccount *pa, const char *who, const char *icon_url)
{
  PurpleBuddy *buddy = who != NULL ? purple_find_buddy (pa->account, who) : NULL;
  PpmIconQueue *icons;

  if (buddy == NULL || icon_url == NULL || *icon_url == '\0')
    return;
  if (g_strcmp0 (purple_buddy_icons_get_checksum_for_user (buddy), icon_url) == 0) {
    const char *icon_file = purple_blist_node_get_string (PURPLE_BLIST_NODE (buddy), "buddy_icon");

    /* Kept from an earlier session, it counts as a sharer too. */
    if (icon_file != NULL && !icon_share_allowed (pa->account, who, icon_file)) {
      purple_buddy_icons_set_for_user (pa->account, who, NULL, 0, NULL);
      purple_blist_node_set_string (PURPLE_BLIST_NODE (buddy), "icon_checksum", icon_url);
    }
    return;
  }
  if (pa->icons == NULL) {
    pa->icons = g_new0 (PpmIconQueue, 1);
    pa->icons->waiting = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
    pa->icons->loading = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  }
  icons = pa->icons;
  if (g_strcmp0 (g_hash_table_lookup (icons->loading, who), icon_url) == 0)
    return;
  if (g_hash_table_contains (icons->waiting, who)) {
    /* Waiting still: the newest URL is the one to fetch. */
    g_hash_table_insert (icons->waiting, (gpointer) who, g_strdup (icon_url));
    return;
  }
  {
    char *name = g_strdup (who);

    g_queue_push_tail (&icons->order, name);
    g_hash_table_insert (icons->waiting, name, g_strdup (icon_url));
  }
  schedule_downloads (pa);
}

/* ---- Where a visitor is ---- */

/* "Jane is on Acme shop (https://shop.example.com/)", or NULL when the
 * server never told (the shipped server delivers no ONLINE frame). */
static char *
context_line (PpmAccount *pa, const PpmUser *user)
{
  char *name, *line;

  if (user == NULL || user->is_service_user || (user->page_title == NULL && user->page_url == NULL))
    return NULL;
  name = ppm_text_one_line (ppm_buddies_display_name (pa, user->uuid));
  if (user->page_title != NULL && user->page_url != NULL)
    /* TRANSLATORS: a visitor's name, the page's title, its address. */
    line = g_strdup_printf (_("%s is on %s (%s)"), name, user->page_title, user->page_url);
  else
    /* TRANSLATORS: a visitor's name, the page's title or address. */
    line = g_strdup_printf (_("%s is on %s"), name,
                            user->page_title != NULL ? user->page_title : user->page_url);
  g_free (name);
  return line;
}

static void
write_context (PpmAccount *pa, PurpleConversation *conv, const PpmUser *user)
{
  char *line = context_line (pa, user);
  char *html;

  if (line == NULL)
    return;
  html = ppm_text_to_html (line);
  purple_conversation_write (conv, NULL, html, PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NO_LOG,
                             time (NULL));
  g_free (html);
  g_free (line);
}

void
ppm_people_page_changed (PpmAccount *pa, const PpmUser *user)
{
  PurpleConversation *conv =
    purple_find_conversation_with_account (PURPLE_CONV_TYPE_IM, user->uuid, pa->account);

  /* A window not open yet gets the line when it opens. */
  if (conv != NULL)
    write_context (pa, conv, user);
}

void
ppm_people_window_opened (PpmAccount *pa, PurpleConversation *conv)
{
  if (pa->role == PPM_ROLE_AGENT)
    write_context (pa, conv,
                   ppm_client_lookup_user (pa->client, purple_conversation_get_name (conv)));
}

void
ppm_people_add_page (PpmAccount *pa, const char *user_uuid, PurpleNotifyUserInfo *info)
{
  const PpmUser *user = ppm_client_lookup_user (pa->client, user_uuid);

  if (user == NULL || user->is_service_user)
    return;
  add_pair (info, _("Page"), user->page_title);
  add_pair (info, _("Page address"), user->page_url);
}
