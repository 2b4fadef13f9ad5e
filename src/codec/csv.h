/* csv.h — RFC 4180 CSV: framing, decoding, encoding.
 *
 * Framing is quote-aware: a record ends at the first CR LF or LF that is not
 * inside a quoted field, so quoted fields may hold newlines. Decoding turns a
 * row into a map from column name to value. Column names come from the header
 * row (when `header` is set) or from the configured `columns`, else they are
 * "c1", "c2", .... Values are strings unless a column has a type (int, float,
 * bool, string, timestamp): then the text is converted and a cell that does
 * not convert is a csv_type error naming the column. An empty unquoted cell
 * of a typed column is null. A row with a different number of cells than
 * columns is a csv_columns error. Invalid UTF-8 is csv_utf8.
 */
#ifndef SL_CSV_H
#define SL_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/value.h"
#include "decode_error.h"

typedef enum { SL_CSV_STRING = 0, SL_CSV_INT, SL_CSV_FLOAT, SL_CSV_BOOL, SL_CSV_TIMESTAMP } sl_csv_type;

typedef struct sl_csv_column {
    char *name;
    sl_csv_type type;
} sl_csv_column;

typedef struct sl_csv_dialect {
    char delimiter;      /* default ',' */
    char quote;          /* default '"' */
} sl_csv_dialect;

/* Column set of one stream: from the header row and/or configuration. */
typedef struct sl_csv_header {
    sl_csv_column *columns;
    size_t count;
} sl_csv_header;

/* Length of the first complete record in p[0..len) including its line break,
 * or 0 when more input is needed. At eof, returns len for a final record
 * without a line break (an unterminated quote at eof is returned whole and
 * fails to decode with csv_syntax). */
size_t sl_csv_frame(const sl_csv_dialect *d, const char *p, size_t len, bool eof);

/* Builds the header from a header row; configured columns (may be NULL) give
 * types to the columns they name. Returns NULL with err on a malformed row. */
sl_csv_header *sl_csv_header_parse(const sl_csv_dialect *d, const char *p, size_t len,
                                   const sl_csv_column *configured, size_t n_configured,
                                   sl_decode_error *err);
/* A header made from configured columns only (no header row). */
sl_csv_header *sl_csv_header_from_columns(const sl_csv_column *configured, size_t n);
void sl_csv_header_free(sl_csv_header *h);

/* Decodes one record frame (with or without its line break). h may be NULL:
 * columns are then named c1, c2, ... */
int sl_csv_decode(const sl_csv_dialect *d, const sl_csv_header *h, sl_arena *a,
                  const char *p, size_t len, sl_value *out, sl_decode_error *err);

/* Encoding: one row of cells, quoted only when needed, terminated by "\n".
 * Nested values (maps, arrays) are written as their JSON text. */
void sl_csv_encode_header(const sl_csv_dialect *d, sl_buf *out, const char *const *names, size_t n);
void sl_csv_encode_row(const sl_csv_dialect *d, sl_buf *out, const sl_value *record,
                       const char *const *names, size_t n);

#endif
