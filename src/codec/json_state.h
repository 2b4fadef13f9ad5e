/* json_state.h — reading back the small JSON documents sluice writes for
 * itself (checkpoint state): parse into an arena, then typed lookups that
 * treat a missing or mistyped field as "absent", so each reader reports one
 * clear error instead of crashing on a damaged or foreign document.
 */
#ifndef SL_JSON_STATE_H
#define SL_JSON_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/arena.h"
#include "../core/error.h"
#include "../core/value.h"

/* Parses one JSON value of any type. Returns 0, or -1 with err naming `what`. */
int sl_state_parse(sl_arena *a, const char *json, size_t len, const char *what, sl_value *out, sl_error *err);

/* Parses state (a component's checkpoint state) into a scratch arena and
 * hands it to read(ctx, doc, err); returns what read returns, or -1 with err
 * when state is not JSON. For restore hooks that only need the tree. */
int sl_state_read(const char *state, size_t len, int (*read)(void *ctx, const sl_value *doc, sl_error *err),
                  void *ctx, sl_error *err);

/* map[key] when map is an object holding key, else NULL. */
const sl_value *sl_state_get(const sl_value *map, const char *key);
/* map[key] as a non-negative integer; false when absent or not one. */
bool sl_state_uint(const sl_value *map, const char *key, uint64_t *out);
/* map[key] as a NUL-terminated copy in the arena, or NULL. */
const char *sl_state_string(sl_arena *a, const sl_value *map, const char *key);

#endif
