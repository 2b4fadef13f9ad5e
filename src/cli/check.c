/* check.c — `sluice check [--print] PIPELINE.yaml`: loads the pipeline and
 * builds every component without running anything, so that every problem in
 * the file is reported at once as file:line:col: error: message.
 */
#include "cli.h"

static const char *plural(size_t n, const char *one, const char *many) {
    return n == 1 ? one : many;
}

int sl_cmd_check(int argc, char **argv) {
    bool print = false;
    const char *file;
    const sl_cli_flag flags[] = {
        {"--print", &print, NULL},
        {NULL, NULL, NULL},
    };
    int rc = sl_cli_parse("check", argc, argv, flags, &file);
    if (rc)
        return rc < 0 ? SL_EXIT_OK : rc;

    sl_cli_pipeline lp;
    rc = sl_cli_load(file, &lp);
    if (print && lp.cfg) {
        sl_buf out;
        sl_buf_init(&out);
        sl_config_print(lp.cfg, &out);
        fwrite(out.data, 1, out.len, stdout);
        sl_buf_free(&out);
    }
    if (rc == SL_EXIT_OK) {
        size_t n[3] = {0, 0, 0};
        for (size_t i = 0; i < lp.cfg->n_decls; i++)
            n[lp.cfg->decls[i].kind]++;
        printf("%s: ok, %zu %s, %zu %s, %zu %s\n", file,
               n[SL_DECL_SOURCE], plural(n[SL_DECL_SOURCE], "source", "sources"),
               n[SL_DECL_TRANSFORM], plural(n[SL_DECL_TRANSFORM], "transform", "transforms"),
               n[SL_DECL_SINK], plural(n[SL_DECL_SINK], "sink", "sinks"));
        char why[256];
        if (sl_checkpoints_off_reason(lp.pipeline, why, sizeof why))
            printf("note: %s\n", why);
        sl_pipeline_delivery_line(lp.pipeline, stdout);
    }
    sl_cli_unload(&lp);
    return rc;
}
