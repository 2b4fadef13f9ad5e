/* fuzz_engine_jsonschema.c — libFuzzer target for the JSON Schema loader.
 *
 * Loads arbitrary bytes as a schema. Loading must either fail with
 * diagnostics or give a contract; a contract is then used to check a few
 * fixed records (exercising every compiled rule, coercion-free) and its
 * violations are described, which must not crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "contract/contract.h"
#include "contract/jsonschema.h"

static const char *const records[] = {
    "{}",
    "{\"a\":1,\"b\":\"x\",\"c\":[1,\"two\",null],\"d\":{\"e\":-1.5},\"f\":null,\"g\":true}",
    "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"email\":\"a@b.co\",\"ts\":\"2026-01-01T00:00:00Z\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_diag diag;
    sl_diag_init(&diag);
    sl_contract *c = sl_jsonschema_parse("fuzz.json", (const char *)data, size, &diag);
    if (c) {
        sl_contract_scratch *s = sl_contract_scratch_new(c);
        sl_buf msg;
        sl_buf_init(&msg);
        for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
            sl_arena a;
            sl_arena_init(&a, 4096);
            size_t len = strlen(records[i]);
            char *copy = sl_arena_alloc(&a, len + SL_BUF_PADDING);
            memcpy(copy, records[i], len);
            memset(copy + len, 0, SL_BUF_PADDING);
            sl_value v;
            sl_decode_error derr;
            if (sl_json_decode(&a, copy, len, 0, true, &v, &derr) != 0) abort();
            if (sl_contract_check(c, s, &v, &a, 0)) {
                msg.len = 0;
                sl_contract_describe_violations(c, s, &msg);
                sl_contract_violations_value(c, s, &a);
            }
            sl_arena_free(&a);
        }
        sl_buf_free(&msg);
        sl_contract_scratch_free(s);
        sl_contract_free(c);
    }
    sl_diag_free(&diag);
    return 0;
}
