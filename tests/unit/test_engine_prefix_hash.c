/* test_engine_prefix_hash.c — the running hash of a followed file's prefix
 * (sources/prefix_hash.c), with which the tail source recognises the copy
 * copytruncate made of a file: the same bytes hash the same however they
 * are fed; a file holding them and more "covers" them, a shorter one that is
 * their start is "inside" (against a mark), anything else differs; a state
 * restored from a checkpoint and caught up from the file equals the one
 * that read it; two files' first bytes compared.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sources/prefix_hash.h"

#define SIZE (3 * SL_PREFIX_BLOCK + 1234)

static char dir[256], data[SIZE + SL_PREFIX_BLOCK];
static sl_prefix_hash a, b;   /* 4 KiB each: not on the stack */

/* A file holding data[0..n) (then `extra` bytes of x), open for reading. */
static int file_of(const char *name, size_t n, size_t extra)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fwrite(data, 1, n, f);
    for (size_t i = 0; i < extra; i++) fputc('x', f);
    fclose(f);
    int fd = open(path, O_RDONLY);
    unlink(path);
    return fd;
}

static void test_feed_in_any_pieces(void)
{
    sl_prefix_hash_reset(&a);
    sl_prefix_hash_reset(&b);
    sl_prefix_hash_feed(&a, 0, data, SIZE);
    srand(7);
    for (size_t at = 0; at < SIZE;) {
        size_t n = 1 + (size_t)rand() % 5000;
        if (n > SIZE - at) n = SIZE - at;
        size_t back = at > 0 ? (size_t)rand() % (at < 100 ? at : 100) : 0;   /* bytes read again: not hashed twice */
        sl_prefix_hash_feed(&b, at - back, data + at - back, n + back);
        at += n;
    }
    CHECK(sl_prefix_hash_end(&a) == SIZE && sl_prefix_hash_end(&b) == SIZE);
    CHECK(a.chain == b.chain && a.len == b.len && a.tail_len == b.tail_len);
    CHECK(memcmp(a.tail, b.tail, a.tail_len) == 0);
    sl_prefix_hash_feed(&b, SIZE + 10, data, 5);   /* beyond the end: a gap is not hashed */
    CHECK(sl_prefix_hash_end(&b) == SIZE);
}

static void test_match(void)
{
    sl_prefix_hash_reset(&a);
    int empty = file_of("empty", 100, 0);
    CHECK_INT(sl_prefix_hash_match(&a, empty, 100), SL_PREFIX_COVERS);   /* every file starts with nothing */
    close(empty);

    sl_prefix_hash_feed(&a, 0, data, 2 * SL_PREFIX_BLOCK + 10);
    sl_prefix_hash_mark(&a);
    sl_prefix_hash_feed(&a, 2 * SL_PREFIX_BLOCK + 10, data + 2 * SL_PREFIX_BLOCK + 10, SIZE - 2 * SL_PREFIX_BLOCK - 10);
    int same = file_of("same", SIZE, 0), more = file_of("more", SIZE, 500);
    CHECK_INT(sl_prefix_hash_match(&a, same, SIZE), SL_PREFIX_COVERS);
    CHECK_INT(sl_prefix_hash_match(&a, more, SIZE + 500), SL_PREFIX_COVERS);
    /* Copied before the last read: shorter, its start is checked against the mark. */
    int shorter = file_of("shorter", 2 * SL_PREFIX_BLOCK + 100, 0);
    CHECK_INT(sl_prefix_hash_match(&a, shorter, 2 * SL_PREFIX_BLOCK + 100), SL_PREFIX_INSIDE);
    int tiny = file_of("tiny", 100, 0);   /* shorter than any mark: cannot tell */
    CHECK_INT(sl_prefix_hash_match(&a, tiny, 100), SL_PREFIX_DIFFERENT);
    data[SIZE - 1] ^= 1;   /* differs in the last byte read (in the unhashed tail block) */
    int last = file_of("last", SIZE, 0);
    CHECK_INT(sl_prefix_hash_match(&a, last, SIZE), SL_PREFIX_DIFFERENT);
    data[SIZE - 1] ^= 1;
    data[SL_PREFIX_BLOCK + 10] ^= 1;   /* differs in a hashed block */
    int middle = file_of("middle", SIZE, 0);
    CHECK_INT(sl_prefix_hash_match(&a, middle, SIZE), SL_PREFIX_DIFFERENT);
    data[SL_PREFIX_BLOCK + 10] ^= 1;
    CHECK(!sl_prefix_hash_changed(&a, same, SIZE) && !sl_prefix_hash_changed(&a, more, SIZE + 500));
    CHECK(!sl_prefix_hash_changed(&a, shorter, 2 * SL_PREFIX_BLOCK + 100));   /* cannot tell: shorter */
    CHECK(sl_prefix_hash_changed(&a, last, SIZE));
    CHECK(sl_prefix_same_bytes(same, more, SIZE));
    CHECK(!sl_prefix_same_bytes(same, middle, SIZE));
    CHECK(!sl_prefix_same_bytes(same, more, SIZE + 1));   /* one is shorter */
    close(same);
    close(more);
    close(shorter);
    close(tiny);
    close(last);
    close(middle);
}

static void test_restore_and_catch_up(void)
{
    sl_prefix_hash_reset(&a);
    sl_prefix_hash_feed(&a, 0, data, SIZE);
    /* A checkpoint keeps the chain and length at the last block boundary. */
    sl_prefix_hash_restore(&b, a.chain, a.len);
    CHECK(sl_prefix_hash_end(&b) == SIZE / SL_PREFIX_BLOCK * SL_PREFIX_BLOCK && a.tail_len > 0);
    int fd = file_of("resume", SIZE, 0);
    sl_error err = {0};
    CHECK(sl_prefix_hash_catch_up(&b, fd, SIZE, &err) == 0);
    CHECK(b.chain == a.chain && b.len == a.len && b.tail_len == a.tail_len);
    CHECK(sl_prefix_hash_catch_up(&b, fd, SIZE + 1, &err) < 0);   /* the file is shorter */
    CHECK(err.sys_errno == 0 && strstr(err.msg, "the file is shorter") != NULL);
    close(fd);
    sl_prefix_hash_restore(&b, a.chain, 1000);   /* not a block boundary: not this code's */
    CHECK(sl_prefix_hash_end(&b) == 0);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-unit-prefix-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    for (size_t i = 0; i < sizeof data; i++) data[i] = (char)('a' + (i * 7 + i / 13) % 26);
    RUN(test_feed_in_any_pieces);
    RUN(test_match);
    RUN(test_restore_and_catch_up);
    rmdir(dir);
    return check_report();
}
