/* dot.c — the pipeline as a Graphviz DOT graph (`sluice graph`).
 *
 * Sources are ellipses, transforms boxes, sinks cylinders; each node shows
 * its name and type. An edge from a named output (route) is labelled with
 * the output's name.
 */
#include "pipeline_internal.h"

/* Appends s escaped for a DOT quoted string. */
static void put_escaped(sl_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sl_buf_putc(out, '\\');
        sl_buf_putc(out, *s);
    }
}

static void put_quoted(sl_buf *out, const char *s)
{
    sl_buf_putc(out, '"');
    put_escaped(out, s);
    sl_buf_putc(out, '"');
}

static const char *shape(sl_kind kind)
{
    switch (kind) {
    case SL_SOURCE: return "ellipse";
    case SL_TRANSFORM: return "box";
    case SL_SINK: return "cylinder";
    }
    return "box";
}

void sl_pipeline_graph_dot(const sl_pipeline *p, sl_buf *out)
{
    sl_buf_puts(out, "digraph sluice {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for (int i = 0; i < p->n_comps; i++) {
        const sl_component *c = &p->comps[i];
        sl_buf_puts(out, "  ");
        put_quoted(out, c->name);
        sl_buf_printf(out, " [shape=%s, label=\"", shape(c->kind));
        put_escaped(out, c->name);
        sl_buf_printf(out, "\\n(%s %s)\"];\n", c->type->name, sl_kind_name(c->kind));
    }
    for (size_t e = 0; e < p->graph.n_edges; e++) {
        const sl_edge *edge = &p->graph.edges[e];
        const sl_component *from = &p->comps[edge->from];
        sl_buf_puts(out, "  ");
        put_quoted(out, from->name);
        sl_buf_puts(out, " -> ");
        put_quoted(out, p->comps[edge->to].name);
        if (from->outputs && edge->from_output < from->n_outputs) {
            sl_buf_puts(out, " [label=");
            put_quoted(out, from->outputs[edge->from_output]);
            sl_buf_putc(out, ']');
        }
        sl_buf_puts(out, ";\n");
    }
    sl_buf_puts(out, "}\n");
}
