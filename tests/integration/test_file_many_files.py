"""The exactly-once file sink with a thousand templated files.

A path like "out/{{ .model }}.jsonl" with 1,000 models used to collapse:
the sink kept 128 files and closed (and fsynced) the least recently used
one to open the next, so every batch ended hundreds of parts, each fsynced
and published on its own, and the part log grew without bound. The sink now
writes one bundle per checkpoint for all its files (sinks/bundle.h). This
test runs 1,000 files through a small descriptor limit (ulimit -n 256) and
checks, without timing anything:
  - every file holds exactly its records, in input order, and no bundle is
    left behind;
  - each checkpoint's bundle holds at most one step per file;
  - the peak RSS, read from /proc while it runs, stays under memory_limit.
A second test kills a run over 400 templated files with SIGKILL right after
checkpoints are written (while their bundles are being published) several
times, and checks that the output equals an uninterrupted run's, byte for
byte. A third does the same with 4 files, parts of 32 KiB and more (each
file's step in a plain bundle of its own, renamed into place or appended,
sealed before the shared bundle) and rotations (a rotated file's next
step is in the shared bundle).
"""
import glob
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time

import harness

FILES = 1000
RECORDS = 20_000
MEMORY_LIMIT_MIB = 128

CONFIG = """\
data_dir: {dir}/state
memory_limit: {limit}MiB
checkpoint: {{interval: 1s}}
sources:
  in: {{type: file, paths: ["{dir}/in.jsonl"]}}
sinks:
  out: {{type: file, inputs: [in], path: "{dir}/out/{{{{ .model }}}}.jsonl"}}
"""


def few_descriptors():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


def peak_rss_mib(pid):
    """VmHWM of a running process, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def checkpoint_bundles(path):
    """The sink's bundles in a checkpoint file (a header line, then JSON)."""
    with open(path, "rb") as f:
        f.readline()
        doc = json.loads(f.read())
    return doc["components"]["out"]["state"]["bundles"]


def test_thousand_files_exact_and_bounded(work):
    lines = {}
    with open(work("in.jsonl"), "w") as f:
        for i in range(RECORDS):
            model = "m%03d" % (i % FILES)
            line = json.dumps({"model": model, "i": i, "text": "x%d " % i * 60}, separators=(",", ":"))
            f.write(line + "\n")
            lines.setdefault(model, []).append(line)
    cfg = work.write("many.yaml", CONFIG.format(dir=work.path, limit=MEMORY_LIMIT_MIB))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=16")
    proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, preexec_fn=few_descriptors)
    peak = [0.0]

    def poll():
        while proc.poll() is None:
            rss = peak_rss_mib(proc.pid)
            if rss:
                peak[0] = max(peak[0], rss)
            time.sleep(0.02)
    t = threading.Thread(target=poll)
    t.start()
    _, err = proc.communicate(timeout=300)
    t.join()
    assert proc.returncode == 0, harness.text(err)

    names = sorted(os.listdir(work("out")))
    assert [n for n in names if n.endswith(".inprogress")] == [], names[:5]
    assert len(names) == FILES, len(names)
    for model, want in lines.items():
        with open(work("out", model + ".jsonl")) as f:
            assert f.read() == "\n".join(want) + "\n", "%s does not hold exactly its records in order" % model

    for name in ("checkpoint", "checkpoint.prev"):
        for bundle in checkpoint_bundles(work("state", name)):
            files = [s["file"] for s in bundle["steps"]]
            assert len(files) == len(set(files)), \
                "%s: a bundle has %d steps for %d files" % (name, len(files), len(set(files)))

    print("peak RSS %.1f MiB with memory_limit %d MiB" % (peak[0], MEMORY_LIMIT_MIB))
    assert 0 < peak[0] < MEMORY_LIMIT_MIB, peak[0]


KILL_FILES = 400
KILL_RECORDS = 60_000
KILL_CONFIG = """\
data_dir: {dir}/state-{out}
checkpoint: {{interval: 50ms}}
sources:
  in: {{type: file, paths: ["{dir}/in.jsonl"]}}
sinks:
  out: {{type: file, inputs: [in], path: "{dir}/{out}/{{{{ .model }}}}/part.jsonl"{extra}}}
"""


def rotation_order(name):
    """part.1.jsonl, part.2.jsonl, ..., then part.jsonl (the current one)."""
    middle = name.split(".")[1:-1]
    return (0, int(middle[0])) if middle else (1, 0)


def tree(root):
    """{directory: bytes of its files, in rotation order} under root (where
    a rotation lands depends on batch boundaries, which a restart moves)."""
    out = {}
    for d, _, names in os.walk(root):
        data = b""
        for n in sorted((n for n in names if not n.startswith(".")), key=rotation_order):
            with open(os.path.join(d, n), "rb") as f:
                data += f.read()
        if data:
            out[os.path.relpath(d, root)] = data
    return out


def checkpoint_id(path):
    try:
        st = os.stat(path)
        return (st.st_ino, st.st_mtime_ns)
    except OSError:
        return None


class NewCheckpoints:
    """True once `count` checkpoints were written since it was made (the
    first one of a run is its starting point, which publishes nothing)."""

    def __init__(self, path, count):
        self.path, self.count = path, count
        self.last, self.seen = checkpoint_id(path), 0

    def __call__(self):
        now = checkpoint_id(self.path)
        if now is not None and now != self.last:
            self.last, self.seen = now, self.seen + 1
        return self.seen >= self.count


def kill_mid_commit(work, files, pad, extra=""):
    """Kills runs over `files` templated files mid-commit; checks the
    output against an uninterrupted run's. Returns how many of the
    checkpoints seen listed a side file (a file started with enough bytes
    to have a file of its own, renamed into place at the commit)."""
    rng = random.Random(9)
    with open(work("in.jsonl"), "w") as f:
        for i in range(KILL_RECORDS):
            f.write(json.dumps({"model": "m%03d" % rng.randrange(files), "i": i, "pad": "p" * rng.randrange(pad)},
                               separators=(",", ":")) + "\n")
    ref = harness.run(["run", "--no-progress",
                       work.write("ref.yaml", KILL_CONFIG.format(dir=work.path, out="ref", extra=extra))], timeout=300)
    assert ref.returncode == 0, harness.text(ref.stderr)
    cfg = work.write("p.yaml", KILL_CONFIG.format(dir=work.path, out="out", extra=extra))
    checkpoint = work("state-out", "checkpoint")
    kills = mid_commit = sides = 0
    # Kill right after the first checkpoint past the run's starting point
    # appears: its bundle is being copied into the 400 files (and each run
    # gets only a little further, so there are kills to spare however fast
    # the machine is). A kill that left a bundle the checkpoint lists came
    # between the checkpoint and the bundle's removal.
    while kills < 12 and mid_commit < 3:
        if harness.run_killed(["run", "--no-progress", cfg], NewCheckpoints(checkpoint, 2), rng,
                              timeout=120):
            break
        kills += 1
        bundles = checkpoint_bundles(checkpoint) if os.path.exists(checkpoint) else []
        mid_commit += any(os.path.exists(b["path"]) for b in bundles)
        sides += any("side" in s for b in bundles for s in b["steps"])
    final = harness.run(["run", "--no-progress", cfg], timeout=300)
    assert final.returncode == 0, harness.text(final.stderr)
    print("%d kills, %d of them between a checkpoint and the removal of its bundle" % (kills, mid_commit))
    assert kills >= 3, "the run ended before it could be killed three times (%d)" % kills
    want, got = tree(work("ref")), tree(work("out"))
    assert len(want) == files, len(want)
    assert sorted(got) == sorted(want), sorted(set(got) ^ set(want))[:5]
    differ = [p for p in want if got[p] != want[p]]
    assert not differ, "%d files differ from the uninterrupted run's, e.g. %s" % (len(differ), differ[:3])
    assert not glob.glob(work("out", ".*.inprogress")), "a bundle was left behind"
    return sides


def test_kill_mid_commit_equals_uninterrupted(work):
    kill_mid_commit(work, KILL_FILES, 200)


def test_kill_few_files_large_parts_and_rotations(work):
    sides = kill_mid_commit(work, 4, 2000, ", rotate: {max_bytes: 8MiB}")
    assert sides > 0, "no checkpoint listed a side file"


if __name__ == "__main__":
    harness.main([test_thousand_files_exact_and_bounded, test_kill_mid_commit_equals_uninterrupted,
                  test_kill_few_files_large_parts_and_rotations])
