/* sink_retry.c — retries, circuit breaker, fallback and dead-lettering of
 * sink payloads (see sink_retry.h for the policy).
 *
 * Everything here runs on a sink's own thread except the checks and setup
 * (main thread, while building) and the metrics (any thread: they only read
 * atomics). Waits sleep on the pipeline's condition variable, which
 * sl_pipeline_stop broadcasts, so a stop request ends them at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/util.h"
#include "pipeline_internal.h"

/* The longest wait between two attempts on a full disk: space freed by an
 * operator should be used within a second. */
#define DISK_FULL_MAX_WAIT_MS 1000

static const char *const on_failure_names[] = {"dlq", "fail", NULL};

const sl_option sl_sink_retry_options[] = {
    {"retry.initial", SL_OPT_DURATION, false, "100ms",
     "Backoff before the first retry of a failed write. Each retry waits a random time "
     "between 0 and `initial * 2^attempt`, capped at `retry.max` (full jitter).",
     NULL},
    {"retry.max", SL_OPT_DURATION, false, "30s", "Upper bound of a single backoff.", NULL},
    {"retry.max_attempts", SL_OPT_INT, false, "10",
     "Write attempts per payload (the first write included) before it is given up; 0 retries "
     "forever (the sink then holds back its inputs until it recovers). Writes that find the disk "
     "full (ENOSPC, EDQUOT) do not count: the sink pauses until space is freed, retrying with "
     "this backoff but at least once a second.",
     NULL},
    {"breaker.failures", SL_OPT_INT, false, "5",
     "Consecutive failed attempts that open the circuit breaker; 0 disables it.", NULL},
    {"breaker.cooldown", SL_OPT_DURATION, false, "10s",
     "How long an open breaker attempts no write; then one probe write (half-open) closes "
     "it on success or opens it again.",
     NULL},
    {"fallback", SL_OPT_STRING, false, NULL,
     "Name of another sink that receives the payloads this sink gives up, instead of the "
     "DLQ. It must be of the same type with the same options apart from `path` (it gets the "
     "bytes as this sink encoded them), and neither path may be a template.",
     NULL},
    {"on_failure", SL_OPT_ENUM, false, "dlq",
     "What happens to a payload given up when there is no fallback: `dlq` sends its records "
     "to the DLQ with reason `sink_failed`; `fail` stops the run (non-zero exit).",
     on_failure_names},
    {"buffer", SL_OPT_ANY, false, NULL,
     "**Not implemented yet**: a write-ahead log in front of the sink, so that a slow or "
     "failing sink would not hold back the others. Setting it is an error today; a slow sink "
     "slows every sink of the same sources (backpressure), and loses nothing.",
     NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

bool sl_sink_retry_key(const char *key)
{
    return strcmp(key, "retry") == 0 || strcmp(key, "breaker") == 0 || strcmp(key, "fallback") == 0 ||
           strcmp(key, "on_failure") == 0 || strcmp(key, "buffer") == 0;
}

/* ---- build-time checks ---- */

/* An option's value as text for comparing two sinks' configurations: what
 * the user wrote, else the default, else "" (unset). */
static void option_text(const sl_opts *o, const sl_option *opt, sl_buf *out)
{
    out->len = 0;
    const sl_node *n = sl_opts_node(o, opt->name);
    if (n && n->kind == SL_NODE_SCALAR)
        sl_buf_append(out, n->text, n->len);
    else if (n)
        sl_node_print(n, out);
    else if (opt->default_value)
        sl_buf_puts(out, opt->default_value);
    sl_buf_putc(out, '\0');
}

static const char *path_extension(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    return dot ? dot : "";
}

static bool has_option(const sl_option *schema, const char *name)
{
    for (size_t i = 0; schema && schema[i].name; i++)
        if (strcmp(schema[i].name, name) == 0) return true;
    return false;
}

/* Whether sink `to` can write payloads encoded by sink `from`; reports why
 * not at `at`. */
static bool fallback_compatible(const sl_component *from, const sl_component *to, sl_pos at, sl_diag *diag)
{
    if (to->type != from->type) {
        sl_diag_error(diag, at,
                      "fallback sink '%s' is of type %s but '%s' is of type %s: a fallback receives the "
                      "payloads as '%s' encoded them, so it must be of the same type",
                      to->name, to->type->name, from->name, from->type->name, from->name);
        return false;
    }
    bool ok = true;
    sl_buf a, b;
    sl_buf_init(&a);
    sl_buf_init(&b);
    for (const sl_option *opt = from->type->options; opt && opt->name; opt++) {
        if (strcmp(opt->name, "path") == 0) continue;
        option_text(from->opts, opt, &a);
        option_text(to->opts, opt, &b);
        if (strcmp(a.data, b.data) != 0) {
            sl_diag_error(diag, at,
                          "fallback sink '%s' must encode like '%s' (it receives its encoded payloads), "
                          "but their option '%s' differs",
                          to->name, from->name, opt->name);
            ok = false;
        }
    }
    if (has_option(from->type->options, "path")) {
        const char *pf = sl_opts_string(from->opts, "path"), *pt = sl_opts_string(to->opts, "path");
        if (pf && pt) {
            if (strstr(pf, "{{") || strstr(pt, "{{")) {
                sl_diag_error(diag, at,
                              "'%s' and its fallback '%s' must have plain paths, not templates: the payloads "
                              "are keyed by the rendered paths of '%s'",
                              from->name, to->name, from->name);
                ok = false;
            } else if (strcmp(path_extension(pf), path_extension(pt)) != 0) {
                sl_diag_error(diag, at,
                              "fallback sink '%s' must have the same file extension as '%s' ('%s' vs '%s'): "
                              "the extension can decide the compression of the encoded payloads",
                              to->name, from->name, path_extension(pt), path_extension(pf));
                ok = false;
            }
        }
    }
    sl_buf_free(&a);
    sl_buf_free(&b);
    return ok;
}

static int find_sink(const sl_pipeline *p, const char *name)
{
    for (int i = 0; i < p->n_comps; i++)
        if (p->comps[i].kind == SL_SINK && strcmp(p->comps[i].name, name) == 0) return i;
    return -1;
}

bool sl_sink_retry_is_fallback(const sl_pipeline *p, const char *name)
{
    for (int i = 0; i < p->n_comps; i++) {
        const char *fallback = p->retry_opts[i] ? sl_opts_string(p->retry_opts[i], "fallback") : NULL;
        if (fallback && strcmp(fallback, name) == 0) return true;
    }
    return false;
}

int sl_sink_retry_check(sl_pipeline *p, sl_diag *diag)
{
    size_t errors_before = diag->errors;
    for (int i = 0; i < p->n_comps; i++) {
        const sl_opts *o = p->retry_opts[i];
        const sl_component *c = &p->comps[i];
        if (!o) continue;
        if (sl_opts_has(o, "buffer"))
            sl_diag_error(diag, sl_opts_pos(o, "buffer"), "'buffer' is not implemented yet in this version of "
                          "sluice: remove it (a slow sink slows the others through backpressure, and loses "
                          "nothing)");
        if (sl_opts_duration_ms(o, "retry.initial") == 0)
            sl_diag_error(diag, sl_opts_pos(o, "retry.initial"), "retry.initial must be more than 0");
        if (sl_opts_duration_ms(o, "retry.max") < sl_opts_duration_ms(o, "retry.initial"))
            sl_diag_error(diag, sl_opts_pos(o, "retry.max"), "retry.max must be at least retry.initial");
        if (sl_opts_int(o, "retry.max_attempts") < 0 || sl_opts_int(o, "retry.max_attempts") > UINT32_MAX)
            sl_diag_error(diag, sl_opts_pos(o, "retry.max_attempts"),
                          "retry.max_attempts must be 0 (forever) or a positive number of attempts");
        if (sl_opts_int(o, "breaker.failures") < 0 || sl_opts_int(o, "breaker.failures") > UINT32_MAX)
            sl_diag_error(diag, sl_opts_pos(o, "breaker.failures"),
                          "breaker.failures must be 0 (no breaker) or a positive number of failures");
        if (sl_opts_int(o, "breaker.failures") > 0 && sl_opts_duration_ms(o, "breaker.cooldown") == 0)
            sl_diag_error(diag, sl_opts_pos(o, "breaker.cooldown"), "breaker.cooldown must be more than 0");
        const char *fallback = sl_opts_string(o, "fallback");
        if (!fallback) continue;
        sl_pos at = sl_opts_pos(o, "fallback");
        if (strcmp(sl_opts_enum(o, "on_failure"), "fail") == 0) {
            sl_diag_error(diag, sl_opts_pos(o, "on_failure"),
                          "sink '%s' has both a fallback and on_failure: fail; a payload given up goes to "
                          "the fallback, so on_failure would never apply: remove one",
                          c->name);
        }
        int to = find_sink(p, fallback);
        if (to < 0) {
            sl_diag_error(diag, at, "fallback '%s' is not a sink of this pipeline", fallback);
            continue;
        }
        if (to == i) {
            sl_diag_error(diag, at, "sink '%s' cannot be its own fallback", c->name);
            continue;
        }
        /* (a sink whose options did not resolve was reported already) */
        if (!c->opts || !p->comps[to].opts || !fallback_compatible(c, &p->comps[to], at, diag)) continue;
        /* A cycle of fallbacks would have two sinks wait on each other's queues. */
        int hops = 0, at_sink = to;
        while (at_sink >= 0 && hops <= p->n_comps) {
            const char *next = p->retry_opts[at_sink] ? sl_opts_string(p->retry_opts[at_sink], "fallback") : NULL;
            at_sink = next ? find_sink(p, next) : -1;
            hops++;
            if (at_sink == i) {
                sl_diag_error(diag, at, "the fallbacks of sink '%s' lead back to it (a cycle)", c->name);
                break;
            }
        }
    }
    return diag->errors > errors_before ? -1 : 0;
}

void sl_sink_retry_init(sl_pipeline *p)
{
    for (int i = 0; i < p->n_sinks; i++) {
        sl_sink_rt *s = &p->sinks[i];
        const sl_opts *o = p->retry_opts[s->c->index];
        sl_sink_guard *g = &s->guard;
        g->initial_ms = sl_opts_duration_ms(o, "retry.initial");
        g->max_ms = sl_opts_duration_ms(o, "retry.max");
        g->max_attempts = (uint32_t)sl_opts_int(o, "retry.max_attempts");
        g->breaker_failures = (uint32_t)sl_opts_int(o, "breaker.failures");
        g->cooldown_ms = sl_opts_duration_ms(o, "breaker.cooldown");
        g->fail_run = strcmp(sl_opts_enum(o, "on_failure"), "fail") == 0;
        g->rng = (uint64_t)sl_monotonic_ns() ^ ((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull);
        if (!g->rng) g->rng = 1;
        atomic_init(&g->breaker, SL_BREAKER_CLOSED);
        atomic_init(&g->retries, 0);
        atomic_init(&g->disk_full, 0);
        atomic_init(&g->disk_full_pauses, 0);
    }
    for (int i = 0; i < p->n_sinks; i++) {
        const char *fallback = sl_opts_string(p->retry_opts[p->sinks[i].c->index], "fallback");
        if (!fallback) continue;
        for (int j = 0; j < p->n_sinks; j++) {
            if (strcmp(p->sinks[j].c->name, fallback) == 0) {
                p->sinks[i].guard.fallback = &p->sinks[j];
                p->sinks[j].guard.feeders++;
            }
        }
    }
}

/* ---- the sink thread ---- */

static uint64_t next_random(sl_sink_guard *g)
{
    /* xorshift64: jitter needs spread, not cryptographic quality */
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

/* Full jitter: random(0, min(max, initial * 2^attempt)), in ms. */
static uint64_t backoff_ms(sl_sink_guard *g, uint32_t attempt)
{
    uint64_t cap = g->max_ms;
    if (attempt < 40 && g->initial_ms <= (g->max_ms >> attempt)) cap = g->initial_ms << attempt;
    return next_random(g) % (cap + 1);
}

/* Sleeps until the monotonic deadline; false when a stop request ended
 * the wait. */
static bool wait_until(sl_pipeline *p, int64_t deadline_ns)
{
    pthread_mutex_lock(&p->lock);
    while (!atomic_load(&p->stopping) && sl_monotonic_ns() < deadline_ns) {
        struct timespec ts = {.tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000};
        pthread_cond_timedwait(&p->changed, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return !atomic_load(&p->stopping);
}

/* Writes the records of a given-up payload to the DLQ: one entry per
 * encoded line when a part holds one line per record (JSON lines, CSV rows
 * without line breaks in values), else one entry for the part, whose raw
 * holds its encoded (e.g. compressed) bytes. */
static bool dead_letter(sl_sink_rt *s, sl_sink_item *item, const char *why)
{
    sl_component *c = s->c;
    sl_error err = {0};
    for (size_t k = 0; k < item->payload.count; k++) {
        const sl_payload_part *part = &item->payload.parts[k];
        const char *data = part->data.data ? part->data.data : "";
        size_t len = part->data.len;
        uint64_t lines = 0;
        for (const char *q = data, *end = data + len; q < end; lines++) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            q = nl ? nl + 1 : end;
        }
        sl_dlq_entry e = {.component = c->name, .origin = part->key, .reason = "sink_failed"};
        int rc = 0;
        if (lines == part->records && lines > 0) {
            e.message = why;
            for (const char *q = data, *end = data + len; q < end && rc == 0;) {
                const char *nl = memchr(q, '\n', (size_t)(end - q));
                const char *next = nl ? nl + 1 : end;
                e.raw = q;
                e.raw_len = (size_t)(next - q);
                rc = sl_dlq_write(s->p->dlq, &e, &err);
                q = next;
            }
        } else if (part->records > 0) {
            char message[3 * SL_ERROR_MAX];
            snprintf(message, sizeof message, "%s (%llu records in %zu encoded bytes that are not one line per "
                     "record; raw holds those bytes)", why, (unsigned long long)part->records, len);
            e.message = message;
            e.raw = len ? data : NULL;
            e.raw_len = len;
            rc = sl_dlq_write(s->p->dlq, &e, &err);
        }
        if (rc < 0) {
            sl_pipeline_fail(s->p, "sink '%s': %s", c->name, err.msg);
            return false;
        }
        sl_metrics_dlq(s->p->metrics, c->metrics, "sink_failed", part->records);
    }
    return true;
}

/* Gives a payload up: to the fallback, the DLQ, or (on_failure: fail, and
 * not because of a stop request) the end of the run. Takes the item. Logs
 * a warning unless `quiet` (payloads failed fast by an open breaker: its
 * opening was logged). */
static bool give_up(sl_sink_rt *s, sl_sink_item *item, const char *why, bool stopping, bool quiet)
{
    sl_sink_guard *g = &s->guard;
    sl_log_level level = quiet ? SL_LOG_DEBUG : SL_LOG_WARN;
    if (g->fallback) {
        sl_log(level, s->c->name, "%s; sending %llu records to the fallback sink '%s'", why,
                (unsigned long long)item->payload.records, g->fallback->c->name);
        size_t charge = (size_t)item->charge;
        if (sl_queue_push(g->fallback->queue, item, charge) == 0) return true;
        /* the fallback's queue is closed only after this sink ended */
        sl_pipeline_fail(s->p, "sink '%s': internal error: the fallback '%s' is closed", s->c->name,
                         g->fallback->c->name);
        sl_sink_item_discard(s->p, item);
        return false;
    }
    if (g->fail_run && !stopping) {
        sl_pipeline_fail(s->p, "sink '%s': %s", s->c->name, why);
        sl_sink_item_discard(s->p, item);
        return false;
    }
    sl_log(level, s->c->name, "%s; sending %llu records to the DLQ (reason sink_failed)", why,
            (unsigned long long)item->payload.records);
    bool ok = dead_letter(s, item, why);
    sl_sink_item_discard(s->p, item);
    return ok;
}

/* Writes the parts of a payload from *done on, one part per write call, so
 * that a retry does not write again the parts (files) that were written
 * before the failure. Returns 0, or -1 with err. */
static int write_parts(sl_sink_rt *s, sl_payload *pl, size_t *done, sl_error *err)
{
    sl_component *c = s->c;
    uint64_t records = 0, bytes = 0;
    int rc = 0;
    for (; *done < pl->count; (*done)++) {
        sl_payload_part *part = &pl->parts[*done];
        sl_payload one = {.parts = part, .count = 1, .cap = 1, .records = part->records, .bytes = part->data.len};
        if (c->type->write(c, &one, err) < 0) {
            rc = -1;
            break;
        }
        records += part->records;
        bytes += part->data.len;
    }
    /* Counted once per payload, not per part: a path template's payload
     * has hundreds of parts, and the counters' cache line is shared with
     * the workers. */
    sl_metrics_sent(c->metrics, records, bytes);
    return rc;
}

/* Takes the parts that were written out of a payload that is given up. */
static void drop_written_parts(sl_payload *pl, size_t done)
{
    for (size_t k = 0; k < done; k++) {
        pl->records -= pl->parts[k].records;
        pl->bytes -= pl->parts[k].data.len;
        sl_payload_part_release(&pl->parts[k]);
    }
    memmove(pl->parts, pl->parts + done, (pl->count - done) * sizeof *pl->parts);
    pl->count -= done;
    sl_strindex_clear(&pl->index);   /* positions moved */
    pl->indexed = 0;
}

static void set_breaker(sl_sink_rt *s, sl_breaker_state state)
{
    sl_sink_guard *g = &s->guard;
    int old = atomic_exchange(&g->breaker, state);
    if (old == (int)state) return;
    if (state == SL_BREAKER_OPEN) {
        g->open_until_ns = sl_monotonic_ns() + (int64_t)g->cooldown_ms * 1000000;
        sl_warn(s->c->name, "circuit breaker open after %u consecutive failed writes; no write for %llu ms",
                g->consecutive_failures, (unsigned long long)g->cooldown_ms);
    } else if (state == SL_BREAKER_CLOSED) {
        sl_info(s->c->name, "circuit breaker closed: the sink writes again");
    }
}

/* ---- a full disk: pause, never give up ---- */

/* The wait before attempt `waits` + 1 on a full disk: retry.initial doubling
 * up to min(retry.max, 1 s). No jitter: there is no crowd of clients to
 * spread out on a local disk. */
static uint64_t disk_full_wait_ms(const sl_sink_guard *g, uint32_t waits)
{
    uint64_t cap = g->max_ms < DISK_FULL_MAX_WAIT_MS ? g->max_ms : DISK_FULL_MAX_WAIT_MS;
    uint64_t ms = g->initial_ms;
    for (uint32_t i = 0; i < waits && ms < cap; i++) ms *= 2;
    return ms < cap ? ms : cap;
}

/* The end of a pause: the last attempt did not find the disk full. */
static void end_disk_full(sl_sink_rt *s)
{
    sl_sink_guard *g = &s->guard;
    if (!atomic_exchange(&g->disk_full, 0)) return;
    sl_info(s->c->name, "disk space is available again after %.1f s paused; writing resumes",
            (double)(sl_monotonic_ns() - g->disk_full_since_ns) / 1e9);
}

/* A write found the disk full: waits before the next attempt (the first
 * time, starts the pause and says so: `waiting` is what waits for the
 * space). Returns false when the pipeline is stopping. */
static bool pause_for_space(sl_sink_rt *s, const char *waiting, const sl_error *err, uint32_t waits)
{
    sl_sink_guard *g = &s->guard;
    sl_pipeline *p = s->p;
    if (!atomic_load(&g->disk_full)) {
        atomic_store(&g->disk_full, 1);
        atomic_fetch_add(&g->disk_full_pauses, 1);
        g->disk_full_since_ns = sl_monotonic_ns();
        sl_metrics_error(s->c->metrics, "disk_full", 1);
        sl_warn(s->c->name, "disk full (%s); pausing until space is freed: %s and the inputs are held back, "
                "nothing is dropped", err->msg, waiting);
    }
    int64_t deadline = sl_monotonic_ns() + (int64_t)disk_full_wait_ms(g, waits) * 1000000;
    return !atomic_load(&p->stopping) && wait_until(p, deadline);
}

int sl_sink_save(sl_sink_rt *s, sl_buf *state, sl_error *err)
{
    for (uint32_t waits = 0;; waits++) {
        size_t start = state->len;
        memset(err, 0, sizeof *err);
        if (s->c->type->save(s->c, state, err) == 0) {
            end_disk_full(s);
            return 0;
        }
        state->len = start;
        if (!sl_error_disk_full(err) || !pause_for_space(s, "the checkpoint waits", err, waits)) return -1;
    }
}

bool sl_sink_deliver(sl_sink_rt *s, sl_sink_item *item)
{
    sl_sink_guard *g = &s->guard;
    sl_pipeline *p = s->p;
    sl_component *c = s->c;
    char why[2 * SL_ERROR_MAX];

    size_t done = 0;     /* parts written */
    bool probe = false;
    if (atomic_load(&g->breaker) != SL_BREAKER_CLOSED) {
        if (sl_monotonic_ns() < g->open_until_ns) {
            snprintf(why, sizeof why, "circuit breaker open (last error: %s)", g->last_error);
            return give_up(s, item, why, atomic_load(&p->stopping), true);
        }
        probe = true;
    }
    uint32_t attempt = 0;           /* failed attempts */
    uint32_t disk_full_waits = 0;   /* attempts that found the disk full: not failures */
    for (;;) {
        if (atomic_load(&g->breaker) == SL_BREAKER_OPEN) set_breaker(s, SL_BREAKER_HALF_OPEN);
        if (attempt > 0 || disk_full_waits > 0) atomic_fetch_add(&g->retries, 1);
        sl_error err = {0};
        int rc = write_parts(s, &item->payload, &done, &err);
        if (rc < 0 && sl_error_disk_full(&err)) {
            char waiting[64];
            snprintf(waiting, sizeof waiting, "%llu records wait", (unsigned long long)item->payload.records);
            if (!pause_for_space(s, waiting, &err, disk_full_waits++)) {
                /* Not to the DLQ (the records are fine, and the DLQ is
                 * usually on the same disk), and not forgotten as if written:
                 * the run fails, so no checkpoint will cover these records. */
                drop_written_parts(&item->payload, done);
                sl_pipeline_fail(p, "sink '%s': stopped while the disk is full (%s): %llu records of this payload "
                                 "and any queued behind it were not written; no checkpoint covers them, so the "
                                 "next run reads them again", c->name, err.msg,
                                 (unsigned long long)item->payload.records);
                sl_sink_item_discard(p, item);
                return false;
            }
            continue;
        }
        end_disk_full(s);
        if (rc == 0) {
            g->consecutive_failures = 0;
            set_breaker(s, SL_BREAKER_CLOSED);
            sl_sink_item_discard(p, item);
            return true;
        }
        snprintf(g->last_error, sizeof g->last_error, "%s", err.msg);
        sl_metrics_error(c->metrics, "sink_write_failed", 1);
        g->consecutive_failures++;
        bool half_open = atomic_load(&g->breaker) == SL_BREAKER_HALF_OPEN;
        if (half_open || (g->breaker_failures && g->consecutive_failures >= g->breaker_failures))
            set_breaker(s, SL_BREAKER_OPEN);

        bool stopping = atomic_load(&p->stopping);
        bool exhausted = probe || (g->max_attempts && attempt + 1 >= g->max_attempts);
        if (exhausted || stopping) {
            snprintf(why, sizeof why, "write failed %u time%s%s: %s", attempt + 1, attempt ? "s" : "",
                     stopping ? " and the pipeline is stopping" : "", err.msg);
            drop_written_parts(&item->payload, done);
            return give_up(s, item, why, stopping, false);
        }
        int64_t deadline = sl_monotonic_ns() + (int64_t)backoff_ms(g, attempt) * 1000000;
        if (atomic_load(&g->breaker) == SL_BREAKER_OPEN && g->open_until_ns > deadline)
            deadline = g->open_until_ns;
        char of[32] = "";
        if (g->max_attempts) snprintf(of, sizeof of, " of %u", g->max_attempts);
        sl_warn(c->name, "write failed (attempt %u%s): %s; retrying in %lld ms", attempt + 1, of, err.msg,
                (long long)((deadline - sl_monotonic_ns()) / 1000000));
        if (!wait_until(p, deadline)) {
            snprintf(why, sizeof why, "write failed %u time%s and the pipeline is stopping: %s", attempt + 1,
                     attempt ? "s" : "", err.msg);
            drop_written_parts(&item->payload, done);
            return give_up(s, item, why, true, false);
        }
        attempt++;
    }
}

void sl_sinks_close_and_join(sl_pipeline *p)
{
    size_t n = p->n_sinks ? (size_t)p->n_sinks : 1;
    int *waiting = calloc(n, sizeof *waiting);   /* feeders still running, per sink */
    bool *closed = calloc(n, sizeof *closed), *joined = calloc(n, sizeof *joined);
    if (!waiting || !closed || !joined) abort();
    for (int i = 0; i < p->n_sinks; i++) waiting[i] = p->sinks[i].guard.feeders;
    /* No cycles (checked when building), so every round closes a sink. */
    for (int done = 0; done < p->n_sinks;) {
        for (int i = 0; i < p->n_sinks; i++) {
            if (closed[i] || waiting[i] > 0) continue;
            sl_queue_close(p->sinks[i].queue);
            closed[i] = true;
        }
        for (int i = 0; i < p->n_sinks; i++) {
            if (!closed[i] || joined[i]) continue;
            pthread_join(p->sinks[i].thread, NULL);
            joined[i] = true;
            done++;
            if (p->sinks[i].guard.fallback) waiting[p->sinks[i].guard.fallback - p->sinks]--;
        }
    }
    free(waiting);
    free(closed);
    free(joined);
}

/* A label value in the exposition format. */
static void put_label(sl_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\') sl_buf_puts(out, "\\\\");
        else if (*s == '"') sl_buf_puts(out, "\\\"");
        else if (*s == '\n') sl_buf_puts(out, "\\n");
        else sl_buf_putc(out, *s);
    }
}

void sl_sink_retry_prometheus(sl_pipeline *p, sl_buf *out)
{
    if (p->n_sinks == 0) return;
    sl_buf_puts(out, "# HELP sluice_sink_retries_total Write attempts a sink repeated after a failure.\n"
                     "# TYPE sluice_sink_retries_total counter\n");
    for (int i = 0; i < p->n_sinks; i++) {
        sl_buf_puts(out, "sluice_sink_retries_total{component=\"");
        put_label(out, p->sinks[i].c->name);
        sl_buf_printf(out, "\"} %llu\n", (unsigned long long)atomic_load(&p->sinks[i].guard.retries));
    }
    sl_buf_puts(out, "# HELP sluice_sink_breaker_state A sink's circuit breaker: 0 closed, 1 open, 2 half-open.\n"
                     "# TYPE sluice_sink_breaker_state gauge\n");
    for (int i = 0; i < p->n_sinks; i++) {
        sl_buf_puts(out, "sluice_sink_breaker_state{component=\"");
        put_label(out, p->sinks[i].c->name);
        sl_buf_printf(out, "\"} %d\n", atomic_load(&p->sinks[i].guard.breaker));
    }
    sl_buf_puts(out, "# HELP sluice_sink_disk_full 1 while a sink is paused because its disk is full, else 0.\n"
                     "# TYPE sluice_sink_disk_full gauge\n");
    for (int i = 0; i < p->n_sinks; i++) {
        sl_buf_puts(out, "sluice_sink_disk_full{component=\"");
        put_label(out, p->sinks[i].c->name);
        sl_buf_printf(out, "\"} %d\n", atomic_load(&p->sinks[i].guard.disk_full));
    }
    sl_buf_puts(out, "# HELP sluice_sink_disk_full_pauses_total Times a sink paused because its disk was full.\n"
                     "# TYPE sluice_sink_disk_full_pauses_total counter\n");
    for (int i = 0; i < p->n_sinks; i++) {
        sl_buf_puts(out, "sluice_sink_disk_full_pauses_total{component=\"");
        put_label(out, p->sinks[i].c->name);
        sl_buf_printf(out, "\"} %llu\n", (unsigned long long)atomic_load(&p->sinks[i].guard.disk_full_pauses));
    }
}
