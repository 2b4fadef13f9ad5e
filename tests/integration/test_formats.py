"""Input and output formats through the real binary: CSV with typed columns,
gzip and zstd input, text lines, stdin, CSV and compressed output, oversized
records, and the Lua example.
"""
import csv
import decimal
import gzip
import json
import os
import shutil
import subprocess

import harness


def test_csv_orders_example(work):
    shutil.copytree(os.path.join(harness.REPO, "examples"), work("examples"))
    proc = harness.run(["run", "--no-progress", "examples/csv-orders.yaml"], cwd=work.path)
    assert proc.returncode == 0, harness.text(proc.stderr)
    expected, bad = [], 0
    with open(work("examples/data/orders.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if None in row:          # more cells than columns ("12,50" unquoted)
                bad += 1
                continue
            try:
                amount = decimal.Decimal(row["amount"])
            except decimal.InvalidOperation:
                bad += 1
                continue
            if row["paid"] == "true" and amount >= 10:
                expected.append(row)
    with gzip.open(work("out/csv-orders/paid-orders.jsonl.gz"), "rt") as f:
        got = [json.loads(line, parse_float=decimal.Decimal) for line in f]
    assert len(got) == len(expected), (len(got), len(expected))
    for g, e in zip(got, expected):
        assert g["order_id"] == int(e["order_id"]) and g["amount"] == decimal.Decimal(e["amount"]), (g, e)
        assert g["paid"] is True and g["customer"] == e["customer"] and g["note"] == e["note"], (g, e)
        assert g["created_at"] == e["created_at"], (g, e)   # timestamps print back as RFC 3339
    dlq = harness.read_jsonl(work("out/csv-orders/dlq/dlq.jsonl"))
    assert len(dlq) == bad, (len(dlq), bad)
    for d in dlq:
        assert (d["reason"] == "csv_type" and 'column "amount"' in d["message"]) or d["reason"] == "csv_columns", d


PASS = """\
data_dir: {dir}/state
sources:
  in: {{type: {type}, {src}}}
sinks:
  out: {{type: file, inputs: [in], path: "{out}"{sink}}}
"""


def lines_of(n):
    return b"".join(b'{"i":%d,"s":"x\\u00e9\\n","f":1.50}\n' % i for i in range(n))


def test_compressed_inputs_match_plain(work):
    data = lines_of(20000)
    work.write("in.jsonl", data)
    with gzip.open(work("in.jsonl.gz"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(work("in.jsonl.gz"), "ab") as f:            # a second gzip member
        f.write(gzip.compress(data[len(data) // 2:]))
    subprocess.run(["zstd", "-q", "-f", work("in.jsonl"), "-o", work("in.jsonl.zst")], check=True)
    for name in ("in.jsonl", "in.jsonl.gz", "in.jsonl.zst"):
        out = work(name + ".out")
        cfg = work.write(name + ".yaml", PASS.format(dir=work.path, type="file", src='paths: ["%s"]' % work(name),
                                                     out=out, sink=""))
        proc = harness.run(["run", "--no-progress", cfg])
        assert proc.returncode == 0, harness.text(proc.stderr)
        with open(out, "rb") as f:
            got = f.read()
        # Escaped strings are re-encoded (\u00e9 becomes UTF-8 é), so compare
        # values exactly; numbers keep their text ("1.50" stays "1.50").
        assert got.count(b'"f":1.50}') == 20000, name
        assert [json.loads(l) for l in got.splitlines()] == [json.loads(l) for l in data.splitlines()], name


def test_truncated_gzip_is_reported_not_silent(work):
    data = gzip.compress(lines_of(5000))
    work.write("cut.jsonl.gz", data[: len(data) // 2])
    cfg = work.write("cut.yaml", PASS.format(dir=work.path, type="file", src='paths: ["%s"]' % work("cut.jsonl.gz"),
                                             out=work("o.jsonl"), sink=""))
    proc = harness.run(["run", "--no-progress", cfg])
    dlq = harness.read_jsonl(work("state/dlq/dlq.jsonl"))
    assert any(d["reason"] == "read_error" for d in dlq), (dlq, harness.text(proc.stderr))
    assert "cut.jsonl.gz" in harness.text(proc.stderr)


def test_stdin_text_and_compressed_output(work):
    text = "".join("line %d with \"quotes\"\n" % i for i in range(3000))
    cfg = work.write("t.yaml", PASS.format(dir=work.path, type="stdin", src="format: text",
                                           out=work("t.jsonl.zst"), sink=""))
    proc = harness.run(["run", "--no-progress", cfg], input=text.encode())
    assert proc.returncode == 0, harness.text(proc.stderr)
    raw = subprocess.run(["zstd", "-dc", work("t.jsonl.zst")], capture_output=True, check=True).stdout
    got = [json.loads(l) for l in raw.splitlines()]
    assert got == [{"message": l} for l in text.splitlines()], got[:3]


def test_csv_output(work):
    work.write("in.jsonl", '{"a":1,"b":"x,y","c":null}\n{"a":2,"b":"say \\"hi\\"","c":true}\n')
    cfg = work.write("c.yaml", PASS.format(dir=work.path, type="file", src='paths: ["%s"]' % work("in.jsonl"),
                                           out=work("o.csv"), sink=", format: csv"))
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    with open(work("o.csv"), newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["a", "b", "c"], ["1", "x,y", ""], ["2", 'say "hi"', "true"]], rows


def test_oversized_record_goes_to_dlq(work):
    big = b'{"big":"' + b"x" * 5000 + b'"}\n'
    work.write("in.jsonl", b'{"i":1}\n' + big + b'{"i":2}\n')
    cfg = work.write("o.yaml", PASS.format(dir=work.path, type="file",
                                           src='paths: ["%s"], max_record_bytes: 1KiB' % work("in.jsonl"),
                                           out=work("o.jsonl"), sink=""))
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert harness.read_jsonl(work("o.jsonl")) == [{"i": 1}, {"i": 2}]
    dlq = harness.read_jsonl(work("state/dlq/dlq.jsonl"))
    assert [d["reason"] for d in dlq] == ["record_too_large"], dlq
    assert dlq[0]["position"]["offset"] == len(b'{"i":1}\n'), dlq


def test_lua_example(work):
    shutil.copytree(os.path.join(harness.REPO, "examples"), work("examples"))
    proc = harness.run(["run", "--no-progress", "examples/lua-mask.yaml"], cwd=work.path)
    assert proc.returncode == 0, harness.text(proc.stderr)
    got = harness.read_jsonl(work("out/lua-mask/sample.jsonl"))
    assert 250 <= len(got) <= 750, len(got)        # 1 in 10 of 5000, by hash
    for r in got:
        assert r["user"]["email"].startswith("***@"), r
        assert "prompt" not in r and isinstance(r["prompt_words"], int) and r["prompt_words"] > 0, r
        assert list(r)[:3] == ["ts", "level", "service"], list(r)    # field order kept


if __name__ == "__main__":
    harness.main([test_csv_orders_example, test_compressed_inputs_match_plain, test_truncated_gzip_is_reported_not_silent,
                  test_stdin_text_and_compressed_output, test_csv_output, test_oversized_record_goes_to_dlq,
                  test_lua_example])
