/* test-lib-message.c: parsing of every recorded push and record shape into
 * PpmMessage (TEXT, unicode and emoji, TXT, IMAGE, FILE, S2S, history
 * records), the forced logout, and the websocket frame parser. The frames
 * are copied verbatim from the transcripts of the real server.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include "ppm-client.h"
#include "ppm-json.h"
#include "ppm-message.h"
#include "ppm-ws.h"

#include <string.h>

#define BASE "http://127.0.0.1:18945"

static const char push_text[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"fac5c37f-3193-4c7c-b162-fa4bd7fbaa05\", "
  "\"fi\": \"81970d70-ebda-11f1-b627-02fc00000001\", \"ti\": \"822a5b52-ebda-11f"
  "1-b627-02fc00000001\", \"ft\": \"DU\", \"tt\": \"DU\", \"mt\": \"NOTI\", \"ms\": \"TEX"
  "T\", \"ci\": \"822a5b52-ebda-11f1-b627-02fc00000001\", \"ct\": \"P2S\", \"tl\": n"
  "ull, \"bo\": \"Hello, I have a question about my order #1234\", \"ts\": 1795"
  "945916.491178, \"pid\": \"8364ffb8-ebda-11f1-b627-02fc00000001\", \"from_us"
  "er\": {\"uuid\": \"81970d70-ebda-11f1-b627-02fc00000001\", \"user_icon\": \"ht"
  "tp://127.0.0.1:18945/identicon/identicon/186.png\", \"user_email\": \"8197"
  "0d@7c6377\", \"user_fullname\": \"Unknown Area.User\", \"updatetime\": 179594"
  "5913}}}"
  ;

static const char push_unicode[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"cf181bb3-c9b8-43a2-a553-c6b5e51a447f\", "
  "\"fi\": \"81970d70-ebda-11f1-b627-02fc00000001\", \"ti\": \"822a5b52-ebda-11f"
  "1-b627-02fc00000001\", \"ft\": \"DU\", \"tt\": \"DU\", \"mt\": \"NOTI\", \"ms\": \"TEX"
  "T\", \"ci\": \"822a5b52-ebda-11f1-b627-02fc00000001\", \"ct\": \"P2S\", \"tl\": n"
  "ull, \"bo\": \"Thanks \\u8c22\\u8c22 \\u2014 unicode \\u2713\", \"ts\": 17959459"
  "16.691506, \"pid\": \"83836bc4-ebda-11f1-b627-02fc00000001\", \"from_user\":"
  " {\"uuid\": \"81970d70-ebda-11f1-b627-02fc00000001\", \"user_icon\": \"http:/"
  "/127.0.0.1:18945/identicon/identicon/186.png\", \"user_email\": \"81970d@7"
  "c6377\", \"user_fullname\": \"Unknown Area.User\", \"updatetime\": 1795945913"
  "}}}"
  ;

static const char push_txt[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"5fbd95ec-b7e9-4e37-b765-c7b579f36e57\", "
  "\"fi\": \"97332a7e-ebda-11f1-8aac-02fc00000001\", \"ti\": \"979c358c-ebda-11f"
  "1-8aac-02fc00000001\", \"ft\": \"DU\", \"tt\": \"DU\", \"mt\": \"NOTI\", \"ms\": \"TXT"
  "\", \"ci\": \"979c358c-ebda-11f1-8aac-02fc00000001\", \"ct\": \"P2S\", \"tl\": nu"
  "ll, \"bo\": \"{\\\"fid\\\": \\\"97d1857a-ebda-11f1-8aac-02fc00000001\\\"}\", \"ts\":"
  " 1795945950.769135, \"pid\": \"97d31b7e-ebda-11f1-8aac-02fc00000001\", \"fr"
  "om_user\": {\"uuid\": \"97332a7e-ebda-11f1-8aac-02fc00000001\", \"user_icon\""
  ": \"http://127.0.0.1:18945/identicon/identicon/71.png\", \"user_email\": \""
  "97332a@7c6377\", \"user_fullname\": \"Unknown Area.User\", \"updatetime\": 17"
  "95945949}}}"
  ;

static const char push_image[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"18704026-eafc-4742-91a1-33d72244975a\", "
  "\"fi\": \"95114104-ebda-11f1-8aac-02fc00000001\", \"ti\": \"9539da7e-ebda-11f"
  "1-8aac-02fc00000001\", \"ft\": \"DU\", \"tt\": \"DU\", \"mt\": \"NOTI\", \"ms\": \"IMA"
  "GE\", \"ci\": \"9539da7e-ebda-11f1-8aac-02fc00000001\", \"ct\": \"P2S\", \"tl\": "
  "null, \"bo\": \"{\\\"thum\\\": \\\"95b43d64-ebda-11f1-8aac-02fc00000001\\\", \\\"or"
  "ig\\\": \\\"95aedd7e-ebda-11f1-8aac-02fc00000001\\\", \\\"mime\\\": \\\"image/png\\"
  "\", \\\"orig_width\\\": 320, \\\"orig_height\\\": 240, \\\"thum_width\\\": 120, \\\"t"
  "hum_height\\\": 90}\", \"ts\": 1795945947.22174, \"pid\": \"95b4e016-ebda-11f1"
  "-8aac-02fc00000001\", \"from_user\": {\"uuid\": \"95114104-ebda-11f1-8aac-02"
  "fc00000001\", \"user_icon\": \"http://127.0.0.1:18945/identicon/identicon/"
  "219.png\", \"user_email\": \"951141@7c6377\", \"user_fullname\": \"Unknown Are"
  "a.User\", \"updatetime\": 1795945946}}}"
  ;

static const char push_file[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"4bba9e6e-6da5-4969-9e01-b30f80309ae8\", "
  "\"fi\": \"95114104-ebda-11f1-8aac-02fc00000001\", \"ti\": \"9539da7e-ebda-11f"
  "1-8aac-02fc00000001\", \"ft\": \"DU\", \"tt\": \"DU\", \"mt\": \"NOTI\", \"ms\": \"FIL"
  "E\", \"ci\": \"9539da7e-ebda-11f1-8aac-02fc00000001\", \"ct\": \"P2S\", \"tl\": n"
  "ull, \"bo\": \"{\\\"fid\\\": \\\"95c3b334-ebda-11f1-8aac-02fc00000001\\\", \\\"mime"
  "\\\": \\\"application/pdf\\\", \\\"size\\\": 32, \\\"name\\\": \\\"invoice.pdf\\\"}\", \"t"
  "s\": 1795945947.368098, \"pid\": \"95cc4d32-ebda-11f1-8aac-02fc00000001\", "
  "\"from_user\": {\"uuid\": \"95114104-ebda-11f1-8aac-02fc00000001\", \"user_ic"
  "on\": \"http://127.0.0.1:18945/identicon/identicon/219.png\", \"user_email"
  "\": \"951141@7c6377\", \"user_fullname\": \"Unknown Area.User\", \"updatetime\""
  ": 1795945946}}}"
  ;

static const char push_image_own[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"95dbcdf2-ebda-11f1-8a0f-02fc00000001\", "
  "\"fi\": \"7c61b332-ebda-11f1-b627-02fc00000001\", \"ti\": \"7c63776c-ebda-11f"
  "1-b627-02fc00000001\", \"ft\": \"DU\", \"tt\": \"AP\", \"mt\": \"NOTI\", \"ms\": \"IMA"
  "GE\", \"ci\": \"9539da7e-ebda-11f1-8aac-02fc00000001\", \"ct\": \"S2P\", \"tl\": "
  "null, \"bo\": \"{\\\"thum\\\": \\\"95dbaade-ebda-11f1-8aac-02fc00000001\\\", \\\"or"
  "ig\\\": \\\"95dbaade-ebda-11f1-8aac-02fc00000001\\\", \\\"mime\\\": \\\"image/png\\"
  "\", \\\"orig_width\\\": 64, \\\"orig_height\\\": 64, \\\"thum_width\\\": 64, \\\"thum"
  "_height\\\": 64}\", \"ts\": 1795945947.519291, \"pid\": \"95e23412-ebda-11f1-8"
  "aac-02fc00000001\", \"from_user\": {\"uuid\": \"7c61b332-ebda-11f1-b627-02fc"
  "00000001\", \"user_icon\": \"http://127.0.0.1:18945/identicon/identicon/77"
  ".png\", \"user_email\": \"agent@ppmessage.local\", \"user_fullname\": \"Alice "
  "Agent\", \"updatetime\": 1795945946}}}"
  ;

static const char push_logout[] =
  "{\"type\": \"MSG\", \"msg\": {\"mt\": \"SYS\", \"ms\": \"LOGOUT\", \"bo\": \"8ed339a0-e"
  "bda-11f1-bb69-02fc00000001\"}}"
  ;

static const char push_s2s[] =
  "{\"type\": \"MSG\", \"msg\": {\"id\": \"9c4bed12-ebe3-11f1-baf7-02fc00000001\", "
  "\"fi\": \"7c61b332-ebda-11f1-b627-02fc00000001\", \"ti\": \"e51fa020-ebdd-11f"
  "1-8aac-02fc00000001\", \"ft\": \"DU\", \"tt\": \"DU\", \"mt\": \"NOTI\", \"ms\": \"TEX"
  "T\", \"ci\": \"9c2d76de-ebe3-11f1-8aac-02fc00000001\", \"ct\": \"S2S\", \"tl\": n"
  "ull, \"bo\": \"Hi Bob, can you take the visitor asking about invoices?\", "
  "\"ts\": 1795949823.764582, \"pid\": \"9c4fb10e-ebe3-11f1-8aac-02fc00000001\""
  ", \"from_user\": {\"uuid\": \"7c61b332-ebda-11f1-b627-02fc00000001\", \"user_"
  "icon\": \"http://127.0.0.1:18945/identicon/identicon/77.png\", \"user_emai"
  "l\": \"agent@ppmessage.local\", \"user_fullname\": \"Alice Agent\", \"updateti"
  "me\": 1795949823}}}"
  ;

static const char history_answer[] =
  "{\"uri\": \"/api/PP_PAGE_HISTORY_MESSAGE\", \"error_code\": 0, \"error_string"
  "\": \"success.\", \"total_count\": 6, \"return_count\": 6, \"page_size\": 30, \""
  "page_offset\": 0, \"list\": [{\"to_uuid\": \"8528148e-ebda-11f1-b627-02fc000"
  "00001\", \"from_type\": \"DU\", \"from_uuid\": \"7c61b332-ebda-11f1-b627-02fc0"
  "0000001\", \"task_status\": \"PROCESSED\", \"message_type\": \"NOTI\", \"convers"
  "ation_uuid\": \"85bdfeb8-ebda-11f1-b627-02fc00000001\", \"app_uuid\": \"7c63"
  "776c-ebda-11f1-b627-02fc00000001\", \"body\": \"agent reply 1\", \"createtim"
  "e\": \"2026-11-29 09:52:01 340960\", \"uuid\": \"863fc880-ebda-11f1-8a0f-02f"
  "c00000001\", \"updatetime\": \"2026-11-29 09:52:01 343702\", \"to_type\": \"DU"
  "\", \"message_body\": \"{\\\"id\\\": \\\"863fc880-ebda-11f1-8a0f-02fc00000001\\\","
  " \\\"fi\\\": \\\"7c61b332-ebda-11f1-b627-02fc00000001\\\", \\\"ti\\\": \\\"7c63776c-"
  "ebda-11f1-b627-02fc00000001\\\", \\\"ft\\\": \\\"DU\\\", \\\"tt\\\": \\\"AP\\\", \\\"mt\\\":"
  " \\\"NOTI\\\", \\\"ms\\\": \\\"TEXT\\\", \\\"ci\\\": \\\"85bdfeb8-ebda-11f1-b627-02fc000"
  "00001\\\", \\\"ct\\\": \\\"S2P\\\", \\\"tl\\\": null, \\\"bo\\\": \\\"agent reply 1\\\", \\\"t"
  "s\\\": 1795945921.34096}\", \"message_subtype\": \"TEXT\", \"from_device_uuid\""
  ": \"7d145564-ebda-11f1-b627-02fc00000001\", \"conversation_type\": \"S2P\", "
  "\"from_user\": {\"user_fullname\": \"Alice Agent\", \"user_icon\": \"http://127"
  ".0.0.1:18945/identicon/identicon/77.png\", \"user_email\": \"agent@ppmessa"
  "ge.local\", \"uuid\": \"7c61b332-ebda-11f1-b627-02fc00000001\"}}, {\"to_uuid"
  "\": \"85bdfeb8-ebda-11f1-b627-02fc00000001\", \"from_type\": \"DU\", \"from_uu"
  "id\": \"8528148e-ebda-11f1-b627-02fc00000001\", \"task_status\": \"PROCESSED"
  "\", \"message_type\": \"NOTI\", \"conversation_uuid\": \"85bdfeb8-ebda-11f1-b6"
  "27-02fc00000001\", \"app_uuid\": \"7c63776c-ebda-11f1-b627-02fc00000001\", "
  "\"body\": \"visitor message 5\", \"createtime\": \"2026-11-29 09:52:01 141204"
  "\", \"uuid\": \"47041806-7e8b-4f92-8935-4d6b7ff409bc\", \"updatetime\": \"2026"
  "-11-29 09:52:01 143993\", \"to_type\": \"DU\", \"message_body\": \"{\\\"id\\\": \\\""
  "47041806-7e8b-4f92-8935-4d6b7ff409bc\\\", \\\"fi\\\": \\\"8528148e-ebda-11f1-b"
  "627-02fc00000001\\\", \\\"ti\\\": \\\"85bdfeb8-ebda-11f1-b627-02fc00000001\\\", "
  "\\\"ft\\\": \\\"DU\\\", \\\"tt\\\": \\\"DU\\\", \\\"mt\\\": \\\"NOTI\\\", \\\"ms\\\": \\\"TEXT\\\", \\\""
  "ci\\\": \\\"85bdfeb8-ebda-11f1-b627-02fc00000001\\\", \\\"ct\\\": \\\"P2S\\\", \\\"tl\\"
  "\": null, \\\"bo\\\": \\\"visitor message 5\\\", \\\"ts\\\": 1795945921.141204}\", \""
  "message_subtype\": \"TEXT\", \"from_device_uuid\": \"8528b286-ebda-11f1-b627"
  "-02fc00000001\", \"conversation_type\": \"P2S\", \"from_user\": {\"user_fullna"
  "me\": \"Unknown Area.User\", \"user_icon\": \"http://127.0.0.1:18945/identic"
  "on/identicon/191.png\", \"user_email\": \"852814@7c6377\", \"uuid\": \"8528148"
  "e-ebda-11f1-b627-02fc00000001\"}}, {\"to_uuid\": \"85bdfeb8-ebda-11f1-b627"
  "-02fc00000001\", \"from_type\": \"DU\", \"from_uuid\": \"8528148e-ebda-11f1-b6"
  "27-02fc00000001\", \"task_status\": \"PROCESSED\", \"message_type\": \"NOTI\", "
  "\"conversation_uuid\": \"85bdfeb8-ebda-11f1-b627-02fc00000001\", \"app_uuid"
  "\": \"7c63776c-ebda-11f1-b627-02fc00000001\", \"body\": \"visitor message 4\""
  ", \"createtime\": \"2026-11-29 09:52:00 992379\", \"uuid\": \"b5ab10af-454a-4"
  "16d-a102-b2e0dc30a21d\", \"updatetime\": \"2026-11-29 09:52:01 001773\", \"t"
  "o_type\": \"DU\", \"message_body\": \"{\\\"id\\\": \\\"b5ab10af-454a-416d-a102-b2e"
  "0dc30a21d\\\", \\\"fi\\\": \\\"8528148e-ebda-11f1-b627-02fc00000001\\\", \\\"ti\\\":"
  " \\\"85bdfeb8-ebda-11f1-b627-02fc00000001\\\", \\\"ft\\\": \\\"DU\\\", \\\"tt\\\": \\\"D"
  "U\\\", \\\"mt\\\": \\\"NOTI\\\", \\\"ms\\\": \\\"TEXT\\\", \\\"ci\\\": \\\"85bdfeb8-ebda-11f1-"
  "b627-02fc00000001\\\", \\\"ct\\\": \\\"P2S\\\", \\\"tl\\\": null, \\\"bo\\\": \\\"visitor "
  "message 4\\\", \\\"ts\\\": 1795945920.992379}\", \"message_subtype\": \"TEXT\", \""
  "from_device_uuid\": \"8528b286-ebda-11f1-b627-02fc00000001\", \"conversati"
  "on_type\": \"P2S\", \"from_user\": {\"user_fullname\": \"Unknown Area.User\", \""
  "user_icon\": \"http://127.0.0.1:18945/identicon/identicon/191.png\", \"use"
  "r_email\": \"852814@7c6377\", \"uuid\": \"8528148e-ebda-11f1-b627-02fc000000"
  "01\"}}, {\"to_uuid\": \"85bdfeb8-ebda-11f1-b627-02fc00000001\", \"from_type\""
  ": \"DU\", \"from_uuid\": \"8528148e-ebda-11f1-b627-02fc00000001\", \"task_sta"
  "tus\": \"PROCESSED\", \"message_type\": \"NOTI\", \"conversation_uuid\": \"85bdf"
  "eb8-ebda-11f1-b627-02fc00000001\", \"app_uuid\": \"7c63776c-ebda-11f1-b627"
  "-02fc00000001\", \"body\": \"visitor message 3\", \"createtime\": \"2026-11-29"
  " 09:52:00 841089\", \"uuid\": \"52793a38-e4aa-4095-9bd7-86daa85fab33\", \"up"
  "datetime\": \"2026-11-29 09:52:00 843927\", \"to_type\": \"DU\", \"message_bod"
  "y\": \"{\\\"id\\\": \\\"52793a38-e4aa-4095-9bd7-86daa85fab33\\\", \\\"fi\\\": \\\"8528"
  "148e-ebda-11f1-b627-02fc00000001\\\", \\\"ti\\\": \\\"85bdfeb8-ebda-11f1-b627-"
  "02fc00000001\\\", \\\"ft\\\": \\\"DU\\\", \\\"tt\\\": \\\"DU\\\", \\\"mt\\\": \\\"NOTI\\\", \\\"ms"
  "\\\": \\\"TEXT\\\", \\\"ci\\\": \\\"85bdfeb8-ebda-11f1-b627-02fc00000001\\\", \\\"ct\\\""
  ": \\\"P2S\\\", \\\"tl\\\": null, \\\"bo\\\": \\\"visitor message 3\\\", \\\"ts\\\": 179594"
  "5920.841089}\", \"message_subtype\": \"TEXT\", \"from_device_uuid\": \"8528b28"
  "6-ebda-11f1-b627-02fc00000001\", \"conversation_type\": \"P2S\", \"from_user"
  "\": {\"user_fullname\": \"Unknown Area.User\", \"user_icon\": \"http://127.0.0"
  ".1:18945/identicon/identicon/191.png\", \"user_email\": \"852814@7c6377\", "
  "\"uuid\": \"8528148e-ebda-11f1-b627-02fc00000001\"}}, {\"to_uuid\": \"85bdfeb"
  "8-ebda-11f1-b627-02fc00000001\", \"from_type\": \"DU\", \"from_uuid\": \"85281"
  "48e-ebda-11f1-b627-02fc00000001\", \"task_status\": \"PROCESSED\", \"message"
  "_type\": \"NOTI\", \"conversation_uuid\": \"85bdfeb8-ebda-11f1-b627-02fc0000"
  "0001\", \"app_uuid\": \"7c63776c-ebda-11f1-b627-02fc00000001\", \"body\": \"vi"
  "sitor message 2\", \"createtime\": \"2026-11-29 09:52:00 640803\", \"uuid\": "
  "\"5d61ccb4-3c49-40c7-96cc-489da30198d3\", \"updatetime\": \"2026-11-29 09:5"
  "2:00 643575\", \"to_type\": \"DU\", \"message_body\": \"{\\\"id\\\": \\\"5d61ccb4-3c"
  "49-40c7-96cc-489da30198d3\\\", \\\"fi\\\": \\\"8528148e-ebda-11f1-b627-02fc000"
  "00001\\\", \\\"ti\\\": \\\"85bdfeb8-ebda-11f1-b627-02fc00000001\\\", \\\"ft\\\": \\\"D"
  "U\\\", \\\"tt\\\": \\\"DU\\\", \\\"mt\\\": \\\"NOTI\\\", \\\"ms\\\": \\\"TEXT\\\", \\\"ci\\\": \\\"85b"
  "dfeb8-ebda-11f1-b627-02fc00000001\\\", \\\"ct\\\": \\\"P2S\\\", \\\"tl\\\": null, \\\""
  "bo\\\": \\\"visitor message 2\\\", \\\"ts\\\": 1795945920.640803}\", \"message_sub"
  "type\": \"TEXT\", \"from_device_uuid\": \"8528b286-ebda-11f1-b627-02fc000000"
  "01\", \"conversation_type\": \"P2S\", \"from_user\": {\"user_fullname\": \"Unkno"
  "wn Area.User\", \"user_icon\": \"http://127.0.0.1:18945/identicon/identico"
  "n/191.png\", \"user_email\": \"852814@7c6377\", \"uuid\": \"8528148e-ebda-11f1"
  "-b627-02fc00000001\"}}, {\"to_uuid\": \"85bdfeb8-ebda-11f1-b627-02fc000000"
  "01\", \"from_type\": \"DU\", \"from_uuid\": \"8528148e-ebda-11f1-b627-02fc0000"
  "0001\", \"task_status\": \"PROCESSED\", \"message_type\": \"NOTI\", \"conversati"
  "on_uuid\": \"85bdfeb8-ebda-11f1-b627-02fc00000001\", \"app_uuid\": \"7c63776"
  "c-ebda-11f1-b627-02fc00000001\", \"body\": \"visitor message 1\", \"createti"
  "me\": \"2026-11-29 09:52:00 491459\", \"uuid\": \"a0a6a1f5-130d-4026-b6b7-92"
  "36414950af\", \"updatetime\": \"2026-11-29 09:52:00 502123\", \"to_type\": \"D"
  "U\", \"message_body\": \"{\\\"id\\\": \\\"a0a6a1f5-130d-4026-b6b7-9236414950af\\\""
  ", \\\"fi\\\": \\\"8528148e-ebda-11f1-b627-02fc00000001\\\", \\\"ti\\\": \\\"85bdfeb8"
  "-ebda-11f1-b627-02fc00000001\\\", \\\"ft\\\": \\\"DU\\\", \\\"tt\\\": \\\"DU\\\", \\\"mt\\\""
  ": \\\"NOTI\\\", \\\"ms\\\": \\\"TEXT\\\", \\\"ci\\\": \\\"85bdfeb8-ebda-11f1-b627-02fc00"
  "000001\\\", \\\"ct\\\": \\\"P2S\\\", \\\"tl\\\": null, \\\"bo\\\": \\\"visitor message 1\\\""
  ", \\\"ts\\\": 1795945920.491459}\", \"message_subtype\": \"TEXT\", \"from_device"
  "_uuid\": \"8528b286-ebda-11f1-b627-02fc00000001\", \"conversation_type\": \""
  "P2S\", \"from_user\": {\"user_fullname\": \"Unknown Area.User\", \"user_icon\":"
  " \"http://127.0.0.1:18945/identicon/identicon/191.png\", \"user_email\": \""
  "852814@7c6377\", \"uuid\": \"8528148e-ebda-11f1-b627-02fc00000001\"}}]}"
  ;

static const char online_frame[] =
  "{\"type\": \"ONLINE\", \"user_uuid\": \"7c61b332-ebda-11f1-b627-02fc00000001\""
  ", \"extra_data\": null, \"mobile\": \"UNCHANGED\", \"browser\": \"ONLINE\", \"dev"
  "ice_uuid\": \"8ed339a0-ebda-11f1-bb69-02fc00000001\", \"createtime\": \"2026"
  "-11-29 09:52:15\"}"
  ;

static const char ack_send[] =
  "{\"type\": \"ACK\", \"what\": \"SEND\", \"code\": 0, \"reason\": \"success, nothing"
  " to say.\", \"extra\": {\"uuid\": \"836b26b8-ebda-11f1-8a0f-02fc00000001\", \""
  "conversation_uuid\": \"822a5b52-ebda-11f1-b627-02fc00000001\"}}"
  ;

static const char ack_auth_bad[] =
  "{\"type\": \"ACK\", \"what\": \"AUTH\", \"code\": 9, \"reason\": \"token not in db."
  "\", \"extra\": null}"
  ;

static const char typing_frame[] =
  "{\"type\": \"TYPING\", \"user_uuid\": \"81970d70-ebda-11f1-b627-02fc00000001\""
  ", \"conversation_uuid\": \"822a5b52-ebda-11f1-b627-02fc00000001\"}"
  ;

static JsonObject *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonObject *object = ppm_json_parse_object (text, -1, &error);

  g_assert_no_error (error);
  return object;
}

/* The "msg" of a MSG frame, parsed through the frame parser. */
static PpmMessage *
parse_push (const char *frame_text, char **pid)
{
  g_autoptr (JsonObject) frame = parse (frame_text);
  g_autoptr (GError) error = NULL;
  PpmFrame parsed;
  PpmMessage *message;

  g_assert_true (ppm_ws_parse_frame (frame, &parsed, &error));
  g_assert_cmpint (parsed.kind, ==, PPM_FRAME_MSG);
  message = ppm_message_parse_compact (parsed.msg, BASE, pid, &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static void
test_text (void)
{
  g_autofree char *pid = NULL;
  g_autoptr (PpmMessage) message = parse_push (push_text, &pid);

  g_assert_cmpstr (message->uuid, ==, "fac5c37f-3193-4c7c-b162-fa4bd7fbaa05");
  g_assert_cmpstr (message->conversation_uuid, ==, "822a5b52-ebda-11f1-b627-02fc00000001");
  g_assert_cmpstr (message->from_uuid, ==, "81970d70-ebda-11f1-b627-02fc00000001");
  g_assert_cmpstr (message->from_name, ==, "Unknown Area.User");
  g_assert_cmpint (message->kind, ==, PPM_MESSAGE_TEXT);
  g_assert_cmpstr (message->subtype, ==, "TEXT");
  g_assert_cmpstr (message->text, ==, "Hello, I have a question about my order #1234");
  g_assert_cmpint (message->time, ==, 1795945916);
  g_assert_cmpstr (pid, ==, "8364ffb8-ebda-11f1-b627-02fc00000001");
  g_assert_false (ppm_message_needs_text (message));
  g_assert_false (message->outgoing);
  g_assert_false (message->delayed);
}

static void
test_unicode (void)
{
  g_autoptr (PpmMessage) message = parse_push (push_unicode, NULL);

  g_assert_cmpstr (message->text, ==, "Thanks 谢谢 — unicode ✓");
}

static void
test_surrogate_pair_emoji (void)
{
  /* How the server writes an emoji (ensure_ascii): a surrogate pair. */
  g_autoptr (JsonObject) msg =
    parse ("{\"id\": \"m1\", \"fi\": \"u1\", \"ci\": \"c1\", \"ms\": \"TEXT\", \"mt\": \"NOTI\","
           " \"bo\": \"smile \\ud83d\\ude00 and \\ud83c\\udf89!\", \"ts\": 1.5}");
  g_autoptr (PpmMessage) message = ppm_message_parse_compact (msg, BASE, NULL, NULL);

  g_assert_nonnull (message);
  g_assert_cmpstr (message->text, ==, "smile \xf0\x9f\x98\x80 and \xf0\x9f\x8e\x89!");
  g_assert_true (g_utf8_validate (message->text, -1, NULL));
  g_assert_cmpint (message->time, ==, 1);
}

static void
test_txt (void)
{
  g_autoptr (PpmMessage) message = parse_push (push_txt, NULL);

  g_assert_cmpint (message->kind, ==, PPM_MESSAGE_TEXT);
  g_assert_cmpstr (message->subtype, ==, "TXT");
  g_assert_null (message->text);
  g_assert_true (ppm_message_needs_text (message));
  g_assert_cmpstr (message->file_url, ==,
                   BASE "/download/download/97d1857a-ebda-11f1-8aac-02fc00000001");
  ppm_message_set_text (message, "This is a long message.");
  g_assert_false (ppm_message_needs_text (message));
  g_assert_cmpstr (message->text, ==, "This is a long message.");
}

static void
test_image (void)
{
  g_autoptr (PpmMessage) message = parse_push (push_image, NULL);
  g_autoptr (PpmMessage) own = parse_push (push_image_own, NULL);

  g_assert_cmpint (message->kind, ==, PPM_MESSAGE_IMAGE);
  g_assert_cmpstr (message->file_url, ==,
                   BASE "/download/download/95aedd7e-ebda-11f1-8aac-02fc00000001");
  g_assert_cmpstr (message->mime, ==, "image/png");
  g_assert_nonnull (strstr (message->text, message->file_url));
  /* thum == orig for a small image: still the original. */
  g_assert_cmpint (own->kind, ==, PPM_MESSAGE_IMAGE);
  g_assert_cmpstr (own->file_url, ==,
                   BASE "/download/download/95dbaade-ebda-11f1-8aac-02fc00000001");
  g_assert_cmpstr (own->from_name, ==, "Alice Agent");
}

static void
test_file (void)
{
  g_autoptr (PpmMessage) message = parse_push (push_file, NULL);

  g_assert_cmpint (message->kind, ==, PPM_MESSAGE_FILE);
  g_assert_cmpstr (message->file_name, ==, "invoice.pdf");
  g_assert_cmpstr (message->mime, ==, "application/pdf");
  g_assert_cmpint (message->file_size, ==, 32);
  g_assert_cmpstr (message->file_url, ==,
                   BASE "/download/download/95c3b334-ebda-11f1-8aac-02fc00000001"
                   "?file_name=invoice.pdf");
  g_assert_nonnull (strstr (message->text, "invoice.pdf"));
}

static void
test_s2s (void)
{
  g_autoptr (PpmMessage) message = parse_push (push_s2s, NULL);

  g_assert_cmpint (message->kind, ==, PPM_MESSAGE_TEXT);
  g_assert_nonnull (message->text);
  g_assert_cmpstr (message->conversation_uuid, ==, "9c2d76de-ebe3-11f1-8aac-02fc00000001");
}

static void
test_other_subtypes (void)
{
  static const char *const bodies[][2] = {
    { "AUDIO", "{\"m4a\": {\"dura\": 3}}" },
    { "GPS_LOCATION", "{}" },
    { "IMAGE", "not json" },
    { "FILE", "{\"name\": \"no fid\"}" },
    { "TXT", "[1]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++) {
    g_autoptr (JsonObject) msg = json_object_new ();
    g_autoptr (PpmMessage) message = NULL;

    json_object_set_string_member (msg, "id", "m");
    json_object_set_string_member (msg, "fi", "u");
    json_object_set_string_member (msg, "ci", "c");
    json_object_set_string_member (msg, "ms", bodies[i][0]);
    json_object_set_string_member (msg, "bo", bodies[i][1]);
    message = ppm_message_parse_compact (msg, BASE, NULL, NULL);
    g_assert_nonnull (message);
    g_assert_nonnull (message->text);
    g_assert_false (ppm_message_needs_text (message));
    if (i < 4)
      g_assert_cmpint (message->kind, ==, PPM_MESSAGE_OTHER);
  }
}

/* A voice message is a file to download: mp3 where the server made one
 * (a desktop plays it), else m4a or amr. */
static void
test_audio_as_file (void)
{
  static const char *const bodies[][3] = {
    { "{\"m4a\": {\"dura\": 3, \"fid\": \"f1\"}, \"amr\": {\"dura\": 3, \"fid\": \"f2\"}, "
      "\"mp3\": {\"dura\": 3, \"fid\": \"f3\"}}", "voice-message.mp3", "/f3?" },
    { "{\"m4a\": {\"dura\": 3, \"fid\": \"f1\"}}", "voice-message.m4a", "/f1?" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++) {
    g_autoptr (JsonObject) msg = json_object_new ();
    g_autoptr (PpmMessage) message = NULL;

    json_object_set_string_member (msg, "id", "m");
    json_object_set_string_member (msg, "fi", "u");
    json_object_set_string_member (msg, "ci", "c");
    json_object_set_string_member (msg, "ms", "AUDIO");
    json_object_set_string_member (msg, "bo", bodies[i][0]);
    message = ppm_message_parse_compact (msg, BASE, NULL, NULL);
    g_assert_cmpint (message->kind, ==, PPM_MESSAGE_FILE);
    g_assert_cmpstr (message->file_name, ==, bodies[i][1]);
    g_assert_nonnull (strstr (message->file_url, bodies[i][2]));
  }
}

static PpmMessage *
image_message (const char *body)
{
  g_autoptr (JsonObject) msg = json_object_new ();

  json_object_set_string_member (msg, "id", "m");
  json_object_set_string_member (msg, "fi", "u");
  json_object_set_string_member (msg, "ci", "c");
  json_object_set_string_member (msg, "ms", "IMAGE");
  json_object_set_string_member (msg, "bo", body);
  return ppm_message_parse_compact (msg, BASE, NULL, NULL);
}

/* The picture shown inline: the thumbnail when it has fewer pixels, else
 * the original; only a PNG, JPEG or GIF is kept, anything else leaves the
 * fallback with a reason. */
static void
test_image_download (void)
{
  g_autoptr (PpmMessage) reduced = image_message (
    "{\"thum\": \"t1\", \"orig\": \"o1\", \"mime\": \"image/png\", \"orig_width\": 320, "
    "\"orig_height\": 240, \"thum_width\": 120, \"thum_height\": 90}");
  g_autoptr (PpmMessage) own_thumbnail = image_message (
    "{\"thum\": \"o2\", \"orig\": \"o2\", \"mime\": \"image/png\", \"orig_width\": 64, "
    "\"orig_height\": 64, \"thum_width\": 64, \"thum_height\": 64}");
  g_autoptr (PpmMessage) broken = image_message ("{\"orig\": \"o3\", \"mime\": \"image/png\"}");
  g_autoptr (GBytes) png = g_bytes_new_static ("\x89PNG\r\n\x1a\n....", 12);
  g_autoptr (GBytes) html = g_bytes_new_static ("<html>", 6);
  g_autoptr (GError) failure = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "HTTP 500");
  gsize max_bytes = 0;

  g_assert_nonnull (strstr (ppm_message_pending_download (reduced, &max_bytes), "/t1"));
  g_assert_cmpuint (max_bytes, ==, PPM_MAX_IMAGE_BYTES);
  g_assert_nonnull (strstr (ppm_message_pending_download (own_thumbnail, &max_bytes), "/o2"));

  ppm_message_complete_download (reduced, png, NULL);
  g_assert_true (reduced->image != NULL && g_bytes_equal (reduced->image, png));
  g_assert_null (reduced->image_error);
  g_assert_null (ppm_message_pending_download (reduced, &max_bytes));

  ppm_message_complete_download (own_thumbnail, html, NULL);
  g_assert_null (own_thumbnail->image);
  g_assert_nonnull (own_thumbnail->image_error);
  g_assert_null (ppm_message_pending_download (own_thumbnail, &max_bytes));

  ppm_message_complete_download (broken, NULL, failure);
  g_assert_null (broken->image);
  g_assert_cmpstr (broken->image_error, ==, "HTTP 500");
  g_assert_nonnull (strstr (broken->text, "/o3"));  /* the fallback keeps the link */
}

static void
test_missing_members (void)
{
  static const char *const bad[] = {
    "{\"fi\": \"u\", \"ci\": \"c\", \"ms\": \"TEXT\", \"bo\": \"x\"}",
    "{\"id\": \"m\", \"ci\": \"c\", \"ms\": \"TEXT\", \"bo\": \"x\"}",
    "{\"id\": \"m\", \"fi\": \"u\", \"ms\": \"TEXT\", \"bo\": \"x\"}",
    "{\"id\": \"m\", \"fi\": \"u\", \"ci\": \"c\", \"bo\": \"x\"}",
    "{\"id\": 5, \"fi\": \"u\", \"ci\": \"c\", \"ms\": \"TEXT\"}",
    "{\"id\": \"m\", \"fi\": null, \"ci\": \"c\", \"ms\": \"TEXT\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonObject) msg = parse (bad[i]);
    g_autoptr (GError) error = NULL;

    g_assert_null (ppm_message_parse_compact (msg, BASE, NULL, &error));
    g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  }
  {
    /* A TEXT without a body is an empty text, not a crash. */
    g_autoptr (JsonObject) msg = parse ("{\"id\": \"m\", \"fi\": \"u\", \"ci\": \"c\","
                                        " \"ms\": \"TEXT\", \"bo\": null, \"ts\": \"x\"}");
    g_autoptr (PpmMessage) message = ppm_message_parse_compact (msg, BASE, NULL, NULL);

    g_assert_nonnull (message);
    g_assert_cmpstr (message->text, ==, "");
  }
}

static void
test_logout (void)
{
  g_autoptr (JsonObject) frame = parse (push_logout);
  PpmFrame parsed;
  const char *device = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (ppm_ws_parse_frame (frame, &parsed, NULL));
  g_assert_cmpint (parsed.kind, ==, PPM_FRAME_MSG);
  g_assert_true (ppm_message_is_logout (parsed.msg, &device));
  g_assert_cmpstr (device, ==, "8ed339a0-ebda-11f1-bb69-02fc00000001");
  /* It has no id, so it is not a chat message. */
  g_assert_null (ppm_message_parse_compact (parsed.msg, BASE, NULL, &error));
  g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  {
    g_autoptr (JsonObject) text = parse (push_text);
    JsonObject *msg = json_object_get_object_member (text, "msg");

    g_assert_false (ppm_message_is_logout (msg, &device));
  }
}

static void
test_history_records (void)
{
  g_autoptr (JsonObject) answer = parse (history_answer);
  JsonArray *list = ppm_json_opt_array (answer, "list");

  g_assert_nonnull (list);
  g_assert_cmpuint (json_array_get_length (list), ==, 6);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *record = ppm_json_array_object (list, i);
    g_autoptr (PpmMessage) message = ppm_message_parse_record (record, BASE, NULL);

    g_assert_nonnull (message);
    g_assert_cmpstr (message->uuid, ==, ppm_json_opt_string (record, "uuid"));
    g_assert_cmpstr (message->text, ==, ppm_json_opt_string (record, "body"));
    g_assert_nonnull (message->from_name);
    g_assert_cmpint (message->time, >, 1795945900);
  }
  {
    /* Newest first: the agent's reply, sent from the agent's uuid. */
    g_autoptr (PpmMessage) newest = ppm_message_parse_record (ppm_json_array_object (list, 0),
                                                              BASE, NULL);

    g_assert_cmpstr (newest->text, ==, "agent reply 1");
    g_assert_cmpstr (newest->from_name, ==, "Alice Agent");
    g_assert_cmpint (newest->time, ==, 1795945921);
  }
}

static void
test_record_without_message_body (void)
{
  /* A record still PENDING has no message_body: the long fields are used. */
  g_autoptr (JsonObject) record =
    parse ("{\"uuid\": \"m9\", \"conversation_uuid\": \"c9\", \"from_uuid\": \"u9\","
           " \"message_subtype\": \"TEXT\", \"body\": \"pending text\","
           " \"createtime\": \"2026-11-29 09:52:01 141204\", \"task_status\": \"PENDING\"}");
  g_autoptr (PpmMessage) message = ppm_message_parse_record (record, BASE, NULL);
  g_autoptr (GDateTime) local = g_date_time_new_local (2026, 11, 29, 9, 52, 1);

  g_assert_nonnull (message);
  g_assert_cmpstr (message->text, ==, "pending text");
  g_assert_cmpint (message->time, ==, g_date_time_to_unix (local));
  g_assert_cmpint (ppm_message_parse_createtime ("garbage"), ==, -1);
  g_assert_cmpint (ppm_message_parse_createtime (NULL), ==, -1);
}

static void
test_frames (void)
{
  struct {
    const char *text;
    PpmFrameKind kind;
  } frames[] = {
    { ack_send, PPM_FRAME_ACK },
    { ack_auth_bad, PPM_FRAME_ACK },
    { typing_frame, PPM_FRAME_TYPING },
    { online_frame, PPM_FRAME_ONLINE },
    { "{\"type\": \"SOMETHING\"}", PPM_FRAME_OTHER },
  };
  PpmFrame parsed;

  for (guint i = 0; i < G_N_ELEMENTS (frames); i++) {
    g_autoptr (JsonObject) frame = parse (frames[i].text);

    g_assert_true (ppm_ws_parse_frame (frame, &parsed, NULL));
    g_assert_cmpint (parsed.kind, ==, frames[i].kind);
  }
  {
    g_autoptr (JsonObject) frame = parse (ack_send);

    ppm_ws_parse_frame (frame, &parsed, NULL);
    g_assert_cmpstr (parsed.what, ==, "SEND");
    g_assert_cmpint (parsed.code, ==, 0);
    g_assert_cmpstr (parsed.extra_uuid, ==, "836b26b8-ebda-11f1-8a0f-02fc00000001");
  }
  {
    g_autoptr (JsonObject) frame = parse (ack_auth_bad);

    ppm_ws_parse_frame (frame, &parsed, NULL);
    g_assert_cmpstr (parsed.what, ==, "AUTH");
    g_assert_cmpint (parsed.code, ==, 9);
    g_assert_cmpstr (parsed.reason, ==, "token not in db.");
    g_assert_null (parsed.extra_uuid);
  }
}

static void
test_malformed_frames (void)
{
  static const char *const bad[] = {
    "{}", "{\"type\": 5}", "{\"type\": \"ACK\"}", "{\"type\": \"ACK\", \"what\": \"SEND\"}",
    "{\"type\": \"MSG\"}", "{\"type\": \"MSG\", \"msg\": \"text\"}",
    "{\"type\": \"TYPING\", \"user_uuid\": \"u\"}", "{\"type\": \"ONLINE\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonObject) frame = parse (bad[i]);
    g_autoptr (GError) error = NULL;
    PpmFrame parsed;

    g_assert_false (ppm_ws_parse_frame (frame, &parsed, &error));
    g_assert_error (error, PPM_ERROR, PPM_ERROR_PROTOCOL);
  }
}

static void
test_client_frames (void)
{
  g_autoptr (JsonObject) auth = ppm_ws_auth_frame ("token", "app", "user", "device", TRUE, NULL);
  g_autoptr (JsonObject) watch = ppm_ws_typing_watch_frame ("conv");
  g_autoptr (JsonObject) unwatch = ppm_ws_typing_unwatch_frame ();
  g_autoptr (JsonObject) typing = ppm_ws_typing_frame ();
  JsonNode *flag = json_object_get_member (auth, "is_service_user");

  g_assert_cmpstr (ppm_json_opt_string (auth, "type"), ==, "auth");
  g_assert_cmpstr (ppm_json_opt_string (auth, "api_token"), ==, "token");
  /* Compared by equality on the server: a real JSON boolean. */
  g_assert_true (JSON_NODE_HOLDS_VALUE (flag));
  g_assert_cmpint (json_node_get_value_type (flag), ==, G_TYPE_BOOLEAN);
  g_assert_false (json_object_has_member (auth, "extra_data"));
  g_assert_cmpstr (ppm_json_opt_string (watch, "conversation_uuid"), ==, "conv");
  g_assert_cmpstr (ppm_json_opt_string (unwatch, "type"), ==, "typing_unwatch");
  g_assert_cmpuint (json_object_get_size (typing), ==, 1);
}

/* Found by fuzz-frame: a time stamp beyond gint64 (json-glib reads
 * "1795949925.E665232" as infinity) must not become undefined behaviour. */
static void
test_out_of_range_time (void)
{
  static const char *const stamps[] = { "1e400", "1795949925.E665232", "\"inf\"", "\"nan\"",
                                        "-5", "1e300", "\"1e30\"" };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; i < G_N_ELEMENTS (stamps); i++) {
    g_autofree char *text = g_strdup_printf ("{\"id\": \"m\", \"ci\": \"c\", \"fi\": \"f\","
                                             " \"ms\": \"TEXT\", \"bo\": \"x\", \"ts\": %s}",
                                             stamps[i]);
    g_autoptr (PpmMessage) message = ppm_message_parse_compact_text (text, "http://h", NULL);

    g_assert_nonnull (message);
    /* Unusable stamps fall back to the time of arrival. */
    g_assert_cmpint (message->time, >=, now - 5);
    g_assert_cmpint (message->time, <=, now + 5);
  }
}

/* The server time in microseconds, for ordering: the compact form's float
 * "ts" (shortest decimal, so trailing zeros of the microseconds dropped). */
static void
test_ts_microseconds (void)
{
  static const struct {
    const char *ts;
    gint64 time_us;
  } cases[] = {
    { "1795945921.34096", G_GINT64_CONSTANT (1795945921340960) },   /* transcript 04 */
    { "1795949823.764582", G_GINT64_CONSTANT (1795949823764582) },
    { "1795945921.000001", G_GINT64_CONSTANT (1795945921000001) },
    { "1795945921", G_GINT64_CONSTANT (1795945921000000) },
    { "1.5", 1500000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text = g_strdup_printf ("{\"id\": \"m\", \"ci\": \"c\", \"fi\": \"f\","
                                             " \"ms\": \"TEXT\", \"bo\": \"x\", \"ts\": %s}",
                                             cases[i].ts);
    g_autoptr (PpmMessage) message = ppm_message_parse_compact_text (text, BASE, NULL);

    g_assert_nonnull (message);
    g_assert_cmpint (message->time_us, ==, cases[i].time_us);
    g_assert_cmpint (message->time, ==, cases[i].time_us / G_USEC_PER_SEC);
  }
}

/* No usable "ts": no time to order by (0), the time of arrival to show. */
static void
test_missing_ts (void)
{
  static const char *const members[] = { "", ", \"ts\": null", ", \"ts\": \"soon\"",
                                         ", \"ts\": -5", ", \"ts\": 1e300" };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; i < G_N_ELEMENTS (members); i++) {
    g_autofree char *text = g_strdup_printf ("{\"id\": \"m\", \"ci\": \"c\", \"fi\": \"f\","
                                             " \"ms\": \"TEXT\", \"bo\": \"x\"%s}", members[i]);
    g_autoptr (PpmMessage) message = ppm_message_parse_compact_text (text, BASE, NULL);

    g_assert_nonnull (message);
    g_assert_cmpint (message->time_us, ==, 0);
    g_assert_cmpint (message->time, >=, now - 5);
    g_assert_cmpint (message->time, <=, now + 5);
  }
}

/* createtime "YYYY-MM-DD HH:MM:SS ffffff" is the server's local time. */
static void
test_createtime_microseconds (void)
{
  g_autoptr (GDateTime) local = g_date_time_new_local (2026, 11, 29, 9, 52, 1);
  gint64 second_us = g_date_time_to_unix (local) * G_USEC_PER_SEC;

  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-11-29 09:52:01 141204"), ==,
                   second_us + 141204);
  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-11-29 09:52:01 000001"), ==,
                   second_us + 1);
  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-11-29 09:52:01 5"), ==,
                   second_us + 500000);
  /* Without microseconds, or unreadable ones: the second. */
  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-11-29 09:52:01"), ==, second_us);
  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-11-29 09:52:01 12x"), ==, second_us);
  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-11-29 09:52:01 1234567"), ==,
                   second_us);
  g_assert_cmpint (ppm_message_parse_createtime ("2026-11-29 09:52:01 999999"), ==,
                   second_us / G_USEC_PER_SEC);
  g_assert_cmpint (ppm_message_parse_createtime_us ("2026-13-29 09:52:01 141204"), ==, -1);
  g_assert_cmpint (ppm_message_parse_createtime_us ("garbage"), ==, -1);
  g_assert_cmpint (ppm_message_parse_createtime_us (""), ==, -1);
  g_assert_cmpint (ppm_message_parse_createtime_us (NULL), ==, -1);
}

/* A record's time is its message_body's "ts" (since the epoch) when it
 * has one, else its createtime (local): the parser tells which. */
static void
test_record_time_kind (void)
{
  g_autoptr (JsonObject) with_body =
    parse ("{\"uuid\": \"m1\", \"conversation_uuid\": \"c1\", \"from_uuid\": \"u1\","
           " \"message_subtype\": \"TEXT\", \"body\": \"hi\","
           " \"createtime\": \"2026-11-29 09:52:01 340960\","
           " \"message_body\": \"{\\\"id\\\": \\\"m1\\\", \\\"ci\\\": \\\"c1\\\","
           " \\\"fi\\\": \\\"u1\\\", \\\"ms\\\": \\\"TEXT\\\", \\\"bo\\\": \\\"hi\\\","
           " \\\"ts\\\": 1795945921.34096}\"}");
  g_autoptr (JsonObject) without_body =
    parse ("{\"uuid\": \"m2\", \"conversation_uuid\": \"c1\", \"from_uuid\": \"u1\","
           " \"message_subtype\": \"TEXT\", \"body\": \"hi\","
           " \"createtime\": \"2026-11-29 09:52:01 340960\"}");
  g_autoptr (JsonObject) unreadable_body =
    parse ("{\"uuid\": \"m3\", \"conversation_uuid\": \"c1\", \"from_uuid\": \"u1\","
           " \"message_subtype\": \"TEXT\", \"body\": \"hi\","
           " \"createtime\": \"2026-11-29 09:52:01 340960\", \"message_body\": \"{\"}");
  g_autoptr (JsonObject) no_time =
    parse ("{\"uuid\": \"m4\", \"conversation_uuid\": \"c1\", \"from_uuid\": \"u1\","
           " \"message_subtype\": \"TEXT\", \"body\": \"hi\"}");
  gint64 local_us = ppm_message_parse_createtime_us ("2026-11-29 09:52:01 340960");
  gboolean epoch = FALSE;
  g_autoptr (PpmMessage) from_body = NULL;
  g_autoptr (PpmMessage) from_createtime = NULL;
  g_autoptr (PpmMessage) from_fallback = NULL;
  g_autoptr (PpmMessage) timeless = NULL;

  from_body = ppm_message_parse_record_timed (with_body, BASE, &epoch, NULL);
  g_assert_nonnull (from_body);
  g_assert_true (epoch);
  g_assert_cmpint (from_body->time_us, ==, G_GINT64_CONSTANT (1795945921340960));

  from_createtime = ppm_message_parse_record_timed (without_body, BASE, &epoch, NULL);
  g_assert_nonnull (from_createtime);
  g_assert_false (epoch);
  g_assert_cmpint (from_createtime->time_us, ==, local_us);
  g_assert_cmpint (from_createtime->time, ==, local_us / G_USEC_PER_SEC);

  epoch = TRUE;
  from_fallback = ppm_message_parse_record_timed (unreadable_body, BASE, &epoch, NULL);
  g_assert_nonnull (from_fallback);
  g_assert_false (epoch);
  g_assert_cmpint (from_fallback->time_us, ==, local_us);

  timeless = ppm_message_parse_record_timed (no_time, BASE, &epoch, NULL);
  g_assert_nonnull (timeless);
  g_assert_false (epoch);
  g_assert_cmpint (timeless->time_us, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lib/message/text", test_text);
  g_test_add_func ("/lib/message/unicode", test_unicode);
  g_test_add_func ("/lib/message/surrogate-pair-emoji", test_surrogate_pair_emoji);
  g_test_add_func ("/lib/message/txt", test_txt);
  g_test_add_func ("/lib/message/image", test_image);
  g_test_add_func ("/lib/message/file", test_file);
  g_test_add_func ("/lib/message/s2s", test_s2s);
  g_test_add_func ("/lib/message/other-subtypes", test_other_subtypes);
  g_test_add_func ("/lib/message/audio-as-file", test_audio_as_file);
  g_test_add_func ("/lib/message/image-download", test_image_download);
  g_test_add_func ("/lib/message/missing-members", test_missing_members);
  g_test_add_func ("/lib/message/logout", test_logout);
  g_test_add_func ("/lib/message/history-records", test_history_records);
  g_test_add_func ("/lib/message/record-without-message-body", test_record_without_message_body);
  g_test_add_func ("/lib/message/frames", test_frames);
  g_test_add_func ("/lib/message/malformed-frames", test_malformed_frames);
  g_test_add_func ("/lib/message/client-frames", test_client_frames);
  g_test_add_func ("/lib/message/out-of-range-time", test_out_of_range_time);
  g_test_add_func ("/lib/message/ts-microseconds", test_ts_microseconds);
  g_test_add_func ("/lib/message/missing-ts", test_missing_ts);
  g_test_add_func ("/lib/message/createtime-microseconds", test_createtime_microseconds);
  g_test_add_func ("/lib/message/record-time-kind", test_record_time_kind);
  return g_test_run ();
}
