/* blackhole.c — the `blackhole` sink: accepts records and discards them.
 *
 * For benchmarks (measuring sources and transforms without output cost) and
 * for pipelines whose only useful output is the DLQ or the metrics. Records
 * are counted like any sink's, as received and sent.
 */
#include "../runtime/component.h"

static const sl_option blackhole_options[] = {
    {NULL, 0, false, NULL, NULL, NULL},
};

static int blackhole_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    c->reads_no_fields = true;
    return 0;
}

static void blackhole_destroy(sl_component *c) {
}

/* An empty part that carries the count (and no bytes to write). */
static void blackhole_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                             sl_payload *out, sl_emit *dlq) {
    sl_payload_part_get(out, NULL, 0)->records += n;
}

static int blackhole_write(sl_component *c, sl_payload *p, sl_error *err) {
    return 0;
}

static int blackhole_flush(sl_component *c, sl_error *err) {
    return 0;
}

static int blackhole_save(sl_component *c, sl_buf *state, sl_error *err) {
    sl_buf_puts(state, "{}");   /* nothing to make durable */
    return 0;
}

const sl_component_type sl_sink_blackhole_type = {
    .name = "blackhole",
    .kind = SL_SINK,
    .summary = "Discards every record (for benchmarks and DLQ-only pipelines)",
    .doc =
        "Accepts every record and discards it. The records are still counted in the "
        "metrics and the run summary, so a `generate -> ... -> blackhole` pipeline measures "
        "the sources and transforms alone. It has no options.",
    .example =
        "sinks:\n"
        "  void:\n"
        "    type: blackhole\n"
        "    inputs: [contract]\n",
    .options = blackhole_options,
    .create = blackhole_create,
    .destroy = blackhole_destroy,
    .encode = blackhole_encode,
    .write = blackhole_write,
    .flush = blackhole_flush,
    .save = blackhole_save,
};
