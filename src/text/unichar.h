/* unichar.h — the few code-point helpers the text statistics share:
 * decoding one code point the forgiving way and Python's notion of
 * whitespace.
 *
 * The reference filters are Python, so "whitespace" here is what
 * str.isspace() / str.split() accept (Unicode White_Space plus the ASCII
 * separators U+001C..U+001F), and an invalid byte decodes as one U+FFFD, so
 * that every byte sequence has a length in characters.
 */
#ifndef SL_UNICHAR_H
#define SL_UNICHAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <utf8proc.h>

/* Decodes one code point at p (left > 0 bytes); an invalid byte reads as
 * U+FFFD of length 1. Returns the bytes used. */
static inline size_t sl_uc_next(const char *p, size_t left, int32_t *cp) {
    unsigned char ch = (unsigned char)*p;
    if (ch < 0x80) {
        *cp = ch;
        return 1;
    }
    utf8proc_int32_t v;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)left, &v);
    if (n <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return (size_t)n;
}

/* Python's str.isspace(). */
static inline bool sl_uc_is_space(int32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1C && cp <= 0x1F);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

#endif
