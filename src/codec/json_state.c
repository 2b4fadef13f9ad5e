/* json_state.c — reading back sluice's own JSON state (see json_state.h). */
#include "json_state.h"

#include <string.h>

#include "json.h"

#define STATE_MAX_DEPTH 64

int sl_state_parse(sl_arena *a, const char *json, size_t len, const char *what, sl_value *out, sl_error *err)
{
    sl_decode_error derr = {0};
    if (sl_json_decode(a, json, len, STATE_MAX_DEPTH, false, out, &derr) < 0)
        return sl_errorf(err, "%s is not valid JSON (%s at byte %zu)", what, derr.msg, derr.offset);
    return 0;
}

int sl_state_read(const char *state, size_t len, int (*read)(void *ctx, const sl_value *doc, sl_error *err),
                  void *ctx, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value doc;
    int rc = sl_state_parse(&a, state, len, "the saved state", &doc, err);
    if (rc == 0) rc = read(ctx, &doc, err);
    sl_arena_free(&a);
    return rc;
}

const sl_value *sl_state_get(const sl_value *map, const char *key)
{
    if (!map || map->type != SL_MAP) return NULL;
    return sl_map_get(map, key, strlen(key));
}

bool sl_state_uint(const sl_value *map, const char *key, uint64_t *out)
{
    const sl_value *v = sl_state_get(map, key);
    if (!v) return false;
    if (v->type == SL_INT && v->as.i >= 0) *out = (uint64_t)v->as.i;
    else if (v->type == SL_UINT) *out = v->as.u;
    else return false;
    return true;
}

const char *sl_state_string(sl_arena *a, const sl_value *map, const char *key)
{
    const sl_value *v = sl_state_get(map, key);
    if (!v || v->type != SL_STRING) return NULL;
    return sl_arena_strndup(a, v->as.s, v->len);
}
