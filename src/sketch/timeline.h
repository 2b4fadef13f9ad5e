/* timeline.h — where in time a stream's instants fall: a histogram of
 * SL_TIMELINE_BUCKETS equal buckets whose width doubles as the instants
 * spread, so that a profile can tell a steady stream from one with gaps.
 *
 * Buckets are 2^k nanoseconds wide and aligned: the first starts at a
 * multiple of 2^k (floor, so instants before 1970 work too). When an instant
 * falls outside the buckets, the start moves down to it or k grows, to the
 * smallest width whose aligned buckets cover every bucket in use and the new
 * instant, and each old bucket moves whole into the new bucket that contains
 * it (an aligned bucket of width 2^k lies inside one aligned bucket of any
 * width 2^k', k' >= k). So k is always the smallest width for the range seen
 * and the start the earliest instant aligned down to it: the timeline is a
 * function of the set of instants, whatever their order, and merging two
 * timelines gives exactly the timeline of both streams. The instants in use then span more than half of the
 * buckets (unless they are a single instant), so the resolution is between
 * 1/64 and 1/32 of the time range.
 *
 * Memory: 64 counters (512 bytes) and a start; nothing is allocated. Used
 * by one thread at a time.
 */
#ifndef SL_TIMELINE_H
#define SL_TIMELINE_H

#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"

#define SL_TIMELINE_BUCKETS 64
#define SL_TIMELINE_MAX_WIDTH_LOG2 58   /* 64 buckets of 2^58 ns span every int64 */

typedef struct sl_timeline {
    int64_t start;                        /* nanoseconds, a multiple of 2^width_log2 */
    unsigned width_log2;                  /* bucket width: 2^width_log2 ns */
    uint64_t n;                           /* instants counted */
    uint64_t counts[SL_TIMELINE_BUCKETS];
} sl_timeline;

void sl_timeline_init(sl_timeline *t);
void sl_timeline_add(sl_timeline *t, int64_t ns);
void sl_timeline_merge(sl_timeline *dst, const sl_timeline *src);

/* The share of the buckets between the first and the last one in use that
 * hold no instant (0: no gap at this resolution); NaN when the instants fill
 * fewer than two buckets. */
double sl_timeline_gap_share(const sl_timeline *t);

/* {"start_ns":N,"width_ns":N,"counts":[[bucket,count],...]} (non-empty buckets). */
void sl_timeline_to_json(const sl_timeline *t, sl_buf *out);
/* Reads what sl_timeline_to_json wrote; -1 with err filled when the members
 * are missing, mistyped, unaligned or out of range. */
int sl_timeline_from_value(sl_timeline *t, const sl_value *v, sl_error *err);

#endif
