/* lineage.h — OpenLineage run events for a pipeline run, so that tools such
 * as Marquez can show which files a dataset shard came from.
 *
 * A run emits START before it begins and, when it ends, COMPLETE (success),
 * ABORT (stopped early by a signal) or FAIL (with an errorMessage facet).
 * Each event follows https://openlineage.io/spec/2-0-2/OpenLineage.json:
 * the run id is a random UUIDv4, the job is {namespace, pipeline file name
 * without its extension}, inputs are the files the file sources match,
 * outputs are the file and dataset sinks' paths (namespace "file", name an
 * absolute path). Dataset sinks add, at the end, a schema facet and output
 * statistics read from their published index.json and, when every stage
 * between the sources and the sink passes fields through unchanged, a
 * columnLineage facet. A custom run facet `sluice` carries the version and
 * the SHA-256 of the configuration file.
 *
 * Events are appended as JSON lines to `lineage.file` and/or POSTed to
 * `lineage.url` (5 s timeout). Lineage never fails a run: problems are
 * logged as warnings, which name the endpoint by scheme://host:port only
 * (<redacted> when the URL was interpolated). All functions run on the main
 * thread; every one accepts NULL (lineage not configured) and does nothing.
 * libcurl must be initialised before any thread starts: main() calls
 * curl_global_init first thing.
 */
#ifndef SL_LINEAGE_H
#define SL_LINEAGE_H

#include <stdbool.h>

#include "../config/config.h"
#include "pipeline.h"

typedef struct sl_lineage sl_lineage;

/* NULL when the configuration has no `lineage` section. version is
 * sluice's version string. cfg and p must outlive the lineage. */
sl_lineage *sl_lineage_new(const sl_config *cfg, const sl_pipeline *p, const char *version);
void sl_lineage_free(sl_lineage *l);

/* Emits START. */
void sl_lineage_start(sl_lineage *l);
/* Emits the end event: FAIL when error is non-NULL (its text becomes the
 * errorMessage facet), else ABORT when stopped (a signal ended the run
 * early), else COMPLETE. */
void sl_lineage_end(sl_lineage *l, const char *error, bool stopped);

/* The event as one line of JSON (without the newline), for tests. */
void sl_lineage_event_json(sl_lineage *l, const char *event_type, const char *error, sl_buf *out);

#endif
