/* test_engine_report.c — the HTML report and the throughput sampler.
 *
 * A small pipeline runs in-process (transform_harness.h's `lines` source and
 * `capture` sink) with a broken line for the DLQ, a quality check and a
 * profile; the report built from it must hold each section with the exact
 * numbers of the run. Component state is also given directly as JSON, to
 * check that every string from data or configuration is HTML-escaped, that
 * DLQ examples are masked, and that the size stays bounded (100 profiled
 * fields under 1 MB; 1000 fields no larger than the capped 200).
 */
#include <math.h>

#include "check.h"
#include "transform_harness.h"
#include "report/report.h"
#include "report/sampler.h"

/* Builds the pipeline of `body` on `input` (like run_with), runs it with a
 * sampler, and returns the report built with info (state from describe). */
static char *report_of(const char *body, const char *input, unsigned per_batch, sl_report_info info,
                       const char *dlq_lines) {
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, input, 2, (int)per_batch);
    sl_buf_puts(&yaml, body);
    sl_pipeline *p = build_config(text_of(&yaml));
    CHECK_STR(diag_output(), "");
    sl_buf html;
    sl_buf_init(&html);
    if (p) {
        sl_error err = {0};
        sl_sampler *s = sl_sampler_start(p, 50, &err);
        CHECK(s != NULL);
        CHECK_INT(run_pipeline(p), 0);
        sl_sampler_stop(s);
        char dlq[128];
        snprintf(dlq, sizeof dlq, "%s/examples.jsonl", data_dir);
        if (dlq_lines) {
            FILE *f = fopen(dlq, "w");
            fputs(dlq_lines, f);
            fclose(f);
            info.dlq_file = dlq;
        }
        info.sampler = s;
        sl_report_build(p, &info, &html);
        sl_sampler_free(s);
        sl_pipeline_free(p);
    }
    sl_buf_free(&yaml);
    sl_buf_putc(&html, '\0');
    return sl_buf_steal(&html, NULL);
}

static size_t count_of(const char *text, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static const char *const body =
    "transforms:\n"
    "  checks:\n"
    "    type: quality\n"
    "    inputs: [in]\n"
    "    checks:\n"
    "      - {name: enough_rows, check: row_count, min: 1}\n"
    "      - {name: small_latency, check: max, field: ms, max: 50}\n"
    "  prof:\n"
    "    type: profile\n"
    "    inputs: [checks]\n"
    "  slow:\n"
    "    type: filter\n"
    "    inputs: [prof]\n"
    "    condition: '.ms > 20'\n"
    "sinks:\n"
    "  out: {type: capture, inputs: [slow]}\n";

static const char *const input =
    "{\"ms\": 10, \"level\": \"info\"}\n"
    "{\"ms\": 30, \"level\": \"warn\"}\n"
    "{\"ms\": 60, \"level\": \"info\"}\n"
    "{\"ms\": 5, \"level\": null}\n"
    "{\"ms\": oops}\n"
    "{\"ms\": 25, \"level\": \"error\"}\n";

static void test_sections_and_numbers(void) {
    sl_report_info info = {.title = "Nightly run", .pipeline = "p.yaml", .status = "succeeded", .elapsed_s = 2};
    const char *dlq_lines =
        "{\"component\":\"in\",\"origin\":\"test-input\",\"position\":{\"file_id\":42,\"offset\":116},"
        "\"reason\":\"json_syntax\",\"message\":\"bad value from bob.smith@example.com card 4111111111111111 "
        "at 12\",\"raw\":\"SECRET-RAW\"}\n";
    char *html = report_of(body, input, 2, info, dlq_lines);
    /* header */
    CHECK_CONTAINS(html, "<title>Nightly run</title>");
    CHECK_CONTAINS(html, "<span class=\"badge ok\" id=\"status\">succeeded</span>");
    CHECK_CONTAINS(html, "id=\"records-in\"><div class=\"l\">Records in</div><div class=\"v\">6</div>");
    CHECK_CONTAINS(html, "id=\"records-out\"><div class=\"l\">Records out</div><div class=\"v\">3</div>");
    CHECK_CONTAINS(html, "id=\"dlq-total\"><div class=\"l\">Dead letters</div><div class=\"v\">1</div>");
    CHECK_CONTAINS(html, "id=\"records-out-per-sink\"><li><code>out</code> 3</li></ul>");
    /* graph: edge labels are the receivers' counts */
    CHECK_CONTAINS(html, "<section id=\"graph\">");
    CHECK_INT(count_of(html, "<g class=\"node\">"), 5);
    CHECK_INT(count_of(html, "<path class=\"edge\""), 4);
    CHECK_CONTAINS(html, "paint-order=\"stroke\">5</text>");   /* in -> checks */
    CHECK_CONTAINS(html, "paint-order=\"stroke\">3</text>");   /* slow -> out */
    /* DLQ: the reason, its count, a masked example without the raw record */
    CHECK_CONTAINS(html, "<code class=\"reason\">json_syntax</code> <span class=\"muted\">in in</span>");
    CHECK_CONTAINS(html, "<div class=\"n dlq-count\">1</div>");
    CHECK_CONTAINS(html, "bad value from [EMAIL] card [CREDIT_CARD] at 12");
    CHECK(strstr(html, "bob.smith") == NULL);
    CHECK(strstr(html, "4111111111111111") == NULL);
    CHECK(strstr(html, "SECRET-RAW") == NULL);
    /* quality checks */
    CHECK_CONTAINS(html, "<section id=\"checks\">");
    CHECK_CONTAINS(html, "<td><span class=\"badge ok\">pass</span></td><td>enough_rows</td>");
    CHECK_CONTAINS(html, "<td><span class=\"badge bad\">fail</span></td><td>small_latency</td>");
    /* profile: 5 records, the fields, null rate of level (1 of 5) */
    CHECK_CONTAINS(html, "<section id=\"profile\">");
    CHECK_CONTAINS(html, "<code>prof</code> <span class=\"muted\" style=\"font-weight:400\">5 records · 2 fields");
    CHECK_CONTAINS(html, "<code>level</code>");
    CHECK_CONTAINS(html, "<b>Null rate</b>20.0%");
    CHECK(strstr(html, "No profile in this pipeline") == NULL);
    /* no drift without a baseline, no contract section without validate */
    CHECK(strstr(html, "id=\"drift\"") == NULL);
    CHECK(strstr(html, "id=\"contracts\"") == NULL);
    /* throughput: the sampler ran (pauses make the run long enough) */
    CHECK_CONTAINS(html, "<section id=\"throughput\">");
    CHECK_CONTAINS(html, "id=\"chart-records\"");
    /* self-contained */
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "http://") == NULL || strstr(html, "http://") == strstr(html, "http://www.w3.org/2000/svg"));
    CHECK(strstr(html, "https://") == NULL);
    free(html);
}

/* The state the report reads has the shapes the report expects: the same
 * pipeline through the harness's plain run. */
static void test_state_shapes(void) {
    CHECK_INT(run_with(body, input, 2, 2), 0);
    CHECK_STR(output("out"), "{\"ms\":30,\"level\":\"warn\"}\n{\"ms\":60,\"level\":\"info\"}\n"
                             "{\"ms\":25,\"level\":\"error\"}\n");
    CHECK_CONTAINS(describe_output(), "\"checks\":{\"type\":\"quality\",\"checks\":[{\"name\":\"enough_rows\"");
    CHECK_CONTAINS(describe_output(), "\"prof\":{\"type\":\"profile\",\"profile\":{\"version\":2,\"records\":5,");
    CHECK_CONTAINS(metrics_output(), "sluice_component_discarded_events_total{component=\"in\"");
    check_build_error("transforms:\n  prof: {type: profile, inputs: [in], max_fields: 0}\n"
                      "sinks:\n  out: {type: capture, inputs: [prof]}\n", "max_fields");
}

static void test_failed_run_and_empty_sections(void) {
    sl_report_info info = {.status = "failed", .error = "sink 'out' cannot write: <disk full>", .elapsed_s = 0.5};
    char *html = report_of("sinks:\n  out: {type: capture, inputs: [in]}\n", "{\"a\":1}\n", 10, info, NULL);
    CHECK_CONTAINS(html, "<span class=\"badge bad\" id=\"status\">failed</span>");
    CHECK_CONTAINS(html, "The run failed:</strong> sink &#39;out&#39; cannot write: &lt;disk full&gt;");
    CHECK_CONTAINS(html, "id=\"dlq-empty\"");
    CHECK_CONTAINS(html, "No profile in this pipeline");
    CHECK_CONTAINS(html, "<title>sluice report</title>");
    free(html);
}

/* Builds a report of the small pipeline with state_json in place of the
 * components' own state. */
static char *report_with_state(const char *title, const char *state) {
    sl_report_info info = {.title = title, .status = "running", .elapsed_s = 1,
                           .state_json = state, .state_len = strlen(state)};
    return report_of("sinks:\n  out: {type: capture, inputs: [in]}\n", "{\"a\":1}\n", 10, info, NULL);
}

/* The training-data stages, from the describe JSON of text_quality, dedup,
 * redact and dataset components, in pipeline order. */
static void test_training_stages(void) {
    const char *state =
        "{\"in\":{\"type\":\"lines\"},"
        "\"scrub\":{\"type\":\"redact\",\"records\":300,\"records_with_pii\":48,\"records_dropped\":5,"
        "\"detectors\":[{\"detector\":\"email\",\"action\":\"mask\",\"hits\":118},"
        "{\"detector\":\"phone\",\"action\":\"mask\",\"hits\":44}]},"
        "\"quality\":{\"type\":\"text_quality\",\"documents\":295,\"rejected\":121,\"skipped\":0,"
        "\"rules\":[{\"rule\":\"gopher_dup_5gram\",\"rejected\":83},{\"rule\":\"c4_terminal_punct\","
        "\"lines_removed\":2220}]},"
        "\"near\":{\"type\":\"dedup\",\"mode\":\"near\",\"documents\":162,\"duplicates\":9,"
        "\"skipped\":0,\"indexed\":153,\"index_entries\":2142,\"index_bytes\":131072,\"evictions\":0},"
        "\"shards\":{\"type\":\"dataset\",\"path\":\"out/ds\",\"records\":153,\"shards\":3,"
        "\"splits\":[{\"split\":\"train\",\"records\":150,\"shards\":1,\"bytes\":4096},"
        "{\"split\":\"validation\",\"records\":2,\"shards\":1,\"bytes\":100},"
        "{\"split\":\"test\",\"records\":1,\"shards\":1,\"bytes\":90}]}}";
    char *html = report_with_state("t", state);
    CHECK_CONTAINS(html, "id=\"training\"");
    const char *scrub = strstr(html, "<code>scrub</code>"), *quality = strstr(html, "<code>quality</code>");
    const char *near = strstr(html, "<code>near</code>"), *shards = strstr(html, "<code>shards</code> ");
    CHECK(scrub && quality && near && shards);
    CHECK(scrub < quality && quality < near && near < shards);   /* pipeline order */
    CHECK_CONTAINS(html, "300 records · 48 with personal data (16.0%) · 5 dropped");
    CHECK_CONTAINS(html, "<code>email</code></td><td class=\"n\">118</td>");
    CHECK_CONTAINS(html, "295 documents · 121 rejected (41.0%)");
    CHECK_CONTAINS(html, "<code>gopher_dup_5gram</code></td><td class=\"n\">83</td>");
    CHECK_CONTAINS(html, "<code>c4_terminal_punct</code></td><td class=\"n\">–</td><td class=\"n\">2,220</td>");
    CHECK_CONTAINS(html, "near · 162 documents · 9 duplicates removed (5.6%)");
    CHECK_CONTAINS(html, "Index: 2,142 entries in 128 KiB · 0 evictions");
    CHECK_CONTAINS(html, "153 records in 3 shards");
    CHECK_CONTAINS(html, "<code>validation</code></td><td class=\"n\">2</td><td class=\"n\">1</td>");
    free(html);
    /* Without such components there is no such section. */
    html = report_with_state("t", "{\"in\":{\"type\":\"lines\"}}");
    CHECK(strstr(html, "id=\"training\"") == NULL);
    free(html);
}

static void test_escaping(void) {
    const char *state =
        "{\"<script>\":{\"type\":\"validate\",\"records\":10,\"passed\":7,\"failed\":3,"
        "\"rules\":[{\"field\":\"<img src=x onerror=alert(1)>\",\"rule\":\"enum\",\"failures\":3},"
        "{\"field\":\"level\",\"rule\":\"type\",\"failures\":0}]},"
        "\"q\":{\"type\":\"quality\",\"checks\":[{\"name\":\"</td><script>\",\"check\":\"null_rate\","
        "\"field\":\"a\",\"status\":\"fail\",\"value\":0.5,\"threshold\":\"<= 0.1\",\"windows\":4,"
        "\"failed_windows\":2}]}}";
    char *html = report_with_state("<script>alert('t')</script>", state);
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "<img") == NULL);
    CHECK_CONTAINS(html, "<title>&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;</title>");
    CHECK_CONTAINS(html, "<h3><code>&lt;script&gt;</code>");
    CHECK_CONTAINS(html, "10 records · 7 passed · 3 failed (30.0%)");
    CHECK_CONTAINS(html, "<code>&lt;img src=x onerror=alert(1)&gt;</code></td><td>enum</td><td class=\"n\">3</td>");
    CHECK_CONTAINS(html, "<td>&lt;/td&gt;&lt;script&gt;</td>");
    CHECK_CONTAINS(html, "<td>&lt;= 0.1</td><td class=\"n\">2 of 4</td>");
    CHECK_CONTAINS(html, "<span class=\"badge run\" id=\"status\">running</span>");
    free(html);
}

/* A profile describe JSON with n fields, every member filled at its
 * largest (10 top values of 64 characters, 10 histogram bins, quantiles),
 * plus drift for every field. */
static void synthetic_state(sl_buf *out, int n) {
    sl_buf_puts(out, "{\"prof\":{\"type\":\"profile\",\"profile\":{\"version\":1,\"records\":1000000,\"fields\":{");
    for (int i = 0; i < n; i++) {
        sl_buf_printf(out, "%s\"field_with_a_long_name_%04d\":{\"count\":999000,\"nulls\":1000,\"missing\":1000,"
                      "\"types\":{\"null\":1000,\"int\":500000,\"float\":298000,\"string\":200000},"
                      "\"distinct\":123456,\"min\":-1.5e6,\"max\":9.75e8,\"mean\":12345.678,\"stddev\":99.5,"
                      "\"quantiles\":{\"0.01\":1,\"0.05\":2,\"0.25\":3,\"0.5\":4,\"0.75\":5,\"0.95\":6,\"0.99\":7},"
                      "\"histogram\":{\"edges\":[0,1,2,3,4,5,6,7,8,9,10],\"counts\":[1,2,3,4,5,6,7,8,9,10]},"
                      "\"length\":{\"min\":1,\"max\":64,\"mean\":33.3},\"top\":[",
                      i ? "," : "", i);
        for (int t = 0; t < 10; t++)
            sl_buf_printf(out, "%s{\"value\":\"%064d\",\"count\":%d}", t ? "," : "", t, 1000 - t);
        sl_buf_printf(out, "],\"sketch\":{\"hll\":\"%0800d\"}}", 0);
    }
    sl_buf_puts(out, "}},\"drift\":[");
    for (int i = 0; i < n; i++)
        sl_buf_printf(out, "%s{\"field\":\"field_with_a_long_name_%04d\",\"kind\":\"numeric\",\"psi\":0.15,"
                      "\"js\":0.2,\"null_rate_baseline\":0.001,\"null_rate_current\":0.002,\"type_tvd\":0,"
                      "\"status\":\"warn\"}", i ? "," : "", i);
    sl_buf_puts(out, "]}}");
}

static void test_size_bounded(void) {
    sl_buf state;
    sl_buf_init(&state);
    synthetic_state(&state, 100);
    sl_buf_putc(&state, '\0');
    char *html = report_with_state("size", state.data);
    size_t len100 = strlen(html);
    CHECK(len100 < 1000000);
    CHECK_INT(count_of(html, "<div class=\"field\">"), 100);
    CHECK_CONTAINS(html, "0 ok · 100 warn · 0 alert");
    CHECK_CONTAINS(html, "1,000,000 records · 100 fields");
    free(html);

    state.len = 0;
    synthetic_state(&state, 1000);
    sl_buf_putc(&state, '\0');
    html = report_with_state("size", state.data);
    CHECK_INT(count_of(html, "<div class=\"field\">"), SL_REPORT_MAX_FIELDS);
    CHECK_CONTAINS(html, "800 more fields are not shown");
    CHECK(strlen(html) < 4 * len100);   /* capped: fields at 200, drift rows at 500 */
    free(html);
    sl_buf_free(&state);
}

static void test_sampler_covers_the_run(void) {
    /* The sampler's own accounting: the points' records add up to the input. */
    new_data_dir();
    char yaml[512];
    snprintf(yaml, sizeof yaml, "data_dir: %s\nbatch: {max_records: 1}\nsources:\n  in:\n    type: lines\n"
             "    pause_ms: 30\n    text: |\n      {\"a\":1}\n      {\"a\":2}\n      {\"a\":3}\n      {\"a\":4}\n"
             "sinks:\n  out: {type: capture, inputs: [in]}\n", data_dir);
    sl_pipeline *p = build_config(yaml);
    CHECK(p != NULL);
    sl_error err = {0};
    sl_sampler *s = sl_sampler_start(p, 10, &err);
    CHECK_INT(run_pipeline(p), 0);
    sl_sampler_stop(s);
    sl_sample pts[SL_SAMPLER_MAX_POINTS];
    size_t n = sl_sampler_points(s, pts, SL_SAMPLER_MAX_POINTS);
    CHECK(n >= 3);
    uint64_t records = 0, bytes = 0;
    double span = 0;
    for (size_t i = 0; i < n; i++) {
        records += pts[i].records;
        bytes += pts[i].bytes;
        span += pts[i].span_s;
        if (i > 0)
            CHECK(pts[i].end_s > pts[i - 1].end_s);
    }
    CHECK_INT(records, 4);
    CHECK_INT(bytes, 4 * 8);
    CHECK(fabs(span - pts[n - 1].end_s) < 1e-6);
    sl_sampler_free(s);
    sl_pipeline_free(p);
    reset();
}

/* Personal data in DLQ messages and profile top values is masked with the
 * redact transform's detectors: phone and social security numbers (which a
 * digit-run rule alone misses), e-mail addresses, and a number that
 * straddles the 160-character cut of a message; long digit runs too in
 * messages, but not in top values, where ids keep their digits. Dates and
 * short numbers stay readable. */
static void test_masking_personal_data(void) {
    const char *state =
        "{\"prof\":{\"type\":\"profile\",\"profile\":{\"version\":1,\"records\":10,\"fields\":{"
        "\"contact\":{\"count\":10,\"types\":{\"string\":10},\"length\":{\"min\":9,\"max\":20,\"mean\":12},"
        "\"top\":[{\"value\":\"415-555-2671\",\"count\":4},{\"value\":\"123-45-6789\",\"count\":3},"
        "{\"value\":\"ann@example.org\",\"count\":1},{\"value\":\"req-20261124153012\",\"count\":1},"
        "{\"value\":\"released 2026-11-24\",\"count\":1}]},"
        "\"rid\":{\"count\":10,\"types\":{\"string\":10},\"distinct\":10,\"top\":[]},"
        "\"host\":{\"count\":10,\"types\":{\"string\":10},\"top\":[{\"value\":\"a\",\"count\":5,\"error\":2}]}}}}}";
    sl_buf dlq;
    sl_buf_init(&dlq);
    sl_buf_puts(&dlq, "{\"component\":\"in\",\"reason\":\"contract\",\"message\":\"caller 415-555-2671 "
                      "gave ssn 123-45-6789 on 2026-11-24\"}\n"
                      "{\"component\":\"in\",\"reason\":\"contract\",\"message\":\"");
    for (int i = 0; i < 148; i++)   /* the number spans characters 149 to 160 */
        sl_buf_putc(&dlq, 'x');
    sl_buf_puts(&dlq, " 415-555-2671 and more\"}\n");
    sl_buf_putc(&dlq, '\0');
    sl_report_info info = {.status = "running", .elapsed_s = 1, .state_json = state, .state_len = strlen(state)};
    /* a broken line, so that the run has dead letters and examples are shown */
    char *html = report_of("sinks:\n  out: {type: capture, inputs: [in]}\n", "{\"a\":1}\n{oops\n", 10, info,
                           dlq.data);
    CHECK_CONTAINS(html, "caller [PHONE] gave ssn [SSN] on 2026-11-24");
    CHECK_CONTAINS(html, "xxxxx [PHONE] and…");
    CHECK_CONTAINS(html, "<code>[PHONE]</code>");
    CHECK_CONTAINS(html, "<code>[SSN]</code>");
    CHECK_CONTAINS(html, "<code>[EMAIL]</code>");
    CHECK_CONTAINS(html, "<code>req-20261124153012</code>");   /* an id, not personal data */
    /* near-unique: no invented shares; an upper-bound count shows its range */
    CHECK_CONTAINS(html, "all values distinct (≈10 distinct in 10)");
    CHECK_CONTAINS(html, "30.0%–50.0%");
    CHECK_CONTAINS(html, "<code>released 2026-11-24</code>");
    CHECK(strstr(html, "415-555") == NULL);
    CHECK(strstr(html, "555-2671") == NULL);
    CHECK(strstr(html, "123-45-6789") == NULL);
    CHECK(strstr(html, "45-6789") == NULL);
    CHECK(strstr(html, "ann@") == NULL);
    free(html);
    sl_buf_free(&dlq);
}

int main(void) {
    source_pause_ms = 150;
    RUN(test_sections_and_numbers);
    source_pause_ms = 0;
    RUN(test_state_shapes);
    RUN(test_failed_run_and_empty_sections);
    RUN(test_training_stages);
    RUN(test_escaping);
    RUN(test_size_bounded);
    RUN(test_sampler_covers_the_run);
    RUN(test_masking_personal_data);
    reset();
    return check_report();
}
