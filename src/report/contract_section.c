/* contract_section.c — the contract (validate) and quality-check sections,
 * drawn from those transforms' describe JSON: rule failures with their
 * share of records, check status over windows.
 */
#include "sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "describe.h"

void sl_report_validate_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!sl_value_is_str(sl_describe_get(&comp->value, "type"), "validate"))
            continue;
        if (!any)
            sl_html_section_open(out, "contracts", "Contract rules",
                         "Records checked by each contract, and how often each rule failed. A record "
                         "that breaks several rules counts once per rule.");
        any = true;
        uint64_t records = sl_describe_count(&comp->value, "records"), failed = sl_describe_count(&comp->value, "failed");
        sl_buf_puts(out, "<h3><code>");
        sl_html_esc(out, comp->key, comp->key_len);
        sl_buf_puts(out, "</code> <span class=\"muted\" style=\"font-weight:400\">");
        sl_html_count(out, records);
        sl_buf_puts(out, " records · ");
        sl_html_count(out, sl_describe_count(&comp->value, "passed"));
        sl_buf_puts(out, " passed · ");
        sl_html_count(out, failed);
        sl_buf_puts(out, " failed (");
        sl_html_pct(out, records ? (double)failed / (double)records : 0);
        sl_buf_puts(out, ")</span></h3>");
        const sl_value *rules = sl_describe_get(&comp->value, "rules");
        if (!rules || rules->type != SL_ARRAY || rules->len == 0) {
            sl_buf_puts(out, "<p class=\"note\">No rules.</p>");
            continue;
        }
        uint64_t worst = 1;
        for (uint32_t r = 0; r < rules->len; r++)
            if (sl_describe_count(&rules->as.items[r], "failures") > worst)
                worst = sl_describe_count(&rules->as.items[r], "failures");
        sl_buf_puts(out, "<div class=\"scroll\"><table class=\"rules\"><thead><tr><th>Field</th><th>Rule</th>"
                         "<th class=\"n\">Failures</th><th style=\"width:40%\"></th></tr></thead><tbody>");
        for (uint32_t r = 0; r < rules->len && r < SL_REPORT_MAX_ROWS; r++) {
            const sl_value *rule = &rules->as.items[r];
            uint64_t fails = sl_describe_count(rule, "failures");
            sl_buf_puts(out, "<tr><td><code>");
            sl_html_member(out, rule, "field", "");
            sl_buf_puts(out, "</code></td><td>");
            sl_html_member(out, rule, "rule", "");
            sl_buf_puts(out, "</td><td class=\"n\">");
            sl_html_count(out, fails);
            sl_buf_puts(out, "</td><td>");
            sl_html_bar(out, (double)fails / (double)worst, fails ? VERMILLION : GREEN);
            sl_buf_puts(out, "</td></tr>");
        }
        sl_buf_puts(out, "</tbody></table></div>");
    }
    if (any)
        sl_buf_puts(out, "</section>");
}

/* ---- quality checks ---- */

void sl_report_quality_section(sl_buf *out, const sl_value *state)
{
    bool any = false;
    for (uint32_t i = 0; state && state->type == SL_MAP && i < state->len; i++) {
        const sl_field *comp = &state->as.fields[i];
        if (!sl_value_is_str(sl_describe_get(&comp->value, "type"), "quality"))
            continue;
        const sl_value *checks = sl_describe_get(&comp->value, "checks");
        if (!any) {
            sl_html_section_open(out, "checks", "Quality checks",
                         "Checks over windows of records. A check passes while enough of its windows "
                         "passed (its <code>mostly</code> tolerance).");
            sl_buf_puts(out, "<div class=\"scroll\"><table id=\"quality-checks\"><thead><tr><th>Status</th>"
                             "<th>Check</th><th>Kind</th><th>Field</th><th class=\"n\">Last value</th>"
                             "<th>Threshold</th><th class=\"n\">Windows failed</th><th>Component</th>"
                             "</tr></thead><tbody>");
        }
        any = true;
        for (uint32_t k = 0; checks && checks->type == SL_ARRAY && k < checks->len && k < SL_REPORT_MAX_ROWS; k++) {
            const sl_value *ck = &checks->as.items[k];
            double v;
            sl_buf_puts(out, "<tr><td>");
            sl_html_status_badge(out, sl_describe_get(ck, "status"));
            sl_buf_puts(out, "</td><td>");
            sl_html_member(out, ck, "name", "");
            sl_buf_puts(out, "</td><td>");
            sl_html_member(out, ck, "check", "");
            sl_buf_puts(out, "</td><td><code>");
            sl_html_member(out, ck, "field", "");
            sl_buf_puts(out, "</code></td><td class=\"n\">");
            if (sl_describe_num(sl_describe_get(ck, "value"), &v))
                sl_html_num(out, v);
            else
                sl_buf_puts(out, "–");
            sl_buf_puts(out, "</td><td>");
            sl_html_member(out, ck, "threshold", "");
            sl_buf_puts(out, "</td><td class=\"n\">");
            sl_html_count(out, sl_describe_count(ck, "failed_windows"));
            sl_buf_puts(out, " of ");
            sl_html_count(out, sl_describe_count(ck, "windows"));
            sl_buf_puts(out, "</td><td><code>");
            sl_html_esc(out, comp->key, comp->key_len);
            sl_buf_puts(out, "</code></td></tr>");
        }
    }
    if (any)
        sl_buf_puts(out, "</tbody></table></div></section>");
}
