/* kll.h — KLL quantile sketch over doubles (Karnin, Lang, Liberty 2016).
 *
 * What it answers: approximate quantiles ("the value at rank 0.99"), ranks
 * ("what fraction of values is <= x"), CDFs over given split points (what PSI
 * needs) and histograms, in bounded memory, for any number of values.
 *
 * How: a stack of "compactors" (levels). Level h holds values that each stand
 * for 2^h inputs. New values go to level 0. When the sketch is full, the
 * lowest level at or above its capacity is sorted and compacted: one value of
 * each adjacent pair is kept (the odd or the even ones, by a coin flip) and
 * moved to level h + 1, so weight is preserved and the rank error stays
 * unbiased. Level capacities shrink geometrically by 2/3 from the top level
 * (capacity k) down to a minimum of 8, as in Apache DataSketches' KLL.
 *
 * Accuracy: the normalized rank error ε of one query is, with probability
 * 99 %, at most about 2.296 / k^0.9723 (the empirical bound DataSketches
 * publishes for its KLL of the same construction): 1.05 % at the default
 * k = 256, 1.3 % at k = 200. Min and max are exact. Quantiles 0 and 1 return
 * the exact min and max.
 *
 * Memory: all values live in one buffer of about 3k + 8 × (levels - 10)
 * doubles plus a scratch half that size (the number of levels grows with
 * log2(n / k)): ≈ 9.5 KiB at k = 256 up to billions of values.
 *
 * Contract:
 *  - Deterministic: coin flips come from a xorshift generator whose state is
 *    part of the sketch (seeded at init and serialized), so the same inputs in
 *    the same order give bit-identical sketches on every run and machine.
 *  - NaN and ±Inf are ignored by sl_kll_add (they have no rank); n counts
 *    only the values kept.
 *  - sl_kll_add never allocates except when the sketch grows a level
 *    (logarithmically rarely); queries allocate a temporary sorted view.
 *  - Merge is mergeable-summary style: merge(sketch(A), sketch(B)) answers
 *    queries about A ∪ B within the same error bound. k of src may differ;
 *    dst keeps its own k.
 *  - Serialization: a little-endian binary image (k, n, min, max, generator
 *    state, level sizes, values) as padded base64. Decoding checks every
 *    field (level structure, sortedness, weights summing to n, no NaN), so it
 *    is safe on untrusted input.
 *  - A sketch is used by one thread at a time.
 */
#ifndef SL_KLL_H
#define SL_KLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"

#define SL_KLL_DEFAULT_K 256
#define SL_KLL_MIN_K 8
#define SL_KLL_MAX_K 65535
#define SL_KLL_MAX_LEVELS 61    /* weights 2^h must fit in uint64 */

typedef struct sl_kll {
    uint32_t k;
    uint32_t num_levels;
    uint64_t n;              /* values added (finite ones) */
    double min, max;         /* exact; +Inf / -Inf while n == 0 */
    uint64_t rng;            /* coin-flip generator state (never 0) */
    double *items;           /* cap values; level h is items[levels[h] .. levels[h+1]) */
    double *scratch;         /* cap / 2 + 1 values, used while compacting */
    uint32_t cap;
    uint32_t max_items;      /* sum of the level capacities: compact when reached */
    uint32_t levels[SL_KLL_MAX_LEVELS + 1];
} sl_kll;

/* k in [SL_KLL_MIN_K, SL_KLL_MAX_K]; seed 0 picks a fixed default. */
int sl_kll_init(sl_kll *s, unsigned k, uint64_t seed, sl_error *err);
void sl_kll_free(sl_kll *s);

void sl_kll_add(sl_kll *s, double x);

/* Adds src's values to dst (dst's k is kept). src is not changed. */
void sl_kll_merge(sl_kll *dst, const sl_kll *src);

/* Value at normalized rank q in [0, 1] (clamped): the smallest retained
 * value whose cumulative weight reaches q × n; q = 0 → min, q = 1 → max.
 * NaN when the sketch is empty. */
double sl_kll_quantile(const sl_kll *s, double q);
/* Several quantiles at once (one sorted view): out[i] for qs[i]. */
void sl_kll_quantiles(const sl_kll *s, const double *qs, size_t nq, double *out);
/* Estimated fraction of values <= x, in [0, 1]; NaN when empty. */
double sl_kll_rank(const sl_kll *s, double x);
/* CDF over strictly increasing split points: out[i] = estimated fraction of
 * values <= splits[i] for i < nsplits, and out[nsplits] = 1. So bin i's mass
 * is out[i] - out[i-1] with bins (-inf, s0], (s0, s1], ..., (s_last, +inf).
 * All NaN when empty. */
void sl_kll_cdf(const sl_kll *s, const double *splits, size_t nsplits, double *out);

typedef enum sl_kll_hist_mode {
    SL_KLL_HIST_EQUAL_WIDTH,   /* nbins equal-width bins from min to max */
    SL_KLL_HIST_QUANTILE,      /* edges at quantiles i / nbins (equal mass) */
} sl_kll_hist_mode;

/* Histogram with nbins bins: edges[0..nbins] (edges[0] = min, edges[nbins] =
 * max) and counts[0..nbins-1] summing to n; bin i holds values in
 * (edges[i], edges[i+1]], the first bin also holds min. Counts are the
 * sketch's estimates (exact while n <= k). Returns the number of bins
 * written: 0 when empty, 1 when min == max (then edges[0] = edges[1]),
 * and for quantile mode with ties, duplicate edges are merged, so fewer
 * than nbins may come back. */
size_t sl_kll_histogram(const sl_kll *s, size_t nbins, sl_kll_hist_mode mode,
                        double *edges, uint64_t *counts);

/* Appends the base64 image (no quotes). */
void sl_kll_to_base64(const sl_kll *s, sl_buf *out);
/* Initializes s from sl_kll_to_base64 text. Returns -1 with err filled (s
 * left with nothing to free) on invalid input. */
int sl_kll_from_base64(sl_kll *s, const char *text, size_t len, sl_error *err);

/* Bytes held from the allocator. */
size_t sl_kll_footprint(const sl_kll *s);

#endif
