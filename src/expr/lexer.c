/* lexer.c — splits an expression into tokens (see lexer.h).
 *
 * Numbers: digits with an optional fraction and exponent. Integers that do
 * not fit int64 but fit uint64 become SL_UINT values (the unary minus in the
 * parser folds "-9223372036854775808" back into an int); anything larger is
 * an error, as is a number run into letters ("12abc"). Doubles are parsed
 * with strtod, which expects the C locale that sluice runs in.
 *
 * Strings are '"'-quoted with JSON escapes (\" \\ \/ \b \f \n \r \t \uXXXX
 * with surrogate pairs) and must be valid UTF-8. Their decoded bytes go to
 * the expression's arena; the decoded text is never longer than the source.
 */
#include "lexer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

void sl_lexer_init(sl_lexer *lx, const char *src, size_t len, sl_arena *a)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->arena = a;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a \u escape at src[i] (pointing at the 'u'), combining surrogate
 * pairs. Returns the number of source bytes consumed after the backslash, or
 * 0 when the escape is invalid. */
static size_t unicode_escape(const char *src, size_t len, size_t i, unsigned *cp)
{
    unsigned hi, lo;
    if (i + 5 > len || hex4(src + i + 1, &hi) < 0) return 0;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return 0;
    if (hi < 0xD800 || hi > 0xDBFF) { *cp = hi; return 5; }
    if (i + 11 > len || src[i + 5] != '\\' || src[i + 6] != 'u' || hex4(src + i + 7, &lo) < 0 ||
        lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 11;
}

int sl_lex_string(const char *src, size_t len, size_t *off, sl_arena *a,
                  const char **out, size_t *out_len, sl_error *err, size_t *err_off)
{
    size_t start = *off, i = start + 1;
    size_t end = i;
    while (end < len && src[end] != '"') end += (src[end] == '\\' && end + 1 < len) ? 2 : 1;
    if (end >= len) {
        *err_off = start;
        return sl_errorf(err, "unterminated string (missing closing '\"')");
    }
    char *buf = sl_arena_alloc(a, end - i + 1);
    size_t n = 0;
    while (i < end) {
        char c = src[i];
        if (c != '\\') { buf[n++] = c; i++; continue; }
        char e = src[i + 1];
        switch (e) {
        case '"': case '\\': case '/': buf[n++] = e; i += 2; break;
        case 'b': buf[n++] = '\b'; i += 2; break;
        case 'f': buf[n++] = '\f'; i += 2; break;
        case 'n': buf[n++] = '\n'; i += 2; break;
        case 'r': buf[n++] = '\r'; i += 2; break;
        case 't': buf[n++] = '\t'; i += 2; break;
        case 'u': {
            unsigned cp;
            size_t used = unicode_escape(src, end, i + 1, &cp);
            if (!used) {
                *err_off = i;
                return sl_errorf(err, "invalid \\u escape in string (expected \\uXXXX; surrogates must come in pairs)");
            }
            n += put_utf8(buf + n, cp);
            i += 1 + used;
            break;
        }
        default:
            *err_off = i;
            return sl_errorf(err, "invalid escape '\\%c' in string (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)",
                             (e >= 0x20 && e < 0x7f) ? e : '?');
        }
    }
    if (!sl_utf8_valid(buf, n)) {
        *err_off = start;
        return sl_errorf(err, "string is not valid UTF-8");
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    *off = end + 1;
    return 0;
}

static sl_token lex_error(sl_lexer *lx, size_t off)
{
    lx->err_off = off;
    sl_token t = { .type = T_ERROR, .off = off };
    return t;
}

static sl_token lex_number(sl_lexer *lx, size_t start)
{
    const char *s = lx->src;
    size_t i = start;
    bool is_float = false;
    while (i < lx->len && is_digit(s[i])) i++;
    if (i + 1 < lx->len && s[i] == '.' && is_digit(s[i + 1])) {
        is_float = true;
        i++;
        while (i < lx->len && is_digit(s[i])) i++;
    }
    if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < lx->len && (s[j] == '+' || s[j] == '-')) j++;
        if (j < lx->len && is_digit(s[j])) {
            is_float = true;
            i = j;
            while (i < lx->len && is_digit(s[i])) i++;
        }
    }
    if (i < lx->len && (is_ident_char(s[i]) || s[i] == '.')) {
        size_t end = i;
        while (end < lx->len && (is_ident_char(s[end]) || s[end] == '.')) end++;
        sl_errorf(&lx->err, "invalid number '%.*s'", (int)(end - start > 40 ? 40 : end - start), s + start);
        return lex_error(lx, start);
    }
    sl_token t = { .type = is_float ? T_FLOAT : T_INT, .off = start, .len = i - start };
    char tmp[400];
    if (i - start >= sizeof tmp) {
        sl_errorf(&lx->err, "number literal is too long");
        return lex_error(lx, start);
    }
    memcpy(tmp, s + start, i - start);
    tmp[i - start] = '\0';
    if (is_float) {
        errno = 0;
        double d = strtod(tmp, NULL);
        if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
            sl_errorf(&lx->err, "number %s is out of range", tmp);
            return lex_error(lx, start);
        }
        t.value = sl_double(d);
    } else {
        uint64_t u = 0;
        for (size_t k = 0; tmp[k]; k++) {
            if (__builtin_mul_overflow(u, 10, &u) || __builtin_add_overflow(u, (uint64_t)(tmp[k] - '0'), &u)) {
                sl_errorf(&lx->err, "integer %s is out of range (integers are 64-bit)", tmp);
                return lex_error(lx, start);
            }
        }
        t.value = sl_uint(u);
    }
    lx->pos = i;
    return t;
}

/* Two-character operators and their one-character fallbacks. */
static sl_token lex_operator(sl_lexer *lx, size_t start)
{
    const char *s = lx->src;
    char c = s[start], d = start + 1 < lx->len ? s[start + 1] : '\0';
    sl_token t = { .off = start, .len = 1 };
    switch (c) {
    case '(': t.type = T_LPAREN; break;
    case ')': t.type = T_RPAREN; break;
    case '[': t.type = T_LBRACKET; break;
    case ']': t.type = T_RBRACKET; break;
    case ',': t.type = T_COMMA; break;
    case '+': t.type = T_PLUS; break;
    case '-': t.type = T_MINUS; break;
    case '*': t.type = T_STAR; break;
    case '/': t.type = T_SLASH; break;
    case '%': t.type = T_PERCENT; break;
    case '<': t.type = d == '=' ? T_LE : T_LT; break;
    case '>': t.type = d == '=' ? T_GE : T_GT; break;
    case '!': t.type = d == '=' ? T_NE : T_NOT; break;
    case '=':
        if (d != '=') {
            sl_errorf(&lx->err, "unexpected '=' (did you mean '=='?)");
            return lex_error(lx, start);
        }
        t.type = T_EQ;
        break;
    case '&':
        if (d != '&') {
            sl_errorf(&lx->err, "unexpected '&' (did you mean '&&'?)");
            return lex_error(lx, start);
        }
        t.type = T_AND;
        break;
    case '|':
        if (d != '|') {
            sl_errorf(&lx->err, "unexpected '|' (did you mean '||'?)");
            return lex_error(lx, start);
        }
        t.type = T_OR;
        break;
    case '\'':
        sl_errorf(&lx->err, "strings are written with double quotes (\"...\"), not single quotes");
        return lex_error(lx, start);
    default:
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            sl_errorf(&lx->err, "unexpected character '%c'", c);
        else
            sl_errorf(&lx->err, "unexpected byte 0x%02x", (unsigned char)c);
        return lex_error(lx, start);
    }
    if (t.type == T_LE || t.type == T_GE || t.type == T_NE || t.type == T_EQ ||
        t.type == T_AND || t.type == T_OR)
        t.len = 2;
    lx->pos = start + t.len;
    return t;
}

sl_token sl_lexer_next(sl_lexer *lx)
{
    const char *s = lx->src;
    while (lx->pos < lx->len && (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\n' ||
                                 s[lx->pos] == '\r'))
        lx->pos++;
    size_t start = lx->pos;
    sl_token t = { .type = T_EOF, .off = start };
    if (start >= lx->len) return t;
    char c = s[start];
    if (is_digit(c)) return lex_number(lx, start);
    if (is_ident_start(c)) {
        size_t i = start;
        while (i < lx->len && is_ident_char(s[i])) i++;
        t.type = T_IDENT;
        t.len = i - start;
        lx->pos = i;
        return t;
    }
    if (c == '"') {
        size_t i = start;
        const char *str;
        size_t n;
        if (sl_lex_string(s, lx->len, &i, lx->arena, &str, &n, &lx->err, &lx->err_off) < 0)
            return lex_error(lx, lx->err_off);
        t.type = T_STRING;
        t.len = i - start;
        t.value = sl_string(str, n);
        lx->pos = i;
        return t;
    }
    if (c == '.') {
        size_t i = start;
        if (sl_path_scan(s, lx->len, &i, true, lx->arena, &t.path, &lx->err, &lx->err_off) < 0)
            return lex_error(lx, lx->err_off);
        t.type = T_PATH;
        t.len = i - start;
        lx->pos = i;
        return t;
    }
    return lex_operator(lx, start);
}

void sl_token_describe(const sl_lexer *lx, const sl_token *t, char out[64])
{
    if (t->type == T_EOF) {
        snprintf(out, 64, "end of expression");
        return;
    }
    size_t n = t->len > 40 ? 40 : t->len;
    snprintf(out, 64, "'%.*s%s'", (int)n, lx->src + t->off, t->len > n ? "..." : "");
}
