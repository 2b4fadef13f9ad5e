/* describe.c — the pipeline seen from outside while it runs: component
 * state as JSON (/stats, the report), Prometheus text (/metrics), and the
 * list of components and edges (the report's graph).
 */
#include "../codec/json.h"
#include "pipeline_internal.h"

void sl_pipeline_describe(sl_pipeline *p, sl_buf *json)
{
    bool first = true;
    sl_buf_putc(json, '{');
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (!c->type->describe)
            continue;
        if (!first)
            sl_buf_putc(json, ',');
        first = false;
        sl_json_encode_string(json, c->name, strlen(c->name));
        sl_buf_putc(json, ':');
        c->type->describe(c, json);
    }
    sl_buf_putc(json, '}');
}

void sl_pipeline_prometheus(sl_pipeline *p, sl_buf *out)
{
    sl_metrics_render_prometheus(p->metrics, out);
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (c->type->metrics)
            c->type->metrics(c, out);
    }
}

int sl_pipeline_component_count(const sl_pipeline *p)
{
    return p->n_comps;
}

const sl_component *sl_pipeline_component(const sl_pipeline *p, int i)
{
    return &p->comps[i];
}

size_t sl_pipeline_edge_count(const sl_pipeline *p)
{
    return p->graph.n_edges;
}

void sl_pipeline_edge(const sl_pipeline *p, size_t i, int *from, int *from_output, int *to)
{
    const sl_edge *e = &p->graph.edges[i];
    *from = e->from;
    *from_output = e->from_output;
    *to = e->to;
}
