/* transform_harness.h — runs transforms through a real pipeline in-process,
 * for the unit tests of stateful transforms (quality, profile).
 *
 * The approach of test_engine_transforms.c: sl_pipeline_build_with with two
 * test-only component types — a `lines` source that emits the JSON lines of
 * its `text` option (cut into batches of the configured size) and a
 * `capture` sink that collects what it receives as JSON lines per sink
 * name. After each run the harness keeps what a test wants to look at: the
 * sink outputs, the run's error message, the pipeline's describe JSON and
 * its Prometheus text, and the build diagnostics.
 *
 * Header-only (static functions) so each test program includes it once.
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
    .create = capture_create, .encode = capture_encode, .write = capture_write,
    .flush = capture_flush,
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
static sl_buf diag_text;      /* the diag of the last build */
static sl_buf describe_text;  /* sl_pipeline_describe after the last run */
static sl_buf metrics_text;   /* sl_pipeline_prometheus after the last run */
static sl_error run_error;    /* the last run's error, when it failed */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

static void reset(void) {
    for (int i = 0; i < n_captures; i++) sl_buf_free(&captures[i].text);
    n_captures = 0;
    sl_buf_free(&diag_text);
    sl_buf_free(&describe_text);
    sl_buf_free(&metrics_text);
    run_error.msg[0] = 0;
    if (data_dir[0]) nftw(data_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    data_dir[0] = 0;
}

static const char *text_of(sl_buf *b) {
    sl_buf_putc(b, 0);
    b->len--;
    return b->data;
}

/* What sink `name` received in the last run ("" when nothing). */
static const char *output(const char *name) {
    for (int i = 0; i < n_captures; i++)
        if (strcmp(captures[i].name, name) == 0) return text_of(&captures[i].text);
    return "";
}

static const char *diag_output(void) { return text_of(&diag_text); }
static const char *describe_output(void) { return text_of(&describe_text); }
static const char *metrics_output(void) { return text_of(&metrics_text); }

static unsigned source_pause_ms;   /* pause_ms of the next runs' source */

/* Runs `body` (transforms: and sinks: sections) on the JSON lines of
 * `input`, with `workers` workers and batches of `per_batch` records.
 * Returns the run's result: 0, or -1 when the build or the run failed
 * (run_error holds the run's message). */
static int run_with(const char *body, const char *input, int workers, int per_batch) {
    reset();
    snprintf(data_dir, sizeof data_dir, "/tmp/sluice-test-harness-XXXXXX");
    if (!mkdtemp(data_dir)) {
        perror("mkdtemp");
        abort();
    }
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s\nworkers: %d\nbatch: {max_records: %d}\n"
                         "sources:\n  in:\n    type: lines\n    pause_ms: %u\n    text: |\n",
                  data_dir, workers, per_batch, source_pause_ms);
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
    int rc = -1;
    if (p) {
        sl_run_options ro = {.progress = false};
        rc = sl_pipeline_run(p, &ro, &run_error);
        sl_pipeline_describe(p, &describe_text);
        sl_pipeline_prometheus(p, &metrics_text);
        sl_pipeline_free(p);
    }
    sl_config_free(cfg);
    sl_diag_free(&diag);
    sl_buf_free(&yaml);
    return rc;
}

/* Checks that text contains needle, printing both when not. */
#define CHECK_CONTAINS(text, needle) do { \
    const char *check_t_ = (text), *check_n_ = (needle); \
    bool check_found_ = check_t_ && strstr(check_t_, check_n_) != NULL; \
    CHECK(check_found_); \
    if (!check_found_) fprintf(stderr, "  text was: %.600s\n  expected to contain: %s\n", \
                               check_t_ ? check_t_ : "(null)", check_n_); \
} while (0)

/* Builds `body` (expected to fail) and checks the diag mentions `expected`. */
static void check_build_error(const char *body, const char *expected) {
    CHECK(run_with(body, "{}\n", 1, 1024) != 0);
    CHECK_CONTAINS(diag_output(), expected);
}

#endif
