/* test_core_histogram.c — the log-linear latency histogram: quantiles are
 * never below the true value and at most 12.5 % above it, across the whole
 * uint64_t range; the empty histogram; the max is exact.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "core/histogram.h"

static void test_empty(void)
{
    sl_histogram h;
    memset(&h, 0, sizeof h);
    CHECK_INT(sl_histogram_quantile(&h, 0.5), 0);
    CHECK_INT(h.count, 0);
}

static void test_bucket_error_bound(void)
{
    /* With v and a far larger value recorded, the median is v's bucket's
     * upper bound: within [v, v * 1.125]. */
    bool ok = true;
    uint64_t v = 0;
    for (int i = 0; i < 4000 && ok; i++) {
        sl_histogram h;
        memset(&h, 0, sizeof h);
        sl_histogram_record(&h, v);
        sl_histogram_record(&h, UINT64_MAX);
        uint64_t q = sl_histogram_quantile(&h, 0.5);
        if (q < v || (double)q > (double)v * 1.125 + 0.5) {
            fprintf(stderr, "value %llu reported as %llu\n", (unsigned long long)v, (unsigned long long)q);
            ok = false;
        }
        v = v < 64 ? v + 1 : v + v / 97 + 1;   /* every small value, then ~1 % steps up to ~2^57 */
    }
    CHECK(ok);
    CHECK(v > (1ull << 50));
}

static void test_quantiles_of_uniform_values(void)
{
    sl_histogram h;
    memset(&h, 0, sizeof h);
    for (uint64_t v = 1; v <= 1000; v++)
        sl_histogram_record(&h, v * 1000);       /* 1 us .. 1 ms in ns */
    CHECK_INT(h.count, 1000);
    CHECK_INT(h.max, 1000000);
    uint64_t p50 = sl_histogram_quantile(&h, 0.5), p99 = sl_histogram_quantile(&h, 0.99);
    CHECK(p50 >= 500000 && p50 <= 562500);
    CHECK(p99 >= 990000 && p99 <= 1000000);      /* capped at the max */
    CHECK_INT(sl_histogram_quantile(&h, 1.0), 1000000);
    CHECK(sl_histogram_quantile(&h, 0.001) >= 1000 && sl_histogram_quantile(&h, 0.001) <= 1125);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_bucket_error_bound);
    RUN(test_quantiles_of_uniform_values);
    return check_report();
}
