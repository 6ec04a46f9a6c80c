/* certificate.c: a server certificate that fails verification is never
 * accepted silently. The connection fails with the certificate's reason,
 * and the user is asked, with the certificate's SHA-256 fingerprint, whether
 * to trust exactly that certificate for this account from now on (it is
 * pinned in the account's hidden setting "pinned_certificate").
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-purple.h"

typedef struct {
  PurpleAccount *account;
  char *fingerprint;
} CertificateQuestion;

PurpleConnectionError
ppm_certificate_error_reason (PurpleAccount *account, const char *fingerprint,
                              GTlsCertificateFlags errors)
{
  const char *pinned = purple_account_get_string (account, PPM_SETTING_PINNED_CERTIFICATE, "");

  if (pinned != NULL && *pinned != '\0' && fingerprint != NULL)
    return PURPLE_CONNECTION_ERROR_CERT_FINGERPRINT_MISMATCH;
  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return PURPLE_CONNECTION_ERROR_CERT_UNTRUSTED;
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return PURPLE_CONNECTION_ERROR_CERT_HOSTNAME_MISMATCH;
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    return PURPLE_CONNECTION_ERROR_CERT_EXPIRED;
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return PURPLE_CONNECTION_ERROR_CERT_NOT_ACTIVATED;
  return PURPLE_CONNECTION_ERROR_CERT_OTHER_ERROR;
}

/* "AB:CD:...", as browsers show fingerprints. */
char *
ppm_certificate_readable_fingerprint (const char *hex)
{
  GString *out = g_string_new (NULL);

  if (hex == NULL)
    return g_string_free (out, FALSE);
  for (const char *p = hex; p[0] != '\0' && p[1] != '\0'; p += 2) {
    if (out->len > 0)
      g_string_append_c (out, ':');
    g_string_append_c (out, g_ascii_toupper (p[0]));
    g_string_append_c (out, g_ascii_toupper (p[1]));
  }
  return g_string_free (out, FALSE);
}

static void
question_free (CertificateQuestion *question)
{
  g_free (question->fingerprint);
  g_free (question);
}

static void
on_trust (CertificateQuestion *question, int action)
{
  PurpleAccount *account = question->account;

  purple_account_set_string (account, PPM_SETTING_PINNED_CERTIFICATE, question->fingerprint);
  purple_debug_info (PPM_DEBUG_CATEGORY, "certificate pinned on the user's request\n");
  /* Asked after a failed sign-in: try again with the certificate trusted. */
  if (purple_account_is_disconnected (account)
      && purple_account_get_enabled (account, purple_core_get_ui ()))
    purple_account_connect (account);
  question_free (question);
}

static void
on_distrust (CertificateQuestion *question, int action)
{
  question_free (question);
}

void
ppm_certificate_ask (PurpleAccount *account, const char *fingerprint)
{
  CertificateQuestion *question;
  const char *server = purple_account_get_string (account, PPM_SETTING_SERVER, "");
  char *readable, *primary, *secondary;

  if (fingerprint == NULL || *fingerprint == '\0')
    return;
  question = g_new0 (CertificateQuestion, 1);
  question->account = account;
  question->fingerprint = g_strdup (fingerprint);
  readable = ppm_certificate_readable_fingerprint (fingerprint);
  primary = g_strdup_printf (_("The certificate of %s could not be verified."), server);
  secondary = g_strdup_printf (_("Someone may be impersonating the server. Trust this "
                                 "certificate for this account only if its SHA-256 "
                                 "fingerprint is the one your administrator gave you:\n%s"),
                               readable);
  /* The account is the handle: deleting it closes the question. */
  purple_request_action (account, _("Untrusted certificate"), primary, secondary, 1, account,
                         NULL, NULL, question, 2,
                         _("_Trust this certificate"), G_CALLBACK (on_trust),
                         _("_Cancel"), G_CALLBACK (on_distrust));
  g_free (secondary);
  g_free (primary);
  g_free (readable);
}
