/* proxy.c: libsoup does not go through libpurple's proxy code, so the
 * account's proxy settings become a GProxyResolver for the library.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

static const char *
proxy_scheme (PurpleProxyType type)
{
  switch (type) {
  case PURPLE_PROXY_HTTP:
    return "http";
  case PURPLE_PROXY_SOCKS4:
    return "socks4";
  case PURPLE_PROXY_SOCKS5:
  case PURPLE_PROXY_TOR:
    return "socks5";
  default:
    return NULL;
  }
}

/* "scheme://[user[:password]@]host:port"; the result holds the proxy
 * password, so it is never logged. */
static char *
proxy_uri (PurpleProxyInfo *info, const char *scheme)
{
  const char *host = purple_proxy_info_get_host (info);
  const char *user = purple_proxy_info_get_username (info);
  const char *password = purple_proxy_info_get_password (info);
  int port = purple_proxy_info_get_port (info);
  char *userinfo = NULL;
  char *uri;

  if (host == NULL || *host == '\0')
    return NULL;
  if (user != NULL && *user != '\0') {
    char *u = g_uri_escape_string (user, NULL, FALSE);
    char *p = password != NULL && *password != '\0'
              ? g_uri_escape_string (password, NULL, FALSE) : NULL;

    userinfo = p != NULL ? g_strdup_printf ("%s:%s@", u, p) : g_strdup_printf ("%s@", u);
    g_free (u);
    g_free (p);
  }
  uri = g_strdup_printf ("%s://%s%s:%d", scheme, userinfo != NULL ? userinfo : "", host,
                         port > 0 ? port : (g_str_equal (scheme, "http") ? 8080 : 1080));
  g_free (userinfo);
  return uri;
}

/* NULL means "the system default" (environment variables, desktop settings). */
GProxyResolver *
ppm_proxy_resolver_for_account (PurpleAccount *account)
{
  PurpleProxyInfo *info = purple_proxy_get_setup (account);
  PurpleProxyType type;
  const char *scheme;
  GProxyResolver *resolver;
  char *uri;

  if (info == NULL)
    return NULL;
  type = purple_proxy_info_get_type (info);
  if (type == PURPLE_PROXY_NONE)
    return g_simple_proxy_resolver_new (NULL, NULL); /* direct */
  scheme = proxy_scheme (type);
  if (scheme == NULL)
    return NULL;
  uri = proxy_uri (info, scheme);
  if (uri == NULL)
    return NULL;
  purple_debug_info (PPM_DEBUG_CATEGORY, "using the account's %s proxy\n", scheme);
  resolver = g_simple_proxy_resolver_new (uri, NULL);
  g_free (uri);
  return resolver;
}
