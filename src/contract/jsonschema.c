/* jsonschema.c — JSON Schema (the common subset, see jsonschema.h) compiled
 * into the same contract as the YAML form.
 *
 * The schema text is decoded with the JSON codec into a value tree in a
 * temporary arena (copied into a padded buffer first: the decoder reads past
 * the end of its input). The tree is then walked once: each schema object
 * becomes a field spec, `properties` become nested specs that apply when the
 * value is an object, `items` a spec applied to every element. Everything
 * the contract keeps (enum strings, numbers' text, patterns) is copied out,
 * so the arena is freed before returning.
 *
 * Semantics follow the specification where the engine's model allows:
 * `integer` accepts whole numbers written without a fraction (1, not 1.0);
 * `number` accepts any number; null passes only when "null" is among the
 * types (or there is no type); `pattern` matches anywhere in the string
 * unless anchored; constraints on a type do not apply to values of other
 * types (minimum ignores strings).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/util.h"
#include "contract_internal.h"
#include "jsonschema.h"

typedef struct loader {
    sl_diag *diag;
    sl_pos file;        /* the schema file, no line */
    sl_buf pointer;     /* JSON pointer of the schema being loaded */
} loader;

static const char *const ignored_keywords[] = {
    "$schema", "$id", "id", "title", "description", "$comment", "examples", "default",
    "deprecated", "readOnly", "writeOnly", "$defs", "definitions",
};

/* Reports "<pointer>: <prefix><msg>" against the schema file. */
static void fail(loader *l, const char *msg, const char *prefix) {
    sl_diag_error(l->diag, l->file, "%s: %s%s", l->pointer.len ? l->pointer.data : "(root)",
                  prefix ? prefix : "", msg);
}

static bool key_is(const sl_field *f, const char *s) {
    return f->key_len == strlen(s) && memcmp(f->key, s, f->key_len) == 0;
}

/* Appends "/key" (with ~ and / escaped as JSON pointers require). */
static size_t pointer_push(loader *l, const char *key, size_t len) {
    size_t old = l->pointer.len;
    sl_buf_putc(&l->pointer, '/');
    for (size_t i = 0; i < len; i++) {
        if (key[i] == '~') sl_buf_puts(&l->pointer, "~0");
        else if (key[i] == '/') sl_buf_puts(&l->pointer, "~1");
        else sl_buf_putc(&l->pointer, key[i] ? key[i] : '?');
    }
    return old;
}

static void pointer_pop(loader *l, size_t old) {
    l->pointer.len = old;
    l->pointer.data[old] = 0;
}

static void set_type(loader *l, sl_spec *sp, const sl_value *v) {
    static const char *const names[] = {"string", "integer", "number", "boolean", "array", "object", "null"};
    static const unsigned bits[] = {SL_CT_STRING, SL_CT_INT, SL_CT_NUMBER, SL_CT_BOOL,
                                    SL_CT_ARRAY, SL_CT_MAP, SL_CT_NULL};
    const sl_value *list = v->type == SL_ARRAY ? v->as.items : v;
    uint32_t n = v->type == SL_ARRAY ? v->len : 1;
    if (n == 0) fail(l, "type must be a type name or a non-empty list of them", NULL);
    for (uint32_t i = 0; i < n; i++) {
        size_t k = 0;
        while (list[i].type == SL_STRING && k < 7 &&
               !(list[i].len == strlen(names[k]) && memcmp(list[i].as.s, names[k], list[i].len) == 0))
            k++;
        if (list[i].type != SL_STRING || k == 7) {
            fail(l, "type must be string, integer, number, boolean, array, object or null", NULL);
            return;
        }
        sp->types |= bits[k];
    }
}

static char *number_text(const sl_value *v) {
    char text[64];
    if (v->x.raw && v->raw_len && v->raw_len < sizeof text) {
        memcpy(text, v->x.raw, v->raw_len);
        text[v->raw_len] = 0;
    } else {
        double d;
        sl_value_as_double(v, &d);
        snprintf(text, sizeof text, "%.17g", d);
    }
    return sl_contract_strdup(text);
}

static void set_enum(loader *l, sl_spec *sp, const sl_value *v) {
    if (v->type != SL_ARRAY || v->len == 0) {
        fail(l, "enum must be a non-empty array", NULL);
        return;
    }
    sp->enum_values = sl_contract_calloc(v->len, sizeof *sp->enum_values);
    for (uint32_t i = 0; i < v->len; i++) {
        sl_value e = v->as.items[i];
        if (e.type == SL_ARRAY || e.type == SL_MAP) {
            fail(l, "enum values that are objects or arrays are not supported", NULL);
            return;
        }
        if (e.type == SL_STRING) {
            char *copy = sl_contract_calloc(e.len + 1, 1);
            if (e.len) memcpy(copy, e.as.s, e.len);
            e = sl_string(copy, e.len);
        } else if (e.type == SL_INT || e.type == SL_UINT || e.type == SL_DOUBLE) {
            e.x.raw = NULL;   /* it pointed into the schema text */
            e.raw_len = 0;
        }
        sp->enum_values[sp->n_enum++] = e;
    }
    sl_spec_enum_text(sp);
}

/* minimum, maximum, exclusiveMinimum, exclusiveMaximum. When a schema has
 * both a bound and its exclusive form, the stricter one is kept. */
static void set_bound(loader *l, sl_spec *sp, const sl_value *v, bool is_min, bool exclusive) {
    double d;
    if (v->type == SL_BOOL && exclusive) {   /* draft 4: a flag on minimum/maximum */
        if (is_min) sp->min_exclusive = sp->min_exclusive || v->as.b;
        else sp->max_exclusive = sp->max_exclusive || v->as.b;
        return;
    }
    if (v->type == SL_BOOL || !sl_value_as_double(v, &d)) {
        fail(l, " must be a number", is_min ? (exclusive ? "exclusiveMinimum" : "minimum")
                                            : (exclusive ? "exclusiveMaximum" : "maximum"));
        return;
    }
    if (is_min) {
        if (sp->has_min && (d < sp->min || (d == sp->min && !exclusive))) return;
        sp->has_min = true;
        sp->min = d;
        sp->min_exclusive = exclusive;
        free(sp->min_text);
        sp->min_text = number_text(v);
    } else {
        if (sp->has_max && (d > sp->max || (d == sp->max && !exclusive))) return;
        sp->has_max = true;
        sp->max = d;
        sp->max_exclusive = exclusive;
        free(sp->max_text);
        sp->max_text = number_text(v);
    }
}

static void set_length(loader *l, int64_t *out, const sl_value *v, const char *key) {
    if (v->type != SL_INT || v->as.i < 0) {
        fail(l, " must be a whole number >= 0", key);
        return;
    }
    *out = v->as.i;
}

static void set_pattern(loader *l, sl_spec *sp, const sl_value *v) {
    if (v->type != SL_STRING || memchr(v->as.s, 0, v->len)) {
        fail(l, "pattern must be a string", NULL);
        return;
    }
    char *pattern = sl_contract_calloc(v->len + 1, 1);
    memcpy(pattern, v->as.s, v->len);
    sl_error err;
    if (sl_spec_set_regex(sp, pattern, v->len, &err) != 0) fail(l, err.msg, "pattern: ");
    free(pattern);
}

static void set_format(loader *l, sl_spec *sp, const sl_value *v) {
    static const char *const supported[] = {"email", "uri", "uuid", "date-time", "date", "ipv4", "ipv6"};
    char name[32];
    if (v->type != SL_STRING || v->len >= sizeof name) {
        fail(l, "format must be one of email, uri, uuid, date-time, date, ipv4, ipv6", NULL);
        return;
    }
    memcpy(name, v->as.s, v->len);
    name[v->len] = 0;
    sl_strfmt f;
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++) {
        if (strcmp(name, supported[i]) == 0 && sl_strfmt_parse(name, &f)) {
            sp->format = (int)f;
            return;
        }
    }
    sl_buf msg;
    sl_buf_init(&msg);
    sl_buf_printf(&msg, "format \"%s\" is not supported (supported: email, uri, uuid, date-time, date, "
                        "ipv4, ipv6)", name);
    fail(l, msg.data, NULL);
    sl_buf_free(&msg);
}

static char *child_name(const char *parent, const char *key, size_t len) {
    size_t plen = strlen(parent);
    char *name = sl_contract_calloc(plen + len + 2, 1);
    memcpy(name, parent, plen);
    if (plen) name[plen++] = '.';
    if (len) memcpy(name + plen, key, len);
    return name;
}

static void load_schema(loader *l, sl_spec *sp, const sl_value *schema);

static sl_spec *find_prop(sl_spec *sp, const char *key, size_t len, const char *parent) {
    size_t plen = strlen(parent) + (parent[0] ? 1 : 0);
    for (size_t i = 0; i < sp->n_props; i++) {
        const char *name = sp->props[i].name + plen;
        if (strlen(name) == len && memcmp(name, key, len) == 0) return &sp->props[i];
    }
    return NULL;
}

/* A new nested spec for key (path relative to the parent object). */
static sl_spec *add_prop(loader *l, sl_spec *sp, const char *key, size_t len) {
    sl_spec *p = &sp->props[sp->n_props];
    sl_buf src;
    sl_buf_init(&src);
    sl_buf_putc(&src, '.');
    sl_json_encode_string(&src, key, len);
    sl_buf_putc(&src, 0);   /* the encoder leaves the text unterminated */
    p->path = sl_path_parse(src.data, l->file, l->diag);
    sl_buf_free(&src);
    if (!p->path) return NULL;
    p->name = child_name(sp->name, key, len);
    sp->n_props++;
    return p;
}

static void set_properties(loader *l, sl_spec *sp, const sl_value *props, const sl_value *required) {
    if (props && props->type != SL_MAP) {
        fail(l, "properties must be an object", NULL);
        props = NULL;
    }
    if (required && (required->type != SL_ARRAY)) {
        fail(l, "required must be an array of property names", NULL);
        required = NULL;
    }
    size_t n = (props ? props->len : 0) + (required ? required->len : 0);
    if (n == 0) return;
    sp->props = sl_contract_alloc_specs(n);
    for (uint32_t i = 0; props && i < props->len; i++) {
        const sl_field *f = &props->as.fields[i];
        size_t old = pointer_push(l, "properties", 10);
        pointer_push(l, f->key, f->key_len);
        sl_spec *p = add_prop(l, sp, f->key, f->key_len);
        if (p) load_schema(l, p, &f->value);
        pointer_pop(l, old);
    }
    for (uint32_t i = 0; required && i < required->len; i++) {
        const sl_value *r = &required->as.items[i];
        if (r->type != SL_STRING) {
            fail(l, "required must be an array of property names", NULL);
            continue;
        }
        sl_spec *p = find_prop(sp, r->as.s, r->len, sp->name);
        if (!p) p = add_prop(l, sp, r->as.s, r->len);
        if (p) p->required = true;
    }
}

static void load_schema(loader *l, sl_spec *sp, const sl_value *schema) {
    if (schema->type == SL_BOOL && schema->as.b) return;   /* `true`: anything goes */
    if (schema->type != SL_MAP) {
        fail(l, schema->type == SL_BOOL ? "the schema `false` is not supported" : "a schema must be an object",
             NULL);
        return;
    }
    const sl_value *props = NULL, *required = NULL;
    for (uint32_t i = 0; i < schema->len; i++) {
        const sl_field *f = &schema->as.fields[i];
        const sl_value *v = &f->value;
        if (key_is(f, "type")) set_type(l, sp, v);
        else if (key_is(f, "enum")) set_enum(l, sp, v);
        else if (key_is(f, "minimum")) set_bound(l, sp, v, true, false);
        else if (key_is(f, "maximum")) set_bound(l, sp, v, false, false);
        else if (key_is(f, "exclusiveMinimum")) set_bound(l, sp, v, true, true);
        else if (key_is(f, "exclusiveMaximum")) set_bound(l, sp, v, false, true);
        else if (key_is(f, "minLength")) set_length(l, &sp->min_len, v, "minLength");
        else if (key_is(f, "maxLength")) set_length(l, &sp->max_len, v, "maxLength");
        else if (key_is(f, "pattern")) set_pattern(l, sp, v);
        else if (key_is(f, "format")) set_format(l, sp, v);
        else if (key_is(f, "properties")) props = v;
        else if (key_is(f, "required")) required = v;
        else if (key_is(f, "items")) {
            if (v->type == SL_ARRAY) {
                fail(l, "items as an array (tuple validation) is not supported", NULL);
                continue;
            }
            size_t old = pointer_push(l, "items", 5);
            if (!sp->items) {
                size_t plen = strlen(sp->name);
                sp->items = sl_contract_alloc_specs(1);
                sp->items->name = sl_contract_calloc(plen + 3, 1);
                memcpy(sp->items->name, sp->name, plen);
                memcpy(sp->items->name + plen, "[]", 3);
            }
            load_schema(l, sp->items, v);
            pointer_pop(l, old);
        } else {
            size_t k = 0, n = sizeof ignored_keywords / sizeof ignored_keywords[0];
            while (k < n && !key_is(f, ignored_keywords[k])) k++;
            if (k == n) {
                char *name = sl_contract_calloc(f->key_len + 1, 1);
                if (f->key_len) memcpy(name, f->key, f->key_len);
                fail(l, " is not supported", name);
                free(name);
            }
        }
    }
    /* An exclusive flag (draft 4) without its bound constrains nothing. */
    sp->null_ok = !sp->types || (sp->types & SL_CT_NULL);
    if (!sp->has_min) sp->min_exclusive = false;
    if (!sp->has_max) sp->max_exclusive = false;
    if (props || required) set_properties(l, sp, props, required);
}

sl_contract *sl_jsonschema_parse(const char *name, const char *text, size_t len, sl_diag *diag) {
    loader l = {diag, {sl_diag_file(diag, name), 0, 0}, {0}};
    sl_buf_init(&l.pointer);
    size_t errors = diag->errors;

    sl_buf padded;   /* sl_buf keeps the padding the decoder reads into */
    sl_buf_init(&padded);
    sl_buf_reserve(&padded, len + 1);
    sl_buf_append(&padded, text, len);
    memset(padded.data + padded.len, 0, SL_BUF_PADDING);
    sl_arena arena;
    sl_arena_init(&arena, 16384);
    sl_value root;
    sl_decode_error derr;
    sl_contract *c = NULL;
    if (sl_json_decode(&arena, padded.data, padded.len, 0, false, &root, &derr) != 0) {
        sl_pos at = l.file;
        at.line = 1;
        at.col = 1;
        for (size_t i = 0; i < derr.offset && i < len; i++) {
            if (text[i] == '\n') {
                at.line++;
                at.col = 1;
            } else {
                at.col++;
            }
        }
        sl_diag_error(diag, at, "the schema is not valid JSON: %s", derr.msg);
    } else {
        sl_spec top;
        sl_spec_init(&top);
        top.name = sl_contract_strdup("");
        load_schema(&l, &top, &root);
        if (root.type != SL_MAP || (top.types & ~(unsigned)SL_CT_MAP) || top.n_enum || top.has_min ||
            top.has_max || top.min_len >= 0 || top.max_len >= 0 || top.regex || top.format >= 0 || top.items)
            sl_diag_error(diag, l.file, "the root schema must describe an object (type \"object\" with "
                          "properties); constraints on the root itself are not supported");
        c = sl_contract_new();
        c->fields = top.props;
        c->n_fields = top.n_props;
        top.props = NULL;
        top.n_props = 0;
        sl_spec_free(&top);
        sl_error err;
        if (diag->errors == errors && sl_contract_finish(c, &err) != 0) sl_diag_error(diag, l.file, "%s", err.msg);
        if (diag->errors > errors) {
            sl_contract_free(c);
            c = NULL;
        }
    }
    sl_arena_free(&arena);
    sl_buf_free(&padded);
    sl_buf_free(&l.pointer);
    return c;
}

sl_contract *sl_jsonschema_load_file(const char *path, sl_pos at, sl_diag *diag) {
    sl_buf text;
    sl_buf_init(&text);
    sl_contract *c = NULL;
    if (sl_read_file(path, &text) < 0)
        sl_diag_error(diag, at, "cannot open the schema file %s: %s", path, strerror(errno));
    else
        c = sl_jsonschema_parse(path, text.data, text.len, diag);
    sl_buf_free(&text);
    return c;
}
