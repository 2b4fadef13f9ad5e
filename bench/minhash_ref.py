#!/usr/bin/env python3
"""minhash_ref.py — the reference near-dedup for the benchmark: MinHash LSH in
plain Python (standard library only), with datatrove's parameters (sluice's
`dedup` defaults before 256-value signatures; sluice now computes 256 values
from 64 permutations, about as much work as these 112):

  words        text.lower().split()
  shingles     runs of 5 words (a shorter text is one shingle)
  signature    112 permutations (a*x + b) mod (2^61 - 1) of a 64-bit
               shingle hash (BLAKE2b), minimum per permutation
  LSH          14 bands x 8 rows; a candidate is a duplicate when the
               fraction of equal signature values is >= 0.8
  streaming    documents in input order; a duplicate joins the cluster of the
               first document and is not indexed

It is "the fastest equivalent we can run here" without third-party
packages, so the benchmark can report how sluice compares. The hashing
differs from sluice's (XXH3), so individual verdicts near the threshold may
differ; the counts should be close. Prints one JSON line:
{"documents", "duplicates", "bytes", "seconds", "docs_per_s", "mb_per_s"}.

  python3 bench/minhash_ref.py corpus.jsonl [--limit N] [--field text]
"""
import argparse
import hashlib
import json
import random
import time

P = (1 << 61) - 1
NUM_HASHES, BANDS, ROWS, SHINGLE, THRESHOLD = 112, 14, 8, 5, 0.8


def permutations():
    rng = random.Random(1)
    return [(rng.randrange(1, P), rng.randrange(0, P)) for _ in range(NUM_HASHES)]


def signature(text, perms):
    words = text.lower().split()
    if not words:
        return None
    k = min(SHINGLE, len(words))
    xs = {int.from_bytes(hashlib.blake2b(" ".join(words[i:i + k]).encode(), digest_size=8).digest(), "little") % P
          for i in range(len(words) - k + 1)}
    return tuple(min([(a * x + b) % P for x in xs]) for a, b in perms)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--limit", type=int, default=0, help="stop after this many documents (0 = all)")
    ap.add_argument("--field", default="text")
    args = ap.parse_args()

    perms = permutations()
    bands = [dict() for _ in range(BANDS)]   # band tuple -> list of signatures
    documents = duplicates = total = 0
    start = time.monotonic()
    with open(args.path, "rb") as f:
        for line in f:
            if args.limit and documents == args.limit:
                break
            total += len(line)
            text = json.loads(line).get(args.field)
            if not isinstance(text, str):
                continue
            sig = signature(text, perms)
            if sig is None:
                continue
            documents += 1
            keys = [sig[b * ROWS:(b + 1) * ROWS] for b in range(BANDS)]
            duplicate = False
            for b, key in enumerate(keys):
                for other in bands[b].get(key, ()):
                    same = sum(1 for x, y in zip(sig, other) if x == y)
                    if same / NUM_HASHES >= THRESHOLD:
                        duplicate = True
                        break
                if duplicate:
                    break
            if duplicate:
                duplicates += 1
            else:
                for b, key in enumerate(keys):
                    bands[b].setdefault(key, []).append(sig)
    seconds = time.monotonic() - start
    print(json.dumps({"documents": documents, "duplicates": duplicates, "bytes": total,
                      "seconds": round(seconds, 3), "docs_per_s": round(documents / seconds, 1),
                      "mb_per_s": round(total / seconds / 1e6, 3)}))


if __name__ == "__main__":
    main()
