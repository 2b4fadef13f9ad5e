/* test_expr_compile.c — compile-time errors of the expression language and
 * where they point: each bad expression must produce exactly one diag line,
 * with the column inside the expression added to the config position (or
 * spelled out in the message when the position has no column or the
 * expression spans lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "expr/expr.h"

/* Compiles src at pipeline.yaml:12:col and returns the printed diag (static). */
static const char *compile_error(const char *src, int line, int col)
{
    static char out[1024];
    sl_diag diag;
    sl_diag_init(&diag);
    sl_pos at = { sl_diag_file(&diag, "pipeline.yaml"), line, col };
    sl_expr *e = sl_expr_compile(src, at, &diag);
    sl_buf b;
    sl_buf_init(&b);
    sl_diag_print(&diag, &b);
    snprintf(out, sizeof out, "%s%.*s", e ? "compiled; " : "", (int)b.len, b.data);
    CHECK_INT(diag.errors, e ? 0 : 1);
    sl_buf_free(&b);
    sl_expr_free(e);
    sl_diag_free(&diag);
    return out;
}

typedef struct { const char *src, *want; } compile_case;

/* All at pipeline.yaml:12:15. */
static const compile_case cases[] = {
    { "len(.a) + lowr(.b)", "pipeline.yaml:12:25: error: unknown function 'lowr' (did you mean 'lower'?)\n" },
    { "start_with(.a, \"x\")", "pipeline.yaml:12:15: error: unknown function 'start_with' (did you mean 'starts_with'?)\n" },
    { "f(1)", "pipeline.yaml:12:15: error: unknown function 'f'\n" },
    { "lower(.a, .b)", "pipeline.yaml:12:15: error: lower() takes 1 argument, got 2\n" },
    { "contains(.a)", "pipeline.yaml:12:15: error: contains() takes 2 arguments, got 1\n" },
    { "now(1)", "pipeline.yaml:12:15: error: now() takes 0 arguments, got 1\n" },
    { "to_int(1, 2, 3, 4)", "pipeline.yaml:12:15: error: to_int() takes 1 argument, got 4\n" },
    { "exists(\"a\")", "pipeline.yaml:12:22: error: exists() takes a field path, like exists(.user.email)\n" },
    { "matches(.a, .b)", "pipeline.yaml:12:27: error: matches() needs its pattern as a string literal, like matches(.msg, \"^err\")\n" },
    { "matches(.a, \"(ab\")", "pipeline.yaml:12:27: error: invalid regex: missing closing parenthesis (at offset 3 in the pattern)\n" },
    { "matches(.a, 42)", "pipeline.yaml:12:27: error: matches() expects a regex string as argument 2, got int\n" },
    { "\"a\" > 3", "pipeline.yaml:12:19: error: operator '>' cannot compare string with int\n" },
    { "\"\xc3\xa9\" > 1", "pipeline.yaml:12:19: error: operator '>' cannot compare string with int\n" },
    { "lower(42)", "pipeline.yaml:12:21: error: lower() expects a string, got int\n" },
    { "starts_with(.a, 1.5)", "pipeline.yaml:12:31: error: starts_with() expects a string as argument 2, got float\n" },
    { "1 + true", "pipeline.yaml:12:17: error: operator '+' cannot add int and bool (it adds numbers or joins strings)\n" },
    { "len(.a) + \"x\"", "pipeline.yaml:12:23: error: operator '+' cannot add int and string (it adds numbers or joins strings)\n" },
    { "lower(.a) * 2", "pipeline.yaml:12:25: error: operator '*' needs numbers, got string or null and int\n" },
    { "exists(.a) < 2", "pipeline.yaml:12:26: error: operator '<' cannot compare bool with int\n" },
    { "-\"a\"", "pipeline.yaml:12:15: error: operator '-' cannot negate string (\"a\")\n" },
    { "-exists(.a)", "pipeline.yaml:12:15: error: operator '-' cannot negate bool\n" },
    { ".a in \"abc\"", "pipeline.yaml:12:18: error: operator 'in' needs a list on its right, like .x in [1, 2], got string\n" },
    { "-18446744073709551615", "pipeline.yaml:12:15: error: integer overflow: -18446744073709551615 does not fit in 64 bits\n" },
    { "99999999999999999999", "pipeline.yaml:12:15: error: integer 99999999999999999999 is out of range (integers are 64-bit)\n" },
    { "1e999", "pipeline.yaml:12:15: error: number 1e999 is out of range\n" },
    { "12abc", "pipeline.yaml:12:15: error: invalid number '12abc'\n" },
    { "1.x", "pipeline.yaml:12:15: error: invalid number '1.x'\n" },
    { ".a > ", "pipeline.yaml:12:20: error: expected a value, a field path or '(', got end of expression\n" },
    { ".a == )", "pipeline.yaml:12:21: error: expected a value, a field path or '(', got ')'\n" },
    { "in [1]", "pipeline.yaml:12:15: error: expected a value, a field path or '(', got 'in'\n" },
    { ".a = 1", "pipeline.yaml:12:18: error: unexpected '=' (did you mean '=='?)\n" },
    { ".a & .b", "pipeline.yaml:12:18: error: unexpected '&' (did you mean '&&'?)\n" },
    { ".a | .b", "pipeline.yaml:12:18: error: unexpected '|' (did you mean '||'?)\n" },
    { "(.a", "pipeline.yaml:12:18: error: expected ')', got end of expression\n" },
    { ".a .b", "pipeline.yaml:12:18: error: unexpected '.b' after a complete expression (missing operator?)\n" },
    { ".a and .b", "pipeline.yaml:12:18: error: unexpected 'and' (use '&&', '||' and '!')\n" },
    { "level == \"x\"", "pipeline.yaml:12:15: error: unknown name 'level' (field paths start with '.': did you mean '.level'?)\n" },
    { "True", "pipeline.yaml:12:15: error: unknown name 'True' (did you mean 'true'?)\n" },
    { "\"abc", "pipeline.yaml:12:15: error: unterminated string (missing closing '\"')\n" },
    { "\"a\\q\"", "pipeline.yaml:12:17: error: invalid escape '\\q' in string (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)\n" },
    { "\"\\ud800\"", "pipeline.yaml:12:16: error: invalid \\u escape in string (expected \\uXXXX; surrogates must come in pairs)\n" },
    { "\"\xff\"", "pipeline.yaml:12:15: error: string is not valid UTF-8\n" },
    { "'a'", "pipeline.yaml:12:15: error: strings are written with double quotes (\"...\"), not single quotes\n" },
    { "1 < 2 < 3", "pipeline.yaml:12:21: error: comparisons cannot be chained; combine them with '&&'\n" },
    { ".a == 1 in [1]", "pipeline.yaml:12:23: error: comparisons cannot be chained; combine them with '&&'\n" },
    { ".a.", "pipeline.yaml:12:17: error: expected a field name after '.'\n" },
    { ".a.[0]", "pipeline.yaml:12:17: error: expected a field name after '.'\n" },
    { ".a[x]", "pipeline.yaml:12:18: error: expected an array index like [0] or [-1]\n" },
    { ".a[1", "pipeline.yaml:12:17: error: expected an array index like [0] or [-1]\n" },
    { "", "pipeline.yaml:12:15: error: empty expression\n" },
    { "   ", "pipeline.yaml:12:15: error: empty expression\n" },
    { "[1, 2", "pipeline.yaml:12:20: error: expected ',' or ']' in list, got end of expression\n" },
    { "lower(.a .b)", "pipeline.yaml:12:24: error: expected ',' or ')' after argument of lower(), got '.b'\n" },
    { ".a @ 1", "pipeline.yaml:12:18: error: unexpected character '@'\n" },
    { ".a \x01", "pipeline.yaml:12:18: error: unexpected byte 0x01\n" },
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = compile_error(cases[i].src, 12, 15);
        if (strcmp(got, cases[i].want) != 0) fprintf(stderr, "expression: %s\n", cases[i].src);
        CHECK_STR(got, cases[i].want);
    }
}

/* Without a column (e.g. a quoted YAML scalar), or across lines, the column
 * goes into the message. */
static void test_positions(void)
{
    CHECK_STR(compile_error(".a == 1 && lowr(.b)", 12, 0),
              "pipeline.yaml:12:0: error: col 12: unknown function 'lowr' (did you mean 'lower'?)\n");
    CHECK_STR(compile_error(".a == 1 &&\n  lowr(.b)", 12, 15),
              "pipeline.yaml:12:15: error: line 2, col 3: unknown function 'lowr' (did you mean 'lower'?)\n");
    CHECK_STR(compile_error(".a == 1 &&\n  .b > \"x\"", 12, 15), "compiled; ");
}

static void test_nesting_limits(void)
{
    char src[2000];
    size_t n = 0;
    for (int i = 0; i < 300; i++) src[n++] = '(';
    src[n++] = '1';
    for (int i = 0; i < 300; i++) src[n++] = ')';
    src[n] = '\0';
    CHECK_STR(compile_error(src, 1, 1), "pipeline.yaml:1:201: error: expression is nested too deeply (more than 200 levels)\n");

    n = 0;
    src[n++] = '1';
    for (int i = 0; i < 300; i++) { memcpy(src + n, "+1", 2); n += 2; }
    src[n] = '\0';
    CHECK_STR(compile_error(src, 1, 1), "pipeline.yaml:1:400: error: expression is nested too deeply (more than 200 levels)\n");

    memset(src, '-', 1000);
    memcpy(src + 1000, "1", 2);
    CHECK_STR(compile_error(src, 1, 1), "pipeline.yaml:1:201: error: expression is nested too deeply (more than 200 levels)\n");

    /* 150 levels are fine */
    n = 0;
    for (int i = 0; i < 150; i++) src[n++] = '(';
    src[n++] = '1';
    for (int i = 0; i < 150; i++) src[n++] = ')';
    src[n] = '\0';
    CHECK_STR(compile_error(src, 1, 1), "compiled; ");
}

static void test_valid(void)
{
    static const char *const good[] = {
        ".latency_ms > 500 && .level != \"debug\"",
        "ends_with(lower(.user.email), \"@example.com\")",
        ".tags[0] in [\"a\", \"b\"] || exists(.\"quoted key\")",
        "!(.a == 1) && -(.b) < 0 && .c % 2 == 1",
        "matches(.msg, \"^err(or)?\\\\b\")",
        "len(.a) + 1 > 2 && to_string(.n) == \"1\" && now() > .ts",
        ".a in .b",
        ".\"in\" == .null",
        "null == null",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *got = compile_error(good[i], 1, 1);
        if (strcmp(got, "compiled; ") != 0) fprintf(stderr, "expression: %s\n", good[i]);
        CHECK_STR(got, "compiled; ");
    }
}

/* A NULL diag is allowed (callers that only want to know "does it compile"). */
static void test_null_diag(void)
{
    sl_pos at = { 0 };
    CHECK(sl_expr_compile("lowr(.a)", at, NULL) == NULL);
}

int main(void)
{
    RUN(test_errors);
    RUN(test_positions);
    RUN(test_nesting_limits);
    RUN(test_valid);
    RUN(test_null_diag);
    return check_report();
}
