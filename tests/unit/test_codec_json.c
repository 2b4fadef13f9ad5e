/* test_codec_json.c — the JSON codec: byte-exact round trips, value types and
 * zero-copy strings, every decode error with its message and offset, the
 * duplicate-key policy, the depth limit, shortest doubles and escaping. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/json.h"

static sl_arena arena;

/* A padded copy of s, as sl_buf/sl_batch would hand it to the decoder. */
static char *padded(const char *s, size_t len)
{
    char *p = malloc(len + SL_BUF_PADDING);
    memcpy(p, s, len);
    memset(p + len, 0, SL_BUF_PADDING);
    return p;
}

/* Decodes s (kept alive in *keep, freed by the caller) into *v. */
static int decode_keep(const char *s, size_t len, unsigned depth, bool obj, sl_value *v,
                       sl_decode_error *err, char **keep)
{
    *keep = padded(s, len);
    return sl_json_decode(&arena, *keep, len, depth, obj, v, err);
}

/* decode then encode; returns the encoding (static buffer) or "ERR:<reason>". */
static const char *reencode(const char *s)
{
    static char result[4096];
    sl_decode_error err;
    sl_value v;
    char *in;
    if (decode_keep(s, strlen(s), 64, false, &v, &err, &in) < 0) {
        snprintf(result, sizeof result, "ERR:%s", err.reason);
    } else {
        sl_buf b;
        sl_buf_init(&b);
        sl_json_encode(&b, &v);
        snprintf(result, sizeof result, "%.*s", (int)b.len, b.data);
        sl_buf_free(&b);
    }
    free(in);
    return result;
}

static void check_roundtrip(const char *s)
{
    CHECK_STR(reencode(s), s);
}

static void test_roundtrip_exact(void)
{
    check_roundtrip("{\"a\":1.50,\"b\":1e3,\"c\":-0,\"d\":18446744073709551615,"
                    "\"e\":-9223372036854775808,\"f\":\"\\u0000\",\"g\":\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\","
                    "\"h\":[1,[2,{}],[]],\"i\":{\"j\":null,\"k\":true,\"l\":false},"
                    "\"m\":\"tab\\there \\\"q\\\" \\\\ \\u001f\\n\\r\\b\\f\",\"n\":-1.25E-7,\"o\":0.0}");
    check_roundtrip("{}");
    check_roundtrip("[]");
    check_roundtrip("\"just a string\"");
    check_roundtrip("-0.0");
    check_roundtrip("1E+2");
    check_roundtrip("null");
    check_roundtrip("[true,false,null,\"\",{\"\":\"\"}]");
    check_roundtrip("{\"k\\u0000ey\":\"v\",\"\xe2\x82\xac\":1}");
    /* Non-canonical escapes come out in canonical form; whitespace is dropped. */
    CHECK_STR(reencode(" { \"a\" : [ 1 , 2 ] ,\n\"b\\/c\":\"\\u0041\\u00e9\\ud83d\\ude00\" }\r\n"),
              "{\"a\":[1,2],\"b/c\":\"A\xc3\xa9\xf0\x9f\x98\x80\"}");
}

static void test_types_and_zero_copy(void)
{
    const char *s = "{\"i\":9223372036854775807,\"u\":9223372036854775808,\"n\":-9223372036854775808,"
                    "\"d\":1.50,\"s\":\"plain\",\"e\":\"a\\nb\",\"z\":\"\\u0000\"}";
    sl_decode_error err;
    sl_value v;
    char *in;
    CHECK_INT(decode_keep(s, strlen(s), 64, true, &v, &err, &in), 0);
    CHECK_INT(v.type, SL_MAP);
    CHECK_INT(v.len, 7);
    sl_value *i = sl_map_get(&v, "i", 1), *u = sl_map_get(&v, "u", 1), *n = sl_map_get(&v, "n", 1);
    CHECK_INT(i->type, SL_INT);
    CHECK(i->as.i == INT64_MAX);
    CHECK_INT(u->type, SL_UINT);
    CHECK(u->as.u == 9223372036854775808ULL);
    CHECK_INT(n->type, SL_INT);
    CHECK(n->as.i == INT64_MIN);
    sl_value *d = sl_map_get(&v, "d", 1);
    CHECK_INT(d->type, SL_DOUBLE);
    CHECK(d->as.d == 1.5);
    CHECK_MEM(d->x.raw, d->raw_len, "1.50");
    CHECK(d->x.raw == strstr(in, "1.50"));

    sl_value *plain = sl_map_get(&v, "s", 1);
    CHECK_INT(plain->type, SL_STRING);
    CHECK(plain->as.s == strstr(in, "plain"));          /* zero copy */
    CHECK(plain->flags & SL_VF_JSON_SAFE);
    CHECK_MEM(plain->as.s, plain->len, "plain");
    CHECK(v.as.fields[4].key == strstr(in, "s\""));       /* keys too */

    sl_value *esc = sl_map_get(&v, "e", 1);
    CHECK_MEM(esc->as.s, esc->len, "a\nb");
    CHECK(!(esc->flags & SL_VF_JSON_SAFE));
    CHECK(esc->as.s < in || esc->as.s > in + strlen(s));  /* unescaped into the arena */

    sl_value *z = sl_map_get(&v, "z", 1);
    CHECK_INT(z->len, 1);
    CHECK_INT(z->as.s[0], 0);
    free(in);
}

/* Decodes s expecting failure; checks the reason, offset and message. */
static void check_error(const char *s, size_t len, unsigned depth, bool obj, const char *reason,
                        size_t offset, const char *msg)
{
    sl_decode_error err;
    sl_value v;
    char *in;
    int rc = decode_keep(s, len, depth, obj, &v, &err, &in);
    CHECK_INT(rc, -1);
    if (rc == -1) {
        CHECK_STR(err.reason, reason);
        CHECK_INT(err.offset, offset);
        CHECK_STR(err.msg, msg);
    }
    CHECK_INT(v.type, SL_NULL);
    free(in);
}

/* Ten and nine two-byte characters. */
#define E9 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define E10 E9 "\xc3\xa9"

#define ERR(s, reason, offset, msg) check_error((s), strlen(s), 64, true, (reason), (offset), (msg))

static void test_syntax_errors(void)
{
    ERR("{\"a\" 1}", "json_syntax", 5,
        "invalid JSON at offset 5: expected ':' after an object key, found '1'");
    ERR("{\"a\":1,}", "json_syntax", 7,
        "invalid JSON at offset 7: expected a string key, found '}'");
    ERR("{1:2}", "json_syntax", 1, "invalid JSON at offset 1: expected a string key, found '1'");
    ERR("{\"a\":[1 2]}", "json_syntax", 8,
        "invalid JSON at offset 8: expected ',' or ']' after an array element, found '2'");
    ERR("{\"a\":[1,]}", "json_syntax", 8, "invalid JSON at offset 8: expected a JSON value, found ']'");
    ERR("{\"a\":1 \"b\":2}", "json_syntax", 7,
        "invalid JSON at offset 7: expected ',' or '}' after an object member, found '\"'");
    ERR("{\"a\":{\"b\":1]}", "json_syntax", 11,
        "invalid JSON at offset 11: expected ',' or '}' after an object member, found ']'");
    ERR("{\"a\":1", "json_syntax", 6,
        "invalid JSON at offset 6: expected ',' or '}' after an object member, found end of input");
    ERR("{\"a\":tru}", "json_syntax", 5, "invalid JSON at offset 5: invalid literal 'tru'");
    ERR("{\"a\":nul}", "json_syntax", 5, "invalid JSON at offset 5: invalid literal 'nul'");
    ERR("{\"a\":truex}", "json_syntax", 5, "invalid JSON at offset 5: invalid literal 'truex'");
    ERR("{\"a\":01}", "json_syntax", 5, "invalid JSON at offset 5: malformed number '01'");
    ERR("{\"a\":1.}", "json_syntax", 5, "invalid JSON at offset 5: malformed number '1.'");
    ERR("{\"a\":-}", "json_syntax", 5, "invalid JSON at offset 5: malformed number '-'");
    ERR("{\"a\":1x}", "json_syntax", 5, "invalid JSON at offset 5: malformed number '1x'");
    /* Quoted input is escaped and cut at a character boundary, so that the
     * message is valid UTF-8 (it goes into DLQ entries as JSON). */
    ERR("{\"a\":1\x01\x7f}", "json_syntax", 5, "invalid JSON at offset 5: malformed number '1\\x01\\x7f'");
    ERR("{\"a\":" "1" E10 E10 E9 "}", "json_syntax", 5, "invalid JSON at offset 5: malformed number '1" E10 E9 "...'");
    ERR("{\"a\":tr\xc3\xa9}", "json_syntax", 5, "invalid JSON at offset 5: invalid literal 'tr\xc3\xa9'");
    ERR("{\"a\":\"x", "json_syntax", 5,
        "invalid JSON at offset 5: unterminated string starting here, found '\"'");
    ERR("{\"a\":\"\\x\"}", "json_syntax", 7,
        "invalid JSON at offset 7: invalid escape sequence after '\\', found 'x'");
    ERR("{\"a\":\"\\u12g4\"}", "json_syntax", 6,
        "invalid JSON at offset 6: \\u must be followed by 4 hex digits, found '\\'");
    ERR("{\"a\":\"\\ud800\"}", "json_syntax", 6,
        "invalid JSON at offset 6: high surrogate in \\u escape not followed by a low surrogate, found '\\'");
    ERR("{\"a\":\"\\udc00\"}", "json_syntax", 6,
        "invalid JSON at offset 6: unpaired low surrogate in \\u escape, found '\\'");
    ERR("{\"a\":\"x\x01\"}", "json_syntax", 7,
        "invalid JSON at offset 7: control characters must be escaped in strings, found byte 0x01");
    ERR("{\"k\\x\":1}", "json_syntax", 4,
        "invalid JSON at offset 4: invalid escape sequence after '\\', found 'x'");
    ERR("", "json_syntax", 0, "empty input: expected a JSON value");
    ERR(" \n ", "json_syntax", 0, "empty input: expected a JSON value");
    ERR("]", "json_syntax", 0, "invalid JSON at offset 0: expected a JSON value, found ']'");
    ERR("\xef\xbb\xbf{}", "json_syntax", 0,
        "invalid JSON at offset 0: expected a JSON value, found byte 0xef");
    /* A NUL byte outside strings. */
    check_error("{\"a\":\0}", 7, 64, true, "json_syntax", 5,
                "invalid JSON at offset 5: expected a JSON value, found byte 0x00");
}

static void test_other_errors(void)
{
    ERR("{\"a\":\"\xff\"}", "json_utf8", 6, "invalid UTF-8 at offset 6 (byte 0xff)");
    ERR("{\"a\":\"\xc0\xaf\"}", "json_utf8", 6, "invalid UTF-8 at offset 6 (byte 0xc0)");   /* overlong */
    ERR("{\"a\":\"\xed\xa0\x80\"}", "json_utf8", 6, "invalid UTF-8 at offset 6 (byte 0xed)");  /* surrogate */
    ERR("{\"a\":\"x\"}\xe2\x82", "json_utf8", 9, "invalid UTF-8 at offset 9 (byte 0xe2)"); /* truncated */

    ERR("{\"a\":1} x", "json_trailing", 8,
        "invalid JSON at offset 8: expected end of input after the JSON value, found 'x'");
    ERR("{\"a\":1}}", "json_trailing", 7,
        "invalid JSON at offset 7: expected end of input after the JSON value, found '}'");
    ERR("{\"a\":1}{}", "json_trailing", 7,
        "invalid JSON at offset 7: expected end of input after the JSON value, found '{'");
    check_error("1 2", 3, 64, false, "json_trailing", 2,
                "invalid JSON at offset 2: expected end of input after the JSON value, found '2'");
    check_error("\"a\" \"b\"", 7, 64, false, "json_trailing", 4,
                "invalid JSON at offset 4: expected end of input after the JSON value, found '\"'");
    check_error("[1]]", 4, 64, false, "json_trailing", 3,
                "invalid JSON at offset 3: expected end of input after the JSON value, found ']'");

    ERR("{\"a\":18446744073709551616}", "json_number", 5,
        "integer 18446744073709551616 at offset 5 does not fit in 64 bits");
    ERR("{\"a\":-9223372036854775809}", "json_number", 5,
        "integer -9223372036854775809 at offset 5 does not fit in 64 bits");
    ERR("{\"a\":1e400}", "json_number", 5, "number 1e400 at offset 5 is out of the range of a double");
    check_error("-1.5e309", 8, 64, false, "json_number", 0,
                "number -1.5e309 at offset 0 is out of the range of a double");
    ERR("{\"a\":123456789012345678901234567890123456789012345}", "json_number", 5,
        "integer 1234567890123456789012345678901234567890... at offset 5 does not fit in 64 bits");

    ERR("[1]", "json_not_object", 0, "expected a JSON object, found an array at offset 0");
    ERR("  \"x\"", "json_not_object", 2, "expected a JSON object, found a string at offset 2");
    ERR("42", "json_not_object", 0, "expected a JSON object, found a number at offset 0");
    ERR("null", "json_not_object", 0, "expected a JSON object, found null at offset 0");
    ERR("true", "json_not_object", 0, "expected a JSON object, found a boolean at offset 0");
}

static void test_duplicate_keys(void)
{
    CHECK_STR(reencode("{\"a\":1,\"b\":2,\"a\":3}"), "{\"a\":3,\"b\":2}");
    CHECK_STR(reencode("{\"a\":1,\"a\":{\"x\":[1]},\"a\":null}"), "{\"a\":null}");
    CHECK_STR(reencode("{\"a\":{\"k\":1,\"k\":2},\"b\":[{\"k\":1,\"k\":2}]}"),
              "{\"a\":{\"k\":2},\"b\":[{\"k\":2}]}");
    /* Escaped and plain spellings of one key are the same key. */
    CHECK_STR(reencode("{\"ab\":1,\"\\u0061b\":2}"), "{\"ab\":2}");

    /* A large object (beyond the incremental check): 40 keys, then repeats of
     * an early key, a late key and a repeated repeat. */
    char in[2048], want[2048];
    size_t n = 0, w = 0;
    n += (size_t)snprintf(in + n, sizeof in - n, "{");
    w += (size_t)snprintf(want + w, sizeof want - w, "{");
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(in + n, sizeof in - n, "%s\"k%d\":%d", i ? "," : "", i, i);
        int value = i == 3 ? 300 : i == 39 ? 3900 : i;
        w += (size_t)snprintf(want + w, sizeof want - w, "%s\"k%d\":%d", i ? "," : "", i, value);
    }
    snprintf(in + n, sizeof in - n, ",\"k3\":30,\"k39\":3900,\"k3\":300}");
    snprintf(want + w, sizeof want - w, "}");
    CHECK_STR(reencode(in), want);
}

static void test_depth_limit(void)
{
    char deep[300];
    for (int i = 0; i < 64; i++) deep[i] = '[';
    for (int i = 0; i < 64; i++) deep[64 + i] = ']';
    deep[128] = '\0';
    CHECK_STR(reencode(deep), deep);                       /* exactly at the limit */

    for (int i = 0; i < 65; i++) deep[i] = '[';
    for (int i = 0; i < 65; i++) deep[65 + i] = ']';
    deep[130] = '\0';
    check_error(deep, 130, 64, false, "json_depth", 64,
                "JSON nested deeper than the limit of 64 levels at offset 64");
    /* Unclosed and too deep: the depth problem comes first. */
    check_error(deep, 100, 64, false, "json_depth", 64,
                "JSON nested deeper than the limit of 64 levels at offset 64");
    /* 0 means the default limit. */
    check_error(deep, 130, 0, false, "json_depth", 64,
                "JSON nested deeper than the limit of 64 levels at offset 64");

    check_error("{\"a\":{\"b\":{}}}", 14, 2, true, "json_depth", 10,
                "JSON nested deeper than the limit of 2 levels at offset 10");
    check_error("{\"a\":[1,{\"b\":2}]}", 17, 2, true, "json_depth", 8,
                "JSON nested deeper than the limit of 2 levels at offset 8");
    CHECK_STR(reencode("[]"), "[]");
    check_error("[[]]", 4, 1, false, "json_depth", 1,
                "JSON nested deeper than the limit of 1 levels at offset 1");
}

static const char *fmt_double(double d)
{
    static char out[64];
    sl_buf b;
    sl_buf_init(&b);
    bool ok = sl_json_format_double(&b, d);
    snprintf(out, sizeof out, "%s%.*s", ok ? "" : "FALSE", (int)b.len, b.data);
    sl_buf_free(&b);
    return out;
}

static void test_shortest_doubles(void)
{
    CHECK_STR(fmt_double(61.17), "61.17");
    CHECK_STR(fmt_double(0.1), "0.1");
    CHECK_STR(fmt_double(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(fmt_double(1e300), "1e+300");
    CHECK_STR(fmt_double(5e-324), "5e-324");
    CHECK_STR(fmt_double(2.2250738585072014e-308), "2.2250738585072014e-308");
    CHECK_STR(fmt_double(1.7976931348623157e308), "1.7976931348623157e+308");
    volatile double two = 1.0;
    CHECK_STR(fmt_double(two * 2), "2.0");
    CHECK_STR(fmt_double(-0.0), "-0.0");
    CHECK_STR(fmt_double(1e16), "1e+16");
    CHECK_STR(fmt_double(123456.789), "123456.789");
    CHECK_STR(fmt_double(-1.5e-7), "-1.5e-07");
    CHECK_STR(fmt_double(NAN), "FALSE");
    CHECK_STR(fmt_double(INFINITY), "FALSE");

    /* Every formatted double decodes back to the same bits, and as a double. */
    double samples[] = { 61.17, 0.1, 1e300, 5e-324, 2.0, -0.0, 1e16, 1.0 / 3, 123456789012345678.0 };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const char *text = fmt_double(samples[i]);
        sl_decode_error err;
        sl_value v;
        char *in;
        CHECK_INT(decode_keep(text, strlen(text), 64, false, &v, &err, &in), 0);
        CHECK_INT(v.type, SL_DOUBLE);
        CHECK(memcmp(&v.as.d, &samples[i], sizeof(double)) == 0);
        free(in);
    }

    /* Computed values (no raw text) in a record. */
    sl_value m = sl_map_new(&arena, 0);
    sl_map_set(&arena, &m, "d", 1, sl_double(61.17));
    sl_map_set(&arena, &m, "nan", 3, sl_double(NAN));
    sl_map_set(&arena, &m, "i", 1, sl_int(INT64_MIN));
    sl_map_set(&arena, &m, "u", 1, sl_uint(UINT64_MAX));
    sl_map_set(&arena, &m, "t", 1, sl_timestamp(1795482123500000000LL));
    sl_map_set(&arena, &m, "b", 1, sl_bytes("hi", 2));
    sl_buf b;
    sl_buf_init(&b);
    sl_json_encode(&b, &m);
    CHECK_MEM(b.data, b.len, "{\"d\":61.17,\"nan\":null,\"i\":-9223372036854775808,"
                             "\"u\":18446744073709551615,\"t\":\"2026-11-24T01:02:03.5Z\",\"b\":\"aGk=\"}");
    sl_buf_free(&b);
}

static const char *enc_string(const char *s, size_t len)
{
    static char out[512];
    sl_buf b;
    sl_buf_init(&b);
    sl_json_encode_string(&b, s, len);
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.data);
    sl_buf_free(&b);
    return out;
}

static void test_escaping(void)
{
    CHECK_STR(enc_string("", 0), "\"\"");
    CHECK_STR(enc_string("plain ascii, long enough for words", 34), "\"plain ascii, long enough for words\"");
    CHECK_STR(enc_string("a\x01" "b\nc\"d\\e\x1f/\xc3\xa9\x7f", 14),
              "\"a\\u0001b\\nc\\\"d\\\\e\\u001f/\xc3\xa9\x7f\"");
    CHECK_STR(enc_string("\0", 1), "\"\\u0000\"");
    CHECK_STR(enc_string("\b\f\r\t\x0b", 5), "\"\\b\\f\\r\\t\\u000b\"");
    /* Escapes inside and after 8-byte words, and a tail shorter than a word. */
    CHECK_STR(enc_string("0123456789abcdef\"0123456\t89", 27),
              "\"0123456789abcdef\\\"0123456\\t89\"");
    CHECK_STR(enc_string("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80", 13),
              "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80\"");

    /* Text that must be valid UTF-8 JSON whatever it holds: invalid bytes
     * (a lone 0xff, a cut-off sequence) become the text \xNN. */
    sl_buf t;
    sl_buf_init(&t);
    sl_json_encode_text(&t, "ok \xc3\xa9 \xff\n\xe2\x82", 10);
    CHECK_MEM(t.data, t.len, "\"ok \xc3\xa9 \\\\xff\\n\\\\xe2\\\\x82\"");
    t.len = 0;
    sl_json_encode_text(&t, "plain", 5);
    CHECK_MEM(t.data, t.len, "\"plain\"");
    sl_buf_free(&t);

    /* A string a transform built (not JSON-safe) inside a record. */
    sl_value m = sl_map_new(&arena, 0);
    sl_map_set(&arena, &m, "q\"k", 3, sl_string("line\nbreak", 10));
    sl_buf b;
    sl_buf_init(&b);
    sl_json_encode(&b, &m);
    CHECK_MEM(b.data, b.len, "{\"q\\\"k\":\"line\\nbreak\"}");
    sl_buf_free(&b);
}

/* Each thread has its own parser: concurrent decodes must not interfere. */
static void *decode_many(void *arg)
{
    const char *s = arg;
    sl_arena a;
    sl_arena_init(&a, 4096);
    char *in = padded(s, strlen(s));
    long failures = 0;
    for (int i = 0; i < 2000; i++) {
        sl_value v;
        sl_decode_error err;
        if (sl_json_decode(&a, in, strlen(s), 64, true, &v, &err) < 0 || v.len != 2)
            failures++;
        sl_arena_reset(&a);
    }
    free(in);
    sl_arena_free(&a);
    return (void *)failures;
}

static void test_threads(void)
{
    pthread_t t1, t2;
    pthread_create(&t1, NULL, decode_many, "{\"a\":[1,2,3],\"b\":{\"c\":\"x\\ny\"}}");
    pthread_create(&t2, NULL, decode_many, "{\"long\":\"........................................\",\"n\":1e5}");
    void *r1, *r2;
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    CHECK_INT((long)r1, 0);
    CHECK_INT((long)r2, 0);
}

int main(void)
{
    sl_arena_init(&arena, 1 << 16);
    RUN(test_roundtrip_exact);
    RUN(test_types_and_zero_copy);
    RUN(test_syntax_errors);
    RUN(test_other_errors);
    RUN(test_duplicate_keys);
    RUN(test_depth_limit);
    RUN(test_shortest_doubles);
    RUN(test_escaping);
    RUN(test_threads);
    sl_arena_free(&arena);
    return check_report();
}
