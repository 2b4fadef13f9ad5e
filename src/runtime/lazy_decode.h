/* lazy_decode.h — decode only what is read: records nothing in the pipeline
 * reads are checked, not decoded, and their values built on first read.
 *
 * Decoding a JSON line into a value tree is most of what a passthrough
 * pipeline (file -> file, the records written as they came) spends its CPU
 * on, although nothing reads a field. So, per source, when every component
 * its records can reach says it reads no field (sl_component.reads_no_fields:
 * a sink writing JSON lines as they came, no transform), the worker checks
 * each frame as the decoder would judge it (sl_format_check: the same
 * verdict and errors, so a malformed line goes to the DLQ exactly as before)
 * and leaves the value unbuilt; whatever reads the record after all (a sink encoding a record
 * whose frame cannot be written as it is, the DLQ) builds it then, through
 * sl_record_value (core/batch.h). docs/performance.md, "Records nothing reads".
 */
#ifndef SL_LAZY_DECODE_H
#define SL_LAZY_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "../codec/decode_error.h"
#include "../core/batch.h"
#include "pipeline.h"

/* Whether nothing reads the fields of the records source vertex `source`
 * emits. At build time. */
bool sl_records_unread(const sl_pipeline *p, int source);

/* Decodes r's frame (b->format) into its value; with check_only, when the
 * format allows it (jsonl), only checks the frame and leaves the value
 * unbuilt, to be built on first read. Returns what sl_format_decode does:
 * 1 blank frame, 0 ok (*flags: the flags of the value), -1 with err. */
int sl_lazy_decode(sl_batch *b, sl_record *r, bool check_only, uint8_t *flags, sl_decode_error *err);

#endif
