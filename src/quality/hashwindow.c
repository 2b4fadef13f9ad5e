/* hashwindow.c — bounded "seen recently" set of 64-bit hashes (see
 * hashwindow.h).
 *
 * The table has a power-of-two number of slots, at least twice the window,
 * so probes stay short. Hash 0 marks an empty slot; a real hash of 0 is
 * stored as 1 (a harmless extra collision). Deletion on eviction uses
 * backward-shift deletion, so there are no tombstones and lookups never
 * slow down over a long run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hashwindow.h"

struct sl_hashwindow {
    uint64_t *slots;     /* the table; 0 = empty */
    size_t mask;         /* slots - 1 */
    uint64_t *ring;      /* insertion order, `window` entries */
    size_t window, head, count;
};

static void *checked_calloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    return p;
}

sl_hashwindow *sl_hashwindow_new(size_t window) {
    sl_hashwindow *w = checked_calloc(1, sizeof *w);
    size_t slots = 16;
    while (slots < window * 2) slots *= 2;
    w->slots = checked_calloc(slots, sizeof *w->slots);
    w->mask = slots - 1;
    w->window = window ? window : 1;
    w->ring = checked_calloc(w->window, sizeof *w->ring);
    return w;
}

void sl_hashwindow_free(sl_hashwindow *w) {
    if (!w) return;
    free(w->slots);
    free(w->ring);
    free(w);
}

size_t sl_hashwindow_size(const sl_hashwindow *w) {
    return w->count;
}

/* The slot holding h, or the empty slot where it would go. */
static size_t find(const sl_hashwindow *w, uint64_t h) {
    size_t i = (size_t)(h ^ (h >> 29)) & w->mask;
    while (w->slots[i] != 0 && w->slots[i] != h) i = (i + 1) & w->mask;
    return i;
}

static void remove_hash(sl_hashwindow *w, uint64_t h) {
    size_t i = find(w, h);
    if (w->slots[i] == 0) return;
    /* Backward shift: move later members of the probe run into the hole
     * when their home slot is at or before it. */
    size_t j = i;
    for (;;) {
        w->slots[i] = 0;
        for (;;) {
            j = (j + 1) & w->mask;
            if (w->slots[j] == 0) return;
            size_t home = (size_t)(w->slots[j] ^ (w->slots[j] >> 29)) & w->mask;
            /* Can slot j's entry move to i? Only if home is not in (i, j]. */
            bool in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!in_between) break;
        }
        w->slots[i] = w->slots[j];
        i = j;
    }
}

bool sl_hashwindow_seen(sl_hashwindow *w, uint64_t h) {
    if (h == 0) h = 1;
    size_t i = find(w, h);
    if (w->slots[i] == h) return true;
    if (w->count == w->window) {   /* full: evict the oldest, at head */
        remove_hash(w, w->ring[w->head]);
        w->head = (w->head + 1) % w->window;
        w->count--;
        i = find(w, h);
    }
    w->slots[i] = h;
    w->ring[(w->head + w->count) % w->window] = h;
    w->count++;
    return false;
}
