/* payload.c — a sink's encoded output for one batch (see component.h).
 *
 * A payload has one part per partition key (e.g. each rendered path of a
 * file sink's path template) plus the default part (key NULL). A handful of
 * parts is searched linearly; past that, by a hash index of the keys (a
 * template like "out/{{ .model }}/{{ .date }}.jsonl" can make a thousand
 * parts of one batch). The index is built lazily over parts[0..indexed);
 * code that takes parts out must clear it (sink_retry.c does).
 *
 * Also here: sl_sink_hold, for the encoded bytes a sink keeps after write.
 */
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "component.h"

#define LINEAR_PARTS 8
#define KEYS_BLOCK 16384   /* the first block of a payload's keys */

static const char *key_of(const void *payload, size_t i)
{
    return ((const sl_payload *)payload)->parts[i].key;
}

/* The existing part for key, or NULL. */
static sl_payload_part *find(sl_payload *p, const char *key, size_t key_len)
{
    if (key && p->count >= LINEAR_PARTS) {
        for (; p->indexed < p->count; p->indexed++)
            if (p->parts[p->indexed].key) sl_strindex_add(&p->index, p->indexed, key_of, p);
        long i = sl_strindex_find(&p->index, key, key_len, key_of, p);
        return i >= 0 ? &p->parts[i] : NULL;
    }
    for (size_t i = 0; i < p->count; i++) {
        sl_payload_part *part = &p->parts[i];
        if (!key && !part->key) return part;
        if (key && part->key && strlen(part->key) == key_len && memcmp(part->key, key, key_len) == 0)
            return part;
    }
    return NULL;
}

sl_payload_part *sl_payload_part_get(sl_payload *p, const char *key, size_t key_len)
{
    sl_payload_part *found = find(p, key, key_len);
    if (found) return found;
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->parts = realloc(p->parts, p->cap * sizeof *p->parts);
        if (!p->parts) abort();
    }
    sl_payload_part *part = &p->parts[p->count++];
    part->key = NULL;
    if (key) {
        if (!p->keys.block_size) sl_arena_init(&p->keys, KEYS_BLOCK);
        part->key = sl_arena_strndup(&p->keys, key, key_len);
    }
    sl_buf_init(&part->data);
    part->records = 0;
    part->in_block = false;
    return part;
}

void sl_payload_layout(sl_payload *p, const uint64_t *sizes)
{
    uint64_t total = 0;
    for (size_t i = 0; i < p->count; i++) total += sizes[i];
    free(p->block);
    p->block = malloc(total ? (size_t)total : 1);
    if (!p->block) abort();
    for (size_t i = 0, at = 0; i < p->count; at += sizes[i++]) {
        sl_buf_free(&p->parts[i].data);
        p->parts[i].data = (sl_buf){.data = p->block + at, .len = 0, .cap = (size_t)sizes[i]};
        p->parts[i].in_block = true;
    }
}

void sl_payload_part_put(sl_payload_part *part, const void *bytes, size_t n)
{
    if (!part->in_block || n > part->data.cap - part->data.len) abort();   /* a caller's bug */
    memcpy(part->data.data + part->data.len, bytes, n);
    part->data.len += n;
}

void sl_payload_part_release(sl_payload_part *part)
{
    if (part->in_block) sl_buf_init(&part->data);
    else sl_buf_free(&part->data);
    part->in_block = false;
}

void sl_payload_free(sl_payload *p)
{
    for (size_t i = 0; i < p->count; i++) sl_payload_part_release(&p->parts[i]);
    free(p->block);
    p->block = NULL;
    sl_arena_free(&p->keys);
    free(p->parts);
    sl_strindex_free(&p->index);
    p->indexed = 0;
    p->parts = NULL;
    p->count = p->cap = 0;
    p->records = p->bytes = 0;
}

void sl_sink_hold(sl_component *c, int64_t bytes)
{
    if (!c->budget || bytes == 0) return;
    if (bytes > 0) sl_budget_force(c->budget, (uint64_t)bytes);
    else sl_budget_release(c->budget, (uint64_t)-bytes);
}

uint64_t sl_sink_hold_max(const sl_component *c)
{
    return c->budget ? c->budget->limit / 8 : UINT64_MAX;
}
