/* manifest.c — the dataset sink's index.json (see manifest.h): interning of
 * fields and inputs, JSON rendering, atomic publication.
 *
 * Fields are found through an open-addressing hash of their names, so
 * every (name, type) of a name sits on one probe sequence and the types of
 * a name are chained together: interning is O(1) and rendering a schema is
 * linear in the fields it lists. A shard's schema is rendered once, when
 * the shard is added; each publication only renders the dataset's.
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
#include "../codec/json_state.h"
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
    free(m->field_index);
    free(m->listed);
    for (size_t i = 0; i < m->n_inputs; i++) {
        free(m->inputs[i].source);
        free(m->inputs[i].origin);
    }
    for (size_t i = 0; i < m->n_shards; i++) {
        free(m->shards[i].file);
        free(m->shards[i].fields);
        free(m->shards[i].inputs);
        free(m->shards[i].schema);
    }
    free(m->fields);
    free(m->inputs);
    free(m->shards);
    memset(m, 0, sizeof *m);
}

#define NO_FIELD UINT32_MAX
#define NAME_SEED 0x6d616e6966657374ull

static size_t name_slot(const char *name, size_t len, size_t cap) {
    return (size_t)sl_hash64(name, len, NAME_SEED) & (cap - 1);
}

/* Rebuilds the hash of names at twice the size. */
static void grow_index(sl_manifest *m) {
    size_t cap = m->field_index_cap ? m->field_index_cap * 2 : 64;
    uint32_t *index = calloc(cap, sizeof *index);
    if (!index) abort();
    for (size_t id = 0; id < m->n_fields; id++) {
        size_t i = name_slot(m->fields[id].name, m->fields[id].name_len, cap);
        while (index[i]) i = (i + 1) & (cap - 1);
        index[i] = (uint32_t)id + 1;
    }
    free(m->field_index);
    m->field_index = index;
    m->field_index_cap = cap;
}

uint32_t sl_manifest_field_id(sl_manifest *m, const char *name, size_t len, uint8_t type) {
    if (2 * (m->n_fields + 1) > m->field_index_cap) grow_index(m);
    size_t cap = m->field_index_cap;
    uint32_t first = NO_FIELD;   /* an entry with this name and another type */
    size_t i = name_slot(name, len, cap);
    for (; m->field_index[i]; i = (i + 1) & (cap - 1)) {
        uint32_t id = m->field_index[i] - 1;
        const sl_manifest_field *f = &m->fields[id];
        if (f->name_len != len || memcmp(f->name, name, len) != 0) continue;
        if (f->type == type) return id;
        first = f->first;
    }
    bool other = len == strlen(SL_MANIFEST_OTHER_FIELDS) && memcmp(name, SL_MANIFEST_OTHER_FIELDS, len) == 0;
    if (!other && m->n_named >= SL_MANIFEST_MAX_FIELDS) {
        m->other_fields++;
        return sl_manifest_field_id(m, SL_MANIFEST_OTHER_FIELDS, strlen(SL_MANIFEST_OTHER_FIELDS), type);
    }
    uint32_t id = (uint32_t)m->n_fields;
    m->fields = grow(m->fields, &m->fields_cap, m->n_fields, sizeof *m->fields);
    m->fields[id] = (sl_manifest_field){dup_text(name, len), len, type, first == NO_FIELD ? id : first, NO_FIELD};
    if (first != NO_FIELD) {
        uint32_t last = first;
        while (m->fields[last].next_type != NO_FIELD) last = m->fields[last].next_type;
        m->fields[last].next_type = id;
    }
    if (!other) m->n_named++;
    m->field_index[i] = id + 1;
    m->n_fields++;
    return id;
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

static void put_schema(sl_buf *b, const sl_manifest *m, const bool *has, size_t n_has);

void sl_manifest_add_shard(sl_manifest *m, sl_shard_entry *e) {
    bool *has = calloc(m->n_fields ? m->n_fields : 1, sizeof *has);
    if (!has) abort();
    if (m->listed_cap < m->n_fields) {
        m->listed = realloc(m->listed, m->n_fields * sizeof *m->listed);
        if (!m->listed) abort();
        memset(m->listed + m->listed_cap, 0, (m->n_fields - m->listed_cap) * sizeof *m->listed);
        m->listed_cap = m->n_fields;
    }
    for (size_t i = 0; i < e->n_fields; i++) has[e->fields[i]] = m->listed[e->fields[i]] = true;
    sl_buf schema;
    sl_buf_init(&schema);
    put_schema(&schema, m, has, m->n_fields);
    size_t len;
    e->schema = sl_buf_steal(&schema, &len);
    free(has);
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
 * (indexed by id, n_has entries), names in order of first appearance,
 * types in the order they were first seen. */
static void put_schema(sl_buf *b, const sl_manifest *m, const bool *has, size_t n_has) {
    sl_buf_putc(b, '[');
    bool first_name = true;
    for (size_t i = 0; i < n_has; i++) {
        if (!has[i]) continue;
        const sl_manifest_field *f = &m->fields[i];
        bool seen = false;   /* this name was already written with an earlier id */
        for (uint32_t j = f->first; j != i && !seen; j = m->fields[j].next_type) seen = has[j];
        if (seen) continue;
        if (!first_name) sl_buf_putc(b, ',');
        first_name = false;
        sl_buf_puts(b, "{\"name\":");
        sl_json_encode_string(b, f->name, f->name_len);
        sl_buf_puts(b, ",\"types\":[");
        bool first_type = true;
        for (uint32_t j = (uint32_t)i; j != NO_FIELD && j < n_has; j = m->fields[j].next_type) {
            const sl_manifest_field *g = &m->fields[j];
            if (!has[j]) continue;
            if (!first_type) sl_buf_putc(b, ',');
            first_type = false;
            sl_json_encode_string(b, sl_type_name((sl_type)g->type), strlen(sl_type_name((sl_type)g->type)));
        }
        sl_buf_puts(b, "]}");
    }
    sl_buf_putc(b, ']');
}

static void put_shard(sl_buf *b, const sl_manifest *m, const sl_shard_entry *e) {
    sl_buf_puts(b, "{\"split\":");
    sl_json_encode_string(b, sl_dataset_split_names[e->split], strlen(sl_dataset_split_names[e->split]));
    sl_buf_puts(b, ",\"file\":");
    sl_json_encode_string(b, e->file, strlen(e->file));
    sl_buf_printf(b, ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64
                  ",\"sha256\":\"%s\",\"schema\":",
                  e->records, e->bytes, e->compressed_bytes, e->sha256);
    sl_buf_puts(b, e->schema);
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
        sl_buf_printf(b, "{\"buffer\":%" PRIu64 ",\"buffer_bytes\":%" PRIu64 ",\"seed\":%" PRIu64 "}",
                      m->shuffle_buffer, m->shuffle_buffer_bytes, m->shuffle_seed);
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
    put_schema(b, m, m->listed, m->listed_cap);
    sl_buf_printf(b, ",\"other_fields\":%" PRIu64 ",\"shards\":[", m->other_fields);
    for (size_t i = 0; i < m->n_shards; i++) {
        sl_buf_puts(b, i ? ",\n" : "\n");
        put_shard(b, m, &m->shards[i]);
    }
    sl_buf_puts(b, "]}\n");
}

/* ---- publication ---- */

int sl_manifest_publish(const sl_manifest *m, const char *dir, sl_error *err) {
    char final[PATH_MAX];
    if (snprintf(final, sizeof final, "%s/index.json", dir) >= (int)sizeof final)
        return sl_errorf(err, "dataset path too long: %s", dir);
    sl_buf json;
    sl_buf_init(&json);
    sl_manifest_render(m, &json);
    int rc = sl_write_file_atomic(final, json.data, json.len, err);
    sl_buf_free(&json);
    return rc;
}

/* ---- checkpoint state ---- */

void sl_manifest_copy_settings(sl_manifest *dst, const sl_manifest *src) {
    sl_manifest_init(dst);
    dst->split_key = src->split_key;
    memcpy(dst->fractions, src->fractions, sizeof dst->fractions);
    dst->shuffle = src->shuffle;
    dst->shuffle_buffer = src->shuffle_buffer;
    dst->shuffle_buffer_bytes = src->shuffle_buffer_bytes;
    dst->shuffle_seed = src->shuffle_seed;
    dst->shard_bytes = src->shard_bytes;
    dst->shard_records = src->shard_records;
}

void sl_manifest_put_ids(sl_buf *b, const uint32_t *ids, size_t n) {
    sl_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) sl_buf_printf(b, "%s%" PRIu32, i ? "," : "", ids[i]);
    sl_buf_putc(b, ']');
}

void sl_manifest_put_inputs(sl_buf *b, const sl_shard_input *in, size_t n) {
    sl_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++)
        sl_buf_printf(b, "%s[%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", i ? "," : "", in[i].input,
                      in[i].first, in[i].last, in[i].records);
    sl_buf_putc(b, ']');
}

void sl_manifest_save(const sl_manifest *m, sl_buf *b) {
    sl_buf_printf(b, "{\"finished\":%s,\"other_fields\":%" PRIu64 ",\"fields\":[", m->finished ? "true" : "false",
                  m->other_fields);
    for (size_t i = 0; i < m->n_fields; i++) {
        sl_buf_puts(b, i ? ",[" : "[");
        sl_json_encode_string(b, m->fields[i].name, m->fields[i].name_len);
        sl_buf_printf(b, ",%u]", (unsigned)m->fields[i].type);
    }
    sl_buf_puts(b, "],\"inputs\":[");
    for (size_t i = 0; i < m->n_inputs; i++) {
        sl_buf_puts(b, i ? ",[" : "[");
        sl_json_encode_string(b, m->inputs[i].source, strlen(m->inputs[i].source));
        sl_buf_putc(b, ',');
        sl_json_encode_string(b, m->inputs[i].origin, strlen(m->inputs[i].origin));
        sl_buf_putc(b, ']');
    }
    sl_buf_puts(b, "],\"shards\":[");
    for (size_t i = 0; i < m->n_shards; i++) {
        const sl_shard_entry *e = &m->shards[i];
        sl_buf_printf(b, "%s{\"split\":%d,\"file\":", i ? "," : "", e->split);
        sl_json_encode_string(b, e->file, strlen(e->file));
        sl_buf_printf(b, ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64
                      ",\"sha256\":\"%s\",\"fields\":", e->records, e->bytes, e->compressed_bytes, e->sha256);
        sl_manifest_put_ids(b, e->fields, e->n_fields);
        sl_buf_puts(b, ",\"inputs\":");
        sl_manifest_put_inputs(b, e->inputs, e->n_inputs);
        sl_buf_putc(b, '}');
    }
    sl_buf_puts(b, "]}");
}

/* v as a non-negative integer. */
static bool uint_of(const sl_value *v, uint64_t *out) {
    if (v->type == SL_INT && v->as.i >= 0) *out = (uint64_t)v->as.i;
    else if (v->type == SL_UINT) *out = v->as.u;
    else return false;
    return true;
}

static bool is_array(const sl_value *v, uint32_t len) {
    return v && v->type == SL_ARRAY && (len == 0 || v->len == len);
}

int sl_manifest_get_ids(const sl_manifest *m, const sl_value *list, uint32_t **ids, size_t *n, sl_error *err) {
    *ids = NULL;
    *n = 0;
    if (!is_array(list, 0)) return sl_errorf(err, "a shard's field list is malformed");
    *ids = malloc((list->len ? list->len : 1) * sizeof **ids);
    if (!*ids) abort();
    for (uint32_t i = 0; i < list->len; i++) {
        uint64_t id;
        if (!uint_of(&list->as.items[i], &id) || id >= m->n_fields)
            return sl_errorf(err, "a shard's field list names an unknown field");
        (*ids)[(*n)++] = (uint32_t)id;
    }
    return 0;
}

int sl_manifest_get_inputs(const sl_manifest *m, const sl_value *list, sl_shard_input **inputs, size_t *n,
                           sl_error *err) {
    *inputs = NULL;
    *n = 0;
    if (!is_array(list, 0)) return sl_errorf(err, "a shard's input list is malformed");
    *inputs = malloc((list->len ? list->len : 1) * sizeof **inputs);
    if (!*inputs) abort();
    for (uint32_t i = 0; i < list->len; i++) {
        const sl_value *v = &list->as.items[i];
        uint64_t x[4];
        bool ok = is_array(v, 4);
        for (int k = 0; k < 4 && ok; k++) ok = uint_of(&v->as.items[k], &x[k]);
        if (!ok || x[0] >= m->n_inputs) return sl_errorf(err, "a shard's input list is malformed");
        (*inputs)[(*n)++] = (sl_shard_input){(uint32_t)x[0], x[1], x[2], x[3]};
    }
    return 0;
}

static int load_shard(sl_manifest *m, const sl_value *v, sl_error *err) {
    sl_shard_entry e = {0};
    uint64_t split = 0;
    const sl_value *file = sl_state_get(v, "file"), *sha = sl_state_get(v, "sha256");
    if (!sl_state_uint(v, "split", &split) || split >= SL_DATASET_SPLITS || !file || file->type != SL_STRING ||
        !sha || sha->type != SL_STRING || sha->len != 64 || !sl_state_uint(v, "records", &e.records) ||
        !sl_state_uint(v, "bytes", &e.bytes) || !sl_state_uint(v, "compressed_bytes", &e.compressed_bytes))
        return sl_errorf(err, "shard %zu is malformed", m->n_shards + 1);
    e.split = (int)split;
    memcpy(e.sha256, sha->as.s, 64);
    e.sha256[64] = '\0';
    int rc = sl_manifest_get_ids(m, sl_state_get(v, "fields"), &e.fields, &e.n_fields, err);
    if (rc == 0) rc = sl_manifest_get_inputs(m, sl_state_get(v, "inputs"), &e.inputs, &e.n_inputs, err);
    if (rc < 0) {
        free(e.fields);
        free(e.inputs);
        return -1;
    }
    e.file = dup_text(file->as.s, file->len);
    sl_manifest_add_shard(m, &e);
    return 0;
}

int sl_manifest_load(sl_manifest *m, const sl_value *state, sl_error *err) {
    const sl_value *fields = sl_state_get(state, "fields"), *inputs = sl_state_get(state, "inputs");
    const sl_value *shards = sl_state_get(state, "shards"), *finished = sl_state_get(state, "finished");
    if (!is_array(fields, 0) || !is_array(inputs, 0) || !is_array(shards, 0) || !finished ||
        finished->type != SL_BOOL || !sl_state_uint(state, "other_fields", &m->other_fields))
        return sl_errorf(err, "the saved dataset manifest is malformed");
    m->finished = finished->as.b;
    for (uint32_t i = 0; i < fields->len; i++) {
        const sl_value *f = &fields->as.items[i];
        uint64_t type;
        if (!is_array(f, 2) || f->as.items[0].type != SL_STRING || !uint_of(&f->as.items[1], &type) ||
            type > SL_TIMESTAMP ||
            sl_manifest_field_id(m, f->as.items[0].as.s, f->as.items[0].len, (uint8_t)type) != i)
            return sl_errorf(err, "saved field %u is malformed", i + 1);
    }
    for (uint32_t i = 0; i < inputs->len; i++) {
        const sl_value *in = &inputs->as.items[i];
        if (!is_array(in, 2) || in->as.items[0].type != SL_STRING || in->as.items[1].type != SL_STRING)
            return sl_errorf(err, "saved input %u is malformed", i + 1);
        char *source = dup_text(in->as.items[0].as.s, in->as.items[0].len);
        char *origin = dup_text(in->as.items[1].as.s, in->as.items[1].len);
        uint32_t id = sl_manifest_input_id(m, source, origin);
        free(source);
        free(origin);
        if (id != i) return sl_errorf(err, "saved input %u is a duplicate", i + 1);
    }
    for (uint32_t i = 0; i < shards->len; i++)
        if (load_shard(m, &shards->as.items[i], err) < 0) return -1;
    return 0;
}
