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
};

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
    int workers;
    uint64_t memory_limit;
    uint32_t batch_records;
    size_t batch_bytes;

    /* run state */
    sl_budget budget;
    sl_queue *batches;       /* sources -> workers */
    sl_dlq *dlq;
    atomic_bool stopping, ready;
    bool ran;
    pthread_mutex_t lock;    /* guards the fields below */
    pthread_cond_t changed;  /* stop requested, a source finished */
    int sources_running;
    bool failed;
    char fatal[SL_ERROR_MAX];
    int64_t wall_ns;         /* duration of the run */
};

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

#endif
