/* b64.c — strict base64 decoding for sketch images (see b64.h). Strict means
 * the exact form sl_base64_encode writes: length a multiple of 4, padding
 * only at the end, unused bits zero; so every accepted text re-encodes to
 * itself.
 */
#include "b64.h"

#include <stdlib.h>

static int digit(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool sl_quality_b64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len) {
    if (len % 4 != 0)
        return false;
    size_t pad = 0;
    if (len >= 1 && text[len - 1] == '=') pad++;
    if (len >= 2 && text[len - 2] == '=') pad++;
    size_t n = len / 4 * 3 - pad;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int d[4];
        bool last = i + 4 == len;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)text[i + j];
            if (c == '=' && last && (size_t)j >= 4 - pad) { d[j] = 0; continue; }
            d[j] = digit(c);
            if (d[j] < 0) { free(buf); return false; }
        }
        uint32_t w = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 | (uint32_t)d[3];
        if (last && pad == 2 && (w & 0xffff)) { free(buf); return false; }
        if (last && pad == 1 && (w & 0xff)) { free(buf); return false; }
        buf[o++] = (uint8_t)(w >> 16);
        if (o < n) buf[o++] = (uint8_t)(w >> 8);
        if (o < n) buf[o++] = (uint8_t)w;
    }
    *out = buf;
    *out_len = n;
    return true;
}
