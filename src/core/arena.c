/* arena.c — the bump allocator behind every batch (see arena.h).
 *
 * An arena is a chain of blocks, newest first. Allocation rounds the size up
 * to 16 bytes and bumps the head block's `used`; when the head is full a new
 * block, twice as large as the last (up to a cap), becomes the head. An
 * allocation larger than the block size gets a block of its own size.
 * Realloc grows in place when the allocation is the last one of the head block
 * and the block has room, which makes repeated array pushes cheap.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_MIN_BLOCK 4096
#define ARENA_MAX_BLOCK (4u << 20)

struct sl_arena_block {
    sl_arena_block *prev;   /* older block */
    size_t size;            /* usable bytes in data[] */
    size_t used;
    _Alignas(ARENA_ALIGN) char data[];
};

static size_t align_up(size_t n) {
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

static void out_of_memory(size_t n) {
    fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", n);
    abort();
}

void sl_arena_init(sl_arena *a, size_t first_block) {
    a->head = NULL;
    a->block_size = first_block < ARENA_MIN_BLOCK ? ARENA_MIN_BLOCK : align_up(first_block);
    a->used_total = 0;
}

/* Adds a block with room for at least n bytes as the new head. */
static sl_arena_block *new_block(sl_arena *a, size_t n) {
    size_t size = a->block_size;
    if (size < n)
        size = align_up(n);
    if (size > SIZE_MAX - sizeof(sl_arena_block))
        out_of_memory(size);
    sl_arena_block *blk = malloc(sizeof(sl_arena_block) + size);
    if (!blk)
        out_of_memory(size);
    blk->prev = a->head;
    blk->size = size;
    blk->used = 0;
    a->head = blk;
    if (a->block_size < ARENA_MAX_BLOCK)
        a->block_size *= 2;
    return blk;
}

void *sl_arena_alloc(sl_arena *a, size_t n) {
    if (n > SIZE_MAX - ARENA_ALIGN)
        out_of_memory(n);
    size_t need = align_up(n);
    sl_arena_block *blk = a->head;
    if (!blk || blk->size - blk->used < need)
        blk = new_block(a, need);
    void *p = blk->data + blk->used;
    blk->used += need;
    a->used_total += need;
    return p;
}

void *sl_arena_calloc(sl_arena *a, size_t n) {
    void *p = sl_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *sl_arena_realloc(sl_arena *a, void *old, size_t old_n, size_t new_n) {
    if (!old)
        return sl_arena_alloc(a, new_n);
    if (new_n <= old_n)
        return old;
    sl_arena_block *blk = a->head;
    char *p = old;
    if (blk && p >= blk->data && p + align_up(old_n) == blk->data + blk->used) {
        size_t start = (size_t)(p - blk->data);
        if (new_n <= blk->size - start) {
            size_t grown = align_up(new_n) - align_up(old_n);
            blk->used += grown;
            a->used_total += grown;
            return old;
        }
    }
    void *q = sl_arena_alloc(a, new_n);
    memcpy(q, old, old_n);
    return q;
}

char *sl_arena_strndup(sl_arena *a, const char *s, size_t n) {
    char *p = sl_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void sl_arena_reset(sl_arena *a) {
    sl_arena_block *blk = a->head;
    while (blk && blk->prev) {
        sl_arena_block *prev = blk->prev;
        free(blk);
        blk = prev;
    }
    a->head = blk;
    if (blk)
        blk->used = 0;
    a->used_total = 0;
}

void sl_arena_free(sl_arena *a) {
    sl_arena_block *blk = a->head;
    while (blk) {
        sl_arena_block *prev = blk->prev;
        free(blk);
        blk = prev;
    }
    a->head = NULL;
    a->used_total = 0;
}

size_t sl_arena_footprint(const sl_arena *a) {
    size_t total = 0;
    for (const sl_arena_block *blk = a->head; blk; blk = blk->prev)
        total += sizeof(sl_arena_block) + blk->size;
    return total;
}
