/* checks.h — data quality checks over many records (the `quality` transform's
 * vocabulary): what a check is, how it is written in the configuration, how
 * the records of one window are measured for it, and the verdict.
 *
 * A check turns the records of a window into one number, its value, and
 * passes when the value is within the check's bounds:
 *
 *   row_count       records in the window                      min / max
 *   null_rate       (missing + null) / records                 max
 *   distinct_ratio  distinct non-null values / non-null values min (max)
 *   unique          the same ratio, which must be 1            -
 *   mean, min, max  of the numeric values                      min / max
 *   quantile        the q-quantile of the numeric values       q, min / max
 *   freshness       seconds from the newest event time to now  max (a duration)
 *
 * Measuring is split in two so that windows can span batches: a batch is
 * first measured into an sl_check_sample (counts, sums, the value hashes and
 * numbers it needs, all in the batch's arena, without locks), then the sample
 * is added to the window's sl_check_acc. A window's accumulator is exact when
 * it holds one batch (window: batch); across batches (time windows) distinct
 * counts come from a HyperLogLog and quantiles from a KLL sketch, so memory
 * stays bounded however many records a window holds.
 */
#ifndef SL_QUALITY_CHECKS_H
#define SL_QUALITY_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "../config/diag.h"
#include "../config/node.h"
#include "../core/arena.h"
#include "../core/batch.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"
#include "../expr/expr.h"

typedef enum {
    SL_CHECK_ROW_COUNT,
    SL_CHECK_NULL_RATE,
    SL_CHECK_DISTINCT_RATIO,
    SL_CHECK_UNIQUE,
    SL_CHECK_MEAN,
    SL_CHECK_MIN,
    SL_CHECK_MAX,
    SL_CHECK_QUANTILE,
    SL_CHECK_FRESHNESS,
} sl_check_kind;

typedef enum { SL_CHECK_LOG, SL_CHECK_ROUTE, SL_CHECK_FAIL } sl_check_action;

typedef struct sl_check {
    char *name;              /* unique within the transform */
    sl_check_kind kind;
    sl_path *field;          /* NULL for row_count */
    bool has_min, has_max;
    double min, max;         /* bounds on the value (freshness: seconds) */
    double q;                /* quantile: 0..1 */
    double mostly;           /* fraction of windows that must pass, 0..1 */
    sl_check_action action;
    char threshold[96];      /* the bounds as text: "<= 0.05", ">= 10 and <= 20" */
} sl_check;

/* Parses one entry of `checks:` (a mapping), reporting every problem to diag
 * at its position. Returns 0 and fills *out, or -1. */
int sl_check_parse(const sl_node *node, sl_check *out, sl_diag *diag);
void sl_check_free(sl_check *c);
const char *sl_check_kind_name(sl_check_kind k);
const char *sl_check_action_name(sl_check_action a);

/* What one batch contributes to a check. */
typedef struct sl_check_sample {
    uint64_t rows, nulls;
    uint64_t *hashes;        /* distinct checks: hashes of the non-null values */
    uint64_t n_hashes;       /* = non-null values */
    double *numbers;         /* mean/min/max/quantile: the numeric values */
    uint64_t n_numbers;
    double sum, min, max;
    bool has_time;           /* freshness: at least one event time */
    int64_t newest_ns;
} sl_check_sample;

/* Measures recs for check c; arrays are allocated in arena a. */
void sl_check_measure(const sl_check *c, sl_record **recs, size_t n, sl_arena *a,
                      sl_check_sample *out);

typedef struct sl_check_acc sl_check_acc;

/* A window's accumulator. exact: the window is one sample (distinct and
 * quantile are computed exactly from it); otherwise sketches are used.
 * Returns NULL when out of memory. */
sl_check_acc *sl_check_acc_new(const sl_check *c, bool exact);
void sl_check_acc_free(sl_check_acc *acc);
/* Empties the accumulator for the next window. */
void sl_check_acc_reset(sl_check_acc *acc);
void sl_check_acc_add(sl_check_acc *acc, const sl_check_sample *s);
/* Records accumulated since the last reset. */
uint64_t sl_check_acc_rows(const sl_check_acc *acc);

/* Checkpoints: appends what the accumulator holds (a time window still
 * open) as a JSON object: its counters, plus the HyperLogLog and KLL images
 * of distinct and quantile checks. */
void sl_check_acc_save(const sl_check_acc *acc, sl_buf *out);
/* Loads a saved object (parsed) into acc, which must be a fresh accumulator
 * of the same check (sl_check_acc_new, not exact). Returns 0, or -1 with err
 * when the state is damaged or was saved for another kind of check (acc is
 * then partly loaded: free it). */
int sl_check_acc_restore(sl_check_acc *acc, const sl_value *state, sl_error *err);

/* The verdict on one window. */
typedef struct sl_check_result {
    bool evaluated;          /* false: nothing to measure (no numeric values,
                                no event times, no non-null values) */
    bool pass;
    double value;
} sl_check_result;

/* Evaluates the accumulated window at time now_ns (for freshness). */
sl_check_result sl_check_evaluate(const sl_check *c, const sl_check_acc *acc, int64_t now_ns);

/* Formats a check value for messages and JSON: shortest round-trip form. */
void sl_check_format_value(sl_buf *out, double v);

#endif
