/* prefix_hash.h — a running hash of the bytes read from the start of a
 * followed file, to recognise a copy of it (logrotate's copytruncate).
 *
 * A file truncated in place has lost the bytes written between the last
 * read and the truncation; they are in the copy logrotate made just
 * before. The copy is recognised by its content: its first bytes hash to
 * what was read of the file. The hash is a chain over fixed blocks
 * (chain = hash(chain, XXH3(block))), so it grows with the file at the
 * cost of hashing each byte once, is saved in a checkpoint as two numbers
 * (the chain and the length at the last block boundary; the bytes after it
 * are read again from the file on resume), and is checked against another
 * file by reading that file's prefix once.
 *
 * A few earlier states (marks, one per reading step) are kept too: a copy
 * taken before the last reading step is shorter than what was read, and is
 * recognised against the latest mark not longer than it.
 *
 * A zeroed sl_prefix_hash is the hash of nothing.
 */
#ifndef SL_PREFIX_HASH_H
#define SL_PREFIX_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"

#define SL_PREFIX_BLOCK 1024   /* a saved chain covers whole blocks; a file's fingerprint, the first */
#define SL_PREFIX_MARKS 8

typedef struct sl_prefix_mark {
    uint64_t len, chain;
} sl_prefix_mark;

typedef struct sl_prefix_hash {
    uint64_t chain;                         /* over the first `len` bytes */
    uint64_t len;                           /* a multiple of SL_PREFIX_BLOCK */
    char tail[SL_PREFIX_BLOCK];             /* the bytes after them: fewer than a block */
    size_t tail_len;
    sl_prefix_mark marks[SL_PREFIX_MARKS];  /* earlier (len, chain) states, a ring */
    unsigned n_marks;                       /* marks taken so far (the ring keeps the last ones) */
} sl_prefix_hash;

typedef enum {
    SL_PREFIX_DIFFERENT,   /* not a copy (or the file cannot be read) */
    SL_PREFIX_COVERS,      /* the file starts with every byte hashed (and may have more; any file
                              starts with nothing) */
    SL_PREFIX_INSIDE,      /* the file is shorter, and is the start of what was hashed */
} sl_prefix_match;

/* Back to the hash of nothing. */
void sl_prefix_hash_reset(sl_prefix_hash *h);

/* The state a checkpoint saved (sl_prefix_hash.chain and .len); a len that
 * is not a multiple of SL_PREFIX_BLOCK (not saved by this code) resets. */
void sl_prefix_hash_restore(sl_prefix_hash *h, uint64_t chain, uint64_t len);

/* How many bytes from the start are hashed. */
uint64_t sl_prefix_hash_end(const sl_prefix_hash *h);

/* The file's bytes [at, at + n): those beyond sl_prefix_hash_end are
 * hashed. at must not be beyond it (sl_prefix_hash_catch_up first). */
void sl_prefix_hash_feed(sl_prefix_hash *h, uint64_t at, const void *data, size_t n);

/* Hashes the bytes of fd from sl_prefix_hash_end up to `upto`. Returns 0,
 * or -1 with err when they cannot be read (err->sys_errno) or are not
 * there any more (err->sys_errno 0: the file was truncated). */
int sl_prefix_hash_catch_up(sl_prefix_hash *h, int fd, uint64_t upto, sl_error *err);

/* Remembers the current state as a mark (call after each reading step). */
void sl_prefix_hash_mark(sl_prefix_hash *h);

/* Whether the open file fd, `size` bytes long, is a copy of what was
 * hashed: it reads the file's prefix. */
sl_prefix_match sl_prefix_hash_match(const sl_prefix_hash *h, int fd, uint64_t size);

/* Whether the open file fd, `size` bytes long, no longer holds the last
 * bytes hashed (those after the last block boundary) where they were: it
 * was rewritten. One read of less than a block; false when it cannot
 * tell. */
bool sl_prefix_hash_changed(const sl_prefix_hash *h, int fd, uint64_t size);

/* Whether the open files a and b have the same first n bytes (false too
 * when either is shorter or cannot be read). */
bool sl_prefix_same_bytes(int a, int b, uint64_t n);

#endif
