/* sample.c — the `sample` transform: keeps a deterministic 1-in-N sample.
 *
 * Random sampling would give a different sample on every run and a
 * different one again after a crash and replay. Instead each record is
 * hashed — by a key field when one is configured (so all records of one
 * user, session, ... are kept or dropped together), else by its source
 * position (file id + byte offset, or sequence number) — and kept when the
 * hash is divisible by the rate. The same input therefore yields the same
 * sample across runs, restarts and any number of workers.
 */
#include <stdlib.h>

#include "../core/util.h"
#include "../expr/expr.h"
#include "../runtime/component.h"

/* Fixed seed: changing it would change which records every pipeline keeps. */
#define SAMPLE_SEED 0x736c756963655f31ULL   /* "sluice_1" */

typedef struct sample_state {
    uint64_t rate;
    sl_path *key;      /* NULL = hash the source position */
} sample_state;

static const sl_option sample_options[] = {
    {"rate", SL_OPT_INT, true, NULL,
     "Keep one record in `rate` (1 keeps everything).", NULL},
    {"key_field", SL_OPT_STRING, false, NULL,
     "Path of a field to sample by: records with equal values are kept or dropped together. "
     "When unset, records are sampled by their source position.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static void sample_destroy(sl_component *c) {
    sample_state *s = c->impl;
    if (!s) return;
    sl_path_free(s->key);
    free(s);
    c->impl = NULL;
}

static int sample_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    int64_t rate = sl_opts_int(opts, "rate");
    if (rate < 1) {
        sl_diag_error(diag, sl_opts_pos(opts, "rate"),
                      "rate must be at least 1 (keep one record in rate), got %lld", (long long)rate);
        return -1;
    }
    sample_state *s = calloc(1, sizeof *s);
    if (!s) {
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    s->rate = (uint64_t)rate;
    c->impl = s;
    c->reads_no_fields = !sl_opts_has(opts, "key_field");   /* by source position */
    if (sl_opts_has(opts, "key_field")) {
        s->key = sl_path_parse(sl_opts_string(opts, "key_field"), sl_opts_pos(opts, "key_field"), diag);
        if (!s->key) {
            sample_destroy(c);
            return -1;
        }
    }
    return 0;
}

static uint64_t sample_hash(const sample_state *s, const sl_record *r) {
    if (s->key) {
        const sl_value *v = sl_path_get(s->key, sl_record_value(r));
        sl_value null = sl_null();
        return sl_value_hash(v ? v : &null, SAMPLE_SEED);
    }
    uint64_t pos[2] = {r->pos.file_id, r->pos.offset};
    return sl_hash64(pos, sizeof pos, SAMPLE_SEED);
}

static void sample_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_emit *out) {
    const sample_state *s = c->impl;
    for (size_t i = 0; i < n; i++) {
        if (s->rate == 1 || sample_hash(s, recs[i]) % s->rate == 0)
            sl_emit_record(out, 0, recs[i]);
    }
}

const sl_component_type sl_transform_sample_type = {
    .name = "sample",
    .kind = SL_TRANSFORM,
    .summary = "Keep a deterministic one-in-N sample of the records",
    .doc =
        "Keeps about one record in `rate`. The choice is deterministic, not random: each "
        "record is hashed and kept when the hash is divisible by `rate`, so the same input "
        "gives the same sample on every run, after a restart, and with any number of "
        "workers.\n\n"
        "With `key_field`, the hash is over that field's value, so all records that share a "
        "value (a user id, a session id) are kept or dropped together; records without the "
        "field hash as `null` and so are likewise all kept or all dropped. Without it, the "
        "hash is over the record's source position (file and byte offset, or sequence "
        "number): re-reading the same file gives the same sample, while the same line in a "
        "different file or at a different offset may not be chosen. Sampled-out records "
        "are dropped, not sent to the DLQ.",
    .example =
        "transforms:\n"
        "  one_percent:\n"
        "    type: sample\n"
        "    inputs: [events]\n"
        "    rate: 100\n"
        "    key_field: user_id\n",
    .options = sample_options,
    .create = sample_create,
    .destroy = sample_destroy,
    .process = sample_process,
};
