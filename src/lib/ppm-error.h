/* ppm-error.h: the library's one error domain. Every failure the library
 * reports carries one of these codes; the glue maps them to libpurple's
 * connection error reasons in one place (src/purple/connection.c).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PPM_ERROR (ppm_error_quark ())
GQuark ppm_error_quark (void);

typedef enum {
  PPM_ERROR_NETWORK,        /* unreachable, timeout, connection lost: retry later */
  PPM_ERROR_AUTH,           /* wrong e-mail or password, token refused */
  PPM_ERROR_SETTINGS,       /* malformed server URL, missing required setting */
  PPM_ERROR_NOT_PPMESSAGE,  /* the server answered, but not as PPMessage does */
  PPM_ERROR_PROTOCOL,       /* a PPMessage answer that could not be used */
  PPM_ERROR_SIGNED_IN_ELSEWHERE, /* SYS LOGOUT for this device */
  PPM_ERROR_SEND_REFUSED,   /* the server refused a message (ACK SEND code != 0) */
  PPM_ERROR_SEND_TIMEOUT,   /* no ACK SEND in time */
  PPM_ERROR_API,            /* an API call answered a non-zero error_code */
  /* Addition: the server's TLS certificate failed verification (self-signed,
   * unknown issuer, wrong host, expired). The connection was not used; see
   * ppm_client_get_peer_certificate_fingerprint() and
   * PpmClientConfig.pinned_certificate. */
  PPM_ERROR_CERTIFICATE,
} PpmErrorCode;

/* Internal code: an API call or the socket refused the access token (API
 * error_code 3 or 4, ACK AUTH 8/9/10). Mid-session it starts a fresh
 * sign-in; otherwise it is reported as PPM_ERROR_AUTH. Never reaches the
 * library's user. */
#define PPM_ERROR_TOKEN_REFUSED 1000

/* TRUE when the error only says the request was cancelled. */
gboolean ppm_error_is_cancelled (const GError *error);

G_END_DECLS
