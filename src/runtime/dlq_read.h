/* dlq_read.h — reading dead-letter files back (the format dlq.h writes):
 * shared by the `dlq` source, which replays entries, and by
 * `sluice dlq summary` and `show`, which count and print them.
 *
 * A DLQ path is a file or a directory; a directory stands for its regular,
 * non-hidden files in name order (dlq.jsonl and any rotated or moved-aside
 * copies next to it), except side files of large records (names ending in
 * ".raw", see dlq.h). Files may be gzip or zstd compressed.
 *
 * Lines are parsed one at a time into a caller-owned arena; a line that is not
 * a DLQ entry is reported as such (never a crash), so callers can count it or
 * send it on.
 */
#ifndef SL_DLQ_READ_H
#define SL_DLQ_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/batch.h"
#include "../core/error.h"

/* Expands path into the DLQ files it stands for (malloc'ed, sorted), stored
 * in *files and *n. A directory without files gives n == 0. Returns 0, or -1
 * with err when path does not exist or cannot be listed. */
int sl_dlq_find_files(const char *path, char ***files, size_t *n, sl_error *err);
void sl_dlq_free_files(char **files, size_t n);

/* A DLQ file read line by line. */
typedef struct sl_dlq_lines sl_dlq_lines;

sl_dlq_lines *sl_dlq_lines_open(const char *path, sl_error *err);
/* The same for a descriptor already open on path (taken over: closed by
 * sl_dlq_lines_close, also when this fails). */
sl_dlq_lines *sl_dlq_lines_from_fd(int fd, const char *path, sl_error *err);
/* The next non-empty line, without its line break, with SL_BUF_PADDING
 * readable bytes after it (valid until the next call), and the byte offset
 * of its first byte in the (decompressed) file. Returns 1 with a line, 0 at
 * the end of the file, -1 with err on a read error or a line longer than
 * 64 MiB (not a DLQ file). */
int sl_dlq_lines_next(sl_dlq_lines *l, const char **line, size_t *len, uint64_t *offset, sl_error *err);
/* Bytes of the file consumed so far (compressed size for compressed files). */
uint64_t sl_dlq_lines_raw_offset(const sl_dlq_lines *l);
/* The (decompressed) offset just after the last line handed out: where the
 * next line starts. */
uint64_t sl_dlq_lines_offset(const sl_dlq_lines *l);
void sl_dlq_lines_close(sl_dlq_lines *l);

/* One parsed entry. Strings are NUL-terminated copies in the arena, NULL
 * when absent or null; raw holds the original bytes (decoded from
 * raw_base64 when needed), NULL when the entry has neither field. A large
 * record lives in a side file: raw_file is set and raw is NULL until
 * sl_dlq_load_raw reads it. */
typedef struct sl_dlq_record {
    const char *time, *component, *source, *origin, *reason, *message;
    sl_position pos;
    const char *raw;
    size_t raw_len;
    bool raw_truncated;
    const char *raw_file;
    uint64_t raw_offset, raw_length;
    uint32_t raw_crc32c;
    const char *replay_origin;   /* a replayed record's "replay": NULL when none */
    sl_position replay_pos;
} sl_dlq_record;

/* Parses one line (with SL_BUF_PADDING readable bytes after it). Returns 0,
 * or -1 with err saying why the line is not a DLQ entry (not JSON, not an
 * object, no "reason", raw_base64 not valid base64, ...). */
int sl_dlq_parse(sl_arena *a, const char *line, size_t len, sl_dlq_record *out, sl_error *err);
/* For an entry whose record is in a side file: reads it into the arena
 * (raw, raw_len), from the side file of that name next to dlq_path (the DLQ
 * file the entry was read from), else from raw_file as written, checking
 * its length and CRC-32C. Does nothing for other entries. Returns 0, or -1
 * with err saying where it looked. */
int sl_dlq_load_raw(sl_arena *a, const char *dlq_path, sl_dlq_record *e, sl_error *err);

/* Appends the class of a DLQ message, which groups entries that failed the
 * same way: numbers that are not part of a word become N, quoted values
 * ('...' or "...") become '…' or "…" unless a ':' follows them (a name, as
 * in `column "amount": ...`), code in backquotes stays as it is, and the
 * result is cut to 160 bytes (at a character boundary) followed by "...".
 * "rule gopher_dup_5gram: 0.42 is above the maximum 0.15" becomes
 * "rule gopher_dup_5gram: N is above the maximum N". */
void sl_dlq_message_class(const char *message, sl_buf *out);

#endif
