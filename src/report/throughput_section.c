/* throughput_section.c — records and input bytes per second over the run,
 * as two inline SVG line charts from the sampler's points.
 */
#include "sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

#define CHART_POINTS 600     /* throughput points drawn at most */

/* A "nice" axis maximum (1, 2, 2.5 or 5 times a power of ten) >= v. */
static double nice_max(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p >= v)
            return steps[i] * p;
    return 10 * p;
}

static void line_chart(sl_buf *out, const char *id, const char *title, const char *unit, const double *t,
                       const double *v, size_t n, double t_max, const char *color)
{
    const double W = 440, H = 220, L = 58, R = 14, T = 24, B = 28;
    double top = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > top)
            top = v[i];
    top = nice_max(top);
    if (!(t_max > 0))
        t_max = 1;
    sl_buf_printf(out, "<div class=\"chart\" id=\"%s\"><h3>%s</h3><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                  "aria-label=\"%s\" font-size=\"12\" fill=\"#5c6777\">", id, title, W, H, title);
    for (int g = 0; g <= 4; g++) {
        double y = T + (H - T - B) * (1 - g / 4.0);
        sl_buf_printf(out, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e6ec\"/>"
                      "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L, W - R, y, y, L - 8, y + 4);
        sl_html_num(out, top * g / 4);
        sl_buf_puts(out, "</text>");
    }
    /* Time ticks at round steps: 1, 2, 2.5 or 5 times a power of ten
     * seconds, about four of them. */
    double step = nice_max(t_max / 5);
    for (double s = 0; s <= t_max + 1e-9; s += step) {
        double x = L + (W - L - R) * s / t_max;
        sl_buf_printf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#c9d0da\"/>"
                      "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">", x, x, H - B, H - B + 4, x, H - 8,
                      s == 0 ? "start" : "middle");
        if (t_max >= 120)
            sl_buf_printf(out, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
        else
            sl_buf_printf(out, "%g s", s);
        sl_buf_puts(out, "</text>");
    }
    sl_buf line;
    sl_buf_init(&line);
    for (size_t i = 0; i < n; i++) {
        double x = L + (W - L - R) * t[i] / t_max;
        double y = T + (H - T - B) * (1 - v[i] / top);
        sl_buf_printf(&line, "%s%.1f,%.1f", i ? " " : "", x, y);
    }
    double x0 = L + (W - L - R) * t[0] / t_max, xn = L + (W - L - R) * t[n - 1] / t_max;
    sl_buf_printf(out, "<polygon points=\"%.1f,%.1f %s %.1f,%.1f\" fill=\"%s\" fill-opacity=\"0.12\"/>", x0,
                  H - B, line.data, xn, H - B, color);
    sl_buf_printf(out, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                  "stroke-linejoin=\"round\"/>", line.data, color);
    sl_buf_printf(out, "<text x=\"%.0f\" y=\"12\">%s</text></svg></div>", L, unit);
    sl_buf_free(&line);
}

void sl_report_throughput_section(sl_buf *out, const sl_report_info *info, const sl_report_totals *tot)
{
    sl_html_section_open(out, "throughput", "Throughput",
                 "Records and bytes read by the sources, sampled every second (longer runs are "
                 "averaged over longer intervals, so the chart covers the whole run).");
    sl_sample *pts = NULL;
    size_t n = 0;
    if (info->sampler) {
        pts = malloc(SL_SAMPLER_MAX_POINTS * sizeof *pts);
        if (!pts)
            abort();
        n = sl_sampler_points(info->sampler, pts, SL_SAMPLER_MAX_POINTS);
    }
    /* Merge into at most CHART_POINTS points. */
    size_t per = (n + CHART_POINTS - 1) / CHART_POINTS, m = 0;
    for (size_t i = 0; per > 0 && i < n; i += per, m++) {
        sl_sample s = pts[i];
        for (size_t j = i + 1; j < i + per && j < n; j++) {
            s.end_s = pts[j].end_s;
            s.span_s += pts[j].span_s;
            s.records += pts[j].records;
            s.bytes += pts[j].bytes;
        }
        pts[m] = s;
    }
    n = m;
    if (n < 2) {
        sl_buf_puts(out, "<p class=\"note\" id=\"throughput-short\">");
        if (!info->sampler)
            sl_buf_puts(out, "Throughput was not sampled for this run. ");
        else
            sl_buf_puts(out, "The run was too short for a chart. ");
        sl_buf_puts(out, "On average: ");
        sl_html_num(out, tot->elapsed_s > 0 ? floor((double)tot->records_in / tot->elapsed_s) : 0);
        sl_buf_puts(out, " records/s, ");
        sl_html_num(out, tot->elapsed_s > 0 ? (double)tot->bytes_in / 1e6 / tot->elapsed_s : 0);
        sl_buf_puts(out, " MB/s.</p></section>");
        free(pts);
        return;
    }
    double *t = malloc(n * 3 * sizeof *t);
    if (!t)
        abort();
    double *rps = t + n, *mbps = t + 2 * n;
    for (size_t i = 0; i < n; i++) {
        double span = pts[i].span_s > 1e-6 ? pts[i].span_s : 1e-6;
        t[i] = pts[i].end_s - pts[i].span_s / 2;
        rps[i] = (double)pts[i].records / span;
        mbps[i] = (double)pts[i].bytes / 1e6 / span;
    }
    double t_max = pts[n - 1].end_s;
    sl_buf_puts(out, "<div class=\"grid2\">");
    line_chart(out, "chart-records", "Records per second", "records/s", t, rps, n, t_max, BLUE);
    line_chart(out, "chart-bytes", "Input MB per second", "MB/s", t, mbps, n, t_max, GREEN);
    sl_buf_puts(out, "</div></section>");
    free(t);
    free(pts);
}
