/* pipeline_internal.h — the pipeline's insides, shared by the runtime's
 * files (build, run, source API, worker, sequencer, summary, dot) and by
 * nothing else.
 *
 * The plan: build resolves the DAG once into a flat dataflow that workers
 * replay for every batch. Each vertex has n_outputs output "slots" (lists of
 * the records it emitted for the current batch); each edge reads one slot.
 * Transforms change records in place, so when a slot feeds several edges and
 * one of them is a transform, the first edge gets the records themselves and
 * every other edge gets clones made as soon as the producer has run.
 *
 * Ownership: a batch belongs to exactly one thread at a time (source, then
 * one worker, which frees it after encoding); payloads belong to the worker,
 * then the sequencer, then one sink thread. Records never cross threads.
 */
#ifndef SL_PIPELINE_INTERNAL_H
#define SL_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../config/graph.h"
#include "budget.h"
#include "dlq.h"
#include "lazy_decode.h"
#include "pipeline.h"
#include "queue.h"
#include "sink_retry.h"

/* A vertex's place in the per-batch dataflow. */
typedef struct sl_vertex_plan {
    int n_outputs;      /* >= 1 */
    int slot;           /* its outputs are slots slot .. slot + n_outputs - 1 */
    int *in_edges;      /* edges into it, in graph order */
    int n_in_edges;
    bool separate;      /* several outputs, one feeding a transform: a record
                           emitted to two outputs must become two records */
    bool check_only;    /* a source whose records nothing reads: its frames are
                           checked, their values built on first read (lazy_decode.h) */
    int source;         /* source number, or -1 */
    int sink;           /* sink number, or -1 */
} sl_vertex_plan;

/* The edges reading one output slot. edges[0] gets the emitted records,
 * edges[1..] get clones, unless every consumer is a sink: sinks only read,
 * so they share the records. */
typedef struct sl_slot_plan {
    int *edges;
    int n_edges;
    bool shared;
} sl_slot_plan;

/* One sink's encoded output for one batch, as queued to the sink thread. */
typedef struct sl_sink_item {
    sl_payload payload;
    uint64_t charge;    /* bytes charged to the memory budget */
} sl_sink_item;

/* Everything a batch produced, waiting for its turn in source order. */
typedef struct sl_batch_result {
    uint64_t seq;
    struct sl_batch_result *next;
    sl_sink_item *items[];   /* one per sink, NULL when nothing reached it */
} sl_batch_result;

struct sl_source_ctx {
    sl_pipeline *p;
    sl_component *c;
    int sinks_reached;       /* for the memory estimate of its batches */
    uint64_t next_seq;       /* source thread only */
    pthread_t thread;
    /* sequencer (sequencer.c) */
    pthread_mutex_t seq_lock;
    uint64_t next_release;
    bool releasing;
    sl_batch_result *pending;
    size_t n_pending;
    pthread_cond_t drained;  /* a pending result was released */
};

typedef struct sl_checkpointer sl_checkpointer;

typedef struct sl_sink_rt {
    sl_pipeline *p;
    sl_component *c;
    sl_queue *queue;         /* of sl_sink_item */
    pthread_t thread;
    sl_sink_guard guard;     /* retries, breaker, fallback (sink_retry.h) */
} sl_sink_rt;

struct sl_pipeline {
    sl_component *comps;     /* sources, then transforms, then sinks (config order) */
    int n_comps;
    sl_graph graph;
    sl_vertex_plan *vplan;   /* per component */
    sl_slot_plan *splan;     /* per output slot */
    int n_slots;
    sl_source_ctx *sources;
    int n_sources;
    sl_sink_rt *sinks;
    int n_sinks;
    sl_opts **retry_opts;    /* per component: a sink's retry/breaker/fallback options */
    sl_metrics *metrics;

    /* settings, from the config */
    char *data_dir;
    int workers;
    uint64_t memory_limit;
    uint32_t batch_records;
    size_t batch_bytes;

    /* run state */
    sl_budget budget;
    sl_queue *batches;       /* sources -> workers */
    sl_dlq *dlq;
    atomic_bool stopping, ready;
    bool resumed;            /* sl_pipeline_resume ran */
    bool ran;
    /* checkpoints (checkpointer.c) */
    sl_checkpointer *ckpt;
    atomic_bool barrier;     /* sources park at their next checkpoint point */
    atomic_long in_flight;   /* batches submitted and sink items, not yet written */
    int sources_parked;      /* under lock */
    pthread_mutex_t lock;    /* guards the fields below */
    pthread_cond_t changed;  /* stop requested, a source finished */
    int sources_running;
    bool failed;
    char fatal[SL_ERROR_MAX];
    int64_t wall_ns;         /* duration of the run */
};

/* Marks in seen[] (n_comps entries, false on entry) vertex `from` and every
 * vertex reachable from it (build.c). */
void sl_pipeline_reached(const sl_pipeline *p, int from, bool *seen);

/* Records the first fatal error and stops the pipeline. */
void sl_pipeline_fail(sl_pipeline *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Workers (worker.c). sl_worker_new runs every component's worker_init. */
typedef struct sl_worker sl_worker;
sl_worker *sl_worker_new(sl_pipeline *p, sl_error *err);
void sl_worker_free(sl_worker *w);
void *sl_worker_main(void *worker);

/* Sequencer (sequencer.c): hands a batch's payloads to the sink queues once
 * every earlier batch of the same source has been handed over. */
void sl_sequencer_init(sl_source_ctx *src);
void sl_sequencer_destroy(sl_source_ctx *src);
void sl_sequencer_deliver(sl_pipeline *p, sl_source_ctx *src, sl_batch_result *r);

/* Frees an item and returns its charge to the budget. */
void sl_sink_item_discard(sl_pipeline *p, sl_sink_item *item);

/* Checkpoints (checkpointer.c). Init at build time; pipeline_file is
 * recorded in every checkpoint, to recognise one another pipeline wrote. */
void sl_checkpoints_init(sl_pipeline *p, const char *pipeline_file, const char *data_dir, bool enabled,
                         uint64_t interval_ms);
/* Why source or sink c cannot take part in checkpoints (which turns them
 * off for the whole pipeline), with the fix when there is one; NULL when
 * it can (and for transforms). */
const char *sl_checkpoint_blocker(const sl_component *c);
/* Locks data_dir when the run keeps state there or publishes output (a
 * second run on it is refused, naming the first one's pid), restores every
 * component from the last checkpoint (none with
 * from_start, or when a source cannot resume; refused when another pipeline
 * wrote it; generations in refused are skipped, see sl_pipeline_resume),
 * rolls the DLQ back to it, and writes the starting checkpoint.
 * Before any thread starts. The lock is held until sl_checkpoints_free. */
int sl_checkpoints_start(sl_pipeline *p, bool from_start, sl_refused_checkpoints *refused, sl_error *err);
/* Whether a checkpoint document (data, followed by SL_BUF_PADDING readable
 * bytes) is one this version of sluice can resume from: its version, epoch
 * and every component entry with a type, kind and state; when not, writes
 * why. What loading checks before restoring; on its own for the fuzz target. */
bool sl_checkpoint_doc_check(const char *data, size_t len, char *why, size_t cap);
/* Takes a checkpoint when one is due; main thread, while the pipeline runs. */
void sl_checkpoints_tick(sl_pipeline *p);
/* How long the main thread may wait before the next tick, at most max_ms. */
int64_t sl_checkpoints_wait_ms(sl_pipeline *p, int64_t max_ms);
/* The last checkpoint of a run, once every thread has ended. */
void sl_checkpoints_finish(sl_pipeline *p);
void sl_checkpoints_free(sl_pipeline *p);
void sl_checkpoints_prometheus(sl_pipeline *p, sl_buf *out);
/* Whether the run resumed from a checkpoint: its epoch and time (RFC 3339). */
bool sl_checkpoints_resumed(const sl_pipeline *p, uint64_t *epoch, const char **time);
/* In-flight accounting: +1 per batch submitted, +items-1 when a worker has
 * processed it, -1 per sink item written or discarded. */
void sl_inflight_add(sl_pipeline *p, long delta);
/* The item queued to sink threads for a checkpoint; the sink thread calls
 * sl_checkpoint_sink_marker when it meets it (ok: the sink has not failed),
 * which pre-commits the sink; returns false when that failed. */
extern void *const sl_checkpoint_marker;
bool sl_checkpoint_sink_marker(sl_sink_rt *s, bool ok);

#endif
