/* wal.h — the write-ahead log: an append-only, checksummed, segmented log of
 * opaque records, which survives crashes and never refuses to open.
 *
 * Layout: a directory of segment files named after the sequence number of
 * their first record ("00000000000000000042.wal"). A segment starts with a
 * 16-byte header (magic "SLWAL001", then the first sequence number, u64 LE)
 * followed by records:
 *
 *   u32 length | u32 crc32c(seq bytes + payload) | u64 seq | payload
 *
 * (little-endian). Sequence numbers are consecutive across the whole log.
 *
 * Durability (sl_wal_sync_policy): ALWAYS makes every append durable before it
 * returns (concurrent appenders share one fdatasync); GROUP makes a
 * background thread fdatasync every group_commit_ms and an append returns once
 * a sync covers it; OS leaves it to the kernel (fast, loses the last seconds
 * on power loss, not on a process crash).
 *
 * Recovery (sl_wal_open), whatever it finds:
 *  - a torn tail in the newest segment (a record cut short or failing its
 *    checksum, as left by a crash mid-write) is truncated away;
 *  - a damaged older segment is moved to the quarantine directory; the
 *    records before the damage are kept (copied to a new segment of the same
 *    name); the records after it are counted as lost;
 *  - a segment with a bad header is quarantined whole.
 * Everything is reported in sl_wal_recovery; the log always opens.
 *
 * Segments whose records are all covered by a checkpoint are deleted with
 * sl_wal_release. One sl_wal may be appended to from several threads.
 */
#ifndef SL_WAL_H
#define SL_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SL_WAL_HEADER_BYTES 16
#define SL_WAL_RECORD_OVERHEAD 16
#define SL_WAL_MAX_RECORD (64u << 20)

typedef enum { SL_WAL_SYNC_ALWAYS, SL_WAL_SYNC_GROUP, SL_WAL_SYNC_OS } sl_wal_sync_policy;

typedef struct sl_wal_options {
    sl_wal_sync_policy sync;
    unsigned group_commit_ms;      /* GROUP: sync interval (default 10) */
    uint64_t segment_bytes;        /* roll to a new segment past this (default 64 MiB) */
    const char *quarantine_dir;    /* default: <dir>/quarantine */
} sl_wal_options;

typedef struct sl_wal_recovery {
    uint64_t segments;             /* segments kept */
    uint64_t records;              /* valid records found */
    uint64_t torn_bytes;           /* truncated from the newest segment */
    uint64_t quarantined;          /* segments moved to quarantine */
    uint64_t lost_bytes;           /* bytes after damage in quarantined segments */
    char first_problem[256];       /* a description of the first problem, or "" */
} sl_wal_recovery;

/* ---- scanning one segment's bytes (pure; also what the fuzzer runs) ---- */

typedef enum {
    SL_WAL_SCAN_OK,        /* every byte belongs to a valid record */
    SL_WAL_SCAN_BAD_HEADER,
    SL_WAL_SCAN_TRUNCATED, /* ends inside a record */
    SL_WAL_SCAN_CORRUPT,   /* a record with a bad length, checksum or sequence */
} sl_wal_scan_status;

typedef struct sl_wal_scan {
    sl_wal_scan_status status;
    uint64_t first_seq;    /* from the header */
    uint64_t records;      /* valid records before valid_bytes */
    uint64_t valid_bytes;  /* header + valid records */
    uint64_t next_seq;     /* sequence the next record would have */
} sl_wal_scan;

/* Validates data[0..len) as a segment, calling fn (may be NULL) for each
 * valid record in order; fn returning non-zero stops the scan early. */
sl_wal_scan sl_wal_scan_segment(const unsigned char *data, size_t len,
                                int (*fn)(void *arg, uint64_t seq, const void *p, size_t n), void *arg);
const char *sl_wal_scan_status_name(sl_wal_scan_status s);

/* ---- the log ---- */

typedef struct sl_wal sl_wal;

sl_wal *sl_wal_open(const char *dir, const sl_wal_options *opts, sl_wal_recovery *rec, sl_error *err);
/* Appends one record; *seq receives its sequence number. Returns once the
 * record is as durable as the policy promises. */
int sl_wal_append(sl_wal *w, const void *p, size_t n, uint64_t *seq, sl_error *err);
/* Makes everything appended so far durable. */
int sl_wal_sync(sl_wal *w, sl_error *err);
/* Sequence number the next append will get. */
uint64_t sl_wal_next_seq(sl_wal *w);
/* Deletes every segment whose records all have seq <= upto (never the
 * segment being written). Returns the number of segments deleted. */
int sl_wal_release(sl_wal *w, uint64_t upto, sl_error *err);
/* Syncs and closes. */
int sl_wal_close(sl_wal *w, sl_error *err);

/* What a log has done since it was opened, for metrics and `sluice wal bench`.
 * Counting costs an append two additions under the lock it already holds. */
typedef struct sl_wal_stats {
    uint64_t records;              /* appended */
    uint64_t bytes;                /* payload bytes appended (without framing) */
    uint64_t unsynced_bytes;       /* of those, not yet covered by an fdatasync */
    uint64_t segments;             /* in the log now */
    uint64_t fsyncs;               /* fdatasyncs that made records durable (not
                                      the header and directory syncs of a new segment) */
    uint64_t fsync_p50_ns, fsync_p99_ns, fsync_max_ns;   /* their latency; p50/p99 within +12.5 % */
} sl_wal_stats;

void sl_wal_get_stats(sl_wal *w, sl_wal_stats *out);

/* ---- reading ---- */

typedef struct sl_wal_reader sl_wal_reader;

/* Reads the records of dir with seq >= from, oldest first, without changing
 * anything (damaged parts are skipped and reported by sl_wal_reader_problem). */
sl_wal_reader *sl_wal_reader_open(const char *dir, uint64_t from, sl_error *err);
/* 1 and the record (valid until the next call), 0 at the end, -1 on error. */
int sl_wal_reader_next(sl_wal_reader *r, uint64_t *seq, const void **p, size_t *n, sl_error *err);
void sl_wal_reader_close(sl_wal_reader *r);

/* ---- inspection (`sluice wal inspect|verify`) ---- */

typedef struct sl_wal_segment_info {
    char name[64];
    uint64_t bytes;
    sl_wal_scan scan;
} sl_wal_segment_info;

/* Lists and scans the segments of dir, read-only. Returns the count (the
 * array is malloc'ed in *out), or -1 with err. */
int sl_wal_inspect(const char *dir, sl_wal_segment_info **out, sl_error *err);

#endif
