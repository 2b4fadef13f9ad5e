/* value.h — the record model: typed values, maps that keep field order.
 *
 * A record is an SL_MAP value. Values are small (24 bytes) plain structs;
 * strings, arrays and map fields live in the batch's arena (arena.h) or point
 * straight into the batch's input bytes when the decoder needed no unescaping
 * (zero copy). Nothing here frees memory: the arena does.
 *
 * Types: null, bool, int (int64), uint (uint64 values above INT64_MAX only, so
 * JSON integers round-trip exactly), double, string (UTF-8, may contain NUL),
 * bytes, array, map, timestamp (nanoseconds since the Unix epoch, UTC).
 *
 * Numbers decoded from text keep a pointer to their original text (raw) so an
 * unchanged number is written out exactly as it came in ("1.50" stays "1.50",
 * "1e3" stays "1e3"). A value computed by a transform has raw == NULL and is
 * printed in the shortest form that round-trips.
 *
 * Maps are arrays of (key, value) fields in insertion order. Lookups are
 * linear: records are small (tens of fields) and a linear scan over keys
 * compared by length first beats hashing at that size. Duplicate keys in
 * input follow one policy, applied by sl_map_set: the last value wins and the
 * field keeps the position of its first occurrence (as JavaScript objects and
 * jq do).
 */
#ifndef SL_VALUE_H
#define SL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

typedef enum sl_type {
    SL_NULL = 0,
    SL_BOOL,
    SL_INT,
    SL_UINT,
    SL_DOUBLE,
    SL_STRING,
    SL_BYTES,
    SL_ARRAY,
    SL_MAP,
    SL_TIMESTAMP,
} sl_type;

/* flags */
#define SL_VF_JSON_SAFE 0x01  /* string needs no JSON escaping (known from the decoder);
                                 also in sl_field.key_flags, for the key */
#define SL_VF_DUPLICATE_KEYS 0x02 /* a decoded document (the root value): its text repeats
                                 a key somewhere, which decoding merged (last wins),
                                 so the text is not this value's JSON */

typedef struct sl_field sl_field;
typedef struct sl_value sl_value;

struct sl_value {
    uint8_t type;        /* sl_type */
    uint8_t flags;       /* SL_VF_* */
    uint16_t raw_len;    /* length of raw number text, 0 when raw == NULL */
    uint32_t len;        /* string/bytes length; array/map element count */
    union {
        bool b;
        int64_t i;       /* SL_INT, SL_TIMESTAMP (ns since epoch) */
        uint64_t u;      /* SL_UINT */
        double d;
        const char *s;   /* SL_STRING, SL_BYTES (not NUL-terminated) */
        sl_value *items; /* SL_ARRAY */
        sl_field *fields;/* SL_MAP */
    } as;
    union {
        const char *raw; /* numbers: original text, or NULL */
        uint32_t cap;    /* arrays and maps: allocated capacity */
    } x;
};

struct sl_field {
    const char *key;     /* not NUL-terminated */
    uint32_t key_len;
    uint8_t key_flags;   /* SL_VF_JSON_SAFE when the decoder saw no escape in the key;
                            0 (unknown: the encoder scans it) for keys set by code */
    sl_value value;
};

/* Constructors (no allocation except where an arena is passed). They are
 * inline: they run per value on the hot path, and a call that builds the
 * struct through memory costs a store-forwarding stall each time. */
#ifndef __cplusplus   /* C compound literals; json_simd.cpp does not use these */
static inline sl_value sl_null(void) { return (sl_value){ .type = SL_NULL }; }
static inline sl_value sl_bool(bool b) { return (sl_value){ .type = SL_BOOL, .as.b = b }; }
static inline sl_value sl_int(int64_t i) { return (sl_value){ .type = SL_INT, .as.i = i }; }
/* Yields SL_INT when u <= INT64_MAX, so each number has one representation. */
static inline sl_value sl_uint(uint64_t u) {
    return u <= (uint64_t)INT64_MAX ? sl_int((int64_t)u) : (sl_value){ .type = SL_UINT, .as.u = u };
}
static inline sl_value sl_double(double d) { return (sl_value){ .type = SL_DOUBLE, .as.d = d }; }
static inline sl_value sl_timestamp(int64_t ns) { return (sl_value){ .type = SL_TIMESTAMP, .as.i = ns }; }
/* Points at s (no copy). */
static inline sl_value sl_string(const char *s, size_t len) {
    return (sl_value){ .type = SL_STRING, .len = (uint32_t)len, .as.s = s };
}
static inline sl_value sl_cstring(const char *s) { return sl_string(s, strlen(s)); }
static inline sl_value sl_bytes(const char *s, size_t len) {
    return (sl_value){ .type = SL_BYTES, .len = (uint32_t)len, .as.s = s };
}
#endif
sl_value sl_string_copy(sl_arena *a, const char *s, size_t len);
sl_value sl_array_new(sl_arena *a, size_t cap);
sl_value sl_map_new(sl_arena *a, size_t cap);

const char *sl_type_name(sl_type t);   /* "null", "bool", "int", ... ("int" for SL_UINT) */

/* Arrays */
void sl_array_push(sl_arena *a, sl_value *arr, sl_value v);

/* Maps. Keys are compared bytewise. */
/* The value of key, or NULL. sl_map_get(map, ...) gives a pointer as
 * writable as map: const for a const map (a record read through
 * sl_record_value stays read-only), mutable for a mutable one. */
sl_value *sl_map_get_mut(sl_value *map, const char *key, size_t key_len);
const sl_value *sl_map_get_const(const sl_value *map, const char *key, size_t key_len);
#define sl_map_get(map, ...) /* (map, key, key_len) */ \
    _Generic((map), const sl_value *: sl_map_get_const, default: sl_map_get_mut)(map, __VA_ARGS__)
/* Sets key to v: replaces the value in place when the key exists, else appends.
 * The key bytes are not copied: they must live as long as the arena. */
void sl_map_set(sl_arena *a, sl_value *map, const char *key, size_t key_len, sl_value v);
/* Appends without looking for an existing key (decoder fast path for keys known
 * to be new). */
void sl_map_append(sl_arena *a, sl_value *map, const char *key, size_t key_len, sl_value v);
/* Removes key keeping the order of the others; returns true if it was there. */
bool sl_map_delete(sl_value *map, const char *key, size_t key_len);
/* Renames a key in place (keeps its position). If `to` already exists elsewhere
 * that field is removed first. Returns true if `from` existed. */
bool sl_map_rename(sl_value *map, const char *from, size_t from_len, const char *to, size_t to_len);

/* Deep copy into arena a (strings copied too, so the copy outlives the input). */
sl_value sl_value_clone(sl_arena *a, const sl_value *v);

/* Equality: same type family and content; int/uint/double compare numerically
 * (1 == 1.0); maps compare as ordered field lists. */
bool sl_value_equal(const sl_value *a, const sl_value *b);
/* Total order used by comparisons in expressions: numbers numerically,
 * strings bytewise; returns <0, 0, >0, or sets *incomparable when the types
 * cannot be ordered (e.g. string vs number). */
int sl_value_compare(const sl_value *a, const sl_value *b, bool *incomparable);
/* Truthiness: null and false are false, everything else true. */
bool sl_value_truthy(const sl_value *v);
/* Numeric view: true when v is int/uint/double; stores it as a double. */
bool sl_value_as_double(const sl_value *v, double *out);
/* Whether v (may be NULL) is the string s: how state and describe JSON is
 * checked for a type name or a status word. */
bool sl_value_is_str(const sl_value *v, const char *s);
/* 64-bit hash of a value (stable across runs and machines). */
uint64_t sl_value_hash(const sl_value *v, uint64_t seed);

#endif
