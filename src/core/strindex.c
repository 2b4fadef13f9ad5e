/* strindex.c — a hash index from strings to array positions (see strindex.h). */
#include "strindex.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void sl_strindex_init(sl_strindex *x) {
    memset(x, 0, sizeof *x);
}

void sl_strindex_free(sl_strindex *x) {
    free(x->slots);
    sl_strindex_init(x);
}

void sl_strindex_clear(sl_strindex *x) {
    if (x->slots) memset(x->slots, 0, x->cap * sizeof *x->slots);
    x->count = 0;
}

static size_t home(const sl_strindex *x, const char *key, size_t len) {
    return (size_t)sl_hash64(key, len, 0) & (x->cap - 1);
}

long sl_strindex_find(const sl_strindex *x, const char *key, size_t len, sl_strindex_key_fn key_of, const void *ctx) {
    if (x->count == 0) return -1;
    for (size_t s = home(x, key, len);; s = (s + 1) & (x->cap - 1)) {
        uint32_t v = x->slots[s];
        if (v == 0) return -1;
        const char *k = key_of(ctx, v - 1);
        if (strncmp(k, key, len) == 0 && k[len] == '\0') return (long)(v - 1);
    }
}

static void put(sl_strindex *x, size_t i, const char *key) {
    size_t s = home(x, key, strlen(key));
    while (x->slots[s]) s = (s + 1) & (x->cap - 1);
    x->slots[s] = (uint32_t)i + 1;
    x->count++;
}

void sl_strindex_add(sl_strindex *x, size_t i, sl_strindex_key_fn key_of, const void *ctx) {
    if (2 * (x->count + 1) > x->cap) {
        uint32_t *old = x->slots;
        size_t old_cap = x->cap;
        x->cap = old_cap ? 2 * old_cap : 16;
        x->slots = calloc(x->cap, sizeof *x->slots);
        if (!x->slots) abort();
        x->count = 0;
        for (size_t s = 0; s < old_cap; s++)
            if (old[s]) put(x, old[s] - 1, key_of(ctx, old[s] - 1));
        free(old);
    }
    put(x, i, key_of(ctx, i));
}
