/* encoder.h — what the file and stdout sinks share: turning records into
 * JSON lines or CSV rows, and compressing encoded parts.
 *
 * The record encoder is shared by every worker. Its only mutable state is
 * the CSV column list when it is not configured: the columns are then the
 * fields of the first record encoded, fixed for the run (set once under a
 * lock; read without one after that).
 *
 * A compressor belongs to one thread (a worker's state, or the sink
 * thread). sl_compress_buf turns a buffer into one complete gzip member or
 * zstd frame; concatenated members/frames are valid streams, so parts
 * compressed independently on several workers can simply be appended to a
 * file.
 */
#ifndef SL_SINK_ENCODER_H
#define SL_SINK_ENCODER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <zlib.h>
#include <zstd.h>

#include "../codec/csv.h"
#include "../codec/reader.h"
#include "../config/options.h"
#include "../core/batch.h"

extern const char *const sl_sink_format_names[];   /* jsonl, csv */

/* The format option rows, spliced into the schema of the file and stdout sinks. */
#define SL_SINK_FORMAT_OPTIONS                                                                \
    {"format", SL_OPT_ENUM, false, "jsonl",                                                   \
     "Output format: `jsonl` (one JSON object per line, field order kept: a record nothing "  \
     "changed is its input line as it came, others are compact) or `csv` "                   \
     "(RFC 4180 rows with a header row; nested values are written as JSON text).",            \
     sl_sink_format_names},                                                                   \
    {"csv.columns", SL_OPT_LIST, false, NULL,                                                 \
     "CSV columns, in order; a field missing from a record is an empty cell. Default: the "   \
     "fields of the first record encoded, fixed for the run (set it when records vary).",     \
     NULL},                                                                                   \
    {"csv.delimiter", SL_OPT_STRING, false, ",", "CSV field separator: one character.", NULL}

typedef struct sl_record_encoder {
    bool csv;                   /* else JSON lines */
    sl_csv_dialect dialect;
    char **columns;             /* CSV columns (configured, or learned once) */
    size_t n_columns;
    atomic_bool columns_ready;
    pthread_mutex_t lock;       /* guards learning the columns */
} sl_record_encoder;

/* Reads SL_SINK_FORMAT_OPTIONS, reporting problems to diag. Returns 0, or
 * -1 when there were errors; either way e must be freed. */
int sl_record_encoder_init(sl_record_encoder *e, const sl_opts *o, sl_diag *diag);
void sl_record_encoder_free(sl_record_encoder *e);
/* Appends one record: a JSON line (the record's own line when nothing
 * changed it, see sl_json_encode_record_line), or a CSV row. */
void sl_record_encoder_put(sl_record_encoder *e, sl_buf *out, const sl_record *r);
/* Appends n records, in one buffer reservation of their frames' total size
 * (exactly what records written as they came take; growing the buffer by
 * doubling cost about 4 % of W1's instructions once nothing else was left
 * to do per record). */
void sl_record_encoder_put_all(sl_record_encoder *e, sl_buf *out, sl_record **recs, size_t n);
/* Appends the CSV header row; false (nothing appended) for JSON lines. */
bool sl_record_encoder_header(sl_record_encoder *e, sl_buf *out);

typedef struct sl_compressor {
    sl_compression kind;
    z_stream gzip;
    bool gzip_ready;
    ZSTD_CCtx *zstd;
    sl_buf scratch;
} sl_compressor;

void sl_compressor_init(sl_compressor *c, sl_compression kind);
void sl_compressor_free(sl_compressor *c);
/* Replaces buf's content by its compressed form, in a right-sized buffer
 * (SL_COMPRESSION_NONE or an empty buffer: only gives back the spare
 * capacity, since queued payloads are charged by capacity). */
void sl_compress_buf(sl_compressor *c, sl_buf *buf);

#endif
