/* payload.c — a sink's encoded output for one batch (see component.h).
 *
 * A payload has one part per partition key (e.g. each rendered path of a
 * file sink's path template) plus the default part (key NULL). Sinks with a
 * handful of keys per batch are the norm, so parts are a small array searched
 * linearly.
 */
#include <stdlib.h>
#include <string.h>

#include "component.h"

sl_payload_part *sl_payload_part_get(sl_payload *p, const char *key, size_t key_len)
{
    for (size_t i = 0; i < p->count; i++) {
        sl_payload_part *part = &p->parts[i];
        if (!key && !part->key) return part;
        if (key && part->key && strlen(part->key) == key_len && memcmp(part->key, key, key_len) == 0)
            return part;
    }
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->parts = realloc(p->parts, p->cap * sizeof *p->parts);
        if (!p->parts) abort();
    }
    sl_payload_part *part = &p->parts[p->count++];
    part->key = NULL;
    if (key) {
        part->key = malloc(key_len + 1);
        if (!part->key) abort();
        memcpy(part->key, key, key_len);
        part->key[key_len] = '\0';
    }
    sl_buf_init(&part->data);
    part->records = 0;
    return part;
}

void sl_payload_free(sl_payload *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->parts[i].key);
        sl_buf_free(&p->parts[i].data);
    }
    free(p->parts);
    p->parts = NULL;
    p->count = p->cap = 0;
    p->records = p->bytes = 0;
}
