/* drift.c — per-field drift between a baseline profile and a current one
 * (see drift.h for the metrics, their definitions and the thresholds).
 */
#include "drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"

void sl_drift_opts_default(sl_drift_opts *o) {
    o->bins = 10;
    o->epsilon = 1e-4;
    o->psi_warn = 0.1;
    o->psi_alert = 0.2;
    o->null_rate_warn = 0.05;
    o->null_rate_alert = 0.10;
    o->type_tvd_warn = 0.05;
    o->type_tvd_alert = 0.10;
    o->distinct_warn = 0.1;
    o->distinct_alert = 0.2;
    o->rate_warn = 2;
    o->rate_alert = 10;
    o->gap_warn = 0.1;
    o->gap_alert = 0.25;
}

const char *sl_drift_status_name(sl_drift_status s) {
    switch (s) {
    case SL_DRIFT_OK: return "ok";
    case SL_DRIFT_WARN: return "warn";
    case SL_DRIFT_ALERT: return "alert";
    }
    return "ok";
}

bool sl_drift_status_parse(const char *name, sl_drift_status *out) {
    for (int s = SL_DRIFT_OK; s <= SL_DRIFT_ALERT; s++)
        if (strcmp(name, sl_drift_status_name((sl_drift_status)s)) == 0) {
            *out = (sl_drift_status)s;
            return true;
        }
    return false;
}

const char *sl_drift_kind_name(sl_drift_kind k) {
    switch (k) {
    case SL_DRIFT_NUMERIC: return "numeric";
    case SL_DRIFT_CATEGORICAL: return "categorical";
    case SL_DRIFT_OTHER: return "other";
    case SL_DRIFT_TEXT: return "text";
    case SL_DRIFT_TIMESTAMP: return "timestamp";
    }
    return "other";
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* Strings made of the values the top-values sketch is sure are frequent. */
static uint64_t frequent_strings(const sl_profile_field *f) {
    uint64_t n = 0;
    for (uint32_t i = 0; f->topk && i < f->topk->size; i++)
        if (sl_profile_top_frequent(f, &f->topk->entries[i]))
            n += f->topk->entries[i].count;
    return n;
}

/* Kind from one side's values; -1 when it has no non-null values. */
static int kind_of(const sl_profile_field *f) {
    if (!f || f->count == f->nulls)
        return -1;
    uint64_t nonnull = f->count - f->nulls;
    uint64_t numbers = f->types[SL_INT] + f->types[SL_DOUBLE];
    uint64_t categories = f->types[SL_STRING] + f->types[SL_BOOL];
    if (2 * numbers >= nonnull)
        return SL_DRIFT_NUMERIC;
    if (2 * f->ts_count >= nonnull)
        return SL_DRIFT_TIMESTAMP;
    if (2 * categories >= nonnull)
        return 2 * (frequent_strings(f) + f->types[SL_BOOL]) >= categories ? SL_DRIFT_CATEGORICAL : SL_DRIFT_TEXT;
    return SL_DRIFT_OTHER;
}

static double null_rate(const sl_profile *p, const sl_profile_field *f) {
    uint64_t records = sl_profile_records(p);
    if (records == 0)
        return NAN;
    if (!f)
        return 1.0;
    double r = (double)(f->nulls + sl_profile_field_missing(p, f)) / (double)records;
    return r > 1.0 ? 1.0 : r;
}

/* Strings in RFC 3339 form (timestamps that are not of type timestamp). */
static uint64_t time_strings(const sl_profile_field *f) {
    return f->ts_count > f->types[SL_TIMESTAMP] ? f->ts_count - f->types[SL_TIMESTAMP] : 0;   /* 0: older profile */
}

static double type_tvd(const sl_profile_field *b, const sl_profile_field *c) {
    if (!b || !c || b->count == b->nulls || c->count == c->nulls)
        return NAN;
    double nb = (double)(b->count - b->nulls), nc = (double)(c->count - c->nulls), sum = 0;
    for (int t = SL_BOOL; t < SL_PROFILE_NUM_TYPES; t++)
        sum += fabs((double)b->types[t] / nb - (double)c->types[t] / nc);
    /* RFC 3339 strings as a type of their own, when both profiles count
     * them (a length histogram marks a profile of this version) */
    bool both = (!b->types[SL_STRING] || b->len_hist) && (!c->types[SL_STRING] || c->len_hist);
    if (both) {
        double bt = (double)time_strings(b), ct = (double)time_strings(c);
        sum -= fabs((double)b->types[SL_STRING] / nb - (double)c->types[SL_STRING] / nc);
        sum += fabs(((double)b->types[SL_STRING] - bt) / nb - ((double)c->types[SL_STRING] - ct) / nc);
        sum += fabs(bt / nb - ct / nc);
    }
    return sum / 2;
}

/* The PSI that sampling alone gives, two samples of nb and nc values of one
 * distribution over `bins` bins: PSI is then about chi-square with bins - 1
 * degrees of freedom times (1/nb + 1/nc), and this is its mean plus three
 * standard deviations. Judging PSI above it keeps small samples (a batch of
 * a few hundred records against a baseline) from alerting on noise. */
static double psi_noise(size_t bins, double nb, double nc) {
    if (bins < 2 || nb <= 0 || nc <= 0)
        return 0;
    double df = (double)bins - 1;
    return (1 / nb + 1 / nc) * (df + 3 * sqrt(2 * df));
}

/* PSI (smoothed) and JS distance (unsmoothed) between two share vectors
 * that each sum to 1, from samples of nb and nc values; *noise gets
 * psi_noise over the bins either side uses. */
static void compare_shares(const double *b, const double *c, size_t n, double eps, double nb, double nc,
                           double *psi, double *js, double *noise) {
    double p = 0, d = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        used += b[i] > 0 || c[i] > 0;
        double bs = (b[i] + eps) / (1 + (double)n * eps);
        double cs = (c[i] + eps) / (1 + (double)n * eps);
        p += (cs - bs) * log(cs / bs);
        double m = (b[i] + c[i]) / 2;
        if (b[i] > 0) d += b[i] * log2(b[i] / m) / 2;
        if (c[i] > 0) d += c[i] * log2(c[i] / m) / 2;
    }
    *psi = p < 0 ? 0 : p;
    *js = sqrt(d < 0 ? 0 : d > 1 ? 1 : d);
    *noise = psi_noise(used, nb, nc);
}

static void numeric_drift(const sl_profile_field *b, const sl_profile_field *c, const sl_drift_opts *o,
                          double *psi, double *js, double *noise) {
    if (!b || !c || !b->kll || !c->kll)
        return;
    double *qs = xcalloc(o->bins, sizeof *qs);
    double *splits = xcalloc(o->bins, sizeof *splits);
    double *cb = xcalloc(o->bins + 1, sizeof *cb), *cc = xcalloc(o->bins + 1, sizeof *cc);
    for (unsigned i = 1; i < o->bins; i++)
        qs[i - 1] = (double)i / o->bins;
    sl_kll_quantiles(b->kll, qs, o->bins - 1, splits);
    size_t n = 0;
    for (unsigned i = 0; i + 1 < o->bins; i++)
        if (n == 0 || splits[i] > splits[n - 1])
            splits[n++] = splits[i];
    sl_kll_cdf(b->kll, splits, n, cb);
    sl_kll_cdf(c->kll, splits, n, cc);
    for (size_t i = n; i > 0; i--) {     /* cumulative -> per bin */
        cb[i] -= cb[i - 1];
        cc[i] -= cc[i - 1];
    }
    compare_shares(cb, cc, n + 1, o->epsilon, (double)b->num_count, (double)c->num_count, psi, js, noise);
    free(qs);
    free(splits);
    free(cb);
    free(cc);
}

typedef struct category {
    const char *value;
    uint32_t len;
} category;

/* The count of a tracked value, 0 when the sketch does not track it. */
static uint64_t tracked_count(const sl_topk *t, const category *cat) {
    if (!t)
        return 0;
    for (uint32_t i = 0; i < t->size; i++)
        if (t->entries[i].len == cat->len && memcmp(t->entries[i].value, cat->value, cat->len) == 0)
            return t->entries[i].count;
    return 0;
}

/* Shares of one side over: the categories, true, false, other. */
static void category_shares(const sl_profile_field *f, const category *cats, size_t ncats, double *out) {
    double tracked = 0;
    for (size_t i = 0; i < ncats; i++) {
        out[i] = (double)tracked_count(f->topk, &cats[i]);
        tracked += out[i];
    }
    out[ncats] = (double)f->bool_true;
    out[ncats + 1] = (double)f->bool_false;
    double other = (double)f->types[SL_STRING] - tracked;
    out[ncats + 2] = other > 0 ? other : 0;
    double sum = 0;
    for (size_t i = 0; i < ncats + 3; i++)
        sum += out[i];
    for (size_t i = 0; i < ncats + 3; i++)
        out[i] = sum > 0 ? out[i] / sum : 0;
}

static void categorical_drift(const sl_profile_field *b, const sl_profile_field *c, const sl_drift_opts *o,
                              double *psi, double *js, double *noise) {
    if (!b || !c || b->types[SL_STRING] + b->types[SL_BOOL] == 0 ||
        c->types[SL_STRING] + c->types[SL_BOOL] == 0)
        return;
    size_t max = (b->topk ? b->topk->size : 0) + (c->topk ? c->topk->size : 0), n = 0;
    category *cats = xcalloc(max, sizeof *cats);
    const sl_topk *sides[2] = { b->topk, c->topk };
    for (int s = 0; s < 2; s++) {
        if (!sides[s])
            continue;
        const sl_profile_field *f = s ? c : b;
        for (uint32_t i = 0; i < sides[s]->size; i++) {
            const sl_topk_entry *e = &sides[s]->entries[i];
            category cat = { e->value, e->len };
            bool listed = false;
            for (size_t j = 0; j < n && !listed; j++)
                listed = cats[j].len == cat.len && memcmp(cats[j].value, cat.value, cat.len) == 0;
            if (!listed && sl_profile_top_frequent(f, e))
                cats[n++] = cat;
        }
    }
    double *sb = xcalloc(n + 3, sizeof *sb), *sc = xcalloc(n + 3, sizeof *sc);
    category_shares(b, cats, n, sb);
    category_shares(c, cats, n, sc);
    /* bins empty on both sides (no bools, or no untracked strings) are not bins */
    size_t m = 0;
    for (size_t i = 0; i < n + 3; i++) {
        if (sb[i] > 0 || sc[i] > 0) {
            sb[m] = sb[i];
            sc[m] = sc[i];
            m++;
        }
    }
    compare_shares(sb, sc, m, o->epsilon, (double)(b->types[SL_STRING] + b->types[SL_BOOL]),
                   (double)(c->types[SL_STRING] + c->types[SL_BOOL]), psi, js, noise);
    free(sb);
    free(sc);
    free(cats);
}

/* PSI of the length histograms, bins grouped to about 1 / bins of the
 * baseline each; lengths outside the baseline's range are groups of their own. */
static double length_psi(const sl_profile_field *b, const sl_profile_field *c, const sl_drift_opts *o,
                         double *noise) {
    if (!b || !c || !b->len_hist || !c->len_hist || !b->len_count || !c->len_count)
        return NAN;
    unsigned first = 0, last = SL_PROFILE_LEN_BINS - 1;
    while (!b->len_hist[first]) first++;
    while (!b->len_hist[last]) last--;
    double sb[SL_PROFILE_LEN_BINS + 2], sc[SL_PROFILE_LEN_BINS + 2], gb = 0, gc = 0, cum = 0;   /* + below, above */
    size_t n = 0;
    double nb = (double)b->len_count, nc = (double)c->len_count, step = 1.0 / o->bins, next = step;
    for (unsigned i = 0; i < SL_PROFILE_LEN_BINS; i++) {
        if (i == first && gb + gc > 0) {          /* below the baseline's shortest */
            sb[n] = gb, sc[n++] = gc;
            gb = gc = 0;
        }
        gb += (double)b->len_hist[i] / nb;
        gc += (double)c->len_hist[i] / nc;
        cum += (double)b->len_hist[i] / nb;
        if ((i >= first && cum >= next - 1e-12) || i == last) {
            sb[n] = gb, sc[n++] = gc;
            gb = gc = 0;
            while (next <= cum + 1e-12) next += step;
        }
    }
    if (gc > 0)                                   /* above the baseline's longest */
        sb[n] = 0, sc[n++] = gc;
    double psi, js;
    compare_shares(sb, sc, n, o->epsilon, nb, nc, &psi, &js, noise);
    return psi;
}

/* PSI of the character-class mix of the strings' bytes; the samples are
 * counted as the strings classified (bytes of one string are not
 * independent draws). */
static double chars_psi(const sl_profile_field *b, const sl_profile_field *c, const sl_drift_opts *o,
                        double *noise) {
    double sb[SL_PROFILE_CHAR_CLASSES], sc[SL_PROFILE_CHAR_CLASSES], tb = 0, tc = 0;
    if (!b || !c)
        return NAN;
    for (int i = 0; i < SL_PROFILE_CHAR_CLASSES; i++) {
        tb += (double)b->chars[i];
        tc += (double)c->chars[i];
    }
    if (tb == 0 || tc == 0)
        return NAN;
    for (int i = 0; i < SL_PROFILE_CHAR_CLASSES; i++) {
        sb[i] = (double)b->chars[i] / tb;
        sc[i] = (double)c->chars[i] / tc;
    }
    double psi, js;
    compare_shares(sb, sc, SL_PROFILE_CHAR_CLASSES, o->epsilon, ceil((double)b->len_count / SL_PROFILE_CHAR_EVERY),
                   ceil((double)c->len_count / SL_PROFILE_CHAR_EVERY), &psi, &js, noise);
    return psi;
}

static double distinct_ratio(const sl_profile_field *f) {
    if (!f || !f->hll || f->count == f->nulls)
        return NAN;
    double r = (double)sl_profile_field_distinct(f) / (double)(f->count - f->nulls);
    return r > 1 ? 1 : r;
}

/* The drop of a key-like distinct ratio beyond the HyperLogLogs' error
 * (3 standard errors of the difference of two estimates); NaN when the
 * baseline is not key-like: every value distinct (within 3 standard errors),
 * and no floats (unique floats are continuous data, not keys). */
static double distinct_drop(const sl_profile *bp, const sl_profile_field *b, const sl_drift_field *d) {
    double se = 1.04 / sqrt((double)(1u << sl_profile_options(bp)->hll_lg_k));
    if (!(d->distinct_ratio_baseline >= 1 - 3 * se) || isnan(d->distinct_ratio_current) || b->types[SL_DOUBLE])
        return NAN;
    double drop = d->distinct_ratio_baseline - d->distinct_ratio_current - 3 * sqrt(2.0) * se;
    return drop > 0 ? drop : 0;
}

/* Timestamps per timeline bucket below which empty buckets may be chance. */
#define GAP_MIN_PER_BUCKET 20

static double gap_share(const sl_profile_field *f) {
    return f && f->timeline ? sl_timeline_gap_share(f->timeline) : NAN;
}

/* The increase of the gap share, when both sides are dense enough. */
static double gap_increase(const sl_profile_field *b, const sl_profile_field *c, const sl_drift_field *d) {
    uint64_t enough = (uint64_t)GAP_MIN_PER_BUCKET * SL_TIMELINE_BUCKETS;
    if (!b || !c || b->ts_count < enough || c->ts_count < enough)
        return NAN;
    return d->gap_share_current - d->gap_share_baseline;
}

static double rate(const sl_profile_field *f) {
    double range = f ? sl_profile_field_time_range(f) : NAN;
    return range > 0 ? (double)f->ts_count / range : NAN;
}

static sl_drift_status level(double v, double warn, double alert) {
    if (isnan(v)) return SL_DRIFT_OK;
    if (v >= alert) return SL_DRIFT_ALERT;
    if (v >= warn) return SL_DRIFT_WARN;
    return SL_DRIFT_OK;
}

static sl_drift_status worst(sl_drift_status a, sl_drift_status b) {
    return a > b ? a : b;
}

/* Three standard deviations of the difference of two sample shares of one
 * proportion p, from samples of nb and nc. */
static double share_noise(double p, double nb, double nc) {
    return nb > 0 && nc > 0 ? 3 * sqrt(p * (1 - p) * (1 / nb + 1 / nc)) : 0;
}

/* The null-rate change sampling alone gives (the pooled rate). */
static double null_noise(const sl_profile *bp, const sl_profile *cp, const sl_drift_field *d) {
    double nb = (double)sl_profile_records(bp), nc = (double)sl_profile_records(cp);
    if (isnan(d->null_rate_baseline) || isnan(d->null_rate_current))
        return 0;
    return share_noise((d->null_rate_baseline * nb + d->null_rate_current * nc) / (nb + nc), nb, nc);
}

/* The type-mix TVD sampling alone gives: half the sum over types of three
 * standard deviations of each type's share difference (pooled shares). */
static double tvd_noise(const sl_profile_field *b, const sl_profile_field *c) {
    if (!b || !c || b->count == b->nulls || c->count == c->nulls)
        return 0;
    double nb = (double)(b->count - b->nulls), nc = (double)(c->count - c->nulls), sum = 0;
    for (int t = SL_BOOL; t < SL_PROFILE_NUM_TYPES; t++)
        sum += share_noise(((double)b->types[t] + (double)c->types[t]) / (nb + nc), nb, nc);
    return sum / 2;
}

/* Raises out's status to the metric's level; the reason lists the metrics
 * at the (new) status level. */
static void judge(sl_drift_field *out, const char *metric, double v, double warn, double alert) {
    sl_drift_status s = level(v, warn, alert);
    if (s == SL_DRIFT_OK || s < out->status)
        return;
    if (s > out->status)
        out->reason[0] = '\0';
    out->status = s;
    size_t len = strlen(out->reason);
    snprintf(out->reason + len, sizeof out->reason - len, "%s%s", len ? ", " : "", metric);
}

static void compare_field(const sl_profile *bp, const sl_profile *cp, const char *name, size_t len,
                          const sl_drift_opts *o, sl_drift_field *out) {
    const sl_profile_field *b = sl_profile_find(bp, name, len);
    const sl_profile_field *c = sl_profile_find(cp, name, len);
    out->field = malloc(len + 1);
    if (!out->field)
        abort();
    memcpy(out->field, name, len);
    out->field[len] = '\0';
    int kind = kind_of(b);
    if (kind < 0)
        kind = kind_of(c);
    out->kind = kind < 0 ? SL_DRIFT_OTHER : (sl_drift_kind)kind;
    out->psi = out->js = out->rate_ratio = out->gap_share_baseline = out->gap_share_current = NAN;
    double noise = 0, len_noise = 0, chars_noise = 0;
    if (out->kind == SL_DRIFT_NUMERIC)
        numeric_drift(b, c, o, &out->psi, &out->js, &noise);
    else if (out->kind == SL_DRIFT_CATEGORICAL || out->kind == SL_DRIFT_TEXT)
        categorical_drift(b, c, o, &out->psi, &out->js, &noise);
    else if (out->kind == SL_DRIFT_TIMESTAMP) {
        out->rate_ratio = rate(c) / rate(b);
        out->gap_share_baseline = gap_share(b);
        out->gap_share_current = gap_share(c);
    }
    out->length_psi = length_psi(b, c, o, &len_noise);
    out->chars_psi = chars_psi(b, c, o, &chars_noise);
    out->distinct_ratio_baseline = distinct_ratio(b);
    out->distinct_ratio_current = distinct_ratio(c);
    out->null_rate_baseline = null_rate(bp, b);
    out->null_rate_current = null_rate(cp, c);
    out->type_tvd = type_tvd(b, c);
    out->status = SL_DRIFT_OK;
    out->reason[0] = '\0';
    judge(out, "psi", out->psi - noise, o->psi_warn, o->psi_alert);
    judge(out, "length", out->length_psi - len_noise, o->psi_warn, o->psi_alert);
    judge(out, "chars", out->chars_psi - chars_noise, o->psi_warn, o->psi_alert);
    judge(out, "distinct", distinct_drop(bp, b, out), o->distinct_warn, o->distinct_alert);
    judge(out, "rate", out->rate_ratio > 0 ? fabs(log(out->rate_ratio)) : NAN, log(o->rate_warn), log(o->rate_alert));
    judge(out, "gaps", gap_increase(b, c, out), o->gap_warn, o->gap_alert);
    judge(out, "nulls", fabs(out->null_rate_current - out->null_rate_baseline) - null_noise(bp, cp, out),
          o->null_rate_warn, o->null_rate_alert);
    judge(out, "types", out->type_tvd - tvd_noise(b, c), o->type_tvd_warn, o->type_tvd_alert);
}

int sl_drift_compare(const sl_profile *baseline, const sl_profile *current,
                     const sl_drift_opts *opts, sl_drift_report *out, sl_error *err) {
    memset(out, 0, sizeof *out);
    sl_drift_opts o;
    if (opts)
        o = *opts;
    else
        sl_drift_opts_default(&o);
    if (o.bins < 2 || o.bins > 1000)
        return sl_errorf(err, "drift bins %u is out of range (2 to 1000)", o.bins);
    if (!(o.epsilon > 0 && o.epsilon <= 0.1))
        return sl_errorf(err, "drift epsilon must be in (0, 0.1]");
    if (!(o.psi_warn <= o.psi_alert) || !(o.null_rate_warn <= o.null_rate_alert) ||
        !(o.type_tvd_warn <= o.type_tvd_alert) || !(o.distinct_warn <= o.distinct_alert) ||
        !(o.rate_warn <= o.rate_alert) || !(o.gap_warn <= o.gap_alert))
        return sl_errorf(err, "drift thresholds: each warn level must not exceed its alert level");
    if (!(o.rate_warn > 1))
        return sl_errorf(err, "drift rate thresholds are factors and must be above 1");
    size_t nb = sl_profile_field_count(baseline), nc = sl_profile_field_count(current);
    out->fields = xcalloc(nb + nc, sizeof *out->fields);
    for (int side = 0; side < 2; side++) {
        const sl_profile *p = side ? current : baseline;
        for (size_t i = 0; i < sl_profile_field_count(p); i++) {
            const sl_profile_field *f = sl_profile_field_at(p, i);
            if (strcmp(f->name, SL_PROFILE_OTHER_FIELDS) == 0)
                continue;
            if (side == 1 && sl_profile_find(baseline, f->name, f->name_len))
                continue;
            sl_drift_field *d = &out->fields[out->n++];
            compare_field(baseline, current, f->name, f->name_len, &o, d);
            out->status = worst(out->status, d->status);
        }
    }
    return 0;
}

void sl_drift_report_free(sl_drift_report *r) {
    for (size_t i = 0; i < r->n; i++)
        free(r->fields[i].field);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

static void put_metric(sl_buf *out, const char *key, double v) {
    sl_buf_printf(out, ",\"%s\":", key);
    if (!sl_json_format_double(out, v))
        sl_buf_puts(out, "null");
}

void sl_drift_to_json(const sl_drift_report *r, sl_buf *out) {
    sl_buf_printf(out, "{\"status\":\"%s\",\"fields\":[", sl_drift_status_name(r->status));
    for (size_t i = 0; i < r->n; i++) {
        const sl_drift_field *f = &r->fields[i];
        sl_buf_puts(out, i ? ",{\"field\":" : "{\"field\":");
        sl_json_encode_string(out, f->field, strlen(f->field));
        sl_buf_printf(out, ",\"kind\":\"%s\"", sl_drift_kind_name(f->kind));
        put_metric(out, "psi", f->psi);
        put_metric(out, "js", f->js);
        put_metric(out, "length_psi", f->length_psi);
        put_metric(out, "chars_psi", f->chars_psi);
        put_metric(out, "distinct_ratio_baseline", f->distinct_ratio_baseline);
        put_metric(out, "distinct_ratio_current", f->distinct_ratio_current);
        put_metric(out, "rate_ratio", f->rate_ratio);
        put_metric(out, "gap_share_baseline", f->gap_share_baseline);
        put_metric(out, "gap_share_current", f->gap_share_current);
        put_metric(out, "null_rate_baseline", f->null_rate_baseline);
        put_metric(out, "null_rate_current", f->null_rate_current);
        put_metric(out, "type_tvd", f->type_tvd);
        sl_buf_printf(out, ",\"status\":\"%s\",\"reason\":", sl_drift_status_name(f->status));
        sl_json_encode_string(out, f->reason, strlen(f->reason));
        sl_buf_putc(out, '}');
    }
    sl_buf_puts(out, "]}");
}
