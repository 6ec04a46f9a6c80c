/* server-start.h: a test server started for a test, on a free loopback
 * port (port 0) with the timers 20 times faster than the real server's,
 * as most tests want; it aborts the test when the server cannot start.
 * No libpurple here: the library tests link it too.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-test-server.h"

G_BEGIN_DECLS

/* Timers scaled as in every test that does not say otherwise. */
#define TEST_TIMER_SCALE 0.05

/* A server of this team (the seed format of tests/data/README.md). */
PpmsServer *server_start_with_seed (const char *seed_json);
/* The same speaking https and wss only, with this certificate. */
PpmsServer *server_start_tls_with_seed (const char *seed_json, const char *cert_pem_path,
                                        const char *key_pem_path);

G_END_DECLS
