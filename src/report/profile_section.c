/* profile_section.c — the profile and drift sections: a card per field
 * (type mix, statistics, histogram, quantiles, top values) and the drift
 * table against the baseline, drawn from the profile transform's JSON.
 */
#include "sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sketch/profile.h"
#include "html.h"
#include "describe.h"

static const struct {
    const char *name, *color;
} type_colors[] = {
    {"int", BLUE}, {"float", SKY}, {"string", GREEN}, {"bool", ORANGE}, {"timestamp", PURPLE},
    {"map", YELLOW}, {"array", VERMILLION}, {"bytes", "#4d4d4d"}, {"null", "#c3c9d2"},
};

static const char *type_color(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof type_colors / sizeof type_colors[0]; i++)
        if (strlen(type_colors[i].name) == len && memcmp(type_colors[i].name, name, len) == 0)
            return type_colors[i].color;
    return GREY;
}

/* The type-mix bar and its legend. */
static void type_mix(sl_buf *out, const sl_value *types, uint64_t count)
{
    if (!types || types->type != SL_MAP || count == 0)
        return;
    sl_buf_puts(out, "<div class=\"mix\">");
    for (uint32_t t = 0; t < types->len; t++) {
        const sl_field *f = &types->as.fields[t];
        double n;
        if (!sl_describe_num(&f->value, &n) || n <= 0)
            continue;
        sl_buf_printf(out, "<span style=\"width:%.2f%%;background:%s\" title=\"", 100.0 * n / (double)count,
                      type_color(f->key, f->key_len));
        sl_html_esc(out, f->key, f->key_len);
        sl_buf_puts(out, "\"></span>");
    }
    sl_buf_puts(out, "</div><div class=\"legend\">");
    for (uint32_t t = 0; t < types->len; t++) {
        const sl_field *f = &types->as.fields[t];
        double n;
        if (!sl_describe_num(&f->value, &n) || n <= 0)
            continue;
        sl_buf_printf(out, "<span><span class=\"dot\" style=\"background:%s\"></span>",
                      type_color(f->key, f->key_len));
        sl_html_esc(out, f->key, f->key_len);
        sl_buf_puts(out, " ");
        sl_html_pct(out, n / (double)count);
        sl_buf_puts(out, "</span>");
    }
    sl_buf_puts(out, "</div>");
}

static void stat_cell(sl_buf *out, const char *label, const sl_value *v)
{
    double d;
    sl_buf_printf(out, "<div><b>%s</b>", label);
    if (sl_describe_num(v, &d))
        sl_html_num(out, d);
    else
        sl_buf_puts(out, "–");
    sl_buf_puts(out, "</div>");
}

static void histogram(sl_buf *out, const sl_value *h)
{
    const sl_value *edges = sl_describe_get(h, "edges"), *counts = sl_describe_get(h, "counts");
    if (!edges || !counts || edges->type != SL_ARRAY || counts->type != SL_ARRAY || counts->len == 0 ||
        edges->len != counts->len + 1 || counts->len > 1000)
        return;
    double top = 0, c, lo, hi;
    for (uint32_t i = 0; i < counts->len; i++)
        if (sl_describe_num(&counts->as.items[i], &c) && c > top)
            top = c;
    if (top <= 0)
        return;
    const double w = 300, h_px = 64, gap = 2;
    double bw = w / counts->len;
    sl_buf_printf(out, "<svg class=\"hist\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"histogram\">",
                  w, h_px + 16);
    for (uint32_t i = 0; i < counts->len; i++) {
        if (!sl_describe_num(&counts->as.items[i], &c))
            continue;
        double bh = c > 0 ? fmax(1.5, h_px * c / top) : 0;
        sl_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" rx=\"1.5\">"
                      "<title>", i * bw + gap / 2, h_px - bh, bw - gap, bh, BLUE);
        sl_html_count(out, (uint64_t)c);
        sl_buf_puts(out, "</title></rect>");
    }
    if (sl_describe_num(&edges->as.items[0], &lo) && sl_describe_num(&edges->as.items[edges->len - 1], &hi)) {
        sl_buf_printf(out, "<text x=\"0\" y=\"%.0f\" font-size=\"10.5\" fill=\"#5c6777\">", h_px + 13);
        sl_html_num(out, lo);
        sl_buf_printf(out, "</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"10.5\" fill=\"#5c6777\" "
                      "text-anchor=\"end\">", w, h_px + 13);
        sl_html_num(out, hi);
        sl_buf_puts(out, "</text>");
    }
    sl_buf_puts(out, "</svg>");
}

/* The top values the profile lists (only those whose counts are known), as
 * shares of the field's strings, a range when a count is an upper bound; a
 * near-unique field lists none and gets a line saying so. */
static void top_values(sl_buf *out, const sl_value *f)
{
    const sl_value *top = sl_describe_get(f, "top");
    uint64_t count = sl_describe_count(sl_describe_get(f, "types"), "string");
    uint64_t distinct = sl_describe_count(f, "distinct");
    if (!top || top->type != SL_ARRAY || count == 0)
        return;
    if (top->len == 0) {
        sl_buf_printf(out, "<p class=\"note\">%s (≈%llu distinct in %llu)</p>",
                      distinct * 10 >= count * 9 ? "all values distinct" : "no frequent value",
                      (unsigned long long)distinct, (unsigned long long)count);
        return;
    }
    sl_buf_puts(out, "<div class=\"top\">");
    for (uint32_t i = 0; i < top->len && i < 6; i++) {
        const sl_value *t = &top->as.items[i];
        uint64_t n = sl_describe_count(t, "count"), error = sl_describe_count(t, "error");
        const char *s;
        size_t len;
        sl_buf_puts(out, "<code>");
        if (sl_describe_str(sl_describe_get(t, "value"), &s, &len))
            sl_html_masked(out, s, len, 40, false);
        else
            sl_buf_puts(out, "<i>(bytes)</i>");
        sl_buf_puts(out, "</code>");
        sl_html_bar(out, (double)n / (double)count, GREEN);
        sl_buf_puts(out, "<span class=\"n\">");
        if (error && error <= n) {
            sl_html_pct(out, (double)(n - error) / (double)count);
            sl_buf_puts(out, "–");
        }
        sl_html_pct(out, (double)n / (double)count);
        sl_buf_puts(out, "</span>");
    }
    sl_buf_puts(out, "</div>");
}

static void quantiles(sl_buf *out, const sl_value *q)
{
    if (!q || q->type != SL_MAP || q->len == 0)
        return;
    sl_buf_puts(out, "<table class=\"mini quantiles\"><tr>");
    for (uint32_t i = 0; i < q->len; i++) {
        const sl_field *f = &q->as.fields[i];
        char *end;
        char key[16];
        size_t kl = f->key_len < sizeof key - 1 ? f->key_len : sizeof key - 1;
        memcpy(key, f->key, kl);
        key[kl] = '\0';
        double at = strtod(key, &end);
        sl_buf_printf(out, "<th class=\"n\">p%g</th>", *end ? 0.0 : at * 100);
    }
    sl_buf_puts(out, "</tr><tr>");
    for (uint32_t i = 0; i < q->len; i++) {
        sl_buf_puts(out, "<td class=\"n\">");
        double d;
        if (sl_describe_num(&q->as.fields[i].value, &d))
            sl_html_num(out, d);
        else
            sl_buf_puts(out, "–");
        sl_buf_puts(out, "</td>");
    }
    sl_buf_puts(out, "</tr></table>");
}

/* The main type of a field: the most frequent non-null type. */
static void main_type(sl_buf *out, const sl_value *types)
{
    const sl_field *best = NULL;
    double best_n = 0, n;
    for (uint32_t t = 0; types && types->type == SL_MAP && t < types->len; t++) {
        const sl_field *f = &types->as.fields[t];
        if (f->key_len == 4 && memcmp(f->key, "null", 4) == 0)
            continue;
        if (sl_describe_num(&f->value, &n) && n > best_n) {
            best = f;
            best_n = n;
        }
    }
    if (best)
        sl_html_esc(out, best->key, best->key_len);
    else
        sl_buf_puts(out, "null");
}

static void field_card(sl_buf *out, const sl_field *field, uint64_t records)
{
    const sl_value *f = &field->value;
    uint64_t count = sl_describe_count(f, "count"), nulls = sl_describe_count(f, "nulls"), missing = sl_describe_count(f, "missing");
    sl_buf_puts(out, "<div class=\"field\"><div class=\"fhead\"><code>");
    sl_html_esc_cut(out, field->key, field->key_len, 48);
    sl_buf_puts(out, "</code><span class=\"muted\">");
    main_type(out, sl_describe_get(f, "types"));
    sl_buf_puts(out, "</span></div>");
    type_mix(out, sl_describe_get(f, "types"), count);
    sl_buf_puts(out, "<div class=\"stats\"><div><b>Null rate</b>");
    sl_html_pct(out, records ? (double)(nulls + missing) / (double)records : NAN);
    sl_buf_puts(out, "</div>");
    stat_cell(out, "Distinct ≈", sl_describe_get(f, "distinct"));
    stat_cell(out, "Present", sl_describe_get(f, "count"));
    if (sl_describe_get(f, "min")) {
        stat_cell(out, "Min", sl_describe_get(f, "min"));
        stat_cell(out, "Mean", sl_describe_get(f, "mean"));
        stat_cell(out, "Max", sl_describe_get(f, "max"));
    } else if (sl_describe_get(f, "length")) {
        const sl_value *l = sl_describe_get(f, "length");
        stat_cell(out, "Shortest", sl_describe_get(l, "min"));
        stat_cell(out, "Mean length", sl_describe_get(l, "mean"));
        stat_cell(out, "Longest", sl_describe_get(l, "max"));
    }
    sl_buf_puts(out, "</div>");
    if (sl_describe_get(f, "histogram")) {
        histogram(out, sl_describe_get(f, "histogram"));
        quantiles(out, sl_describe_get(f, "quantiles"));
    } else if (sl_describe_get(f, "top")) {
        top_values(out, f);
    } else if (sl_describe_get(f, "bools")) {
        const sl_value *b = sl_describe_get(f, "bools");
        uint64_t yes = sl_describe_count(b, "true"), no = sl_describe_count(b, "false");
        if (yes + no) {
            sl_buf_puts(out, "<div class=\"top\"><code>true</code>");
            sl_html_bar(out, (double)yes / (double)(yes + no), ORANGE);
            sl_buf_puts(out, "<span class=\"n\">");
            sl_html_pct(out, (double)yes / (double)(yes + no));
            sl_buf_puts(out, "</span><code>false</code>");
            sl_html_bar(out, (double)no / (double)(yes + no), ORANGE);
            sl_buf_puts(out, "<span class=\"n\">");
            sl_html_pct(out, (double)no / (double)(yes + no));
            sl_buf_puts(out, "</span></div>");
        }
    }
    sl_buf_puts(out, "</div>");
}

void sl_report_profile_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!sl_value_is_str(sl_describe_get(&comp->value, "type"), "profile"))
            continue;
        if (!any)
            sl_html_section_open(out, "profile", "Field profiles",
                         "Per-field summaries from streaming sketches: type mix, null rate, distinct "
                         "values (HyperLogLog), quantiles and histograms (KLL) and top values "
                         "(space-saving). Estimates, within the sketches' error bounds.");
        any = true;
        const sl_value *prof = sl_describe_get(&comp->value, "profile");
        const sl_value *fields = sl_describe_get(prof, "fields");
        uint64_t records = sl_describe_count(prof, "records");
        sl_buf_puts(out, "<h3><code>");
        sl_html_esc(out, comp->key, comp->key_len);
        sl_buf_puts(out, "</code> <span class=\"muted\" style=\"font-weight:400\">");
        sl_html_count(out, records);
        sl_buf_puts(out, " records · ");
        sl_html_count(out, fields && fields->type == SL_MAP ? fields->len : 0);
        sl_buf_puts(out, " fields</span></h3>");
        if (!fields || fields->type != SL_MAP || fields->len == 0) {
            sl_buf_puts(out, "<p class=\"note\">No records were profiled.</p>");
            continue;
        }
        sl_buf_puts(out, "<div class=\"fields\">");
        for (uint32_t k = 0; k < fields->len && k < SL_REPORT_MAX_FIELDS; k++)
            field_card(out, &fields->as.fields[k], records);
        sl_buf_puts(out, "</div>");
        if (fields->len > SL_REPORT_MAX_FIELDS) {
            sl_buf_printf(out, "<p class=\"note\" style=\"margin-top:10px\">%u more fields are not shown; the "
                          "profile JSON has them all.</p>", fields->len - SL_REPORT_MAX_FIELDS);
        }
    }
    if (!any) {
        sl_html_section_open(out, "profile", "Field profiles", NULL);
        sl_buf_puts(out, "<p class=\"note\">No profile in this pipeline: add a <code>profile</code> transform "
                         "to see per-field statistics and drift here.</p>");
    }
    sl_buf_puts(out, "</section>");
}

/* ---- drift ---- */

void sl_report_drift_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!sl_value_is_str(sl_describe_get(&comp->value, "type"), "profile"))
            continue;
        const sl_value *drift = sl_describe_get(&comp->value, "drift");
        if (drift && drift->type == SL_MAP)   /* the {"status":..,"fields":[..]} form */
            drift = sl_describe_get(drift, "fields");
        if (!drift || drift->type != SL_ARRAY)
            continue;
        if (!any)
            sl_html_section_open(out, "drift", "Drift against the baseline",
                         "Population Stability Index (PSI: under 0.1 no significant change, 0.1–0.2 "
                         "moderate, 0.2 and over significant), Jensen–Shannon distance and the change in "
                         "null rate, per field.");
        any = true;
        int counts[3] = {0, 0, 0};
        for (uint32_t k = 0; k < drift->len; k++) {
            const sl_value *st = sl_describe_get(&drift->as.items[k], "status");
            counts[sl_value_is_str(st, "alert") ? 2 : sl_value_is_str(st, "warn") ? 1 : 0]++;
        }
        sl_buf_puts(out, "<h3><code>");
        sl_html_esc(out, comp->key, comp->key_len);
        sl_buf_printf(out, "</code> <span class=\"muted\" style=\"font-weight:400\">%d ok · %d warn · %d alert"
                      "</span></h3>", counts[0], counts[1], counts[2]);
        if (drift->len == 0) {
            sl_buf_puts(out, "<p class=\"note\">No fields to compare.</p>");
            continue;
        }
        sl_buf_puts(out, "<div class=\"scroll\"><table class=\"drift\"><thead><tr><th>Status</th><th>Field</th>"
                         "<th>Kind</th><th class=\"n\">PSI</th><th style=\"width:22%\"></th><th class=\"n\">JS</th>"
                         "<th class=\"n\">Null rate (baseline → now)</th></tr></thead><tbody>");
        for (uint32_t k = 0; k < drift->len && k < SL_REPORT_MAX_ROWS; k++) {
            const sl_value *d = &drift->as.items[k];
            double psi = sl_describe_num_or(d, "psi", NAN);
            const sl_value *st = sl_describe_get(d, "status");
            sl_buf_puts(out, "<tr><td>");
            sl_html_status_badge(out, st);
            sl_buf_puts(out, "</td><td><code>");
            sl_html_member(out, d, "field", "");
            sl_buf_puts(out, "</code></td><td>");
            sl_html_member(out, d, "kind", "");
            sl_buf_puts(out, "</td><td class=\"n\">");
            if (isfinite(psi))
                sl_buf_printf(out, "%.3f", psi);
            else
                sl_buf_puts(out, "–");
            sl_buf_puts(out, "</td><td>");
            sl_html_bar(out, isfinite(psi) ? psi / 0.4 : 0,
                sl_value_is_str(st, "alert") ? VERMILLION : sl_value_is_str(st, "warn") ? ORANGE : GREEN);
            double js = sl_describe_num_or(d, "js", NAN);
            sl_buf_puts(out, "</td><td class=\"n\">");
            if (isfinite(js))
                sl_buf_printf(out, "%.3f", js);
            else
                sl_buf_puts(out, "–");
            sl_buf_puts(out, "</td><td class=\"n\">");
            sl_html_pct(out, sl_describe_num_or(d, "null_rate_baseline", NAN));
            sl_buf_puts(out, " → ");
            sl_html_pct(out, sl_describe_num_or(d, "null_rate_current", NAN));
            sl_buf_puts(out, "</td></tr>");
        }
        sl_buf_puts(out, "</tbody></table></div>");
    }
    if (any)
        sl_buf_puts(out, "</section>");
}
