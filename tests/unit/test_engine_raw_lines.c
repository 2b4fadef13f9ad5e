/* test_engine_raw_lines.c — records nothing changed are written as they
 * came: the real file source and file sink, JSON Lines in and out, with
 * odd lines (numbers as "1e3" and "-0.0", escapes such as \u00e9, unusual
 * spacing, a line ending in "\r\n", leading blanks); read-only transforms
 * keep the lines byte for byte, and every transform that writes (remap
 * set/delete/rename, redact, validate with coerce or annotate, lua) makes
 * the sink encode the record. Lines the decoder merged keys of, CSV in or
 * out, and frames over several lines (multiline events) are encoded too. */
#include "check.h"
#include "transform_harness.h"

extern const sl_component_type sl_source_file_type;
extern const sl_component_type sl_sink_file_type;

/* The input, and each line as the sink writes it when nothing changed it
 * (the frame without the blanks around it), or when it is encoded. */
static const char INPUT[] =
    "{\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\",\"level\":\"warn\",\"id\":1}\n"
    "   {\"s\":\"a\\/b\\n\",\"level\":\"info\",\"f\":1.50,\"id\":2}  \r\n"
    "{\"level\":\"warn\",\"k\\u0065y\":[1 , 2,{ }],\"id\":3}\n"
    "{\"id\":4,\"level\":\"warn\",\"id\":5}\n";
static const char AS_IS[] =
    "{\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\",\"level\":\"warn\",\"id\":1}\n"
    "{\"s\":\"a\\/b\\n\",\"level\":\"info\",\"f\":1.50,\"id\":2}\n"
    "{\"level\":\"warn\",\"k\\u0065y\":[1 , 2,{ }],\"id\":3}\n"
    "{\"id\":5,\"level\":\"warn\"}\n";   /* a key merged: encoded */

static char in_path[128], out_path[128];

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* The first line of data_dir/name into text ("" when there is none). */
static void first_line(const char *name, char *text, size_t size) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    text[0] = '\0';
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(text, (int)size, f));
    if (f) fclose(f);
}

/* Runs `transforms` (a transforms: section, or "") reading INPUT-like
 * `input` into one file sink fed by `from`, with `sink_options`; returns
 * the sink's output (static), or "(failed)". */
static const char *run_lines(const char *input, const char *transforms, const char *from,
                             const char *sink_options) {
    static sl_buf out;
    new_data_dir();
    snprintf(in_path, sizeof in_path, "%s/in.jsonl", data_dir);
    snprintf(out_path, sizeof out_path, "%s/out.jsonl", data_dir);
    write_text(in_path, input);
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml,
                  "data_dir: %s\nworkers: 2\nbatch: {max_records: 2}\n"
                  "sources:\n  in:\n    type: file\n    paths: [%s]\n%s"
                  "sinks:\n  out:\n    type: file\n    inputs: [%s]\n    path: %s\n"
                  "    delivery: at_least_once\n%s",
                  data_dir, in_path, transforms, from, out_path, sink_options);
    int rc = run_config(text_of(&yaml));
    sl_buf_free(&yaml);
    out.len = 0;
    if (rc != 0) {
        fprintf(stderr, "  run failed: %s\n%s\n", run_error.msg, diag_output());
        return "(failed)";
    }
    FILE *f = fopen(out_path, "r");
    if (!f) return "(no output)";
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sl_buf_append(&out, chunk, n);
    fclose(f);
    return text_of(&out);
}

/* Nothing between source and sink, or stages that only read. */
static void test_untouched_lines_as_they_came(void) {
    CHECK_STR(run_lines(INPUT, "", "in", ""), AS_IS);
    CHECK_STR(run_lines(INPUT,
                        "transforms:\n"
                        "  keep:\n    type: filter\n    inputs: [in]\n"
                        "    condition: '.id != 9'\n"
                        "  check:\n    type: validate\n    inputs: [keep]\n"
                        "    fields:\n      id: {type: int, min: 0}\n      level: {type: string}\n"
                        "  split:\n    type: route\n    inputs: [check]\n"
                        "    routes: {any: 'true'}\n",
                        "split.any", ""),
              AS_IS);
    /* A filter that drops some lines leaves the others as they came. */
    CHECK_STR(run_lines(INPUT,
                        "transforms:\n  warn:\n    type: filter\n    inputs: [in]\n"
                        "    condition: '.level == \"warn\"'\n",
                        "warn", ""),
              "{\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\",\"level\":\"warn\",\"id\":1}\n"
              "{\"level\":\"warn\",\"k\\u0065y\":[1 , 2,{ }],\"id\":3}\n"
              "{\"id\":5,\"level\":\"warn\"}\n");
}

/* Every stage that writes to a record, even one that leaves it as it was. */
static void test_writes_reencode(void) {
    /* remap set: encoded (numbers keep their text, strings and spacing are
     * the encoder's) */
    CHECK_STR(run_lines(INPUT, "transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                               "    set: {x: '1'}\n", "t", ""),
              "{\"n\":1e3,\"z\":-0.0,\"s\":\"caf\xc3\xa9\",\"level\":\"warn\",\"id\":1,\"x\":1}\n"
              "{\"s\":\"a/b\\n\",\"level\":\"info\",\"f\":1.50,\"id\":2,\"x\":1}\n"
              "{\"level\":\"warn\",\"key\":[1,2,{}],\"id\":3,\"x\":1}\n"
              "{\"id\":5,\"level\":\"warn\",\"x\":1}\n");
    /* delete, rename */
    CHECK_STR(run_lines(INPUT, "transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                               "    delete: [nothing_here]\n", "t", ""),
              "{\"n\":1e3,\"z\":-0.0,\"s\":\"caf\xc3\xa9\",\"level\":\"warn\",\"id\":1}\n"
              "{\"s\":\"a/b\\n\",\"level\":\"info\",\"f\":1.50,\"id\":2}\n"
              "{\"level\":\"warn\",\"key\":[1,2,{}],\"id\":3}\n"
              "{\"id\":5,\"level\":\"warn\"}\n");
    CHECK_STR(run_lines(INPUT, "transforms:\n  t:\n    type: remap\n    inputs: [in]\n"
                               "    rename: {level: lvl}\n", "t", ""),
              "{\"n\":1e3,\"z\":-0.0,\"s\":\"caf\xc3\xa9\",\"lvl\":\"warn\",\"id\":1}\n"
              "{\"s\":\"a/b\\n\",\"lvl\":\"info\",\"f\":1.50,\"id\":2}\n"
              "{\"lvl\":\"warn\",\"key\":[1,2,{}],\"id\":3}\n"
              "{\"id\":5,\"lvl\":\"warn\"}\n");
    /* redact: only a record it found personal data in, named fields or
     * every string */
    CHECK_STR(run_lines("{\"s\" : \"to bob@example.com\"}\n{\"s\" : \"a\\u0041\"}\n",
                        "transforms:\n  t:\n    type: redact\n    inputs: [in]\n"
                        "    fields: [s]\n", "t", ""),
              "{\"s\":\"to [EMAIL]\"}\n{\"s\" : \"a\\u0041\"}\n");
    CHECK_STR(run_lines("{\"a\" : [{\"s\" : \"10.0.0.1\"}]}\n{\"a\" : [{\"s\" : \"x\"}]}\n",
                        "transforms:\n  t:\n    type: redact\n    inputs: [in]\n", "t", ""),
              "{\"a\":[{\"s\":\"[IP]\"}]}\n{\"a\" : [{\"s\" : \"x\"}]}\n");
    /* validate with coerce; validate annotating only the record that fails */
    CHECK_STR(run_lines("{\"id\" : \"7\"}\n{\"id\" : 8}\n",
                        "transforms:\n  t:\n    type: validate\n    inputs: [in]\n"
                        "    fields:\n      id: {type: int, coerce: true}\n", "t", ""),
              "{\"id\":7}\n{\"id\":8}\n");
    CHECK_STR(run_lines("{\"id\" : \"7\"}\n{\"id\" : 8}\n",
                        "transforms:\n  t:\n    type: validate\n    inputs: [in]\n    on_failure: annotate\n"
                        "    fields:\n      id: {type: int}\n", "t", ""),
              "{\"id\":\"7\",\"_violations\":[{\"field\":\"id\",\"rule\":\"type\","
              "\"message\":\"type int (got \\\"7\\\")\"}]}\n{\"id\" : 8}\n");
    /* normalize: only a record whose text it changed */
    CHECK_STR(run_lines("{\"t\" : \"a  b\"}\n{\"t\" : \"a b\"}\n",
                        "transforms:\n  t:\n    type: normalize\n    inputs: [in]\n"
                        "    fields: [t]\n    collapse_whitespace: true\n", "t", ""),
              "{\"t\":\"a b\"}\n{\"t\" : \"a b\"}\n");
    /* lua, even returning the record as it got it */
    CHECK_STR(run_lines("{\"a\" : 1}\n",
                        "transforms:\n  t:\n    type: lua\n    inputs: [in]\n"
                        "    source: 'function process(r) return r end'\n", "t", ""),
              "{\"a\":1}\n");
}

/* Two consumers of one output: the one that writes gets its own copy, the
 * other still writes the lines as they came. */
static void test_fan_out(void) {
    new_data_dir();
    snprintf(in_path, sizeof in_path, "%s/in.jsonl", data_dir);
    write_text(in_path, "{\"a\" : 1}\n");
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml,
                  "data_dir: %s\nsources:\n  in:\n    type: file\n    paths: [%s]\n"
                  "transforms:\n  t:\n    type: remap\n    inputs: [in]\n    set: {b: '2'}\n"
                  "sinks:\n"
                  "  raw:\n    type: file\n    inputs: [in]\n    path: %s/raw.jsonl\n    delivery: at_least_once\n"
                  "  changed:\n    type: file\n    inputs: [t]\n    path: %s/changed.jsonl\n    delivery: at_least_once\n",
                  data_dir, in_path, data_dir, data_dir);
    CHECK(run_config(text_of(&yaml)) == 0);
    sl_buf_free(&yaml);
    char text[256];
    first_line("raw.jsonl", text, sizeof text);
    CHECK_STR(text, "{\"a\" : 1}\n");
    first_line("changed.jsonl", text, sizeof text);
    CHECK_STR(text, "{\"a\":1,\"b\":2}\n");
}

/* Not JSON Lines in, or not out: encoded. */
static void test_other_formats(void) {
    /* CSV out */
    CHECK_STR(run_lines("{\"a\" : 1e3, \"b\":\"x\"}\n", "", "in", "    format: csv\n"), "a,b\n1e3,x\n");
    /* CSV in, JSON Lines out */
    new_data_dir();
    snprintf(in_path, sizeof in_path, "%s/in.csv", data_dir);
    write_text(in_path, "a,b\n1,x\n");
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml,
                  "data_dir: %s\nsources:\n  in:\n    type: file\n    paths: [%s]\n    format: csv\n"
                  "sinks:\n  out:\n    type: file\n    inputs: [in]\n    path: %s/out.jsonl\n"
                  "    delivery: at_least_once\n",
                  data_dir, in_path, data_dir);
    CHECK(run_config(text_of(&yaml)) == 0);
    sl_buf_free(&yaml);
    char text[256];
    first_line("out.jsonl", text, sizeof text);
    CHECK_STR(text, "{\"a\":\"1\",\"b\":\"x\"}\n");
}

/* A source of frames that hold a line break inside, as a multiline event
 * joins lines (frames are separated by '|' in its `text`). */
static int frames_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    lines_source *s = c->impl;
    sl_batch *b = sl_source_batch_new(ctx, 4096);
    b->origin = "frames";
    b->format = &s->format;
    b->stream = s->stream;
    for (const char *p = s->text; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        sl_batch_add_bytes(b, p, len, (sl_position){42, (uint64_t)(p - s->text)});
        p += len + (bar ? 1 : 0);
    }
    b->input_bytes = b->data_len;
    sl_source_submit(ctx, b);
    return 0;
}

static const sl_component_type frames_type = {
    .name = "frames", .kind = SL_SOURCE, .summary = "test frames", .options = lines_options,
    .create = lines_create, .destroy = lines_destroy, .run = frames_run,
};

/* A frame that is one object over several lines is encoded, so the output
 * stays one record per line; a one-line frame beside it is not. */
static void test_multiline_frames(void) {
    new_data_dir();
    snprintf(out_path, sizeof out_path, "%s/out.jsonl", data_dir);
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml,
                  "data_dir: %s\nsources:\n  in:\n    type: frames\n"
                  "    text: \"{\\\"a\\\" :\\n 1}\\n|{\\\"b\\\" : 2}\\n\"\n"
                  "sinks:\n  out:\n    type: file\n    inputs: [in]\n    path: %s\n"
                  "    delivery: at_least_once\n",
                  data_dir, out_path);
    CHECK(run_config(text_of(&yaml)) == 0);
    sl_buf_free(&yaml);
    char text[256] = "";
    FILE *f = fopen(out_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f) fclose(f);
    CHECK_STR(text, "{\"a\":1}\n{\"b\" : 2}\n");
}

int main(void) {
    add_test_type(&sl_source_file_type);
    add_test_type(&sl_sink_file_type);
    RUN(test_untouched_lines_as_they_came);
    RUN(test_writes_reencode);
    RUN(test_fan_out);
    RUN(test_other_formats);
    add_test_type(&frames_type);
    RUN(test_multiline_frames);
    reset();
    return check_report();
}
