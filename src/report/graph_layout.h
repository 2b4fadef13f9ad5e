/* graph_layout.h — where the report draws each component of the pipeline
 * (internal to src/report/).
 *
 * Components are placed in layers by their longest path from a source
 * (sinks all in the last layer), and within a layer ordered by the mean
 * position of their predecessors, which keeps most edges from crossing.
 * Layers run left to right while the drawing stays within
 * SL_GRAPH_MAX_WIDTH; a longer pipeline is drawn top to bottom instead, so
 * the graph fits the report's card at any window width (the SVG is then
 * scaled to the card, never cut off).
 */
#ifndef SL_REPORT_GRAPH_LAYOUT_H
#define SL_REPORT_GRAPH_LAYOUT_H

#include <stdbool.h>

#include "../runtime/pipeline.h"

#define SL_GRAPH_BOX_W 158
#define SL_GRAPH_BOX_H 64
#define SL_GRAPH_MAX_WIDTH 900   /* wider left-to-right drawings are turned top to bottom */

typedef struct sl_graph_layout {
    int n;              /* components */
    double *x, *y;      /* top-left corner of each component's box */
    int *in_count;      /* edges arriving at each component */
    double width, height;
    bool vertical;      /* layers run top to bottom */
} sl_graph_layout;

/* Lays out p's components (p has at least one). Aborts on allocation
 * failure, like the rest of the report. */
void sl_graph_layout_compute(sl_pipeline *p, sl_graph_layout *out);
void sl_graph_layout_free(sl_graph_layout *l);

#endif
