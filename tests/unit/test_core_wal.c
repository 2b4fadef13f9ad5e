/* test_core_wal.c — the write-ahead log and CRC-32C: round trips under each
 * sync policy, segment rolling and release, recovery from a torn tail cut at
 * every byte of the last record, from bit flips in an older segment, from a
 * half-created segment, and concurrent appenders; the statistics (records,
 * bytes, fsyncs, unsynced bytes) under each sync policy.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/crc32c.h"
#include "core/wal.h"

static char dir[256];

static void fresh_dir(void)
{
    char cmd[300];
    if (dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
    snprintf(dir, sizeof dir, "/tmp/sluice-wal-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void record_text(char *out, size_t cap, uint64_t i)
{
    snprintf(out, cap, "record %llu %.*s", (unsigned long long)i, (int)(i % 50), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

/* Reads the whole log and checks records from..to-1 are there, in order. */
static void check_contents(uint64_t from, uint64_t to)
{
    sl_error err;
    sl_wal_reader *r = sl_wal_reader_open(dir, from, &err);
    CHECK(r != NULL);
    uint64_t seq, want = from;
    const void *p;
    size_t n;
    int rc;
    bool ok = true;
    while ((rc = sl_wal_reader_next(r, &seq, &p, &n, &err)) == 1) {
        char text[128];
        record_text(text, sizeof text, want);
        if (seq != want || n != strlen(text) || memcmp(p, text, n) != 0)
            ok = false;
        want++;
    }
    CHECK(rc == 0);
    CHECK(ok);
    CHECK_INT(want, to);
    sl_wal_reader_close(r);
}

static void append_range(sl_wal *w, uint64_t from, uint64_t to)
{
    sl_error err;
    bool ok = true;
    for (uint64_t i = from; i < to; i++) {
        char text[128];
        record_text(text, sizeof text, i);
        uint64_t seq;
        if (sl_wal_append(w, text, strlen(text), &seq, &err) < 0 || seq != i)
            ok = false;
    }
    CHECK(ok);
}

static void test_crc32c_vectors(void)
{
    unsigned char zeros[32] = {0}, ones[32], inc[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++)
        inc[i] = (unsigned char)i;
    /* RFC 3720, appendix B.4, and the common check value. */
    CHECK_INT(sl_crc32c(0, zeros, 32), 0x8a9136aa);
    CHECK_INT(sl_crc32c(0, ones, 32), 0x62a8ab43);
    CHECK_INT(sl_crc32c(0, inc, 32), 0x46dd794e);
    CHECK_INT(sl_crc32c(0, "123456789", 9), 0xe3069283);
    CHECK_INT(sl_crc32c_portable(0, inc, 32), 0x46dd794e);
    CHECK_INT(sl_crc32c_portable(0, "123456789", 9), 0xe3069283);
    /* Incremental equals one-shot. */
    CHECK_INT(sl_crc32c(sl_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}

/* Long buffers go through three lanes joined by table (crc32c.c): the same
 * results as the portable path, at every length around the lane sizes, from
 * odd offsets, and continued from a nonzero crc. */
static void test_crc32c_long_buffers(void)
{
    enum { N = 3 * 3 * 4096 + 64 };
    static unsigned char buf[N + 8];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    static const size_t lens[] = {12287, 12288, 12289, 12295, 12296, 24575, 24576, 24583, 36863, 36864, N};
    bool same = true;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
        for (size_t off = 0; off < 8; off += 3) {
            same &= sl_crc32c(0, buf + off, lens[k]) == sl_crc32c_portable(0, buf + off, lens[k]);
            same &= sl_crc32c(0x12345678, buf + off, lens[k]) == sl_crc32c_portable(0x12345678, buf + off, lens[k]);
        }
    CHECK(same);
    memset(buf, 0, N);
    CHECK_INT(sl_crc32c(0, buf, N), sl_crc32c_portable(0, buf, N));
    /* one long buffer equals its pieces */
    CHECK_INT(sl_crc32c(sl_crc32c(0, buf + 8, 20000), buf + 20008, N - 20000), sl_crc32c(0, buf + 8, N));
}

static void test_round_trip_each_policy(void)
{
    sl_wal_sync_policy policies[] = {SL_WAL_SYNC_ALWAYS, SL_WAL_SYNC_GROUP, SL_WAL_SYNC_OS};
    for (size_t k = 0; k < 3; k++) {
        fresh_dir();
        sl_error err;
        sl_wal_options o = {.sync = policies[k], .group_commit_ms = 2};
        sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
        CHECK(w != NULL);
        append_range(w, 0, 300);
        CHECK(sl_wal_close(w, &err) == 0);
        check_contents(0, 300);
        check_contents(123, 300);
        /* Reopening continues the sequence. */
        sl_wal_recovery rec;
        w = sl_wal_open(dir, &o, &rec, &err);
        CHECK(w != NULL);
        CHECK_INT(rec.records, 300);
        CHECK_INT(rec.torn_bytes, 0);
        CHECK_STR(rec.first_problem, "");
        CHECK_INT(sl_wal_next_seq(w), 300);
        append_range(w, 300, 310);
        CHECK(sl_wal_close(w, &err) == 0);
        check_contents(0, 310);
    }
}

static void test_roll_and_release(void)
{
    fresh_dir();
    sl_error err;
    sl_wal_options o = {.sync = SL_WAL_SYNC_OS, .segment_bytes = 1024};
    sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
    append_range(w, 0, 200);
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(dir, &info, &err);
    CHECK(n > 10);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        CHECK(info[i].scan.status == SL_WAL_SCAN_OK);
        CHECK(info[i].bytes <= 1024);
        total += info[i].scan.records;
    }
    CHECK_INT(total, 200);
    /* Release everything up to 99: only segments wholly <= 99 go. */
    uint64_t second_first = info[1].scan.first_seq;
    free(info);
    int deleted = sl_wal_release(w, 99, &err);
    CHECK(deleted > 0);
    n = sl_wal_inspect(dir, &info, &err);
    CHECK(info[0].scan.first_seq <= 100);
    CHECK(info[0].scan.first_seq >= second_first);
    free(info);
    /* Releasing everything keeps the segment being written. */
    CHECK(sl_wal_release(w, 1000, &err) >= 0);
    n = sl_wal_inspect(dir, &info, &err);
    CHECK_INT(n, 1);
    free(info);
    append_range(w, 200, 205);
    CHECK(sl_wal_close(w, &err) == 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void newest_segment(char *path, size_t cap)
{
    sl_wal_segment_info *info;
    sl_error err;
    int n = sl_wal_inspect(dir, &info, &err);
    snprintf(path, cap, "%s/%s", dir, info[n - 1].name);
    free(info);
}

static void test_torn_tail_at_every_byte(void)
{
    /* Build a log, remember the newest segment's bytes, then for every cut
     * inside the last record: restore, cut, open, check. */
    fresh_dir();
    sl_error err;
    sl_wal_options o = {.sync = SL_WAL_SYNC_OS};
    sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
    append_range(w, 0, 20);
    sl_wal_close(w, &err);
    char path[512];
    newest_segment(path, sizeof path);
    off_t full = file_size(path);
    char last[128];
    record_text(last, sizeof last, 19);
    off_t last_start = full - (off_t)(SL_WAL_RECORD_OVERHEAD + strlen(last));
    FILE *f = fopen(path, "rb");
    char *saved = malloc((size_t)full);
    CHECK(fread(saved, 1, (size_t)full, f) == (size_t)full);
    fclose(f);
    bool all_ok = true;
    for (off_t cut = last_start; cut < full; cut++) {
        f = fopen(path, "wb");
        fwrite(saved, 1, (size_t)cut, f);
        fclose(f);
        sl_wal_recovery rec;
        w = sl_wal_open(dir, &o, &rec, &err);
        if (!w || rec.records != 19 || rec.torn_bytes != (uint64_t)(cut - last_start) ||
            (cut > last_start && rec.first_problem[0] == '\0') || sl_wal_next_seq(w) != 19) {
            all_ok = false;
            fprintf(stderr, "cut at %lld: records %llu torn %llu\n", (long long)cut,
                    (unsigned long long)rec.records, (unsigned long long)rec.torn_bytes);
        }
        if (w)
            sl_wal_close(w, &err);
        if (file_size(path) != last_start)
            all_ok = false;
    }
    CHECK(all_ok);
    check_contents(0, 19);
    /* And the log goes on after recovery. */
    w = sl_wal_open(dir, &o, NULL, &err);
    append_range(w, 19, 25);
    sl_wal_close(w, &err);
    check_contents(0, 25);
    free(saved);
}

static void test_bit_flip_in_older_segment(void)
{
    fresh_dir();
    sl_error err;
    sl_wal_options o = {.sync = SL_WAL_SYNC_OS, .segment_bytes = 2048};
    sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
    append_range(w, 0, 150);
    sl_wal_close(w, &err);
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(dir, &info, &err);
    CHECK(n >= 3);
    /* Flip a byte in the middle of the second segment's payload area. */
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, info[1].name);
    uint64_t seg_first = info[1].scan.first_seq, seg_records = info[1].scan.records;
    uint64_t bytes = info[1].bytes;
    free(info);
    int fd = open(path, O_RDWR);
    off_t at = (off_t)(bytes / 2);
    unsigned char c;
    CHECK(pread(fd, &c, 1, at) == 1);
    c ^= 0x10;
    CHECK(pwrite(fd, &c, 1, at) == 1);
    close(fd);

    sl_wal_recovery rec;
    w = sl_wal_open(dir, &o, &rec, &err);
    CHECK(w != NULL);
    CHECK_INT(rec.quarantined, 1);
    CHECK(rec.lost_bytes > 0);
    CHECK(strstr(rec.first_problem, "corrupt record") != NULL);
    CHECK(rec.records > 150 - seg_records);           /* the salvaged prefix counts */
    CHECK_INT(sl_wal_next_seq(w), 150);
    sl_wal_close(w, &err);
    /* Quarantine holds the original; the salvaged prefix and later segments read back. */
    char q[512];
    snprintf(q, sizeof q, "ls %s/quarantine | grep -q wal", dir);
    CHECK(system(q) == 0);
    sl_wal_reader *r = sl_wal_reader_open(dir, 0, &err);
    uint64_t seq, count = 0, prev = 0;
    const void *p;
    size_t len;
    bool gap_only_inside_damaged = true;
    while (sl_wal_reader_next(r, &seq, &p, &len, &err) == 1) {
        if (count && seq != prev + 1 && !(prev >= seg_first && seq == seg_first + seg_records))
            gap_only_inside_damaged = false;
        prev = seq;
        count++;
    }
    sl_wal_reader_close(r);
    CHECK(gap_only_inside_damaged);
    CHECK(count < 150 && count >= 150 - seg_records);
    CHECK_INT(prev, 149);
}

static void test_half_created_segment(void)
{
    fresh_dir();
    sl_error err;
    sl_wal_options o = {.sync = SL_WAL_SYNC_OS};
    sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
    append_range(w, 0, 5);
    sl_wal_close(w, &err);
    /* A crash right after creating the next segment, before its header. */
    char path[512];
    snprintf(path, sizeof path, "%s/%020d.wal", dir, 5);
    FILE *f = fopen(path, "wb");
    fwrite("SLW", 1, 3, f);
    fclose(f);
    sl_wal_recovery rec;
    w = sl_wal_open(dir, &o, &rec, &err);
    CHECK(w != NULL);
    CHECK_INT(rec.torn_bytes, 3);
    CHECK_INT(rec.quarantined, 0);
    append_range(w, 5, 8);
    sl_wal_close(w, &err);
    check_contents(0, 8);
}

typedef struct {
    sl_wal *w;
    int id;
    int ok;
} appender;

static void *append_many(void *arg)
{
    appender *a = arg;
    sl_error err;
    a->ok = 1;
    for (int i = 0; i < 200; i++) {
        char text[64];
        int n = snprintf(text, sizeof text, "t%d-%d", a->id, i);
        if (sl_wal_append(a->w, text, (size_t)n, NULL, &err) < 0)
            a->ok = 0;
    }
    return NULL;
}

static void test_concurrent_appenders(void)
{
    sl_wal_sync_policy policies[] = {SL_WAL_SYNC_ALWAYS, SL_WAL_SYNC_GROUP};
    for (int k = 0; k < 2; k++) {
        fresh_dir();
        sl_error err;
        sl_wal_options o = {.sync = policies[k], .group_commit_ms = 1, .segment_bytes = 4096};
        sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
        pthread_t t[4];
        appender a[4];
        for (int i = 0; i < 4; i++) {
            a[i] = (appender){w, i, 0};
            pthread_create(&t[i], NULL, append_many, &a[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            CHECK(a[i].ok);
        }
        CHECK(sl_wal_close(w, &err) == 0);
        sl_wal_reader *r = sl_wal_reader_open(dir, 0, &err);
        uint64_t seq, count = 0;
        const void *p;
        size_t n;
        int per_thread[4] = {0};
        while (sl_wal_reader_next(r, &seq, &p, &n, &err) == 1) {
            CHECK_INT(seq, count);
            count++;
            int id = ((const char *)p)[1] - '0';
            if (id >= 0 && id < 4)
                per_thread[id]++;
        }
        sl_wal_reader_close(r);
        CHECK_INT(count, 800);
        for (int i = 0; i < 4; i++)
            CHECK_INT(per_thread[i], 200);
    }
}

static void append_sized(sl_wal *w, uint64_t count, uint64_t *bytes)
{
    char payload[100];
    memset(payload, 'p', sizeof payload);
    sl_error err;
    bool ok = true;
    for (uint64_t i = 0; i < count; i++) {
        size_t n = (size_t)(i % sizeof payload);
        ok &= sl_wal_append(w, payload, n, NULL, &err) == 0;
        *bytes += n;
    }
    CHECK(ok);
}

static void check_latencies(const sl_wal_stats *s)
{
    CHECK(s->fsync_p50_ns > 0);
    CHECK(s->fsync_p50_ns <= s->fsync_p99_ns);
    CHECK(s->fsync_p99_ns <= s->fsync_max_ns);
}

static void test_stats_each_policy(void)
{
    sl_error err;
    sl_wal_stats s;
    uint64_t bytes = 0;

    /* ALWAYS, one appender: one fdatasync per record, nothing left unsynced. */
    fresh_dir();
    sl_wal_options always = {.sync = SL_WAL_SYNC_ALWAYS};
    sl_wal *w = sl_wal_open(dir, &always, NULL, &err);
    CHECK(w != NULL);
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 0);
    CHECK_INT(s.fsyncs, 0);
    CHECK_INT(s.fsync_p99_ns, 0);
    CHECK_INT(s.segments, 1);
    append_sized(w, 40, &bytes);
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 40);
    CHECK_INT(s.bytes, bytes);
    CHECK_INT(s.fsyncs, 40);
    CHECK_INT(s.unsynced_bytes, 0);
    check_latencies(&s);
    CHECK(sl_wal_close(w, &err) == 0);

    /* GROUP, one appender: each append waits for a sync of its own. */
    fresh_dir();
    bytes = 0;
    sl_wal_options group = {.sync = SL_WAL_SYNC_GROUP, .group_commit_ms = 1};
    w = sl_wal_open(dir, &group, NULL, &err);
    append_sized(w, 15, &bytes);
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 15);
    CHECK_INT(s.bytes, bytes);
    CHECK_INT(s.fsyncs, 15);
    CHECK_INT(s.unsynced_bytes, 0);
    check_latencies(&s);
    CHECK(sl_wal_close(w, &err) == 0);

    /* OS: no fdatasync until asked; then one covers everything. */
    fresh_dir();
    bytes = 0;
    sl_wal_options os = {.sync = SL_WAL_SYNC_OS};
    w = sl_wal_open(dir, &os, NULL, &err);
    append_sized(w, 30, &bytes);
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 30);
    CHECK_INT(s.bytes, bytes);
    CHECK_INT(s.fsyncs, 0);
    CHECK_INT(s.unsynced_bytes, bytes);
    CHECK(sl_wal_sync(w, &err) == 0);
    CHECK(sl_wal_sync(w, &err) == 0);             /* nothing new: no second fdatasync */
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.fsyncs, 1);
    CHECK_INT(s.unsynced_bytes, 0);
    check_latencies(&s);
    append_sized(w, 5, &bytes);
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 35);
    CHECK(s.unsynced_bytes > 0 && s.unsynced_bytes < bytes);
    CHECK(sl_wal_close(w, &err) == 0);

    /* OS with rolling: the only syncs are the ones sealing full segments. */
    fresh_dir();
    bytes = 0;
    sl_wal_options roll = {.sync = SL_WAL_SYNC_OS, .segment_bytes = 1024};
    w = sl_wal_open(dir, &roll, NULL, &err);
    append_sized(w, 200, &bytes);
    sl_wal_get_stats(w, &s);
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(dir, &info, &err);
    free(info);
    CHECK(n > 5);
    CHECK_INT(s.segments, n);
    CHECK_INT(s.fsyncs, n - 1);
    CHECK_INT(s.bytes, bytes);
    CHECK(sl_wal_close(w, &err) == 0);

    /* Counting starts again at open; the segments found are counted. */
    w = sl_wal_open(dir, &roll, NULL, &err);
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 0);
    CHECK_INT(s.fsyncs, 0);
    CHECK_INT(s.segments, n);
    CHECK(sl_wal_close(w, &err) == 0);
}

static void test_stats_concurrent_group_commit(void)
{
    /* Appenders waiting together share fdatasyncs: never more than records. */
    fresh_dir();
    sl_error err;
    sl_wal_options o = {.sync = SL_WAL_SYNC_GROUP, .group_commit_ms = 2};
    sl_wal *w = sl_wal_open(dir, &o, NULL, &err);
    pthread_t t[4];
    appender a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (appender){w, i, 0};
        pthread_create(&t[i], NULL, append_many, &a[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    sl_wal_stats s;
    sl_wal_get_stats(w, &s);
    CHECK_INT(s.records, 800);
    CHECK(s.fsyncs >= 1 && s.fsyncs <= 800);
    CHECK_INT(s.unsynced_bytes, 0);
    CHECK(sl_wal_close(w, &err) == 0);
}

int main(void)
{
    RUN(test_crc32c_vectors);
    RUN(test_crc32c_long_buffers);
    RUN(test_round_trip_each_policy);
    RUN(test_roll_and_release);
    RUN(test_torn_tail_at_every_byte);
    RUN(test_bit_flip_in_older_segment);
    RUN(test_half_created_segment);
    RUN(test_concurrent_appenders);
    RUN(test_stats_each_policy);
    RUN(test_stats_concurrent_group_commit);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_report();
}
