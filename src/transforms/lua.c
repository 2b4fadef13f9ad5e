/* lua.c — the `lua` transform: records processed by user code in LuaJIT.
 *
 * Each worker thread owns one lua_State (worker_init), so scripts run in
 * parallel without locks and their globals are per worker. At create time
 * the code is compiled and run once in a scratch state so that syntax errors,
 * errors in top-level code and a missing `process` function are reported by
 * `sluice check`, not at the first record.
 *
 * Values cross the boundary as follows (documented for users in the type's
 * doc below):
 *   map        table whose metatable remembers the original sl_value map
 *   array      sequence whose metatable marks it as an array, so that an
 *              empty array does not come back as an empty map
 *   null       the sentinel sluice.null (a light userdata)
 *   int        Lua number when |n| <= 2^53, else LuaJIT int64_t cdata
 *   uint       (above INT64_MAX) LuaJIT uint64_t cdata
 *   double     Lua number
 *   string, bytes   Lua string, byte for byte
 *   timestamp  RFC 3339 string
 *
 * The metatable of a converted map or array holds {[1] = pointer to the
 * original sl_value, [2] = generation, [3] = is_array, [4] = record index}.
 * On the way back that pointer gives the original field order (fields kept
 * in place, new keys appended in sorted order so output is deterministic)
 * and lets unchanged leaves reuse the original value: an unchanged string is
 * not copied, an unchanged number keeps its original text ("1.50"), and an
 * unchanged timestamp or bytes value keeps its type. The pointer is only
 * trusted when the generation matches the current process() call, because
 * the batch it points into dies afterwards and a script may keep tables in
 * globals.
 *
 * LuaJIT raises errors by unwinding; all user code runs under lua_pcall. The
 * C side only calls API functions that can fail on out-of-memory, and the
 * panic handler aborts in that case, as arena allocation does.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "../core/util.h"
#include "../runtime/component.h"

#define LUAT_MAX_DEPTH 256
#define LUAT_TCDATA 10                    /* lua_type() of FFI cdata in LuaJIT */
#define LUAT_EXACT 9007199254740992.0     /* 2^53: integers up to here are exact doubles */

/* Metatable slots of converted tables. */
#define MT_ORIG 1
#define MT_GEN 2
#define MT_ARRAY 3
#define MT_RECORD 4

typedef struct luat_config {
    char *code;
    size_t code_len;
    char *chunkname;      /* "@file.lua" or "=<component name>" */
    char *function;
    bool batch_mode;
} luat_config;

typedef struct luat_worker {
    lua_State *L;
    int process_ref, make_int64_ref, make_uint64_ref, classify_ref, array_mt_ref;
    double gen;           /* incremented per process() call */
    char where[128];      /* path to the value a conversion failed on */
    size_t where_len;
    bool where_cut;       /* the path did not fit: where holds its tail */
} luat_worker;

/* Its address is the identity of sluice.null. */
static const char luat_null_token;

/* 64-bit integers as LuaJIT cdata, and back. */
static const char luat_helpers[] =
    "local ffi = require('ffi')\n"
    "local int64, uint64 = ffi.typeof('int64_t'), ffi.typeof('uint64_t')\n"
    "local function make_int64(hi, lo) return int64(hi) * 4294967296LL + lo end\n"
    "local function make_uint64(hi, lo) return uint64(hi) * 4294967296ULL + lo end\n"
    "local function classify(x)\n"
    "  if ffi.istype(int64, x) then return 1, tostring(x) end\n"
    "  if ffi.istype(uint64, x) then return 2, tostring(x) end\n"
    "  return 0, tostring(ffi.typeof(x))\n"
    "end\n"
    "return make_int64, make_uint64, classify\n";

static const char *const luat_modes[] = {"record", "batch", NULL};

static const sl_option luat_options[] = {
    {"source", SL_OPT_STRING, false, NULL,
     "Inline Lua code (use a YAML block scalar, `source: |`). Set either this or `path`.", NULL},
    {"path", SL_OPT_STRING, false, NULL,
     "A file of Lua code, relative to the working directory. Set either this or `source`.", NULL},
    {"mode", SL_OPT_ENUM, false, "record",
     "`record`: the function is called once per record; `batch`: once per batch with a list "
     "of records.", luat_modes},
    {"function", SL_OPT_STRING, false, "process",
     "Name of the global function to call.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

/* ---- the Lua state ---- */

static int luat_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "sluice: unrecoverable Lua error: %s\n", msg ? msg : "(no message)");
    abort();
}

/* sluice.array([t]): marks t (or a new table) as an array, so that it stays
 * an array when empty. The array metatable is the closure's upvalue. */
static int luat_array(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setmetatable(L, 1);
    return 1;
}

static const char *luat_message(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    return msg ? msg : "(the error value is not a string)";
}

/* Opens a state with the standard libraries, `sluice` and the helpers, runs
 * the user's code and finds the function. Returns 0, or -1 with err (and no
 * state left open). */
static int luat_open(const luat_config *cfg, luat_worker *w, sl_error *err) {
    lua_State *L = luaL_newstate();
    if (!L) return sl_errorf(err, "cannot create a Lua state (out of memory)");
    lua_atpanic(L, luat_panic);
    luaL_openlibs(L);
    w->L = L;

    lua_createtable(L, 3, 0);                 /* the array marker metatable */
    lua_pushboolean(L, 1);
    lua_rawseti(L, -2, MT_ARRAY);
    lua_pushvalue(L, -1);
    w->array_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 2);                 /* the sluice table */
    lua_pushlightuserdata(L, (void *)&luat_null_token);
    lua_setfield(L, -2, "null");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, luat_array, 1);
    lua_setfield(L, -2, "array");
    lua_setglobal(L, "sluice");
    lua_pop(L, 1);

    if (luaL_loadbuffer(L, luat_helpers, sizeof luat_helpers - 1, "=sluice") != 0 ||
        lua_pcall(L, 0, 3, 0) != 0) {
        sl_errorf(err, "internal error setting up Lua: %s", luat_message(L));
        goto fail;
    }
    w->classify_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    w->make_uint64_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    w->make_int64_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    if (luaL_loadbuffer(L, cfg->code, cfg->code_len, cfg->chunkname) != 0) {
        sl_errorf(err, "the Lua code does not compile: %s", luat_message(L));
        goto fail;
    }
    if (lua_pcall(L, 0, 0, 0) != 0) {
        sl_errorf(err, "the Lua code failed while loading: %s", luat_message(L));
        goto fail;
    }
    lua_getfield(L, LUA_GLOBALSINDEX, cfg->function);
    if (!lua_isfunction(L, -1)) {
        sl_errorf(err, "the Lua code does not define a global function '%s' (a function declared "
                       "`local` is not visible)", cfg->function);
        goto fail;
    }
    w->process_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;

fail:
    lua_close(L);
    w->L = NULL;
    return -1;
}

/* ---- sl_value -> Lua ---- */

static void push_metatable(luat_worker *w, const sl_value *orig, bool is_array, size_t record) {
    lua_State *L = w->L;
    lua_createtable(L, record ? 4 : 3, 0);
    lua_pushlightuserdata(L, (void *)orig);
    lua_rawseti(L, -2, MT_ORIG);
    lua_pushnumber(L, w->gen);
    lua_rawseti(L, -2, MT_GEN);
    lua_pushboolean(L, is_array);
    lua_rawseti(L, -2, MT_ARRAY);
    if (record) {
        lua_pushnumber(L, (double)record);
        lua_rawseti(L, -2, MT_RECORD);
    }
    lua_setmetatable(L, -2);
}

static void push_int64(luat_worker *w, uint64_t bits, bool is_signed) {
    lua_State *L = w->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, is_signed ? w->make_int64_ref : w->make_uint64_ref);
    if (is_signed)
        lua_pushnumber(L, (double)((int64_t)bits >> 32));
    else
        lua_pushnumber(L, (double)(bits >> 32));
    lua_pushnumber(L, (double)(bits & 0xffffffffu));
    lua_call(L, 2, 1);
}

/* Pushes v. `record` is the 1-based index of the record in a batch-mode call
 * (0 otherwise). Returns 0, or -1 with err when v nests too deeply (nothing
 * is left pushed then). */
static int push_value(luat_worker *w, const sl_value *v, size_t record, int depth, sl_error *err) {
    lua_State *L = w->L;
    if (depth > LUAT_MAX_DEPTH || !lua_checkstack(L, 4))
        return sl_errorf(err, "the record nests deeper than %d levels", LUAT_MAX_DEPTH);
    switch ((sl_type)v->type) {
    case SL_NULL:
        lua_pushlightuserdata(L, (void *)&luat_null_token);
        return 0;
    case SL_BOOL:
        lua_pushboolean(L, v->as.b);
        return 0;
    case SL_INT:
        if (v->as.i >= -(int64_t)LUAT_EXACT && v->as.i <= (int64_t)LUAT_EXACT)
            lua_pushnumber(L, (double)v->as.i);
        else
            push_int64(w, (uint64_t)v->as.i, true);
        return 0;
    case SL_UINT:
        push_int64(w, v->as.u, false);
        return 0;
    case SL_DOUBLE:
        lua_pushnumber(L, v->as.d);
        return 0;
    case SL_STRING:
    case SL_BYTES:
        lua_pushlstring(L, v->as.s, v->len);
        return 0;
    case SL_TIMESTAMP: {
        char ts[40];
        size_t n = sl_format_rfc3339(ts, v->as.i);
        lua_pushlstring(L, ts, n);
        return 0;
    }
    case SL_ARRAY:
        lua_createtable(L, (int)v->len, 0);
        for (uint32_t i = 0; i < v->len; i++) {
            if (push_value(w, &v->as.items[i], 0, depth + 1, err) != 0) {
                lua_pop(L, 1);
                return -1;
            }
            lua_rawseti(L, -2, (int)i + 1);
        }
        push_metatable(w, v, true, record);
        return 0;
    case SL_MAP:
        lua_createtable(L, 0, (int)v->len);
        for (uint32_t i = 0; i < v->len; i++) {
            const sl_field *f = &v->as.fields[i];
            lua_pushlstring(L, f->key, f->key_len);
            if (push_value(w, &f->value, 0, depth + 1, err) != 0) {
                lua_pop(L, 2);
                return -1;
            }
            lua_rawset(L, -3);
        }
        push_metatable(w, v, false, record);
        return 0;
    }
    return sl_errorf(err, "a value of unknown type %d", v->type);
}

/* ---- Lua -> sl_value ---- */

/* Records where in the returned value a conversion failed, innermost first:
 * each level prepends its step (".key" or "[i]"). */
static void where_prepend(luat_worker *w, const char *step, size_t len) {
    if (w->where_cut || w->where_len + len >= sizeof w->where) {
        w->where_cut = true;
        return;
    }
    memmove(w->where + len, w->where, w->where_len);
    memcpy(w->where, step, len);
    w->where_len += len;
    w->where[w->where_len] = 0;
}

static void where_key(luat_worker *w, const char *key, size_t len) {
    char step[72];
    int n = snprintf(step, sizeof step, ".%.*s", len > 64 ? 64 : (int)len, key);
    where_prepend(w, step, (size_t)n);
}

static void where_index(luat_worker *w, size_t i) {
    char step[32];
    int n = snprintf(step, sizeof step, "[%zu]", i);
    where_prepend(w, step, (size_t)n);
}

typedef struct table_info {
    const sl_value *orig;   /* the value it was converted from, when still valid */
    bool marked;            /* the metatable says whether it is an array */
    bool is_array;
    size_t record;          /* batch mode: 1-based index of the input record */
} table_info;

static void get_table_info(luat_worker *w, int idx, table_info *ti) {
    lua_State *L = w->L;
    memset(ti, 0, sizeof *ti);
    if (!lua_getmetatable(L, idx)) return;
    lua_rawgeti(L, -1, MT_ORIG);
    lua_rawgeti(L, -2, MT_GEN);
    lua_rawgeti(L, -3, MT_ARRAY);
    lua_rawgeti(L, -4, MT_RECORD);
    /* stack: mt, orig, gen, is_array, record */
    if (lua_type(L, -2) == LUA_TBOOLEAN) {
        ti->marked = true;
        ti->is_array = lua_toboolean(L, -2);
    }
    if (lua_type(L, -4) == LUA_TLIGHTUSERDATA && lua_type(L, -3) == LUA_TNUMBER &&
        lua_tonumber(L, -3) == w->gen) {
        ti->orig = lua_touserdata(L, -4);
        if (lua_type(L, -1) == LUA_TNUMBER) ti->record = (size_t)lua_tonumber(L, -1);
    }
    lua_pop(L, 5);
}

/* True when the table's keys are exactly 1..n. */
static bool is_sequence(lua_State *L, int idx, size_t n) {
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
    }
    if (count != n) return false;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (int)i);
        bool present = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!present) return false;
    }
    return true;
}

static int to_value(luat_worker *w, sl_arena *a, int idx, const sl_value *orig, int depth,
                    sl_value *out, sl_error *err);

static int array_from_table(luat_worker *w, sl_arena *a, int idx, const sl_value *orig, size_t n,
                            int depth, sl_value *out, sl_error *err) {
    lua_State *L = w->L;
    if (orig && orig->type != SL_ARRAY) orig = NULL;
    sl_value arr = sl_array_new(a, n);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (int)i + 1);
        const sl_value *item_orig = orig && i < orig->len ? &orig->as.items[i] : NULL;
        sl_value item;
        if (to_value(w, a, lua_gettop(L), item_orig, depth + 1, &item, err) != 0) {
            lua_pop(L, 1);
            where_index(w, i);
            return -1;
        }
        lua_pop(L, 1);
        sl_array_push(a, &arr, item);
    }
    *out = arr;
    return 0;
}

static int compare_fields(const void *pa, const void *pb) {
    const sl_field *x = pa, *y = pb;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* A table becomes a map: the original's fields that are still there, in
 * their order, then new keys sorted bytewise. */
static int map_from_table(luat_worker *w, sl_arena *a, int idx, const sl_value *orig, int depth,
                          sl_value *out, sl_error *err) {
    lua_State *L = w->L;
    if (orig && orig->type != SL_MAP) orig = NULL;
    uint32_t n_orig = orig ? orig->len : 0;
    sl_value *kept = n_orig ? sl_arena_alloc(a, n_orig * sizeof *kept) : NULL;
    bool *present = n_orig ? sl_arena_calloc(a, n_orig) : NULL;
    sl_field *added = NULL;
    size_t n_added = 0, cap_added = 0, n_present = 0;

    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            const char *type = luaL_typename(L, -2);
            lua_pop(L, 2);
            if (lua_objlen(L, idx) > 0)
                return sl_errorf(err, "a table mixes list items and named fields");
            return sl_errorf(err, "a record's keys must be strings, found a %s key", type);
        }
        size_t klen;
        const char *key = lua_tolstring(L, -2, &klen);
        uint32_t slot = 0;
        while (slot < n_orig && !(orig->as.fields[slot].key_len == klen &&
                                  memcmp(orig->as.fields[slot].key, key, klen) == 0))
            slot++;
        sl_value v;
        if (to_value(w, a, lua_gettop(L), slot < n_orig ? &orig->as.fields[slot].value : NULL,
                     depth + 1, &v, err) != 0) {
            where_key(w, key, klen);
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
        if (slot < n_orig) {
            kept[slot] = v;
            present[slot] = true;
            n_present++;
            continue;
        }
        if (!sl_utf8_valid(key, klen)) {
            lua_pop(L, 1);
            return sl_errorf(err, "a record key is not valid UTF-8");
        }
        if (n_added == cap_added) {
            size_t cap = cap_added ? cap_added * 2 : 8;
            added = sl_arena_realloc(a, added, cap_added * sizeof *added, cap * sizeof *added);
            cap_added = cap;
        }
        added[n_added].key = sl_arena_strndup(a, key, klen);
        added[n_added].key_len = (uint32_t)klen;
        added[n_added].value = v;
        n_added++;
    }
    if (n_added > 1) qsort(added, n_added, sizeof *added, compare_fields);

    sl_value map = sl_map_new(a, n_present + n_added);
    for (uint32_t i = 0; i < n_orig; i++) {
        if (present[i]) sl_map_append(a, &map, orig->as.fields[i].key, orig->as.fields[i].key_len, kept[i]);
    }
    for (size_t i = 0; i < n_added; i++) sl_map_append(a, &map, added[i].key, added[i].key_len, added[i].value);
    *out = map;
    return 0;
}

static int table_to_value(luat_worker *w, sl_arena *a, int idx, int depth, sl_value *out, sl_error *err) {
    lua_State *L = w->L;
    if (depth > LUAT_MAX_DEPTH || !lua_checkstack(L, 8))
        return sl_errorf(err, "the value nests deeper than %d levels (does a table contain itself?)",
                         LUAT_MAX_DEPTH);
    table_info ti;
    get_table_info(w, idx, &ti);
    size_t n = lua_objlen(L, idx);
    bool array = ti.marked ? ti.is_array : (n > 0 && is_sequence(L, idx, n));
    if (!array) return map_from_table(w, a, idx, ti.orig, depth, out, err);
    if (ti.marked && !is_sequence(L, idx, n))
        return sl_errorf(err, "an array must have exactly the keys 1..n (no holes, no named fields)");
    return array_from_table(w, a, idx, ti.orig, n, depth, out, err);
}

static void number_value(const sl_value *orig, double d, sl_value *out) {
    if (orig && orig->type == SL_DOUBLE && orig->as.d == d) {
        *out = *orig;
        return;
    }
    if (orig && orig->type == SL_INT && orig->as.i >= -(int64_t)LUAT_EXACT &&
        orig->as.i <= (int64_t)LUAT_EXACT && (double)orig->as.i == d) {
        *out = *orig;
        return;
    }
    if (d == trunc(d) && fabs(d) <= LUAT_EXACT)
        *out = sl_int((int64_t)d);
    else
        *out = sl_double(d);
}

static int string_value(sl_arena *a, const sl_value *orig, const char *s, size_t len, sl_value *out,
                        sl_error *err) {
    if (orig && (orig->type == SL_STRING || orig->type == SL_BYTES) && orig->len == len &&
        memcmp(orig->as.s, s, len) == 0) {
        *out = *orig;
        return 0;
    }
    if (orig && orig->type == SL_TIMESTAMP) {
        char ts[40];
        size_t n = sl_format_rfc3339(ts, orig->as.i);
        if (n == len && memcmp(ts, s, n) == 0) {
            *out = *orig;
            return 0;
        }
    }
    if (!sl_utf8_valid(s, len))
        return sl_errorf(err, "a string is not valid UTF-8");
    *out = sl_string_copy(a, s, len);
    return 0;
}

/* int64_t / uint64_t cdata become exact integers; other cdata are errors. */
static int cdata_value(luat_worker *w, int idx, sl_value *out, sl_error *err) {
    lua_State *L = w->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->classify_ref);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 2, 0) != 0) {
        sl_errorf(err, "cannot inspect a cdata value: %s", luat_message(L));
        lua_pop(L, 1);
        return -1;
    }
    int kind = (int)lua_tonumber(L, -2);
    const char *text = lua_tostring(L, -1);
    int rc = 0;
    errno = 0;
    if (kind == 1) {
        *out = sl_int(strtoll(text, NULL, 10));
    } else if (kind == 2) {
        *out = sl_uint(strtoull(text, NULL, 10));
    } else {
        rc = sl_errorf(err, "cannot convert a %s to a value (only int64_t and uint64_t cdata are "
                            "supported)", text ? text : "cdata");
    }
    if (rc == 0 && errno != 0) rc = sl_errorf(err, "cannot read the 64-bit integer %s", text);
    lua_pop(L, 2);
    return rc;
}

/* Converts the Lua value at absolute index idx. orig is the value it was
 * converted from (for leaves; tables carry their own in the metatable). */
static int to_value(luat_worker *w, sl_arena *a, int idx, const sl_value *orig, int depth,
                    sl_value *out, sl_error *err) {
    lua_State *L = w->L;
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        *out = sl_bool(lua_toboolean(L, idx));
        return 0;
    case LUA_TNUMBER:
        number_value(orig, lua_tonumber(L, idx), out);
        return 0;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return string_value(a, orig, s, len, out, err);
    }
    case LUA_TTABLE:
        return table_to_value(w, a, idx, depth, out, err);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == (void *)&luat_null_token) {
            *out = sl_null();
            return 0;
        }
        break;
    case LUAT_TCDATA:
        return cdata_value(w, idx, out, err);
    }
    return sl_errorf(err, "cannot convert a Lua %s to a value", luaL_typename(L, idx));
}

/* ---- process ---- */

/* Converts a returned table that must be a record (a map). */
static int record_from_table(luat_worker *w, sl_arena *a, int idx, sl_value *out, sl_error *err) {
    w->where_len = 0;
    w->where[0] = 0;
    w->where_cut = false;
    if (to_value(w, a, idx, NULL, 0, out, err) != 0) {
        if (w->where_len) sl_error_prefix(err, "at %s%s", w->where_cut ? "..." : "", w->where);
        return -1;
    }
    if (out->type != SL_MAP) return sl_errorf(err, "a list is not a record");
    return 0;
}

/* Is the returned table a list of records (rather than one record)? */
static bool is_list(luat_worker *w, int idx) {
    table_info ti;
    get_table_info(w, idx, &ti);
    if (ti.marked) return ti.is_array;
    size_t n = lua_objlen(w->L, idx);
    return n > 0 && is_sequence(w->L, idx, n);
}

/* Converts a returned list (at idx) into values[], sources[] (the input
 * record each came from, 0 when new). Returns the count, or -1 with err. */
static long list_to_records(luat_worker *w, sl_arena *a, int idx, sl_value **values, size_t **sources,
                            sl_error *err) {
    lua_State *L = w->L;
    size_t n = lua_objlen(L, idx);
    if (!is_sequence(L, idx, n))
        return sl_errorf(err, "the returned list must have exactly the keys 1..n (no holes)");
    *values = sl_arena_alloc(a, (n ? n : 1) * sizeof **values);
    *sources = sl_arena_alloc(a, (n ? n : 1) * sizeof **sources);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (int)i + 1);
        int item = lua_gettop(L);
        if (!lua_istable(L, item)) {
            sl_errorf(err, "item %zu of the returned list is a %s, not a record table", i + 1,
                      luaL_typename(L, item));
            lua_pop(L, 1);
            return -1;
        }
        table_info ti;
        get_table_info(w, item, &ti);
        (*sources)[i] = ti.record;
        int rc = record_from_table(w, a, item, &(*values)[i], err);
        lua_pop(L, 1);
        if (rc != 0) {
            sl_error_prefix(err, "item %zu of the returned list", i + 1);
            return -1;
        }
    }
    return (long)n;
}

static sl_record *derived_record(sl_batch *b, const sl_record *from, sl_value v) {
    sl_record *r = sl_arena_alloc(&b->arena, sizeof *r);
    *r = *from;
    *sl_record_mut(r) = v;
    return r;
}

static void process_record(const luat_config *cfg, luat_worker *w, sl_batch *b, sl_record *r,
                           sl_emit *out) {
    lua_State *L = w->L;
    int base = lua_gettop(L);
    sl_error err;
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->process_ref);
    if (push_value(w, sl_record_value(r), 0, 0, &err) != 0) {
        sl_emit_dlq(out, r, "lua_error", "%s", err.msg);
        lua_settop(L, base);
        return;
    }
    if (lua_pcall(L, 1, 1, 0) != 0) {
        sl_emit_dlq(out, r, "lua_error", "%s", luat_message(L));
        lua_settop(L, base);
        return;
    }

    int res = base + 1;
    sl_value one, *values = &one;
    size_t *sources;
    long count;
    if (lua_isnil(L, res)) {
        count = 0;
    } else if (!lua_istable(L, res)) {
        count = sl_errorf(&err, "expected a record table, a list of records or nil, got a %s",
                          luaL_typename(L, res));
    } else if (is_list(w, res)) {
        count = list_to_records(w, &b->arena, res, &values, &sources, &err);
    } else {
        count = record_from_table(w, &b->arena, res, &one, &err) == 0 ? 1 : -1;
    }
    lua_settop(L, base);
    if (count < 0) {
        sl_emit_dlq(out, r, "lua_error", "%s() returned a bad value: %s", cfg->function, err.msg);
        return;
    }
    if (count == 0) return;
    *sl_record_mut(r) = values[0];
    sl_emit_record(out, 0, r);
    for (long i = 1; i < count; i++) sl_emit_record(out, 0, derived_record(b, r, values[i]));
}

static void process_batch(const luat_config *cfg, luat_worker *w, sl_batch *b, sl_record **recs,
                          size_t n, sl_emit *out) {
    lua_State *L = w->L;
    int base = lua_gettop(L);
    sl_error err;
    /* in_call[i]: recs[i] was passed to the function (not sent to the DLQ). */
    bool *in_call = sl_arena_calloc(&b->arena, n ? n : 1);
    sl_record *first = NULL;

    lua_rawgeti(L, LUA_REGISTRYINDEX, w->process_ref);
    lua_createtable(L, (int)n, 0);
    int pushed = 0;
    for (size_t i = 0; i < n; i++) {
        if (push_value(w, sl_record_value(recs[i]), i + 1, 0, &err) != 0) {
            sl_emit_dlq(out, recs[i], "lua_error", "%s", err.msg);
            continue;
        }
        lua_rawseti(L, -2, ++pushed);
        in_call[i] = true;
        if (!first) first = recs[i];
    }
    if (!first) {
        lua_settop(L, base);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->array_mt_ref);
    lua_setmetatable(L, -2);

    const char *failure = NULL;
    long count = 0;
    sl_value *values = NULL;
    size_t *sources = NULL;
    if (lua_pcall(L, 1, 1, 0) != 0) {
        failure = luat_message(L);
    } else if (!lua_isnil(L, base + 1)) {
        if (!lua_istable(L, base + 1))
            count = sl_errorf(&err, "expected a list of records or nil, got a %s",
                              luaL_typename(L, base + 1));
        else
            count = list_to_records(w, &b->arena, base + 1, &values, &sources, &err);
        if (count < 0) {
            sl_error_prefix(&err, "%s() returned a bad value", cfg->function);
            failure = err.msg;
        }
    }
    if (failure) {
        for (size_t i = 0; i < n; i++)
            if (in_call[i]) sl_emit_dlq(out, recs[i], "lua_error", "%s", failure);
        lua_settop(L, base);
        return;
    }
    lua_settop(L, base);
    for (long i = 0; i < count; i++) {
        const sl_record *from = sources[i] >= 1 && sources[i] <= n ? recs[sources[i] - 1] : first;
        sl_emit_record(out, 0, derived_record(b, from, values[i]));
    }
}

static void luat_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                         sl_emit *out) {
    const luat_config *cfg = c->impl;
    luat_worker *w = wstate;
    w->gen++;
    if (cfg->batch_mode) {
        process_batch(cfg, w, b, recs, n, out);
        return;
    }
    for (size_t i = 0; i < n; i++) process_record(cfg, w, b, recs[i], out);
}

/* ---- lifecycle ---- */

static void *luat_worker_init(sl_component *c, sl_error *err) {
    luat_worker *w = calloc(1, sizeof *w);
    if (!w) {
        sl_errorf(err, "out of memory");
        return NULL;
    }
    if (luat_open(c->impl, w, err) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

static void luat_worker_free(sl_component *c, void *wstate) {
    luat_worker *w = wstate;
    lua_close(w->L);
    free(w);
}

static void luat_destroy(sl_component *c) {
    luat_config *cfg = c->impl;
    if (!cfg) return;
    free(cfg->code);
    free(cfg->chunkname);
    free(cfg->function);
    free(cfg);
    c->impl = NULL;
}

/* Reads a whole file into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t *len, sl_error *err) {
    sl_buf b;
    sl_buf_init(&b);
    if (sl_read_file(path, &b) < 0) {
        sl_errorf(err, "cannot open Lua file '%s': %s", path, strerror(errno));
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_steal(&b, len);
}

static char *checked_strdup(const char *s) {
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    return d;
}

static int luat_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    bool has_source = sl_opts_has(opts, "source"), has_path = sl_opts_has(opts, "path");
    if (has_source == has_path) {
        sl_diag_error(diag, has_path ? sl_opts_pos(opts, "path") : c->pos,
                      has_path ? "set either source or path, not both"
                               : "set source (inline Lua code) or path (a .lua file)");
        return -1;
    }
    const char *where = has_source ? "source" : "path";

    luat_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    c->impl = cfg;
    cfg->function = checked_strdup(sl_opts_string(opts, "function"));
    cfg->batch_mode = strcmp(sl_opts_enum(opts, "mode"), "batch") == 0;

    sl_error err;
    sl_buf name;
    sl_buf_init(&name);
    if (has_source) {
        cfg->code = checked_strdup(sl_opts_string(opts, "source"));
        cfg->code_len = strlen(cfg->code);
        sl_buf_printf(&name, "=%s", c->name);
    } else {
        const char *path = sl_opts_string(opts, "path");
        cfg->code = read_file(path, &cfg->code_len, &err);
        sl_buf_printf(&name, "@%s", path);
    }
    sl_buf_putc(&name, 0);
    size_t name_len;
    cfg->chunkname = sl_buf_steal(&name, &name_len);
    if (!cfg->code) {
        sl_diag_error(diag, sl_opts_pos(opts, where), "%s", err.msg);
        luat_destroy(c);
        return -1;
    }

    luat_worker scratch;
    memset(&scratch, 0, sizeof scratch);
    if (luat_open(cfg, &scratch, &err) != 0) {
        sl_diag_error(diag, sl_opts_pos(opts, where), "%s", err.msg);
        luat_destroy(c);
        return -1;
    }
    lua_close(scratch.L);
    return 0;
}

const sl_component_type sl_transform_lua_type = {
    .name = "lua",
    .kind = SL_TRANSFORM,
    .summary = "Transform records with a Lua function (LuaJIT)",
    .doc =
        "Runs a Lua function (LuaJIT 2.1) on the records. The code comes from `source` "
        "(inline) or `path` (a file); it is compiled and its top-level code run when the "
        "pipeline is checked, so syntax errors and a missing function are reported by "
        "`sluice check` with the Lua message and line. Each worker thread then loads the "
        "code into its own Lua state: top-level code runs once per worker, and globals "
        "(counters, caches) are per worker, not shared and not checkpointed. The standard "
        "libraries, `ffi` included, are available; the code is trusted like the rest of the "
        "configuration.\n\n"
        "In `record` mode, `process(record)` is called for each record and returns the "
        "record to pass on (the same table modified, or a new one), `nil` to drop it, or a "
        "list of records to emit several. In `batch` mode, `process(records)` receives a "
        "list of the batch's records and returns a list of records (or `nil` for none); "
        "a returned record that is one of the input tables keeps that record's source "
        "position, a new table takes the position of the first record of the batch.\n\n"
        "Values: objects are tables and arrays are sequences; `sluice.array(t)` marks a "
        "new table as an array so that it stays an array when empty (an unmarked empty "
        "table is an empty object). JSON `null` is `sluice.null` (compare with "
        "`v == sluice.null`; assigning `nil` removes the field). Integers up to 2^53 in "
        "magnitude are Lua numbers; larger ones are LuaJIT 64-bit integers (`int64_t` / "
        "`uint64_t` cdata, e.g. `123LL`), which stay exact, so no integer ever loses "
        "precision on the way through. A Lua number that comes back whole (and within "
        "2^53) is written as an integer, otherwise as a float. Strings are byte-exact and "
        "must be valid UTF-8 when returned; timestamps are passed as RFC 3339 strings. "
        "Unchanged values come back exactly as they were (same number text, same type). "
        "Fields keep their order; new fields are appended in sorted key order, so output "
        "is deterministic. Keys of a record must be strings.\n\n"
        "When the function raises an error, or returns something that is not a record, a "
        "list of records or nil, the record (in batch mode: every record of the call) goes "
        "to the DLQ with reason `lua_error` and the Lua message with its line. There is no "
        "timeout: a script that loops forever stalls its worker, and memory used by Lua is "
        "not counted in `memory_limit`.",
    .example =
        "transforms:\n"
        "  enrich:\n"
        "    type: lua\n"
        "    inputs: [events]\n"
        "    source: |\n"
        "      function process(r)\n"
        "        if r.level == \"debug\" then return nil end\n"
        "        r.slow = type(r.latency_ms) == \"number\" and r.latency_ms > 500\n"
        "        return r\n"
        "      end\n",
    .options = luat_options,
    .create = luat_create,
    .destroy = luat_destroy,
    .worker_init = luat_worker_init,
    .worker_free = luat_worker_free,
    .process = luat_process,
};
