/* contract_load.c — contracts written in YAML: inline in the pipeline
 * (`fields:` and `rules:` of a validate transform) or in a file of the same
 * shape (`contract: path.yaml`).
 *
 * Every problem is reported to the diag at the node that caused it — for a
 * contract file, at that file's line:col — and loading carries on, so one
 * `sluice check` shows all mistakes. A field spec is a mapping of rules, or
 * a plain type name as shorthand (`level: string`).
 *
 * Defaults: required false, nullable true. With nullable true, null passes
 * every rule of the field (a declared type admits null too); with
 * `nullable: false` a null is its own violation.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "contract_internal.h"

static const char *const spec_keys[] = {
    "type", "coerce", "required", "nullable", "enum", "min", "max", "exclusive_min", "exclusive_max",
    "min_length", "max_length", "regex", "format", "unique", "items",
};
#define N_SPEC_KEYS (sizeof spec_keys / sizeof spec_keys[0])

static bool scalar_bool(const sl_node *n, bool *out) {
    if (n->kind != SL_NODE_SCALAR || n->quoted) return false;
    if (strcmp(n->text, "true") == 0) *out = true;
    else if (strcmp(n->text, "false") == 0) *out = false;
    else return false;
    return true;
}

static bool scalar_int(const sl_node *n, int64_t *out) {
    if (n->kind != SL_NODE_SCALAR || n->quoted || !n->text[0] || n->text[0] == ' ') return false;
    char *end;
    errno = 0;
    long long v = strtoll(n->text, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool scalar_number(const sl_node *n, double *out) {
    if (n->kind != SL_NODE_SCALAR || n->quoted || !n->text[0] || n->text[0] == ' ') return false;
    char *end;
    double v = strtod(n->text, &end);
    if (*end || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* A YAML scalar as a value: unquoted null/~, true/false, integers and
 * numbers are typed; everything else is a string (copied). */
static sl_value scalar_value(const sl_node *n) {
    int64_t i;
    double d;
    bool b;
    if (!n->quoted && (strcmp(n->text, "null") == 0 || strcmp(n->text, "~") == 0)) return sl_null();
    if (scalar_bool(n, &b)) return sl_bool(b);
    if (scalar_int(n, &i)) return sl_int(i);
    if (scalar_number(n, &d)) return sl_double(d);
    char *copy = sl_contract_calloc(n->len + 1, 1);
    memcpy(copy, n->text, n->len);
    return sl_string(copy, n->len);
}

static void set_types(sl_spec *sp, const sl_node *n, sl_diag *diag) {
    const sl_node *const *items = n->kind == SL_NODE_SEQ ? (const sl_node *const *)n->items : &n;
    size_t count = n->kind == SL_NODE_SEQ ? n->n_items : 1;
    if (n->kind == SL_NODE_MAP || count == 0) {
        sl_diag_error(diag, n->pos, "%s: type must be a type name or a list of them", sp->name);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const sl_node *t = items[i];
        unsigned bit = t->kind == SL_NODE_SCALAR ? sl_contract_type_bit(t->text) : 0;
        if (!bit) {
            const char *hint = t->kind == SL_NODE_SCALAR
                                   ? sl_did_you_mean(t->text, sl_contract_type_names, sl_contract_n_type_names)
                                   : NULL;
            sl_diag_error(diag, t->pos,
                          "%s: unknown type '%s'; the types are string, int, float (or number), bool, "
                          "timestamp, array, map (or object) and null%s%s%s",
                          sp->name, t->kind == SL_NODE_SCALAR ? t->text : sl_node_kind_name(t->kind),
                          hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            continue;
        }
        sp->types |= bit;
    }
}

static void set_enum(sl_spec *sp, const sl_node *n, sl_diag *diag) {
    if (n->kind != SL_NODE_SEQ || n->n_items == 0) {
        sl_diag_error(diag, n->pos, "%s: enum must be a non-empty list of allowed values", sp->name);
        return;
    }
    sp->enum_values = sl_contract_calloc(n->n_items, sizeof *sp->enum_values);
    for (size_t i = 0; i < n->n_items; i++) {
        if (n->items[i]->kind != SL_NODE_SCALAR) {
            sl_diag_error(diag, n->items[i]->pos, "%s: enum values must be scalars, not %s", sp->name,
                          sl_node_kind_name(n->items[i]->kind));
            continue;
        }
        sp->enum_values[sp->n_enum++] = scalar_value(n->items[i]);
    }
    sl_spec_enum_text(sp);
}

static void set_bound(sl_spec *sp, const sl_node *n, const char *key, sl_diag *diag) {
    double d;
    if (!scalar_number(n, &d)) {
        sl_diag_error(diag, n->pos, "%s: %s must be a number", sp->name, key);
        return;
    }
    bool is_min = strstr(key, "min") != NULL, exclusive = strncmp(key, "exclusive", 9) == 0;
    if (is_min ? sp->has_min : sp->has_max) {
        sl_diag_error(diag, n->pos, "%s: set only one of %s and exclusive_%s", sp->name, is_min ? "min" : "max",
                      is_min ? "min" : "max");
        return;
    }
    if (is_min) {
        sp->has_min = true;
        sp->min = d;
        sp->min_exclusive = exclusive;
        sp->min_text = sl_contract_strdup(n->text);
    } else {
        sp->has_max = true;
        sp->max = d;
        sp->max_exclusive = exclusive;
        sp->max_text = sl_contract_strdup(n->text);
    }
}

static void set_length(sl_spec *sp, const sl_node *n, const char *key, sl_diag *diag) {
    int64_t v;
    if (!scalar_int(n, &v) || v < 0) {
        sl_diag_error(diag, n->pos, "%s: %s must be a whole number >= 0", sp->name, key);
        return;
    }
    if (strcmp(key, "min_length") == 0) sp->min_len = v;
    else sp->max_len = v;
}

static void set_unique(sl_spec *sp, const sl_node *n, sl_diag *diag) {
    bool b;
    if (scalar_bool(n, &b)) {
        sp->unique_window = b ? SL_CONTRACT_UNIQUE_WINDOW : 0;
        return;
    }
    const sl_node *w = n->kind == SL_NODE_MAP && n->n_pairs == 1 ? sl_node_get(n, "window") : NULL;
    int64_t v;
    if (!w || !scalar_int(w, &v) || v < 1 || v > 100000000) {
        sl_diag_error(diag, w ? w->pos : n->pos,
                      "%s: unique must be true, false or {window: N} with N from 1 to 100000000", sp->name);
        return;
    }
    sp->unique_window = (size_t)v;
}

static void load_spec(sl_spec *sp, const sl_node *n, bool is_items, sl_diag *diag);

static void set_rule(sl_spec *sp, const char *key, const sl_node *value, sl_diag *diag) {
    bool b;
    sl_error err;
    if (strcmp(key, "type") == 0) {
        set_types(sp, value, diag);
    } else if (strcmp(key, "coerce") == 0 || strcmp(key, "required") == 0 || strcmp(key, "nullable") == 0) {
        if (!scalar_bool(value, &b)) {
            sl_diag_error(diag, value->pos, "%s: %s must be true or false", sp->name, key);
            return;
        }
        if (key[0] == 'c') sp->coerce = b;
        else if (key[0] == 'r') sp->required = b;
        else sp->not_nullable = !b;
    } else if (strcmp(key, "enum") == 0) {
        set_enum(sp, value, diag);
    } else if (strstr(key, "length")) {
        set_length(sp, value, key, diag);
    } else if (strstr(key, "min") || strstr(key, "max")) {
        set_bound(sp, value, key, diag);
    } else if (strcmp(key, "regex") == 0) {
        if (value->kind != SL_NODE_SCALAR) {
            sl_diag_error(diag, value->pos, "%s: regex must be a pattern string", sp->name);
            return;
        }
        if (sl_spec_set_regex(sp, value->text, value->len, &err) != 0)
            sl_diag_error(diag, value->pos, "%s: %s", sp->name, err.msg);
    } else if (strcmp(key, "format") == 0) {
        sl_strfmt f;
        if (value->kind != SL_NODE_SCALAR || !sl_strfmt_parse(value->text, &f)) {
            const char *hint = value->kind == SL_NODE_SCALAR
                                   ? sl_did_you_mean(value->text, sl_strfmt_names(), SL_STRFMT_COUNT) : NULL;
            sl_diag_error(diag, value->pos,
                          "%s: unknown format; the formats are email, uri, uuid, date-time, date, ip, ipv4 "
                          "and ipv6%s%s%s",
                          sp->name, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            return;
        }
        sp->format = (int)f;
    } else if (strcmp(key, "unique") == 0) {
        set_unique(sp, value, diag);
    } else {   /* items */
        sp->items = sl_contract_alloc_specs(1);
        size_t len = strlen(sp->name);
        sp->items->name = sl_contract_calloc(len + 3, 1);
        memcpy(sp->items->name, sp->name, len);
        memcpy(sp->items->name + len, "[]", 3);
        load_spec(sp->items, value, true, diag);
    }
}

static void load_spec(sl_spec *sp, const sl_node *n, bool is_items, sl_diag *diag) {
    if (n->kind == SL_NODE_SCALAR) {   /* shorthand: `level: string` */
        set_types(sp, n, diag);
    } else if (n->kind != SL_NODE_MAP) {
        sl_diag_error(diag, n->pos, "%s: a field's rules must be a mapping such as {type: string, "
                      "required: true}, or a type name", sp->name);
        return;
    }
    for (size_t i = 0; i < n->n_pairs; i++) {
        const sl_node *key = n->pairs[i].key;
        size_t k = 0;
        while (k < N_SPEC_KEYS && strcmp(key->text, spec_keys[k]) != 0) k++;
        if (k == N_SPEC_KEYS) {
            const char *hint = sl_did_you_mean(key->text, spec_keys, N_SPEC_KEYS);
            sl_diag_error(diag, key->pos, "%s: unknown rule '%s'%s%s%s", sp->name, key->text,
                          hint ? " (did you mean '" : "", hint ? hint : "",
                          hint ? "'?)" : "; the rules are type, coerce, required, nullable, enum, min, "
                                         "max, exclusive_min, exclusive_max, min_length, max_length, "
                                         "regex, format, unique and items");
            continue;
        }
        if (is_items && (strcmp(key->text, "required") == 0 || strcmp(key->text, "unique") == 0)) {
            sl_diag_error(diag, key->pos, "%s: %s does not apply to array items", sp->name, key->text);
            continue;
        }
        set_rule(sp, key->text, n->pairs[i].value, diag);
    }
    sp->null_ok = !sp->not_nullable;
    if (sp->coerce && !sp->types)
        sl_diag_error(diag, n->pos, "%s: coerce needs a type to convert to", sp->name);
}

static void load_fields(sl_contract *c, const sl_node *fields, sl_diag *diag) {
    if (fields->kind != SL_NODE_MAP) {
        sl_diag_error(diag, fields->pos, "fields must be a mapping of field path to rules, not %s",
                      sl_node_kind_name(fields->kind));
        return;
    }
    c->fields = sl_contract_alloc_specs(fields->n_pairs);
    for (size_t i = 0; i < fields->n_pairs; i++) {
        const sl_node *key = fields->pairs[i].key;
        sl_spec *sp = &c->fields[c->n_fields];
        if (strcmp(key->text, ".") == 0) {
            sl_diag_error(diag, key->pos, "fields must name fields, not the whole record ('.')");
            continue;
        }
        sp->path = sl_path_parse(key->text, key->pos, diag);
        if (!sp->path) continue;
        sp->name = sl_contract_strdup(key->text[0] == '.' ? key->text + 1 : key->text);
        c->n_fields++;
        load_spec(sp, fields->pairs[i].value, false, diag);
    }
}

int sl_contract_add_rules(sl_contract *c, const sl_node *rules, sl_diag *diag) {
    size_t errors = diag->errors;
    if (rules->kind != SL_NODE_SEQ) {
        sl_diag_error(diag, rules->pos, "rules must be a list of {name: ..., expr: ...}, not %s",
                      sl_node_kind_name(rules->kind));
        return -1;
    }
    sl_custom_rule *all = sl_contract_calloc(c->n_customs + rules->n_items, sizeof *all);
    if (c->n_customs) memcpy(all, c->customs, c->n_customs * sizeof *all);
    free(c->customs);
    c->customs = all;
    for (size_t i = 0; i < rules->n_items; i++) {
        const sl_node *r = rules->items[i];
        const sl_node *name = sl_node_get(r, "name"), *expr = sl_node_get(r, "expr");
        if (r->kind != SL_NODE_MAP || !name || !expr || r->n_pairs != 2 || name->kind != SL_NODE_SCALAR ||
            expr->kind != SL_NODE_SCALAR || !name->text[0]) {
            sl_diag_error(diag, r->pos, "each rule must be {name: NAME, expr: EXPRESSION}, e.g. "
                          "{name: token_budget, expr: '.tokens.in + .tokens.out <= 8192'}");
            continue;
        }
        sl_expr *e = sl_expr_compile(expr->text, expr->pos, diag);
        if (!e) continue;
        c->customs[c->n_customs].name = sl_contract_strdup(name->text);
        c->customs[c->n_customs].expr = e;
        c->customs[c->n_customs].rule = -1;
        c->n_customs++;
    }
    if (diag->errors > errors) return -1;
    sl_error err;
    if (c->finished && sl_contract_finish(c, &err) != 0) {
        sl_diag_error(diag, rules->pos, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* Numbers the rules, or frees the contract when loading reported errors. */
static sl_contract *finish(sl_contract *c, size_t errors_before, sl_pos at, sl_diag *diag) {
    sl_error err;
    if (diag->errors == errors_before && sl_contract_finish(c, &err) != 0)
        sl_diag_error(diag, at, "%s", err.msg);
    if (diag->errors > errors_before) {
        sl_contract_free(c);
        return NULL;
    }
    return c;
}

sl_contract *sl_contract_from_nodes(const sl_node *fields, const sl_node *rules, sl_diag *diag) {
    size_t errors = diag->errors;
    sl_contract *c = sl_contract_new();
    if (fields) load_fields(c, fields, diag);
    if (rules) sl_contract_add_rules(c, rules, diag);
    return finish(c, errors, fields ? fields->pos : rules->pos, diag);
}

sl_contract *sl_contract_load_file(const char *path, sl_pos at, sl_diag *diag) {
    sl_buf text;
    sl_buf_init(&text);
    if (sl_read_file(path, &text) < 0) {
        sl_diag_error(diag, at, "cannot open the contract file %s: %s", path, strerror(errno));
        sl_buf_free(&text);
        return NULL;
    }
    sl_node *root = sl_node_parse(path, text.data, text.len, diag);
    sl_buf_free(&text);
    if (!root) return NULL;

    sl_contract *c = NULL;
    sl_pos file_pos = {sl_diag_file(diag, path), 1, 1};
    if (root->kind != SL_NODE_MAP) {
        sl_diag_error(diag, root->pos, "a contract file must be a mapping with fields: and/or rules:");
    } else {
        static const char *const top_keys[] = {"fields", "rules"};
        bool ok = true;
        for (size_t i = 0; i < root->n_pairs; i++) {
            const sl_node *key = root->pairs[i].key;
            if (strcmp(key->text, "fields") == 0 || strcmp(key->text, "rules") == 0) continue;
            const char *hint = sl_did_you_mean(key->text, top_keys, 2);
            sl_diag_error(diag, key->pos, "unknown key '%s' in a contract file; it has fields: and rules:%s%s%s",
                          key->text, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            ok = false;
        }
        const sl_node *fields = sl_node_get(root, "fields"), *rules = sl_node_get(root, "rules");
        if (!fields && !rules) {
            sl_diag_error(diag, file_pos, "the contract file has no fields: and no rules:");
            ok = false;
        }
        if (ok) c = sl_contract_from_nodes(fields, rules, diag);
    }
    sl_node_free(root);
    return c;
}
