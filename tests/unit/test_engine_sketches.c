/* test_engine_sketches.c — accuracy and merge tests for the sketches in
 * src/quality: HyperLogLog (hll.h), KLL quantiles (kll.h), space-saving top-k
 * (topk.h), and the hash the profile feeds them (sketch_hash.h). Every stream comes from a seeded generator, so the numbers are
 * the same on every run and the asserted bounds are checked, not sampled.
 *
 * Bounds asserted:
 *  - HLL: |estimate - n| / n <= 3 × 1.04 / sqrt(2^12) = 4.875 % (three
 *    standard errors), also over sl_sketch_hash of structured inputs
 *    (consecutive integers, multiples of 2^20, decimals, similar strings).
 *  - KLL: DataSketches publishes ε(k) = 2.296 / k^0.9723 as the 99 %-confidence
 *    single-query normalized rank error of this construction (1.05 % at
 *    k = 256). We assert the MAXIMUM error over 99 quantile queries and 99
 *    rank queries stays within ε(k); the observed maxima are well under it
 *    (about half), so a failure means a real bug, not bad luck.
 *  - top-k: the space-saving invariants (count - error <= true <= count,
 *    every value with true frequency > n / capacity tracked).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/util.h"
#include "sketch/hll.h"
#include "sketch/kll.h"
#include "sketch/sketch_hash.h"
#include "sketch/topk.h"

/* --- seeded generators */

static uint64_t rng_state;

static uint64_t rnd(void) {           /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

static double normal(void) {          /* Box–Muller */
    double u = uniform01(), v = uniform01();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --- HLL */

static double rel_error(double est, double truth) { return fabs(est - truth) / truth; }

static void test_hll_million(void) {
    sl_hll h;
    CHECK(sl_hll_init(&h, 12, NULL) == 0);
    CHECK(sl_hll_estimate(&h) == 0.0);
    double bound = 3 * 1.04 / sqrt(4096.0);
    for (uint64_t i = 1; i <= 1000000; i++) {
        sl_hll_add_hash(&h, sl_hash64(&i, sizeof i, 7));
        if (i == 10 || i == 100 || i == 1000 || i == 10000 || i == 100000) {
            double e = rel_error(sl_hll_estimate(&h), (double)i);
            CHECK(e <= bound);
            if (i <= 100)
                CHECK(e <= 0.02);       /* small range: nearly exact */
        }
    }
    double e = rel_error(sl_hll_estimate(&h), 1e6);
    fprintf(stderr, "  hll: 1e6 distinct, relative error %.4f (bound %.4f)\n", e, bound);
    CHECK(e <= bound);
    /* duplicates change nothing */
    double before = sl_hll_estimate(&h);
    for (uint64_t i = 1; i <= 1000; i++)
        sl_hll_add_hash(&h, sl_hash64(&i, sizeof i, 7));
    CHECK(sl_hll_estimate(&h) == before);
    sl_hll_free(&h);
}

static void test_hll_merge_and_serialize(void) {
    sl_hll a, b, u;
    sl_hll_init(&a, 12, NULL);
    sl_hll_init(&b, 12, NULL);
    sl_hll_init(&u, 12, NULL);
    for (uint64_t i = 0; i < 600000; i++) {      /* a: [0, 600k), b: [300k, 900k) */
        uint64_t h = sl_hash64(&i, sizeof i, 1);
        if (i < 600000) sl_hll_add_hash(&a, h);
        sl_hll_add_hash(&u, h);
    }
    for (uint64_t i = 300000; i < 900000; i++) {
        uint64_t h = sl_hash64(&i, sizeof i, 1);
        sl_hll_add_hash(&b, h);
        sl_hll_add_hash(&u, h);
    }
    CHECK(sl_hll_merge(&a, &b, NULL) == 0);
    CHECK(memcmp(a.regs, u.regs, 4096) == 0);     /* merge is exact */
    CHECK(rel_error(sl_hll_estimate(&a), 900000) <= 3 * 1.04 / 64);

    sl_buf text;
    sl_buf_init(&text);
    sl_hll_to_base64(&a, &text);
    CHECK_INT(text.len, 5464);                    /* 4096 bytes -> 4 × 1366 */
    sl_hll back;
    sl_error err;
    CHECK(sl_hll_from_base64(&back, text.data, text.len, &err) == 0);
    CHECK_INT(back.lg_k, 12);
    CHECK(memcmp(back.regs, a.regs, 4096) == 0);
    sl_hll_free(&back);

    CHECK(sl_hll_from_base64(&back, "AAAA", 4, &err) < 0);         /* 3 registers */
    CHECK(strstr(err.msg, "power of two") != NULL);
    CHECK(sl_hll_from_base64(&back, "AA*A", 4, &err) < 0);
    text.data[0] = '/';                                          /* register value 63 > 53 */
    CHECK(sl_hll_from_base64(&back, text.data, text.len, &err) < 0);
    CHECK(strstr(err.msg, "above the maximum") != NULL);

    sl_hll small;
    sl_hll_init(&small, 10, NULL);
    CHECK(sl_hll_merge(&a, &small, &err) < 0);
    CHECK(strstr(err.msg, "different sizes") != NULL);
    CHECK(sl_hll_init(&back, 3, &err) < 0);
    sl_hll_free(&small);
    sl_buf_free(&text);
    sl_hll_free(&a);
    sl_hll_free(&b);
    sl_hll_free(&u);
}

/* --- the profile's hash (sketch_hash.h) */

/* Distinct estimate of n values hashed with sl_sketch_hash, value(i) giving
 * the i-th (all distinct). */
static double sketch_hash_estimate(sl_value (*value)(uint64_t i, char *buf), uint64_t n) {
    sl_hll h;
    sl_hll_init(&h, 12, NULL);
    char buf[64];
    for (uint64_t i = 0; i < n; i++) {
        sl_value v = value(i, buf);
        sl_hll_add_hash(&h, sl_sketch_hash(&v));
    }
    double e = sl_hll_estimate(&h);
    sl_hll_free(&h);
    return e;
}

static sl_value consecutive_int(uint64_t i, char *buf) { (void)buf; return sl_int((int64_t)i - 100000); }
static sl_value spaced_int(uint64_t i, char *buf) { (void)buf; return sl_int((int64_t)(i << 20)); }
static sl_value cents(uint64_t i, char *buf) { (void)buf; return sl_double(0.5 + (double)i * 0.01); }
static sl_value seconds(uint64_t i, char *buf) { (void)buf; return sl_timestamp((int64_t)i * 1000000000); }
static sl_value email(uint64_t i, char *buf) {
    return sl_string(buf, (size_t)snprintf(buf, 64, "user%llu@example.com", (unsigned long long)i));
}

static void test_sketch_hash_distinct_counts(void) {
    static const struct { const char *name; sl_value (*value)(uint64_t, char *); } series[] = {
        {"consecutive ints", consecutive_int}, {"ints spaced by 2^20", spaced_int},
        {"decimals 0.01 apart", cents},        {"timestamps 1 s apart", seconds},
        {"similar strings", email},
    };
    double bound = 3 * 1.04 / 64;
    for (size_t k = 0; k < sizeof series / sizeof series[0]; k++) {
        for (uint64_t n = 1000; n <= 1000000; n *= 1000) {
            double e = rel_error(sketch_hash_estimate(series[k].value, n), (double)n);
            fprintf(stderr, "  sketch hash, %s: %llu distinct, relative error %.4f (bound %.4f)\n",
                    series[k].name, (unsigned long long)n, e, bound);
            CHECK(e <= bound);
        }
    }
}

static void test_sketch_hash_equality(void) {
    sl_value one_i = sl_int(1), one_d = sl_double(1.0), one_u = {.type = SL_UINT, .as.u = 1};
    CHECK(sl_sketch_hash(&one_i) == sl_sketch_hash(&one_d));
    CHECK(sl_sketch_hash(&one_i) == sl_sketch_hash(&one_u));
    sl_value zero = sl_int(0), neg_zero = sl_double(-0.0);
    CHECK(sl_sketch_hash(&zero) == sl_sketch_hash(&neg_zero));
    sl_value nan1 = sl_double(NAN), nan2 = sl_double(-NAN);
    CHECK(sl_sketch_hash(&nan1) == sl_sketch_hash(&nan2));
    sl_value big_u = {.type = SL_UINT, .as.u = 1ULL << 63}, big_d = sl_double(9223372036854775808.0);
    CHECK(sl_sketch_hash(&big_u) == sl_sketch_hash(&big_d));
    sl_value half = sl_double(0.5), minus_one = sl_int(-1);
    CHECK(sl_sketch_hash(&half) != sl_sketch_hash(&zero));
    CHECK(sl_sketch_hash(&minus_one) != sl_sketch_hash(&big_u));
    /* one payload, five types, five hashes */
    sl_value kinds[] = { sl_int(1), sl_string("1", 1), sl_bytes("1", 1), sl_bool(true), sl_timestamp(1) };
    for (size_t i = 0; i < 5; i++)
        for (size_t j = i + 1; j < 5; j++)
            CHECK(sl_sketch_hash(&kinds[i]) != sl_sketch_hash(&kinds[j]));
    CHECK(sl_sketch_hash(&kinds[1]) == sl_sketch_hash_string("1", 1));
}

/* --- KLL */

static double kll_bound(unsigned k) { return 2.296 / pow(k, 0.9723); }

/* Maximum normalized rank error of the sketch against the sorted data, over
 * quantile queries q = 0.01 .. 0.99 and rank queries at the true
 * percentiles. */
static double max_rank_error(const sl_kll *s, const double *sorted, size_t n) {
    double worst = 0, qs[99], est[99];
    for (int i = 0; i < 99; i++)
        qs[i] = (i + 1) / 100.0;
    sl_kll_quantiles(s, qs, 99, est);
    for (int i = 0; i < 99; i++) {
        /* true rank range of the returned value: [lo, hi] / n */
        size_t lo = 0, hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (sorted[m] < est[i]) lo = m + 1; else hi = m; }
        size_t first = lo;
        hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (sorted[m] <= est[i]) lo = m + 1; else hi = m; }
        double r_lo = (double)first / n, r_hi = (double)lo / n, e = 0;
        if (qs[i] < r_lo) e = r_lo - qs[i];
        else if (qs[i] > r_hi) e = qs[i] - r_hi;
        if (e > worst) worst = e;
        double x = sorted[(size_t)(qs[i] * n)];
        size_t at_most = 0;
        lo = 0; hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (sorted[m] <= x) lo = m + 1; else hi = m; }
        at_most = lo;
        e = fabs(sl_kll_rank(s, x) - (double)at_most / n);
        if (e > worst) worst = e;
    }
    return worst;
}

enum dist { UNIFORM, NORMAL, SKEWED };

static double draw(enum dist d) {
    switch (d) {
    case UNIFORM: return uniform01() * 1000.0;
    case NORMAL: return 50.0 + 10.0 * normal();
    case SKEWED: { double u = uniform01(); return pow(1.0 - u, -3.0); }  /* Pareto, alpha 1/3 */
    }
    return 0;
}

static void check_distribution(enum dist d, const char *name, size_t n) {
    rng_state = 42 + d;
    double *data = malloc(n * sizeof *data);
    sl_kll s;
    CHECK(sl_kll_init(&s, 256, 0, NULL) == 0);
    for (size_t i = 0; i < n; i++) {
        data[i] = draw(d);
        sl_kll_add(&s, data[i]);
    }
    qsort(data, n, sizeof *data, cmp_double);
    double e = max_rank_error(&s, data, n);
    fprintf(stderr, "  kll %-7s n=%zu: max rank error %.4f (bound %.4f), %u levels, %u retained\n",
            name, n, e, kll_bound(256), s.num_levels, s.cap - s.levels[0]);
    CHECK(e <= kll_bound(256));
    CHECK_INT(s.n, n);
    CHECK(s.min == data[0] && s.max == data[n - 1]);
    CHECK(sl_kll_quantile(&s, 0) == data[0]);
    CHECK(sl_kll_quantile(&s, 1) == data[n - 1]);
    CHECK(sl_kll_rank(&s, data[n - 1]) == 1.0);
    CHECK(sl_kll_rank(&s, data[0] - 1) == 0.0);
    /* bounded memory: about 3k values whatever n */
    CHECK(s.cap <= 3 * 256 + 8 * 20);
    /* histogram counts add up to n */
    double edges[11];
    uint64_t counts[10], sum = 0;
    size_t bins = sl_kll_histogram(&s, 10, SL_KLL_HIST_EQUAL_WIDTH, edges, counts);
    CHECK_INT(bins, 10);
    for (size_t i = 0; i < bins; i++) sum += counts[i];
    CHECK_INT(sum, n);
    CHECK(edges[0] == data[0] && edges[10] == data[n - 1]);
    bins = sl_kll_histogram(&s, 4, SL_KLL_HIST_QUANTILE, edges, counts);
    CHECK_INT(bins, 4);
    for (size_t i = 0; i < bins; i++)
        CHECK(fabs((double)counts[i] / n - 0.25) <= 2 * kll_bound(256));
    sl_kll_free(&s);
    free(data);
}

static void test_kll_distributions(void) {
    check_distribution(UNIFORM, "uniform", 1000000);
    check_distribution(NORMAL, "normal", 300000);
    check_distribution(SKEWED, "skewed", 300000);
}

static void test_kll_small_is_exact(void) {
    sl_kll s;
    sl_kll_init(&s, 256, 0, NULL);
    CHECK(isnan(sl_kll_quantile(&s, 0.5)));
    CHECK(isnan(sl_kll_rank(&s, 1)));
    double edges[3]; uint64_t counts[2];
    CHECK_INT(sl_kll_histogram(&s, 2, SL_KLL_HIST_EQUAL_WIDTH, edges, counts), 0);
    for (int i = 100; i >= 1; i--)
        sl_kll_add(&s, i);
    sl_kll_add(&s, NAN);
    sl_kll_add(&s, INFINITY);
    CHECK_INT(s.n, 100);
    CHECK(sl_kll_quantile(&s, 0.5) == 50);
    CHECK(sl_kll_quantile(&s, 0.99) == 99);
    CHECK(sl_kll_rank(&s, 25) == 0.25);
    double splits[2] = { 10, 90 }, cdf[3];
    sl_kll_cdf(&s, splits, 2, cdf);
    CHECK(cdf[0] == 0.10 && cdf[1] == 0.90 && cdf[2] == 1.0);
    CHECK_INT(sl_kll_histogram(&s, 2, SL_KLL_HIST_EQUAL_WIDTH, edges, counts), 2);
    CHECK(edges[0] == 1 && edges[1] == 50.5 && edges[2] == 100);
    CHECK_INT(counts[0], 50);
    CHECK_INT(counts[1], 50);
    sl_kll_free(&s);

    sl_kll c;                                   /* a constant stream: one bin */
    sl_kll_init(&c, 8, 0, NULL);
    for (int i = 0; i < 1000; i++) sl_kll_add(&c, 3.5);
    CHECK_INT(sl_kll_histogram(&c, 10, SL_KLL_HIST_QUANTILE, edges, counts), 1);
    CHECK(edges[0] == 3.5 && edges[1] == 3.5);
    CHECK_INT(counts[0], 1000);
    CHECK(sl_kll_quantile(&c, 0.3) == 3.5);
    sl_kll_free(&c);
}

static void test_kll_merge(void) {
    size_t n = 200000;
    double *data = malloc(2 * n * sizeof *data);
    sl_kll a, b, whole;
    sl_kll_init(&a, 256, 1, NULL);
    sl_kll_init(&b, 256, 2, NULL);
    sl_kll_init(&whole, 256, 3, NULL);
    rng_state = 99;
    for (size_t i = 0; i < n; i++) {            /* a: normal around 50, b: uniform 0..1000 */
        data[i] = draw(NORMAL);
        sl_kll_add(&a, data[i]);
        data[n + i] = draw(UNIFORM);
        sl_kll_add(&b, data[n + i]);
    }
    for (size_t i = 0; i < 2 * n; i++)
        sl_kll_add(&whole, data[i]);
    sl_kll_merge(&a, &b);
    CHECK_INT(a.n, 2 * n);
    qsort(data, 2 * n, sizeof *data, cmp_double);
    double em = max_rank_error(&a, data, 2 * n), ew = max_rank_error(&whole, data, 2 * n);
    fprintf(stderr, "  kll merge: max rank error merged %.4f, single sketch %.4f (bound %.4f)\n",
            em, ew, kll_bound(256));
    CHECK(em <= kll_bound(256));
    CHECK(ew <= kll_bound(256));
    CHECK(a.min == data[0] && a.max == data[2 * n - 1]);
    CHECK(a.cap <= 3 * 256 + 8 * 20);

    /* many small merges (as per-worker profiles do) */
    sl_kll acc;
    sl_kll_init(&acc, 256, 0, NULL);
    for (int part = 0; part < 50; part++) {
        sl_kll p;
        sl_kll_init(&p, 256, (uint64_t)part + 1, NULL);
        for (size_t i = 0; i < 1000; i++)
            sl_kll_add(&p, (double)(part * 1000 + (int)i));
        sl_kll_merge(&acc, &p);
        sl_kll_free(&p);
    }
    CHECK_INT(acc.n, 50000);
    CHECK(fabs(sl_kll_quantile(&acc, 0.5) / 50000 - 0.5) <= kll_bound(256));
    sl_kll_free(&acc);
    sl_kll_free(&a);
    sl_kll_free(&b);
    sl_kll_free(&whole);
    free(data);
}

static void test_kll_deterministic_and_serialize(void) {
    sl_kll a, b;
    sl_kll_init(&a, 64, 0, NULL);
    sl_kll_init(&b, 64, 0, NULL);
    rng_state = 5;
    for (int i = 0; i < 100000; i++) {
        double x = draw(SKEWED);
        sl_kll_add(&a, x);
        sl_kll_add(&b, x);
    }
    sl_buf ta, tb;
    sl_buf_init(&ta);
    sl_buf_init(&tb);
    sl_kll_to_base64(&a, &ta);
    sl_kll_to_base64(&b, &tb);
    CHECK(ta.len == tb.len && memcmp(ta.data, tb.data, ta.len) == 0);
    sl_kll back;
    sl_error err;
    CHECK(sl_kll_from_base64(&back, ta.data, ta.len, &err) == 0);
    CHECK(back.n == a.n && back.min == a.min && back.max == a.max && back.k == 64);
    CHECK(sl_kll_quantile(&back, 0.37) == sl_kll_quantile(&a, 0.37));
    tb.len = 0;
    sl_kll_to_base64(&back, &tb);
    CHECK(ta.len == tb.len && memcmp(ta.data, tb.data, ta.len) == 0);
    /* the decoded sketch keeps working identically */
    sl_kll_add(&back, 1.5);
    sl_kll_add(&a, 1.5);
    CHECK(sl_kll_quantile(&back, 0.5) == sl_kll_quantile(&a, 0.5));
    sl_kll_free(&back);

    CHECK(sl_kll_from_base64(&back, "AAAA", 4, &err) < 0);
    CHECK(strstr(err.msg, "too short") != NULL);
    ta.data[4] = 'B';                           /* k's high byte: k out of range */
    CHECK(sl_kll_from_base64(&back, ta.data, ta.len, &err) < 0);
    CHECK(strstr(err.msg, "k ") != NULL);
    CHECK(sl_kll_init(&back, 4, 0, &err) < 0);
    sl_buf_free(&ta);
    sl_buf_free(&tb);
    sl_kll_free(&a);
    sl_kll_free(&b);
}

/* --- top-k */

/* A Zipf(s = 1.1) stream over `values` ranks, by inverse CDF. */
static size_t zipf_draw(const double *cdf, size_t values) {
    double u = uniform01();
    size_t lo = 0, hi = values - 1;
    while (lo < hi) { size_t m = (lo + hi) / 2; if (cdf[m] < u) lo = m + 1; else hi = m; }
    return lo;
}

static void fill_zipf(double *cdf, size_t values) {
    double sum = 0;
    for (size_t i = 0; i < values; i++) sum += 1.0 / pow((double)(i + 1), 1.1);
    double acc = 0;
    for (size_t i = 0; i < values; i++) { acc += 1.0 / pow((double)(i + 1), 1.1) / sum; cdf[i] = acc; }
}

static void check_invariants(const sl_topk *t, const uint64_t *truth, size_t values, uint64_t n) {
    char name[32];
    size_t tracked_heavy = 0, heavy = 0;
    for (size_t v = 0; v < values; v++) {
        if (truth[v] * t->capacity <= n)
            continue;
        heavy++;
        int len = snprintf(name, sizeof name, "value-%zu", v);
        for (uint32_t i = 0; i < t->size; i++) {
            const sl_topk_entry *e = &t->entries[i];
            if (e->len == (uint32_t)len && memcmp(e->value, name, len) == 0) {
                tracked_heavy++;
                CHECK(e->count >= truth[v]);
                CHECK(e->count - e->error <= truth[v]);
            }
        }
    }
    CHECK(heavy >= 10);
    CHECK_INT(tracked_heavy, heavy);
}

static void test_topk_zipf(void) {
    enum { VALUES = 5000, N = 300000 };
    double *cdf = malloc(VALUES * sizeof *cdf);
    uint64_t *truth = calloc(VALUES, sizeof *truth);
    fill_zipf(cdf, VALUES);
    sl_topk t, a, b;
    CHECK(sl_topk_init(&t, 128, 64, NULL) == 0);
    sl_topk_init(&a, 128, 64, NULL);
    sl_topk_init(&b, 128, 64, NULL);
    rng_state = 2026;
    char name[32];
    for (size_t i = 0; i < N; i++) {
        size_t v = zipf_draw(cdf, VALUES);
        truth[v]++;
        int len = snprintf(name, sizeof name, "value-%zu", v);
        sl_topk_add(&t, name, (size_t)len);
        sl_topk_add(i % 2 ? &a : &b, name, (size_t)len);
    }
    CHECK_INT(t.size, 128);
    check_invariants(&t, truth, VALUES, N);
    /* the top 5 come out in the true order (Zipf ranks 0..4 are far apart) */
    size_t n;
    const sl_topk_entry **sorted = sl_topk_sorted(&t, &n);
    CHECK_INT(n, 128);
    for (int r = 0; r < 5; r++) {
        int len = snprintf(name, sizeof name, "value-%d", r);
        CHECK_MEM(sorted[r]->value, sorted[r]->len, name);
        CHECK((size_t)len == sorted[r]->len);
    }
    CHECK(sl_topk_min_count(&t) <= N / 128);
    free(sorted);

    sl_topk_merge(&a, &b);
    check_invariants(&a, truth, VALUES, N);
    sorted = sl_topk_sorted(&a, &n);
    CHECK_MEM(sorted[0]->value, sorted[0]->len, "value-0");
    free(sorted);

    /* JSON round trip through the decoder */
    sl_buf js;
    sl_buf_init(&js);
    sl_topk_to_json(&t, &js);
    CHECK(strncmp(js.data, "[{\"value\":\"value-0\",\"count\":", 28) == 0);
    sl_buf_free(&js);
    free(cdf);
    free(truth);
    sl_topk_free(&t);
    sl_topk_free(&a);
    sl_topk_free(&b);
}

static void test_topk_truncation_and_eviction(void) {
    sl_topk t;
    sl_topk_init(&t, 2, 4, NULL);
    sl_topk_add(&t, "abcdef", 6);            /* stored as "abcd", truncated */
    sl_topk_add(&t, "abcdxy", 6);            /* same identity */
    sl_topk_add(&t, "\xc3\xa9\xc3\xa9\xc3\xa9", 6); /* "ééé" cut to "éé" (4 bytes) */
    CHECK_INT(t.size, 2);
    size_t n;
    const sl_topk_entry **s = sl_topk_sorted(&t, &n);
    CHECK_MEM(s[0]->value, s[0]->len, "abcd");
    CHECK_INT(s[0]->count, 2);
    CHECK(s[0]->truncated);
    CHECK_MEM(s[1]->value, s[1]->len, "\xc3\xa9\xc3\xa9");
    free(s);
    sl_topk_add(&t, "z", 1);                 /* evicts "éé" (count 1): z gets count 2, error 1 */
    s = sl_topk_sorted(&t, &n);
    CHECK_MEM(s[1]->value, s[1]->len, "z");
    CHECK_INT(s[1]->count, 2);
    CHECK_INT(s[1]->error, 1);
    CHECK(!s[1]->truncated);
    free(s);
    sl_buf js;
    sl_buf_init(&js);
    sl_topk_to_json(&t, &js);
    CHECK_STR(js.data, "[{\"value\":\"abcd\",\"count\":2,\"error\":0,\"truncated\":true},"
                       "{\"value\":\"z\",\"count\":2,\"error\":1}]");
    sl_buf_free(&js);
    sl_topk_add(&t, "\xff\xfe", 2);          /* not UTF-8: base64 in JSON */
    sl_topk_add(&t, "\xff\xfe", 2);
    sl_topk_add(&t, "\xff\xfe", 2);
    sl_buf_init(&js);
    sl_topk_to_json(&t, &js);
    CHECK(strstr(js.data, "{\"value_base64\":\"//4=\",\"count\":5,\"error\":2}") != NULL);
    sl_buf_free(&js);
    sl_topk_free(&t);
}

int main(void) {
    RUN(test_hll_million);
    RUN(test_hll_merge_and_serialize);
    RUN(test_sketch_hash_equality);
    RUN(test_sketch_hash_distinct_counts);
    RUN(test_kll_small_is_exact);
    RUN(test_kll_distributions);
    RUN(test_kll_merge);
    RUN(test_kll_deterministic_and_serialize);
    RUN(test_topk_zipf);
    RUN(test_topk_truncation_and_eviction);
    return check_report();
}
