/* bundle.c — a checkpoint interval's output for many files in one file
 * (bundle.h). */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../core/util.h"

#define MAGIC 0x314c4253u   /* "SBL1" */
#define IOVECS 1024u
#define WRITEBACK (8u << 20)      /* writeback is started this often */
#define RESERVE_STEP (8u << 20)   /* disk space is reserved this much at a time (a call costs ~0.5 ms) */

typedef struct frame_header {
    uint32_t magic;
    uint32_t entries;
    uint64_t data;
} frame_header;

typedef struct frame_entry {
    uint32_t step;
    uint32_t zero;
    uint64_t len;
} frame_entry;

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d) abort();
    return d;
}

static int sys_error(sl_error *err, const char *what, const char *path)
{
    int e = errno;
    sl_errorf(err, "cannot %s %s: %s", what, path, strerror(e));
    err->sys_errno = e;
    return -1;
}

void sl_bundle_init(sl_bundle *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    b->cap = cap < SL_BUNDLE_FRAME ? cap : SL_BUNDLE_FRAME;
    if (b->cap < 65536) b->cap = 65536;
}

void sl_part_steps_free(sl_part_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].file);
        free(steps[i].rotate_to);
    }
    free(steps);
}

static void close_bundle(sl_bundle *b)
{
    if (b->fd >= 0) close(b->fd);
    b->fd = -1;
    free(b->path);
    b->path = NULL;
    b->size = 0;
    b->len = b->n_entries = 0;
    sl_part_steps_free(b->steps, b->n_steps);
    b->steps = NULL;
    b->n_steps = b->cap_steps = 0;
}

void sl_bundle_free(sl_bundle *b)
{
    close_bundle(b);
    free(b->frame);
    free(b->entries);
    free(b->scratch);
    memset(b, 0, sizeof *b);
    b->fd = -1;
}

bool sl_bundle_is_open(const sl_bundle *b)
{
    return b->fd >= 0;
}

int sl_bundle_open(sl_bundle *b, const char *path, bool mkdir, sl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && mkdir) {
        if (sl_mkdirs_parent(path, err) < 0) return sl_error_prefix(err, "cannot open %s", path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd < 0) return sys_error(err, "open", path);
    close_bundle(b);
    b->fd = fd;
    b->path = xstrdup(path);
    b->reserved = b->unsynced = 0;
    return 0;
}

uint32_t sl_bundle_step(sl_bundle *b, const char *file, uint64_t file_size, const char *rotate_to)
{
    if (b->n_steps == b->cap_steps) {
        b->cap_steps = b->cap_steps ? 2 * b->cap_steps : 64;
        b->steps = realloc(b->steps, b->cap_steps * sizeof *b->steps);
        if (!b->steps) abort();
    }
    b->steps[b->n_steps] = (sl_part_step){.file = xstrdup(file), .file_size = file_size,
                                          .rotate_to = xstrdup(rotate_to)};
    return (uint32_t)b->n_steps++;
}

bool sl_bundle_fits(const sl_bundle *b, size_t n)
{
    return b->len + n <= b->cap;
}

/* Writes iov[0..n) at the end of the bundle, IOVECS at a time. On failure
 * the file is cut back to where it ended. */
static int write_iov(sl_bundle *b, struct iovec *iov, size_t n, sl_error *err)
{
    uint64_t start = b->size, at = b->size;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < IOVECS ? n - i : IOVECS;
        ssize_t w = pwritev(b->fd, iov + i, (int)k, (off_t)at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            sys_error(err, "write", b->path);
            if (ftruncate(b->fd, (off_t)start) < 0) {}   /* a retry writes over it anyway */
            return -1;
        }
        at += (uint64_t)w;
        b->unsynced += (uint64_t)w;
        while (w > 0 && (size_t)w >= iov[i].iov_len) w -= (ssize_t)iov[i++].iov_len;
        if (w > 0) {
            iov[i].iov_base = (char *)iov[i].iov_base + w;
            iov[i].iov_len -= (size_t)w;
        }
    }
    b->size = at;
    /* Start writing to disk every WRITEBACK bytes, so that the seal's
     * fdatasync finds little left to do. A hint. */
    if (b->unsynced >= WRITEBACK) {
        if (sync_file_range(b->fd, (off_t)(at - b->unsynced), (off_t)b->unsynced, SYNC_FILE_RANGE_WRITE) < 0) {}
        b->unsynced = 0;
    }
    return 0;
}

/* Writes the frame, each step's bytes together (a counting sort of the
 * entries by step), and empties it. */
static int write_frame(sl_bundle *b, sl_error *err)
{
    if (b->len == 0) return 0;
    if (b->plain) {
        struct iovec one = {.iov_base = b->frame, .iov_len = b->len};
        if (write_iov(b, &one, 1, err) < 0) return -1;
        b->len = b->n_entries = 0;
        return 0;
    }
    if (b->cap_scratch < b->n_steps + 1) {
        b->cap_scratch = b->n_steps + 1 > 2 * b->cap_scratch ? b->n_steps + 1 : 2 * b->cap_scratch;
        b->scratch = realloc(b->scratch, b->cap_scratch * sizeof *b->scratch);
        if (!b->scratch) abort();
    }
    /* scratch[s]: entries of step s; then the first slot of step s. */
    memset(b->scratch, 0, (b->n_steps + 1) * sizeof *b->scratch);
    for (size_t i = 0; i < b->n_entries; i++) b->scratch[b->entries[i].step]++;
    size_t steps_here = 0;
    uint32_t slot = 0;
    for (size_t s = 0; s < b->n_steps; s++) {
        uint32_t c = b->scratch[s];
        steps_here += c > 0;
        b->scratch[s] = slot;
        slot += c;
    }
    frame_entry *index = calloc(steps_here ? steps_here : 1, sizeof *index);
    struct iovec *iov = malloc((b->n_entries + 2) * sizeof *iov);
    size_t *order = malloc(b->n_entries * sizeof *order);   /* entry positions by step */
    uint64_t *offset = malloc(b->n_entries * sizeof *offset);
    if (!index || !iov || !order || !offset) abort();
    uint64_t at = 0;
    for (size_t i = 0; i < b->n_entries; i++) {
        offset[i] = at;
        at += b->entries[i].len;
        order[b->scratch[b->entries[i].step]++] = i;
    }
    size_t n_iov = 2, k = (size_t)-1;
    for (size_t j = 0; j < b->n_entries; j++) {
        const sl_bundle_entry *e = &b->entries[order[j]];
        if (k == (size_t)-1 || index[k].step != e->step) index[++k] = (frame_entry){.step = e->step};
        index[k].len += e->len;
        char *p = b->frame + offset[order[j]];
        struct iovec *last = &iov[n_iov - 1];
        if (n_iov > 2 && (char *)last->iov_base + last->iov_len == p) last->iov_len += e->len;
        else iov[n_iov++] = (struct iovec){.iov_base = p, .iov_len = e->len};
    }
    frame_header h = {.magic = MAGIC, .entries = (uint32_t)steps_here, .data = b->len};
    iov[0] = (struct iovec){.iov_base = &h, .iov_len = sizeof h};
    iov[1] = (struct iovec){.iov_base = index, .iov_len = steps_here * sizeof *index};
    int rc = write_iov(b, iov, n_iov, err);
    free(index);
    free(iov);
    free(order);
    free(offset);
    if (rc == 0) b->len = b->n_entries = 0;
    return rc;
}

/* Reserves disk space for the frame with n more bytes (and its index), so
 * that writing it cannot find the disk full. */
static int reserve(sl_bundle *b, size_t n, sl_error *err)
{
    uint64_t need = b->size + b->len + n + (b->n_entries + 2) * sizeof(frame_entry) + sizeof(frame_header);
    if (b->reserved == UINT64_MAX || need <= b->reserved) return 0;
    uint64_t to = (need + RESERVE_STEP - 1) / RESERVE_STEP * RESERVE_STEP;
    int rc = fallocate(b->fd, FALLOC_FL_KEEP_SIZE, (off_t)b->reserved, (off_t)(to - b->reserved));
    if (rc < 0 && (errno == ENOSPC || errno == EDQUOT)) {   /* a whole step may not fit where the bytes do */
        to = need;
        rc = fallocate(b->fd, FALLOC_FL_KEEP_SIZE, (off_t)b->reserved, (off_t)(to - b->reserved));
    }
    if (rc == 0) {
        b->reserved = to;
        return 0;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
        b->reserved = UINT64_MAX;   /* the file system cannot: the frame's write finds a full disk */
        return 0;
    }
    return sys_error(err, "write", b->path);
}

int sl_bundle_append(sl_bundle *b, uint32_t step, const void *p, size_t n, sl_error *err)
{
    if (n == 0) return 0;
    if (reserve(b, n, err) < 0) return -1;
    bool direct = n >= SL_BUNDLE_DIRECT || n > b->cap;
    /* A frame of its own comes after what the frame holds (of its step too). */
    if ((direct || !sl_bundle_fits(b, n)) && write_frame(b, err) < 0) return -1;
    if (direct) {
        frame_header h = {.magic = MAGIC, .entries = 1, .data = n};
        frame_entry e = {.step = step, .len = n};
        struct iovec iov[3] = {{&h, sizeof h}, {&e, sizeof e}, {(void *)p, n}};
        if (b->plain ? write_iov(b, &iov[2], 1, err) < 0 : write_iov(b, iov, 3, err) < 0) return -1;
        b->steps[step].bytes += n;
        return 0;
    }
    if (!b->frame && !(b->frame = malloc(b->cap))) abort();
    memcpy(b->frame + b->len, p, n);
    b->len += n;
    b->steps[step].bytes += n;
    if (b->n_entries && b->entries[b->n_entries - 1].step == step) {
        b->entries[b->n_entries - 1].len += (uint32_t)n;
        return 0;
    }
    if (b->n_entries == b->cap_entries) {
        b->cap_entries = b->cap_entries ? 2 * b->cap_entries : 1024;
        b->entries = realloc(b->entries, b->cap_entries * sizeof *b->entries);
        if (!b->entries) abort();
    }
    b->entries[b->n_entries++] = (sl_bundle_entry){.step = step, .len = (uint32_t)n};
    return 0;
}

int sl_bundle_flush(sl_bundle *b, sl_error *err)
{
    return write_frame(b, err);
}

int sl_bundle_seal(sl_bundle *b, sl_error *err)
{
    if (write_frame(b, err) < 0) return -1;
    /* Space reserved past the end goes back: publishing needs it for the
     * copy into the files. */
    if (b->reserved != UINT64_MAX && b->reserved > b->size &&
        fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)b->size,
                  (off_t)(b->reserved - b->size)) < 0) {}   /* else it goes with the bundle */
    b->reserved = b->size;
    if (fdatasync(b->fd) < 0) return sys_error(err, "sync", b->path);
    return sl_fsync_parent(b->path, err);
}

void sl_bundle_take(sl_bundle *b, char **path, uint64_t *size, sl_part_step **steps, size_t *n_steps)
{
    *path = b->path;
    *size = b->size;
    *steps = b->steps;
    *n_steps = b->n_steps;
    b->path = NULL;
    b->steps = NULL;
    b->n_steps = b->cap_steps = 0;
    close_bundle(b);
}

static int read_at(int fd, void *p, size_t n, uint64_t at)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p = (char *)p + r;
        n -= (size_t)r;
        at += (uint64_t)r;
    }
    return 0;
}

int sl_bundle_ranges(int fd, const char *path, uint64_t size, size_t n_steps, sl_bundle_range **out, size_t *n,
                     sl_error *err)
{
    sl_bundle_range *r = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    /* The header and the first entries of a frame are read at once (one
     * pread per frame: a bundle of large parts has a frame per part). */
    char head[4096];
    for (uint64_t at = 0; at < size && rc == 0;) {
        frame_header h;
        size_t got = size - at < sizeof head ? (size_t)(size - at) : sizeof head;
        if (got < sizeof h || read_at(fd, head, got, at) < 0 || (memcpy(&h, head, sizeof h), h.magic != MAGIC) ||
            (size - at - sizeof h) / sizeof(frame_entry) < h.entries) {
            rc = sl_errorf(err, "%s is not a whole bundle (a frame at byte %llu is damaged)", path,
                           (unsigned long long)at);
            break;
        }
        size_t index_bytes = h.entries * sizeof(frame_entry);
        frame_entry *e = malloc(index_bytes + 1);
        if (!e) abort();
        uint64_t data = at + sizeof h + index_bytes, total = 0;
        if (sizeof h + index_bytes <= got) memcpy(e, head + sizeof h, index_bytes);
        else if (read_at(fd, e, index_bytes, at + sizeof h) < 0) rc = sys_error(err, "read", path);
        for (uint32_t i = 0; rc == 0 && i < h.entries; i++) {
            if (e[i].step >= n_steps || e[i].len > h.data - total) {
                rc = sl_errorf(err, "%s is not a whole bundle (a frame at byte %llu lists a step it does not have)",
                               path, (unsigned long long)at);
                break;
            }
            if (count == cap) {
                cap = cap ? 2 * cap : 256;
                r = realloc(r, cap * sizeof *r);
                if (!r) abort();
            }
            r[count++] = (sl_bundle_range){.step = e[i].step, .offset = data + total, .len = e[i].len};
            total += e[i].len;
        }
        free(e);
        if (rc == 0 && (total != h.data || h.data > size - data))
            rc = sl_errorf(err, "%s is not a whole bundle (a frame at byte %llu is cut short)", path,
                           (unsigned long long)at);
        at = data + h.data;
    }
    if (rc < 0) {
        free(r);
        return -1;
    }
    /* By step, stable: a counting sort. */
    size_t *first = calloc(n_steps + 1, sizeof *first);
    sl_bundle_range *sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!first || !sorted) abort();
    for (size_t i = 0; i < count; i++) first[r[i].step + 1]++;
    for (size_t s = 0; s < n_steps; s++) first[s + 1] += first[s];
    for (size_t i = 0; i < count; i++) sorted[first[r[i].step]++] = r[i];
    free(first);
    free(r);
    *out = sorted;
    *n = count;
    return 0;
}
