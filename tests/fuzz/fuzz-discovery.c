/* fuzz-discovery.c: the public web assets the API keys are read from
 * (PPKefu's bundle, PPCom's library).
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fuzz-common.h"
#include "ppm-discovery.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *key = NULL;
  g_autofree char *ppcom_key = NULL;
  g_autofree char *ppcom_secret = NULL;

  /* The parsers take a length: no terminating NUL is promised. */
  ppm_discovery_parse_ppkefu ((const char *) data, size, &key);
  ppm_discovery_parse_ppcom ((const char *) data, size, &ppcom_key, &ppcom_secret);
  return 0;
}
