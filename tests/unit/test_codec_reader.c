/* test_codec_reader.c — the reader (codec/reader.h): plain, gzip (one and two
 * members) and zstd (one and two frames) files read back in small and large
 * chunks, input from a pipe, truncated or corrupt input as errors, and a
 * reader over a function (bytes handed over in memory: no magic detection).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "codec/reader.h"
#include "core/buf.h"

static char dir[64];
static sl_buf payload;    /* ~300 KB of JSON lines, more than one input buffer */

static void make_payload(void)
{
    sl_buf_init(&payload);
    for (int i = 0; i < 4000; i++)
        sl_buf_printf(&payload, "{\"seq\":%d,\"msg\":\"event number %d with some padding text\","
                      "\"v\":%d.%02d}\n", i, i * 7919 % 10007, i % 97, i % 100);
}

static char *path_of(const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void write_file(const char *name, const void *p, size_t len)
{
    FILE *f = fopen(path_of(name), "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(fwrite(p, 1, len, f), len);
    fclose(f);
}

/* Appends one gzip member holding p[0..len). */
static void gzip_member(sl_buf *out, const char *p, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK_INT(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t bound = deflateBound(&z, len);
    sl_buf_reserve(out, bound);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    CHECK_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

/* Appends one zstd frame holding p[0..len). */
static void zstd_frame(sl_buf *out, const char *p, size_t len)
{
    size_t bound = ZSTD_compressBound(len);
    sl_buf_reserve(out, bound);
    size_t n = ZSTD_compress(out->data + out->len, bound, p, len, 3);
    CHECK(!ZSTD_isError(n));
    out->len += n;
}

/* Reads everything from r in chunks of `chunk` bytes into out; returns the
 * last return value of sl_reader_read (0 at a clean end, -1 on error). */
static ssize_t read_all(sl_reader *r, size_t chunk, sl_buf *out, sl_error *err)
{
    char *buf = malloc(chunk);
    ssize_t n;
    bool overflow = false;
    while ((n = sl_reader_read(r, buf, chunk, err)) > 0) {
        overflow |= (size_t)n > chunk;
        sl_buf_append(out, buf, (size_t)n);
    }
    CHECK(!overflow);
    free(buf);
    return n;
}

/* Opens name and checks it reads back as the payload with every chunk size. */
static void check_reads_back(const char *name, sl_compression want, size_t file_size)
{
    static const size_t chunks[] = { 1, 7, 4096, 1 << 20 };
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        sl_error err = {0};
        sl_reader *r = sl_reader_open(path_of(name), &err);
        CHECK(r != NULL);
        if (!r) {
            fprintf(stderr, "  %s\n", err.msg);
            return;
        }
        CHECK_INT(sl_reader_compression(r), want);
        sl_buf got;
        sl_buf_init(&got);
        CHECK_INT(read_all(r, chunks[i], &got, &err), 0);
        CHECK_INT(got.len, payload.len);
        CHECK(got.len == payload.len && memcmp(got.data, payload.data, got.len) == 0);
        CHECK_INT(sl_reader_offset(r), payload.len);
        CHECK_INT(sl_reader_raw_offset(r), file_size);
        CHECK_INT(sl_reader_read(r, got.data, 16, &err), 0);   /* stays at end */
        sl_buf_free(&got);
        sl_reader_close(r);
    }
}

static void test_plain(void)
{
    write_file("plain.jsonl", payload.data, payload.len);
    check_reads_back("plain.jsonl", SL_COMPRESSION_NONE, payload.len);
}

static void test_gzip(void)
{
    sl_buf gz;
    sl_buf_init(&gz);
    gzip_member(&gz, payload.data, payload.len);
    write_file("one.jsonl.gz", gz.data, gz.len);
    check_reads_back("one.jsonl.gz", SL_COMPRESSION_GZIP, gz.len);

    /* Two members, split in the middle of a line, and an empty third one. */
    gz.len = 0;
    size_t half = payload.len / 2 + 3;
    gzip_member(&gz, payload.data, half);
    gzip_member(&gz, payload.data + half, payload.len - half);
    gzip_member(&gz, "", 0);
    write_file("two.gz", gz.data, gz.len);
    check_reads_back("two.gz", SL_COMPRESSION_GZIP, gz.len);
    sl_buf_free(&gz);
}

static void test_zstd(void)
{
    sl_buf zs;
    sl_buf_init(&zs);
    zstd_frame(&zs, payload.data, payload.len);
    write_file("one.zst", zs.data, zs.len);
    check_reads_back("one.zst", SL_COMPRESSION_ZSTD, zs.len);

    zs.len = 0;
    size_t half = payload.len / 3;
    zstd_frame(&zs, payload.data, half);
    zstd_frame(&zs, payload.data + half, payload.len - half);
    write_file("two.zst", zs.data, zs.len);
    check_reads_back("two.zst", SL_COMPRESSION_ZSTD, zs.len);
    sl_buf_free(&zs);
}

static void test_small_and_empty(void)
{
    write_file("empty", "", 0);
    sl_error err;
    sl_reader *r = sl_reader_open(path_of("empty"), &err);
    CHECK(r != NULL);
    char buf[8];
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &err), 0);
    CHECK_INT(sl_reader_compression(r), SL_COMPRESSION_NONE);
    sl_reader_close(r);

    write_file("tiny", "ab", 2);
    r = sl_reader_open(path_of("tiny"), &err);
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &err), 2);
    CHECK_MEM(buf, 2, "ab");
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &err), 0);
    sl_reader_close(r);

    CHECK(sl_reader_open(path_of("missing.jsonl"), &err) == NULL);
    char want[256];
    snprintf(want, sizeof want, "cannot open %s: No such file or directory", path_of("missing.jsonl"));
    CHECK_STR(err.msg, want);
}

/* Feeds data through a pipe from a child process and reads it back. */
static void check_pipe(const sl_buf *data, sl_compression want)
{
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        size_t off = 0;
        while (off < data->len) {
            /* Small writes, so that the reader sees short reads. */
            size_t n = data->len - off < 1000 ? data->len - off : 1000;
            ssize_t k = write(fds[1], data->data + off, n);
            if (k <= 0)
                _exit(1);
            off += (size_t)k;
        }
        _exit(0);
    }
    close(fds[1]);
    sl_error err;
    sl_reader *r = sl_reader_from_fd(fds[0], 1, "<stdin>", &err);
    CHECK(r != NULL);
    CHECK_INT(sl_reader_compression(r), want);
    sl_buf got;
    sl_buf_init(&got);
    CHECK_INT(read_all(r, 65536, &got, &err), 0);
    CHECK(got.len == payload.len && memcmp(got.data, payload.data, got.len) == 0);
    sl_buf_free(&got);
    sl_reader_close(r);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_pipe(void)
{
    check_pipe(&payload, SL_COMPRESSION_NONE);
    sl_buf c;
    sl_buf_init(&c);
    gzip_member(&c, payload.data, 1000);
    gzip_member(&c, payload.data + 1000, payload.len - 1000);
    check_pipe(&c, SL_COMPRESSION_GZIP);
    c.len = 0;
    zstd_frame(&c, payload.data, payload.len);
    check_pipe(&c, SL_COMPRESSION_ZSTD);
    sl_buf_free(&c);

    /* A descriptor the reader does not own stays open. */
    int fd = open(path_of("plain.jsonl"), O_RDONLY);
    sl_error err;
    sl_reader *r = sl_reader_from_fd(fd, 0, "plain", &err);
    sl_reader_close(r);
    CHECK(fcntl(fd, F_GETFD) != -1);
    close(fd);
}

/* Reads name to the end, expecting an error that starts with want_prefix. */
static void check_read_error(const char *name, const char *want_prefix)
{
    sl_error err = {0};
    sl_reader *r = sl_reader_open(path_of(name), &err);
    CHECK(r != NULL);
    if (!r)
        return;
    sl_buf got;
    sl_buf_init(&got);
    CHECK_INT(read_all(r, 4096, &got, &err), -1);
    if (strncmp(err.msg, want_prefix, strlen(want_prefix)) != 0)
        fprintf(stderr, "  got: %s\n  want prefix: %s\n", err.msg, want_prefix);
    CHECK(strncmp(err.msg, want_prefix, strlen(want_prefix)) == 0);
    /* The error is sticky. */
    sl_error again = {0};
    char buf[16];
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &again), -1);
    CHECK_STR(again.msg, err.msg);
    sl_buf_free(&got);
    sl_reader_close(r);
}

static void test_truncated_and_corrupt(void)
{
    char want[256];
    sl_buf c;
    sl_buf_init(&c);
    gzip_member(&c, payload.data, payload.len);
    size_t full = c.len;

    write_file("cut-trailer.gz", c.data, full - 4);
    snprintf(want, sizeof want, "%s: truncated gzip data: the file ends at byte %zu inside a "
             "compressed member (incomplete download or copy?)", path_of("cut-trailer.gz"), full - 4);
    check_read_error("cut-trailer.gz", want);

    write_file("cut-middle.gz", c.data, full / 2);
    snprintf(want, sizeof want, "%s: truncated gzip data: the file ends at byte %zu inside",
             path_of("cut-middle.gz"), full / 2);
    check_read_error("cut-middle.gz", want);

    write_file("header-only.gz", c.data, 2);
    snprintf(want, sizeof want, "%s: truncated gzip data", path_of("header-only.gz"));
    check_read_error("header-only.gz", want);

    c.data[full - 6] ^= 0x55;    /* the CRC no longer matches */
    write_file("bad-crc.gz", c.data, full);
    snprintf(want, sizeof want, "%s: corrupt gzip data at byte %zu: incorrect data check",
             path_of("bad-crc.gz"), full - 4);
    check_read_error("bad-crc.gz", want);

    c.len = 0;
    gzip_member(&c, payload.data, payload.len);
    sl_buf_append(&c, "garbage!", 8);
    write_file("garbage.gz", c.data, c.len);
    snprintf(want, sizeof want, "%s: corrupt gzip data at byte", path_of("garbage.gz"));
    check_read_error("garbage.gz", want);

    c.len = 0;
    zstd_frame(&c, payload.data, payload.len / 2);
    zstd_frame(&c, payload.data, payload.len / 2);
    full = c.len;
    write_file("cut.zst", c.data, full - 3);
    snprintf(want, sizeof want, "%s: truncated zstd data: the file ends at byte %zu inside a "
             "compressed frame (incomplete download or copy?)", path_of("cut.zst"), full - 3);
    check_read_error("cut.zst", want);

    memset(c.data + 20, 0xff, 64);
    write_file("bad.zst", c.data, full);
    snprintf(want, sizeof want, "%s: corrupt zstd data at byte", path_of("bad.zst"));
    check_read_error("bad.zst", want);
    sl_buf_free(&c);
}

static void cleanup(void)
{
    static const char *const names[] = {
        "plain.jsonl", "one.jsonl.gz", "two.gz", "one.zst", "two.zst", "empty", "tiny",
        "cut-trailer.gz", "cut-middle.gz", "header-only.gz", "bad-crc.gz", "garbage.gz",
        "cut.zst", "bad.zst",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(path_of(names[i]));
    rmdir(dir);
}

/* A function source: hands out src in pieces of at most `step`, then fails
 * when fail_at_end, else ends. */
typedef struct fn_src {
    const char *p;
    size_t len, at, step;
    bool fail_at_end;
    int calls_after_end;
} fn_src;

static ssize_t fn_read(void *arg, void *buf, size_t n, sl_error *err)
{
    fn_src *s = arg;
    if (s->at == s->len) {
        s->calls_after_end++;
        if (s->fail_at_end) return sl_errorf(err, "the feed broke");
        return 0;
    }
    size_t k = s->len - s->at < n ? s->len - s->at : n;
    if (k > s->step) k = s->step;
    memcpy(buf, s->p + s->at, k);
    s->at += k;
    return (ssize_t)k;
}

static void test_function(void)
{
    /* gzip bytes handed over in memory are read as they are: the function
     * gives input already decompressed. */
    sl_buf gz;
    sl_buf_init(&gz);
    gzip_member(&gz, payload.data, payload.len);
    fn_src src = {gz.data, gz.len, 0, 777, false, 0};
    sl_reader *r = sl_reader_from_fn(fn_read, &src, "feed");
    CHECK_INT(sl_reader_compression(r), SL_COMPRESSION_NONE);
    sl_buf got;
    sl_buf_init(&got);
    sl_error err = {0};
    CHECK_INT(read_all(r, 4096, &got, &err), 0);
    CHECK(got.len == gz.len && memcmp(got.data, gz.data, gz.len) == 0);
    CHECK_INT(sl_reader_offset(r), gz.len);
    CHECK_INT(sl_reader_raw_offset(r), gz.len);
    CHECK_INT(sl_reader_read(r, got.data, 16, &err), 0);   /* stays at end without asking again */
    CHECK_INT(src.calls_after_end, 1);
    sl_reader_close(r);

    /* A failure of the function is the reader's error, and sticky. */
    fn_src bad = {"abc", 3, 0, 2, true, 0};
    r = sl_reader_from_fn(fn_read, &bad, "feed");
    char buf[8];
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &err), 2);
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &err), 1);
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &err), -1);
    CHECK(strstr(err.msg, "the feed broke") != NULL);
    sl_error again = {0};
    CHECK_INT(sl_reader_read(r, buf, sizeof buf, &again), -1);
    CHECK(strstr(again.msg, "the feed broke") != NULL);
    CHECK_INT(bad.calls_after_end, 1);
    sl_reader_close(r);
    sl_buf_free(&got);
    sl_buf_free(&gz);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl-reader-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    make_payload();
    RUN(test_plain);
    RUN(test_gzip);
    RUN(test_zstd);
    RUN(test_small_and_empty);
    RUN(test_pipe);
    RUN(test_truncated_and_corrupt);
    RUN(test_function);
    cleanup();
    sl_buf_free(&payload);
    return check_report();
}
