/* test_engine_profile.c — profiles (src/sketch/profile.h) and drift
 * (src/sketch/drift.h): exact counters on known records, the JSON format and
 * its round trip, merge(profile(A), profile(B)) against profile(A ∪ B), the
 * field limit, decoder errors, and drift on shifted and identical data.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "codec/json.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/util.h"
#include "sketch/drift.h"
#include "sketch/profile.h"
#include "sketch/timeline.h"

static uint64_t rng_state;

static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

static double normal(void) {
    double u = uniform01(), v = uniform01();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Decodes one JSON text and adds it to p. */
static void add_json(sl_profile *p, const char *text) {
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, text);
    sl_arena a;
    sl_arena_init(&a, 1024);
    sl_value v;
    sl_decode_error derr;
    int rc = sl_json_decode(&a, b.data, b.len, 0, false, &v, &derr);
    CHECK(rc == 0);
    if (rc == 0)
        sl_profile_add(p, &v, sl_profile_records(p));
    sl_arena_free(&a);
    sl_buf_free(&b);
}

static sl_profile *new_profile(void) {
    sl_error err;
    sl_profile *p = sl_profile_new(NULL, &err);
    CHECK(p != NULL);
    return p;
}

static const sl_profile_field *field(const sl_profile *p, const char *name) {
    return sl_profile_find(p, name, strlen(name));
}

static void test_exact_counters(void) {
    sl_profile *p = new_profile();
    add_json(p, "{\"id\":1,\"lat\":12.5,\"name\":\"ann\",\"ok\":true,\"user\":{\"email\":\"a@x.io\",\"age\":30}}");
    add_json(p, "{\"id\":2,\"lat\":null,\"name\":\"bob\",\"ok\":false,\"user\":{\"email\":null},\"tags\":[1,2]}");
    add_json(p, "{\"id\":3,\"lat\":7,\"name\":\"ann\",\"ok\":true,\"user\":null}");
    add_json(p, "{\"id\":18446744073709551615,\"name\":\"\",\"ok\":\"yes\"}");
    add_json(p, "42");
    CHECK_INT(sl_profile_records(p), 5);

    const sl_profile_field *f = field(p, "id");
    CHECK(f != NULL);
    CHECK_INT(f->count, 4);
    CHECK_INT(f->nulls, 0);
    CHECK_INT(f->types[SL_INT], 4);          /* the uint counts as int */
    CHECK_INT(f->types[SL_UINT], 0);
    CHECK_INT(sl_profile_field_missing(p, f), 1);
    CHECK(f->num_min == 1 && f->num_max == 18446744073709551615.0);
    CHECK_INT(sl_profile_field_distinct(f), 4);

    f = field(p, "lat");
    CHECK_INT(f->count, 3);
    CHECK_INT(f->nulls, 1);
    CHECK_INT(f->types[SL_DOUBLE], 1);
    CHECK_INT(f->types[SL_INT], 1);
    CHECK_INT(sl_profile_field_missing(p, f), 2);
    CHECK(f->num_min == 7 && f->num_max == 12.5 && f->num_mean == 9.75);
    CHECK(fabs(sl_profile_field_stddev(f) - 2.75) < 1e-12);
    CHECK_INT(sl_profile_field_distinct(f), 2);

    f = field(p, "name");
    CHECK_INT(f->types[SL_STRING], 4);
    CHECK(f->len_min == 0 && f->len_max == 3 && f->len_sum == 9);
    CHECK_INT(sl_profile_field_distinct(f), 3);
    CHECK_INT(f->topk->size, 3);

    f = field(p, "ok");
    CHECK_INT(f->bool_true, 2);
    CHECK_INT(f->bool_false, 1);
    CHECK_INT(f->types[SL_STRING], 1);

    f = field(p, "user");
    CHECK_INT(f->types[SL_MAP], 2);
    CHECK_INT(f->nulls, 1);
    CHECK(f->hll == NULL);                   /* maps are not counted as distinct values */
    f = field(p, "user.email");
    CHECK_INT(f->count, 2);
    CHECK_INT(f->nulls, 1);
    CHECK_INT(sl_profile_field_missing(p, f), 3);
    f = field(p, "user.age");
    CHECK_INT(f->count, 1);
    f = field(p, "tags");
    CHECK_INT(f->types[SL_ARRAY], 1);
    CHECK(field(p, "tags.0") == NULL);       /* array items are not profiled */
    f = field(p, SL_PROFILE_ROOT_FIELD);
    CHECK_INT(f->count, 1);
    CHECK(f->num_mean == 42);

    /* first-seen order */
    const char *order[] = { "id", "lat", "name", "ok", "user", "user.email", "user.age", "tags", "_value" };
    CHECK_INT(sl_profile_field_count(p), 9);
    for (size_t i = 0; i < 9; i++)
        CHECK_STR(sl_profile_field_at(p, i)->name, order[i]);
    sl_profile_free(p);
}

static void test_json_shape(void) {
    sl_profile *p = new_profile();
    add_json(p, "{\"n\":1,\"s\":\"a\",\"b\":true,\"z\":null}");
    add_json(p, "{\"n\":3,\"s\":\"a\",\"b\":false,\"z\":null}");
    sl_buf out;
    sl_buf_init(&out);
    sl_profile_to_json(p, &out);
    const char *expect_prefix =
        "{\"version\":2,\"records\":2,\"options\":{\"hll_lg_k\":12,\"kll_k\":256,\"topk_capacity\":128,"
        "\"topk_max_len\":64,\"max_fields\":256},\"fields\":{\"n\":{\"count\":2,\"nulls\":0,\"missing\":0,"
        "\"types\":{\"int\":2},\"distinct\":2,\"min\":1.0,\"max\":3.0,\"mean\":2.0,\"stddev\":1.0,"
        "\"quantiles\":{\"0.01\":1.0,\"0.05\":1.0,\"0.25\":1.0,\"0.5\":1.0,\"0.75\":3.0,\"0.95\":3.0,\"0.99\":3.0},"
        "\"histogram\":{\"edges\":[1.0,1.2,1.4,1.6,1.8,2.0,2.2,2.4,2.6,2.8,3.0],"
        "\"counts\":[1,0,0,0,0,0,0,0,0,1]},\"sketch\":{\"hll\":\"";
    CHECK(strncmp(out.data, expect_prefix, strlen(expect_prefix)) == 0);
    if (strncmp(out.data, expect_prefix, strlen(expect_prefix)) != 0)
        fprintf(stderr, "got: %.900s\n", out.data);
    /* "a" is outside the 1-in-4 sample of character classes (chosen by hash) */
    CHECK(strstr(out.data, "\"s\":{\"count\":2,\"nulls\":0,\"missing\":0,\"types\":{\"string\":2},\"distinct\":1,"
                           "\"length\":{\"min\":1,\"max\":1,\"mean\":1.0},\"chars\":{},"
                           "\"top\":[{\"value\":\"a\",\"count\":2}],\"sketch\":{\"hll\":\"") != NULL);
    CHECK(strstr(out.data, "\"length_sum\":2,\"length_hist\":[[1,2]],"
                           "\"topk\":[{\"value\":\"a\",\"count\":2,\"error\":0}]}}") != NULL);
    CHECK(strstr(out.data, "\"bools\":{\"true\":1,\"false\":1}") != NULL);
    CHECK(strstr(out.data, "\"z\":{\"count\":2,\"nulls\":2,\"missing\":0,\"types\":{\"null\":2}}") != NULL);
    sl_buf_free(&out);
    sl_profile_free(p);
}

/* Random event-like records, as JSON text. */
static void random_record(sl_buf *b, int i, double shift) {
    static const char *levels[] = { "debug", "info", "info", "info", "warn", "error" };
    b->len = 0;
    sl_buf_printf(b, "{\"i\":%d,\"latency_ms\":%.3f,\"level\":\"%s\",\"user\":{\"id\":\"u%llu\"",
                  i, 100 + 20 * normal() + shift, levels[rnd() % 6], (unsigned long long)(rnd() % 5000));
    if (rnd() % 10 == 0)
        sl_buf_puts(b, ",\"email\":null");
    sl_buf_printf(b, "},\"ok\":%s}", rnd() % 3 ? "true" : "false");
}

static void test_round_trip(void) {
    sl_profile *p = new_profile();
    sl_buf rec;
    sl_buf_init(&rec);
    rng_state = 1;
    for (int i = 0; i < 20000; i++) {
        random_record(&rec, i, 0);
        add_json(p, rec.data);
    }
    add_json(p, "{\"weird\":\"\\u0000\\\"quote\\\"\",\"i\":\"text now\"}");
    sl_buf a, b;
    sl_buf_init(&a);
    sl_buf_init(&b);
    sl_profile_to_json(p, &a);
    sl_profile *q;
    sl_error err;
    CHECK(sl_profile_from_json(a.data, a.len, &q, &err) == 0);
    sl_profile_to_json(q, &b);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    /* a decoded profile keeps profiling identically */
    add_json(p, "{\"latency_ms\":5,\"level\":\"info\"}");
    add_json(q, "{\"latency_ms\":5,\"level\":\"info\"}");
    a.len = b.len = 0;
    sl_profile_to_json(p, &a);
    sl_profile_to_json(q, &b);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    sl_profile_free(q);
    sl_buf_free(&a);
    sl_buf_free(&b);
    sl_buf_free(&rec);
    sl_profile_free(p);
}

static void test_merge(void) {
    sl_profile *a = new_profile(), *b = new_profile(), *all = new_profile();
    sl_buf rec;
    sl_buf_init(&rec);
    rng_state = 7;
    for (int i = 0; i < 60000; i++) {
        random_record(&rec, i, i < 30000 ? 0 : 50);
        add_json(i < 30000 ? a : b, rec.data);
        add_json(all, rec.data);
    }
    add_json(b, "{\"only_b\":\"x\"}");
    add_json(all, "{\"only_b\":\"x\"}");
    sl_error err;
    CHECK(sl_profile_merge(a, b, &err) == 0);
    CHECK_INT(sl_profile_records(a), sl_profile_records(all));
    CHECK_INT(sl_profile_field_count(a), sl_profile_field_count(all));
    for (size_t i = 0; i < sl_profile_field_count(all); i++) {
        const sl_profile_field *w = sl_profile_field_at(all, i);
        const sl_profile_field *m = field(a, w->name);
        CHECK(m != NULL);
        if (!m)
            continue;
        CHECK_INT(m->count, w->count);
        CHECK_INT(m->nulls, w->nulls);
        CHECK(memcmp(m->types, w->types, sizeof m->types) == 0);
        CHECK_INT(m->num_count, w->num_count);
        CHECK(m->num_min == w->num_min && m->num_max == w->num_max);
        CHECK(m->len_count == w->len_count && m->len_min == w->len_min && m->len_max == w->len_max &&
              m->len_sum == w->len_sum);
        CHECK(m->bool_true == w->bool_true && m->bool_false == w->bool_false);
        CHECK_INT(sl_profile_field_missing(a, m), sl_profile_field_missing(all, w));
        if (w->num_count) {
            CHECK(fabs(m->num_mean - w->num_mean) <= 1e-9 * fabs(w->num_mean) + 1e-12);
            CHECK(fabs(sl_profile_field_stddev(m) - sl_profile_field_stddev(w)) <=
                  1e-9 * sl_profile_field_stddev(w));
            for (double q = 0.05; q < 1; q += 0.05) {
                double rm = sl_kll_rank(w->kll, sl_kll_quantile(m->kll, q));
                CHECK(fabs(rm - q) <= 2 * 2.296 / pow(256, 0.9723));   /* two sketches' errors */
            }
        }
        if (w->hll)
            CHECK(memcmp(m->hll->regs, w->hll->regs, 4096) == 0);   /* HLL merge is exact */
        if (w->topk && w->topk->size < 128) {
            /* fewer distinct values than the capacity: counts are exact */
            CHECK_INT(m->topk->size, w->topk->size);
            for (uint32_t j = 0; j < w->topk->size; j++) {
                const sl_topk_entry *e = &w->topk->entries[j];
                int found = 0;
                for (uint32_t k = 0; k < m->topk->size; k++)
                    if (m->topk->entries[k].len == e->len &&
                        memcmp(m->topk->entries[k].value, e->value, e->len) == 0) {
                        found = 1;
                        CHECK_INT(m->topk->entries[k].count, e->count);
                    }
                CHECK(found);
            }
        }
    }
    const sl_profile_field *lat = field(all, "latency_ms");
    CHECK(fabs(sl_profile_field_stddev(lat) - sqrt(400 + 625)) < 1.0);    /* mixture of N(100,20), N(150,20) */
    CHECK_INT(sl_profile_field_distinct(field(all, "i")), 60000 * 1.0 + 0.5 > 0 ?
              sl_profile_field_distinct(field(a, "i")) : 0);
    CHECK(fabs((double)sl_profile_field_distinct(field(all, "i")) / 60000 - 1) <= 3 * 1.04 / 64);

    sl_profile_opts o;
    sl_profile_opts_default(&o);
    o.hll_lg_k = 10;
    sl_profile *small = sl_profile_new(&o, &err);
    add_json(small, "{\"i\":1}");
    CHECK(sl_profile_merge(a, small, &err) < 0);
    CHECK(strstr(err.msg, "hll_lg_k") != NULL);
    sl_profile_free(small);
    sl_buf_free(&rec);
    sl_profile_free(a);
    sl_profile_free(b);
    sl_profile_free(all);
}

static void test_field_limit(void) {
    sl_profile_opts o;
    sl_profile_opts_default(&o);
    o.max_fields = 3;
    sl_error err;
    sl_profile *p = sl_profile_new(&o, &err);
    add_json(p, "{\"a\":1,\"b\":2,\"c\":{\"x\":1},\"d\":4,\"e\":{\"f\":{\"g\":\"s\"}}}");
    add_json(p, "{\"a\":1,\"c\":{\"x\":2}}");
    CHECK_INT(sl_profile_field_count(p), 4);
    CHECK_STR(sl_profile_field_at(p, 3)->name, "_other_fields");
    const sl_profile_field *other = field(p, "_other_fields");
    /* c.x (twice), d, e, e.f, e.f.g */
    CHECK_INT(other->count, 6);
    CHECK_INT(other->types[SL_INT], 3);
    CHECK_INT(other->types[SL_MAP], 2);
    CHECK_INT(other->types[SL_STRING], 1);
    CHECK_INT(sl_profile_field_missing(p, other), 0);
    sl_buf out;
    sl_buf_init(&out);
    sl_profile_to_json(p, &out);
    sl_profile *q;
    CHECK(sl_profile_from_json(out.data, out.len, &q, &err) == 0);
    CHECK_INT(field(q, "_other_fields")->count, 6);
    sl_profile_free(q);
    sl_buf_free(&out);
    sl_profile_free(p);

    o.hll_lg_k = 30;
    CHECK(sl_profile_new(&o, &err) == NULL);
    CHECK(strstr(err.msg, "hll_lg_k 30 is out of range") != NULL);
}

static void expect_decode_error(const char *text, const char *needle) {
    sl_profile *p = NULL;
    sl_error err;
    int rc = sl_profile_from_json(text, strlen(text), &p, &err);
    CHECK(rc < 0);
    CHECK(p == NULL);
    if (rc == 0) {
        sl_profile_free(p);
        return;
    }
    if (!strstr(err.msg, needle))
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.msg, needle);
    CHECK(strstr(err.msg, needle) != NULL);
}

#define OPTS "\"options\":{\"hll_lg_k\":12,\"kll_k\":256,\"topk_capacity\":128,\"topk_max_len\":64,\"max_fields\":256}"

static void test_decode_errors(void) {
    expect_decode_error("", "not valid JSON");
    expect_decode_error("[1]", "not valid JSON");
    expect_decode_error("{\"version\":3}", "\"version\" must be 1 or 2");
    expect_decode_error("{\"version\":0}", "\"version\" must be 1 or 2");
    expect_decode_error("{\"version\":1,\"records\":-1}", "\"records\"");
    expect_decode_error("{\"version\":1,\"records\":1,\"fields\":{}}", "\"options\" and \"fields\"");
    expect_decode_error("{\"version\":1,\"records\":1,\"options\":{\"hll_lg_k\":40,\"kll_k\":256,"
                        "\"topk_capacity\":128,\"topk_max_len\":64,\"max_fields\":256},\"fields\":{}}",
                        "hll_lg_k 40");
    expect_decode_error("{\"version\":1,\"records\":1," OPTS ",\"fields\":{\"a\":{\"count\":2,\"nulls\":0,"
                        "\"types\":{\"null\":2}}}}", "count above the record count");
    expect_decode_error("{\"version\":1,\"records\":3," OPTS ",\"fields\":{\"a\":{\"count\":2,\"nulls\":0,"
                        "\"types\":{\"null\":2}}}}", "do not add up");
    expect_decode_error("{\"version\":1,\"records\":3," OPTS ",\"fields\":{\"a\":{\"count\":2,\"nulls\":0,"
                        "\"types\":{\"color\":2}}}}", "unknown type \"color\"");
    expect_decode_error("{\"version\":1,\"records\":3," OPTS ",\"fields\":{\"a\":{\"count\":1,\"nulls\":0,"
                        "\"types\":{\"int\":1}}}}", "sketch.hll");
    expect_decode_error("{\"version\":1,\"records\":3," OPTS ",\"fields\":{\"a\":{\"count\":1,\"nulls\":0,"
                        "\"types\":{\"int\":1},\"sketch\":{\"hll\":\"AAAA\"}}}}", "power of two");
    /* a valid empty profile decodes */
    const char *ok = "{\"version\":1,\"records\":3," OPTS ",\"fields\":{\"a\":{\"count\":2,\"nulls\":2,"
                     "\"types\":{\"null\":2}}}}";
    sl_profile *p;
    sl_error err;
    CHECK(sl_profile_from_json(ok, strlen(ok), &p, &err) == 0);
    CHECK_INT(sl_profile_field_missing(p, field(p, "a")), 1);
    sl_profile_free(p);
}

/* A version 1 profile (an older sluice: another HLL hash, same layout) reads
 * and writes back as version 1, and does not merge with a current one. */
static void test_version_1(void) {
    sl_profile *p = new_profile();
    add_json(p, "{\"s\":\"a\",\"n\":1}");
    sl_buf text, again;
    sl_buf_init(&text);
    sl_buf_init(&again);
    sl_profile_to_json(p, &text);
    CHECK(strncmp(text.data, "{\"version\":2,", 13) == 0);
    text.data[11] = '1';
    sl_profile *old;
    sl_error err;
    CHECK(sl_profile_from_json(text.data, text.len, &old, &err) == 0);
    CHECK_INT(sl_profile_version(old), 1);
    CHECK_INT(sl_profile_field_distinct(field(old, "s")), 1);
    sl_profile_to_json(old, &again);
    CHECK(text.len == again.len && memcmp(text.data, again.data, text.len) == 0);
    CHECK(sl_profile_merge(p, old, &err) < 0);
    CHECK(strstr(err.msg, "version 1 with one of version 2") != NULL);
    CHECK_INT(sl_profile_records(p), 1);
    CHECK(sl_profile_merge(old, p, &err) < 0);
    CHECK_INT(sl_profile_records(old), 1);
    sl_profile_free(old);
    sl_profile_free(p);
    sl_buf_free(&text);
    sl_buf_free(&again);
}

/* --- drift */

static sl_profile *numeric_profile(uint64_t seed, double shift, int n) {
    sl_profile *p = new_profile();
    rng_state = seed;
    sl_value rec, val;
    sl_field fld = { .key = "x", .key_len = 1 };
    rec.type = SL_MAP;
    rec.len = 1;
    rec.as.fields = &fld;
    for (int i = 0; i < n; i++) {
        val = sl_double(100 + 15 * normal() + shift);
        fld.value = val;
        sl_profile_add(p, &rec, (uint64_t)i);
    }
    return p;
}

static const sl_drift_field *drift_field(const sl_drift_report *r, const char *name) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->fields[i].field, name) == 0)
            return &r->fields[i];
    return NULL;
}

static void test_drift_numeric(void) {
    sl_profile *base = numeric_profile(1, 0, 100000);
    sl_profile *same = numeric_profile(2, 0, 100000);
    sl_profile *shifted = numeric_profile(3, 10, 100000);      /* two thirds of a standard deviation */
    sl_drift_report r;
    sl_error err;
    CHECK(sl_drift_compare(base, same, NULL, &r, &err) == 0);
    const sl_drift_field *f = drift_field(&r, "x");
    fprintf(stderr, "  drift identical: psi %.5f js %.5f\n", f->psi, f->js);
    CHECK(f->kind == SL_DRIFT_NUMERIC);
    CHECK(f->psi < 0.1 && f->psi >= 0);
    CHECK(f->js < 0.05);
    CHECK(f->status == SL_DRIFT_OK);
    CHECK(r.status == SL_DRIFT_OK);
    CHECK(f->null_rate_baseline == 0 && f->null_rate_current == 0 && f->type_tvd == 0);
    sl_drift_report_free(&r);

    CHECK(sl_drift_compare(base, shifted, NULL, &r, &err) == 0);
    f = drift_field(&r, "x");
    fprintf(stderr, "  drift shifted by 2/3 sd: psi %.5f js %.5f\n", f->psi, f->js);
    CHECK(f->psi > 0.2);
    CHECK(f->js > 0.1 && f->js <= 1);
    CHECK(f->status == SL_DRIFT_ALERT);
    CHECK(r.status == SL_DRIFT_ALERT);
    sl_buf out;
    sl_buf_init(&out);
    sl_drift_to_json(&r, &out);
    CHECK(strncmp(out.data, "{\"status\":\"alert\",\"fields\":[{\"field\":\"x\",\"kind\":\"numeric\",\"psi\":", 64) == 0);
    CHECK(strstr(out.data, "\"length_psi\":null,\"chars_psi\":null,") != NULL);
    CHECK(strstr(out.data, "\"rate_ratio\":null,\"gap_share_baseline\":null,\"gap_share_current\":null,"
                           "\"null_rate_baseline\":0.0,\"null_rate_current\":0.0,"
                           "\"type_tvd\":0.0,\"status\":\"alert\",\"reason\":\"psi\"}]}") != NULL);
    sl_buf_free(&out);
    sl_drift_report_free(&r);

    sl_drift_opts o;
    sl_drift_opts_default(&o);
    o.bins = 1;
    CHECK(sl_drift_compare(base, same, &o, &r, &err) < 0);
    CHECK(strstr(err.msg, "bins") != NULL);
    sl_profile_free(base);
    sl_profile_free(same);
    sl_profile_free(shifted);
}

static sl_profile *categorical_profile(uint64_t seed, const double *weights, int n) {
    static const char *names[] = { "info", "warn", "error", "debug" };
    sl_profile *p = new_profile();
    rng_state = seed;
    sl_buf rec;
    sl_buf_init(&rec);
    for (int i = 0; i < n; i++) {
        double u = uniform01(), acc = 0;
        int c = 3;
        for (int j = 0; j < 4; j++) {
            acc += weights[j];
            if (u < acc) { c = j; break; }
        }
        rec.len = 0;
        if (i % 50 == 0 && weights[3] == 0)     /* a second null rate for the drifted side */
            sl_buf_puts(&rec, "{\"level\":null}");
        else
            sl_buf_printf(&rec, "{\"level\":\"%s\",\"id\":%d}", names[c], i);
        add_json(p, rec.data);
    }
    sl_buf_free(&rec);
    return p;
}

static void test_drift_categorical(void) {
    const double w1[] = { 0.7, 0.2, 0.05, 0.05 }, w2[] = { 0.4, 0.3, 0.3, 0.0 };
    sl_profile *base = categorical_profile(1, w1, 20000);
    sl_profile *same = categorical_profile(2, w1, 20000);
    sl_profile *moved = categorical_profile(3, w2, 20000);
    sl_drift_report r;
    sl_error err;
    CHECK(sl_drift_compare(base, same, NULL, &r, &err) == 0);
    const sl_drift_field *f = drift_field(&r, "level");
    CHECK(f->kind == SL_DRIFT_CATEGORICAL);
    CHECK(f->psi < 0.1);
    CHECK(f->status == SL_DRIFT_OK);
    sl_drift_report_free(&r);

    CHECK(sl_drift_compare(base, moved, NULL, &r, &err) == 0);
    f = drift_field(&r, "level");
    fprintf(stderr, "  drift categorical: psi %.4f js %.4f null rate %.3f -> %.3f\n", f->psi, f->js,
            f->null_rate_baseline, f->null_rate_current);
    CHECK(f->psi > 0.2);
    CHECK(f->status == SL_DRIFT_ALERT);
    CHECK(f->null_rate_baseline == 0);
    CHECK(f->null_rate_current == 0.02);
    sl_drift_report_free(&r);

    /* a field that disappears, and one that appears */
    sl_profile *other = new_profile();
    add_json(other, "{\"fresh\":1}");
    CHECK(sl_drift_compare(base, other, NULL, &r, &err) == 0);
    f = drift_field(&r, "level");
    CHECK(f->null_rate_current == 1.0 && f->status == SL_DRIFT_ALERT && isnan(f->psi));
    f = drift_field(&r, "fresh");
    CHECK(f != NULL && f->null_rate_baseline == 1.0 && f->status == SL_DRIFT_ALERT);
    CHECK_STR(r.fields[r.n - 1].field, "fresh");
    sl_drift_report_free(&r);
    sl_profile_free(other);
    sl_profile_free(base);
    sl_profile_free(same);
    sl_profile_free(moved);
}

/* Ids, free text and timestamps: `n` records starting at `start_s` (epoch
 * seconds), one every `step_ms`, ids and words drawn from `seed`. */
static sl_profile *text_profile(uint64_t seed, int64_t start_s, int step_ms, int n) {
    static const char *words[] = { "the", "model", "token", "of", "cache", "stream", "a", "data" };
    sl_profile *p = new_profile();
    rng_state = seed;
    sl_buf rec;
    sl_buf_init(&rec);
    for (int i = 0; i < n; i++) {
        char ts[40];
        int64_t ms = (int64_t)i * step_ms;
        sl_format_rfc3339(ts, (start_s + ms / 1000) * 1000000000LL + (ms % 1000) * 1000000LL);
        rec.len = 0;
        sl_buf_printf(&rec, "{\"ts\":\"%s\",\"rid\":\"%016llx\",\"msg\":\"", ts, (unsigned long long)rnd());
        for (int w = 0, nw = 3 + (int)(rnd() % 8); w < nw; w++)
            sl_buf_printf(&rec, "%s%s", w ? " " : "", words[rnd() % 8]);
        sl_buf_puts(&rec, "\"}");
        add_json(p, rec.data);
    }
    sl_buf_free(&rec);
    return p;
}

/* Near-unique strings and timestamps of two independent samples (a later
 * period too) drift nowhere; a slower stream is a rate change; merged and
 * reloaded profiles keep the new statistics exactly. */
static void test_drift_text_and_time(void) {
    sl_profile *base = text_profile(1, 1767225600, 1, 20000);           /* 2026-01-01, 1000/s */
    sl_profile *later = text_profile(2, 1767312000, 1, 20000);          /* a day later */
    sl_profile *slow = text_profile(3, 1767312000, 20, 20000);          /* 50/s */
    CHECK(field(base, "ts")->ts_count == 20000);
    CHECK(field(base, "rid")->ts_count == 0);
    sl_drift_report r;
    sl_error err;
    CHECK(sl_drift_compare(base, later, NULL, &r, &err) == 0);
    CHECK(r.status == SL_DRIFT_OK);
    CHECK(r.n == 3);
    CHECK(r.fields[0].kind == SL_DRIFT_TIMESTAMP && isnan(r.fields[0].psi));
    CHECK(fabs(r.fields[0].rate_ratio - 1) < 1e-3);
    CHECK(r.fields[1].kind == SL_DRIFT_TEXT && r.fields[1].psi < 0.01 && r.fields[1].chars_psi < 0.01);
    CHECK(r.fields[2].kind == SL_DRIFT_TEXT && r.fields[2].length_psi < 0.01);
    fprintf(stderr, "  text drift: rid psi %.5f, msg length psi %.5f, chars psi %.5f\n", r.fields[1].psi,
            r.fields[2].length_psi, r.fields[2].chars_psi);
    sl_drift_report_free(&r);
    CHECK(sl_drift_compare(base, slow, NULL, &r, &err) == 0);
    CHECK(r.fields[0].status == SL_DRIFT_ALERT && strstr(r.fields[0].reason, "rate") != NULL);
    fprintf(stderr, "  slower stream: %s (rate x%.3f)\n", r.fields[0].reason, r.fields[0].rate_ratio);
    CHECK(fabs(r.fields[0].rate_ratio - 0.05) < 1e-3);
    sl_drift_report_free(&r);

    /* merge: counters of the new statistics add exactly */
    const sl_profile_field *b = field(base, "msg"), *l = field(later, "msg");
    uint64_t hist = b->len_hist[5] + l->len_hist[5], lower = b->chars[SL_CHAR_LOWER] + l->chars[SL_CHAR_LOWER];
    int64_t first = field(base, "ts")->ts_min, last = field(later, "ts")->ts_max;
    CHECK(sl_profile_merge(base, later, &err) == 0);
    CHECK(field(base, "msg")->len_hist[5] == hist && field(base, "msg")->chars[SL_CHAR_LOWER] == lower);
    CHECK(field(base, "ts")->ts_count == 40000 && field(base, "ts")->ts_min == first &&
          field(base, "ts")->ts_max == last);
    /* and survive JSON */
    sl_buf a, c;
    sl_buf_init(&a);
    sl_buf_init(&c);
    sl_profile_to_json(base, &a);
    sl_profile *q;
    CHECK(sl_profile_from_json(a.data, a.len, &q, &err) == 0);
    sl_profile_to_json(q, &c);
    CHECK(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
    CHECK(field(q, "msg")->len_hist[5] == hist && field(q, "ts")->ts_max == last);
    CHECK(strstr(a.data, "\"rid\":{") && strstr(strstr(a.data, "\"rid\":{"), "\"top\":[],") != NULL);
    sl_profile_free(q);
    sl_buf_free(&a);
    sl_buf_free(&c);
    sl_profile_free(base);
    sl_profile_free(later);
    sl_profile_free(slow);
}

/* The timeline: out-of-order instants, before and after 1970, merge exactly
 * (two halves give the timeline of the whole), gaps show, JSON round trips. */
static void test_timeline(void) {
    sl_timeline whole, odd, even;
    sl_timeline_init(&whole);
    sl_timeline_init(&odd);
    sl_timeline_init(&even);
    rng_state = 5;
    for (int i = 0; i < 10000; i++) {
        /* 100 s around the epoch, nothing in [20 s, 50 s) */
        int64_t ns = (int64_t)(rnd() % 100000) * 1000000 - 30000000000LL;
        if (ns >= 20000000000LL && ns < 50000000000LL)
            continue;
        sl_timeline_add(&whole, ns);
        sl_timeline_add(i % 2 ? &odd : &even, ns);
    }
    sl_timeline_merge(&odd, &even);
    CHECK(odd.n == whole.n && odd.width_log2 == whole.width_log2 && odd.start == whole.start);
    CHECK(memcmp(odd.counts, whole.counts, sizeof whole.counts) == 0);
    double gaps = sl_timeline_gap_share(&whole);
    CHECK(gaps > 0.25 && gaps < 0.35);   /* 30 s of 100 s, at 1/64 to 1/32 of the range */
    fprintf(stderr, "  timeline: width 2^%u ns, gap share %.3f\n", whole.width_log2, gaps);
    sl_buf b;
    sl_buf_init(&b);
    sl_timeline_to_json(&whole, &b);
    sl_arena a;
    sl_arena_init(&a, 1024);
    sl_value v;
    sl_decode_error derr;
    sl_timeline back;
    sl_error err;
    CHECK(sl_json_decode(&a, b.data, b.len, 0, false, &v, &derr) == 0);
    CHECK(sl_timeline_from_value(&back, &v, &err) == 0);
    CHECK(back.n == whole.n && back.start == whole.start && memcmp(back.counts, whole.counts, sizeof back.counts) == 0);
    /* one instant has no gaps to speak of; extremes of int64 fit */
    sl_timeline_init(&back);
    sl_timeline_add(&back, 7);
    CHECK(isnan(sl_timeline_gap_share(&back)));
    sl_timeline_add(&back, INT64_MIN);
    sl_timeline_add(&back, INT64_MAX);
    CHECK(back.n == 3 && back.counts[0] >= 1 && back.counts[SL_TIMELINE_BUCKETS - 1] + back.counts[SL_TIMELINE_BUCKETS - 2] >= 1);
    sl_arena_free(&a);
    sl_buf_free(&b);
}

int main(void) {
    RUN(test_exact_counters);
    RUN(test_json_shape);
    RUN(test_round_trip);
    RUN(test_merge);
    RUN(test_field_limit);
    RUN(test_decode_errors);
    RUN(test_version_1);
    RUN(test_drift_numeric);
    RUN(test_drift_categorical);
    RUN(test_drift_text_and_time);
    RUN(test_timeline);
    return check_report();
}
