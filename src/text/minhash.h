/* minhash.h — word shingles and MinHash signatures, for near-duplicate
 * detection (dedup's `mode: near`).
 *
 * A document is cut into words: maximal runs of characters that are not
 * Unicode whitespace, lowercased (simple Unicode case mapping). Its shingles
 * are the runs of `shingle_words` consecutive words (a document with fewer
 * words has one shingle, all of them, unless short_texts is false: then it
 * has none, as in datatrove). Each shingle is hashed to 64 bits with XXH3
 * over the hashes of its words. Each of ceil(num_hashes / 4) permutations
 * h_i(x) = (a_i * x + b_i) mod (2^61 - 1) gives four signature values, one
 * per order k = 0..3: the shingle whose h_i XOR flip[k] is smallest, where
 * flip[k] has k in its top two bits (and fixed random bits below). Order k
 * thus picks the smallest, in a scrambled order of the other bits, of the
 * shingles whose h_i has k in its top two bits — one permutation hashing
 * with four bins (Li, Owen, Zhang 2012); a bin that is empty, in a text of a
 * few shingles, takes its minimum from the others. Each position's minimum
 * is a uniformly random shingle of the document, so two documents agree at
 * a position with probability equal to their Jaccard similarity, and the
 * four positions of a permutation sample distinct shingles (as good as
 * independent, or better), at a quarter of the multiplications. The
 * fraction of positions in which two signatures agree estimates the Jaccard
 * similarity of the two shingle sets. The a_i, b_i and flips come from a
 * fixed seed, so signatures are the same on every run and machine.
 *
 * A position keeps the low 16 bits of its minimum (bits its order compares
 * last, so they are uniform): two different minima agree by chance with
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
#define SL_MINHASH_ORDERS 4      /* signature values per permutation */

/* How the permutations are computed: the same values either way, one
 * shingle at a time (scalar) or eight (AVX-512, chosen at init when the CPU
 * has it). */
typedef enum {
    SL_MINHASH_KERNEL_SCALAR,
    SL_MINHASH_KERNEL_AVX512,
    SL_MINHASH_N_KERNELS
} sl_minhash_kernel;

bool sl_minhash_kernel_supported(sl_minhash_kernel k);
const char *sl_minhash_kernel_name(sl_minhash_kernel k);

typedef struct sl_minhash {
    int num_hashes;
    int shingle_words;
    bool short_texts;    /* a text of fewer words than shingle_words is one shingle */
    uint64_t *a, *b;     /* the permutations, num_hashes / SL_MINHASH_ORDERS (rounded up) each */
    uint64_t flip[SL_MINHASH_ORDERS];   /* per order: what h is XORed with */
    sl_minhash_kernel kernel;           /* the best supported; tests may pick another */
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

/* The same word, as a view: of the text itself when it is ASCII without
 * capitals, else of word (lowercased there); sl_text_next_word's bytes
 * either way, without copying most words. */
bool sl_text_next_word_view(const char *s, size_t len, size_t *pos, sl_buf *word, const char **out,
                            size_t *out_len);

/* Appends to out the words of s[0..len) as sl_text_next_word gives them,
 * joined by single spaces (the text exact dedup's `normalize` keys on).
 * One pass, lowercasing as it copies, for words of ASCII; a word with a
 * byte of 0x80 or more is read by sl_text_next_word_view into word. */
void sl_text_join_words(const char *s, size_t len, sl_buf *word, sl_buf *out);

/* Computes the signature of text into sig[m->num_hashes] and returns the
 * number of shingles (0 for a text without shingles; sig is then all ones). */
size_t sl_minhash_signature(const sl_minhash *m, sl_minhash_scratch *scratch, const char *text,
                            size_t len, uint16_t *sig);

/* Estimated Jaccard similarity: the fraction of equal positions. */
double sl_minhash_similarity(const uint16_t *a, const uint16_t *b, int num_hashes);

#endif
