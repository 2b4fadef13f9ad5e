/* file_position.h — how far a source has read each of its files, in a form
 * that survives restarts, renames, rotation and truncation.
 *
 * A file is known by its device and inode, and checked by a fingerprint of
 * its first bytes (up to SL_FINGERPRINT_BYTES): a renamed or rotated file
 * keeps its identity and its offset; a file truncated in place
 * (copytruncate) or a new file that reuses an inode does not match and is
 * read from the start. Offsets count decompressed bytes for compressed
 * input.
 *
 * The table is what the file and tail sources save in a checkpoint:
 *   {"files":[{"path":"a.log","dev":2049,"ino":1234,"fp":"9f..","fp_len":1024,"offset":5678}]}
 * (path is informational: the identity is dev+ino+fingerprint). The tail
 * source adds the hash of the bytes read from the file's start
 * ("ph":"..","ph_len":4096, prefix_hash.h), with which a copy of the file
 * is recognised after it was truncated (copytruncate); older state without
 * it loads with ph_len 0.
 */
#ifndef SL_FILE_POSITION_H
#define SL_FILE_POSITION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../core/buf.h"
#include "../core/error.h"

#define SL_FINGERPRINT_BYTES 1024

typedef struct sl_file_position {
    char *path;
    uint64_t dev, ino;
    uint64_t fingerprint;     /* hash of the first fp_len bytes */
    uint32_t fp_len;
    uint64_t offset;          /* bytes consumed: everything before is submitted */
    uint64_t prefix_chain;    /* the tail source's prefix hash (prefix_hash.h); 0 and 0 if none */
    uint64_t prefix_len;
} sl_file_position;

typedef struct sl_file_positions {
    sl_file_position *items;
    size_t count, cap;
} sl_file_positions;

void sl_file_positions_free(sl_file_positions *t);
void sl_file_positions_clear(sl_file_positions *t);

/* The fingerprint of head[0..len), a file's first bytes. */
uint64_t sl_fingerprint_bytes(const void *head, size_t len);

/* Hashes the first bytes of the open file fd (at most SL_FINGERPRINT_BYTES,
 * fewer when the file is shorter). Returns 0, or -1 with err. */
int sl_file_fingerprint(int fd, uint64_t *fingerprint, uint32_t *fp_len, sl_error *err);

/* Whether the open file fd starts with the fp_len bytes `fingerprint` is
 * the fingerprint of (false too when it cannot be read). */
bool sl_file_starts_with(int fd, uint64_t fingerprint, uint32_t fp_len);

/* The entry for dev+ino, or NULL. */
sl_file_position *sl_file_positions_find(sl_file_positions *t, uint64_t dev, uint64_t ino);

/* Adds (or replaces) the entry for a file opened now, with its
 * fingerprint, at `offset` and without a prefix hash; returns it (valid
 * until the next add). */
sl_file_position *sl_file_positions_put(sl_file_positions *t, const char *path, const struct stat *st,
                                         uint64_t fingerprint, uint32_t fp_len, uint64_t offset);

/* Where to resume reading the open file fd (st from fstat) according to
 * `saved`: the saved offset when the file is the same one (same dev+ino,
 * same first bytes) and, unless compressed, not shorter than that offset,
 * else 0. *why says
 * why it starts from 0 when the file was known ("truncated", "replaced"),
 * else NULL. */
uint64_t sl_file_positions_resume(sl_file_positions *saved, int fd, const struct stat *st,
                                  const char **why);

/* The table as JSON, and back. Load reports malformed state with err. */
void sl_file_positions_save(const sl_file_positions *t, sl_buf *json);
int sl_file_positions_load(sl_file_positions *t, const char *json, size_t len, sl_error *err);

#endif
