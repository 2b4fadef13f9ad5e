"""An independent Python reference for sluice's `text_quality` rules.

Python datatrove cannot be installed here (no pip), so this file writes its
rule definitions down again, in Python, from datatrove's published source
(src/datatrove/pipeline/filters/{gopher_quality_filter, gopher_repetition_filter,
c4_filters, fineweb_quality_filter}.py and utils/text.py at the tags v0.3.0,
v0.4.0 and v0.5.0; v0.10.0 has the same rules as v0.5.0). It shares no code
with sluice: the word tokenizer is NLTK's word_tokenize written out with
Python's `re` (the Treebank rewrite rules as NLTK publishes them, and punkt's
sentence algorithm), where sluice uses PCRE2 and a hand-written scanner.

One thing cannot be reproduced here either: punkt's trained English model
(abbreviations, collocations, capitalisation statistics). Like sluice, this
reference stands in two fixed lists for it (ABBREVIATIONS, STARTERS below);
sentence ends that depend on the trained model are therefore not checked by
this comparison, only everything else.

Two deliberate departures from datatrove, both to compare every rule on
every document (what `action: annotate` reports):
  - every rule is measured, not only those before the first failure, and the
    C4 line scan goes on after "lorem ipsum" or "{";
  - a ratio whose denominator is 0 is 0 (datatrove would divide by zero or
    take the mean of nothing, which its earlier rules make unreachable).

Use: rules(text, version) -> {rule name: value}; fails(name, value, version).
"""
import re
from collections import Counter

# ---- datatrove's character sets (utils/text.py) ----

PUNCTUATION_0_3 = set(
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
    + "".join(map(chr, (x for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))))
)

TERMINAL_PUNCTUATION = set(map(chr, [
    0x21, 0x2E, 0x3F, 0x589, 0x61D, 0x61E, 0x61F, 0x6D4, 0x700, 0x701, 0x702, 0x7F9, 0x837, 0x839, 0x83D,
    0x83E, 0x964, 0x965, 0x104A, 0x104B, 0x1362, 0x1367, 0x1368, 0x166E, 0x1735, 0x1736, 0x17D4, 0x17D5,
    0x17D6, 0x17D9, 0x17DA, 0x1803, 0x1809, 0x1944, 0x1945, 0x1AA8, 0x1AA9, 0x1AAA, 0x1AAB, 0x1B5A, 0x1B5B,
    0x1B5E, 0x1B5F, 0x1B7D, 0x1B7E, 0x1C3B, 0x1C3C, 0x1C7E, 0x1C7F, 0x203C, 0x203D, 0x2047, 0x2048, 0x2049,
    0x2E2E, 0x2E3C, 0x2E53, 0x2E54, 0x3002, 0xA4FF, 0xA60E, 0xA60F, 0xA6F3, 0xA6F7, 0xA876, 0xA877, 0xA8CE,
    0xA8CF, 0xA92F, 0xA9C8, 0xA9C9, 0xAA5D, 0xAA5E, 0xAA5F, 0xAAF0, 0xAAF1, 0xABEB, 0xFE52, 0xFE56, 0xFE57,
    0xFF01, 0xFF0E, 0xFF1F, 0xFF61, 0x10A56, 0x10A57, 0x10F55, 0x10F56, 0x10F57, 0x10F58, 0x10F59, 0x10F86,
    0x10F87, 0x10F88, 0x10F89, 0x11047, 0x11048, 0x110BE, 0x110BF, 0x110C0, 0x110C1, 0x11141, 0x11142,
    0x11143, 0x111C5, 0x111C6, 0x111CD, 0x111DE, 0x111DF, 0x11238, 0x11239, 0x1123B, 0x1123C, 0x112A9,
    0x1144B, 0x1144C, 0x115C2, 0x115C3, 0x115C9, 0x115CA, 0x115CB, 0x115CC, 0x115CD, 0x115CE, 0x115CF,
    0x115D0, 0x115D1, 0x115D2, 0x115D3, 0x115D4, 0x115D5, 0x115D6, 0x115D7, 0x11641, 0x11642, 0x1173C,
    0x1173D, 0x1173E, 0x11944, 0x11946, 0x11A42, 0x11A43, 0x11A9B, 0x11A9C, 0x11C41, 0x11C42, 0x11EF7,
    0x11EF8, 0x11F43, 0x11F44, 0x16A6E, 0x16A6F, 0x16AF5, 0x16B37, 0x16B38, 0x16B44, 0x16E98, 0x1BC9F,
    0x1DA88,
]))

STOP_WORDS = {"the", "be", "to", "of", "and", "that", "have", "with"}

# ---- NLTK word_tokenize: the Treebank rules ----

STARTING_QUOTES = [
    (re.compile("([«“‘„]|[`]+)"), r" \1 "),
    (re.compile(r"^\""), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` "),
    (re.compile(r"(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b"), r"\1 \2"),
]
PUNCTUATION_RULES = [
    (re.compile(r'([^\.])(\.)([\]\)}>"\'' "»”’ " r"]*)\s*$"), r"\1 \2 \3 "),
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.{2,}"), r" \g<0> "),
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[*]"), r" \g<0> "),
]
PARENS_BRACKETS = (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> ")
DOUBLE_DASHES = (re.compile(r"--"), r" -- ")
ENDING_QUOTES = [
    (re.compile("([»”’])"), r" \1 "),
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
CONTRACTIONS = [re.compile(p) for p in (
    r"(?i)\b(can)(?#X)(not)\b", r"(?i)\b(d)(?#X)('ye)\b", r"(?i)\b(gim)(?#X)(me)\b", r"(?i)\b(gon)(?#X)(na)\b",
    r"(?i)\b(got)(?#X)(ta)\b", r"(?i)\b(lem)(?#X)(me)\b", r"(?i)\b(more)(?#X)('n)\b", r"(?i)\b(wan)(?#X)(na)(?=\s)",
    r"(?i) ('t)(?#X)(is)\b", r"(?i) ('t)(?#X)(was)\b",
)]


def treebank(text):
    for regexp, sub in STARTING_QUOTES + PUNCTUATION_RULES + [PARENS_BRACKETS, DOUBLE_DASHES]:
        text = regexp.sub(sub, text)
    text = " " + text + " "
    for regexp, sub in ENDING_QUOTES:
        text = regexp.sub(sub, text)
    for regexp in CONTRACTIONS:
        text = regexp.sub(r" \1 \2 ", text)
    return text.split()


# ---- NLTK word_tokenize: punkt's sentence algorithm, with fixed lists ----

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "gov", "sen", "rep", "rev", "col",
    "capt", "lt", "sgt", "maj", "cmdr", "adm", "hon", "pres", "supt", "messrs", "inc", "co", "corp", "ltd",
    "bros", "dept", "univ", "assn", "no", "nos", "vol", "vols", "pp", "p", "fig", "figs", "ed", "eds", "ch",
    "sec", "art", "para", "approx", "est", "ca", "cf", "vs", "viz", "al", "etc", "e.g", "i.e", "a.m", "p.m",
    "u.s", "u.k", "u.n", "u.s.a", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thurs", "fri", "sat", "sun", "ave", "blvd", "rd",
    "hwy", "calif", "fla", "mass", "penn", "wash", "ariz", "conn", "ill", "mich", "minn", "tenn",
    "va", "n.y", "d.c", "l.a", "ph.d", "m.d", "b.a", "m.a", "op", "v", "seq",
}
STARTERS = {
    "the", "a", "an", "and", "but", "or", "if", "in", "on", "at", "to", "of", "for", "with", "as", "by",
    "from", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we", "you", "there",
    "then", "so", "when", "while", "what", "which", "who", "how", "why", "where", "all", "some", "no",
    "not", "one", "our", "my", "his", "her", "their", "your", "after", "before", "however", "also",
    "many", "most", "such", "each", "both", "since", "although", "because", "yet", "now",
}

NON_WORD = r"(?:[)\";}\]\*:@\'\({\[?!])"
MULTI_CHAR = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)"
WORD_START = r"[^\(\"\`{\[:;&\#\*@\)}\]\-,]"
PUNKT_WORD = re.compile(r"""(
    %(MultiChar)s
    |
    (?=%(WordStart)s)\S+?
    (?=\s|$|%(NonWord)s|%(MultiChar)s|,(?=$|\s|%(NonWord)s|%(MultiChar)s))
    |
    \S
)""" % {"NonWord": NON_WORD, "MultiChar": MULTI_CHAR, "WordStart": WORD_START}, re.UNICODE | re.VERBOSE)
PERIOD_CONTEXT = re.compile(r"""[.?!](?=(?P<after_tok>%(NonWord)s|\s+(?P<next_tok>\S+)))""" % {"NonWord": NON_WORD},
                            re.UNICODE | re.VERBOSE)
REALIGN = re.compile(r'["\')\]}]+?(?:\s+|(?=--)|$)', re.MULTILINE)
NUMERIC = re.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$")
INITIAL = re.compile(r"[^\W\d]\.$")


class Tok:
    def __init__(self, tok):
        self.tok = tok
        self.sentbreak = self.abbr = self.ellipsis = False
        self.period_final = tok.endswith(".")
        typ = NUMERIC.sub("##number##", tok.lower())
        self.type_no_period = typ[:-1] if len(typ) > 1 and typ[-1] == "." else typ


def ortho(tok):
    """A stand-in for punkt's trained orthographic heuristic."""
    if tok.tok in tuple(";:,.!?"):
        return False
    word = tok.tok.lower()
    if word.endswith("."):
        word = word[:-1]
    if tok.tok[0].isupper():
        return True if word in STARTERS else "unknown"
    if tok.tok[0].islower():
        return False
    return "unknown"


def contains_sentbreak(context):
    toks = [Tok(t) for t in PUNKT_WORD.findall(context)]
    for t in toks:   # first pass
        if t.tok in (".", "?", "!"):
            t.sentbreak = True
        elif re.match(r"\.\.+$", t.tok):
            t.ellipsis = True
        elif t.period_final and not t.tok.endswith(".."):
            low = t.tok[:-1].lower()
            if low in ABBREVIATIONS or low.split("-")[-1] in ABBREVIATIONS:
                t.abbr = True
            else:
                t.sentbreak = True
    for t, nxt in zip(toks, toks[1:]):   # second pass
        if not t.period_final:
            continue
        initial = bool(INITIAL.match(t.tok))
        if (t.abbr or t.ellipsis) and not initial and ortho(nxt) is True:
            t.sentbreak = True
            continue
        if initial or t.type_no_period == "##number##":
            o = ortho(nxt)
            if o is False or (o == "unknown" and initial and nxt.tok[0].isupper()
                              and nxt.tok.lower().rstrip(".") not in STARTERS):
                t.sentbreak, t.abbr = False, True
    found = False
    for t in toks:
        if found:
            return True
        if t.sentbreak:
            found = True
    return False


def sentences(text):
    slices, last_break = [], 0
    prev_slice, prev_match = slice(0, 0), None
    candidates = []
    for match in PERIOD_CONTEXT.finditer(text):
        before = text[prev_slice.stop:match.start()]
        idx = max((i for i, c in enumerate(before) if c in " \t\n\r\x0b\x0c"), default=0)
        start = idx + prev_slice.stop + 1 if idx else prev_slice.start
        word = slice(start, match.start())
        if prev_match and prev_slice.stop <= word.start:
            candidates.append((prev_match, text[prev_slice] + prev_match.group() + prev_match.group("after_tok")))
        prev_match, prev_slice = match, word
    if prev_match:
        candidates.append((prev_match, text[prev_slice] + prev_match.group() + prev_match.group("after_tok")))
    for match, context in candidates:
        if contains_sentbreak(context):
            slices.append(slice(last_break, match.end()))
            last_break = match.start("next_tok") if match.group("next_tok") else match.end()
    slices.append(slice(last_break, len(text.rstrip())))
    out, realign = [], 0
    for i, s1 in enumerate(slices):
        s1 = slice(s1.start + realign, s1.stop)
        if i + 1 == len(slices):
            if text[s1]:
                out.append(text[s1])
            continue
        s2 = slices[i + 1]
        m = REALIGN.match(text[s2])
        if m:
            out.append(text[s1.start:s2.start + len(m.group(0).rstrip())])
            realign = m.end()
        else:
            realign = 0
            if text[s1]:
                out.append(text[s1])
    return out


def word_tokenize(text):
    return [t for sent in sentences(text) for t in treebank(sent) if t.strip()]


def whitespace_words(text):
    return text.split()


# ---- the rules ----

def ratio(a, b):
    return a / b if b else 0.0


def find_duplicates(x):
    seen, dup_chars, dups = set(), 0, 0
    for e in x:
        if e in seen:
            dup_chars += len(e)
            dups += 1
        else:
            seen.add(e)
    return dups, dup_chars


def find_all_duplicate(words, n):
    unique, repeated, i = set(), 0, 0
    while i < len(words) - n + 1:
        gram = "".join(words[i:i + n])
        if gram in unique:
            repeated += len(gram)
            i += n
        else:
            unique.add(gram)
            i += 1
    return repeated


CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
POLICY = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]


def rules(text, version="0.3.0"):
    """Every rule's value for text, as datatrove `version` defines it (with
    NLTK's English word tokenizer)."""
    v = tuple(int(x) for x in version.split("."))
    punct = PUNCTUATION_0_3 | TERMINAL_PUNCTUATION if v >= (0, 4) else PUNCTUATION_0_3
    r = {}
    words = word_tokenize(text)
    n_words = len(words)
    non_symbol = [w for w in words if any(ch not in punct for ch in w)]
    r["gopher_min_words"] = r["gopher_max_words"] = len(non_symbol)
    mean = ratio(sum(len(w) for w in non_symbol), len(non_symbol))
    r["gopher_min_mean_word_length"] = r["gopher_max_mean_word_length"] = mean
    r["gopher_hash_ratio"] = ratio(text.count("#"), n_words)
    r["gopher_ellipsis_ratio"] = ratio(text.count("...") + text.count("…"), n_words)
    lines = text.splitlines()
    r["gopher_bullet_lines"] = ratio(sum(s.lstrip().startswith("•") or s.lstrip().startswith("-") for s in lines),
                                     len(lines))
    r["gopher_ellipsis_lines"] = ratio(sum(s.rstrip().endswith("...") or s.rstrip().endswith("…") for s in lines),
                                       len(lines))
    r["gopher_alpha_words"] = ratio(sum(any(c.isalpha() for c in w) for w in words), n_words)
    if v >= (0, 5):
        r["gopher_stop_words"] = len(STOP_WORDS.intersection(set(words)))
    else:
        r["gopher_stop_words"] = sum(w in STOP_WORDS for w in words)

    paragraphs = re.split(r"\n{2,}", text.strip())
    dups, chars = find_duplicates(paragraphs)
    r["gopher_dup_para_fraction"] = ratio(dups, len(paragraphs))
    r["gopher_dup_para_chars"] = ratio(chars, len(text))
    rep_lines = re.split("\n+", text)
    dups, chars = find_duplicates(rep_lines)
    r["gopher_dup_line_fraction"] = ratio(dups, len(rep_lines))
    r["gopher_dup_line_chars"] = ratio(chars, len(text))
    for n in (2, 3, 4):
        grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        top = Counter(grams).most_common(1)[0] if grams else ("", 0)
        r["gopher_top_%dgram" % n] = ratio(len(top[0]) * top[1], len(text))
    for n in range(5, 11):
        r["gopher_dup_%dgram" % n] = ratio(find_all_duplicate(words, n), len(text))

    removed = Counter()
    sentences_kept, lorem, curly = 0, False, False
    for line in text.splitlines():
        line = line.strip()
        line_words = line.split()
        if any(len(w) > 1000 for w in line_words):
            removed["c4_max_word_length"] += 1
            continue
        line = CITATION.sub("", line)
        if not line.endswith((".", "?", "!", '"', "'")) or line.endswith("..."):
            removed["c4_terminal_punct"] += 1
            continue
        if len(line_words) < 3:
            removed["c4_min_words_per_line"] += 1
            continue
        low = line.lower()
        lorem = lorem or "lorem ipsum" in low
        if "javascript" in low:
            removed["c4_javascript"] += 1
            continue
        curly = curly or "{" in line
        if any(p in low for p in POLICY):
            removed["c4_policy"] += 1
            continue
        sentences_kept += len([s for s in sentences(line) if s.strip()])
    for name in ("c4_max_word_length", "c4_terminal_punct", "c4_min_words_per_line", "c4_javascript", "c4_policy"):
        r[name] = removed[name]
    r["c4_lorem_ipsum"], r["c4_curly_bracket"], r["c4_min_sentences"] = lorem, curly, sentences_kept

    fw_lines = text.split("\n")
    if v >= (0, 4):
        fw_lines = [line for line in fw_lines if line.strip() != ""]
        stop_chars = tuple(TERMINAL_PUNCTUATION)
    else:
        stop_chars = (".", "'", '"', "!", "?")
    r["fineweb_line_punct"] = ratio(sum(1 for line in fw_lines if line.endswith(stop_chars)), len(fw_lines))
    r["fineweb_short_lines"] = ratio(sum(1 for line in fw_lines if len(line) <= 30), len(fw_lines))
    non_empty = [line for line in fw_lines if line.strip() != ""]
    r["fineweb_dup_line_chars"] = ratio(find_duplicates(non_empty)[1], len(text.replace("\n", "")))
    r["fineweb_list_ratio"] = ratio(text.count("\n"), n_words)
    return r


# name -> (comparison, default threshold); comparisons as in datatrove 0.3.0
THRESHOLDS = {
    "gopher_min_words": ("<", 50), "gopher_max_words": (">", 100000),
    "gopher_min_mean_word_length": ("<", 3), "gopher_max_mean_word_length": (">", 10),
    "gopher_hash_ratio": (">", 0.1), "gopher_ellipsis_ratio": (">", 0.1),
    "gopher_bullet_lines": (">", 0.9), "gopher_ellipsis_lines": (">", 0.3),
    "gopher_alpha_words": ("<", 0.8), "gopher_stop_words": ("<", 2),
    "gopher_dup_para_fraction": (">", 0.3), "gopher_dup_para_chars": (">", 0.2),
    "gopher_dup_line_fraction": (">", 0.3), "gopher_dup_line_chars": (">", 0.2),
    "gopher_top_2gram": (">", 0.20), "gopher_top_3gram": (">", 0.18), "gopher_top_4gram": (">", 0.16),
    "gopher_dup_5gram": (">", 0.15), "gopher_dup_6gram": (">", 0.14), "gopher_dup_7gram": (">", 0.13),
    "gopher_dup_8gram": (">", 0.12), "gopher_dup_9gram": (">", 0.11), "gopher_dup_10gram": (">", 0.10),
    "c4_lorem_ipsum": ("found", None), "c4_curly_bracket": ("found", None), "c4_min_sentences": ("<", 5),
    "fineweb_line_punct": ("<=", 0.12), "fineweb_short_lines": (">=", 0.67),
    "fineweb_dup_line_chars": (">=", 0.01), "fineweb_list_ratio": (">", 0.3),
}


def fails(name, value, version="0.3.0"):
    op, t = THRESHOLDS[name]
    if tuple(int(x) for x in version.split(".")) >= (0, 4):
        op = {"<=": "<", ">=": ">"}.get(op, op)
    return {"<": value < t if t is not None else False, ">": value > t if t is not None else False,
            "<=": value <= t if t is not None else False, ">=": value >= t if t is not None else False,
            "found": bool(value)}[op]
