/* tail.c — the `tail` source: follows growing files matched by glob
 * patterns, through rotation, truncation and deletion, until the pipeline
 * is stopped (streaming mode).
 *
 * Every poll_interval each open file is looked at (fstat): new bytes are
 * read (tail_read.c); a file that shrank, or whose first or last read bytes
 * changed, was truncated or rewritten in place (copytruncate): what it had
 * beyond the last read is read from its copy, found beside it by the hash
 * of the bytes read (prefix_hash.h), then it is read again from its start. An idle file
 * whose path no longer leads to it was renamed or deleted (rotation): it is
 * read on by its descriptor until it has been quiet for rotate_wait, then
 * its unterminated rest is handed over and it is closed. The patterns are expanded again every glob_interval, and at once
 * after a rotation, so new files (the one a rotation created, files
 * appearing later) are followed; files found by the same expansion are
 * opened oldest first (by modification time), which keeps a rotated
 * generation before the next.
 *
 * Positions: every file is known by device and inode and checked by a
 * fingerprint of its first bytes (file_position.h). A checkpoint saves the
 * position of every file the source holds, rotated ones still being read
 * included. On resume, a file the checkpoint knew that no pattern matches
 * any more (rotated away while sluice was down) is looked for by its inode
 * in the directory it was in, and read to its end from where it was left;
 * one that was truncated since is read on in its copy.
 *
 * Batches point at their file's path as origin, so paths are kept
 * (interned) for the source's lifetime.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/util.h"
#include "../runtime/component.h"
#include "file_position.h"
#include "multiline.h"
#include "prefix_hash.h"
#include "tail_read.h"

#define END_SEARCH_BYTES (64 * 1024)   /* read_from: end looks this far back for a line start */

typedef enum {
    FOLLOWING,   /* open and read */
    DONE,        /* rotated, read to its end and closed; kept while a pattern matches it */
    FAILED,      /* cannot be read (logged); kept while a pattern matches it */
} file_state;

typedef struct tailed {
    sl_tail_file f;
    file_state state;
    bool rotated;              /* its path no longer leads to it: renamed or deleted */
    bool flushed;              /* the multiline timeout handed over what it could since the last data */
    bool seen;                 /* matched by the latest expansion of the patterns */
    int64_t quiet_since_ns;    /* last data read, or when the rotation was noticed */
    struct timespec mtime;     /* modification time at the last look */
} tailed;

/* A file that looked like a copy of a file followed (copytruncate, before
 * the truncation was noticed): not read while it stays as it is. */
typedef struct postponed {
    uint64_t dev, ino, size;
    bool seen;                 /* still there at the latest expansion */
} postponed;

typedef struct tail_source {
    sl_stream stream;
    sl_multiline *multiline;
    uint64_t poll_ms, glob_ms, rotate_wait_ms, multiline_timeout_ms;
    bool read_from_end;
    tailed **files;
    size_t n_files, cap_files;
    char **paths;              /* interned paths: batches' origins */
    size_t n_paths, cap_paths;
    sl_file_positions saved;   /* from the checkpoint, until the first expansion used them */
    bool resumed;              /* restore had a checkpoint's state */
    postponed *postponed;
    size_t n_postponed, cap_postponed;
    sl_tail_reader reader;
} tail_source;

static const char *const read_from_names[] = {"beginning", "end", NULL};

static const sl_option tail_options[] = {
    {"paths", SL_OPT_LIST, true, NULL,
     "Files to follow: paths or glob(7) patterns with `{a,b}` alternatives and `~`, e.g. "
     "`[\"/var/log/app/*.log\"]`. Expanded again every `glob_interval`, so files that appear "
     "later are followed too. To never miss lines written to a file that was rotated while "
     "sluice was not running, let the patterns match the rotated names as well (`app.log*`).",
     NULL},
    {"exclude", SL_OPT_LIST, false, NULL,
     "Patterns of files not to follow, e.g. `[\"*.gz\", \"*.1\"]`. A pattern without `/` is "
     "matched against the file name, one with `/` against the path as `paths` produced it "
     "(fnmatch(3): `*`, `?`, `[...]`).",
     NULL},
    {"read_from", SL_OPT_ENUM, false, "beginning",
     "Where to start in the files found when the source starts without a checkpoint to "
     "resume from (first run, `--from-start`): `beginning`, or `end` (only lines written "
     "from now on; an unterminated last line is read whole; the bytes before it are read "
     "once, to be hashed, so that a copy of the file is recognised after copytruncate). Files "
     "that appear later, and every file when resuming from a checkpoint, are read from their "
     "beginning.",
     read_from_names},
    {"poll_interval", SL_OPT_DURATION, false, "250ms",
     "How often open files are checked for new data, truncation and rotation.", NULL},
    {"glob_interval", SL_OPT_DURATION, false, "1s",
     "How often the patterns are expanded again to find new files (also done at once "
     "after a rotation is noticed).",
     NULL},
    {"rotate_wait", SL_OPT_DURATION, false, "5s",
     "How long a file that was renamed or deleted keeps being read after its last new "
     "data, for writers that finish writing to it after the rotation. Then its "
     "unterminated last line, if any, becomes a record and the file is closed.",
     NULL},
    {"multiline.start", SL_OPT_STRING, false, NULL,
     "A PCRE2 pattern matching the first line of every event, e.g. `'^\\d{4}-\\d\\d-\\d\\d'` "
     "or `'^\\S'`: the lines after it that do not match are joined to it (line breaks "
     "kept), so a stack trace is one record. Not with format `csv`.",
     NULL},
    {"multiline.max_lines", SL_OPT_INT, false, "500",
     "Most lines joined into one event; the next line starts a new one.", NULL},
    {"multiline.timeout", SL_OPT_DURATION, false, "1s",
     "How long the last event of a file waits for more lines when no new data comes "
     "before it is handed over.",
     NULL},
    SL_STREAM_FORMAT_OPTIONS,
    {NULL, 0, false, NULL, NULL, NULL},
};

static uint64_t positive_duration(const sl_opts *o, const char *name, sl_diag *diag)
{
    uint64_t ms = sl_opts_duration_ms(o, name);
    if (ms == 0) sl_diag_error(diag, sl_opts_pos(o, name), "%s must be longer than 0", name);
    return ms;
}

static void tail_destroy(sl_component *c);

static int tail_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    tail_source *ts = calloc(1, sizeof *ts);
    if (!ts) abort();
    c->impl = ts;
    size_t errors = diag->errors;
    if (sl_opts_list_len(opts, "paths") == 0)
        sl_diag_error(diag, sl_opts_pos(opts, "paths"), "paths must name at least one file or pattern");
    bool stream_ok = sl_stream_init(&ts->stream, c->name, opts, diag) == 0;
    ts->read_from_end = strcmp(sl_opts_enum(opts, "read_from"), "end") == 0;
    ts->poll_ms = positive_duration(opts, "poll_interval", diag);
    ts->glob_ms = positive_duration(opts, "glob_interval", diag);
    ts->rotate_wait_ms = sl_opts_duration_ms(opts, "rotate_wait");
    ts->multiline_timeout_ms = positive_duration(opts, "multiline.timeout", diag);

    const char *start = sl_opts_string(opts, "multiline.start");
    int64_t max_lines = sl_opts_int(opts, "multiline.max_lines");
    if (max_lines < 1 || max_lines > 1000000)
        sl_diag_error(diag, sl_opts_pos(opts, "multiline.max_lines"),
                      "multiline.max_lines must be between 1 and 1000000");
    if (start) {
        sl_error err = {0};
        if (stream_ok && ts->stream.format.kind == SL_FORMAT_CSV)
            sl_diag_error(diag, sl_opts_pos(opts, "multiline.start"),
                          "multiline joins lines of text or JSON; CSV rows already span lines inside quotes");
        else if (max_lines >= 1 && !(ts->multiline = sl_multiline_new(start, (size_t)max_lines, &err)))
            sl_diag_error(diag, sl_opts_pos(opts, "multiline.start"), "multiline.start: %s", err.msg);
    } else {
        static const char *const needs_start[] = {"multiline.max_lines", "multiline.timeout"};
        for (size_t i = 0; i < 2; i++)
            if (sl_opts_has(opts, needs_start[i]))
                sl_diag_warning(diag, sl_opts_pos(opts, needs_start[i]),
                                "%s has no effect without multiline.start", needs_start[i]);
    }
    if (diag->errors != errors) {
        tail_destroy(c);
        return -1;
    }
    return 0;
}

static void free_file(tailed *t)
{
    sl_tail_file_free(&t->f);
    free(t);
}

static void tail_destroy(sl_component *c)
{
    tail_source *ts = c->impl;
    if (!ts) return;
    for (size_t i = 0; i < ts->n_files; i++) free_file(ts->files[i]);
    free(ts->files);
    for (size_t i = 0; i < ts->n_paths; i++) free(ts->paths[i]);
    free(ts->paths);
    free(ts->postponed);
    sl_file_positions_free(&ts->saved);
    sl_multiline_free(ts->multiline);
    if (ts->stream.name) sl_stream_free(&ts->stream);
    free(ts);
    c->impl = NULL;
}

/* The source's lasting copy of a path. */
static const char *intern(tail_source *ts, const char *path)
{
    for (size_t i = ts->n_paths; i-- > 0;)
        if (strcmp(ts->paths[i], path) == 0) return ts->paths[i];
    if (ts->n_paths == ts->cap_paths) {
        ts->cap_paths = ts->cap_paths ? 2 * ts->cap_paths : 16;
        ts->paths = realloc(ts->paths, ts->cap_paths * sizeof *ts->paths);
        if (!ts->paths) abort();
    }
    char *copy = strdup(path);
    if (!copy) abort();
    return ts->paths[ts->n_paths++] = copy;
}

static tailed *find_file(tail_source *ts, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < ts->n_files; i++)
        if (ts->files[i]->f.dev == dev && ts->files[i]->f.ino == ino) return ts->files[i];
    return NULL;
}

static void set_identity(sl_tail_file *f, const struct stat *st)
{
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
    f->file_id = (f->dev << 32) ^ f->ino;
}

static tailed *add_file(tail_source *ts, const char *path, const struct stat *st, int fd)
{
    if (ts->n_files == ts->cap_files) {
        ts->cap_files = ts->cap_files ? 2 * ts->cap_files : 16;
        ts->files = realloc(ts->files, ts->cap_files * sizeof *ts->files);
        if (!ts->files) abort();
    }
    tailed *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->f.path = intern(ts, path);
    t->f.fd = fd;
    set_identity(&t->f, st);
    sl_buf_init(&t->f.pending);
    t->seen = true;
    t->quiet_since_ns = sl_monotonic_ns();
    ts->files[ts->n_files++] = t;
    return t;
}

static bool excluded(const sl_component *c, const char *path)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    for (size_t i = 0, n = sl_opts_list_len(c->opts, "exclude"); i < n; i++) {
        const char *pattern = sl_opts_list_item(c->opts, "exclude", i);
        if (fnmatch(pattern, strchr(pattern, '/') ? path : name, 0) == 0) return true;
    }
    return false;
}

/* Whether the regular file `name` (st) in the directory dir_fd is the one
 * wanted. */
typedef bool (*pick_fn)(int dir_fd, const char *name, const struct stat *st, void *arg);

/* The path of the first regular file in path's directory (where rotation
 * leaves files) that pick accepts, or NULL. */
static char *find_beside(const char *path, pick_fn pick, void *arg)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    if (!dir) abort();
    DIR *d = opendir(dir);
    char *found = NULL;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            pick(dirfd(d), e->d_name, &st, arg)) {
            size_t len = strlen(dir) + strlen(e->d_name) + 2;
            found = malloc(len);
            if (!found) abort();
            snprintf(found, len, "%s%s%s", slash ? dir : "", slash && slash != path ? "/" : "",
                     e->d_name);
        }
    }
    if (d) closedir(d);
    free(dir);
    return found;
}

static bool same_inode(int dir_fd, const char *name, const struct stat *st, void *arg)
{
    (void)dir_fd;
    (void)name;
    const uint64_t *id = arg;
    return (uint64_t)st->st_dev == id[0] && (uint64_t)st->st_ino == id[1];
}

/* The path of the regular file with this identity beside path, or NULL:
 * where a file went when it was renamed (rotation keeps it in its
 * directory). */
static char *find_by_inode(const char *path, uint64_t dev, uint64_t ino)
{
    uint64_t id[2] = {dev, ino};
    return find_beside(path, same_inode, id);
}

/* Whether the open file fd (st) starts with what was read of a file: its
 * first bytes (fingerprint), then everything read (prefix hash; restored
 * from a checkpoint, it covers whole blocks only: the fingerprint covers
 * the first one). */
static sl_prefix_match copy_match(int fd, const struct stat *st, const sl_prefix_hash *hash, uint64_t fingerprint,
                                  uint32_t fp_len)
{
    if (fp_len == 0 && sl_prefix_hash_end(hash) == 0) return SL_PREFIX_DIFFERENT;   /* nothing known of it */
    if ((uint64_t)st->st_size < fp_len || !sl_file_starts_with(fd, fingerprint, fp_len)) return SL_PREFIX_DIFFERENT;
    return sl_prefix_hash_match(hash, fd, (uint64_t)st->st_size);
}

/* Whether `name` can be a rotated copy of the file at path: it starts with
 * the file's name up to its first dot (app.log: app.log.1, app.log-20240101,
 * app-20240101.log), as logrotate names copies. This keeps files that merely
 * start with the same bytes (a CSV header) from being taken for copies. */
static bool named_like(const char *path, const char *name)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strchr(base + 1, '.');
    size_t stem = dot ? (size_t)(dot - base) : strlen(base);
    return strncmp(base, name, stem) == 0;
}

/* Looking for the copy logrotate's copytruncate made of a file just before
 * truncating it: a file beside it, named like it, not followed, that starts
 * with what was read of it. */
typedef struct copy_search {
    tail_source *ts;
    const char *path;             /* the truncated file itself */
    uint64_t dev, ino;
    const sl_prefix_hash *hash;
    uint64_t fingerprint;
    uint32_t fp_len;
    int fd;                       /* found: the copy, open */
    struct stat st;
    sl_prefix_match match;
} copy_search;

static bool is_copy(int dir_fd, const char *name, const struct stat *st, void *arg)
{
    copy_search *cs = arg;
    if (((uint64_t)st->st_dev == cs->dev && (uint64_t)st->st_ino == cs->ino) || !named_like(cs->path, name) ||
        find_file(cs->ts, (uint64_t)st->st_dev, (uint64_t)st->st_ino))
        return false;
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    cs->match = copy_match(fd, st, cs->hash, cs->fingerprint, cs->fp_len);
    if (cs->match == SL_PREFIX_DIFFERENT) {
        close(fd);
        return false;
    }
    cs->fd = fd;
    cs->st = *st;
    return true;
}

/* The copy of the file at `path` (dev, ino), or NULL; cs says how it
 * matched and holds it open. */
static char *find_copy(tail_source *ts, const char *path, uint64_t dev, uint64_t ino, const sl_prefix_hash *hash,
                       uint64_t fingerprint, uint32_t fp_len, copy_search *cs)
{
    *cs = (copy_search){.ts = ts, .path = path, .dev = dev, .ino = ino, .hash = hash, .fingerprint = fingerprint,
                        .fp_len = fp_len, .fd = -1};
    return find_beside(path, is_copy, cs);
}

/* A copy holding nothing that was not read of its file: known, closed and
 * done, so that it is not read again when a pattern matches it. */
static void add_read_copy(tail_source *ts, const char *path, copy_search *cs)
{
    tailed *t = add_file(ts, path, &cs->st, -1);
    t->state = DONE;
    t->f.offset = t->f.read_offset = (uint64_t)cs->st.st_size;
    sl_error err;
    if (sl_file_fingerprint(cs->fd, &t->f.fingerprint, &t->f.fp_len, &err) < 0)
        t->f.fingerprint = sl_fingerprint_bytes("", 0);   /* unknown: any content resumes at its offset */
    close(cs->fd);
    cs->fd = -1;
}

/* read_from: end — just after the last line break, so that a line being
 * written when the source starts is read whole. */
static uint64_t start_of_last_line(int fd, uint64_t size)
{
    char buf[END_SEARCH_BYTES];
    size_t want = size < sizeof buf ? (size_t)size : sizeof buf;
    ssize_t n = pread(fd, buf, want, (off_t)(size - want));
    if (n != (ssize_t)want) return size;
    for (size_t i = want; i-- > 0;)
        if (buf[i] == '\n') return size - want + i + 1;
    return want == size ? 0 : size;
}

typedef struct candidate {
    char *path;
    struct stat st;
    bool known;     /* the checkpoint has its position: it existed before the others */
    bool rotated;   /* found by inode, away from where the checkpoint saw it */
    bool restart;   /* known, but truncated or rewritten since: new content, read from its start */
} candidate;

/* Oldest first: by modification time, and when the clock's granularity
 * cannot tell, files the checkpoint knew and files rotated away first. */
static int older_first(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec) return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
    if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec) return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
    if (x->known != y->known) return x->known ? -1 : 1;
    if (x->rotated != y->rotated) return x->rotated ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* A file that cannot be followed: logged and dead-lettered once; kept so
 * that it is not retried (a restart tries again from its position). */
static void give_up_open(tail_source *ts, sl_source_ctx *ctx, const char *path, const struct stat *st,
                         uint64_t offset, const char *what, int e)
{
    tailed *t = add_file(ts, path, st, -1);
    t->state = FAILED;
    t->f.offset = t->f.read_offset = offset;
    t->f.fingerprint = sl_fingerprint_bytes("", 0);   /* unknown: any content resumes at offset */
    sl_err(ts->stream.name, "cannot %s %s: %s; a restart tries again", what, path, strerror(e));
    sl_source_dlq(ctx, "", 0, (sl_position){t->f.file_id, offset}, t->f.path, "read_error", "cannot %s: %s", what,
                  strerror(e));
}

/* A file that was truncated while sluice was stopped (its saved position
 * no longer fits it): what it had beyond the saved offset is in the copy
 * copytruncate made, if one is beside it. Follows the copy from there, as
 * a rotated file. */
static void resume_in_copy(tail_source *ts, const sl_file_position *saved, const char *path)
{
    sl_prefix_hash hash;
    sl_prefix_hash_restore(&hash, saved->prefix_chain, saved->prefix_len);
    copy_search cs;
    char *copy = find_copy(ts, path, saved->dev, saved->ino, &hash, saved->fingerprint, saved->fp_len, &cs);
    if (copy && cs.match == SL_PREFIX_COVERS && (uint64_t)cs.st.st_size >= saved->offset) {
        tailed *t = add_file(ts, copy, &cs.st, cs.fd);
        t->f.fingerprint = saved->fingerprint;
        t->f.fp_len = saved->fp_len;
        t->f.offset = t->f.read_offset = saved->offset;
        t->f.hash = hash;
        t->rotated = true;
        sl_info(ts->stream.name, "the rest of what %s had is read from its copy %s, from byte %llu", path, copy,
                (unsigned long long)saved->offset);
    } else if (copy) {
        add_read_copy(ts, copy, &cs);
    }
    free(copy);
}

/* Whether the file at path is in the same directory as the file at other. */
static bool same_dir(const char *path, const char *other)
{
    const char *a = strrchr(path, '/'), *b = strrchr(other, '/');
    size_t la = a ? (size_t)(a - path) : 0, lb = b ? (size_t)(b - other) : 0;
    return la == lb && strncmp(path, other, la) == 0;
}

/* Whether the followed file f is the origin of the file fd (st), which
 * starts with f's first bytes: f still starts with all of its bytes (a copy
 * being made, or made before f grew on), or f was truncated or rewritten
 * (not noticed yet) and fd starts with what was read of f. */
static bool origin_of(const sl_tail_file *f, int fd, const struct stat *st)
{
    struct stat now;
    if (fstat(f->fd, &now) < 0) return false;
    if ((uint64_t)now.st_size < f->read_offset || !sl_file_starts_with(f->fd, f->fingerprint, f->fp_len))
        return copy_match(fd, st, &f->hash, f->fingerprint, f->fp_len) != SL_PREFIX_DIFFERENT;
    return now.st_size >= st->st_size && sl_prefix_same_bytes(fd, f->fd, (uint64_t)st->st_size);
}

/* Whether the file fd (st), shorter than the fingerprint of the followed
 * file f, can be a copy of f that is being written: empty, or the start of
 * f's bytes (copytruncate copies before it truncates, so f still has them).
 * Found between the copy's creation and its first write, it would
 * otherwise be read as a new file, and everything in it twice. */
static bool copy_begun(const sl_tail_file *f, int fd, const struct stat *st)
{
    struct stat now;
    if (st->st_size == 0) return true;
    return fstat(f->fd, &now) == 0 && now.st_size >= st->st_size &&
           sl_prefix_same_bytes(fd, f->fd, (uint64_t)st->st_size);
}

/* Whether the file at path (open as fd) is a copy of a file still followed:
 * beside it, named like it, and origin_of (or copy_begun). A copy copytruncate is making or
 * made before the truncation was noticed, or a `cp`: not read; when the
 * followed file is found truncated, its rest is read from the copy.
 * Remembered, so that it is not compared again while its size stays the
 * same. */
static bool copy_of_followed(tail_source *ts, const char *path, int fd, const struct stat *st)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    for (size_t i = 0; i < ts->n_postponed; i++) {
        postponed *p = &ts->postponed[i];
        if (p->dev == (uint64_t)st->st_dev && p->ino == (uint64_t)st->st_ino && p->size == (uint64_t)st->st_size)
            return p->seen = true;
    }
    for (size_t i = 0; i < ts->n_files; i++) {
        const sl_tail_file *f = &ts->files[i]->f;
        if (ts->files[i]->state != FOLLOWING || f->fp_len == 0 || !same_dir(path, f->path) ||
            !named_like(f->path, name))
            continue;
        bool could_be_copy = (uint64_t)st->st_size < f->fp_len
                                 ? copy_begun(f, fd, st)
                                 : sl_file_starts_with(fd, f->fingerprint, f->fp_len) && origin_of(f, fd, st);
        if (!could_be_copy) continue;
        if (ts->n_postponed == ts->cap_postponed) {
            ts->cap_postponed = ts->cap_postponed ? 2 * ts->cap_postponed : 4;
            ts->postponed = realloc(ts->postponed, ts->cap_postponed * sizeof *ts->postponed);
            if (!ts->postponed) abort();
        }
        ts->postponed[ts->n_postponed++] =
            (postponed){(uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size, true};
        sl_debug(ts->stream.name, "a file matching the patterns is a copy of the start of %s: not read", f->path);
        return true;
    }
    return false;
}

/* Opens a file found by an expansion and decides where to read from. A
 * file the checkpoint knew that was truncated or rewritten since has its
 * old rest followed in its copy now, and is itself left for later
 * (cand->restart): its content is newer than other copies'. */
static void open_candidate(tail_source *ts, sl_source_ctx *ctx, candidate *cand, bool first)
{
    sl_file_position *saved = cand->restart ? NULL : sl_file_positions_find(&ts->saved, (uint64_t)cand->st.st_dev,
                                                                           (uint64_t)cand->st.st_ino);
    uint64_t saved_offset = saved ? saved->offset : 0;
    int fd = open(cand->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) give_up_open(ts, ctx, cand->path, &cand->st, saved_offset, "open", errno);
        return;   /* gone since the expansion: nothing to read */
    }
    struct stat st;
    uint64_t fp;
    uint32_t fp_len;
    sl_error err = {0};
    if (fstat(fd, &st) < 0 || sl_file_fingerprint(fd, &fp, &fp_len, &err) < 0) {
        int e = errno;
        close(fd);
        give_up_open(ts, ctx, cand->path, &cand->st, saved_offset, "read", e);
        return;
    }
    if (find_file(ts, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||   /* replaced by a file already followed */
        (!saved && copy_of_followed(ts, cand->path, fd, &st))) {
        close(fd);
        return;
    }
    uint64_t start = 0;
    const char *why = NULL;
    if (saved) {
        start = sl_file_positions_resume(&ts->saved, fd, &st, &why);
        if (why) {
            sl_warn(ts->stream.name, "%s was %s since the last checkpoint; reading it from the start",
                    cand->path, why);
            resume_in_copy(ts, saved, cand->path);
            cand->restart = true;
            close(fd);
            return;
        }
    } else if (first && !ts->resumed && ts->read_from_end) {
        start = start_of_last_line(fd, (uint64_t)st.st_size);
    }
    tailed *t = add_file(ts, cand->path, &st, fd);
    t->f.fingerprint = fp;
    t->f.fp_len = fp_len;
    t->f.offset = t->f.read_offset = start;
    if (saved) sl_prefix_hash_restore(&t->f.hash, saved->prefix_chain, saved->prefix_len);
    t->rotated = cand->rotated;
    sl_info(ts->stream.name, "following %s%s from byte %llu", cand->path,
            cand->rotated ? " (rotated while sluice was stopped)" : "", (unsigned long long)start);
}

static void add_candidate(tail_source *ts, candidate **list, size_t *n, size_t *cap, const char *path,
                          const struct stat *st, bool rotated)
{
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].st.st_dev == st->st_dev && (*list)[i].st.st_ino == st->st_ino) return;
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *list = realloc(*list, *cap * sizeof **list);
        if (!*list) abort();
    }
    candidate *cand = &(*list)[(*n)++];
    cand->path = strdup(path);
    if (!cand->path) abort();
    cand->st = *st;
    cand->known = sl_file_positions_find(&ts->saved, (uint64_t)st->st_dev, (uint64_t)st->st_ino) != NULL;
    cand->rotated = rotated;
    cand->restart = false;
}

/* Files the checkpoint knew that no pattern matched: rotated away while
 * sluice was stopped. Looked for by inode where they were. */
static void find_rotated_away(tail_source *ts, const sl_component *c, candidate **list, size_t *n, size_t *cap)
{
    for (size_t i = 0; i < ts->saved.count; i++) {
        const sl_file_position *e = &ts->saved.items[i];
        bool matched = false;
        for (size_t k = 0; k < *n && !matched; k++)
            matched = (uint64_t)(*list)[k].st.st_dev == e->dev && (uint64_t)(*list)[k].st.st_ino == e->ino;
        if (matched) continue;
        char *path = find_by_inode(e->path, e->dev, e->ino);
        struct stat st;
        if (path && stat(path, &st) == 0) {
            add_candidate(ts, list, n, cap, path, &st, true);
        } else {
            sl_info(c->name, "%s (followed when the checkpoint was taken) no longer exists; it was read up "
                    "to byte %llu", e->path, (unsigned long long)e->offset);
        }
        free(path);
    }
}

/* Expands the patterns: follows new files (oldest first), and forgets
 * closed files that no pattern matches any more. */
static void scan(tail_source *ts, const sl_component *c, sl_source_ctx *ctx, bool first)
{
    for (size_t i = 0; i < ts->n_files; i++) ts->files[i]->seen = false;
    for (size_t i = 0; i < ts->n_postponed; i++) ts->postponed[i].seen = false;
    candidate *list = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0, n_patterns = sl_opts_list_len(c->opts, "paths"); i < n_patterns; i++) {
        const char *pattern = sl_opts_list_item(c->opts, "paths", i);
        glob_t g;
        int rc = glob(pattern, GLOB_BRACE | GLOB_TILDE, NULL, &g);
        if (rc == GLOB_NOSPACE) abort();
        if (rc != 0) {
            if (first) sl_info(c->name, "no file matches '%s' yet; waiting for one", pattern);
            if (rc != GLOB_NOMATCH) globfree(&g);
            continue;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *path = g.gl_pathv[k];
            struct stat st;
            if (excluded(c, path) || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) continue;
            tailed *t = find_file(ts, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
            if (!t) {
                add_candidate(ts, &list, &n, &cap, path, &st, false);
                continue;
            }
            t->seen = true;
            if (t->state != FOLLOWING && strcmp(t->f.path, path) != 0) t->f.path = intern(ts, path);
            if (t->state == DONE && (uint64_t)st.st_size != t->f.offset) {   /* written to again */
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                    t->f.fd = fd;
                    t->state = FOLLOWING;
                    t->rotated = false;
                    t->quiet_since_ns = sl_monotonic_ns();
                }
            }
        }
        globfree(&g);
    }
    if (first) find_rotated_away(ts, c, &list, &n, &cap);
    if (n > 1) qsort(list, n, sizeof *list, older_first);
    /* Files the checkpoint knew first: a copy of one of them (copytruncate
     * while sluice was stopped) is then recognised as such. Then the new
     * ones, oldest first, with those known ones rewritten since: the live
     * file of two copytruncates is read after the newer copy. */
    for (size_t i = 0; i < n; i++)
        if (list[i].known) open_candidate(ts, ctx, &list[i], first);
    for (size_t i = 0; i < n; i++)
        if (!list[i].known || list[i].restart) open_candidate(ts, ctx, &list[i], first);
    for (size_t i = 0; i < n; i++) free(list[i].path);
    free(list);
    size_t still = 0;
    for (size_t i = 0; i < ts->n_postponed; i++)
        if (ts->postponed[i].seen) ts->postponed[still++] = ts->postponed[i];
    ts->n_postponed = still;
    if (first) sl_file_positions_clear(&ts->saved);

    size_t kept = 0;
    for (size_t i = 0; i < ts->n_files; i++) {
        tailed *t = ts->files[i];
        if (t->state != FOLLOWING && !t->seen) free_file(t);
        else ts->files[kept++] = t;
    }
    ts->n_files = kept;
}

/* Whether the file's first bytes, or the last ones read, are no longer
 * those it had (truncated and written again past where reading was, or
 * rewritten in place); refreshes the fingerprint while the file is shorter
 * than SL_FINGERPRINT_BYTES. */
static bool rewritten(tailed *t, uint64_t size)
{
    char head[SL_FINGERPRINT_BYTES];
    size_t want = size < sizeof head ? (size_t)size : sizeof head;
    ssize_t n = pread(t->f.fd, head, want, 0);
    if (n < 0) return false;   /* reading reports the error */
    if ((size_t)n < t->f.fp_len) return true;
    if (sl_fingerprint_bytes(head, t->f.fp_len) != t->f.fingerprint) return true;
    if ((size_t)n > t->f.fp_len) {
        t->f.fingerprint = sl_fingerprint_bytes(head, (size_t)n);
        t->f.fp_len = (uint32_t)n;
    }
    return sl_prefix_hash_changed(&t->f.hash, t->f.fd, size);
}

/* Notices that the path no longer leads to the file: deleted, or renamed
 * (then it is known by its new name, found by inode). */
static bool notice_rotation(tail_source *ts, tailed *t, const struct stat *now)
{
    struct stat st;
    if (now->st_nlink > 0) {
        if (stat(t->f.path, &st) == 0) {
            if ((uint64_t)st.st_dev == t->f.dev && (uint64_t)st.st_ino == t->f.ino) return false;
        } else if (errno != ENOENT && errno != ENOTDIR) {
            return false;   /* cannot tell */
        }
    }
    t->rotated = true;
    t->quiet_since_ns = sl_monotonic_ns();
    char *renamed = now->st_nlink > 0 ? find_by_inode(t->f.path, t->f.dev, t->f.ino) : NULL;
    if (renamed) {
        sl_info(ts->stream.name, "%s was renamed to %s; reading it to its end", t->f.path, renamed);
        t->f.path = intern(ts, renamed);
        free(renamed);
    } else {
        sl_info(ts->stream.name, "%s was %s; reading what is left of it", t->f.path,
                now->st_nlink > 0 ? "moved away" : "deleted");
    }
    return true;
}

/* The file was truncated (or rewritten) after copytruncate copied it: the
 * bytes written after the last read are in the copy. t goes on reading the
 * copy from where it was, with what it kept, as a rotated file; the file at
 * the path is followed again from its start, as a new one. */
static void continue_in_copy(tail_source *ts, tailed *t, const struct stat *live, const char *copy,
                             copy_search *cs)
{
    sl_tail_file *f = &t->f;
    tailed *again = add_file(ts, f->path, live, f->fd);
    again->f.fingerprint = sl_fingerprint_bytes("", 0);   /* taken as it grows (rewritten) */
    f->fd = cs->fd;
    set_identity(f, &cs->st);
    f->path = intern(ts, copy);
    t->rotated = true;
    t->quiet_since_ns = sl_monotonic_ns();
    t->mtime = cs->st.st_mtim;
}

/* One look at an open file: reads what it gained, notices truncation and
 * rotation, and closes it once rotated and quiet. Sets *busy when data
 * was read and *rescan when a rotation was noticed. */
static sl_tail_read_result look(tail_source *ts, tailed *t, bool *busy, bool *rescan)
{
    sl_tail_reader *r = &ts->reader;
    sl_tail_file *f = &t->f;
    int64_t now = sl_monotonic_ns();
    struct stat st;
    if (fstat(f->fd, &st) < 0) {
        sl_err(ts->stream.name, "cannot stat %s: %s; a restart tries again", f->path, strerror(errno));
        return SL_TAIL_READ_GIVE_UP;
    }
    uint64_t size = (uint64_t)st.st_size;
    /* Written to since the last look: new bytes, or the same size rewritten. */
    bool modified = size != f->read_offset || st.st_mtim.tv_sec != t->mtime.tv_sec ||
                    st.st_mtim.tv_nsec != t->mtime.tv_nsec;
    t->mtime = st.st_mtim;
    sl_tail_read_result rc;
    if (size < f->read_offset || (modified && rewritten(t, size))) {
        const char *what = size < f->read_offset ? "truncated" : "rewritten";
        copy_search cs;
        char *copy = find_copy(ts, f->path, f->dev, f->ino, &f->hash, f->fingerprint, f->fp_len, &cs);
        if (copy && cs.match == SL_PREFIX_COVERS) {
            sl_info(ts->stream.name, "%s was %s; the rest of what it had is read from its copy %s (from byte %llu), "
                    "then the file again from its start", f->path, what, copy, (unsigned long long)f->read_offset);
            continue_in_copy(ts, t, &st, copy, &cs);
            free(copy);
            *rescan = true;
            return look(ts, t, busy, rescan);
        }
        if (copy) {   /* copied before the last read: everything in it was read */
            sl_info(ts->stream.name, "%s was %s; its copy %s holds nothing more than was read", f->path, what, copy);
            add_read_copy(ts, copy, &cs);
        }
        sl_warn(ts->stream.name, "%s was %s; reading it again from the start%s", f->path, what,
                copy ? "" : " (no copy of it was found beside it)");
        free(copy);
        if (sl_tail_file_has_rest(f) && (rc = sl_tail_read(r, f, f->read_offset, SL_MULTILINE_END)) != SL_TAIL_READ_OK)
            return rc;
        sl_tail_file_rewind(f);
        sl_error err;
        if (sl_file_fingerprint(f->fd, &f->fingerprint, &f->fp_len, &err) < 0) {
            sl_err(ts->stream.name, "%s: %s; a restart tries again", f->path, err.msg);
            return SL_TAIL_READ_GIVE_UP;
        }
    }
    if (size > f->read_offset) {
        uint64_t before = f->read_offset;
        rc = sl_tail_read(r, f, size, SL_MULTILINE_MORE);
        if (f->read_offset != before) {   /* not when waiting for a header row's end */
            *busy = true;
            t->quiet_since_ns = now;
            t->flushed = false;
        }
        return rc;
    }
    int64_t quiet_ms = (now - t->quiet_since_ns) / 1000000;
    if (ts->multiline && !t->flushed && sl_tail_file_has_rest(f) && (uint64_t)quiet_ms >= ts->multiline_timeout_ms) {
        t->flushed = true;
        if ((rc = sl_tail_read(r, f, size, SL_MULTILINE_FLUSH)) != SL_TAIL_READ_OK) return rc;
    }
    if (!t->rotated) {
        if (notice_rotation(ts, t, &st)) *rescan = true;
        return SL_TAIL_READ_OK;
    }
    if ((uint64_t)quiet_ms < ts->rotate_wait_ms) return SL_TAIL_READ_OK;
    if ((rc = sl_tail_read(r, f, size, SL_MULTILINE_END)) != SL_TAIL_READ_OK) return rc;
    sl_debug(ts->stream.name, "%s: read to its end (%llu bytes) and closed", f->path, (unsigned long long)f->offset);
    close(f->fd);
    f->fd = -1;
    t->state = DONE;
    return SL_TAIL_READ_OK;
}

static int tail_run(sl_component *c, sl_source_ctx *ctx, sl_error *err)
{
    (void)err;
    tail_source *ts = c->impl;
    ts->reader = (sl_tail_reader){.name = c->name, .stream = &ts->stream, .multiline = ts->multiline, .ctx = ctx};
    scan(ts, c, ctx, true);
    int64_t next_scan = sl_monotonic_ns() + (int64_t)ts->glob_ms * 1000000;
    while (!sl_source_should_stop(ctx)) {
        bool busy = false, rescan = false;
        for (size_t i = 0; i < ts->n_files; i++) {
            tailed *t = ts->files[i];
            if (t->state != FOLLOWING) continue;
            sl_tail_read_result rc = look(ts, t, &busy, &rescan);
            if (rc == SL_TAIL_READ_STOPPED) return 0;
            if (rc == SL_TAIL_READ_GIVE_UP) {
                sl_tail_file_free(&t->f);
                t->state = FAILED;
            }
        }
        if (rescan || sl_monotonic_ns() >= next_scan) {
            scan(ts, c, ctx, false);
            next_scan = sl_monotonic_ns() + (int64_t)ts->glob_ms * 1000000;
        }
        if (busy) sl_source_checkpoint_point(ctx);
        else if (!sl_source_sleep(ctx, (unsigned)ts->poll_ms)) break;
    }
    return 0;
}

/* The position of every file held, and of files the checkpoint knew that
 * the first expansion has not looked at yet. */
static int tail_save(sl_component *c, sl_buf *state, sl_error *err)
{
    (void)err;
    tail_source *ts = c->impl;
    sl_file_positions all = {0};
    for (size_t i = 0; i < ts->n_files; i++) {
        const sl_tail_file *f = &ts->files[i]->f;
        struct stat st = {.st_dev = (dev_t)f->dev, .st_ino = (ino_t)f->ino};
        sl_file_position *e = sl_file_positions_put(&all, f->path, &st, f->fingerprint, f->fp_len, f->offset);
        e->prefix_chain = f->hash.chain;
        e->prefix_len = f->hash.len;
    }
    for (size_t i = 0; i < ts->saved.count; i++) {
        const sl_file_position *e = &ts->saved.items[i];
        if (sl_file_positions_find(&all, e->dev, e->ino)) continue;
        struct stat st = {.st_dev = (dev_t)e->dev, .st_ino = (ino_t)e->ino};
        sl_file_position *kept = sl_file_positions_put(&all, e->path, &st, e->fingerprint, e->fp_len, e->offset);
        kept->prefix_chain = e->prefix_chain;
        kept->prefix_len = e->prefix_len;
    }
    sl_file_positions_save(&all, state);
    sl_file_positions_free(&all);
    return 0;
}

static int tail_restore(sl_component *c, const char *state, size_t len, sl_error *err)
{
    tail_source *ts = c->impl;
    sl_file_positions_clear(&ts->saved);
    ts->resumed = state != NULL;
    if (!state) return 0;
    return sl_file_positions_load(&ts->saved, state, len, err);
}

const sl_component_type sl_source_tail_type = {
    .name = "tail",
    .kind = SL_SOURCE,
    .summary = "Follows growing log files matched by glob patterns, through rotation and truncation",
    .doc =
        "Follows files as they grow, like `tail -F`, and never finishes on its own: the "
        "pipeline runs until it is stopped (SIGTERM or SIGINT hand over what was read, then "
        "exit). Files that match `paths` later are followed as they appear; compressed files "
        "(gzip, zstd) are not followed (a warning says so: leave them out with `exclude`).\n\n"
        "**Lines.** A line is handed over once its line break is written: a partly written "
        "last line waits for its end. With `multiline.start`, the lines that do not match the "
        "pattern are joined to the line before (format `text` keeps the line breaks in "
        "`message`); the last event of a file is handed over when the next one starts, or "
        "after `multiline.timeout` without new data.\n\n"
        "**Rotation.** A file that is renamed (`app.log` → `app.log.1`) or deleted is read on "
        "by its open descriptor until it has been quiet for `rotate_wait`; then its "
        "unterminated last line, if any, becomes a record and it is closed. The new file at "
        "the path is followed from its beginning as soon as the rotation is noticed.\n\n"
        "**copytruncate.** A file that shrinks, or whose first bytes or last bytes read change, "
        "was truncated (or rewritten) in place. Its copy is looked for in the same directory among the files named "
        "like it (starting with its name up to the first dot: `app.log.1`, `app.log-20240101`, "
        "`app-20240101.log`): one not followed that starts with exactly the bytes read so far (a "
        "hash of every byte read is kept for this, not only of the first KiB). The lines written after the last read "
        "and before the truncation are read from the copy, from where reading stopped, and then "
        "the file again from its start; a copy that `paths` matches (`app.log*`) is not read "
        "again. Finding a copy reads its start once. Without a copy beside it (logrotate's "
        "`olddir`, or `compress` without `delaycompress`) those lines are lost, and a warning "
        "says so. A file matching `paths` that is a copy of the start of a file being followed, "
        "beside it and named like it (a copy being made, even one still empty, or taken "
        "before the truncation was noticed, or a `cp`), is not read as a new file. What no "
        "reader can get: lines written after logrotate's copy and before its truncation are in "
        "neither file (copytruncate itself loses them); rotate by rename when every line "
        "matters.\n\n"
        "**Resuming.** Checkpoints save the position of every file followed (rotated ones "
        "still being read included), keyed by device and inode and checked with a fingerprint "
        "of the first 1 KiB, so a restarted run goes on exactly where the last checkpoint "
        "was: with the file sink, after a crash no line is lost or written twice. A file "
        "truncated by copytruncate while sluice was stopped is read on in its copy from the "
        "checkpoint's position (the checkpoint keeps the hash of the bytes read); after "
        "several copytruncates, the copies are read oldest first and the file last. A file the "
        "checkpoint knew that was rotated away while sluice was stopped is found again by its "
        "inode in its directory and read to its end before newer files; files rotated *and* "
        "replaced again while stopped are only found if the patterns match the rotated names "
        "(`app.log*`). A file deleted while sluice was stopped cannot be read.\n\n"
        "**Positions.** Each record carries its file's identity (device and inode) and the "
        "byte offset of its first byte; `origin` is the file's path (its new name once a "
        "rename is noticed).\n\n"
        "**Dead letters.** `record_too_large` (a line, or a joined event's first line, over "
        "`max_record_bytes`; reading continues after it), `csv_header` (the file is not "
        "followed), `read_error` (the file cannot be opened or read: the records before are "
        "kept and the file is left until a restart, which tries again from its position), "
        "and the decoders' reasons.",
    .example =
        "sources:\n"
        "  app_logs:\n"
        "    type: tail\n"
        "    paths: [\"/var/log/app/*.log*\"]\n"
        "    exclude: [\"*.gz\"]\n"
        "    format: text\n"
        "    multiline: {start: '^\\d{4}-\\d\\d-\\d\\d '}\n",
    .options = tail_options,
    .create = tail_create,
    .destroy = tail_destroy,
    .run = tail_run,
    .save = tail_save,
    .restore = tail_restore,
};
