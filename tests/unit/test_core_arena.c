/* test_core_arena.c — the arena allocator, the byte buffer, errors, and
 * batches (including re-pointing frames when the data buffer grows). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/arena.h"
#include "core/batch.h"
#include "core/buf.h"
#include "core/error.h"

static void test_alignment_and_blocks(void) {
    sl_arena a;
    sl_arena_init(&a, 0);
    CHECK_INT(sl_arena_footprint(&a), 0);
    for (size_t n = 1; n < 200; n += 7) {
        char *p = sl_arena_alloc(&a, n);
        CHECK_INT((uintptr_t)p % 16, 0);
        memset(p, 0xab, n);
    }
    /* Larger than any block: gets its own. */
    char *big = sl_arena_alloc(&a, 1 << 20);
    CHECK_INT((uintptr_t)big % 16, 0);
    memset(big, 1, 1 << 20);
    CHECK(sl_arena_footprint(&a) >= (1 << 20) + 4096);
    char *z = sl_arena_calloc(&a, 100);
    int zero = 1;
    for (int i = 0; i < 100; i++)
        zero &= z[i] == 0;
    CHECK(zero);
    char *s = sl_arena_strndup(&a, "hello world", 5);
    CHECK_STR(s, "hello");
    sl_arena_reset(&a);
    CHECK_INT(a.used_total, 0);
    CHECK(sl_arena_footprint(&a) > 0);   /* one block kept */
    CHECK((uintptr_t)sl_arena_alloc(&a, 3) % 16 == 0);
    sl_arena_free(&a);
    CHECK_INT(sl_arena_footprint(&a), 0);
}

static void test_realloc_in_place(void) {
    sl_arena a;
    sl_arena_init(&a, 4096);
    char *p = sl_arena_alloc(&a, 32);
    memcpy(p, "0123456789", 10);
    char *q = sl_arena_realloc(&a, p, 32, 100);
    CHECK(q == p);                         /* last allocation: grows in place */
    CHECK(memcmp(q, "0123456789", 10) == 0);
    char *other = sl_arena_alloc(&a, 16);
    CHECK(other >= q + 100);               /* the grown space is not reused */
    char *r = sl_arena_realloc(&a, q, 100, 200);
    CHECK(r != q);                         /* no longer last: copied */
    CHECK(memcmp(r, "0123456789", 10) == 0);
    char *t = sl_arena_realloc(&a, r, 200, 100000);   /* does not fit: copied */
    CHECK(memcmp(t, "0123456789", 10) == 0);
    CHECK(sl_arena_realloc(&a, t, 100000, 10) == t);  /* shrinking is a no-op */
    sl_arena_free(&a);
}

static void test_buf(void) {
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, "hello");
    sl_buf_putc(&b, ' ');
    sl_buf_printf(&b, "%s %d", "world", 42);
    CHECK_STR(b.data, "hello world 42");
    CHECK_INT(b.len, 14);
    CHECK(b.cap >= b.len);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sl_buf_printf(&b, "[%s]", big);
    CHECK_INT(b.len, 14 + 1001);
    CHECK(b.data[b.len - 1] == ']' && b.data[b.len] == '\0');
    sl_buf_consume(&b, 6);
    CHECK(strncmp(b.data, "world 42[x", 10) == 0);
    sl_buf_consume(&b, 100000);
    CHECK_INT(b.len, 0);
    sl_buf_append(&b, "abc", 3);
    size_t len;
    char *p = sl_buf_steal(&b, &len);
    CHECK_INT(len, 3);
    CHECK_STR(p, "abc");
    CHECK(b.data == NULL && b.len == 0);
    free(p);
    p = sl_buf_steal(&b, &len);   /* empty buffer: an empty string */
    CHECK_INT(len, 0);
    CHECK_STR(p, "");
    free(p);
    sl_buf_free(&b);
}

static void test_error(void) {
    sl_error err;
    CHECK_INT(sl_errorf(&err, "cannot open %s", "x.yaml"), -1);
    CHECK_STR(err.msg, "cannot open x.yaml");
    CHECK_INT(sl_error_prefix(&err, "source '%s'", "events"), -1);
    CHECK_STR(err.msg, "source 'events': cannot open x.yaml");
    CHECK_INT(sl_errorf(NULL, "ignored"), -1);
}

static void test_batch_growth_rebases_frames(void) {
    sl_batch *b = sl_batch_new(16, 1);
    char line[32];
    for (int i = 0; i < 50; i++) {
        int n = snprintf(line, sizeof line, "{\"i\":%d}", i);
        sl_record *r = sl_batch_add_bytes(b, line, (size_t)n, (sl_position){7, (uint64_t)i * 10});
        CHECK(r->raw >= b->data && r->raw + r->raw_len <= b->data + b->data_len);
    }
    CHECK_INT(b->count, 50);
    CHECK(b->data_cap >= b->data_len);
    int ok = 1;
    for (int i = 0; i < 50; i++) {
        int n = snprintf(line, sizeof line, "{\"i\":%d}", i);
        sl_record *r = &b->records[i];
        ok &= r->raw_len == (uint32_t)n && memcmp(r->raw, line, (size_t)n) == 0;
        ok &= r->raw >= b->data && r->raw < b->data + b->data_len;
        ok &= r->pos.file_id == 7 && r->pos.offset == (uint64_t)i * 10;
        ok &= sl_record_value(r)->type == SL_NULL;
    }
    CHECK(ok);
    /* The padding after data_cap is writable (simdjson reads ahead). */
    memset(b->data + b->data_cap, 0, SL_BUF_PADDING);

    /* Frames copied in by the source, and records built directly. */
    CHECK_INT(b->data_len, 390);
    CHECK_INT(b->data_cap, 512);   /* 16 doubled until 390 fits */
    memcpy(b->data + b->data_len, "tail", 4);
    sl_record *f = sl_batch_add_frame(b, b->data_len, 4, (sl_position){0, 99});
    b->data_len += 4;
    CHECK_MEM(f->raw, f->raw_len, "tail");
    sl_value m = sl_map_new(&b->arena, 1);
    sl_map_append(&b->arena, &m, "k", 1, sl_int(1));
    sl_record *r = sl_batch_add_record(b, m, (sl_position){0, 100});
    CHECK(r->raw == NULL && sl_record_value(r)->type == SL_MAP);
    /* Growing again after a built record leaves its NULL raw alone. */
    char big[5000];
    memset(big, 'y', sizeof big);
    sl_record *g = sl_batch_add_bytes(b, big, sizeof big, (sl_position){0, 101});
    CHECK_INT(g->raw_len, 5000);
    CHECK(b->records[b->count - 2].raw == NULL);
    CHECK(memcmp(b->records[0].raw, "{\"i\":0}", 7) == 0);
    sl_batch_free(b);
}

int main(void) {
    RUN(test_alignment_and_blocks);
    RUN(test_realloc_in_place);
    RUN(test_buf);
    RUN(test_error);
    RUN(test_batch_growth_rebases_frames);
    return check_report();
}
