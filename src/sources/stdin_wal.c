/* stdin_wal.c — standard input through a write-ahead log (stdin_wal.h).
 *
 * Threads:
 *  - the logger reads standard input (decompressing it), gathers complete
 *    frames (lines, CSV rows), appends them to the WAL as one record, then
 *    hands the buffer holding them to the source's thread: a queue of at
 *    most QUEUE_CHUNKS buffers in memory (the logger waits while it is
 *    full), with an eventfd that is readable while the queue holds bytes or
 *    its end, so that the reading loop can poll it like a descriptor;
 *  - the source's thread reads that queue with the shared reading loop
 *    (stream.c) through a reader over a function (codec/reader.h), copying
 *    each byte once, into its batch;
 *  - with `sync: group_commit`, the syncer makes the log durable every
 *    interval.
 * Before it reads standard input, the logger replays the records the
 * restored checkpoint does not cover, so a restarted run first delivers
 * what a crashed one had logged.
 *
 * Acknowledging. Input counts as taken (the metrics, and the resume point a
 * restart announces) once it is durable by the sync policy. The log is
 * opened with the `os` policy and made durable here (sl_wal_sync after each
 * append for `always`, by the syncer for `group_commit`), so that waiting
 * for a sync never holds the reading back: records flow on as soon as they
 * are written to the log. That is safe because a checkpoint never needs the
 * log for what it covers (it was delivered); the log only has to hold what
 * was acknowledged and not yet delivered, and it does.
 *
 * The input. Each run's standard input continues the same *stream* of
 * bytes, until one reaches its end of file: that is logged as an end
 * record, and the next run's standard input starts stream K+1. Records:
 *
 *   'D' | u64 stream | u64 offset of the first byte | bytes     (data)
 *   'E' | u64 stream | u64 the stream's length                  (end)
 *
 * (little-endian). A data record holds whole frames, so while input flows
 * the log ends between two frames and a producer that resends from the
 * first byte not logged continues the input seamlessly. Two exceptions: a
 * frame longer than the logger's buffer (over max_record_bytes, bound for
 * the DLQ anyway) is logged in pieces, and at a stop the incomplete last
 * frame is logged as it is, for the input that follows to complete (in the
 * next run, or in the pipeline a reload starts in the same process).
 *
 * The position (the checkpoint state) is {seq, stream, offset}: every record
 * before `seq` was submitted, and of record `seq` on, the bytes of `stream`
 * before `offset`. The source's thread only knows how far into the feed
 * it has submitted (stream.c keeps it before each submit); `spans` map
 * the feed's bytes back to records and stream offsets. When a run resumes in
 * the middle of a CSV stream with a header row, the header (kept in the
 * state) is sent first, so that the reading loop knows the columns.
 *
 * Releasing: commit deletes the segments the *previous* committed
 * checkpoint covers, so that the records of both checkpoint generations
 * (checkpoint and checkpoint.prev, core/checkpoint.h) stay replayable.
 *
 * Generations: a run without a checkpoint to resume from (the first one,
 * `--from-start`) starts a new generation, named in the state and in the
 * file `generation` of the log's directory; a log of another generation is
 * discarded before the run appends to it, so a fresh start never replays
 * what an earlier life of the pipeline logged.
 */
#include "stdin_wal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "../core/util.h"

#define KIND_DATA 'D'
#define KIND_END 'E'
#define RECORD_HEADER 17               /* kind, stream, offset */
#define LOG_CHUNK (1024 * 1024)        /* complete frames gathered into one record, at most */
#define READ_CHUNK (128 * 1024)
#define POLL_MS 200
#define WAIT_MS 20
#define QUEUE_CHUNKS 3                 /* buffers handed to the source's thread and not yet read */
#define SPARE_BUFFERS 4                /* read buffers kept for the logger to reuse */
#define GENERATION_FILE "generation"

typedef struct position {
    uint64_t seq;       /* records before it were submitted */
    uint64_t stream;
    uint64_t offset;    /* bytes of the stream before it were submitted */
} position;

/* Bytes of one record sent to the source's thread. */
typedef struct span {
    uint64_t at, len;   /* bytes sent into the feed */
    uint64_t seq;       /* the record */
    uint64_t offset;    /* stream offset of the first byte sent */
    bool header;        /* a saved header row sent before resuming: not input */
} span;

/* A buffer handed to the source's thread: its bytes [at, end) are unread.
 * `buf` is the logger's read buffer (recycled through the spares), or NULL
 * when `bytes` was copied (replay, a header row). */
typedef struct chunk {
    struct chunk *next;
    unsigned char *buf;
    const char *bytes;
    size_t at, end;
} chunk;

/* One stream as sent to the source's thread. The logger owns the writing
 * side; fields marked (lock) are shared under the object's lock. */
typedef struct feed {
    uint64_t stream;
    chunk *head, *tail;          /* (lock) handed over, not yet read */
    size_t queued;               /* (lock) chunks in the queue */
    bool write_done;             /* (lock) nothing more is sent: the reader sees the end */
    bool read_done;              /* (lock) the source's thread reads no more: sending fails */
    pthread_cond_t change;       /* (lock) the queue or its ends changed */
    int efd;                     /* eventfd, readable iff the queue holds bytes or write_done */
    uint64_t sent;               /* bytes sent into the queue (logger) */
    span *spans;                 /* (lock) not yet wholly submitted, in order */
    size_t n_spans, cap_spans;
    position start;              /* (lock) before the first span */
    uint64_t consumed;           /* bytes of the feed submitted; kept by stream.c on the source's thread */
    bool ended;                  /* (lock) the stream's end was logged: nothing follows */
    position after;              /* (lock) then: where the next stream starts */
    char *header;                /* (lock) the stream's header row, when the format has one */
    size_t header_len;
    char *error;                 /* (lock) standard input failed: the message ... */
    char *rest;                  /* ... and the unterminated bytes read before it */
    size_t rest_len;
    uint64_t rest_offset;
    struct feed *next;
} feed;

struct sl_stdin_wal {
    const char *name;
    sl_stream *stream;
    sl_wal_options opts;         /* as opened: the `os` policy */
    sl_wal_sync_policy policy;   /* when input is acknowledged */
    unsigned group_commit_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake;         /* the syncer's */

    /* restored */
    bool resumed;                /* from a checkpoint (else a new generation) */
    char generation[17];
    position restored;           /* where the run starts */
    char *header;                /* the header row of restored.stream, when restored.offset > 0 */
    size_t header_len;
    uint64_t committed_seq;      /* (lock) `seq` of the last committed checkpoint */
    position resume;             /* (lock) the position while no feed is being read */

    /* the run */
    char *dir;
    sl_wal *wal;                 /* (lock) open from the run's start to free */
    feed *feeds, *last_feed;     /* (lock) every feed of the run, in order */
    feed *reading;               /* (lock) the feed the source's thread reads, or NULL */
    bool logger_done, logger_failed;   /* (lock) */
    sl_error logger_err;
    atomic_bool stop;            /* the source's thread is done: the logger stops */
    pthread_t logger, syncer;
    bool syncer_stop;            /* (lock) */
    size_t buf_cap;              /* the logger's read buffers: RECORD_HEADER + buf_cap bytes */
    unsigned char *spare[SPARE_BUFFERS];   /* (lock) read buffers to reuse */
    size_t n_spare;

    _Atomic uint64_t logged_records, logged_bytes;   /* appended */
    _Atomic uint64_t acked_records, acked_bytes;     /* of those, durable */
    _Atomic uint64_t replayed_bytes;
    _Atomic uint64_t quarantined, torn_bytes, lost_bytes;   /* found when the log was opened */
};

/* ---- little-endian fields ---- */

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void *xmemdup(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c) abort();
    memcpy(c, p, n);
    return c;
}

static void new_generation(char out[17])
{
    uint64_t seed[3] = {(uint64_t)sl_now_ns(), (uint64_t)getpid(), (uint64_t)(uintptr_t)out};
    snprintf(out, 17, "%016" PRIx64, sl_hash64(seed, sizeof seed, 0x737464696e77616cull));
}

/* ---- the object ---- */

sl_stdin_wal *sl_stdin_wal_new(const char *name, sl_stream *stream, const sl_wal_options *opts)
{
    sl_stdin_wal *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->name = name;
    w->stream = stream;
    w->opts = *opts;
    w->policy = opts->sync;
    w->group_commit_ms = opts->group_commit_ms;
    w->opts.sync = SL_WAL_SYNC_OS;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    new_generation(w->generation);
    w->restored = w->resume = (position){0, 1, 0};
    return w;
}

/* ---- the queue of a feed (the lock held) ---- */

/* Keeps the eventfd readable iff the reader has something to see. */
static void feed_signal(feed *f)
{
    uint64_t v;
    if (f->head || f->write_done) {
        v = 1;
        if (write(f->efd, &v, sizeof v) < 0) { /* the counter is already set: readable */ }
    } else if (read(f->efd, &v, sizeof v) < 0) { /* EAGAIN: already clear */ }
    pthread_cond_broadcast(&f->change);
}

static void recycle(sl_stdin_wal *w, unsigned char *buf)
{
    if (!buf) return;
    if (w->n_spare < SPARE_BUFFERS) w->spare[w->n_spare++] = buf;
    else free(buf);
}

static void feed_close_write(sl_stdin_wal *w, feed *f)
{
    pthread_mutex_lock(&w->lock);
    f->write_done = true;
    feed_signal(f);
    pthread_mutex_unlock(&w->lock);
}

static void feed_free(feed *f)
{
    for (chunk *c = f->head, *next; c; c = next) {
        next = c->next;
        if (c->buf) free(c->buf);
        else free((char *)c->bytes);
        free(c);
    }
    close(f->efd);
    pthread_cond_destroy(&f->change);
    free(f->spans);
    free(f->header);
    free(f->error);
    free(f->rest);
    free(f);
}

void sl_stdin_wal_free(sl_stdin_wal *w)
{
    if (!w) return;
    for (feed *f = w->feeds, *next; f; f = next) {
        next = f->next;
        feed_free(f);
    }
    for (size_t i = 0; i < w->n_spare; i++) free(w->spare[i]);
    sl_error err = {0};
    if (w->wal && sl_wal_close(w->wal, &err) < 0) sl_warn(w->name, "%s", err.msg);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->header);
    free(w->dir);
    free(w);
}

static bool has_header(const sl_stdin_wal *w)
{
    return sl_format_has_header(&w->stream->format);
}

/* ---- positions (under the lock) ---- */

/* Where the source's thread is in f: spans it has wholly submitted are
 * dropped (their end becomes the start). */
static position feed_position(feed *f)
{
    size_t gone = 0;
    while (gone < f->n_spans && f->spans[gone].at + f->spans[gone].len <= f->consumed) {
        const span *s = &f->spans[gone++];
        if (!s->header) f->start = (position){s->seq + 1, f->stream, s->offset + s->len};
    }
    if (gone > 0) {
        f->n_spans -= gone;
        memmove(f->spans, f->spans + gone, f->n_spans * sizeof *f->spans);
    }
    const span *s = f->n_spans ? &f->spans[0] : NULL;
    if (s && !s->header && f->consumed > s->at)
        return (position){s->seq, f->stream, s->offset + (f->consumed - s->at)};
    return f->start;
}

/* ---- the checkpoint hooks ---- */

int sl_stdin_wal_save(sl_stdin_wal *w, sl_buf *state, sl_error *err)
{
    (void)err;
    pthread_mutex_lock(&w->lock);
    position p = w->reading ? feed_position(w->reading) : w->resume;
    const char *header = w->reading ? w->reading->header : w->header;
    size_t header_len = w->reading ? w->reading->header_len : w->header_len;
    sl_buf_printf(state, "{\"generation\":\"%s\",\"seq\":%" PRIu64 ",\"stream\":%" PRIu64 ",\"offset\":%" PRIu64,
                  w->generation, p.seq, p.stream, p.offset);
    if (p.offset > 0 && header && has_header(w)) {
        sl_buf_puts(state, ",\"header\":");
        sl_json_encode_string(state, header, header_len);
    }
    sl_buf_putc(state, '}');
    pthread_mutex_unlock(&w->lock);
    return 0;
}

int sl_stdin_wal_restore(sl_stdin_wal *w, const char *state, size_t len, sl_error *err)
{
    free(w->header);
    w->header = NULL;
    w->header_len = 0;
    if (!state) {
        w->resumed = false;
        new_generation(w->generation);
        w->restored = w->resume = (position){0, 1, 0};
        w->committed_seq = 0;
        return 0;
    }
    sl_arena a;
    sl_arena_init(&a, 1024);
    sl_value doc;
    int rc = sl_state_parse(&a, state, len, "the saved standard input position", &doc, err);
    const char *generation = rc == 0 ? sl_state_string(&a, &doc, "generation") : NULL;
    position p = {0};
    if (rc == 0 && (!generation || strlen(generation) != 16 || !sl_state_uint(&doc, "seq", &p.seq) ||
                    !sl_state_uint(&doc, "stream", &p.stream) || !sl_state_uint(&doc, "offset", &p.offset)))
        rc = sl_errorf(err, "the saved standard input position is malformed");
    if (rc == 0) {
        const sl_value *header = sl_state_get(&doc, "header");
        if (header && header->type == SL_STRING) {
            w->header = xmemdup(header->as.s, header->len);
            w->header_len = header->len;
        }
        memcpy(w->generation, generation, 17);
        w->restored = w->resume = p;
        w->committed_seq = p.seq;
        w->resumed = true;
    }
    sl_arena_free(&a);
    return rc;
}

int sl_stdin_wal_commit(sl_stdin_wal *w, const char *state, size_t len, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 1024);
    sl_value doc;
    uint64_t seq = 0;
    int rc = sl_state_parse(&a, state, len, "the standard input position", &doc, err);
    if (rc == 0 && !sl_state_uint(&doc, "seq", &seq)) rc = sl_errorf(err, "the standard input position has no seq");
    sl_arena_free(&a);
    if (rc < 0) return -1;
    pthread_mutex_lock(&w->lock);
    uint64_t keep = w->committed_seq < seq ? w->committed_seq : seq;
    w->committed_seq = seq;
    sl_wal *wal = w->wal;
    pthread_mutex_unlock(&w->lock);
    if (!wal || keep == 0) return 0;
    sl_error rerr = {0};
    int deleted = sl_wal_release(wal, keep - 1, &rerr);
    if (deleted < 0)   /* the segments stay; the next checkpoint tries again */
        sl_warn(w->name, "cannot release write-ahead log segments: %s", rerr.msg);
    else if (deleted > 0)
        sl_debug(w->name, "released %d write-ahead log segment%s (records before %" PRIu64 ")", deleted,
                 deleted == 1 ? "" : "s", keep);
    return 0;
}

/* ---- metrics ---- */

static void metric_text(sl_buf *prom, const char *name, const char *type, const char *help, const char *component,
                        const char *value)
{
    sl_buf_printf(prom, "# HELP %s %s\n# TYPE %s %s\n%s{component=\"", name, help, name, type, name);
    sl_prom_escape(prom, component);
    sl_buf_printf(prom, "\"} %s\n", value);
}

static void metric(sl_buf *prom, const char *name, const char *type, const char *help, const char *component,
                   uint64_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64, value);
    metric_text(prom, name, type, help, component, text);
}

static void metric_seconds(sl_buf *prom, const char *name, const char *help, const char *component, uint64_t ns)
{
    char text[32];
    snprintf(text, sizeof text, "%.6f", (double)ns / 1e9);
    metric_text(prom, name, "gauge", help, component, text);
}

void sl_stdin_wal_metrics(sl_stdin_wal *w, const char *component, sl_buf *prom)
{
    pthread_mutex_lock(&w->lock);
    sl_wal *wal = w->wal;
    pthread_mutex_unlock(&w->lock);
    if (!wal) return;
    sl_wal_stats st;
    sl_wal_get_stats(wal, &st);
    metric(prom, "sluice_stdin_wal_records_total", "counter",
           "Lines (frames) of standard input appended to the write-ahead log and durable by its sync policy.",
           component, atomic_load(&w->acked_records));
    metric(prom, "sluice_stdin_wal_bytes_total", "counter",
           "Bytes of standard input appended to the write-ahead log and durable by its sync policy.", component,
           atomic_load(&w->acked_bytes));
    metric(prom, "sluice_stdin_wal_replayed_bytes_total", "counter",
           "Bytes an earlier run logged that this run replayed before reading standard input.", component,
           atomic_load(&w->replayed_bytes));
    metric(prom, "sluice_stdin_wal_segments", "gauge", "Segment files in the write-ahead log.", component,
           st.segments);
    metric(prom, "sluice_stdin_wal_unsynced_bytes", "gauge",
           "Bytes appended to the write-ahead log and not yet made durable (fdatasync).", component,
           st.unsynced_bytes);
    metric(prom, "sluice_stdin_wal_fsyncs_total", "counter", "fdatasyncs that made logged input durable.",
           component, st.fsyncs);
    metric_seconds(prom, "sluice_stdin_wal_fsync_p50_seconds", "Median fdatasync latency of the write-ahead log.",
                   component, st.fsync_p50_ns);
    metric_seconds(prom, "sluice_stdin_wal_fsync_p99_seconds", "99th percentile fdatasync latency of the "
                   "write-ahead log.", component, st.fsync_p99_ns);
    metric(prom, "sluice_stdin_wal_quarantined_segments", "gauge",
           "Damaged segments moved to quarantine when the log was opened (see the log line).", component,
           atomic_load(&w->quarantined));
    metric(prom, "sluice_stdin_wal_repaired_bytes", "gauge",
           "Bytes cut off or lost to damage when the log was opened: a torn tail, plus what followed damage "
           "in quarantined segments.", component, atomic_load(&w->torn_bytes) + atomic_load(&w->lost_bytes));
}

/* ---- acknowledging ---- */

/* Makes everything logged so far durable, and acknowledges it. */
static int acknowledge(sl_stdin_wal *w, sl_error *err)
{
    uint64_t records = atomic_load(&w->logged_records), bytes = atomic_load(&w->logged_bytes);
    if (w->policy != SL_WAL_SYNC_OS && sl_wal_sync(w->wal, err) < 0) return -1;
    if (bytes > atomic_load(&w->acked_bytes)) {
        atomic_store(&w->acked_records, records);
        atomic_store(&w->acked_bytes, bytes);
        sl_debug(w->name, "acknowledged %" PRIu64 " lines (%" PRIu64 " bytes) of standard input", records, bytes);
    }
    return 0;
}

/* `group_commit`: acknowledges every interval. A failed sync leaves the log
 * unusable: the logger's next append fails the run. */
static void *syncer_main(void *arg)
{
    sl_stdin_wal *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->syncer_stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += (long)w->group_commit_ms * 1000000L;
        t.tv_sec += t.tv_nsec / 1000000000L;
        t.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->wake, &w->lock, &t);
        if (w->syncer_stop) break;
        pthread_mutex_unlock(&w->lock);
        sl_error err = {0};
        int rc = acknowledge(w, &err);
        pthread_mutex_lock(&w->lock);
        if (rc < 0) {
            sl_err(w->name, "%s", err.msg);
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- the logger thread ---- */

typedef struct logger {
    sl_stdin_wal *w;
    feed *f;               /* the current stream's feed, or NULL */
    uint64_t stream, at;   /* the current stream, and its bytes logged (or replayed) so far */
    position cursor;       /* where a new feed starts */
} logger;

static void logger_fail(logger *lg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logger_fail(logger *lg, const char *fmt, ...)
{
    sl_stdin_wal *w = lg->w;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&w->lock);
    if (!w->logger_failed) {
        w->logger_failed = true;
        char msg[SL_ERROR_MAX];
        vsnprintf(msg, sizeof msg, fmt, ap);
        sl_errorf(&w->logger_err, "%s", msg);
    }
    pthread_mutex_unlock(&w->lock);
    va_end(ap);
    if (lg->f) feed_close_write(w, lg->f);   /* the source's thread sees the end */
}

/* Sends bytes of record seq (stream offset `offset`) to the source's
 * thread: data lies in `owned` (a read buffer the feed takes over, given
 * back through the spares), or when that is NULL it is copied. Waits while
 * the queue is full. -1 when the source's thread no longer reads (the run
 * is ending). */
static int send_span(logger *lg, const char *data, size_t len, uint64_t seq, uint64_t offset, bool header,
                     unsigned char *owned)
{
    sl_stdin_wal *w = lg->w;
    feed *f = lg->f;
    chunk *c = malloc(sizeof *c);
    if (!c) abort();
    *c = (chunk){NULL, owned, owned ? data : xmemdup(data, len), 0, len};
    pthread_mutex_lock(&w->lock);
    while (f->queued >= QUEUE_CHUNKS && !f->read_done) pthread_cond_wait(&f->change, &w->lock);
    if (f->read_done) {
        pthread_mutex_unlock(&w->lock);
        if (!owned) free((char *)c->bytes);
        free(c);
        return -1;
    }
    if (f->n_spans == f->cap_spans) {
        f->cap_spans = f->cap_spans ? 2 * f->cap_spans : 64;
        f->spans = realloc(f->spans, f->cap_spans * sizeof *f->spans);
        if (!f->spans) abort();
    }
    f->spans[f->n_spans++] = (span){f->sent, len, seq, offset, header};
    f->sent += len;
    if (!header && offset == 0 && !f->header && has_header(w)) {   /* keep the header row for the state */
        size_t n = sl_format_frame(&w->stream->format, data, len, false);
        if (n > 0) {
            f->header = xmemdup(data, n);
            f->header_len = n;
        }
    }
    bool was = f->head != NULL;
    if (f->tail) f->tail->next = c;
    else f->head = c;
    f->tail = c;
    f->queued++;
    if (!was) feed_signal(f);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* Starts the feed of lg->stream at lg->cursor; resuming in the middle of a
 * stream with a header row sends the saved header first. */
static int new_feed(logger *lg)
{
    sl_stdin_wal *w = lg->w;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        logger_fail(lg, "cannot create an eventfd: %s", strerror(errno));
        return -1;
    }
    feed *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->stream = lg->stream;
    f->efd = efd;
    pthread_cond_init(&f->change, NULL);
    f->start = lg->cursor;
    pthread_mutex_lock(&w->lock);
    if (w->last_feed) w->last_feed->next = f;
    else w->feeds = f;
    w->last_feed = f;
    pthread_mutex_unlock(&w->lock);
    lg->f = f;
    if (lg->cursor.offset == 0 || !has_header(w) || lg->cursor.stream != w->restored.stream) return 0;
    if (!w->header) {
        sl_warn(w->name, "the checkpoint holds no CSV header row for input stream %" PRIu64
                "; the first row read is taken as the header", lg->stream);
        return 0;
    }
    pthread_mutex_lock(&w->lock);
    f->header = xmemdup(w->header, w->header_len);
    f->header_len = w->header_len;
    pthread_mutex_unlock(&w->lock);
    return send_span(lg, w->header, w->header_len, lg->cursor.seq, lg->cursor.offset, true, NULL);
}

/* The current stream ended: nothing follows in its feed. */
static void end_feed(logger *lg, position after)
{
    sl_stdin_wal *w = lg->w;
    if (lg->f) {
        pthread_mutex_lock(&w->lock);
        lg->f->ended = true;
        lg->f->after = after;
        pthread_mutex_unlock(&w->lock);
        feed_close_write(w, lg->f);
    }
    lg->f = NULL;
    lg->cursor = after;
    lg->stream = after.stream;
    lg->at = 0;
}

/* Sends the records after the restored position. 0, or -1 when the run is
 * ending or the log cannot be read. */
static int replay(logger *lg)
{
    sl_stdin_wal *w = lg->w;
    sl_error err = {0};
    sl_wal_reader *r = sl_wal_reader_open(w->dir, w->restored.seq, &err);
    if (!r) {
        logger_fail(lg, "cannot read the write-ahead log: %s", err.msg);
        return -1;
    }
    uint64_t seq;
    const void *p;
    size_t n;
    int rc;
    bool foreign_seen = false;
    while ((rc = sl_wal_reader_next(r, &seq, &p, &n, &err)) == 1) {
        if (atomic_load(&w->stop)) break;
        const unsigned char *rec = p;
        if (n < RECORD_HEADER || (rec[0] != KIND_DATA && rec[0] != KIND_END)) {
            if (!foreign_seen)
                sl_warn(w->name, "record %" PRIu64 " of the write-ahead log %s is not one this source wrote; "
                        "skipping such records", seq, w->dir);
            foreign_seen = true;
            continue;
        }
        uint64_t stream = get64(rec + 1), offset = get64(rec + 9);
        if (stream < lg->stream) continue;   /* before the position */
        if (stream > lg->stream) {
            sl_warn(w->name, "input stream %" PRIu64 " ends in the write-ahead log without its end record "
                    "(a damaged segment?); going on with stream %" PRIu64, lg->stream, stream);
            end_feed(lg, (position){seq, stream, 0});
        }
        if (rec[0] == KIND_END) {
            if (!lg->f && new_feed(lg) < 0) break;
            end_feed(lg, (position){seq + 1, lg->stream + 1, 0});
            continue;
        }
        uint64_t len = n - RECORD_HEADER;
        if (len == 0 || offset + len <= lg->at) continue;   /* submitted before the checkpoint */
        if (offset > lg->at)
            sl_warn(w->name, "bytes %" PRIu64 " to %" PRIu64 " of input stream %" PRIu64 " are missing from "
                    "the write-ahead log (a damaged segment was quarantined); going on after them",
                    lg->at, offset, lg->stream);
        uint64_t skip = lg->at > offset ? lg->at - offset : 0;
        if (!lg->f && new_feed(lg) < 0) break;
        if (send_span(lg, (const char *)rec + RECORD_HEADER + skip, len - skip, seq, offset + skip, false, NULL) < 0)
            break;
        atomic_fetch_add(&w->replayed_bytes, len - skip);
        lg->at = offset + len;
    }
    if (rc < 0) logger_fail(lg, "cannot read the write-ahead log %s: %s", w->dir, err.msg);
    sl_wal_reader_close(r);
    /* logger_failed is only set on this thread */
    return rc < 0 || w->logger_failed || atomic_load(&w->stop) ? -1 : 0;
}

/* A read buffer for the logger: a spare one the source's thread is done
 * with, else a new one. */
static unsigned char *take_buffer(sl_stdin_wal *w)
{
    pthread_mutex_lock(&w->lock);
    unsigned char *buf = w->n_spare ? w->spare[--w->n_spare] : NULL;
    pthread_mutex_unlock(&w->lock);
    if (!buf && !(buf = malloc(RECORD_HEADER + w->buf_cap))) abort();
    return buf;
}

/* Appends the first len of the total bytes held in *bufp (after the record
 * header room) as one data record, then hands the buffer to the source's
 * thread; *bufp then holds the total - len bytes after them (moved to the
 * start), in a buffer of its own. -1 when the log failed. */
static int log_data(logger *lg, unsigned char **bufp, size_t len, size_t total, uint64_t frames)
{
    sl_stdin_wal *w = lg->w;
    unsigned char *buf = *bufp;
    sl_error err = {0};
    uint64_t seq;
    buf[0] = KIND_DATA;
    put64(buf + 1, lg->stream);
    put64(buf + 9, lg->at);
    if (sl_wal_append(w->wal, buf, RECORD_HEADER + len, &seq, &err) < 0) {
        logger_fail(lg, "cannot log standard input: %s", err.msg);
        return -1;
    }
    atomic_fetch_add(&w->logged_records, frames);
    atomic_fetch_add(&w->logged_bytes, len);
    sl_debug(w->name, "logged %" PRIu64 " lines (%zu bytes) as record %" PRIu64 "; input stream %" PRIu64
             " is logged up to byte %" PRIu64, frames, len, seq, lg->stream, lg->at + len);
    uint64_t offset = lg->at;
    lg->at += len;
    if (w->policy == SL_WAL_SYNC_ALWAYS && acknowledge(w, &err) < 0) {
        logger_fail(lg, "%s", err.msg);
        return -1;
    }
    /* The rest moves first: once sent, the buffer may be read and recycled at once. */
    char *data = (char *)buf + RECORD_HEADER;
    *bufp = take_buffer(w);
    memcpy(*bufp + RECORD_HEADER, data + len, total - len);
    /* At a stop the source's thread reads no more: the record waits for the next run. */
    if (atomic_load(&w->stop) || send_span(lg, data, len, seq, offset, false, buf) < 0) {
        pthread_mutex_lock(&w->lock);
        recycle(w, buf);
        pthread_mutex_unlock(&w->lock);
    }
    return 0;
}

/* Logs the end of the current stream. */
static int log_end(logger *lg)
{
    sl_stdin_wal *w = lg->w;
    unsigned char rec[RECORD_HEADER];
    rec[0] = KIND_END;
    put64(rec + 1, lg->stream);
    put64(rec + 9, lg->at);
    uint64_t seq;
    sl_error err = {0};
    if (sl_wal_append(w->wal, rec, sizeof rec, &seq, &err) < 0) {
        logger_fail(lg, "cannot log the end of standard input: %s", err.msg);
        return -1;
    }
    sl_debug(w->name, "logged the end of input stream %" PRIu64 " (%" PRIu64 " bytes) as record %" PRIu64,
             lg->stream, lg->at, seq);
    end_feed(lg, (position){seq + 1, lg->stream + 1, 0});
    return 0;
}

/* Waits until standard input is readable; false when the run is ending. */
static bool wait_input(sl_stdin_wal *w)
{
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    while (!atomic_load(&w->stop)) {
        int n = poll(&pfd, 1, POLL_MS);
        if (n > 0 || (n < 0 && errno != EINTR)) return true;
    }
    return false;
}

/* Moves *framed past the complete frames of data[0..len), counting them. */
static void frame(const sl_format *fmt, const char *data, size_t len, size_t *framed, uint64_t *frames)
{
    size_t k;
    while (*framed < len && (k = sl_format_frame(fmt, data + *framed, len - *framed, false)) > 0) {
        *framed += k;
        (*frames)++;
    }
}

/* Reads standard input into the log until its end, a read error or a stop. */
static void read_input(logger *lg)
{
    sl_stdin_wal *w = lg->w;
    if (!lg->f && new_feed(lg) < 0) return;
    if (!wait_input(w)) return;
    sl_error err = {0};
    sl_reader *r = sl_reader_from_fd(STDIN_FILENO, 0, "<stdin>", &err);
    if (!r) {
        logger_fail(lg, "%s", err.msg);
        return;
    }
    const sl_format *fmt = &w->stream->format;
    size_t cap = w->buf_cap;
    unsigned char *buf = take_buffer(w);
#define DATA ((char *)buf + RECORD_HEADER)
    size_t len = 0, framed = 0;   /* bytes read; of those, complete frames */
    uint64_t frames = 0;
    for (;;) {
        if (atomic_load(&w->stop)) {
            /* Everything read from standard input goes into the log for the
             * next run (or the pipeline a reload starts), an incomplete last
             * frame too: the input that follows completes it. So do bytes
             * the reader took from the descriptor and holds. */
            while (len > 0 && log_data(lg, &buf, len, len, frames + (len > framed)) == 0) {
                len = framed = frames = 0;
                if (sl_reader_compression(r) != SL_COMPRESSION_NONE || sl_reader_raw_offset(r) == sl_reader_offset(r))
                    break;
                ssize_t n = sl_reader_read(r, DATA, cap, &err);   /* from the reader's buffer: never blocks */
                len = n > 0 ? (size_t)n : 0;
                frame(fmt, DATA, len, &framed, &frames);
            }
            break;
        }
        /* Log before a read that could block, so that input that pauses is
         * acknowledged and processed at once. */
        if (framed > 0 && (framed >= LOG_CHUNK || cap - len < READ_CHUNK || !sl_stream_readable_now(STDIN_FILENO))) {
            if (log_data(lg, &buf, framed, len, frames) < 0) break;
            len -= framed;
            framed = 0;
            frames = 0;
        }
        /* Plain input with nothing left in the reader: wait for more where a
         * stop is noticed (compressed input is read in full chunks). */
        if (sl_reader_compression(r) == SL_COMPRESSION_NONE && sl_reader_raw_offset(r) == sl_reader_offset(r) &&
            !wait_input(w))
            continue;
        size_t want = cap - len < READ_CHUNK ? cap - len : READ_CHUNK;
        ssize_t n = sl_reader_read(r, DATA + len, want, &err);
        if (n < 0) {
            /* The stream ends here: whole frames are kept, the rest goes to
             * the DLQ with the error (on the source's thread). */
            if (framed > 0 && log_data(lg, &buf, framed, len, frames) < 0) break;
            len -= framed;
            feed *f = lg->f;
            size_t rest = len < SL_STREAM_DLQ_HEAD ? len : SL_STREAM_DLQ_HEAD;
            pthread_mutex_lock(&w->lock);
            f->error = strdup(err.msg);
            f->rest = xmemdup(DATA, rest);
            f->rest_len = rest;
            f->rest_offset = lg->at;
            pthread_mutex_unlock(&w->lock);
            if (!f->error) abort();
            log_end(lg);
            break;
        }
        if (n == 0) {   /* end of file: the last frame may lack its line break */
            if (len > framed) frames++;
            if (len > 0 && log_data(lg, &buf, len, len, frames) < 0) break;
            log_end(lg);
            break;
        }
        len += (size_t)n;
        frame(fmt, DATA, len, &framed, &frames);
        if (framed == 0 && len == cap) {
            /* A frame longer than the buffer (so over max_record_bytes): logged
             * in pieces; the reading loop sends it to the DLQ. */
            if (log_data(lg, &buf, len, len, 0) < 0) break;
            len = 0;
        }
    }
#undef DATA
    pthread_mutex_lock(&w->lock);
    recycle(w, buf);
    pthread_mutex_unlock(&w->lock);
    sl_reader_close(r);
}

static void *logger_main(void *arg)
{
    sl_stdin_wal *w = arg;
    logger lg = {.w = w, .stream = w->restored.stream, .at = w->restored.offset, .cursor = w->restored};
    if (replay(&lg) == 0) {
        sl_info(w->name, "write-ahead log %s: %" PRIu64 " bytes logged earlier to replay; standard input "
                "continues input stream %" PRIu64 " at byte %" PRIu64, w->dir,
                atomic_load(&w->replayed_bytes), lg.stream, lg.at);
        read_input(&lg);
    }
    if (lg.f) feed_close_write(w, lg.f);
    pthread_mutex_lock(&w->lock);
    w->logger_done = true;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- opening the log ---- */

/* Makes the log's directory belong to this generation: a log of another
 * one is discarded. */
static int claim_generation(sl_stdin_wal *w, sl_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" GENERATION_FILE, w->dir);
    sl_buf current;
    sl_buf_init(&current);
    bool same = sl_read_file(path, &current) == 0 && current.len == 16 &&
                memcmp(current.data, w->generation, 16) == 0;
    sl_buf_free(&current);
    if (same) return 0;
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(w->dir, &info, err);
    if (n < 0) return -1;
    uint64_t records = 0;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char seg[4200];
        snprintf(seg, sizeof seg, "%s/%s", w->dir, info[i].name);
        records += info[i].scan.records;
        if (unlink(seg) < 0 && errno != ENOENT) rc = sl_errorf(err, "cannot delete %s: %s", seg, strerror(errno));
    }
    free(info);
    if (rc < 0) return -1;
    if (n > 0) {
        sl_warn(w->name, "discarding the write-ahead log in %s (%d segment%s, %" PRIu64 " records): %s", w->dir, n,
                n == 1 ? "" : "s", records,
                w->resumed ? "it does not belong to the checkpoint this run resumes from"
                           : "no checkpoint covers it, so the run starts from the beginning");
        if (sl_fsync_dir(w->dir, err) < 0) return -1;
    }
    return sl_write_file_atomic(path, w->generation, 16, err);
}

static int open_log(sl_stdin_wal *w, sl_source_ctx *ctx, sl_error *err)
{
    if (asprintf(&w->dir, "%s/wal/%s", sl_source_data_dir(ctx), w->name) < 0) abort();
    if (sl_mkdirs(w->dir, err) < 0 || claim_generation(w, err) < 0)
        return sl_error_prefix(err, "write-ahead log %s", w->dir);
    sl_wal_recovery rec;
    sl_wal *wal = sl_wal_open(w->dir, &w->opts, &rec, err);
    if (!wal) return sl_error_prefix(err, "cannot open the write-ahead log %s", w->dir);
    atomic_store(&w->quarantined, rec.quarantined);
    atomic_store(&w->torn_bytes, rec.torn_bytes);
    atomic_store(&w->lost_bytes, rec.lost_bytes);
    if (rec.first_problem[0])
        sl_warn(w->name, "write-ahead log %s was repaired: %s (%" PRIu64 " segments quarantined, %" PRIu64
                " bytes lost, %" PRIu64 " torn bytes truncated)", w->dir, rec.first_problem, rec.quarantined,
                rec.lost_bytes, rec.torn_bytes);
    uint64_t next = sl_wal_next_seq(wal);
    pthread_mutex_lock(&w->lock);
    w->wal = wal;
    if (w->restored.seq > next) {   /* the log was replaced: what it gets from now on is new */
        w->restored.seq = w->resume.seq = next;
        w->committed_seq = next;
    }
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* ---- the source's thread ---- */

/* The feed after prev (the first one when prev is NULL), once the logger
 * made it; NULL when there is none (or the run is stopping). */
static feed *next_feed(sl_stdin_wal *w, sl_source_ctx *ctx, feed *prev)
{
    for (;;) {
        pthread_mutex_lock(&w->lock);
        feed *f = prev ? prev->next : w->feeds;
        bool done = w->logger_done;
        pthread_mutex_unlock(&w->lock);
        if (f) return f;
        if (done || !sl_source_sleep(ctx, WAIT_MS)) return NULL;
    }
}

/* The reader's function over a feed (codec/reader.h): copies the queued
 * bytes, waiting while there are none; 0 at the feed's end. A read that
 * empties the queue returns short, so that the reading loop polls the
 * eventfd (where a stop is noticed) before it reads again. */
typedef struct feed_reader {
    sl_stdin_wal *w;
    feed *f;
} feed_reader;

static ssize_t read_queue(void *arg, void *out, size_t n, sl_error *err)
{
    (void)err;
    feed_reader *fr = arg;
    sl_stdin_wal *w = fr->w;
    feed *f = fr->f;
    size_t got = 0;
    pthread_mutex_lock(&w->lock);
    while (!f->head && !f->write_done) pthread_cond_wait(&f->change, &w->lock);
    while (got < n && f->head) {
        chunk *c = f->head;
        size_t k = c->end - c->at < n - got ? c->end - c->at : n - got;
        pthread_mutex_unlock(&w->lock);   /* the logger does not touch a queued chunk */
        memcpy((char *)out + got, c->bytes + c->at, k);
        pthread_mutex_lock(&w->lock);
        c->at += k;
        got += k;
        if (c->at < c->end) break;
        f->head = c->next;
        if (!f->head) f->tail = NULL;
        f->queued--;
        if (c->buf) recycle(w, c->buf);
        else free((char *)c->bytes);
        free(c);
        if (!f->head) feed_signal(f);   /* cleared; and the logger may send again */
        else pthread_cond_broadcast(&f->change);
    }
    pthread_mutex_unlock(&w->lock);
    return (ssize_t)got;
}

/* Reads one feed. 0 at its end, 1 when the pipeline is stopping, -1 with err. */
static int read_feed(sl_stdin_wal *w, sl_source_ctx *ctx, feed *f, sl_error *err)
{
    (void)err;
    pthread_mutex_lock(&w->lock);
    w->reading = f;
    pthread_mutex_unlock(&w->lock);
    if (!sl_stream_wait_readable(ctx, f->efd)) return 1;
    feed_reader fr = {w, f};
    sl_reader *r = sl_reader_from_fn(read_queue, &fr, "<stdin>");
    int rc = sl_stream_read(w->stream, ctx, r, "<stdin>", 0, f->efd, 0, &f->consumed);
    sl_reader_close(r);
    return rc;
}

static int consume(sl_stdin_wal *w, sl_source_ctx *ctx, sl_error *err)
{
    for (feed *f = next_feed(w, ctx, NULL); f; f = next_feed(w, ctx, f)) {
        int rc = read_feed(w, ctx, f, err);
        if (rc != 0) return rc < 0 ? -1 : 0;
        pthread_mutex_lock(&w->lock);
        bool ended = f->ended;
        if (ended) {
            w->resume = f->after;
            w->reading = NULL;
        }
        pthread_mutex_unlock(&w->lock);
        if (f->error) {
            sl_err(w->name, "%s; records read before the error are kept", f->error);
            sl_source_dlq(ctx, f->rest, f->rest_len, (sl_position){0, f->rest_offset}, "<stdin>", "read_error",
                          "%s", f->error);
        }
        /* Not ended: the logger stopped or failed, or the reading loop gave
         * the input up (a bad CSV header). */
        if (!ended) return 0;
    }
    return 0;
}

int sl_stdin_wal_run(sl_stdin_wal *w, sl_source_ctx *ctx, sl_error *err)
{
    if (open_log(w, ctx, err) < 0) return -1;
    size_t max_record = w->stream->format.max_record_bytes;
    w->buf_cap = (max_record + 1 > LOG_CHUNK ? max_record + 1 : LOG_CHUNK) + READ_CHUNK;
    if (w->buf_cap > SL_WAL_MAX_RECORD - RECORD_HEADER) w->buf_cap = SL_WAL_MAX_RECORD - RECORD_HEADER;
    bool syncer = w->policy == SL_WAL_SYNC_GROUP;
    if (syncer && pthread_create(&w->syncer, NULL, syncer_main, w) != 0) abort();
    if (pthread_create(&w->logger, NULL, logger_main, w) != 0) abort();
    int rc = consume(w, ctx, err);

    atomic_store(&w->stop, true);
    pthread_mutex_lock(&w->lock);
    for (feed *f = w->feeds; f; f = f->next) {   /* a waiting send returns */
        f->read_done = true;
        pthread_cond_broadcast(&f->change);
    }
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->logger, NULL);
    if (syncer) {
        pthread_mutex_lock(&w->lock);
        w->syncer_stop = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->syncer, NULL);
    }
    sl_error serr = {0};
    if (acknowledge(w, &serr) < 0 && rc == 0) {   /* what the logger appended last */
        *err = serr;
        rc = -1;
    }
    if (rc == 0 && w->logger_failed) {
        *err = w->logger_err;
        rc = -1;
    }
    return rc;
}
