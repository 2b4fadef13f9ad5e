/* contract.c — checking records against a compiled contract, and the
 * contract's construction helpers shared by the loaders.
 *
 * The pass path is a walk over the field specs: one sl_path_get per field,
 * then plain comparisons on the value; nothing is allocated and nothing is
 * locked. Violations are appended to the thread's scratch (at most one per
 * rule, so its size is fixed at the number of rules) as a rule number and a
 * pointer to the offending value; text is only produced for records that
 * fail, by sl_contract_describe_violations.
 *
 * After a `type` violation the field's other rules are not checked: a
 * string cannot be out of a numeric range, and reporting "min" and "enum"
 * for it would only bury the one problem. `coerce: true` turns a value of
 * the wrong type into the wanted one where that is exact ("42" -> 42,
 * "true" -> true, 7 -> "7", an RFC 3339 string -> timestamp) and writes it
 * back into the record before the other rules run.
 *
 * `unique` needs memory shared by all workers: sl_contract_mark_duplicates
 * runs once per batch under the contract's mutex and records one bit per
 * unique field per record, which the (lock-free) check then reads.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/util.h"
#include "contract_internal.h"

#define SHOW_MAX 40   /* longest value text quoted in a message */
#define UNIQUE_SEED_LO 0x756e69717565ULL
#define UNIQUE_SEED_HI 0x657571696e75ULL

struct sl_contract_scratch {
    pcre2_match_data *match;
    const sl_value **found;   /* by first key (c->keys): its value in the record being checked */
    sl_violation *violations;
    size_t count;
};

const char *const sl_contract_type_names[] = {
    "string", "int", "float", "number", "bool", "timestamp", "array", "map", "object", "null",
    "integer", "boolean",
};
const size_t sl_contract_n_type_names = sizeof sl_contract_type_names / sizeof sl_contract_type_names[0];

static const unsigned type_bits[] = {
    SL_CT_STRING, SL_CT_INT, SL_CT_NUMBER, SL_CT_NUMBER, SL_CT_BOOL, SL_CT_TIMESTAMP,
    SL_CT_ARRAY, SL_CT_MAP, SL_CT_MAP, SL_CT_NULL, SL_CT_INT, SL_CT_BOOL,
};

/* Names used in messages, by bit. */
static const char *const bit_names[] = {"string", "int", "number", "bool", "timestamp", "array",
                                        "map", "null"};

/* ---- construction ---- */

void *sl_contract_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    return p;
}

char *sl_contract_strdup(const char *s) {
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    return d;
}

unsigned sl_contract_type_bit(const char *name) {
    for (size_t i = 0; i < sl_contract_n_type_names; i++)
        if (strcmp(name, sl_contract_type_names[i]) == 0) return type_bits[i];
    return 0;
}

sl_contract *sl_contract_new(void) {
    sl_contract *c = sl_contract_calloc(1, sizeof *c);
    pthread_mutex_init(&c->unique_lock, NULL);
    return c;
}

void sl_spec_init(sl_spec *sp) {
    memset(sp, 0, sizeof *sp);
    sp->min_len = sp->max_len = -1;
    sp->null_ok = true;
    sp->format = -1;
    sp->unique_bit = -1;
    sp->r_required = sp->r_nullable = sp->r_type = sp->r_enum = sp->r_min = sp->r_max = -1;
    sp->r_min_len = sp->r_max_len = sp->r_regex = sp->r_format = sp->r_unique = -1;
}

sl_spec *sl_contract_alloc_specs(size_t n) {
    sl_spec *specs = sl_contract_calloc(n, sizeof *specs);
    for (size_t i = 0; i < n; i++) sl_spec_init(&specs[i]);
    return specs;
}

int sl_spec_set_regex(sl_spec *sp, const char *pattern, size_t len, sl_error *err) {
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code,
                                   &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return sl_errorf(err, "invalid regex: %s (at offset %zu in the pattern)", (const char *)msg,
                         (size_t)off);
    }
    /* Without JIT (unavailable on this CPU or build) the interpreter is used. */
    sp->regex_jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    sp->regex = re;
    sp->regex_src = sl_contract_strdup(pattern);
    sl_simple_regex simple;
    if (sl_simple_regex_compile(pattern, len, &simple)) {
        sp->simple_regex = sl_contract_calloc(1, sizeof simple);
        *sp->simple_regex = simple;
    }
    return 0;
}

/* Appends a value as JSON, cut to about SHOW_MAX characters. */
static void show_value(sl_buf *out, const sl_value *v) {
    if (v->type == SL_STRING && v->len > SHOW_MAX) {
        size_t n = SHOW_MAX;
        while (n > 0 && ((unsigned char)v->as.s[n] & 0xC0) == 0x80) n--;   /* whole characters */
        sl_json_encode_string(out, v->as.s, n);
        out->len--;   /* reopen the string to mark the cut inside the quotes */
        sl_buf_puts(out, "...\"");
        return;
    }
    size_t start = out->len;
    sl_json_encode(out, v);
    if (out->len - start > SHOW_MAX + 8) {
        size_t cut = start + SHOW_MAX;
        while (cut > start && ((unsigned char)out->data[cut] & 0xC0) == 0x80) cut--;
        out->len = cut;
        sl_buf_puts(out, "...");
    }
    sl_buf_putc(out, 0);   /* the encoder leaves the text unterminated */
    out->len--;
}

void sl_spec_enum_text(sl_spec *sp) {
    sl_buf b;
    sl_buf_init(&b);
    for (size_t i = 0; i < sp->n_enum; i++) {
        if (i) sl_buf_puts(&b, ", ");
        if (b.len > 200) {
            sl_buf_printf(&b, "... (%zu values)", sp->n_enum);
            break;
        }
        const sl_value *v = &sp->enum_values[i];
        if (v->type == SL_STRING)
            sl_buf_append(&b, v->as.s, v->len);
        else
            show_value(&b, v);
    }
    if (!b.data) sl_buf_puts(&b, "");
    sp->enum_text = sl_buf_steal(&b, NULL);
}

static int add_rule(sl_contract *c, const char *field, const char *kind) {
    if (c->n_rules == c->cap_rules) {
        c->cap_rules = c->cap_rules ? c->cap_rules * 2 : 16;
        sl_rule *r = realloc(c->rules, c->cap_rules * sizeof *r);
        if (!r) {
            fprintf(stderr, "sluice: out of memory\n");
            abort();
        }
        c->rules = r;
    }
    c->rules[c->n_rules] = (sl_rule){field, kind};
    return (int)c->n_rules++;
}

static int number_spec(sl_contract *c, sl_spec *sp, sl_error *err) {
    if (sp->required) sp->r_required = add_rule(c, sp->name, "required");
    if (sp->not_nullable) sp->r_nullable = add_rule(c, sp->name, "nullable");
    if (sp->types) sp->r_type = add_rule(c, sp->name, "type");
    if (sp->n_enum) sp->r_enum = add_rule(c, sp->name, "enum");
    if (sp->has_min) sp->r_min = add_rule(c, sp->name, sp->min_exclusive ? "exclusive_min" : "min");
    if (sp->has_max) sp->r_max = add_rule(c, sp->name, sp->max_exclusive ? "exclusive_max" : "max");
    if (sp->min_len >= 0) sp->r_min_len = add_rule(c, sp->name, "min_length");
    if (sp->max_len >= 0) sp->r_max_len = add_rule(c, sp->name, "max_length");
    if (sp->regex) sp->r_regex = add_rule(c, sp->name, "regex");
    if (sp->format >= 0) sp->r_format = add_rule(c, sp->name, "format");
    if (sp->unique_window) {
        if (c->n_unique == SL_CONTRACT_MAX_UNIQUE)
            return sl_errorf(err, "a contract can have at most %d unique fields", SL_CONTRACT_MAX_UNIQUE);
        sp->r_unique = add_rule(c, sp->name, "unique");
        sp->unique_bit = (int)c->n_unique;
        c->unique_specs[c->n_unique] = sp;
        sl_seen_set_init(&c->windows[c->n_unique], sp->unique_window);
        c->n_unique++;
    }
    if (sp->items && number_spec(c, sp->items, err) != 0) return -1;
    for (size_t i = 0; i < sp->n_props; i++)
        if (number_spec(c, &sp->props[i], err) != 0) return -1;
    return 0;
}

static uint32_t key_hash(const char *key, size_t len) {
    return len ? (uint32_t)len * 131u + (unsigned char)key[0] * 31u + (unsigned char)key[len - 1] : 0;
}

/* Fills c->keys, key_table and field_key from the top-level fields. */
static void index_first_keys(sl_contract *c) {
    c->keys = sl_contract_calloc(c->n_fields, sizeof *c->keys);
    c->field_key = sl_contract_calloc(c->n_fields, sizeof *c->field_key);
    c->field_nested = sl_contract_calloc(c->n_fields, sizeof *c->field_nested);
    uint32_t size = 16;
    while (size < 4 * c->n_fields) size *= 2;
    c->key_table = sl_contract_calloc(size, sizeof *c->key_table);
    c->key_mask = size - 1;
    for (size_t i = 0; i < c->n_fields; i++) {
        const char *key;
        size_t len;
        c->field_key[i] = -1;
        if (!c->fields[i].path || !sl_path_first_key(c->fields[i].path, &key, &len, &c->field_nested[i]))
            continue;
        uint32_t h = key_hash(key, len) & c->key_mask;
        for (; c->key_table[h]; h = (h + 1) & c->key_mask) {
            size_t k = c->key_table[h] - 1u;
            if (c->keys[k].len == len && memcmp(c->keys[k].key, key, len) == 0) break;
        }
        if (!c->key_table[h]) {
            c->keys[c->n_keys].key = key;
            c->keys[c->n_keys].len = len;
            c->key_table[h] = (uint16_t)++c->n_keys;
        }
        c->field_key[i] = c->key_table[h] - 1;
    }
}

int sl_contract_finish(sl_contract *c, sl_error *err) {
    if (!c->finished) {
        for (size_t i = 0; i < c->n_fields; i++)
            if (number_spec(c, &c->fields[i], err) != 0) return -1;
        index_first_keys(c);
        c->finished = true;
    }
    for (size_t i = 0; i < c->n_customs; i++)
        if (c->customs[i].rule < 0) c->customs[i].rule = add_rule(c, c->customs[i].name, "expr");
    return 0;
}

void sl_spec_free(sl_spec *sp) {
    sl_path_free(sp->path);
    free(sp->name);
    for (size_t i = 0; i < sp->n_enum; i++)
        if (sp->enum_values[i].type == SL_STRING) free((char *)sp->enum_values[i].as.s);
    free(sp->enum_values);
    free(sp->enum_text);
    free(sp->min_text);
    free(sp->max_text);
    pcre2_code_free(sp->regex);
    free(sp->regex_src);
    free(sp->simple_regex);
    if (sp->items) {
        sl_spec_free(sp->items);
        free(sp->items);
    }
    for (size_t i = 0; i < sp->n_props; i++) sl_spec_free(&sp->props[i]);
    free(sp->props);
}

void sl_contract_free(sl_contract *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_fields; i++) sl_spec_free(&c->fields[i]);
    free(c->fields);
    for (size_t i = 0; i < c->n_customs; i++) {
        free(c->customs[i].name);
        sl_expr_free(c->customs[i].expr);
    }
    free(c->customs);
    free(c->rules);
    free(c->keys);
    free(c->key_table);
    free(c->field_key);
    free(c->field_nested);
    for (size_t i = 0; i < c->n_unique; i++) sl_seen_set_free(&c->windows[i]);
    pthread_mutex_destroy(&c->unique_lock);
    free(c);
}

size_t sl_contract_rule_count(const sl_contract *c) {
    return c->n_rules;
}

const sl_rule *sl_contract_rule(const sl_contract *c, size_t i) {
    return &c->rules[i];
}

bool sl_contract_has_unique(const sl_contract *c) {
    return c->n_unique > 0;
}

static bool spec_coerces(const sl_spec *sp) {
    if (sp->coerce || (sp->items && spec_coerces(sp->items))) return true;
    for (size_t i = 0; i < sp->n_props; i++)
        if (spec_coerces(&sp->props[i])) return true;
    return false;
}

bool sl_contract_coerces(const sl_contract *c) {
    for (size_t i = 0; i < c->n_fields; i++)
        if (spec_coerces(&c->fields[i])) return true;
    return false;
}

/* ---- checking ---- */

sl_contract_scratch *sl_contract_scratch_new(const sl_contract *c) {
    sl_contract_scratch *s = sl_contract_calloc(1, sizeof *s);
    s->match = pcre2_match_data_create(1, NULL);   /* only "did it match" is asked */
    if (!s->match) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    s->violations = sl_contract_calloc(c->n_rules, sizeof *s->violations);
    s->found = sl_contract_calloc(c->n_keys, sizeof *s->found);
    return s;
}

void sl_contract_scratch_free(sl_contract_scratch *s) {
    if (!s) return;
    pcre2_match_data_free(s->match);
    free(s->violations);
    free(s->found);
    free(s);
}

const sl_violation *sl_contract_violations(const sl_contract_scratch *s) {
    return s->violations;
}

/* A value's key in a unique window: two independently seeded sl_value_hash
 * (so 1 and 1.0 are one value), 128 bits in all, so that two different
 * values practically never read as duplicates. */
static sl_hash128 unique_key(const sl_value *v) {
    return (sl_hash128){.lo = sl_value_hash(v, UNIQUE_SEED_LO), .hi = sl_value_hash(v, UNIQUE_SEED_HI)};
}

void sl_contract_mark_duplicates(sl_contract *c, sl_record *const *recs, size_t n, uint64_t *dup) {
    memset(dup, 0, n * sizeof *dup);
    pthread_mutex_lock(&c->unique_lock);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < c->n_unique; k++) {
            const sl_value *v = sl_path_get(c->unique_specs[k]->path, sl_record_value(recs[i]));
            if (!v || v->type == SL_NULL) continue;
            sl_hash128 key = unique_key(v);
            uint64_t first;
            if (sl_seen_set_find(&c->windows[k], key, &first)) dup[i] |= 1ULL << k;
            else sl_seen_set_add(&c->windows[k], key, 0);
        }
    }
    pthread_mutex_unlock(&c->unique_lock);
}

static void violate(sl_contract_scratch *s, int rule, const sl_value *got, const char *note) {
    for (size_t i = 0; i < s->count; i++)
        if (s->violations[i].rule == (uint32_t)rule) return;   /* once per record */
    s->violations[s->count++] = (sl_violation){(uint32_t)rule, got, note};
}

static bool type_matches(unsigned types, const sl_value *v) {
    switch ((sl_type)v->type) {
    case SL_NULL: return types & SL_CT_NULL;
    case SL_BOOL: return types & SL_CT_BOOL;
    case SL_INT:
    case SL_UINT: return types & (SL_CT_INT | SL_CT_NUMBER);
    case SL_DOUBLE: return types & SL_CT_NUMBER;
    case SL_STRING: {
        int64_t ns;
        if (types & SL_CT_STRING) return true;
        return (types & SL_CT_TIMESTAMP) && sl_parse_rfc3339(v->as.s, v->len, &ns);
    }
    case SL_BYTES: return false;
    case SL_ARRAY: return types & SL_CT_ARRAY;
    case SL_MAP: return types & SL_CT_MAP;
    case SL_TIMESTAMP: return types & SL_CT_TIMESTAMP;
    }
    return false;
}

/* Strict decimal number, the whole text, finite. */
static bool parse_number(const char *s, size_t len, double *out) {
    char text[64];
    if (len == 0 || len >= sizeof text || !(s[0] == '-' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
        return false;
    memcpy(text, s, len);
    text[len] = 0;
    char *end;
    double d = strtod(text, &end);
    if (end != text + len || !isfinite(d)) return false;
    *out = d;
    return true;
}

static bool text_is(const sl_value *v, const char *lit) {
    size_t n = strlen(lit);
    if (v->len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = v->as.s[i] >= 'A' && v->as.s[i] <= 'Z' ? (char)(v->as.s[i] - 'A' + 'a') : v->as.s[i];
        if (ch != lit[i]) return false;
    }
    return true;
}

/* Converts v to one of `types` when that is exact; true when it did. */
static bool coerce(unsigned types, sl_value *v, sl_arena *a) {
    double d;
    if (v->type == SL_STRING) {
        sl_value out;
        if ((types & SL_CT_INT) && sl_parse_integer(v->as.s, v->len, &out) == 0) {
            *v = out;
            return true;
        }
        if ((types & SL_CT_NUMBER) && parse_number(v->as.s, v->len, &d)) {
            *v = sl_double(d);
            return true;
        }
        if (types & SL_CT_BOOL) {
            if (text_is(v, "true") || text_is(v, "1")) {
                *v = sl_bool(true);
                return true;
            }
            if (text_is(v, "false") || text_is(v, "0")) {
                *v = sl_bool(false);
                return true;
            }
        }
        return false;   /* an RFC 3339 string already is a timestamp (type_matches), kept as written */
    }
    if (v->type == SL_INT && (types & SL_CT_BOOL) && (v->as.i == 0 || v->as.i == 1)) {
        *v = sl_bool(v->as.i == 1);
        return true;
    }
    if (v->type == SL_DOUBLE && (types & SL_CT_INT) && v->as.d == trunc(v->as.d) &&
        v->as.d >= -9.2e18 && v->as.d <= 9.2e18) {
        *v = sl_int((int64_t)v->as.d);
        return true;
    }
    if ((v->type == SL_INT || v->type == SL_UINT || v->type == SL_DOUBLE) && (types & SL_CT_TIMESTAMP) &&
        sl_value_as_double(v, &d) && fabs(d) < 9.2e9) {
        *v = sl_timestamp((int64_t)llround(d * 1e9));
        return true;
    }
    if (types & SL_CT_STRING) {
        char text[64];
        int n;
        switch ((sl_type)v->type) {
        case SL_BOOL:
            *v = sl_cstring(v->as.b ? "true" : "false");
            return true;
        case SL_INT:
        case SL_UINT:
        case SL_DOUBLE:
            if (v->x.raw && v->raw_len) {   /* the number exactly as written */
                *v = sl_string(v->x.raw, v->raw_len);
                return true;
            }
            if (v->type == SL_INT) n = snprintf(text, sizeof text, "%lld", (long long)v->as.i);
            else if (v->type == SL_UINT) n = snprintf(text, sizeof text, "%llu", (unsigned long long)v->as.u);
            else n = snprintf(text, sizeof text, "%.17g", v->as.d);
            *v = sl_string_copy(a, text, (size_t)n);
            return true;
        case SL_TIMESTAMP:
            n = (int)sl_format_rfc3339(text, v->as.i);
            *v = sl_string_copy(a, text, (size_t)n);
            return true;
        default:
            return false;
        }
    }
    return false;
}

static size_t utf8_length(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* A pattern of simple_regex.h's subset is matched there, without PCRE2.
 * Otherwise pcre2_jit_match skips pcre2_match's argument checks and
 * dispatch (a third of a short match's cost); with PCRE2_MATCH_INVALID_UTF
 * the compiled code itself copes with invalid UTF-8, so the result is the
 * same. */
static bool regex_matches(const sl_spec *sp, sl_contract_scratch *s, const sl_value *v) {
    int simple = sp->simple_regex ? sl_simple_regex_match(sp->simple_regex, v->as.s, v->len) : -1;
    if (simple >= 0) return simple;
    int rc = sp->regex_jit ? pcre2_jit_match(sp->regex, (PCRE2_SPTR)v->as.s, v->len, 0, 0, s->match, NULL)
                           : pcre2_match(sp->regex, (PCRE2_SPTR)v->as.s, v->len, 0, 0, s->match, NULL);
    return rc >= 0;
}

static void check_spec(const sl_contract *c, sl_contract_scratch *s, const sl_spec *sp, sl_value *parent,
                       sl_arena *a, uint64_t dup);

static void check_value(const sl_contract *c, sl_contract_scratch *s, const sl_spec *sp, sl_value *v,
                        sl_arena *a, uint64_t dup) {
    if (v->type == SL_NULL) {
        if (sp->not_nullable) violate(s, sp->r_nullable, v, NULL);
        else if (!sp->null_ok) violate(s, sp->r_type, v, NULL);
        return;
    }
    if (sp->types && !type_matches(sp->types, v)) {
        if (!sp->coerce || !coerce(sp->types, v, a)) {
            violate(s, sp->r_type, v, NULL);
            return;
        }
    }
    if (sp->unique_bit >= 0 && (dup >> sp->unique_bit) & 1) violate(s, sp->r_unique, v, NULL);
    if (sp->n_enum) {
        size_t i = 0;
        while (i < sp->n_enum && !sl_value_equal(&sp->enum_values[i], v)) i++;
        if (i == sp->n_enum) violate(s, sp->r_enum, v, NULL);
    }
    double d;
    if ((sp->has_min || sp->has_max) && v->type != SL_BOOL && v->type != SL_TIMESTAMP &&
        sl_value_as_double(v, &d)) {
        if (sp->has_min && (sp->min_exclusive ? d <= sp->min : d < sp->min)) violate(s, sp->r_min, v, NULL);
        if (sp->has_max && (sp->max_exclusive ? d >= sp->max : d > sp->max)) violate(s, sp->r_max, v, NULL);
    }
    if (sp->min_len >= 0 || sp->max_len >= 0) {
        int64_t len = v->type == SL_STRING ? (int64_t)utf8_length(v->as.s, v->len)
                      : v->type == SL_ARRAY ? (int64_t)v->len : -1;
        if (len >= 0 && sp->min_len >= 0 && len < sp->min_len) violate(s, sp->r_min_len, v, NULL);
        if (len >= 0 && sp->max_len >= 0 && len > sp->max_len) violate(s, sp->r_max_len, v, NULL);
    }
    if (v->type == SL_STRING) {
        if (sp->regex && !regex_matches(sp, s, v))
            violate(s, sp->r_regex, v, NULL);
        if (sp->format >= 0 && !sl_strfmt_check((sl_strfmt)sp->format, v->as.s, v->len))
            violate(s, sp->r_format, v, NULL);
    }
    if (sp->items && v->type == SL_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++) check_value(c, s, sp->items, &v->as.items[i], a, 0);
    }
    if (sp->n_props && v->type == SL_MAP) {
        for (size_t i = 0; i < sp->n_props; i++) check_spec(c, s, &sp->props[i], v, a, 0);
    }
}

/* Checks the value found for a spec (NULL: the field is missing). The
 * record is ours to change (coercion): the path API hands out const
 * pointers only because most callers just read. */
static void check_found(const sl_contract *c, sl_contract_scratch *s, const sl_spec *sp, const sl_value *v,
                        sl_arena *a, uint64_t dup) {
    if (!v) {
        if (sp->required) violate(s, sp->r_required, NULL, NULL);
        return;
    }
    check_value(c, s, sp, (sl_value *)v, a, dup);
}

static void check_spec(const sl_contract *c, sl_contract_scratch *s, const sl_spec *sp, sl_value *parent,
                       sl_arena *a, uint64_t dup) {
    check_found(c, s, sp, sl_path_get(sp->path, parent), a, dup);
}

/* Sets s->found[k] to the value of first key k in the record: the first
 * field of that name, as sl_map_get finds it. */
static void find_first_keys(const sl_contract *c, sl_contract_scratch *s, const sl_value *record) {
    memset(s->found, 0, c->n_keys * sizeof *s->found);
    if (record->type != SL_MAP) return;
    size_t left = c->n_keys;
    for (uint32_t i = 0; i < record->len && left; i++) {
        const sl_field *f = &record->as.fields[i];
        for (uint32_t h = key_hash(f->key, f->key_len) & c->key_mask; c->key_table[h]; h = (h + 1) & c->key_mask) {
            size_t k = c->key_table[h] - 1u;
            if (c->keys[k].len != f->key_len || memcmp(c->keys[k].key, f->key, f->key_len) != 0) continue;
            if (!s->found[k]) {
                s->found[k] = &f->value;
                left--;
            }
            break;
        }
    }
}

size_t sl_contract_check(const sl_contract *c, sl_contract_scratch *s, sl_value *record, sl_arena *a,
                         uint64_t dup) {
    s->count = 0;
    find_first_keys(c, s, record);
    for (size_t i = 0; i < c->n_fields; i++) {
        const sl_spec *sp = &c->fields[i];
        int k = c->field_key[i];
        const sl_value *v = k < 0                ? sl_path_get(sp->path, record)
                            : c->field_nested[i] ? sl_path_get_rest(sp->path, s->found[k])
                                                 : s->found[k];
        check_found(c, s, sp, v, a, dup);
    }
    for (size_t i = 0; i < c->n_customs; i++) {
        sl_error err;
        int ok = sl_expr_test(c->customs[i].expr, record, a, &err);
        if (ok == 0) violate(s, c->customs[i].rule, NULL, NULL);
        else if (ok < 0) violate(s, c->customs[i].rule, NULL, sl_arena_strndup(a, err.msg, strlen(err.msg)));
    }
    return s->count;
}

/* ---- describing violations ---- */

static const sl_spec *find_spec(const sl_spec *sp, size_t n, uint32_t rule) {
    for (size_t i = 0; i < n; i++) {
        const sl_spec *x = &sp[i];
        const int rules[] = {x->r_required, x->r_nullable, x->r_type, x->r_enum, x->r_min, x->r_max,
                             x->r_min_len, x->r_max_len, x->r_regex, x->r_format, x->r_unique};
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
            if (rules[k] == (int)rule) return x;
        const sl_spec *found = x->items ? find_spec(x->items, 1, rule) : NULL;
        if (!found) found = find_spec(x->props, x->n_props, rule);
        if (found) return found;
    }
    return NULL;
}

static void show_types(sl_buf *out, unsigned types) {
    bool first = true;
    for (size_t i = 0; i < sizeof bit_names / sizeof bit_names[0]; i++) {
        if (!(types & (1u << i))) continue;
        sl_buf_puts(out, first ? "" : " or ");
        sl_buf_puts(out, bit_names[i]);
        first = false;
    }
}

/* One violation's text without the field: "min 0 (got -5)". */
static void describe_one(const sl_contract *c, const sl_violation *v, sl_buf *out) {
    const sl_rule *r = &c->rules[v->rule];
    if (strcmp(r->kind, "expr") == 0) {
        for (size_t i = 0; i < c->n_customs; i++) {
            if (c->customs[i].rule != (int)v->rule) continue;
            sl_buf_printf(out, "expr `%s` (%s%s)", sl_expr_source(c->customs[i].expr),
                          v->note ? "error: " : "false", v->note ? v->note : "");
        }
        return;
    }
    if (!v->got) {
        sl_buf_puts(out, "required (missing)");
        return;
    }
    const sl_spec *sp = find_spec(c->fields, c->n_fields, v->rule);
    if (v->rule == (uint32_t)sp->r_nullable) {
        sl_buf_puts(out, "not nullable (got null)");
        return;
    }
    if (v->rule == (uint32_t)sp->r_type) {
        sl_buf_puts(out, "type ");
        show_types(out, sp->types);
    } else if (v->rule == (uint32_t)sp->r_min) {
        sl_buf_printf(out, "%s %s", r->kind, sp->min_text);
    } else if (v->rule == (uint32_t)sp->r_max) {
        sl_buf_printf(out, "%s %s", r->kind, sp->max_text);
    } else if (v->rule == (uint32_t)sp->r_min_len) {
        sl_buf_printf(out, "min_length %lld", (long long)sp->min_len);
    } else if (v->rule == (uint32_t)sp->r_max_len) {
        sl_buf_printf(out, "max_length %lld", (long long)sp->max_len);
    } else if (v->rule == (uint32_t)sp->r_regex) {
        sl_buf_puts(out, "regex ");
        sl_value src = sl_cstring(sp->regex_src);
        if (src.len > SHOW_MAX) show_value(out, &src);
        else sl_buf_puts(out, sp->regex_src);
    } else if (v->rule == (uint32_t)sp->r_format) {
        sl_buf_printf(out, "format %s", sl_strfmt_name((sl_strfmt)sp->format));
    } else {
        sl_buf_puts(out, r->kind);   /* enum, unique */
    }
    sl_buf_puts(out, " (got ");
    show_value(out, v->got);
    if (v->rule == (uint32_t)sp->r_enum)
        sl_buf_printf(out, "; allowed: %s", sp->enum_text);
    else if (v->rule == (uint32_t)sp->r_unique)
        sl_buf_printf(out, "; seen in the last %zu values", sp->unique_window);
    else if (v->rule == (uint32_t)sp->r_min_len || v->rule == (uint32_t)sp->r_max_len)
        sl_buf_printf(out, ", length %zu",
                      v->got->type == SL_STRING ? utf8_length(v->got->as.s, v->got->len) : (size_t)v->got->len);
    sl_buf_putc(out, ')');
}

void sl_contract_describe_violations(const sl_contract *c, const sl_contract_scratch *s, sl_buf *out) {
    sl_buf_printf(out, "%zu rule%s failed: ", s->count, s->count == 1 ? "" : "s");
    for (size_t i = 0; i < s->count; i++) {
        if (i) sl_buf_puts(out, "; ");
        sl_buf_printf(out, "%s: ", c->rules[s->violations[i].rule].field);
        describe_one(c, &s->violations[i], out);
    }
}

sl_value sl_contract_violations_value(const sl_contract *c, const sl_contract_scratch *s, sl_arena *a) {
    sl_value list = sl_array_new(a, s->count);
    sl_buf text;
    sl_buf_init(&text);
    for (size_t i = 0; i < s->count; i++) {
        const sl_rule *r = &c->rules[s->violations[i].rule];
        text.len = 0;
        describe_one(c, &s->violations[i], &text);
        sl_value entry = sl_map_new(a, 3);
        sl_map_append(a, &entry, "field", 5, sl_cstring(r->field));
        sl_map_append(a, &entry, "rule", 4, sl_cstring(r->kind));
        sl_map_append(a, &entry, "message", 7, sl_string_copy(a, text.data, text.len));
        sl_array_push(a, &list, entry);
    }
    sl_buf_free(&text);
    return list;
}
