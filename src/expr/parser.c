/* parser.c — compiles expression text into a syntax tree (grammar in expr.h).
 *
 * A recursive-descent parser with one function per precedence level. It
 * stops at the first error, which is reported to the diag with the column of
 * the offending token. Besides syntax it checks what can be known before any
 * record is seen:
 *  - functions exist (with "did you mean") and get the right number of
 *    arguments; exists() gets a path; matches() gets a literal regex, which
 *    is compiled here, once;
 *  - operand types: every node carries a mask of the types it can produce
 *    (literals one type, paths any type, len() an int, ...) and an operator
 *    or function whose operands can never be valid is an error ("a" > 3,
 *    lower(42)). Operands whose type is not known yet are checked at run time.
 * Negative number literals are folded, and lists of literals are built once
 * here, so `.x in ["a", "b"]` allocates nothing per record.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "internal.h"
#include "lexer.h"

/* Deeper trees are rejected: evaluation recurses once per level. */
#define MAX_DEPTH 200

typedef struct parser {
    sl_lexer lx;
    sl_token tok;            /* the current token */
    sl_expr *e;
    sl_diag *diag;
    sl_pos at;
    bool failed;
    int nesting;             /* current recursion depth of the parser */
} parser;

void sl_expr_where(const char *src, size_t off, char out[48])
{
    int line = 1, col = 1;
    for (size_t i = 0; i < off && src[i]; i++) {
        if (src[i] == '\n') { line++; col = 1; }
        else if (((unsigned char)src[i] & 0xC0) != 0x80) col++;
    }
    if (line > 1) snprintf(out, 48, "line %d, col %d", line, col);
    else snprintf(out, 48, "col %d", col);
}

void sl_expr_report(sl_diag *diag, sl_pos at, const char *src, size_t off, const char *msg)
{
    if (!diag) return;
    bool one_line = memchr(src, '\n', strlen(src)) == NULL;
    if (one_line && at.col > 0) {
        int col = 1;
        for (size_t i = 0; i < off && src[i]; i++)
            if (((unsigned char)src[i] & 0xC0) != 0x80) col++;
        at.col += col - 1;
        sl_diag_error(diag, at, "%s", msg);
        return;
    }
    char where[48];
    sl_expr_where(src, off, where);
    sl_diag_error(diag, at, "%s: %s", where, msg);
}

static void *fail_at(parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void *fail_at(parser *p, size_t off, const char *fmt, ...)
{
    if (p->failed) return NULL;
    p->failed = true;
    sl_error err;
    va_list ap;
    va_start(ap, fmt);
    sl_verrorf(&err, fmt, ap);
    va_end(ap);
    sl_expr_report(p->diag, p->at, p->e->src, off, err.msg);
    return NULL;
}

static void advance(parser *p)
{
    p->tok = sl_lexer_next(&p->lx);
    if (p->tok.type == T_ERROR) fail_at(p, p->lx.err_off, "%s", p->lx.err.msg);
}

static bool tok_is_word(const parser *p, const char *word)
{
    size_t n = strlen(word);
    return p->tok.type == T_IDENT && p->tok.len == n && memcmp(p->e->src + p->tok.off, word, n) == 0;
}

static sl_expr_node *new_node(parser *p, sl_node_type type, size_t off, unsigned types)
{
    sl_expr_node *n = sl_arena_calloc(&p->e->arena, sizeof *n);
    n->type = (uint8_t)type;
    n->off = (uint32_t)off;
    n->types = (uint16_t)types;
    n->depth = 1;
    return n;
}

static sl_expr_node *set_depth(parser *p, sl_expr_node *n, const sl_expr_node *child)
{
    if (child->depth + 1 > n->depth) n->depth = (uint16_t)(child->depth + 1);
    if (n->depth > MAX_DEPTH) return fail_at(p, n->off, "expression is nested too deeply (more than %d levels)", MAX_DEPTH);
    return n;
}

static sl_expr_node *binary(parser *p, sl_node_type type, sl_op op, size_t off, unsigned types,
                            sl_expr_node *l, sl_expr_node *r)
{
    sl_expr_node *n = new_node(p, type, off, types);
    n->op = (uint8_t)op;
    n->u.bin.left = l;
    n->u.bin.right = r;
    if (!set_depth(p, n, l)) return NULL;
    return set_depth(p, n, r);
}

static sl_expr_node *parse_or(parser *p);

/* Guards the parser's own recursion ("((((...", "----..."). */
static bool enter(parser *p)
{
    if (++p->nesting <= MAX_DEPTH) return true;
    fail_at(p, p->tok.off, "expression is nested too deeply (more than %d levels)", MAX_DEPTH);
    return false;
}

/* An operator node after checking that its operand types can work. */
static sl_expr_node *operator(parser *p, sl_op op, size_t off, sl_expr_node *l, sl_expr_node *r)
{
    unsigned types = sl_expr_op_result(op, l->types, r->types);
    if (!types) {
        char ln[96], rn[96];
        sl_error err;
        sl_expr_mask_name(l->types, ln);
        sl_expr_mask_name(r->types, rn);
        sl_expr_type_error(op, ln, rn, &err);
        return fail_at(p, off, "%s", err.msg);
    }
    return binary(p, op <= OP_GE ? N_CMP : N_ARITH, op, off, types, l, r);
}

static sl_expr_node *parse_list(parser *p)
{
    size_t off = p->tok.off;
    advance(p);
    sl_expr_node **items = NULL;
    uint32_t n = 0, cap = 0;
    bool constant = true;
    sl_expr_node *list = new_node(p, N_LIST, off, SL_TM(SL_ARRAY));
    while (!p->failed && p->tok.type != T_RBRACKET) {
        sl_expr_node *item = parse_or(p);
        if (!item || !set_depth(p, list, item)) return NULL;
        if (n == cap) {
            uint32_t ncap = cap ? cap * 2 : 4;
            items = sl_arena_realloc(&p->e->arena, items, cap * sizeof *items, ncap * sizeof *items);
            cap = ncap;
        }
        items[n++] = item;
        constant = constant && item->type == N_LITERAL;
        if (p->tok.type == T_COMMA) advance(p);
        else if (p->tok.type != T_RBRACKET && !p->failed) {
            char d[64];
            sl_token_describe(&p->lx, &p->tok, d);
            return fail_at(p, p->tok.off, "expected ',' or ']' in list, got %s", d);
        }
    }
    if (p->failed) return NULL;
    advance(p);
    if (constant) {
        sl_expr_node *lit = new_node(p, N_LITERAL, off, SL_TM(SL_ARRAY));
        lit->u.literal = sl_array_new(&p->e->arena, n ? n : 1);
        for (uint32_t i = 0; i < n; i++) sl_array_push(&p->e->arena, &lit->u.literal, items[i]->u.literal);
        return lit;
    }
    list->u.list.items = items;
    list->u.list.n = n;
    return list;
}

static sl_expr_node *check_call(parser *p, sl_expr_node *call)
{
    const sl_func *f = call->func;
    sl_expr_node **args = call->u.list.items;
    uint32_t n = call->u.list.n;
    if (n < f->min_args || n > f->max_args) {
        if (f->min_args == f->max_args)
            return fail_at(p, call->off, "%s() takes %u argument%s, got %u", f->name, f->min_args,
                           f->min_args == 1 ? "" : "s", n);
        return fail_at(p, call->off, "%s() takes %u to %u arguments, got %u", f->name, f->min_args,
                       f->max_args, n);
    }
    if ((f->flags & SL_FN_PATH_ARG) && args[0]->type != N_PATH)
        return fail_at(p, args[0]->off, "%s() takes a field path, like %s(.user.email)", f->name, f->name);
    for (uint32_t i = 0; i < n; i++) {
        if (!(args[i]->types & f->arg_types[i])) {
            char got[96];
            sl_error err;
            sl_expr_mask_name(args[i]->types, got);
            sl_expr_arg_error(f, i, got, &err);
            return fail_at(p, args[i]->off, "%s", err.msg);
        }
    }
    if (f->flags & SL_FN_REGEX_ARG) {
        const sl_expr_node *pat = args[1];
        if (pat->type != N_LITERAL || pat->u.literal.type != SL_STRING)
            return fail_at(p, pat->off, "%s() needs its pattern as a string literal, like %s(.msg, \"^err\")",
                           f->name, f->name);
        sl_error err;
        size_t err_off = 0;
        void *re = sl_expr_regex_compile(pat->u.literal.as.s, pat->u.literal.len, &err, &err_off);
        if (!re) return fail_at(p, pat->off, "%s", err.msg);
        void **list = realloc(p->e->regexes, (p->e->n_regexes + 1) * sizeof *list);
        if (!list) abort();
        p->e->regexes = list;
        list[p->e->n_regexes++] = re;
        call->regex = re;
    }
    return call;
}

static sl_expr_node *parse_call(parser *p, size_t name_off, size_t name_len)
{
    const char *name = p->e->src + name_off;
    const sl_func *f = sl_expr_func_find(name, name_len);
    if (!f) {
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)(name_len < 63 ? name_len : 63), name);
        size_t n;
        const char *const *names = sl_expr_func_names(&n);
        const char *hint = sl_did_you_mean(word, names, n);
        if (hint) return fail_at(p, name_off, "unknown function '%s' (did you mean '%s'?)", word, hint);
        return fail_at(p, name_off, "unknown function '%s'", word);
    }
    sl_expr_node *call = new_node(p, N_CALL, name_off, f->result_types);
    call->func = f;
    sl_expr_node *args[SL_FN_MAX_ARGS + 1];
    uint32_t n = 0;
    advance(p);   /* '(' */
    while (!p->failed && p->tok.type != T_RPAREN) {
        sl_expr_node *arg = parse_or(p);
        if (!arg || !set_depth(p, call, arg)) return NULL;
        if (n <= SL_FN_MAX_ARGS) args[n] = arg;
        n++;
        if (p->tok.type == T_COMMA) advance(p);
        else if (p->tok.type != T_RPAREN && !p->failed) {
            char d[64];
            sl_token_describe(&p->lx, &p->tok, d);
            return fail_at(p, p->tok.off, "expected ',' or ')' after argument of %s(), got %s", f->name, d);
        }
    }
    if (p->failed) return NULL;
    advance(p);
    call->u.list.n = n;
    if (n <= SL_FN_MAX_ARGS) {
        call->u.list.items = sl_arena_alloc(&p->e->arena, (n ? n : 1) * sizeof *args);
        memcpy(call->u.list.items, args, n * sizeof *args);
    }
    return check_call(p, call);
}

static sl_expr_node *parse_word(parser *p)
{
    size_t off = p->tok.off, len = p->tok.len;
    const char *w = p->e->src + off;
    if (tok_is_word(p, "null") || tok_is_word(p, "true") || tok_is_word(p, "false")) {
        sl_value v = w[0] == 'n' ? sl_null() : sl_bool(w[0] == 't');
        sl_expr_node *n = new_node(p, N_LITERAL, off, SL_TM(v.type));
        n->u.literal = v;
        advance(p);
        return n;
    }
    advance(p);
    if (p->tok.type == T_LPAREN) return parse_call(p, off, len);
    if (p->failed) return NULL;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), w);
    static const char *const keywords[] = { "null", "true", "false" };
    const char *hint = sl_did_you_mean(word, keywords, 3);
    if (hint) return fail_at(p, off, "unknown name '%s' (did you mean '%s'?)", word, hint);
    return fail_at(p, off, "unknown name '%s' (field paths start with '.': did you mean '.%s'?)", word, word);
}

static sl_expr_node *parse_primary(parser *p)
{
    if (p->failed) return NULL;
    sl_token t = p->tok;
    sl_expr_node *n;
    switch (t.type) {
    case T_INT: case T_FLOAT: case T_STRING:
        n = new_node(p, N_LITERAL, t.off, SL_TM(t.value.type));
        n->u.literal = t.value;
        advance(p);
        return n;
    case T_PATH:
        n = new_node(p, N_PATH, t.off, SL_TM_ANY);
        n->u.path = t.path;
        advance(p);
        return n;
    case T_LPAREN:
        advance(p);
        n = parse_or(p);
        if (!n) return NULL;
        if (p->tok.type != T_RPAREN) {
            char d[64];
            sl_token_describe(&p->lx, &p->tok, d);
            return fail_at(p, p->tok.off, "expected ')', got %s", d);
        }
        advance(p);
        return n;
    case T_LBRACKET:
        return parse_list(p);
    case T_IDENT:
        if (!tok_is_word(p, "in")) return parse_word(p);
        break;
    default:
        break;
    }
    char d[64];
    sl_token_describe(&p->lx, &t, d);
    return fail_at(p, t.off, "expected a value, a field path or '(', got %s", d);
}

static sl_expr_node *parse_unary(parser *p)
{
    if (p->failed || p->tok.type != T_MINUS) return parse_primary(p);
    size_t off = p->tok.off;
    advance(p);
    if (!enter(p)) return NULL;
    sl_expr_node *operand = parse_unary(p);
    p->nesting--;
    if (!operand) return NULL;
    if (operand->type == N_LITERAL) {
        sl_error err;
        if (sl_expr_negate(&operand->u.literal, &operand->u.literal, &err) < 0)
            return fail_at(p, off, "%s", err.msg);
        operand->types = (uint16_t)SL_TM(operand->u.literal.type);
        operand->off = (uint32_t)off;
        return operand;
    }
    if (!(operand->types & (SL_TM_NUM))) {
        char name[96];
        sl_expr_mask_name(operand->types, name);
        return fail_at(p, off, "operator '-' cannot negate %s", name);
    }
    unsigned types = operand->types & SL_TM_NUM;
    if (types & SL_TM_INTS) types |= SL_TM_INTS;
    sl_expr_node *n = new_node(p, N_NEG, off, types);
    n->u.operand = operand;
    return set_depth(p, n, operand);
}

static sl_expr_node *parse_mul(parser *p)
{
    sl_expr_node *l = parse_unary(p);
    while (l && (p->tok.type == T_STAR || p->tok.type == T_SLASH || p->tok.type == T_PERCENT)) {
        sl_op op = p->tok.type == T_STAR ? OP_MUL : p->tok.type == T_SLASH ? OP_DIV : OP_MOD;
        size_t off = p->tok.off;
        advance(p);
        sl_expr_node *r = parse_unary(p);
        l = r ? operator(p, op, off, l, r) : NULL;
    }
    return l;
}

static sl_expr_node *parse_add(parser *p)
{
    sl_expr_node *l = parse_mul(p);
    while (l && (p->tok.type == T_PLUS || p->tok.type == T_MINUS)) {
        sl_op op = p->tok.type == T_PLUS ? OP_ADD : OP_SUB;
        size_t off = p->tok.off;
        advance(p);
        sl_expr_node *r = parse_mul(p);
        l = r ? operator(p, op, off, l, r) : NULL;
    }
    return l;
}

static bool cmp_op(sl_token_type t, sl_op *op)
{
    switch (t) {
    case T_EQ: *op = OP_EQ; return true;
    case T_NE: *op = OP_NE; return true;
    case T_LT: *op = OP_LT; return true;
    case T_LE: *op = OP_LE; return true;
    case T_GT: *op = OP_GT; return true;
    case T_GE: *op = OP_GE; return true;
    default: return false;
    }
}

static sl_expr_node *parse_cmp(parser *p)
{
    sl_expr_node *l = parse_add(p);
    if (!l) return NULL;
    sl_op op;
    size_t off = p->tok.off;
    sl_expr_node *n;
    if (cmp_op(p->tok.type, &op)) {
        advance(p);
        sl_expr_node *r = parse_add(p);
        n = r ? operator(p, op, off, l, r) : NULL;
    } else if (tok_is_word(p, "in")) {
        advance(p);
        sl_expr_node *r = parse_add(p);
        if (!r) return NULL;
        if (!(r->types & SL_TM(SL_ARRAY))) {
            char name[96];
            sl_expr_mask_name(r->types, name);
            return fail_at(p, off, "operator 'in' needs a list on its right, like .x in [1, 2], got %s", name);
        }
        n = binary(p, N_IN, OP_EQ, off, SL_TM(SL_BOOL), l, r);
    } else {
        return l;
    }
    if (n && (cmp_op(p->tok.type, &op) || tok_is_word(p, "in")))
        return fail_at(p, p->tok.off, "comparisons cannot be chained; combine them with '&&'");
    return n;
}

static sl_expr_node *parse_not(parser *p)
{
    if (p->failed || p->tok.type != T_NOT) return parse_cmp(p);
    size_t off = p->tok.off;
    advance(p);
    if (!enter(p)) return NULL;
    sl_expr_node *operand = parse_not(p);
    p->nesting--;
    if (!operand) return NULL;
    sl_expr_node *n = new_node(p, N_NOT, off, SL_TM(SL_BOOL));
    n->u.operand = operand;
    return set_depth(p, n, operand);
}

static sl_expr_node *parse_and(parser *p)
{
    sl_expr_node *l = parse_not(p);
    while (l && p->tok.type == T_AND) {
        size_t off = p->tok.off;
        advance(p);
        sl_expr_node *r = parse_not(p);
        l = r ? binary(p, N_AND, OP_EQ, off, SL_TM(SL_BOOL), l, r) : NULL;
    }
    return l;
}

static sl_expr_node *parse_or(parser *p)
{
    if (!enter(p)) return NULL;
    sl_expr_node *l = parse_and(p);
    while (l && p->tok.type == T_OR) {
        size_t off = p->tok.off;
        advance(p);
        sl_expr_node *r = parse_and(p);
        l = r ? binary(p, N_OR, OP_EQ, off, SL_TM(SL_BOOL), l, r) : NULL;
    }
    p->nesting--;
    return l;
}

sl_expr *sl_expr_compile(const char *src, sl_pos at, sl_diag *diag)
{
    sl_expr *e = calloc(1, sizeof *e);
    if (!e) abort();
    sl_arena_init(&e->arena, 1024);
    e->src_len = strlen(src);
    e->src = sl_arena_strndup(&e->arena, src, e->src_len);
    parser p = { .e = e, .diag = diag, .at = at };
    sl_lexer_init(&p.lx, e->src, e->src_len, &e->arena);
    advance(&p);
    if (p.tok.type == T_EOF && !p.failed) fail_at(&p, 0, "empty expression");
    sl_expr_node *root = parse_or(&p);
    if (root && p.tok.type != T_EOF && !p.failed) {
        char d[64];
        sl_token_describe(&p.lx, &p.tok, d);
        if (tok_is_word(&p, "and") || tok_is_word(&p, "or") || tok_is_word(&p, "not"))
            fail_at(&p, p.tok.off, "unexpected %s (use '&&', '||' and '!')", d);
        else
            fail_at(&p, p.tok.off, "unexpected %s after a complete expression (missing operator?)", d);
    }
    if (p.failed) {
        sl_expr_free(e);
        return NULL;
    }
    e->root = root;
    return e;
}

void sl_expr_free(sl_expr *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->n_regexes; i++) sl_expr_regex_free(e->regexes[i]);
    free(e->regexes);
    sl_arena_free(&e->arena);
    free(e);
}

const char *sl_expr_source(const sl_expr *e)
{
    return e->src;
}
