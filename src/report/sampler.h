/* sampler.h — throughput over time, for the report's chart.
 *
 * A sampler is a thread that wakes once per interval (1 s) and records how
 * many records and input bytes the pipeline's sources read since the last
 * tick. Points live in a fixed array of SL_SAMPLER_MAX_POINTS: when it is
 * full, neighbouring points are merged pairwise (their records, bytes and
 * durations add up, so rates stay exact) and each later point covers twice
 * as long. A run of any length is therefore covered from start to end in
 * bounded memory: 3600 one-second points, then 3600 two-second points for
 * up to two hours, and so on.
 *
 * sl_sampler_stop records the last partial interval, so even a run shorter
 * than one interval has a point. Points can be read at any time (the API
 * builds the live report while the sampler runs); reads take the sampler's
 * lock for the time of a copy.
 */
#ifndef SL_SAMPLER_H
#define SL_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../runtime/pipeline.h"

#define SL_SAMPLER_MAX_POINTS 3600

typedef struct sl_sample {
    double end_s;        /* seconds since the sampler started, at the end of the interval */
    double span_s;       /* length of the interval */
    uint64_t records;    /* records read by the sources during the interval */
    uint64_t bytes;      /* input bytes read during the interval */
} sl_sample;

typedef struct sl_sampler sl_sampler;

/* Starts sampling p every interval_ms (0 = 1000). Returns NULL with err when
 * the thread cannot be started. */
sl_sampler *sl_sampler_start(sl_pipeline *p, unsigned interval_ms, sl_error *err);
/* Takes the last partial sample and ends the thread; points stay readable. */
void sl_sampler_stop(sl_sampler *s);
/* Stops (when still running) and frees. NULL is ignored. */
void sl_sampler_free(sl_sampler *s);

/* Copies up to cap points, oldest first, into out; returns how many. */
size_t sl_sampler_points(sl_sampler *s, sl_sample *out, size_t cap);

#endif
