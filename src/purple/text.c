/* text.c: what the server sends becomes safe for libpurple. Message bodies
 * are plain text from strangers (visitors): libpurple wants HTML, so every
 * body is cleaned and escaped here, and only here. Names stay plain text
 * (libpurple's contract for aliases and senders: the UIs escape them), but
 * lose the control characters that would break a line or a buddy list row.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

#include <string.h>

/* C0 controls, DEL and C1 controls: never shown, and some (ESC, BEL) do
 * harm in a terminal UI such as Finch. */
static gboolean
is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* Valid UTF-8 without control characters; \n and \t survive when keep_lines
 * (a CR LF or lone CR becomes \n). */
static char *
clean_text (const char *text, gboolean keep_lines)
{
  char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *out = g_string_sized_new (strlen (valid));
  const char *p;

  for (p = valid; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (c == '\r') {
      if (keep_lines && p[1] != '\n')
        g_string_append_c (out, '\n');
    } else if (c == '\n' || c == '\t') {
      g_string_append_c (out, keep_lines ? (char) c : ' ');
    } else if (!is_control (c)) {
      g_string_append_unichar (out, c);
    }
  }
  g_free (valid);
  return g_string_free (out, FALSE);
}

char *
ppm_text_to_html (const char *plain)
{
  char *clean = clean_text (plain, TRUE);
  char *html = g_markup_escape_text (clean, -1);

  g_free (clean);
  return html;
}

char *
ppm_text_one_line (const char *name)
{
  char *clean = clean_text (name, FALSE);

  return g_strstrip (clean);
}
