/* internal.h — what the files of the expression module share and nobody else
 * sees: the path representation, the syntax tree, the function table and the
 * evaluation context.
 *
 * A compiled expression is a tree of nodes carved out of one arena owned by
 * the sl_expr (nodes, path steps and decoded string literals all live there),
 * so freeing an expression is one sl_arena_free plus the compiled regexes.
 * Every node remembers the byte offset of the token it came from; columns are
 * computed from it only when an error is reported.
 *
 * Type masks (SL_TM_*) describe which types a node can produce; the parser
 * uses them to reject expressions that can only fail ("a" > 3, lower(42))
 * and the evaluator uses the same masks to check function arguments.
 */
#ifndef SL_EXPR_INTERNAL_H
#define SL_EXPR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr.h"

/* ---- paths ---- */

typedef struct sl_path_step {
    const char *key;      /* NULL for an index step */
    uint32_t key_len;
    int64_t index;        /* index steps; negative counts from the end */
} sl_path_step;

struct sl_path {
    const char *src;      /* standalone paths: their text; NULL inside an expr */
    sl_path_step *steps;
    uint32_t n_steps;     /* 0: the record itself (".") */
    sl_arena arena;       /* standalone paths own their memory; unused inside an expr */
};

/* Scans a path starting at src[*off] into out (steps and decoded keys are
 * allocated in a). With need_dot the path must start with '.' (expressions);
 * otherwise the first step may also be a bare name or an index ("a.b",
 * "[0]"). Stops at the first byte that cannot continue the path. On error
 * returns -1 with a message in err and the offending byte offset in *err_off. */
int sl_path_scan(const char *src, size_t len, size_t *off, bool need_dot, sl_arena *a,
                 sl_path *out, sl_error *err, size_t *err_off);

/* Reports msg to diag at the position of byte `off` of src: `at` advanced by
 * the column when src is one line and at.col is known, else `at` with
 * "col N: " (or "line L, col N: ") in front of the message. */
void sl_expr_report(sl_diag *diag, sl_pos at, const char *src, size_t off, const char *msg);

/* ---- type masks ---- */

#define SL_TM(t)    (1u << (t))
#define SL_TM_INTS  (SL_TM(SL_INT) | SL_TM(SL_UINT))
#define SL_TM_NUM   (SL_TM_INTS | SL_TM(SL_DOUBLE))
#define SL_TM_ANY   0x3ffu

/* "int", "string or null", ... for messages; out has room for 96 bytes. */
void sl_expr_mask_name(unsigned mask, char out[96]);

/* ---- syntax tree ---- */

typedef enum {
    N_LITERAL, N_PATH, N_LIST, N_NOT, N_NEG, N_AND, N_OR,
    N_CMP, N_ARITH, N_IN, N_CALL,
} sl_node_type;

/* Operators of N_CMP and N_ARITH. */
typedef enum {
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
} sl_op;

typedef struct sl_expr_node sl_expr_node;
typedef struct sl_func sl_func;

struct sl_expr_node {
    uint8_t type;            /* sl_node_type */
    uint8_t op;              /* sl_op for N_CMP / N_ARITH */
    uint16_t types;          /* SL_TM_* mask of the possible results */
    uint16_t depth;          /* height of the subtree (bounds eval recursion) */
    uint32_t off;            /* byte offset in the source, for messages */
    union {
        sl_value literal;                                       /* N_LITERAL */
        sl_path path;                                           /* N_PATH */
        struct { sl_expr_node **items; uint32_t n; } list;      /* N_LIST, call args */
        sl_expr_node *operand;                                  /* N_NOT, N_NEG */
        struct { sl_expr_node *left, *right; } bin;             /* the rest */
    } u;
    /* N_CALL */
    const sl_func *func;
    void *regex;             /* matches(): the compiled pcre2_code */
};

struct sl_expr {
    char *src;
    size_t src_len;
    sl_expr_node *root;
    sl_arena arena;
    void **regexes;          /* pcre2_code pointers to free */
    size_t n_regexes;
};

/* ---- evaluation ---- */

/* Results written field by field. Building an sl_value in a temporary and
 * copying it (as the constructors in value.c do) costs a store-forwarding
 * stall per result, which topped the evaluation profile. */
static inline void sl_expr_set_bool(sl_value *out, bool b)
{
    out->type = SL_BOOL;
    out->flags = 0;
    out->raw_len = 0;
    out->len = 0;
    out->as.i = 0;
    out->as.b = b;
    out->x.raw = NULL;
}

static inline void sl_expr_set_int(sl_value *out, int64_t i)
{
    out->type = SL_INT;
    out->flags = 0;
    out->raw_len = 0;
    out->len = 0;
    out->as.i = i;
    out->x.raw = NULL;
}

typedef struct sl_eval_ctx {
    const sl_expr *expr;
    const sl_value *record;
    sl_arena *arena;
    sl_error *err;
} sl_eval_ctx;

int sl_expr_eval_node(const sl_expr_node *n, sl_eval_ctx *c, sl_value *out);
/* Fails evaluation with "col N: <message>" (the column of node n). */
int sl_expr_fail(sl_eval_ctx *c, const sl_expr_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A short rendering of a value for error messages: "abc" (quoted, truncated),
 * 42, null, array of 3, ... */
void sl_expr_describe(const sl_value *v, char out[64]);
/* "col 12" or "line 2, col 3" for a byte offset in src. */
void sl_expr_where(const char *src, size_t off, char out[48]);

/* Binary operators, shared by the evaluator and the parser's literal checks.
 * Return 0, or -1 with a message (without position) in err. */
int sl_expr_compare(sl_op op, const sl_value *l, const sl_value *r, bool *result, sl_error *err);
int sl_expr_arith(sl_op op, const sl_value *l, const sl_value *r, sl_arena *a, sl_value *out,
                  sl_error *err);
/* The types an arithmetic/comparison operator can produce from operands of
 * the given masks; 0 when no combination is valid. */
unsigned sl_expr_op_result(sl_op op, unsigned left, unsigned right);
const char *sl_expr_op_name(sl_op op);
/* The message for operands of the wrong types ("operator '>' cannot compare
 * string with int"), given the type names. */
int sl_expr_type_error(sl_op op, const char *left, const char *right, sl_error *err);
/* Unary minus (also used to fold negative literals). */
int sl_expr_negate(const sl_value *v, sl_value *out, sl_error *err);

/* ---- functions ---- */

enum {
    SL_FN_PATH_ARG = 1,      /* the argument is a field path, not evaluated (exists) */
    SL_FN_REGEX_ARG = 2,     /* the second argument is a literal regex (matches) */
};

#define SL_FN_MAX_ARGS 2

struct sl_func {
    const char *name;
    uint8_t min_args, max_args;
    uint8_t flags;
    uint16_t arg_types[SL_FN_MAX_ARGS];     /* accepted SL_TM_* per argument */
    const char *arg_doc[SL_FN_MAX_ARGS];    /* "a string", for messages */
    uint16_t result_types;
    int (*call)(const sl_expr_node *call, sl_eval_ctx *c, const sl_value *args, sl_value *out);
};

const sl_func *sl_expr_func_find(const char *name, size_t len);
/* "lower() expects a string, got int" for argument i of f. */
int sl_expr_arg_error(const sl_func *f, unsigned i, const char *got, sl_error *err);
/* Shortest text that reads back as d ("0.1", "1e+20", "2.0"); returns its length. */
size_t sl_expr_format_double(double d, char out[32]);
/* Names of all functions, for "did you mean". */
const char *const *sl_expr_func_names(size_t *n);

#endif
