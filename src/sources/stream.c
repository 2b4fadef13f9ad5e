/* stream.c — the reading loop shared by the file and stdin sources.
 *
 * Input is read in chunks straight into the data buffer of the batch being
 * filled and cut into frames where it lies: sl_batch_add_frame records
 * (offset, length) and nothing is copied. When a batch is full (records or
 * bytes), the partial frame at its end — the only bytes that are ever copied
 * — is carried to the front of the next batch.
 *
 * A batch's buffer holds max(batch bytes, max_record_bytes) plus one read
 * chunk, so a partial frame carried over always leaves room to read. A frame
 * that grows past max_record_bytes is never held whole: its first 4 KiB are
 * kept for the DLQ entry and the rest is skipped, scanning for its end
 * (quote-aware for CSV), before framing resumes after it.
 *
 * Files are read with read(2), 128 KiB at a time, not mapped: batches own
 * their bytes, so a mapping would still be copied into them, and mmap plus
 * that copy cost more CPU than read (0.198 against 0.184 CPU s/GB,
 * bench/read_vs_mmap.c); reading the mapping in place would save 0.03 CPU
 * s/GB (1 % of W1) at the price of batches pinning the mapping and of
 * SIGBUS when a file is truncated underneath. Larger reads cost more too:
 * 1 MiB reads carry more of the batch that a record limit cuts short into
 * the next one (W1 paired CPU ratio 1.05 against 128 KiB; 512 KiB: 1.02).
 *
 * Polled input (standard input, the queue from stdin's write-ahead log):
 * a read that took all there was hands on the batch only when nothing more
 * is ready (sl_stream_readable_now), so a writer that keeps up fills whole
 * batches rather than one per read (a 64 KiB pipe gave batches of 64 KiB
 * and six times the hand-overs, sink writes and wake-ups), while a pause
 * hands on what was read at once. It does not wait for more: waiting up to
 * 1 ms (10 ms per batch) gave the same batches with `cat` writing (987
 * sink writes for 385 MB either way), paired wall ratios either way under
 * CPU contention, and latency for a slow writer.
 *
 * Positions: file_id as given, offset = decompressed offset of the frame's
 * first byte; `base` below is the stream offset of the batch's data[0].
 */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/log.h"
#include "../core/util.h"

#define READ_CHUNK (128 * 1024)
#define MIN_ROOM 4096             /* less room than this: cut the batch */
#define DLQ_HEAD SL_STREAM_DLQ_HEAD
#define MAX_RECORD_LIMIT (1024ull * 1024 * 1024)
#define POLL_MS 200
#define PIPE_BYTES (1024 * 1024)                     /* asked for; the kernel may allow less */
#define MIN_PIPE_BYTES (64 * 1024)

const char *const sl_stream_format_names[] = {"jsonl", "csv", "text", NULL};

/* ---- options ---- */

static const char *const csv_type_names[] = {"string", "int", "float", "bool", "timestamp"};
static const sl_csv_type csv_types[] = {SL_CSV_STRING, SL_CSV_INT, SL_CSV_FLOAT, SL_CSV_BOOL,
                                        SL_CSV_TIMESTAMP};
#define N_CSV_TYPES (sizeof csv_types / sizeof csv_types[0])

/* A one-character option (csv.delimiter, csv.quote). */
static char option_char(const sl_opts *o, const char *name, sl_diag *diag) {
    const char *s = sl_opts_string(o, name);
    if (!s || strlen(s) != 1 || s[0] == '\n' || s[0] == '\r') {
        sl_diag_error(diag, sl_opts_pos(o, name),
                      "%s must be exactly one character other than a line break", name);
        return 0;
    }
    return s[0];
}

static void add_column(sl_format *f, const char *name, sl_csv_type type) {
    f->csv_columns = realloc(f->csv_columns, (f->csv_column_count + 1) * sizeof *f->csv_columns);
    if (!f->csv_columns) abort();
    sl_csv_column *col = &f->csv_columns[f->csv_column_count++];
    col->name = strdup(name);
    if (!col->name) abort();
    col->type = type;
}

/* csv.columns: {name: type, ...} or [name, ...]. */
static void parse_columns(sl_format *f, const sl_node *n, sl_diag *diag) {
    if (n->kind == SL_NODE_SEQ) {
        for (size_t i = 0; i < n->n_items; i++) {
            if (n->items[i]->kind != SL_NODE_SCALAR) {
                sl_diag_error(diag, n->items[i]->pos, "csv.columns: a column name must be a scalar");
                continue;
            }
            add_column(f, n->items[i]->text, SL_CSV_STRING);
        }
        return;
    }
    if (n->kind != SL_NODE_MAP) {
        sl_diag_error(diag, n->pos,
                      "csv.columns must be a mapping of column name to type, or a list of names");
        return;
    }
    for (size_t i = 0; i < n->n_pairs; i++) {
        const sl_node *v = n->pairs[i].value;
        if (v->kind != SL_NODE_SCALAR) {
            sl_diag_error(diag, v->pos, "csv.columns: the type of '%s' must be a scalar",
                          n->pairs[i].key->text);
            continue;
        }
        size_t t = 0;
        while (t < N_CSV_TYPES && strcmp(v->text, csv_type_names[t]) != 0) t++;
        if (t == N_CSV_TYPES) {
            const char *hint = sl_did_you_mean(v->text, csv_type_names, N_CSV_TYPES);
            sl_diag_error(diag, v->pos,
                          "csv.columns: unknown type '%s' for column '%s' (expected string, "
                          "int, float, bool or timestamp)%s%s%s",
                          v->text, n->pairs[i].key->text, hint ? "; did you mean '" : "",
                          hint ? hint : "", hint ? "'?" : "");
            continue;
        }
        add_column(f, n->pairs[i].key->text, csv_types[t]);
    }
}

int sl_stream_init(sl_stream *s, const char *name, const sl_opts *o, sl_diag *diag) {
    memset(s, 0, sizeof *s);
    s->name = name;
    size_t errors = diag->errors;

    sl_format_kind kind = SL_FORMAT_JSONL;
    sl_format_kind_parse(sl_opts_enum(o, "format"), &kind);   /* the schema checked it */
    sl_format_init(&s->format, kind);

    uint64_t max = sl_opts_size(o, "max_record_bytes");
    if (max == 0 || max > MAX_RECORD_LIMIT)
        sl_diag_error(diag, sl_opts_pos(o, "max_record_bytes"),
                      "max_record_bytes must be between 1 byte and 1GiB");
    else
        s->format.max_record_bytes = max;

    int64_t depth = sl_opts_int(o, "max_depth");
    if (depth < 1 || depth > 1024)
        sl_diag_error(diag, sl_opts_pos(o, "max_depth"), "max_depth must be between 1 and 1024");
    else
        s->format.max_depth = (unsigned)depth;

    s->format.csv.delimiter = option_char(o, "csv.delimiter", diag);
    s->format.csv.quote = option_char(o, "csv.quote", diag);
    if (s->format.csv.delimiter && s->format.csv.delimiter == s->format.csv.quote)
        sl_diag_error(diag, sl_opts_pos(o, "csv.quote"),
                      "csv.quote and csv.delimiter must be different characters");
    s->format.csv_header = sl_opts_bool(o, "csv.header");
    if (sl_opts_has(o, "csv.columns")) parse_columns(&s->format, sl_opts_node(o, "csv.columns"), diag);

    if (kind != SL_FORMAT_CSV) {
        static const char *const csv_options[] = {"csv.delimiter", "csv.quote", "csv.header", "csv.columns"};
        for (size_t i = 0; i < sizeof csv_options / sizeof csv_options[0]; i++)
            if (sl_opts_has(o, csv_options[i]))
                sl_diag_warning(diag, sl_opts_pos(o, csv_options[i]),
                                "%s has no effect unless format is csv", csv_options[i]);
    }

    if (diag->errors == errors && !sl_format_has_header(&s->format)) {
        sl_decode_error derr = {0};
        s->shared = sl_format_stream_new(&s->format, NULL, 0, &derr);
        if (!s->shared) sl_diag_error(diag, sl_opts_pos(o, "format"), "%s", derr.msg);
    }
    if (diag->errors != errors) {
        sl_stream_free(s);
        return -1;
    }
    return 0;
}

void sl_stream_free(sl_stream *s) {
    for (size_t i = 0; i < s->n_headers; i++) sl_format_stream_free(&s->format, s->headers[i]);
    free(s->headers);
    if (s->shared) sl_format_stream_free(&s->format, s->shared);
    sl_format_free(&s->format);
    memset(s, 0, sizeof *s);
}

const void *sl_stream_parse_header(sl_stream *s, const char *row, size_t len, sl_decode_error *derr) {
    void *ctx = sl_format_stream_new(&s->format, row, len, derr);
    if (!ctx) return NULL;
    if (s->n_headers == s->cap_headers) {
        s->cap_headers = s->cap_headers ? 2 * s->cap_headers : 8;
        s->headers = realloc(s->headers, s->cap_headers * sizeof *s->headers);
        if (!s->headers) abort();
    }
    s->headers[s->n_headers++] = ctx;
    return ctx;
}

bool sl_stream_skip_scan(const sl_format *f, bool *in_quote, const char *p, size_t n, size_t *used) {
    if (f->kind != SL_FORMAT_CSV) {
        const char *nl = memchr(p, '\n', n);
        *used = nl ? (size_t)(nl - p) + 1 : n;
        return nl != NULL;
    }
    char quote = f->csv.quote;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == quote) {
            *in_quote = !*in_quote;
        } else if (p[i] == '\n' && !*in_quote) {
            *used = i + 1;
            return true;
        }
    }
    *used = n;
    return false;
}

/* ---- reading ---- */

enum { CUT_OK, CUT_STOPPED, CUT_ABANDON };

typedef struct reading {
    sl_stream *s;
    sl_source_ctx *ctx;
    const char *origin;
    uint64_t file_id;
    const void *stream;     /* decoder context; NULL until a header row is read */
    size_t data_cap, batch_bytes;
    uint32_t batch_records;
    uint64_t skip_before;   /* frames starting before this offset were read before a restart */
    uint64_t *committed;    /* where the source's position is kept, or NULL */
    sl_batch *b;
    uint64_t base;          /* stream offset of b->data[0] */
    size_t scan;            /* first byte of b->data not yet cut into a frame */
    /* an oversized frame being skipped */
    bool skipping, skip_in_quote;
    uint64_t skip_start, skip_len;
    char head[DLQ_HEAD];
    size_t head_len;
} reading;

static sl_batch *new_batch(reading *rd) {
    sl_batch *b = sl_source_batch_new(rd->ctx, rd->data_cap);
    b->origin = rd->origin;
    b->format = &rd->s->format;
    return b;
}

/* Everything before `offset` has been submitted (or was read before a
 * restart): the source's position moves there, before the submit that may
 * park the source for a checkpoint. */
static void commit_position(reading *rd, uint64_t offset) {
    if (rd->skipping && offset > rd->skip_start) offset = rd->skip_start;   /* not dead-lettered yet */
    if (rd->committed && offset > *rd->committed) *rd->committed = offset;
}

/* Hands the frames cut so far to the workers and carries the unframed rest
 * into a new batch. A batch without frames (only a header row or skipped
 * bytes) is reused instead. */
static int cut_batch(reading *rd) {
    sl_batch *old = rd->b;
    size_t carry = old->data_len - rd->scan;
    if (old->count == 0) {
        memmove(old->data, old->data + rd->scan, carry);
    } else {
        rd->b = new_batch(rd);
        memcpy(rd->b->data, old->data + rd->scan, carry);
        old->data_len = rd->scan;
        old->input_bytes = rd->scan;
        old->stream = rd->stream;
    }
    rd->b->data_len = carry;
    rd->base += rd->scan;
    rd->scan = 0;
    commit_position(rd, rd->base);
    if (old != rd->b && sl_source_submit(rd->ctx, old) < 0) return CUT_STOPPED;
    return CUT_OK;
}

static void start_skip(reading *rd) {
    rd->skipping = true;
    rd->skip_in_quote = false;
    rd->skip_start = rd->base + rd->scan;
    rd->skip_len = 0;
    rd->head_len = 0;
}

static void finish_skip(reading *rd) {
    rd->skipping = false;
    if (rd->skip_start < rd->skip_before) return;   /* dead-lettered before the restart */
    sl_source_dlq(rd->ctx, rd->head, rd->head_len, (sl_position){rd->file_id, rd->skip_start},
                  rd->origin, "record_too_large",
                  "record of %llu bytes exceeds max_record_bytes (%zu); its first %zu bytes are kept",
                  (unsigned long long)rd->skip_len, rd->s->format.max_record_bytes, rd->head_len);
}

/* The first frame of a stream whose format has a header row. */
static int read_header(reading *rd, const char *p, size_t len) {
    sl_position pos = {rd->file_id, rd->base + rd->scan};
    size_t keep = len < DLQ_HEAD ? len : DLQ_HEAD;
    if (len > rd->s->format.max_record_bytes) {
        sl_err(rd->s->name, "%s: CSV header row is longer than max_record_bytes (%zu); skipping the file",
               rd->origin, rd->s->format.max_record_bytes);
        sl_source_dlq(rd->ctx, p, keep, pos, rd->origin, "csv_header",
                      "header row longer than max_record_bytes (%zu); file skipped",
                      rd->s->format.max_record_bytes);
        return CUT_ABANDON;
    }
    sl_decode_error derr = {0};
    const void *stream = sl_stream_parse_header(rd->s, p, len, &derr);
    if (!stream) {
        sl_err(rd->s->name, "%s: bad CSV header: %s; skipping the file", rd->origin, derr.msg);
        sl_source_dlq(rd->ctx, p, keep, pos, rd->origin, "csv_header", "bad CSV header: %s; file skipped",
                      derr.msg);
        return CUT_ABANDON;
    }
    rd->stream = stream;
    return CUT_OK;
}

/* Cuts the bytes read so far into frames; at eof the last frame may lack
 * its line break. Cuts the batch when it is full. */
static int cut_frames(reading *rd, bool eof) {
    const sl_format *f = &rd->s->format;
    for (;;) {
        const char *p = rd->b->data + rd->scan;
        size_t avail = rd->b->data_len - rd->scan;
        if (avail == 0) break;
        if (rd->skipping) {
            size_t used;
            bool done = sl_stream_skip_scan(&rd->s->format, &rd->skip_in_quote, p, avail, &used);
            size_t keep = DLQ_HEAD - rd->head_len < used ? DLQ_HEAD - rd->head_len : used;
            memcpy(rd->head + rd->head_len, p, keep);
            rd->head_len += keep;
            rd->scan += used;
            rd->skip_len += used;
            if (done || eof) finish_skip(rd);
            continue;
        }
        size_t len = sl_format_frame(f, p, avail, eof);
        if (len == 0) {
            if (avail <= f->max_record_bytes) break;     /* wait for more input */
            if (!rd->stream) return read_header(rd, p, avail);
            start_skip(rd);
            continue;
        }
        if (!rd->stream) {
            int rc = read_header(rd, p, len);
            if (rc != CUT_OK) return rc;
            rd->scan += len;
            continue;
        }
        sl_position pos = {rd->file_id, rd->base + rd->scan};
        if (pos.offset < rd->skip_before) {
            /* delivered before the restart */
        } else if (len > f->max_record_bytes) {
            size_t keep = len < DLQ_HEAD ? len : DLQ_HEAD;
            sl_source_dlq(rd->ctx, p, keep, pos, rd->origin, "record_too_large",
                          "record of %zu bytes exceeds max_record_bytes (%zu); its first %zu bytes are kept",
                          len, f->max_record_bytes, keep);
        } else {
            sl_batch_add_frame(rd->b, rd->scan, len, pos);
        }
        rd->scan += len;
        if (rd->b->count >= rd->batch_records || rd->scan >= rd->batch_bytes) {
            if (cut_batch(rd) != CUT_OK) return CUT_STOPPED;
        }
    }
    if (!eof && rd->b->data_cap - rd->b->data_len < MIN_ROOM) return cut_batch(rd);
    return CUT_OK;
}

/* Submits what is left at the end of the input. */
static int finish(reading *rd) {
    sl_batch *b = rd->b;
    rd->b = NULL;
    commit_position(rd, rd->base + rd->scan);
    if (b->count == 0) {
        sl_batch_free(b);
        return 0;
    }
    b->data_len = rd->scan;
    b->input_bytes = rd->scan;
    b->stream = rd->stream;
    return sl_source_submit(rd->ctx, b) < 0 ? 1 : 0;
}

/* Graceful stop: the complete frames read so far are delivered. The
 * incomplete rest of a stream that cannot be read again (stdin) goes to the
 * DLQ rather than vanishing; a file's rest is simply not read. */
static void stop_reading(reading *rd, bool replayable) {
    size_t tail = rd->b->data_len - rd->scan;
    if (!replayable && tail > 0 && !rd->skipping)
        sl_source_dlq(rd->ctx, rd->b->data + rd->scan, tail < DLQ_HEAD ? tail : DLQ_HEAD,
                      (sl_position){rd->file_id, rd->base + rd->scan}, rd->origin, "incomplete_at_stop",
                      "the pipeline stopped before the rest of this record arrived (%zu bytes)", tail);
    finish(rd);
}

/* Read error: complete frames are kept; the unterminated rest goes to the
 * DLQ with the error. */
static int read_failed(reading *rd, const sl_error *err) {
    int cut = cut_frames(rd, false);
    if (cut != CUT_OK) {
        sl_batch_free(rd->b);
        return cut == CUT_STOPPED ? 1 : 0;
    }
    if (rd->skipping) finish_skip(rd);
    const char *tail = rd->b->data + rd->scan;
    size_t tail_len = rd->b->data_len - rd->scan;
    sl_err(rd->s->name, "%s; records read before the error are kept", err->msg);
    sl_source_dlq(rd->ctx, tail, tail_len < DLQ_HEAD ? tail_len : DLQ_HEAD,
                  (sl_position){rd->file_id, rd->base + rd->scan}, rd->origin, "read_error",
                  "%s", err->msg);
    return finish(rd);
}

/* Waits until fd is readable; false when the pipeline is stopping. A
 * checkpoint may be taken meanwhile (the caller handed on what it read). */
bool sl_stream_wait_readable(sl_source_ctx *ctx, int fd) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    for (;;) {
        if (sl_source_should_stop(ctx)) return false;
        sl_source_checkpoint_point(ctx);
        int n = poll(&pfd, 1, POLL_MS);
        if (n > 0 || (n < 0 && errno != EINTR)) return true;   /* let read report errors */
    }
}

bool sl_stream_readable_now(int fd) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) != 0;   /* errors: let read report them */
}

void sl_stream_grow_pipe(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) return;
    int have = fcntl(fd, F_GETPIPE_SZ);
    for (int want = PIPE_BYTES; want > have && want >= MIN_PIPE_BYTES; want /= 2)
        if (fcntl(fd, F_SETPIPE_SZ, want) >= 0) return;   /* EPERM, EBUSY: over a limit; try less */
}

int sl_stream_read(sl_stream *s, sl_source_ctx *ctx, sl_reader *r, const char *origin,
                   uint64_t file_id, int poll_fd, uint64_t skip_before, uint64_t *committed) {
    reading *rd = calloc(1, sizeof *rd);
    if (!rd) abort();
    rd->s = s;
    rd->ctx = ctx;
    rd->origin = origin;
    rd->file_id = file_id;
    rd->skip_before = skip_before;
    rd->committed = committed;
    rd->stream = sl_format_has_header(&s->format) ? NULL : s->shared;
    rd->batch_bytes = sl_source_batch_bytes(ctx);
    rd->batch_records = sl_source_batch_records(ctx);
    size_t hold = rd->batch_bytes > s->format.max_record_bytes ? rd->batch_bytes : s->format.max_record_bytes;
    rd->data_cap = hold + READ_CHUNK;
    rd->b = new_batch(rd);

    uint64_t raw_seen = sl_reader_raw_offset(r);
    /* Only after a short read of plain input is nothing left buffered in the
     * reader, so that waiting for the descriptor cannot hold data back. */
    bool drained = false;
    int rc;
    for (;;) {
        bool may_block = poll_fd >= 0 && drained && sl_reader_compression(r) == SL_COMPRESSION_NONE;
        /* More is ready: fill the batch rather than hand on one per read. */
        if (may_block && rd->b->count > 0 && sl_stream_readable_now(poll_fd)) may_block = false;
        /* Input is idle: hand over what was read instead of holding it. */
        if (may_block && rd->b->count > 0 && cut_batch(rd) != CUT_OK) {
            sl_batch_free(rd->b);
            rc = 1;
            break;
        }
        if (may_block) commit_position(rd, rd->base + rd->scan);   /* all read frames are handed on */
        if (sl_source_should_stop(ctx) || (may_block && !sl_stream_wait_readable(ctx, poll_fd))) {
            stop_reading(rd, poll_fd < 0 || s->replayable);
            rc = 1;
            break;
        }
        sl_batch *b = rd->b;
        size_t want = b->data_cap - b->data_len;
        if (want > READ_CHUNK) want = READ_CHUNK;
        if (b->data_len < rd->batch_bytes && rd->batch_bytes - b->data_len < want)
            want = rd->batch_bytes - b->data_len;   /* end reads where the batch ends */
        sl_error err = {0};
        ssize_t n = sl_reader_read(r, b->data + b->data_len, want, &err);
        uint64_t raw = sl_reader_raw_offset(r);
        sl_source_progress(ctx, raw - raw_seen);
        raw_seen = raw;
        if (n < 0) {
            rc = read_failed(rd, &err);
            break;
        }
        b->data_len += (size_t)n;
        drained = (size_t)n < want;
        int cut = cut_frames(rd, n == 0);
        if (cut == CUT_STOPPED) {
            sl_batch_free(rd->b);
            rc = 1;
            break;
        }
        if (cut == CUT_ABANDON) {
            sl_batch_free(rd->b);
            rc = 0;
            break;
        }
        if (n == 0) {
            rc = finish(rd);
            break;
        }
    }
    free(rd);
    return rc;
}
