"""The runtime under stress: SIGTERM mid-run loses nothing that was read and
leaves complete output; a slow sink holds memory under the limit
(backpressure), whatever the input size; records keep their order.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

import harness

GEN = """\
data_dir: {dir}/state
memory_limit: {limit}
workers: 2
sources:
  gen: {{type: generate, count: {count}, seed: 3}}
sinks:
  out: {{type: file, inputs: [gen], path: "{out}"}}
"""


def start(args, **kw):
    env = dict(os.environ)
    # AddressSanitizer holds freed memory back (256 MB by default) to catch
    # use-after-free; keep that small so RSS reflects what sluice holds.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "detect_leaks=1") + ":quarantine_size_mb=4"
    return subprocess.Popen([harness.SLUICE] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kw)


def test_sigterm_drains_and_flushes(work):
    cfg = work.write("forever.yaml", GEN.format(dir=work.path, limit="64MiB", count=0, out=work("out.jsonl")))
    proc = start(["run", "--no-progress", cfg])
    harness.wait_for(lambda: os.path.exists(work("out.jsonl")) and os.path.getsize(work("out.jsonl")) > 2_000_000,
                     what="output to grow")
    code, _, err = harness.stop(proc, signal.SIGTERM)
    assert code == 0, harness.text(err)
    with open(work("out.jsonl"), "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), "last record is incomplete"
    got = data.splitlines()
    # The generator is deterministic: what was written must be exactly the
    # first N events of the same stream, in order, with no gap or duplicate.
    cfg2 = work.write("n.yaml", GEN.format(dir=work.path, limit="64MiB", count=len(got), out=work("ref.jsonl")))
    ref = harness.run(["run", "--no-progress", "--from-start", cfg2])
    assert ref.returncode == 0, harness.text(ref.stderr)
    with open(work("ref.jsonl"), "rb") as f:
        assert f.read().splitlines() == got


def test_sigterm_delivers_what_stdin_read(work):
    """stdin cannot be read twice: on SIGTERM every record sluice read from it
    must be written (and an incomplete last line goes to the DLQ). Without
    its write-ahead log; with it, see test_stdin_wal.py."""
    cfg = work.write("stdin.yaml", """\
data_dir: %s/state
checkpoint: {required: false}
sources:
  in: {type: stdin, wal: {enabled: false}}
sinks:
  out: {type: file, inputs: [in], path: "%s"}
""" % (work.path, work("out.jsonl")))
    proc = start(["run", "--no-progress", cfg], stdin=subprocess.PIPE)
    lines = [b'{"i":%d,"pad":"%s"}\n' % (i, b"x" * 200) for i in range(300_000)]
    try:
        for i in range(0, len(lines), 1000):
            proc.stdin.write(b"".join(lines[i:i + 1000]))
            if i == 150_000:
                proc.stdin.write(b'{"i":"partial')     # a record cut in the middle
                proc.stdin.flush()
                time.sleep(0.5)
                proc.send_signal(signal.SIGTERM)
                break
    except BrokenPipeError:
        pass
    proc.wait(timeout=60)          # stdin stays open: sluice stops on the signal, not on EOF
    err = proc.stderr.read()
    proc.stdin.close()
    assert proc.returncode == 0, harness.text(err)
    with open(work("out.jsonl"), "rb") as f:
        got = f.read().splitlines(keepends=True)
    assert got == lines[:len(got)], "output is not a prefix of the input"
    summary = harness.text(err)
    read = int(re.search(r"^in\s+source\s+stdin\s+(\d+)", summary, re.M).group(1))
    dlq = harness.read_jsonl(work("state/dlq/dlq.jsonl"))
    assert len(got) == 151_000, (len(got), summary)
    assert [d["reason"] for d in dlq] == ["incomplete_at_stop"] and dlq[0]["raw"] == '{"i":"partial', dlq
    assert read == len(got) + len(dlq), (read, len(got), dlq)


FILE_TO_FIFO = """\
data_dir: {out}-state
memory_limit: 16MiB
sources:
  big: {{type: file, paths: ["{input}"]}}
sinks:
  out: {{type: file, inputs: [big], path: "{out}", delivery: at_least_once}}   # a FIFO: no parts to rename
"""


def peak_rss_while_slowly_draining(work, count):
    """Makes a file of `count` events, then runs file -> file sink writing into
    a FIFO that is read slowly for a while; returns (peak RSS in MiB, the
    memory budget's peak in MiB as the run summary reports it)."""
    data = work("events-%d.jsonl" % count)
    made = harness.run(["run", "--no-progress", "--from-start", work.write("make-%d.yaml" % count, GEN.format(
        dir=work.path, limit="64MiB", count=count, out=data))])
    assert made.returncode == 0, harness.text(made.stderr)
    fifo = work("fifo-%d" % count)
    os.mkfifo(fifo)
    cfg = work.write("slow-%d.yaml" % count, FILE_TO_FIFO.format(dir=work.path, input=data, out=fifo))
    proc = start(["run", "--no-progress", cfg])
    received = [0, 0]

    def reader():
        with open(fifo, "rb") as f:
            slow_until = time.monotonic() + 3.0
            while True:
                chunk = f.read(64 * 1024)
                if not chunk:
                    return
                received[0] += len(chunk)
                received[1] += chunk.count(b"\n")
                if time.monotonic() < slow_until:
                    time.sleep(0.01)    # ~6 MB/s: far slower than the source

    t = threading.Thread(target=reader)
    t.start()
    peak = 0
    while proc.poll() is None:
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.05)
    _, err = proc.communicate()
    t.join()
    assert proc.returncode == 0, harness.text(err)
    assert received[1] == count, (received, count)
    budget = re.search(r"peak memory ([\d.]+) MiB of 16 MiB", harness.text(err))
    assert budget, harness.text(err)
    return peak / 1024, float(budget.group(1))


def test_slow_sink_backpressure_bounds_memory(work):
    small, small_budget = peak_rss_while_slowly_draining(work, 50_000)     # ~19 MB file
    large, large_budget = peak_rss_while_slowly_draining(work, 400_000)    # ~150 MB file
    print("peak RSS: %.1f MiB (19 MB file), %.1f MiB (150 MB file); in-flight data at most %.1f MiB of "
          "memory_limit 16 MiB" % (small, large, large_budget))
    # The budget (batches and encoded output in flight) is three quarters of
    # the limit: the last quarter is for the program and the allocator's free
    # memory, so that the process stays inside memory_limit.
    assert small_budget <= 12 and large_budget <= 12, (small_budget, large_budget)
    # Without backpressure the source would read most of the 150 MB while the
    # reader is slow. With it, memory does not depend on the input size.
    assert large < small + 12, (small, large)
    assert large < 16 + 64, large   # the limit plus the process's own (sanitizer-inflated) baseline


def test_many_workers_keep_order(work):
    cfg = work.write("order.yaml", GEN.format(dir=work.path, limit="64MiB", count=100_000, out=work("o.jsonl"))
                     .replace("workers: 2", "workers: 4").replace("data_dir:", "batch: {max_records: 100}\ndata_dir:"))
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    cfg1 = work.write("order1.yaml", GEN.format(dir=work.path, limit="64MiB", count=100_000, out=work("o1.jsonl"))
                      .replace("workers: 2", "workers: 1"))
    proc = harness.run(["run", "--no-progress", "--from-start", cfg1])   # not resuming the run above
    assert proc.returncode == 0, harness.text(proc.stderr)
    with open(work("o.jsonl"), "rb") as a, open(work("o1.jsonl"), "rb") as b:
        x, y = a.read(), b.read()
    assert x.count(b"\n") == 100_000
    assert x == y, "output order depends on the number of workers"
    first = json.loads(x.split(b"\n", 1)[0])
    assert "ts" in first and "level" in first


if __name__ == "__main__":
    harness.main([test_sigterm_drains_and_flushes, test_sigterm_delivers_what_stdin_read,
                  test_slow_sink_backpressure_bounds_memory,
                  test_many_workers_keep_order])
