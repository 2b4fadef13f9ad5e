/* batch.h — records and the batch, the unit that moves between stages.
 *
 * A source fills a batch with input bytes and cuts them into frames (one per
 * record: a JSONL line, a CSV row). Each frame keeps its source position. A
 * worker then decodes every frame into a record (a map value) in the batch's
 * arena, runs the transforms, and encodes the result for each sink. The batch
 * is then freed whole: records never outlive their batch.
 *
 * Source positions are what makes a record replayable: for files the file id
 * (device + inode) and the byte offset of the frame; for sequence-based
 * sources (WAL, generate) a sequence number in `offset`.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "value.h"

typedef struct sl_position {
    uint64_t file_id;    /* (dev << 32) ^ inode for files, 0 otherwise */
    uint64_t offset;     /* byte offset of the frame, or sequence number */
} sl_position;

struct sl_batch;

/* A record's value is reached only through sl_record_value (read) and
 * sl_record_mut (write): the field has a private name so that no code can
 * change a record without saying so. sl_record_mut clears raw_json, which is
 * what lets sinks write an untouched record's frame instead of encoding it
 * (docs/architecture.md, "Records nothing changed are written as they
 * came"). Never write through a pointer got from sl_record_value.
 *
 * The value may also not be built yet (unbuilt_ set): when nothing in the
 * pipeline reads fields, the worker only checks each frame and leaves the
 * value to whoever reads it first (docs/performance.md, "Records nothing
 * reads"); both accessors build it then, with the batch's build hook. */
typedef struct sl_record {
    sl_value value_;     /* SL_MAP once decoded; SL_NULL before. Private: see above */
    const char *raw;     /* the frame's bytes (into batch->data), for the DLQ */
    uint32_t raw_len;
    bool raw_json;       /* raw is the JSON Lines frame this record's value was decoded
                            from (no key repeated), and the value has not been written
                            since (set by the worker's decode, cleared by sl_record_mut) */
    sl_position pos;
    struct sl_batch *unbuilt_;   /* not NULL: the value is not built yet; this batch's
                                    build hook builds it from raw. Private: see above */
} sl_record;

/* Builds the value of a record whose value is not built yet (batch.c). */
void sl_record_build(sl_record *r);

/* The record's value, to read (built first if it was not: the record
 * itself is not const then, only logically unchanged). */
static inline const sl_value *sl_record_value(const sl_record *r)
{
    if (r->unbuilt_)
        sl_record_build((sl_record *)r);
    return &r->value_;
}
/* The record's value, to change (in place, or by assigning a new value):
 * from now on sinks encode the record instead of writing its frame. */
static inline sl_value *sl_record_mut(sl_record *r)
{
    if (r->unbuilt_)
        sl_record_build(r);
    r->raw_json = false;
    return &r->value_;
}
static inline bool sl_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The JSON text to write for r when it is unchanged (raw_json): its frame
 * without surrounding whitespace, when that is one object on one line;
 * NULL when r must be encoded (changed, a multiline event, a line starting
 * with a byte order mark). Checked here, at the sink, so that records
 * changed or dropped on the way cost nothing. */
static inline const char *sl_record_json_text(const sl_record *r, size_t *len)
{
    if (!r->raw_json || !r->raw)
        return NULL;
    const char *p = r->raw, *end = r->raw + r->raw_len;
    while (p < end && sl_json_space(*p))
        p++;
    while (end > p && sl_json_space(end[-1]))
        end--;
    if (end - p < 2 || *p != '{' || end[-1] != '}' || memchr(p, '\n', (size_t)(end - p)))
        return NULL;
    *len = (size_t)(end - p);
    return p;
}

struct sl_format;        /* codec/format.h */

/* Records replayed from a DLQ (the `dlq` source) keep their original
 * position, and the batch's origin is their original origin; this says
 * where the replay read them: the DLQ file, and per record (found by where
 * its frame is in the batch's data) the offset of its entry there. */
typedef struct sl_replay_link {
    uint64_t frame;          /* byte offset of the record's frame in data */
    uint64_t offset;         /* its entry's byte offset in the DLQ file */
} sl_replay_link;

typedef struct sl_replay {
    const char *origin;      /* the DLQ file's path */
    uint64_t file_id;        /* its identity, as in sl_position */
    const sl_replay_link *links;
    uint32_t n;
} sl_replay;

typedef struct sl_batch {
    uint64_t seq;            /* per-source sequence number, 0, 1, 2, ... */
    int source;              /* index of the source in the pipeline */
    const char *origin;      /* file path or source description, for the DLQ;
                                owned by the source and valid for its lifetime */
    const struct sl_format *format;   /* how to decode the frames */
    const void *stream;      /* per-stream decoder context (CSV header), owned by
                                the source, valid for the pipeline's lifetime */
    const sl_replay *replay; /* records replayed from a DLQ, else NULL (in the arena) */
    char *data;              /* input bytes, with SL_BUF_PADDING spare bytes */
    size_t data_len, data_cap;
    sl_record *records;
    uint32_t count, cap;
    size_t input_bytes;      /* bytes of input this batch represents */
    size_t accounted;        /* bytes charged to the memory budget */
    /* Builds r->value_ (in the arena) from r's frame, for records left
     * unbuilt (sl_record_leave_unbuilt); set by whoever leaves them so. */
    void (*build)(struct sl_batch *b, sl_record *r);
    sl_arena arena;
} sl_batch;

/* A batch with room for data_cap input bytes (plus padding) and cap records. */
sl_batch *sl_batch_new(size_t data_cap, uint32_t cap);
void sl_batch_free(sl_batch *b);
/* Appends a frame (already copied into b->data at [off, off+len)). */
sl_record *sl_batch_add_frame(sl_batch *b, size_t off, size_t len, sl_position pos);
/* Copies bytes into b->data (growing it) and appends them as a frame. */
sl_record *sl_batch_add_bytes(sl_batch *b, const char *p, size_t len, sl_position pos);
/* Leaves r's value to be built on first read, by b->build. */
static inline void sl_record_leave_unbuilt(sl_batch *b, sl_record *r) { r->unbuilt_ = b; }
/* Appends an already-built record value (no frame). */
sl_record *sl_batch_add_record(sl_batch *b, sl_value v, sl_position pos);

#endif
