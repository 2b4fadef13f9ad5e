/* eval.c — evaluates a compiled expression against one record.
 *
 * A plain recursive walk over the tree (its depth is bounded by the parser).
 * This is the hot path of filter, route and remap, so it allocates nothing
 * except the results that need new memory (joined strings, lower(), lists
 * built from non-literal items), and those come from the batch's arena.
 * Field paths read the record in place.
 *
 * Semantics (expr.h): a missing field is null; == and != work on any types;
 * ordering with null is false; `&&` and `||` short-circuit and give a bool.
 * Integer arithmetic is exact: int64 fast paths with overflow checks, and a
 * 128-bit slow path that also covers uint64 values; a result that fits
 * neither int64 nor uint64 is an error. `/` on two integers truncates toward
 * zero and `%` takes the sign of the dividend (as in C). Dividing by zero,
 * and a float result that is not finite, are errors. An int with a float
 * gives a float.
 *
 * Errors carry the column of the operator or function ("col 12: operator
 * '>' cannot compare string with int (left: "abc", right: 3)").
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../core/util.h"
#include "internal.h"

int sl_expr_fail(sl_eval_ctx *c, const sl_expr_node *n, const char *fmt, ...)
{
    char msg[SL_ERROR_MAX], where[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_expr_where(c->expr->src, n->off, where);
    return sl_errorf(c->err, "%s: %s", where, msg);
}

void sl_expr_describe(const sl_value *v, char out[64])
{
    switch ((sl_type)v->type) {
    case SL_NULL: snprintf(out, 64, "null"); return;
    case SL_BOOL: snprintf(out, 64, "%s", v->as.b ? "true" : "false"); return;
    case SL_INT: snprintf(out, 64, "%lld", (long long)v->as.i); return;
    case SL_UINT: snprintf(out, 64, "%llu", (unsigned long long)v->as.u); return;
    case SL_DOUBLE: sl_expr_format_double(v->as.d, out); return;
    case SL_BYTES: snprintf(out, 64, "bytes of length %u", v->len); return;
    case SL_ARRAY: snprintf(out, 64, "a list of %u item%s", v->len, v->len == 1 ? "" : "s"); return;
    case SL_MAP: snprintf(out, 64, "a map of %u field%s", v->len, v->len == 1 ? "" : "s"); return;
    case SL_TIMESTAMP: {
        char ts[40];
        sl_format_rfc3339(ts, v->as.i);
        snprintf(out, 64, "%s", ts);
        return;
    }
    case SL_STRING: break;
    }
    /* A quoted, escaped prefix of the string, cut at a character boundary. */
    size_t o = 0, i = 0;
    out[o++] = '"';
    while (i < v->len && o < 52) {
        unsigned char ch = (unsigned char)v->as.s[i];
        if (ch == '"' || ch == '\\') { out[o++] = '\\'; out[o++] = (char)ch; i++; }
        else if (ch < 0x20 || ch == 0x7f) { o += (size_t)snprintf(out + o, 8, "\\x%02x", ch); i++; }
        else {
            size_t n = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
            if (i + n > v->len) n = v->len - i;
            memcpy(out + o, v->as.s + i, n);
            o += n;
            i += n;
        }
    }
    if (i < v->len) { memcpy(out + o, "...", 3); o += 3; }
    out[o++] = '"';
    out[o] = '\0';
}

const char *sl_expr_op_name(sl_op op)
{
    static const char *const names[] = { "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%" };
    return names[op];
}

void sl_expr_mask_name(unsigned mask, char out[96])
{
    if (mask & SL_TM(SL_UINT)) mask = (mask & ~SL_TM(SL_UINT)) | SL_TM(SL_INT);
    size_t o = 0;
    unsigned left = (unsigned)__builtin_popcount(mask);
    out[0] = '\0';
    for (int i = 1; i <= SL_TIMESTAMP + 1; i++) {   /* null last: "string or null" */
        int t = i % (SL_TIMESTAMP + 1);
        if (!(mask & SL_TM(t))) continue;
        left--;
        o += (size_t)snprintf(out + o, 96 - o, "%s%s", sl_type_name((sl_type)t),
                              left > 1 ? ", " : left == 1 ? " or " : "");
        if (o >= 80) break;
    }
}

int sl_expr_type_error(sl_op op, const char *left, const char *right, sl_error *err)
{
    if (op <= OP_GE)
        return sl_errorf(err, "operator '%s' cannot compare %s with %s", sl_expr_op_name(op), left, right);
    if (op == OP_ADD)
        return sl_errorf(err, "operator '+' cannot add %s and %s (it adds numbers or joins strings)", left, right);
    return sl_errorf(err, "operator '%s' needs numbers, got %s and %s", sl_expr_op_name(op), left, right);
}

/* The type error for two values, with the values themselves appended. */
static int value_type_error(sl_op op, const sl_value *l, const sl_value *r, sl_error *err)
{
    char lv[64], rv[64];
    sl_expr_describe(l, lv);
    sl_expr_describe(r, rv);
    sl_expr_type_error(op, sl_type_name((sl_type)l->type), sl_type_name((sl_type)r->type), err);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, " (left: %s, right: %s)", lv, rv);
    return -1;
}

static bool is_number(unsigned t) { return t == SL_INT || t == SL_UINT || t == SL_DOUBLE; }
static bool is_integer(unsigned t) { return t == SL_INT || t == SL_UINT; }

/* Result types of one pair of operand types; 0 when invalid. */
static unsigned pair_result(sl_op op, unsigned l, unsigned r)
{
    if (op == OP_EQ || op == OP_NE) return SL_TM(SL_BOOL);
    if (op <= OP_GE) {
        if (l == SL_NULL || r == SL_NULL || (is_number(l) && is_number(r))) return SL_TM(SL_BOOL);
        if (l == r && l != SL_INT && l != SL_UINT && l != SL_DOUBLE) return SL_TM(SL_BOOL);
        return 0;
    }
    if (op == OP_ADD && l == SL_STRING && r == SL_STRING) return SL_TM(SL_STRING);
    if (is_integer(l) && is_integer(r)) return SL_TM_INTS;
    if (is_number(l) && is_number(r)) return SL_TM(SL_DOUBLE);
    return 0;
}

unsigned sl_expr_op_result(sl_op op, unsigned left, unsigned right)
{
    unsigned res = 0;
    for (unsigned l = 0; l <= SL_TIMESTAMP; l++) {
        if (!(left & SL_TM(l))) continue;
        for (unsigned r = 0; r <= SL_TIMESTAMP; r++)
            if (right & SL_TM(r)) res |= pair_result(op, l, r);
    }
    return res;
}

int sl_expr_compare(sl_op op, const sl_value *l, const sl_value *r, bool *result, sl_error *err)
{
    if (op == OP_EQ || op == OP_NE) {
        *result = sl_value_equal(l, r) == (op == OP_EQ);
        return 0;
    }
    if (l->type == SL_NULL || r->type == SL_NULL) {
        *result = false;
        return 0;
    }
    bool incomparable;
    int c = sl_value_compare(l, r, &incomparable);
    if (incomparable) return value_type_error(op, l, r, err);
    switch (op) {
    case OP_LT: *result = c < 0; break;
    case OP_LE: *result = c <= 0; break;
    case OP_GT: *result = c > 0; break;
    default: *result = c >= 0; break;
    }
    return 0;
}

static int overflow_error(sl_op op, const sl_value *l, const sl_value *r, sl_error *err)
{
    char lv[64], rv[64];
    sl_expr_describe(l, lv);
    sl_expr_describe(r, rv);
    return sl_errorf(err, "integer overflow: %s %s %s does not fit in 64 bits", lv, sl_expr_op_name(op), rv);
}

/* Exact integer arithmetic on int64/uint64 operands in 128 bits. */
static int int_arith(sl_op op, const sl_value *l, const sl_value *r, sl_value *out, sl_error *err)
{
    __int128 a = l->type == SL_INT ? (__int128)l->as.i : (__int128)l->as.u;
    __int128 b = r->type == SL_INT ? (__int128)r->as.i : (__int128)r->as.u;
    __int128 res;
    switch (op) {
    case OP_ADD: res = a + b; break;
    case OP_SUB: res = a - b; break;
    case OP_MUL: {
        unsigned __int128 ma = (unsigned __int128)(a < 0 ? -a : a);
        unsigned __int128 mb = (unsigned __int128)(b < 0 ? -b : b);
        unsigned __int128 m = ma * mb;   /* both < 2^64: cannot wrap */
        if (m > (unsigned __int128)UINT64_MAX + 1) return overflow_error(op, l, r, err);
        res = ((a < 0) != (b < 0)) ? -(__int128)m : (__int128)m;
        break;
    }
    default:
        if (b == 0) return sl_errorf(err, "division by zero");
        res = op == OP_DIV ? a / b : a % b;
        break;
    }
    if (res >= INT64_MIN && res <= INT64_MAX) *out = sl_int((int64_t)res);
    else if (res > 0 && res <= (__int128)UINT64_MAX) *out = sl_uint((uint64_t)res);
    else return overflow_error(op, l, r, err);
    return 0;
}

int sl_expr_arith(sl_op op, const sl_value *l, const sl_value *r, sl_arena *a, sl_value *out,
                  sl_error *err)
{
    if (is_integer(l->type) && is_integer(r->type)) return int_arith(op, l, r, out, err);
    double x, y;
    if (sl_value_as_double(l, &x) && sl_value_as_double(r, &y)) {
        double d;
        switch (op) {
        case OP_ADD: d = x + y; break;
        case OP_SUB: d = x - y; break;
        case OP_MUL: d = x * y; break;
        default:
            if (y == 0) return sl_errorf(err, "division by zero");
            d = op == OP_DIV ? x / y : fmod(x, y);
            break;
        }
        if (!isfinite(d)) {
            char lv[64], rv[64];
            sl_expr_describe(l, lv);
            sl_expr_describe(r, rv);
            return sl_errorf(err, "%s %s %s is not a finite number", lv, sl_expr_op_name(op), rv);
        }
        *out = sl_double(d);
        return 0;
    }
    if (op == OP_ADD && l->type == SL_STRING && r->type == SL_STRING) {
        if (r->len == 0) { *out = *l; return 0; }
        if (l->len == 0) { *out = *r; return 0; }
        size_t n = (size_t)l->len + r->len;
        if (n > UINT32_MAX) return sl_errorf(err, "joined string would be too long (%zu bytes)", n);
        char *s = sl_arena_alloc(a, n);
        memcpy(s, l->as.s, l->len);
        memcpy(s + l->len, r->as.s, r->len);
        *out = sl_string(s, n);
        return 0;
    }
    return value_type_error(op, l, r, err);
}

int sl_expr_negate(const sl_value *v, sl_value *out, sl_error *err)
{
    switch (v->type) {
    case SL_INT:
        *out = v->as.i == INT64_MIN ? sl_uint((uint64_t)INT64_MAX + 1) : sl_int(-v->as.i);
        return 0;
    case SL_UINT:
        if (v->as.u == (uint64_t)INT64_MAX + 1) { *out = sl_int(INT64_MIN); return 0; }
        return sl_errorf(err, "integer overflow: -%llu does not fit in 64 bits", (unsigned long long)v->as.u);
    case SL_DOUBLE:
        *out = sl_double(-v->as.d);
        return 0;
    default: {
        char desc[64];
        sl_expr_describe(v, desc);
        return sl_errorf(err, "operator '-' cannot negate %s (%s)", sl_type_name((sl_type)v->type), desc);
    }
    }
}

/* ---- the walk ---- */

static inline bool truthy(const sl_value *v)
{
    return v->type != SL_NULL && !(v->type == SL_BOOL && !v->as.b);
}

static int eval_in(const sl_expr_node *n, sl_eval_ctx *c, sl_value *out)
{
    sl_value needle, item;
    if (sl_expr_eval_node(n->u.bin.left, c, &needle) < 0) return -1;
    const sl_expr_node *r = n->u.bin.right;
    if (r->type == N_LIST) {   /* items evaluated one by one: no array is built */
        for (uint32_t i = 0; i < r->u.list.n; i++) {
            if (sl_expr_eval_node(r->u.list.items[i], c, &item) < 0) return -1;
            if (sl_value_equal(&needle, &item)) { sl_expr_set_bool(out, true); return 0; }
        }
        sl_expr_set_bool(out, false);
        return 0;
    }
    sl_value list;
    if (sl_expr_eval_node(r, c, &list) < 0) return -1;
    if (list.type != SL_ARRAY) {
        char desc[64];
        sl_expr_describe(&list, desc);
        return sl_expr_fail(c, n, "operator 'in' needs a list on its right, got %s (%s)",
                            sl_type_name((sl_type)list.type), desc);
    }
    for (uint32_t i = 0; i < list.len; i++) {
        if (sl_value_equal(&needle, &list.as.items[i])) { sl_expr_set_bool(out, true); return 0; }
    }
    sl_expr_set_bool(out, false);
    return 0;
}

static int eval_call(const sl_expr_node *n, sl_eval_ctx *c, sl_value *out)
{
    const sl_func *f = n->func;
    sl_value args[SL_FN_MAX_ARGS];
    if (!(f->flags & SL_FN_PATH_ARG)) {
        for (uint32_t i = 0; i < n->u.list.n; i++) {
            if (sl_expr_eval_node(n->u.list.items[i], c, &args[i]) < 0) return -1;
            if (!(SL_TM(args[i].type) & f->arg_types[i])) {
                char desc[64];
                sl_error msg;
                sl_expr_describe(&args[i], desc);
                sl_expr_arg_error(f, i, sl_type_name((sl_type)args[i].type), &msg);
                return sl_expr_fail(c, n, "%s (%s)", msg.msg, desc);
            }
        }
    }
    return f->call(n, c, args, out);
}

static int eval_list(const sl_expr_node *n, sl_eval_ctx *c, sl_value *out)
{
    sl_value arr = sl_array_new(c->arena, n->u.list.n ? n->u.list.n : 1);
    for (uint32_t i = 0; i < n->u.list.n; i++) {
        sl_value item;
        if (sl_expr_eval_node(n->u.list.items[i], c, &item) < 0) return -1;
        sl_array_push(c->arena, &arr, item);
    }
    *out = arr;
    return 0;
}

int sl_expr_eval_node(const sl_expr_node *n, sl_eval_ctx *c, sl_value *out)
{
    sl_value l, r;
    switch ((sl_node_type)n->type) {
    case N_LITERAL:
        *out = n->u.literal;
        return 0;
    case N_PATH: {
        const sl_value *v = sl_path_get(&n->u.path, c->record);
        *out = v ? *v : sl_null();
        return 0;
    }
    case N_NOT:
        if (sl_expr_eval_node(n->u.operand, c, &l) < 0) return -1;
        sl_expr_set_bool(out, !truthy(&l));
        return 0;
    case N_AND:
    case N_OR:
        if (sl_expr_eval_node(n->u.bin.left, c, &l) < 0) return -1;
        if (truthy(&l) == (n->type == N_OR)) {
            sl_expr_set_bool(out, n->type == N_OR);
            return 0;
        }
        if (sl_expr_eval_node(n->u.bin.right, c, &r) < 0) return -1;
        sl_expr_set_bool(out, truthy(&r));
        return 0;
    case N_CMP: {
        bool result;
        if (sl_expr_eval_node(n->u.bin.left, c, &l) < 0 || sl_expr_eval_node(n->u.bin.right, c, &r) < 0)
            return -1;
        if (sl_expr_compare((sl_op)n->op, &l, &r, &result, c->err) < 0)
            return sl_expr_fail(c, n, "%s", c->err->msg);
        sl_expr_set_bool(out, result);
        return 0;
    }
    case N_ARITH: {
        if (sl_expr_eval_node(n->u.bin.left, c, &l) < 0 || sl_expr_eval_node(n->u.bin.right, c, &r) < 0)
            return -1;
        if (l.type == SL_INT && r.type == SL_INT) {   /* the common case, without 128-bit math */
            int64_t v;
            bool overflow = true;
            switch ((sl_op)n->op) {
            case OP_ADD: overflow = __builtin_add_overflow(l.as.i, r.as.i, &v); break;
            case OP_SUB: overflow = __builtin_sub_overflow(l.as.i, r.as.i, &v); break;
            case OP_MUL: overflow = __builtin_mul_overflow(l.as.i, r.as.i, &v); break;
            default: break;
            }
            if (!overflow) { sl_expr_set_int(out, v); return 0; }
        }
        if (sl_expr_arith((sl_op)n->op, &l, &r, c->arena, out, c->err) < 0)
            return sl_expr_fail(c, n, "%s", c->err->msg);
        return 0;
    }
    case N_NEG:
        if (sl_expr_eval_node(n->u.operand, c, &l) < 0) return -1;
        if (sl_expr_negate(&l, out, c->err) < 0) return sl_expr_fail(c, n, "%s", c->err->msg);
        return 0;
    case N_IN:
        return eval_in(n, c, out);
    case N_CALL:
        return eval_call(n, c, out);
    case N_LIST:
        return eval_list(n, c, out);
    }
    return sl_expr_fail(c, n, "unknown expression node");
}

/* Evaluates n for its truthiness only: 1, 0 or -1 on error. Conditions
 * (filter, route) go through here, so logic and comparisons never build a
 * value they would only test. */
static int test_node(const sl_expr_node *n, sl_eval_ctx *c)
{
    int t;
    sl_value v;
    switch ((sl_node_type)n->type) {
    case N_NOT:
        t = test_node(n->u.operand, c);
        return t < 0 ? -1 : !t;
    case N_AND:
    case N_OR:
        t = test_node(n->u.bin.left, c);
        if (t < 0 || t == (n->type == N_OR)) return t;
        return test_node(n->u.bin.right, c);
    default:
        if (sl_expr_eval_node(n, c, &v) < 0) return -1;
        return truthy(&v);
    }
}

int sl_expr_eval(const sl_expr *e, const sl_value *record, sl_arena *a, sl_value *out, sl_error *err)
{
    sl_eval_ctx c = { .expr = e, .record = record, .arena = a, .err = err };
    return sl_expr_eval_node(e->root, &c, out);
}

int sl_expr_test(const sl_expr *e, const sl_value *record, sl_arena *a, sl_error *err)
{
    sl_eval_ctx c = { .expr = e, .record = record, .arena = a, .err = err };
    return test_node(e->root, &c);
}
