"""Sink failures with the real file sink: a write fails because the sink's
directory is a regular file (ENOTDIR, which root cannot bypass, unlike a
chmod), and is restored or not. Retries and the breaker must deliver every
record exactly once when it recovers; a sink that never recovers must send
every record to the DLQ or the fallback, and the run must still end.
"""
import json
import os
import subprocess
import time

import harness

RECORDS = 3000


def write_input(work, n=RECORDS):
    lines = ["{\"n\":%d}" % i for i in range(n)]
    work.write("in.jsonl", "\n".join(lines) + "\n")
    return lines


def config(work, sink_options, extra_sinks=""):
    return work.write("p.yaml", (
        "data_dir: %s\n"
        "batch: {max_records: 100}\n"
        "sources:\n"
        "  in:\n"
        "    type: file\n"
        "    paths: [%s]\n"
        "sinks:\n"
        "  out:\n"
        "    type: file\n"
        "    inputs: [in]\n"
        "    path: %s\n"
        "%s%s") % (work("data"), work("in.jsonl"), work("out", "sub", "a.jsonl"), sink_options, extra_sinks))


def block_directory(work):
    """Makes out/sub a regular file: opening out/sub/a.jsonl fails."""
    os.makedirs(work("out"), exist_ok=True)
    work.write("out/sub", "not a directory\n")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def test_recovers_after_outage(work):
    lines = write_input(work)
    block_directory(work)
    path = config(work, "    retry: {initial: 20ms, max: 100ms, max_attempts: 0}\n"
                        "    breaker: {failures: 3, cooldown: 200ms}\n")
    with open(work("stderr"), "wb") as err:
        proc = subprocess.Popen([harness.SLUICE, "run", path], stdout=subprocess.DEVNULL, stderr=err)
        harness.wait_for(lambda: "circuit breaker open" in open(work("stderr")).read(), what="breaker open")
        time.sleep(0.5)          # a few cooldowns and failed probes
        os.remove(work("out", "sub"))
        rc = proc.wait(timeout=60)
    log = open(work("stderr")).read()
    assert rc == 0, log
    assert "Not a directory" in log, log
    assert "circuit breaker closed" in log, log
    # no loss, no duplicates, in order
    assert read_lines(work("out", "sub", "a.jsonl")) == lines
    assert not os.path.exists(work("data", "dlq", "dlq.jsonl"))


def test_permanent_failure_goes_to_dlq(work):
    lines = write_input(work)
    block_directory(work)
    path = config(work, "    retry: {initial: 1ms, max: 5ms, max_attempts: 3}\n"
                        "    breaker: {failures: 3, cooldown: 1h}\n")
    start = time.monotonic()
    proc = harness.run(["run", path])
    log = harness.text(proc.stderr)
    assert proc.returncode == 0, log
    assert time.monotonic() - start < 30, "the open breaker must fail fast"
    entries = harness.read_jsonl(work("data", "dlq", "dlq.jsonl"))
    assert len(entries) == RECORDS, len(entries)
    assert {e["reason"] for e in entries} == {"sink_failed"}
    assert {e["component"] for e in entries} == {"out"}
    assert sorted(e["raw"] for e in entries) == sorted(lines)
    assert "Not a directory" in entries[0]["message"], entries[0]
    assert any("circuit breaker open" in e["message"] for e in entries)
    assert not os.path.exists(work("out", "sub", "a.jsonl"))


def test_on_failure_fail_stops_the_run(work):
    write_input(work)
    block_directory(work)
    path = config(work, "    retry: {initial: 1ms, max: 5ms, max_attempts: 2}\n    on_failure: fail\n")
    proc = harness.run(["run", path])
    log = harness.text(proc.stderr)
    assert proc.returncode != 0, log
    assert "sink 'out': write failed 2 times: cannot open" in log, log
    assert not os.path.exists(work("data", "dlq", "dlq.jsonl"))


def test_fallback_gets_every_record(work):
    lines = write_input(work)
    block_directory(work)
    path = config(work, "    retry: {initial: 1ms, max: 5ms, max_attempts: 2}\n    fallback: local\n",
                  "  local:\n    type: file\n    path: %s\n" % work("local", "b.jsonl"))
    proc = harness.run(["run", path])
    log = harness.text(proc.stderr)
    assert proc.returncode == 0, log
    assert read_lines(work("local", "b.jsonl")) == lines
    assert not os.path.exists(work("data", "dlq", "dlq.jsonl"))


def test_check_reports_bad_options(work):
    write_input(work)
    path = config(work, "    retry: {intial: 1s}\n    fallback: elsewhere\n")
    proc = harness.run(["check", path])
    err = harness.text(proc.stderr) + harness.text(proc.stdout)
    assert proc.returncode != 0, err
    assert "p.yaml:12:13: error: unknown option 'retry.intial'; did you mean 'retry.initial'?" in err, err
    path = config(work, "    fallback: elsewhere\n")
    proc = harness.run(["check", path])
    err = harness.text(proc.stderr) + harness.text(proc.stdout)
    assert "p.yaml:12:15: error: fallback 'elsewhere' is not a sink of this pipeline" in err, err


def test_reference_documents_the_options_once(work):
    proc = harness.run(["help", "--reference"])
    out = harness.text(proc.stdout)
    assert out.count("## Options every sink accepts") == 1
    sinks = out[out.index("\n## Sinks"):]
    for option in ("retry.initial", "retry.max", "retry.max_attempts", "breaker.failures",
                   "breaker.cooldown", "fallback", "on_failure"):
        assert sinks.count("| `%s` |" % option) == 1, option


if __name__ == "__main__":
    harness.main([test_recovers_after_outage, test_permanent_failure_goes_to_dlq,
                  test_on_failure_fail_stops_the_run, test_fallback_gets_every_record,
                  test_check_reports_bad_options, test_reference_documents_the_options_once])
