/* graph.h — resolves `inputs:` into edges and checks the DAG.
 *
 * Reports, each at the position of the offending input or component:
 * unknown inputs (with "did you mean"), inputs naming a sink, a route output
 * that does not exist ("route.missing"), a source with inputs, a transform or
 * sink without inputs, cycles (naming the components on the cycle), and
 * components whose output nobody consumes (a warning for transforms; sources
 * and sinks are ends).
 */
#ifndef SL_GRAPH_H
#define SL_GRAPH_H

#include <stddef.h>

#include "config.h"
#include "diag.h"

typedef struct sl_graph_vertex {
    const char *name;
    sl_decl_kind kind;
    sl_pos pos;
    const char *const *outputs;  /* named outputs, or NULL for one default output */
    int n_outputs;
    char *const *inputs;
    const sl_pos *input_pos;
    size_t n_inputs;
    bool inputs_optional;        /* a sink the runtime feeds (a fallback) may have none */
} sl_graph_vertex;

typedef struct sl_edge {
    int from;         /* vertex index */
    int from_output;  /* 0 for the default output, else named output index */
    int to;           /* vertex index */
} sl_edge;

typedef struct sl_graph {
    sl_edge *edges;
    size_t n_edges;
    int *order;       /* vertex indices in topological order */
    size_t n_order;
} sl_graph;

/* Returns 0, or -1 when there were errors (reported to diag). */
int sl_graph_resolve(const sl_graph_vertex *v, size_t n, sl_graph *out, sl_diag *diag);
void sl_graph_free(sl_graph *g);

#endif
