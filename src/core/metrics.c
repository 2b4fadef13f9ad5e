/* metrics.c — per-component counters and their two renderings: the
 * Prometheus text format for /metrics and JSON for /stats (see metrics.h).
 *
 * The latency histogram has SL_LATENCY_BUCKETS finite buckets with upper
 * bounds 10us, 31.6us, 100us, ... 3.16s (half decades); the +Inf bucket is the
 * total count. Buckets are stored non-cumulatively and summed when rendered.
 */
#include "metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const uint64_t bucket_bound_ns[SL_LATENCY_BUCKETS] = {
    10000, 31600, 100000, 316000, 1000000, 3160000,
    10000000, 31600000, 100000000, 316000000, 1000000000, 3160000000,
};
static const char *const bucket_label[SL_LATENCY_BUCKETS] = {
    "0.00001", "0.0000316", "0.0001", "0.000316", "0.001", "0.00316",
    "0.01", "0.0316", "0.1", "0.316", "1", "3.16",
};

static void out_of_memory(void) {
    fputs("sluice: out of memory\n", stderr);
    abort();
}

sl_metrics *sl_metrics_new(void) {
    sl_metrics *m = calloc(1, sizeof *m);
    if (!m)
        out_of_memory();
    m->started_ns = sl_now_ns();
    return m;
}

void sl_metrics_free(sl_metrics *m) {
    if (!m)
        return;
    for (int i = 0; i < m->count; i++) {
        pthread_mutex_destroy(&m->components[i]->lock);
        free(m->components[i]);
    }
    free(m->components);
    free(m);
}

sl_component_metrics *sl_metrics_add(sl_metrics *m, const char *component, const char *kind, const char *type) {
    sl_component_metrics **list = realloc(m->components, (size_t)(m->count + 1) * sizeof *list);
    sl_component_metrics *c = calloc(1, sizeof *c);
    if (!list || !c)
        out_of_memory();
    m->components = list;
    c->component = component;
    c->kind = kind;
    c->type = type;
    pthread_mutex_init(&c->lock, NULL);
    m->components[m->count++] = c;
    return c;
}

void sl_metrics_received(sl_component_metrics *c, uint64_t events, uint64_t bytes) {
    atomic_fetch_add_explicit(&c->received_events, events, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->received_bytes, bytes, memory_order_relaxed);
}

void sl_metrics_sent(sl_component_metrics *c, uint64_t events, uint64_t bytes) {
    atomic_fetch_add_explicit(&c->sent_events, events, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->sent_bytes, bytes, memory_order_relaxed);
}

void sl_metrics_latency(sl_component_metrics *c, uint64_t ns) {
    atomic_fetch_add_explicit(&c->latency_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->latency_sum_ns, ns, memory_order_relaxed);
    for (int i = 0; i < SL_LATENCY_BUCKETS; i++) {
        if (ns <= bucket_bound_ns[i]) {
            atomic_fetch_add_explicit(&c->latency_buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
}

/* Adds n to reason's row; when the table is full the last row becomes "other". */
static void count_reason(sl_reason_count *table, const char *reason, uint64_t n) {
    int i = 0;
    while (i < SL_MAX_REASONS && table[i].reason[0] && strcmp(table[i].reason, reason) != 0)
        i++;
    if (i == SL_MAX_REASONS) {
        i = SL_MAX_REASONS - 1;
        snprintf(table[i].reason, sizeof table[i].reason, "other");
    } else if (!table[i].reason[0]) {
        snprintf(table[i].reason, sizeof table[i].reason, "%s", reason);
    }
    table[i].count += n;
}

void sl_metrics_error(sl_component_metrics *c, const char *error_type, uint64_t n) {
    pthread_mutex_lock(&c->lock);
    count_reason(c->errors, error_type, n);
    pthread_mutex_unlock(&c->lock);
}

void sl_metrics_dlq(sl_metrics *m, sl_component_metrics *c, const char *reason, uint64_t n) {
    atomic_fetch_add_explicit(&m->dlq_total, n, memory_order_relaxed);
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    count_reason(c->dlq, reason, n);
    pthread_mutex_unlock(&c->lock);
}

/* A consistent copy of a reason table. */
static int copy_reasons(const sl_component_metrics *c, const sl_reason_count *table,
                        sl_reason_count out[SL_MAX_REASONS]) {
    pthread_mutex_t *lock = (pthread_mutex_t *)&c->lock;
    pthread_mutex_lock(lock);
    int n = 0;
    while (n < SL_MAX_REASONS && table[n].reason[0]) {
        out[n] = table[n];
        n++;
    }
    pthread_mutex_unlock(lock);
    return n;
}

/* ---- Prometheus ---- */

void sl_prom_escape(sl_buf *out, const char *s) {
    for (; *s; s++) {
        if (*s == '\\') sl_buf_puts(out, "\\\\");
        else if (*s == '"') sl_buf_puts(out, "\\\"");
        else if (*s == '\n') sl_buf_puts(out, "\\n");
        else sl_buf_putc(out, *s);
    }
}

/* Writes name{component="..",component_kind="..",component_type=".." and
 * leaves the label set open for the caller to add to or close. */
static void prom_series(sl_buf *out, const char *name, const sl_component_metrics *c) {
    sl_buf_printf(out, "%s{component=\"", name);
    sl_prom_escape(out, c->component);
    sl_buf_puts(out, "\",component_kind=\"");
    sl_prom_escape(out, c->kind);
    sl_buf_puts(out, "\",component_type=\"");
    sl_prom_escape(out, c->type);
    sl_buf_putc(out, '"');
}

static void prom_header(sl_buf *out, const char *name, const char *type, const char *help) {
    sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef enum { RECEIVED_EVENTS, RECEIVED_BYTES, SENT_EVENTS, SENT_BYTES } counter_id;

static uint64_t counter_value(const sl_component_metrics *c, counter_id id) {
    switch (id) {
    case RECEIVED_EVENTS: return c->received_events;
    case RECEIVED_BYTES: return c->received_bytes;
    case SENT_EVENTS: return c->sent_events;
    case SENT_BYTES: return c->sent_bytes;
    }
    return 0;
}

static void prom_reasons(const sl_metrics *m, sl_buf *out, const char *name, const char *label,
                         bool dlq) {
    for (int i = 0; i < m->count; i++) {
        const sl_component_metrics *c = m->components[i];
        sl_reason_count rows[SL_MAX_REASONS];
        int n = copy_reasons(c, dlq ? c->dlq : c->errors, rows);
        for (int k = 0; k < n; k++) {
            prom_series(out, name, c);
            sl_buf_printf(out, ",%s=\"", label);
            sl_prom_escape(out, rows[k].reason);
            sl_buf_printf(out, "\"} %llu\n", (unsigned long long)rows[k].count);
        }
    }
}

void sl_metrics_render_prometheus(const sl_metrics *m, sl_buf *out) {
    static const struct { const char *name, *help; counter_id id; } counters[] = {
        {"sluice_component_received_events_total", "Events received by the component.", RECEIVED_EVENTS},
        {"sluice_component_received_bytes_total", "Bytes received by the component.", RECEIVED_BYTES},
        {"sluice_component_sent_events_total", "Events sent on by the component.", SENT_EVENTS},
        {"sluice_component_sent_bytes_total", "Bytes sent on by the component.", SENT_BYTES},
    };
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        prom_header(out, counters[k].name, "counter", counters[k].help);
        for (int i = 0; i < m->count; i++) {
            prom_series(out, counters[k].name, m->components[i]);
            sl_buf_printf(out, "} %llu\n",
                          (unsigned long long)counter_value(m->components[i], counters[k].id));
        }
    }

    prom_header(out, "sluice_component_errors_total", "counter", "Errors by type.");
    prom_reasons(m, out, "sluice_component_errors_total", "error_type", false);
    prom_header(out, "sluice_component_discarded_events_total", "counter",
                "Events sent to the dead-letter queue, by reason.");
    prom_reasons(m, out, "sluice_component_discarded_events_total", "reason", true);

    prom_header(out, "sluice_component_processing_seconds", "histogram",
                "Time spent processing one batch.");
    for (int i = 0; i < m->count; i++) {
        const sl_component_metrics *c = m->components[i];
        uint64_t cumulative = 0, count = c->latency_count;
        for (int b = 0; b < SL_LATENCY_BUCKETS; b++) {
            cumulative += c->latency_buckets[b];
            prom_series(out, "sluice_component_processing_seconds_bucket", c);
            sl_buf_printf(out, ",le=\"%s\"} %llu\n", bucket_label[b], (unsigned long long)cumulative);
        }
        /* Concurrent updates may have bumped buckets after count was read. */
        if (count < cumulative)
            count = cumulative;
        prom_series(out, "sluice_component_processing_seconds_bucket", c);
        sl_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)count);
        prom_series(out, "sluice_component_processing_seconds_sum", c);
        sl_buf_printf(out, "} %.9g\n", (double)c->latency_sum_ns / 1e9);
        prom_series(out, "sluice_component_processing_seconds_count", c);
        sl_buf_printf(out, "} %llu\n", (unsigned long long)count);
    }

    prom_header(out, "sluice_uptime_seconds", "gauge", "Seconds since the pipeline started.");
    sl_buf_printf(out, "sluice_uptime_seconds %.3f\n", (double)(sl_now_ns() - m->started_ns) / 1e9);
    prom_header(out, "sluice_dlq_events_total", "counter", "Events written to the dead-letter queue.");
    sl_buf_printf(out, "sluice_dlq_events_total %llu\n", (unsigned long long)m->dlq_total);
}

/* ---- JSON ---- */

static void json_string(sl_buf *out, const char *s) {
    sl_buf_putc(out, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sl_buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            sl_buf_printf(out, "\\u%04x", c);
        else
            sl_buf_putc(out, (char)c);
    }
    sl_buf_putc(out, '"');
}

static void json_reasons(sl_buf *out, const sl_component_metrics *c, const sl_reason_count *table) {
    sl_reason_count rows[SL_MAX_REASONS];
    int n = copy_reasons(c, table, rows);
    sl_buf_putc(out, '{');
    for (int k = 0; k < n; k++) {
        if (k)
            sl_buf_putc(out, ',');
        json_string(out, rows[k].reason);
        sl_buf_printf(out, ":%llu", (unsigned long long)rows[k].count);
    }
    sl_buf_putc(out, '}');
}

void sl_metrics_render_json(const sl_metrics *m, sl_buf *out) {
    sl_buf_printf(out, "{\"uptime_seconds\":%.3f,\"dlq_events\":%llu,\"input_bytes\":%llu,"
                  "\"input_bytes_expected\":%llu,\"components\":[",
                  (double)(sl_now_ns() - m->started_ns) / 1e9, (unsigned long long)m->dlq_total,
                  (unsigned long long)m->input_bytes_total,
                  (unsigned long long)m->input_bytes_expected);
    for (int i = 0; i < m->count; i++) {
        const sl_component_metrics *c = m->components[i];
        if (i)
            sl_buf_putc(out, ',');
        sl_buf_puts(out, "{\"name\":");
        json_string(out, c->component);
        sl_buf_puts(out, ",\"kind\":");
        json_string(out, c->kind);
        sl_buf_puts(out, ",\"type\":");
        json_string(out, c->type);
        sl_buf_printf(out, ",\"received_events\":%llu,\"received_bytes\":%llu,"
                      "\"sent_events\":%llu,\"sent_bytes\":%llu,\"errors\":",
                      (unsigned long long)c->received_events, (unsigned long long)c->received_bytes,
                      (unsigned long long)c->sent_events, (unsigned long long)c->sent_bytes);
        json_reasons(out, c, c->errors);
        sl_buf_puts(out, ",\"discarded\":");
        json_reasons(out, c, c->dlq);
        sl_buf_printf(out, ",\"processing_seconds\":{\"count\":%llu,\"sum\":%.9g}}",
                      (unsigned long long)c->latency_count, (double)c->latency_sum_ns / 1e9);
    }
    sl_buf_puts(out, "]}");
}
