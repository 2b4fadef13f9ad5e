/* fuzz_codec_json.c — libFuzzer target for the JSON codec.
 *
 * Decodes arbitrary bytes (from a padded copy, as the decoder requires). When
 * decoding succeeds, the value is encoded, the encoding decoded again and
 * re-encoded: both encodings must be identical (encode is a fixed point after
 * one trip), and the re-decode must not fail. Every input is also checked
 * without decoding (sl_json_check, for records nothing reads): it must give
 * the decoder's verdict, duplicate-key flag, reason, message and offset.
 * Any mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

/* sl_json_check on the same input must say what sl_json_decode said. */
static void same_as_check(const char *in, size_t size, bool require_object, int rc,
                          const sl_value *v, const sl_decode_error *err)
{
    uint8_t flags;
    sl_decode_error cerr;
    int crc = sl_json_check(in, size, 16, require_object, &flags, &cerr);
    bool same = crc == rc;
    if (same && rc == 0)
        same = flags == (v->flags & SL_VF_DUPLICATE_KEYS);
    else if (same)
        same = strcmp(cerr.reason, err->reason) == 0 && strcmp(cerr.msg, err->msg) == 0 &&
               cerr.offset == err->offset;
    if (!same) {
        fprintf(stderr, "check and decode disagree: %d %s '%s' / %d %s '%s'\n", crc,
                crc ? cerr.reason : "", crc ? cerr.msg : "", rc, rc ? err->reason : "",
                rc ? err->msg : "");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + SL_BUF_PADDING);
    if (size)
        memcpy(in, data, size);
    memset(in + size, 0, SL_BUF_PADDING);

    sl_arena arena;
    sl_arena_init(&arena, 4096);
    sl_value v;
    sl_decode_error err;
    /* Odd-sized inputs must be objects, so both modes get exercised. */
    bool require_object = size % 2 == 1;
    int rc = sl_json_decode(&arena, in, size, 16, require_object, &v, &err);
    same_as_check(in, size, require_object, rc, &v, &err);
    if (rc == 0) {
        sl_buf first, second;
        sl_buf_init(&first);
        sl_buf_init(&second);
        sl_json_encode(&first, &v);

        sl_value again;
        if (sl_json_decode(&arena, first.data, first.len, 16, false, &again, &err) != 0) {
            fprintf(stderr, "re-decode failed: %s: %s\n%.*s\n", err.reason, err.msg,
                    (int)first.len, first.data);
            abort();
        }
        sl_json_encode(&second, &again);
        if (first.len != second.len || memcmp(first.data, second.data, first.len) != 0) {
            fprintf(stderr, "encoding is not stable:\n%.*s\n%.*s\n", (int)first.len, first.data,
                    (int)second.len, second.data);
            abort();
        }
        sl_buf_free(&first);
        sl_buf_free(&second);
    } else if (!err.reason || !err.msg[0] || err.offset > size) {
        fprintf(stderr, "decode failed without a proper error\n");
        abort();
    }
    sl_arena_free(&arena);
    free(in);
    return 0;
}
