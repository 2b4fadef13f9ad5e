"""The report's dead letters are exactly the run's own, also when the run
resumed after a crash: the DLQ is then cut back to the checkpoint (entries
written after it are written again), and the report reads the DLQ file from
where it ended after that cut, not from where it ended before.

A run is killed; entries it wrote after its last checkpoint are made certain
by appending some to the DLQ (as a crash right after writing them leaves
them). The resumed run's report must show, per reason, the first entries the
resumed run wrote, and its count must equal the lines it added to the DLQ.
"""
import json
import os
import random
import re

from harness import bytes_written, main, run, run_killed, text

SEED = 20261209
RECORDS = 20_000

PIPELINE = """
data_dir: {dir}/state
workers: 2
batch: {{max_records: 256}}
checkpoint: {{interval: 20ms}}
report: {{path: {dir}/report.html}}
sources:
  events:
    type: file
    paths: ["{dir}/in/*.jsonl"]
sinks:
  out:
    type: file
    inputs: [events]
    path: "{dir}/out/events.jsonl"
"""


def make_input(work):
    rng = random.Random(SEED)
    os.makedirs(work("in"))
    with open(work("in", "events.jsonl"), "w") as out:
        for n in range(RECORDS):
            out.write('{"n": %d, "broken": \n' % n if rng.random() < 0.05 else json.dumps({"n": n}) + "\n")


def dlq_entries(path, start):
    with open(path, "rb") as f:
        f.seek(start)
        return [json.loads(line) for line in f]


def test_report_shows_this_runs_dead_letters_after_resume(work):
    make_input(work)
    cfg = work.write("p.yaml", PIPELINE.format(dir=work.path))
    dlq = work("state", "dlq", "dlq.jsonl")
    rng = random.Random(SEED)
    assert not run_killed(["run", "--no-progress", cfg], lambda: bytes_written(dlq) > 20_000, rng), \
        "the run ended before its kill"
    with open(dlq, "rb") as f:
        last = json.loads(f.read().splitlines()[-1])
    with open(dlq, "ab") as f:   # entries of the killed run after its last checkpoint
        for k in range(200):
            last["position"]["offset"] = 10 ** 9 + k
            f.write(json.dumps(last).encode() + b"\n")
    before = os.path.getsize(dlq)

    done = run(["run", "--no-progress", cfg])
    log = text(done.stderr)
    assert done.returncode == 0, log
    m = re.search(r"removed (\d+) bytes of entries written after the last checkpoint", log)
    assert m, log
    start = before - int(m.group(1))
    own = dlq_entries(dlq, start)
    assert own and all(e["position"]["offset"] < 10 ** 9 for e in own), "the cut-back left forged entries"
    m = re.search(r"DLQ: (\d+) entries", log)
    assert m and int(m.group(1)) == len(own), "the run counts %s dead letters, it wrote %d" % (
        m and m.group(1), len(own))

    with open(work("report.html"), encoding="utf-8") as f:
        report = f.read()
    shown = [int(o.replace(",", "")) for o in re.findall(r" @ ([\d,]+)</span>", report)]
    first = [e["position"]["offset"] for e in own if e["reason"] == "json_syntax"][:3]
    assert shown == first, "the report shows entries at offsets %s; this run's first are %s" % (shown, first)
    count = re.search(r'<p class="note"[^>]*>([\d,]+) entries in <code>', report)
    assert count and int(count.group(1).replace(",", "")) == len(own), count and count.group(0)


if __name__ == "__main__":
    main([test_report_shows_this_runs_dead_letters_after_resume])
