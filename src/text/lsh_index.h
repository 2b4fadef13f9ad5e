/* lsh_index.h — a bounded streaming MinHash LSH index, for dedup's
 * `mode: near`.
 *
 * Each indexed document keeps its signature (minhash.h) in a ring of
 * max_documents slots. The first bands * rows values of the signature are
 * cut into `bands` bands of `rows` values (the rest only sharpen the
 * estimate); per band a table (slot_table.h) maps the band's hash to the
 * slots whose band is identical. A query collects the documents that share at
 * least one band with it (the LSH candidates), estimates each candidate's
 * Jaccard similarity from the full signatures, and returns the most similar
 * one when it reaches the caller's cutoff (0: every candidate qualifies, the
 * plain bucket rule). Two documents of Jaccard similarity s become
 * candidates with probability 1 - (1 - s^rows)^bands.
 *
 * Memory is bounded by max_documents: when the ring is full, inserting a
 * document first evicts the oldest one (FIFO) with its band entries, and
 * counts an eviction. A later near-duplicate of an evicted document is no
 * longer detected. Memory grows with use (tables double), up to about
 * 2 * num_hashes + 8 + (16 to 32) * bands bytes per document.
 *
 * Checkpoints: sl_lsh_index_save writes the signatures and cluster ids of
 * the documents held, oldest first (the band tables are rebuilt from them),
 * and sl_lsh_index_restore inserts them in that order into an empty index,
 * so the restored index answers and evicts as the saved one would have
 * (when the restored index is smaller, only the newest documents fit).
 *
 * Not thread-safe: the caller serialises access.
 */
#ifndef SL_LSH_INDEX_H
#define SL_LSH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"
#include "../sketch/slot_table.h"

#define SL_LSH_MAX_DOCUMENTS (1ULL << 31)

typedef struct sl_lsh_index {
    int bands, rows, num_hashes;
    uint64_t max_documents;
    uint16_t *sigs;             /* slots * num_hashes */
    uint64_t *clusters;         /* per slot: the caller's cluster id */
    uint64_t slots;             /* allocated slots (grows up to max_documents) */
    uint64_t inserted;          /* documents ever inserted */
    uint64_t oldest;            /* insert number of the oldest document held */
    uint64_t evictions;
    sl_slot_table *tables;      /* one per band */
} sl_lsh_index;

typedef struct sl_lsh_match {
    uint64_t cluster;           /* of the matching document */
    double similarity;          /* estimated Jaccard similarity */
} sl_lsh_match;

/* bands * rows <= num_hashes, max_documents in 1..SL_LSH_MAX_DOCUMENTS.
 * Returns -1 when out of memory. */
int sl_lsh_index_init(sl_lsh_index *x, int bands, int rows, int num_hashes, uint64_t max_documents);
void sl_lsh_index_free(sl_lsh_index *x);

/* Finds the candidate most similar to sig (ties: the oldest); true with
 * *match when its similarity is at least cutoff. */
bool sl_lsh_index_query(const sl_lsh_index *x, const uint16_t *sig, double cutoff, sl_lsh_match *match);
/* Indexes sig under cluster id `cluster`, evicting the oldest document when
 * the index is full. */
void sl_lsh_index_insert(sl_lsh_index *x, const uint16_t *sig, uint64_t cluster);

uint64_t sl_lsh_index_documents(const sl_lsh_index *x);
/* Band entries held (documents * bands). */
uint64_t sl_lsh_index_entries(const sl_lsh_index *x);
size_t sl_lsh_index_bytes(const sl_lsh_index *x);

/* Appends the index as a JSON object:
 *   {"documents":N,"evictions":N,"signatures":"<base64>","clusters":"<base64>"}
 * signatures: num_hashes 16-bit values per document, clusters: 8 bytes per
 * document, both little-endian and oldest first. */
void sl_lsh_index_save(const sl_lsh_index *x, sl_buf *out);
/* Inserts the documents of a saved object (a parsed sl_lsh_index_save text,
 * written with the same num_hashes) into x, which must be empty, and adds
 * its evictions. Returns 0, or -1 with err when the state is damaged (x may
 * then hold part of it: restore into a fresh index and swap). */
int sl_lsh_index_restore(sl_lsh_index *x, const sl_value *state, sl_error *err);

#endif
