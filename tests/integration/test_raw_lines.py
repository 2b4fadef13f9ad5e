"""Records nothing changed are written as they came, with the real binary:
JSON lines through stdin and stdout, gzip input into zstd output, a DLQ
replay, a pipeline where one sink gets the records a remap changed and
another the same records untouched, and `redact`, which writes only the
records it found personal data in. Untouched lines come out byte for byte
(the blanks around a line and its "\\r" aside); changed ones are encoded.
"""
import gzip
import json
import subprocess

import harness

# Odd but valid lines: exponent and negative-zero numbers, escapes the
# encoder would write otherwise, spacing inside the object.
ODD = [
    b'{"n":1e3, "z" : -0.0,"s":"caf\\u00e9","id":1}',
    b'{ "s" : "a\\/b\\t\\u0041" ,"f":1.50,"big":18446744073709551615,"id":2 }',
    b'{"k\\u0065y":[1 , 2,{ }],"d":1.0E-7,"id":3}',
]


def pipeline(work, name, source, body):
    return work.write(name, """\
data_dir: %s
checkpoint: {enabled: false}
sources:
  in: %s
%s
dlq: {path: %s}
""" % (work("state-" + name), source, body, work("dlq-" + name)))


def run_ok(args, stdin=None):
    proc = harness.run(args, input=stdin)
    assert proc.returncode == 0, harness.text(proc.stdout) + harness.text(proc.stderr)
    return proc


def test_stdin_to_stdout_byte_for_byte(work):
    lines = [b"  " + ODD[0] + b" \r", ODD[1] + b"\t", ODD[2]] * 200
    p = pipeline(work, "s.yaml", "{type: stdin, wal: {enabled: false}}",
                 "sinks:\n  out: {type: stdout, inputs: [in]}\n")
    proc = run_ok(["run", "--no-progress", p], stdin=b"\n".join(lines) + b"\n")
    assert proc.stdout == b"".join(ODD[i % 3] + b"\n" for i in range(600)), proc.stdout[:300]


def test_gzip_in_zstd_out(work):
    path = work("in.jsonl.gz")
    with gzip.open(path, "wb") as f:
        f.write(b"\n".join(ODD * 1000) + b"\n")
    p = pipeline(work, "g.yaml", "{type: file, paths: [%s]}" % path,
                 "sinks:\n  out: {type: file, inputs: [in], path: %s, delivery: at_least_once}\n"
                 % work("out.jsonl.zst"))
    run_ok(["run", "--no-progress", p])
    out = subprocess.run(["zstd", "-dc", work("out.jsonl.zst")], capture_output=True, check=True).stdout
    assert out == b"\n".join(ODD * 1000) + b"\n", out[:300]


def test_changed_and_untouched_side_by_side(work):
    path = work.write("in.jsonl", b"\n".join(ODD) + b"\n")
    p = pipeline(work, "c.yaml", "{type: file, paths: [%s]}" % path, """\
transforms:
  tag: {type: remap, inputs: [in], set: {x: '"y"'}}
sinks:
  changed: {type: file, inputs: [tag], path: %s, delivery: at_least_once}
  untouched: {type: file, inputs: [in], path: %s, delivery: at_least_once}
""" % (work("changed.jsonl"), work("untouched.jsonl")))
    run_ok(["run", "--no-progress", p])
    with open(work("untouched.jsonl"), "rb") as f:
        assert f.read() == b"\n".join(ODD) + b"\n"
    with open(work("changed.jsonl"), "rb") as f:
        changed = f.read()
    # encoded: numbers keep their text, strings are unescaped, no spacing
    assert changed == (b'{"n":1e3,"z":-0.0,"s":"caf\xc3\xa9","id":1,"x":"y"}\n'
                       b'{"s":"a/b\\tA","f":1.50,"big":18446744073709551615,"id":2,"x":"y"}\n'
                       b'{"key":[1,2,{}],"d":1.0E-7,"id":3,"x":"y"}\n'), changed


def test_dlq_replay_writes_the_original_lines(work):
    # a filter cannot compare the string `v`: those records go to the DLQ
    lines = [ODD[0][:-1] + b',"v":"seven"}', ODD[1][:-1] + b',"v":2}', ODD[2][:-1] + b',"v":"x" }']
    path = work.write("in.jsonl", b"\n".join(lines) + b"\n")
    body = "transforms:\n  keep: {type: filter, inputs: [in], condition: '.v > 1'}\n" \
           "sinks:\n  out: {type: file, inputs: [keep], path: %s, delivery: at_least_once}\n"
    run_ok(["run", "--no-progress", pipeline(work, "b.yaml", "{type: file, paths: [%s]}" % path,
                                             body % work("out1.jsonl"))])
    entries = harness.read_jsonl(work("dlq-b.yaml", "dlq.jsonl"))
    assert [e["raw"].encode() for e in entries] == [lines[0], lines[2]], entries
    # the fixed pipeline replays them and writes them as they came
    fixed = "sinks:\n  out: {type: file, inputs: [in], path: %s, delivery: at_least_once}\n"
    run_ok(["run", "--no-progress", pipeline(work, "r.yaml", "{type: dlq, path: %s}"
                                             % work("dlq-b.yaml", "dlq.jsonl"), fixed % work("out2.jsonl"))])
    with open(work("out2.jsonl"), "rb") as f:
        assert f.read() == lines[0] + b"\n" + lines[2] + b"\n"


def test_redact_keeps_records_without_personal_data(work):
    # redact looks at every record; one it found nothing in is written as it
    # came (fields named, and every string of the record), one with a hit
    # is encoded, redacted
    pii = b'{"id": 4, "text" : "mail bob@example.com now", "n":1.50}'
    path = work.write("in.jsonl", b"\n".join(ODD + [pii]) + b"\n")
    for name, fields in (("named", ", fields: [text, s]"), ("every", "")):
        out = work(name + ".jsonl")
        body = "transforms:\n  scrub: {type: redact, inputs: [in]%s}\n" \
               "sinks:\n  out: {type: file, inputs: [scrub], path: %s, delivery: at_least_once}\n" % (fields, out)
        run_ok(["run", "--no-progress", pipeline(work, name + ".yaml", "{type: file, paths: [%s]}" % path, body)])
        with open(out, "rb") as f:
            got = f.read()
        assert got == b"\n".join(ODD) + b'\n{"id":4,"text":"mail [EMAIL] now","n":1.50}\n', (name, got)


if __name__ == "__main__":
    harness.main([test_stdin_to_stdout_byte_for_byte, test_gzip_in_zstd_out,
                  test_changed_and_untouched_side_by_side, test_dlq_replay_writes_the_original_lines,
                  test_redact_keeps_records_without_personal_data])
