/* topk.h — space-saving heavy hitters: the most frequent values of a stream.
 *
 * Metwally, Agrawal, El Abbadi, "Efficient computation of frequent and top-k
 * elements in data streams" (2005). The sketch tracks at most `capacity`
 * values with a count each. A tracked value's count is incremented; an
 * untracked value replaces the value with the smallest count m, inheriting
 * count m + 1 and error m.
 *
 * Guarantees, for a stream of n values: a tracked value's true frequency f
 * satisfies count - error <= f <= count; every value with f > n / capacity
 * is tracked; and the smallest count is at most n / capacity.
 *
 * Values are byte strings (the profile feeds strings). The sketch copies
 * the bytes into its own memory, truncated to max_len bytes (at a UTF-8
 * character boundary when the bytes are UTF-8): a value is identified by its
 * truncated bytes, and such entries are flagged `truncated`.
 *
 * Memory: capacity × (max_len + 88) bytes (entry, bucket, two index slots);
 * 19 KiB at the defaults (128 × 64 bytes). Nothing is allocated
 * after init. Updates are O(1): a hash probe and, as in the paper's "stream
 * summary", a move of the entry to the next bucket of a list of buckets
 * ordered by count (entries of equal count share a bucket); the entry
 * evicted is the one that has been in the smallest-count bucket longest.
 * A weighted add (below) walks up the list to the bucket of its new count:
 * O(buckets passed), a few in practice.
 *
 * Merge (Agarwal et al., "Mergeable summaries", 2012): counts of a value are
 * summed; a value absent from a full sketch gets that sketch's smallest count
 * added to both its count and its error (it may have been evicted with at most
 * that many occurrences); then the `capacity` largest are kept. The bounds
 * above hold for the merged stream. Values are matched on their stored
 * (possibly truncated) bytes.
 *
 * Serialization is JSON (values are text): an array of
 * {"value":"...","count":N,"error":N} sorted by count descending, with
 * "value_base64" instead of "value" for bytes that are not valid UTF-8, and
 * "truncated":true on truncated values.
 *
 * A sketch is used by one thread at a time.
 */
#ifndef SL_TOPK_H
#define SL_TOPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"

#define SL_TOPK_DEFAULT_CAPACITY 128
#define SL_TOPK_MAX_CAPACITY 65536
#define SL_TOPK_DEFAULT_MAX_LEN 64
#define SL_TOPK_MAX_MAX_LEN 4096

typedef struct sl_topk_entry {
    uint64_t count;
    uint64_t error;
    uint64_t hash;           /* sl_sketch_hash_string of the stored bytes (sketch_hash.h) */
    const char *value;       /* points into the sketch's storage */
    uint32_t len;
    bool truncated;
    /* internal: the entry's bucket and its neighbours there (index + 1, 0 = none) */
    uint32_t bucket, prev, next;
} sl_topk_entry;

/* Internal: the entries sharing one count, oldest first; buckets form a list
 * by increasing count (indexes + 1, 0 = none). */
typedef struct sl_topk_bucket {
    uint64_t count;
    uint32_t first, last;
    uint32_t prev, next;
} sl_topk_bucket;

typedef struct sl_topk {
    uint32_t capacity;
    uint32_t max_len;
    uint32_t size;           /* entries in use */
    sl_topk_entry *entries;  /* capacity entries */
    sl_topk_bucket *buckets; /* capacity buckets (internal) */
    uint32_t min_bucket;     /* smallest count's bucket + 1, 0 when empty */
    uint32_t free_bucket;    /* unused buckets, chained by next */
    uint32_t *index;         /* hash slots -> entry index + 1, 0 = empty */
    uint32_t index_mask;
    char *storage;           /* capacity × max_len bytes of values */
} sl_topk;

/* capacity in [1, SL_TOPK_MAX_CAPACITY], max_len in [1, SL_TOPK_MAX_MAX_LEN]. */
int sl_topk_init(sl_topk *t, unsigned capacity, unsigned max_len, sl_error *err);
void sl_topk_free(sl_topk *t);

/* Counts one occurrence of the bytes p[0..len). */
void sl_topk_add(sl_topk *t, const char *p, size_t len);
/* The same, for a caller that already has hash = sl_sketch_hash_string(p, len)
 * (the hash the sketch uses, sketch_hash.h): saves hashing it again. */
void sl_topk_add_hashed(sl_topk *t, const char *p, size_t len, uint64_t hash);
/* Counts weight >= 1 occurrences at once (hash as for sl_topk_add_hashed).
 * This is weighted space-saving: an untracked value replacing the smallest
 * count m gets count m + weight and error m, and the guarantees above hold
 * with n the sum of the weights and f a value's summed weight. The profile
 * uses it for sampled fields (weight 16 per sampled occurrence, profile.h). */
void sl_topk_add_weighted(sl_topk *t, const char *p, size_t len, uint64_t hash, uint64_t weight);

/* Merges src into dst (dst keeps its capacity and max_len). */
void sl_topk_merge(sl_topk *dst, const sl_topk *src);

/* The tracked entries sorted by count descending (ties: bytes ascending), as
 * a malloc'ed array of pointers into t (valid until t changes); *n_out gets
 * their number. Free with free(). */
const sl_topk_entry **sl_topk_sorted(const sl_topk *t, size_t *n_out);

/* Smallest tracked count when full (an upper bound on the frequency of any
 * untracked value), else 0. */
uint64_t sl_topk_min_count(const sl_topk *t);

/* Appends the JSON array described above. */
void sl_topk_to_json(const sl_topk *t, sl_buf *out);
/* Opens an entry's JSON object with its value: `{"value":"..."` for UTF-8
 * text, else `{"value_base64":"..."`; the caller adds members and the `}`. */
void sl_topk_put_value(sl_buf *out, const sl_topk_entry *e);
/* Initializes t (capacity, max_len) from a decoded JSON array value. Entries
 * beyond capacity, duplicates, or malformed members are errors. Returns -1
 * with err filled (t left with nothing to free). */
int sl_topk_from_value(sl_topk *t, unsigned capacity, unsigned max_len,
                       const sl_value *array, sl_error *err);

size_t sl_topk_footprint(const sl_topk *t);

#endif
