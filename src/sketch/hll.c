/* hll.c — HyperLogLog with Ertl's improved estimator (see hll.h). */
#include "hll.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../codec/b64.h"

int sl_hll_init(sl_hll *h, unsigned lg_k, sl_error *err) {
    h->lg_k = 0;
    h->regs = NULL;
    if (lg_k < SL_HLL_MIN_LG_K || lg_k > SL_HLL_MAX_LG_K)
        return sl_errorf(err, "hll lg_k %u is out of range (%d to %d)", lg_k,
                         SL_HLL_MIN_LG_K, SL_HLL_MAX_LG_K);
    h->regs = calloc((size_t)1 << lg_k, 1);
    if (!h->regs)
        abort();
    h->lg_k = lg_k;
    return 0;
}

void sl_hll_free(sl_hll *h) {
    free(h->regs);
    h->regs = NULL;
}

void sl_hll_clear(sl_hll *h) {
    memset(h->regs, 0, (size_t)1 << h->lg_k);
}

/* sigma and tau from Ertl (2017), section 4: series that converge in a few
 * dozen steps to double precision. */
static double sigma(double x) {
    if (x == 1.0)
        return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

static double tau(double x) {
    if (x == 0.0 || x == 1.0)
        return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

double sl_hll_estimate(const sl_hll *h) {
    unsigned p = h->lg_k, q = 64 - p;
    size_t m = (size_t)1 << p;
    uint32_t hist[66] = { 0 };
    for (size_t i = 0; i < m; i++)
        hist[h->regs[i]]++;
    double md = (double)m;
    double z = md * tau(1.0 - hist[q + 1] / md);
    for (unsigned k = q; k >= 1; k--)
        z = 0.5 * (z + hist[k]);
    z += md * sigma(hist[0] / md);
    return md * md / (2.0 * log(2.0)) / z;
}

int sl_hll_merge(sl_hll *dst, const sl_hll *src, sl_error *err) {
    if (dst->lg_k != src->lg_k)
        return sl_errorf(err, "cannot merge HyperLogLog sketches of different sizes "
                         "(lg_k %u and %u); profile both with the same hll_lg_k",
                         dst->lg_k, src->lg_k);
    size_t m = (size_t)1 << dst->lg_k;
    for (size_t i = 0; i < m; i++)
        if (src->regs[i] > dst->regs[i])
            dst->regs[i] = src->regs[i];
    return 0;
}

void sl_hll_to_base64(const sl_hll *h, sl_buf *out) {
    sl_base64_encode(out, h->regs, (size_t)1 << h->lg_k);
}

int sl_hll_from_base64(sl_hll *h, const char *text, size_t len, sl_error *err) {
    h->lg_k = 0;
    h->regs = NULL;
    uint8_t *regs;
    size_t n;
    if (!sl_quality_b64_decode(text, len, &regs, &n))
        return sl_errorf(err, "hll: invalid base64");
    unsigned lg_k = 0;
    while (lg_k <= SL_HLL_MAX_LG_K && ((size_t)1 << lg_k) != n)
        lg_k++;
    if (lg_k < SL_HLL_MIN_LG_K || lg_k > SL_HLL_MAX_LG_K) {
        free(regs);
        return sl_errorf(err, "hll: %zu registers is not a power of two between 2^%d and 2^%d",
                         n, SL_HLL_MIN_LG_K, SL_HLL_MAX_LG_K);
    }
    for (size_t i = 0; i < n; i++) {
        if (regs[i] > 65 - lg_k) {
            unsigned value = regs[i];
            free(regs);
            return sl_errorf(err, "hll: register %zu holds %u, above the maximum %u",
                             i, value, 65 - lg_k);
        }
    }
    h->lg_k = lg_k;
    h->regs = regs;
    return 0;
}
