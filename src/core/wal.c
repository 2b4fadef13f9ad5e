/* wal.c — the write-ahead log (see wal.h for the format and the promises).
 *
 * Appends go to the newest segment with one write(2) per record under a
 * mutex. Durability is tracked as two sequence marks: `next_seq` (written)
 * and `durable_seq` (covered by an fdatasync). A thread that needs its
 * record durable either syncs itself (ALWAYS; one thread syncs at a time and
 * a sync covers everything written before it, so concurrent appenders share
 * it) or waits for the group-commit thread (GROUP).
 *
 * Statistics (sl_wal_get_stats) are plain counters under the same mutex:
 * an append adds its record and bytes; each fdatasync of sync_locked is
 * timed into a log-linear histogram (histogram.h) while the lock is free.
 *
 * Recovery reads each segment through sl_wal_scan_segment, the same pure
 * function the fuzzer exercises, and repairs what it finds (wal.h).
 */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "histogram.h"
#include "util.h"

static const char MAGIC[8] = {'S', 'L', 'W', 'A', 'L', '0', '0', '1'};

#define DEFAULT_SEGMENT_BYTES (64ull << 20)
#define DEFAULT_GROUP_MS 10

struct sl_wal {
    char *dir;
    char *quarantine;
    sl_wal_options opts;
    pthread_mutex_t lock;
    pthread_cond_t changed;       /* durable_seq moved, a sync ended, closing */
    int fd;                       /* the newest segment, open for appending */
    uint64_t seg_bytes;           /* its size */
    uint64_t next_seq;            /* records below it are written */
    uint64_t durable_seq;         /* records below it are durable */
    bool syncing;                 /* a thread is in fdatasync */
    int sync_errno;               /* first failed sync: the log is unusable */
    bool closing;
    pthread_t flusher;
    bool has_flusher;
    uint64_t *segs;               /* first seq of every segment, ascending */
    size_t n_segs, cap_segs;
    uint64_t appended_records;    /* since open */
    uint64_t appended_bytes;      /* payload bytes since open */
    uint64_t durable_bytes;       /* appended_bytes covered by an fdatasync */
    sl_histogram fsync_ns;        /* latency of every fdatasync in sync_locked */
};

/* ---- little-endian fields ---- */

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- scanning ---- */

/* Checks the record at off; on success *n is its payload length. */
static sl_wal_scan_status check_record(const unsigned char *d, size_t len, size_t off, uint64_t expect,
                                       uint32_t *n)
{
    if (len - off < SL_WAL_RECORD_OVERHEAD)
        return SL_WAL_SCAN_TRUNCATED;
    *n = get32(d + off);
    if (*n > SL_WAL_MAX_RECORD)
        return SL_WAL_SCAN_CORRUPT;
    if (len - off - SL_WAL_RECORD_OVERHEAD < *n)
        return SL_WAL_SCAN_TRUNCATED;
    /* The checksum covers the sequence number and the payload, which are
     * contiguous, so a record moved or replayed elsewhere does not pass. */
    if (sl_crc32c(0, d + off + 8, 8 + (size_t)*n) != get32(d + off + 4))
        return SL_WAL_SCAN_CORRUPT;
    if (get64(d + off + 8) != expect)
        return SL_WAL_SCAN_CORRUPT;
    return SL_WAL_SCAN_OK;
}

sl_wal_scan sl_wal_scan_segment(const unsigned char *data, size_t len,
                                int (*fn)(void *arg, uint64_t seq, const void *p, size_t n), void *arg)
{
    sl_wal_scan s = {0};
    if (len < SL_WAL_HEADER_BYTES || memcmp(data, MAGIC, sizeof MAGIC) != 0) {
        s.status = SL_WAL_SCAN_BAD_HEADER;
        return s;
    }
    s.first_seq = s.next_seq = get64(data + 8);
    s.valid_bytes = SL_WAL_HEADER_BYTES;
    size_t off = SL_WAL_HEADER_BYTES;
    while (off < len) {
        uint32_t n;
        sl_wal_scan_status st = check_record(data, len, off, s.next_seq, &n);
        if (st != SL_WAL_SCAN_OK) {
            s.status = st;
            return s;
        }
        if (fn && fn(arg, s.next_seq, data + off + SL_WAL_RECORD_OVERHEAD, n) != 0)
            return s;
        off += SL_WAL_RECORD_OVERHEAD + (size_t)n;
        s.records++;
        s.next_seq++;
        s.valid_bytes = off;
    }
    return s;
}

const char *sl_wal_scan_status_name(sl_wal_scan_status s)
{
    switch (s) {
    case SL_WAL_SCAN_OK: return "ok";
    case SL_WAL_SCAN_BAD_HEADER: return "bad header";
    case SL_WAL_SCAN_TRUNCATED: return "truncated record";
    case SL_WAL_SCAN_CORRUPT: return "corrupt record";
    }
    return "?";
}

/* ---- files ---- */

typedef struct mapped {
    unsigned char *data;
    size_t len;
} mapped;

static int map_file(const char *path, mapped *m, sl_error *err)
{
    m->data = NULL;
    m->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_errorf(err, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return sl_errorf(err, "cannot stat %s: %s", path, strerror(errno));
    }
    m->len = (size_t)st.st_size;
    if (m->len > 0) {
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return sl_errorf(err, "cannot map %s: %s", path, strerror(errno));
        }
        m->data = p;
    }
    close(fd);
    return 0;
}

static void unmap(mapped *m)
{
    if (m->data)
        munmap(m->data, m->len);
}

static void segment_path(char *out, size_t cap, const char *dir, uint64_t first)
{
    snprintf(out, cap, "%s/%020" PRIu64 ".wal", dir, first);
}

/* "00000000000000000042.wal" -> 42 */
static bool parse_segment_name(const char *name, uint64_t *first)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".wal") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *first = v;
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The segments of dir, sorted by first sequence number. */
static int list_segments(const char *dir, uint64_t **out, size_t *n, sl_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sl_errorf(err, "cannot open WAL directory %s: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t first;
        if (!parse_segment_name(e->d_name, &first))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out)
                abort();
        }
        (*out)[(*n)++] = first;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return 0;
}

static void note_problem(sl_wal_recovery *rec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_problem(sl_wal_recovery *rec, const char *fmt, ...)
{
    if (rec->first_problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->first_problem, sizeof rec->first_problem, fmt, ap);
    va_end(ap);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Moves a damaged segment to quarantine, leaving in its place a copy of its
 * valid prefix (when it has records) so that nothing intact is lost. */
static int quarantine_segment(sl_wal *w, const char *path, const char *name, const mapped *m,
                              uint64_t keep_bytes, sl_error *err)
{
    if (sl_mkdirs(w->quarantine, err) < 0)
        return -1;
    char dest[4400], tmp[4400];
    if (snprintf(dest, sizeof dest, "%s/%s.%lld", w->quarantine, name, (long long)time(NULL)) >= (int)sizeof dest ||
        snprintf(tmp, sizeof tmp, "%s.salvage", path) >= (int)sizeof tmp)
        return sl_errorf(err, "path too long in %s", w->quarantine);
    if (keep_bytes > SL_WAL_HEADER_BYTES) {
        int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, m->data, keep_bytes) < 0 || fdatasync(fd) < 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return sl_errorf(err, "cannot salvage %s: %s", path, strerror(e));
        }
        close(fd);
    }
    if (rename(path, dest) < 0)
        return sl_errorf(err, "cannot move %s to %s: %s", path, dest, strerror(errno));
    if (keep_bytes > SL_WAL_HEADER_BYTES && rename(tmp, path) < 0)
        return sl_errorf(err, "cannot restore salvaged %s: %s", path, strerror(errno));
    if (sl_fsync_dir(w->quarantine, err) < 0 || sl_fsync_dir(w->dir, err) < 0)
        return -1;
    return keep_bytes > SL_WAL_HEADER_BYTES ? 1 : 0;   /* 1: the segment still exists */
}

static void add_segment(sl_wal *w, uint64_t first)
{
    if (w->n_segs == w->cap_segs) {
        w->cap_segs = w->cap_segs ? w->cap_segs * 2 : 16;
        w->segs = realloc(w->segs, w->cap_segs * sizeof *w->segs);
        if (!w->segs)
            abort();
    }
    w->segs[w->n_segs++] = first;
}

/* Scans and repairs every segment; sets w->segs and w->next_seq. */
static int recover(sl_wal *w, sl_wal_recovery *rec, sl_error *err)
{
    uint64_t *firsts;
    size_t n;
    if (list_segments(w->dir, &firsts, &n, err) < 0)
        return -1;
    uint64_t next = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096], name[64];
        segment_path(path, sizeof path, w->dir, firsts[i]);
        snprintf(name, sizeof name, "%020" PRIu64 ".wal", firsts[i]);
        bool newest = i + 1 == n;
        mapped m;
        if (map_file(path, &m, err) < 0) {
            rc = -1;
            break;
        }
        sl_wal_scan s = sl_wal_scan_segment(m.data, m.len, NULL, NULL);
        if (s.status != SL_WAL_SCAN_BAD_HEADER && s.first_seq != firsts[i]) {
            s.status = SL_WAL_SCAN_BAD_HEADER;     /* header and name disagree */
            s.valid_bytes = 0;
        }
        if (firsts[i] > next)
            next = firsts[i];                      /* never reuse a sequence number */
        if (s.status == SL_WAL_SCAN_OK) {
            add_segment(w, firsts[i]);
        } else if (newest && (s.status != SL_WAL_SCAN_BAD_HEADER || m.len < SL_WAL_HEADER_BYTES)) {
            /* A crash mid-write: cut the torn tail (or the half-made segment). */
            note_problem(rec, "%s: %s at byte %" PRIu64 "; truncated %zu bytes", name,
                         sl_wal_scan_status_name(s.status), s.valid_bytes, m.len - (size_t)s.valid_bytes);
            rec->torn_bytes += m.len - s.valid_bytes;
            if (s.status == SL_WAL_SCAN_BAD_HEADER) {
                if (unlink(path) < 0)
                    rc = sl_errorf(err, "cannot remove torn segment %s: %s", path, strerror(errno));
            } else {
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || ftruncate(fd, (off_t)s.valid_bytes) < 0 || fdatasync(fd) < 0)
                    rc = sl_errorf(err, "cannot truncate %s: %s", path, strerror(errno));
                if (fd >= 0)
                    close(fd);
                add_segment(w, firsts[i]);
            }
        } else {
            note_problem(rec, "%s: %s at byte %" PRIu64 "; moved to %s", name,
                         sl_wal_scan_status_name(s.status), s.valid_bytes, w->quarantine);
            rec->quarantined++;
            rec->lost_bytes += m.len - s.valid_bytes;
            int kept = quarantine_segment(w, path, name, &m, s.valid_bytes, err);
            if (kept < 0)
                rc = -1;
            else if (kept)
                add_segment(w, firsts[i]);
        }
        if (s.next_seq > next)
            next = s.next_seq;
        rec->records += s.records;
        unmap(&m);
    }
    free(firsts);
    rec->segments = w->n_segs;
    w->next_seq = w->durable_seq = next;
    return rc;
}

/* Opens a new segment starting at w->next_seq (w->lock held or single-threaded). */
static int start_segment(sl_wal *w, sl_error *err)
{
    char path[4096];
    segment_path(path, sizeof path, w->dir, w->next_seq);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_errorf(err, "cannot create WAL segment %s: %s", path, strerror(errno));
    unsigned char header[SL_WAL_HEADER_BYTES];
    memcpy(header, MAGIC, sizeof MAGIC);
    put64(header + 8, w->next_seq);
    if (write_all(fd, header, sizeof header) < 0 || fdatasync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return sl_errorf(err, "cannot write WAL segment %s: %s", path, strerror(e));
    }
    if (sl_fsync_dir(w->dir, err) < 0) {
        close(fd);
        return -1;
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = fd;
    w->seg_bytes = SL_WAL_HEADER_BYTES;
    add_segment(w, w->next_seq);
    return 0;
}

static int open_newest(sl_wal *w, sl_error *err)
{
    if (w->n_segs == 0)
        return start_segment(w, err);
    char path[4096];
    segment_path(path, sizeof path, w->dir, w->segs[w->n_segs - 1]);
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sl_errorf(err, "cannot open WAL segment %s: %s", path, strerror(e));
    }
    w->fd = fd;
    w->seg_bytes = (uint64_t)st.st_size;
    return 0;
}

/* ---- durability ---- */

/* Makes every record below `target` durable (w->lock held). */
static int sync_locked(sl_wal *w, uint64_t target, sl_error *err)
{
    while (w->durable_seq < target && !w->sync_errno) {
        if (w->syncing) {
            pthread_cond_wait(&w->changed, &w->lock);
            continue;
        }
        w->syncing = true;
        uint64_t goal = w->next_seq, goal_bytes = w->appended_bytes;
        int fd = w->fd;
        pthread_mutex_unlock(&w->lock);
        int64_t started = sl_monotonic_ns();
        int rc = fdatasync(fd);
        int e = errno;
        int64_t took = sl_monotonic_ns() - started;
        pthread_mutex_lock(&w->lock);
        w->syncing = false;
        if (rc < 0) {
            w->sync_errno = e;
        } else {
            sl_histogram_record(&w->fsync_ns, (uint64_t)took);
            if (goal > w->durable_seq)
                w->durable_seq = goal;
            if (goal_bytes > w->durable_bytes)
                w->durable_bytes = goal_bytes;
        }
        pthread_cond_broadcast(&w->changed);
    }
    if (w->sync_errno)
        return sl_errorf(err, "WAL %s: sync failed: %s", w->dir, strerror(w->sync_errno));
    return 0;
}

static void *flusher_main(void *arg)
{
    sl_wal *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->closing) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += (long)w->opts.group_commit_ms * 1000000L;
        t.tv_sec += t.tv_nsec / 1000000000L;
        t.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->changed, &w->lock, &t);
        if (w->next_seq > w->durable_seq)
            sync_locked(w, w->next_seq, NULL);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- the log ---- */

sl_wal *sl_wal_open(const char *dir, const sl_wal_options *opts, sl_wal_recovery *rec, sl_error *err)
{
    sl_wal_recovery scratch;
    if (!rec)
        rec = &scratch;
    memset(rec, 0, sizeof *rec);
    if (sl_mkdirs(dir, err) < 0)
        return NULL;
    sl_wal *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->fd = -1;
    if (opts)
        w->opts = *opts;
    if (!w->opts.segment_bytes)
        w->opts.segment_bytes = DEFAULT_SEGMENT_BYTES;
    if (!w->opts.group_commit_ms)
        w->opts.group_commit_ms = DEFAULT_GROUP_MS;
    w->dir = strdup(dir);
    if (w->opts.quarantine_dir)
        w->quarantine = strdup(w->opts.quarantine_dir);
    else if (asprintf(&w->quarantine, "%s/quarantine", dir) < 0)
        w->quarantine = NULL;
    if (!w->dir || !w->quarantine)
        abort();
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    if (recover(w, rec, err) < 0 || open_newest(w, err) < 0) {
        sl_wal_close(w, NULL);
        return NULL;
    }
    if (w->opts.sync == SL_WAL_SYNC_GROUP) {
        if (pthread_create(&w->flusher, NULL, flusher_main, w) != 0)
            abort();
        w->has_flusher = true;
    }
    return w;
}

int sl_wal_append(sl_wal *w, const void *p, size_t n, uint64_t *seq, sl_error *err)
{
    if (n > SL_WAL_MAX_RECORD)
        return sl_errorf(err, "WAL record of %zu bytes is larger than the limit of %u", n, SL_WAL_MAX_RECORD);
    pthread_mutex_lock(&w->lock);
    if (w->sync_errno) {
        pthread_mutex_unlock(&w->lock);
        return sl_errorf(err, "WAL %s: an earlier sync failed: %s", w->dir, strerror(w->sync_errno));
    }
    if (w->seg_bytes + SL_WAL_RECORD_OVERHEAD + n > w->opts.segment_bytes &&
        w->seg_bytes > SL_WAL_HEADER_BYTES) {
        /* Roll: the old segment is made durable first, so that damage found
         * later in a segment that is not the newest means corruption. */
        if (sync_locked(w, w->next_seq, err) < 0 || start_segment(w, err) < 0) {
            pthread_mutex_unlock(&w->lock);
            return -1;
        }
    }
    unsigned char header[SL_WAL_RECORD_OVERHEAD];
    uint64_t s = w->next_seq;
    put32(header, (uint32_t)n);
    put64(header + 8, s);
    put32(header + 4, sl_crc32c(sl_crc32c(0, header + 8, 8), p, n));
    struct iovec iov[2] = {{header, sizeof header}, {(void *)p, n}};
    size_t total = sizeof header + n, done = 0;
    while (done < total) {
        ssize_t k = writev(w->fd, iov, 2);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            /* Take back a partial record so the segment stays well-formed. */
            if (done > 0 && ftruncate(w->fd, (off_t)w->seg_bytes) < 0)
                w->sync_errno = errno;
            pthread_mutex_unlock(&w->lock);
            return sl_errorf(err, "cannot append to WAL %s: %s", w->dir, strerror(e));
        }
        done += (size_t)k;
        for (int i = 0; i < 2; i++) {          /* advance past what was written */
            size_t used = (size_t)k < iov[i].iov_len ? (size_t)k : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + used;
            iov[i].iov_len -= used;
            k -= (ssize_t)used;
        }
    }
    w->seg_bytes += total;
    w->next_seq = s + 1;
    w->appended_records++;
    w->appended_bytes += n;
    if (seq)
        *seq = s;
    int rc = 0;
    if (w->opts.sync == SL_WAL_SYNC_ALWAYS) {
        rc = sync_locked(w, s + 1, err);
    } else if (w->opts.sync == SL_WAL_SYNC_GROUP) {
        while (w->durable_seq <= s && !w->sync_errno)
            pthread_cond_wait(&w->changed, &w->lock);
        if (w->sync_errno)
            rc = sl_errorf(err, "WAL %s: sync failed: %s", w->dir, strerror(w->sync_errno));
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int sl_wal_sync(sl_wal *w, sl_error *err)
{
    pthread_mutex_lock(&w->lock);
    int rc = sync_locked(w, w->next_seq, err);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

uint64_t sl_wal_next_seq(sl_wal *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t s = w->next_seq;
    pthread_mutex_unlock(&w->lock);
    return s;
}

void sl_wal_get_stats(sl_wal *w, sl_wal_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = (sl_wal_stats){
        .records = w->appended_records,
        .bytes = w->appended_bytes,
        .unsynced_bytes = w->appended_bytes - w->durable_bytes,
        .segments = w->n_segs,
        .fsyncs = w->fsync_ns.count,
        .fsync_p50_ns = sl_histogram_quantile(&w->fsync_ns, 0.50),
        .fsync_p99_ns = sl_histogram_quantile(&w->fsync_ns, 0.99),
        .fsync_max_ns = w->fsync_ns.max,
    };
    pthread_mutex_unlock(&w->lock);
}

int sl_wal_release(sl_wal *w, uint64_t upto, sl_error *err)
{
    pthread_mutex_lock(&w->lock);
    size_t deleted = 0;
    /* Segment i holds seqs segs[i] .. segs[i+1]-1; the newest is never deleted. */
    while (deleted + 1 < w->n_segs && w->segs[deleted + 1] - 1 <= upto) {
        char path[4096];
        segment_path(path, sizeof path, w->dir, w->segs[deleted]);
        if (unlink(path) < 0 && errno != ENOENT) {
            sl_errorf(err, "cannot delete WAL segment %s: %s", path, strerror(errno));
            break;
        }
        deleted++;
    }
    memmove(w->segs, w->segs + deleted, (w->n_segs - deleted) * sizeof *w->segs);
    w->n_segs -= deleted;
    pthread_mutex_unlock(&w->lock);
    if (deleted && sl_fsync_dir(w->dir, err) < 0)
        return -1;
    return (int)deleted;
}

int sl_wal_close(sl_wal *w, sl_error *err)
{
    if (!w)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    w->closing = true;
    pthread_cond_broadcast(&w->changed);
    if (w->fd >= 0)
        rc = sync_locked(w, w->next_seq, err);
    pthread_mutex_unlock(&w->lock);
    if (w->has_flusher)
        pthread_join(w->flusher, NULL);
    if (w->fd >= 0)
        close(w->fd);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->changed);
    free(w->segs);
    free(w->dir);
    free(w->quarantine);
    free(w);
    return rc;
}

/* ---- reading ---- */

struct sl_wal_reader {
    char *dir;
    uint64_t *firsts;
    size_t n, next_segment;
    mapped m;
    size_t off;
    uint64_t expect;
    uint64_t from;
};

sl_wal_reader *sl_wal_reader_open(const char *dir, uint64_t from, sl_error *err)
{
    sl_wal_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir)))
        abort();
    if (list_segments(dir, &r->firsts, &r->n, err) < 0) {
        sl_wal_reader_close(r);
        return NULL;
    }
    r->from = from;
    /* Skip segments that end before `from`. */
    while (r->next_segment + 1 < r->n && r->firsts[r->next_segment + 1] <= from)
        r->next_segment++;
    return r;
}

int sl_wal_reader_next(sl_wal_reader *r, uint64_t *seq, const void **p, size_t *n, sl_error *err)
{
    for (;;) {
        if (r->m.data && r->off < r->m.len) {
            uint32_t len;
            if (check_record(r->m.data, r->m.len, r->off, r->expect, &len) == SL_WAL_SCAN_OK) {
                uint64_t s = r->expect++;
                const unsigned char *rec = r->m.data + r->off;
                r->off += SL_WAL_RECORD_OVERHEAD + len;
                if (s < r->from)
                    continue;
                *seq = s;
                *p = rec + SL_WAL_RECORD_OVERHEAD;
                *n = len;
                return 1;
            }
            /* Damage: the rest of this segment cannot be framed; go on with the next. */
        }
        unmap(&r->m);
        r->m.data = NULL;
        if (r->next_segment >= r->n)
            return 0;
        char path[4096];
        segment_path(path, sizeof path, r->dir, r->firsts[r->next_segment++]);
        if (map_file(path, &r->m, err) < 0)
            return -1;
        if (r->m.len < SL_WAL_HEADER_BYTES || memcmp(r->m.data, MAGIC, sizeof MAGIC) != 0) {
            r->off = r->m.len;          /* bad header: skip the segment */
            continue;
        }
        r->expect = get64(r->m.data + 8);
        r->off = SL_WAL_HEADER_BYTES;
    }
}

void sl_wal_reader_close(sl_wal_reader *r)
{
    if (!r)
        return;
    unmap(&r->m);
    free(r->firsts);
    free(r->dir);
    free(r);
}

int sl_wal_inspect(const char *dir, sl_wal_segment_info **out, sl_error *err)
{
    uint64_t *firsts;
    size_t n;
    *out = NULL;
    if (list_segments(dir, &firsts, &n, err) < 0)
        return -1;
    sl_wal_segment_info *info = calloc(n ? n : 1, sizeof *info);
    if (!info)
        abort();
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        segment_path(path, sizeof path, dir, firsts[i]);
        snprintf(info[i].name, sizeof info[i].name, "%020" PRIu64 ".wal", firsts[i]);
        mapped m;
        if (map_file(path, &m, err) < 0) {
            free(info);
            free(firsts);
            return -1;
        }
        info[i].bytes = m.len;
        info[i].scan = sl_wal_scan_segment(m.data, m.len, NULL, NULL);
        unmap(&m);
    }
    free(firsts);
    *out = info;
    return (int)n;
}
