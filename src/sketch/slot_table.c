/* slot_table.c — hash -> slot multimap with linear probing (see
 * slot_table.h). An entry's home bucket is its hash masked by the capacity,
 * so the table can grow and shift entries without asking the caller to
 * re-hash anything.
 */
#include <stdlib.h>

#include "slot_table.h"

#define FIRST_CAP 1024

static inline size_t home(uint64_t entry, size_t mask)
{
    return (size_t)(entry >> 32) & mask;
}

void sl_slot_table_free(sl_slot_table *t)
{
    free(t->entries);
    t->entries = NULL;
    t->cap = t->count = 0;
}

static void place(uint64_t *entries, size_t mask, uint64_t entry)
{
    size_t i = home(entry, mask);
    while (entries[i]) i = (i + 1) & mask;
    entries[i] = entry;
}

static void grow(sl_slot_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : FIRST_CAP;
    uint64_t *entries = calloc(cap, sizeof *entries);
    if (!entries) abort();
    for (size_t i = 0; i < t->cap; i++)
        if (t->entries[i]) place(entries, cap - 1, t->entries[i]);
    free(t->entries);
    t->entries = entries;
    t->cap = cap;
}

void sl_slot_table_add(sl_slot_table *t, uint32_t hash, uint32_t slot)
{
    if ((t->count + 1) * 2 > t->cap) grow(t);
    place(t->entries, t->cap - 1, (uint64_t)hash << 32 | ((uint64_t)slot + 1));
    t->count++;
}

bool sl_slot_table_remove(sl_slot_table *t, uint32_t hash, uint32_t slot)
{
    if (!t->cap) return false;
    size_t mask = t->cap - 1;
    uint64_t want = (uint64_t)hash << 32 | ((uint64_t)slot + 1);
    size_t i = hash & mask;
    while (t->entries[i] && t->entries[i] != want) i = (i + 1) & mask;
    if (!t->entries[i]) return false;
    /* Backward shift: pull later entries of the run into the hole when
     * their home lies at or before it (cyclically). */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->entries[j]) break;
        size_t k = home(t->entries[j], mask);
        bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
        if (movable) {
            t->entries[i] = t->entries[j];
            i = j;
        }
    }
    t->entries[i] = 0;
    t->count--;
    return true;
}

size_t sl_slot_table_bytes(const sl_slot_table *t)
{
    return t->cap * sizeof *t->entries;
}

void sl_slot_iter_init(sl_slot_iter *it, const sl_slot_table *t, uint32_t hash)
{
    it->t = t;
    it->hash = hash;
    it->i = t->cap ? hash & (t->cap - 1) : 0;
}

bool sl_slot_iter_next(sl_slot_iter *it, uint32_t *slot)
{
    const sl_slot_table *t = it->t;
    if (!t->cap) return false;
    while (t->entries[it->i]) {
        uint64_t e = t->entries[it->i];
        it->i = (it->i + 1) & (t->cap - 1);
        if ((uint32_t)(e >> 32) == it->hash) {
            *slot = (uint32_t)e - 1;
            return true;
        }
    }
    return false;
}
