/* simple_regex.c — the backtracking-free anchored regex subset of
 * simple_regex.h, matched by a greedy byte loop (see there for why the
 * greedy match is PCRE2's match for this subset).
 */
#include <string.h>

#include "simple_regex.h"

#define UNBOUNDED UINT32_MAX
#define REPEAT_LIMIT 65535u   /* PCRE2's own limit for {n,m} */

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_literal(char c) {
    return is_alnum(c) || (c != 0 && strchr("-_@:/,=%&~!#'\"<>;` ", c));
}

static void add(sl_simple_regex *re, unsigned char c) {
    re->member[c] |= 1u << re->n;
}

/* Same kind of character (digit, lower, upper), so a range a-b is what it looks like. */
static int kind(char c) {
    return c >= '0' && c <= '9' ? 1 : c >= 'a' && c <= 'z' ? 2 : c >= 'A' && c <= 'Z' ? 3 : 0;
}

/* Parses "[...]" at p[*i] (after '['); false when outside the subset. */
static bool parse_class(const char *p, size_t end, size_t *i, sl_simple_regex *re) {
    size_t start = *i;
    while (*i < end && p[*i] != ']') {
        char c = p[*i];
        if (c == '-' && *i > start && *i + 1 < end && p[*i + 1] == ']') {
            add(re, '-');   /* a '-' last is itself */
        } else if (is_alnum(c) && *i + 2 < end && p[*i + 1] == '-' && p[*i + 2] != ']') {
            char hi = p[*i + 2];
            if (!kind(c) || kind(c) != kind(hi) || hi < c) return false;
            for (char x = c; x <= hi; x++) add(re, (unsigned char)x);
            *i += 2;
        } else if (is_alnum(c) || c == '_') {
            add(re, (unsigned char)c);
        } else {
            return false;
        }
        (*i)++;
    }
    if (*i >= end || *i == start) return false;
    (*i)++;   /* ']' */
    return true;
}

static bool parse_count(const char *p, size_t end, size_t *i, uint32_t *out) {
    size_t start = *i;
    uint32_t v = 0;
    while (*i < end && p[*i] >= '0' && p[*i] <= '9' && v <= REPEAT_LIMIT) v = v * 10 + (uint32_t)(p[(*i)++] - '0');
    *out = v;
    return *i > start && v <= REPEAT_LIMIT;
}

/* Parses a quantifier at p[*i], if any, into min/max. */
static bool parse_quantifier(const char *p, size_t end, size_t *i, uint32_t *min, uint32_t *max) {
    *min = *max = 1;
    if (*i >= end) return true;
    switch (p[*i]) {
    case '+': *max = UNBOUNDED; (*i)++; break;
    case '*': *min = 0; *max = UNBOUNDED; (*i)++; break;
    case '?': *min = 0; (*i)++; break;
    case '{':
        (*i)++;
        if (!parse_count(p, end, i, min)) return false;
        *max = *min;
        if (*i < end && p[*i] == ',') {
            (*i)++;
            *max = UNBOUNDED;
            if (*i < end && p[*i] != '}' && (!parse_count(p, end, i, max) || *max < *min)) return false;
        }
        if (*i >= end || p[*i] != '}') return false;
        (*i)++;
        break;
    default: return true;
    }
    return *i >= end || (p[*i] != '?' && p[*i] != '+');   /* lazy and possessive: not here */
}

bool sl_simple_regex_compile(const char *p, size_t len, sl_simple_regex *re) {
    memset(re, 0, sizeof *re);
    if (len < 2 || p[0] != '^' || p[len - 1] != '$') return false;
    size_t i = 1, end = len - 1;
    while (i < end) {
        if (re->n == SL_SIMPLE_REGEX_MAX) return false;
        if (p[i] == '[') {
            i++;
            if (!parse_class(p, end, &i, re)) return false;
        } else if (is_literal(p[i])) {
            add(re, (unsigned char)p[i++]);
        } else {
            return false;
        }
        if (!parse_quantifier(p, end, &i, &re->atoms[re->n].min, &re->atoms[re->n].max)) return false;
        re->n++;
    }
    for (size_t k = 0; k + 1 < re->n; k++) {
        if (re->atoms[k].min == re->atoms[k].max) continue;
        if (re->atoms[k + 1].min == 0) return false;
        uint32_t both = 3u << k;
        for (int c = 0; c < 256; c++)
            if ((re->member[c] & both) == both) return false;
    }
    return true;
}

int sl_simple_regex_match(const sl_simple_regex *re, const char *s, size_t len) {
    /* `$` may match before a final newline, which PCRE2's build decides
     * (LF, CR, CRLF, any Unicode newline): those subjects go to PCRE2. */
    if (len > 0) {
        unsigned char last = (unsigned char)s[len - 1];
        if ((last >= '\n' && last <= '\r') || last >= 0x80) return -1;
    }
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (size_t k = 0; k < re->n; k++) {
        uint32_t bit = 1u << k;
        size_t left = (size_t)(end - p), max = re->atoms[k].max < left ? re->atoms[k].max : left, count = 0;
        while (count < max && (re->member[p[count]] & bit)) count++;
        if (count < re->atoms[k].min) return 0;
        p += count;
    }
    return p == end;
}
