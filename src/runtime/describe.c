/* describe.c — the pipeline seen from outside while it runs: component
 * state as JSON (/stats, the report), Prometheus text (/metrics), and the
 * list of components and edges (the report's graph).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *sl_sink_delivery(const sl_pipeline *p, const sl_component *c)
{
    char why[256];
    if (sl_checkpoints_off_reason(p, why, sizeof why)) return "none";
    return c->delivery == SL_DELIVERY_EXACTLY_ONCE ? "exactly-once" : "at-least-once";
}

void sl_pipeline_delivery_line(const sl_pipeline *p, FILE *out)
{
    fprintf(out, "delivery across crashes:");
    for (int i = 0; i < p->n_sinks; i++)
        fprintf(out, "%s %s %s", i ? "," : "", p->sinks[i].c->name, sl_sink_delivery(p, p->sinks[i].c));
    char why[256];
    fprintf(out, "%s\n", sl_checkpoints_off_reason(p, why, sizeof why) ? " (checkpoints are off)" : "");
}

void sl_pipeline_delivery_json(const sl_pipeline *p, sl_buf *json)
{
    sl_buf_putc(json, '{');
    for (int i = 0; i < p->n_sinks; i++) {
        const sl_component *c = p->sinks[i].c;
        if (i) sl_buf_putc(json, ',');
        sl_json_encode_string(json, c->name, strlen(c->name));
        sl_buf_printf(json, ":\"%s\"", sl_sink_delivery(p, c));
    }
    sl_buf_putc(json, '}');
}

/* One metric family of the components' own metrics: its HELP/TYPE lines
 * once, then every component's samples. */
typedef struct family {
    char name[128];
    sl_buf header, samples;
} family;

static family *find_family(family **fams, size_t *n, size_t *cap, const char *name, size_t len)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen((*fams)[i].name) == len && memcmp((*fams)[i].name, name, len) == 0)
            return &(*fams)[i];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *fams = realloc(*fams, *cap * sizeof **fams);
        if (!*fams)
            abort();
    }
    family *f = &(*fams)[(*n)++];
    snprintf(f->name, sizeof f->name, "%.*s", (int)(len < 127 ? len : 127), name);
    sl_buf_init(&f->header);
    sl_buf_init(&f->samples);
    return f;
}

/* Several components of one type each write the same families, but the
 * exposition format wants a family's HELP and TYPE once and its samples
 * together. Each component writes HELP/TYPE before its samples, so a sample
 * belongs to the family named by the last HELP/TYPE line before it. */
static void group_families(const char *text, size_t len, sl_buf *out)
{
    family *fams = NULL, *current = NULL;
    size_t n = 0, cap = 0;
    for (const char *line = text, *end = text + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t line_len = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        if (line_len > 7 && (memcmp(line, "# HELP ", 7) == 0 || memcmp(line, "# TYPE ", 7) == 0)) {
            const char *name = line + 7;
            size_t name_len = strcspn(name, " \n");
            current = find_family(&fams, &n, &cap, name, name_len);
            if (!memmem(current->header.data ? current->header.data : "", current->header.len, line, 7))
                sl_buf_append(&current->header, line, line_len);
        } else if (current) {
            sl_buf_append(&current->samples, line, line_len);
        } else {
            sl_buf_append(out, line, line_len);
        }
        line += line_len;
    }
    for (size_t i = 0; i < n; i++) {
        if (fams[i].header.len)
            sl_buf_append(out, fams[i].header.data, fams[i].header.len);
        if (fams[i].samples.len)
            sl_buf_append(out, fams[i].samples.data, fams[i].samples.len);
        sl_buf_free(&fams[i].header);
        sl_buf_free(&fams[i].samples);
    }
    free(fams);
}

void sl_pipeline_prometheus(sl_pipeline *p, sl_buf *out)
{
    sl_metrics_render_prometheus(p->metrics, out);
    sl_buf own;
    sl_buf_init(&own);
    sl_sink_retry_prometheus(p, &own);
    sl_dlq_prometheus(p->dlq, &own);
    sl_checkpoints_prometheus(p, &own);
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (c->type->metrics)
            c->type->metrics(c, &own);
    }
    if (own.len)
        group_families(own.data, own.len, out);
    sl_buf_free(&own);
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
