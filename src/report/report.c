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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/arena.h"
#include "../core/metrics.h"
#include "../core/util.h"
#include "../core/value.h"
#include "../runtime/component.h"
#include "html.h"
#include "sections.h"

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
    ".per-sink{list-style:none;margin:4px 0 0;padding:0;font-size:12px;color:var(--muted)}"
    ".per-sink li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
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
    ".graph svg{display:block;max-width:100%;height:auto;margin:0 auto}"
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


static sl_report_totals compute_totals(sl_pipeline *p, const sl_report_info *info)
{
    sl_report_totals t = {0};
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

/* Under "Records out": what each sink wrote, so a user sees where the
 * records went (the total counts a record once per sink that wrote it). */
static void sinks_out(sl_buf *out, sl_pipeline *p)
{
    int shown = 0, sinks = 0;
    for (int i = 0; i < sl_pipeline_component_count(p); i++)
        sinks += sl_pipeline_component(p, i)->kind == SL_SINK;
    sl_buf_puts(out, "<ul class=\"per-sink\" id=\"records-out-per-sink\">");
    for (int i = 0; i < sl_pipeline_component_count(p) && shown < 6; i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        if (c->kind != SL_SINK)
            continue;
        sl_buf_puts(out, "<li><code>");
        sl_html_esc_cut(out, c->name, strlen(c->name), 18);
        sl_buf_puts(out, "</code> ");
        sl_html_count(out, atomic_load(&c->metrics->sent_events));
        sl_buf_puts(out, "</li>");
        shown++;
    }
    if (sinks > shown)
        sl_buf_printf(out, "<li>and %d more (see Pipeline)</li>", sinks - shown);
    sl_buf_puts(out, "</ul>");
}

static void header(sl_buf *out, sl_pipeline *p, const sl_report_info *info, const sl_report_totals *t)
{
    const char *status = info->status ? info->status : "running";
    const char *cls = strcmp(status, "succeeded") == 0 ? "ok" : strcmp(status, "failed") == 0 ? "bad" : "run";
    char started[40];
    sl_html_time(started, sl_pipeline_metrics(p)->started_ns);
    sl_buf_puts(out, "<header><div class=\"title\"><h1>");
    sl_html_escs(out, info->title ? info->title : "sluice report");
    sl_buf_printf(out, "</h1><span class=\"badge %s\" id=\"status\">", cls);
    sl_html_escs(out, status);
    sl_buf_puts(out, "</span></div><p class=\"sub\">");
    if (info->pipeline) {
        sl_buf_puts(out, "Pipeline <code>");
        sl_html_escs(out, info->pipeline);
        sl_buf_puts(out, "</code> · ");
    }
    sl_buf_printf(out, "started %s UTC · ran for ", started);
    sl_html_duration(out, t->elapsed_s);
    sl_buf_puts(out, "</p>");
    if (info->error) {
        sl_buf_puts(out, "<div class=\"error\" id=\"run-error\"><strong>The run failed:</strong> ");
        sl_html_esc_cut(out, info->error, strlen(info->error), 600);
        sl_buf_puts(out, "</div>");
    }
    sl_buf_puts(out, "<div class=\"kpis\">");
    kpi(out, "records-in", "Records in");
    sl_html_count(out, t->records_in);
    sl_buf_puts(out, "</div></div>");
    kpi(out, "records-out", "Records out");
    sl_html_count(out, t->records_out);
    sl_buf_puts(out, "</div>");
    sinks_out(out, p);
    sl_buf_puts(out, "</div>");
    kpi(out, "dlq-total", "Dead letters");
    sl_html_count(out, t->dlq);
    sl_buf_puts(out, "</div></div>");
    char size[32];
    sl_format_size(size, t->bytes_in);
    kpi(out, "bytes-in", "Input");
    sl_html_escs(out, size);
    sl_buf_puts(out, "</div></div>");
    kpi(out, "mbps", "Throughput");
    sl_html_num(out, t->elapsed_s > 0 ? (double)t->bytes_in / 1e6 / t->elapsed_s : 0);
    sl_buf_puts(out, " MB/s</div></div>");
    kpi(out, "rps", "Records / s");
    sl_html_num(out, t->elapsed_s > 0 ? floor((double)t->records_in / t->elapsed_s) : 0);
    sl_buf_puts(out, "</div></div></div></header>");
}


void sl_report_build(sl_pipeline *p, const sl_report_info *info, sl_buf *out)
{
    sl_report_totals t = compute_totals(p, info);

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
    sl_html_escs(out, info->title ? info->title : "sluice report");
    sl_buf_printf(out, "</title><style>%s</style></head><body><main>", css);
    header(out, p, info, &t);
    sl_report_graph_section(out, p);
    sl_report_dlq_section(out, p, info, &t);
    if (!state_ok) {
        sl_html_section_open(out, "state", "Component state", NULL);
        sl_buf_puts(out, "<p class=\"note\">The components' state could not be read: ");
        sl_html_escs(out, derr.msg);
        sl_buf_puts(out, "</p></section>");
    } else {
        sl_report_validate_section(out, &state);
        sl_report_quality_section(out, &state);
        sl_report_training_section(out, &state);
        sl_report_profile_section(out, &state);
        sl_report_drift_section(out, &state);
    }
    sl_report_throughput_section(out, info, &t);
    char now[40];
    sl_html_time(now, sl_now_ns());
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
