/* test-translations.c: the message template is current with the sources,
 * every catalogue compiles cleanly, and the zh_CN catalogue (PPMessage's home
 * language) is complete. Runs from the top of the tree, as `make check` does.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#define TEMPLATE "po/purple-ppmessage.pot"

/* Runs argv, returns its exit status; stdout and stderr into *out (may be NULL). */
static int
run (const char *const *argv, char **out)
{
  GError *error = NULL;
  char *std_out = NULL, *std_err = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &std_out, &std_err, &status, &error)) {
    g_test_message ("%s: %s", argv[0], error->message);
    g_error_free (error);
    return -1;
  }
  if (out)
    *out = g_strconcat (std_out, std_err, NULL);
  g_free (std_out);
  g_free (std_err);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

/* The msgids of a .pot or .po file, in file order, one per line. */
static char *
msgids_of (const char *path)
{
  const char *argv[] = { "msgcat", "--no-location", "--no-wrap", "--sort-output", path, NULL };
  char *text = NULL, **lines;
  GString *ids = g_string_new (NULL);

  g_assert_cmpint (run (argv, &text), ==, 0);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "msgid ") || g_str_has_prefix (*l, "msgid_plural "))
      g_string_append_printf (ids, "%s\n", *l);
  g_strfreev (lines);
  g_free (text);
  return g_string_free (ids, FALSE);
}

static GPtrArray *
source_files (void)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *dirs[] = { "src/lib", "src/purple", "src/bridge" };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    GDir *dir = g_dir_open (dirs[i], 0, NULL);
    const char *name;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir)))
      if (g_str_has_suffix (name, ".c"))
        g_ptr_array_add (files, g_build_filename (dirs[i], name, NULL));
    g_dir_close (dir);
  }
  return files;
}

static void
test_template_is_current (void)
{
  char *tmp_dir = g_dir_make_tmp ("ppm-pot-XXXXXX", NULL);
  char *fresh = g_build_filename (tmp_dir, "fresh.pot", NULL);
  GPtrArray *argv = g_ptr_array_new ();
  GPtrArray *files = source_files ();
  char *output = NULL, *expected, *actual;

  g_ptr_array_add (argv, (char *) "xgettext");
  g_ptr_array_add (argv, (char *) "--keyword=_");
  g_ptr_array_add (argv, (char *) "--keyword=N_");
  g_ptr_array_add (argv, (char *) "--from-code=UTF-8");
  g_ptr_array_add (argv, (char *) "-o");
  g_ptr_array_add (argv, fresh);
  for (guint i = 0; i < files->len; i++)
    g_ptr_array_add (argv, files->pdata[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_cmpint (run ((const char *const *) argv->pdata, &output), ==, 0);

  expected = msgids_of (fresh);
  actual = msgids_of (TEMPLATE);
  if (g_strcmp0 (expected, actual) != 0)
    g_test_message ("%s is out of date: run `make pot` and update the catalogues", TEMPLATE);
  g_assert_cmpstr (actual, ==, expected);

  g_unlink (fresh);
  g_rmdir (tmp_dir);
  g_free (expected);
  g_free (actual);
  g_free (output);
  g_free (fresh);
  g_free (tmp_dir);
  g_ptr_array_unref (argv);
  g_ptr_array_unref (files);
}

static void
test_catalogues_compile (void)
{
  GDir *dir = g_dir_open ("po", 0, NULL);
  const char *name;
  guint catalogues = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir))) {
    char *path, *output = NULL;
    const char *argv[] = { "msgfmt", "--check", "--statistics", "-o", "/dev/null", NULL, NULL };

    if (!g_str_has_suffix (name, ".po"))
      continue;
    path = g_build_filename ("po", name, NULL);
    argv[5] = path;
    g_assert_cmpint (run (argv, &output), ==, 0);
    g_test_message ("%s: %s", name, output);
    /* Every catalogue is complete: no fuzzy or untranslated message. */
    g_assert_null (strstr (output, "fuzzy"));
    g_assert_null (strstr (output, "untranslated"));
    catalogues++;
    g_free (output);
    g_free (path);
  }
  g_dir_close (dir);
  /* zh_CN and at least one more. */
  g_assert_cmpuint (catalogues, >=, 2);
  g_assert_true (g_file_test ("po/zh_CN.po", G_FILE_TEST_EXISTS));
}

/* Each catalogue has exactly the template's messages. */
static void
test_catalogues_match_template (void)
{
  char *template_ids = msgids_of (TEMPLATE);
  GDir *dir = g_dir_open ("po", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir))) {
    char *path, *ids;

    if (!g_str_has_suffix (name, ".po"))
      continue;
    path = g_build_filename ("po", name, NULL);
    ids = msgids_of (path);
    g_assert_cmpstr (ids, ==, template_ids);
    g_free (ids);
    g_free (path);
  }
  g_dir_close (dir);
  g_free (template_ids);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/translations/template-is-current", test_template_is_current);
  g_test_add_func ("/translations/catalogues-compile-complete", test_catalogues_compile);
  g_test_add_func ("/translations/catalogues-match-template", test_catalogues_match_template);
  return g_test_run ();
}
