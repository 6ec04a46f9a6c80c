/* ppm-ports.h: what the state modules below the client (delivery,
 * catch-up) need from the world, as calls their owner installs: HTTP calls
 * with the session's envelope, downloads, conversation look-ups, the
 * account's settings. The client implements them on its PpmApi and
 * registry; the unit tests implement them without a server.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-api.h"
#include "ppm-registry.h"

G_BEGIN_DECLS

typedef struct {
  /* POST /api/<name>: body (not consumed) gets the session's envelope. */
  void  (*call) (gpointer owner, const char *name, JsonObject *body,
                 GCancellable *cancellable, PpmApiCallback callback, gpointer data);
  /* GET of a URL of this server, at most max_bytes. */
  void  (*download) (gpointer owner, const char *url, gsize max_bytes,
                     GCancellable *cancellable, PpmApiBytesCallback callback, gpointer data);
  /* ppm_registry_resolve() on the session's API. */
  void  (*resolve) (gpointer owner, const char *conversation_uuid, GCancellable *cancellable,
                    PpmResolved done, gpointer data);
  char *(*load_setting) (gpointer owner, const char *key);
  /* value NULL: the setting is removed. */
  void  (*save_setting) (gpointer owner, const char *key, const char *value);
  /* The names of the settings starting with prefix (char*, to free), or
   * NULL; may be NULL itself. */
  GPtrArray *(*list_settings) (gpointer owner, const char *prefix);
  /* A call outside the sign-in failed (a refused token repairs the session). */
  void  (*http_failed) (gpointer owner, const char *what, const GError *error);
  /* The server's base URL, for the URLs of files. */
  const char *(*base_url) (gpointer owner);
} PpmPorts;

G_END_DECLS
