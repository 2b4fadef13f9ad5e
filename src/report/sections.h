/* sections.h — the sections of the report, one file each (internal to
 * src/report/; report.c puts them on the page in this order).
 *
 *   graph_section.c       the pipeline DAG (laid out by graph_layout.c) and the
 *                         per-component table
 *   dlq_section.c         dead letters per component and reason, with masked examples
 *   contract_section.c    contract rules (validate) and quality checks (quality)
 *   training_section.c    training-data stages: text_quality rejections per rule,
 *                         dedup clusters and index use, redact hits per detector,
 *                         dataset splits and shards
 *   profile_section.c     per-field profiles and drift (profile)
 *   throughput_section.c  records and bytes per second over the run
 *
 * A section with nothing to show is left out or says so in one line. State
 * sections take the pipeline's describe JSON (a map from component name to
 * its state) and look for the components of their type in it.
 */
#ifndef SL_REPORT_SECTIONS_H
#define SL_REPORT_SECTIONS_H

#include <stdint.h>

#include "../core/buf.h"
#include "../core/value.h"
#include "../runtime/component.h"
#include "../runtime/pipeline.h"
#include "report.h"

typedef struct sl_report_totals {
    uint64_t records_in, records_out, bytes_in, dlq;
    double elapsed_s;
} sl_report_totals;

/* Colour of a component's kind in the graph and the tables. */
const char *sl_report_kind_color(const sl_component *c);
/* Dead letters a component sent, over all reasons. */
uint64_t sl_report_component_dlq(sl_component_metrics *m);

void sl_report_graph_section(sl_buf *out, sl_pipeline *p);
void sl_report_dlq_section(sl_buf *out, sl_pipeline *p, const sl_report_info *info, const sl_report_totals *t);
void sl_report_validate_section(sl_buf *out, const sl_value *state);
void sl_report_quality_section(sl_buf *out, const sl_value *state);
void sl_report_training_section(sl_buf *out, const sl_value *state);
void sl_report_profile_section(sl_buf *out, const sl_value *state);
void sl_report_drift_section(sl_buf *out, const sl_value *state);
void sl_report_throughput_section(sl_buf *out, const sl_report_info *info, const sl_report_totals *tot);

#endif
