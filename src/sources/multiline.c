/* multiline.c — joining continuation lines into events (see multiline.h).
 *
 * The start pattern is tested against each line without its line break
 * ("\n" or "\r\n"). A frame is found by scanning lines from the start of the
 * buffer each time, so an event that waits for its end is scanned again on
 * the next call: events are short (max_lines), and the caller only calls
 * again when input arrived or a timeout passed.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "multiline.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "../expr/expr.h"

struct sl_multiline {
    pcre2_code *start;
    pcre2_match_data *match;
    size_t max_lines;
};

sl_multiline *sl_multiline_new(const char *start, size_t max_lines, sl_error *err)
{
    size_t off;
    pcre2_code *re = sl_expr_regex_compile(start, strlen(start), err, &off);
    if (!re) return NULL;
    sl_multiline *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->start = re;
    m->match = pcre2_match_data_create_from_pattern(re, NULL);
    if (!m->match) abort();
    m->max_lines = max_lines ? max_lines : 1;
    return m;
}

void sl_multiline_free(sl_multiline *m)
{
    if (!m) return;
    pcre2_match_data_free(m->match);
    pcre2_code_free(m->start);
    free(m);
}

/* Whether the line p[0..len) (its line break included, if any) starts an
 * event. */
static bool starts_event(sl_multiline *m, const char *p, size_t len)
{
    if (len > 0 && p[len - 1] == '\n') len--;
    if (len > 0 && p[len - 1] == '\r') len--;
    return pcre2_match(m->start, (PCRE2_SPTR)p, len, 0, 0, m->match, NULL) >= 0;
}

size_t sl_multiline_frame(sl_multiline *m, const char *p, size_t len, size_t max_bytes,
                          sl_multiline_mode mode)
{
    const char *nl = memchr(p, '\n', len);
    if (!nl) return mode == SL_MULTILINE_END ? len : 0;
    size_t end = (size_t)(nl - p) + 1;   /* the event so far: its first line */
    for (size_t lines = 1; lines < m->max_lines; lines++) {
        const char *line = p + end;
        size_t rest = len - end;
        if (rest == 0) return mode == SL_MULTILINE_MORE ? 0 : end;
        nl = memchr(line, '\n', rest);
        size_t line_len = nl ? (size_t)(nl - line) + 1 : rest;
        if (!nl) {
            /* The next line is incomplete: it may still turn out to continue
             * this event, unless the input ended or paused, or it cannot fit. */
            if (mode == SL_MULTILINE_FLUSH || end + rest > max_bytes) return end;
            if (mode == SL_MULTILINE_MORE) return 0;
        }
        if (end + line_len > max_bytes || starts_event(m, line, line_len)) return end;
        end += line_len;
    }
    return end;
}
