/* html.c — writing the report's HTML: escaping, numbers, bars, badges and
 * section headings (see html.h). Every string that comes from data or
 * configuration reaches the page through sl_html_esc, so no value can open a
 * tag or an attribute.
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../text/pii.h"
#include "describe.h"

/* Appends s[0..len) escaped for HTML text and attribute values. Control
 * characters (NUL included) become spaces. */
void sl_html_esc(sl_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': sl_buf_puts(out, "&amp;"); break;
        case '<': sl_buf_puts(out, "&lt;"); break;
        case '>': sl_buf_puts(out, "&gt;"); break;
        case '"': sl_buf_puts(out, "&quot;"); break;
        case '\'': sl_buf_puts(out, "&#39;"); break;
        default: sl_buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
    }
}

void sl_html_escs(sl_buf *out, const char *s)
{
    sl_html_esc(out, s, strlen(s));
}

/* Length of at most max characters of s (cut at a UTF-8 boundary). */
static size_t utf8_cut(const char *s, size_t len, size_t max, bool *cut)
{
    size_t chars = 0, i = 0;
    while (i < len && chars < max) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    *cut = i < len;
    return i;
}

/* Escaped, cut to max characters with an ellipsis. */
void sl_html_esc_cut(sl_buf *out, const char *s, size_t len, size_t max)
{
    bool cut;
    sl_html_esc(out, s, utf8_cut(s, len, max, &cut));
    if (cut)
        sl_buf_puts(out, "…");
}

/* 1234567 -> "1,234,567" */
void sl_html_count(sl_buf *out, uint64_t n)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            sl_buf_putc(out, ',');
        sl_buf_putc(out, digits[i]);
    }
}

/* A measured number, readably: 12,345 / 12.5 / 0.0123 / 1.2e-07. */
void sl_html_num(sl_buf *out, double d)
{
    if (!isfinite(d)) {
        sl_buf_puts(out, "–");
        return;
    }
    double a = fabs(d);
    if (a >= 1e15) {
        sl_buf_printf(out, "%.3g", d);
    } else if (a >= 1e4 || (d == floor(d))) {
        if (d < 0)
            sl_buf_putc(out, '-');
        sl_html_count(out, (uint64_t)llround(a));
    } else if (a >= 1) {
        char t[32];
        snprintf(t, sizeof t, "%.2f", d);
        size_t n = strlen(t);
        while (t[n - 1] == '0')
            t[--n] = '\0';
        if (t[n - 1] == '.')
            t[--n] = '\0';
        sl_buf_puts(out, t);
    } else {
        sl_buf_printf(out, "%.3g", d);
    }
}

void sl_html_pct(sl_buf *out, double share)
{
    if (!isfinite(share))
        sl_buf_puts(out, "–");
    else if (share > 0 && share < 0.001)
        sl_buf_puts(out, "&lt;0.1%");
    else
        sl_buf_printf(out, "%.1f%%", share * 100);
}

/* "2026-11-24 03:02:26": UTC, to the second. */
void sl_html_time(char out[40], int64_t ns)
{
    sl_format_rfc3339(out, ns);
    out[strcspn(out, ".Z")] = '\0';
    char *tee = strchr(out, 'T');
    if (tee)
        *tee = ' ';
}

void sl_html_duration(sl_buf *out, double s)
{
    if (s < 60)
        sl_buf_printf(out, "%.2f s", s);
    else if (s < 3600)
        sl_buf_printf(out, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        sl_buf_printf(out, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}


void sl_html_bar(sl_buf *out, double share, const char *color)
{
    if (!(share >= 0))
        share = 0;
    if (share > 1)
        share = 1;
    sl_buf_printf(out, "<div class=\"bar\"><span style=\"width:%.1f%%;background:%s\"></span></div>",
                  share * 100, color);
}

/* Badge for a status word from data: pass/ok, warn, fail/alert; other words
 * are shown neutral. */
void sl_html_status_badge(sl_buf *out, const sl_value *status)
{
    const char *cls = "na";
    if (sl_value_is_str(status, "pass") || sl_value_is_str(status, "ok"))
        cls = "ok";
    else if (sl_value_is_str(status, "warn"))
        cls = "warn";
    else if (sl_value_is_str(status, "fail") || sl_value_is_str(status, "alert"))
        cls = "bad";
    sl_buf_printf(out, "<span class=\"badge %s\">", cls);
    const char *s;
    size_t len;
    if (sl_describe_str(status, &s, &len))
        sl_html_esc_cut(out, s, len, 20);
    else
        sl_buf_puts(out, "unknown");
    sl_buf_puts(out, "</span>");
}

void sl_html_section_open(sl_buf *out, const char *id, const char *title, const char *lead)
{
    sl_buf_printf(out, "<section id=\"%s\"><h2>%s</h2>", id, title);
    if (lead)
        sl_buf_printf(out, "<p class=\"lead\">%s</p>", lead);
}

/* Appends s[0..len) with each run of seven or more digits written as
 * [NUMBER]: account numbers and unformatted phone numbers, which the
 * detectors leave alone because the redact transform must not rewrite every
 * plain number, while a report shown outside the data's access control is
 * better off masking too much than too little. */
static void mask_digit_runs(sl_buf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j - i >= 7) {
            sl_buf_puts(out, "[NUMBER]");
        } else {
            j += j == i;   /* not a digit: copy one byte */
            sl_buf_append(out, s + i, j - i);
        }
        i = j;
    }
}

/* Appends text masked for display, escaped and cut to max characters: each
 * hit of the personal-data detectors (pii.h: e-mail addresses, phone, card
 * and social security numbers, IP addresses, IBANs) becomes its [LABEL],
 * and, with digit_runs (free-form messages), long digit runs between hits
 * become [NUMBER]; field values (top values) keep them, so ids such as
 * req-20261124153012 stay readable. The whole text is masked before it is
 * cut, so a value straddling the cut is masked too. */
void sl_html_masked(sl_buf *out, const char *s, size_t len, size_t max, bool digit_runs)
{
    sl_pii_spans spans = {0};
    unsigned possible = sl_pii_candidates(s, len);
    for (int d = 0; d < SL_PII_BUILTIN_COUNT; d++)
        if (possible & (1u << d))
            sl_pii_detectors[d].scan(s, len, d, &spans);
    sl_pii_resolve(&spans);
    sl_buf masked;
    sl_buf_init(&masked);
    size_t at = 0;
    for (size_t i = 0; i < spans.count; i++) {
        const sl_pii_span *hit = &spans.items[i];
        if (digit_runs)
            mask_digit_runs(&masked, s + at, hit->start - at);
        else
            sl_buf_append(&masked, s + at, hit->start - at);
        sl_buf_printf(&masked, "[%s]", sl_pii_detectors[hit->detector].label);
        at = hit->end;
    }
    if (digit_runs)
        mask_digit_runs(&masked, s + at, len - at);
    else
        sl_buf_append(&masked, s + at, len - at);
    sl_html_esc_cut(out, masked.data, masked.len, max);
    sl_buf_free(&masked);
    sl_pii_spans_free(&spans);
}

/* The string member key of m, escaped and cut, or dflt (see html.h). */
void sl_html_member(sl_buf *out, const sl_value *m, const char *key, const char *dflt)
{
    const char *s;
    size_t len;
    if (sl_describe_str(sl_describe_get(m, key), &s, &len))
        sl_html_esc_cut(out, s, len, 120);
    else
        sl_buf_puts(out, dflt);
}
