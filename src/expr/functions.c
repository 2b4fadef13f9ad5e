/* functions.c — the built-in functions of the expression language.
 *
 * One table describes every function: its arity, the types each argument
 * accepts (checked by the parser when the argument's type is known and by the
 * evaluator otherwise, with the same message) and the types it returns. The
 * implementations below receive already-checked arguments.
 *
 * Null handling, so that filters on records that lack a field keep working:
 * lower/upper/to_int/to_float/to_string of null give null, len(null) is 0,
 * and contains/starts_with/ends_with/matches on a null subject are false.
 *
 *   exists(path)        the field is present (even when its value is null)
 *   len(x)              characters (UTF-8 code points) of a string, bytes of
 *                       bytes, items of a list, fields of a map
 *   lower(s), upper(s)  ASCII case mapping; other characters are unchanged
 *   contains(s, sub)    substring test; contains(list, v): membership
 *   starts_with(s, p), ends_with(s, p)
 *   matches(s, "re")    PCRE2 search (not anchored) with UTF semantics
 *   to_int(x)           from int, float (truncated), bool, decimal string,
 *                       timestamp (ns since the epoch)
 *   to_float(x)         from numbers, bool, decimal string
 *   to_string(x)        numbers as their original text (or shortest form),
 *                       bool, timestamps in RFC 3339
 *   now()               the current time as a timestamp
 *
 * matches() compiles its pattern once (with JIT when available). pcre2_match
 * needs scratch "match data" that must not be shared between threads, so
 * each thread keeps one in a thread-local slot, created on first use and
 * freed by a pthread key destructor when the thread exits.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "internal.h"

int sl_expr_arg_error(const sl_func *f, unsigned i, const char *got, sl_error *err)
{
    if (f->max_args == 1) return sl_errorf(err, "%s() expects %s, got %s", f->name, f->arg_doc[i], got);
    return sl_errorf(err, "%s() expects %s as argument %u, got %s", f->name, f->arg_doc[i], i + 1, got);
}

size_t sl_expr_format_double(double d, char out[32])
{
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    if (isfinite(d) && !strpbrk(out, ".e")) {   /* keep it recognisably a float: 2.0 */
        memcpy(out + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

/* ---- implementations ---- */

static int fn_exists(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    sl_expr_set_bool(out, sl_path_get(&n->u.list.items[0]->u.path, c->record) != NULL);
    return 0;
}

static int fn_len(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *v = &args[0];
    int64_t len = v->len;
    if (v->type == SL_NULL) len = 0;
    else if (v->type == SL_STRING) {
        len = 0;
        for (uint32_t i = 0; i < v->len; i++) len += ((unsigned char)v->as.s[i] & 0xC0) != 0x80;
    }
    *out = sl_int(len);
    return 0;
}

/* ASCII case mapping; returns the input itself when nothing changes. */
static int map_case(const sl_value *v, sl_arena *a, bool upper, sl_value *out)
{
    char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    uint32_t i = 0;
    if (v->type == SL_STRING)
        while (i < v->len && (v->as.s[i] < lo || v->as.s[i] > hi)) i++;
    if (v->type != SL_STRING || i == v->len) {   /* null, or nothing to change */
        *out = *v;
        return 0;
    }
    char *s = sl_arena_alloc(a, v->len);
    memcpy(s, v->as.s, v->len);
    for (; i < v->len; i++)
        if (s[i] >= lo && s[i] <= hi) s[i] = (char)(s[i] ^ 0x20);
    *out = sl_string(s, v->len);
    return 0;
}

static int fn_lower(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    return map_case(&args[0], c->arena, false, out);
}

static int fn_upper(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    return map_case(&args[0], c->arena, true, out);
}

static int fn_contains(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *s = &args[0], *x = &args[1];
    if (s->type == SL_ARRAY) {
        bool found = false;
        for (uint32_t i = 0; i < s->len && !found; i++) found = sl_value_equal(&s->as.items[i], x);
        sl_expr_set_bool(out, found);
        return 0;
    }
    if (s->type == SL_NULL) {
        sl_expr_set_bool(out, false);
        return 0;
    }
    if (x->type != SL_STRING) {
        char desc[64];
        sl_expr_describe(x, desc);
        return sl_expr_fail(c, n, "contains() on a string expects a string as argument 2, got %s (%s)",
                            sl_type_name((sl_type)x->type), desc);
    }
    sl_expr_set_bool(out, x->len == 0 || memmem(s->as.s, s->len, x->as.s, x->len) != NULL);
    return 0;
}

static int fn_starts_with(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *s = &args[0], *p = &args[1];
    sl_expr_set_bool(out, s->type == SL_STRING && p->len <= s->len && memcmp(s->as.s, p->as.s, p->len) == 0);
    return 0;
}

static int fn_ends_with(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *s = &args[0], *p = &args[1];
    sl_expr_set_bool(out, s->type == SL_STRING && p->len <= s->len &&
                          memcmp(s->as.s + s->len - p->len, p->as.s, p->len) == 0);
    return 0;
}

/* ---- regular expressions ---- */

static pthread_key_t match_data_key;
static pthread_once_t match_data_once = PTHREAD_ONCE_INIT;
static __thread pcre2_match_data *thread_match_data;

static void free_match_data(void *md)
{
    pcre2_match_data_free(md);
}

static void make_match_data_key(void)
{
    if (pthread_key_create(&match_data_key, free_match_data) != 0) abort();
}

static pcre2_match_data *match_data(void)
{
    if (!thread_match_data) {
        pthread_once(&match_data_once, make_match_data_key);
        /* One pair suffices: only "did it match" is asked. */
        thread_match_data = pcre2_match_data_create(1, NULL);
        if (!thread_match_data) abort();
        pthread_setspecific(match_data_key, thread_match_data);
    }
    return thread_match_data;
}

void *sl_expr_regex_compile(const char *pattern, size_t len, sl_error *err, size_t *err_off)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        *err_off = off;
        sl_errorf(err, "invalid regex: %s (at offset %zu in the pattern)", (const char *)msg, (size_t)off);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter when unavailable */
    return re;
}

void sl_expr_regex_free(void *code)
{
    pcre2_code_free(code);
}

static int fn_matches(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *s = &args[0];
    if (s->type != SL_STRING) {
        sl_expr_set_bool(out, false);
        return 0;
    }
    int rc = pcre2_match(n->regex, (PCRE2_SPTR)s->as.s, s->len, 0, 0, match_data(), NULL);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return sl_expr_fail(c, n, "matches() failed: %s", (const char *)msg);
    }
    sl_expr_set_bool(out, rc >= 0);
    return 0;
}

/* ---- conversions ---- */

static int cannot_convert(sl_eval_ctx *c, const sl_expr_node *n, const sl_value *v, const char *to)
{
    char desc[64];
    sl_expr_describe(v, desc);
    return sl_expr_fail(c, n, "%s() cannot convert %s %s to %s", n->func->name,
                        sl_type_name((sl_type)v->type), desc, to);
}

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static int fn_to_int(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *v = &args[0];
    switch (v->type) {
    case SL_BOOL: *out = sl_int(v->as.b); return 0;
    case SL_TIMESTAMP: *out = sl_int(v->as.i); return 0;
    case SL_DOUBLE: {
        double t = trunc(v->as.d);
        if (t >= -9223372036854775808.0 && t < 9223372036854775808.0) *out = sl_int((int64_t)t);
        else if (t >= 0 && t < 18446744073709551616.0) *out = sl_uint((uint64_t)t);
        else return cannot_convert(c, n, v, "an integer (out of range)");
        return 0;
    }
    case SL_STRING: {
        const char *s = v->as.s;
        uint32_t i = 0;
        bool neg = false;
        if (i < v->len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
        uint64_t u = 0;
        uint32_t digits = i;
        for (; i < v->len && is_digit(s[i]); i++) {
            if (__builtin_mul_overflow(u, 10, &u) || __builtin_add_overflow(u, (uint64_t)(s[i] - '0'), &u))
                return cannot_convert(c, n, v, "an integer (out of range)");
        }
        if (i == digits || i != v->len) return cannot_convert(c, n, v, "an integer");
        if (!neg) *out = sl_uint(u);
        else if (u <= (uint64_t)INT64_MAX + 1) *out = sl_int((int64_t)(0 - u));
        else return cannot_convert(c, n, v, "an integer (out of range)");
        return 0;
    }
    default:   /* null, int, uint: unchanged */
        *out = *v;
        return 0;
    }
}

static int fn_to_float(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *v = &args[0];
    double d;
    if (v->type == SL_NULL) {
        *out = *v;
        return 0;
    }
    if (v->type == SL_BOOL) {
        *out = sl_double(v->as.b ? 1.0 : 0.0);
        return 0;
    }
    if (sl_value_as_double(v, &d)) {
        *out = sl_double(d);
        return 0;
    }
    /* A decimal number: digits, sign, point and exponent only (strtod alone
     * would also take "inf", "nan" and hex). */
    char buf[64];
    if (v->len == 0 || v->len >= sizeof buf) return cannot_convert(c, n, v, "a float");
    for (uint32_t i = 0; i < v->len; i++) {
        char ch = v->as.s[i];
        if (!is_digit(ch) && ch != '-' && ch != '+' && ch != '.' && ch != 'e' && ch != 'E')
            return cannot_convert(c, n, v, "a float");
    }
    memcpy(buf, v->as.s, v->len);
    buf[v->len] = '\0';
    char *end;
    d = strtod(buf, &end);
    if (end != buf + v->len || !isfinite(d)) return cannot_convert(c, n, v, "a float");
    *out = sl_double(d);
    return 0;
}

static int fn_to_string(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    const sl_value *v = &args[0];
    char tmp[40];
    size_t len;
    switch (v->type) {
    case SL_BOOL:
        *out = sl_cstring(v->as.b ? "true" : "false");
        return 0;
    case SL_INT: case SL_UINT: case SL_DOUBLE:
        if (v->x.raw) {
            *out = sl_string(v->x.raw, v->raw_len);
            return 0;
        }
        if (v->type == SL_INT) len = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v->as.i);
        else if (v->type == SL_UINT) len = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v->as.u);
        else len = sl_expr_format_double(v->as.d, tmp);
        break;
    case SL_TIMESTAMP:
        len = sl_format_rfc3339(tmp, v->as.i);
        break;
    default:   /* null, string: unchanged */
        *out = *v;
        return 0;
    }
    *out = sl_string_copy(c->arena, tmp, len);
    return 0;
}

static int fn_now(const sl_expr_node *n, sl_eval_ctx *c, const sl_value *args, sl_value *out)
{
    *out = sl_timestamp(sl_now_ns());
    return 0;
}

/* ---- the table ---- */

#define T(t) SL_TM(t)
#define NUL T(SL_NULL)
#define STR T(SL_STRING)
#define SCALARS (NUL | T(SL_BOOL) | SL_TM_NUM | STR | T(SL_TIMESTAMP))

static const sl_func funcs[] = {
    { "exists", 1, 1, SL_FN_PATH_ARG, { SL_TM_ANY, 0 }, { "a field path", NULL }, T(SL_BOOL), fn_exists },
    { "len", 1, 1, 0, { NUL | STR | T(SL_BYTES) | T(SL_ARRAY) | T(SL_MAP), 0 },
      { "a string, list or map", NULL }, T(SL_INT), fn_len },
    { "lower", 1, 1, 0, { NUL | STR, 0 }, { "a string", NULL }, NUL | STR, fn_lower },
    { "upper", 1, 1, 0, { NUL | STR, 0 }, { "a string", NULL }, NUL | STR, fn_upper },
    { "contains", 2, 2, 0, { NUL | STR | T(SL_ARRAY), SL_TM_ANY }, { "a string or a list", "a value" },
      T(SL_BOOL), fn_contains },
    { "starts_with", 2, 2, 0, { NUL | STR, STR }, { "a string", "a string" }, T(SL_BOOL), fn_starts_with },
    { "ends_with", 2, 2, 0, { NUL | STR, STR }, { "a string", "a string" }, T(SL_BOOL), fn_ends_with },
    { "matches", 2, 2, SL_FN_REGEX_ARG, { NUL | STR, STR }, { "a string", "a regex string" }, T(SL_BOOL),
      fn_matches },
    { "to_int", 1, 1, 0, { SCALARS, 0 }, { "a number, string, bool or timestamp", NULL },
      NUL | SL_TM_INTS, fn_to_int },
    { "to_float", 1, 1, 0, { NUL | T(SL_BOOL) | SL_TM_NUM | STR, 0 }, { "a number, string or bool", NULL },
      NUL | T(SL_DOUBLE), fn_to_float },
    { "to_string", 1, 1, 0, { SCALARS, 0 }, { "a number, string, bool or timestamp", NULL }, NUL | STR,
      fn_to_string },
    { "now", 0, 0, 0, { 0, 0 }, { NULL, NULL }, T(SL_TIMESTAMP), fn_now },
};

#define N_FUNCS (sizeof funcs / sizeof funcs[0])

const sl_func *sl_expr_func_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_FUNCS; i++)
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0) return &funcs[i];
    return NULL;
}

static const char *const func_names[] = {
    "exists", "len", "lower", "upper", "contains", "starts_with", "ends_with", "matches",
    "to_int", "to_float", "to_string", "now",
};
_Static_assert(sizeof func_names / sizeof func_names[0] == N_FUNCS, "func_names must list every function");

const char *const *sl_expr_func_names(size_t *n)
{
    *n = N_FUNCS;
    return func_names;
}
