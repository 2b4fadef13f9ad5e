/* tail_read.c — one reading step of a followed file (see tail_read.h).
 *
 * As in stream.c, bytes are read straight into the data buffer of the batch
 * being filled and cut into frames where they lie; only the unterminated
 * rest is copied, into the file's `pending` buffer at the end of a step and
 * back to the front of the next step's batch. A batch holds
 * max(batch bytes, max_record_bytes) plus one read chunk, so the kept rest
 * (never longer than max_record_bytes) always leaves room to read.
 */
#include "tail_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/log.h"

#define READ_CHUNK (128 * 1024)
#define MIN_ROOM 4096             /* less room than this: hand the batch over */

typedef struct step {
    sl_tail_reader *r;
    sl_tail_file *f;
    sl_batch *b;
    size_t data_cap;
    uint64_t base;                /* file offset of b->data[0] */
    size_t scan;                  /* first byte of b->data not cut into a frame yet */
} step;

enum { CUT_OK, CUT_STOPPED };

bool sl_tail_file_has_rest(const sl_tail_file *f)
{
    return f->pending.len > 0 || f->skipping;
}

void sl_tail_file_rewind(sl_tail_file *f)
{
    f->offset = f->read_offset = 0;
    f->pending.len = 0;
    f->header = NULL;
    f->magic_checked = false;
    f->skipping = false;
    sl_prefix_hash_reset(&f->hash);
}

void sl_tail_file_free(sl_tail_file *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    sl_buf_free(&f->pending);
    free(f->head);
    f->head = NULL;
}

static sl_batch *new_batch(step *s)
{
    sl_batch *b = sl_source_batch_new(s->r->ctx, s->data_cap);
    b->origin = s->f->path;
    b->format = &s->r->stream->format;
    b->stream = s->f->header ? s->f->header : s->r->stream->shared;
    return b;
}

/* Everything before base + scan is handed over, except a frame still being
 * skipped: it is dead-lettered only once its end is found. */
static void commit(step *s)
{
    s->f->offset = s->f->skipping ? s->f->skip_start : s->base + s->scan;
}

/* Submits the frames cut so far and carries the unframed rest into a new
 * batch (a batch without frames is reused instead). */
static int hand_over(step *s)
{
    sl_batch *old = s->b;
    size_t carry = old->data_len - s->scan;
    if (old->count == 0) {
        memmove(old->data, old->data + s->scan, carry);
    } else {
        s->b = new_batch(s);
        memcpy(s->b->data, old->data + s->scan, carry);
        old->data_len = s->scan;
        old->input_bytes = s->scan;
    }
    s->b->data_len = carry;
    s->base += s->scan;
    s->scan = 0;
    commit(s);
    if (old != s->b && sl_source_submit(s->r->ctx, old) < 0) return CUT_STOPPED;
    return CUT_OK;
}

static void start_skip(step *s)
{
    sl_tail_file *f = s->f;
    f->skipping = true;
    f->skip_in_quote = false;
    f->skip_start = s->base + s->scan;
    f->skip_len = 0;
    f->head_len = 0;
    if (!f->head && !(f->head = malloc(SL_STREAM_DLQ_HEAD))) abort();
}

static void finish_skip(step *s)
{
    sl_tail_file *f = s->f;
    f->skipping = false;
    sl_source_dlq(s->r->ctx, f->head, f->head_len, (sl_position){f->file_id, f->skip_start}, f->path,
                  "record_too_large",
                  "record of %llu bytes exceeds max_record_bytes (%zu); its first %zu bytes are kept",
                  (unsigned long long)f->skip_len, s->r->stream->format.max_record_bytes, f->head_len);
}

static size_t frame_length(step *s, const char *p, size_t avail, sl_multiline_mode mode)
{
    const sl_format *fmt = &s->r->stream->format;
    if (s->r->multiline) return sl_multiline_frame(s->r->multiline, p, avail, fmt->max_record_bytes, mode);
    return sl_format_frame(fmt, p, avail, mode == SL_MULTILINE_END);
}

/* Cuts the bytes read so far into frames, handing batches over as they
 * fill. */
static int cut_frames(step *s, sl_multiline_mode mode)
{
    sl_tail_file *f = s->f;
    const sl_format *fmt = &s->r->stream->format;
    size_t batch_bytes = sl_source_batch_bytes(s->r->ctx);
    uint32_t batch_records = sl_source_batch_records(s->r->ctx);
    for (;;) {
        const char *p = s->b->data + s->scan;
        size_t avail = s->b->data_len - s->scan;
        if (avail == 0) break;
        if (f->skipping) {
            size_t used;
            bool done = sl_stream_skip_scan(fmt, &f->skip_in_quote, p, avail, &used);
            size_t keep = SL_STREAM_DLQ_HEAD - f->head_len < used ? SL_STREAM_DLQ_HEAD - f->head_len : used;
            memcpy(f->head + f->head_len, p, keep);
            f->head_len += keep;
            s->scan += used;
            f->skip_len += used;
            if (done) finish_skip(s);
            continue;
        }
        size_t len = frame_length(s, p, avail, mode);
        if (len == 0) {
            if (avail <= fmt->max_record_bytes) break;   /* wait for the rest */
            start_skip(s);
            continue;
        }
        sl_position pos = {f->file_id, s->base + s->scan};
        if (len > fmt->max_record_bytes) {
            size_t keep = len < SL_STREAM_DLQ_HEAD ? len : SL_STREAM_DLQ_HEAD;
            sl_source_dlq(s->r->ctx, p, keep, pos, f->path, "record_too_large",
                          "record of %zu bytes exceeds max_record_bytes (%zu); its first %zu bytes are kept", len,
                          fmt->max_record_bytes, keep);
        } else {
            sl_batch_add_frame(s->b, s->scan, len, pos);
        }
        s->scan += len;
        if ((s->b->count >= batch_records || s->scan >= batch_bytes) && hand_over(s) != CUT_OK)
            return CUT_STOPPED;
    }
    if (mode == SL_MULTILINE_END && f->skipping) finish_skip(s);   /* the file ends inside it */
    if (s->b->data_cap - s->b->data_len < MIN_ROOM) return hand_over(s);
    return CUT_OK;
}

/* Reads exactly n bytes at off unless the file is shorter; returns the bytes
 * read, or -1 with errno. */
static ssize_t read_at(int fd, char *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        if (k == 0) break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* A gzip or zstd file (a compressed rotation the patterns match) is not
 * followed: its bytes are not lines. Returns false while its first bytes
 * are too few to tell. */
static bool check_magic(sl_tail_reader *r, sl_tail_file *f, uint64_t end, sl_multiline_mode mode,
                        sl_tail_read_result *result)
{
    *result = SL_TAIL_READ_OK;
    if (f->read_offset > 0) return f->magic_checked = true;
    unsigned char m[4];
    ssize_t n = read_at(f->fd, (char *)m, end < 4 ? (size_t)end : 4, 0);
    if (n < 0) return f->magic_checked = true;   /* reading reports the error */
    const char *kind = n >= 2 && m[0] == 0x1f && m[1] == 0x8b                                 ? "gzip"
                       : n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd ? "zstd"
                                                                                                 : NULL;
    if (kind) {
        sl_warn(r->name, "not following %s: it is %s-compressed (leave compressed rotations out with "
                "`exclude`, e.g. [\"*.gz\"])", f->path, kind);
        *result = SL_TAIL_READ_GIVE_UP;
        return false;
    }
    if (n < 4 && mode != SL_MULTILINE_END && (n == 0 || m[0] == 0x1f || m[0] == 0x28)) return false;
    return f->magic_checked = true;
}

/* The header row of a CSV file with one: read from the file's start (also
 * when resuming further on). Returns false while it is incomplete or when it
 * is unusable (*result says which). */
static bool read_header(sl_tail_reader *r, sl_tail_file *f, uint64_t end, sl_multiline_mode mode,
                        sl_tail_read_result *result)
{
    *result = SL_TAIL_READ_OK;
    size_t max = r->stream->format.max_record_bytes;
    size_t want = end < max + 1 ? (size_t)end : max + 1;
    char *row = malloc(want + 1);
    if (!row) abort();
    ssize_t got = read_at(f->fd, row, want, 0);
    if (got < 0) {
        sl_err(r->name, "cannot read %s: %s; a restart tries again", f->path, strerror(errno));
        sl_source_dlq(r->ctx, "", 0, (sl_position){f->file_id, 0}, f->path, "read_error", "cannot read: %s",
                      strerror(errno));
        free(row);
        *result = SL_TAIL_READ_GIVE_UP;
        return false;
    }
    size_t len = sl_format_frame(&r->stream->format, row, (size_t)got,
                                 mode == SL_MULTILINE_END && (uint64_t)got == end);
    sl_decode_error derr = {0};
    if ((len == 0 && (size_t)got > max) || len > max) {
        snprintf(derr.msg, sizeof derr.msg, "header row longer than max_record_bytes (%zu)", max);
    } else if (len == 0) {
        free(row);
        return false;   /* the header is still being written */
    } else {
        f->header = sl_stream_parse_header(r->stream, row, len, &derr);
    }
    if (!f->header) {
        sl_err(r->name, "%s: bad CSV header: %s; not following the file", f->path, derr.msg);
        size_t shown = (size_t)got < SL_STREAM_DLQ_HEAD ? (size_t)got : SL_STREAM_DLQ_HEAD;
        sl_source_dlq(r->ctx, row, len && len < shown ? len : shown, (sl_position){f->file_id, 0}, f->path,
                      "csv_header", "bad CSV header: %s; file not followed", derr.msg);
        free(row);
        *result = SL_TAIL_READ_GIVE_UP;
        return false;
    }
    free(row);
    if (f->read_offset < len) {   /* reading starts after the header */
        f->offset = f->read_offset = len;
        f->pending.len = 0;
    }
    return true;
}

/* Logs and dead-letters a failed read at byte `at`. */
static sl_tail_read_result read_failed(sl_tail_reader *r, sl_tail_file *f, uint64_t at, const char *why)
{
    sl_err(r->name, "cannot read %s at byte %llu: %s; the records before are kept, and a restart reads on from "
           "there", f->path, (unsigned long long)at, why);
    sl_source_dlq(r->ctx, "", 0, (sl_position){f->file_id, at}, f->path, "read_error", "cannot read at byte %llu: %s",
                  (unsigned long long)at, why);
    return SL_TAIL_READ_GIVE_UP;
}

sl_tail_read_result sl_tail_read(sl_tail_reader *r, sl_tail_file *f, uint64_t end, sl_multiline_mode mode)
{
    sl_tail_read_result result = SL_TAIL_READ_OK;
    if (!f->magic_checked && !check_magic(r, f, end, mode, &result)) return result;
    if (sl_format_has_header(&r->stream->format) && !f->header && !read_header(r, f, end, mode, &result))
        return result;
    if (f->read_offset >= end && !sl_tail_file_has_rest(f)) return SL_TAIL_READ_OK;
    sl_error err;
    if (sl_prefix_hash_end(&f->hash) < f->read_offset &&
        sl_prefix_hash_catch_up(&f->hash, f->fd, f->read_offset, &err) < 0)   /* truncated: the next look sees it */
        return err.sys_errno ? read_failed(r, f, sl_prefix_hash_end(&f->hash), err.msg) : SL_TAIL_READ_OK;

    size_t batch_bytes = sl_source_batch_bytes(r->ctx), max = r->stream->format.max_record_bytes;
    step s = {.r = r, .f = f, .data_cap = (batch_bytes > max ? batch_bytes : max) + READ_CHUNK};
    s.b = new_batch(&s);
    if (f->pending.len) memcpy(s.b->data, f->pending.data, f->pending.len);
    s.b->data_len = f->pending.len;
    s.base = f->read_offset - f->pending.len;
    f->pending.len = 0;

    for (;;) {
        bool at_end = f->read_offset >= end;
        if (cut_frames(&s, at_end ? mode : SL_MULTILINE_MORE) != CUT_OK) {
            sl_batch_free(s.b);   /* the pipeline failed: nothing is resumed from here */
            return SL_TAIL_READ_STOPPED;
        }
        if (at_end || sl_source_should_stop(r->ctx)) break;
        sl_batch *b = s.b;
        size_t want = b->data_cap - b->data_len;
        if (want > READ_CHUNK) want = READ_CHUNK;
        if (want > end - f->read_offset) want = (size_t)(end - f->read_offset);
        ssize_t n = pread(f->fd, b->data + b->data_len, want, (off_t)f->read_offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            result = read_failed(r, f, f->read_offset, strerror(errno));
            break;
        }
        if (n == 0) {   /* shorter than it was: the next look finds out why */
            end = f->read_offset;
            continue;
        }
        sl_prefix_hash_feed(&f->hash, f->read_offset, b->data + b->data_len, (size_t)n);
        b->data_len += (size_t)n;
        f->read_offset += (uint64_t)n;
        sl_source_progress(r->ctx, (uint64_t)n);
    }

    /* Hand over the complete frames; keep the rest for the next step. */
    sl_prefix_hash_mark(&f->hash);
    sl_batch *b = s.b;
    sl_buf_append(&f->pending, b->data + s.scan, b->data_len - s.scan);
    b->data_len = s.scan;
    b->input_bytes = s.scan;
    commit(&s);
    if (b->count == 0) {
        sl_batch_free(b);
        return sl_source_should_stop(r->ctx) ? SL_TAIL_READ_STOPPED : result;
    }
    if (sl_source_submit(r->ctx, b) < 0) return SL_TAIL_READ_STOPPED;
    return sl_source_should_stop(r->ctx) ? SL_TAIL_READ_STOPPED : result;
}
