/* test_config_load.c — good configurations load into what they say.
 *
 * Covers the declarations and defaults of config.c, interpolation and secret
 * redaction (node.c), aliases and their budget, typed option access and the
 * generated Markdown reference (options.c), and the graph's edges and order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"
#include "config/graph.h"
#include "config/options.h"

static sl_config *parse(const char *text, sl_diag *diag)
{
    sl_diag_init(diag);
    return sl_config_parse("p.yaml", text, strlen(text), diag);
}

static char *report(sl_diag *diag)
{
    sl_buf out;
    sl_buf_init(&out);
    sl_diag_print(diag, &out);
    sl_buf_putc(&out, '\0');
    return sl_buf_steal(&out, NULL);
}

static void test_full_config(void)
{
    sl_diag diag;
    sl_config *c = parse("sinks:\n"
                         "  out: {type: stdout, inputs: [keep, events]}\n"
                         "data_dir: /var/lib/sluice\n"
                         "memory_limit: 64MiB\n"
                         "workers: 3\n"
                         "batch: {max_records: 500, max_bytes: 2MiB}\n"
                         "log_level: debug\n"
                         "api: {address: \"0.0.0.0:9000\"}\n"
                         "sources:\n"
                         "  events: {type: file, paths: [\"data/*.jsonl\"]}\n"
                         "transforms:\n"
                         "  keep:\n"
                         "    type: filter\n"
                         "    inputs: events\n"
                         "    condition: '.x > 1'\n", &diag);
    CHECK(c != NULL);
    CHECK_INT(diag.count, 0);
    CHECK_STR(c->path, "p.yaml");
    CHECK_STR(c->data_dir, "/var/lib/sluice");
    CHECK_INT(c->memory_limit, 64 << 20);
    CHECK_INT(c->workers, 3);
    CHECK_INT(c->batch_max_records, 500);
    CHECK_INT(c->batch_max_bytes, 2 << 20);
    CHECK_STR(c->log_level, "debug");
    CHECK_STR(c->api_address, "0.0.0.0:9000");
    CHECK_STR(c->dlq_path, "/var/lib/sluice/dlq");
    CHECK_INT(c->n_decls, 3);
    /* sources, then transforms, then sinks, whatever the file order */
    CHECK_STR(c->decls[0].name, "events");
    CHECK_INT(c->decls[0].kind, SL_DECL_SOURCE);
    CHECK_STR(c->decls[0].type, "file");
    CHECK_INT(c->decls[0].type_pos.line, 10);
    CHECK_INT(c->decls[0].type_pos.col, 18);
    CHECK_INT(c->decls[0].n_inputs, 0);
    CHECK_STR(c->decls[1].name, "keep");
    CHECK_INT(c->decls[1].kind, SL_DECL_TRANSFORM);
    CHECK_STR(c->decls[1].type, "filter");
    CHECK_INT(c->decls[1].n_inputs, 1);          /* a single string is a list of one */
    CHECK_STR(c->decls[1].inputs[0], "events");
    CHECK_INT(c->decls[1].input_pos[0].line, 14);
    CHECK_INT(c->decls[1].input_pos[0].col, 13);
    CHECK_STR(sl_node_get(c->decls[1].node, "condition")->text, ".x > 1");
    CHECK_STR(c->decls[2].name, "out");
    CHECK_INT(c->decls[2].kind, SL_DECL_SINK);
    CHECK_INT(c->decls[2].n_inputs, 2);
    CHECK_STR(c->decls[2].inputs[0], "keep");
    CHECK_STR(c->decls[2].inputs[1], "events");
    CHECK_STR(c->decls[2].input_pos[1].file, "p.yaml");
    CHECK_INT(c->decls[2].input_pos[1].line, 2);
    CHECK_INT(c->decls[2].input_pos[1].col, 38);
    sl_config_free(c);
    sl_diag_free(&diag);
}

static void test_defaults(void)
{
    sl_diag diag;
    sl_config *c = parse("sources: {in: {type: stdin}}\nsinks: {out: {type: stdout, inputs: in}}\n", &diag);
    CHECK(c != NULL);
    CHECK_INT(diag.count, 0);
    CHECK_STR(c->data_dir, ".sluice/p");   /* one directory per pipeline file */
    CHECK_INT(c->memory_limit, 256 << 20);
    CHECK_INT(c->workers, sysconf(_SC_NPROCESSORS_ONLN));
    CHECK_INT(c->batch_max_records, 1024);
    CHECK_INT(c->batch_max_bytes, 1 << 20);
    CHECK(c->log_level == NULL);
    CHECK(c->api_address == NULL);
    CHECK_STR(c->dlq_path, ".sluice/p/dlq");
    sl_config_free(c);
    sl_diag_free(&diag);

    /* `api: {}` turns the API on at its default address */
    c = parse("api: {}\nsources: {in: {type: stdin}}\nsinks: {out: {type: stdout, inputs: in}}\n", &diag);
    CHECK_STR(c->api_address, "127.0.0.1:8686");
    sl_config_free(c);
    sl_diag_free(&diag);
}

static void test_interpolation(void)
{
    char path[] = "/tmp/sluice-test-secret-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, "file-s3cret\n", 12), 12);
    close(fd);
    setenv("SLUICE_T_TOKEN", "env-s3cret", 1);
    unsetenv("SLUICE_T_NOPE");
    char text[1024];
    snprintf(text, sizeof text,
             "a: ${env:SLUICE_T_TOKEN}\n"
             "b: ${env:SLUICE_T_NOPE:-fallback}\n"
             "c: \"Bearer ${env:SLUICE_T_TOKEN}!\"\n"
             "d: $${env:SLUICE_T_TOKEN}\n"
             "e: ${file:%s}\n"
             "f: cost $5\n"
             "${env:SLUICE_T_TOKEN}: keys are not interpolated\n", path);
    sl_diag diag;
    sl_diag_init(&diag);
    sl_node *root = sl_node_parse("i.yaml", text, strlen(text), &diag);
    CHECK(root != NULL);
    CHECK_INT(diag.count, 0);
    CHECK_STR(sl_node_get(root, "a")->text, "env-s3cret");
    CHECK(sl_node_get(root, "a")->secret);
    CHECK_STR(sl_node_get(root, "b")->text, "fallback");
    CHECK(sl_node_get(root, "b")->secret);
    CHECK_STR(sl_node_get(root, "c")->text, "Bearer env-s3cret!");
    CHECK_STR(sl_node_get(root, "d")->text, "${env:SLUICE_T_TOKEN}");
    CHECK(!sl_node_get(root, "d")->secret);
    CHECK_STR(sl_node_get(root, "e")->text, "file-s3cret");
    CHECK_INT(sl_node_get(root, "e")->len, 11);
    CHECK(sl_node_get(root, "e")->secret);
    CHECK_STR(sl_node_get(root, "f")->text, "cost $5");
    CHECK(!sl_node_get(root, "f")->secret);
    CHECK(sl_node_get(root, "${env:SLUICE_T_TOKEN}") != NULL);

    sl_buf out;
    sl_buf_init(&out);
    sl_node_print(root, &out);
    sl_buf_putc(&out, '\0');
    CHECK_STR(out.data, "a: <redacted>\n"
                        "b: <redacted>\n"
                        "c: <redacted>\n"
                        "d: $${env:SLUICE_T_TOKEN}\n"
                        "e: <redacted>\n"
                        "f: cost $5\n"
                        "${env:SLUICE_T_TOKEN}: keys are not interpolated\n");
    sl_buf_free(&out);
    sl_node_free(root);
    sl_diag_free(&diag);
    unlink(path);
}

static const char *const levels[] = { "low", "high", NULL };
static const sl_option schema[] = {
    { "path", SL_OPT_STRING, true, NULL, "Where to write.", NULL },
    { "level", SL_OPT_ENUM, false, "low", "How much.", levels },
    { "count", SL_OPT_INT, false, "7", "How many | at most.", NULL },
    { "ratio", SL_OPT_FLOAT, false, "0.5", "A fraction.", NULL },
    { "on", SL_OPT_BOOL, false, "true", "Switch.", NULL },
    { "size", SL_OPT_SIZE, false, "64MiB", "Bytes.", NULL },
    { "wait", SL_OPT_DURATION, false, "250ms", "Time.", NULL },
    { "tags", SL_OPT_LIST, false, "[x, y]", "Labels.", NULL },
    { "csv.delimiter", SL_OPT_STRING, false, ",", "Separator.", NULL },
    { "csv.quote", SL_OPT_STRING, false, NULL, "Quote character.", NULL },
    { "where", SL_OPT_EXPR, false, NULL, "A condition.", NULL },
    { "extra", SL_OPT_ANY, false, NULL, "A mapping of anything.", NULL },
    { NULL, 0, false, NULL, NULL, NULL },
};

static void test_secrets_never_shown(void)
{
    setenv("SLUICE_T_TOKEN", "env-s3cret", 1);
    sl_diag diag;
    sl_config *c = parse("memory_limit: ${env:SLUICE_T_TOKEN}\n"
                         "data_dir: ${env:SLUICE_T_TOKEN}\n"
                         "sources:\n"
                         "  in: {type: test, path: \"${env:SLUICE_T_TOKEN}\", level: \"${env:SLUICE_T_TOKEN}\",\n"
                         "       count: \"${env:SLUICE_T_TOKEN}\", wait: \"x${env:SLUICE_T_TOKEN}\"}\n"
                         "sinks:\n"
                         "  out: {type: stdout, inputs: [in], password: \"${env:SLUICE_T_TOKEN}\"}\n", &diag);
    CHECK(c != NULL);
    sl_opts_free(sl_opts_resolve(schema, c->decls[0].node, &diag));
    char *r = report(&diag);
    CHECK_STR(r, "p.yaml:1:15: error: 'memory_limit' must be a size such as 256MiB, 1GB or 512k, "
                 "found '<redacted>'\n"
                 "p.yaml:4:58: error: option 'level' must be one of low, high, found '<redacted>'\n"
                 "p.yaml:5:15: error: option 'count' must be an integer, found '<redacted>'\n"
                 "p.yaml:5:46: error: option 'wait' must be a duration such as 250ms, 5s or 1m, "
                 "found '<redacted>'\n");
    CHECK(strstr(r, "s3cret") == NULL);
    free(r);

    sl_buf out;
    sl_buf_init(&out);
    sl_config_print(c, &out);
    sl_buf_putc(&out, '\0');
    char expected[1024];
    snprintf(expected, sizeof expected,
             "data_dir: <redacted>\n"
             "memory_limit: 256MiB\n"
             "workers: %ld\n"
             "batch:\n"
             "  max_records: 1024\n"
             "  max_bytes: 1MiB\n"
             "log_level: info\n"
             "checkpoint:\n"
             "  enabled: true\n"
             "  interval: 1s\n"
             "  required: true\n"
             "dlq:\n"
             "  path: <redacted>\n"
             "sources:\n"
             "  in:\n"
             "    type: test\n"
             "    path: <redacted>\n"
             "    level: <redacted>\n"
             "    count: <redacted>\n"
             "    wait: <redacted>\n"
             "sinks:\n"
             "  out:\n"
             "    type: stdout\n"
             "    inputs:\n"
             "      - in\n"
             "    password: <redacted>\n", sysconf(_SC_NPROCESSORS_ONLN));
    CHECK_STR(out.data, expected);
    CHECK(strstr(out.data, "s3cret") == NULL);
    sl_buf_free(&out);
    sl_config_free(c);
    sl_diag_free(&diag);
}

static void test_options(void)
{
    sl_diag diag;
    sl_diag_init(&diag);
    const char *text = "type: t\n"
                       "inputs: [a]\n"
                       "path: out.jsonl\n"
                       "level: high\n"
                       "count: -3\n"
                       "size: 1.5k\n"
                       "wait: 2m\n"
                       "tags: solo\n"
                       "csv: {delimiter: ';'}\n"
                       "csv.quote: \"'\"\n"
                       "where: .a > 1\n"
                       "extra: {k: [1, 2]}\n"
                       "on: ~\n";
    sl_node *map = sl_node_parse("o.yaml", text, strlen(text), &diag);
    sl_opts *o = sl_opts_resolve(schema, map, &diag);
    CHECK_INT(diag.count, 0);
    CHECK_STR(sl_opts_string(o, "path"), "out.jsonl");
    CHECK_STR(sl_opts_enum(o, "level"), "high");
    CHECK_INT(sl_opts_int(o, "count"), -3);
    CHECK(sl_opts_float(o, "ratio") == 0.5);       /* default */
    CHECK(!sl_opts_has(o, "ratio"));
    CHECK(sl_opts_bool(o, "on"));                  /* null reads as the default */
    CHECK(!sl_opts_has(o, "on"));
    CHECK_INT(sl_opts_size(o, "size"), 1536);
    CHECK_INT(sl_opts_duration_ms(o, "wait"), 120000);
    CHECK_INT(sl_opts_list_len(o, "tags"), 1);
    CHECK_STR(sl_opts_list_item(o, "tags", 0), "solo");
    CHECK_STR(sl_opts_string(o, "csv.delimiter"), ";");
    CHECK_STR(sl_opts_string(o, "csv.quote"), "'");
    CHECK_STR(sl_opts_string(o, "where"), ".a > 1");
    CHECK(sl_opts_node(o, "extra") != NULL && sl_opts_node(o, "extra")->kind == SL_NODE_MAP);
    CHECK(sl_opts_has(o, "csv.delimiter"));
    CHECK_INT(sl_opts_pos(o, "csv.delimiter").line, 9);
    CHECK_INT(sl_opts_pos(o, "csv.delimiter").col, 18);
    CHECK_INT(sl_opts_pos(o, "ratio").line, 1);    /* unset: the component's position */
    sl_opts_free(o);

    /* defaults, and a failed value reading as its default */
    const char *text2 = "path: p\ncount: lots\n";
    sl_node *map2 = sl_node_parse("o.yaml", text2, strlen(text2), &diag);
    o = sl_opts_resolve(schema, map2, &diag);
    CHECK_INT(diag.count, 1);
    CHECK_INT(sl_opts_int(o, "count"), 7);
    CHECK(sl_opts_has(o, "count"));
    CHECK_STR(sl_opts_enum(o, "level"), "low");
    CHECK_INT(sl_opts_size(o, "size"), 64 << 20);
    CHECK_INT(sl_opts_duration_ms(o, "wait"), 250);
    CHECK_INT(sl_opts_list_len(o, "tags"), 2);
    CHECK_STR(sl_opts_list_item(o, "tags", 1), "y");
    CHECK_STR(sl_opts_string(o, "csv.delimiter"), ",");
    CHECK(sl_opts_string(o, "csv.quote") == NULL);
    CHECK(sl_opts_node(o, "extra") == NULL);
    sl_opts_free(o);

    sl_node_free(map);
    sl_node_free(map2);
    sl_diag_free(&diag);
}

static void test_doc_markdown(void)
{
    static const char *const modes[] = { "fast", "safe", NULL };
    static const sl_option small[] = {
        { "path", SL_OPT_STRING, true, NULL, "Where to write.", NULL },
        { "mode", SL_OPT_ENUM, false, "safe", "How to write.", modes },
        { "csv.delimiter", SL_OPT_STRING, false, "|", "Separator | any byte.", NULL },
        { NULL, 0, false, NULL, NULL, NULL },
    };
    sl_buf out;
    sl_buf_init(&out);
    sl_options_doc_markdown(small, &out);
    sl_buf_putc(&out, '\0');
    CHECK_STR(out.data,
              "| option | type | required | default | description |\n"
              "|---|---|---|---|---|\n"
              "| `path` | string | yes | | Where to write. |\n"
              "| `mode` | enum | no | `safe` | How to write. One of: `fast`, `safe`. |\n"
              "| `csv.delimiter` | string | no | `\\|` | Separator \\| any byte. |\n");
    sl_buf_free(&out);
    CHECK_STR(sl_opt_type_name(SL_OPT_DURATION), "duration");
}

static void test_aliases(void)
{
    sl_diag diag;
    sl_diag_init(&diag);
    const char *text = "base: &b {type: file, paths: [a, b]}\n"
                       "copy: *b\n";
    sl_node *root = sl_node_parse("a.yaml", text, strlen(text), &diag);
    CHECK_INT(diag.count, 0);
    const sl_node *copy = sl_node_get(root, "copy");
    CHECK(copy != NULL && copy != sl_node_get(root, "base"));
    CHECK_STR(sl_node_get(copy, "type")->text, "file");
    CHECK_INT(sl_node_get(copy, "paths")->n_items, 2);
    CHECK_INT(copy->pos.line, 2);
    sl_node_free(root);

    /* a billion laughs stops at the node budget */
    sl_buf bomb;
    sl_buf_init(&bomb);
    sl_buf_puts(&bomb, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 9; i++)
        sl_buf_printf(&bomb, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
                      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    root = sl_node_parse("bomb.yaml", bomb.data, bomb.len, &diag);
    CHECK(root == NULL);
    char *r = report(&diag);
    CHECK(strstr(r, "error: the document has more than 100000 nodes") != NULL);
    free(r);
    sl_buf_free(&bomb);
    sl_diag_free(&diag);
}

static void test_print_round_trip(void)
{
    const char *text = "name: \"quoted: yes\"\n"
                       "plain: 127.0.0.1:8686\n"
                       "num: 42\n"
                       "str: \"42\"\n"
                       "empty: ''\n"
                       "nothing: ~\n"
                       "tabs: \"a\\tb\\n\"\n"
                       "list: [a, {k: v, k2: [1, 2]}, [x, y], []]\n"
                       "map: {}\n";
    sl_diag diag;
    sl_diag_init(&diag);
    sl_node *root = sl_node_parse("r.yaml", text, strlen(text), &diag);
    sl_buf a, b;
    sl_buf_init(&a);
    sl_buf_init(&b);
    sl_node_print(root, &a);
    sl_buf_putc(&a, '\0');
    CHECK_STR(a.data, "name: \"quoted: yes\"\n"
                      "plain: 127.0.0.1:8686\n"
                      "num: 42\n"
                      "str: \"42\"\n"
                      "empty: \"\"\n"
                      "nothing: ~\n"
                      "tabs: \"a\\tb\\n\"\n"
                      "list:\n"
                      "  - a\n"
                      "  - k: v\n"
                      "    k2:\n"
                      "      - 1\n"
                      "      - 2\n"
                      "  - - x\n"
                      "    - y\n"
                      "  - []\n"
                      "map: {}\n");
    sl_node *again = sl_node_parse("r2.yaml", a.data, a.len - 1, &diag);
    CHECK_INT(diag.count, 0);
    sl_node_print(again, &b);
    sl_buf_putc(&b, '\0');
    CHECK_STR(b.data, a.data);
    sl_buf_free(&a);
    sl_buf_free(&b);
    sl_node_free(again);
    sl_node_free(root);
    sl_diag_free(&diag);
}

static void test_graph_order(void)
{
    static const char *const outs[] = { "a", "_unmatched" };
    char *in_a[] = { "r.a" }, *in_b[] = { "r._unmatched", "src" }, *in_r[] = { "src" }, *in_s[] = { "x", "y" };
    sl_pos p[2] = { { "g", 1, 1 }, { "g", 1, 5 } };
    /* declared out of flow order on purpose */
    sl_graph_vertex v[] = {
        { "sink", SL_DECL_SINK, { "g", 9, 1 }, NULL, 0, in_s, p, 2, false },
        { "y", SL_DECL_TRANSFORM, { "g", 8, 1 }, NULL, 0, in_b, p, 2, false },
        { "x", SL_DECL_TRANSFORM, { "g", 7, 1 }, NULL, 0, in_a, p, 1, false },
        { "r", SL_DECL_TRANSFORM, { "g", 6, 1 }, outs, 2, in_r, p, 1, false },
        { "src", SL_DECL_SOURCE, { "g", 5, 1 }, NULL, 0, NULL, NULL, 0, false },
    };
    sl_diag diag;
    sl_diag_init(&diag);
    sl_graph g;
    CHECK_INT(sl_graph_resolve(v, 5, &g, &diag), 0);
    CHECK_INT(diag.count, 0);
    CHECK_INT(g.n_order, 5);
    int expected_order[] = { 4, 3, 1, 2, 0 };   /* src r y x sink: y before x by index */
    for (int i = 0; i < 5; i++)
        CHECK_INT(g.order[i], expected_order[i]);
    CHECK_INT(g.n_edges, 6);
    /* sink <- x, sink <- y, y <- r._unmatched, y <- src, x <- r.a, r <- src */
    CHECK_INT(g.edges[0].from, 2);
    CHECK_INT(g.edges[0].to, 0);
    CHECK_INT(g.edges[2].from, 3);
    CHECK_INT(g.edges[2].from_output, 1);
    CHECK_INT(g.edges[2].to, 1);
    CHECK_INT(g.edges[4].from, 3);
    CHECK_INT(g.edges[4].from_output, 0);
    CHECK_INT(g.edges[4].to, 2);
    sl_graph_free(&g);

    /* a self-loop is a cycle of one; on error the graph comes back empty */
    char *self[] = { "src", "loop" };
    sl_graph_vertex w[] = {
        { "src", SL_DECL_SOURCE, { "g", 1, 1 }, NULL, 0, NULL, NULL, 0, false },
        { "loop", SL_DECL_TRANSFORM, { "g", 2, 1 }, NULL, 0, self, p, 2, false },
    };
    CHECK_INT(sl_graph_resolve(w, 2, &g, &diag), -1);
    CHECK(g.edges == NULL && g.order == NULL);
    char *r = report(&diag);
    CHECK_STR(r, "g:1:5: error: cycle: loop -> loop\n");
    free(r);
    sl_diag_free(&diag);
}

static void test_empty_and_load_errors(void)
{
    sl_diag diag;
    sl_config *c = parse("", &diag);
    CHECK(c != NULL);
    char *r = report(&diag);
    CHECK_STR(r, "p.yaml:1:1: error: the pipeline has no sources: add a 'sources:' section\n"
                 "p.yaml:1:1: error: the pipeline has no sinks: add a 'sinks:' section\n");
    free(r);
    sl_config_free(c);
    sl_diag_free(&diag);

    sl_diag_init(&diag);
    CHECK(sl_config_load("/nonexistent/pipeline.yaml", &diag) == NULL);
    r = report(&diag);
    CHECK_STR(r, "/nonexistent/pipeline.yaml: error: cannot open the configuration: No such file or directory\n");
    free(r);
    sl_diag_free(&diag);

    c = parse("- a\n- b\n", &diag);
    r = report(&diag);
    CHECK_STR(r, "p.yaml:1:1: error: the configuration must be a mapping of top-level keys "
                 "(sources, transforms, sinks, ...), found a list\n");
    free(r);
    sl_config_free(c);
    sl_diag_free(&diag);
}

int main(void)
{
    RUN(test_full_config);
    RUN(test_defaults);
    RUN(test_interpolation);
    RUN(test_secrets_never_shown);
    RUN(test_options);
    RUN(test_doc_markdown);
    RUN(test_aliases);
    RUN(test_print_round_trip);
    RUN(test_graph_order);
    RUN(test_empty_and_load_errors);
    return check_report();
}
