/* filter.c — the `filter` transform: keeps the records a condition accepts.
 *
 * The condition is compiled once at create time (expr.h) and evaluated per
 * record on the worker threads; a compiled expression is immutable, so the
 * workers share it without locking. Records for which the condition is false
 * (or null) are dropped on purpose; the runtime counts them as
 * received - sent. A condition that cannot be evaluated for a record (a
 * runtime type error, an overflow) is a data problem, not a reason to drop
 * silently: that record goes to the DLQ.
 */
#include <stdlib.h>

#include "../expr/expr.h"
#include "../runtime/component.h"

static const sl_option filter_options[] = {
    {"condition", SL_OPT_EXPR, true, NULL,
     "Expression evaluated for each record; the record is kept when the result is true "
     "(anything but `false` and `null`).", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int filter_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    const sl_node *node = sl_opts_node(opts, "condition");
    if (!node || node->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, sl_opts_pos(opts, "condition"),
                      "condition must be an expression, e.g. '.status >= 500'");
        return -1;
    }
    sl_expr *e = sl_expr_compile(node->text, node->pos, diag);
    if (!e) return -1;
    c->impl = e;
    return 0;
}

static void filter_destroy(sl_component *c) {
    sl_expr_free(c->impl);
    c->impl = NULL;
}

static void filter_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_emit *out) {
    const sl_expr *cond = c->impl;
    for (size_t i = 0; i < n; i++) {
        sl_error err;
        int keep = sl_expr_test(cond, sl_record_value(recs[i]), &b->arena, &err);
        if (keep > 0)
            sl_emit_record(out, 0, recs[i]);
        else if (keep < 0)
            sl_emit_dlq(out, recs[i], "expr_error", "condition `%s`: %s",
                        sl_expr_source(cond), err.msg);
    }
}

const sl_component_type sl_transform_filter_type = {
    .name = "filter",
    .kind = SL_TRANSFORM,
    .summary = "Keep only the records for which a condition is true",
    .doc =
        "Evaluates `condition` (see the expression language) for each record and passes "
        "the record on when the result is truthy: everything except `false` and `null`. A "
        "missing field reads as `null`, so `.level == \"error\"` is simply false for records "
        "without a `level`. Dropped records are counted (received minus sent) but not "
        "written anywhere.\n\n"
        "When the condition cannot be evaluated for a record — a type error such as "
        "`\"abc\" > 3`, an integer overflow, a division by zero — the record goes to the "
        "DLQ with reason `expr_error`, and the message quotes the condition and the "
        "error.",
    .example =
        "transforms:\n"
        "  slow_requests:\n"
        "    type: filter\n"
        "    inputs: [events]\n"
        "    condition: '.latency_ms > 500 && .level != \"debug\"'\n",
    .options = filter_options,
    .create = filter_create,
    .destroy = filter_destroy,
    .process = filter_process,
};
