/* graph_layout.c — layered placement of the pipeline's components for the
 * report's graph (see graph_layout.h).
 */
#include "graph_layout.h"

#include <stdlib.h>

#define LAYER_GAP 78     /* between layers, along the flow */
#define SIBLING_GAP 26   /* between components of one layer */
#define LAYER_GAP_V 46   /* between layers drawn top to bottom (room for edge labels) */
#define MARGIN 12

static void *alloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

void sl_graph_layout_compute(sl_pipeline *p, sl_graph_layout *l)
{
    int n = sl_pipeline_component_count(p);
    size_t ne = sl_pipeline_edge_count(p);
    int *depth = alloc((size_t)n, sizeof *depth), *slot = alloc((size_t)n, sizeof *slot);
    double *order = alloc((size_t)n, sizeof *order);
    l->n = n;
    l->x = alloc((size_t)n, sizeof *l->x);
    l->y = alloc((size_t)n, sizeof *l->y);
    l->in_count = alloc((size_t)n, sizeof *l->in_count);
    for (size_t e = 0; e < ne; e++) {
        int from, out_i, to;
        sl_pipeline_edge(p, e, &from, &out_i, &to);
        l->in_count[to]++;
    }
    /* Longest path from a source: relax every edge until nothing changes
     * (at most n rounds in a DAG). */
    for (int round = 0; round < n; round++) {
        bool changed = false;
        for (size_t e = 0; e < ne; e++) {
            int from, out_i, to;
            sl_pipeline_edge(p, e, &from, &out_i, &to);
            if (depth[to] < depth[from] + 1) {
                depth[to] = depth[from] + 1;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    int max_depth = 0;
    for (int i = 0; i < n; i++)
        if (depth[i] > max_depth)
            max_depth = depth[i];
    for (int i = 0; i < n; i++)   /* sinks line up in the last layer */
        if (sl_pipeline_component(p, i)->kind == SL_SINK && max_depth > 0)
            depth[i] = max_depth;
    /* Slots within a layer: ordered by the mean slot of the predecessors. */
    int *layer_size = alloc((size_t)max_depth + 1, sizeof *layer_size);
    int widest = 0;
    for (int d = 0; d <= max_depth; d++) {
        for (int i = 0; i < n; i++) {
            if (depth[i] != d)
                continue;
            double sum = 0;
            int k = 0;
            for (size_t e = 0; e < ne; e++) {
                int from, out_i, to;
                sl_pipeline_edge(p, e, &from, &out_i, &to);
                if (to == i && depth[from] < d) {
                    sum += slot[from] + out_i * 0.01;
                    k++;
                }
            }
            order[i] = k ? sum / k : i;
        }
        for (int i = 0; i < n; i++) {
            if (depth[i] != d)
                continue;
            int s = 0;
            for (int j = 0; j < n; j++)
                if (depth[j] == d && (order[j] < order[i] || (order[j] == order[i] && j < i)))
                    s++;
            slot[i] = s;
            layer_size[d]++;
        }
        if (layer_size[d] > widest)
            widest = layer_size[d];
    }
    int layers = max_depth + 1;
    double flow_w = MARGIN * 2 + layers * SL_GRAPH_BOX_W + max_depth * LAYER_GAP;
    l->vertical = flow_w > SL_GRAPH_MAX_WIDTH;
    /* along: the direction of the flow; across: the direction of a layer */
    double box_along = l->vertical ? SL_GRAPH_BOX_H : SL_GRAPH_BOX_W;
    double box_across = l->vertical ? SL_GRAPH_BOX_W : SL_GRAPH_BOX_H;
    double gap_along = l->vertical ? LAYER_GAP_V : LAYER_GAP;
    double span_across = MARGIN * 2 + widest * box_across + (widest - 1) * SIBLING_GAP;
    double span_along = MARGIN * 2 + layers * box_along + max_depth * gap_along;
    for (int i = 0; i < n; i++) {
        double layer_span = layer_size[depth[i]] * box_across + (layer_size[depth[i]] - 1) * SIBLING_GAP;
        double along = MARGIN + depth[i] * (box_along + gap_along);
        double across = (span_across - layer_span) / 2 + slot[i] * (box_across + SIBLING_GAP);
        l->x[i] = l->vertical ? across : along;
        l->y[i] = l->vertical ? along : across;
    }
    l->width = l->vertical ? span_across : span_along;
    l->height = l->vertical ? span_along : span_across;
    free(layer_size);
    free(order);
    free(slot);
    free(depth);
}

void sl_graph_layout_free(sl_graph_layout *l)
{
    free(l->x);
    free(l->y);
    free(l->in_count);
}
