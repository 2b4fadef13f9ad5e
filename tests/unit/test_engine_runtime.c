/* test_engine_runtime.c — the pipeline builder and the multi-threaded
 * runtime, driven in-process with test-only component types:
 *
 *   tsource   emits `count` JSONL frames {"id":N,"src":"<name>"} in batches of
 *             `batch`, with every bad_every-th frame invalid JSON and every
 *             blank_every-th frame blank; `forever` keeps going until stopped;
 *             `extra` frames are appended verbatim at the end.
 *   odd       drops odd ids, sends ids divisible by 10 to the DLQ.
 *   tag       sets .tag (mutating records in place), optionally with jitter.
 *   split     named outputs even / odd / all (each record goes to two outputs).
 *   collect   a sink that keeps the JSON lines it receives, can be slow or fail.
 *
 * The pipeline internals (budget, DLQ writer) are reached through
 * runtime/pipeline_internal.h where a test needs to look inside.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "codec/format.h"
#include "codec/json.h"
#include "config/config.h"
#include "core/crc32c.h"
#include "runtime/dlq.h"
#include "runtime/dlq_read.h"
#include "runtime/pipeline.h"
#include "runtime/pipeline_internal.h"

/* ---- tsource ---- */

typedef struct tsource {
    sl_format format;
    void *stream;
    int64_t count, batch, bad_every, blank_every;
    bool forever;
    const sl_opts *opts;
} tsource;

static const sl_option tsource_options[] = {
    {"count", SL_OPT_INT, false, "100", "Frames to emit.", NULL},
    {"batch", SL_OPT_INT, false, "10", "Frames per batch.", NULL},
    {"bad_every", SL_OPT_INT, false, "0", "Every n-th frame is invalid JSON.", NULL},
    {"blank_every", SL_OPT_INT, false, "0", "Every n-th frame is blank.", NULL},
    {"forever", SL_OPT_BOOL, false, "false", "Emit until stopped.", NULL},
    {"extra", SL_OPT_LIST, false, NULL, "Frames appended verbatim.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int tsource_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    tsource *s = calloc(1, sizeof *s);
    sl_format_init(&s->format, SL_FORMAT_JSONL);
    sl_decode_error derr;
    s->stream = sl_format_stream_new(&s->format, NULL, 0, &derr);
    s->count = sl_opts_int(opts, "count");
    s->batch = sl_opts_int(opts, "batch");
    s->bad_every = sl_opts_int(opts, "bad_every");
    s->blank_every = sl_opts_int(opts, "blank_every");
    s->forever = sl_opts_bool(opts, "forever");
    s->opts = opts;
    c->impl = s;
    return 0;
}

static void tsource_destroy(sl_component *c)
{
    tsource *s = c->impl;
    sl_format_stream_free(&s->format, s->stream);
    sl_format_free(&s->format);
    free(s);
}

static sl_batch *tsource_batch(sl_component *c, sl_source_ctx *ctx)
{
    tsource *s = c->impl;
    sl_batch *b = sl_source_batch_new(ctx, 256);
    b->format = &s->format;
    b->stream = s->stream;
    b->origin = "test://input";
    return b;
}

static void add_frame(sl_batch *b, const char *text, size_t len, uint64_t *off)
{
    sl_batch_add_bytes(b, text, len, (sl_position){7, *off});
    b->input_bytes += len;
    *off += len;
}

static int tsource_run(sl_component *c, sl_source_ctx *ctx, sl_error *err)
{
    tsource *s = c->impl;
    uint64_t off = 0;
    sl_batch *b = NULL;
    for (int64_t i = 0; (s->forever || i < s->count) && !sl_source_should_stop(ctx); i++) {
        if (!b) b = tsource_batch(c, ctx);
        char line[128];
        int n;
        if (s->bad_every && i % s->bad_every == s->bad_every - 1)
            n = snprintf(line, sizeof line, "{\"id\":%lld,oops}\n", (long long)i);
        else if (s->blank_every && i % s->blank_every == s->blank_every - 1)
            n = snprintf(line, sizeof line, "\n");
        else
            n = snprintf(line, sizeof line, "{\"id\":%lld,\"src\":\"%s\"}\n", (long long)i, c->name);
        add_frame(b, line, (size_t)n, &off);
        if (b->count == s->batch) {
            sl_batch *full = b;
            b = NULL;
            if (sl_source_submit(ctx, full) < 0) return 0;
            if (s->forever) usleep(200);
        }
    }
    for (size_t i = 0; i < sl_opts_list_len(s->opts, "extra"); i++) {
        if (!b) b = tsource_batch(c, ctx);
        const char *text = sl_opts_list_item(s->opts, "extra", i);
        add_frame(b, text, strlen(text), &off);
    }
    if (b) sl_source_submit(ctx, b);
    return 0;
}

static const sl_component_type tsource_type = {
    .name = "tsource", .kind = SL_SOURCE, .options = tsource_options,
    .create = tsource_create, .destroy = tsource_destroy, .run = tsource_run,
};

/* ---- transforms ---- */

static int64_t record_id(const sl_record *r)
{
    const sl_value *id = sl_map_get(sl_record_value(r), "id", 2);
    return id && id->type == SL_INT ? id->as.i : -1;
}

static const sl_option no_options[] = {{NULL, 0, false, NULL, NULL, NULL}};

static int no_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    return 0;
}

static void odd_process(sl_component *c, void *ws, sl_batch *b, sl_record **recs, size_t n, sl_emit *out)
{
    for (size_t i = 0; i < n; i++) {
        int64_t id = record_id(recs[i]);
        if (id % 10 == 0) sl_emit_dlq(out, recs[i], "test_reject", "id %lld rejected", (long long)id);
        else if (id % 2 == 0) sl_emit_record(out, 0, recs[i]);
    }
}

static const sl_component_type odd_type = {
    .name = "odd", .kind = SL_TRANSFORM, .options = no_options,
    .create = no_create, .process = odd_process,
};

typedef struct tag_state {
    const char *tag;
    int64_t jitter_us;
} tag_state;

static const sl_option tag_options[] = {
    {"tag", SL_OPT_STRING, true, NULL, "The tag.", NULL},
    {"jitter_us", SL_OPT_INT, false, "0", "Sleep up to this long per batch.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int tag_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    tag_state *t = calloc(1, sizeof *t);
    t->tag = sl_opts_string(opts, "tag");
    t->jitter_us = sl_opts_int(opts, "jitter_us");
    c->impl = t;
    return 0;
}

static void tag_destroy(sl_component *c)
{
    free(c->impl);
}

static void *tag_worker_init(sl_component *c, sl_error *err)
{
    unsigned *seed = malloc(sizeof *seed);
    *seed = (unsigned)(uintptr_t)seed;
    return seed;
}

static void tag_worker_free(sl_component *c, void *ws)
{
    free(ws);
}

static void tag_process(sl_component *c, void *ws, sl_batch *b, sl_record **recs, size_t n, sl_emit *out)
{
    tag_state *t = c->impl;
    if (t->jitter_us) usleep((useconds_t)(rand_r(ws) % t->jitter_us));
    for (size_t i = 0; i < n; i++) {
        sl_map_set(&b->arena, sl_record_mut(recs[i]), "tag", 3, sl_cstring(t->tag));
        sl_emit_record(out, 0, recs[i]);
    }
}

static const sl_component_type tag_type = {
    .name = "tag", .kind = SL_TRANSFORM, .options = tag_options,
    .create = tag_create, .destroy = tag_destroy, .worker_init = tag_worker_init,
    .worker_free = tag_worker_free, .process = tag_process,
};

static const char *split_outputs[] = {"even", "odd", "all"};

static int split_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    c->outputs = split_outputs;
    c->n_outputs = 3;
    return 0;
}

static void split_process(sl_component *c, void *ws, sl_batch *b, sl_record **recs, size_t n, sl_emit *out)
{
    for (size_t i = 0; i < n; i++) {
        sl_emit_record(out, record_id(recs[i]) % 2 == 0 ? 0 : 1, recs[i]);
        sl_emit_record(out, 2, recs[i]);
    }
}

static const sl_component_type split_type = {
    .name = "split", .kind = SL_TRANSFORM, .options = no_options,
    .create = split_create, .process = split_process,
};

/* ---- collect ---- */

typedef struct collector {
    char name[32];
    sl_buf lines;
    uint64_t records, writes, flushes;
    int64_t slow_us, fail_after;
} collector;

static collector collectors[8];
static pthread_mutex_t collectors_lock = PTHREAD_MUTEX_INITIALIZER;

static void collectors_reset(void)
{
    for (size_t i = 0; i < 8; i++) sl_buf_free(&collectors[i].lines);
    memset(collectors, 0, sizeof collectors);
}

static collector *find_collector(const char *name)
{
    for (size_t i = 0; i < 8; i++)
        if (strcmp(collectors[i].name, name) == 0) return &collectors[i];
    return NULL;
}

static const sl_option collect_options[] = {
    {"slow_us", SL_OPT_INT, false, "0", "Sleep per write.", NULL},
    {"fail_after", SL_OPT_INT, false, "0", "Fail the n-th write.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int collect_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    for (size_t i = 0; i < 8; i++) {
        if (collectors[i].name[0]) continue;
        snprintf(collectors[i].name, sizeof collectors[i].name, "%s", c->name);
        sl_buf_init(&collectors[i].lines);
        collectors[i].slow_us = sl_opts_int(opts, "slow_us");
        collectors[i].fail_after = sl_opts_int(opts, "fail_after");
        c->impl = &collectors[i];
        return 0;
    }
    return -1;
}

static void collect_encode(sl_component *c, void *ws, sl_batch *b, sl_record **recs, size_t n,
                           sl_payload *out, sl_emit *dlq)
{
    sl_payload_part *part = sl_payload_part_get(out, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        sl_json_encode(&part->data, sl_record_value(recs[i]));
        sl_buf_putc(&part->data, '\n');
        part->records++;
    }
}

static int collect_write(sl_component *c, sl_payload *p, sl_error *err)
{
    collector *col = c->impl;
    pthread_mutex_lock(&collectors_lock);
    col->writes++;
    bool fail = col->fail_after && (int64_t)col->writes == col->fail_after;
    if (!fail) {
        for (size_t i = 0; i < p->count; i++) sl_buf_append(&col->lines, p->parts[i].data.data, p->parts[i].data.len);
        col->records += p->records;
    }
    pthread_mutex_unlock(&collectors_lock);
    if (fail) return sl_errorf(err, "disk full");
    if (col->slow_us) usleep((useconds_t)col->slow_us);
    return 0;
}

static int collect_flush(sl_component *c, sl_error *err)
{
    collector *col = c->impl;
    pthread_mutex_lock(&collectors_lock);
    col->flushes++;
    pthread_mutex_unlock(&collectors_lock);
    return 0;
}

static const sl_component_type collect_type = {
    .name = "collect", .kind = SL_SINK, .options = collect_options,
    .create = collect_create, .encode = collect_encode, .write = collect_write, .flush = collect_flush,
};

/* ---- the test registry ---- */

static const sl_component_type *const test_sources[] = {&tsource_type, NULL};
static const sl_component_type *const test_transforms[] = {&odd_type, &tag_type, &split_type, NULL};
static const sl_component_type *const test_sinks[] = {&collect_type, NULL};

static const sl_component_type *const *test_types(sl_kind kind)
{
    switch (kind) {
    case SL_SOURCE: return test_sources;
    case SL_TRANSFORM: return test_transforms;
    case SL_SINK: return test_sinks;
    }
    return NULL;
}

/* ---- helpers ---- */

typedef struct harness {
    sl_diag diag;
    sl_config *cfg;
    sl_pipeline *p;
    char dir[64];
} harness;

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        rm_dir(path);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Builds yaml; "DIR" in the text is replaced by a fresh temporary directory. */
static bool setup(harness *h, const char *yaml)
{
    collectors_reset();
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/sl-runtime-XXXXXX");
    if (!mkdtemp(h->dir)) return false;
    sl_buf text;
    sl_buf_init(&text);
    for (const char *s = yaml; *s; ) {
        const char *m = strstr(s, "DIR");
        if (!m) {
            sl_buf_puts(&text, s);
            break;
        }
        sl_buf_append(&text, s, (size_t)(m - s));
        sl_buf_puts(&text, h->dir);
        s = m + 3;
    }
    sl_diag_init(&h->diag);
    h->cfg = sl_config_parse("test.yaml", text.data, text.len, &h->diag);
    sl_buf_free(&text);
    /* The test sources and sinks take no part in checkpoints (unless a
     * test asks what that means). */
    if (h->cfg && !strstr(yaml, "required:")) h->cfg->checkpoint_required = false;
    if (h->cfg && !sl_diag_has_errors(&h->diag))
        h->p = sl_pipeline_build_with(h->cfg, test_types, &h->diag);
    if (!h->p) {
        sl_buf out;
        sl_buf_init(&out);
        sl_diag_print(&h->diag, &out);
        fprintf(stderr, "%.*s", (int)out.len, out.data);
        sl_buf_free(&out);
    }
    return h->p != NULL;
}

static void teardown(harness *h)
{
    sl_pipeline_free(h->p);
    sl_config_free(h->cfg);
    sl_diag_free(&h->diag);
    rm_dir(h->dir);
    collectors_reset();
}

static sl_component_metrics *metrics_of(harness *h, const char *name)
{
    sl_metrics *m = sl_pipeline_metrics(h->p);
    for (int i = 0; i < m->count; i++)
        if (strcmp(m->components[i]->component, name) == 0) return m->components[i];
    return NULL;
}

static uint64_t dlq_of(harness *h, const char *name, const char *reason)
{
    sl_component_metrics *m = metrics_of(h, name);
    uint64_t n = 0;
    for (int i = 0; i < SL_MAX_REASONS; i++)
        if (!reason || strcmp(m->dlq[i].reason, reason) == 0) n += m->dlq[i].count;
    return n;
}

static uint64_t received(harness *h, const char *name)
{
    return atomic_load(&metrics_of(h, name)->received_events);
}

static uint64_t sent(harness *h, const char *name)
{
    return atomic_load(&metrics_of(h, name)->sent_events);
}

static int run(harness *h)
{
    sl_error err = {0};
    sl_run_options ro = {.progress = false};
    int rc = sl_pipeline_run(h->p, &ro, &err);
    if (rc < 0) fprintf(stderr, "run: %s\n", err.msg);
    return rc;
}

/* Counts lines of a collector; checks per-source id order when asked. */
static size_t count_lines(const collector *col)
{
    size_t n = 0;
    for (size_t i = 0; i < col->lines.len; i++) n += col->lines.data[i] == '\n';
    return n;
}

/* ---- tests ---- */

static void test_counts_and_dlq(void)
{
    harness h;
    CHECK(setup(&h, "workers: 2\n"
                    "dlq: {path: DIR/dlq}\n"
                    "sources:\n  in: {type: tsource, count: 100, batch: 7, bad_every: 25, blank_every: 33}\n"
                    "transforms:\n  keep: {type: odd, inputs: [in]}\n"
                    "sinks:\n  out: {type: collect, inputs: [keep]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    CHECK_INT(run(&h), 0);
    /* 100 frames: ids 32, 65, 98 blank; 24, 49, 74, 99 invalid. */
    CHECK_INT(received(&h, "in"), 97);
    CHECK_INT(sent(&h, "in"), 93);
    CHECK_INT(dlq_of(&h, "in", "json_syntax"), 4);
    /* Of the 93 decoded: evens not divisible by 10 pass, multiples of 10 go to the DLQ. */
    uint64_t pass = 0, reject = 0;
    for (int i = 0; i < 100; i++) {
        if (i == 32 || i == 65 || i == 98 || i == 24 || i == 49 || i == 74 || i == 99) continue;
        if (i % 10 == 0) reject++;
        else if (i % 2 == 0) pass++;
    }
    CHECK_INT(received(&h, "keep"), 93);
    CHECK_INT(sent(&h, "keep"), pass);
    CHECK_INT(dlq_of(&h, "keep", "test_reject"), reject);
    CHECK_INT(received(&h, "out"), pass);
    CHECK_INT(sent(&h, "out"), pass);
    collector *col = find_collector("out");
    CHECK_INT(col->records, pass);
    CHECK(col->flushes >= 1);
    /* Order and content: every even id not divisible by 10, in order. */
    const char *line = col->lines.data;
    int64_t last = -1;
    bool ordered = true;
    for (size_t k = 0; k < pass; k++) {
        long long id;
        CHECK(sscanf(line, "{\"id\":%lld,\"src\":\"in\"}", &id) == 1);
        if (id <= last) ordered = false;
        last = id;
        line = strchr(line, '\n') + 1;
    }
    CHECK(ordered);
    CHECK_INT(sl_dlq_count(h.p->dlq), 4 + reject);
    CHECK_INT(sl_budget_used(&h.p->budget), 0);

    char summary[4096] = {0};
    FILE *f = fmemopen(summary, sizeof summary - 1, "w");
    sl_pipeline_summary(h.p, f);
    fclose(f);
    CHECK(strstr(summary, "DLQ by reason:") != NULL);
    CHECK(strstr(summary, "json_syntax") != NULL);
    CHECK(strstr(summary, "dlq/dlq.jsonl") != NULL);
    teardown(&h);
}

static void test_order_with_many_workers(void)
{
    harness h;
    CHECK(setup(&h, "workers: 4\n"
                    "sources:\n"
                    "  a: {type: tsource, count: 3000, batch: 7}\n"
                    "  b: {type: tsource, count: 2000, batch: 13}\n"
                    "transforms:\n  jitter: {type: tag, tag: x, jitter_us: 300, inputs: [a, b]}\n"
                    "sinks:\n  out: {type: collect, inputs: [jitter]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    CHECK_INT(run(&h), 0);
    collector *col = find_collector("out");
    CHECK_INT(col->records, 5000);
    CHECK_INT(count_lines(col), 5000);
    long long next_a = 0, next_b = 0;
    bool ordered = true;
    for (const char *line = col->lines.data; line < col->lines.data + col->lines.len; line = strchr(line, '\n') + 1) {
        long long id;
        char src[8];
        if (sscanf(line, "{\"id\":%lld,\"src\":\"%1[ab]\",\"tag\":\"x\"}", &id, src) != 2) {
            ordered = false;
            break;
        }
        long long *next = src[0] == 'a' ? &next_a : &next_b;
        if (id != *next) ordered = false;
        (*next)++;
    }
    CHECK(ordered);
    CHECK_INT(next_a, 3000);
    CHECK_INT(next_b, 2000);
    teardown(&h);
}

static void test_fan_out_clones(void)
{
    harness h;
    CHECK(setup(&h, "workers: 2\n"
                    "sources:\n  in: {type: tsource, count: 50, batch: 8}\n"
                    "transforms:\n"
                    "  ta: {type: tag, tag: a, inputs: [in]}\n"
                    "  tb: {type: tag, tag: b, inputs: [in]}\n"
                    "sinks:\n"
                    "  out_a: {type: collect, inputs: [ta]}\n"
                    "  out_b: {type: collect, inputs: [tb]}\n"
                    "  raw: {type: collect, inputs: [in]}\n"
                    "  both: {type: collect, inputs: [ta, tb]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    CHECK_INT(run(&h), 0);
    collector *a = find_collector("out_a"), *b = find_collector("out_b"), *raw = find_collector("raw");
    collector *both = find_collector("both");
    CHECK_INT(a->records, 50);
    CHECK_INT(b->records, 50);
    CHECK_INT(raw->records, 50);
    CHECK_INT(both->records, 100);
    sl_buf_putc(&a->lines, '\0');
    sl_buf_putc(&b->lines, '\0');
    sl_buf_putc(&raw->lines, '\0');
    CHECK(strstr(a->lines.data, "\"tag\":\"b\"") == NULL);
    CHECK(strstr(b->lines.data, "\"tag\":\"a\"") == NULL);
    CHECK(strstr(raw->lines.data, "\"tag\"") == NULL);
    CHECK(strncmp(a->lines.data, "{\"id\":0,\"src\":\"in\",\"tag\":\"a\"}\n", 29) == 0);
    CHECK(strncmp(b->lines.data, "{\"id\":0,\"src\":\"in\",\"tag\":\"b\"}\n", 29) == 0);
    CHECK(strncmp(raw->lines.data, "{\"id\":0,\"src\":\"in\"}\n", 20) == 0);
    teardown(&h);
}

static void test_route_named_outputs(void)
{
    harness h;
    CHECK(setup(&h, "workers: 3\n"
                    "sources:\n  in: {type: tsource, count: 40, batch: 6}\n"
                    "transforms:\n"
                    "  sp: {type: split, inputs: [in]}\n"
                    "  mark: {type: tag, tag: even, inputs: [sp.even]}\n"
                    "sinks:\n"
                    "  evens: {type: collect, inputs: [mark]}\n"
                    "  odds: {type: collect, inputs: [sp.odd]}\n"
                    "  all: {type: collect, inputs: [sp.all]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    CHECK_INT(run(&h), 0);
    collector *evens = find_collector("evens"), *odds = find_collector("odds"), *all = find_collector("all");
    CHECK_INT(evens->records, 20);
    CHECK_INT(odds->records, 20);
    CHECK_INT(all->records, 40);
    CHECK_INT(sent(&h, "sp"), 80);
    sl_buf_putc(&evens->lines, '\0');
    sl_buf_putc(&odds->lines, '\0');
    sl_buf_putc(&all->lines, '\0');
    CHECK(strncmp(evens->lines.data, "{\"id\":0,\"src\":\"in\",\"tag\":\"even\"}\n{\"id\":2,", 40) == 0);
    CHECK(strncmp(odds->lines.data, "{\"id\":1,\"src\":\"in\"}\n{\"id\":3,", 28) == 0);
    /* "all" shares records with "even": the tag must not leak into it. */
    CHECK(strstr(all->lines.data, "tag") == NULL);
    CHECK(strncmp(all->lines.data, "{\"id\":0,\"src\":\"in\"}\n{\"id\":1,", 28) == 0);

    sl_buf dot;
    sl_buf_init(&dot);
    sl_pipeline_graph_dot(h.p, &dot);
    sl_buf_putc(&dot, '\0');
    CHECK(strstr(dot.data, "\"in\" [shape=ellipse, label=\"in\\n(tsource source)\"];\n") != NULL);
    CHECK(strstr(dot.data, "\"sp\" -> \"mark\" [label=\"even\"];\n") != NULL);
    CHECK(strstr(dot.data, "\"in\" -> \"sp\";\n") != NULL);
    CHECK(strstr(dot.data, "\"all\" [shape=cylinder") != NULL);
    sl_buf_free(&dot);
    teardown(&h);
}

static void test_slow_sink_stays_in_budget(void)
{
    harness h;
    CHECK(setup(&h, "workers: 2\n"
                    "memory_limit: 96KiB\n"
                    "batch: {max_records: 64}\n"
                    "sources:\n  in: {type: tsource, count: 6000, batch: 50}\n"
                    "sinks:\n"
                    "  slow: {type: collect, slow_us: 2000, inputs: [in]}\n"
                    "  fast: {type: collect, inputs: [in]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    CHECK_INT(run(&h), 0);
    CHECK_INT(find_collector("slow")->records, 6000);
    CHECK_INT(find_collector("fast")->records, 6000);
    uint64_t peak = sl_pipeline_memory_peak(h.p);
    CHECK(peak > 0);
    CHECK(peak <= 96 * 1024);
    CHECK_INT(sl_budget_used(&h.p->budget), 0);
    teardown(&h);
}

static void *run_thread(void *arg)
{
    harness *h = arg;
    static int rc;
    rc = run(h);
    return &rc;
}

static void test_stop_drains(void)
{
    harness h;
    CHECK(setup(&h, "workers: 2\n"
                    "sources:\n  in: {type: tsource, forever: true, batch: 10}\n"
                    "sinks:\n  out: {type: collect, slow_us: 100, inputs: [in]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    pthread_t t;
    pthread_create(&t, NULL, run_thread, &h);
    usleep(150 * 1000);
    CHECK(sl_pipeline_ready(h.p));
    sl_pipeline_stop(h.p);
    void *rc;
    pthread_join(t, &rc);
    CHECK_INT(*(int *)rc, 0);
    collector *col = find_collector("out");
    CHECK(col->records > 0);
    /* Everything the source submitted reached the sink. */
    CHECK_INT(col->records, sent(&h, "in"));
    CHECK_INT(col->records, received(&h, "in"));
    CHECK(col->flushes >= 1);
    CHECK_INT(sl_budget_used(&h.p->budget), 0);
    teardown(&h);
}

/* With on_failure: fail and no retry (the default retries, then uses the
 * DLQ: see test_engine_retries). */
static void test_sink_failure_is_fatal(void)
{
    harness h;
    CHECK(setup(&h, "workers: 2\n"
                    "sources:\n  in: {type: tsource, count: 5000, batch: 10}\n"
                    "sinks:\n"
                    "  bad: {type: collect, fail_after: 3, inputs: [in], on_failure: fail,\n"
                    "        retry: {max_attempts: 1}}\n"
                    "  good: {type: collect, inputs: [in]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    sl_error err = {0};
    sl_run_options ro = {.progress = false};
    CHECK_INT(sl_pipeline_run(h.p, &ro, &err), -1);
    CHECK_STR(err.msg, "sink 'bad': write failed 1 time: disk full");
    CHECK_INT(find_collector("bad")->records, 20);
    CHECK_INT(sl_budget_used(&h.p->budget), 0);
    teardown(&h);
}

static void test_dlq_file_for_decode_error(void)
{
    harness h;
    CHECK(setup(&h, "workers: 1\n"
                    "dlq: {path: DIR/dead/letters}\n"
                    "sources:\n  in: {type: tsource, count: 2, extra: [\"{\\\"id\\\": 5, oops}\\n\"]}\n"
                    "sinks:\n  out: {type: collect, inputs: [in]}\n"));
    if (!h.p) {
        teardown(&h);
        return;
    }
    CHECK_INT(run(&h), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/dead/letters/dlq.jsonl", h.dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char line[2048] = {0};
    if (f) {
        CHECK(fgets(line, sizeof line, f) != NULL);
        char more[16];
        CHECK(fgets(more, sizeof more, f) == NULL);   /* exactly one entry */
        fclose(f);
    }
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value v;
    sl_decode_error derr;
    size_t len = strlen(line);
    char padded[2048 + SL_BUF_PADDING] = {0};
    memcpy(padded, line, len);
    CHECK_INT(sl_json_decode(&a, padded, len, 64, true, &v, &derr), 0);
    if (v.type == SL_MAP) {
        CHECK_INT(v.len, 8);
        const char *keys[] = {"time", "component", "source", "origin", "position", "reason", "message", "raw"};
        for (int i = 0; i < 8 && i < (int)v.len; i++)
            CHECK_MEM(v.as.fields[i].key, v.as.fields[i].key_len, keys[i]);
        const sl_value *s;
        s = sl_map_get(&v, "component", 9);
        CHECK_MEM(s->as.s, s->len, "in");
        s = sl_map_get(&v, "source", 6);
        CHECK_MEM(s->as.s, s->len, "in");
        s = sl_map_get(&v, "origin", 6);
        CHECK_MEM(s->as.s, s->len, "test://input");
        s = sl_map_get(&v, "reason", 6);
        CHECK_MEM(s->as.s, s->len, "json_syntax");
        s = sl_map_get(&v, "raw", 3);
        CHECK_MEM(s->as.s, s->len, "{\"id\": 5, oops}");
        s = sl_map_get(&v, "message", 7);
        CHECK(s->type == SL_STRING && s->len > 0);
        s = sl_map_get(&v, "time", 4);
        CHECK(s->type == SL_STRING && s->len >= 20 && s->as.s[s->len - 1] == 'Z');
        const sl_value *pos = sl_map_get(&v, "position", 8);
        /* Two frames of {"id":N,"src":"in"}\n (20 bytes each) come first. */
        CHECK_INT(sl_map_get(pos, "file_id", 7)->as.i, 7);
        CHECK_INT(sl_map_get(pos, "offset", 6)->as.i, 40);
    }
    sl_arena_free(&a);
    CHECK_INT(find_collector("out")->records, 2);
    teardown(&h);
}

static void test_dlq_writer_raw_forms(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sl-dlq-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    sl_metrics *m = sl_metrics_new();
    sl_component_metrics *cm = sl_metrics_add(m, "stage", "transform", "x");
    sl_dlq *d = sl_dlq_new(dir, m, NULL);
    sl_error err;
    static char big[5000], huge[70000];
    memset(big, 'a', sizeof big);
    big[4095] = '\xc3';     /* "é" where entries used to be cut */
    big[4096] = '\xa9';
    memset(huge, 'h', sizeof huge);
    huge[100] = '\xff';
    sl_dlq_entry e = {.component = "stage", .metrics = cm, .source = "src", .origin = NULL,
                      .pos = {1, 2}, .reason = "r1", .message = "bad \"thing\" \xe2\x82", .raw = "\xff\xfe\n",
                      .raw_len = 3};
    CHECK_INT(sl_dlq_write(d, &e, &err), 0);
    e.raw = big;
    e.raw_len = sizeof big;
    e.reason = "r2";
    e.message = "m";
    CHECK_INT(sl_dlq_write(d, &e, &err), 0);
    e.raw = huge;
    e.raw_len = sizeof huge;
    CHECK_INT(sl_dlq_write(d, &e, &err), 0);
    sl_dlq_mark mark;
    CHECK_INT(sl_dlq_checkpoint(d, &mark, &err), 0);
    CHECK_INT(mark.raw_size, sizeof huge);
    CHECK_INT(sl_dlq_count(d), 3);
    CHECK_INT(cm->dlq[0].count, 1);
    CHECK_STR(cm->dlq[1].reason, "r2");

    char path[128], raw_path[128];
    snprintf(path, sizeof path, "%s/dlq.jsonl", dir);
    snprintf(raw_path, sizeof raw_path, "%s/dlq.raw", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    static char line[16384];
    if (f) {
        CHECK(fgets(line, sizeof line, f) != NULL);
        /* The message's cut-off character is written as text: valid UTF-8. */
        const char *rest = strstr(line, "\",\"component\"");
        CHECK_STR(rest, "\",\"component\":\"stage\",\"source\":\"src\",\"origin\":null,"
                        "\"position\":{\"file_id\":1,\"offset\":2},\"reason\":\"r1\","
                        "\"message\":\"bad \\\"thing\\\" \\\\xe2\\\\x82\",\"raw_base64\":\"//4=\"}\n");
        CHECK(fgets(line, sizeof line, f) != NULL);
        const char *raw = strstr(line, "\"raw\":\"");
        CHECK(raw != NULL);
        if (raw) {   /* whole: 4095 'a's, "é", 903 'a's */
            raw += 7;
            CHECK_INT(strspn(raw, "a"), 4095);
            CHECK_INT(strspn(raw + 4097, "a"), 903);
            CHECK_STR(raw + 5000, "\"}\n");
        }
        /* Over 64 KiB: in the side file, named by its absolute path. */
        CHECK(fgets(line, sizeof line, f) != NULL);
        char expect[256];
        snprintf(expect, sizeof expect, "\"raw_file\":\"%s/dlq.raw\",\"raw_offset\":0,\"raw_length\":70000,"
                 "\"raw_crc32c\":%u}\n", dir, sl_crc32c(0, huge, sizeof huge));
        CHECK_STR(strstr(line, "\"raw_file\""), expect);
        fclose(f);
    }
    struct stat st;
    CHECK(stat(raw_path, &st) == 0 && st.st_size == 70000);

    /* An entry after the checkpoint, then a rollback to it: both files are
     * cut back. */
    CHECK_INT(sl_dlq_write(d, &e, &err), 0);
    CHECK_INT(sl_dlq_flush(d, &err), 0);
    CHECK(stat(raw_path, &st) == 0 && st.st_size == 140000);
    sl_dlq_free(d);
    d = sl_dlq_new(dir, m, NULL);   /* the next run, resuming */
    CHECK_INT(sl_dlq_rollback(d, &mark, &err), 0);
    sl_dlq_free(d);
    CHECK(stat(raw_path, &st) == 0 && (uint64_t)st.st_size == mark.raw_size);
    CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == mark.size);
    sl_metrics_free(m);
    unlink(path);
    unlink(raw_path);
    rmdir(dir);
}

static const char *message_class(const char *message)
{
    static char result[512];
    sl_buf out;
    sl_buf_init(&out);
    sl_dlq_message_class(message, &out);
    snprintf(result, sizeof result, "%.*s", (int)out.len, out.data ? out.data : "");
    sl_buf_free(&out);
    return result;
}

static void test_dlq_message_classes(void)
{
    CHECK_STR(message_class("rule gopher_dup_5gram: 0.420804 is above the maximum 0.15"),
              "rule gopher_dup_5gram: N is above the maximum N");
    CHECK_STR(message_class("2 rules failed: amount: min 0 (got -5); email: format email (got \"x@\")"),
              "N rules failed: amount: min N (got N); email: format email (got \"\xe2\x80\xa6\")");
    CHECK_STR(message_class("column \"amount\": cannot parse \"N/A\" as float"),
              "column \"amount\": cannot parse \"\xe2\x80\xa6\" as float");
    CHECK_STR(message_class("invalid UTF-8 at offset 180 (byte 0xe4)"), "invalid UTF-8 at offset N (byte N)");
    CHECK_STR(message_class("invalid JSON at offset 7: malformed number '1\\xff2', can't parse 1e-5"),
              "invalid JSON at offset N: malformed number '\xe2\x80\xa6', can't parse N");
    /* Code in backquotes names the rule: kept as it is. */
    CHECK_STR(message_class("expr `.n > 1` failed: v1.2 x2"), "expr `.n > 1` failed: v1.2 x2");
    CHECK_STR(message_class(NULL), "");
    /* Long messages are cut (at a character boundary). */
    char longer[400];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    const char *cut = message_class(longer);
    CHECK_INT(strlen(cut), 163);
    CHECK_STR(cut + 160, "...");
    /* So is one long piece copied whole (code in backquotes). */
    char code[400] = "rule `";
    memset(code + 6, 'b', 300);
    strcpy(code + 306, "` failed");
    cut = message_class(code);
    CHECK_INT(strlen(cut), 163);
    CHECK_STR(cut + 160, "...");
}

static void test_build_errors(void)
{
    harness h;
    CHECK(!setup(&h, "sources:\n  in: {type: tsourc}\n"
                     "transforms:\n  t: {type: od, inputs: [in]}\n  u: {type: zzzzzz, inputs: [in]}\n"
                     "sinks:\n  out: {type: collect, inputs: [t, u], bogus: 1}\n"));
    CHECK(h.diag.errors >= 4);
    sl_buf out;
    sl_buf_init(&out);
    sl_diag_print(&h.diag, &out);
    sl_buf_putc(&out, '\0');
    CHECK(strstr(out.data, "test.yaml:2:14: error: unknown source type 'tsourc' (did you mean 'tsource'?)") != NULL);
    CHECK(strstr(out.data, "unknown transform type 'od' (did you mean 'odd'?)") != NULL);
    CHECK(strstr(out.data, "unknown transform type 'zzzzzz' (known transform types: odd, tag, split)") != NULL);
    CHECK(strstr(out.data, "bogus") != NULL);
    sl_buf_free(&out);
    teardown(&h);
}

/* A source or sink that cannot take part in checkpoints would turn them off
 * for the whole pipeline: an error naming each, unless the config opts out. */
static void test_checkpoints_required(void)
{
    harness h;
    const char *yaml = "checkpoint: {required: true}\n"
                       "sources:\n  in: {type: tsource, count: 10}\n"
                       "sinks:\n  out: {type: collect, inputs: [in]}\n";
    CHECK(!setup(&h, yaml));
    sl_buf out;
    sl_buf_init(&out);
    sl_diag_print(&h.diag, &out);
    sl_buf_putc(&out, '\0');
    CHECK(strstr(out.data, "test.yaml:3:7: error: source 'in' (tsource) cannot take part in checkpoints: its type "
                           "cannot save a position to resume from.") != NULL);
    CHECK(strstr(out.data, "test.yaml:5:8: error: sink 'out' (collect) cannot take part in checkpoints") != NULL);
    CHECK(strstr(out.data, "set 'checkpoint: {required: false}'") != NULL);
    sl_buf_free(&out);
    teardown(&h);

    CHECK(setup(&h, "checkpoint: {required: false}\n"
                    "sources:\n  in: {type: tsource, count: 10}\n"
                    "sinks:\n  out: {type: collect, inputs: [in]}\n"));
    char why[256];
    CHECK(sl_checkpoints_off_reason(h.p, why, sizeof why) != NULL);
    CHECK(strstr(why, "source 'in' (tsource) cannot take part") != NULL);
    CHECK_STR(sl_sink_delivery(h.p, sl_pipeline_component(h.p, 1)), "none");
    teardown(&h);
}

static void test_queue_and_budget(void)
{
    sl_queue *q = sl_queue_new(2, 100);
    int a = 1, b = 2, c = 3;
    void *item;
    size_t bytes;
    CHECK_INT(sl_queue_push(q, &b, 500), 0);   /* over the byte bound, but the queue was empty */
    CHECK_INT(sl_queue_pop(q, 0, &item, &bytes), 1);
    CHECK(item == &b);
    CHECK_INT(bytes, 500);
    CHECK_INT(sl_queue_push(q, &a, 10), 0);
    CHECK_INT(sl_queue_push(q, &b, 20), 0);
    CHECK_INT(sl_queue_pop(q, 0, &item, &bytes), 1);
    CHECK(item == &a);
    CHECK_INT(sl_queue_pop(q, 0, &item, &bytes), 1);
    CHECK(item == &b);
    CHECK_INT(sl_queue_pop(q, 10, &item, &bytes), 0);     /* timeout */
    CHECK_INT(sl_queue_push(q, &c, 1), 0);
    sl_queue_close(q);
    CHECK_INT(sl_queue_push(q, &a, 1), -1);
    CHECK_INT(sl_queue_pop(q, -1, &item, NULL), 1);
    CHECK(item == &c);
    CHECK_INT(sl_queue_pop(q, -1, &item, NULL), -1);
    sl_queue_free(q);

    sl_budget bg;
    sl_budget_init(&bg, 100);
    CHECK_INT(sl_budget_acquire(&bg, 500), 0);     /* empty budget admits anything */
    sl_budget_release(&bg, 500);
    CHECK_INT(sl_budget_acquire(&bg, 60), 0);
    sl_budget_force(&bg, 50);
    CHECK_INT(sl_budget_used(&bg), 110);
    CHECK_INT(sl_budget_peak(&bg), 500);
    sl_budget_stop(&bg);
    CHECK_INT(sl_budget_acquire(&bg, 10), -1);
    sl_budget_release(&bg, 110);
    CHECK_INT(sl_budget_used(&bg), 0);
    sl_budget_destroy(&bg);
}

int main(void)
{
    RUN(test_queue_and_budget);
    RUN(test_dlq_writer_raw_forms);
    RUN(test_dlq_message_classes);
    RUN(test_build_errors);
    RUN(test_checkpoints_required);
    RUN(test_counts_and_dlq);
    RUN(test_order_with_many_workers);
    RUN(test_fan_out_clones);
    RUN(test_route_named_outputs);
    RUN(test_slow_sink_stays_in_budget);
    RUN(test_stop_drains);
    RUN(test_sink_failure_is_fatal);
    RUN(test_dlq_file_for_decode_error);
    return check_report();
}
