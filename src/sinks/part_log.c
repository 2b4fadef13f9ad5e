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
#include "../core/util.h"

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d) abort();
    return d;
}

static void free_step(sl_part_step *s)
{
    free(s->part);
    free(s->file);
    free(s->rotate_to);
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
    for (size_t i = 0; i < log->count; i++) free_step(&log->steps[i]);
    free(log->steps);
    for (size_t i = 0; i < log->n_sizes; i++) free(log->sizes[i].file);
    free(log->sizes);
    sl_owned_free(&log->owned);
    pthread_mutex_destroy(&log->lock);
}

char *sl_part_path(const char *file, uint64_t n)
{
    const char *slash = strrchr(file, '/');
    size_t dir_len = slash ? (size_t)(slash - file) + 1 : 0;
    size_t cap = strlen(file) + 48;
    char *out = malloc(cap);
    if (!out) abort();
    snprintf(out, cap, "%.*s.%s.%" PRIu64 ".inprogress", (int)dir_len, file, file + dir_len, n);
    return out;
}

/* Records file's size once published; under the lock. */
static void set_size(sl_part_log *log, const char *file, uint64_t size)
{
    for (size_t i = 0; i < log->n_sizes; i++) {
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

void sl_part_log_add(sl_part_log *log, const char *part, const char *file, uint64_t file_size,
                     uint64_t bytes, const char *rotate_to)
{
    pthread_mutex_lock(&log->lock);
    set_size(log, file, file_size + bytes);
    if (log->count == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 16;
        log->steps = realloc(log->steps, log->cap * sizeof *log->steps);
        if (!log->steps) abort();
    }
    log->steps[log->count++] = (sl_part_step){
        .part = xstrdup(part), .file = xstrdup(file), .file_size = file_size,
        .bytes = bytes, .rotate_to = xstrdup(rotate_to)};
    pthread_mutex_unlock(&log->lock);
}

bool sl_part_log_size_after(sl_part_log *log, const char *file, uint64_t *size)
{
    bool found = false;
    pthread_mutex_lock(&log->lock);
    for (size_t i = log->count; i-- > 0 && !found;) {
        if (strcmp(log->steps[i].file, file) != 0) continue;
        *size = log->steps[i].file_size + log->steps[i].bytes;
        found = true;
    }
    pthread_mutex_unlock(&log->lock);
    return found;
}

bool sl_part_log_reserves(sl_part_log *log, const char *path)
{
    bool found = false;
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < log->count && !found; i++)
        found = log->steps[i].rotate_to && strcmp(log->steps[i].rotate_to, path) == 0;
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
    for (size_t i = 0; i < log->count; i++) {
        sl_part_step *s = &log->steps[i];
        if (s->noted) continue;
        /* A rotation starts the file anew: undoing it (when it was done)
         * removes the new file and moves the old one back. */
        if (s->rotate_to) sl_owned_note_rotate(&log->owned, s->file, s->rotate_to);
        else if (s->file_size == 0) sl_owned_note_create(&log->owned, s->file);
        s->noted = true;
    }
    if (sl_owned_sync(&log->owned, err) < 0) {
        pthread_mutex_unlock(&log->lock);
        return sl_error_prefix(err, "cannot note the files this checkpoint publishes");
    }
    sl_buf_puts(state, "{\"publish\":[");
    for (size_t i = 0; i < log->count; i++) {
        const sl_part_step *s = &log->steps[i];
        sl_buf_printf(state, "%s{\"file_size\":%" PRIu64 ",\"bytes\":%" PRIu64, i ? "," : "", s->file_size, s->bytes);
        put_field(state, "part", s->part);
        put_field(state, "file", s->file);
        if (s->rotate_to) put_field(state, "rotate_to", s->rotate_to);
        sl_buf_putc(state, '}');
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

/* Appends the part to the published file, from file_size on, and leaves
 * the file open in *synced for the caller to fdatasync before removing the
 * part (publish_all does that for many files at once). */
static int append_part(const sl_part_step *s, int *synced, sl_error *err)
{
    int in = open(s->part, O_RDONLY | O_CLOEXEC);
    if (in < 0) return sys_error(err, "open", s->part);
    int out = open(s->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return sys_error(err, "open", s->file);
    }
    struct stat st;
    int rc = 0;
    if (fstat(out, &st) < 0) {
        rc = sys_error(err, "stat", s->file);
    } else if ((uint64_t)st.st_size < s->file_size) {
        rc = sl_errorf(err, "%s holds %lld bytes but held %" PRIu64 " at the last checkpoint: it was changed "
                       "by something else; cannot publish %s into it", s->file, (long long)st.st_size,
                       s->file_size, s->part);
    } else if ((uint64_t)st.st_size > s->file_size && ftruncate(out, (off_t)s->file_size) < 0) {
        rc = sys_error(err, "truncate", s->file);   /* a publish interrupted by a crash */
    }
    off_t at = (off_t)s->file_size;
    while (rc == 0) {
        ssize_t n = copy_file_range(in, NULL, out, &at, 1 << 30, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = sys_error(err, "append to", s->file);
        if (n <= 0) break;
    }
    close(in);
    if (rc < 0) close(out);
    else *synced = out;
    return rc;
}

/* Applies one step; idempotent (see part_log.h). Returns 1 when it
 * published the part, 0 when that was done before, -1 with err. An append
 * leaves the file in *synced (else -1): the part may be removed only once
 * that is fdatasynced. */
static int publish(const sl_part_step *s, int *synced, sl_error *err)
{
    *synced = -1;
    if (s->rotate_to && exists(s->file) && !exists(s->rotate_to) && rename(s->file, s->rotate_to) < 0)
        return sys_error(err, "rotate", s->file);
    if (!exists(s->part)) return 0;
    if (s->file_size == 0) {
        if (rename(s->part, s->file) < 0) return sys_error(err, "publish", s->part);
        return 1;
    }
    return append_part(s, synced, err) < 0 ? -1 : 1;
}

/* fsyncs the directory of each step's file once. */
static int sync_dirs(const sl_part_step *steps, size_t n, sl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(steps[i].file, '/');
        size_t len = slash ? (size_t)(slash - steps[i].file) : 0;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) {
            const char *s2 = strrchr(steps[k].file, '/');
            size_t len2 = s2 ? (size_t)(s2 - steps[k].file) : 0;
            seen = len == len2 && memcmp(steps[i].file, steps[k].file, len) == 0;
        }
        if (seen) continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", len ? (int)len : 1, len ? steps[i].file : ".");
        if (sl_fsync_dir(dir, err) < 0) return -1;
    }
    return 0;
}

/* Parses the steps of a checkpoint state. */
static int load_steps(const char *state, size_t len, sl_part_step **out, size_t *n, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value doc;
    *out = NULL;
    *n = 0;
    int rc = sl_state_parse(&a, state, len, "the saved parts", &doc, err);
    const sl_value *list = rc == 0 ? sl_state_get(&doc, "publish") : NULL;
    if (rc == 0 && (!list || list->type != SL_ARRAY)) rc = sl_errorf(err, "the saved state has no \"publish\" list");
    if (rc == 0 && list->len) {
        *out = calloc(list->len, sizeof **out);
        if (!*out) abort();
    }
    for (uint32_t i = 0; rc == 0 && i < list->len; i++) {
        const sl_value *v = &list->as.items[i];
        sl_part_step *s = &(*out)[i];
        const char *part = sl_state_string(&a, v, "part"), *file = sl_state_string(&a, v, "file");
        if (!part || !file || !sl_state_uint(v, "file_size", &s->file_size) || !sl_state_uint(v, "bytes", &s->bytes)) {
            rc = sl_errorf(err, "saved part %u is malformed", i + 1);
            break;
        }
        s->part = xstrdup(part);
        s->file = xstrdup(file);
        s->rotate_to = xstrdup(sl_state_string(&a, v, "rotate_to"));
        (*n)++;
    }
    sl_arena_free(&a);
    return rc;
}

static void free_steps(sl_part_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) free_step(&steps[i]);
    free(steps);
}

/* fdatasyncs the n files appended to (fds, by the steps at `at`) at once
 * (sl_fdatasync_many), closes them and removes their parts. A crash before
 * the removal publishes the part again (idempotent); an fsync that fails
 * keeps its part and fails the commit. */
static int finish_appends(const sl_part_step *steps, const size_t *at, const int *fds, int *errs, size_t n,
                          sl_error *err)
{
    sl_fdatasync_many(fds, n, errs);
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        close(fds[k]);
        if (rc == 0 && errs[k]) {
            errno = errs[k];
            rc = sys_error(err, "sync", steps[at[k]].file);
        }
        if (rc == 0 && unlink(steps[at[k]].part) < 0) rc = sys_error(err, "remove", steps[at[k]].part);
    }
    return rc;
}

/* Whether one of the n open appends (steps at `at`) goes to file. */
static bool appending_to(const sl_part_step *steps, const size_t *at, size_t n, const char *file)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(steps[at[k]].file, file) == 0) return true;
    return false;
}

/* Applies every step in order; the files appended to are fdatasynced
 * APPENDS_AT_ONCE at a time, together, instead of one after the other (a
 * checkpoint of a path template publishes into every file it wrote).
 * Returns how many steps published a part, or -1. */
#define APPENDS_AT_ONCE 64
static int publish_all(const sl_part_step *steps, size_t n, sl_error *err)
{
    size_t at[APPENDS_AT_ONCE], open_n = 0;
    int fds[APPENDS_AT_ONCE], errs[APPENDS_AT_ONCE];
    int published = 0, rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* A step that rotates or replaces a file with an append still open
         * finishes that append first (fsync, part removed): else a crash
         * between the two would leave the part to be appended again, by
         * the replay, into the file that replaced the one it went to. */
        if (open_n && (steps[i].rotate_to || steps[i].file_size == 0) && appending_to(steps, at, open_n, steps[i].file)) {
            rc = finish_appends(steps, at, fds, errs, open_n, err);
            open_n = 0;
            if (rc < 0) break;
        }
        int fd, done = publish(&steps[i], &fd, err);
        if (done < 0) {
            rc = -1;
            break;
        }
        published += done;
        if (fd >= 0) {
            at[open_n] = i;
            fds[open_n++] = fd;
        }
        if (open_n == APPENDS_AT_ONCE || (i + 1 == n && open_n)) {
            rc = finish_appends(steps, at, fds, errs, open_n, err);
            open_n = 0;
        }
    }
    for (size_t k = 0; k < open_n; k++) close(fds[k]);   /* a step failed: the parts stay, published again later */
    if (rc < 0) return -1;
    return sync_dirs(steps, n, err) < 0 ? -1 : published;
}

int sl_part_log_commit(sl_part_log *log, const char *state, size_t len, sl_error *err)
{
    sl_part_step *steps;
    size_t n;
    if (load_steps(state, len, &steps, &n, err) < 0) return -1;
    pthread_mutex_lock(&log->lock);
    int rc = publish_all(steps, n, err) < 0 ? -1 : 0;
    /* Forget the published steps: the log holds them first, in order. */
    size_t done = 0;
    while (rc == 0 && done < log->count && done < n && strcmp(log->steps[done].part, steps[done].part) == 0)
        free_step(&log->steps[done++]);
    if (done) {
        memmove(log->steps, log->steps + done, (log->count - done) * sizeof *log->steps);
        log->count -= done;
    }
    pthread_mutex_unlock(&log->lock);
    free_steps(steps, n);
    return rc;
}

/* Cuts each file the checkpoint knows back to the size it recorded. */
static int roll_back(sl_part_log *log, const char *state, size_t len, const char *who, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value doc;
    int rc = sl_state_parse(&a, state, len, "the saved parts", &doc, err);
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

int sl_parts_recover(sl_part_log *log, const char *state, size_t len, bool start_over, const char *parts_glob,
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
        sl_part_step *steps;
        size_t n;
        if (load_steps(state, len, &steps, &n, err) < 0) return -1;
        int published = publish_all(steps, n, err);
        free_steps(steps, n);
        if (published < 0) return sl_error_prefix(err, "cannot publish the output of the last checkpoint");
        if (published)
            sl_info(who, "published %d part%s of the last checkpoint (a crash came before)", published,
                    published == 1 ? "" : "s");
        if (roll_back(log, state, len, who, err) < 0) return -1;
    }
    glob_t g;
    int grc = glob(parts_glob, GLOB_NOSORT, NULL, &g);
    if (grc == GLOB_NOSPACE) abort();
    if (grc != 0) return 0;
    size_t removed = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (unlink(g.gl_pathv[i]) < 0 && errno != ENOENT) {
            sys_error(err, "remove the unpublished part", g.gl_pathv[i]);
            globfree(&g);
            return -1;
        }
        removed++;
    }
    globfree(&g);
    if (removed)
        sl_info(who, "discarded %zu unpublished part%s of an interrupted run (their records are written again)",
                removed, removed == 1 ? "" : "s");
    return 0;
}
