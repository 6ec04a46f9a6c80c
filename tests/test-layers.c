/* test-layers.c: the layering of src/ stays as README "The client library,
 * inside" draws it. Reads the sources (run from the top of the tree, as
 * `make check` does) and checks:
 * - every file of src/lib belongs to a layer of the map below, so a new
 *   file is placed deliberately;
 * - leaves include only leaves; state modules include leaves and state
 *   modules, never the client's headers; the client's private header is
 *   included by the owner and the sign-in sequences only;
 * - the include graph between the modules of src/lib has no cycle;
 * - client->events is called from ppm-client.c alone;
 * - no libpurple in src/lib, no JSON in src/purple nor in src/bridge (the
 *   bridge plugin is glue too: it uses the library's public interface);
 * - no src/lib file over 700 lines;
 * - comments in src/ cite no bare section number of a document that is
 *   not in the tree (they say the fact, or name the document by path).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <glib.h>
#include <string.h>

#define MAX_LINES 700

typedef enum {
  LAYER_UNKNOWN,
  LAYER_LEAF,
  LAYER_STATE,
  LAYER_SIGN_IN,
  LAYER_OWNER,
} Layer;

/* The map: module (file name without .c/.h) -> layer. */
static const struct {
  const char *module;
  Layer layer;
} layer_map[] = {
  { "ppm-error", LAYER_LEAF },
  { "ppm-types", LAYER_LEAF },
  { "ppm-clock", LAYER_LEAF },
  { "ppm-json", LAYER_LEAF },
  { "ppm-redact", LAYER_LEAF },
  { "ppm-api", LAYER_LEAF },
  { "ppm-ws-tunnel", LAYER_LEAF },
  { "ppm-ws", LAYER_LEAF },
  { "ppm-tls", LAYER_LEAF },
  { "ppm-transport", LAYER_LEAF },
  { "ppm-message", LAYER_LEAF },
  { "ppm-discovery", LAYER_LEAF },
  { "ppm-transfer", LAYER_LEAF },
  { "ppm-registry", LAYER_STATE },
  { "ppm-last-seen", LAYER_STATE },
  { "ppm-ports", LAYER_STATE },
  { "ppm-resend-check", LAYER_STATE },
  { "ppm-outbox", LAYER_STATE },
  { "ppm-delivery", LAYER_STATE },
  { "ppm-catchup", LAYER_STATE },
  { "ppm-history", LAYER_STATE },
  { "ppm-signin-agent", LAYER_SIGN_IN },
  { "ppm-signin-visitor", LAYER_SIGN_IN },
  { "ppm-client", LAYER_OWNER },
  { "ppm-client-private", LAYER_OWNER },
  { "ppm-client-ports", LAYER_OWNER },
  { "ppm-client-files", LAYER_OWNER },
  { "ppm-client-send", LAYER_OWNER },
  { "ppm-client-requests", LAYER_OWNER },
  { "ppm-client-groups", LAYER_OWNER },
  { "ppm-client-transport", LAYER_OWNER },
  { "ppm-socket", LAYER_OWNER },
  { "ppm-reconnect", LAYER_OWNER },
};

static const char *
source_dir (const char *part)
{
  static char path[256];

  g_snprintf (path, sizeof path, "src/%s", part);
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    g_error ("%s not found: run from the top of the tree", path);
  return path;
}

static char *
module_of (const char *file_name)
{
  const char *dot = strrchr (file_name, '.');

  return g_strndup (file_name, dot ? (gsize) (dot - file_name) : strlen (file_name));
}

static Layer layer_of (const char *module);

/* A node of the include graph: each module, but the owner's files are one
 * node (they share its private header by design). */
static char *
node_of (const char *file_name)
{
  char *module = module_of (file_name);

  if (layer_of (module) != LAYER_OWNER)
    return module;
  g_free (module);
  return g_strdup ("(the owner)");
}

static Layer
layer_of (const char *module)
{
  for (guint i = 0; i < G_N_ELEMENTS (layer_map); i++)
    if (strcmp (layer_map[i].module, module) == 0)
      return layer_map[i].layer;
  return LAYER_UNKNOWN;
}

typedef struct {
  char *name;                 /* file name */
  char *module;
  char *text;
  GPtrArray *includes;        /* char* quoted include names */
} Source;

static void
source_free (Source *source)
{
  g_free (source->name);
  g_free (source->module);
  g_free (source->text);
  g_ptr_array_unref (source->includes);
  g_free (source);
}

/* Every .c and .h of src/<part>, with its quoted includes. */
static GPtrArray *
read_sources (const char *part)
{
  const char *dir_path = source_dir (part);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);
  g_autoptr (GRegex) include = g_regex_new ("^#include \"([^\"]+)\"", G_REGEX_MULTILINE, 0,
                                            NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *path = NULL;
    Source *source;
    g_autoptr (GMatchInfo) match = NULL;

    if (!g_str_has_suffix (name, ".c") && !g_str_has_suffix (name, ".h"))
      continue;
    source = g_new0 (Source, 1);
    source->name = g_strdup (name);
    source->module = module_of (name);
    path = g_build_filename (dir_path, name, NULL);
    g_assert_true (g_file_get_contents (path, &source->text, NULL, NULL));
    source->includes = g_ptr_array_new_with_free_func (g_free);
    g_regex_match (include, source->text, 0, &match);
    while (g_match_info_matches (match)) {
      g_ptr_array_add (source->includes, g_match_info_fetch (match, 1));
      g_match_info_next (match, NULL);
    }
    g_ptr_array_add (sources, source);
  }
  g_assert_cmpuint (sources->len, >, 0);
  return sources;
}

static void
test_every_file_has_a_layer (void)
{
  g_autoptr (GPtrArray) sources = read_sources ("lib");
  g_autoptr (GString) unplaced = g_string_new (NULL);

  for (guint i = 0; i < sources->len; i++) {
    Source *source = sources->pdata[i];

    if (layer_of (source->module) == LAYER_UNKNOWN)
      g_string_append_printf (unplaced, " %s", source->name);
  }
  if (unplaced->len > 0)
    g_error ("files of src/lib in no layer (add them to test-layers.c and the README map):%s",
             unplaced->str);
}

/* Whether a file of layer `from` may include module `to`. */
static gboolean
include_allowed (Layer from, const char *to)
{
  Layer target = layer_of (to);

  if (target == LAYER_UNKNOWN)
    return FALSE;
  switch (from) {
  case LAYER_LEAF:
    return target == LAYER_LEAF;
  case LAYER_STATE:
    return target == LAYER_LEAF || target == LAYER_STATE;
  case LAYER_SIGN_IN:
  case LAYER_OWNER:
    return TRUE;
  default:
    return FALSE;
  }
}

static void
test_includes_go_downward (void)
{
  g_autoptr (GPtrArray) sources = read_sources ("lib");
  g_autoptr (GString) wrong = g_string_new (NULL);

  for (guint i = 0; i < sources->len; i++) {
    Source *source = sources->pdata[i];
    Layer layer = layer_of (source->module);

    for (guint j = 0; j < source->includes->len; j++) {
      g_autofree char *target = module_of (source->includes->pdata[j]);

      if (!include_allowed (layer, target))
        g_string_append_printf (wrong, "\n  %s includes %s", source->name,
                                (char *) source->includes->pdata[j]);
    }
  }
  if (wrong->len > 0)
    g_error ("includes against the layering:%s", wrong->str);
}

/* Depth-first search for a cycle in module -> included modules. */
static gboolean
visit (GHashTable *edges, const char *module, GHashTable *state, GString *path)
{
  GPtrArray *targets = g_hash_table_lookup (edges, module);
  int seen = GPOINTER_TO_INT (g_hash_table_lookup (state, module));

  if (seen == 2)
    return FALSE;
  if (seen == 1) {
    g_string_append_printf (path, " %s", module);
    return TRUE;
  }
  g_hash_table_insert (state, (gpointer) module, GINT_TO_POINTER (1));
  for (guint i = 0; targets && i < targets->len; i++) {
    if (visit (edges, targets->pdata[i], state, path)) {
      g_string_prepend (path, module);
      g_string_prepend_c (path, ' ');
      return TRUE;
    }
  }
  g_hash_table_insert (state, (gpointer) module, GINT_TO_POINTER (2));
  return FALSE;
}

static void
test_no_cycle (void)
{
  g_autoptr (GPtrArray) sources = read_sources ("lib");
  g_autoptr (GHashTable) edges = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GHashTable) state = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) path = g_string_new (NULL);
  GHashTableIter iter;
  gpointer module;

  for (guint i = 0; i < sources->len; i++) {
    Source *source = sources->pdata[i];
    g_autofree char *node = node_of (source->name);
    GPtrArray *targets = g_hash_table_lookup (edges, node);

    if (targets == NULL) {
      targets = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (edges, g_strdup (node), targets);
    }
    for (guint j = 0; j < source->includes->len; j++) {
      char *target = node_of (source->includes->pdata[j]);

      /* A module's .c includes its own .h: no edge. */
      if (strcmp (target, node) == 0)
        g_free (target);
      else
        g_ptr_array_add (targets, target);
    }
  }
  g_hash_table_iter_init (&iter, edges);
  while (g_hash_table_iter_next (&iter, &module, NULL))
    if (visit (edges, module, state, path))
      g_error ("the modules of src/lib include each other in a circle:%s", path->str);
}

static void
test_events_from_one_file (void)
{
  g_autoptr (GPtrArray) sources = read_sources ("lib");
  g_autoptr (GString) callers = g_string_new (NULL);

  for (guint i = 0; i < sources->len; i++) {
    Source *source = sources->pdata[i];

    if (g_str_has_suffix (source->name, ".c") && strstr (source->text, "client->events") &&
        strcmp (source->name, "ppm-client.c") != 0)
      g_string_append_printf (callers, " %s", source->name);
  }
  if (callers->len > 0)
    g_error ("client->events called outside ppm-client.c:%s", callers->str);
}

static void
test_boundary (void)
{
  g_autoptr (GPtrArray) lib = read_sources ("lib");
  g_autoptr (GPtrArray) glue = read_sources ("purple");
  g_autoptr (GPtrArray) bridge = read_sources ("bridge");

  /* The bridge sees the library through its public header only. */
  for (guint i = 0; i < bridge->len; i++) {
    Source *source = bridge->pdata[i];

    for (guint j = 0; j < source->includes->len; j++)
      if (g_str_has_prefix (source->includes->pdata[j], "ppm-")
          && g_strcmp0 (source->includes->pdata[j], "ppm-client.h") != 0)
        g_error ("%s (src/bridge) includes %s: only ppm-client.h is the library's interface",
                 source->name, (char *) source->includes->pdata[j]);
  }
  g_ptr_array_extend_and_steal (glue, g_steal_pointer (&bridge));
  for (guint i = 0; i < lib->len; i++) {
    Source *source = lib->pdata[i];

    if (strstr (source->text, "#include <purple.h>") || strstr (source->text, "libpurple/"))
      g_error ("%s (src/lib) uses libpurple", source->name);
  }
  for (guint i = 0; i < glue->len; i++) {
    Source *source = glue->pdata[i];

    if (strstr (source->text, "json-glib") || strstr (source->text, "ppm-json.h") ||
        strstr (source->text, "json_object_"))
      g_error ("%s (glue) reads JSON", source->name);
  }
}

static void
test_file_sizes (void)
{
  g_autoptr (GPtrArray) sources = read_sources ("lib");

  for (guint i = 0; i < sources->len; i++) {
    Source *source = sources->pdata[i];
    guint lines = 0;

    for (const char *p = source->text; *p; p++)
      lines += *p == '\n';
    if (lines > MAX_LINES)
      g_error ("src/lib/%s has %u lines, more than %d", source->name, lines, MAX_LINES);
  }
}

static void
test_no_bare_section_numbers (void)
{
  const char *parts[] = { "lib", "purple" };
  /* "(4.3)", "(16.4)", "bug 21": references into a document that is not
   * in this tree. */
  g_autoptr (GRegex) bare = g_regex_new ("\\((\\d+\\.)+\\d+\\)|\\bbug \\d+", 0, 0, NULL);

  for (guint p = 0; p < G_N_ELEMENTS (parts); p++) {
    g_autoptr (GPtrArray) sources = read_sources (parts[p]);

    for (guint i = 0; i < sources->len; i++) {
      Source *source = sources->pdata[i];
      g_autoptr (GMatchInfo) match = NULL;

      if (g_regex_match (bare, source->text, 0, &match)) {
        g_autofree char *found = g_match_info_fetch (match, 0);

        g_error ("src/%s/%s cites \"%s\": say the fact, or name the document by its path",
                 parts[p], source->name, found);
      }
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layers/every-file-has-a-layer", test_every_file_has_a_layer);
  g_test_add_func ("/layers/includes-go-downward", test_includes_go_downward);
  g_test_add_func ("/layers/no-cycle", test_no_cycle);
  g_test_add_func ("/layers/events-from-one-file", test_events_from_one_file);
  g_test_add_func ("/layers/no-libpurple-in-lib-no-json-in-glue", test_boundary);
  g_test_add_func ("/layers/no-file-over-700-lines", test_file_sizes);
  g_test_add_func ("/layers/no-bare-section-numbers", test_no_bare_section_numbers);
  return g_test_run ();
}
