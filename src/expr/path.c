/* path.c — field paths: ".a.b[0].\"x y\"" parsed once, then used to read,
 * write and delete fields of records.
 *
 * A path is a list of steps: a key (looked up in a map) or an index (into an
 * array; negative indexes count from the end, so [-1] is the last item).
 * Names written bare may use letters, digits and '_'; anything else is
 * quoted with JSON escapes (."user-agent"). Paths contain no spaces.
 *
 * Reading (sl_path_get) is on the hot path of every filter and route: it
 * walks the steps with sl_map_get and never allocates. Writing creates the
 * missing intermediate maps in the record's arena and copies new keys there,
 * so a record never points into a path that may be freed with its pipeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lexer.h"

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void push_step(sl_arena *a, sl_path *p, uint32_t *cap, sl_path_step step)
{
    if (p->n_steps == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 4;
        p->steps = sl_arena_realloc(a, p->steps, *cap * sizeof *p->steps, ncap * sizeof *p->steps);
        *cap = ncap;
    }
    p->steps[p->n_steps++] = step;
}

/* Scans "[123]" or "[-1]" at src[*off]. */
static int scan_index(const char *src, size_t len, size_t *off, int64_t *index, sl_error *err,
                      size_t *err_off)
{
    size_t i = *off + 1;
    bool neg = false;
    if (i < len && src[i] == '-') { neg = true; i++; }
    size_t digits = i;
    uint64_t v = 0;
    while (i < len && src[i] >= '0' && src[i] <= '9') {
        if (v > 1000000000000ull) {
            *err_off = *off;
            return sl_errorf(err, "array index is too large");
        }
        v = v * 10 + (uint64_t)(src[i] - '0');
        i++;
    }
    if (i == digits || i >= len || src[i] != ']') {
        *err_off = i < len ? i : *off;
        return sl_errorf(err, "expected an array index like [0] or [-1]");
    }
    *index = neg ? -(int64_t)v : (int64_t)v;
    *off = i + 1;
    return 0;
}

int sl_path_scan(const char *src, size_t len, size_t *off, bool need_dot, sl_arena *a,
                 sl_path *out, sl_error *err, size_t *err_off)
{
    size_t i = *off;
    uint32_t cap = 0;
    memset(out, 0, sizeof *out);
    bool first = true;
    if (need_dot && (i >= len || src[i] != '.')) {
        *err_off = i;
        return sl_errorf(err, "a field path starts with '.'");
    }
    for (;;) {
        sl_path_step step = { 0 };
        bool dotted = i < len && src[i] == '.';
        size_t at = i;
        if (dotted) i++;
        if (i < len && src[i] == '[' && (first || !dotted)) {
            if (scan_index(src, len, &i, &step.index, err, err_off) < 0) return -1;
        } else if (i < len && src[i] == '"' && (first || dotted)) {
            const char *key;
            size_t key_len;
            if (sl_lex_string(src, len, &i, a, &key, &key_len, err, err_off) < 0) return -1;
            step.key = key;
            step.key_len = (uint32_t)key_len;
        } else if (i < len && is_name_char(src[i]) && (first || dotted)) {
            size_t start = i;
            while (i < len && is_name_char(src[i])) i++;
            step.key = src + start;
            step.key_len = (uint32_t)(i - start);
        } else if (dotted && !first) {
            *err_off = at;
            return sl_errorf(err, "expected a field name after '.'");
        } else if (first && !dotted) {
            *err_off = at;
            return sl_errorf(err, "expected a field path like .name or .a.b[0]");
        } else {
            break;   /* the root path ".", or the end of the path */
        }
        push_step(a, out, &cap, step);
        first = false;
    }
    *off = i;
    return 0;
}

/* ---- standalone paths ---- */

sl_path *sl_path_parse(const char *src, sl_pos at, sl_diag *diag)
{
    sl_path *p = malloc(sizeof *p);
    if (!p) abort();
    size_t len = strlen(src);
    sl_arena arena;
    sl_arena_init(&arena, 256);
    char *copy = sl_arena_strndup(&arena, src, len);
    sl_error err;
    size_t off = 0, err_off = 0;
    int rc = sl_path_scan(copy, len, &off, false, &arena, p, &err, &err_off);
    if (rc == 0 && off < len) {
        err_off = off;
        rc = sl_errorf(&err, "unexpected '%c' in field path", copy[off]);
    }
    if (rc < 0) {
        sl_expr_report(diag, at, src, err_off, err.msg);
        sl_arena_free(&arena);
        free(p);
        return NULL;
    }
    p->src = copy;
    p->arena = arena;
    return p;
}

void sl_path_free(sl_path *p)
{
    if (!p) return;
    sl_arena_free(&p->arena);
    free(p);
}

const char *sl_path_source(const sl_path *p)
{
    return p->src;
}

/* The item of arr that index i names, or NULL when out of range. */
static sl_value *array_item(const sl_value *arr, int64_t i)
{
    int64_t n = arr->len;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return NULL;
    return &arr->as.items[i];
}

static const sl_value *step_get(const sl_value *v, const sl_path_step *s)
{
    if (s->key) return v->type == SL_MAP ? sl_map_get(v, s->key, s->key_len) : NULL;
    return v->type == SL_ARRAY ? array_item(v, s->index) : NULL;
}

static const sl_value *get_from(const sl_path *p, uint32_t from, const sl_value *v)
{
    for (uint32_t i = from; i < p->n_steps && v; i++) v = step_get(v, &p->steps[i]);
    return v;
}

const sl_value *sl_path_get(const sl_path *p, const sl_value *record)
{
    return get_from(p, 0, record);
}

bool sl_path_first_key(const sl_path *p, const char **key, size_t *key_len, bool *more)
{
    if (p->n_steps == 0 || !p->steps[0].key) return false;
    *key = p->steps[0].key;
    *key_len = p->steps[0].key_len;
    *more = p->n_steps > 1;
    return true;
}

const sl_value *sl_path_get_rest(const sl_path *p, const sl_value *v)
{
    return get_from(p, 1, v);
}

sl_value *sl_path_get_mut(const sl_path *p, sl_value *record)
{
    return (sl_value *)sl_path_get(p, record);   /* as writable as record */
}

/* Writes the first n steps of p as text, for messages. */
static void path_prefix(const sl_path *p, uint32_t n, char out[128])
{
    size_t len = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n && len < 120; i++) {
        const sl_path_step *s = &p->steps[i];
        int w = s->key ? snprintf(out + len, 128 - len, ".%.*s", (int)(s->key_len > 40 ? 40 : s->key_len), s->key)
                       : snprintf(out + len, 128 - len, "[%lld]", (long long)s->index);
        len += w > 0 ? (size_t)w : 0;
    }
    if (len == 0) snprintf(out, 128, ".");
}

int sl_path_set(const sl_path *p, sl_value *record, sl_arena *a, sl_value v, sl_error *err)
{
    if (p->n_steps == 0) {
        if (v.type != SL_MAP)
            return sl_errorf(err, "cannot replace the whole record with a value of type %s (it must be a map)",
                             sl_type_name(v.type));
        *record = v;
        return 0;
    }
    sl_value *cur = record;
    for (uint32_t i = 0; i < p->n_steps; i++) {
        const sl_path_step *s = &p->steps[i];
        bool last = i + 1 == p->n_steps;
        char where[128];
        if (s->key) {
            if (cur->type != SL_MAP) {
                path_prefix(p, i, where);
                return sl_errorf(err, "cannot set %s: %s is a %s, not a map", p->src, where,
                                 sl_type_name(cur->type));
            }
            sl_value *next = sl_map_get(cur, s->key, s->key_len);
            if (!next && !last && !p->steps[i + 1].key) {
                path_prefix(p, i + 1, where);
                return sl_errorf(err, "cannot set %s: %s does not exist (arrays are not created)", p->src, where);
            }
            if (!next) {
                char *key = sl_arena_alloc(a, s->key_len ? s->key_len : 1);
                memcpy(key, s->key, s->key_len);
                sl_map_append(a, cur, key, s->key_len, last ? v : sl_map_new(a, 4));
                next = &cur->as.fields[cur->len - 1].value;
            } else if (last) {
                *next = v;
            } else if (next->type == SL_NULL && p->steps[i + 1].key) {
                *next = sl_map_new(a, 4);
            }
            cur = next;
        } else {
            sl_value *item = cur->type == SL_ARRAY ? array_item(cur, s->index) : NULL;
            if (!item) {
                path_prefix(p, i, where);
                if (cur->type != SL_ARRAY)
                    return sl_errorf(err, "cannot set %s: %s is a %s, not an array", p->src, where,
                                     sl_type_name(cur->type));
                return sl_errorf(err, "cannot set %s: index %lld is out of range (%s has %u items)",
                                 p->src, (long long)s->index, where, cur->len);
            }
            if (last) *item = v;
            else if (item->type == SL_NULL && p->steps[i + 1].key) *item = sl_map_new(a, 4);
            cur = item;
        }
    }
    return 0;
}

bool sl_path_delete(const sl_path *p, sl_value *record)
{
    if (p->n_steps == 0) return false;
    sl_value *parent = record;   /* each step as writable as record */
    for (uint32_t i = 0; i + 1 < p->n_steps && parent; i++) parent = (sl_value *)step_get(parent, &p->steps[i]);
    if (!parent) return false;
    const sl_path_step *s = &p->steps[p->n_steps - 1];
    if (s->key) return parent->type == SL_MAP && sl_map_delete(parent, s->key, s->key_len);
    sl_value *item = parent->type == SL_ARRAY ? array_item(parent, s->index) : NULL;
    if (!item) return false;
    size_t after = (size_t)(parent->as.items + parent->len - (item + 1));
    memmove(item, item + 1, after * sizeof *item);
    parent->len--;
    return true;
}
