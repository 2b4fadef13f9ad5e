"""`sluice wal inspect|verify` on logs written here by an independent Python
implementation of the documented segment format (src/core/wal.h), so the
format itself is checked, not just round-tripped by the same code; and
`sluice wal bench`: its table, and that it never writes into an existing log.
"""
import os
import struct

import harness



def segment(first, payloads):
    out = bytearray(b"SLWAL001" + struct.pack("<Q", first))
    for i, p in enumerate(payloads):
        seq = struct.pack("<Q", first + i)
        out += struct.pack("<II", len(p), harness.crc32c(seq + p)) + seq + p
    return bytes(out)


def write_log(work):
    os.makedirs(work("wal"))
    a = [b"event %d" % i for i in range(10)]
    b = [b"event %d" % i for i in range(10, 25)]
    work.write("wal/%020d.wal" % 0, segment(0, a))
    work.write("wal/%020d.wal" % 10, segment(10, b))


def test_inspect_counts_records(work):
    write_log(work)
    proc = harness.run(["wal", "inspect", work("wal")])
    out = harness.text(proc.stdout)
    assert proc.returncode == 0, out + harness.text(proc.stderr)
    assert "2 segments, 25 valid records" in out and "0 damaged" in out, out
    assert proc.stdout.count(b" ok\n") == 2, out
    assert harness.run(["wal", "verify", work("wal")]).returncode == 0


def test_verify_finds_damage(work):
    write_log(work)
    path = work("wal/%020d.wal" % 0)
    data = bytearray(open(path, "rb").read())
    data[60] ^= 0x01                                   # inside the third record
    open(path, "wb").write(bytes(data))
    proc = harness.run(["wal", "verify", work("wal")])
    out = harness.text(proc.stdout)
    assert proc.returncode == 1, out
    assert "%020d.wal" % 0 in out and "corrupt record" in out and "quarantined" in out, out
    assert "1 damaged" in out, out
    # a torn tail in the newest segment
    with open(work("wal/%020d.wal" % 10), "ab") as f:
        f.write(b"\x05\x00\x00")
    out = harness.text(harness.run(["wal", "inspect", work("wal")]).stdout)
    assert "truncated record" in out and "torn tail" in out, out


BENCH_COLUMNS = ["sync", "threads", "records", "record B", "seconds", "records/s", "MB/s", "fsyncs",
                 "fsync p50 ms", "fsync p99 ms", "fsync max ms"]


def bench(args):
    """Runs `wal bench`; returns (process, {column: value}) from its table."""
    proc = harness.run(["wal", "bench"] + args)
    lines = harness.text(proc.stdout).splitlines()
    if proc.returncode != 0:
        return proc, None
    assert len(lines) == 2, lines
    for column in BENCH_COLUMNS:
        assert column in lines[0], (column, lines[0])
    values = lines[1].split()
    assert len(values) == 11, lines
    return proc, dict(zip(["sync", "threads", "records", "record_bytes", "seconds", "records_s", "mb_s",
                           "fsyncs", "p50", "p99", "max"], [values[0]] + [float(v) for v in values[1:]]))


def test_bench_each_policy(work):
    proc, row = bench(["--sync", "always", "--records", "200", "--record-bytes", "64", "--threads", "4",
                       work("new")])
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert row["sync"] == "always" and row["records"] == 200 and row["threads"] == 4, row
    assert row["record_bytes"] == 64 and row["records_s"] > 0 and row["mb_s"] > 0, row
    assert 1 <= row["fsyncs"] <= 200, row                 # concurrent appenders may share one
    assert 0 < row["p50"] <= row["p99"] <= row["max"], row
    assert not os.path.exists(work("new")), "bench created the directory, so it must remove it"

    proc, row = bench(["--sync", "group_commit_ms:2", "--records", "120", "--threads", "12", work("new")])
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert row["records"] == 120 and row["record_bytes"] == 256 and 1 <= row["fsyncs"] <= 120, row

    proc, row = bench(["--sync=os", "--records=500", work("new")])
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert row["records"] == 500 and row["fsyncs"] == 0 and row["p99"] == 0, row


def test_bench_keeps_what_it_did_not_create(work):
    os.makedirs(work("mine"))
    work.write("mine/notes.txt", "not a WAL segment")
    proc, row = bench(["--sync", "os", "--records", "30", "--threads", "3", work("mine")])
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert "left in" in harness.text(proc.stderr), harness.text(proc.stderr)
    out = harness.text(harness.run(["wal", "inspect", work("mine")]).stdout)
    assert "1 segment, 30 valid records" in out, out
    assert os.path.exists(work("mine/notes.txt"))


def test_bench_refuses_a_log(work):
    write_log(work)
    before = sorted(os.listdir(work("wal")))
    sizes = [os.path.getsize(work("wal", n)) for n in before]
    proc = harness.run(["wal", "bench", "--records", "10", work("wal")])
    err = harness.text(proc.stderr)
    assert proc.returncode == 2, err
    assert "already holds 2 WAL segments" in err, err
    assert sorted(os.listdir(work("wal"))) == before
    assert [os.path.getsize(work("wal", n)) for n in before] == sizes


def test_usage_errors(work):
    assert harness.run(["wal"]).returncode == 2
    assert harness.run(["wal", "frob", work.path]).returncode == 2
    proc = harness.run(["wal", "inspect", work("nope")])
    assert proc.returncode == 2 and "nope" in harness.text(proc.stderr)
    for args in (["--sync", "sometimes"], ["--sync", "group_commit_ms:0"], ["--records", "0"],
                 ["--records", "ten"], ["--record-bytes", "1tb"], ["--threads", "0"], ["--frob", "1"]):
        proc = harness.run(["wal", "bench"] + args + [work("b")])
        assert proc.returncode == 2 and "sluice help wal" in harness.text(proc.stderr), (args, proc.stderr)
    assert harness.run(["wal", "bench"]).returncode == 2
    work.write("file", "x")
    assert harness.run(["wal", "bench", work("file")]).returncode == 2
    assert not os.path.exists(work("b"))


if __name__ == "__main__":
    harness.main([test_inspect_counts_records, test_verify_finds_damage, test_bench_each_policy,
                  test_bench_keeps_what_it_did_not_create, test_bench_refuses_a_log, test_usage_errors])
