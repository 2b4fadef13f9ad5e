/* stream.h — the reading loop shared by the file and stdin sources (the
 * tail source shares its options, decoder contexts and helpers).
 *
 * Both sources read byte streams (files, standard input; gzip and zstd are
 * decompressed by the reader) in one of the input formats of codec/format.h,
 * and both accept the same format options. This module owns those options
 * (SL_STREAM_FORMAT_OPTIONS is spliced into each source's schema), the
 * resulting sl_format, and the per-stream decoder contexts (CSV headers) that
 * batches point at, which must live as long as the source.
 *
 * sl_stream_read cuts one input into frames in place, inside the data buffer
 * of the batch being filled, and submits batches as they fill; see stream.c
 * for how frames longer than max_record_bytes and read errors are handled.
 */
#ifndef SL_STREAM_H
#define SL_STREAM_H

#include <stdint.h>

#include "../codec/format.h"
#include "../codec/reader.h"
#include "../config/options.h"
#include "../runtime/pipeline.h"

extern const char *const sl_stream_format_names[];   /* jsonl, csv, text */

/* The format option rows, spliced into the schema of every stream source. */
#define SL_STREAM_FORMAT_OPTIONS                                                             \
    {"format", SL_OPT_ENUM, false, "jsonl",                                                  \
     "Input format: `jsonl` (one JSON object per line; blank lines are skipped), `csv` "     \
     "(RFC 4180 rows, quoted fields may span lines) or `text` (each line becomes "           \
     "`{\"message\": \"<line>\"}`). Gzip and zstd input is decompressed automatically, "     \
     "recognised by its magic bytes (`tail` does not follow compressed files).",             \
     sl_stream_format_names},                                                                \
    {"max_record_bytes", SL_OPT_SIZE, false, "1MiB",                                         \
     "Longest accepted record (line or CSV row, line break included). A longer one goes "    \
     "to the DLQ as `record_too_large` with its first 4 KiB, and reading continues after "   \
     "it. Batches grow to hold one record of this size.",                                    \
     NULL},                                                                                  \
    {"max_depth", SL_OPT_INT, false, "64",                                                   \
     "JSON nesting limit (1 to 1024); deeper documents go to the DLQ as `json_depth`.",      \
     NULL},                                                                                  \
    {"csv.delimiter", SL_OPT_STRING, false, ",",                                             \
     "CSV field separator: one character, e.g. `\";\"` or `\"\\t\"`.", NULL},                \
    {"csv.quote", SL_OPT_STRING, false, "\"", "CSV quote character.", NULL},                 \
    {"csv.header", SL_OPT_BOOL, false, "true",                                               \
     "The first row of each file is a header naming the columns. A header that cannot "     \
     "be parsed skips the whole file (DLQ reason `csv_header`). Without a header, columns "  \
     "are named by `csv.columns`, else `c1`, `c2`, ...",                                     \
     NULL},                                                                                  \
    {"csv.columns", SL_OPT_ANY, false, NULL,                                                 \
     "Column types, as a mapping from column name to `string`, `int`, `float`, `bool` or "   \
     "`timestamp` (e.g. `{id: int, price: float}`); or a list of names (all strings). "      \
     "With a header row they type the columns they name; without one they name the "        \
     "columns in order. A cell that does not convert goes to the DLQ as `csv_type`; an "     \
     "empty cell of a typed column is null.",                                                \
     NULL}

/* Bytes of an oversized frame kept in its DLQ entry. */
#define SL_STREAM_DLQ_HEAD 4096

typedef struct sl_stream {
    const char *name;      /* the component's name, for log lines */
    sl_format format;      /* batches point at it */
    void *shared;          /* decoder context of formats without a header row */
    void **headers;        /* one decoder context per stream with a header row */
    size_t n_headers, cap_headers;
    bool replayable;       /* the input can be read again after a stop although it is
                              polled (stdin through its write-ahead log): an incomplete
                              last frame is left to the next run, not sent to the DLQ */
} sl_stream;

/* Builds the format from the options of SL_STREAM_FORMAT_OPTIONS, reporting
 * every problem to diag. Returns 0, or -1 when there were errors (s is then
 * freed). */
int sl_stream_init(sl_stream *s, const char *name, const sl_opts *o, sl_diag *diag);
void sl_stream_free(sl_stream *s);

/* Parses a CSV header row into a decoder context that s keeps (batches
 * point at it) until sl_stream_free. NULL with derr when it does not parse. */
const void *sl_stream_parse_header(sl_stream *s, const char *row, size_t len, sl_decode_error *derr);

/* Scans p[0..n) for the end of a frame whose start was too long to keep;
 * *used = the bytes that belong to it. True when its end was found. For CSV
 * a line break inside quotes does not end the row (*in_quote carries the
 * quote state across calls, false at the frame's start; a doubled quote
 * toggles it twice, which leaves it unchanged). */
bool sl_stream_skip_scan(const sl_format *f, bool *in_quote, const char *p, size_t n, size_t *used);

/* Whether fd has input ready (or its end, or an error for read to report)
 * without waiting: after a read that took all there was, more ready means
 * the writer keeps up, so records read go on filling their batch (or log
 * record) instead of being handed on one read at a time. */
bool sl_stream_readable_now(int fd);

/* Makes the pipe fd reads from hold up to 1 MiB (F_SETPIPE_SZ), or as much
 * as the kernel allows (pipe-max-size, pipe-user-pages-soft), so that each
 * read takes more: fewer system calls and wake-ups per byte. Nothing
 * happens when fd is not a pipe or its buffer is already larger. */
void sl_stream_grow_pipe(int fd);

/* Waits until fd is readable (or at end of file); false when the pipeline
 * is stopping first. */
bool sl_stream_wait_readable(sl_source_ctx *ctx, int fd);

/* Reads r to its end, submitting batches of frames with positions
 * (file_id, decompressed offset) and the given origin (which must outlive
 * the source). Frames that start before skip_before were delivered before a
 * restart and are skipped (a CSV header is still read). When committed is
 * not NULL, *committed is kept at the offset before which everything has
 * been submitted (it is updated before each submit, so that a checkpoint
 * taken while the source is parked there sees the right position; it stays
 * before a frame that is being skipped as too large until that frame is
 * dead-lettered). Problems with the input itself — read errors, corrupt
 * compressed data, a bad CSV header — are logged and sent to the DLQ, and the
 * input is abandoned: they are not failures of the source. When poll_fd >= 0
 * the descriptor of uncompressed input is polled before a read that could
 * block, so that a stop request is noticed while a pipe is idle; the records
 * read so far are submitted before waiting. Returns 0
 * when the input is done, 1 when the pipeline is stopping. */
int sl_stream_read(sl_stream *s, sl_source_ctx *ctx, sl_reader *r, const char *origin,
                   uint64_t file_id, int poll_fd, uint64_t skip_before, uint64_t *committed);

#endif
