/* simplify.c — datatrove's text simplification (see simplify.h).
 *
 * One pass over the code points. Steps 1-3 act on single characters (or,
 * for numbers, a run of them) and are applied in datatrove's order; step 4
 * is done while writing: a space is only remembered and written before the
 * next character that survives step 3, never at the start; step 5 then
 * writes the decomposed character without its non-spacing marks. As in
 * Python, step 4 runs before step 5, so a lone mark between two spaces
 * leaves two spaces, and a text that starts with a mark and a space starts
 * with a space until the final trim (step 5's).
 */
#include <stdbool.h>
#include <string.h>

#include <utf8proc.h>

#include "simplify.h"
#include "text_chars.h"

/* datatrove's PUNCTUATION beyond ASCII and the control characters. */
static const utf8proc_int32_t punctuation_other[] = {
    0x00ab, 0x00b4, 0x00bb, 0x2013, 0x2014, 0x2019, 0x201c, 0x201d, 0x201e, 0x2026, 0x2236, 0x2501,
    0x25ba, 0x3001, 0x3002, 0x3008, 0x3009, 0x300a, 0x300b, 0x300c, 0x300d, 0x3010, 0x3011, 0xff01,
    0xff05, 0xff08, 0xff09, 0xff0c, 0xff0e, 0xff11, 0xff1a, 0xff1b, 0xff1f, 0xff5e,
};

static bool is_punctuation(utf8proc_int32_t cp)
{
    if (cp < 0x80)
        return (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f ||
               (cp > 0x20 && cp < 0x7f && !(cp >= '0' && cp <= '9') && !(cp >= 'a' && cp <= 'z') &&
                !(cp >= 'A' && cp <= 'Z'));
    if (cp < 0xa0) return true;   /* C1 controls */
    for (size_t i = 0; i < sizeof punctuation_other / sizeof punctuation_other[0]; i++)
        if (punctuation_other[i] == cp) return true;
    return false;
}

static bool is_digit(utf8proc_int32_t cp)
{
    if (cp < 0x80) return cp >= '0' && cp <= '9';   /* ASCII (and -1, invalid) without a lookup */
    return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

static bool is_number_separator(utf8proc_int32_t cp)
{
    return cp == '.' || cp == ',' || cp == 0x060c || cp == 0x066b || (cp >= 0x2396 && cp <= 0x2398);
}

/* The end of the digit run starting at pos (pos itself when there is none). */
static size_t skip_digits(const char *s, size_t len, size_t pos)
{
    size_t n;
    while (pos < len && is_digit(sl_text_char_at(s, len, pos, &n))) pos += n;
    return pos;
}

/* Writes cp's canonical decomposition without non-spacing marks. */
static void put_without_marks(sl_buf *out, utf8proc_int32_t cp)
{
    utf8proc_int32_t parts[16];
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, parts, 16, UTF8PROC_DECOMPOSE, NULL);
    if (n < 0 || n > 16) {   /* cannot happen for a valid code point: keep it */
        parts[0] = cp;
        n = 1;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        if (utf8proc_category(parts[i]) == UTF8PROC_CATEGORY_MN) continue;
        utf8proc_uint8_t enc[4];
        sl_buf_append(out, enc, (size_t)utf8proc_encode_char(parts[i], enc));
    }
}

void sl_text_simplify(const char *s, size_t len, sl_buf *out)
{
    out->len = 0;
    bool started = false, space = false;
    size_t pos = 0, n;
    while (pos < len) {
        utf8proc_int32_t cp = sl_text_char_at(s, len, pos, &n);
        if (is_digit(cp)) {                       /* step 2 */
            pos = skip_digits(s, len, pos);
            if (pos < len && is_number_separator(sl_text_char_at(s, len, pos, &n))) {
                size_t after = skip_digits(s, len, pos + n);
                if (after > pos + n) pos = after;
            }
            cp = '0';
            n = 0;
        } else if (cp >= 0) {
            cp = cp < 0x80 ? (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp) : utf8proc_tolower(cp);   /* step 1 */
            if (is_punctuation(cp)) cp = ' ';       /* step 3 */
        }
        pos += n;
        if (cp >= 0 && sl_text_is_space(cp)) {     /* step 4 */
            space = started;
            continue;
        }
        if (space) sl_buf_putc(out, ' ');
        space = false;
        started = true;
        if (cp < 0) sl_buf_puts(out, "\xef\xbf\xbd");   /* an invalid byte: U+FFFD */
        else if (cp < 0x80) sl_buf_putc(out, (char)cp);
        else put_without_marks(out, cp);          /* step 5 */
    }
    while (out->len && out->data[out->len - 1] == ' ') out->len--;
    size_t lead = 0;
    while (lead < out->len && out->data[lead] == ' ') lead++;
    if (lead) {
        memmove(out->data, out->data + lead, out->len - lead);
        out->len -= lead;
    }
}
