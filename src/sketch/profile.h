/* profile.h — a streaming, mergeable profile of records, field by field.
 *
 * A profile summarizes any number of records in bounded memory: for every
 * field path it keeps exact counters (count, nulls, types, min, max, mean,
 * variance, string lengths, bool counts) and three sketches (distinct values:
 * HyperLogLog, hll.h; quantiles: KLL, kll.h; top values: space-saving,
 * topk.h). Profiles merge exactly for the counters and within the sketches'
 * error bounds for the rest, so workers, files and runs can each build one
 * and combine them. Reports and drift checks are built from profiles only,
 * never from raw rows.
 *
 * Field paths. A record is a map. Each key is a field; a nested map is a
 * field too (of type map) and its keys are profiled as "parent.child"
 * ("user.email"), at any depth. Arrays are counted as a type ("array") and
 * their length is not profiled, nor their items. A key that itself contains
 * a dot is not escaped: {"a.b":1} and {"a":{"b":1}} share the field "a.b".
 * A record that is not a map is profiled as a field named "_value".
 * At most opts.max_fields fields are tracked (first seen, first kept); values
 * of further fields (and of everything nested under them) are all counted in
 * one extra field "_other_fields", whose count can exceed the record count
 * and whose missing is always 0.
 *
 * What is counted, per field:
 *  - count: records where the field is present (null included); missing =
 *    records - count (records where the field or a parent was absent);
 *    nulls: present with value null.
 *  - types: counts per sl_type name ("null", "bool", "int", "float",
 *    "string", "bytes", "array", "map", "timestamp"); uint values count as
 *    "int". Their sum is count.
 *  - distinct: estimated distinct non-null scalar values (HLL over
 *    sl_sketch_hash, sketch_hash.h, so 1 and 1.0 are the same value; arrays
 *    and maps are not counted).
 *  - numbers (int, uint, float), as doubles (integers beyond 2^53 are
 *    rounded): min, max, mean, population variance (Welford's online
 *    algorithm; merged with Chan et al.'s formula), and a KLL sketch for
 *    quantiles and histograms.
 *  - strings and bytes: length in bytes (min, max, mean) and a length
 *    histogram (exact bins for lengths 0 to 15, then four bins per power of
 *    two: 16-19, 20-23, 24-27, 28-31, 32-39, ...; SL_PROFILE_LEN_BINS bins,
 *    the last also holding every longer value); strings also feed the
 *    top-values sketch (sampled on near-unique fields, below).
 *  - strings: the character classes of the first SL_PROFILE_CHAR_BYTES (64)
 *    bytes of the strings whose hash falls in a 1-in-SL_PROFILE_CHAR_EVERY
 *    sample (lower, upper, digit, space, punct, control, non_ascii: counts
 *    of bytes), the shape of free text and ids that a drift check compares
 *    when no single value is frequent. Drift compares the classes' shares,
 *    which the sample estimates at a quarter of the cost. The sample is
 *    chosen by the value's hash, not by its arrival order, so the counts do
 *    not depend on how records were split among workers or on a resume.
 *  - bools: true and false counts.
 *  - time: values that are timestamps (type timestamp, or strings in RFC 3339
 *    form such as "2026-01-01T00:00:00.5Z") are counted with their earliest
 *    and latest instant (nanoseconds since the epoch, UTC) and a timeline
 *    (timeline.h: 64 buckets over their range) that shows gaps.
 *
 * Memory per field is bounded: about 330 bytes of counters; the length
 * histogram (1 KiB) once a string or bytes value is seen; the timeline
 * (0.5 KiB) once a timestamp is seen; the HLL
 * (2^hll_lg_k bytes, 4 KiB) once a non-null value is seen; the KLL
 * (≈ 9.5 KiB at k = 256) once a number is seen; the top-values sketch
 * (≈ 19 KiB at 128 × 64 bytes) once a string is seen. So at most ≈ 35 KiB
 * per field and ≈ 9 MiB for 257 fields at the defaults, whatever the number
 * of records.
 *
 * Sampled top values. On a near-unique string field (timestamps, ids,
 * emails, free text) nearly every value misses the top-values sketch and
 * evicts its smallest entry, the most expensive update of the profile, to
 * find no heavy hitter. So every SL_PROFILE_TOP_GATE_FACTOR × topk_capacity
 * strings (8192 at the defaults) a field is tested, and switches for good to
 * a sampled top-values sketch when all three hold:
 *  - it has seen at least that many strings (n, the field's string count);
 *  - its HLL estimates at least half of its non-null scalars distinct;
 *  - no tracked value is guaranteed frequent: count - error <= n / capacity
 *    for every entry (a value that frequent keeps the field exact).
 * From then on each string enters the sketch with probability
 * 1/SL_PROFILE_TOP_SAMPLE_RATE (1/16), with weight 16 (topk.h's weighted
 * add). The draw is a pseudo-random function of the value's hash and the
 * record's identity (sl_profile_add's id: its source and position), so
 * which occurrences are sampled does not depend on how records are split
 * across workers and batches, nor on their order, and every occurrence of a
 * value has the same chance, so each value's count stays an unbiased
 * estimate (deciding by the value alone would keep 1 value in 16 and drop
 * the others entirely, heavy hitters included). What still depends on the
 * split: each worker's profile takes the gate on its own strings, so with
 * several workers the switch comes at other points of the stream (counts
 * before it are exact), and which rare values a full sketch evicts. Heavy
 * hitters' estimates agree within their bounds. Counts and errors are then estimates: for a value
 * of true frequency f, count - error <= f <= count holds up to the sampling
 * noise, of standard deviation about sqrt(15 × f') where f' is the part of f
 * counted after the switch (f' = 1600 gives ±155, ≈ 10 %). Heavy hitters
 * (f well above n / capacity) are still tracked and ranked; the rare values
 * near the bottom of the list are noise. The field's JSON then carries
 * "top_sampled":true. Merging: counts are summed as in topk.h whatever the
 * modes (an exact count plus an estimate is an estimate of the sum), and the
 * result is sampled when either side is; a sampled field stays sampled.
 *
 * Cost: records of a steady shape cost one key comparison per field: each
 * map (the record, and every nested map field) remembers which field it met
 * at each key position (the first SL_PROFILE_POSITIONS keys) and reuses it
 * when the key is the same. Otherwise the field is found by an FNV-1a hash of
 * its path, extended key by key while descending (no string building), in an
 * open-addressing table. Nothing is allocated once every field has been
 * seen (a KLL may grow a level, logarithmically rarely).
 *
 * JSON format (sl_profile_to_json; sl_profile_from_json reads it back):
 *
 *   {"version":2,                       1 is read too (below)
 *    "records":N,                       records added (merged ones included)
 *    "options":{"hll_lg_k":12,"kll_k":256,"topk_capacity":128,
 *               "topk_max_len":64,"max_fields":256},
 *    "fields":{                         in first-seen order
 *      "latency_ms":{
 *        "count":N,"nulls":N,"missing":N,
 *        "types":{"int":N,"float":N},   only non-zero types, in sl_type order
 *        "distinct":N,                  only when a non-null scalar was seen
 *        --- when finite numbers were seen (NaN/Inf count in types only):
 *        "min":X,"max":X,"mean":X,"stddev":X,      population stddev
 *        "quantiles":{"0.01":X,"0.05":X,"0.25":X,"0.5":X,"0.75":X,
 *                     "0.95":X,"0.99":X},
 *        "histogram":{"edges":[X,...],"counts":[N,...]},
 *                     equal-width, up to 10 bins between min and max
 *                     (one bin when min == max); bin i is
 *                     (edges[i], edges[i+1]], the first also holds min
 *        --- when strings or bytes were seen:
 *        "length":{"min":N,"max":N,"mean":X},
 *        --- when strings were seen:
 *        "chars":{"lower":N,"digit":N,...},     only non-zero classes
 *        "top":[{"value":"x","count":N},...],   up to 10, count descending,
 *                     only values whose count is known (below); "error":N
 *                     when the count is an upper bound that may exceed the
 *                     true count by up to N (value_base64 instead of value
 *                     for non-UTF-8 bytes; "truncated":true when cut at
 *                     topk_max_len bytes)
 *        "top_sampled":true,            only when the top values are sampled
 *                     (counts are estimates; see "Sampled top values")
 *        --- when bools were seen:
 *        "bools":{"true":N,"false":N},
 *        --- when timestamps were seen:
 *        "time":{"count":N,"min":"<RFC 3339>","max":"<RFC 3339>",
 *                "range_s":X,"rate_per_s":X,"gaps":X},   rate: count /
 *                     range (absent when the range is 0); gaps: the share of
 *                     the timeline's buckets between the first and the last
 *                     in use that are empty (absent when under two buckets)
 *        --- exact state for merging and reloading (renderers ignore it):
 *        "sketch":{"hll":"<base64>",            when distinct is present
 *                  "kll":"<base64>","m2":X,    when numbers were seen
 *                  "length_sum":N,             when strings/bytes were seen
 *                  "length_hist":[[L,N],...],  non-empty bins by their
 *                                              shortest length L
 *                  "timeline":{...},           when timestamps were seen
 *                                              (sl_timeline_to_json)
 *                  "topk":[{"value":"x","count":N,"error":N},...]}
 *      }, ...}}
 *
 * X is a JSON number printed in the shortest form that round-trips; N is a
 * non-negative integer. from_json reads counters and the sketch state (the
 * displayed quantiles, histogram, top, stddev and the length mean are
 * derived and ignored), so to_json(from_json(to_json(p))) == to_json(p).
 * The decoder is strict (unknown version, missing or mistyped members,
 * counts that do not add up, invalid sketches are errors naming the field)
 * and safe on arbitrary bytes; unknown members are ignored. "chars",
 * "time", "sketch.length_hist" and "sketch.timeline" are optional (profiles of older sluice
 * lack them; a drift check then skips the comparisons that need them).
 *
 * Known top values. A tracked value's count is shown (in "top", and by
 * every renderer) only when it is known: counted exactly (error 0 in an
 * unsampled sketch), or guaranteed frequent, its lower bound count - error
 * (less three standard deviations of sampling noise, 3 × sqrt(15 × count),
 * on a sampled field) above n / topk_capacity. The other tracked values of a
 * near-unique field are values that happened to be seen last, with counts
 * inherited from evicted ones: listing them would invent shares.
 *
 * Versions. Version 2 (this sluice) hashes values with sl_sketch_hash;
 * version 1 (older sluice) hashed them with sl_value_hash. The layout is the
 * same and a version 1 profile reads, reports, compares (drift) and writes
 * back as version 1, but its HLL registers come from the other hash, so
 * profiles of different versions do not merge (sl_profile_merge says so).
 *
 * A profile is used by one thread at a time; build one per worker and merge.
 */
#ifndef SL_PROFILE_H
#define SL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"
#include "hll.h"
#include "kll.h"
#include "timeline.h"
#include "topk.h"

#define SL_PROFILE_VERSION 2              /* JSON version written (see "Versions") */
#define SL_PROFILE_DEFAULT_MAX_FIELDS 256
#define SL_PROFILE_MAX_MAX_FIELDS 16384
#define SL_PROFILE_OTHER_FIELDS "_other_fields"
#define SL_PROFILE_ROOT_FIELD "_value"
#define SL_PROFILE_NUM_TYPES 10           /* sl_type values, SL_NULL .. SL_TIMESTAMP */
#define SL_PROFILE_POSITIONS 32           /* key positions remembered per map */
#define SL_PROFILE_TOP_GATE_FACTOR 64     /* gate tested every 64 × topk_capacity strings */
#define SL_PROFILE_TOP_SAMPLE_RATE 16     /* a sampled field keeps 1 string in 16, weight 16 */
#define SL_PROFILE_LEN_BINS 128           /* length histogram bins (lengths up to 2^32 apart) */
#define SL_PROFILE_CHAR_BYTES 64          /* bytes of each classified string counted */
#define SL_PROFILE_CHAR_EVERY 4           /* strings classified: 1 in 4, chosen by hash */

/* Character classes of string bytes, in the order of sl_profile_char_class_name. */
typedef enum sl_profile_char_class {
    SL_CHAR_LOWER, SL_CHAR_UPPER, SL_CHAR_DIGIT, SL_CHAR_SPACE, SL_CHAR_PUNCT, SL_CHAR_CONTROL,
    SL_CHAR_NON_ASCII, SL_PROFILE_CHAR_CLASSES
} sl_profile_char_class;

typedef struct sl_profile_opts {
    unsigned hll_lg_k;        /* SL_HLL_DEFAULT_LG_K */
    unsigned kll_k;           /* SL_KLL_DEFAULT_K */
    unsigned topk_capacity;   /* SL_TOPK_DEFAULT_CAPACITY */
    unsigned topk_max_len;    /* SL_TOPK_DEFAULT_MAX_LEN */
    unsigned max_fields;      /* SL_PROFILE_DEFAULT_MAX_FIELDS */
} sl_profile_opts;

/* One field's summary. Read-only for users of this API. */
typedef struct sl_profile_field {
    char *name;               /* full path, NUL-terminated, owned */
    size_t name_len;
    uint64_t count;           /* present (null included) */
    uint64_t nulls;
    uint64_t types[SL_PROFILE_NUM_TYPES];   /* by sl_type; SL_UINT stays 0 */
    /* numbers */
    uint64_t num_count;       /* finite numbers: types[SL_INT] + types[SL_DOUBLE]
                                 minus NaN/Inf doubles (counted in types only) */
    double num_min, num_max;
    double num_mean, num_m2;  /* Welford: variance = num_m2 / num_count */
    /* strings and bytes */
    uint64_t len_count;       /* types[SL_STRING] + types[SL_BYTES] */
    uint64_t len_min, len_max, len_sum;
    uint64_t *len_hist;       /* SL_PROFILE_LEN_BINS counts, NULL until a string or bytes
                                 value is seen (or when read from an older profile) */
    uint64_t chars[SL_PROFILE_CHAR_CLASSES];   /* bytes by class (strings) */
    /* timestamps (type timestamp, or RFC 3339 strings) */
    uint64_t ts_count;
    int64_t ts_min, ts_max;   /* nanoseconds since the epoch, UTC */
    sl_timeline *timeline;    /* where they fall (timeline.h); NULL until one is seen,
                                 or when read from an older profile */
    /* bools */
    uint64_t bool_true, bool_false;
    /* sketches: NULL until a value of their kind is seen */
    sl_hll *hll;              /* non-null scalars */
    sl_kll *kll;              /* numbers */
    sl_topk *topk;            /* strings */
    bool top_sampled;         /* topk holds a 1-in-16 weighted sample (see above) */
    uint64_t top_gate_at;     /* internal: string count of the next gate test */
    uint64_t hash;            /* FNV-1a of name (internal: the lookup key) */
    /* internal: for a map field, its children by key position in the last
     * records (so records of a steady shape skip hashing their keys) */
    struct sl_profile_field **children;
} sl_profile_field;

typedef struct sl_profile sl_profile;

void sl_profile_opts_default(sl_profile_opts *o);
/* opts NULL means defaults; zero members take their defaults. Returns NULL
 * with err filled when an option is out of range. */
sl_profile *sl_profile_new(const sl_profile_opts *opts, sl_error *err);
void sl_profile_free(sl_profile *p);

/* Adds one record (hot path). `id` identifies the record whoever adds it:
 * a hash of its source and position (the same whichever worker or batch
 * profiles it); it decides which strings of a sampled field enter the
 * top values ("Sampled top values"). Callers without positions pass a
 * running count. */
void sl_profile_add(sl_profile *p, const sl_value *record, uint64_t id);

/* Adds src into dst. Fields of src that dst does not have are appended (in
 * src's order; beyond dst's max_fields they fold into "_other_fields").
 * Returns -1 (dst may be partly merged) when the sketch options differ
 * (hll_lg_k must match; KLL and top-k sizes may differ: dst's are kept) or
 * the versions differ (see "Versions"). */
int sl_profile_merge(sl_profile *dst, const sl_profile *src, sl_error *err);

/* Appends the JSON document described above. */
void sl_profile_to_json(const sl_profile *p, sl_buf *out);
/* Parses a profile JSON document (any bytes; no padding required). Returns 0
 * and a new profile in *out, or -1 with err filled. */
int sl_profile_from_json(const char *text, size_t len, sl_profile **out, sl_error *err);

/* Accessors. */
uint64_t sl_profile_records(const sl_profile *p);
/* SL_PROFILE_VERSION, or the version a profile read from JSON was written with. */
unsigned sl_profile_version(const sl_profile *p);
const sl_profile_opts *sl_profile_options(const sl_profile *p);
size_t sl_profile_field_count(const sl_profile *p);     /* "_other_fields" included when used */
const sl_profile_field *sl_profile_field_at(const sl_profile *p, size_t i);
/* Field by full path ("user.email"), or NULL. */
const sl_profile_field *sl_profile_find(const sl_profile *p, const char *name, size_t len);
/* Records where the field was absent: records - count (0 for "_other_fields"). */
uint64_t sl_profile_field_missing(const sl_profile *p, const sl_profile_field *f);
/* Distinct estimate (0 when no non-null scalar was seen). */
uint64_t sl_profile_field_distinct(const sl_profile_field *f);
/* Population standard deviation of the numbers (NaN when none). */
double sl_profile_field_stddev(const sl_profile_field *f);
/* Seconds from the earliest to the latest timestamp (NaN when none). */
double sl_profile_field_time_range(const sl_profile_field *f);
/* Whether a tracked top value's count is known (see "Known top values"). */
bool sl_profile_top_known(const sl_profile_field *f, const sl_topk_entry *e);
/* Whether it is guaranteed frequent: its lower bound (less sampling noise)
 * above n / topk_capacity, n the field's string count. */
bool sl_profile_top_frequent(const sl_profile_field *f, const sl_topk_entry *e);
/* The smallest length of length-histogram bin b (< SL_PROFILE_LEN_BINS). */
uint64_t sl_profile_len_bin_low(unsigned b);
/* "lower", "upper", "digit", "space", "punct", "control", "non_ascii". */
const char *sl_profile_char_class_name(sl_profile_char_class c);
/* Bytes held from the allocator (for memory accounting). */
size_t sl_profile_footprint(const sl_profile *p);

#endif
