/* check.h — the unit-test harness: a few assertion macros and a runner.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(test_something); return check_report(); }
 *
 * A failed check prints file:line and the expression, and the test program
 * exits non-zero at the end; check_report prints "N passed, N failed".
 */
#ifndef SL_CHECK_H
#define SL_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_passes, check_test_failed;

#define CHECK(cond) do { \
    if (cond) { check_passes++; } \
    else { check_failures++; check_test_failed = 1; \
           fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_INT(a, b) do { \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
    if (check_a_ == check_b_) { check_passes++; } \
    else { check_failures++; check_test_failed = 1; \
           fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %s (%lld != %lld)\n", \
                   __FILE__, __LINE__, #a, #b, check_a_, check_b_); } \
} while (0)

#define CHECK_STR(a, b) do { \
    const char *check_a_ = (a), *check_b_ = (b); \
    if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) { check_passes++; } \
    else { check_failures++; check_test_failed = 1; \
           fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s\n  got:      %s\n  expected: %s\n", \
                   __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
                   check_b_ ? check_b_ : "(null)"); } \
} while (0)

/* Compares a buffer of known length with a C string. */
#define CHECK_MEM(p, n, s) do { \
    const char *check_p_ = (const char *)(p); size_t check_n_ = (n); const char *check_s_ = (s); \
    if (check_n_ == strlen(check_s_) && memcmp(check_p_, check_s_, check_n_) == 0) { check_passes++; } \
    else { check_failures++; check_test_failed = 1; \
           fprintf(stderr, "%s:%d: CHECK_MEM failed: %s\n  got:      %.*s\n  expected: %s\n", \
                   __FILE__, __LINE__, #p, (int)check_n_, check_p_, check_s_); } \
} while (0)

#define RUN(fn) do { \
    check_test_failed = 0; fn(); \
    fprintf(stderr, "%s %s\n", check_test_failed ? "FAIL" : "ok  ", #fn); \
} while (0)

static inline int check_report(void) {
    printf("%d passed, %d failed\n", check_passes, check_failures);
    return check_failures ? 1 : 0;
}

#endif
