#!/usr/bin/env python3
"""corpus.py — a deterministic text corpus for the dedup / cleaning benchmark.

Builds JSON Lines documents {"id": ..., "text": ...} of 1-5 KB from the
licence texts on this machine (/usr/share/common-licenses/* and
/usr/share/doc/*/copyright, read in sorted order and cut into paragraphs).
Each document is a run of paragraphs drawn at random; licence boilerplate
repeats across packages, so the corpus already holds natural near-duplicates.
On top of that it plants:

  - exact duplicates: a copy of one of the previous 20,000 documents
    (--exact, default 5 %);
  - near duplicates: one of the previous 20,000 documents with about 3 % of
    its words replaced (--near, default 5 %), 5-shingle Jaccard similarity
    about 0.75-0.9.

The same arguments give the same bytes on the same machine (the seeded
generator is Python's random.Random, whose random() is stable across
versions). Prints a one-line summary on stderr.

  python3 bench/corpus.py out/corpus.jsonl [--docs 100000] [--seed 1]
"""
import argparse
import collections
import glob
import json
import random
import sys

SOURCES = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/share/doc/*/copyright"))


WINDOW = 20000   # planted copies come from this many previous documents


def paragraphs():
    """Paragraphs of 20+ words: blocks between blank lines (or Debian's " ."
    lines), with their lines' indentation removed."""
    out = []
    for path in SOURCES:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        block = []
        for line in text.splitlines() + [""]:
            stripped = line.strip()
            if stripped in ("", "."):
                if len(" ".join(block).split()) >= 20:
                    out.append("\n".join(block))
                block = []
            else:
                block.append(stripped)
    return out


def pick(rng, n):
    return int(rng.random() * n)


def near_copy(rng, text, vocabulary):
    words = text.split(" ")
    for _ in range(max(1, len(words) * 3 // 100)):
        words[pick(rng, len(words))] = vocabulary[pick(rng, len(vocabulary))]
    return " ".join(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output JSONL path ('-' for stdout)")
    ap.add_argument("--docs", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--exact", type=float, default=0.05, help="fraction of planted exact copies")
    ap.add_argument("--near", type=float, default=0.05, help="fraction of planted near copies")
    args = ap.parse_args()

    paras = paragraphs()
    if not paras:
        sys.exit("corpus.py: no licence text found under /usr/share")
    vocabulary = sorted({w for p in paras[:2000] for w in p.split()})
    rng = random.Random(args.seed)
    docs = collections.deque()
    planted_exact = planted_near = 0
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    total = 0
    for i in range(args.docs):
        r = rng.random()
        if docs and r < args.exact:
            text = docs[pick(rng, len(docs))]
            planted_exact += 1
        elif docs and r < args.exact + args.near:
            text = near_copy(rng, docs[pick(rng, len(docs))], vocabulary)
            planted_near += 1
        else:
            target = 1024 + pick(rng, 4096)
            parts, size = [], 0
            while size < target:
                p = paras[pick(rng, len(paras))]
                parts.append(p)
                size += len(p.encode("utf-8")) + 2
            text = "\n\n".join(parts)
            while len(text.encode("utf-8")) > 5120:   # keep within 1-5 KB
                text = text[: len(text) - (len(text.encode("utf-8")) - 5120) - 1]
        docs.append(text)
        if len(docs) > WINDOW:
            docs.popleft()
        line = json.dumps({"id": i, "text": text}, ensure_ascii=False)
        total += len(line.encode("utf-8")) + 1
        out.write(line + "\n")
    if out is not sys.stdout:
        out.close()
    print(json.dumps({"documents": args.docs, "bytes": total, "paragraphs": len(paras),
                      "planted_exact": planted_exact, "planted_near": planted_near}), file=sys.stderr)


if __name__ == "__main__":
    main()
