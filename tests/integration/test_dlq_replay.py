"""Dead-letter replay with the real binary: a pipeline fills its DLQ (records
a filter cannot evaluate, broken JSON, invalid UTF-8), the DLQ file is moved
aside, and the fixed pipeline replays it with a `dlq` source. Checks that
exactly the failed records come out, that bytes survive byte for byte, that
the reasons/components filters select, that entries which cannot be replayed
go to the DLQ again, and that `sluice dlq summary` counts exactly. Resuming:
a replay killed with SIGKILL at random moments and restarted replays every
entry exactly once, and a replay run again replays nothing.
"""
import base64
import json
import os
import random

import harness

N = 300


def make_input(work):
    """N lines: ids 1..N. Every 7th record has a string `n` (expr_error in a
    filter `.n > 1`), every 11th line is broken JSON (json_syntax), id 50 has
    invalid UTF-8 (json_utf8). Returns (path, {reason: [original line bytes]})."""
    lines, failed = [], {"expr_error": [], "json_syntax": [], "json_utf8": []}
    for i in range(1, N + 1):
        if i == 50:
            line = b'{"id":50,"s":"bad \xff\xfe bytes","n":3}'
            failed["json_utf8"].append(line)
        elif i % 11 == 0:
            line = b'{"id":%d,"n":' % i
            failed["json_syntax"].append(line)
        elif i % 7 == 0:
            line = json.dumps({"id": i, "n": "seven", "text": "caf\u00e9 \"q\" \\ \u2603"},
                              ensure_ascii=False).encode()
            failed["expr_error"].append(line)
        else:
            line = json.dumps({"id": i, "n": i % 5}).encode()
        lines.append(line)
    return work.write("in.jsonl", b"\n".join(lines) + b"\n"), failed


def pipeline(work, name, source, condition, dlq, out, state=None, extra=""):
    state = state or "state-" + name.rsplit(".", 1)[0]   # a data_dir per pipeline
    return work.write(name, """
data_dir: %s
%s
sources:
  in: %s
transforms:
  keep: {type: filter, inputs: [in], condition: '%s'}
sinks:
  out: {type: file, inputs: [keep], path: %s}
dlq: {path: %s}
""" % (work(state), extra, source, condition, out, dlq))


def run_ok(args):
    proc = harness.run(args)
    assert proc.returncode == 0, harness.text(proc.stdout) + harness.text(proc.stderr)
    return proc


def fill_dlq(work):
    """Runs the broken pipeline; returns (moved DLQ file, failed lines)."""
    path, failed = make_input(work)
    p = pipeline(work, "broken.yaml", "{type: file, paths: [%s]}" % path, ".n > 1",
                 work("dlq"), work("out1.jsonl"))
    run_ok(["run", "--no-progress", p])
    entries = harness.read_jsonl(work("dlq", "dlq.jsonl"))
    assert len(entries) == sum(len(v) for v in failed.values()), len(entries)
    os.makedirs(work("replay"))
    moved = work("replay", "dlq-1.jsonl")
    os.rename(work("dlq", "dlq.jsonl"), moved)
    return moved, failed


def test_replay_emits_exactly_the_failed_records(work):
    moved, failed = fill_dlq(work)
    p = pipeline(work, "fixed.yaml", "{type: dlq, path: %s, reasons: [expr_error]}" % work("replay"),
                 ".id > 0", work("dlq2"), work("out2.jsonl"))
    run_ok(["run", "--no-progress", p])
    out = harness.read_jsonl(work("out2.jsonl"))
    expected = [json.loads(line) for line in failed["expr_error"]]
    assert len(expected) == 39, len(expected)
    assert out == expected, (out[:3], expected[:3])
    # nothing else was replayed, so nothing failed again
    assert not os.path.exists(work("dlq2", "dlq.jsonl"))


def test_unfiltered_replay_resends_what_still_fails_byte_exact(work):
    moved, failed = fill_dlq(work)
    p = pipeline(work, "fixed.yaml", "{type: dlq, path: %s}" % moved, ".id > 0", work("dlq2"),
                 work("out2.jsonl"))
    run_ok(["run", "--no-progress", p])
    assert [r["id"] for r in harness.read_jsonl(work("out2.jsonl"))] == \
        [json.loads(line)["id"] for line in failed["expr_error"]]
    again = harness.read_jsonl(work("dlq2", "dlq.jsonl"))
    by_reason = {}
    for e in again:
        by_reason.setdefault(e["reason"], []).append(e)
    assert sorted(by_reason) == ["json_syntax", "json_utf8"], sorted(by_reason)
    assert [e["raw"].encode() for e in by_reason["json_syntax"]] == failed["json_syntax"]
    (utf8,) = by_reason["json_utf8"]
    assert base64.b64decode(utf8["raw_base64"]) == failed["json_utf8"][0]
    # Lineage survives the replay: origin and position are the record's
    # original ones (as in the replayed entry), and "replay" points at the
    # replayed entry's line in the DLQ file.
    st = os.stat(moved)
    lines = open(moved, "rb").read()
    for e in again:
        assert e["component"] == "in" and e["source"] == "in"
        assert e["replay"]["origin"] == moved, e
        assert e["replay"]["position"]["file_id"] == ((st.st_dev << 32) ^ st.st_ino)
        off = e["replay"]["position"]["offset"]
        assert off == 0 or lines[off - 1:off] == b"\n", off
        entry = json.loads(lines[off:lines.index(b"\n", off)])
        assert entry["reason"] == e["reason"] and entry["raw" if "raw" in e else "raw_base64"] == \
            e["raw" if "raw" in e else "raw_base64"]
        assert e["origin"] == entry["origin"] == work("in.jsonl") and e["position"] == entry["position"], e
    shown = harness.text(run_ok(["dlq", "show", work("dlq2"), "--limit", "1"]).stdout)
    assert "  replayed:  from %s, position %d:" % (moved, (st.st_dev << 32) ^ st.st_ino) in shown, shown


def test_components_filter(work):
    moved, failed = fill_dlq(work)
    # the source `in` rejected the undecodable lines; the filter `keep` the rest
    p = pipeline(work, "fixed.yaml", "{type: dlq, path: %s, components: [in]}" % moved, ".id > 0",
                 work("dlq2"), work("out2.jsonl"))
    run_ok(["run", "--no-progress", p])
    assert harness.read_jsonl(work("out2.jsonl")) == []
    assert len(harness.read_jsonl(work("dlq2", "dlq.jsonl"))) == 28


def test_entries_that_cannot_be_replayed_go_to_the_dlq_again(work):
    entry = {"time": "2026-11-24T01:02:03.123Z", "component": "keep", "source": "in",
             "origin": "x.jsonl", "position": {"file_id": 1, "offset": 2},
             "reason": "record_too_large", "message": "m"}
    work.write("replay/dlq.jsonl", "\n".join([
        json.dumps(dict(entry, raw='{"id":1', raw_truncated=True)),
        json.dumps(dict(entry, reason="read_error", raw="")),
        "this line is not JSON",
        json.dumps(dict(entry, reason="expr_error", raw='{"id":7}')),
    ]) + "\n")
    p = pipeline(work, "fixed.yaml", "{type: dlq, path: %s}" % work("replay"), ".id > 0",
                 work("dlq2"), work("out2.jsonl"))
    run_ok(["run", "--no-progress", p])
    assert harness.read_jsonl(work("out2.jsonl")) == [{"id": 7}]
    again = harness.read_jsonl(work("dlq2", "dlq.jsonl"))
    assert [e["reason"] for e in again] == ["dlq_truncated", "dlq_no_raw", "dlq_invalid"], again
    assert again[0]["raw"] == '{"id":1'
    assert again[2]["raw"] == "this line is not JSON"


def test_own_dlq_is_refused(work):
    moved, failed = fill_dlq(work)
    p = pipeline(work, "self.yaml", "{type: dlq, path: %s}" % work("replay"), ".id > 0",
                 work("replay"), work("out2.jsonl"))
    proc = harness.run(["run", "--no-progress", p])
    err = harness.text(proc.stderr)
    assert proc.returncode == 1, err
    assert "is this pipeline's own DLQ output" in err and "Move the dead letters aside" in err, err
    assert not os.path.exists(work("out2.jsonl")) or harness.read_jsonl(work("out2.jsonl")) == []


def test_summary_counts(work):
    moved, failed = fill_dlq(work)
    with open(moved, "ab") as f:
        f.write(b"garbage that is not an entry\n")
    proc = harness.run(["dlq", "summary", work("replay")])
    out = harness.text(proc.stdout)
    assert proc.returncode == 0, out + harness.text(proc.stderr)
    lines = out.splitlines()
    assert lines[0] == "%s: 67 entries in 1 file" % work("replay"), lines[0]
    assert lines[1].startswith("oldest: 20") and lines[2].startswith("newest: 20"), out
    assert "truncated (not replayable): 0" in lines and "unreadable lines: 1" in lines, out
    tables = {}
    for block in out.split("\n\n")[1:]:
        head, *rows = block.strip().splitlines()
        tables[head.split()[0]] = [tuple(row.split(None, 3)) for row in rows]
    classes = tables.pop("entries")
    assert tables == {
        "reason": [("expr_error", "39"), ("json_syntax", "27"), ("json_utf8", "1")],
        "component": [("keep", "39"), ("in", "28")],
        "source": [("in", "67")],
    }, tables
    # By reason, component and message class: numbers and quoted values
    # replaced, so that entries that failed the same way count together.
    assert [row[:3] for row in classes] == [("39", "expr_error", "keep"), ("27", "json_syntax", "in"),
                                            ("1", "json_utf8", "in")], classes
    assert classes[1][3] == "invalid JSON at offset N: expected a JSON value, found end of input", classes
    assert classes[2][3] == "invalid UTF-8 at offset N (byte N)", classes
    assert classes[0][3].startswith("condition `.n > 1`: ") and "cannot compare string with int" in classes[0][3]

    # Filters select the entries counted.
    only = harness.text(harness.run(["dlq", "summary", work("replay"), "--class", "end of input"]).stdout)
    assert only.splitlines()[0] == "%s: 27 entries in 1 file" % work("replay"), only
    assert "unreadable line at byte" in harness.text(proc.stderr)

    missing = harness.run(["dlq", "summary", work("nope")])
    err = harness.text(missing.stderr)
    assert missing.returncode == 2 and missing.stdout == b"", err
    assert err.count("\n") == 1 and "cannot read DLQ path" in err and "No such file" in err, err


def test_show_selects_entries(work):
    moved, failed = fill_dlq(work)
    proc = harness.run(["dlq", "show", work("replay"), "--reason", "json_syntax", "--limit", "2"])
    out = harness.text(proc.stdout)
    assert proc.returncode == 0, out + harness.text(proc.stderr)
    assert out.count("  json_syntax  from in (source in)") == 2 and "expr_error" not in out, out
    assert "  message:   invalid JSON at offset " in out and "  raw:       {\"id\":11,\"n\":" in out, out
    assert out.rstrip().endswith("2 of 27 matching entries shown (--limit N shows more, --limit 0 all)"), out

    # --json prints the selected entries as written, all of them with --limit 0.
    proc = harness.run(["dlq", "show", moved, "--component", "keep", "--class", "cannot compare",
                        "--limit", "0", "--json"])
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(got) == len(failed["expr_error"]) and {e["reason"] for e in got} == {"expr_error"}, len(got)
    assert sorted(e["raw"].encode() for e in got) == sorted(failed["expr_error"])

    bad = harness.run(["dlq", "show", moved, "--limit", "x"])
    assert bad.returncode == 2 and "--limit takes a number" in harness.text(bad.stderr), harness.text(bad.stderr)
    bad = harness.run(["dlq", "summary", moved, "--limit", "3"])
    assert bad.returncode == 2 and "unknown option '--limit'" in harness.text(bad.stderr), harness.text(bad.stderr)


def dlq_keys(path):
    return [(e["origin"], e["position"]["offset"], e["reason"]) for e in harness.read_jsonl(path)]


def test_replay_run_again_replays_nothing(work):
    moved, failed = fill_dlq(work)
    p = pipeline(work, "fixed.yaml", "{type: dlq, path: %s}" % work("replay"), ".id > 0",
                 work("dlq2"), work("out2.jsonl"), state="state2")
    run_ok(["run", "--no-progress", p])
    out = open(work("out2.jsonl"), "rb").read()
    again = dlq_keys(work("dlq2", "dlq.jsonl"))
    assert out.count(b"\n") == 39 and len(again) == 28, (out.count(b"\n"), len(again))

    second = run_ok(["run", "--no-progress", p])
    assert "67 entries handled by an earlier run were skipped" in harness.text(second.stderr), \
        harness.text(second.stderr)
    assert open(work("out2.jsonl"), "rb").read() == out, "a finished replay replayed again"
    assert dlq_keys(work("dlq2", "dlq.jsonl")) == again, "a finished replay dead-lettered again"

    # An entry appended to the replayed file since is replayed, alone.
    with open(moved, "ab") as f:
        f.write(json.dumps({"time": "2026-11-24T01:02:03.123Z", "component": "keep", "source": "in",
                            "reason": "expr_error", "message": "m", "raw": '{"id":9999}'}).encode() + b"\n")
    run_ok(["run", "--no-progress", p])
    assert open(work("out2.jsonl"), "rb").read() == out + b'{"id":9999}\n'
    assert dlq_keys(work("dlq2", "dlq.jsonl")) == again

    # --from-start replays everything again.
    run_ok(["run", "--no-progress", "--from-start", p])
    assert open(work("out2.jsonl"), "rb").read().count(b"\n") == 2 * 40
    assert len(dlq_keys(work("dlq2", "dlq.jsonl"))) == 2 * 28


KILL_ENTRIES = 30000
KILL_FILES = 3
KILLS = 8


def write_dead_letters(work):
    """KILL_ENTRIES entries over KILL_FILES files in work/replay, every 97th
    not replayable (truncated: it goes to the DLQ again)."""
    entry = {"time": "2026-11-24T01:02:03.123Z", "component": "keep", "source": "in",
             "origin": "x.jsonl", "reason": "expr_error", "message": "m"}
    per_file = KILL_ENTRIES // KILL_FILES
    for f in range(KILL_FILES):
        lines = []
        for i in range(f * per_file, (f + 1) * per_file):
            e = dict(entry, position={"file_id": 1, "offset": i}, raw=json.dumps({"id": i, "n": "x" * (i % 40)}))
            if i % 97 == 0:
                e["raw_truncated"] = True
            lines.append(json.dumps(e))
        work.write("replay/dlq-%d.jsonl" % f, "\n".join(lines) + "\n")


def sink_bytes(directory):
    """Bytes the sink has written: published files and parts in progress."""
    total = 0
    for entry in os.scandir(directory) if os.path.isdir(directory) else []:
        try:
            total += entry.stat().st_size
        except OSError:
            pass   # published or discarded meanwhile
    return total


def test_replay_killed_and_restarted_replays_each_entry_once(work):
    write_dead_letters(work)
    extra = "workers: 2\nbatch: {max_records: 256}\ncheckpoint: {interval: 20ms}"

    def config(name):
        return pipeline(work, name + ".yaml", "{type: dlq, path: %s}" % work("replay"), ".id >= 0",
                        work(name, "dlq"), work(name, "out", "replayed.jsonl"), state=name, extra=extra)

    run_ok(["run", "--no-progress", config("ref")])
    expected = open(work("ref", "out", "replayed.jsonl"), "rb").read()
    expected_dlq = sorted(dlq_keys(work("ref", "dlq", "dlq.jsonl")))
    resent = len(range(0, KILL_ENTRIES, 97))
    assert expected.count(b"\n") == KILL_ENTRIES - resent and len(expected_dlq) == resent

    # Kill moments are random points of the sink's progress, so they spread
    # over the whole replay whatever the machine's speed.
    rng = random.Random(20261124)
    cfg = config("kill")
    targets = sorted(rng.uniform(0.05, 0.9) * len(expected) for _ in range(KILLS))
    ended = sum(harness.run_killed(["run", "--no-progress", cfg], lambda: sink_bytes(work("kill", "out")) >= t,
                                   rng) for t in targets)
    assert ended <= 2, "%d of %d runs ended before their kill" % (ended, KILLS)
    run_ok(["run", "--no-progress", cfg])

    got = open(work("kill", "out", "replayed.jsonl"), "rb").read()
    assert [n for n in os.listdir(work("kill", "out")) if n.startswith(".")] == [], "parts left behind"
    assert len(got.split(b"\n")) == len(expected.split(b"\n")), (
        "%d entries replayed, %d expected" % (got.count(b"\n"), expected.count(b"\n")))
    assert got == expected, "the same entries, but not in the same order"
    assert sorted(dlq_keys(work("kill", "dlq", "dlq.jsonl"))) == expected_dlq, \
        "entries sent to the DLQ again were lost or duplicated"


if __name__ == "__main__":
    harness.main([test_replay_emits_exactly_the_failed_records,
                  test_unfiltered_replay_resends_what_still_fails_byte_exact,
                  test_components_filter,
                  test_entries_that_cannot_be_replayed_go_to_the_dlq_again,
                  test_own_dlq_is_refused,
                  test_summary_counts,
                  test_show_selects_entries,
                  test_replay_run_again_replays_nothing,
                  test_replay_killed_and_restarted_replays_each_entry_once])
