/* tail_read.h — reading what a followed file gained since the last look,
 * for the tail source.
 *
 * Unlike the one-pass loop of stream.c, a followed file is read in steps:
 * each step reads the bytes the file has beyond where the last one stopped
 * (with pread: the descriptor has no position to lose), cuts them into
 * frames, submits the complete ones and keeps the unterminated rest — a line
 * still being written, an event whose next line has not come — for the next
 * step. Everything a step read is either submitted, dead-lettered or kept.
 *
 * Positions: `offset` is where a restarted run must read again from: every
 * byte before it was submitted (or dead-lettered). It moves before the
 * submit that may park the source for a checkpoint, and never past a frame
 * that is kept or being skipped.
 *
 * Every byte read from the file's start is hashed once (`hash`,
 * prefix_hash.h), so that a copy of the file can be recognised when the
 * file is truncated; a step that starts beyond the hashed bytes (resuming,
 * read_from: end, after a CSV header) hashes the gap from the file first.
 */
#ifndef SL_TAIL_READ_H
#define SL_TAIL_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../runtime/pipeline.h"
#include "multiline.h"
#include "prefix_hash.h"
#include "stream.h"

typedef struct sl_tail_file {
    const char *path;          /* the name it was last seen by; batches' origin, owned by the source */
    int fd;                    /* -1 once closed */
    uint64_t dev, ino, file_id;
    uint64_t fingerprint;      /* of its first fp_len bytes (file_position.h) */
    uint32_t fp_len;
    uint64_t offset;           /* everything before was submitted or dead-lettered */
    uint64_t read_offset;      /* the next byte to read */
    sl_buf pending;            /* the bytes just before read_offset that are no frame yet */
    const void *header;        /* CSV header context, once read */
    bool magic_checked;        /* the first bytes are known not to be gzip or zstd */
    /* a frame longer than max_record_bytes, skipped to its end */
    bool skipping, skip_in_quote;
    uint64_t skip_start, skip_len;
    char *head;                /* its first SL_STREAM_DLQ_HEAD bytes, for the DLQ */
    size_t head_len;
    sl_prefix_hash hash;       /* of the bytes read from its start */
} sl_tail_file;

/* What a step needs from the source. */
typedef struct sl_tail_reader {
    const char *name;          /* the source's name, for log lines */
    sl_stream *stream;         /* format and decoder contexts */
    sl_multiline *multiline;   /* NULL: one frame per line (or CSV row) */
    sl_source_ctx *ctx;
} sl_tail_reader;

typedef enum {
    SL_TAIL_READ_OK,
    SL_TAIL_READ_STOPPED,      /* the pipeline is stopping */
    SL_TAIL_READ_GIVE_UP,      /* the file cannot be read (logged; dead-lettered when input is lost) */
} sl_tail_read_result;

/* Reads f from read_offset up to `end` (its size when the step began) and
 * hands over the frames. mode says whether the input may continue (MORE),
 * paused past the multiline timeout (FLUSH) or will never grow again (END:
 * the unterminated rest becomes a frame). */
sl_tail_read_result sl_tail_read(sl_tail_reader *r, sl_tail_file *f, uint64_t end, sl_multiline_mode mode);

/* Whether a step could hand over something without new input: kept bytes,
 * or a frame being skipped. */
bool sl_tail_file_has_rest(const sl_tail_file *f);

/* Starts f again from its first byte (it was truncated or rewritten); what
 * was kept must have been handed over with SL_MULTILINE_END first. The
 * hash starts again too. */
void sl_tail_file_rewind(sl_tail_file *f);

/* Closes the descriptor and frees what f holds (not f itself). */
void sl_tail_file_free(sl_tail_file *f);

#endif
