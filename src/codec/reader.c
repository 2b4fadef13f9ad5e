/* reader.c — reads a file or descriptor, transparently decompressing gzip
 * and zstd.
 *
 * The compression is told by the first bytes of the input (gzip 1f 8b, zstd
 * 28 b5 2f fd), never by the file name. Those bytes are read into the input
 * buffer and stay there, so pipes and other descriptors that cannot seek work
 * as well as files. A reader over a function (sl_reader_from_fn) takes plain
 * bytes a thread hands over in memory: no descriptor, no detection.
 *
 * gzip input may hold several members one after another (`cat a.gz b.gz`, and
 * what our own file sink writes on rotation); each member is inflated in turn.
 * zstd input may hold several frames, which ZSTD_decompressStream handles by
 * itself. Input that ends inside a member or frame is an error, not a quiet
 * end of file: a truncated file must not pass for a complete one. Errors are
 * sticky: once a read fails, every later read fails with the same message.
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define INPUT_BUFFER (128 * 1024)

struct sl_reader {
    int fd;
    int own_fd;
    sl_reader_fn fn;           /* instead of fd: plain input (sl_reader_from_fn) */
    void *fn_arg;
    char *name;
    sl_compression compression;

    unsigned char *in;         /* bytes read from fd, not yet consumed */
    size_t in_pos, in_len;
    bool in_eof;               /* fd reported end of file */

    uint64_t offset;           /* decompressed bytes returned */
    uint64_t raw_offset;       /* bytes read from fd */

    z_stream z;                /* gzip */
    bool z_ready;
    bool member_done;          /* between two gzip members */
    ZSTD_DStream *zd;          /* zstd */
    bool frame_open;           /* inside a zstd frame */

    bool done;
    bool failed;
    sl_error error;            /* the sticky error, once failed */
};

static int fail(sl_reader *r, sl_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(sl_reader *r, sl_error *err, const char *fmt, ...)
{
    char detail[SL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    sl_errorf(&r->error, "%s: %s", r->name, detail);
    r->failed = true;
    if (err)
        *err = r->error;
    return -1;
}

/* Reads more input after the unconsumed bytes. Returns 0 (in_eof set at end
 * of file) or -1 on an I/O error. */
static int fill_input(sl_reader *r, sl_error *err)
{
    if (r->in_pos == r->in_len)
        r->in_pos = r->in_len = 0;
    if (r->in_len == INPUT_BUFFER)
        return 0;
    for (;;) {
        ssize_t n = read(r->fd, r->in + r->in_len, INPUT_BUFFER - r->in_len);
        if (n > 0) {
            r->in_len += (size_t)n;
            r->raw_offset += (uint64_t)n;
            return 0;
        }
        if (n == 0) {
            r->in_eof = true;
            return 0;
        }
        if (errno != EINTR)
            return fail(r, err, "read failed: %s", strerror(errno));
    }
}

/* Position in the compressed input of the next unconsumed byte. */
static uint64_t input_position(const sl_reader *r)
{
    return r->raw_offset - (r->in_len - r->in_pos);
}

static int detect(sl_reader *r, sl_error *err)
{
    while (r->in_len < 4 && !r->in_eof)
        if (fill_input(r, err) < 0)
            return -1;
    const unsigned char *p = r->in;
    if (r->in_len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        r->compression = SL_COMPRESSION_GZIP;
        memset(&r->z, 0, sizeof r->z);
        if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
            return fail(r, err, "cannot start gzip decompression: out of memory");
        r->z_ready = true;
    } else if (r->in_len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
        r->compression = SL_COMPRESSION_ZSTD;
        r->zd = ZSTD_createDStream();
        if (!r->zd || ZSTD_isError(ZSTD_initDStream(r->zd)))
            return fail(r, err, "cannot start zstd decompression: out of memory");
    }
    return 0;
}

sl_reader *sl_reader_from_fd(int fd, int own_fd, const char *name, sl_error *err)
{
    sl_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name)) || !(r->in = malloc(INPUT_BUFFER))) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    r->fd = fd;
    r->own_fd = own_fd;
    if (detect(r, err) < 0) {
        sl_reader_close(r);
        return NULL;
    }
    return r;
}

sl_reader *sl_reader_from_fn(sl_reader_fn fn, void *arg, const char *name)
{
    sl_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name))) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    r->fd = -1;
    r->fn = fn;
    r->fn_arg = arg;
    return r;
}

sl_reader *sl_reader_open(const char *path, sl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl_errorf(err, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    return sl_reader_from_fd(fd, 1, path, err);
}

static ssize_t read_plain(sl_reader *r, void *buf, size_t n, sl_error *err)
{
    if (r->fn) {
        ssize_t k = r->fn(r->fn_arg, buf, n, &r->error);
        if (k < 0) {
            r->failed = true;
            if (err)
                *err = r->error;
            return -1;
        }
        r->raw_offset += (uint64_t)k;
        r->done = k == 0;
        return k;
    }
    if (r->in_pos < r->in_len) {
        size_t k = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
        memcpy(buf, r->in + r->in_pos, k);
        r->in_pos += k;
        return (ssize_t)k;
    }
    if (r->in_eof)
        return 0;
    for (;;) {
        ssize_t k = read(r->fd, buf, n);
        if (k >= 0) {
            r->raw_offset += (uint64_t)k;
            r->in_eof = k == 0;
            return k;
        }
        if (errno != EINTR)
            return fail(r, err, "read failed: %s", strerror(errno));
    }
}

static ssize_t read_gzip(sl_reader *r, void *buf, size_t n, sl_error *err)
{
    r->z.next_out = buf;
    r->z.avail_out = (uInt)(n > UINT_MAX ? UINT_MAX : n);
    uInt want = r->z.avail_out;
    for (;;) {
        if (r->member_done) {
            /* A member ended: the input ends here or another member follows. */
            if (r->in_pos == r->in_len && !r->in_eof && fill_input(r, err) < 0)
                return -1;
            if (r->in_pos == r->in_len) {
                r->done = true;
                break;
            }
            inflateReset(&r->z);
            r->member_done = false;
        }
        if (r->in_pos == r->in_len && !r->in_eof && fill_input(r, err) < 0)
            return -1;
        r->z.next_in = r->in + r->in_pos;
        r->z.avail_in = (uInt)(r->in_len - r->in_pos);
        int rc = inflate(&r->z, Z_NO_FLUSH);
        r->in_pos = r->in_len - r->z.avail_in;
        if (rc == Z_STREAM_END)
            r->member_done = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return fail(r, err, "corrupt gzip data at byte %llu: %s",
                        (unsigned long long)input_position(r), r->z.msg ? r->z.msg : zError(rc));
        if (r->z.avail_out < want)
            break;
        if (!r->member_done && r->in_pos == r->in_len && r->in_eof)
            return fail(r, err, "truncated gzip data: the file ends at byte %llu inside a "
                        "compressed member (incomplete download or copy?)",
                        (unsigned long long)r->raw_offset);
    }
    return (ssize_t)(want - r->z.avail_out);
}

static ssize_t read_zstd(sl_reader *r, void *buf, size_t n, sl_error *err)
{
    ZSTD_outBuffer out = { buf, n, 0 };
    for (;;) {
        if (r->in_pos == r->in_len && !r->in_eof && fill_input(r, err) < 0)
            return -1;
        ZSTD_inBuffer in = { r->in + r->in_pos, r->in_len - r->in_pos, 0 };
        size_t rc = ZSTD_decompressStream(r->zd, &out, &in);
        r->in_pos += in.pos;
        if (ZSTD_isError(rc))
            return fail(r, err, "corrupt zstd data at byte %llu: %s",
                        (unsigned long long)input_position(r), ZSTD_getErrorName(rc));
        if (in.pos > 0 || out.pos > 0)
            r->frame_open = rc != 0;
        if (out.pos > 0)
            break;
        if (r->in_pos == r->in_len && r->in_eof) {
            if (r->frame_open)
                return fail(r, err, "truncated zstd data: the file ends at byte %llu inside a "
                            "compressed frame (incomplete download or copy?)",
                            (unsigned long long)r->raw_offset);
            r->done = true;
            break;
        }
    }
    return (ssize_t)out.pos;
}

ssize_t sl_reader_read(sl_reader *r, void *buf, size_t n, sl_error *err)
{
    if (r->failed) {
        if (err)
            *err = r->error;
        return -1;
    }
    if (r->done || n == 0)
        return 0;
    ssize_t k;
    switch (r->compression) {
    case SL_COMPRESSION_GZIP:
        k = read_gzip(r, buf, n, err);
        break;
    case SL_COMPRESSION_ZSTD:
        k = read_zstd(r, buf, n, err);
        break;
    default:
        k = read_plain(r, buf, n, err);
        break;
    }
    if (k > 0)
        r->offset += (uint64_t)k;
    return k;
}

sl_compression sl_reader_compression(const sl_reader *r)
{
    return r->compression;
}

uint64_t sl_reader_offset(const sl_reader *r)
{
    return r->offset;
}

uint64_t sl_reader_raw_offset(const sl_reader *r)
{
    return r->raw_offset;
}

void sl_reader_close(sl_reader *r)
{
    if (!r)
        return;
    if (r->z_ready)
        inflateEnd(&r->z);
    ZSTD_freeDStream(r->zd);
    if (r->own_fd)
        close(r->fd);
    free(r->in);
    free(r->name);
    free(r);
}
