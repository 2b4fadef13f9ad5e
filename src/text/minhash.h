/* minhash.h — word shingles and MinHash signatures, for near-duplicate
 * detection (dedup's `mode: near`).
 *
 * A document is cut into words: maximal runs of characters that are not
 * Unicode whitespace, lowercased (simple Unicode case mapping). Its shingles
 * are the runs of `shingle_words` consecutive words (a document with fewer
 * words has one shingle, all of them). Each shingle is hashed to 64 bits with
 * XXH3 over the hashes of its words, and the signature is, for each of
 * num_hashes permutations h_i(x) = (a_i * x + b_i) mod (2^61 - 1), the
 * minimum of h_i over the document's shingles. The fraction of positions in
 * which two signatures agree estimates the Jaccard similarity of the two
 * shingle sets. The a_i and b_i come from a fixed seed, so signatures are the
 * same on every run and machine.
 *
 * Signatures are kept as 32-bit values (the low bits of each minimum): that
 * halves the index and adds a 2^-32 chance per position of a false agreement,
 * far below MinHash's own estimation error.
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
    uint64_t *a, *b;     /* the permutations, num_hashes each */
} sl_minhash;

/* num_hashes in 1..SL_MINHASH_MAX_HASHES, shingle_words >= 1. Returns -1
 * only when out of memory. */
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
 * number of shingles (0 for a text without words; sig is then all ones). */
size_t sl_minhash_signature(const sl_minhash *m, sl_minhash_scratch *scratch, const char *text,
                            size_t len, uint32_t *sig);

/* Estimated Jaccard similarity: the fraction of equal positions. */
double sl_minhash_similarity(const uint32_t *a, const uint32_t *b, int num_hashes);

#endif
