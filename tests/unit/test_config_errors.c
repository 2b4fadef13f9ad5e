/* test_config_errors.c — what `sluice check` says about bad configurations.
 *
 * A table of broken pipelines and the exact first line of the report
 * (file:line:col, error or warning, message). Each case runs the whole
 * checking path of the config module: load, a small fake option schema for
 * components of type "test", and the graph (a component of type "route" gets
 * the named outputs "a" and "_unmatched", as the real route would).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "config/graph.h"
#include "config/options.h"

static const char *const formats[] = { "jsonl", "csv", "raw", NULL };
static const sl_option test_schema[] = {
    { "path", SL_OPT_STRING, true, NULL, "Where to read.", NULL },
    { "format", SL_OPT_ENUM, false, "jsonl", "Input format.", formats },
    { "count", SL_OPT_INT, false, "1", "How many.", NULL },
    { "ratio", SL_OPT_FLOAT, false, NULL, "A fraction.", NULL },
    { "enabled", SL_OPT_BOOL, false, "true", "On or off.", NULL },
    { "max_size", SL_OPT_SIZE, false, "1MiB", "Largest input.", NULL },
    { "timeout", SL_OPT_DURATION, false, "5s", "How long to wait.", NULL },
    { "paths", SL_OPT_LIST, false, NULL, "More paths.", NULL },
    { "csv.delimiter", SL_OPT_STRING, false, ",", "Field separator.", NULL },
    { "csv.header", SL_OPT_BOOL, false, "true", "First line names the fields.", NULL },
    { NULL, 0, false, NULL, NULL, NULL },
};
static const char *const route_outputs[] = { "a", "_unmatched" };

/* Runs every check on text; returns the sorted report (caller frees). */
static char *check_config(const char *text)
{
    sl_diag diag;
    sl_diag_init(&diag);
    sl_config *cfg = sl_config_parse("p.yaml", text, strlen(text), &diag);
    if (cfg) {
        sl_graph_vertex *v = calloc(cfg->n_decls + 1, sizeof *v);
        for (size_t i = 0; i < cfg->n_decls; i++) {
            const sl_component_decl *d = &cfg->decls[i];
            if (d->type && strcmp(d->type, "test") == 0)
                sl_opts_free(sl_opts_resolve(test_schema, d->node, &diag));
            bool route = d->type && strcmp(d->type, "route") == 0;
            v[i] = (sl_graph_vertex){ d->name, d->kind, d->node->pos, route ? route_outputs : NULL,
                                      route ? 2 : 0, d->inputs, d->input_pos, d->n_inputs, false };
        }
        sl_graph g;
        sl_graph_resolve(v, cfg->n_decls, &g, &diag);
        sl_graph_free(&g);
        free(v);
        sl_config_free(cfg);
    }
    sl_buf out;
    sl_buf_init(&out);
    sl_diag_print(&diag, &out);
    sl_buf_putc(&out, '\0');
    sl_diag_free(&diag);
    return sl_buf_steal(&out, NULL);
}

#define SOURCE "sources:\n  in: {type: test, path: a.jsonl}\n"
#define SINK "sinks:\n  out: {type: stdout, inputs: [in]}\n"

typedef struct bad_config {
    const char *yaml;
    const char *first;     /* the first line of the report */
} bad_config;

static const bad_config cases[] = {
    /* YAML itself */
    { "sources:\n  in: {type: test\n",
      "p.yaml:3:1: error: invalid YAML: did not find expected ',' or '}' while parsing a flow mapping "
      "at line 2, column 7" },
    { "sources:\n  in: {type: test, path: a}\n  in: {type: test, path: b}\n" SINK,
      "p.yaml:3:3: error: duplicate key 'in' (first defined at line 2, column 3)" },
    { "sources:\n  in: *nothing\n",
      "p.yaml:2:7: error: unknown alias '*nothing' (an anchor '&nothing' must come before it and be complete)" },
    /* top level */
    { "sorces:\n  in: {type: test, path: a}\n" SINK,
      "p.yaml:1:1: error: unknown top-level key 'sorces'; did you mean 'sources'?" },
    { "memory_limit: 12XB\n" SOURCE SINK,
      "p.yaml:1:15: error: 'memory_limit' must be a size such as 256MiB, 1GB or 512k, found '12XB'" },
    { "workers: 0\n" SOURCE SINK,
      "p.yaml:1:10: error: 'workers' must be a whole number from 1 to 1024, found '0'" },
    { "log_level: inf\n" SOURCE SINK,
      "p.yaml:1:12: error: 'log_level' must be one of debug, info, warn, error, found 'inf'; "
      "did you mean 'info'?" },
    { "batch: {max_record: 5}\n" SOURCE SINK,
      "p.yaml:1:9: error: unknown key 'max_record' in 'batch'; did you mean 'max_records'?" },
    { SOURCE SINK "checkpoint: {interval: 10}\n",
      "p.yaml:5:24: error: 'checkpoint.interval' must be a duration such as 500ms, 1s or 5m, found '10'" },
    { SOURCE SINK "checkpoint: {enabled: yes}\n",
      "p.yaml:5:23: error: 'checkpoint.enabled' must be true or false, found 'yes'" },
    { SOURCE SINK "checkpoint: {intervall: 1s}\n",
      "p.yaml:5:14: error: unknown key 'intervall' in 'checkpoint'; did you mean 'interval'?" },
    { SOURCE SINK "api: {address: \"localhost8686\"}\n",
      "p.yaml:5:16: error: api.address: bad api address 'localhost8686': expected \"host:port\", "
      "e.g. \"127.0.0.1:8686\"" },
    { SOURCE SINK "api: {address: \"127.0.0.1:99999\"}\n",
      "p.yaml:5:16: error: api.address: bad api address '127.0.0.1:99999': the port must be a number "
      "from 0 to 65535" },
    { SOURCE SINK "tests: []\n",
      "p.yaml:5:1: error: 'tests' is not implemented yet in this version of sluice" },
    { SOURCE SINK "report: {title: Nightly}\n",
      "p.yaml:5:9: error: 'report' needs a 'path', e.g. report: {path: out/report.html}" },
    { SOURCE SINK "report: {path: out/r.html, tittle: x}\n",
      "p.yaml:5:28: error: unknown key 'tittle' in 'report'; did you mean 'title'?" },
    { "sinks:\n  out: {type: stdout, inputs: [in]}\n",
      "p.yaml:1:1: error: the pipeline has no sources: add a 'sources:' section" },
    /* component declarations */
    { SOURCE "sinks:\n  in: {type: stdout, inputs: [in]}\n",
      "p.yaml:4:3: error: component name 'in' is already used by the source at p.yaml:2:3" },
    { SOURCE "sinks:\n  out: {inputs: [in]}\n",
      "p.yaml:4:8: error: sink 'out' has no 'type'" },
    { SOURCE "sinks:\n  out: {type: [stdout], inputs: [in]}\n",
      "p.yaml:4:15: error: 'type' of sink 'out' must be a scalar, found a list" },
    { SOURCE "sinks:\n  out: {type: stdout, inputs: [in, [x]]}\n",
      "p.yaml:4:36: error: 'inputs' of sink 'out' must be a list of component names; item 2 is a list" },
    { SOURCE "sinks:\n  my.out: {type: stdout, inputs: [in]}\n",
      "p.yaml:4:3: error: invalid component name 'my.out': use letters, digits, '_' and '-'" },
    /* interpolation */
    { "sources:\n  in: {type: test, path: \"${env:SLUICE_TEST_UNSET}\"}\n" SINK,
      "p.yaml:2:26: error: environment variable SLUICE_TEST_UNSET is not set" },
    { "sources:\n  in: {type: test, path: \"${vault:db/password}\"}\n" SINK,
      "p.yaml:2:26: error: unknown interpolation '${vault:...}': use ${env:NAME}, ${env:NAME:-default} "
      "or ${file:PATH} ($${ writes a literal ${)" },
    { "sources:\n  in: {type: test, path: \"${file:/nonexistent/token}\"}\n" SINK,
      "p.yaml:2:26: error: cannot read '/nonexistent/token' for ${file:}: No such file or directory" },
    { "sources:\n  in: {type: test, path: \"${env:HOME\"}\n" SINK,
      "p.yaml:2:26: error: '${' is not closed by '}' (write $${ for a literal ${)" },
    /* options (the fake schema) */
    { "sources:\n  in: {type: test, pth: a.jsonl}\n" SINK,
      "p.yaml:2:7: error: missing required option 'path'" },
    { "sources:\n  in: {type: test, path: a.jsonl, fromat: csv}\n" SINK,
      "p.yaml:2:35: error: unknown option 'fromat'; did you mean 'format'?" },
    { "sources:\n  in: {type: test, path: a.jsonl, count: many}\n" SINK,
      "p.yaml:2:42: error: option 'count' must be an integer, found 'many'" },
    { "sources:\n  in: {type: test, path: a.jsonl, count: \"3\"}\n" SINK,
      "p.yaml:2:42: error: option 'count' must be an integer, found the quoted string '3'" },
    { "sources:\n  in: {type: test, path: [a, b]}\n" SINK,
      "p.yaml:2:26: error: option 'path' must be a string, found a list" },
    { "sources:\n  in: {type: test, path: a.jsonl, format: jsnl}\n" SINK,
      "p.yaml:2:43: error: option 'format' must be one of jsonl, csv, raw, found 'jsnl'; "
      "did you mean 'jsonl'?" },
    { "sources:\n  in: {type: test, path: a.jsonl, timeout: 5 seconds}\n" SINK,
      "p.yaml:2:44: error: option 'timeout' must be a duration such as 250ms, 5s or 1m, found '5 seconds'" },
    { "sources:\n  in: {type: test, path: a.jsonl, max_size: 10QB}\n" SINK,
      "p.yaml:2:45: error: option 'max_size' must be a size such as 64MiB, 1GB or 512k, found '10QB'" },
    { "sources:\n  in: {type: test, path: a.jsonl, enabled: maybe}\n" SINK,
      "p.yaml:2:44: error: option 'enabled' must be true or false, found 'maybe'" },
    { "sources:\n  in:\n    type: test\n    path: a.jsonl\n    csv: {delimter: ';'}\n" SINK,
      "p.yaml:5:11: error: unknown option 'csv.delimter'; did you mean 'csv.delimiter'?" },
    { "sources:\n  in:\n    type: test\n    path: a.jsonl\n    csv: tab\n" SINK,
      "p.yaml:5:10: error: 'csv' must be a mapping of options (csv.*), found a scalar" },
    { "sources:\n  in: {type: test, path: a.jsonl, paths: [a, [b]]}\n" SINK,
      "p.yaml:2:46: error: option 'paths' must be a list of strings; item 2 is a list" },
    /* a LIST holds strings: YAML's numbers, booleans and nulls are mistakes */
    { "sources:\n  in: {type: test, path: a.jsonl, paths: 5}\n" SINK,
      "p.yaml:2:42: error: option 'paths' must be a string or a list of strings, found the number 5 "
      "(quote it to mean the text: \"5\")" },
    { "sources:\n  in: {type: test, path: a.jsonl, paths: [a, true]}\n" SINK,
      "p.yaml:2:46: error: option 'paths' must be a list of strings; item 2 is the boolean true "
      "(quote it to mean the text: \"true\")" },
    { "sources:\n  in: {type: test, path: a.jsonl, paths: [a, 1.5e3]}\n" SINK,
      "p.yaml:2:46: error: option 'paths' must be a list of strings; item 2 is the number 1.5e3 "
      "(quote it to mean the text: \"1.5e3\")" },
    { "sources:\n  in: {type: test, path: a.jsonl, paths: [a, ~]}\n" SINK,
      "p.yaml:2:46: error: option 'paths' must be a list of strings; item 2 is null" },
    /* the graph */
    { SOURCE "sinks:\n  out: {type: stdout, inputs: [inn]}\n",
      "p.yaml:4:32: error: unknown input 'inn' for sink 'out'; did you mean 'in'?" },
    { SOURCE "sinks:\n  out: {type: stdout}\n",
      "p.yaml:4:8: error: sink 'out' has no inputs: add 'inputs: [...]' naming the components it reads from" },
    { "sources:\n  in: {type: stdin, inputs: [out]}\n" SINK,
      "p.yaml:2:30: error: source 'in' cannot have inputs: sources read from outside the pipeline" },
    { SOURCE "transforms:\n  a: {type: filter, inputs: [in, b]}\n  b: {type: filter, inputs: [a]}\n"
      "sinks:\n  out: {type: stdout, inputs: [b]}\n",
      "p.yaml:4:34: error: cycle: a -> b -> a" },
    { SOURCE "transforms:\n  r: {type: route, inputs: [in]}\nsinks:\n  out: {type: stdout, inputs: [r.b]}\n",
      "p.yaml:6:32: error: transform 'r' has no output 'b'; its outputs are r.a, r._unmatched" },
    { SOURCE "transforms:\n  r: {type: route, inputs: [in]}\nsinks:\n  out: {type: stdout, inputs: [r]}\n",
      "p.yaml:6:32: error: transform 'r' has named outputs; use one of r.a, r._unmatched as the input" },
    { SOURCE "transforms:\n  f: {type: filter, inputs: [in]}\nsinks:\n  out: {type: stdout, inputs: [in.x]}\n",
      "p.yaml:4:6: warning: transform 'f' is not used by any sink or transform" },
    { SOURCE "sinks:\n  out: {type: stdout, inputs: [in]}\n  copy: {type: stdout, inputs: [out]}\n",
      "p.yaml:5:33: error: input 'out' of sink 'copy' is a sink; a sink has no output to read" },
};

static void test_bad_configs(void)
{
    unsetenv("SLUICE_TEST_UNSET");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *report = check_config(cases[i].yaml);
        char *nl = strchr(report, '\n');
        if (nl)
            *nl = '\0';
        if (strcmp(report, cases[i].first) != 0)
            fprintf(stderr, "case %zu:\n%s", i, cases[i].yaml);
        CHECK_STR(report, cases[i].first);
        free(report);
    }
}

/* The good pipeline the cases start from reports nothing at all. */
static void test_base_is_clean(void)
{
    char *report = check_config(SOURCE SINK);
    CHECK_STR(report, "");
    free(report);
}

/* Every problem is reported, in file order, not just the first. */
static void test_all_problems_sorted(void)
{
    char *report = check_config("sinks:\n  out: {type: stdout, inputs: [inn]}\n"
                                "sources:\n  in: {type: test, path: a, count: x}\nworkrs: 2\n");
    CHECK_STR(report,
              "p.yaml:2:32: error: unknown input 'inn' for sink 'out'; did you mean 'in'?\n"
              "p.yaml:4:36: error: option 'count' must be an integer, found 'x'\n"
              "p.yaml:5:1: error: unknown top-level key 'workrs'; did you mean 'workers'?\n");
    free(report);
}

/* Malformed inputs leave the component with none, which the graph reports
 * too; both lines point the user at the same component. */
static void test_inputs_mapping(void)
{
    char *report = check_config(SOURCE "sinks:\n  out: {type: stdout, inputs: {in: 1}}\n");
    CHECK_STR(report,
              "p.yaml:4:8: error: sink 'out' has no inputs: add 'inputs: [...]' naming the components it reads from\n"
              "p.yaml:4:31: error: 'inputs' of sink 'out' must be a list of component names, found a mapping\n");
    free(report);
}

int main(void)
{
    RUN(test_bad_configs);
    RUN(test_base_is_clean);
    RUN(test_all_problems_sorted);
    RUN(test_inputs_mapping);
    return check_report();
}
