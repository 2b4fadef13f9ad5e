/* transform_harness.h — runs pipelines in-process for the unit tests of
 * transforms and sinks (test_engine_transforms.c and most test_engine_*
 * tests that need a running pipeline).
 *
 * Pipelines are built with sl_pipeline_build_with and two test-only
 * component types: a `lines` source that emits the JSON lines of its
 * `text` option (cut into batches of the configured size, each line at
 * file_id 42 and its byte offset) and a `capture` sink that collects what
 * it receives as JSON lines per sink name. A test can add its own types
 * (a generating source, a probe transform, a real sink) with
 * add_test_type. After each run the harness keeps what a test wants to
 * look at: the sink outputs, the DLQ entries, the run's error message, the
 * pipeline's describe JSON and its Prometheus text, and the build
 * diagnostics.
 *
 * Most tests call run_with; tests with a configuration of their own use
 * new_data_dir and run_config, or build_config and run_pipeline to do
 * something between building and freeing the pipeline.
 *
 * Header-only (static inline helpers, so a test program that leaves some
 * unused builds without warnings); each test program includes it once.
 */
#ifndef SL_TRANSFORM_HARNESS_H
#define SL_TRANSFORM_HARNESS_H

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/format.h"
#include "codec/json.h"
#include "core/arena.h"
#include "config/config.h"
#include "runtime/component.h"
#include "runtime/pipeline.h"

/* ---- the test source: JSON lines from an option ---- */

typedef struct lines_source {
    const char *text;
    unsigned pause_ms;     /* between batches */
    sl_format format;
    void *stream;
} lines_source;

static const sl_option lines_options[] = {
    {"text", SL_OPT_STRING, true, NULL, "JSON lines to emit.", NULL},
    {"pause_ms", SL_OPT_INT, false, "0", "Milliseconds to wait between batches.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int lines_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    lines_source *s = calloc(1, sizeof *s);
    s->text = sl_opts_string(opts, "text");
    s->pause_ms = (unsigned)sl_opts_int(opts, "pause_ms");
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
        if (p != s->text && s->pause_ms) sl_source_sleep(ctx, s->pause_ms);
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

static void capture_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_payload *out, sl_emit *dlq) {
    sl_payload_part *part = sl_payload_part_get(out, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        sl_json_encode(&part->data, sl_record_value(recs[i]));
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
    .create = capture_create, .encode = capture_encode, .write = capture_write,
    .flush = capture_flush,
};

/* ---- the component types of a run ---- */

#define MAX_TEST_TYPES 4

static const sl_component_type *test_sources[MAX_TEST_TYPES + 2] = {&lines_type};
static const sl_component_type *test_sinks[MAX_TEST_TYPES + 2] = {&capture_type};
static const sl_component_type *test_transforms[MAX_TEST_TYPES + 1];

/* Makes type t (a test's own source, transform or sink) available to the
 * next builds, besides the harness's types and the registry's transforms. */
static inline void add_test_type(const sl_component_type *t) {
    const sl_component_type **list = t->kind == SL_SOURCE ? test_sources
                                     : t->kind == SL_SINK ? test_sinks : test_transforms;
    int n = 0;
    while (list[n]) n++;
    if (n == MAX_TEST_TYPES) abort();
    list[n] = t;
}

static inline const sl_component_type *const *test_types(sl_kind kind) {
    static const sl_component_type *transforms[128];
    switch (kind) {
    case SL_SOURCE: return test_sources;
    case SL_SINK: return test_sinks;
    case SL_TRANSFORM: break;
    }
    const sl_component_type *const *registry = sl_registry_list(SL_TRANSFORM);
    size_t n = 0;
    for (; registry[n]; n++) {
        if (n + MAX_TEST_TYPES + 1 >= sizeof transforms / sizeof *transforms) abort();
        transforms[n] = registry[n];
    }
    for (int i = 0; test_transforms[i]; i++) transforms[n++] = test_transforms[i];
    transforms[n] = NULL;
    return transforms;
}

/* ---- running a pipeline ---- */

static char data_dir[64];      /* the data directory of the current runs */
static sl_config *last_config; /* of the last build */
static sl_buf diag_text;       /* the diag of the last build */
static sl_buf describe_text;   /* sl_pipeline_describe after the last run */
static sl_buf metrics_text;    /* sl_pipeline_prometheus after the last run */
static sl_buf dlq_text;        /* dlq() of the last run */
static sl_error run_error;     /* the last run's error, when it failed */

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

/* Forgets the last build and run, keeping the data directory. */
static inline void clear_results(void) {
    for (int i = 0; i < n_captures; i++) sl_buf_free(&captures[i].text);
    n_captures = 0;
    sl_config_free(last_config);
    last_config = NULL;
    sl_buf_free(&diag_text);
    sl_buf_free(&describe_text);
    sl_buf_free(&metrics_text);
    sl_buf_free(&dlq_text);
    run_error.msg[0] = 0;
}

/* Forgets the last run and removes the data directory. */
static inline void reset(void) {
    clear_results();
    if (data_dir[0]) nftw(data_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    data_dir[0] = 0;
}

/* reset, then a new empty data_dir for the next runs. */
static inline void new_data_dir(void) {
    reset();
    snprintf(data_dir, sizeof data_dir, "/tmp/sluice-test-harness-XXXXXX");
    if (!mkdtemp(data_dir)) {
        perror("mkdtemp");
        abort();
    }
}

static inline const char *text_of(sl_buf *b) {
    sl_buf_putc(b, 0);
    b->len--;
    return b->data;
}

/* What sink `name` received in the last run ("" when nothing). */
static inline const char *output(const char *name) {
    for (int i = 0; i < n_captures; i++)
        if (strcmp(captures[i].name, name) == 0) return text_of(&captures[i].text);
    return "";
}

static inline const char *diag_output(void) { return text_of(&diag_text); }
static inline const char *describe_output(void) { return text_of(&describe_text); }
static inline const char *metrics_output(void) { return text_of(&metrics_text); }

static inline void field_text(sl_buf *out, const sl_value *entry, const char *key) {
    const sl_value *v = sl_map_get(entry, key, strlen(key));
    if (v && v->type == SL_STRING) sl_buf_append(out, v->as.s, v->len);
}

/* The DLQ entries of the last run (<data_dir>/dlq/dlq.jsonl) as
 * "reason: message" lines ("" when there are none); read on the first call
 * after a run. */
static inline const char *dlq(void) {
    if (dlq_text.data) return dlq_text.data;
    char path[128];
    snprintf(path, sizeof path, "%s/dlq/dlq.jsonl", data_dir);
    FILE *f = data_dir[0] ? fopen(path, "r") : NULL;
    if (!f) return text_of(&dlq_text);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    sl_arena a;
    sl_arena_init(&a, 4096);
    while ((n = getline(&line, &cap, f)) > 0) {
        char *copy = sl_arena_calloc(&a, (size_t)n + SL_BUF_PADDING);
        memcpy(copy, line, (size_t)n);
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
    free(line);
    sl_arena_free(&a);
    fclose(f);
    return text_of(&dlq_text);
}

/* Parses and builds the configuration `yaml` with the test types, keeping
 * its diagnostics. Returns the pipeline, or NULL when it does not build. */
static inline sl_pipeline *build_config(const char *yaml) {
    clear_results();
    sl_diag diag;
    sl_diag_init(&diag);
    last_config = sl_config_parse("test.yaml", yaml, strlen(yaml), &diag);
    /* The test source and sink take no part in checkpoints. */
    if (last_config) last_config->checkpoint_required = false;
    sl_pipeline *p = last_config && !sl_diag_has_errors(&diag)
                         ? sl_pipeline_build_with(last_config, test_types, &diag)
                         : NULL;
    sl_diag_print(&diag, &diag_text);
    sl_diag_free(&diag);
    return p;
}

/* Runs p (from build_config), keeping its describe JSON and Prometheus
 * text; run_error holds the message when it fails. The caller frees p. */
static inline int run_pipeline(sl_pipeline *p) {
    sl_run_options ro = {.progress = false};
    int rc = sl_pipeline_run(p, &ro, &run_error);
    sl_pipeline_describe(p, &describe_text);
    sl_pipeline_prometheus(p, &metrics_text);
    return rc;
}

/* Builds and runs `yaml`: 0, or -1 when the build or the run failed. */
static inline int run_config(const char *yaml) {
    sl_pipeline *p = build_config(yaml);
    if (!p) return -1;
    int rc = run_pipeline(p);
    sl_pipeline_free(p);
    return rc;
}

static unsigned source_pause_ms;   /* pause_ms of the next runs' source */

/* Appends the start of a configuration to yaml: data_dir, `workers`
 * workers, batches of `per_batch` records, and source `in` emitting the
 * JSON lines of `input`. pause_ms is written only when set, so the lines
 * of the body (and the diag positions tests expect) do not move. */
static inline void lines_config(sl_buf *yaml, const char *input, int workers, int per_batch) {
    sl_buf_printf(yaml, "data_dir: %s\nworkers: %d\nbatch: {max_records: %d}\n"
                        "sources:\n  in:\n    type: lines\n",
                  data_dir, workers, per_batch);
    if (source_pause_ms) sl_buf_printf(yaml, "    pause_ms: %u\n", source_pause_ms);
    sl_buf_puts(yaml, "    text: |\n");
    for (const char *p = input; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        sl_buf_printf(yaml, "      %.*s\n", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* Runs `body` (transforms: and sinks: sections) on the JSON lines of
 * `input`, with `workers` workers and batches of `per_batch` records, in a
 * new data_dir. Returns 0, or -1 when the build or the run failed. */
static inline int run_with(const char *body, const char *input, int workers, int per_batch) {
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, input, workers, per_batch);
    sl_buf_puts(&yaml, body);
    int rc = run_config(text_of(&yaml));
    sl_buf_free(&yaml);
    return rc;
}

/* A sink `out` capturing the output of `from`. */
#define SINK_OUT(from) "sinks:\n  out:\n    type: capture\n    inputs: [" from "]\n"

/* Checks that text contains needle, printing both when not. */
#define CHECK_CONTAINS(text, needle) do { \
    const char *check_t_ = (text), *check_n_ = (needle); \
    bool check_found_ = check_t_ && strstr(check_t_, check_n_) != NULL; \
    CHECK(check_found_); \
    if (!check_found_) fprintf(stderr, "  text was: %.600s\n  expected to contain: %s\n", \
                               check_t_ ? check_t_ : "(null)", check_n_); \
} while (0)

/* Checks that text starts with prefix (messages whose tail comes from
 * another module). */
static inline void check_prefix(const char *text, const char *prefix) {
    bool ok = strncmp(text, prefix, strlen(prefix)) == 0;
    CHECK(ok);
    if (!ok) fprintf(stderr, "  text was: %s\n  expected to start with: %s\n", text, prefix);
}

/* Builds `body` (expected to fail) and checks the diag mentions `expected`. */
static inline void check_build_error(const char *body, const char *expected) {
    CHECK(run_with(body, "{}\n", 1, 1024) != 0);
    CHECK_CONTAINS(diag_output(), expected);
}

static inline size_t count_lines(const char *text) {
    size_t n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

#endif
