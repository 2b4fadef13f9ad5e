/* drift.h — compare a profile with a baseline profile, field by field.
 *
 * The comparisons are chosen so that two samples of the same data (a
 * profile against itself, two random halves of one file) raise nothing,
 * while a real change in any one aspect of a field is flagged. For every
 * field of either profile (except "_other_fields"):
 *
 *  - kind, from the baseline's non-null values (the current's when the
 *    baseline has none): "numeric" when numbers are at least half of them;
 *    "timestamp" when timestamps (profile.h: type timestamp or RFC 3339
 *    strings) are; "categorical" when strings or bools are and the
 *    baseline's frequent values (below) cover at least half of its strings;
 *    "text" for other string fields (ids, e-mails, free text: no value is
 *    frequent); else "other".
 *  - psi (Population Stability Index) = Σ (c_i - b_i) × ln(c_i / b_i) over
 *    bins, b and c the baseline and current shares, each smoothed as
 *    (share + ε) / (1 + bins × ε) with ε = opts.epsilon (1e-4) so empty bins
 *    stay finite.
 *      numeric: bins cut at the baseline's quantiles i / opts.bins
 *      (i = 1 .. bins-1; repeated cut points are merged, so discrete data
 *      gets fewer bins), shares from each side's KLL CDF.
 *      categorical and text: one bin per value that is frequent on either
 *      side — its lower bound count - error (less sampling noise) above
 *      n / topk_capacity, the values the top-values sketch is sure of
 *      (profile.h, "Known top values") — plus one bin for every other
 *      string, and bins "true" and "false" for bools. Rare values are not
 *      compared one by one: their counts are sketch noise (the cause of
 *      false alerts on ids in older versions); their shape is compared by
 *      length_psi and chars_psi instead.
 *      timestamp: not computed (time moves on: two periods never share
 *      their instants); see rate_ratio.
 *    Rule of thumb (and the default thresholds): < 0.1 no significant
 *    change, 0.1 – 0.2 moderate (warn), ≥ 0.2 significant (alert).
 *  - js: Jensen–Shannon distance on the psi bins (unsmoothed), base 2, in
 *    [0, 1]: the square root of the JS divergence.
 *  - length_psi: PSI of string and bytes lengths, from the profiles' length
 *    histograms, bins grouped to about 1 / opts.bins of the baseline each
 *    (lengths below the baseline's shortest and above its longest are bins
 *    of their own). Thresholds: psi_warn / psi_alert.
 *  - chars_psi: PSI of the character-class mix of strings (lower, upper,
 *    digit, space, punct, control, non_ascii bytes). Thresholds as psi.
 *  - distinct_ratio_baseline / _current: distinct / non-null values. It
 *    grows smaller as a sample grows for most fields, so it is only judged
 *    where it does not: a key-like baseline (every value distinct within 3
 *    standard errors of the HyperLogLog, and no floats: ids, request ids)
 *    whose ratio drops by distinct_warn / distinct_alert (0.1 / 0.2) beyond
 *    the HyperLogLog's error (3 standard errors of the difference), i.e.
 *    values that were unique now repeat.
 *  - rate_ratio (timestamp fields): the current rate (timestamps per second
 *    between the earliest and the latest) over the baseline's; judged
 *    against rate_warn / rate_alert (2 / 10) in either direction (a ratio of
 *    0.25 is a change by a factor of 4). NaN when either range is 0.
 *  - gap_share_baseline / _current (timestamp fields): the share of the
 *    timeline's buckets (profile.h: 64 over the range) between the first and
 *    the last in use that are empty. Judged when both sides counted at least
 *    20 timestamps per bucket (1280), where a steady stream leaves no bucket
 *    empty by chance: an increase by gap_warn / gap_alert (0.1 / 0.25) says
 *    the stream now stops for a tenth / a quarter of its range.
 *  - null_rate_baseline / null_rate_current: (nulls + missing) / records,
 *    i.e. the share of records where the field is null or absent.
 *  - type_tvd: total variation distance, in [0, 1], between the type mixes
 *    of the non-null values (½ Σ |b_t - c_t|); strings in RFC 3339 form
 *    count as their own type, so a timestamp field that starts receiving
 *    other text is a type change (when both profiles have length
 *    histograms, i.e. were written by this version).
 *
 * Sampling noise. Every PSI is judged by its excess over what two samples
 * of one distribution give by chance at these sizes (mean plus three
 * standard deviations of (bins - 1 d.f. chi-square) × (1/nb + 1/nc)); the
 * null-rate change and type_tvd by their excess over three standard
 * deviations of a share difference. The reported metrics are the measured
 * ones; only the status uses the excess.
 *
 * A metric that cannot be computed (no values of the kind on one side, no
 * records, a profile from an older sluice without the statistic) is NaN,
 * written as null in JSON, and does not affect the status. status is the
 * worst over the metrics (a metric at or above its threshold); reason names
 * the metrics of that level.
 *
 * The comparison reads the profiles only; results own their memory.
 */
#ifndef SL_DRIFT_H
#define SL_DRIFT_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "profile.h"

typedef enum sl_drift_status {
    SL_DRIFT_OK = 0,
    SL_DRIFT_WARN,
    SL_DRIFT_ALERT,
} sl_drift_status;

typedef enum sl_drift_kind {
    SL_DRIFT_NUMERIC,
    SL_DRIFT_CATEGORICAL,
    SL_DRIFT_OTHER,
    SL_DRIFT_TEXT,
    SL_DRIFT_TIMESTAMP,
} sl_drift_kind;

typedef struct sl_drift_opts {
    unsigned bins;            /* numeric PSI bins: 10 */
    double epsilon;           /* PSI smoothing: 1e-4 */
    double psi_warn;          /* 0.1 */
    double psi_alert;         /* 0.2 */
    double null_rate_warn;    /* 0.05 (absolute change) */
    double null_rate_alert;   /* 0.10 */
    double type_tvd_warn;     /* 0.05 */
    double type_tvd_alert;    /* 0.10 */
    double distinct_warn;     /* 0.1 (drop of a key-like distinct ratio) */
    double distinct_alert;    /* 0.2 */
    double rate_warn;         /* 2 (factor, either direction) */
    double rate_alert;        /* 10 */
    double gap_warn;          /* 0.1 (increase of the gap share) */
    double gap_alert;         /* 0.25 */
} sl_drift_opts;

typedef struct sl_drift_field {
    char *field;              /* full path, NUL-terminated, owned */
    sl_drift_kind kind;
    double psi;
    double js;
    double null_rate_baseline;
    double null_rate_current;
    double type_tvd;
    double length_psi;
    double chars_psi;
    double distinct_ratio_baseline;
    double distinct_ratio_current;
    double rate_ratio;
    double gap_share_baseline;
    double gap_share_current;
    sl_drift_status status;
    char reason[96];          /* the metrics at the status level, e.g. "psi, length"; "" when ok */
} sl_drift_field;

typedef struct sl_drift_report {
    sl_drift_field *fields;   /* baseline's fields in order, then new ones */
    size_t n;
    sl_drift_status status;   /* worst over fields */
} sl_drift_report;

void sl_drift_opts_default(sl_drift_opts *o);
/* opts NULL means defaults. Returns -1 with err filled when opts are invalid
 * (bins outside [2, 1000], thresholds not increasing, epsilon not in (0, 0.1],
 * rate thresholds not above 1). */
int sl_drift_compare(const sl_profile *baseline, const sl_profile *current,
                     const sl_drift_opts *opts, sl_drift_report *out, sl_error *err);
void sl_drift_report_free(sl_drift_report *r);

const char *sl_drift_status_name(sl_drift_status s);   /* "ok", "warn", "alert" */
/* "numeric", "categorical", "text", "timestamp", "other" */
const char *sl_drift_kind_name(sl_drift_kind k);
/* Parses "ok", "warn" or "alert"; false when it is none of them. */
bool sl_drift_status_parse(const char *name, sl_drift_status *out);

/* {"status":"warn","fields":[{"field":"x","kind":"numeric","psi":0.12,
 *   "js":0.08,"length_psi":null,"chars_psi":null,
 *   "distinct_ratio_baseline":0.4,"distinct_ratio_current":0.41,
 *   "rate_ratio":null,"gap_share_baseline":null,"gap_share_current":null,
 *   "null_rate_baseline":0,"null_rate_current":0.01,
 *   "type_tvd":0,"status":"warn","reason":"psi"},...]}   (NaN metrics as null) */
void sl_drift_to_json(const sl_drift_report *r, sl_buf *out);

#endif
