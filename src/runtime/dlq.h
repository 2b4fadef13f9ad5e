/* dlq.h — the dead-letter queue writer: records that could not be decoded,
 * transformed or encoded, with their raw bytes, reason and source position,
 * as JSON lines in <dlq path>/dlq.jsonl.
 *
 *   {"time":"2026-11-24T01:02:03.123Z","component":"contract","source":"events",
 *    "origin":"data/events.jsonl","position":{"file_id":123,"offset":4567},
 *    "reason":"json_syntax","message":"...","raw":"<the frame as text>"}
 *
 * "raw_base64" replaces "raw" when the bytes are not valid UTF-8; raw is cut
 * to 4 KiB (at a character boundary) with "raw_truncated":true for huge
 * frames. A trailing line break of the frame is not part of raw.
 *
 * The directory and file are created on the first entry (no entries, no
 * file) and appended to. Entries are buffered and written when the buffer
 * grows past 64 KiB, when sl_dlq_flush is called (the runtime does so every
 * second) and at close. Thread-safe: workers and sources write concurrently.
 * Each entry is counted in the metrics per component and reason.
 */
#ifndef SL_DLQ_H
#define SL_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "../core/batch.h"
#include "../core/error.h"
#include "../core/metrics.h"

typedef struct sl_dlq sl_dlq;

/* dir: the DLQ directory (not created yet). */
sl_dlq *sl_dlq_new(const char *dir, sl_metrics *metrics);
/* Closes and frees (NULL is ignored); call sl_dlq_flush first. */
void sl_dlq_free(sl_dlq *d);

typedef struct sl_dlq_entry {
    const char *component;           /* the stage that rejected the record */
    sl_component_metrics *metrics;   /* that stage's metrics */
    const char *source;              /* the source the record came from */
    const char *origin;              /* file path or description, may be NULL */
    sl_position pos;
    const char *reason;              /* stable snake_case code */
    const char *message;
    const char *raw;                 /* the frame's bytes (may be NULL) */
    size_t raw_len;
} sl_dlq_entry;

/* Appends one entry. Returns 0, or -1 with err when the DLQ cannot be
 * written (the entry is then lost and the caller must treat this as fatal). */
int sl_dlq_write(sl_dlq *d, const sl_dlq_entry *e, sl_error *err);
/* Writes buffered entries to the file. Returns 0 or -1 with err. */
int sl_dlq_flush(sl_dlq *d, sl_error *err);
uint64_t sl_dlq_count(sl_dlq *d);
/* The file's path (exists only when sl_dlq_count() > 0). */
const char *sl_dlq_file(const sl_dlq *d);

#endif
