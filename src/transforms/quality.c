/* quality.c — the `quality` transform: checks over many records (row count,
 * null rate, distinct ratio, uniqueness, mean/min/max/quantile bounds,
 * freshness) per batch or per time window, with a tolerance (`mostly`) and
 * an action on failure (log, route, fail the run).
 *
 * The checks themselves live in contract/checks.[ch]; this file owns windows,
 * verdict counting, actions, and the describe/metrics hooks.
 *
 * Windows. `window: batch` evaluates each batch on its own, on the worker
 * that holds it, with per-worker exact accumulators; only the verdict
 * counters are shared (one lock per batch). `window: 10s` is a tumbling
 * window of processing time aligned to multiples of its length: every batch
 * is measured outside the lock, then added to the open window under the lock.
 * A window is closed (evaluated) by the first batch that arrives after its
 * end, and at the end of the run by the finish hook. Its records have left
 * by then, so for time windows `route` diverts the records processed after
 * a failing window closed — starting with the batch that closed it — until a
 * window passes again.
 *
 * `mostly` is a fraction of windows: a check's status is pass while at least
 * `mostly` of its evaluated windows passed. A `fail` check with mostly 1
 * fails the run at its first failing window; with mostly < 1 the verdict
 * needs every window, so the run fails at the end when the status is fail.
 *
 * Checkpoints: the state that spans batches is each check's verdict
 * counters (windows, failed windows, last value, whether route is
 * diverting) and, for time windows, the open window (its start and every
 * check's accumulator). A restarted run continues them, so `mostly` judges
 * all windows since the start and an open window closes with the records
 * of both runs. Checks are matched by name; a check whose name, kind or
 * field changed starts afresh, and an open window of another length is
 * dropped, each with a warning.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../contract/checks.h"
#include "../runtime/component.h"

enum { OUT_PASSED = 0, OUT_FAILED = 1 };

typedef struct check_state {
    sl_check check;
    sl_check_acc *window;    /* time windows: the open window (under lock) */
    uint64_t windows, failed_windows;
    bool has_value;
    double last_value;       /* of the last evaluated window */
    bool diverting;          /* time windows, route: the last window failed */
} check_state;

typedef struct quality_state {
    check_state *checks;
    size_t n;
    uint64_t window_ms;      /* 0 = window: batch */
    bool routes;             /* some check routes: outputs passed/failed */
    const char *outputs[2];
    pthread_mutex_t lock;    /* guards the checks' counters and windows */
    bool window_open;
    int64_t window_start_ms;
} quality_state;

/* window: batch — each worker's exact accumulators, one per check. */
typedef struct quality_worker {
    sl_check_acc **accs;
    size_t n;
} quality_worker;

static const sl_option quality_options[] = {
    {"window", SL_OPT_STRING, false, "batch",
     "What one evaluation covers: `batch` (each batch of records on its own) or a duration "
     "such as `10s` or `5m` (a tumbling window of processing time).", NULL},
    {"checks", SL_OPT_ANY, true, NULL,
     "A list of checks, each a mapping: `check` (row_count, null_rate, distinct_ratio, unique, "
     "mean, min, max, quantile, freshness), `field` (a field path; not for row_count), bounds "
     "`min` / `max` (freshness: a duration), `q` (quantile only), `mostly` (fraction of windows "
     "that must pass, default 1), `action` (`log`, `route` or `fail`; default `log`) and an "
     "optional `name` (default e.g. `null_rate(user_id)`).", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static bool status_pass(const check_state *cs)
{
    if (cs->windows == 0) return true;
    double passed = (double)(cs->windows - cs->failed_windows);
    return passed >= cs->check.mostly * (double)cs->windows;
}

static void quality_destroy(sl_component *c)
{
    quality_state *q = c->impl;
    if (!q) return;
    for (size_t i = 0; i < q->n; i++) {
        sl_check_free(&q->checks[i].check);
        sl_check_acc_free(q->checks[i].window);
    }
    free(q->checks);
    pthread_mutex_destroy(&q->lock);
    free(q);
    c->impl = NULL;
    c->outputs = NULL;
    c->n_outputs = 0;
}

static int parse_window(quality_state *q, const sl_opts *opts, sl_diag *diag)
{
    const char *w = sl_opts_string(opts, "window");
    if (strcmp(w, "batch") == 0) return 0;
    if (!sl_parse_duration_ms(w, &q->window_ms) || q->window_ms == 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "window"),
                      "window must be `batch` or a duration such as 10s or 5m, got '%s'", w);
        return -1;
    }
    return 0;
}

static int quality_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    quality_state *q = calloc(1, sizeof *q);
    if (!q) {
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    pthread_mutex_init(&q->lock, NULL);
    c->impl = q;
    int rc = parse_window(q, opts, diag);

    const sl_node *list = sl_opts_node(opts, "checks");
    if (!list || list->kind != SL_NODE_SEQ || list->n_items == 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "checks"),
                      "checks must be a non-empty list of checks, e.g. "
                      "[{check: null_rate, field: user_id, max: 0.05}]");
        quality_destroy(c);
        return -1;
    }
    q->checks = calloc(list->n_items, sizeof *q->checks);
    if (!q->checks) abort();
    for (size_t i = 0; i < list->n_items; i++) {
        sl_check *ck = &q->checks[q->n].check;
        if (sl_check_parse(list->items[i], ck, diag) < 0) {
            rc = -1;
            continue;
        }
        q->n++;
        for (size_t j = 0; j + 1 < q->n; j++) {
            if (strcmp(q->checks[j].check.name, ck->name) == 0) {
                sl_diag_error(diag, list->items[i]->pos,
                              "two checks are named '%s'; give one a different `name:`", ck->name);
                rc = -1;
            }
        }
        if (ck->action == SL_CHECK_ROUTE) q->routes = true;
    }
    for (size_t i = 0; rc == 0 && i < q->n && q->window_ms; i++) {
        q->checks[i].window = sl_check_acc_new(&q->checks[i].check, false);
        if (!q->checks[i].window) abort();
    }
    if (rc < 0) {
        quality_destroy(c);
        return -1;
    }
    if (q->routes) {
        q->outputs[OUT_PASSED] = "passed";
        q->outputs[OUT_FAILED] = "failed";
        c->outputs = q->outputs;
        c->n_outputs = 2;
    }
    return 0;
}

static void *quality_worker_init(sl_component *c, sl_error *err)
{
    quality_state *q = c->impl;
    quality_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->n = q->window_ms ? 0 : q->n;
    w->accs = calloc(q->n ? q->n : 1, sizeof *w->accs);
    if (!w->accs) abort();
    for (size_t i = 0; i < w->n; i++) {
        w->accs[i] = sl_check_acc_new(&q->checks[i].check, true);
        if (!w->accs[i]) abort();
    }
    return w;
}

static void quality_worker_free(sl_component *c, void *wstate)
{
    quality_worker *w = wstate;
    for (size_t i = 0; i < w->n; i++) sl_check_acc_free(w->accs[i]);
    free(w->accs);
    free(w);
}

/* Counts one window's verdict (under the lock). Returns true when the
 * window failed; `why` then says how, for the log and a failed run. */
static bool record_verdict(sl_component *c, check_state *cs, sl_check_result r, sl_buf *why)
{
    if (!r.evaluated) return false;
    cs->windows++;
    cs->has_value = true;
    cs->last_value = r.value;
    if (r.pass) return false;
    cs->failed_windows++;
    const sl_check *ck = &cs->check;
    why->len = 0;
    sl_buf_printf(why, "check '%s' failed: %s", ck->name, sl_check_kind_name(ck->kind));
    if (ck->field) sl_buf_printf(why, " of %s", sl_path_source(ck->field));
    sl_buf_puts(why, " = ");
    sl_check_format_value(why, r.value);
    sl_buf_printf(why, "%s, expected %s", ck->kind == SL_CHECK_FRESHNESS ? "s" : "", ck->threshold);
    sl_warn(c->name, "%s (window %llu, %llu failed so far)", why->data,
            (unsigned long long)cs->windows, (unsigned long long)cs->failed_windows);
    return true;
}

/* What a window's verdicts ask for. */
typedef struct window_outcome {
    bool route;              /* some route check failed */
    bool fail;               /* a fail check with mostly 1 failed */
    sl_buf message;          /* the first such failure */
} window_outcome;

/* Evaluates every check's open window (time windows, under the lock) and
 * starts the next one. */
static void close_window(sl_component *c, quality_state *q, window_outcome *out)
{
    sl_buf why;
    sl_buf_init(&why);
    int64_t now = sl_now_ns();
    for (size_t i = 0; i < q->n; i++) {
        check_state *cs = &q->checks[i];
        sl_check_result r = sl_check_evaluate(&cs->check, cs->window, now);
        bool failed = record_verdict(c, cs, r, &why);
        if (r.evaluated && cs->check.action == SL_CHECK_ROUTE) cs->diverting = failed;
        if (failed && cs->check.action == SL_CHECK_FAIL && cs->check.mostly >= 1 && !out->fail) {
            out->fail = true;
            sl_buf_puts(&out->message, why.data);
        }
        sl_check_acc_reset(cs->window);
    }
    q->window_open = false;
    sl_buf_free(&why);
}

static void process_batch_window(sl_component *c, quality_state *q, quality_worker *w, sl_batch *b,
                                 sl_record **recs, size_t n, window_outcome *out)
{
    int64_t now = sl_now_ns();
    sl_check_result *results = sl_arena_alloc(&b->arena, q->n * sizeof *results);
    for (size_t i = 0; i < q->n; i++) {
        sl_check_sample s;
        sl_check_measure(&q->checks[i].check, recs, n, &b->arena, &s);
        sl_check_acc_reset(w->accs[i]);
        sl_check_acc_add(w->accs[i], &s);
        results[i] = sl_check_evaluate(&q->checks[i].check, w->accs[i], now);
    }
    sl_buf why;
    sl_buf_init(&why);
    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < q->n; i++) {
        check_state *cs = &q->checks[i];
        if (!record_verdict(c, cs, results[i], &why)) continue;
        if (cs->check.action == SL_CHECK_ROUTE) out->route = true;
        if (cs->check.action == SL_CHECK_FAIL && cs->check.mostly >= 1 && !out->fail) {
            out->fail = true;
            sl_buf_puts(&out->message, why.data);
        }
    }
    pthread_mutex_unlock(&q->lock);
    sl_buf_free(&why);
}

static void process_time_window(sl_component *c, quality_state *q, sl_batch *b, sl_record **recs,
                                size_t n, window_outcome *out)
{
    sl_check_sample *samples = sl_arena_alloc(&b->arena, q->n * sizeof *samples);
    for (size_t i = 0; i < q->n; i++) sl_check_measure(&q->checks[i].check, recs, n, &b->arena, &samples[i]);
    int64_t now_ms = sl_now_ns() / 1000000;
    pthread_mutex_lock(&q->lock);
    if (q->window_open && now_ms >= q->window_start_ms + (int64_t)q->window_ms) close_window(c, q, out);
    if (!q->window_open) {
        q->window_open = true;
        q->window_start_ms = now_ms - now_ms % (int64_t)q->window_ms;
    }
    for (size_t i = 0; i < q->n; i++) {
        sl_check_acc_add(q->checks[i].window, &samples[i]);
        if (q->checks[i].diverting) out->route = true;
    }
    pthread_mutex_unlock(&q->lock);
}

static void quality_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                            sl_emit *emit)
{
    quality_state *q = c->impl;
    window_outcome out = {0};
    sl_buf_init(&out.message);
    if (q->window_ms) process_time_window(c, q, b, recs, n, &out);
    else process_batch_window(c, q, wstate, b, recs, n, &out);
    if (out.fail) sl_emit_fail(emit, "%s", out.message.data);
    sl_buf_free(&out.message);
    int output = q->routes && out.route ? OUT_FAILED : OUT_PASSED;
    for (size_t i = 0; i < n; i++) sl_emit_record(emit, output, recs[i]);
}

/* End of the run: the last time window, then the `fail` checks whose
 * `mostly` could only be judged over all windows. */
static int quality_finish(sl_component *c, sl_error *err)
{
    quality_state *q = c->impl;
    window_outcome out = {0};
    sl_buf_init(&out.message);
    pthread_mutex_lock(&q->lock);
    if (q->window_open) close_window(c, q, &out);
    for (size_t i = 0; i < q->n && !out.fail; i++) {
        const check_state *cs = &q->checks[i];
        if (cs->check.action != SL_CHECK_FAIL || cs->check.mostly >= 1 || status_pass(cs)) continue;
        out.fail = true;
        sl_buf_printf(&out.message, "check '%s' failed in %llu of %llu windows (mostly: ", cs->check.name,
                      (unsigned long long)cs->failed_windows, (unsigned long long)cs->windows);
        sl_check_format_value(&out.message, cs->check.mostly);
        sl_buf_puts(&out.message, " of the windows must pass)");
    }
    pthread_mutex_unlock(&q->lock);
    int rc = out.fail ? sl_errorf(err, "%s", out.message.data) : 0;
    sl_buf_free(&out.message);
    return rc;
}

static void quality_describe(sl_component *c, sl_buf *json)
{
    quality_state *q = c->impl;
    sl_buf_puts(json, "{\"type\":\"quality\",\"checks\":[");
    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < q->n; i++) {
        const check_state *cs = &q->checks[i];
        const sl_check *ck = &cs->check;
        sl_buf_puts(json, i ? ",{\"name\":" : "{\"name\":");
        sl_json_encode_string(json, ck->name, strlen(ck->name));
        sl_buf_printf(json, ",\"check\":\"%s\"", sl_check_kind_name(ck->kind));
        if (ck->field) {
            const char *f = sl_path_source(ck->field);
            sl_buf_puts(json, ",\"field\":");
            sl_json_encode_string(json, f, strlen(f));
        }
        sl_buf_printf(json, ",\"status\":\"%s\",\"value\":", status_pass(cs) ? "pass" : "fail");
        if (cs->has_value) sl_check_format_value(json, cs->last_value);
        else sl_buf_puts(json, "null");
        sl_buf_puts(json, ",\"threshold\":");
        sl_json_encode_string(json, ck->threshold, strlen(ck->threshold));
        sl_buf_printf(json, ",\"windows\":%llu,\"failed_windows\":%llu}", (unsigned long long)cs->windows,
                      (unsigned long long)cs->failed_windows);
    }
    pthread_mutex_unlock(&q->lock);
    sl_buf_puts(json, "]}");
}

static void quality_metrics(sl_component *c, sl_buf *out)
{
    quality_state *q = c->impl;
    static const char *const families[2][3] = {
        {"sluice_quality_check_status", "gauge",
         "1 while a quality check passes (at least `mostly` of its windows passed), 0 when it fails."},
        {"sluice_quality_check_failures_total", "counter", "Windows in which a quality check failed."},
    };
    pthread_mutex_lock(&q->lock);
    for (int f = 0; f < 2; f++) {
        sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f][0], families[f][2], families[f][0],
                      families[f][1]);
        for (size_t i = 0; i < q->n; i++) {
            const check_state *cs = &q->checks[i];
            sl_buf_printf(out, "%s{component=\"", families[f][0]);
            sl_prom_escape(out, c->name);
            sl_buf_puts(out, "\",check=\"");
            sl_prom_escape(out, cs->check.name);
            if (f == 0) sl_buf_printf(out, "\"} %d\n", status_pass(cs) ? 1 : 0);
            else sl_buf_printf(out, "\"} %llu\n", (unsigned long long)cs->failed_windows);
        }
    }
    pthread_mutex_unlock(&q->lock);
}

/* ---- checkpoints ---- */

#define STATE_VERSION 1

static int quality_save(sl_component *c, sl_buf *state, sl_error *err)
{
    quality_state *q = c->impl;
    pthread_mutex_lock(&q->lock);
    sl_buf_printf(state, "{\"version\":%d,\"window_ms\":%llu,\"window_start_ms\":", STATE_VERSION,
                  (unsigned long long)q->window_ms);
    if (q->window_open) sl_buf_printf(state, "%lld", (long long)q->window_start_ms);
    else sl_buf_puts(state, "null");
    sl_buf_puts(state, ",\"checks\":[");
    for (size_t i = 0; i < q->n; i++) {
        const check_state *cs = &q->checks[i];
        const char *field = cs->check.field ? sl_path_source(cs->check.field) : NULL;
        sl_buf_puts(state, i ? ",{\"name\":" : "{\"name\":");
        sl_json_encode_string(state, cs->check.name, strlen(cs->check.name));
        sl_buf_printf(state, ",\"check\":\"%s\",\"field\":", sl_check_kind_name(cs->check.kind));
        if (field) sl_json_encode_string(state, field, strlen(field));
        else sl_buf_puts(state, "null");
        sl_buf_printf(state, ",\"windows\":%llu,\"failed_windows\":%llu,\"diverting\":%s",
                      (unsigned long long)cs->windows, (unsigned long long)cs->failed_windows,
                      cs->diverting ? "true" : "false");
        if (cs->has_value) {
            sl_value v = sl_double(cs->last_value);
            sl_buf_puts(state, ",\"value\":");
            sl_json_encode(state, &v);
        }
        if (q->window_open) {
            sl_buf_puts(state, ",\"window\":");
            sl_check_acc_save(cs->window, state);
        }
        sl_buf_putc(state, '}');
    }
    sl_buf_puts(state, "]}");
    pthread_mutex_unlock(&q->lock);
    return 0;
}


/* The saved entry of check cs (same name, kind and field), or NULL. */
static const sl_value *saved_check(const sl_value *checks, const check_state *cs)
{
    const char *field = cs->check.field ? sl_path_source(cs->check.field) : NULL;
    for (uint32_t i = 0; i < checks->len; i++) {
        const sl_value *e = &checks->as.items[i];
        const sl_value *f = sl_state_get(e, "field");
        if (sl_value_is_str(sl_state_get(e, "name"), cs->check.name) &&
            sl_value_is_str(sl_state_get(e, "check"), sl_check_kind_name(cs->check.kind)) &&
            (field ? sl_value_is_str(f, field) : f && f->type == SL_NULL))
            return e;
    }
    return NULL;
}

/* What restore will set for one check, read before anything changes. */
typedef struct check_restore {
    const sl_value *saved;   /* NULL: the check starts afresh */
    uint64_t windows, failed_windows;
    bool has_value, diverting;
    double value;
    sl_check_acc *window;    /* the open window's accumulator, or NULL */
} check_restore;

static int read_check(const check_state *cs, const sl_value *e, bool window_open, check_restore *out,
                      sl_error *err)
{
    const sl_value *diverting = sl_state_get(e, "diverting"), *value = sl_state_get(e, "value");
    out->saved = e;
    if (!sl_state_uint(e, "windows", &out->windows) || !sl_state_uint(e, "failed_windows", &out->failed_windows) ||
        out->failed_windows > out->windows || !diverting || diverting->type != SL_BOOL ||
        (value && value->type != SL_NULL && !sl_value_as_double(value, &out->value)))
        return sl_errorf(err, "check '%s': the counters are missing or mistyped", cs->check.name);
    out->diverting = diverting->as.b;
    out->has_value = value != NULL;
    if (value && value->type == SL_NULL) out->value = NAN;
    if (!window_open) return 0;
    out->window = sl_check_acc_new(&cs->check, false);
    if (!out->window) abort();
    if (sl_check_acc_restore(out->window, sl_state_get(e, "window"), err) < 0)
        return sl_error_prefix(err, "check '%s'", cs->check.name);
    return 0;
}

static void warn_unmatched(sl_component *c, const sl_value *checks, const check_restore *r)
{
    quality_state *q = c->impl;
    for (size_t i = 0; i < q->n; i++)
        if (!r[i].saved)
            sl_warn(c->name, "check '%s' is not in the checkpoint (new, or its kind or field changed): it starts "
                    "with no windows", q->checks[i].check.name);
    for (uint32_t k = 0; k < checks->len; k++) {
        bool used = false;
        for (size_t i = 0; i < q->n; i++) used |= r[i].saved == &checks->as.items[k];
        const sl_value *name = sl_state_get(&checks->as.items[k], "name");
        if (!used && name && name->type == SL_STRING)
            sl_warn(c->name, "check '%.*s' of the checkpoint is no longer configured (or changed): its "
                    "windows are dropped", (int)name->len, name->as.s);
    }
}

static int restore_state(void *component, const sl_value *state, sl_error *err)
{
    sl_component *c = component;
    quality_state *q = c->impl;
    uint64_t version, window_ms;
    const sl_value *checks = sl_state_get(state, "checks"), *start = sl_state_get(state, "window_start_ms");
    if (!sl_state_uint(state, "version", &version) || version != STATE_VERSION ||
        !sl_state_uint(state, "window_ms", &window_ms) || !checks || checks->type != SL_ARRAY || !start ||
        (start->type != SL_NULL && start->type != SL_INT))
        return sl_errorf(err, "the state is not a quality state of version %d", STATE_VERSION);
    bool window_open = start->type == SL_INT && window_ms == q->window_ms && q->window_ms;
    if (start->type == SL_INT && !window_open)
        sl_warn(c->name, "the checkpoint has an open window of %llu ms and the window is now %s: its records "
                "are not evaluated", (unsigned long long)window_ms, q->window_ms ? "of another length" : "batch");
    check_restore *r = calloc(q->n, sizeof *r);
    if (!r) abort();
    int rc = 0;
    for (size_t i = 0; i < q->n && rc == 0; i++) {
        const sl_value *e = saved_check(checks, &q->checks[i]);
        if (e) rc = read_check(&q->checks[i], e, window_open, &r[i], err);
    }
    if (rc == 0) {
        warn_unmatched(c, checks, r);
        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < q->n; i++) {
            check_state *cs = &q->checks[i];
            if (!r[i].saved) continue;
            cs->windows = r[i].windows;
            cs->failed_windows = r[i].failed_windows;
            cs->has_value = r[i].has_value;
            cs->last_value = r[i].value;
            cs->diverting = r[i].diverting;
            if (r[i].window) {
                sl_check_acc_free(cs->window);
                cs->window = r[i].window;
                r[i].window = NULL;
            }
        }
        q->window_open = window_open;
        if (window_open) q->window_start_ms = start->as.i;
        pthread_mutex_unlock(&q->lock);
    }
    for (size_t i = 0; i < q->n; i++) sl_check_acc_free(r[i].window);
    free(r);
    return rc;
}

static int quality_restore(sl_component *c, const char *state, size_t len, sl_error *err)
{
    return state ? sl_state_read(state, len, restore_state, c, err) : 0;
}

const sl_component_type sl_transform_quality_type = {
    .name = "quality",
    .kind = SL_TRANSFORM,
    .summary = "Check row counts, null rates, uniqueness, value bounds and freshness over windows",
    .doc =
        "Evaluates checks over many records at once — each batch (`window: batch`, the "
        "default) or each tumbling window of processing time (`window: 10s`) — and passes "
        "every record on. A check measures one value per window and passes when it is "
        "within `min`/`max`: `row_count` (records), `null_rate` (missing or null / records), "
        "`distinct_ratio` (distinct non-null values / non-null values), `unique` (that "
        "ratio must be 1), `mean`, `min`, `max` and `quantile` (with `q`) of the numeric "
        "values, and `freshness` (seconds from the newest event time to now; the field is a "
        "timestamp, an RFC 3339 string or Unix seconds). A window with nothing to measure "
        "(no records, no numbers, no event times) is not counted.\n\n"
        "`mostly` is the fraction of windows that must pass (default 1): the check's status "
        "is `pass` while at least that share of its windows passed. On a failing window "
        "every action logs a warning; `action: route` sends the records to the output "
        "`failed` instead of `passed` (read them as `<name>.failed` and `<name>.passed`; "
        "both exist only when some check routes): with `window: batch` exactly the records "
        "of the failing batch, with a time window the records processed after the failing "
        "window closed until a window passes. `action: fail` fails the run, naming the "
        "check: at the first failing window when `mostly` is 1, else at the end of the run "
        "when the status is `fail`. Time windows are closed by the first batch after their "
        "end and at the end of the run; distinct counts and quantiles of time windows come "
        "from sketches (HyperLogLog, KLL), those of batch windows are exact. See "
        "docs/quality-checks.md.",
    .example =
        "transforms:\n"
        "  checks:\n"
        "    type: quality\n"
        "    inputs: [events]\n"
        "    window: batch\n"
        "    checks:\n"
        "      - {check: row_count, min: 100, mostly: 0.9}\n"
        "      - {check: null_rate, field: user_id, max: 0.01, action: fail}\n"
        "      - {check: quantile, field: latency_ms, q: 0.99, max: 2000}\n"
        "      - {check: freshness, field: ts, max: 5m, action: route}\n"
        "  # downstream: inputs: [checks.passed] and [checks.failed]\n",
    .options = quality_options,
    .create = quality_create,
    .destroy = quality_destroy,
    .worker_init = quality_worker_init,
    .worker_free = quality_worker_free,
    .process = quality_process,
    .finish = quality_finish,
    .describe = quality_describe,
    .metrics = quality_metrics,
    .save = quality_save,
    .restore = quality_restore,
};
