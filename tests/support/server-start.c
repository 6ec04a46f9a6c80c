/* server-start.c: see server-start.h.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "server-start.h"

static PpmsServer *
server_new (const char *seed_json)
{
  GError *error = NULL;
  PpmsServer *server = ppms_server_new_from_data (seed_json, &error);

  g_assert_no_error (error);
  ppms_server_set_timer_scale (server, TEST_TIMER_SCALE);
  return server;
}

PpmsServer *
server_start_with_seed (const char *seed_json)
{
  GError *error = NULL;
  PpmsServer *server = server_new (seed_json);

  g_assert_true (ppms_server_listen (server, 0, &error));
  g_assert_no_error (error);
  return server;
}

PpmsServer *
server_start_tls_with_seed (const char *seed_json, const char *cert_pem_path,
                            const char *key_pem_path)
{
  GError *error = NULL;
  PpmsServer *server = server_new (seed_json);

  if (!ppms_server_listen_tls (server, 0, cert_pem_path, key_pem_path, &error))
    g_error ("the TLS test server did not start: %s", error->message);
  return server;
}
