"""What a DLQ entry holds, with the real binary: every line of the DLQ is
valid JSON and valid UTF-8 whatever the input bytes were (the fuzz corpora
fed in as JSON lines and as CSV), so `sluice dlq summary` and replays lose
none of them; records of any size up to max_record_bytes are kept whole
(large ones in the side file dlq.raw) and replay byte for byte, also after
the DLQ file was moved; a run killed at random moments and restarted leaves
each entry and each side-file record exactly once.
"""
import base64
import glob
import json
import os
import random
import re
import shutil

import harness


def corpus_input(work, fmt):
    """Every fuzz corpus file, concatenated: binary garbage, broken JSON,
    malformed numbers and invalid UTF-8 among ordinary lines, plus inputs the
    decoders quote in their messages, cut at a byte limit that may fall
    inside a multi-byte character."""
    data = b""
    for path in sorted(glob.glob(os.path.join(harness.REPO, "tests", "fuzz", "corpus", "*", "*"))):
        with open(path, "rb") as f:
            data += f.read() + b"\n"
    snow = "\u2603".encode()
    if fmt == "jsonl":
        data += (b'{"n":1' + "\u00e9".encode() * 30 + b'}\n{"n":-' + snow * 20 + b'}\n'
                 b'{"v":tr' + snow * 20 + b'}\n{"n":1e99999' + snow * 20 + b'}\n'
                 b'{"n":1234567890123456789012345678901234567' + snow * 20 + b'}\n')
        return work.write("in.jsonl", data)
    header = b"id,name,score\n"
    data += b"x" + snow * 30 + b",b,1\n1,n,2" + snow * 30 + b"\n"
    return work.write("in.csv", header + data)


def dlq_lines(path):
    with open(path, "rb") as f:
        return [line for line in f.read().split(b"\n") if line]


def check_entries(path):
    """Every line decodes as UTF-8 and parses as a JSON object with a reason."""
    lines = dlq_lines(path)
    for i, line in enumerate(lines):
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError("DLQ line %d is not valid UTF-8 JSON (%s): %r" % (i + 1, e, line[:300]))
        assert isinstance(entry, dict) and entry.get("reason"), line[:300]
    return len(lines)


def test_every_dlq_line_is_valid_json_for_binary_input(work):
    for fmt in ("jsonl", "csv"):
        path = corpus_input(work, fmt)
        cfg = work.write("p-%s.yaml" % fmt, """
data_dir: %s
sources:
  in: {type: file, paths: [%s], format: %s, csv.columns: {id: int, score: float}}
sinks:
  out: {type: file, inputs: [in], path: %s}
dlq: {path: %s}
""" % (work("state-" + fmt), path, fmt, work("out-%s.jsonl" % fmt), work("dlq-" + fmt)))
        proc = harness.run(["run", "--no-progress", cfg])
        assert proc.returncode == 0, harness.text(proc.stderr)
        n = check_entries(work("dlq-" + fmt, "dlq.jsonl"))
        assert n > 20, "%s: only %d dead letters; the corpus should produce many" % (fmt, n)
        proc = harness.run(["dlq", "summary", work("dlq-" + fmt)])
        assert proc.returncode == 0, harness.text(proc.stderr)
        assert "unreadable lines: 0" in harness.text(proc.stdout), harness.text(proc.stdout)


BIG = 70 * 1024   # over the 64 KiB kept inline


def big_input(work, n=60):
    """n records; every 5th is large and fails the filter (its `n` is a
    string), every 15th of those holds invalid UTF-8 (json_utf8)."""
    lines, failed = [], []
    for i in range(n):
        if i % 5 == 0:
            pad = ("%d-" % i) * (BIG // 2 + i)
            line = json.dumps({"id": i, "n": "big", "pad": pad}).encode()
            if i % 15 == 0:
                line = line.replace(b'"big"', b'"b\xff\xfeg"')
            failed.append(line)
        else:
            line = json.dumps({"id": i, "n": i}).encode()
        lines.append(line)
    return work.write("big.jsonl", b"\n".join(lines) + b"\n"), failed


def big_pipeline(work, name, source, extra="", condition=".n > 0"):
    """A pipeline whose state, DLQ and output are named after it."""
    return work.write(name + ".yaml", """
data_dir: %s
%s
sources:
  in: %s
transforms:
  keep: {type: filter, inputs: [in], condition: '%s'}
sinks:
  out: {type: file, inputs: [keep], path: %s}
dlq: {path: %s}
""" % (work(name, "state"), extra, source, condition, work(name, "out.jsonl"), work(name, "dlq")))


def replay(work, name, path):
    """Replays the DLQ file or directory at path with a filter every record passes."""
    run_ok(["run", "--no-progress", big_pipeline(work, name, "{type: dlq, path: %s}" % path, condition=".id >= 0")])
    out = work(name, "out.jsonl")
    return sorted(json.loads(line)["id"] for line in open(out, "rb")) if os.path.exists(out) else []


def side_records(dlq_dir):
    """(entries, side file bytes); checks every entry's side-file record."""
    entries = harness.read_jsonl(os.path.join(dlq_dir, "dlq.jsonl"))
    side = b""
    if os.path.exists(os.path.join(dlq_dir, "dlq.raw")):
        side = open(os.path.join(dlq_dir, "dlq.raw"), "rb").read()
    for e in entries:
        if "raw_file" in e:
            assert e["raw_offset"] + e["raw_length"] <= len(side), e
    return entries, side


def original_bytes(entry, side):
    if "raw_file" in entry:
        return side[entry["raw_offset"]:entry["raw_offset"] + entry["raw_length"]]
    if "raw" in entry:
        return entry["raw"].encode()
    return base64.b64decode(entry["raw_base64"])


def run_ok(args):
    proc = harness.run(args)
    assert proc.returncode == 0, harness.text(proc.stderr)
    return proc


def test_large_records_are_kept_whole_and_replay(work):
    path, failed = big_input(work)
    run_ok(["run", "--no-progress", big_pipeline(work, "first", "{type: file, paths: [%s]}" % path)])
    entries, side = side_records(work("first", "dlq"))
    assert sorted(original_bytes(e, side) for e in entries) == sorted(failed)
    assert all("raw_file" in e and "raw_truncated" not in e for e in entries), entries[0].keys()
    assert sum(e["raw_length"] for e in entries) == len(side), "side file holds more than its entries"
    summary = harness.text(run_ok(["dlq", "summary", work("first", "dlq")]).stdout)
    assert "truncated (not replayable): 0" in summary and "unreadable lines: 0" in summary, summary
    assert "%d entries in 1 file" % len(failed) in summary, summary
    shown = harness.text(run_ok(["dlq", "show", work("first", "dlq"), "--limit", "1"]).stdout)
    sizes = re.findall(r"^  raw bytes: (\d+) \(in the side file\)$", shown, re.M)
    assert len(sizes) == 1 and int(sizes[0]) in [len(line) for line in failed], shown

    # Moved aside without its side file: found where the entries say.
    os.makedirs(work("replay"))
    shutil.move(work("first", "dlq", "dlq.jsonl"), work("replay", "dlq-1.jsonl"))
    bad_utf8 = list(range(0, 60, 15))
    replayed = replay(work, "fixed", work("replay"))
    assert replayed == [i for i in range(0, 60, 5) if i not in bad_utf8], replayed
    again, side2 = side_records(work("fixed", "dlq"))
    assert sorted(original_bytes(e, side2) for e in again) == sorted(l for l in failed if b"\xff" in l)
    assert {e["reason"] for e in again} == {"json_utf8"}, again

    # The whole directory moved (the path the entries name is gone): the
    # side file next to the DLQ file is used.
    os.rename(work("first", "dlq"), work("archive"))
    shutil.move(work("replay", "dlq-1.jsonl"), work("archive", "dlq-1.jsonl"))
    assert replay(work, "moved", work("archive", "dlq-1.jsonl")) == replayed

    # Without the side file: the entries go to the DLQ again, not lost.
    os.remove(work("archive", "dlq.raw"))
    assert replay(work, "gone", work("archive")) == []
    gone = harness.read_jsonl(work("gone", "dlq", "dlq.jsonl"))
    assert len(gone) == len(failed) and {e["reason"] for e in gone} == {"dlq_raw_missing"}, gone[:1]
    assert "cannot be read" in gone[0]["message"] and "dlq.raw" in gone[0]["message"], gone[0]["message"]


def test_side_file_references_are_not_trusted(work):
    """An entry whose side-file reference is wrong (huge length, offset past
    the end, bad checksum) goes to the DLQ again: no crash, no huge
    allocation, no wrong bytes replayed."""
    side = work.write("replay/dlq.raw", b'{"id":1,"n":2}')
    base = {"time": "2026-11-24T01:02:03.123Z", "component": "keep", "source": "in", "origin": "x.jsonl",
            "position": {"file_id": 1, "offset": 0}, "reason": "expr_error", "message": "m", "raw_file": side}
    good = harness.crc32c(b'{"id":1,"n":2}')
    entries = [dict(base, raw_offset=0, raw_length=10 ** 15, raw_crc32c=good),
               dict(base, raw_offset=10 ** 12, raw_length=3, raw_crc32c=good),
               dict(base, raw_offset=0, raw_length=14, raw_crc32c=good ^ 1),
               dict(base, raw_offset=0, raw_length=14, raw_crc32c=good)]
    work.write("replay/dlq-1.jsonl", "".join(json.dumps(e) + "\n" for e in entries))
    assert replay(work, "forged", work("replay")) == [1]
    again = harness.read_jsonl(work("forged", "dlq", "dlq.jsonl"))
    assert [e["reason"] for e in again] == ["dlq_raw_missing"] * 3, again
    assert "shorter (14 bytes) than the entry says" in again[0]["message"], again[0]["message"]
    assert "do not match the entry (CRC-32C)" in again[2]["message"], again[2]["message"]



def test_killed_run_keeps_each_side_record_once(work):
    path, failed = big_input(work, n=600)
    extra = "workers: 2\nbatch: {max_records: 16}\ncheckpoint: {interval: 20ms}"

    rng = random.Random(20261207)
    cfg = big_pipeline(work, "kill", "{type: file, paths: [%s]}" % path, extra)
    expected = sum(len(line) for line in failed)
    ended = 0
    for target in sorted(rng.uniform(0.1, 0.9) * expected for _ in range(4)):
        ended += harness.run_killed(["run", "--no-progress", cfg],
                                    lambda: os.path.exists(work("kill", "dlq", "dlq.raw")) and
                                    os.path.getsize(work("kill", "dlq", "dlq.raw")) >= target, rng)
    assert ended <= 1, "%d of 4 runs ended before their kill" % ended
    run_ok(["run", "--no-progress", cfg])
    entries, side = side_records(work("kill", "dlq"))
    keys = [e["position"]["offset"] for e in entries]
    assert len(keys) == len(set(keys)) == len(failed), (len(keys), len(set(keys)), len(failed))
    assert sorted(original_bytes(e, side) for e in entries) == sorted(failed)
    spans = sorted((e["raw_offset"], e["raw_length"]) for e in entries)
    assert all(a[0] + a[1] == b[0] for a, b in zip(spans, spans[1:])) and spans[0][0] == 0, \
        "side file has bytes no entry points to (not cut back with the DLQ)"
    assert spans[-1][0] + spans[-1][1] == len(side), "side file longer than its entries"


if __name__ == "__main__":
    harness.main([test_every_dlq_line_is_valid_json_for_binary_input,
                  test_large_records_are_kept_whole_and_replay,
                  test_side_file_references_are_not_trusted,
                  test_killed_run_keeps_each_side_record_once])
