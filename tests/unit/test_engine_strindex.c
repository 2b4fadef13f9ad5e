/* test_engine_strindex.c — the string index (core/strindex.h) and the
 * payload's part lookup built on it (runtime/payload.c): found by key past
 * the linear threshold, after growth, after a clear and a rebuild. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/strindex.h"
#include "../../src/runtime/component.h"
#include "check.h"

#define N 3000

static char keys[N][16];

static const char *key_at(const void *ctx, size_t i) {
    (void)ctx;
    return keys[i];
}

static void test_find_add_clear(void) {
    sl_strindex x;
    sl_strindex_init(&x);
    CHECK_INT(sl_strindex_find(&x, "a", 1, key_at, NULL), -1);
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "out/m%zu.jsonl", i);
        sl_strindex_add(&x, i, key_at, NULL);
    }
    int found = 0;
    for (size_t i = 0; i < N; i++)
        found += sl_strindex_find(&x, keys[i], strlen(keys[i]), key_at, NULL) == (long)i;
    CHECK_INT(found, N);
    /* a prefix of a key, and a key with more after it, are other keys */
    CHECK_INT(sl_strindex_find(&x, "out/m1", 6, key_at, NULL), -1);
    CHECK_INT(sl_strindex_find(&x, "out/m1.jsonl", 11, key_at, NULL), -1);
    sl_strindex_clear(&x);
    CHECK_INT(sl_strindex_find(&x, keys[5], strlen(keys[5]), key_at, NULL), -1);
    sl_strindex_add(&x, 5, key_at, NULL);
    CHECK_INT(sl_strindex_find(&x, keys[5], strlen(keys[5]), key_at, NULL), 5);
    sl_strindex_free(&x);
}

static void test_payload_parts(void) {
    sl_payload p = {0};
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 100; i++) {
            char key[32];
            int n = snprintf(key, sizeof key, "k%zu", i);
            sl_payload_part_get(&p, key, (size_t)n)->records++;
        }
    sl_payload_part_get(&p, NULL, 0)->records++;
    CHECK_INT(p.count, 101);
    int twice = 0;
    for (size_t i = 0; i < 100; i++) twice += p.parts[i].records == 2;
    CHECK_INT(twice, 100);
    CHECK(p.parts[100].key == NULL && p.parts[100].records == 1);
    sl_payload_free(&p);
}

/* Parts laid out in one block hold their own bytes side by side; a part
 * taken out (as a retry does) leaves the others whole. */
static void test_payload_parts_in_one_block(void) {
    sl_payload p = {0};
    sl_payload_part_get(&p, "a", 1);
    sl_payload_part_get(&p, "b", 1);
    uint64_t sizes[2] = {4, 3};
    sl_payload_layout(&p, sizes);
    sl_payload_part_put(&p.parts[1], "x", 1);
    sl_payload_part_put(&p.parts[0], "12", 2);
    sl_payload_part_put(&p.parts[1], "yz", 2);
    sl_payload_part_put(&p.parts[0], "34", 2);
    CHECK(p.parts[0].in_block && p.parts[0].data.len == 4 && memcmp(p.parts[0].data.data, "1234", 4) == 0);
    CHECK(p.parts[1].data.len == 3 && memcmp(p.parts[1].data.data, "xyz", 3) == 0);
    sl_payload_part_release(&p.parts[0]);
    CHECK(p.parts[0].data.len == 0 && !p.parts[0].in_block);
    CHECK(memcmp(p.parts[1].data.data, "xyz", 3) == 0);
    sl_payload_free(&p);   /* frees the block once (ASan says so) */
}

int main(void) {
    RUN(test_find_add_clear);
    RUN(test_payload_parts);
    RUN(test_payload_parts_in_one_block);
    return check_report();
}
