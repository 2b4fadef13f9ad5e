/* test_engine_file_position.c — the per-file positions the file and tail
 * sources save (sources/file_position.c): a renamed file keeps its offset, a
 * file that grew past its fingerprinted bytes is still recognised, a
 * truncated or rewritten one starts from 0, an unknown one from 0; the JSON
 * round trip, and malformed saved state.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sources/file_position.h"

static char dir[256];

static const char *at(const char *name)
{
    static char path[2][512];
    static int next;
    char *p = path[next++ % 2];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const char *data, const char *mode)
{
    FILE *f = fopen(at(name), mode);
    fputs(data, f);
    fclose(f);
}

/* Opens name, fingerprints it, and records `offset` for it in t. */
static void remember(sl_file_positions *t, const char *name, uint64_t offset)
{
    int fd = open(at(name), O_RDONLY);
    struct stat st = {0};
    uint64_t fp = 0;
    uint32_t len = 0;
    sl_error err;
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && sl_file_fingerprint(fd, &fp, &len, &err) == 0);
    sl_file_positions_put(t, at(name), &st, fp, len, offset);
    close(fd);
}

/* Where t says to resume name; *why as sl_file_positions_resume says. */
static uint64_t resume(sl_file_positions *t, const char *name, const char **why)
{
    int fd = open(at(name), O_RDONLY);
    struct stat st = {0};
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    uint64_t offset = sl_file_positions_resume(t, fd, &st, why);
    close(fd);
    return offset;
}

static void test_resume(void)
{
    sl_file_positions t = {0};
    const char *why;
    write_file("a.log", "line 1\nline 2\n", "w");
    remember(&t, "a.log", 7);

    CHECK_INT(resume(&t, "a.log", &why), 7);
    CHECK(why == NULL);
    /* renamed and grown: the same file, at the same offset */
    CHECK(rename(at("a.log"), at("a.log.1")) == 0);
    write_file("a.log.1", "line 3\n", "a");
    CHECK_INT(resume(&t, "a.log.1", &why), 7);
    CHECK(why == NULL);
    /* truncated (copytruncate) */
    write_file("a.log.1", "", "w");
    CHECK_INT(resume(&t, "a.log.1", &why), 0);
    CHECK_STR(why, "truncated");
    /* rewritten in place: same inode, other first bytes */
    remember(&t, "a.log.1", 0);
    write_file("a.log.1", "other 1\nother 2\n", "w");
    remember(&t, "a.log.1", 8);
    write_file("a.log.1", "OTHER 1\nother 2\nmore\n", "w");
    CHECK_INT(resume(&t, "a.log.1", &why), 0);
    CHECK_STR(why, "replaced");
    /* a file the table does not know */
    write_file("new.log", "x\n", "w");
    CHECK_INT(resume(&t, "new.log", &why), 0);
    CHECK(why == NULL);
    sl_file_positions_free(&t);
}

static void test_fingerprint_of_bytes(void)
{
    write_file("fp.log", "abc\n", "w");
    int fd = open(at("fp.log"), O_RDONLY);
    uint64_t fp;
    uint32_t len;
    sl_error err;
    CHECK(sl_file_fingerprint(fd, &fp, &len, &err) == 0);
    close(fd);
    CHECK_INT(len, 4);
    CHECK(fp == sl_fingerprint_bytes("abc\n", 4));
    CHECK(fp != sl_fingerprint_bytes("abd\n", 4));
}

static void test_json_round_trip(void)
{
    sl_file_positions t = {0}, back = {0};
    struct stat st = {.st_dev = 2049, .st_ino = 77};
    sl_file_positions_put(&t, "logs/\"odd\" name.log", &st, 0xfedcba9876543210ull, 1024, 123456789012ull);
    struct stat st2 = {.st_dev = 2049, .st_ino = 78};
    sl_file_position *with_ph = sl_file_positions_put(&t, "b.log", &st2, 1, 10, 10);
    with_ph->prefix_chain = 0x0123456789abcdefull;
    with_ph->prefix_len = 8192;
    sl_buf json;
    sl_buf_init(&json);
    sl_file_positions_save(&t, &json);
    sl_error err = {0};
    CHECK(sl_file_positions_load(&back, json.data, json.len, &err) == 0);
    CHECK_INT(back.count, 2);
    sl_file_position *e = sl_file_positions_find(&back, 2049, 78);
    CHECK(e && e->prefix_chain == 0x0123456789abcdefull && e->prefix_len == 8192);
    e = sl_file_positions_find(&back, 2049, 77);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->path, "logs/\"odd\" name.log");
        CHECK(e->fingerprint == 0xfedcba9876543210ull);
        CHECK_INT(e->fp_len, 1024);
        CHECK(e->offset == 123456789012ull);
        CHECK(e->prefix_chain == 0 && e->prefix_len == 0);   /* none saved: none loaded */
    }
    const char *bad = "{\"files\":[{\"path\":\"a\",\"dev\":1,\"ino\":2,\"fp\":\"zz\",\"fp_len\":3,\"offset\":4}]}";
    CHECK(sl_file_positions_load(&back, bad, strlen(bad), &err) < 0);
    CHECK(strstr(err.msg, "saved file position 1 is malformed") != NULL);
    sl_buf_free(&json);
    sl_file_positions_free(&t);
    sl_file_positions_free(&back);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-unit-fpos-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_resume);
    RUN(test_fingerprint_of_bytes);
    RUN(test_json_round_trip);
    const char *names[] = {"a.log.1", "new.log", "fp.log"};
    for (size_t i = 0; i < 3; i++) unlink(at(names[i]));
    rmdir(dir);
    return check_report();
}
