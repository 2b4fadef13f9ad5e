/* options.h — component option schemas, the one source of truth for what a
 * component accepts.
 *
 * A component declares a table of sl_option. The same table drives:
 *  - validation (unknown keys with "did you mean", missing required keys,
 *    wrong types, enum values, sizes and durations), see sl_opts_resolve;
 *  - `sluice help COMPONENT` and the generated docs/components.md.
 * Components read their resolved options through the typed accessors below;
 * defaults from the schema are already applied.
 *
 * Types:
 *   STRING    a scalar                      "out/events.jsonl"
 *   INT       a signed integer              4
 *   FLOAT     a number                      0.25
 *   BOOL      true/false                    true
 *   SIZE      bytes with an optional unit   64MiB, 1GB, 512k
 *   DURATION  a time span                   250ms, 5s, 1m
 *   ENUM      one of enum_values            jsonl
 *   LIST      a list of strings (a single string is accepted as a list of one);
 *             a plain number, boolean or null is an error: quote it
 *   EXPR      an expression (expr.h), compiled by the component
 *   ANY       any node (a mapping or list the component interprets itself;
 *             `doc` must say its shape)
 * A dotted name ("csv.delimiter") is an option nested in a mapping ("csv:").
 */
#ifndef SL_OPTIONS_H
#define SL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "node.h"

typedef enum {
    SL_OPT_STRING, SL_OPT_INT, SL_OPT_FLOAT, SL_OPT_BOOL, SL_OPT_SIZE,
    SL_OPT_DURATION, SL_OPT_ENUM, SL_OPT_LIST, SL_OPT_EXPR, SL_OPT_ANY,
} sl_opt_type;

typedef struct sl_option {
    const char *name;                /* NULL terminates a table */
    sl_opt_type type;
    bool required;
    const char *default_value;       /* as the user would write it, or NULL */
    const char *doc;                 /* one or two sentences */
    const char *const *enum_values;  /* ENUM: NULL-terminated */
} sl_option;

typedef struct sl_opts sl_opts;

/* Validates a component's mapping against its schema (keys "type" and
 * "inputs" are the pipeline's and are skipped), reporting every problem to
 * diag. Returns the resolved options even when there were errors (values that
 * failed to parse read as their defaults) so that validation can continue. */
sl_opts *sl_opts_resolve(const sl_option *schema, const sl_node *map, sl_diag *diag);
void sl_opts_free(sl_opts *o);

/* Accessors. `name` must be in the schema (a programming error aborts). */
bool sl_opts_has(const sl_opts *o, const char *name);   /* set by the user */
const char *sl_opts_string(const sl_opts *o, const char *name);   /* NULL if unset */
int64_t sl_opts_int(const sl_opts *o, const char *name);
double sl_opts_float(const sl_opts *o, const char *name);
bool sl_opts_bool(const sl_opts *o, const char *name);
uint64_t sl_opts_size(const sl_opts *o, const char *name);          /* bytes */
uint64_t sl_opts_duration_ms(const sl_opts *o, const char *name);
const char *sl_opts_enum(const sl_opts *o, const char *name);
/* LIST: number of items and the i-th item text. */
size_t sl_opts_list_len(const sl_opts *o, const char *name);
const char *sl_opts_list_item(const sl_opts *o, const char *name, size_t i);
/* The node the user wrote (for EXPR, ANY, and for positions in errors);
 * NULL when unset. */
const sl_node *sl_opts_node(const sl_opts *o, const char *name);
/* Position of the option (or of the component when the option is unset). */
sl_pos sl_opts_pos(const sl_opts *o, const char *name);

/* Markdown reference for one component type (used by docs and `sluice help`). */
void sl_options_doc_markdown(const sl_option *schema, sl_buf *out);
const char *sl_opt_type_name(sl_opt_type t);

#endif
