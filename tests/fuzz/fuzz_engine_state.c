/* fuzz_engine_state.c — libFuzzer target for the component states a
 * checkpoint holds, which a resuming run decodes from whatever the last run
 * (or a damaged disk with a matching checksum) left: the positions of the
 * file, tail and dlq sources (sl_file_positions_load), the exact and near
 * dedup indexes (sl_seen_set_restore, sl_lsh_index_restore) and the dataset
 * sink's manifest (sl_manifest_load). The input is one JSON value; each
 * decoder gets it, and its "index" or "manifest" member when it has one (as
 * the dedup and dataset states nest them). Any input must be refused with a
 * reason or accepted; what is accepted saves to a text that loads back to
 * the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_state.h"
#include "core/arena.h"
#include "core/buf.h"
#include "sinks/manifest.h"
#include "sketch/seen_set.h"
#include "sources/file_position.h"
#include "text/lsh_index.h"

#define MAX_ENTRIES 4096

static void same(const sl_buf *a, const sl_buf *b)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
        abort();
}

/* Parses text (an sl_buf, so padded) into a, or aborts: it was saved. */
static sl_value reparse(sl_arena *a, const sl_buf *text)
{
    sl_value v;
    sl_error err;
    if (sl_state_parse(a, text->data, text->len, "saved", &v, &err) < 0)
        abort();
    return v;
}

static void positions(const char *json, size_t len)
{
    sl_file_positions t = {0}, again = {0};
    sl_error err = {0};
    if (sl_file_positions_load(&t, json, len, &err) == 0) {
        sl_buf a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        sl_file_positions_save(&t, &a);
        if (sl_file_positions_load(&again, a.data, a.len, &err) < 0)
            abort();
        sl_file_positions_save(&again, &b);
        same(&a, &b);
        sl_buf_free(&a);
        sl_buf_free(&b);
    } else if (!err.msg[0]) {
        abort();
    }
    sl_file_positions_free(&t);
    sl_file_positions_free(&again);
}

static void seen_set(const sl_value *state)
{
    sl_seen_set s, again;
    sl_seen_set_init(&s, MAX_ENTRIES);
    sl_seen_set_init(&again, MAX_ENTRIES);
    sl_error err = {0};
    if (sl_seen_set_restore(&s, state, &err) == 0) {
        sl_buf a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        sl_arena arena;
        sl_arena_init(&arena, 4096);
        sl_seen_set_save(&s, true, &a);
        sl_value saved = reparse(&arena, &a);
        if (sl_seen_set_restore(&again, &saved, &err) < 0)
            abort();
        sl_seen_set_save(&again, true, &b);
        same(&a, &b);
        sl_arena_free(&arena);
        sl_buf_free(&a);
        sl_buf_free(&b);
    } else if (!err.msg[0]) {
        abort();
    }
    sl_seen_set_free(&s);
    sl_seen_set_free(&again);
}

static void lsh_index(const sl_value *state)
{
    sl_lsh_index x, again;   /* the dedup defaults: 256 values in 12 bands of 4 */
    if (sl_lsh_index_init(&x, 12, 4, 256, MAX_ENTRIES) < 0 || sl_lsh_index_init(&again, 12, 4, 256, MAX_ENTRIES) < 0)
        abort();
    sl_error err = {0};
    if (sl_lsh_index_restore(&x, state, &err) == 0) {
        sl_buf a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        sl_arena arena;
        sl_arena_init(&arena, 4096);
        sl_lsh_index_save(&x, &a);
        sl_value saved = reparse(&arena, &a);
        if (sl_lsh_index_restore(&again, &saved, &err) < 0)
            abort();
        sl_lsh_index_save(&again, &b);
        same(&a, &b);
        sl_arena_free(&arena);
        sl_buf_free(&a);
        sl_buf_free(&b);
    } else if (!err.msg[0]) {
        abort();
    }
    sl_lsh_index_free(&x);
    sl_lsh_index_free(&again);
}

static void manifest(const sl_value *state)
{
    sl_manifest m, again;
    sl_manifest_init(&m);
    sl_manifest_init(&again);
    sl_error err = {0};
    if (sl_manifest_load(&m, state, &err) == 0) {
        sl_buf a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        sl_arena arena;
        sl_arena_init(&arena, 4096);
        sl_manifest_save(&m, &a);
        sl_value saved = reparse(&arena, &a);
        if (sl_manifest_load(&again, &saved, &err) < 0)
            abort();
        sl_manifest_save(&again, &b);
        same(&a, &b);
        sl_arena_free(&arena);
        sl_buf_free(&a);
        sl_buf_free(&b);
    } else if (!err.msg[0]) {
        abort();
    }
    sl_manifest_free(&m);
    sl_manifest_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_buf json;
    sl_buf_init(&json);
    sl_buf_append(&json, data, size);
    positions(json.data, json.len);
    sl_arena a;
    sl_arena_init(&a, 16384);
    sl_value v;
    sl_error err;
    if (sl_state_parse(&a, json.data, json.len, "fuzz", &v, &err) == 0) {
        const sl_value *index = sl_state_get(&v, "index"), *inner = sl_state_get(&v, "manifest");
        seen_set(index ? index : &v);
        lsh_index(index ? index : &v);
        manifest(inner ? inner : &v);
    }
    sl_arena_free(&a);
    sl_buf_free(&json);
    return 0;
}
