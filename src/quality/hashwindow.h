/* hashwindow.h — "have I seen this value recently?" in bounded memory.
 *
 * A set of the 64-bit hashes of the last `window` values inserted: an
 * open-addressing hash table (linear probing, at most half full) plus a FIFO
 * ring that remembers insertion order, so when the window is full the oldest
 * hash is evicted. Memory is about 24 bytes per slot of the window, fixed at
 * creation, whatever the number of values seen.
 *
 * Two different values with the same 64-bit hash read as duplicates; with
 * XXH3 that is about one chance in 2^64 / window per insert.
 *
 * Not thread-safe: the caller locks (validate takes one lock per batch).
 */
#ifndef SL_HASHWINDOW_H
#define SL_HASHWINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_hashwindow sl_hashwindow;

/* A window of `window` (>= 1) hashes. Aborts when out of memory. */
sl_hashwindow *sl_hashwindow_new(size_t window);
void sl_hashwindow_free(sl_hashwindow *w);
/* Returns true when h is among the last `window` hashes inserted (and then
 * does not insert it again); otherwise inserts it, evicting the oldest hash
 * when the window is full, and returns false. */
bool sl_hashwindow_seen(sl_hashwindow *w, uint64_t h);
size_t sl_hashwindow_size(const sl_hashwindow *w);

#endif
