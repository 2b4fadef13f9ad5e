"""The tail source under crashes: no line lost, none written twice.

A writer process (seeded) appends N JSON lines to logs/app.log, often in two
writes so that lines are seen half written, and rotates the file by rename
(app.log -> app.log.<generation>) every K lines. Meanwhile `sluice run`
(tail -> file sink, exactly once) is killed with SIGKILL at random moments
at least KILLS times and started again. Once the writer is done, a last run
is left until the output holds N records and stopped with SIGTERM. The
output must be exactly the written lines, in order.

The patterns match the rotated names too (app.log*): a generation that is
written and rotated away entirely while sluice is down is then still found
(the documented way to never miss lines across restarts).

SEED=... in the environment replays a failing run.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

from harness import assert_sequence, main, read_jsonl, start_logged, wait_for

LOG_WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log_writer.py")

N = 4000
K = 350
KILLS = 10


PIPELINE = """
data_dir: %(dir)s/state
checkpoint: {interval: 150ms}
sources:
  logs:
    type: tail
    paths: ["%(dir)s/logs/app.log*"]
    poll_interval: 20ms
    glob_interval: 200ms
    rotate_wait: 200ms
sinks:
  out: {type: file, inputs: [logs], path: "%(dir)s/out/out.jsonl"}
"""


def test_tail_kill_loop(work):
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print("seed", seed, flush=True)
    rng = random.Random(seed)
    os.makedirs(work("logs"))
    work.write("p.yaml", PIPELINE % {"dir": work.path})
    writer = subprocess.Popen([sys.executable, LOG_WRITER, work("logs"), str(seed), str(N), str(K), "rename"])
    kills = 0
    try:
        while kills < KILLS or writer.poll() is None:
            proc = start_logged(work, ["run", work("p.yaml")])
            time.sleep(rng.uniform(0.05, 0.9))
            if proc.poll() is not None:
                raise AssertionError("sluice exited by itself (%s); see %s" % (proc.returncode, work("sluice.log")))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        assert writer.wait() == 0, "the writer failed"
        proc = start_logged(work, ["run", work("p.yaml")])
        out = work("out", "out.jsonl")
        try:
            wait_for(lambda: len(read_jsonl(out)) >= N, timeout=60, what="all %d records in the output" % N)
            time.sleep(0.5)   # anything more (a duplicate) would show up now
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
        assert rc == 0, "the last run exited %s; see %s" % (rc, work("sluice.log"))
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert_sequence([r["seq"] for r in read_jsonl(out)], N, seed, work("sluice.log"))
    assert kills >= KILLS
    dlq = work("state", "dlq", "dlq.jsonl")
    assert not os.path.exists(dlq) or os.path.getsize(dlq) == 0, "unexpected dead letters: " + open(dlq).read()[:2000]


if __name__ == "__main__":
    main([test_tail_kill_loop])
