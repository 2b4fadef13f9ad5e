/* dedup.c — the `dedup` transform: drops (or annotates, or routes) records
 * that repeat an earlier record, exactly or nearly.
 *
 *   mode: exact   a 128-bit XXH3 hash of the chosen fields' canonical JSON
 *                 (optionally of their lowercased, whitespace-collapsed
 *                 text), looked up in a bounded FIFO set (seen_set.h);
 *   mode: near    a MinHash signature of one text field's word shingles
 *                 (minhash.h; optionally of datatrove's simplified text,
 *                 simplify.h), looked up in a bounded LSH index
 *                 (lsh_index.h) whose bands are permissive, and confirmed
 *                 by the estimated Jaccard similarity with a calibrated
 *                 margin (see near_cutoff) — or, with `preset: datatrove`,
 *                 by datatrove's rule: any shared band is a duplicate.
 *
 * Which copy counts as "the first" must not depend on how many workers run
 * or how the input was cut into batches, so the work is split in three:
 *   1. hashing / signatures, per record, in parallel on the workers (this is
 *      nearly all the cost);
 *   2. index lookups and inserts under one lock, in per-source batch order:
 *      an ordered gate (a mutex and a condition variable) holds the worker
 *      with batch n of a source until batch n - 1 of that source has been
 *      applied. The component is `ordered`, so the runtime calls process for
 *      every batch, even one whose records all went elsewhere, and no batch
 *      is waited for in vain. Records of a batch are applied in order, so a
 *      record is also checked against the earlier records of its own batch;
 *   3. emitting (and annotating), in parallel again.
 * Records from different sources interleave in arrival order, which is not
 * deterministic; within one source the result is.
 *
 * Duplicates are not inserted: the index holds one representative per
 * cluster (the first document seen), and the cluster id is the running
 * number of that document among the records this dedup has checked.
 *
 * Checkpoints: save writes the settings that give the index its meaning
 * (mode, fields, normalize; shingle_words, num_hashes and simplify for near), the
 * counters (the next cluster id is `documents`) and the index, oldest entry
 * first (seen_set.h, lsh_index.h); restore refuses a state saved with other
 * such settings, since its hashes or signatures would never match again.
 * Everything else (action, threshold, preset rule, bands/rows, the size
 * bounds) may change between runs: the index is rebuilt with the current
 * ones. A near state of version 1 (before 16-bit signatures from paired
 * permutations) cannot be reused and is refused; an exact one can.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../expr/expr.h"
#include "../text/lsh_index.h"
#include "../text/minhash.h"
#include "../text/simplify.h"
#include "../sketch/seen_set.h"
#include "../runtime/component.h"
#include "../runtime/order_gate.h"
#include "text_field.h"

typedef enum { ACTION_DROP, ACTION_ANNOTATE, ACTION_ROUTE } dedup_action;

typedef struct dedup_state {
    bool near;
    bool normalize;
    bool non_string_to_dlq;      /* near: a non-text value goes to the DLQ */
    dedup_action action;
    sl_path **fields;
    size_t n_fields;
    const char *annotate_field;
    double threshold;
    double cutoff;               /* near: estimated similarity a candidate needs */
    bool simplify;               /* near: datatrove's text simplification first */
    sl_minhash minhash;
    const char *outputs[2];

    /* Batches apply in per-source order; everything below is guarded by
     * the gate's lock. */
    sl_order_gate gate;
    sl_lsh_index lsh;
    sl_seen_set seen;
    uint64_t documents, duplicates, skipped;
} dedup_state;

/* Per worker: scratch buffers reused across batches. */
typedef struct dedup_worker {
    sl_minhash_scratch scratch;
    sl_buf enc;                  /* canonical encoding (exact mode) */
    sl_buf norm;                 /* normalized text (exact mode) */
    sl_buf simplified;           /* simplified text (near mode, simplify: true) */
} dedup_worker;

/* What phase 2 decided for one record. */
typedef struct verdict {
    bool checked;                /* false: skipped (no text), passed on as is */
    bool dlq;                    /* sent to the DLQ in phase 1 (non_string) */
    bool duplicate;
    uint64_t cluster;
    double similarity;
} verdict;

static const char *const mode_values[] = {"exact", "near", NULL};
static const char *const action_values[] = {"drop", "annotate", "route", NULL};
static const char *const preset_values[] = {"sluice", "datatrove", NULL};

/* The near-mode settings a preset gives, each overridable by its option. */
typedef struct near_preset {
    int shingle_words, num_hashes, bands, rows;
    bool simplify;
    bool bucket_rule;            /* datatrove: any shared band is a duplicate */
} near_preset;

static const near_preset presets[] = {
    {5, 256, 12, 4, false, false},   /* sluice */
    {5, 112, 14, 8, true, true},     /* datatrove's MinhashConfig defaults */
};

/* How far below `threshold` a candidate's estimated similarity may fall
 * and still be confirmed, in standard errors of the estimate: a pair whose
 * true Jaccard similarity is exactly the threshold is confirmed with
 * probability 0.95 (the one-sided normal quantile). */
#define RECALL_Z 1.645

static const sl_option dedup_options[] = {
    {"mode", SL_OPT_ENUM, false, "exact",
     "`exact`: records whose chosen fields are identical. `near`: records whose text is "
     "similar (MinHash LSH over word shingles).", mode_values},
    {"fields", SL_OPT_LIST, false, NULL,
     "Field paths compared. `exact`: any fields (default: the whole record). `near`: one text "
     "field (default: `text`).", NULL},
    {"normalize", SL_OPT_BOOL, false, "false",
     "`exact` only: compare string values lowercased with runs of whitespace collapsed to one "
     "space and trimmed.", NULL},
    {"action", SL_OPT_ENUM, false, "drop",
     "`drop` duplicates (counted, not sent to the DLQ); `annotate` every checked record with "
     "its cluster; `route` duplicates to the output `duplicates` (others to `unique`).",
     action_values},
    {"annotate_field", SL_OPT_STRING, false, "_dedup",
     "With `action: annotate`: the field that receives `{cluster, similarity, duplicate}`.", NULL},
    {"max_entries", SL_OPT_INT, false, "2000000",
     "`exact`: hashes remembered (about 40-56 bytes each); beyond it the oldest are forgotten.",
     NULL},
    {"max_documents", SL_OPT_INT, false, "500000",
     "`near`: documents kept in the LSH index (about 0.7-0.9 KB each with the defaults); "
     "beyond it the oldest are evicted.", NULL},
    {"preset", SL_OPT_ENUM, false, "sluice",
     "`near`: `sluice` (256 signature values, 12 bands of 4 for candidates, confirmed by "
     "`threshold`) or `datatrove` (datatrove's MinhashConfig: `simplify`, 5-word shingles, 112 "
     "values in 14 bands of 8, and its bucket rule: any shared band is a duplicate, no "
     "`threshold`). The options below override a preset's values.", preset_values},
    {"shingle_words", SL_OPT_INT, false, NULL, "`near`: words per shingle (both presets: 5).", NULL},
    {"num_hashes", SL_OPT_INT, false, NULL,
     "`near`: signature values (sluice: 256; datatrove: `bands * rows`).", NULL},
    {"bands", SL_OPT_INT, false, NULL,
     "`near`: LSH bands (sluice: 12, datatrove: 14); `bands * rows` must be at most "
     "`num_hashes`.", NULL},
    {"rows", SL_OPT_INT, false, NULL, "`near`: signature values per band (sluice: 4, datatrove: 8).",
     NULL},
    {"simplify", SL_OPT_BOOL, false, NULL,
     "`near`: shingle datatrove's simplified text: lowercase, numbers as 0, punctuation removed, "
     "whitespace collapsed, accents stripped (sluice: false, datatrove: true).", NULL},
    SL_NON_STRING_OPTION,
    {"threshold", SL_OPT_FLOAT, false, "0.8",
     "`near`: the Jaccard similarity of word shingles from which on a pair is a duplicate: a "
     "pair at the threshold is found 95% of the time, one 0.05 above nearly always, one 0.1 "
     "below rarely (see docs/dedup.md).", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static void dedup_destroy(sl_component *c)
{
    dedup_state *s = c->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_fields; i++) sl_path_free(s->fields[i]);
    free(s->fields);
    sl_minhash_free(&s->minhash);
    sl_lsh_index_free(&s->lsh);
    sl_seen_set_free(&s->seen);
    sl_order_gate_destroy(&s->gate);
    free(s);
    c->impl = NULL;
    c->outputs = NULL;
    c->n_outputs = 0;
}

/* Reads an integer option that must lie in [min, max]; false (reported) if not. */
static bool int_option(const sl_opts *opts, const char *name, int64_t min, int64_t max, int64_t *out,
                       sl_diag *diag)
{
    *out = sl_opts_int(opts, name);
    if (*out >= min && *out <= max) return true;
    sl_diag_error(diag, sl_opts_pos(opts, name), "%s must be between %lld and %lld, got %lld", name,
                  (long long)min, (long long)max, (long long)*out);
    return false;
}

/* Options that only mean something in the other mode are mistakes. */
static bool reject_other_mode(const sl_opts *opts, const char *const *names, const char *mode,
                              sl_diag *diag)
{
    bool ok = true;
    for (size_t i = 0; names[i]; i++) {
        if (!sl_opts_has(opts, names[i])) continue;
        sl_diag_error(diag, sl_opts_pos(opts, names[i]), "%s does not apply to mode: %s", names[i], mode);
        ok = false;
    }
    return ok;
}

/* A near-mode integer option: the configured value, checked against
 * [min, max], or the preset's. */
static bool near_int(const sl_opts *opts, const char *name, int preset_value, int64_t max, int64_t *out,
                     sl_diag *diag)
{
    if (sl_opts_has(opts, name)) return int_option(opts, name, 1, max, out, diag);
    *out = preset_value;
    return true;
}

/* The estimated similarity a candidate needs: threshold less RECALL_Z
 * standard errors of the estimate at the threshold (the fraction of
 * num_hashes agreeing positions is binomial), so that `threshold` means the
 * true similarity from which on pairs are found, not the estimate's. */
static double near_cutoff(double threshold, int num_hashes)
{
    return threshold - RECALL_Z * sqrt(threshold * (1 - threshold) / num_hashes);
}

/* The bands decide which pairs are compared at all: a pair of similarity
 * t shares a band with probability 1 - (1 - t^rows)^bands. The defaults
 * give 0.96 at 0.7 and more above; for a lower threshold, say how many
 * bands would make 99% of the pairs at the threshold candidates. */
static void warn_few_candidates(const sl_opts *opts, double threshold, int bands, int rows, sl_diag *diag)
{
    double band = pow(threshold, rows);
    double candidates = 1 - pow(1 - band, bands);
    if (candidates >= 0.95 || band <= 0 || band >= 1) return;
    double needed = ceil(log(0.01) / log(1 - band));
    sl_diag_warning(diag, sl_opts_pos(opts, "threshold"),
                    "with threshold %g, %d bands of %d rows make only %.0f%% of the pairs at the threshold "
                    "candidates for comparison, so the others are missed; set bands: %.0f (bands * rows must stay "
                    "within num_hashes) or fewer rows to find 99%%",
                    threshold, bands, rows, 100 * candidates, needed);
}

static bool create_near(dedup_state *s, const sl_opts *opts, sl_diag *diag)
{
    static const char *const exact_only[] = {"normalize", "max_entries", NULL};
    bool ok = reject_other_mode(opts, exact_only, "near", diag);
    const near_preset *p = &presets[strcmp(sl_opts_enum(opts, "preset"), "datatrove") == 0];
    int64_t shingle_words, num_hashes, bands, rows, max_documents;
    ok &= near_int(opts, "shingle_words", p->shingle_words, 64, &shingle_words, diag);
    ok &= near_int(opts, "bands", p->bands, SL_MINHASH_MAX_HASHES, &bands, diag);
    ok &= near_int(opts, "rows", p->rows, SL_MINHASH_MAX_HASHES, &rows, diag);
    /* datatrove's signature is exactly its bands */
    ok &= near_int(opts, "num_hashes", p->bucket_rule ? (int)(bands * rows) : p->num_hashes,
                   SL_MINHASH_MAX_HASHES, &num_hashes, diag);
    ok &= int_option(opts, "max_documents", 1, (int64_t)SL_LSH_MAX_DOCUMENTS, &max_documents, diag);
    s->non_string_to_dlq = sl_non_string_to_dlq(opts);
    s->simplify = sl_opts_has(opts, "simplify") ? sl_opts_bool(opts, "simplify") : p->simplify;
    s->threshold = sl_opts_float(opts, "threshold");
    if (p->bucket_rule && sl_opts_has(opts, "threshold")) {
        sl_diag_error(diag, sl_opts_pos(opts, "threshold"),
                      "threshold does not apply to preset: datatrove, whose rule is that documents "
                      "sharing a band are duplicates (use preset: sluice for a similarity threshold)");
        ok = false;
    } else if (!(s->threshold > 0 && s->threshold <= 1)) {
        sl_diag_error(diag, sl_opts_pos(opts, "threshold"),
                      "threshold must be a similarity above 0 and at most 1, got %g", s->threshold);
        ok = false;
    }
    if (ok && bands * rows > num_hashes) {
        sl_diag_error(diag, sl_opts_pos(opts, sl_opts_has(opts, "bands") ? "bands" : "num_hashes"),
                      "bands * rows must be at most num_hashes: %lld * %lld = %lld, more than %lld",
                      (long long)bands, (long long)rows, (long long)(bands * rows), (long long)num_hashes);
        ok = false;
    }
    if (s->n_fields != 1) {
        sl_diag_error(diag, sl_opts_pos(opts, "fields"),
                      "mode: near compares one text field; fields lists %zu", s->n_fields);
        ok = false;
    }
    if (!ok) return false;
    s->cutoff = p->bucket_rule ? 0 : near_cutoff(s->threshold, (int)num_hashes);
    if (!p->bucket_rule) warn_few_candidates(opts, s->threshold, (int)bands, (int)rows, diag);
    if (sl_minhash_init(&s->minhash, (int)num_hashes, (int)shingle_words) < 0 ||
        sl_lsh_index_init(&s->lsh, (int)bands, (int)rows, (int)num_hashes, (uint64_t)max_documents) < 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "num_hashes"), "out of memory");
        return false;
    }
    s->minhash.short_texts = !p->bucket_rule;   /* datatrove: no shingle, no signature */
    return true;
}

static bool create_exact(dedup_state *s, const sl_opts *opts, sl_diag *diag)
{
    static const char *const near_only[] = {"max_documents", "preset", "shingle_words", "num_hashes", "bands",
                                            "rows", "simplify", "threshold", "non_string", NULL};
    bool ok = reject_other_mode(opts, near_only, "exact", diag);
    int64_t max_entries;
    ok &= int_option(opts, "max_entries", 1, (int64_t)SL_SEEN_MAX_ENTRIES, &max_entries, diag);
    if (!ok) return false;
    s->normalize = sl_opts_bool(opts, "normalize");
    sl_seen_set_init(&s->seen, (uint64_t)max_entries);
    return true;
}

static int dedup_create(sl_component *c, const sl_opts *opts, sl_diag *diag)
{
    dedup_state *s = calloc(1, sizeof *s);
    if (!s) {
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    sl_order_gate_init(&s->gate);
    c->impl = s;
    s->near = strcmp(sl_opts_enum(opts, "mode"), "near") == 0;
    const char *action = sl_opts_enum(opts, "action");
    s->action = strcmp(action, "annotate") == 0 ? ACTION_ANNOTATE
              : strcmp(action, "route") == 0    ? ACTION_ROUTE
                                                : ACTION_DROP;
    s->annotate_field = sl_opts_string(opts, "annotate_field");
    if (sl_opts_has(opts, "annotate_field") && s->action != ACTION_ANNOTATE) {
        sl_diag_error(diag, sl_opts_pos(opts, "annotate_field"), "annotate_field needs action: annotate");
        dedup_destroy(c);
        return -1;
    }

    bool ok = true;
    size_t n = sl_opts_has(opts, "fields") ? sl_opts_list_len(opts, "fields") : s->near ? 1 : 0;
    s->fields = calloc(n ? n : 1, sizeof *s->fields);
    if (!s->fields) abort();
    for (size_t i = 0; i < n; i++) {
        const char *src = sl_opts_has(opts, "fields") ? sl_opts_list_item(opts, "fields", i) : "text";
        s->fields[i] = sl_path_parse(src, sl_opts_pos(opts, "fields"), diag);
        if (!s->fields[i]) {
            ok = false;
            break;
        }
        s->n_fields++;
    }
    if (ok) ok = s->near ? create_near(s, opts, diag) : create_exact(s, opts, diag);
    if (!ok) {
        dedup_destroy(c);
        return -1;
    }
    if (s->action == ACTION_ROUTE) {
        s->outputs[0] = "unique";
        s->outputs[1] = "duplicates";
        c->outputs = s->outputs;
        c->n_outputs = 2;
    }
    return 0;
}

static void *dedup_worker_init(sl_component *c, sl_error *err)
{
    dedup_worker *w = calloc(1, sizeof *w);
    if (!w) abort();
    sl_buf_init(&w->scratch.word);
    sl_buf_init(&w->enc);
    sl_buf_init(&w->norm);
    sl_buf_init(&w->simplified);
    return w;
}

static void dedup_worker_free(sl_component *c, void *wstate)
{
    dedup_worker *w = wstate;
    sl_minhash_scratch_free(&w->scratch);
    sl_buf_free(&w->enc);
    sl_buf_free(&w->norm);
    sl_buf_free(&w->simplified);
    free(w);
}

/* ---- phase 1: keys, in parallel ---- */

/* Appends the canonical encoding of v: its JSON, with string values (at any
 * depth) lowercased and whitespace-collapsed when normalizing. */
static void encode_value(dedup_worker *w, const sl_value *v, bool normalize)
{
    if (!normalize || (v->type != SL_STRING && v->type != SL_ARRAY && v->type != SL_MAP)) {
        sl_json_encode(&w->enc, v);
        return;
    }
    if (v->type == SL_STRING) {
        w->norm.len = 0;
        sl_text_join_words(v->as.s, v->len, &w->scratch.word, &w->norm);
        sl_json_encode_string(&w->enc, w->norm.data, w->norm.len);
    } else if (v->type == SL_ARRAY) {
        sl_buf_putc(&w->enc, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i) sl_buf_putc(&w->enc, ',');
            encode_value(w, &v->as.items[i], true);
        }
        sl_buf_putc(&w->enc, ']');
    } else {
        sl_buf_putc(&w->enc, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i) sl_buf_putc(&w->enc, ',');
            sl_json_encode_string(&w->enc, v->as.fields[i].key, v->as.fields[i].key_len);
            sl_buf_putc(&w->enc, ':');
            encode_value(w, &v->as.fields[i].value, true);
        }
        sl_buf_putc(&w->enc, '}');
    }
}

/* The 128-bit hash of the record's chosen fields: the whole record, or a
 * JSON array of the fields' values (null where missing). */
static sl_hash128 exact_key(const dedup_state *s, dedup_worker *w, const sl_record *r)
{
    w->enc.len = 0;
    if (s->n_fields == 0) {
        encode_value(w, sl_record_value(r), s->normalize);
    } else {
        sl_buf_putc(&w->enc, '[');
        for (size_t f = 0; f < s->n_fields; f++) {
            const sl_value *v = sl_path_get(s->fields[f], sl_record_value(r));
            sl_value null = sl_null();
            if (f) sl_buf_putc(&w->enc, ',');
            encode_value(w, v ? v : &null, s->normalize);
        }
        sl_buf_putc(&w->enc, ']');
    }
    XXH128_hash_t h = XXH3_128bits(w->enc.data, w->enc.len);
    return (sl_hash128){ .lo = h.low64, .hi = h.high64 };
}

/* The record's signature in the batch arena, or NULL when it has no text
 * (and then, for a non-text value under `non_string: dlq`, the record has
 * gone to the DLQ and v->dlq is set). */
static uint16_t *near_key(const dedup_state *s, dedup_worker *w, sl_batch *b, sl_record *r, verdict *v,
                          sl_emit *out)
{
    const sl_value *text = sl_path_get(s->fields[0], sl_record_value(r));
    if (s->non_string_to_dlq && sl_is_non_string(text, false)) {
        sl_emit_non_string(out, r, s->fields[0], text);
        v->dlq = true;
        return NULL;
    }
    if (!text || text->type != SL_STRING) return NULL;
    const char *t = text->as.s;
    size_t len = text->len;
    if (s->simplify) {
        sl_text_simplify(t, len, &w->simplified);
        t = w->simplified.data ? w->simplified.data : "";
        len = w->simplified.len;
    }
    uint16_t *sig = sl_arena_alloc(&b->arena, (size_t)s->minhash.num_hashes * sizeof *sig);
    if (sl_minhash_signature(&s->minhash, &w->scratch, t, len, sig) == 0) return NULL;
    return sig;
}

/* ---- phase 2: the index, in batch order ---- */

static void apply_exact(dedup_state *s, const sl_hash128 *keys, size_t n, verdict *out)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t number = s->documents++;
        verdict *v = &out[i];
        v->checked = true;
        if (sl_seen_set_find(&s->seen, keys[i], &v->cluster)) {
            v->duplicate = true;
            v->similarity = 1;
            s->duplicates++;
        } else {
            sl_seen_set_add(&s->seen, keys[i], number);
            v->cluster = number;
            v->similarity = 1;
        }
    }
}

static void apply_near(dedup_state *s, uint16_t *const *sigs, size_t n, verdict *out)
{
    for (size_t i = 0; i < n; i++) {
        verdict *v = &out[i];
        if (!sigs[i]) {
            if (!v->dlq) s->skipped++;
            continue;
        }
        uint64_t number = s->documents++;
        v->checked = true;
        sl_lsh_match m;
        if (sl_lsh_index_query(&s->lsh, sigs[i], s->cutoff, &m)) {
            v->duplicate = true;
            v->cluster = m.cluster;
            v->similarity = m.similarity;
            s->duplicates++;
        } else {
            sl_lsh_index_insert(&s->lsh, sigs[i], number);
            v->cluster = number;
            v->similarity = 1;
        }
    }
}

/* ---- phase 3: emit ---- */

static void annotate(const dedup_state *s, sl_batch *b, sl_record *r, const verdict *v)
{
    sl_value note = sl_map_new(&b->arena, 3);
    sl_map_append(&b->arena, &note, "cluster", 7, sl_uint(v->cluster));
    sl_map_append(&b->arena, &note, "similarity", 10, sl_double(v->similarity));
    sl_map_append(&b->arena, &note, "duplicate", 9, sl_bool(v->duplicate));
    sl_map_set(&b->arena, sl_record_mut(r), s->annotate_field, strlen(s->annotate_field), note);
}

static void dedup_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                          sl_emit *out)
{
    dedup_state *s = c->impl;
    dedup_worker *w = wstate;
    verdict *verdicts = n ? sl_arena_calloc(&b->arena, n * sizeof *verdicts) : NULL;
    if (s->near) {
        uint16_t **sigs = n ? sl_arena_alloc(&b->arena, n * sizeof *sigs) : NULL;
        for (size_t i = 0; i < n; i++) sigs[i] = near_key(s, w, b, recs[i], &verdicts[i], out);
        sl_order_gate_enter(&s->gate, b);
        apply_near(s, sigs, n, verdicts);
        sl_order_gate_leave(&s->gate, b);
    } else {
        sl_hash128 *keys = n ? sl_arena_alloc(&b->arena, n * sizeof *keys) : NULL;
        for (size_t i = 0; i < n; i++) keys[i] = exact_key(s, w, recs[i]);
        sl_order_gate_enter(&s->gate, b);
        apply_exact(s, keys, n, verdicts);
        sl_order_gate_leave(&s->gate, b);
    }
    for (size_t i = 0; i < n; i++) {
        const verdict *v = &verdicts[i];
        if (v->dlq) continue;
        switch (s->action) {
        case ACTION_DROP:
            if (!v->duplicate) sl_emit_record(out, 0, recs[i]);
            break;
        case ACTION_ANNOTATE:
            if (v->checked) annotate(s, b, recs[i], v);
            sl_emit_record(out, 0, recs[i]);
            break;
        case ACTION_ROUTE:
            sl_emit_record(out, v->duplicate ? 1 : 0, recs[i]);
            break;
        }
    }
}

/* ---- state ---- */

typedef struct dedup_stats {
    uint64_t documents, duplicates, skipped, indexed, entries, bytes, evictions;
} dedup_stats;

static dedup_stats read_stats(dedup_state *s)
{
    dedup_stats st;
    pthread_mutex_lock(&s->gate.lock);
    st.documents = s->documents;
    st.duplicates = s->duplicates;
    st.skipped = s->skipped;
    if (s->near) {
        st.indexed = sl_lsh_index_documents(&s->lsh);
        st.entries = sl_lsh_index_entries(&s->lsh);
        st.bytes = sl_lsh_index_bytes(&s->lsh);
        st.evictions = s->lsh.evictions;
    } else {
        st.indexed = st.entries = sl_seen_set_count(&s->seen);
        st.bytes = sl_seen_set_bytes(&s->seen);
        st.evictions = s->seen.evictions;
    }
    pthread_mutex_unlock(&s->gate.lock);
    return st;
}

static void dedup_describe(sl_component *c, sl_buf *json)
{
    dedup_state *s = c->impl;
    dedup_stats st = read_stats(s);
    sl_buf_printf(json,
                  "{\"type\":\"dedup\",\"mode\":\"%s\",\"documents\":%llu,\"duplicates\":%llu,"
                  "\"skipped\":%llu,\"indexed\":%llu,\"index_entries\":%llu,\"index_bytes\":%llu,"
                  "\"evictions\":%llu}",
                  s->near ? "near" : "exact", (unsigned long long)st.documents,
                  (unsigned long long)st.duplicates, (unsigned long long)st.skipped,
                  (unsigned long long)st.indexed, (unsigned long long)st.entries,
                  (unsigned long long)st.bytes, (unsigned long long)st.evictions);
}

static void dedup_metric(sl_buf *prom, const char *name, const char *type, const char *help, const char *component,
                         uint64_t value)
{
    sl_buf_printf(prom, "# HELP %s %s\n# TYPE %s %s\n%s{component=\"", name, help, name, type, name);
    sl_prom_escape(prom, component);
    sl_buf_printf(prom, "\"} %llu\n", (unsigned long long)value);
}

static void dedup_metrics(sl_component *c, sl_buf *prom)
{
    dedup_state *s = c->impl;
    dedup_stats st = read_stats(s);
    dedup_metric(prom, "sluice_dedup_documents_total", "counter", "Records dedup checked for duplicates.", c->name,
                 st.documents);
    dedup_metric(prom, "sluice_dedup_duplicates_total", "counter", "Records found to repeat an earlier record.",
                 c->name, st.duplicates);
    dedup_metric(prom, "sluice_dedup_index_bytes", "gauge", "Memory held by the dedup index.", c->name, st.bytes);
    dedup_metric(prom, "sluice_dedup_evictions_total", "counter", "Entries evicted from a full dedup index.",
                 c->name, st.evictions);
}

/* ---- checkpoints ---- */

/* 2: near signatures are 16-bit values from paired permutations, and
 * simplify is saved; exact states are the same as in version 1. */
#define STATE_VERSION 2

static void save_fields(const dedup_state *s, sl_buf *out)
{
    sl_buf_putc(out, '[');
    for (size_t i = 0; i < s->n_fields; i++) {
        const char *f = sl_path_source(s->fields[i]);
        if (i) sl_buf_putc(out, ',');
        sl_json_encode_string(out, f, strlen(f));
    }
    sl_buf_putc(out, ']');
}

static int dedup_save(sl_component *c, sl_buf *state, sl_error *err)
{
    dedup_state *s = c->impl;
    pthread_mutex_lock(&s->gate.lock);
    sl_buf_printf(state, "{\"version\":%d,\"mode\":\"%s\",\"fields\":", STATE_VERSION, s->near ? "near" : "exact");
    save_fields(s, state);
    if (s->near)
        sl_buf_printf(state, ",\"shingle_words\":%d,\"num_hashes\":%d,\"simplify\":%s",
                      s->minhash.shingle_words, s->minhash.num_hashes, s->simplify ? "true" : "false");
    else
        sl_buf_printf(state, ",\"normalize\":%s", s->normalize ? "true" : "false");
    sl_buf_printf(state, ",\"documents\":%llu,\"duplicates\":%llu,\"skipped\":%llu,\"index\":",
                  (unsigned long long)s->documents, (unsigned long long)s->duplicates,
                  (unsigned long long)s->skipped);
    if (s->near) sl_lsh_index_save(&s->lsh, state);
    else sl_seen_set_save(&s->seen, true, state);
    sl_buf_putc(state, '}');
    pthread_mutex_unlock(&s->gate.lock);
    return 0;
}

/* True when the saved value of a setting equals the current one (written
 * the way save writes it), else false with err saying both. */
static bool same_setting(const sl_value *saved_state, const char *key, const char *current, sl_error *err)
{
    const sl_value *v = sl_state_get(saved_state, key);
    sl_buf saved;
    sl_buf_init(&saved);
    if (v) sl_json_encode(&saved, v);
    else sl_buf_puts(&saved, "(none)");
    bool same = v && saved.len == strlen(current) && memcmp(saved.data, current, saved.len) == 0;
    if (!same)
        sl_errorf(err, "it was saved with %s: %.*s and the configuration now has %s: %s; an index built "
                  "with other settings cannot be reused (restore them to resume)",
                  key, (int)saved.len, saved.data, key, current);
    sl_buf_free(&saved);
    return same;
}

/* Checks that state was saved with the settings that define the index. */
static bool compatible(const dedup_state *s, const sl_value *state, sl_error *err)
{
    sl_buf cur;
    sl_buf_init(&cur);
    bool ok = same_setting(state, "mode", s->near ? "\"near\"" : "\"exact\"", err);
    if (ok) {
        save_fields(s, &cur);
        ok = same_setting(state, "fields", cur.data, err);
    }
    if (ok && s->near) {
        cur.len = 0;
        sl_buf_printf(&cur, "%d", s->minhash.shingle_words);
        ok = same_setting(state, "shingle_words", cur.data, err);
        cur.len = 0;
        sl_buf_printf(&cur, "%d", s->minhash.num_hashes);
        ok = ok && same_setting(state, "num_hashes", cur.data, err);
        ok = ok && same_setting(state, "simplify", s->simplify ? "true" : "false", err);
    } else if (ok) {
        ok = same_setting(state, "normalize", s->normalize ? "true" : "false", err);
    }
    sl_buf_free(&cur);
    return ok;
}

/* Restores the parsed state into fresh counters and index, swapped in only
 * when everything was read. */
static int restore_state(void *dedup, const sl_value *state, sl_error *err)
{
    dedup_state *s = dedup;
    uint64_t version, documents, duplicates, skipped;
    if (!sl_state_uint(state, "version", &version) || version < 1 || version > STATE_VERSION)
        return sl_errorf(err, "the state is not a dedup state of version 1 to %d", STATE_VERSION);
    if (version == 1 && s->near)
        return sl_errorf(err, "it was saved by an older sluice whose near-dedup signatures differ from this "
                              "version's and cannot be reused (start over with sluice run --from-start)");
    if (!compatible(s, state, err)) return -1;
    if (!sl_state_uint(state, "documents", &documents) || !sl_state_uint(state, "duplicates", &duplicates) ||
        !sl_state_uint(state, "skipped", &skipped))
        return sl_errorf(err, "the counters documents, duplicates or skipped are missing");
    const sl_value *index = sl_state_get(state, "index");
    int rc;
    if (s->near) {
        sl_lsh_index lsh;
        if (sl_lsh_index_init(&lsh, s->lsh.bands, s->lsh.rows, s->lsh.num_hashes, s->lsh.max_documents) < 0)
            abort();
        rc = sl_lsh_index_restore(&lsh, index, err);
        if (rc == 0) {
            sl_lsh_index_free(&s->lsh);
            s->lsh = lsh;
        } else {
            sl_lsh_index_free(&lsh);
        }
    } else {
        sl_seen_set seen;
        sl_seen_set_init(&seen, s->seen.max_entries);
        rc = sl_seen_set_restore(&seen, index, err);
        if (rc == 0) {
            sl_seen_set_free(&s->seen);
            s->seen = seen;
        } else {
            sl_seen_set_free(&seen);
        }
    }
    if (rc < 0) return sl_error_prefix(err, "index");
    s->documents = documents;
    s->duplicates = duplicates;
    s->skipped = skipped;
    return 0;
}

static int dedup_restore(sl_component *c, const char *state, size_t len, sl_error *err)
{
    if (!state) return 0;
    dedup_state *s = c->impl;
    pthread_mutex_lock(&s->gate.lock);
    int rc = sl_state_read(state, len, restore_state, s, err);
    pthread_mutex_unlock(&s->gate.lock);
    return rc;
}

const sl_component_type sl_transform_dedup_type = {
    .name = "dedup",
    .kind = SL_TRANSFORM,
    .summary = "Drop, annotate or route exact and near-duplicate records (hashing, MinHash LSH)",
    .doc =
        "Finds records that repeat an earlier record. `mode: exact` compares a 128-bit hash "
        "(XXH3) of the canonical JSON of `fields` (default: the whole record, field order "
        "included); with `normalize: true` string values are lowercased and their whitespace "
        "collapsed first. `mode: near` compares the word shingles of one text field (default "
        "`text`) by MinHash LSH: 5-word shingles, a 256-value signature, candidates sharing one "
        "of 12 bands of 4 values, confirmed when the estimated Jaccard similarity is close "
        "enough to `threshold` (0.8) that a pair at the threshold is found 95% of the time and "
        "one 0.05 above it practically always, while pairs 0.1 below are rarely merged. "
        "`simplify: true` shingles datatrove's simplified text (lowercase, no punctuation, "
        "numbers as 0, no accents); `preset: datatrove` reproduces datatrove's MinHash "
        "deduplication (simplified text, 112 values in 14 bands of 8, any shared band is a "
        "duplicate). Records whose text field is missing, null or has no words are "
        "passed on unchecked and counted as `skipped`; one that holds a number, boolean, list "
        "or map goes to the DLQ with reason `non_string` (`non_string: pass` passes it on "
        "unchecked too).\n\n"
        "The first record of each cluster is kept; later ones are duplicates: dropped "
        "(`action: drop`, counted in `sluice_dedup_duplicates_total`, not sent to the DLQ — "
        "a duplicate is not an error), kept with `_dedup: {cluster, similarity, duplicate}` "
        "(`annotate`; cluster is the running number of the cluster's first record), or sent "
        "to the output `duplicates` (`route`; the others go to `unique`). The result is "
        "deterministic for each source: the same input gives the same records kept, for any "
        "number of workers and any batch size.\n\n"
        "Memory is bounded: `max_entries` hashes (exact) or `max_documents` documents (near); "
        "when full, the oldest are evicted (`sluice_dedup_evictions_total`) and a later copy "
        "of an evicted record is no longer recognised. The index is part of the pipeline's "
        "checkpoints, so a restarted run keeps recognising the records seen before. "
        "See docs/dedup.md.",
    .example =
        "transforms:\n"
        "  unique_docs:\n"
        "    type: dedup\n"
        "    inputs: [docs]\n"
        "    mode: near\n"
        "    fields: [text]\n"
        "    threshold: 0.8\n"
        "    action: annotate\n",
    .options = dedup_options,
    .create = dedup_create,
    .destroy = dedup_destroy,
    .worker_init = dedup_worker_init,
    .worker_free = dedup_worker_free,
    .process = dedup_process,
    .ordered = true,
    .describe = dedup_describe,
    .metrics = dedup_metrics,
    .save = dedup_save,
    .restore = dedup_restore,
};
