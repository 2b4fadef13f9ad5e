/* dataset.c — the `dataset` sink: training-ready shards of zstd-compressed
 * JSON lines, split into train/validation/test by a hash of a key field,
 * optionally shuffled, listed in an index.json manifest (manifest.h).
 *
 *   path/index.json
 *   path/train/shard-00000.jsonl.zst      path/validation/...   path/test/...
 *
 * Work is split as the runtime intends. On the workers, encode chooses each
 * record's split (sl_value_hash of the key with a fixed seed, mapped to
 * [0,1) and compared with the cumulative fractions: the same key value lands
 * in the same split in every run, whatever the batch size, worker count or
 * shard size), encodes it as a JSON line into that split's payload part,
 * notes which top-level (field, type) pairs it has and where it came from,
 * and compresses the part as one zstd frame (unless shuffling, which needs
 * the lines). A part is a small self-describing record (part_header below)
 * followed by the field table, one line_entry per record, and the text.
 *
 * On the sink thread, write appends a part to its split's current shard:
 * a part that fits whole is appended as its compressed frame (the common
 * case, no recompression); a part that crosses a shard boundary is
 * decompressed and its lines taken one at a time, so boundaries fall at
 * exactly the same records whatever the batching. With `shuffle`, each
 * split has a buffer of `buffer` lines and at most `buffer_bytes` of text;
 * once full, each new line replaces a line chosen by a seeded generator,
 * which is written out (the tf.data shuffle buffer); when full by bytes,
 * random lines are written out until the new one fits. Lines the sink thread writes itself are compressed in
 * frames of about 1 MiB.
 *
 * Two-phase commit (runtime/checkpointer.c, docs/delivery.md): a shard is
 * written as shard-NNNNN.jsonl.zst.inprogress; when full it is fsynced,
 * closed and added to the manifest model, still under that name. At a
 * checkpoint, save pre-commits: the open shards are fsynced (their size is
 * noted), the shuffle buffers are written to a spill file, and the state
 * holds the whole model (closed shards, fields, inputs), the open shards and
 * the generators. Once the checkpoint is durable, commit renames the closed
 * shards to their final names and publishes index.json (manifest.c) from
 * that state, so index.json and the final names only ever show shards that
 * no crash can take back. Resuming (restore with state) finishes that
 * publication, cuts the open shards back to their noted size, reloads the
 * shuffle buffers and deletes whatever was written after the checkpoint: the
 * records are read again and land in the same places, so the dataset equals
 * an uninterrupted run's. At the end of the run (also after SIGTERM) close
 * drains the shuffle buffers, closes the open shards and marks the model
 * finished; the final checkpoint publishes it. A finished dataset in `path`
 * is refused when the sink is created (so `sluice check` reports it) unless
 * `overwrite`; an unfinished one (a crash left it) is continued from the
 * checkpoint, or discarded when there is none.
 *
 * Field names come from the data: the workers' part tables and the
 * manifest find fields through hash tables, and the manifest lists at most
 * SL_MANIFEST_MAX_FIELDS of them, so hostile records cost neither
 * quadratic time nor an unbounded index.json.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/crc32c.h"
#include "../core/dir_lock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../expr/expr.h"
#include "../runtime/component.h"
#include "encoder.h"
#include "manifest.h"

#define SPLIT_SEED 0x736c756963652d73ull     /* fixed: changing it reshuffles every split */
#define FRAME_BYTES (1u << 20)              /* sink-thread frames of about this much text */
#define MASK_FIELDS 64                      /* per-line field masks cover this many pairs */
#define MAX_SHUFFLE_BUFFER 10000000
#define SHUFFLE_BUFFER_BYTES "256MiB"           /* default shuffle.buffer_bytes */
#define SLOT_KEEP_BYTES (64u << 10)             /* a shuffle slot keeps a larger buffer only while it is used */
#define FIELD_SEED 0x6669656c64736c75ull
#define ID_WORDS ((SL_MANIFEST_MAX_FIELDS + 64 + 63) / 64)   /* bit set over manifest ids */
#define HINTS 32                            /* field positions remembered for lookups */

/* ---- the part format, worker -> sink thread ---- */

enum { PART_COMPRESSED = 1, PART_WIDE = 2 };   /* WIDE: more than MASK_FIELDS pairs */

typedef struct part_header {
    uint32_t lines, n_fields, flags;
    uint64_t text_len;          /* uncompressed JSON lines */
    uint64_t blob_len;          /* the text as stored */
    uint64_t first, last;       /* smallest and largest position offset */
    uint64_t all_fields;        /* OR of the lines' masks */
    const char *source;         /* source name and origin: both live as long */
    const char *origin;         /* as the pipeline */
} part_header;
/* then n_fields x (uint32 name length, uint32 type, name bytes), then
 * lines x line_entry, then blob_len bytes of text */

typedef struct line_entry {
    uint32_t len;
    uint64_t offset;            /* source position offset */
    uint64_t fields;            /* bit i: the record has field-table entry i */
} line_entry;

/* ---- configuration and state ---- */

typedef struct shard {
    bool open;
    unsigned number;
    int fd;
    char tmp_path[PATH_MAX], file[64];
    uint64_t records, text_bytes, file_bytes;
    crypto_hash_sha256_state sha;
    uint64_t *fields;           /* bit set over manifest field ids */
    size_t field_words;
    sl_shard_input *inputs;
    size_t n_inputs, inputs_cap;
    sl_buf pending;             /* lines not compressed yet */
} shard;

typedef struct shuffle_slot {
    sl_buf text;
    uint32_t input;
    uint64_t offset;
    uint32_t *ids;              /* manifest field ids */
    size_t n_ids, ids_cap;
} shuffle_slot;

typedef struct split_state {
    shard cur;
    unsigned next_number;
    shuffle_slot *slots;        /* shuffle buffer: n_slots filled, buffer allocated */
    size_t n_slots;
    uint64_t slot_bytes;        /* text held by the filled slots */
    uint64_t rng;
    bool dir_unsynced;          /* a file was created in the split's directory since the last save */
    bool changed;               /* the shuffle buffer changed since it was last spilled */
    struct {
        bool valid;             /* spill file `seq` holds the buffer as it is */
        uint64_t seq, size;
        uint32_t crc;
    } spilled;
} split_state;

typedef struct dataset_sink {
    const char *name;
    char *path;
    uint64_t shard_bytes, shard_records;
    bool overwrite;
    /* split */
    sl_path *key;               /* NULL: no split */
    double cut[SL_DATASET_SPLITS];   /* cumulative fractions */
    /* shuffle */
    size_t shuffle_buffer;      /* 0: no shuffle */
    uint64_t shuffle_bytes, shuffle_seed;
    /* sink thread */
    split_state splits[SL_DATASET_SPLITS];
    uint64_t spill_seq;         /* number of the next shuffle spill */
    uint64_t spill_kept;        /* checkpointing thread: oldest spill a checkpoint may still need */
    int lock_fd;                /* the dataset directory's lock (dir_lock.h), from restore to destroy, or -1 */
    char broken[SL_ERROR_MAX];  /* sink thread: a write failed part-way; every later call fails */
    sl_manifest manifest;
    /* Shards closed so far per split (published or about to be at the next
     * commit), for describe: any thread reads them. */
    _Atomic uint64_t closed_records[SL_DATASET_SPLITS], closed_shards[SL_DATASET_SPLITS];
    _Atomic uint64_t closed_bytes[SL_DATASET_SPLITS];
    sl_compressor compressor;
    ZSTD_DCtx *dctx;
    sl_buf scratch;             /* a decompressed part */
    uint32_t *xlate;            /* part field index -> manifest field id */
    size_t xlate_cap;
    uint32_t ids[MASK_FIELDS];
    uint32_t wide_ids[ID_WORDS * 64];   /* a wide part's distinct manifest ids */
    size_t n_wide_ids;
} dataset_sink;

typedef struct field_ref {
    const char *name;           /* into the batch: valid until encode returns */
    uint32_t len;
    uint8_t type;
} field_ref;

typedef struct part_builder {
    sl_buf text, lines;
    field_ref *fields;
    size_t n_fields, fields_cap;
    uint32_t *slots;            /* hash of (name, type): field index + 1, 0 = empty */
    size_t slots_cap;           /* a power of two */
    uint32_t hint[HINTS];       /* field-table index last matched at record position i */
    uint64_t first, last, all_fields;
    bool wide;
} part_builder;

typedef struct dataset_worker {
    part_builder parts[SL_DATASET_SPLITS];
    sl_compressor compressor;
} dataset_worker;

static const sl_option dataset_options[] = {
    {"path", SL_OPT_STRING, true, NULL,
     "Dataset directory: receives `index.json` and one directory per split "
     "(`train/`, `validation/`, `test/`) of `shard-NNNNN.jsonl.zst` files.",
     NULL},
    {"shard_bytes", SL_OPT_SIZE, false, "64MiB",
     "Close a shard before its uncompressed JSON lines would exceed this size (a single "
     "larger record still gets a shard of its own); 0: no size limit.",
     NULL},
    {"shard_records", SL_OPT_INT, false, "0",
     "Close a shard once it holds this many records; 0: no record limit. With both limits "
     "set, a shard closes at whichever comes first.",
     NULL},
    {"split", SL_OPT_ANY, false, NULL,
     "Mapping `{key: FIELD, train: F, validation: F, test: F}`: each record goes to the split "
     "chosen by a hash of its `key` field (a field path such as `id` or `meta.doc_id`); the "
     "fractions must add up to 1 (a missing one is 0). Unset: every record goes to `train`.",
     NULL},
    {"shuffle", SL_OPT_ANY, false, NULL,
     "Mapping `{buffer: N, buffer_bytes: SIZE, seed: S}`: shuffle each split through a buffer "
     "of at most N records and `buffer_bytes` of text (default " SHUFFLE_BUFFER_BYTES ", per "
     "split) with a generator seeded by S (default 0).",
     NULL},
    {"overwrite", SL_OPT_BOOL, false, "false",
     "Replace a finished dataset already in `path` (its index.json and shards are deleted when "
     "the run starts a new dataset). When false, a directory that holds a finished dataset is a "
     "configuration error (reported by `sluice check` too).",
     NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static void *grow(void *p, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return p;
    *cap = *cap ? *cap * 2 : 16;
    while (*cap <= n) *cap *= 2;
    p = realloc(p, *cap * size);
    if (!p) abort();
    return p;
}

/* ---- create / destroy ---- */

/* A number from a scalar node, or false. */
static bool node_number(const sl_node *n, double *out) {
    if (!n || n->kind != SL_NODE_SCALAR || n->len == 0) return false;
    char *end;
    errno = 0;
    *out = strtod(n->text, &end);
    return errno == 0 && *end == '\0' && isfinite(*out);
}

static bool node_uint(const sl_node *n, uint64_t max, uint64_t *out) {
    if (!n || n->kind != SL_NODE_SCALAR || n->len == 0 || n->text[0] == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(n->text, &end, 10);
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

/* Reports keys of map that are not in allowed, with a suggestion. */
static void check_keys(const sl_node *map, const char *option, const char *const *allowed, size_t n,
                       sl_diag *diag) {
    for (size_t i = 0; i < map->n_pairs; i++) {
        const sl_node *key = map->pairs[i].key;
        bool known = false;
        for (size_t k = 0; k < n && !known; k++) known = strcmp(key->text, allowed[k]) == 0;
        if (known) continue;
        const char *guess = sl_did_you_mean(key->text, allowed, n);
        char shown[SL_NODE_SHOW_MAX];
        if (guess)
            sl_diag_error(diag, key->pos, "unknown key '%s' in '%s'; did you mean '%s'?",
                          sl_node_show(key, shown), option, guess);
        else
            sl_diag_error(diag, key->pos, "unknown key '%s' in '%s'", sl_node_show(key, shown), option);
    }
}

static void read_split(dataset_sink *ds, const sl_node *n, sl_diag *diag) {
    static const char *const keys[] = {"key", "train", "validation", "test"};
    if (n->kind != SL_NODE_MAP) {
        sl_diag_error(diag, n->pos, "split must be a mapping like {key: id, train: 0.98, validation: 0.01, "
                      "test: 0.01}, found %s", sl_node_kind_name(n->kind));
        return;
    }
    check_keys(n, "split", keys, 4, diag);
    const sl_node *key = sl_node_get(n, "key");
    if (!key || key->kind != SL_NODE_SCALAR || key->len == 0) {
        sl_diag_error(diag, key ? key->pos : n->pos, "split needs a 'key': the field whose value "
                      "chooses the split, such as 'id'");
        return;
    }
    if (!(ds->key = sl_path_parse(key->text, key->pos, diag))) return;
    double sum = 0;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        const sl_node *f = sl_node_get(n, sl_dataset_split_names[s]);
        double v = 0;
        if (f && (!node_number(f, &v) || v < 0 || v > 1)) {
            sl_diag_error(diag, f->pos, "split.%s must be a fraction from 0 to 1, such as 0.01",
                          sl_dataset_split_names[s]);
            return;
        }
        ds->manifest.fractions[s] = v;
        sum += v;
        ds->cut[s] = sum;
    }
    if (fabs(sum - 1.0) > 1e-9) {
        sl_diag_error(diag, n->pos, "the split fractions add up to %g; they must add up to 1", sum);
        return;
    }
    ds->cut[SL_DATASET_SPLITS - 1] = 2.0;   /* rounding never leaves a record without a split */
    ds->manifest.split_key = sl_path_source(ds->key);
}

static void read_shuffle(dataset_sink *ds, const sl_node *n, sl_diag *diag) {
    static const char *const keys[] = {"buffer", "buffer_bytes", "seed"};
    if (n->kind != SL_NODE_MAP) {
        sl_diag_error(diag, n->pos, "shuffle must be a mapping like {buffer: 10000, seed: 1}, found %s",
                      sl_node_kind_name(n->kind));
        return;
    }
    check_keys(n, "shuffle", keys, 3, diag);
    const sl_node *buffer = sl_node_get(n, "buffer"), *seed = sl_node_get(n, "seed");
    const sl_node *bytes = sl_node_get(n, "buffer_bytes");
    uint64_t v;
    if (!buffer || !node_uint(buffer, MAX_SHUFFLE_BUFFER, &v) || v == 0) {
        sl_diag_error(diag, buffer ? buffer->pos : n->pos,
                      "shuffle.buffer must be a number of records from 1 to %d", MAX_SHUFFLE_BUFFER);
        return;
    }
    ds->shuffle_buffer = (size_t)v;
    const char *size = !bytes ? SHUFFLE_BUFFER_BYTES : bytes->kind == SL_NODE_SCALAR ? bytes->text : "";
    if (!sl_parse_size(size, &ds->shuffle_bytes) || ds->shuffle_bytes == 0) {
        sl_diag_error(diag, bytes->pos, "shuffle.buffer_bytes must be a size such as 64MiB");
        return;
    }
    if (seed && !node_uint(seed, UINT64_MAX, &ds->shuffle_seed)) {
        sl_diag_error(diag, seed->pos, "shuffle.seed must be a non-negative whole number");
        return;
    }
    ds->manifest.shuffle = true;
    ds->manifest.shuffle_buffer = ds->shuffle_buffer;
    ds->manifest.shuffle_buffer_bytes = ds->shuffle_bytes;
    ds->manifest.shuffle_seed = ds->shuffle_seed;
}

static void free_shard(shard *sh) {
    free(sh->fields);
    free(sh->inputs);
    sl_buf_free(&sh->pending);
}

static void dataset_destroy(sl_component *c) {
    dataset_sink *ds = c->impl;
    if (!ds) return;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        split_state *sp = &ds->splits[s];
        if (sp->cur.open) close(sp->cur.fd);   /* kept: the next run continues or discards it */
        free_shard(&sp->cur);
        for (size_t i = 0; i < ds->shuffle_buffer && sp->slots; i++) {
            sl_buf_free(&sp->slots[i].text);
            free(sp->slots[i].ids);
        }
        free(sp->slots);
    }
    sl_dir_unlock(ds->lock_fd);
    sl_path_free(ds->key);
    sl_manifest_free(&ds->manifest);
    sl_compressor_free(&ds->compressor);
    ZSTD_freeDCtx(ds->dctx);
    sl_buf_free(&ds->scratch);
    free(ds->xlate);
    free(ds->path);
    free(ds);
    c->impl = NULL;
}

/* Whether ds->path holds a finished dataset (or an index.json that is not
 * one sluice writes: it is not ours to replace either). An unfinished one
 * was left by an interrupted run: the run continues or discards it. */
static bool finished_dataset(const dataset_sink *ds) {
    char index[PATH_MAX];
    snprintf(index, sizeof index, "%s/index.json", ds->path);
    sl_buf text;
    sl_buf_init(&text);
    bool finished = false;
    if (sl_read_file(index, &text) < 0) {
        finished = errno != ENOENT && errno != ENOTDIR;   /* unreadable: not ours to replace either */
    } else {
        sl_arena a;
        sl_arena_init(&a, 4096);
        sl_value doc;
        sl_error err;
        const sl_value *f = NULL;
        if (sl_state_parse(&a, text.data, text.len, "index.json", &doc, &err) == 0)
            f = sl_state_get(&doc, "finished");
        finished = !f || f->type != SL_BOOL || f->as.b;
        sl_arena_free(&a);
    }
    sl_buf_free(&text);
    return finished;
}

#define EXISTING_DATASET "%s already holds a dataset (its index.json says finished); set 'overwrite: true' to replace it, or choose another path"

static int dataset_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    if (sodium_init() < 0) {
        sl_diag_error(diag, c->pos, "cannot initialise libsodium (needed for SHA-256)");
        return -1;
    }
    dataset_sink *ds = calloc(1, sizeof *ds);
    if (!ds) abort();
    c->impl = ds;
    ds->name = c->name;
    ds->lock_fd = -1;
    size_t errors = diag->errors;
    sl_manifest_init(&ds->manifest);
    sl_compressor_init(&ds->compressor, SL_COMPRESSION_ZSTD);
    for (int s = 0; s < SL_DATASET_SPLITS; s++) ds->cut[s] = s == 0 ? 2.0 : 0;

    const char *path = sl_opts_string(opts, "path");
    ds->path = strdup(path ? path : "");
    if (!ds->path) abort();
    size_t len = strlen(ds->path);
    while (len > 1 && ds->path[len - 1] == '/') ds->path[--len] = '\0';
    if (path && len == 0)
        sl_diag_error(diag, sl_opts_pos(opts, "path"), "path must not be empty");
    else if (len > PATH_MAX - 64)
        sl_diag_error(diag, sl_opts_pos(opts, "path"), "path is too long");

    ds->shard_bytes = sl_opts_size(opts, "shard_bytes");
    int64_t records = sl_opts_int(opts, "shard_records");
    if (records < 0)
        sl_diag_error(diag, sl_opts_pos(opts, "shard_records"), "shard_records must be 0 (no limit) or more");
    ds->shard_records = records > 0 ? (uint64_t)records : 0;
    ds->overwrite = sl_opts_bool(opts, "overwrite");
    ds->manifest.shard_bytes = ds->shard_bytes;
    ds->manifest.shard_records = ds->shard_records;
    if (sl_opts_node(opts, "split")) read_split(ds, sl_opts_node(opts, "split"), diag);
    if (sl_opts_node(opts, "shuffle")) read_shuffle(ds, sl_opts_node(opts, "shuffle"), diag);
    if (diag->errors == errors && !ds->overwrite && finished_dataset(ds))
        sl_diag_error(diag, sl_opts_pos(opts, "path"), EXISTING_DATASET, ds->path);

    if (diag->errors != errors) {
        dataset_destroy(c);
        return -1;
    }
    c->publishes = true;   /* shards and index.json are published at checkpoints */
    c->delivery = SL_DELIVERY_EXACTLY_ONCE;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        split_state *sp = &ds->splits[s];
        sp->cur.fd = -1;
        sl_buf_init(&sp->cur.pending);
        /* Each split its own stream, so one split's order depends on its own records only. */
        sp->rng = ds->shuffle_seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(s + 1));
        if (ds->shuffle_buffer) {
            sp->slots = calloc(ds->shuffle_buffer, sizeof *sp->slots);
            if (!sp->slots) abort();
        }
    }
    return 0;
}

/* ---- encode (workers) ---- */

static void *dataset_worker_init(sl_component *c, sl_error *err) {
    dataset_worker *w = calloc(1, sizeof *w);
    if (!w) abort();
    sl_compressor_init(&w->compressor, SL_COMPRESSION_ZSTD);
    return w;
}

static void dataset_worker_free(sl_component *c, void *wstate) {
    dataset_worker *w = wstate;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        sl_buf_free(&w->parts[s].text);
        sl_buf_free(&w->parts[s].lines);
        free(w->parts[s].fields);
        free(w->parts[s].slots);
    }
    sl_compressor_free(&w->compressor);
    free(w);
}

/* The split for a key: its hash as a number in [0,1) against the cumulative fractions. */
static int choose_split(const dataset_sink *ds, const sl_value *key) {
    double u = (double)(sl_value_hash(key, SPLIT_SEED) >> 11) * 0x1.0p-53;
    int s = 0;
    while (u >= ds->cut[s]) s++;
    return s;
}

static size_t field_slot(const char *name, size_t len, uint8_t type, size_t cap) {
    return (size_t)sl_hash64(name, len, FIELD_SEED + type) & (cap - 1);
}

/* Rebuilds the builder's hash at twice the size. */
static void part_grow_slots(part_builder *pb) {
    size_t cap = pb->slots_cap ? pb->slots_cap * 2 : 64;
    free(pb->slots);
    pb->slots = calloc(cap, sizeof *pb->slots);
    if (!pb->slots) abort();
    pb->slots_cap = cap;
    for (size_t k = 0; k < pb->n_fields; k++) {
        const field_ref *r = &pb->fields[k];
        size_t i = field_slot(r->name, r->len, r->type, cap);
        while (pb->slots[i]) i = (i + 1) & (cap - 1);
        pb->slots[i] = (uint32_t)k + 1;
    }
}

/* The field-table index of (name, type), added when new. Records of a
 * batch usually share their layout, so the entry that matched position i
 * last time is tried first; then the hash. */
static size_t part_field(part_builder *pb, const sl_field *f, uint32_t position) {
    uint8_t type = f->value.type == SL_UINT ? SL_INT : f->value.type;
    if (position < HINTS && pb->hint[position] < pb->n_fields) {
        const field_ref *r = &pb->fields[pb->hint[position]];
        if (r->type == type && r->len == f->key_len && memcmp(r->name, f->key, f->key_len) == 0)
            return pb->hint[position];
    }
    if (2 * (pb->n_fields + 1) > pb->slots_cap) part_grow_slots(pb);
    size_t slot = field_slot(f->key, f->key_len, type, pb->slots_cap), i;
    for (;; slot = (slot + 1) & (pb->slots_cap - 1)) {
        if (!pb->slots[slot]) {
            i = pb->n_fields;
            pb->fields = grow(pb->fields, &pb->fields_cap, pb->n_fields, sizeof *pb->fields);
            pb->fields[pb->n_fields++] = (field_ref){f->key, f->key_len, type};
            pb->slots[slot] = (uint32_t)i + 1;
            break;
        }
        i = pb->slots[slot] - 1;
        const field_ref *r = &pb->fields[i];
        if (r->type == type && r->len == f->key_len && memcmp(r->name, f->key, f->key_len) == 0) break;
    }
    if (position < HINTS) pb->hint[position] = (uint32_t)i;
    return i;
}

static void part_add(part_builder *pb, const sl_record *r) {
    size_t start = pb->text.len;
    sl_json_encode_record_line(&pb->text, r);
    line_entry e = {.len = (uint32_t)(pb->text.len - start), .offset = r->pos.offset};
    const sl_value *v = sl_record_value(r);
    if (v->type == SL_MAP) {
        for (uint32_t i = 0; i < v->len; i++) {
            size_t id = part_field(pb, &v->as.fields[i], i);
            if (id < MASK_FIELDS)
                e.fields |= 1ull << id;
            else
                pb->wide = true;
        }
    }
    if (pb->lines.len == 0 || r->pos.offset < pb->first) pb->first = r->pos.offset;
    if (pb->lines.len == 0 || r->pos.offset > pb->last) pb->last = r->pos.offset;
    pb->all_fields |= e.fields;
    sl_buf_append(&pb->lines, &e, sizeof e);
}

static void part_reset(part_builder *pb) {
    pb->text.len = pb->lines.len = 0;
    if (pb->n_fields) memset(pb->slots, 0, pb->slots_cap * sizeof *pb->slots);
    pb->n_fields = 0;
    pb->first = pb->last = pb->all_fields = 0;
    pb->wide = false;
    memset(pb->hint, 0xff, sizeof pb->hint);
}

/* Serialises a builder into its payload part. */
static void part_emit(const dataset_sink *ds, dataset_worker *w, part_builder *pb, sl_payload_part *part,
                      const char *source, const char *origin) {
    part_header h = {
        .lines = (uint32_t)(pb->lines.len / sizeof(line_entry)),
        .n_fields = (uint32_t)pb->n_fields,
        .flags = (ds->shuffle_buffer ? 0 : PART_COMPRESSED) | (pb->wide ? PART_WIDE : 0),
        .text_len = pb->text.len,
        .first = pb->first, .last = pb->last, .all_fields = pb->all_fields,
        .source = source, .origin = origin,
    };
    if (h.flags & PART_COMPRESSED) sl_compress_buf(&w->compressor, &pb->text);
    h.blob_len = pb->text.len;
    sl_buf *d = &part->data;
    size_t names = 0;
    for (size_t i = 0; i < pb->n_fields; i++) names += 8 + pb->fields[i].len;
    sl_buf_reserve(d, sizeof h + names + pb->lines.len + pb->text.len);
    sl_buf_append(d, &h, sizeof h);
    for (size_t i = 0; i < pb->n_fields; i++) {
        uint32_t meta[2] = {pb->fields[i].len, pb->fields[i].type};
        sl_buf_append(d, meta, sizeof meta);
        sl_buf_append(d, pb->fields[i].name, pb->fields[i].len);
    }
    sl_buf_append(d, pb->lines.data, pb->lines.len);
    sl_buf_append(d, pb->text.data, pb->text.len);
    part->records += h.lines;
}

static void dataset_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_payload *out, sl_emit *dlq) {
    dataset_sink *ds = c->impl;
    dataset_worker *w = wstate;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) part_reset(&w->parts[s]);
    for (size_t i = 0; i < n; i++) {
        int s = 0;
        if (ds->key) {
            const sl_value *key = sl_path_get(ds->key, sl_record_value(recs[i]));
            if (!key || key->type == SL_NULL) {
                sl_emit_dlq(dlq, recs[i], "missing_split_key",
                            "the split key field '%s' is missing or null", sl_path_source(ds->key));
                continue;
            }
            s = choose_split(ds, key);
        }
        part_add(&w->parts[s], recs[i]);
    }
    const char *source = sl_emit_source_name(dlq);
    const char *origin = b->origin ? b->origin : source;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        part_builder *pb = &w->parts[s];
        if (pb->lines.len == 0) continue;
        const char *key = sl_dataset_split_names[s];
        part_emit(ds, w, pb, sl_payload_part_get(out, key, strlen(key)), source, origin);
    }
}

/* ---- the sink thread: shards ---- */

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static bool shard_full(const dataset_sink *ds, const shard *sh) {
    return (ds->shard_records && sh->records >= ds->shard_records) ||
           (ds->shard_bytes && sh->text_bytes >= ds->shard_bytes);
}

/* Whether `lines` more records of `bytes` text would take a non-empty shard past a limit. */
static bool shard_overflows(const dataset_sink *ds, const shard *sh, uint64_t lines, uint64_t bytes) {
    return sh->records > 0 && ((ds->shard_records && sh->records + lines > ds->shard_records) ||
                               (ds->shard_bytes && sh->text_bytes + bytes > ds->shard_bytes));
}

/* Names shard `number` of split s: its file (relative) and temporary path. */
static void shard_names(const dataset_sink *ds, int s, unsigned number, shard *sh) {
    sh->number = number;
    char file[sizeof sh->file];
    snprintf(file, sizeof file, "%s/shard-%05u.jsonl.zst", sl_dataset_split_names[s], number);
    memcpy(sh->file, file, sizeof file);
    snprintf(sh->tmp_path, sizeof sh->tmp_path, "%s/%s.inprogress", ds->path, file);
}

static int shard_open(dataset_sink *ds, int s, sl_error *err) {
    split_state *sp = &ds->splits[s];
    shard *sh = &sp->cur;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", ds->path, sl_dataset_split_names[s]);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return sl_errorf(err, "cannot create %s: %s", dir, strerror(errno));
    sp->dir_unsynced = true;
    shard_names(ds, s, sp->next_number++, sh);
    sh->fd = open(sh->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (sh->fd < 0) return sl_errorf(err, "cannot create %s: %s", sh->tmp_path, strerror(errno));
    sh->open = true;
    sh->records = sh->text_bytes = sh->file_bytes = 0;
    sh->n_inputs = 0;
    if (sh->fields) memset(sh->fields, 0, sh->field_words * sizeof *sh->fields);
    crypto_hash_sha256_init(&sh->sha);
    return 0;
}

/* Appends bytes to the shard file, hashing them on the way. */
static int shard_put(shard *sh, const char *p, size_t n, sl_error *err) {
    if (write_all(sh->fd, p, n) < 0) return sl_errorf(err, "cannot write %s: %s", sh->tmp_path, strerror(errno));
    crypto_hash_sha256_update(&sh->sha, (const unsigned char *)p, n);
    sh->file_bytes += n;
    return 0;
}

/* Compresses the pending lines as one frame and appends it. */
static int shard_put_pending(dataset_sink *ds, shard *sh, sl_error *err) {
    if (sh->pending.len == 0) return 0;
    sl_compress_buf(&ds->compressor, &sh->pending);
    int rc = shard_put(sh, sh->pending.data, sh->pending.len, err);
    sh->pending.len = 0;
    return rc;
}

static void shard_mark(shard *sh, const uint32_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t word = ids[i] / 64;
        if (word >= sh->field_words) {
            size_t words = word + 1;
            sh->fields = realloc(sh->fields, words * sizeof *sh->fields);
            if (!sh->fields) abort();
            memset(sh->fields + sh->field_words, 0, (words - sh->field_words) * sizeof *sh->fields);
            sh->field_words = words;
        }
        sh->fields[word] |= 1ull << (ids[i] % 64);
    }
}

static void shard_input(shard *sh, uint32_t input, uint64_t first, uint64_t last, uint64_t records) {
    for (size_t i = sh->n_inputs; i-- > 0;) {
        sl_shard_input *in = &sh->inputs[i];
        if (in->input != input) continue;
        if (first < in->first) in->first = first;
        if (last > in->last) in->last = last;
        in->records += records;
        return;
    }
    sh->inputs = grow(sh->inputs, &sh->inputs_cap, sh->n_inputs, sizeof *sh->inputs);
    sh->inputs[sh->n_inputs++] = (sl_shard_input){input, first, last, records};
}

/* The manifest ids of the shard's fields, ascending (malloc'ed). */
static uint32_t *shard_field_ids(const shard *sh, size_t *n) {
    *n = 0;
    for (size_t wd = 0; wd < sh->field_words; wd++) *n += (size_t)__builtin_popcountll(sh->fields[wd]);
    uint32_t *ids = malloc((*n ? *n : 1) * sizeof *ids);
    if (!ids) abort();
    size_t k = 0;
    for (size_t wd = 0; wd < sh->field_words; wd++)
        for (uint64_t m = sh->fields[wd]; m; m &= m - 1) ids[k++] = (uint32_t)(wd * 64 + (size_t)__builtin_ctzll(m));
    return ids;
}

/* Adds a closed shard to the counts describe shows. */
static void count_closed(dataset_sink *ds, const sl_shard_entry *e) {
    atomic_fetch_add(&ds->closed_records[e->split], e->records);
    atomic_fetch_add(&ds->closed_bytes[e->split], e->compressed_bytes);
    atomic_fetch_add(&ds->closed_shards[e->split], 1);
}

/* Closes the current shard of split s: fsynced and added to the model,
 * still under its temporary name; the next checkpoint publishes it. */
static int shard_close(dataset_sink *ds, int s, sl_error *err) {
    shard *sh = &ds->splits[s].cur;
    if (!sh->open) return 0;
    if (shard_put_pending(ds, sh, err) < 0) return -1;
    if (fsync(sh->fd) < 0) return sl_errorf(err, "cannot fsync %s: %s", sh->tmp_path, strerror(errno));
    close(sh->fd);
    sh->fd = -1;
    sh->open = false;

    sl_shard_entry e = {.split = s, .records = sh->records, .bytes = sh->text_bytes,
                        .compressed_bytes = sh->file_bytes};
    e.file = strdup(sh->file);
    if (!e.file) abort();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&sh->sha, digest);
    sodium_bin2hex(e.sha256, sizeof e.sha256, digest, sizeof digest);
    e.fields = shard_field_ids(sh, &e.n_fields);
    e.n_inputs = sh->n_inputs;
    e.inputs = malloc((sh->n_inputs ? sh->n_inputs : 1) * sizeof *e.inputs);
    if (!e.inputs) abort();
    if (sh->n_inputs) memcpy(e.inputs, sh->inputs, sh->n_inputs * sizeof *e.inputs);
    count_closed(ds, &e);
    sl_manifest_add_shard(&ds->manifest, &e);   /* takes e's contents */
    sl_debug(ds->name, "closed %s/%s (%llu records)", ds->path, sh->file, (unsigned long long)sh->records);
    return 0;
}

/* Adds one line to split s, cutting the shard first when it would overflow. */
static int emit_line(dataset_sink *ds, int s, const char *text, size_t len, uint32_t input, uint64_t offset,
                     const uint32_t *ids, size_t n_ids, sl_error *err) {
    shard *sh = &ds->splits[s].cur;
    if (shard_overflows(ds, sh, 1, len) && shard_close(ds, s, err) < 0) return -1;
    if (!sh->open && shard_open(ds, s, err) < 0) return -1;
    sl_buf_append(&sh->pending, text, len);
    sh->records++;
    sh->text_bytes += len;
    shard_mark(sh, ids, n_ids);
    shard_input(sh, input, offset, offset, 1);
    if (sh->pending.len >= FRAME_BYTES && shard_put_pending(ds, sh, err) < 0) return -1;
    if (shard_full(ds, sh)) return shard_close(ds, s, err);
    return 0;
}

/* ---- the sink thread: shuffling ---- */

static uint64_t next_random(uint64_t *state) {   /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t random_below(uint64_t *state, size_t n) {
    return (size_t)(((unsigned __int128)next_random(state) * n) >> 64);
}

static void slot_store(shuffle_slot *slot, const char *text, size_t len, uint32_t input, uint64_t offset,
                       const uint32_t *ids, size_t n_ids) {
    /* A buffer kept from a much longer line would hold memory buffer_bytes does not count. */
    if (slot->text.cap > SLOT_KEEP_BYTES && slot->text.cap > 2 * len) sl_buf_free(&slot->text);
    slot->text.len = 0;
    sl_buf_append(&slot->text, text, len);
    slot->input = input;
    slot->offset = offset;
    slot->ids = grow(slot->ids, &slot->ids_cap, n_ids, sizeof *slot->ids);
    memcpy(slot->ids, ids, n_ids * sizeof *ids);
    slot->n_ids = n_ids;
}

static int slot_emit(dataset_sink *ds, int s, const shuffle_slot *slot, sl_error *err) {
    return emit_line(ds, s, slot->text.data, slot->text.len, slot->input, slot->offset, slot->ids,
                     slot->n_ids, err);
}

/* Writes out a random line of the buffer and removes it. */
static int shuffle_pop(dataset_sink *ds, int s, sl_error *err) {
    split_state *sp = &ds->splits[s];
    sp->changed = true;
    size_t j = random_below(&sp->rng, sp->n_slots);
    if (slot_emit(ds, s, &sp->slots[j], err) < 0) return -1;
    sp->slot_bytes -= sp->slots[j].text.len;
    shuffle_slot last = sp->slots[sp->n_slots - 1];
    sp->slots[sp->n_slots - 1] = sp->slots[j];
    sp->slots[j] = last;
    sp->n_slots--;
    return 0;
}

/* Through the buffer: fills it, then each line evicts a random one. When
 * the line would take the text past buffer_bytes, random lines are written
 * out first until it fits (a line larger than the whole budget passes
 * straight through). */
static int shuffle_line(dataset_sink *ds, int s, const char *text, size_t len, uint32_t input, uint64_t offset,
                        const uint32_t *ids, size_t n_ids, sl_error *err) {
    split_state *sp = &ds->splits[s];
    if (len > ds->shuffle_bytes) return emit_line(ds, s, text, len, input, offset, ids, n_ids, err);
    sp->changed = true;
    while (sp->n_slots > 0 && sp->slot_bytes + len > ds->shuffle_bytes)
        if (shuffle_pop(ds, s, err) < 0) return -1;
    if (sp->n_slots < ds->shuffle_buffer) {
        slot_store(&sp->slots[sp->n_slots++], text, len, input, offset, ids, n_ids);
        sp->slot_bytes += len;
        return 0;
    }
    shuffle_slot *slot = &sp->slots[random_below(&sp->rng, sp->n_slots)];
    if (slot_emit(ds, s, slot, err) < 0) return -1;
    sp->slot_bytes = sp->slot_bytes - slot->text.len + len;
    slot_store(slot, text, len, input, offset, ids, n_ids);
    return 0;
}

/* At the end: what is left in the buffer, in random order. */
static int shuffle_drain(dataset_sink *ds, int s, sl_error *err) {
    while (ds->splits[s].n_slots > 0)
        if (shuffle_pop(ds, s, err) < 0) return -1;
    return 0;
}

/* ---- the sink thread: parts ---- */

typedef struct part_view {
    part_header h;
    const char *fields;     /* the serialised field table */
    const char *lines;      /* line_entry array (unaligned) */
    const char *blob;
} part_view;

static void part_view_of(const sl_payload_part *part, part_view *v) {
    const char *p = part->data.data;
    memcpy(&v->h, p, sizeof v->h);
    p += sizeof v->h;
    v->fields = p;
    for (uint32_t i = 0; i < v->h.n_fields; i++) {
        uint32_t meta[2];
        memcpy(meta, p, sizeof meta);
        p += sizeof meta + meta[0];
    }
    v->lines = p;
    v->blob = p + (size_t)v->h.lines * sizeof(line_entry);
}

/* Maps the part's field table to manifest ids, into ds->xlate, and for a
 * wide part collects the distinct ids (many part fields may share the
 * manifest's _other_fields entries) into ds->wide_ids. */
static void translate_fields(dataset_sink *ds, const part_view *v) {
    ds->xlate = grow(ds->xlate, &ds->xlate_cap, v->h.n_fields, sizeof *ds->xlate);
    uint64_t seen[ID_WORDS] = {0};
    ds->n_wide_ids = 0;
    const char *p = v->fields;
    for (uint32_t i = 0; i < v->h.n_fields; i++) {
        uint32_t meta[2];
        memcpy(meta, p, sizeof meta);
        uint32_t id = sl_manifest_field_id(&ds->manifest, p + sizeof meta, meta[0], (uint8_t)meta[1]);
        ds->xlate[i] = id;
        p += sizeof meta + meta[0];
        if ((v->h.flags & PART_WIDE) && !(seen[id / 64] & (1ull << (id % 64)))) {
            seen[id / 64] |= 1ull << (id % 64);
            ds->wide_ids[ds->n_wide_ids++] = id;
        }
    }
}

/* The manifest ids of a line's fields (all of the part's for a wide part). */
static const uint32_t *line_ids(dataset_sink *ds, const part_view *v, uint64_t mask, size_t *n) {
    if (v->h.flags & PART_WIDE) {
        *n = ds->n_wide_ids;
        return ds->wide_ids;
    }
    size_t k = 0;
    for (; mask; mask &= mask - 1) ds->ids[k++] = ds->xlate[__builtin_ctzll(mask)];
    *n = k;
    return ds->ids;
}

/* The part's text, decompressed when needed. */
static const char *part_text(dataset_sink *ds, const part_view *v, sl_error *err) {
    if (!(v->h.flags & PART_COMPRESSED)) return v->blob;
    if (!ds->dctx && !(ds->dctx = ZSTD_createDCtx())) abort();
    ds->scratch.len = 0;
    sl_buf_reserve(&ds->scratch, v->h.text_len);
    size_t n = ZSTD_decompressDCtx(ds->dctx, ds->scratch.data, ds->scratch.cap, v->blob, v->h.blob_len);
    if (ZSTD_isError(n) || n != v->h.text_len)
        return sl_errorf(err, "internal error: a dataset part does not decompress (%s)",
                         ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size"), NULL;
    return ds->scratch.data;
}

static int write_part(dataset_sink *ds, int s, const sl_payload_part *part, sl_error *err) {
    part_view v;
    part_view_of(part, &v);
    translate_fields(ds, &v);
    uint32_t input = sl_manifest_input_id(&ds->manifest, v.h.source, v.h.origin);
    shard *sh = &ds->splits[s].cur;

    bool whole = !ds->shuffle_buffer && !shard_overflows(ds, sh, v.h.lines, v.h.text_len) &&
                 !(sh->records == 0 && ((ds->shard_records && v.h.lines > ds->shard_records) ||
                                        (ds->shard_bytes && v.h.text_len > ds->shard_bytes)));
    if (whole) {
        if (!sh->open && shard_open(ds, s, err) < 0) return -1;
        if (shard_put_pending(ds, sh, err) < 0) return -1;
        if (shard_put(sh, v.blob, v.h.blob_len, err) < 0) return -1;
        sh->records += v.h.lines;
        sh->text_bytes += v.h.text_len;
        size_t n;
        const uint32_t *ids = line_ids(ds, &v, v.h.all_fields, &n);
        shard_mark(sh, ids, n);
        shard_input(sh, input, v.h.first, v.h.last, v.h.lines);
        return shard_full(ds, sh) ? shard_close(ds, s, err) : 0;
    }

    const char *text = part_text(ds, &v, err);
    if (!text) return -1;
    for (uint32_t i = 0; i < v.h.lines; i++) {
        line_entry e;
        memcpy(&e, v.lines + (size_t)i * sizeof e, sizeof e);
        size_t n;
        const uint32_t *ids = line_ids(ds, &v, e.fields, &n);
        int rc = ds->shuffle_buffer ? shuffle_line(ds, s, text, e.len, input, e.offset, ids, n, err)
                                    : emit_line(ds, s, text, e.len, input, e.offset, ids, n, err);
        if (rc < 0) return -1;
        text += e.len;
    }
    return 0;
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The number of a shard file name and whether it is the temporary one;
 * false when name is no shard file. */
static bool shard_name(const char *name, unsigned *number, bool *tmp) {
    if (strncmp(name, "shard-", 6) != 0 || name[6] < '0' || name[6] > '9') return false;
    char *end;
    errno = 0;
    unsigned long n = strtoul(name + 6, &end, 10);
    if (errno || n > UINT_MAX) return false;
    *number = (unsigned)n;
    *tmp = strcmp(end, ".jsonl.zst.inprogress") == 0;
    return *tmp || strcmp(end, ".jsonl.zst") == 0;
}

/* Deletes the shard files of the split directories: all of them, or (!all)
 * those the model does not account for: a closed shard is under its final
 * name, the open one under its temporary name. Counts what it deleted. */
static int sweep_shards(const dataset_sink *ds, bool all, size_t *removed, sl_error *err) {
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        const split_state *sp = &ds->splits[s];
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", ds->path, sl_dataset_split_names[s]);
        DIR *d = opendir(dir);
        if (!d) {
            if (errno == ENOENT || errno == ENOTDIR) continue;   /* no shard there (yet) */
            return sl_errorf(err, "cannot read %s: %s", dir, strerror(errno));
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            unsigned n;
            bool tmp;
            if (!shard_name(de->d_name, &n, &tmp)) continue;
            bool is_open = sp->cur.open && n == sp->cur.number;
            if (!all && (is_open ? tmp : !tmp && n < sp->next_number)) continue;
            char file[PATH_MAX + 256];
            snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
            if (unlink(file) < 0 && errno != ENOENT) {
                int e = errno;
                closedir(d);
                return sl_errorf(err, "cannot delete %s: %s", file, strerror(e));
            }
            (*removed)++;
        }
        closedir(d);
    }
    return 0;
}

/* ---- shuffle spills: the buffers at a checkpoint ---- */

#define SPILL_PREFIX ".shuffle-"

typedef struct spill_entry {
    uint32_t input, n_ids, len;
    uint64_t offset;
} spill_entry;
/* a spill file: per slot a spill_entry, n_ids x uint32, len bytes of text */

static void spill_path(const dataset_sink *ds, int s, uint64_t seq, char *out, size_t cap) {
    snprintf(out, cap, "%s/" SPILL_PREFIX "%s-%" PRIu64, ds->path, sl_dataset_split_names[s], seq);
}

/* Deletes spill files numbered below lo or above hi; with `tmps`, also
 * temporary files a crash left (only when no spill is being written). */
static int remove_spills(const dataset_sink *ds, uint64_t lo, uint64_t hi, bool tmps, sl_error *err) {
    DIR *d = opendir(ds->path);
    if (!d) return errno == ENOENT ? 0 : sl_errorf(err, "cannot read %s: %s", ds->path, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        bool spill = strncmp(de->d_name, SPILL_PREFIX, strlen(SPILL_PREFIX)) == 0;
        const char *dash = spill ? strrchr(de->d_name, '-') : NULL;
        char *end = NULL;
        uint64_t seq = dash ? strtoull(dash + 1, &end, 10) : 0;
        bool tmp = (spill || strncmp(de->d_name, "index.json.tmp-", 15) == 0) && strstr(de->d_name, ".tmp-");
        if (!(tmp ? tmps : spill && end && *end == '\0' && (seq < lo || seq > hi))) continue;
        char file[PATH_MAX + 256];
        snprintf(file, sizeof file, "%s/%s", ds->path, de->d_name);
        if (unlink(file) < 0 && errno != ENOENT) rc = sl_errorf(err, "cannot delete %s: %s", file, strerror(errno));
    }
    closedir(d);
    return rc;
}

/* Writes split s's shuffle buffer to spill file `seq` (none when it is
 * empty; a hard link to the last spill when it did not change since, which
 * leaves the directory to fsync: *root_unsynced) and describes it in state. */
static int spill_save(dataset_sink *ds, int s, uint64_t seq, sl_buf *state, bool *root_unsynced, sl_error *err) {
    split_state *sp = &ds->splits[s];
    if (sp->n_slots == 0) {
        sl_buf_puts(state, "{\"slots\":0,\"size\":0,\"crc\":0}");
        return 0;
    }
    char path[PATH_MAX + 64];
    spill_path(ds, s, seq, path, sizeof path);
    if (!sp->changed && sp->spilled.valid) {
        char last[PATH_MAX + 64];
        spill_path(ds, s, sp->spilled.seq, last, sizeof last);
        if (link(last, path) == 0) {
            sp->spilled.seq = seq;
            *root_unsynced = true;
            sl_buf_printf(state, "{\"slots\":%zu,\"size\":%" PRIu64 ",\"crc\":%" PRIu32 "}", sp->n_slots,
                          sp->spilled.size, sp->spilled.crc);
            return 0;
        }
    }
    sl_buf data;
    sl_buf_init(&data);
    for (size_t i = 0; i < sp->n_slots; i++) {
        const shuffle_slot *slot = &sp->slots[i];
        spill_entry e = {slot->input, (uint32_t)slot->n_ids, (uint32_t)slot->text.len, slot->offset};
        sl_buf_append(&data, &e, sizeof e);
        sl_buf_append(&data, slot->ids, slot->n_ids * sizeof *slot->ids);
        sl_buf_append(&data, slot->text.data, slot->text.len);
    }
    int rc = sl_write_file_atomic(path, data.data, data.len, err);
    uint32_t crc = sl_crc32c(0, data.data, data.len);
    sl_buf_printf(state, "{\"slots\":%zu,\"size\":%zu,\"crc\":%" PRIu32 "}", sp->n_slots, data.len, crc);
    sp->changed = false;
    sp->spilled.valid = rc == 0;
    sp->spilled.seq = seq;
    sp->spilled.size = data.len;
    sp->spilled.crc = crc;
    sl_buf_free(&data);
    return rc;
}

/* Refills split s's shuffle buffer from spill file `seq`. */
static int spill_load(dataset_sink *ds, int s, uint64_t seq, const sl_value *desc, sl_error *err) {
    split_state *sp = &ds->splits[s];
    uint64_t slots, size, crc;
    if (!sl_state_uint(desc, "slots", &slots) || !sl_state_uint(desc, "size", &size) ||
        !sl_state_uint(desc, "crc", &crc) || slots > ds->shuffle_buffer)
        return sl_errorf(err, "the saved shuffle buffer of %s is malformed (or shuffle.buffer was made smaller)",
                         sl_dataset_split_names[s]);
    if (slots == 0) return 0;
    char path[PATH_MAX + 64];
    spill_path(ds, s, seq, path, sizeof path);
    sl_buf data;
    sl_buf_init(&data);
    int rc = 0;
    if (sl_read_file(path, &data) < 0)
        rc = sl_errorf(err, "cannot read the shuffle buffer %s: %s", path, strerror(errno));
    else if (data.len != size || sl_crc32c(0, data.data, data.len) != crc)
        rc = sl_errorf(err, "the shuffle buffer %s is damaged (size or checksum differ)", path);
    const char *p = data.data, *end = rc == 0 ? data.data + data.len : data.data;
    for (uint64_t i = 0; rc == 0 && i < slots; i++) {
        spill_entry e;
        if ((size_t)(end - p) < sizeof e) break;
        memcpy(&e, p, sizeof e);
        p += sizeof e;
        if (e.n_ids > ID_WORDS * 64 || (size_t)(end - p) < (size_t)e.n_ids * 4 + e.len) break;
        uint32_t ids[ID_WORDS * 64];
        memcpy(ids, p, (size_t)e.n_ids * 4);
        slot_store(&sp->slots[i], p + (size_t)e.n_ids * 4, e.len, e.input, e.offset, ids, e.n_ids);
        p += (size_t)e.n_ids * 4 + e.len;
        sp->n_slots++;
        sp->slot_bytes += e.len;
    }
    if (rc == 0 && (sp->n_slots != slots || p != end))
        rc = sl_errorf(err, "the shuffle buffer %s is malformed", path);
    if (rc == 0) {
        sp->spilled.valid = true;
        sp->spilled.seq = seq;
        sp->spilled.size = size;
        sp->spilled.crc = (uint32_t)crc;
    }
    sl_buf_free(&data);
    return rc;
}

/* ---- checkpoints: pre-commit, publish, resume ---- */

/* A write that failed part-way leaves shards, counters and shuffle buffers
 * somewhere in the middle of a payload, which a retry cannot take back: the
 * sink refuses to go on, so the next checkpoint fails and the run stops; the
 * next run resumes from the last checkpoint, which knows nothing of it. */
static int broken(dataset_sink *ds, sl_error *err) {
    return sl_errorf(err, "the dataset cannot go on after a failed write (%s); the run stops and the next "
                     "run continues from the last checkpoint", ds->broken);
}

static void shard_dir(const dataset_sink *ds, int s, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", ds->path, sl_dataset_split_names[s]);
}

/* Pre-commit: the open shards become durable as far as they go, the
 * shuffle buffers are spilled, and the state describes it all. */
static int dataset_save(sl_component *c, sl_buf *state, sl_error *err) {
    dataset_sink *ds = c->impl;
    if (ds->broken[0]) return broken(ds, err);
    uint64_t seq = ds->spill_seq++;
    sl_buf_puts(state, "{\"path\":");
    sl_json_encode_string(state, ds->path, strlen(ds->path));
    sl_buf_printf(state, ",\"spill\":%" PRIu64 ",\"manifest\":", seq);
    sl_manifest_save(&ds->manifest, state);
    sl_buf_puts(state, ",\"splits\":[");
    bool root_unsynced = false;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        split_state *sp = &ds->splits[s];
        shard *sh = &sp->cur;
        if (sh->open && (shard_put_pending(ds, sh, err) < 0 || fsync(sh->fd) < 0)) {
            if (!err->msg[0]) sl_errorf(err, "cannot fsync %s: %s", sh->tmp_path, strerror(errno));
            return -1;
        }
        if (sp->dir_unsynced) {
            char dir[PATH_MAX];
            shard_dir(ds, s, dir, sizeof dir);
            if (sl_fsync_dir(dir, err) < 0) return -1;
            sp->dir_unsynced = false;
            root_unsynced = true;
        }
        sl_buf_printf(state, "%s{\"next\":%u,\"rng\":%" PRIu64 ",\"open\":", s ? "," : "", sp->next_number, sp->rng);
        if (sh->open) {
            sl_buf_printf(state, "{\"number\":%u,\"size\":%" PRIu64 ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
                          ",\"fields\":", sh->number, sh->file_bytes, sh->records, sh->text_bytes);
            size_t n;
            uint32_t *ids = shard_field_ids(sh, &n);
            sl_manifest_put_ids(state, ids, n);
            free(ids);
            sl_buf_puts(state, ",\"inputs\":");
            sl_manifest_put_inputs(state, sh->inputs, sh->n_inputs);
            sl_buf_putc(state, '}');
        } else {
            sl_buf_puts(state, "null");
        }
        sl_buf_puts(state, ",\"shuffle\":");
        if (!ds->shuffle_buffer) sl_buf_puts(state, "null");
        else if (spill_save(ds, s, seq, state, &root_unsynced, err) < 0) return -1;
        sl_buf_putc(state, '}');
    }
    sl_buf_puts(state, "]}");
    return root_unsynced ? sl_fsync_dir(ds->path, err) : 0;
}

/* Gives every closed shard of m its final name (a rename done before is
 * fine: publishing is idempotent), then fsyncs the directories. */
static int place_shards(const dataset_sink *ds, const sl_manifest *m, sl_error *err) {
    bool renamed[SL_DATASET_SPLITS] = {false};
    for (size_t i = 0; i < m->n_shards; i++) {
        const sl_shard_entry *e = &m->shards[i];
        char final[PATH_MAX + 64], tmp[PATH_MAX + 96];
        snprintf(final, sizeof final, "%s/%s", ds->path, e->file);
        snprintf(tmp, sizeof tmp, "%s.inprogress", final);
        if (exists(tmp)) {
            if (rename(tmp, final) < 0) return sl_errorf(err, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
            renamed[e->split] = true;
        } else if (!exists(final)) {
            return sl_errorf(err, "shard %s of the checkpoint is missing", final);
        }
    }
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        char dir[PATH_MAX];
        shard_dir(ds, s, dir, sizeof dir);
        if (renamed[s] && sl_fsync_dir(dir, err) < 0) return -1;
    }
    return 0;
}

/* The checkpoint holding the state is durable: publish its shards and manifest. */
static int commit_state(void *ctx, const sl_value *doc, sl_error *err) {
    dataset_sink *ds = ctx;
    uint64_t seq;
    if (!sl_state_uint(doc, "spill", &seq)) return sl_errorf(err, "the saved dataset state is malformed");
    sl_manifest m;
    sl_manifest_copy_settings(&m, &ds->manifest);   /* settings never change once created */
    int rc = sl_manifest_load(&m, sl_state_get(doc, "manifest"), err);
    if (rc == 0) rc = place_shards(ds, &m, err);
    if (rc == 0) rc = sl_manifest_publish(&m, ds->path, err);
    /* The previous checkpoint's spills stay (a restart falls back on it when
     * this one is damaged), unless the dataset is finished: none is needed. */
    if (rc == 0 && ds->shuffle_buffer)
        rc = m.finished ? remove_spills(ds, UINT64_MAX, 0, false, err)
                        : remove_spills(ds, ds->spill_kept, UINT64_MAX, false, err);
    if (rc == 0) ds->spill_kept = seq;
    sl_manifest_free(&m);
    return rc;
}

static int dataset_commit(sl_component *c, const char *state, size_t len, sl_error *err) {
    return sl_state_read(state, len, commit_state, c->impl, err);
}

/* Reopens split s's open shard as the checkpoint left it: cut back to the
 * size it had, hashed again, its counters restored. */
static int reopen_shard(dataset_sink *ds, int s, const sl_value *saved, sl_error *err) {
    split_state *sp = &ds->splits[s];
    shard *sh = &sp->cur;
    uint64_t number, size;
    if (!sl_state_uint(saved, "number", &number) || number >= sp->next_number || !sl_state_uint(saved, "size", &size) ||
        !sl_state_uint(saved, "records", &sh->records) || !sl_state_uint(saved, "bytes", &sh->text_bytes))
        return sl_errorf(err, "the saved open shard of %s is malformed", sl_dataset_split_names[s]);
    shard_names(ds, s, (unsigned)number, sh);
    char final[PATH_MAX + 64];
    snprintf(final, sizeof final, "%s/%s", ds->path, sh->file);
    /* Published by a later checkpoint that was lost: it is open again. */
    if (!exists(sh->tmp_path) && exists(final) && rename(final, sh->tmp_path) < 0)
        return sl_errorf(err, "cannot rename %s to %s: %s", final, sh->tmp_path, strerror(errno));
    sh->fd = open(sh->tmp_path, O_RDWR | O_CLOEXEC);
    if (sh->fd < 0) return sl_errorf(err, "cannot open %s: %s", sh->tmp_path, strerror(errno));
    sh->open = true;
    struct stat st;
    if (fstat(sh->fd, &st) < 0 || (uint64_t)st.st_size < size)
        return sl_errorf(err, "%s holds fewer bytes than at the checkpoint", sh->tmp_path);
    if (ftruncate(sh->fd, (off_t)size) < 0 || lseek(sh->fd, (off_t)size, SEEK_SET) < 0)
        return sl_errorf(err, "cannot cut %s back: %s", sh->tmp_path, strerror(errno));
    crypto_hash_sha256_init(&sh->sha);
    char block[65536];
    for (uint64_t at = 0; at < size;) {
        ssize_t n = pread(sh->fd, block, size - at < sizeof block ? (size_t)(size - at) : sizeof block, (off_t)at);
        if (n <= 0) return sl_errorf(err, "cannot read %s: %s", sh->tmp_path, n < 0 ? strerror(errno) : "short file");
        crypto_hash_sha256_update(&sh->sha, (const unsigned char *)block, (size_t)n);
        at += (uint64_t)n;
    }
    sh->file_bytes = size;
    uint32_t *ids;
    size_t n_ids;
    if (sl_manifest_get_ids(&ds->manifest, sl_state_get(saved, "fields"), &ids, &n_ids, err) < 0) {
        free(ids);
        return -1;
    }
    shard_mark(sh, ids, n_ids);
    free(ids);
    free(sh->inputs);
    sh->inputs = NULL;
    if (sl_manifest_get_inputs(&ds->manifest, sl_state_get(saved, "inputs"), &sh->inputs, &sh->n_inputs, err) < 0)
        return -1;
    sh->inputs_cap = sh->n_inputs;
    return 0;
}

static int start_new(dataset_sink *ds, sl_error *err);

static int resume_state(void *ctx, const sl_value *doc, sl_error *err) {
    dataset_sink *ds = ctx;
    const sl_value *splits = sl_state_get(doc, "splits"), *path = sl_state_get(doc, "path");
    if (!path || path->type != SL_STRING || path->len != strlen(ds->path) || memcmp(path->as.s, ds->path, path->len)) {
        sl_info(ds->name, "the checkpoint's dataset is in another directory; starting a new one in %s", ds->path);
        return start_new(ds, err);
    }
    uint64_t seq;
    if (!sl_state_uint(doc, "spill", &seq) || !splits || splits->type != SL_ARRAY || splits->len != SL_DATASET_SPLITS)
        return sl_errorf(err, "the saved dataset state is malformed");
    if (sl_manifest_load(&ds->manifest, sl_state_get(doc, "manifest"), err) < 0 ||
        place_shards(ds, &ds->manifest, err) < 0)
        return -1;
    ds->manifest.finished = false;   /* this run continues it */
    for (size_t i = 0; i < ds->manifest.n_shards; i++) count_closed(ds, &ds->manifest.shards[i]);
    if (sl_manifest_publish(&ds->manifest, ds->path, err) < 0) return -1;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        split_state *sp = &ds->splits[s];
        const sl_value *v = &splits->as.items[s], *saved = sl_state_get(v, "open"), *shuffle = sl_state_get(v, "shuffle");
        uint64_t next;
        if (!sl_state_uint(v, "next", &next) || next > UINT_MAX || !sl_state_uint(v, "rng", &sp->rng) || !saved || !shuffle)
            return sl_errorf(err, "the saved state of split %s is malformed", sl_dataset_split_names[s]);
        sp->next_number = (unsigned)next;
        if (saved->type != SL_NULL && reopen_shard(ds, s, saved, err) < 0) return -1;
        if (!ds->shuffle_buffer != (shuffle->type == SL_NULL))
            return sl_errorf(err, "shuffle was turned %s since the checkpoint", ds->shuffle_buffer ? "on" : "off");
        if (ds->shuffle_buffer && spill_load(ds, s, seq, shuffle, err) < 0) return -1;
    }
    size_t removed = 0;
    if (sweep_shards(ds, false, &removed, err) < 0 || remove_spills(ds, seq, seq, true, err) < 0) return -1;
    /* This checkpoint's spill stays until a later one is committed after the
     * run's first (a restart may still fall back on it). */
    ds->spill_seq = seq + 1;
    ds->spill_kept = seq;
    uint64_t records = 0;
    for (size_t i = 0; i < ds->manifest.n_shards; i++) records += ds->manifest.shards[i].records;
    sl_info(ds->name, "continuing the dataset in %s from the checkpoint (%zu shards, %llu records published%s)",
            ds->path, ds->manifest.n_shards, (unsigned long long)records,
            removed ? "; shards written after it are written again" : "");
    return 0;
}

/* Without a checkpoint to continue from: a new dataset. What is in path
 * is replaced: an unfinished dataset (an interrupted run left it), or a
 * finished one with `overwrite`. */
static int start_new(dataset_sink *ds, sl_error *err) {
    char index[PATH_MAX];
    snprintf(index, sizeof index, "%s/index.json", ds->path);
    bool had_index = exists(index), finished = had_index && finished_dataset(ds);
    if (finished && !ds->overwrite) return sl_errorf(err, EXISTING_DATASET, ds->path);
    /* The manifest goes first, so that no reader is sent to a deleted shard. */
    if (had_index && unlink(index) < 0 && errno != ENOENT)
        return sl_errorf(err, "cannot delete %s: %s", index, strerror(errno));
    size_t removed = 0;
    if ((had_index && sl_fsync_dir(ds->path, err) < 0) || sweep_shards(ds, true, &removed, err) < 0 ||
        remove_spills(ds, UINT64_MAX, 0, true, err) < 0)
        return -1;
    if (finished) sl_info(ds->name, "overwriting the dataset in %s", ds->path);
    else if (had_index || removed)
        sl_info(ds->name, "discarding the unfinished dataset in %s: an interrupted run left it and no "
                "checkpoint continues it", ds->path);
    return sl_manifest_publish(&ds->manifest, ds->path, err);
}

/* An unfinished dataset is continued or replaced, so no other run may be
 * writing it: the directory is locked (dir_lock.h, released when the process
 * ends, also by a crash) for as long as the sink exists. */
static int lock_dataset(dataset_sink *ds, sl_error *err) {
    static const sl_dir_lock_use dataset = {
        ".lock", "the dataset directory", "two runs would write the same shards and index.json; wait for that "
        "run to end, or give this sink another path"};
    ds->lock_fd = sl_dir_lock(ds->path, &dataset, err);
    return ds->lock_fd < 0 ? -1 : 0;
}

static int dataset_restore(sl_component *c, const char *state, size_t len, sl_error *err) {
    dataset_sink *ds = c->impl;
    if (lock_dataset(ds, err) < 0) return -1;
    return state ? sl_state_read(state, len, resume_state, ds, err) : start_new(ds, err);
}

static int dataset_write(sl_component *c, sl_payload *p, sl_error *err) {
    dataset_sink *ds = c->impl;
    if (ds->broken[0]) return broken(ds, err);
    for (size_t k = 0; k < p->count; k++) {
        const sl_payload_part *part = &p->parts[k];
        if (part->data.len == 0 || !part->key) continue;
        int s = 0;
        while (s < SL_DATASET_SPLITS && strcmp(part->key, sl_dataset_split_names[s]) != 0) s++;
        if (s == SL_DATASET_SPLITS || write_part(ds, s, part, err) < 0) {
            if (s == SL_DATASET_SPLITS) sl_errorf(err, "internal error: unknown split '%s'", part->key);
            snprintf(ds->broken, sizeof ds->broken, "%s", err->msg);
            return -1;
        }
    }
    return 0;
}

/* The end of the data: the shuffle buffers are drained and every shard
 * closed; the run's last checkpoint publishes them with the finished manifest. */
static int dataset_close(sl_component *c, sl_error *err) {
    dataset_sink *ds = c->impl;
    if (ds->broken[0]) return broken(ds, err);
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        if (ds->shuffle_buffer && shuffle_drain(ds, s, err) < 0) return -1;
        if (shard_close(ds, s, err) < 0) return -1;
    }
    ds->manifest.finished = true;
    uint64_t records = 0;
    for (size_t i = 0; i < ds->manifest.n_shards; i++) records += ds->manifest.shards[i].records;
    sl_info(ds->name, "dataset %s: %zu shards, %llu records", ds->path, ds->manifest.n_shards,
            (unsigned long long)records);
    return 0;
}

/* The dataset so far, for /stats and the report: records, shards and
 * compressed bytes per split, in shards closed so far (an open shard counts
 * once it closes). */
static void dataset_describe(sl_component *c, sl_buf *json) {
    dataset_sink *ds = c->impl;
    uint64_t records = 0, shards = 0;
    for (int s = 0; s < SL_DATASET_SPLITS; s++) {
        records += atomic_load(&ds->closed_records[s]);
        shards += atomic_load(&ds->closed_shards[s]);
    }
    sl_buf_puts(json, "{\"type\":\"dataset\",\"path\":");
    sl_json_encode_string(json, ds->path, strlen(ds->path));
    sl_buf_printf(json, ",\"records\":%" PRIu64 ",\"shards\":%" PRIu64 ",\"splits\":[", records, shards);
    for (int s = 0; s < SL_DATASET_SPLITS; s++)
        sl_buf_printf(json, "%s{\"split\":\"%s\",\"records\":%" PRIu64 ",\"shards\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
                      s ? "," : "", sl_dataset_split_names[s], atomic_load(&ds->closed_records[s]),
                      atomic_load(&ds->closed_shards[s]), atomic_load(&ds->closed_bytes[s]));
    sl_buf_puts(json, "]}");
}

const sl_component_type sl_sink_dataset_type = {
    .name = "dataset",
    .kind = SL_SINK,
    .summary = "Writes training-ready shards (zstd JSON lines) split into train/validation/test, "
               "with an index.json manifest",
    .doc =
        "Writes a dataset directory a trainer can read directly: `index.json` and, per split, "
        "`train/shard-00000.jsonl.zst`, `train/shard-00001.jsonl.zst`, ... (`validation/`, "
        "`test/` likewise). Each shard is JSON lines compressed with zstd (one or more frames; "
        "`zstd -d`, Python `zstandard` and Hugging Face `datasets` read it).\n\n"
        "**Split.** With `split`, each record goes to the split chosen by a 64-bit hash of its "
        "`key` field mapped to [0,1) and compared with the cumulative fractions (train, then "
        "validation, then test). The same key value always lands in the same split, whatever "
        "the run, batch size, worker count or shard size. A record whose key is missing or "
        "null goes to the DLQ with reason `missing_split_key`.\n\n"
        "**Shards.** A shard closes before its uncompressed text would exceed `shard_bytes`, or "
        "once it holds `shard_records` records. Boundaries fall on the same records in every "
        "run with the same input order.\n\n"
        "**Shuffle.** With `shuffle`, each split's records pass through a buffer of `buffer` "
        "records: once it is full, each arriving record replaces a randomly chosen one, which "
        "is written. The generator is seeded with `seed`, so the order is the same in every "
        "run with the same input order. Memory: up to `buffer` records and `buffer_bytes` "
        "(default " SHUFFLE_BUFFER_BYTES ") of text per split; when the bytes run out first, "
        "randomly chosen records are written until the new one fits.\n\n"
        "**Manifest and exactly-once.** Shards are written as `*.inprogress`; at each checkpoint "
        "they are fsynced (and the shuffle buffers spilled), and once the checkpoint is durable "
        "the complete ones are renamed and `index.json` is replaced atomically (temp file, fsync, "
        "rename, directory fsync). It lists every published shard with its record count, bytes, "
        "SHA-256, field schema and the inputs (source, file, offset range) it was built from. A "
        "reader never sees a partial shard. After a crash the next run continues the same "
        "dataset from the checkpoint, and the result equals an uninterrupted run's. On SIGTERM "
        "the open shards are closed and published. A directory that already holds a finished "
        "dataset is refused when the pipeline is built (`sluice check` reports it) unless "
        "`overwrite: true`; an unfinished one left by a crash is continued, or discarded when "
        "no checkpoint continues it.\n\n"
        "**Schema.** The schema lists each top-level field name with its types. A dataset lists "
        "at most 1024 (name, type) pairs; fields first seen after that are listed as "
        "`_other_fields`, and `other_fields` in index.json counts how often that happened "
        "(once per batch and field).",
    .example =
        "sinks:\n"
        "  corpus:\n"
        "    type: dataset\n"
        "    inputs: [clean]\n"
        "    path: out/corpus\n"
        "    shard_bytes: 64MiB\n"
        "    split: {key: id, train: 0.98, validation: 0.01, test: 0.01}\n"
        "    shuffle: {buffer: 10000, seed: 1}\n",
    .options = dataset_options,
    .create = dataset_create,
    .destroy = dataset_destroy,
    .describe = dataset_describe,
    .worker_init = dataset_worker_init,
    .worker_free = dataset_worker_free,
    .encode = dataset_encode,
    .write = dataset_write,
    .close = dataset_close,
    .save = dataset_save,
    .restore = dataset_restore,
    .commit = dataset_commit,
};
