/* stdin.c — the `stdin` source: reads standard input until end of file.
 *
 * The same formats and options as the file source (stream.c does the
 * reading). Standard input is polled when it is idle, so that records read
 * so far are handed on at once and stopping the pipeline (Ctrl-C, SIGTERM)
 * does not wait for an idle pipe to close.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/component.h"
#include "stream.h"

static const sl_option stdin_options[] = {
    SL_STREAM_FORMAT_OPTIONS,
    {NULL, 0, false, NULL, NULL, NULL},
};

static int stdin_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    sl_stream *s = calloc(1, sizeof *s);
    if (!s) abort();
    if (sl_stream_init(s, c->name, opts, diag) < 0) {
        free(s);
        return -1;
    }
    c->impl = s;
    return 0;
}

static void stdin_destroy(sl_component *c) {
    if (!c->impl) return;
    sl_stream_free(c->impl);
    free(c->impl);
    c->impl = NULL;
}

static int stdin_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    struct stat st;
    if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
        sl_source_expect_bytes(ctx, (uint64_t)st.st_size);   /* `< file`: progress is known */
    /* The reader reads the first bytes at once, to recognise compression. */
    if (!sl_stream_wait_readable(ctx, STDIN_FILENO)) return 0;
    sl_reader *r = sl_reader_from_fd(STDIN_FILENO, 0, "<stdin>", err);
    if (!r) return -1;
    sl_stream_read(c->impl, ctx, r, "<stdin>", 0, STDIN_FILENO);
    sl_reader_close(r);
    return 0;
}

const sl_component_type sl_source_stdin_type = {
    .name = "stdin",
    .kind = SL_SOURCE,
    .summary = "Reads JSON lines, CSV or text from standard input until end of file",
    .doc =
        "Reads standard input until end of file, then finishes (batch mode), so it fits at "
        "the end of a shell pipe: `zcat logs.gz | sluice run pipeline.yaml`. Gzip and zstd "
        "input is decompressed automatically.\n\n"
        "**Positions.** The byte offset of each record in the (decompressed) input, with "
        "file id 0: standard input cannot be replayed, so a restarted run reads what it is "
        "given again.\n\n"
        "**Dead letters.** As for the file source: `record_too_large`, `csv_header` (the "
        "input is then skipped), `read_error` (the records before the error are kept), and "
        "the decoders' reasons.\n\n"
        "**Edge cases.** With uncompressed input, the records read so far are handed on "
        "whenever the input pauses, so `tail -F app.log | sluice run p.yaml` processes lines "
        "as they come, and stopping the pipeline does not wait for an idle pipe to close. "
        "Compressed input is processed in full batches.",
    .example =
        "sources:\n"
        "  piped:\n"
        "    type: stdin\n"
        "    format: text\n",
    .options = stdin_options,
    .create = stdin_create,
    .destroy = stdin_destroy,
    .run = stdin_run,
};
