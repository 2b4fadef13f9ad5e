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

/* A state kept as a JSON value (the dedup indexes, the manifest): how to
 * make one, load it, save it and free it. */
typedef struct value_state {
    void *(*make)(void);
    int (*load)(void *state, const sl_value *v, sl_error *err);
    void (*save)(void *state, sl_buf *out);
    void (*destroy)(void *state);
} value_state;

/* Loads v as kind k: refused with a reason, or accepted and saved to a text
 * that loads and saves back to the same text. */
static void round_trip(const value_state *k, const sl_value *v)
{
    void *x = k->make(), *again = k->make();
    sl_error err = {0};
    if (k->load(x, v, &err) == 0) {
        sl_buf a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        sl_arena arena;
        sl_arena_init(&arena, 4096);
        k->save(x, &a);
        sl_value saved = reparse(&arena, &a);
        if (k->load(again, &saved, &err) < 0)
            abort();
        k->save(again, &b);
        same(&a, &b);
        sl_arena_free(&arena);
        sl_buf_free(&a);
        sl_buf_free(&b);
    } else if (!err.msg[0]) {
        abort();
    }
    k->destroy(x);
    k->destroy(again);
}

static void *alloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p) abort();
    return p;
}

static void *seen_make(void)
{
    sl_seen_set *s = alloc(sizeof *s);
    sl_seen_set_init(s, MAX_ENTRIES);
    return s;
}
static int seen_load(void *s, const sl_value *v, sl_error *err) { return sl_seen_set_restore(s, v, err); }
static void seen_save(void *s, sl_buf *out) { sl_seen_set_save(s, true, out); }
static void seen_destroy(void *s) { sl_seen_set_free(s); free(s); }

static void *lsh_make(void)   /* the dedup defaults: 256 values in 12 bands of 4 */
{
    sl_lsh_index *x = alloc(sizeof *x);
    if (sl_lsh_index_init(x, 12, 4, 256, MAX_ENTRIES) < 0)
        abort();
    return x;
}
static int lsh_load(void *x, const sl_value *v, sl_error *err) { return sl_lsh_index_restore(x, v, err); }
static void lsh_save(void *x, sl_buf *out) { sl_lsh_index_save(x, out); }
static void lsh_destroy(void *x) { sl_lsh_index_free(x); free(x); }

static void *manifest_make(void)
{
    sl_manifest *m = alloc(sizeof *m);
    sl_manifest_init(m);
    return m;
}
static int manifest_load(void *m, const sl_value *v, sl_error *err) { return sl_manifest_load(m, v, err); }
static void manifest_save(void *m, sl_buf *out) { sl_manifest_save(m, out); }
static void manifest_destroy(void *m) { sl_manifest_free(m); free(m); }

static const value_state SEEN_SET = {seen_make, seen_load, seen_save, seen_destroy};
static const value_state LSH_INDEX = {lsh_make, lsh_load, lsh_save, lsh_destroy};
static const value_state MANIFEST = {manifest_make, manifest_load, manifest_save, manifest_destroy};

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
        round_trip(&SEEN_SET, index ? index : &v);
        round_trip(&LSH_INDEX, index ? index : &v);
        round_trip(&MANIFEST, inner ? inner : &v);
    }
    sl_arena_free(&a);
    sl_buf_free(&json);
    return 0;
}
