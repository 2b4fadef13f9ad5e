/* test_core_util.c — UTF-8 validation, base64, RFC 3339, sizes, durations,
 * levenshtein and "did you mean", mkdir -p, directory fsync and atomic file
 * replacement. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/util.h"

static void test_utf8(void) {
    static const struct { const char *s; size_t len; bool valid; } cases[] = {
        {"", 0, true},
        {"plain ascii, longer than eight bytes", 36, true},
        {"\x00", 1, true},                       /* NUL is a valid code point */
        {"caf\xc3\xa9", 5, true},                /* U+00E9 */
        {"\xe2\x82\xac", 3, true},               /* U+20AC */
        {"\xf0\x9f\x98\x80", 4, true},           /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, true},           /* U+10FFFF */
        {"\xed\x9f\xbf", 3, true},               /* U+D7FF */
        {"\xee\x80\x80", 3, true},               /* U+E000 */
        {"\xc0\xaf", 2, false},                  /* overlong '/' */
        {"\xc1\xbf", 2, false},                  /* overlong */
        {"\xe0\x80\xaf", 3, false},              /* overlong 3-byte */
        {"\xe0\x9f\xbf", 3, false},              /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 4, false},          /* overlong 4-byte */
        {"\xf0\x8f\xbf\xbf", 4, false},          /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, false},              /* U+D800 surrogate */
        {"\xed\xbf\xbf", 3, false},              /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 4, false},          /* U+110000 */
        {"\xf5\x80\x80\x80", 4, false},
        {"\xff", 1, false},
        {"\x80", 1, false},                      /* lone continuation */
        {"\xc3", 1, false},                      /* truncated */
        {"\xe2\x82", 2, false},                  /* truncated */
        {"\xc3\x28", 2, false},                  /* bad continuation */
        {"\xe2\x28\xa1", 3, false},
        {"0123456789abcdef\xc3\xa9 then ascii", 29, true},
        {"0123456789abcdef\xed\xa0\x80", 19, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = sl_utf8_valid(cases[i].s, cases[i].len);
        if (got != cases[i].valid)
            fprintf(stderr, "  utf8 case %zu\n", i);
        CHECK(got == cases[i].valid);
    }
}

static void test_base64(void) {
    static const char *vectors[][2] = {   /* RFC 4648 section 10 */
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        sl_buf b;
        sl_buf_init(&b);
        sl_buf_puts(&b, "<");
        sl_base64_encode(&b, vectors[i][0], strlen(vectors[i][0]));
        CHECK_STR(b.data + 1, vectors[i][1]);
        sl_buf_free(&b);
    }
    sl_buf b;
    sl_buf_init(&b);
    sl_base64_encode(&b, "\xff\xfe\x00", 3);
    CHECK_STR(b.data, "//4A");
    sl_buf_free(&b);
}

static void test_rfc3339(void) {
    char out[40];
    CHECK_INT(sl_format_rfc3339(out, 0), 20);
    CHECK_STR(out, "1970-01-01T00:00:00Z");
    sl_format_rfc3339(out, 1795482123500000000LL);
    CHECK_STR(out, "2026-11-24T01:02:03.5Z");
    sl_format_rfc3339(out, 1795482123123456789LL);
    CHECK_STR(out, "2026-11-24T01:02:03.123456789Z");
    sl_format_rfc3339(out, -1);
    CHECK_STR(out, "1969-12-31T23:59:59.999999999Z");
    sl_format_rfc3339(out, 951782400000000000LL);
    CHECK_STR(out, "2000-02-29T00:00:00Z");

    int64_t ns = 0;
    CHECK(sl_parse_rfc3339("2026-11-24T01:02:03.5Z", 22, &ns));
    CHECK_INT(ns, 1795482123500000000LL);
    const char *s = "2026-11-24T02:02:03.123+01:00";
    CHECK(sl_parse_rfc3339(s, strlen(s), &ns));
    CHECK_INT(ns, 1795482123123000000LL);
    s = "2026-11-24 01:02:03Z";
    CHECK(sl_parse_rfc3339(s, strlen(s), &ns));
    CHECK_INT(ns, 1795482123000000000LL);
    s = "2026-11-23T20:02:03-0500";
    CHECK(sl_parse_rfc3339(s, strlen(s), &ns));
    CHECK_INT(ns, 1795482123000000000LL);
    s = "2026-11-24T01:02:03";   /* no offset: UTC */
    CHECK(sl_parse_rfc3339(s, strlen(s), &ns));
    CHECK_INT(ns, 1795482123000000000LL);
    s = "1969-12-31T23:59:59.999999999Z";
    CHECK(sl_parse_rfc3339(s, strlen(s), &ns));
    CHECK_INT(ns, -1);

    static const char *bad[] = {
        "", "2026-11-24", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-24T24:00:00Z", "2026-11-24T01:02:03.Z", "2026-11-24T01:02:03Zjunk",
        "2026-11-24X01:02:03Z", "26-11-24T01:02:03Z", "2026-11-24T01:02:03+1",
        "3000-01-01T00:00:00Z", "1600-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok = sl_parse_rfc3339(bad[i], strlen(bad[i]), &ns);
        if (ok)
            fprintf(stderr, "  accepted bad timestamp '%s'\n", bad[i]);
        CHECK(!ok);
    }
    /* Round trips. */
    const int64_t samples[] = {0, 1, -1000000001, 1795482123123456789LL, 4102444799999999999LL,
                               -2208988800000000000LL};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        size_t n = sl_format_rfc3339(out, samples[i]);
        CHECK(sl_parse_rfc3339(out, n, &ns));
        CHECK_INT(ns, samples[i]);
    }
}

static void test_sizes(void) {
    uint64_t v = 0;
    CHECK(sl_parse_size("100", &v) && v == 100);
    CHECK(sl_parse_size("64MiB", &v) && v == 64ull << 20);
    CHECK(sl_parse_size("1.5GB", &v) && v == 1500000000ull);
    CHECK(sl_parse_size("512k", &v) && v == 512ull << 10);
    CHECK(sl_parse_size("1kb", &v) && v == 1000);
    CHECK(sl_parse_size("2 KiB", &v) && v == 2048);
    CHECK(sl_parse_size("0.5m", &v) && v == 512ull << 10);
    CHECK(sl_parse_size("1TiB", &v) && v == 1ull << 40);
    CHECK(sl_parse_size("7b", &v) && v == 7);
    CHECK(!sl_parse_size("", &v));
    CHECK(!sl_parse_size("-1", &v));
    CHECK(!sl_parse_size("12 parsecs", &v));
    CHECK(!sl_parse_size("1.GB", &v));
    CHECK(!sl_parse_size("99999999999999999999", &v));
    CHECK(!sl_parse_size("20000000TiB", &v));

    char out[32];
    sl_format_size(out, 512);
    CHECK_STR(out, "512 B");
    sl_format_size(out, 1536);
    CHECK_STR(out, "1.5 KiB");
    sl_format_size(out, 64ull << 20);
    CHECK_STR(out, "64 MiB");
    sl_format_size(out, 3ull << 30);
    CHECK_STR(out, "3 GiB");
}

static void test_durations(void) {
    uint64_t v = 0;
    CHECK(sl_parse_duration_ms("250ms", &v) && v == 250);
    CHECK(sl_parse_duration_ms("5s", &v) && v == 5000);
    CHECK(sl_parse_duration_ms("1.5s", &v) && v == 1500);
    CHECK(sl_parse_duration_ms("1m", &v) && v == 60000);
    CHECK(sl_parse_duration_ms("2h", &v) && v == 7200000);
    CHECK(sl_parse_duration_ms("1d", &v) && v == 86400000);
    CHECK(sl_parse_duration_ms("1m30s", &v) && v == 90000);
    CHECK(sl_parse_duration_ms("0", &v) && v == 0);
    CHECK(!sl_parse_duration_ms("", &v));
    CHECK(!sl_parse_duration_ms("100", &v));
    CHECK(!sl_parse_duration_ms("5 s", &v));
    CHECK(!sl_parse_duration_ms("5sec", &v));
    CHECK(!sl_parse_duration_ms("s", &v));
    CHECK(!sl_parse_duration_ms("-5s", &v));
}

static void test_did_you_mean(void) {
    CHECK_INT(sl_levenshtein("", ""), 0);
    CHECK_INT(sl_levenshtein("kitten", "sitting"), 3);
    CHECK_INT(sl_levenshtein("path", ""), 4);
    CHECK_INT(sl_levenshtein("flaw", "lawn"), 2);
    static const char *const opts[] = {"path", "paths", "format", "encoding", "inputs"};
    CHECK_STR(sl_did_you_mean("pth", opts, 5), "path");
    CHECK_STR(sl_did_you_mean("fromat", opts, 5), "format");
    CHECK_STR(sl_did_you_mean("encodng", opts, 5), "encoding");
    CHECK_STR(sl_did_you_mean("input", opts, 5), "inputs");
    CHECK(sl_did_you_mean("zzzz", opts, 5) == NULL);
    CHECK(sl_did_you_mean("x", opts, 0) == NULL);
}

static void test_hash(void) {
    CHECK(sl_hash64("abc", 3, 0) == sl_hash64("abc", 3, 0));
    CHECK(sl_hash64("abc", 3, 0) != sl_hash64("abc", 3, 1));
    CHECK(sl_hash64("", 0, 0) == 0x2d06800538d394c2ull);   /* XXH3_64bits("") */
}

/* ---- files ---- */

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void slurp(const char *path, sl_buf *out) {
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char chunk[256];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sl_buf_append(out, chunk, n);
    fclose(f);
}

static size_t count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

static void test_mkdirs(void) {
    char root[] = "/tmp/sluice-util-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char path[256], file[256];
    sl_error err;

    snprintf(path, sizeof path, "%s/a/b//c/", root);
    CHECK_INT(sl_mkdirs(path, &err), 0);
    snprintf(path, sizeof path, "%s/a/b/c", root);
    CHECK(is_dir(path));
    CHECK_INT(sl_mkdirs(path, &err), 0);            /* already there */

    snprintf(file, sizeof file, "%s/a/file", root);
    CHECK_INT(sl_write_file_atomic(file, "x", 1, &err), 0);
    CHECK_INT(sl_mkdirs(file, &err), -1);           /* a file is not a directory */
    CHECK(strstr(err.msg, "file: Not a directory") != NULL);
    snprintf(path, sizeof path, "%s/a/file/sub", root);
    CHECK_INT(sl_mkdirs(path, &err), -1);
    CHECK(strstr(err.msg, "cannot create the directory") != NULL);

    snprintf(file, sizeof file, "%s/x/y/out.json", root);
    CHECK_INT(sl_mkdirs_parent(file, &err), 0);
    snprintf(path, sizeof path, "%s/x/y", root);
    CHECK(is_dir(path));
    snprintf(path, sizeof path, "%s/x/y/out.json", root);
    CHECK(!is_dir(path));                            /* only the parents */
    CHECK_INT(sl_mkdirs_parent("plain-name", &err), 0);

    CHECK_INT(sl_fsync_dir(root, &err), 0);
    snprintf(path, sizeof path, "%s/missing", root);
    CHECK_INT(sl_fsync_dir(path, &err), -1);
    CHECK(strstr(err.msg, "cannot open the directory") != NULL);
    remove_tree(root);
}

static void test_write_file_atomic(void) {
    char root[] = "/tmp/sluice-util-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char path[256];
    sl_error err;
    sl_buf got;
    sl_buf_init(&got);

    snprintf(path, sizeof path, "%s/doc.json", root);
    CHECK_INT(sl_write_file_atomic(path, "{\"v\":1}\n", 8, &err), 0);
    slurp(path, &got);
    CHECK_MEM(got.data, got.len, "{\"v\":1}\n");
    CHECK_INT(sl_write_file_atomic(path, "second", 6, &err), 0);   /* replaces */
    slurp(path, &got);
    CHECK_MEM(got.data, got.len, "second");
    CHECK_INT(sl_write_file_atomic(path, "", 0, &err), 0);
    slurp(path, &got);
    CHECK_INT(got.len, 0);
    CHECK_INT(count_entries(root), 1);               /* no temporary file left */
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0600) == 0600);

    /* A directory in the way: the rename fails, the temp file is removed. */
    snprintf(path, sizeof path, "%s/dir", root);
    CHECK_INT(sl_mkdirs(path, &err), 0);
    char inner[300];
    snprintf(inner, sizeof inner, "%s/keep", path);
    CHECK_INT(sl_write_file_atomic(inner, "k", 1, &err), 0);
    CHECK_INT(sl_write_file_atomic(path, "data", 4, &err), -1);
    CHECK(strstr(err.msg, "cannot rename") != NULL);
    CHECK_INT(count_entries(root), 2);               /* doc.json and dir */
    CHECK_INT(count_entries(path), 1);

    snprintf(path, sizeof path, "%s/missing/doc.json", root);
    CHECK_INT(sl_write_file_atomic(path, "x", 1, &err), -1);
    CHECK(strstr(err.msg, "cannot create") != NULL);
    sl_buf_free(&got);
    remove_tree(root);
}

static void test_read_file(void) {
    char dir[] = "/tmp/sluice-read-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/data", dir);
    /* 200 KiB with NUL bytes: more than one read, nothing lost or added. */
    size_t n = 200 * 1024;
    char *want = malloc(n);
    for (size_t i = 0; i < n; i++) want[i] = (char)(i * 7 % 251);
    FILE *f = fopen(path, "wb");
    CHECK(fwrite(want, 1, n, f) == n);
    fclose(f);
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, "old contents are replaced");
    CHECK_INT(sl_read_file(path, &b), 0);
    CHECK_INT(b.len, n);
    CHECK(memcmp(b.data, want, n) == 0);
    CHECK_INT(b.data[b.len], 0);
    /* An empty file gives an empty, terminated buffer. */
    f = fopen(path, "wb");
    fclose(f);
    CHECK_INT(sl_read_file(path, &b), 0);
    CHECK_INT(b.len, 0);
    CHECK(b.data != NULL && b.data[0] == '\0');
    /* Failures leave errno for the caller's message. */
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK_INT(sl_read_file(path, &b), -1);
    CHECK_INT(errno, ENOENT);
    CHECK_INT(sl_read_file(dir, &b), -1);
    CHECK_INT(errno, EISDIR);
    sl_buf_free(&b);
    free(want);
    snprintf(path, sizeof path, "%s/data", dir);
    unlink(path);
    rmdir(dir);
}

static void test_parse_integer(void) {
    sl_value v;
    CHECK_INT(sl_parse_integer("-9223372036854775808", 20, &v), 0);
    CHECK(v.type == SL_INT && v.as.i == INT64_MIN);
    CHECK_INT(sl_parse_integer("18446744073709551615", 20, &v), 0);
    CHECK(v.type == SL_UINT && v.as.u == UINT64_MAX);
    CHECK_INT(sl_parse_integer("+7", 2, &v), 0);
    CHECK(v.type == SL_INT && v.as.i == 7);
    CHECK_INT(sl_parse_integer("18446744073709551616", 20, &v), -2);
    CHECK_INT(sl_parse_integer("-9223372036854775809", 20, &v), -2);
    CHECK_INT(sl_parse_integer("", 0, &v), -1);
    CHECK_INT(sl_parse_integer("-", 1, &v), -1);
    CHECK_INT(sl_parse_integer("1x", 2, &v), -1);
    CHECK_INT(sl_parse_integer(" 1", 2, &v), -1);
    CHECK_INT(sl_parse_integer("1.0", 3, &v), -1);
}

int main(void) {
    RUN(test_utf8);
    RUN(test_base64);
    RUN(test_rfc3339);
    RUN(test_sizes);
    RUN(test_durations);
    RUN(test_did_you_mean);
    RUN(test_hash);
    RUN(test_mkdirs);
    RUN(test_write_file_atomic);
    RUN(test_read_file);
    RUN(test_parse_integer);
    return check_report();
}
