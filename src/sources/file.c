/* file.c — the `file` source: reads files matched by glob patterns, once,
 * to their end (batch mode).
 *
 * Checkpoints: the source saves how far it read each file (file_position.h:
 * device+inode, a fingerprint of the first bytes, the offset), so a
 * restarted run goes on where the last checkpoint was, even when a file was
 * renamed meanwhile; a file that was truncated or replaced is read from the
 * start, and one that grew is read from where it ended.
 *
 * The patterns are expanded when the run starts (not when the pipeline is
 * built), so `sluice check` accepts a pipeline whose input does not exist yet.
 * Matches of all patterns are read in sorted order, each path once. The
 * reading itself — framing, batches, oversized records, read errors — is the
 * shared loop of stream.c.
 */
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/log.h"
#include "../runtime/component.h"
#include "file_position.h"
#include "stream.h"

typedef struct input_file {
    char *path;
    uint64_t file_id;    /* (st_dev << 32) ^ st_ino */
    uint64_t size;
} input_file;

typedef struct file_source {
    sl_stream stream;
    input_file *files;   /* matched at run start; batches' origins point here */
    size_t n_files;
    sl_file_positions saved;      /* from the checkpoint the run resumes from */
    sl_file_positions positions;  /* this run's: every file opened so far */
} file_source;

static const sl_option file_options[] = {
    {"paths", SL_OPT_LIST, true, NULL,
     "Files to read: paths or glob(7) patterns with `{a,b}` alternatives and `~`, e.g. "
     "`[\"data/*.jsonl\", \"archive/2026-{01,02}-*.jsonl.gz\"]`. Relative paths are relative "
     "to the working directory.",
     NULL},
    SL_STREAM_FORMAT_OPTIONS,
    {NULL, 0, false, NULL, NULL, NULL},
};

static int file_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    file_source *fs = calloc(1, sizeof *fs);
    if (!fs) abort();
    int rc = 0;
    if (sl_opts_list_len(opts, "paths") == 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "paths"), "paths must name at least one file or pattern");
        rc = -1;
    }
    if (sl_stream_init(&fs->stream, c->name, opts, diag) < 0) rc = -1;
    if (rc < 0) {
        if (fs->stream.name) sl_stream_free(&fs->stream);
        free(fs);
        return -1;
    }
    c->impl = fs;
    return 0;
}

static void free_files(file_source *fs) {
    for (size_t i = 0; i < fs->n_files; i++) free(fs->files[i].path);
    free(fs->files);
    fs->files = NULL;
    fs->n_files = 0;
}

static void file_destroy(sl_component *c) {
    file_source *fs = c->impl;
    if (!fs) return;
    free_files(fs);
    sl_file_positions_free(&fs->saved);
    sl_file_positions_free(&fs->positions);
    sl_stream_free(&fs->stream);
    free(fs);
    c->impl = NULL;
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(((const input_file *)a)->path, ((const input_file *)b)->path);
}

/* Expands every pattern into fs->files: sorted, without duplicates and
 * without directories. Patterns that match nothing are warnings; no match
 * at all is an error. */
static int expand(file_source *fs, const sl_component *c, sl_error *err) {
    size_t n_patterns = sl_opts_list_len(c->opts, "paths"), cap = 0;
    for (size_t i = 0; i < n_patterns; i++) {
        const char *pattern = sl_opts_list_item(c->opts, "paths", i);
        glob_t g;
        int rc = glob(pattern, GLOB_BRACE | GLOB_TILDE, NULL, &g);
        if (rc == GLOB_NOSPACE) abort();
        if (rc != 0) {
            sl_warn(c->name, "no file matches '%s'", pattern);
            if (rc != GLOB_NOMATCH) globfree(&g);
            continue;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            if (fs->n_files == cap) {
                cap = cap ? 2 * cap : 16;
                fs->files = realloc(fs->files, cap * sizeof *fs->files);
                if (!fs->files) abort();
            }
            input_file *f = &fs->files[fs->n_files++];
            memset(f, 0, sizeof *f);
            f->path = strdup(g.gl_pathv[k]);
            if (!f->path) abort();
        }
        globfree(&g);
    }
    if (fs->n_files > 1) qsort(fs->files, fs->n_files, sizeof *fs->files, compare_paths);

    size_t kept = 0;
    for (size_t i = 0; i < fs->n_files; i++) {
        input_file *f = &fs->files[i];
        if (kept > 0 && strcmp(fs->files[kept - 1].path, f->path) == 0) {
            free(f->path);
            continue;
        }
        /* A file that cannot be stat'ed is kept: opening it reports why. */
        struct stat st;
        if (stat(f->path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                sl_warn(c->name, "skipping '%s': it is a directory", f->path);
                free(f->path);
                continue;
            }
            f->file_id = ((uint64_t)st.st_dev << 32) ^ (uint64_t)st.st_ino;
            f->size = (uint64_t)st.st_size;
        }
        fs->files[kept++] = *f;
    }
    fs->n_files = kept;

    if (kept == 0) {
        sl_buf msg;
        sl_buf_init(&msg);
        for (size_t i = 0; i < n_patterns; i++)
            sl_buf_printf(&msg, "%s'%s'", i ? ", " : "", sl_opts_list_item(c->opts, "paths", i));
        sl_errorf(err, "no file matches %s%s", n_patterns > 1 ? "any of " : "", msg.data);
        sl_buf_free(&msg);
        return -1;
    }
    return 0;
}

static sl_reader *open_file(file_source *fs, const sl_component *c, input_file *f, uint64_t *start,
                            sl_file_position **pos, sl_error *err);

static int file_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    file_source *fs = c->impl;
    free_files(fs);
    if (expand(fs, c, err) < 0) return -1;

    uint64_t total = 0;
    for (size_t i = 0; i < fs->n_files; i++) total += fs->files[i].size;
    sl_source_expect_bytes(ctx, total);
    sl_info(c->name, "reading %zu file%s", fs->n_files, fs->n_files == 1 ? "" : "s");

    for (size_t i = 0; i < fs->n_files && !sl_source_should_stop(ctx); i++) {
        input_file *f = &fs->files[i];
        sl_error rerr = {0};
        uint64_t start = 0;
        sl_file_position *pos = NULL;
        sl_reader *r = open_file(fs, c, f, &start, &pos, &rerr);
        if (!r) {
            sl_err(c->name, "%s", rerr.msg);
            sl_source_dlq(ctx, "", 0, (sl_position){f->file_id, 0}, f->path, "read_error", "%s", rerr.msg);
            sl_source_progress(ctx, f->size);
            continue;
        }
        sl_debug(c->name, "reading %s from byte %llu", f->path, (unsigned long long)start);
        int stopped = sl_stream_read(&fs->stream, ctx, r, f->path, f->file_id, -1, start, pos ? &pos->offset : NULL);
        sl_reader_close(r);
        if (stopped) break;
    }
    return 0;
}

/* Opens a matched file and finds where to start in it: where the last
 * checkpoint left it, when it is the same file. Adds its entry to the
 * run's positions (*pos, which the reading loop keeps up to date). */
static sl_reader *open_file(file_source *fs, const sl_component *c, input_file *f, uint64_t *start,
                            sl_file_position **pos, sl_error *err) {
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint64_t fp;
    uint32_t fp_len;
    *start = 0;
    *pos = NULL;
    if (fd < 0) return sl_errorf(err, "cannot open %s: %s", f->path, strerror(errno)), NULL;
    if (fstat(fd, &st) < 0) {
        sl_errorf(err, "cannot stat %s: %s", f->path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {   /* a FIFO or a device: what was read cannot be read again */
        sl_info(c->name, "%s is not a regular file: it is read to its end, and a restart cannot resume in it",
                f->path);
        return sl_reader_from_fd(fd, 1, f->path, err);   /* closes fd when it fails */
    }
    if (sl_file_fingerprint(fd, &fp, &fp_len, err) < 0) {
        sl_error_prefix(err, "%s", f->path);
        close(fd);
        return NULL;
    }
    const char *why;
    *start = sl_file_positions_resume(&fs->saved, fd, &st, &why);
    if (why) sl_warn(c->name, "%s was %s since the last checkpoint; reading it from the start", f->path, why);
    else if (*start > 0) sl_info(c->name, "%s: resuming at byte %llu", f->path, (unsigned long long)*start);
    sl_reader *r = sl_reader_from_fd(fd, 1, f->path, err);   /* closes fd when it fails */
    if (!r) return NULL;
    *pos = sl_file_positions_put(&fs->positions, f->path, &st, fp, fp_len, *start);
    return r;
}

/* The positions of the files read in this run, and of files the saved
 * checkpoint knew that this run has not opened (yet, or any more): a file
 * that stops matching keeps its position in case it comes back. */
static int file_save(sl_component *c, sl_buf *state, sl_error *err) {
    (void)err;
    file_source *fs = c->impl;
    sl_file_positions all = {0};
    for (size_t i = 0; i < fs->saved.count; i++) {
        const sl_file_position *e = &fs->saved.items[i];
        if (sl_file_positions_find(&fs->positions, e->dev, e->ino)) continue;
        struct stat st = {.st_dev = (dev_t)e->dev, .st_ino = (ino_t)e->ino};
        sl_file_positions_put(&all, e->path, &st, e->fingerprint, e->fp_len, e->offset);
    }
    for (size_t i = 0; i < fs->positions.count; i++) {
        const sl_file_position *e = &fs->positions.items[i];
        struct stat st = {.st_dev = (dev_t)e->dev, .st_ino = (ino_t)e->ino};
        sl_file_positions_put(&all, e->path, &st, e->fingerprint, e->fp_len, e->offset);
    }
    sl_file_positions_save(&all, state);
    sl_file_positions_free(&all);
    return 0;
}

static int file_restore(sl_component *c, const char *state, size_t len, sl_error *err) {
    file_source *fs = c->impl;
    sl_file_positions_clear(&fs->saved);
    if (!state) return 0;
    return sl_file_positions_load(&fs->saved, state, len, err);
}

const sl_component_type sl_source_file_type = {
    .name = "file",
    .kind = SL_SOURCE,
    .summary = "Reads JSON lines, CSV or text files (optionally gzip/zstd) matched by glob patterns",
    .doc =
        "Reads every file matched by `paths` once, to its end, then finishes (batch mode). "
        "The patterns are expanded when the run starts; the matches of all patterns are read "
        "in sorted path order, each path once (directories are skipped). A pattern that "
        "matches nothing is a warning; when no pattern matches anything the run fails with "
        "`no file matches 'data/*.jsonl'`.\n\n"
        "Compressed files (gzip, zstd, including concatenated members or frames) are "
        "recognised by their magic bytes, whatever their name.\n\n"
        "**Positions.** Each record carries the file's identity (device and inode) and the "
        "byte offset of its first byte in the decompressed stream.\n\n"
        "**Resuming.** Checkpoints save how far each file was read, keyed by device and inode "
        "and checked with a fingerprint of its first 1 KiB. A restarted run goes on from the "
        "last checkpoint: files already read are not read again (a file that grew is read from "
        "where it ended, a renamed one is still recognised), and a file that was truncated or "
        "replaced is read from the start. `sluice run --from-start` ignores the saved "
        "positions.\n\n"
        "**Dead letters.** `record_too_large`: a line or row longer than `max_record_bytes` "
        "(the entry keeps its first 4 KiB; reading continues after it, and the record is never "
        "held whole in memory). `csv_header`: the header row of a CSV file could not be "
        "parsed; the whole file is skipped. `read_error`: the file could not be opened or "
        "read, or its compressed data is corrupt; the records before the error are kept, the "
        "unterminated rest is in the entry, and reading moves on to the next file. Records "
        "that do not decode go to the DLQ with the decoder's reason (`json_syntax`, "
        "`csv_columns`, ...).\n\n"
        "**Edge cases.** The last line of a file needs no line break. Empty files produce no "
        "records. Blank lines in JSON lines input are skipped. A file that grows while it is "
        "read is read up to where its end is met.",
    .example =
        "sources:\n"
        "  events:\n"
        "    type: file\n"
        "    paths: [\"data/events-*.jsonl.zst\"]\n"
        "  prices:\n"
        "    type: file\n"
        "    paths: [prices.csv]\n"
        "    format: csv\n"
        "    csv: {delimiter: \";\", columns: {price: float, qty: int}}\n",
    .options = file_options,
    .create = file_create,
    .destroy = file_destroy,
    .run = file_run,
    .save = file_save,
    .restore = file_restore,
};
