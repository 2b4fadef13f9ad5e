/* worker.c — the transform workers: decode, transform and encode one whole
 * batch at a time.
 *
 * For each batch a worker
 *   1. decodes every frame into a record in the batch's arena (decode errors
 *      go to the DLQ attributed to the source; blank frames are skipped), or
 *      only checks it when nothing downstream reads fields (lazy_decode.h),
 *   2. runs the vertices in topological order: a vertex's input is the
 *      concatenation of what its inputs emitted for this batch, and vertices
 *      that received nothing are skipped,
 *   3. encodes what reached each sink into a payload that owns its bytes
 *      (a JSON Lines record nothing wrote to since step 1 is not encoded:
 *      its frame is copied, see frame_is_json_line and batch.h),
 *   4. frees the batch (and so every record) and deposits the payloads with
 *      the sequencer.
 * Records therefore never leave the worker's thread. The lists that carry
 * records between vertices are per-worker and reused, so the steady state
 * allocates nothing per record outside the batch arena. Metrics are bumped
 * once per component per batch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/format.h"
#include "../codec/json.h"
#include "../core/util.h"
#include "pipeline_internal.h"

typedef struct rec_list {
    sl_record **items;
    size_t n, cap;
} rec_list;

struct sl_worker {
    sl_pipeline *p;
    void **wstate;          /* per component, from worker_init (or NULL) */
    rec_list *slots;        /* per output slot: what its vertex emitted */
    rec_list *clones;       /* per edge: copies for consumers after the first */
    rec_list gather;        /* inputs of a vertex with several input edges */
    sl_record **seen;       /* pointer set for records emitted twice */
    size_t seen_cap;
    sl_buf scratch;         /* JSON of a record without raw bytes, for the DLQ */
};

struct sl_emit {
    sl_worker *w;
    sl_batch *b;
    sl_component *c;
    rec_list *outs;         /* the component's output slots; NULL for sinks */
    int n_outs;
};

static void list_push(rec_list *l, sl_record *r)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        if (!l->items) abort();
    }
    l->items[l->n++] = r;
}

sl_worker *sl_worker_new(sl_pipeline *p, sl_error *err)
{
    sl_worker *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->p = p;
    w->wstate = calloc((size_t)p->n_comps, sizeof *w->wstate);
    w->slots = calloc((size_t)p->n_slots + 1, sizeof *w->slots);
    w->clones = calloc(p->graph.n_edges + 1, sizeof *w->clones);
    if (!w->wstate || !w->slots || !w->clones) abort();
    sl_buf_init(&w->scratch);
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (!c->type->worker_init) continue;
        w->wstate[i] = c->type->worker_init(c, err);
        if (!w->wstate[i]) {
            sl_error_prefix(err, "%s '%s'", sl_kind_name(c->kind), c->name);
            sl_worker_free(w);
            return NULL;
        }
    }
    return w;
}

void sl_worker_free(sl_worker *w)
{
    if (!w) return;
    sl_pipeline *p = w->p;
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (w->wstate[i] && c->type->worker_free) c->type->worker_free(c, w->wstate[i]);
    }
    for (int s = 0; s < p->n_slots; s++) free(w->slots[s].items);
    for (size_t e = 0; e < p->graph.n_edges; e++) free(w->clones[e].items);
    free(w->gather.items);
    free(w->seen);
    sl_buf_free(&w->scratch);
    free(w->wstate);
    free(w->slots);
    free(w->clones);
    free(w);
}

/* ---- the DLQ, from a worker ---- */

/* For a record a `dlq` source replayed: the position of its entry in the
 * DLQ file, found by its frame (copies of the record share it). */
static bool replayed_from(const sl_batch *b, const sl_record *r, sl_position *pos)
{
    if (!b->replay || !r->raw || r->raw < b->data || r->raw >= b->data + b->data_len) return false;
    uint64_t frame = (uint64_t)(r->raw - b->data);
    for (uint32_t i = 0; i < b->replay->n; i++) {
        if (b->replay->links[i].frame == frame) {
            *pos = (sl_position){b->replay->file_id, b->replay->links[i].offset};
            return true;
        }
    }
    return false;
}

static void send_to_dlq(sl_worker *w, sl_batch *b, sl_component *c, const sl_record *r,
                        const char *reason, const char *msg)
{
    sl_pipeline *p = w->p;
    sl_dlq_entry e = {
        .component = c->name,
        .metrics = c->metrics,
        .source = p->comps[b->source].name,
        .origin = b->origin,
        .pos = r->pos,
        .reason = reason,
        .message = msg,
        .raw = r->raw,
        .raw_len = r->raw_len,
    };
    if (replayed_from(b, r, &e.replay_pos)) e.replay_origin = b->replay->origin;
    if (!r->raw) {      /* built by the source, not decoded: keep its JSON */
        w->scratch.len = 0;
        sl_json_encode(&w->scratch, sl_record_value(r));
        e.raw = w->scratch.data;
        e.raw_len = w->scratch.len;
    }
    sl_error err;
    if (sl_dlq_write(p->dlq, &e, &err) < 0) sl_pipeline_fail(p, "%s", err.msg);
}

void sl_emit_record(sl_emit *e, int output, sl_record *r)
{
    if (output < 0 || output >= e->n_outs) {
        fprintf(stderr, "sluice: internal error: %s '%s' emitted to output %d of %d\n",
                sl_kind_name(e->c->kind), e->c->name, output, e->n_outs);
        abort();
    }
    list_push(&e->outs[output], r);
}

void sl_emit_dlq(sl_emit *e, sl_record *r, const char *reason, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    send_to_dlq(e->w, e->b, e->c, r, reason, msg);
}

void sl_emit_fail(sl_emit *e, const char *fmt, ...)
{
    char msg[SL_ERROR_MAX - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_pipeline_fail(e->w->p, "%s '%s': %s", sl_kind_name(e->c->kind), e->c->name, msg);
}

const char *sl_emit_source_name(const sl_emit *e)
{
    return e->w->p->comps[e->b->source].name;
}

/* ---- the dataflow ---- */

static sl_record *clone_record(sl_batch *b, const sl_record *r)
{
    sl_record *copy = sl_arena_alloc(&b->arena, sizeof *copy);
    const sl_value *v = sl_record_value(r);   /* built first, so the copy is too */
    *copy = *r;   /* an unchanged record's copy is unchanged too: raw_json stays */
    copy->value_ = sl_value_clone(&b->arena, v);
    return copy;
}

/* The records edge e carries for this batch. */
static rec_list *edge_list(sl_worker *w, int e)
{
    const sl_edge *edge = &w->p->graph.edges[e];
    int slot = w->p->vplan[edge->from].slot + edge->from_output;
    const sl_slot_plan *sp = &w->p->splan[slot];
    return sp->shared || sp->edges[0] == e ? &w->slots[slot] : &w->clones[e];
}

/* After vertex v ran: copies each of its outputs for every consumer but the
 * first, before any consumer can change the records in place (outputs read
 * by sinks only are shared). */
static void fan_out(sl_worker *w, int v, sl_batch *b)
{
    const sl_vertex_plan *vp = &w->p->vplan[v];
    for (int o = 0; o < vp->n_outputs; o++) {
        const sl_slot_plan *sp = &w->p->splan[vp->slot + o];
        const rec_list *src = &w->slots[vp->slot + o];
        for (int k = 1; k < sp->n_edges && !sp->shared; k++) {
            rec_list *dst = &w->clones[sp->edges[k]];
            for (size_t i = 0; i < src->n; i++) list_push(dst, clone_record(b, src->items[i]));
        }
    }
}

/* A transform with several outputs may emit one record to more than one of
 * them; when a transform reads one of those outputs, every emission after
 * the first becomes a clone, so no two consumers share a record. */
static void separate_duplicates(sl_worker *w, int v, sl_batch *b, size_t total)
{
    const sl_vertex_plan *vp = &w->p->vplan[v];
    size_t cap = 64;
    unsigned bits = 6;
    while (cap < total * 2) {
        cap *= 2;
        bits++;
    }
    if (cap > w->seen_cap) {
        free(w->seen);
        w->seen = malloc(cap * sizeof *w->seen);
        if (!w->seen) abort();
        w->seen_cap = cap;
    }
    memset(w->seen, 0, cap * sizeof *w->seen);
    for (int o = 0; o < vp->n_outputs; o++) {
        rec_list *l = &w->slots[vp->slot + o];
        for (size_t i = 0; i < l->n; i++) {
            size_t h = (size_t)(((uint64_t)(uintptr_t)l->items[i] * 0x9E3779B97F4A7C15ull) >> (64 - bits));
            while (w->seen[h] && w->seen[h] != l->items[i]) h = (h + 1) & (cap - 1);
            if (w->seen[h]) l->items[i] = clone_record(b, l->items[i]);
            else w->seen[h] = l->items[i];
        }
    }
}

/* The inputs of vertex v for this batch. */
static sl_record **gather_inputs(sl_worker *w, int v, size_t *n)
{
    const sl_vertex_plan *vp = &w->p->vplan[v];
    if (vp->n_in_edges == 1) {
        rec_list *l = edge_list(w, vp->in_edges[0]);
        *n = l->n;
        return l->items;
    }
    w->gather.n = 0;
    for (int k = 0; k < vp->n_in_edges; k++) {
        rec_list *l = edge_list(w, vp->in_edges[k]);
        for (size_t i = 0; i < l->n; i++) list_push(&w->gather, l->items[i]);
    }
    *n = w->gather.n;
    return w->gather.items;
}

/* Whether a record just decoded, its value with these flags, may be
 * written from its frame as it came while nothing changes it: a JSON Lines
 * frame in which no key repeats (decoding merged those, so the text says
 * more than the value). Whether the frame is one object on one line is
 * checked at the sink (sl_record_json_text). */
static bool frame_is_json_line(const sl_batch *b, uint8_t flags)
{
    return b->format->kind == SL_FORMAT_JSONL && !(flags & SL_VF_DUPLICATE_KEYS);
}

static void decode(sl_worker *w, sl_batch *b)
{
    sl_component *c = &w->p->comps[b->source];
    rec_list *out = &w->slots[w->p->vplan[b->source].slot];
    bool check_only = w->p->vplan[b->source].check_only;
    int64_t t0 = sl_monotonic_ns();
    uint32_t blank = 0;
    for (uint32_t i = 0; i < b->count; i++) {
        sl_record *r = &b->records[i];
        if (b->format && r->raw) {
            sl_decode_error derr = {0};
            uint8_t flags = 0;
            int rc = sl_lazy_decode(b, r, check_only, &flags, &derr);
            if (rc == 1) {
                blank++;
                continue;
            }
            if (rc < 0) {
                send_to_dlq(w, b, c, r, derr.reason ? derr.reason : "decode", derr.msg);
                continue;
            }
            r->raw_json = frame_is_json_line(b, flags);
        }
        list_push(out, r);
    }
    sl_metrics_received(c->metrics, b->count - blank, b->input_bytes ? b->input_bytes : b->data_len);
    sl_metrics_sent(c->metrics, out->n, 0);
    sl_metrics_latency(c->metrics, (uint64_t)(sl_monotonic_ns() - t0));
}

static void transform(sl_worker *w, int v, sl_batch *b, sl_record **recs, size_t n)
{
    sl_component *c = &w->p->comps[v];
    const sl_vertex_plan *vp = &w->p->vplan[v];
    sl_emit e = { .w = w, .b = b, .c = c, .outs = &w->slots[vp->slot], .n_outs = vp->n_outputs };
    int64_t t0 = sl_monotonic_ns();
    c->type->process(c, w->wstate[v], b, recs, n, &e);
    int64_t t1 = sl_monotonic_ns();
    size_t sent = 0;
    for (int o = 0; o < vp->n_outputs; o++) sent += w->slots[vp->slot + o].n;
    if (vp->separate && sent > 1) separate_duplicates(w, v, b, sent);
    sl_metrics_received(c->metrics, n, 0);
    sl_metrics_sent(c->metrics, sent, 0);
    sl_metrics_latency(c->metrics, (uint64_t)(t1 - t0));
}

/* Encodes for sink vertex v; returns the item to queue, or NULL if empty. */
static sl_sink_item *encode(sl_worker *w, int v, sl_batch *b, sl_record **recs, size_t n)
{
    sl_component *c = &w->p->comps[v];
    sl_sink_item *item = calloc(1, sizeof *item);
    if (!item) abort();
    sl_emit e = { .w = w, .b = b, .c = c, .outs = NULL, .n_outs = 0 };
    int64_t t0 = sl_monotonic_ns();
    c->type->encode(c, w->wstate[v], b, recs, n, &item->payload, &e);
    sl_metrics_received(c->metrics, n, 0);
    sl_metrics_latency(c->metrics, (uint64_t)(sl_monotonic_ns() - t0));

    sl_payload *pl = &item->payload;
    pl->records = pl->bytes = 0;
    size_t overhead = sizeof *item + pl->cap * sizeof *pl->parts;
    for (size_t i = 0; i < pl->count; i++) {
        pl->records += pl->parts[i].records;
        pl->bytes += pl->parts[i].data.len;
        overhead += pl->parts[i].data.cap + SL_BUF_PADDING + (pl->parts[i].key ? strlen(pl->parts[i].key) + 1 : 0);
    }
    if (pl->records == 0 && pl->bytes == 0) {
        sl_payload_free(pl);
        free(item);
        return NULL;
    }
    item->charge = overhead;
    return item;
}

static void process_batch(sl_worker *w, sl_batch *b)
{
    sl_pipeline *p = w->p;
    for (int s = 0; s < p->n_slots; s++) w->slots[s].n = 0;
    for (size_t e = 0; e < p->graph.n_edges; e++) w->clones[e].n = 0;

    sl_batch_result *result = calloc(1, sizeof *result + (size_t)p->n_sinks * sizeof result->items[0]);
    if (!result) abort();
    result->seq = b->seq;

    decode(w, b);
    fan_out(w, b->source, b);
    uint64_t charged = 0;
    for (size_t k = 0; k < p->graph.n_order; k++) {
        int v = p->graph.order[k];
        if (p->comps[v].kind == SL_SOURCE) continue;
        size_t n;
        sl_record **recs = gather_inputs(w, v, &n);
        if (n == 0 && !(p->comps[v].kind == SL_TRANSFORM && p->comps[v].type->ordered)) continue;
        if (p->comps[v].kind == SL_TRANSFORM) {
            transform(w, v, b, recs, n);
            fan_out(w, v, b);
        } else {
            sl_sink_item *item = encode(w, v, b, recs, n);
            result->items[p->vplan[v].sink] = item;
            if (item) charged += item->charge;
        }
    }

    /* The batch's charge was an estimate that included its output: hand
     * that part to the payloads and settle the difference. */
    if (charged <= b->accounted) sl_budget_release(&p->budget, b->accounted - charged);
    else sl_budget_force(&p->budget, charged - b->accounted);
    sl_source_ctx *src = &p->sources[p->vplan[b->source].source];
    sl_batch_free(b);
    long items = 0;
    for (int k = 0; k < p->n_sinks; k++) items += result->items[k] != NULL;
    sl_inflight_add(p, items - 1);
    sl_sequencer_deliver(p, src, result);
}

void *sl_worker_main(void *arg)
{
    sl_worker *w = arg;
    void *item;
    while (sl_queue_pop(w->p->batches, -1, &item, NULL) == 1) process_batch(w, item);
    return NULL;
}
