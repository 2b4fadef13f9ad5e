"""Drift that can be trusted: `sluice profile --baseline` on realistic events
(bench/events.py: timestamps, request ids, e-mails, free text) raises no
alert on unchanged data — a profile against itself, two random halves of
one file — and flags each planted shift (category mix, numeric location and
scale, null rate, length, new types, a timestamp field turning into other
text, repeated ids) on its field, with `--fail-on alert` exiting 3.
Also: near-unique fields show no invented top-value shares, and the
suggested contract treats timestamps, e-mails and free text as such."""
import json
import os
import random
import sys

import harness
from harness import run, text

sys.path.insert(0, os.path.join(harness.REPO, "bench"))
import events  # noqa: E402

N = 50000


def drift_table(out):
    """{field: (kind, status line)} from the drift table of `sluice profile`."""
    rows, seen = {}, False
    for line in out.splitlines():
        if line.startswith("field ") and "kind" in line:
            seen = True
            continue
        if seen and line.strip():
            cols = line.split()
            rows[cols[0]] = (cols[1], line)
    return rows


def status(line):
    for s in ("alert", "warn", "ok"):
        if "  " + s in line:
            return s
    raise AssertionError("no status in: " + line)


def halves(w, n):
    """Writes n events, shuffled, split in two halves a.jsonl and b.jsonl;
    returns the records of b."""
    rng = random.Random(7)
    events.write_events(w("all.jsonl"), n, seed=11)
    with open(w("all.jsonl")) as f:
        lines = f.readlines()
    rng.shuffle(lines)
    w.write("a.jsonl", "".join(lines[: n // 2]))
    w.write("b.jsonl", "".join(lines[n // 2:]))
    return [json.loads(line) for line in lines[n // 2:]]


def assert_quiet(w, data, baseline):
    r = run(["profile", data, "--baseline", baseline, "--fail-on", "warn"])
    out = text(r.stdout)
    assert r.returncode == 0, (r.returncode, out, text(r.stderr))
    rows = drift_table(out)
    assert len(rows) == 15, out
    for field, (_, line) in rows.items():
        assert status(line) == "ok", line
    return rows


def test_unchanged_data_raises_nothing(w):
    halves(w, N)
    r = run(["profile", w("a.jsonl"), "-o", w("a.json")])
    assert r.returncode == 0, text(r.stderr)
    rows = assert_quiet(w, w("a.jsonl"), w("a.json"))     # a profile against itself
    kinds = {f: k for f, (k, _) in rows.items()}
    assert kinds["ts"] == "timestamp" and kinds["request_id"] == "text" and kinds["prompt"] == "text", kinds
    assert kinds["level"] == "categorical" and kinds["latency_ms"] == "numeric", kinds
    assert_quiet(w, w("b.jsonl"), w("a.json"))            # two random halves
    # the same in a pipeline: on_drift: fail lets the unchanged half through
    w.write("p.yaml", PIPELINE.format(state=w("state"), input=w("b.jsonl"), baseline=w("a.json")))
    r = run(["run", "--no-progress", w("p.yaml")])
    assert r.returncode == 0 and "drift" not in text(r.stderr), text(r.stderr)


PIPELINE = """\
data_dir: {state}
sources:
  in: {{type: file, paths: ["{input}"]}}
transforms:
  p: {{type: profile, inputs: [in], baseline: "{baseline}", on_drift: fail}}
sinks:
  out: {{type: blackhole, inputs: [p]}}
"""


def test_small_samples_raise_nothing(w):
    """Halves of 400 events (200 records each): sampling noise alone moves
    PSI to 0.3-0.6 on a 40-value field, so each metric is judged above the
    noise expected at these sizes."""
    for seed in range(2):
        events.write_events(w("all.jsonl"), 400, seed=100 + seed)
        with open(w("all.jsonl")) as f:
            lines = f.readlines()
        random.Random(seed).shuffle(lines)
        w.write("a.jsonl", "".join(lines[:200]))
        w.write("b.jsonl", "".join(lines[200:]))
        r = run(["profile", w("a.jsonl"), "-o", w("a.json")])
        assert r.returncode == 0, text(r.stderr)
        assert_quiet(w, w("b.jsonl"), w("a.json"))
    # a real shift is still flagged at this size
    shifted = [json.loads(line) for line in lines[200:]]
    for r in shifted:
        r["latency_ms"] += 1500
    w.write("s.jsonl", "".join(json.dumps(x) + "\n" for x in shifted))
    r = run(["profile", w("s.jsonl"), "--baseline", w("a.json"), "--fail-on", "alert"])
    assert r.returncode == 3 and status(drift_table(text(r.stdout))["latency_ms"][1]) == "alert", text(r.stdout)


def test_top_values_are_not_invented(w):
    events.write_events(w("e.jsonl"), 20000, seed=3)
    r = run(["profile", w("e.jsonl"), "-o", w("e.json")])
    out = text(r.stdout)
    assert r.returncode == 0, text(r.stderr)
    line = [l for l in out.splitlines() if l.startswith("request_id")][0]
    assert "all values distinct (≈" in line and "top:" not in line, line
    line = [l for l in out.splitlines() if l.startswith("user.email")][0]
    assert "top:" not in line and "distinct" in line, line
    line = [l for l in out.splitlines() if l.startswith("ts ")][0]
    assert "timestamp" in line and "2026-01-01T00:00:00Z .. 2026-01-01T00:00:19.999Z" in line, line
    p = json.load(open(w("e.json")))["fields"]
    assert p["request_id"]["top"] == [] and p["user.email"]["top"] == [], p["request_id"]["top"]
    assert sum(t["count"] for t in p["level"]["top"]) == 20000, p["level"]["top"]
    assert p["ts"]["time"]["count"] == 20000 and p["ts"]["time"]["min"] == "2026-01-01T00:00:00Z", p["ts"]["time"]


def plant(records, field, fn, share, rng):
    """A copy of the records with fn applied to a share of them; fn returning
    False drops the record."""
    out = []
    for r in records:
        r = json.loads(json.dumps(r))
        if rng.random() < share and fn(r) is False:
            continue
        out.append(r)
    return out


def set_path(r, path, value):
    parts = path.split(".")
    for p in parts[:-1]:
        r = r[p]
    r[parts[-1]] = value


SHIFTS = [
    # (name, field, mutation, share of records)
    ("category mix", "level", lambda r: set_path(r, "level", "error"), 0.3),
    ("numeric location", "latency_ms", lambda r: set_path(r, "latency_ms", r["latency_ms"] + 600), 1.0),
    ("numeric scale", "tokens.in", lambda r: set_path(r, "tokens", dict(r["tokens"], **{"in": 2000 + (r["tokens"]["in"] - 2000) // 4})), 1.0),
    ("null rate", "user.email", lambda r: set_path(r, "user.email", None), 0.2),
    ("length", "prompt", lambda r: set_path(r, "prompt", r["prompt"][:40]), 0.5),
    ("new type", "status", lambda r: set_path(r, "status", str(r["status"])), 0.2),
    ("timestamps become text", "ts", lambda r: set_path(r, "ts", "unknown"), 0.2),
    ("stream stops for 40 % of the time", "ts", lambda r: not ("00:00:02.5" <= r["ts"][11:21] < "00:00:06.5"), 1.0),
    ("ids repeat", "request_id", lambda r: set_path(r, "request_id", "%016x" % random.Random(len(r["prompt"])).getrandbits(64)), 0.4),
    ("id format", "user.email", lambda r: set_path(r, "user.email", r["user"]["email"].upper()), 0.5),
]


def test_planted_shifts_are_flagged(w):
    current = halves(w, 10000)    # smaller than above, to keep the test short
    r = run(["profile", w("a.jsonl"), "-o", w("a.json")])
    assert r.returncode == 0, text(r.stderr)
    for name, field, fn, share in SHIFTS:
        rng = random.Random(name)
        shifted = plant(current, field, fn, share, rng)
        w.write("s.jsonl", "".join(json.dumps(x) + "\n" for x in shifted))
        r = run(["profile", w("s.jsonl"), "--baseline", w("a.json"), "--fail-on", "alert"])
        out = text(r.stdout)
        rows = drift_table(out)
        assert r.returncode == 3, (name, r.returncode, out, text(r.stderr))
        assert status(rows[field][1]) == "alert", (name, rows[field][1])
        if field == "ts" and "stops" in name:     # the summary says so too
            line = [l for l in out.splitlines() if l.startswith("ts ")][0]
            assert "% of it without data)" in line, line
        others = [l for f, (_, l) in rows.items() if f != field and status(l) != "ok"]
        assert others == [], (name, others)


def test_suggested_contract(w):
    """Timestamps are type timestamp; e-mails get format: email; free text
    gets no length or unique rules; fixed-length ids their exact length."""
    import test_profile_cli
    events.write_events(w("e.jsonl"), 5000, seed=5)
    r = run(["profile", w("e.jsonl"), "--suggest-contract", w("c.yaml")])
    assert r.returncode == 0, text(r.stderr)
    with open(w("c.yaml")) as f:
        c = test_profile_cli.parse_contract(f.read())["fields"]
    assert c["ts"] == {"type": "timestamp", "required": True, "nullable": False}, c["ts"]
    assert c["user.email"].get("format") == "email" and "max_length" not in c["user.email"], c["user.email"]
    assert "max_length" not in c["prompt"] and "unique" not in c["prompt"], c["prompt"]
    assert c["request_id"]["min_length"] == 16 and c["request_id"]["max_length"] == 16, c["request_id"]
    assert c["request_id"]["unique"] is True, c["request_id"]


def test_fail_on_flag(w):
    events.write_events(w("e.jsonl"), 200, seed=1)
    r = run(["profile", w("e.jsonl"), "--fail-on", "alert"])
    assert r.returncode == 2 and "--fail-on needs --baseline" in text(r.stderr), text(r.stderr)
    r = run(["profile", w("e.jsonl"), "--baseline", w("e.json"), "--fail-on", "sometimes"])
    assert r.returncode == 2 and "--fail-on must be warn or alert" in text(r.stderr), text(r.stderr)


if __name__ == "__main__":
    harness.main([test_unchanged_data_raises_nothing, test_small_samples_raise_nothing, test_top_values_are_not_invented,
                  test_planted_shifts_are_flagged, test_suggested_contract, test_fail_on_flag])
