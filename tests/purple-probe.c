/* purple-probe.c: libpurple's plugin probe, as Pidgin, Finch and BitlBee run
 * it at start-up, in a headless core with a throw-away user directory.
 *
 *   purple-probe [DIR...]
 *
 * Adds each DIR to libpurple's plugin search path (libpurple always searches
 * its own system plugin directory too), probes, and prints one line per
 * protocol plugin found: "id<TAB>loaded|failed<TAB>path<TAB>name", then
 * "error<TAB>path<TAB>message" for every plugin that could not be loaded.
 * Exits 0 when every plugin found loaded, 1 otherwise.
 *
 * Used by test-install (the package installed into a DESTDIR, as
 * autopkgtest would check it) and by the co-load test (our plugin beside
 * the third-party protocol plugins Debian ships, in one process).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <purple.h>

#include "purple-harness.h"
#include "ppm-test-peer.h"

static void
quiet_debug (PurpleDebugLevel level, const char *category, const char *arg)
{
}

static gboolean
debug_wanted (PurpleDebugLevel level, const char *category)
{
  return FALSE;
}

static PurpleDebugUiOps debug_ops = {
  .print = quiet_debug,
  .is_enabled = debug_wanted,
};

int
main (int argc, char **argv)
{
  char *user_dir = g_dir_make_tmp ("ppm-probe-XXXXXX", NULL);
  int status = 0;

  if (user_dir == NULL)
    return 2;
  purple_util_set_user_dir (user_dir);
  purple_debug_set_ui_ops (&debug_ops);
  purple_eventloop_set_ui_ops (harness_eventloop_ops ());
  for (int i = 1; i < argc; i++)
    purple_plugins_add_search_path (argv[i]);
  /* purple_core_init probes every search path and loads protocol plugins. */
  if (!purple_core_init ("ppm-probe")) {
    g_printerr ("libpurple did not start\n");
    return 2;
  }
  for (GList *l = purple_plugins_get_all (); l != NULL; l = l->next) {
    PurplePlugin *plugin = l->data;

    if (plugin->info != NULL && plugin->info->type == PURPLE_PLUGIN_PROTOCOL)
      g_print ("%s\t%s\t%s\t%s\n", plugin->info->id,
               purple_plugin_is_loaded (plugin) ? "loaded" : "failed",
               plugin->path != NULL ? plugin->path : "(static)", plugin->info->name);
    if (plugin->error != NULL || (plugin->info != NULL
                                  && plugin->info->type == PURPLE_PLUGIN_PROTOCOL
                                  && !purple_plugin_is_loaded (plugin))) {
      g_print ("error\t%s\t%s\n", plugin->path != NULL ? plugin->path : "(static)",
               plugin->error != NULL ? plugin->error : "not loaded");
      status = 1;
    }
  }
  purple_core_quit ();
  ppms_remove_tree (user_dir);
  g_free (user_dir);
  return status;
}
