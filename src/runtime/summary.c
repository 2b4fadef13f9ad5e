/* summary.c — the report printed at the end of a batch run:
 *
 *   component  kind       type    in      out     dlq
 *   events     source     file    10000   9998    2
 *   keep       transform  filter  9998    5120    0
 *   out        sink       file    5120    5120    0
 *
 *   DLQ by reason:
 *     events  json_syntax  2
 *
 *   input 3.7 MiB in 0.21 s: 18.6 MB/s, 47619 records/s; peak memory 2.1 MiB of 256.0 MiB
 *   DLQ: 2 entries in .sluice/p/dlq/dlq.jsonl
 *
 * For a source, in = records read and out = records decoded; for a
 * transform, what it received and emitted (the rest was dropped on purpose
 * or sent to the DLQ); for a sink, records encoded and records written.
 *
 * A run that resumed from a checkpoint and found nothing new to read (a
 * finished batch job run again) says so instead of printing a table of
 * zeros:
 *
 *   nothing new since checkpoint 12 of 2026-11-24T01:02:03Z: ...
 */
#include <stdio.h>
#include <string.h>

#include "../core/util.h"
#include "pipeline_internal.h"

static uint64_t dlq_total(sl_component_metrics *m)
{
    uint64_t n = 0;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < SL_MAX_REASONS; i++) n += m->dlq[i].count;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void print_table(sl_pipeline *p, FILE *out)
{
    int wname = (int)strlen("component"), wtype = (int)strlen("type");
    for (int i = 0; i < p->n_comps; i++) {
        wname = max_int(wname, (int)strlen(p->comps[i].name));
        wtype = max_int(wtype, (int)strlen(p->comps[i].type->name));
    }
    fprintf(out, "%-*s  %-9s  %-*s  %12s  %12s  %10s\n", wname, "component", "kind", wtype, "type",
            "in", "out", "dlq");
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        sl_component_metrics *m = c->metrics;
        fprintf(out, "%-*s  %-9s  %-*s  %12llu  %12llu  %10llu\n", wname, c->name, sl_kind_name(c->kind),
                wtype, c->type->name, (unsigned long long)atomic_load(&m->received_events),
                (unsigned long long)atomic_load(&m->sent_events), (unsigned long long)dlq_total(m));
    }
}

static void print_dlq_reasons(sl_pipeline *p, FILE *out)
{
    bool header = false;
    for (int i = 0; i < p->n_comps; i++) {
        sl_component_metrics *m = p->comps[i].metrics;
        pthread_mutex_lock(&m->lock);
        for (int r = 0; r < SL_MAX_REASONS; r++) {
            if (m->dlq[r].count == 0) continue;
            if (!header) fprintf(out, "\nDLQ by reason:\n");
            header = true;
            fprintf(out, "  %-20s  %-24s  %llu\n", p->comps[i].name, m->dlq[r].reason,
                    (unsigned long long)m->dlq[r].count);
        }
        pthread_mutex_unlock(&m->lock);
    }
}

void sl_pipeline_summary(sl_pipeline *p, FILE *out)
{
    if (p->wall_ns == 0) return;   /* it never started (data_dir in use, ...): nothing to show */
    uint64_t bytes = 0, records = 0;
    for (int i = 0; i < p->n_sources; i++) {
        sl_component_metrics *m = p->sources[i].c->metrics;
        bytes += atomic_load(&m->received_bytes);
        records += atomic_load(&m->received_events);
    }
    uint64_t epoch;
    const char *when;
    pthread_mutex_lock(&p->lock);
    bool failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    if (bytes == 0 && records == 0 && !failed && sl_checkpoints_resumed(p, &epoch, &when)) {
        fprintf(out, "nothing new since checkpoint %llu of %s: every input had been processed by then, and "
                "its output is in place.\nRun with --from-start to process everything again.\n",
                (unsigned long long)epoch, when);
        return;
    }
    print_table(p, out);
    print_dlq_reasons(p, out);

    double secs = (double)p->wall_ns / 1e9;
    char size[32], peak[32], limit[32];
    sl_format_size(size, bytes);
    sl_format_size(peak, sl_budget_peak(&p->budget));
    sl_format_size(limit, p->memory_limit);
    fprintf(out, "\ninput %s in %.2f s: %.1f MB/s, %.0f records/s; peak memory %s of %s\n", size, secs,
            secs > 0 ? (double)bytes / 1e6 / secs : 0.0, secs > 0 ? (double)records / secs : 0.0, peak, limit);
    uint64_t entries = sl_dlq_count(p->dlq);
    if (entries > 0)
        fprintf(out, "DLQ: %llu %s in %s\n", (unsigned long long)entries, entries == 1 ? "entry" : "entries",
                sl_dlq_file(p->dlq));
    else
        fprintf(out, "DLQ: empty\n");
    sl_pipeline_delivery_line(p, out);
}
