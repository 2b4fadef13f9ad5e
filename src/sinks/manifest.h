/* manifest.h — the dataset sink's index.json: what a published dataset
 * holds, shard by shard, and how it is written so that a reader never sees
 * half of it.
 *
 * The manifest is a model kept on the sink thread (fields and inputs are
 * interned into small tables, shards refer to them by number) and rendered
 * to JSON whole each time it is published: written to index.json.tmp,
 * fsynced, renamed over index.json, and the directory fsynced. A reader
 * that opens index.json therefore gets either the previous version or the
 * new one, and every shard it lists is already complete under its final
 * name (shards are renamed into place before the manifest naming them).
 *
 * The JSON format is documented in docs/datasets.md; `version` changes when
 * it changes incompatibly.
 */
#ifndef SL_SINK_MANIFEST_H
#define SL_SINK_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"

#define SL_DATASET_SPLITS 3
#define SL_MANIFEST_VERSION 1
/* Distinct (name, type) pairs a dataset's schema lists. Pairs first seen
 * after that are listed under SL_MANIFEST_OTHER_FIELDS (one entry per
 * type), so hostile field names cannot make the manifest or the time to
 * build it grow without bound. */
#define SL_MANIFEST_MAX_FIELDS 1024
#define SL_MANIFEST_OTHER_FIELDS "_other_fields"

/* "train", "validation", "test": the split directories, in this order. */
extern const char *const sl_dataset_split_names[SL_DATASET_SPLITS];

/* A top-level field name with one value type (a field seen with two types
 * is two entries, chained in the order they were interned). */
typedef struct sl_manifest_field {
    char *name;
    size_t name_len;
    uint8_t type;            /* sl_type; SL_UINT is folded into SL_INT */
    uint32_t first;          /* id of the first entry with this name */
    uint32_t next_type;      /* id of the next entry with this name, or UINT32_MAX */
} sl_manifest_field;

/* Where records came from: the source component and the batch origin (a
 * file path for file sources). */
typedef struct sl_manifest_input {
    char *source;
    char *origin;
} sl_manifest_input;

/* The part of one input a shard was built from. */
typedef struct sl_shard_input {
    uint32_t input;          /* index into the manifest's inputs */
    uint64_t first, last;    /* smallest and largest source position offset */
    uint64_t records;
} sl_shard_input;

typedef struct sl_shard_entry {
    int split;               /* index into sl_dataset_split_names */
    char *file;              /* relative to the dataset directory */
    uint64_t records;
    uint64_t bytes;          /* uncompressed JSON lines */
    uint64_t compressed_bytes;
    char sha256[65];         /* of the file as written, lowercase hex */
    uint32_t *fields;        /* field ids, ascending */
    size_t n_fields;
    char *schema;            /* the fields as JSON, rendered once by sl_manifest_add_shard */
    sl_shard_input *inputs;
    size_t n_inputs;
} sl_shard_entry;

typedef struct sl_manifest {
    /* settings, shown in the manifest so a reader knows how it was cut */
    const char *split_key;   /* NULL: no split, everything in train */
    double fractions[SL_DATASET_SPLITS];
    bool shuffle;
    uint64_t shuffle_buffer, shuffle_buffer_bytes, shuffle_seed;
    uint64_t shard_bytes, shard_records;
    bool finished;           /* the writer closed the dataset */

    sl_manifest_field *fields;
    size_t n_fields, fields_cap;
    size_t n_named;          /* entries other than SL_MANIFEST_OTHER_FIELDS's */
    uint64_t other_fields;   /* lookups of fields left out because of the cap */
    uint32_t *field_index;   /* hash of names: id + 1, 0 = empty */
    size_t field_index_cap;  /* a power of two */
    bool *listed;            /* by id: in some published shard */
    size_t listed_cap;
    sl_manifest_input *inputs;
    size_t n_inputs, inputs_cap;
    size_t last_input;       /* lookup cache: inputs repeat batch after batch */
    sl_shard_entry *shards;
    size_t n_shards, shards_cap;
} sl_manifest;

void sl_manifest_init(sl_manifest *m);
void sl_manifest_free(sl_manifest *m);
/* The id of (name, type), added when new; once SL_MANIFEST_MAX_FIELDS
 * pairs are known, the id of (SL_MANIFEST_OTHER_FIELDS, type) for a new one. */
uint32_t sl_manifest_field_id(sl_manifest *m, const char *name, size_t len, uint8_t type);
/* The id of (source, origin), added when new. */
uint32_t sl_manifest_input_id(sl_manifest *m, const char *source, const char *origin);
/* Appends a published shard and renders its schema; the manifest takes
 * ownership of its arrays. */
void sl_manifest_add_shard(sl_manifest *m, sl_shard_entry *e);
/* index.json's text. */
void sl_manifest_render(const sl_manifest *m, sl_buf *json);
/* Writes index.json into dir atomically (see above). */
int sl_manifest_publish(const sl_manifest *m, const char *dir, sl_error *err);

/* ---- checkpoint state (the dataset sink's two-phase commit) ----
 * The model as JSON, ids and all, so that it can be rebuilt exactly:
 *   {"finished":false,"other_fields":0,"fields":[["id",2],...],
 *    "inputs":[["docs","data/a.jsonl"],...],
 *    "shards":[{"split":0,"file":"train/shard-00000.jsonl.zst","records":1000,"bytes":75206,
 *               "compressed_bytes":8245,"sha256":"...","fields":[0,1],"inputs":[[0,0,74130,1000]]}]} */
void sl_manifest_save(const sl_manifest *m, sl_buf *state);
/* Rebuilds the model of m, which holds settings only (sl_manifest_init
 * then the settings, or sl_manifest_copy_settings), from what
 * sl_manifest_save wrote. -1 with err when the state is malformed. */
int sl_manifest_load(sl_manifest *m, const sl_value *state, sl_error *err);
/* Initialises dst with the settings of src and an empty model. */
void sl_manifest_copy_settings(sl_manifest *dst, const sl_manifest *src);
/* A shard's field ids and inputs as JSON arrays (as in sl_manifest_save),
 * and back: ids must be known fields of m, inputs known inputs. The arrays
 * read are malloc'ed (caller frees). */
void sl_manifest_put_ids(sl_buf *b, const uint32_t *ids, size_t n);
void sl_manifest_put_inputs(sl_buf *b, const sl_shard_input *inputs, size_t n);
int sl_manifest_get_ids(const sl_manifest *m, const sl_value *list, uint32_t **ids, size_t *n, sl_error *err);
int sl_manifest_get_inputs(const sl_manifest *m, const sl_value *list, sl_shard_input **inputs, size_t *n,
                           sl_error *err);

#endif
