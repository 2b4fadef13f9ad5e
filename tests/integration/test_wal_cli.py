"""`sluice wal inspect|verify` on logs written here by an independent Python
implementation of the documented segment format (src/core/wal.h), so the
format itself is checked, not just round-tripped by the same code.
"""
import os
import struct

import harness


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def segment(first, payloads):
    out = bytearray(b"SLWAL001" + struct.pack("<Q", first))
    for i, p in enumerate(payloads):
        seq = struct.pack("<Q", first + i)
        out += struct.pack("<II", len(p), crc32c(seq + p)) + seq + p
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


def test_usage_errors(work):
    assert harness.run(["wal"]).returncode == 2
    assert harness.run(["wal", "frob", work.path]).returncode == 2
    proc = harness.run(["wal", "inspect", work("nope")])
    assert proc.returncode == 2 and "nope" in harness.text(proc.stderr)


if __name__ == "__main__":
    harness.main([test_inspect_counts_records, test_verify_finds_damage, test_usage_errors])
