/* simple_regex.h — a fast path for the anchored, backtracking-free regexes
 * contracts mostly hold ('^node-[0-9]+$', '^[0-9a-f]{16}$').
 *
 * A `regex` rule runs on every record, and even JIT-compiled PCRE2 costs a
 * few hundred instructions per match for such a pattern (UTF-8 decoding,
 * match setup). A pattern of the subset below is matched here instead by a
 * byte loop whose result is PCRE2's; any other pattern (and any subject
 * whose last byte could be a newline PCRE2's `$` looks past) goes to PCRE2.
 *
 * The subset: '^', then atoms, then '$'. An atom is an ASCII letter or
 * digit or one of -_@:/,=%&~!#'"<>;` (space too), or a class of such
 * letters, digits and ranges between them, '_', and '-' last (no negation,
 * no escapes); each optionally followed by +, *, ?, {n}, {n,} or {n,m}
 * (greedy only). A repeat whose length may vary must be followed by an
 * atom that is required and shares no character with it, or end the
 * pattern: then matching greedily is the only way to match at all, so no
 * backtracking is needed.
 */
#ifndef SL_SIMPLE_REGEX_H
#define SL_SIMPLE_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SIMPLE_REGEX_MAX 32   /* atoms */

typedef struct sl_simple_regex {
    uint32_t member[256];        /* bit k: the byte is in atom k's set */
    struct {
        uint32_t min, max;       /* repeats; max UINT32_MAX: unbounded */
    } atoms[SL_SIMPLE_REGEX_MAX];
    size_t n;
} sl_simple_regex;

/* Compiles pattern into re when it is in the subset; false otherwise. */
bool sl_simple_regex_compile(const char *pattern, size_t len, sl_simple_regex *re);
/* 1 when s matches, 0 when not, -1 when PCRE2 must decide (the subject
 * ends in a byte that may be a newline to `$`). */
int sl_simple_regex_match(const sl_simple_regex *re, const char *s, size_t len);

#endif
