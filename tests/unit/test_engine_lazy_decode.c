/* test_engine_lazy_decode.c — records nothing reads (runtime/lazy_decode.h):
 * which pipelines check frames instead of decoding them, that a checked
 * record's value is not built until something reads it (and is then the
 * value a decode gives), and that malformed lines reach the DLQ with the
 * same reasons and messages, and good lines the sink, as when the records
 * are decoded (the same pipeline with a read-only filter in it), on chosen
 * lines and on every line of the JSON fuzz corpus. */
#include <dirent.h>

#include "check.h"
#include "transform_harness.h"
#include "runtime/lazy_decode.h"
#include "runtime/pipeline_internal.h"

extern const sl_component_type sl_source_file_type;
extern const sl_component_type sl_sink_file_type;
extern const sl_component_type sl_sink_stdout_type;
extern const sl_component_type sl_sink_blackhole_type;

static char in_path[128];

/* Whether source `in` of pipeline `body` (after the sources: section)
 * checks only; -1 when it does not build. */
static int checks_only(const char *body) {
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s\nsources:\n  in: {type: file, paths: [%s/in.jsonl]}\n%s",
                  data_dir, data_dir, body);
    sl_pipeline *p = build_config(text_of(&yaml));
    sl_buf_free(&yaml);
    if (!p) {
        fprintf(stderr, "  build failed:\n%s\n", diag_output());
        return -1;
    }
    int only = p->vplan[0].check_only;
    sl_pipeline_free(p);
    return only;
}

static void test_which_pipelines(void) {
    /* JSON lines sinks, no transform: nothing reads */
    CHECK_INT(checks_only("sinks:\n  out: {type: file, inputs: [in], path: o.jsonl}\n"), 1);
    CHECK_INT(checks_only("sinks:\n  out: {type: stdout, inputs: [in]}\n"
                          "  void: {type: blackhole, inputs: [in]}\n"), 1);
    /* a transform that reads nothing: sample by source position */
    CHECK_INT(checks_only("transforms:\n  t: {type: sample, inputs: [in], rate: 2}\n"
                          "sinks:\n  out: {type: file, inputs: [t], path: o.jsonl}\n"), 1);
    CHECK_INT(checks_only("transforms:\n  t: {type: sample, inputs: [in], rate: 2, key_field: a}\n"
                          "sinks:\n  out: {type: file, inputs: [t], path: o.jsonl}\n"), 0);
    /* a transform, a CSV sink, a path template, a sink that declares nothing */
    CHECK_INT(checks_only("transforms:\n  t: {type: filter, inputs: [in], condition: 'true'}\n"
                          "sinks:\n  out: {type: file, inputs: [t], path: o.jsonl}\n"), 0);
    CHECK_INT(checks_only("sinks:\n  out: {type: file, inputs: [in], path: o.csv, format: csv}\n"), 0);
    CHECK_INT(checks_only("sinks:\n  out: {type: file, inputs: [in], path: 'o-{{ .a }}.jsonl'}\n"), 0);
    CHECK_INT(checks_only("sinks:\n  out: {type: file, inputs: [in], path: o.jsonl}\n"
                          "  c: {type: capture, inputs: [in]}\n"), 0);
}

/* A batch of one frame, as the file source makes it. */
static sl_batch *one_frame(const sl_format *f, const char *line) {
    sl_batch *b = sl_batch_new(256, 4);
    b->format = f;
    b->stream = sl_format_stream_new(f, NULL, 0, NULL);
    sl_batch_add_bytes(b, line, strlen(line), (sl_position){0, 0});
    return b;
}

static void test_built_on_first_read(void) {
    sl_format f;
    sl_format_init(&f, SL_FORMAT_JSONL);
    const char *line = "{\"n\":1e3, \"s\":\"caf\\u00e9\",\"a\":[1,{\"b\":null}]}\n";
    sl_batch *b = one_frame(&f, line);
    sl_record *r = &b->records[0];
    uint8_t flags = 0xff;
    sl_decode_error err = {0};
    size_t arena_before = b->arena.used_total;
    CHECK_INT(sl_lazy_decode(b, r, true, &flags, &err), 0);
    CHECK_INT(flags, 0);
    CHECK(r->unbuilt_ == b);                  /* not built */
    CHECK_INT(b->arena.used_total, arena_before);   /* nothing allocated */
    r->raw_json = true;
    size_t len = 0;
    const char *text = sl_record_json_text(r, &len);   /* what a JSON Lines sink writes */
    CHECK(text != NULL);
    CHECK(r->unbuilt_ == b);                  /* still not built */
    /* the first read builds it: the value a decode gives */
    const sl_value *v = sl_record_value(r);
    CHECK(r->unbuilt_ == NULL);
    CHECK_INT(v->type, SL_MAP);
    sl_arena a;
    sl_arena_init(&a, 1024);
    sl_value expected;
    CHECK_INT(sl_format_decode(&f, b->stream, &a, r->raw, r->raw_len, &expected, &err), 0);
    CHECK(sl_value_equal(v, &expected));
    CHECK(r->raw_json);                       /* reading changes nothing */
    sl_arena_free(&a);
    sl_batch_free(b);

    /* sl_record_mut builds it too, and the record is no longer raw */
    b = one_frame(&f, "{\"a\":1}\n");
    r = &b->records[0];
    CHECK_INT(sl_lazy_decode(b, r, true, &flags, &err), 0);
    r->raw_json = true;
    sl_map_set(&b->arena, sl_record_mut(r), "b", 1, sl_int(2));
    CHECK(r->unbuilt_ == NULL && !r->raw_json);
    CHECK_INT(sl_record_value(r)->len, 2);
    sl_batch_free(b);

    /* a line whose keys repeat says so, unbuilt; a bad one is not left */
    b = one_frame(&f, "{\"k\":1,\"x\":{\"k\":1,\"k\":2}}\n");
    CHECK_INT(sl_lazy_decode(b, &b->records[0], true, &flags, &err), 0);
    CHECK(flags & SL_VF_DUPLICATE_KEYS);
    sl_batch_free(b);
    b = one_frame(&f, "{\"a\" 1}\n");
    CHECK_INT(sl_lazy_decode(b, &b->records[0], true, &flags, &err), -1);
    CHECK(b->records[0].unbuilt_ == NULL);
    CHECK_STR(err.reason, "json_syntax");
    sl_batch_free(b);
}

/* Runs file -> [transforms] -> file on `input`; returns the output (static
 * copy) and leaves the DLQ in dlq(). */
static const char *run_file(const char *input, const char *transforms, const char *from) {
    static char out[1 << 18];
    new_data_dir();
    snprintf(in_path, sizeof in_path, "%s/in.jsonl", data_dir);
    FILE *f = fopen(in_path, "w");
    CHECK(f != NULL);
    if (!f) return "";
    fputs(input, f);
    fclose(f);
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml,
                  "data_dir: %s\nworkers: 1\nbatch: {max_records: 3}\n"
                  "sources:\n  in: {type: file, paths: [%s]}\n%s"
                  "sinks:\n  out: {type: file, inputs: [%s], path: %s/out.jsonl, delivery: at_least_once}\n",
                  data_dir, in_path, transforms, from, data_dir);
    CHECK_INT(run_config(text_of(&yaml)), 0);
    sl_buf_free(&yaml);
    char path[160];
    snprintf(path, sizeof path, "%s/out.jsonl", data_dir);
    out[0] = '\0';
    f = fopen(path, "r");
    if (f) {
        out[fread(out, 1, sizeof out - 1, f)] = '\0';
        fclose(f);
    }
    return out;
}

static const char INPUT[] =
    "{\"a\" 1}\n"
    "{\"ok\":1, \"n\" : 1.50}\n"
    "{\"a\":1,}\n"
    "{\"a\":tru}\n"
    "{\"a\":1e400}\n"
    "\n"
    "{\"a\":18446744073709551616}\n"
    "{\"a\":\"\\ud800\"}\n"
    "{\"k\":1,\"k\":2}\n"
    "[1,2]\n"
    "{\"a\":\"\xff\"}\n"
    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n"
    "{\"a\":1} x\n"
    "{\"last\":\"caf\\u00e9\"}\n";

static void test_dlq_as_when_decoded(void) {
    char checked_out[4096], checked_dlq[4096];
    snprintf(checked_out, sizeof checked_out, "%s", run_file(INPUT, "", "in"));
    snprintf(checked_dlq, sizeof checked_dlq, "%s", dlq());
    const char *decoded_out = run_file(INPUT, "transforms:\n  t: {type: filter, inputs: [in], condition: 'true'}\n", "t");
    CHECK_STR(checked_out, decoded_out);
    CHECK_STR(checked_dlq, dlq());
    CHECK_STR(checked_out, "{\"ok\":1, \"n\" : 1.50}\n{\"k\":2}\n{\"last\":\"caf\\u00e9\"}\n");
    /* every malformed line is there, the first one as the brief's example */
    CHECK(strncmp(checked_dlq, "json_syntax: invalid JSON at offset 5: expected ':' after an object key", 71) == 0);
    int entries = 0;
    for (const char *p = checked_dlq; (p = strchr(p, '\n')); p++) entries++;
    CHECK_INT(entries, 10);
}

/* The same on every line of the JSON fuzz corpus (JSONTestSuite-style
 * inputs, malformed ones among them), as one JSON Lines file. */
static void test_corpus_dlq_as_when_decoded(void) {
    static char input[1 << 18];
    size_t len = 0;
    DIR *dir = opendir("tests/fuzz/corpus/json");
    CHECK(dir != NULL);
    if (!dir) return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char path[512];
        snprintf(path, sizeof path, "tests/fuzz/corpus/json/%s", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "rb") : NULL;
        if (!f) continue;
        len += fread(input + len, 1, sizeof input - len - 2, f);
        fclose(f);
        if (len && input[len - 1] != '\n') input[len++] = '\n';
    }
    closedir(dir);
    input[len] = '\0';
    CHECK(strlen(input) == len);   /* no NUL byte: the file source would keep it, fputs not */
    static char checked_out[1 << 18], checked_dlq[1 << 16];
    snprintf(checked_out, sizeof checked_out, "%s", run_file(input, "", "in"));
    snprintf(checked_dlq, sizeof checked_dlq, "%s", dlq());
    const char *decoded_out = run_file(input, "transforms:\n  t: {type: filter, inputs: [in], condition: 'true'}\n", "t");
    CHECK_STR(checked_out, decoded_out);
    CHECK_STR(checked_dlq, dlq());
    int entries = 0;
    for (const char *p = checked_dlq; (p = strchr(p, '\n')); p++) entries++;
    CHECK(entries >= 5);
    CHECK(checked_out[0] != '\0');
}

int main(void) {
    add_test_type(&sl_source_file_type);
    add_test_type(&sl_sink_file_type);
    add_test_type(&sl_sink_stdout_type);
    add_test_type(&sl_sink_blackhole_type);
    RUN(test_which_pipelines);
    RUN(test_built_on_first_read);
    RUN(test_dlq_as_when_decoded);
    RUN(test_corpus_dlq_as_when_decoded);
    reset();
    return check_report();
}
