/* report.c — the HTML report (see report.h).
 *
 * The page is written top to bottom into one buffer: a style sheet, then
 * one <section> per topic. Charts are drawn here as inline SVG (the graph,
 * histograms, throughput lines) or as CSS bars (bar lists, type mixes), so
 * the file needs nothing but a browser. Component state arrives as the
 * describe JSON and is read with the JSON decoder into an arena; the shapes
 * read are those documented by the components (profile.h, drift.h, the
 * validate and quality transforms), and members missing from them are
 * simply not shown.
 *
 * Colours come from the Okabe–Ito palette, which stays distinguishable with
 * the common forms of colour blindness; status is never told by colour
 * alone (badges carry words).
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/arena.h"
#include "../core/metrics.h"
#include "../core/util.h"
#include "../core/value.h"
#include "../runtime/component.h"
#include "../text/pii.h"

#define BLUE "#0072B2"
#define SKY "#56B4E9"
#define GREEN "#009E73"
#define ORANGE "#E69F00"
#define VERMILLION "#D55E00"
#define PURPLE "#CC79A7"
#define YELLOW "#F0E442"
#define GREY "#8a94a3"

#define CHART_POINTS 600     /* throughput points drawn at most */

static const char css[] =
    ":root{--fg:#1d2330;--muted:#5c6777;--line:#e2e6ec;--bg:#f4f6f9;--card:#fff;--track:#edf0f4}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1200px;margin:0 auto;padding:28px 24px 48px}"
    "h1{font-size:26px;line-height:1.25;margin:0;font-weight:650;letter-spacing:-.01em}"
    "h2{font-size:17px;margin:0 0 4px;font-weight:650}"
    "h3{font-size:14px;margin:18px 0 8px;font-weight:650}"
    ".sub{color:var(--muted);margin:6px 0 0}"
    ".lead{color:var(--muted);margin:0 0 14px;font-size:13px}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;"
    "margin-top:18px}"
    ".title{display:flex;flex-wrap:wrap;align-items:center;gap:12px}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-top:18px}"
    ".kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}"
    ".kpi .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".kpi .l{color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.05em}"
    ".badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;"
    "white-space:nowrap}"
    ".ok{background:#dcf2ea;color:#00634a}.warn{background:#fcefd2;color:#7d5200}"
    ".bad{background:#fbe3d6;color:#9c3700}.run{background:#dcecf8;color:#00578a}"
    ".na{background:var(--track);color:var(--muted)}"
    ".error{background:#fdf0ea;border:1px solid #f1c2a9;color:#7a2d00;padding:10px 14px;border-radius:8px;"
    "margin-top:14px;overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}"
    "th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:middle}"
    "th{font-size:11.5px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}"
    "tr:last-child td{border-bottom:0}"
    ".n{text-align:right;white-space:nowrap}"
    ".scroll{overflow-x:auto}"
    ".note{color:var(--muted);margin:0}"
    ".muted{color:var(--muted)}"
    "code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;"
    "overflow-wrap:anywhere}"
    ".graph{overflow-x:auto;margin:6px 0 10px}"
    ".graph svg{display:block;max-width:100%;height:auto}"
    ".bars{display:grid;grid-template-columns:minmax(120px,max-content) minmax(120px,1fr) max-content;"
    "gap:6px 14px;align-items:center}"
    ".bar{height:12px;background:var(--track);border-radius:3px;overflow:hidden}"
    ".bar>span{display:block;height:100%;border-radius:3px}"
    ".examples{margin:14px 0 0;padding:0;list-style:none}"
    ".examples li{border-left:3px solid var(--line);padding:4px 0 4px 12px;margin:6px 0;font-size:13px}"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:18px}"
    ".fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}"
    ".field{border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}"
    ".fhead{display:flex;justify-content:space-between;gap:8px;align-items:baseline}"
    ".fhead code{font-weight:650;font-size:13px}"
    ".mix{display:flex;height:10px;border-radius:3px;overflow:hidden;margin:8px 0 4px;background:var(--track)}"
    ".legend{font-size:12px;color:var(--muted);display:flex;flex-wrap:wrap;gap:2px 12px}"
    ".dot{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;vertical-align:-1px}"
    ".stats{display:grid;grid-template-columns:repeat(3,1fr);gap:4px 10px;margin:10px 0 6px;font-size:12.5px}"
    ".stats b{display:block;font-size:11px;color:var(--muted);font-weight:600;text-transform:uppercase;"
    "letter-spacing:.04em}"
    ".mini{font-size:12px}.mini th,.mini td{padding:3px 4px}"
    ".top{display:grid;grid-template-columns:minmax(0,1fr) 90px max-content;gap:3px 8px;align-items:center;"
    "font-size:12px;margin-top:6px}"
    ".top code{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:12px}"
    ".chart svg{display:block;width:100%;height:auto}"
    "footer{color:var(--muted);font-size:12px;margin-top:20px;text-align:center}"
    "@media (max-width:700px){main{padding:16px 12px}section{padding:16px}"
    ".grid2{grid-template-columns:1fr}.fields{grid-template-columns:1fr}}";

/* ---- text ---- */

/* Appends s[0..len) escaped for HTML text and attribute values. Control
 * characters (NUL included) become spaces. */
static void esc(sl_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': sl_buf_puts(out, "&amp;"); break;
        case '<': sl_buf_puts(out, "&lt;"); break;
        case '>': sl_buf_puts(out, "&gt;"); break;
        case '"': sl_buf_puts(out, "&quot;"); break;
        case '\'': sl_buf_puts(out, "&#39;"); break;
        default: sl_buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
    }
}

static void escs(sl_buf *out, const char *s)
{
    esc(out, s, strlen(s));
}

/* Length of at most max characters of s (cut at a UTF-8 boundary). */
static size_t utf8_cut(const char *s, size_t len, size_t max, bool *cut)
{
    size_t chars = 0, i = 0;
    while (i < len && chars < max) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    *cut = i < len;
    return i;
}

/* Escaped, cut to max characters with an ellipsis. */
static void esc_cut(sl_buf *out, const char *s, size_t len, size_t max)
{
    bool cut;
    esc(out, s, utf8_cut(s, len, max, &cut));
    if (cut)
        sl_buf_puts(out, "…");
}

/* 1234567 -> "1,234,567" */
static void put_count(sl_buf *out, uint64_t n)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            sl_buf_putc(out, ',');
        sl_buf_putc(out, digits[i]);
    }
}

/* A measured number, readably: 12,345 / 12.5 / 0.0123 / 1.2e-07. */
static void put_num(sl_buf *out, double d)
{
    if (!isfinite(d)) {
        sl_buf_puts(out, "–");
        return;
    }
    double a = fabs(d);
    if (a >= 1e15) {
        sl_buf_printf(out, "%.3g", d);
    } else if (a >= 1e4 || (d == floor(d))) {
        if (d < 0)
            sl_buf_putc(out, '-');
        put_count(out, (uint64_t)llround(a));
    } else if (a >= 1) {
        char t[32];
        snprintf(t, sizeof t, "%.2f", d);
        size_t n = strlen(t);
        while (t[n - 1] == '0')
            t[--n] = '\0';
        if (t[n - 1] == '.')
            t[--n] = '\0';
        sl_buf_puts(out, t);
    } else {
        sl_buf_printf(out, "%.3g", d);
    }
}

static void put_pct(sl_buf *out, double share)
{
    if (!isfinite(share))
        sl_buf_puts(out, "–");
    else if (share > 0 && share < 0.001)
        sl_buf_puts(out, "&lt;0.1%");
    else
        sl_buf_printf(out, "%.1f%%", share * 100);
}

/* "2026-11-24 03:02:26": UTC, to the second. */
static void format_time(char out[40], int64_t ns)
{
    sl_format_rfc3339(out, ns);
    out[strcspn(out, ".Z")] = '\0';
    char *tee = strchr(out, 'T');
    if (tee)
        *tee = ' ';
}

static void put_duration(sl_buf *out, double s)
{
    if (s < 60)
        sl_buf_printf(out, "%.2f s", s);
    else if (s < 3600)
        sl_buf_printf(out, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        sl_buf_printf(out, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* ---- reading the describe JSON ---- */

static const sl_value *jget(const sl_value *m, const char *key)
{
    if (!m || m->type != SL_MAP)
        return NULL;
    return sl_map_get(m, key, strlen(key));
}

static bool jnum(const sl_value *v, double *out)
{
    return v && sl_value_as_double(v, out);
}

static double jnum_or(const sl_value *m, const char *key, double dflt)
{
    double d;
    return jnum(jget(m, key), &d) ? d : dflt;
}

static uint64_t jcount(const sl_value *m, const char *key)
{
    double d = jnum_or(m, key, 0);
    return d > 0 ? (uint64_t)d : 0;
}

static bool jstr(const sl_value *v, const char **s, size_t *len)
{
    if (!v || v->type != SL_STRING)
        return false;
    *s = v->as.s;
    *len = v->len;
    return true;
}

/* Escaped string member, or dflt. */
static void put_jstr(sl_buf *out, const sl_value *m, const char *key, const char *dflt)
{
    const char *s;
    size_t len;
    if (jstr(jget(m, key), &s, &len))
        esc_cut(out, s, len, 120);
    else
        sl_buf_puts(out, dflt);
}

static bool jstr_is(const sl_value *v, const char *want)
{
    const char *s;
    size_t len;
    return jstr(v, &s, &len) && len == strlen(want) && memcmp(s, want, len) == 0;
}

/* ---- small pieces ---- */

static void bar(sl_buf *out, double share, const char *color)
{
    if (!(share >= 0))
        share = 0;
    if (share > 1)
        share = 1;
    sl_buf_printf(out, "<div class=\"bar\"><span style=\"width:%.1f%%;background:%s\"></span></div>",
                  share * 100, color);
}

/* Badge for a status word from data: pass/ok, warn, fail/alert; other words
 * are shown neutral. */
static void status_badge(sl_buf *out, const sl_value *status)
{
    const char *cls = "na";
    if (jstr_is(status, "pass") || jstr_is(status, "ok"))
        cls = "ok";
    else if (jstr_is(status, "warn"))
        cls = "warn";
    else if (jstr_is(status, "fail") || jstr_is(status, "alert"))
        cls = "bad";
    sl_buf_printf(out, "<span class=\"badge %s\">", cls);
    const char *s;
    size_t len;
    if (jstr(status, &s, &len))
        esc_cut(out, s, len, 20);
    else
        sl_buf_puts(out, "unknown");
    sl_buf_puts(out, "</span>");
}

static void section_open(sl_buf *out, const char *id, const char *title, const char *lead)
{
    sl_buf_printf(out, "<section id=\"%s\"><h2>%s</h2>", id, title);
    if (lead)
        sl_buf_printf(out, "<p class=\"lead\">%s</p>", lead);
}

static const char *kind_color(const sl_component *c)
{
    if (c->kind == SL_SOURCE)
        return BLUE;
    if (c->kind == SL_SINK)
        return ORANGE;
    const char *t = c->type->name;
    if (strcmp(t, "validate") == 0 || strcmp(t, "quality") == 0 || strcmp(t, "profile") == 0)
        return PURPLE;
    return GREEN;
}

static uint64_t component_dlq(sl_component_metrics *m)
{
    uint64_t n = 0;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < SL_MAX_REASONS; i++)
        n += m->dlq[i].count;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* ---- header ---- */

typedef struct totals {
    uint64_t records_in, records_out, bytes_in, dlq;
    double elapsed_s;
} totals;

static totals compute_totals(sl_pipeline *p, const sl_report_info *info)
{
    totals t = {0};
    sl_metrics *m = sl_pipeline_metrics(p);
    for (int i = 0; i < sl_pipeline_component_count(p); i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        if (c->kind == SL_SOURCE) {
            t.records_in += atomic_load(&c->metrics->received_events);
            t.bytes_in += atomic_load(&c->metrics->received_bytes);
        } else if (c->kind == SL_SINK) {
            t.records_out += atomic_load(&c->metrics->sent_events);
        }
    }
    t.dlq = atomic_load(&m->dlq_total);
    t.elapsed_s = info->elapsed_s >= 0 ? info->elapsed_s : (double)(sl_now_ns() - m->started_ns) / 1e9;
    return t;
}

static void kpi(sl_buf *out, const char *id, const char *label)
{
    sl_buf_printf(out, "<div class=\"kpi\" id=\"%s\"><div class=\"l\">%s</div><div class=\"v\">", id, label);
}

static void header(sl_buf *out, sl_pipeline *p, const sl_report_info *info, const totals *t)
{
    const char *status = info->status ? info->status : "running";
    const char *cls = strcmp(status, "succeeded") == 0 ? "ok" : strcmp(status, "failed") == 0 ? "bad" : "run";
    char started[40];
    format_time(started, sl_pipeline_metrics(p)->started_ns);
    sl_buf_puts(out, "<header><div class=\"title\"><h1>");
    escs(out, info->title ? info->title : "sluice report");
    sl_buf_printf(out, "</h1><span class=\"badge %s\" id=\"status\">", cls);
    escs(out, status);
    sl_buf_puts(out, "</span></div><p class=\"sub\">");
    if (info->pipeline) {
        sl_buf_puts(out, "Pipeline <code>");
        escs(out, info->pipeline);
        sl_buf_puts(out, "</code> · ");
    }
    sl_buf_printf(out, "started %s UTC · ran for ", started);
    put_duration(out, t->elapsed_s);
    sl_buf_puts(out, "</p>");
    if (info->error) {
        sl_buf_puts(out, "<div class=\"error\" id=\"run-error\"><strong>The run failed:</strong> ");
        esc_cut(out, info->error, strlen(info->error), 600);
        sl_buf_puts(out, "</div>");
    }
    sl_buf_puts(out, "<div class=\"kpis\">");
    kpi(out, "records-in", "Records in");
    put_count(out, t->records_in);
    sl_buf_puts(out, "</div></div>");
    kpi(out, "records-out", "Records out");
    put_count(out, t->records_out);
    sl_buf_puts(out, "</div></div>");
    kpi(out, "dlq-total", "Dead letters");
    put_count(out, t->dlq);
    sl_buf_puts(out, "</div></div>");
    char size[32];
    sl_format_size(size, t->bytes_in);
    kpi(out, "bytes-in", "Input");
    escs(out, size);
    sl_buf_puts(out, "</div></div>");
    kpi(out, "mbps", "Throughput");
    put_num(out, t->elapsed_s > 0 ? (double)t->bytes_in / 1e6 / t->elapsed_s : 0);
    sl_buf_puts(out, " MB/s</div></div>");
    kpi(out, "rps", "Records / s");
    put_num(out, t->elapsed_s > 0 ? floor((double)t->records_in / t->elapsed_s) : 0);
    sl_buf_puts(out, "</div></div></div></header>");
}

/* ---- the pipeline graph ---- */

#define BOX_W 158
#define BOX_H 64
#define COL_GAP 78
#define ROW_GAP 26
#define MARGIN 12

typedef struct node_pos {
    int depth, row;
    double order;      /* barycentre of the predecessors, for ordering a column */
    double x, y;
} node_pos;

/* The label of edge e: the records that went along it, when the metrics
 * tell: the receiver's count when it has no other input, else the sender's
 * count when it has one output. Route outputs also carry their name. */
static void edge_label(sl_buf *out, sl_pipeline *p, int from, int from_output, int to, int to_inputs,
                       double x, double y)
{
    const sl_component *f = sl_pipeline_component(p, from), *t = sl_pipeline_component(p, to);
    bool named = f->outputs && from_output >= 0 && from_output < f->n_outputs;
    if (!named && to_inputs != 1 && f->outputs)
        return;
    sl_buf_printf(out, "<text class=\"edge-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                  "fill=\"#3a4350\" stroke=\"#fff\" stroke-width=\"4\" paint-order=\"stroke\">",
                  x, named ? y - 14 : y);
    if (named) {
        sl_buf_printf(out, "<tspan font-style=\"italic\" fill=\"#5c6777\">");
        esc_cut(out, f->outputs[from_output], strlen(f->outputs[from_output]), 14);
        sl_buf_printf(out, "</tspan><tspan x=\"%.1f\" dy=\"14\">", x);
    }
    if (to_inputs == 1)
        put_count(out, atomic_load(&t->metrics->received_events));
    else if (!f->outputs)
        put_count(out, atomic_load(&f->metrics->sent_events));
    sl_buf_puts(out, named ? "</tspan></text>" : "</text>");
}

static void graph_section(sl_buf *out, sl_pipeline *p)
{
    int n = sl_pipeline_component_count(p);
    size_t ne = sl_pipeline_edge_count(p);
    section_open(out, "graph", "Pipeline",
                 "Components in the order data flows, left to right. Each arrow carries the number "
                 "of records that went along it.");
    if (n == 0) {
        sl_buf_puts(out, "<p class=\"note\">The pipeline has no components.</p></section>");
        return;
    }
    node_pos *pos = calloc((size_t)n, sizeof *pos);
    int *in_count = calloc((size_t)n, sizeof *in_count);
    if (!pos || !in_count)
        abort();
    for (size_t e = 0; e < ne; e++) {
        int from, out_i, to;
        sl_pipeline_edge(p, e, &from, &out_i, &to);
        in_count[to]++;
    }
    /* Longest path from a source: relax every edge until nothing changes
     * (at most n rounds in a DAG). */
    for (int round = 0; round < n; round++) {
        bool changed = false;
        for (size_t e = 0; e < ne; e++) {
            int from, out_i, to;
            sl_pipeline_edge(p, e, &from, &out_i, &to);
            if (pos[to].depth < pos[from].depth + 1) {
                pos[to].depth = pos[from].depth + 1;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    int max_depth = 0;
    for (int i = 0; i < n; i++)
        if (pos[i].depth > max_depth)
            max_depth = pos[i].depth;
    for (int i = 0; i < n; i++)   /* sinks line up in the last column */
        if (sl_pipeline_component(p, i)->kind == SL_SINK && max_depth > 0)
            pos[i].depth = max_depth;
    /* Rows: column by column, ordered by the mean row of the predecessors. */
    int *col_rows = calloc((size_t)max_depth + 1, sizeof *col_rows);
    if (!col_rows)
        abort();
    int max_rows = 0;
    for (int d = 0; d <= max_depth; d++) {
        for (int i = 0; i < n; i++) {
            if (pos[i].depth != d)
                continue;
            double sum = 0;
            int k = 0;
            for (size_t e = 0; e < ne; e++) {
                int from, out_i, to;
                sl_pipeline_edge(p, e, &from, &out_i, &to);
                if (to == i && pos[from].depth < d) {
                    sum += pos[from].row + out_i * 0.01;
                    k++;
                }
            }
            pos[i].order = k ? sum / k : i;
        }
        for (int i = 0; i < n; i++) {
            if (pos[i].depth != d)
                continue;
            int row = 0;
            for (int j = 0; j < n; j++)
                if (pos[j].depth == d && (pos[j].order < pos[i].order || (pos[j].order == pos[i].order && j < i)))
                    row++;
            pos[i].row = row;
            col_rows[d]++;
        }
        if (col_rows[d] > max_rows)
            max_rows = col_rows[d];
    }
    double height = MARGIN * 2 + max_rows * BOX_H + (max_rows - 1) * ROW_GAP;
    double width = MARGIN * 2 + (max_depth + 1) * BOX_W + max_depth * COL_GAP;
    for (int i = 0; i < n; i++) {
        double col_h = col_rows[pos[i].depth] * BOX_H + (col_rows[pos[i].depth] - 1) * ROW_GAP;
        pos[i].x = MARGIN + pos[i].depth * (BOX_W + COL_GAP);
        pos[i].y = (height - col_h) / 2 + pos[i].row * (BOX_H + ROW_GAP);
    }

    sl_buf_printf(out, "<div class=\"graph\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                  "width=\"%.0f\" style=\"min-width:%.0fpx\" role=\"img\" aria-label=\"pipeline graph\" "
                  "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif\">",
                  width, height, width, width * 0.75);
    sl_buf_puts(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                     "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#8a94a3\"/></marker></defs>");
    /* Edges first, so that boxes are drawn over them. */
    for (size_t e = 0; e < ne; e++) {
        int from, out_i, to;
        sl_pipeline_edge(p, e, &from, &out_i, &to);
        const sl_component *f = sl_pipeline_component(p, from);
        double fan = f->n_outputs > 1 ? (out_i - (f->n_outputs - 1) / 2.0) * 10 : 0;
        double x1 = pos[from].x + BOX_W, y1 = pos[from].y + BOX_H / 2.0 + fan;
        double x2 = pos[to].x - 2, y2 = pos[to].y + BOX_H / 2.0;
        double cx = (x2 - x1) / 2;
        sl_buf_printf(out, "<path class=\"edge\" d=\"M%.1f,%.1fC%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" "
                      "stroke=\"#a3acb9\" stroke-width=\"1.6\" marker-end=\"url(#arrow)\"/>",
                      x1, y1, x1 + cx, y1, x2 - cx, y2, x2, y2);
        edge_label(out, p, from, out_i, to, in_count[to], (x1 + x2) / 2, (y1 + y2) / 2 - 6);
    }
    for (int i = 0; i < n; i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        const char *color = kind_color(c);
        double x = pos[i].x, y = pos[i].y;
        uint64_t dlq = component_dlq(c->metrics);
        sl_buf_printf(out, "<g class=\"node\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" rx=\"7\" "
                      "fill=\"#fff\" stroke=\"%s\" stroke-width=\"1.4\"/>"
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"%d\" rx=\"2\" fill=\"%s\"/>",
                      x, y, BOX_W, BOX_H, color, x + 1.5, y + 6, BOX_H - 12, color);
        sl_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"650\" fill=\"#1d2330\">",
                      x + 14, y + 21);
        esc_cut(out, c->name, strlen(c->name), 16);
        sl_buf_printf(out, "</text><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#5c6777\">%s · ",
                      x + 14, y + 38, sl_kind_name(c->kind));
        esc_cut(out, c->type->name, strlen(c->type->name), 12);
        sl_buf_printf(out, "</text><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#3a4350\">", x + 14, y + 55);
        put_count(out, atomic_load(&c->metrics->received_events));
        sl_buf_puts(out, " → ");
        put_count(out, atomic_load(&c->metrics->sent_events));
        if (dlq) {
            sl_buf_printf(out, "<tspan fill=\"%s\"> · ", VERMILLION);
            put_count(out, dlq);
            sl_buf_puts(out, " DLQ</tspan>");
        }
        sl_buf_puts(out, "</text></g>");
    }
    sl_buf_printf(out, "</svg></div><div class=\"legend\" style=\"margin-bottom:10px\">"
                  "<span><span class=\"dot\" style=\"background:%s\"></span>source</span>"
                  "<span><span class=\"dot\" style=\"background:%s\"></span>transform</span>"
                  "<span><span class=\"dot\" style=\"background:%s\"></span>quality transform</span>"
                  "<span><span class=\"dot\" style=\"background:%s\"></span>sink</span>"
                  "<span>numbers in boxes: records in → out</span></div>",
                  BLUE, GREEN, PURPLE, ORANGE);

    /* The same numbers as a table, for reading and copying. */
    sl_buf_puts(out, "<div class=\"scroll\"><table id=\"components\"><thead><tr><th>Component</th><th>Kind</th>"
                     "<th>Type</th><th class=\"n\">In</th><th class=\"n\">Out</th><th class=\"n\">DLQ</th>"
                     "<th class=\"n\">Mean batch time</th></tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        sl_component_metrics *m = c->metrics;
        sl_buf_printf(out, "<tr><td><span class=\"dot\" style=\"background:%s\"></span><code>", kind_color(c));
        escs(out, c->name);
        sl_buf_printf(out, "</code></td><td>%s</td><td>", sl_kind_name(c->kind));
        escs(out, c->type->name);
        sl_buf_puts(out, "</td><td class=\"n\">");
        put_count(out, atomic_load(&m->received_events));
        sl_buf_puts(out, "</td><td class=\"n\">");
        put_count(out, atomic_load(&m->sent_events));
        sl_buf_puts(out, "</td><td class=\"n\">");
        put_count(out, component_dlq(m));
        sl_buf_puts(out, "</td><td class=\"n\">");
        uint64_t batches = atomic_load(&m->latency_count);
        if (batches)
            sl_buf_printf(out, "%.2f ms", (double)atomic_load(&m->latency_sum_ns) / (double)batches / 1e6);
        else
            sl_buf_puts(out, "–");
        sl_buf_puts(out, "</td></tr>");
    }
    sl_buf_puts(out, "</tbody></table></div></section>");
    free(col_rows);
    free(in_count);
    free(pos);
}

/* ---- the dead-letter queue ---- */

typedef struct dlq_reason {
    const char *component;
    char reason[48];
    uint64_t count;
} dlq_reason;

#define MAX_EXAMPLE_REASONS 64

typedef struct dlq_examples {
    char reason[MAX_EXAMPLE_REASONS][48];
    int n_reasons;
    int count[MAX_EXAMPLE_REASONS];
    sl_buf html[MAX_EXAMPLE_REASONS];   /* rendered <li> items */
} dlq_examples;

static int cmp_reason(const void *a, const void *b)
{
    const dlq_reason *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->reason, y->reason);
}

/* Appends s[0..len) with each run of seven or more digits written as
 * [NUMBER]: account numbers and unformatted phone numbers, which the
 * detectors leave alone because the redact transform must not rewrite every
 * plain number, while a report shown outside the data's access control is
 * better off masking too much than too little. */
static void mask_digit_runs(sl_buf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j - i >= 7) {
            sl_buf_puts(out, "[NUMBER]");
        } else {
            j += j == i;   /* not a digit: copy one byte */
            sl_buf_append(out, s + i, j - i);
        }
        i = j;
    }
}

/* Appends text masked for display, escaped and cut to max characters: each
 * hit of the personal-data detectors (pii.h: e-mail addresses, phone, card
 * and social security numbers, IP addresses, IBANs) becomes its [LABEL],
 * and long digit runs between hits become [NUMBER]. The whole text is
 * masked before it is cut, so a value straddling the cut is masked too. */
static void put_masked(sl_buf *out, const char *s, size_t len, size_t max)
{
    sl_pii_spans spans = {0};
    unsigned possible = sl_pii_candidates(s, len);
    for (int d = 0; d < SL_PII_BUILTIN_COUNT; d++)
        if (possible & (1u << d))
            sl_pii_detectors[d].scan(s, len, d, &spans);
    sl_pii_resolve(&spans);
    sl_buf masked;
    sl_buf_init(&masked);
    size_t at = 0;
    for (size_t i = 0; i < spans.count; i++) {
        const sl_pii_span *hit = &spans.items[i];
        mask_digit_runs(&masked, s + at, hit->start - at);
        sl_buf_printf(&masked, "[%s]", sl_pii_detectors[hit->detector].label);
        at = hit->end;
    }
    mask_digit_runs(&masked, s + at, len - at);
    esc_cut(out, masked.data, masked.len, max);
    sl_buf_free(&masked);
    sl_pii_spans_free(&spans);
}

static void add_example(dlq_examples *ex, const sl_value *entry)
{
    const char *reason, *s;
    size_t rlen, len;
    if (!jstr(jget(entry, "reason"), &reason, &rlen) || rlen == 0 || rlen >= 48)
        return;
    int k = 0;
    while (k < ex->n_reasons && !(strlen(ex->reason[k]) == rlen && memcmp(ex->reason[k], reason, rlen) == 0))
        k++;
    if (k == ex->n_reasons) {
        if (ex->n_reasons == MAX_EXAMPLE_REASONS)
            return;
        memcpy(ex->reason[k], reason, rlen);
        ex->reason[k][rlen] = '\0';
        sl_buf_init(&ex->html[k]);
        ex->n_reasons++;
    }
    if (ex->count[k] >= SL_REPORT_DLQ_EXAMPLES)
        return;
    ex->count[k]++;
    sl_buf *h = &ex->html[k];
    sl_buf_puts(h, "<li><span class=\"muted\">");
    put_jstr(h, entry, "component", "?");
    if (jstr(jget(entry, "origin"), &s, &len)) {
        sl_buf_puts(h, " · ");
        esc_cut(h, s, len, 60);
    }
    double offset;
    if (jnum(jget(jget(entry, "position"), "offset"), &offset)) {
        sl_buf_puts(h, " @ ");
        put_count(h, (uint64_t)offset);
    }
    sl_buf_puts(h, "</span><br>");
    if (jstr(jget(entry, "message"), &s, &len))
        put_masked(h, s, len, 160);
    sl_buf_puts(h, "</li>");
}

/* Reads this run's entries from the DLQ file, at most SL_REPORT_DLQ_SCAN_BYTES. */
static void read_examples(const sl_report_info *info, dlq_examples *ex)
{
    if (!info->dlq_file)
        return;
    FILE *f = fopen(info->dlq_file, "rb");
    if (!f)
        return;
    if (info->dlq_offset && fseeko(f, (off_t)info->dlq_offset, SEEK_SET) != 0) {
        fclose(f);
        return;
    }
    sl_arena arena;
    sl_arena_init(&arena, 16 << 10);
    sl_buf line;
    sl_buf_init(&line);
    char *text = NULL;
    size_t cap = 0, scanned = 0;
    ssize_t n;
    while (scanned < SL_REPORT_DLQ_SCAN_BYTES && (n = getline(&text, &cap, f)) > 0) {
        scanned += (size_t)n;
        line.len = 0;
        sl_buf_append(&line, text, (size_t)n);   /* sl_buf keeps the decoder's padding */
        sl_value entry;
        sl_decode_error derr;
        sl_arena_reset(&arena);
        if (sl_json_decode(&arena, line.data, line.len, 0, true, &entry, &derr) == 0)
            add_example(ex, &entry);
    }
    free(text);
    sl_buf_free(&line);
    sl_arena_free(&arena);
    fclose(f);
}

static void dlq_section(sl_buf *out, sl_pipeline *p, const sl_report_info *info, const totals *t)
{
    section_open(out, "dlq", "Dead-letter queue",
                 "Records that could not be decoded, transformed or written, by reason. Examples show "
                 "the message only — never the record — with personal data and long numbers masked.");
    dlq_reason rows[SL_REPORT_MAX_ROWS];
    size_t n = 0;
    for (int i = 0; i < sl_pipeline_component_count(p); i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        sl_component_metrics *m = c->metrics;
        pthread_mutex_lock(&m->lock);
        for (int r = 0; r < SL_MAX_REASONS && n < SL_REPORT_MAX_ROWS; r++) {
            if (m->dlq[r].count == 0)
                continue;
            rows[n].component = c->name;
            memcpy(rows[n].reason, m->dlq[r].reason, sizeof rows[n].reason);
            rows[n].reason[sizeof rows[n].reason - 1] = '\0';
            rows[n++].count = m->dlq[r].count;
        }
        pthread_mutex_unlock(&m->lock);
    }
    if (n == 0) {
        sl_buf_puts(out, "<p class=\"note\" id=\"dlq-empty\">No dead letters: every record was delivered.</p></section>");
        return;
    }
    qsort(rows, n, sizeof *rows, cmp_reason);
    sl_buf_puts(out, "<div class=\"bars\" id=\"dlq-reasons\">");
    for (size_t i = 0; i < n; i++) {
        sl_buf_puts(out, "<div><code class=\"reason\">");
        escs(out, rows[i].reason);
        sl_buf_puts(out, "</code> <span class=\"muted\">in ");
        escs(out, rows[i].component);
        sl_buf_puts(out, "</span></div>");
        bar(out, (double)rows[i].count / (double)rows[0].count, VERMILLION);
        sl_buf_puts(out, "<div class=\"n dlq-count\">");
        put_count(out, rows[i].count);
        sl_buf_puts(out, "</div>");
    }
    sl_buf_puts(out, "</div>");
    dlq_examples *ex = calloc(1, sizeof *ex);
    if (!ex)
        abort();
    read_examples(info, ex);
    if (ex->n_reasons > 0) {
        sl_buf_puts(out, "<div class=\"grid2\" id=\"dlq-examples\">");
        for (int k = 0; k < ex->n_reasons; k++) {
            sl_buf_puts(out, "<div><h3>Examples: <code>");
            escs(out, ex->reason[k]);
            sl_buf_puts(out, "</code></h3><ul class=\"examples\">");
            sl_buf_append(out, ex->html[k].data, ex->html[k].len);
            sl_buf_puts(out, "</ul></div>");
            sl_buf_free(&ex->html[k]);
        }
        sl_buf_puts(out, "</div>");
    }
    free(ex);
    if (info->dlq_file) {
        sl_buf_puts(out, "<p class=\"note\" style=\"margin-top:12px\">");
        put_count(out, t->dlq);
        sl_buf_printf(out, " %s in <code>", t->dlq == 1 ? "entry" : "entries");
        escs(out, info->dlq_file);
        sl_buf_puts(out, "</code>, with the raw records.</p>");
    }
    sl_buf_puts(out, "</section>");
}

/* ---- contracts (validate) ---- */

static void validate_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!jstr_is(jget(&comp->value, "type"), "validate"))
            continue;
        if (!any)
            section_open(out, "contracts", "Contract rules",
                         "Records checked by each contract, and how often each rule failed. A record "
                         "that breaks several rules counts once per rule.");
        any = true;
        uint64_t records = jcount(&comp->value, "records"), failed = jcount(&comp->value, "failed");
        sl_buf_puts(out, "<h3><code>");
        esc(out, comp->key, comp->key_len);
        sl_buf_puts(out, "</code> <span class=\"muted\" style=\"font-weight:400\">");
        put_count(out, records);
        sl_buf_puts(out, " records · ");
        put_count(out, jcount(&comp->value, "passed"));
        sl_buf_puts(out, " passed · ");
        put_count(out, failed);
        sl_buf_puts(out, " failed (");
        put_pct(out, records ? (double)failed / (double)records : 0);
        sl_buf_puts(out, ")</span></h3>");
        const sl_value *rules = jget(&comp->value, "rules");
        if (!rules || rules->type != SL_ARRAY || rules->len == 0) {
            sl_buf_puts(out, "<p class=\"note\">No rules.</p>");
            continue;
        }
        uint64_t worst = 1;
        for (uint32_t r = 0; r < rules->len; r++)
            if (jcount(&rules->as.items[r], "failures") > worst)
                worst = jcount(&rules->as.items[r], "failures");
        sl_buf_puts(out, "<div class=\"scroll\"><table class=\"rules\"><thead><tr><th>Field</th><th>Rule</th>"
                         "<th class=\"n\">Failures</th><th style=\"width:40%\"></th></tr></thead><tbody>");
        for (uint32_t r = 0; r < rules->len && r < SL_REPORT_MAX_ROWS; r++) {
            const sl_value *rule = &rules->as.items[r];
            uint64_t fails = jcount(rule, "failures");
            sl_buf_puts(out, "<tr><td><code>");
            put_jstr(out, rule, "field", "");
            sl_buf_puts(out, "</code></td><td>");
            put_jstr(out, rule, "rule", "");
            sl_buf_puts(out, "</td><td class=\"n\">");
            put_count(out, fails);
            sl_buf_puts(out, "</td><td>");
            bar(out, (double)fails / (double)worst, fails ? VERMILLION : GREEN);
            sl_buf_puts(out, "</td></tr>");
        }
        sl_buf_puts(out, "</tbody></table></div>");
    }
    if (any)
        sl_buf_puts(out, "</section>");
}

/* ---- quality checks ---- */

static void quality_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!jstr_is(jget(&comp->value, "type"), "quality"))
            continue;
        const sl_value *checks = jget(&comp->value, "checks");
        if (!any) {
            section_open(out, "checks", "Quality checks",
                         "Checks over windows of records. A check passes while enough of its windows "
                         "passed (its <code>mostly</code> tolerance).");
            sl_buf_puts(out, "<div class=\"scroll\"><table id=\"quality-checks\"><thead><tr><th>Status</th>"
                             "<th>Check</th><th>Kind</th><th>Field</th><th class=\"n\">Last value</th>"
                             "<th>Threshold</th><th class=\"n\">Windows failed</th><th>Component</th>"
                             "</tr></thead><tbody>");
        }
        any = true;
        for (uint32_t k = 0; checks && checks->type == SL_ARRAY && k < checks->len && k < SL_REPORT_MAX_ROWS; k++) {
            const sl_value *ck = &checks->as.items[k];
            double v;
            sl_buf_puts(out, "<tr><td>");
            status_badge(out, jget(ck, "status"));
            sl_buf_puts(out, "</td><td>");
            put_jstr(out, ck, "name", "");
            sl_buf_puts(out, "</td><td>");
            put_jstr(out, ck, "check", "");
            sl_buf_puts(out, "</td><td><code>");
            put_jstr(out, ck, "field", "");
            sl_buf_puts(out, "</code></td><td class=\"n\">");
            if (jnum(jget(ck, "value"), &v))
                put_num(out, v);
            else
                sl_buf_puts(out, "–");
            sl_buf_puts(out, "</td><td>");
            put_jstr(out, ck, "threshold", "");
            sl_buf_puts(out, "</td><td class=\"n\">");
            put_count(out, jcount(ck, "failed_windows"));
            sl_buf_puts(out, " of ");
            put_count(out, jcount(ck, "windows"));
            sl_buf_puts(out, "</td><td><code>");
            esc(out, comp->key, comp->key_len);
            sl_buf_puts(out, "</code></td></tr>");
        }
    }
    if (any)
        sl_buf_puts(out, "</tbody></table></div></section>");
}

/* ---- profiles ---- */

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
        if (!jnum(&f->value, &n) || n <= 0)
            continue;
        sl_buf_printf(out, "<span style=\"width:%.2f%%;background:%s\" title=\"", 100.0 * n / (double)count,
                      type_color(f->key, f->key_len));
        esc(out, f->key, f->key_len);
        sl_buf_puts(out, "\"></span>");
    }
    sl_buf_puts(out, "</div><div class=\"legend\">");
    for (uint32_t t = 0; t < types->len; t++) {
        const sl_field *f = &types->as.fields[t];
        double n;
        if (!jnum(&f->value, &n) || n <= 0)
            continue;
        sl_buf_printf(out, "<span><span class=\"dot\" style=\"background:%s\"></span>",
                      type_color(f->key, f->key_len));
        esc(out, f->key, f->key_len);
        sl_buf_puts(out, " ");
        put_pct(out, n / (double)count);
        sl_buf_puts(out, "</span>");
    }
    sl_buf_puts(out, "</div>");
}

static void stat_cell(sl_buf *out, const char *label, const sl_value *v)
{
    double d;
    sl_buf_printf(out, "<div><b>%s</b>", label);
    if (jnum(v, &d))
        put_num(out, d);
    else
        sl_buf_puts(out, "–");
    sl_buf_puts(out, "</div>");
}

static void histogram(sl_buf *out, const sl_value *h)
{
    const sl_value *edges = jget(h, "edges"), *counts = jget(h, "counts");
    if (!edges || !counts || edges->type != SL_ARRAY || counts->type != SL_ARRAY || counts->len == 0 ||
        edges->len != counts->len + 1 || counts->len > 1000)
        return;
    double top = 0, c, lo, hi;
    for (uint32_t i = 0; i < counts->len; i++)
        if (jnum(&counts->as.items[i], &c) && c > top)
            top = c;
    if (top <= 0)
        return;
    const double w = 300, h_px = 64, gap = 2;
    double bw = w / counts->len;
    sl_buf_printf(out, "<svg class=\"hist\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"histogram\">",
                  w, h_px + 16);
    for (uint32_t i = 0; i < counts->len; i++) {
        if (!jnum(&counts->as.items[i], &c))
            continue;
        double bh = c > 0 ? fmax(1.5, h_px * c / top) : 0;
        sl_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" rx=\"1.5\">"
                      "<title>", i * bw + gap / 2, h_px - bh, bw - gap, bh, BLUE);
        put_count(out, (uint64_t)c);
        sl_buf_puts(out, "</title></rect>");
    }
    if (jnum(&edges->as.items[0], &lo) && jnum(&edges->as.items[edges->len - 1], &hi)) {
        sl_buf_printf(out, "<text x=\"0\" y=\"%.0f\" font-size=\"10.5\" fill=\"#5c6777\">", h_px + 13);
        put_num(out, lo);
        sl_buf_printf(out, "</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"10.5\" fill=\"#5c6777\" "
                      "text-anchor=\"end\">", w, h_px + 13);
        put_num(out, hi);
        sl_buf_puts(out, "</text>");
    }
    sl_buf_puts(out, "</svg>");
}

static void top_values(sl_buf *out, const sl_value *top, uint64_t count)
{
    if (!top || top->type != SL_ARRAY || top->len == 0 || count == 0)
        return;
    sl_buf_puts(out, "<div class=\"top\">");
    for (uint32_t i = 0; i < top->len && i < 6; i++) {
        const sl_value *t = &top->as.items[i];
        uint64_t n = jcount(t, "count");
        const char *s;
        size_t len;
        sl_buf_puts(out, "<code>");
        if (jstr(jget(t, "value"), &s, &len))
            put_masked(out, s, len, 40);
        else
            sl_buf_puts(out, "<i>(bytes)</i>");
        sl_buf_puts(out, "</code>");
        bar(out, (double)n / (double)count, GREEN);
        sl_buf_puts(out, "<span class=\"n\">");
        put_pct(out, (double)n / (double)count);
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
        if (jnum(&q->as.fields[i].value, &d))
            put_num(out, d);
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
        if (jnum(&f->value, &n) && n > best_n) {
            best = f;
            best_n = n;
        }
    }
    if (best)
        esc(out, best->key, best->key_len);
    else
        sl_buf_puts(out, "null");
}

static void field_card(sl_buf *out, const sl_field *field, uint64_t records)
{
    const sl_value *f = &field->value;
    uint64_t count = jcount(f, "count"), nulls = jcount(f, "nulls"), missing = jcount(f, "missing");
    sl_buf_puts(out, "<div class=\"field\"><div class=\"fhead\"><code>");
    esc_cut(out, field->key, field->key_len, 48);
    sl_buf_puts(out, "</code><span class=\"muted\">");
    main_type(out, jget(f, "types"));
    sl_buf_puts(out, "</span></div>");
    type_mix(out, jget(f, "types"), count);
    sl_buf_puts(out, "<div class=\"stats\"><div><b>Null rate</b>");
    put_pct(out, records ? (double)(nulls + missing) / (double)records : NAN);
    sl_buf_puts(out, "</div>");
    stat_cell(out, "Distinct ≈", jget(f, "distinct"));
    stat_cell(out, "Present", jget(f, "count"));
    if (jget(f, "min")) {
        stat_cell(out, "Min", jget(f, "min"));
        stat_cell(out, "Mean", jget(f, "mean"));
        stat_cell(out, "Max", jget(f, "max"));
    } else if (jget(f, "length")) {
        const sl_value *l = jget(f, "length");
        stat_cell(out, "Shortest", jget(l, "min"));
        stat_cell(out, "Mean length", jget(l, "mean"));
        stat_cell(out, "Longest", jget(l, "max"));
    }
    sl_buf_puts(out, "</div>");
    if (jget(f, "histogram")) {
        histogram(out, jget(f, "histogram"));
        quantiles(out, jget(f, "quantiles"));
    } else if (jget(f, "top")) {
        top_values(out, jget(f, "top"), count);
    } else if (jget(f, "bools")) {
        const sl_value *b = jget(f, "bools");
        uint64_t yes = jcount(b, "true"), no = jcount(b, "false");
        if (yes + no) {
            sl_buf_puts(out, "<div class=\"top\"><code>true</code>");
            bar(out, (double)yes / (double)(yes + no), ORANGE);
            sl_buf_puts(out, "<span class=\"n\">");
            put_pct(out, (double)yes / (double)(yes + no));
            sl_buf_puts(out, "</span><code>false</code>");
            bar(out, (double)no / (double)(yes + no), ORANGE);
            sl_buf_puts(out, "<span class=\"n\">");
            put_pct(out, (double)no / (double)(yes + no));
            sl_buf_puts(out, "</span></div>");
        }
    }
    sl_buf_puts(out, "</div>");
}

static void profile_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!jstr_is(jget(&comp->value, "type"), "profile"))
            continue;
        if (!any)
            section_open(out, "profile", "Field profiles",
                         "Per-field summaries from streaming sketches: type mix, null rate, distinct "
                         "values (HyperLogLog), quantiles and histograms (KLL) and top values "
                         "(space-saving). Estimates, within the sketches' error bounds.");
        any = true;
        const sl_value *prof = jget(&comp->value, "profile");
        const sl_value *fields = jget(prof, "fields");
        uint64_t records = jcount(prof, "records");
        sl_buf_puts(out, "<h3><code>");
        esc(out, comp->key, comp->key_len);
        sl_buf_puts(out, "</code> <span class=\"muted\" style=\"font-weight:400\">");
        put_count(out, records);
        sl_buf_puts(out, " records · ");
        put_count(out, fields && fields->type == SL_MAP ? fields->len : 0);
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
        section_open(out, "profile", "Field profiles", NULL);
        sl_buf_puts(out, "<p class=\"note\">No profile in this pipeline: add a <code>profile</code> transform "
                         "to see per-field statistics and drift here.</p>");
    }
    sl_buf_puts(out, "</section>");
}

/* ---- drift ---- */

static void drift_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!jstr_is(jget(&comp->value, "type"), "profile"))
            continue;
        const sl_value *drift = jget(&comp->value, "drift");
        if (drift && drift->type == SL_MAP)   /* the {"status":..,"fields":[..]} form */
            drift = jget(drift, "fields");
        if (!drift || drift->type != SL_ARRAY)
            continue;
        if (!any)
            section_open(out, "drift", "Drift against the baseline",
                         "Population Stability Index (PSI: under 0.1 no significant change, 0.1–0.2 "
                         "moderate, 0.2 and over significant), Jensen–Shannon distance and the change in "
                         "null rate, per field.");
        any = true;
        int counts[3] = {0, 0, 0};
        for (uint32_t k = 0; k < drift->len; k++) {
            const sl_value *st = jget(&drift->as.items[k], "status");
            counts[jstr_is(st, "alert") ? 2 : jstr_is(st, "warn") ? 1 : 0]++;
        }
        sl_buf_puts(out, "<h3><code>");
        esc(out, comp->key, comp->key_len);
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
            double psi = jnum_or(d, "psi", NAN);
            const sl_value *st = jget(d, "status");
            sl_buf_puts(out, "<tr><td>");
            status_badge(out, st);
            sl_buf_puts(out, "</td><td><code>");
            put_jstr(out, d, "field", "");
            sl_buf_puts(out, "</code></td><td>");
            put_jstr(out, d, "kind", "");
            sl_buf_puts(out, "</td><td class=\"n\">");
            if (isfinite(psi))
                sl_buf_printf(out, "%.3f", psi);
            else
                sl_buf_puts(out, "–");
            sl_buf_puts(out, "</td><td>");
            bar(out, isfinite(psi) ? psi / 0.4 : 0,
                jstr_is(st, "alert") ? VERMILLION : jstr_is(st, "warn") ? ORANGE : GREEN);
            double js = jnum_or(d, "js", NAN);
            sl_buf_puts(out, "</td><td class=\"n\">");
            if (isfinite(js))
                sl_buf_printf(out, "%.3f", js);
            else
                sl_buf_puts(out, "–");
            sl_buf_puts(out, "</td><td class=\"n\">");
            put_pct(out, jnum_or(d, "null_rate_baseline", NAN));
            sl_buf_puts(out, " → ");
            put_pct(out, jnum_or(d, "null_rate_current", NAN));
            sl_buf_puts(out, "</td></tr>");
        }
        sl_buf_puts(out, "</tbody></table></div>");
    }
    if (any)
        sl_buf_puts(out, "</section>");
}

/* ---- throughput ---- */

/* A "nice" axis maximum (1, 2, 2.5 or 5 times a power of ten) >= v. */
static double nice_max(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p >= v)
            return steps[i] * p;
    return 10 * p;
}

static void line_chart(sl_buf *out, const char *id, const char *title, const char *unit, const double *t,
                       const double *v, size_t n, double t_max, const char *color)
{
    const double W = 440, H = 220, L = 58, R = 14, T = 24, B = 28;
    double top = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > top)
            top = v[i];
    top = nice_max(top);
    if (!(t_max > 0))
        t_max = 1;
    sl_buf_printf(out, "<div class=\"chart\" id=\"%s\"><h3>%s</h3><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                  "aria-label=\"%s\" font-size=\"12\" fill=\"#5c6777\">", id, title, W, H, title);
    for (int g = 0; g <= 4; g++) {
        double y = T + (H - T - B) * (1 - g / 4.0);
        sl_buf_printf(out, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e6ec\"/>"
                      "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L, W - R, y, y, L - 8, y + 4);
        put_num(out, top * g / 4);
        sl_buf_puts(out, "</text>");
    }
    /* Time ticks at round steps: 1, 2, 2.5 or 5 times a power of ten
     * seconds, about four of them. */
    double step = nice_max(t_max / 5);
    for (double s = 0; s <= t_max + 1e-9; s += step) {
        double x = L + (W - L - R) * s / t_max;
        sl_buf_printf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#c9d0da\"/>"
                      "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">", x, x, H - B, H - B + 4, x, H - 8,
                      s == 0 ? "start" : "middle");
        if (t_max >= 120)
            sl_buf_printf(out, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
        else
            sl_buf_printf(out, "%g s", s);
        sl_buf_puts(out, "</text>");
    }
    sl_buf line;
    sl_buf_init(&line);
    for (size_t i = 0; i < n; i++) {
        double x = L + (W - L - R) * t[i] / t_max;
        double y = T + (H - T - B) * (1 - v[i] / top);
        sl_buf_printf(&line, "%s%.1f,%.1f", i ? " " : "", x, y);
    }
    double x0 = L + (W - L - R) * t[0] / t_max, xn = L + (W - L - R) * t[n - 1] / t_max;
    sl_buf_printf(out, "<polygon points=\"%.1f,%.1f %s %.1f,%.1f\" fill=\"%s\" fill-opacity=\"0.12\"/>", x0,
                  H - B, line.data, xn, H - B, color);
    sl_buf_printf(out, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                  "stroke-linejoin=\"round\"/>", line.data, color);
    sl_buf_printf(out, "<text x=\"%.0f\" y=\"12\">%s</text></svg></div>", L, unit);
    sl_buf_free(&line);
}

static void throughput_section(sl_buf *out, const sl_report_info *info, const totals *tot)
{
    section_open(out, "throughput", "Throughput",
                 "Records and bytes read by the sources, sampled every second (longer runs are "
                 "averaged over longer intervals, so the chart covers the whole run).");
    sl_sample *pts = NULL;
    size_t n = 0;
    if (info->sampler) {
        pts = malloc(SL_SAMPLER_MAX_POINTS * sizeof *pts);
        if (!pts)
            abort();
        n = sl_sampler_points(info->sampler, pts, SL_SAMPLER_MAX_POINTS);
    }
    /* Merge into at most CHART_POINTS points. */
    size_t per = (n + CHART_POINTS - 1) / CHART_POINTS, m = 0;
    for (size_t i = 0; per > 0 && i < n; i += per, m++) {
        sl_sample s = pts[i];
        for (size_t j = i + 1; j < i + per && j < n; j++) {
            s.end_s = pts[j].end_s;
            s.span_s += pts[j].span_s;
            s.records += pts[j].records;
            s.bytes += pts[j].bytes;
        }
        pts[m] = s;
    }
    n = m;
    if (n < 2) {
        sl_buf_puts(out, "<p class=\"note\" id=\"throughput-short\">");
        if (!info->sampler)
            sl_buf_puts(out, "Throughput was not sampled for this run. ");
        else
            sl_buf_puts(out, "The run was too short for a chart. ");
        sl_buf_puts(out, "On average: ");
        put_num(out, tot->elapsed_s > 0 ? floor((double)tot->records_in / tot->elapsed_s) : 0);
        sl_buf_puts(out, " records/s, ");
        put_num(out, tot->elapsed_s > 0 ? (double)tot->bytes_in / 1e6 / tot->elapsed_s : 0);
        sl_buf_puts(out, " MB/s.</p></section>");
        free(pts);
        return;
    }
    double *t = malloc(n * 3 * sizeof *t);
    if (!t)
        abort();
    double *rps = t + n, *mbps = t + 2 * n;
    for (size_t i = 0; i < n; i++) {
        double span = pts[i].span_s > 1e-6 ? pts[i].span_s : 1e-6;
        t[i] = pts[i].end_s - pts[i].span_s / 2;
        rps[i] = (double)pts[i].records / span;
        mbps[i] = (double)pts[i].bytes / 1e6 / span;
    }
    double t_max = pts[n - 1].end_s;
    sl_buf_puts(out, "<div class=\"grid2\">");
    line_chart(out, "chart-records", "Records per second", "records/s", t, rps, n, t_max, BLUE);
    line_chart(out, "chart-bytes", "Input MB per second", "MB/s", t, mbps, n, t_max, GREEN);
    sl_buf_puts(out, "</div></section>");
    free(t);
    free(pts);
}

/* ---- the page ---- */

void sl_report_build(sl_pipeline *p, const sl_report_info *info, sl_buf *out)
{
    totals t = compute_totals(p, info);

    sl_buf state_json;
    sl_buf_init(&state_json);
    if (info->state_json)
        sl_buf_append(&state_json, info->state_json, info->state_len);
    else
        sl_pipeline_describe(p, &state_json);
    sl_arena arena;
    sl_arena_init(&arena, 64 << 10);
    sl_value state = sl_null();
    sl_decode_error derr;
    bool state_ok = state_json.len > 0 &&
                    sl_json_decode(&arena, state_json.data, state_json.len, 0, true, &state, &derr) == 0;

    sl_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                     "style-src 'unsafe-inline'; img-src data:\"><title>");
    escs(out, info->title ? info->title : "sluice report");
    sl_buf_printf(out, "</title><style>%s</style></head><body><main>", css);
    header(out, p, info, &t);
    graph_section(out, p);
    dlq_section(out, p, info, &t);
    if (!state_ok) {
        section_open(out, "state", "Component state", NULL);
        sl_buf_puts(out, "<p class=\"note\">The components' state could not be read: ");
        escs(out, derr.msg);
        sl_buf_puts(out, "</p></section>");
    } else {
        validate_section(out, &state);
        quality_section(out, &state);
        profile_section(out, &state);
        drift_section(out, &state);
    }
    throughput_section(out, info, &t);
    char now[40];
    format_time(now, sl_now_ns());
    sl_buf_printf(out, "<footer>Generated by sluice at %s UTC from metrics and sketches only: no records are "
                       "stored in this file.</footer></main></body></html>\n", now);
    sl_arena_free(&arena);
    sl_buf_free(&state_json);
}

int sl_report_write(sl_pipeline *p, const sl_report_info *info, const char *path, sl_error *err)
{
    if (sl_mkdirs_parent(path, err) < 0)
        return sl_error_prefix(err, "cannot write the report");
    sl_buf html;
    sl_buf_init(&html);
    sl_report_build(p, info, &html);
    int rc = sl_write_file_atomic(path, html.data, html.len, err);
    sl_buf_free(&html);
    return rc;
}
