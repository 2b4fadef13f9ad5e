/* config.h — a pipeline configuration file, loaded and checked.
 *
 * Top-level keys:
 *   data_dir       directory for sluice's own state (default ".sluice/<file name
 *                  without .yaml>": one per pipeline)
 *   memory_limit   global byte budget for in-flight data (default 256MiB)
 *   workers        transform worker threads (default: number of CPUs)
 *   batch          {max_records: 1024, max_bytes: 1MiB}
 *   log_level      debug | info | warn | error (default info)
 *   api            {address: "127.0.0.1:8686"}  /metrics /health /ready /stats
 *   dlq            {path: "<data_dir>/dlq"}
 *   checkpoint     {enabled: true, interval: 1s}  checkpoints in data_dir
 *                  (runtime/checkpointer.c)
 *   report         {path: out/report.html, title: "..."}  the HTML report
 *                  written at the end of a run (and served at /report)
 *   lineage        {file: out/lineage.jsonl, url: http://..., namespace: sluice}
 *                  OpenLineage run events (runtime/lineage.h)
 *   sources, transforms, sinks   named components: {type: ..., inputs: [...], ...}
 * Keys that later versions will use (tests) are recognised
 * and rejected with "not implemented yet" rather than "unknown key".
 *
 * sl_config_load reports every problem (YAML syntax, unknown keys with "did
 * you mean", wrong types) to diag as file:line:col and returns what it could
 * load; per-component options are checked later by the pipeline builder
 * against each component's schema.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "node.h"

typedef enum { SL_DECL_SOURCE, SL_DECL_TRANSFORM, SL_DECL_SINK } sl_decl_kind;

typedef struct sl_component_decl {
    char *name;
    sl_decl_kind kind;
    char *type;                /* NULL when missing (an error was reported) */
    sl_pos type_pos;
    const sl_node *node;       /* the component's mapping */
    char **inputs;             /* as written: "name" or "route.output" */
    sl_pos *input_pos;
    size_t n_inputs;
} sl_component_decl;

typedef struct sl_config {
    char *path;
    sl_node *root;
    char *data_dir;
    uint64_t memory_limit;
    int workers;
    uint32_t batch_max_records;
    uint64_t batch_max_bytes;
    char *log_level;           /* NULL = default */
    char *api_address;         /* NULL = no API server */
    char *dlq_path;
    bool checkpoint_enabled;   /* default true */
    bool checkpoint_required;  /* default true: a component that cannot take part is an error */
    uint64_t checkpoint_interval_ms;   /* default 1000 */
    char *report_path;         /* NULL = no report file */
    char *report_title;        /* NULL = a title made from the file name */
    char *lineage_file;        /* OpenLineage events appended as JSON lines, or NULL */
    char *lineage_url;         /* OpenLineage HTTP endpoint to POST to, or NULL */
    char *lineage_namespace;   /* job namespace; NULL = "sluice" */
    sl_component_decl *decls;  /* sources, then transforms, then sinks */
    size_t n_decls;
} sl_config;

sl_config *sl_config_load(const char *path, sl_diag *diag);
/* Same, from text in memory (tests, fuzzing). */
sl_config *sl_config_parse(const char *name, const char *text, size_t len, sl_diag *diag);
void sl_config_free(sl_config *c);
/* The configuration as YAML with secrets redacted (`sluice check --print`). */
void sl_config_print(const sl_config *c, sl_buf *out);

#endif
