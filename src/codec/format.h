/* format.h — one input format, as configured on a source: how to cut input
 * bytes into frames and decode a frame into a record.
 *
 *   jsonl  one JSON object per line (blank lines are skipped, not errors)
 *   csv    RFC 4180 rows, see csv.h
 *   text   each line becomes {"message": "<line>"} (line break removed)
 *
 * A frame longer than max_record_bytes is not decoded: the source sends it
 * to the DLQ as record_too_large (with its first bytes) and goes on.
 * sl_format is immutable once built and shared by all workers.
 */
#ifndef SL_FORMAT_H
#define SL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "decode_error.h"

typedef enum { SL_FORMAT_JSONL = 0, SL_FORMAT_CSV, SL_FORMAT_TEXT } sl_format_kind;

typedef struct sl_format {
    sl_format_kind kind;
    size_t max_record_bytes;     /* default 1 MiB */
    unsigned max_depth;          /* JSON nesting limit, default 64 */
    /* csv */
    sl_csv_dialect csv;
    bool csv_header;             /* first row of each stream is a header */
    sl_csv_column *csv_columns;  /* configured columns (names + types), may be NULL */
    size_t csv_column_count;
} sl_format;

/* Parses "jsonl" | "csv" | "text" ("json" and "ndjson" are accepted for jsonl). */
bool sl_format_kind_parse(const char *s, sl_format_kind *out);
void sl_format_init(sl_format *f, sl_format_kind kind);   /* defaults */
void sl_format_free(sl_format *f);                         /* frees csv_columns */

/* Length of the first complete frame in p[0..len) including its terminator,
 * or 0 when more input is needed (never 0 at eof with len > 0). */
size_t sl_format_frame(const sl_format *f, const char *p, size_t len, bool eof);
/* True when the format consumes a header frame at the start of each stream. */
bool sl_format_has_header(const sl_format *f);
/* Builds the per-stream context from the header frame (or from configuration
 * when header is NULL). Returns NULL with err on failure. For formats without
 * a stream context returns a non-NULL dummy that sl_format_stream_free ignores. */
void *sl_format_stream_new(const sl_format *f, const char *header, size_t len, sl_decode_error *err);
void sl_format_stream_free(const sl_format *f, void *stream);
/* Decodes one frame (terminator included or not). p has SL_BUF_PADDING
 * readable bytes after len. Returns 1 when the frame is blank and must be
 * skipped, 0 on success, -1 on error. */
int sl_format_decode(const sl_format *f, const void *stream, sl_arena *a,
                     const char *p, size_t len, sl_value *out, sl_decode_error *err);
/* Whether frames of this format can be checked without decoding them
 * (sl_format_check): jsonl only. */
bool sl_format_checks(const sl_format *f);
/* For a frame nothing will read: the same result and errors as
 * sl_format_decode, but no value is built (sl_json_check); *flags gets the
 * flags the value would have (SL_VF_DUPLICATE_KEYS). Only where
 * sl_format_checks; sl_format_decode of the frame afterwards cannot fail. */
int sl_format_check(const sl_format *f, const char *p, size_t len, uint8_t *flags,
                    sl_decode_error *err);

#endif
