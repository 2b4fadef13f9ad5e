/* fuzz_engine_owned.c — libFuzzer target for reading a file sink's journal
 * of owned files (sinks/owned_files.h), which every resuming run reads from
 * data_dir/owned/ whatever a crash or a damaged disk left there. The input
 * is written as the journal and reconciled with SL_OWNED_KEEP, the one way
 * that touches no file the journal names (resuming removes and moves them):
 * reading must stop cleanly at the first line that is torn or does not
 * check, keep a prefix of whole lines, cut the journal to exactly that
 * prefix, and read that prefix back whole.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/owned_files.h"

static char journal[64];

static void remove_journal(void)
{
    unlink(journal);
}

static uint64_t reconcile(void)
{
    sl_owned_files o;
    sl_owned_init(&o);
    sl_owned_keep(&o, journal);
    sl_error err = {0};
    if (sl_owned_reconcile(&o, SL_OWNED_KEEP, 0, "fuzz", &err) < 0)
        abort();
    uint64_t kept = sl_owned_length(&o);
    sl_owned_free(&o);
    return kept;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!journal[0]) {
        snprintf(journal, sizeof journal, "/tmp/sluice-fuzz-owned-%ld", (long)getpid());
        atexit(remove_journal);
    }
    int fd = open(journal, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    uint64_t kept = reconcile();
    struct stat st;
    if (kept > size || (kept && data[kept - 1] != '\n') || stat(journal, &st) < 0 || (uint64_t)st.st_size != kept)
        abort();
    if (reconcile() != kept)
        abort();
    return 0;
}
