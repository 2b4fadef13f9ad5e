/* json.h — JSON decode (simdjson, through json_simd.cpp) and encode (C).
 *
 * Decoding: one JSON text (a JSONL line) -> one value in the arena. The input
 * MUST have SL_BUF_PADDING (64) readable bytes after len (simdjson reads
 * ahead); sl_buf and sl_batch guarantee this. Strings without escapes point
 * into the input (zero copy) and are marked SL_VF_JSON_SAFE; strings with
 * escapes are unescaped into the arena ("\u0000" becomes a real NUL byte,
 * len counts it). Integers that fit int64 are SL_INT, larger ones up to
 * UINT64_MAX are SL_UINT, everything else with a fraction/exponent is
 * SL_DOUBLE; every number keeps its raw text. Out-of-range numbers
 * (integers beyond uint64, doubles beyond DBL_MAX) are errors, not silently
 * rounded. Keys without escapes get key_flags = SL_VF_JSON_SAFE, so the
 * encoder copies them. Duplicate keys: the last value wins, at the first
 * key's position, and the document's root is marked SL_VF_DUPLICATE_KEYS.
 * Nesting deeper than max_depth is an error (json_depth); max_depth 0 means
 * SL_JSON_DEFAULT_MAX_DEPTH and values above 1024 are treated as 1024.
 * A per-thread simdjson parser is created on first use and reused.
 *
 * Encoding: compact JSON, field order kept, strings escaped per RFC 8259
 * (control characters as \u00XX, NUL as \u0000, '/' not escaped), numbers
 * with raw text written as-is, other doubles in the shortest form that
 * round-trips (61.17 -> 61.17, 1e300 -> 1e+300), with ".0" added to integral
 * values so they read back as doubles (2.0 -> "2.0"), non-finite doubles as null,
 * timestamps as RFC 3339 strings, bytes as base64 strings.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/value.h"
#include "decode_error.h"

#define SL_JSON_DEFAULT_MAX_DEPTH 64

/* Decodes exactly one JSON text (surrounding whitespace allowed). When
 * require_object is set, anything but an object is an error (json_not_object).
 * Returns 0, or -1 with err filled. */
int sl_json_decode(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                   bool require_object, sl_value *out, sl_decode_error *err);

/* Checks one JSON text exactly as sl_json_decode would decode it (same
 * verdict; same errors, reasons, messages and offsets) without building the
 * value: nothing is allocated in an arena (json_check.cpp). Returns 0 with *flags = SL_VF_DUPLICATE_KEYS
 * when the decoded root would have it (else 0), or -1 with err filled.
 * What decodes records nothing reads (docs/performance.md, "Records nothing
 * reads"); sl_json_decode on the same text afterwards cannot fail. */
int sl_json_check(const char *p, size_t len, unsigned max_depth, bool require_object,
                  uint8_t *flags, sl_decode_error *err);

void sl_json_encode(sl_buf *out, const sl_value *v);
struct sl_record;   /* core/batch.h */
/* Appends record r as one JSON line ('\n'-terminated): its frame's bytes as
 * they came when nothing changed it since it was decoded from one JSON
 * object line (sl_record_json_text), else its value encoded. */
void sl_json_encode_record_line(sl_buf *out, const struct sl_record *r);
/* Appends a JSON string literal (with quotes) for the bytes s[0..len). */
void sl_json_encode_string(sl_buf *out, const char *s, size_t len);
/* The same, for text that must come out as valid UTF-8 JSON whatever it
 * holds (messages that may quote input, file names): bytes that are not
 * valid UTF-8 are written as the text \xNN. */
void sl_json_encode_text(sl_buf *out, const char *s, size_t len);
/* Appends the shortest decimal text that parses back to d ("61.17", "2.0",
 * "5e-324"). Returns false (appending nothing) for NaN/Inf. */
bool sl_json_format_double(sl_buf *out, double d);

#endif
