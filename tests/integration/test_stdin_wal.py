"""stdin through its write-ahead log: input sluice acknowledged (logged and
durable) survives crashes and is delivered exactly once.

The kill loop pipes records into sluice's stdin (stdin -> remap -> file sink,
exactly_once), SIGKILLs it at random moments, and restarts it. Each restart
says, before it reads stdin, how much of the input its log holds ("standard
input continues input stream 1 at byte B"); the producer resends from byte B,
as a producer that keeps its input would. Checked: B never goes back and
always covers what the previous run's metrics said was acknowledged
(sluice_stdin_wal_bytes_total), and the final output equals an uninterrupted
run's: every record once, in order, and the DLQ too.

Also: a restart replays logged records no checkpoint covers, `--from-start`
discards the log, a graceful stop leaves logged input to the next run, a
SIGHUP reload continues standard input in the same process, a CSV header
survives a resume in the middle of the input, compressed input is
decompressed once (the logged bytes are not taken for compressed data
again), and `wal.enabled: false` or
`checkpoint.enabled: false` run without the log.
"""
import glob
import gzip
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import urllib.request

from harness import SLUICE, free_port, main, run, text

SEED = 20261125
RECORDS = 60_000
KILLS = 12
RESUMED = re.compile(r"(\d+) bytes logged earlier to replay; standard input continues input stream (\d+) at byte (\d+)")

PIPELINE = """
data_dir: {dir}/state-{out}
workers: 2
batch: {{max_records: 256}}
checkpoint: {{interval: {interval}}}
api: {{address: "127.0.0.1:{port}"}}
sources:
  piped:
    type: stdin
    {source}
transforms:
  shape:
    type: remap
    inputs: [piped]
    set: {{double: ".n * 2", tag: '"k"'}}
sinks:
  out:
    type: file
    inputs: [shape]
    path: {dir}/{out}/events.jsonl
"""


def config(work, out, interval="20ms", source="wal: {segment_bytes: 64KiB}", port=None):
    return work.write("p-%s.yaml" % out, PIPELINE.format(dir=work.path, out=out, interval=interval, source=source,
                                                         port=port or free_port()))


def make_input():
    """Records of varied lengths, 1 % of them broken (for the DLQ)."""
    rng = random.Random(SEED)
    lines = []
    for n in range(RECORDS):
        if rng.random() < 0.01:
            lines.append(b'{"n": %d, "broken": \n' % n)
        else:
            lines.append(json.dumps({"n": n, "msg": "m" * rng.randrange(1, 120)}).encode() + b"\n")
    return lines


def output(work, out):
    path = work(out, "events.jsonl")
    if not os.path.exists(path):
        return b""
    with open(path, "rb") as f:
        return f.read()


def dlq(work, out):
    entries = []
    for path in glob.glob(work("state-" + out, "dlq", "dlq.jsonl")):
        with open(path) as f:
            entries += [json.loads(line) for line in f]
    return entries


def start(cfg, err_path, args=()):
    return subprocess.Popen([SLUICE, "run", "--no-progress"] + list(args) + [cfg], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=open(err_path, "wb"))


def resume_point(err_path, proc, timeout=60):
    """(bytes to replay, stream, byte) from the start-up line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(err_path, "rb") as f:
            m = RESUMED.search(text(f.read()))
        if m:
            return tuple(int(g) for g in m.groups())
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    with open(err_path, "rb") as f:
        raise AssertionError("no start-up line from the stdin source:\n" + text(f.read()))


def acknowledged(port):
    """sluice_stdin_wal_bytes_total, or None when the API does not answer."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            m = re.search(r'^sluice_stdin_wal_bytes_total\{component="piped"\} (\d+)$', r.read().decode(), re.M)
            return int(m.group(1)) if m else None
    except OSError:
        return None


class Producer(threading.Thread):
    """Writes data into a process's stdin in random chunks until it is done
    or the process dies."""

    def __init__(self, proc, data, rng, close=False):
        super().__init__(daemon=True)
        self.proc, self.data, self.close = proc, data, close
        self.sizes = [rng.randrange(1, 32 * 1024) for _ in range(len(data) // 1024 + 2)]
        self.sent = 0

    def run(self):
        try:
            i = 0
            while self.sent < len(self.data):
                n = self.sizes[i % len(self.sizes)]
                i += 1
                self.proc.stdin.write(self.data[self.sent:self.sent + n])
                self.proc.stdin.flush()
                self.sent = min(len(self.data), self.sent + n)
                time.sleep(0.001)
            if self.close:
                self.proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass


def test_kill_loop_stdin_exactly_once(work):
    lines = make_input()
    data = b"".join(lines)
    starts = {0}
    at = 0
    for line in lines:
        at += len(line)
        starts.add(at)

    ref = run(["run", "--no-progress", config(work, "ref")], input=data)
    assert ref.returncode == 0, text(ref.stderr)
    expected = output(work, "ref")
    expected_dlq = sorted((e["raw"], e["reason"]) for e in dlq(work, "ref"))
    assert expected.count(b"\n") == RECORDS - len(expected_dlq) and len(expected_dlq) > 300

    rng = random.Random(SEED)
    port = free_port()
    cfg = config(work, "out", port=port)
    # Kill moments: random points of the input the producer has sent, plus a
    # random few milliseconds. A restart may already be past its target: it
    # is then killed right after start-up.
    targets = sorted(rng.uniform(0.03, 0.85) * len(data) for _ in range(KILLS))
    acked, killed_mid_input = 0, 0
    for k, target in enumerate(targets):
        err = work("err-%d.txt" % k)
        proc = start(cfg, err)
        _, stream, byte = resume_point(err, proc)
        assert stream == 1, "the input stream ended early: %s" % text(open(err, "rb").read())
        assert byte in starts, "byte %d is not between two records" % byte
        assert byte >= acked, "run %d: the log holds %d bytes, but %d were acknowledged" % (k, byte, acked)
        producer = Producer(proc, data[byte:], rng)
        producer.start()
        deadline = time.monotonic() + 60
        while byte + producer.sent < target and producer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.01))
        logged = acknowledged(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        producer.join(30)
        assert proc.returncode == -signal.SIGKILL, "run %d ended by itself: %s" % (k, text(open(err, "rb").read()))
        if logged is not None:
            acked = byte + logged
        killed_mid_input += byte + producer.sent < len(data)
    assert killed_mid_input >= KILLS - 2, "only %d runs were killed while reading input" % killed_mid_input

    err = work("err-final.txt")
    proc = start(cfg, err)
    _, stream, byte = resume_point(err, proc)
    assert stream == 1 and byte >= acked and byte in starts, (stream, byte, acked)
    producer = Producer(proc, data[byte:], rng, close=True)
    producer.start()
    assert proc.wait(timeout=120) == 0, text(open(err, "rb").read())
    producer.join(30)

    got = output(work, "out")
    assert not glob.glob(work("out", ".*inprogress")), "unpublished parts were left behind"
    got_lines, expected_lines = got.split(b"\n"), expected.split(b"\n")
    assert len(got_lines) == len(expected_lines), (
        "%d records expected, %d written after %d kills (%d missing)" %
        (len(expected_lines) - 1, len(got_lines) - 1, KILLS, len(set(expected_lines) - set(got_lines))))
    assert got == expected, "same records, but not in the same order"
    assert sorted((e["raw"], e["reason"]) for e in dlq(work, "out")) == expected_dlq, \
        "DLQ entries were lost or duplicated"
    # Checkpoints released the segments they cover.
    segments = glob.glob(work("state-out", "wal", "piped", "*.wal"))
    assert segments and not any(s.endswith("00000000000000000000.wal") for s in segments), segments
    assert sum(os.path.getsize(s) for s in segments) < len(data) / 2, segments


def wait_logged(port, n, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if acknowledged(port) == n:
            return
        time.sleep(0.01)
    raise AssertionError("sluice did not acknowledge %d bytes (got %s)" % (n, acknowledged(port)))


def test_restart_replays_what_no_checkpoint_covers(work):
    lines = [b'{"n": %d}\n' % i for i in range(1000)]
    data = b"".join(lines)
    port = free_port()
    cfg = config(work, "out", interval="1h", port=port)

    # Only the starting checkpoint is taken: everything logged is uncovered.
    proc = start(cfg, work("err-1.txt"))
    proc.stdin.write(data + b'{"n": "partial')
    proc.stdin.flush()
    wait_logged(port, len(data), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert output(work, "out") == b"", "records were published without a checkpoint"

    again = run(["run", "--no-progress", cfg], input=b"")
    assert again.returncode == 0, text(again.stderr)
    replayed, stream, byte = map(int, RESUMED.search(text(again.stderr)).groups())
    assert (replayed, stream, byte) == (len(data), 1, len(data)), text(again.stderr)
    assert output(work, "out").count(b"\n") == 1000
    assert [json.loads(x)["n"] for x in output(work, "out").splitlines()] == list(range(1000))

    # The input ended: the next run starts a new stream and replays nothing.
    third = run(["run", "--no-progress", cfg], input=b'{"n": 1000}\n')
    assert third.returncode == 0, text(third.stderr)
    assert RESUMED.search(text(third.stderr)).groups() == ("0", "2", "0"), text(third.stderr)
    assert output(work, "out").count(b"\n") == 1001

    # --from-start discards what the log holds and starts a new generation.
    proc = start(cfg, work("err-4.txt"))
    lost = b'{"n": 5000}\n'
    proc.stdin.write(lost)
    proc.stdin.flush()
    wait_logged(port, len(lost), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fresh = run(["run", "--no-progress", "--from-start", cfg], input=b'{"n": 6000}\n')
    assert fresh.returncode == 0, text(fresh.stderr)
    assert "discarding the write-ahead log" in text(fresh.stderr), text(fresh.stderr)
    assert RESUMED.search(text(fresh.stderr)).groups() == ("0", "1", "0"), text(fresh.stderr)
    got = [json.loads(x)["n"] for x in output(work, "out").splitlines()]
    assert got == list(range(1001)) + [6000], got[-3:]


def test_graceful_stop_leaves_logged_input_to_the_next_run(work):
    lines = [b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * 150) for i in range(100_000)]
    data = b"".join(lines)
    full = data + b'{"n": 100000}\n'
    cut = len(data) + 5                   # stop in the middle of the last record
    port = free_port()
    cfg = config(work, "out", port=port)
    proc = start(cfg, work("err-1.txt"))
    resume_point(work("err-1.txt"), proc)
    proc.stdin.write(full[:cut])
    proc.stdin.flush()
    wait_logged(port, len(data), proc)   # the incomplete record after it is read too
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, text(open(work("err-1.txt"), "rb").read())
    first = output(work, "out").count(b"\n")

    # The next run replays what was logged and not processed (the incomplete
    # record included), then reads the rest of the input from where the log
    # ends.
    proc = start(cfg, work("err-2.txt"))
    _, stream, byte = resume_point(work("err-2.txt"), proc)
    assert (stream, byte) == (1, cut), (stream, byte, cut)
    proc.stdin.write(full[byte:])
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0, text(open(work("err-2.txt"), "rb").read())
    got = [json.loads(x)["n"] for x in output(work, "out").splitlines()]
    assert got == list(range(100_001)), (first, len(got))
    assert dlq(work, "out") == []


def test_reload_continues_standard_input(work):
    """SIGHUP stops the pipeline and starts the new one in the same process:
    what the old one read (an incomplete record included) goes through the
    log, and standard input goes on where it was."""
    data = b"".join(b'{"n": %d}\n' % i for i in range(100_000))
    cfg = config(work, "out", interval="50ms")
    err = work("err.txt")
    proc = start(cfg, err)
    sent, reloads = 0, 0
    while sent < len(data):
        proc.stdin.write(data[sent:sent + 7919])   # chunks end in the middle of records
        proc.stdin.flush()
        sent += 7919
        time.sleep(0.002)
        if reloads < 3 and sent > (reloads + 1) * len(data) // 4:
            # The pipe (up to 1 MiB) does not pace this writer: before each
            # SIGHUP, wait until the running pipeline reads standard input
            # (a SIGHUP during a reload is ignored as "already under way").
            deadline = time.monotonic() + 60
            while len(RESUMED.findall(text(open(err, "rb").read()))) <= reloads and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGHUP)
            reloads += 1
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0, text(open(err, "rb").read())
    log = text(open(err, "rb").read())
    assert log.count("reloaded") == 3 and len(RESUMED.findall(log)) == 4, log
    assert [json.loads(x)["n"] for x in output(work, "out").splitlines()] == list(range(100_000))
    assert dlq(work, "out") == []


CSV_SOURCE = """format: csv
    csv: {columns: {n: int, price: float}}
    wal: {segment_bytes: 64KiB}"""


def test_csv_header_survives_a_resume(work):
    rows = [b"n,price,name\n"] + [b"%d,%d.5,row%d\n" % (i, i, i) for i in range(20_000)]
    data = b"".join(rows)
    port = free_port()
    cfg = config(work, "out", port=port, source=CSV_SOURCE)
    proc = start(cfg, work("err-1.txt"))
    proc.stdin.write(data[:len(data) // 2])
    proc.stdin.flush()
    # Wait until a checkpoint covers records, so the restart resumes past the header.
    deadline = time.monotonic() + 30
    while output(work, "out").count(b"\n") < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    published = output(work, "out").count(b"\n")
    assert published >= 1000, published

    proc = start(cfg, work("err-2.txt"))
    _, stream, byte = resume_point(work("err-2.txt"), proc)
    assert stream == 1 and byte > len(rows[0]), byte
    proc.stdin.write(data[byte:])
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0, text(open(work("err-2.txt"), "rb").read())
    got = [json.loads(x) for x in output(work, "out").splitlines()]
    assert [r["n"] for r in got] == list(range(20_000)), len(got)
    assert all(r["price"] == r["n"] + 0.5 and r["name"] == "row%d" % r["n"] for r in got), got[published:][:3]
    assert dlq(work, "out") == []


def test_compressed_input_is_decompressed_once(work):
    # The log holds standard input decompressed; the source's thread reads
    # those bytes as they are, even when they begin like gzip (1f 8b).
    cfg = config(work, "gz")
    r = run(["run", "--no-progress", cfg], input=gzip.compress(b'\x1f\x8b\x08\n{"n": 1}\n{"n": 2}\n'))
    assert r.returncode == 0, text(r.stderr)
    assert "corrupt gzip" not in text(r.stderr), text(r.stderr)
    got = [json.loads(x) for x in output(work, "gz").splitlines()]
    assert [g["double"] for g in got] == [2, 4], got
    assert [e["reason"] for e in dlq(work, "gz")] == ["json_utf8"], dlq(work, "gz")


def test_without_the_log(work):
    # Without its log stdin would turn checkpoints off for the whole
    # pipeline: `check` and `run` refuse, naming it, why and the way out...
    refused = config(work, "refused", source="wal: {enabled: false}")
    for args in (["check", refused], ["run", "--no-progress", refused]):
        r = run(args, input=b'{"n": 1}\n')
        err = text(r.stderr)
        assert r.returncode != 0, err
        assert "p-refused.yaml:" in err and "source 'piped' (stdin) cannot take part in checkpoints" in err, err
        assert "wal.enabled: true" in err and "checkpoint: {required: false}" in err, err
    assert not os.path.exists(work("refused"))
    # ...unless the config says so; the summary then says what it costs.
    off = config(work, "off", source="wal: {enabled: false}", interval="20ms, required: false")
    r = run(["run", "--no-progress", off], input=b'{"n": 1}\n')
    assert r.returncode == 0, text(r.stderr)
    assert "source 'piped' (stdin) cannot take part" in text(r.stderr), text(r.stderr)
    assert "delivery across crashes: out none (checkpoints are off)" in text(r.stdout + r.stderr), text(r.stdout)
    checked = run(["check", off])
    assert checked.returncode == 0 and "delivery across crashes: out none" in text(checked.stdout), text(checked.stdout)
    checked = run(["check", config(work, "on")])
    assert "delivery across crashes: out exactly-once\n" in text(checked.stdout), text(checked.stdout)
    assert not os.path.exists(work("state-off", "wal")) and output(work, "off") == b'{"n":1,"double":2,"tag":"k"}\n'

    cfg = work.write("no-ckpt.yaml", PIPELINE.format(dir=work.path, out="nock", interval="1s", port=free_port(),
                                                     source="format: jsonl").replace(
        "checkpoint: {interval: 1s}", "checkpoint: {enabled: false}"))
    r = run(["run", "--no-progress", cfg], input=b'{"n": 2}\n')
    assert r.returncode == 0, text(r.stderr)
    assert not os.path.exists(work("state-nock", "wal")), "a log was written without checkpoints"
    assert output(work, "nock") == b'{"n":2,"double":4,"tag":"k"}\n'

    bad = run(["check", config(work, "bad", source="wal: {segment_bytes: 1KiB, group_commit: 0ms}")])
    assert bad.returncode != 0
    assert "wal.segment_bytes must be between" in text(bad.stderr) and \
        "wal.group_commit must be between" in text(bad.stderr), text(bad.stderr)


if __name__ == "__main__":
    main([test_kill_loop_stdin_exactly_once, test_restart_replays_what_no_checkpoint_covers,
          test_graceful_stop_leaves_logged_input_to_the_next_run, test_reload_continues_standard_input,
          test_csv_header_survives_a_resume, test_compressed_input_is_decompressed_once, test_without_the_log])
