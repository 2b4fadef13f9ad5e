/* fuzz_core_wal.c — WAL segment scanning on arbitrary bytes: every record
 * handed to the callback lies inside the input, sequence numbers are
 * consecutive, and the valid prefix is self-consistent (scanning just the
 * valid prefix gives the same records and status ok).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wal.h"

typedef struct {
    const unsigned char *start, *end;
    uint64_t expect;
    uint64_t count;
} walk;

static int visit(void *arg, uint64_t seq, const void *p, size_t n)
{
    walk *w = arg;
    const unsigned char *c = p;
    if (c < w->start || c + n > w->end || (w->count && seq != w->expect))
        abort();
    w->expect = seq + 1;
    w->count++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk w = {data, data + size, 0, 0};
    sl_wal_scan s = sl_wal_scan_segment(data, size, visit, &w);
    if (w.count != s.records || s.valid_bytes > size)
        abort();
    if (s.status != SL_WAL_SCAN_BAD_HEADER) {
        sl_wal_scan again = sl_wal_scan_segment(data, (size_t)s.valid_bytes, NULL, NULL);
        if (again.status != SL_WAL_SCAN_OK || again.records != s.records)
            abort();
    }
    return 0;
}
