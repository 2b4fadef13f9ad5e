/* part_log.c — two-phase commit for files (see part_log.h). */
#include "part_log.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/log.h"
#include "../core/strindex.h"
#include "../core/util.h"

#define COPY_BUFFER (1u << 20)   /* a copy between file systems goes through this */
#define MAX_DEVICES 16           /* file systems synced at once */
#define PARALLEL_STEPS 256       /* a bundle with this many steps is applied by two threads */

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d) abort();
    return d;
}

static void free_bundle(sl_part_bundle *b)
{
    free(b->path);
    sl_part_steps_free(b->steps, b->n_steps);
}

static void free_bundles(sl_part_bundle *b, size_t n)
{
    for (size_t i = 0; i < n; i++) free_bundle(&b[i]);
    free(b);
}

void sl_part_log_init(sl_part_log *log)
{
    memset(log, 0, sizeof *log);
    pthread_mutex_init(&log->lock, NULL);
    sl_owned_init(&log->owned);
}

void sl_part_log_keep_owned(sl_part_log *log, const char *path)
{
    sl_owned_keep(&log->owned, path);
}

void sl_part_log_free(sl_part_log *log)
{
    for (size_t i = 0; i < log->count; i++) free_bundle(&log->bundles[i]);
    free(log->bundles);
    for (size_t i = 0; i < log->n_sizes; i++) free(log->sizes[i].file);
    free(log->sizes);
    sl_owned_free(&log->owned);
    pthread_mutex_destroy(&log->lock);
}

char *sl_part_path(const char *name, uint64_t n)
{
    const char *slash = strrchr(name, '/');
    size_t dir_len = slash ? (size_t)(slash - name) + 1 : 0;
    size_t cap = strlen(name) + 48;
    char *out = malloc(cap);
    if (!out) abort();
    snprintf(out, cap, "%.*s.%s.%" PRIu64 ".inprogress", (int)dir_len, name, name + dir_len, n);
    return out;
}

/* Records file's size once published; under the lock. A small table is
 * searched from the end (the files of the last bundle); the sink keeps its
 * own index of the files it writes, so this runs once per step. */
static void set_size(sl_part_log *log, const char *file, uint64_t size)
{
    for (size_t i = log->n_sizes; i-- > 0;) {
        if (strcmp(log->sizes[i].file, file) == 0) {
            log->sizes[i].size = size;
            return;
        }
    }
    if (log->n_sizes == log->cap_sizes) {
        log->cap_sizes = log->cap_sizes ? 2 * log->cap_sizes : 16;
        log->sizes = realloc(log->sizes, log->cap_sizes * sizeof *log->sizes);
        if (!log->sizes) abort();
    }
    log->sizes[log->n_sizes++] = (sl_file_size){.file = xstrdup(file), .size = size};
}

static const char *size_file(const void *log, size_t i)
{
    return ((const sl_part_log *)log)->sizes[i].file;
}

/* set_size for every step of a bundle, through a hash index of the sizes
 * (a bundle can hold thousands of files). */
static void set_sizes(sl_part_log *log, const sl_part_step *steps, size_t n)
{
    sl_strindex x;
    sl_strindex_init(&x);
    for (size_t i = 0; i < log->n_sizes; i++) sl_strindex_add(&x, i, size_file, log);
    for (size_t k = 0; k < n; k++) {
        long i = sl_strindex_find(&x, steps[k].file, strlen(steps[k].file), size_file, log);
        if (i >= 0) {
            log->sizes[i].size = steps[k].file_size + steps[k].bytes;
            continue;
        }
        set_size(log, steps[k].file, steps[k].file_size + steps[k].bytes);
        sl_strindex_add(&x, log->n_sizes - 1, size_file, log);
    }
    sl_strindex_free(&x);
}

void sl_part_log_add(sl_part_log *log, char *path, uint64_t bytes, bool plain, sl_part_step *steps,
                     size_t n_steps)
{
    pthread_mutex_lock(&log->lock);
    set_sizes(log, steps, n_steps);
    if (log->count == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 4;
        log->bundles = realloc(log->bundles, log->cap * sizeof *log->bundles);
        if (!log->bundles) abort();
    }
    log->bundles[log->count++] = (sl_part_bundle){.path = path, .bytes = bytes, .plain = plain, .steps = steps,
                                                  .n_steps = n_steps};
    pthread_mutex_unlock(&log->lock);
}

bool sl_part_log_size_after(sl_part_log *log, const char *file, uint64_t *size)
{
    bool found = false;
    pthread_mutex_lock(&log->lock);
    for (size_t b = log->count; b-- > 0 && !found;) {
        const sl_part_bundle *pb = &log->bundles[b];
        for (size_t i = pb->n_steps; i-- > 0 && !found;) {
            if (strcmp(pb->steps[i].file, file) != 0) continue;
            *size = pb->steps[i].file_size + pb->steps[i].bytes;
            found = true;
        }
    }
    pthread_mutex_unlock(&log->lock);
    return found;
}

bool sl_part_log_reserves(sl_part_log *log, const char *path)
{
    bool found = false;
    pthread_mutex_lock(&log->lock);
    for (size_t b = 0; b < log->count && !found; b++)
        for (size_t i = 0; i < log->bundles[b].n_steps && !found; i++)
            found = log->bundles[b].steps[i].rotate_to && strcmp(log->bundles[b].steps[i].rotate_to, path) == 0;
    pthread_mutex_unlock(&log->lock);
    return found;
}

static void put_field(sl_buf *b, const char *key, const char *value)
{
    sl_buf_printf(b, ",\"%s\":", key);
    sl_json_encode_string(b, value, strlen(value));
}

int sl_part_log_save(sl_part_log *log, sl_buf *state, sl_error *err)
{
    pthread_mutex_lock(&log->lock);
    for (size_t b = 0; b < log->count; b++) {
        for (size_t i = 0; i < log->bundles[b].n_steps; i++) {
            sl_part_step *s = &log->bundles[b].steps[i];
            if (s->noted) continue;
            /* A rotation starts the file anew: undoing it (when it was done)
             * removes the new file and moves the old one back. */
            if (s->rotate_to) sl_owned_note_rotate(&log->owned, s->file, s->rotate_to);
            else if (s->file_size == 0) sl_owned_note_create(&log->owned, s->file);
            s->noted = true;
        }
    }
    if (sl_owned_sync(&log->owned, err) < 0) {
        pthread_mutex_unlock(&log->lock);
        return sl_error_prefix(err, "cannot note the files this checkpoint publishes");
    }
    sl_buf_puts(state, "{\"bundles\":[");
    for (size_t b = 0; b < log->count; b++) {
        const sl_part_bundle *pb = &log->bundles[b];
        sl_buf_printf(state, "%s{\"bytes\":%" PRIu64 ",\"plain\":%s", b ? "," : "", pb->bytes,
                      pb->plain ? "true" : "false");
        put_field(state, "path", pb->path);
        sl_buf_puts(state, ",\"steps\":[");
        for (size_t i = 0; i < pb->n_steps; i++) {
            const sl_part_step *s = &pb->steps[i];
            sl_buf_printf(state, "%s{\"file_size\":%" PRIu64 ",\"bytes\":%" PRIu64, i ? "," : "", s->file_size,
                          s->bytes);
            put_field(state, "file", s->file);
            if (s->rotate_to) put_field(state, "rotate_to", s->rotate_to);
            if (s->side) put_field(state, "side", s->side);
            sl_buf_putc(state, '}');
        }
        sl_buf_puts(state, "]}");
    }
    sl_buf_puts(state, "],\"sizes\":[");
    for (size_t i = 0; i < log->n_sizes; i++) {
        sl_buf_printf(state, "%s{\"size\":%" PRIu64, i ? "," : "", log->sizes[i].size);
        put_field(state, "file", log->sizes[i].file);
        sl_buf_putc(state, '}');
    }
    sl_buf_putc(state, ']');
    if (sl_owned_kept(&log->owned)) sl_buf_printf(state, ",\"owned\":%" PRIu64, sl_owned_length(&log->owned));
    sl_buf_putc(state, '}');
    pthread_mutex_unlock(&log->lock);
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int sys_error(sl_error *err, const char *what, const char *path)
{
    int e = errno;
    sl_errorf(err, "cannot %s %s: %s", what, path, strerror(e));
    err->sys_errno = e;
    return -1;
}

/* Parses the bundles of a checkpoint state. */
static int load_bundles(const char *state, size_t len, sl_part_bundle **out, size_t *n, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value doc;
    *out = NULL;
    *n = 0;
    int rc = sl_state_parse(&a, state, len, "the saved bundles", &doc, err);
    const sl_value *list = rc == 0 ? sl_state_get(&doc, "bundles") : NULL;
    if (rc == 0 && !list && sl_state_get(&doc, "publish"))
        rc = sl_errorf(err, "the checkpoint lists per-file parts, as sluice did before it wrote bundles: finish "
                       "that run with the sluice that started it, or start anew with --from-start");
    else if (rc == 0 && (!list || list->type != SL_ARRAY))
        rc = sl_errorf(err, "the saved state has no \"bundles\" list");
    if (rc == 0 && list->len) {
        *out = calloc(list->len, sizeof **out);
        if (!*out) abort();
    }
    for (uint32_t b = 0; rc == 0 && b < list->len; b++) {
        const sl_value *v = &list->as.items[b];
        sl_part_bundle *pb = &(*out)[b];
        const char *path = sl_state_string(&a, v, "path");
        const sl_value *steps = sl_state_get(v, "steps");
        if (!path || !sl_state_uint(v, "bytes", &pb->bytes) || !steps || steps->type != SL_ARRAY) {
            rc = sl_errorf(err, "saved bundle %u is malformed", b + 1);
            break;
        }
        pb->path = xstrdup(path);
        const sl_value *plain = sl_state_get(v, "plain");
        pb->plain = plain && plain->type == SL_BOOL && plain->as.b;
        (*n)++;
        pb->steps = calloc(steps->len ? steps->len : 1, sizeof *pb->steps);
        if (!pb->steps) abort();
        for (uint32_t i = 0; i < steps->len; i++) {
            const sl_value *sv = &steps->as.items[i];
            sl_part_step *s = &pb->steps[i];
            const char *file = sl_state_string(&a, sv, "file");
            if (!file || !sl_state_uint(sv, "file_size", &s->file_size) || !sl_state_uint(sv, "bytes", &s->bytes)) {
                rc = sl_errorf(err, "step %u of saved bundle %u is malformed", i + 1, b + 1);
                break;
            }
            s->file = xstrdup(file);
            s->rotate_to = xstrdup(sl_state_string(&a, sv, "rotate_to"));
            s->side = xstrdup(sl_state_string(&a, sv, "side"));
            pb->n_steps++;
        }
        if (rc == 0 && pb->plain && pb->n_steps != 1) rc = sl_errorf(err, "saved bundle %u is malformed", b + 1);
    }
    sl_arena_free(&a);
    return rc;
}

/* Copies len bytes of `in` at *from to `out` at *to: in the kernel
 * (copy_file_range), or through a buffer between file systems. */
static int copy_range(int in, uint64_t from, int out, uint64_t to, uint64_t len, char **buf)
{
    off_t f = (off_t)from, t = (off_t)to;
    while (len > 0) {
        ssize_t n = copy_file_range(in, &f, out, &t, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) break;
        if (n <= 0) {
            if (n == 0) errno = EIO;   /* the bundle ended early */
            return -1;
        }
        len -= (uint64_t)n;
    }
    if (len && !*buf && !(*buf = malloc(COPY_BUFFER))) abort();
    while (len > 0) {
        size_t want = len < COPY_BUFFER ? (size_t)len : COPY_BUFFER;
        ssize_t r = pread(in, *buf, want, f);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return -1;
        }
        for (ssize_t done = 0; done < r;) {
            ssize_t w = pwrite(out, *buf + done, (size_t)(r - done), t);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return -1;
            done += w;
            t += w;
        }
        f += r;
        len -= (uint64_t)r;
    }
    return 0;
}

/* The file systems written to, one open descriptor each, for syncfs. */
typedef struct synced {
    int fds[MAX_DEVICES];
    dev_t devs[MAX_DEVICES];
    size_t n;
} synced;

/* Syncs the file systems written to and closes their descriptors. */
static int sync_all(synced *sy, sl_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < sy->n; i++) {
        if (rc == 0 && syncfs(sy->fds[i]) < 0) rc = sys_error(err, "sync", "the published files");
        close(sy->fds[i]);
    }
    sy->n = 0;
    return rc;
}

/* Keeps fd (just written) for the final syncfs when it is the first one
 * on its file system; else closes it. */
static int keep_for_sync(synced *sy, int fd, const char *file, sl_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return sys_error(err, "stat", file);
    }
    for (size_t i = 0; i < sy->n; i++) {
        if (sy->devs[i] == st.st_dev) {
            close(fd);
            return 0;
        }
    }
    if (sy->n == MAX_DEVICES && sync_all(sy, err) < 0) {
        close(fd);
        return -1;
    }
    sy->devs[sy->n] = st.st_dev;
    sy->fds[sy->n++] = fd;
    return 0;
}

/* Notes the file system of `file` (just renamed into place) for the final
 * syncfs, which makes the rename durable with everything else: one sync
 * for a thousand renames, not one directory fsync each. */
static int sync_later(synced *sy, const char *file, sl_error *err)
{
    struct stat st;
    if (stat(file, &st) < 0) return sys_error(err, "stat", file);
    for (size_t i = 0; i < sy->n; i++)
        if (sy->devs[i] == st.st_dev) return 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys_error(err, "open", file);
    return keep_for_sync(sy, fd, file, err);
}

/* Opens `file` for a step's bytes (creating it, and its directory when that
 * went missing since the sink made it), cut back to file_size. */
static int open_output(const sl_part_step *s, sl_error *err)
{
    int out = open(s->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (out < 0 && errno == ENOENT && sl_mkdirs_parent(s->file, NULL) == 0)
        out = open(s->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (out < 0) return sys_error(err, "open", s->file);
    struct stat st;
    int rc = 0;
    if (fstat(out, &st) < 0) {
        rc = sys_error(err, "stat", s->file);
    } else if ((uint64_t)st.st_size < s->file_size) {
        rc = sl_errorf(err, "%s holds %lld bytes but held %" PRIu64 " at the last checkpoint: it was changed "
                       "by something else; cannot publish into it", s->file, (long long)st.st_size, s->file_size);
    } else if ((uint64_t)st.st_size > s->file_size && ftruncate(out, (off_t)s->file_size) < 0) {
        rc = sys_error(err, "truncate", s->file);   /* a publish interrupted by a crash */
    }
    if (rc < 0) {
        close(out);
        return -1;
    }
    return out;
}

/* Moves a file away for a rotation step, once its bytes so far are durable
 * (a replay then knows every earlier step of it was applied). */
static int rotate(const sl_part_step *s, sl_error *err)
{
    if (!exists(s->file) || exists(s->rotate_to)) return 0;
    int fd = open(s->file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return sys_error(err, "open", s->file);
    int rc = fdatasync(fd) < 0 ? sys_error(err, "sync", s->file) : 0;
    close(fd);
    if (rc == 0 && rename(s->file, s->rotate_to) < 0) rc = sys_error(err, "rotate", s->file);
    if (rc == 0) rc = sl_fsync_parent(s->rotate_to, err);
    return rc;
}

/* Whether step i of bundles[at] was rotated away by a later step (of it or
 * a later bundle) that was applied: its file was synced before it moved. */
static bool rotated_away(const sl_part_bundle *bundles, size_t n, size_t at, size_t i)
{
    const char *file = bundles[at].steps[i].file;
    for (size_t b = at; b < n; b++)
        for (size_t j = b == at ? i + 1 : 0; j < bundles[b].n_steps; j++)
            if (bundles[b].steps[j].rotate_to && strcmp(bundles[b].steps[j].file, file) == 0 &&
                exists(bundles[b].steps[j].rotate_to))
                return true;
    return false;
}

/* Publishes step s, whose bytes are the whole file `from` (a plain
 * bundle, or a side file): renamed into place when it starts its file (its
 * bytes were synced at the seal), else copied; for sy to sync. Returns 1, or 0 when `from` is gone (applied
 * before), or -1 with err. */
static int apply_whole(const char *from, const sl_part_step *s, synced *sy, char **buf, sl_error *err)
{
    if (s->rotate_to && rotate(s, err) < 0) return -1;
    if (s->file_size == 0) {
        int r = rename(from, s->file);
        if (r < 0 && errno == ENOENT && exists(from) && sl_mkdirs_parent(s->file, NULL) == 0)
            r = rename(from, s->file);   /* the file's directory went missing */
        if (r == 0) return sync_later(sy, s->file, err) < 0 ? -1 : 1;
        int e = errno;
        if (!exists(from)) return 0;
        errno = e;
        if (e != EXDEV) return sys_error(err, "publish", from);   /* EXDEV: copied below */
    }
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0 && errno == ENOENT) return 0;
    if (in < 0) return sys_error(err, "open", from);
    int out = open_output(s, err), rc = out < 0 ? -1 : 0;
    if (rc == 0 && copy_range(in, 0, out, s->file_size, s->bytes, buf) < 0) rc = sys_error(err, "publish into", s->file);
    if (rc == 0) sl_start_writeback(out, s->file_size, s->file_size + s->bytes);
    if (out >= 0 && rc < 0) close(out);
    else if (rc == 0) rc = keep_for_sync(sy, out, s->file, err);
    close(in);
    return rc < 0 ? -1 : 1;
}

/* A plain bundle's one step. Returns as apply_bundle. */
static int apply_plain(const sl_part_bundle *bundles, size_t n, size_t at, bool rotations, synced *sy, char **buf,
                       sl_error *err)
{
    const sl_part_bundle *b = &bundles[at];
    if (!exists(b->path)) return 0;
    if (rotations && rotated_away(bundles, n, at, 0)) return 1;
    return apply_whole(b->path, &b->steps[0], sy, buf, err) < 0 ? -1 : 1;
}

/* Some of the steps of one bundle, applied by one thread: those of the files
 * that fall in its lane (a file's steps stay in one lane, in their order;
 * steps of different files are independent). */
typedef struct lane {
    const sl_part_bundle *bundles;
    size_t n, at;
    bool rotations;
    int in;                        /* the bundle */
    const sl_bundle_range *r;      /* its ranges, by step: step i's are r[first[i] .. first[i + 1]) */
    const size_t *first;
    unsigned index, count;         /* this lane, of count */
    synced sy;                     /* what it wrote, for the caller to sync */
    char *buf;
    int rc;
    sl_error err;
} lane;

static void *apply_lane(void *arg)
{
    lane *l = arg;
    const sl_part_bundle *b = &l->bundles[l->at];
    for (size_t i = 0; i < b->n_steps && l->rc == 0; i++) {
        const sl_part_step *s = &b->steps[i];
        if (l->count > 1 && sl_hash64(s->file, strlen(s->file), 0) % l->count != l->index) continue;
        if (l->rotations && rotated_away(l->bundles, l->n, l->at, i)) continue;
        if (s->side) {   /* gone: renamed into place, or synced and removed, before */
            if (apply_whole(s->side, s, &l->sy, &l->buf, &l->err) < 0) l->rc = -1;
            continue;
        }
        if (s->rotate_to && rotate(s, &l->err) < 0) {
            l->rc = -1;
            break;
        }
        int out = open_output(s, &l->err);
        if (out < 0) {
            l->rc = -1;
            break;
        }
        uint64_t at = s->file_size;
        for (size_t j = l->first[i]; j < l->first[i + 1] && l->rc == 0; j++) {
            if (copy_range(l->in, l->r[j].offset, out, at, l->r[j].len, &l->buf) < 0)
                l->rc = sys_error(&l->err, "publish into", s->file);
            at += l->r[j].len;
        }
        sl_start_writeback(out, s->file_size, at);   /* the final syncfs then finds little left */
        if (l->rc < 0) close(out);
        else l->rc = keep_for_sync(&l->sy, out, s->file, &l->err);
    }
    return NULL;
}

/* Applies the steps of bundles[at] (of n); its files are left for sy to
 * sync. `rotations`: some step rotates a file. A bundle of many steps is
 * applied by two threads (the end of a run waits for its last commit, and
 * the copies are the kernel's work, which a second core shares). Returns
 * 1 when it applied them, 0 when the bundle is gone (applied and synced
 * before), -1 with err. */
static int apply_bundle(const sl_part_bundle *bundles, size_t n, size_t at, bool rotations, synced *sy, char **buf,
                        sl_error *err)
{
    const sl_part_bundle *b = &bundles[at];
    if (b->plain) return apply_plain(bundles, n, at, rotations, sy, buf, err);
    int in = open(b->path, O_RDONLY | O_CLOEXEC);
    if (in < 0 && errno == ENOENT) return 0;
    if (in < 0) return sys_error(err, "open", b->path);
    sl_bundle_range *r;
    size_t n_ranges;
    if (sl_bundle_ranges(in, b->path, b->bytes, b->n_steps, &r, &n_ranges, err) < 0) {
        close(in);
        return -1;
    }
    size_t *first = malloc((b->n_steps + 1) * sizeof *first);
    if (!first) abort();
    for (size_t i = 0, k = 0; i <= b->n_steps; i++) {
        first[i] = k;
        while (i < b->n_steps && k < n_ranges && r[k].step == i) k++;
    }
    unsigned count = b->n_steps >= PARALLEL_STEPS ? 2 : 1;
    lane lanes[2];
    for (unsigned i = 0; i < count; i++)
        lanes[i] = (lane){.bundles = bundles, .n = n, .at = at, .rotations = rotations, .in = in, .r = r,
                          .first = first, .index = i, .count = count};
    pthread_t second;
    bool started = count > 1 && pthread_create(&second, NULL, apply_lane, &lanes[1]) == 0;
    if (count > 1 && !started) apply_lane(&lanes[1]);   /* no thread: one after the other */
    apply_lane(&lanes[0]);
    if (started) pthread_join(second, NULL);
    int rc = 0;
    for (unsigned i = 0; i < count; i++) {
        if (rc == 0 && lanes[i].rc < 0) {
            *err = lanes[i].err;
            rc = -1;
        }
        for (size_t k = 0; k < lanes[i].sy.n; k++) {   /* the caller syncs what was written */
            if (rc == 0) rc = keep_for_sync(sy, lanes[i].sy.fds[k], b->path, err);
            else close(lanes[i].sy.fds[k]);
        }
        free(lanes[i].buf);
    }
    free(first);
    free(r);
    close(in);
    return rc < 0 ? -1 : 1;
}

/* Applies every bundle in order, makes what they wrote durable, then
 * deletes them. Returns how many bundles were applied, or -1. */
static int publish_all(const sl_part_bundle *bundles, size_t n, sl_error *err)
{
    synced sy = {.n = 0};
    char *buf = NULL;
    int applied = 0, rc = 0;
    bool rotations = false;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < bundles[i].n_steps; k++) rotations |= bundles[i].steps[k].rotate_to != NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int done = apply_bundle(bundles, n, i, rotations, &sy, &buf, err);
        if (done < 0) rc = -1;
        else applied += done;
    }
    free(buf);
    if (rc < 0) {
        for (size_t i = 0; i < sy.n; i++) close(sy.fds[i]);
        return -1;
    }
    if (sync_all(&sy, err) < 0) return -1;
    /* Synced: a bundle is needed no more. A crash before its removal
     * applies it again, to the same result. */
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < bundles[i].n_steps; k++) {
            const char *side = bundles[i].steps[k].side;
            if (side && unlink(side) < 0 && errno != ENOENT) return sys_error(err, "remove", side);
        }
        if (unlink(bundles[i].path) < 0 && errno != ENOENT) return sys_error(err, "remove", bundles[i].path);
    }
    return applied;
}

int sl_part_log_commit(sl_part_log *log, const char *state, size_t len, sl_error *err)
{
    sl_part_bundle *bundles;
    size_t n;
    if (load_bundles(state, len, &bundles, &n, err) < 0) {
        free_bundles(bundles, n);
        return -1;
    }
    pthread_mutex_lock(&log->lock);
    int rc = publish_all(bundles, n, err) < 0 ? -1 : 0;
    /* Forget the published bundles: the log holds them first, in order. */
    size_t done = 0;
    while (rc == 0 && done < log->count && done < n && strcmp(log->bundles[done].path, bundles[done].path) == 0)
        free_bundle(&log->bundles[done++]);
    if (done) {
        memmove(log->bundles, log->bundles + done, (log->count - done) * sizeof *log->bundles);
        log->count -= done;
    }
    pthread_mutex_unlock(&log->lock);
    free_bundles(bundles, n);
    return rc;
}

/* Cuts each file the checkpoint knows back to the size it recorded. */
static int roll_back(sl_part_log *log, const char *state, size_t len, const char *who, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value doc;
    int rc = sl_state_parse(&a, state, len, "the saved bundles", &doc, err);
    const sl_value *sizes = rc == 0 ? sl_state_get(&doc, "sizes") : NULL;
    for (uint32_t i = 0; rc == 0 && sizes && sizes->type == SL_ARRAY && i < sizes->len; i++) {
        const sl_value *v = &sizes->as.items[i];
        const char *file = sl_state_string(&a, v, "file");
        uint64_t size;
        struct stat st;
        if (!file || !sl_state_uint(v, "size", &size)) {
            rc = sl_errorf(err, "saved file size %u is malformed", i + 1);
            break;
        }
        pthread_mutex_lock(&log->lock);
        set_size(log, file, size);
        pthread_mutex_unlock(&log->lock);
        if (stat(file, &st) < 0 || (uint64_t)st.st_size == size) continue;
        if ((uint64_t)st.st_size < size) {
            sl_warn(who, "%s holds %lld bytes, fewer than the %" PRIu64 " published at the checkpoint: "
                    "it was changed or rotated by something else", file, (long long)st.st_size, size);
            continue;
        }
        if (truncate(file, (off_t)size) < 0) {
            rc = sys_error(err, "cut back", file);
            break;
        }
        sl_warn(who, "%s: removed %lld bytes published after the checkpoint this run resumes from "
                "(they are written again)", file, (long long)st.st_size - (long long)size);
    }
    sl_arena_free(&a);
    return rc;
}

static int read_owned(void *ctx, const sl_value *doc, sl_error *err)
{
    (void)err;
    sl_state_uint(doc, "owned", ctx);
    return 0;
}

int sl_parts_recover(sl_part_log *log, const char *state, size_t len, bool start_over, const char *bundles_glob,
                     const char *who, sl_error *err)
{
    if (sl_owned_kept(&log->owned)) {
        /* A checkpoint of an older version, without the journal's length:
         * everything the journal holds stands. */
        uint64_t owned = UINT64_MAX;
        if (state && sl_state_read(state, len, read_owned, &owned, err) < 0) return -1;
        sl_owned_start how = state ? SL_OWNED_RESUME : start_over ? SL_OWNED_SET_ASIDE : SL_OWNED_KEEP;
        if (sl_owned_reconcile(&log->owned, how, owned, who, err) < 0)
            return sl_error_prefix(err, "cannot bring the output back to the checkpoint");
    }
    if (state) {
        sl_part_bundle *bundles;
        size_t n;
        int published = load_bundles(state, len, &bundles, &n, err);
        if (published == 0) published = publish_all(bundles, n, err);
        free_bundles(bundles, n);
        if (published < 0) return sl_error_prefix(err, "cannot publish the output of the last checkpoint");
        if (published)
            sl_info(who, "published %d bundle%s of the last checkpoint (a crash came before)", published,
                    published == 1 ? "" : "s");
        if (roll_back(log, state, len, who, err) < 0) return -1;
    }
    glob_t g;
    int grc = glob(bundles_glob, GLOB_NOSORT, NULL, &g);
    if (grc == GLOB_NOSPACE) abort();
    if (grc != 0) return 0;
    size_t removed = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (unlink(g.gl_pathv[i]) < 0 && errno != ENOENT) {
            sys_error(err, "remove the unpublished bundle", g.gl_pathv[i]);
            globfree(&g);
            return -1;
        }
        removed++;
    }
    globfree(&g);
    if (removed)
        sl_info(who, "discarded %zu unpublished bundle%s of an interrupted run (their records are written again)",
                removed, removed == 1 ? "" : "s");
    return 0;
}
