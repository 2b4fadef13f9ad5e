/* decode_error.h — why a frame could not be decoded into a record.
 *
 * `reason` is a stable code (used as the DLQ reason and metric label);
 * `msg` is the human explanation, with the byte offset inside the frame where
 * the decoder noticed the problem.
 *
 * Reason codes: json_syntax, json_utf8, json_depth, json_trailing,
 * json_number, json_not_object, json_empty_key?, csv_syntax, csv_columns,
 * csv_type, csv_utf8, text_utf8, record_too_large, decompress.
 *
 * Messages quote input only through sl_decode_error_excerpt, so that a
 * message is valid UTF-8 without control characters whatever the frame
 * held: it goes into DLQ entries (JSON) and logs.
 */
#ifndef SL_DECODE_ERROR_H
#define SL_DECODE_ERROR_H

#include <stddef.h>

typedef struct sl_decode_error {
    const char *reason;   /* static string, one of the codes above */
    char msg[240];
    size_t offset;        /* byte offset within the frame */
} sl_decode_error;

/* Writes an excerpt of input bytes s[0..len) for a message into out (cap
 * bytes, NUL-terminated): valid UTF-8 as it is, invalid bytes and control
 * characters as \xNN, cut at a character boundary with "..." when it does
 * not fit. Returns out. */
const char *sl_decode_error_excerpt(char *out, size_t cap, const char *s, size_t len);

#endif
