/* ppm-redact.c: secret redaction for debug logs (see ppm-redact.h).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-redact.h"

#include <string.h>

#define REDACTED "<redacted>"
/* Longest log excerpt: enough for any frame header, never a whole history. */
#define MAX_LOG_BYTES 2000
/* API keys and tokens are 56 characters, SHA-1 hex 40: uuids (36, with
 * dashes) and ordinary words stay readable. */
#define MIN_SECRET_RUN 32

static const char *const secret_names[] = {
  "api_token", "access_token", "token", "user_password", "password", "old_password",
  "client_id", "client_secret", "api_key", "api_secret", "app_key", "app_secret",
  "Authorization", NULL,
};

/* A process-wide logging preference, like G_MESSAGES_DEBUG: set once by
 * the plugin when it loads. */
static PpmLogBodiesWanted bodies_wanted;

void
ppm_log_set_bodies_wanted (PpmLogBodiesWanted wanted)
{
  bodies_wanted = wanted;
}

gboolean
ppm_log_bodies_wanted (void)
{
  return bodies_wanted == NULL || bodies_wanted ();
}

gboolean
ppm_redact_disabled (void)
{
  const char *value = g_getenv ("PPM_DEBUG_UNSAFE");

  return value != NULL && *value != '\0' && strcmp (value, "0") != 0;
}

static gboolean
is_secret_name (const char *name, gsize length)
{
  for (guint i = 0; secret_names[i] != NULL; i++)
    if (strlen (secret_names[i]) == length &&
        g_ascii_strncasecmp (secret_names[i], name, length) == 0)
      return TRUE;
  return FALSE;
}

/* Length of a name made of [A-Za-z0-9_] starting at text. */
static gsize
name_length (const char *text)
{
  gsize length = 0;

  while (g_ascii_isalnum (text[length]) || text[length] == '_')
    length++;
  return length;
}

/* After a secret name: skips `": "`, `=`, `: ` or `OAuth ` and returns the
 * position of the value, or NULL when no value follows. */
static const char *
value_start (const char *after_name, char *quote)
{
  const char *p = after_name;

  *quote = 0;
  if (*p == '"' || *p == '\'')
    p++;
  while (*p == ' ')
    p++;
  if (*p != ':' && *p != '=')
    return NULL;
  p++;
  while (*p == ' ')
    p++;
  if (g_ascii_strncasecmp (p, "OAuth ", 6) == 0)
    p += 6;
  if (*p == '"' || *p == '\'') {
    *quote = *p;
    p++;
  }
  return p;
}

static const char *
value_end (const char *value, char quote)
{
  const char *p = value;

  if (quote) {
    while (*p && *p != quote) {
      if (*p == '\\' && p[1])
        p++;
      p++;
    }
    return p;
  }
  while (*p && *p != '&' && *p != ',' && *p != '}' && *p != ' ' && *p != '\n')
    p++;
  return p;
}

/* Pass 1: values of members and fields whose name is a secret. */
static char *
redact_named_values (const char *text)
{
  GString *out = g_string_sized_new (strlen (text));
  const char *p = text;

  while (*p) {
    gsize length = name_length (p);
    const char *value, *end;
    char quote;

    if (length == 0) {
      g_string_append_c (out, *p++);
      continue;
    }
    g_string_append_len (out, p, length);
    if (!is_secret_name (p, length) || (p > text && (g_ascii_isalnum (p[-1]) || p[-1] == '_'))) {
      p += length;
      continue;
    }
    p += length;
    value = value_start (p, &quote);
    /* null, or a nested object or array whose own members are checked. */
    if (value == NULL || strncmp (value, "null", 4) == 0 ||
        (!quote && (*value == '{' || *value == '[' || *value == '\0')))
      continue;
    end = value_end (value, quote);
    g_string_append_len (out, p, value - p);
    g_string_append (out, REDACTED);
    p = end;
  }
  return g_string_free (out, FALSE);
}

static gboolean
is_token_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/' || c == '=' || c == '%';
}

/* Pass 2: any long run of token-like characters, whatever its name. */
static char *
redact_token_runs (const char *text)
{
  GString *out = g_string_sized_new (strlen (text));
  const char *p = text;

  while (*p) {
    gsize run = 0;

    while (is_token_char (p[run]))
      run++;
    if (run >= MIN_SECRET_RUN) {
      g_string_append (out, REDACTED);
      p += run;
    } else if (run > 0) {
      g_string_append_len (out, p, run);
      p += run;
    } else {
      g_string_append_c (out, *p++);
    }
  }
  return g_string_free (out, FALSE);
}

char *
ppm_redact (const char *text)
{
  g_autofree char *named = NULL;
  char *result;

  if (text == NULL)
    return g_strdup ("(null)");
  if (ppm_redact_disabled ())
    return g_strdup (text);
  named = redact_named_values (text);
  result = redact_token_runs (named);
  if (strlen (result) > MAX_LOG_BYTES)
    strcpy (result + MAX_LOG_BYTES - 3, "...");
  if (!g_utf8_validate (result, -1, NULL)) {
    char *valid = g_utf8_make_valid (result, -1);

    g_free (result);
    result = valid;
  }
  return result;
}
