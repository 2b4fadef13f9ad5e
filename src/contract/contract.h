/* contract.h — a data contract, compiled: what every record must look like.
 *
 * A contract is a tree of field specs plus custom rules:
 *
 *   fields:
 *     ts:         {type: timestamp, required: true, nullable: false}
 *     level:      {type: string, enum: [debug, info, warn, error]}
 *     latency_ms: {type: int, coerce: true, min: 0}
 *     user.email: {format: email}
 *     request_id: {unique: {window: 100000}}
 *   rules:
 *     - {name: token_budget, expr: '.tokens.in + .tokens.out <= 8192'}
 *
 * It is loaded from inline YAML (sl_contract_from_nodes), from a YAML file of
 * the same shape (sl_contract_load_file, errors reported at that file's
 * line:col), or from a JSON Schema (jsonschema.h). Everything — paths, enum
 * values, regexes, expressions — is compiled at load; checking a record that
 * passes allocates nothing.
 *
 * Each (field, rule) pair is one numbered rule (sl_contract_rule), which is
 * what violations and per-rule counters refer to.
 *
 * Threading: a compiled contract is immutable and shared by all workers,
 * except the `unique` windows, which sl_contract_mark_duplicates guards with
 * the contract's own mutex (taken once per call, i.e. once per batch). Each
 * thread checks records with its own sl_contract_scratch (PCRE2 match data
 * and the violation list).
 */
#ifndef SL_CONTRACT_H
#define SL_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../config/diag.h"
#include "../config/node.h"
#include "../core/arena.h"
#include "../core/batch.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"

/* The most `unique` fields one contract may have (one bit each per record). */
#define SL_CONTRACT_MAX_UNIQUE 64
/* Default number of recent values a `unique: true` field is compared with. */
#define SL_CONTRACT_UNIQUE_WINDOW 100000

typedef struct sl_contract sl_contract;
typedef struct sl_contract_scratch sl_contract_scratch;

typedef struct sl_rule {
    const char *field;   /* "level", "user.email", "tags[]"; a custom rule's name */
    const char *kind;    /* "type", "required", "enum", "min", ..., "expr" */
} sl_rule;

typedef struct sl_violation {
    uint32_t rule;          /* index into the contract's rules */
    const sl_value *got;    /* the offending value; NULL when missing */
    const char *note;       /* custom rules: the evaluation error, or NULL */
} sl_violation;

/* Inline contract: `fields` (a mapping of field path to spec, or NULL) and
 * `rules` (a list of {name, expr}, or NULL). Reports every problem to diag
 * and returns NULL when there was any. */
sl_contract *sl_contract_from_nodes(const sl_node *fields, const sl_node *rules, sl_diag *diag);
/* A YAML file holding a mapping with `fields:` and/or `rules:`. `at` is where
 * the path was written (for "cannot read" errors); errors inside the file
 * point into the file. */
sl_contract *sl_contract_load_file(const char *path, sl_pos at, sl_diag *diag);
/* Adds custom rules (a list of {name, expr}) to a contract built from
 * another source (a JSON Schema); returns -1 after reporting to diag. */
int sl_contract_add_rules(sl_contract *c, const sl_node *rules, sl_diag *diag);
void sl_contract_free(sl_contract *c);

size_t sl_contract_rule_count(const sl_contract *c);
const sl_rule *sl_contract_rule(const sl_contract *c, size_t i);
/* True when some field has a `unique` rule (sl_contract_mark_duplicates is
 * then needed before checking). */
bool sl_contract_has_unique(const sl_contract *c);
/* True when some field, at any depth, has `coerce: true`: only then does
 * sl_contract_check write to the record it checks. */
bool sl_contract_coerces(const sl_contract *c);

sl_contract_scratch *sl_contract_scratch_new(const sl_contract *c);
void sl_contract_scratch_free(sl_contract_scratch *s);

/* For each record i, sets bit k of dup[i] when the record's value of the
 * k-th unique field was seen within that field's window (and remembers the
 * values that were not). Missing and null values are never duplicates.
 * Values are compared as they arrive, before any coercion. Thread-safe. */
void sl_contract_mark_duplicates(sl_contract *c, sl_record *const *recs, size_t n, uint64_t *dup);

/* Checkpoints (contract_state.c): appends the `unique` windows as a JSON
 * array [{"field":NAME,"window":{...}}, ...] (seen_set.h's state, values
 * oldest first). Thread-safe. */
void sl_contract_save_unique(sl_contract *c, sl_buf *out);
/* Restores saved windows (a parsed sl_contract_save_unique array) into the
 * unique fields of the same names, into empty windows of the current sizes
 * (a smaller window keeps the newest values). Saved windows of fields that
 * are not unique any more are ignored, and unique fields without a saved
 * window start empty: both are described in `notes` ("; "-separated) for
 * the caller to log. Returns 0, or -1 with err when the state is damaged
 * (the windows are then unchanged). */
int sl_contract_restore_unique(sl_contract *c, const sl_value *saved, sl_buf *notes, sl_error *err);

/* Checks one record (an SL_MAP), converting `coerce: true` fields in place
 * (new strings in arena a). dup is the record's bits from
 * sl_contract_mark_duplicates (0 when the contract has no unique rule).
 * Returns the number of violated rules; the violations stay in the scratch
 * until the next check. Each rule is reported at most once per record. */
size_t sl_contract_check(const sl_contract *c, sl_contract_scratch *s, sl_value *record, sl_arena *a,
                         uint64_t dup);
const sl_violation *sl_contract_violations(const sl_contract_scratch *s);

/* Appends the message for the violations of the last check:
 *   3 rules failed: level: enum (got "verbose"; allowed: debug, info, warn,
 *   error); latency_ms: min 0 (got -5); ts: required (missing)
 * Values are shown as JSON, cut to about 40 characters. */
void sl_contract_describe_violations(const sl_contract *c, const sl_contract_scratch *s, sl_buf *out);
/* The violations of the last check as an array of
 * {"field":..,"rule":..,"message":..} maps allocated in arena a. */
sl_value sl_contract_violations_value(const sl_contract *c, const sl_contract_scratch *s, sl_arena *a);

#endif
