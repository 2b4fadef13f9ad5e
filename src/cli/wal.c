/* wal.c — `sluice wal inspect|verify DIR`: looks inside a write-ahead log
 * without changing it: every segment with its first sequence number, record
 * count, size and state. `verify` exits 1 when any segment is damaged (a torn
 * tail, a corrupt record, a bad header), which `sluice run` would repair or
 * quarantine on start.
 *
 * `sluice wal bench DIR` measures what the log costs on this disk: threads
 * append N records of B bytes under one sync policy, then it prints records/s,
 * MB/s and the fsyncs with their latency (sl_wal_get_stats). It writes only
 * into a new or WAL-free directory, and removes the log when it made DIR.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/util.h"
#include "../core/wal.h"
#include "cli.h"

static int inspect(const char *dir, bool verify)
{
    sl_error err;
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(dir, &info, &err);
    if (n < 0) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    uint64_t records = 0, bytes = 0;
    int damaged = 0;
    if (!verify)
        printf("%-26s %20s %10s %12s  %s\n", "segment", "first seq", "records", "bytes", "state");
    for (int i = 0; i < n; i++) {
        const sl_wal_scan *s = &info[i].scan;
        records += s->records;
        bytes += info[i].bytes;
        bool ok = s->status == SL_WAL_SCAN_OK;
        damaged += !ok;
        char state[160];
        if (ok)
            snprintf(state, sizeof state, "ok");
        else
            snprintf(state, sizeof state, "%s at byte %" PRIu64 " (%" PRIu64 " bytes after it)%s",
                     sl_wal_scan_status_name(s->status), s->valid_bytes, info[i].bytes - s->valid_bytes,
                     i + 1 == n ? ": a torn tail, truncated on the next start"
                                : ": quarantined on the next start, records before it kept");
        if (!verify || !ok)
            printf("%-26s %20" PRIu64 " %10" PRIu64 " %12" PRIu64 "  %s\n", info[i].name, s->first_seq,
                   s->records, info[i].bytes, state);
    }
    char size[32];
    sl_format_size(size, bytes);
    printf("%s: %d segment%s, %" PRIu64 " valid records, %s; %d damaged\n", dir, n, n == 1 ? "" : "s",
           records, size, damaged);
    free(info);
    return verify && damaged ? SL_EXIT_FAILED : SL_EXIT_OK;
}

/* ---- bench ---- */

#define BENCH_MAX_THREADS 4096
#define BENCH_THREAD_STACK (256u << 10)

typedef struct bench_appender {
    sl_wal *wal;
    const unsigned char *payload;
    size_t payload_bytes;
    uint64_t records;
    int failed;
    sl_error err;
} bench_appender;

static void *bench_append(void *arg)
{
    bench_appender *a = arg;
    for (uint64_t i = 0; i < a->records; i++) {
        if (sl_wal_append(a->wal, a->payload, a->payload_bytes, NULL, &a->err) < 0) {
            a->failed = 1;
            break;
        }
    }
    return NULL;
}

/* A whole decimal number in [min, max]. */
static bool parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    sl_value v;
    if (sl_parse_integer(s, strlen(s), &v) != 0 || v.type != SL_INT || v.as.i < 0)
        return false;
    *out = (uint64_t)v.as.i;
    return *out >= min && *out <= max;
}

/* "always", "os" or "group_commit_ms:N". */
static bool parse_sync(const char *s, sl_wal_options *o)
{
    static const char group[] = "group_commit_ms:";
    uint64_t ms;
    if (strcmp(s, "always") == 0)
        o->sync = SL_WAL_SYNC_ALWAYS;
    else if (strcmp(s, "os") == 0)
        o->sync = SL_WAL_SYNC_OS;
    else if (strncmp(s, group, sizeof group - 1) == 0 && parse_count(s + sizeof group - 1, 1, 60000, &ms)) {
        o->sync = SL_WAL_SYNC_GROUP;
        o->group_commit_ms = (unsigned)ms;
    } else {
        return false;
    }
    return true;
}

/* Removes the segments of the log the bench wrote into dir, then dir. */
static int remove_log(const char *dir, sl_error *err)
{
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(dir, &info, err);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, info[i].name);
        if (unlink(path) < 0 && errno != ENOENT) {
            free(info);
            return sl_errorf(err, "cannot remove %s: %s", path, strerror(errno));
        }
    }
    free(info);
    if (rmdir(dir) < 0)
        return sl_errorf(err, "cannot remove %s: %s", dir, strerror(errno));
    return 0;
}

/* Makes dir if it does not exist (*created tells); refuses one holding a log. */
static int prepare_dir(const char *dir, bool *created)
{
    struct stat st;
    *created = false;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return sl_cli_usage_error("wal", "'%s' is not a directory", dir);
        sl_error err;
        sl_wal_segment_info *info;
        int n = sl_wal_inspect(dir, &info, &err);
        if (n < 0) {
            fprintf(stderr, "sluice: %s\n", err.msg);
            return SL_EXIT_USAGE;
        }
        free(info);
        if (n > 0) {
            fprintf(stderr, "sluice: %s already holds %d WAL segment%s; 'wal bench' appends to a new or "
                            "empty directory only, so that it cannot add to a real log\n",
                    dir, n, n == 1 ? "" : "s");
            return SL_EXIT_USAGE;
        }
        return 0;
    }
    if (errno != ENOENT || mkdir(dir, 0755) < 0) {
        fprintf(stderr, "sluice: cannot create %s: %s\n", dir,
                errno == ENOENT ? "its parent directory does not exist" : strerror(errno));
        return SL_EXIT_USAGE;
    }
    *created = true;
    return 0;
}

/* Runs the appenders; returns the wall time in ns, or -1 after printing why. */
static int64_t run_appenders(sl_wal *w, uint64_t records, size_t record_bytes, unsigned threads)
{
    unsigned char *payload = malloc(record_bytes ? record_bytes : 1);
    bench_appender *a = calloc(threads, sizeof *a);
    pthread_t *t = calloc(threads, sizeof *t);
    if (!payload || !a || !t)
        abort();
    for (size_t i = 0; i < record_bytes; i++)
        payload[i] = (unsigned char)('a' + i % 26);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, BENCH_THREAD_STACK);
    int64_t started = sl_monotonic_ns();
    unsigned running = 0;
    for (; running < threads; running++) {
        a[running] = (bench_appender){.wal = w, .payload = payload, .payload_bytes = record_bytes,
                                      .records = records / threads + (running < records % threads)};
        if (pthread_create(&t[running], &attr, bench_append, &a[running]) != 0)
            break;
    }
    int failed = running < threads ? -1 : 0;
    if (failed)
        fprintf(stderr, "sluice: could only start %u of %u threads; try fewer --threads\n", running, threads);
    for (unsigned i = 0; i < running; i++) {
        pthread_join(t[i], NULL);
        if (a[i].failed && !failed) {
            fprintf(stderr, "sluice: %s\n", a[i].err.msg);
            failed = -1;
        }
    }
    int64_t took = sl_monotonic_ns() - started;
    pthread_attr_destroy(&attr);
    free(t);
    free(a);
    free(payload);
    return failed ? -1 : took;
}

static void print_bench(const char *sync, unsigned threads, size_t record_bytes, int64_t ns,
                        const sl_wal_stats *s)
{
    double secs = (double)ns / 1e9;
    printf("%-20s %7s %9s %8s %8s %10s %8s %8s %12s %12s %12s\n", "sync", "threads", "records", "record B",
           "seconds", "records/s", "MB/s", "fsyncs", "fsync p50 ms", "fsync p99 ms", "fsync max ms");
    printf("%-20s %7u %9" PRIu64 " %8zu %8.3f %10.0f %8.2f %8" PRIu64 " %12.3f %12.3f %12.3f\n", sync, threads,
           s->records, record_bytes, secs, (double)s->records / secs, (double)s->bytes / 1e6 / secs, s->fsyncs,
           (double)s->fsync_p50_ns / 1e6, (double)s->fsync_p99_ns / 1e6, (double)s->fsync_max_ns / 1e6);
}

static int bench(int argc, char **argv)
{
    const char *sync = "group_commit_ms:10", *records_arg = "20000", *bytes_arg = "256", *threads_arg = "64";
    const char *dir = NULL;
    static const char *const names[] = {"--sync", "--records", "--record-bytes", "--threads"};
    const char **values[] = {&sync, &records_arg, &bytes_arg, &threads_arg};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            sl_cli_command_help("wal", stdout);
            return SL_EXIT_OK;
        }
        if (argv[i][0] != '-') {
            if (dir)
                return sl_cli_usage_error("wal", "'wal bench' takes one directory, got '%s' and '%s'", dir, argv[i]);
            dir = argv[i];
            continue;
        }
        const char *eq = strchr(argv[i], '=');
        size_t len = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        size_t k = 0;
        while (k < 4 && (strlen(names[k]) != len || strncmp(names[k], argv[i], len) != 0))
            k++;
        if (k == 4)
            return sl_cli_usage_error("wal", "unknown flag '%.*s' for 'wal bench'", (int)len, argv[i]);
        if (eq)
            *values[k] = eq + 1;
        else if (i + 1 < argc)
            *values[k] = argv[++i];
        else
            return sl_cli_usage_error("wal", "flag '%s' needs a value", names[k]);
    }
    if (!dir)
        return sl_cli_usage_error("wal", "'wal bench' needs a directory to write into, e.g. 'sluice wal bench /tmp/walbench'");
    sl_wal_options opts = {0};
    uint64_t records, record_bytes, threads;
    if (!parse_sync(sync, &opts))
        return sl_cli_usage_error("wal", "--sync must be always, os or group_commit_ms:N (N in 1..60000), not '%s'", sync);
    if (!parse_count(records_arg, 1, UINT64_MAX >> 1, &records))
        return sl_cli_usage_error("wal", "--records must be a whole number >= 1, not '%s'", records_arg);
    if (!sl_parse_size(bytes_arg, &record_bytes) || record_bytes > SL_WAL_MAX_RECORD)
        return sl_cli_usage_error("wal", "--record-bytes must be a size up to %u (e.g. 256, 4k), not '%s'",
                                  SL_WAL_MAX_RECORD, bytes_arg);
    if (!parse_count(threads_arg, 1, BENCH_MAX_THREADS, &threads))
        return sl_cli_usage_error("wal", "--threads must be a whole number in 1..%d, not '%s'", BENCH_MAX_THREADS,
                                  threads_arg);
    if (threads > records)
        threads = records;

    bool created;
    int rc = prepare_dir(dir, &created);
    if (rc != 0)
        return rc;
    sl_error err;
    sl_wal *w = sl_wal_open(dir, &opts, NULL, &err);
    if (!w) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        if (created)
            rmdir(dir);
        return SL_EXIT_FAILED;
    }
    int64_t ns = run_appenders(w, records, (size_t)record_bytes, (unsigned)threads);
    sl_wal_stats stats;
    sl_wal_get_stats(w, &stats);     /* before close, whose final sync is not the policy's */
    rc = ns < 0 ? SL_EXIT_FAILED : SL_EXIT_OK;
    if (sl_wal_close(w, &err) < 0) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        rc = SL_EXIT_FAILED;
    }
    if (rc == SL_EXIT_OK)
        print_bench(sync, (unsigned)threads, (size_t)record_bytes, ns, &stats);
    if (created && remove_log(dir, &err) < 0) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        rc = SL_EXIT_FAILED;
    } else if (!created) {
        fprintf(stderr, "sluice: the log written is left in %s (the directory existed before)\n", dir);
    }
    return rc;
}

int sl_cmd_wal(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        sl_cli_command_help("wal", stdout);
        return SL_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "bench") == 0)
        return bench(argc, argv);
    if (argc != 3 || (strcmp(argv[1], "inspect") != 0 && strcmp(argv[1], "verify") != 0))
        return sl_cli_usage_error("wal", "expected 'wal inspect DIR', 'wal verify DIR' or 'wal bench [FLAGS] DIR'");
    return inspect(argv[2], strcmp(argv[1], "verify") == 0);
}
