/* training_section.c — the training-data stages of a pipeline, each drawn
 * from its component's describe JSON: text_quality rejections per rule,
 * dedup duplicates and index use, redact hits per detector, and the
 * dataset sink's splits and shards. A pipeline without any of these
 * components has no such section.
 */
#include "sections.h"

#include <string.h>

#include "../core/util.h"
#include "describe.h"
#include "html.h"

static bool is_training_stage(const sl_value *comp)
{
    const sl_value *type = sl_describe_get(comp, "type");
    return sl_value_is_str(type, "text_quality") || sl_value_is_str(type, "dedup") ||
           sl_value_is_str(type, "redact") || sl_value_is_str(type, "dataset");
}

/* <h3>name <small>type · summary</small></h3>; the caller writes the summary
 * and closes with sl_buf_puts(out, "</span></h3>"). */
static void stage_heading(sl_buf *out, const sl_field *comp, const char *type)
{
    sl_buf_puts(out, "<h3><code>");
    sl_html_esc(out, comp->key, comp->key_len);
    sl_buf_printf(out, "</code> <span class=\"muted\" style=\"font-weight:400\">%s · ", type);
}

/* A two-column bar table: one row per item of list, named by name_key,
 * counted by count_key, bars scaled to the largest count. */
static void count_table(sl_buf *out, const char *id, const sl_value *list, const char *name_key,
                        const char *name_head, const char *count_key, const char *count_head, const char *color)
{
    if (!list || list->type != SL_ARRAY || list->len == 0)
        return;
    uint64_t worst = 1;
    for (uint32_t i = 0; i < list->len; i++)
        if (sl_describe_count(&list->as.items[i], count_key) > worst)
            worst = sl_describe_count(&list->as.items[i], count_key);
    sl_buf_printf(out, "<div class=\"scroll\"><table class=\"%s\"><thead><tr><th>%s</th><th class=\"n\">%s</th>"
                       "<th style=\"width:45%%\"></th></tr></thead><tbody>", id, name_head, count_head);
    for (uint32_t i = 0; i < list->len && i < SL_REPORT_MAX_ROWS; i++) {
        const sl_value *item = &list->as.items[i];
        uint64_t n = sl_describe_count(item, count_key);
        sl_buf_puts(out, "<tr><td><code>");
        sl_html_member(out, item, name_key, "");
        sl_buf_puts(out, "</code></td><td class=\"n\">");
        sl_html_count(out, n);
        sl_buf_puts(out, "</td><td>");
        sl_html_bar(out, (double)n / (double)worst, color);
        sl_buf_puts(out, "</td></tr>");
    }
    sl_buf_puts(out, "</tbody></table></div>");
}

/* "N of_what · K what (x%)": a count and the share of it some stage took. */
static void count_and_share(sl_buf *out, uint64_t n, const char *of_what, uint64_t k, const char *what)
{
    sl_html_count(out, n);
    sl_buf_printf(out, " %s · ", of_what);
    sl_html_count(out, k);
    sl_buf_printf(out, " %s (", what);
    sl_html_pct(out, n ? (double)k / (double)n : 0);
    sl_buf_puts(out, ")");
}

static void text_quality_stage(sl_buf *out, const sl_field *comp)
{
    const sl_value *s = &comp->value;
    uint64_t docs = sl_describe_count(s, "documents"), rejected = sl_describe_count(s, "rejected");
    stage_heading(out, comp, "text_quality");
    count_and_share(out, docs, "documents", rejected, "rejected");
    if (sl_describe_count(s, "skipped")) {
        sl_buf_puts(out, " · ");
        sl_html_count(out, sl_describe_count(s, "skipped"));
        sl_buf_puts(out, " skipped");
    }
    sl_buf_puts(out, "</span></h3>");
    /* Document rules count the documents they rejected; line rules the
     * lines they removed (the document stays). */
    const sl_value *rules = sl_describe_get(s, "rules");
    if (!rules || rules->type != SL_ARRAY || rules->len == 0)
        return;
    uint64_t worst = 1;
    for (uint32_t i = 0; i < rules->len; i++)
        if (sl_describe_count(&rules->as.items[i], "rejected") > worst)
            worst = sl_describe_count(&rules->as.items[i], "rejected");
    sl_buf_puts(out, "<div class=\"scroll\"><table class=\"tq-rules\"><thead><tr><th>Rule</th>"
                     "<th class=\"n\">Documents rejected</th><th class=\"n\">Lines removed</th>"
                     "<th style=\"width:40%\"></th></tr></thead><tbody>");
    for (uint32_t i = 0; i < rules->len && i < SL_REPORT_MAX_ROWS; i++) {
        const sl_value *rule = &rules->as.items[i];
        bool line_rule = sl_describe_get(rule, "lines_removed") != NULL;
        uint64_t n = sl_describe_count(rule, line_rule ? "lines_removed" : "rejected");
        sl_buf_puts(out, "<tr><td><code>");
        sl_html_member(out, rule, "rule", "");
        sl_buf_puts(out, line_rule ? "</code></td><td class=\"n\">–</td><td class=\"n\">"
                                   : "</code></td><td class=\"n\">");
        sl_html_count(out, n);
        sl_buf_puts(out, line_rule ? "</td><td>" : "</td><td class=\"n\">–</td><td>");
        if (!line_rule)
            sl_html_bar(out, (double)n / (double)worst, VERMILLION);
        sl_buf_puts(out, "</td></tr>");
    }
    sl_buf_puts(out, "</tbody></table></div>");
}

static void dedup_stage(sl_buf *out, const sl_field *comp)
{
    const sl_value *s = &comp->value;
    uint64_t docs = sl_describe_count(s, "documents"), dups = sl_describe_count(s, "duplicates");
    stage_heading(out, comp, "dedup");
    sl_html_member(out, s, "mode", "");
    sl_buf_puts(out, " · ");
    count_and_share(out, docs, "documents", dups, "duplicates removed");
    sl_buf_puts(out, "</span></h3><div class=\"bars\">");
    sl_buf_puts(out, "<span>unique documents kept</span>");
    sl_html_bar(out, docs ? (double)(docs - dups) / (double)docs : 0, GREEN);
    sl_html_count(out, docs - dups);
    sl_buf_puts(out, "<span>duplicates removed</span>");
    sl_html_bar(out, docs ? (double)dups / (double)docs : 0, ORANGE);
    sl_html_count(out, dups);
    sl_buf_puts(out, "</div><p class=\"note\" style=\"margin-top:8px\">Index: ");
    sl_html_count(out, sl_describe_count(s, "index_entries"));
    sl_buf_puts(out, " entries in ");
    char size[32];
    sl_format_size(size, sl_describe_count(s, "index_bytes"));
    sl_html_escs(out, size);
    sl_buf_puts(out, " · ");
    sl_html_count(out, sl_describe_count(s, "evictions"));
    sl_buf_puts(out, " evictions");
    if (sl_describe_count(s, "evictions"))
        sl_buf_puts(out, " (the index was full: duplicates of evicted documents pass; see docs/dedup.md)");
    if (sl_describe_count(s, "skipped")) {
        sl_buf_puts(out, " · ");
        sl_html_count(out, sl_describe_count(s, "skipped"));
        sl_buf_puts(out, " documents without the field, passed unchecked");
    }
    sl_buf_puts(out, "</p>");
}

static void redact_stage(sl_buf *out, const sl_field *comp)
{
    const sl_value *s = &comp->value;
    uint64_t records = sl_describe_count(s, "records"), with = sl_describe_count(s, "records_with_pii");
    stage_heading(out, comp, "redact");
    count_and_share(out, records, "records", with, "with personal data");
    sl_buf_puts(out, " · ");
    sl_html_count(out, sl_describe_count(s, "records_dropped"));
    sl_buf_puts(out, " dropped</span></h3>");
    count_table(out, "redact-hits", sl_describe_get(s, "detectors"), "detector", "Detector", "hits", "Hits",
                PURPLE);
}

static void dataset_stage(sl_buf *out, const sl_field *comp)
{
    const sl_value *s = &comp->value;
    stage_heading(out, comp, "dataset");
    sl_html_count(out, sl_describe_count(s, "records"));
    sl_buf_puts(out, " records in ");
    sl_html_count(out, sl_describe_count(s, "shards"));
    sl_buf_puts(out, " shards · <code>");
    sl_html_member(out, s, "path", "");
    sl_buf_puts(out, "</code></span></h3>");
    const sl_value *splits = sl_describe_get(s, "splits");
    if (!splits || splits->type != SL_ARRAY || splits->len == 0)
        return;
    uint64_t total = sl_describe_count(s, "records");
    sl_buf_puts(out, "<div class=\"scroll\"><table class=\"dataset-splits\"><thead><tr><th>Split</th>"
                     "<th class=\"n\">Records</th><th class=\"n\">Shards</th><th class=\"n\">Bytes</th>"
                     "<th style=\"width:35%\"></th></tr></thead><tbody>");
    for (uint32_t i = 0; i < splits->len; i++) {
        const sl_value *sp = &splits->as.items[i];
        uint64_t n = sl_describe_count(sp, "records");
        char size[32];
        sl_format_size(size, sl_describe_count(sp, "bytes"));
        sl_buf_puts(out, "<tr><td><code>");
        sl_html_member(out, sp, "split", "");
        sl_buf_puts(out, "</code></td><td class=\"n\">");
        sl_html_count(out, n);
        sl_buf_puts(out, "</td><td class=\"n\">");
        sl_html_count(out, sl_describe_count(sp, "shards"));
        sl_buf_puts(out, "</td><td class=\"n\">");
        sl_html_escs(out, size);
        sl_buf_puts(out, "</td><td>");
        sl_html_bar(out, total ? (double)n / (double)total : 0, BLUE);
        sl_buf_puts(out, "</td></tr>");
    }
    sl_buf_puts(out, "</tbody></table></div>");
}

void sl_report_training_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!is_training_stage(&comp->value))
            continue;
        if (!any)
            sl_html_section_open(out, "training", "Training-data stages",
                                 "What each cleaning stage did, in pipeline order: documents rejected per "
                                 "quality rule, duplicates removed, personal data found per detector, and "
                                 "how the dataset was split into shards.");
        any = true;
        const sl_value *type = sl_describe_get(&comp->value, "type");
        if (sl_value_is_str(type, "text_quality"))
            text_quality_stage(out, comp);
        else if (sl_value_is_str(type, "dedup"))
            dedup_stage(out, comp);
        else if (sl_value_is_str(type, "redact"))
            redact_stage(out, comp);
        else
            dataset_stage(out, comp);
    }
    if (any)
        sl_buf_puts(out, "</section>");
}
