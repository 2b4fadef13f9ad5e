/* checks.c — parsing, measuring and evaluating the `quality` transform's
 * checks (see checks.h for the vocabulary).
 *
 * The measuring loop runs on the worker threads over a whole batch and
 * allocates only in the batch's arena. Exact windows (one batch) keep the
 * sample's arrays and sort them at evaluation: sorting ~1000 hashes or
 * numbers costs less than maintaining a hash table. Time windows feed the
 * same arrays into a HyperLogLog and a KLL sketch from the profiling library.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/util.h"
#include "checks.h"
#include "../sketch/hll.h"
#include "../sketch/kll.h"

/* Fixed seed: the distinct counts of one run must match those of the next. */
#define CHECK_HASH_SEED 0x636865636b735f31ULL   /* "checks_1" */
#define CHECK_HLL_LG_K 12
#define CHECK_KLL_K 256

static const char *const kind_names[] = {
    "row_count", "null_rate", "distinct_ratio", "unique", "mean", "min", "max", "quantile",
    "freshness",
};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

static const char *const action_names[] = {"log", "route", "fail"};
#define N_ACTIONS (sizeof action_names / sizeof action_names[0])

static const char *const check_keys[] = {"name", "check", "field", "min", "max", "q", "mostly", "action"};
#define N_KEYS (sizeof check_keys / sizeof check_keys[0])

const char *sl_check_kind_name(sl_check_kind k)
{
    return (size_t)k < N_KINDS ? kind_names[k] : "?";
}

const char *sl_check_action_name(sl_check_action a)
{
    return (size_t)a < N_ACTIONS ? action_names[a] : "?";
}

/* ---- numbers as text ---- */

void sl_check_format_value(sl_buf *out, double v)
{
    if (!isfinite(v)) {
        sl_buf_puts(out, "null");
        return;
    }
    char text[32];
    sl_format_shortest(text, v);
    sl_buf_puts(out, text);
}

/* ---- parsing ---- */

static bool parse_number(const sl_node *n, double *out)
{
    if (n->kind != SL_NODE_SCALAR || n->quoted || n->len == 0) return false;
    char *end;
    *out = strtod(n->text, &end);
    return *end == 0 && isfinite(*out);
}

/* A freshness bound: a duration ("5m", "90s") or a number of seconds. */
static bool parse_seconds(const sl_node *n, double *out)
{
    uint64_t ms;
    if (n->kind == SL_NODE_SCALAR && sl_parse_duration_ms(n->text, &ms)) {
        *out = (double)ms / 1000.0;
        return true;
    }
    return parse_number(n, out) && *out >= 0;
}

static int find_name(const char *const *names, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], word) == 0) return (int)i;
    return -1;
}

/* Reports `word` as not one of names, with a suggestion or the list. */
static void report_unknown(sl_diag *diag, sl_pos pos, const char *what, const char *word,
                           const char *const *names, size_t n)
{
    const char *guess = sl_did_you_mean(word, names, n);
    if (guess) {
        sl_diag_error(diag, pos, "unknown %s '%s' (did you mean '%s'?)", what, word, guess);
        return;
    }
    sl_buf list;
    sl_buf_init(&list);
    for (size_t i = 0; i < n; i++) sl_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
    sl_diag_error(diag, pos, "unknown %s '%s' (expected one of: %s)", what, word, list.data);
    sl_buf_free(&list);
}

static void format_threshold(sl_check *c)
{
    char lo[32], hi[32];
    const char *unit = c->kind == SL_CHECK_FRESHNESS ? "s" : "";
    sl_format_shortest(lo, c->min);
    sl_format_shortest(hi, c->max);
    if (c->kind == SL_CHECK_UNIQUE)
        snprintf(c->threshold, sizeof c->threshold, "= 1");
    else if (c->has_min && c->has_max)
        snprintf(c->threshold, sizeof c->threshold, ">= %s%s and <= %s%s", lo, unit, hi, unit);
    else if (c->has_min)
        snprintf(c->threshold, sizeof c->threshold, ">= %s%s", lo, unit);
    else
        snprintf(c->threshold, sizeof c->threshold, "<= %s%s", hi, unit);
}

/* The default name: "null_rate(user.id)", "row_count". */
static char *default_name(const sl_check *c, const char *field)
{
    sl_buf b;
    sl_buf_init(&b);
    if (field) sl_buf_printf(&b, "%s(%s)", sl_check_kind_name(c->kind), field);
    else sl_buf_puts(&b, sl_check_kind_name(c->kind));
    return sl_buf_steal(&b, NULL);
}

/* Which bounds each kind requires or accepts. */
static bool bounds_ok(const sl_check *c, sl_pos pos, sl_diag *diag)
{
    const char *kind = sl_check_kind_name(c->kind);
    switch (c->kind) {
    case SL_CHECK_UNIQUE:
        if (c->has_min || c->has_max) {
            sl_diag_error(diag, pos, "check 'unique' takes no min/max; use distinct_ratio for a tolerance");
            return false;
        }
        return true;
    case SL_CHECK_NULL_RATE:
    case SL_CHECK_FRESHNESS:
        if (!c->has_max || c->has_min) {
            sl_diag_error(diag, pos, "check '%s' takes `max` only (%s)", kind,
                          c->kind == SL_CHECK_NULL_RATE ? "e.g. max: 0.05"
                                                        : "the largest acceptable lag, e.g. max: 5m");
            return false;
        }
        return true;
    case SL_CHECK_DISTINCT_RATIO:
        if (!c->has_min) {
            sl_diag_error(diag, pos, "check 'distinct_ratio' needs `min` (e.g. min: 0.9)");
            return false;
        }
        return true;
    default:
        if (!c->has_min && !c->has_max) {
            sl_diag_error(diag, pos, "check '%s' needs `min`, `max` or both", kind);
            return false;
        }
        if (c->has_min && c->has_max && c->min > c->max) {
            sl_diag_error(diag, pos, "check '%s': min is greater than max", kind);
            return false;
        }
        return true;
    }
}

int sl_check_parse(const sl_node *node, sl_check *out, sl_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->mostly = 1.0;
    if (node->kind != SL_NODE_MAP) {
        sl_diag_error(diag, node->pos,
                      "a check must be a mapping, e.g. {check: null_rate, field: user_id, max: 0.05}");
        return -1;
    }
    bool ok = true;
    for (size_t i = 0; i < node->n_pairs; i++) {
        const sl_node *k = node->pairs[i].key;
        if (find_name(check_keys, N_KEYS, k->text) < 0) {
            report_unknown(diag, k->pos, "check option", k->text, check_keys, N_KEYS);
            ok = false;
        }
    }
    const sl_node *kind = sl_node_get(node, "check");
    if (!kind || kind->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, kind ? kind->pos : node->pos,
                      "a check needs `check:` (one of row_count, null_rate, distinct_ratio, unique, "
                      "mean, min, max, quantile, freshness)");
        return -1;
    }
    int k = find_name(kind_names, N_KINDS, kind->text);
    if (k < 0) {
        report_unknown(diag, kind->pos, "check", kind->text, kind_names, N_KINDS);
        return -1;
    }
    out->kind = (sl_check_kind)k;

    const sl_node *field = sl_node_get(node, "field");
    if (out->kind == SL_CHECK_ROW_COUNT) {
        if (field) {
            sl_diag_error(diag, field->pos, "check 'row_count' counts records and takes no `field`");
            ok = false;
        }
    } else if (!field || field->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, field ? field->pos : kind->pos, "check '%s' needs `field:` (a field path)",
                      kind->text);
        ok = false;
    } else {
        out->field = sl_path_parse(field->text, field->pos, diag);
        if (!out->field) ok = false;
    }

    static const char *const bound_keys[] = {"min", "max"};
    for (int b = 0; b < 2; b++) {
        const sl_node *n = sl_node_get(node, bound_keys[b]);
        if (!n) continue;
        double v;
        bool parsed = out->kind == SL_CHECK_FRESHNESS ? parse_seconds(n, &v) : parse_number(n, &v);
        if (!parsed) {
            sl_diag_error(diag, n->pos, "%s must be %s", bound_keys[b],
                          out->kind == SL_CHECK_FRESHNESS ? "a duration such as 90s or 5m"
                                                          : "a number");
            ok = false;
        } else if (b == 0) {
            out->has_min = true, out->min = v;
        } else {
            out->has_max = true, out->max = v;
        }
    }

    const sl_node *q = sl_node_get(node, "q");
    if (out->kind == SL_CHECK_QUANTILE) {
        if (!q || !parse_number(q, &out->q) || out->q < 0 || out->q > 1) {
            sl_diag_error(diag, q ? q->pos : kind->pos,
                          "check 'quantile' needs `q:` between 0 and 1 (e.g. q: 0.99)");
            ok = false;
        }
    } else if (q) {
        sl_diag_error(diag, q->pos, "`q` applies to check 'quantile' only");
        ok = false;
    }

    const sl_node *mostly = sl_node_get(node, "mostly");
    if (mostly && (!parse_number(mostly, &out->mostly) || out->mostly < 0 || out->mostly > 1)) {
        sl_diag_error(diag, mostly->pos, "mostly must be a fraction between 0 and 1 (e.g. 0.95)");
        ok = false;
    }

    const sl_node *action = sl_node_get(node, "action");
    if (action) {
        int a = action->kind == SL_NODE_SCALAR ? find_name(action_names, N_ACTIONS, action->text) : -1;
        if (a < 0) {
            report_unknown(diag, action->pos, "action", action->kind == SL_NODE_SCALAR ? action->text : "",
                           action_names, N_ACTIONS);
            ok = false;
        } else {
            out->action = (sl_check_action)a;
        }
    }

    if (ok && !bounds_ok(out, kind->pos, diag)) ok = false;

    const sl_node *name = sl_node_get(node, "name");
    if (name && (name->kind != SL_NODE_SCALAR || name->len == 0)) {
        sl_diag_error(diag, name->pos, "name must be a non-empty string");
        ok = false;
    }
    if (!ok) {
        sl_check_free(out);
        return -1;
    }
    out->name = name ? strdup(name->text) : default_name(out, field ? field->text : NULL);
    if (!out->name) abort();
    format_threshold(out);
    return 0;
}

void sl_check_free(sl_check *c)
{
    free(c->name);
    sl_path_free(c->field);
    c->name = NULL;
    c->field = NULL;
}

/* ---- measuring ---- */

/* An event time: a timestamp, an RFC 3339 string, or Unix seconds. */
static bool event_time(const sl_value *v, int64_t *ns)
{
    double secs;
    switch (v->type) {
    case SL_TIMESTAMP:
        *ns = v->as.i;
        return true;
    case SL_STRING:
        return sl_parse_rfc3339(v->as.s, v->len, ns);
    default:
        if (!sl_value_as_double(v, &secs) || !isfinite(secs) || fabs(secs) > 9.2e9) return false;
        *ns = (int64_t)(secs * 1e9);
        return true;
    }
}

static bool is_numeric_kind(sl_check_kind k)
{
    return k == SL_CHECK_MEAN || k == SL_CHECK_MIN || k == SL_CHECK_MAX || k == SL_CHECK_QUANTILE;
}

void sl_check_measure(const sl_check *c, sl_record **recs, size_t n, sl_arena *a, sl_check_sample *out)
{
    memset(out, 0, sizeof *out);
    out->rows = n;
    if (c->kind == SL_CHECK_ROW_COUNT) return;
    bool distinct = c->kind == SL_CHECK_DISTINCT_RATIO || c->kind == SL_CHECK_UNIQUE;
    if (distinct) out->hashes = sl_arena_alloc(a, (n ? n : 1) * sizeof *out->hashes);
    if (c->kind == SL_CHECK_QUANTILE) out->numbers = sl_arena_alloc(a, (n ? n : 1) * sizeof *out->numbers);
    out->min = INFINITY;
    out->max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const sl_value *v = sl_path_get(c->field, sl_record_value(recs[i]));
        if (!v || v->type == SL_NULL) {
            out->nulls++;
            continue;
        }
        if (distinct) {
            out->hashes[out->n_hashes++] = sl_value_hash(v, CHECK_HASH_SEED);
        } else if (is_numeric_kind(c->kind)) {
            double d;
            if (!sl_value_as_double(v, &d) || !isfinite(d)) continue;
            if (out->numbers) out->numbers[out->n_numbers] = d;
            out->n_numbers++;
            out->sum += d;
            if (d < out->min) out->min = d;
            if (d > out->max) out->max = d;
        } else if (c->kind == SL_CHECK_FRESHNESS) {
            int64_t t;
            if (!event_time(v, &t)) continue;
            if (!out->has_time || t > out->newest_ns) out->newest_ns = t;
            out->has_time = true;
        }
    }
}

/* ---- windows ---- */

struct sl_check_acc {
    const sl_check *check;
    bool exact;
    sl_check_sample total;   /* exact: the window's one sample (arrays borrowed) */
    sl_hll hll;              /* time windows, distinct checks */
    bool has_hll;
    sl_kll kll;              /* time windows, quantile checks */
    bool has_kll;
};

sl_check_acc *sl_check_acc_new(const sl_check *c, bool exact)
{
    sl_check_acc *acc = calloc(1, sizeof *acc);
    if (!acc) return NULL;
    acc->check = c;
    acc->exact = exact;
    bool ok = true;
    if (!exact && (c->kind == SL_CHECK_DISTINCT_RATIO || c->kind == SL_CHECK_UNIQUE))
        ok = acc->has_hll = sl_hll_init(&acc->hll, CHECK_HLL_LG_K, NULL) == 0;
    if (!exact && c->kind == SL_CHECK_QUANTILE)
        ok = acc->has_kll = sl_kll_init(&acc->kll, CHECK_KLL_K, 0, NULL) == 0;
    if (!ok) {
        sl_check_acc_free(acc);
        return NULL;
    }
    sl_check_acc_reset(acc);
    return acc;
}

void sl_check_acc_free(sl_check_acc *acc)
{
    if (!acc) return;
    if (acc->has_hll) sl_hll_free(&acc->hll);
    if (acc->has_kll) sl_kll_free(&acc->kll);
    free(acc);
}

void sl_check_acc_reset(sl_check_acc *acc)
{
    memset(&acc->total, 0, sizeof acc->total);
    acc->total.min = INFINITY;
    acc->total.max = -INFINITY;
    if (acc->has_hll) sl_hll_clear(&acc->hll);
    if (acc->has_kll && acc->kll.n > 0) {   /* a fresh sketch: the same seed, so runs repeat */
        sl_kll_free(&acc->kll);
        if (sl_kll_init(&acc->kll, CHECK_KLL_K, 0, NULL) < 0) abort();
    }
}

void sl_check_acc_add(sl_check_acc *acc, const sl_check_sample *s)
{
    sl_check_sample *t = &acc->total;
    if (acc->exact) {
        t->hashes = s->hashes;
        t->numbers = s->numbers;
    }
    t->rows += s->rows;
    t->nulls += s->nulls;
    t->n_hashes += s->n_hashes;
    t->n_numbers += s->n_numbers;
    t->sum += s->sum;
    if (s->min < t->min) t->min = s->min;
    if (s->max > t->max) t->max = s->max;
    if (s->has_time && (!t->has_time || s->newest_ns > t->newest_ns)) t->newest_ns = s->newest_ns;
    t->has_time |= s->has_time;
    if (acc->has_hll)
        for (uint64_t i = 0; i < s->n_hashes; i++) sl_hll_add_hash(&acc->hll, s->hashes[i]);
    if (acc->has_kll)
        for (uint64_t i = 0; i < s->n_numbers; i++) sl_kll_add(&acc->kll, s->numbers[i]);
}

uint64_t sl_check_acc_rows(const sl_check_acc *acc)
{
    return acc->total.rows;
}

static void put_double(sl_buf *out, const char *key, double d)
{
    sl_value v = sl_double(d);
    sl_buf_printf(out, ",\"%s\":", key);
    sl_json_encode(out, &v);   /* null when not finite */
}

void sl_check_acc_save(const sl_check_acc *acc, sl_buf *out)
{
    const sl_check_sample *t = &acc->total;
    sl_buf_printf(out, "{\"rows\":%llu,\"nulls\":%llu,\"values\":%llu,\"numbers\":%llu",
                  (unsigned long long)t->rows, (unsigned long long)t->nulls, (unsigned long long)t->n_hashes,
                  (unsigned long long)t->n_numbers);
    put_double(out, "sum", t->sum);
    if (t->n_numbers) {
        put_double(out, "min", t->min);
        put_double(out, "max", t->max);
    }
    if (t->has_time) sl_buf_printf(out, ",\"newest_ns\":%lld", (long long)t->newest_ns);
    if (acc->has_hll) {
        sl_buf_puts(out, ",\"hll\":\"");
        sl_hll_to_base64(&acc->hll, out);
        sl_buf_putc(out, '"');
    }
    if (acc->has_kll) {
        sl_buf_puts(out, ",\"kll\":\"");
        sl_kll_to_base64(&acc->kll, out);
        sl_buf_putc(out, '"');
    }
    sl_buf_putc(out, '}');
}

/* state[key] as a double: a number, or NaN for null (a sum that overflowed
 * was saved as null). False when absent or of another type. */
static bool state_double(const sl_value *state, const char *key, double *out)
{
    const sl_value *v = sl_state_get(state, key);
    if (!v) return false;
    if (v->type == SL_NULL) *out = NAN;
    else if (!sl_value_as_double(v, out)) return false;
    return true;
}

/* state[key], a base64 sketch image, or NULL with err. */
static const sl_value *sketch_image(const sl_value *state, const char *key, sl_error *err)
{
    const sl_value *v = sl_state_get(state, key);
    if (!v || v->type != SL_STRING) sl_errorf(err, "the window's \"%s\" sketch is missing", key);
    return v && v->type == SL_STRING ? v : NULL;
}

int sl_check_acc_restore(sl_check_acc *acc, const sl_value *state, sl_error *err)
{
    sl_check_sample *t = &acc->total;
    const sl_value *newest = sl_state_get(state, "newest_ns");
    if (!sl_state_uint(state, "rows", &t->rows) || !sl_state_uint(state, "nulls", &t->nulls) ||
        !sl_state_uint(state, "values", &t->n_hashes) || !sl_state_uint(state, "numbers", &t->n_numbers) ||
        !state_double(state, "sum", &t->sum) ||
        (t->n_numbers && (!state_double(state, "min", &t->min) || !state_double(state, "max", &t->max))) ||
        (newest && newest->type != SL_INT))
        return sl_errorf(err, "the window's counters are missing or mistyped");
    t->has_time = newest != NULL;
    if (newest) t->newest_ns = newest->as.i;
    if (acc->has_hll) {
        const sl_value *image = sketch_image(state, "hll", err);
        sl_hll_free(&acc->hll);
        acc->has_hll = false;
        if (!image || sl_hll_from_base64(&acc->hll, image->as.s, image->len, err) < 0) return -1;
        acc->has_hll = true;
        if (acc->hll.lg_k != CHECK_HLL_LG_K) return sl_errorf(err, "the window's hll sketch has another size");
    }
    if (acc->has_kll) {
        const sl_value *image = sketch_image(state, "kll", err);
        sl_kll_free(&acc->kll);
        acc->has_kll = false;
        if (!image || sl_kll_from_base64(&acc->kll, image->as.s, image->len, err) < 0) return -1;
        acc->has_kll = true;
        if (acc->kll.k != CHECK_KLL_K) return sl_errorf(err, "the window's kll sketch has another size");
    }
    return 0;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t count_distinct(uint64_t *hashes, uint64_t n)
{
    if (n == 0) return 0;
    qsort(hashes, n, sizeof *hashes, compare_u64);
    uint64_t distinct = 1;
    for (uint64_t i = 1; i < n; i++) distinct += hashes[i] != hashes[i - 1];
    return distinct;
}

/* Nearest rank: the smallest value with at least q·n values at or below it. */
static double exact_quantile(double *numbers, uint64_t n, double q)
{
    qsort(numbers, n, sizeof *numbers, compare_double);
    double rank = ceil(q * (double)n);
    uint64_t i = rank < 1 ? 0 : (uint64_t)rank - 1;
    return numbers[i < n ? i : n - 1];
}

sl_check_result sl_check_evaluate(const sl_check *c, const sl_check_acc *acc, int64_t now_ns)
{
    const sl_check_sample *t = &acc->total;
    sl_check_result r = {.evaluated = true};
    switch (c->kind) {
    case SL_CHECK_ROW_COUNT:
        r.value = (double)t->rows;
        break;
    case SL_CHECK_NULL_RATE:
        r.evaluated = t->rows > 0;
        r.value = t->rows ? (double)t->nulls / (double)t->rows : 0;
        break;
    case SL_CHECK_DISTINCT_RATIO:
    case SL_CHECK_UNIQUE: {
        r.evaluated = t->n_hashes > 0;
        if (!r.evaluated) break;
        double distinct = acc->exact ? (double)count_distinct(t->hashes, t->n_hashes)
                                     : sl_hll_estimate(&acc->hll);
        if (distinct > (double)t->n_hashes) distinct = (double)t->n_hashes;
        r.value = distinct / (double)t->n_hashes;
        break;
    }
    case SL_CHECK_MEAN:
        r.evaluated = t->n_numbers > 0;
        r.value = r.evaluated ? t->sum / (double)t->n_numbers : 0;
        break;
    case SL_CHECK_MIN:
        r.evaluated = t->n_numbers > 0;
        r.value = t->min;
        break;
    case SL_CHECK_MAX:
        r.evaluated = t->n_numbers > 0;
        r.value = t->max;
        break;
    case SL_CHECK_QUANTILE:
        r.evaluated = t->n_numbers > 0;
        if (!r.evaluated) break;
        r.value = acc->exact ? exact_quantile(t->numbers, t->n_numbers, c->q) : sl_kll_quantile(&acc->kll, c->q);
        break;
    case SL_CHECK_FRESHNESS:
        r.evaluated = t->has_time;
        r.value = (double)(now_ns - t->newest_ns) / 1e9;
        break;
    }
    if (!r.evaluated) return r;
    if (c->kind == SL_CHECK_UNIQUE) {
        /* A sketch cannot tell 1.0 from 0.99 reliably: accept its error (3 sigma). */
        double tolerance = acc->exact ? 0 : 3 * 1.04 / sqrt((double)(1u << CHECK_HLL_LG_K));
        r.pass = r.value >= 1.0 - tolerance;
    } else {
        r.pass = (!c->has_min || r.value >= c->min) && (!c->has_max || r.value <= c->max);
    }
    return r;
}
