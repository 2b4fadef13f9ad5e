/* report.h — the HTML report of a run: one self-contained file.
 *
 * Built from the pipeline's metrics, its components' describe JSON
 * (sl_pipeline_describe), the graph, the throughput sampler and at most a
 * few DLQ entries per reason — never from the records themselves — so its
 * size depends on the pipeline's shape (components, fields profiled, DLQ
 * reasons), not on how much data went through it. Detailed sections are
 * capped (SL_REPORT_MAX_FIELDS fields per profile, SL_REPORT_MAX_ROWS rows
 * per table) so even a pathological pipeline yields a file of bounded size.
 *
 * Sections, each left out (with a one-line note) when there is nothing to
 * show: header and totals (records out per sink), pipeline graph,
 * dead-letter queue, contract rules (validate), quality checks (quality),
 * training-data stages (redact, text_quality, dedup, dataset), profiles and
 * drift (profile), throughput. One file per section (sections.h). The HTML has inline CSS and inline SVG only: no scripts, no
 * fonts, no network. Every string from data or configuration is escaped.
 *
 * DLQ examples show the entry's component, origin, position and message —
 * never the raw record — with personal data masked by the PII detectors
 * (text/pii.h: e-mail, phone, IP, card, IBAN, SSN become [EMAIL] ...) and
 * any other run of 7 or more digits as [NUMBER], then cut to 160 characters.
 * Top values of profiled fields are masked the same way (cut to 40).
 */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../runtime/pipeline.h"
#include "sampler.h"

#define SL_REPORT_MAX_FIELDS 200
#define SL_REPORT_MAX_ROWS 500
#define SL_REPORT_DLQ_EXAMPLES 3
#define SL_REPORT_DLQ_SCAN_BYTES (16u << 20)

typedef struct sl_report_info {
    const char *title;        /* NULL: "sluice report" */
    const char *pipeline;     /* the pipeline file, shown under the title; may be NULL */
    const char *status;       /* "succeeded", "failed", "running" */
    const char *error;        /* why the run failed, or NULL */
    double elapsed_s;         /* the run's duration; < 0: since the metrics' start */
    const char *dlq_file;     /* DLQ file to take examples from, or NULL */
    uint64_t dlq_offset;      /* where this run's entries start in it */
    sl_sampler *sampler;      /* throughput points, or NULL */
    /* Component state as JSON; NULL: taken from sl_pipeline_describe (tests
     * pass their own). */
    const char *state_json;
    size_t state_len;
} sl_report_info;

/* Appends the report's HTML to out. */
void sl_report_build(sl_pipeline *p, const sl_report_info *info, sl_buf *out);
/* Builds the report and writes it to path (temporary file, then rename),
 * creating the parent directory when missing. Returns 0 or -1 with err. */
int sl_report_write(sl_pipeline *p, const sl_report_info *info, const char *path, sl_error *err);

#endif
