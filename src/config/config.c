/* config.c — the pipeline file: top-level settings and component declarations.
 *
 * The YAML tree (node.c) is read key by key. Settings get their defaults and
 * their checks here; components become sl_component_decl with their name,
 * kind, type and inputs, while their own options stay in the tree for the
 * pipeline builder to check against each type's schema. Every problem is
 * reported and loading continues, so `sluice check` shows them all at once.
 *
 * Component names are unique across sources, transforms and sinks: the first
 * declaration in the file keeps the name and later ones are reported. Decls
 * come out sources first, then transforms, then sinks, each in file order.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"

#define DEFAULT_DATA_DIR ".sluice"
#define DEFAULT_MEMORY_LIMIT (256ull << 20)
#define DEFAULT_MAX_RECORDS 1024
#define DEFAULT_MAX_BYTES (1ull << 20)
#define DEFAULT_CHECKPOINT_INTERVAL_MS 1000
#define DEFAULT_API_ADDRESS "127.0.0.1:8686"
#define MAX_WORKERS 1024
#define MAX_BATCH_RECORDS 10000000

static const char *const top_keys[] = {
    "data_dir", "memory_limit", "workers", "batch", "log_level", "api", "dlq",
    "sources", "transforms", "sinks", "checkpoint", "report", "tests", "lineage",
};
static const char *const later_keys[] = { "tests" };
static const char *const section_keys[] = { "sources", "transforms", "sinks" };
static const char *const kind_names[] = { "source", "transform", "sink" };
static const char *const log_levels[] = { "debug", "info", "warn", "error" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static bool is_null(const sl_node *n)
{
    return n->kind == SL_NODE_SCALAR && !n->quoted &&
           (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
            strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Appends "; did you mean 'x'?" when a candidate is close to word. */
static const char *suggestion(char out[96], const char *word, const char *const *candidates, size_t n)
{
    const char *guess = sl_did_you_mean(word, candidates, n);
    if (!guess)
        return "";
    snprintf(out, 96, "; did you mean '%s'?", guess);
    return out;
}

/* ---- settings ---- */

/* The text of a scalar setting, or NULL (reported) when it is not one. */
static const char *setting_text(const sl_node *v, const char *name, sl_diag *diag)
{
    if (v->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, v->pos, "'%s' must be a scalar, found %s", name, sl_node_kind_name(v->kind));
        return NULL;
    }
    if (strlen(v->text) != v->len) {
        sl_diag_error(diag, v->pos, "'%s' contains a NUL byte", name);
        return NULL;
    }
    return v->text;
}

static void read_size(const sl_node *v, const char *name, uint64_t *out, sl_diag *diag)
{
    const char *s = setting_text(v, name, diag);
    uint64_t bytes;
    char shown[SL_NODE_SHOW_MAX];
    if (!s)
        return;
    if (!sl_parse_size(s, &bytes) || bytes == 0)
        sl_diag_error(diag, v->pos, "'%s' must be a size such as 256MiB, 1GB or 512k, found '%s'",
                      name, sl_node_show(v, shown));
    else
        *out = bytes;
}

static void read_duration(const sl_node *v, const char *name, uint64_t *out_ms, sl_diag *diag)
{
    const char *s = setting_text(v, name, diag);
    uint64_t ms;
    char shown[SL_NODE_SHOW_MAX];
    if (!s)
        return;
    if (!sl_parse_duration_ms(s, &ms) || ms == 0)
        sl_diag_error(diag, v->pos, "'%s' must be a duration such as 500ms, 1s or 5m, found '%s'",
                      name, sl_node_show(v, shown));
    else
        *out_ms = ms;
}

static void read_bool(const sl_node *v, const char *name, bool *out, sl_diag *diag)
{
    const char *s = setting_text(v, name, diag);
    char shown[SL_NODE_SHOW_MAX];
    if (!s)
        return;
    if (!v->quoted && strcmp(s, "true") == 0)
        *out = true;
    else if (!v->quoted && strcmp(s, "false") == 0)
        *out = false;
    else
        sl_diag_error(diag, v->pos, "'%s' must be true or false, found '%s'", name, sl_node_show(v, shown));
}

static void read_int(const sl_node *v, const char *name, long max, long *out, sl_diag *diag)
{
    const char *s = setting_text(v, name, diag);
    char shown[SL_NODE_SHOW_MAX], *end;
    if (!s)
        return;
    long n = strtol(s, &end, 10);
    if (v->quoted || *end || end == s || s[0] == ' ' || n < 1 || n > max)
        sl_diag_error(diag, v->pos, "'%s' must be a whole number from 1 to %ld, found '%s'",
                      name, max, sl_node_show(v, shown));
    else
        *out = n;
}

/* Checks that v is a mapping whose keys are all in allowed; returns false
 * (reported) when v is not a mapping. */
static bool check_section(const sl_node *v, const char *name, const char *const *allowed, size_t n,
                          sl_diag *diag)
{
    if (v->kind != SL_NODE_MAP) {
        sl_diag_error(diag, v->pos, "'%s' must be a mapping, found %s", name, sl_node_kind_name(v->kind));
        return false;
    }
    for (size_t i = 0; i < v->n_pairs; i++) {
        const sl_node *key = v->pairs[i].key;
        if (in_list(key->text, allowed, n))
            continue;
        char shown[SL_NODE_SHOW_MAX], hint[96];
        sl_diag_error(diag, key->pos, "unknown key '%s' in '%s'%s", sl_node_show(key, shown), name,
                      suggestion(hint, key->text, allowed, n));
    }
    return true;
}

/* A setting given as a plain value (a non-null scalar), or NULL. */
static const sl_node *get(const sl_node *map, const char *key)
{
    const sl_node *v = sl_node_get(map, key);
    return v && !is_null(v) ? v : NULL;
}

/* The default data_dir: a directory of its own per pipeline file under
 * DEFAULT_DATA_DIR, named after the file without its directory and its
 * .yaml/.yml extension (".sluice/quickstart"), so that pipelines run from
 * one directory never resume each other's checkpoints. */
static char *default_data_dir(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
        len -= 5;
    else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
        len -= 4;
    if (len == 0 || (len == 1 && base[0] == '.') || (len == 2 && base[0] == '.' && base[1] == '.') ||
        strcmp(base, "-") == 0) {
        base = "pipeline";
        len = strlen(base);
    }
    size_t cap = sizeof DEFAULT_DATA_DIR + 1 + len;
    char *dir = xrealloc(NULL, cap);
    snprintf(dir, cap, "%s/%.*s", DEFAULT_DATA_DIR, (int)len, base);
    return dir;
}

static void read_settings(sl_config *c, const sl_node *root, sl_diag *diag)
{
    const sl_node *v;
    const char *s;
    long n;
    char shown[SL_NODE_SHOW_MAX], hint[96];

    if ((v = get(root, "data_dir")) && (s = setting_text(v, "data_dir", diag))) {
        if (!*s)
            sl_diag_error(diag, v->pos, "'data_dir' must not be empty");
        else
            c->data_dir = xstrdup(s);
    }
    if (!c->data_dir)
        c->data_dir = default_data_dir(c->path);

    if ((v = get(root, "memory_limit")))
        read_size(v, "memory_limit", &c->memory_limit, diag);
    if ((v = get(root, "workers"))) {
        n = c->workers;
        read_int(v, "workers", MAX_WORKERS, &n, diag);
        c->workers = (int)n;
    }

    if ((v = get(root, "batch"))) {
        static const char *const keys[] = { "max_records", "max_bytes" };
        if (check_section(v, "batch", keys, COUNT(keys), diag)) {
            const sl_node *f;
            if ((f = get(v, "max_records"))) {
                n = c->batch_max_records;
                read_int(f, "batch.max_records", MAX_BATCH_RECORDS, &n, diag);
                c->batch_max_records = (uint32_t)n;
            }
            if ((f = get(v, "max_bytes")))
                read_size(f, "batch.max_bytes", &c->batch_max_bytes, diag);
        }
    }

    if ((v = get(root, "log_level")) && (s = setting_text(v, "log_level", diag))) {
        if (in_list(s, log_levels, COUNT(log_levels)))
            c->log_level = xstrdup(s);
        else
            sl_diag_error(diag, v->pos, "'log_level' must be one of debug, info, warn, error, found '%s'%s",
                          sl_node_show(v, shown),
                          v->secret ? "" : suggestion(hint, s, log_levels, COUNT(log_levels)));
    }

    if ((v = sl_node_get(root, "api"))) {
        static const char *const keys[] = { "address" };
        const sl_node *a = NULL;
        if (is_null(v) || (check_section(v, "api", keys, COUNT(keys), diag) && !(a = get(v, "address"))))
            c->api_address = xstrdup(DEFAULT_API_ADDRESS);
        else if (a && (s = setting_text(a, "api.address", diag)))
            c->api_address = xstrdup(s);
        char host[256], port[8];
        sl_error err = {0};
        if (a && c->api_address && sl_split_host_port(c->api_address, host, sizeof host, port, sizeof port, &err) < 0)
            sl_diag_error(diag, a->pos, "api.address: %s", a->secret ? "not \"host:port\" or \"[v6address]:port\" "
                          "with a port from 0 to 65535" : err.msg);
    }

    if ((v = get(root, "checkpoint"))) {
        static const char *const keys[] = { "enabled", "interval", "required" };
        const sl_node *f;
        if (check_section(v, "checkpoint", keys, COUNT(keys), diag)) {
            if ((f = get(v, "enabled")))
                read_bool(f, "checkpoint.enabled", &c->checkpoint_enabled, diag);
            if ((f = get(v, "required")))
                read_bool(f, "checkpoint.required", &c->checkpoint_required, diag);
            if ((f = get(v, "interval")))
                read_duration(f, "checkpoint.interval", &c->checkpoint_interval_ms, diag);
        }
    }

    if ((v = get(root, "dlq"))) {
        static const char *const keys[] = { "path" };
        const sl_node *p;
        if (check_section(v, "dlq", keys, COUNT(keys), diag) && (p = get(v, "path")) &&
            (s = setting_text(p, "dlq.path", diag)))
            c->dlq_path = xstrdup(s);
    }
    if (!c->dlq_path) {
        size_t len = strlen(c->data_dir) + sizeof "/dlq";
        c->dlq_path = xrealloc(NULL, len);
        snprintf(c->dlq_path, len, "%s/dlq", c->data_dir);
    }

    if ((v = get(root, "lineage"))) {
        static const char *const keys[] = { "file", "url", "namespace" };
        char **dest[] = { &c->lineage_file, &c->lineage_url, &c->lineage_namespace };
        static const char *const names[] = { "lineage.file", "lineage.url", "lineage.namespace" };
        if (check_section(v, "lineage", keys, COUNT(keys), diag)) {
            for (size_t i = 0; i < COUNT(keys); i++) {
                const sl_node *f = get(v, keys[i]);
                if (f && (s = setting_text(f, names[i], diag)))
                    *dest[i] = xstrdup(s);
            }
            if (!c->lineage_file && !c->lineage_url)
                sl_diag_error(diag, v->pos, "'lineage' needs a 'file' to append events to, a 'url' "
                              "to POST them to, or both");
        }
    }

    if ((v = get(root, "report"))) {
        static const char *const keys[] = { "path", "title" };
        const sl_node *f;
        if (check_section(v, "report", keys, COUNT(keys), diag)) {
            if (!(f = get(v, "path")))
                sl_diag_error(diag, v->pos, "'report' needs a 'path', e.g. report: {path: out/report.html}");
            else if ((s = setting_text(f, "report.path", diag))) {
                if (!*s)
                    sl_diag_error(diag, f->pos, "'report.path' must not be empty");
                else
                    c->report_path = xstrdup(s);
            }
            if ((f = get(v, "title")) && (s = setting_text(f, "report.title", diag)))
                c->report_title = xstrdup(s);
        }
    }
}

/* ---- components ---- */

typedef struct entry {
    const sl_node *key, *value;
    sl_decl_kind kind;
} entry;

static bool valid_name(const sl_node *key)
{
    if (key->len == 0)
        return false;
    for (size_t i = 0; i < key->len; i++) {
        char c = key->text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void read_inputs(sl_component_decl *d, const sl_node *v, sl_diag *diag)
{
    const char *kind = kind_names[d->kind];
    if (v->kind == SL_NODE_MAP) {
        sl_diag_error(diag, v->pos, "'inputs' of %s '%s' must be a list of component names, found a mapping",
                      kind, d->name);
        return;
    }
    const sl_node *const *items = v->kind == SL_NODE_SEQ ? (const sl_node *const *)v->items : &v;
    size_t n = v->kind == SL_NODE_SEQ ? v->n_items : 1;
    d->inputs = xrealloc(NULL, n * sizeof *d->inputs);
    d->input_pos = xrealloc(NULL, n * sizeof *d->input_pos);
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind != SL_NODE_SCALAR) {
            sl_diag_error(diag, items[i]->pos, "'inputs' of %s '%s' must be a list of component names; "
                          "item %zu is %s", kind, d->name, i + 1, sl_node_kind_name(items[i]->kind));
            continue;
        }
        d->inputs[d->n_inputs] = xstrdup(items[i]->text);
        d->input_pos[d->n_inputs++] = items[i]->pos;
    }
}

static void read_decl(sl_component_decl *d, const entry *e, sl_diag *diag)
{
    const char *kind = kind_names[e->kind];
    d->name = xstrdup(e->key->text);
    d->kind = e->kind;
    d->node = e->value;
    d->type_pos = e->value->pos;
    if (e->value->kind != SL_NODE_MAP) {
        sl_diag_error(diag, e->value->pos, "%s '%s' must be a mapping with a 'type', found %s",
                      kind, d->name, sl_node_kind_name(e->value->kind));
        return;
    }
    const sl_node *type = sl_node_get(e->value, "type");
    if (!type || is_null(type)) {
        sl_diag_error(diag, type ? type->pos : e->value->pos, "%s '%s' has no 'type'", kind, d->name);
    } else if (type->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, type->pos, "'type' of %s '%s' must be a scalar, found %s", kind, d->name,
                      sl_node_kind_name(type->kind));
    } else {
        d->type = xstrdup(type->text);
        d->type_pos = type->pos;
    }
    const sl_node *inputs = get(e->value, "inputs");
    if (inputs)
        read_inputs(d, inputs, diag);
}

/* Gathers the sections' entries in file order, rejecting bad and reused
 * names, then turns them into decls sources first. */
static void read_components(sl_config *c, const sl_node *root, sl_diag *diag)
{
    entry *entries = NULL;
    size_t n = 0;
    bool declared[3] = { false, false, false };   /* even under a rejected name */
    for (size_t i = 0; i < root->n_pairs; i++) {
        const sl_node *key = root->pairs[i].key, *section = root->pairs[i].value;
        int kind = -1;
        for (int k = 0; k < 3; k++)
            if (strcmp(key->text, section_keys[k]) == 0)
                kind = k;
        if (kind < 0 || is_null(section))
            continue;
        if (section->kind != SL_NODE_MAP) {
            sl_diag_error(diag, section->pos, "'%s' must be a mapping of component names to "
                          "components, found %s", section_keys[kind], sl_node_kind_name(section->kind));
            continue;
        }
        declared[kind] |= section->n_pairs > 0;
        entries = xrealloc(entries, (n + section->n_pairs) * sizeof *entries);
        for (size_t j = 0; j < section->n_pairs; j++) {
            const sl_node *name = section->pairs[j].key;
            char shown[SL_NODE_SHOW_MAX];
            if (!valid_name(name)) {
                sl_diag_error(diag, name->pos, "invalid component name '%s': use letters, digits, "
                              "'_' and '-'", sl_node_show(name, shown));
                continue;
            }
            const entry *first = NULL;
            for (size_t k = 0; k < n && !first; k++)
                if (strcmp(entries[k].key->text, name->text) == 0)
                    first = &entries[k];
            if (first) {
                sl_pos p = first->key->pos;
                sl_diag_error(diag, name->pos, "component name '%s' is already used by the %s at %s:%d:%d",
                              name->text, kind_names[first->kind], p.file ? p.file : "<config>",
                              p.line, p.col);
                continue;
            }
            entries[n++] = (entry){ name, section->pairs[j].value, (sl_decl_kind)kind };
        }
    }
    c->decls = calloc(n ? n : 1, sizeof *c->decls);
    if (!c->decls)
        abort();
    for (int kind = 0; kind < 3; kind++)
        for (size_t i = 0; i < n; i++)
            if ((int)entries[i].kind == kind)
                read_decl(&c->decls[c->n_decls++], &entries[i], diag);
    free(entries);

    if (!declared[SL_DECL_SOURCE])
        sl_diag_error(diag, root->pos, "the pipeline has no sources: add a 'sources:' section");
    if (!declared[SL_DECL_SINK])
        sl_diag_error(diag, root->pos, "the pipeline has no sinks: add a 'sinks:' section");
}

/* ---- loading ---- */

static sl_config *build(const char *name, sl_node *root, sl_diag *diag)
{
    sl_config *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->path = xstrdup(name);
    c->root = root;
    c->memory_limit = DEFAULT_MEMORY_LIMIT;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = cpus > 0 ? (int)(cpus < MAX_WORKERS ? cpus : MAX_WORKERS) : 1;
    c->batch_max_records = DEFAULT_MAX_RECORDS;
    c->batch_max_bytes = DEFAULT_MAX_BYTES;
    c->checkpoint_enabled = true;
    c->checkpoint_required = true;
    c->checkpoint_interval_ms = DEFAULT_CHECKPOINT_INTERVAL_MS;

    if (is_null(root)) {
        root->kind = SL_NODE_MAP;    /* "---" alone: an empty configuration */
    } else if (root->kind != SL_NODE_MAP) {
        sl_diag_error(diag, root->pos, "the configuration must be a mapping of top-level keys "
                      "(sources, transforms, sinks, ...), found %s", sl_node_kind_name(root->kind));
        c->data_dir = default_data_dir(c->path);
        size_t len = strlen(c->data_dir) + sizeof "/dlq";
        c->dlq_path = xrealloc(NULL, len);
        snprintf(c->dlq_path, len, "%s/dlq", c->data_dir);
        return c;
    }
    for (size_t i = 0; i < root->n_pairs; i++) {
        const sl_node *key = root->pairs[i].key;
        char shown[SL_NODE_SHOW_MAX], hint[96];
        if (in_list(key->text, later_keys, COUNT(later_keys)))
            sl_diag_error(diag, key->pos, "'%s' is not implemented yet in this version of sluice", key->text);
        else if (!in_list(key->text, top_keys, COUNT(top_keys)))
            sl_diag_error(diag, key->pos, "unknown top-level key '%s'%s", sl_node_show(key, shown),
                          suggestion(hint, key->text, top_keys, COUNT(top_keys)));
    }
    read_settings(c, root, diag);
    read_components(c, root, diag);
    return c;
}

sl_config *sl_config_parse(const char *name, const char *text, size_t len, sl_diag *diag)
{
    sl_node *root = sl_node_parse(name, text, len, diag);
    return root ? build(name, root, diag) : NULL;
}

sl_config *sl_config_load(const char *path, sl_diag *diag)
{
    sl_node *root = sl_node_load_file(path, diag);
    return root ? build(path, root, diag) : NULL;
}

void sl_config_free(sl_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_decls; i++) {
        sl_component_decl *d = &c->decls[i];
        free(d->name);
        free(d->type);
        for (size_t j = 0; j < d->n_inputs; j++)
            free(d->inputs[j]);
        free(d->inputs);
        free(d->input_pos);
    }
    free(c->decls);
    free(c->path);
    sl_node_free(c->root);
    free(c->data_dir);
    free(c->log_level);
    free(c->api_address);
    free(c->dlq_path);
    free(c->report_path);
    free(c->report_title);
    free(c->lineage_file);
    free(c->lineage_url);
    free(c->lineage_namespace);
    free(c);
}

/* ---- printing ---- */

/* The printed configuration is a tree of its own: new scalars for the
 * effective settings, and the user's component sections borrowed as they are
 * (detached again before the tree is freed). */
static sl_node *scalar(const char *text, bool secret)
{
    sl_node *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    n->kind = SL_NODE_SCALAR;
    n->text = xstrdup(text);
    n->len = strlen(text);
    n->secret = secret;
    return n;
}

static sl_node *mapping(void)
{
    sl_node *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    n->kind = SL_NODE_MAP;
    return n;
}

static void put(sl_node *map, const char *key, sl_node *value)
{
    map->pairs = xrealloc(map->pairs, (map->n_pairs + 1) * sizeof *map->pairs);
    map->pairs[map->n_pairs++] = (sl_node_pair){ scalar(key, false), value };
}

/* "256MiB", "1GiB", or plain bytes: exact, and readable by sl_parse_size. */
static sl_node *size_scalar(uint64_t bytes)
{
    static const char *const units[] = { "GiB", "MiB", "KiB" };
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64, bytes);
    for (int i = 0; i < 3; i++) {
        unsigned shift = 30 - 10 * (unsigned)i;
        if (bytes && bytes % (1ull << shift) == 0) {
            snprintf(text, sizeof text, "%" PRIu64 "%s", bytes >> shift, units[i]);
            break;
        }
    }
    return scalar(text, false);
}

static bool is_secret(const sl_node *root, const char *section, const char *key)
{
    const sl_node *v = sl_node_get(root, section);
    if (key)
        v = sl_node_get(v, key);
    return v && v->secret;
}

void sl_config_print(const sl_config *c, sl_buf *out)
{
    const sl_node *root = c->root;
    bool dir_secret = is_secret(root, "data_dir", NULL);
    char num[32];
    sl_node *top = mapping();
    put(top, "data_dir", scalar(c->data_dir, dir_secret));
    put(top, "memory_limit", size_scalar(c->memory_limit));
    snprintf(num, sizeof num, "%d", c->workers);
    put(top, "workers", scalar(num, false));
    sl_node *batch = mapping();
    snprintf(num, sizeof num, "%" PRIu32, c->batch_max_records);
    put(batch, "max_records", scalar(num, false));
    put(batch, "max_bytes", size_scalar(c->batch_max_bytes));
    put(top, "batch", batch);
    put(top, "log_level", scalar(c->log_level ? c->log_level : "info", false));
    if (c->api_address) {
        sl_node *api = mapping();
        put(api, "address", scalar(c->api_address, is_secret(root, "api", "address")));
        put(top, "api", api);
    }
    sl_node *checkpoint = mapping();
    put(checkpoint, "enabled", scalar(c->checkpoint_enabled ? "true" : "false", false));
    if (c->checkpoint_interval_ms % 1000 == 0)
        snprintf(num, sizeof num, "%" PRIu64 "s", c->checkpoint_interval_ms / 1000);
    else
        snprintf(num, sizeof num, "%" PRIu64 "ms", c->checkpoint_interval_ms);
    put(checkpoint, "interval", scalar(num, false));
    put(checkpoint, "required", scalar(c->checkpoint_required ? "true" : "false", false));
    put(top, "checkpoint", checkpoint);
    sl_node *dlq = mapping();
    bool dlq_secret = sl_node_get(sl_node_get(root, "dlq"), "path") ? is_secret(root, "dlq", "path") : dir_secret;
    put(dlq, "path", scalar(c->dlq_path, dlq_secret));
    put(top, "dlq", dlq);
    if (c->report_path) {
        sl_node *report = mapping();
        put(report, "path", scalar(c->report_path, is_secret(root, "report", "path")));
        if (c->report_title)
            put(report, "title", scalar(c->report_title, is_secret(root, "report", "title")));
        put(top, "report", report);
    }
    if (c->lineage_file || c->lineage_url) {
        sl_node *lineage = mapping();
        if (c->lineage_file)
            put(lineage, "file", scalar(c->lineage_file, is_secret(root, "lineage", "file")));
        if (c->lineage_url)
            put(lineage, "url", scalar(c->lineage_url, is_secret(root, "lineage", "url")));
        put(lineage, "namespace", scalar(c->lineage_namespace ? c->lineage_namespace : "sluice",
                                         is_secret(root, "lineage", "namespace")));
        put(top, "lineage", lineage);
    }
    size_t borrowed_from = top->n_pairs;
    for (int k = 0; k < 3; k++) {
        sl_node *section = sl_node_get(root, section_keys[k]);
        if (section && section->kind == SL_NODE_MAP)
            put(top, section_keys[k], section);
    }
    sl_node_print(top, out);
    for (size_t i = borrowed_from; i < top->n_pairs; i++)
        top->pairs[i].value = NULL;
    sl_node_free(top);
}
