/* common.c — what the subcommands share: argument parsing with one clear
 * error line for every mistake, and loading + building a pipeline with its
 * diagnostics printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int sl_cli_usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("sluice: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'sluice help %s')\n", command);
    return SL_EXIT_USAGE;
}

/* Handles one "--name[=value]" argument; *i advances past a separate value. */
static int parse_flag(const char *command, int argc, char **argv, int *i,
                      const sl_cli_flag *flags) {
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (const sl_cli_flag *f = flags; f && f->name; f++) {
        if (strlen(f->name) != name_len || strncmp(f->name, arg, name_len) != 0)
            continue;
        if (!f->value) {
            if (eq)
                return sl_cli_usage_error(command, "flag '%s' takes no value", f->name);
            *f->set = true;
            return 0;
        }
        if (eq) {
            *f->value = eq + 1;
        } else if (*i + 1 < argc) {
            *f->value = argv[++*i];
        } else {
            return sl_cli_usage_error(command, "flag '%s' needs a value", f->name);
        }
        return 0;
    }
    return sl_cli_usage_error(command, "unknown flag '%.*s' for '%s'", (int)name_len, arg, command);
}

int sl_cli_parse(const char *command, int argc, char **argv, const sl_cli_flag *flags,
                 const char **file) {
    *file = NULL;
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!flags_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            sl_cli_command_help(command, stdout);
            return -1;
        }
        if (!flags_done && strcmp(arg, "--") == 0) {
            flags_done = true;
        } else if (!flags_done && arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_flag(command, argc, argv, &i, flags);
            if (rc)
                return rc;
        } else if (*file) {
            return sl_cli_usage_error(command, "'%s' takes one pipeline file, got '%s' and '%s'",
                                      command, *file, arg);
        } else {
            *file = arg;
        }
    }
    if (!*file)
        return sl_cli_usage_error(command, "'%s' needs a pipeline file, e.g. 'sluice %s pipeline.yaml'",
                                  command, command);
    return 0;
}

static void print_diag(sl_diag *diag) {
    if (diag->count == 0)
        return;
    sl_buf out;
    sl_buf_init(&out);
    sl_diag_print(diag, &out);
    fwrite(out.data, 1, out.len, stderr);
    sl_buf_free(&out);
}

int sl_cli_load(const char *path, sl_cli_pipeline *out) {
    sl_diag_init(&out->diag);
    out->cfg = NULL;
    out->pipeline = NULL;
    FILE *f = fopen(path, "r");
    struct stat st;
    int error = !f ? errno : fstat(fileno(f), &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (f)
        fclose(f);
    if (error) {
        fprintf(stderr, "sluice: cannot read '%s': %s\n", path, strerror(error));
        return SL_EXIT_USAGE;
    }
    out->cfg = sl_config_load(path, &out->diag);
    /* Build even after configuration errors: it checks every component's
     * options and the graph, so one `check` reports everything at once. */
    if (out->cfg)
        out->pipeline = sl_pipeline_build(out->cfg, &out->diag);
    print_diag(&out->diag);
    if (out->pipeline && !sl_diag_has_errors(&out->diag))
        return SL_EXIT_OK;
    return SL_EXIT_FAILED;
}

void sl_cli_unload(sl_cli_pipeline *l) {
    sl_pipeline_free(l->pipeline);
    sl_config_free(l->cfg);
    sl_diag_free(&l->diag);
    l->pipeline = NULL;
    l->cfg = NULL;
}
