/* ppm-client-requests.c: the public calls that ask the server something on
 * the user's behalf, outside the session's own flow: earlier messages, a
 * user's profile, an icon, closing a conversation, the team's canned
 * replies. Each answers through its own callback, never after the session
 * stopped (their requests use the session's cancellable).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client-private.h"

/* An icon is a picture for the buddy list, never a file transfer. */
#define PPM_ICON_MAX_BYTES (1024 * 1024)

static gboolean
can_ask (PpmClient *client)
{
  return client->api != NULL && client->state != SESSION_ENDED && client->cancellable != NULL;
}

void
ppm_client_read_history (PpmClient *client, const char *conversation_uuid,
                         const char *before_uuid, guint count, PpmClientHistoryDone done,
                         gpointer user_data)
{
  if (!can_ask (client) || conversation_uuid == NULL || done == NULL)
    return;
  ppm_history_read (&client->history, conversation_uuid, before_uuid, count, done, user_data);
}

/* ---- Profiles ---- */

typedef struct {
  PpmClient *client;
  char *user_uuid;
  PpmClientProfileDone done;
  gpointer user_data;
} ProfileRead;

static void
profile_read_free (ProfileRead *read)
{
  g_free (read->user_uuid);
  g_free (read);
}

/* The non-empty string member, or NULL. */
static const char *
text_of (JsonObject *answer, const char *member)
{
  return ppm_json_opt_nonempty (answer, member);
}

static void
on_user_info (JsonObject *answer, const GError *error, gpointer data)
{
  ProfileRead *read = data;
  PpmUserProfile profile = { 0 };
  const PpmUser *known;

  if (ppm_error_is_cancelled (error)) {
    profile_read_free (read);
    return;
  }
  if (error != NULL) {
    ppm_client_note_http_error (read->client, "PP_GET_USER_INFO", error);
    read->done (read->user_data, read->user_uuid, NULL, error);
    profile_read_free (read);
    return;
  }
  known = ppm_registry_lookup_user (&read->client->registry, read->user_uuid);
  profile.uuid = read->user_uuid;
  /* The registry's name: an anonymous visitor's is made distinct there. */
  profile.fullname = known != NULL && known->fullname != NULL ? known->fullname
                                                              : text_of (answer, "user_fullname");
  profile.email = text_of (answer, "user_email");
  profile.signature = text_of (answer, "user_signature");
  profile.company = text_of (answer, "user_company");
  profile.language = text_of (answer, "user_language");
  profile.icon_url = text_of (answer, "user_icon");
  profile.is_service_user = ppm_json_opt_bool (answer, "is_service_user", FALSE);
  profile.service_status = profile.is_service_user ? text_of (answer, "service_user_status")
                                                   : NULL;
  /* A visitor's device slot tells how PPCom was opened. */
  if (text_of (answer, "ppcom_mobile_device_uuid") != NULL)
    profile.device = PPM_DEVICE_MOBILE;
  else if (text_of (answer, "ppcom_browser_device_uuid") != NULL)
    profile.device = PPM_DEVICE_BROWSER;
  read->done (read->user_data, read->user_uuid, &profile, NULL);
  profile_read_free (read);
}

void
ppm_client_read_profile (PpmClient *client, const char *user_uuid, PpmClientProfileDone done,
                         gpointer user_data)
{
  g_autoptr (JsonObject) body = NULL;
  ProfileRead *read;

  if (!can_ask (client) || user_uuid == NULL || done == NULL)
    return;
  read = g_new0 (ProfileRead, 1);
  read->client = client;
  read->user_uuid = g_strdup (user_uuid);
  read->done = done;
  read->user_data = user_data;
  body = json_object_new ();
  json_object_set_string_member (body, "user_uuid", user_uuid);
  client->ports.call (client, "PP_GET_USER_INFO", body, client->cancellable, on_user_info, read);
}

/* ---- Icons ---- */

typedef struct {
  char *url;
  PpmClientBytesDone done;
  gpointer user_data;
} IconDownload;

static void
on_icon (GBytes *body, const GError *error, gpointer data)
{
  IconDownload *download = data;

  if (!ppm_error_is_cancelled (error))
    download->done (download->user_data, download->url, body, error);
  g_free (download->url);
  g_free (download);
}

void
ppm_client_download_icon (PpmClient *client, const char *url, PpmClientBytesDone done,
                          gpointer user_data)
{
  IconDownload *download;

  if (!can_ask (client) || url == NULL || done == NULL)
    return;
  download = g_new0 (IconDownload, 1);
  download->url = g_strdup (url);
  download->done = done;
  download->user_data = user_data;
  client->ports.download (client, url, PPM_ICON_MAX_BYTES, client->cancellable, on_icon,
                          download);
}

/* ---- Closing a conversation ---- */

typedef struct {
  PpmClient *client;
  char *conversation_uuid;
  PpmClientDone done;
  gpointer user_data;
} CloseRequest;

static void
on_closed (JsonObject *answer, const GError *error, gpointer data)
{
  CloseRequest *request = data;
  PpmConv *conv;

  if (ppm_error_is_cancelled (error))
    goto out;
  if (error != NULL) {
    ppm_client_note_http_error (request->client, "PP_CLOSE_CONVERSATION", error);
  } else {
    conv = ppm_registry_lookup_conv (&request->client->registry, request->conversation_uuid);
    if (conv != NULL && conv->pub.is_open) {
      conv->pub.is_open = FALSE;
      ppm_registry_conv_emit (&request->client->registry, conv);
    }
  }
  request->done (request->user_data, request->conversation_uuid, error);
out:
  g_free (request->conversation_uuid);
  g_free (request);
}

void
ppm_client_close_conversation (PpmClient *client, const char *conversation_uuid,
                               PpmClientDone done, gpointer user_data)
{
  g_autoptr (JsonObject) body = NULL;
  CloseRequest *request;

  if (!can_ask (client) || conversation_uuid == NULL || done == NULL ||
      client->registry.self == NULL)
    return;
  request = g_new0 (CloseRequest, 1);
  request->client = client;
  request->conversation_uuid = g_strdup (conversation_uuid);
  request->done = done;
  request->user_data = user_data;
  body = json_object_new ();
  json_object_set_string_member (body, "user_uuid", client->registry.self->uuid);
  json_object_set_string_member (body, "conversation_uuid", conversation_uuid);
  client->ports.call (client, "PP_CLOSE_CONVERSATION", body, client->cancellable, on_closed,
                      request);
}

/* ---- The team's predefined scripts ---- */

typedef struct {
  PpmClient *client;
  PpmClientScriptsDone done;
  gpointer user_data;
} ScriptsRead;

static void
script_free (PpmScript *script)
{
  g_free (script->question);
  g_free (script->answer);
  g_free (script);
}

static int
compare_questions (gconstpointer a, gconstpointer b)
{
  const PpmScript *first = *(const PpmScript *const *) a;
  const PpmScript *second = *(const PpmScript *const *) b;

  return g_utf8_collate (first->question ? first->question : "",
                         second->question ? second->question : "");
}

static void
on_scripts (JsonObject *answer, const GError *error, gpointer data)
{
  ScriptsRead *read = data;
  g_autoptr (GPtrArray) scripts = NULL;
  JsonArray *list;
  guint length;

  if (ppm_error_is_cancelled (error))
    goto out;
  if (error != NULL) {
    ppm_client_note_http_error (read->client, "PP_GET_ALL_PREDEFINED_SCRIPT", error);
    read->done (read->user_data, NULL, error);
    goto out;
  }
  scripts = g_ptr_array_new_with_free_func ((GDestroyNotify) script_free);
  list = ppm_json_opt_array (answer, "list");
  length = list != NULL ? json_array_get_length (list) : 0;
  for (guint i = 0; i < length; i++) {
    /* The shipped server's entries are null: nothing to show. */
    JsonObject *entry = ppm_json_array_object (list, i);
    const char *reply = entry != NULL ? text_of (entry, "script_answer") : NULL;
    PpmScript *script;

    if (reply == NULL)
      continue;
    script = g_new0 (PpmScript, 1);
    script->question = g_strdup (text_of (entry, "script_question"));
    script->answer = g_strdup (reply);
    g_ptr_array_add (scripts, script);
  }
  g_ptr_array_sort (scripts, compare_questions);
  read->done (read->user_data, scripts, NULL);
out:
  g_free (read);
}

void
ppm_client_read_team_scripts (PpmClient *client, PpmClientScriptsDone done, gpointer user_data)
{
  g_autoptr (JsonObject) body = NULL;
  ScriptsRead *read;

  if (!can_ask (client) || done == NULL)
    return;
  read = g_new0 (ScriptsRead, 1);
  read->client = client;
  read->done = done;
  read->user_data = user_data;
  body = json_object_new ();
  client->ports.call (client, "PP_GET_ALL_PREDEFINED_SCRIPT", body, client->cancellable,
                      on_scripts, read);
}
