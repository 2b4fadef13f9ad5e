/* pii.c — the built-in personal-data detectors (see pii.h).
 *
 * Every scanner walks the text once, starts a candidate only at a word
 * boundary, reads the longest plausible shape (digit groups and separators,
 * an address around an '@'), and hands it to the detector's validator.
 * Boundaries do most of the work against false positives: a digit run glued
 * to a letter, a dot or a dash (versions such as v2.10.4, UUIDs, hashes,
 * timestamps such as 2026-11-24T01:02:03) never starts or ends a hit.
 * A boundary is judged on the code point, not the byte: a letter of any
 * script continues a word, a no-break or ideographic space, a curly quote
 * or an angle bracket does not.
 * The validators then check what a shape alone cannot: checksums (Luhn,
 * mod-97), ranges (IPv4 octets, SSN areas), known card prefixes and IBAN
 * lengths, and the structure of phone numbers.
 */
#include "pii.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- character classes (the formats are ASCII; boundaries are Unicode) ---- */

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_alnum(unsigned char c) { return is_digit(c) || is_alpha(c); }
static bool is_hex(unsigned char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

/* The index of the first ASCII digit in s[i, len), or len. Every detector
 * but email starts at a digit, and most text has few: sixteen bytes are
 * tested at once where SSE2 is there (every x86-64). The comparisons are
 * signed, so bytes of 0x80 or more, below '0', are never digits. */
static size_t next_digit(const char *s, size_t len, size_t i) {
#if defined(__SSE2__)
    const __m128i below = _mm_set1_epi8('0' - 1), above = _mm_set1_epi8('9' + 1);
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int digits = _mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(x, below), _mm_cmplt_epi8(x, above)));
        if (digits) return i + (size_t)__builtin_ctz((unsigned)digits);
    }
#endif
    while (i < len && !is_digit((unsigned char)s[i])) i++;
    return i;
}

/* A code point that belongs to a word: ASCII letters, digits and '_', and
 * any non-ASCII letter, mark or number (Unicode L*, M*, N*). Non-ASCII
 * spaces (no-break, thin, ideographic), quotes and brackets (" <) are
 * boundaries like their ASCII cousins. An invalid byte counts as part of a
 * word, so that garbage never opens a hit. */
static bool cp_is_word(int32_t cp) {
    if (cp < 0) return true;
    if (cp < 0x80) return is_alnum((unsigned char)cp) || cp == '_';
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
}

/* The code point that starts at i (i < len), or -1 when the bytes there are
 * not valid UTF-8. */
static int32_t cp_at(const char *s, size_t len, size_t i) {
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp) <= 0) return -1;
    return cp;
}

/* True when the character starting at byte i is part of a word (false at the end). */
static bool word_at(const char *s, size_t len, size_t i) {
    if (i >= len) return false;
    unsigned char c = (unsigned char)s[i];
    return c < 0x80 ? is_alnum(c) || c == '_' : cp_is_word(cp_at(s, len, i));
}

/* True when the character that ends just before byte i is part of a word
 * (false at the start). */
static bool word_before(const char *s, size_t i) {
    if (i == 0) return false;
    unsigned char c = (unsigned char)s[i - 1];
    if (c < 0x80) return is_alnum(c) || c == '_';
    size_t b = i - 1;
    while (b > 0 && i - b < 4 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
    return cp_is_word(cp_at(s, i, b));
}

/* The byte at i, or 0 past the end. */
static unsigned char byte_at(const char *s, size_t len, size_t i) {
    return i < len ? (unsigned char)s[i] : 0;
}

/* True when a number ending at `end` really ends there: the next byte is not
 * part of a word, and not a separator that continues the number (".5",
 * "-12", "/2026", ":30", ",000"). */
static bool number_ends_at(const char *s, size_t len, size_t end) {
    unsigned char c = byte_at(s, len, end);
    if (end >= len) return true;
    if (word_at(s, len, end) || c == '@') return false;
    if (c == '.' || c == '-' || c == '/' || c == ':' || c == ',' || c == '+')
        return !is_digit(byte_at(s, len, end + 1));
    return true;
}

/* True when a number may start at i: the previous byte is not part of a
 * word or of a longer number ("1.", "-", "/", "+", "@"). A ':' is allowed
 * after a letter ("tel:+1...", "ip:10.0.0.1") but not after a digit (times). */
static bool number_starts_at(const char *s, size_t i) {
    if (i == 0) return true;
    unsigned char p = (unsigned char)s[i - 1];
    if (word_before(s, i) || p == '.' || p == '-' || p == '/' || p == '+' || p == '@' || p == '#' || p == '$')
        return false;
    if (p == ':') return i < 2 || !is_digit((unsigned char)s[i - 2]);
    return true;
}

/* ---- span lists ---- */

void sl_pii_spans_push(sl_pii_spans *l, size_t start, size_t end, int detector) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        sl_pii_span *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            fprintf(stderr, "sluice: out of memory\n");
            abort();
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = (sl_pii_span){start, end, detector};
}

void sl_pii_spans_free(sl_pii_spans *l) {
    free(l->items);
    *l = (sl_pii_spans){0};
}

static int span_order(const void *a, const void *b) {
    const sl_pii_span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1;
    return (x->detector > y->detector) - (x->detector < y->detector);
}

void sl_pii_resolve(sl_pii_spans *l) {
    if (l->count < 2) return;
    qsort(l->items, l->count, sizeof *l->items, span_order);
    size_t kept = 1;
    for (size_t i = 1; i < l->count; i++)
        if (l->items[i].start >= l->items[kept - 1].end) l->items[kept++] = l->items[i];
    l->count = kept;
}

enum { HAS_DIGIT = 1, HAS_AT = 2, HAS_COLON = 4, HAS_UPPER = 8 };

/* Byte classes for the prefilter: one table load and an OR per byte (for
 * what SSE2 does not take sixteen at a time). */
static const unsigned char byte_class[256] = {
    ['0'] = HAS_DIGIT, ['1'] = HAS_DIGIT, ['2'] = HAS_DIGIT, ['3'] = HAS_DIGIT, ['4'] = HAS_DIGIT,
    ['5'] = HAS_DIGIT, ['6'] = HAS_DIGIT, ['7'] = HAS_DIGIT, ['8'] = HAS_DIGIT, ['9'] = HAS_DIGIT,
    ['@'] = HAS_AT, [':'] = HAS_COLON,
    ['A'] = HAS_UPPER, ['B'] = HAS_UPPER, ['C'] = HAS_UPPER, ['D'] = HAS_UPPER, ['E'] = HAS_UPPER,
    ['F'] = HAS_UPPER, ['G'] = HAS_UPPER, ['H'] = HAS_UPPER, ['I'] = HAS_UPPER, ['J'] = HAS_UPPER,
    ['K'] = HAS_UPPER, ['L'] = HAS_UPPER, ['M'] = HAS_UPPER, ['N'] = HAS_UPPER, ['O'] = HAS_UPPER,
    ['P'] = HAS_UPPER, ['Q'] = HAS_UPPER, ['R'] = HAS_UPPER, ['S'] = HAS_UPPER, ['T'] = HAS_UPPER,
    ['U'] = HAS_UPPER, ['V'] = HAS_UPPER, ['W'] = HAS_UPPER, ['X'] = HAS_UPPER, ['Y'] = HAS_UPPER,
    ['Z'] = HAS_UPPER,
};

unsigned sl_pii_candidates(const char *s, size_t len) {
    unsigned seen = 0;
    size_t i = 0;
#if defined(__SSE2__)
    /* sixteen bytes at a time: each vector collects, lane by lane, whether
     * a byte of its class was seen (signed comparisons: bytes of 0x80 or
     * more are below '0') */
    __m128i digits = _mm_setzero_si128(), uppers = digits, ats = digits, colons = digits;
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        digits = _mm_or_si128(digits, _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                                  _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1))));
        uppers = _mm_or_si128(uppers, _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                                                  _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1))));
        ats = _mm_or_si128(ats, _mm_cmpeq_epi8(x, _mm_set1_epi8('@')));
        colons = _mm_or_si128(colons, _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
    }
    seen = (_mm_movemask_epi8(digits) ? HAS_DIGIT : 0) | (_mm_movemask_epi8(uppers) ? HAS_UPPER : 0) |
           (_mm_movemask_epi8(ats) ? HAS_AT : 0) | (_mm_movemask_epi8(colons) ? HAS_COLON : 0);
#endif
    for (; i < len; i++) seen |= byte_class[(unsigned char)s[i]];
    bool digit = seen & HAS_DIGIT, at = seen & HAS_AT, colon = seen & HAS_COLON, upper = seen & HAS_UPPER;
    unsigned m = 0;
    if (at) m |= 1u << SL_PII_EMAIL;
    if (digit) m |= 1u << SL_PII_PHONE | 1u << SL_PII_CREDIT_CARD | 1u << SL_PII_SSN;
    if (digit || colon) m |= 1u << SL_PII_IP;
    if (digit && upper) m |= 1u << SL_PII_IBAN;
    return m;
}

/* ---- shared output helpers ---- */

/* Copies s, replacing each digit by '*' except the first `keep_head` and
 * the last `keep_tail` digits. */
static void mask_digits(const char *s, size_t len, size_t keep_head, size_t keep_tail, sl_buf *out) {
    size_t total = 0;
    for (size_t i = 0; i < len; i++) total += is_digit((unsigned char)s[i]);
    size_t seen = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (is_digit((unsigned char)c)) {
            seen++;
            if (seen > keep_head && seen + keep_tail <= total) c = '*';
        }
        sl_buf_putc(out, c);
    }
}

void sl_pii_partial_generic(const char *s, size_t len, sl_buf *out) {
    size_t total = 0;
    for (size_t i = 0; i < len; i++) total += is_alnum((unsigned char)s[i]);
    size_t seen = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (is_alnum((unsigned char)c) && ++seen + 4 <= total) c = '*';
        sl_buf_putc(out, c);
    }
}

/* Canonical form: the letters and digits only, uppercased ("+1 (415)
 * 555-2671" and "14155552671" hash alike; a leading '+' is kept). */
static void canonical_alnum(const char *s, size_t len, sl_buf *out) {
    if (len && s[0] == '+') sl_buf_putc(out, '+');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_alnum(c)) sl_buf_putc(out, (char)(is_alpha(c) ? c & ~0x20 : c));
    }
}

/* ---- email ---- */

static bool email_local_char(unsigned char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool email_domain_char(unsigned char c) {
    return is_alnum(c) || c == '.' || c == '-';
}

static bool email_validate(const char *s, size_t len) {
    const char *at = memchr(s, '@', len);
    if (!at) return false;
    size_t local = (size_t)(at - s), dlen = len - local - 1;
    const char *d = at + 1;
    if (local == 0 || local > 64 || dlen == 0 || dlen > 253) return false;
    if (s[0] == '.' || s[local - 1] == '.') return false;
    for (size_t i = 0; i < local; i++) {
        if (!email_local_char((unsigned char)s[i])) return false;
        if (s[i] == '.' && s[i + 1] == '.') return false;
    }
    /* Labels: 1-63 characters, no leading or trailing '-'; the last one (the
     * top-level domain) is 2+ letters; at least two labels. */
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= dlen; i++) {
        if (i < dlen && d[i] != '.') {
            if (!email_domain_char((unsigned char)d[i])) return false;
            continue;
        }
        size_t n = i - start;
        if (n == 0 || n > 63 || d[start] == '-' || d[i - 1] == '-') return false;
        labels++;
        if (i == dlen) {
            if (n < 2) return false;
            for (size_t k = start; k < i; k++)
                if (!is_alpha((unsigned char)d[k])) return false;
        }
        start = i + 1;
    }
    return labels >= 2;
}

static void email_scan(const char *s, size_t len, int detector, sl_pii_spans *out) {
    size_t pos = 0, min_start = 0;   /* min_start: a hit may not start before the previous one ends */
    const char *at;
    while (pos < len && (at = memchr(s + pos, '@', len - pos))) {
        size_t a = (size_t)(at - s);
        size_t b = a;
        while (b > min_start && email_local_char((unsigned char)s[b - 1])) b--;
        while (b < a && s[b] == '.') b++;
        size_t e = a + 1;
        while (e < len && email_domain_char((unsigned char)s[e])) e++;
        while (e > a + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) e--;
        bool bounded = !word_before(s, b) && !(b > 0 && s[b - 1] == '@') && byte_at(s, len, e) != '@' &&
                       !word_at(s, len, e);
        if (b < a && e > a + 1 && bounded && email_validate(s + b, e - b)) {
            sl_pii_spans_push(out, b, e, detector);
            pos = min_start = e;
        } else {
            pos = a + 1;
        }
    }
}

/* j***@example.com */
static void email_partial(const char *s, size_t len, sl_buf *out) {
    const char *at = memchr(s, '@', len);
    sl_buf_putc(out, s[0]);
    sl_buf_puts(out, "***");
    sl_buf_append(out, at, len - (size_t)(at - s));
}

static void email_canonical(const char *s, size_t len, sl_buf *out) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        sl_buf_putc(out, (char)(is_upper(c) ? c | 0x20 : c));
    }
}

/* ---- phone numbers ---- */

#define PHONE_MAX_GROUPS 8

/* A candidate phone number: an optional '+', then digit groups separated by
 * one ' ', '-' or '.', a group possibly in parentheses. */
typedef struct phone_shape {
    bool plus;
    int n;
    size_t start[PHONE_MAX_GROUPS], end[PHONE_MAX_GROUPS];   /* digits of group i */
    char sep[PHONE_MAX_GROUPS];      /* separator before group i, 0 when none */
    bool paren[PHONE_MAX_GROUPS];
} phone_shape;

/* Reads the groups of a candidate starting at i (a '+', '(' or digit);
 * stops before a group that would take it over 15 digits. */
static void phone_read(const char *s, size_t len, size_t i, phone_shape *ph) {
    ph->n = 0;
    ph->plus = s[i] == '+';
    size_t p = i + ph->plus, digits = 0;
    while (ph->n < PHONE_MAX_GROUPS) {
        size_t q = p;
        char sep = 0;
        unsigned char c = byte_at(s, len, q);
        if (ph->n > 0) {
            if (c == ' ' || c == '-' || c == '.') {
                sep = (char)c;
                q++;
            } else if (!ph->paren[ph->n - 1] && c != '(') {
                break;
            }
            if (ph->paren[ph->n - 1] && sep == '.') break;
        }
        bool paren = byte_at(s, len, q) == '(';
        q += paren;
        if (!is_digit(byte_at(s, len, q))) break;
        size_t gs = q;
        while (is_digit(byte_at(s, len, q))) q++;
        if (paren && byte_at(s, len, q) != ')') break;
        if (digits + (q - gs) > 15) break;
        digits += q - gs;
        ph->start[ph->n] = gs;
        ph->end[ph->n] = q;
        ph->sep[ph->n] = sep;
        ph->paren[ph->n] = paren;
        ph->n++;
        p = q + paren;
    }
}

static size_t group_len(const phone_shape *ph, int g) { return ph->end[g] - ph->start[g]; }

/* Length of the country calling code at the start of digits d (ITU
 * zones: 1 and 7 are one digit, a list of two-digit codes, the rest three). */
static size_t country_code_len(const char *d) {
    if (d[0] == '1' || d[0] == '7') return 1;
    static const char two[] = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 "
                              "58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98";
    for (size_t i = 0; i + 1 < sizeof two; i += 3)
        if (two[i] == d[0] && two[i + 1] == d[1]) return 2;
    return 3;
}

/* International: +CC then the number, 7-15 digits. */
static bool phone_international_ok(const char *s, const phone_shape *ph, int k, size_t digits) {
    if (digits < 7 || s[ph->start[0]] == '0' || ph->paren[0]) return false;
    if (k == 1) return true;                               /* +14155552671 */
    if (group_len(ph, 0) > 3 || group_len(ph, k - 1) < 2) return false;
    int short_groups = 0;
    for (int g = 1; g < k; g++) {
        if (group_len(ph, g) > 8 || (ph->paren[g] && g != 1)) return false;
        short_groups += group_len(ph, g) == 1;
    }
    return short_groups <= 1;
}

/* North American: [1 ](415) 555-2671, 415-555-2671, 415.555.2671, 415 555 2671. */
static bool phone_nanp_ok(const char *s, const phone_shape *ph, int k) {
    int j = 0;
    if (k == 4 && group_len(ph, 0) == 1 && s[ph->start[0]] == '1' && !ph->paren[0]) j = 1;
    if (k - j != 3 || group_len(ph, j) != 3 || group_len(ph, j + 1) != 3 || group_len(ph, j + 2) != 4)
        return false;
    if (s[ph->start[j]] < '2' || s[ph->start[j + 1]] < '2') return false;
    if (ph->paren[j + 1] || ph->paren[j + 2]) return false;
    char a = ph->sep[j + 1], b = ph->sep[j + 2];
    if (ph->paren[j]) {
        if (a == '.' || b == 0) return false;
    } else if (a == 0 || a != b) {
        return false;
    }
    if (j == 1 && (ph->sep[1] == 0 || (!ph->paren[1] && ph->sep[1] != a))) return false;
    return true;
}

/* National with a trunk prefix: 020 7946 0958, (030) 1234567, 01 23 45 67 89. */
static bool phone_trunk_ok(const char *s, const phone_shape *ph, int k, size_t digits) {
    if (k < 2 || digits < 10 || digits > 12) return false;
    size_t g0 = group_len(ph, 0);
    if (s[ph->start[0]] != '0' || g0 < 2 || g0 > 5 || s[ph->start[0] + 1] == '0') return false;
    char sep = ph->sep[k - 1];
    if (sep != ' ' && sep != '-') return false;
    for (int g = 1; g < k; g++) {
        if (ph->paren[g] || group_len(ph, g) < 2 || group_len(ph, g) > 8) return false;
        if (ph->sep[g] != sep && !(g == 1 && ph->paren[0])) return false;
    }
    return true;
}

static bool phone_shape_ok(const char *s, const phone_shape *ph, int k) {
    size_t digits = 0;
    for (int g = 0; g < k; g++) digits += group_len(ph, g);
    if (digits < 7 || digits > 15) return false;
    if (ph->plus) return phone_international_ok(s, ph, k, digits);
    return phone_nanp_ok(s, ph, k) || phone_trunk_ok(s, ph, k, digits);
}

static bool phone_validate(const char *s, size_t len) {
    if (len == 0 || !(s[0] == '+' || s[0] == '(' || is_digit((unsigned char)s[0]))) return false;
    phone_shape ph;
    phone_read(s, len, 0, &ph);
    if (ph.n == 0) return false;
    size_t end = ph.end[ph.n - 1] + ph.paren[ph.n - 1];
    return end == len && phone_shape_ok(s, &ph, ph.n);
}

static void phone_scan(const char *s, size_t len, int detector, sl_pii_spans *out) {
    for (size_t i = 0; i < len; i++) {
        /* the first place a number may start: a digit, or '+' or '(' before one */
        size_t d = next_digit(s, len, i);
        if (d == len) break;
        i = d > i && (s[d - 1] == '+' || s[d - 1] == '(') ? d - 1 : d;
        unsigned char c = (unsigned char)s[i];
        if (!(is_digit(c) || ((c == '+' || c == '(') && is_digit(byte_at(s, len, i + 1)))) ||
            !number_starts_at(s, i))
            continue;
        phone_shape ph;
        phone_read(s, len, i, &ph);
        /* The longest prefix of the groups that is a phone number and ends
         * at a boundary (two numbers in a row are two hits). */
        for (int k = ph.n; k > 0; k--) {
            size_t end = ph.end[k - 1] + ph.paren[k - 1];
            if (number_ends_at(s, len, end) && phone_shape_ok(s, &ph, k)) {
                sl_pii_spans_push(out, i, end, detector);
                i = end - 1;
                break;
            }
        }
    }
}

/* +1 *** *** 2671: the country code and the last four digits stay. */
static void phone_partial(const char *s, size_t len, sl_buf *out) {
    size_t head = 0;
    if (s[0] == '+') {
        size_t g = 1;
        while (g < len && is_digit((unsigned char)s[g])) g++;
        head = g < len ? g - 1 : country_code_len(s + 1);
    }
    mask_digits(s, len, head, 4, out);
}

/* ---- IP addresses ---- */

/* Dotted quad at i: four decimal octets <= 255 without leading zeros.
 * Returns the end, or 0. */
static size_t ipv4_read(const char *s, size_t len, size_t i) {
    size_t p = i;
    for (int k = 0; k < 4; k++) {
        if (k > 0) {
            if (byte_at(s, len, p) != '.') return 0;
            p++;
        }
        size_t d = p;
        unsigned v = 0;
        while (is_digit(byte_at(s, len, p)) && p - d < 4) v = v * 10 + (unsigned)(s[p++] - '0');
        size_t n = p - d;
        if (n == 0 || n > 3 || v > 255 || (n > 1 && s[d] == '0')) return 0;
    }
    return p;
}

static bool ip_validate(const char *s, size_t len) {
    char text[64];
    if (len == 0 || len >= sizeof text) return false;
    memcpy(text, s, len);
    text[len] = 0;
    unsigned char addr[16];
    if (memchr(s, ':', len)) {
        bool hex = false;
        for (size_t i = 0; i < len; i++) hex |= is_hex((unsigned char)s[i]);
        return hex && inet_pton(AF_INET6, text, addr) == 1;
    }
    return inet_pton(AF_INET, text, addr) == 1;
}

/* True when the word before position i is a version marker ("v 1.3.0.1",
 * "version 1.2.3.4", "release 10.0.0.1"): a dotted quad there is a
 * version, not an address. */
static bool after_version_word(const char *s, size_t i) {
    static const char *const words[] = {"v", "ver", "version", "rev", "revision", "release", "build", NULL};
    size_t e = i;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t') && i - e < 2) e--;
    size_t b = e;
    while (b > 0 && is_alpha((unsigned char)s[b - 1]) && e - b < 8) b--;
    if (b == e || word_before(s, b)) return false;
    for (int w = 0; words[w]; w++)
        if (strlen(words[w]) == e - b && strncasecmp(words[w], s + b, e - b) == 0) return true;
    return false;
}

static bool ipv6_char(unsigned char c) { return is_hex(c) || c == ':' || c == '.'; }

/* IPv6 is found from its colons (memchr), IPv4 from its digits; a quad
 * inside an IPv6 hit ("::ffff:192.0.2.128") belongs to that hit. */
static void ip_scan(const char *s, size_t len, int detector, sl_pii_spans *out) {
    size_t first = out->count, pos = 0;
    const char *colon;
    while (pos < len && (colon = memchr(s + pos, ':', len - pos))) {
        /* the run of hex digits, ':' and '.' around this colon */
        size_t b = (size_t)(colon - s), e = b, colons = 0;
        while (b > pos && ipv6_char((unsigned char)s[b - 1])) b--;
        while (e < len && ipv6_char((unsigned char)s[e])) colons += s[e++] == ':';
        pos = e;
        while (b < e && s[b] == '.') b++;
        size_t end = e;
        while (end > b && s[end - 1] == '.') end--;
        if (end > b + 1 && s[end - 1] == ':' && s[end - 2] != ':') end--;
        if (colons >= 2 && !word_before(s, b) && !word_at(s, len, e) &&
            ip_validate(s + b, end - b))
            sl_pii_spans_push(out, b, end, detector);
    }
    size_t v6_end = out->count, next6 = first;
    for (size_t i = 0; i < len; i++) {
        if (next6 < v6_end && i >= out->items[next6].start) {
            i = out->items[next6++].end - 1;
            continue;
        }
        if (!is_digit((unsigned char)s[i])) {   /* on to the next digit, not past an IPv6 hit */
            size_t d = next_digit(s, len, i);
            if (next6 < v6_end && d > out->items[next6].start) d = out->items[next6].start;
            i = d - 1;
            continue;
        }
        /* IPv4 may follow ':', '@', '=' ("ip:10.0.0.1") or a URL's "//", not
         * a word, a dot, a dash or a single slash ("libfoo-2.6.32.1",
         * "curl/8.8.8.8" are versions) */
        if (i > 0 && (word_before(s, i) || s[i - 1] == '.' || s[i - 1] == '-' ||
                      (s[i - 1] == '/' && !(i > 1 && s[i - 2] == '/'))))
            continue;
        /* a port (":8080") or a prefix length ("/24") may follow, not a
         * word, a further ".digit" or a "-word" ("5.10.0.1-amd64") */
        size_t end = ipv4_read(s, len, i);
        unsigned char next = byte_at(s, len, end);
        bool ends = !word_at(s, len, end) && !(next == '.' && is_digit(byte_at(s, len, end + 1))) &&
                    !(next == '-' && word_at(s, len, end + 1));
        if (next6 < v6_end && end > out->items[next6].start) continue;
        if (end && ends && ip_validate(s + i, end - i) && !after_version_word(s, i)) {
            sl_pii_spans_push(out, i, end, detector);
            i = end - 1;
        }
    }
    if (v6_end > first && out->count > v6_end)
        qsort(out->items + first, out->count - first, sizeof *out->items, span_order);
}

static void ip_partial(const char *s, size_t len, sl_buf *out) {
    if (memchr(s, ':', len)) {   /* keep the first group: 2001:****:... */
        size_t i = 0;
        while (i < len && s[i] != ':') sl_buf_putc(out, s[i++]);
        for (; i < len; i++) sl_buf_putc(out, s[i] == ':' || s[i] == '.' ? s[i] : '*');
        return;
    }
    size_t dots = 0;   /* keep the first octet: 192.*.*.* */
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            dots++;
            sl_buf_putc(out, '.');
        } else if (dots == 0) {
            sl_buf_putc(out, s[i]);
        } else if (s[i - 1] == '.') {
            sl_buf_putc(out, '*');
        }
    }
}

/* Canonical text (inet_ntop) so "2001:DB8::1" and "2001:db8:0::1" hash alike. */
static void ip_canonical(const char *s, size_t len, sl_buf *out) {
    char text[64], back[64];
    unsigned char addr[16];
    int family = memchr(s, ':', len) ? AF_INET6 : AF_INET;
    if (len < sizeof text) {
        memcpy(text, s, len);
        text[len] = 0;
        if (inet_pton(family, text, addr) == 1 && inet_ntop(family, addr, back, sizeof back)) {
            sl_buf_puts(out, back);
            return;
        }
    }
    sl_buf_append(out, s, len);
}

/* ---- credit cards ---- */

static bool luhn_ok(const char *d, size_t n) {
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[n - 1 - i] - '0');
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

static unsigned prefix(const char *d, int n) {
    unsigned v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (unsigned)(d[i] - '0');
    return v;
}

/* Known issuer prefixes (IIN ranges) and their lengths. */
static bool card_issuer_ok(const char *d, size_t n) {
    unsigned p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4), p6 = prefix(d, 6);
    if (d[0] == '4') return n == 13 || n == 16 || n == 19;                          /* Visa */
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;       /* Mastercard */
    if (p2 == 34 || p2 == 37) return n == 15;                                       /* Amex */
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) return n >= 16;         /* Discover */
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return n >= 14; /* Diners */
    if (p4 >= 3528 && p4 <= 3589) return n >= 16;                                   /* JCB */
    if (p2 == 62) return n >= 16;                                                   /* UnionPay */
    if (p2 == 50 || (p2 >= 56 && p2 <= 58) || p4 == 6304 || p4 == 6759 || p6 == 676770 ||
        p6 == 676774)
        return true;                                                                /* Maestro */
    return false;
}

static bool card_validate(const char *s, size_t len) {
    char d[19];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_digit(c)) {
            if (n == sizeof d) return false;
            d[n++] = (char)c;
        } else if (c != ' ' && c != '-') {
            return false;
        }
    }
    return n >= 13 && card_issuer_ok(d, n) && luhn_ok(d, n);
}

/* Group layouts a card number is printed in: one run of 13-19 digits, or
 * 4-4-4-4 (plus 1-3), 4-4-4-1..3, 4-6-5 (Amex), 4-6-4 (Diners). */
static bool card_layout_ok(const size_t *g, int k) {
    if (k == 1) return g[0] >= 13 && g[0] <= 19;
    if (k == 3 && g[0] == 4 && g[1] == 6) return g[2] == 5 || g[2] == 4;
    if (k < 4 || k > 5) return false;
    for (int i = 0; i < 3; i++)
        if (g[i] != 4) return false;
    if (k == 4) return g[3] >= 1 && g[3] <= 4;
    return g[3] == 4 && g[4] >= 1 && g[4] <= 3;
}

static void card_scan(const char *s, size_t len, int detector, sl_pii_spans *out) {
    for (size_t i = 0; i < len; i++) {
        if ((i = next_digit(s, len, i)) == len) break;
        if (!number_starts_at(s, i)) continue;
        size_t g[5], ends[5], digits = 0, p = i;
        char sep = 0;
        int k = 0;
        while (k < 5) {
            size_t q = p;
            char c = 0;
            if (k > 0) {
                c = (char)byte_at(s, len, q);
                if ((c != ' ' && c != '-') || (sep && c != sep)) break;
                q++;
            }
            size_t gs = q;
            while (is_digit(byte_at(s, len, q))) q++;
            if (q == gs || digits + (q - gs) > 19) break;
            if (c) sep = c;
            digits += q - gs;
            g[k] = q - gs;
            ends[k++] = p = q;
        }
        for (; k > 0; k--) {
            /* "4242 4242 4242 4242 1234" is not a card followed by a number */
            bool more = sep && byte_at(s, len, ends[k - 1]) == sep && is_digit(byte_at(s, len, ends[k - 1] + 1));
            if (!more && card_layout_ok(g, k) && number_ends_at(s, len, ends[k - 1]) &&
                card_validate(s + i, ends[k - 1] - i)) {
                sl_pii_spans_push(out, i, ends[k - 1], detector);
                i = ends[k - 1] - 1;
                break;
            }
        }
    }
}

/* **** **** **** 4242 */
static void card_partial(const char *s, size_t len, sl_buf *out) {
    mask_digits(s, len, 0, 4, out);
}

/* ---- IBAN ---- */

/* IBAN lengths of the common countries (ISO 13616 registry). */
static const struct {
    char cc[3];
    unsigned char len;
} iban_countries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BR", 29}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18},
    {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
    {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
    {"IL", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LI", 21},
    {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25},
    {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
    {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VG", 24}, {"XK", 20},
};

static size_t iban_length(const char *cc) {
    for (size_t i = 0; i < sizeof iban_countries / sizeof iban_countries[0]; i++)
        if (iban_countries[i].cc[0] == cc[0] && iban_countries[i].cc[1] == cc[1]) return iban_countries[i].len;
    return 0;
}

static bool iban_validate(const char *s, size_t len) {
    char c[34];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ') continue;
        if (!(is_upper(ch) || is_digit(ch)) || n == sizeof c) return false;
        c[n++] = (char)ch;
    }
    if (n < 4 || !is_upper((unsigned char)c[0]) || !is_upper((unsigned char)c[1]) ||
        !is_digit((unsigned char)c[2]) || !is_digit((unsigned char)c[3]))
        return false;
    if (n != iban_length(c)) return false;
    unsigned check = prefix(c + 2, 2);
    if (check < 2 || check > 98) return false;
    /* mod 97 of the digits of BBAN + country + check, letters as 10..35 */
    unsigned rem = 0;
    for (size_t k = 0; k < n; k++) {
        char ch = c[(k + 4) % n];
        if (is_digit((unsigned char)ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

static void iban_scan(const char *s, size_t len, int detector, sl_pii_spans *out) {
    for (size_t i = 0; i + 4 <= len; i++) {
        i = next_digit(s, len, i + 2) - 2;   /* the check digits come third */
        if (i + 4 > len) break;
        if (!is_upper((unsigned char)s[i]) || !is_upper((unsigned char)s[i + 1]) ||
            !is_digit((unsigned char)s[i + 2]) || !is_digit((unsigned char)s[i + 3]) ||
            word_before(s, i))
            continue;
        size_t want = iban_length(s + i);
        if (!want) continue;
        /* Read `want` letters and digits, allowing one space after every
         * group of four (the printed form). */
        size_t p = i, n = 0;
        while (n < want && p < len) {
            unsigned char c = (unsigned char)s[p];
            if (is_upper(c) || is_digit(c)) {
                n++;
                p++;
            } else if (c == ' ' && n % 4 == 0 && is_alnum(byte_at(s, len, p + 1))) {
                p++;
            } else {
                break;
            }
        }
        if (n == want && !word_at(s, len, p) && iban_validate(s + i, p - i)) {
            sl_pii_spans_push(out, i, p, detector);
            i = p - 1;
        }
    }
}

/* GB82 **** **** **** **54 32: the country, the check digits and the last
 * four characters stay. */
static void iban_partial(const char *s, size_t len, sl_buf *out) {
    size_t total = 0;
    for (size_t i = 0; i < len; i++) total += s[i] != ' ';
    size_t seen = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c != ' ' && ++seen > 4 && seen + 4 <= total) c = '*';
        sl_buf_putc(out, c);
    }
}

/* ---- US social security numbers ---- */

static bool ssn_validate(const char *s, size_t len) {
    if (len != 11 || s[3] != '-' || s[6] != '-') return false;
    for (size_t i = 0; i < len; i++)
        if (i != 3 && i != 6 && !is_digit((unsigned char)s[i])) return false;
    unsigned area = prefix(s, 3), group = prefix(s + 4, 2), serial = prefix(s + 7, 4);
    return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

static void ssn_scan(const char *s, size_t len, int detector, sl_pii_spans *out) {
    for (size_t i = 0; i + 11 <= len; i++) {
        if ((i = next_digit(s, len, i)) + 11 > len) break;
        if (s[i + 3] != '-' || !number_starts_at(s, i)) continue;
        if (number_ends_at(s, len, i + 11) && ssn_validate(s + i, 11)) {
            sl_pii_spans_push(out, i, i + 11, detector);
            i += 10;
        }
    }
}

/* ***-**-6789 */
static void ssn_partial(const char *s, size_t len, sl_buf *out) {
    mask_digits(s, len, 0, 4, out);
}

/* ---- the table ---- */

const sl_pii_detector sl_pii_detectors[SL_PII_BUILTIN_COUNT] = {
    [SL_PII_EMAIL] = {"email", "EMAIL", email_scan, email_validate, email_partial, email_canonical},
    [SL_PII_PHONE] = {"phone", "PHONE", phone_scan, phone_validate, phone_partial, canonical_alnum},
    [SL_PII_IP] = {"ip", "IP", ip_scan, ip_validate, ip_partial, ip_canonical},
    [SL_PII_CREDIT_CARD] = {"credit_card", "CREDIT_CARD", card_scan, card_validate, card_partial,
                            canonical_alnum},
    [SL_PII_IBAN] = {"iban", "IBAN", iban_scan, iban_validate, iban_partial, canonical_alnum},
    [SL_PII_SSN] = {"ssn", "SSN", ssn_scan, ssn_validate, ssn_partial, canonical_alnum},
};

const sl_pii_detector *sl_pii_find(const char *name) {
    for (int i = 0; i < SL_PII_BUILTIN_COUNT; i++)
        if (strcmp(sl_pii_detectors[i].name, name) == 0) return &sl_pii_detectors[i];
    return NULL;
}
