/* seen_set.h — a bounded set of 128-bit content hashes, for dedup's
 * `mode: exact`.
 *
 * Each hash is remembered with a cluster id (the caller's number for the
 * first record that had it). The hashes sit in a ring of max_entries slots
 * and a slot_table maps their low 32 bits to slots. When the ring is full,
 * adding a hash first forgets the oldest one (FIFO) and counts an eviction: a
 * later copy of a forgotten record is no longer recognised. Memory grows with
 * use up to 40-56 bytes per entry.
 *
 * Checkpoints: sl_seen_set_save writes the entries held, oldest first, and
 * sl_seen_set_restore adds them back in that order to an empty set, so the
 * restored set evicts in the same order as the saved one would have (when
 * the restored set is smaller, only the newest entries fit).
 *
 * Not thread-safe: the caller serialises access.
 */
#ifndef SL_SEEN_SET_H
#define SL_SEEN_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"
#include "slot_table.h"

#define SL_SEEN_MAX_ENTRIES (1ULL << 31)

typedef struct sl_hash128 {
    uint64_t lo, hi;
} sl_hash128;

typedef struct sl_seen_entry {
    sl_hash128 hash;
    uint64_t cluster;
} sl_seen_entry;

typedef struct sl_seen_set {
    uint64_t max_entries;
    sl_seen_entry *ring;
    uint64_t slots;          /* allocated (grows up to max_entries) */
    uint64_t added, oldest;  /* add numbers: all time, and the oldest held */
    uint64_t evictions;
    sl_slot_table table;
} sl_seen_set;

/* max_entries in 1..SL_SEEN_MAX_ENTRIES. */
void sl_seen_set_init(sl_seen_set *s, uint64_t max_entries);
void sl_seen_set_free(sl_seen_set *s);
/* True with *cluster when h is in the set. */
bool sl_seen_set_find(const sl_seen_set *s, sl_hash128 h, uint64_t *cluster);
/* Adds h (not already in the set), evicting the oldest when full. */
void sl_seen_set_add(sl_seen_set *s, sl_hash128 h, uint64_t cluster);
uint64_t sl_seen_set_count(const sl_seen_set *s);
size_t sl_seen_set_bytes(const sl_seen_set *s);

/* Appends the set as a JSON object:
 *   {"entries":N,"evictions":N,"hashes":"<base64>","clusters":"<base64>"}
 * hashes: 16 bytes per entry (low, high 64 bits), clusters: 8 bytes per
 * entry, both little-endian and oldest first; clusters only when
 * with_clusters (a caller that never uses them saves a third). */
void sl_seen_set_save(const sl_seen_set *s, bool with_clusters, sl_buf *out);
/* Adds the entries of a saved object (a parsed sl_seen_set_save text) to s,
 * which must be empty, and adds its evictions. Clusters absent from the
 * state are 0. Returns 0, or -1 with err when the state is damaged (s may
 * then hold part of it: restore into a fresh set and swap). */
int sl_seen_set_restore(sl_seen_set *s, const sl_value *state, sl_error *err);

#endif
