/* graph.c — turns each component's `inputs:` into edges and checks the DAG.
 *
 * Resolution looks every input up by name ("name" or "name.output") and
 * reports what cannot be an edge. The order is Kahn's algorithm with a
 * min-heap of ready vertices, so that among components free to go, the one
 * declared first comes first: the same file always gives the same order.
 * Vertices Kahn cannot reach lie on or behind a cycle; every one of them still
 * has a predecessor that was not reached, so following predecessors from one
 * of them must loop, and that loop is the cycle reported (once per cycle,
 * starting from its first-declared component).
 *
 * When resolution reports an error, `out` is left empty (nothing to free).
 */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

#define SHOW 64    /* longest input text quoted in a message */

typedef struct name_entry {
    const char *name;
    int index;
} name_entry;

typedef struct resolver {
    const sl_graph_vertex *v;
    size_t n;
    sl_diag *diag;
    name_entry *by_name;        /* sorted by name */
    const char **names;         /* declaration order, for suggestions */
    sl_edge *edges;
    size_t *edge_input;         /* the input index each edge came from */
    size_t n_edges, cap_edges;
    bool *used;                 /* named by some input, even a faulty one */
} resolver;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static int compare_names(const void *pa, const void *pb)
{
    const name_entry *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* The first-declared vertex named s[0..len), or -1. */
static int find(const resolver *r, const char *s, size_t len)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = r->by_name[mid].name;
        int c = strncmp(name, s, len);
        if (c == 0 && name[len] != '\0')
            c = 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->n && strncmp(r->by_name[lo].name, s, len) == 0 && r->by_name[lo].name[len] == '\0')
        return r->by_name[lo].index;
    return -1;
}

static const char *kind_name(sl_decl_kind k)
{
    return k == SL_DECL_SOURCE ? "source" : k == SL_DECL_TRANSFORM ? "transform" : "sink";
}

/* "route.a, route._unmatched" */
static void list_outputs(const sl_graph_vertex *v, sl_buf *out)
{
    for (int i = 0; i < v->n_outputs; i++)
        sl_buf_printf(out, "%s%s.%s", i ? ", " : "", v->name, v->outputs[i]);
    sl_buf_putc(out, '\0');
}

static void add_edge(resolver *r, int from, int output, int to, size_t input)
{
    if (r->n_edges == r->cap_edges) {
        r->cap_edges = r->cap_edges ? r->cap_edges * 2 : 16;
        r->edges = realloc(r->edges, r->cap_edges * sizeof *r->edges);
        r->edge_input = realloc(r->edge_input, r->cap_edges * sizeof *r->edge_input);
        if (!r->edges || !r->edge_input)
            abort();
    }
    r->edge_input[r->n_edges] = input;
    r->edges[r->n_edges++] = (sl_edge){ from, output, to };
}

/* Resolves input j of vertex i into an edge, or reports why it cannot be. */
static void resolve_input(resolver *r, int i, size_t j, size_t first_edge)
{
    const sl_graph_vertex *to = &r->v[i];
    const char *text = to->inputs[j];
    sl_pos pos = to->input_pos ? to->input_pos[j] : to->pos;
    const char *dot = strchr(text, '.');
    size_t name_len = dot ? (size_t)(dot - text) : strlen(text);
    int k = find(r, text, name_len);
    if (k < 0) {
        char *name = strndup(text, name_len);
        if (!name)
            abort();
        const char *guess = sl_did_you_mean(name, r->names, r->n);
        if (guess)   /* a typo is no reason to also call the intended one unused */
            r->used[find(r, guess, strlen(guess))] = true;
        sl_diag_error(r->diag, pos, "unknown input '%.*s' for %s '%s'%s%s%s", SHOW, text,
                      kind_name(to->kind), to->name, guess ? "; did you mean '" : "",
                      guess ? guess : "", guess ? "'?" : "");
        free(name);
        return;
    }
    const sl_graph_vertex *from = &r->v[k];
    r->used[k] = true;
    if (from->kind == SL_DECL_SINK) {
        sl_diag_error(r->diag, pos, "input '%.*s' of %s '%s' is a sink; a sink has no output to read",
                      SHOW, text, kind_name(to->kind), to->name);
        return;
    }
    int output = 0;
    sl_buf list;
    sl_buf_init(&list);
    if (dot && from->n_outputs == 0) {
        sl_diag_error(r->diag, pos, "%s '%s' has no named outputs; use '%s' as the input",
                      kind_name(from->kind), from->name, from->name);
        output = -1;
    } else if (dot) {
        output = -1;
        for (int o = 0; o < from->n_outputs && output < 0; o++)
            if (strcmp(from->outputs[o], dot + 1) == 0)
                output = o;
        if (output < 0) {
            list_outputs(from, &list);
            sl_diag_error(r->diag, pos, "%s '%s' has no output '%.*s'; its outputs are %s",
                          kind_name(from->kind), from->name, SHOW, dot + 1, list.data);
        }
    } else if (from->n_outputs > 0) {
        list_outputs(from, &list);
        sl_diag_error(r->diag, pos, "%s '%s' has named outputs; use one of %s as the input",
                      kind_name(from->kind), from->name, list.data);
        output = -1;
    }
    sl_buf_free(&list);
    if (output < 0)
        return;
    for (size_t e = first_edge; e < r->n_edges; e++) {
        if (r->edges[e].from == k && r->edges[e].from_output == output) {
            sl_diag_error(r->diag, pos, "input '%.*s' is listed twice for %s '%s'", SHOW, text,
                          kind_name(to->kind), to->name);
            return;
        }
    }
    add_edge(r, k, output, i, j);
}

/* ---- order ---- */

typedef struct heap {
    int *items;
    size_t len;
} heap;

static void heap_push(heap *h, int x)
{
    size_t i = h->len++;
    while (i > 0 && h->items[(i - 1) / 2] > x) {
        h->items[i] = h->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->items[i] = x;
}

static int heap_pop(heap *h)
{
    int top = h->items[0], last = h->items[--h->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && h->items[c + 1] < h->items[c])
            c++;
        if (h->items[c] >= last)
            break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (h->len > 0)
        h->items[i] = last;
    return top;
}

/* Kahn's algorithm; returns the number of vertices ordered. */
static size_t topo_order(const resolver *r, int *order)
{
    size_t n = r->n;
    size_t *indeg = calloc(n + 1, sizeof *indeg);
    size_t *out_start = calloc(n + 1, sizeof *out_start);   /* CSR of outgoing edges */
    int *out_to = xmalloc(r->n_edges * sizeof *out_to);
    heap h = { xmalloc(n * sizeof *h.items), 0 };
    if (!indeg || !out_start)
        abort();
    for (size_t e = 0; e < r->n_edges; e++) {
        indeg[r->edges[e].to]++;
        out_start[r->edges[e].from + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        out_start[i + 1] += out_start[i];
    size_t *fill = xmalloc((n + 1) * sizeof *fill);
    memcpy(fill, out_start, (n + 1) * sizeof *fill);
    for (size_t e = 0; e < r->n_edges; e++)
        out_to[fill[r->edges[e].from]++] = r->edges[e].to;
    free(fill);

    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            heap_push(&h, (int)i);
    size_t count = 0;
    while (h.len > 0) {
        int u = heap_pop(&h);
        order[count++] = u;
        for (size_t e = out_start[u]; e < out_start[u + 1]; e++)
            if (--indeg[out_to[e]] == 0)
                heap_push(&h, out_to[e]);
    }
    free(h.items);
    free(out_to);
    free(out_start);
    free(indeg);
    return count;
}

/* Reports each cycle among the vertices that Kahn's algorithm left out. */
static void report_cycles(const resolver *r, const int *order, size_t n_order, const size_t *in_start)
{
    size_t n = r->n;
    bool *left = xmalloc(n * sizeof *left);
    int *pred = xmalloc(n * sizeof *pred);
    size_t *pred_edge = xmalloc(n * sizeof *pred_edge);
    long *walk = calloc(n ? n : 1, sizeof *walk);     /* 0 unseen, >0 walk id, -1 done */
    int *cycle = xmalloc(n * sizeof *cycle);
    if (!walk)
        abort();
    for (size_t i = 0; i < n; i++)
        left[i] = true;
    for (size_t i = 0; i < n_order; i++)
        left[order[i]] = false;
    /* each left-out vertex: its first-declared left-out predecessor */
    for (size_t u = 0; u < n; u++) {
        pred[u] = -1;
        for (size_t e = in_start[u]; left[u] && e < in_start[u + 1]; e++) {
            int from = r->edges[e].from;
            if (left[from] && (pred[u] < 0 || from < pred[u])) {
                pred[u] = from;
                pred_edge[u] = e;
            }
        }
    }
    sl_buf msg;
    sl_buf_init(&msg);
    for (size_t s = 0; s < n; s++) {
        if (!left[s] || walk[s] != 0)
            continue;
        long id = (long)s + 1;
        int u = (int)s;
        while (walk[u] == 0) {
            walk[u] = id;
            u = pred[u];
        }
        if (walk[u] == id) {
            /* predecessors run against the data flow: reverse them */
            size_t len = 0;
            int c = u;
            do {
                cycle[len++] = c;
                c = pred[c];
            } while (c != u);
            size_t first = 0;
            for (size_t k = 1; k < len; k++)
                if (cycle[k] < cycle[first])
                    first = k;
            msg.len = 0;
            sl_buf_puts(&msg, "cycle: ");
            for (size_t k = 0; k <= len; k++) {
                int x = cycle[(first + len - k % len) % len];
                sl_buf_printf(&msg, "%s%s", k ? " -> " : "", r->v[x].name);
            }
            int start = cycle[first];
            const sl_graph_vertex *sv = &r->v[start];
            size_t input = r->edge_input[pred_edge[start]];
            sl_diag_error(r->diag, sv->input_pos ? sv->input_pos[input] : sv->pos, "%.*s",
                          (int)msg.len, msg.data);
        }
        for (u = (int)s; walk[u] == id; u = pred[u])
            walk[u] = -1;
    }
    sl_buf_free(&msg);
    free(cycle);
    free(walk);
    free(pred_edge);
    free(pred);
    free(left);
}

int sl_graph_resolve(const sl_graph_vertex *v, size_t n, sl_graph *out, sl_diag *diag)
{
    memset(out, 0, sizeof *out);
    size_t errors_before = diag->errors;
    resolver r = { .v = v, .n = n, .diag = diag };
    r.by_name = xmalloc(n * sizeof *r.by_name);
    r.names = xmalloc(n * sizeof *r.names);
    for (size_t i = 0; i < n; i++) {
        r.by_name[i] = (name_entry){ v[i].name, (int)i };
        r.names[i] = v[i].name;
    }
    qsort(r.by_name, n, sizeof *r.by_name, compare_names);
    r.used = calloc(n ? n : 1, sizeof *r.used);
    if (!r.used)
        abort();

    size_t *in_start = xmalloc((n + 1) * sizeof *in_start);  /* edges to i: in_start[i] .. [i+1] */
    for (size_t i = 0; i < n; i++) {
        in_start[i] = r.n_edges;
        const sl_graph_vertex *x = &v[i];
        if (x->kind == SL_DECL_SOURCE && x->n_inputs > 0) {
            sl_diag_error(diag, x->input_pos ? x->input_pos[0] : x->pos,
                          "source '%s' cannot have inputs: sources read from outside the pipeline", x->name);
            continue;
        }
        if (x->kind != SL_DECL_SOURCE && x->n_inputs == 0 && !x->inputs_optional) {
            sl_diag_error(diag, x->pos, "%s '%s' has no inputs: add 'inputs: [...]' naming the "
                          "components it reads from", kind_name(x->kind), x->name);
            continue;
        }
        for (size_t j = 0; j < x->n_inputs; j++)
            resolve_input(&r, (int)i, j, in_start[i]);
    }
    in_start[n] = r.n_edges;

    int *order = xmalloc(n * sizeof *order);
    size_t n_order = topo_order(&r, order);
    if (n_order < n)
        report_cycles(&r, order, n_order, in_start);

    for (size_t i = 0; i < n; i++)
        if (v[i].kind == SL_DECL_TRANSFORM && !r.used[i])
            sl_diag_warning(diag, v[i].pos, "transform '%s' is not used by any sink or transform", v[i].name);
    free(r.used);
    free(in_start);
    free(r.by_name);
    free(r.names);
    free(r.edge_input);

    if (diag->errors > errors_before) {
        free(r.edges);
        free(order);
        return -1;
    }
    out->edges = r.edges;
    out->n_edges = r.n_edges;
    out->order = order;
    out->n_order = n_order;
    return 0;
}

void sl_graph_free(sl_graph *g)
{
    free(g->edges);
    free(g->order);
    memset(g, 0, sizeof *g);
}
