/* expr.h — the expression language used by filter, route and remap.
 *
 *   .latency_ms > 500 && .level != "debug"
 *   lower(.user.email) ends_with? -> ends_with(lower(.user.email), "@example.com")
 *   .tags[0] in ["a", "b"] || exists(."quoted key")
 *
 * Grammar (lowest precedence first):
 *   or      := and ('||' and)*
 *   and     := not ('&&' not)*
 *   not     := '!' not | cmp
 *   cmp     := add (('=='|'!='|'<'|'<='|'>'|'>=') add | 'in' list)?
 *   add     := mul (('+'|'-') mul)*
 *   mul     := unary (('*'|'/'|'%') unary)*
 *   unary   := '-' unary | primary
 *   primary := literal | path | call | '(' or ')' | list
 *   path    := '.' | ('.' (ident | string) | '[' int ']')+      e.g. .a.b[0]."x y"
 *   literal := null | true | false | int | float | string ('"' with JSON escapes)
 *   call    := ident '(' (or (',' or)*)? ')'
 * Functions: exists(path), len(x), lower(s), upper(s), contains(s, sub | array, v),
 *   starts_with(s, p), ends_with(s, p), matches(s, "regex") (PCRE2, the
 *   pattern must be a literal and is compiled once at load), to_int(x),
 *   to_float(x), to_string(x), now().
 *
 * Semantics: a missing field reads as null. Comparisons with null: == and !=
 * work, ordering (<, > ...) with null is false (not an error). `+` adds numbers
 * or concatenates strings. Integer arithmetic is exact and overflow is a
 * runtime error; int op float gives float; division by zero is an error.
 * `&&`, `||` short-circuit and accept any values (truthiness: null and false
 * are false). Runtime type errors (e.g. "abc" > 3, lower(42)) make evaluation
 * fail with a message naming the operator, the operand types and the column;
 * the caller sends the record to the DLQ.
 *
 * Compile-time checks: syntax, unknown functions (with "did you mean"),
 * arity, invalid regexes, and type errors between literals. Errors point at
 * the column inside the expression; when the expression came from a config
 * node, the position is the node's position advanced by that column.
 */
#ifndef SL_EXPR_H
#define SL_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"
#include "../core/error.h"
#include "../core/value.h"
#include "../config/diag.h"

typedef struct sl_expr sl_expr;
typedef struct sl_path sl_path;

/* Compiles src. On error reports to diag at `at` (+ column offset within src,
 * for single-line plain scalars) and returns NULL. */
sl_expr *sl_expr_compile(const char *src, sl_pos at, sl_diag *diag);
void sl_expr_free(sl_expr *e);
const char *sl_expr_source(const sl_expr *e);

/* Evaluates against a record (an SL_MAP). Results that need memory (strings)
 * are allocated in `a`. Thread-safe: a compiled expression is immutable and
 * may be evaluated by many threads at once. Returns 0 or -1 with err. */
int sl_expr_eval(const sl_expr *e, const sl_value *record, sl_arena *a, sl_value *out, sl_error *err);
/* Evaluates and takes truthiness: 1 true, 0 false, -1 error. */
int sl_expr_test(const sl_expr *e, const sl_value *record, sl_arena *a, sl_error *err);

/* Field paths (".a.b[0]", "a.b", ".\"x y\""; the leading dot is optional). */
sl_path *sl_path_parse(const char *src, sl_pos at, sl_diag *diag);
void sl_path_free(sl_path *p);
const char *sl_path_source(const sl_path *p);
/* NULL when any step is missing or of the wrong type. */
const sl_value *sl_path_get(const sl_path *p, const sl_value *record);
/* The same, for changing the value in place. */
sl_value *sl_path_get_mut(const sl_path *p, sl_value *record);
/* The path's first step when it is a key (false for "." or an index), and
 * whether more steps follow: a caller that finds many paths' first keys in
 * one pass over the record goes on with sl_path_get_rest from the value
 * found when there are. */
bool sl_path_first_key(const sl_path *p, const char **key, size_t *key_len, bool *more);
/* Follows the steps after the first from v (the first step's value). */
const sl_value *sl_path_get_rest(const sl_path *p, const sl_value *v);
/* Sets the value, creating intermediate maps as needed (arrays are not
 * extended: setting .a[5] on a shorter array fails). Returns 0 or -1 with err. */
int sl_path_set(const sl_path *p, sl_value *record, sl_arena *a, sl_value v, sl_error *err);
/* Removes the field; returns true if it existed. */
bool sl_path_delete(const sl_path *p, sl_value *record);

/* Compiles a PCRE2 pattern as sluice does everywhere (UTF-8, invalid UTF-8
 * in subjects tolerated, JIT when available): the regex of matches(), and
 * any other component's pattern. Returns the pcre2_code, or NULL with a
 * message and *err_off (offset in the pattern) filled. */
void *sl_expr_regex_compile(const char *pattern, size_t len, sl_error *err, size_t *err_off);
void sl_expr_regex_free(void *code);

#endif
