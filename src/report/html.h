/* html.h — the pieces every report section writes HTML with (internal to
 * src/report/).
 *
 * Text from data or configuration goes through sl_html_esc (or its cut
 * variant), never straight into the page. Numbers are written for reading:
 * counts with thousands separators, measurements with few digits, shares as
 * percentages. Colours are the Okabe–Ito palette, which stays
 * distinguishable with the common forms of colour blindness; status is never
 * told by colour alone (badges carry words).
 */
#ifndef SL_REPORT_HTML_H
#define SL_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/value.h"

#define BLUE "#0072B2"
#define SKY "#56B4E9"
#define GREEN "#009E73"
#define ORANGE "#E69F00"
#define VERMILLION "#D55E00"
#define PURPLE "#CC79A7"
#define YELLOW "#F0E442"
#define GREY "#8a94a3"
#define SINK_TINT "#fff7e6"   /* the fill of sink boxes in the graph; used nowhere else */

/* s[0..len) escaped for HTML text and attribute values; control characters
 * (NUL included) become spaces. */
void sl_html_esc(sl_buf *out, const char *s, size_t len);
void sl_html_escs(sl_buf *out, const char *s);
/* Escaped, cut to max characters (at a UTF-8 boundary) with an ellipsis. */
void sl_html_esc_cut(sl_buf *out, const char *s, size_t len, size_t max);
/* 1234567 -> "1,234,567" */
void sl_html_count(sl_buf *out, uint64_t n);
/* A measured number, readably: 12,345 / 12.5 / 0.0123 / 1.2e-07. */
void sl_html_num(sl_buf *out, double d);
/* A share in [0, 1] as a percentage ("<0.1%" for small non-zero shares). */
void sl_html_pct(sl_buf *out, double share);
/* "2026-11-24 03:02:26": UTC, to the second. */
void sl_html_time(char out[40], int64_t ns);
/* "1.25 s", "3 min 05 s", "2 h 10 min". */
void sl_html_duration(sl_buf *out, double s);
/* A horizontal bar filled to share (clamped to [0, 1]). */
void sl_html_bar(sl_buf *out, double share, const char *color);
/* A badge for a status word from data: pass/ok, warn, fail/alert; other
 * words are shown neutral. */
void sl_html_status_badge(sl_buf *out, const sl_value *status);
/* Opens <section id=...> with its heading and an optional lead paragraph
 * (title and lead are trusted text, not data). */
void sl_html_section_open(sl_buf *out, const char *id, const char *title, const char *lead);
/* Data shown outside the data's access control: personal data found by the
 * PII detectors becomes [EMAIL], [PHONE], ... and, with digit_runs (free-form
 * messages), any other run of seven or more digits [NUMBER]; then escaped
 * and cut to max characters. */
void sl_html_masked(sl_buf *out, const char *s, size_t len, size_t max, bool digit_runs);
/* The string member key of a describe map, escaped and cut to 120
 * characters, or dflt (trusted text) when it is missing. */
void sl_html_member(sl_buf *out, const sl_value *m, const char *key, const char *dflt);

#endif
