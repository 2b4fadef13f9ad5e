/* histogram.c — log-linear buckets and quantiles (see histogram.h).
 *
 * Bucket of v: v itself below 8; otherwise, with e the index of v's highest
 * set bit (e >= 3) and s the 3 bits below it, (e - 2) * 8 + s. Buckets are
 * contiguous: 8 -> 8, 15 -> 15, 16 -> 16, 18 -> 17, ...
 */
#include "histogram.h"

#include <math.h>

static unsigned bucket_of(uint64_t v)
{
    if (v < SL_HISTOGRAM_SUB_BUCKETS)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned s = (unsigned)(v >> (e - 3)) & (SL_HISTOGRAM_SUB_BUCKETS - 1);
    return (e - 2) * SL_HISTOGRAM_SUB_BUCKETS + s;
}

/* The largest value that falls into bucket b. */
static uint64_t bucket_upper(unsigned b)
{
    if (b < SL_HISTOGRAM_SUB_BUCKETS)
        return b;
    unsigned e = b / SL_HISTOGRAM_SUB_BUCKETS + 2, s = b % SL_HISTOGRAM_SUB_BUCKETS;
    uint64_t width = (uint64_t)1 << (e - 3);
    return ((uint64_t)(SL_HISTOGRAM_SUB_BUCKETS + s) << (e - 3)) + (width - 1);
}

void sl_histogram_record(sl_histogram *h, uint64_t v)
{
    h->buckets[bucket_of(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

uint64_t sl_histogram_quantile(const sl_histogram *h, double q)
{
    if (h->count == 0)
        return 0;
    double want = ceil(q * (double)h->count);
    uint64_t rank = want < 1 ? 1 : want > (double)h->count ? h->count : (uint64_t)want;
    uint64_t seen = 0;
    for (unsigned b = 0; b < SL_HISTOGRAM_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            uint64_t upper = bucket_upper(b);
            return upper < h->max ? upper : h->max;
        }
    }
    return h->max;
}
