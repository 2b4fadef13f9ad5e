/* drift.h — compare a profile with a baseline profile, field by field.
 *
 * For every field of either profile (except "_other_fields"):
 *
 *  - kind: "numeric" when numbers make up at least half of the baseline's
 *    non-null values (of the current's when the baseline has none),
 *    "categorical" when strings or bools do, else "other".
 *  - psi (Population Stability Index) = Σ (c_i - b_i) × ln(c_i / b_i) over
 *    bins, b and c the baseline and current shares, each smoothed as
 *    (share + ε) / (1 + bins × ε) with ε = opts.epsilon (1e-4) so empty bins
 *    stay finite.
 *      numeric: bins cut at the baseline's quantiles i / opts.bins
 *      (i = 1 .. bins-1; repeated cut points are merged, so discrete data
 *      gets fewer bins), shares from each side's KLL CDF.
 *      categorical: one bin per value tracked by either top-values sketch
 *      (bools: "true" and "false"), plus one "other" bin for the rest.
 *    Rule of thumb (and the default thresholds): < 0.1 no significant
 *    change, 0.1 – 0.2 moderate (warn), ≥ 0.2 significant (alert).
 *  - js: Jensen–Shannon distance on the same bins (unsmoothed), base 2, in
 *    [0, 1]: the square root of the JS divergence.
 *  - null_rate_baseline / null_rate_current: (nulls + missing) / records,
 *    i.e. the share of records where the field is null or absent.
 *  - type_tvd: total variation distance, in [0, 1], between the type mixes
 *    of the non-null values (½ Σ |b_t - c_t|).
 *
 * A metric that cannot be computed (no values of the kind on one side, no
 * records) is NaN, written as null in JSON, and does not affect the status.
 * status is the worst of: psi against psi_warn/psi_alert, the absolute
 * null-rate change against null_rate_warn/null_rate_alert, and type_tvd
 * against type_tvd_warn/type_tvd_alert (a metric at or above its threshold).
 *
 * The comparison reads the profiles only; results own their memory.
 */
#ifndef SL_DRIFT_H
#define SL_DRIFT_H

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
} sl_drift_opts;

typedef struct sl_drift_field {
    char *field;              /* full path, NUL-terminated, owned */
    sl_drift_kind kind;
    double psi;
    double js;
    double null_rate_baseline;
    double null_rate_current;
    double type_tvd;
    sl_drift_status status;
} sl_drift_field;

typedef struct sl_drift_report {
    sl_drift_field *fields;   /* baseline's fields in order, then new ones */
    size_t n;
    sl_drift_status status;   /* worst over fields */
} sl_drift_report;

void sl_drift_opts_default(sl_drift_opts *o);
/* opts NULL means defaults. Returns -1 with err filled when opts are invalid
 * (bins outside [2, 1000], thresholds not increasing, epsilon not in (0, 0.1]). */
int sl_drift_compare(const sl_profile *baseline, const sl_profile *current,
                     const sl_drift_opts *opts, sl_drift_report *out, sl_error *err);
void sl_drift_report_free(sl_drift_report *r);

const char *sl_drift_status_name(sl_drift_status s);   /* "ok", "warn", "alert" */
const char *sl_drift_kind_name(sl_drift_kind k);       /* "numeric", "categorical", "other" */

/* {"status":"warn","fields":[{"field":"x","kind":"numeric","psi":0.12,
 *   "js":0.08,"null_rate_baseline":0,"null_rate_current":0.01,
 *   "type_tvd":0,"status":"warn"},...]}   (NaN metrics as null) */
void sl_drift_to_json(const sl_drift_report *r, sl_buf *out);

#endif
