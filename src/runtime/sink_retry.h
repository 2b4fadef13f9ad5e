/* sink_retry.h — what happens when a sink cannot write: retries with
 * exponential backoff and full jitter, a circuit breaker per sink, an
 * optional fallback sink, and the DLQ (or a failed run) when a payload can
 * never be delivered. Never a silent drop.
 *
 * The options are the runtime's, not the sinks': every sink accepts
 * `retry`, `breaker`, `fallback` and `on_failure`. The builder takes those
 * keys out of a sink's mapping before the sink's own schema sees it and
 * resolves them against sl_sink_retry_options, so they are validated (with
 * positions) and documented once for every sink type.
 *
 * The sink thread (run.c) hands each payload to sl_sink_deliver:
 *  - write, one payload part per write call (a templated file sink has a
 *    part per file), so that a retry resumes at the part that failed and
 *    never writes a part twice; on success the breaker closes;
 *  - on failure, wait random(0, min(retry.max, retry.initial * 2^attempt))
 *    and try again, up to retry.max_attempts attempts (0 = forever);
 *  - breaker.failures consecutive failed attempts open the breaker: no
 *    write is attempted for breaker.cooldown, then one probe write
 *    (half-open) closes it on success or opens it again. The payload being
 *    written when the breaker opened keeps its attempts (they wait for the
 *    cooldown); a payload that arrives while the breaker is open goes to the
 *    fallback or the DLQ at once, and one that arrives when the cooldown is
 *    over is the probe and gets that single attempt. So a sink that is down
 *    for good costs one payload's retries, then drains at full speed
 *    instead of holding back the sources and the other sinks.
 *  - a payload that is given up goes to the fallback sink's queue (the
 *    fallback writes it on its own thread, with its own retries), else to
 *    the DLQ with reason `sink_failed`, one entry per encoded line, or,
 *    with `on_failure: fail`, stops the run. Parts already written are
 *    taken out of it first.
 *  - a stop request ends any wait: the payload is given up at once (to the
 *    fallback or the DLQ, whatever on_failure says) rather than lost.
 *  - a full disk (the write failed with ENOSPC or EDQUOT) is not a failure:
 *    it counts toward neither retry.max_attempts nor the breaker, and the
 *    payload never goes to the fallback or the DLQ (the records are fine,
 *    and the DLQ is usually on the same disk). The sink pauses, retrying
 *    with a backoff from retry.initial doubling up to min(retry.max, 1 s),
 *    for as long as it takes; its queue fills and the sources wait
 *    (backpressure). The pause is logged when it starts and when it ends,
 *    and shown by sluice_sink_disk_full. A pre-commit that finds the disk
 *    full pauses the same way (sl_sink_save). A stop request during the pause
 *    fails the run: the payload and the ones queued behind it are not
 *    written, and since no checkpoint covers them the next run reads them
 *    again.
 */
#ifndef SL_SINK_RETRY_H
#define SL_SINK_RETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../config/diag.h"
#include "../config/options.h"
#include "../core/buf.h"
#include "../core/error.h"

struct sl_sink_rt;
struct sl_sink_item;
struct sl_pipeline;

typedef enum { SL_BREAKER_CLOSED = 0, SL_BREAKER_OPEN = 1, SL_BREAKER_HALF_OPEN = 2 } sl_breaker_state;

/* The options every sink accepts, NULL-name terminated (for docs). */
extern const sl_option sl_sink_retry_options[];
/* Whether a top-level key of a sink's mapping is one of them. */
bool sl_sink_retry_key(const char *key);

typedef struct sl_sink_guard {
    /* settings */
    uint64_t initial_ms, max_ms;
    uint32_t max_attempts;          /* 0 = forever */
    uint32_t breaker_failures;      /* 0 = no breaker */
    uint64_t cooldown_ms;
    bool fail_run;                  /* on_failure: fail */
    struct sl_sink_rt *fallback;    /* or NULL */
    int feeders;                    /* sinks that fall back to this one */
    /* state: written by the sink thread, read by /metrics */
    _Atomic int breaker;            /* sl_breaker_state */
    _Atomic uint64_t retries;
    uint32_t consecutive_failures;
    int64_t open_until_ns;          /* CLOCK_MONOTONIC */
    uint64_t rng;
    char last_error[SL_ERROR_MAX];
    _Atomic int disk_full;          /* 1 while paused on a full disk */
    _Atomic uint64_t disk_full_pauses;
    int64_t disk_full_since_ns;     /* CLOCK_MONOTONIC */
} sl_sink_guard;

/* Checks every sink's retry options (resolved by the builder into
 * p->retry_opts, one per component, NULL for others): value ranges, and
 * that a fallback names another sink that can take the payloads as encoded
 * (same type, same options apart from `path`, no template path, no cycle).
 * Returns -1 when it reported errors. */
int sl_sink_retry_check(struct sl_pipeline *p, sl_diag *diag);
/* Whether some sink names `name` as its fallback (such a sink needs no
 * inputs of its own). */
bool sl_sink_retry_is_fallback(const struct sl_pipeline *p, const char *name);
/* Fills every sink's guard from its options (after the plan is made). */
void sl_sink_retry_init(struct sl_pipeline *p);

/* Sink thread: delivers one payload (taking ownership of the item) as
 * described above. Returns false when the run must fail (on_failure: fail,
 * or the DLQ could not be written); the failure is recorded already. */
bool sl_sink_deliver(struct sl_sink_rt *s, struct sl_sink_item *item);
/* The sink's pre-commit (its type's save into state), paused like a write
 * while it finds the disk full (a frame of an exactly-once file sink is
 * written then). Returns 0, or -1 with err: another error, or a stop
 * during the pause. */
int sl_sink_save(struct sl_sink_rt *s, sl_buf *state, sl_error *err);

/* End of the run: closes the sink queues and joins the sink threads, each
 * sink only after every sink falling back to it has finished. */
void sl_sinks_close_and_join(struct sl_pipeline *p);

/* Appends sluice_sink_retries_total, sluice_sink_breaker_state,
 * sluice_sink_disk_full and sluice_sink_disk_full_pauses_total for every
 * sink (Prometheus text with HELP/TYPE). */
void sl_sink_retry_prometheus(struct sl_pipeline *p, sl_buf *out);

#endif
