/* value.c — the record model (see value.h): constructors, ordered maps,
 * deep copy, equality, ordering and hashing.
 *
 * Numbers of different representations (int, uint, double) compare and hash
 * by their mathematical value, exactly: 1 == 1.0, and 2^53 + 1 is not equal to
 * the double 2^53. Equal values always hash alike, so values can key hash
 * tables (dedup, group by). NaN is ordered after every other number and is
 * equal to itself, which keeps the order total.
 */
#include "value.h"

#include <math.h>
#include <string.h>

#include "util.h"

sl_value sl_string_copy(sl_arena *a, const char *s, size_t len) {
    return sl_string(sl_arena_strndup(a, s, len), len);
}

sl_value sl_array_new(sl_arena *a, size_t cap) {
    sl_value v = sl_null();
    v.type = SL_ARRAY;
    v.as.items = cap ? sl_arena_alloc(a, cap * sizeof(sl_value)) : NULL;
    v.x.cap = (uint32_t)cap;
    return v;
}

sl_value sl_map_new(sl_arena *a, size_t cap) {
    sl_value v = sl_null();
    v.type = SL_MAP;
    v.as.fields = cap ? sl_arena_alloc(a, cap * sizeof(sl_field)) : NULL;
    v.x.cap = (uint32_t)cap;
    return v;
}

const char *sl_type_name(sl_type t) {
    switch (t) {
    case SL_NULL: return "null";
    case SL_BOOL: return "bool";
    case SL_INT: return "int";
    case SL_UINT: return "int";
    case SL_DOUBLE: return "float";
    case SL_STRING: return "string";
    case SL_BYTES: return "bytes";
    case SL_ARRAY: return "array";
    case SL_MAP: return "map";
    case SL_TIMESTAMP: return "timestamp";
    }
    return "unknown";
}

/* ---- arrays and maps ---- */

static uint32_t grown_cap(uint32_t cap) {
    return cap < 4 ? 4 : cap * 2;
}

void sl_array_push(sl_arena *a, sl_value *arr, sl_value v) {
    if (arr->len == arr->x.cap) {
        uint32_t cap = grown_cap(arr->x.cap);
        arr->as.items = sl_arena_realloc(a, arr->as.items, arr->x.cap * sizeof(sl_value),
                                         cap * sizeof(sl_value));
        arr->x.cap = cap;
    }
    arr->as.items[arr->len++] = v;
}

static bool key_eq(const sl_field *f, const char *key, size_t key_len) {
    return f->key_len == key_len && memcmp(f->key, key, key_len) == 0;
}

static long map_index(const sl_value *map, const char *key, size_t key_len) {
    for (uint32_t i = 0; i < map->len; i++)
        if (key_eq(&map->as.fields[i], key, key_len))
            return (long)i;
    return -1;
}

const sl_value *sl_map_get_const(const sl_value *map, const char *key, size_t key_len) {
    if (map->type != SL_MAP)
        return NULL;
    long i = map_index(map, key, key_len);
    return i < 0 ? NULL : &map->as.fields[i].value;
}

sl_value *sl_map_get_mut(sl_value *map, const char *key, size_t key_len) {
    return (sl_value *)sl_map_get_const(map, key, key_len);
}

void sl_map_append(sl_arena *a, sl_value *map, const char *key, size_t key_len, sl_value v) {
    if (map->len == map->x.cap) {
        uint32_t cap = grown_cap(map->x.cap);
        map->as.fields = sl_arena_realloc(a, map->as.fields, map->x.cap * sizeof(sl_field),
                                          cap * sizeof(sl_field));
        map->x.cap = cap;
    }
    sl_field *f = &map->as.fields[map->len++];
    f->key = key;
    f->key_len = (uint32_t)key_len;
    f->key_flags = 0;
    f->value = v;
}

void sl_map_set(sl_arena *a, sl_value *map, const char *key, size_t key_len, sl_value v) {
    long i = map_index(map, key, key_len);
    if (i >= 0)
        map->as.fields[i].value = v;
    else
        sl_map_append(a, map, key, key_len, v);
}

static void remove_field(sl_value *map, uint32_t i) {
    memmove(&map->as.fields[i], &map->as.fields[i + 1], (map->len - i - 1) * sizeof(sl_field));
    map->len--;
}

bool sl_map_delete(sl_value *map, const char *key, size_t key_len) {
    if (map->type != SL_MAP)
        return false;
    long i = map_index(map, key, key_len);
    if (i < 0)
        return false;
    remove_field(map, (uint32_t)i);
    return true;
}

bool sl_map_rename(sl_value *map, const char *from, size_t from_len, const char *to, size_t to_len) {
    if (map->type != SL_MAP)
        return false;
    long i = map_index(map, from, from_len);
    if (i < 0)
        return false;
    long j = map_index(map, to, to_len);
    if (j == i)
        return true;
    if (j >= 0) {
        remove_field(map, (uint32_t)j);
        if (j < i)
            i--;
    }
    map->as.fields[i].key = to;
    map->as.fields[i].key_len = (uint32_t)to_len;
    map->as.fields[i].key_flags = 0;
    return true;
}

/* ---- deep copy ---- */

sl_value sl_value_clone(sl_arena *a, const sl_value *v) {
    sl_value out = *v;
    switch ((sl_type)v->type) {
    case SL_INT:
    case SL_UINT:
    case SL_DOUBLE:
        if (v->x.raw)
            out.x.raw = sl_arena_strndup(a, v->x.raw, v->raw_len);
        break;
    case SL_STRING:
    case SL_BYTES:
        out.as.s = sl_arena_strndup(a, v->as.s, v->len);
        break;
    case SL_ARRAY:
        out = sl_array_new(a, v->len);
        for (uint32_t i = 0; i < v->len; i++)
            out.as.items[i] = sl_value_clone(a, &v->as.items[i]);
        out.len = v->len;
        out.flags = v->flags;
        break;
    case SL_MAP:
        out = sl_map_new(a, v->len);
        for (uint32_t i = 0; i < v->len; i++) {
            const sl_field *f = &v->as.fields[i];
            sl_field *g = &out.as.fields[i];
            g->key = sl_arena_strndup(a, f->key, f->key_len);
            g->key_len = f->key_len;
            g->key_flags = f->key_flags;
            g->value = sl_value_clone(a, &f->value);
        }
        out.len = v->len;
        out.flags = v->flags;
        break;
    case SL_NULL:
    case SL_BOOL:
    case SL_TIMESTAMP:
        break;
    }
    return out;
}

/* ---- numbers, compared exactly ---- */

static bool is_number(const sl_value *v) {
    return v->type == SL_INT || v->type == SL_UINT || v->type == SL_DOUBLE;
}

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }
static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

static int cmp_double(double a, double b) {
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);   /* NaN after every number */
    return (a > b) - (a < b);
}

/* Compares an int64 with a double without rounding the integer. */
static int cmp_int_double(int64_t i, double d) {
    if (isnan(d))
        return -1;
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);
    int c = cmp_i64(i, (int64_t)t);
    if (c)
        return c;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int cmp_uint_double(uint64_t u, double d) {
    if (isnan(d))
        return -1;
    if (d >= 18446744073709551616.0)
        return -1;
    if (d < 0)
        return 1;
    double t = trunc(d);
    int c = cmp_u64(u, (uint64_t)t);
    if (c)
        return c;
    return d > t ? -1 : 0;
}

static int cmp_int_uint(int64_t i, uint64_t u) {
    return i < 0 ? -1 : cmp_u64((uint64_t)i, u);
}

static int cmp_numbers(const sl_value *a, const sl_value *b) {
    switch (a->type) {
    case SL_INT:
        if (b->type == SL_INT) return cmp_i64(a->as.i, b->as.i);
        if (b->type == SL_UINT) return cmp_int_uint(a->as.i, b->as.u);
        return cmp_int_double(a->as.i, b->as.d);
    case SL_UINT:
        if (b->type == SL_INT) return -cmp_int_uint(b->as.i, a->as.u);
        if (b->type == SL_UINT) return cmp_u64(a->as.u, b->as.u);
        return cmp_uint_double(a->as.u, b->as.d);
    default:
        if (b->type == SL_INT) return -cmp_int_double(b->as.i, a->as.d);
        if (b->type == SL_UINT) return -cmp_uint_double(b->as.u, a->as.d);
        return cmp_double(a->as.d, b->as.d);
    }
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
}

bool sl_value_equal(const sl_value *a, const sl_value *b) {
    if (is_number(a) && is_number(b))
        return cmp_numbers(a, b) == 0;
    if (a->type != b->type)
        return false;
    switch ((sl_type)a->type) {
    case SL_NULL:
        return true;
    case SL_BOOL:
        return a->as.b == b->as.b;
    case SL_TIMESTAMP:
        return a->as.i == b->as.i;
    case SL_STRING:
    case SL_BYTES:
        return a->len == b->len && (a->len == 0 || memcmp(a->as.s, b->as.s, a->len) == 0);
    case SL_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!sl_value_equal(&a->as.items[i], &b->as.items[i]))
                return false;
        return true;
    case SL_MAP:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++) {
            const sl_field *f = &a->as.fields[i], *g = &b->as.fields[i];
            if (!key_eq(f, g->key, g->key_len) || !sl_value_equal(&f->value, &g->value))
                return false;
        }
        return true;
    case SL_INT:
    case SL_UINT:
    case SL_DOUBLE:
        break;   /* handled above */
    }
    return false;
}

int sl_value_compare(const sl_value *a, const sl_value *b, bool *incomparable) {
    *incomparable = false;
    if (is_number(a) && is_number(b))
        return cmp_numbers(a, b);
    if (a->type == b->type) {
        switch ((sl_type)a->type) {
        case SL_NULL:
            return 0;
        case SL_BOOL:
            return (int)a->as.b - (int)b->as.b;
        case SL_TIMESTAMP:
            return cmp_i64(a->as.i, b->as.i);
        case SL_STRING:
        case SL_BYTES:
            return cmp_bytes(a->as.s, a->len, b->as.s, b->len);
        case SL_ARRAY:
            for (uint32_t i = 0; i < a->len && i < b->len; i++) {
                int c = sl_value_compare(&a->as.items[i], &b->as.items[i], incomparable);
                if (c || *incomparable)
                    return c;
            }
            return (a->len > b->len) - (a->len < b->len);
        case SL_MAP:
            if (sl_value_equal(a, b))
                return 0;
            break;
        case SL_INT:
        case SL_UINT:
        case SL_DOUBLE:
            break;   /* handled above */
        }
    }
    *incomparable = true;
    return 0;
}

bool sl_value_truthy(const sl_value *v) {
    return !(v->type == SL_NULL || (v->type == SL_BOOL && !v->as.b));
}

bool sl_value_as_double(const sl_value *v, double *out) {
    switch (v->type) {
    case SL_INT: *out = (double)v->as.i; return true;
    case SL_UINT: *out = (double)v->as.u; return true;
    case SL_DOUBLE: *out = v->as.d; return true;
    default: return false;
    }
}

bool sl_value_is_str(const sl_value *v, const char *s) {
    return v && v->type == SL_STRING && v->len == strlen(s) && memcmp(v->as.s, s, v->len) == 0;
}

/* ---- hashing ---- */

/* Hashes a type tag and a 64-bit payload, little-endian so the result does not
 * depend on the machine. */
static uint64_t hash_word(uint8_t tag, uint64_t w, uint64_t seed) {
    unsigned char b[9];
    b[0] = tag;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(w >> (8 * i));
    return sl_hash64(b, sizeof b, seed);
}

enum { TAG_NULL = 1, TAG_BOOL, TAG_NUM_INT, TAG_NUM_UINT, TAG_NUM_DOUBLE, TAG_NUM_NAN,
       TAG_STRING, TAG_BYTES, TAG_ARRAY, TAG_MAP, TAG_TIMESTAMP, TAG_KEY };

/* Numbers hash by value: an integral double in int64 (or uint64) range hashes
 * as that integer, so every pair sl_value_equal calls equal hashes alike. */
static uint64_t hash_number(const sl_value *v, uint64_t seed) {
    if (v->type == SL_INT)
        return hash_word(TAG_NUM_INT, (uint64_t)v->as.i, seed);
    if (v->type == SL_UINT) {
        if (v->as.u <= (uint64_t)INT64_MAX)
            return hash_word(TAG_NUM_INT, v->as.u, seed);
        return hash_word(TAG_NUM_UINT, v->as.u, seed);
    }
    double d = v->as.d;
    if (isnan(d))
        return hash_word(TAG_NUM_NAN, 0, seed);
    if (d == trunc(d)) {
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
            return hash_word(TAG_NUM_INT, (uint64_t)(int64_t)d, seed);
        if (d >= 0 && d < 18446744073709551616.0)
            return hash_word(TAG_NUM_UINT, (uint64_t)d, seed);
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return hash_word(TAG_NUM_DOUBLE, bits, seed);
}

uint64_t sl_value_hash(const sl_value *v, uint64_t seed) {
    switch ((sl_type)v->type) {
    case SL_NULL:
        return hash_word(TAG_NULL, 0, seed);
    case SL_BOOL:
        return hash_word(TAG_BOOL, v->as.b, seed);
    case SL_INT:
    case SL_UINT:
    case SL_DOUBLE:
        return hash_number(v, seed);
    case SL_TIMESTAMP:
        return hash_word(TAG_TIMESTAMP, (uint64_t)v->as.i, seed);
    case SL_STRING:
        return sl_hash64(v->as.s, v->len, hash_word(TAG_STRING, v->len, seed));
    case SL_BYTES:
        return sl_hash64(v->as.s, v->len, hash_word(TAG_BYTES, v->len, seed));
    case SL_ARRAY: {
        uint64_t h = hash_word(TAG_ARRAY, v->len, seed);
        for (uint32_t i = 0; i < v->len; i++)
            h = sl_value_hash(&v->as.items[i], h);
        return h;
    }
    case SL_MAP: {
        uint64_t h = hash_word(TAG_MAP, v->len, seed);
        for (uint32_t i = 0; i < v->len; i++) {
            const sl_field *f = &v->as.fields[i];
            h = sl_hash64(f->key, f->key_len, hash_word(TAG_KEY, f->key_len, h));
            h = sl_value_hash(&f->value, h);
        }
        return h;
    }
    }
    return seed;
}
