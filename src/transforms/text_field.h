/* text_field.h — what the text transforms (dedup's near mode, normalize,
 * text_quality) do with a text field that holds something other than text.
 *
 * A number, boolean, list or map (or bytes, where the transform does not read
 * them as text) where text is expected is usually an upstream bug (a mis-mapped column, a type change at the producer), and
 * passing it on unchecked hides it. So by default such a record goes to the
 * DLQ with reason `non_string` and a message naming the field and the type;
 * `non_string: pass` lets it through unchanged (counted as skipped where the
 * transform counts). A missing field or null is "no text", not an error: it
 * is always passed on. The option has the same name, values and meaning in
 * the three transforms.
 */
#ifndef SL_TEXT_FIELD_H
#define SL_TEXT_FIELD_H

#include <stdbool.h>

#include "../core/value.h"
#include "../expr/expr.h"
#include "../runtime/component.h"

extern const char *const sl_non_string_values[];

#define SL_NON_STRING_OPTION                                                                       \
    {"non_string", SL_OPT_ENUM, false, "dlq",                                                      \
     "A text field holding a number, boolean, list or map (or bytes, except in `normalize`, "     \
     "which reads them as text): `dlq` sends the record to the DLQ (reason `non_string`, naming " \
     "the field and the type); `pass` passes it on unchecked. A missing or null field is always " \
     "passed on.",                                                                                 \
     sl_non_string_values}

/* The configured policy: true for `dlq`. */
bool sl_non_string_to_dlq(const sl_opts *opts);

/* True when v is neither missing nor null nor of one of the text types the
 * transform reads (a string; also bytes when bytes_ok). */
bool sl_is_non_string(const sl_value *v, bool bytes_ok);

/* Sends r to the DLQ with reason `non_string`, naming the field (path) and
 * v's type. */
void sl_emit_non_string(sl_emit *out, sl_record *r, const sl_path *path, const sl_value *v);

#endif
