/* test_engine_profile_sample.c — the sampled top-values gate of profiles
 * (src/sketch/profile.h, "Sampled top values") and the weighted top-k add
 * under it (src/sketch/topk.h): a near-unique field switches to sampling
 * and still reports a planted heavy hitter within its bounds; low-cardinality
 * fields and near-unique fields with a frequent value stay exact; profiles
 * are reproducible, and which occurrences are sampled does not depend on
 * where records come in a profile's stream; "top_sampled" survives JSON and
 * merge; old JSON without it still loads.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"
#include "sketch/profile.h"
#include "sketch/topk.h"

#define RECORDS 100000
#define HOT "HOT-VALUE"
#define HOT_FROM 10000       /* the heavy hitter starts after the gate's first test (8192) */
#define HOT_EVERY 50

/* Adds records i in [from, to): "id" unique except every HOT_EVERY-th record
 * from HOT_FROM on, which is HOT; "level" one of 5; "busy" unique except
 * every 20th record (5 %, far above n / capacity), which is "BUSY". */
static void add_records(sl_profile *p, int from, int to) {
    static const char *const levels[] = { "debug", "info", "warn", "error", "fatal" };
    char id[32], busy[32];
    for (int i = from; i < to; i++) {
        int n = i >= HOT_FROM && i % HOT_EVERY == 0 ? snprintf(id, sizeof id, HOT)
                                                      : snprintf(id, sizeof id, "id-%d", i);
        int m = i % 20 == 0 ? snprintf(busy, sizeof busy, "BUSY") : snprintf(busy, sizeof busy, "b-%d", i);
        sl_field fields[3] = {
            { .key = "id", .key_len = 2, .value = sl_string(id, (size_t)n) },
            { .key = "level", .key_len = 5, .value = sl_cstring(levels[i % 5]) },
            { .key = "busy", .key_len = 4, .value = sl_string(busy, (size_t)m) },
        };
        sl_value rec = { .type = SL_MAP, .len = 3, .as.fields = fields };
        sl_profile_add(p, &rec, (uint64_t)i);
    }
}

static sl_profile *build(int from, int to) {
    sl_error err;
    sl_profile *p = sl_profile_new(NULL, &err);
    CHECK(p != NULL);
    add_records(p, from, to);
    return p;
}

static const sl_profile_field *field(const sl_profile *p, const char *name) {
    const sl_profile_field *f = sl_profile_find(p, name, strlen(name));
    CHECK(f != NULL);
    return f;
}

static const sl_topk_entry *entry(const sl_profile_field *f, const char *value) {
    const sl_topk *t = f->topk;
    for (uint32_t i = 0; i < t->size; i++)
        if (t->entries[i].len == strlen(value) && memcmp(t->entries[i].value, value, t->entries[i].len) == 0)
            return &t->entries[i];
    return NULL;
}

/* The true frequency f of HOT must lie in [count - error, count] widened by
 * 4 standard deviations of the sampling noise, sqrt(15 × f). */
static void check_hot(const sl_profile_field *f, uint64_t truth) {
    const sl_topk_entry *e = entry(f, HOT);
    CHECK(e != NULL);
    if (!e)
        return;
    double slack = 4 * sqrt(15.0 * (double)truth);
    CHECK((double)truth >= (double)(e->count - e->error) - slack);
    CHECK((double)truth <= (double)e->count + slack);
    size_t n;
    const sl_topk_entry **sorted = sl_topk_sorted(f->topk, &n);
    CHECK(n > 0 && sorted[0] == e);             /* still the top value */
    free(sorted);
}

static uint64_t hot_count(int from, int to) {
    uint64_t c = 0;
    for (int i = from; i < to; i++)
        c += i >= HOT_FROM && i % HOT_EVERY == 0;
    return c;
}

static void test_gate(void) {
    sl_profile *p = build(0, RECORDS);
    const sl_profile_field *id = field(p, "id"), *level = field(p, "level"), *busy = field(p, "busy");
    CHECK(id->top_sampled);
    CHECK(!level->top_sampled);                 /* 5 distinct values */
    CHECK(!busy->top_sampled);                  /* near-unique, but BUSY is guaranteed frequent */
    check_hot(id, hot_count(0, RECORDS));
    /* the exact fields keep exact counts */
    CHECK_INT(entry(level, "info")->count, RECORDS / 5);
    CHECK_INT(entry(level, "info")->error, 0);
    CHECK_INT(entry(busy, "BUSY")->count - entry(busy, "BUSY")->error, RECORDS / 20);
    CHECK(entry(busy, "BUSY")->count >= RECORDS / 20);
    sl_profile_free(p);
}

static void test_deterministic_and_json(void) {
    sl_profile *a = build(0, RECORDS), *b = build(0, RECORDS);
    sl_buf ja, jb;
    sl_buf_init(&ja);
    sl_buf_init(&jb);
    sl_profile_to_json(a, &ja);
    sl_profile_to_json(b, &jb);
    sl_buf_putc(&ja, '\0');                      /* a C string for strstr */
    ja.len--;
    CHECK(ja.len == jb.len && memcmp(ja.data, jb.data, ja.len) == 0);
    /* the flag is in the JSON of the sampled field only, and reloads */
    CHECK(strstr(ja.data, "\"top_sampled\":true") != NULL);
    CHECK(strstr(strstr(ja.data, "\"top_sampled\":true") + 1, "\"top_sampled\"") == NULL);
    sl_profile *c = NULL;
    sl_error err;
    CHECK(sl_profile_from_json(ja.data, ja.len, &c, &err) == 0);
    if (c) {
        CHECK(field(c, "id")->top_sampled);
        CHECK(!field(c, "level")->top_sampled);
        jb.len = 0;
        sl_profile_to_json(c, &jb);
        CHECK(ja.len == jb.len && memcmp(ja.data, jb.data, ja.len) == 0);
        sl_profile_free(c);
    }
    /* JSON written before the flag existed loads as exact */
    const char *old = "{\"version\":1,\"records\":1,\"options\":{\"hll_lg_k\":4,\"kll_k\":8,"
                      "\"topk_capacity\":4,\"topk_max_len\":8,\"max_fields\":4},\"fields\":{\"s\":{"
                      "\"count\":1,\"nulls\":0,\"types\":{\"string\":1},\"length\":{\"min\":1,\"max\":1},"
                      "\"sketch\":{\"hll\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"length_sum\":1,"
                      "\"topk\":[{\"value\":\"x\",\"count\":1,\"error\":0}]}}}}";
    CHECK(sl_profile_from_json(old, strlen(old), &c, &err) == 0);
    if (c) {
        CHECK(!field(c, "s")->top_sampled);
        sl_profile_free(c);
    }
    const char *bad = "{\"version\":1,\"records\":0,\"options\":{\"hll_lg_k\":4,\"kll_k\":8,"
                      "\"topk_capacity\":4,\"topk_max_len\":8,\"max_fields\":4},\"fields\":{\"s\":{"
                      "\"count\":0,\"nulls\":0,\"types\":{},\"top_sampled\":true}}}";
    CHECK(sl_profile_from_json(bad, strlen(bad), &c, &err) < 0);
    CHECK(strstr(err.msg, "top_sampled") != NULL);
    sl_buf_free(&ja);
    sl_buf_free(&jb);
    sl_profile_free(a);
    sl_profile_free(b);
}

/* Adds n records of one string field "id" with the values prefix-0, prefix-1,
 * ... (or, with `values`, cycling through that many), record ids from first. */
static void add_ids(sl_profile *p, int n, const char *prefix, int values, uint64_t first) {
    char id[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(id, sizeof id, "%s-%d", prefix, values ? i % values : i);
        sl_field f = { .key = "id", .key_len = 2, .value = sl_string(id, (size_t)len) };
        sl_value rec = { .type = SL_MAP, .len = 1, .as.fields = &f };
        sl_profile_add(p, &rec, first + (uint64_t)i);
    }
}

/* Which occurrences a sampled field keeps depends on the records, not on
 * where in a profile's stream they come (as it does when a pipeline's
 * workers split the input differently): two profiles switched to sampling
 * after different numbers of strings, then given the same records, keep
 * the same occurrences of each value, so each value's sampled weight
 * (count - error, past its insertion) is the same in both. */
static void test_draw_independent_of_stream_position(void) {
    sl_profile *a = sl_profile_new(NULL, NULL), *b = sl_profile_new(NULL, NULL);
    add_ids(a, 9000, "warm-a", 0, 1u << 30);
    add_ids(b, 10001, "warm-b", 0, 2u << 30);
    CHECK(field(a, "id")->top_sampled && field(b, "id")->top_sampled);
    add_ids(a, 4000, "v", 8, 0);
    add_ids(b, 4000, "v", 8, 0);
    for (int v = 0; v < 8; v++) {
        char value[8];
        snprintf(value, sizeof value, "v-%d", v);
        const sl_topk_entry *ea = entry(field(a, "id"), value), *eb = entry(field(b, "id"), value);
        CHECK(ea != NULL && eb != NULL);
        if (!ea || !eb)
            continue;
        CHECK(ea->count - ea->error >= SL_PROFILE_TOP_SAMPLE_RATE);
        CHECK_INT(ea->count - ea->error, eb->count - eb->error);
    }
    sl_profile_free(a);
    sl_profile_free(b);
}

/* merge(exact, sampled) is sampled and sums the estimates. */
static void test_merge(void) {
    sl_profile *exact = build(0, 5000), *sampled = build(5000, RECORDS);
    CHECK(!field(exact, "id")->top_sampled);
    CHECK(field(sampled, "id")->top_sampled);
    sl_error err;
    CHECK(sl_profile_merge(exact, sampled, &err) == 0);
    const sl_profile_field *id = field(exact, "id");
    CHECK(id->top_sampled);
    CHECK(!field(exact, "level")->top_sampled);
    CHECK_INT(entry(field(exact, "level"), "warn")->count, RECORDS / 5);
    check_hot(id, hot_count(0, RECORDS));
    sl_profile_free(exact);
    sl_profile_free(sampled);
}

/* The weighted add keeps the stream-summary order (counts jump buckets). */
static void test_weighted_topk(void) {
    sl_topk t;
    CHECK(sl_topk_init(&t, 3, 8, NULL) == 0);
    const char *vals[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        sl_value v = sl_cstring(vals[i]);
        sl_topk_add_weighted(&t, vals[i], 1, sl_value_hash(&v, 0), (uint64_t)(i + 1) * 10);
    }
    sl_value d = sl_cstring("d");
    sl_topk_add_weighted(&t, "d", 1, sl_value_hash(&d, 0), 16);   /* evicts a (10): 26, error 10 */
    sl_topk_add(&t, "b", 1);                                       /* 21 */
    size_t n;
    const sl_topk_entry **s = sl_topk_sorted(&t, &n);
    CHECK_INT(n, 3);
    CHECK_MEM(s[0]->value, s[0]->len, "c");
    CHECK_INT(s[0]->count, 30);
    CHECK_MEM(s[1]->value, s[1]->len, "d");
    CHECK_INT(s[1]->count, 26);
    CHECK_INT(s[1]->error, 10);
    CHECK_MEM(s[2]->value, s[2]->len, "b");
    CHECK_INT(s[2]->count, 21);
    CHECK_INT(sl_topk_min_count(&t), 21);
    free(s);
    sl_topk_free(&t);
}

/* Random weighted adds against exact counts: the bucket list stays ordered
 * and consistent, and the space-saving bounds hold for the weighted stream. */
static void test_weighted_topk_random(void) {
    sl_topk t;
    CHECK(sl_topk_init(&t, 8, 8, NULL) == 0);
    uint64_t truth[40] = { 0 }, total = 0, state = 7;
    bool ok = true;
    for (int step = 0; step < 20000 && ok; step++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        int v = (int)((state >> 33) % 40);
        if (v >= 20)
            v %= 4;                                  /* v0..v3 are frequent */
        uint64_t w = 1 + (state >> 20) % 20;
        char name[8];
        int n = snprintf(name, sizeof name, "v%d", v);
        sl_value sv = sl_string(name, (size_t)n);
        sl_topk_add_weighted(&t, name, (size_t)n, sl_value_hash(&sv, 0), w);
        truth[v] += w;
        total += w;
        /* buckets: strictly increasing counts, each entry in the bucket of its count */
        uint32_t entries = 0;
        uint64_t last = 0;
        for (uint32_t b = t.min_bucket; b; b = t.buckets[b - 1].next) {
            const sl_topk_bucket *k = &t.buckets[b - 1];
            ok &= k->count > last && k->first != 0;
            last = k->count;
            for (uint32_t e = k->first; e; e = t.entries[e - 1].next, entries++)
                ok &= t.entries[e - 1].count == k->count && t.entries[e - 1].bucket == b;
        }
        ok &= entries == t.size;
        for (uint32_t i = 0; i < t.size; i++) {
            const sl_topk_entry *e = &t.entries[i];
            int v = 0;                               /* the number after "v" */
            for (uint32_t j = 1; j < e->len; j++)
                v = v * 10 + (e->value[j] - '0');
            uint64_t f = truth[v];
            ok &= e->count - e->error <= f && f <= e->count;
        }
        ok &= sl_topk_min_count(&t) <= total / t.capacity;
    }
    CHECK(ok);
    sl_topk_free(&t);
}

int main(void) {
    RUN(test_gate);
    RUN(test_deterministic_and_json);
    RUN(test_draw_independent_of_stream_position);
    RUN(test_merge);
    RUN(test_weighted_topk);
    RUN(test_weighted_topk_random);
    return check_report();
}
