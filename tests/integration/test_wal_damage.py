"""Damaged write-ahead log at start-up: sluice always starts, says what it
found, and delivers every record the damage left intact, exactly once.

A `stdin` source logs its input; sluice is killed before any checkpoint
covers it (checkpoint interval 1h), so a restart must replay it from the log.
Before each restart the log is damaged, from a pristine copy:

  - truncated at offsets throughout its last record (header bytes one by
    one, then through the payload): the torn tail is cut off and every
    earlier record is delivered;
  - a bit flipped inside an earlier record: the damage is reported and the
    records before it are delivered. (Records after a damaged record of the
    newest segment are not salvaged: the log cannot tell them from a torn
    tail. Damage in an older segment quarantines it with the records before
    the damage salvaged; tests/unit/test_core_wal.c covers that.)

The record framing is read here independently (tests/integration/test_wal_cli.py
writes it): u32 length, u32 CRC-32C, u64 sequence number, payload; the
stdin payload is 'D', u64 stream, u64 offset, then the input bytes.
"""
import glob
import json
import os
import re
import shutil
import signal
import struct
import urllib.request

from harness import free_port, main, run, text
from test_stdin_wal import config, output, start, wait_logged

HEADER = 16      # "SLWAL001" + u64 first sequence number
FRAME = 16       # u32 length + u32 crc + u64 sequence number


def records(segment):
    """(offset, total length, input bytes) of each record of a segment."""
    with open(segment, "rb") as f:
        data = f.read()
    out, at = [], HEADER
    while at + FRAME <= len(data):
        length, _crc, _seq = struct.unpack_from("<IIQ", data, at)
        payload = data[at + FRAME:at + FRAME + length]
        assert payload[:1] == b"D", "unexpected record kind %r" % payload[:1]
        out.append((at, FRAME + length, payload[17:]))
        at += FRAME + length
    return out


def logged_then_killed(work, cfg, port, chunks):
    """Runs sluice, feeds it the chunks one by one (each becomes at least one
    record), waits until everything is acknowledged, and kills it."""
    proc = start(cfg, work("err-first.txt"))
    sent = 0
    for chunk in chunks:
        proc.stdin.write(chunk)
        proc.stdin.flush()
        sent += len(chunk)
        wait_logged(port, sent, proc)
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        metrics = r.read().decode()

    def value(name):
        m = re.search(r'^%s\{component="piped"\} ([0-9.e+-]+)$' % name, metrics, re.M)
        assert m, "no %s in /metrics" % name
        return float(m.group(1))
    assert value("sluice_stdin_wal_fsyncs_total") >= len(chunks)     # sync: always
    assert value("sluice_stdin_wal_unsynced_bytes") == 0
    assert value("sluice_stdin_wal_fsync_p99_seconds") >= value("sluice_stdin_wal_fsync_p50_seconds") > 0
    assert value("sluice_stdin_wal_quarantined_segments") == 0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert output(work, "out") == b"", "records were published without a checkpoint"


def restart_and_read(work, cfg):
    r = run(["run", "--no-progress", cfg], input=b"")
    assert r.returncode == 0, "sluice did not start on a damaged log:\n" + text(r.stderr)
    got = [json.loads(line)["n"] for line in output(work, "out").splitlines()]
    return got, text(r.stderr)


def numbers(data):
    return [json.loads(line)["n"] for line in data.splitlines()]


def test_damaged_log_is_repaired_at_start(work):
    port = free_port()
    cfg = config(work, "out", interval="1h", port=port, source="wal: {sync: always}")
    chunks = [b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 50)) for i in range(k * 100, k * 100 + 100))
              for k in range(6)]
    logged_then_killed(work, cfg, port, chunks)

    segments = sorted(glob.glob(work("state-out", "wal", "piped", "*.wal")))
    assert len(segments) == 1, segments
    segment = segments[0]
    recs = records(segment)
    assert len(recs) >= 6, "expected a record per chunk, got %d" % len(recs)
    assert b"".join(r[2] for r in recs) == b"".join(chunks), "the log does not hold the input as sent"
    shutil.copytree(work("state-out"), work("pristine"))

    def fresh_copy():
        shutil.rmtree(work("state-out"))
        shutil.copytree(work("pristine"), work("state-out"))
        if os.path.exists(work("out")):
            shutil.rmtree(work("out"))

    # Truncated inside the last record: everything before it is delivered.
    last_at, last_len, _ = recs[-1]
    intact = numbers(b"".join(r[2] for r in recs[:-1]))
    cuts = list(range(last_at, last_at + FRAME + 2)) + list(range(last_at + FRAME + 2, last_at + last_len, 97))
    for cut in cuts:
        fresh_copy()
        os.truncate(segment, cut)
        got, stderr = restart_and_read(work, cfg)
        assert got == intact, "cut at byte %d: %d records delivered, %d intact" % (cut, len(got), len(intact))
        if cut > last_at:
            assert "torn" in stderr or "truncat" in stderr, "cut at %d not reported:\n%s" % (cut, stderr)

    # The whole log intact: everything is delivered once.
    fresh_copy()
    got, _ = restart_and_read(work, cfg)
    assert got == list(range(600))

    # A bit flipped in the third record: reported; the two before it are delivered.
    at, length, _ = recs[2]
    fresh_copy()
    with open(segment, "r+b") as f:
        f.seek(at + FRAME + length // 2)
        byte = f.read(1)
        f.seek(at + FRAME + length // 2)
        f.write(bytes([byte[0] ^ 0x10]))
    got, stderr = restart_and_read(work, cfg)
    assert got == numbers(recs[0][2] + recs[1][2]), "after a flipped bit: %d records delivered" % len(got)
    assert "wal" in stderr.lower() and ("damag" in stderr or "torn" in stderr or "corrupt" in stderr
                                        or "truncat" in stderr), stderr


if __name__ == "__main__":
    main([test_damaged_log_is_repaired_at_start])
