/* topk.c — space-saving heavy hitters (see topk.h).
 *
 * Three structures over one fixed array of entries: a linear-probing hash
 * index (hash -> entry) to find a value, the "stream summary" buckets
 * (entries of equal count, in a list by increasing count) to find the
 * entry to evict, and a slab of capacity × max_len bytes holding the values
 * (entry i owns storage + i × max_len). Nothing is allocated after init.
 */
#include "topk.h"

#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/bytes_equal.h"
#include "../core/util.h"
#include "../codec/b64.h"
#include "sketch_hash.h"

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static void rebuild_buckets(sl_topk *t);

int sl_topk_init(sl_topk *t, unsigned capacity, unsigned max_len, sl_error *err) {
    memset(t, 0, sizeof *t);
    if (capacity < 1 || capacity > SL_TOPK_MAX_CAPACITY)
        return sl_errorf(err, "top-k capacity %u is out of range (1 to %d)", capacity, SL_TOPK_MAX_CAPACITY);
    if (max_len < 1 || max_len > SL_TOPK_MAX_MAX_LEN)
        return sl_errorf(err, "top-k max value length %u is out of range (1 to %d)", max_len, SL_TOPK_MAX_MAX_LEN);
    uint32_t slots = 4;
    while (slots < 2 * capacity)
        slots *= 2;
    t->capacity = capacity;
    t->max_len = max_len;
    t->entries = xcalloc(capacity, sizeof *t->entries);
    t->buckets = xcalloc(capacity, sizeof *t->buckets);
    t->index = xcalloc(slots, sizeof *t->index);
    t->index_mask = slots - 1;
    t->storage = xcalloc(capacity, max_len);
    rebuild_buckets(t);
    return 0;
}

void sl_topk_free(sl_topk *t) {
    free(t->entries);
    free(t->buckets);
    free(t->index);
    free(t->storage);
    memset(t, 0, sizeof *t);
}

size_t sl_topk_footprint(const sl_topk *t) {
    return (size_t)t->capacity * (sizeof *t->entries + sizeof *t->buckets + t->max_len) +
           ((size_t)t->index_mask + 1) * sizeof *t->index;
}

/* --- stream summary: buckets of equal count, in increasing count order */

static uint32_t bucket_new(sl_topk *t, uint64_t count, uint32_t prev, uint32_t next) {
    uint32_t b = t->free_bucket;            /* never 0: there are as many buckets as entries */
    sl_topk_bucket *k = &t->buckets[b - 1];
    t->free_bucket = k->next;
    k->count = count;
    k->first = k->last = 0;
    k->prev = prev;
    k->next = next;
    if (prev) t->buckets[prev - 1].next = b; else t->min_bucket = b;
    if (next) t->buckets[next - 1].prev = b;
    return b;
}

static void bucket_release(sl_topk *t, uint32_t b) {
    sl_topk_bucket *k = &t->buckets[b - 1];
    if (k->prev) t->buckets[k->prev - 1].next = k->next; else t->min_bucket = k->next;
    if (k->next) t->buckets[k->next - 1].prev = k->prev;
    k->next = t->free_bucket;
    t->free_bucket = b;
}

/* Appends entry idx (count already set) to bucket b. */
static void bucket_append(sl_topk *t, uint32_t b, uint32_t idx) {
    sl_topk_bucket *k = &t->buckets[b - 1];
    sl_topk_entry *e = &t->entries[idx];
    e->bucket = b;
    e->prev = k->last;
    e->next = 0;
    if (k->last) t->entries[k->last - 1].next = idx + 1; else k->first = idx + 1;
    k->last = idx + 1;
}

/* Takes entry idx out of its bucket; an emptied bucket is released. */
static void bucket_remove(sl_topk *t, uint32_t idx) {
    sl_topk_entry *e = &t->entries[idx];
    sl_topk_bucket *k = &t->buckets[e->bucket - 1];
    if (e->prev) t->entries[e->prev - 1].next = e->next; else k->first = e->next;
    if (e->next) t->entries[e->next - 1].prev = e->prev; else k->last = e->prev;
    if (!k->first)
        bucket_release(t, e->bucket);
}

/* Adds w >= 1 to the count of entry idx, moving it to the bucket of its new
 * count: the next bucket when w is 1, else found by walking up the list (the
 * weighted adds of a sampled profile, rare and over few buckets). */
static void increment(sl_topk *t, uint32_t idx, uint64_t w) {
    sl_topk_entry *e = &t->entries[idx];
    uint32_t b = e->bucket;
    sl_topk_bucket *k = &t->buckets[b - 1];
    uint64_t c = e->count += w;
    if (k->first == k->last && (!k->next || t->buckets[k->next - 1].count > c)) {
        k->count = c;                        /* alone: the bucket itself moves up */
        return;
    }
    /* pos: the last bucket known to hold counts below c (0: none) */
    uint32_t pos = k->first == k->last ? k->prev : b;
    bucket_remove(t, idx);                   /* frees a bucket when it empties b */
    uint32_t next = pos ? t->buckets[pos - 1].next : t->min_bucket;
    while (next && t->buckets[next - 1].count < c) {
        pos = next;
        next = t->buckets[next - 1].next;
    }
    uint32_t nb = next && t->buckets[next - 1].count == c ? next : bucket_new(t, c, pos, next);
    bucket_append(t, nb, idx);
}

/* Rebuilds the buckets from the entries' counts (after bulk loading). */
typedef struct count_index {
    uint64_t count;
    uint32_t index;
} count_index;

static int cmp_count_index(const void *pa, const void *pb) {
    const count_index *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count < b->count ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static void rebuild_buckets(sl_topk *t) {
    t->min_bucket = 0;
    t->free_bucket = t->capacity ? 1 : 0;
    for (uint32_t i = 0; i < t->capacity; i++)
        t->buckets[i].next = i + 1 < t->capacity ? i + 2 : 0;
    if (!t->size)
        return;
    count_index *order = xcalloc(t->size, sizeof *order);
    for (uint32_t i = 0; i < t->size; i++) {
        order[i].count = t->entries[i].count;
        order[i].index = i;
    }
    qsort(order, t->size, sizeof *order, cmp_count_index);
    uint32_t last = 0;
    for (uint32_t i = 0; i < t->size; i++) {
        if (!last || t->buckets[last - 1].count != order[i].count)
            last = bucket_new(t, order[i].count, last, 0);
        bucket_append(t, last, order[i].index);
    }
    free(order);
}

/* --- hash index */

/* Slot holding the value, or the empty slot where it would go. */
static inline uint32_t find_slot(const sl_topk *t, uint64_t hash, const char *p, uint32_t len) {
    uint32_t slot = (uint32_t)hash & t->index_mask;
    while (t->index[slot]) {
        const sl_topk_entry *e = &t->entries[t->index[slot] - 1];
        if (e->hash == hash && e->len == len && sl_bytes_equal(e->value, p, len))
            return slot;
        slot = (slot + 1) & t->index_mask;
    }
    return slot;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void index_delete(sl_topk *t, uint32_t slot) {
    uint32_t i = slot, j = slot;
    for (;;) {
        j = (j + 1) & t->index_mask;
        if (!t->index[j])
            break;
        uint32_t home = (uint32_t)t->entries[t->index[j] - 1].hash & t->index_mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            t->index[i] = t->index[j];
            i = j;
        }
    }
    t->index[i] = 0;
}

/* Length of p truncated to max_len, cut back to a UTF-8 character start. */
static uint32_t truncated_len(const sl_topk *t, const char *p, size_t len) {
    if (len <= t->max_len)
        return (uint32_t)len;
    uint32_t n = t->max_len;
    while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
        n--;
    return n ? n : t->max_len;
}

/* Stores a new value in entry idx and indexes it at slot. */
static void set_entry(sl_topk *t, uint32_t idx, uint32_t slot, uint64_t hash, const char *p,
                      uint32_t len, bool truncated, uint64_t count, uint64_t error) {
    sl_topk_entry *e = &t->entries[idx];
    char *dst = t->storage + (size_t)idx * t->max_len;
    memcpy(dst, p, len);
    e->value = dst;
    e->len = len;
    e->hash = hash;
    e->truncated = truncated;
    e->count = count;
    e->error = error;
    t->index[slot] = idx + 1;
}

/* Loads a value known to be absent, with room left, without placing it in a
 * bucket: bulk loads call rebuild_buckets once done. */
static void load_new(sl_topk *t, uint32_t slot, uint64_t hash, const char *p, uint32_t len,
                     bool truncated, uint64_t count, uint64_t error) {
    set_entry(t, t->size++, slot, hash, p, len, truncated, count, error);
}


void sl_topk_add(sl_topk *t, const char *p, size_t len) {
    sl_topk_add_hashed(t, p, len, len <= t->max_len ? sl_sketch_hash_string(p, len) : 0);
}

void sl_topk_add_hashed(sl_topk *t, const char *p, size_t len, uint64_t hash) {
    sl_topk_add_weighted(t, p, len, hash, 1);
}

void sl_topk_add_weighted(sl_topk *t, const char *p, size_t len, uint64_t hash, uint64_t weight) {
    uint32_t n = truncated_len(t, p, len);
    bool truncated = n < len;
    if (truncated)
        hash = sl_sketch_hash_string(p, n);
    uint32_t slot = find_slot(t, hash, p, n);
    if (t->index[slot]) {
        uint32_t idx = t->index[slot] - 1;
        t->entries[idx].truncated |= truncated;
        increment(t, idx, weight);
        return;
    }
    if (t->size < t->capacity) {
        uint32_t idx = t->size++;
        set_entry(t, idx, slot, hash, p, n, truncated, 1, 0);
        uint32_t b = t->min_bucket;
        if (!b || t->buckets[b - 1].count != 1)
            b = bucket_new(t, 1, 0, b);
        bucket_append(t, b, idx);
        if (weight > 1)
            increment(t, idx, weight - 1);
        return;
    }
    /* evict the oldest entry of the smallest count m; the new value takes
     * its place with count m and error m, then moves up by its weight */
    uint32_t idx = t->buckets[t->min_bucket - 1].first - 1;
    sl_topk_entry *victim = &t->entries[idx];
    uint64_t m = victim->count;
    uint32_t vslot = (uint32_t)victim->hash & t->index_mask;
    while (t->index[vslot] != idx + 1)
        vslot = (vslot + 1) & t->index_mask;
    index_delete(t, vslot);
    slot = find_slot(t, hash, p, n);
    set_entry(t, idx, slot, hash, p, n, truncated, m, m);
    increment(t, idx, weight);
}

uint64_t sl_topk_min_count(const sl_topk *t) {
    return t->size == t->capacity ? t->buckets[t->min_bucket - 1].count : 0;
}

static int cmp_entries(const void *pa, const void *pb) {
    const sl_topk_entry *a = *(const sl_topk_entry *const *)pa;
    const sl_topk_entry *b = *(const sl_topk_entry *const *)pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->value, b->value, n);
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

const sl_topk_entry **sl_topk_sorted(const sl_topk *t, size_t *n_out) {
    const sl_topk_entry **v = xcalloc(t->size, sizeof *v);
    for (uint32_t i = 0; i < t->size; i++)
        v[i] = &t->entries[i];
    qsort(v, t->size, sizeof *v, cmp_entries);
    *n_out = t->size;
    return v;
}

/* --- merge */

void sl_topk_merge(sl_topk *dst, const sl_topk *src) {
    if (src->size == 0)
        return;
    uint64_t dst_min = sl_topk_min_count(dst), src_min = sl_topk_min_count(src);
    sl_topk all;
    sl_topk_init(&all, dst->size + src->size, dst->max_len, NULL);
    uint8_t *seen = xcalloc(all.capacity, 1);         /* bit 1: in dst, bit 2: in src */
    const sl_topk *sides[2] = { dst, src };
    for (int s = 0; s < 2; s++) {
        for (uint32_t i = 0; i < sides[s]->size; i++) {
            const sl_topk_entry *e = &sides[s]->entries[i];
            uint32_t n = truncated_len(&all, e->value, e->len);
            uint64_t hash = sl_sketch_hash_string(e->value, n);
            uint32_t slot = find_slot(&all, hash, e->value, n);
            if (!all.index[slot])
                load_new(&all, slot, hash, e->value, n, false, 0, 0);
            sl_topk_entry *a = &all.entries[all.index[slot] - 1];
            a->count += e->count;
            a->error += e->error;
            a->truncated |= e->truncated || n < e->len;
            seen[all.index[slot] - 1] |= (uint8_t)(1 << s);
        }
    }
    for (uint32_t i = 0; i < all.size; i++) {
        uint64_t add = !(seen[i] & 1) ? dst_min : !(seen[i] & 2) ? src_min : 0;
        all.entries[i].count += add;
        all.entries[i].error += add;
    }
    size_t n;
    const sl_topk_entry **sorted = sl_topk_sorted(&all, &n);
    memset(dst->index, 0, ((size_t)dst->index_mask + 1) * sizeof *dst->index);
    dst->size = 0;
    for (size_t i = 0; i < n && i < dst->capacity; i++) {
        const sl_topk_entry *e = sorted[i];
        load_new(dst, find_slot(dst, e->hash, e->value, e->len), e->hash, e->value, e->len,
                 e->truncated, e->count, e->error);
    }
    rebuild_buckets(dst);
    free(sorted);
    free(seen);
    sl_topk_free(&all);
}

/* --- serialization */

void sl_topk_put_value(sl_buf *out, const sl_topk_entry *e) {
    if (sl_utf8_valid(e->value, e->len)) {
        sl_buf_puts(out, "{\"value\":");
        sl_json_encode_string(out, e->value, e->len);
    } else {
        sl_buf_puts(out, "{\"value_base64\":\"");
        sl_base64_encode(out, e->value, e->len);
        sl_buf_putc(out, '"');
    }
}

void sl_topk_to_json(const sl_topk *t, sl_buf *out) {
    size_t n;
    const sl_topk_entry **v = sl_topk_sorted(t, &n);
    sl_buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        const sl_topk_entry *e = v[i];
        if (i)
            sl_buf_putc(out, ',');
        sl_topk_put_value(out, e);
        sl_buf_printf(out, ",\"count\":%llu,\"error\":%llu", (unsigned long long)e->count,
                      (unsigned long long)e->error);
        if (e->truncated)
            sl_buf_puts(out, ",\"truncated\":true");
        sl_buf_putc(out, '}');
    }
    sl_buf_putc(out, ']');
    free(v);
}

static bool get_count(const sl_value *obj, const char *key, uint64_t *out) {
    const sl_value *v = sl_map_get(obj, key, strlen(key));
    if (!v || v->type != SL_INT || v->as.i < 0)
        return false;
    *out = (uint64_t)v->as.i;
    return true;
}

static int entry_from_value(sl_topk *t, const sl_value *obj, size_t i, sl_error *err) {
    if (obj->type != SL_MAP)
        return sl_errorf(err, "top-k entry %zu is not an object", i);
    const sl_value *text = sl_map_get(obj, "value", 5);
    const sl_value *b64 = sl_map_get(obj, "value_base64", 12);
    const sl_value *trunc = sl_map_get(obj, "truncated", 9);
    uint64_t count, error;
    if (!get_count(obj, "count", &count) || !get_count(obj, "error", &error) || count == 0 ||
        error >= count)
        return sl_errorf(err, "top-k entry %zu needs integer \"count\" >= 1 and \"error\" < count", i);
    if (trunc && trunc->type != SL_BOOL)
        return sl_errorf(err, "top-k entry %zu: \"truncated\" must be a bool", i);
    if ((text != NULL) == (b64 != NULL) || (text && text->type != SL_STRING) ||
        (b64 && b64->type != SL_STRING))
        return sl_errorf(err, "top-k entry %zu needs a string \"value\" or \"value_base64\"", i);
    const char *p;
    size_t len;
    uint8_t *decoded = NULL;
    if (text) {
        p = text->as.s;
        len = text->len;
    } else {
        if (!sl_quality_b64_decode(b64->as.s, b64->len, &decoded, &len))
            return sl_errorf(err, "top-k entry %zu: invalid base64", i);
        p = (const char *)decoded;
        if (sl_utf8_valid(p, len)) {
            free(decoded);
            return sl_errorf(err, "top-k entry %zu: value_base64 holds UTF-8 text; use \"value\"", i);
        }
    }
    int rc = 0;
    if (len > t->max_len) {
        rc = sl_errorf(err, "top-k entry %zu is longer than the maximum value length %u", i, t->max_len);
    } else if (t->size == t->capacity) {
        rc = sl_errorf(err, "top-k has more than %u entries", t->capacity);
    } else {
        uint64_t hash = sl_sketch_hash_string(p, len);
        uint32_t slot = find_slot(t, hash, p, (uint32_t)len);
        if (t->index[slot])
            rc = sl_errorf(err, "top-k entry %zu repeats a value", i);
        else
            load_new(t, slot, hash, p, (uint32_t)len, trunc && trunc->as.b, count, error);
    }
    free(decoded);
    return rc;
}

int sl_topk_from_value(sl_topk *t, unsigned capacity, unsigned max_len,
                       const sl_value *array, sl_error *err) {
    if (array->type != SL_ARRAY) {
        memset(t, 0, sizeof *t);
        return sl_errorf(err, "top-k must be an array");
    }
    if (sl_topk_init(t, capacity, max_len, err) < 0)
        return -1;
    for (uint32_t i = 0; i < array->len; i++) {
        if (entry_from_value(t, &array->as.items[i], i, err) < 0) {
            sl_topk_free(t);
            return -1;
        }
    }
    rebuild_buckets(t);
    return 0;
}
