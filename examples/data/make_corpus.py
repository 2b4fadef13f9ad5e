#!/usr/bin/env python3
"""make_corpus.py — builds examples/data/corpus.jsonl, the bundled text corpus
for examples/training-corpus.yaml (normalize, redact, dedup, text_quality,
dataset sink).

The documents are made of real English prose found on any Debian machine: the
licence texts in /usr/share/common-licenses and the paragraphs of
/usr/share/doc/*/copyright. Those files repeat licence texts with small
changes, which is what a web crawl looks like to a deduplicator. On top of the
ordinary documents the script plants, at known ids:
  - exact duplicates    ("dup_of" names the original)
  - near duplicates     (about 3% of the words changed; "near_of" names it)
  - junk documents      (too short, symbol soup, lorem ipsum, repeated lines,
                         bullet lists, javascript notices)
  - messy Unicode       (decomposed accents, ligatures, control characters,
                         runs of spaces) for the normalize transform.
The "kind" field says which is which, so examples and tests can check results.

The output is deterministic on a given machine (sorted inputs, fixed seed).

  python3 examples/data/make_corpus.py [--count 300] [--out examples/data/corpus.jsonl]
"""
import argparse
import glob
import json
import os
import random
import re

SEED = 20261124


def paragraphs_of(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    out = []
    for block in re.split(r"\n\s*\n", text):
        words = block.split()
        # Keep prose: enough words, mostly letters (skips file lists and
        # "Files: *" stanza headers of machine-readable copyright files).
        if len(words) < 15:
            continue
        letters = sum(ch.isalpha() for ch in block)
        if letters < 0.6 * len(block.strip()):
            continue
        if block.lstrip().startswith(("Files:", "Format:", "Upstream-")):
            continue
        out.append(" ".join(words))
    return out


def load_paragraphs():
    paths = sorted(glob.glob("/usr/share/common-licenses/*"))
    paths += sorted(glob.glob("/usr/share/doc/*/copyright"))
    paras, seen = [], set()
    for path in paths:
        if os.path.islink(path):
            continue
        for p in paragraphs_of(path):
            if p not in seen:        # the planted duplicates are the only exact ones
                seen.add(p)
                paras.append((path, p))
    return paras


def build_document(rng, paras):
    """Consecutive paragraphs from a random start, 1-5 KB."""
    target = rng.randint(1000, 5000)
    i = rng.randrange(len(paras))
    origin = paras[i][0]
    parts, size = [], 0
    while size < target and i < len(paras):
        p = paras[i][1]
        if size + len(p) > 5000 and size >= 1000:
            break
        parts.append(p[: 5000 - size] if size + len(p) > 5000 else p)
        size += len(parts[-1]) + 2
        i += 1
    return origin, "\n\n".join(parts)


def near_duplicate(rng, text):
    words = text.split(" ")
    for _ in range(max(1, len(words) // 33)):
        j = rng.randrange(len(words))
        words[j] = rng.choice(["software", "program", "licence", "author", "copy", "terms"])
    return " ".join(words)


JUNK = [
    "Click here to subscribe!",
    "### ### ### ... ### ... # # # ... ### ### #### ... ## # ... ### ...",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. " * 3,
    "Buy now and save.\n" * 40,
    "\n".join("- item number %d on the list" % i for i in range(60)),
    "Please enable JavaScript to view this page.\n" * 3 + "function f() { return 1; }",
    "\n".join("%d %d %d %d" % (i, i * 7, i * 13, i * 31) for i in range(80)),
]


def messy_unicode(rng, text):
    """Decomposed accents, ligatures, control characters and odd spacing."""
    text = text.replace(" file", " \ufb01le", 3)            # LATIN SMALL LIGATURE FI
    text = text.replace("licen", "lice\u0301n", 2)          # e + COMBINING ACUTE ACCENT
    text = text.replace(". ", ".\u00a0\u00a0 ", 4)          # no-break spaces
    text = text.replace(", ", ",\t\t", 2)
    return "  \u200b" + text.replace(" the ", " the\x07 ", 2) + " \x0b \n\n\n\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__) or ".", "corpus.jsonl"))
    args = ap.parse_args()

    rng = random.Random(SEED)
    paras = load_paragraphs()
    if len(paras) < 50:
        raise SystemExit("make_corpus.py: found too little text under /usr/share; is this Debian?")

    docs = []
    for n in range(args.count):
        doc_id = "doc-%04d" % n
        roll = rng.random()
        originals = [d for d in docs if d["kind"] == "original"]
        if roll < 0.05 and originals:
            src = rng.choice(originals)
            docs.append({"id": doc_id, "kind": "exact_duplicate", "dup_of": src["id"],
                         "source": src["source"], "text": src["text"]})
        elif roll < 0.10 and originals:
            src = rng.choice(originals)
            docs.append({"id": doc_id, "kind": "near_duplicate", "near_of": src["id"],
                         "source": src["source"], "text": near_duplicate(rng, src["text"])})
        elif roll < 0.15:
            docs.append({"id": doc_id, "kind": "junk", "source": "synthetic",
                         "text": JUNK[n % len(JUNK)]})
        elif roll < 0.20:
            origin, text = build_document(rng, paras)
            docs.append({"id": doc_id, "kind": "messy_unicode", "source": origin,
                         "text": messy_unicode(rng, text)})
        else:
            origin, text = build_document(rng, paras)
            docs.append({"id": doc_id, "kind": "original", "source": origin, "text": text})

    with open(args.out, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    kinds = {}
    for d in docs:
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    print("wrote %d documents to %s: %s" % (len(docs), args.out,
          ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))


if __name__ == "__main__":
    main()
