/* sketch_hash.h — the 64-bit hash of a value as the profile's sketches see it.
 *
 * The profile (profile.h) feeds every non-null scalar to a HyperLogLog and
 * every string to the top-values sketch (topk.h); both take one well-mixed
 * 64-bit hash per value, and computing it is the most frequent step of
 * profiling. sl_value_hash (core/value.h) is the general hash (any value,
 * chained seeds) and costs two XXH3 calls per string; this one costs one
 * XXH3 call per string or bytes value and a few multiplications per number,
 * bool or timestamp.
 *
 * Equal values (sl_value_equal) hash alike: 1, 1u and 1.0 are one value (an
 * integral double in int64 or uint64 range hashes as that integer), 0.0 and
 * -0.0 are one value, every NaN is one value. Types stay apart: the string
 * "1", the bytes "1", the number 1, true and a timestamp hash differently
 * (strings are XXH3 with seed 0, bytes with another seed; other scalars mix
 * their 64-bit payload xor a per-type key with Evensen's rrmxmx, a bijection,
 * so distinct payloads of one type never collide).
 *
 * The hash is part of the saved profile: HLL registers are a function of it,
 * so sketches built with different hashes must not merge. Profile JSON
 * version 2 (profile.h) uses this hash; changing it means a new version.
 */
#ifndef SL_SKETCH_HASH_H
#define SL_SKETCH_HASH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../core/util.h"
#include "../core/value.h"

#define SL_SKETCH_SEED_BYTES 0x62797465735f6b31ULL     /* XXH3 seed of bytes values */
#define SL_SKETCH_KEY_INT 0x243f6a8885a308d3ULL        /* per-type keys (digits of pi) */
#define SL_SKETCH_KEY_UINT 0x13198a2e03707344ULL       /* uint64 beyond INT64_MAX */
#define SL_SKETCH_KEY_DOUBLE 0xa4093822299f31d0ULL     /* non-integral doubles, by bits */
#define SL_SKETCH_KEY_NAN 0x082efa98ec4e6c89ULL
#define SL_SKETCH_KEY_BOOL 0x452821e638d01377ULL
#define SL_SKETCH_KEY_TIMESTAMP 0xbe5466cf34e90c6cULL

/* Hash of a string's bytes (the top-values sketch identifies values by it). */
static inline uint64_t sl_sketch_hash_string(const char *p, size_t len) {
    return sl_hash64(p, len, 0);
}

/* rrmxmx (Pelle Evensen, 2018): a 64-bit bijection with full avalanche. */
static inline uint64_t sl_sketch_mix(uint64_t v) {
    v ^= ((v >> 49) | (v << 15)) ^ ((v >> 24) | (v << 40));
    v *= 0x9fb21c651e98df25ULL;
    v ^= v >> 28;
    v *= 0x9fb21c651e98df25ULL;
    return v ^ (v >> 28);
}

static inline uint64_t sl_sketch_hash_double(double d) {
    if (isnan(d))
        return sl_sketch_mix(SL_SKETCH_KEY_NAN);
    if (d == trunc(d)) {
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
            return sl_sketch_mix((uint64_t)(int64_t)d ^ SL_SKETCH_KEY_INT);
        if (d >= 0 && d < 18446744073709551616.0)
            return sl_sketch_mix((uint64_t)d ^ SL_SKETCH_KEY_UINT);
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return sl_sketch_mix(bits ^ SL_SKETCH_KEY_DOUBLE);
}

/* Hash of a non-null scalar value (null, arrays and maps are not hashed: 0). */
static inline uint64_t sl_sketch_hash(const sl_value *v) {
    switch ((sl_type)v->type) {
    case SL_STRING:
        return sl_sketch_hash_string(v->as.s, v->len);
    case SL_INT:
        return sl_sketch_mix((uint64_t)v->as.i ^ SL_SKETCH_KEY_INT);
    case SL_UINT:
        return sl_sketch_mix(v->as.u ^ (v->as.u <= (uint64_t)INT64_MAX ? SL_SKETCH_KEY_INT : SL_SKETCH_KEY_UINT));
    case SL_DOUBLE:
        return sl_sketch_hash_double(v->as.d);
    case SL_BOOL:
        return sl_sketch_mix((uint64_t)v->as.b ^ SL_SKETCH_KEY_BOOL);
    case SL_TIMESTAMP:
        return sl_sketch_mix((uint64_t)v->as.i ^ SL_SKETCH_KEY_TIMESTAMP);
    case SL_BYTES:
        return sl_hash64(v->as.s, v->len, SL_SKETCH_SEED_BYTES);
    case SL_NULL:
    case SL_ARRAY:
    case SL_MAP:
        break;
    }
    return 0;
}

#endif
