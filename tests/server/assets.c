/* assets.c: the public web assets a client can read keys from (transcript
 * 10): the PPKefu page and bundle (PPKEFU key), the PPCom library (PPCOM key
 * and secret) and the PPCom embed page. Small stand-ins with the real
 * textual forms, not the PPMessage project's files.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

static const char ppkefu_page[] =
  "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>PPKefu</title>\n"
  "<link href=\"css/lib.min.css\" rel=\"stylesheet\">\n"
  "<link href=\"css/ionic.ppmessage.min.css\" rel=\"stylesheet\">\n"
  "<link rel=\"shortcut icon\" href=\"img/favicon.ico\">\n</head>\n"
  "<body ng-app=\"ppmessage\">\n<ion-nav-view></ion-nav-view>\n"
  "<script src=\"js/lib.min.js\"></script>\n"
  "<script src=\"js/ppkefu.min.js\"></script>\n"
  "<script src=\"js/templates.min.js\"></script>\n</body>\n</html>\n";

static void
respond_text (SoupServerMessage *msg, const char *content_type, const char *text, gboolean static_file)
{
  if (static_file)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Accept-Ranges", "bytes");
  ppms_respond_bytes (msg, SOUP_STATUS_OK, content_type, text, strlen (text));
}

static char *
ppkefu_bundle (PpmsServer *server)
{
  const char *key = ppms_server_ppkefu_key (server);

  return g_strdup_printf (
      "!function(){\"use strict\";var e=function(t){return[].indexOf(t)!==-1}}();"
      "window.ppmessage={version:\"1.1.2\",developer_mode:!1,api_key:\"%s\",disableOnbeforeunload:!1};"
      "var ppmessageModule=angular.module(\"ppmessage\",[\"ionic\"]);\n", key ? key : "");
}

static char *
ppcom_library (PpmsServer *server)
{
  const char *key = ppms_server_ppcom_key (server), *secret = ppms_server_ppcom_secret (server);

  return g_strdup_printf (
      "var __extends = function(child, parent) {\n"
      "  child.prototype = Object.create(parent.prototype);\n"
      "  child.prototype.constructor = child;\n}\n\n"
      "//PP Configuration\n"
      "Configuration = {\n"
      "    api_key: '%s',\n"
      "    api_secret: '%s',\n"
      "    assets_path: '%s/ppcom/assets/',\n"
      "    web_socket_url: '%s://127.0.0.1:%u/pcsocket/WS',\n"
      "    api: '%s/api',\n"
      "    auth: '%s/ppauth',\n"
      "    file_upload_url: '%s/upload/upload/',\n"
      "    file_upload_txt_url: '%s/ppkefu/upload/',\n"
      "    file_download_url: '%s/download/download/'\n"
      "};\n\n"
      "(function(Service) {\n"
      "    Service.$defaults = {\n"
      "                api_key: null,\n"
      "                api_secret: null,\n"
      "                app_uuid: null\n"
      "    };\n"
      "})(window.Service = window.Service || {});\n",
      key ? key : "", secret ? secret : "", server->url,
      server->tls_certificate ? "wss" : "ws", server->port, server->url, server->url,
      server->url, server->url, server->url);
}

/* /ppcom/enterprise/<base64 JSON {uuid, app_name}>: echoes the uuid, no lookup. */
static void
enterprise_page (SoupServerMessage *msg, const char *encoded)
{
  gsize len = 0;
  g_autofree guchar *raw = g_base64_decode (encoded, &len);
  g_autofree char *text = g_strndup ((const char *) raw, len);
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *uuid = NULL;
  g_autofree char *page = NULL;

  if (json_parser_load_from_data (parser, text, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    uuid = ppms_json_get_string (json_node_get_object (json_parser_get_root (parser)), "uuid");
  if (uuid == NULL || strpbrk (uuid, "\"<>\\") != NULL)
    {
      ppms_respond_html_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  page = g_strdup_printf (
      "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
      "<script src=\"/ppcom/assets/pp-library.min.js\" type=\"text/javascript\"></script>\n"
      "</head>\n<body>\n<script>\nwindow.ppSettings = {\napp_uuid: \"%s\" ,\nview: {\n"
      "launcherContainerBottomMargin: \"200px\",\nlauncherContainerRightMargin: \"20px\"\n}\n};\n"
      "</script>\n</body>\n</html>\n", uuid);
  respond_text (msg, "text/html; charset=UTF-8", page, FALSE);
}

/* The first-run wizard's JSON answers (transcript 00). The double is always
 * configured, so the status is RESTART (a fresh real server says NONE). */
static void
ppconfig (SoupServerMessage *msg, const char *step)
{
  static const char *const steps[] = { "server", "database", "first", "restart", NULL };
  const char *body;

  if (g_str_equal (step, "status"))
    body = "{\"status\": \"RESTART\", \"ip\": \"127.0.0.1\"}";
  else if (g_strv_contains (steps, step))
    body = "{\"error_code\": 0}";
  else
    {
      ppms_respond_html_error (msg, SOUP_STATUS_NOT_FOUND);
      return;
    }
  respond_text (msg, "application/json; charset=UTF-8", body, FALSE);
}

gboolean
ppms_assets_handle (PpmsServer *server, SoupServerMessage *msg, const char *path)
{
  g_autofree char *generated = NULL;

  if (g_str_equal (path, "/ppkefu/"))
    respond_text (msg, "text/html; charset=UTF-8", ppkefu_page, FALSE);
  else if (g_str_equal (path, "/ppkefu/js/ppkefu.min.js"))
    respond_text (msg, "text/javascript", (generated = ppkefu_bundle (server)), TRUE);
  else if (g_str_equal (path, "/ppcom/assets/pp-library.min.js"))
    respond_text (msg, "text/javascript", (generated = ppcom_library (server)), TRUE);
  else if (g_str_has_prefix (path, "/ppcom/enterprise/"))
    enterprise_page (msg, path + strlen ("/ppcom/enterprise/"));
  else if (g_str_has_prefix (path, "/ppconfig/"))
    ppconfig (msg, path + strlen ("/ppconfig/"));
  else if (g_str_equal (path, "/ppconsole/"))
    respond_text (msg, "text/html; charset=UTF-8",
                  "<!DOCTYPE html>\n<html><head><title>PPConsole</title></head><body></body></html>\n", FALSE);
  else
    return FALSE;
  return TRUE;
}
