"""`sluice profile` on generated files: exact counts in the profile JSON,
the summary table, the suggested contract (parsed as YAML, with the
expected rules), gzip and CSV input, drift against a baseline, and the
exit codes and messages for bad command lines and missing files."""
import gzip
import json

import harness
from harness import run, text

LEVELS = ["debug", "error", "info", "warn"]


def generate(path, n=500):
    """id 0..n-1 (unique), level cycling over 4 values, score 10..59,
    opt missing in every 5th record, note null in every 10th."""
    with open(path, "w") as f:
        for i in range(n):
            r = {"id": i, "level": LEVELS[i % 4], "score": 10 + i % 50}
            if i % 5 != 0:
                r["opt"] = "v%d" % (i % 7)
            r["note"] = None if i % 10 == 0 else "note %d" % i
            f.write(json.dumps(r) + "\n")


def parse_contract(source):
    """The contract YAML: with PyYAML when installed, else a reader for the
    subset `sluice profile` writes (comments, `fields:`, two-level mappings,
    scalars and flow lists of quoted strings)."""
    try:
        import yaml
        return yaml.safe_load(source)
    except ImportError:
        pass
    fields, current = {}, None
    for line in source.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line == "fields:":
            continue
        if line.startswith("    "):
            key, _, value = line.strip().partition(": ")
            if value.startswith("["):
                value = json.loads(value)
            elif value in ("true", "false"):
                value = value == "true"
            else:
                try:
                    value = int(value)
                except ValueError:
                    try:
                        value = float(value)
                    except ValueError:
                        pass
            fields[current][key] = value
        elif line.startswith("  "):
            current = line.strip().rstrip(":").strip('"')
            fields[current] = {}
        else:
            raise AssertionError("unexpected contract line: %r" % line)
    return {"fields": fields}


def test_profile_counts_and_contract(w):
    data = w("events.jsonl")
    generate(data)
    r = run(["profile", data, "-o", w("p.json"), "--suggest-contract", w("c.yaml")])
    assert r.returncode == 0, text(r.stderr)
    out = text(r.stdout)
    assert out.startswith("500 records, 5 fields\n"), out
    assert "profile written to " + w("p.json") in out, out

    p = json.load(open(w("p.json")))
    assert p["records"] == 500
    f = p["fields"]
    assert list(f) == ["id", "level", "score", "note", "opt"], list(f)   # first seen first
    assert f["id"]["count"] == 500 and f["id"]["missing"] == 0 and f["id"]["types"] == {"int": 500}
    assert f["id"]["min"] == 0 and f["id"]["max"] == 499
    assert f["level"]["distinct"] == 4
    assert sorted((t["value"], t["count"]) for t in f["level"]["top"]) == [(l, 125) for l in LEVELS]
    assert f["opt"]["count"] == 400 and f["opt"]["missing"] == 100 and f["opt"]["nulls"] == 0
    assert f["note"]["count"] == 500 and f["note"]["nulls"] == 50
    assert f["note"]["types"] == {"null": 50, "string": 450}
    assert f["score"]["min"] == 10 and f["score"]["max"] == 59

    c = parse_contract(open(w("c.yaml")).read())["fields"]
    assert c["id"] == {"type": "int", "required": True, "nullable": False, "min": 0, "max": 550,
                       "unique": True}, c["id"]
    assert c["level"] == {"type": "string", "required": True, "nullable": False, "enum": LEVELS}, c["level"]
    # 50 distinct scores in 500 is 10 %: a range, not an enum
    assert c["score"] == {"type": "int", "required": True, "nullable": False, "min": 5, "max": 64}, c["score"]
    # 7 distinct values in 400 (< 5 %): an enum; missing in some records
    assert c["opt"] == {"type": "string", "required": False, "nullable": False,
                        "enum": ["v%d" % i for i in range(7)]}, c["opt"]
    assert c["note"]["type"] == "string" and c["note"]["nullable"] is True and c["note"]["required"] is True
    # text with spaces: no length or unique rules (its longest value is an accident)
    assert "max_length" not in c["note"] and "unique" not in c["note"], c["note"]


def test_gzip_and_csv(w):
    generate(w("events.jsonl"), 200)
    with open(w("events.jsonl"), "rb") as src, gzip.open(w("events.jsonl.gz"), "wb") as dst:
        dst.write(src.read())
    r = run(["profile", w("events.jsonl.gz"), "-o", w("gz.json")])
    assert r.returncode == 0, text(r.stderr)
    assert json.load(open(w("gz.json")))["records"] == 200

    w.write("orders.csv", "id,amount,country\n1,9.5,FR\n2,10,DE\n3,,FR\n")
    r = run(["profile", w("orders.csv"), "-o", w("csv.json")])   # csv by its name
    assert r.returncode == 0, text(r.stderr)
    p = json.load(open(w("csv.json")))
    assert p["records"] == 3 and list(p["fields"]) == ["id", "amount", "country"], p["fields"].keys()
    w.write("orders.txt", "id;country\n1;FR\n")
    r = run(["profile", "--format", "csv", w("orders.txt"), "-o", w("txt.json")])
    assert r.returncode == 0, text(r.stderr)
    assert json.load(open(w("txt.json")))["records"] == 1


def test_undecodable_records_are_counted(w):
    w.write("mixed.jsonl", '{"a":1}\nnot json\n{"a":2}\n')
    r = run(["profile", w("mixed.jsonl"), "-o", w("p.json")])
    assert r.returncode == 0, text(r.stderr)
    assert "1 record could not be decoded and is left out of the profile" in text(r.stderr), text(r.stderr)
    assert json.load(open(w("p.json")))["records"] == 2


def test_baseline_drift(w):
    generate(w("old.jsonl"))
    r = run(["profile", w("old.jsonl"), "-o", w("old.json")])
    assert r.returncode == 0, text(r.stderr)
    r = run(["profile", w("old.jsonl"), "--baseline", w("old.json")])
    assert r.returncode == 0, text(r.stderr)
    assert "drift against the baseline: ok" in text(r.stdout), text(r.stdout)
    # the same fields, scores shifted up by 40: score drifts
    with open(w("new.jsonl"), "w") as f:
        for i in range(500):
            f.write(json.dumps({"id": i, "level": LEVELS[i % 4], "score": 50 + i % 50}) + "\n")
    r = run(["profile", w("new.jsonl"), "--baseline", w("old.json")])
    assert r.returncode == 0, text(r.stderr)
    out = text(r.stdout)
    assert "drift against the baseline: alert" in out, out
    score = [l for l in out.splitlines() if l.startswith("score ") and " numeric " in l]
    assert score and score[0].endswith("alert (psi)"), out


def test_errors(w):
    r = run(["profile", w("nope.jsonl")])
    assert r.returncode == 2
    assert text(r.stderr) == "sluice: cannot read '%s': No such file or directory\n" % w("nope.jsonl"), text(r.stderr)
    r = run(["profile"])
    assert r.returncode == 2 and "needs at least one input file" in text(r.stderr), text(r.stderr)
    generate(w("e.jsonl"), 10)
    r = run(["profile", "--frobnicate", w("e.jsonl")])
    assert r.returncode == 2 and "unknown flag '--frobnicate'" in text(r.stderr), text(r.stderr)
    r = run(["profile", "--format", "xml", w("e.jsonl")])
    assert r.returncode == 2 and "--format must be jsonl, csv or text" in text(r.stderr), text(r.stderr)
    r = run(["profile", w()])
    assert r.returncode == 2 and "is a directory" in text(r.stderr), text(r.stderr)
    w.write("bad.json", "{not a profile")
    r = run(["profile", w("e.jsonl"), "--baseline", w("bad.json")])
    assert r.returncode == 2 and "is not a profile" in text(r.stderr), text(r.stderr)
    r = run(["profile", "--help"])
    assert r.returncode == 0 and text(r.stdout).startswith("usage: sluice profile"), text(r.stdout)


if __name__ == "__main__":
    harness.main([test_profile_counts_and_contract, test_gzip_and_csv, test_undecodable_records_are_counted,
                  test_baseline_drift, test_errors])
