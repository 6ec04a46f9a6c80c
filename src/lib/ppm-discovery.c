/* ppm-discovery.c: API key discovery from the public web assets (see
 * ppm-discovery.h; the literal forms are those of transcript 10).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-discovery.h"
#include "ppm-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* Keys and secrets are base64 text: letters, digits, '=', and in theory
 * '+' and '/'. Anything else ends the value. */
static gboolean
is_key_char (char c)
{
  return g_ascii_isalnum (c) || c == '=' || c == '+' || c == '/';
}

/* The quoted value right after `name` at p, e.g. `api_key:"X"` or
 * `api_key: 'X'`; NULL for anything else (null, an expression, empty). */
static char *
quoted_value_after (const char *p, const char *end, const char *name)
{
  gsize name_length = strlen (name);
  char quote;
  const char *value;

  if ((gsize) (end - p) < name_length || strncmp (p, name, name_length) != 0)
    return NULL;
  p += name_length;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p >= end || *p != ':')
    return NULL;
  p++;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p >= end || (*p != '"' && *p != '\''))
    return NULL;
  quote = *p++;
  value = p;
  while (p < end && is_key_char (*p))
    p++;
  if (p >= end || *p != quote || p == value)
    return NULL;
  return g_strndup (value, p - value);
}

/* First quoted value of `name` in [start, end), skipping unquoted ones. */
static char *
find_quoted_value (const char *start, const char *end, const char *name)
{
  gsize name_length = strlen (name);

  for (const char *p = start; p + name_length <= end; p++) {
    char *value;

    if (*p != name[0])
      continue;
    /* A whole identifier: not the tail of e.g. "my_api_key". */
    if (p > start && (g_ascii_isalnum (p[-1]) || p[-1] == '_'))
      continue;
    value = quoted_value_after (p, end, name);
    if (value != NULL)
      return value;
  }
  return NULL;
}

gboolean
ppm_discovery_parse_ppkefu (const char *script, gsize length, char **api_key)
{
  const char *end = script + length;
  const char *start = script;
  const char *marker;

  *api_key = NULL;
  if (script == NULL)
    return FALSE;
  /* Prefer the window.ppmessage={...} object; fall back to the whole text. */
  marker = g_strstr_len (script, length, "window.ppmessage=");
  if (marker != NULL)
    start = marker;
  *api_key = find_quoted_value (start, end, "api_key");
  if (*api_key == NULL && marker != NULL)
    *api_key = find_quoted_value (script, end, "api_key");
  return *api_key != NULL;
}

gboolean
ppm_discovery_parse_ppcom (const char *script, gsize length, char **api_key,
                           char **api_secret)
{
  const char *end = script + length;
  const char *start = script;
  const char *marker;

  *api_key = NULL;
  *api_secret = NULL;
  if (script == NULL)
    return FALSE;
  /* The Configuration block holds the real values; later `api_key: null`
   * decoys are skipped because only quoted values count. */
  marker = g_strstr_len (script, length, "Configuration = {");
  if (marker == NULL)
    marker = g_strstr_len (script, length, "Configuration={");
  if (marker != NULL)
    start = marker;
  *api_key = find_quoted_value (start, end, "api_key");
  *api_secret = find_quoted_value (start, end, "api_secret");
  if (*api_key == NULL || *api_secret == NULL) {
    g_clear_pointer (api_key, g_free);
    g_clear_pointer (api_secret, g_free);
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  gboolean ppcom;
  PpmDiscoveryCallback callback;
  gpointer user_data;
} Fetch;

static void
on_script (GBytes *body, const GError *error, gpointer data)
{
  Fetch *fetch = data;
  g_autofree char *key = NULL;
  g_autofree char *secret = NULL;
  g_autoptr (GError) local = NULL;
  gsize size = 0;
  const char *text;
  gboolean found;

  if (error != NULL) {
    if (ppm_error_is_cancelled (error) || error->code != PPM_ERROR_NOT_PPMESSAGE ||
        error->domain != PPM_ERROR)
      fetch->callback (NULL, NULL, error, fetch->user_data);
    else {
      local = g_error_new (PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                           _("Could not find the API key on the server (%s); "
                             "is this a PPMessage server? You can enter the key in the "
                             "account settings"), error->message);
      fetch->callback (NULL, NULL, local, fetch->user_data);
    }
    g_free (fetch);
    return;
  }
  text = g_bytes_get_data (body, &size);
  found = fetch->ppcom ? ppm_discovery_parse_ppcom (text, size, &key, &secret)
                       : ppm_discovery_parse_ppkefu (text, size, &key);
  if (!found) {
    local = g_error_new_literal (PPM_ERROR, PPM_ERROR_NOT_PPMESSAGE,
                                 _("The server's web assets carry no API key; is this a "
                                   "PPMessage server? You can enter the key in the account "
                                   "settings"));
    fetch->callback (NULL, NULL, local, fetch->user_data);
  } else {
    g_debug ("discovered the %s key", fetch->ppcom ? "PPCOM" : "PPKEFU");
    fetch->callback (key, secret, NULL, fetch->user_data);
  }
  if (secret)
    memset (secret, 0, strlen (secret));
  g_free (fetch);
}

static void
fetch_script (PpmApi *api, gboolean ppcom, GCancellable *cancellable,
              PpmDiscoveryCallback callback, gpointer user_data)
{
  Fetch *fetch = g_new0 (Fetch, 1);

  fetch->ppcom = ppcom;
  fetch->callback = callback;
  fetch->user_data = user_data;
  ppm_api_get (api, ppcom ? PPM_PPCOM_SCRIPT_PATH : PPM_PPKEFU_SCRIPT_PATH, cancellable,
               on_script, fetch);
}

void
ppm_discovery_fetch_ppkefu (PpmApi *api, GCancellable *cancellable,
                            PpmDiscoveryCallback callback, gpointer user_data)
{
  fetch_script (api, FALSE, cancellable, callback, user_data);
}

void
ppm_discovery_fetch_ppcom (PpmApi *api, GCancellable *cancellable,
                           PpmDiscoveryCallback callback, gpointer user_data)
{
  fetch_script (api, TRUE, cancellable, callback, user_data);
}
