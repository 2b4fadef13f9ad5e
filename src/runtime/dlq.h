/* dlq.h — the dead-letter queue writer: records that could not be decoded,
 * transformed or encoded, with their raw bytes, reason and source position,
 * as JSON lines in <dlq path>/dlq.jsonl.
 *
 *   {"time":"2026-11-24T01:02:03.123Z","component":"contract","source":"events",
 *    "origin":"data/events.jsonl","position":{"file_id":123,"offset":4567},
 *    "reason":"json_syntax","message":"...","raw":"<the frame as text>"}
 *
 * "raw_base64" replaces "raw" when the bytes are not valid UTF-8. A record
 * over 64 KiB is kept whole in the side file dlq.raw next to dlq.jsonl
 * instead, and its entry says where:
 *
 *   "raw_file":"/abs/dlq/dlq.raw","raw_offset":0,"raw_length":70000,"raw_crc32c":123
 *
 * so every entry holds its whole record (readers look for the side file
 * next to the DLQ file they read first, then at raw_file). "raw_truncated":true marks an
 * entry whose record was not held whole by its source (record_too_large:
 * over max_record_bytes, only its head is kept). A trailing line break of
 * the frame is not part of raw. A record that a `dlq` source replayed and
 * that failed again keeps its original origin and position, and says where
 * it was replayed from:
 *
 *   "replay":{"origin":"replay/dlq-1.jsonl","position":{"file_id":7,"offset":0}}
 *
 * Every entry is valid UTF-8 JSON, whatever
 * bytes its message or origin quote (invalid ones are written as \xNN).
 *
 * The directory and file are created on the first entry (no entries, no
 * file) and appended to. Entries are buffered and written when the buffer
 * grows past 64 KiB, when sl_dlq_flush is called (the runtime does so every
 * second) and at close. Thread-safe: workers and sources write concurrently.
 * Each entry is counted in the metrics per component and reason.
 *
 * A full disk (ENOSPC, EDQUOT) drops nothing: the entries stay in memory and
 * are written when space returns (logged when the pause starts and ends,
 * sluice_dlq_disk_full is 1 meanwhile). Past 16 MiB waiting, sl_dlq_write
 * blocks its caller until space returns; sl_dlq_flush and sl_dlq_checkpoint
 * always wait. Only a stop request ends those waits, with an error.
 */
#ifndef SL_DLQ_H
#define SL_DLQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/batch.h"
#include "../core/error.h"
#include "../core/metrics.h"

/* The names of the DLQ's files in its directory. */
#define SL_DLQ_FILE "dlq.jsonl"
#define SL_DLQ_RAW_FILE "dlq.raw"

typedef struct sl_dlq sl_dlq;

/* dir: the DLQ directory (not created yet). stopping (may be NULL): the
 * pipeline's stop request, which ends waits for disk space. */
sl_dlq *sl_dlq_new(const char *dir, sl_metrics *metrics, const atomic_bool *stopping);
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
    bool raw_partial;                /* raw is only the head of the record */
    /* A replayed record (origin and pos are then its original ones): the
     * DLQ file and position it was replayed from; NULL when not replayed. */
    const char *replay_origin;
    sl_position replay_pos;
} sl_dlq_entry;

/* Appends one entry (on a full disk it may wait for space, see above).
 * Returns 0, or -1 with err when the DLQ cannot be written or the pipeline
 * stopped while the disk was full (the entry is then not written and the
 * caller must treat this as fatal). */
int sl_dlq_write(sl_dlq *d, const sl_dlq_entry *e, sl_error *err);
/* Writes buffered entries to the file, waiting for space while the disk is
 * full. Returns 0 or -1 with err. */
int sl_dlq_flush(sl_dlq *d, sl_error *err);
uint64_t sl_dlq_count(sl_dlq *d);

/* The DLQ's part of a checkpoint: the sizes of dlq.jsonl and of the side
 * file dlq.raw (0 for a file that does not exist yet). */
typedef struct sl_dlq_mark {
    uint64_t size, raw_size;
} sl_dlq_mark;
/* A size a checkpoint does not know (one written before the side file
 * existed): sl_dlq_rollback leaves that file alone. */
#define SL_DLQ_SIZE_UNKNOWN UINT64_MAX

/* Checkpoints: writes what is buffered (waiting for space while the disk is
 * full, like sl_dlq_flush) and gives the files' sizes. */
int sl_dlq_checkpoint(sl_dlq *d, sl_dlq_mark *mark, sl_error *err);
/* Makes what was written durable (fdatasync). */
int sl_dlq_sync(sl_dlq *d, sl_error *err);
/* Before a run that resumes from a checkpoint: cuts off entries and large
 * records written after it (their records are read and judged again), so
 * that a crash never duplicates DLQ entries. */
int sl_dlq_rollback(sl_dlq *d, const sl_dlq_mark *mark, sl_error *err);
/* Before a run that found checkpoints but none it can use (both
 * generations damaged): moves the earlier dead letters aside
 * (sl_move_aside), so that this run's, read again, are not appended to them. */
int sl_dlq_set_aside(sl_dlq *d, sl_error *err);
/* The file's path (exists only when sl_dlq_count() > 0). */
const char *sl_dlq_file(const sl_dlq *d);
/* Appends sluice_dlq_disk_full and sluice_dlq_disk_full_pauses_total
 * (Prometheus text with HELP/TYPE). */
void sl_dlq_prometheus(sl_dlq *d, sl_buf *out);

#endif
