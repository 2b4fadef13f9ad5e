"""The exactly-once file sink with a thousand templated files.

A path like "out/{{ .model }}.jsonl" with 1,000 models used to collapse:
the sink kept 128 files and closed (and fsynced) the least recently used
one to open the next, so every batch ended hundreds of parts, each fsynced
and published on its own, and the part log grew without bound. This test
runs 1,000 files through a small descriptor limit (ulimit -n 256, so the
sink keeps 32 descriptors) and checks, without timing anything:
  - every file holds exactly its records, in input order, and no part is
    left behind;
  - each checkpoint ends at most one part per file (a descriptor closed to
    open another neither fsyncs nor ends the part);
  - the peak RSS, read from /proc while it runs, stays under memory_limit
    (the per-file buffers are bounded and charged to it).
"""
import json
import os
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


def checkpoint_steps(path):
    """The sink's publish list in a checkpoint file (a header line, then JSON)."""
    with open(path, "rb") as f:
        f.readline()
        doc = json.loads(f.read())
    return doc["components"]["out"]["state"]["publish"]


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
        steps = checkpoint_steps(work("state", name))
        files = [s["file"] for s in steps]
        assert len(files) == len(set(files)), \
            "%s ends %d parts for %d files: parts were ended (and fsynced) before the checkpoint" % (
                name, len(files), len(set(files)))

    print("peak RSS %.1f MiB with memory_limit %d MiB" % (peak[0], MEMORY_LIMIT_MIB))
    assert 0 < peak[0] < MEMORY_LIMIT_MIB, peak[0]


if __name__ == "__main__":
    harness.main([test_thousand_files_exact_and_bounded])
