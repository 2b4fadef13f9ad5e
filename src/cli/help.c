/* help.c — `sluice help [COMMAND | COMPONENT | --reference]`.
 *
 * Component help is generated from the component types themselves (summary,
 * doc, example, option schema), the same source as validation, so the help
 * and the generated docs/components.md (`sluice help --reference`, written by
 * `make docs`) cannot drift from what the code accepts.
 */
#include <string.h>

#include "../config/options.h"
#include "../core/util.h"
#include "../runtime/component.h"
#include "../runtime/sink_retry.h"
#include "cli.h"

static const struct {
    const char *name, *summary, *usage;
} commands[] = {
    {"run", "run a pipeline",
     "usage: sluice run [--log-level LEVEL] [--no-progress] [--from-start] PIPELINE.yaml\n"
     "\n"
     "Runs the pipeline until its sources are exhausted (batch mode) or until it\n"
     "is stopped with Ctrl-C or SIGTERM: sources stop reading, what was read is\n"
     "written out, and sluice exits 0. A second signal exits at once with\n"
     "status 130. A summary (records per component, dead-letter queue by reason,\n"
     "throughput) is printed to stderr at the end.\n"
     "\n"
     "Checkpoints (in data_dir, every checkpoint.interval and at the end) record\n"
     "how far every source has read; a run resumes from the last one, so after a\n"
     "crash or a stop nothing is read twice and nothing is lost.\n"
     "\n"
     "flags:\n"
     "  --from-start       ignore the last checkpoint and read every input from the\n"
     "                     start\n"
     "  --log-level LEVEL  debug, info, warn, error or off (default: $SLUICE_LOG,\n"
     "                     else the pipeline's log_level, else info)\n"
     "  --no-progress      no progress bar (one is drawn only when stderr is a\n"
     "                     terminal)\n"
     "\n"
     "exit status: 0 done, 1 the configuration or the run failed, 2 bad command\n"
     "line or unreadable file, 130 interrupted\n"},
    {"check", "check a pipeline file without running it",
     "usage: sluice check [--print] PIPELINE.yaml\n"
     "\n"
     "Loads the pipeline and builds every component without running anything.\n"
     "Every problem is reported at once, as file:line:col: error: message.\n"
     "\n"
     "flags:\n"
     "  --print  also print the configuration as sluice understood it, with\n"
     "           defaults applied and secrets shown as <redacted>\n"
     "\n"
     "exit status: 0 valid, 1 errors were found, 2 bad command line or\n"
     "unreadable file\n"},
    {"graph", "print the pipeline as a Graphviz DOT graph",
     "usage: sluice graph PIPELINE.yaml\n"
     "\n"
     "Prints the pipeline's components and their connections in Graphviz DOT,\n"
     "e.g. `sluice graph p.yaml | dot -Tsvg > p.svg`.\n"},
    {"profile", "profile data files; suggest a contract; compare with a baseline",
     "usage: sluice profile [--format jsonl|csv|text] [-o PROFILE.json]\n"
     "                      [--suggest-contract CONTRACT.yaml] [--baseline OLD.json]\n"
     "                      [--fail-on warn|alert] FILE...\n"
     "\n"
     "Reads the files as `sluice run` would (gzip and zstd too) and profiles every\n"
     "field: presence, nulls, types, distinct count, quantiles, top values. Prints a\n"
     "summary table; records that cannot be decoded are counted and left out.\n"
     "\n"
     "flags:\n"
     "  --format F                jsonl, csv or text (default: csv when every file\n"
     "                            is named *.csv[.gz|.zst], else jsonl)\n"
     "  -o, --output FILE         write the profile as JSON (a baseline for later)\n"
     "  --suggest-contract FILE   write a starting contract for the validate\n"
     "                            transform, inferred from the data\n"
     "  --baseline FILE           print drift per field against a saved profile\n"
     "                            (values, lengths, characters, distinct ratio,\n"
     "                            rate, null rate, type mix)\n"
     "  --fail-on LEVEL           with --baseline: exit 3 when a field's drift is\n"
     "                            at LEVEL (warn or alert) or above\n"
     "\n"
     "exit status: 0 done, 1 the run failed, 2 bad command line or unreadable\n"
     "file, 3 drift at the --fail-on level\n"},
    {"version", "print the version",
     "usage: sluice version\n"},
    {"help", "show help for a command or a component type",
     "usage: sluice help [COMMAND | COMPONENT | --reference]\n"
     "\n"
     "  sluice help             the list of commands and component types\n"
     "  sluice help COMMAND     how to use a command (run, check, graph, ...)\n"
     "  sluice help COMPONENT   a component type's options, with an example\n"
     "                          (e.g. `sluice help filter`)\n"
     "  sluice help --reference the full component reference in Markdown\n"
     "                          (what `make docs` writes to docs/components.md)\n"},
    {"wal", "inspect, verify or benchmark a write-ahead log directory",
     "usage: sluice wal inspect DIR | sluice wal verify DIR\n"
     "       sluice wal bench [--sync POLICY] [--records N] [--record-bytes B]\n"
     "                        [--threads T] DIR\n"
     "\n"
     "  inspect  lists every segment: first sequence number, records, bytes, state\n"
     "  verify   prints only damaged segments; exit status 1 when there are any\n"
     "  bench    appends N records of B bytes from T threads and prints records/s,\n"
     "           MB/s, the number of fsyncs and their latency (p50, p99, max)\n"
     "\n"
     "inspect and verify change nothing. Damage is repaired when the log is next\n"
     "opened: a torn tail is truncated, a damaged older segment is quarantined\n"
     "with the records before the damage kept.\n"
     "\n"
     "bench flags:\n"
     "  --sync POLICY       always, group_commit_ms:N or os (default\n"
     "                      group_commit_ms:10)\n"
     "  --records N         records to append in all (default 20000)\n"
     "  --record-bytes B    payload of each record, e.g. 256 or 4k (default 256)\n"
     "  --threads T         concurrent appenders (default 64). An append returns\n"
     "                      once durable, so with group_commit_ms:N each thread\n"
     "                      appends at most ~1000/N records/s\n"
     "bench writes into DIR only if it is new or holds no WAL segments, and\n"
     "removes the log afterwards only if it created DIR.\n"
     "\n"
     "exit status: 0 done, 1 verify found damage or the bench failed, 2 bad\n"
     "command line or unusable DIR\n"},
    {"dlq", "count and show dead letters by reason, component and message class",
     "usage: sluice dlq summary DIR_OR_FILE [--reason R] [--component C] [--class TEXT]\n"
     "       sluice dlq show DIR_OR_FILE [--reason R] [--component C] [--class TEXT]\n"
     "                                   [--limit N] [--json]\n"
     "\n"
     "Reads a DLQ file, or every file of a DLQ directory (e.g. .sluice/NAME/dlq), and\n"
     "changes nothing.\n"
     "\n"
     "summary prints the number of entries by reason, by component, by source, and\n"
     "by reason, component and message class together, the oldest and newest\n"
     "entry, how many are truncated (not replayable by the dlq source) and how many\n"
     "lines are not DLQ entries. A message's class is the message with numbers\n"
     "replaced by N and quoted values by '\xe2\x80\xa6' (names followed by ':' are kept):\n"
     "  rule gopher_dup_5gram: 0.42 is above the maximum 0.15\n"
     "  -> rule gopher_dup_5gram: N is above the maximum N\n"
     "\n"
     "show prints the entries: time, reason, component, origin and position,\n"
     "message, class and the start of the record (read from the side file dlq.raw\n"
     "for large records).\n"
     "  --reason R      only entries with this reason\n"
     "  --component C   only entries written by this component\n"
     "  --class TEXT    only entries whose class contains TEXT (e.g. a rule name)\n"
     "  --limit N       show: at most N entries (default 20; 0 for all)\n"
     "  --json          show: print the selected entries as the JSON lines they are\n"
     "\n"
     "exit status: 0 done, 1 a file could not be read completely, 2 bad command\n"
     "line or the path does not exist\n"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const sl_kind kinds[] = {SL_SOURCE, SL_TRANSFORM, SL_SINK};
static const char *const kind_titles[] = {"Sources", "Transforms", "Sinks"};

bool sl_cli_command_help(const char *command, FILE *out) {
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, command) == 0) {
            fputs(commands[i].usage, out);
            return true;
        }
    }
    return false;
}

static void overview(FILE *out) {
    fputs("sluice — a resilient data pipeline engine\n"
          "\n"
          "usage: sluice COMMAND [ARGS]\n"
          "\n"
          "commands:\n", out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\ncomponent types (`sluice help TYPE` shows one's options):\n", out);
    for (size_t k = 0; k < 3; k++) {
        fprintf(out, "  %-11s", kind_titles[k]);
        const sl_component_type *const *list = sl_registry_list(kinds[k]);
        for (size_t i = 0; list[i]; i++)
            fprintf(out, "%s%s", i ? ", " : " ", list[i]->name);
        fputc('\n', out);
    }
    fputs("\n`sluice help COMMAND` shows how to use a command.\n", out);
}

/* One component type as Markdown; `h` is the heading prefix ("#", "###"). */
static void component_markdown(const sl_component_type *t, const char *h, sl_buf *out) {
    sl_buf_printf(out, "%s %s (%s)\n\n", h, t->name, sl_kind_name(t->kind));
    if (t->summary)
        sl_buf_printf(out, "%s\n\n", t->summary);
    if (t->doc) {
        sl_buf_puts(out, t->doc);
        sl_buf_puts(out, t->doc[0] && t->doc[strlen(t->doc) - 1] == '\n' ? "\n" : "\n\n");
    }
    if (t->example) {
        sl_buf_printf(out, "%s# Example\n\n```yaml\n%s", h, t->example);
        if (t->example[0] && t->example[strlen(t->example) - 1] != '\n')
            sl_buf_putc(out, '\n');
        sl_buf_puts(out, "```\n\n");
    }
    sl_buf_printf(out, "%s# Options\n\n", h);
    if (t->kind != SL_SOURCE)
        sl_buf_puts(out, "Besides `type`, every transform and sink takes `inputs`: the names of the "
                         "components it reads from (`route.output` for a route's named output).\n\n");
    if (t->kind == SL_SINK)
        sl_buf_puts(out, "Every sink also takes `retry`, `breaker`, `fallback` and `on_failure`, which decide "
                         "what happens when a write fails: see [Options every sink accepts]"
                         "(#options-every-sink-accepts).\n\n");
    if (t->options && t->options[0].name) {
        sl_options_doc_markdown(t->options, out);
        sl_buf_putc(out, '\n');
    } else {
        sl_buf_puts(out, "This component has no options.\n\n");
    }
}

static void reference(sl_buf *out) {
    sl_buf_puts(out,
        "# Component reference\n"
        "\n"
        "This file is generated by `make docs` (which runs `sluice help --reference`)\n"
        "from the option schemas in the source code, the same tables that\n"
        "`sluice check` validates against. Do not edit it by hand: change the\n"
        "component's source and run `make docs`. `sluice help TYPE` prints one\n"
        "component's section in a terminal.\n"
        "\n"
        "A pipeline names its components under `sources:`, `transforms:` and\n"
        "`sinks:`; each has a `type:` (one of those below) and, for transforms\n"
        "and sinks, `inputs:`.\n"
        "\n");
    for (size_t k = 0; k < 3; k++) {
        const sl_component_type *const *list = sl_registry_list(kinds[k]);
        sl_buf_printf(out, "- %s:", kind_titles[k]);
        for (size_t i = 0; list[i]; i++)
            sl_buf_printf(out, "%s[`%s`](#%s-%s)", i ? ", " : " ", list[i]->name, list[i]->name,
                          sl_kind_name(kinds[k]));
        sl_buf_putc(out, '\n');
    }
    for (size_t k = 0; k < 3; k++) {
        sl_buf_printf(out, "\n## %s\n\n", kind_titles[k]);
        const sl_component_type *const *list = sl_registry_list(kinds[k]);
        for (size_t i = 0; list[i]; i++)
            component_markdown(list[i], "###", out);
    }
    sl_buf_puts(out,
        "\n## Options every sink accepts\n\n"
        "The runtime, not the sink, handles a failed write, the same way for every sink type. "
        "A failed write is retried with exponential backoff and full jitter; consecutive "
        "failures open the sink's circuit breaker, which fails payloads fast until a probe "
        "write succeeds; a payload that is given up goes to the `fallback` sink, else to the "
        "DLQ with reason `sink_failed` (or, with `on_failure: fail`, stops the run). Nothing "
        "is dropped silently. See the \"Retries and failures\" section of docs/delivery.md.\n\n"
        "```yaml\n"
        "    retry: {initial: 100ms, max: 30s, max_attempts: 10}\n"
        "    breaker: {failures: 5, cooldown: 10s}\n"
        "    fallback: local_copy\n"
        "```\n\n");
    sl_options_doc_markdown(sl_sink_retry_options, out);
    /* Exactly one newline at the end of the file. */
    while (out->len > 0 && out->data[out->len - 1] == '\n')
        out->len--;
    sl_buf_putc(out, '\n');
}

/* Prints help for every component type named `name` (a name may be both a
 * source and a sink, like `file`); false if there is none. */
static bool component_help(const char *name) {
    sl_buf out;
    sl_buf_init(&out);
    for (size_t k = 0; k < 3; k++) {
        const sl_component_type *t = sl_registry_find(kinds[k], name);
        if (t)
            component_markdown(t, "#", &out);
    }
    bool found = out.len > 0;
    if (found)
        fwrite(out.data, 1, out.len - 1, stdout);   /* without the blank last line */
    sl_buf_free(&out);
    return found;
}

static int unknown_topic(const char *topic) {
    const char *names[N_COMMANDS + 64];
    size_t n = 0;
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[n++] = commands[i].name;
    for (size_t k = 0; k < 3; k++) {
        const sl_component_type *const *list = sl_registry_list(kinds[k]);
        for (size_t i = 0; list[i] && n < sizeof names / sizeof names[0]; i++)
            names[n++] = list[i]->name;
    }
    const char *guess = sl_did_you_mean(topic, names, n);
    if (guess)
        fprintf(stderr, "sluice: no command or component type named '%s'; did you mean '%s'? "
                "(see 'sluice help')\n", topic, guess);
    else
        fprintf(stderr, "sluice: no command or component type named '%s' (see 'sluice help')\n",
                topic);
    return SL_EXIT_USAGE;
}

int sl_cmd_help(int argc, char **argv) {
    if (argc < 2) {
        overview(stdout);
        return SL_EXIT_OK;
    }
    if (argc > 2)
        return sl_cli_usage_error("help", "'help' takes one topic, got '%s' and '%s'", argv[1], argv[2]);
    const char *topic = argv[1];
    if (strcmp(topic, "--reference") == 0) {
        sl_buf out;
        sl_buf_init(&out);
        reference(&out);
        fwrite(out.data, 1, out.len, stdout);
        sl_buf_free(&out);
        return SL_EXIT_OK;
    }
    if (strcmp(topic, "-h") == 0 || strcmp(topic, "--help") == 0)
        topic = "help";
    if (topic[0] == '-')
        return sl_cli_usage_error("help", "unknown flag '%s' for 'help'", topic);
    if (sl_cli_command_help(topic, stdout))
        return SL_EXIT_OK;
    if (component_help(topic))
        return SL_EXIT_OK;
    return unknown_topic(topic);
}
