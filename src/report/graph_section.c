/* graph_section.c — the pipeline section: the DAG drawn as inline SVG (boxes
 * placed by graph_layout.c, edges labelled with the records that went along
 * them) and the same numbers as a table.
 */
#include "sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/component.h"
#include "graph_layout.h"
#include "html.h"

const char *sl_report_kind_color(const sl_component *c)
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

/* A box's fill: a faint tint of its kind's colour. The sink tint is used
 * nowhere else on the page, so a screenshot test can find every sink box and
 * check that none is cut off. */
static const char *kind_tint(const sl_component *c)
{
    if (c->kind == SL_SOURCE)
        return "#f1f7fb";
    if (c->kind == SL_SINK)
        return SINK_TINT;
    return "#ffffff";
}

uint64_t sl_report_component_dlq(sl_component_metrics *m)
{
    uint64_t n = 0;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < SL_MAX_REASONS; i++)
        n += m->dlq[i].count;
    pthread_mutex_unlock(&m->lock);
    return n;
}


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
        sl_html_esc_cut(out, f->outputs[from_output], strlen(f->outputs[from_output]), 14);
        sl_buf_printf(out, "</tspan><tspan x=\"%.1f\" dy=\"14\">", x);
    }
    if (to_inputs == 1)
        sl_html_count(out, atomic_load(&t->metrics->received_events));
    else if (!f->outputs)
        sl_html_count(out, atomic_load(&f->metrics->sent_events));
    sl_buf_puts(out, named ? "</tspan></text>" : "</text>");
}

void sl_report_graph_section(sl_buf *out, sl_pipeline *p)
{
    int n = sl_pipeline_component_count(p);
    size_t ne = sl_pipeline_edge_count(p);
    sl_html_section_open(out, "graph", "Pipeline",
                 "Components in the order data flows. Each arrow carries the number "
                 "of records that went along it.");
    if (n == 0) {
        sl_buf_puts(out, "<p class=\"note\">The pipeline has no components.</p></section>");
        return;
    }
    sl_graph_layout l;
    sl_graph_layout_compute(p, &l);
    sl_buf_printf(out, "<div class=\"graph\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                  "width=\"%.0f\" role=\"img\" aria-label=\"pipeline graph\" "
                  "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif\">",
                  l.width, l.height, l.width);
    sl_buf_puts(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                     "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#8a94a3\"/></marker></defs>");
    /* Edges first, so that boxes are drawn over them. */
    for (size_t e = 0; e < ne; e++) {
        int from, out_i, to;
        sl_pipeline_edge(p, e, &from, &out_i, &to);
        const sl_component *f = sl_pipeline_component(p, from);
        double fan = f->n_outputs > 1 ? (out_i - (f->n_outputs - 1) / 2.0) * 10 : 0;
        double x1, y1, x2, y2, c1x, c1y, c2x, c2y;
        if (l.vertical) {   /* bottom of the sender to the top of the receiver */
            x1 = l.x[from] + SL_GRAPH_BOX_W / 2.0 + fan, y1 = l.y[from] + SL_GRAPH_BOX_H;
            x2 = l.x[to] + SL_GRAPH_BOX_W / 2.0, y2 = l.y[to] - 2;
            c1x = x1, c1y = (y1 + y2) / 2, c2x = x2, c2y = (y1 + y2) / 2;
        } else {            /* right side of the sender to the left side of the receiver */
            x1 = l.x[from] + SL_GRAPH_BOX_W, y1 = l.y[from] + SL_GRAPH_BOX_H / 2.0 + fan;
            x2 = l.x[to] - 2, y2 = l.y[to] + SL_GRAPH_BOX_H / 2.0;
            c1x = (x1 + x2) / 2, c1y = y1, c2x = (x1 + x2) / 2, c2y = y2;
        }
        sl_buf_printf(out, "<path class=\"edge\" d=\"M%.1f,%.1fC%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" "
                      "stroke=\"#a3acb9\" stroke-width=\"1.6\" marker-end=\"url(#arrow)\"/>",
                      x1, y1, c1x, c1y, c2x, c2y, x2, y2);
        edge_label(out, p, from, out_i, to, l.in_count[to], (x1 + x2) / 2 + (l.vertical ? 34 : 0),
                   (y1 + y2) / 2 - (l.vertical ? -4 : 6));
    }
    for (int i = 0; i < n; i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        const char *color = sl_report_kind_color(c);
        double x = l.x[i], y = l.y[i];
        uint64_t dlq = sl_report_component_dlq(c->metrics);
        sl_buf_printf(out, "<g class=\"node\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" rx=\"7\" "
                      "fill=\"%s\" stroke=\"%s\" stroke-width=\"1.4\"/>"
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"%d\" rx=\"2\" fill=\"%s\"/>",
                      x, y, SL_GRAPH_BOX_W, SL_GRAPH_BOX_H, kind_tint(c), color, x + 1.5, y + 6, SL_GRAPH_BOX_H - 12, color);
        sl_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"650\" fill=\"#1d2330\">",
                      x + 14, y + 21);
        sl_html_esc_cut(out, c->name, strlen(c->name), 16);
        sl_buf_printf(out, "</text><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#5c6777\">%s · ",
                      x + 14, y + 38, sl_kind_name(c->kind));
        sl_html_esc_cut(out, c->type->name, strlen(c->type->name), 12);
        sl_buf_printf(out, "</text><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#3a4350\">", x + 14, y + 55);
        sl_html_count(out, atomic_load(&c->metrics->received_events));
        sl_buf_puts(out, " → ");
        sl_html_count(out, atomic_load(&c->metrics->sent_events));
        if (dlq) {
            sl_buf_printf(out, "<tspan fill=\"%s\"> · ", VERMILLION);
            sl_html_count(out, dlq);
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
        sl_buf_printf(out, "<tr><td><span class=\"dot\" style=\"background:%s\"></span><code>", sl_report_kind_color(c));
        sl_html_escs(out, c->name);
        sl_buf_printf(out, "</code></td><td>%s</td><td>", sl_kind_name(c->kind));
        sl_html_escs(out, c->type->name);
        sl_buf_puts(out, "</td><td class=\"n\">");
        sl_html_count(out, atomic_load(&m->received_events));
        sl_buf_puts(out, "</td><td class=\"n\">");
        sl_html_count(out, atomic_load(&m->sent_events));
        sl_buf_puts(out, "</td><td class=\"n\">");
        sl_html_count(out, sl_report_component_dlq(m));
        sl_buf_puts(out, "</td><td class=\"n\">");
        uint64_t batches = atomic_load(&m->latency_count);
        if (batches)
            sl_buf_printf(out, "%.2f ms", (double)atomic_load(&m->latency_sum_ns) / (double)batches / 1e6);
        else
            sl_buf_puts(out, "–");
        sl_buf_puts(out, "</td></tr>");
    }
    sl_buf_puts(out, "</tbody></table></div></section>");
    sl_graph_layout_free(&l);
}
