/* ppm-tls.c: certificates that fail verification. libsoup verifies https
 * and wss against the system's store; when that fails it asks the message
 * ("accept-certificate"). We accept only the certificate the user pinned
 * (PpmClientConfig.pinned_certificate, a SHA-256 fingerprint) and remember
 * any other, so that the session ends with PPM_ERROR_CERTIFICATE and the
 * glue can show its fingerprint. The decision is hooked on each message,
 * not on the session: sessions may be shared by several clients
 * (ppm-transport.h), and a refused certificate is told to the client
 * whose request met it.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#define G_LOG_DOMAIN "ppmessage"

#include "ppm-tls.h"

#include <string.h>

/* Shared by the owner and the signal handlers of its messages, which may
 * outlive it: refused is NULL once the owner forgot it. */
struct _PpmTlsWatch {
  PpmTlsRefused refused;
  gpointer data;
  char *pinned;
};

char *
ppm_tls_normalise_fingerprint (const char *text)
{
  GString *hex;

  if (text == NULL || *text == '\0')
    return NULL;
  hex = g_string_new (NULL);
  for (const char *p = text; *p; p++) {
    if (*p == ':' || *p == ' ')
      continue;
    if (!g_ascii_isxdigit (*p)) {
      g_string_free (hex, TRUE);
      return NULL;
    }
    g_string_append_c (hex, g_ascii_tolower (*p));
  }
  if (hex->len != 64) {         /* SHA-256 */
    g_string_free (hex, TRUE);
    return NULL;
  }
  return g_string_free (hex, FALSE);
}

char *
ppm_tls_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr (GByteArray) der = NULL;

  if (certificate == NULL)
    return NULL;
  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

static void
watch_clear (PpmTlsWatch *watch)
{
  g_free (watch->pinned);
}

static void
watch_release (gpointer data, GClosure *closure)
{
  ppm_tls_watch_unref (data);
}

static gboolean
on_accept_certificate (SoupMessage *message, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer data)
{
  PpmTlsWatch *watch = data;
  g_autofree char *fingerprint = ppm_tls_certificate_fingerprint (certificate);

  if (fingerprint && watch->pinned && strcmp (fingerprint, watch->pinned) == 0) {
    g_debug ("accepting the pinned certificate %s", fingerprint);
    return TRUE;
  }
  g_debug ("refusing a certificate that failed verification (flags 0x%x, sha256 %s)",
           errors, fingerprint ? fingerprint : "unknown");
  if (watch->refused)
    watch->refused (fingerprint, errors, watch->data);
  return FALSE;
}

PpmTlsWatch *
ppm_tls_watch_new (const char *pinned, PpmTlsRefused refused, gpointer data)
{
  PpmTlsWatch *watch = g_atomic_rc_box_new0 (PpmTlsWatch);

  watch->pinned = ppm_tls_normalise_fingerprint (pinned);
  watch->refused = refused;
  watch->data = data;
  return watch;
}

void
ppm_tls_watch_message (PpmTlsWatch *watch, SoupMessage *message)
{
  if (watch != NULL)
    g_signal_connect_data (message, "accept-certificate", G_CALLBACK (on_accept_certificate),
                           ppm_tls_watch_ref (watch), watch_release, 0);
}

const char *
ppm_tls_watch_get_pinned (PpmTlsWatch *watch)
{
  return watch->pinned;
}

PpmTlsWatch *
ppm_tls_watch_ref (PpmTlsWatch *watch)
{
  return g_atomic_rc_box_acquire (watch);
}

void
ppm_tls_watch_unref (PpmTlsWatch *watch)
{
  if (watch != NULL)
    g_atomic_rc_box_release_full (watch, (GDestroyNotify) watch_clear);
}

void
ppm_tls_watch_replace (PpmTlsWatch **slot, PpmTlsWatch *watch)
{
  PpmTlsWatch *old = *slot;

  *slot = watch ? ppm_tls_watch_ref (watch) : NULL;
  ppm_tls_watch_unref (old);
}

void
ppm_tls_watch_forget (PpmTlsWatch *watch)
{
  if (watch == NULL)
    return;
  watch->refused = NULL;
  ppm_tls_watch_unref (watch);
}
