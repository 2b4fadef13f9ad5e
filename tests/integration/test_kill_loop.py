"""Exactly-once across crashes: sluice is killed with SIGKILL at random
moments, restarted each time, and the final output must equal the output of
an uninterrupted run: no record lost, none duplicated, in order.

The pipeline is file -> remap -> file (delivery: exactly_once, the default),
with size rotation in the sink (so publishing also rotates files) and 1 % of
the input broken on purpose (so the DLQ must come out exactly once too).
Checkpoints are taken every 20 ms so that killed runs make progress.

Also: damaged checkpoint storage (zeroed, deleted) at start-up: the output
is brought back to the checkpoint used, or moved aside when there is none.
Damage between kills, and a second run started during one, are in
test_state_damage_loop.py.
"""
import glob
import json
import os
import random
import signal
import subprocess
import time

from harness import SLUICE, bytes_written, main, run, text

SEED = 20261124
RECORDS = 300_000
FILES = 3
KILLS = 20

PIPELINE = """
data_dir: {dir}/state
workers: 2
batch: {{max_records: 512}}
checkpoint: {{interval: 20ms}}
sources:
  events:
    type: file
    paths: ["{dir}/in/*.jsonl"]
transforms:
  shape:
    type: remap
    inputs: [events]
    set: {{double: ".n * 2", tag: '"k"'}}
    rename: {{msg: message}}
sinks:
  out:
    type: file
    inputs: [shape]
    path: {dir}/{out}/events.jsonl
    rotate: {{max_bytes: 2MiB}}
"""


def make_input(work):
    rng = random.Random(SEED)
    os.makedirs(work("in"))
    n = 0
    for f in range(FILES):
        with open(work("in", "part-%d.jsonl" % f), "w") as out:
            for _ in range(RECORDS // FILES):
                if rng.random() < 0.01:
                    out.write('{"n": %d, "broken": \n' % n)
                else:
                    out.write(json.dumps({"n": n, "msg": "m%06d" % rng.randrange(10**6), "f": f}) + "\n")
                n += 1


def output_bytes(work, out):
    """Every published file of the sink, oldest rotation first."""
    paths = glob.glob(work(out, "events*.jsonl"))

    def order(p):
        name = os.path.basename(p)
        parts = name.split(".")
        return int(parts[1]) if len(parts) == 3 else 1 << 30   # events.N.jsonl, then events.jsonl
    data = b""
    for p in sorted(paths, key=order):
        with open(p, "rb") as f:
            data += f.read()
    return data


def written(work, out):
    """Bytes the sink has written: published files and parts in progress."""
    return bytes_written(work(out, "events*.jsonl"), work(out, ".events*.inprogress"))


def dlq_keys(work):
    keys = []
    for path in glob.glob(work("state", "dlq", "dlq.jsonl")):
        with open(path) as f:
            for line in f:
                e = json.loads(line)
                keys.append((e["origin"], e["position"]["offset"], e["reason"]))
    return keys


def config(work, out):
    return work.write("p-%s.yaml" % out, PIPELINE.format(dir=work.path, out=out))


def test_kill_loop_file_exactly_once(work):
    make_input(work)
    # The uninterrupted run gives the expected output.
    ref = run(["run", "--no-progress", config(work, "ref")])
    assert ref.returncode == 0, text(ref.stderr)
    expected = output_bytes(work, "ref")
    expected_dlq = sorted(dlq_keys(work))
    assert expected.count(b"\n") == RECORDS - len(expected_dlq) and len(expected_dlq) > 1000
    os.rename(work("state"), work("state-ref"))

    # Kill moments are random points of progress (bytes the sink has written,
    # published or not), plus a random few milliseconds: spread over the whole
    # run whatever the machine's speed, including mid-checkpoint and
    # mid-publish. A restart may already be past its target: it is then killed
    # during start-up, which is a moment worth testing too.
    rng = random.Random(SEED)
    cfg = config(work, "out")
    targets = sorted(rng.uniform(0.02, 0.9) * len(expected) for _ in range(KILLS))
    finished_early = 0
    for target in targets:
        with open(work("run.log"), "wb") as log:
            proc = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 120
        while proc.poll() is None and written(work, "out") < target and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.003))
        if proc.poll() is not None:
            # A run may finish before its kill; it must not fail (a restart
            # that cannot recover would otherwise pass here unnoticed).
            assert proc.returncode == 0, "a restart failed: " + open(work("run.log"), errors="replace").read()[-2000:]
            finished_early += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert finished_early <= 2, "%d of %d runs ended before their kill" % (finished_early, KILLS)
    final = run(["run", "--no-progress", cfg])
    assert final.returncode == 0, text(final.stderr)

    got = output_bytes(work, "out")
    assert not glob.glob(work("out", ".*inprogress")), "unpublished parts were left behind"
    got_lines, expected_lines = got.split(b"\n"), expected.split(b"\n")
    missing = set(expected_lines) - set(got_lines)
    assert len(got_lines) == len(expected_lines), (
        "%d records expected, %d written after %d kills (%d missing)" %
        (len(expected_lines) - 1, len(got_lines) - 1, KILLS, len(missing)))
    assert got == expected, "same records, but not in the same order"
    assert sorted(dlq_keys(work)) == expected_dlq, "DLQ entries were lost or duplicated"


def aside(work, out):
    return sorted(glob.glob(work(out, "events*.aside-*")))


def test_checkpoint_damage_never_blocks_start(work):
    make_input(work)
    cfg = config(work, "out")
    first = run(["run", "--no-progress", cfg])
    assert first.returncode == 0, text(first.stderr)
    published = output_bytes(work, "out")
    dead = sorted(dlq_keys(work))

    # Zero the newest checkpoint: the previous generation is used, and what
    # was published after it (appended, or in files rotated since) is taken
    # back before it is written again: the output is unchanged.
    path = work("state", "checkpoint")
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.write(b"\0" * size)
    again = run(["run", "--no-progress", cfg])
    assert again.returncode == 0, text(again.stderr)
    assert "previous" in text(again.stderr), text(again.stderr)
    assert output_bytes(work, "out") == published, "falling back to checkpoint.prev duplicated output"
    assert sorted(dlq_keys(work)) == dead

    # Damage both generations: sluice starts, says so, moves the earlier
    # output (and dead letters) aside, and reads from the start.
    for name in ("checkpoint", "checkpoint.prev"):
        with open(work("state", name), "r+b") as f:
            f.write(b"\0" * 64)
    fresh = run(["run", "--no-progress", cfg])
    assert fresh.returncode == 0, text(fresh.stderr)
    assert "moved the" in text(fresh.stderr) and "earlier output aside" in text(fresh.stderr), text(fresh.stderr)
    assert output_bytes(work, "out") == published, "the output of a run from the start was appended to"
    assert sorted(dlq_keys(work)) == dead
    kept = b"".join(open(p, "rb").read() for p in aside(work, "out"))
    assert len(kept) == len(published), "the earlier output was not kept aside whole"


def test_from_start_ignores_the_checkpoint(work):
    make_input(work)
    cfg = config(work, "out")
    assert run(["run", "--no-progress", cfg]).returncode == 0
    once = output_bytes(work, "out")
    second = run(["run", "--no-progress", cfg])
    assert second.returncode == 0 and "nothing new since checkpoint" in text(second.stderr), text(second.stderr)
    assert output_bytes(work, "out") == once, "a resumed run read its input again"
    third = run(["run", "--no-progress", "--from-start", cfg])
    assert third.returncode == 0, text(third.stderr)
    assert output_bytes(work, "out").count(b"\n") == 2 * once.count(b"\n"), "--from-start appends"


if __name__ == "__main__":
    main([test_kill_loop_file_exactly_once, test_checkpoint_damage_never_blocks_start,
          test_from_start_ignores_the_checkpoint])
