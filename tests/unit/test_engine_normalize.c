/* test_engine_normalize.c — the `normalize` transform, run through a real
 * pipeline (transform_harness.h): Unicode forms, whitespace, controls, trim,
 * case, invalid UTF-8 (repaired or sent to the DLQ), counters, option
 * errors, and that clean ASCII is left in place without a copy.
 */
#include <utf8proc.h>

#include "check.h"
#include "transform_harness.h"

#define NORMALIZE(opts) \
    "transforms:\n  n:\n    type: normalize\n    inputs: [in]\n" opts \
    "sinks:\n  out:\n    type: capture\n    inputs: [n]\n"

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
    /* several fields, nested paths; missing, null and (with non_string:
     * pass) non-string fields left alone */
    CHECK_INT(run(NORMALIZE("    fields: [title, meta.body, count, absent]\n    case: lower\n    non_string: pass\n"),
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
        const sl_value *t = sl_map_get(sl_record_value(recs[i]), "text", 4);
        bool in_input = t && t->as.s >= b->data && t->as.s < b->data + b->data_len;
        sl_map_set(&b->arena, sl_record_mut(recs[i]), "in_input", 8, sl_bool(in_input));
        sl_emit_record(out, 0, recs[i]);
    }
}

static void inject_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_emit *out) {
    for (size_t i = 0; i < n; i++) {
        sl_map_set(&b->arena, sl_record_mut(recs[i]), "text", 4, sl_string("ok\xff" "x\xc3", 5));
        sl_map_set(&b->arena, sl_record_mut(recs[i]), "blob", 4, sl_bytes("b\xe9" "b", 3));
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

static void test_invalid_utf8(void) {
    const char *body = "transforms:\n  mk:\n    type: inject\n    inputs: [in]\n"
                       "  n:\n    type: normalize\n    inputs: [mk]\n    fields: [text, blob]\n%s"
                       "sinks:\n  out:\n    type: capture\n    inputs: [n]\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, body, "");
    CHECK_INT(run(yaml, "{\"id\":1}\n"), 0);
    /* each invalid sequence -> U+FFFD; bytes become a string */
    CHECK_STR(output("out"), "{\"id\":1,\"text\":\"ok\xef\xbf\xbdx\xef\xbf\xbd\",\"blob\":\"b\xef\xbf\xbd" "b\"}\n");
    CHECK_CONTAINS(describe_output(), "\"invalid_utf8\":2}");

    snprintf(yaml, sizeof yaml, body, "    invalid_utf8: dlq\n");
    CHECK_INT(run(yaml, "{\"id\":1}\n"), 0);
    CHECK_STR(output("out"), "");
    CHECK_STR(dlq(), "invalid_utf8: field text is not valid UTF-8\n");
}

static void test_ascii_fast_path_no_copy(void) {
    CHECK_INT(run("transforms:\n  n:\n    type: normalize\n    inputs: [in]\n    fields: [text]\n"
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

/* The default settings skip printable ASCII eight bytes at a time, on to
 * the first byte that is not: what follows it must be found at every
 * offset (a decomposed e, a control character, a tab, a newline). */
static void test_first_unprintable_at_every_offset(void) {
    static const char *const odd[][2] = {
        {"e\\u0301", "\xc3\xa9"}, {"\\u0007", ""}, {"\\t", "\\t"}, {"\\n", "\\n"}, {"\\u007f", ""}};
    sl_buf input, want;
    sl_buf_init(&input);
    sl_buf_init(&want);
    for (size_t o = 0; o < sizeof odd / sizeof *odd; o++)
        for (int k = 0; k <= 20; k++) {
            const char *head = "abcdefghij klmnopqrs";
            sl_buf_printf(&input, "{\"text\":\"%.*s%sxyz0123456789\"}\n", k, head, odd[o][0]);
            sl_buf_printf(&want, "{\"text\":\"%.*s%sxyz0123456789\"}\n", k, head, odd[o][1]);
        }
    CHECK_INT(run(NORMALIZE("    fields: [text]\n"), input.data), 0);
    CHECK_STR(output("out"), want.data);
    sl_buf_free(&input);
    sl_buf_free(&want);
}

/* Text whose code points the form leaves alone skips utf8proc (the table
 * of text/norm_inert.h): every pair of these code points, between ASCII
 * letters, must come out as utf8proc_map makes it, in each form and with
 * case folding — composing pairs (e + acute, Hangul L + V and LV + T, the
 * Malayalam, Tamil, Kannada and Sinhala vowel signs), precomposed letters
 * next to the marks and vowels they could take, reordered marks, singletons
 * (Angstrom sign), exclusions (U+0958), compatibility characters, and code
 * points that change nothing. */
static void test_unicode_pairs(void) {
    static const int32_t cps[] = {
        'e',    'A',    0xE9,   0x301,  0x323,  0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0xD46,  0xD3E,
        0xB95,  0xBBE,  0x915,  0x93C,  0x212B, 0xC5,   0x30A,  0xFB01, 0xFF21, 0x2460, 0x3A3,  0xDF,
        0x130,  0x4E2D, 0x1F600, 0x1D400, 0x1E9E, 0x2126, 0x344, 0x0F73, 0x11099, 0x110BA,
        0xDDA,  0xDD9,  0xDCF,  0xCCB,  0xCC6,  0xCC2,  0x958,  0x1D5,  0x1E0B, 0x0F77, 0xF6, 0x1100,
    };
    static const char *const forms[][2] = {
        {"nfc", ""}, {"nfkc", ""}, {"nfd", ""}, {"nfkd", ""}, {"nfc", "    case: fold\n"}, {"none", "    case: fold\n"},
    };
    static const utf8proc_option_t options[] = {
        UTF8PROC_COMPOSE, UTF8PROC_COMPOSE | UTF8PROC_COMPAT, UTF8PROC_DECOMPOSE,
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD, UTF8PROC_CASEFOLD,
    };
    const size_t n = sizeof cps / sizeof *cps;
    sl_buf input, want;
    sl_buf_init(&input);
    sl_buf_init(&want);
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        input.len = want.len = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                utf8proc_uint8_t text[16], *mapped = NULL;
                utf8proc_ssize_t len = 0;
                text[len++] = 'a';
                len += utf8proc_encode_char(cps[i], text + len);
                len += utf8proc_encode_char(cps[j], text + len);
                text[len++] = 'b';
                sl_buf_puts(&input, "{\"text\":\"");
                sl_buf_append(&input, text, (size_t)len);
                sl_buf_puts(&input, "\"}\n");
                utf8proc_ssize_t m = utf8proc_map(text, len, &mapped, options[f] | UTF8PROC_STABLE);
                CHECK(m > 0);
                sl_buf_puts(&want, "{\"text\":\"");
                sl_buf_append(&want, mapped, (size_t)m);
                sl_buf_puts(&want, "\"}\n");
                free(mapped);
            }
        char yaml[512];
        snprintf(yaml, sizeof yaml, NORMALIZE("    fields: [text]\n    form: %s\n%s"), forms[f][0], forms[f][1]);
        CHECK_INT(run(yaml, input.data), 0);
        CHECK_STR(output("out"), want.data);
    }
    sl_buf_free(&input);
    sl_buf_free(&want);
}

/* ---- utf8proc failing. Valid text makes utf8proc_map fail only when it is
 * too long to count (UTF8PROC_ERROR_OVERFLOW), so this test program defines
 * its own utf8proc_map, which the linker prefers to the shared library's:
 * it fails for text starting with "overflow" and otherwise does the real
 * work through utf8proc_map_custom. ---- */

utf8proc_ssize_t utf8proc_map(const utf8proc_uint8_t *str, utf8proc_ssize_t len, utf8proc_uint8_t **dstptr,
                              utf8proc_option_t options) {
    if (len >= 8 && memcmp(str, "overflow", 8) == 0) {
        *dstptr = NULL;
        return UTF8PROC_ERROR_OVERFLOW;
    }
    return utf8proc_map_custom(str, len, dstptr, options, NULL, NULL);
}

static void test_map_error_to_dlq(void) {
    CHECK_INT(run(NORMALIZE("    fields: [text]\n"),
                  "{\"text\":\"overflow cafe\\u0301\"}\n{\"text\":\"caf\\u0065\\u0301\"}\n"),
              0);
    CHECK_STR(output("out"), "{\"text\":\"caf\xc3\xa9\"}\n");
    CHECK_STR(dlq(), "normalize_failed: field text could not be normalized: UTF-8 string is too long to be processed.\n");
    CHECK_CONTAINS(describe_output(), "{\"field\":\"text\",\"changed\":1}");
}

int main(void) {
    add_test_type(&probe_type);
    add_test_type(&inject_type);
    RUN(test_nfc_default);
    RUN(test_forms);
    RUN(test_whitespace);
    RUN(test_trim_and_controls);
    RUN(test_case);
    RUN(test_fields);
    RUN(test_invalid_utf8);
    RUN(test_option_errors);
    RUN(test_ascii_fast_path_no_copy);
    RUN(test_first_unprintable_at_every_offset);
    RUN(test_unicode_pairs);
    RUN(test_map_error_to_dlq);
    reset();
    return check_report();
}
