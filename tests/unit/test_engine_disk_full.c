/* test_engine_disk_full.c — a full disk loses nothing: a sink whose writes
 * fail with ENOSPC pauses and retries until space returns, outside the
 * retry budget, the breaker, the fallback and the DLQ (runtime/sink_retry.c),
 * and the DLQ keeps its entries in memory while its disk is full
 * (runtime/dlq.c). Sinks run in-process with a test-only `full` sink whose
 * disk is full for a chosen number of writes; the DLQ writes to /dev/full,
 * which fails every write with ENOSPC. The real file system case (a tmpfs
 * filled up, then space freed) is tests/integration/test_disk_full.py.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "check.h"
#include "core/util.h"
#include "runtime/dlq.h"
#include "transform_harness.h"

/* ---- the `full` sink: capture, but the disk is full for some writes ---- */

/* What the disk does at each write attempt: 'w' the write succeeds, 'F'
 * the disk is full; after the plan, writes succeed, or with `then_full`
 * the disk stays full. */
static struct {
    pthread_mutex_t lock;
    char plan[64];
    bool then_full;
    int attempts;
    int64_t at_ns[64];
} disk = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void disk_plan(const char *plan, bool then_full) {
    pthread_mutex_lock(&disk.lock);
    snprintf(disk.plan, sizeof disk.plan, "%s", plan);
    disk.then_full = then_full;
    disk.attempts = 0;
    pthread_mutex_unlock(&disk.lock);
}

static int full_write(sl_component *c, sl_payload *p, sl_error *err) {
    pthread_mutex_lock(&disk.lock);
    int k = disk.attempts++;
    if (k < 64) disk.at_ns[k] = sl_monotonic_ns();
    bool full = k < (int)strlen(disk.plan) ? disk.plan[k] == 'F' : disk.then_full;
    pthread_mutex_unlock(&disk.lock);
    if (full) {
        err->sys_errno = ENOSPC;
        return sl_errorf(err, "cannot write out.jsonl: %s", strerror(ENOSPC));
    }
    return capture_write(c, p, err);
}

static const sl_component_type full_type = {
    .name = "full", .kind = SL_SINK, .summary = "test output on a disk that fills up", .options = capture_options,
    .create = capture_create, .encode = capture_encode, .write = full_write, .flush = capture_flush,
};

/* ---- helpers ---- */

static char *numbered(int n) {
    sl_buf b;
    sl_buf_init(&b);
    for (int i = 1; i <= n; i++) sl_buf_printf(&b, "{\"n\":%d}\n", i);
    return b.data;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* The value of the Prometheus sample whose line starts with `series`, or
 * -1 when there is none. */
static long long sample(const char *text, const char *series) {
    for (const char *at = text; (at = strstr(at, series)); at++)
        if (at == text || at[-1] == '\n') return atoll(at + strlen(series));
    return -1;
}

/* ---- the sink pauses ---- */

/* Retry budget 2 attempts and a breaker opening at the first failure: had
 * the full disk counted as failures, the payload would have gone to the DLQ
 * and the breaker would be open. */
#define STRICT_RETRIES "    retry: {initial: 5ms, max: 20ms, max_attempts: 2}\n    breaker: {failures: 1, cooldown: 10s}\n"

static void test_pause_until_space_returns(void) {
    char *input = numbered(40);
    disk_plan("wFFFFFF", false);   /* the first payload is written, the second finds the disk full 6 times */
    CHECK(run_with("sinks:\n  out:\n    type: full\n    inputs: [in]\n" STRICT_RETRIES, input, 2, 10) == 0);
    CHECK_STR(output("out"), input);      /* in order, no loss, no duplicate */
    CHECK_STR(dlq(), "");
    CHECK_INT(disk.attempts, 4 + 6);
    const char *m = metrics_output();
    CHECK_INT(sample(m, "sluice_sink_disk_full{component=\"out\"} "), 0);
    CHECK_INT(sample(m, "sluice_sink_disk_full_pauses_total{component=\"out\"} "), 1);
    CHECK_INT(sample(m, "sluice_sink_breaker_state{component=\"out\"} "), 0);
    CHECK_INT(sample(m, "sluice_sink_retries_total{component=\"out\"} "), 6);
    CHECK_CONTAINS(m, "error_type=\"disk_full\"} 1\n");
    CHECK(strstr(m, "sink_write_failed") == NULL);
    CHECK_CONTAINS(m, "# TYPE sluice_sink_disk_full gauge\n");
    CHECK_CONTAINS(m, "# TYPE sluice_sink_disk_full_pauses_total counter\n");
    /* the waits double from retry.initial up to retry.max: 5, 10, 20, 20, 20, 20 ms */
    static const int64_t wait_ms[] = {5, 10, 20, 20, 20, 20};
    for (int k = 0; k < 6; k++) CHECK(disk.at_ns[k + 2] - disk.at_ns[k + 1] >= wait_ms[k] * 1000000);
    free(input);
}

/* Two separate pauses are counted as two. */
static void test_each_pause_is_counted(void) {
    char *input = numbered(30);
    disk_plan("FFwwFw", false);
    CHECK(run_with("sinks:\n  out:\n    type: full\n    inputs: [in]\n" STRICT_RETRIES, input, 1, 10) == 0);
    CHECK_STR(output("out"), input);
    CHECK_INT(disk.attempts, 6);
    CHECK_INT(sample(metrics_output(), "sluice_sink_disk_full_pauses_total{component=\"out\"} "), 2);
    CHECK_CONTAINS(metrics_output(), "error_type=\"disk_full\"} 2\n");
    free(input);
}

/* A fallback is not used for a full disk: the payload waits for space. */
static void test_full_disk_is_not_given_to_the_fallback(void) {
    char *input = numbered(20);
    disk_plan("FFF", false);
    CHECK(run_with("sinks:\n  out:\n    type: full\n    inputs: [in]\n" STRICT_RETRIES "    fallback: backup\n"
                   "  backup:\n    type: full\n",
                   input, 2, 5) == 0);
    CHECK_STR(output("out"), input);
    CHECK_STR(output("backup"), "");
    CHECK_STR(dlq(), "");
    free(input);
}

/* A stop request during the pause ends the run: nothing is written, nothing
 * goes to the DLQ, and the run fails so that no checkpoint covers the
 * records. */
static struct {
    sl_pipeline *p;
    long long gauge_before_stop;
} stopper;

static void *stop_when_paused(void *arg) {
    sl_buf m;
    sl_buf_init(&m);
    for (int i = 0; i < 500 && stopper.gauge_before_stop != 1; i++) {
        sleep_ms(5);
        m.len = 0;
        sl_pipeline_prometheus(stopper.p, &m);
        sl_buf_putc(&m, 0);
        stopper.gauge_before_stop = sample(m.data, "sluice_sink_disk_full{component=\"out\"} ");
    }
    sleep_ms(50);
    sl_pipeline_stop(stopper.p);
    sl_buf_free(&m);
    return NULL;
}

static void test_stop_while_paused(void) {
    char *input = numbered(12);
    disk_plan("", true);
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, input, 1, 3);
    sl_buf_puts(&yaml, "sinks:\n  out:\n    type: full\n    inputs: [in]\n    retry: {initial: 50ms, max: 10s}\n");
    sl_pipeline *p = build_config(yaml.data);
    CHECK(p != NULL);
    if (p) {
        stopper.p = p;
        stopper.gauge_before_stop = -1;
        pthread_t t;
        pthread_create(&t, NULL, stop_when_paused, NULL);
        int64_t t0 = sl_monotonic_ns();
        CHECK(run_pipeline(p) != 0);
        CHECK(sl_monotonic_ns() - t0 < 5 * 1000000000LL);
        pthread_join(t, NULL);
        CHECK_INT(stopper.gauge_before_stop, 1);
        check_prefix(run_error.msg, "sink 'out': stopped while the disk is full (cannot write out.jsonl: No space "
                                    "left on device): 3 records of this payload and any queued behind it were not "
                                    "written; no checkpoint covers them, so the next run reads them again");
        CHECK_STR(output("out"), "");
        CHECK_STR(dlq(), "");
        sl_pipeline_free(p);
    }
    sl_buf_free(&yaml);
    free(input);
}

/* ---- the DLQ keeps its entries ---- */

/* A DLQ directory whose dlq.jsonl is /dev/full: every write fails with
 * ENOSPC. */
static sl_dlq *dlq_on_full_disk(sl_metrics *m, const atomic_bool *stopping) {
    new_data_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/dlq.jsonl", data_dir);
    CHECK(symlink("/dev/full", path) == 0);
    return sl_dlq_new(data_dir, m, stopping);
}

static int write_entry(sl_dlq *d, const char *raw, size_t len, sl_error *err) {
    sl_dlq_entry e = {.component = "parse", .source = "in", .reason = "json_syntax", .message = "bad",
                      .raw = raw, .raw_len = len};
    return sl_dlq_write(d, &e, err);
}

static struct {
    sl_dlq *d;
    char raw[4096];
    atomic_int written;
    int rc;
    atomic_bool returned;
} writer;

/* Writes entries of 4 KiB until sl_dlq_write returns (it blocks once
 * 16 MiB wait). */
static void *write_until_blocked(void *arg) {
    sl_error err = {0};
    for (atomic_store(&writer.written, 0); atomic_load(&writer.written) < 10000; atomic_fetch_add(&writer.written, 1))
        if ((writer.rc = write_entry(writer.d, writer.raw, sizeof writer.raw, &err)) < 0) break;
    atomic_store(&writer.returned, true);
    return NULL;
}

static void test_dlq_keeps_entries_on_a_full_disk(void) {
    sl_metrics *m = sl_metrics_new();
    atomic_bool stopping = false;
    sl_dlq *d = dlq_on_full_disk(m, &stopping);
    sl_error err = {0};
    /* the first entry opens the file, whose write fails: kept, not an error */
    CHECK(write_entry(d, "{oops", 5, &err) == 0);
    CHECK(write_entry(d, "{oops again", 11, &err) == 0);
    CHECK_INT(sl_dlq_count(d), 2);
    sl_buf prom;
    sl_buf_init(&prom);
    sl_dlq_prometheus(d, &prom);
    sl_buf_putc(&prom, 0);
    CHECK_INT(sample(prom.data, "sluice_dlq_disk_full "), 1);
    CHECK_INT(sample(prom.data, "sluice_dlq_disk_full_pauses_total "), 1);
    CHECK_CONTAINS(prom.data, "# TYPE sluice_dlq_disk_full gauge\n");

    /* past 16 MiB waiting, writers block until a stop request */
    writer.d = d;
    memset(writer.raw, 'x', sizeof writer.raw);
    atomic_store(&writer.returned, false);
    pthread_t t;
    pthread_create(&t, NULL, write_until_blocked, NULL);
    /* until it stops making progress (16 MiB of ~4.2 KiB entries) */
    int64_t deadline = sl_monotonic_ns() + 10 * 1000000000LL;
    int before;
    do {
        before = atomic_load(&writer.written);
        sleep_ms(200);
    } while (sl_monotonic_ns() < deadline && (before == 0 || atomic_load(&writer.written) != before));
    CHECK(!atomic_load(&writer.returned));
    CHECK(before >= 16 * 1024 / 5 && before <= 16 * 1024 / 4);
    atomic_store(&stopping, true);
    pthread_join(t, NULL);
    CHECK_INT(writer.rc, -1);

    /* a flush while stopping does not wait either, and says what was not written */
    err.msg[0] = 0;
    CHECK(sl_dlq_flush(d, &err) == -1);
    check_prefix(err.msg, "stopped while the disk is full (cannot write DLQ file ");
    CHECK_CONTAINS(err.msg, "No space left on device): ");
    CHECK_CONTAINS(err.msg, "bytes of DLQ entries were not written; no checkpoint covers their records");
    CHECK(sl_error_disk_full(&err));
    sl_buf_free(&prom);
    sl_dlq_free(d);
    sl_metrics_free(m);
}

/* sl_dlq_flush waits while the disk is full. */
static void *stop_later(void *arg) {
    sleep_ms(300);
    atomic_store((atomic_bool *)arg, true);
    return NULL;
}

static void test_dlq_flush_waits_for_space(void) {
    sl_metrics *m = sl_metrics_new();
    atomic_bool stopping = false;
    sl_dlq *d = dlq_on_full_disk(m, &stopping);
    sl_error err = {0};
    CHECK(write_entry(d, "{oops", 5, &err) == 0);
    pthread_t t;
    pthread_create(&t, NULL, stop_later, &stopping);
    int64_t t0 = sl_monotonic_ns();
    CHECK(sl_dlq_flush(d, &err) == -1);
    CHECK(sl_monotonic_ns() - t0 >= 250 * 1000000LL);
    pthread_join(t, NULL);
    sl_dlq_free(d);
    sl_metrics_free(m);
}

int main(void) {
    add_test_type(&full_type);
    RUN(test_pause_until_space_returns);
    RUN(test_each_pause_is_counted);
    RUN(test_full_disk_is_not_given_to_the_fallback);
    RUN(test_stop_while_paused);
    RUN(test_dlq_keeps_entries_on_a_full_disk);
    RUN(test_dlq_flush_waits_for_space);
    reset();
    for (int i = 0; i < n_captures; i++) sl_buf_free(&captures[i].text);
    return check_report();
}
