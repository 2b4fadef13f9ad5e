/* redact.c — the `redact` transform: finds personal data in text fields
 * (email, phone, IP, credit card, IBAN, SSN, custom PCRE2 patterns) and
 * masks, partially masks, hashes with a secret key, or drops it; a record
 * holding too much of it can be dropped whole.
 *
 * The built-in detectors live in text/pii.c (hand-written scanners with
 * validators, no regular expressions); a cheap prefilter per string skips
 * the detectors that cannot match (no '@', no digit). Hits of all detectors
 * are merged, overlaps resolved (the earliest, then longest, hit wins), and
 * the replacement string is written straight into the batch arena; strings
 * without hits are not touched or copied.
 *
 * A record is first scanned without writing (sl_record_value): one with
 * nothing to redact stays unchanged, so sinks write it as it came. Only a
 * record with a hit is taken for writing and redacted in place.
 *
 * Once redact changed a record, the record's raw input frame is forgotten
 * (r->raw = NULL), so a DLQ entry written later — by this transform
 * (`pii_limit`) or any downstream one — shows the redacted record as JSON,
 * never the original text.
 *
 * Custom patterns run with an explicit PCRE2 match limit, so a pattern that
 * backtracks catastrophically on some text cannot stall a worker. Only "no
 * match" ends a pattern's scan; any other PCRE2 result (match limit, heap
 * limit, ...) sends the whole record to the DLQ (`redact_error`) with the
 * string that failed replaced by [REDACT_ERROR], so neither the output nor
 * the DLQ ever holds text the pattern may not have fully scanned.
 *
 * Keyed hashing is HMAC-SHA-256 (libsodium) of the value's canonical form;
 * the key comes from a secret node (${env:...} or ${file:...}) and is never
 * printed. Hit counters are summed per batch and added atomically.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sodium.h>

#include "../codec/json.h"
#include "../expr/expr.h"
#include "../text/pii.h"
#include "../runtime/component.h"

typedef enum { ACT_MASK, ACT_PARTIAL, ACT_HASH, ACT_DROP_FIELD } redact_action;

static const char *const action_values[] = {"mask", "partial", "hash", "drop_field", NULL};
static const char *const over_limit_values[] = {"dlq", "drop", NULL};

#define CUSTOM_NAME_MAX 48
#define HASH_HEX 16   /* hex characters of the HMAC shown in a token */
#define MATCH_LIMIT 1000000   /* PCRE2 backtracking steps per match attempt */
#define ERROR_TOKEN "[REDACT_ERROR]"

typedef struct redact_detector {
    const sl_pii_detector *builtin;   /* NULL for a custom pattern */
    char name[CUSTOM_NAME_MAX + 1];
    char label[CUSTOM_NAME_MAX + 1];  /* mask token text: EMAIL, EMPLOYEE_ID */
    pcre2_code *re;                   /* custom patterns */
    redact_action action;
    _Atomic uint64_t hits;
} redact_detector;

typedef struct redact_state {
    redact_detector *dets;
    size_t n_dets;
    unsigned builtin_mask;            /* 1 << sl_pii_builtin of the enabled built-ins */
    pcre2_match_context *match_ctx;   /* custom patterns: the match limit */
    sl_path **fields;                 /* NULL = every string, recursively */
    size_t n_fields;
    bool limit, limit_to_dlq;
    uint64_t limit_hits;
    unsigned char *key;
    size_t key_len;
    _Atomic uint64_t records, records_with_pii, records_dropped;
} redact_state;

typedef struct redact_worker {
    sl_pii_spans spans;
    sl_buf scratch;
    pcre2_match_data *md;
} redact_worker;

/* What one record's walk needs. */
typedef struct redact_ctx {
    redact_state *s;
    redact_worker *w;
    sl_arena *arena;
    uint64_t *hits;        /* per detector, for this batch */
    uint64_t record_hits;
    int match_error;       /* 0, or the PCRE2 error that stopped a custom pattern */
    size_t error_detector; /* ... and that pattern's index in s->dets */
} redact_ctx;

static const sl_option redact_options[] = {
    {"fields", SL_OPT_LIST, false, NULL,
     "Paths of the fields to scan, e.g. `[prompt, user.email]`; a path to a map or a list scans "
     "every string inside it. When omitted, every string in the record is scanned, at any depth "
     "(keys are not).", NULL},
    {"detect", SL_OPT_LIST, false, NULL,
     "Built-in detectors to run: `email`, `phone`, `ip`, `credit_card`, `iban`, `ssn`. Default: "
     "all of them.", NULL},
    {"patterns", SL_OPT_ANY, false, NULL,
     "Custom detectors: a mapping from a name (lowercase letters, digits, `_`) to a PCRE2 "
     "pattern, e.g. `{employee_id: 'EMP-\\d{6}'}`. A hit is masked as `[EMPLOYEE_ID]`.", NULL},
    {"action", SL_OPT_ENUM, false, "mask",
     "What replaces a hit: `mask` (`[EMAIL]`), `partial` (`j***@example.com`), `hash` (a keyed "
     "token `[EMAIL:3f2a9c1b7d4e5f60]`, needs `key`), or `drop_field` (remove the whole field).",
     action_values},
    {"actions", SL_OPT_ANY, false, NULL,
     "Per-detector actions overriding `action`, e.g. `{email: hash, credit_card: partial}`.", NULL},
    {"drop_record_over", SL_OPT_INT, false, NULL,
     "Drop a record that holds more than this many hits in total (Dolma uses 5). Default: never.",
     NULL},
    {"over_limit", SL_OPT_ENUM, false, "dlq",
     "Where a record dropped by `drop_record_over` goes: the DLQ (reason `pii_limit`, holding the "
     "redacted record) or nowhere (`drop`, still counted).", over_limit_values},
    {"key", SL_OPT_STRING, false, NULL,
     "Secret key for `hash`, at least 16 bytes, from `${env:NAME}` or `${file:PATH}`. The same "
     "value and key always give the same token.", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static int action_index(const char *v) {
    for (int i = 0; action_values[i]; i++)
        if (strcmp(action_values[i], v) == 0) return i;
    return -1;
}

static void redact_destroy(sl_component *c) {
    redact_state *s = c->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_dets; i++) pcre2_code_free(s->dets[i].re);
    free(s->dets);
    pcre2_match_context_free(s->match_ctx);
    for (size_t i = 0; i < s->n_fields; i++) sl_path_free(s->fields[i]);
    free(s->fields);
    if (s->key) {
        sodium_memzero(s->key, s->key_len);
        free(s->key);
    }
    free(s);
    c->impl = NULL;
}

static redact_detector *find_detector(redact_state *s, const char *name) {
    for (size_t i = 0; i < s->n_dets; i++)
        if (strcmp(s->dets[i].name, name) == 0) return &s->dets[i];
    return NULL;
}

static bool valid_custom_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > CUSTOM_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_')) return false;
    return true;
}

static int add_builtins(redact_state *s, const sl_opts *opts, sl_diag *diag) {
    size_t n = sl_opts_has(opts, "detect") ? sl_opts_list_len(opts, "detect") : SL_PII_BUILTIN_COUNT;
    for (size_t i = 0; i < n; i++) {
        const sl_pii_detector *d = sl_opts_has(opts, "detect")
                                       ? sl_pii_find(sl_opts_list_item(opts, "detect", i))
                                       : &sl_pii_detectors[i];
        if (!d) {
            sl_diag_error(diag, sl_opts_pos(opts, "detect"),
                          "unknown detector '%s'; the built-in detectors are email, phone, ip, "
                          "credit_card, iban and ssn (custom ones go under patterns:)",
                          sl_opts_list_item(opts, "detect", i));
            return -1;
        }
        unsigned bit = 1u << (d - sl_pii_detectors);
        if (s->builtin_mask & bit) continue;
        s->builtin_mask |= bit;
        redact_detector *r = &s->dets[s->n_dets++];
        r->builtin = d;
        snprintf(r->name, sizeof r->name, "%s", d->name);
        snprintf(r->label, sizeof r->label, "%s", d->label);
    }
    return 0;
}

static int add_patterns(redact_state *s, const sl_node *map, sl_diag *diag) {
    if (map->kind != SL_NODE_MAP) {
        sl_diag_error(diag, map->pos, "patterns must be a mapping from a name to a pattern, "
                                      "e.g. {employee_id: 'EMP-\\d{6}'}");
        return -1;
    }
    for (size_t i = 0; i < map->n_pairs; i++) {
        const sl_node *k = map->pairs[i].key, *v = map->pairs[i].value;
        if (!valid_custom_name(k->text) || sl_pii_find(k->text)) {
            sl_diag_error(diag, k->pos, "pattern name '%s' must be lowercase letters, digits and '_' "
                                        "(at most %d) and not a built-in detector's name",
                          k->text, CUSTOM_NAME_MAX);
            return -1;
        }
        if (v->kind != SL_NODE_SCALAR || v->len == 0) {
            sl_diag_error(diag, v->pos, "pattern '%s' must be a non-empty regular expression", k->text);
            return -1;
        }
        int code;
        PCRE2_SIZE offset;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->text, v->len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                       &code, &offset, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(code, msg, sizeof msg);
            sl_diag_error(diag, v->pos, "pattern '%s': %s at offset %zu", k->text, (const char *)msg,
                          (size_t)offset);
            return -1;
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter when unavailable */
        if (!s->match_ctx) {
            if (!(s->match_ctx = pcre2_match_context_create(NULL))) {
                pcre2_code_free(re);
                sl_diag_error(diag, v->pos, "out of memory");
                return -1;
            }
            pcre2_set_match_limit(s->match_ctx, MATCH_LIMIT);
        }
        redact_detector *r = &s->dets[s->n_dets++];
        r->re = re;
        snprintf(r->name, sizeof r->name, "%s", k->text);
        for (size_t j = 0; k->text[j]; j++) r->label[j] = (char)toupper((unsigned char)k->text[j]);
    }
    return 0;
}

static int set_actions(redact_state *s, const sl_opts *opts, sl_diag *diag) {
    redact_action all = (redact_action)action_index(sl_opts_enum(opts, "action"));
    for (size_t i = 0; i < s->n_dets; i++) s->dets[i].action = all;
    const sl_node *map = sl_opts_node(opts, "actions");
    if (!map) return 0;
    if (map->kind != SL_NODE_MAP) {
        sl_diag_error(diag, map->pos, "actions must be a mapping from a detector to an action, "
                                      "e.g. {email: hash, credit_card: partial}");
        return -1;
    }
    for (size_t i = 0; i < map->n_pairs; i++) {
        const sl_node *k = map->pairs[i].key, *v = map->pairs[i].value;
        redact_detector *d = find_detector(s, k->text);
        if (!d) {
            sl_diag_error(diag, k->pos, "actions: '%s' is not an enabled detector (see detect: and "
                                        "patterns:)", k->text);
            return -1;
        }
        int a = v->kind == SL_NODE_SCALAR ? action_index(v->text) : -1;
        if (a < 0) {
            sl_diag_error(diag, v->pos, "actions: the action for '%s' must be mask, partial, hash or "
                                        "drop_field", k->text);
            return -1;
        }
        d->action = (redact_action)a;
    }
    return 0;
}

static int set_key(redact_state *s, sl_component *c, const sl_opts *opts, sl_diag *diag) {
    bool hashing = false;
    for (size_t i = 0; i < s->n_dets; i++) hashing |= s->dets[i].action == ACT_HASH;
    const sl_node *key = sl_opts_node(opts, "key");
    if (!hashing) return 0;
    if (!key || key->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, sl_opts_pos(opts, "key"),
                      "action hash needs key: a secret of at least 16 bytes, e.g. "
                      "key: ${env:SLUICE_REDACT_KEY}");
        return -1;
    }
    if (!key->secret) {
        sl_diag_error(diag, key->pos, "key must come from ${env:NAME} or ${file:PATH}, not be "
                                      "written in the configuration");
        return -1;
    }
    if (key->len < 16) {
        sl_diag_error(diag, key->pos, "key is %zu bytes; use at least 16 (e.g. 32 random bytes, "
                                      "hex-encoded)", key->len);
        return -1;
    }
    if (sodium_init() < 0 || !(s->key = malloc(key->len))) {
        sl_diag_error(diag, c->pos, "cannot initialise libsodium");
        return -1;
    }
    memcpy(s->key, key->text, key->len);
    s->key_len = key->len;
    return 0;
}

static int redact_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    redact_state *s = calloc(1, sizeof *s);
    const sl_node *patterns = sl_opts_node(opts, "patterns");
    size_t n_custom = patterns && patterns->kind == SL_NODE_MAP ? patterns->n_pairs : 0;
    size_t n_fields = sl_opts_has(opts, "fields") ? sl_opts_list_len(opts, "fields") : 0;
    if (!s || !(s->dets = calloc(SL_PII_BUILTIN_COUNT + n_custom, sizeof *s->dets)) ||
        !(s->fields = calloc(n_fields ? n_fields : 1, sizeof *s->fields))) {
        if (s) free(s->dets);
        free(s);
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    c->impl = s;
    for (size_t i = 0; i < n_fields; i++) {
        sl_path *p = sl_path_parse(sl_opts_list_item(opts, "fields", i), sl_opts_pos(opts, "fields"), diag);
        if (!p) goto fail;
        s->fields[s->n_fields++] = p;
    }
    if (add_builtins(s, opts, diag) < 0) goto fail;
    if (patterns && add_patterns(s, patterns, diag) < 0) goto fail;
    if (s->n_dets == 0) {
        sl_diag_error(diag, c->pos, "redact has no detectors: list some in detect: or add patterns:");
        goto fail;
    }
    if (set_actions(s, opts, diag) < 0 || set_key(s, c, opts, diag) < 0) goto fail;
    if (sl_opts_has(opts, "drop_record_over")) {
        int64_t n = sl_opts_int(opts, "drop_record_over");
        if (n < 0) {
            sl_diag_error(diag, sl_opts_pos(opts, "drop_record_over"),
                          "drop_record_over must be 0 or more (0 drops every record with a hit)");
            goto fail;
        }
        s->limit = true;
        s->limit_hits = (uint64_t)n;
        s->limit_to_dlq = strcmp(sl_opts_enum(opts, "over_limit"), "dlq") == 0;
    }
    return 0;
fail:
    redact_destroy(c);
    return -1;
}

static void *redact_worker_init(sl_component *c, sl_error *err) {
    redact_worker *w = calloc(1, sizeof *w);
    if (!w || !(w->md = pcre2_match_data_create(1, NULL))) {
        free(w);
        sl_errorf(err, "out of memory");
        return NULL;
    }
    sl_buf_init(&w->scratch);
    return w;
}

static void redact_worker_free(sl_component *c, void *wstate) {
    redact_worker *w = wstate;
    sl_pii_spans_free(&w->spans);
    sl_buf_free(&w->scratch);
    pcre2_match_data_free(w->md);
    free(w);
}

/* ---- finding and replacing ---- */

/* Adds the hits of one custom pattern. Returns 0, or the PCRE2 error code
 * when matching failed (e.g. the match limit): the text may then hold hits
 * that were not found. */
static int scan_custom(const redact_state *st, const redact_detector *d, int index, const char *s, size_t len,
                       redact_worker *w) {
    size_t start = 0;
    while (start <= len) {
        int rc = pcre2_match(d->re, (PCRE2_SPTR)s, len, start, 0, w->md, st->match_ctx);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc < 0) return rc;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
        if (ov[1] > ov[0]) {
            sl_pii_spans_push(&w->spans, ov[0], ov[1], index);
            start = ov[1];
        } else {   /* empty match: move on by one character */
            start = ov[0] + 1;
            while (start < len && ((unsigned char)s[start] & 0xC0) == 0x80) start++;
        }
    }
    return 0;
}

/* Writes the keyed token [LABEL:0123456789abcdef] for one hit. */
static size_t write_hash(const redact_state *s, const redact_detector *d, redact_worker *w, const char *hit,
                         size_t len, char *dst) {
    w->scratch.len = 0;
    if (d->builtin)
        d->builtin->canonical(hit, len, &w->scratch);
    else
        sl_buf_append(&w->scratch, hit, len);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, s->key, s->key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)w->scratch.data, w->scratch.len);
    crypto_auth_hmacsha256_final(&st, mac);
    size_t n = (size_t)sprintf(dst, "[%s:", d->label);
    sodium_bin2hex(dst + n, HASH_HEX + 1, mac, HASH_HEX / 2);
    n += HASH_HEX;
    dst[n++] = ']';
    return n;
}

/* Runs every detector on text into w->spans (unresolved). Returns 0, or the
 * PCRE2 error of a custom pattern that failed, whose index goes to *failed. */
static int scan_string(const redact_state *s, redact_worker *w, const char *text, size_t len, size_t *failed) {
    w->spans.count = 0;
    unsigned possible = s->builtin_mask ? sl_pii_candidates(text, len) & s->builtin_mask : 0;
    for (size_t i = 0; i < s->n_dets; i++) {
        const redact_detector *d = &s->dets[i];
        if (d->builtin) {
            if (possible & (1u << (d->builtin - sl_pii_detectors)))
                d->builtin->scan(text, len, (int)i, &w->spans);
        } else {
            int rc = scan_custom(s, d, (int)i, text, len, w);
            if (rc < 0) {
                *failed = i;
                return rc;
            }
        }
    }
    return 0;
}

/* Whether redact_value would change v: a string with a hit or one a custom
 * pattern fails on, or a map or array holding one. It only reads, so that
 * a record with nothing to redact is not taken for writing and is written
 * as it came (docs/architecture.md); one with a hit is scanned again by
 * the writing walk, which is cheaper than copying every record first. */
static bool needs_redacting(const redact_state *s, redact_worker *w, const sl_value *v) {
    size_t failed;
    if (v->type == SL_STRING) return scan_string(s, w, v->as.s, v->len, &failed) != 0 || w->spans.count > 0;
    if (v->type == SL_MAP) {
        for (uint32_t i = 0; i < v->len; i++)
            if (needs_redacting(s, w, &v->as.fields[i].value)) return true;
    } else if (v->type == SL_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if (needs_redacting(s, w, &v->as.items[i])) return true;
    }
    return false;
}

static bool record_needs_redacting(const redact_state *s, redact_worker *w, const sl_record *r) {
    const sl_value *record = sl_record_value(r);
    if (s->n_fields == 0) return needs_redacting(s, w, record);
    for (size_t f = 0; f < s->n_fields; f++) {
        const sl_value *v = sl_path_get(s->fields[f], record);
        if (v && needs_redacting(s, w, v)) return true;
    }
    return false;
}

/* Redacts one string. Returns the number of hits; sets *drop when the field
 * is to be removed (a hit whose action is drop_field), otherwise replaces *v
 * with the redacted text when there were hits. When a custom pattern fails,
 * records the error in x and replaces *v by [REDACT_ERROR]. */
static size_t redact_string(redact_ctx *x, sl_value *v, bool *drop) {
    redact_state *s = x->s;
    redact_worker *w = x->w;
    const char *text = v->as.s;
    size_t len = v->len;
    size_t failed;
    int rc = scan_string(s, w, text, len, &failed);
    if (rc < 0) {
        if (!x->match_error) {
            x->match_error = rc;
            x->error_detector = failed;
        }
        *v = sl_string(ERROR_TOKEN, sizeof ERROR_TOKEN - 1);
        return 0;
    }
    if (w->spans.count == 0) return 0;
    sl_pii_resolve(&w->spans);

    size_t n = w->spans.count, extra = 0;
    for (size_t i = 0; i < n; i++) {
        const redact_detector *d = &s->dets[w->spans.items[i].detector];
        x->hits[w->spans.items[i].detector]++;
        *drop |= d->action == ACT_DROP_FIELD;
        extra += strlen(d->label) + HASH_HEX + 4;
    }
    if (*drop) return n;

    char *out = sl_arena_alloc(x->arena, len + extra);
    size_t o = 0, prev = 0;
    for (size_t i = 0; i < n; i++) {
        const sl_pii_span *sp = &w->spans.items[i];
        const redact_detector *d = &s->dets[sp->detector];
        memcpy(out + o, text + prev, sp->start - prev);
        o += sp->start - prev;
        const char *hit = text + sp->start;
        size_t hit_len = sp->end - sp->start;
        switch (d->action) {
        case ACT_PARTIAL:
            w->scratch.len = 0;
            if (d->builtin)
                d->builtin->partial(hit, hit_len, &w->scratch);
            else
                sl_pii_partial_generic(hit, hit_len, &w->scratch);
            memcpy(out + o, w->scratch.data, w->scratch.len);
            o += w->scratch.len;
            break;
        case ACT_HASH:
            o += write_hash(s, d, w, hit, hit_len, out + o);
            break;
        case ACT_MASK:
        case ACT_DROP_FIELD:
            o += (size_t)sprintf(out + o, "[%s]", d->label);
            break;
        }
        prev = sp->end;
    }
    memcpy(out + o, text + prev, len - prev);
    o += len - prev;
    *v = sl_string(out, o);
    return n;
}

static void redact_tree(redact_ctx *x, sl_value *v);

/* Redacts a string or everything inside a map or array. Returns true when
 * v is a string to be removed from its parent. */
static bool redact_value(redact_ctx *x, sl_value *v) {
    if (v->type == SL_STRING) {
        bool drop = false;
        x->record_hits += redact_string(x, v, &drop);
        return drop;
    }
    if (v->type == SL_MAP || v->type == SL_ARRAY) redact_tree(x, v);
    return false;
}

static void redact_tree(redact_ctx *x, sl_value *v) {
    if (v->type == SL_MAP) {
        for (uint32_t i = 0; i < v->len;) {
            if (redact_value(x, &v->as.fields[i].value)) {
                memmove(&v->as.fields[i], &v->as.fields[i + 1], (v->len - i - 1) * sizeof *v->as.fields);
                v->len--;
            } else {
                i++;
            }
        }
    } else {
        for (uint32_t i = 0; i < v->len;) {
            if (redact_value(x, &v->as.items[i])) {
                memmove(&v->as.items[i], &v->as.items[i + 1], (v->len - i - 1) * sizeof *v->as.items);
                v->len--;
            } else {
                i++;
            }
        }
    }
}

static void redact_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                           sl_emit *out) {
    redact_state *s = c->impl;
    uint64_t hits[s->n_dets];
    memset(hits, 0, sizeof hits);
    redact_ctx x = {.s = s, .w = wstate, .arena = &b->arena, .hits = hits};
    uint64_t with_pii = 0, dropped = 0;
    for (size_t i = 0; i < n; i++) {
        sl_record *r = recs[i];
        x.record_hits = 0;
        x.match_error = 0;
        if (!record_needs_redacting(s, x.w, r)) {   /* unchanged: written as it came */
            sl_emit_record(out, 0, r);
            continue;
        }
        sl_value *record = sl_record_mut(r);   /* redacting writes in place */
        if (s->n_fields == 0) {
            if (record->type == SL_MAP) redact_tree(&x, record);
        } else {
            for (size_t f = 0; f < s->n_fields; f++) {
                sl_value *v = sl_path_get_mut(s->fields[f], record);
                if (v && redact_value(&x, v)) sl_path_delete(s->fields[f], record);
            }
        }
        if (x.match_error) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(x.match_error, msg, sizeof msg);
            r->raw = NULL;   /* the DLQ shows the record with [REDACT_ERROR], never the input */
            r->raw_len = 0;
            sl_emit_dlq(out, r, "redact_error",
                        "pattern '%s' failed: %s; simplify it (nested repeats such as (a+)+ "
                        "backtrack without bound)",
                        s->dets[x.error_detector].name, (const char *)msg);
            continue;
        }
        with_pii++;   /* the walk found what the read-only scan did */
        r->raw = NULL;   /* from now on the DLQ shows the redacted record */
        r->raw_len = 0;
        if (s->limit && x.record_hits > s->limit_hits) {
            dropped++;
            if (s->limit_to_dlq)
                sl_emit_dlq(out, r, "pii_limit", "%llu PII hits, more than drop_record_over (%llu)",
                            (unsigned long long)x.record_hits, (unsigned long long)s->limit_hits);
            continue;
        }
        sl_emit_record(out, 0, r);
    }
    atomic_fetch_add(&s->records, n);
    if (with_pii) atomic_fetch_add(&s->records_with_pii, with_pii);
    if (dropped) atomic_fetch_add(&s->records_dropped, dropped);
    for (size_t d = 0; d < s->n_dets; d++)
        if (hits[d]) atomic_fetch_add(&s->dets[d].hits, hits[d]);
}

static void redact_describe(sl_component *c, sl_buf *json) {
    redact_state *s = c->impl;
    sl_buf_printf(json, "{\"type\":\"redact\",\"records\":%llu,\"records_with_pii\":%llu,"
                        "\"records_dropped\":%llu,\"detectors\":[",
                  (unsigned long long)atomic_load(&s->records),
                  (unsigned long long)atomic_load(&s->records_with_pii),
                  (unsigned long long)atomic_load(&s->records_dropped));
    for (size_t i = 0; i < s->n_dets; i++) {
        sl_buf_puts(json, i ? ",{\"detector\":" : "{\"detector\":");
        sl_json_encode_string(json, s->dets[i].name, strlen(s->dets[i].name));
        sl_buf_printf(json, ",\"action\":\"%s\",\"hits\":%llu}", action_values[s->dets[i].action],
                      (unsigned long long)atomic_load(&s->dets[i].hits));
    }
    sl_buf_puts(json, "]}");
}

/* One sample line: name{component=".."[,detector=".."]} value. */
static void redact_sample(sl_buf *prom, const char *name, const char *component, const char *detector,
                          uint64_t value) {
    sl_buf_printf(prom, "%s{component=\"", name);
    sl_prom_escape(prom, component);
    if (detector) {
        sl_buf_puts(prom, "\",detector=\"");
        sl_prom_escape(prom, detector);
    }
    sl_buf_printf(prom, "\"} %llu\n", (unsigned long long)value);
}

static void redact_metrics(sl_component *c, sl_buf *prom) {
    redact_state *s = c->impl;
    sl_buf_puts(prom, "# HELP sluice_redact_hits_total Personal-data hits redacted, per detector.\n"
                      "# TYPE sluice_redact_hits_total counter\n");
    for (size_t i = 0; i < s->n_dets; i++)
        redact_sample(prom, "sluice_redact_hits_total", c->name, s->dets[i].name, atomic_load(&s->dets[i].hits));
    sl_buf_puts(prom, "# HELP sluice_redact_records_with_pii_total Records in which redact found personal data.\n"
                      "# TYPE sluice_redact_records_with_pii_total counter\n");
    redact_sample(prom, "sluice_redact_records_with_pii_total", c->name, NULL, atomic_load(&s->records_with_pii));
    sl_buf_puts(prom, "# HELP sluice_redact_records_dropped_total Records dropped by drop_record_over.\n"
                      "# TYPE sluice_redact_records_dropped_total counter\n");
    redact_sample(prom, "sluice_redact_records_dropped_total", c->name, NULL, atomic_load(&s->records_dropped));
}

const sl_component_type sl_transform_redact_type = {
    .name = "redact",
    .kind = SL_TRANSFORM,
    .summary = "Find and redact personal data: email, phone, IP, card, IBAN, SSN, custom patterns",
    .doc =
        "Scans text for personal data and replaces each hit. The built-in detectors are "
        "`email`, `phone` (E.164 such as `+14155552671` and national formats such as "
        "`(415) 555-2671` or `020 7946 0958`), `ip` (IPv4 and IPv6), `credit_card` (Luhn-checked, "
        "known issuer prefixes), `iban` (mod-97 checked, per-country length) and `ssn` "
        "(`123-45-6789`); `patterns` adds PCRE2 detectors of your own. Precision comes first: "
        "versions (`v2.10.4`, `1.2.3.4.5`), dates, times, UUIDs, hashes and plain numbers are not "
        "flagged. See docs/pii.md for exactly what each detector matches.\n\n"
        "Actions (`action`, or per detector in `actions`): `mask` writes `[EMAIL]`; `partial` keeps "
        "a few characters (`j***@example.com`, `**** **** **** 4242`, `***-**-6789`); `hash` "
        "writes a keyed HMAC-SHA-256 token such as `[EMAIL:3f2a9c1b7d4e5f60]`, the same for the "
        "same value and `key`, so redacted data can still be joined; `drop_field` removes the "
        "field. With `drop_record_over: N` a record holding more than N hits in total goes to the "
        "DLQ with reason `pii_limit` (or is dropped, `over_limit: drop`). A custom pattern that "
        "fails on a string (e.g. exceeds PCRE2's match limit by backtracking) sends the record to "
        "the DLQ with reason `redact_error`, that string replaced by `[REDACT_ERROR]`. A redacted "
        "record's DLQ entries carry the redacted record, never the original input.\n\n"
        "Counters per detector are in the component's stats and in "
        "`sluice_redact_hits_total{component,detector}`.",
    .example =
        "transforms:\n"
        "  scrub:\n"
        "    type: redact\n"
        "    inputs: [docs]\n"
        "    fields: [text, user.email]\n"
        "    patterns: {employee_id: 'EMP-\\d{6}'}\n"
        "    actions: {email: hash, credit_card: partial}\n"
        "    key: ${env:SLUICE_REDACT_KEY}\n"
        "    drop_record_over: 5\n",
    .options = redact_options,
    .create = redact_create,
    .destroy = redact_destroy,
    .worker_init = redact_worker_init,
    .worker_free = redact_worker_free,
    .process = redact_process,
    .describe = redact_describe,
    .metrics = redact_metrics,
};
