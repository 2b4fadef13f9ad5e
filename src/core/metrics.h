/* metrics.h — per-component counters, shared by the runtime, the summary
 * printed at the end of a batch run, /metrics and /stats.
 *
 * Counters are lock-free atomics bumped once per batch (never per record on
 * the hot path). Errors and DLQ entries are counted per reason in a small
 * table guarded by a mutex (they are rare by nature). Processing latency is a
 * histogram of per-batch processing time per component.
 *
 * Metric names follow Vector's: sluice_component_received_events_total,
 * sluice_component_sent_events_total, sluice_component_received_bytes_total,
 * sluice_component_sent_bytes_total, sluice_component_errors_total{error_type},
 * sluice_component_discarded_events_total{reason} (records sent to the DLQ),
 * sluice_component_processing_seconds (histogram).
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"

#define SL_LATENCY_BUCKETS 12   /* upper bounds 10us .. 3.16s in half decades; +Inf is latency_count */
#define SL_MAX_REASONS 32

typedef struct sl_reason_count {
    char reason[48];
    uint64_t count;
} sl_reason_count;

typedef struct sl_component_metrics {
    const char *component;   /* name (owned by the component) */
    const char *kind;        /* "source" | "transform" | "sink" */
    const char *type;        /* component type, e.g. "file" */
    _Atomic uint64_t received_events, received_bytes;
    _Atomic uint64_t sent_events, sent_bytes;
    _Atomic uint64_t latency_count, latency_sum_ns;
    _Atomic uint64_t latency_buckets[SL_LATENCY_BUCKETS];
    pthread_mutex_t lock;    /* guards errors[] and dlq[] */
    sl_reason_count errors[SL_MAX_REASONS];
    sl_reason_count dlq[SL_MAX_REASONS];
} sl_component_metrics;

typedef struct sl_metrics {
    sl_component_metrics **components;
    int count;
    int64_t started_ns;      /* wall clock at pipeline start */
    _Atomic uint64_t input_bytes_total, input_bytes_expected;  /* for progress */
    _Atomic uint64_t dlq_total;
} sl_metrics;

sl_metrics *sl_metrics_new(void);
void sl_metrics_free(sl_metrics *m);
sl_component_metrics *sl_metrics_add(sl_metrics *m, const char *component, const char *kind, const char *type);

void sl_metrics_received(sl_component_metrics *c, uint64_t events, uint64_t bytes);
void sl_metrics_sent(sl_component_metrics *c, uint64_t events, uint64_t bytes);
void sl_metrics_latency(sl_component_metrics *c, uint64_t ns);
void sl_metrics_error(sl_component_metrics *c, const char *error_type, uint64_t n);
void sl_metrics_dlq(sl_metrics *m, sl_component_metrics *c, const char *reason, uint64_t n);

/* Appends s as a Prometheus label value (without the quotes): backslash,
 * double quote and newline escaped. Every metrics hook writing labels uses it. */
void sl_prom_escape(sl_buf *out, const char *s);

/* Prometheus text exposition format 0.0.4. */
void sl_metrics_render_prometheus(const sl_metrics *m, sl_buf *out);
/* JSON object: {"uptime_seconds":..,"components":[{"name":..,"kind":..,...}]} */
void sl_metrics_render_json(const sl_metrics *m, sl_buf *out);

#endif
