/* text_quality.c — the `text_quality` transform: the heuristic document
 * filters used to build LLM training corpora (Gopher quality and repetition,
 * C4, FineWeb), each with its published threshold as the default.
 *
 * The statistics come from text/textstats.c; this file is the rule table
 * (name, comparison, default threshold, source), the `rules:` option that
 * switches rules off or re-thresholds them, and what happens to a document
 * that fails: DLQ (reason `text_quality`), drop, a `rejected` output, or
 * just `_quality` scores on the record. Rules run in the order of the table,
 * which is datatrove's order; the first failing rule is the one reported.
 *
 * `tokenizer` and `rules_version` choose how textstats counts words and
 * which datatrove release's definitions it follows; from 0.4.0 the FineWeb
 * rules compare strictly, which is the per-state `kind` table here.
 *
 * C4's line rules are different in kind: they decide which lines C4 keeps
 * (the document rules c4_lorem_ipsum, c4_curly_bracket and c4_min_sentences
 * look only at those), and with `remove_lines: true` the text is rewritten to
 * the kept lines. They count removed lines instead of rejected documents.
 *
 * Counters are summed per batch and added atomically.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../core/util.h"
#include "../expr/expr.h"
#include "../text/textstats.h"
#include "../runtime/component.h"
#include "text_field.h"

typedef enum {
    REJECT_BELOW,        /* value <  threshold fails */
    REJECT_ABOVE,        /* value >  threshold fails */
    REJECT_AT_OR_BELOW,  /* value <= threshold fails (FineWeb's line punctuation) */
    REJECT_AT_OR_ABOVE,  /* value >= threshold fails (FineWeb's short lines, duplicates) */
    REJECT_IF_FOUND,     /* an on/off document rule */
    LINE_RULE,           /* a C4 line rule: on/off, or a threshold for lines */
} rule_kind;

typedef enum {
    R_GOPHER_MIN_WORDS, R_GOPHER_MAX_WORDS, R_GOPHER_MIN_MEAN_WORD_LENGTH, R_GOPHER_MAX_MEAN_WORD_LENGTH,
    R_GOPHER_HASH_RATIO, R_GOPHER_ELLIPSIS_RATIO, R_GOPHER_BULLET_LINES, R_GOPHER_ELLIPSIS_LINES,
    R_GOPHER_ALPHA_WORDS, R_GOPHER_STOP_WORDS,
    R_GOPHER_DUP_PARA_FRACTION, R_GOPHER_DUP_PARA_CHARS, R_GOPHER_DUP_LINE_FRACTION, R_GOPHER_DUP_LINE_CHARS,
    R_GOPHER_TOP_2GRAM, R_GOPHER_TOP_3GRAM, R_GOPHER_TOP_4GRAM,
    R_GOPHER_DUP_5GRAM, R_GOPHER_DUP_6GRAM, R_GOPHER_DUP_7GRAM, R_GOPHER_DUP_8GRAM, R_GOPHER_DUP_9GRAM,
    R_GOPHER_DUP_10GRAM,
    R_C4_MAX_WORD_LENGTH, R_C4_TERMINAL_PUNCT, R_C4_MIN_WORDS_PER_LINE, R_C4_JAVASCRIPT, R_C4_POLICY,
    R_C4_LOREM_IPSUM, R_C4_CURLY_BRACKET, R_C4_MIN_SENTENCES,
    R_FINEWEB_LINE_PUNCT, R_FINEWEB_SHORT_LINES, R_FINEWEB_DUP_LINE_CHARS, R_FINEWEB_LIST_RATIO,
    N_RULES
} rule_id;

typedef struct rule_def {
    const char *name;
    rule_kind kind;
    double threshold;     /* default; for on/off rules unused */
    bool threshold_ok;    /* accepts a number in `rules:` */
} rule_def;

/* In evaluation order (datatrove's). docs/text-quality.md documents each. */
static const rule_def rule_defs[N_RULES] = {
    [R_GOPHER_MIN_WORDS] = {"gopher_min_words", REJECT_BELOW, 50, true},
    [R_GOPHER_MAX_WORDS] = {"gopher_max_words", REJECT_ABOVE, 100000, true},
    [R_GOPHER_MIN_MEAN_WORD_LENGTH] = {"gopher_min_mean_word_length", REJECT_BELOW, 3, true},
    [R_GOPHER_MAX_MEAN_WORD_LENGTH] = {"gopher_max_mean_word_length", REJECT_ABOVE, 10, true},
    [R_GOPHER_HASH_RATIO] = {"gopher_hash_ratio", REJECT_ABOVE, 0.1, true},
    [R_GOPHER_ELLIPSIS_RATIO] = {"gopher_ellipsis_ratio", REJECT_ABOVE, 0.1, true},
    [R_GOPHER_BULLET_LINES] = {"gopher_bullet_lines", REJECT_ABOVE, 0.9, true},
    [R_GOPHER_ELLIPSIS_LINES] = {"gopher_ellipsis_lines", REJECT_ABOVE, 0.3, true},
    [R_GOPHER_ALPHA_WORDS] = {"gopher_alpha_words", REJECT_BELOW, 0.8, true},
    [R_GOPHER_STOP_WORDS] = {"gopher_stop_words", REJECT_BELOW, 2, true},
    [R_GOPHER_DUP_PARA_FRACTION] = {"gopher_dup_para_fraction", REJECT_ABOVE, 0.3, true},
    [R_GOPHER_DUP_PARA_CHARS] = {"gopher_dup_para_chars", REJECT_ABOVE, 0.2, true},
    [R_GOPHER_DUP_LINE_FRACTION] = {"gopher_dup_line_fraction", REJECT_ABOVE, 0.3, true},
    [R_GOPHER_DUP_LINE_CHARS] = {"gopher_dup_line_chars", REJECT_ABOVE, 0.2, true},
    [R_GOPHER_TOP_2GRAM] = {"gopher_top_2gram", REJECT_ABOVE, 0.20, true},
    [R_GOPHER_TOP_3GRAM] = {"gopher_top_3gram", REJECT_ABOVE, 0.18, true},
    [R_GOPHER_TOP_4GRAM] = {"gopher_top_4gram", REJECT_ABOVE, 0.16, true},
    [R_GOPHER_DUP_5GRAM] = {"gopher_dup_5gram", REJECT_ABOVE, 0.15, true},
    [R_GOPHER_DUP_6GRAM] = {"gopher_dup_6gram", REJECT_ABOVE, 0.14, true},
    [R_GOPHER_DUP_7GRAM] = {"gopher_dup_7gram", REJECT_ABOVE, 0.13, true},
    [R_GOPHER_DUP_8GRAM] = {"gopher_dup_8gram", REJECT_ABOVE, 0.12, true},
    [R_GOPHER_DUP_9GRAM] = {"gopher_dup_9gram", REJECT_ABOVE, 0.11, true},
    [R_GOPHER_DUP_10GRAM] = {"gopher_dup_10gram", REJECT_ABOVE, 0.10, true},
    [R_C4_MAX_WORD_LENGTH] = {"c4_max_word_length", LINE_RULE, 1000, true},
    [R_C4_TERMINAL_PUNCT] = {"c4_terminal_punct", LINE_RULE, 0, false},
    [R_C4_MIN_WORDS_PER_LINE] = {"c4_min_words_per_line", LINE_RULE, 3, true},
    [R_C4_JAVASCRIPT] = {"c4_javascript", LINE_RULE, 0, false},
    [R_C4_POLICY] = {"c4_policy", LINE_RULE, 0, false},
    [R_C4_LOREM_IPSUM] = {"c4_lorem_ipsum", REJECT_IF_FOUND, 0, false},
    [R_C4_CURLY_BRACKET] = {"c4_curly_bracket", REJECT_IF_FOUND, 0, false},
    [R_C4_MIN_SENTENCES] = {"c4_min_sentences", REJECT_BELOW, 5, true},
    [R_FINEWEB_LINE_PUNCT] = {"fineweb_line_punct", REJECT_AT_OR_BELOW, 0.12, true},
    [R_FINEWEB_SHORT_LINES] = {"fineweb_short_lines", REJECT_AT_OR_ABOVE, 0.67, true},
    [R_FINEWEB_DUP_LINE_CHARS] = {"fineweb_dup_line_chars", REJECT_AT_OR_ABOVE, 0.01, true},
    [R_FINEWEB_LIST_RATIO] = {"fineweb_list_ratio", REJECT_ABOVE, 0.3, true},
};

/* The C4 line removal reason (textstats.h) behind each line rule. */
static int line_reason(rule_id r) {
    switch (r) {
    case R_C4_MAX_WORD_LENGTH: return SL_C4_LONG_WORD;
    case R_C4_TERMINAL_PUNCT: return SL_C4_NO_TERMINAL_PUNCT;
    case R_C4_MIN_WORDS_PER_LINE: return SL_C4_FEW_WORDS;
    case R_C4_JAVASCRIPT: return SL_C4_JAVASCRIPT;
    default: return SL_C4_POLICY;
    }
}

typedef enum { ACTION_DLQ, ACTION_DROP, ACTION_ANNOTATE, ACTION_ROUTE } tq_action;

typedef struct text_quality_state {
    sl_path *field;
    tq_action action;
    bool remove_lines;
    bool non_string_to_dlq;
    bool enabled[N_RULES];
    double threshold[N_RULES];
    rule_kind kind[N_RULES];              /* rule_defs' kind, or FineWeb's strict one from 0.4.0 */
    sl_textstats_params params;
    const char *outputs[2];               /* action route: "kept", "rejected" */
    _Atomic uint64_t documents, rejected, skipped;
    _Atomic uint64_t rule_count[N_RULES]; /* documents rejected, or lines removed (line rules) */
} text_quality_state;

typedef struct tq_worker {
    sl_textstats_scratch scratch;
    sl_buf kept;
} tq_worker;

static const char *const action_values[] = {"dlq", "drop", "annotate", "route", NULL};
static const char *const tokenizer_values[] = {"sluice", "datatrove", NULL};
static const char *const rules_version_values[] = {"0.3.0", "0.4.0", "0.5.0", "0.10.0", NULL};

static const sl_option text_quality_options[] = {
    {"field", SL_OPT_STRING, false, "text",
     "Path of the text field to judge. Records where it is missing or null pass through "
     "unjudged (counted as `skipped`); other values that are not strings: see `non_string`.",
     NULL},
    {"rules", SL_OPT_ANY, false, NULL,
     "A mapping of rule name to `false` (switch the rule off), `true` (on, default threshold) "
     "or a number (a new threshold), e.g. `{gopher_min_words: 20, c4_lorem_ipsum: false}`. "
     "Every rule is on by default; see docs/text-quality.md for the names.", NULL},
    {"action", SL_OPT_ENUM, false, "dlq",
     "What happens to a document that fails a rule: `dlq` (reason `text_quality`, the message "
     "names the rule, its value and threshold), `drop`, `route` (to the output "
     "`<name>.rejected` with `_quality: {rule, value, threshold, reason}` naming the first "
     "failing rule; passing documents leave on `<name>.kept`), or `annotate` (every document "
     "passes, with the `_quality` score of every rule on the whole document and the names of "
     "failed rules).", action_values},
    {"tokenizer", SL_OPT_ENUM, false, "sluice",
     "How words are counted. `sluice`: split on Unicode whitespace, a word is a token without its edge "
     "punctuation (any language that uses spaces, no model). `datatrove`: datatrove's English tokens "
     "(NLTK's punkt sentences and Treebank words: punctuation, quotes and clitics are tokens of their "
     "own), so ratios over tokens match the published filters; C4 then counts sentences the same way. "
     "See docs/text-quality.md for how closely each reproduces datatrove.", tokenizer_values},
    {"rules_version", SL_OPT_ENUM, false, "0.3.0",
     "The datatrove release whose rule definitions are followed. `0.3.0`: FineWeb compares inclusively "
     "over every line, stop words count per occurrence. `0.4.0`: FineWeb looks at non-empty lines, "
     "compares strictly and ends lines with datatrove's terminal punctuation. `0.5.0` and `0.10.0` (the "
     "same rules): stop words count once each.", rules_version_values},
    {"remove_lines", SL_OPT_BOOL, false, "false",
     "Rewrite the text to the lines the C4 line rules keep (C4 publishes that text). When "
     "false the C4 line rules only decide which lines the C4 document rules look at.", NULL},
    SL_NON_STRING_OPTION,
    {NULL, 0, false, NULL, NULL, NULL},
};

static void text_quality_destroy(sl_component *c) {
    text_quality_state *s = c->impl;
    if (!s) return;
    sl_path_free(s->field);
    free(s);
    c->impl = NULL;
    c->outputs = NULL;
    c->n_outputs = 0;
}

static int find_rule(const char *name) {
    for (int r = 0; r < N_RULES; r++)
        if (strcmp(rule_defs[r].name, name) == 0) return r;
    return -1;
}

/* Applies one `rules:` entry; reports problems to diag. */
static void set_rule(text_quality_state *s, const sl_node *key, const sl_node *value, sl_diag *diag) {
    int r = find_rule(key->text);
    if (r < 0) {
        const char *names[N_RULES];
        for (int i = 0; i < N_RULES; i++) names[i] = rule_defs[i].name;
        const char *guess = sl_did_you_mean(key->text, names, N_RULES);
        sl_diag_error(diag, key->pos, "unknown text_quality rule '%s'%s%s%s", key->text,
                      guess ? "; did you mean '" : "", guess ? guess : "", guess ? "'?" : "");
        return;
    }
    if (value->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, value->pos, "rule %s must be true, false or a threshold, not %s", key->text,
                      sl_node_kind_name(value->kind));
        return;
    }
    if (!value->quoted && (strcmp(value->text, "true") == 0 || strcmp(value->text, "false") == 0)) {
        s->enabled[r] = value->text[0] == 't';
        return;
    }
    char *end = NULL;
    double v = strtod(value->text, &end);
    if (value->quoted || end == value->text || *end || !isfinite(v) || v < 0) {
        sl_diag_error(diag, value->pos, "rule %s must be true, false or a threshold (a number >= 0), not '%s'",
                      key->text, value->text);
        return;
    }
    if (!rule_defs[r].threshold_ok) {
        sl_diag_error(diag, value->pos, "rule %s has no threshold; use true or false", key->text);
        return;
    }
    s->enabled[r] = true;
    s->threshold[r] = v;
}

/* The groups of measures (textstats.h) no enabled rule looks at, so that
 * they are not computed: with every rule off, nothing is. */
static unsigned measures_to_skip(const text_quality_state *s) {
    static const struct {
        rule_id first, last;
        unsigned group;
    } groups[] = {
        {R_GOPHER_MIN_WORDS, R_GOPHER_MAX_MEAN_WORD_LENGTH, SL_TS_SKIP_WORDS},
        {R_GOPHER_ALPHA_WORDS, R_GOPHER_STOP_WORDS, SL_TS_SKIP_WORDS},
        {R_GOPHER_HASH_RATIO, R_GOPHER_ELLIPSIS_RATIO, SL_TS_SKIP_SYMBOLS},
        {R_GOPHER_BULLET_LINES, R_GOPHER_ELLIPSIS_LINES, SL_TS_SKIP_GOPHER_LINES},
        {R_GOPHER_DUP_PARA_FRACTION, R_GOPHER_DUP_LINE_CHARS, SL_TS_SKIP_REPETITION},
        {R_GOPHER_TOP_2GRAM, R_GOPHER_TOP_4GRAM, SL_TS_SKIP_TOP_NGRAMS},
        {R_GOPHER_DUP_5GRAM, R_GOPHER_DUP_10GRAM, SL_TS_SKIP_DUP_NGRAMS},
        {R_C4_MAX_WORD_LENGTH, R_C4_MIN_SENTENCES, SL_TS_SKIP_C4},
        {R_FINEWEB_LINE_PUNCT, R_FINEWEB_LIST_RATIO, SL_TS_SKIP_FINEWEB},
    };
    unsigned needed = s->remove_lines ? SL_TS_SKIP_C4 : 0;
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (int r = groups[g].first; r <= (int)groups[g].last; r++)
            if (s->enabled[r]) needed |= groups[g].group;
    unsigned all = 0;
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) all |= groups[g].group;
    return all & ~needed;
}

static int text_quality_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    text_quality_state *s = calloc(1, sizeof *s);
    if (!s) {
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    c->impl = s;
    for (int r = 0; r < N_RULES; r++) {
        s->enabled[r] = true;
        s->threshold[r] = rule_defs[r].threshold;
    }
    size_t errors_before = diag->errors;
    s->field = sl_path_parse(sl_opts_string(opts, "field"), sl_opts_pos(opts, "field"), diag);
    const sl_node *rules = sl_opts_node(opts, "rules");
    if (rules && rules->kind != SL_NODE_MAP) {
        sl_diag_error(diag, rules->pos, "rules must be a mapping of rule name to true, false or a threshold, "
                                        "e.g. {gopher_min_words: 20, c4_lorem_ipsum: false}");
    } else if (rules) {
        for (size_t i = 0; i < rules->n_pairs; i++) set_rule(s, rules->pairs[i].key, rules->pairs[i].value, diag);
    }
    const char *action = sl_opts_enum(opts, "action");
    s->action = strcmp(action, "drop") == 0       ? ACTION_DROP
                : strcmp(action, "annotate") == 0 ? ACTION_ANNOTATE
                : strcmp(action, "route") == 0    ? ACTION_ROUTE
                                                  : ACTION_DLQ;
    s->remove_lines = sl_opts_bool(opts, "remove_lines");
    s->params.tokenizer =
        strcmp(sl_opts_enum(opts, "tokenizer"), "datatrove") == 0 ? SL_TOKENIZER_DATATROVE : SL_TOKENIZER_SLUICE;
    const char *version = sl_opts_enum(opts, "rules_version");
    s->params.rules = strcmp(version, "0.3.0") == 0   ? SL_RULES_DATATROVE_0_3
                      : strcmp(version, "0.4.0") == 0 ? SL_RULES_DATATROVE_0_4
                                                      : SL_RULES_DATATROVE_0_5;
    for (int r = 0; r < N_RULES; r++) s->kind[r] = rule_defs[r].kind;
    if (s->params.rules >= SL_RULES_DATATROVE_0_4) {   /* FineWeb compares strictly from 0.4.0 */
        s->kind[R_FINEWEB_LINE_PUNCT] = REJECT_BELOW;
        s->kind[R_FINEWEB_SHORT_LINES] = REJECT_ABOVE;
        s->kind[R_FINEWEB_DUP_LINE_CHARS] = REJECT_ABOVE;
    }
    s->non_string_to_dlq = sl_non_string_to_dlq(opts);
    if (diag->errors > errors_before) {
        text_quality_destroy(c);
        return -1;
    }

    s->params.c4 = (sl_c4_params){
        .max_word_length = s->enabled[R_C4_MAX_WORD_LENGTH] ? (int64_t)s->threshold[R_C4_MAX_WORD_LENGTH] : 0,
        .terminal_punct = s->enabled[R_C4_TERMINAL_PUNCT],
        .min_words_per_line =
            s->enabled[R_C4_MIN_WORDS_PER_LINE] ? (int64_t)ceil(s->threshold[R_C4_MIN_WORDS_PER_LINE]) : 0,
        .javascript = s->enabled[R_C4_JAVASCRIPT],
        .policy = s->enabled[R_C4_POLICY],
        .lorem_ipsum = s->enabled[R_C4_LOREM_IPSUM],
        .curly_bracket = s->enabled[R_C4_CURLY_BRACKET],
    };
    s->params.skip = measures_to_skip(s);
    if (s->action == ACTION_ROUTE) {
        s->outputs[0] = "kept";
        s->outputs[1] = "rejected";
        c->outputs = s->outputs;
        c->n_outputs = 2;
    }
    return 0;
}

static void *text_quality_worker_init(sl_component *c, sl_error *err) {
    tq_worker *w = calloc(1, sizeof *w);
    if (!w) {
        sl_errorf(err, "out of memory");
        return NULL;
    }
    sl_buf_init(&w->kept);
    return w;
}

static void text_quality_worker_free(sl_component *c, void *wstate) {
    tq_worker *w = wstate;
    sl_textstats_scratch_free(&w->scratch);
    sl_buf_free(&w->kept);
    free(w);
}

/* The measured value a rule compares with its threshold. */
static double rule_value(rule_id r, const sl_textstats *st) {
    switch (r) {
    case R_GOPHER_MIN_WORDS:
    case R_GOPHER_MAX_WORDS: return (double)st->words;
    case R_GOPHER_MIN_MEAN_WORD_LENGTH:
    case R_GOPHER_MAX_MEAN_WORD_LENGTH: return st->mean_word_length;
    case R_GOPHER_HASH_RATIO: return st->hash_ratio;
    case R_GOPHER_ELLIPSIS_RATIO: return st->ellipsis_ratio;
    case R_GOPHER_BULLET_LINES: return st->bullet_lines;
    case R_GOPHER_ELLIPSIS_LINES: return st->ellipsis_lines;
    case R_GOPHER_ALPHA_WORDS: return st->alpha_words;
    case R_GOPHER_STOP_WORDS: return (double)st->stop_words;
    case R_GOPHER_DUP_PARA_FRACTION: return st->dup_para_fraction;
    case R_GOPHER_DUP_PARA_CHARS: return st->dup_para_chars;
    case R_GOPHER_DUP_LINE_FRACTION: return st->dup_line_fraction;
    case R_GOPHER_DUP_LINE_CHARS: return st->dup_line_chars;
    case R_GOPHER_TOP_2GRAM: return st->top_ngram[2];
    case R_GOPHER_TOP_3GRAM: return st->top_ngram[3];
    case R_GOPHER_TOP_4GRAM: return st->top_ngram[4];
    case R_GOPHER_DUP_5GRAM:
    case R_GOPHER_DUP_6GRAM:
    case R_GOPHER_DUP_7GRAM:
    case R_GOPHER_DUP_8GRAM:
    case R_GOPHER_DUP_9GRAM:
    case R_GOPHER_DUP_10GRAM: return st->dup_ngram[5 + (r - R_GOPHER_DUP_5GRAM)];
    case R_C4_LOREM_IPSUM: return st->c4_lorem_ipsum;
    case R_C4_CURLY_BRACKET: return st->c4_curly_bracket;
    case R_C4_MIN_SENTENCES: return (double)st->c4_sentences;
    case R_FINEWEB_LINE_PUNCT: return st->fw_line_punct;
    case R_FINEWEB_SHORT_LINES: return st->fw_short_lines;
    case R_FINEWEB_DUP_LINE_CHARS: return st->fw_dup_line_chars;
    case R_FINEWEB_LIST_RATIO: return st->fw_list_ratio;
    default: return (double)st->c4_removed_by[line_reason(r)];
    }
}

static bool rule_fails(const text_quality_state *s, rule_id r, double v) {
    double t = s->threshold[r];
    switch (s->kind[r]) {
    case REJECT_BELOW: return v < t;
    case REJECT_ABOVE: return v > t;
    case REJECT_AT_OR_BELOW: return v <= t;
    case REJECT_AT_OR_ABOVE: return v >= t;
    case REJECT_IF_FOUND: return v != 0;
    case LINE_RULE: return false;
    }
    return false;
}

/* Writes why rule r failed with value v, e.g. "rule gopher_min_words: 49 is
 * below the minimum 50" (the DLQ message and the route's `reason`). */
static void failure_message(const text_quality_state *s, rule_id r, double v, char *msg, size_t size) {
    const char *name = rule_defs[r].name;
    double t = s->threshold[r];
    switch (s->kind[r]) {
    case REJECT_BELOW: snprintf(msg, size, "rule %s: %.6g is below the minimum %.6g", name, v, t); break;
    case REJECT_ABOVE: snprintf(msg, size, "rule %s: %.6g is above the maximum %.6g", name, v, t); break;
    case REJECT_AT_OR_BELOW: snprintf(msg, size, "rule %s: %.6g is not above the minimum %.6g", name, v, t); break;
    case REJECT_AT_OR_ABOVE: snprintf(msg, size, "rule %s: %.6g is not below the maximum %.6g", name, v, t); break;
    default:
        snprintf(msg, size, "rule %s: the text contains %s", name,
                 r == R_C4_LOREM_IPSUM ? "\"lorem ipsum\"" : "a curly bracket");
        break;
    }
}

/* A rule's value as a record value: a bool for on/off rules, an integer
 * when it is whole, else a double. */
static sl_value score_value(rule_id r, double v) {
    rule_kind kind = rule_defs[r].kind;
    if (kind == REJECT_IF_FOUND) return sl_bool(v != 0);
    if (kind == LINE_RULE || v == floor(v)) return sl_int((int64_t)v);
    return sl_double(v);
}

/* Adds _quality: {rule: value, ..., failed: [rules]} to the record: every
 * enabled rule, measured on the whole document. */
static void annotate(const text_quality_state *s, sl_arena *a, sl_record *rec, const sl_textstats *st) {
    sl_value scores = sl_map_new(a, N_RULES + 1);
    sl_value failed = sl_array_new(a, 2);
    for (int r = 0; r < N_RULES; r++) {
        if (!s->enabled[r]) continue;
        double v = rule_value((rule_id)r, st);
        sl_map_append(a, &scores, rule_defs[r].name, strlen(rule_defs[r].name), score_value((rule_id)r, v));
        if (rule_fails(s, (rule_id)r, v))
            sl_array_push(a, &failed, sl_cstring(rule_defs[r].name));
    }
    sl_map_append(a, &scores, "failed", 6, failed);
    sl_map_set(a, sl_record_mut(rec), "_quality", 8, scores);
}

/* Adds _quality: {rule, value, threshold, reason} to a rejected record, so
 * the `rejected` output says why each document is there. */
static void mark_rejected(const text_quality_state *s, sl_arena *a, sl_record *rec, rule_id r, double v) {
    char msg[256];
    failure_message(s, r, v, msg, sizeof msg);
    sl_value why = sl_map_new(a, 4);
    sl_map_append(a, &why, "rule", 4, sl_cstring(rule_defs[r].name));
    sl_map_append(a, &why, "value", 5, score_value(r, v));
    if (rule_defs[r].kind != REJECT_IF_FOUND) sl_map_append(a, &why, "threshold", 9, sl_double(s->threshold[r]));
    sl_map_append(a, &why, "reason", 6, sl_string_copy(a, msg, strlen(msg)));
    sl_map_set(a, sl_record_mut(rec), "_quality", 8, why);
}

static void text_quality_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                                 sl_emit *out) {
    text_quality_state *s = c->impl;
    tq_worker *w = wstate;
    uint64_t counts[N_RULES] = {0};
    uint64_t documents = 0, rejected = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        sl_record *rec = recs[i];
        const sl_value *text = sl_path_get(s->field, sl_record_value(rec));
        if (s->non_string_to_dlq && sl_is_non_string(text, false)) {
            sl_emit_non_string(out, rec, s->field, text);
            continue;
        }
        if (!text || text->type != SL_STRING) {
            skipped++;
            sl_emit_record(out, 0, rec);
            continue;
        }
        documents++;
        sl_textstats st;
        sl_textstats_compute(text->as.s, text->len, &s->params, &w->scratch, &st,
                             s->remove_lines ? &w->kept : NULL);

        int failed = -1;
        double failed_value = 0;
        for (int r = 0; r < N_RULES && failed < 0; r++) {
            if (!s->enabled[r]) continue;
            double v = rule_value((rule_id)r, &st);
            if (rule_fails(s, (rule_id)r, v)) {
                failed = r;
                failed_value = v;
            }
        }
        for (int r = R_C4_MAX_WORD_LENGTH; r <= R_C4_POLICY; r++)
            if (s->enabled[r]) counts[r] += st.c4_removed_by[line_reason((rule_id)r)];

        if (failed >= 0) {
            rejected++;
            counts[failed]++;
        }
        if (s->action == ACTION_ANNOTATE) {
            annotate(s, &b->arena, rec, &st);
        } else if (failed >= 0) {
            if (s->action == ACTION_DLQ) {
                char msg[256];
                failure_message(s, (rule_id)failed, failed_value, msg, sizeof msg);
                sl_emit_dlq(out, rec, "text_quality", "%s", msg);
            } else if (s->action == ACTION_ROUTE) {
                mark_rejected(s, &b->arena, rec, (rule_id)failed, failed_value);
                sl_emit_record(out, 1, rec);
            }
            continue;   /* ACTION_DROP: emitted nowhere, on purpose */
        }
        if (s->remove_lines && st.c4_lines_removed > 0)
            *sl_path_get_mut(s->field, sl_record_mut(rec)) = sl_string_copy(&b->arena, w->kept.data ? w->kept.data : "", w->kept.len);
        sl_emit_record(out, 0, rec);
    }
    atomic_fetch_add(&s->documents, documents);
    if (rejected) atomic_fetch_add(&s->rejected, rejected);
    if (skipped) atomic_fetch_add(&s->skipped, skipped);
    for (int r = 0; r < N_RULES; r++)
        if (counts[r]) atomic_fetch_add(&s->rule_count[r], counts[r]);
}

static void text_quality_describe(sl_component *c, sl_buf *json) {
    text_quality_state *s = c->impl;
    sl_buf_printf(json, "{\"type\":\"text_quality\",\"documents\":%llu,\"rejected\":%llu,\"skipped\":%llu,\"rules\":[",
                  (unsigned long long)atomic_load(&s->documents), (unsigned long long)atomic_load(&s->rejected),
                  (unsigned long long)atomic_load(&s->skipped));
    bool first = true;
    for (int r = 0; r < N_RULES; r++) {
        if (!s->enabled[r]) continue;
        sl_buf_printf(json, "%s{\"rule\":\"%s\",\"%s\":%llu}", first ? "" : ",", rule_defs[r].name,
                      rule_defs[r].kind == LINE_RULE ? "lines_removed" : "rejected",
                      (unsigned long long)atomic_load(&s->rule_count[r]));
        first = false;
    }
    sl_buf_puts(json, "]}");
}

/* One sample line: name{component="..",rule=".."} value. */
static void rule_sample(sl_buf *prom, const char *name, const char *component, const char *rule, uint64_t value) {
    sl_buf_printf(prom, "%s{component=\"", name);
    sl_prom_escape(prom, component);
    sl_buf_printf(prom, "\",rule=\"%s\"} %llu\n", rule, (unsigned long long)value);
}

static void text_quality_metrics(sl_component *c, sl_buf *prom) {
    text_quality_state *s = c->impl;
    sl_buf_puts(prom, "# HELP sluice_text_quality_documents_total Documents judged by text_quality.\n"
                      "# TYPE sluice_text_quality_documents_total counter\n"
                      "sluice_text_quality_documents_total{component=\"");
    sl_prom_escape(prom, c->name);
    sl_buf_printf(prom, "\"} %llu\n", (unsigned long long)atomic_load(&s->documents));
    sl_buf_puts(prom, "# HELP sluice_text_quality_rejected_total Documents rejected, by the first rule they failed.\n"
                      "# TYPE sluice_text_quality_rejected_total counter\n");
    for (int r = 0; r < N_RULES; r++)
        if (s->enabled[r] && rule_defs[r].kind != LINE_RULE)
            rule_sample(prom, "sluice_text_quality_rejected_total", c->name, rule_defs[r].name,
                        atomic_load(&s->rule_count[r]));
    sl_buf_puts(prom, "# HELP sluice_text_quality_lines_removed_total Lines the C4 line rules removed.\n"
                      "# TYPE sluice_text_quality_lines_removed_total counter\n");
    for (int r = R_C4_MAX_WORD_LENGTH; r <= R_C4_POLICY; r++)
        if (s->enabled[r])
            rule_sample(prom, "sluice_text_quality_lines_removed_total", c->name, rule_defs[r].name,
                        atomic_load(&s->rule_count[r]));
}

const sl_component_type sl_transform_text_quality_type = {
    .name = "text_quality",
    .kind = SL_TRANSFORM,
    .summary = "Filter documents with the Gopher, C4 and FineWeb quality heuristics",
    .doc =
        "Judges the text in `field` with the heuristic rules used to build LLM training "
        "corpora — Gopher quality (word count, mean word length, symbol ratios, bullet and "
        "ellipsis lines, alphabetic words, stop words), Gopher repetition (duplicate lines and "
        "paragraphs, top 2–4-gram and duplicated 5–10-gram character fractions), C4 (line "
        "filters, lorem ipsum, curly brackets, at least 5 sentences) and FineWeb (line "
        "punctuation, short lines, duplicated line characters, list-like text) — with the "
        "thresholds and definitions of datatrove's filters as defaults. By default words are split "
        "on Unicode whitespace, so the rules work for any language that uses spaces; "
        "`tokenizer: datatrove` counts datatrove's English tokens instead (punctuation as tokens), "
        "and `rules_version` picks the datatrove release whose definitions are followed.\n\n"
        "Every rule is on by default; `rules:` switches rules off or sets new thresholds. A "
        "document that fails goes to the DLQ with reason `text_quality` and a message naming "
        "the first failing rule with its value and threshold (or is dropped, routed to "
        "`<name>.rejected`, or annotated with `_quality` scores, see `action`). `/stats` and "
        "`/metrics` count rejections per rule. The rules, formulas and sources are listed in "
        "docs/text-quality.md.",
    .example =
        "transforms:\n"
        "  quality:\n"
        "    type: text_quality\n"
        "    inputs: [clean]\n"
        "    field: text\n"
        "    rules: {gopher_min_words: 20, c4_curly_bracket: false}\n"
        "    action: route            # outputs quality.kept and quality.rejected\n",
    .options = text_quality_options,
    .create = text_quality_create,
    .destroy = text_quality_destroy,
    .worker_init = text_quality_worker_init,
    .worker_free = text_quality_worker_free,
    .process = text_quality_process,
    .describe = text_quality_describe,
    .metrics = text_quality_metrics,
};
