/* fuzz_engine_profile.c — libFuzzer target for the profile JSON decoder
 * (sl_profile_from_json, which also decodes the HLL, KLL and top-k images).
 * Any input must be rejected cleanly or accepted; an accepted profile must
 * serialize, decode again, and serialize to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sketch/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_profile *p;
    sl_error err;
    if (sl_profile_from_json((const char *)data, size, &p, &err) < 0)
        return 0;
    sl_buf a, b;
    sl_buf_init(&a);
    sl_buf_init(&b);
    sl_profile_to_json(p, &a);
    sl_profile *q;
    if (sl_profile_from_json(a.data, a.len, &q, &err) < 0)
        abort();   /* our own output must decode */
    sl_profile_to_json(q, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    sl_profile_free(q);
    sl_profile_free(p);
    sl_buf_free(&a);
    sl_buf_free(&b);
    return 0;
}
