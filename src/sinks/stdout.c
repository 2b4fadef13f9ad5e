/* stdout.c — the `stdout` sink: writes JSON lines or CSV rows to standard
 * output, for shell pipes and trying pipelines out.
 *
 * Records are encoded on the workers into one part per batch; the sink
 * thread writes the parts in order. The CSV header row goes out once, before
 * the first row.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/component.h"
#include "encoder.h"

typedef struct stdout_sink {
    sl_record_encoder enc;
    bool header_written;
} stdout_sink;

static const sl_option stdout_options[] = {
    SL_SINK_FORMAT_OPTIONS,
    {NULL, 0, false, NULL, NULL, NULL},
};

static void stdout_destroy(sl_component *c) {
    stdout_sink *s = c->impl;
    if (!s) return;
    sl_record_encoder_free(&s->enc);
    free(s);
    c->impl = NULL;
}

static int stdout_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    stdout_sink *s = calloc(1, sizeof *s);
    if (!s) abort();
    c->impl = s;
    if (sl_record_encoder_init(&s->enc, opts, diag) < 0) {
        stdout_destroy(c);
        return -1;
    }
    c->reads_no_fields = !s->enc.csv;   /* sl_json_encode_record_line only */
    return 0;
}

static void stdout_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                          sl_payload *out, sl_emit *dlq) {
    stdout_sink *s = c->impl;
    sl_payload_part *part = sl_payload_part_get(out, NULL, 0);
    sl_record_encoder_put_all(&s->enc, &part->data, recs, n);
    part->records += n;
}

static int write_stdout(const char *p, size_t n, sl_error *err) {
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE) return sl_errorf(err, "standard output was closed by the reader");
            return sl_errorf(err, "cannot write to standard output: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int stdout_write(sl_component *c, sl_payload *p, sl_error *err) {
    stdout_sink *s = c->impl;
    if (!s->header_written) {
        sl_buf h;
        sl_buf_init(&h);
        int rc = sl_record_encoder_header(&s->enc, &h) ? write_stdout(h.data, h.len, err) : 0;
        sl_buf_free(&h);
        if (rc < 0) return -1;
        s->header_written = true;
    }
    for (size_t i = 0; i < p->count; i++)
        if (write_stdout(p->parts[i].data.data, p->parts[i].data.len, err) < 0) return -1;
    return 0;
}

static int stdout_flush(sl_component *c, sl_error *err) {
    return 0;   /* every write(2) has completed: nothing is buffered here */
}

/* Checkpoints: what was printed cannot be taken back, so the sink only
 * takes part (at-least-once: after a crash, records printed since the last
 * checkpoint are printed again). */
static int stdout_save(sl_component *c, sl_buf *state, sl_error *err) {
    sl_buf_puts(state, "{}");
    return 0;
}

const sl_component_type sl_sink_stdout_type = {
    .name = "stdout",
    .kind = SL_SINK,
    .summary = "Writes JSON lines or CSV rows to standard output",
    .doc =
        "Writes each record to standard output as a JSON line (field order kept; compact, or "
        "the input line as it came when nothing changed the record) or "
        "a CSV row; with CSV the header row is written once, before the first row. Records "
        "keep their order per source.\n\n"
        "**Edge cases.** When the reader of a pipe goes away (`sluice run p.yaml | head`), "
        "the write fails and the run stops with `standard output was closed by the reader`.\n\n"
        "**Delivery.** At least once: after a crash, the records printed since the last "
        "checkpoint are printed again when the run resumes.",
    .example =
        "sinks:\n"
        "  console:\n"
        "    type: stdout\n"
        "    inputs: [slow]\n",
    .options = stdout_options,
    .create = stdout_create,
    .destroy = stdout_destroy,
    .encode = stdout_encode,
    .write = stdout_write,
    .flush = stdout_flush,
    .save = stdout_save,
};
