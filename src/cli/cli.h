/* cli.h — the subcommands of the sluice binary, one file each in src/cli/,
 * and the few helpers they share (common.c).
 *
 * Each command receives the arguments after its name (argv[0] is the command
 * name) and returns the process exit code:
 *   0    success
 *   1    the pipeline or its configuration failed (errors already printed)
 *   2    the command line was wrong, or the pipeline file cannot be read
 *        (one line on stderr saying why)
 *   130  interrupted by a second SIGINT/SIGTERM during `run`
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "../config/config.h"
#include "../runtime/pipeline.h"

#define SL_VERSION "0.1.0"

#define SL_EXIT_OK 0
#define SL_EXIT_FAILED 1
#define SL_EXIT_USAGE 2
#define SL_EXIT_INTERRUPTED 130

int sl_cmd_run(int argc, char **argv);
int sl_cmd_check(int argc, char **argv);
int sl_cmd_graph(int argc, char **argv);
int sl_cmd_version(int argc, char **argv);
int sl_cmd_help(int argc, char **argv);
int sl_cmd_profile(int argc, char **argv);
int sl_cmd_wal(int argc, char **argv);
int sl_cmd_dlq(int argc, char **argv);

/* Prints the usage text of a command (help.c); false if there is no such
 * command. */
bool sl_cli_command_help(const char *command, FILE *out);

/* Prints "sluice: <message> (see 'sluice help <command>')" on stderr and
 * returns SL_EXIT_USAGE. */
int sl_cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command-line flag: `--name` alone (value == NULL) sets *set; `--name V`
 * or `--name=V` stores V in *value. */
typedef struct sl_cli_flag {
    const char *name;     /* with the dashes: "--no-progress"; NULL ends a table */
    bool *set;
    const char **value;
} sl_cli_flag;

/* Parses the flags of `command` and its one positional argument, the
 * pipeline file. Returns 0, SL_EXIT_USAGE after printing why, or -1 when
 * --help was asked for and printed (the command then exits 0). */
int sl_cli_parse(const char *command, int argc, char **argv, const sl_cli_flag *flags,
                 const char **file);

/* A loaded pipeline file. The diag stays alive with the configuration
 * because positions in the configuration point at file names it holds. */
typedef struct sl_cli_pipeline {
    sl_diag diag;
    sl_config *cfg;
    sl_pipeline *pipeline;
} sl_cli_pipeline;

/* Loads the pipeline file and builds the pipeline (without running it),
 * printing every diagnostic to stderr. Returns SL_EXIT_OK with cfg and
 * pipeline set, SL_EXIT_USAGE when the file cannot be read, or
 * SL_EXIT_FAILED when the configuration has errors (cfg may then still be
 * set, for `check --print`). sl_cli_unload frees it in every case. */
int sl_cli_load(const char *path, sl_cli_pipeline *out);
void sl_cli_unload(sl_cli_pipeline *l);

#endif
