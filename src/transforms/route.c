/* route.c — the `route` transform: splits a stream into named outputs.
 *
 * Each route is an output name and a condition. Downstream components select
 * an output as `inputs: [<route>.<name>]`. As in Vector, a record goes to
 * every route whose condition holds (routes are not exclusive) and to the
 * reserved `_unmatched` output when none does. All conditions are evaluated
 * before anything is emitted, so a record whose evaluation fails goes to the
 * DLQ only, never half-routed.
 *
 * The outputs array (c->outputs) is owned by the route's state: copies of the
 * route names in the order written, then "_unmatched".
 */
#include <stdlib.h>
#include <string.h>

#include "../expr/expr.h"
#include "../runtime/component.h"

#define ROUTE_UNMATCHED "_unmatched"

typedef struct route_state {
    size_t n;                 /* number of routes (outputs are n + 1) */
    sl_expr **conds;          /* conds[i] selects output i */
    const char **outputs;     /* n + 1 names, the last one "_unmatched" */
} route_state;

static const sl_option route_options[] = {
    {"routes", SL_OPT_ANY, true, NULL,
     "A mapping of output name to condition (an expression). Names use lowercase letters, "
     "digits and `_`; `_unmatched` is reserved for records that match no route.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static void route_destroy(sl_component *c) {
    route_state *s = c->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        sl_expr_free(s->conds[i]);
        free((char *)s->outputs[i]);
    }
    free(s->conds);
    free(s->outputs);
    free(s);
    c->impl = NULL;
    c->outputs = NULL;
    c->n_outputs = 0;
}

static bool route_name_ok(const char *name) {
    if (!*name) return false;
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
    }
    return true;
}

static int route_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    const sl_node *routes = sl_opts_node(opts, "routes");
    if (!routes || routes->kind != SL_NODE_MAP || routes->n_pairs == 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "routes"),
                      "routes must be a mapping of output name to condition, with at least one "
                      "route, e.g. {errors: '.level == \"error\"'}");
        return -1;
    }

    route_state *s = calloc(1, sizeof *s);
    sl_expr **conds = calloc(routes->n_pairs, sizeof *conds);
    const char **outputs = calloc(routes->n_pairs + 1, sizeof *outputs);
    if (!s || !conds || !outputs) {
        free(s), free(conds), free(outputs);
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    s->conds = conds;
    s->outputs = outputs;
    c->impl = s;

    size_t errors_before = diag->errors;
    for (size_t i = 0; i < routes->n_pairs; i++) {
        const sl_node *key = routes->pairs[i].key, *value = routes->pairs[i].value;
        if (strcmp(key->text, ROUTE_UNMATCHED) == 0) {
            sl_diag_error(diag, key->pos, "route name '%s' is reserved for records that match no route",
                          ROUTE_UNMATCHED);
        } else if (!route_name_ok(key->text)) {
            sl_diag_error(diag, key->pos,
                          "route name '%s' may only contain lowercase letters, digits and '_'",
                          key->text);
        }
        if (value->kind != SL_NODE_SCALAR) {
            sl_diag_error(diag, value->pos, "the condition of route '%s' must be an expression, not %s",
                          key->text, sl_node_kind_name(value->kind));
            continue;
        }
        s->conds[s->n] = sl_expr_compile(value->text, value->pos, diag);
        if (!s->conds[s->n]) continue;
        s->outputs[s->n] = strdup(key->text);
        if (!s->outputs[s->n]) {
            sl_expr_free(s->conds[s->n]);
            sl_diag_error(diag, c->pos, "out of memory");
            break;
        }
        s->n++;
    }
    if (diag->errors > errors_before) {
        route_destroy(c);
        return -1;
    }
    s->outputs[s->n] = ROUTE_UNMATCHED;
    c->outputs = s->outputs;
    c->n_outputs = (int)s->n + 1;
    return 0;
}

static void route_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                          sl_emit *out) {
    const route_state *s = c->impl;
    bool *matched = sl_arena_alloc(&b->arena, s->n);
    for (size_t i = 0; i < n; i++) {
        sl_record *r = recs[i];
        bool failed = false, any = false;
        for (size_t k = 0; k < s->n; k++) {
            sl_error err;
            int t = sl_expr_test(s->conds[k], sl_record_value(r), &b->arena, &err);
            if (t < 0) {
                sl_emit_dlq(out, r, "expr_error", "route '%s', condition `%s`: %s", s->outputs[k],
                            sl_expr_source(s->conds[k]), err.msg);
                failed = true;
                break;
            }
            matched[k] = t > 0;
            any |= matched[k];
        }
        if (failed) continue;
        if (!any) {
            sl_emit_record(out, (int)s->n, r);
            continue;
        }
        for (size_t k = 0; k < s->n; k++) {
            if (matched[k]) sl_emit_record(out, (int)k, r);
        }
    }
}

const sl_component_type sl_transform_route_type = {
    .name = "route",
    .kind = SL_TRANSFORM,
    .summary = "Send records to named outputs by condition",
    .doc =
        "Splits a stream into named outputs. Each entry of `routes` names an output and "
        "gives its condition; downstream components read an output as "
        "`inputs: [<route name>.<output>]`. A record goes to *every* route whose condition "
        "is true (routes are not exclusive; the record is copied to each), and records that "
        "match no route go to the `_unmatched` output (read it as `<route name>._unmatched` "
        "when those records matter).\n\n"
        "All conditions are evaluated before the record is sent anywhere. If any of them "
        "fails for a record (e.g. a type error), the record goes to the DLQ with reason "
        "`expr_error`, naming the route, and to no output.",
    .example =
        "transforms:\n"
        "  by_level:\n"
        "    type: route\n"
        "    inputs: [events]\n"
        "    routes:\n"
        "      errors: '.level == \"error\"'\n"
        "      slow: '.latency_ms > 1000'\n"
        "  # downstream: inputs: [by_level.errors], [by_level.slow], [by_level._unmatched]\n",
    .options = route_options,
    .create = route_create,
    .destroy = route_destroy,
    .process = route_process,
};
