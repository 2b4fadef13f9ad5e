/* validate.c — the `validate` transform: checks every record against a data
 * contract and sends the records that break it to the DLQ (or drops or
 * annotates them), naming every violated rule.
 *
 * The contract (src/contract/contract.h) is compiled once at create time from
 * inline `fields:`/`rules:`, a contract file, or a JSON Schema, and shared
 * read-only by the workers. Each worker checks with its own scratch space
 * (PCRE2 match data, the violation list, a message buffer), so the pass path
 * takes no lock and allocates nothing. `unique` rules are the exception that
 * needs shared memory: once per batch, under the contract's mutex.
 *
 * Counters: records, passed and failed, and failures per rule. Workers tally
 * a batch locally and add to the shared atomics once per batch; `describe`
 * and `metrics` read the atomics from any thread.
 *
 * Checkpoints: the state is the counters (failures by field and rule, so
 * an edited contract keeps the counts of the rules it still has) and the
 * `unique` windows (contract.h), without which a restarted run would let
 * through repeats of the values seen before the restart.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/log.h"
#include "../contract/contract.h"
#include "../contract/jsonschema.h"
#include "../runtime/component.h"
#include "../runtime/order_gate.h"

typedef enum { ON_FAILURE_DLQ, ON_FAILURE_DROP, ON_FAILURE_ANNOTATE } on_failure;

static const char *const on_failure_values[] = {"dlq", "drop", "annotate", NULL};

typedef struct validate_state {
    sl_contract *contract;
    bool coerces;                      /* the contract writes (sl_contract_coerces) */
    on_failure mode;
    size_t n_rules;
    _Atomic uint64_t records, passed, failed;
    _Atomic uint64_t *rule_failures;   /* n_rules */
    sl_order_gate gate;                /* `unique` applies batches in source order */
} validate_state;

typedef struct validate_worker {
    sl_contract_scratch *scratch;
    uint64_t *failures;                /* this batch's failures per rule */
    sl_buf message;
} validate_worker;

static const sl_option validate_options[] = {
    {"fields", SL_OPT_ANY, false, NULL,
     "A mapping of field path to rules, e.g. `{level: {type: string, enum: [info, error]}, "
     "latency_ms: {type: int, min: 0}}`; a plain type name is shorthand for `{type: NAME}`. "
     "See docs/contracts.md for every rule.", NULL},
    {"rules", SL_OPT_ANY, false, NULL,
     "Custom rules: a list of `{name: NAME, expr: EXPRESSION}`; a record breaks the rule when "
     "the expression is false or null (or cannot be evaluated).", NULL},
    {"contract", SL_OPT_STRING, false, NULL,
     "Path of a YAML file holding `fields:` and/or `rules:` (the same shape as inline), relative "
     "to the working directory. Instead of inline `fields`/`rules`.", NULL},
    {"schema", SL_OPT_STRING, false, NULL,
     "Path of a JSON Schema file (the common subset: type, required, properties, enum, "
     "minimum/maximum, minLength/maxLength, pattern, items, format). Other keywords are "
     "rejected at load. Can be combined with inline `rules`.", NULL},
    {"on_failure", SL_OPT_ENUM, false, "dlq",
     "What happens to a record that breaks the contract: `dlq` (reason `contract_violation`), "
     "`drop`, or `annotate` (kept, with the violations in a `_violations` field).",
     on_failure_values},
    {NULL, 0, false, NULL, NULL, NULL},
};

static void validate_destroy(sl_component *c) {
    validate_state *s = c->impl;
    if (!s) return;
    sl_contract_free(s->contract);
    free(s->rule_failures);
    sl_order_gate_destroy(&s->gate);
    free(s);
    c->impl = NULL;
}

static sl_contract *load_contract(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    bool inline_fields = sl_opts_has(opts, "fields"), inline_rules = sl_opts_has(opts, "rules");
    bool file = sl_opts_has(opts, "contract"), schema = sl_opts_has(opts, "schema");
    if ((int)(inline_fields || (inline_rules && !schema)) + (int)file + (int)schema != 1) {
        sl_diag_error(diag, c->pos,
                      "validate needs exactly one contract: inline fields/rules, contract: FILE.yaml, "
                      "or schema: FILE.json (inline rules may be added to a schema)");
        return NULL;
    }
    if (file) return sl_contract_load_file(sl_opts_string(opts, "contract"), sl_opts_pos(opts, "contract"), diag);
    if (!schema) return sl_contract_from_nodes(sl_opts_node(opts, "fields"), sl_opts_node(opts, "rules"), diag);
    sl_contract *contract = sl_jsonschema_load_file(sl_opts_string(opts, "schema"), sl_opts_pos(opts, "schema"), diag);
    if (contract && inline_rules && sl_contract_add_rules(contract, sl_opts_node(opts, "rules"), diag) != 0) {
        sl_contract_free(contract);
        return NULL;
    }
    return contract;
}

static int validate_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    sl_contract *contract = load_contract(c, opts, diag);
    if (!contract) return -1;
    validate_state *s = calloc(1, sizeof *s);
    size_t n = sl_contract_rule_count(contract);
    _Atomic uint64_t *failures = calloc(n ? n : 1, sizeof *failures);
    if (!s || !failures) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    s->contract = contract;
    s->coerces = sl_contract_coerces(contract);
    sl_order_gate_init(&s->gate);
    s->n_rules = n;
    s->rule_failures = failures;
    const char *mode = sl_opts_enum(opts, "on_failure");
    s->mode = strcmp(mode, "drop") == 0 ? ON_FAILURE_DROP
              : strcmp(mode, "annotate") == 0 ? ON_FAILURE_ANNOTATE : ON_FAILURE_DLQ;
    c->impl = s;
    return 0;
}

static void *validate_worker_init(sl_component *c, sl_error *err) {
    const validate_state *s = c->impl;
    validate_worker *w = calloc(1, sizeof *w);
    uint64_t *failures = calloc(s->n_rules ? s->n_rules : 1, sizeof *failures);
    if (!w || !failures) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    w->scratch = sl_contract_scratch_new(s->contract);
    w->failures = failures;
    sl_buf_init(&w->message);
    return w;
}

static void validate_worker_free(sl_component *c, void *wstate) {
    validate_worker *w = wstate;
    sl_contract_scratch_free(w->scratch);
    free(w->failures);
    sl_buf_free(&w->message);
    free(w);
}

static void validate_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                             sl_emit *out) {
    validate_state *s = c->impl;
    validate_worker *w = wstate;
    uint64_t *dup = NULL;
    if (sl_contract_has_unique(s->contract)) {
        /* Which of two equal values is the duplicate must not depend on
         * which worker got there first: batches pass in source order. */
        dup = sl_arena_alloc(&b->arena, (n ? n : 1) * sizeof *dup);
        sl_order_gate_enter(&s->gate, b);
        sl_contract_mark_duplicates(s->contract, recs, n, dup);
        sl_order_gate_leave(&s->gate, b);
    }
    if (n == 0)
        return;
    uint64_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        sl_record *r = recs[i];
        /* Only a contract that coerces writes to the record; checking alone
         * leaves it unchanged, to be written as it came. */
        sl_value *value = s->coerces ? sl_record_mut(r) : (sl_value *)sl_record_value(r);
        size_t nv = sl_contract_check(s->contract, w->scratch, value, &b->arena, dup ? dup[i] : 0);
        if (nv == 0) {
            sl_emit_record(out, 0, r);
            continue;
        }
        failed++;
        const sl_violation *v = sl_contract_violations(w->scratch);
        for (size_t k = 0; k < nv; k++) w->failures[v[k].rule]++;
        if (s->mode == ON_FAILURE_DLQ) {
            w->message.len = 0;
            sl_contract_describe_violations(s->contract, w->scratch, &w->message);
            sl_emit_dlq(out, r, "contract_violation", "%s", w->message.data);
        } else if (s->mode == ON_FAILURE_ANNOTATE) {
            sl_value list = sl_contract_violations_value(s->contract, w->scratch, &b->arena);
            sl_map_set(&b->arena, sl_record_mut(r), "_violations", 11, list);
            sl_emit_record(out, 0, r);
        }
    }
    if (failed) {
        for (size_t k = 0; k < s->n_rules; k++) {
            if (!w->failures[k]) continue;
            atomic_fetch_add_explicit(&s->rule_failures[k], w->failures[k], memory_order_relaxed);
            w->failures[k] = 0;
        }
    }
    atomic_fetch_add_explicit(&s->records, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->passed, n - failed, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->failed, failed, memory_order_relaxed);
}

static void validate_describe(sl_component *c, sl_buf *json) {
    validate_state *s = c->impl;
    sl_buf_printf(json, "{\"type\":\"validate\",\"records\":%llu,\"passed\":%llu,\"failed\":%llu,\"rules\":[",
                  (unsigned long long)atomic_load(&s->records), (unsigned long long)atomic_load(&s->passed),
                  (unsigned long long)atomic_load(&s->failed));
    for (size_t k = 0; k < s->n_rules; k++) {
        const sl_rule *r = sl_contract_rule(s->contract, k);
        sl_buf_puts(json, k ? ",{\"field\":" : "{\"field\":");
        sl_json_encode_string(json, r->field, strlen(r->field));
        sl_buf_printf(json, ",\"rule\":\"%s\",\"failures\":%llu}", r->kind,
                      (unsigned long long)atomic_load(&s->rule_failures[k]));
    }
    sl_buf_puts(json, "]}");
}

static void validate_metrics(sl_component *c, sl_buf *out) {
    validate_state *s = c->impl;
    sl_buf_puts(out, "# HELP sluice_validate_records_total Records checked against a contract, by result.\n"
                     "# TYPE sluice_validate_records_total counter\n");
    const char *results[] = {"passed", "failed"};
    uint64_t counts[] = {atomic_load(&s->passed), atomic_load(&s->failed)};
    for (int i = 0; i < 2; i++) {
        sl_buf_puts(out, "sluice_validate_records_total{component=\"");
        sl_prom_escape(out, c->name);
        sl_buf_printf(out, "\",result=\"%s\"} %llu\n", results[i], (unsigned long long)counts[i]);
    }
    sl_buf_puts(out, "# HELP sluice_validate_rule_failures_total Records that broke a contract rule.\n"
                     "# TYPE sluice_validate_rule_failures_total counter\n");
    for (size_t k = 0; k < s->n_rules; k++) {
        const sl_rule *r = sl_contract_rule(s->contract, k);
        sl_buf_puts(out, "sluice_validate_rule_failures_total{component=\"");
        sl_prom_escape(out, c->name);
        sl_buf_puts(out, "\",field=\"");
        sl_prom_escape(out, r->field);
        sl_buf_printf(out, "\",rule=\"%s\"} %llu\n", r->kind, (unsigned long long)atomic_load(&s->rule_failures[k]));
    }
}

/* ---- checkpoints ---- */

#define STATE_VERSION 1

static int validate_save(sl_component *c, sl_buf *state, sl_error *err) {
    validate_state *s = c->impl;
    sl_buf_printf(state, "{\"version\":%d,\"records\":%llu,\"passed\":%llu,\"failed\":%llu,\"rules\":[",
                  STATE_VERSION, (unsigned long long)atomic_load(&s->records),
                  (unsigned long long)atomic_load(&s->passed), (unsigned long long)atomic_load(&s->failed));
    for (size_t k = 0; k < s->n_rules; k++) {
        const sl_rule *r = sl_contract_rule(s->contract, k);
        sl_buf_puts(state, k ? ",{\"field\":" : "{\"field\":");
        sl_json_encode_string(state, r->field, strlen(r->field));
        sl_buf_printf(state, ",\"rule\":\"%s\",\"failures\":%llu}", r->kind,
                      (unsigned long long)atomic_load(&s->rule_failures[k]));
    }
    sl_buf_puts(state, "],\"unique\":");
    sl_contract_save_unique(s->contract, state);
    sl_buf_putc(state, '}');
    return 0;
}


/* Sets the failure counter of each saved rule the contract still has. */
static int restore_rule_failures(validate_state *s, const sl_value *rules, sl_error *err) {
    if (!rules || rules->type != SL_ARRAY) return sl_errorf(err, "\"rules\" is missing or not a list");
    for (uint32_t i = 0; i < rules->len; i++) {
        const sl_value *saved = &rules->as.items[i];
        uint64_t failures;
        if (!sl_state_uint(saved, "failures", &failures))
            return sl_errorf(err, "rule %u has no failure count", i);
        for (size_t k = 0; k < s->n_rules; k++) {
            const sl_rule *r = sl_contract_rule(s->contract, k);
            if (sl_value_is_str(sl_state_get(saved, "field"), r->field) && sl_value_is_str(sl_state_get(saved, "rule"), r->kind))
                atomic_store(&s->rule_failures[k], failures);
        }
    }
    return 0;
}

static int restore_state(void *component, const sl_value *state, sl_error *err) {
    sl_component *c = component;
    validate_state *s = c->impl;
    uint64_t version, records, passed, failed;
    if (!sl_state_uint(state, "version", &version) || version != STATE_VERSION)
        return sl_errorf(err, "the state is not a validate state of version %d", STATE_VERSION);
    if (!sl_state_uint(state, "records", &records) || !sl_state_uint(state, "passed", &passed) ||
        !sl_state_uint(state, "failed", &failed))
        return sl_errorf(err, "the counters records, passed or failed are missing");
    sl_buf notes;
    sl_buf_init(&notes);
    int rc = sl_contract_restore_unique(s->contract, sl_state_get(state, "unique"), &notes, err);
    if (rc == 0) rc = restore_rule_failures(s, sl_state_get(state, "rules"), err);
    if (rc == 0) {
        atomic_store(&s->records, records);
        atomic_store(&s->passed, passed);
        atomic_store(&s->failed, failed);
        if (notes.len) sl_warn(c->name, "the contract changed since the checkpoint: %s", notes.data);
    }
    sl_buf_free(&notes);
    return rc;
}

static int validate_restore(sl_component *c, const char *state, size_t len, sl_error *err) {
    return state ? sl_state_read(state, len, restore_state, c, err) : 0;
}

const sl_component_type sl_transform_validate_type = {
    .name = "validate",
    .kind = SL_TRANSFORM,
    .summary = "Check every record against a data contract; failures go to the DLQ",
    .doc =
        "Checks each record against a contract: per-field rules (`type` with optional `coerce`, "
        "`required`, `nullable`, `enum`, `min`/`max`, `exclusive_min`/`exclusive_max`, "
        "`min_length`/`max_length`, `regex`, `format`, `unique`, `items`) and custom rules written "
        "in the expression language. The contract is written inline (`fields:`, `rules:`), in a "
        "separate YAML file (`contract:`), or as a JSON Schema (`schema:`).\n\n"
        "Fields are optional (`required: false`) and nullable (`nullable: true`) unless said "
        "otherwise; a null value passes every rule of a nullable field. A record that breaks any "
        "rule goes to the DLQ with reason `contract_violation` and a message listing every "
        "violated rule with the field and the actual value, e.g. `2 rules failed: level: enum "
        "(got \"verbose\"; allowed: debug, info, warn, error); ts: required (missing)`. With "
        "`on_failure: drop` it is dropped instead; with `annotate` it is kept and a "
        "`_violations` list is added to it.\n\n"
        "Per-rule failure counts appear in `/stats`, the report and `/metrics` "
        "(`sluice_validate_rule_failures_total`, `sluice_validate_records_total`). "
        "The full reference is docs/contracts.md.",
    .example =
        "transforms:\n"
        "  contract:\n"
        "    type: validate\n"
        "    inputs: [events]\n"
        "    fields:\n"
        "      ts: {type: timestamp, required: true, nullable: false}\n"
        "      level: {type: string, enum: [debug, info, warn, error]}\n"
        "      latency_ms: {type: int, coerce: true, min: 0}\n"
        "      user.email: {format: email}\n"
        "      request_id: {unique: {window: 100000}}\n"
        "    rules:\n"
        "      - {name: token_budget, expr: '.tokens.in + .tokens.out <= 8192'}\n",
    .options = validate_options,
    .create = validate_create,
    .destroy = validate_destroy,
    .worker_init = validate_worker_init,
    .worker_free = validate_worker_free,
    .process = validate_process,
    .ordered = true,
    .describe = validate_describe,
    .metrics = validate_metrics,
    .save = validate_save,
    .restore = validate_restore,
};
