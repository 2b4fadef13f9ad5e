/* lineage.c — OpenLineage run events (see lineage.h).
 *
 * The event is built as JSON text by hand: it is small, written twice per
 * run, and its shape is fixed by the spec. Inputs are resolved once, when
 * the lineage is created (the same glob(3) rules as the file source), so
 * START and the end event list the same files. Dataset outputs read their
 * index.json at the end for the schema and statistics facets.
 *
 * The endpoint URL may carry credentials (user:password@, ?api_key=...):
 * messages name it by scheme://host:port only, and as <redacted> when the
 * URL came from interpolation (a secret, see docs/security.md).
 */
#include "lineage.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/log.h"
#include "../core/util.h"

#define PRODUCER "https://github.com/sluice/sluice"
#define SPEC_URL "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
#define FACETS "https://openlineage.io/spec/facets/"
#define SLUICE_FACET_URL PRODUCER "/blob/main/docs/lineage.md#the-sluice-run-facet"
#define POST_TIMEOUT_MS 5000

/* Transforms that never add, rename or change a field: a field of their
 * output is the same field of their input. */
static const char *const passthrough_types[] = {"filter", "sample", "route"};

typedef struct dataset_ref {
    int comp;               /* component index */
    char *name;             /* absolute path */
    bool dataset_sink;      /* a dataset sink (index.json facets) */
} dataset_ref;

struct sl_lineage {
    const sl_config *cfg;
    const sl_pipeline *p;
    char *version;
    char *job;
    char config_sha256[65];       /* "" when the file could not be read */
    char run_id[37];
    char *endpoint;               /* lineage_url as messages may show it */
    dataset_ref *inputs, *outputs;
    size_t n_inputs, n_outputs;
};

static char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

/* path made absolute against the working directory (no symlinks resolved
 * for paths that do not exist yet). */
static char *absolute(const char *path) {
    char resolved[PATH_MAX];
    if (realpath(path, resolved)) return xstrdup(resolved);
    if (path[0] == '/') return xstrdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return xstrdup(path);
    while (path[0] == '.' && path[1] == '/') path += 2;
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_printf(&b, "%s/%s", cwd, path);
    size_t len;
    return sl_buf_steal(&b, &len);
}

static void add_ref(dataset_ref **list, size_t *n, int comp, char *name, bool dataset_sink) {
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i].name, name) == 0) {
            free(name);
            return;
        }
    }
    *list = realloc(*list, (*n + 1) * sizeof **list);
    if (!*list) abort();
    (*list)[(*n)++] = (dataset_ref){comp, name, dataset_sink};
}

static void hash_config(sl_lineage *l) {
    l->config_sha256[0] = '\0';
    int fd = open(l->cfg->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl_warn("lineage", "cannot read %s for its SHA-256: %s", l->cfg->path, strerror(errno));
        return;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) crypto_hash_sha256_update(&st, (unsigned char *)buf, (size_t)n);
    close(fd);
    if (n < 0) return;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(l->config_sha256, sizeof l->config_sha256, digest, sizeof digest);
}

/* A random (version 4) UUID. */
static void make_run_id(char out[37]) {
    unsigned char u[16];
    randombytes_buf(u, sizeof u);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
             u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* The job name: the pipeline file's name without directory or extension. */
static char *job_name(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *name = xstrdup(*base ? base : "pipeline");
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    return name;
}

/* lineage.url for messages: scheme://host:port, without the user info,
 * path and query that may hold credentials; "<redacted>" when secret. */
static char *endpoint_for_logs(const sl_config *cfg) {
    const sl_node *node = sl_node_get(sl_node_get(cfg->root, "lineage"), "url");
    if (node && node->secret) return xstrdup("<redacted>");
    CURLU *u = curl_url();
    if (!u) abort();
    char *scheme = NULL, *host = NULL, *port = NULL;
    sl_buf b;
    sl_buf_init(&b);
    if (curl_url_set(u, CURLUPART_URL, cfg->lineage_url, CURLU_GUESS_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        sl_buf_printf(&b, "%s://%s:%s", scheme, host, port);
    else
        sl_buf_puts(&b, "(a URL that does not parse)");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    size_t len;
    return sl_buf_steal(&b, &len);
}

sl_lineage *sl_lineage_new(const sl_config *cfg, const sl_pipeline *p, const char *version) {
    if (!cfg->lineage_file && !cfg->lineage_url) return NULL;
    if (sodium_init() < 0) {
        sl_warn("lineage", "cannot initialise libsodium; no lineage events");
        return NULL;
    }
    sl_lineage *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->cfg = cfg;
    l->p = p;
    l->version = xstrdup(version);
    l->job = job_name(cfg->path);
    if (cfg->lineage_url) l->endpoint = endpoint_for_logs(cfg);
    make_run_id(l->run_id);
    hash_config(l);

    for (int i = 0; i < sl_pipeline_component_count(p); i++) {
        const sl_component *c = sl_pipeline_component(p, i);
        if (c->kind == SL_SOURCE && strcmp(c->type->name, "file") == 0) {
            for (size_t k = 0; k < sl_opts_list_len(c->opts, "paths"); k++) {
                glob_t g;
                if (glob(sl_opts_list_item(c->opts, "paths", k), GLOB_BRACE | GLOB_TILDE, NULL, &g) != 0) continue;
                for (size_t m = 0; m < g.gl_pathc; m++) add_ref(&l->inputs, &l->n_inputs, i, absolute(g.gl_pathv[m]), false);
                globfree(&g);
            }
        } else if (c->kind == SL_SINK && (strcmp(c->type->name, "file") == 0 || strcmp(c->type->name, "dataset") == 0)) {
            const char *path = sl_opts_string(c->opts, "path");
            if (path) add_ref(&l->outputs, &l->n_outputs, i, absolute(path), strcmp(c->type->name, "dataset") == 0);
        }
    }
    return l;
}

void sl_lineage_free(sl_lineage *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n_inputs; i++) free(l->inputs[i].name);
    for (size_t i = 0; i < l->n_outputs; i++) free(l->outputs[i].name);
    free(l->inputs);
    free(l->outputs);
    free(l->version);
    free(l->job);
    free(l->endpoint);
    free(l);
}

/* ---- reading a dataset's index.json ---- */

typedef struct index_doc {
    sl_arena arena;
    sl_buf text;
    sl_value root;
    bool ok;
} index_doc;

static void index_load(index_doc *d, const char *dir) {
    memset(d, 0, sizeof *d);
    sl_arena_init(&d->arena, 4096);
    sl_buf_init(&d->text);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/index.json", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) sl_buf_append(&d->text, buf, (size_t)n);
    close(fd);
    sl_decode_error derr;
    d->ok = n == 0 && d->text.len > 0 &&
            sl_json_decode(&d->arena, d->text.data, d->text.len, 0, true, &d->root, &derr) == 0;
    if (!d->ok) sl_warn("lineage", "cannot read %s; its dataset facets are left out", path);
}

static void index_free(index_doc *d) {
    sl_arena_free(&d->arena);
    sl_buf_free(&d->text);
}

static const sl_value *get(const sl_value *map, const char *key) {
    return map && map->type == SL_MAP ? sl_map_get(map, key, strlen(key)) : NULL;
}

static uint64_t get_uint(const sl_value *map, const char *key) {
    const sl_value *v = get(map, key);
    return v && v->type == SL_INT && v->as.i > 0 ? (uint64_t)v->as.i : 0;
}

/* ---- the event ---- */

static void put_str(sl_buf *b, const char *s) {
    sl_json_encode_string(b, s, strlen(s));
}

static void facet_head(sl_buf *b, const char *name, const char *schema_url) {
    sl_buf_printf(b, "\"%s\":{\"_producer\":\"%s\",\"_schemaURL\":", name, PRODUCER);
    put_str(b, schema_url);
}

/* Whether every component upstream of sink `comp` is a file source or a
 * passthrough transform; marks the upstream components in `up`. */
static bool passthrough_path(const sl_pipeline *p, int comp, bool *up) {
    int n = sl_pipeline_component_count(p);
    memset(up, 0, (size_t)n * sizeof *up);
    up[comp] = true;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t e = 0; e < sl_pipeline_edge_count(p); e++) {
            int from, out, to;
            sl_pipeline_edge(p, e, &from, &out, &to);
            if (up[to] && !up[from]) up[from] = changed = true;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!up[i] || i == comp) continue;
        const sl_component *c = sl_pipeline_component(p, i);
        if (c->kind == SL_SOURCE && strcmp(c->type->name, "file") != 0) return false;
        if (c->kind == SL_TRANSFORM) {
            bool known = false;
            for (size_t k = 0; k < sizeof passthrough_types / sizeof *passthrough_types; k++)
                known |= strcmp(c->type->name, passthrough_types[k]) == 0;
            if (!known) return false;
        }
    }
    return true;
}

/* schema, columnLineage and outputStatistics of a dataset sink, from its index.json. */
static void dataset_facets(sl_lineage *l, const dataset_ref *out, sl_buf *b) {
    index_doc d;
    index_load(&d, out->name);
    const sl_value *schema = d.ok ? get(&d.root, "schema") : NULL;
    if (!schema || schema->type != SL_ARRAY) {
        index_free(&d);
        return;
    }
    sl_buf_puts(b, ",\"facets\":{");
    facet_head(b, "schema", FACETS "1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet");
    sl_buf_puts(b, ",\"fields\":[");
    for (uint32_t i = 0; i < schema->len; i++) {
        const sl_value *name = get(&schema->as.items[i], "name"), *types = get(&schema->as.items[i], "types");
        if (!name || name->type != SL_STRING || !types || types->type != SL_ARRAY) continue;
        sl_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        sl_json_encode_string(b, name->as.s, name->len);
        sl_buf_puts(b, ",\"type\":\"");
        for (uint32_t t = 0; t < types->len; t++)
            if (types->as.items[t].type == SL_STRING)
                sl_buf_printf(b, "%s%.*s", t ? "|" : "", (int)types->as.items[t].len, types->as.items[t].as.s);
        sl_buf_puts(b, "\"}");
    }
    sl_buf_puts(b, "]}");

    int n = sl_pipeline_component_count(l->p);
    bool *up = calloc((size_t)n, sizeof *up);
    if (!up) abort();
    if (passthrough_path(l->p, out->comp, up)) {
        sl_buf_putc(b, ',');
        facet_head(b, "columnLineage", FACETS "1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet");
        sl_buf_puts(b, ",\"fields\":{");
        for (uint32_t i = 0; i < schema->len; i++) {
            const sl_value *name = get(&schema->as.items[i], "name");
            if (!name || name->type != SL_STRING) continue;
            if (i) sl_buf_putc(b, ',');
            sl_json_encode_string(b, name->as.s, name->len);
            sl_buf_puts(b, ":{\"inputFields\":[");
            bool first = true;
            for (size_t k = 0; k < l->n_inputs; k++) {
                if (!up[l->inputs[k].comp]) continue;
                sl_buf_puts(b, first ? "{\"namespace\":\"file\",\"name\":" : ",{\"namespace\":\"file\",\"name\":");
                first = false;
                put_str(b, l->inputs[k].name);
                sl_buf_puts(b, ",\"field\":");
                sl_json_encode_string(b, name->as.s, name->len);
                sl_buf_puts(b, ",\"transformations\":[{\"type\":\"DIRECT\",\"subtype\":\"IDENTITY\","
                               "\"description\":\"passed through unchanged\",\"masking\":false}]}");
            }
            sl_buf_puts(b, "]}");
        }
        sl_buf_puts(b, "}}");
    }
    free(up);
    sl_buf_putc(b, '}');

    uint64_t rows = 0, size = 0, files = 0;
    const sl_value *splits = get(&d.root, "splits");
    for (uint32_t i = 0; splits && splits->type == SL_MAP && i < splits->len; i++) {
        const sl_value *s = &splits->as.fields[i].value;
        rows += get_uint(s, "records");
        size += get_uint(s, "compressed_bytes");
        files += get_uint(s, "shards");
    }
    sl_buf_puts(b, ",\"outputFacets\":{");
    facet_head(b, "outputStatistics",
               FACETS "1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet");
    sl_buf_printf(b, ",\"rowCount\":%llu,\"size\":%llu,\"fileCount\":%llu}}", (unsigned long long)rows,
                  (unsigned long long)size, (unsigned long long)files);
    index_free(&d);
}

void sl_lineage_event_json(sl_lineage *l, const char *event_type, const char *error, sl_buf *b) {
    if (!l) return;
    char now[40];
    sl_format_rfc3339(now, sl_now_ns());
    bool end = strcmp(event_type, "START") != 0;
    sl_buf_printf(b, "{\"eventType\":\"%s\",\"eventTime\":\"%s\",\"producer\":\"%s\",\"schemaURL\":\"%s\"",
                  event_type, now, PRODUCER, SPEC_URL);

    sl_buf_printf(b, ",\"run\":{\"runId\":\"%s\",\"facets\":{", l->run_id);
    facet_head(b, "processing_engine", FACETS "1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet");
    sl_buf_puts(b, ",\"name\":\"sluice\",\"version\":");
    put_str(b, l->version);
    sl_buf_puts(b, "},");
    facet_head(b, "sluice", SLUICE_FACET_URL);
    sl_buf_puts(b, ",\"version\":");
    put_str(b, l->version);
    sl_buf_puts(b, ",\"config_path\":");
    char *config = absolute(l->cfg->path);
    put_str(b, config);
    free(config);
    sl_buf_puts(b, ",\"config_sha256\":");
    if (l->config_sha256[0])
        put_str(b, l->config_sha256);
    else
        sl_buf_puts(b, "null");
    sl_buf_putc(b, '}');
    if (error) {
        sl_buf_putc(b, ',');
        facet_head(b, "errorMessage", FACETS "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet");
        sl_buf_puts(b, ",\"message\":");
        put_str(b, error);
        sl_buf_puts(b, ",\"programmingLanguage\":\"C\"}");
    }
    sl_buf_puts(b, "}}");

    sl_buf_puts(b, ",\"job\":{\"namespace\":");
    put_str(b, l->cfg->lineage_namespace ? l->cfg->lineage_namespace : "sluice");
    sl_buf_puts(b, ",\"name\":");
    put_str(b, l->job);
    sl_buf_puts(b, ",\"facets\":{");
    facet_head(b, "jobType", FACETS "2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet");
    sl_buf_puts(b, ",\"processingType\":\"BATCH\",\"integration\":\"SLUICE\",\"jobType\":\"JOB\"}}}");

    sl_buf_puts(b, ",\"inputs\":[");
    for (size_t i = 0; i < l->n_inputs; i++) {
        sl_buf_puts(b, i ? ",{\"namespace\":\"file\",\"name\":" : "{\"namespace\":\"file\",\"name\":");
        put_str(b, l->inputs[i].name);
        sl_buf_putc(b, '}');
    }
    sl_buf_puts(b, "],\"outputs\":[");
    for (size_t i = 0; i < l->n_outputs; i++) {
        sl_buf_puts(b, i ? ",{\"namespace\":\"file\",\"name\":" : "{\"namespace\":\"file\",\"name\":");
        put_str(b, l->outputs[i].name);
        if (end && !error && l->outputs[i].dataset_sink) dataset_facets(l, &l->outputs[i], b);
        sl_buf_putc(b, '}');
    }
    sl_buf_puts(b, "]}");
}

/* ---- delivery ---- */

static void append_to_file(const char *path, const sl_buf *line) {
    sl_error err;
    if (sl_mkdirs_parent(path, &err) < 0) {
        sl_warn("lineage", "%s", err.msg);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        sl_warn("lineage", "cannot open %s: %s", path, strerror(errno));
        return;
    }
    /* One write of the whole line, so that concurrent appenders do not interleave. */
    ssize_t n = write(fd, line->data, line->len);
    if (n != (ssize_t)line->len)
        sl_warn("lineage", "cannot write %s: %s", path, n < 0 ? strerror(errno) : "short write");
    close(fd);
}

static size_t discard_body(char *p, size_t size, size_t n, void *user) {
    return size * n;
}

static void post(const sl_lineage *l, const sl_buf *json) {
    CURL *curl = curl_easy_init();
    if (!curl) {
        sl_warn("lineage", "cannot start an HTTP request to %s", l->endpoint);
        return;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, l->cfg->lineage_url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json->data);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)json->len);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK)
        sl_warn("lineage", "cannot POST the lineage event to %s: %s", l->endpoint, curl_easy_strerror(rc));
    else if (status < 200 || status >= 300)
        sl_warn("lineage", "the lineage endpoint %s answered HTTP %ld", l->endpoint, status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
}

static void emit(sl_lineage *l, const char *event_type, const char *error) {
    sl_buf json;
    sl_buf_init(&json);
    sl_lineage_event_json(l, event_type, error, &json);
    if (l->cfg->lineage_url) post(l, &json);
    if (l->cfg->lineage_file) {
        sl_buf_putc(&json, '\n');
        append_to_file(l->cfg->lineage_file, &json);
    }
    sl_buf_free(&json);
}

void sl_lineage_start(sl_lineage *l) {
    if (l) emit(l, "START", NULL);
}

void sl_lineage_end(sl_lineage *l, const char *error, bool stopped) {
    if (!l) return;
    emit(l, error ? "FAIL" : stopped ? "ABORT" : "COMPLETE", error);
}
