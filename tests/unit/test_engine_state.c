/* test_engine_state.c — checkpoint state of the stateful transforms (dedup,
 * validate, profile, quality): their save and restore hooks.
 *
 * The promise under test: a pipeline that processes part A of an input,
 * saves a transform's state, and resumes in a fresh pipeline (a fresh
 * component instance) that restores it and processes part B, produces
 * exactly what one uninterrupted pipeline produces on A + B: the same
 * records (annotated with the same clusters, violations...) and the same
 * counters in the transform's describe JSON. Each case also runs B without
 * the state, to show the state made a difference. The state is saved the
 * way the checkpointer does it, while the pipeline runs and no worker is
 * processing: a `held` source submits A and waits until the test has saved.
 *
 * Damaged state and state from an incompatible configuration must be
 * refused with a clear message, never crash; restore(NULL) does nothing.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "codec/b64.h"
#include "transform_harness.h"

/* ---- the held source: the lines source that waits after its input ---- */

static atomic_bool hold_source, source_waiting, release_source;

static int held_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    int rc = lines_run(c, ctx, err);
    if (!atomic_load(&hold_source)) return rc;
    atomic_store(&source_waiting, true);
    while (!atomic_load(&release_source) && sl_source_sleep(ctx, 1)) {}
    return rc;
}

static const sl_component_type held_type = {
    .name = "held", .kind = SL_SOURCE, .summary = "test input that waits", .options = lines_options,
    .create = lines_create, .destroy = lines_destroy, .run = held_run,
};

/* ---- running parts of an input ---- */

static int workers = 2, per_batch = 2;

/* Builds `body` (transforms: and sinks:) with the held source emitting the
 * JSON lines of `input`, in a new data_dir. */
static sl_pipeline *build(const char *body, const char *input) {
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s\nworkers: %d\nbatch: {max_records: %d}\nsources:\n  in:\n    type: held\n"
                         "    text: |\n", data_dir, workers, per_batch);
    for (const char *p = input; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        sl_buf_printf(&yaml, "      %.*s\n", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
    sl_buf_puts(&yaml, body);
    sl_pipeline *p = build_config(text_of(&yaml));
    sl_buf_free(&yaml);
    if (!p) fprintf(stderr, "  build failed:\n%s\n", diag_output());
    return p;
}

static sl_component *find(sl_pipeline *p, const char *name) {
    for (int i = 0; i < sl_pipeline_component_count(p); i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        if (strcmp(c->name, name) == 0) return (sl_component *)c;
    }
    abort();
}

typedef struct run_result {
    char *output, *describe;
    int rc;
} run_result;

static void result_free(run_result *r) {
    free(r->output);
    free(r->describe);
}

/* Runs p to the end and frees it, keeping sink `out`'s output and the
 * describe JSON. */
static run_result finish(sl_pipeline *p) {
    run_result r = {.rc = run_pipeline(p)};
    if (r.rc < 0) fprintf(stderr, "  run failed: %s\n", run_error.msg);
    r.output = strdup(output("out"));
    r.describe = strdup(describe_output());
    sl_pipeline_free(p);
    return r;
}

static run_result run_whole(const char *body, const char *input) {
    sl_pipeline *p = build(body, input);
    if (!p) return (run_result){.output = strdup(""), .describe = strdup(""), .rc = -1};
    return finish(p);
}

static void *run_thread(void *arg) {
    run_pipeline(arg);
    return NULL;
}

/* Runs body on input and saves transform `name` into state once it has
 * processed every record while the source still runs; returns the output. */
static char *run_and_save(const char *body, const char *input, const char *name, sl_buf *state) {
    sl_pipeline *p = build(body, input);
    if (!p) return strdup("");
    sl_component *c = find(p, name);
    atomic_store(&hold_source, true);
    atomic_store(&source_waiting, false);
    atomic_store(&release_source, false);
    pthread_t thread;
    pthread_create(&thread, NULL, run_thread, p);
    uint64_t records = count_lines(input);
    for (int waited_ms = 0; waited_ms < 10000; waited_ms++) {
        if (atomic_load(&source_waiting) && atomic_load(&c->metrics->received_events) == records) break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    CHECK(atomic_load(&c->metrics->received_events) == records);
    sl_error err = {0};
    CHECK_INT(c->type->save(c, state, &err), 0);
    atomic_store(&release_source, true);
    pthread_join(thread, NULL);
    atomic_store(&hold_source, false);
    char *out = strdup(output("out"));
    sl_pipeline_free(p);
    return out;
}

/* Restores `state` (NULL: none) into transform `name` of a fresh pipeline
 * and runs it on input. */
static run_result run_restored(const char *body, const char *input, const char *name, const sl_buf *state) {
    sl_pipeline *p = build(body, input);
    if (!p) return (run_result){.output = strdup(""), .describe = strdup(""), .rc = -1};
    sl_component *c = find(p, name);
    sl_error err = {0};
    int rc = c->type->restore(c, state ? state->data : NULL, state ? state->len : 0, &err);
    CHECK_INT(rc, 0);
    if (rc < 0) fprintf(stderr, "  restore failed: %s\n", err.msg);
    return finish(p);
}

/* Checks got == expected, printing where they part (describe JSON holds
 * kilobytes of sketches). */
static void check_same(const char *got, const char *expected) {
    size_t i = 0;
    while (got[i] && got[i] == expected[i]) i++;
    CHECK(got[i] == expected[i]);
    if (got[i] != expected[i])
        fprintf(stderr, "  differs at byte %zu:\n  got:      ...%.160s\n  expected: ...%.160s\n", i,
                got + (i > 80 ? i - 80 : 0), expected + (i > 80 ? i - 80 : 0));
}

/* json without its "sketch" members (profile.h: the exact state for
 * merging), for comparing profiles: a merged KLL holds the same values as
 * one fed the same stream, in another order. */
static char *without_sketches(const char *json) {
    sl_buf out;
    sl_buf_init(&out);
    for (const char *p = json; *p;) {
        const char *at = strstr(p, ",\"sketch\":{");
        if (!at) {
            sl_buf_puts(&out, p);
            break;
        }
        sl_buf_append(&out, p, (size_t)(at - p));
        p = strchr(at, '{');
        for (int depth = 0; *p; p++) {
            depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
            if (depth == 0) {
                p++;
                break;
            }
        }
    }
    return sl_buf_steal(&out, NULL);
}

/* The promise: A, save, restore into a fresh pipeline, B == A + B in one
 * run (records and describe; with ignore_sketches, the describe without the
 * profile's sketch images), and B without the state differs. Leaves the
 * saved state in *state. */
static void check_resume_with(const char *body, const char *name, const char *a, const char *b, sl_buf *state,
                              bool ignore_sketches) {
    sl_buf whole;
    sl_buf_init(&whole);
    sl_buf_printf(&whole, "%s%s", a, b);
    run_result ref = run_whole(body, text_of(&whole));
    CHECK_INT(ref.rc, 0);
    state->len = 0;
    char *out_a = run_and_save(body, a, name, state);
    run_result resumed = run_restored(body, b, name, state);
    run_result fresh = run_restored(body, b, name, NULL);

    sl_buf joined;
    sl_buf_init(&joined);
    sl_buf_printf(&joined, "%s%s", out_a, resumed.output);
    CHECK_STR(text_of(&joined), ref.output);
    if (ignore_sketches) {
        char *got = without_sketches(resumed.describe), *expected = without_sketches(ref.describe);
        CHECK(strlen(got) < strlen(resumed.describe));
        check_same(got, expected);
        free(got);
        free(expected);
    } else {
        check_same(resumed.describe, ref.describe);
    }
    CHECK(strcmp(fresh.describe, resumed.describe) != 0);

    sl_buf_free(&joined);
    sl_buf_free(&whole);
    free(out_a);
    result_free(&ref);
    result_free(&resumed);
    result_free(&fresh);
}

static void check_resume(const char *body, const char *name, const char *a, const char *b, sl_buf *state) {
    check_resume_with(body, name, a, b, state, false);
}

/* Restores `text` into transform `name` of body (built, not run); returns
 * restore's result with its message in err. */
static int restore_text(const char *body, const char *name, const char *text, sl_error *err) {
    sl_pipeline *p = build(body, "{}\n");
    if (!p) return 0;
    sl_buf padded;   /* as the checkpointer passes it: in an sl_buf */
    sl_buf_init(&padded);
    sl_buf_puts(&padded, text);
    sl_component *c = find(p, name);
    err->msg[0] = 0;
    int rc = c->type->restore(c, padded.data, padded.len, err);
    sl_buf_free(&padded);
    sl_pipeline_free(p);
    return rc;
}

static void check_refused(const char *body, const char *name, const char *text, const char *message) {
    sl_error err = {0};
    CHECK_INT(restore_text(body, name, text, &err), -1);
    CHECK_CONTAINS(err.msg, message);
}

/* The state with the first occurrence of `from` replaced by `to`. */
static char *edited(const sl_buf *state, const char *from, const char *to) {
    sl_buf out;
    sl_buf_init(&out);
    const char *text = state->data, *at = strstr(text, from);
    if (!at) abort();
    sl_buf_append(&out, text, (size_t)(at - text));
    sl_buf_puts(&out, to);
    sl_buf_puts(&out, at + strlen(from));
    return sl_buf_steal(&out, NULL);
}

/* ---- the images' base64 ---- */

/* The writer's chunks join into one base64 text, whatever the mix of sizes;
 * the strict decoder takes it back and refuses anything else. */
static void test_image_base64(void) {
    sl_buf text;
    sl_buf_init(&text);
    sl_b64_writer w;
    sl_b64_writer_init(&w, &text);
    for (uint32_t i = 0; i < 1000; i++) {   /* 8000 bytes: past two chunks, not a multiple of 3 */
        sl_b64_put_u32(&w, i * 2654435761u);
        if (i % 2) sl_b64_put_u64(&w, (uint64_t)i << 40 | i);
    }
    sl_b64_writer_finish(&w);
    uint8_t *bytes;
    size_t len;
    CHECK(sl_quality_b64_decode(text.data, text.len, &bytes, &len));
    CHECK_INT(len, 8000);
    size_t at = 0;
    bool same = true;
    for (uint32_t i = 0; i < 1000; i++) {
        same &= sl_get_le32(bytes + at) == i * 2654435761u;
        at += 4;
        if (i % 2) {
            same &= sl_get_le64(bytes + at) == ((uint64_t)i << 40 | i);
            at += 8;
        }
    }
    CHECK(same);
    free(bytes);
    /* whole arrays at once (a near dedup signature per call) give the same
     * text as value after value, across chunk boundaries */
    sl_buf by_value, by_array;
    sl_buf_init(&by_value);
    sl_buf_init(&by_array);
    uint8_t array[700];
    for (size_t i = 0; i < sizeof array; i++) array[i] = (uint8_t)(i * 37 + 11);
    sl_b64_writer_init(&w, &by_value);
    for (int r = 0; r < 20; r++)
        for (size_t i = 0; i + 1 < sizeof array; i += 2) sl_b64_put_u16(&w, (uint16_t)(array[i] | array[i + 1] << 8));
    sl_b64_writer_finish(&w);
    sl_b64_writer_init(&w, &by_array);
    for (int r = 0; r < 20; r++) sl_b64_put_bytes(&w, array, sizeof array);
    sl_b64_writer_finish(&w);
    CHECK(by_value.len == by_array.len && memcmp(by_value.data, by_array.data, by_value.len) == 0);
    sl_buf_free(&by_value);
    sl_buf_free(&by_array);
    CHECK(sl_quality_b64_decode("QQ==", 4, &bytes, &len) && len == 1 && bytes[0] == 'A');
    free(bytes);
    CHECK(sl_quality_b64_decode("QUI=", 4, &bytes, &len) && len == 2 && memcmp(bytes, "AB", 2) == 0);
    free(bytes);
    const char *bad[] = {"QR==", "QUJ=", "Q===", "QQ=A", "QQ==QUFB", "QU*B", "QUF", "=QUF"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bool refused = !sl_quality_b64_decode(bad[i], strlen(bad[i]), &bytes, &len);
        CHECK(refused);
        if (!refused) {
            fprintf(stderr, "  accepted %s\n", bad[i]);
            free(bytes);
        }
    }
    sl_buf_free(&text);
}

/* ---- dedup ---- */

#define SINK "sinks:\n  out:\n    type: capture\n    inputs: [d]\n"
#define EXACT(opts) "transforms:\n  d:\n    type: dedup\n    inputs: [in]\n    action: annotate\n" opts SINK

static const char exact_a[] = "{\"k\":\"a\",\"n\":1}\n{\"k\":\"B\",\"n\":2}\n{\"k\":\"c\",\"n\":3}\n"
                               "{\"k\":\"A\",\"n\":4}\n{\"k\":\"d\",\"n\":5}\n";
static const char exact_b[] = "{\"k\":\"b\",\"n\":6}\n{\"k\":\"e\",\"n\":7}\n{\"k\":\"a\",\"n\":8}\n"
                               "{\"k\":\"c\",\"n\":9}\n{\"k\":\"e\",\"n\":10}\n{\"k\":\"f\",\"n\":11}\n";

/* Exact mode with a bound of 3 hashes: B meets values of A that are still
 * held (b) and ones evicted by then (a, c), so both the entries and their
 * eviction order must survive the restart. */
static void test_dedup_exact_resumes(void) {
    sl_buf state;
    sl_buf_init(&state);
    check_resume(EXACT("    fields: [k]\n    normalize: true\n    max_entries: 3\n"), "d", exact_a, exact_b, &state);
    CHECK_CONTAINS(state.data, "\"mode\":\"exact\"");
    CHECK_CONTAINS(state.data, "\"entries\":3,\"evictions\":1,");
    sl_buf_free(&state);
}

static void test_dedup_exact_refuses(void) {
    const char *body = EXACT("    fields: [k]\n");
    sl_buf state;
    sl_buf_init(&state);
    free(run_and_save(body, exact_a, "d", &state));

    sl_error err = {0};
    CHECK_INT(restore_text(body, "d", state.data, &err), 0);
    sl_pipeline *p = build(body, "{}\n");
    CHECK_INT(find(p, "d")->type->restore(find(p, "d"), NULL, 0, &err), 0);   /* no checkpoint */
    sl_pipeline_free(p);

    check_refused(body, "d", "{\"version\":1,", "the saved state is not valid JSON");
    check_refused(body, "d", "[1,2]", "not a dedup state of version 1");
    check_refused(EXACT("    fields: [n]\n"), "d", state.data,
                  "it was saved with fields: [\"k\"] and the configuration now has fields: [\"n\"]");
    check_refused(EXACT("    fields: [k]\n    normalize: true\n"), "d", state.data,
                  "it was saved with normalize: false and the configuration now has normalize: true");
    check_refused("transforms:\n  d:\n    type: dedup\n    inputs: [in]\n    mode: near\n" SINK, "d", state.data,
                  "it was saved with mode: \"exact\" and the configuration now has mode: \"near\"");
    char *bad = edited(&state, "\"hashes\":\"", "\"hashes\":\"@@@@");
    check_refused(body, "d", bad, "index: \"hashes\" is missing or not base64");
    free(bad);
    bad = edited(&state, "\"entries\":5", "\"entries\":6");
    check_refused(body, "d", bad, "index: \"hashes\" holds 80 bytes, not 6 entries of 16 bytes");
    free(bad);
    bad = edited(&state, "\"documents\":", "\"documents\":-");
    check_refused(body, "d", bad, "the counters documents, duplicates or skipped are missing");
    free(bad);
    sl_buf_free(&state);
}

/* A smaller max_entries after the restart keeps the newest entries. */
static void test_dedup_exact_shrinks(void) {
    sl_buf state;
    sl_buf_init(&state);
    free(run_and_save(EXACT("    fields: [k]\n"), "{\"k\":1}\n{\"k\":2}\n{\"k\":3}\n", "d", &state));
    run_result r = run_restored(EXACT("    fields: [k]\n    max_entries: 2\n"), "{\"k\":1}\n{\"k\":3}\n", "d", &state);
    CHECK_STR(r.output, "{\"k\":1,\"_dedup\":{\"cluster\":3,\"similarity\":1.0,\"duplicate\":false}}\n"
                        "{\"k\":3,\"_dedup\":{\"cluster\":2,\"similarity\":1.0,\"duplicate\":true}}\n");
    CHECK_CONTAINS(r.describe, "\"documents\":5,\"duplicates\":1,");
    CHECK_CONTAINS(r.describe, "\"evictions\":2}");
    result_free(&r);
    sl_buf_free(&state);
}

/* Documents of 100 words from a 400-word vocabulary; every third line is a
 * copy of one of the 12 lines before it with one word changed (Jaccard
 * similarity of the 5-shingles about 0.9), so with max_documents 8 some
 * copies find their original and others come after it was evicted. */
static char *near_corpus(int lines, unsigned seed) {
    char *docs[128][100];
    static char words[400][8];
    for (int w = 0; w < 400; w++) snprintf(words[w], sizeof words[w], "w%d", w);
    sl_buf out;
    sl_buf_init(&out);
    for (int i = 0; i < lines; i++) {
        int from = i % 3 == 2 ? i - 1 - (int)(rand_r(&seed) % (unsigned)(i < 12 ? i : 12)) : -1;
        for (int k = 0; k < 100; k++) docs[i][k] = from >= 0 ? docs[from][k] : words[rand_r(&seed) % 400];
        if (from >= 0) docs[i][rand_r(&seed) % 100] = words[rand_r(&seed) % 400];
        sl_buf_puts(&out, "{\"text\":\"");
        for (int k = 0; k < 100; k++) sl_buf_printf(&out, k ? " %s" : "%s", docs[i][k]);
        sl_buf_puts(&out, "\"}\n");
    }
    return sl_buf_steal(&out, NULL);
}

#define NEAR(opts) "transforms:\n  d:\n    type: dedup\n    inputs: [in]\n    mode: near\n    action: annotate\n" \
                   opts SINK

static void test_dedup_near_resumes(void) {
    char *corpus = near_corpus(60, 7);
    char *middle = corpus;
    for (int i = 0; i < 30; i++) middle = strchr(middle, '\n') + 1;
    char *a = strndup(corpus, (size_t)(middle - corpus));
    sl_buf state;
    sl_buf_init(&state);
    check_resume(NEAR("    max_documents: 8\n"), "d", a, middle, &state);
    CHECK_CONTAINS(state.data,
                   "\"mode\":\"near\",\"fields\":[\"text\"],\"shingle_words\":5,\"num_hashes\":256,\"simplify\":false,");
    CHECK_CONTAINS(state.data, "\"documents\":8,");

    check_refused(NEAR("    num_hashes: 64\n    bands: 8\n"), "d", state.data,
                  "it was saved with num_hashes: 256 and the configuration now has num_hashes: 64");
    check_refused(NEAR("    simplify: true\n"), "d", state.data,
                  "it was saved with simplify: false and the configuration now has simplify: true");
    /* a state of version 1 holds signatures of another kind */
    char *old = edited(&state, "\"version\":2,", "\"version\":1,");
    check_refused(NEAR(""), "d", old, "saved by an older sluice whose near-dedup signatures differ");
    free(old);
    check_refused(NEAR("    shingle_words: 3\n"), "d", state.data, "shingle_words: 5");
    char *bad = edited(&state, "\"clusters\":\"", "\"clusters\":\"AAAA");
    check_refused(NEAR(""), "d", bad, "index: \"clusters\" holds 67 bytes, not 8 entries of 8 bytes");
    free(bad);
    /* other bands and rows over the same signatures rebuild the tables */
    sl_error err;
    CHECK_INT(restore_text(NEAR("    bands: 28\n    rows: 4\n"), "d", state.data, &err), 0);
    sl_buf_free(&state);
    free(a);
    free(corpus);
}

/* ---- validate ---- */

#define VALIDATE(unique) "transforms:\n  d:\n    type: validate\n    inputs: [in]\n    on_failure: annotate\n" \
                         "    fields:\n      " unique ": {unique: {window: 3}}\n" \
                         "      level: {enum: [info, error]}\n" SINK

static void test_validate_resumes(void) {
    const char *a = "{\"id\":1,\"level\":\"info\"}\n{\"id\":2,\"level\":\"debug\"}\n{\"id\":1,\"level\":\"info\"}\n"
                    "{\"id\":3,\"level\":\"info\"}\n";
    const char *b = "{\"id\":2,\"level\":\"info\"}\n{\"id\":4,\"level\":\"warn\"}\n{\"id\":1,\"level\":\"info\"}\n"
                    "{\"id\":5}\n{\"id\":4}\n{\"id\":3}\n";
    sl_buf state;
    sl_buf_init(&state);
    check_resume(VALIDATE("id"), "d", a, b, &state);
    CHECK_CONTAINS(state.data, "\"records\":4,\"passed\":2,\"failed\":2,");
    CHECK_CONTAINS(state.data, "\"unique\":[{\"field\":\"id\",\"window\":{\"entries\":3,\"evictions\":0,");

    check_refused(VALIDATE("id"), "d", "{\"version\":2}", "not a validate state of version 1");
    char *bad = edited(&state, "\"hashes\":\"", "\"hashes\":\"x");
    check_refused(VALIDATE("id"), "d", bad, "unique window of 'id': \"hashes\" is missing or not base64");
    free(bad);
    /* an edited contract: the window of `id` is dropped, `key` starts
     * empty, the counters of the rules still there carry on */
    run_result r = run_restored(VALIDATE("key"), b, "d", &state);
    CHECK_CONTAINS(r.describe, "\"records\":10,");
    CHECK_CONTAINS(r.describe, "{\"field\":\"level\",\"rule\":\"enum\",\"failures\":2}");
    CHECK_CONTAINS(r.describe, "{\"field\":\"key\",\"rule\":\"unique\",\"failures\":0}");
    result_free(&r);
    sl_buf_free(&state);
}

/* ---- profile ---- */

#define PROFILE(opts) "transforms:\n  d:\n    type: profile\n    inputs: [in]\n" opts SINK

static void test_profile_resumes(void) {
    const char *a = "{\"n\":1,\"s\":\"x\",\"b\":true}\n{\"n\":5.5,\"s\":\"yy\"}\n{\"n\":null,\"s\":\"x\"}\n";
    const char *b = "{\"n\":3,\"s\":\"zzz\",\"b\":false}\n{\"s\":\"x\",\"extra\":[1]}\n{\"n\":-2}\n";
    sl_buf state;
    sl_buf_init(&state);
    workers = 1;   /* one profile, so the uninterrupted run is one stream too */
    check_resume_with(PROFILE(""), "d", a, b, &state, true);
    workers = 2;
    CHECK_CONTAINS(state.data, "{\"version\":1,\"fields\":null,\"profile\":{\"version\":2,\"records\":3,");

    check_refused(PROFILE(""), "d", "{\"version\":1,\"fields\":null,\"profile\":{\"version\":7}}", "version");
    /* another field list or lg_k: the profile starts empty */
    run_result r = run_restored(PROFILE("    fields: [n]\n"), b, "d", &state);
    CHECK_CONTAINS(r.describe, "\"records\":3,");
    result_free(&r);
    r = run_restored(PROFILE("    lg_k: 10\n"), b, "d", &state);
    CHECK_CONTAINS(r.describe, "\"records\":3,");
    result_free(&r);
    /* a profile of version 1 (an older sluice: another HLL hash) too */
    sl_buf old;
    sl_buf_init(&old);
    char *text = edited(&state, "\"profile\":{\"version\":2,", "\"profile\":{\"version\":1,");
    sl_buf_puts(&old, text);
    free(text);
    r = run_restored(PROFILE(""), b, "d", &old);
    CHECK_CONTAINS(r.describe, "\"records\":3,");
    result_free(&r);
    r = run_restored(PROFILE(""), b, "d", &state);   /* the current version resumes */
    CHECK_CONTAINS(r.describe, "\"records\":6,");
    result_free(&r);
    sl_buf_free(&old);
    sl_buf_free(&state);
}

/* ---- quality ---- */

#define QUALITY(window, checks) "transforms:\n  d:\n    type: quality\n    inputs: [in]\n    window: " window \
                                "\n    checks:\n" checks SINK

/* Batch windows: the verdict counters carry on (a batch of 1 record fails
 * row_count; mostly judges every batch of both runs). A ends at a batch
 * boundary, as a checkpoint does. */
static void test_quality_batch_resumes(void) {
    const char *a = "{\"x\":1}\n{\"x\":null}\n{\"x\":2}\n{\"x\":3}\n";
    const char *b = "{\"y\":1}\n{\"y\":2}\n{\"x\":3}\n{\"x\":4}\n{\"x\":5}\n";
    sl_buf state;
    sl_buf_init(&state);
    workers = 1;   /* the last window's value is the last batch's, whichever worker ends last */
    check_resume(QUALITY("batch", "      - {check: row_count, min: 2, mostly: 0.6}\n"
                                  "      - {check: null_rate, field: x, max: 0.4}\n"),
                 "d", a, b, &state);
    workers = 2;
    CHECK_CONTAINS(state.data, "\"windows\":2,\"failed_windows\":1,");   /* null_rate */
    sl_buf_free(&state);
}

/* A time window still open at the checkpoint closes with the records of
 * both runs (sketches included). The window is so long (about 11 years,
 * aligned to multiples of its length) that the test never crosses its end. */
static void test_quality_time_window_resumes(void) {
#define TIME_CHECKS "      - {check: distinct_ratio, field: id, min: 0.9}\n" \
                    "      - {check: quantile, field: n, q: 0.5, max: 10}\n" \
                    "      - {check: mean, field: n, max: 10}\n" \
                    "      - {check: null_rate, field: n, max: 0.2}\n"
    const char *a = "{\"id\":1,\"n\":4}\n{\"id\":2,\"n\":null}\n{\"id\":3,\"n\":30}\n";
    const char *b = "{\"id\":1,\"n\":2}\n{\"id\":5,\"n\":9}\n{\"id\":6}\n{\"id\":7,\"n\":1.5}\n";
    sl_buf state;
    sl_buf_init(&state);
    check_resume(QUALITY("100000h", TIME_CHECKS), "d", a, b, &state);
    CHECK_CONTAINS(state.data, "\"window_ms\":360000000000,\"window_start_ms\":");
    CHECK_CONTAINS(state.data, "\"window\":{\"rows\":3,\"nulls\":1,\"values\":0,\"numbers\":2,\"sum\":34.0,"
                               "\"min\":4.0,\"max\":30.0,\"kll\":\"");

    check_refused(QUALITY("100000h", TIME_CHECKS), "d", "{\"version\":1,\"window_ms\":1,\"checks\":{}}",
                  "not a quality state of version 1");
    char *bad = edited(&state, "\"kll\":\"", "\"kll\":\"AAAA");
    check_refused(QUALITY("100000h", TIME_CHECKS), "d", bad, "check 'quantile(n)': kll");
    free(bad);
    bad = edited(&state, "\"windows\":0", "\"windows\":\"0\"");
    check_refused(QUALITY("100000h", TIME_CHECKS), "d", bad, "the counters are missing or mistyped");
    free(bad);
    /* another window length drops the open window but keeps the counters */
    sl_error err;
    CHECK_INT(restore_text(QUALITY("1h", TIME_CHECKS), "d", state.data, &err), 0);
    sl_buf_free(&state);
}

int main(void) {
    add_test_type(&held_type);
    RUN(test_image_base64);
    RUN(test_dedup_exact_resumes);
    RUN(test_dedup_exact_refuses);
    RUN(test_dedup_exact_shrinks);
    RUN(test_dedup_near_resumes);
    RUN(test_validate_resumes);
    RUN(test_profile_resumes);
    RUN(test_quality_batch_resumes);
    RUN(test_quality_time_window_resumes);
    reset();
    return check_report();
}
