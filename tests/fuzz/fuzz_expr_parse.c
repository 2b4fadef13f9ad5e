/* fuzz_expr_parse.c — compiles arbitrary bytes as an expression and, when
 * they compile, evaluates them against a small fixed record; also parses
 * them as a field path and reads, writes and deletes through it on a copy of
 * the record. Any crash, leak or sanitizer report is a bug: bad input must
 * only ever produce a diag entry or an evaluation error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"

static sl_arena record_arena;
static sl_value record;

/* {"s":"Hello","n":3,"d":0.5,"b":true,"z":null,"a":[1,"x",null],"m":{"k":"v","x y":[2]}} */
static void build_record(void)
{
    sl_arena *a = &record_arena;
    sl_arena_init(a, 1024);
    record = sl_map_new(a, 8);
    sl_map_set(a, &record, "s", 1, sl_cstring("Hello"));
    sl_map_set(a, &record, "n", 1, sl_int(3));
    sl_map_set(a, &record, "d", 1, sl_double(0.5));
    sl_map_set(a, &record, "b", 1, sl_bool(true));
    sl_map_set(a, &record, "z", 1, sl_null());
    sl_value arr = sl_array_new(a, 3);
    sl_array_push(a, &arr, sl_int(1));
    sl_array_push(a, &arr, sl_cstring("x"));
    sl_array_push(a, &arr, sl_null());
    sl_map_set(a, &record, "a", 1, arr);
    sl_value m = sl_map_new(a, 2);
    sl_map_set(a, &m, "k", 1, sl_cstring("v"));
    sl_value two = sl_array_new(a, 1);
    sl_array_push(a, &two, sl_int(2));
    sl_map_set(a, &m, "x y", 3, two);
    sl_map_set(a, &record, "m", 1, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!record.type) build_record();
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = '\0';

    sl_diag diag;
    sl_diag_init(&diag);
    sl_arena arena;
    sl_arena_init(&arena, 1024);
    sl_pos at = { NULL, 1, 7 };

    sl_expr *e = sl_expr_compile(src, at, &diag);
    if (e) {
        sl_value out;
        sl_error err;
        sl_expr_eval(e, &record, &arena, &out, &err);
        sl_expr_test(e, &record, &arena, &err);
        sl_expr_free(e);
    }

    sl_path *p = sl_path_parse(src, at, &diag);
    if (p) {
        sl_value copy = sl_value_clone(&arena, &record);
        sl_error err;
        sl_path_get(p, &copy);
        sl_path_set(p, &copy, &arena, sl_int(1), &err);
        sl_path_delete(p, &copy);
        sl_path_free(p);
    }

    sl_arena_free(&arena);
    sl_diag_free(&diag);
    free(src);
    return 0;
}
