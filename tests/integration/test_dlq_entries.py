"""What a DLQ entry holds, with the real binary: every line of the DLQ is
valid JSON and valid UTF-8 whatever the input bytes were (the fuzz corpora
fed in as JSON lines and as CSV), so `sluice dlq summary` and replays lose
none of them.
"""
import glob
import json
import os

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


if __name__ == "__main__":
    harness.main([test_every_dlq_line_is_valid_json_for_binary_input])
