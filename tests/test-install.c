/* test-install.c: `make install` puts every file where Pidgin and Finch look
 * for it (plugin directory of libpurple, protocol icons of Pidgin, message
 * catalogues, AppStream metainfo), and `make uninstall` removes exactly those
 * files and nothing else. `make install-user` fills ~/.purple/plugins.
 * Installed into a DESTDIR, the plugin is loaded by libpurple's plugin
 * probe (the package's smoke test), and it exports no symbol but the one
 * libpurple looks for.
 *
 * The source tree is $PPM_SOURCE_DIR, or the current directory (the repository
 * root under `make check`). $BUILD and $SANITIZE, exported by the test runner,
 * are passed on to make so the build being tested is the one installed.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib/gstdio.h>

#include <string.h>
#include <sys/stat.h>

#include "ppm-test-peer.h"

#define METAINFO_ID "io.github.purple_ppmessage"

typedef struct {
  char *source_dir;
  char *build_dir;     /* absolute */
  char *destdir;       /* a fresh temporary directory */
} Fixture;

static char *
source_dir (void)
{
  const char *env = g_getenv ("PPM_SOURCE_DIR");

  return env != NULL && *env != '\0' ? g_canonicalize_filename (env, NULL) : g_get_current_dir ();
}

/* The build directory the Makefile uses for these BUILD/SANITIZE values. */
static char *
build_dir (const char *source)
{
  const char *build = g_getenv ("BUILD");

  if (build == NULL || *build == '\0')
    build = g_strcmp0 (g_getenv ("SANITIZE"), "1") == 0 ? "build-san" : "build";
  return g_canonicalize_filename (build, source);
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *makefile = NULL;

  fx->source_dir = source_dir ();
  makefile = g_build_filename (fx->source_dir, "Makefile", NULL);
  if (!g_file_test (makefile, G_FILE_TEST_IS_REGULAR))
    g_error ("no Makefile in %s: run from the source tree or set PPM_SOURCE_DIR",
             fx->source_dir);
  fx->build_dir = build_dir (fx->source_dir);
  fx->destdir = g_dir_make_tmp ("ppm-install-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  ppms_remove_tree (fx->destdir);
  g_free (fx->destdir);
  g_free (fx->build_dir);
  g_free (fx->source_dir);
}

/* Runs make in the source tree with extra variables; fails the test on a
 * non-zero exit. The environment of an enclosing make (jobserver descriptors
 * it did not pass down, command-line variables) is dropped so only the
 * variables given here count. */
static void
run_make (Fixture *fx, const char *const *vars, const char *home)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) envp = g_get_environ ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup ("make"));
  g_ptr_array_add (argv, g_strdup ("--no-print-directory"));
  g_ptr_array_add (argv, g_strdup ("-C"));
  g_ptr_array_add (argv, g_strdup (fx->source_dir));
  g_ptr_array_add (argv, g_strdup_printf ("BUILD=%s", fx->build_dir));
  if (g_strcmp0 (g_getenv ("SANITIZE"), "1") == 0)
    g_ptr_array_add (argv, g_strdup ("SANITIZE=1"));
  for (guint i = 0; vars[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (vars[i]));
  g_ptr_array_add (argv, NULL);

  envp = g_environ_unsetenv (envp, "MAKEFLAGS");
  envp = g_environ_unsetenv (envp, "MFLAGS");
  envp = g_environ_unsetenv (envp, "MAKELEVEL");
  envp = g_environ_unsetenv (envp, "MAKEOVERRIDES");
  if (home != NULL)
    envp = g_environ_setenv (envp, "HOME", home, TRUE);

  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("make %s failed: %s\n%s%s", vars[0], error->message, out, err);
}

static char *
purple_plugin_dir (void)
{
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "pkg-config", "--variable=plugindir", "purple", NULL };
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_strstrip (out);
  g_assert_true (g_path_is_absolute (out));
  return g_steal_pointer (&out);
}

/* Every regular file or symlink under root, as "relative/path" ->
 * "mode:checksum", so a changed file shows as a changed value. */
static void
list_tree_into (GHashTable *listing, const char *root, const char *relative)
{
  g_autofree char *path = g_build_filename (root, relative, NULL);
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = *relative ? g_build_filename (relative, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);
      GStatBuf st;

      g_assert_cmpint (g_lstat (child, &st), ==, 0);
      if (S_ISDIR (st.st_mode))
        list_tree_into (listing, root, child_rel);
      else
        {
          g_autofree char *contents = NULL;
          gsize length = 0;
          g_autofree char *sum = NULL;

          if (S_ISLNK (st.st_mode))
            {
              contents = g_file_read_link (child, NULL);
              length = contents != NULL ? strlen (contents) : 0;
            }
          else
            g_assert_true (g_file_get_contents (child, &contents, &length, NULL));
          sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
          g_hash_table_insert (listing, g_steal_pointer (&child_rel),
                               g_strdup_printf ("%o:%s", (unsigned) st.st_mode, sum));
        }
    }
  g_dir_close (dir);
}

static GHashTable *
list_tree (const char *root)
{
  GHashTable *listing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  list_tree_into (listing, root, "");
  return listing;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Keys of `after` that are not in `before` (sorted), and asserts that every
 * file of `before` is still there unchanged. */
static GPtrArray *
added_files (GHashTable *before, GHashTable *after)
{
  GPtrArray *added = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *now = g_hash_table_lookup (after, key);

      if (g_strcmp0 (now, value) != 0)
        g_error ("pre-existing file %s was %s", (char *) key, now ? "changed" : "removed");
    }
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (before, key))
      g_ptr_array_add (added, g_strdup (key));
  g_ptr_array_sort (added, compare_paths);
  return added;
}

/* Path relative to DESTDIR -> file whose bytes it must have. */
static GHashTable *
expected_install (Fixture *fx)
{
  GHashTable *expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *plugindir = purple_plugin_dir ();
  static const char *const png_sizes[] = { "16", "22", "48" };
  g_autofree char *po_dir = g_build_filename (fx->source_dir, "po", NULL);
  GDir *dir;
  const char *name;

  /* Absolute paths of the target system, made relative to DESTDIR. */
  g_hash_table_insert (expected, g_build_filename (plugindir + 1, "libppmessage.so", NULL),
                       g_build_filename (fx->build_dir, "libppmessage.so", NULL));
  g_hash_table_insert (expected, g_build_filename (plugindir + 1, "libppmessage-bridge.so", NULL),
                       g_build_filename (fx->build_dir, "libppmessage-bridge.so", NULL));
  for (guint i = 0; i < G_N_ELEMENTS (png_sizes); i++)
    g_hash_table_insert (expected,
                         g_build_filename ("usr/share/pixmaps/pidgin/protocols", png_sizes[i],
                                           "ppmessage.png", NULL),
                         g_build_filename (fx->source_dir, "icons", png_sizes[i], "ppmessage.png",
                                           NULL));
  g_hash_table_insert (expected,
                       g_strdup ("usr/share/pixmaps/pidgin/protocols/scalable/ppmessage.svg"),
                       g_build_filename (fx->source_dir, "icons/scalable/ppmessage.svg", NULL));
  g_hash_table_insert (expected, g_strdup ("usr/share/metainfo/" METAINFO_ID ".metainfo.xml"),
                       g_build_filename (fx->source_dir, "data", METAINFO_ID ".metainfo.xml", NULL));

  dir = g_dir_open (po_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".po"))
      {
        g_autofree char *lang = g_strndup (name, strlen (name) - 3);
        g_autofree char *mo = g_strconcat (lang, ".mo", NULL);

        g_hash_table_insert (expected,
                             g_build_filename ("usr/share/locale", lang, "LC_MESSAGES",
                                               "purple-ppmessage.mo", NULL),
                             g_build_filename (fx->build_dir, "po", mo, NULL));
      }
  if (dir != NULL)
    g_dir_close (dir);
  return expected;
}

static void
write_file (const char *root, const char *relative, const char *contents)
{
  g_autofree char *path = g_build_filename (root, relative, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* Files of other packages next to ours, which neither install nor uninstall
 * may touch. */
static void
populate_neighbours (const char *destdir, const char *plugindir)
{
  g_autofree char *other_plugin = g_build_filename (plugindir + 1, "libother.so", NULL);

  write_file (destdir, other_plugin, "another protocol plugin");
  write_file (destdir, "usr/share/pixmaps/pidgin/protocols/16/other.png", "icon");
  write_file (destdir, "usr/share/pixmaps/pidgin/protocols/scalable/other.svg", "<svg/>");
  write_file (destdir, "usr/share/locale/de/LC_MESSAGES/pidgin.mo", "catalogue");
  write_file (destdir, "usr/share/metainfo/im.pidgin.Pidgin.metainfo.xml", "<component/>");
}

static void
assert_same_bytes (const char *installed, const char *source)
{
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gsize la = 0, lb = 0;
  GStatBuf st;

  g_assert_true (g_file_get_contents (installed, &a, &la, NULL));
  if (!g_file_get_contents (source, &b, &lb, NULL))
    g_error ("%s was installed but its source %s does not exist", installed, source);
  g_assert_cmpmem (a, la, b, lb);
  /* Readable by everyone, writable by root only, not executable. */
  g_assert_cmpint (g_stat (installed, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0644);
}

static void
test_install_uninstall (Fixture *fx, gconstpointer data)
{
  g_autofree char *plugindir = purple_plugin_dir ();
  g_autofree char *destdir_var = g_strconcat ("DESTDIR=", fx->destdir, NULL);
  const char *const install[] = { "install", destdir_var, "PREFIX=/usr", NULL };
  const char *const uninstall[] = { "uninstall", destdir_var, "PREFIX=/usr", NULL };
  g_autoptr (GHashTable) expected = expected_install (fx);
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GHashTable) installed = NULL;
  g_autoptr (GHashTable) uninstalled = NULL;
  g_autoptr (GPtrArray) added = NULL;
  g_autoptr (GPtrArray) left = NULL;
  g_autoptr (GPtrArray) wanted = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  populate_neighbours (fx->destdir, plugindir);
  before = list_tree (fx->destdir);

  run_make (fx, install, NULL);
  installed = list_tree (fx->destdir);
  added = added_files (before, installed);
  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (wanted, key);
  g_ptr_array_sort (wanted, compare_paths);
  g_assert_cmpuint (added->len, ==, wanted->len);
  for (guint i = 0; i < added->len; i++)
    {
      g_autofree char *path = g_build_filename (fx->destdir, added->pdata[i], NULL);

      g_assert_cmpstr (added->pdata[i], ==, wanted->pdata[i]);
      assert_same_bytes (path, g_hash_table_lookup (expected, added->pdata[i]));
    }

  run_make (fx, uninstall, NULL);
  uninstalled = list_tree (fx->destdir);
  left = added_files (before, uninstalled);
  if (left->len > 0)
    g_error ("make uninstall left %s", (char *) left->pdata[0]);
  g_assert_cmpuint (g_hash_table_size (uninstalled), ==, g_hash_table_size (before));
}

/* Installing twice (an upgrade) works and uninstall still cleans up. */
static void
test_reinstall (Fixture *fx, gconstpointer data)
{
  g_autofree char *destdir_var = g_strconcat ("DESTDIR=", fx->destdir, NULL);
  const char *const install[] = { "install", destdir_var, "PREFIX=/usr", NULL };
  const char *const uninstall[] = { "uninstall", destdir_var, "PREFIX=/usr", NULL };
  g_autoptr (GHashTable) expected = expected_install (fx);
  g_autoptr (GHashTable) listing = NULL;
  g_autoptr (GHashTable) after = NULL;

  run_make (fx, install, NULL);
  run_make (fx, install, NULL);
  listing = list_tree (fx->destdir);
  g_assert_cmpuint (g_hash_table_size (listing), ==, g_hash_table_size (expected));
  run_make (fx, uninstall, NULL);
  after = list_tree (fx->destdir);
  g_assert_cmpuint (g_hash_table_size (after), ==, 0);
}

/* install-user: the plugins go to ~/.purple/plugins, where Pidgin and Finch
 * load per-user plugins. HOME is the test's directory, never the user's. */
static void
test_install_user (Fixture *fx, gconstpointer data)
{
  const char *const install_user[] = { "install-user", NULL };
  g_autofree char *plugin = g_build_filename (fx->destdir, ".purple/plugins/libppmessage.so", NULL);
  g_autofree char *built = g_build_filename (fx->build_dir, "libppmessage.so", NULL);
  g_autofree char *bridge = g_build_filename (fx->destdir, ".purple/plugins/libppmessage-bridge.so",
                                              NULL);
  g_autofree char *built_bridge = g_build_filename (fx->build_dir, "libppmessage-bridge.so", NULL);
  g_autoptr (GHashTable) listing = NULL;

  run_make (fx, install_user, fx->destdir);
  listing = list_tree (fx->destdir);
  g_assert_cmpuint (g_hash_table_size (listing), ==, 2);
  assert_same_bytes (plugin, built);
  assert_same_bytes (bridge, built_bridge);
}

/* The metainfo make install copies is valid AppStream (software centres list the
 * plugin as an add-on of Pidgin). */
static void
test_metainfo_valid (Fixture *fx, gconstpointer data)
{
  g_autofree char *appstreamcli = g_find_program_in_path ("appstreamcli");
  g_autofree char *metainfo = g_build_filename (fx->source_dir, "data", METAINFO_ID ".metainfo.xml",
                                                NULL);
  const char *argv[] = { "appstreamcli", "validate", "--no-net", "--pedantic", metainfo, NULL };
  g_autofree char *out = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_assert_true (g_file_get_contents (metainfo, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "<extends>im.pidgin.Pidgin</extends>"));
  if (appstreamcli == NULL)
    {
      g_test_skip ("appstreamcli is not installed");
      return;
    }
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("appstreamcli validate failed:\n%s", out);
}

/* The package's smoke test, as autopkgtest would run it: installed into an
 * empty DESTDIR the way debian/rules installs it, the plugin is found,
 * probed and loaded by libpurple's own plugin probe (tests/purple-probe.c,
 * a headless libpurple core) from DESTDIR's plugin directory. */
static void
test_installed_plugin_loads (Fixture *fx, gconstpointer data)
{
  g_autofree char *plugindir = purple_plugin_dir ();
  g_autofree char *destdir_var = g_strconcat ("DESTDIR=", fx->destdir, NULL);
  const char *const install[] = { "install", destdir_var, "PREFIX=/usr", NULL };
  g_autofree char *installed_dir = g_build_filename (fx->destdir, plugindir, NULL);
  g_autofree char *probe = g_build_filename (fx->build_dir, "tests", "purple-probe", NULL);
  g_autofree char *expected = NULL;
  const char *argv[] = { probe, installed_dir, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  run_make (fx, install, NULL);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  expected = g_strdup_printf ("prpl-ppmessage\tloaded\t%s/libppmessage.so\tPPMessage\n",
                              installed_dir);
  if (strstr (out, expected) == NULL)
    g_error ("the installed plugin was not loaded from %s; the probe said:\n%s", installed_dir, out);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("a plugin failed to load beside ours:\n%s", out);
}

/* Each plugin exports purple_init_plugin and nothing else: Pidgin loads many
 * plugins into one process, and any other global symbol of ours could clash
 * with one of theirs or bind to it (see src/purple/exports.map); the two
 * carry a copy of the client library each. */
static void
test_exported_symbols (Fixture *fx, gconstpointer data)
{
  g_autofree char *plugin = g_build_filename (fx->build_dir, data, NULL);
  const char *argv[] = { "nm", "--dynamic", "--defined-only", "--format=posix", plugin, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) exported = g_ptr_array_new_with_free_func (g_free);
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("nm failed: %s", err);
  /* "name type value size" per symbol. */
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_ptr_array_add (exported, g_strndup (lines[i], strcspn (lines[i], " ")));
  g_assert_cmpuint (exported->len, ==, 1);
  g_assert_cmpstr (exported->pdata[0], ==, "purple_init_plugin");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/install/install-uninstall", Fixture, NULL, fixture_set_up,
              test_install_uninstall, fixture_tear_down);
  g_test_add ("/install/reinstall", Fixture, NULL, fixture_set_up, test_reinstall,
              fixture_tear_down);
  g_test_add ("/install/install-user", Fixture, NULL, fixture_set_up, test_install_user,
              fixture_tear_down);
  g_test_add ("/install/metainfo-valid", Fixture, NULL, fixture_set_up, test_metainfo_valid,
              fixture_tear_down);
  g_test_add ("/install/installed-plugin-loads", Fixture, NULL, fixture_set_up,
              test_installed_plugin_loads, fixture_tear_down);
  g_test_add ("/install/exported-symbols", Fixture, "libppmessage.so", fixture_set_up,
              test_exported_symbols, fixture_tear_down);
  g_test_add ("/install/exported-symbols-bridge", Fixture, "libppmessage-bridge.so",
              fixture_set_up, test_exported_symbols, fixture_tear_down);
  return g_test_run ();
}
