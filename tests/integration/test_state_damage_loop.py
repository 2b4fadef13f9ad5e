"""Exactly-once when the newest checkpoint is lost: sluice is killed with
SIGKILL at random moments and, between kills, the newest checkpoint is
deleted, truncated, replaced by a directory or left whole with a source
state that cannot be read, so the next run falls back to the previous one. Files published after that checkpoint (appended, created
by rotation) must be brought back to it, so the final output still equals
an uninterrupted run's: every record once, in order, DLQ included.

Also between kills: a second run started while one is running is refused
(the data_dir is locked) and changes nothing.
"""
import glob
import json
import os
import random
import subprocess
import time

from harness import SLUICE, bytes_written, crc32c, main, run, text, wait_for

SEED = 20261207
RECORDS = 60_000
KILLS = 9
DAMAGE = ["state", "delete", "truncate", "directory"]   # the last kill (8) leaves "state"

PIPELINE = """
data_dir: {dir}/state-{out}
workers: 2
batch: {{max_records: 256}}
checkpoint: {{interval: 20ms}}
sources:
  events:
    type: file
    paths: ["{dir}/in/*.jsonl"]
sinks:
  out:
    type: file
    inputs: [events]
    path: "{dir}/{out}/{{{{ .k }}}}/events.jsonl"
    rotate: {{max_bytes: 256KiB}}
"""


def make_input(work):
    rng = random.Random(SEED)
    os.makedirs(work("in"))
    with open(work("in", "events.jsonl"), "w") as out:
        for n in range(RECORDS):
            if rng.random() < 0.01:
                out.write('{"n": %d, "broken": \n' % n)
            else:
                out.write(json.dumps({"n": n, "k": "k%d" % rng.randrange(3), "pad": "x" * 60}) + "\n")


def output(work, out):
    """Every published file, by directory, oldest rotation first."""
    def order(p):
        parts = os.path.basename(p).split(".")
        return (os.path.dirname(p), int(parts[1]) if len(parts) == 3 else 1 << 30)
    data = b""
    for p in sorted(glob.glob(work(out, "*", "events*.jsonl")), key=order):
        with open(p, "rb") as f:
            data += f.read()
    return data


def written(work, out):
    return bytes_written(work(out, "*", "events*.jsonl"), work(out, ".*.inprogress"))


def dlq(work, out):
    path = work("state-" + out, "dlq", "dlq.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return sorted(json.loads(line)["position"]["offset"] for line in f)


def holder(work):
    try:
        with open(work("state-out", "lock")) as f:
            return f.read().strip()
    except OSError:
        return None


def damage(path, how):
    if not os.path.isfile(path):
        return
    if how == "delete":
        os.remove(path)
    elif how == "truncate":
        os.truncate(path, os.path.getsize(path) // 2)
    elif how == "state":   # whole, its checksum right, the source's state unreadable
        with open(path, "rb") as f:
            doc = json.loads(f.read().split(b"\n", 1)[1])
        doc["components"]["events"]["state"] = {"files": 7}
        body = json.dumps(doc).encode()
        with open(path, "wb") as f:
            f.write(b"sluice-checkpoint 1 %d %08x\n" % (len(body), crc32c(body)) + body)
    else:
        os.remove(path)
        os.mkdir(path)


def test_kill_loop_with_checkpoint_damage(work):
    make_input(work)
    ref = run(["run", "--no-progress", work.write("ref.yaml", PIPELINE.format(dir=work.path, out="ref"))])
    assert ref.returncode == 0, text(ref.stderr)
    expected, expected_dlq = output(work, "ref"), dlq(work, "ref")
    assert expected.count(b"\n") == RECORDS - len(expected_dlq) and len(expected_dlq) > 300

    rng = random.Random(SEED)
    cfg = work.write("p.yaml", PIPELINE.format(dir=work.path, out="out"))
    targets = sorted(rng.uniform(0.05, 0.9) * len(expected) for _ in range(KILLS))
    refused = 0
    for i, target in enumerate(targets):
        proc = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and written(work, "out") < target and time.monotonic() < deadline:
            time.sleep(0.001)
        if i % 3 == 1:
            wait_for(lambda: proc.poll() is not None or holder(work) == str(proc.pid), what="the lock")
        if i % 3 == 1 and proc.poll() is None:
            second = run(["run", "--no-progress", cfg])
            if proc.poll() is None:   # it was running all along: the second must have been refused
                assert second.returncode == 1 and "in use by another sluice run (pid %d)" % proc.pid in \
                    text(second.stderr), text(second.stderr)
                refused += 1
        time.sleep(rng.uniform(0, 0.003))
        proc.kill()
        proc.wait()
        damage(work("state-out", "checkpoint"), DAMAGE[i % len(DAMAGE)])
    assert refused >= 1, "no second run was started while the first was running"
    final = run(["run", "--no-progress", cfg])
    assert final.returncode == 0, text(final.stderr)

    got = output(work, "out")
    assert not glob.glob(work("out", ".*inprogress")), "unpublished bundles were left behind"
    assert not glob.glob(work("out", "*", "*.aside-*")), "a run found no checkpoint at all"
    assert got.count(b"\n") == expected.count(b"\n"), "%d records expected, %d written" % (
        expected.count(b"\n"), got.count(b"\n"))
    assert got == expected, "same number of records, but not the same output"
    assert dlq(work, "out") == expected_dlq, "DLQ entries were lost or duplicated"


if __name__ == "__main__":
    main([test_kill_loop_with_checkpoint_damage])
