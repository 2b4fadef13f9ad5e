/* generate.c — the `generate` source: deterministic synthetic events for
 * demos, tests and benchmarks.
 *
 * Each event is a JSON line of about 390 bytes shaped like an inference log
 * record (timestamp, level, service, user, latency, prompt, token counts,
 * tags, request id). Event number i is a pure function of (seed, i): its
 * random draws come from a splitmix64 generator seeded with a hash of both,
 * so the output is byte-identical for a seed whatever the batch size, the
 * rate or where a run was stopped. Events are written straight into the
 * batch's data buffer as frames and decoded by the workers like file input,
 * so a benchmark of generate -> ... measures the whole path.
 *
 * Checkpoints: since event i depends only on (seed, i), the next event's
 * number and the seed are the whole state. A restarted run continues the
 * sequence where the last checkpoint left it (count is the length of the
 * whole sequence, not of one run); a different seed starts it over.
 */
#include <stdlib.h>
#include <string.h>

#include "../codec/format.h"
#include "../codec/json_state.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../runtime/component.h"
#include "../runtime/pipeline.h"

#define MAX_EVENT 1024                  /* an event is never longer */
#define AVG_EVENT 390                   /* for the progress bar's expected total */
#define EPOCH_2026 1767225600LL         /* 2026-01-01T00:00:00Z */

typedef struct generate_source {
    sl_format format;     /* jsonl; batches point at it */
    void *stream;         /* the format's stream context */
    uint64_t count;       /* 0 = until stopped */
    uint64_t seed;
    double rate;          /* events per second, 0 = unthrottled */
    /* The next event's number: every event before it was submitted. Moved
     * before each submit, where a checkpoint may save it. */
    uint64_t next;
} generate_source;

static const sl_option generate_options[] = {
    {"count", SL_OPT_INT, false, "1000",
     "Events to generate; 0 generates until the pipeline is stopped. A run resumed from a "
     "checkpoint generates the rest of the `count`, not `count` more.",
     NULL},
    {"seed", SL_OPT_INT, false, "1", "Seed of the generator: the same seed gives byte-identical events.", NULL},
    {"rate", SL_OPT_FLOAT, false, "0",
     "Events per second; 0 generates as fast as the pipeline takes them. Throttled events "
     "are submitted in batches of at most a tenth of a second's worth. A resumed run keeps "
     "the rate from its start (it does not catch up on the time it was stopped).",
     NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

/* ---- random draws ---- */

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t next(uint64_t *state) {
    *state += 0x9e3779b97f4a7c15ULL;
    return mix64(*state);
}

static uint64_t below(uint64_t *state, uint64_t n) {
    return next(state) % n;
}

/* ---- writing ---- */

static char *put(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_uint(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_padded(char *p, unsigned v, int width) {
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

static char *put_hex(char *p, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        p[i] = digits[v & 15];
        v >>= 4;
    }
    return p + 16;
}

/* "2026-01-01T00:00:00.123Z" */
static char *put_time(char *p, int64_t ms) {
    int64_t secs = ms / 1000, days = secs / 86400, sod = secs % 86400;
    int64_t year;
    unsigned month, day;
    sl_civil_from_days(days, &year, &month, &day);
    p = put_padded(p, (unsigned)year, 4);
    *p++ = '-';
    p = put_padded(p, month, 2);
    *p++ = '-';
    p = put_padded(p, day, 2);
    *p++ = 'T';
    p = put_padded(p, (unsigned)(sod / 3600), 2);
    *p++ = ':';
    p = put_padded(p, (unsigned)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_padded(p, (unsigned)(sod % 60), 2);
    *p++ = '.';
    p = put_padded(p, (unsigned)(ms % 1000), 3);
    *p++ = 'Z';
    return p;
}

static const char *const services[] = {"api", "worker", "auth", "billing", "search", "gateway", "embedder", "ranker"};
static const char *const regions[] = {"eu-west-1", "us-east-1", "ap-south-1"};
static const char *const tag_names[] = {"prod", "canary", "beta", "mobile", "web", "batch", "gpu", "eu", "us"};
static const char *const words[] = {
    "summarize", "the",      "following", "report",   "about",   "quarterly", "revenue",  "growth",
    "explain",   "how",      "a",         "neural",   "network", "learns",    "from",     "data",
    "translate", "this",     "paragraph", "into",     "french",  "and",       "keep",     "tone",
    "write",     "short",    "poem",      "ocean",    "waves",   "at",        "night",    "list",
    "three",     "risks",    "of",        "deploying","large",   "language",  "models",   "in",
    "production","compare",  "two",       "database", "indexes", "for",       "search",   "queries",
    "draft",     "an",       "email",     "to",       "customer","support",   "asking",   "refund",
    "what",      "is",       "best",      "way",      "cache",   "embeddings","quickly",  "please",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Writes event number seq (a JSON line) at out; returns its length. */
static size_t write_event(char *out, uint64_t seed, uint64_t seq) {
    uint64_t st = mix64(seed ^ mix64(seq + 0x632be59bd9b4e019ULL));
    char *p = out;

    p = put(p, "{\"ts\":\"");
    p = put_time(p, (EPOCH_2026 * 1000) + (int64_t)(seq * 10 + below(&st, 10)));

    unsigned roll = (unsigned)below(&st, 100);
    const char *level = roll < 10 ? "debug" : roll < 75 ? "info" : roll < 93 ? "warn" : "error";
    p = put(p, "\",\"level\":\"");
    p = put(p, level);

    unsigned service = (unsigned)below(&st, N(services));
    p = put(p, "\",\"service\":\"");
    p = put(p, services[service]);
    p = put(p, "\",\"host\":\"");
    p = put(p, services[service]);
    *p++ = '-';
    p = put_padded(p, (unsigned)below(&st, 16), 2);
    *p++ = '.';
    p = put(p, regions[below(&st, N(regions))]);

    uint64_t user = below(&st, 100000) + 1;
    p = put(p, "\",\"user\":{\"id\":");
    p = put_uint(p, user);
    p = put(p, ",\"email\":\"user");
    p = put_uint(p, user);
    p = put(p, "@example.com\"}");

    /* Latency in tenths of a millisecond: mostly short, a slow tail. */
    uint64_t tenths = 20 + below(&st, 2500);
    if (below(&st, 50) == 0) tenths += below(&st, 50000);
    if (level[0] == 'e') tenths += below(&st, 10000);
    p = put(p, ",\"latency_ms\":");
    p = put_uint(p, tenths / 10);
    *p++ = '.';
    *p++ = (char)('0' + tenths % 10);

    static const unsigned ok[] = {200, 200, 200, 200, 201, 204}, warn[] = {400, 404, 429},
                          error[] = {500, 502, 503};
    unsigned status = level[0] == 'e' ? error[below(&st, N(error))]
                    : level[0] == 'w' ? warn[below(&st, N(warn))]
                                      : ok[below(&st, N(ok))];
    p = put(p, ",\"status\":");
    p = put_uint(p, status);

    p = put(p, ",\"prompt\":\"");
    char *prompt = p;
    size_t target = 70 + below(&st, 50);
    while ((size_t)(p - prompt) < target) {
        if (p != prompt) *p++ = ' ';
        p = put(p, words[below(&st, N(words))]);
    }
    size_t prompt_len = (size_t)(p - prompt);
    *p++ = '"';

    p = put(p, ",\"tokens\":{\"in\":");
    p = put_uint(p, prompt_len / 4 + below(&st, 40));
    p = put(p, ",\"out\":");
    p = put_uint(p, 20 + below(&st, 800));
    p = put(p, "},\"tags\":[");
    unsigned n_tags = 1 + (unsigned)below(&st, 3), first = (unsigned)below(&st, N(tag_names));
    for (unsigned i = 0; i < n_tags; i++) {   /* stride 2 over 9 names: distinct */
        if (i) *p++ = ',';
        *p++ = '"';
        p = put(p, tag_names[(first + 2 * i) % N(tag_names)]);
        *p++ = '"';
    }
    p = put(p, "],\"request_id\":\"");
    p = put_hex(p, next(&st));
    p = put_hex(p, next(&st));
    p = put(p, "\"}\n");
    return (size_t)(p - out);
}

/* ---- the component ---- */

static int generate_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    int64_t count = sl_opts_int(opts, "count"), seed = sl_opts_int(opts, "seed");
    double rate = sl_opts_float(opts, "rate");
    int rc = 0;
    if (count < 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "count"), "count must be 0 (unlimited) or more");
        rc = -1;
    }
    if (!(rate >= 0 && rate <= 1e9)) {
        sl_diag_error(diag, sl_opts_pos(opts, "rate"), "rate must be between 0 (unthrottled) and 1e9 events/s");
        rc = -1;
    }
    if (rc < 0) return -1;

    generate_source *g = calloc(1, sizeof *g);
    if (!g) abort();
    sl_format_init(&g->format, SL_FORMAT_JSONL);
    sl_decode_error derr = {0};
    g->stream = sl_format_stream_new(&g->format, NULL, 0, &derr);
    g->count = (uint64_t)count;
    g->seed = (uint64_t)seed;
    g->rate = rate;
    c->impl = g;
    return 0;
}

static void generate_destroy(sl_component *c) {
    generate_source *g = c->impl;
    if (!g) return;
    sl_format_stream_free(&g->format, g->stream);
    sl_format_free(&g->format);
    free(g);
    c->impl = NULL;
}

static int generate_run(sl_component *c, sl_source_ctx *ctx, sl_error *err) {
    generate_source *g = c->impl;
    size_t data_cap = sl_source_batch_bytes(ctx) + MAX_EVENT;
    uint64_t max_records = sl_source_batch_records(ctx);
    if (g->rate > 0) {   /* at most a tenth of a second's worth per batch */
        uint64_t per_tenth = g->rate >= 10 ? (uint64_t)(g->rate / 10) : 1;
        if (per_tenth < max_records) max_records = per_tenth;
    }
    uint64_t first = g->next;
    if (g->count && first >= g->count) {
        sl_info(c->name, "all %llu events were generated by an earlier run (checkpoint); nothing to do "
                "(--from-start generates them again)", (unsigned long long)g->count);
        return 0;
    }
    if (first > 0) sl_info(c->name, "resuming at event %llu", (unsigned long long)first);
    if (g->count) sl_source_expect_bytes(ctx, (g->count - first) * AVG_EVENT);

    int64_t start_ns = sl_monotonic_ns();
    for (uint64_t seq = first; g->count == 0 || seq < g->count;) {
        if (sl_source_should_stop(ctx)) break;
        uint64_t n = max_records;
        if (g->count && g->count - seq < n) n = g->count - seq;
        if (g->rate > 0) {   /* wait until the last event of this batch is due */
            int64_t due = start_ns + (int64_t)((double)(seq - first + n - 1) / g->rate * 1e9);
            int64_t wait = due - sl_monotonic_ns();
            if (wait > 0 && !sl_source_sleep(ctx, (unsigned)((wait + 999999) / 1000000))) break;
        }

        sl_batch *b = sl_source_batch_new(ctx, data_cap);
        b->origin = c->name;
        b->format = &g->format;
        b->stream = g->stream;
        for (uint64_t i = 0; i < n && b->data_len + MAX_EVENT <= b->data_cap; i++, seq++) {
            size_t len = write_event(b->data + b->data_len, g->seed, seq);
            sl_batch_add_frame(b, b->data_len, len, (sl_position){0, seq});
            b->data_len += len;
        }
        b->input_bytes = b->data_len;
        sl_source_progress(ctx, b->data_len);
        g->next = seq;
        if (sl_source_submit(ctx, b) < 0) break;
    }
    return 0;
}

static int generate_save(sl_component *c, sl_buf *state, sl_error *err) {
    (void)err;
    const generate_source *g = c->impl;
    sl_buf_printf(state, "{\"seed\":%llu,\"next\":%llu}", (unsigned long long)g->seed,
                  (unsigned long long)g->next);
    return 0;
}

static int generate_restore(sl_component *c, const char *state, size_t len, sl_error *err) {
    generate_source *g = c->impl;
    g->next = 0;
    if (!state) return 0;
    sl_arena a;
    sl_arena_init(&a, 256);
    sl_value doc;
    uint64_t seed = 0, next = 0;
    int rc = sl_state_parse(&a, state, len, "the saved generator state", &doc, err);
    if (rc == 0 && (!sl_state_uint(&doc, "seed", &seed) || !sl_state_uint(&doc, "next", &next)))
        rc = sl_errorf(err, "the saved generator state has no \"seed\" and \"next\" numbers");
    sl_arena_free(&a);
    if (rc < 0) return -1;
    if (seed != g->seed)
        sl_warn(c->name, "seed changed from %lld to %lld since the last checkpoint; generating from event 0",
                (long long)seed, (long long)g->seed);
    else
        g->next = next;
    return 0;
}

const sl_component_type sl_source_generate_type = {
    .name = "generate",
    .kind = SL_SOURCE,
    .summary = "Generates deterministic synthetic JSON events, for demos and benchmarks",
    .doc =
        "Generates `count` synthetic events shaped like an inference log (about 390 bytes of "
        "JSON each), then finishes; with `count: 0` it runs until the pipeline is stopped. "
        "An event looks like:\n\n"
        "```json\n"
        "{\"ts\":\"2026-01-01T00:00:00.007Z\",\"level\":\"info\",\"service\":\"search\","
        "\"host\":\"search-03.eu-west-1\",\"user\":{\"id\":4711,\"email\":\"user4711@example.com\"},"
        "\"latency_ms\":87.3,\"status\":200,\"prompt\":\"explain how a neural network learns ...\","
        "\"tokens\":{\"in\":41,\"out\":388},\"tags\":[\"prod\",\"mobile\"],"
        "\"request_id\":\"9f0c...\"}\n"
        "```\n\n"
        "Levels are about 10% debug, 65% info, 18% warn and 7% error; the status follows the "
        "level (2xx, 4xx, 5xx); latencies have a slow tail; timestamps advance 10 ms per event "
        "from 2026-01-01T00:00:00Z.\n\n"
        "**Determinism.** Event *i* depends only on `seed` and *i*: the same seed gives "
        "byte-identical output whatever the batch size, rate or number of workers.\n\n"
        "**Positions.** The event's sequence number (0, 1, 2, ...) as the offset, file id 0. "
        "The source never produces dead letters.\n\n"
        "**Resuming.** Checkpoints save the number of the next event (and the seed), so a "
        "restarted run continues the sequence instead of repeating it: together, the runs "
        "produce the output of one uninterrupted run. `count` is the length of the whole "
        "sequence: a run resumed after *n* events generates the other `count` - *n*, and one "
        "resumed after all of them generates nothing. With `count: 0` the sequence goes on "
        "from where it stopped. `rate` applies from the restart. A changed `seed` starts the "
        "sequence over (with a warning), and `sluice run --from-start` ignores the saved "
        "position.",
    .example =
        "sources:\n"
        "  demo:\n"
        "    type: generate\n"
        "    count: 100000\n"
        "    seed: 42\n"
        "    rate: 5000        # events per second; 0 = as fast as possible\n",
    .options = generate_options,
    .create = generate_create,
    .destroy = generate_destroy,
    .run = generate_run,
    .save = generate_save,
    .restore = generate_restore,
};
