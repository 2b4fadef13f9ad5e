/* test_codec_json_check.c — sl_json_check, the walk that checks a JSON text
 * without building its value (records nothing reads, lazy_decode.h): on
 * every input it must say what sl_json_decode says — the same success, the
 * same flags (duplicate keys) and, on failure, the same reason, message and
 * offset — because a malformed line must reach the DLQ exactly as before.
 * Compared on the fuzz corpus (tests/fuzz/corpus/json), line by line and
 * whole, and on JSONTestSuite-style malformed and edge inputs, each with and
 * without an object required and at three depth limits, on every kernel. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/json.h"
#include "codec/json_kernel.h"
#include "codec/format.h"

#define CORPUS "tests/fuzz/corpus/json"

static sl_arena arena;
static int compared;

/* Decodes and checks s[0..len) both ways; every difference fails a CHECK. */
static void same_verdict(const char *s, size_t len, unsigned depth, bool obj)
{
    char *p = malloc(len + SL_BUF_PADDING);
    memcpy(p, s, len);
    memset(p + len, 0, SL_BUF_PADDING);
    sl_value v;
    sl_decode_error de, ce;
    uint8_t flags = 0xff;
    int drc = sl_json_decode(&arena, p, len, depth, obj, &v, &de);
    int crc = sl_json_check(p, len, depth, obj, &flags, &ce);
    CHECK_INT(crc, drc);
    if (drc == 0 && crc == 0) {
        CHECK_INT(flags, v.flags & SL_VF_DUPLICATE_KEYS);
    } else if (drc != 0 && crc != 0) {
        CHECK_STR(ce.reason, de.reason);
        CHECK_STR(ce.msg, de.msg);
        CHECK_INT(ce.offset, de.offset);
    }
    if (crc != drc)
        fprintf(stderr, "  input: %.*s\n", (int)len, s);
    compared++;
    free(p);
}

static void all_ways(const char *s, size_t len)
{
    static const unsigned depths[] = {1, 2, 64};
    for (int d = 0; d < 3; d++)
        for (int obj = 0; obj < 2; obj++)
            same_verdict(s, len, depths[d], obj);
}

static void test_corpus(void)
{
    DIR *dir = opendir(CORPUS);
    CHECK(dir != NULL);
    if (!dir) return;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CORPUS, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        files++;
        all_ways(buf, n);                       /* the whole file */
        for (size_t i = 0; i < n;) {            /* and each line, as a JSONL frame */
            const char *nl = memchr(buf + i, '\n', n - i);
            size_t len = nl ? (size_t)(nl - (buf + i)) : n - i;
            all_ways(buf + i, len);
            i += len + 1;
        }
    }
    closedir(dir);
    CHECK(files >= 10);
}

/* JSONTestSuite-style inputs: n_ (must fail), y_ (must pass), i_ (either)
 * and the decoder's own edges (numbers out of range, long mantissas, duplicate
 * keys at every level, escaped keys, depth). */
static const char *const CASES[] = {
    "{\"a\" 1}", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{,}", "{\"a\":}", "{:1}", "{1:1}",
    "{'a':1}", "{\"a\":1}}", "{\"a\":1", "{\"a\":[1,2}", "[1,,2]", "[,1]", "[1,]", "[1 2]",
    "{\"a\":tru}", "{\"a\":truee}", "{\"a\":nul}", "{\"a\":NaN}", "{\"a\":Infinity}",
    "{\"a\":-}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.1}", "{\"a\":1e}", "{\"a\":1e+}",
    "{\"a\":+1}", "{\"a\":0x10}", "{\"a\":1.0e-400}", "{\"a\":1e400}", "{\"a\":-1e400}",
    "{\"a\":18446744073709551615}", "{\"a\":18446744073709551616}",
    "{\"a\":-9223372036854775808}", "{\"a\":-9223372036854775809}",
    "{\"a\":100000000000000000000.0}", "{\"a\":0.77777777777777777777777777}",
    "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\u0000\"}",
    "{\"a\":\"tab\there\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\x28\"}",
    "{\"a\":\"caf\xc3\xa9\"}", "{\"a\":\"unterminated}", "\"a\"", "1", "[]", "null", "",
    "   ", "{} x", "{}{}", "[] ]", "{\"a\":1}\x00", "\xef\xbb\xbf{}", "{\"a\":[[[[1]]]]}",
    "[[[[[[[[]]]]]]]]", "{\"a\":{\"b\":{\"c\":{}}}}",
    "{\"k\":1,\"k\":2}", "{\"x\":{\"k\":1,\"k\":2}}", "{\"x\":[{\"k\":1,\"k\":2}]}",
    "{\"k\\u0065y\":1,\"key\":2}", "{\"a\\\"b\":1,\"a\\\"b\":2}", "{\"\":1,\"\":2}",
    "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,"
    "\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"r\":18,\"s\":19,\"t\":20,"
    "\"u\":21,\"v\":22,\"w\":23,\"x\":24,\"y\":25,\"z\":26,\"A\":27,\"B\":28,\"C\":29,\"D\":30,"
    "\"E\":31,\"F\":32,\"G\":33,\"a\":34}",
    "null ", "true\t", "false\n", "1 ", "-0", "1E5", "\"a\" ", " [1] ", "\"\\/\"", "[1]\r\n",
    "{\"n\":1e3, \"z\" : -0.0,\"s\":\"caf\\u00e9\",\"t\":true,\"f\":false,\"u\":null}",
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        all_ways(CASES[i], strlen(CASES[i]));
    same_verdict("{\"a\":1}\x00", 8, 64, true);   /* a NUL byte inside the text */
    /* nesting around the default limit (max_depth 0) and above it; not
     * beyond 1023 levels: simdjson's On-Demand iterator, under the walker,
     * asserts on deeper input in builds with its development checks */
    static char deep[2 * 1100];
    static const struct { size_t levels; unsigned max_depth; } nests[] = {
        {64, 0}, {65, 0}, {1000, 5000}, {1000, 999}, {1100, 1000}};
    for (size_t i = 0; i < sizeof nests / sizeof *nests; i++) {
        size_t n = nests[i].levels;
        memset(deep, '[', n);
        memset(deep + n, ']', n);
        same_verdict(deep, 2 * n, nests[i].max_depth, false);
    }
}

/* The format layer: sl_format_check agrees with sl_format_decode on frames
 * (line breaks, blank lines). */
static void test_format_check(void)
{
    sl_format f;
    sl_format_init(&f, SL_FORMAT_JSONL);
    CHECK(sl_format_checks(&f));
    static const char *const frames[] = {"{\"a\":1}\n", "{\"a\":1}\r\n", "  \r\n", "\n",
                                         "{\"a\" 1}\n", "[1]\n", "{\"k\":1,\"k\":2}\n"};
    for (size_t i = 0; i < sizeof frames / sizeof *frames; i++) {
        size_t len = strlen(frames[i]);
        char *p = malloc(len + SL_BUF_PADDING);
        memcpy(p, frames[i], len);
        memset(p + len, 0, SL_BUF_PADDING);
        sl_value v;
        sl_decode_error de = {0}, ce = {0};
        uint8_t flags = 0;
        int drc = sl_format_decode(&f, NULL, &arena, p, len, &v, &de);
        int crc = sl_format_check(&f, p, len, &flags, &ce);
        CHECK_INT(crc, drc);
        if (drc == 0) CHECK_INT(flags, v.flags & SL_VF_DUPLICATE_KEYS);
        if (drc < 0) CHECK_STR(ce.msg, de.msg);
        free(p);
    }
    sl_format csv;
    sl_format_init(&csv, SL_FORMAT_CSV);
    CHECK(!sl_format_checks(&csv));
}

int main(void)
{
    sl_arena_init(&arena, 1 << 16);
    const char *kernels[8];
    size_t n = sl_json_kernels(kernels, 8);
    for (size_t k = 0; k < n && k < 8; k++) {
        CHECK_INT(sl_json_use_kernel(kernels[k]), 0);
        fprintf(stderr, "kernel %s\n", kernels[k]);
        RUN(test_corpus);
        RUN(test_cases);
    }
    RUN(test_format_check);
    fprintf(stderr, "%d inputs compared\n", compared);
    sl_arena_free(&arena);
    return check_report();
}
