/* strindex.h — a hash index from strings to the positions of the entries
 * of an array the caller owns (a payload's parts by key, a sink's open
 * files by path), so that looking a string up does not scan the array.
 *
 * The index stores positions only; the caller's key_of function gives the
 * key of a position, so a key is never copied. It grows itself (open
 * addressing, linear probing, at most half full). Removing an entry is not
 * supported: the caller clears the index and adds the remaining entries
 * again, which is cheap when removals are rare. An index that was never
 * added to holds no memory. Not thread-safe.
 */
#ifndef SL_STRINDEX_H
#define SL_STRINDEX_H

#include <stddef.h>
#include <stdint.h>

/* The NUL-terminated key of the entry at position i of ctx's array. */
typedef const char *(*sl_strindex_key_fn)(const void *ctx, size_t i);

typedef struct sl_strindex {
    uint32_t *slots;     /* position + 1, or 0 for an empty slot */
    size_t cap, count;   /* cap is 0 or a power of two */
} sl_strindex;

void sl_strindex_init(sl_strindex *x);
void sl_strindex_free(sl_strindex *x);
/* Forgets every entry (keeps the memory). */
void sl_strindex_clear(sl_strindex *x);
/* The position of the entry whose key is key[0..len), or -1. */
long sl_strindex_find(const sl_strindex *x, const char *key, size_t len, sl_strindex_key_fn key_of, const void *ctx);
/* Adds the entry at position i (its key must not be in the index yet). */
void sl_strindex_add(sl_strindex *x, size_t i, sl_strindex_key_fn key_of, const void *ctx);

#endif
