/* graph.c — `sluice graph PIPELINE.yaml`: the pipeline's DAG as Graphviz DOT
 * on stdout (`sluice graph p.yaml | dot -Tsvg > p.svg`).
 */
#include "cli.h"

int sl_cmd_graph(int argc, char **argv) {
    const char *file;
    int rc = sl_cli_parse("graph", argc, argv, NULL, &file);
    if (rc)
        return rc < 0 ? SL_EXIT_OK : rc;
    sl_cli_pipeline lp;
    rc = sl_cli_load(file, &lp);
    if (rc == SL_EXIT_OK) {
        sl_buf out;
        sl_buf_init(&out);
        sl_pipeline_graph_dot(lp.pipeline, &out);
        fwrite(out.data, 1, out.len, stdout);
        sl_buf_free(&out);
    }
    sl_cli_unload(&lp);
    return rc;
}
