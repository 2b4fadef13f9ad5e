/* minhash.c — word shingles and MinHash signatures (see minhash.h).
 *
 * The cost is num_hashes / 4 multiply-and-reduce steps per shingle (each
 * feeding four minima), so the inner loop (over the shingles, one
 * permutation at a time) is kept branch-light: the modulus is the Mersenne
 * prime 2^61 - 1, whose reduction is two shifts and adds on a 128-bit
 * product, and an order costs one XOR and one compare. Words are
 * hashed once each and a shingle's hash is the XXH3 of its words' hashes, so
 * no shingle text is ever built.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#include <xxhash.h>

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

size_t sl_minhash_signature(const sl_minhash *m, sl_minhash_scratch *scratch, const char *text,
                            size_t len, uint16_t *sig)
{
    size_t n_words = 0, pos = 0;
    while (sl_text_next_word(text, len, &pos, &scratch->word)) {
        if (n_words == scratch->cap) {
            scratch->cap = scratch->cap ? scratch->cap * 2 : 1024;
            scratch->words = realloc(scratch->words, scratch->cap * sizeof *scratch->words);
            if (!scratch->words) abort();
        }
        scratch->words[n_words++] = XXH3_64bits(scratch->word.data, scratch->word.len);
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
    /* One permutation at a time over all shingles, so its four minima stay
     * in registers; each keeps its low 16 bits (which its order compared
     * last, so they are uniform). */
    _Static_assert(SL_MINHASH_ORDERS == 4, "the loop below keeps four minima");
    const uint64_t f0 = m->flip[0], f1 = m->flip[1], f2 = m->flip[2], f3 = m->flip[3];
    for (int i = 0; SL_MINHASH_ORDERS * i < m->num_hashes; i++) {
        uint64_t a = m->a[i], b = m->b[i];
        uint64_t m0 = UINT64_MAX, m1 = UINT64_MAX, m2 = UINT64_MAX, m3 = UINT64_MAX;
        for (size_t s = 0; s < n_shingles; s++) {
            uint64_t h = permute(a, xs[s], b);
            uint64_t h0 = h ^ f0, h1 = h ^ f1, h2 = h ^ f2, h3 = h ^ f3;
            m0 = h0 < m0 ? h0 : m0;
            m1 = h1 < m1 ? h1 : m1;
            m2 = h2 < m2 ? h2 : m2;
            m3 = h3 < m3 ? h3 : m3;
        }
        uint64_t mins[SL_MINHASH_ORDERS] = {m0, m1, m2, m3};
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
