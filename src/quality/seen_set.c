/* seen_set.c — the bounded FIFO set of 128-bit hashes (see seen_set.h).
 * Entry number n lives in ring slot n % max_entries, so the oldest entry is
 * always the next slot to reuse.
 */
#include <stdlib.h>
#include <string.h>

#include "seen_set.h"

#define FIRST_SLOTS 1024

void sl_seen_set_init(sl_seen_set *s, uint64_t max_entries)
{
    memset(s, 0, sizeof *s);
    s->max_entries = max_entries;
}

void sl_seen_set_free(sl_seen_set *s)
{
    free(s->ring);
    sl_slot_table_free(&s->table);
    memset(s, 0, sizeof *s);
}

bool sl_seen_set_find(const sl_seen_set *s, sl_hash128 h, uint64_t *cluster)
{
    sl_slot_iter it;
    sl_slot_iter_init(&it, &s->table, (uint32_t)h.lo);
    uint32_t slot;
    while (sl_slot_iter_next(&it, &slot)) {
        const sl_seen_entry *e = &s->ring[slot];
        if (e->hash.lo == h.lo && e->hash.hi == h.hi) {
            *cluster = e->cluster;
            return true;
        }
    }
    return false;
}

void sl_seen_set_add(sl_seen_set *s, sl_hash128 h, uint64_t cluster)
{
    if (s->added - s->oldest == s->max_entries) {
        uint64_t old = s->oldest % s->max_entries;
        sl_slot_table_remove(&s->table, (uint32_t)s->ring[old].hash.lo, (uint32_t)old);
        s->oldest++;
        s->evictions++;
    }
    uint64_t slot = s->added % s->max_entries;
    if (slot >= s->slots) {   /* only before the ring first fills */
        uint64_t slots = s->slots ? s->slots * 2 : FIRST_SLOTS;
        if (slots > s->max_entries) slots = s->max_entries;
        s->ring = realloc(s->ring, slots * sizeof *s->ring);
        if (!s->ring) abort();
        s->slots = slots;
    }
    s->ring[slot] = (sl_seen_entry){ .hash = h, .cluster = cluster };
    sl_slot_table_add(&s->table, (uint32_t)h.lo, (uint32_t)slot);
    s->added++;
}

uint64_t sl_seen_set_count(const sl_seen_set *s)
{
    return s->added - s->oldest;
}

size_t sl_seen_set_bytes(const sl_seen_set *s)
{
    return s->slots * sizeof *s->ring + sl_slot_table_bytes(&s->table);
}
