/* test_engine_profile_transform.c — the `profile` transform through a real
 * pipeline: the profile it writes equals profiling the same records
 * directly, records pass through unchanged, `fields` narrows the profile,
 * describe and metrics carry the profile and the drift, and a baseline of a
 * shifted distribution is flagged (and fails the run with on_drift: fail)
 * while an identical one is not.
 */
#include <stdbool.h>

#include "check.h"
#include "sketch/profile.h"
#include "transform_harness.h"

static char profile_path[128];
static char baseline_path[128];

/* n records {"x":<value>,"level":"...","id":i} with x spread around `center`
 * by a fixed pseudo-random sequence (the same for every call). */
static char *records(int n, double center) {
    sl_buf b;
    sl_buf_init(&b);
    uint64_t state = 12345;
    static const char *const levels[] = {"info", "warn", "error", "debug"};
    for (int i = 0; i < n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(state >> 11) / 9007199254740992.0;   /* [0, 1) */
        sl_buf_printf(&b, "{\"x\":%.6f,\"level\":\"%s\",\"id\":%d%s}\n", center + (u - 0.5) * 10,
                      levels[(state >> 40) % 4], i, i % 10 == 0 ? ",\"note\":null" : "");
    }
    return sl_buf_steal(&b, NULL);
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sl_buf b;
    sl_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sl_buf_append(&b, chunk, n);
    fclose(f);
    sl_buf_putc(&b, 0);
    return sl_buf_steal(&b, NULL);
}

/* The profile JSON of the JSON lines in text, built directly. */
static char *direct_profile(const char *text) {
    sl_profile *p = sl_profile_new(NULL, NULL);
    sl_arena a;
    sl_arena_init(&a, 4096);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = (size_t)(nl - line);
        char *copy = sl_arena_alloc(&a, len + SL_BUF_PADDING);
        memcpy(copy, line, len);
        memset(copy + len, 0, SL_BUF_PADDING);
        sl_value v;
        sl_decode_error derr;
        if (sl_json_decode(&a, copy, len, 64, true, &v, &derr) == 0) sl_profile_add(p, &v, sl_profile_records(p));
        line = nl + 1;
    }
    sl_buf out;
    sl_buf_init(&out);
    sl_profile_to_json(p, &out);
    sl_buf_putc(&out, '\n');
    sl_profile_free(p);
    sl_arena_free(&a);
    return sl_buf_steal(&out, NULL);
}

/* Removes the KLL images ("kll":"<base64>") from a profile JSON, in place.
 * Merging a worker's profile into the empty snapshot keeps every retained
 * value but not the coin-flip generator's state, which is part of the image;
 * the quantiles and histograms derived from the values are still compared. */
static char *without_kll_state(char *json) {
    char *at;
    while ((at = strstr(json, "\"kll\":\"")) != NULL) {
        char *end = strchr(at + 7, '"');
        memmove(at, end + 1, strlen(end + 1) + 1);
    }
    return json;
}

static void test_profile_equals_direct(void) {
    char *input = records(2000, 50);
    char body[512];
    snprintf(body, sizeof body,
             "transforms:\n  p:\n    type: profile\n    inputs: [in]\n    output: %s\n"
             "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
             profile_path);
    CHECK_INT(run_with(body, input, 1, 300), 0);
    CHECK_STR(output("out"), input);   /* unchanged, in order */
    char *written = without_kll_state(read_all(profile_path));
    char *expected = without_kll_state(direct_profile(input));
    CHECK_STR(written, expected);
    /* describe carries the same profile (and no drift without a baseline) */
    sl_buf want;
    sl_buf_init(&want);
    sl_buf_printf(&want, "{\"p\":{\"type\":\"profile\",\"profile\":%.*s}}", (int)strlen(expected) - 1, expected);
    char *described = strdup(describe_output());
    CHECK_STR(without_kll_state(described), want.data);
    free(described);
    CHECK_CONTAINS(metrics_output(), "# TYPE sluice_profile_records_total counter\n"
                                     "sluice_profile_records_total{component=\"p\"} 2000\n");
    sl_buf_free(&want);
    free(written);
    free(expected);

    /* several workers: counters are exact whatever the merge order */
    CHECK_INT(run_with(body, input, 2, 100), 0);
    sl_profile *p = NULL;
    written = read_all(profile_path);
    CHECK(written && sl_profile_from_json(written, strlen(written), &p, NULL) == 0);
    if (p) {
        CHECK_INT(sl_profile_records(p), 2000);
        const sl_profile_field *note = sl_profile_find(p, "note", 4);
        CHECK(note != NULL);
        if (note) CHECK_INT(note->nulls, 200);
        const sl_profile_field *x = sl_profile_find(p, "x", 1);
        CHECK(x != NULL);
        if (x) CHECK_INT(x->num_count, 2000);
        sl_profile_free(p);
    }
    free(written);
    free(input);
    reset();
}

static void test_fields(void) {
    char *input = records(100, 0);
    char body[512];
    snprintf(body, sizeof body,
             "transforms:\n  p:\n    type: profile\n    inputs: [in]\n    fields: [.level, note]\n"
             "    output: %s\nsinks:\n  out:\n    type: capture\n    inputs: [p]\n",
             profile_path);
    CHECK_INT(run_with(body, input, 1, 1024), 0);
    char *written = read_all(profile_path);
    sl_profile *p = NULL;
    CHECK(written && sl_profile_from_json(written, strlen(written), &p, NULL) == 0);
    if (p) {
        CHECK_INT(sl_profile_field_count(p), 2);
        CHECK(sl_profile_find(p, "level", 5) != NULL);
        const sl_profile_field *note = sl_profile_find(p, "note", 4);
        CHECK(note != NULL);
        if (note) CHECK_INT(sl_profile_field_missing(p, note), 90);
        CHECK(sl_profile_find(p, "x", 1) == NULL);
        sl_profile_free(p);
    }
    free(written);
    free(input);
    reset();
}

/* Writes the baseline: a profile of records centred on `center`. */
static void write_baseline(double center) {
    char *text = records(3000, center);
    char *json = direct_profile(text);
    FILE *f = fopen(baseline_path, "wb");
    fputs(json, f);
    fclose(f);
    free(json);
    free(text);
}

static void test_drift(void) {
    char *input = records(3000, 50);
    char body[512];
    snprintf(body, sizeof body,
             "transforms:\n  p:\n    type: profile\n    inputs: [in]\n    baseline: %s\n    on_drift: fail\n"
             "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
             baseline_path);

    /* the same distribution: no drift anywhere, the run succeeds */
    write_baseline(50);
    CHECK_INT(run_with(body, input, 1, 500), 0);
    CHECK_CONTAINS(describe_output(), ",\"drift\":[{\"field\":\"x\",\"kind\":\"numeric\",\"psi\":0.0,");
    CHECK_CONTAINS(metrics_output(), "sluice_drift_psi{component=\"p\",field=\"x\"} 0\n");
    CHECK_CONTAINS(metrics_output(), "sluice_drift_js{component=\"p\",field=\"x\"} 0\n");
    const char *d = strstr(describe_output(), "\"drift\":");
    CHECK(d && !strstr(d, "\"warn\"") && !strstr(d, "\"alert\""));

    /* shifted by half the spread: x drifts at alert level and the run fails */
    write_baseline(45);
    CHECK_INT(run_with(body, input, 1, 500), -1);
    CHECK_STR(run_error.msg,
              "transform 'p': drift against the baseline at alert level on 1 field, first 'x'");
    d = strstr(describe_output(), "{\"field\":\"x\"");
    CHECK(d != NULL);
    if (d) {
        const char *end = strchr(d, '}');
        CHECK(end && strstr(d, "\"status\":\"alert\"") && strstr(d, "\"status\":\"alert\"") < end);
    }
    CHECK_STR(output("out"), input);   /* every record still passed through */

    /* with on_drift: log the same drift only logs */
    snprintf(body, sizeof body,
             "transforms:\n  p:\n    type: profile\n    inputs: [in]\n    baseline: %s\n"
             "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
             baseline_path);
    CHECK_INT(run_with(body, input, 1, 500), 0);
    free(input);
    reset();
}

static void test_config_errors(void) {
    check_build_error("transforms:\n  p:\n    type: profile\n    inputs: [in]\n    lg_k: 30\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
                      "lg_k must be between 4 and 18, got 30");
    check_build_error("transforms:\n  p:\n    type: profile\n    inputs: [in]\n    on_drift: fail\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
                      "on_drift: fail needs a `baseline`");
    check_build_error("transforms:\n  p:\n    type: profile\n    inputs: [in]\n    baseline: /nonexistent/b.json\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
                      "baseline: cannot read /nonexistent/b.json");
    check_build_error("transforms:\n  p:\n    type: profile\n    inputs: [in]\n    psi_warn: 0.3\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [p]\n",
                      "psi_warn must be above 0 and below psi_alert");
    reset();
}

int main(void) {
    snprintf(profile_path, sizeof profile_path, "/tmp/sluice-test-profile-%d.json", (int)getpid());
    snprintf(baseline_path, sizeof baseline_path, "/tmp/sluice-test-baseline-%d.json", (int)getpid());
    RUN(test_profile_equals_direct);
    RUN(test_fields);
    RUN(test_drift);
    RUN(test_config_errors);
    unlink(profile_path);
    unlink(baseline_path);
    return check_report();
}
