/* dlq.c — the dead-letter queue writer (see dlq.h).
 *
 * Entries are formatted into one shared buffer under a mutex and written
 * with write(2) to a file opened O_APPEND. DLQ entries are rare by nature
 * (bad data), so a single lock costs nothing on the hot path, and formatting
 * in the caller's thread means the record's raw bytes never have to outlive
 * their batch.
 *
 * A record larger than DLQ_RAW_INLINE_MAX is kept whole in the side file
 * dlq.raw next to dlq.jsonl (appended, binary, its entry names the offset,
 * length and CRC-32C): a few huge records would otherwise make every tool
 * that reads the entries slow. The side file is written before the entries
 * that point into it, and its size is part of a checkpoint like the
 * entries', so that a rollback cuts both back together.
 *
 * A full disk (ENOSPC, EDQUOT) loses nothing: a write that fails part-way
 * is cut back so the file holds whole entries, the entries stay buffered
 * and are tried again with a backoff (50 ms doubling up to 1 s). The buffer
 * may grow meanwhile; past DLQ_FULL_DISK_MAX, sl_dlq_write blocks its
 * caller until space returns, as sl_dlq_flush and sl_dlq_checkpoint always
 * do. Only a stop request ends such a wait, with an error that fails the
 * run.
 */
#include "dlq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/buf.h"
#include "../core/crc32c.h"
#include "../core/log.h"
#include "../core/util.h"

/* Larger records go to the side file. */
#define DLQ_RAW_INLINE_MAX (64 * 1024)
#define DLQ_BUFFER_MAX (64 * 1024)
/* On a full disk: how much may wait in memory before writers block, and the
 * backoff between attempts. */
#define DLQ_FULL_DISK_MAX (16 * 1024 * 1024)
#define DLQ_FULL_DISK_FIRST_WAIT_MS 50
#define DLQ_FULL_DISK_MAX_WAIT_MS 1000
/* How often a writer blocked on a full disk looks at the stop request. */
#define DLQ_STOP_POLL_MS 100

/* An append-only file of the DLQ and what waits to be written to it. */
typedef struct dlq_file {
    char *path;
    int fd;                /* -1 until first written */
    sl_buf pending;
} dlq_file;

struct sl_dlq {
    pthread_mutex_t lock;
    char *dir;
    dlq_file entries;      /* dlq.jsonl */
    dlq_file raw;          /* dlq.raw: records too large to inline */
    uint64_t raw_end;      /* the side file's size once its pending bytes are written */
    char *raw_ref;         /* its absolute path, named in entries (NULL before its first use) */
    uint64_t count;
    sl_metrics *metrics;
    const atomic_bool *stopping;   /* the pipeline's stop request, or NULL */
    /* a full disk: entries wait in `pending` */
    pthread_cond_t written;        /* broadcast when a pause ends */
    _Atomic int disk_full;
    _Atomic uint64_t disk_full_pauses;
    int64_t full_since_ns, next_try_ns;   /* CLOCK_MONOTONIC */
    uint32_t full_waits;
    char full_error[SL_ERROR_MAX];
};

sl_dlq *sl_dlq_new(const char *dir, sl_metrics *metrics, const atomic_bool *stopping)
{
    sl_dlq *d = calloc(1, sizeof *d);
    if (!d) abort();
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&d->written, &attr);
    pthread_condattr_destroy(&attr);
    d->stopping = stopping;
    atomic_init(&d->disk_full, 0);
    atomic_init(&d->disk_full_pauses, 0);
    d->dir = strdup(dir);
    if (!d->dir || asprintf(&d->entries.path, "%s/" SL_DLQ_FILE, dir) < 0 ||
        asprintf(&d->raw.path, "%s/" SL_DLQ_RAW_FILE, dir) < 0)
        abort();
    d->entries.fd = d->raw.fd = -1;
    sl_buf_init(&d->entries.pending);
    sl_buf_init(&d->raw.pending);
    d->metrics = metrics;
    return d;
}

static int open_locked(sl_dlq *d, dlq_file *f, sl_error *err)
{
    if (sl_mkdirs(d->dir, err) < 0) return sl_error_prefix(err, "cannot open the DLQ");
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        if (err) err->sys_errno = errno;
        return sl_errorf(err, "cannot open DLQ file %s: %s", f->path, strerror(errno));
    }
    return 0;
}

/* Cuts the `written` bytes of a failed write off the end of the file, so
 * that it holds whole entries and the whole buffer can be written again. */
static bool take_back(dlq_file *f, size_t written)
{
    off_t end = lseek(f->fd, 0, SEEK_END);
    return end >= (off_t)written && ftruncate(f->fd, end - (off_t)written) == 0;
}

static int flush_file_locked(sl_dlq *d, dlq_file *f, sl_error *err)
{
    if (f->pending.len == 0) return 0;
    if (f->fd < 0 && open_locked(d, f, err) < 0) return -1;
    size_t off = 0;
    while (off < f->pending.len) {
        ssize_t n = write(f->fd, f->pending.data + off, f->pending.len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            if (off > 0 && take_back(f, off)) off = 0;
            sl_buf_consume(&f->pending, off);
            if (err) err->sys_errno = e;
            return sl_errorf(err, "cannot write DLQ file %s: %s", f->path, strerror(e));
        }
        off += (size_t)n;
    }
    f->pending.len = 0;
    return 0;
}

/* The side file first: an entry is never on disk before the bytes it
 * points to. */
static int flush_locked(sl_dlq *d, sl_error *err)
{
    if (flush_file_locked(d, &d->raw, err) < 0) return -1;
    return flush_file_locked(d, &d->entries, err);
}

static size_t pending_locked(const sl_dlq *d)
{
    return d->entries.pending.len + d->raw.pending.len;
}

/* ---- a full disk ---- */

/* A write found the disk full: the entries stay buffered until next_try_ns
 * (the first time, the pause starts and says so). */
static void note_disk_full_locked(sl_dlq *d, const sl_error *err)
{
    int64_t now = sl_monotonic_ns();
    snprintf(d->full_error, sizeof d->full_error, "%s", err->msg);
    if (!atomic_load(&d->disk_full)) {
        atomic_store(&d->disk_full, 1);
        atomic_fetch_add(&d->disk_full_pauses, 1);
        d->full_since_ns = now;
        d->full_waits = 0;
        sl_warn("dlq", "disk full (%s); keeping DLQ entries in memory until space is freed (past %d MiB, the "
                "components writing dead letters wait), nothing is dropped", err->msg, DLQ_FULL_DISK_MAX >> 20);
    }
    uint64_t ms = DLQ_FULL_DISK_FIRST_WAIT_MS;
    for (uint32_t i = 0; i < d->full_waits && ms < DLQ_FULL_DISK_MAX_WAIT_MS; i++) ms *= 2;
    if (ms > DLQ_FULL_DISK_MAX_WAIT_MS) ms = DLQ_FULL_DISK_MAX_WAIT_MS;
    d->full_waits++;
    d->next_try_ns = now + (int64_t)ms * 1000000;
}

/* Writes what is buffered, except during a pause before its next attempt is
 * due. Returns 0 when written or kept for later on a full disk, -1 with err
 * on any other failure. */
static int flush_or_keep_locked(sl_dlq *d, sl_error *err)
{
    if (atomic_load(&d->disk_full) && sl_monotonic_ns() < d->next_try_ns) return 0;
    if (flush_locked(d, err) < 0) {
        if (!sl_error_disk_full(err)) return -1;
        note_disk_full_locked(d, err);
        return 0;
    }
    if (atomic_exchange(&d->disk_full, 0)) {
        sl_info("dlq", "disk space is available again after %.1f s; the DLQ entries kept in memory are written",
                (double)(sl_monotonic_ns() - d->full_since_ns) / 1e9);
        pthread_cond_broadcast(&d->written);
    }
    return 0;
}

/* Writes everything buffered, waiting for space as long as the disk is full.
 * Returns 0, or -1 with err on another failure or when the pipeline stops
 * during the wait (the entries are then not written). */
static int flush_waiting_locked(sl_dlq *d, sl_error *err)
{
    for (;;) {
        if (flush_or_keep_locked(d, err) < 0) return -1;
        if (pending_locked(d) == 0) return 0;
        if (d->stopping && atomic_load(d->stopping)) {
            if (err) err->sys_errno = ENOSPC;
            return sl_errorf(err, "stopped while the disk is full (%s): %zu bytes of DLQ entries were not written; "
                             "no checkpoint covers their records, so the next run reads them again",
                             d->full_error, pending_locked(d));
        }
        int64_t until = d->next_try_ns, poll = sl_monotonic_ns() + DLQ_STOP_POLL_MS * 1000000LL;
        if (until > poll) until = poll;
        struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
        pthread_cond_timedwait(&d->written, &d->lock, &ts);
    }
}

/* Appends "key":"value" (or "key":null), preceded by a comma. Whatever
 * bytes value holds (a message quoting input, a file name), the entry stays
 * valid UTF-8 JSON: invalid bytes are written as the text \xNN. */
static void put_string_field(sl_buf *out, const char *key, const char *value)
{
    sl_buf_printf(out, ",\"%s\":", key);
    if (value) sl_json_encode_text(out, value, strlen(value));
    else sl_buf_puts(out, "null");
}

/* At the side file's first use in this run: its size (it may hold records
 * of earlier runs) and its absolute path, which entries name so that a
 * moved DLQ file still finds it. */
static int raw_first_use_locked(sl_dlq *d, sl_error *err)
{
    if (d->raw_ref) return 0;
    struct stat st;
    if (stat(d->raw.path, &st) == 0) d->raw_end = (uint64_t)st.st_size;
    else if (errno != ENOENT) return sl_errorf(err, "cannot stat DLQ file %s: %s", d->raw.path, strerror(errno));
    else d->raw_end = 0;
    if (sl_mkdirs(d->dir, err) < 0) return sl_error_prefix(err, "cannot open the DLQ");
    char *dir = realpath(d->dir, NULL);
    if (!dir) return sl_errorf(err, "cannot resolve DLQ directory %s: %s", d->dir, strerror(errno));
    if (asprintf(&d->raw_ref, "%s/" SL_DLQ_RAW_FILE, dir) < 0) abort();
    free(dir);
    return 0;
}

/* The record's bytes: inline as "raw" (or "raw_base64" when they are not
 * valid UTF-8), or, past DLQ_RAW_INLINE_MAX, appended to the side file with
 * "raw_file", "raw_offset", "raw_length" and "raw_crc32c". A trailing line
 * break is not part of the record. */
static int put_raw_locked(sl_dlq *d, sl_buf *out, const char *raw, size_t len, bool partial, sl_error *err)
{
    while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r')) len--;
    if (len > DLQ_RAW_INLINE_MAX) {
        if (raw_first_use_locked(d, err) < 0) return -1;
        put_string_field(out, "raw_file", d->raw_ref);
        sl_buf_printf(out, ",\"raw_offset\":%llu,\"raw_length\":%zu,\"raw_crc32c\":%u",
                      (unsigned long long)d->raw_end, len, sl_crc32c(0, raw, len));
        sl_buf_append(&d->raw.pending, raw, len);
        d->raw_end += len;
    } else if (sl_utf8_valid(raw, len)) {
        sl_buf_puts(out, ",\"raw\":");
        sl_json_encode_string(out, raw, len);
    } else {
        sl_buf_puts(out, ",\"raw_base64\":\"");
        sl_base64_encode(out, raw, len);
        sl_buf_putc(out, '"');
    }
    if (partial) sl_buf_puts(out, ",\"raw_truncated\":true");
    return 0;
}

int sl_dlq_write(sl_dlq *d, const sl_dlq_entry *e, sl_error *err)
{
    char time[40];
    int64_t now = sl_now_ns();
    sl_format_rfc3339(time, now - now % 1000000);   /* millisecond precision */

    pthread_mutex_lock(&d->lock);
    sl_buf *out = &d->entries.pending;
    size_t entry_start = out->len;
    sl_buf_printf(out, "{\"time\":\"%s\"", time);
    put_string_field(out, "component", e->component);
    put_string_field(out, "source", e->source);
    put_string_field(out, "origin", e->origin);
    sl_buf_printf(out, ",\"position\":{\"file_id\":%llu,\"offset\":%llu}",
                  (unsigned long long)e->pos.file_id, (unsigned long long)e->pos.offset);
    if (e->replay_origin) {
        sl_buf_puts(out, ",\"replay\":{\"origin\":");
        sl_json_encode_text(out, e->replay_origin, strlen(e->replay_origin));
        sl_buf_printf(out, ",\"position\":{\"file_id\":%llu,\"offset\":%llu}}",
                      (unsigned long long)e->replay_pos.file_id, (unsigned long long)e->replay_pos.offset);
    }
    put_string_field(out, "reason", e->reason);
    put_string_field(out, "message", e->message);
    if (e->raw && put_raw_locked(d, out, e->raw, e->raw_len, e->raw_partial, err) < 0) {
        out->len = entry_start;
        pthread_mutex_unlock(&d->lock);
        return -1;
    }
    sl_buf_puts(out, "}\n");
    d->count++;
    int rc = 0;
    if (pending_locked(d) >= DLQ_BUFFER_MAX || d->entries.fd < 0) rc = flush_or_keep_locked(d, err);
    if (rc == 0 && pending_locked(d) > DLQ_FULL_DISK_MAX) rc = flush_waiting_locked(d, err);
    pthread_mutex_unlock(&d->lock);

    if (e->metrics) sl_metrics_dlq(d->metrics, e->metrics, e->reason, 1);
    return rc;
}

int sl_dlq_flush(sl_dlq *d, sl_error *err)
{
    pthread_mutex_lock(&d->lock);
    int rc = flush_waiting_locked(d, err);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

uint64_t sl_dlq_count(sl_dlq *d)
{
    pthread_mutex_lock(&d->lock);
    uint64_t n = d->count;
    pthread_mutex_unlock(&d->lock);
    return n;
}

const char *sl_dlq_file(const sl_dlq *d)
{
    return d->entries.path;
}

/* A written file's size (0 when there is no file yet). */
static int file_size(const dlq_file *f, uint64_t *size, sl_error *err)
{
    struct stat st;
    *size = 0;
    if (f->fd >= 0) {
        if (fstat(f->fd, &st) < 0) return sl_errorf(err, "cannot stat DLQ file %s: %s", f->path, strerror(errno));
        *size = (uint64_t)st.st_size;
    } else if (stat(f->path, &st) == 0) {
        /* Nothing written by this run yet: the file holds what earlier runs
         * wrote, which a rollback to this checkpoint must keep. */
        *size = (uint64_t)st.st_size;
    } else if (errno != ENOENT) {
        return sl_errorf(err, "cannot stat DLQ file %s: %s", f->path, strerror(errno));
    }
    return 0;
}

int sl_dlq_checkpoint(sl_dlq *d, sl_dlq_mark *mark, sl_error *err)
{
    pthread_mutex_lock(&d->lock);
    int rc = flush_waiting_locked(d, err);
    if (rc == 0) rc = file_size(&d->entries, &mark->size, err);
    if (rc == 0) rc = file_size(&d->raw, &mark->raw_size, err);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static int sync_file(const dlq_file *f, sl_error *err)
{
    if (f->fd < 0 || fdatasync(f->fd) == 0) return 0;
    err->sys_errno = errno;
    return sl_errorf(err, "cannot sync DLQ file %s: %s", f->path, strerror(errno));
}

int sl_dlq_sync(sl_dlq *d, sl_error *err)
{
    pthread_mutex_lock(&d->lock);
    int rc = sync_file(&d->raw, err);
    if (rc == 0) rc = sync_file(&d->entries, err);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static int cut_back(const char *path, uint64_t size, const char *what, sl_error *err)
{
    struct stat st;
    if (size == SL_DLQ_SIZE_UNKNOWN || stat(path, &st) < 0 || (uint64_t)st.st_size <= size) return 0;
    if (truncate(path, (off_t)size) < 0)
        return sl_errorf(err, "cannot truncate DLQ file %s to the checkpoint: %s", path, strerror(errno));
    sl_info("dlq", "removed %llu bytes of %s written after the last checkpoint from %s "
            "(their records are read again)", (unsigned long long)((uint64_t)st.st_size - size), what, path);
    return 0;
}

int sl_dlq_rollback(sl_dlq *d, const sl_dlq_mark *mark, sl_error *err)
{
    if (cut_back(d->entries.path, mark->size, "entries", err) < 0) return -1;
    return cut_back(d->raw.path, mark->raw_size, "large records", err);
}

int sl_dlq_set_aside(sl_dlq *d, sl_error *err)
{
    /* Only the entries move: the side file dlq.raw only ever grows, so the
     * entries set aside still find their records in it (by its absolute
     * path), and checkpoints of this run record its size as it is. */
    struct stat st;
    char aside[4300];
    if (stat(d->entries.path, &st) < 0 || st.st_size == 0) return 0;
    if (sl_move_aside(d->entries.path, aside, sizeof aside, err) < 0) return -1;
    sl_warn("dlq", "no usable checkpoint to resume from: moved the earlier dead letters aside to %s, so that this run "
            "does not append to them", aside);
    return 0;
}

void sl_dlq_prometheus(sl_dlq *d, sl_buf *out)
{
    sl_buf_printf(out,
                  "# HELP sluice_dlq_disk_full 1 while DLQ entries wait in memory because the DLQ's disk is full, "
                  "else 0.\n# TYPE sluice_dlq_disk_full gauge\nsluice_dlq_disk_full %d\n"
                  "# HELP sluice_dlq_disk_full_pauses_total Times the DLQ found its disk full.\n"
                  "# TYPE sluice_dlq_disk_full_pauses_total counter\nsluice_dlq_disk_full_pauses_total %llu\n",
                  atomic_load(&d->disk_full), (unsigned long long)atomic_load(&d->disk_full_pauses));
}

void sl_dlq_free(sl_dlq *d)
{
    if (!d) return;
    if (d->entries.fd >= 0) close(d->entries.fd);
    if (d->raw.fd >= 0) close(d->raw.fd);
    sl_buf_free(&d->entries.pending);
    sl_buf_free(&d->raw.pending);
    pthread_cond_destroy(&d->written);
    pthread_mutex_destroy(&d->lock);
    free(d->dir);
    free(d->entries.path);
    free(d->raw.path);
    free(d->raw_ref);
    free(d);
}
