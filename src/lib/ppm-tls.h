/* ppm-tls.h: certificates that fail verification (ppm-tls.c).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>

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
/* Decides for this message (a request, a transfer or a websocket's
 * handshake) should its connection's certificate fail verification; a
 * NULL watch: nothing. Call it before the message is sent. */
void         ppm_tls_watch_message (PpmTlsWatch *watch, SoupMessage *message);
/* The pinned fingerprint, normalised, or NULL. */
const char  *ppm_tls_watch_get_pinned (PpmTlsWatch *watch);
PpmTlsWatch *ppm_tls_watch_ref (PpmTlsWatch *watch);
/* NULL: nothing. */
void         ppm_tls_watch_unref (PpmTlsWatch *watch);
/* The holder's reference (*slot) becomes one to watch (NULL: none). */
void         ppm_tls_watch_replace (PpmTlsWatch **slot, PpmTlsWatch *watch);
/* The owner goes away: no more reports; handshakes still running keep the
 * watch alive until they end. */
void         ppm_tls_watch_forget (PpmTlsWatch *watch);

G_END_DECLS
