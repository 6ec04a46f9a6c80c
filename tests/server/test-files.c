/* test-files.c: file-system helpers shared by the test programs and the
 * libpurple harness (throw-away profiles, install trees).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib/gstdio.h>

#include "ppm-test-peer.h"

void
ppms_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *child = g_build_filename (path, name, NULL);

    /* A link is removed, never followed out of the tree. */
    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      ppms_remove_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}
