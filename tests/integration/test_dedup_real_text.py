"""Near dedup on real text: the licence texts of this machine.

The corpus is every paragraph (20+ words) of /usr/share/common-licenses/* and
/usr/share/doc/*/copyright. Debian packages repeat the same licence
boilerplate with small changes ("This program is free software" / "This
package is free software", version numbers, names), so the paragraphs form
natural clusters. sluice runs `dedup` (mode: near, action: annotate) over
them and the test checks properties that can be explained and verified
independently, in Python:

  - a paragraph with the same words (ignoring case and spacing) as an earlier
    one is a duplicate, and when the earlier one started a cluster, it is in
    that cluster with similarity 1; cluster ids are the running numbers of
    the clusters' first paragraphs;
  - every duplicate really is similar to its cluster's first paragraph: the
    exact 5-shingle Jaccard similarity, computed here, is at least 0.7 (pairs
    at the threshold 0.8 are found 95% of the time, so some just below it are
    found too, and pairs 0.1 below it rarely), 0.75 or more for 99% of them
    and 0.8 or more for 90% (measured: 99.6% and 96%);
  - clusters never mix licences: no cluster holds both a paragraph that is
    only GNU (GPL/LGPL), only MIT, only BSD or only Apache text and one of
    another of these families;
  - the GPL "version 2 or later" notice, copied across packages, forms a
    cluster spanning many packages that holds non-identical wordings (near,
    not just exact, duplicates);
  - the output is identical with 1 or 2 workers and different batch sizes.

And `threshold` means what it says, on planted pairs (bench/planted_pairs.py:
bases generated from the word bigrams of the bundled corpus, each with one
variant at an exact 5-shingle Jaccard similarity of 0.5 ... 0.95): recall at
least 0.99 from 0.85 on and 0.90 at 0.80, at most 10% flagged at 0.70 and
none at 0.50. The defaults are expected to give 0.944 at 0.80 and 1.7% at
0.70 (binomial estimate, docs/dedup.md); with 300 pairs at 0.80 the bound
0.90 is 3.3 standard errors below that, with 200 at 0.70 the bound 10% is 9
above, and at 0.85 (expected 0.9999) 150 pairs allow one miss.
"""
import collections
import glob
import json
import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.REPO, "bench"))
import planted_pairs  # noqa: E402

SOURCES = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/share/doc/*/copyright"))

# Licence families whose texts differ in substance. GPL and LGPL count as one:
# their notices differ by a single word ("Lesser") - 5 of ~45 shingles, a
# Jaccard similarity of about 0.75-0.8 - so at threshold 0.8 they are
# legitimately near-duplicates of each other.
FAMILIES = {
    "gnu": ("gnu general public license", "gnu lesser general public license",
            "gnu library general public license"),
    "mit": ("permission is hereby granted, free of charge",),
    "bsd": ("redistribution and use in source and binary forms",),
    "apache": ("licensed under the apache license",),
}


def family(text):
    """The one family whose phrases the paragraph contains, else None."""
    t = " ".join(text.lower().split())
    found = {name for name, phrases in FAMILIES.items() if any(p in t for p in phrases)}
    return found.pop() if len(found) == 1 else None


def paragraphs():
    """Paragraphs of 20+ words: blocks between blank lines (or Debian's " ."
    lines), each line stripped."""
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
                    out.append({"src": path, "text": "\n".join(block)})
                block = []
            else:
                block.append(stripped)
    return out


def shingles(text):
    words = text.lower().split()
    k = min(5, len(words))
    return {tuple(words[i:i + k]) for i in range(len(words) - k + 1)}


def jaccard(a, b):
    return len(a & b) / len(a | b)


PIPELINE = """
data_dir: %(dir)s/.sluice-%(workers)d-%(batch)d
workers: %(workers)d
batch: {max_records: %(batch)d}
sources:
  paras: {type: file, paths: ["%(dir)s/paras.jsonl"], format: jsonl}
transforms:
  near:
    type: dedup
    inputs: [paras]
    mode: near
    fields: [text]
    action: annotate
sinks:
  out: {type: file, inputs: [near], path: "%(dir)s/out-%(workers)d-%(batch)d.jsonl"}
"""


def run(work, workers, batch):
    cfg = work.write("p-%d-%d.yaml" % (workers, batch), PIPELINE % {"dir": work.path, "workers": workers, "batch": batch})
    r = harness.run(["run", cfg], timeout=280)
    assert r.returncode == 0, harness.text(r.stderr)
    with open(work("out-%d-%d.jsonl" % (workers, batch)), "rb") as f:
        return f.read()


def test_licence_clusters(work):
    paras = paragraphs()
    assert len(paras) > 1000, "too little licence text on this machine: %d paragraphs" % len(paras)
    with open(work("paras.jsonl"), "w", encoding="utf-8") as f:
        for i, p in enumerate(paras):
            f.write(json.dumps({"id": i, "src": p["src"], "text": p["text"]}) + "\n")

    raw = run(work, 2, 256)
    out = [json.loads(line) for line in raw.splitlines()]
    assert [r["id"] for r in out] == list(range(len(paras)))
    notes = [r["_dedup"] for r in out]

    # 1. same words -> same cluster; later copies are duplicates of similarity 1
    first_by_words = {}
    for i, p in enumerate(paras):
        key = " ".join(p["text"].lower().split())
        if key in first_by_words:
            j = first_by_words[key]
            assert notes[i]["duplicate"] is True, (i, j, notes[i])
            if not notes[j]["duplicate"]:   # j represents its cluster in the index
                assert notes[i]["cluster"] == j and notes[i]["similarity"] == 1, (i, j, notes[i])
        else:
            first_by_words[key] = i
    # cluster ids are running numbers of each cluster's first paragraph
    for i, n in enumerate(notes):
        if not n["duplicate"]:
            assert n["cluster"] == i and n["similarity"] == 1, (i, n)

    # 2. duplicates really are similar to their cluster's first paragraph
    sets = [shingles(p["text"]) for p in paras]
    sims = [jaccard(sets[i], sets[n["cluster"]]) for i, n in enumerate(notes) if n["duplicate"]]
    assert len(sims) > 1000, len(sims)
    low = [s for s in sims if s < 0.7]
    assert not low, "duplicates with exact Jaccard below 0.7: %s" % sorted(low)[:10]
    assert sum(1 for s in sims if s >= 0.75) >= 0.99 * len(sims), sorted(sims)[:20]
    assert sum(1 for s in sims if s >= 0.8) >= 0.9 * len(sims), sorted(sims)[:20]

    # 3. clusters do not mix licence families
    families = collections.defaultdict(set)
    for i, n in enumerate(notes):
        fam = family(paras[i]["text"])
        if fam:
            families[n["cluster"]].add(fam)
    mixed = {c: f for c, f in families.items() if len(f) > 1}
    assert not mixed, "clusters mixing licences: %s" % mixed
    assert {"gnu", "mit", "bsd"} <= set().union(*families.values())

    # 4. the GPL "version 2 or later" notice clusters across packages, with
    #    differing wordings
    notice = "either version 2 of the license, or (at your option) any later version"
    members = collections.defaultdict(list)
    for i, p in enumerate(paras):
        t = " ".join(p["text"].lower().split())
        if notice in t and len(t.split()) <= 80:
            members[notes[i]["cluster"]].append(i)
    biggest = max(members.values(), key=len)
    packages = {paras[i]["src"] for i in biggest}
    wordings = {" ".join(paras[i]["text"].lower().split()) for i in biggest}
    assert len(packages) >= 10, len(packages)
    assert len(wordings) >= 3, wordings
    assert all(family(paras[i]["text"]) in ("gnu", None) for i in biggest)

    # 5. deterministic across workers and batch sizes
    assert run(work, 1, 1024) == raw
    assert run(work, 2, 7) == raw


def test_planted_pairs(work):
    counts = {0.5: 100, 0.7: 200, 0.8: 300, 0.85: 150, 0.9: 100, 0.95: 100}
    docs, pairs = planted_pairs.build(counts, seed=7)
    table, bases_flagged = planted_pairs.measure(harness.SLUICE, docs, pairs, [], work.path)
    print("planted pairs (pairs, found, flagged):", table)
    for target in (0.85, 0.9, 0.95):
        n, found, _ = table[target]
        assert found >= 0.99 * n, (target, table[target])
    n, found, _ = table[0.8]
    assert found >= 0.90 * n, table[0.8]
    n, _, flagged = table[0.7]
    assert flagged <= 0.10 * n, table[0.7]
    assert table[0.5][2] == 0, table[0.5]
    assert bases_flagged == 0, bases_flagged
    assert all(abs(j - t) <= planted_pairs.TOLERANCE for t, _, _, j in pairs)


if __name__ == "__main__":
    harness.main([test_licence_clusters, test_planted_pairs])
