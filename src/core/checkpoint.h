/* checkpoint.h — the checkpoint file: one atomic, checksummed record of where
 * a pipeline is (source positions, stateful transforms, sinks' pre-committed
 * output), as a JSON document the runtime composes.
 *
 * Files in the directory: "checkpoint" (the newest) and "checkpoint.prev"
 * (the one before). Each is a header line
 *     sluice-checkpoint 1 <length> <crc32c as 8 hex digits>\n
 * followed by exactly <length> bytes of document.
 *
 * Writing: rename newest to .prev, then sl_write_file_atomic of the new
 * newest (temp file -> fsync -> rename -> fsync the directory). A crash or a
 * failed write at any point leaves at least one whole generation: the new
 * newest, or .prev (then loading says the newest is missing); a run that
 * resumed from .prev moves the unusable newest aside before its first
 * write, so that .prev stays the generation it resumed from.
 * Loading never refuses to start: the newest if it is whole, its checksum
 * matches and the caller's check accepts its document, else the previous one
 * (and says why), else none (and says why). Something other than a file
 * where a generation belongs (a directory) is reported when loading and
 * moved aside ("checkpoint.damaged-<ms>") by the next write.
 */
#ifndef SL_CHECKPOINT_H
#define SL_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

typedef enum {
    SL_CHECKPOINT_NONE,       /* nothing usable: start from the beginning */
    SL_CHECKPOINT_NEWEST,
    SL_CHECKPOINT_PREVIOUS,   /* the newest was damaged or missing */
} sl_checkpoint_found;

int sl_checkpoint_write(const char *dir, const void *doc, size_t len, sl_error *err);

/* Checks the bytes of one generation (file, len): its header, length and
 * checksum. Returns NULL with the document at file + *doc_at, *doc_len
 * bytes long, or what is wrong ("truncated", "checksum mismatch", ...). */
const char *sl_checkpoint_decode(const char *file, size_t len, size_t *doc_at, size_t *doc_len);

/* After a run found the newest generation unusable and resumed from
 * checkpoint.prev: moves the newest aside ("checkpoint.damaged-<ms>",
 * logged; nothing when it is missing). Else the next write would make it
 * the previous generation in place of the one resumed from, and a crash
 * before that write ends would leave no usable generation. */
int sl_checkpoint_set_aside_newest(const char *dir, sl_error *err);

/* Whether a document (its checksum matched) is one the caller can resume
 * from; when not, writes why into why (cap bytes). */
typedef bool (*sl_checkpoint_check)(const sl_buf *doc, void *arg, char *why, size_t cap);

/* Fills doc with the document of the generation found (check may be NULL).
 * `problem` receives a description of what was wrong with the newer
 * generation(s), naming the files relative to dir, or "". */
sl_checkpoint_found sl_checkpoint_load(const char *dir, sl_buf *doc, sl_checkpoint_check check, void *arg,
                                       char problem[256]);

#endif
