/* dlq.c — the dead-letter queue writer (see dlq.h).
 *
 * Entries are formatted into one shared buffer under a mutex and written
 * with write(2) to a file opened O_APPEND. DLQ entries are rare by nature
 * (bad data), so a single lock costs nothing on the hot path, and formatting
 * in the caller's thread means the record's raw bytes never have to outlive
 * their batch.
 */
#include "dlq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/buf.h"
#include "../core/util.h"

#define DLQ_RAW_MAX 4096
#define DLQ_BUFFER_MAX (64 * 1024)

struct sl_dlq {
    pthread_mutex_t lock;
    char *dir, *file;
    int fd;                /* -1 until the first entry */
    sl_buf pending;        /* formatted entries not yet written */
    uint64_t count;
    sl_metrics *metrics;
};

sl_dlq *sl_dlq_new(const char *dir, sl_metrics *metrics)
{
    sl_dlq *d = calloc(1, sizeof *d);
    if (!d) abort();
    pthread_mutex_init(&d->lock, NULL);
    d->dir = strdup(dir);
    size_t n = strlen(dir) + sizeof "/dlq.jsonl";
    d->file = malloc(n);
    if (!d->dir || !d->file) abort();
    snprintf(d->file, n, "%s/dlq.jsonl", dir);
    d->fd = -1;
    sl_buf_init(&d->pending);
    d->metrics = metrics;
    return d;
}

static int open_locked(sl_dlq *d, sl_error *err)
{
    if (sl_mkdirs(d->dir, err) < 0) return sl_error_prefix(err, "cannot open the DLQ");
    d->fd = open(d->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (d->fd < 0) return sl_errorf(err, "cannot open DLQ file %s: %s", d->file, strerror(errno));
    return 0;
}

static int flush_locked(sl_dlq *d, sl_error *err)
{
    if (d->pending.len == 0) return 0;
    if (d->fd < 0 && open_locked(d, err) < 0) return -1;
    size_t off = 0;
    while (off < d->pending.len) {
        ssize_t n = write(d->fd, d->pending.data + off, d->pending.len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            sl_buf_consume(&d->pending, off);
            return sl_errorf(err, "cannot write DLQ file %s: %s", d->file, strerror(e));
        }
        off += (size_t)n;
    }
    d->pending.len = 0;
    return 0;
}

/* Appends "key":"value" (or "key":null), preceded by a comma. */
static void put_string_field(sl_buf *out, const char *key, const char *value)
{
    sl_buf_printf(out, ",\"%s\":", key);
    if (value) sl_json_encode_string(out, value, strlen(value));
    else sl_buf_puts(out, "null");
}

static void put_raw(sl_buf *out, const char *raw, size_t len)
{
    while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r')) len--;
    bool truncated = len > DLQ_RAW_MAX;
    if (truncated) {
        len = DLQ_RAW_MAX;
        /* Do not cut a UTF-8 sequence in half: back up to its lead byte. */
        size_t back = 0;
        while (back < 3 && len > 0 && ((unsigned char)raw[len] & 0xC0) == 0x80) {
            len--;
            back++;
        }
    }
    if (sl_utf8_valid(raw, len)) {
        sl_buf_puts(out, ",\"raw\":");
        sl_json_encode_string(out, raw, len);
    } else {
        sl_buf_puts(out, ",\"raw_base64\":\"");
        sl_base64_encode(out, raw, len);
        sl_buf_putc(out, '"');
    }
    if (truncated) sl_buf_puts(out, ",\"raw_truncated\":true");
}

int sl_dlq_write(sl_dlq *d, const sl_dlq_entry *e, sl_error *err)
{
    char time[40];
    int64_t now = sl_now_ns();
    sl_format_rfc3339(time, now - now % 1000000);   /* millisecond precision */

    pthread_mutex_lock(&d->lock);
    sl_buf *out = &d->pending;
    sl_buf_printf(out, "{\"time\":\"%s\"", time);
    put_string_field(out, "component", e->component);
    put_string_field(out, "source", e->source);
    put_string_field(out, "origin", e->origin);
    sl_buf_printf(out, ",\"position\":{\"file_id\":%llu,\"offset\":%llu}",
                  (unsigned long long)e->pos.file_id, (unsigned long long)e->pos.offset);
    put_string_field(out, "reason", e->reason);
    put_string_field(out, "message", e->message);
    if (e->raw) put_raw(out, e->raw, e->raw_len);
    sl_buf_puts(out, "}\n");
    d->count++;
    int rc = 0;
    if (out->len >= DLQ_BUFFER_MAX || d->fd < 0) rc = flush_locked(d, err);
    pthread_mutex_unlock(&d->lock);

    if (e->metrics) sl_metrics_dlq(d->metrics, e->metrics, e->reason, 1);
    return rc;
}

int sl_dlq_flush(sl_dlq *d, sl_error *err)
{
    pthread_mutex_lock(&d->lock);
    int rc = flush_locked(d, err);
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
    return d->file;
}

void sl_dlq_free(sl_dlq *d)
{
    if (!d) return;
    if (d->fd >= 0) close(d->fd);
    sl_buf_free(&d->pending);
    pthread_mutex_destroy(&d->lock);
    free(d->dir);
    free(d->file);
    free(d);
}
