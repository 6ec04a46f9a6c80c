/* ws-send.c: the send pipeline of the websocket path: validation and body
 * processing (protocol 7.1, 7.4, 7.5), storage, and routing (7.2, 7.9).
 * Transcripts 03, 04, 06, 07, 11, 12.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-messaging.h"

#define MESSAGE_MAX_TEXT_LEN 128

typedef struct {
  JsonObject *send;        /* ref */
  char *ack_device_uuid;   /* the sending socket's device, NULL before auth */
} SendItem;

void
ppms_send_item_free (gpointer data)
{
  SendItem *item = data;

  json_object_unref (item->send);
  g_free (item->ack_device_uuid);
  g_free (item);
}

void
ppms_send_enqueue (PpmsServer *server, JsonObject *send, const char *ack_device_uuid)
{
  PpmsMessaging *state = ppms_messaging_get (server);
  SendItem *item = g_new0 (SendItem, 1);
  g_autoptr (JsonNode) copy = NULL;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  /* A deep copy: the parser's tree goes away with the frame. */
  json_node_set_object (node, send);
  copy = json_node_copy (node);
  json_node_unref (node);
  item->send = json_object_ref (json_node_get_object (copy));
  item->ack_device_uuid = g_strdup (ack_device_uuid);
  ppms_timed_queue_push (&state->send_queue, item);
}

/* ---- The SEND ack (6.4.1) ---- */

static JsonNode *
copy_member_or_null (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  return node != NULL ? json_node_copy (node) : json_node_new (JSON_NODE_NULL);
}

static void
queue_send_ack (PpmsServer *server, SendItem *item, int code)
{
  PpmsMessaging *state = ppms_messaging_get (server);
  JsonObject *extra = json_object_new ();
  JsonNode *extra_node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) frame = NULL;

  json_object_set_member (extra, "uuid", copy_member_or_null (item->send, "uuid"));
  json_object_set_member (extra, "conversation_uuid",
                          copy_member_or_null (item->send, "conversation_uuid"));
  json_node_take_object (extra_node, extra);
  frame = ppms_ws_ack_frame ("SEND", code, extra_node);
  /* Routed by the sending socket's device: dropped for an unauthenticated one. */
  if (item->ack_device_uuid != NULL)
    ppms_queue_device_frame (&state->ack_queue, item->ack_device_uuid, ppms_ws_frame_text (frame));
}

/* ---- Body processing (7.5) ---- */

typedef enum { BODY_OK, BODY_ILLEGAL, BODY_RAISES } BodyResult;

static JsonObject *
parse_body_object (const char *body, BodyResult *result)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, body, -1, NULL)
      || (root = json_parser_get_root (parser)) == NULL)
    {
      *result = BODY_RAISES;   /* json.loads raises: no ack at all */
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      *result = BODY_RAISES;   /* .get on a list or a string raises */
      return NULL;
    }
  *result = BODY_OK;
  return json_object_ref (json_node_get_object (root));
}

static char *
body_text (JsonObject *object)
{
  return ppms_json_object_to_string (object);
}

static BodyResult
process_text (PpmsServer *server, const char *body, char **subtype, char **out_body)
{
  g_autoptr (GBytes) data = NULL;
  g_autoptr (JsonObject) object = NULL;
  PpmsFile *file;

  if (strlen (body) <= MESSAGE_MAX_TEXT_LEN)
    {
      *out_body = g_strdup (body);
      return BODY_OK;
    }
  /* Long text is stored as a text/plain file and sent as TXT (10.4). */
  data = g_bytes_new (body, strlen (body));
  file = ppms_file_add (server, NULL, "text/plain", data);
  if (file == NULL)
    return BODY_ILLEGAL;
  object = json_object_new ();
  json_object_set_string_member (object, "fid", file->uuid);
  g_free (*subtype);
  *subtype = g_strdup ("TXT");
  *out_body = body_text (object);
  return BODY_OK;
}

static BodyResult
process_txt (const char *body, char **out_body)
{
  BodyResult result;
  g_autoptr (JsonObject) in = parse_body_object (body, &result);
  g_autoptr (JsonObject) out = NULL;
  JsonNode *fid;

  if (in == NULL)
    return result;
  fid = json_object_get_member (in, "fid");
  if (fid == NULL || JSON_NODE_HOLDS_NULL (fid))
    return BODY_ILLEGAL;
  out = json_object_new ();
  json_object_set_member (out, "fid", json_node_copy (fid));
  *out_body = body_text (out);
  return BODY_OK;
}

static gboolean
image_mime_accepted (const char *mime)
{
  static const char *accepted[] = { "image/jpg", "image/jpeg", "image/png", "image/gif" };

  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    if (strcmp (mime, accepted[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
copy_member (JsonObject *to, JsonObject *from, const char *name)
{
  JsonNode *node = json_object_get_member (from, name);
  json_object_set_member (to, name, node != NULL ? json_node_copy (node) : json_node_new (JSON_NODE_NULL));
}

static BodyResult
process_image (PpmsServer *server, const char *body, char **out_body)
{
  BodyResult result;
  g_autoptr (JsonObject) in = parse_body_object (body, &result);
  g_autoptr (JsonObject) thumb = NULL;
  g_autoptr (JsonObject) out = NULL;
  g_autofree char *mime = NULL;
  const char *fid, *mime_in;
  PpmsFile *file;

  if (in == NULL)
    return result;
  fid = ppms_json_get_string (in, "fid");
  mime_in = ppms_json_get_string (in, "mime");
  if (fid == NULL || mime_in == NULL)
    return BODY_ILLEGAL;
  mime = g_ascii_strdown (mime_in, -1);
  if (!image_mime_accepted (mime) || (file = ppms_file_lookup (server, fid)) == NULL)
    return BODY_ILLEGAL;
  thumb = json_object_new ();
  if (!ppms_image_thumbnail (server, file, mime, thumb))
    return BODY_ILLEGAL;
  out = json_object_new ();
  copy_member (out, thumb, "thum");
  json_object_set_string_member (out, "orig", file->uuid);
  json_object_set_string_member (out, "mime", mime);
  copy_member (out, thumb, "orig_width");
  copy_member (out, thumb, "orig_height");
  copy_member (out, thumb, "thum_width");
  copy_member (out, thumb, "thum_height");
  *out_body = body_text (out);
  return BODY_OK;
}

static BodyResult
process_file (PpmsServer *server, const char *body, char **out_body)
{
  BodyResult result;
  g_autoptr (JsonObject) in = parse_body_object (body, &result);
  g_autoptr (JsonObject) out = NULL;
  const char *fid, *name;
  PpmsFile *file;

  if (in == NULL)
    return result;
  fid = ppms_json_get_string (in, "fid");
  if (fid == NULL || (file = ppms_file_lookup (server, fid)) == NULL)
    return BODY_ILLEGAL;
  /* The client's mime is ignored; its name wins over the uploaded one. */
  name = ppms_json_get_string (in, "name");
  out = json_object_new ();
  json_object_set_string_member (out, "fid", file->uuid);
  ppms_json_set_string_or_null (out, "mime", file->file_mime);
  json_object_set_int_member (out, "size", file->data != NULL ? (gint64) g_bytes_get_size (file->data) : 0);
  ppms_json_set_string_or_null (out, "name", name != NULL ? name : file->file_name);
  *out_body = body_text (out);
  return BODY_OK;
}

static JsonObject *
audio_format (JsonNode *dura, const char *fid)
{
  JsonObject *format = json_object_new ();

  json_object_set_member (format, "dura", json_node_copy (dura));
  json_object_set_string_member (format, "fid", fid);
  return format;
}

/* The real server converts with external tools; the double keeps the one
 * uploaded file for all three formats. */
static BodyResult
process_audio (PpmsServer *server, const char *body, char **out_body)
{
  BodyResult result;
  g_autoptr (JsonObject) in = parse_body_object (body, &result);
  g_autoptr (JsonObject) out = NULL;
  const char *fid, *mime;
  JsonNode *dura;

  if (in == NULL)
    return result;
  fid = ppms_json_get_string (in, "fid");
  mime = ppms_json_get_string (in, "mime");
  dura = json_object_get_member (in, "dura");
  if (fid == NULL || mime == NULL || dura == NULL || JSON_NODE_HOLDS_NULL (dura)
      || ppms_file_lookup (server, fid) == NULL
      || (strcmp (mime, "audio/amr") != 0 && strstr (mime, "audio/m4a") == NULL))
    return BODY_ILLEGAL;
  out = json_object_new ();
  json_object_set_object_member (out, "m4a", audio_format (dura, fid));
  json_object_set_object_member (out, "amr", audio_format (dura, fid));
  json_object_set_object_member (out, "mp3", audio_format (dura, fid));
  *out_body = body_text (out);
  return BODY_OK;
}

static BodyResult
process_body (PpmsServer *server, const char *body, char **subtype, char **out_body)
{
  if (strcmp (*subtype, "TEXT") == 0)
    return process_text (server, body, subtype, out_body);
  if (strcmp (*subtype, "TXT") == 0)
    return process_txt (body, out_body);
  if (strcmp (*subtype, "IMAGE") == 0)
    return process_image (server, body, out_body);
  if (strcmp (*subtype, "FILE") == 0)
    return process_file (server, body, out_body);
  if (strcmp (*subtype, "AUDIO") == 0)
    return process_audio (server, body, out_body);
  return BODY_ILLEGAL;   /* not one of the five accepted sub-types (7.4) */
}

/* ---- Storage (Proc.save) ---- */

static const char *required_fields[] = {
  "uuid", "conversation_uuid", "message_type", "message_subtype", "message_body",
  "from_uuid", "from_type", "to_uuid", "to_type",
};

static gboolean
has_required_fields (JsonObject *send)
{
  for (guint i = 0; i < G_N_ELEMENTS (required_fields); i++)
    if (ppms_json_get_string (send, required_fields[i]) == NULL)
      return FALSE;
  return TRUE;
}

static void
forget_message (PpmsServer *server, const char *uuid)
{
  PpmsMessage *old = ppms_message_lookup (server, uuid);
  PpmsConversation *conv;

  /* A reused uuid overwrites the earlier message (7.1). */
  if (old == NULL)
    return;
  conv = old->conversation_uuid != NULL ? ppms_conversation_lookup (server, old->conversation_uuid) : NULL;
  if (conv != NULL && conv->messages != NULL)
    g_ptr_array_remove (conv->messages, old);
  g_hash_table_remove (server->messages, uuid);
}

static PpmsConversation *
conversation_for_message (PpmsServer *server, PpmsMessage *message)
{
  PpmsConversation *conv = ppms_conversation_lookup (server, message->conversation_uuid);

  if (conv != NULL)
    return conv;
  /* An unknown conversation gets a stub record (7.1). */
  conv = g_new0 (PpmsConversation, 1);
  conv->uuid = g_strdup (message->conversation_uuid);
  conv->app_uuid = g_strdup (message->app_uuid);
  conv->conversation_type = g_strdup (message->conversation_type);
  conv->status = g_strdup ("OPEN");
  conv->createtime = message->createtime;
  conv->updatetime = message->createtime;
  ppms_store_add_conversation (server, conv);
  return ppms_conversation_lookup (server, message->conversation_uuid);
}

static void
open_conversation (PpmsServer *server, PpmsMessage *message)
{
  PpmsConversation *conv = conversation_for_message (server, message);

  if (conv == NULL)
    return;
  g_free (conv->status);
  conv->status = g_strdup ("OPEN");
  g_free (conv->latest_task);
  conv->latest_task = g_strdup (message->uuid);
  conv->updatetime = message->createtime;
  /* Every member's record is reopened and moves to the top of its list. */
  for (guint i = 0; conv->members != NULL && i < conv->members->len; i++)
    {
      PpmsMember *member = g_ptr_array_index (conv->members, i);
      g_free (member->status);
      member->status = g_strdup ("OPEN");
      member->updatetime = message->createtime;
    }
}

static PpmsMessage *
new_message (PpmsServer *server, JsonObject *send, char *subtype, char *body)
{
  PpmsMessage *message = g_new0 (PpmsMessage, 1);

  message->uuid = g_strdup (ppms_json_get_string (send, "uuid"));
  message->app_uuid = g_strdup (ppms_json_get_string (send, "app_uuid"));
  message->conversation_uuid = g_strdup (ppms_json_get_string (send, "conversation_uuid"));
  message->conversation_type = g_strdup (ppms_json_get_string (send, "conversation_type"));
  message->from_uuid = g_strdup (ppms_json_get_string (send, "from_uuid"));
  message->from_type = g_strdup (ppms_json_get_string (send, "from_type"));
  message->from_device_uuid = g_strdup (ppms_json_get_string (send, "device_uuid"));
  message->to_uuid = g_strdup (ppms_json_get_string (send, "to_uuid"));
  message->to_type = g_strdup (ppms_json_get_string (send, "to_type"));
  message->message_type = g_ascii_strup (ppms_json_get_string (send, "message_type"), -1);
  message->message_subtype = subtype;
  message->body = body;
  message->task_status = g_strdup ("PENDING");
  message->createtime = ppms_messaging_now (server);
  message->updatetime = message->createtime;
  return message;
}

/* ppms_server_set_ack_loss: TRUE when this stored message's ACK SEND is to
 * be lost; its sender's socket is aborted now or once the push went out. */
static gboolean
lose_ack (PpmsServer *server, SendItem *item, PpmsMessage *message)
{
  PpmsSocket *socket;

  if (server->ack_loss == PPMS_ACK_LOSS_NONE || item->ack_device_uuid == NULL
      || g_strcmp0 (message->from_uuid, server->ack_loss_user) != 0
      || ++server->ack_loss_sends % server->ack_loss_every != 0)
    return FALSE;
  if (server->ack_loss == PPMS_ACK_LOSS_AFTER_PUSH)
    {
      g_hash_table_replace (server->ack_loss_after_push, g_strdup (message->uuid),
                            g_strdup (item->ack_device_uuid));
      return TRUE;
    }
  socket = ppms_ws_socket_for_device (server, item->ack_device_uuid);
  if (socket != NULL)
    ppms_ws_abort (socket);
  return TRUE;
}

void
ppms_send_run (PpmsServer *server, gpointer data)
{
  SendItem *item = data;
  PpmsMessaging *state = ppms_messaging_get (server);
  char *subtype, *body = NULL;
  PpmsMessage *message;
  BodyResult result;

  if (!has_required_fields (item->send))
    {
      queue_send_ack (server, item, PPMS_WS_PARAM);
      return;
    }
  subtype = g_ascii_strup (ppms_json_get_string (item->send, "message_subtype"), -1);
  result = process_body (server, ppms_json_get_string (item->send, "message_body"), &subtype, &body);
  if (result != BODY_OK)
    {
      g_free (subtype);
      g_free (body);
      /* A body that makes the parser raise loses the message silently. */
      if (result == BODY_ILLEGAL)
        queue_send_ack (server, item, PPMS_WS_MESSAGE);
      return;
    }
  forget_message (server, ppms_json_get_string (item->send, "uuid"));
  message = new_message (server, item->send, subtype, body);
  open_conversation (server, message);
  ppms_store_add_message (server, message);
  ppms_timed_queue_push (&state->dispatch_queue, g_strdup (message->uuid));
  if (!lose_ack (server, item, message))
    queue_send_ack (server, item, PPMS_WS_NOERR);
}

/* ---- Dispatch (7.9) ---- */

static char *
compact_body (PpmsServer *server, PpmsMessage *message, JsonObject **out_object)
{
  JsonObject *object = json_object_new ();
  gboolean s2p = g_strcmp0 (message->conversation_type, "S2P") == 0;

  json_object_set_string_member (object, "id", message->uuid);
  json_object_set_string_member (object, "fi", message->from_uuid);
  /* S2P pushes go "to the app" (7.2). */
  ppms_json_set_string_or_null (object, "ti", s2p ? message->app_uuid : message->to_uuid);
  json_object_set_string_member (object, "ft", message->from_type);
  json_object_set_string_member (object, "tt", s2p ? "AP" : message->to_type);
  json_object_set_string_member (object, "mt", message->message_type);
  json_object_set_string_member (object, "ms", message->message_subtype);
  json_object_set_string_member (object, "ci", message->conversation_uuid);
  ppms_json_set_string_or_null (object, "ct", message->conversation_type);
  json_object_set_null_member (object, "tl");
  json_object_set_string_member (object, "bo", message->body);
  json_object_set_double_member (object, "ts", (double) message->createtime / G_USEC_PER_SEC);
  *out_object = object;
  return ppms_json_object_to_string (object);
}

static void
device_slots (PpmsUser *user, gboolean service, const char **browser, const char **mobile)
{
  *browser = service ? user->browser_device_uuid : user->ppcom_browser_device_uuid;
  *mobile = service ? user->mobile_device_uuid : user->ppcom_mobile_device_uuid;
}

static gboolean
device_online (PpmsServer *server, const char *device_uuid)
{
  PpmsDevice *device = device_uuid != NULL ? ppms_device_lookup (server, device_uuid) : NULL;
  return device != NULL && device->is_online;
}

/* One push record for the user, and the MSG frame with its pid for every
 * given online device (the sockets are looked up at delivery). */
static void
push_to_devices (PpmsServer *server, PpmsMessage *message, JsonObject *compact,
                 JsonObject *from_user, const char *user_uuid, const char **devices, guint n)
{
  PpmsMessaging *state = ppms_messaging_get (server);
  PpmsPush *push = g_new0 (PpmsPush, 1);
  g_autoptr (JsonNode) copy = NULL;
  g_autoptr (JsonObject) frame = json_object_new ();
  g_autofree char *text = NULL;
  JsonNode *compact_node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *msg;

  push->uuid = ppms_uuid_new ();
  push->user_uuid = g_strdup (user_uuid);
  push->message_uuid = g_strdup (message->uuid);
  push->status = g_strdup ("PUSHED");
  push->createtime = ppms_messaging_now (server);
  json_node_set_object (compact_node, compact);
  copy = json_node_copy (compact_node);
  json_node_unref (compact_node);
  msg = json_node_get_object (copy);
  json_object_set_string_member (msg, "pid", push->uuid);
  json_object_set_object_member (msg, "from_user", json_object_ref (from_user));
  json_object_set_string_member (frame, "type", "MSG");
  json_object_set_object_member (frame, "msg", json_object_ref (msg));
  text = ppms_ws_frame_text (frame);
  ppms_store_add_push (server, push);
  for (guint i = 0; i < n; i++)
    if (devices[i] != NULL)
      ppms_queue_device_frame (&state->push_queue, devices[i], g_strdup (text));
}

static void
push_to_recipient (PpmsServer *server, PpmsMessage *message, JsonObject *compact,
                   JsonObject *from_user, PpmsUser *user)
{
  const char *browser, *mobile, *online[2] = { NULL, NULL };

  device_slots (user, user->is_service_user, &browser, &mobile);
  if (device_online (server, browser))
    online[0] = browser;
  if (device_online (server, mobile) && g_strcmp0 (mobile, browser) != 0)
    online[1] = mobile;
  /* Offline recipients get nothing, not even a push record (7.9 rule 4). */
  if (online[0] == NULL && online[1] == NULL)
    return;
  push_to_devices (server, message, compact, from_user, user->uuid, online, 2);
}

/* 7.9 rule 6: the sender's other device of the same kind gets a copy. */
static void
echo_to_other_device (PpmsServer *server, PpmsMessage *message, JsonObject *compact,
                      JsonObject *from_user, PpmsUser *sender)
{
  gboolean ppcom = g_strcmp0 (message->conversation_type, "P2S") == 0;
  const char *browser, *mobile, *other = NULL;

  device_slots (sender, !ppcom, &browser, &mobile);
  if (browser == NULL || mobile == NULL || message->from_device_uuid == NULL)
    return;
  if (strcmp (message->from_device_uuid, browser) == 0)
    other = mobile;
  else if (strcmp (message->from_device_uuid, mobile) == 0)
    other = browser;
  if (other != NULL && device_online (server, other))
    push_to_devices (server, message, compact, from_user, sender->uuid, &other, 1);
}

static JsonObject *
from_user_object (PpmsServer *server, PpmsMessage *message, PpmsUser **sender)
{
  *sender = NULL;
  if (g_strcmp0 (message->from_type, "DU") != 0)
    return json_object_new ();
  *sender = ppms_user_lookup (server, message->from_uuid);
  return *sender != NULL ? ppms_user_to_from_user_json (server, *sender) : NULL;
}

void
ppms_dispatch_run (PpmsServer *server, gpointer data)
{
  PpmsMessage *message = ppms_message_lookup (server, data);
  PpmsConversation *conv;
  g_autoptr (JsonObject) compact = NULL;
  g_autoptr (JsonObject) from_user = NULL;
  PpmsUser *sender = NULL;
  gboolean from_du;
  PpmsMessaging *state = ppms_messaging_get (server);
  gpointer key = NULL, device = NULL;

  /* Rule 8: without the app the message stays PENDING, undelivered. */
  if (message == NULL || message->app_uuid == NULL || server->app == NULL
      || g_strcmp0 (message->app_uuid, server->app->uuid) != 0)
    return;
  g_free (message->message_body);
  message->message_body = compact_body (server, message, &compact);
  g_free (message->task_status);
  message->task_status = g_strdup ("PROCESSED");
  message->updatetime = ppms_messaging_now (server);
  conv = ppms_conversation_lookup (server, message->conversation_uuid);
  from_du = g_strcmp0 (message->from_type, "DU") == 0;
  from_user = from_user_object (server, message, &sender);
  for (guint i = 0; conv != NULL && conv->members != NULL && i < conv->members->len; i++)
    {
      PpmsMember *member = g_ptr_array_index (conv->members, i);
      PpmsUser *user = ppms_user_lookup (server, member->user_uuid);

      if (user == NULL || (from_du && g_strcmp0 (user->uuid, message->from_uuid) == 0))
        continue;
      /* Rule 9: an unknown sender makes the dispatcher raise. */
      if (from_user == NULL)
        return;
      push_to_recipient (server, message, compact, from_user, user);
    }
  if (sender != NULL)
    echo_to_other_device (server, message, compact, from_user, sender);
  /* Behind this message's pushes in the same queue: the abort comes after them. */
  if (server->ack_loss_after_push != NULL
      && g_hash_table_steal_extended (server->ack_loss_after_push, message->uuid, &key, &device))
    {
      ppms_queue_device_frame (&state->push_queue, device, NULL);
      g_free (key);
      g_free (device);
    }
}
