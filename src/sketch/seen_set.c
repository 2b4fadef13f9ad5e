/* seen_set.c — the bounded FIFO set of 128-bit hashes (see seen_set.h).
 * Entry number n lives in ring slot n % max_entries, so the oldest entry is
 * always the next slot to reuse.
 */
#include <stdlib.h>
#include <string.h>

#include "seen_set.h"

#include "../codec/json_state.h"
#include "../codec/b64.h"

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

void sl_seen_set_save(const sl_seen_set *s, bool with_clusters, sl_buf *out)
{
    uint64_t n = sl_seen_set_count(s);
    sl_buf_reserve(out, (n * 24 / 3 + 2) * 4 + 128);   /* tens of MB: grow once */
    sl_buf_printf(out, "{\"entries\":%llu,\"evictions\":%llu,\"hashes\":\"", (unsigned long long)n,
                  (unsigned long long)s->evictions);
    sl_b64_writer w;
    sl_b64_writer_init(&w, out);
    for (uint64_t i = 0; i < n; i++) {
        const sl_seen_entry *e = &s->ring[(s->oldest + i) % s->max_entries];
        sl_b64_put_u64(&w, e->hash.lo);
        sl_b64_put_u64(&w, e->hash.hi);
    }
    sl_b64_writer_finish(&w);
    if (with_clusters) {
        sl_buf_puts(out, "\",\"clusters\":\"");
        for (uint64_t i = 0; i < n; i++) sl_b64_put_u64(&w, s->ring[(s->oldest + i) % s->max_entries].cluster);
        sl_b64_writer_finish(&w);
    }
    sl_buf_puts(out, "\"}");
}

int sl_seen_set_restore(sl_seen_set *s, const sl_value *state, sl_error *err)
{
    uint64_t n, evictions;
    if (!sl_state_uint(state, "entries", &n) || !sl_state_uint(state, "evictions", &evictions))
        return sl_errorf(err, "\"entries\" or \"evictions\" is missing or not a count");
    uint8_t *hashes = sl_b64_state_array(state, "hashes", n, 16, err);
    if (!hashes) return -1;
    uint8_t *clusters = NULL;
    if (sl_state_get(state, "clusters") && !(clusters = sl_b64_state_array(state, "clusters", n, 8, err))) {
        free(hashes);
        return -1;
    }
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        sl_hash128 h = {.lo = sl_get_le64(hashes + 16 * i), .hi = sl_get_le64(hashes + 16 * i + 8)};
        uint64_t cluster;
        if (sl_seen_set_find(s, h, &cluster))
            rc = sl_errorf(err, "entry %llu repeats an earlier hash", (unsigned long long)i);
        else
            sl_seen_set_add(s, h, clusters ? sl_get_le64(clusters + 8 * i) : 0);
    }
    s->evictions += evictions;
    free(hashes);
    free(clusters);
    return rc;
}
