/* histogram.h — a fixed-size log-linear histogram of non-negative integers
 * (latencies in ns), for percentiles without keeping samples.
 *
 * Values below 8 have a bucket each; above, every power of two is split into
 * 8 equal buckets. A quantile is reported as the upper bound of its bucket,
 * capped at the largest value seen, so it is never below the true quantile
 * and at most 12.5 % above it. Recording is a count-leading-zeros and an
 * increment, with no allocation: cheap enough for every fsync of a log.
 * Not synchronised: the owner records and reads under its own lock.
 */
#ifndef SL_HISTOGRAM_H
#define SL_HISTOGRAM_H

#include <stdint.h>

#define SL_HISTOGRAM_SUB_BUCKETS 8
#define SL_HISTOGRAM_BUCKETS ((64 - 2) * SL_HISTOGRAM_SUB_BUCKETS)   /* covers all of uint64_t */

typedef struct sl_histogram {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[SL_HISTOGRAM_BUCKETS];
} sl_histogram;

void sl_histogram_record(sl_histogram *h, uint64_t v);
/* The q-quantile (0 < q <= 1) of the recorded values; 0 when there are none. */
uint64_t sl_histogram_quantile(const sl_histogram *h, double q);

#endif
