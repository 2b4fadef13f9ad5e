"""SIGHUP reload under load: a changed transform is swapped in while records
flow, and a broken configuration is rejected while the old pipeline keeps
running; no record is lost or duplicated across the swaps.

The source is `generate` (count 0: until stopped, throttled), whose event i
carries a timestamp in [2026-01-01T00:00:00Z + 10 ms * i, + 10 ms), so the
output can be checked for gaps and duplicates exactly.
"""
import datetime
import json
import os
import signal
import subprocess
import time

from harness import SLUICE, main, read_jsonl, text, wait_for

PIPELINE = """
data_dir: {dir}/state
checkpoint: {{interval: 100ms}}
sources:
  events:
    type: generate
    count: 0
    rate: 20000
transforms:
  shape:
    type: remap
    inputs: [events]
    set: {{version: "{version}"}}   # an expression: the number {version}
sinks:
  out:
    type: file
    inputs: [shape]
    path: {dir}/out/events.jsonl
"""

EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def event_index(record):
    ts = datetime.datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))
    return (ts - EPOCH) // datetime.timedelta(milliseconds=10)   # 10 ms apart, plus 0-9 ms of jitter


def published(work):
    path = work("out", "events.jsonl")
    return os.path.getsize(path) if os.path.exists(path) else 0


def test_reload_swaps_a_changed_transform_and_rejects_a_broken_one(work):
    cfg = work.write("p.yaml", PIPELINE.format(dir=work.path, version="1"))
    log = open(work("sluice.log"), "wb")
    proc = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for(lambda: published(work) > 0, what="first records published")

        work.write("p.yaml", PIPELINE.format(dir=work.path, version="2"))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: b"reloaded" in open(work("sluice.log"), "rb").read(), what="the reload")
        size = published(work)
        wait_for(lambda: published(work) > size, what="records after the reload")

        work.write("p.yaml", PIPELINE.format(dir=work.path, version="3").replace("count: 0", "count: [0"))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: b"reload rejected" in open(work("sluice.log"), "rb").read(), what="the rejection")
        size = published(work)
        wait_for(lambda: published(work) > size, what="records after the rejected reload")
        assert proc.poll() is None, "sluice stopped after a rejected reload"
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        log.close()
    stderr = open(work("sluice.log")).read()
    assert rc == 0, stderr
    assert "p.yaml:" in stderr and "error" in stderr, "the broken config's error was not logged:\n" + stderr

    records = read_jsonl(work("out", "events.jsonl"))
    indexes = [event_index(r) for r in records]
    assert indexes == list(range(len(indexes))), (
        "records lost or duplicated across the reload: %d records, %d distinct, first bad at %s" %
        (len(indexes), len(set(indexes)),
         next((i for i, x in enumerate(indexes) if x != i), None)))
    versions = [r.get("version") for r in records]
    assert 2 in versions, "no record went through the reloaded transform"
    switch = versions.index(2)
    assert switch > 0 and set(versions[:switch]) == {1} and set(versions[switch:]) == {2}, \
        "the new transform did not take over cleanly at one point"


if __name__ == "__main__":
    main([test_reload_swaps_a_changed_transform_and_rejects_a_broken_one])
