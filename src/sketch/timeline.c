/* timeline.c — a histogram of instants over aligned buckets of doubling width
 * (see timeline.h for the model and why merging is exact).
 *
 * Spans are computed in unsigned arithmetic: b - a for int64 a <= b fits in
 * a uint64, and an aligned start is the instant with its low bits cleared,
 * which rounds towards minus infinity in two's complement and never
 * overflows (INT64_MIN is a multiple of every power of two).
 */
#include "timeline.h"

#include <math.h>
#include <string.h>

static int64_t align_down(int64_t x, unsigned k) {
    return (int64_t)((uint64_t)x & ~((UINT64_C(1) << k) - 1));
}

static uint64_t span(int64_t from, int64_t to) {
    return (uint64_t)to - (uint64_t)from;
}

static int64_t bucket_start(const sl_timeline *t, unsigned i) {
    return (int64_t)((uint64_t)t->start + ((uint64_t)i << t->width_log2));
}

void sl_timeline_init(sl_timeline *t) {
    memset(t, 0, sizeof *t);
}

/* The first and last buckets in use (t->n > 0). */
static void used(const sl_timeline *t, unsigned *first, unsigned *last) {
    unsigned f = 0, l = SL_TIMELINE_BUCKETS - 1;
    while (!t->counts[f]) f++;
    while (!t->counts[l]) l--;
    *first = f;
    *last = l;
}

/* Widens t (width 2^min_k at least) until its buckets cover lo .. hi and
 * every bucket in use, moving each old bucket into the new one holding it. */
static void rebase(sl_timeline *t, int64_t lo, int64_t hi, unsigned min_k) {
    unsigned k = t->width_log2 > min_k ? t->width_log2 : min_k;
    if (t->n) {
        unsigned f, l;
        used(t, &f, &l);
        if (bucket_start(t, f) < lo) lo = bucket_start(t, f);
        if (bucket_start(t, l) > hi) hi = bucket_start(t, l);
    }
    while (k < SL_TIMELINE_MAX_WIDTH_LOG2 && span(align_down(lo, k), hi) >> k >= SL_TIMELINE_BUCKETS)
        k++;
    int64_t start = align_down(lo, k);
    uint64_t counts[SL_TIMELINE_BUCKETS] = {0};
    for (unsigned i = 0; i < SL_TIMELINE_BUCKETS; i++)
        if (t->counts[i])
            counts[span(start, bucket_start(t, i)) >> k] += t->counts[i];
    memcpy(t->counts, counts, sizeof counts);
    t->start = start;
    t->width_log2 = k;
}

static bool inside(const sl_timeline *t, int64_t ns) {
    return ns >= t->start && span(t->start, ns) >> t->width_log2 < SL_TIMELINE_BUCKETS;
}

void sl_timeline_add(sl_timeline *t, int64_t ns) {
    if (t->n == 0) {
        t->start = ns;
        t->width_log2 = 0;
    } else if (!inside(t, ns)) {
        rebase(t, ns, ns, t->width_log2);
    }
    t->counts[span(t->start, ns) >> t->width_log2]++;
    t->n++;
}

void sl_timeline_merge(sl_timeline *dst, const sl_timeline *src) {
    if (src->n == 0)
        return;
    if (dst->n == 0) {
        *dst = *src;
        return;
    }
    unsigned f, l;
    used(src, &f, &l);
    rebase(dst, bucket_start(src, f), bucket_start(src, l), src->width_log2);
    for (unsigned i = f; i <= l; i++)
        dst->counts[span(dst->start, bucket_start(src, i)) >> dst->width_log2] += src->counts[i];
    dst->n += src->n;
}

double sl_timeline_gap_share(const sl_timeline *t) {
    if (t->n == 0)
        return NAN;
    unsigned f, l, empty = 0;
    used(t, &f, &l);
    if (l == f)
        return NAN;
    for (unsigned i = f; i <= l; i++)
        empty += t->counts[i] == 0;
    return (double)empty / (double)(l - f + 1);
}

void sl_timeline_to_json(const sl_timeline *t, sl_buf *out) {
    sl_buf_printf(out, "{\"start_ns\":%lld,\"width_ns\":%llu,\"counts\":[", (long long)t->start,
                  (unsigned long long)(UINT64_C(1) << t->width_log2));
    const char *sep = "";
    for (unsigned i = 0; i < SL_TIMELINE_BUCKETS; i++) {
        if (!t->counts[i])
            continue;
        sl_buf_printf(out, "%s[%u,%llu]", sep, i, (unsigned long long)t->counts[i]);
        sep = ",";
    }
    sl_buf_puts(out, "]}");
}

static bool as_u64(const sl_value *v, uint64_t *out) {
    if (v && v->type == SL_INT && v->as.i >= 0) { *out = (uint64_t)v->as.i; return true; }
    if (v && v->type == SL_UINT) { *out = v->as.u; return true; }
    return false;
}

int sl_timeline_from_value(sl_timeline *t, const sl_value *v, sl_error *err) {
    sl_timeline_init(t);
    const sl_value *start = v && v->type == SL_MAP ? sl_map_get(v, "start_ns", 8) : NULL;
    const sl_value *counts = v && v->type == SL_MAP ? sl_map_get(v, "counts", 6) : NULL;
    uint64_t width;
    if (!start || start->type != SL_INT || !as_u64(v ? sl_map_get(v, "width_ns", 8) : NULL, &width) ||
        width == 0 || (width & (width - 1)) || !counts || counts->type != SL_ARRAY)
        return sl_errorf(err, "timeline: \"start_ns\" (an integer), \"width_ns\" (a power of two) and \"counts\" "
                         "(an array) are required");
    t->width_log2 = (unsigned)__builtin_ctzll(width);
    t->start = start->as.i;
    if (t->width_log2 > SL_TIMELINE_MAX_WIDTH_LOG2 || align_down(t->start, t->width_log2) != t->start)
        return sl_errorf(err, "timeline: width_ns above 2^%d, or start_ns not a multiple of it",
                         SL_TIMELINE_MAX_WIDTH_LOG2);
    for (uint32_t i = 0; i < counts->len; i++) {
        const sl_value *pair = &counts->as.items[i];
        uint64_t b, n;
        if (pair->type != SL_ARRAY || pair->len != 2 || !as_u64(&pair->as.items[0], &b) ||
            !as_u64(&pair->as.items[1], &n) || b >= SL_TIMELINE_BUCKETS || n == 0 || t->counts[b] ||
            __builtin_add_overflow(t->n, n, &t->n))
            return sl_errorf(err, "timeline: \"counts\" must hold [bucket, count] pairs, buckets 0 to %d once "
                             "each, counts above 0", SL_TIMELINE_BUCKETS - 1);
        if ((b << t->width_log2) > span(t->start, INT64_MAX))
            return sl_errorf(err, "timeline: bucket %llu starts after the last representable instant",
                             (unsigned long long)b);
        t->counts[b] = n;
    }
    return 0;
}
