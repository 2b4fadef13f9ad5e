/* test_core_value.c — the record model: map order and edits, clone, equality,
 * ordering and hashing of values. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/value.h"

static sl_arena arena;

#define KEY(s) (s), strlen(s)

static const char *key_at(const sl_value *m, uint32_t i) {
    static char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)m->as.fields[i].key_len, m->as.fields[i].key);
    return buf;
}

static void test_constructors(void) {
    CHECK_INT(sizeof(sl_value), 24);
    CHECK_INT(sl_uint(5).type, SL_INT);
    CHECK_INT(sl_uint(5).as.i, 5);
    CHECK_INT(sl_uint(UINT64_MAX).type, SL_UINT);
    CHECK_STR(sl_type_name(SL_UINT), "int");
    CHECK_STR(sl_type_name(SL_DOUBLE), "float");
    CHECK_STR(sl_type_name(SL_MAP), "map");
    sl_value s = sl_string_copy(&arena, "hello", 5);
    CHECK_INT(s.len, 5);
    CHECK_MEM(s.as.s, s.len, "hello");
    CHECK(sl_value_truthy(&s));
    sl_value n = sl_null(), f = sl_bool(false), z = sl_int(0);
    CHECK(!sl_value_truthy(&n));
    CHECK(!sl_value_truthy(&f));
    CHECK(sl_value_truthy(&z));
    double d;
    CHECK(sl_value_as_double(&z, &d) && d == 0.0);
    CHECK(!sl_value_as_double(&s, &d));
}

static void test_map_order_and_edits(void) {
    sl_value m = sl_map_new(&arena, 0);
    for (int i = 0; i < 20; i++) {
        char *k = sl_arena_alloc(&arena, 8);
        int n = snprintf(k, 8, "k%d", i);
        sl_map_set(&arena, &m, k, (size_t)n, sl_int(i));
    }
    CHECK_INT(m.len, 20);
    CHECK_STR(key_at(&m, 0), "k0");
    CHECK_STR(key_at(&m, 19), "k19");
    CHECK_INT(sl_map_get(&m, KEY("k7"))->as.i, 7);
    CHECK(sl_map_get(&m, KEY("k77")) == NULL);
    CHECK(sl_map_get(&m, KEY("k")) == NULL);

    /* Replacing keeps the position of the first occurrence. */
    sl_map_set(&arena, &m, KEY("k3"), sl_cstring("three"));
    CHECK_INT(m.len, 20);
    CHECK_STR(key_at(&m, 3), "k3");
    CHECK_INT(m.as.fields[3].value.type, SL_STRING);

    CHECK(sl_map_delete(&m, KEY("k0")));
    CHECK(!sl_map_delete(&m, KEY("k0")));
    CHECK_INT(m.len, 19);
    CHECK_STR(key_at(&m, 0), "k1");
    CHECK_STR(key_at(&m, 18), "k19");

    /* Rename keeps the position; an existing target elsewhere is removed. */
    CHECK(sl_map_rename(&m, KEY("k5"), KEY("five")));
    CHECK_STR(key_at(&m, 4), "five");
    CHECK_INT(sl_map_get(&m, KEY("five"))->as.i, 5);
    CHECK(sl_map_rename(&m, KEY("k10"), KEY("k2")));   /* k2 sits before k10 */
    CHECK_INT(m.len, 18);
    CHECK_STR(key_at(&m, 0), "k1");
    CHECK_STR(key_at(&m, 1), "k3");
    CHECK_INT(sl_map_get(&m, KEY("k2"))->as.i, 10);
    CHECK_STR(key_at(&m, 8), "k2");
    CHECK(!sl_map_rename(&m, KEY("nope"), KEY("x")));
    CHECK(sl_map_rename(&m, KEY("k1"), KEY("k1")));
    CHECK_INT(m.len, 18);

    sl_value arr = sl_array_new(&arena, 1);
    for (int i = 0; i < 100; i++)
        sl_array_push(&arena, &arr, sl_int(i));
    CHECK_INT(arr.len, 100);
    CHECK_INT(arr.as.items[99].as.i, 99);
}

static sl_value sample_record(sl_arena *a, const char *text) {
    sl_value m = sl_map_new(a, 2);
    sl_map_append(a, &m, KEY("msg"), sl_cstring(text));
    sl_value n = sl_int(15);
    n.x.raw = "1.5e1";
    n.raw_len = 5;
    sl_map_append(a, &m, KEY("n"), n);
    sl_value arr = sl_array_new(a, 0);
    sl_array_push(a, &arr, sl_bool(true));
    sl_array_push(a, &arr, sl_null());
    sl_map_append(a, &m, KEY("list"), arr);
    return m;
}

static void test_clone(void) {
    char text[] = "original";
    sl_value m = sample_record(&arena, text);
    sl_arena other;
    sl_arena_init(&other, 0);
    sl_value c = sl_value_clone(&other, &m);
    CHECK(sl_value_equal(&m, &c));
    text[0] = 'X';   /* the clone owns its strings */
    sl_value *msg = sl_map_get(&c, KEY("msg"));
    CHECK_MEM(msg->as.s, msg->len, "original");
    CHECK(msg->as.s != text);
    sl_value *n = sl_map_get(&c, KEY("n"));
    CHECK_MEM(n->x.raw, n->raw_len, "1.5e1");
    CHECK_INT(sl_map_get(&c, KEY("list"))->len, 2);
    /* Editing the clone leaves the original alone. */
    sl_map_delete(&c, KEY("msg"));
    CHECK_INT(m.len, 3);
    sl_arena_free(&other);
}

static void test_equal_and_compare(void) {
    sl_value i1 = sl_int(1), d1 = sl_double(1.0), d15 = sl_double(1.5);
    sl_value big = sl_uint(UINT64_MAX), bigd = sl_double(18446744073709551615.0);
    sl_value p53 = sl_int(9007199254740993), d53 = sl_double(9007199254740992.0);
    sl_value s1 = sl_cstring("1"), b1 = sl_bytes("1", 1);
    bool inc;
    CHECK(sl_value_equal(&i1, &d1));
    CHECK(!sl_value_equal(&i1, &d15));
    CHECK(!sl_value_equal(&i1, &s1));
    CHECK(!sl_value_equal(&s1, &b1));
    CHECK(!sl_value_equal(&p53, &d53));          /* no rounding through double */
    CHECK_INT(sl_value_compare(&p53, &d53, &inc), 1);
    CHECK(!inc);
    CHECK(!sl_value_equal(&big, &bigd));         /* bigd is 2^64 */
    CHECK_INT(sl_value_compare(&big, &bigd, &inc), -1);
    CHECK_INT(sl_value_compare(&i1, &d15, &inc), -1);
    CHECK_INT(sl_value_compare(&d15, &i1, &inc), 1);
    CHECK_INT(sl_value_compare(&i1, &d1, &inc), 0);
    sl_value neg = sl_int(-1);
    CHECK_INT(sl_value_compare(&neg, &big, &inc), -1);
    CHECK_INT(sl_value_compare(&big, &neg, &inc), 1);

    sl_value a = sl_cstring("abc"), ab = sl_cstring("ab"), b = sl_cstring("b");
    CHECK_INT(sl_value_compare(&a, &b, &inc), -1);
    CHECK_INT(sl_value_compare(&ab, &a, &inc), -1);
    CHECK_INT(sl_value_compare(&a, &a, &inc), 0);
    CHECK(!inc);
    sl_value_compare(&a, &i1, &inc);
    CHECK(inc);

    sl_value nan = sl_double(NAN), inf = sl_double(INFINITY);
    CHECK_INT(sl_value_compare(&inf, &nan, &inc), -1);
    CHECK(!inc);
    CHECK(sl_value_equal(&nan, &nan));

    sl_value t1 = sl_timestamp(5), t2 = sl_timestamp(6);
    CHECK_INT(sl_value_compare(&t1, &t2, &inc), -1);
    sl_value_compare(&t1, &i1, &inc);
    CHECK(inc);

    sl_value m1 = sample_record(&arena, "x"), m2 = sample_record(&arena, "x");
    sl_value m3 = sample_record(&arena, "y");
    CHECK(sl_value_equal(&m1, &m2));
    CHECK(!sl_value_equal(&m1, &m3));
    CHECK_INT(sl_value_compare(&m1, &m2, &inc), 0);
    CHECK(!inc);
    sl_value_compare(&m1, &m3, &inc);
    CHECK(inc);
    /* Maps are ordered field lists: the same fields in another order differ. */
    sl_value r1 = sl_map_new(&arena, 2), r2 = sl_map_new(&arena, 2);
    sl_map_append(&arena, &r1, KEY("a"), sl_int(1));
    sl_map_append(&arena, &r1, KEY("b"), sl_int(2));
    sl_map_append(&arena, &r2, KEY("b"), sl_int(2));
    sl_map_append(&arena, &r2, KEY("a"), sl_int(1));
    CHECK(!sl_value_equal(&r1, &r2));
}

static void test_hash(void) {
    sl_value i1 = sl_int(1), d1 = sl_double(1.0), d15 = sl_double(1.5);
    sl_value s1 = sl_cstring("1"), b1 = sl_bytes("1", 1);
    sl_value big = sl_uint(UINT64_MAX - 2047), bigd = sl_double(18446744073709549568.0);
    sl_value zero = sl_int(0), negzero = sl_double(-0.0);
    CHECK(sl_value_hash(&i1, 0) == sl_value_hash(&d1, 0));
    CHECK(sl_value_hash(&big, 7) == sl_value_hash(&bigd, 7));
    CHECK(sl_value_equal(&big, &bigd));
    CHECK(sl_value_hash(&zero, 0) == sl_value_hash(&negzero, 0));
    CHECK(sl_value_hash(&i1, 0) != sl_value_hash(&d15, 0));
    CHECK(sl_value_hash(&i1, 0) != sl_value_hash(&s1, 0));
    CHECK(sl_value_hash(&s1, 0) != sl_value_hash(&b1, 0));
    CHECK(sl_value_hash(&s1, 0) != sl_value_hash(&s1, 1));
    sl_value m1 = sample_record(&arena, "x"), m2 = sample_record(&arena, "x");
    sl_value m3 = sample_record(&arena, "y");
    CHECK(sl_value_hash(&m1, 0) == sl_value_hash(&m2, 0));
    CHECK(sl_value_hash(&m1, 0) != sl_value_hash(&m3, 0));
    /* Stable across runs and machines: pinned values. */
    sl_value hello = sl_cstring("hello");
    CHECK(sl_value_hash(&hello, 0) == 0x8866a9fbd9d898dcull);
    CHECK(sl_value_hash(&i1, 0) == 0xa2a27a2a65b09a01ull);
}

int main(void) {
    sl_arena_init(&arena, 0);
    RUN(test_constructors);
    RUN(test_map_order_and_edits);
    RUN(test_clone);
    RUN(test_equal_and_compare);
    RUN(test_hash);
    sl_arena_free(&arena);
    return check_report();
}
