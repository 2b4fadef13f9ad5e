/* decode_error.h — why a frame could not be decoded into a record.
 *
 * `reason` is a stable code (used as the DLQ reason and metric label);
 * `msg` is the human explanation, with the byte offset inside the frame where
 * the decoder noticed the problem.
 *
 * Reason codes: json_syntax, json_utf8, json_depth, json_trailing,
 * json_number, json_not_object, json_empty_key?, csv_syntax, csv_columns,
 * csv_type, csv_utf8, text_utf8, record_too_large, decompress.
 */
#ifndef SL_DECODE_ERROR_H
#define SL_DECODE_ERROR_H

#include <stddef.h>

typedef struct sl_decode_error {
    const char *reason;   /* static string, one of the codes above */
    char msg[240];
    size_t offset;        /* byte offset within the frame */
} sl_decode_error;

#endif
