/* ppm-tls.h: certificates that fail verification (ppm-tls.c).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include "ppm-api.h"

G_BEGIN_DECLS

typedef struct _PpmTlsWatch PpmTlsWatch;
/* A certificate that failed verification was refused: its SHA-256
 * fingerprint (or NULL) and what was wrong with it. */
typedef void (*PpmTlsRefused) (const char *fingerprint, GTlsCertificateFlags errors,
                               gpointer data);

/* Lower-case hex without separators, or NULL for NULL, "" or non-hex. */
char        *ppm_tls_normalise_fingerprint (const char *text);
char        *ppm_tls_certificate_fingerprint (GTlsCertificate *certificate);
/* Accepts only the pinned certificate (a fingerprint, any notation, or
 * NULL) among those that fail verification; reports the others. */
PpmTlsWatch *ppm_tls_watch_new (const char *pinned, PpmTlsRefused refused, gpointer data);
/* Decides for the requests and websockets of api's session. */
void         ppm_tls_watch_session (PpmTlsWatch *watch, PpmApi *api);
/* The owner goes away: no more reports; handshakes still running keep the
 * watch alive until they end. */
void         ppm_tls_watch_forget (PpmTlsWatch *watch);

G_END_DECLS
