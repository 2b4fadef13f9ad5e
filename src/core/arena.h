/* arena.h — bump allocator whose allocations all die together.
 *
 * Every batch owns one arena: the records of the batch, their strings, maps
 * and arrays are carved out of it and freed in one sl_arena_reset/free. This
 * keeps the per-record cost of the hot path to a pointer bump and makes
 * "who frees this string?" a question nobody has to ask.
 *
 * Contract:
 *  - sl_arena_alloc never returns NULL: on allocation failure it aborts the
 *    process with a message (an out-of-memory batch cannot be recovered; the
 *    global memory budget is what prevents it).
 *  - Memory is 16-byte aligned and not zeroed (sl_arena_calloc zeroes).
 *  - sl_arena_reset keeps the first block for reuse; sl_arena_free releases all.
 *  - An arena is used by one thread at a time.
 */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <stddef.h>

typedef struct sl_arena_block sl_arena_block;

typedef struct sl_arena {
    sl_arena_block *head;   /* current block; older blocks are chained behind */
    size_t block_size;      /* size of the next block to allocate */
    size_t used_total;      /* bytes handed out since the last reset */
} sl_arena;

void sl_arena_init(sl_arena *a, size_t first_block);
void *sl_arena_alloc(sl_arena *a, size_t n);
void *sl_arena_calloc(sl_arena *a, size_t n);
/* Grows an allocation made in this arena (copies when it cannot grow in place). */
void *sl_arena_realloc(sl_arena *a, void *old, size_t old_n, size_t new_n);
char *sl_arena_strndup(sl_arena *a, const char *s, size_t n);   /* NUL-terminated copy */
void sl_arena_reset(sl_arena *a);
void sl_arena_free(sl_arena *a);
/* Bytes of memory the arena holds from the system (for memory accounting). */
size_t sl_arena_footprint(const sl_arena *a);

#endif
