/* test_core_metrics.c — counters, reason tables, the Prometheus exposition
 * and the /stats JSON, checked line by line. Also the log level parser. */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "core/log.h"
#include "core/metrics.h"

/* True when text contains line as one whole line. */
static bool has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

#define CHECK_LINE(text, line) do { \
    bool found_ = has_line(text, line); \
    if (!found_) fprintf(stderr, "  missing line: %s\n", line); \
    CHECK(found_); \
} while (0)

static sl_metrics *sample(void) {
    sl_metrics *m = sl_metrics_new();
    sl_component_metrics *src = sl_metrics_add(m, "events", "source", "file");
    sl_component_metrics *flt = sl_metrics_add(m, "slow", "transform", "filter");
    sl_metrics_received(src, 10, 1000);
    sl_metrics_received(src, 5, 500);
    sl_metrics_sent(src, 14, 1400);
    sl_metrics_received(flt, 14, 0);
    sl_metrics_sent(flt, 3, 0);
    sl_metrics_error(src, "json_syntax", 1);
    sl_metrics_dlq(m, src, "json_syntax", 1);
    sl_metrics_dlq(m, flt, "expr_error", 2);
    sl_metrics_dlq(m, flt, "expr_error", 1);
    sl_metrics_latency(flt, 5000);         /* 5us    -> le 0.00001 */
    sl_metrics_latency(flt, 2000000);      /* 2ms    -> le 0.00316 */
    sl_metrics_latency(flt, 20000000000);  /* 20s    -> +Inf only */
    return m;
}

static void test_prometheus(void) {
    sl_metrics *m = sample();
    sl_buf b;
    sl_buf_init(&b);
    sl_metrics_render_prometheus(m, &b);
    const char *t = b.data;
    CHECK_LINE(t, "# HELP sluice_component_received_events_total Events received by the component.");
    CHECK_LINE(t, "# TYPE sluice_component_received_events_total counter");
    CHECK_LINE(t, "sluice_component_received_events_total{component=\"events\",component_kind=\"source\",component_type=\"file\"} 15");
    CHECK_LINE(t, "sluice_component_received_bytes_total{component=\"events\",component_kind=\"source\",component_type=\"file\"} 1500");
    CHECK_LINE(t, "sluice_component_sent_events_total{component=\"slow\",component_kind=\"transform\",component_type=\"filter\"} 3");
    CHECK_LINE(t, "sluice_component_sent_bytes_total{component=\"events\",component_kind=\"source\",component_type=\"file\"} 1400");
    CHECK_LINE(t, "# TYPE sluice_component_errors_total counter");
    CHECK_LINE(t, "sluice_component_errors_total{component=\"events\",component_kind=\"source\",component_type=\"file\",error_type=\"json_syntax\"} 1");
    CHECK_LINE(t, "sluice_component_discarded_events_total{component=\"slow\",component_kind=\"transform\",component_type=\"filter\",reason=\"expr_error\"} 3");
    CHECK_LINE(t, "sluice_component_discarded_events_total{component=\"events\",component_kind=\"source\",component_type=\"file\",reason=\"json_syntax\"} 1");
    CHECK_LINE(t, "# TYPE sluice_component_processing_seconds histogram");
    CHECK_LINE(t, "sluice_component_processing_seconds_bucket{component=\"slow\",component_kind=\"transform\",component_type=\"filter\",le=\"0.00001\"} 1");
    CHECK_LINE(t, "sluice_component_processing_seconds_bucket{component=\"slow\",component_kind=\"transform\",component_type=\"filter\",le=\"0.001\"} 1");
    CHECK_LINE(t, "sluice_component_processing_seconds_bucket{component=\"slow\",component_kind=\"transform\",component_type=\"filter\",le=\"0.00316\"} 2");
    CHECK_LINE(t, "sluice_component_processing_seconds_bucket{component=\"slow\",component_kind=\"transform\",component_type=\"filter\",le=\"3.16\"} 2");
    CHECK_LINE(t, "sluice_component_processing_seconds_bucket{component=\"slow\",component_kind=\"transform\",component_type=\"filter\",le=\"+Inf\"} 3");
    CHECK_LINE(t, "sluice_component_processing_seconds_sum{component=\"slow\",component_kind=\"transform\",component_type=\"filter\"} 20.002005");
    CHECK_LINE(t, "sluice_component_processing_seconds_count{component=\"slow\",component_kind=\"transform\",component_type=\"filter\"} 3");
    CHECK_LINE(t, "sluice_component_processing_seconds_count{component=\"events\",component_kind=\"source\",component_type=\"file\"} 0");
    CHECK_LINE(t, "# TYPE sluice_uptime_seconds gauge");
    CHECK(strstr(t, "\nsluice_uptime_seconds ") != NULL);
    CHECK_LINE(t, "# TYPE sluice_dlq_events_total counter");
    CHECK_LINE(t, "sluice_dlq_events_total 4");
    /* Each family is declared once. */
    const char *first = strstr(t, "# TYPE sluice_component_errors_total");
    CHECK(first && !strstr(first + 1, "# TYPE sluice_component_errors_total"));
    CHECK(t[b.len - 1] == '\n');
    sl_buf_free(&b);
    sl_metrics_free(m);
}

static void test_label_escaping_and_overflow(void) {
    sl_metrics *m = sl_metrics_new();
    sl_component_metrics *c = sl_metrics_add(m, "we\"ird\\name", "sink", "file");
    char reason[16];
    for (int i = 0; i < SL_MAX_REASONS + 3; i++) {
        snprintf(reason, sizeof reason, "r%d", i);
        sl_metrics_error(c, reason, 1);
    }
    CHECK_STR(c->errors[SL_MAX_REASONS - 2].reason, "r30");
    CHECK_STR(c->errors[SL_MAX_REASONS - 1].reason, "other");
    CHECK_INT(c->errors[SL_MAX_REASONS - 1].count, 4);
    sl_buf b;
    sl_buf_init(&b);
    sl_metrics_render_prometheus(m, &b);
    CHECK_LINE(b.data, "sluice_component_received_events_total{component=\"we\\\"ird\\\\name\",component_kind=\"sink\",component_type=\"file\"} 0");
    sl_buf_free(&b);
    sl_metrics_free(m);
}

static void test_json(void) {
    sl_metrics *m = sample();
    sl_buf b;
    sl_buf_init(&b);
    sl_metrics_render_json(m, &b);
    CHECK(strncmp(b.data, "{\"uptime_seconds\":", 18) == 0);
    CHECK(strstr(b.data, "\"dlq_events\":4,") != NULL);
    CHECK(strstr(b.data, "{\"name\":\"events\",\"kind\":\"source\",\"type\":\"file\","
                         "\"received_events\":15,\"received_bytes\":1500,\"sent_events\":14,"
                         "\"sent_bytes\":1400,\"errors\":{\"json_syntax\":1},"
                         "\"discarded\":{\"json_syntax\":1},"
                         "\"processing_seconds\":{\"count\":0,\"sum\":0}}") != NULL);
    CHECK(strstr(b.data, "\"discarded\":{\"expr_error\":3}") != NULL);
    CHECK(b.data[b.len - 1] == '}');
    sl_buf_free(&b);
    sl_metrics_free(m);
}

static void test_log_levels(void) {
    sl_log_level l;
    CHECK_INT(sl_log_parse_level("warn", &l), 0);
    CHECK_INT(l, SL_LOG_WARN);
    CHECK_INT(sl_log_parse_level("off", &l), 0);
    CHECK_INT(l, SL_LOG_OFF);
    CHECK_INT(sl_log_parse_level("verbose", &l), -1);
    sl_log_set_level(SL_LOG_ERROR);
    CHECK_INT(sl_log_get_level(), SL_LOG_ERROR);
    sl_info("test", "not printed");
    sl_log_set_level(SL_LOG_INFO);
}

static void test_prom_escape(void) {
    sl_buf b;
    sl_buf_init(&b);
    sl_prom_escape(&b, "plain");
    CHECK_STR(b.data, "plain");
    b.len = 0;
    sl_prom_escape(&b, "a\"b\\c\nd");
    CHECK_STR(b.data, "a\\\"b\\\\c\\nd");
    b.len = 0;
    sl_prom_escape(&b, "");
    CHECK_INT(b.len, 0);
    sl_buf_free(&b);
}

int main(void) {
    RUN(test_prometheus);
    RUN(test_label_escaping_and_overflow);
    RUN(test_prom_escape);
    RUN(test_json);
    RUN(test_log_levels);
    return check_report();
}
