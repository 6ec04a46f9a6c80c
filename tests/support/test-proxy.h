/* test-proxy.h: real proxies from Debian's packages for the plugin's proxy
 * tests: tinyproxy (HTTP) and microsocks (SOCKS5), run in the foreground on
 * a free loopback port with a throw-away configuration and log, and stopped
 * with the test (also when it aborts).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TestProxy TestProxy;

/* The program ("tinyproxy", "microsocks"), or NULL when it is not
 * installed (skip the test). */
char      *test_proxy_find_program (const char *name);
/* Starts tinyproxy allowing 127.0.0.1 and CONNECT to connect_port only, and
 * waits until it accepts connections (the test fails otherwise). */
TestProxy *test_proxy_start_http (const char *program, guint16 connect_port);
/* Starts microsocks on loopback, requiring this user name and password. */
TestProxy *test_proxy_start_socks5 (const char *program, const char *user,
                                    const char *password);
guint16    test_proxy_get_port (TestProxy *proxy);
/* The proxy's log so far (g_free). */
char      *test_proxy_read_log (TestProxy *proxy);
/* Stops the proxy (SIGTERM, waited for) and removes its files. */
void       test_proxy_stop (TestProxy *proxy);

G_END_DECLS
