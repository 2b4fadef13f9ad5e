/* component.h — what a source, transform or sink is: a type (name, docs,
 * option schema, functions) and an instance (its name in the pipeline, its
 * options, its state, its metrics).
 *
 * Adding a component means one file in src/sources, src/transforms or
 * src/sinks defining an sl_component_type, and one line in registry.c.
 *
 * Threading contract:
 *  - create/destroy run on the main thread, before start and after stop.
 *  - source.run runs on the source's own thread.
 *  - transform.process and sink.encode run on worker threads, several at once,
 *    each with its own per-worker state (worker_init); they must not write to
 *    shared state without their own locking.
 *  - sink.write/flush/close run on the sink's own thread, one call at a time.
 */
#ifndef SL_COMPONENT_H
#define SL_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/batch.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/metrics.h"
#include "../core/strindex.h"
#include "../config/diag.h"
#include "../config/options.h"

typedef enum { SL_SOURCE, SL_TRANSFORM, SL_SINK } sl_kind;

typedef struct sl_component sl_component;
typedef struct sl_component_type sl_component_type;
typedef struct sl_source_ctx sl_source_ctx;   /* runtime-owned, see pipeline.h */
typedef struct sl_emit sl_emit;               /* runtime-owned, see below */

/* ---- transforms emit records to outputs, or to the DLQ ---- */

/* Sends r to output `output` (0 = the default output; route's named outputs
 * are 0..n-1 in the order of c->outputs). A record may be emitted to several
 * outputs; the runtime copies it where needed. */
void sl_emit_record(sl_emit *e, int output, sl_record *r);
/* Sends r to the DLQ with a stable reason code ("expr_type_error",
 * "lua_error", "parse_failed", ...) and a human message. */
void sl_emit_dlq(sl_emit *e, sl_record *r, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails the whole run (batch mode exits non-zero with this message, naming
 * the component): for checks whose failure must stop the pipeline, such as a
 * quality check configured to fail the run. Records of the batch are still
 * emitted as the component decides. */
void sl_emit_fail(sl_emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The name of the source the batch being processed was read by (as written
 * in the config), for lineage: valid for the pipeline's lifetime. */
const char *sl_emit_source_name(const sl_emit *e);

/* ---- sinks: encoded output handed from workers to the sink thread ---- */

typedef struct sl_payload_part {
    char *key;           /* partition (e.g. rendered path template), or NULL; in the
                            payload's `keys` arena */
    sl_buf data;         /* encoded bytes; a slice of the payload's block when in_block */
    uint64_t records;
    bool in_block;       /* data is in `block` (sl_payload_layout): filled with
                            sl_payload_part_put, never grown or freed by itself */
} sl_payload_part;

typedef struct sl_payload {
    sl_payload_part *parts;
    size_t count, cap;
    uint64_t records, bytes;   /* totals, filled by sl_payload_part_get users */
    sl_strindex index;         /* keyed parts among the first `indexed`, for
                                  sl_payload_part_get (a payload of a path template
                                  can have thousands of parts) */
    size_t indexed;
    sl_arena keys;             /* the parts' keys: one allocation for many (freed on
                                  another thread, a malloc per key cost a tenth of a
                                  thousand-file run) */
    char *block;               /* the bytes of every part, when laid out in one block */
} sl_payload;

/* Returns the part for key (NULL = the default part), creating it. */
sl_payload_part *sl_payload_part_get(sl_payload *p, const char *key, size_t key_len);
void sl_payload_free(sl_payload *p);   /* frees parts, not p itself */
/* Gives every part (all still empty) sizes[i] bytes of one block, so that a
 * payload of a thousand small parts costs one allocation, not a thousand
 * (and as many frees on the sink thread). */
void sl_payload_layout(sl_payload *p, const uint64_t *sizes);
/* Appends n bytes to a laid-out part, within the size it was given. */
void sl_payload_part_put(sl_payload_part *part, const void *bytes, size_t n);
/* Frees a part's bytes (not its key, which is in the payload's arena). */
void sl_payload_part_release(sl_payload_part *part);

/* SINK, on the sink thread: memory the sink keeps after write returned (its
 * write buffers) is charged to the pipeline's memory budget with
 * sl_sink_hold(c, +n) and handed back with sl_sink_hold(c, -n) once written,
 * so that sources slow down while it is held. Never blocks; a no-op for a
 * component that is not part of a running pipeline. */
void sl_sink_hold(sl_component *c, int64_t bytes);
/* The most a sink should hold that way: an eighth of memory_limit
 * (UINT64_MAX outside a pipeline). Known once the pipeline is built, not yet
 * in create. */
uint64_t sl_sink_hold_max(const sl_component *c);

/* ---- the type ---- */

struct sl_component_type {
    const char *name;          /* "file", "filter", ... */
    sl_kind kind;
    const char *summary;       /* one line, for `sluice help` */
    const char *doc;           /* a paragraph or two of Markdown, for docs */
    const char *example;       /* a YAML snippet, for docs */
    const sl_option *options;  /* schema, NULL-name terminated */

    /* Builds c->impl from the resolved options. Reports every problem to
     * diag (with positions from sl_opts_pos/node) and returns -1 when there
     * were any. Transforms with named outputs fill c->outputs/c->n_outputs. */
    int (*create)(sl_component *c, const sl_opts *opts, sl_diag *diag);
    void (*destroy)(sl_component *c);

    /* Per-worker state for process/encode (optional; NULL = none). */
    void *(*worker_init)(sl_component *c, sl_error *err);
    void (*worker_free)(sl_component *c, void *wstate);

    /* SOURCE: reads until exhausted (batch mode) or until
     * sl_source_should_stop(ctx); returns 0, or -1 with err on a fatal error. */
    int (*run)(sl_component *c, sl_source_ctx *ctx, sl_error *err);

    /* TRANSFORM: processes n records of batch b (use b->arena to allocate),
     * emitting each to an output, to the DLQ, or nowhere (dropped on purpose,
     * e.g. filter; counted by the runtime as received - sent). */
    void (*process)(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n, sl_emit *out);
    /* TRANSFORM: when true, process is called for every batch of every
     * source, with n == 0 when none of the batch's records reached this
     * transform, so a stateful transform can apply batches in per-source
     * sequence order (b->source, b->seq) without waiting for a batch that
     * never comes (dedup's ordered gate). */
    bool ordered;

    /* SINK, on a worker: encodes records into payload parts. */
    void (*encode)(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                   sl_payload *out, sl_emit *dlq);
    /* SINK, on the sink thread: writes one payload. -1 with err on failure. */
    int (*write)(sl_component *c, sl_payload *p, sl_error *err);
    /* SINK: makes everything written so far durable/visible; called on a
     * timer, at shutdown, and after the last batch. */
    int (*flush)(sl_component *c, sl_error *err);

    /* ANY KIND, optional: appends the component's state as one JSON object
     * (rule counters, check results, sketches...), for /stats and the
     * report. Called from any thread while the pipeline runs and after it
     * ends, so it must synchronise with the component's workers itself. */
    void (*describe)(sl_component *c, sl_buf *json);
    /* ANY KIND, optional: appends the component's own Prometheus lines
     * (HELP/TYPE before each family's samples), e.g. per-rule failure
     * counters; same threading rules as describe. When several components
     * write the same family, the runtime keeps one HELP/TYPE and groups the
     * samples (sl_pipeline_prometheus). */
    void (*metrics)(sl_component *c, sl_buf *prometheus);
    /* TRANSFORM, optional: called once on the main thread when the run ends
     * (every source returned or the pipeline was stopped), after the workers
     * processed the last batch and before the sinks' final flush: for work
     * that belongs to the end of the data, such as evaluating a time window
     * still open or writing a profile file. No records can be emitted here.
     * Returns 0, or -1 with err to fail the run (batch mode exits non-zero
     * with the message, naming the component). */
    int (*finish)(sl_component *c, sl_error *err);
    /* SINK, optional: called once on the sink thread when the run ends, after
     * the final flush (not after the sink failed): for output that is only
     * complete at the end of the data, such as the dataset sink's last shard
     * and manifest. Returns 0, or -1 with err to fail the run. */
    int (*close)(sl_component *c, sl_error *err);

    /* ---- checkpoints (runtime/checkpointer.c, docs/delivery.md) ----
     * A component takes part in checkpoints by having save (and restore);
     * each hook returns 0, or -1 with err. State is one JSON value, kept in
     * the checkpoint under the component's name.
     *
     * save appends the component's state to `state`:
     *  - SOURCE: called while the source's thread is parked inside
     *    sl_source_submit (after the batch was queued), sl_source_sleep or
     *    sl_source_checkpoint_point, or after run returned. The state must
     *    describe exactly what was submitted so far, so a source updates its
     *    position *before* calling sl_source_submit.
     *  - TRANSFORM: called on the checkpointing thread while no worker is
     *    processing; the state covers every batch submitted so far.
     *  - SINK: called on the sink thread once it has written everything
     *    submitted so far: the pre-commit. Output becomes durable (fsync) but
     *    need not be visible yet; the state says what commit will publish.
     * A source or sink without save makes the pipeline run without durable
     * checkpoints (it cannot resume, or continue its output), and says so; a
     * transform without save restarts empty.
     *
     * restore runs once before the run, on the main thread, with the state
     * this component saved in the checkpoint the run resumes from, or with
     * state == NULL when there is none (first run, `--from-start`, a new
     * component): a source then starts from the beginning, and a sink
     * discards what an interrupted run left unpublished. `state` is followed
     * by SL_BUF_PADDING readable bytes, so it can be parsed in place.
     *
     * commit runs on the checkpointing thread once the checkpoint holding
     * `state` (what save appended) is durable: a sink publishes the
     * pre-committed output, a source may release input it no longer needs
     * (WAL segments). It is never called concurrently with the same
     * component's save. Optional. */
    int (*save)(sl_component *c, sl_buf *state, sl_error *err);
    int (*restore)(sl_component *c, const char *state, size_t len, sl_error *err);
    int (*commit)(sl_component *c, const char *state, size_t len, sl_error *err);
};

/* ---- the instance ---- */

/* What a sink guarantees across crashes when the pipeline takes durable
 * checkpoints (docs/delivery.md). Without them every sink has none. */
typedef enum {
    SL_DELIVERY_AT_LEAST_ONCE = 0,   /* records after the last checkpoint are written again */
    SL_DELIVERY_EXACTLY_ONCE,        /* output published only once a checkpoint covers it */
} sl_delivery;

struct sl_component {
    char *name;                      /* as written in the config */
    const sl_component_type *type;
    sl_kind kind;
    sl_opts *opts;
    sl_pos pos;                      /* of the component's mapping */
    void *impl;                      /* the component's state */
    const char **outputs;            /* named outputs (route), or NULL = one default output */
    int n_outputs;
    sl_component_metrics *metrics;
    int index;                       /* position in the pipeline's component array */
    struct sl_budget *budget;        /* the pipeline's memory budget (sl_sink_hold), or NULL */
    bool publishes;                  /* set by create: this sink shows its output only at
                                        commit (two-phase), so it takes part in checkpoint
                                        cycles even when they are not durable */
    const char *cannot_resume;       /* set by create: why this source cannot resume from a
                                        checkpoint as configured, although its type has save,
                                        and how to fix it (stdin with `wal.enabled: false`);
                                        NULL: it can */
    bool reads_no_fields;            /* set by create (sinks, transforms): this instance
                                        neither reads nor changes any field of the records
                                        it gets (a sink writing JSON lines as they came), so
                                        their values need not be decoded (lazy_decode.h);
                                        false, the default, is always safe */
    sl_delivery delivery;            /* set by create (sinks): the guarantee across crashes
                                        when checkpoints are durable */
    bool durable;                    /* set by the runtime before restore: the pipeline takes
                                        durable checkpoints, in data_dir */
    const char *data_dir;            /* set by the runtime before restore: the pipeline's
                                        data_dir (locked by this run) */
    bool start_over;                 /* set by the runtime before restore: there were
                                        checkpoints but none is usable (both generations
                                        damaged), so the run reads everything again and must
                                        not append to the output of earlier runs */
};

/* Registry (registry.c). */
const sl_component_type *sl_registry_find(sl_kind kind, const char *name);
/* All types of a kind, NULL-terminated. */
const sl_component_type *const *sl_registry_list(sl_kind kind);
const char *sl_kind_name(sl_kind kind);    /* "source" | "transform" | "sink" */

#endif
