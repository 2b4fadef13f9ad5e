/* profile.c — streaming, mergeable per-field profiles (see profile.h for the
 * model, the JSON format and the memory bound).
 *
 * Fields are found by the FNV-1a hash of their full path. FNV-1a is a
 * streaming hash, so the hash of "user.email" is the hash of "user" extended
 * by "." and "email": sl_profile_add computes it while descending, without
 * building the path string, and from_json computes the same value from the
 * whole name. The table maps hash slots to field indexes (open addressing,
 * sized at twice max_fields so it never fills); a hit is confirmed by
 * comparing the parent's name and the key against the field's name.
 * Fields are allocated one by one (stable addresses) when first seen; their
 * sketches when a value of their kind first arrives.
 */
#include "profile.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/bytes_equal.h"
#include "../core/util.h"
#include "sketch_hash.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define KLL_SEED 0x5eed5eed5eed5eedULL
#define TOP_SHOWN 10
#define HIST_BINS 10

static const double shown_quantiles[] = { 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 };
static const char *const shown_quantile_keys[] = { "0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99" };
#define N_QUANTILES (sizeof shown_quantiles / sizeof shown_quantiles[0])

struct sl_profile {
    sl_profile_opts opts;
    unsigned version;             /* JSON version: the hash its HLLs were built with */
    uint64_t records;
    uint64_t record_id;           /* of the record being added (sl_profile_add) */
    sl_profile_field **fields;    /* in first-seen order */
    size_t nfields;
    size_t fields_cap;
    size_t nreal;                 /* fields other than _other_fields */
    sl_profile_field *other;      /* _other_fields, NULL until used */
    uint32_t *table;              /* slot -> field index + 1, 0 = empty */
    unsigned table_bits;
    sl_profile_field *top[SL_PROFILE_POSITIONS];   /* top-level fields by key position */
};

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
    return h;
}

static uint32_t slot_of(const sl_profile *p, uint64_t h) {
    return (uint32_t)((h * 0x9e3779b97f4a7c15ULL) >> (64 - p->table_bits));
}

/* Strings between two evaluations of the top-values gate. */
static uint64_t gate_interval(const sl_profile *p) {
    return (uint64_t)SL_PROFILE_TOP_GATE_FACTOR * p->opts.topk_capacity;
}

/* --- character classes of string bytes */

static const char *const char_class_names[SL_PROFILE_CHAR_CLASSES] = {
    "lower", "upper", "digit", "space", "punct", "control", "non_ascii",
};

const char *sl_profile_char_class_name(sl_profile_char_class c) {
    return c < SL_PROFILE_CHAR_CLASSES ? char_class_names[c] : "?";
}

/* For every byte, 1 in the 8-bit lane of its class (lane c counts class c),
 * built once; bytes >= 0x80 are parts of non-ASCII UTF-8 characters, or of
 * invalid text: both non_ascii. A string's first SL_PROFILE_CHAR_BYTES (64)
 * bytes are counted by adding these up in one register: no lane can
 * overflow, and there is no chain of loads and stores through a counter
 * array (which made a byte-by-byte histogram cost 5 cycles a byte). */
static uint64_t char_class_lane[256];

static void build_char_classes(void) {
    for (int c = 0; c < 256; c++) {
        unsigned char k = SL_CHAR_NON_ASCII;
        if (c >= 'a' && c <= 'z') k = SL_CHAR_LOWER;
        else if (c >= 'A' && c <= 'Z') k = SL_CHAR_UPPER;
        else if (c >= '0' && c <= '9') k = SL_CHAR_DIGIT;
        else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') k = SL_CHAR_SPACE;
        else if (c < 32 || c == 127) k = SL_CHAR_CONTROL;
        else if (c < 128) k = SL_CHAR_PUNCT;
        char_class_lane[c] = (uint64_t)1 << (8 * k);
    }
}

static pthread_once_t char_classes_once = PTHREAD_ONCE_INIT;

/* --- options, construction */

void sl_profile_opts_default(sl_profile_opts *o) {
    o->hll_lg_k = SL_HLL_DEFAULT_LG_K;
    o->kll_k = SL_KLL_DEFAULT_K;
    o->topk_capacity = SL_TOPK_DEFAULT_CAPACITY;
    o->topk_max_len = SL_TOPK_DEFAULT_MAX_LEN;
    o->max_fields = SL_PROFILE_DEFAULT_MAX_FIELDS;
}

static int check_opts(sl_profile_opts *o, sl_error *err) {
    sl_profile_opts d;
    sl_profile_opts_default(&d);
    if (!o->hll_lg_k) o->hll_lg_k = d.hll_lg_k;
    if (!o->kll_k) o->kll_k = d.kll_k;
    if (!o->topk_capacity) o->topk_capacity = d.topk_capacity;
    if (!o->topk_max_len) o->topk_max_len = d.topk_max_len;
    if (!o->max_fields) o->max_fields = d.max_fields;
    if (o->hll_lg_k < SL_HLL_MIN_LG_K || o->hll_lg_k > SL_HLL_MAX_LG_K)
        return sl_errorf(err, "hll_lg_k %u is out of range (%d to %d)", o->hll_lg_k,
                         SL_HLL_MIN_LG_K, SL_HLL_MAX_LG_K);
    if (o->kll_k < SL_KLL_MIN_K || o->kll_k > SL_KLL_MAX_K)
        return sl_errorf(err, "kll_k %u is out of range (%d to %d)", o->kll_k, SL_KLL_MIN_K, SL_KLL_MAX_K);
    if (o->topk_capacity > SL_TOPK_MAX_CAPACITY)
        return sl_errorf(err, "topk_capacity %u is out of range (1 to %d)", o->topk_capacity,
                         SL_TOPK_MAX_CAPACITY);
    if (o->topk_max_len > SL_TOPK_MAX_MAX_LEN)
        return sl_errorf(err, "topk_max_len %u is out of range (1 to %d)", o->topk_max_len,
                         SL_TOPK_MAX_MAX_LEN);
    if (o->max_fields > SL_PROFILE_MAX_MAX_FIELDS)
        return sl_errorf(err, "max_fields %u is out of range (1 to %d)", o->max_fields,
                         SL_PROFILE_MAX_MAX_FIELDS);
    return 0;
}

sl_profile *sl_profile_new(const sl_profile_opts *opts, sl_error *err) {
    sl_profile_opts o;
    if (opts)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    if (check_opts(&o, err) < 0)
        return NULL;
    pthread_once(&char_classes_once, build_char_classes);
    sl_profile *p = xmalloc(sizeof *p);
    memset(p, 0, sizeof *p);
    p->opts = o;
    p->version = SL_PROFILE_VERSION;
    p->table_bits = 4;
    while (((size_t)1 << p->table_bits) < 2 * ((size_t)o.max_fields + 1))
        p->table_bits++;
    p->table = calloc((size_t)1 << p->table_bits, sizeof *p->table);
    if (!p->table)
        abort();
    return p;
}

static void field_free(sl_profile_field *f) {
    free(f->len_hist);
    free(f->timeline);
    if (f->hll) { sl_hll_free(f->hll); free(f->hll); }
    if (f->kll) { sl_kll_free(f->kll); free(f->kll); }
    if (f->topk) { sl_topk_free(f->topk); free(f->topk); }
    free(f->children);
    free(f->name);
    free(f);
}

void sl_profile_free(sl_profile *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->nfields; i++)
        field_free(p->fields[i]);
    free(p->fields);
    free(p->table);
    free(p);
}

/* --- fields */

static sl_profile_field *field_new(sl_profile *p, uint64_t hash, const char *parent, size_t parent_len,
                                   const char *key, size_t key_len) {
    sl_profile_field *f = xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    size_t n = parent ? parent_len + 1 + key_len : key_len;
    f->name = xmalloc(n + 1);
    if (parent) {
        memcpy(f->name, parent, parent_len);
        f->name[parent_len] = '.';
        memcpy(f->name + parent_len + 1, key, key_len);
    } else {
        memcpy(f->name, key, key_len);
    }
    f->name[n] = '\0';
    f->name_len = n;
    f->hash = hash;
    f->num_min = INFINITY;
    f->num_max = -INFINITY;
    f->top_gate_at = gate_interval(p);
    if (p->nfields == p->fields_cap) {
        p->fields_cap = p->fields_cap ? 2 * p->fields_cap : 16;
        p->fields = realloc(p->fields, p->fields_cap * sizeof *p->fields);
        if (!p->fields)
            abort();
    }
    p->fields[p->nfields++] = f;
    uint32_t slot = slot_of(p, hash), mask = ((uint32_t)1 << p->table_bits) - 1;
    while (p->table[slot])
        slot = (slot + 1) & mask;
    p->table[slot] = (uint32_t)p->nfields;
    return f;
}

static bool is_other_name(const char *name, size_t len) {
    return len == sizeof SL_PROFILE_OTHER_FIELDS - 1 && memcmp(name, SL_PROFILE_OTHER_FIELDS, len) == 0;
}

static sl_profile_field *other_field(sl_profile *p) {
    if (!p->other) {
        const char *name = SL_PROFILE_OTHER_FIELDS;
        size_t len = strlen(name);
        p->other = field_new(p, fnv(FNV_OFFSET, name, len), NULL, 0, name, len);
    }
    return p->other;
}

/* The field named parent "." key (or key at top level, parent NULL) with the
 * given path hash: found, created, or _other_fields when the profile is full. */
static sl_profile_field *field_get(sl_profile *p, uint64_t hash, const sl_profile_field *parent,
                                   const char *key, size_t key_len) {
    uint32_t slot = slot_of(p, hash), mask = ((uint32_t)1 << p->table_bits) - 1;
    size_t plen = parent ? parent->name_len : 0;
    size_t n = parent ? plen + 1 + key_len : key_len;
    while (p->table[slot]) {
        sl_profile_field *f = p->fields[p->table[slot] - 1];
        if (f->hash == hash && f->name_len == n &&
            (!parent || (memcmp(f->name, parent->name, plen) == 0 && f->name[plen] == '.')) &&
            memcmp(f->name + n - key_len, key, key_len) == 0)
            return f;
        slot = (slot + 1) & mask;
    }
    if (!parent && is_other_name(key, key_len))
        return other_field(p);
    if (p->nreal >= p->opts.max_fields)
        return other_field(p);
    p->nreal++;
    return field_new(p, hash, parent ? parent->name : NULL, plen, key, key_len);
}

/* --- sketches, allocated when a value of their kind first arrives */

static sl_hll *new_hll(const sl_profile *p) {
    sl_hll *h = xmalloc(sizeof *h);
    sl_hll_init(h, p->opts.hll_lg_k, NULL);
    return h;
}

static sl_kll *new_kll(const sl_profile *p) {
    sl_kll *k = xmalloc(sizeof *k);
    sl_kll_init(k, p->opts.kll_k, KLL_SEED, NULL);
    return k;
}

static sl_topk *new_topk(const sl_profile *p) {
    sl_topk *t = xmalloc(sizeof *t);
    sl_topk_init(t, p->opts.topk_capacity, p->opts.topk_max_len, NULL);
    return t;
}

/* --- the hot path */

static void update_number(sl_profile *p, sl_profile_field *f, double x) {
    if (!isfinite(x))
        return;
    uint64_t n = ++f->num_count;
    if (x < f->num_min) f->num_min = x;
    if (x > f->num_max) f->num_max = x;
    double delta = x - f->num_mean;
    f->num_mean += delta / (double)n;
    f->num_m2 += delta * (x - f->num_mean);
    if (!f->kll)
        f->kll = new_kll(p);
    sl_kll_add(f->kll, x);
}

/* The length histogram's bin of len: exact below 16, then four bins per
 * power of two (profile.h). */
static unsigned len_bin(uint64_t len) {
    if (len < 16)
        return (unsigned)len;
    unsigned lg = 63u - (unsigned)__builtin_clzll(len);            /* >= 4 */
    unsigned b = 16 + 4 * (lg - 4) + (unsigned)((len >> (lg - 2)) & 3);
    return b < SL_PROFILE_LEN_BINS ? b : SL_PROFILE_LEN_BINS - 1;
}

uint64_t sl_profile_len_bin_low(unsigned b) {
    if (b < 16)
        return b;
    unsigned lg = 4 + (b - 16) / 4;
    return (uint64_t)(4 + (b - 16) % 4) << (lg - 2);
}

static uint64_t *new_len_hist(void) {
    uint64_t *h = calloc(SL_PROFILE_LEN_BINS, sizeof *h);
    if (!h)
        abort();
    return h;
}

static void update_length(sl_profile_field *f, uint64_t len) {
    if (!f->len_hist)
        f->len_hist = new_len_hist();
    f->len_hist[len_bin(len)]++;
    if (f->len_count++ == 0) {
        f->len_min = f->len_max = len;
    } else {
        if (len < f->len_min) f->len_min = len;
        if (len > f->len_max) f->len_max = len;
    }
    f->len_sum += len;
}

/* --- character classes and timestamps of strings */

_Static_assert(SL_PROFILE_CHAR_BYTES < 256 && SL_PROFILE_CHAR_CLASSES <= 8, "char class lanes are 8 bits");

/* Classifies the strings whose hash falls in a 1-in-SL_PROFILE_CHAR_EVERY
 * sample: the shares of the classes are what drift compares, and the sample
 * estimates them at a quarter of the cost. Chosen by hash (its top bits,
 * independent of those HLL and top-k use first), the sample is the same
 * however records are split among workers and across a resume. */
static void update_chars(sl_profile_field *f, const char *s, size_t len, uint64_t hash) {
    if ((hash >> 32) % SL_PROFILE_CHAR_EVERY)
        return;
    uint64_t lanes = 0;
    if (len > SL_PROFILE_CHAR_BYTES)
        len = SL_PROFILE_CHAR_BYTES;
    for (size_t i = 0; i < len; i++)
        lanes += char_class_lane[(unsigned char)s[i]];
    for (int c = 0; c < SL_PROFILE_CHAR_CLASSES; c++)
        f->chars[c] += (lanes >> (8 * c)) & 0xff;
}

static sl_timeline *new_timeline(void) {
    sl_timeline *t = xmalloc(sizeof *t);
    sl_timeline_init(t);
    return t;
}

static void update_time(sl_profile_field *f, int64_t ns) {
    if (!f->timeline)
        f->timeline = new_timeline();
    sl_timeline_add(f->timeline, ns);
    if (f->ts_count++ == 0) {
        f->ts_min = f->ts_max = ns;
    } else {
        if (ns < f->ts_min) f->ts_min = ns;
        if (ns > f->ts_max) f->ts_max = ns;
    }
}

/* Counts a string in RFC 3339 form as a timestamp; the test on the
 * separators keeps the parser off every other string. */
static void update_time_text(sl_profile_field *f, const char *s, size_t len) {
    int64_t ns;
    if (len >= 19 && len <= 40 && s[4] == '-' && s[7] == '-' && s[13] == ':' &&
        sl_parse_rfc3339(s, len, &ns))
        update_time(f, ns);
}

/* --- the top-values gate (profile.h, "Sampled top values") */

/* Evaluated every gate_interval strings until it switches f to sampling:
 * the field is near-unique (HLL: at least half its scalars distinct) and no
 * tracked value is guaranteed frequent (count - error <= n / capacity). */
static void top_gate(sl_profile *p, sl_profile_field *f) {
    uint64_t n = f->types[SL_STRING];
    f->top_gate_at = n + gate_interval(p);
    uint64_t scalars = f->count - f->nulls - f->types[SL_ARRAY] - f->types[SL_MAP];
    if (2 * sl_hll_estimate(f->hll) < (double)scalars)
        return;
    uint64_t frequent = n / f->topk->capacity;
    for (uint32_t i = 0; i < f->topk->size; i++) {
        const sl_topk_entry *e = &f->topk->entries[i];
        if (e->count - e->error > frequent)
            return;
    }
    f->top_sampled = true;
}

/* Whether a string of a sampled field enters the top-values sketch: a
 * pseudo-random 1 in SL_PROFILE_TOP_SAMPLE_RATE draw, a function of the
 * value's hash and its record's id (splitmix64's finalizer mixes the two),
 * so the draw is the same whichever worker profiles the record, and every
 * occurrence of a value has the same chance. */
static bool top_sampled_in(uint64_t hash, uint64_t record_id) {
    uint64_t x = hash ^ (record_id * 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x < UINT64_MAX / SL_PROFILE_TOP_SAMPLE_RATE;
}

static void add_top(sl_profile *p, sl_profile_field *f, const sl_value *v, uint64_t hash) {
    if (!f->topk)
        f->topk = new_topk(p);
    if (f->top_sampled) {
        if (top_sampled_in(hash, p->record_id))
            sl_topk_add_weighted(f->topk, v->as.s, v->len, hash, SL_PROFILE_TOP_SAMPLE_RATE);
        return;
    }
    sl_topk_add_hashed(f->topk, v->as.s, v->len, hash);
    if (f->types[SL_STRING] >= f->top_gate_at)
        top_gate(p, f);
}

/* Counts the value of the given hash (sketch_hash.h) in f's distinct-value sketch. */
static inline void add_distinct(sl_profile *p, sl_profile_field *f, uint64_t hash) {
    if (!f->hll)
        f->hll = new_hll(p);
    sl_hll_add_hash(f->hll, hash);
}

static void update(sl_profile *p, sl_profile_field *f, const sl_value *v) {
    sl_type t = v->type == SL_UINT ? SL_INT : (sl_type)v->type;
    f->count++;
    f->types[t]++;
    switch (t) {
    case SL_NULL:
        f->nulls++;
        return;
    case SL_ARRAY:
    case SL_MAP:
        return;
    case SL_BOOL:
        if (v->as.b) f->bool_true++; else f->bool_false++;
        break;
    case SL_INT:
    case SL_UINT:
    case SL_DOUBLE:
        update_number(p, f, v->type == SL_INT ? (double)v->as.i
                            : v->type == SL_UINT ? (double)v->as.u : v->as.d);
        break;
    case SL_STRING: {
        update_length(f, v->len);
        update_time_text(f, v->as.s, v->len);
        uint64_t h = sl_sketch_hash_string(v->as.s, v->len);   /* one hash for the sketches and the sample */
        update_chars(f, v->as.s, v->len, h);
        add_distinct(p, f, h);
        add_top(p, f, v, h);
        return;
    }
    case SL_BYTES:
        update_length(f, v->len);
        break;
    case SL_TIMESTAMP:
        update_time(f, v->as.i);
        break;
    }
    add_distinct(p, f, sl_sketch_hash(v));
}

/* Everything under an overflowing map goes to _other_fields. */
static void add_other(sl_profile *p, const sl_value *map) {
    sl_profile_field *other = other_field(p);
    for (uint32_t i = 0; i < map->len; i++) {
        const sl_value *v = &map->as.fields[i].value;
        update(p, other, v);
        if (v->type == SL_MAP)
            add_other(p, v);
    }
}

/* Whether f, met under the same parent, is the field of this key: its name
 * ends with the key and has the length parent "." key would have. */
static bool same_key(const sl_profile_field *f, size_t name_len, const char *key, size_t key_len) {
    return f->name_len == name_len && sl_bytes_equal(f->name + name_len - key_len, key, key_len);
}

/* Profiles the members of map, whose field is parent (NULL for the record);
 * known holds the fields met at each key position last time. */
static void add_map(sl_profile *p, const sl_profile_field *parent, sl_profile_field **known,
                    const sl_value *map) {
    size_t prefix = parent ? parent->name_len + 1 : 0;
    for (uint32_t i = 0; i < map->len; i++) {
        const sl_field *kv = &map->as.fields[i];
        sl_profile_field *f = i < SL_PROFILE_POSITIONS ? known[i] : NULL;
        if (!f || !same_key(f, prefix + kv->key_len, kv->key, kv->key_len)) {
            uint64_t h = parent ? fnv(parent->hash, ".", 1) : FNV_OFFSET;
            f = field_get(p, fnv(h, kv->key, kv->key_len), parent, kv->key, kv->key_len);
            if (i < SL_PROFILE_POSITIONS && f != p->other)
                known[i] = f;
        }
        update(p, f, &kv->value);
        if (kv->value.type == SL_MAP) {
            if (f == p->other) {
                add_other(p, &kv->value);
                continue;
            }
            if (!f->children) {
                f->children = calloc(SL_PROFILE_POSITIONS, sizeof *f->children);
                if (!f->children)
                    abort();
            }
            add_map(p, f, f->children, &kv->value);
        }
    }
}

void sl_profile_add(sl_profile *p, const sl_value *record, uint64_t id) {
    p->records++;
    p->record_id = id;
    if (record->type == SL_MAP) {
        add_map(p, NULL, p->top, record);
        return;
    }
    const char *name = SL_PROFILE_ROOT_FIELD;
    size_t len = strlen(name);
    update(p, field_get(p, fnv(FNV_OFFSET, name, len), NULL, name, len), record);
}

/* --- accessors */

uint64_t sl_profile_records(const sl_profile *p) { return p->records; }
unsigned sl_profile_version(const sl_profile *p) { return p->version; }
const sl_profile_opts *sl_profile_options(const sl_profile *p) { return &p->opts; }
size_t sl_profile_field_count(const sl_profile *p) { return p->nfields; }

const sl_profile_field *sl_profile_field_at(const sl_profile *p, size_t i) {
    return i < p->nfields ? p->fields[i] : NULL;
}

const sl_profile_field *sl_profile_find(const sl_profile *p, const char *name, size_t len) {
    uint64_t h = fnv(FNV_OFFSET, name, len);
    uint32_t slot = slot_of(p, h), mask = ((uint32_t)1 << p->table_bits) - 1;
    while (p->table[slot]) {
        const sl_profile_field *f = p->fields[p->table[slot] - 1];
        if (f->hash == h && f->name_len == len && memcmp(f->name, name, len) == 0)
            return f;
        slot = (slot + 1) & mask;
    }
    return NULL;
}

uint64_t sl_profile_field_missing(const sl_profile *p, const sl_profile_field *f) {
    if (f == p->other || f->count >= p->records)
        return 0;
    return p->records - f->count;
}

uint64_t sl_profile_field_distinct(const sl_profile_field *f) {
    return f->hll ? (uint64_t)llround(sl_hll_estimate(f->hll)) : 0;
}

bool sl_profile_top_known(const sl_profile_field *f, const sl_topk_entry *e) {
    return (e->error == 0 && !f->top_sampled) || sl_profile_top_frequent(f, e);
}

bool sl_profile_top_frequent(const sl_profile_field *f, const sl_topk_entry *e) {
    double lower = (double)(e->count - e->error);
    if (f->top_sampled)
        lower -= 3 * sqrt((double)(SL_PROFILE_TOP_SAMPLE_RATE - 1) * (double)e->count);
    return lower > (double)f->types[SL_STRING] / (double)f->topk->capacity;
}

double sl_profile_field_time_range(const sl_profile_field *f) {
    int64_t span;
    if (!f->ts_count)
        return NAN;
    if (__builtin_sub_overflow(f->ts_max, f->ts_min, &span))
        return ((double)f->ts_max - (double)f->ts_min) / 1e9;
    return (double)span / 1e9;
}

double sl_profile_field_stddev(const sl_profile_field *f) {
    return f->num_count ? sqrt(f->num_m2 / (double)f->num_count) : NAN;
}

size_t sl_profile_footprint(const sl_profile *p) {
    size_t total = sizeof *p + ((size_t)1 << p->table_bits) * sizeof *p->table +
                   p->fields_cap * sizeof *p->fields;
    for (size_t i = 0; i < p->nfields; i++) {
        const sl_profile_field *f = p->fields[i];
        total += sizeof *f + f->name_len + 1;
        if (f->hll) total += sizeof *f->hll + ((size_t)1 << f->hll->lg_k);
        if (f->kll) total += sizeof *f->kll + sl_kll_footprint(f->kll);
        if (f->len_hist) total += SL_PROFILE_LEN_BINS * sizeof *f->len_hist;
        if (f->timeline) total += sizeof *f->timeline;
        if (f->topk) total += sizeof *f->topk + sl_topk_footprint(f->topk);
        if (f->children) total += SL_PROFILE_POSITIONS * sizeof *f->children;
    }
    return total;
}

/* --- merge */

static void merge_field(sl_profile *p, sl_profile_field *d, const sl_profile_field *s) {
    d->count += s->count;
    d->nulls += s->nulls;
    for (int t = 0; t < SL_PROFILE_NUM_TYPES; t++)
        d->types[t] += s->types[t];
    if (s->num_count) {
        uint64_t n = d->num_count + s->num_count;
        double delta = s->num_mean - d->num_mean;
        double nd = (double)d->num_count, ns = (double)s->num_count;
        d->num_mean = d->num_count ? d->num_mean + delta * (ns / (double)n) : s->num_mean;
        d->num_m2 = d->num_count ? d->num_m2 + s->num_m2 + delta * delta * (nd * ns / (double)n) : s->num_m2;
        d->num_count = n;
        if (s->num_min < d->num_min) d->num_min = s->num_min;
        if (s->num_max > d->num_max) d->num_max = s->num_max;
    }
    if (s->len_count) {
        if (!d->len_count || s->len_min < d->len_min) d->len_min = s->len_min;
        if (!d->len_count || s->len_max > d->len_max) d->len_max = s->len_max;
        d->len_count += s->len_count;
        d->len_sum += s->len_sum;
    }
    if (s->len_hist) {
        if (!d->len_hist)
            d->len_hist = new_len_hist();
        for (unsigned b = 0; b < SL_PROFILE_LEN_BINS; b++)
            d->len_hist[b] += s->len_hist[b];
    }
    for (int c = 0; c < SL_PROFILE_CHAR_CLASSES; c++)
        d->chars[c] += s->chars[c];
    if (s->ts_count) {
        if (!d->ts_count || s->ts_min < d->ts_min) d->ts_min = s->ts_min;
        if (!d->ts_count || s->ts_max > d->ts_max) d->ts_max = s->ts_max;
        d->ts_count += s->ts_count;
    }
    if (s->timeline) {
        if (!d->timeline)
            d->timeline = new_timeline();
        sl_timeline_merge(d->timeline, s->timeline);
    }
    d->bool_true += s->bool_true;
    d->bool_false += s->bool_false;
    if (s->hll) {
        if (!d->hll)
            d->hll = new_hll(p);
        sl_hll_merge(d->hll, s->hll, NULL);   /* lg_k equality checked by the caller */
    }
    if (s->kll) {
        if (!d->kll)
            d->kll = new_kll(p);
        sl_kll_merge(d->kll, s->kll);
    }
    if (s->topk) {
        if (!d->topk)
            d->topk = new_topk(p);
        sl_topk_merge(d->topk, s->topk);
        d->top_sampled |= s->top_sampled;
    }
}

int sl_profile_merge(sl_profile *dst, const sl_profile *src, sl_error *err) {
    if (dst->opts.hll_lg_k != src->opts.hll_lg_k)
        return sl_errorf(err, "cannot merge profiles built with different hll_lg_k (%u and %u)",
                         dst->opts.hll_lg_k, src->opts.hll_lg_k);
    if (dst->version != src->version)
        return sl_errorf(err, "cannot merge a profile of version %u with one of version %u: their distinct "
                         "counts hash values differently (version 1 comes from an older sluice; profile "
                         "the data again)", src->version, dst->version);
    dst->records += src->records;
    for (size_t i = 0; i < src->nfields; i++) {
        const sl_profile_field *s = src->fields[i];
        sl_profile_field *d = (sl_profile_field *)sl_profile_find(dst, s->name, s->name_len);
        if (!d)
            d = field_get(dst, s->hash, NULL, s->name, s->name_len);
        merge_field(dst, d, s);
    }
    return 0;
}

/* --- to JSON */

static void put_double(sl_buf *out, double d) {
    if (!sl_json_format_double(out, d))
        sl_buf_puts(out, "null");
}

static void put_u64(sl_buf *out, uint64_t v) {
    sl_buf_printf(out, "%llu", (unsigned long long)v);
}

static void put_types(sl_buf *out, const sl_profile_field *f) {
    sl_buf_puts(out, "\"types\":{");
    bool first = true;
    for (int t = 0; t < SL_PROFILE_NUM_TYPES; t++) {
        if (!f->types[t])
            continue;
        sl_buf_printf(out, "%s\"%s\":", first ? "" : ",", sl_type_name((sl_type)t));
        put_u64(out, f->types[t]);
        first = false;
    }
    sl_buf_putc(out, '}');
}

static void put_numbers(sl_buf *out, const sl_profile_field *f) {
    sl_buf_puts(out, ",\"min\":");
    put_double(out, f->num_min);
    sl_buf_puts(out, ",\"max\":");
    put_double(out, f->num_max);
    sl_buf_puts(out, ",\"mean\":");
    put_double(out, f->num_mean);
    sl_buf_puts(out, ",\"stddev\":");
    put_double(out, sl_profile_field_stddev(f));
    double q[N_QUANTILES];
    sl_kll_quantiles(f->kll, shown_quantiles, N_QUANTILES, q);
    sl_buf_puts(out, ",\"quantiles\":{");
    for (size_t i = 0; i < N_QUANTILES; i++) {
        sl_buf_printf(out, "%s\"%s\":", i ? "," : "", shown_quantile_keys[i]);
        put_double(out, q[i]);
    }
    double edges[HIST_BINS + 1];
    uint64_t counts[HIST_BINS];
    size_t bins = sl_kll_histogram(f->kll, HIST_BINS, SL_KLL_HIST_EQUAL_WIDTH, edges, counts);
    sl_buf_puts(out, "},\"histogram\":{\"edges\":[");
    for (size_t i = 0; i <= bins; i++) {
        if (i) sl_buf_putc(out, ',');
        put_double(out, edges[i]);
    }
    sl_buf_puts(out, "],\"counts\":[");
    for (size_t i = 0; i < bins; i++) {
        if (i) sl_buf_putc(out, ',');
        put_u64(out, counts[i]);
    }
    sl_buf_puts(out, "]}");
}

static void put_chars(sl_buf *out, const sl_profile_field *f) {
    sl_buf_puts(out, ",\"chars\":{");
    bool first = true;
    for (int c = 0; c < SL_PROFILE_CHAR_CLASSES; c++) {
        if (!f->chars[c])
            continue;
        sl_buf_printf(out, "%s\"%s\":", first ? "" : ",", char_class_names[c]);
        put_u64(out, f->chars[c]);
        first = false;
    }
    sl_buf_putc(out, '}');
}

static void put_time(sl_buf *out, const sl_profile_field *f) {
    char text[40];
    sl_buf_puts(out, ",\"time\":{\"count\":");
    put_u64(out, f->ts_count);
    sl_buf_puts(out, ",\"min\":\"");
    sl_buf_append(out, text, sl_format_rfc3339(text, f->ts_min));
    sl_buf_puts(out, "\",\"max\":\"");
    sl_buf_append(out, text, sl_format_rfc3339(text, f->ts_max));
    double range = sl_profile_field_time_range(f);
    sl_buf_puts(out, "\",\"range_s\":");
    put_double(out, range);
    if (range > 0) {
        sl_buf_puts(out, ",\"rate_per_s\":");
        put_double(out, (double)f->ts_count / range);
    }
    double gaps = f->timeline ? sl_timeline_gap_share(f->timeline) : NAN;
    if (isfinite(gaps)) {
        sl_buf_puts(out, ",\"gaps\":");
        put_double(out, gaps);
    }
    sl_buf_putc(out, '}');
}

/* The known top values (profile.h, "Known top values"), up to TOP_SHOWN. */
static void put_top(sl_buf *out, const sl_profile_field *f) {
    size_t n, shown = 0;
    const sl_topk_entry **v = sl_topk_sorted(f->topk, &n);
    sl_buf_puts(out, ",\"top\":[");
    for (size_t i = 0; i < n && shown < TOP_SHOWN; i++) {
        const sl_topk_entry *e = v[i];
        if (!sl_profile_top_known(f, e))
            continue;
        if (shown++) sl_buf_putc(out, ',');
        sl_topk_put_value(out, e);
        sl_buf_puts(out, ",\"count\":");
        put_u64(out, e->count);
        if (e->error) {
            sl_buf_puts(out, ",\"error\":");
            put_u64(out, e->error);
        }
        if (e->truncated)
            sl_buf_puts(out, ",\"truncated\":true");
        sl_buf_putc(out, '}');
    }
    sl_buf_putc(out, ']');
    free(v);
}

static void put_field(sl_buf *out, const sl_profile *p, const sl_profile_field *f) {
    sl_json_encode_string(out, f->name, f->name_len);
    sl_buf_puts(out, ":{\"count\":");
    put_u64(out, f->count);
    sl_buf_puts(out, ",\"nulls\":");
    put_u64(out, f->nulls);
    sl_buf_puts(out, ",\"missing\":");
    put_u64(out, sl_profile_field_missing(p, f));
    sl_buf_putc(out, ',');
    put_types(out, f);
    if (f->hll) {
        sl_buf_puts(out, ",\"distinct\":");
        put_u64(out, sl_profile_field_distinct(f));
    }
    if (f->kll)
        put_numbers(out, f);
    if (f->len_count) {
        sl_buf_puts(out, ",\"length\":{\"min\":");
        put_u64(out, f->len_min);
        sl_buf_puts(out, ",\"max\":");
        put_u64(out, f->len_max);
        sl_buf_puts(out, ",\"mean\":");
        put_double(out, (double)f->len_sum / (double)f->len_count);
        sl_buf_putc(out, '}');
    }
    if (f->types[SL_STRING])
        put_chars(out, f);
    if (f->topk)
        put_top(out, f);
    if (f->top_sampled)
        sl_buf_puts(out, ",\"top_sampled\":true");
    if (f->types[SL_BOOL]) {
        sl_buf_puts(out, ",\"bools\":{\"true\":");
        put_u64(out, f->bool_true);
        sl_buf_puts(out, ",\"false\":");
        put_u64(out, f->bool_false);
        sl_buf_putc(out, '}');
    }
    if (f->ts_count)
        put_time(out, f);
    if (f->hll || f->kll || f->len_count || f->topk) {
        sl_buf_puts(out, ",\"sketch\":{");
        const char *sep = "";
        if (f->hll) {
            sl_buf_puts(out, "\"hll\":\"");
            sl_hll_to_base64(f->hll, out);
            sl_buf_putc(out, '"');
            sep = ",";
        }
        if (f->kll) {
            sl_buf_printf(out, "%s\"kll\":\"", sep);
            sl_kll_to_base64(f->kll, out);
            sl_buf_puts(out, "\",\"m2\":");
            put_double(out, f->num_m2);
            sep = ",";
        }
        if (f->len_count) {
            sl_buf_printf(out, "%s\"length_sum\":", sep);
            put_u64(out, f->len_sum);
            sep = ",";
        }
        if (f->len_hist) {
            sl_buf_printf(out, "%s\"length_hist\":[", sep);
            bool first = true;
            for (unsigned b = 0; b < SL_PROFILE_LEN_BINS; b++) {
                if (!f->len_hist[b])
                    continue;
                sl_buf_printf(out, "%s[", first ? "" : ",");
                put_u64(out, sl_profile_len_bin_low(b));
                sl_buf_putc(out, ',');
                put_u64(out, f->len_hist[b]);
                sl_buf_putc(out, ']');
                first = false;
            }
            sl_buf_putc(out, ']');
            sep = ",";
        }
        if (f->timeline) {
            sl_buf_printf(out, "%s\"timeline\":", sep);
            sl_timeline_to_json(f->timeline, out);
            sep = ",";
        }
        if (f->topk) {
            sl_buf_printf(out, "%s\"topk\":", sep);
            sl_topk_to_json(f->topk, out);
        }
        sl_buf_putc(out, '}');
    }
    sl_buf_putc(out, '}');
}

void sl_profile_to_json(const sl_profile *p, sl_buf *out) {
    const sl_profile_opts *o = &p->opts;
    sl_buf_printf(out, "{\"version\":%u,\"records\":", p->version);
    put_u64(out, p->records);
    sl_buf_printf(out, ",\"options\":{\"hll_lg_k\":%u,\"kll_k\":%u,\"topk_capacity\":%u,"
                  "\"topk_max_len\":%u,\"max_fields\":%u},\"fields\":{",
                  o->hll_lg_k, o->kll_k, o->topk_capacity, o->topk_max_len, o->max_fields);
    for (size_t i = 0; i < p->nfields; i++) {
        if (i) sl_buf_putc(out, ',');
        put_field(out, p, p->fields[i]);
    }
    sl_buf_puts(out, "}}");
}

/* --- from JSON */

static const sl_value *member(const sl_value *obj, const char *key) {
    return sl_map_get(obj, key, strlen(key));
}

static bool as_count(const sl_value *v, uint64_t *out) {
    if (!v) return false;
    if (v->type == SL_INT && v->as.i >= 0) { *out = (uint64_t)v->as.i; return true; }
    if (v->type == SL_UINT) { *out = v->as.u; return true; }
    return false;
}

static bool as_number(const sl_value *v, double *out) {
    return v && (v->type == SL_INT || v->type == SL_UINT || v->type == SL_DOUBLE) &&
           sl_value_as_double(v, out) && isfinite(*out);
}

static int get_count(const sl_value *obj, const char *key, uint64_t *out, const char *field, sl_error *err) {
    if (!as_count(member(obj, key), out))
        return sl_errorf(err, "profile: field \"%s\": \"%s\" must be a non-negative integer", field, key);
    return 0;
}

static int read_types(sl_profile_field *f, const sl_value *types, sl_error *err) {
    if (!types || types->type != SL_MAP)
        return sl_errorf(err, "profile: field \"%s\": \"types\" must be an object", f->name);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < types->len; i++) {
        const sl_field *kv = &types->as.fields[i];
        int t = -1;
        for (int j = 0; j < SL_PROFILE_NUM_TYPES; j++) {
            const char *name = sl_type_name((sl_type)j);
            if (j != SL_UINT && strlen(name) == kv->key_len && memcmp(name, kv->key, kv->key_len) == 0)
                t = j;
        }
        uint64_t n;
        if (t < 0 || !as_count(&kv->value, &n))
            return sl_errorf(err, "profile: field \"%s\": unknown type \"%.*s\" or non-integer count",
                             f->name, (int)(kv->key_len > 40 ? 40 : kv->key_len), kv->key);
        f->types[t] = n;
        if (__builtin_add_overflow(sum, n, &sum))
            return sl_errorf(err, "profile: field \"%s\": type counts overflow", f->name);
    }
    if (sum != f->count || f->types[SL_NULL] != f->nulls)
        return sl_errorf(err, "profile: field \"%s\": type counts do not add up to count and nulls", f->name);
    return 0;
}

/* "sketch.length_hist" (optional): [[shortest length of the bin, count], ...]
 * adding up to the string and bytes count. */
static int read_len_hist(sl_profile_field *f, const sl_value *h, sl_error *err) {
    if (!h)
        return 0;
    if (h->type != SL_ARRAY)
        return sl_errorf(err, "profile: field \"%s\": \"sketch.length_hist\" must be an array", f->name);
    f->len_hist = new_len_hist();
    uint64_t sum = 0;
    for (uint32_t i = 0; i < h->len; i++) {
        const sl_value *pair = &h->as.items[i];
        uint64_t low, n;
        if (pair->type != SL_ARRAY || pair->len != 2 || !as_count(&pair->as.items[0], &low) ||
            !as_count(&pair->as.items[1], &n) || sl_profile_len_bin_low(len_bin(low)) != low ||
            __builtin_add_overflow(sum, n, &sum) ||
            __builtin_add_overflow(f->len_hist[len_bin(low)], n, &f->len_hist[len_bin(low)]))
            return sl_errorf(err, "profile: field \"%s\": \"sketch.length_hist\" must hold [length, count] "
                             "pairs, each length the start of a bin", f->name);
    }
    if (sum != f->len_count)
        return sl_errorf(err, "profile: field \"%s\": \"sketch.length_hist\" does not add up to the string "
                         "and bytes count", f->name);
    return 0;
}

/* "chars" (optional): byte counts by character class. */
static int read_chars(sl_profile_field *f, const sl_value *chars, sl_error *err) {
    if (!chars)
        return 0;
    if (chars->type != SL_MAP)
        return sl_errorf(err, "profile: field \"%s\": \"chars\" must be an object", f->name);
    for (uint32_t i = 0; i < chars->len; i++) {
        const sl_field *kv = &chars->as.fields[i];
        int c = 0;
        while (c < SL_PROFILE_CHAR_CLASSES &&
               !(strlen(char_class_names[c]) == kv->key_len && memcmp(char_class_names[c], kv->key, kv->key_len) == 0))
            c++;
        if (c == SL_PROFILE_CHAR_CLASSES || !as_count(&kv->value, &f->chars[c]))
            return sl_errorf(err, "profile: field \"%s\": \"chars\" has an unknown class or a non-integer "
                             "count", f->name);
    }
    return 0;
}

/* "time" (optional): count, min and max of the timestamps. */
static int read_time(sl_profile_field *f, const sl_value *t, sl_error *err) {
    if (!t)
        return 0;
    const sl_value *min = t->type == SL_MAP ? member(t, "min") : NULL;
    const sl_value *max = t->type == SL_MAP ? member(t, "max") : NULL;
    if (!min || !max || min->type != SL_STRING || max->type != SL_STRING ||
        !as_count(member(t, "count"), &f->ts_count) || f->ts_count < f->types[SL_TIMESTAMP] || f->ts_count == 0 ||
        f->ts_count > f->types[SL_STRING] + f->types[SL_TIMESTAMP] ||
        !sl_parse_rfc3339(min->as.s, min->len, &f->ts_min) || !sl_parse_rfc3339(max->as.s, max->len, &f->ts_max) ||
        f->ts_min > f->ts_max)
        return sl_errorf(err, "profile: field \"%s\": \"time\" must hold a count (the timestamps, plus at most "
                         "the strings) and RFC 3339 \"min\" and \"max\", min first", f->name);
    return 0;
}

static int read_sketches(sl_profile *p, sl_profile_field *f, const sl_value *obj, sl_error *err) {
    const sl_value *sk = member(obj, "sketch");
    if (sk && sk->type != SL_MAP)
        return sl_errorf(err, "profile: field \"%s\": \"sketch\" must be an object", f->name);
    const sl_value *hll = sk ? member(sk, "hll") : NULL;
    const sl_value *kll = sk ? member(sk, "kll") : NULL;
    const sl_value *topk = sk ? member(sk, "topk") : NULL;
    uint64_t scalars = f->count - f->nulls - f->types[SL_ARRAY] - f->types[SL_MAP];
    uint64_t numbers = f->types[SL_INT] + f->types[SL_DOUBLE];
    if ((scalars > 0) != (hll != NULL) || (hll && hll->type != SL_STRING))
        return sl_errorf(err, "profile: field \"%s\": \"sketch.hll\" must be a string exactly when "
                         "non-null scalar values were counted", f->name);
    if (hll) {
        f->hll = xmalloc(sizeof *f->hll);
        if (sl_hll_from_base64(f->hll, hll->as.s, hll->len, err) < 0)
            return sl_error_prefix(err, "profile: field \"%s\"", f->name);
        if (f->hll->lg_k != p->opts.hll_lg_k)
            return sl_errorf(err, "profile: field \"%s\": hll size differs from options.hll_lg_k", f->name);
    }
    if (kll) {
        if (kll->type != SL_STRING)
            return sl_errorf(err, "profile: field \"%s\": \"sketch.kll\" must be a string", f->name);
        f->kll = xmalloc(sizeof *f->kll);
        if (sl_kll_from_base64(f->kll, kll->as.s, kll->len, err) < 0)
            return sl_error_prefix(err, "profile: field \"%s\"", f->name);
        double mean, m2;
        if (f->kll->n == 0 || f->kll->n > numbers)
            return sl_errorf(err, "profile: field \"%s\": kll counts more numbers than the types", f->name);
        if (!as_number(member(obj, "mean"), &mean) || !as_number(member(sk, "m2"), &m2) || m2 < 0)
            return sl_errorf(err, "profile: field \"%s\": \"mean\" and \"sketch.m2\" (>= 0) must be numbers",
                             f->name);
        f->num_count = f->kll->n;
        f->num_min = f->kll->min;
        f->num_max = f->kll->max;
        f->num_mean = mean;
        f->num_m2 = m2;
    }
    f->len_count = f->types[SL_STRING] + f->types[SL_BYTES];
    if (f->len_count) {
        const sl_value *len = member(obj, "length");
        if (!len || len->type != SL_MAP)
            return sl_errorf(err, "profile: field \"%s\": \"length\" must be an object", f->name);
        if (get_count(len, "min", &f->len_min, f->name, err) < 0 ||
            get_count(len, "max", &f->len_max, f->name, err) < 0 ||
            get_count(sk, "length_sum", &f->len_sum, f->name, err) < 0)
            return -1;
        if (f->len_min > f->len_max)
            return sl_errorf(err, "profile: field \"%s\": length min above max", f->name);
        if (read_len_hist(f, member(sk, "length_hist"), err) < 0)
            return -1;
    }
    if ((f->types[SL_STRING] > 0) != (topk != NULL))
        return sl_errorf(err, "profile: field \"%s\": \"sketch.topk\" must be present exactly when "
                         "strings were counted", f->name);
    if (topk) {
        f->topk = xmalloc(sizeof *f->topk);
        if (sl_topk_from_value(f->topk, p->opts.topk_capacity, p->opts.topk_max_len, topk, err) < 0) {
            free(f->topk);
            f->topk = NULL;
            return sl_error_prefix(err, "profile: field \"%s\"", f->name);
        }
    }
    const sl_value *timeline = sk ? member(sk, "timeline") : NULL;
    if (timeline) {
        f->timeline = new_timeline();
        if (sl_timeline_from_value(f->timeline, timeline, err) < 0)
            return sl_error_prefix(err, "profile: field \"%s\"", f->name);
        if (f->timeline->n != f->ts_count)
            return sl_errorf(err, "profile: field \"%s\": \"sketch.timeline\" does not count the timestamps",
                             f->name);
    }
    const sl_value *sampled = member(obj, "top_sampled");
    if (sampled && (sampled->type != SL_BOOL || (sampled->as.b && !topk)))
        return sl_errorf(err, "profile: field \"%s\": \"top_sampled\" must be a bool, true only "
                         "when strings were counted", f->name);
    f->top_sampled = sampled && sampled->as.b;
    if (f->types[SL_BOOL]) {
        const sl_value *b = member(obj, "bools");
        if (!b || b->type != SL_MAP || get_count(b, "true", &f->bool_true, f->name, err) < 0 ||
            get_count(b, "false", &f->bool_false, f->name, err) < 0 ||
            f->bool_true + f->bool_false != f->types[SL_BOOL] || f->bool_true > f->types[SL_BOOL])
            return sl_errorf(err, "profile: field \"%s\": \"bools\" must count true and false adding "
                             "up to the bool type count", f->name);
    }
    return 0;
}

static int read_field(sl_profile *p, const sl_field *kv, sl_error *err) {
    const sl_value *obj = &kv->value;
    if (kv->key_len == 0)
        return sl_errorf(err, "profile: a field has an empty name");
    if (sl_profile_find(p, kv->key, kv->key_len))
        return sl_errorf(err, "profile: field \"%.*s\" appears twice", (int)(kv->key_len > 80 ? 80 : kv->key_len),
                         kv->key);
    bool other = is_other_name(kv->key, kv->key_len);
    if (!other && p->nreal >= p->opts.max_fields)
        return sl_errorf(err, "profile: more fields than options.max_fields (%u)", p->opts.max_fields);
    sl_profile_field *f = other ? other_field(p)
                                : field_get(p, fnv(FNV_OFFSET, kv->key, kv->key_len), NULL, kv->key, kv->key_len);
    if (obj->type != SL_MAP)
        return sl_errorf(err, "profile: field \"%s\" must be an object", f->name);
    if (get_count(obj, "count", &f->count, f->name, err) < 0 ||
        get_count(obj, "nulls", &f->nulls, f->name, err) < 0)
        return -1;
    if (!other && f->count > p->records)
        return sl_errorf(err, "profile: field \"%s\": count above the record count", f->name);
    if (read_types(f, member(obj, "types"), err) < 0 || read_chars(f, member(obj, "chars"), err) < 0 ||
        read_time(f, member(obj, "time"), err) < 0)
        return -1;
    return read_sketches(p, f, obj, err);
}

static int read_profile(const sl_value *doc, sl_profile **out, sl_error *err) {
    uint64_t version, records;
    if (!as_count(member(doc, "version"), &version) || version < 1 || version > SL_PROFILE_VERSION)
        return sl_errorf(err, "profile: \"version\" must be 1 or %d (this is not a profile, or it was "
                         "written by a newer sluice)", SL_PROFILE_VERSION);
    if (!as_count(member(doc, "records"), &records))
        return sl_errorf(err, "profile: \"records\" must be a non-negative integer");
    const sl_value *o = member(doc, "options"), *fields = member(doc, "fields");
    if (!o || o->type != SL_MAP || !fields || fields->type != SL_MAP)
        return sl_errorf(err, "profile: \"options\" and \"fields\" must be objects");
    sl_profile_opts opts;
    uint64_t v[5];
    const char *keys[5] = { "hll_lg_k", "kll_k", "topk_capacity", "topk_max_len", "max_fields" };
    for (int i = 0; i < 5; i++)
        if (!as_count(member(o, keys[i]), &v[i]) || v[i] == 0 || v[i] > UINT32_MAX)
            return sl_errorf(err, "profile: \"options.%s\" must be a positive integer", keys[i]);
    opts.hll_lg_k = (unsigned)v[0];
    opts.kll_k = (unsigned)v[1];
    opts.topk_capacity = (unsigned)v[2];
    opts.topk_max_len = (unsigned)v[3];
    opts.max_fields = (unsigned)v[4];
    sl_profile *p = sl_profile_new(&opts, err);
    if (!p)
        return sl_error_prefix(err, "profile: options");
    p->version = (unsigned)version;
    p->records = records;
    for (uint32_t i = 0; i < fields->len; i++) {
        if (read_field(p, &fields->as.fields[i], err) < 0) {
            sl_profile_free(p);
            return -1;
        }
    }
    *out = p;
    return 0;
}

int sl_profile_from_json(const char *text, size_t len, sl_profile **out, sl_error *err) {
    sl_buf copy;
    sl_buf_init(&copy);
    sl_buf_reserve(&copy, len + 1);    /* sl_buf keeps the padding the decoder reads */
    sl_buf_append(&copy, text, len);
    sl_arena arena;
    sl_arena_init(&arena, 4096);
    sl_value doc;
    sl_decode_error derr;
    int rc;
    if (sl_json_decode(&arena, copy.data, len, 0, true, &doc, &derr) < 0)
        rc = sl_errorf(err, "profile: not valid JSON: %s", derr.msg);
    else
        rc = read_profile(&doc, out, err);
    sl_arena_free(&arena);
    sl_buf_free(&copy);
    return rc;
}
