/* wordtok.c — datatrove's English word tokenizer (see wordtok.h): punkt
 * sentence boundaries, then the Treebank rewrite rules on each sentence,
 * then a split on whitespace.
 *
 * Sentences follow punkt's procedure step by step:
 *  1. a candidate end is a '.', '?' or '!' followed by whitespace and a
 *     token, or by one of ) " ; } ] * : @ ' ( { [ ? !; candidates with no
 *     whitespace between them merge (the last one stands for the run);
 *  2. the candidate's context (the word before it, the end, the token after)
 *     is cut into punkt tokens and annotated: "?" "!" "." alone end a
 *     sentence, "..." does not, a word ending in '.' does unless it is a
 *     known abbreviation; then an initial ("J.") or a number ("1999.") does
 *     not end a sentence before a lower-case word, an initial not before a
 *     capitalised uncommon word either, and an abbreviation or "..." does end
 *     one before a capitalised common word ("etc. The");
 *  3. closing quotes and brackets after the end move into the sentence.
 * The trained parts of punkt (abbreviations, common sentence starters) are
 * the fixed lists below; tests/integration/reference_textq.py holds the
 * same lists (its test checks that they match).
 *
 * The Treebank rules are NLTK's NLTKWordTokenizer, in its order: opening
 * quotes, punctuation, brackets, double dashes, then (on the sentence padded
 * with spaces) closing quotes and clitics, then MacIntyre's contractions.
 * Python's regular expressions and PCRE2 in UTF + UCP mode agree on these
 * patterns; `\s` is spelt out as Python's whitespace set.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "wordtok.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unichar.h"

/* ---- the Treebank rules ---- */

/* Python's \s (str.isspace), as a PCRE2 character class. */
#define WS "[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"

typedef struct rule {
    const char *pattern, *replacement;
} rule;

/* Applied to the sentence as it is. */
static const rule before_pad[] = {
    /* opening quotes: « “ ‘ „ and runs of ` stand alone; a leading " or one
     * after a space or an opening bracket becomes `` */
    {"([\\x{ab}\\x{201c}\\x{2018}\\x{201e}]|`+)", " $1 "},
    {"^\"", "``"},
    {"(``)", " $1 "},
    {"([ (\\[{<])(\"|'{2})", "$1 `` "},
    /* an opening ' before a word that is not a clitic ('re 've 'll 'm 't 's 'd 'n) */
    {"(?i)(')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", "$1 $2"},
    /* the sentence's final period, with closing quotes or brackets after it */
    {"([^.])(\\.)([\\])}>\"'\\x{bb}\\x{201d}\\x{2019} ]*)" WS "*$", "$1 $2 $3 "},
    /* ':' and ',' unless inside a number ("3,000", "10:30") */
    {"([:,])([^\\d])", " $1 $2"},
    {"([:,])$", " $1 "},
    /* ellipses, symbols, the final period again, ? !, a closing ' and * */
    {"\\.{2,}", " $0 "},
    {"[;@#$%&]", " $0 "},
    {"([^.])(\\.)([\\])}>\"']*)" WS "*$", "$1 $2$3 "},
    {"[?!]", " $0 "},
    {"([^'])' ", "$1 ' "},
    {"[*]", " $0 "},
    /* brackets and double dashes */
    {"[\\][(){}<>]", " $0 "},
    {"--", " -- "},
};

/* Applied to " " + sentence + " ". */
static const rule after_pad[] = {
    /* closing quotes: » ” ’ stand alone, '' and " become '' */
    {"([\\x{bb}\\x{201d}\\x{2019}])", " $1 "},
    {"''", " '' "},
    {"\"", " '' "},
    /* clitics: 's 'm 'd ' and 'll 're 've n't */
    {"([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "},
    {"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "},
    /* MacIntyre's contractions: cannot, d'ye, gimme, gonna, gotta, lemme,
     * more'n, wanna, 'tis, 'twas */
    {"(?i)\\b(can)(not)\\b", " $1 $2 "},
    {"(?i)\\b(d)('ye)\\b", " $1 $2 "},
    {"(?i)\\b(gim)(me)\\b", " $1 $2 "},
    {"(?i)\\b(gon)(na)\\b", " $1 $2 "},
    {"(?i)\\b(got)(ta)\\b", " $1 $2 "},
    {"(?i)\\b(lem)(me)\\b", " $1 $2 "},
    {"(?i)\\b(more)('n)\\b", " $1 $2 "},
    {"(?i)\\b(wan)(na)(?=" WS ")", " $1 $2 "},
    {"(?i) ('t)(is)\\b", " $1 $2 "},
    {"(?i) ('t)(was)\\b", " $1 $2 "},
};

#define N_BEFORE (sizeof before_pad / sizeof *before_pad)
#define N_AFTER (sizeof after_pad / sizeof *after_pad)

static pcre2_code *compiled[N_BEFORE + N_AFTER];
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static void compile_rules(void) {
    for (size_t i = 0; i < N_BEFORE + N_AFTER; i++) {
        const char *p = i < N_BEFORE ? before_pad[i].pattern : after_pad[i - N_BEFORE].pattern;
        int code;
        PCRE2_SIZE offset;
        compiled[i] = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code, &offset, NULL);
        if (!compiled[i]) {   /* a constant pattern: a bug, caught by the tests */
            fprintf(stderr, "sluice: wordtok rule %zu does not compile (PCRE2 error %d at %zu)\n", i, code,
                    (size_t)offset);
            abort();
        }
        pcre2_jit_compile(compiled[i], PCRE2_JIT_COMPLETE);   /* the interpreter when unavailable */
    }
}

void sl_wordtok_free(sl_wordtok *w) {
    sl_buf_free(&w->clean);
    sl_buf_free(&w->a);
    sl_buf_free(&w->b);
    pcre2_match_data_free(w->match_data);
    memset(w, 0, sizeof *w);
}

/* Rewrites *cur with rule re -> repl into *spare, then swaps them. On a
 * PCRE2 error (none is expected on valid UTF-8) the text is left as is. */
static void rewrite(sl_wordtok *w, const pcre2_code *re, const char *repl, sl_buf **cur, sl_buf **spare) {
    uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_SUBSTITUTE_UNSET_EMPTY |
                    PCRE2_NO_UTF_CHECK;
    sl_buf *in = *cur, *out = *spare;
    size_t want = in->len + 64;
    for (;;) {
        out->len = 0;
        sl_buf_reserve(out, want + 1);
        PCRE2_SIZE outlen = out->cap;
        int rc = pcre2_substitute(re, (PCRE2_SPTR)(in->data ? in->data : ""), in->len, 0, opts, w->match_data,
                                  NULL, (PCRE2_SPTR)repl, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out->data, &outlen);
        if (rc == PCRE2_ERROR_NOMEMORY) {
            want = outlen + 1;
            continue;
        }
        if (rc < 0) return;
        out->len = outlen;
        *cur = out;
        *spare = in;
        return;
    }
}

/* Appends the whitespace-separated pieces of s to out, each followed by a
 * space; returns how many. */
static size_t split_into(const char *s, size_t len, sl_buf *out) {
    size_t n = 0, i = 0;
    while (i < len) {
        int32_t cp;
        size_t k = sl_uc_next(s + i, len - i, &cp);
        if (sl_uc_is_space(cp)) {
            i += k;
            continue;
        }
        size_t start = i;
        while (i < len) {
            k = sl_uc_next(s + i, len - i, &cp);
            if (sl_uc_is_space(cp)) break;
            i += k;
        }
        sl_buf_append(out, s + start, i - start);
        sl_buf_putc(out, ' ');
        n++;
    }
    return n;
}

/* The Treebank tokens of one sentence, appended to out. */
static size_t treebank(sl_wordtok *w, const char *s, size_t len, sl_buf *out) {
    sl_buf *cur = &w->a, *spare = &w->b;
    cur->len = 0;
    sl_buf_append(cur, s, len);
    for (size_t i = 0; i < N_BEFORE; i++) rewrite(w, compiled[i], before_pad[i].replacement, &cur, &spare);
    spare->len = 0;
    sl_buf_putc(spare, ' ');
    sl_buf_append(spare, cur->data ? cur->data : "", cur->len);
    sl_buf_putc(spare, ' ');
    sl_buf *t = cur;
    cur = spare;
    spare = t;
    for (size_t i = 0; i < N_AFTER; i++)
        rewrite(w, compiled[N_BEFORE + i], after_pad[i].replacement, &cur, &spare);
    return split_into(cur->data, cur->len, out);
}

/* ---- punkt ---- */

/* Abbreviations (lower case, without the final period) that do not end a
 * sentence: titles, company words, months, Latin, common short forms. */
static const char *const abbreviations[] = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "gov", "sen", "rep", "rev", "col",
    "capt", "lt", "sgt", "maj", "cmdr", "adm", "hon", "pres", "supt", "messrs", "inc", "co", "corp", "ltd",
    "bros", "dept", "univ", "assn", "no", "nos", "vol", "vols", "pp", "p", "fig", "figs", "ed", "eds", "ch",
    "sec", "art", "para", "approx", "est", "ca", "cf", "vs", "viz", "al", "etc", "e.g", "i.e", "a.m", "p.m",
    "u.s", "u.k", "u.n", "u.s.a", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thurs", "fri", "sat", "sun", "ave", "blvd", "rd",
    "hwy", "calif", "fla", "mass", "penn", "wash", "ariz", "conn", "ill", "mich", "minn", "tenn",
    "va", "n.y", "d.c", "l.a", "ph.d", "m.d", "b.a", "m.a", "op", "v", "seq",
};

/* Common words that start sentences and occur in lower case elsewhere:
 * punkt lets an abbreviation or "..." end a sentence before them, and an
 * initial too. */
static const char *const starters[] = {
    "the", "a", "an", "and", "but", "or", "if", "in", "on", "at", "to", "of", "for", "with", "as", "by",
    "from", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we", "you", "there",
    "then", "so", "when", "while", "what", "which", "who", "how", "why", "where", "all", "some", "no",
    "not", "one", "our", "my", "his", "her", "their", "your", "after", "before", "however", "also",
    "many", "most", "such", "each", "both", "since", "although", "because", "yet", "now",
};

static bool in_list(const char *const *list, size_t n, const char *s, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0) return true;
    return false;
}

static bool one_of(int32_t cp, const char *set) {
    return cp > 0 && cp < 0x80 && strchr(set, (int)cp);
}

/* punkt's "non-word" characters: they end a word and may follow a sentence end. */
static bool non_word(int32_t cp) {
    return one_of(cp, ")\";}]*:@'({[?!");
}

/* Characters that cannot start a punkt word (they are tokens of their own). */
static bool not_word_start(int32_t cp) {
    return one_of(cp, "(\"`{[:;&#*@)}]-,");
}

static int32_t cp_at(const char *s, size_t len, size_t i) {
    int32_t cp = -1;
    if (i < len) sl_uc_next(s + i, len - i, &cp);
    return cp;
}

/* Length of punkt's multi-character punctuation at i ("--", "..", ". . ."), or 0. */
static size_t multichar(const char *s, size_t len, size_t i) {
    if (i + 1 < len && ((s[i] == '-' && s[i + 1] == '-') || (s[i] == '.' && s[i + 1] == '.'))) {
        size_t e = i;
        while (e < len && s[e] == s[i]) e++;
        return e - i;
    }
    /* (?:\.\s){2,}\. */
    size_t p = i, reps = 0;
    while (p < len && s[p] == '.') {
        int32_t cp;
        if (p + 1 >= len) break;
        size_t k = sl_uc_next(s + p + 1, len - p - 1, &cp);
        if (!sl_uc_is_space(cp)) break;
        p += 1 + k;
        reps++;
    }
    while (reps >= 2) {   /* the repeat must be followed by a '.' */
        if (p < len && s[p] == '.') return p + 1 - i;
        /* back off one repetition: find its start */
        size_t q = i;
        for (size_t r = 0; r + 1 < reps; r++) {
            int32_t cp;
            q += 1 + sl_uc_next(s + q + 1, len - q - 1, &cp);
        }
        p = q;
        reps--;
    }
    return 0;
}

typedef struct ptok {
    const char *s;
    size_t n;
    bool sentbreak, abbr, ellipsis;
} ptok;

/* The next punkt token of s[*pos, len), or false at the end. */
static bool punkt_token(const char *s, size_t len, size_t *pos, ptok *t) {
    size_t p = *pos;
    int32_t cp;
    while (p < len) {
        size_t k = sl_uc_next(s + p, len - p, &cp);
        if (!sl_uc_is_space(cp)) break;
        p += k;
    }
    if (p >= len) return false;
    size_t end, m = multichar(s, len, p);
    size_t k = sl_uc_next(s + p, len - p, &cp);
    if (m) {
        end = p + m;
    } else if (!not_word_start(cp)) {
        end = p + k;
        while (end < len) {   /* \S+? up to a word's end */
            int32_t c;
            size_t step = sl_uc_next(s + end, len - end, &c);
            if (sl_uc_is_space(c) || non_word(c) || multichar(s, len, end)) break;
            if (c == ',') {
                int32_t after = cp_at(s, len, end + 1);
                if (end + 1 >= len || sl_uc_is_space(after) || non_word(after) || multichar(s, len, end + 1))
                    break;
            }
            end += step;
        }
    } else {
        end = p + k;
    }
    *t = (ptok){s + p, end - p, false, false, false};
    *pos = end;
    return true;
}

static bool period_final(const ptok *t) {
    return t->n > 0 && t->s[t->n - 1] == '.';
}

/* ASCII-lowercases s[0..n) into out (at most cap bytes); false if too long. */
static bool lower(const char *s, size_t n, char *out, size_t cap) {
    if (n >= cap) return false;
    for (size_t i = 0; i < n; i++) out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[n] = 0;
    return true;
}

static bool is_abbreviation(const char *s, size_t n) {
    char low[32];
    if (!lower(s, n, low, sizeof low)) return false;
    const size_t count = sizeof abbreviations / sizeof *abbreviations;
    if (in_list(abbreviations, count, low, n)) return true;
    const char *dash = strrchr(low, '-');
    return dash && in_list(abbreviations, count, dash + 1, strlen(dash + 1));
}

static void first_pass(ptok *t) {
    if (t->n == 1 && one_of((unsigned char)t->s[0], ".?!")) {
        t->sentbreak = true;
        return;
    }
    size_t dots = 0;
    while (dots < t->n && t->s[dots] == '.') dots++;
    if (dots >= 2 && dots == t->n) {
        t->ellipsis = true;
    } else if (period_final(t) && !(t->n >= 2 && t->s[t->n - 2] == '.')) {
        if (is_abbreviation(t->s, t->n - 1))
            t->abbr = true;
        else
            t->sentbreak = true;
    }
}

/* punkt's number shape: -?[.,]?\d[\d,.-]*\.? (ASCII digits here). */
static bool is_number(const ptok *t) {
    size_t i = 0, n = t->n;
    const char *s = t->s;
    if (i < n && s[i] == '-') i++;
    if (i < n && (s[i] == '.' || s[i] == ',')) i++;
    if (!(i < n && s[i] >= '0' && s[i] <= '9')) return false;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == ',' || s[i] == '.' || s[i] == '-')) i++;
    return i == n;
}

/* A letter (or '_') followed by '.', nothing else. */
static bool is_initial(const ptok *t) {
    int32_t cp;
    size_t k = sl_uc_next(t->s, t->n, &cp);
    if (k + 1 != t->n || t->s[k] != '.') return false;
    if (cp == '_') return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

typedef enum { ORTHO_UNKNOWN, ORTHO_STARTER, ORTHO_NOT_STARTER } ortho;

static bool is_starter_word(const ptok *t) {
    char low[32];
    size_t n = t->n;
    if (period_final(t)) n--;
    return lower(t->s, n, low, sizeof low) && in_list(starters, sizeof starters / sizeof *starters, low, n);
}

/* Does the token look like the start of a sentence? */
static ortho ortho_heuristic(const ptok *t) {
    if (t->n == 1 && one_of((unsigned char)t->s[0], ";:,.!?")) return ORTHO_NOT_STARTER;
    int32_t cp;
    sl_uc_next(t->s, t->n, &cp);
    utf8proc_category_t c = utf8proc_category(cp);
    if (c == UTF8PROC_CATEGORY_LU) return is_starter_word(t) ? ORTHO_STARTER : ORTHO_UNKNOWN;
    if (c == UTF8PROC_CATEGORY_LL) return ORTHO_NOT_STARTER;
    return ORTHO_UNKNOWN;
}

static void second_pass(ptok *t, const ptok *next) {
    if (!period_final(t)) return;
    bool initial = is_initial(t);
    if ((t->abbr || t->ellipsis) && !initial && ortho_heuristic(next) == ORTHO_STARTER) {
        t->sentbreak = true;
        return;
    }
    if (initial || is_number(t)) {
        ortho o = ortho_heuristic(next);
        int32_t cp;
        sl_uc_next(next->s, next->n, &cp);
        if (o == ORTHO_NOT_STARTER ||
            (o == ORTHO_UNKNOWN && initial && utf8proc_category(cp) == UTF8PROC_CATEGORY_LU && !is_starter_word(next))) {
            t->sentbreak = false;
            t->abbr = true;
        }
    }
}

/* punkt's text_contains_sentbreak: a token of the context ends a sentence
 * and another token follows it. */
static bool contains_break(const char *s, size_t len) {
    ptok prev = {0}, cur;
    bool have_prev = false, found = false;
    size_t pos = 0;
    while (punkt_token(s, len, &pos, &cur)) {
        first_pass(&cur);
        if (have_prev) {
            second_pass(&prev, &cur);
            if (found) return true;
            if (prev.sentbreak) found = true;
        }
        prev = cur;
        have_prev = true;
    }
    return found && have_prev;
}

typedef void (*sentence_fn)(void *ctx, const char *s, size_t len);

/* Realigns closing punctuation (step 3) as sentences arrive. */
typedef struct realigner {
    const char *text;
    sentence_fn fn;
    void *ctx;
    bool have;
    size_t start, end, shift;
} realigner;

static void emit(realigner *r, size_t start, size_t end) {
    if (start < end) r->fn(r->ctx, r->text + start, end - start);
}

static void realign_push(realigner *r, size_t start, size_t end) {
    if (r->have) {
        size_t s1 = r->start + r->shift, e1 = r->end;
        /* ["')\]}]+? followed by whitespace, "--" or the end of the next sentence */
        size_t k = 0, closers = 0, matched = 0;
        r->shift = 0;
        while (start + k < end && one_of((unsigned char)r->text[start + k], "\"')]}")) {
            k++;
            size_t p = start + k;
            int32_t cp = cp_at(r->text, end, p);
            if (p >= end || sl_uc_is_space(cp) || (p + 1 < end && r->text[p] == '-' && r->text[p + 1] == '-')) {
                closers = k;
                while (p < end && sl_uc_is_space(cp_at(r->text, end, p))) {
                    int32_t c;
                    p += sl_uc_next(r->text + p, end - p, &c);
                }
                matched = p - start;
                break;
            }
        }
        if (closers) {
            emit(r, s1, start + closers);
            r->shift = matched;
        } else {
            emit(r, s1, e1);
        }
    }
    r->have = true;
    r->start = start;
    r->end = end;
}

static void realign_finish(realigner *r) {
    if (r->have) emit(r, r->start + r->shift, r->end);
}

static bool ascii_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Cuts text into punkt's sentences; fn gets each one. */
static void split_sentences(const char *text, size_t len, sentence_fn fn, void *ctx) {
    realigner r = {text, fn, ctx, false, 0, 0, 0};
    size_t last_break = 0;
    /* the pending candidate (step 1), decided when the next one shows it stands alone */
    bool pending = false;
    size_t p_start = 0, p_stop = 0, p_after_end = 0, p_next_tok = 0;
    size_t prev_start = 0, prev_stop = 0;
    for (size_t i = 0; i <= len; i++) {
        bool at_end = i == len;
        size_t after_end = 0, next_tok = 0;
        if (!at_end) {
            if (!one_of((unsigned char)text[i], ".?!")) continue;
            int32_t cp = cp_at(text, len, i + 1);
            if (cp >= 0 && non_word(cp)) {
                after_end = i + 2;
            } else if (cp >= 0 && sl_uc_is_space(cp)) {
                size_t p = i + 1;
                while (p < len && sl_uc_is_space(cp_at(text, len, p))) {
                    int32_t c;
                    p += sl_uc_next(text + p, len - p, &c);
                }
                if (p >= len) continue;
                next_tok = p;
                while (p < len && !sl_uc_is_space(cp_at(text, len, p))) {
                    int32_t c;
                    p += sl_uc_next(text + p, len - p, &c);
                }
                after_end = p;
            } else {
                continue;
            }
        }
        /* the word before this candidate starts after the last ASCII space
         * since the previous candidate, or else where that one's did */
        size_t word_start = prev_start;
        if (!at_end) {
            size_t ws = 0;
            for (size_t k = i; k > prev_stop; k--)
                if (ascii_space(text[k - 1])) {
                    ws = k - 1 - prev_stop;
                    break;
                }
            if (ws) word_start = prev_stop + ws + 1;
        }
        if (pending && (at_end || p_stop <= word_start)) {
            if (contains_break(text + p_start, p_after_end - p_start)) {
                realign_push(&r, last_break, p_stop + 1);
                last_break = p_next_tok ? p_next_tok : p_stop + 1;
            }
        }
        if (at_end) break;
        pending = true;
        p_start = word_start;
        p_stop = i;
        p_after_end = after_end;
        p_next_tok = next_tok;
        prev_start = word_start;
        prev_stop = i;
    }
    size_t end = len;
    while (end > 0) {   /* rstrip */
        size_t b = end - 1;
        while (b > 0 && ((unsigned char)text[b] & 0xC0) == 0x80 && end - b < 4) b--;
        int32_t cp;
        sl_uc_next(text + b, end - b, &cp);
        if (!sl_uc_is_space(cp)) break;
        end = b;
    }
    realign_push(&r, last_break, end > last_break ? end : last_break);
    realign_finish(&r);
}

/* ---- the API ---- */

typedef struct words_ctx {
    sl_wordtok *w;
    sl_buf *out;
    size_t n;
} words_ctx;

static void words_of_sentence(void *ctx, const char *s, size_t len) {
    words_ctx *c = ctx;
    c->n += treebank(c->w, s, len, c->out);
}

/* text with every invalid byte replaced by U+FFFD, in w->clean (or text
 * itself when it is valid). */
static const char *valid_utf8(sl_wordtok *w, const char *text, size_t *len) {
    size_t n = *len, i = 0;
    while (i < n) {
        if ((unsigned char)text[i] < 0x80) {
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        if (utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(n - i), &cp) <= 0) break;
        i += (size_t)utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(n - i), &cp);
    }
    if (i == n) return text;
    w->clean.len = 0;
    sl_buf_append(&w->clean, text, i);
    while (i < n) {
        int32_t cp;
        size_t k = sl_uc_next(text + i, n - i, &cp);
        if (cp == 0xFFFD && k == 1)
            sl_buf_append(&w->clean, "\xEF\xBF\xBD", 3);
        else
            sl_buf_append(&w->clean, text + i, k);
        i += k;
    }
    *len = w->clean.len;
    return w->clean.data;
}

size_t sl_wordtok_words(sl_wordtok *w, const char *text, size_t len, sl_buf *out) {
    pthread_once(&compiled_once, compile_rules);
    if (!w->match_data && !(w->match_data = pcre2_match_data_create(8, NULL))) abort();
    text = valid_utf8(w, text, &len);
    words_ctx c = {w, out, 0};
    split_sentences(text, len, words_of_sentence, &c);
    return c.n;
}

static void count_sentence(void *ctx, const char *s, size_t len) {
    (void)s;
    (void)len;
    (*(size_t *)ctx)++;
}

size_t sl_wordtok_sentences(const char *text, size_t len) {
    size_t n = 0;
    split_sentences(text, len, count_sentence, &n);
    return n;
}
