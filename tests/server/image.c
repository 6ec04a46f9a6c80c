/* image.c: image sizes read from PNG, GIF and JPEG headers, IMAGE message
 * thumbnails (protocol 7.5), the small PNG served as every identicon, and
 * pictures for tests to send.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

/* A 16x16 blue PNG. */
const guint8 ppms_identicon_png[79] = {
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
  0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x91, 0x68,
  0x36, 0x00, 0x00, 0x00, 0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf0, 0x9a, 0x70, 0x93,
  0x24, 0xc4, 0x30, 0xaa, 0x61, 0x54, 0xc3, 0xf0, 0xd5, 0x00, 0x00, 0xb3, 0x07, 0xb3, 0x10, 0x11,
  0x3c, 0x28, 0x5b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static gboolean
png_size (const guint8 *d, gsize len, guint *w, guint *h)
{
  static const guint8 magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

  if (len < 24 || memcmp (d, magic, 8) != 0 || memcmp (d + 12, "IHDR", 4) != 0)
    return FALSE;
  *w = be32 (d + 16);
  *h = be32 (d + 20);
  return TRUE;
}

static gboolean
gif_size (const guint8 *d, gsize len, guint *w, guint *h)
{
  if (len < 10 || (memcmp (d, "GIF87a", 6) != 0 && memcmp (d, "GIF89a", 6) != 0))
    return FALSE;
  *w = d[6] | d[7] << 8;
  *h = d[8] | d[9] << 8;
  return TRUE;
}

static gboolean
jpeg_size (const guint8 *d, gsize len, guint *w, guint *h)
{
  gsize i = 2;

  if (len < 4 || d[0] != 0xff || d[1] != 0xd8)
    return FALSE;
  while (i + 9 < len)
    {
      guint8 marker;
      gsize seglen;

      if (d[i] != 0xff)
        return FALSE;
      marker = d[i + 1];
      if (marker == 0xff)
        {
          i++;
          continue;
        }
      seglen = (gsize) d[i + 2] << 8 | d[i + 3];
      /* SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc). */
      if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc)
        {
          *h = (guint) d[i + 5] << 8 | d[i + 6];
          *w = (guint) d[i + 7] << 8 | d[i + 8];
          return TRUE;
        }
      if (seglen < 2)
        return FALSE;
      i += 2 + seglen;
    }
  return FALSE;
}

gboolean
ppms_image_size (GBytes *data, guint *width, guint *height)
{
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (data, &len);

  return d != NULL && (png_size (d, len, width, height) || gif_size (d, len, width, height)
                       || jpeg_size (d, len, width, height))
         && *width > 0 && *height > 0;
}

gboolean
ppms_image_thumbnail (PpmsServer *server, PpmsFile *orig, const char *mime, JsonObject *out_body)
{
  g_autofree char *lower = g_ascii_strdown (mime ? mime : "", -1);
  guint w = 0, h = 0, tw, th;
  const char *thum = orig->uuid;

  if (!ppms_image_size (orig->data, &w, &h))
    return FALSE;
  tw = w;
  th = h;
  if (!g_str_equal (lower, "image/gif") && (w > 120 || h > 160))
    {
      /* Fits 120 x 160 keeping proportions; stored as a copy of the original. */
      double scale = MIN (120.0 / w, 160.0 / h);
      tw = MAX (1, (guint) (w * scale));
      th = MAX (1, (guint) (h * scale));
      thum = ppms_file_add_copy (server, orig->file_name, lower, orig->data)->uuid;
    }
  json_object_set_string_member (out_body, "thum", thum);
  json_object_set_string_member (out_body, "orig", orig->uuid);
  json_object_set_string_member (out_body, "mime", lower);
  json_object_set_int_member (out_body, "orig_width", w);
  json_object_set_int_member (out_body, "orig_height", h);
  json_object_set_int_member (out_body, "thum_width", tw);
  json_object_set_int_member (out_body, "thum_height", th);
  return TRUE;
}

static void
png_chunk (GByteArray *png, const char *type, const guint8 *data, guint32 length)
{
  guint8 be[4] = { length >> 24, length >> 16, length >> 8, length };
  guint32 crc = 0xffffffffu;

  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, (const guint8 *) type, 4);
  g_byte_array_append (png, data, length);
  /* CRC-32 of type and data, bit by bit (PNG specification, annex D). */
  for (guint32 i = 0; i < 4 + length; i++) {
    crc ^= i < 4 ? (guint8) type[i] : data[i - 4];
    for (int bit = 0; bit < 8; bit++)
      crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  crc ^= 0xffffffffu;
  be[0] = crc >> 24, be[1] = crc >> 16, be[2] = crc >> 8, be[3] = crc;
  g_byte_array_append (png, be, 4);
}

GBytes *
ppms_test_png (guint width, guint height)
{
  static const guint8 magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  guint8 header[13] = { width >> 24, width >> 16, width >> 8, width,
                        height >> 24, height >> 16, height >> 8, height,
                        8, 2, 0, 0, 0 };  /* 8-bit RGB */
  GByteArray *png = g_byte_array_new ();
  gsize row = 1 + 3 * (gsize) width, raw_size = row * height, packed_size = 0;
  guint8 *raw = g_malloc0 (raw_size), *packed = g_malloc (raw_size + 1024);
  GConverter *zlib = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9));
  gsize read = 0;

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++) /* a gradient, so each picture has its own bytes */
      raw[y * row + 1 + 3 * x] = (guint8) (x * 255 / width),
      raw[y * row + 2 + 3 * x] = (guint8) (y * 255 / height);
  g_assert_true (g_converter_convert (zlib, raw, raw_size, packed, raw_size + 1024,
                                     G_CONVERTER_INPUT_AT_END, &read, &packed_size, NULL)
                 == G_CONVERTER_FINISHED);
  g_byte_array_append (png, magic, 8);
  png_chunk (png, "IHDR", header, 13);
  png_chunk (png, "IDAT", packed, (guint32) packed_size);
  png_chunk (png, "IEND", NULL, 0);
  g_object_unref (zlib);
  g_free (raw);
  g_free (packed);
  return g_byte_array_free_to_bytes (png);
}
