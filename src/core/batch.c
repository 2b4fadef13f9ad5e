/* batch.c — batches of framed input and their records (see batch.h).
 *
 * b->data holds the input bytes, always with SL_BUF_PADDING spare bytes after
 * data_cap for simdjson. Frames point into it through record->raw. Before
 * decoding nothing else points into data, so when sl_batch_add_bytes has to
 * grow it, re-pointing each record's raw at the new buffer is all it takes.
 * A record left unbuilt points at its batch, whose hook builds its value
 * the first time it is read (sl_record_build).
 */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void out_of_memory(size_t n) {
    fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", n);
    abort();
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

sl_batch *sl_batch_new(size_t data_cap, uint32_t cap) {
    sl_batch *b = calloc(1, sizeof *b);
    if (!b)
        out_of_memory(sizeof *b);
    b->data = xrealloc(NULL, data_cap + SL_BUF_PADDING);
    b->data_cap = data_cap;
    b->records = cap ? xrealloc(NULL, (size_t)cap * sizeof(sl_record)) : NULL;
    b->cap = cap;
    /* Decoded records take roughly twice their input size. */
    sl_arena_init(&b->arena, data_cap * 2);
    return b;
}

void sl_batch_free(sl_batch *b) {
    if (!b)
        return;
    sl_arena_free(&b->arena);
    free(b->records);
    free(b->data);
    free(b);
}

static sl_record *next_record(sl_batch *b) {
    if (b->count == b->cap) {
        uint32_t cap = b->cap < 16 ? 16 : b->cap * 2;
        b->records = xrealloc(b->records, (size_t)cap * sizeof(sl_record));
        b->cap = cap;
    }
    sl_record *r = &b->records[b->count++];
    memset(r, 0, sizeof *r);
    return r;
}

sl_record *sl_batch_add_frame(sl_batch *b, size_t off, size_t len, sl_position pos) {
    sl_record *r = next_record(b);
    r->raw = b->data + off;
    r->raw_len = (uint32_t)len;
    r->pos = pos;
    return r;
}

/* Grows data to hold at least `need` bytes, re-pointing frames at the copy. */
static void grow_data(sl_batch *b, size_t need) {
    size_t cap = b->data_cap ? b->data_cap : 4096;
    while (cap < need)
        cap *= 2;
    char *old = b->data;
    char *data = malloc(cap + SL_BUF_PADDING);
    if (!data)
        out_of_memory(cap + SL_BUF_PADDING);
    memcpy(data, old, b->data_len);
    for (uint32_t i = 0; i < b->count; i++) {
        sl_record *r = &b->records[i];
        if (r->raw >= old && r->raw <= old + b->data_len)
            r->raw = data + (r->raw - old);
    }
    free(old);
    b->data = data;
    b->data_cap = cap;
}

sl_record *sl_batch_add_bytes(sl_batch *b, const char *p, size_t len, sl_position pos) {
    if (len > b->data_cap - b->data_len)
        grow_data(b, b->data_len + len);
    size_t off = b->data_len;
    if (len)
        memcpy(b->data + off, p, len);
    b->data_len += len;
    return sl_batch_add_frame(b, off, len, pos);
}

sl_record *sl_batch_add_record(sl_batch *b, sl_value v, sl_position pos) {
    sl_record *r = next_record(b);
    r->value_ = v;
    r->pos = pos;
    return r;
}

void sl_record_build(sl_record *r) {
    sl_batch *b = r->unbuilt_;
    r->unbuilt_ = NULL;
    b->build(b, r);
}
