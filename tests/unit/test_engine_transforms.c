/* test_engine_transforms.c — the transforms (parse, filter, route, remap,
 * sample, lua), run through a real pipeline.
 *
 * sl_emit belongs to the runtime, so transforms are exercised the way they
 * run in production, through transform_harness.h: its `lines` source emits
 * the input (each line positioned at file_id 42 and its byte offset) and its
 * `capture` sink collects the output. Every test compares the exact output
 * text and the DLQ entries ("reason: message" per line). Option errors are
 * checked through the same build, against the diag text.
 */
#include "check.h"
#include "transform_harness.h"

static int run(const char *body, const char *input) {
    return run_with(body, input, 1, 1024);
}

/* ---- parse ---- */

static void test_parse_merge(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: parse\n    inputs: [in]\n" SINK_OUT("t"),
                  "{\"a\":1,\"message\":\"{\\\"b\\\":2.50,\\\"a\\\":\\\"x\\\"}\",\"z\":true}\n"),
              0);
    /* a replaced in place, message dropped, b appended with its original text */
    CHECK_STR(output("out"), "{\"a\":\"x\",\"z\":true,\"b\":2.50}\n");
    CHECK_STR(dlq(), "");
    reset();
}

static void test_parse_keep_field_and_escapes(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: parse\n    inputs: [in]\n    drop_field: false\n"
                  SINK_OUT("t"),
                  "{\"message\":\"{\\\"s\\\":\\\"tab\\\\there \\\\u00e9\\\"}\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"message\":\"{\\\"s\\\":\\\"tab\\\\there \\\\u00e9\\\"}\",\"s\":\"tab\\there \xc3\xa9\"}\n");
    reset();
}

static void test_parse_target(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: parse\n    inputs: [in]\n    field: raw.body\n"
                  "    target: parsed.value\n" SINK_OUT("t"),
                  "{\"raw\":{\"body\":\"[1, 2, {\\\"k\\\": null}]\"}}\n"
                  "{\"raw\":{\"body\":\" 42 \"}}\n"),
              0);
    CHECK_STR(output("out"),
              "{\"raw\":{\"body\":\"[1, 2, {\\\"k\\\": null}]\"},\"parsed\":{\"value\":[1,2,{\"k\":null}]}}\n"
              "{\"raw\":{\"body\":\" 42 \"},\"parsed\":{\"value\":42}}\n");
    reset();
}

static void test_parse_failures(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: parse\n    inputs: [in]\n" SINK_OUT("t"),
                  "{\"other\":1}\n"
                  "{\"message\":5}\n"
                  "{\"message\":\"{oops\"}\n"
                  "{\"message\":\"[1,2]\"}\n"
                  "{\"message\":\"{\\\"ok\\\":1}\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"ok\":1}\n");
    const char *d = dlq();
    CHECK(strstr(d, "parse_failed: field message is missing\n") == d);
    CHECK(strstr(d, "parse_failed: field message is int, not a string of JSON text\n") != NULL);
    CHECK(strstr(d, "parse_failed: field message is not valid JSON: ") != NULL);
    int lines = 0;
    for (const char *p = d; *p; p++) lines += *p == '\n';
    CHECK_INT(lines, 4);
    reset();
}

static void test_parse_depth_and_options(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: parse\n    inputs: [in]\n    max_depth: 2\n" SINK_OUT("t"),
                  "{\"message\":\"{\\\"a\\\":{\\\"b\\\":1}}\"}\n"
                  "{\"message\":\"{\\\"a\\\":{\\\"b\\\":[1]}}\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"a\":{\"b\":1}}\n");
    check_prefix(dlq(), "parse_failed: field message is not valid JSON: ");
    reset();
    check_build_error("transforms:\n  t:\n    type: parse\n    inputs: [in]\n    max_depth: 0\n" SINK_OUT("t"),
                      "test.yaml:13:16: error: max_depth must be between 1 and 1024, got 0");
    reset();
}

/* ---- filter ---- */

static void test_filter(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: filter\n    inputs: [in]\n"
                  "    condition: '.n > 1 && .level != \"debug\"'\n" SINK_OUT("t"),
                  "{\"n\":1,\"level\":\"info\"}\n"
                  "{\"n\":2,\"level\":\"info\"}\n"
                  "{\"n\":3,\"level\":\"debug\"}\n"
                  "{\"n\":\"x\",\"level\":\"info\"}\n"
                  "{\"level\":\"info\"}\n"
                  "{\"n\":5.5}\n"),
              0);
    CHECK_STR(output("out"), "{\"n\":2,\"level\":\"info\"}\n{\"n\":5.5}\n");
    const char *d = dlq();
    check_prefix(d, "expr_error: condition `.n > 1 && .level != \"debug\"`: ");
    CHECK(strchr(d, '\n') == d + strlen(d) - 1);   /* exactly one entry */
    reset();
}

static void test_filter_errors(void) {
    check_build_error("transforms:\n  t:\n    type: filter\n    inputs: [in]\n" SINK_OUT("t"),
                      "condition");
    reset();
    check_build_error("transforms:\n  t:\n    type: filter\n    inputs: [in]\n    condition: '.a >'\n"
                      SINK_OUT("t"), "test.yaml:13:");
    reset();
}

/* ---- route ---- */

static void test_route(void) {
    CHECK_INT(run("transforms:\n  r:\n    type: route\n    inputs: [in]\n    routes:\n"
                  "      errors: '.level == \"error\"'\n"
                  "      slow: '.ms > 100'\n"
                  "sinks:\n"
                  "  e: {type: capture, inputs: [r.errors]}\n"
                  "  s: {type: capture, inputs: [r.slow]}\n"
                  "  u: {type: capture, inputs: [r._unmatched]}\n",
                  "{\"id\":1,\"level\":\"error\",\"ms\":5}\n"
                  "{\"id\":2,\"level\":\"error\",\"ms\":500}\n"
                  "{\"id\":3,\"level\":\"info\",\"ms\":500}\n"
                  "{\"id\":4,\"level\":\"info\",\"ms\":5}\n"
                  "{\"id\":5,\"level\":\"info\",\"ms\":\"x\"}\n"),
              0);
    CHECK_STR(output("e"), "{\"id\":1,\"level\":\"error\",\"ms\":5}\n{\"id\":2,\"level\":\"error\",\"ms\":500}\n");
    CHECK_STR(output("s"), "{\"id\":2,\"level\":\"error\",\"ms\":500}\n{\"id\":3,\"level\":\"info\",\"ms\":500}\n");
    CHECK_STR(output("u"), "{\"id\":4,\"level\":\"info\",\"ms\":5}\n");
    check_prefix(dlq(), "expr_error: route 'slow', condition `.ms > 100`: ");
    reset();
}

static void test_route_errors(void) {
    check_build_error("transforms:\n  r:\n    type: route\n    inputs: [in]\n    routes:\n"
                      "      _unmatched: '.a == 1'\n" SINK_OUT("r._unmatched"),
                      "test.yaml:14:7: error: route name '_unmatched' is reserved");
    reset();
    check_build_error("transforms:\n  r:\n    type: route\n    inputs: [in]\n    routes:\n"
                      "      Bad-Name: '.a == 1'\n" SINK_OUT("r._unmatched"),
                      "test.yaml:14:7: error: route name 'Bad-Name' may only contain lowercase letters");
    reset();
    check_build_error("transforms:\n  r:\n    type: route\n    inputs: [in]\n    routes: {}\n"
                      SINK_OUT("r._unmatched"),
                      "routes must be a mapping of output name to condition, with at least one route");
    reset();
}

/* ---- remap ---- */

static void test_remap_order_and_rename(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                  "    keep: [b, total, user.id, tags]\n"   /* written first, runs last */
                  "    rename: {a: b, user.name: who}\n"
                  "    set:\n      total: '.b + .c'\n      user.copy: '.user'\n"
                  "    delete: [c]\n" SINK_OUT("t"),
                  "{\"x\":0,\"a\":1,\"c\":2,\"user\":{\"id\":7,\"name\":\"ann\",\"ip\":\"h\"},\"tags\":[1]}\n"),
              0);
    CHECK_STR(output("out"), "{\"b\":1,\"user\":{\"id\":7},\"tags\":[1],\"total\":3}\n");
    CHECK_STR(dlq(), "");
    reset();

    CHECK_INT(run("transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                  "    rename: {a: b, user.name: who, missing: m}\n"
                  "    set:\n      user.copy: '.user'\n      user.copy.id: '8'\n" SINK_OUT("t"),
                  "{\"b\":0,\"a\":1,\"user\":{\"id\":7,\"name\":\"ann\"}}\n"),
              0);
    /* a renamed in place over the older b; copy is independent of user */
    CHECK_STR(output("out"),
              "{\"b\":1,\"user\":{\"id\":7,\"copy\":{\"id\":8}},\"who\":\"ann\"}\n");
    reset();
}

static void test_remap_cast(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                  "    cast: {i: int, f: float, s: string, b: bool, ts: timestamp, n: int, nope: int}\n"
                  SINK_OUT("t"),
                  "{\"i\":\"-42\",\"f\":\"2.5\",\"s\":1.50,\"b\":\"TRUE\",\"ts\":0,\"n\":null}\n"
                  "{\"i\":3.0,\"f\":7,\"s\":{\"k\":[1,true]},\"b\":0,\"ts\":\"2026-01-02T03:04:05.5+01:00\"}\n"
                  "{\"i\":\"12x\"}\n"
                  "{\"i\":1.5}\n"
                  "{\"b\":\"maybe\"}\n"
                  "{\"ts\":\"yesterday\"}\n"
                  "{\"i\":\"99999999999999999999\"}\n"),
              0);
    CHECK_STR(output("out"),
              "{\"i\":-42,\"f\":2.5,\"s\":\"1.50\",\"b\":true,\"ts\":\"1970-01-01T00:00:00Z\",\"n\":null}\n"
              "{\"i\":3,\"f\":7.0,\"s\":\"{\\\"k\\\":[1,true]}\",\"b\":false,\"ts\":\"2026-01-02T02:04:05.5Z\"}\n");
    CHECK_STR(dlq(),
              "remap_error: cast i to int: cannot convert \"12x\"\n"
              "remap_error: cast i to int: cannot convert 1.5\n"
              "remap_error: cast b to bool: cannot convert \"maybe\"\n"
              "remap_error: cast ts to timestamp: cannot convert \"yesterday\"\n"
              "remap_error: cast i to int: cannot convert \"99999999999999999999\"\n");
    reset();
}

static void test_remap_set_error_and_keep(void) {
    CHECK_INT(run("transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                  "    set: {sum: '.a + .b'}\n    keep: [sum, deep.x.y]\n" SINK_OUT("t"),
                  "{\"a\":1,\"b\":2,\"deep\":{\"x\":{\"y\":1,\"z\":2},\"w\":3}}\n"
                  "{\"a\":1,\"b\":\"two\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"deep\":{\"x\":{\"y\":1}},\"sum\":3}\n");
    check_prefix(dlq(), "remap_error: set sum = `.a + .b`: ");
    reset();
}

static void test_remap_errors(void) {
    check_build_error("transforms:\n  t:\n    type: remap\n    inputs: [in]\n" SINK_OUT("t"),
                      "remap needs at least one of rename, set, cast, delete or keep");
    reset();
    check_build_error("transforms:\n  t:\n    type: remap\n    inputs: [in]\n    cast: {a: integer}\n"
                      SINK_OUT("t"),
                      "test.yaml:13:15: error: cannot cast to 'integer': the types are int, float, "
                      "string, bool and timestamp");
    reset();
    check_build_error("transforms:\n  t:\n    type: remap\n    inputs: [in]\n    rename: [a, b]\n"
                      SINK_OUT("t"),
                      "rename must be a mapping of field path to new field path, not a list");
    reset();
    check_build_error("transforms:\n  t:\n    type: remap\n    inputs: [in]\n    delete: [a, '.']\n"
                      SINK_OUT("t"),
                      "delete must list fields, not the whole record");
    reset();
}

/* ---- sample ---- */

static char *numbered_lines(int n, bool keyed) {
    sl_buf b;
    sl_buf_init(&b);
    for (int i = 0; i < n; i++) {
        if (keyed)
            sl_buf_printf(&b, "{\"i\":%d,\"user\":%d}\n", i, i % 7);
        else
            sl_buf_printf(&b, "{\"i\":%d}\n", i);
    }
    sl_buf_putc(&b, 0);
    size_t len;
    return sl_buf_steal(&b, &len);
}

static void test_sample(void) {
    char *input = numbered_lines(400, false);
    const char *body = "transforms:\n  t:\n    type: sample\n    inputs: [in]\n    rate: 4\n" SINK_OUT("t");
    CHECK_INT(run_with(body, input, 1, 1024), 0);
    char *one = strdup(output("out"));
    int kept = count_lines(one);
    CHECK(kept > 60 && kept < 140);   /* about 100 */
    /* Same sample with two workers and small batches. */
    CHECK_INT(run_with(body, input, 2, 7), 0);
    CHECK_STR(output("out"), one);
    free(one);

    CHECK_INT(run_with("transforms:\n  t:\n    type: sample\n    inputs: [in]\n    rate: 1\n" SINK_OUT("t"),
                       input, 1, 1024), 0);
    CHECK_INT(count_lines(output("out")), 400);
    free(input);
    reset();
}

static void test_sample_key(void) {
    char *input = numbered_lines(700, true);
    CHECK_INT(run("transforms:\n  t:\n    type: sample\n    inputs: [in]\n    rate: 3\n"
                  "    key_field: user\n" SINK_OUT("t"), input), 0);
    /* all records of a user are kept or dropped together */
    const char *out = output("out");
    int per_user[7] = {0};
    for (const char *p = out; (p = strstr(p, "\"user\":")); p += 7) per_user[p[7] - '0']++;
    int users_kept = 0;
    for (int u = 0; u < 7; u++) {
        CHECK(per_user[u] == 0 || per_user[u] == 100);
        users_kept += per_user[u] == 100;
    }
    CHECK_INT(count_lines(out), users_kept * 100);
    free(input);
    reset();
    check_build_error("transforms:\n  t:\n    type: sample\n    inputs: [in]\n    rate: 0\n" SINK_OUT("t"),
                      "test.yaml:13:11: error: rate must be at least 1");
    reset();
}

/* ---- lua ---- */

#define LUA_T(src) "transforms:\n  t:\n    type: lua\n    inputs: [in]\n    source: |\n" src

static void test_lua_record_mode(void) {
    CHECK_INT(run(LUA_T("      function process(r)\n"
                        "        if r.drop then return nil end\n"
                        "        r.n = r.n + 1\n"
                        "        r.zeta = 'z'\n"
                        "        r.alpha = sluice.array()\n"
                        "        r.gone = nil\n"
                        "        return r\n"
                        "      end\n") SINK_OUT("t"),
                  "{\"gone\":1,\"s\":\"caf\xc3\xa9\",\"f\":1.50,\"n\":41,\"nul\":null,\"e\":[],\"m\":{}}\n"
                  "{\"drop\":true}\n"),
              0);
    CHECK_STR(output("out"),
              "{\"s\":\"caf\xc3\xa9\",\"f\":1.50,\"n\":42,\"nul\":null,\"e\":[],\"m\":{},\"alpha\":[],\"zeta\":\"z\"}\n");
    CHECK_STR(dlq(), "");
    reset();
}

/* A table kept from an earlier batch must not be trusted for field order or
 * original values (its batch is gone): it comes back with sorted keys. */
static void test_lua_tables_outliving_their_batch(void) {
    CHECK_INT(run_with(LUA_T("      function process(r)\n"
                             "        local prev = last\n"
                             "        last = r\n"
                             "        if prev then return {r, prev} end\n"
                             "        return r\n"
                             "      end\n") SINK_OUT("t"),
                       "{\"z\":1,\"a\":[1.50,1e3],\"m\":\"x\"}\n{\"y\":2,\"b\":null}\n", 1, 1),
              0);
    CHECK_STR(output("out"),
              "{\"z\":1,\"a\":[1.50,1e3],\"m\":\"x\"}\n"
              "{\"y\":2,\"b\":null}\n"
              "{\"a\":[1.5,1000],\"m\":\"x\",\"z\":1}\n");
    reset();
}

static void test_lua_big_integers(void) {
    CHECK_INT(run(LUA_T("      function process(r)\n"
                        "        r.big = r.big + 1\n"
                        "        r.kind = type(r.big)\n"
                        "        r.small = r.small * 2\n"
                        "        r.is_null = r.x == sluice.null\n"
                        "        return r\n"
                        "      end\n") SINK_OUT("t"),
                  "{\"big\":9007199254740993,\"u\":18446744073709551615,\"small\":4503599627370496,"
                  "\"neg\":-9223372036854775808,\"x\":null}\n"),
              0);
    CHECK_STR(output("out"),
              "{\"big\":9007199254740994,\"u\":18446744073709551615,\"small\":9007199254740992,"
              "\"neg\":-9223372036854775808,\"x\":null,\"is_null\":true,\"kind\":\"cdata\"}\n");
    reset();
}

static void test_lua_emit_several(void) {
    /* two workers (two Lua states), one record per batch: order still kept */
    CHECK_INT(run_with(LUA_T("      function process(r)\n"
                             "        local out = {}\n"
                             "        for i = 1, r.n do out[i] = {i = i, of = r.n} end\n"
                             "        return out\n"
                             "      end\n") SINK_OUT("t"),
                       "{\"n\":2}\n{\"n\":0}\n{\"n\":1}\n", 2, 1),
              0);
    /* {} for n = 0 is an empty record, not an empty list */
    CHECK_STR(output("out"), "{\"i\":1,\"of\":2}\n{\"i\":2,\"of\":2}\n{}\n{\"i\":1,\"of\":1}\n");
    reset();
}

static void test_lua_batch_mode(void) {
    CHECK_INT(run_with("transforms:\n  t:\n    type: lua\n    inputs: [in]\n    mode: batch\n"
                       "    function: handle\n    source: |\n"
                       "      function handle(rs)\n"
                       "        local out = sluice.array()\n"
                       "        for i = #rs, 1, -1 do out[#out + 1] = rs[i] end\n"
                       "        out[#out + 1] = {count = #rs}\n"
                       "        return out\n"
                       "      end\n" SINK_OUT("t"),
                       "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", 1, 2),
              0);
    CHECK_STR(output("out"), "{\"a\":2}\n{\"a\":1}\n{\"count\":2}\n{\"a\":3}\n{\"count\":1}\n");
    reset();
}

static void test_lua_errors(void) {
    CHECK_INT(run(LUA_T("      function process(r)\n"
                        "        if r.k == 1 then error('boom') end\n"
                        "        if r.k == 2 then return 5 end\n"
                        "        if r.k == 3 then r.f = print end\n"
                        "        if r.k == 4 then r.s = '\\255' end\n"
                        "        if r.k == 5 then r[1] = 'x' end\n"
                        "        if r.k == 6 then local t = {}; t.t = t; r.t = t end\n"
                        "        if r.k == 8 then sluice.array(5) end\n"
                        "        return r\n"
                        "      end\n") SINK_OUT("t"),
                  "{\"k\":1}\n{\"k\":2}\n{\"k\":3}\n{\"k\":4}\n{\"k\":5}\n{\"k\":6}\n{\"k\":7}\n"
                  "{\"k\":8}\n{\"k\":9}\n"),
              0);
    CHECK_STR(output("out"), "{\"k\":7}\n{\"k\":9}\n");
    /* a cycle: the path is cut to its last 63 steps */
    char expected[1024];
    int n = snprintf(expected, sizeof expected, "%s",
                     "lua_error: t:2: boom\n"
                     "lua_error: process() returned a bad value: expected a record table, "
                     "a list of records or nil, got a number\n"
                     "lua_error: process() returned a bad value: at .f: cannot convert a Lua function to a value\n"
                     "lua_error: process() returned a bad value: at .s: a string is not valid UTF-8\n"
                     "lua_error: process() returned a bad value: a table mixes list items and named fields\n"
                     "lua_error: process() returned a bad value: at ...");
    for (int i = 0; i < 63; i++) n += snprintf(expected + n, sizeof expected - (size_t)n, ".t");
    snprintf(expected + n, sizeof expected - (size_t)n,
             ": the value nests deeper than 256 levels (does a table contain itself?)\n"
             "lua_error: t:8: bad argument #1 to 'array' (table expected, got number)\n");
    CHECK_STR(dlq(), expected);
    reset();
}

static void test_lua_build_errors(void) {
    check_build_error(LUA_T("      function process(r)\n        return r +\n      end\n") SINK_OUT("t"),
                      "test.yaml:13:13: error: the Lua code does not compile: t:3: unexpected symbol near 'end'");
    reset();
    check_build_error(LUA_T("      local function process(r) return r end\n") SINK_OUT("t"),
                      "the Lua code does not define a global function 'process'");
    reset();
    check_build_error(LUA_T("      error('at load')\n") SINK_OUT("t"),
                      "the Lua code failed while loading: t:1: at load");
    reset();
    check_build_error("transforms:\n  t:\n    type: lua\n    inputs: [in]\n" SINK_OUT("t"),
                      "set source (inline Lua code) or path (a .lua file)");
    reset();
    check_build_error("transforms:\n  t:\n    type: lua\n    inputs: [in]\n    path: /nonexistent/x.lua\n"
                      SINK_OUT("t"),
                      "test.yaml:13:11: error: cannot open Lua file '/nonexistent/x.lua': No such file or directory");
    reset();
}

static void test_lua_path(void) {
    char path[] = "/tmp/sluice-test-lua-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *code = "function process(r)\n  r.from_file = true\n  return r\nend\n";
    CHECK_INT(write(fd, code, strlen(code)), (long long)strlen(code));
    close(fd);
    char body[512];
    snprintf(body, sizeof body, "transforms:\n  t:\n    type: lua\n    inputs: [in]\n    path: %s\n" SINK_OUT("t"),
             path);
    CHECK_INT(run(body, "{\"a\":1}\n"), 0);
    CHECK_STR(output("out"), "{\"a\":1,\"from_file\":true}\n");
    reset();
    unlink(path);
}

int main(void) {
    RUN(test_parse_merge);
    RUN(test_parse_keep_field_and_escapes);
    RUN(test_parse_target);
    RUN(test_parse_failures);
    RUN(test_parse_depth_and_options);
    RUN(test_filter);
    RUN(test_filter_errors);
    RUN(test_route);
    RUN(test_route_errors);
    RUN(test_remap_order_and_rename);
    RUN(test_remap_cast);
    RUN(test_remap_set_error_and_keep);
    RUN(test_remap_errors);
    RUN(test_sample);
    RUN(test_sample_key);
    RUN(test_lua_record_mode);
    RUN(test_lua_tables_outliving_their_batch);
    RUN(test_lua_big_integers);
    RUN(test_lua_emit_several);
    RUN(test_lua_batch_mode);
    RUN(test_lua_errors);
    RUN(test_lua_build_errors);
    RUN(test_lua_path);
    reset();
    return check_report();
}
