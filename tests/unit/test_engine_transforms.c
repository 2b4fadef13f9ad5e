/* test_engine_transforms.c — the transforms (parse, filter, route, remap,
 * sample, lua), run through a real pipeline.
 *
 * sl_emit belongs to the runtime, so transforms are exercised the way they
 * run in production: sl_pipeline_build_with with two test-only component
 * types — a `lines` source that emits the JSON lines given in its `text`
 * option (cut into batches of the configured size, each line positioned at
 * file_id 42 and its byte offset) and a `capture` sink that collects the
 * records it receives as JSON lines per sink name. Every test compares the
 * exact output text and the DLQ entries ("reason: message" per line).
 * Option errors are checked through the same build, against the diag text.
 */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "codec/format.h"
#include "codec/json.h"
#include "config/config.h"
#include "runtime/component.h"
#include "runtime/pipeline.h"

/* ---- the test source: JSON lines from an option ---- */

typedef struct lines_source {
    const char *text;
    sl_format format;
    void *stream;
} lines_source;

static const sl_option lines_options[] = {
    {"text", SL_OPT_STRING, true, NULL, "JSON lines to emit.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int lines_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    lines_source *s = calloc(1, sizeof *s);
    s->text = sl_opts_string(opts, "text");
    sl_format_init(&s->format, SL_FORMAT_JSONL);
    sl_decode_error derr;
    s->stream = sl_format_stream_new(&s->format, NULL, 0, &derr);
    c->impl = s;
    return 0;
}

static void lines_destroy(sl_component *c) {
    lines_source *s = c->impl;
    sl_format_stream_free(&s->format, s->stream);
    sl_format_free(&s->format);
    free(s);
}

static int lines_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    lines_source *s = c->impl;
    uint32_t per_batch = sl_source_batch_records(ctx);
    const char *p = s->text;
    size_t offset = 0;
    while (*p) {
        sl_batch *b = sl_source_batch_new(ctx, 4096);
        b->origin = "test-input";
        b->format = &s->format;
        b->stream = s->stream;
        while (*p && b->count < per_batch) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
            sl_batch_add_bytes(b, p, len, (sl_position){42, offset});
            offset += len;
            p += len;
        }
        b->input_bytes = b->data_len;
        if (sl_source_submit(ctx, b) < 0) break;
    }
    return 0;
}

static const sl_component_type lines_type = {
    .name = "lines", .kind = SL_SOURCE, .summary = "test input", .options = lines_options,
    .create = lines_create, .destroy = lines_destroy, .run = lines_run,
};

/* ---- the test sink: records as JSON lines, per sink name ---- */

#define MAX_CAPTURES 8

static struct {
    char name[32];
    sl_buf text;
} captures[MAX_CAPTURES];
static int n_captures;
static pthread_mutex_t captures_lock = PTHREAD_MUTEX_INITIALIZER;

static const sl_option capture_options[] = {{NULL, 0, false, NULL, NULL, NULL}};

static int capture_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    return 0;
}

static void capture_destroy(sl_component *c) {}

static void capture_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_payload *out, sl_emit *dlq) {
    sl_payload_part *part = sl_payload_part_get(out, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        sl_json_encode(&part->data, &recs[i]->value);
        sl_buf_putc(&part->data, '\n');
    }
    part->records += n;
}

static int capture_write(sl_component *c, sl_payload *p, sl_error *err) {
    pthread_mutex_lock(&captures_lock);
    int i = 0;
    while (i < n_captures && strcmp(captures[i].name, c->name) != 0) i++;
    if (i == n_captures && n_captures < MAX_CAPTURES) {
        snprintf(captures[i].name, sizeof captures[i].name, "%s", c->name);
        sl_buf_init(&captures[i].text);
        n_captures++;
    }
    for (size_t k = 0; k < p->count; k++)
        sl_buf_append(&captures[i].text, p->parts[k].data.data, p->parts[k].data.len);
    pthread_mutex_unlock(&captures_lock);
    return 0;
}

static int capture_flush(sl_component *c, sl_error *err) {
    return 0;
}

static const sl_component_type capture_type = {
    .name = "capture", .kind = SL_SINK, .summary = "test output", .options = capture_options,
    .create = capture_create, .destroy = capture_destroy, .encode = capture_encode,
    .write = capture_write, .flush = capture_flush,
};

static const sl_component_type *const test_sources[] = {&lines_type, NULL};
static const sl_component_type *const test_sinks[] = {&capture_type, NULL};

static const sl_component_type *const *test_types(sl_kind kind) {
    switch (kind) {
    case SL_SOURCE: return test_sources;
    case SL_TRANSFORM: return sl_registry_list(SL_TRANSFORM);
    case SL_SINK: return test_sinks;
    }
    return NULL;
}

/* ---- running a pipeline ---- */

static char data_dir[64];
static sl_buf diag_text;     /* the diag of the last build */
static sl_buf dlq_text;      /* "reason: message\n" per DLQ entry of the last run */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

static void reset(void) {
    for (int i = 0; i < n_captures; i++) sl_buf_free(&captures[i].text);
    n_captures = 0;
    sl_buf_free(&diag_text);
    sl_buf_free(&dlq_text);
    if (data_dir[0]) nftw(data_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    data_dir[0] = 0;
}

/* What sink `name` received in the last run ("" when nothing). */
static const char *output(const char *name) {
    for (int i = 0; i < n_captures; i++) {
        if (strcmp(captures[i].name, name) == 0) {
            sl_buf_putc(&captures[i].text, 0);
            captures[i].text.len--;
            return captures[i].text.data;
        }
    }
    return "";
}

static const char *dlq(void) {
    return dlq_text.data ? dlq_text.data : "";
}

static const char *diag_output(void) {
    return diag_text.data ? diag_text.data : "";
}

static void field_text(sl_buf *out, const sl_value *entry, const char *key) {
    const sl_value *v = sl_map_get(entry, key, strlen(key));
    if (v && v->type == SL_STRING) sl_buf_append(out, v->as.s, v->len);
}

/* Reads <data_dir>/dlq/dlq.jsonl into dlq_text as "reason: message" lines. */
static void read_dlq(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/dlq/dlq.jsonl", data_dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    sl_arena a;
    sl_arena_init(&a, 4096);
    while ((n = getline(&line, &cap, f)) > 0) {
        char *copy = sl_arena_alloc(&a, (size_t)n + SL_BUF_PADDING);
        memcpy(copy, line, (size_t)n);
        memset(copy + n, 0, SL_BUF_PADDING);
        sl_value entry;
        sl_decode_error derr;
        if (sl_json_decode(&a, copy, (size_t)n, 64, true, &entry, &derr) != 0) {
            sl_buf_printf(&dlq_text, "BAD DLQ LINE: %s", line);
            continue;
        }
        field_text(&dlq_text, &entry, "reason");
        sl_buf_puts(&dlq_text, ": ");
        field_text(&dlq_text, &entry, "message");
        sl_buf_putc(&dlq_text, '\n');
    }
    sl_buf_putc(&dlq_text, 0);
    dlq_text.len--;
    free(line);
    sl_arena_free(&a);
    fclose(f);
}

/* Runs `body` (transforms: and sinks: sections) on the JSON lines of
 * `input`, with `workers` workers and batches of `per_batch` records.
 * Returns 0 when the pipeline built and ran. */
static int run_with(const char *body, const char *input, int workers, int per_batch) {
    reset();
    snprintf(data_dir, sizeof data_dir, "/tmp/sluice-test-transforms-XXXXXX");
    if (!mkdtemp(data_dir)) {
        perror("mkdtemp");
        abort();
    }
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s\nworkers: %d\nbatch: {max_records: %d}\n"
                         "sources:\n  in:\n    type: lines\n    text: |\n",
                  data_dir, workers, per_batch);
    for (const char *p = input; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        sl_buf_printf(&yaml, "      %.*s\n", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
    sl_buf_puts(&yaml, body);

    sl_diag diag;
    sl_diag_init(&diag);
    sl_config *cfg = sl_config_parse("test.yaml", yaml.data, yaml.len, &diag);
    sl_pipeline *p = cfg && !sl_diag_has_errors(&diag) ? sl_pipeline_build_with(cfg, test_types, &diag)
                                                        : NULL;
    sl_diag_print(&diag, &diag_text);
    sl_buf_putc(&diag_text, 0);
    diag_text.len--;
    int rc = -1;
    if (p) {
        sl_run_options ro = {.progress = false};
        sl_error err;
        rc = sl_pipeline_run(p, &ro, &err);
        if (rc != 0) fprintf(stderr, "pipeline failed: %s\n", err.msg);
        sl_pipeline_free(p);
        read_dlq();
    }
    sl_config_free(cfg);
    sl_diag_free(&diag);
    sl_buf_free(&yaml);
    return rc;
}

static int run(const char *body, const char *input) {
    return run_with(body, input, 1, 1024);
}

/* Builds `body` (expected to fail) and checks the diag mentions `expected`. */
static void check_build_error(const char *body, const char *expected) {
    CHECK(run(body, "{}\n") != 0);
    bool found = strstr(diag_output(), expected) != NULL;
    CHECK(found);
    if (!found) fprintf(stderr, "  diag was: %s\n  expected to contain: %s\n", diag_output(), expected);
}

/* Checks that text starts with prefix (messages whose tail comes from
 * another module). */
static void check_prefix(const char *text, const char *prefix) {
    bool ok = strncmp(text, prefix, strlen(prefix)) == 0;
    CHECK(ok);
    if (!ok) fprintf(stderr, "  text was: %s\n  expected to start with: %s\n", text, prefix);
}

#define SINK_OUT(from) "sinks:\n  out:\n    type: capture\n    inputs: [" from "]\n"

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

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
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
