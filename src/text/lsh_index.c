/* lsh_index.c — the bounded MinHash LSH index (see lsh_index.h).
 *
 * Documents live in a ring: insert number n sits in slot n % max_documents,
 * so the oldest document is always the next slot to reuse. Before the ring
 * first fills, its arrays grow by doubling, so a small corpus costs little.
 * A band's hash is XXH3 over its rows, seeded with the band number; the band
 * tables store its low 32 bits and candidates are confirmed against the
 * signatures, so a 32-bit collision costs a comparison, never a wrong answer.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lsh_index.h"

#include "../codec/json_state.h"
#include "../codec/b64.h"

#define FIRST_SLOTS 1024

static uint32_t band_hash(const sl_lsh_index *x, const uint16_t *sig, int band)
{
    return (uint32_t)XXH3_64bits_withSeed(sig + (size_t)band * x->rows, (size_t)x->rows * sizeof *sig,
                                          (uint64_t)band);
}

static const uint16_t *slot_sig(const sl_lsh_index *x, uint64_t slot)
{
    return x->sigs + slot * (uint64_t)x->num_hashes;
}

int sl_lsh_index_init(sl_lsh_index *x, int bands, int rows, int num_hashes, uint64_t max_documents)
{
    memset(x, 0, sizeof *x);
    x->bands = bands;
    x->rows = rows;
    x->num_hashes = num_hashes;
    x->max_documents = max_documents;
    x->tables = calloc((size_t)bands, sizeof *x->tables);
    return x->tables ? 0 : -1;
}

void sl_lsh_index_free(sl_lsh_index *x)
{
    if (x->tables)
        for (int b = 0; b < x->bands; b++) sl_slot_table_free(&x->tables[b]);
    free(x->tables);
    free(x->sigs);
    free(x->clusters);
    memset(x, 0, sizeof *x);
}

/* Do a and b agree on all n values? (Inline: a band is a few values, and
 * a popular band value is compared with many candidates.) */
static bool values_equal(const uint16_t *a, const uint16_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* How many of the n values of a and b are equal: eight at a time with
 * SSE2 (an equal lane compares as -1 and is subtracted from a per-lane
 * count, summed at the end; n is at most SL_MINHASH_MAX_HASHES, 1024, so a
 * lane counts at most 128), else four at a time, a 16-bit lane of a ^ b being zero
 * exactly when its low 15 bits plus 0x7FFF leave its top bit clear and its
 * own top bit is clear too. */
static int values_same(const uint16_t *a, const uint16_t *b, int n)
{
    const uint64_t low15 = 0x7FFF7FFF7FFF7FFFULL;
    int same = 0, i = 0;
#if defined(__SSE2__)
    __m128i counts = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        counts = _mm_sub_epi16(counts, _mm_cmpeq_epi16(x, y));
    }
    __m128i sum = _mm_madd_epi16(counts, _mm_set1_epi16(1));   /* four 32-bit sums of lane pairs */
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
    same = _mm_cvtsi128_si32(sum);
#endif
    for (; i + 4 <= n; i += 4) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        uint64_t d = x ^ y;
        uint64_t zero = ~(((d & low15) + low15) | d | low15);   /* the top bit of each zero lane */
        same += (int)((zero >> 15) * 0x0001000100010001ULL >> 48);
    }
    for (; i < n; i++) same += a[i] == b[i];
    return same;
}

/* Does a candidate agree with sig on a band before `band`? It was then
 * found and compared in that band already (its band values give the same
 * band hash), with the same result. */
static bool shares_earlier_band(const sl_lsh_index *x, const uint16_t *other, const uint16_t *sig, int band)
{
    for (int e = 0; e < band; e++)
        if (values_equal(other + (size_t)e * x->rows, sig + (size_t)e * x->rows, x->rows)) return true;
    return false;
}

/* A candidate: a slot whose band `band` has sig's band hash. */
typedef struct candidate {
    uint32_t slot;
    int band;
} candidate;

/* Candidates gathered before any is compared: their signatures are
 * prefetched as they are found, so that the cache misses (each is a random
 * slot, and a popular band value has many) overlap instead of coming one
 * after another. */
#define GATHERED 32

typedef struct best {
    bool found;
    uint64_t age;
    sl_lsh_match *match;
} best;

static void compare(const sl_lsh_index *x, const uint16_t *sig, double cutoff, const candidate *c, size_t n,
                    best *best)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t slot = c[i].slot;
        int b = c[i].band;
        const uint16_t *other = slot_sig(x, slot);
        if (!values_equal(other + (size_t)b * x->rows, sig + (size_t)b * x->rows, x->rows))
            continue;   /* a 32-bit band hash collision */
        if (shares_earlier_band(x, other, sig, b)) continue;
        int same = values_same(other, sig, x->num_hashes);
        double sim = (double)same / x->num_hashes;
        if (sim < cutoff) continue;
        /* age: how many inserts ago this slot was filled (smaller = older
         * means larger age); ties go to the oldest document. */
        uint64_t newest_slot = (x->inserted - 1) % x->max_documents;
        uint64_t age = (newest_slot + x->max_documents - slot) % x->max_documents;
        if (!best->found || sim > best->match->similarity || (sim == best->match->similarity && age > best->age)) {
            best->found = true;
            best->age = age;
            best->match->similarity = sim;
            best->match->cluster = x->clusters[slot];
        }
    }
}

/* The best match does not depend on the order candidates are compared in
 * (the most similar, then the oldest: one slot each), so candidates are
 * gathered and compared in groups, and a candidate that shares several
 * bands with sig (a near duplicate shares most) is compared once, from the
 * first of them. */
bool sl_lsh_index_query(const sl_lsh_index *x, const uint16_t *sig, double cutoff, sl_lsh_match *match)
{
    best best = {false, 0, match};
    candidate c[GATHERED];
    size_t n = 0;
    size_t sig_bytes = (size_t)x->num_hashes * sizeof *sig;
    for (int b = 0; b < x->bands; b++) {
        sl_slot_iter it;
        sl_slot_iter_init(&it, &x->tables[b], band_hash(x, sig, b));
        uint32_t slot;
        while (sl_slot_iter_next(&it, &slot)) {
            const char *other = (const char *)slot_sig(x, slot);
            for (size_t off = 0; off < sig_bytes; off += 64) __builtin_prefetch(other + off);
            __builtin_prefetch(other + sig_bytes - 1);
            c[n++] = (candidate){slot, b};
            if (n == GATHERED) {
                compare(x, sig, cutoff, c, n, &best);
                n = 0;
            }
        }
    }
    compare(x, sig, cutoff, c, n, &best);
    return best.found;
}

static void evict_oldest(sl_lsh_index *x)
{
    uint64_t slot = x->oldest % x->max_documents;
    const uint16_t *sig = slot_sig(x, slot);
    for (int b = 0; b < x->bands; b++) sl_slot_table_remove(&x->tables[b], band_hash(x, sig, b), (uint32_t)slot);
    x->oldest++;
    x->evictions++;
}

void sl_lsh_index_insert(sl_lsh_index *x, const uint16_t *sig, uint64_t cluster)
{
    if (x->inserted - x->oldest == x->max_documents) evict_oldest(x);
    uint64_t slot = x->inserted % x->max_documents;
    if (slot >= x->slots) {   /* only before the ring first fills */
        uint64_t slots = x->slots ? x->slots * 2 : FIRST_SLOTS;
        if (slots > x->max_documents) slots = x->max_documents;
        x->sigs = realloc(x->sigs, slots * (uint64_t)x->num_hashes * sizeof *x->sigs);
        x->clusters = realloc(x->clusters, slots * sizeof *x->clusters);
        if (!x->sigs || !x->clusters) abort();
        x->slots = slots;
    }
    memcpy(x->sigs + slot * (uint64_t)x->num_hashes, sig, (size_t)x->num_hashes * sizeof *sig);
    x->clusters[slot] = cluster;
    for (int b = 0; b < x->bands; b++) sl_slot_table_add(&x->tables[b], band_hash(x, sig, b), (uint32_t)slot);
    x->inserted++;
}

uint64_t sl_lsh_index_documents(const sl_lsh_index *x)
{
    return x->inserted - x->oldest;
}

uint64_t sl_lsh_index_entries(const sl_lsh_index *x)
{
    uint64_t n = 0;
    for (int b = 0; b < x->bands; b++) n += x->tables[b].count;
    return n;
}

size_t sl_lsh_index_bytes(const sl_lsh_index *x)
{
    size_t n = x->slots * ((size_t)x->num_hashes * sizeof *x->sigs + sizeof *x->clusters);
    for (int b = 0; b < x->bands; b++) n += sl_slot_table_bytes(&x->tables[b]);
    return n + (size_t)x->bands * sizeof *x->tables;
}

void sl_lsh_index_save(const sl_lsh_index *x, sl_buf *out)
{
    uint64_t n = sl_lsh_index_documents(x);
    sl_buf_reserve(out, (n * ((size_t)x->num_hashes * 2 + 8) / 3 + 2) * 4 + 128);   /* tens of MB: grow once */
    sl_buf_printf(out, "{\"documents\":%llu,\"evictions\":%llu,\"signatures\":\"", (unsigned long long)n,
                  (unsigned long long)x->evictions);
    sl_b64_writer w;
    sl_b64_writer_init(&w, out);
    for (uint64_t i = 0; i < n; i++) {
        const uint16_t *sig = slot_sig(x, (x->oldest + i) % x->max_documents);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        sl_b64_put_bytes(&w, sig, (size_t)x->num_hashes * sizeof *sig);   /* the same bytes, at once */
#else
        for (int k = 0; k < x->num_hashes; k++) sl_b64_put_u16(&w, sig[k]);
#endif
    }
    sl_b64_writer_finish(&w);
    sl_buf_puts(out, "\",\"clusters\":\"");
    for (uint64_t i = 0; i < n; i++) sl_b64_put_u64(&w, x->clusters[(x->oldest + i) % x->max_documents]);
    sl_b64_writer_finish(&w);
    sl_buf_puts(out, "\"}");
}

int sl_lsh_index_restore(sl_lsh_index *x, const sl_value *state, sl_error *err)
{
    uint64_t n, evictions;
    if (!sl_state_uint(state, "documents", &n) || !sl_state_uint(state, "evictions", &evictions))
        return sl_errorf(err, "\"documents\" or \"evictions\" is missing or not a count");
    size_t sig_bytes = (size_t)x->num_hashes * sizeof(uint16_t);
    uint8_t *sigs = sl_b64_state_array(state, "signatures", n, sig_bytes, err);
    if (!sigs) return -1;
    uint8_t *clusters = sl_b64_state_array(state, "clusters", n, 8, err);
    uint16_t *sig = malloc((size_t)x->num_hashes * sizeof *sig);
    if (!sig) abort();
    for (uint64_t i = 0; clusters && i < n; i++) {
        const uint8_t *p = sigs + i * sig_bytes;
        for (int k = 0; k < x->num_hashes; k++) sig[k] = (uint16_t)(p[2 * k] | p[2 * k + 1] << 8);
        sl_lsh_index_insert(x, sig, sl_get_le64(clusters + 8 * i));
    }
    x->evictions += evictions;
    int rc = clusters ? 0 : -1;
    free(sig);
    free(sigs);
    free(clusters);
    return rc;
}
