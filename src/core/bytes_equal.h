/* bytes_equal.h — memcmp(a, b, n) == 0 without the call, for hot loops that
 * compare short byte strings (field keys, top values) once per value.
 *
 * A libc memcmp call costs a PLT jump and size dispatch that outweigh
 * comparing a few bytes; this compares whole words (the last one
 * overlapping the previous) and never reads a byte outside the n. Long
 * strings work too, at about memcmp's speed for the sizes of keys.
 */
#ifndef SL_BYTES_EQUAL_H
#define SL_BYTES_EQUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline bool sl_bytes_equal(const void *a, const void *b, size_t n) {
    const unsigned char *p = a, *q = b;
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, p + i, 8);
            memcpy(&y, q + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, p + n - 8, 8);
        memcpy(&y, q + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, p, 4);
        memcpy(&y0, q, 4);
        memcpy(&x1, p + n - 4, 4);
        memcpy(&y1, q + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return false;
    return true;
}

#endif
