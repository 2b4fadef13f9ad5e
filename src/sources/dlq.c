/* dlq.c — the `dlq` source: replays dead letters. It reads DLQ files
 * (runtime/dlq_read.h) and emits each selected entry's original bytes as a
 * frame, decoded with the configured format as if read from the original
 * input, so a fixed pipeline can process what failed before.
 *
 * A large record is read from the DLQ's side file (dlq.raw, see
 * runtime/dlq.h). Entries that cannot be replayed are never dropped: a
 * truncated record (`dlq_truncated`), an entry without bytes (`dlq_no_raw`),
 * one whose side file is missing or does not match (`dlq_raw_missing`) and
 * a line that is not a DLQ entry (`dlq_invalid`) go to this pipeline's DLQ
 * again. The
 * source refuses to read the pipeline's own DLQ output, which it would be
 * appending to while reading.
 *
 * Checkpoints: the source saves, per DLQ file, the offset of the first entry
 * it has not handed on yet (file_position.h: device+inode, fingerprint,
 * offset), so that a replay killed part-way and restarted replays each entry
 * exactly once, and a replay that ran to the end, run again, replays nothing
 * (until `--from-start`). Every entry before that offset has been submitted
 * in a batch, sent to the DLQ again, or left out by the filters: the offset
 * moves before each submit, and the source parks for a checkpoint only
 * where no entry is held in an unsubmitted batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/log.h"
#include "../runtime/component.h"
#include "../runtime/dlq_read.h"
#include "file_position.h"
#include "stream.h"

typedef struct dlq_source {
    sl_stream stream;
    char **files;          /* found at run start; replays' origins point here */
    size_t n_files;
    /* The replayed records' original origins, which batches point to:
     * kept for the source's lifetime. */
    char **origins;
    size_t n_origins, cap_origins;
    /* The checkpoint's positions (restore), updated as this run reads: a
     * file this run has not opened keeps its saved position. */
    sl_file_positions positions;
    uint64_t replayed, skipped, resent, earlier;
} dlq_source;

static const sl_option dlq_options[] = {
    {"path", SL_OPT_STRING, true, NULL,
     "A DLQ file, or a directory whose regular files (not hidden ones) are all read, in "
     "name order. Gzip and zstd files are decompressed. It must not be this pipeline's own "
     "DLQ output (`dlq.path`): move the dead letters aside first.",
     NULL},
    {"reasons", SL_OPT_LIST, false, NULL,
     "Replay only entries with one of these reasons, e.g. `[expr_error, json_syntax]`. "
     "Default: every reason.",
     NULL},
    {"components", SL_OPT_LIST, false, NULL,
     "Replay only entries written by one of these components (the entry's `component`). "
     "Default: every component.",
     NULL},
    SL_STREAM_FORMAT_OPTIONS,
    {NULL, 0, false, NULL, NULL, NULL},
};

static int dlq_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    dlq_source *ds = calloc(1, sizeof *ds);
    if (!ds) abort();
    int rc = 0;
    const char *path = sl_opts_string(opts, "path");
    if (!path || !path[0]) {
        sl_diag_error(diag, sl_opts_pos(opts, "path"), "path must name a DLQ file or directory");
        rc = -1;
    }
    if (sl_stream_init(&ds->stream, c->name, opts, diag) < 0) {
        rc = -1;
    } else if (sl_format_has_header(&ds->stream.format)) {
        sl_diag_error(diag, sl_opts_pos(opts, sl_opts_has(opts, "csv.header") ? "csv.header" : "format"),
                      "a DLQ entry holds one CSV row without its file's header row: set "
                      "csv.header: false and name the columns with csv.columns");
        sl_stream_free(&ds->stream);
        rc = -1;
    }
    if (rc < 0) {
        if (ds->stream.name) sl_stream_free(&ds->stream);
        free(ds);
        return -1;
    }
    c->impl = ds;
    return 0;
}

static void dlq_destroy(sl_component *c)
{
    dlq_source *ds = c->impl;
    if (!ds) return;
    sl_dlq_free_files(ds->files, ds->n_files);
    sl_dlq_free_files(ds->origins, ds->n_origins);
    sl_file_positions_free(&ds->positions);
    sl_stream_free(&ds->stream);
    free(ds);
    c->impl = NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Fails when path is, or contains, the file this pipeline's DLQ appends to:
 * replayed records that fail again would be appended to the file being read. */
static int refuse_own_dlq(const dlq_source *ds, const char *path, const char *own, sl_error *err)
{
    struct stat st, own_st;
    const char *slash = strrchr(own, '/');
    char *own_dir = slash ? strndup(own, slash == own ? 1 : (size_t)(slash - own)) : strdup(".");
    if (!own_dir) abort();
    bool clash = stat(path, &st) == 0 && S_ISDIR(st.st_mode) && stat(own_dir, &own_st) == 0 &&
                 same_file(&st, &own_st);
    free(own_dir);
    for (size_t i = 0; !clash && i < ds->n_files; i++)
        clash = stat(ds->files[i], &st) == 0 && stat(own, &own_st) == 0 && same_file(&st, &own_st);
    if (!clash) return 0;
    return sl_errorf(err,
                     "path '%s' is this pipeline's own DLQ output (%s): replayed records that fail "
                     "again would be appended to the file being read. Move the dead letters aside "
                     "first (e.g. mv %s %s.replay) and set path to the moved file",
                     path, own, own, own);
}

static bool listed(const sl_component *c, const char *option, const char *value)
{
    size_t n = sl_opts_list_len(c->opts, option);
    if (n == 0) return true;
    for (size_t i = 0; value && i < n; i++)
        if (strcmp(sl_opts_list_item(c->opts, option, i), value) == 0) return true;
    return false;
}

typedef struct replay {
    dlq_source *ds;
    sl_source_ctx *ctx;
    const char *path;
    uint64_t file_id;
    sl_dlq_lines *lines;
    sl_batch *b;            /* its records all have the same original origin */
    sl_replay_link *links;  /* where the batch's records were replayed from */
    uint32_t n_links, cap_links;
    uint64_t progress;      /* bytes of the file reported as consumed */
    uint64_t *committed;    /* the file's saved position: entries before it are handed on */
} replay;

/* Every line before `next` has been handed on (or is in the batch about to
 * be submitted): the file's position moves there. */
static void commit_position(replay *rp, uint64_t next)
{
    if (next > *rp->committed) *rp->committed = next;
}

/* Hands the batch being filled to the workers, with every line before
 * `next` handed on; -1 when the run stopped. */
static int submit_upto(replay *rp, uint64_t next)
{
    uint64_t done = sl_dlq_lines_raw_offset(rp->lines);
    sl_source_progress(rp->ctx, done - rp->progress);
    rp->progress = done;
    commit_position(rp, next);
    sl_batch *b = rp->b;
    rp->b = NULL;
    if (!b) return 0;
    sl_replay *replay = sl_arena_alloc(&b->arena, sizeof *replay);
    sl_replay_link *links = sl_arena_alloc(&b->arena, (rp->n_links ? rp->n_links : 1) * sizeof *links);
    memcpy(links, rp->links, rp->n_links * sizeof *links);
    *replay = (sl_replay){.origin = rp->path, .file_id = rp->file_id, .links = links, .n = rp->n_links};
    b->replay = replay;
    rp->n_links = 0;
    return sl_source_submit(rp->ctx, b);
}

/* Hands on the batch with every line read so far. */
static int submit(replay *rp)
{
    return submit_upto(rp, sl_dlq_lines_offset(rp->lines));
}

/* The source's copy of an original origin (NULL stays NULL). */
static const char *keep_origin(dlq_source *ds, const char *origin)
{
    if (!origin) return NULL;
    for (size_t i = ds->n_origins; i-- > 0;)
        if (strcmp(ds->origins[i], origin) == 0) return ds->origins[i];
    if (ds->n_origins == ds->cap_origins) {
        ds->cap_origins = ds->cap_origins ? 2 * ds->cap_origins : 8;
        ds->origins = realloc(ds->origins, ds->cap_origins * sizeof *ds->origins);
        if (!ds->origins) abort();
    }
    if (!(ds->origins[ds->n_origins] = strdup(origin))) abort();
    return ds->origins[ds->n_origins++];
}

static bool same_origin(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* One line of a DLQ file: replayed, sent to the DLQ again, or left out by
 * the reasons/components filters. Returns -1 when the run stopped. */
static int replay_line(replay *rp, const sl_component *c, sl_arena *scratch, const char *line, size_t len,
                       uint64_t offset)
{
    dlq_source *ds = rp->ds;
    sl_position pos = {rp->file_id, offset};
    sl_dlq_record e;
    sl_error perr = {0};
    if (sl_dlq_parse(scratch, line, len, &e, &perr) < 0) {
        sl_source_dlq(rp->ctx, line, len, pos, rp->path, "dlq_invalid",
                      "line at byte %llu is not a DLQ entry: %s", (unsigned long long)offset, perr.msg);
        ds->resent++;
        return 0;
    }
    if (!listed(c, "reasons", e.reason) || !listed(c, "components", e.component)) {
        ds->skipped++;
        return 0;
    }
    const char *from = e.component ? e.component : "?";
    if (e.raw_truncated) {
        sl_source_dlq(rp->ctx, e.raw, e.raw_len, pos, rp->path, "dlq_truncated",
                      "entry (reason %s, from %s) holds only the first %zu bytes of its record; "
                      "it cannot be replayed",
                      e.reason, from, e.raw_len);
        ds->resent++;
        return 0;
    }
    if (sl_dlq_load_raw(scratch, rp->path, &e, &perr) < 0) {
        sl_source_dlq(rp->ctx, line, len, pos, rp->path, "dlq_raw_missing", "entry (reason %s, from %s): %s",
                      e.reason, from, perr.msg);
        ds->resent++;
        return 0;
    }
    if (!e.raw || e.raw_len == 0) {
        sl_source_dlq(rp->ctx, line, len, pos, rp->path, "dlq_no_raw",
                      "entry (reason %s, from %s) holds no record bytes to replay", e.reason, from);
        ds->resent++;
        return 0;
    }
    /* The record keeps its original origin and position (a batch has one
     * origin); where it was replayed from goes with the batch. */
    if (rp->b && !same_origin(rp->b->origin, e.origin) && submit_upto(rp, offset) < 0) return -1;
    if (!rp->b) {
        rp->b = sl_source_batch_new(rp->ctx, sl_source_batch_bytes(rp->ctx));
        rp->b->origin = keep_origin(ds, e.origin);
        rp->b->format = &ds->stream.format;
        rp->b->stream = ds->stream.shared;
    }
    if (rp->n_links == rp->cap_links) {
        rp->cap_links = rp->cap_links ? 2 * rp->cap_links : 64;
        rp->links = realloc(rp->links, rp->cap_links * sizeof *rp->links);
        if (!rp->links) abort();
    }
    rp->links[rp->n_links++] = (sl_replay_link){.frame = rp->b->data_len, .offset = offset};
    sl_batch_add_bytes(rp->b, e.raw, e.raw_len, e.pos);
    rp->b->input_bytes += len + 1;
    ds->replayed++;
    return 0;
}

/* Opens a DLQ file and finds where to start in it: where the last
 * checkpoint left it, when it is the same file. Adds its entry to the
 * positions (*committed, which the replay keeps up to date). */
static sl_dlq_lines *open_file(dlq_source *ds, const sl_component *c, const char *path, uint64_t *start,
                               uint64_t **committed, sl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint64_t fp;
    uint32_t fp_len;
    if (fd < 0) return sl_errorf(err, "cannot open %s: %s", path, strerror(errno)), NULL;
    if (fstat(fd, &st) < 0) {
        sl_errorf(err, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (sl_file_fingerprint(fd, &fp, &fp_len, err) < 0) {
        sl_error_prefix(err, "%s", path);
        close(fd);
        return NULL;
    }
    const char *why;
    *start = sl_file_positions_resume(&ds->positions, fd, &st, &why);
    if (why) sl_warn(c->name, "%s was %s since the last checkpoint; replaying it from the start", path, why);
    else if (*start > 0) sl_info(c->name, "%s: resuming at byte %llu", path, (unsigned long long)*start);
    sl_dlq_lines *lines = sl_dlq_lines_from_fd(fd, path, err);
    if (!lines) return NULL;
    *committed = &sl_file_positions_put(&ds->positions, path, &st, fp, fp_len, *start)->offset;
    return lines;
}

/* Replays one file; returns 1 when the pipeline is stopping. */
static int replay_file(dlq_source *ds, const sl_component *c, sl_source_ctx *ctx, const char *path,
                       uint64_t size)
{
    struct stat st;
    replay rp = {.ds = ds, .ctx = ctx, .path = path};
    if (stat(path, &st) == 0) rp.file_id = ((uint64_t)st.st_dev << 32) ^ (uint64_t)st.st_ino;
    sl_error err = {0};
    uint64_t start = 0;
    sl_dlq_lines *lines = open_file(ds, c, path, &start, &rp.committed, &err);
    if (!lines) {
        sl_err(c->name, "%s", err.msg);
        sl_source_dlq(ctx, "", 0, (sl_position){rp.file_id, 0}, path, "read_error", "%s", err.msg);
        sl_source_progress(ctx, size);
        return 0;
    }
    rp.lines = lines;
    sl_arena scratch;
    sl_arena_init(&scratch, 16 * 1024);
    size_t batch_bytes = sl_source_batch_bytes(ctx);
    uint32_t batch_records = sl_source_batch_records(ctx);
    int stopped = 0, rc = 0;
    bool line_left = false;   /* stopped before the line just read was taken */
    for (;;) {
        if (sl_source_should_stop(ctx)) {
            stopped = 1;
            break;
        }
        const char *line;
        size_t len;
        uint64_t offset;
        rc = sl_dlq_lines_next(lines, &line, &len, &offset, &err);
        if (rc <= 0) break;
        if (offset < start) {   /* handed on before the restart */
            ds->earlier++;
        } else {
            sl_arena_reset(&scratch);
            if (replay_line(&rp, c, &scratch, line, len, offset) < 0) {
                stopped = 1;
                line_left = true;
                break;
            }
        }
        if (rp.b && (rp.b->count >= batch_records || rp.b->data_len >= batch_bytes) && submit(&rp) < 0) {
            stopped = 1;
            break;
        }
        if (!rp.b) {   /* nothing held back: a checkpoint may be taken here */
            commit_position(&rp, sl_dlq_lines_offset(lines));
            sl_source_checkpoint_point(ctx);
        }
    }
    /* A graceful stop delivers what was read (but for a line not taken,
     * which the position keeps for the next run). */
    if (!line_left && submit(&rp) < 0) stopped = 1;
    if (rc < 0) {
        /* After the entries before it were handed on: the position stays at
         * the entry that could not be read, so a restart tries it again. */
        sl_err(c->name, "%s; entries read before the error are kept", err.msg);
        sl_source_dlq(ctx, "", 0, (sl_position){rp.file_id, 0}, path, "read_error", "%s", err.msg);
    }
    free(rp.links);
    sl_arena_free(&scratch);
    sl_dlq_lines_close(lines);
    return stopped;
}

static int dlq_run(sl_component *c, sl_source_ctx *ctx, sl_error *err)
{
    dlq_source *ds = c->impl;
    const char *path = sl_opts_string(c->opts, "path");
    sl_dlq_free_files(ds->files, ds->n_files);
    ds->files = NULL;
    ds->n_files = 0;
    ds->replayed = ds->skipped = ds->resent = ds->earlier = 0;
    if (sl_dlq_find_files(path, &ds->files, &ds->n_files, err) < 0) return -1;
    if (refuse_own_dlq(ds, path, sl_source_dlq_path(ctx), err) < 0) return -1;
    if (ds->n_files == 0) sl_warn(c->name, "no DLQ files in %s; nothing to replay", path);

    uint64_t *sizes = calloc(ds->n_files + 1, sizeof *sizes);
    if (!sizes) abort();
    uint64_t total = 0;
    for (size_t i = 0; i < ds->n_files; i++) {
        struct stat st;
        if (stat(ds->files[i], &st) == 0) sizes[i] = (uint64_t)st.st_size;
        total += sizes[i];
    }
    sl_source_expect_bytes(ctx, total);
    for (size_t i = 0; i < ds->n_files; i++)
        if (replay_file(ds, c, ctx, ds->files[i], sizes[i])) break;
    free(sizes);
    char earlier[96] = "";
    if (ds->earlier > 0)
        snprintf(earlier, sizeof earlier, "; %llu entries handled by an earlier run were skipped (checkpoint)",
                 (unsigned long long)ds->earlier);
    sl_info(c->name, "replayed %llu dead letters from %zu file%s; %llu left out by reasons/components; "
            "%llu not replayable, sent to the DLQ again%s",
            (unsigned long long)ds->replayed, ds->n_files, ds->n_files == 1 ? "" : "s",
            (unsigned long long)ds->skipped, (unsigned long long)ds->resent, earlier);
    return 0;
}

static int dlq_save(sl_component *c, sl_buf *state, sl_error *err)
{
    (void)err;
    dlq_source *ds = c->impl;
    sl_file_positions_save(&ds->positions, state);
    return 0;
}

static int dlq_restore(sl_component *c, const char *state, size_t len, sl_error *err)
{
    dlq_source *ds = c->impl;
    sl_file_positions_clear(&ds->positions);
    if (!state) return 0;
    return sl_file_positions_load(&ds->positions, state, len, err);
}

const sl_component_type sl_source_dlq_type = {
    .name = "dlq",
    .kind = SL_SOURCE,
    .summary = "Replays dead letters: the original bytes of DLQ entries, decoded again",
    .doc =
        "Reads DLQ files written by sluice and emits each entry's original record bytes "
        "(`raw`, or `raw_base64` decoded, byte for byte) as a record decoded with `format`, "
        "so a fixed pipeline can process what failed before. `reasons` and `components` "
        "select entries; the others are left out (counted in the log line at the end).\n\n"
        "**Lineage.** A replayed record keeps its original origin and position (those of "
        "its entry), so samplers, dataset manifests and new DLQ entries name the input it "
        "first came from. A replayed record that fails again goes to this pipeline's DLQ "
        "with them, plus `replay`: the DLQ file's path and the position of the entry it was "
        "replayed from (the file's device and inode, the byte offset of the entry's line). "
        "Entries the source itself sends on (below) point at the DLQ file instead.\n\n"
        "**Replaying once.** The source refuses to read the pipeline's own DLQ output: move "
        "the dead letters aside first (`mv .sluice/NAME/dlq/dlq.jsonl replay-1.jsonl`), replay "
        "that file once, then archive or delete it.\n\n"
        "**Resuming.** Checkpoints save, per DLQ file (device and inode, checked with a "
        "fingerprint of its first 1 KiB), the offset of the next entry to replay. A replay "
        "killed part-way and started again replays each entry exactly once; a replay that "
        "ran to the end, run again, replays nothing, except entries appended to the file "
        "since and new files in a `path` directory. A file that was truncated or replaced "
        "is replayed from the start; `sluice run --from-start` ignores the saved "
        "positions.\n\n"
        "**Large records.** A record over 64 KiB is kept in the side file `dlq.raw` next to "
        "the DLQ file, which its entry points to; the source reads it from next to the file "
        "it replays, else from where the entry says. Copy `dlq.raw` along when moving a DLQ "
        "file to another directory.\n\n"
        "**Dead letters.** `dlq_truncated`: the record was over its source's "
        "`max_record_bytes` (`record_too_large`), so the entry holds only its head and "
        "cannot be replayed; the new entry carries those bytes. `dlq_no_raw`: the "
        "entry holds no record bytes (e.g. a file that could not be opened). "
        "`dlq_raw_missing`: the entry's record is in a side file that is missing, shorter "
        "or does not match its checksum. `dlq_invalid`: "
        "a line of the file is not a DLQ entry. `read_error`: a DLQ file could not be read. "
        "Records that do not decode go to the DLQ with the decoder's reason.\n\n"
        "**CSV.** An entry holds one row without its file's header, so `format: csv` needs "
        "`csv.header: false` and `csv.columns`.",
    .example =
        "sources:\n"
        "  failed:\n"
        "    type: dlq\n"
        "    path: replay/dlq-2026-11-24.jsonl\n"
        "    reasons: [expr_error]\n",
    .options = dlq_options,
    .create = dlq_create,
    .destroy = dlq_destroy,
    .run = dlq_run,
    .save = dlq_save,
    .restore = dlq_restore,
};
