/* contract_internal.h — the compiled contract's insides, shared by the
 * loaders (contract_load.c for YAML, jsonschema.c for JSON Schema) and the
 * checker (contract.c). Not for use outside src/quality.
 *
 * A field spec applies to one value: a field found by `path` from its parent
 * (the record, for top-level fields), or each element of an array (`items`,
 * path NULL). Nested object schemas (`props`) apply only when the value is a
 * map, so an absent optional parent does not make its required children
 * fail. Every constraint that is set gets a rule number at
 * sl_contract_finish; -1 means "not set".
 */
#ifndef SL_CONTRACT_INTERNAL_H
#define SL_CONTRACT_INTERNAL_H

#include <pthread.h>

#include "../expr/expr.h"
#include "contract.h"
#include "formats.h"
#include "simple_regex.h"
#include "../sketch/seen_set.h"

/* Type bits of a spec's `types` (0 = any type). */
enum {
    SL_CT_STRING = 1 << 0,
    SL_CT_INT = 1 << 1,
    SL_CT_NUMBER = 1 << 2,
    SL_CT_BOOL = 1 << 3,
    SL_CT_TIMESTAMP = 1 << 4,
    SL_CT_ARRAY = 1 << 5,
    SL_CT_MAP = 1 << 6,
    SL_CT_NULL = 1 << 7,
};

typedef struct sl_spec sl_spec;

struct sl_spec {
    sl_path *path;           /* NULL: applies to the value itself (array items) */
    char *name;              /* shown in messages: "user.email", "tags[]" */
    bool required, coerce;
    bool not_nullable;       /* nullable: false, reported as its own rule */
    bool null_ok;            /* a null value passes (skipping the other rules) */
    unsigned types;          /* SL_CT_* bits, 0 = any */
    sl_value *enum_values;   /* scalars; strings malloc'd */
    size_t n_enum;
    char *enum_text;         /* "debug, info, warn, error" */
    bool has_min, has_max, min_exclusive, max_exclusive;
    double min, max;
    char *min_text, *max_text;   /* as written */
    int64_t min_len, max_len;    /* -1 = unset */
    void *regex;             /* pcre2_code */
    bool regex_jit;          /* compiled by the JIT: matched with pcre2_jit_match */
    sl_simple_regex *simple_regex;   /* the pattern is in simple_regex.h's subset, else NULL */
    char *regex_src;
    int format;              /* sl_strfmt, or -1 */
    int unique_bit;          /* bit in the per-record dup mask, or -1 */
    size_t unique_window;
    sl_spec *items;          /* one spec, or NULL */
    sl_spec *props;          /* n_props specs */
    size_t n_props;
    /* rule numbers, -1 when the constraint is not set */
    int r_required, r_nullable, r_type, r_enum, r_min, r_max, r_min_len, r_max_len, r_regex,
        r_format, r_unique;
};

typedef struct sl_custom_rule {
    char *name;
    sl_expr *expr;
    int rule;
} sl_custom_rule;

struct sl_contract {
    sl_spec *fields;         /* top-level field specs */
    size_t n_fields;
    sl_custom_rule *customs;
    size_t n_customs;
    /* The distinct first keys of the top-level fields' paths, found in one
     * pass over the record instead of one scan of it per field: key_table
     * is an open-addressed hash of them (entry = key number + 1, 0 = empty)
     * and field_key[i] is field i's key number (-1: found by sl_path_get);
     * field_nested[i]: its path has more steps (sl_path_get_rest). */
    struct { const char *key; size_t len; } *keys;
    size_t n_keys;
    uint16_t *key_table;
    uint32_t key_mask;
    int *field_key;
    bool *field_nested;
    sl_rule *rules;          /* numbered by sl_contract_finish */
    bool finished;           /* field rules numbered */
    size_t n_rules, cap_rules;
    /* unique fields, by bit */
    const sl_spec *unique_specs[SL_CONTRACT_MAX_UNIQUE];
    sl_seen_set windows[SL_CONTRACT_MAX_UNIQUE];   /* the last unique_window values, by key */
    size_t n_unique;
    pthread_mutex_t unique_lock;
};

sl_contract *sl_contract_new(void);
/* Allocates the top-level field array (n specs, initialised). */
sl_spec *sl_contract_alloc_specs(size_t n);
void sl_spec_init(sl_spec *sp);
/* Frees what a spec holds (not the spec itself). */
void sl_spec_free(sl_spec *sp);
/* Compiles a PCRE2 pattern into sp->regex; -1 with err on a bad pattern. */
int sl_spec_set_regex(sl_spec *sp, const char *pattern, size_t len, sl_error *err);
/* Sets sp->enum_text from sp->enum_values. */
void sl_spec_enum_text(sl_spec *sp);
/* Numbers every rule not numbered yet (custom rules added later get the
 * next numbers) and creates the unique windows; -1 with err when the
 * contract has too many unique fields. */
int sl_contract_finish(sl_contract *c, sl_error *err);
/* Parses a type name ("string", "int", "float", "number", "bool",
 * "timestamp", "array", "map", "object", "null"); 0 when unknown. */
unsigned sl_contract_type_bit(const char *name);
extern const char *const sl_contract_type_names[];   /* for "did you mean" */
extern const size_t sl_contract_n_type_names;
/* Out-of-memory-checked allocation helpers. */
void *sl_contract_calloc(size_t n, size_t size);
char *sl_contract_strdup(const char *s);

#endif
