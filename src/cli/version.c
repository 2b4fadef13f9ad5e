/* version.c — `sluice version`: the version on one line. */
#include <string.h>

#include "cli.h"

int sl_cmd_version(int argc, char **argv) {
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            sl_cli_command_help("version", stdout);
            return SL_EXIT_OK;
        }
        return sl_cli_usage_error("version", "'version' takes no arguments, got '%s'", argv[1]);
    }
    printf("sluice %s\n", SL_VERSION);
    return SL_EXIT_OK;
}
