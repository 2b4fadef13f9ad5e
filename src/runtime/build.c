/* build.c — turns a loaded configuration into a pipeline ready to run.
 *
 * For every declared component: find its type (an unknown type is reported
 * at the `type:` key with "did you mean"), check its options against the
 * type's schema, and create it. Then resolve `inputs:` into the DAG and
 * compile the DAG into the flat per-batch plan the workers replay (see
 * pipeline_internal.h). Every problem is reported to diag, and building
 * carries on after errors so that `sluice check` shows them all at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"
#include "pipeline_internal.h"

#define DEFAULT_MEMORY_LIMIT (256ull << 20)
#define DEFAULT_BATCH_RECORDS 1024
#define DEFAULT_BATCH_BYTES (1u << 20)
#define SOURCE_QUEUE_PER_WORKER 2
#define SINK_QUEUE_PAYLOADS 4

typedef const sl_component_type *const *(*type_list_fn)(sl_kind kind);

static sl_kind kind_of(sl_decl_kind k)
{
    switch (k) {
    case SL_DECL_SOURCE: return SL_SOURCE;
    case SL_DECL_TRANSFORM: return SL_TRANSFORM;
    case SL_DECL_SINK: return SL_SINK;
    }
    return SL_SOURCE;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

/* Finds the type, or reports it unknown with a suggestion or the list of
 * known types. */
static const sl_component_type *find_type(type_list_fn types, const sl_component_decl *d, sl_diag *diag)
{
    sl_kind kind = kind_of(d->kind);
    const sl_component_type *const *list = types(kind);
    size_t n = 0;
    while (list && list[n]) {
        if (strcmp(list[n]->name, d->type) == 0) return list[n];
        n++;
    }
    const char **names = xcalloc(n, sizeof *names);
    sl_buf known;
    sl_buf_init(&known);
    for (size_t i = 0; i < n; i++) {
        names[i] = list[i]->name;
        sl_buf_printf(&known, "%s%s", i ? ", " : "", names[i]);
    }
    const char *guess = sl_did_you_mean(d->type, names, n);
    if (guess)
        sl_diag_error(diag, d->type_pos, "unknown %s type '%s' (did you mean '%s'?)",
                      sl_kind_name(kind), d->type, guess);
    else
        sl_diag_error(diag, d->type_pos, "unknown %s type '%s' (known %s types: %s)",
                      sl_kind_name(kind), d->type, sl_kind_name(kind), n ? known.data : "none");
    sl_buf_free(&known);
    free(names);
    return NULL;
}

/* Creates component i; returns true when it was created. */
static bool create_component(sl_pipeline *p, const sl_component_decl *d, int i,
                             type_list_fn types, sl_diag *diag)
{
    sl_component *c = &p->comps[i];
    c->name = xstrdup(d->name);
    c->kind = kind_of(d->kind);
    c->index = i;
    c->pos = d->node ? d->node->pos : d->type_pos;
    if (!d->type) return false;          /* the config loader reported it */
    c->type = find_type(types, d, diag);
    if (!c->type) return false;
    c->metrics = sl_metrics_add(p->metrics, c->name, sl_kind_name(c->kind), c->type->name);

    size_t errors_before = diag->errors;
    if (c->kind == SL_SINK && d->node && d->node->kind == SL_NODE_MAP) {
        /* The retry options are the runtime's: each schema sees its own keys. */
        sl_node own = *d->node, retry = *d->node;
        own.pairs = xcalloc(d->node->n_pairs, sizeof *own.pairs);
        retry.pairs = xcalloc(d->node->n_pairs, sizeof *retry.pairs);
        own.n_pairs = retry.n_pairs = 0;
        for (size_t k = 0; k < d->node->n_pairs; k++) {
            const sl_node_pair *pair = &d->node->pairs[k];
            if (sl_sink_retry_key(pair->key->text)) retry.pairs[retry.n_pairs++] = *pair;
            else own.pairs[own.n_pairs++] = *pair;
        }
        p->retry_opts[i] = sl_opts_resolve(sl_sink_retry_options, &retry, diag);
        c->opts = sl_opts_resolve(c->type->options, &own, diag);
        free(own.pairs);
        free(retry.pairs);
    } else {
        if (c->kind == SL_SINK) p->retry_opts[i] = sl_opts_resolve(sl_sink_retry_options, NULL, diag);
        c->opts = sl_opts_resolve(c->type->options, d->node, diag);
    }
    /* Options that failed to parse would only make create report the same
     * problem again, in other words. */
    if (diag->errors > errors_before) return false;
    if (c->type->create(c, c->opts, diag) == 0) return true;
    if (diag->errors == errors_before)
        sl_diag_error(diag, c->pos, "%s '%s' (type %s) could not be created",
                      sl_kind_name(c->kind), c->name, c->type->name);
    return false;
}

static int resolve_graph(sl_pipeline *p, const sl_config *cfg, sl_diag *diag)
{
    sl_graph_vertex *v = xcalloc(cfg->n_decls, sizeof *v);
    for (size_t i = 0; i < cfg->n_decls; i++) {
        const sl_component_decl *d = &cfg->decls[i];
        v[i].name = d->name;
        v[i].kind = d->kind;
        v[i].pos = p->comps[i].pos;
        v[i].outputs = p->comps[i].outputs;
        v[i].n_outputs = p->comps[i].n_outputs;
        v[i].inputs = d->inputs;
        v[i].input_pos = d->input_pos;
        v[i].n_inputs = d->n_inputs;
        v[i].inputs_optional = sl_sink_retry_is_fallback(p, d->name);
    }
    int rc = sl_graph_resolve(v, cfg->n_decls, &p->graph, diag);
    free(v);
    return rc;
}

void sl_pipeline_reached(const sl_pipeline *p, int from, bool *seen)
{
    int *stack = xcalloc(p->n_comps, sizeof *stack);
    int top = 0;
    stack[top++] = from;
    seen[from] = true;
    while (top > 0) {
        int v = stack[--top];
        for (size_t e = 0; e < p->graph.n_edges; e++) {
            int to = p->graph.edges[e].to;
            if (p->graph.edges[e].from == v && !seen[to]) {
                seen[to] = true;
                stack[top++] = to;
            }
        }
    }
    free(stack);
}

/* Counts the sinks reachable from vertex `from` (each once). */
static int count_sinks_reached(const sl_pipeline *p, int from)
{
    bool *seen = xcalloc(p->n_comps, sizeof *seen);
    sl_pipeline_reached(p, from, seen);
    int sinks = 0;
    for (int v = 0; v < p->n_comps; v++)
        sinks += seen[v] && p->comps[v].kind == SL_SINK;
    free(seen);
    return sinks;
}

/* Compiles the graph into the per-batch plan and the per-source and
 * per-sink runtime records. */
static void make_plan(sl_pipeline *p)
{
    int n = p->n_comps;
    p->vplan = xcalloc(n, sizeof *p->vplan);
    for (int v = 0; v < n; v++) {
        sl_vertex_plan *vp = &p->vplan[v];
        vp->n_outputs = p->comps[v].n_outputs > 0 ? p->comps[v].n_outputs : 1;
        vp->slot = p->n_slots;
        p->n_slots += vp->n_outputs;
        vp->source = p->comps[v].kind == SL_SOURCE ? p->n_sources++ : -1;
        vp->sink = p->comps[v].kind == SL_SINK ? p->n_sinks++ : -1;
    }
    p->splan = xcalloc(p->n_slots, sizeof *p->splan);
    for (size_t e = 0; e < p->graph.n_edges; e++) {
        const sl_edge *edge = &p->graph.edges[e];
        if (edge->from_output < 0 || edge->from_output >= p->vplan[edge->from].n_outputs) {
            fprintf(stderr, "sluice: internal error: edge from output %d of '%s'\n",
                    edge->from_output, p->comps[edge->from].name);
            abort();
        }
        p->vplan[edge->to].n_in_edges++;
        p->splan[p->vplan[edge->from].slot + edge->from_output].n_edges++;
    }
    for (int v = 0; v < n; v++) {
        p->vplan[v].in_edges = xcalloc(p->vplan[v].n_in_edges, sizeof(int));
        p->vplan[v].n_in_edges = 0;
    }
    for (int s = 0; s < p->n_slots; s++) {
        p->splan[s].edges = xcalloc(p->splan[s].n_edges, sizeof(int));
        p->splan[s].n_edges = 0;
    }
    for (int s = 0; s < p->n_slots; s++) p->splan[s].shared = true;
    for (size_t e = 0; e < p->graph.n_edges; e++) {
        const sl_edge *edge = &p->graph.edges[e];
        sl_vertex_plan *to = &p->vplan[edge->to];
        to->in_edges[to->n_in_edges++] = (int)e;
        sl_slot_plan *sp = &p->splan[p->vplan[edge->from].slot + edge->from_output];
        sp->edges[sp->n_edges++] = (int)e;
        if (p->comps[edge->to].kind != SL_SINK) {
            sp->shared = false;
            p->vplan[edge->from].separate = p->vplan[edge->from].n_outputs > 1;
        }
    }

    p->sources = xcalloc(p->n_sources, sizeof *p->sources);
    p->sinks = xcalloc(p->n_sinks, sizeof *p->sinks);
    for (int v = 0; v < n; v++) {
        if (p->vplan[v].source >= 0) {
            sl_source_ctx *s = &p->sources[p->vplan[v].source];
            s->p = p;
            s->c = &p->comps[v];
            s->sinks_reached = count_sinks_reached(p, v);
            p->vplan[v].check_only = sl_records_unread(p, v);
            sl_sequencer_init(s);
        }
        if (p->vplan[v].sink >= 0) {
            sl_sink_rt *s = &p->sinks[p->vplan[v].sink];
            s->p = p;
            s->c = &p->comps[v];
            s->queue = sl_queue_new(SINK_QUEUE_PAYLOADS, 0);
        }
    }
}

/* No component may turn checkpoints off without being asked: one that
 * cannot take part is an error, unless the config opts out with
 * `checkpoint.required: false` or `checkpoint.enabled: false` (docs/delivery.md). */
static void require_checkpoints(const sl_pipeline *p, const sl_config *cfg, const bool *created, sl_diag *diag)
{
    if (!cfg->checkpoint_enabled || !cfg->checkpoint_required) return;
    for (int i = 0; i < p->n_comps; i++) {
        const sl_component *c = &p->comps[i];
        const char *why = created[i] ? sl_checkpoint_blocker(c) : NULL;
        if (why)
            sl_diag_error(diag, c->pos, "%s '%s' (%s) cannot take part in checkpoints: %s. It would turn them off "
                          "for the whole pipeline (a crash would then lose or repeat records in every sink); to "
                          "accept that, set 'checkpoint: {required: false}'", sl_kind_name(c->kind), c->name,
                          c->type->name, why);
    }
}

/* memory_limit bounds the process's resident memory, not only the data in
 * flight: the budget gets three quarters of it, and the last quarter is
 * for what the budget does not count (the program and its threads, the
 * sinks' and transforms' own tables, and memory the allocator holds freed
 * but not yet returned). With the whole limit as budget, a sink that
 * stalls (a checkpoint publishing a thousand files) let the budget fill
 * to the limit and the process pass it by the rest. */
static uint64_t data_share(uint64_t memory_limit)
{
    return memory_limit - memory_limit / 4;
}

static void apply_settings(sl_pipeline *p, const sl_config *cfg)
{
    p->workers = cfg->workers;
    if (p->workers <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        p->workers = cpus > 0 ? (int)cpus : 1;
    }
    p->memory_limit = cfg->memory_limit ? cfg->memory_limit : DEFAULT_MEMORY_LIMIT;
    p->batch_records = cfg->batch_max_records ? cfg->batch_max_records : DEFAULT_BATCH_RECORDS;
    p->batch_bytes = cfg->batch_max_bytes ? cfg->batch_max_bytes : DEFAULT_BATCH_BYTES;

    p->data_dir = strdup(cfg->data_dir ? cfg->data_dir : ".sluice");
    if (!p->data_dir) abort();
    sl_checkpoints_init(p, cfg->path, p->data_dir, cfg->checkpoint_enabled,
                        cfg->checkpoint_interval_ms ? cfg->checkpoint_interval_ms : 1000);
    sl_budget_init(&p->budget, data_share(p->memory_limit));
    for (int i = 0; i < p->n_comps; i++) p->comps[i].budget = &p->budget;
    p->batches = sl_queue_new((size_t)p->workers * SOURCE_QUEUE_PER_WORKER, 0);
    char dir[4096];
    if (cfg->dlq_path)
        snprintf(dir, sizeof dir, "%s", cfg->dlq_path);
    else
        snprintf(dir, sizeof dir, "%s/dlq", cfg->data_dir ? cfg->data_dir : ".sluice");
    p->dlq = sl_dlq_new(dir, p->metrics, &p->stopping);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->changed, &attr);
    pthread_condattr_destroy(&attr);
}

sl_pipeline *sl_pipeline_build_with(const sl_config *cfg, const sl_component_type *const *(*types)(sl_kind kind),
                                    sl_diag *diag)
{
    sl_pipeline *p = xcalloc(1, sizeof *p);
    p->n_comps = (int)cfg->n_decls;
    p->comps = xcalloc(cfg->n_decls, sizeof *p->comps);
    p->retry_opts = xcalloc(cfg->n_decls, sizeof *p->retry_opts);
    p->metrics = sl_metrics_new();
    bool *created = xcalloc(cfg->n_decls, sizeof *created);
    bool all_created = true;
    for (size_t i = 0; i < cfg->n_decls; i++) {
        created[i] = create_component(p, &cfg->decls[i], (int)i, types, diag);
        all_created = all_created && created[i];
    }
    int graph_rc = resolve_graph(p, cfg, diag);
    sl_sink_retry_check(p, diag);
    require_checkpoints(p, cfg, created, diag);

    if (!all_created || graph_rc < 0 || sl_diag_has_errors(diag)) {
        for (size_t i = 0; i < cfg->n_decls; i++)
            if (!created[i]) p->comps[i].type = NULL;   /* nothing to destroy */
        free(created);
        sl_pipeline_free(p);
        return NULL;
    }
    free(created);
    make_plan(p);
    sl_sink_retry_init(p);
    apply_settings(p, cfg);
    return p;
}

sl_pipeline *sl_pipeline_build(const sl_config *cfg, sl_diag *diag)
{
    return sl_pipeline_build_with(cfg, sl_registry_list, diag);
}

void sl_pipeline_free(sl_pipeline *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (c->type && c->type->destroy) c->type->destroy(c);
        if (c->opts) sl_opts_free(c->opts);
        if (p->retry_opts && p->retry_opts[i]) sl_opts_free(p->retry_opts[i]);
        free(c->name);
    }
    free(p->retry_opts);
    sl_checkpoints_free(p);
    free(p->data_dir);
    for (int i = 0; i < p->n_sources; i++) sl_sequencer_destroy(&p->sources[i]);
    for (int i = 0; i < p->n_sinks; i++) sl_queue_free(p->sinks[i].queue);
    if (p->vplan)
        for (int v = 0; v < p->n_comps; v++) free(p->vplan[v].in_edges);
    if (p->splan)
        for (int s = 0; s < p->n_slots; s++) free(p->splan[s].edges);
    if (p->batches) {     /* settings were applied */
        sl_queue_free(p->batches);
        sl_budget_destroy(&p->budget);
        sl_dlq_free(p->dlq);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->changed);
    }
    free(p->vplan);
    free(p->splan);
    free(p->sources);
    free(p->sinks);
    free(p->comps);
    sl_graph_free(&p->graph);
    sl_metrics_free(p->metrics);
    free(p);
}

sl_metrics *sl_pipeline_metrics(sl_pipeline *p)
{
    return p->metrics;
}

uint64_t sl_pipeline_memory_peak(sl_pipeline *p)
{
    return sl_budget_peak(&p->budget);
}
