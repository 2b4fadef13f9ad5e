/* stdin.c — the `stdin` source: reads standard input until end of file.
 *
 * The same formats and options as the file source (stream.c does the
 * reading). Standard input is polled when it is idle, so that records read
 * so far are handed on at once and stopping the pipeline (Ctrl-C, SIGTERM)
 * does not wait for an idle pipe to close.
 *
 * Standard input cannot be read twice, so when the pipeline takes durable
 * checkpoints it goes through a write-ahead log first (stdin_wal.c) and the
 * source resumes from a position in that log. With `wal.enabled: false` the
 * source cannot resume, and the pipeline runs without durable checkpoints.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/component.h"
#include "stdin_wal.h"
#include "stream.h"

#define MIN_SEGMENT_BYTES (64ull << 10)
#define MAX_SEGMENT_BYTES (1ull << 30)
#define MAX_GROUP_COMMIT_MS 60000

typedef struct stdin_source {
    sl_stream stream;
    sl_stdin_wal *wal;   /* NULL with wal.enabled: false */
} stdin_source;

static const char *const sync_names[] = {"group_commit", "always", "os", NULL};

static const sl_option stdin_options[] = {
    SL_STREAM_FORMAT_OPTIONS,
    {"wal.enabled", SL_OPT_BOOL, false, "true",
     "Write standard input to a write-ahead log in `<data_dir>/wal/<source name>/` before "
     "processing it, so that a restarted run resumes exactly where the last checkpoint left "
     "off (see above). It is used only when the pipeline takes checkpoints (`checkpoint.enabled`, "
     "the default); `false` makes the pipeline run without durable checkpoints.",
     NULL},
    {"wal.sync", SL_OPT_ENUM, false, "group_commit",
     "When input counts as acknowledged: `group_commit` (an fdatasync every `wal.group_commit`, "
     "shared by everything appended meanwhile), `always` (an fdatasync per append) or `os` "
     "(left to the kernel: survives a crash of sluice, not a power loss).",
     sync_names},
    {"wal.group_commit", SL_OPT_DURATION, false, "10ms",
     "The sync interval of `wal.sync: group_commit` (1ms to 1m).", NULL},
    {"wal.segment_bytes", SL_OPT_SIZE, false, "64MiB",
     "Size past which the log starts a new segment file (64KiB to 1GiB); a segment is deleted "
     "once checkpoints cover it.",
     NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

/* The wal.* options; reports problems to diag. */
static void wal_options(const sl_opts *opts, sl_wal_options *wo, sl_diag *diag) {
    const char *sync = sl_opts_enum(opts, "wal.sync");
    wo->sync = sync[0] == 'a' ? SL_WAL_SYNC_ALWAYS : sync[0] == 'o' ? SL_WAL_SYNC_OS : SL_WAL_SYNC_GROUP;
    uint64_t ms = sl_opts_duration_ms(opts, "wal.group_commit");
    if (ms < 1 || ms > MAX_GROUP_COMMIT_MS)
        sl_diag_error(diag, sl_opts_pos(opts, "wal.group_commit"), "wal.group_commit must be between 1ms and 1m");
    wo->group_commit_ms = (unsigned)ms;
    wo->segment_bytes = sl_opts_size(opts, "wal.segment_bytes");
    if (wo->segment_bytes < MIN_SEGMENT_BYTES || wo->segment_bytes > MAX_SEGMENT_BYTES)
        sl_diag_error(diag, sl_opts_pos(opts, "wal.segment_bytes"), "wal.segment_bytes must be between 64KiB and 1GiB");
    if (sl_opts_has(opts, "wal.group_commit") && wo->sync != SL_WAL_SYNC_GROUP)
        sl_diag_warning(diag, sl_opts_pos(opts, "wal.group_commit"),
                        "wal.group_commit has no effect unless wal.sync is group_commit");
}

static int stdin_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    stdin_source *s = calloc(1, sizeof *s);
    if (!s) abort();
    size_t errors = diag->errors;
    if (sl_opts_bool(opts, "wal.enabled")) {
        sl_wal_options wo = {0};
        wal_options(opts, &wo, diag);
        s->wal = sl_stdin_wal_new(c->name, &s->stream, &wo);
    } else {
        static const char *const wal_keys[] = {"wal.sync", "wal.group_commit", "wal.segment_bytes"};
        for (size_t i = 0; i < sizeof wal_keys / sizeof wal_keys[0]; i++)
            if (sl_opts_has(opts, wal_keys[i]))
                sl_diag_warning(diag, sl_opts_pos(opts, wal_keys[i]), "%s has no effect with wal.enabled: false",
                                wal_keys[i]);
        c->cannot_resume = "its write-ahead log is off (wal.enabled: false), so what it read before a "
                           "crash cannot be read again; set wal.enabled: true";
    }
    if (sl_stream_init(&s->stream, c->name, opts, diag) < 0 || diag->errors != errors) {
        if (s->stream.name) sl_stream_free(&s->stream);
        sl_stdin_wal_free(s->wal);
        free(s);
        return -1;
    }
    c->impl = s;
    return 0;
}

static void stdin_destroy(sl_component *c) {
    stdin_source *s = c->impl;
    if (!s) return;
    sl_stdin_wal_free(s->wal);
    sl_stream_free(&s->stream);
    free(s);
    c->impl = NULL;
}

static int stdin_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    stdin_source *s = c->impl;
    struct stat st;
    if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
        sl_source_expect_bytes(ctx, (uint64_t)st.st_size);   /* `< file`: progress is known */
    sl_stream_grow_pipe(STDIN_FILENO);
    if (s->wal && sl_source_checkpoints_durable(ctx)) {
        s->stream.replayable = true;   /* what is not submitted at a stop is in the log */
        return sl_stdin_wal_run(s->wal, ctx, err);
    }
    /* The reader reads the first bytes at once, to recognise compression. */
    if (!sl_stream_wait_readable(ctx, STDIN_FILENO)) return 0;
    sl_reader *r = sl_reader_from_fd(STDIN_FILENO, 0, "<stdin>", err);
    if (!r) return -1;
    sl_stream_read(&s->stream, ctx, r, "<stdin>", 0, STDIN_FILENO, 0, NULL);
    sl_reader_close(r);
    return 0;
}

/* Without the log the pipeline takes no durable checkpoints (cannot_resume),
 * so there is nothing to save or restore. */
static int stdin_save(sl_component *c, sl_buf *state, sl_error *err) {
    stdin_source *s = c->impl;
    if (!s->wal) {
        sl_buf_puts(state, "null");
        return 0;
    }
    return sl_stdin_wal_save(s->wal, state, err);
}

static int stdin_restore(sl_component *c, const char *state, size_t len, sl_error *err) {
    stdin_source *s = c->impl;
    return s->wal ? sl_stdin_wal_restore(s->wal, state, len, err) : 0;
}

static int stdin_commit(sl_component *c, const char *state, size_t len, sl_error *err) {
    stdin_source *s = c->impl;
    return s->wal ? sl_stdin_wal_commit(s->wal, state, len, err) : 0;
}

static void stdin_metrics(sl_component *c, sl_buf *prom) {
    stdin_source *s = c->impl;
    if (s->wal) sl_stdin_wal_metrics(s->wal, c->name, prom);
}

const sl_component_type sl_source_stdin_type = {
    .name = "stdin",
    .kind = SL_SOURCE,
    .summary = "Reads JSON lines, CSV or text from standard input until end of file",
    .doc =
        "Reads standard input until end of file, then finishes (batch mode), so it fits at "
        "the end of a shell pipe: `zcat logs.gz | sluice run pipeline.yaml`. Gzip and zstd "
        "input is decompressed automatically.\n\n"
        "**Resuming: the write-ahead log.** Standard input cannot be read twice, so when the "
        "pipeline takes checkpoints (the default) the source first writes what it reads to a "
        "write-ahead log in `<data_dir>/wal/<source name>/`, whole lines (CSV rows) at a time, "
        "and its checkpoint position is a place in that log. After a crash, the next run first "
        "processes what the log holds after the last checkpoint, then reads its own standard "
        "input as the continuation of the same input. It says where that continues before "
        "reading: `standard input continues input stream 1 at byte 123456`; a producer that "
        "resends its input from that byte gets every record delivered exactly once. Input is "
        "acknowledged once it is durable by `wal.sync` (`sluice_stdin_wal_records_total`, "
        "`sluice_stdin_wal_bytes_total`). The end of standard input is logged too: the next "
        "run's standard input is then a new input (stream 2, from byte 0). A graceful stop "
        "(SIGTERM) logs everything read, an incomplete last record too, and leaves what was "
        "not processed yet to the next run (or to the pipeline a SIGHUP reload starts, which "
        "goes on reading the same standard input). Segments are "
        "deleted once checkpoints cover them; `sluice run --from-start` discards the log. With "
        "`wal.enabled: false` or `checkpoint.enabled: false` nothing is logged, the pipeline "
        "takes no durable checkpoints, and an interrupted run starts over. See "
        "docs/delivery.md.\n\n"
        "**Positions.** The byte offset of each record in the (decompressed) input, with "
        "file id 0, counted from where the run started reading (after a resume, from the "
        "resume point).\n\n"
        "**Dead letters.** As for the file source: `record_too_large`, `csv_header` (the "
        "input is then skipped), `read_error` (the records before the error are kept), and "
        "the decoders' reasons; and, without the log, `incomplete_at_stop`: at a graceful "
        "stop, a last record whose end had not arrived.\n\n"
        "**Edge cases.** With uncompressed input, the records read so far are handed on "
        "whenever the input pauses (nothing more is ready to read), so `tail -F app.log | "
        "sluice run p.yaml` processes lines as they come, and stopping the pipeline does not "
        "wait for an idle pipe to close; while more input is ready, batches fill up. "
        "Compressed input is processed in full batches. When standard input is a pipe, the "
        "source asks the kernel to make its buffer 1 MiB (`F_SETPIPE_SZ`), or as much as it "
        "allows, so that each read takes more.",
    .example =
        "sources:\n"
        "  piped:\n"
        "    type: stdin\n"
        "    format: text\n",
    .options = stdin_options,
    .create = stdin_create,
    .destroy = stdin_destroy,
    .run = stdin_run,
    .metrics = stdin_metrics,
    .save = stdin_save,
    .restore = stdin_restore,
    .commit = stdin_commit,
};
