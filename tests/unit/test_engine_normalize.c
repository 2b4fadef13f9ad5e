/* test_engine_normalize.c — the `normalize` transform, run through a real
 * pipeline (transform_harness.h): Unicode forms, whitespace, controls, trim,
 * case, invalid UTF-8 (repaired or sent to the DLQ), counters, option
 * errors, and that clean ASCII is left in place without a copy.
 */
#include "check.h"
#include "transform_harness.h"

#define NORMALIZE(opts) \
    "transforms:\n  n:\n    type: normalize\n    inputs: [in]\n" opts \
    "sinks:\n  out:\n    type: capture\n    inputs: [n]\n"

static sl_buf dlq_text;   /* "reason: message\n" per DLQ entry of the last run */

static void field_text(sl_buf *out, const sl_value *entry, const char *key) {
    const sl_value *v = sl_map_get(entry, key, strlen(key));
    if (v && v->type == SL_STRING) sl_buf_append(out, v->as.s, v->len);
}

/* Reads <data_dir>/dlq/dlq.jsonl as "reason: message" lines. */
static const char *dlq(void) {
    sl_buf_free(&dlq_text);
    char path[128];
    snprintf(path, sizeof path, "%s/dlq/dlq.jsonl", data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[8192];
        sl_arena a;
        sl_arena_init(&a, 4096);
        while (fgets(line, sizeof line, f)) {
            size_t n = strlen(line);
            char *copy = sl_arena_calloc(&a, n + SL_BUF_PADDING);
            memcpy(copy, line, n);
            sl_value entry;
            sl_decode_error derr;
            if (sl_json_decode(&a, copy, n, 64, true, &entry, &derr) != 0) continue;
            field_text(&dlq_text, &entry, "reason");
            sl_buf_puts(&dlq_text, ": ");
            field_text(&dlq_text, &entry, "message");
            sl_buf_putc(&dlq_text, '\n');
        }
        sl_arena_free(&a);
        fclose(f);
    }
    return text_of(&dlq_text);
}

static int run(const char *body, const char *input) {
    return run_with(body, input, 1, 1024);
}

static void test_nfc_default(void) {
    /* e + COMBINING ACUTE -> é; other fields untouched */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n"),
                  "{\"text\":\"caf\\u0065\\u0301 au lait\",\"other\":\"e\\u0301\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"text\":\"caf\xc3\xa9 au lait\",\"other\":\"e\xcc\x81\"}\n");
}

static void test_forms(void) {
    /* NFKC: the ﬁ ligature becomes "fi", full-width Ａ becomes A */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    form: nfkc\n"), "{\"text\":\"\\ufb01le \\uff21\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"file A\"}\n");
    /* NFC keeps the ligature */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n"), "{\"text\":\"\\ufb01le\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"\xef\xac\x81le\"}\n");
    /* NFD decomposes é */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    form: nfd\n"), "{\"text\":\"\\u00e9\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"e\xcc\x81\"}\n");
    /* none leaves it */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    form: none\n"), "{\"text\":\"e\\u0301\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"e\xcc\x81\"}\n");
}

static void test_whitespace(void) {
    /* runs of horizontal space (tab, no-break space, ideographic space) -> one
     * space; line breaks kept, at most one blank line */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    collapse_whitespace: true\n"),
                  "{\"text\":\"a \\t b\\u00a0\\u3000c\\n  d\\r\\n\\n\\n\\ne \"}\n"),
              0);
    CHECK_STR(output("out"), "{\"text\":\"a b c\\nd\\n\\ne \"}\n");
    /* keep_newlines: false -> every run is one space */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    collapse_whitespace: true\n    keep_newlines: false\n"),
                  "{\"text\":\"a\\n\\n b\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"text\":\"a b\"}\n");
}

static void test_trim_and_controls(void) {
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    trim: true\n"),
                  "{\"text\":\"  \\u2003 bell\\u0007 and\\u0085 tab\\t \\n\"}\n"),
              0);
    /* BEL and NEL (C1) removed, tab kept, both ends trimmed */
    CHECK_STR(output("out"), "{\"text\":\"bell and tab\"}\n");
    /* strip_control: false keeps them */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    strip_control: false\n"), "{\"text\":\"a\\u0007b\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"a\\u0007b\"}\n");
    /* trim + collapse: nothing left of a blank value */
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    trim: true\n    collapse_whitespace: true\n"),
                  "{\"text\":\" \\n\\t \"}\n"),
              0);
    CHECK_STR(output("out"), "{\"text\":\"\"}\n");
}

static void test_case(void) {
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    case: fold\n"), "{\"text\":\"Stra\\u00dfe \\u0130STANBUL\"}\n"), 0);
    /* full folding: ß -> ss; İ -> i + combining dot (composition keeps it) */
    CHECK_STR(output("out"), "{\"text\":\"strasse i\xcc\x87stanbul\"}\n");
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    case: lower\n"), "{\"text\":\"Stra\\u00dfe \\u00c9T\\u00c9\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"stra\xc3\x9f" "e \xc3\xa9t\xc3\xa9\"}\n");
    CHECK_INT(run(NORMALIZE("    fields: [text]\n    case: lower\n"), "{\"text\":\"ASCII Only\"}\n"), 0);
    CHECK_STR(output("out"), "{\"text\":\"ascii only\"}\n");
}

static void test_fields(void) {
    /* several fields, nested paths; missing and non-string fields left alone */
    CHECK_INT(run(NORMALIZE("    fields: [title, meta.body, count, absent]\n    case: lower\n"),
                  "{\"title\":\"T\",\"meta\":{\"body\":\"B\"},\"count\":3}\n{\"title\":null}\n"),
              0);
    CHECK_STR(output("out"), "{\"title\":\"t\",\"meta\":{\"body\":\"b\"},\"count\":3}\n{\"title\":null}\n");
    CHECK_CONTAINS(describe_output(),
                   "\"n\":{\"type\":\"normalize\",\"fields\":[{\"field\":\"title\",\"changed\":1},"
                   "{\"field\":\"meta.body\",\"changed\":1},{\"field\":\"count\",\"changed\":0},"
                   "{\"field\":\"absent\",\"changed\":0}],\"invalid_utf8\":0}");
    CHECK_CONTAINS(metrics_output(), "sluice_normalize_changed_total{component=\"n\",field=\"title\"} 1\n");
}

static void test_option_errors(void) {
    check_build_error(NORMALIZE("    fields: [text]\n    form: nfx\n"), "nfx");
    check_build_error(NORMALIZE("    fields: []\n"), "fields must list at least one field");
    check_build_error(NORMALIZE("    form: nfc\n"), "fields");
}

/* ---- test-only transforms: `probe` reports whether each record's text
 * still points into the batch's input bytes (zero copy from the JSON
 * decoder); `inject` sets `text` to invalid UTF-8 and `blob` to bytes, which
 * no decoder produces today but CSV-like or binary sources could ---- */

static int noop_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    return 0;
}

static void noop_destroy(sl_component *c) {}

static void probe_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n, sl_emit *out) {
    for (size_t i = 0; i < n; i++) {
        const sl_value *t = sl_map_get(&recs[i]->value, "text", 4);
        bool in_input = t && t->as.s >= b->data && t->as.s < b->data + b->data_len;
        sl_map_set(&b->arena, &recs[i]->value, "in_input", 8, sl_bool(in_input));
        sl_emit_record(out, 0, recs[i]);
    }
}

static void inject_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_emit *out) {
    for (size_t i = 0; i < n; i++) {
        sl_map_set(&b->arena, &recs[i]->value, "text", 4, sl_string("ok\xff" "x\xc3", 5));
        sl_map_set(&b->arena, &recs[i]->value, "blob", 4, sl_bytes("b\xe9" "b", 3));
        sl_emit_record(out, 0, recs[i]);
    }
}

static const sl_option no_options[] = {{NULL, 0, false, NULL, NULL, NULL}};
static const sl_component_type probe_type = {
    .name = "probe", .kind = SL_TRANSFORM, .summary = "test probe", .options = no_options,
    .create = noop_create, .destroy = noop_destroy, .process = probe_process,
};
static const sl_component_type inject_type = {
    .name = "inject", .kind = SL_TRANSFORM, .summary = "test input", .options = no_options,
    .create = noop_create, .destroy = noop_destroy, .process = inject_process,
};

static const sl_component_type *const *custom_types(sl_kind kind) {
    static const sl_component_type *transforms[64];
    if (kind != SL_TRANSFORM) return test_types(kind);
    const sl_component_type *const *all = sl_registry_list(SL_TRANSFORM);
    size_t n = 0;
    while (all[n] && n < 60) {
        transforms[n] = all[n];
        n++;
    }
    transforms[n++] = &probe_type;
    transforms[n++] = &inject_type;
    transforms[n] = NULL;
    return transforms;
}

/* Like run_with, with the probe and inject transforms available. */
static int run_custom(const char *body, const char *input) {
    reset();
    snprintf(data_dir, sizeof data_dir, "/tmp/sluice-test-normalize-XXXXXX");
    if (!mkdtemp(data_dir)) abort();
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s\nsources:\n  in:\n    type: lines\n    text: |\n", data_dir);
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
    sl_pipeline *p = cfg && !sl_diag_has_errors(&diag) ? sl_pipeline_build_with(cfg, custom_types, &diag) : NULL;
    sl_diag_print(&diag, &diag_text);
    int rc = -1;
    if (p) {
        sl_run_options ro = {.progress = false};
        rc = sl_pipeline_run(p, &ro, &run_error);
        sl_pipeline_describe(p, &describe_text);
        sl_pipeline_free(p);
    }
    sl_config_free(cfg);
    sl_diag_free(&diag);
    sl_buf_free(&yaml);
    return rc;
}

static void test_invalid_utf8(void) {
    const char *body = "transforms:\n  mk:\n    type: inject\n    inputs: [in]\n"
                       "  n:\n    type: normalize\n    inputs: [mk]\n    fields: [text, blob]\n%s"
                       "sinks:\n  out:\n    type: capture\n    inputs: [n]\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, body, "");
    CHECK_INT(run_custom(yaml, "{\"id\":1}\n"), 0);
    /* each invalid sequence -> U+FFFD; bytes become a string */
    CHECK_STR(output("out"), "{\"id\":1,\"text\":\"ok\xef\xbf\xbdx\xef\xbf\xbd\",\"blob\":\"b\xef\xbf\xbd" "b\"}\n");
    CHECK_CONTAINS(describe_output(), "\"invalid_utf8\":2}");

    snprintf(yaml, sizeof yaml, body, "    invalid_utf8: dlq\n");
    CHECK_INT(run_custom(yaml, "{\"id\":1}\n"), 0);
    CHECK_STR(output("out"), "");
    CHECK_STR(dlq(), "invalid_utf8: field text is not valid UTF-8\n");
}

static void test_ascii_fast_path_no_copy(void) {
    CHECK_INT(run_custom("transforms:\n  n:\n    type: normalize\n    inputs: [in]\n    fields: [text]\n"
                         "    collapse_whitespace: true\n    trim: true\n"
                         "  p:\n    type: probe\n    inputs: [n]\n"
                         "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
                         "{\"text\":\"clean ascii text, nothing to do.\"}\n"
                         "{\"text\":\"needs  collapsing\"}\n"
                         "{\"text\":\"caf\xc3\xa9 is already NFC\"}\n"),
              0);
    /* clean ASCII: untouched; changed text: a copy; non-ASCII text that the
     * slow path leaves equal: also untouched. (Strings with JSON escapes are
     * unescaped into the arena by the decoder, so the probe cannot tell.) */
    CHECK_STR(output("out"),
              "{\"text\":\"clean ascii text, nothing to do.\",\"in_input\":true}\n"
              "{\"text\":\"needs collapsing\",\"in_input\":false}\n"
              "{\"text\":\"caf\xc3\xa9 is already NFC\",\"in_input\":true}\n");
}

int main(void) {
    RUN(test_nfc_default);
    RUN(test_forms);
    RUN(test_whitespace);
    RUN(test_trim_and_controls);
    RUN(test_case);
    RUN(test_fields);
    RUN(test_invalid_utf8);
    RUN(test_option_errors);
    RUN(test_ascii_fast_path_no_copy);
    reset();
    sl_buf_free(&dlq_text);
    return check_report();
}
