/* text_chars.h — the character classes the word-based text code shares
 * (MinHash shingling, datatrove's text simplification): decoding one UTF-8
 * character with invalid bytes kept, and Unicode whitespace as Python's
 * str.split() sees it, so that words are cut where the reference tools cut
 * them.
 */
#ifndef SL_TEXT_CHARS_H
#define SL_TEXT_CHARS_H

#include <stdbool.h>
#include <stddef.h>

#include <utf8proc.h>

/* Unicode whitespace, as Python's str.split() sees it: the separators (Zs,
 * Zl, Zp) and the ASCII/Latin-1 control characters that act as spaces. */
static inline bool sl_text_is_space(utf8proc_int32_t cp)
{
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
    if (cp == 0x85) return true;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

/* Decodes the character at s[pos] into its code point and byte length *n;
 * an invalid byte reads as -1 of length 1. pos < len. */
static inline utf8proc_int32_t sl_text_char_at(const char *s, size_t len, size_t pos, size_t *n)
{
    unsigned char c = (unsigned char)s[pos];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + pos, (utf8proc_ssize_t)(len - pos), &cp);
    if (k <= 0) {
        *n = 1;
        return -1;
    }
    *n = (size_t)k;
    return cp;
}

#endif
