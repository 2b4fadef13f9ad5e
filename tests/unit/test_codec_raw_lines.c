/* test_codec_raw_lines.c — what lets a sink skip encoding: keys the decoder
 * flags as needing no escaping (copied as they are, and still escaped when
 * set by code), the duplicate-key mark on a decoded document, and
 * sl_json_encode_record_line, which writes an unchanged record's frame and
 * encodes it once sl_record_mut was called. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/json.h"
#include "core/batch.h"

static sl_arena arena;

/* A record decoded from `line` (kept in a padded copy the caller frees),
 * marked as the worker marks an unchanged JSON line. */
static char *decode_record(const char *line, sl_record *r)
{
    size_t len = strlen(line);
    char *p = malloc(len + SL_BUF_PADDING);
    memcpy(p, line, len);
    memset(p + len, 0, SL_BUF_PADDING);
    memset(r, 0, sizeof *r);
    r->raw = p;
    r->raw_len = (uint32_t)len;
    sl_decode_error err;
    size_t body = len;
    while (body && (p[body - 1] == '\n' || p[body - 1] == '\r')) body--;
    CHECK(sl_json_decode(&arena, p, body, 64, true, sl_record_mut(r), &err) == 0);
    r->raw_json = true;
    return p;
}

static void test_key_flags(void)
{
    sl_record r;
    char *keep = decode_record("{\"plain\":1,\"esc\\u00e9\":2,\"q\\\"\":3,\"n\":{\"inner\":4}}", &r);
    const sl_value *v = sl_record_value(&r);
    CHECK_INT(v->len, 4);
    CHECK(v->as.fields[0].key_flags & SL_VF_JSON_SAFE);
    CHECK(!(v->as.fields[1].key_flags & SL_VF_JSON_SAFE));   /* unescaped into the arena */
    CHECK_MEM(v->as.fields[1].key, v->as.fields[1].key_len, "esc\xc3\xa9");
    CHECK(!(v->as.fields[2].key_flags & SL_VF_JSON_SAFE));
    CHECK(v->as.fields[3].value.as.fields[0].key_flags & SL_VF_JSON_SAFE);
    CHECK(!(v->flags & SL_VF_DUPLICATE_KEYS));

    /* Encoding: flagged keys copied, others escaped again. */
    sl_buf out;
    sl_buf_init(&out);
    sl_json_encode(&out, v);
    CHECK_STR(out.data, "{\"plain\":1,\"esc\xc3\xa9\":2,\"q\\\"\":3,\"n\":{\"inner\":4}}");

    /* Keys set, renamed or copied by code: a renamed key loses the flag and
     * is escaped; a clone keeps it. */
    sl_value m = sl_value_clone(&arena, v);
    CHECK(m.as.fields[0].key_flags & SL_VF_JSON_SAFE);
    CHECK(sl_map_rename(&m, "plain", 5, "new\"line\n", 9));
    CHECK(!(m.as.fields[0].key_flags & SL_VF_JSON_SAFE));
    sl_map_set(&arena, &m, "tab\t", 4, sl_int(5));
    CHECK(!(m.as.fields[4].key_flags & SL_VF_JSON_SAFE));
    out.len = 0;
    sl_json_encode(&out, &m);
    CHECK_STR(out.data, "{\"new\\\"line\\n\":1,\"esc\xc3\xa9\":2,\"q\\\"\":3,\"n\":{\"inner\":4},\"tab\\t\":5}");
    sl_buf_free(&out);
    free(keep);
}

static void test_duplicate_mark(void)
{
    sl_record r;
    char *keep = decode_record("{\"a\":1,\"a\":2}", &r);
    CHECK(sl_record_value(&r)->flags & SL_VF_DUPLICATE_KEYS);
    free(keep);
    keep = decode_record("{\"o\":{\"b\":1,\"b\":2},\"c\":3}", &r);   /* nested: the root says so */
    CHECK(sl_record_value(&r)->flags & SL_VF_DUPLICATE_KEYS);
    free(keep);
    /* large objects are merged by another pass: marked too */
    char big[2048];
    size_t n = 0;
    n += (size_t)snprintf(big + n, sizeof big - n, "{");
    for (int i = 0; i < 40; i++) n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i, i);
    snprintf(big + n, sizeof big - n, "\"k7\":0}");
    keep = decode_record(big, &r);
    CHECK(sl_record_value(&r)->flags & SL_VF_DUPLICATE_KEYS);
    CHECK_INT(sl_record_value(&r)->len, 40);
    free(keep);
    keep = decode_record("{\"a\":1,\"b\":{\"a\":2}}", &r);   /* same key, other objects */
    CHECK(!(sl_record_value(&r)->flags & SL_VF_DUPLICATE_KEYS));
    free(keep);
}

/* The frame comes out as it came (whitespace around it and the line break
 * aside), until the record is changed. */
static void test_record_line(void)
{
    static const char line[] = "  {\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\\/\",\"u\":1.0000000000000000000001}\r\n";
    sl_record r;
    char *keep = decode_record(line, &r);
    sl_buf out;
    sl_buf_init(&out);
    sl_json_encode_record_line(&out, &r);
    CHECK_STR(out.data, "{\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\\/\",\"u\":1.0000000000000000000001}\n");

    /* Reading changes nothing. */
    CHECK(sl_map_get(sl_record_value(&r), "n", 1) != NULL);
    out.len = 0;
    sl_json_encode_record_line(&out, &r);
    CHECK_STR(out.data, "{\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\\/\",\"u\":1.0000000000000000000001}\n");

    /* Any write goes through sl_record_mut: encoded from then on (numbers
     * keep their text; strings and spacing are the encoder's). */
    sl_map_delete(sl_record_mut(&r), "u", 1);
    out.len = 0;
    sl_json_encode_record_line(&out, &r);
    CHECK_STR(out.data, "{\"n\":1e3,\"z\":-0.0,\"s\":\"caf\xc3\xa9/\"}\n");

    /* Merely asking for write access is a change too. */
    free(keep);
    keep = decode_record("{\"a\" :1}\n", &r);
    (void)sl_record_mut(&r);
    out.len = 0;
    sl_json_encode_record_line(&out, &r);
    CHECK_STR(out.data, "{\"a\":1}\n");

    /* A record without a frame (built by a source, or one whose frame a
     * transform dropped) is encoded. */
    r.raw_json = true;
    r.raw = NULL;
    out.len = 0;
    sl_json_encode_record_line(&out, &r);
    CHECK_STR(out.data, "{\"a\":1}\n");
    sl_buf_free(&out);
    free(keep);
}

int main(void)
{
    sl_arena_init(&arena, 4096);
    RUN(test_key_flags);
    RUN(test_duplicate_mark);
    RUN(test_record_line);
    sl_arena_free(&arena);
    return check_report();
}
