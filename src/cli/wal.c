/* wal.c — `sluice wal inspect|verify DIR`: looks inside a write-ahead log
 * without changing it: every segment with its first sequence number, record
 * count, size and state. `verify` exits 1 when any segment is damaged (a torn
 * tail, a corrupt record, a bad header), which `sluice run` would repair or
 * quarantine on start.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../core/wal.h"
#include "cli.h"

int sl_cmd_wal(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        sl_cli_command_help("wal", stdout);
        return SL_EXIT_OK;
    }
    if (argc != 3 || (strcmp(argv[1], "inspect") != 0 && strcmp(argv[1], "verify") != 0))
        return sl_cli_usage_error("wal", "expected 'wal inspect DIR' or 'wal verify DIR'");
    bool verify = strcmp(argv[1], "verify") == 0;
    const char *dir = argv[2];

    sl_error err;
    sl_wal_segment_info *info;
    int n = sl_wal_inspect(dir, &info, &err);
    if (n < 0) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    uint64_t records = 0, bytes = 0;
    int damaged = 0;
    if (!verify)
        printf("%-26s %20s %10s %12s  %s\n", "segment", "first seq", "records", "bytes", "state");
    for (int i = 0; i < n; i++) {
        const sl_wal_scan *s = &info[i].scan;
        records += s->records;
        bytes += info[i].bytes;
        bool ok = s->status == SL_WAL_SCAN_OK;
        damaged += !ok;
        char state[160];
        if (ok)
            snprintf(state, sizeof state, "ok");
        else
            snprintf(state, sizeof state, "%s at byte %" PRIu64 " (%" PRIu64 " bytes after it)%s",
                     sl_wal_scan_status_name(s->status), s->valid_bytes, info[i].bytes - s->valid_bytes,
                     i + 1 == n ? ": a torn tail, truncated on the next start"
                                : ": quarantined on the next start, records before it kept");
        if (!verify || !ok)
            printf("%-26s %20" PRIu64 " %10" PRIu64 " %12" PRIu64 "  %s\n", info[i].name, s->first_seq,
                   s->records, info[i].bytes, state);
    }
    char size[32];
    sl_format_size(size, bytes);
    printf("%s: %d segment%s, %" PRIu64 " valid records, %s; %d damaged\n", dir, n, n == 1 ? "" : "s",
           records, size, damaged);
    free(info);
    return verify && damaged ? SL_EXIT_FAILED : SL_EXIT_OK;
}
