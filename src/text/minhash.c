/* minhash.c — word shingles and MinHash signatures (see minhash.h).
 *
 * The cost is num_hashes / 4 multiply-and-reduce steps per shingle (each
 * feeding four minima), so the inner loop (over the shingles, one
 * permutation at a time) is kept branch-light: the modulus is the Mersenne
 * prime 2^61 - 1, whose reduction is two shifts and adds on a 128-bit
 * product, and an order costs one XOR and one compare. On a CPU with
 * AVX-512 the same values are computed for eight shingles at a time (four
 * 32-bit products per lane, see mins_avx512), about twice as fast again.
 * Words are hashed once each and a shingle's hash is the XXH3 of its words'
 * hashes, so no shingle text is ever built; a word of ASCII is hashed where
 * it lies in the text (or from a lowercased copy when it has capitals).
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#define XXH_INLINE_ALL   /* a word's and a shingle's hash without a library call (same values) */
#include <xxhash.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "minhash.h"
#include "text_chars.h"

#define MERSENNE_61 ((1ULL << 61) - 1)
/* Fixed: changing it changes every signature, and so which documents dedup
 * keeps. */
#define MINHASH_SEED 0x6d696e6861736831ULL   /* "minhash1" */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int sl_minhash_init(sl_minhash *m, int num_hashes, int shingle_words)
{
    int perms = (num_hashes + SL_MINHASH_ORDERS - 1) / SL_MINHASH_ORDERS;
    m->num_hashes = num_hashes;
    m->shingle_words = shingle_words;
    m->short_texts = true;
    m->a = malloc((size_t)perms * sizeof *m->a);
    m->b = malloc((size_t)perms * sizeof *m->b);
    if (!m->a || !m->b) {
        sl_minhash_free(m);
        return -1;
    }
    uint64_t state = MINHASH_SEED;
    for (int i = 0; i < perms; i++) {
        m->a[i] = splitmix64(&state) % (MERSENNE_61 - 1) + 1;
        m->b[i] = splitmix64(&state) % MERSENNE_61;
    }
    /* Order k compares h XOR flip[k]: its smallest values are those whose
     * top two bits are k, in an order of their other bits. */
    for (int k = 0; k < SL_MINHASH_ORDERS; k++)
        m->flip[k] = (uint64_t)k << 59 | (splitmix64(&state) & ((1ULL << 59) - 1));
    m->kernel = SL_MINHASH_KERNEL_SCALAR;
    for (int k = SL_MINHASH_KERNEL_SCALAR; k < SL_MINHASH_N_KERNELS; k++)
        if (sl_minhash_kernel_supported((sl_minhash_kernel)k)) m->kernel = (sl_minhash_kernel)k;
    return 0;
}

void sl_minhash_free(sl_minhash *m)
{
    free(m->a);
    free(m->b);
    m->a = m->b = NULL;
}

void sl_minhash_scratch_free(sl_minhash_scratch *s)
{
    free(s->words);
    s->words = NULL;
    s->cap = 0;
    sl_buf_free(&s->word);
}

bool sl_text_next_word(const char *s, size_t len, size_t *pos, sl_buf *word)
{
    size_t i = *pos, n;
    while (i < len) {
        utf8proc_int32_t cp = sl_text_char_at(s, len, i, &n);
        if (cp < 0 || !sl_text_is_space(cp)) break;
        i += n;
    }
    if (i >= len) {
        *pos = len;
        return false;
    }
    word->len = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {            /* ASCII fast path */
            if (sl_text_is_space(c)) break;
            sl_buf_putc(word, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
            i++;
            continue;
        }
        utf8proc_int32_t cp = sl_text_char_at(s, len, i, &n);
        if (cp < 0) {
            sl_buf_putc(word, (char)c);
        } else if (sl_text_is_space(cp)) {
            break;
        } else {
            utf8proc_uint8_t enc[4];
            utf8proc_ssize_t k = utf8proc_encode_char(utf8proc_tolower(cp), enc);
            sl_buf_append(word, enc, (size_t)k);
        }
        i += n;
    }
    *pos = i;
    return true;
}

/* (a * x + b) mod 2^61 - 1, for a, x, b < 2^61 - 1. The reduction must be
 * complete: a lazily reduced value (congruent, but sometimes p too large)
 * looks like a fine hash, yet measured on 300-word documents it nearly
 * doubles the spread of the similarity estimate. */
static inline uint64_t permute(uint64_t a, uint64_t x, uint64_t b)
{
    unsigned __int128 v = (unsigned __int128)a * x + b;
    uint64_t r = ((uint64_t)v & MERSENNE_61) + (uint64_t)(v >> 61);
    r = (r & MERSENNE_61) + (r >> 61);
    return r >= MERSENNE_61 ? r - MERSENNE_61 : r;
}

/* Folds shingle hashes xs[from..n) into the four minima of permutation
 * (a, b), one shingle at a time. */
static inline void mins_scalar(const uint64_t *xs, size_t from, size_t n, uint64_t a, uint64_t b,
                               const uint64_t flip[SL_MINHASH_ORDERS], uint64_t mins[SL_MINHASH_ORDERS])
{
    uint64_t m0 = mins[0], m1 = mins[1], m2 = mins[2], m3 = mins[3];
    for (size_t s = from; s < n; s++) {
        uint64_t h = permute(a, xs[s], b);
        uint64_t h0 = h ^ flip[0], h1 = h ^ flip[1], h2 = h ^ flip[2], h3 = h ^ flip[3];
        m0 = h0 < m0 ? h0 : m0;
        m1 = h1 < m1 ? h1 : m1;
        m2 = h2 < m2 ? h2 : m2;
        m3 = h3 < m3 ? h3 : m3;
    }
    mins[0] = m0;
    mins[1] = m1;
    mins[2] = m2;
    mins[3] = m3;
}

#if defined(__x86_64__)
/* Eight shingles at a time, in AVX-512 lanes, which have no 128-bit
 * product: with a = ah 2^32 + al and x = xh 2^32 + xl (ah, xh < 2^29),
 *   a x = ah xh 2^64 + (ah xl + al xh) 2^32 + al xl,
 * four 32 x 32-bit products, and modulo p = 2^61 - 1, 2^61 = 1, so
 * 2^64 = 8 and a number q 2^61 + r is q + r. Each of the six terms summed
 * below is under 2^61, the sum under 2^64, and two folds and a subtraction
 * give the complete reduction, the value permute() gives. */
__attribute__((target("avx512f"))) static void mins_avx512(const uint64_t *xs, size_t n, uint64_t a, uint64_t b,
                                                           const uint64_t flip[SL_MINHASH_ORDERS],
                                                           uint64_t mins[SL_MINHASH_ORDERS])
{
    _Static_assert(SL_MINHASH_ORDERS == 4, "the loop below keeps four minima");
    const __m512i p = _mm512_set1_epi64((long long)MERSENNE_61), low29 = _mm512_set1_epi64((1LL << 29) - 1);
    const __m512i al = _mm512_set1_epi64((long long)(a & 0xFFFFFFFFULL)), ah = _mm512_set1_epi64((long long)(a >> 32));
    const __m512i vb = _mm512_set1_epi64((long long)b);
    const __m512i f0 = _mm512_set1_epi64((long long)flip[0]), f1 = _mm512_set1_epi64((long long)flip[1]);
    const __m512i f2 = _mm512_set1_epi64((long long)flip[2]), f3 = _mm512_set1_epi64((long long)flip[3]);
    __m512i m0 = _mm512_set1_epi64(-1), m1 = m0, m2 = m0, m3 = m0;
    size_t s = 0;
    for (; s + 8 <= n; s += 8) {
        __m512i x = _mm512_loadu_si512(xs + s), xh = _mm512_srli_epi64(x, 32);
        __m512i lo = _mm512_mul_epu32(x, al);   /* the low 32 bits of each lane */
        __m512i mid = _mm512_add_epi64(_mm512_mul_epu32(x, ah), _mm512_mul_epu32(xh, al));
        __m512i hi = _mm512_mul_epu32(xh, ah);
        __m512i sum = _mm512_add_epi64(_mm512_slli_epi64(hi, 3), _mm512_srli_epi64(mid, 29));
        sum = _mm512_add_epi64(sum, _mm512_slli_epi64(_mm512_and_si512(mid, low29), 32));
        sum = _mm512_add_epi64(sum, _mm512_and_si512(lo, p));
        sum = _mm512_add_epi64(sum, _mm512_add_epi64(_mm512_srli_epi64(lo, 61), vb));
        __m512i h = _mm512_add_epi64(_mm512_and_si512(sum, p), _mm512_srli_epi64(sum, 61));
        h = _mm512_mask_sub_epi64(h, _mm512_cmpge_epu64_mask(h, p), h, p);
        m0 = _mm512_min_epu64(m0, _mm512_xor_si512(h, f0));
        m1 = _mm512_min_epu64(m1, _mm512_xor_si512(h, f1));
        m2 = _mm512_min_epu64(m2, _mm512_xor_si512(h, f2));
        m3 = _mm512_min_epu64(m3, _mm512_xor_si512(h, f3));
    }
    uint64_t lane[SL_MINHASH_ORDERS][8];
    _mm512_storeu_si512(lane[0], m0);
    _mm512_storeu_si512(lane[1], m1);
    _mm512_storeu_si512(lane[2], m2);
    _mm512_storeu_si512(lane[3], m3);
    for (int k = 0; k < SL_MINHASH_ORDERS; k++)
        for (int i = 0; i < 8; i++)
            if (lane[k][i] < mins[k]) mins[k] = lane[k][i];
    mins_scalar(xs, s, n, a, b, flip, mins);
}
#endif

static void mins_one_by_one(const uint64_t *xs, size_t n, uint64_t a, uint64_t b,
                            const uint64_t flip[SL_MINHASH_ORDERS], uint64_t mins[SL_MINHASH_ORDERS])
{
    mins_scalar(xs, 0, n, a, b, flip, mins);
}

typedef void (*mins_fn)(const uint64_t *, size_t, uint64_t, uint64_t, const uint64_t *, uint64_t *);

static const struct {
    const char *name;
    mins_fn fn;
} kernels[SL_MINHASH_N_KERNELS] = {
    [SL_MINHASH_KERNEL_SCALAR] = {"scalar", mins_one_by_one},
#if defined(__x86_64__)
    [SL_MINHASH_KERNEL_AVX512] = {"avx512", mins_avx512},
#else
    [SL_MINHASH_KERNEL_AVX512] = {"avx512", NULL},
#endif
};

bool sl_minhash_kernel_supported(sl_minhash_kernel k)
{
    if (k == SL_MINHASH_KERNEL_SCALAR) return true;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (k == SL_MINHASH_KERNEL_AVX512) return __builtin_cpu_supports("avx512f");
#endif
    return false;
}

const char *sl_minhash_kernel_name(sl_minhash_kernel k)
{
    return kernels[k].name;
}

bool sl_text_next_word_view(const char *text, size_t len, size_t *pos, sl_buf *word, const char **out,
                            size_t *out_len)
{
    size_t i = *pos;
    while (i < len && (unsigned char)text[i] < 0x80 && sl_text_is_space((unsigned char)text[i])) i++;
    size_t start = i;
    bool upper = false;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes at a time up to the first that may end the word (one
     * that is not ASCII or is at most ' '), where the byte loop takes over:
     * a word's end is then one branch, not one per byte. Adding 0x5F to a
     * byte under 0x80 sets its top bit when it is 0x21 or more, 0x3F when
     * 'A' or more, 0x25 when above 'Z'; a byte of 0x80 or more may carry
     * into the next, but only bytes before the first such are read. */
    while (i + 8 <= len) {
        uint64_t x;
        memcpy(&x, text + i, 8);
        const uint64_t top = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
        uint64_t stop = (x | ~(x + 0x5F * ones)) & top;
        uint64_t before = stop ? (stop & (0 - stop)) - 1 : ~0ULL;
        upper |= ((x + 0x3F * ones) & ~(x + 0x25 * ones) & top & before) != 0;
        if (!stop) {
            i += 8;
            continue;
        }
        i += (size_t)__builtin_ctzll(stop) / 8;
        break;
    }
#endif
    for (; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80) {   /* a non-ASCII letter, or a Unicode space */
            *pos = start;
            if (!sl_text_next_word(text, len, pos, word)) return false;
            *out = word->data;
            *out_len = word->len;
            return true;
        }
        if (sl_text_is_space(c)) break;
        upper |= c >= 'A' && c <= 'Z';
    }
    *pos = i;
    if (i == start) return false;   /* only at the end: whitespace was skipped */
    if (!upper) {
        *out = text + start;
        *out_len = i - start;
        return true;
    }
    word->len = 0;
    sl_buf_reserve(word, i - start);
    for (size_t k = start; k < i; k++) {
        char c = text[k];
        word->data[k - start] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    word->len = i - start;
    word->data[word->len] = '\0';
    *out = word->data;
    *out_len = word->len;
    return true;
}

void sl_text_join_words(const char *text, size_t len, sl_buf *word, sl_buf *out)
{
    size_t i = 0, first = out->len;
    for (;;) {
        while (i < len && (unsigned char)text[i] < 0x80 && sl_text_is_space((unsigned char)text[i])) i++;
        if (i >= len) break;
        /* room for a space and the rest of the text: a word of ASCII is as
         * long lowercased */
        if (out->cap - out->len < len - i + 1) sl_buf_reserve(out, len - i + 1);
        size_t at = out->len, start = i;
        char *o = out->data + at;
        if (at > first) *o++ = ' ';
        while (i < len) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* eight bytes lowercased at once, as in sl_text_next_word_view,
             * up to the first that may end the word (at most ' ', or not
             * ASCII); the bytes written past it are overwritten or beyond
             * out->len. There is room: eight bytes of text are left. */
            if (i + 8 <= len) {
                const uint64_t top = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
                uint64_t x;
                memcpy(&x, text + i, 8);
                uint64_t stop = (x | ~(x + 0x5F * ones)) & top;
                uint64_t lower = x | ((x + 0x3F * ones) & ~(x + 0x25 * ones) & top) >> 2;
                memcpy(o, &lower, 8);
                size_t k = stop ? (size_t)__builtin_ctzll(stop) / 8 : 8;
                i += k;
                o += k;
                if (!stop) continue;
            }
#endif
            unsigned char c = (unsigned char)text[i];
            if (c >= 0x80 || sl_text_is_space(c)) break;
            *o++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
        }
        if (i < len && (unsigned char)text[i] >= 0x80) {   /* not ASCII (or a Unicode space): the slow way */
            const char *w;
            size_t n;
            i = start;
            if (!sl_text_next_word_view(text, len, &i, word, &w, &n)) break;
            if (at > first) sl_buf_putc(out, ' ');
            sl_buf_append(out, w, n);
            continue;
        }
        out->len = (size_t)(o - out->data);
    }
    if (out->data) out->data[out->len] = '\0';
}

size_t sl_minhash_signature(const sl_minhash *m, sl_minhash_scratch *scratch, const char *text,
                            size_t len, uint16_t *sig)
{
    size_t n_words = 0, pos = 0, word_len;
    const char *word;
    while (sl_text_next_word_view(text, len, &pos, &scratch->word, &word, &word_len)) {
        if (n_words == scratch->cap) {
            scratch->cap = scratch->cap ? scratch->cap * 2 : 1024;
            scratch->words = realloc(scratch->words, scratch->cap * sizeof *scratch->words);
            if (!scratch->words) abort();
        }
        scratch->words[n_words++] = XXH3_64bits(word, word_len);
    }

    size_t k = (size_t)m->shingle_words;
    size_t n_shingles = n_words == 0              ? 0
                      : n_words >= k              ? n_words - k + 1
                      : m->short_texts            ? 1
                                                  : 0;
    /* The shingle hashes replace the word hashes in place: shingle s only
     * needs words s.. onwards. */
    uint64_t *xs = scratch->words;
    for (size_t s = 0; s < n_shingles; s++) {
        size_t width = n_words < k ? n_words : k;
        xs[s] = XXH3_64bits(xs + s, width * sizeof(uint64_t)) % MERSENNE_61;
    }
    /* One permutation at a time over all shingles; each of its four minima
     * keeps its low 16 bits (which its order compared last, so they are
     * uniform). */
    mins_fn fn = kernels[m->kernel].fn;
    for (int i = 0; SL_MINHASH_ORDERS * i < m->num_hashes; i++) {
        uint64_t mins[SL_MINHASH_ORDERS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
        fn(xs, n_shingles, m->a[i], m->b[i], m->flip, mins);
        for (int k = 0; k < SL_MINHASH_ORDERS && SL_MINHASH_ORDERS * i + k < m->num_hashes; k++)
            sig[SL_MINHASH_ORDERS * i + k] = (uint16_t)mins[k];
    }
    return n_shingles;
}

double sl_minhash_similarity(const uint16_t *a, const uint16_t *b, int num_hashes)
{
    int same = 0;
    for (int i = 0; i < num_hashes; i++) same += a[i] == b[i];
    return (double)same / num_hashes;
}
