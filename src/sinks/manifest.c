/* manifest.c — the dataset sink's index.json (see manifest.h): interning of
 * fields and inputs, JSON rendering, atomic publication.
 */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/util.h"
#include "../core/value.h"

const char *const sl_dataset_split_names[SL_DATASET_SPLITS] = {"train", "validation", "test"};

static void *grow(void *p, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return p;
    *cap = *cap ? *cap * 2 : 16;
    p = realloc(p, *cap * size);
    if (!p) abort();
    return p;
}

static char *dup_text(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (!d) abort();
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void sl_manifest_init(sl_manifest *m) {
    memset(m, 0, sizeof *m);
}

void sl_manifest_free(sl_manifest *m) {
    for (size_t i = 0; i < m->n_fields; i++) free(m->fields[i].name);
    for (size_t i = 0; i < m->n_inputs; i++) {
        free(m->inputs[i].source);
        free(m->inputs[i].origin);
    }
    for (size_t i = 0; i < m->n_shards; i++) {
        free(m->shards[i].file);
        free(m->shards[i].fields);
        free(m->shards[i].inputs);
    }
    free(m->fields);
    free(m->inputs);
    free(m->shards);
    memset(m, 0, sizeof *m);
}

uint32_t sl_manifest_field_id(sl_manifest *m, const char *name, size_t len, uint8_t type) {
    for (size_t i = 0; i < m->n_fields; i++) {
        const sl_manifest_field *f = &m->fields[i];
        if (f->type == type && f->name_len == len && memcmp(f->name, name, len) == 0) return (uint32_t)i;
    }
    m->fields = grow(m->fields, &m->fields_cap, m->n_fields, sizeof *m->fields);
    m->fields[m->n_fields] = (sl_manifest_field){dup_text(name, len), len, type};
    return (uint32_t)m->n_fields++;
}

uint32_t sl_manifest_input_id(sl_manifest *m, const char *source, const char *origin) {
    if (m->last_input < m->n_inputs && strcmp(m->inputs[m->last_input].source, source) == 0 &&
        strcmp(m->inputs[m->last_input].origin, origin) == 0)
        return (uint32_t)m->last_input;
    for (size_t i = 0; i < m->n_inputs; i++) {
        if (strcmp(m->inputs[i].source, source) == 0 && strcmp(m->inputs[i].origin, origin) == 0) {
            m->last_input = i;
            return (uint32_t)i;
        }
    }
    m->inputs = grow(m->inputs, &m->inputs_cap, m->n_inputs, sizeof *m->inputs);
    m->inputs[m->n_inputs] = (sl_manifest_input){dup_text(source, strlen(source)),
                                                 dup_text(origin, strlen(origin))};
    m->last_input = m->n_inputs;
    return (uint32_t)m->n_inputs++;
}

void sl_manifest_add_shard(sl_manifest *m, sl_shard_entry *e) {
    m->shards = grow(m->shards, &m->shards_cap, m->n_shards, sizeof *m->shards);
    m->shards[m->n_shards++] = *e;
    memset(e, 0, sizeof *e);
}

/* ---- rendering ---- */

static void put_key(sl_buf *b, const char *key) {
    sl_json_encode_string(b, key, strlen(key));
    sl_buf_putc(b, ':');
}

static void put_double(sl_buf *b, double d) {
    if (!sl_json_format_double(b, d)) sl_buf_puts(b, "null");
}

/* [{"name":"id","types":["int"]}, ...] for the field ids marked in `has`
 * (indexed by id), names in order of first appearance, types in the order
 * they were first seen. */
static void put_schema(sl_buf *b, const sl_manifest *m, const bool *has) {
    sl_buf_putc(b, '[');
    bool first_name = true;
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!has[i]) continue;
        const sl_manifest_field *f = &m->fields[i];
        bool seen = false;   /* this name was already written with an earlier id */
        for (size_t j = 0; j < i && !seen; j++)
            seen = has[j] && m->fields[j].name_len == f->name_len &&
                   memcmp(m->fields[j].name, f->name, f->name_len) == 0;
        if (seen) continue;
        if (!first_name) sl_buf_putc(b, ',');
        first_name = false;
        sl_buf_puts(b, "{\"name\":");
        sl_json_encode_string(b, f->name, f->name_len);
        sl_buf_puts(b, ",\"types\":[");
        bool first_type = true;
        for (size_t j = i; j < m->n_fields; j++) {
            const sl_manifest_field *g = &m->fields[j];
            if (!has[j] || g->name_len != f->name_len || memcmp(g->name, f->name, f->name_len) != 0) continue;
            if (!first_type) sl_buf_putc(b, ',');
            first_type = false;
            sl_json_encode_string(b, sl_type_name((sl_type)g->type), strlen(sl_type_name((sl_type)g->type)));
        }
        sl_buf_puts(b, "]}");
    }
    sl_buf_putc(b, ']');
}

static void put_shard(sl_buf *b, const sl_manifest *m, const sl_shard_entry *e, bool *has) {
    sl_buf_puts(b, "{\"split\":");
    sl_json_encode_string(b, sl_dataset_split_names[e->split], strlen(sl_dataset_split_names[e->split]));
    sl_buf_puts(b, ",\"file\":");
    sl_json_encode_string(b, e->file, strlen(e->file));
    sl_buf_printf(b, ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64
                  ",\"sha256\":\"%s\",\"schema\":",
                  e->records, e->bytes, e->compressed_bytes, e->sha256);
    memset(has, 0, m->n_fields * sizeof *has);
    for (size_t i = 0; i < e->n_fields; i++) has[e->fields[i]] = true;
    put_schema(b, m, has);
    sl_buf_puts(b, ",\"inputs\":[");
    for (size_t i = 0; i < e->n_inputs; i++) {
        const sl_shard_input *in = &e->inputs[i];
        const sl_manifest_input *src = &m->inputs[in->input];
        if (i) sl_buf_putc(b, ',');
        sl_buf_puts(b, "{\"source\":");
        sl_json_encode_string(b, src->source, strlen(src->source));
        sl_buf_puts(b, ",\"origin\":");
        sl_json_encode_string(b, src->origin, strlen(src->origin));
        sl_buf_printf(b, ",\"first_offset\":%" PRIu64 ",\"last_offset\":%" PRIu64 ",\"records\":%" PRIu64 "}",
                      in->first, in->last, in->records);
    }
    sl_buf_puts(b, "]}");
}

void sl_manifest_render(const sl_manifest *m, sl_buf *b) {
    char now[40];
    sl_format_rfc3339(now, sl_now_ns());
    bool *has = calloc(m->n_fields ? m->n_fields : 1, sizeof *has);
    if (!has) abort();

    sl_buf_printf(b, "{\"format\":\"sluice-dataset\",\"version\":%d,\"finished\":%s,\"updated\":\"%s\","
                  "\"compression\":\"zstd\",",
                  SL_MANIFEST_VERSION, m->finished ? "true" : "false", now);
    put_key(b, "split");
    if (m->split_key) {
        sl_buf_puts(b, "{\"key\":");
        sl_json_encode_string(b, m->split_key, strlen(m->split_key));
        for (int s = 0; s < SL_DATASET_SPLITS; s++) {
            sl_buf_printf(b, ",\"%s\":", sl_dataset_split_names[s]);
            put_double(b, m->fractions[s]);
        }
        sl_buf_putc(b, '}');
    } else {
        sl_buf_puts(b, "null");
    }
    sl_buf_puts(b, ",\"shuffle\":");
    if (m->shuffle)
        sl_buf_printf(b, "{\"buffer\":%" PRIu64 ",\"seed\":%" PRIu64 "}", m->shuffle_buffer, m->shuffle_seed);
    else
        sl_buf_puts(b, "null");
    sl_buf_printf(b, ",\"shard_bytes\":%" PRIu64 ",\"shard_records\":%" PRIu64 ",\"splits\":{",
                  m->shard_bytes, m->shard_records);
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        uint64_t records = 0, bytes = 0, compressed = 0, shards = 0;
        for (size_t i = 0; i < m->n_shards; i++) {
            if (m->shards[i].split != s) continue;
            shards++;
            records += m->shards[i].records;
            bytes += m->shards[i].bytes;
            compressed += m->shards[i].compressed_bytes;
        }
        sl_buf_printf(b, "%s\"%s\":{\"shards\":%" PRIu64 ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
                      ",\"compressed_bytes\":%" PRIu64 "}",
                      s ? "," : "", sl_dataset_split_names[s], shards, records, bytes, compressed);
    }
    sl_buf_puts(b, "},\"schema\":");
    for (size_t i = 0; i < m->n_shards; i++)
        for (size_t k = 0; k < m->shards[i].n_fields; k++) has[m->shards[i].fields[k]] = true;
    put_schema(b, m, has);
    sl_buf_puts(b, ",\"shards\":[");
    for (size_t i = 0; i < m->n_shards; i++) {
        sl_buf_puts(b, i ? ",\n" : "\n");
        put_shard(b, m, &m->shards[i], has);
    }
    sl_buf_puts(b, "]}\n");
    free(has);
}

/* ---- publication ---- */

int sl_fsync_dir(const char *dir, sl_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sl_errorf(err, "cannot open the directory %s: %s", dir, strerror(errno));
    if (fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return sl_errorf(err, "cannot fsync the directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

int sl_manifest_publish(const sl_manifest *m, const char *dir, sl_error *err) {
    char tmp[PATH_MAX], final[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/index.json.tmp", dir);
    snprintf(final, sizeof final, "%s/index.json", dir);
    sl_buf json;
    sl_buf_init(&json);
    sl_manifest_render(m, &json);

    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        sl_errorf(err, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t done = 0; done < json.len;) {
        ssize_t n = write(fd, json.data + done, json.len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            sl_errorf(err, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            goto out;
        }
        done += (size_t)n;
    }
    if (fsync(fd) < 0) {
        sl_errorf(err, "cannot fsync %s: %s", tmp, strerror(errno));
        close(fd);
        goto out;
    }
    close(fd);
    if (rename(tmp, final) < 0) {
        sl_errorf(err, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
        goto out;
    }
    rc = sl_fsync_dir(dir, err);
out:
    sl_buf_free(&json);
    return rc;
}
