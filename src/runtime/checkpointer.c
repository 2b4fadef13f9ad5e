/* checkpointer.c — consistent checkpoints of a running pipeline, and
 * resuming from the last one (docs/delivery.md).
 *
 * A checkpoint is one cut through the pipeline: every source's position, the
 * state of every stateful transform and the output every sink pre-committed,
 * all covering exactly the same records. It is taken on the main thread,
 * every `checkpoint.interval` and once more at the end of a run:
 *
 *  1. barrier: sources park at their next checkpoint point (inside
 *     sl_source_submit after queueing a batch, or where they wait for input);
 *  2. drain: wait until every submitted batch has been processed and every
 *     sink item written (`in_flight` counts batches and sink items);
 *  3. save sources and transforms (nothing runs), note the DLQ's size, and
 *     queue a marker to every sink; then the sources resume at once;
 *  4. each sink thread meets its marker after exactly the records of the cut
 *     and pre-commits (save: its output becomes durable, not yet visible);
 *  5. fsync the DLQ, write the checkpoint file (atomic, checksummed, two
 *     generations: core/checkpoint.h), then let every component commit
 *     (sinks publish what they pre-committed).
 * Only steps 1–3 stop the pipeline, for the time it takes to drain what is
 * in flight; durability (fsyncs) happens while records flow again.
 *
 * Resuming (sl_checkpoints_start, before the threads start): the last
 * checkpoint's state goes back into every component through restore, and the
 * DLQ is cut back to its size then, so records read again after a crash are
 * neither lost nor written twice. Then a checkpoint of the starting point is
 * written at once, so that a crash before the first interval resumes from it.
 * A checkpoint some component cannot read its state in is refused like a
 * damaged one: the caller builds the pipeline again and it resumes from the
 * generation before (sl_pipeline_resume). Sinks are restored last, so a
 * source or transform refusing leaves the output untouched.
 *
 * When a source cannot resume (stdin without its log), or a sink cannot
 * continue its output (it has no save hook), or checkpoint.enabled is false, only the sinks' part of the cycle runs,
 * without a pause, so that they publish their output periodically; nothing
 * is saved, written or restored, and an interrupted run starts over.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/checkpoint.h"
#include "../core/crc32c.h"
#include "../core/dir_lock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "pipeline_internal.h"

#define DOC_VERSION 1
#define BARRIER_TIMEOUT_MS 10000   /* longest a checkpoint waits for the pipeline to pause */

const char *sl_checkpoint_blocker(const sl_component *c)
{
    if (c->kind == SL_TRANSFORM) return NULL;
    if (c->cannot_resume) return c->cannot_resume;
    if (c->type->save) return NULL;
    return c->kind == SL_SOURCE ? "its type cannot save a position to resume from"
                                : "its type cannot continue its output from a checkpoint";
}

/* The first source or sink that cannot take part in checkpoints, or NULL. */
static const sl_component *cannot_resume(const sl_pipeline *p)
{
    for (int i = 0; i < p->n_comps; i++)
        if (sl_checkpoint_blocker(&p->comps[i])) return &p->comps[i];
    return NULL;
}

/* The marker queued to sink threads: never a real item. */
static char marker;
void *const sl_checkpoint_marker = &marker;

struct sl_checkpointer {
    bool enabled;            /* checkpoint.enabled */
    bool durable;            /* enabled, and every source can resume */
    char *dir;               /* data_dir */
    char *pipeline_file;     /* the pipeline file's real path, recorded in checkpoints */
    int lock_fd;             /* data_dir's lock, held while the pipeline exists (dir_lock.h) */
    uint64_t resumed_epoch;  /* the checkpoint this run resumed from */
    char resumed_time[48];   /* its time, or "" when the run did not resume */
    uint64_t interval_ms;
    int64_t next_ns;         /* monotonic time of the next checkpoint */
    uint64_t epoch;
    sl_buf *states;          /* per component: what its save wrote this cycle */
    bool *saved;             /* per component: save succeeded this cycle */
    int sinks_pending;       /* sinks that have not met the marker (under p->lock) */
    /* metrics, read by the API thread */
    _Atomic uint64_t taken, failed, last_duration_us;
    uint64_t unusable;       /* generations found unusable at the start, set before the API starts */
    _Atomic int64_t last_success_s;   /* wall clock seconds, 0 = never */
};

/* ---- the pieces the other threads call ---- */

bool sl_source_checkpoints_durable(sl_source_ctx *ctx)
{
    return ctx->p->ckpt && ctx->p->ckpt->durable;
}

void sl_source_checkpoint_point(sl_source_ctx *ctx)
{
    sl_pipeline *p = ctx->p;
    if (!atomic_load(&p->barrier)) return;
    pthread_mutex_lock(&p->lock);
    if (atomic_load(&p->barrier)) {
        p->sources_parked++;
        pthread_cond_broadcast(&p->changed);
        while (atomic_load(&p->barrier)) pthread_cond_wait(&p->changed, &p->lock);
        p->sources_parked--;
    }
    pthread_mutex_unlock(&p->lock);
}

void sl_inflight_add(sl_pipeline *p, long delta)
{
    long now = atomic_fetch_add(&p->in_flight, delta) + delta;
    if (now == 0 && atomic_load(&p->barrier)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
    }
}

/* A sink's pre-commit: flush, then save. On the sink thread at its marker, or
 * on the main thread at the end of the run (the sink thread has ended).
 * Without durable checkpoints only sinks that publish at commit need it (a
 * sink that appends would only fsync for nothing). */
static bool save_sink(sl_pipeline *p, sl_sink_rt *s)
{
    sl_checkpointer *k = p->ckpt;
    sl_component *c = s->c;
    sl_error err = {0};
    sl_buf *state = &k->states[c->index];
    state->len = 0;
    k->saved[c->index] = false;
    if (!k->durable && !c->publishes) return true;
    if (c->type->flush && c->type->flush(c, &err) < 0) {
        sl_pipeline_fail(p, "sink '%s': %s", c->name, err.msg);
        return false;
    }
    if (c->type->save && sl_sink_save(s, state, &err) < 0) {
        sl_pipeline_fail(p, "sink '%s': cannot pre-commit for a checkpoint: %s", c->name, err.msg);
        return false;
    }
    k->saved[c->index] = c->type->save != NULL;
    return true;
}

bool sl_checkpoint_sink_marker(sl_sink_rt *s, bool ok)
{
    sl_pipeline *p = s->p;
    if (ok) ok = save_sink(p, s);
    pthread_mutex_lock(&p->lock);
    p->ckpt->sinks_pending--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return ok;
}

/* ---- taking a checkpoint ---- */

static bool save_component(sl_pipeline *p, sl_component *c)
{
    sl_checkpointer *k = p->ckpt;
    sl_error err = {0};
    k->states[c->index].len = 0;
    k->saved[c->index] = false;
    if (!c->type->save) return true;
    if (c->type->save(c, &k->states[c->index], &err) < 0) {
        sl_pipeline_fail(p, "%s '%s': cannot save its state for a checkpoint: %s", sl_kind_name(c->kind),
                         c->name, err.msg);
        return false;
    }
    k->saved[c->index] = true;
    return true;
}

static void put_time(sl_buf *b)
{
    char ts[40];
    sl_format_rfc3339(ts, sl_now_ns());
    sl_buf_printf(b, "\"%s\"", ts);
}

static void compose(sl_pipeline *p, const sl_dlq_mark *dlq, sl_buf *doc)
{
    sl_checkpointer *k = p->ckpt;
    sl_buf_printf(doc, "{\"sluice_checkpoint\":%d,\"epoch\":%" PRIu64 ",\"time\":", DOC_VERSION, k->epoch);
    put_time(doc);
    sl_buf_puts(doc, ",\"pipeline\":");
    sl_json_encode_string(doc, k->pipeline_file, strlen(k->pipeline_file));
    sl_buf_printf(doc, ",\"dlq\":{\"size\":%" PRIu64 ",\"raw_size\":%" PRIu64 "},\"components\":{", dlq->size,
                  dlq->raw_size);
    bool first = true;
    for (int i = 0; i < p->n_comps; i++) {
        if (!k->saved[i]) continue;
        sl_component *c = &p->comps[i];
        if (!first) sl_buf_putc(doc, ',');
        first = false;
        sl_json_encode_string(doc, c->name, strlen(c->name));
        sl_buf_puts(doc, ":{\"type\":");
        sl_json_encode_string(doc, c->type->name, strlen(c->type->name));
        sl_buf_printf(doc, ",\"kind\":\"%s\",\"state\":", sl_kind_name(c->kind));
        sl_buf_append(doc, k->states[i].data, k->states[i].len);
        sl_buf_putc(doc, '}');
    }
    sl_buf_puts(doc, "}}");
}

/* Waits a second after a full disk, unless the pipeline must end now (a
 * second signal exits the process anyway). Logs once per wait. */
static bool wait_for_space(sl_pipeline *p, const char *what, const sl_error *err, bool *logged)
{
    pthread_mutex_lock(&p->lock);   /* p->failed is written under it */
    bool failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    if (!sl_error_disk_full(err) || failed) return false;
    if (!*logged)
        sl_warn("checkpoint", "disk full %s (%s); retrying every second until space is freed", what, err->msg);
    *logged = true;
    struct timespec one_second = {1, 0};
    nanosleep(&one_second, NULL);
    return true;
}

/* Step 5: make the cut durable, then commit. A full disk is waited out
 * when `must_write` (the last checkpoint of a run: there is no later one)
 * and while committing (publishing is idempotent and must finish, or the
 * published output falls behind the checkpoint). Returns false on failure
 * (the pipeline has failed). */
static bool make_durable_and_commit(sl_pipeline *p, const sl_dlq_mark *dlq, int64_t t0, bool must_write)
{
    sl_checkpointer *k = p->ckpt;
    sl_error err = {0};
    bool logged = false;
    if (k->durable) {
        if (sl_dlq_sync(p->dlq, &err) < 0) {
            sl_pipeline_fail(p, "checkpoint: %s", err.msg);
            return false;
        }
        sl_buf doc;
        sl_buf_init(&doc);
        compose(p, dlq, &doc);
        int rc;
        while ((rc = sl_checkpoint_write(k->dir, doc.data, doc.len, &err)) < 0 && must_write &&
               wait_for_space(p, "writing the checkpoint", &err, &logged)) {}
        sl_buf_free(&doc);
        if (rc < 0 && must_write) {
            sl_pipeline_fail(p, "cannot write the last checkpoint: %s", err.msg);
            return false;
        }
        if (rc < 0) {
            /* The previous checkpoint still stands: nothing is published
             * (it would get ahead of what a restart resumes from). */
            atomic_fetch_add(&k->failed, 1);
            sl_warn("checkpoint", "cannot write checkpoint %" PRIu64 ": %s; will retry", k->epoch, err.msg);
            return true;
        }
    }
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        if (!k->saved[i] || !c->type->commit) continue;
        int rc;
        while ((rc = c->type->commit(c, k->states[i].data, k->states[i].len, &err)) < 0 &&
               wait_for_space(p, "publishing output", &err, &logged)) {}
        if (rc < 0) {
            sl_pipeline_fail(p, "%s '%s': cannot commit checkpoint %" PRIu64 ": %s", sl_kind_name(c->kind),
                             c->name, k->epoch, err.msg);
            return false;
        }
    }
    atomic_fetch_add(&k->taken, 1);
    atomic_store(&k->last_duration_us, (uint64_t)(sl_monotonic_ns() - t0) / 1000);
    atomic_store(&k->last_success_s, (int64_t)(sl_now_ns() / 1000000000));
    sl_debug("checkpoint", "checkpoint %" PRIu64 " %s in %.1f ms", k->epoch, k->durable ? "written" : "published",
             (double)(sl_monotonic_ns() - t0) / 1e6);
    k->epoch++;
    return true;
}

/* Step 3 (durable checkpoints only): sources and transforms save their
 * state and the DLQ's size is noted. Returns false when that failed (the
 * pipeline has failed). */
static bool save_cut(sl_pipeline *p, sl_dlq_mark *dlq)
{
    sl_checkpointer *k = p->ckpt;
    *dlq = (sl_dlq_mark){0};
    if (!k->durable) return true;
    for (int i = 0; i < p->n_comps; i++)
        if (p->comps[i].kind != SL_SINK && !save_component(p, &p->comps[i])) return false;
    sl_error err = {0};
    if (sl_dlq_checkpoint(p->dlq, dlq, &err) < 0) {
        sl_pipeline_fail(p, "checkpoint: %s", err.msg);
        return false;
    }
    return true;
}

static void end_barrier(sl_pipeline *p)
{
    atomic_store(&p->barrier, false);
    pthread_cond_broadcast(&p->changed);
}

/* Steps 1–5 while the pipeline runs. Without durable checkpoints only the
 * sinks' part is needed (publishing what they wrote), and no cut: no pause,
 * no state saved. */
static void take_running(sl_pipeline *p)
{
    sl_checkpointer *k = p->ckpt;
    int64_t t0 = sl_monotonic_ns();
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->barrier, k->durable);
    while (k->durable) {
        if (atomic_load(&p->stopping) || p->failed) {   /* the final checkpoint will do */
            end_barrier(p);
            pthread_mutex_unlock(&p->lock);
            return;
        }
        if (p->sources_parked == p->sources_running && atomic_load(&p->in_flight) == 0) break;
        if (sl_monotonic_ns() - t0 > BARRIER_TIMEOUT_MS * 1000000LL) {
            /* A source blocked in a read that never ends, or a sink that
             * keeps failing: let the pipeline go on and try again later. */
            atomic_fetch_add(&k->failed, 1);
            sl_warn("checkpoint", "checkpoint %" PRIu64 " skipped: after %d s, %d of %d sources reached a "
                    "checkpoint point and %ld batches or payloads were still in flight", k->epoch,
                    BARRIER_TIMEOUT_MS / 1000, p->sources_parked, p->sources_running, atomic_load(&p->in_flight));
            end_barrier(p);
            pthread_mutex_unlock(&p->lock);
            return;
        }
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += 100 * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->changed, &p->lock, &deadline);
    }
    pthread_mutex_unlock(&p->lock);

    sl_dlq_mark dlq;
    bool ok = save_cut(p, &dlq);
    pthread_mutex_lock(&p->lock);
    k->sinks_pending = 0;
    for (int i = 0; i < p->n_sinks && ok; i++) {
        if (sl_queue_push(p->sinks[i].queue, sl_checkpoint_marker, 0) == 0) k->sinks_pending++;
        else ok = false;   /* closed: the pipeline failed */
    }
    end_barrier(p);
    while (ok && k->sinks_pending > 0 && !p->failed) pthread_cond_wait(&p->changed, &p->lock);
    ok = ok && !p->failed;
    pthread_mutex_unlock(&p->lock);
    if (ok) make_durable_and_commit(p, &dlq, t0, false);
}

/* The end of a run: every thread has ended, so everything is saved here. */
static void take_final(sl_pipeline *p)
{
    int64_t t0 = sl_monotonic_ns();
    sl_dlq_mark dlq;
    if (!save_cut(p, &dlq)) return;
    for (int i = 0; i < p->n_sinks; i++)
        if (!save_sink(p, &p->sinks[i])) return;
    make_durable_and_commit(p, &dlq, t0, true);
}

void sl_checkpoints_tick(sl_pipeline *p)
{
    sl_checkpointer *k = p->ckpt;
    if (!k || sl_monotonic_ns() < k->next_ns) return;
    take_running(p);
    k->next_ns = sl_monotonic_ns() + (int64_t)k->interval_ms * 1000000;
}

int64_t sl_checkpoints_wait_ms(sl_pipeline *p, int64_t max_ms)
{
    sl_checkpointer *k = p->ckpt;
    if (!k) return max_ms;
    int64_t ms = (k->next_ns - sl_monotonic_ns()) / 1000000;
    return ms < 0 ? 0 : ms < max_ms ? ms : max_ms;
}

void sl_checkpoints_finish(sl_pipeline *p)
{
    sl_checkpointer *k = p->ckpt;
    if (!k) return;
    pthread_mutex_lock(&p->lock);
    bool failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    /* After a failure a durable run resumes from the last checkpoint;
     * without one, what was written is published rather than lost. */
    if (failed && k->durable) return;
    take_final(p);
}

/* ---- starting: restore ---- */

/* Restores one component; on failure err says why, without naming it, and
 * *unreadable whether its saved state could be to blame: there was one and
 * no system call failed (a lock held by another run, a full disk). */
static int restore_one(sl_component *c, const sl_value *entry, bool *unreadable, sl_error *err)
{
    *unreadable = false;
    if (!c->type->restore) return 0;
    const sl_value *type = sl_state_get(entry, "type"), *state = sl_state_get(entry, "state");
    if (entry && (!type || type->type != SL_STRING || !state)) {
        sl_warn(c->name, "its entry in the checkpoint is malformed; starting it without saved state");
        entry = NULL;
    } else if (entry && (type->len != strlen(c->type->name) || memcmp(type->as.s, c->type->name, type->len) != 0)) {
        sl_warn(c->name, "was a '%.*s' when the checkpoint was taken and is a '%s' now; starting it "
                "without saved state", (int)type->len, type->as.s, c->type->name);
        entry = NULL;
    }
    int rc;
    if (!entry) {
        rc = c->type->restore(c, NULL, 0, err);
    } else {
        sl_buf text;
        sl_buf_init(&text);
        sl_json_encode(&text, state);
        err->sys_errno = 0;
        rc = c->type->restore(c, text.data, text.len, err);
        sl_buf_free(&text);
        *unreadable = rc < 0 && err->sys_errno == 0;
    }
    return rc;
}

/* A checkpoint document, parsed. */
typedef struct ckpt_doc {
    sl_value root;
    const sl_value *components;   /* name -> {type, kind, state} */
    uint64_t epoch;
} ckpt_doc;

/* Parses a checkpoint document; false, with why, when it is not one this
 * version of sluice can resume from. */
static bool parse_doc(sl_arena *a, const char *data, size_t len, ckpt_doc *d, char *why, size_t cap)
{
    sl_error err = {0};
    uint64_t version = 0;
    if (sl_state_parse(a, data, len, "the document", &d->root, &err) < 0) {
        snprintf(why, cap, "malformed (%.120s)", err.msg);
        return false;
    }
    if (!sl_state_uint(&d->root, "sluice_checkpoint", &version) || version != DOC_VERSION) {
        snprintf(why, cap, "not a checkpoint this version of sluice understands");
        return false;
    }
    d->components = sl_state_get(&d->root, "components");
    if (!sl_state_uint(&d->root, "epoch", &d->epoch) || !d->components || d->components->type != SL_MAP) {
        snprintf(why, cap, "malformed (no epoch or components)");
        return false;
    }
    for (uint32_t i = 0; i < d->components->len; i++) {
        const sl_field *f = &d->components->as.fields[i];
        const sl_value *type = sl_state_get(&f->value, "type"), *kind = sl_state_get(&f->value, "kind");
        if (!type || type->type != SL_STRING || !kind || kind->type != SL_STRING || !sl_state_get(&f->value, "state")) {
            snprintf(why, cap, "malformed (the entry of '%.*s')", (int)(f->key_len > 60 ? 60 : f->key_len), f->key);
            return false;
        }
    }
    return true;
}

/* sl_checkpoint_check: arg is the sl_refused_checkpoints, or NULL. */
static bool check_doc(const sl_buf *doc, void *arg, char *why, size_t cap)
{
    const sl_refused_checkpoints *refused = arg;
    for (int i = 0; refused && i < refused->n; i++)
        if (refused->gen[i].len == doc->len && refused->gen[i].crc == sl_crc32c(0, doc->data, doc->len)) {
            snprintf(why, cap, "%s", refused->gen[i].why);
            return false;
        }
    return sl_checkpoint_doc_check(doc->data, doc->len, why, cap);
}

bool sl_checkpoint_doc_check(const char *data, size_t len, char *why, size_t cap)
{
    sl_arena a;
    sl_arena_init(&a, 16384);
    ckpt_doc d;
    bool ok = parse_doc(&a, data, len, &d, why, cap);
    sl_arena_free(&a);
    return ok;
}


/* Appends to out the sources and sinks that are in the checkpoint and not
 * in the pipeline (same name, kind and type), and those of the pipeline
 * that would be in it and are not. Returns how many differ. */
static int differences(const sl_pipeline *p, const sl_value *components, sl_buf *out)
{
    int n = 0;
    for (uint32_t i = 0; i < components->len; i++) {
        const sl_field *f = &components->as.fields[i];
        const sl_value *kind = sl_state_get(&f->value, "kind"), *type = sl_state_get(&f->value, "type");
        if (sl_value_is_str(kind, "transform")) continue;
        bool found = false;
        for (int c = 0; c < p->n_comps && !found; c++)
            found = strlen(p->comps[c].name) == f->key_len && memcmp(p->comps[c].name, f->key, f->key_len) == 0 &&
                    sl_value_is_str(kind, sl_kind_name(p->comps[c].kind)) && sl_value_is_str(type, p->comps[c].type->name);
        if (found) continue;
        sl_buf_printf(out, "%s%.*s '%.*s' (%.*s) only in the checkpoint", n++ ? ", " : "", (int)kind->len,
                      kind->as.s, (int)f->key_len, f->key, (int)type->len, type->as.s);
    }
    for (int c = 0; c < p->n_comps; c++) {
        const sl_component *comp = &p->comps[c];
        if (comp->kind == SL_TRANSFORM || !comp->type->save) continue;
        const sl_value *entry = sl_state_get(components, comp->name);
        if (entry && sl_value_is_str(sl_state_get(entry, "type"), comp->type->name)) continue;
        sl_buf_printf(out, "%s%s '%s' (%s) only in this pipeline", n++ ? ", " : "", sl_kind_name(comp->kind),
                      comp->name, comp->type->name);
    }
    sl_buf_putc(out, '\0');
    return n;
}

/* Whether the checkpoint belongs to this pipeline: one written for another
 * pipeline file with other sources or sinks is refused (resuming it would
 * read from its positions and publish its output); an edited pipeline is
 * resumed, saying what changed. */
static int check_owner(const sl_pipeline *p, const ckpt_doc *d, sl_error *err)
{
    sl_checkpointer *k = p->ckpt;
    sl_arena a;
    sl_arena_init(&a, 1024);
    const char *owner = sl_state_string(&a, &d->root, "pipeline");
    sl_buf diff;
    sl_buf_init(&diff);
    int n = differences(p, d->components, &diff);
    int rc = 0;
    bool same_file = !owner || strcmp(owner, k->pipeline_file) == 0;
    if (!same_file && n > 0)
        rc = sl_errorf(err, "the checkpoint in %s was written by another pipeline (%s): %s. Give each pipeline a "
                       "data_dir of its own, or run with --from-start to ignore that checkpoint (and replace it)",
                       k->dir, owner, diff.data);
    else if (n > 0)
        sl_warn("checkpoint", "the pipeline changed since the checkpoint in %s: %s; the others resume", k->dir,
                diff.data);
    else if (!same_file)
        sl_info("checkpoint", "the checkpoint in %s was written by %s, which has the same sources and sinks: "
                "resuming from it", k->dir, owner);
    sl_buf_free(&diff);
    sl_arena_free(&a);
    return rc;
}

/* A first run in the default data_dir (".sluice/<name>") next to the
 * checkpoint of a version of sluice whose default was ".sluice" itself,
 * shared by every pipeline run from the directory: which pipeline it
 * belongs to is unknown, and starting from the beginning would write
 * everything again, so the user decides. */
static int refuse_shared_checkpoint(const sl_checkpointer *k, sl_error *err)
{
    const char *slash = strrchr(k->dir, '/');
    int len = slash ? (int)(slash - k->dir) : 0;
    if (len < 7 || strncmp(slash - 7, ".sluice", 7) != 0 || (len > 7 && slash[-8] != '/')) return 0;
    char old[4200];
    snprintf(old, sizeof old, "%.*s/checkpoint", len, k->dir);
    if (access(old, F_OK) < 0) return 0;
    return sl_errorf(err, "%s is a checkpoint of an earlier version of sluice, shared by every pipeline run from "
                     "this directory; this pipeline's state is now in %s. If that checkpoint is this "
                     "pipeline's, move %.*s/checkpoint* (and %.*s/dlq, %.*s/wal) into %s to resume from it; else "
                     "delete it, or run with --from-start", old, k->dir, len, k->dir, len, k->dir, len, k->dir,
                     k->dir);
}

/* Component c could not restore (err says why) from the checkpoint
 * generation `found`, whose document is doc. When its state there is to
 * blame, notes that generation in refused, for a pipeline built again to
 * resume without it; else fails as it must. Returns -1. */
static int refuse(const sl_checkpointer *k, const sl_component *c, bool unreadable, sl_checkpoint_found found,
                  const sl_buf *doc, sl_refused_checkpoints *refused, sl_error *err)
{
    const char *kind = sl_kind_name(c->kind);
    if (!unreadable || !refused || refused->n == (int)(sizeof refused->gen / sizeof *refused->gen))
        return sl_error_prefix(err, "%s '%s' cannot resume from the checkpoint (run with --from-start to "
                               "ignore it)", kind, c->name);
    const char *file = found == SL_CHECKPOINT_NEWEST ? "checkpoint" : "checkpoint.prev";
    sl_warn("checkpoint", "checkpoint %" PRIu64 " (%s/%s) cannot be resumed: %s '%s' cannot read its state in "
            "it: %s; %s", k->resumed_epoch, k->dir, file, kind, c->name, err->msg,
            found == SL_CHECKPOINT_NEWEST ? "trying checkpoint.prev"
                                          : "no checkpoint is left to resume from");
    sl_refused_checkpoint *gen = &refused->gen[refused->n++];
    gen->len = doc->len;
    gen->crc = sl_crc32c(0, doc->data, doc->len);
    snprintf(gen->why, sizeof gen->why, "%s '%.60s' cannot read its state", kind, c->name);
    return sl_errorf(err, "%s in %s: %s (above)", file, k->dir, gen->why);
}

/* How many generations that exist in dir were not used (found). */
static uint64_t unusable(const char *dir, sl_checkpoint_found found)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    uint64_t n = found != SL_CHECKPOINT_NEWEST && access(path, F_OK) == 0;
    snprintf(path, sizeof path, "%s/checkpoint.prev", dir);
    return n + (found == SL_CHECKPOINT_NONE && access(path, F_OK) == 0);
}

/* Loads the checkpoint and restores every component from it. */
static int resume(sl_pipeline *p, bool from_start, sl_refused_checkpoints *refused, sl_error *err)
{
    sl_checkpointer *k = p->ckpt;
    sl_buf doc;
    sl_buf_init(&doc);
    sl_arena a;
    sl_arena_init(&a, 16384);
    ckpt_doc d = {0};
    sl_dlq_mark dlq = {0, SL_DLQ_SIZE_UNKNOWN};
    bool have_dlq_size = false;

    char problem[256] = "";
    sl_checkpoint_found found =
        k->durable ? sl_checkpoint_load(k->dir, &doc, check_doc, refused, problem) : SL_CHECKPOINT_NONE;
    if (k->durable && !from_start) k->unusable = unusable(k->dir, found);
    if (found != SL_CHECKPOINT_NONE && from_start) {
        sl_info("checkpoint", "--from-start: ignoring the checkpoint in %s", k->dir);
        found = SL_CHECKPOINT_NONE;
    } else if (problem[0]) {
        sl_warn("checkpoint", "%s in %s%s", problem, k->dir,
                found == SL_CHECKPOINT_PREVIOUS ? "; resuming from the previous checkpoint" : "; starting from the beginning");
    } else if (k->durable && found == SL_CHECKPOINT_NONE && !from_start && refuse_shared_checkpoint(k, err) < 0) {
        sl_buf_free(&doc);
        sl_arena_free(&a);
        return -1;
    }
    bool start_over = k->durable && found == SL_CHECKPOINT_NONE && problem[0] && !from_start;
    for (int i = 0; i < p->n_comps; i++) p->comps[i].start_over = start_over;
    int rc = 0;
    if (found != SL_CHECKPOINT_NONE) {
        char why[160];
        if (!parse_doc(&a, doc.data, doc.len, &d, why, sizeof why)) abort();   /* check_doc accepted it */
        rc = check_owner(p, &d, err);
        k->epoch = d.epoch + 1;
        const sl_value *dlq_state = sl_state_get(&d.root, "dlq");
        have_dlq_size = sl_state_uint(dlq_state, "size", &dlq.size);
        /* Checkpoints written before the side file existed have no
         * raw_size: the side file is then left alone. */
        sl_state_uint(dlq_state, "raw_size", &dlq.raw_size);
        if (rc == 0) {
            /* "2026-11-24T01:02:03.5Z" -> "2026-11-24 01:02:03 UTC" */
            const sl_value *t = sl_state_get(&d.root, "time");
            bool ok = t && t->type == SL_STRING && t->len >= 19;
            k->resumed_epoch = d.epoch;
            snprintf(k->resumed_time, sizeof k->resumed_time, "%.10s %.8s UTC", ok ? t->as.s : "an unknown",
                     ok ? t->as.s + 11 : "time");
            sl_info("checkpoint", "resuming from checkpoint %" PRIu64 " in %s", d.epoch, k->dir);
        }
    }
    /* Sinks last: a source or transform that cannot read its state leaves
     * the output as it was. */
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        for (int i = 0; i < p->n_comps && rc == 0; i++) {
            sl_component *c = &p->comps[i];
            if ((c->kind == SL_SINK) != (pass == 1)) continue;
            bool unreadable;
            if (restore_one(c, d.components ? sl_state_get(d.components, c->name) : NULL, &unreadable, err) < 0)
                rc = refuse(k, c, unreadable, found, &doc, refused, err);
        }
    if (rc == 0 && have_dlq_size) rc = sl_dlq_rollback(p->dlq, &dlq, err);
    else if (rc == 0 && start_over) rc = sl_dlq_set_aside(p->dlq, err);
    if (rc == 0 && found == SL_CHECKPOINT_PREVIOUS) rc = sl_checkpoint_set_aside_newest(k->dir, err);
    sl_arena_free(&a);
    sl_buf_free(&doc);
    return rc;
}

void sl_checkpoints_init(sl_pipeline *p, const char *pipeline_file, const char *data_dir, bool enabled,
                         uint64_t interval_ms)
{
    sl_checkpointer *k = calloc(1, sizeof *k);
    if (!k) abort();
    p->ckpt = k;
    k->dir = strdup(data_dir);
    k->pipeline_file = realpath(pipeline_file, NULL);
    if (!k->pipeline_file) k->pipeline_file = strdup(pipeline_file);
    if (!k->dir || !k->pipeline_file) abort();
    k->lock_fd = -1;
    k->interval_ms = interval_ms;
    k->states = calloc((size_t)p->n_comps, sizeof *k->states);
    k->saved = calloc((size_t)p->n_comps, sizeof *k->saved);
    if (!k->states || !k->saved) abort();
    for (int i = 0; i < p->n_comps; i++) sl_buf_init(&k->states[i]);
    k->enabled = enabled;
    k->durable = enabled && !cannot_resume(p);
    for (int i = 0; i < p->n_comps; i++) {
        p->comps[i].durable = k->durable;
        p->comps[i].data_dir = k->dir;
    }
}

const char *sl_checkpoints_off_reason(const sl_pipeline *p, char *buf, size_t cap)
{
    const sl_component *stuck = cannot_resume(p);
    if (!p->ckpt->enabled)
        snprintf(buf, cap, "checkpoints are off (checkpoint.enabled: false): an interrupted run starts over");
    else if (stuck)
        snprintf(buf, cap, "checkpoints are off (checkpoint.required: false): %s '%s' (%s) cannot take part: "
                 "%s; an interrupted run starts over", sl_kind_name(stuck->kind), stuck->name, stuck->type->name,
                 sl_checkpoint_blocker(stuck));
    else
        return NULL;
    return buf;
}

/* Whether a run keeps state in data_dir (checkpoints, write-ahead logs) or
 * output another run would take for its own (a sink's unpublished parts,
 * which a start deletes): then one run at a time. A pipeline that only
 * prints (stdin to stdout without its log) needs no data_dir at all. */
static bool uses_data_dir(const sl_pipeline *p)
{
    bool publishes = false;
    for (int i = 0; i < p->n_comps && !publishes; i++) publishes = p->comps[i].publishes;
    return p->ckpt->durable || publishes;
}

int sl_checkpoints_start(sl_pipeline *p, bool from_start, sl_refused_checkpoints *refused, sl_error *err)
{
    sl_checkpointer *k = p->ckpt;
    char why[256];
    static const sl_dir_lock_use data_dir = {
        "lock", "data_dir", "two runs on one data_dir would overwrite each other's checkpoints and output; wait "
        "for that run to end, or give this pipeline a data_dir of its own"};
    if (k->lock_fd < 0 && uses_data_dir(p) && (k->lock_fd = sl_dir_lock(k->dir, &data_dir, err)) < 0) return -1;
    if (sl_checkpoints_off_reason(p, why, sizeof why)) sl_info("checkpoint", "%s", why);
    if (resume(p, from_start, refused, err) < 0) return -1;

    /* The starting point is a checkpoint too (it fixes the DLQ's size). */
    if (k->durable) {
        int64_t t0 = sl_monotonic_ns();
        for (int i = 0; i < p->n_comps; i++) {
            sl_component *c = &p->comps[i];
            if (!(c->kind == SL_SINK ? save_sink(p, &p->sinks[p->vplan[i].sink]) : save_component(p, c)))
                return sl_errorf(err, "%s", p->fatal);
        }
        sl_dlq_mark dlq;
        if (sl_dlq_checkpoint(p->dlq, &dlq, err) < 0) return -1;
        if (!make_durable_and_commit(p, &dlq, t0, true)) return sl_errorf(err, "%s", p->fatal);
    }
    k->next_ns = sl_monotonic_ns() + (int64_t)k->interval_ms * 1000000;
    return 0;
}

void sl_checkpoints_free(sl_pipeline *p)
{
    sl_checkpointer *k = p->ckpt;
    if (!k) return;
    for (int i = 0; i < p->n_comps; i++) sl_buf_free(&k->states[i]);
    free(k->states);
    free(k->saved);
    free(k->dir);
    free(k->pipeline_file);
    sl_dir_unlock(k->lock_fd);
    free(k);
    p->ckpt = NULL;
}

bool sl_checkpoints_resumed(const sl_pipeline *p, uint64_t *epoch, const char **time)
{
    const sl_checkpointer *k = p->ckpt;
    if (!k || !k->resumed_time[0]) return false;
    *epoch = k->resumed_epoch;
    *time = k->resumed_time;
    return true;
}

void sl_checkpoints_prometheus(sl_pipeline *p, sl_buf *out)
{
    sl_checkpointer *k = p->ckpt;
    if (!k || !k->durable) return;
    int64_t last = atomic_load(&k->last_success_s);
    sl_buf_puts(out, "# HELP sluice_checkpoints_total Checkpoints written.\n"
                     "# TYPE sluice_checkpoints_total counter\n");
    sl_buf_printf(out, "sluice_checkpoints_total %" PRIu64 "\n", atomic_load(&k->taken));
    sl_buf_puts(out, "# HELP sluice_checkpoint_failures_total Checkpoints that could not be written "
                     "(the previous one stands).\n# TYPE sluice_checkpoint_failures_total counter\n");
    sl_buf_printf(out, "sluice_checkpoint_failures_total %" PRIu64 "\n", atomic_load(&k->failed));
    sl_buf_puts(out, "# HELP sluice_checkpoint_unusable_total Checkpoint generations this run could not "
                     "resume from when it started (damaged, or a component could not read its state in "
                     "it).\n# TYPE sluice_checkpoint_unusable_total counter\n");
    sl_buf_printf(out, "sluice_checkpoint_unusable_total %" PRIu64 "\n", k->unusable);
    sl_buf_puts(out, "# HELP sluice_checkpoint_duration_seconds How long the last checkpoint took, from "
                     "barrier to commit.\n# TYPE sluice_checkpoint_duration_seconds gauge\n");
    sl_buf_printf(out, "sluice_checkpoint_duration_seconds %.6f\n", (double)atomic_load(&k->last_duration_us) / 1e6);
    sl_buf_puts(out, "# HELP sluice_checkpoint_age_seconds Seconds since the last checkpoint was written.\n"
                     "# TYPE sluice_checkpoint_age_seconds gauge\n");
    sl_buf_printf(out, "sluice_checkpoint_age_seconds %" PRId64 "\n",
                  last ? (int64_t)(sl_now_ns() / 1000000000) - last : -1);
}
