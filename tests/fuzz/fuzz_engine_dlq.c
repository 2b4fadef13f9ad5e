/* fuzz_engine_dlq.c — libFuzzer target for reading dead letters back
 * (runtime/dlq_read.h): sl_dlq_parse on any line, as the `dlq` source and
 * `sluice dlq summary`/`show` read files a user may have edited, and the
 * message class of whatever message it holds (or of the line itself).
 * Any input must be rejected cleanly or parsed; a class is never longer
 * than the bound the header promises (160 bytes), plus "...".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "runtime/dlq_read.h"

static void classify(const char *message)
{
    sl_buf class;
    sl_buf_init(&class);
    sl_dlq_message_class(message, &class);
    if (class.len > 160 + 3)   /* CLASS_MAX, then "..." */
        abort();
    sl_buf_free(&class);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + SL_BUF_PADDING + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    memset(line + size, 0, SL_BUF_PADDING + 1);
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_dlq_record e;
    sl_error err;
    if (sl_dlq_parse(&a, line, size, &e, &err) == 0) {
        if (!e.reason)
            abort();   /* an entry has a reason (the header's contract) */
        if (e.message)
            classify(e.message);
    }
    classify(line);   /* NUL-terminated: up to the first NUL */
    sl_arena_free(&a);
    free(line);
    return 0;
}
