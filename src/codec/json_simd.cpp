/* json_simd.cpp — one JSON text -> one sl_value, on simdjson's On-Demand API.
 *
 * The JSON walker: a thin layer between simdjson's On-Demand API and the C
 * record model. On-Demand builds our tree with no intermediate tape
 * (measured on 400-byte events: ~6% fewer instructions than DOM parse + tree
 * build, although it does more: DOM cannot give the raw text of numbers nor
 * pointers into the input for zero-copy strings, and copies every string).
 *
 * One source, one build per SIMD kernel. simdjson 3.0.1 compiles On-Demand
 * for the kernel the compiler flags allow, so this file is built without
 * -m flags (entry sl_json_decode_generic: simdjson's `fallback` kernel on
 * x86-64) and, on x86-64, again with SL_JSON_KERNEL=haswell and =icelake and
 * their instruction sets (cmake/json_kernels.cmake); json_kernel.cpp calls the
 * build that matches the stage-1 kernel simdjson picked for the CPU, so the
 * whole of simdjson's work runs on one kernel. Everything here but the entry
 * point has internal linkage; what the headers define is renamed per kernel
 * at build time (see that CMake file for why).
 *
 * How a document is decoded:
 *  - simdjson's stage 1 (SIMD, runtime-dispatched to the best kernel) checks
 *    UTF-8, unescaped control characters and unclosed strings of the whole
 *    input; the walk below then visits every value, so everything is checked.
 *  - Fields and array items are collected on per-thread scratch stacks and
 *    copied into the arena once per container, at its exact size.
 *  - Strings without a backslash point into the input and are marked
 *    SL_VF_JSON_SAFE (no quote, backslash or control character inside, so the
 *    encoder can copy them verbatim); others are unescaped by simdjson and
 *    copied into the arena. Keys likewise (key_flags).
 *  - Duplicate keys: the last value wins at the first key's position (the
 *    sl_map_set policy). Small objects are checked while they are built (a
 *    64-bit mask of key classes skips the scan for keys surely new); objects
 *    above SMALL_OBJECT fields get a sort-based pass at the end. A document
 *    where any key was merged gets SL_VF_DUPLICATE_KEYS on its root.
 *  - Check only (a null arena, sl_json_check): the same walk with the same
 *    checks and errors, but nothing is stored: no strings copied, no
 *    containers built, only the keys of the objects being walked are kept on
 *    the scratch stack to find duplicates, so the root's flags are exact.
 *  - Errors: our own checks (depth, number range, trailing content, object
 *    required) produce their message directly. When simdjson reports a syntax
 *    problem, the (cold) diagnose_syntax() re-scans the input to name exactly
 *    what was expected and what was found at which byte offset.
 *
 * Nothing here throws: simdjson is used through its error-code API and the
 * scratch stacks are malloc'd. The entry point still catches everything at
 * the C boundary, so no exception can ever unwind into C code.
 */
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <simdjson.h>

extern "C" {
#include "json.h"
}
#include "json_kernel.h"

#ifdef SL_JSON_KERNEL
#define SL_JSON_CAT(a, b) a##b
#define SL_JSON_ENTRY(k) SL_JSON_CAT(sl_json_decode_, k)
#define SL_JSON_DECODE SL_JSON_ENTRY(SL_JSON_KERNEL)
#else
#define SL_JSON_DECODE sl_json_decode_generic
#endif

namespace {

namespace od = simdjson::builtin::ondemand;
using simdjson::error_code;

static_assert(SL_BUF_PADDING >= simdjson::SIMDJSON_PADDING,
              "sl_buf padding must cover simdjson's read-ahead");

/* max_depth above this is clamped: the walk recurses once per level. */
static const unsigned MAX_DEPTH_LIMIT = 1024;
/* Objects up to this many fields are checked for duplicate keys as they are
 * built (a linear scan); larger ones get one sort-based pass at the end. */
static const size_t SMALL_OBJECT = 32;

/* Per-thread scratch: the fields and items of the containers being built,
 * innermost last, plus the index array of the large-object duplicate pass. */
struct scratch {
    sl_field *fields = nullptr;
    size_t nfields = 0, cap_fields = 0;
    sl_value *items = nullptr;
    size_t nitems = 0, cap_items = 0;
    uint32_t *order = nullptr;
    size_t cap_order = 0;

    ~scratch() { free(fields); free(items); free(order); }
};

static thread_local od::parser tl_parser;
static thread_local scratch tl_scratch;

struct decoder {
    sl_arena *arena;      /* null: check only, build nothing */
    const char *input;
    size_t len;
    unsigned max_depth;
    sl_decode_error *err;
    scratch *st;
    bool merged;          /* a duplicate key was merged (SL_VF_DUPLICATE_KEYS) */
};

/* Grows a scratch array; allocation failure aborts, as for the arena. */
static void *grow(void *p, size_t *cap, size_t elem)
{
    size_t n = *cap ? *cap * 2 : 64;
    void *q = realloc(p, n * elem);
    if (!q) {
        fprintf(stderr, "sluice: out of memory in the JSON decoder\n");
        abort();
    }
    *cap = n;
    return q;
}

/* ---------------------------------------------------------------- errors */

static int fail(decoder &d, const char *reason, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(decoder &d, const char *reason, size_t offset, const char *fmt, ...)
{
    d.err->reason = reason;
    d.err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.err->msg, sizeof d.err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Describes the byte at p for a message: "'x'", "byte 0x01" or "end of input". */
static const char *describe(const char *p, const char *end, char buf[16])
{
    if (p >= end)
        return "end of input";
    unsigned char c = (unsigned char)*p;
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

/* Offset of the first byte that is not part of valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or len. */
static size_t utf8_error_offset(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) n = 1;
        else if (c == 0xe0) { n = 2; lo = 0xa0; }
        else if (c == 0xed) { n = 2; hi = 0x9f; }
        else if (c >= 0xe1 && c <= 0xef) n = 2;
        else if (c == 0xf0) { n = 3; lo = 0x90; }
        else if (c == 0xf4) { n = 3; hi = 0x8f; }
        else if (c >= 0xf1 && c <= 0xf3) n = 3;
        else return i;
        if (i + n >= len) return i;                 /* truncated */
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) return i;
        i += n + 1;
    }
    return len;
}

static int utf8_error(decoder &d)
{
    size_t off = utf8_error_offset((const unsigned char *)d.input, d.len);
    if (off >= d.len)
        return fail(d, "json_utf8", 0, "invalid UTF-8 in the input");
    return fail(d, "json_utf8", off, "invalid UTF-8 at offset %zu (byte 0x%02x)",
                off, (unsigned char)d.input[off]);
}

/* The cold path behind every syntax error simdjson reports: a small strict
 * recursive-descent checker that finds the first problem and says what was
 * expected and what was found. It never allocates. */
struct syntax_scan {
    const char *start, *p, *end;
    unsigned max_depth;
    decoder *d;
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_delimiter(char c)
{
    return is_ws(c) || c == ',' || c == ':' || c == ']' || c == '}' || c == '[' || c == '{' || c == '"';
}

static void scan_ws(syntax_scan &s)
{
    while (s.p < s.end && is_ws(*s.p))
        s.p++;
}

static int scan_fail(syntax_scan &s, const char *reason, const char *what)
{
    char buf[16];
    size_t off = (size_t)(s.p - s.start);
    return fail(*s.d, reason, off, "invalid JSON at offset %zu: %s, found %s",
                off, what, describe(s.p, s.end, buf));
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (p + i >= end) return -1;
        char c = p[i];
        unsigned x;
        if (c >= '0' && c <= '9') x = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') x = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') x = (unsigned)(c - 'A' + 10);
        else return -1;
        v = v * 16 + x;
    }
    *out = v;
    return 0;
}

static int scan_string(syntax_scan &s)
{
    const char *open = s.p++;
    for (;;) {
        if (s.p >= s.end) {
            s.p = open;
            return scan_fail(s, "json_syntax", "unterminated string starting here");
        }
        unsigned char c = (unsigned char)*s.p;
        if (c == '"') { s.p++; return 0; }
        if (c < 0x20)
            return scan_fail(s, "json_syntax", "control characters must be escaped in strings");
        if (c != '\\') { s.p++; continue; }
        const char *esc = s.p++;
        if (s.p < s.end && strchr("\"\\/bfnrt", *s.p) && *s.p) { s.p++; continue; }
        if (s.p >= s.end || *s.p != 'u')
            return scan_fail(s, "json_syntax", "invalid escape sequence after '\\'");
        unsigned cp;
        if (hex4(s.p + 1, s.end, &cp) < 0) {
            s.p = esc;
            return scan_fail(s, "json_syntax", "\\u must be followed by 4 hex digits");
        }
        s.p += 5;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            s.p = esc;
            return scan_fail(s, "json_syntax", "unpaired low surrogate in \\u escape");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo;
            if (s.end - s.p < 6 || s.p[0] != '\\' || s.p[1] != 'u' ||
                hex4(s.p + 2, s.end, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
                s.p = esc;
                return scan_fail(s, "json_syntax", "high surrogate in \\u escape not followed by a low surrogate");
            }
            s.p += 6;
        }
    }
}

static int scan_number(syntax_scan &s)
{
    const char *start = s.p;
    if (*s.p == '-') s.p++;
    bool ok = s.p < s.end && is_digit(*s.p);
    if (ok && *s.p == '0') s.p++;
    else while (s.p < s.end && is_digit(*s.p)) s.p++;
    if (ok && s.p < s.end && *s.p == '.') {
        s.p++;
        ok = s.p < s.end && is_digit(*s.p);
        while (s.p < s.end && is_digit(*s.p)) s.p++;
    }
    if (ok && s.p < s.end && (*s.p == 'e' || *s.p == 'E')) {
        s.p++;
        if (s.p < s.end && (*s.p == '+' || *s.p == '-')) s.p++;
        ok = s.p < s.end && is_digit(*s.p);
        while (s.p < s.end && is_digit(*s.p)) s.p++;
    }
    if (ok && (s.p >= s.end || is_delimiter(*s.p)))
        return 0;
    const char *tok_end = s.p;
    while (tok_end < s.end && !is_delimiter(*tok_end)) tok_end++;
    s.p = start;
    char shown[44];   /* 40 bytes of input, "...", NUL */
    size_t off = (size_t)(start - s.start);
    return fail(*s.d, "json_syntax", off, "invalid JSON at offset %zu: malformed number '%s'", off,
                sl_decode_error_excerpt(shown, sizeof shown, start, (size_t)(tok_end - start)));
}

static int scan_literal(syntax_scan &s)
{
    static const char *const words[] = { "true", "false", "null" };
    for (const char *w : words) {
        size_t n = strlen(w);
        if ((size_t)(s.end - s.p) >= n && memcmp(s.p, w, n) == 0 &&
            (s.p + n == s.end || is_delimiter(s.p[n]))) {
            s.p += n;
            return 0;
        }
    }
    const char *tok_end = s.p;
    while (tok_end < s.end && !is_delimiter(*tok_end)) tok_end++;
    char shown[44];   /* 40 bytes of input, "...", NUL */
    size_t off = (size_t)(s.p - s.start);
    return fail(*s.d, "json_syntax", off, "invalid JSON at offset %zu: invalid literal '%s'", off,
                sl_decode_error_excerpt(shown, sizeof shown, s.p, (size_t)(tok_end - s.p)));
}

static int scan_value(syntax_scan &s, unsigned depth);

static int scan_container(syntax_scan &s, unsigned depth, bool is_object)
{
    char close = is_object ? '}' : ']';
    if (depth > s.max_depth) {
        size_t off = (size_t)(s.p - s.start);
        return fail(*s.d, "json_depth", off,
                    "JSON nested deeper than the limit of %u levels at offset %zu",
                    s.max_depth, off);
    }
    s.p++;
    scan_ws(s);
    if (s.p < s.end && *s.p == close) { s.p++; return 0; }
    for (;;) {
        if (is_object) {
            if (s.p >= s.end || *s.p != '"')
                return scan_fail(s, "json_syntax", "expected a string key");
            if (scan_string(s) < 0) return -1;
            scan_ws(s);
            if (s.p >= s.end || *s.p != ':')
                return scan_fail(s, "json_syntax", "expected ':' after an object key");
            s.p++;
            scan_ws(s);
        }
        if (scan_value(s, depth) < 0) return -1;
        scan_ws(s);
        if (s.p < s.end && *s.p == ',') { s.p++; scan_ws(s); continue; }
        if (s.p < s.end && *s.p == close) { s.p++; return 0; }
        return scan_fail(s, "json_syntax", is_object ? "expected ',' or '}' after an object member"
                                                     : "expected ',' or ']' after an array element");
    }
}

static int scan_value(syntax_scan &s, unsigned depth)
{
    if (s.p >= s.end)
        return scan_fail(s, "json_syntax", "expected a JSON value");
    switch (*s.p) {
    case '{': return scan_container(s, depth + 1, true);
    case '[': return scan_container(s, depth + 1, false);
    case '"': return scan_string(s);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return scan_number(s);
    case 't': case 'f': case 'n': return scan_literal(s);
    default: return scan_fail(s, "json_syntax", "expected a JSON value");
    }
}

/* Fills d.err for input simdjson rejected with `code`. */
static int diagnose_syntax(decoder &d, error_code code)
{
    if (code == simdjson::UTF8_ERROR)
        return utf8_error(d);
    if (code == simdjson::MEMALLOC) {
        fprintf(stderr, "sluice: out of memory in the JSON decoder\n");
        abort();
    }
    syntax_scan s = { d.input, d.input, d.input + d.len, d.max_depth, &d };
    scan_ws(s);
    if (s.p == s.end)
        return fail(d, "json_syntax", 0, "empty input: expected a JSON value");
    if (scan_value(s, 0) < 0)
        return -1;
    scan_ws(s);
    if (s.p < s.end)
        return scan_fail(s, "json_trailing", "expected end of input after the JSON value");
    /* The checker found nothing: fall back to simdjson's own words. */
    return fail(d, "json_syntax", 0, "invalid JSON: %s", simdjson::error_message(code));
}

/* ---------------------------------------------------------------- values */

static size_t offset_of(const decoder &d, const char *p) { return (size_t)(p - d.input); }

/* The raw text of the current token, from its first byte up to the next
 * token (so including any whitespace after it). */
static std::string_view token_of(od::value &v) { return v.raw_json_token(); }
static std::string_view token_of(od::document &doc)
{
    std::string_view tok;
    if (doc.raw_json_token().get(tok) != simdjson::SUCCESS)   /* cannot fail on a live document */
        return std::string_view();
    return tok;
}

/* Number token without the whitespace simdjson includes after it. */
static std::string_view trim_token(std::string_view tok)
{
    size_t n = tok.size();
    while (n > 0 && is_ws(tok[n - 1]))
        n--;
    return tok.substr(0, n);
}

/* simdjson 3.0.1's On-Demand number parsing gets decimals with more than 19
 * digits wrong (100000000000000000000.0 -> 0, 0.77777777777777777777777777
 * -> 1.4e-7; its DOM parser is right). Those few go through strtod, which is
 * correctly rounded. */
static bool long_mantissa(std::string_view tok)
{
    size_t digits = 0;
    for (char c : tok) {
        if (c == 'e' || c == 'E')
            break;
        digits += is_digit(c);
    }
    return digits > 19;
}

/* Copies simdjson's unescaped text (which lives in the parser) into the arena. */
static const char *arena_copy(decoder &d, std::string_view s)
{
    char *p = (char *)sl_arena_alloc(d.arena, s.size() ? s.size() : 1);
    memcpy(p, s.data(), s.size());
    return p;
}

/* The double a (valid JSON) number token denotes, by strtod on a
 * NUL-terminated copy. */
static double exact_double(decoder &d, std::string_view tok)
{
    char small[128];
    char *text = small;
    if (tok.size() >= sizeof small)
        text = (char *)arena_copy(d, std::string_view(tok.data(), tok.size() + 1));
    memcpy(text, tok.data(), tok.size());
    text[tok.size()] = '\0';
    return strtod(text, nullptr);
}

template <typename V>
static int decode_number(decoder &d, V &v, sl_value *out)
{
    std::string_view tok = trim_token(token_of(v));
    od::number num;
    error_code e = v.get_number().get(num);
    if (e == simdjson::NUMBER_ERROR) {
        /* simdjson refuses both malformed and out-of-range numbers; the
         * checker tells them apart. */
        syntax_scan s = { d.input, tok.data(), d.input + d.len, d.max_depth, &d };
        if (scan_number(s) < 0)
            return -1;
        char shown[44];   /* 40 bytes of input, "...", NUL */
        sl_decode_error_excerpt(shown, sizeof shown, tok.data(), tok.size());
        bool integer = tok.find_first_of(".eE") == std::string_view::npos;
        return fail(d, "json_number", offset_of(d, tok.data()),
                    integer ? "integer %s at offset %zu does not fit in 64 bits"
                            : "number %s at offset %zu is out of the range of a double",
                    shown, offset_of(d, tok.data()));
    }
    if (e)
        return diagnose_syntax(d, e);
    if (!d.arena)
        return 0;
    switch (num.get_number_type()) {
    case od::number_type::signed_integer:
        out->type = SL_INT;
        out->as.i = num.get_int64();
        break;
    case od::number_type::unsigned_integer:
        out->type = SL_UINT;
        out->as.u = num.get_uint64();
        break;
    default:
        out->type = SL_DOUBLE;
        out->as.d = long_mantissa(tok) ? exact_double(d, tok) : num.get_double();
        break;
    }
    /* raw_len is 16 bits: a longer number text (only possible for doubles
     * with absurd digit counts) is written back in shortest form. */
    if (tok.size() <= UINT16_MAX) {
        out->x.raw = tok.data();
        out->raw_len = (uint16_t)tok.size();
    }
    return 0;
}

template <typename V>
static int decode_string(decoder &d, V &v, sl_value *out)
{
    std::string_view tok = token_of(v);   /* "...", then whitespace */
    const char *s = tok.data() + 1;
    const char *close = tok.data() + tok.size() - 1;
    while (*close != '"')
        close--;
    size_t n = (size_t)(close - s);
    out->type = SL_STRING;
    if (!memchr(s, '\\', n)) {
        od::raw_json_string raw;
        if (error_code e = v.get_raw_json_string().get(raw))
            return diagnose_syntax(d, e);
        out->flags = SL_VF_JSON_SAFE;
        out->as.s = s;
        out->len = (uint32_t)n;
        return 0;
    }
    std::string_view u;
    if (error_code e = v.get_string().get(u))
        return diagnose_syntax(d, e);
    if (!d.arena)
        return 0;
    out->as.s = arena_copy(d, u);
    out->len = (uint32_t)u.size();
    return 0;
}

template <typename V>
static int decode_scalar(decoder &d, V &v, od::json_type type, sl_value *out)
{
    switch (type) {
    case od::json_type::number:
        return decode_number(d, v, out);
    case od::json_type::string:
        return decode_string(d, v, out);
    default: {
        /* true, false, null: checked on the token text (simdjson 3.0.1 both
         * accepts "falsee" and rejects "null " at the root). Unconsumed
         * values are skipped by the parent iterator. */
        std::string_view tok = trim_token(token_of(v));
        if (tok == "true" || tok == "false") {
            out->type = SL_BOOL;
            out->as.b = tok.size() == 4;
            return 0;
        }
        if (tok == "null") {
            out->type = SL_NULL;
            return 0;
        }
        return diagnose_syntax(d, simdjson::INCORRECT_TYPE);
    }
    }
}

static int decode_value(decoder &d, od::value &v, unsigned depth, sl_value *out);

/* First '"' or '\\' at or after p, eight bytes at a time. Reading past
 * the string is safe: p is inside the input, which has padding after it.
 * The lowest flagged byte of the "has zero byte" trick is exact, so on
 * little-endian machines its index is ctz / 8. */
static const char *quote_or_backslash(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (;; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t hits = (((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (hits)
            return p + __builtin_ctzll(hits) / 8;
    }
}

static bool same_key(const sl_field *f, const char *key, size_t len)
{
    return f->key_len == len && memcmp(f->key, key, len) == 0;
}

/* Duplicate pass for large objects: sort field indexes by (key, position);
 * in each run of equal keys the first field takes the last value and the
 * others are dropped. Returns the new field count. */
static size_t dedupe_large(decoder &d, sl_field *fields, size_t n)
{
    scratch &st = *d.st;
    while (st.cap_order < n)
        st.order = (uint32_t *)grow(st.order, &st.cap_order, sizeof *st.order);
    uint32_t *order = st.order;
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    std::sort(order, order + n, [fields](uint32_t a, uint32_t b) {
        const sl_field &x = fields[a], &y = fields[b];
        if (x.key_len != y.key_len) return x.key_len < y.key_len;
        int c = memcmp(x.key, y.key, x.key_len);
        return c != 0 ? c < 0 : a < b;
    });
    bool any = false;
    for (size_t i = 0; i + 1 < n; ) {
        size_t j = i + 1;
        while (j < n && same_key(&fields[order[i]], fields[order[j]].key, fields[order[j]].key_len))
            j++;
        if (j - i > 1) {
            any = true;
            fields[order[i]].value = fields[order[j - 1]].value;
            for (size_t k = i + 1; k < j; k++)
                fields[order[k]].key = nullptr;     /* dropped */
        }
        i = j;
    }
    if (!any)
        return n;
    d.merged = true;
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (fields[i].key)
            fields[w++] = fields[i];
    return w;
}

/* Copies the top `n` scratch entries of a container into the arena
 * (nothing when checking only). */
template <typename T>
static T *arena_take(decoder &d, const T *from, size_t n)
{
    if (n == 0 || !d.arena)
        return nullptr;
    T *to = (T *)sl_arena_alloc(d.arena, n * sizeof(T));
    memcpy((void *)to, from, n * sizeof(T));
    return to;
}

static int decode_object(decoder &d, od::object obj, unsigned depth, sl_value *out)
{
    scratch &st = *d.st;
    size_t base = st.nfields;
    uint64_t seen = 0;
    for (auto result : obj) {
        /* The field is used where the iterator put it, and its value is
         * passed on by reference: copying them (get(field), a value by
         * value) went through the stack as 8-byte stores read back by
         * 16-byte loads, which cannot be forwarded; those stalls were a
         * third of the walk's time on 400-byte events (perf annotate). */
        if (error_code e = result.error())
            return st.nfields = base, diagnose_syntax(d, e);
        od::field &&field = std::move(result).value_unsafe();
        const char *key = field.key().raw();
        const char *k = quote_or_backslash(key);
        size_t key_len = (size_t)(k - key);
        uint8_t key_flags = SL_VF_JSON_SAFE;   /* no escape: nothing to escape either */
        if (*k == '\\') {
            std::string_view u;
            if (error_code e = field.unescaped_key().get(u))
                return st.nfields = base, diagnose_syntax(d, e);
            /* checking only: the unescaped key stays valid in the parser
             * for the whole document */
            key = d.arena ? arena_copy(d, u) : u.data();
            key_len = u.size();
            key_flags = 0;
        }
        sl_value v = {};
        if (decode_value(d, field.value(), depth, &v) < 0)
            return st.nfields = base, -1;
        /* seen has one bit per key class (length, first and last byte):
         * the linear scan runs only when a key's class was seen before. */
        uint64_t bit = key_len ? 1ULL << ((key_len * 31 + (unsigned char)key[0] +
                                          7u * (unsigned char)key[key_len - 1]) & 63) : 1;
        bool maybe_seen = seen & bit;
        seen |= bit;
        if (maybe_seen && st.nfields - base < SMALL_OBJECT) {
            sl_field *f = st.fields + base, *fend = st.fields + st.nfields;
            for (; f < fend; f++)
                if (same_key(f, key, key_len))
                    break;
            if (f < fend) {
                f->value = v;           /* last wins, first position kept */
                d.merged = true;
                continue;
            }
        }
        if (st.nfields == st.cap_fields)
            st.fields = (sl_field *)grow(st.fields, &st.cap_fields, sizeof *st.fields);
        sl_field *f = &st.fields[st.nfields++];
        f->key = key;
        f->key_len = (uint32_t)key_len;
        f->key_flags = key_flags;
        f->value = v;
    }
    size_t n = st.nfields - base;
    if (n > SMALL_OBJECT)
        n = dedupe_large(d, st.fields + base, n);
    out->type = SL_MAP;
    out->len = (uint32_t)n;
    out->x.cap = (uint32_t)n;
    out->as.fields = arena_take(d, st.fields + base, n);
    st.nfields = base;
    return 0;
}

static int decode_array(decoder &d, od::array arr, unsigned depth, sl_value *out)
{
    scratch &st = *d.st;
    size_t base = st.nitems;
    for (auto result : arr) {
        od::value item;
        if (error_code e = std::move(result).get(item))
            return st.nitems = base, diagnose_syntax(d, e);
        sl_value v = {};
        if (decode_value(d, item, depth, &v) < 0)
            return st.nitems = base, -1;
        if (!d.arena)
            continue;
        if (st.nitems == st.cap_items)
            st.items = (sl_value *)grow(st.items, &st.cap_items, sizeof *st.items);
        st.items[st.nitems++] = v;
    }
    size_t n = st.nitems - base;
    out->type = SL_ARRAY;
    out->len = (uint32_t)n;
    out->x.cap = (uint32_t)n;
    out->as.items = arena_take(d, st.items + base, n);
    st.nitems = base;
    return 0;
}

static int depth_error(decoder &d, const char *at)
{
    return fail(d, "json_depth", offset_of(d, at),
                "JSON nested deeper than the limit of %u levels at offset %zu",
                d.max_depth, offset_of(d, at));
}

/* Decodes a value found inside a container at nesting level `depth`. */
static int decode_value(decoder &d, od::value &v, unsigned depth, sl_value *out)
{
    od::json_type type;
    if (error_code e = v.type().get(type))
        return diagnose_syntax(d, e);
    if (type == od::json_type::object || type == od::json_type::array) {
        if (depth + 1 > d.max_depth)
            return depth_error(d, token_of(v).data());
        if (type == od::json_type::object) {
            od::object obj;
            if (error_code e = v.get_object().get(obj))
                return diagnose_syntax(d, e);
            return decode_object(d, obj, depth + 1, out);
        }
        od::array arr;
        if (error_code e = v.get_array().get(arr))
            return diagnose_syntax(d, e);
        return decode_array(d, arr, depth + 1, out);
    }
    return decode_scalar(d, v, type, out);
}

static const char *json_type_name(od::json_type t)
{
    switch (t) {
    case od::json_type::array: return "an array";
    case od::json_type::string: return "a string";
    case od::json_type::number: return "a number";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
    default: return "an object";
    }
}

static int trailing_error(decoder &d, const char *rest)
{
    char buf[16];
    return fail(d, "json_trailing", offset_of(d, rest),
                "invalid JSON at offset %zu: expected end of input after the JSON value, found %s",
                offset_of(d, rest), describe(rest, d.input + d.len, buf));
}

static int decode_document(decoder &d, bool require_object, sl_value *out)
{
    od::document doc;
    if (error_code e = tl_parser.iterate(d.input, d.len, d.len + SL_BUF_PADDING).get(doc))
        return diagnose_syntax(d, e);
    od::json_type type;
    if (error_code e = doc.type().get(type))
        return diagnose_syntax(d, e);
    const char *first = token_of(doc).data();
    if (require_object && type != od::json_type::object)
        return fail(d, "json_not_object", offset_of(d, first),
                    "expected a JSON object, found %s at offset %zu",
                    json_type_name(type), offset_of(d, first));
    if (type == od::json_type::object) {
        od::object obj;
        if (error_code e = doc.get_object().get(obj))
            return diagnose_syntax(d, e);
        if (decode_object(d, obj, 1, out) < 0)
            return -1;
    } else if (type == od::json_type::array) {
        od::array arr;
        if (error_code e = doc.get_array().get(arr))
            return diagnose_syntax(d, e);
        if (decode_array(d, arr, 1, out) < 0)
            return -1;
    } else {
        /* A scalar document is one token; its raw text runs up to the next
         * token, or to the end of the input when there is none. */
        std::string_view tok = token_of(doc);
        if (decode_scalar(d, doc, type, out) < 0)
            return -1;
        const char *rest = tok.data() + tok.size();
        return rest == d.input + d.len ? 0 : trailing_error(d, rest);
    }
    const char *rest;
    if (doc.current_location().get(rest) == simdjson::SUCCESS)
        return trailing_error(d, rest);
    return 0;
}

} // namespace

extern "C" int SL_JSON_DECODE(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                              bool require_object, sl_value *out, sl_decode_error *err)
{
    *out = sl_value{};
    err->reason = nullptr;
    err->msg[0] = '\0';
    err->offset = 0;
    if (max_depth == 0)
        max_depth = SL_JSON_DEFAULT_MAX_DEPTH;
    if (max_depth > MAX_DEPTH_LIMIT)
        max_depth = MAX_DEPTH_LIMIT;
    decoder d = { a, p, len, max_depth, err, &tl_scratch, false };
    if (len > UINT32_MAX)
        return fail(d, "record_too_large", 0, "JSON text of %zu bytes exceeds the 4 GiB limit", len);
    try {
        if (decode_document(d, require_object, out) < 0) {
            *out = sl_value{};
            return -1;
        }
        if (d.merged)
            out->flags |= SL_VF_DUPLICATE_KEYS;
        return 0;
    } catch (...) {
        *out = sl_value{};
        return fail(d, "json_syntax", 0, "internal error in the JSON decoder");
    }
}
