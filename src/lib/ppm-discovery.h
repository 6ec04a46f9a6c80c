/* ppm-discovery.h: finding the public API keys in the server's web assets:
 * the PPKEFU key in /ppkefu/js/ppkefu.min.js (api_key:"...") and the PPCOM
 * key and secret in /ppcom/assets/pp-library.min.js (Configuration = {
 * api_key: '...', api_secret: '...' }).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-api.h"

G_BEGIN_DECLS

#define PPM_PPKEFU_SCRIPT_PATH "/ppkefu/js/ppkefu.min.js"
#define PPM_PPCOM_SCRIPT_PATH  "/ppcom/assets/pp-library.min.js"

/* Parsers, for the script text. Return FALSE when the key is not there. */
gboolean ppm_discovery_parse_ppkefu (const char *script, gsize length, char **api_key);
gboolean ppm_discovery_parse_ppcom (const char *script, gsize length,
                                    char **api_key, char **api_secret);

/* Fetch and parse. key/secret are NULL on error (PPM_ERROR_NOT_PPMESSAGE
 * when the script is not there or carries no key). */
typedef void (*PpmDiscoveryCallback) (const char *api_key, const char *api_secret,
                                      const GError *error, gpointer user_data);
void ppm_discovery_fetch_ppkefu (PpmApi *api, GCancellable *cancellable,
                                 PpmDiscoveryCallback callback, gpointer user_data);
void ppm_discovery_fetch_ppcom (PpmApi *api, GCancellable *cancellable,
                                PpmDiscoveryCallback callback, gpointer user_data);

G_END_DECLS
