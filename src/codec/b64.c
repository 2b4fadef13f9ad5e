/* b64.c — base64 for sketch and index images (see b64.h). Decoding is
 * strict: the exact form sl_base64_encode writes (length a multiple of 4,
 * padding only at the end, unused bits zero), so every accepted text
 * re-encodes to itself.
 */
#include "b64.h"

#include <stdlib.h>
#include <string.h>

#include "../codec/json_state.h"
#include "../core/util.h"

/* The value of each base64 digit, -1 for other bytes. */
static const int8_t digits[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Decodes the quad at p into 24 bits; negative when a byte is no digit. */
static int32_t quad(const char *p) {
    int32_t d0 = digits[(unsigned char)p[0]], d1 = digits[(unsigned char)p[1]];
    int32_t d2 = digits[(unsigned char)p[2]], d3 = digits[(unsigned char)p[3]];
    if ((d0 | d1 | d2 | d3) < 0) return -1;
    return d0 << 18 | d1 << 12 | d2 << 6 | d3;
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
    size_t o = 0, i = 0;
    for (; i + 4 < len; i += 4) {   /* every quad but the last: no padding */
        int32_t w = quad(text + i);
        if (w < 0) { free(buf); return false; }
        buf[o++] = (uint8_t)(w >> 16);
        buf[o++] = (uint8_t)(w >> 8);
        buf[o++] = (uint8_t)w;
    }
    if (len) {
        char last[4] = {text[i], text[i + 1], pad == 2 ? 'A' : text[i + 2], pad ? 'A' : text[i + 3]};
        int32_t w = quad(last);
        if (w < 0 || (pad == 2 && (w & 0xffff)) || (pad == 1 && (w & 0xff))) { free(buf); return false; }
        buf[o++] = (uint8_t)(w >> 16);
        if (o < n) buf[o++] = (uint8_t)(w >> 8);
        if (o < n) buf[o++] = (uint8_t)w;
    }
    *out = buf;
    *out_len = n;
    return true;
}

uint8_t *sl_b64_state_array(const sl_value *state, const char *key, uint64_t n, size_t size, sl_error *err) {
    const sl_value *v = sl_state_get(state, key);
    uint8_t *bytes;
    size_t len;
    if (!v || v->type != SL_STRING || !sl_quality_b64_decode(v->as.s, v->len, &bytes, &len)) {
        sl_errorf(err, "\"%s\" is missing or not base64", key);
        return NULL;
    }
    if (len % size != 0 || len / size != n) {
        free(bytes);
        sl_errorf(err, "\"%s\" holds %zu bytes, not %llu entries of %zu bytes", key, len, (unsigned long long)n,
                  size);
        return NULL;
    }
    return bytes;
}

void sl_b64_writer_init(sl_b64_writer *w, sl_buf *out) {
    w->out = out;
    w->len = 0;
}

void sl_b64_writer_finish(sl_b64_writer *w) {
    sl_base64_encode(w->out, w->chunk, w->len);
    w->len = 0;
}

/* Makes room for n more bytes (n <= 8), encoding the chunk when full. */
static uint8_t *reserve(sl_b64_writer *w, size_t n) {
    if (w->len + n > sizeof w->chunk) {
        size_t whole = w->len - w->len % 3;
        sl_base64_encode(w->out, w->chunk, whole);
        memmove(w->chunk, w->chunk + whole, w->len - whole);
        w->len -= whole;
    }
    uint8_t *p = w->chunk + w->len;
    w->len += n;
    return p;
}

void sl_b64_put_u16(sl_b64_writer *w, uint16_t v) {
    uint8_t *p = reserve(w, 2);
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void sl_b64_put_u32(sl_b64_writer *w, uint32_t v) {
    uint8_t *p = reserve(w, 4);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void sl_b64_put_u64(sl_b64_writer *w, uint64_t v) {
    uint8_t *p = reserve(w, 8);
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void sl_b64_put_bytes(sl_b64_writer *w, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        if (w->len == sizeof w->chunk) {   /* full, and a multiple of 3: encodes alone */
            sl_base64_encode(w->out, w->chunk, w->len);
            w->len = 0;
        }
        size_t take = sizeof w->chunk - w->len < n ? sizeof w->chunk - w->len : n;
        memcpy(w->chunk + w->len, b, take);
        w->len += take;
        b += take;
        n -= take;
    }
}
