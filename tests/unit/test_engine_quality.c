/* test_engine_quality.c — the `quality` transform through a real pipeline:
 * every check passes at its threshold and fails just past it, `mostly`
 * counts windows, `route` splits exactly the failing batches, `fail` makes
 * sl_pipeline_run fail with the check's name, time windows are evaluated at
 * the end of the run, and the describe/metrics hooks report all of it.
 */
#include <stdbool.h>

#include "check.h"
#include "core/util.h"
#include "transform_harness.h"

#define QUALITY_WINDOW(window, checks) \
    "transforms:\n  q:\n    type: quality\n    inputs: [in]\n    window: " window "\n" \
    "    checks:\n" checks "sinks:\n  out:\n    type: capture\n    inputs: [q]\n"
#define QUALITY(checks) QUALITY_WINDOW("batch", checks)

static int run(const char *body, const char *input, int per_batch) {
    return run_with(body, input, 1, per_batch);
}

/* n lines {"x":1}, {"x":2}, ... */
static char *numbered(int n) {
    sl_buf b;
    sl_buf_init(&b);
    for (int i = 1; i <= n; i++) sl_buf_printf(&b, "{\"x\":%d}\n", i);
    return sl_buf_steal(&b, NULL);
}

static void test_row_count(void) {
    char *input = numbered(10);
    CHECK_INT(run(QUALITY("      - {check: row_count, min: 5}\n"
                          "      - {name: too_few, check: row_count, min: 6}\n"
                          "      - {name: at_most, check: row_count, max: 5}\n"
                          "      - {name: too_many, check: row_count, max: 4}\n"),
                  input, 5),
              0);
    CHECK_STR(describe_output(),
              "{\"q\":{\"type\":\"quality\",\"checks\":["
              "{\"name\":\"row_count\",\"check\":\"row_count\",\"status\":\"pass\",\"value\":5,"
              "\"threshold\":\">= 5\",\"windows\":2,\"failed_windows\":0},"
              "{\"name\":\"too_few\",\"check\":\"row_count\",\"status\":\"fail\",\"value\":5,"
              "\"threshold\":\">= 6\",\"windows\":2,\"failed_windows\":2},"
              "{\"name\":\"at_most\",\"check\":\"row_count\",\"status\":\"pass\",\"value\":5,"
              "\"threshold\":\"<= 5\",\"windows\":2,\"failed_windows\":0},"
              "{\"name\":\"too_many\",\"check\":\"row_count\",\"status\":\"fail\",\"value\":5,"
              "\"threshold\":\"<= 4\",\"windows\":2,\"failed_windows\":2}]}}");
    CHECK_STR(output("out"), input);   /* `log` passes every record on */
    /* Several workers: each batch is still its own window. */
    CHECK_INT(run_with(QUALITY("      - {check: row_count, min: 3, max: 3}\n"), input, 2, 3), 0);
    CHECK_CONTAINS(describe_output(), "\"threshold\":\">= 3 and <= 3\",\"windows\":4,\"failed_windows\":1}");
    free(input);
    reset();
}

static void test_null_rate(void) {
    const char *input = "{\"x\":1}\n{\"x\":null}\n{\"y\":2}\n{\"x\":\"a\"}\n{\"x\":0}\n"
                        "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n{\"x\":4}\n{\"x\":5}\n";
    CHECK_INT(run(QUALITY("      - {check: null_rate, field: x, max: 0.2}\n"
                          "      - {name: strict, check: null_rate, field: .x, max: 0.19}\n"),
                  input, 100),
              0);
    CHECK_STR(describe_output(),
              "{\"q\":{\"type\":\"quality\",\"checks\":["
              "{\"name\":\"null_rate(x)\",\"check\":\"null_rate\",\"field\":\"x\",\"status\":\"pass\","
              "\"value\":0.2,\"threshold\":\"<= 0.2\",\"windows\":1,\"failed_windows\":0},"
              "{\"name\":\"strict\",\"check\":\"null_rate\",\"field\":\".x\",\"status\":\"fail\","
              "\"value\":0.2,\"threshold\":\"<= 0.19\",\"windows\":1,\"failed_windows\":1}]}}");
    reset();
}

static void test_distinct_and_unique(void) {
    const char *input = "{\"v\":\"a\",\"id\":1}\n{\"v\":\"a\",\"id\":2}\n{\"v\":\"b\",\"id\":3}\n"
                        "{\"v\":\"c\",\"id\":4}\n{\"v\":\"d\",\"id\":5}\n{\"v\":null,\"id\":6}\n";
    CHECK_INT(run(QUALITY("      - {check: distinct_ratio, field: v, min: 0.8}\n"
                          "      - {name: tight, check: distinct_ratio, field: v, min: 0.81}\n"
                          "      - {check: unique, field: v}\n"
                          "      - {check: unique, field: id}\n"),
                  input, 100),
              0);
    CHECK_STR(describe_output(),
              "{\"q\":{\"type\":\"quality\",\"checks\":["
              "{\"name\":\"distinct_ratio(v)\",\"check\":\"distinct_ratio\",\"field\":\"v\",\"status\":\"pass\","
              "\"value\":0.8,\"threshold\":\">= 0.8\",\"windows\":1,\"failed_windows\":0},"
              "{\"name\":\"tight\",\"check\":\"distinct_ratio\",\"field\":\"v\",\"status\":\"fail\","
              "\"value\":0.8,\"threshold\":\">= 0.81\",\"windows\":1,\"failed_windows\":1},"
              "{\"name\":\"unique(v)\",\"check\":\"unique\",\"field\":\"v\",\"status\":\"fail\","
              "\"value\":0.8,\"threshold\":\"= 1\",\"windows\":1,\"failed_windows\":1},"
              "{\"name\":\"unique(id)\",\"check\":\"unique\",\"field\":\"id\",\"status\":\"pass\","
              "\"value\":1,\"threshold\":\"= 1\",\"windows\":1,\"failed_windows\":0}]}}");
    reset();
}

/* Whether check `name` has status `status` in the last describe. */
static void check_status(const char *name, const char *status) {
    char needle[160];
    snprintf(needle, sizeof needle, "\"name\":\"%s\",", name);
    const char *at = strstr(describe_output(), needle);
    CHECK(at != NULL);
    if (!at) return;
    char want[64];
    snprintf(want, sizeof want, "\"status\":\"%s\"", status);
    const char *st = strstr(at, "\"status\":");
    bool ok = st && strncmp(st, want, strlen(want)) == 0;
    CHECK(ok);
    if (!ok) fprintf(stderr, "  check %s: expected %s in %s\n", name, want, at);
}

static void test_numeric_bounds(void) {
    /* 1..10, plus a string and a null that numeric checks ignore */
    char *numbers = numbered(10);
    sl_buf input;
    sl_buf_init(&input);
    sl_buf_printf(&input, "%s{\"x\":\"abc\"}\n{\"x\":null}\n", numbers);
    CHECK_INT(run(QUALITY("      - {name: mean_ok, check: mean, field: x, min: 5.5, max: 5.5}\n"
                          "      - {name: mean_low, check: mean, field: x, max: 5.49}\n"
                          "      - {name: min_ok, check: min, field: x, min: 1}\n"
                          "      - {name: min_high, check: min, field: x, min: 1.01}\n"
                          "      - {name: max_ok, check: max, field: x, max: 10}\n"
                          "      - {name: max_low, check: max, field: x, max: 9.99}\n"
                          "      - {name: p90_ok, check: quantile, field: x, q: 0.9, max: 9}\n"
                          "      - {name: p90_low, check: quantile, field: x, q: 0.9, max: 8.99}\n"
                          "      - {name: median, check: quantile, field: x, q: 0.5, min: 5, max: 5}\n"
                          "      - {name: q0, check: quantile, field: x, q: 0, min: 1, max: 1}\n"
                          "      - {name: none, check: mean, field: missing, max: 0}\n"),
                  input.data, 100),
              0);
    check_status("mean_ok", "pass");
    check_status("mean_low", "fail");
    check_status("min_ok", "pass");
    check_status("min_high", "fail");
    check_status("max_ok", "pass");
    check_status("max_low", "fail");
    check_status("p90_ok", "pass");
    check_status("p90_low", "fail");
    check_status("median", "pass");
    check_status("q0", "pass");
    /* a window with no numbers is not evaluated */
    CHECK_CONTAINS(describe_output(), "\"name\":\"none\",\"check\":\"mean\",\"field\":\"missing\","
                                      "\"status\":\"pass\",\"value\":null,\"threshold\":\"<= 0\","
                                      "\"windows\":0,\"failed_windows\":0}");
    CHECK_CONTAINS(describe_output(), "\"name\":\"p90_ok\",\"check\":\"quantile\",\"field\":\"x\","
                                      "\"status\":\"pass\",\"value\":9,");
    sl_buf_free(&input);
    free(numbers);
    reset();
}

static void test_freshness(void) {
    char now[40], old[40];
    int64_t t = sl_now_ns();
    sl_format_rfc3339(now, t - 60ll * 1000000000);
    sl_format_rfc3339(old, t - 3600ll * 1000000000);
    sl_buf input;
    sl_buf_init(&input);
    /* the newest event time counts: one a minute old, as RFC 3339 or Unix seconds */
    sl_buf_printf(&input, "{\"ts\":\"%s\",\"unix\":%lld}\n{\"ts\":\"%s\",\"unix\":%lld}\n{\"ts\":\"bad\"}\n",
                  old, (long long)(t / 1000000000 - 3600), now, (long long)(t / 1000000000 - 60));
    CHECK_INT(run(QUALITY("      - {name: fresh, check: freshness, field: ts, max: 5m}\n"
                          "      - {name: stale, check: freshness, field: ts, max: 30s}\n"
                          "      - {name: unix_fresh, check: freshness, field: unix, max: 300}\n"
                          "      - {name: unix_stale, check: freshness, field: unix, max: 59}\n"),
                  input.data, 100),
              0);
    check_status("fresh", "pass");
    check_status("stale", "fail");
    check_status("unix_fresh", "pass");
    check_status("unix_stale", "fail");
    CHECK_CONTAINS(describe_output(), "\"threshold\":\"<= 300s\"");
    CHECK_CONTAINS(describe_output(), "\"threshold\":\"<= 30s\"");
    sl_buf_free(&input);
    reset();
}

static void test_mostly(void) {
    char *input = numbered(11);   /* batches of 5, 5, 1: one window in three fails min 5 */
    CHECK_INT(run(QUALITY("      - {name: lenient, check: row_count, min: 5, mostly: 0.66}\n"
                          "      - {name: strict, check: row_count, min: 5, mostly: 0.67}\n"),
                  input, 5),
              0);
    check_status("lenient", "pass");
    check_status("strict", "fail");
    CHECK_CONTAINS(describe_output(), "\"windows\":3,\"failed_windows\":1}");
    /* fail + mostly < 1: judged at the end of the run */
    CHECK_INT(run(QUALITY("      - {name: lenient, check: row_count, min: 5, mostly: 0.66, action: fail}\n"),
                  input, 5),
              0);
    CHECK_INT(run(QUALITY("      - {name: strict, check: row_count, min: 5, mostly: 0.67, action: fail}\n"),
                  input, 5),
              -1);
    CHECK_STR(run_error.msg,
              "transform 'q': check 'strict' failed in 1 of 3 windows (mostly: 0.67 of the windows must pass)");
    CHECK_STR(output("out"), input);   /* every record was still delivered */
    free(input);
    reset();
}

static void test_route(void) {
    const char *body =
        "transforms:\n  q:\n    type: quality\n    inputs: [in]\n    checks:\n"
        "      - {check: null_rate, field: x, max: 0, action: route}\n"
        "      - {check: row_count, min: 100}\n"   /* fails too, but only logs */
        "sinks:\n"
        "  good:\n    type: capture\n    inputs: [q.passed]\n"
        "  bad:\n    type: capture\n    inputs: [q.failed]\n";
    CHECK_INT(run(body, "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n{}\n{\"x\":5}\n{\"x\":6}\n{\"x\":null}\n", 2), 0);
    CHECK_STR(output("good"), "{\"x\":1}\n{\"x\":2}\n{\"x\":5}\n{\"x\":6}\n");
    CHECK_STR(output("bad"), "{\"x\":3}\n{}\n{\"x\":null}\n");
    CHECK_CONTAINS(describe_output(), "\"windows\":4,\"failed_windows\":2}");
    /* without a routing check there are no named outputs */
    check_build_error("transforms:\n  q:\n    type: quality\n    inputs: [in]\n    checks:\n"
                      "      - {check: row_count, min: 1}\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q.failed]\n",
                      "has no named outputs");
    reset();
}

static void test_fail(void) {
    const char *input = "{\"x\":1}\n{}\n{\"x\":3}\n{\"x\":4}\n";
    CHECK_INT(run(QUALITY("      - {check: null_rate, field: x, max: 0.1, action: fail}\n"), input, 4), -1);
    CHECK_STR(run_error.msg,
              "transform 'q': check 'null_rate(x)' failed: null_rate of x = 0.25, expected <= 0.1");
    /* exactly at the threshold passes */
    CHECK_INT(run(QUALITY("      - {check: null_rate, field: x, max: 0.25, action: fail}\n"), input, 4), 0);
    CHECK_STR(output("out"), input);
    reset();
}

static void test_time_window(void) {
    char *input = numbered(10);
    /* one hour: every batch falls in one window, evaluated at the end of the run */
    CHECK_INT(run(QUALITY_WINDOW("1h",
                          "      - {check: row_count, min: 10}\n"
                          "      - {check: unique, field: x}\n"
                          "      - {check: quantile, field: x, q: 0.5, min: 5, max: 5}\n"
                          "      - {name: dups, check: distinct_ratio, field: y, min: 0.5}\n"),
                  input, 3),
              0);
    CHECK_STR(describe_output(),
              "{\"q\":{\"type\":\"quality\",\"checks\":["
              "{\"name\":\"row_count\",\"check\":\"row_count\",\"status\":\"pass\",\"value\":10,"
              "\"threshold\":\">= 10\",\"windows\":1,\"failed_windows\":0},"
              "{\"name\":\"unique(x)\",\"check\":\"unique\",\"field\":\"x\",\"status\":\"pass\",\"value\":1,"
              "\"threshold\":\"= 1\",\"windows\":1,\"failed_windows\":0},"
              "{\"name\":\"quantile(x)\",\"check\":\"quantile\",\"field\":\"x\",\"status\":\"pass\",\"value\":5,"
              "\"threshold\":\">= 5 and <= 5\",\"windows\":1,\"failed_windows\":0},"
              "{\"name\":\"dups\",\"check\":\"distinct_ratio\",\"field\":\"y\",\"status\":\"pass\",\"value\":null,"
              "\"threshold\":\">= 0.5\",\"windows\":0,\"failed_windows\":0}]}}");
    CHECK_STR(output("out"), input);
    /* the last window can fail the run from the finish hook */
    CHECK_INT(run(QUALITY_WINDOW("1h", "      - {check: row_count, max: 9, action: fail}\n"), input, 3), -1);
    CHECK_STR(run_error.msg, "transform 'q': check 'row_count' failed: row_count = 10, expected <= 9");
    free(input);
    reset();
}

/* Time windows route as a quarantine: from the batch that closes a failing
 * window until a window passes. Batches 150 ms apart, windows of 50 ms:
 * each batch closes the previous batch's window. */
static void test_time_window_route(void) {
    const char *body =
        "transforms:\n  q:\n    type: quality\n    inputs: [in]\n    window: 50ms\n    checks:\n"
        "      - {check: null_rate, field: x, max: 0, action: route}\n"
        "sinks:\n"
        "  good:\n    type: capture\n    inputs: [q.passed]\n"
        "  bad:\n    type: capture\n    inputs: [q.failed]\n";
    source_pause_ms = 150;
    CHECK_INT(run(body, "{\"x\":1}\n{}\n{\"x\":3}\n{\"x\":4}\n{\"x\":5}\n{\"x\":6}\n", 2), 0);
    source_pause_ms = 0;
    /* window 1 (x 1, {}) fails when batch 2 arrives: batch 2 is quarantined;
     * window 2 passes when batch 3 arrives: batch 3 flows again */
    CHECK_STR(output("good"), "{\"x\":1}\n{}\n{\"x\":5}\n{\"x\":6}\n");
    CHECK_STR(output("bad"), "{\"x\":3}\n{\"x\":4}\n");
    CHECK_CONTAINS(describe_output(), "\"windows\":3,\"failed_windows\":1}");
    reset();
}

static void test_metrics(void) {
    CHECK_INT(run(QUALITY("      - {check: null_rate, field: x, max: 0}\n      - {check: row_count, min: 1}\n"),
                  "{\"x\":1}\n{}\n{\"x\":2}\n", 2),
              0);
    CHECK_CONTAINS(metrics_output(), "# TYPE sluice_quality_check_status gauge\n"
                                     "sluice_quality_check_status{component=\"q\",check=\"null_rate(x)\"} 0\n"
                                     "sluice_quality_check_status{component=\"q\",check=\"row_count\"} 1\n");
    CHECK_CONTAINS(metrics_output(), "# TYPE sluice_quality_check_failures_total counter\n"
                                     "sluice_quality_check_failures_total{component=\"q\",check=\"null_rate(x)\"} 1\n"
                                     "sluice_quality_check_failures_total{component=\"q\",check=\"row_count\"} 0\n");
    reset();
}

static void test_config_errors(void) {
    check_build_error(QUALITY("      - {check: nul_rate, field: x, max: 0.1}\n"),
                      "unknown check 'nul_rate' (did you mean 'null_rate'?)");
    check_build_error(QUALITY("      - {check: null_rate, field: x, min: 0.1}\n"),
                      "check 'null_rate' takes `max` only");
    check_build_error(QUALITY("      - {check: null_rate, field: x, maxx: 0.1}\n"),
                      "unknown check option 'maxx' (did you mean 'max'?)");
    check_build_error(QUALITY("      - {check: null_rate, max: 0.1}\n"), "check 'null_rate' needs `field:`");
    check_build_error(QUALITY("      - {check: quantile, field: x, q: 1.5, max: 1}\n"),
                      "needs `q:` between 0 and 1");
    check_build_error(QUALITY("      - {check: mean, field: x, min: 3, max: 2}\n"), "min is greater than max");
    check_build_error(QUALITY("      - {check: freshness, field: ts, max: soon}\n"),
                      "max must be a duration such as 90s or 5m");
    check_build_error(QUALITY("      - {check: row_count, min: 1, mostly: 2}\n"), "mostly must be a fraction");
    check_build_error(QUALITY("      - {check: row_count, min: 1, action: explode}\n"),
                      "unknown action 'explode'");
    check_build_error(QUALITY("      - {check: row_count, min: 1}\n      - {check: row_count, max: 9}\n"),
                      "two checks are named 'row_count'");
    check_build_error(QUALITY_WINDOW("soon", "      - {check: row_count, min: 1}\n"),
                      "window must be `batch` or a duration");
    check_build_error("transforms:\n  q:\n    type: quality\n    inputs: [in]\n    checks: []\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q]\n",
                      "checks must be a non-empty list");
    reset();
}

int main(void) {
    RUN(test_row_count);
    RUN(test_null_rate);
    RUN(test_distinct_and_unique);
    RUN(test_numeric_bounds);
    RUN(test_freshness);
    RUN(test_mostly);
    RUN(test_route);
    RUN(test_fail);
    RUN(test_time_window);
    RUN(test_time_window_route);
    RUN(test_metrics);
    RUN(test_config_errors);
    return check_report();
}
