"""text_quality against an independent Python reference of datatrove's rules.

sluice runs `text_quality` with `action: annotate` over the bundled corpus
(examples/data/corpus.jsonl, 300 documents) and every rule's value on every
document is compared with reference_textq.py, a Python transcription of
datatrove's filter definitions with NLTK's word tokenizer written out with
Python's `re` (no code shared with sluice). Per rule, two agreements:

  - decision: sluice's `failed` list and the reference's comparison with the
    same default threshold say the same (pass or fail);
  - value: the two values are equal (within 1e-9).

With `tokenizer: datatrove` both must agree on every document for every
rule, for `rules_version` 0.3.0 and 0.5.0. With the default `tokenizer:
sluice` the table is printed for docs/text-quality.md and only the rules that
do not depend on tokens are required to agree.

When NLTK is installed for the system Python (Debian's python3-nltk), the
reference's tokenizer is also checked against NLTK's own code
(check_nltk.py), so that sluice == reference == NLTK, given punkt the same
abbreviations and sentence starters.

Run with --table to print the tables in Markdown.
"""
import glob
import json
import os
import sys

import harness
import reference_textq as ref

CORPUS = os.path.join(harness.REPO, "examples", "data", "corpus.jsonl")

# Rules that look only at characters and lines, not at tokens or sentences.
TOKEN_FREE = {
    "gopher_bullet_lines", "gopher_ellipsis_lines", "gopher_dup_para_fraction", "gopher_dup_para_chars",
    "gopher_dup_line_fraction", "gopher_dup_line_chars", "c4_max_word_length", "c4_terminal_punct",
    "c4_min_words_per_line", "c4_javascript", "c4_policy", "c4_lorem_ipsum", "c4_curly_bracket",
    "fineweb_line_punct", "fineweb_short_lines", "fineweb_dup_line_chars",
}
LINE_RULES = {"c4_max_word_length", "c4_terminal_punct", "c4_min_words_per_line", "c4_javascript", "c4_policy"}


def annotate(work, tokenizer, version, corpus=CORPUS, documents=300):
    tag = "%s-%s-%d" % (tokenizer, version, documents)
    out = work("out-%s.jsonl" % tag)
    config = work.write("p-%s.yaml" % tag, """
data_dir: {data}
sources:
  corpus: {{type: file, paths: ["{corpus}"], format: jsonl}}
transforms:
  q:
    type: text_quality
    inputs: [corpus]
    action: annotate
    tokenizer: {tokenizer}
    rules_version: "{version}"
sinks:
  out: {{type: file, inputs: [q], path: "{out}"}}
""".format(data=work("data-%s" % tag), corpus=corpus, tokenizer=tokenizer,
           version=version, out=out))
    proc = harness.run(["run", "--no-progress", config], timeout=300)
    assert proc.returncode == 0, harness.text(proc.stderr)
    records = harness.read_jsonl(out)
    assert len(records) == documents, len(records)
    return records


def compare(records, version):
    """Per rule: (documents, decisions that agree, values that agree)."""
    table = {}
    for rec in records:
        q = rec["_quality"]
        expected = ref.rules(rec["text"], version)
        for name, value in expected.items():
            got = q[name]
            same_value = abs(float(got) - float(value)) <= 1e-9 * max(1.0, abs(float(value)))
            if name in LINE_RULES:
                same_decision = same_value   # line rules remove lines, they do not decide
            else:
                same_decision = (name in q["failed"]) == ref.fails(name, value, version)
            n, d, v = table.get(name, (0, 0, 0))
            table[name] = (n + 1, d + same_decision, v + same_value)
    return table


def print_table(title, tables):
    print("\n%s\n" % title)
    print("| rule | " + " | ".join(tables) + " |")
    print("|---|" + "---|" * len(tables))
    names = list(next(iter(tables.values())).keys())
    for name in names:
        cells = []
        for t in tables.values():
            n, d, v = t[name]
            cells.append("%.1f %% / %.1f %%" % (100.0 * d / n, 100.0 * v / n))
        print("| `%s` | %s |" % (name, " | ".join(cells)))


def disagreements(records, version, name, limit=3):
    out = []
    for rec in records:
        value = ref.rules(rec["text"], version)[name]
        got = rec["_quality"][name]
        if abs(float(got) - float(value)) > 1e-9 * max(1.0, abs(float(value))):
            out.append("%s: sluice %r, reference %r" % (rec["id"], got, value))
            if len(out) == limit:
                break
    return out


def test_datatrove_tokenizer_agrees_everywhere(work):
    for version in ("0.3.0", "0.5.0"):
        records = annotate(work, "datatrove", version)
        table = compare(records, version)
        for name, (n, d, v) in table.items():
            assert d == n and v == n, "%s (rules_version %s): %d/%d decisions, %d/%d values agree; %s" % (
                name, version, d, n, v, n, disagreements(records, version, name))


def test_sluice_tokenizer_differs_only_where_tokens_matter(work):
    records = annotate(work, "sluice", "0.3.0")
    table = compare(records, "0.3.0")
    for name in TOKEN_FREE:
        n, d, v = table[name]
        assert d == n and v == n, "%s: %d/%d decisions, %d/%d values agree; %s" % (
            name, d, n, v, n, disagreements(records, "0.3.0", name))
    # the reason for `tokenizer: datatrove`: datatrove divides by all tokens,
    # punctuation included, so the ratios over tokens differ
    n, d, v = table["gopher_alpha_words"]
    assert v < n, "gopher_alpha_words: the whitespace tokenizer should not match datatrove's token count"


def copyright_corpus(work):
    """Every /usr/share/doc/*/copyright file of this machine as a document,
    but those over 1 MB (larger than sluice's default record limit)."""
    paths = [p for p in sorted(glob.glob("/usr/share/doc/*/copyright")) if os.path.getsize(p) < 1000000]
    with open(work("copyright.jsonl"), "w") as f:
        for path in paths:
            with open(path, "rb") as g:
                text = g.read().decode("utf-8", "replace")
            f.write(json.dumps({"id": path, "text": text}) + "\n")
    return work("copyright.jsonl"), len(paths)


def test_punkt_lists_match_sluice(work):
    """The reference stands in the same lists for punkt's model as sluice."""
    with open(os.path.join(harness.REPO, "src", "text", "wordtok.c")) as f:
        source = f.read()
    for name, expected in (("abbreviations", ref.ABBREVIATIONS), ("starters", ref.STARTERS)):
        body = source.split("static const char *const %s[] = {" % name)[1].split("};")[0]
        words = [w.strip().strip('"') for w in body.replace("\n", " ").split(",") if w.strip()]
        assert len(words) == len(set(words)), "%s: duplicates in wordtok.c" % name
        assert set(words) == expected, "%s differ: %s" % (name, set(words) ^ expected)


def test_reference_tokenizer_is_nltks(work):
    """The reference's tokenizer against the real NLTK (Debian's python3-nltk,
    for the system Python), given the same punkt knowledge: see check_nltk.py."""
    python = "/usr/bin/python3"
    if not os.path.exists(python) or harness.subprocess.run([python, "-c", "import nltk"],
                                                             capture_output=True).returncode != 0:
        print("  (NLTK is not installed for %s: scripts/install-deps.sh installs python3-nltk; not checked)" % python)
        return
    check = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_nltk.py")
    proc = harness.subprocess.run([python, check, CORPUS], capture_output=True, timeout=300)
    out = harness.text(proc.stdout)
    assert proc.returncode == 0, out + harness.text(proc.stderr)
    assert "300 documents: sentences agree on 300, words agree on 300" in out, out


def print_tables(work):
    for corpus, documents in ((CORPUS, 300), copyright_corpus(work)):
        tables = {}
        for tokenizer in ("sluice", "datatrove"):
            records = annotate(work, tokenizer, "0.3.0", corpus, documents)
            tables["`tokenizer: %s`" % tokenizer] = compare(records, "0.3.0")
        print_table("decisions / values that agree with the reference (rules_version 0.3.0, %s, %d documents)"
                    % (corpus, documents), tables)


if __name__ == "__main__":
    if "--table" in sys.argv:
        sys.argv.remove("--table")
        w = harness.Workdir()
        print_tables(w)
    else:
        harness.main([test_punkt_lists_match_sluice, test_datatrove_tokenizer_agrees_everywhere,
                      test_sluice_tokenizer_differs_only_where_tokens_matter, test_reference_tokenizer_is_nltks])
