/* test_engine_validate.c — the `validate` transform and the contract
 * machinery under it (src/quality: contract, JSON Schema, formats, unique
 * window).
 *
 * The centrepiece is a dirty dataset generated here with a known ground
 * truth: a seeded PRNG decides, for each of 2,000 records, which rules it
 * breaks (at most one per field), and the test knows the exact message each
 * broken record must produce, the exact failure count per rule, and the
 * records that must pass. Around it: a table of JSON Schemas and records
 * with expected verdicts, a contract file with an error reported at its own
 * line:col, coercion, the unique window, custom expression rules, the
 * failure modes, metrics, and two workers sharing one contract.
 *
 * Pipelines run in-process with the `lines` source and `capture` sink of
 * transform_harness.h.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>

#include "check.h"
#include "contract/contract.h"
#include "contract/formats.h"
#include "contract/jsonschema.h"
#include "contract/simple_regex.h"
#include "sketch/seen_set.h"
#include "transform_harness.h"

static int run(const char *body, const char *input) {
    return run_with(body, input, 1, 1024);
}

/* ---- the dirty dataset ---- */

#define N_RECORDS 2000

static const char *const dirty_contract =
    "transforms:\n"
    "  contract:\n"
    "    type: validate\n"
    "    inputs: [in]\n"
    "    fields:\n"
    "      id: {type: int, required: true, unique: true}\n"
    "      level: {type: string, enum: [debug, info, warn, error]}\n"
    "      latency_ms: {type: number, min: 0, max: 60000}\n"
    "      email: {format: email}\n"
    "      name: {type: string, min_length: 2, max_length: 10}\n"
    "      code: {regex: '^[A-Z]{3}-[0-9]{4}$'}\n"
    "      ts: {type: timestamp, required: true, nullable: false}\n"
    "      ip: {format: ip}\n"
    "    rules:\n"
    "      - {name: token_budget, expr: '.tokens.in + .tokens.out <= 8192'}\n"
    "sinks:\n  out:\n    type: capture\n    inputs: [contract]\n";

/* The contract's rules in their numbering order, with the failures the
 * generator produced for each. */
static struct {
    const char *field, *rule;
    int failures;
} truth[] = {
    {"id", "required", 0}, {"id", "type", 0}, {"id", "unique", 0},
    {"level", "type", 0}, {"level", "enum", 0},
    {"latency_ms", "type", 0}, {"latency_ms", "min", 0}, {"latency_ms", "max", 0},
    {"email", "format", 0},
    {"name", "type", 0}, {"name", "min_length", 0}, {"name", "max_length", 0},
    {"code", "regex", 0},
    {"ts", "required", 0}, {"ts", "nullable", 0}, {"ts", "type", 0},
    {"ip", "format", 0},
    {"token_budget", "expr", 0},
};
#define N_TRUTH (sizeof truth / sizeof truth[0])

static void count_truth(const char *field, const char *rule) {
    for (size_t i = 0; i < N_TRUTH; i++)
        if (strcmp(truth[i].field, field) == 0 && strcmp(truth[i].rule, rule) == 0) truth[i].failures++;
}

static uint64_t rng_state;

static uint32_t rng(void) {   /* xorshift64*, seeded: the same dataset every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

/* Decides whether this field breaks (1 in 12) and how: 0 = clean, else
 * 1..options. */
static int breaks(int options) {
    return rng() % 12 == 0 ? 1 + (int)(rng() % (unsigned)options) : 0;
}

/* Generates the dataset into input, the expected DLQ lines (in record
 * order) into expected_dlq, and the ground-truth counts; returns how many
 * records must pass. */
static int generate(sl_buf *input, sl_buf *expected_dlq) {
    rng_state = 0x5eed5eed12345ULL;
    for (size_t i = 0; i < N_TRUTH; i++) truth[i].failures = 0;
    int passing = 0;
    long last_id = -1;
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    sl_buf rec, why;
    sl_buf_init(&rec);
    sl_buf_init(&why);
    for (int i = 0; i < N_RECORDS; i++) {
        int n_bad = 0;
        rec.len = 0;
        why.len = 0;
        sl_buf_printf(&rec, "{\"seq\":%d", i);
#define WHY(field, rule, ...) do { \
            sl_buf_printf(&why, "%s" field ": ", n_bad ? "; " : ""); \
            sl_buf_printf(&why, __VA_ARGS__); \
            count_truth(field, rule); \
            n_bad++; \
        } while (0)
        switch (breaks(3)) {
        case 0: sl_buf_printf(&rec, ",\"id\":%d", 100000 + i); last_id = 100000 + i; break;
        case 1: WHY("id", "required", "required (missing)"); break;
        case 2:
            if (last_id < 0) { sl_buf_printf(&rec, ",\"id\":%d", 100000 + i); last_id = 100000 + i; break; }
            sl_buf_printf(&rec, ",\"id\":%ld", last_id);
            WHY("id", "unique", "unique (got %ld; seen in the last 100000 values)", last_id);
            break;
        case 3: sl_buf_puts(&rec, ",\"id\":\"abc\""); WHY("id", "type", "type int (got \"abc\")"); break;
        }
        switch (breaks(2)) {
        case 0: sl_buf_printf(&rec, ",\"level\":\"%s\"", levels[rng() % 4]); break;
        case 1:
            sl_buf_puts(&rec, ",\"level\":\"verbose\"");
            WHY("level", "enum", "enum (got \"verbose\"; allowed: debug, info, warn, error)");
            break;
        case 2: sl_buf_puts(&rec, ",\"level\":7"); WHY("level", "type", "type string (got 7)"); break;
        }
        switch (breaks(3)) {
        case 0: sl_buf_printf(&rec, ",\"latency_ms\":%u.5", rng() % 60000); break;
        case 1: sl_buf_puts(&rec, ",\"latency_ms\":-5"); WHY("latency_ms", "min", "min 0 (got -5)"); break;
        case 2: sl_buf_puts(&rec, ",\"latency_ms\":99999"); WHY("latency_ms", "max", "max 60000 (got 99999)"); break;
        case 3: sl_buf_puts(&rec, ",\"latency_ms\":\"fast\""); WHY("latency_ms", "type", "type number (got \"fast\")"); break;
        }
        if (breaks(1)) {
            sl_buf_puts(&rec, ",\"email\":\"not-an-email\"");
            WHY("email", "format", "format email (got \"not-an-email\")");
        } else {
            sl_buf_printf(&rec, ",\"email\":\"user%d@example.com\"", i);
        }
        switch (breaks(3)) {
        case 0: sl_buf_puts(&rec, ",\"name\":\"ada\""); break;
        case 1: sl_buf_puts(&rec, ",\"name\":\"a\""); WHY("name", "min_length", "min_length 2 (got \"a\", length 1)"); break;
        case 2:
            sl_buf_puts(&rec, ",\"name\":\"abcdefghijkl\"");
            WHY("name", "max_length", "max_length 10 (got \"abcdefghijkl\", length 12)");
            break;
        case 3: sl_buf_puts(&rec, ",\"name\":[1]"); WHY("name", "type", "type string (got [1])"); break;
        }
        if (breaks(1)) {
            sl_buf_puts(&rec, ",\"code\":\"abc-12\"");
            WHY("code", "regex", "regex ^[A-Z]{3}-[0-9]{4}$ (got \"abc-12\")");
        } else {
            sl_buf_printf(&rec, ",\"code\":\"ABC-%04d\"", i);
        }
        switch (breaks(3)) {
        case 0: sl_buf_printf(&rec, ",\"ts\":\"2026-11-24T01:02:%02d.5Z\"", i % 60); break;
        case 1: WHY("ts", "required", "required (missing)"); break;
        case 2: sl_buf_puts(&rec, ",\"ts\":null"); WHY("ts", "nullable", "not nullable (got null)"); break;
        case 3: sl_buf_puts(&rec, ",\"ts\":\"yesterday\""); WHY("ts", "type", "type timestamp (got \"yesterday\")"); break;
        }
        if (breaks(1)) {
            sl_buf_puts(&rec, ",\"ip\":\"300.1.1.1\"");
            WHY("ip", "format", "format ip (got \"300.1.1.1\")");
        } else {
            sl_buf_printf(&rec, i % 2 ? ",\"ip\":\"10.0.%d.1\"" : ",\"ip\":\"2001:db8::%x\"", i % 256);
        }
        if (breaks(1)) {
            sl_buf_puts(&rec, ",\"tokens\":{\"in\":5000,\"out\":5000}");
            WHY("token_budget", "expr", "expr `.tokens.in + .tokens.out <= 8192` (false)");
        } else {
            sl_buf_printf(&rec, ",\"tokens\":{\"in\":%u,\"out\":%u}", rng() % 4096, rng() % 4096);
        }
#undef WHY
        sl_buf_puts(&rec, "}\n");
        sl_buf_append(input, rec.data, rec.len);
        if (n_bad)
            sl_buf_printf(expected_dlq, "contract_violation: %d rule%s failed: %s\n", n_bad,
                          n_bad == 1 ? "" : "s", why.data);
        else
            passing++;
    }
    sl_buf_free(&rec);
    sl_buf_free(&why);
    return passing;
}

/* The describe JSON the ground truth predicts. */
static void expected_describe(sl_buf *out, int passing) {
    sl_buf_printf(out, "{\"contract\":{\"type\":\"validate\",\"records\":%d,\"passed\":%d,\"failed\":%d,\"rules\":[",
                  N_RECORDS, passing, N_RECORDS - passing);
    for (size_t i = 0; i < N_TRUTH; i++)
        sl_buf_printf(out, "%s{\"field\":\"%s\",\"rule\":\"%s\",\"failures\":%d}", i ? "," : "", truth[i].field,
                      truth[i].rule, truth[i].failures);
    sl_buf_puts(out, "]}}");
}

static void test_dirty_dataset(void) {
    sl_buf input, expected, describe;
    sl_buf_init(&input);
    sl_buf_init(&expected);
    sl_buf_init(&describe);
    int passing = generate(&input, &expected);
    /* The generator must really exercise every rule. */
    for (size_t i = 0; i < N_TRUTH; i++) CHECK(truth[i].failures >= 10);
    CHECK(passing > 400 && passing < 1200);

    CHECK_INT(run_with(dirty_contract, input.data, 1, 128), 0);
    CHECK_STR(dlq(), expected.data);
    CHECK_INT(count_lines(output("out")), passing);
    expected_describe(&describe, passing);
    CHECK_STR(describe_output(), describe.data);
    /* Passing records come out unchanged. */
    CHECK_CONTAINS(output("out"), "{\"seq\":1,\"id\":100001,");
    sl_buf_free(&input);
    sl_buf_free(&expected);
    sl_buf_free(&describe);
    reset();
}

/* Two workers and small batches: the counts do not depend on scheduling
 * (which of two equal ids is the duplicate does, so messages are not
 * compared one by one). */
static void test_two_workers(void) {
    sl_buf input, expected, describe;
    sl_buf_init(&input);
    sl_buf_init(&expected);
    sl_buf_init(&describe);
    int passing = generate(&input, &expected);
    CHECK_INT(run_with(dirty_contract, input.data, 2, 16), 0);
    CHECK_INT(count_lines(output("out")), passing);
    CHECK_INT(count_lines(dlq()), N_RECORDS - passing);
    expected_describe(&describe, passing);
    CHECK_STR(describe_output(), describe.data);
    sl_buf_free(&input);
    sl_buf_free(&expected);
    sl_buf_free(&describe);
    reset();
}

static void test_metrics(void) {
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                  "    fields: {level: {enum: [info]}, n: {type: int}}\n" SINK_OUT("v"),
                  "{\"level\":\"info\"}\n{\"level\":\"x\"}\n{\"level\":\"y\",\"n\":\"z\"}\n"),
              0);
    CHECK_CONTAINS(metrics_output(), "sluice_validate_records_total{component=\"v\",result=\"passed\"} 1\n");
    CHECK_CONTAINS(metrics_output(), "sluice_validate_records_total{component=\"v\",result=\"failed\"} 2\n");
    CHECK_CONTAINS(metrics_output(),
                   "sluice_validate_rule_failures_total{component=\"v\",field=\"level\",rule=\"enum\"} 2\n");
    CHECK_CONTAINS(metrics_output(),
                   "sluice_validate_rule_failures_total{component=\"v\",field=\"n\",rule=\"type\"} 1\n");
    CHECK_CONTAINS(metrics_output(), "# TYPE sluice_validate_rule_failures_total counter\n");
    reset();
}

/* ---- coercion, unique, custom rules, failure modes ---- */

static void test_coercion(void) {
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n    fields:\n"
                  "      n: {type: int, coerce: true, min: 0}\n"
                  "      f: {type: float, coerce: true}\n"
                  "      b: {type: bool, coerce: true}\n"
                  "      s: {type: string, coerce: true, max_length: 5}\n"
                  "      t: {type: timestamp, coerce: true}\n" SINK_OUT("v"),
                  "{\"n\":\"42\",\"f\":\"1.5\",\"b\":\"TRUE\",\"s\":7,\"t\":\"2026-01-02T03:04:05+01:00\"}\n"
                  "{\"n\":3.0,\"f\":2,\"b\":0,\"s\":true,\"t\":1700000000}\n"
                  "{\"t\":\"2026-01-01T00:00:00.500000Z\"}\n"
                  "{\"n\":\"x\",\"b\":\"yes\"}\n"
                  "{\"n\":\"-3\",\"s\":123456}\n"
                  "{\"n\":null,\"f\":null}\n"),
              0);
    CHECK_STR(output("out"),
              "{\"n\":42,\"f\":1.5,\"b\":true,\"s\":\"7\",\"t\":\"2026-01-02T03:04:05+01:00\"}\n"
              "{\"n\":3,\"f\":2,\"b\":false,\"s\":\"true\",\"t\":\"2023-11-14T22:13:20Z\"}\n"
              "{\"t\":\"2026-01-01T00:00:00.500000Z\"}\n"   /* a timestamp's text is kept as written */
              "{\"n\":null,\"f\":null}\n");
    CHECK_STR(dlq(),
              "contract_violation: 2 rules failed: n: type int (got \"x\"); b: type bool (got \"yes\")\n"
              "contract_violation: 2 rules failed: n: min 0 (got -3); s: max_length 5 (got \"123456\", length 6)\n");
    reset();
}

/* The window under `unique`: seen_set used as validate uses it (find, else
 * add), so a value counts as seen while it is among the last N added. */
static bool seen(sl_seen_set *w, uint64_t v) {
    sl_hash128 h = {.lo = v * 0x9E3779B97F4A7C15ULL, .hi = v};
    uint64_t first;
    if (sl_seen_set_find(w, h, &first)) return true;
    sl_seen_set_add(w, h, 0);
    return false;
}

static void test_unique_window(void) {
    sl_seen_set w;
    sl_seen_set_init(&w, 3);
    CHECK(!seen(&w, 1));
    CHECK(!seen(&w, 2));
    CHECK(!seen(&w, 3));
    CHECK(seen(&w, 1));
    CHECK(!seen(&w, 4));    /* evicts 1 */
    CHECK(!seen(&w, 1));    /* evicts 2 */
    CHECK(seen(&w, 3));
    CHECK(!seen(&w, 2));
    CHECK_INT(sl_seen_set_count(&w), 3);
    sl_seen_set_free(&w);

    /* Many values through a small window: memory stays bounded, exactly the
     * last `window` values are remembered. */
    sl_seen_set_init(&w, 1000);
    for (uint64_t i = 0; i < 100000; i++) CHECK(!seen(&w, i));
    size_t bytes = sl_seen_set_bytes(&w);
    int hits = 0;
    for (uint64_t i = 0; i < 100000; i++) hits += seen(&w, i);
    /* The second pass starts with values evicted long ago, and each insert
     * evicts one of the remembered ones before the pass reaches it. */
    CHECK_INT(hits, 0);
    for (uint64_t i = 99000; i < 100000; i++) CHECK(seen(&w, i));
    CHECK_INT(sl_seen_set_count(&w), 1000);
    CHECK_INT(sl_seen_set_bytes(&w), bytes);
    /* Keys that share their low 64 bits are still different values. */
    sl_seen_set_free(&w);
    sl_seen_set_init(&w, 10);
    uint64_t first;
    sl_seen_set_add(&w, (sl_hash128){.lo = 7, .hi = 1}, 0);
    CHECK(!sl_seen_set_find(&w, (sl_hash128){.lo = 7, .hi = 2}, &first));
    CHECK(sl_seen_set_find(&w, (sl_hash128){.lo = 7, .hi = 1}, &first));
    sl_seen_set_free(&w);

    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                  "    fields: {id: {unique: {window: 2}}}\n" SINK_OUT("v"),
                  "{\"id\":1}\n{\"id\":2}\n{\"id\":1.0}\n{\"id\":3}\n{\"id\":4}\n{\"id\":1}\n{}\n{\"id\":null}\n{\"id\":null}\n"),
              0);
    CHECK_STR(dlq(), "contract_violation: 1 rule failed: id: unique (got 1.0; seen in the last 2 values)\n");
    CHECK_INT(count_lines(output("out")), 8);
    reset();
}

static void test_custom_rules(void) {
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n    rules:\n"
                  "      - {name: positive, expr: '.a + 1 > 0'}\n"
                  "      - {name: has_b, expr: 'exists(.b)'}\n" SINK_OUT("v"),
                  "{\"a\":1,\"b\":2}\n{\"a\":-5}\n{\"a\":\"x\",\"b\":1}\n"),
              0);
    CHECK_STR(output("out"), "{\"a\":1,\"b\":2}\n");
    const char *d = dlq();
    CHECK_CONTAINS(d, "contract_violation: 2 rules failed: positive: expr `.a + 1 > 0` (false); "
                      "has_b: expr `exists(.b)` (false)\n");
    CHECK_CONTAINS(d, "contract_violation: 1 rule failed: positive: expr `.a + 1 > 0` (error: ");
    reset();
}

static void test_failure_modes(void) {
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n    on_failure: annotate\n"
                  "    fields: {level: {enum: [info]}, n: {type: int, required: true}}\n" SINK_OUT("v"),
                  "{\"level\":\"info\",\"n\":1}\n{\"level\":\"verbose\"}\n"),
              0);
    CHECK_STR(output("out"),
              "{\"level\":\"info\",\"n\":1}\n"
              "{\"level\":\"verbose\",\"_violations\":[{\"field\":\"level\",\"rule\":\"enum\",\"message\":"
              "\"enum (got \\\"verbose\\\"; allowed: info)\"},{\"field\":\"n\",\"rule\":\"required\","
              "\"message\":\"required (missing)\"}]}\n");
    CHECK_STR(dlq(), "");
    reset();
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n    on_failure: drop\n"
                  "    fields: {level: {enum: [info]}}\n" SINK_OUT("v"),
                  "{\"level\":\"info\"}\n{\"level\":\"verbose\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"level\":\"info\"}\n");
    CHECK_STR(dlq(), "");
    reset();
}

/* Long values are cut in messages; nested paths and array items. */
static void test_messages_and_nesting(void) {
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n    fields:\n"
                  "      user.email: {format: email, required: true}\n"
                  "      tags: {type: array, max_length: 2, items: {type: string, min_length: 1}}\n"
                  "      msg: {max_length: 5}\n" SINK_OUT("v"),
                  "{\"user\":{\"email\":\"a@b.io\"},\"tags\":[\"x\"]}\n"
                  "{\"user\":{\"email\":\"nope\"},\"tags\":[\"x\",\"\",3],"
                  "\"msg\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n"
                  "{\"user\":5}\n"),
              0);
    CHECK_STR(dlq(),
              "contract_violation: 5 rules failed: user.email: format email (got \"nope\"); "
              "tags: max_length 2 (got [\"x\",\"\",3], length 3); tags[]: min_length 1 (got \"\", length 0); "
              "tags[]: type string (got 3); msg: max_length 5 (got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\", "
              "length 58)\n"
              "contract_violation: 1 rule failed: user.email: required (missing)\n");
    reset();
}

/* ---- JSON Schema ---- */

static const char *const person_schema =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":\"person\",\"type\":\"object\","
    "\"required\":[\"id\",\"name\"],\"properties\":{"
    "\"id\":{\"type\":\"integer\",\"minimum\":1},"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8,\"pattern\":\"^[A-Za-z]+$\"},"
    "\"age\":{\"type\":[\"integer\",\"null\"],\"exclusiveMinimum\":0,\"maximum\":150},"
    "\"score\":{\"type\":\"number\",\"exclusiveMaximum\":1},"
    "\"role\":{\"enum\":[\"admin\",\"user\",null,3]},"
    "\"email\":{\"type\":\"string\",\"format\":\"email\"},"
    "\"site\":{\"format\":\"uri\"},\"uid\":{\"format\":\"uuid\"},\"born\":{\"format\":\"date\"},"
    "\"seen\":{\"type\":\"string\",\"format\":\"date-time\"},\"ip4\":{\"format\":\"ipv4\"},\"ip6\":{\"format\":\"ipv6\"},"
    "\"tags\":{\"type\":\"array\",\"maxItems_is_not_here\":true}"
    "}}";

static const char *const nested_schema =
    "{\"type\":\"object\",\"properties\":{"
    "\"user\":{\"type\":\"object\",\"required\":[\"email\"],\"properties\":{"
    "\"email\":{\"type\":\"string\",\"format\":\"email\"},\"ok\":{\"type\":\"boolean\"}}},"
    "\"tags\":{\"type\":\"array\",\"maxLength\":3,\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}},"
    "\"old\":{\"minimum\":5,\"exclusiveMinimum\":true}"
    "}}";

/* Checks one record against a compiled schema: "" when it passes, else the
 * message. */
static void schema_verdict(const sl_contract *c, const char *record, sl_buf *out) {
    sl_arena a;
    sl_arena_init(&a, 4096);
    size_t len = strlen(record);
    char *copy = sl_arena_alloc(&a, len + SL_BUF_PADDING);
    memcpy(copy, record, len);
    memset(copy + len, 0, SL_BUF_PADDING);
    sl_value v;
    sl_decode_error derr;
    out->len = 0;
    sl_buf_puts(out, "");
    if (sl_json_decode(&a, copy, len, 64, true, &v, &derr) != 0) {
        sl_buf_printf(out, "BAD TEST RECORD: %s", derr.msg);
    } else {
        sl_contract_scratch *s = sl_contract_scratch_new(c);
        if (sl_contract_check(c, s, &v, &a, 0)) sl_contract_describe_violations(c, s, out);
        sl_contract_scratch_free(s);
    }
    sl_arena_free(&a);
}

static void test_json_schema_table(void) {
    /* the person schema has one unsupported keyword: fix it for the table */
    sl_buf fixed;
    sl_buf_init(&fixed);
    sl_buf_puts(&fixed, person_schema);
    char *bad = strstr(fixed.data, ",\"maxItems_is_not_here\":true");
    memmove(bad, bad + strlen(",\"maxItems_is_not_here\":true"), strlen(bad) - strlen(",\"maxItems_is_not_here\":true") + 1);
    fixed.len = strlen(fixed.data);

    sl_diag diag;
    sl_diag_init(&diag);
    sl_contract *person = sl_jsonschema_parse("person.json", fixed.data, fixed.len, &diag);
    sl_contract *nested = sl_jsonschema_parse("nested.json", nested_schema, strlen(nested_schema), &diag);
    CHECK(person != NULL);
    CHECK(nested != NULL);
    CHECK_INT(diag.errors, 0);
    if (!person || !nested) {
        sl_buf text;
        sl_buf_init(&text);
        sl_diag_print(&diag, &text);
        fprintf(stderr, "%s", text.data ? text.data : "");
        sl_buf_free(&text);
        sl_contract_free(person);
        sl_contract_free(nested);
        sl_diag_free(&diag);
        sl_buf_free(&fixed);
        return;
    }
    static const struct {
        int schema;   /* 0 person, 1 nested */
        const char *record, *verdict;
    } rows[] = {
        {0, "{\"id\":1,\"name\":\"Ada\"}", ""},
        {0, "{\"name\":\"Ada\"}", "1 rule failed: id: required (missing)"},
        {0, "{\"id\":0,\"name\":\"Ada\"}", "1 rule failed: id: min 1 (got 0)"},
        {0, "{\"id\":1.5,\"name\":\"Ada\"}", "1 rule failed: id: type int (got 1.5)"},
        {0, "{\"id\":null,\"name\":\"Ada\"}", "1 rule failed: id: type int (got null)"},
        {0, "{\"id\":\"1\",\"name\":\"Ada\"}", "1 rule failed: id: type int (got \"1\")"},
        {0, "{\"id\":1,\"name\":\"\"}", "2 rules failed: name: min_length 1 (got \"\", length 0); name: regex ^[A-Za-z]+$ (got \"\")"},
        {0, "{\"id\":1,\"name\":\"Adalovelace\"}", "1 rule failed: name: max_length 8 (got \"Adalovelace\", length 11)"},
        {0, "{\"id\":1,\"name\":\"\xc3\x89milie\"}", "1 rule failed: name: regex ^[A-Za-z]+$ (got \"\xc3\x89milie\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"age\":null}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"age\":0}", "1 rule failed: age: exclusive_min 0 (got 0)"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"age\":150}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"age\":151}", "1 rule failed: age: max 150 (got 151)"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"score\":0.99}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"score\":1}", "1 rule failed: score: exclusive_max 1 (got 1)"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"role\":null}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"role\":3.0}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"role\":\"root\"}", "1 rule failed: role: enum (got \"root\"; allowed: admin, user, null, 3)"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"email\":\"ada@example.org\"}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"email\":\"ada@@example.org\"}", "1 rule failed: email: format email (got \"ada@@example.org\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"site\":\"https://example.org/a?b=c#d\"}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"site\":\"example dot org\"}", "1 rule failed: site: format uri (got \"example dot org\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"uid\":\"123e4567-e89b-12d3-a456-426614174000\"}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"uid\":\"123e4567e89b12d3a456426614174000\"}", "1 rule failed: uid: format uuid (got \"123e4567e89b12d3a456426614174000\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"born\":\"2024-02-29\"}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"born\":\"2023-02-29\"}", "1 rule failed: born: format date (got \"2023-02-29\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"seen\":\"2026-11-24T01:02:03.123+01:00\"}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"seen\":\"2026-13-24T01:02:03Z\"}", "1 rule failed: seen: format date-time (got \"2026-13-24T01:02:03Z\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"ip4\":\"192.168.0.1\",\"ip6\":\"::ffff:10.0.0.1\"}", ""},
        {0, "{\"id\":1,\"name\":\"Ada\",\"ip4\":\"192.168.0.01\",\"ip6\":\"1::2::3\"}", "2 rules failed: ip4: format ipv4 (got \"192.168.0.01\"); ip6: format ipv6 (got \"1::2::3\")"},
        {0, "{\"id\":1,\"name\":\"Ada\",\"site\":42}", ""},   /* format ignores non-strings */
        {0, "{}", "2 rules failed: id: required (missing); name: required (missing)"},
        {1, "{}", ""},
        {1, "{\"user\":\"x\"}", "1 rule failed: user: type map (got \"x\")"},
        {1, "{\"user\":{}}", "1 rule failed: user.email: required (missing)"},
        {1, "{\"user\":{\"email\":\"a@b.co\",\"ok\":1}}", "1 rule failed: user.ok: type bool (got 1)"},
        {1, "{\"tags\":[\"a\",\"b\",\"a\"]}", ""},
        {1, "{\"tags\":[\"a\",\"c\",\"b\",\"a\"]}", "2 rules failed: tags: max_length 3 (got [\"a\",\"c\",\"b\",\"a\"], length 4); tags[]: enum (got \"c\"; allowed: a, b)"},
        {1, "{\"tags\":\"a\"}", "1 rule failed: tags: type array (got \"a\")"},
        {1, "{\"old\":5}", "1 rule failed: old: exclusive_min 5 (got 5)"},
        {1, "{\"old\":6}", ""},
    };
    sl_buf verdict;
    sl_buf_init(&verdict);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        schema_verdict(rows[i].schema ? nested : person, rows[i].record, &verdict);
        if (strcmp(verdict.data, rows[i].verdict) != 0) fprintf(stderr, "  row %zu: %s\n", i, rows[i].record);
        CHECK_STR(verdict.data, rows[i].verdict);
    }
    sl_buf_free(&verdict);
    sl_contract_free(person);
    sl_contract_free(nested);
    sl_diag_free(&diag);
    sl_buf_free(&fixed);
}

/* Returns the diag text for loading a schema (the contract must fail). */
static void check_schema_error(const char *schema, const char *expected) {
    sl_diag diag;
    sl_diag_init(&diag);
    sl_contract *c = sl_jsonschema_parse("s.json", schema, strlen(schema), &diag);
    CHECK(c == NULL);
    sl_contract_free(c);
    sl_buf text;
    sl_buf_init(&text);
    sl_diag_print(&diag, &text);
    CHECK_CONTAINS(text.data ? text.data : "", expected);
    sl_buf_free(&text);
    sl_diag_free(&diag);
}

static void test_json_schema_errors(void) {
    check_schema_error(person_schema, "s.json: error: /properties/tags: maxItems_is_not_here is not supported");
    check_schema_error("{\"properties\":{\"a\":{\"$ref\":\"#/$defs/x\"}}}", "/properties/a: $ref is not supported");
    check_schema_error("{\"properties\":{\"a\":{\"format\":\"hostname\"}}}", "format \"hostname\" is not supported");
    check_schema_error("{\"properties\":{\"a\":{\"items\":[{}]}}}", "tuple validation) is not supported");
    check_schema_error("{\"properties\":{\"a\":{\"pattern\":\"(\"}}}", "/properties/a: pattern: invalid regex");
    check_schema_error("{\"type\":\"string\"}", "the root schema must describe an object");
    check_schema_error("{\"additionalProperties\":false}", "(root): additionalProperties is not supported");
    check_schema_error("{\n  \"type\": \"object\",\n  oops}", "s.json:3:3: error: the schema is not valid JSON");
    check_schema_error("{\"properties\":{\"a\":{\"type\":\"int\"}}}", "type must be string, integer, number");
}

static void test_schema_option(void) {
    const char *path = "/tmp/sluice-test-validate-schema.json";
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"object\",\"required\":[\"a\"],\"properties\":{\"a\":{\"type\":\"integer\"}}}", f);
    fclose(f);
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                  "    schema: /tmp/sluice-test-validate-schema.json\n"
                  "    rules: [{name: small, expr: '.a < 10'}]\n" SINK_OUT("v"),
                  "{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":11}\n{}\n"),
              0);
    CHECK_STR(output("out"), "{\"a\":1}\n");
    check_prefix(dlq(), "contract_violation: 2 rules failed: a: type int (got \"x\"); small: expr `.a < 10` (error: ");
    CHECK_CONTAINS(dlq(), "\ncontract_violation: 1 rule failed: small: expr `.a < 10` (false)\n"
                          "contract_violation: 2 rules failed: a: required (missing); small: expr `.a < 10` (false)\n");
    reset();
    unlink(path);
}

/* ---- contract files and option errors ---- */

static void test_contract_file(void) {
    const char *path = "/tmp/sluice-test-validate-contract.yaml";
    FILE *f = fopen(path, "w");
    fputs("fields:\n  level: {type: string, enum: [info, error]}\n  n: int\n"
          "rules:\n  - {name: n_small, expr: '.n < 100'}\n", f);
    fclose(f);
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                  "    contract: /tmp/sluice-test-validate-contract.yaml\n" SINK_OUT("v"),
                  "{\"level\":\"info\",\"n\":1}\n{\"level\":\"debug\",\"n\":500}\n"),
              0);
    CHECK_STR(output("out"), "{\"level\":\"info\",\"n\":1}\n");
    CHECK_STR(dlq(), "contract_violation: 2 rules failed: level: enum (got \"debug\"; allowed: info, error); "
                     "n_small: expr `.n < 100` (false)\n");
    reset();

    /* An error inside the file is reported at the file's own line:col. */
    f = fopen(path, "w");
    fputs("fields:\n  level:\n    type: string\n    enun: [info, error]\n  n: {type: integr}\n", f);
    fclose(f);
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    contract: /tmp/sluice-test-validate-contract.yaml\n" SINK_OUT("v"),
                      "/tmp/sluice-test-validate-contract.yaml:4:5: error: level: unknown rule 'enun' (did you mean 'enum'?)");
    CHECK_CONTAINS(diag_output(), "/tmp/sluice-test-validate-contract.yaml:5:13: error: n: unknown type 'integr'");
    reset();
    unlink(path);

    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    contract: /tmp/sluice-no-such-contract.yaml\n" SINK_OUT("v"),
                      "test.yaml:13:15: error: cannot open the contract file /tmp/sluice-no-such-contract.yaml");
    reset();
}

static void test_option_errors(void) {
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n" SINK_OUT("v"),
                      "validate needs exactly one contract");
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    fields: {a: {format: emal}}\n" SINK_OUT("v"),
                      "a: unknown format; the formats are email, uri, uuid, date-time, date, ip, ipv4 and ipv6 "
                      "(did you mean 'email'?)");
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    fields: {a: {regex: '('}}\n" SINK_OUT("v"),
                      "a: invalid regex");
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    fields: {a: {min: x, min_length: -1, unique: {window: 0}, coerce: true}}\n" SINK_OUT("v"),
                      "a: min must be a number");
    CHECK_CONTAINS(diag_output(), "a: min_length must be a whole number >= 0");
    CHECK_CONTAINS(diag_output(), "a: unique must be true, false or {window: N}");
    CHECK_CONTAINS(diag_output(), "a: coerce needs a type to convert to");
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    rules: [{name: x, expr: '.a >'}]\n" SINK_OUT("v"),
                      "test.yaml:");
    check_build_error("transforms:\n  v:\n    type: validate\n    inputs: [in]\n"
                      "    rules: [{name: x}]\n" SINK_OUT("v"),
                      "each rule must be {name: NAME, expr: EXPRESSION}");
    reset();
}

/* The checker finds the top-level fields' first keys in one pass over the
 * record (a small hash of the contract's keys): fields sharing a first key,
 * keys whose hashes collide ("abcx"/"azzx": same length, first and last
 * byte), more keys than the smallest table, and a map holding a key twice
 * (the first one counts, as for sl_map_get) must all read as a lookup per
 * field would. */
static void test_field_lookup(void) {
    sl_buf schema;
    sl_buf_init(&schema);
    sl_buf_puts(&schema, "{\"type\":\"object\",\"required\":[\"abcx\",\"f19\"],\"properties\":{"
                         "\"abcx\":{\"type\":\"integer\"},\"azzx\":{\"type\":\"string\"}");
    for (int i = 0; i < 20; i++) sl_buf_printf(&schema, ",\"f%d\":{\"minimum\":%d}", i, i);
    sl_buf_puts(&schema, "}}");
    sl_diag diag;
    sl_diag_init(&diag);
    sl_contract *c = sl_jsonschema_parse("lookup.json", schema.data, schema.len, &diag);
    CHECK(c != NULL);
    static const struct {
        const char *record, *verdict;
    } rows[] = {
        {"{\"f19\":19,\"azzx\":\"s\",\"abcx\":1,\"f0\":0,\"f7\":7}", ""},
        {"{\"azzx\":1,\"abcx\":\"s\",\"f3\":2,\"f19\":18}",
         "4 rules failed: abcx: type int (got \"s\"); azzx: type string (got 1); f3: min 3 (got 2); "
         "f19: min 19 (got 18)"},
        {"{\"abcy\":1,\"abx\":1,\"f1\":1}", "2 rules failed: abcx: required (missing); f19: required (missing)"},
    };
    sl_buf verdict;
    sl_buf_init(&verdict);
    for (size_t i = 0; c && i < sizeof rows / sizeof rows[0]; i++) {
        schema_verdict(c, rows[i].record, &verdict);
        CHECK_STR(verdict.data, rows[i].verdict);
    }
    /* a key twice in one map: the first value is the one checked */
    sl_arena a;
    sl_arena_init(&a, 4096);
    for (int first_good = 0; c && first_good < 2; first_good++) {
        sl_value rec = sl_map_new(&a, 3);
        sl_map_append(&a, &rec, "f19", 3, sl_int(19));
        sl_map_append(&a, &rec, "abcx", 4, first_good ? sl_int(1) : sl_cstring("bad"));
        sl_map_append(&a, &rec, "abcx", 4, first_good ? sl_cstring("bad") : sl_int(1));
        sl_contract_scratch *s = sl_contract_scratch_new(c);
        CHECK_INT(sl_contract_check(c, s, &rec, &a, 0), first_good ? 0 : 1);
        sl_contract_scratch_free(s);
    }
    sl_arena_free(&a);
    sl_buf_free(&verdict);
    sl_buf_free(&schema);
    sl_contract_free(c);
    sl_diag_free(&diag);

    /* dotted paths sharing a first key, with the parent itself checked too */
    CHECK_INT(run("transforms:\n  v:\n    type: validate\n    inputs: [in]\n    fields:\n"
                  "      user.id: {type: int, min: 1}\n"
                  "      user: {type: map, required: true}\n"
                  "      user.email: {format: email, required: true}\n" SINK_OUT("v"),
                  "{\"user\":{\"email\":\"a@b.io\",\"id\":3}}\n"
                  "{\"x\":1,\"user\":{\"id\":0,\"email\":\"a\"}}\n"
                  "{\"user\":[1]}\n"),
              0);
    CHECK_STR(dlq(),
              "contract_violation: 2 rules failed: user.id: min 1 (got 0); user.email: format email (got \"a\")\n"
              "contract_violation: 2 rules failed: user: type map (got [1]); user.email: required (missing)\n");
    reset();
}

/* The regex fast path (simple_regex.h) must agree with PCRE2, compiled as
 * contracts compile it, on every subject: fixed and random ones, with
 * newlines, carriage returns and invalid UTF-8 among them. The patterns
 * outside the subset must be refused (they go to PCRE2). */
static void test_simple_regex(void) {
    static const struct {
        const char *pattern;
        bool simple;
    } patterns[] = {
        {"^node-[0-9]+$", true}, {"^[0-9a-f]{16}$", true}, {"^a*bc{2,3}d{1,}$", true}, {"^a*b?c$", false},
        {"^[a-z-]+@[a-z]{2,}$", true}, {"^$", true}, {"^x{0}[A-Z_]*$", true},
        {"^a*a$", false}, {"^a*b?$", false}, {"^a?a$", false}, {"^[0-9]+1$", false},
        {"node-[0-9]+$", false}, {"^node.[0-9]$", false}, {"^[^a]$", false}, {"^a+?$", false},
        {"^a{2$", false}, {"^[a\\d]$", false}, {"^(ab)+$", false}, {"^a|b$", false}, {"^[-a]$", false},
    };
    static const char *const fixed[] = {
        "node-1", "node-", "node-12x", "node-1\n", "node-1\r", "node-1\n\n", "", "\n", "xnode-1", "node-\xff",
        "0123456789abcdef", "0123456789abcdeF", "0123456789abcde", "0123456789abcdef0", "bcc", "abccd", "abcccd",
        "acccdd", "a-b@io", "-@ab", "a@b", "x_Y", "aab", "ab", "b", "a", "aaa", "11", "1", "\xc3\xa9",
    };
    const char alphabet[] = "ab01f-@_xnode\n\r\xff\xc3\xa9Z";
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
        const char *pat = patterns[p].pattern;
        sl_simple_regex re;
        bool simple = sl_simple_regex_compile(pat, strlen(pat), &re);
        if (simple != patterns[p].simple) fprintf(stderr, "  pattern %s\n", pat);
        CHECK(simple == patterns[p].simple);
        if (!simple) continue;
        int code;
        PCRE2_SIZE off;
        pcre2_code *pc = pcre2_compile((PCRE2_SPTR)pat, strlen(pat), PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code,
                                       &off, NULL);
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        for (int k = 0; pc && k < 3000; k++) {
            char subject[24];
            size_t len;
            if (k < (int)(sizeof fixed / sizeof fixed[0])) {
                len = strlen(fixed[k]);
                memcpy(subject, fixed[k], len);
            } else {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                len = seed % 20;
                for (size_t i = 0; i < len; i++) subject[i] = alphabet[(seed >> (i * 3 % 60)) % (sizeof alphabet - 1)];
            }
            int want = pcre2_match(pc, (PCRE2_SPTR)subject, len, 0, 0, md, NULL) >= 0;
            int got = sl_simple_regex_match(&re, subject, len);
            if (got >= 0 && got != want) fprintf(stderr, "  %s on '%.*s'\n", pat, (int)len, subject);
            CHECK(got < 0 || got == want);
        }
        pcre2_match_data_free(md);
        pcre2_code_free(pc);
    }
}

static void test_formats(void) {
    static const struct {
        const char *format, *text;
        bool ok;
    } rows[] = {
        {"email", "a.b+c@ex-ample.co.uk", true}, {"email", "a..b@example.com", false},
        {"email", "a!#$%&'*+/=?^_`{|}~-z@x.io", true}, {"email", "a\"b@x.io", false},
        {"email", "a b@x.io", false}, {"email", "a,b@x.io", false}, {"email", "a@localhost", false}, {"email", "@example.com", false}, {"email", "a@-ex.com", false},
        {"uri", "urn:isbn:0451450523", true}, {"uri", "http://x/%zz", false}, {"uri", "1http://x", false},
        {"uuid", "123E4567-E89B-12D3-A456-426614174000", true}, {"uuid", "123e4567-e89b-12d3-a456-42661417400g", false},
        {"date-time", "2026-11-24 01:02:03Z", true}, {"date-time", "2026-11-24", false},
        {"date", "2000-02-29", true}, {"date", "1900-02-29", false}, {"date", "2026-1-01", false},
        {"ip", "255.255.255.255", true}, {"ip", "256.0.0.1", false}, {"ip", "fe80::1", true},
        {"ipv4", "1.2.3", false}, {"ipv4", "1.2.3.4.5", false}, {"ipv6", "1.2.3.4", false},
        {"ipv6", "2001:db8:85a3::8a2e:370:7334", true},
    };
    /* every byte in an email's local part and domain, against the rule as
     * docs/contracts.md states it */
    for (int c = 1; c < 256; c++) {
        char text[16];
        bool alnum = isalnum(c) != 0, high = c >= 0x80;
        snprintf(text, sizeof text, "a%cb@x.io", c);
        CHECK(sl_strfmt_check(SL_STRFMT_EMAIL, text, strlen(text)) ==
              (alnum || high || strchr("!#$%&'*+/=?^_`{|}~.-", c)));
        snprintf(text, sizeof text, "x@a%cb.io", c);
        CHECK(sl_strfmt_check(SL_STRFMT_EMAIL, text, strlen(text)) == (alnum || high || c == '-' || c == '.'));
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sl_strfmt f;
        CHECK(sl_strfmt_parse(rows[i].format, &f));
        bool got = sl_strfmt_check(f, rows[i].text, strlen(rows[i].text));
        if (got != rows[i].ok) fprintf(stderr, "  format %s on '%s'\n", rows[i].format, rows[i].text);
        CHECK(got == rows[i].ok);
    }
}

int main(void) {
    RUN(test_dirty_dataset);
    RUN(test_two_workers);
    RUN(test_metrics);
    RUN(test_coercion);
    RUN(test_unique_window);
    RUN(test_custom_rules);
    RUN(test_failure_modes);
    RUN(test_messages_and_nesting);
    RUN(test_json_schema_table);
    RUN(test_json_schema_errors);
    RUN(test_schema_option);
    RUN(test_contract_file);
    RUN(test_option_errors);
    RUN(test_formats);
    RUN(test_field_lookup);
    RUN(test_simple_regex);
    reset();
    return check_report();
}
