/* decode_error.c — quoting input in decode error messages (see
 * decode_error.h): a frame can hold any bytes, a message must stay valid
 * UTF-8 without control characters, because DLQ entries (JSON) and logs
 * carry it.
 */
#include "decode_error.h"

#include <string.h>

#include "../core/buf.h"
#include "../core/util.h"

const char *sl_decode_error_excerpt(char *out, size_t cap, const char *s, size_t len)
{
    if (cap < 4) {   /* no room for an excerpt */
        if (cap > 0) out[0] = '\0';
        return out;
    }
    sl_buf text;
    sl_buf_init(&text);
    /* Each byte gives at least one: cap bytes of input fill the excerpt. */
    sl_utf8_escape_invalid(&text, s, len < cap ? len : cap, true);
    size_t n = text.len;
    if (n >= cap) {
        /* Keep room for "..." and the NUL, and do not cut a character (nor a
         * \xNN escape) in half. */
        n = cap - 4;
        while (n > 0 && ((unsigned char)text.data[n] & 0xC0) == 0x80) n--;
        for (size_t back = 1; back <= 3 && back <= n; back++)
            if (text.data[n - back] == '\\') {
                n -= back;
                break;
            }
    }
    if (n > 0) memcpy(out, text.data, n);
    if (n < text.len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    sl_buf_free(&text);
    return out;
}
