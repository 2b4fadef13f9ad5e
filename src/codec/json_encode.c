/* json_encode.c — sl_value -> compact JSON text.
 *
 * The encoder is on the hot path of every JSON sink, so it avoids formatting
 * work wherever the decoder already did it:
 *  - numbers that still carry their input text (x.raw) are copied verbatim,
 *    so "1.50", "1e3" and "-0" come out exactly as they went in;
 *  - strings and keys marked SL_VF_JSON_SAFE (decoded without any escape)
 *    are copied with one memcpy; other strings and keys are scanned for the only
 *    bytes JSON requires escaping ('"', '\\', and bytes below 0x20) eight
 *    bytes at a time when long, by table when short, and copied in runs.
 *    Non-ASCII UTF-8 passes through unescaped; the caller provides UTF-8.
 *  - a whole record that nothing changed since it was decoded from a JSON
 *    line is not encoded at all: sl_json_encode_record_line copies its
 *    frame (batch.h, sl_record_json_text).
 * Computed doubles get the shortest text that parses back to the same bits,
 * with ".0" added to integral values so they stay doubles when read back.
 * Number formatting assumes the "C" LC_NUMERIC locale (sluice never calls
 * setlocale).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/batch.h"
#include "../core/util.h"
#include "json.h"

/* Makes room for n more bytes and returns where they go; the caller then
 * adds what it wrote to len. The common case (room left) stays inline. */
static inline char *room(sl_buf *out, size_t n)
{
    if (!out->data || out->cap - out->len < n)
        sl_buf_reserve(out, n);
    return out->data + out->len;
}

static inline void put_char(sl_buf *out, char c)
{
    *room(out, 1) = c;
    out->len++;
}

static inline void put_bytes(sl_buf *out, const char *s, size_t n)
{
    memcpy(room(out, n), s, n);
    out->len += n;
}

static void put_uint(sl_buf *out, uint64_t u, bool negative)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (negative)
        *--p = '-';
    put_bytes(out, p, (size_t)(tmp + sizeof tmp - p));
}

static void put_int(sl_buf *out, int64_t i)
{
    /* 0 - (uint64_t)i is the magnitude even for INT64_MIN. */
    if (i < 0)
        put_uint(out, 0 - (uint64_t)i, true);
    else
        put_uint(out, (uint64_t)i, false);
}

/* True when any of the 8 bytes in w is '"', '\\' or below 0x20 (classic
 * "has zero byte" bit tricks, applied to w ^ '"', w ^ '\\' and w - 0x20). */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"');
    uint64_t backslash = w ^ (ones * '\\');
    uint64_t hits = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
                    ((w - ones * 0x20) & ~w);
    return (hits & highs) != 0;
}

/* For each byte: 0 when it is written as is, else the character that
 * follows the backslash in its escape ('u' for \u00XX). */
static const char escape_table[256] = {
    [0x00 ... 0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0b] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0e ... 0x1f] = 'u', ['"'] = '"', ['\\'] = '\\',
};

/* Index of the first byte of s that JSON requires escaping, or len. Long
 * strings are checked a word at a time, short ones (keys) by table. */
static inline size_t escape_scan(const char *s, size_t len)
{
    size_t i = 0;
    if (len >= 16) {
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_needs_escape(w))
                break;
        }
    }
    while (i < len && !escape_table[(unsigned char)s[i]])
        i++;
    return i;
}

/* The writers here move out->len themselves; sl_buf promises data[len] is
 * '\0' after any write (the padding always has room for it). */
static void terminate(sl_buf *out)
{
    if (out->data)
        out->data[out->len] = '\0';
}

void sl_json_encode_string(sl_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = escape_scan(s, len);
    char *p = room(out, len + 2);
    p[0] = '"';
    memcpy(p + 1, s, i);
    out->len += i + 1;
    while (i < len) {
        unsigned char c = (unsigned char)s[i++];
        p = room(out, 6);
        p[0] = '\\';
        p[1] = escape_table[c];
        if (p[1] == 'u') {
            memcpy(p + 2, "00", 2);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            out->len += 6;
        } else {
            out->len += 2;
        }
        size_t run = escape_scan(s + i, len - i);
        put_bytes(out, s + i, run);
        i += run;
    }
    put_char(out, '"');
    terminate(out);
}

void sl_json_encode_text(sl_buf *out, const char *s, size_t len)
{
    if (sl_utf8_valid(s, len)) {
        sl_json_encode_string(out, s, len);
        return;
    }
    sl_buf text;
    sl_buf_init(&text);
    sl_utf8_escape_invalid(&text, s, len, false);
    sl_json_encode_string(out, text.data, text.len);
    sl_buf_free(&text);
}

bool sl_json_format_double(sl_buf *out, double d)
{
    if (!isfinite(d))
        return false;
    /* For normal doubles any decimal of up to 15 digits survives the trip
     * through binary (DBL_DIG), so %.15g already prints the shortest form
     * when one of <= 15 digits exists. Subnormals have fewer significant
     * bits, so they start from 1 digit ("5e-324"). */
    int precision = fabs(d) < DBL_MIN && d != 0 ? 1 : 15;
    char tmp[40];
    int n = 0;
    for (; precision <= 17; precision++) {
        n = snprintf(tmp, sizeof tmp - 2, "%.*g", precision, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* Keep integral values doubles when read back: "2" -> "2.0". */
    if (!strpbrk(tmp, ".e")) {
        tmp[n++] = '.';
        tmp[n++] = '0';
    }
    put_bytes(out, tmp, (size_t)n);
    terminate(out);
    return true;
}

/* A string the decoder found free of anything to escape, in quotes; with
 * the ':' after it for a key. */
static inline void put_safe_string(sl_buf *out, const char *s, size_t len, bool key)
{
    char *p = room(out, len + 3);
    p[0] = '"';
    memcpy(p + 1, s, len);
    p[len + 1] = '"';
    p[len + 2] = ':';
    out->len += len + 2 + key;
}

static void encode_value(sl_buf *out, const sl_value *v)
{
    switch ((sl_type)v->type) {
    case SL_NULL:
        put_bytes(out, "null", 4);
        break;
    case SL_BOOL:
        if (v->as.b)
            put_bytes(out, "true", 4);
        else
            put_bytes(out, "false", 5);
        break;
    case SL_INT:
        if (v->x.raw)
            put_bytes(out, v->x.raw, v->raw_len);
        else
            put_int(out, v->as.i);
        break;
    case SL_UINT:
        if (v->x.raw)
            put_bytes(out, v->x.raw, v->raw_len);
        else
            put_uint(out, v->as.u, false);
        break;
    case SL_DOUBLE:
        if (v->x.raw)
            put_bytes(out, v->x.raw, v->raw_len);
        else if (!sl_json_format_double(out, v->as.d))
            put_bytes(out, "null", 4);
        break;
    case SL_STRING:
        if (v->flags & SL_VF_JSON_SAFE)
            put_safe_string(out, v->as.s, v->len, false);
        else
            sl_json_encode_string(out, v->as.s, v->len);
        break;
    case SL_BYTES:
        put_char(out, '"');
        sl_base64_encode(out, v->as.s, v->len);
        put_char(out, '"');
        break;
    case SL_ARRAY:
        put_char(out, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                put_char(out, ',');
            encode_value(out, &v->as.items[i]);
        }
        put_char(out, ']');
        break;
    case SL_MAP:
        put_char(out, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            const sl_field *f = &v->as.fields[i];
            if (i)
                put_char(out, ',');
            if (f->key_flags & SL_VF_JSON_SAFE) {
                put_safe_string(out, f->key, f->key_len, true);
            } else {
                sl_json_encode_string(out, f->key, f->key_len);
                put_char(out, ':');
            }
            encode_value(out, &f->value);
        }
        put_char(out, '}');
        break;
    case SL_TIMESTAMP: {
        char ts[40];
        size_t n = sl_format_rfc3339(ts, v->as.i);
        char *p = room(out, n + 2);
        p[0] = '"';
        memcpy(p + 1, ts, n);
        p[n + 1] = '"';
        out->len += n + 2;
        break;
    }
    }
}

void sl_json_encode(sl_buf *out, const sl_value *v)
{
    encode_value(out, v);
    terminate(out);
}

void sl_json_encode_record_line(sl_buf *out, const sl_record *r)
{
    size_t len;
    const char *text = sl_record_json_text(r, &len);
    if (text) {
        char *p = room(out, len + 1);
        memcpy(p, text, len);
        p[len] = '\n';
        out->len += len + 1;
        terminate(out);
        return;
    }
    encode_value(out, sl_record_value(r));
    put_char(out, '\n');
    terminate(out);
}
