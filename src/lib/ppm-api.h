/* ppm-api.h: the HTTP side of PPMessage: base URL handling, the /api/NAME
 * JSON calls with their envelope, the /ppauth/token grants and plain GETs
 * (key discovery, file downloads). Every failure is mapped to a PPM_ERROR
 * code; a cancelled request reports G_IO_ERROR_CANCELLED and nothing else.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "ppm-error.h"
#include "ppm-tls.h"
#include "ppm-transport.h"

G_BEGIN_DECLS

typedef struct _PpmApi PpmApi;

/* Answer of a JSON call. On an error_code != 0 the error is set AND the
 * answer is given, so the caller can read "error_code" itself. */
typedef void (*PpmApiCallback) (JsonObject *answer, const GError *error, gpointer user_data);
/* Body of a GET (2xx only). */
typedef void (*PpmApiBytesCallback) (GBytes *body, const GError *error, gpointer user_data);

#define PPM_API_DEFAULT_TIMEOUT_MS 30000

/* Validates the server URL (http or https, with a host; else
 * PPM_ERROR_SETTINGS); its calls go over a transport of its own. */
PpmApi     *ppm_api_new (const char *server_url, GError **error);
/* The same over this transport (referenced), maybe shared with others. */
PpmApi     *ppm_api_new_with_transport (const char *server_url, PpmTransport *transport,
                                        GError **error);
void        ppm_api_free (PpmApi *api);
/* An independent copy (same URL, token, timeout, transport and
 * certificate decisions) for work that must outlive the original, such as
 * signing out after the client is gone. */
PpmApi     *ppm_api_copy (PpmApi *api);

/* "http://host:port[/prefix]", without a trailing slash. */
const char *ppm_api_get_base_url (PpmApi *api);
/* "ws[s]://host:port[/prefix]/pcsocket/WS". */
char       *ppm_api_get_ws_url (PpmApi *api);
/* The transport's HTTP session. */
SoupSession *ppm_api_get_session (PpmApi *api);
PpmTransport *ppm_api_get_transport (PpmApi *api);
/* Decides on the certificates its requests meet (referenced; NULL:
 * libsoup's verification alone). */
void        ppm_api_set_tls_watch (PpmApi *api, PpmTlsWatch *watch);

void        ppm_api_set_token (PpmApi *api, const char *access_token);
const char *ppm_api_get_token (PpmApi *api);
void        ppm_api_set_timeout (PpmApi *api, guint milliseconds);

/* The envelope of every call: the team, the signed-in user and the
 * device (any may be NULL, before the sign-in gave it). Copies. */
void        ppm_api_set_envelope (PpmApi *api, const char *app_uuid, const char *user_uuid,
                                  const char *device_uuid);
/* A new request body holding the envelope. */
JsonObject *ppm_api_new_body (PpmApi *api);

/* POST /api/<name> with the JSON body (not consumed). */
void ppm_api_call (PpmApi *api, const char *name, JsonObject *body,
                   GCancellable *cancellable, PpmApiCallback callback, gpointer user_data);
/* Password grant; the password is hashed here. Answer holds access_token.
 * {"error_code": -1} gives PPM_ERROR_AUTH. */
void ppm_api_token_password (PpmApi *api, const char *api_key, const char *email,
                             const char *password, GCancellable *cancellable,
                             PpmApiCallback callback, gpointer user_data);
/* Client-credentials grant (visitor). */
void ppm_api_token_client (PpmApi *api, const char *api_key, const char *api_secret,
                           GCancellable *cancellable, PpmApiCallback callback,
                           gpointer user_data);
/* GET <base><path>, at most PPM_API_MAX_ANSWER_BYTES. */
void ppm_api_get (PpmApi *api, const char *path, GCancellable *cancellable,
                  PpmApiBytesCallback callback, gpointer user_data);
/* The same with a smaller bound: a longer body is abandoned with
 * G_IO_ERROR_MESSAGE_TOO_LARGE. */
void ppm_api_get_limited (PpmApi *api, const char *path, gsize max_bytes,
                          GCancellable *cancellable, PpmApiBytesCallback callback,
                          gpointer user_data);

/* No answer of the server is read beyond this size (a hostile or broken
 * server must not exhaust memory). */
#define PPM_API_MAX_ANSWER_BYTES (16 * 1024 * 1024)

/* The envelope of an /api/NAME answer: the parsed object (also on an
 * error_code != 0, when *error is set too) or NULL with error. Exposed for
 * the fuzz targets. */
JsonObject *ppm_api_parse_answer (const char *what, const char *text, gsize size,
                                  GError **error);
/* The same for a /ppauth/token answer. */
JsonObject *ppm_api_parse_token_answer (const char *text, gsize size, GError **error);

/* Lower-case SHA-1 hex of the password, as the server stores it. */
char *ppm_password_sha1 (const char *password);
/* "a=b&c=d" with every value percent-encoded; pairs are name, value, ..., NULL. */
char *ppm_form_encode (const char *first_name, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
