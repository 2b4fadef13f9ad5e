"""Exactly-once across crashes with dataset sinks beside a file sink (the
shape of examples/training-corpus.yaml): sluice is killed with SIGKILL at
random moments and restarted each time; afterwards

- the file sink's output equals an uninterrupted run's, byte for byte (a
  dataset sink once turned checkpoints off for the whole pipeline, and the
  file sink then duplicated records after a crash);
- each dataset holds the same records per split as an uninterrupted run's:
  without shuffle the same shards with the same contents, with shuffle the
  same records per split (and, with one source, in the same order: the
  shuffle buffer and its generator are part of the checkpoint); index.json lists every shard with the right
  checksum, and no temporary file or shuffle spill is left behind.

Also: a damaged newest checkpoint falls back on the previous one and the
dataset still comes out right; a dataset a crash left unfinished never blocks a run that does not
continue it (--from-start): it is discarded and written anew; and a run
that resumes after a finished run (with `overwrite`, as
examples/training-corpus.yaml does) continues the dataset unchanged.
"""
import glob
import hashlib
import json
import os
import random
import subprocess

from harness import bytes_written, main, run, run_killed, text

SEED = 20261207
RECORDS = 60_000
FILES = 2
KILLS = 10

PIPELINE = """
data_dir: {dir}/state-{out}
workers: 2
batch: {{max_records: 256}}
checkpoint: {{interval: 20ms}}
sources:
  docs:
    type: file
    paths: ["{dir}/in/*.jsonl"]
sinks:
  clean:
    type: file
    inputs: [docs]
    path: {dir}/{out}/clean.jsonl
  plain:
    type: dataset
    inputs: [docs]
    path: {dir}/{out}/plain
    shard_records: 3000
    split: {{key: id, train: 0.8, validation: 0.1, test: 0.1}}
  shuffled:
    type: dataset
    inputs: [docs]
    path: {dir}/{out}/shuffled
    shard_bytes: 256KiB
    split: {{key: id, train: 0.8, validation: 0.1, test: 0.1}}
    shuffle: {{buffer: 2000, seed: 7}}
"""


def make_input(work):
    rng = random.Random(SEED)
    os.makedirs(work("in"))
    n = 0
    for f in range(FILES):
        with open(work("in", "part-%d.jsonl" % f), "w") as out:
            for _ in range(RECORDS // FILES):
                out.write(json.dumps({"id": n, "text": "w%06d " % rng.randrange(10**6) * rng.randrange(1, 6)}) + "\n")
                n += 1


def config(work, out):
    return work.write("p-%s.yaml" % out, PIPELINE.format(dir=work.path, out=out))


def written(work, out):
    """Bytes the file sink has written: published file and parts in progress."""
    return bytes_written(work(out, "clean.jsonl"), work(out, ".clean.jsonl.*.inprogress"))


def shards(root):
    """{split: [lines of each shard, in shard order]} from index.json, checked."""
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    assert index["finished"] is True, index
    out = {}
    for shard in index["shards"]:
        path = os.path.join(root, shard["file"])
        with open(path, "rb") as f:
            data = f.read()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"], shard["file"]
        lines = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout.splitlines()
        assert len(lines) == shard["records"], shard["file"]
        out.setdefault(shard["split"], []).append(lines)
    on_disk = sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "*", "*")))
    assert on_disk == sorted(s["file"] for s in index["shards"]), "files not in index.json: %s" % on_disk
    assert not [n for n in os.listdir(root) if (n.startswith(".") and n != ".lock") or ".tmp-" in n], os.listdir(root)
    return out


def test_kill_loop_file_and_dataset(work):
    make_input(work)
    ref = run(["run", "--no-progress", config(work, "ref")])
    assert ref.returncode == 0, text(ref.stderr)
    with open(work("ref", "clean.jsonl"), "rb") as f:
        expected = f.read()
    assert expected.count(b"\n") == RECORDS
    expected_plain, expected_shuffled = shards(work("ref", "plain")), shards(work("ref", "shuffled"))
    assert sum(len(s) for s in expected_plain.values()) > 10 and len(expected_plain) == 3

    rng = random.Random(SEED)
    cfg = config(work, "out")
    targets = sorted(rng.uniform(0.02, 0.9) * len(expected) for _ in range(KILLS))
    ended = sum(run_killed(["run", "--no-progress", cfg], lambda t=t: written(work, "out") >= t, rng)
                for t in targets)
    assert ended <= 2, "%d of %d runs ended before their kill" % (ended, KILLS)
    final = run(["run", "--no-progress", cfg])
    assert final.returncode == 0, text(final.stderr)

    with open(work("out", "clean.jsonl"), "rb") as f:
        got = f.read()
    assert got.count(b"\n") == RECORDS, "%d records in the file sink after %d kills, %d expected" % (
        got.count(b"\n"), KILLS, RECORDS)
    assert got == expected, "the file sink's output differs from an uninterrupted run's"
    plain = shards(work("out", "plain"))
    for split in expected_plain:
        assert plain.get(split) == expected_plain[split], "dataset %s differs from an uninterrupted run's" % split
    shuffled = shards(work("out", "shuffled"))
    for split in expected_shuffled:
        want = sorted(line for shard in expected_shuffled[split] for line in shard)
        have = sorted(line for shard in shuffled.get(split, []) for line in shard)
        assert have == want, "shuffled %s: %d records, %d expected" % (split, len(have), len(want))
        # One source reads its files in order, so even the shuffle is the same.
        assert shuffled[split] == expected_shuffled[split], "shuffled %s: same records, other order" % split


def reference(work):
    """Runs the pipeline uninterrupted: (file output, plain shards, shuffled shards)."""
    ref = run(["run", "--no-progress", config(work, "ref")])
    assert ref.returncode == 0, text(ref.stderr)
    with open(work("ref", "clean.jsonl"), "rb") as f:
        return f.read(), shards(work("ref", "plain")), shards(work("ref", "shuffled"))


def test_damaged_checkpoint_falls_back(work):
    """The newest checkpoint is zeroed after a crash: the previous one is
    used, and what the dataset published after it is taken back (an open
    shard that was published since is reopened and cut back)."""
    make_input(work)
    expected, expected_plain, expected_shuffled = reference(work)
    cfg = config(work, "out")
    run_killed(["run", "--no-progress", cfg], lambda: written(work, "out") >= len(expected) // 2, random.Random(SEED))
    (newest,) = [p for p in glob.glob(work("state-out", "**", "checkpoint"), recursive=True)]
    with open(newest, "r+b") as f:
        f.write(b"\0" * os.path.getsize(newest))
    final = run(["run", "--no-progress", cfg])
    assert final.returncode == 0, text(final.stderr)
    assert "previous" in text(final.stderr), text(final.stderr)
    with open(work("out", "clean.jsonl"), "rb") as f:
        assert f.read() == expected
    assert shards(work("out", "plain")) == expected_plain
    assert shards(work("out", "shuffled")) == expected_shuffled


def test_unfinished_dataset_never_blocks_a_rerun(work):
    make_input(work)
    cfg = config(work, "out")
    rng = random.Random(SEED)
    run_killed(["run", "--no-progress", cfg], lambda: written(work, "out") > 200_000, rng)
    with open(work("out", "plain", "index.json")) as f:
        assert json.load(f)["finished"] is False
    again = run(["run", "--no-progress", "--from-start", cfg])
    assert again.returncode == 0, text(again.stderr)
    assert "discarding the unfinished dataset" in text(again.stderr), text(again.stderr)
    plain = shards(work("out", "plain"))
    assert sum(len(lines) for split in plain.values() for lines in split) == RECORDS


def test_rerun_after_the_end_continues(work):
    make_input(work)
    with open(config(work, "out")) as f:
        body = f.read().replace("    split:", "    overwrite: true\n    split:")
    cfg = work.write("again.yaml", body)
    first = run(["run", "--no-progress", cfg])
    assert first.returncode == 0, text(first.stderr)
    before = shards(work("out", "shuffled"))
    again = run(["run", "--no-progress", cfg])
    assert again.returncode == 0, text(again.stderr)
    assert "continuing the dataset" in text(again.stderr), text(again.stderr)
    assert shards(work("out", "shuffled")) == before


if __name__ == "__main__":
    main([test_kill_loop_file_and_dataset, test_damaged_checkpoint_falls_back,
          test_unfinished_dataset_never_blocks_a_rerun, test_rerun_after_the_end_continues])
