/* minhash.c — word shingles and MinHash signatures (see minhash.h).
 *
 * The cost is num_hashes / 2 multiply-and-reduce steps per shingle, so the
 * inner loop (over the shingles, one permutation at a time) is kept
 * branch-light: the modulus is the Mersenne prime 2^61 - 1,
 * whose reduction is two shifts and adds on a 128-bit product. Words are
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
    int perms = (num_hashes + 1) / 2;
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

/* h rotated so that its low 30 bits come first: the second order. */
static inline uint64_t rotate_low_first(uint64_t h)
{
    return ((h & ((1ULL << 30) - 1)) << 31) | (h >> 30);
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
    /* One permutation at a time over all shingles, so both minima stay in
     * registers; the low 16 bits of each are below the 30 (or 31) bits its
     * order compared first. */
    for (int i = 0; 2 * i < m->num_hashes; i++) {
        uint64_t a = m->a[i], b = m->b[i], min_h = UINT64_MAX, min_r = UINT64_MAX;
        for (size_t s = 0; s < n_shingles; s++) {
            uint64_t h = permute(a, xs[s], b);
            uint64_t r = rotate_low_first(h);
            min_h = h < min_h ? h : min_h;
            min_r = r < min_r ? r : min_r;
        }
        sig[2 * i] = (uint16_t)min_h;
        if (2 * i + 1 < m->num_hashes) sig[2 * i + 1] = (uint16_t)min_r;
    }
    return n_shingles;
}

double sl_minhash_similarity(const uint16_t *a, const uint16_t *b, int num_hashes)
{
    int same = 0;
    for (int i = 0; i < num_hashes; i++) same += a[i] == b[i];
    return (double)same / num_hashes;
}
