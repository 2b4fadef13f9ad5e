/* norm_inert.c — the table of code points a normalization leaves alone
 * (see norm_inert.h), computed once per process for each set of options,
 * when a `normalize` first meets text that is not ASCII.
 *
 * Two sweeps over every code point: the first marks the code points that
 * follow a starter in some canonical decomposition (all but the first of
 * each full decomposition: every second half of a composition is among
 * them); the second keeps those with combining class 0 that, when
 * composing, are not marked, and that decompose to themselves or, when
 * composing, compose back to themselves from a decomposition whose first
 * code point is an unmarked starter. utf8proc_decompose_char
 * is called only for code points utf8proc lists a decomposition or case
 * fold for, and Hangul syllables (about 20,000): the sweep takes a few
 * milliseconds.
 */
#include "norm_inert.h"

#include <pthread.h>
#include <stdlib.h>

#define HANGUL_FIRST 0xAC00
#define HANGUL_LAST 0xD7A3

/* Does utf8proc have anything to decompose c into under options? */
static bool may_decompose(utf8proc_int32_t c, const utf8proc_property_t *p, utf8proc_option_t options) {
    if (c >= HANGUL_FIRST && c <= HANGUL_LAST) return true;
    if ((options & UTF8PROC_CASEFOLD) && p->casefold_seqindex != UINT16_MAX) return true;
    return p->decomp_seqindex != UINT16_MAX;
}

/* c's decomposition under options into out (at most cap code points);
 * returns its length (-1 on an error: treated as not inert). */
static utf8proc_ssize_t decompose(utf8proc_int32_t c, utf8proc_option_t options, utf8proc_int32_t *out,
                                  utf8proc_ssize_t cap) {
    int last_boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(c, out, cap, options, &last_boundclass);
    return n > cap ? -1 : n;
}

static sl_norm_inert *build(utf8proc_option_t options) {
    sl_norm_inert *t = calloc(1, sizeof *t);
    sl_norm_inert *follows = calloc(1, sizeof *follows);   /* bit set: follows a starter somewhere */
    if (!t || !follows) {
        free(t);
        free(follows);
        return NULL;
    }
    utf8proc_int32_t d[32];
    bool compose = options & UTF8PROC_COMPOSE;
    for (utf8proc_int32_t c = 0; compose && c < SL_NORM_INERT_CODE_POINTS; c++) {
        const utf8proc_property_t *p = utf8proc_get_property(c);
        if (!may_decompose(c, p, UTF8PROC_DECOMPOSE)) continue;
        utf8proc_ssize_t n = decompose(c, UTF8PROC_DECOMPOSE, d, 32);
        for (utf8proc_ssize_t i = 1; i < n; i++)
            if (d[i] >= 0 && d[i] < SL_NORM_INERT_CODE_POINTS) follows->bits[d[i] >> 6] |= 1ULL << (d[i] & 63);
    }
    for (utf8proc_int32_t c = 0; c < SL_NORM_INERT_CODE_POINTS; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;   /* surrogates: never in valid UTF-8 */
        const utf8proc_property_t *p = utf8proc_get_property(c);
        if (p->combining_class != 0 || sl_norm_inert_has(follows, c)) continue;
        if (may_decompose(c, p, options)) {
            utf8proc_ssize_t n = decompose(c, options, d, 32);
            if (n < 1) continue;
            if (n > 1 || d[0] != c) {
                /* Composing, a precomposed character (é) is inert when it
                 * composes back to itself and the first code point of its
                 * decomposition is a starter that nothing before it joins. */
                if (!compose || utf8proc_get_property(d[0])->combining_class != 0 || sl_norm_inert_has(follows, d[0]))
                    continue;
                if (utf8proc_normalize_utf32(d, n, options) != 1 || d[0] != c) continue;
            }
        }
        t->bits[c >> 6] |= 1ULL << (c & 63);
    }
    free(follows);
    return t;
}

/* One table per set of options a process uses (a handful at most: the
 * normalization forms, with or without case folding). */
#define MAX_TABLES 16

static struct {
    utf8proc_option_t options;
    sl_norm_inert *table;
} tables[MAX_TABLES];
static size_t n_tables;
static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;

const sl_norm_inert *sl_norm_inert_get(utf8proc_option_t options) {
    pthread_mutex_lock(&tables_lock);
    sl_norm_inert *t = NULL;
    for (size_t i = 0; i < n_tables && !t; i++)
        if (tables[i].options == options) t = tables[i].table;
    if (!t && n_tables < MAX_TABLES && (t = build(options))) {
        tables[n_tables].options = options;
        tables[n_tables++].table = t;
    }
    pthread_mutex_unlock(&tables_lock);
    return t;
}
