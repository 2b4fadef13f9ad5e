/* fuzz_config_load.c — the configuration loader on arbitrary bytes.
 *
 * Runs the checking path `sluice check` runs: parse and load, resolve a small
 * fixed option schema against every component, resolve the graph (vertices
 * straight from the decls, without named outputs), then print the config and
 * the report. Nothing may crash, leak or hang, whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"
#include "config/graph.h"
#include "config/options.h"

static const char *const formats[] = { "jsonl", "csv", NULL };
static const sl_option schema[] = {
    { "path", SL_OPT_STRING, false, NULL, "A path.", NULL },
    { "format", SL_OPT_ENUM, false, "jsonl", "A format.", formats },
    { "count", SL_OPT_INT, false, "1", "A count.", NULL },
    { "ratio", SL_OPT_FLOAT, false, NULL, "A ratio.", NULL },
    { "on", SL_OPT_BOOL, false, "true", "A switch.", NULL },
    { "size", SL_OPT_SIZE, false, "1MiB", "A size.", NULL },
    { "wait", SL_OPT_DURATION, false, "1s", "A duration.", NULL },
    { "paths", SL_OPT_LIST, false, "[a]", "Paths.", NULL },
    { "csv.delimiter", SL_OPT_STRING, false, ",", "A separator.", NULL },
    { "where", SL_OPT_EXPR, false, NULL, "A condition.", NULL },
    { "extra", SL_OPT_ANY, false, NULL, "Anything.", NULL },
    { NULL, 0, false, NULL, NULL, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_diag diag;
    sl_diag_init(&diag);
    sl_config *cfg = sl_config_parse("fuzz.yaml", (const char *)data, size, &diag);
    if (cfg) {
        sl_graph_vertex *v = calloc(cfg->n_decls + 1, sizeof *v);
        if (!v)
            abort();
        for (size_t i = 0; i < cfg->n_decls; i++) {
            const sl_component_decl *d = &cfg->decls[i];
            sl_opts *o = sl_opts_resolve(schema, d->node, &diag);
            (void)sl_opts_size(o, "size");
            (void)sl_opts_list_len(o, "paths");
            sl_opts_free(o);
            v[i] = (sl_graph_vertex){ d->name, d->kind, d->node->pos, NULL, 0,
                                      d->inputs, d->input_pos, d->n_inputs, false };
        }
        sl_graph g;
        sl_graph_resolve(v, cfg->n_decls, &g, &diag);
        sl_graph_free(&g);
        free(v);
        sl_buf out;
        sl_buf_init(&out);
        sl_config_print(cfg, &out);
        sl_buf_free(&out);
        sl_config_free(cfg);
    }
    sl_buf report;
    sl_buf_init(&report);
    sl_diag_print(&diag, &report);
    sl_buf_free(&report);
    sl_diag_free(&diag);
    return 0;
}
