/* prefix_hash.c — the running hash of a followed file's prefix (see
 * prefix_hash.h). */
#include "prefix_hash.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"

#define READ_BLOCKS 16   /* a file's prefix is read this many blocks at a time */

void sl_prefix_hash_reset(sl_prefix_hash *h)
{
    h->chain = h->len = 0;
    h->tail_len = 0;
    h->n_marks = 0;
}

void sl_prefix_hash_restore(sl_prefix_hash *h, uint64_t chain, uint64_t len)
{
    sl_prefix_hash_reset(h);
    if (len % SL_PREFIX_BLOCK != 0) return;
    h->chain = chain;
    h->len = len;
}

uint64_t sl_prefix_hash_end(const sl_prefix_hash *h)
{
    return h->len + h->tail_len;
}

/* The block is hashed without a seed (XXH3 derives a secret from a seed on
 * every call for inputs this long, which costs more than the hashing), and
 * the chain and the block's hash are hashed together. */
static uint64_t chain_block(uint64_t chain, const void *block)
{
    uint64_t pair[2] = {chain, sl_hash64(block, SL_PREFIX_BLOCK, 0)};
    return sl_hash64(pair, sizeof pair, 0);
}

void sl_prefix_hash_feed(sl_prefix_hash *h, uint64_t at, const void *data, size_t n)
{
    uint64_t end = sl_prefix_hash_end(h);
    if (at > end || at + n <= end) return;
    const char *p = (const char *)data + (end - at);
    n -= (size_t)(end - at);
    while (n > 0) {
        if (h->tail_len == 0 && n >= SL_PREFIX_BLOCK) {
            h->chain = chain_block(h->chain, p);
            h->len += SL_PREFIX_BLOCK;
            p += SL_PREFIX_BLOCK;
            n -= SL_PREFIX_BLOCK;
            continue;
        }
        size_t take = SL_PREFIX_BLOCK - h->tail_len < n ? SL_PREFIX_BLOCK - h->tail_len : n;
        memcpy(h->tail + h->tail_len, p, take);
        h->tail_len += take;
        p += take;
        n -= take;
        if (h->tail_len == SL_PREFIX_BLOCK) {
            h->chain = chain_block(h->chain, h->tail);
            h->len += SL_PREFIX_BLOCK;
            h->tail_len = 0;
        }
    }
}

/* Reads exactly n bytes at off; false when the file is shorter (errno 0)
 * or unreadable. */
static bool read_exactly(int fd, char *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return false;
        if (k == 0) {
            errno = 0;
            return false;
        }
        got += (size_t)k;
    }
    return true;
}

int sl_prefix_hash_catch_up(sl_prefix_hash *h, int fd, uint64_t upto, sl_error *err)
{
    char buf[SL_PREFIX_BLOCK];
    for (uint64_t end; (end = sl_prefix_hash_end(h)) < upto;) {
        size_t want = SL_PREFIX_BLOCK - h->tail_len;
        if (want > upto - end) want = (size_t)(upto - end);
        if (!read_exactly(fd, buf, want, end)) {
            int e = errno;
            sl_errorf(err, "cannot read bytes %llu to %llu: %s", (unsigned long long)end, (unsigned long long)upto,
                      e ? strerror(e) : "the file is shorter");
            err->sys_errno = e;
            return -1;
        }
        sl_prefix_hash_feed(h, end, buf, want);
    }
    return 0;
}

void sl_prefix_hash_mark(sl_prefix_hash *h)
{
    if (h->len == 0) return;
    if (h->n_marks > 0 && h->marks[(h->n_marks - 1) % SL_PREFIX_MARKS].len == h->len) return;
    h->marks[h->n_marks++ % SL_PREFIX_MARKS] = (sl_prefix_mark){h->len, h->chain};
}

/* The chain of fd's first len bytes (a multiple of the block), or false. */
static bool chain_of(int fd, uint64_t len, uint64_t *chain)
{
    static _Thread_local char buf[READ_BLOCKS * SL_PREFIX_BLOCK];
    uint64_t c = 0;
    for (uint64_t off = 0; off < len;) {
        size_t want = len - off < sizeof buf ? (size_t)(len - off) : sizeof buf;
        if (!read_exactly(fd, buf, want, off)) return false;
        for (size_t i = 0; i < want; i += SL_PREFIX_BLOCK) c = chain_block(c, buf + i);
        off += want;
    }
    *chain = c;
    return true;
}

bool sl_prefix_hash_changed(const sl_prefix_hash *h, int fd, uint64_t size)
{
    char tail[SL_PREFIX_BLOCK];
    if (h->tail_len == 0 || sl_prefix_hash_end(h) > size || !read_exactly(fd, tail, h->tail_len, h->len))
        return false;
    return memcmp(tail, h->tail, h->tail_len) != 0;
}

bool sl_prefix_same_bytes(int a, int b, uint64_t n)
{
    static _Thread_local char x[READ_BLOCKS * SL_PREFIX_BLOCK], y[READ_BLOCKS * SL_PREFIX_BLOCK];
    for (uint64_t off = 0; off < n;) {
        size_t want = n - off < sizeof x ? (size_t)(n - off) : sizeof x;
        if (!read_exactly(a, x, want, off) || !read_exactly(b, y, want, off) || memcmp(x, y, want) != 0)
            return false;
        off += want;
    }
    return true;
}

sl_prefix_match sl_prefix_hash_match(const sl_prefix_hash *h, int fd, uint64_t size)
{
    uint64_t chain;
    if (size >= sl_prefix_hash_end(h)) {
        char tail[SL_PREFIX_BLOCK];
        if (!chain_of(fd, h->len, &chain) || chain != h->chain) return SL_PREFIX_DIFFERENT;
        if (!read_exactly(fd, tail, h->tail_len, h->len) || memcmp(tail, h->tail, h->tail_len) != 0)
            return SL_PREFIX_DIFFERENT;
        return SL_PREFIX_COVERS;
    }
    /* Shorter: compare with the longest state not longer than the file. */
    sl_prefix_mark best = {0, 0};
    if (h->len <= size) best = (sl_prefix_mark){h->len, h->chain};
    unsigned kept = h->n_marks < SL_PREFIX_MARKS ? h->n_marks : SL_PREFIX_MARKS;
    for (unsigned i = 0; i < kept; i++)
        if (h->marks[i].len <= size && h->marks[i].len > best.len) best = h->marks[i];
    if (best.len == 0 || !chain_of(fd, best.len, &chain) || chain != best.chain) return SL_PREFIX_DIFFERENT;
    return SL_PREFIX_INSIDE;
}
