/* profile.c — the `profile` transform: a streaming profile of every field
 * (or of the listed fields), with drift against a saved baseline.
 *
 * Each worker owns a profile (sketch/profile.h) guarded by its own mutex,
 * taken once per batch, so workers never contend with each other; only a
 * reader (describe, metrics, the finish hook) takes them all, one after the
 * other, to merge a snapshot. When a worker is freed its profile is merged
 * into the component's `retired` profile, so the totals survive the end of
 * the run (the report is written after the workers are gone).
 *
 * Records pass through unchanged. With `fields`, each record is profiled as
 * a small map of the listed paths (built in the batch's arena), keyed by the
 * paths as written, so `user.email` reads the same as in a full profile.
 *
 * At the end of the run (finish hook) the merged profile is written to
 * `output` (atomically: a temporary file renamed into place; missing parent
 * directories are created) and, with a
 * `baseline`, compared with it: drifting fields are logged, and with
 * `on_drift: fail` a field at alert level fails the run.
 *
 * Checkpoints: the state is the merged profile (its JSON, sketches
 * included) with the `fields` it was built for; restore merges it into
 * `retired`, so the profile written at the end covers the records of every
 * run since the start. A profile of other fields, with another `lg_k`
 * (HyperLogLogs of different sizes do not merge) or of an older profile
 * version (other hash), is not restored: the profile starts empty and a
 * warning says why.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../expr/expr.h"
#include "../sketch/drift.h"
#include "../sketch/profile.h"
#include "../runtime/component.h"

/* One worker's profile. */
typedef struct profile_worker {
    pthread_mutex_t lock;
    sl_profile *profile;
    struct profile_worker *next;
} profile_worker;

typedef struct profile_state {
    sl_profile_opts opts;
    sl_path **fields;        /* NULL = profile whole records */
    size_t n_fields;
    char *output;            /* path for the merged profile, or NULL */
    sl_profile *baseline;    /* or NULL */
    sl_drift_opts drift_opts;
    bool fail_on_drift;
    pthread_mutex_t lock;    /* guards workers and retired */
    profile_worker *workers;
    sl_profile *retired;     /* profiles of workers already freed */
} profile_state;

static const char *const on_drift_values[] = {"log", "fail", NULL};

static const sl_option profile_options[] = {
    {"fields", SL_OPT_LIST, false, NULL,
     "Field paths to profile (e.g. `[latency_ms, user.country]`); all fields of every record "
     "when unset.", NULL},
    {"lg_k", SL_OPT_INT, false, "12",
     "Precision of the distinct counts: HyperLogLog with 2^lg_k registers (4 to 18; 12 gives "
     "about 1.6 % error in 4 KiB per field).", NULL},
    {"quantile_k", SL_OPT_INT, false, "256",
     "Size of the KLL quantile sketch per numeric field (8 to 65535; 256 gives about 1 % rank "
     "error in about 10 KiB).", NULL},
    {"top_k", SL_OPT_INT, false, "128",
     "Values tracked per string field for the top values (1 to 65536).", NULL},
    {"max_fields", SL_OPT_INT, false, "256",
     "Most fields tracked; further fields are counted together as `_other_fields`.", NULL},
    {"output", SL_OPT_STRING, false, NULL,
     "Write the merged profile as JSON to this file at the end of the run (replaced "
     "atomically). It can serve as the `baseline` of a later run.", NULL},
    {"baseline", SL_OPT_STRING, false, NULL,
     "A saved profile JSON (from `output` or `sluice profile -o`); enables drift per field: "
     "values (PSI, Jensen–Shannon), lengths and characters of strings, distinct ratio of ids, "
     "rate of timestamps, null rate and type mix.", NULL},
    {"psi_warn", SL_OPT_FLOAT, false, "0.1", "PSI at or above which a field's drift is `warn`.", NULL},
    {"psi_alert", SL_OPT_FLOAT, false, "0.2", "PSI at or above which a field's drift is `alert`.", NULL},
    {"on_drift", SL_OPT_ENUM, false, "log",
     "At the end of the run, with a baseline: `log` logs the drifting fields; `fail` also fails "
     "the run when a field's drift is at `alert` level.", on_drift_values},
    {NULL, 0, false, NULL, NULL, NULL},
};

/* Reads a whole file; NULL with err on failure. */
static char *read_file(const char *path, size_t *len, sl_error *err)
{
    sl_buf b;
    sl_buf_init(&b);
    if (sl_read_file(path, &b) < 0) {
        sl_errorf(err, "cannot read %s: %s", path, strerror(errno));
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_steal(&b, len);
}

static void profile_destroy(sl_component *c)
{
    profile_state *s = c->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_fields; i++) sl_path_free(s->fields[i]);
    free(s->fields);
    free(s->output);
    sl_profile_free(s->baseline);
    sl_profile_free(s->retired);
    pthread_mutex_destroy(&s->lock);
    free(s);
    c->impl = NULL;
}

/* Reads an INT option into an unsigned within [lo, hi]. */
static bool int_option(const sl_opts *opts, const char *name, long lo, long hi, unsigned *out, sl_diag *diag)
{
    int64_t v = sl_opts_int(opts, name);
    if (v < lo || v > hi) {
        sl_diag_error(diag, sl_opts_pos(opts, name), "%s must be between %ld and %ld, got %lld", name, lo, hi,
                      (long long)v);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static int profile_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    profile_state *s = calloc(1, sizeof *s);
    if (!s) abort();
    pthread_mutex_init(&s->lock, NULL);
    c->impl = s;
    bool ok = true;
    sl_profile_opts_default(&s->opts);
    ok &= int_option(opts, "lg_k", SL_HLL_MIN_LG_K, SL_HLL_MAX_LG_K, &s->opts.hll_lg_k, diag);
    ok &= int_option(opts, "quantile_k", SL_KLL_MIN_K, SL_KLL_MAX_K, &s->opts.kll_k, diag);
    ok &= int_option(opts, "top_k", 1, SL_TOPK_MAX_CAPACITY, &s->opts.topk_capacity, diag);
    ok &= int_option(opts, "max_fields", 1, SL_PROFILE_MAX_MAX_FIELDS, &s->opts.max_fields, diag);

    s->n_fields = sl_opts_list_len(opts, "fields");
    if (s->n_fields) {
        s->fields = calloc(s->n_fields, sizeof *s->fields);
        if (!s->fields) abort();
        for (size_t i = 0; i < s->n_fields; i++) {
            s->fields[i] = sl_path_parse(sl_opts_list_item(opts, "fields", i), sl_opts_pos(opts, "fields"), diag);
            if (!s->fields[i]) ok = false;
        }
    }
    if (sl_opts_has(opts, "output")) {
        s->output = strdup(sl_opts_string(opts, "output"));
        if (!s->output) abort();
    }

    sl_drift_opts_default(&s->drift_opts);
    s->drift_opts.psi_warn = sl_opts_float(opts, "psi_warn");
    s->drift_opts.psi_alert = sl_opts_float(opts, "psi_alert");
    if (!(s->drift_opts.psi_warn > 0 && s->drift_opts.psi_warn < s->drift_opts.psi_alert)) {
        sl_diag_error(diag, sl_opts_pos(opts, "psi_warn"),
                      "psi_warn must be above 0 and below psi_alert (defaults 0.1 and 0.2)");
        ok = false;
    }
    s->fail_on_drift = strcmp(sl_opts_enum(opts, "on_drift"), "fail") == 0;
    if (s->fail_on_drift && !sl_opts_has(opts, "baseline")) {
        sl_diag_error(diag, sl_opts_pos(opts, "on_drift"), "on_drift: fail needs a `baseline` to compare with");
        ok = false;
    }
    if (sl_opts_has(opts, "baseline")) {
        const char *path = sl_opts_string(opts, "baseline");
        sl_error err;
        size_t len;
        char *text = read_file(path, &len, &err);
        if (!text || sl_profile_from_json(text, len, &s->baseline, &err) < 0) {
            sl_diag_error(diag, sl_opts_pos(opts, "baseline"), "baseline: %s%s%s", text ? path : "",
                          text ? ": " : "", err.msg);
            ok = false;
        }
        free(text);
    }
    if (ok) {
        sl_error err;
        s->retired = sl_profile_new(&s->opts, &err);
        if (!s->retired) {
            sl_diag_error(diag, c->pos, "%s", err.msg);
            ok = false;
        }
    }
    if (!ok) {
        profile_destroy(c);
        return -1;
    }
    return 0;
}

static void *profile_worker_init(sl_component *c, sl_error *err)
{
    profile_state *s = c->impl;
    profile_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->profile = sl_profile_new(&s->opts, err);
    if (!w->profile) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_lock(&s->lock);
    w->next = s->workers;
    s->workers = w;
    pthread_mutex_unlock(&s->lock);
    return w;
}

static void profile_worker_free(sl_component *c, void *wstate)
{
    profile_state *s = c->impl;
    profile_worker *w = wstate;
    pthread_mutex_lock(&s->lock);
    for (profile_worker **p = &s->workers; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    sl_error err;
    if (sl_profile_merge(s->retired, w->profile, &err) < 0)   /* same options: cannot happen */
        sl_err(c->name, "cannot keep a worker's profile: %s", err.msg);
    pthread_mutex_unlock(&s->lock);
    sl_profile_free(w->profile);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* The record's identity for the profile's sampling (sl_profile_add): the
 * same whichever worker and batch carry it. */
static uint64_t record_id(const sl_batch *b, const sl_record *r)
{
    uint64_t key[3] = {(uint64_t)b->source, r->pos.file_id, r->pos.offset};
    return sl_hash64(key, sizeof key, 0);
}

static void profile_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                            sl_emit *out)
{
    profile_state *s = c->impl;
    profile_worker *w = wstate;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = record_id(b, recs[i]);
        if (!s->fields) {
            sl_profile_add(w->profile, sl_record_value(recs[i]), id);
            continue;
        }
        sl_value sub = sl_map_new(&b->arena, s->n_fields);
        for (size_t k = 0; k < s->n_fields; k++) {
            const sl_value *v = sl_path_get(s->fields[k], sl_record_value(recs[i]));
            const char *name = sl_path_source(s->fields[k]);
            if (*name == '.') name++;
            if (v) sl_map_append(&b->arena, &sub, name, strlen(name), *v);
        }
        sl_profile_add(w->profile, &sub, id);
    }
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < n; i++) sl_emit_record(out, 0, recs[i]);
}

/* A snapshot of everything profiled so far (caller frees). */
static sl_profile *merged(sl_component *c)
{
    profile_state *s = c->impl;
    sl_error err;
    sl_profile *all = sl_profile_new(&s->opts, &err);
    if (!all) abort();   /* the options were checked at create */
    pthread_mutex_lock(&s->lock);
    int rc = sl_profile_merge(all, s->retired, &err);
    for (profile_worker *w = s->workers; w && rc == 0; w = w->next) {
        pthread_mutex_lock(&w->lock);
        rc = sl_profile_merge(all, w->profile, &err);
        pthread_mutex_unlock(&w->lock);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) sl_err(c->name, "cannot merge the workers' profiles: %s", err.msg);
    return all;
}

/* Compares with the baseline; false (logged) when the comparison failed. */
static bool compare(sl_component *c, const sl_profile *current, sl_drift_report *out)
{
    profile_state *s = c->impl;
    sl_error err;
    if (sl_drift_compare(s->baseline, current, &s->drift_opts, out, &err) < 0) {
        sl_err(c->name, "cannot compare with the baseline: %s", err.msg);
        return false;
    }
    return true;
}

/* Writes the profile to path (creating its directories), replacing it
 * atomically. */
static int write_profile(const char *path, const sl_profile *p, sl_error *err)
{
    sl_buf json;
    sl_buf_init(&json);
    sl_profile_to_json(p, &json);
    sl_buf_putc(&json, '\n');
    int rc = sl_mkdirs_parent(path, err);
    if (rc == 0) rc = sl_write_file_atomic(path, json.data, json.len, err);
    if (rc < 0) sl_error_prefix(err, "cannot write the profile to %s", path);
    sl_buf_free(&json);
    return rc;
}

static int profile_finish(sl_component *c, sl_error *err)
{
    profile_state *s = c->impl;
    sl_profile *all = merged(c);
    int rc = 0;
    if (s->output) {
        rc = write_profile(s->output, all, err);
        if (rc == 0) sl_info(c->name, "profile of %llu records written to %s",
                             (unsigned long long)sl_profile_records(all), s->output);
    }
    sl_drift_report drift;
    if (rc == 0 && s->baseline && compare(c, all, &drift)) {
        const char *alert = NULL;
        size_t alerts = 0;
        for (size_t i = 0; i < drift.n; i++) {
            const sl_drift_field *f = &drift.fields[i];
            if (f->status == SL_DRIFT_OK) continue;
            sl_warn(c->name, "drift %s on field '%s' (%s): psi %.3f, length psi %.3f, chars psi %.3f, "
                    "distinct ratio %.3f -> %.3f, rate x%.3g, null rate %.3f -> %.3f, type change %.3f",
                    sl_drift_status_name(f->status), f->field, f->reason, f->psi, f->length_psi, f->chars_psi,
                    f->distinct_ratio_baseline, f->distinct_ratio_current, f->rate_ratio, f->null_rate_baseline,
                    f->null_rate_current, f->type_tvd);
            if (f->status == SL_DRIFT_ALERT && alerts++ == 0) alert = f->field;
        }
        if (s->fail_on_drift && alert)
            rc = sl_errorf(err, "drift against the baseline at alert level on %zu field%s, first '%s'", alerts,
                           alerts == 1 ? "" : "s", alert);
        sl_drift_report_free(&drift);
    }
    sl_profile_free(all);
    return rc;
}

/* Appends the per-field drift results: the "fields" array of sl_drift_to_json. */
static void drift_fields_json(const sl_drift_report *r, sl_buf *out)
{
    sl_buf whole;
    sl_buf_init(&whole);
    sl_drift_to_json(r, &whole);
    const char *fields = strstr(whole.data, "\"fields\":");
    if (fields) {
        fields += strlen("\"fields\":");
        sl_buf_append(out, fields, (size_t)(whole.data + whole.len - 1 - fields));   /* drop the final } */
    } else {
        sl_buf_puts(out, "[]");
    }
    sl_buf_free(&whole);
}

static void profile_describe(sl_component *c, sl_buf *json)
{
    profile_state *s = c->impl;
    sl_profile *all = merged(c);
    sl_buf_puts(json, "{\"type\":\"profile\",\"profile\":");
    sl_profile_to_json(all, json);
    sl_drift_report drift;
    if (s->baseline && compare(c, all, &drift)) {
        sl_buf_puts(json, ",\"drift\":");
        drift_fields_json(&drift, json);
        sl_drift_report_free(&drift);
    }
    sl_buf_putc(json, '}');
    sl_profile_free(all);
}

static void drift_metric(sl_buf *out, const char *metric, const char *component, const sl_drift_report *r,
                         bool psi)
{
    for (size_t i = 0; i < r->n; i++) {
        double v = psi ? r->fields[i].psi : r->fields[i].js;
        if (!isfinite(v)) continue;
        sl_buf_printf(out, "%s{component=\"", metric);
        sl_prom_escape(out, component);
        sl_buf_puts(out, "\",field=\"");
        sl_prom_escape(out, r->fields[i].field);
        sl_buf_printf(out, "\"} %.17g\n", v);
    }
}

static void profile_metrics(sl_component *c, sl_buf *out)
{
    profile_state *s = c->impl;
    sl_profile *all = merged(c);
    sl_buf_puts(out, "# HELP sluice_profile_records_total Records profiled.\n"
                     "# TYPE sluice_profile_records_total counter\n"
                     "sluice_profile_records_total{component=\"");
    sl_prom_escape(out, c->name);
    sl_buf_printf(out, "\"} %llu\n", (unsigned long long)sl_profile_records(all));
    sl_drift_report drift;
    if (s->baseline && compare(c, all, &drift)) {
        sl_buf_puts(out, "# HELP sluice_drift_psi Population Stability Index of a field against the baseline "
                         "profile (0.1 warn, 0.2 alert by default).\n# TYPE sluice_drift_psi gauge\n");
        drift_metric(out, "sluice_drift_psi", c->name, &drift, true);
        sl_buf_puts(out, "# HELP sluice_drift_js Jensen-Shannon distance of a field against the baseline "
                         "profile, 0 to 1.\n# TYPE sluice_drift_js gauge\n");
        drift_metric(out, "sluice_drift_js", c->name, &drift, false);
        sl_drift_report_free(&drift);
    }
    sl_profile_free(all);
}

/* ---- checkpoints ---- */

#define STATE_VERSION 1

/* The `fields` option as JSON: the paths as written, or null for all fields. */
static void fields_json(const profile_state *s, sl_buf *out)
{
    if (!s->fields) {
        sl_buf_puts(out, "null");
        return;
    }
    sl_buf_putc(out, '[');
    for (size_t i = 0; i < s->n_fields; i++) {
        const char *f = sl_path_source(s->fields[i]);
        if (i) sl_buf_putc(out, ',');
        sl_json_encode_string(out, f, strlen(f));
    }
    sl_buf_putc(out, ']');
}

static int profile_save(sl_component *c, sl_buf *state, sl_error *err)
{
    profile_state *s = c->impl;
    sl_profile *all = merged(c);
    sl_buf_printf(state, "{\"version\":%d,\"fields\":", STATE_VERSION);
    fields_json(s, state);
    sl_buf_puts(state, ",\"profile\":");
    sl_profile_to_json(all, state);
    sl_buf_putc(state, '}');
    sl_profile_free(all);
    return 0;
}

/* Merges the saved profile into `retired`, unless it was built for other
 * fields or another lg_k (then warns and keeps the profile empty). */
static int restore_state(void *component, const sl_value *state, sl_error *err)
{
    sl_component *c = component;
    profile_state *s = c->impl;
    uint64_t version;
    const sl_value *fields = sl_state_get(state, "fields"), *saved = sl_state_get(state, "profile");
    if (!sl_state_uint(state, "version", &version) || version != STATE_VERSION || !fields || !saved)
        return sl_errorf(err, "the state is not a profile state of version %d", STATE_VERSION);
    sl_buf text, current;
    sl_buf_init(&text);
    sl_buf_init(&current);
    sl_json_encode(&text, fields);
    fields_json(s, &current);
    sl_profile *p = NULL;
    int rc = 0;
    if (text.len != current.len || memcmp(text.data, current.data, text.len) != 0) {
        sl_warn(c->name, "the checkpoint holds a profile of fields %s and the configuration now profiles %s; "
                "the profile starts empty", text.data, current.data);
    } else {
        text.len = 0;
        sl_json_encode(&text, saved);
        rc = sl_profile_from_json(text.data, text.len, &p, err);
    }
    if (p && sl_profile_options(p)->hll_lg_k != s->opts.hll_lg_k) {
        sl_warn(c->name, "the checkpoint holds a profile with lg_k %u and the configuration now has lg_k %u; "
                "the profile starts empty", sl_profile_options(p)->hll_lg_k, s->opts.hll_lg_k);
    } else if (p && sl_profile_version(p) != SL_PROFILE_VERSION) {
        sl_warn(c->name, "the checkpoint holds a profile of version %u, written by an older sluice whose distinct "
                "counts do not combine with this one's; the profile starts empty", sl_profile_version(p));
    } else if (p) {
        pthread_mutex_lock(&s->lock);
        rc = sl_profile_merge(s->retired, p, err);
        pthread_mutex_unlock(&s->lock);
    }
    sl_profile_free(p);
    sl_buf_free(&text);
    sl_buf_free(&current);
    return rc;
}

static int profile_restore(sl_component *c, const char *state, size_t len, sl_error *err)
{
    return state ? sl_state_read(state, len, restore_state, c, err) : 0;
}

const sl_component_type sl_transform_profile_type = {
    .name = "profile",
    .kind = SL_TRANSFORM,
    .summary = "Profile every field with mergeable sketches; detect drift against a baseline",
    .doc =
        "Builds a profile of the records that pass through (they pass unchanged): per field "
        "the count, nulls, missing, type mix, distinct count (HyperLogLog), quantiles and a "
        "histogram (KLL), top values (space-saving), string lengths and character classes, "
        "timestamp ranges and bool counts — in "
        "bounded memory (about 34 KiB per field at the defaults), whatever the number of "
        "records. Nested maps are profiled as `parent.child` fields. `fields` limits the "
        "profile to the listed paths.\n\n"
        "The profile is available live in `/stats` and the report, and with `output` it is "
        "written as JSON at the end of the run. With `baseline` (a profile saved earlier) "
        "each field is compared with it: PSI and Jensen–Shannon distance for numbers and "
        "frequent values, lengths and characters of strings, distinct ratio of ids, rate of "
        "timestamps, null-rate and type-mix change; the result is in `/stats`, the report "
        "and the `sluice_drift_psi` / `sluice_drift_js` metrics, drifting fields are logged "
        "at the end of the run, and `on_drift: fail` fails the run when a field reaches "
        "the alert level. See docs/profiling.md.",
    .example =
        "transforms:\n"
        "  stats:\n"
        "    type: profile\n"
        "    inputs: [events]\n"
        "    output: out/profile.json\n"
        "    baseline: baselines/last-week.json\n"
        "    on_drift: fail\n",
    .options = profile_options,
    .create = profile_create,
    .destroy = profile_destroy,
    .worker_init = profile_worker_init,
    .worker_free = profile_worker_free,
    .process = profile_process,
    .finish = profile_finish,
    .describe = profile_describe,
    .metrics = profile_metrics,
    .save = profile_save,
    .restore = profile_restore,
};
