/* test_engine_retries.c — sink retries, the circuit breaker, fallback sinks
 * and dead-lettering of payloads a sink cannot write (runtime/sink_retry.c),
 * run in-process with the transform harness and a test-only `flaky` sink
 * that fails a chosen number of writes and then recovers.
 */
#include <pthread.h>
#include <time.h>

#include "check.h"
#include "core/util.h"
#include "transform_harness.h"

extern const sl_component_type sl_sink_file_type;

/* ---- the flaky sink: capture, but failing the first N writes ---- */

#define MAX_FLAKY 4
#define MAX_ATTEMPTS_SEEN 64

static struct {
    char name[32];
    int ok_left;                   /* writes to let through before failing */
    int fail_left;                 /* writes still to fail; -1 = all of them */
    int attempts;
    int64_t at_ns[MAX_ATTEMPTS_SEEN];
} flaky[MAX_FLAKY];
static int n_flaky;
static pthread_mutex_t flaky_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned write_delay_ms;    /* each write (failed or not) takes this long */

static void flaky_plan_after(const char *name, int successes, int failures) {
    pthread_mutex_lock(&flaky_lock);
    int i = 0;
    while (i < n_flaky && strcmp(flaky[i].name, name) != 0) i++;
    if (i == n_flaky) n_flaky++;
    memset(&flaky[i], 0, sizeof flaky[i]);
    snprintf(flaky[i].name, sizeof flaky[i].name, "%s", name);
    flaky[i].ok_left = successes;
    flaky[i].fail_left = failures;
    pthread_mutex_unlock(&flaky_lock);
}

static void flaky_plan(const char *name, int failures) {
    flaky_plan_after(name, 0, failures);
}

static int flaky_attempts(const char *name) {
    for (int i = 0; i < n_flaky; i++)
        if (strcmp(flaky[i].name, name) == 0) return flaky[i].attempts;
    return 0;
}

static int64_t flaky_attempt_ms(const char *name, int k) {
    for (int i = 0; i < n_flaky; i++)
        if (strcmp(flaky[i].name, name) == 0) return flaky[i].at_ns[k] / 1000000;
    return 0;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int flaky_write(sl_component *c, sl_payload *p, sl_error *err) {
    if (write_delay_ms) sleep_ms(write_delay_ms);
    pthread_mutex_lock(&flaky_lock);
    int i = 0;
    while (i < n_flaky && strcmp(flaky[i].name, c->name) != 0) i++;
    bool fail = false;
    if (i < n_flaky) {
        if (flaky[i].attempts < MAX_ATTEMPTS_SEEN) flaky[i].at_ns[flaky[i].attempts] = sl_monotonic_ns();
        flaky[i].attempts++;
        if (flaky[i].ok_left > 0) {
            flaky[i].ok_left--;
        } else {
            fail = flaky[i].fail_left != 0;
            if (flaky[i].fail_left > 0) flaky[i].fail_left--;
        }
    }
    pthread_mutex_unlock(&flaky_lock);
    if (fail) return sl_errorf(err, "disk on fire");
    return capture_write(c, p, err);
}

static const sl_component_type flaky_type = {
    .name = "flaky", .kind = SL_SINK, .summary = "test output that fails", .options = capture_options,
    .create = capture_create, .encode = capture_encode, .write = flaky_write, .flush = capture_flush,
};

/* The same, encoding odd and even records into two payload parts (as a
 * file sink with a path template encodes one part per file). */
static void split_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                         sl_payload *out, sl_emit *dlq) {
    for (size_t i = 0; i < n; i++) {
        sl_payload_part *part = sl_payload_part_get(out, i % 2 ? "odd" : "even", i % 2 ? 3 : 4);
        sl_json_encode(&part->data, sl_record_value(recs[i]));
        sl_buf_putc(&part->data, '\n');
        part->records++;
    }
}

static const sl_component_type split_type = {
    .name = "split", .kind = SL_SINK, .summary = "test output in two parts", .options = capture_options,
    .create = capture_create, .encode = split_encode, .write = flaky_write, .flush = capture_flush,
};

/* ---- helpers ---- */

/* n records {"n":1} .. {"n":n}, one per line. */
static char *numbered(int n) {
    sl_buf b;
    sl_buf_init(&b);
    for (int i = 1; i <= n; i++) sl_buf_printf(&b, "{\"n\":%d}\n", i);
    return b.data;
}

/* A sink named `name` of type flaky reading `in`, with extra option lines. */
static void flaky_sink(sl_buf *yaml, const char *name, const char *options) {
    sl_buf_printf(yaml, "  %s:\n    type: flaky\n    inputs: [in]\n%s", name, options);
}

static int run_sinks(const char *sinks_yaml, const char *input, int per_batch) {
    sl_buf body;
    sl_buf_init(&body);
    sl_buf_printf(&body, "sinks:\n%s", sinks_yaml);
    int rc = run_with(body.data, input, 2, per_batch);
    sl_buf_free(&body);
    return rc;
}

/* The content of the DLQ file of the last run. */
static char *dlq_file(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/dlq/dlq.jsonl", data_dir);
    FILE *f = fopen(path, "r");
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_putc(&b, 0);
    b.len = 0;
    if (!f) return b.data;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sl_buf_append(&b, chunk, n);
    fclose(f);
    sl_buf_putc(&b, 0);
    return b.data;
}

static size_t count_of(const char *text, const char *needle) {
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* ---- tests ---- */

static void test_retries_then_success(void) {
    char *input = numbered(40);
    flaky_plan("out", 3);
    sl_buf s;
    sl_buf_init(&s);
    flaky_sink(&s, "out", "    retry: {initial: 1ms, max: 5ms, max_attempts: 10}\n    breaker: {failures: 0}\n");
    CHECK(run_sinks(s.data, input, 10) == 0);
    /* no loss, no duplicates, in order */
    CHECK_STR(output("out"), input);
    CHECK_STR(dlq(), "");
    CHECK(flaky_attempts("out") == 4 + 3);
    CHECK_CONTAINS(metrics_output(), "sluice_sink_retries_total{component=\"out\"} 3\n");
    CHECK_CONTAINS(metrics_output(), "sluice_sink_breaker_state{component=\"out\"} 0\n");
    CHECK_CONTAINS(metrics_output(), "error_type=\"sink_write_failed\"} 3\n");
    CHECK_STR(describe_output(), "{}");   /* retry state is in the metrics, not /stats */
    sl_buf_free(&s);
    free(input);
}

/* A retry resumes at the part that failed: no part is written twice. */
static void test_retry_resumes_at_the_failed_part(void) {
    flaky_plan_after("out", 1, 2);
    CHECK(run_sinks("  out:\n    type: split\n    inputs: [in]\n"
                    "    retry: {initial: 1ms, max: 1ms}\n",
                    "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n", 4) == 0);
    CHECK_STR(output("out"), "{\"n\":1}\n{\"n\":3}\n{\"n\":2}\n{\"n\":4}\n");
    CHECK(flaky_attempts("out") == 4);
    CHECK_STR(dlq(), "");
    /* given up after the first part was written: only the second part's records are dead letters */
    flaky_plan_after("out", 1, -1);
    CHECK(run_sinks("  out:\n    type: split\n    inputs: [in]\n"
                    "    retry: {initial: 1ms, max: 1ms, max_attempts: 2}\n",
                    "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n", 4) == 0);
    CHECK_STR(output("out"), "{\"n\":1}\n{\"n\":3}\n");
    CHECK(count_lines(dlq()) == 2);
    char *file = dlq_file();
    CHECK(count_of(file, "\"raw\":\"{\\\"n\\\":2}\"") == 1);
    CHECK(count_of(file, "\"raw\":\"{\\\"n\\\":4}\"") == 1);
    CHECK(count_of(file, "\"origin\":\"odd\"") == 2);
    free(file);
}

static void test_permanent_failure_goes_to_dlq(void) {
    char *input = numbered(20);
    flaky_plan("out", -1);
    sl_buf s;
    sl_buf_init(&s);
    flaky_sink(&s, "out", "    retry: {initial: 1ms, max: 2ms, max_attempts: 3}\n    breaker: {failures: 0}\n");
    CHECK(run_sinks(s.data, input, 5) == 0);
    CHECK_STR(output("out"), "");
    /* every record is a DLQ entry, its raw the encoded line */
    CHECK(count_lines(dlq()) == 20);
    CHECK(count_of(dlq(), "sink_failed: write failed 3 times: disk on fire\n") == 20);
    char *file = dlq_file();
    for (int i = 1; i <= 20; i++) {
        char raw[64];
        snprintf(raw, sizeof raw, "\"raw\":\"{\\\"n\\\":%d}\"", i);
        CHECK(count_of(file, raw) == 1);
    }
    CHECK(count_of(file, "\"component\":\"out\"") == 20);
    free(file);
    CHECK(flaky_attempts("out") == 4 * 3);
    CHECK_CONTAINS(metrics_output(), "sluice_sink_retries_total{component=\"out\"} 8\n");
    CHECK_CONTAINS(metrics_output(), "reason=\"sink_failed\"} 20\n");
    sl_buf_free(&s);
    free(input);
}

static void test_on_failure_fail_stops_the_run(void) {
    char *input = numbered(10);
    flaky_plan("out", -1);
    sl_buf s;
    sl_buf_init(&s);
    flaky_sink(&s, "out", "    retry: {initial: 1ms, max: 1ms, max_attempts: 2}\n    on_failure: fail\n");
    CHECK(run_sinks(s.data, input, 5) != 0);
    check_prefix(run_error.msg, "sink 'out': write failed 2 times: disk on fire");
    CHECK_STR(dlq(), "");
    sl_buf_free(&s);
    free(input);
}

static void test_fallback_receives_what_the_primary_gives_up(void) {
    char *input = numbered(30);
    flaky_plan("out", -1);
    flaky_plan("backup", 1);     /* the fallback retries too */
    sl_buf s;
    sl_buf_init(&s);
    flaky_sink(&s, "out", "    retry: {initial: 1ms, max: 1ms, max_attempts: 2}\n"
                          "    breaker: {cooldown: 50ms}\n    fallback: backup\n");
    flaky_sink(&s, "backup", "    retry: {initial: 1ms, max: 1ms}\n");
    CHECK(run_sinks(s.data, input, 10) == 0);
    CHECK_STR(output("out"), "");
    /* backup reads `in` itself and gets out's payloads: every record twice */
    const char *backup = output("backup");
    CHECK(count_lines(backup) == 60);
    for (int i = 1; i <= 30; i++) {
        char line[32];
        snprintf(line, sizeof line, "{\"n\":%d}\n", i);
        CHECK(count_of(backup, line) == 2);
    }
    CHECK_STR(dlq(), "");
    sl_buf_free(&s);
    free(input);
}

/* breaker.failures 2: attempts 1 and 2 open it, the next attempts wait for
 * the cooldown and are half-open probes, the fourth one succeeds. */
static struct {
    sl_pipeline *p;
    volatile bool done;
    char seen[64];                 /* breaker states in the order observed */
    size_t n_seen;
} monitor;

/* Notes the breaker state of sink `out` when it differs from the last one. */
static void sample_breaker(sl_buf *m) {
    static const char label[] = "sluice_sink_breaker_state{component=\"out\"} ";
    m->len = 0;
    sl_pipeline_prometheus(monitor.p, m);
    sl_buf_putc(m, 0);
    const char *at = strstr(m->data, label);
    if (!at) return;
    char state = at[strlen(label)];
    if ((monitor.n_seen == 0 || monitor.seen[monitor.n_seen - 1] != state) && monitor.n_seen + 1 < sizeof monitor.seen)
        monitor.seen[monitor.n_seen++] = state;
}

static void *watch_breaker(void *arg) {
    sl_buf m;
    sl_buf_init(&m);
    while (!monitor.done) {
        sample_breaker(&m);
        sleep_ms(1);
    }
    sample_breaker(&m);   /* the state the run ended with */
    sl_buf_free(&m);
    return NULL;
}

static void test_breaker_opens_half_opens_and_closes(void) {
    char *input = numbered(5);
    flaky_plan("out", 3);
    write_delay_ms = 20;             /* so that the half-open probe is visible */
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, input, 1, 5);
    sl_buf_puts(&yaml, "sinks:\n");
    flaky_sink(&yaml, "out", "    retry: {initial: 1ms, max: 1ms, max_attempts: 0}\n"
                             "    breaker: {failures: 2, cooldown: 200ms}\n");
    sl_pipeline *p = build_config(yaml.data);
    CHECK(p != NULL);
    if (p) {
        memset(&monitor, 0, sizeof monitor);
        monitor.p = p;
        pthread_t t;
        pthread_create(&t, NULL, watch_breaker, NULL);
        CHECK(run_pipeline(p) == 0);
        monitor.done = true;
        pthread_join(t, NULL);
        monitor.seen[monitor.n_seen] = 0;
        CHECK_STR(monitor.seen, "012120");   /* closed, open, probe fails, open, probe succeeds */
        CHECK(flaky_attempts("out") == 4);
        /* no write while open: probes come a cooldown after the failure */
        CHECK(flaky_attempt_ms("out", 2) - flaky_attempt_ms("out", 1) >= 200);
        CHECK(flaky_attempt_ms("out", 3) - flaky_attempt_ms("out", 2) >= 200);
        CHECK_STR(output("out"), input);
        CHECK_STR(dlq(), "");
        CHECK_CONTAINS(metrics_output(), "sluice_sink_retries_total{component=\"out\"} 3\n");
        sl_pipeline_free(p);
    }
    write_delay_ms = 0;
    sl_buf_free(&yaml);
    free(input);
}

/* A payload that arrives while the breaker is open goes to the DLQ without
 * a write: a sink that is down does not hold the pipeline back. */
static void test_open_breaker_fails_fast(void) {
    char *input = numbered(8);
    flaky_plan("out", -1);
    sl_buf s;
    sl_buf_init(&s);
    flaky_sink(&s, "out", "    retry: {initial: 1ms, max: 1ms, max_attempts: 2}\n"
                          "    breaker: {failures: 2, cooldown: 30s}\n");
    int64_t t0 = sl_monotonic_ns();
    CHECK(run_sinks(s.data, input, 2) == 0);
    CHECK(sl_monotonic_ns() - t0 < 10 * 1000000000LL);
    CHECK(flaky_attempts("out") == 2);
    CHECK(count_lines(dlq()) == 8);
    CHECK(count_of(dlq(), "sink_failed: write failed 2 times: disk on fire\n") == 2);
    CHECK(count_of(dlq(), "sink_failed: circuit breaker open (last error: disk on fire)\n") == 6);
    CHECK_CONTAINS(metrics_output(), "sluice_sink_breaker_state{component=\"out\"} 1\n");
    sl_buf_free(&s);
    free(input);
}

static void *stop_later(void *arg) {
    sleep_ms(300);
    sl_pipeline_stop(arg);
    return NULL;
}

/* Retrying forever, a stop request ends the wait: the payloads go to the
 * DLQ, none is lost, and the run ends. */
static void test_stop_ends_retrying(void) {
    char *input = numbered(12);
    flaky_plan("out", -1);
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, input, 1, 3);
    sl_buf_puts(&yaml, "sinks:\n");
    flaky_sink(&yaml, "out", "    retry: {initial: 50ms, max: 10s, max_attempts: 0}\n    breaker: {failures: 0}\n");
    sl_pipeline *p = build_config(yaml.data);
    CHECK(p != NULL);
    if (p) {
        pthread_t t;
        pthread_create(&t, NULL, stop_later, p);
        CHECK(run_pipeline(p) == 0);
        pthread_join(t, NULL);
        CHECK(count_lines(dlq()) == 12);
        CHECK(count_of(dlq(), "and the pipeline is stopping: disk on fire\n") == 12);
        sl_pipeline_free(p);
    }
    sl_buf_free(&yaml);
    free(input);
}

static void test_option_errors(void) {
    check_build_error(SINK_OUT("in") "    retry: {intial: 1s}\n",
                      ":13: error: unknown option 'retry.intial'; did you mean 'retry.initial'?");
    check_prefix(diag_output(), "test.yaml:");   /* line:column of the key (the line depends on the harness) */
    check_build_error(SINK_OUT("in") "    on_failure: retry\n",
                      "error: option 'on_failure' must be one of dlq, fail, found 'retry'");
    check_build_error(SINK_OUT("in") "    retry: {initial: 2s, max: 1s}\n",
                      "error: retry.max must be at least retry.initial");
    check_build_error(SINK_OUT("in") "    retry: {max_attempts: -1}\n",
                      "error: retry.max_attempts must be 0 (forever) or a positive number of attempts");
    check_build_error(SINK_OUT("in") "    buffer: {max_bytes: 1GiB}\n",
                      "error: 'buffer' is not implemented yet in this version of sluice");
    check_build_error(SINK_OUT("in") "    fallback: nowhere\n",
                      ":15: error: fallback 'nowhere' is not a sink of this pipeline");
    check_prefix(diag_output(), "test.yaml:");
    check_build_error(SINK_OUT("in") "    fallback: out\n", "error: sink 'out' cannot be its own fallback");
    check_build_error(SINK_OUT("in") "    fallback: b\n"
                                     "  b:\n    type: flaky\n    inputs: [in]\n",
                      "error: fallback sink 'b' is of type flaky but 'out' is of type capture");
    check_build_error("sinks:\n  a:\n    type: flaky\n    inputs: [in]\n    fallback: b\n"
                      "  b:\n    type: flaky\n    inputs: [in]\n    fallback: a\n",
                      "error: the fallbacks of sink 'a' lead back to it (a cycle)");
    check_build_error("sinks:\n  a:\n    type: flaky\n    inputs: [in]\n    fallback: b\n    on_failure: fail\n"
                      "  b:\n    type: flaky\n    inputs: [in]\n",
                      "error: sink 'a' has both a fallback and on_failure: fail");
}

/* The real file sink: a fallback must encode the same way. */
static void test_file_fallback_checks(void) {
    add_test_type(&sl_sink_file_type);
    check_build_error("sinks:\n  a:\n    type: file\n    inputs: [in]\n    path: x/a.jsonl\n    fallback: b\n"
                      "  b:\n    type: file\n    inputs: [in]\n    path: y/b.jsonl\n    format: csv\n",
                      "error: fallback sink 'b' must encode like 'a' (it receives its encoded payloads), "
                      "but their option 'format' differs");
    check_build_error("sinks:\n  a:\n    type: file\n    inputs: [in]\n    path: x/a.jsonl.gz\n    fallback: b\n"
                      "  b:\n    type: file\n    inputs: [in]\n    path: y/b.jsonl\n",
                      "error: fallback sink 'b' must have the same file extension as 'a' ('.jsonl' vs '.gz')");
    check_build_error("sinks:\n  a:\n    type: file\n    inputs: [in]\n    path: \"x/{{ .k }}.jsonl\"\n"
                      "    fallback: b\n  b:\n    type: file\n    inputs: [in]\n    path: y/b.jsonl\n",
                      "error: 'a' and its fallback 'b' must have plain paths, not templates");
}

int main(void) {
    add_test_type(&flaky_type);
    add_test_type(&split_type);
    RUN(test_retries_then_success);
    RUN(test_retry_resumes_at_the_failed_part);
    RUN(test_permanent_failure_goes_to_dlq);
    RUN(test_on_failure_fail_stops_the_run);
    RUN(test_fallback_receives_what_the_primary_gives_up);
    RUN(test_breaker_opens_half_opens_and_closes);
    RUN(test_open_breaker_fails_fast);
    RUN(test_stop_ends_retrying);
    RUN(test_option_errors);
    RUN(test_file_fallback_checks);
    reset();
    for (int i = 0; i < n_captures; i++) sl_buf_free(&captures[i].text);
    return check_report();
}
