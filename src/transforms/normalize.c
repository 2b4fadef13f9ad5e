/* normalize.c — the `normalize` transform: cleans text fields for training
 * corpora and search: Unicode normalization (NFC/NFKC/NFD/NFKD via
 * utf8proc), whitespace collapsing, control-character removal, trimming,
 * case folding, and a policy for invalid UTF-8.
 *
 * Each configured field is cleaned in two steps:
 *  1. utf8proc_map applies the normalization form (and full case folding for
 *     `case: fold`); it allocates with malloc, so its result is freed as soon
 *     as the second step has read it.
 *  2. One pass over the code points strips controls, collapses whitespace,
 *     lowercases (`case: lower`) and trims, writing into a per-worker scratch
 *     buffer.
 * Only a result that differs from the input is copied into the batch arena.
 * Most text in a corpus needs nothing: one scan recognises it (ASCII byte by
 * byte, other code points by a table of those the normalization form leaves
 * alone wherever they stand, text/norm_inert.h) and the value is left
 * untouched, without running utf8proc or copying anything. Text that needs
 * cleaning but holds only such code points skips step 1.
 *
 * Invalid UTF-8 (possible in strings from CSV, plain text, Lua, and in `bytes`
 * values) is either repaired (each invalid sequence becomes U+FFFD) or sends
 * the record to the DLQ with reason `invalid_utf8`. A `bytes` value in a
 * listed field becomes a string. Fields that are missing or null are left
 * alone; other non-text values send the record to the DLQ (reason
 * `non_string`) or, with `non_string: pass`, are left alone too
 * (text_field.h). If utf8proc cannot normalize a value (for
 * a reason other than memory, which aborts as everywhere else), the record
 * goes to the DLQ with reason `normalize_failed` rather than passing through
 * unnormalized.
 *
 * Counters (records changed per field, invalid UTF-8 seen) are summed per
 * batch and added atomically, so workers never contend per record.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "../codec/json.h"
#include "../core/util.h"
#include "../expr/expr.h"
#include "../runtime/component.h"
#include "../text/norm_inert.h"
#include "text_field.h"

typedef enum { FORM_NONE, FORM_NFC, FORM_NFKC, FORM_NFD, FORM_NFKD } norm_form;
typedef enum { CASE_NONE, CASE_LOWER, CASE_FOLD } norm_case;

typedef struct norm_field {
    sl_path *path;
    _Atomic uint64_t changed;     /* records whose value this transform changed */
} norm_field;

typedef struct normalize_state {
    norm_field *fields;
    size_t n_fields;
    norm_form form;
    norm_case letter_case;
    bool collapse_whitespace, keep_newlines, strip_control, trim;
    bool invalid_to_dlq;
    bool non_string_to_dlq;
    utf8proc_option_t map_options;   /* 0 = utf8proc_map is not needed */
    /* the code points map_options leaves alone: looked up when first needed */
    _Atomic(const sl_norm_inert *) inert;
    _Atomic uint64_t invalid_utf8;   /* values that held invalid UTF-8 */
} normalize_state;

/* Per-worker scratch space, reused for every value. */
typedef struct normalize_worker {
    sl_buf repaired;    /* input with invalid sequences replaced */
    sl_buf out;         /* the cleaned value */
    utf8proc_ssize_t map_error;   /* utf8proc's error code after VALUE_MAP_FAILED */
} normalize_worker;

/* What normalize_value did with one value. */
typedef enum { VALUE_SAME, VALUE_CHANGED, VALUE_INVALID_UTF8, VALUE_MAP_FAILED } value_result;

static const char *const form_values[] = {"nfc", "nfkc", "nfd", "nfkd", "none", NULL};
static const char *const case_values[] = {"none", "lower", "fold", NULL};
static const char *const invalid_values[] = {"replace", "dlq", NULL};

static const sl_option normalize_options[] = {
    {"fields", SL_OPT_LIST, true, NULL,
     "Paths of the text fields to clean, e.g. `[text, meta.title]`. Missing and null fields "
     "are left alone; other values that are not strings (or bytes): see `non_string`.", NULL},
    {"form", SL_OPT_ENUM, false, "nfc",
     "Unicode normalization form: `nfc` (composed), `nfkc` (composed, compatibility "
     "characters such as ligatures and full-width letters replaced), `nfd`, `nfkd`, or "
     "`none`.", form_values},
    {"collapse_whitespace", SL_OPT_BOOL, false, "false",
     "Replace every run of Unicode whitespace by a single space (see `keep_newlines`).", NULL},
    {"keep_newlines", SL_OPT_BOOL, false, "true",
     "With `collapse_whitespace`: a run that contains line breaks becomes one newline, or "
     "one blank line (two newlines) when it held two or more, so paragraphs survive.", NULL},
    {"strip_control", SL_OPT_BOOL, false, "true",
     "Remove C0 and C1 control characters (and DEL), except newline and tab.", NULL},
    {"trim", SL_OPT_BOOL, false, "false",
     "Remove whitespace at the start and the end.", NULL},
    {"case", SL_OPT_ENUM, false, "none",
     "`lower` maps each character to its lowercase form; `fold` applies Unicode full case "
     "folding for case-insensitive matching (\"Straße\" becomes \"strasse\").", case_values},
    {"invalid_utf8", SL_OPT_ENUM, false, "replace",
     "What to do with text that is not valid UTF-8: `replace` each invalid byte sequence "
     "with U+FFFD, or send the record to the DLQ (reason `invalid_utf8`).", invalid_values},
    SL_NON_STRING_OPTION,
    {NULL, 0, false, NULL, NULL, NULL},
};

static int enum_index(const char *const *values, const char *v) {
    for (int i = 0; values[i]; i++)
        if (strcmp(values[i], v) == 0) return i;
    return 0;
}

static void normalize_destroy(sl_component *c) {
    normalize_state *s = c->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_fields; i++) sl_path_free(s->fields[i].path);
    free(s->fields);
    free(s);
    c->impl = NULL;
}

static int normalize_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    normalize_state *s = calloc(1, sizeof *s);
    size_t n = sl_opts_list_len(opts, "fields");
    if (!s || !(s->fields = calloc(n ? n : 1, sizeof *s->fields))) {
        free(s);
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    c->impl = s;
    if (n == 0) {
        sl_diag_error(diag, sl_opts_pos(opts, "fields"),
                      "fields must list at least one field, e.g. [text]");
        normalize_destroy(c);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        sl_path *p = sl_path_parse(sl_opts_list_item(opts, "fields", i), sl_opts_pos(opts, "fields"), diag);
        if (!p) {
            normalize_destroy(c);
            return -1;
        }
        s->fields[s->n_fields++].path = p;
    }

    static const norm_form forms[] = {FORM_NFC, FORM_NFKC, FORM_NFD, FORM_NFKD, FORM_NONE};
    s->form = forms[enum_index(form_values, sl_opts_enum(opts, "form"))];
    s->letter_case = (norm_case)enum_index(case_values, sl_opts_enum(opts, "case"));
    s->collapse_whitespace = sl_opts_bool(opts, "collapse_whitespace");
    s->keep_newlines = sl_opts_bool(opts, "keep_newlines");
    s->strip_control = sl_opts_bool(opts, "strip_control");
    s->trim = sl_opts_bool(opts, "trim");
    s->invalid_to_dlq = strcmp(sl_opts_enum(opts, "invalid_utf8"), "dlq") == 0;
    s->non_string_to_dlq = sl_non_string_to_dlq(opts);

    utf8proc_option_t o = 0;
    switch (s->form) {
    case FORM_NFC: o = UTF8PROC_COMPOSE; break;
    case FORM_NFKC: o = UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case FORM_NFD: o = UTF8PROC_DECOMPOSE; break;
    case FORM_NFKD: o = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    case FORM_NONE: break;
    }
    if (s->letter_case == CASE_FOLD) o |= UTF8PROC_CASEFOLD;
    s->map_options = o ? (utf8proc_option_t)(o | UTF8PROC_STABLE) : 0;
    return 0;
}

static void *normalize_worker_init(sl_component *c, sl_error *err) {
    normalize_worker *w = calloc(1, sizeof *w);
    if (!w) {
        sl_errorf(err, "out of memory");
        return NULL;
    }
    sl_buf_init(&w->repaired);
    sl_buf_init(&w->out);
    return w;
}

static void normalize_worker_free(sl_component *c, void *wstate) {
    normalize_worker *w = wstate;
    sl_buf_free(&w->repaired);
    sl_buf_free(&w->out);
    free(w);
}

/* ---- character classes ---- */

static bool is_ascii_space(unsigned char ch) {
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* Unicode White_Space. */
static bool is_space(int32_t cp) {
    if (cp < 0x80) return is_ascii_space((unsigned char)cp);
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
        cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return true;
    return false;
}

static bool is_line_break(int32_t cp) {
    return cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0x85 || cp == 0x2028 ||
           cp == 0x2029;
}

/* C0 and C1 controls and DEL, except newline and tab. */
static bool is_control(int32_t cp) {
    return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
}

/* Does the normalization form leave cp alone wherever it stands? (Without
 * the table, out of memory, nothing is assumed to be left alone.) */
static bool inert(normalize_state *s, int32_t cp) {
    if (!s->map_options) return true;
    const sl_norm_inert *t = atomic_load_explicit(&s->inert, memory_order_acquire);
    if (!t) {
        t = sl_norm_inert_get(s->map_options);
        atomic_store_explicit(&s->inert, t, memory_order_release);
    }
    return t && sl_norm_inert_has(t, cp);
}

/* Is code point cp (of valid UTF-8, at p[i..i+n) of len bytes) one that
 * cleaning leaves as it is and the normalization form too? */
static bool code_point_unchanged(normalize_state *s, int32_t cp, size_t i, size_t n, size_t len) {
    if (!inert(s, cp)) return false;
    if (s->strip_control && is_control(cp)) return false;
    if (is_space(cp) && (s->collapse_whitespace || (s->trim && (i == 0 || i + n == len)))) return false;
    return s->letter_case != CASE_LOWER || utf8proc_tolower(cp) == cp;
}

/* The bytes of x that are not printable ASCII (' ' to '~'), as their top
 * bits; 0 when all eight are. A byte is under 0x20 when subtracting 0x20
 * borrows into its top bit, 0x7F or more when adding 1 sets it. Borrows
 * and carries only go up, from a byte that is flagged itself, so the lowest
 * flag is exact: it marks the first byte (in memory order on a
 * little-endian machine) that is not printable. */
static inline uint64_t unprintable8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
    return (x | ((x - 0x20 * ones) & ~x) | (x + ones)) & top;
}

/* True when s is valid UTF-8 and cleaning and normalizing would not change
 * it: ASCII is judged byte by byte, any other code point by the table of
 * those the normalization form leaves alone. */
static bool unchanged(normalize_state *s, const unsigned char *p, size_t len) {
    if (s->trim && len > 0 && (is_ascii_space(p[0]) || is_ascii_space(p[len - 1]))) return false;
    bool valid = false;   /* the rest of the text is known to be valid UTF-8 */
    bool plain = !s->collapse_whitespace && s->letter_case == CASE_NONE;   /* ' '..'~' need nothing */
    for (size_t i = 0; i < len; i++) {
        for (uint64_t x; plain && i + 8 <= len; i += 8) {   /* printable bytes need nothing */
            memcpy(&x, p + i, 8);
            uint64_t flags = unprintable8(x);
            if (flags) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                i += (size_t)__builtin_ctzll(flags) / 8;   /* on to the first that is not */
#endif
                break;
            }
        }
        if (i >= len) break;
        unsigned char ch = p[i];
        if (ch >= 0x80) {
            if (!valid && !(valid = sl_utf8_valid((const char *)p + i, len - i))) return false;
            utf8proc_int32_t cp;
            utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
            if (n <= 0 || !code_point_unchanged(s, cp, i, (size_t)n, len)) return false;
            i += (size_t)n - 1;
        } else if (ch == 0x7F) {
            if (s->strip_control) return false;
        } else if (ch >= 'A' && ch <= 'Z') {
            if (s->letter_case != CASE_NONE) return false;
        } else if (ch < 0x20 || ch == ' ') {
            if (s->collapse_whitespace) {
                if (!is_ascii_space(ch)) {
                    if (s->strip_control) return false;
                    continue;
                }
                /* A whitespace run must already be " ", or with keep_newlines
                 * "\n" or "\n\n". */
                size_t j = i;
                while (j < len && is_ascii_space(p[j])) j++;
                size_t run = j - i;
                bool ok = run == 1 && (ch == ' ' || (ch == '\n' && s->keep_newlines));
                if (run == 2 && s->keep_newlines && p[i] == '\n' && p[i + 1] == '\n') ok = true;
                if (!ok) return false;
                i = j - 1;
            } else if (s->strip_control && ch != ' ' && ch != '\n' && ch != '\t') {
                return false;
            }
        }
    }
    return true;
}

/* Does valid UTF-8 text hold a code point the normalization form changes
 * (or might change next to its neighbours)? */
static bool needs_map(normalize_state *s, const char *text, size_t len) {
    for (size_t i = 0; i < len;) {
        if ((unsigned char)text[i] < 0x80) {   /* only case folding changes ASCII */
            if (!inert(s, (unsigned char)text[i])) return true;
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || !inert(s, cp)) return true;
        i += (size_t)n;
    }
    return false;
}

/* Copies in to out replacing each invalid UTF-8 sequence with U+FFFD. */
static void repair_utf8(const char *in, size_t len, sl_buf *out) {
    out->len = 0;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)in + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0) {
            sl_buf_append(out, in + i, (size_t)n);
            i += (size_t)n;
        } else {
            sl_buf_append(out, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
}

/* Appends one byte; the room was reserved by clean_pass (the NUL after the
 * contents is written at its end). */
static inline void put_byte(sl_buf *out, char c) {
    if (out->len < out->cap)
        out->data[out->len++] = c;
    else
        sl_buf_putc(out, c);
}

/* The code point pass: controls, whitespace, lowercase, trim. `in` is valid
 * UTF-8. ASCII is read and written a byte at a time, without decoding. */
static void clean_pass(const normalize_state *s, const char *in, size_t len, sl_buf *out) {
    out->len = 0;
    sl_buf_reserve(out, len + 8);
    size_t i = 0;
    size_t run_breaks = 0;        /* line breaks in the pending whitespace run */
    bool in_run = false;          /* a whitespace run is pending (collapse) */
    bool started = false;         /* something other than whitespace was written */
    size_t end_of_text = 0;       /* out->len after the last non-whitespace */
    while (i < len) {
        utf8proc_int32_t cp = (unsigned char)in[i];
        utf8proc_ssize_t n = 1;
        if (cp >= 0x80) {
            n = utf8proc_iterate((const utf8proc_uint8_t *)in + i, (utf8proc_ssize_t)(len - i), &cp);
            if (n <= 0) {   /* cannot happen on valid input; keep the byte rather than loop */
                n = 1;
                cp = 0xFFFD;
            }
        }
        i += (size_t)n;
        if (is_space(cp)) {
            if (s->collapse_whitespace) {
                /* "\r\n" is one line break */
                if (is_line_break(cp) && !(cp == '\r' && i < len && in[i] == '\n')) run_breaks++;
                in_run = true;
                continue;
            }
            if (s->strip_control && is_control(cp)) continue;
            if (s->trim && !started) continue;
            if (cp < 0x80) {
                put_byte(out, (char)cp);
            } else {
                uint8_t enc[4];
                sl_buf_append(out, enc, (size_t)utf8proc_encode_char(cp, enc));
            }
            continue;
        }
        if (s->strip_control && is_control(cp)) continue;
        if (in_run) {
            if (started || !s->trim) {
                if (s->keep_newlines && run_breaks > 0)
                    sl_buf_append(out, "\n\n", run_breaks > 1 ? 2 : 1);
                else
                    put_byte(out, ' ');
            }
            in_run = false;
            run_breaks = 0;
        }
        if (cp < 0x80) {
            put_byte(out, (char)(s->letter_case == CASE_LOWER && cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        } else {
            if (s->letter_case == CASE_LOWER) cp = utf8proc_tolower(cp);
            uint8_t enc[4];
            sl_buf_append(out, enc, (size_t)utf8proc_encode_char(cp, enc));
        }
        started = true;
        end_of_text = out->len;
    }
    if (in_run && !s->trim) {
        if (s->keep_newlines && run_breaks > 0)
            sl_buf_append(out, "\n\n", run_breaks > 1 ? 2 : 1);
        else
            put_byte(out, ' ');
    }
    if (s->trim) out->len = end_of_text;
    out->data[out->len] = '\0';
}

/* Cleans one value, replacing *v when cleaning changed it. Returns
 * VALUE_INVALID_UTF8 when it holds invalid UTF-8 and the policy is dlq, and
 * VALUE_MAP_FAILED (with w->map_error set) when utf8proc failed. */
static value_result normalize_value(normalize_state *s, normalize_worker *w, sl_arena *arena, sl_value *v,
                                    uint64_t *invalid) {
    const char *text = v->as.s;
    size_t len = v->len;
    if (v->type == SL_STRING && unchanged(s, (const unsigned char *)text, len)) return VALUE_SAME;

    if (!sl_utf8_valid(text, len)) {
        (*invalid)++;
        if (s->invalid_to_dlq) return VALUE_INVALID_UTF8;
        repair_utf8(text, len, &w->repaired);
        text = w->repaired.data ? w->repaired.data : "";
        len = w->repaired.len;
    }

    utf8proc_uint8_t *mapped = NULL;
    if (s->map_options && needs_map(s, text, len)) {
        utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &mapped,
                                          s->map_options);
        if (n == UTF8PROC_ERROR_NOMEM) {
            fprintf(stderr, "sluice: out of memory normalizing %zu bytes\n", len);
            abort();
        }
        if (n < 0) {   /* e.g. UTF8PROC_ERROR_OVERFLOW: the text is too long */
            w->map_error = n;
            return VALUE_MAP_FAILED;
        }
        text = (const char *)mapped;
        len = (size_t)n;
    }
    clean_pass(s, text, len, &w->out);
    free(mapped);

    if (v->type == SL_STRING && w->out.len == v->len && memcmp(w->out.data, v->as.s, v->len) == 0)
        return VALUE_SAME;
    *v = sl_string_copy(arena, w->out.data ? w->out.data : "", w->out.len);
    return VALUE_CHANGED;
}

static void normalize_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                              sl_emit *out) {
    normalize_state *s = c->impl;
    normalize_worker *w = wstate;
    uint64_t changed[s->n_fields];
    memset(changed, 0, sizeof changed);
    uint64_t invalid = 0;
    for (size_t i = 0; i < n; i++) {
        sl_record *r = recs[i];
        bool to_dlq = false;
        for (size_t f = 0; f < s->n_fields && !to_dlq; f++) {
            const sl_value *v = sl_path_get(s->fields[f].path, sl_record_value(r));
            if (s->non_string_to_dlq && sl_is_non_string(v, true)) {
                sl_emit_non_string(out, r, s->fields[f].path, v);
                to_dlq = true;
                break;
            }
            if (!v || (v->type != SL_STRING && v->type != SL_BYTES)) continue;
            const char *field = sl_path_source(s->fields[f].path);
            /* normalized on a copy, written back only when it changed: a
             * record whose text was normal already stays unchanged */
            sl_value value = *v;
            switch (normalize_value(s, w, &b->arena, &value, &invalid)) {
            case VALUE_SAME: break;
            case VALUE_CHANGED:
                *sl_path_get_mut(s->fields[f].path, sl_record_mut(r)) = value;
                changed[f]++;
                break;
            case VALUE_INVALID_UTF8:
                sl_emit_dlq(out, r, "invalid_utf8", "field %s is not valid UTF-8", field);
                to_dlq = true;
                break;
            case VALUE_MAP_FAILED:
                sl_emit_dlq(out, r, "normalize_failed", "field %s could not be normalized: %s", field,
                            utf8proc_errmsg(w->map_error));
                to_dlq = true;
                break;
            }
        }
        if (!to_dlq) sl_emit_record(out, 0, r);
    }
    for (size_t f = 0; f < s->n_fields; f++)
        if (changed[f]) atomic_fetch_add(&s->fields[f].changed, changed[f]);
    if (invalid) atomic_fetch_add(&s->invalid_utf8, invalid);
}

static void normalize_describe(sl_component *c, sl_buf *json) {
    normalize_state *s = c->impl;
    sl_buf_puts(json, "{\"type\":\"normalize\",\"fields\":[");
    for (size_t f = 0; f < s->n_fields; f++) {
        const char *name = sl_path_source(s->fields[f].path);
        sl_buf_puts(json, f ? ",{\"field\":" : "{\"field\":");
        sl_json_encode_string(json, name, strlen(name));
        sl_buf_printf(json, ",\"changed\":%llu}", (unsigned long long)atomic_load(&s->fields[f].changed));
    }
    sl_buf_printf(json, "],\"invalid_utf8\":%llu}", (unsigned long long)atomic_load(&s->invalid_utf8));
}

static void normalize_metrics(sl_component *c, sl_buf *prom) {
    normalize_state *s = c->impl;
    sl_buf_puts(prom, "# HELP sluice_normalize_changed_total Records whose field value normalize changed.\n"
                      "# TYPE sluice_normalize_changed_total counter\n");
    for (size_t f = 0; f < s->n_fields; f++)
        sl_buf_printf(prom, "sluice_normalize_changed_total{component=\"%s\",field=\"%s\"} %llu\n", c->name,
                      sl_path_source(s->fields[f].path),
                      (unsigned long long)atomic_load(&s->fields[f].changed));
    sl_buf_printf(prom, "# HELP sluice_normalize_invalid_utf8_total Field values that were not valid UTF-8.\n"
                        "# TYPE sluice_normalize_invalid_utf8_total counter\n"
                        "sluice_normalize_invalid_utf8_total{component=\"%s\"} %llu\n",
                  c->name, (unsigned long long)atomic_load(&s->invalid_utf8));
}

const sl_component_type sl_transform_normalize_type = {
    .name = "normalize",
    .kind = SL_TRANSFORM,
    .summary = "Clean text fields: Unicode normalization, whitespace, control characters, case",
    .doc =
        "Cleans the text of each field in `fields`, in this order: invalid UTF-8 is repaired "
        "(each invalid byte sequence becomes U+FFFD) or, with `invalid_utf8: dlq`, the record "
        "goes to the DLQ with reason `invalid_utf8`; the Unicode normalization `form` is "
        "applied (NFC by default, via utf8proc) together with case folding when `case: fold` "
        "(should utf8proc fail, e.g. on a value too long for it, the record goes to the DLQ "
        "with reason `normalize_failed`); "
        "then control characters are removed (`strip_control`), whitespace runs collapsed "
        "(`collapse_whitespace`, keeping line breaks and at most one blank line with "
        "`keep_newlines`), letters lowercased (`case: lower`) and the ends trimmed (`trim`).\n\n"
        "Plain ASCII text that needs no change is recognised by a byte scan and left "
        "untouched, so clean corpora pass at memory speed. A `bytes` value becomes a string; "
        "missing and null fields are left alone; a number, boolean, list or map sends the "
        "record to the DLQ with reason `non_string` (or, with `non_string: pass`, is left "
        "alone). `/stats` shows how many records each "
        "field changed in. See docs/text-quality.md.",
    .example =
        "transforms:\n"
        "  clean:\n"
        "    type: normalize\n"
        "    inputs: [corpus]\n"
        "    fields: [text, title]\n"
        "    form: nfkc\n"
        "    collapse_whitespace: true\n"
        "    trim: true\n",
    .options = normalize_options,
    .create = normalize_create,
    .destroy = normalize_destroy,
    .worker_init = normalize_worker_init,
    .worker_free = normalize_worker_free,
    .process = normalize_process,
    .describe = normalize_describe,
    .metrics = normalize_metrics,
};
