/* minhash.h — word shingles and MinHash signatures, for near-duplicate
 * detection (dedup's `mode: near`).
 *
 * A document is cut into words: maximal runs of characters that are not
 * Unicode whitespace, lowercased (simple Unicode case mapping). Its shingles
 * are the runs of `shingle_words` consecutive words (a document with fewer
 * words has one shingle, all of them, unless short_texts is false: then it
 * has none, as in datatrove). Each shingle is hashed to 64 bits with XXH3
 * over the hashes of its words. Each of ceil(num_hashes / 2) permutations
 * h_i(x) = (a_i * x + b_i) mod (2^61 - 1) gives two signature values: the
 * shingle whose h_i is smallest, and the one whose h_i is smallest when its
 * low 30 bits are compared first (the 61-bit value rotated). Both orders
 * are random and independent for a pseudo-random h_i, so each position is an
 * independent MinHash at half the multiplications. The fraction of positions
 * in which two signatures agree estimates the Jaccard similarity of the two
 * shingle sets. The a_i and b_i come from a fixed seed, so signatures are the
 * same on every run and machine.
 *
 * A position keeps 16 bits of its minimum (bits the order did not depend on
 * first, so they are uniform): two different minima agree by chance with
 * probability 2^-16, which biases the estimate by at most 1.5e-5 — far below
 * MinHash's own error (about 0.025 with 256 values) — and lets a 256-value
 * signature take the room a 128-value one of 32-bit values would.
 */
#ifndef SL_MINHASH_H
#define SL_MINHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"

#define SL_MINHASH_MAX_HASHES 1024

typedef struct sl_minhash {
    int num_hashes;
    int shingle_words;
    bool short_texts;    /* a text of fewer words than shingle_words is one shingle */
    uint64_t *a, *b;     /* the permutations, (num_hashes + 1) / 2 each */
} sl_minhash;

/* num_hashes in 1..SL_MINHASH_MAX_HASHES, shingle_words >= 1; short_texts
 * starts true. Returns -1 only when out of memory. */
int sl_minhash_init(sl_minhash *m, int num_hashes, int shingle_words);
void sl_minhash_free(sl_minhash *m);

/* Scratch space for one thread (word hashes), reused across documents. */
typedef struct sl_minhash_scratch {
    uint64_t *words;
    size_t cap;
    sl_buf word;         /* the current word, lowercased */
} sl_minhash_scratch;

void sl_minhash_scratch_free(sl_minhash_scratch *s);

/* Writes the next word of s[0..len) starting at *pos, lowercased, into
 * word (replacing its contents) and advances *pos past it; returns false at
 * the end of the text. Invalid UTF-8 bytes are kept as they are. */
bool sl_text_next_word(const char *s, size_t len, size_t *pos, sl_buf *word);

/* Computes the signature of text into sig[m->num_hashes] and returns the
 * number of shingles (0 for a text without shingles; sig is then all ones). */
size_t sl_minhash_signature(const sl_minhash *m, sl_minhash_scratch *scratch, const char *text,
                            size_t len, uint16_t *sig);

/* Estimated Jaccard similarity: the fraction of equal positions. */
double sl_minhash_similarity(const uint16_t *a, const uint16_t *b, int num_hashes);

#endif
