/* test_expr_eval.c — evaluation of expressions against one fixed record:
 * every operator, precedence, null and missing fields, exact integer
 * arithmetic and its errors, mixed int/float, strings, `in`, every function,
 * paths with quoted keys and indexes, and the exact runtime error messages.
 *
 * Each case is (expression, expected result) where the result is written as
 * "type:value" (see render) or "error:<message>".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/util.h"
#include "expr/expr.h"

static sl_arena arena;
static sl_value record;

static void set(sl_value *map, const char *key, sl_value v)
{
    sl_map_set(&arena, map, key, strlen(key), v);
}

static sl_value strings(const char *const *items, size_t n)
{
    sl_value arr = sl_array_new(&arena, n);
    for (size_t i = 0; i < n; i++) sl_array_push(&arena, &arr, sl_cstring(items[i]));
    return arr;
}

/* {"name":"Alice","level":"info","latency_ms":750,"ratio":0.5,"count":3,
 *  "big":INT64_MAX,"huge":UINT64_MAX,"neg":-5,"flag":true,"off":false,
 *  "nothing":null,"user":{"email":"Alice@Example.com","id":42,"tags":["a","b","c"]},
 *  "tags":["x","y",3],"x y":"spaced","in":"keyword","empty":"","num_str":"123",
 *  "float_str":"2.5","bad_num":"12abc","unicode":"héllo","raw_num":1.50 (raw text),
 *  "ts":2020-01-02T03:04:05.5Z} */
static void build_record(void)
{
    record = sl_map_new(&arena, 8);
    set(&record, "name", sl_cstring("Alice"));
    set(&record, "level", sl_cstring("info"));
    set(&record, "latency_ms", sl_int(750));
    set(&record, "ratio", sl_double(0.5));
    set(&record, "count", sl_int(3));
    set(&record, "big", sl_int(INT64_MAX));
    set(&record, "huge", sl_uint(UINT64_MAX));
    set(&record, "neg", sl_int(-5));
    set(&record, "flag", sl_bool(true));
    set(&record, "off", sl_bool(false));
    set(&record, "nothing", sl_null());
    sl_value user = sl_map_new(&arena, 4);
    set(&user, "email", sl_cstring("Alice@Example.com"));
    set(&user, "id", sl_int(42));
    static const char *const abc[] = { "a", "b", "c" };
    set(&user, "tags", strings(abc, 3));
    set(&record, "user", user);
    static const char *const xy[] = { "x", "y" };
    sl_value tags = strings(xy, 2);
    sl_array_push(&arena, &tags, sl_int(3));
    set(&record, "tags", tags);
    set(&record, "x y", sl_cstring("spaced"));
    set(&record, "in", sl_cstring("keyword"));
    set(&record, "empty", sl_cstring(""));
    set(&record, "num_str", sl_cstring("123"));
    set(&record, "float_str", sl_cstring("2.5"));
    set(&record, "bad_num", sl_cstring("12abc"));
    set(&record, "unicode", sl_cstring("h\xc3\xa9llo"));
    sl_value raw = sl_double(1.5);
    raw.x.raw = "1.50";
    raw.raw_len = 4;
    set(&record, "raw_num", raw);
    int64_t ts;
    sl_parse_rfc3339("2020-01-02T03:04:05.5Z", 22, &ts);
    set(&record, "ts", sl_timestamp(ts));
}

/* "int:3", "double:0.5", "string:abc", "bool:true", "null", "uint:...",
 * "list:[a,3]" (items rendered without type), "map:N", "timestamp:RFC3339". */
static void render_plain(const sl_value *v, char *out, size_t cap)
{
    switch ((sl_type)v->type) {
    case SL_NULL: snprintf(out, cap, "null"); break;
    case SL_BOOL: snprintf(out, cap, "%s", v->as.b ? "true" : "false"); break;
    case SL_INT: snprintf(out, cap, "%lld", (long long)v->as.i); break;
    case SL_UINT: snprintf(out, cap, "%llu", (unsigned long long)v->as.u); break;
    case SL_DOUBLE: snprintf(out, cap, "%.17g", v->as.d); break;
    case SL_STRING: case SL_BYTES: snprintf(out, cap, "%.*s", (int)v->len, v->as.s); break;
    case SL_MAP: snprintf(out, cap, "%u", v->len); break;
    case SL_TIMESTAMP: {
        char ts[40];
        sl_format_rfc3339(ts, v->as.i);
        snprintf(out, cap, "%s", ts);
        break;
    }
    case SL_ARRAY: {
        size_t o = (size_t)snprintf(out, cap, "[");
        for (uint32_t i = 0; i < v->len && o < cap; i++) {
            render_plain(&v->as.items[i], out + o, cap - o);
            o += strlen(out + o);
            if (i + 1 < v->len && o + 1 < cap) out[o++] = ',';
        }
        if (o + 1 < cap) { out[o++] = ']'; out[o] = '\0'; }
        break;
    }
    }
}

static void render(const sl_value *v, char *out, size_t cap)
{
    static const char *const names[] = { "null", "bool", "int", "uint", "double", "string",
                                         "bytes", "list", "map", "timestamp" };
    if (v->type == SL_NULL) { snprintf(out, cap, "null"); return; }
    size_t o = (size_t)snprintf(out, cap, "%s:", names[v->type]);
    render_plain(v, out + o, cap - o);
}

typedef struct { const char *expr, *want; } eval_case;

static const eval_case cases[] = {
    /* literals */
    { "null", "null" },
    { "true", "bool:true" },
    { "false", "bool:false" },
    { "42", "int:42" },
    { "1e3", "double:1000" },
    { "2.5", "double:2.5" },
    { "\"a\\\"b\\u00e9\\n\"", "string:a\"b\xc3\xa9\n" },
    { "\"\\ud83d\\ude00\"", "string:\xf0\x9f\x98\x80" },
    { "-9223372036854775808", "int:-9223372036854775808" },
    { "18446744073709551615", "uint:18446744073709551615" },
    { "[1, \"a\", null]", "list:[1,a,null]" },
    { "[.count, .name]", "list:[3,Alice]" },
    { "[]", "list:[]" },
    /* arithmetic and precedence */
    { "1 + 2 * 3", "int:7" },
    { "(1 + 2) * 3", "int:9" },
    { "10 - 4 - 3", "int:3" },
    { "2 * -3", "int:-6" },
    { "- -3", "int:3" },
    { "-.count", "int:-3" },
    { "-.ratio", "double:-0.5" },
    { "7 / 2", "int:3" },
    { "-7 / 2", "int:-3" },
    { "-7 % 3", "int:-1" },
    { "7 % 2.5", "double:2" },
    { "7.0 / 2", "double:3.5" },
    { "1 + 0.5", "double:1.5" },
    { ".ratio * 4", "double:2" },
    { ".count * .ratio", "double:1.5" },
    { ".big + 1", "uint:9223372036854775808" },
    { ".big * 2", "uint:18446744073709551614" },
    { ".huge - .huge", "int:0" },
    { ".huge - 1", "uint:18446744073709551614" },
    { ".huge / .big", "int:2" },
    { ".huge % 10", "int:5" },
    { ".neg * .huge", "error:col 6: integer overflow: -5 * 18446744073709551615 does not fit in 64 bits" },
    { ".huge + 1", "error:col 7: integer overflow: 18446744073709551615 + 1 does not fit in 64 bits" },
    { ".big * 3", "error:col 6: integer overflow: 9223372036854775807 * 3 does not fit in 64 bits" },
    { "-.big - 2", "error:col 7: integer overflow: -9223372036854775807 - 2 does not fit in 64 bits" },
    { "-.huge", "error:col 1: integer overflow: -18446744073709551615 does not fit in 64 bits" },
    { "-.name", "error:col 1: operator '-' cannot negate string (\"Alice\")" },
    { "-9223372036854775808 / -1", "uint:9223372036854775808" },
    { ".count / 0", "error:col 8: division by zero" },
    { ".count % 0", "error:col 8: division by zero" },
    { ".ratio / 0", "error:col 8: division by zero" },
    { "1e308 * 10", "error:col 7: 1e+308 * 10 is not a finite number" },
    { "\"a\" + \"b\"", "string:ab" },
    { ".name + \"!\" + .empty", "string:Alice!" },
    { ".name + 1", "error:col 7: operator '+' cannot add string and int (it adds numbers or joins strings) (left: \"Alice\", right: 1)" },
    { ".flag * 2", "error:col 7: operator '*' needs numbers, got bool and int (left: true, right: 2)" },
    { ".missing + 1", "error:col 10: operator '+' cannot add null and int (it adds numbers or joins strings) (left: null, right: 1)" },
    /* comparisons */
    { ".count == 3", "bool:true" },
    { ".count == 3.0", "bool:true" },
    { ".count != 3", "bool:false" },
    { ".name == \"Alice\"", "bool:true" },
    { ".name == 3", "bool:false" },
    { ".latency_ms > 500 && .level != \"debug\"", "bool:true" },
    { ".latency_ms >= 750", "bool:true" },
    { ".latency_ms <= 749.5", "bool:false" },
    { ".huge > .big", "bool:true" },
    { "\"abc\" < \"abd\"", "bool:true" },
    { ".off < .flag", "bool:true" },
    { ".missing == null", "bool:true" },
    { ".nothing != null", "bool:false" },
    { ".nothing > 3", "bool:false" },
    { ".missing < 3", "bool:false" },
    { "3 >= .missing", "bool:false" },
    { ".name > 3", "error:col 7: operator '>' cannot compare string with int (left: \"Alice\", right: 3)" },
    { ".user < .count", "error:col 7: operator '<' cannot compare map with int (left: a map of 3 fields, right: 3)" },
    { ".user.tags == [\"a\", \"b\", \"c\"]", "bool:true" },
    /* logic */
    { "!true", "bool:false" },
    { "!.nothing", "bool:true" },
    { "!.missing", "bool:true" },
    { "!0", "bool:false" },
    { "!!.name", "bool:true" },
    { "!.count == 3", "bool:false" },
    { "1 < 2 && 2 < 3 || false", "bool:true" },
    { "false || true && false", "bool:false" },
    { "false && .name > 3", "bool:false" },
    { "true || .name > 3", "bool:true" },
    { ".name && .count", "bool:true" },
    { ".nothing || .off", "bool:false" },
    /* in */
    { ".tags[0] in [\"a\", \"x\"]", "bool:true" },
    { ".count in [1, 2, 3.0]", "bool:true" },
    { ".level in [.name, \"info\"]", "bool:true" },
    { ".level in [.name, \"warn\"]", "bool:false" },
    { ".missing in [null]", "bool:true" },
    { ".name in .tags", "bool:false" },
    { "3 in .tags", "bool:true" },
    { ".name in .level", "error:col 7: operator 'in' needs a list on its right, got string (\"info\")" },
    /* paths */
    { ".user.email", "string:Alice@Example.com" },
    { ".user.tags[1]", "string:b" },
    { ".user.tags[-1]", "string:c" },
    { ".user.tags[-4]", "null" },
    { ".user.tags[5]", "null" },
    { ".user.email.x", "null" },
    { ".name[0]", "null" },
    { ".\"x y\"", "string:spaced" },
    { ".in", "string:keyword" },
    { ".\"in\" == .in", "bool:true" },
    { ".user.\"id\"", "int:42" },
    { ".", "map:22" },
    { ".[0]", "null" },
    /* functions */
    { "exists(.nothing)", "bool:true" },
    { "exists(.missing)", "bool:false" },
    { "exists(.user.id)", "bool:true" },
    { "exists(.user.tags[3])", "bool:false" },
    { "len(.name)", "int:5" },
    { "len(.unicode)", "int:5" },
    { "len(.tags)", "int:3" },
    { "len(.user)", "int:3" },
    { "len(.missing)", "int:0" },
    { "len(\"\")", "int:0" },
    { "len(.count)", "error:col 1: len() expects a string, list or map, got int (3)" },
    { "lower(.user.email)", "string:alice@example.com" },
    { "upper(.unicode)", "string:H\xc3\xa9LLO" },
    { "lower(.missing)", "null" },
    { "upper(.flag)", "error:col 1: upper() expects a string, got bool (true)" },
    { "contains(.name, \"lic\")", "bool:true" },
    { "contains(.name, \"\")", "bool:true" },
    { "contains(.name, \"lice!\")", "bool:false" },
    { "contains(.tags, 3)", "bool:true" },
    { "contains(.tags, \"z\")", "bool:false" },
    { "contains(.missing, \"a\")", "bool:false" },
    { "contains(.name, 3)", "error:col 1: contains() on a string expects a string as argument 2, got int (3)" },
    { "contains(.count, 3)", "error:col 1: contains() expects a string or a list as argument 1, got int (3)" },
    { "starts_with(.name, \"Al\")", "bool:true" },
    { "starts_with(.name, \"Alice and\")", "bool:false" },
    { "ends_with(lower(.user.email), \"@example.com\")", "bool:true" },
    { "ends_with(.name, \"x\")", "bool:false" },
    { "starts_with(.missing, \"a\")", "bool:false" },
    { "starts_with(.name, .missing)", "error:col 1: starts_with() expects a string as argument 2, got null (null)" },
    { "matches(.user.email, \"^[a-z]+@\")", "bool:false" },
    { "matches(.user.email, \"(?i)^alice@\")", "bool:true" },
    { "matches(.unicode, \"^h.llo$\")", "bool:true" },
    { "matches(.missing, \"x\")", "bool:false" },
    { "to_int(.num_str)", "int:123" },
    { "to_int(\"-42\")", "int:-42" },
    { "to_int(\"18446744073709551615\")", "uint:18446744073709551615" },
    { "to_int(.ratio)", "int:0" },
    { "to_int(-2.7)", "int:-2" },
    { "to_int(true)", "int:1" },
    { "to_int(.count)", "int:3" },
    { "to_int(.missing)", "null" },
    { "to_int(.ts)", "int:1577934245500000000" },
    { "to_int(.bad_num)", "error:col 1: to_int() cannot convert string \"12abc\" to an integer" },
    { "to_int(\"\")", "error:col 1: to_int() cannot convert string \"\" to an integer" },
    { "to_int(\"99999999999999999999\")", "error:col 1: to_int() cannot convert string \"99999999999999999999\" to an integer (out of range)" },
    { "to_int(1e30)", "error:col 1: to_int() cannot convert float 1e+30 to an integer (out of range)" },
    { "to_int(.tags)", "error:col 1: to_int() expects a number, string, bool or timestamp, got array (a list of 3 items)" },
    { "to_float(.float_str)", "double:2.5" },
    { "to_float(.count)", "double:3" },
    { "to_float(false)", "double:0" },
    { "to_float(\"1e3\")", "double:1000" },
    { "to_float(\"inf\")", "error:col 1: to_float() cannot convert string \"inf\" to a float" },
    { "to_float(\"1.5.\")", "error:col 1: to_float() cannot convert string \"1.5.\" to a float" },
    { "to_string(.raw_num)", "string:1.50" },
    { "to_string(.count)", "string:3" },
    { "to_string(.huge)", "string:18446744073709551615" },
    { "to_string(0.1 + 0.2)", "string:0.30000000000000004" },
    { "to_string(2.0)", "string:2.0" },
    { "to_string(1e21)", "string:1e+21" },
    { "to_string(true)", "string:true" },
    { "to_string(.ts)", "string:2020-01-02T03:04:05.5Z" },
    { "to_string(.missing)", "null" },
    { "to_string(.name) + \"?\"", "string:Alice?" },
    { "now() > .ts", "bool:true" },
    { "to_int(now()) > 1577934245500000000", "bool:true" },
    /* errors deep inside report the column of the failing operator */
    { "len(.name) == 5 && (.count + .name) > 1",
      "error:col 28: operator '+' cannot add int and string (it adds numbers or joins strings) (left: 3, right: \"Alice\")" },
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_diag diag;
        sl_diag_init(&diag);
        sl_pos at = { 0 };
        sl_expr *e = sl_expr_compile(cases[i].expr, at, &diag);
        char got[600];
        if (!e) {
            sl_buf b;
            sl_buf_init(&b);
            sl_diag_print(&diag, &b);
            fprintf(stderr, "compile failed: %s\n%.*s", cases[i].expr, (int)b.len, b.data);
            sl_buf_free(&b);
            CHECK(e != NULL);
        } else {
            sl_value out;
            sl_error err;
            if (sl_expr_eval(e, &record, &arena, &out, &err) < 0) snprintf(got, sizeof got, "error:%s", err.msg);
            else render(&out, got, sizeof got);
            if (strcmp(got, cases[i].want) != 0) fprintf(stderr, "expression: %s\n", cases[i].expr);
            CHECK_STR(got, cases[i].want);
            CHECK_STR(sl_expr_source(e), cases[i].expr);
        }
        sl_expr_free(e);
        sl_diag_free(&diag);
    }
}

static void test_truthiness(void)
{
    static const struct { const char *expr; int want; } tests[] = {
        { ".name", 1 }, { ".nothing", 0 }, { ".missing", 0 }, { ".off", 0 }, { ".count", 1 },
        { "0", 1 }, { "\"\"", 1 }, { ".name > 3", -1 },
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        sl_pos at = { 0 };
        sl_expr *e = sl_expr_compile(tests[i].expr, at, NULL);
        sl_error err;
        CHECK(e != NULL);
        if (e) CHECK_INT(sl_expr_test(e, &record, &arena, &err), tests[i].want);
        sl_expr_free(e);
    }
}

/* Evaluation must not allocate from the arena unless it builds a value. */
static void test_no_allocation(void)
{
    sl_pos at = { 0 };
    sl_expr *e = sl_expr_compile(".latency_ms > 500 && .level in [\"info\", \"warn\"] && "
                                 "starts_with(lower(.level), \"in\") && .user.tags[0] == \"a\" && "
                                 "matches(.name, \"^A\") && .count * 2 + 1 == 7",
                                 at, NULL);
    CHECK(e != NULL);
    if (!e) return;
    size_t before = arena.used_total;
    sl_error err;
    for (int i = 0; i < 1000; i++) CHECK_INT(sl_expr_test(e, &record, &arena, &err), 1);
    CHECK_INT(arena.used_total, before);
    sl_expr_free(e);
}

/* One compiled expression evaluated by several threads at once (each with
 * its own arena): results stay right, and each thread's regex scratch space
 * is freed when the thread ends (LeakSanitizer checks). */
static sl_expr *shared_expr;

static void *eval_thread(void *arg)
{
    sl_arena a;
    sl_arena_init(&a, 1024);
    long ok = 0;
    for (int i = 0; i < 2000; i++) {
        sl_error err;
        ok += sl_expr_test(shared_expr, &record, &a, &err) == 1;
        sl_arena_reset(&a);
    }
    sl_arena_free(&a);
    return (void *)ok;
}

static void test_threads(void)
{
    sl_pos at = { 0 };
    shared_expr = sl_expr_compile("matches(.name, \"^A\") && matches(.user.email, \"(?i)EXAMPLE\\\\.com$\") && "
                                  "!matches(.level, \"^warn\") && lower(.name) + \"!\" == \"alice!\"", at, NULL);
    CHECK(shared_expr != NULL);
    if (!shared_expr) return;
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, eval_thread, NULL);
    for (int i = 0; i < 4; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        CHECK_INT((long)ok, 2000);
    }
    sl_expr_free(shared_expr);
}

int main(void)
{
    sl_arena_init(&arena, 4096);
    build_record();
    RUN(test_cases);
    RUN(test_truthiness);
    RUN(test_no_allocation);
    RUN(test_threads);
    sl_arena_free(&arena);
    return check_report();
}
