/* dlq_section.c — the dead-letter section: counts per component and reason,
 * and a few examples per reason read from the DLQ file, with personal data
 * and long digit runs masked (never the raw record).
 */
#include "sections.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/arena.h"
#include "../runtime/component.h"
#include "../text/pii.h"
#include "html.h"
#include "describe.h"

typedef struct dlq_reason {
    const char *component;
    char reason[48];
    uint64_t count;
} dlq_reason;

#define MAX_EXAMPLE_REASONS 64

typedef struct dlq_examples {
    char reason[MAX_EXAMPLE_REASONS][48];
    int n_reasons;
    int count[MAX_EXAMPLE_REASONS];
    sl_buf html[MAX_EXAMPLE_REASONS];   /* rendered <li> items */
} dlq_examples;

static int cmp_reason(const void *a, const void *b)
{
    const dlq_reason *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->reason, y->reason);
}

static void add_example(dlq_examples *ex, const sl_value *entry)
{
    const char *reason, *s;
    size_t rlen, len;
    if (!sl_describe_str(sl_describe_get(entry, "reason"), &reason, &rlen) || rlen == 0 || rlen >= 48)
        return;
    int k = 0;
    while (k < ex->n_reasons && !(strlen(ex->reason[k]) == rlen && memcmp(ex->reason[k], reason, rlen) == 0))
        k++;
    if (k == ex->n_reasons) {
        if (ex->n_reasons == MAX_EXAMPLE_REASONS)
            return;
        memcpy(ex->reason[k], reason, rlen);
        ex->reason[k][rlen] = '\0';
        sl_buf_init(&ex->html[k]);
        ex->n_reasons++;
    }
    if (ex->count[k] >= SL_REPORT_DLQ_EXAMPLES)
        return;
    ex->count[k]++;
    sl_buf *h = &ex->html[k];
    sl_buf_puts(h, "<li><span class=\"muted\">");
    sl_html_member(h, entry, "component", "?");
    if (sl_describe_str(sl_describe_get(entry, "origin"), &s, &len)) {
        sl_buf_puts(h, " · ");
        sl_html_esc_cut(h, s, len, 60);
    }
    double offset;
    if (sl_describe_num(sl_describe_get(sl_describe_get(entry, "position"), "offset"), &offset)) {
        sl_buf_puts(h, " @ ");
        sl_html_count(h, (uint64_t)offset);
    }
    sl_buf_puts(h, "</span><br>");
    if (sl_describe_str(sl_describe_get(entry, "message"), &s, &len))
        sl_html_masked(h, s, len, 160, true);
    sl_buf_puts(h, "</li>");
}

/* Reads this run's entries from the DLQ file, at most SL_REPORT_DLQ_SCAN_BYTES. */
static void read_examples(const sl_report_info *info, dlq_examples *ex)
{
    if (!info->dlq_file)
        return;
    FILE *f = fopen(info->dlq_file, "rb");
    if (!f)
        return;
    if (info->dlq_offset && fseeko(f, (off_t)info->dlq_offset, SEEK_SET) != 0) {
        fclose(f);
        return;
    }
    sl_arena arena;
    sl_arena_init(&arena, 16 << 10);
    sl_buf line;
    sl_buf_init(&line);
    char *text = NULL;
    size_t cap = 0, scanned = 0;
    ssize_t n;
    while (scanned < SL_REPORT_DLQ_SCAN_BYTES && (n = getline(&text, &cap, f)) > 0) {
        scanned += (size_t)n;
        line.len = 0;
        sl_buf_append(&line, text, (size_t)n);   /* sl_buf keeps the decoder's padding */
        sl_value entry;
        sl_decode_error derr;
        sl_arena_reset(&arena);
        if (sl_json_decode(&arena, line.data, line.len, 0, true, &entry, &derr) == 0)
            add_example(ex, &entry);
    }
    free(text);
    sl_buf_free(&line);
    sl_arena_free(&arena);
    fclose(f);
}

void sl_report_dlq_section(sl_buf *out, sl_pipeline *p, const sl_report_info *info, const sl_report_totals *t)
{
    sl_html_section_open(out, "dlq", "Dead-letter queue",
                 "Records that could not be decoded, transformed or written, by reason. Examples show "
                 "the message only — never the record — with personal data and long numbers masked.");
    dlq_reason rows[SL_REPORT_MAX_ROWS];
    size_t n = 0;
    for (int i = 0; i < sl_pipeline_component_count(p); i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        sl_component_metrics *m = c->metrics;
        pthread_mutex_lock(&m->lock);
        for (int r = 0; r < SL_MAX_REASONS && n < SL_REPORT_MAX_ROWS; r++) {
            if (m->dlq[r].count == 0)
                continue;
            rows[n].component = c->name;
            memcpy(rows[n].reason, m->dlq[r].reason, sizeof rows[n].reason);
            rows[n].reason[sizeof rows[n].reason - 1] = '\0';
            rows[n++].count = m->dlq[r].count;
        }
        pthread_mutex_unlock(&m->lock);
    }
    if (n == 0) {
        sl_buf_puts(out, "<p class=\"note\" id=\"dlq-empty\">No dead letters: every record was delivered.</p></section>");
        return;
    }
    qsort(rows, n, sizeof *rows, cmp_reason);
    sl_buf_puts(out, "<div class=\"bars\" id=\"dlq-reasons\">");
    for (size_t i = 0; i < n; i++) {
        sl_buf_puts(out, "<div><code class=\"reason\">");
        sl_html_escs(out, rows[i].reason);
        sl_buf_puts(out, "</code> <span class=\"muted\">in ");
        sl_html_escs(out, rows[i].component);
        sl_buf_puts(out, "</span></div>");
        sl_html_bar(out, (double)rows[i].count / (double)rows[0].count, VERMILLION);
        sl_buf_puts(out, "<div class=\"n dlq-count\">");
        sl_html_count(out, rows[i].count);
        sl_buf_puts(out, "</div>");
    }
    sl_buf_puts(out, "</div>");
    dlq_examples *ex = calloc(1, sizeof *ex);
    if (!ex)
        abort();
    read_examples(info, ex);
    if (ex->n_reasons > 0) {
        sl_buf_puts(out, "<div class=\"grid2\" id=\"dlq-examples\">");
        for (int k = 0; k < ex->n_reasons; k++) {
            sl_buf_puts(out, "<div><h3>Examples: <code>");
            sl_html_escs(out, ex->reason[k]);
            sl_buf_puts(out, "</code></h3><ul class=\"examples\">");
            sl_buf_append(out, ex->html[k].data, ex->html[k].len);
            sl_buf_puts(out, "</ul></div>");
            sl_buf_free(&ex->html[k]);
        }
        sl_buf_puts(out, "</div>");
    }
    free(ex);
    if (info->dlq_file) {
        sl_buf_puts(out, "<p class=\"note\" style=\"margin-top:12px\">");
        sl_html_count(out, t->dlq);
        sl_buf_printf(out, " %s in <code>", t->dlq == 1 ? "entry" : "entries");
        sl_html_escs(out, info->dlq_file);
        sl_buf_puts(out, "</code>, with the raw records.</p>");
    }
    sl_buf_puts(out, "</section>");
}
