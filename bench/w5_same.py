#!/usr/bin/env python3
"""W5's results must not change when the cleaning path gets faster: this runs
two sluice binaries (a previous build and this one) on the same corpus and
checks that they agree exactly.

    python3 bench/w5_same.py OLD_BIN NEW_BIN [--docs 3000] [--workdir build/bench-same]

Two pipelines, each run by both binaries:
  W5        the benchmark's pipeline (normalize + redact + exact dedup + near
            dedup + text_quality -> dataset shards): the decompressed shards
            of each split, joined, must be byte-identical (same documents
            kept, same text, same split, same order),
            but for records the new build writes as they came (the input's
            line) where the old one encoded them: those must hold the same
            JSON value;
  annotate  the same stages with every verdict written on the record instead
            of acted on: normalize (with whitespace collapsing, on a copy of
            the text) and redact, exact and near dedup (`action: annotate`:
            cluster and similarity of every document), text_quality with
            `action: annotate` (every rule's value, both tokenizers): the
            output must be byte-identical.
The corpus is bench/corpus.py's, followed by --mixed documents of random
words from many scripts and character classes (combining marks, Hangul
jamo, vowel signs that compose, compatibility characters, Unicode spaces
and line breaks, C0 and C1 controls, capitals of every kind), so that the
Unicode paths are compared too, not only the ASCII fast paths.
Exits 1 and says where the first difference is when they do not agree.
"""
import argparse
import glob
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (the benchmark's own W5 pipeline, without its API)

W5 = bench.SLUICE_W5.replace('api: {{address: "127.0.0.1:{port}"}}\n', "")
assert "api:" not in W5

ANNOTATE = """\
data_dir: {state}
sources:
  corpus: {{type: file, paths: ["{input}"]}}
transforms:
  copy: {{type: remap, inputs: [corpus], set: {{collapsed: ".text", folded: ".text"}}}}
  clean: {{type: normalize, inputs: [copy], fields: [text]}}
  collapse: {{type: normalize, inputs: [clean], fields: [collapsed], collapse_whitespace: true, trim: true,
             case: lower}}
  fold: {{type: normalize, inputs: [collapse], fields: [folded], form: nfkc, case: fold}}
  scrub: {{type: redact, inputs: [fold], fields: [text]}}
  exact: {{type: dedup, inputs: [scrub], mode: exact, fields: [text], normalize: true, action: annotate,
          annotate_field: _exact}}
  near: {{type: dedup, inputs: [exact], mode: near, fields: [text], action: annotate, annotate_field: _near}}
  neardt: {{type: dedup, inputs: [near], mode: near, preset: datatrove, fields: [text], action: annotate,
           annotate_field: _neardt}}
  quality: {{type: text_quality, inputs: [neardt], field: text, action: annotate}}
  dt: {{type: remap, inputs: [quality], rename: {{_quality: _quality_sluice}}}}
  quality_dt: {{type: text_quality, inputs: [dt], field: text, action: annotate, tokenizer: datatrove,
               rules_version: "0.5.0"}}
sinks:
  out: {{type: file, inputs: [quality_dt], path: "{output}"}}
"""


# Pieces the mixed documents are made of.
PIECES = [
    "word", "Word", "WORD", "the", "and", "of", "caf\u00e9", "cafe\u0301", "A\u030a", "\u212b", "\u00c5ngstr\u00f6m",
    "\u1100\u1161\u11a8", "\uac01", "\u1100\u1161", "\u0d46\u0d3e", "\u0b95\u0bbe", "\u0915\u093c", "\ufb01ne",
    "\uff21\uff22", "\u2460", "\u03a3\u0399\u03a3", "stra\u00dfe", "\u0130stanbul", "\u4e2d\u6587", "\U0001f600",
    "\U0001d400", "e\u0301\u0323", "e\u0323\u0301", "\u00a0", "\u2028", "\u3000", "\u0085", "\u0001", "\u009f",
    "\u007f", "\t", "\r\n", "\n\n\n", "  ", "...", "\u2026", "#", "- item", "\u2022 dot", "{", "lorem ipsum",
    "javascript", "terms of use", "[12]", "[edit]", "e.g.", "Mr.", "\"quoted\"", "don't", "cannot", "(a)", "$3",
    "jane.doe@example.com", "+1 415 555 0100", "192.168.1.20", "4111 1111 1111 1111", "DE89370400440532013000",
]


def write_corpus(path, docs, mixed):
    subprocess.run([sys.executable, os.path.join(HERE, "corpus.py"), path + ".tmp", "--docs", str(docs)],
                   check=True, stdout=subprocess.DEVNULL)
    rng = random.Random(14)
    with open(path + ".tmp", "a") as f:
        for i in range(mixed):
            words = [rng.choice(PIECES) for _ in range(rng.randint(1, 400))]
            text = "".join(w + rng.choice([" ", " ", " ", "\n", ". ", ".\n", ", "]) for w in words)
            f.write(json.dumps({"id": docs + i, "text": text}) + "\n")
    os.rename(path + ".tmp", path)


def run(binary, template, work, name, corpus, output):
    state = os.path.join(work, name + "-state")
    shutil.rmtree(state, ignore_errors=True)
    cfg = os.path.join(work, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(template.format(state=state, input=corpus, output=output))
    subprocess.run([binary, "run", "--no-progress", cfg], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def shards(path):
    """The decompressed shards of a dataset, by split, each split's shards
    joined in order (a shard is cut at a size in bytes, so where a split's
    records fall into shards depends on how long their lines are)."""
    out = {}
    for f in sorted(glob.glob(os.path.join(path, "*", "*.zst"))):
        split = os.path.basename(os.path.dirname(f))
        out[split] = out.get(split, b"") + subprocess.run(["zstd", "-dc", f], check=True,
                                                          capture_output=True).stdout
    return out


def first_difference(a, b, inputs=frozenset()):
    """Where the lines of a and b first differ, or None when they agree.
    A line of b may differ from a's when it is a line of the input, as it
    came, holding the same record as a's (the new build wrote a record
    nothing changed as it came where the old one encoded it); those are
    counted in first_difference.as_came."""
    x_lines, y_lines = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(x_lines, y_lines)):
        if x != y:
            if y in inputs and json.loads(x) == json.loads(y):
                first_difference.as_came += 1
                continue
            return "line %d:\n  old %s\n  new %s" % (i + 1, x[:300], y[:300])
    if len(x_lines) != len(y_lines):
        return "line counts %d and %d" % (len(x_lines), len(y_lines))
    return None


first_difference.as_came = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--mixed", type=int, default=1000)
    ap.add_argument("--workdir", default="build/bench-same")
    args = ap.parse_args()
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    corpus = os.path.join(work, "corpus-%d-%d.jsonl" % (args.docs, args.mixed))
    if not os.path.exists(corpus):
        write_corpus(corpus, args.docs, args.mixed)
    ok = True
    results = {}
    for tag, binary in (("old", args.old), ("new", args.new)):
        dataset = os.path.join(work, "dataset-" + tag)
        run(binary, W5, work, "w5-" + tag, corpus, dataset)
        annotated = os.path.join(work, "annotate-%s.jsonl" % tag)
        if os.path.exists(annotated):
            os.remove(annotated)
        run(binary, ANNOTATE, work, "annotate-" + tag, corpus, annotated)
        with open(annotated, "rb") as f:
            results[tag] = (shards(dataset), f.read())
    old, new = results["old"], results["new"]
    with open(corpus, "rb") as f:
        inputs = frozenset(line.rstrip(b"\n") for line in f)
    for n in sorted(set(old[0]) | set(new[0])):
        problem = first_difference(old[0][n], new[0][n], inputs) if n in old[0] and n in new[0] \
            else "it is written by one build only"
        if problem:
            ok = False
            print("W5: split %s differs: %s" % (n, problem))
            break
    if old[1] != new[1]:
        ok = False
        print("annotate: output differs at %s" % first_difference(old[1], new[1]))
    docs = sum(s.count(b"\n") for s in new[0].values())
    print("W5: %d documents kept in %d splits (%d written as they came where the old build encoded them); "
          "annotate: %d records, %d bytes: %s" % (docs, len(new[0]), first_difference.as_came, new[1].count(b"\n"),
                                                  len(new[1]), "identical" if ok else "DIFFERENT"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
