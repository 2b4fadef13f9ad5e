"""A full disk loses nothing: a file sink (and the DLQ) writing into a small
tmpfs that a filler file has filled up pauses, shows it in /metrics and the
log, and resumes once the filler is deleted; the output then equals the
input. A stop request during the pause exits with an error that says what
was not written, and the next run, with space, delivers it. The dataset
sink stops the run instead, and the next run completes it exactly once.

Mounting a tmpfs needs root: elsewhere the test is skipped (exit code 77,
SKIP_RETURN_CODE in tests/CMakeLists.txt).
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile

import harness
from harness import metric

SKIP = 77
RECORDS = 20000
DISK = 8 << 20                 # the tmpfs


def can_mount():
    if os.geteuid() != 0:
        return "not root"
    d = tempfile.mkdtemp(prefix="sluice-mount-probe-")
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d], capture_output=True)
        if r.returncode != 0:
            return "cannot mount a tmpfs: " + harness.text(r.stderr).strip()
        subprocess.run(["umount", d], check=True)
        return None
    except OSError as e:
        return "cannot mount a tmpfs: %s" % e
    finally:
        os.rmdir(d)


class SmallDisk:
    """A tmpfs of DISK bytes at work("disk"), unmounted on exit."""

    def __init__(self, work):
        self.path = work("disk")

    def __enter__(self):
        os.makedirs(self.path)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % DISK, "tmpfs", self.path], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", self.path], check=False)

    def fill(self, leave=0):
        """Writes a filler file until only `leave` bytes (rounded to pages) are free."""
        chunk = b"\0" * 65536
        with open(os.path.join(self.path, "filler"), "wb", buffering=0) as f:
            try:
                while True:
                    st = os.statvfs(self.path)
                    free = st.f_bavail * st.f_frsize
                    if free <= leave:
                        break
                    f.write(chunk[:min(len(chunk), free - leave)])
            except OSError as e:
                assert e.errno == 28, e    # ENOSPC: full
        return os.path.join(self.path, "filler")

    def free(self):
        os.unlink(os.path.join(self.path, "filler"))


def write_input(work, n=RECORDS):
    pad = "x" * 180
    data = "".join('{"n":%d,"pad":"%s"}\n' % (i, pad) for i in range(n))
    return work.write("in.jsonl", data)


def config(work, port, sink_path, delivery="at_least_once", dlq_path=None, input_name="in.jsonl"):
    return work.write("p.yaml", (
        "data_dir: %s\n"
        "api: {address: \"127.0.0.1:%d\"}\n"
        "%s"
        "sources:\n"
        "  in: {type: file, paths: [%s]}\n"
        "sinks:\n"
        "  out:\n"
        "    type: file\n"
        "    inputs: [in]\n"
        "    path: %s\n"
        "    delivery: %s\n"
        "    retry: {initial: 20ms, max: 200ms}\n") % (
            work("data"), port, "dlq: {path: %s}\n" % dlq_path if dlq_path else "",
            work(input_name), sink_path, delivery))


def start(work, cfg):
    err = open(work("stderr"), "wb")
    proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    return proc


def log(work):
    with open(work("stderr"), errors="replace") as f:
        return f.read()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for_pause(work, proc, port, name):
    def paused():
        assert proc.poll() is None, "sluice ended before the disk filled up:\n" + log(work)
        return metric(port, name) == 1
    harness.wait_for(paused, timeout=20, what="%s to be 1" % name)


SINK_PAUSE = ('sluice_sink_disk_full{component="out"}', 'sluice_sink_disk_full_pauses_total{component="out"}')
DLQ_PAUSE = ("sluice_dlq_disk_full", "sluice_dlq_disk_full_pauses_total")


def run_through_a_pause(work, disk, cfg, port, metrics=SINK_PAUSE):
    """Runs sluice until the sink (or the DLQ: DLQ_PAUSE) pauses on the
    full disk, frees the disk and waits for the run to end, which must
    succeed. Returns its log and how many pauses the metric counted before
    the disk was freed."""
    paused, pauses_total = metrics
    proc = start(work, cfg)
    try:
        wait_for_pause(work, proc, port, paused)
        pauses = metric(port, pauses_total)
        assert proc.poll() is None
        disk.free()
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log(work)
    assert proc.returncode == 0, text
    return text, pauses


def check_sink_pauses_and_resumes(work, delivery):
    path = write_input(work)
    port = harness.free_port()
    with SmallDisk(work) as disk:
        disk.fill(leave=1 << 20)          # room for about a quarter of the output
        out = os.path.join(disk.path, "out.jsonl")
        text, pauses = run_through_a_pause(work, disk, config(work, port, out, delivery), port)
        assert pauses == 1
        assert read(out) == read(path), "output differs from the input (%d vs %d bytes)" % (
            len(read(out)), len(read(path)))
        assert "disk full (cannot " in text and "pausing until space is freed" in text, text
        assert "disk space is available again" in text, text
        assert text.count("pausing until space is freed") == 1, text
        assert not os.path.exists(work("data", "dlq", "dlq.jsonl")), "nothing may be dead-lettered"


def test_sink_pauses_and_resumes_at_least_once(work):
    check_sink_pauses_and_resumes(work, "at_least_once")


def test_sink_pauses_and_resumes_exactly_once(work):
    check_sink_pauses_and_resumes(work, "exactly_once")


def test_templated_exactly_once_pauses_and_resumes(work):
    """Forty files through one bundle and its side files: the full disk
    pauses the sink, and once space returns every file holds exactly its
    records, in order."""
    pad = "x" * 180
    lines = ['{"g":%d,"n":%d,"pad":"%s"}\n' % (i % 40, i, pad) for i in range(RECORDS)]
    work.write("in.jsonl", "".join(lines))
    port = harness.free_port()
    with SmallDisk(work) as disk:
        disk.fill(leave=1 << 20)
        out = os.path.join(disk.path, "out-{{ .g }}.jsonl")
        text, _ = run_through_a_pause(work, disk, config(work, port, out, "exactly_once"), port)
        for g in range(40):
            want = "".join(line for line in lines if line.startswith('{"g":%d,' % g)).encode()
            got = read(os.path.join(disk.path, "out-%d.jsonl" % g))
            assert got == want, "out-%d.jsonl: %d bytes, want %d" % (g, len(got), len(want))
        assert not [f for f in os.listdir(disk.path) if f.endswith(".inprogress")], os.listdir(disk.path)
        assert "disk space is available again" in text, text


def test_stop_while_paused_then_run_again(work):
    """SIGTERM during the pause exits non-zero without writing the payload
    anywhere; the next run, with space, delivers every record exactly once."""
    path = write_input(work)
    port = harness.free_port()
    with SmallDisk(work) as disk:
        disk.fill(leave=1 << 20)
        out = os.path.join(disk.path, "out.jsonl")
        cfg = config(work, port, out, "exactly_once")
        proc = start(work, cfg)
        try:
            wait_for_pause(work, proc, port, 'sluice_sink_disk_full{component="out"}')
            code, _, _ = harness.stop(proc, signal.SIGTERM, timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = log(work)
        assert code == 1, (code, text)
        assert "stopped while the disk is full" in text and "the next run reads them again" in text, text
        assert not os.path.exists(work("data", "dlq", "dlq.jsonl")), "nothing may be dead-lettered"
        disk.free()
        again = harness.run(["run", "--no-progress", cfg], timeout=30)
        assert again.returncode == 0, harness.text(again.stderr)
        assert read(out) == read(path), "output differs from the input (%d vs %d bytes)" % (
            len(read(out)), len(read(path)))


def test_dlq_keeps_entries_until_space_returns(work):
    """Every other line is broken JSON, so about 2 MB of dead letters go to a
    DLQ on a completely full disk; they are all written once it is freed."""
    bad = ['{"n":%d,"broken":"%s"\n' % (i, "y" * 180) for i in range(0, 10000, 2)]
    good = ['{"n":%d}\n' % i for i in range(1, 10000, 2)]
    work.write("mixed.jsonl", "".join(b + g for b, g in zip(bad, good)))
    port = harness.free_port()
    with SmallDisk(work) as disk:
        disk.fill()
        dlq_dir = os.path.join(disk.path, "dlq")
        cfg = config(work, port, work("out.jsonl"), dlq_path=dlq_dir, input_name="mixed.jsonl")
        text, pauses = run_through_a_pause(work, disk, cfg, port, DLQ_PAUSE)
        assert pauses == 1
        assert "keeping DLQ entries in memory until space is freed" in text, text
        assert "disk space is available again" in text, text
        entries = harness.read_jsonl(os.path.join(dlq_dir, "dlq.jsonl"))
        raws = sorted(e.get("raw", "") + "\n" for e in entries)   # workers dead-letter in any order
        assert raws == sorted(bad), "DLQ entries differ: %d of %d" % (len(entries), len(bad))
        assert read(work("out.jsonl")).decode() == "".join(good)


DATASET = """\
data_dir: {data}
sources:
  in: {{type: file, paths: [{input}]}}
sinks:
  ds:
    type: dataset
    inputs: [in]
    path: {path}
    shard_records: 2000
    split: {{key: n, train: 0.8, validation: 0.1, test: 0.1}}
    retry: {{initial: 20ms, max: 100ms, max_attempts: 3}}
"""


def dataset_lines(root):
    """{split: [decompressed shard, ...]} of a finished dataset."""
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    assert index["finished"] is True, index
    out = {}
    for shard in index["shards"]:
        data = subprocess.run(["zstd", "-dc", os.path.join(root, shard["file"])], capture_output=True,
                              check=True).stdout
        out.setdefault(shard["split"], []).append(data)
    return out


def test_dataset_full_disk_stops_then_resumes(work):
    """The dataset sink cannot take back a shard write that failed part-way,
    so a full disk stops the run (it does not pause yet); the next run, with
    space, continues from the last checkpoint, and the dataset equals an
    uninterrupted run's, with nothing dead-lettered."""
    rng = random.Random(7)   # text that does not compress away: about 2 MB of shards
    path = work.write("in.jsonl", "".join('{"n":%d,"text":"%032x%032x%032x"}\n' % (
        i, rng.getrandbits(128), rng.getrandbits(128), rng.getrandbits(128)) for i in range(RECORDS)))
    ref = harness.run(["run", "--no-progress", work.write("ref.yaml", DATASET.format(
        data=work("data-ref"), input=path, path=work("ref")))])
    assert ref.returncode == 0, harness.text(ref.stderr)
    with SmallDisk(work) as disk:
        disk.fill(leave=256 << 10)
        cfg = work.write("p.yaml", DATASET.format(data=work("data"), input=path, path=os.path.join(disk.path, "ds")))
        full = harness.run(["run", "--no-progress", cfg], timeout=60)
        assert full.returncode != 0, harness.text(full.stderr)
        assert "the dataset cannot go on after a failed write" in harness.text(full.stderr), harness.text(full.stderr)
        disk.free()
        again = harness.run(["run", "--no-progress", cfg], timeout=60)
        assert again.returncode == 0, harness.text(again.stderr)
        assert dataset_lines(os.path.join(disk.path, "ds")) == dataset_lines(work("ref"))
    assert harness.read_jsonl(work("data", "dlq", "dlq.jsonl")) == [], "nothing may stay dead-lettered"


if __name__ == "__main__":
    why = can_mount()
    if why:
        print("skipped: %s (a full disk is simulated with a small tmpfs, which needs root)" % why)
        sys.exit(SKIP)
    harness.main([test_sink_pauses_and_resumes_at_least_once, test_sink_pauses_and_resumes_exactly_once,
                  test_templated_exactly_once_pauses_and_resumes,
                  test_stop_while_paused_then_run_again, test_dlq_keeps_entries_until_space_returns,
                  test_dataset_full_disk_stops_then_resumes])
