/* slot_table.h — a compact hash multimap from a 32-bit hash to 32-bit slot
 * numbers, the bucket structure under dedup's indexes.
 *
 * The indexes keep their documents (keys, signatures, cluster ids) in a
 * ring of slots; this table only maps a hash to the slots that may hold a
 * match, in 8 bytes per entry, and the caller confirms each candidate
 * against the slot's full key. Several slots may share a hash. Open
 * addressing with linear probing, at most half full (it doubles when
 * needed), and backward-shift deletion, so removing entries (eviction)
 * leaves no tombstones behind.
 */
#ifndef SL_SLOT_TABLE_H
#define SL_SLOT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_slot_table {
    uint64_t *entries;   /* hash << 32 | (slot + 1); 0 = empty */
    size_t cap, count;   /* cap is a power of two, or 0 */
} sl_slot_table;

void sl_slot_table_free(sl_slot_table *t);
/* Adds (hash, slot); slot < UINT32_MAX. Aborts when out of memory. */
void sl_slot_table_add(sl_slot_table *t, uint32_t hash, uint32_t slot);
/* Removes one (hash, slot) entry; false when there was none. */
bool sl_slot_table_remove(sl_slot_table *t, uint32_t hash, uint32_t slot);
size_t sl_slot_table_bytes(const sl_slot_table *t);

/* The slots stored under a hash:
 *   sl_slot_iter it; sl_slot_iter_init(&it, t, h);
 *   while (sl_slot_iter_next(&it, &slot)) ... */
typedef struct sl_slot_iter {
    const sl_slot_table *t;
    uint32_t hash;
    size_t i;
} sl_slot_iter;

void sl_slot_iter_init(sl_slot_iter *it, const sl_slot_table *t, uint32_t hash);
bool sl_slot_iter_next(sl_slot_iter *it, uint32_t *slot);

#endif
