/* pipeline.h — builds a pipeline from a loaded configuration and runs it.
 *
 *   sources ──batches──▶ workers (decode, transforms, encode) ──payloads──▶ sinks
 *
 * Each source reads on its own thread and submits batches of framed input.
 * A pool of workers takes whole batches, decodes the frames, runs the fused
 * transform DAG on them in topological order, and encodes the records that
 * reach each sink into that sink's payload. Payloads are released to the sink
 * queues in per-source sequence order (so per-source order is preserved even
 * though workers finish out of order). One thread per sink writes them.
 *
 * Memory: every batch and payload is charged to one global budget
 * (memory_limit). Queues are bounded; a full sink queue blocks the worker
 * delivering to it, which blocks the source queue, which blocks the source:
 * backpressure instead of growth.
 *
 * Batch mode: when every source has returned, the pipeline drains, flushes
 * every sink and returns. sl_pipeline_stop (SIGINT/SIGTERM) makes sources stop
 * reading; what was read is drained and flushed, then run returns.
 */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../config/config.h"
#include "component.h"

typedef struct sl_pipeline sl_pipeline;

/* Creates every component (validating its options), resolves the graph and
 * reports every problem to diag. Returns NULL when there were errors.
 * cfg must outlive the pipeline (options point into its nodes). */
sl_pipeline *sl_pipeline_build(const sl_config *cfg, sl_diag *diag);
/* The same with the component types taken from `types` (that kind's types,
 * NULL-terminated) instead of the registry: sl_pipeline_build passes
 * sl_registry_list; unit tests pass test-only types. */
sl_pipeline *sl_pipeline_build_with(const sl_config *cfg,
                                    const sl_component_type *const *(*types)(sl_kind kind),
                                    sl_diag *diag);
void sl_pipeline_free(sl_pipeline *p);

typedef struct sl_run_options {
    bool progress;       /* draw a progress bar on stderr */
    bool from_start;     /* ignore the last checkpoint: read every input from the start */
} sl_run_options;

/* Checkpoint generations a run must not resume from because a component
 * could not read its state from them (malformed, or from an incompatible
 * version), kept by the caller across pipelines built afresh; start with
 * all zero. A generation is known by its document's length and CRC-32C. */
typedef struct sl_refused_checkpoint {
    uint64_t len;
    uint32_t crc;
    char why[160];   /* "source 'events' cannot read its state" */
} sl_refused_checkpoint;
typedef struct sl_refused_checkpoints {
    int n;
    sl_refused_checkpoint gen[2];   /* in the order refused */
} sl_refused_checkpoints;

/* Prepares a run: locks data_dir, restores every component from the last
 * checkpoint, rolls the DLQ back to it and writes the starting checkpoint
 * (docs/delivery.md); sl_pipeline_run does it when it was not done. Returns
 * 0, or -1 with err. When a component cannot read its state from the
 * checkpoint and `refused` is not NULL, that generation is added to refused
 * (after a warning naming the component and the reason): the other
 * components may hold its state already, so the caller frees this
 * pipeline, builds it again and resumes the new one with the same refused
 * list, which resumes from the generation before, or, when none is left,
 * starts over without appending to earlier output. */
int sl_pipeline_resume(sl_pipeline *p, bool from_start, sl_refused_checkpoints *refused, sl_error *err);

/* Runs to completion (batch mode) or until stopped; a pipeline runs once.
 * Returns 0, or -1 with err on a fatal error (a sink that cannot write, a
 * source that cannot read, a DLQ that cannot be written). */
int sl_pipeline_run(sl_pipeline *p, const sl_run_options *ro, sl_error *err);
/* Asks a running pipeline to stop; safe to call from any thread. */
void sl_pipeline_stop(sl_pipeline *p);
sl_metrics *sl_pipeline_metrics(sl_pipeline *p);
/* Most bytes ever charged to the memory budget at once. */
uint64_t sl_pipeline_memory_peak(sl_pipeline *p);
/* True once every source started and the sinks are open (for /ready). */
bool sl_pipeline_ready(sl_pipeline *p);
/* The end-of-run summary: records in/out per component, DLQ by reason,
 * bytes, wall time, MB/s. */
void sl_pipeline_summary(sl_pipeline *p, FILE *out);
/* Every component's state as one JSON object {"NAME": {...}, ...}, from
 * the components' describe hooks (components without one are left out). */
void sl_pipeline_describe(sl_pipeline *p, sl_buf *json);
/* The pipeline's Prometheus text: the shared counters (sl_metrics) followed
 * by the components' own metrics hooks. */
void sl_pipeline_prometheus(sl_pipeline *p, sl_buf *out);
/* The components and graph edges, for the report: component i of n. */
int sl_pipeline_component_count(const sl_pipeline *p);
const sl_component *sl_pipeline_component(const sl_pipeline *p, int i);
/* Edges as (from component index, from output index, to component index). */
size_t sl_pipeline_edge_count(const sl_pipeline *p);
void sl_pipeline_edge(const sl_pipeline *p, size_t i, int *from, int *from_output, int *to);
/* Why the pipeline runs without durable checkpoints (written into buf), or
 * NULL when it has them: for `sluice check` and the start of a run. */
const char *sl_checkpoints_off_reason(const sl_pipeline *p, char *buf, size_t cap);
/* The guarantee sink c gives across crashes in this pipeline:
 * "exactly-once", "at-least-once", or "none" when checkpoints are off. */
const char *sl_sink_delivery(const sl_pipeline *p, const sl_component *c);
/* "delivery across crashes: NAME GUARANTEE, ..." and a newline, for the
 * run summary and `sluice check`. */
void sl_pipeline_delivery_line(const sl_pipeline *p, FILE *out);
/* Every sink's guarantee as one JSON object {"NAME": "exactly-once", ...},
 * for /stats. */
void sl_pipeline_delivery_json(const sl_pipeline *p, sl_buf *json);
/* Graphviz DOT of the DAG. */
void sl_pipeline_graph_dot(const sl_pipeline *p, sl_buf *out);

/* ---- the API sources use (source thread only) ---- */

bool sl_source_should_stop(sl_source_ctx *ctx);
/* Sleeps up to ms; returns early (false) when the pipeline is stopping. */
bool sl_source_sleep(sl_source_ctx *ctx, unsigned ms);
/* Target size of a batch's input bytes and record count (from config). */
size_t sl_source_batch_bytes(sl_source_ctx *ctx);
uint32_t sl_source_batch_records(sl_source_ctx *ctx);
/* A new empty batch stamped with this source. */
sl_batch *sl_source_batch_new(sl_source_ctx *ctx, size_t data_cap);
/* Hands the batch to the workers (takes ownership). Blocks while the memory
 * budget or the queue is full. Returns -1 (and frees the batch) when a fatal
 * error stopped the pipeline. After a graceful stop (sl_pipeline_stop) the
 * batch is still accepted: what was read is delivered; the source returns
 * once sl_source_should_stop is true. */
int sl_source_submit(sl_source_ctx *ctx, sl_batch *b);
/* Parks the source while a checkpoint is being taken (returns at once when
 * none is). A source calls it where it waits for input in a loop of its own
 * (sl_source_sleep and sl_source_submit already do): everything it read must
 * have been submitted and its position updated, since the checkpoint saves
 * the source's state while it is parked here. */
void sl_source_checkpoint_point(sl_source_ctx *ctx);
/* The pipeline's data_dir (for a source's own write-ahead log). */
const char *sl_source_data_dir(sl_source_ctx *ctx);
/* True when the pipeline takes durable checkpoints (a restart resumes from
 * them): a source keeps its own write-ahead log only then. */
bool sl_source_checkpoints_durable(sl_source_ctx *ctx);
/* Sends raw input that could not become a frame (e.g. record_too_large) to
 * the DLQ; raw is truncated to a few KiB in the entry. */
void sl_source_dlq(sl_source_ctx *ctx, const char *raw, size_t len, sl_position pos,
                   const char *origin, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* The path of the pipeline's own DLQ file (it may not exist yet), so that
 * the dlq source can refuse to replay the file it would append to. */
const char *sl_source_dlq_path(sl_source_ctx *ctx);
/* Progress: total input bytes expected (files' sizes) and bytes consumed;
 * each call adds n to the pipeline's totals. */
void sl_source_expect_bytes(sl_source_ctx *ctx, uint64_t n);
void sl_source_progress(sl_source_ctx *ctx, uint64_t n);

#endif
