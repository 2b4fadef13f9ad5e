/* test_codec_json_kernels.c — the JSON decoder gives the same results on every
 * simdjson kernel this CPU runs (icelake, haswell, westmere, fallback): values
 * with their types, exact doubles, raw number text, zero-copy flags, and for
 * bad input the same reason, offset and message. Each kernel runs its own
 * build of the On-Demand walker (json_kernel.h); the documents are chosen to
 * cross SIMD block boundaries (64 bytes) with escapes, invalid UTF-8, quotes
 * and long numbers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/json.h"
#include "codec/json_kernel.h"

static sl_arena arena;

/* Appends bytes with control characters as \xNN, so the text is printable. */
static void append_bytes(sl_buf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char esc[8];
        if ((unsigned char)s[i] < 0x20) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)s[i]);
            sl_buf_append(o, esc, strlen(esc));
        } else {
            sl_buf_append(o, &s[i], 1);
        }
    }
}

/* Appends a description of v that tells apart everything the decoder
 * decides: type, flags, exact bits of doubles, raw text, string bytes. */
static void describe(sl_buf *o, const sl_value *v)
{
    char tmp[96];
    switch (v->type) {
    case SL_NULL: sl_buf_append(o, "null", 4); return;
    case SL_BOOL: sl_buf_append(o, v->as.b ? "true" : "false", v->as.b ? 4 : 5); return;
    case SL_INT: snprintf(tmp, sizeof tmp, "i%lld", (long long)v->as.i); break;
    case SL_UINT: snprintf(tmp, sizeof tmp, "u%llu", (unsigned long long)v->as.u); break;
    case SL_DOUBLE: snprintf(tmp, sizeof tmp, "d%a", v->as.d); break;
    case SL_STRING:
        snprintf(tmp, sizeof tmp, "s%u/%u:", v->len, v->flags);
        sl_buf_append(o, tmp, strlen(tmp));
        append_bytes(o, v->as.s, v->len);
        return;
    case SL_ARRAY:
        sl_buf_append(o, "[", 1);
        for (uint32_t i = 0; i < v->len; i++) {
            describe(o, &v->as.items[i]);
            sl_buf_append(o, ",", 1);
        }
        sl_buf_append(o, "]", 1);
        return;
    case SL_MAP:
        sl_buf_append(o, "{", 1);
        for (uint32_t i = 0; i < v->len; i++) {
            snprintf(tmp, sizeof tmp, "k%u:", v->as.fields[i].key_len);
            sl_buf_append(o, tmp, strlen(tmp));
            append_bytes(o, v->as.fields[i].key, v->as.fields[i].key_len);
            sl_buf_append(o, "=", 1);
            describe(o, &v->as.fields[i].value);
            sl_buf_append(o, ",", 1);
        }
        sl_buf_append(o, "}", 1);
        return;
    default:
        snprintf(tmp, sizeof tmp, "type%d", v->type);
        break;
    }
    sl_buf_append(o, tmp, strlen(tmp));
    if (v->raw_len) {
        sl_buf_append(o, "<", 1);
        sl_buf_append(o, v->x.raw, v->raw_len);
        sl_buf_append(o, ">", 1);
    }
}

/* The tricky documents, built once. */
#define MAX_DOCS 64
static sl_buf docs[MAX_DOCS];
static size_t ndocs;

static sl_buf *doc_new(void)
{
    sl_buf *b = &docs[ndocs++];
    sl_buf_init(b);
    return b;
}

static void doc(const char *s, size_t len)
{
    sl_buf_append(doc_new(), s, len);
}

#define DOC(s) doc((s), sizeof(s) - 1)

static void doc_repeat(const char *pre, char fill, size_t n, const char *post)
{
    sl_buf *b = doc_new();
    sl_buf_append(b, pre, strlen(pre));
    for (size_t i = 0; i < n; i++)
        sl_buf_append(b, &fill, 1);
    sl_buf_append(b, post, strlen(post));
}

static void build_docs(void)
{
    DOC("{\"a\":1.50,\"b\":1e3,\"c\":-0,\"d\":18446744073709551615,\"e\":-9223372036854775808,"
        "\"f\":\"\\u0000\",\"g\":\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\",\"h\":[1,[2,{}],[]]}");
    DOC("{\"n\":[0.1,0.30000000000000004,1.7976931348623157e308,4.9e-324,2.2250738585072014e-308,"
        "123456789012345678,12345678901234567890,-1.25E-7,1E+2,100000000000000000000.0,"
        "3.141592653589793238462643383279]}");
    DOC("{\"esc\":\"tab\\there \\\"q\\\" \\\\ \\u001f\\n\\r\\b\\f\\/\\ud83d\\ude00\\u00e9\"}");
    DOC("{\"k\\u0000ey\":\"v\",\"\xe2\x82\xac\":1,\"dup\":1,\"x\":2,\"dup\":3}");
    DOC(" \t\r\n{ \"a\" : [ true , false , null ] , \"b\" : { } }\r\n ");
    DOC("[1,\"two\",{\"three\":3}]");
    DOC("\"a string at the root\"");
    DOC("-12.5e-3");
    /* Valid and invalid bytes placed around the 64-byte block boundaries. */
    for (size_t n = 55; n <= 70; n += 3) {
        doc_repeat("{\"s\":\"", 'x', n, "\\\"\\\\\",\"t\":\"\xf0\x9f\x98\x80\"}");
        doc_repeat("{\"s\":\"", 'x', n, "\xc3\x28\"}");           /* bad continuation */
        doc_repeat("{\"s\":\"", 'x', n, "\x01\"}");               /* raw control character */
        doc_repeat("{\"s\":\"", 'x', n, "\"");                    /* object not closed */
        doc_repeat("{\"s\":\"", 'x', n, "}");                     /* string not closed */
        doc_repeat("{\"n\":", '9', n, "}");                       /* integer beyond 64 bits */
        doc_repeat("{\"n\":0.", '7', n, "1}");                    /* long fraction */
    }
    DOC("{\"a\" 1}");
    DOC("{\"a\":1,}");
    DOC("{\"a\":tru}");
    DOC("{\"a\":falsee}");
    DOC("{\"a\":01}");
    DOC("{\"a\":1}x");
    DOC("{\"a\":1e999}");
    DOC("{\"a\":\"\\ud800\"}");
    DOC("{\"a\":\"\\x\"}");
    DOC("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    DOC("");
    DOC("nul");
    /* More than 32 fields, with duplicates (the sort-based pass). */
    sl_buf *big = doc_new();
    sl_buf_append(big, "{", 1);
    for (int i = 0; i < 40; i++) {
        char f[32];
        int n = snprintf(f, sizeof f, "%s\"f%d\":%d", i ? "," : "", i % 35, i);
        sl_buf_append(big, f, (size_t)n);
    }
    sl_buf_append(big, "}", 1);
}

/* Decodes every document with the active kernel; one line per document. */
static void decode_all(sl_buf *out)
{
    for (size_t i = 0; i < ndocs; i++) {
        sl_value v;
        sl_decode_error err;
        sl_buf_reserve(&docs[i], SL_BUF_PADDING);
        memset(docs[i].data + docs[i].len, 0, SL_BUF_PADDING);
        if (sl_json_decode(&arena, docs[i].data, docs[i].len, 64, false, &v, &err) < 0) {
            char e[sizeof err.msg + 64];
            snprintf(e, sizeof e, "ERR %s @%zu %s", err.reason, err.offset, err.msg);
            append_bytes(out, e, strlen(e));
        } else {
            describe(out, &v);
        }
        sl_buf_append(out, "\n", 1);
        sl_arena_reset(&arena);
    }
}

static void test_same_results_on_every_kernel(void)
{
    const char *names[16];
    size_t n = sl_json_kernels(names, 16);
    CHECK(n >= 1 && n <= 16);
    CHECK_STR(names[n - 1], "fallback");   /* always there, and last */
    sl_buf ref;
    sl_buf_init(&ref);
    CHECK_INT(sl_json_use_kernel("fallback"), 0);
    CHECK_STR(sl_json_kernel(), "fallback");
    CHECK_STR(sl_json_walker(), "generic");
    decode_all(&ref);
    for (size_t k = 0; k < n && k < 16; k++) {
        CHECK_INT(sl_json_use_kernel(names[k]), 0);
        CHECK_STR(sl_json_kernel(), names[k]);
        sl_buf got;
        sl_buf_init(&got);
        decode_all(&got);
        if (got.len != ref.len || memcmp(got.data, ref.data, ref.len) != 0) {
            fprintf(stderr, "kernel %s (walker %s) differs from fallback:\n%.*s\n---\n%.*s\n",
                    names[k], sl_json_walker(), (int)got.len, got.data, (int)ref.len, ref.data);
            CHECK(!"same results on every kernel");
        }
        sl_buf_free(&got);
    }
    /* Spot checks, so that "all the same" cannot mean "all wrong". */
    sl_buf_append(&ref, "", 1);
    CHECK(strstr(ref.data, "k1:d=u18446744073709551615<18446744073709551615>,") != NULL);
    CHECK(strstr(ref.data, "ERR json_number @5 integer 9999") != NULL);
    CHECK(strstr(ref.data, "ERR json_utf8 @61 invalid UTF-8 at offset 61 (byte 0xc3)") != NULL);
    CHECK(strstr(ref.data, "d0x0.0000000000001p-1022<4.9e-324>") != NULL);
    sl_buf_free(&ref);
}

/* Decimals with more than 19 digits come out correctly rounded on every
 * kernel (simdjson 3.0.1's On-Demand get_number() returned 0 or values off by
 * powers of ten for them). */
static void test_long_decimals(void)
{
    static const char *const numbers[] = {
        "100000000000000000000.0", "3.14159265358979323846264338327",
        "12345678901234567890.5", "0.77777777777777777777777777",
        "1.0000000000000000000001", "-0.000000000000000000000123456789012345678901e-5",
        "9007199254740993.00000000000000000001", "2.2250738585072011360574097967e-308",
    };
    const char *names[16];
    size_t n = sl_json_kernels(names, 16);
    for (size_t k = 0; k < n && k < 16; k++) {
        CHECK_INT(sl_json_use_kernel(names[k]), 0);
        for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
            char in[128];
            int len = snprintf(in, sizeof in, "[%s]", numbers[i]);
            char *p = calloc(1, (size_t)len + SL_BUF_PADDING);
            memcpy(p, in, (size_t)len);
            sl_value v;
            sl_decode_error err;
            CHECK_INT(sl_json_decode(&arena, p, (size_t)len, 64, false, &v, &err), 0);
            CHECK_INT(v.as.items[0].type, SL_DOUBLE);
            if (v.as.items[0].as.d != strtod(numbers[i], NULL)) {
                fprintf(stderr, "kernel %s: %s decoded as %a\n", names[k], numbers[i], v.as.items[0].as.d);
                CHECK(!"long decimal decoded exactly");
            }
            CHECK_MEM(v.as.items[0].x.raw, v.as.items[0].raw_len, numbers[i]);
            free(p);
            sl_arena_reset(&arena);
        }
    }
}

/* Each x86-64 kernel with a build of its own runs that build. */
static void test_walker_follows_kernel(void)
{
    const char *names[16];
    size_t n = sl_json_kernels(names, 16);
    for (size_t k = 0; k < n && k < 16; k++) {
        CHECK_INT(sl_json_use_kernel(names[k]), 0);
        if (strcmp(names[k], "icelake") == 0 || strcmp(names[k], "haswell") == 0)
            CHECK_STR(sl_json_walker(), names[k]);
        else
            CHECK_STR(sl_json_walker(), "generic");
    }
    CHECK_INT(sl_json_use_kernel("no-such-kernel"), -1);
}

int main(void)
{
    sl_arena_init(&arena, 0);
    build_docs();
    RUN(test_same_results_on_every_kernel);
    RUN(test_walker_follows_kernel);
    RUN(test_long_decimals);
    for (size_t i = 0; i < ndocs; i++)
        sl_buf_free(&docs[i]);
    sl_arena_free(&arena);
    return check_report();
}
