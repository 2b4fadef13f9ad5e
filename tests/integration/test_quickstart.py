"""The quickstart pipeline on the bundled data, checked against an independent
Python model of the same pipeline: every record reaches the file it should,
with exactly the fields and values it should have; every broken line is in
the DLQ with the right reason; count in = count out + filtered + DLQ.
"""
import collections
import decimal
import json
import os
import shutil

import harness


def model(line):
    """What the quickstart pipeline does to one input line.
    Returns ("dlq", reason) | ("filtered", None) | (sink_path, record)."""
    if not line.strip():
        return ("skip", None)
    try:
        envelope = json.loads(line.decode("utf-8"), parse_float=decimal.Decimal)
    except UnicodeDecodeError:
        return ("dlq", "json_utf8")
    except json.JSONDecodeError as e:
        return ("dlq", "json_trailing" if e.msg == "Extra data" else "json_syntax")
    try:
        app = json.loads(envelope["log"], parse_float=decimal.Decimal)
    except json.JSONDecodeError:
        return ("dlq", "parse_failed")
    # parse: the source field is removed, then the parsed fields are merged
    record = {k: v for k, v in envelope.items() if k != "log"}
    record.update(app)
    # remap: rename keeps the field's position, delete, then set appends
    record = {("ts" if k == "time" else k): v for k, v in record.items()}
    del record["stream"]
    record["slow"] = record["latency_ms"] > 250
    if record["level"] == "debug":
        return ("filtered", None)
    if record["level"] == "error" or record["status"] >= 500:
        return ("out/quickstart/errors.jsonl", record)
    return ("out/quickstart/events-%s.jsonl" % record["service"], record)


def read_exact(path):
    with open(path, "rb") as f:
        return [json.loads(line, parse_float=decimal.Decimal) for line in f]


def test_quickstart_matches_model(work):
    shutil.copytree(os.path.join(harness.REPO, "examples"), work("examples"))
    proc = harness.run(["run", "--no-progress", "examples/quickstart.yaml"], cwd=work.path)
    assert proc.returncode == 0, harness.text(proc.stderr)

    expected = collections.defaultdict(list)
    dlq_reasons = collections.Counter()
    lines = 0
    with open(work("examples/data/container-logs.jsonl"), "rb") as f:
        for line in f:
            lines += 1
            where, what = model(line)
            if where == "dlq":
                dlq_reasons[what] += 1
            elif where not in ("filtered", "skip"):
                expected[where].append(what)

    produced = sorted(os.path.relpath(os.path.join(d, f), work.path)
                      for d, _, fs in os.walk(work("out/quickstart")) for f in fs
                      if f.endswith(".jsonl") and "dlq" not in d and ".sluice" not in d)
    assert produced == sorted(expected), (produced, sorted(expected))
    for path, records in expected.items():
        got = read_exact(work(path))
        assert len(got) == len(records), (path, len(got), len(records))
        for i, (g, e) in enumerate(zip(got, records)):
            assert g == e, "%s record %d:\n got      %s\n expected %s" % (path, i, g, e)
            assert list(g) == list(e), "%s record %d: field order %s != %s" % (path, i, list(g), list(e))

    dlq = harness.read_jsonl(work("out/quickstart/dlq/dlq.jsonl"))
    assert collections.Counter(d["reason"] for d in dlq) == dlq_reasons, (
        collections.Counter(d["reason"] for d in dlq), dlq_reasons)
    for entry in dlq:
        for key in ("time", "component", "source", "origin", "position", "reason", "message"):
            assert key in entry, (key, entry)
        assert ("raw" in entry) != ("raw_base64" in entry), entry
        assert entry["source"] == "logs"
    assert sum(dlq_reasons.values()) > 40, "the bundled data has broken lines"

    summary = harness.text(proc.stderr)
    assert str(lines) in summary, summary


if __name__ == "__main__":
    harness.main([test_quickstart_matches_model])
