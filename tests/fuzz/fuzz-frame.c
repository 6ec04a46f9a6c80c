/* fuzz-frame.c: a websocket text frame from the server, as the client
 * handles it: parsed, classified (ACK, MSG, TYPING, ONLINE), and a MSG's
 * compact message turned into a PpmMessage.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "fuzz-common.h"
#include "ppm-json.h"
#include "ppm-message.h"
#include "ppm-ws.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonObject) object = ppm_json_parse_object ((const char *) data, (gssize) size,
                                                         NULL);
  g_autoptr (PpmMessage) message = NULL;
  g_autofree char *pid = NULL;
  const char *device = NULL;
  PpmFrame frame;

  if (object == NULL || !ppm_ws_parse_frame (object, &frame, NULL))
    return 0;
  if (frame.kind != PPM_FRAME_MSG)
    return 0;
  ppm_message_is_logout (frame.msg, &device);
  message = ppm_message_parse_compact (frame.msg, "http://127.0.0.1:8945", &pid, NULL);
  if (message && ppm_message_needs_text (message))
    ppm_message_set_text (message, "downloaded");
  return 0;
}
