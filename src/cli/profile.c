/* profile.c — `sluice profile FILE... [--format F] [-o OUT] [--suggest-contract C]
 * [--baseline B]`.
 *
 * Profiles files without writing a pipeline: the command builds the
 * in-memory pipeline `file source -> profile transform -> blackhole`, so the
 * files are read exactly as `sluice run` would read them (the same decoders,
 * gzip and zstd, the same DLQ rules), and the profile is the transform's
 * `output` file. It then reads that profile back and prints a per-field
 * summary; optionally writes a starting contract for the `validate`
 * transform (Deequ-style constraint suggestion) and prints drift against a
 * baseline profile.
 *
 * Suggestion rules, per field (the profile's exact counters where it has
 * them, its sketches otherwise):
 *   type      the dominant type of the non-null values (int and float
 *             together are `float` when any float was seen)
 *   required  true when the field was never missing
 *   nullable  false when it was never null
 *   enum      strings with at most 20 distinct values, fewer than 5 % of the
 *             non-null count, all tracked exactly by the top-values sketch
 *   min/max   numbers, widened by 10 % of the range and rounded outwards to
 *             that margin's power of ten (not below 0 when every value was >= 0)
 *   format    strings without an enum whose tracked values (at least
 *             FORMAT_MIN_VALUES, the top-values sketch's sample of the field)
 *             are all in one format: email, uuid, date, ip, uri
 *   min_length/max_length  strings without an enum or format that look like
 *             codes, not text: no spaces, and the longest at most twice the
 *             shortest; the exact length when all are alike, else widened by
 *             10 % (free text gets none: its longest value is an accident)
 *   timestamps RFC 3339 strings are type `timestamp`, with no length rules
 *   unique    ints and code-like strings whose distinct count ≈ non-null count, within
 *             3 standard errors of the HyperLogLog (and more than one value)
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../contract/formats.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../sketch/drift.h"
#include "../sketch/profile.h"
#include "cli.h"

#define ENUM_MAX_VALUES 20
#define ENUM_MAX_RATIO 0.05
#define RANGE_MARGIN 0.10
#define FORMAT_MIN_VALUES 10
#define EXIT_DRIFT 3           /* --fail-on: drift at or above the level */

typedef struct profile_args {
    const char **files;
    int n_files;
    const char *format;        /* NULL = by file name */
    const char *output;        /* -o */
    const char *contract;      /* --suggest-contract */
    const char *baseline;      /* --baseline */
    const char *fail_on;       /* --fail-on warn|alert */
} profile_args;

/* ---- the command line ---- */

static int parse_args(int argc, char **argv, profile_args *a) {
    a->files = calloc((size_t)argc, sizeof *a->files);
    if (!a->files) abort();
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (flags_done || arg[0] != '-' || arg[1] == '\0') {
            a->files[a->n_files++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            sl_cli_command_help("profile", stdout);
            return -1;
        }
        static const char *const names[] = {"--format", "-o", "--output", "--suggest-contract", "--baseline",
                                            "--fail-on"};
        const char **slots[] = {&a->format, &a->output, &a->output, &a->contract, &a->baseline, &a->fail_on};
        const size_t n_names = sizeof names / sizeof names[0];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t k = 0;
        while (k < n_names && !(strlen(names[k]) == len && strncmp(names[k], arg, len) == 0)) k++;
        if (k == n_names) return sl_cli_usage_error("profile", "unknown flag '%.*s' for 'profile'", (int)len, arg);
        if (eq) *slots[k] = eq + 1;
        else if (i + 1 < argc) *slots[k] = argv[++i];
        else return sl_cli_usage_error("profile", "flag '%s' needs a value", names[k]);
    }
    if (a->n_files == 0)
        return sl_cli_usage_error("profile", "'profile' needs at least one input file, e.g. "
                                             "'sluice profile events.jsonl'");
    if (a->format && strcmp(a->format, "jsonl") != 0 && strcmp(a->format, "csv") != 0 &&
        strcmp(a->format, "text") != 0)
        return sl_cli_usage_error("profile", "--format must be jsonl, csv or text, got '%s'", a->format);
    sl_drift_status level;
    if (a->fail_on && (!sl_drift_status_parse(a->fail_on, &level) || level == SL_DRIFT_OK))
        return sl_cli_usage_error("profile", "--fail-on must be warn or alert, got '%s'", a->fail_on);
    if (a->fail_on && !a->baseline)
        return sl_cli_usage_error("profile", "--fail-on needs --baseline: it fails on drift against the baseline");
    for (int i = 0; i < a->n_files; i++) {
        struct stat st;
        if (stat(a->files[i], &st) < 0 || access(a->files[i], R_OK) < 0) {
            fprintf(stderr, "sluice: cannot read '%s': %s\n", a->files[i], strerror(errno));
            return SL_EXIT_USAGE;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "sluice: '%s' is a directory; give the files in it\n", a->files[i]);
            return SL_EXIT_USAGE;
        }
    }
    return 0;
}

/* csv when every file is named *.csv, *.csv.gz or *.csv.zst; else jsonl. */
static const char *guess_format(const profile_args *a) {
    for (int i = 0; i < a->n_files; i++) {
        const char *f = a->files[i];
        size_t n = strlen(f);
        bool csv = (n >= 4 && strcmp(f + n - 4, ".csv") == 0) || strstr(f, ".csv.gz") || strstr(f, ".csv.zst");
        if (!csv) return "jsonl";
    }
    return "csv";
}

/* ---- running the pipeline ---- */

/* A YAML double-quoted scalar (JSON string syntax is valid YAML). */
static void yaml_string(sl_buf *out, const char *s) {
    sl_json_encode_string(out, s, strlen(s));
}

/* A path as a glob pattern that matches only itself. */
static void glob_literal(sl_buf *out, const char *path) {
    sl_buf pattern;
    sl_buf_init(&pattern);
    for (const char *p = path; *p; p++) {
        if (strchr("*?[]{}\\~", *p)) sl_buf_putc(&pattern, '\\');
        sl_buf_putc(&pattern, *p);
    }
    yaml_string(out, pattern.data);
    sl_buf_free(&pattern);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

/* Runs file -> profile -> blackhole, writing the profile to out_path.
 * Returns an exit status. */
static int run_profile(const profile_args *a, const char *out_path) {
    char data_dir[] = "/tmp/sluice-profile-XXXXXX";
    if (!mkdtemp(data_dir)) {
        fprintf(stderr, "sluice: cannot create a temporary directory: %s\n", strerror(errno));
        return SL_EXIT_FAILED;
    }
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s\nsources:\n  input:\n    type: file\n    format: %s\n    paths: [",
                  data_dir, a->format ? a->format : guess_format(a));
    for (int i = 0; i < a->n_files; i++) {
        if (i) sl_buf_puts(&yaml, ", ");
        glob_literal(&yaml, a->files[i]);
    }
    sl_buf_puts(&yaml, "]\ntransforms:\n  profile:\n    type: profile\n    inputs: [input]\n    output: ");
    yaml_string(&yaml, out_path);
    sl_buf_puts(&yaml, "\nsinks:\n  discard:\n    type: blackhole\n    inputs: [profile]\n");

    int status = SL_EXIT_OK;
    sl_diag diag;
    sl_diag_init(&diag);
    sl_config *cfg = sl_config_parse("sluice-profile", yaml.data, yaml.len, &diag);
    sl_pipeline *p = cfg && !sl_diag_has_errors(&diag) ? sl_pipeline_build(cfg, &diag) : NULL;
    if (!p) {
        sl_buf text;
        sl_buf_init(&text);
        sl_diag_print(&diag, &text);
        fprintf(stderr, "sluice: internal error: cannot build the profiling pipeline:\n%s", text.data ? text.data : "");
        sl_buf_free(&text);
        status = SL_EXIT_FAILED;
    } else {
        sl_run_options ro = {.progress = isatty(STDERR_FILENO)};
        sl_error err = {0};
        if (sl_pipeline_run(p, &ro, &err) < 0) {
            fprintf(stderr, "sluice: error: %s\n", err.msg);
            status = SL_EXIT_FAILED;
        }
        uint64_t bad = atomic_load(&sl_pipeline_metrics(p)->dlq_total);
        if (bad)
            fprintf(stderr, "sluice: %llu record%s could not be decoded and %s left out of the profile\n",
                    (unsigned long long)bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
        sl_pipeline_free(p);
    }
    sl_config_free(cfg);
    sl_diag_free(&diag);
    sl_buf_free(&yaml);
    nftw(data_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return status;
}

static sl_profile *load_profile(const char *path) {
    sl_buf text;
    sl_buf_init(&text);
    if (sl_read_file(path, &text) < 0) {
        fprintf(stderr, "sluice: cannot read %s: %s\n", path, strerror(errno));
        sl_buf_free(&text);
        return NULL;
    }
    sl_profile *p = NULL;
    sl_error err;
    if (sl_profile_from_json(text.data, text.len, &p, &err) < 0)
        fprintf(stderr, "sluice: %s is not a profile: %s\n", path, err.msg);
    sl_buf_free(&text);
    return p;
}

/* ---- reading a field's profile ---- */

static uint64_t non_null(const sl_profile_field *f) {
    return f->count - f->nulls;
}

/* The dominant type name for a contract: "int", "float", "string", ... or
 * NULL when only nulls were seen. */
static const char *dominant_type(const sl_profile_field *f) {
    uint64_t numbers = f->types[SL_INT] + f->types[SL_DOUBLE];
    static const struct { sl_type t; const char *name; } kinds[] = {
        {SL_BOOL, "bool"}, {SL_STRING, "string"}, {SL_BYTES, "string"}, {SL_ARRAY, "array"},
        {SL_MAP, "map"}, {SL_TIMESTAMP, "timestamp"},
    };
    const char *best = numbers ? (f->types[SL_DOUBLE] ? "float" : "int") : NULL;
    uint64_t best_n = numbers;
    if (2 * f->ts_count >= non_null(f) && f->ts_count > best_n)   /* RFC 3339 strings included */
        return "timestamp";
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        uint64_t n = f->types[kinds[i].t] + (kinds[i].t == SL_STRING ? f->types[SL_BYTES] : 0);
        if (kinds[i].t == SL_BYTES) continue;
        if (n > best_n) best = kinds[i].name, best_n = n;
    }
    return best;
}

static double percent(uint64_t part, uint64_t whole) {
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* The distinct estimate, never above the number of non-null values. */
static uint64_t distinct(const sl_profile_field *f) {
    uint64_t d = sl_profile_field_distinct(f);
    return d < non_null(f) ? d : non_null(f);
}

/* Whether the distinct count is the non-null count within 3 standard errors
 * of the HyperLogLog (and there is more than one value). */
static bool unique_like(const sl_profile_field *f) {
    if (!f->hll) return false;
    double tolerance = 3 * 1.04 / sqrt((double)(1u << f->hll->lg_k));
    return non_null(f) > 1 && (double)distinct(f) >= (1 - tolerance) * (double)non_null(f);
}

/* ---- the summary table ---- */

/* The top values whose counts are known (profile.h), as shares of the
 * strings with their error bound; or, when none is, what is known instead. */
static void top_cell(const sl_profile_field *f, sl_buf *out) {
    if (unique_like(f)) {
        sl_buf_printf(out, "all values distinct (≈%llu)", (unsigned long long)distinct(f));
        return;
    }
    size_t n, shown = 0;
    const sl_topk_entry **top = sl_topk_sorted(f->topk, &n);
    uint64_t strings = f->types[SL_STRING];
    for (size_t i = 0; i < n && shown < 3; i++) {
        if (!sl_profile_top_known(f, top[i])) continue;
        sl_buf_puts(out, shown++ ? ", " : "top: ");
        sl_json_encode_string(out, top[i]->value, top[i]->len > 24 ? 24 : top[i]->len);
        sl_buf_printf(out, "%s %.2g%%", top[i]->len > 24 ? "..." : "", percent(top[i]->count, strings));
        if (top[i]->error) sl_buf_printf(out, " (-%.2g%%)", percent(top[i]->error, strings));
    }
    free(top);
    if (!shown) sl_buf_printf(out, "no frequent value (≈%llu distinct)", (unsigned long long)distinct(f));
}

static void summary_cell(const sl_profile_field *f, sl_buf *out) {
    char a[32], b[32], c[32];
    if (f->num_count) {
        snprintf(a, sizeof a, "%.6g", f->num_min);
        snprintf(b, sizeof b, "%.6g", f->num_max);
        snprintf(c, sizeof c, "%.6g", f->num_mean);
        sl_buf_printf(out, "min %s, max %s, mean %s", a, b, c);
    } else if (f->ts_count) {
        char lo[40], hi[40];
        sl_format_rfc3339(lo, f->ts_min);
        sl_format_rfc3339(hi, f->ts_max);
        double range = sl_profile_field_time_range(f);
        sl_buf_printf(out, "%s .. %s (%.6g s", lo, hi, range);
        if (range > 0) sl_buf_printf(out, ", %.4g/s", (double)f->ts_count / range);
        double gaps = f->timeline ? sl_timeline_gap_share(f->timeline) : NAN;
        if (gaps > 0) sl_buf_printf(out, ", %.0f%% of it without data", 100 * gaps);
        sl_buf_putc(out, ')');
    } else if (f->topk) {
        top_cell(f, out);
    } else if (f->bool_true + f->bool_false) {
        sl_buf_printf(out, "true %.0f%%, false %.0f%%", percent(f->bool_true, f->bool_true + f->bool_false),
                      percent(f->bool_false, f->bool_true + f->bool_false));
    }
}

/* The type column: the dominant type, "+" when others were seen too. */
static void type_cell(const sl_profile_field *f, char out[32]) {
    const char *t = dominant_type(f);
    int kinds = 0;
    for (int i = 1; i < SL_PROFILE_NUM_TYPES; i++) kinds += f->types[i] > 0;
    snprintf(out, 32, "%s%s", t ? t : "null", kinds > 1 ? "+" : "");
}

static void print_summary(const sl_profile *p, FILE *out) {
    size_t n = sl_profile_field_count(p);
    uint64_t records = sl_profile_records(p);
    int width = 5;
    for (size_t i = 0; i < n; i++) {
        int len = (int)sl_profile_field_at(p, i)->name_len;
        if (len > width) width = len > 40 ? 40 : len;
    }
    fprintf(out, "%llu records, %zu fields\n\n", (unsigned long long)records, n);
    fprintf(out, "%-*s  %-10s %8s %7s %10s  %s\n", width, "field", "type", "present", "null", "distinct", "values");
    sl_buf cell;
    sl_buf_init(&cell);
    for (size_t i = 0; i < n; i++) {
        const sl_profile_field *f = sl_profile_field_at(p, i);
        char type[32];
        type_cell(f, type);
        cell.len = 0;
        summary_cell(f, &cell);
        fprintf(out, "%-*.*s  %-10s %7.1f%% %6.1f%% %10llu  %s\n", width, width, f->name, type,
                percent(f->count, records), percent(f->nulls, f->count),
                (unsigned long long)distinct(f), cell.len ? cell.data : "");
    }
    sl_buf_free(&cell);
}

/* ---- contract suggestion ---- */

/* A YAML mapping key: plain when it is a simple name, else quoted. */
static void yaml_key(sl_buf *out, const char *s) {
    bool plain = *s && strchr("-?:,[]{}#&*!|>'\"%@`", *s) == NULL;
    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '_' || *p == '.' || *p == '-';
    if (plain) sl_buf_puts(out, s);
    else yaml_string(out, s);
}

/* The enum values when the rule applies: every string value tracked exactly. */
static bool enum_values(const sl_profile_field *f, sl_buf *out) {
    uint64_t nn = non_null(f);
    if (!f->topk || f->types[SL_STRING] != nn || nn == 0) return false;
    uint64_t distinct = sl_profile_field_distinct(f);
    if (distinct > ENUM_MAX_VALUES || (double)distinct >= ENUM_MAX_RATIO * (double)nn) return false;
    size_t n;
    const sl_topk_entry **top = sl_topk_sorted(f->topk, &n);
    uint64_t covered = 0;
    bool exact = n <= ENUM_MAX_VALUES;
    for (size_t i = 0; i < n && exact; i++) {
        exact = top[i]->error == 0 && !top[i]->truncated && sl_utf8_valid(top[i]->value, top[i]->len);
        covered += top[i]->count;
    }
    if (exact && covered == nn) {
        /* sorted by value, so the contract reads well and diffs cleanly */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0; j--) {
                const sl_topk_entry *x = top[j - 1], *y = top[j];
                size_t m = x->len < y->len ? x->len : y->len;
                int cmp = memcmp(x->value, y->value, m);
                if (cmp < 0 || (cmp == 0 && x->len <= y->len)) break;
                top[j - 1] = y, top[j] = x;
            }
        sl_buf_puts(out, "[");
        for (size_t i = 0; i < n; i++) {
            if (i) sl_buf_puts(out, ", ");
            sl_json_encode_string(out, top[i]->value, top[i]->len);
        }
        sl_buf_puts(out, "]");
    }
    free(top);
    return exact && covered == nn;
}

/* The format every tracked value has (formats.h), or -1: a field with at
 * least FORMAT_MIN_VALUES tracked values, all whole UTF-8 strings. */
static int common_format(const sl_profile_field *f) {
    static const sl_strfmt candidates[] = {SL_STRFMT_EMAIL, SL_STRFMT_UUID, SL_STRFMT_DATE, SL_STRFMT_IP,
                                           SL_STRFMT_URI};
    if (!f->topk || f->topk->size < FORMAT_MIN_VALUES || f->types[SL_STRING] != non_null(f)) return -1;
    for (size_t c = 0; c < sizeof candidates / sizeof candidates[0]; c++) {
        bool all = true;
        for (uint32_t i = 0; i < f->topk->size && all; i++) {
            const sl_topk_entry *e = &f->topk->entries[i];
            all = !e->truncated && sl_strfmt_check(candidates[c], e->value, e->len);
        }
        if (all) return (int)candidates[c];
    }
    return -1;
}

static void suggest_field(const sl_profile *p, const sl_profile_field *f, sl_buf *out) {
    const char *type = dominant_type(f);
    char a[32], b[32];
    sl_buf_puts(out, "  ");
    yaml_key(out, f->name);
    sl_buf_puts(out, ":\n");
    if (type) sl_buf_printf(out, "    type: %s\n", type);
    sl_buf_printf(out, "    required: %s\n", sl_profile_field_missing(p, f) == 0 ? "true" : "false");
    sl_buf_printf(out, "    nullable: %s\n", f->nulls ? "true" : "false");
    if (!type) return;
    sl_buf values;
    sl_buf_init(&values);
    bool is_enum = strcmp(type, "string") == 0 && enum_values(f, &values);
    if (is_enum) sl_buf_printf(out, "    enum: %s\n", values.data);
    sl_buf_free(&values);
    if ((strcmp(type, "int") == 0 || strcmp(type, "float") == 0) && f->num_count) {
        double margin = RANGE_MARGIN * (f->num_max - f->num_min);
        if (margin == 0) margin = RANGE_MARGIN * fabs(f->num_max);
        /* rounded outwards to the margin's order of magnitude: 0..999 gives 0..1100 */
        double step = margin > 0 ? pow(10, floor(log10(margin))) : 1;
        if (strcmp(type, "int") == 0 && step < 1) step = 1;
        double lo = floor((f->num_min - margin) / step) * step, hi = ceil((f->num_max + margin) / step) * step;
        if (f->num_min >= 0 && lo < 0) lo = 0;
        sl_format_shortest(a, lo);
        sl_format_shortest(b, hi);
        sl_buf_printf(out, "    min: %s\n    max: %s\n", a, b);
    }
    int format = strcmp(type, "string") == 0 && !is_enum ? common_format(f) : -1;
    if (format >= 0) sl_buf_printf(out, "    format: %s\n", sl_strfmt_name((sl_strfmt)format));
    bool code_like = f->chars[SL_CHAR_SPACE] == 0 && f->len_max <= 2 * f->len_min;
    if (strcmp(type, "string") == 0 && !is_enum && format < 0 && f->len_count && code_like) {
        bool fixed = f->len_min == f->len_max;
        sl_buf_printf(out, "    min_length: %llu\n    max_length: %llu\n",
                      (unsigned long long)(fixed ? f->len_min : floor((double)f->len_min * (1 - RANGE_MARGIN))),
                      (unsigned long long)(fixed ? f->len_max : ceil((double)f->len_max * (1 + RANGE_MARGIN))));
    }
    /* keys are ints or code-like strings; unique floats are continuous data,
     * unique free text an accident */
    bool key_like = strcmp(type, "int") == 0 || (strcmp(type, "string") == 0 && code_like);
    if (key_like && !is_enum && unique_like(f))
        sl_buf_puts(out, "    unique: true\n");
}

static int write_contract(const sl_profile *p, const profile_args *a) {
    sl_buf out;
    sl_buf_init(&out);
    sl_buf_puts(&out, "# A starting contract suggested by `sluice profile` from ");
    for (int i = 0; i < a->n_files; i++) sl_buf_printf(&out, "%s%s", i ? ", " : "", a->files[i]);
    sl_buf_printf(&out, " (%llu records).\n# Review it before use: it describes the data seen, "
                        "not the data intended.\nfields:\n",
                  (unsigned long long)sl_profile_records(p));
    for (size_t i = 0; i < sl_profile_field_count(p); i++) {
        const sl_profile_field *f = sl_profile_field_at(p, i);
        if (strcmp(f->name, SL_PROFILE_OTHER_FIELDS) == 0) continue;
        suggest_field(p, f, &out);
    }
    FILE *f = fopen(a->contract, "wb");
    bool ok = f && fwrite(out.data, 1, out.len, f) == out.len;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) fprintf(stderr, "sluice: cannot write %s: %s\n", a->contract, strerror(errno));
    sl_buf_free(&out);
    return ok ? 0 : -1;
}

/* ---- drift ---- */

static void print_number(FILE *out, double v) {
    if (isfinite(v)) fprintf(out, " %8.4f", v);
    else fprintf(out, " %8s", "-");
}

/* Prints the drift table; returns the overall status, or -1 when the
 * profiles cannot be compared. */
static int print_drift(const sl_profile *baseline, const sl_profile *current, FILE *out) {
    sl_drift_report r;
    sl_error err;
    if (sl_drift_compare(baseline, current, NULL, &r, &err) < 0) {
        fprintf(stderr, "sluice: cannot compare with the baseline: %s\n", err.msg);
        return -1;
    }
    int status = (int)r.status;
    int width = 5;
    for (size_t i = 0; i < r.n; i++) {
        int len = (int)strlen(r.fields[i].field);
        if (len > width) width = len > 40 ? 40 : len;
    }
    fprintf(out, "\ndrift against the baseline: %s\n\n", sl_drift_status_name(r.status));
    fprintf(out, "%-*s  %-11s %8s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n", width, "field", "kind", "psi", "length",
            "chars", "distinct", "rate", "gaps", "null was", "null now", "types", "status");
    for (size_t i = 0; i < r.n; i++) {
        const sl_drift_field *f = &r.fields[i];
        fprintf(out, "%-*.*s  %-11s", width, width, f->field, sl_drift_kind_name(f->kind));
        print_number(out, f->psi);
        print_number(out, f->length_psi);
        print_number(out, f->chars_psi);
        print_number(out, f->distinct_ratio_current);
        print_number(out, f->rate_ratio);
        print_number(out, f->gap_share_current);
        print_number(out, f->null_rate_baseline);
        print_number(out, f->null_rate_current);
        print_number(out, f->type_tvd);
        fprintf(out, "  %s%s%s%s\n", sl_drift_status_name(f->status), f->reason[0] ? " (" : "", f->reason,
                f->reason[0] ? ")" : "");
    }
    sl_drift_report_free(&r);
    return status;
}

/* ---- the command ---- */

int sl_cmd_profile(int argc, char **argv) {
    profile_args a = {0};
    int status = parse_args(argc, argv, &a);
    if (status != 0) {
        free(a.files);
        return status < 0 ? SL_EXIT_OK : status;
    }
    const char *env = getenv("SLUICE_LOG");
    sl_log_level level = SL_LOG_WARN;
    if (env && *env && sl_log_parse_level(env, &level) < 0) level = SL_LOG_WARN;
    sl_log_set_level(level);

    sl_profile *baseline = NULL;
    if (a.baseline && !(baseline = load_profile(a.baseline))) {
        free(a.files);
        return SL_EXIT_USAGE;
    }
    char tmp_out[] = "/tmp/sluice-profile-XXXXXX.json";
    const char *out_path = a.output;
    if (!out_path) {
        int fd = mkstemps(tmp_out, 5);
        if (fd < 0) {
            fprintf(stderr, "sluice: cannot create a temporary file: %s\n", strerror(errno));
            sl_profile_free(baseline);
            free(a.files);
            return SL_EXIT_FAILED;
        }
        close(fd);
        out_path = tmp_out;
    }

    status = run_profile(&a, out_path);
    sl_profile *p = status == SL_EXIT_OK ? load_profile(out_path) : NULL;
    if (status == SL_EXIT_OK && !p) status = SL_EXIT_FAILED;
    if (p) {
        print_summary(p, stdout);
        if (a.output) printf("\nprofile written to %s\n", a.output);
        if (a.contract) {
            if (write_contract(p, &a) < 0) status = SL_EXIT_FAILED;
            else printf("contract suggestion written to %s\n", a.contract);
        }
        int drift = baseline ? print_drift(baseline, p, stdout) : SL_DRIFT_OK;
        sl_drift_status fail_level = SL_DRIFT_ALERT;
        if (drift < 0) status = SL_EXIT_FAILED;
        else if (a.fail_on && sl_drift_status_parse(a.fail_on, &fail_level) && drift >= (int)fail_level &&
                 status == SL_EXIT_OK)
            status = EXIT_DRIFT;
    }
    if (!a.output) unlink(tmp_out);
    sl_profile_free(p);
    sl_profile_free(baseline);
    free(a.files);
    return status;
}
