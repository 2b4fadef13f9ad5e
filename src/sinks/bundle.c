/* bundle.c — a checkpoint interval's output for many files in one file
 * (bundle.h). */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../core/util.h"
#include "frame_writer.h"

#define MAGIC 0x314c4253u   /* "SBL1" */
#define WRITEBACK (8u << 20)      /* writeback is started this often */
#define RESERVE_STEP (8u << 20)   /* disk space is reserved this much at a time (a call costs ~0.5 ms) */

typedef struct frame_header {
    uint32_t magic;
    uint32_t entries;
    uint64_t data;
} frame_header;

enum { UNPLACED, IN_FRAMES, IN_SIDE };   /* where a step's bytes go (sl_step_place) */

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

void sl_bundle_set_memory(sl_bundle *b, size_t memory)
{
    b->cap = (memory < SL_BUNDLE_FRAME ? memory : SL_BUNDLE_FRAME) / 2 / SL_BUNDLE_CHUNK * SL_BUNDLE_CHUNK;
    if (b->cap < 32768) b->cap = 32768;
}

void sl_bundle_init(sl_bundle *b, size_t memory)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    sl_bundle_set_memory(b, memory);
    struct rlimit rl;
    b->max_fds = SL_BUNDLE_SIDE_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 8 < b->max_fds)
        b->max_fds = (size_t)(rl.rlim_cur / 8);
    sl_frame_writer_init(&b->writer);
    sl_writeback_init(&b->writeback);
}

/* Drops the frame being written, or whose write failed (a bundle given up
 * is written again from the checkpoint). */
static void drop_writes(sl_bundle *b)
{
    int rc;
    sl_error ignored;
    sl_write_job *job = sl_frame_writer_wait(&b->writer, &rc, &ignored);
    for (int i = 0; i < 2; i++, job = b->failed) {
        if (!job) continue;
        if (b->spare) free(job->buffer);
        else b->spare = job->buffer;
        sl_write_job_free(job);
    }
    b->failed = NULL;
}

void sl_part_steps_free(sl_part_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].file);
        free(steps[i].rotate_to);
        free(steps[i].side);
    }
    free(steps);
}

static void close_bundle(sl_bundle *b)
{
    drop_writes(b);
    sl_writeback_drain(&b->writeback);   /* before the descriptors it may name are closed */
    if (b->fd >= 0) close(b->fd);
    b->fd = -1;
    free(b->path);
    b->path = NULL;
    b->size = 0;
    b->len = b->used = b->n_entries = 0;
    b->frames++;
    sl_part_steps_free(b->steps, b->n_steps);
    b->steps = NULL;
    for (size_t i = 0; i < b->n_steps; i++)
        if (b->placed[i].fd >= 0) close(b->placed[i].fd);
    free(b->placed);
    b->placed = NULL;
    b->n_steps = b->cap_steps = b->n_sides = b->n_fds = 0;
}

void sl_bundle_free(sl_bundle *b)
{
    close_bundle(b);
    sl_frame_writer_free(&b->writer);
    sl_writeback_free(&b->writeback);
    free(b->frame);
    free(b->spare);
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
        b->placed = realloc(b->placed, b->cap_steps * sizeof *b->placed);
        if (!b->steps || !b->placed) abort();
    }
    b->steps[b->n_steps] = (sl_part_step){.file = xstrdup(file), .file_size = file_size,
                                          .rotate_to = xstrdup(rotate_to)};
    b->placed[b->n_steps] = (sl_step_place){.where = UNPLACED, .fd = -1, .chunk.frame = UINT32_MAX,
                                            .entry_frame = UINT32_MAX};
    return (uint32_t)b->n_steps++;
}

/* The chunk step's bytes go to: its own when it starts its file (it may
 * get a side file, written from the frame), else the one the steps copied
 * at the commit share. */
static sl_bundle_chunk *chunk_of(sl_bundle *b, uint32_t step)
{
    const sl_part_step *s = &b->steps[step];
    return s->file_size == 0 && !s->rotate_to ? &b->placed[step].chunk : &b->shared;
}

/* Whether n more bytes of step fit in the frame without writing it first:
 * in the rest of its chunk, and in free chunks. */
static bool fits(sl_bundle *b, uint32_t step, size_t n)
{
    const sl_bundle_chunk *c = chunk_of(b, step);
    size_t room = c->frame == b->frames ? c->end - c->at : 0;
    size_t chunks = n > room ? (n - room + SL_BUNDLE_CHUNK - 1) / SL_BUNDLE_CHUNK : 0;
    return b->used + chunks * SL_BUNDLE_CHUNK <= b->cap;
}

/* "out/.x.jsonl.17.inprogress", 42 -> "out/.x.jsonl.17.s42.inprogress":
 * named like a bundle, so that a start that finds it unlisted removes it. */
static char *side_path(const sl_bundle *b, uint32_t step)
{
    static const char suffix[] = ".inprogress";
    size_t len = strlen(b->path), keep = len;
    if (len >= sizeof suffix - 1 && strcmp(b->path + len - (sizeof suffix - 1), suffix) == 0)
        keep = len - (sizeof suffix - 1);
    size_t cap = len + 16;
    char *out = malloc(cap);
    if (!out) abort();
    snprintf(out, cap, "%.*s.s%u%s", (int)keep, b->path, step, b->path + keep);
    return out;
}

/* Decides where step's bytes go, given the bytes it brings to the first
 * frame it is in, or its first part when that is written at once (direct):
 * a side file when it starts its file with enough of them, or when its
 * parts are large, else the frames. */
static void place(sl_bundle *b, uint32_t step, uint64_t bytes, bool direct)
{
    if (b->placed[step].where != UNPLACED) return;
    sl_part_step *s = &b->steps[step];
    bool worth = direct || (s->file_size == 0 && bytes >= SL_BUNDLE_SIDE);
    if (worth && !s->rotate_to && b->n_sides < SL_BUNDLE_MAX_SIDES) {
        s->side = side_path(b, step);
        b->placed[step].where = IN_SIDE;
        b->n_sides++;
        return;
    }
    b->placed[step].where = IN_FRAMES;
}

/* A descriptor of step's side file, opened (and created) on the sink thread
 * and kept while there are few, or -1: then each write opens it by path. */
static int side_fd(sl_bundle *b, uint32_t step)
{
    sl_step_place *p = &b->placed[step];
    if (p->fd < 0 && b->n_fds < b->max_fds) {
        p->fd = open(b->steps[step].side, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        b->n_fds += p->fd >= 0;
    }
    return p->fd;
}

/* Where a write of bytes to step's side file (at its end) starts its
 * writeback from, every SL_BUNDLE_SIDE_WRITEBACK bytes: like the bundle's
 * (start_writeback), so that the seal does not find every side file's bytes
 * still to write. UINT64_MAX: not this time. */
static uint64_t side_writeback(sl_bundle *b, uint32_t step, int fd, uint64_t bytes)
{
    sl_step_place *p = &b->placed[step];
    if (fd < 0 || p->written + bytes - p->synced_from < SL_BUNDLE_SIDE_WRITEBACK) return UINT64_MAX;
    uint64_t from = p->synced_from;
    p->synced_from = p->written + bytes;
    return from;
}

/* Gives back disk space reserved for the bundle (reserve) that side files
 * take instead, so that the reservation stays what is still to come
 * (UINT64_MAX: all of it). */
static void release(sl_bundle *b, uint64_t bytes)
{
    if (b->reserved == UINT64_MAX || b->reserved <= b->size) return;
    if (bytes > b->reserved - b->size) bytes = b->reserved - b->size;
    uint64_t from = b->reserved - bytes > b->size ? b->reserved - bytes : b->size;
    from = (from + 4095) & ~(uint64_t)4095;
    if (from >= b->reserved) return;
    if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(b->reserved - from)) == 0)
        b->reserved = from;
}

/* Started writing to disk every WRITEBACK bytes of the bundle, so that the
 * seal's fdatasync finds little left to do. A hint; everything up to
 * b->size must be written. */
static void start_writeback(sl_bundle *b)
{
    if (b->unsynced < WRITEBACK) return;
    sl_writeback_hint_add(&b->writeback, b->fd, b->size - b->unsynced, b->size);
    b->unsynced = 0;
}

/* Waits for the frame being written; a failed one is run again here (and
 * kept, to be run again by the next call, when that fails too). */
static int settle(sl_bundle *b, sl_error *err)
{
    if (!b->failed) {
        int rc;
        sl_write_job *job = sl_frame_writer_wait(&b->writer, &rc, err);
        if (!job) return 0;
        if (rc == 0) {
            b->spare = job->buffer;
            sl_write_job_free(job);
            return 0;
        }
        b->failed = job;
    }
    /* Side files may need the space the bundle holds (on a full disk): it
     * reserves again for what comes next. */
    release(b, UINT64_MAX);
    if (sl_write_job_run(b->failed, err) < 0) return -1;
    b->spare = b->failed->buffer;
    sl_write_job_free(b->failed);
    b->failed = NULL;
    return 0;
}

/* Writes n bytes at the end of the bundle, or of step's side file, here:
 * after the frames before them (settle). Nothing is written on failure. */
static int write_now(sl_bundle *b, uint32_t step, bool side, struct iovec *iov, size_t n_iov, sl_error *err)
{
    if (settle(b, err) < 0) return -1;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n_iov; i++) bytes += iov[i].iov_len;
    int fd = side ? side_fd(b, step) : b->fd;
    sl_file_write w = {.fd = fd, .path = side ? b->steps[step].side : b->path,
                       .at = side ? b->placed[step].written : b->size, .n_iov = n_iov,
                       .writeback_from = side ? side_writeback(b, step, fd, bytes) : UINT64_MAX};
    sl_write_job job = {.iov = iov, .n_iov = n_iov, .writes = &w, .n_writes = 1, .writeback = &b->writeback};
    if (sl_write_job_run(&job, err) < 0) return -1;
    if (side) {
        b->placed[step].written += bytes;
        return 0;
    }
    b->size += bytes;
    b->unsynced += bytes;
    start_writeback(b);
    return 0;
}

static void add_write(sl_write_job *job, int fd, const char *path, uint64_t at, size_t first_iov, size_t n_iov,
                      uint64_t writeback_from)
{
    if (job->n_writes == job->cap_writes) {
        job->cap_writes = job->cap_writes ? 2 * job->cap_writes : 16;
        job->writes = realloc(job->writes, job->cap_writes * sizeof *job->writes);
        if (!job->writes) abort();
    }
    job->writes[job->n_writes++] = (sl_file_write){.fd = fd, .path = path, .at = at, .first_iov = first_iov,
                                                   .n_iov = n_iov, .writeback_from = writeback_from};
}

/* The job that writes a plain bundle's frame: its bytes as they are. */
static sl_write_job *plain_job(sl_bundle *b)
{
    sl_write_job *job = calloc(1, sizeof *job);
    if (!job || !(job->iov = malloc(sizeof *job->iov))) abort();
    job->writeback = &b->writeback;
    job->iov[0] = (struct iovec){.iov_base = b->frame, .iov_len = b->len};
    job->n_iov = 1;
    add_write(job, b->fd, b->path, b->size, 0, 1, UINT64_MAX);
    b->size += b->len;
    b->unsynced += b->len;
    return job;
}

/* The job that writes a frame of many steps: into the bundle, a frame with
 * each step's bytes together (a counting sort of the entries by step); each
 * side-file step's bytes, at the end of its side file. */
static sl_write_job *sorted_job(sl_bundle *b)
{
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
    sl_write_job *job = calloc(1, sizeof *job);
    frame_entry *index = calloc(steps_here ? steps_here : 1, sizeof *index);
    frame_header *h = malloc(sizeof *h);
    struct iovec *iov = calloc(b->n_entries + 2, sizeof *iov);
    struct iovec *side_iov = malloc((b->n_entries ? b->n_entries : 1) * sizeof *side_iov);
    size_t *order = malloc((b->n_entries ? b->n_entries : 1) * sizeof *order);   /* entry positions by step */
    if (!job || !index || !h || !iov || !side_iov || !order) abort();
    job->writeback = &b->writeback;
    for (size_t i = 0; i < b->n_entries; i++) order[b->scratch[b->entries[i].step]++] = i;
    size_t n_iov = 2, n_side_iov = 0, k = 0, n_side_runs = 0;
    uint64_t frame_bytes = 0, side_bytes = 0;
    for (size_t j = 0; j < b->n_entries;) {
        uint32_t step = b->entries[order[j]].step;
        size_t end = j;
        uint64_t bytes = 0;
        while (end < b->n_entries && b->entries[order[end]].step == step) bytes += b->entries[order[end++]].len;
        place(b, step, bytes, false);
        bool side = b->placed[step].where == IN_SIDE;
        struct iovec *to = side ? side_iov : iov;
        size_t *n_to = side ? &n_side_iov : &n_iov, from = *n_to;
        for (; j < end; j++) {
            char *p = b->frame + b->entries[order[j]].at;
            uint32_t len = b->entries[order[j]].len;
            if (*n_to > from && (char *)to[*n_to - 1].iov_base + to[*n_to - 1].iov_len == p) to[*n_to - 1].iov_len += len;
            else to[(*n_to)++] = (struct iovec){.iov_base = p, .iov_len = len};
        }
        if (side) {   /* iovecs numbered from 0 of side_iov for now */
            int fd = side_fd(b, step);
            add_write(job, fd, b->steps[step].side, b->placed[step].written, from, n_side_iov - from,
                      side_writeback(b, step, fd, bytes));
            b->placed[step].written += bytes;
            side_bytes += bytes;
            n_side_runs++;
        } else {
            index[k++] = (frame_entry){.step = step, .len = bytes};
            frame_bytes += bytes;
        }
    }
    /* One array: the bundle's iovecs (its header and index, unused when
     * every step of the frame is in a side file), then the side files'. */
    memcpy(iov + n_iov, side_iov, n_side_iov * sizeof *iov);
    for (size_t w = 0; w < job->n_writes; w++) job->writes[w].first_iov += n_iov;
    if (k) {
        *h = (frame_header){.magic = MAGIC, .entries = (uint32_t)k, .data = frame_bytes};
        iov[0] = (struct iovec){.iov_base = h, .iov_len = sizeof *h};
        iov[1] = (struct iovec){.iov_base = index, .iov_len = k * sizeof *index};
        add_write(job, b->fd, b->path, b->size, 0, n_iov, UINT64_MAX);
        b->size += sizeof *h + k * sizeof *index + frame_bytes;
        b->unsynced += sizeof *h + k * sizeof *index + frame_bytes;
    }
    release(b, side_bytes + n_side_runs * 4096);   /* and a block each for rounding */
    job->iov = iov;
    job->n_iov = n_iov + n_side_iov;
    job->index = index;
    job->header = (char *)h;
    free(side_iov);
    free(order);
    return job;
}

/* Hands the frame to the writer thread, after the one before it is
 * written, and empties it: the next one fills the spare buffer. */
static int write_frame(sl_bundle *b, sl_error *err)
{
    if (settle(b, err) < 0) return -1;
    if (b->len == 0) return 0;
    start_writeback(b);
    sl_write_job *job = b->plain ? plain_job(b) : sorted_job(b);
    job->buffer = b->frame;
    b->frame = b->spare;
    b->spare = NULL;
    b->len = b->used = b->n_entries = 0;
    b->frames++;
    sl_frame_writer_start(&b->writer, job);
    return 0;
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

/* Notes len bytes of step at `at` of the frame: in its last entry when
 * they follow it (the rest of a chunk, or the next chunk when it is
 * adjacent), else in a new one. */
static void add_entry(sl_bundle *b, uint32_t step, uint32_t at, uint32_t len)
{
    sl_step_place *pl = &b->placed[step];
    if (pl->entry_frame == b->frames) {
        sl_bundle_entry *e = &b->entries[pl->last_entry];
        if (e->at + e->len == at) {
            e->len += len;
            return;
        }
    }
    if (b->n_entries == b->cap_entries) {
        b->cap_entries = b->cap_entries ? 2 * b->cap_entries : 1024;
        b->entries = realloc(b->entries, b->cap_entries * sizeof *b->entries);
        if (!b->entries) abort();
    }
    pl->entry_frame = b->frames;
    pl->last_entry = (uint32_t)b->n_entries;
    b->entries[b->n_entries++] = (sl_bundle_entry){.step = step, .at = at, .len = len};
}

int sl_bundle_append(sl_bundle *b, uint32_t step, const void *p, size_t n, sl_error *err)
{
    if (n == 0) return 0;
    bool direct = n >= SL_BUNDLE_DIRECT || n > b->cap;
    /* Disk space for what waits in the frame: a part written at once finds
     * a full disk itself. */
    if (!direct && reserve(b, n, err) < 0) return -1;
    /* Placed by all its bytes (a CSV header may be in the frame). */
    if (direct && !b->plain) place(b, step, b->steps[step].bytes + n, true);
    /* A frame of its own comes after what the frame holds (of its step too). */
    if ((direct || !fits(b, step, n)) && write_frame(b, err) < 0) return -1;
    if (direct) {
        bool side = !b->plain && b->placed[step].where == IN_SIDE;
        frame_header h = {.magic = MAGIC, .entries = 1, .data = n};
        frame_entry e = {.step = step, .len = n};
        struct iovec iov[3] = {{&h, sizeof h}, {&e, sizeof e}, {(void *)p, n}};
        int rc = side || b->plain ? write_now(b, step, side, &iov[2], 1, err) : write_now(b, step, false, iov, 3, err);
        if (rc < 0) return -1;
        b->steps[step].bytes += n;
        return 0;
    }
    if (!b->frame && !(b->frame = malloc(b->cap))) abort();
    b->len += n;
    b->steps[step].bytes += n;
    sl_bundle_chunk *c = chunk_of(b, step);
    while (n > 0) {
        if (c->frame != b->frames || c->at == c->end) {
            c->frame = b->frames;
            c->at = (uint32_t)b->used;
            c->end = (uint32_t)(b->used += SL_BUNDLE_CHUNK);
        }
        size_t k = n < c->end - c->at ? n : c->end - c->at;
        memcpy(b->frame + c->at, p, k);
        add_entry(b, step, c->at, (uint32_t)k);
        c->at += (uint32_t)k;
        p = (const char *)p + k;
        n -= k;
    }
    return 0;
}

int sl_bundle_flush(sl_bundle *b, sl_error *err)
{
    if (write_frame(b, err) < 0) return -1;
    return settle(b, err);
}

int sl_bundle_seal(sl_bundle *b, sl_error *err)
{
    if (sl_bundle_flush(b, err) < 0) return -1;
    /* Space reserved past the end goes back: publishing needs it for the
     * copy into the files. */
    if (b->reserved != UINT64_MAX && b->reserved > b->size &&
        fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)b->size,
                  (off_t)(b->reserved - b->size)) < 0) {}   /* else it goes with the bundle */
    b->reserved = b->size;
    /* Side files are synced with the bundle by one syncfs (their file
     * system is the bundle's: they are in its directory). */
    if ((b->n_sides ? syncfs(b->fd) : fdatasync(b->fd)) < 0) return sys_error(err, "sync", b->path);
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
