/* remap.c — the `remap` transform: renames, computes, casts, deletes and
 * selects fields.
 *
 * The five operations always run in one fixed order — rename, set, cast,
 * delete, keep — whatever order the options are written in, so a config
 * reads the same way the engine runs it. Within one operation, entries run in
 * the order written, and each step sees the record as the previous steps
 * left it (a `set` expression can use a field renamed just before).
 *
 * Field order: records keep their field order. A rename between two
 * top-level names keeps the field's position (sl_map_rename); a rename
 * involving nested paths moves the value (get, delete, set) and so appends it
 * to its new parent. New fields from `set` are appended.
 *
 * `keep` works on the record in place: every kept path is looked up once,
 * giving pointers into the record, and then each map is compacted to the
 * fields that either are a kept value or contain one. Comparing addresses
 * needs no knowledge of the path syntax, and the record's own field order is
 * what remains.
 *
 * Values computed by `set` that are maps or arrays are cloned before being
 * stored: an expression such as `.user` returns the existing map, and two
 * fields sharing one field array would see each other's later edits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/util.h"
#include "../expr/expr.h"
#include "../runtime/component.h"

typedef enum { CAST_INT, CAST_FLOAT, CAST_STRING, CAST_BOOL, CAST_TIMESTAMP } cast_kind;

static const char *const cast_names[] = {"int", "float", "string", "bool", "timestamp"};
#define N_CAST_KINDS (sizeof cast_names / sizeof cast_names[0])

typedef struct remap_rename {
    sl_path *from, *to;
    /* Set when both paths are plain top-level names: renamed in place. */
    char *from_key, *to_key;
    size_t from_len, to_len;
} remap_rename;

typedef struct remap_set {
    sl_path *path;
    sl_expr *expr;
} remap_set;

typedef struct remap_cast {
    sl_path *path;
    cast_kind kind;
} remap_cast;

typedef struct remap_state {
    remap_rename *renames;
    size_t n_renames;
    remap_set *sets;
    size_t n_sets;
    remap_cast *casts;
    size_t n_casts;
    sl_path **deletes;
    size_t n_deletes;
    sl_path **keeps;
    size_t n_keeps;
} remap_state;

/* Per-worker scratch space for formatting numbers and JSON text. */
typedef struct remap_worker {
    sl_buf scratch;
} remap_worker;

static const sl_option remap_options[] = {
    {"rename", SL_OPT_ANY, false, NULL,
     "A mapping of field path to new field path, e.g. `{msg: message, user.ip: client_ip}`.", NULL},
    {"set", SL_OPT_ANY, false, NULL,
     "A mapping of field path to expression; the field is set to the expression's value. "
     "String literals need quotes inside the YAML string: `{env: '\"prod\"'}`.", NULL},
    {"cast", SL_OPT_ANY, false, NULL,
     "A mapping of field path to type: `int`, `float`, `string`, `bool` or `timestamp`.", NULL},
    {"delete", SL_OPT_LIST, false, NULL, "Field paths to remove.", NULL},
    {"keep", SL_OPT_LIST, false, NULL,
     "Field paths to keep; every other field is removed. A nested path keeps its parents "
     "(with only the kept children).", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

/* ---- create / destroy ---- */

static void remap_destroy(sl_component *c) {
    remap_state *s = c->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_renames; i++) {
        sl_path_free(s->renames[i].from);
        sl_path_free(s->renames[i].to);
        free(s->renames[i].from_key);
        free(s->renames[i].to_key);
    }
    for (size_t i = 0; i < s->n_sets; i++) {
        sl_path_free(s->sets[i].path);
        sl_expr_free(s->sets[i].expr);
    }
    for (size_t i = 0; i < s->n_casts; i++) sl_path_free(s->casts[i].path);
    for (size_t i = 0; i < s->n_deletes; i++) sl_path_free(s->deletes[i]);
    for (size_t i = 0; i < s->n_keeps; i++) sl_path_free(s->keeps[i]);
    free(s->renames);
    free(s->sets);
    free(s->casts);
    free(s->deletes);
    free(s->keeps);
    free(s);
    c->impl = NULL;
}

static void *remap_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    return p;
}

/* "name" or ".name" with an identifier: the path is one top-level key. */
static char *plain_top_level_key(const char *src) {
    if (*src == '.') src++;
    if (!((*src >= 'a' && *src <= 'z') || (*src >= 'A' && *src <= 'Z') || *src == '_')) return NULL;
    for (const char *p = src; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return NULL;
    }
    char *key = strdup(src);
    if (!key) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    return key;
}

/* A path that names a field (not the record itself). */
static sl_path *field_path(const sl_node *n, const char *what, sl_diag *diag) {
    if (n->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, n->pos, "%s must be a field path, not %s", what, sl_node_kind_name(n->kind));
        return NULL;
    }
    if (strcmp(n->text, ".") == 0) {
        sl_diag_error(diag, n->pos, "%s must name a field, not the whole record ('.')", what);
        return NULL;
    }
    return sl_path_parse(n->text, n->pos, diag);
}

/* The mapping option `name`, or NULL (reporting a wrong shape). */
static const sl_node *mapping_option(const sl_opts *opts, const char *name, const char *shape,
                                     sl_diag *diag) {
    const sl_node *n = sl_opts_node(opts, name);
    if (!n) return NULL;
    if (n->kind != SL_NODE_MAP) {
        sl_diag_error(diag, n->pos, "%s must be a mapping of %s, not %s", name, shape,
                      sl_node_kind_name(n->kind));
        return NULL;
    }
    return n;
}

static void create_renames(remap_state *s, const sl_opts *opts, sl_diag *diag) {
    const sl_node *m = mapping_option(opts, "rename", "field path to new field path", diag);
    if (!m) return;
    s->renames = remap_calloc(m->n_pairs, sizeof *s->renames);
    for (size_t i = 0; i < m->n_pairs; i++) {
        remap_rename *rn = &s->renames[s->n_renames];
        rn->from = field_path(m->pairs[i].key, "a renamed field", diag);
        rn->to = field_path(m->pairs[i].value, "the new name of a field", diag);
        if (!rn->from || !rn->to) {
            sl_path_free(rn->from);
            sl_path_free(rn->to);
            continue;
        }
        rn->from_key = plain_top_level_key(m->pairs[i].key->text);
        rn->to_key = plain_top_level_key(m->pairs[i].value->text);
        if (rn->from_key && rn->to_key) {
            rn->from_len = strlen(rn->from_key);
            rn->to_len = strlen(rn->to_key);
        } else {
            free(rn->from_key);
            free(rn->to_key);
            rn->from_key = rn->to_key = NULL;
        }
        s->n_renames++;
    }
}

static void create_sets(remap_state *s, const sl_opts *opts, sl_diag *diag) {
    const sl_node *m = mapping_option(opts, "set", "field path to expression", diag);
    if (!m) return;
    s->sets = remap_calloc(m->n_pairs, sizeof *s->sets);
    for (size_t i = 0; i < m->n_pairs; i++) {
        const sl_node *value = m->pairs[i].value;
        sl_path *path = field_path(m->pairs[i].key, "a field to set", diag);
        sl_expr *expr = NULL;
        if (value->kind != SL_NODE_SCALAR)
            sl_diag_error(diag, value->pos, "the value of set.%s must be an expression, not %s",
                          m->pairs[i].key->text, sl_node_kind_name(value->kind));
        else
            expr = sl_expr_compile(value->text, value->pos, diag);
        if (!path || !expr) {
            sl_path_free(path);
            sl_expr_free(expr);
            continue;
        }
        s->sets[s->n_sets].path = path;
        s->sets[s->n_sets].expr = expr;
        s->n_sets++;
    }
}

static void create_casts(remap_state *s, const sl_opts *opts, sl_diag *diag) {
    const sl_node *m = mapping_option(opts, "cast", "field path to type", diag);
    if (!m) return;
    s->casts = remap_calloc(m->n_pairs, sizeof *s->casts);
    for (size_t i = 0; i < m->n_pairs; i++) {
        const sl_node *type = m->pairs[i].value;
        sl_path *path = field_path(m->pairs[i].key, "a field to cast", diag);
        size_t k = N_CAST_KINDS;
        if (type->kind == SL_NODE_SCALAR) {
            for (k = 0; k < N_CAST_KINDS; k++)
                if (strcmp(type->text, cast_names[k]) == 0) break;
        }
        if (k == N_CAST_KINDS) {
            const char *hint = type->kind == SL_NODE_SCALAR
                                   ? sl_did_you_mean(type->text, cast_names, N_CAST_KINDS) : NULL;
            sl_diag_error(diag, type->pos,
                          "cannot cast to '%s': the types are int, float, string, bool and timestamp%s%s%s",
                          type->kind == SL_NODE_SCALAR ? type->text : sl_node_kind_name(type->kind),
                          hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
        if (!path || k == N_CAST_KINDS) {
            sl_path_free(path);
            continue;
        }
        s->casts[s->n_casts].path = path;
        s->casts[s->n_casts].kind = (cast_kind)k;
        s->n_casts++;
    }
}

/* delete/keep: a list of paths, each reported at its own position. */
static sl_path **create_path_list(const sl_opts *opts, const char *name, bool allow_root,
                                  size_t *count, sl_diag *diag) {
    size_t n = sl_opts_list_len(opts, name);
    const sl_node *node = sl_opts_node(opts, name);
    sl_path **paths = remap_calloc(n, sizeof *paths);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *text = sl_opts_list_item(opts, name, i);
        sl_pos pos = node && node->kind == SL_NODE_SEQ && i < node->n_items ? node->items[i]->pos
                                                                             : sl_opts_pos(opts, name);
        if (!allow_root && strcmp(text, ".") == 0) {
            sl_diag_error(diag, pos, "%s must list fields, not the whole record ('.')", name);
            continue;
        }
        sl_path *p = sl_path_parse(text, pos, diag);
        if (p) paths[(*count)++] = p;
    }
    return paths;
}

static int remap_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    static const char *const ops[] = {"rename", "set", "cast", "delete", "keep"};
    bool any = false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) any |= sl_opts_has(opts, ops[i]);
    if (!any) {
        sl_diag_error(diag, c->pos, "remap needs at least one of rename, set, cast, delete or keep");
        return -1;
    }

    remap_state *s = remap_calloc(1, sizeof *s);
    c->impl = s;
    size_t errors_before = diag->errors;
    create_renames(s, opts, diag);
    create_sets(s, opts, diag);
    create_casts(s, opts, diag);
    if (sl_opts_has(opts, "delete"))
        s->deletes = create_path_list(opts, "delete", false, &s->n_deletes, diag);
    if (sl_opts_has(opts, "keep"))
        s->keeps = create_path_list(opts, "keep", true, &s->n_keeps, diag);
    if (diag->errors > errors_before) {
        remap_destroy(c);
        return -1;
    }
    return 0;
}

static void *remap_worker_init(sl_component *c, sl_error *err) {
    remap_worker *w = remap_calloc(1, sizeof *w);
    sl_buf_init(&w->scratch);
    return w;
}

static void remap_worker_free(sl_component *c, void *wstate) {
    remap_worker *w = wstate;
    sl_buf_free(&w->scratch);
    free(w);
}

/* ---- cast ---- */

/* A short description of a value for error messages: "abc" (quoted,
 * truncated) for strings, the type name otherwise. */
static void describe(char out[64], const sl_value *v) {
    bool number = v->type == SL_INT || v->type == SL_UINT || v->type == SL_DOUBLE;
    if (v->type == SL_STRING) {
        int n = v->len > 40 ? 40 : (int)v->len;
        snprintf(out, 64, "\"%.*s%s\"", n, v->as.s, v->len > 40 ? "..." : "");
    } else if (number && v->x.raw && v->raw_len && v->raw_len < 60) {
        snprintf(out, 64, "%.*s", (int)v->raw_len, v->x.raw);
    } else if (v->type == SL_INT) {
        snprintf(out, 64, "%lld", (long long)v->as.i);
    } else if (v->type == SL_UINT) {
        snprintf(out, 64, "%llu", (unsigned long long)v->as.u);
    } else if (v->type == SL_DOUBLE) {
        snprintf(out, 64, "%.17g", v->as.d);
    } else {
        snprintf(out, 64, "a value of type %s", sl_type_name((sl_type)v->type));
    }
}

/* Strict decimal float: all of the text, finite, no surrounding space. */
static bool parse_float(sl_arena *a, const char *s, size_t len, double *out) {
    if (len == 0 || len > 400 || s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r')
        return false;
    char *z = sl_arena_strndup(a, s, len);
    char *end;
    double d = strtod(z, &end);
    if (end != z + len || !isfinite(d)) return false;
    *out = d;
    return true;
}

static int cast_to_int(const sl_value *v, sl_value *out) {
    switch ((sl_type)v->type) {
    case SL_INT:
    case SL_UINT:
        *out = *v;
        return 0;
    case SL_BOOL:
        *out = sl_int(v->as.b);
        return 0;
    case SL_TIMESTAMP:
        *out = sl_int(v->as.i);
        return 0;
    case SL_DOUBLE:
        if (!isfinite(v->as.d) || v->as.d != trunc(v->as.d)) return -1;
        if (v->as.d >= -9223372036854775808.0 && v->as.d < 9223372036854775808.0) {
            *out = sl_int((int64_t)v->as.d);
            return 0;
        }
        if (v->as.d > 0 && v->as.d < 18446744073709551616.0) {
            *out = sl_uint((uint64_t)v->as.d);
            return 0;
        }
        return -1;
    case SL_STRING:
        return sl_parse_integer(v->as.s, v->len, out) == 0 ? 0 : -1;
    default:
        return -1;
    }
}

static int cast_to_float(sl_arena *a, const sl_value *v, sl_value *out) {
    switch ((sl_type)v->type) {
    case SL_DOUBLE:
        *out = *v;
        return 0;
    case SL_INT:
        *out = sl_double((double)v->as.i);
        return 0;
    case SL_UINT:
        *out = sl_double((double)v->as.u);
        return 0;
    case SL_BOOL:
        *out = sl_double(v->as.b ? 1.0 : 0.0);
        return 0;
    case SL_TIMESTAMP:
        *out = sl_double((double)v->as.i / 1e9);
        return 0;
    case SL_STRING: {
        double d;
        if (!parse_float(a, v->as.s, v->len, &d)) return -1;
        *out = sl_double(d);
        return 0;
    }
    default:
        return -1;
    }
}

static int cast_to_string(sl_arena *a, sl_buf *scratch, const sl_value *v, sl_value *out) {
    scratch->len = 0;
    switch ((sl_type)v->type) {
    case SL_STRING:
        *out = *v;
        return 0;
    case SL_BOOL:
        *out = sl_cstring(v->as.b ? "true" : "false");
        return 0;
    case SL_INT:
    case SL_UINT:
    case SL_DOUBLE:
        if (v->x.raw && v->raw_len) {   /* the number exactly as it was written */
            *out = sl_string(v->x.raw, v->raw_len);
            return 0;
        }
        if (v->type == SL_INT)
            sl_buf_printf(scratch, "%lld", (long long)v->as.i);
        else if (v->type == SL_UINT)
            sl_buf_printf(scratch, "%llu", (unsigned long long)v->as.u);
        else if (!sl_json_format_double(scratch, v->as.d))
            sl_buf_puts(scratch, isnan(v->as.d) ? "NaN" : v->as.d > 0 ? "Infinity" : "-Infinity");
        break;
    case SL_TIMESTAMP: {
        char ts[40];
        size_t n = sl_format_rfc3339(ts, v->as.i);
        *out = sl_string_copy(a, ts, n);
        return 0;
    }
    case SL_BYTES:
        sl_base64_encode(scratch, v->as.s, v->len);
        break;
    case SL_ARRAY:
    case SL_MAP:
        sl_json_encode(scratch, v);
        break;
    case SL_NULL:
        *out = *v;
        return 0;
    }
    *out = sl_string_copy(a, scratch->data, scratch->len);
    return 0;
}

static bool ascii_ieq(const char *s, size_t len, const char *lit) {
    if (strlen(lit) != len) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (ch != lit[i]) return false;
    }
    return true;
}

static int cast_to_bool(const sl_value *v, sl_value *out) {
    switch ((sl_type)v->type) {
    case SL_BOOL:
        *out = *v;
        return 0;
    case SL_INT:
        *out = sl_bool(v->as.i != 0);
        return 0;
    case SL_UINT:
        *out = sl_bool(true);   /* SL_UINT only holds values above INT64_MAX */
        return 0;
    case SL_DOUBLE:
        *out = sl_bool(v->as.d != 0);
        return 0;
    case SL_STRING:
        if (ascii_ieq(v->as.s, v->len, "true") || (v->len == 1 && v->as.s[0] == '1')) {
            *out = sl_bool(true);
            return 0;
        }
        if (ascii_ieq(v->as.s, v->len, "false") || (v->len == 1 && v->as.s[0] == '0')) {
            *out = sl_bool(false);
            return 0;
        }
        return -1;
    default:
        return -1;
    }
}

#define NS_PER_SEC 1000000000LL

static int cast_to_timestamp(const sl_value *v, sl_value *out) {
    int64_t ns;
    switch ((sl_type)v->type) {
    case SL_TIMESTAMP:
        *out = *v;
        return 0;
    case SL_STRING:
        if (!sl_parse_rfc3339(v->as.s, v->len, &ns)) return -1;
        *out = sl_timestamp(ns);
        return 0;
    case SL_INT:
        if (v->as.i > INT64_MAX / NS_PER_SEC || v->as.i < INT64_MIN / NS_PER_SEC) return -1;
        *out = sl_timestamp(v->as.i * NS_PER_SEC);
        return 0;
    case SL_DOUBLE: {
        double d = v->as.d * 1e9;
        if (!isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) return -1;
        *out = sl_timestamp((int64_t)llround(d));
        return 0;
    }
    default:
        return -1;
    }
}

/* Casts one field; returns 0, or -1 after sending the record to the DLQ. */
static int apply_cast(const remap_cast *cs, sl_buf *scratch, sl_batch *b, sl_record *r, sl_emit *out) {
    const sl_value *v = sl_path_get(cs->path, sl_record_value(r));
    if (!v || v->type == SL_NULL) return 0;

    sl_value result;
    int rc;
    switch (cs->kind) {
    case CAST_INT: rc = cast_to_int(v, &result); break;
    case CAST_FLOAT: rc = cast_to_float(&b->arena, v, &result); break;
    case CAST_STRING: rc = cast_to_string(&b->arena, scratch, v, &result); break;
    case CAST_BOOL: rc = cast_to_bool(v, &result); break;
    default: rc = cast_to_timestamp(v, &result); break;
    }
    if (rc != 0) {
        char what[64];
        describe(what, v);
        sl_emit_dlq(out, r, "remap_error", "cast %s to %s: cannot convert %s",
                    sl_path_source(cs->path), cast_names[cs->kind], what);
        return -1;
    }
    sl_error err;
    if (sl_path_set(cs->path, sl_record_mut(r), &b->arena, result, &err) != 0) {
        sl_emit_dlq(out, r, "remap_error", "cast %s: %s", sl_path_source(cs->path), err.msg);
        return -1;
    }
    return 0;
}

/* ---- keep ---- */

static bool is_kept(const sl_value *v, const sl_value **kept, size_t nk) {
    for (size_t k = 0; k < nk; k++)
        if (kept[k] == v) return true;
    return false;
}

/* True when v is, or contains, one of the kept values. */
static bool contains_kept(const sl_value *v, const sl_value **kept, size_t nk) {
    if (is_kept(v, kept, nk)) return true;
    if (v->type == SL_MAP) {
        for (uint32_t i = 0; i < v->len; i++)
            if (contains_kept(&v->as.fields[i].value, kept, nk)) return true;
    } else if (v->type == SL_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if (contains_kept(&v->as.items[i], kept, nk)) return true;
    }
    return false;
}

/* Removes from map every field that is neither kept nor on the way to a kept
 * value. Arrays are kept whole when anything inside them is kept. Fields only
 * move towards the front, to slots already visited, so the addresses of the
 * fields still to visit stay valid. */
static void keep_prune(sl_value *map, const sl_value **kept, size_t nk) {
    uint32_t j = 0;
    for (uint32_t i = 0; i < map->len; i++) {
        sl_field *f = &map->as.fields[i];
        bool keep = is_kept(&f->value, kept, nk);
        if (!keep && (f->value.type == SL_MAP || f->value.type == SL_ARRAY)) {
            keep = contains_kept(&f->value, kept, nk);
            if (keep && f->value.type == SL_MAP) keep_prune(&f->value, kept, nk);
        }
        if (keep) {
            if (j != i) map->as.fields[j] = *f;
            j++;
        }
    }
    map->len = j;
}

static void apply_keep(const remap_state *s, const sl_value **kept, sl_record *r) {
    size_t nk = 0;
    sl_value *record = sl_record_mut(r);
    for (size_t k = 0; k < s->n_keeps; k++) {
        const sl_value *v = sl_path_get(s->keeps[k], record);
        if (v == record) return;   /* keep: ['.'] keeps everything */
        if (v) kept[nk++] = v;
    }
    keep_prune(record, kept, nk);
}

/* ---- process ---- */

/* Runs every operation on one record; returns 0, or -1 after sending it to
 * the DLQ. */
static int remap_one(const remap_state *s, remap_worker *w, const sl_value **kept, sl_batch *b,
                     sl_record *r, sl_emit *out) {
    sl_error err;
    sl_value *record = sl_record_mut(r);   /* every operation writes */
    for (size_t i = 0; i < s->n_renames; i++) {
        const remap_rename *rn = &s->renames[i];
        if (rn->from_key) {
            sl_map_rename(record, rn->from_key, rn->from_len, rn->to_key, rn->to_len);
            continue;
        }
        const sl_value *from = sl_path_get(rn->from, record);
        if (!from) continue;
        sl_value moved = *from;
        sl_path_delete(rn->from, record);
        if (sl_path_set(rn->to, record, &b->arena, moved, &err) != 0) {
            sl_emit_dlq(out, r, "remap_error", "rename %s to %s: %s", sl_path_source(rn->from),
                        sl_path_source(rn->to), err.msg);
            return -1;
        }
    }
    for (size_t i = 0; i < s->n_sets; i++) {
        const remap_set *st = &s->sets[i];
        sl_value v;
        if (sl_expr_eval(st->expr, record, &b->arena, &v, &err) != 0) {
            sl_emit_dlq(out, r, "remap_error", "set %s = `%s`: %s", sl_path_source(st->path),
                        sl_expr_source(st->expr), err.msg);
            return -1;
        }
        if (v.type == SL_MAP || v.type == SL_ARRAY) v = sl_value_clone(&b->arena, &v);
        if (sl_path_set(st->path, record, &b->arena, v, &err) != 0) {
            sl_emit_dlq(out, r, "remap_error", "set %s: %s", sl_path_source(st->path), err.msg);
            return -1;
        }
    }
    for (size_t i = 0; i < s->n_casts; i++) {
        if (apply_cast(&s->casts[i], &w->scratch, b, r, out) != 0) return -1;
    }
    for (size_t i = 0; i < s->n_deletes; i++) sl_path_delete(s->deletes[i], record);
    if (s->n_keeps) apply_keep(s, kept, r);
    return 0;
}

static void remap_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                          sl_emit *out) {
    const remap_state *s = c->impl;
    const sl_value **kept = s->n_keeps ? sl_arena_alloc(&b->arena, s->n_keeps * sizeof *kept) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (remap_one(s, wstate, kept, b, recs[i], out) == 0)
            sl_emit_record(out, 0, recs[i]);
    }
}

const sl_component_type sl_transform_remap_type = {
    .name = "remap",
    .kind = SL_TRANSFORM,
    .summary = "Rename, compute, cast, delete and select fields",
    .doc =
        "Reshapes each record with up to five operations that always run in this order, "
        "whatever order they are written in: `rename`, `set`, `cast`, `delete`, `keep`. "
        "Entries of one operation run in the order written and each sees the record as the "
        "previous steps left it, so `set` can use a field renamed just before and `keep` "
        "sees the computed fields.\n\n"
        "- `rename` moves a field to a new path; a missing field is skipped, and an existing "
        "field at the new path is replaced. Renaming one top-level field to another keeps "
        "its position; a rename to or from a nested path appends the value to its new parent.\n"
        "- `set` evaluates an expression and stores its value, creating intermediate objects "
        "as needed (arrays are not extended). New fields are appended; existing ones are "
        "replaced in place.\n"
        "- `cast` converts a field to `int`, `float`, `string`, `bool` or `timestamp`. "
        "Missing and null fields are left alone. Strings must be exact: `\" 42\"` is not an "
        "int, `\"1.5\"` is a float but not an int; floats become ints only when they are whole. "
        "For `bool`, numbers are true unless zero, and strings must be `true`/`false` (any "
        "case) or `1`/`0`. For `timestamp`, strings are RFC 3339 and numbers are seconds since "
        "the Unix epoch; a timestamp cast to `float` gives seconds, to `int` nanoseconds. "
        "Casting to `string` keeps a number's original text, writes objects and arrays as "
        "JSON and bytes as base64.\n"
        "- `delete` removes fields; missing ones are ignored.\n"
        "- `keep` removes every field not listed. A nested path keeps its parents with only "
        "the kept children (`keep: [user.id]` turns `{\"user\":{\"id\":1,\"ip\":\"x\"},\"a\":2}` "
        "into `{\"user\":{\"id\":1}}`); a path into an array keeps that whole array.\n\n"
        "Field order is preserved throughout. When a `set` expression fails for a record or "
        "a value cannot be cast, the record goes to the DLQ with reason `remap_error` and a "
        "message naming the field.",
    .example =
        "transforms:\n"
        "  shape:\n"
        "    type: remap\n"
        "    inputs: [events]\n"
        "    rename: {msg: message, user.ip: client_ip}\n"
        "    set:\n"
        "      latency_s: '.latency_ms / 1000.0'\n"
        "      env: '\"prod\"'\n"
        "    cast: {status: int, ts: timestamp}\n"
        "    delete: [debug]\n",
    .options = remap_options,
    .create = remap_create,
    .destroy = remap_destroy,
    .worker_init = remap_worker_init,
    .worker_free = remap_worker_free,
    .process = remap_process,
};
