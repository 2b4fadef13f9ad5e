"""sluice's own state belongs to one pipeline and one process at a time.

- Without `data_dir`, each pipeline file gets a directory of its own
  (.sluice/<name>): two pipelines run from one directory never resume each
  other's checkpoints.
- A checkpoint written by another pipeline (a shared data_dir) is refused,
  naming the sources and sinks that differ and --from-start.
- A second run on a data_dir in use is refused, naming the first one's pid;
  the first one's output is untouched.
- Rerunning a finished batch job says there is nothing new, and since when.
- A checkpoint replaced by a directory, or one with a matching checksum and
  a body that is not a checkpoint, falls back to the previous one.
- Falling back to an older checkpoint removes the files published after
  it; with none at all, the earlier output is moved aside.
- Checkpoints that cannot be written are counted in
  sluice_checkpoint_failures_total (the run goes on).
"""
import glob
import os
import re
import subprocess
import time

from harness import SLUICE, crc32c, free_port, main, metric, read_jsonl, run, text, wait_for

GENERATE = """
{data_dir}
{api}
checkpoint: {{interval: 50ms}}
sources:
  gen: {{type: generate, count: {count}, seed: 7, rate: {rate}}}
sinks:
  {sink}: {{type: file, inputs: [gen], path: {out}}}
"""


def pipeline(work, name, out, count=2000, rate=0, data_dir=None, sink="out", api=None):
    return work.write(name, GENERATE.format(
        data_dir="data_dir: %s" % data_dir if data_dir else "", count=count, rate=rate, sink=sink,
        out=work(out), api='api: {address: "127.0.0.1:%d"}' % api if api else ""))


def lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def test_each_pipeline_has_its_own_state(work):
    a = pipeline(work, "a.yaml", "out-a.jsonl", count=1500)
    b = pipeline(work, "b.yaml", "out-b.jsonl", count=700)
    for cfg in (a, b, a, b):
        r = run(["run", "--no-progress", cfg], cwd=work.path)
        assert r.returncode == 0, text(r.stderr)
    assert lines(work("out-a.jsonl")) == 1500 and lines(work("out-b.jsonl")) == 700
    assert os.path.exists(work(".sluice", "a", "checkpoint")) and os.path.exists(work(".sluice", "b", "checkpoint"))


def test_checkpoint_of_the_old_shared_layout_is_not_guessed(work):
    """A checkpoint left in .sluice itself (the default of earlier versions,
    shared by every pipeline): the run stops and says what to do, rather
    than reading everything again next to it; --from-start goes ahead."""
    os.makedirs(work(".sluice"))
    with open(work(".sluice", "checkpoint"), "wb") as f:
        f.write(b"sluice-checkpoint 1 2 00000000\n{}")
    cfg = pipeline(work, "p.yaml", "out.jsonl")
    r = run(["run", "--no-progress", cfg], cwd=work.path)
    err = text(r.stderr)
    assert r.returncode == 1 and not os.path.exists(work("out.jsonl")), err
    assert "earlier version of sluice" in err and "into .sluice/p" in err and "--from-start" in err, err
    r = run(["run", "--no-progress", "--from-start", cfg], cwd=work.path)
    assert r.returncode == 0 and lines(work("out.jsonl")) == 2000, text(r.stderr)


def test_printing_pipeline_needs_no_data_dir(work):
    """stdin to stdout without the write-ahead log keeps nothing: it takes no
    lock and creates no data_dir (it runs in a directory it cannot write).
    Without the log it cannot take part in checkpoints, which the user
    accepts with checkpoint.required: false."""
    cfg = work.write("s.yaml", "checkpoint: {required: false}\n"
                               "sources: {in: {type: stdin, wal: {enabled: false}}}\n"
                               "sinks: {out: {type: stdout, inputs: [in]}}\n")
    r = run(["run", "--no-progress", cfg], cwd=work.path, input=b'{"a":1}\n')
    assert r.returncode == 0 and r.stdout == b'{"a":1}\n', text(r.stderr)
    assert not os.path.exists(work(".sluice")), os.listdir(work.path)


def test_rerun_says_nothing_new(work):
    cfg = pipeline(work, "p.yaml", "out.jsonl")
    assert run(["run", "--no-progress", cfg], cwd=work.path).returncode == 0
    again = run(["run", "--no-progress", cfg], cwd=work.path)
    err = text(again.stderr)
    assert again.returncode == 0, err
    assert re.search(r"nothing new since checkpoint \d+ of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", err), err
    assert "--from-start" in err and "component" not in err, err
    assert lines(work("out.jsonl")) == 2000


def test_checkpoint_of_another_pipeline_is_refused(work):
    state = work("shared")
    a = pipeline(work, "a.yaml", "out-a.jsonl", data_dir=state)
    b = pipeline(work, "b.yaml", "out-b.jsonl", data_dir=state, sink="other")
    assert run(["run", "--no-progress", a]).returncode == 0
    r = run(["run", "--no-progress", b])
    err = text(r.stderr)
    assert r.returncode != 0, err
    assert "written by another pipeline (%s)" % a in err, err
    assert "sink 'out' (file) only in the checkpoint" in err and "sink 'other' (file) only in this pipeline" in err
    assert "--from-start" in err, err
    assert not os.path.exists(work("out-b.jsonl")) and lines(work("out-a.jsonl")) == 2000
    r = run(["run", "--no-progress", "--from-start", b])
    assert r.returncode == 0 and lines(work("out-b.jsonl")) == 2000, text(r.stderr)


def test_second_run_on_a_data_dir_is_refused(work):
    ref = pipeline(work, "ref.yaml", "ref.jsonl", count=3000)
    assert run(["run", "--no-progress", ref], cwd=work.path).returncode == 0
    cfg = pipeline(work, "p.yaml", "out.jsonl", count=3000, rate=1500, data_dir=work("state"))
    first = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.path.exists(work("state", "checkpoint")), what="the first run's checkpoint")
        second = run(["run", "--no-progress", cfg])
        err = text(second.stderr)
        assert first.poll() is None, "the first run ended too soon for the test"
        assert second.returncode != 0, err
        assert "in use by another sluice run (pid %d)" % first.pid in err, err
        _, first_err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, text(first_err)
    with open(work("out.jsonl"), "rb") as f, open(work("ref.jsonl"), "rb") as g:
        assert f.read() == g.read(), "the refused run changed the first one's output"


def checkpoint_bytes(doc):
    return b"sluice-checkpoint 1 %d %08x\n" % (len(doc), crc32c(doc)) + doc


def test_damaged_newest_falls_back(work):
    """The newest checkpoint replaced by a directory, then by a document with
    the right checksum that is not a checkpoint: each run falls back to the
    previous generation, says so, and the output stays whole."""
    cfg = pipeline(work, "p.yaml", "out.jsonl", count=3000, data_dir=work("state"))
    assert run(["run", "--no-progress", cfg]).returncode == 0
    newest = work("state", "checkpoint")
    os.remove(newest)
    os.mkdir(newest)
    r = run(["run", "--no-progress", cfg])
    assert r.returncode == 0, text(r.stderr)
    assert "checkpoint: not a file" in text(r.stderr) and "resuming from the previous" in text(r.stderr)
    assert "moved it aside" in text(r.stderr), text(r.stderr)
    assert os.path.isfile(newest)
    with open(newest, "wb") as f:
        f.write(checkpoint_bytes(b'{"sluice_checkpoint":1,"epoch":"x"}'))
    r = run(["run", "--no-progress", cfg])
    assert r.returncode == 0, text(r.stderr)
    assert "checkpoint: malformed" in text(r.stderr) and "resuming from the previous" in text(r.stderr)
    assert lines(work("out.jsonl")) == 3000


TWO_SINKS = """
data_dir: {d}/st
sources:
  gen: {{type: generate, count: 1000, seed: 3}}
sinks:
  plain: {{type: file, inputs: [gen], path: {d}/out/all.jsonl}}
  split: {{type: file, inputs: [gen], path: "{d}/out/{{{{ .service }}}}/part.jsonl"}}
"""


def outputs(work):
    """Records in the plain file, and in the templated ones together."""
    split = sum(lines(p) for p in glob.glob(work("out", "*", "part.jsonl")))
    return lines(work("out", "all.jsonl")), split


def test_fallback_takes_back_later_output(work):
    """A finished run's newest checkpoint is deleted: the rerun resumes from
    the one before it, whose files did not exist yet, so they are removed
    and written again, not appended to. With both generations damaged the
    earlier output is moved aside."""
    cfg = work.write("p.yaml", TWO_SINKS.format(d=work.path))
    assert run(["run", "--no-progress", cfg]).returncode == 0
    assert outputs(work) == (1000, 1000)
    os.remove(work("st", "checkpoint"))
    r = run(["run", "--no-progress", cfg])
    assert r.returncode == 0, text(r.stderr)
    assert outputs(work) == (1000, 1000), text(r.stderr)
    for name in ("checkpoint", "checkpoint.prev"):
        with open(work("st", name), "r+b") as f:
            f.write(b"garbage")
    r = run(["run", "--no-progress", cfg])
    assert r.returncode == 0, text(r.stderr)
    assert outputs(work) == (1000, 1000), text(r.stderr)
    assert "no usable checkpoint to resume from: moved the" in text(r.stderr), text(r.stderr)
    aside = glob.glob(work("out", "all.jsonl.aside-*")) + glob.glob(work("out", "*", "part.jsonl.aside-*"))
    assert sum(lines(p) for p in aside) == 2000, aside


def test_checkpoint_write_failures_are_counted(work):
    """A checkpoint that cannot be written (here: its temporary file's name
    is taken by a directory) is counted, the run goes on, and the next
    checkpoints are written once the obstacle is gone."""
    port = free_port()
    cfg = pipeline(work, "p.yaml", "out.jsonl", count=0, rate=2000, data_dir=work("state"), api=port)
    proc = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (metric(port, "sluice_checkpoints_total") or 0) >= 2, what="checkpoints")
        # Block every temporary name the next checkpoints can take.
        blocked = [work("state", "checkpoint.tmp-%d-%d" % (proc.pid, n)) for n in range(3000)]
        for path in blocked[:3000]:
            os.mkdir(path)
        wait_for(lambda: (metric(port, "sluice_checkpoint_failures_total") or 0) >= 1, what="a failure")
        for path in blocked[:3000]:
            os.rmdir(path)
        ok = metric(port, "sluice_checkpoints_total")
        wait_for(lambda: metric(port, "sluice_checkpoints_total") > ok, what="checkpoints after the failure")
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, text(err)
    assert "cannot write checkpoint" in text(err), text(err)


if __name__ == "__main__":
    main([test_each_pipeline_has_its_own_state, test_checkpoint_of_the_old_shared_layout_is_not_guessed,
          test_printing_pipeline_needs_no_data_dir, test_rerun_says_nothing_new,
          test_checkpoint_of_another_pipeline_is_refused, test_second_run_on_a_data_dir_is_refused,
          test_damaged_newest_falls_back, test_fallback_takes_back_later_output,
          test_checkpoint_write_failures_are_counted])
