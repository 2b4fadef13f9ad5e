"""A checkpoint that is whole (its checksum matches) but holds a component
state that component cannot read (malformed, or from an incompatible
version) does not stop the run: the run falls back to checkpoint.prev, and
with neither usable it starts over with the earlier output set aside, as for
damaged files. Either way a warning names the component and the reason, the
metric sluice_checkpoint_unusable_total counts the generations passed over,
the unusable newest is moved aside (so it never becomes checkpoint.prev),
and the final output equals an uninterrupted run's: nothing lost, nothing
written twice (dedup state and DLQ included).

The kill is random, the forged checkpoints are made like sluice makes them
(header with length and CRC-32C).
"""
import glob
import json
import os
import random
import subprocess

from harness import SLUICE, bytes_written, crc32c, free_port, main, metric, run, run_killed, stop, text, wait_for

SEED = 20261208
RECORDS = 30_000

PIPELINE = """
data_dir: {dir}/state-{out}
workers: 2
batch: {{max_records: 256}}
checkpoint: {{interval: 20ms}}
sources:
  events:
    type: file
    paths: ["{dir}/in/*.jsonl"]
transforms:
  uniq:
    type: dedup
    inputs: [events]
    fields: [id]
sinks:
  out:
    type: file
    inputs: [uniq]
    path: "{dir}/{out}/events.jsonl"
"""


def make_input(work):
    rng = random.Random(SEED)
    os.makedirs(work("in"))
    with open(work("in", "events.jsonl"), "w") as out:
        for n in range(RECORDS):
            if rng.random() < 0.01:
                out.write('{"n": %d, "broken": \n' % n)
            else:   # about one record in five repeats an earlier id: dedup drops it
                ident = rng.randrange(n) if n and rng.random() < 0.2 else n
                out.write(json.dumps({"n": n, "id": ident, "pad": "x" * 40}) + "\n")


def output(work, out):
    with open(work(out, "events.jsonl"), "rb") as f:
        return f.read()


def dlq(work, out):
    with open(work("state-" + out, "dlq", "dlq.jsonl")) as f:
        return sorted(json.loads(line)["position"]["offset"] for line in f)


def read_checkpoint(path):
    with open(path, "rb") as f:
        header = f.readline()
        body = f.read()
    magic, version, length, crc = header.split()
    assert magic == b"sluice-checkpoint" and int(length) == len(body) and int(crc, 16) == crc32c(body)
    return json.loads(body)


def forge(path, component, state):
    """Gives component this state in the checkpoint at path, which stays whole."""
    doc = read_checkpoint(path)
    doc["components"][component]["state"] = state
    body = json.dumps(doc).encode()
    with open(path, "wb") as f:
        f.write(b"sluice-checkpoint 1 %d %08x\n" % (len(body), crc32c(body)))
        f.write(body)


def reference(work):
    ref = run(["run", "--no-progress", work.write("ref.yaml", PIPELINE.format(dir=work.path, out="ref"))])
    assert ref.returncode == 0, text(ref.stderr)
    return output(work, "ref"), dlq(work, "ref")


def killed_run(work, fraction, expected):
    """A run killed once `fraction` of the output is written and both
    checkpoint generations exist. A kill can land while a checkpoint is
    being replaced (the newest renamed, the new one not written yet): the
    run is then started and killed again, as a crash loop would."""
    cfg = work.write("p.yaml", PIPELINE.format(dir=work.path, out="out"))
    rng = random.Random(SEED)
    generations = [work("state-out", "checkpoint"), work("state-out", "checkpoint.prev")]
    progressed = lambda: (bytes_written(work("out", "*")) + bytes_written(work("out", ".*")) >= fraction * len(expected)
                          and all(os.path.isfile(g) for g in generations))
    for _ in range(10):
        assert not run_killed(["run", "--no-progress", cfg], progressed, rng), "the run ended before its kill"
        if all(os.path.isfile(g) for g in generations):
            return cfg
    raise AssertionError("no two checkpoint generations after 10 kills")


def final_run(cfg):
    return run(["run", "--no-progress", "--log-level", "info", cfg])


def test_malformed_source_state_falls_back_to_prev(work):
    make_input(work)
    expected, expected_dlq = reference(work)
    cfg = killed_run(work, 0.4, expected)
    forge(work("state-out", "checkpoint"), "events", {"files": [{"path": "in/events.jsonl"}]})
    with open(work("state-out", "checkpoint"), "rb") as f:
        forged = f.read()
    done = final_run(cfg)
    log = text(done.stderr)
    assert done.returncode == 0, log
    assert "source 'events' cannot read its state" in log and "saved file position 1 is malformed" in log, log
    assert "resuming from the previous checkpoint" in log, log
    # Moved aside before the run's first checkpoint, which would otherwise
    # have made it checkpoint.prev: a crash then would leave nothing usable.
    (aside,) = glob.glob(work("state-out", "checkpoint.damaged-*"))
    with open(aside, "rb") as f:
        assert f.read() == forged
    with open(work("state-out", "checkpoint.prev"), "rb") as f:
        assert f.read() != forged, "the unreadable checkpoint became checkpoint.prev"
    assert not glob.glob(work("out", "*.aside-*")), "a usable checkpoint was there, yet output was set aside"
    got = output(work, "out")
    assert got.count(b"\n") == expected.count(b"\n"), "%d records expected, %d written" % (
        expected.count(b"\n"), got.count(b"\n"))
    assert got == expected, "same number of records, but not the same output"
    assert dlq(work, "out") == expected_dlq, "DLQ entries were lost or duplicated"


def test_incompatible_transform_state_in_both_starts_over(work):
    make_input(work)
    expected, expected_dlq = reference(work)
    cfg = killed_run(work, 0.5, expected)
    for gen in ("checkpoint", "checkpoint.prev"):
        doc = read_checkpoint(work("state-out", gen))
        state = dict(doc["components"]["uniq"]["state"], version=99)
        forge(work("state-out", gen), "uniq", state)
    done = final_run(cfg)
    log = text(done.stderr)
    assert done.returncode == 0, log
    assert log.count("transform 'uniq' cannot read its state") >= 2 and "not a dedup state" in log, log
    assert "starting from the beginning" in log, log
    aside = glob.glob(work("out", "events.jsonl.aside-*"))
    assert len(aside) == 1, "the earlier output was not set aside: %s" % os.listdir(work("out"))
    assert output(work, "out") == expected, "the run that started over did not write everything once"
    assert dlq(work, "out") == expected_dlq, "the DLQ was appended to instead of set aside"


GENERATE = """
data_dir: {dir}/state
{api}
checkpoint: {{interval: 50ms}}
sources:
  gen: {{type: generate, count: {count}, seed: 7, rate: {rate}}}
sinks:
  out: {{type: file, inputs: [gen], path: {dir}/{out}}}
"""


def run_until_checkpoints(work, cfg, port, checkpoints):
    """Runs a pipeline that never ends by itself until it wrote `checkpoints`
    checkpoints, then stops it gracefully; returns its log."""
    proc = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (metric(port, "sluice_checkpoints_total") or 0) >= checkpoints, what="checkpoints")
        unusable = metric(port, "sluice_checkpoint_unusable_total")
    finally:
        code, _, err = stop(proc)
    assert code == 0, text(err)
    return unusable, text(err)


def test_fallback_is_counted(work):
    """sluice_checkpoint_unusable_total counts the generation passed over;
    the generator resumes from checkpoint.prev, so its output is still the
    start of its sequence, each event once."""
    port = free_port()
    cfg = work.write("p.yaml", GENERATE.format(dir=work.path, out="out.jsonl", count=0, rate=2000,
                                               api='api: {address: "127.0.0.1:%d"}' % port))
    unusable, _ = run_until_checkpoints(work, cfg, port, 3)
    assert unusable == 0, "a first run counted %s unusable checkpoints" % unusable
    forge(work("state", "checkpoint"), "gen", {"seed": 7})
    unusable, log = run_until_checkpoints(work, cfg, port, 3)
    assert unusable == 1, "sluice_checkpoint_unusable_total is %s, not 1: %s" % (unusable, log)
    assert "source 'gen' cannot read its state" in log and "no \"seed\" and \"next\"" in log, log
    with open(work("out.jsonl"), "rb") as f:
        got = f.read()
    n = got.count(b"\n")
    ref = run(["run", "--no-progress", work.write("ref.yaml", GENERATE.format(
        dir=work.path, out="ref.jsonl", count=n, rate=0, api="").replace("/state", "/state-ref"))])
    assert ref.returncode == 0, text(ref.stderr)
    with open(work("ref.jsonl"), "rb") as f:
        assert got == f.read(), "the output is not the generator's first %d events, each once" % n


if __name__ == "__main__":
    main([test_malformed_source_state_falls_back_to_prev, test_incompatible_transform_state_in_both_starts_over,
          test_fallback_is_counted])
