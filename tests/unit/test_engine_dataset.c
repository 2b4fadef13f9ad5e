/* test_engine_dataset.c — the dataset sink, run through a real pipeline
 * (transform_harness.h) with a test source that generates N records
 * {"id": i, ...} in batches of the configured size.
 *
 * Every shard listed in index.json is read back: its SHA-256 recomputed
 * over the file, its lines decompressed with sl_reader and counted, its
 * record ids collected per split. The tests then compare runs: the split
 * must not depend on batch size, worker count or shard size; shuffling
 * must be a deterministic permutation.
 */
#include <dirent.h>
#include <sodium.h>
#include <sys/stat.h>

#include "check.h"
#include "codec/json_state.h"
#include "codec/reader.h"
#include "sinks/manifest.h"
#include "transform_harness.h"

extern const sl_component_type sl_sink_dataset_type;

#define MAX_RECORDS 20000

/* ---- the test source ---- */

typedef struct gen_source {
    int64_t count, shape_from;
    sl_format format;
    void *stream;
} gen_source;

static const sl_option gen_options[] = {
    {"count", SL_OPT_INT, true, NULL, "Records to emit.", NULL},
    {"shape_from", SL_OPT_INT, false, "-1", "From this id on, records have field b instead of a.", NULL},
    {"missing_key_every", SL_OPT_INT, false, "0", "Every n-th record has no id.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int64_t missing_every;

static int gen_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    gen_source *s = calloc(1, sizeof *s);
    s->count = sl_opts_int(opts, "count");
    s->shape_from = sl_opts_int(opts, "shape_from");
    missing_every = sl_opts_int(opts, "missing_key_every");
    sl_format_init(&s->format, SL_FORMAT_JSONL);
    sl_decode_error derr;
    s->stream = sl_format_stream_new(&s->format, NULL, 0, &derr);
    c->impl = s;
    return 0;
}

static void gen_destroy(sl_component *c) {
    gen_source *s = c->impl;
    sl_format_stream_free(&s->format, s->stream);
    sl_format_free(&s->format);
    free(s);
}

static int gen_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    gen_source *s = c->impl;
    uint32_t per_batch = sl_source_batch_records(ctx);
    uint64_t offset = 0;
    char line[256];
    for (int64_t i = 0; i < s->count;) {
        sl_batch *b = sl_source_batch_new(ctx, 4096);
        b->origin = "generated.jsonl";
        b->format = &s->format;
        b->stream = s->stream;
        for (; i < s->count && b->count < per_batch; i++) {
            int n;
            if (missing_every && i % missing_every == 0)
                n = snprintf(line, sizeof line, "{\"name\":\"no id %lld\"}\n", (long long)i);
            else if (s->shape_from >= 0 && i >= s->shape_from)
                n = snprintf(line, sizeof line, "{\"id\":%lld,\"b\":\"x\"}\n", (long long)i);
            else
                n = snprintf(line, sizeof line, "{\"id\":%lld,\"a\":%lld,\"text\":\"document %lld of the corpus\"}\n",
                             (long long)i, (long long)i * 7, (long long)i);
            sl_batch_add_bytes(b, line, (size_t)n, (sl_position){42, offset});
            offset += (uint64_t)n;
        }
        b->input_bytes = b->data_len;
        if (sl_source_submit(ctx, b) < 0) break;
    }
    return 0;
}

static const sl_component_type gen_type = {
    .name = "gen", .kind = SL_SOURCE, .summary = "test input", .options = gen_options,
    .create = gen_create, .destroy = gen_destroy, .run = gen_run,
};

/* ---- running ---- */

/* Runs the generator (count records, the given source extras) into a
 * dataset sink at <data_dir>/ds with the sink options in `sink`. Returns 0
 * when the pipeline built and ran. */
static int run_gen(int count, const char *source_extra, const char *sink, int workers, int per_batch) {
    sl_buf yaml;
    sl_buf_init(&yaml);
    sl_buf_printf(&yaml, "data_dir: %s/state\nworkers: %d\nbatch: {max_records: %d}\n"
                         "sources:\n  in: {type: gen, count: %d%s}\n"
                         "sinks:\n  ds: {type: dataset, inputs: [in], path: %s/ds%s%s}\n",
                  data_dir, workers, per_batch, count, source_extra, data_dir, *sink ? ", " : "", sink);
    int rc = run_config(text_of(&yaml));
    sl_buf_free(&yaml);
    return rc;
}

/* ---- reading the dataset back ---- */

typedef struct shard_check {
    char split[16];
    uint64_t records;
    char schema[128];        /* "id:int,a:int" */
} shard_check;

typedef struct dataset {
    int ids[3][MAX_RECORDS];  /* per split, in file order */
    int n[3];
    shard_check shards[256];
    int n_shards;
    bool finished;
    int problems;             /* checksum, count or size mismatches */
} dataset;

static int split_index(const char *name, size_t len) {
    static const char *const names[] = {"train", "validation", "test"};
    for (int i = 0; i < 3; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) return i;
    return -1;
}

static const sl_value *get(const sl_value *m, const char *key) {
    return m && m->type == SL_MAP ? sl_map_get(m, key, strlen(key)) : NULL;
}

static int64_t get_int(const sl_value *m, const char *key) {
    const sl_value *v = get(m, key);
    return v && v->type == SL_INT ? v->as.i : -1;
}

static void read_file(const char *path, sl_buf *out) {
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sl_buf_append(out, buf, n);
    fclose(f);
}

/* Checks one listed shard against its file; collects its ids. */
static void check_shard(dataset *d, const sl_value *e) {
    const sl_value *split = get(e, "split"), *file = get(e, "file"), *sha = get(e, "sha256");
    if (!split || !file || !sha || d->n_shards == 256) {
        d->problems++;
        return;
    }
    int s = split_index(split->as.s, split->len);
    shard_check *sc = &d->shards[d->n_shards++];
    snprintf(sc->split, sizeof sc->split, "%.*s", (int)split->len, split->as.s);
    sc->records = (uint64_t)get_int(e, "records");
    const sl_value *schema = get(e, "schema");
    for (uint32_t i = 0; schema && i < schema->len; i++) {
        const sl_value *name = get(&schema->as.items[i], "name"), *types = get(&schema->as.items[i], "types");
        size_t at = strlen(sc->schema);
        snprintf(sc->schema + at, sizeof sc->schema - at, "%s%.*s:%.*s", i ? "," : "", (int)name->len, name->as.s,
                 (int)types->as.items[0].len, types->as.items[0].as.s);
    }

    char path[256];
    snprintf(path, sizeof path, "%s/ds/%.*s", data_dir, (int)file->len, file->as.s);
    sl_buf bytes;
    sl_buf_init(&bytes);
    read_file(path, &bytes);
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(digest, (const unsigned char *)bytes.data, bytes.len);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    if (sha->len != 64 || memcmp(hex, sha->as.s, 64) != 0) d->problems++;
    if ((int64_t)bytes.len != get_int(e, "compressed_bytes")) d->problems++;
    sl_buf_free(&bytes);

    sl_error err;
    sl_reader *r = sl_reader_open(path, &err);
    if (!r) {
        d->problems++;
        return;
    }
    if (sl_reader_compression(r) != SL_COMPRESSION_ZSTD) d->problems++;
    sl_buf text;
    sl_buf_init(&text);
    char buf[65536];
    ssize_t n;
    while ((n = sl_reader_read(r, buf, sizeof buf, &err)) > 0) sl_buf_append(&text, buf, (size_t)n);
    if (n < 0) d->problems++;
    sl_reader_close(r);
    if ((int64_t)text.len != get_int(e, "bytes")) d->problems++;
    uint64_t lines = 0;
    for (const char *p = text.data; p && p < text.data + text.len;) {
        const char *nl = memchr(p, '\n', (size_t)(text.data + text.len - p));
        int id;
        if (!nl || sscanf(p, "{\"id\":%d", &id) != 1 || s < 0 || d->n[s] == MAX_RECORDS) {
            d->problems++;
            break;
        }
        d->ids[s][d->n[s]++] = id;
        lines++;
        p = nl + 1;
    }
    if (lines != sc->records) d->problems++;
    sl_buf_free(&text);
}

/* No temporary file left behind in any split directory. */
static int leftovers(void) {
    int found = 0;
    static const char *const names[] = {"train", "validation", "test"};
    for (int s = 0; s < 3; s++) {
        char path[128];
        snprintf(path, sizeof path, "%s/ds/%s", data_dir, names[s]);
        DIR *dd = opendir(path);
        if (!dd) continue;
        struct dirent *de;
        while ((de = readdir(dd)))
            if (strstr(de->d_name, ".inprogress")) found++;
        closedir(dd);
    }
    return found;
}

static void load(dataset *d) {
    memset(d, 0, sizeof *d);
    char path[128];
    snprintf(path, sizeof path, "%s/ds/index.json", data_dir);
    sl_buf text;
    sl_buf_init(&text);
    read_file(path, &text);
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value root;
    sl_decode_error derr;
    if (text.len == 0 || sl_json_decode(&a, text.data, text.len, 0, true, &root, &derr) != 0) {
        d->problems++;
    } else {
        const sl_value *f = get(&root, "finished");
        d->finished = f && f->type == SL_BOOL && f->as.b;
        const sl_value *shards = get(&root, "shards");
        for (uint32_t i = 0; shards && i < shards->len; i++) check_shard(d, &shards->as.items[i]);
    }
    sl_arena_free(&a);
    sl_buf_free(&text);
}

static int compare_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

static bool same_set(const int *a, int na, const int *b, int nb) {
    if (na != nb) return false;
    int *x = malloc(sizeof(int) * (size_t)(na + 1)), *y = malloc(sizeof(int) * (size_t)(nb + 1));
    memcpy(x, a, sizeof(int) * (size_t)na);
    memcpy(y, b, sizeof(int) * (size_t)nb);
    qsort(x, (size_t)na, sizeof *x, compare_int);
    qsort(y, (size_t)nb, sizeof *y, compare_int);
    bool same = memcmp(x, y, sizeof(int) * (size_t)na) == 0;
    free(x);
    free(y);
    return same;
}

/* ---- tests ---- */

static dataset first, second;

#define SPLIT "split: {key: id, train: 0.8, validation: 0.1, test: 0.1}"

/* index.json without its "updated" time, for comparing two renderings. */
static char *render_timeless(const sl_manifest *m) {
    sl_buf b;
    sl_buf_init(&b);
    sl_manifest_render(m, &b);
    sl_buf_putc(&b, '\0');
    char *at = strstr(b.data, "\"updated\":\"");
    char *end = at ? strchr(at + 11, '"') : NULL;
    if (end) memmove(at, end + 1, strlen(end + 1) + 1);
    size_t len;
    return sl_buf_steal(&b, &len);
}

/* The checkpoint state of the manifest model rebuilds it exactly: same
 * field ids (also past the cap, under _other_fields), inputs, shards. */
static void test_manifest_state_round_trip(void) {
    sl_manifest m;
    sl_manifest_init(&m);
    m.split_key = "id";
    m.fractions[0] = 1;
    m.shard_records = 10;
    char name[32];
    for (int i = 0; i < SL_MANIFEST_MAX_FIELDS + 5; i++) {
        snprintf(name, sizeof name, "f%d", i);
        sl_manifest_field_id(&m, name, strlen(name), i % 2 ? SL_STRING : SL_INT);
    }
    sl_manifest_field_id(&m, "f0", 2, SL_DOUBLE);   /* a second type of a known name */
    uint32_t a = sl_manifest_input_id(&m, "docs", "a.jsonl"), b = sl_manifest_input_id(&m, "docs", "b \"q\".jsonl");
    for (int k = 0; k < 3; k++) {
        sl_shard_entry e = {.split = k, .records = 10u + (unsigned)k, .bytes = 100, .compressed_bytes = 40};
        snprintf(name, sizeof name, "%s/shard-00000.jsonl.zst", sl_dataset_split_names[k]);
        e.file = strdup(name);
        memset(e.sha256, 'a' + k, 64);
        e.n_fields = 3;
        e.fields = malloc(3 * sizeof *e.fields);
        e.fields[0] = 0;
        e.fields[1] = (uint32_t)k + 1;
        e.fields[2] = (uint32_t)(m.n_fields - 1);
        e.n_inputs = 2;
        e.inputs = malloc(2 * sizeof *e.inputs);
        e.inputs[0] = (sl_shard_input){a, 0, 99, 5};
        e.inputs[1] = (sl_shard_input){b, 7, 8, 5u + (unsigned)k};
        sl_manifest_add_shard(&m, &e);
    }
    sl_buf state;
    sl_buf_init(&state);
    sl_manifest_save(&m, &state);

    sl_arena arena;
    sl_arena_init(&arena, 4096);
    sl_value doc;
    sl_error err = {0};
    CHECK_INT(sl_state_parse(&arena, state.data, state.len, "state", &doc, &err), 0);
    sl_manifest back;
    sl_manifest_copy_settings(&back, &m);
    CHECK_INT(sl_manifest_load(&back, &doc, &err), 0);
    CHECK_INT(back.n_fields, m.n_fields);
    CHECK_INT(back.other_fields, m.other_fields);
    char *want = render_timeless(&m), *got = render_timeless(&back);
    CHECK_STR(got, want);
    free(want);
    free(got);

    /* A damaged state is an error, never a crash. */
    sl_manifest broken;
    sl_manifest_copy_settings(&broken, &m);
    const char *damaged = "{\"finished\":false,\"other_fields\":0,\"fields\":[],\"inputs\":[],\"shards\":[{"
                          "\"split\":0,\"file\":\"x\",\"records\":1,\"bytes\":1,\"compressed_bytes\":1,\"sha256\":"
                          "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                          "\"fields\":[3],\"inputs\":[]}]}";
    CHECK_INT(sl_state_parse(&arena, damaged, strlen(damaged), "state", &doc, &err), 0);
    CHECK(sl_manifest_load(&broken, &doc, &err) < 0);
    CHECK(strstr(err.msg, "unknown field") != NULL);
    sl_manifest_free(&broken);
    sl_manifest_free(&back);
    sl_manifest_free(&m);
    sl_arena_free(&arena);
    sl_buf_free(&state);
}

static void test_manifest_matches_shards(void) {
    new_data_dir();
    CHECK_INT(run_gen(2000, "", "shard_records: 300, " SPLIT, 2, 64), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK(first.finished);
    CHECK_INT(leftovers(), 0);
    CHECK_INT(first.n[0] + first.n[1] + first.n[2], 2000);
    int all[2000], k = 0;
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < first.n[s]; i++) all[k++] = first.ids[s][i];
    int expect[2000];
    for (int i = 0; i < 2000; i++) expect[i] = i;
    CHECK(same_set(all, k, expect, 2000));
    /* Every shard but the last of its split is exactly full. */
    for (int i = 0; i < first.n_shards; i++) {
        bool last = true;
        for (int j = i + 1; j < first.n_shards; j++) last &= strcmp(first.shards[j].split, first.shards[i].split) != 0;
        if (!last) CHECK_INT(first.shards[i].records, 300);
        CHECK(first.shards[i].records > 0 && first.shards[i].records <= 300);
    }
    /* Roughly the configured fractions (binomial, n = 2000). */
    CHECK(first.n[0] > 1500 && first.n[0] < 1700);
    CHECK(first.n[1] > 130 && first.n[1] < 270);
    CHECK(first.n[2] > 130 && first.n[2] < 270);
    /* Without shuffling, each split keeps input order. */
    for (int s = 0; s < 3; s++)
        for (int i = 1; i < first.n[s]; i++) CHECK(first.ids[s][i - 1] < first.ids[s][i]);
}

static void test_split_is_stable(void) {
    new_data_dir();
    CHECK_INT(run_gen(5000, "", "shard_records: 100, " SPLIT, 1, 7), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    new_data_dir();
    CHECK_INT(run_gen(5000, "", "shard_bytes: 4k, " SPLIT, 2, 1000), 0);
    load(&second);
    CHECK_INT(second.problems, 0);
    CHECK(first.n_shards != second.n_shards);   /* the shard sizes really differ */
    for (int s = 0; s < 3; s++) {
        CHECK(first.n[s] > 0);
        CHECK(same_set(first.ids[s], first.n[s], second.ids[s], second.n[s]));
    }
    /* A bytes limit: no shard over 4 KiB of text. */
    for (int i = 0; i < second.n_shards; i++) CHECK(second.shards[i].records < 4096 / 40);
}

static void test_shard_boundaries_independent_of_batching(void) {
    new_data_dir();
    CHECK_INT(run_gen(3000, "", "shard_records: 250", 1, 3), 0);
    load(&first);
    new_data_dir();
    CHECK_INT(run_gen(3000, "", "shard_records: 250", 2, 512), 0);
    load(&second);
    CHECK_INT(first.problems + second.problems, 0);
    CHECK_INT(first.n_shards, 12);
    CHECK_INT(second.n_shards, 12);
    CHECK_INT(first.n[0], 3000);
    CHECK(memcmp(first.ids[0], second.ids[0], sizeof(int) * 3000) == 0);
}

static void test_shuffle_deterministic_permutation(void) {
    new_data_dir();
    CHECK_INT(run_gen(4000, "", "shard_records: 500, shuffle: {buffer: 300, seed: 1}, " SPLIT, 1, 10), 0);
    load(&first);
    new_data_dir();
    CHECK_INT(run_gen(4000, "", "shard_bytes: 8k, shuffle: {buffer: 300, seed: 1}, " SPLIT, 2, 333), 0);
    load(&second);
    CHECK_INT(first.problems + second.problems, 0);
    CHECK_INT(first.n[0] + first.n[1] + first.n[2], 4000);
    for (int s = 0; s < 3; s++) {
        CHECK_INT(first.n[s], second.n[s]);
        CHECK(memcmp(first.ids[s], second.ids[s], sizeof(int) * (size_t)first.n[s]) == 0);
    }
    /* A permutation of the unshuffled split, in a different order. */
    static dataset plain;
    new_data_dir();
    CHECK_INT(run_gen(4000, "", SPLIT, 2, 100), 0);
    load(&plain);
    int in_place = 0;
    for (int s = 0; s < 3; s++) {
        CHECK(same_set(first.ids[s], first.n[s], plain.ids[s], plain.n[s]));
        for (int i = 0; i < plain.n[s]; i++) in_place += first.ids[s][i] == plain.ids[s][i];
    }
    CHECK(in_place < 100);
    /* Another seed, another order. */
    new_data_dir();
    CHECK_INT(run_gen(4000, "", "shuffle: {buffer: 300, seed: 2}, " SPLIT, 2, 100), 0);
    load(&second);
    CHECK(memcmp(first.ids[0], second.ids[0], sizeof(int) * (size_t)first.n[0]) != 0);
    CHECK(same_set(first.ids[0], first.n[0], second.ids[0], second.n[0]));
}

static void test_shard_schema(void) {
    new_data_dir();
    /* Records 0..99 have {id, a, text}, 100..199 {id, b}; batches of 30 straddle the change. */
    CHECK_INT(run_gen(200, ", shape_from: 100", "shard_records: 100", 2, 30), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK_INT(first.n_shards, 2);
    CHECK_STR(first.shards[0].schema, "id:int,a:int,text:string");
    CHECK_STR(first.shards[1].schema, "id:int,b:string");
}

static void test_missing_key_goes_to_dlq(void) {
    new_data_dir();
    CHECK_INT(run_gen(100, ", missing_key_every: 10", SPLIT, 1, 16), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK_INT(first.n[0] + first.n[1] + first.n[2], 90);
    char path[128];
    snprintf(path, sizeof path, "%s/state/dlq/dlq.jsonl", data_dir);
    sl_buf text;
    sl_buf_init(&text);
    read_file(path, &text);
    int entries = 0;
    for (const char *p = text.data; p && (p = strstr(p, "\"reason\":\"missing_split_key\"")); p++) entries++;
    CHECK_INT(entries, 10);
    sl_buf_free(&text);
}

static void test_existing_dataset(void) {
    new_data_dir();
    CHECK_INT(run_gen(500, "", "shard_records: 100", 1, 50), 0);
    CHECK_INT(run_gen(50, "", "shard_records: 100", 1, 50), -1);
    /* Refused when the pipeline is built, so `sluice check` reports it too. */
    CHECK_CONTAINS(diag_output(), "already holds a dataset");
    CHECK_CONTAINS(diag_output(), "overwrite: true");
    load(&first);
    CHECK_INT(first.n[0], 500);   /* untouched */
    CHECK_INT(run_gen(50, "", "shard_records: 100, overwrite: true", 1, 50), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK_INT(first.n_shards, 1);
    CHECK_INT(first.n[0], 50);
    char old[128];
    snprintf(old, sizeof old, "%s/ds/train/shard-00004.jsonl.zst", data_dir);
    CHECK(access(old, F_OK) != 0);
}

static void test_empty_input(void) {
    new_data_dir();
    CHECK_INT(run_gen(0, "", SPLIT, 1, 50), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK(first.finished);
    CHECK_INT(first.n_shards, 0);
}

static void test_option_errors(void) {
    new_data_dir();
    CHECK_INT(run_gen(10, "", "split: {key: id, train: 0.8, validation: 0.1}", 1, 5), -1);
    CHECK(strstr(diag_output(), "the split fractions add up to 0.9; they must add up to 1") != NULL);
    CHECK_INT(run_gen(10, "", "split: {key: id, train: 1, tests: 0}", 1, 5), -1);
    CHECK(strstr(diag_output(), "unknown key 'tests' in 'split'; did you mean 'test'?") != NULL);
    CHECK_INT(run_gen(10, "", "split: {train: 1}", 1, 5), -1);
    CHECK(strstr(diag_output(), "split needs a 'key'") != NULL);
    CHECK_INT(run_gen(10, "", "shuffle: {buffer: 0}", 1, 5), -1);
    CHECK(strstr(diag_output(), "shuffle.buffer must be a number of records from 1 to") != NULL);
    CHECK_INT(run_gen(10, "", "shuffle: 5", 1, 5), -1);
    CHECK(strstr(diag_output(), "shuffle must be a mapping") != NULL);
}

static void test_lineage_config(void) {
    static const char ok[] = "lineage: {file: out/l.jsonl, url: 'http://127.0.0.1:5000/api/v1/lineage', "
                             "namespace: training}\nsources: {in: {type: gen, count: 1}}\n"
                             "sinks: {ds: {type: dataset, inputs: [in], path: out}}\n";
    sl_diag diag;
    sl_diag_init(&diag);
    sl_config *cfg = sl_config_parse("t.yaml", ok, strlen(ok), &diag);
    CHECK(cfg && !sl_diag_has_errors(&diag));
    CHECK_STR(cfg->lineage_file, "out/l.jsonl");
    CHECK_STR(cfg->lineage_url, "http://127.0.0.1:5000/api/v1/lineage");
    CHECK_STR(cfg->lineage_namespace, "training");
    sl_config_free(cfg);
    sl_diag_free(&diag);

    static const char bad[] = "lineage: {files: x}\nsources: {in: {type: gen, count: 1}}\n"
                              "sinks: {ds: {type: dataset, inputs: [in], path: out}}\n";
    sl_diag_init(&diag);
    cfg = sl_config_parse("t.yaml", bad, strlen(bad), &diag);
    sl_buf text;
    sl_buf_init(&text);
    sl_diag_print(&diag, &text);
    sl_buf_putc(&text, 0);
    CHECK(strstr(text.data, "unknown key 'files' in 'lineage'; did you mean 'file'?") != NULL);
    CHECK(strstr(text.data, "'lineage' needs a 'file' to append events to, a 'url' to POST them to, or both") != NULL);
    sl_buf_free(&text);
    sl_config_free(cfg);
    sl_diag_free(&diag);
}

/* index.json of the last run, decoded into a (the caller frees it); NULL when unreadable. */
static const sl_value *read_index(sl_arena *a, sl_value *root) {
    char path[128];
    snprintf(path, sizeof path, "%s/ds/index.json", data_dir);
    sl_buf text;
    sl_buf_init(&text);
    read_file(path, &text);
    char *copy = sl_arena_calloc(a, text.len + SL_BUF_PADDING);
    if (text.len) memcpy(copy, text.data, text.len);
    sl_decode_error derr;
    int rc = text.len ? sl_json_decode(a, copy, text.len, 0, true, root, &derr) : -1;
    sl_buf_free(&text);
    return rc == 0 ? root : NULL;
}

static long file_size(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "%s/ds/%s", data_dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* 20,000 records, each with a field name of its own: interning is hashed
 * and the schema capped, so the run is quick and index.json small. */
static void test_unique_field_names_are_capped(void) {
    enum { N = 20000 };
    sl_buf input;
    sl_buf_init(&input);
    for (int i = 0; i < N; i++) sl_buf_printf(&input, "{\"id\":%d,\"k%d\":%d}\n", i, i, i);
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, text_of(&input), 2, 1000);
    sl_buf_printf(&yaml, "sinks:\n  ds: {type: dataset, inputs: [in], path: %s/ds, shard_records: 5000}\n", data_dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(run_config(text_of(&yaml)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 20);
    sl_buf_free(&yaml);
    sl_buf_free(&input);

    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK_INT(first.n_shards, 4);
    CHECK_INT(first.n[0], N);
    long size = file_size("index.json");
    CHECK(size > 0 && size < 150000);
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value root;
    const sl_value *index = read_index(&a, &root);
    CHECK(index != NULL);
    const sl_value *schema = get(index, "schema");
    /* id and k0..k1022 (1024 pairs), then everything else as _other_fields */
    CHECK(schema && schema->type == SL_ARRAY && schema->len == 1025);
    if (schema && schema->len == 1025) {
        const sl_value *last = get(&schema->as.items[1024], "name");
        CHECK(last && last->len == 13 && memcmp(last->as.s, "_other_fields", 13) == 0);
        const sl_value *k1022 = get(&schema->as.items[1023], "name");
        CHECK(k1022 && k1022->len == 5 && memcmp(k1022->as.s, "k1022", 5) == 0);
    }
    CHECK_INT(get_int(index, "other_fields"), N - 1023);
    const sl_value *shards = get(index, "shards");
    CHECK(shards && shards->len == 4);
    if (shards && shards->len == 4) {
        CHECK_INT(get(&shards->as.items[0], "schema")->len, 1025);   /* k0..k1022 are in the first shard */
        CHECK_INT(get(&shards->as.items[3], "schema")->len, 2);      /* id, _other_fields */
    }
    sl_arena_free(&a);
}

/* shuffle.buffer_bytes bounds the buffer: a record is never written more
 * than about buffer_bytes of text ahead of its place. */
static void test_shuffle_bounded_by_bytes(void) {
    new_data_dir();
    /* Lines are about 60 bytes: 1 KiB holds some 17 of the 1000 records `buffer` allows. */
    CHECK_INT(run_gen(3000, "", "shuffle: {buffer: 1000, buffer_bytes: 1k, seed: 4}", 2, 100), 0);
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK_INT(first.n[0], 3000);
    int ahead = 0, in_place = 0;
    for (int k = 0; k < first.n[0]; k++) {
        if (first.ids[0][k] - k > ahead) ahead = first.ids[0][k] - k;
        in_place += first.ids[0][k] == k;
    }
    CHECK(ahead >= 5 && ahead <= 20);
    CHECK(in_place < 300);
    int expect[3000];
    for (int i = 0; i < 3000; i++) expect[i] = i;
    CHECK(same_set(first.ids[0], first.n[0], expect, 3000));
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value root;
    const sl_value *index = read_index(&a, &root);
    CHECK_INT(get_int(get(index, "shuffle"), "buffer_bytes"), 1024);
    sl_arena_free(&a);

    CHECK_INT(run_gen(10, "", "shuffle: {buffer: 10, buffer_bytes: lots}", 1, 5), -1);
    CHECK_CONTAINS(diag_output(), "shuffle.buffer_bytes must be a size such as 64MiB");
}

/* The split key is a field path like any other: quoted segments work. */
static void test_split_key_quoted_path(void) {
    sl_buf input;
    sl_buf_init(&input);
    for (int i = 0; i < 400; i++) sl_buf_printf(&input, "{\"id\":%d,\"meta\":{\"doc id\":\"d%d\"}}\n", i, i);
    new_data_dir();
    sl_buf yaml;
    sl_buf_init(&yaml);
    lines_config(&yaml, text_of(&input), 1, 64);
    sl_buf_printf(&yaml, "sinks:\n  ds:\n    type: dataset\n    inputs: [in]\n    path: %s/ds\n"
                         "    split: {key: 'meta.\"doc id\"', train: 0.5, validation: 0.5}\n", data_dir);
    CHECK_INT(run_config(text_of(&yaml)), 0);
    CHECK_STR(diag_output(), "");
    sl_buf_free(&yaml);
    sl_buf_free(&input);
    CHECK_STR(dlq(), "");
    load(&first);
    CHECK_INT(first.problems, 0);
    CHECK_INT(first.n[0] + first.n[1], 400);
    CHECK(first.n[0] > 140 && first.n[1] > 140);
    CHECK_INT(first.n[2], 0);
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value root;
    const sl_value *key = get(get(read_index(&a, &root), "split"), "key");
    CHECK(key && key->type == SL_STRING && strncmp(key->as.s, "meta.\"doc id\"", key->len) == 0);
    sl_arena_free(&a);
}

int main(void) {
    if (sodium_init() < 0) return 1;
    add_test_type(&gen_type);
    add_test_type(&sl_sink_dataset_type);
    RUN(test_manifest_matches_shards);
    RUN(test_manifest_state_round_trip);
    RUN(test_split_is_stable);
    RUN(test_shard_boundaries_independent_of_batching);
    RUN(test_shuffle_deterministic_permutation);
    RUN(test_shard_schema);
    RUN(test_missing_key_goes_to_dlq);
    RUN(test_existing_dataset);
    RUN(test_empty_input);
    RUN(test_option_errors);
    RUN(test_lineage_config);
    RUN(test_unique_field_names_are_capped);
    RUN(test_shuffle_bounded_by_bytes);
    RUN(test_split_key_quoted_path);
    reset();
    return check_report();
}
