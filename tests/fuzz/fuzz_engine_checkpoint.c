/* fuzz_engine_checkpoint.c — libFuzzer target for reading a checkpoint, as
 * every run does with whatever the last one (or a damaged disk) left in
 * data_dir: sl_checkpoint_decode on the input as a whole generation (header,
 * length, CRC-32C), then sl_checkpoint_doc_check on the document inside it
 * when the frame holds, else on the input itself as a document (few fuzzed
 * inputs carry a matching checksum). Any input must be refused with a reason
 * or accepted; a document decoded lies inside the input, and checking it
 * twice gives the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/checkpoint.h"
#include "runtime/pipeline_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0, len = 0;
    const char *problem = sl_checkpoint_decode((const char *)data, size, &at, &len);
    if (problem) {
        if (!problem[0])
            abort();
        at = 0;
        len = size;
    } else if (at > size || len > size - at) {
        abort();
    }
    char *doc = malloc(len + SL_BUF_PADDING + 1);
    if (!doc)
        return 0;
    memcpy(doc, data + at, len);
    memset(doc + len, 0, SL_BUF_PADDING + 1);
    char why[160] = "", again[160] = "";
    bool ok = sl_checkpoint_doc_check(doc, len, why, sizeof why);
    if (ok != sl_checkpoint_doc_check(doc, len, again, sizeof again) || strcmp(why, again) != 0 ||
        (!ok && !why[0]))
        abort();
    free(doc);
    return 0;
}
