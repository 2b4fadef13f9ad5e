#!/usr/bin/env python3
"""The benchmark: sluice side by side with its peers on the same work.

    python3 bench/run.py build/release/sluice [--events 1000000] [--runs 3]

Workloads (on the same generated input, ~390-byte JSON events):
  W1 passthrough       JSONL file -> decode -> encode -> JSONL file
  W2 filter + reshape  keep level warn/error, delete `prompt`, rename
                       `latency_ms` -> `latency`, add "pipeline":"bench"
Peers: `jq -c` and `mlr` (Miller), from Debian. Fluent Bit is not packaged in
Debian, so it cannot be installed here; see docs/performance.md.

For each (workload, tool) the command runs --runs times; the table shows the
median wall time, throughput in MB/s of input, CPU seconds (user + system),
peak RSS, and the throughput ratio to jq. Every tool's output is checked
against the expected transformation computed here (numbers compared exactly,
as decimals); W1 output of sluice must be byte-identical to its input.
"""
import argparse
import decimal
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import events  # noqa: E402

W2_JQ = ('select(.level == "warn" or .level == "error") | del(.prompt) '
         '| .latency = .latency_ms | del(.latency_ms) | .pipeline = "bench"')
W2_MLR = ["filter", '$level == "warn" || $level == "error"', "then", "cut", "-x", "-f", "prompt",
          "then", "rename", "latency_ms,latency", "then", "put", '$pipeline = "bench"']

SLUICE_W1 = """\
data_dir: {state}
sources:
  in: {{type: file, paths: ["{input}"]}}
sinks:
  out: {{type: file, inputs: [in], path: "{output}"}}
"""

SLUICE_W2 = """\
data_dir: {state}
sources:
  in: {{type: file, paths: ["{input}"]}}
transforms:
  keep:
    type: filter
    inputs: [in]
    condition: '.level == "warn" || .level == "error"'
  shape:
    type: remap
    inputs: [keep]
    rename: {{latency_ms: latency}}
    set: {{pipeline: '"bench"'}}
    delete: [prompt]
sinks:
  out: {{type: file, inputs: [shape], path: "{output}"}}
"""


def measure(argv, stdin_path, stdout_path):
    """Runs argv with wait4 to get its own rusage."""
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit("benchmark command failed (exit %d): %s" % (proc.returncode, " ".join(argv)))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def exact(line):
    return json.loads(line, parse_float=decimal.Decimal)


def expected_w2(record):
    if record["level"] not in ("warn", "error"):
        return None
    out = {k: v for k, v in record.items() if k != "prompt"}
    out["latency"] = out.pop("latency_ms")
    out["pipeline"] = "bench"
    return out


def check_output(workload, tool, input_path, output_path):
    """Returns None when the output is the expected transformation, else why not."""
    if workload == "W1" and tool == "sluice":
        with open(input_path, "rb") as a, open(output_path, "rb") as b:
            while True:
                x, y = a.read(1 << 20), b.read(1 << 20)
                if x != y:
                    return "output is not byte-identical to the input"
                if not x:
                    return None
    with open(input_path) as fin, open(output_path) as fout:
        for n, line in enumerate(fin):
            want = exact(line) if workload == "W1" else expected_w2(exact(line))
            if want is None:
                continue
            got = fout.readline()
            if not got:
                return "output ends early (record %d missing)" % n
            if exact(got) != want:
                return "record %d differs: %s" % (n, got.strip()[:200])
        if fout.readline():
            return "output has extra records"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sluice")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="sluice,jq,mlr")
    ap.add_argument("--workdir", default="build/bench")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    work = os.path.abspath(args.workdir)
    input_path = os.path.join(work, "events-%d.jsonl" % args.events)
    if not os.path.exists(input_path):
        print("generating %d events -> %s" % (args.events, input_path), flush=True)
        events.write_events(input_path + ".tmp", args.events)
        os.rename(input_path + ".tmp", input_path)
    input_mb = os.path.getsize(input_path) / 1e6
    sluice = os.path.abspath(args.sluice)
    tools = args.tools.split(",")

    def commands(workload, output):
        cfg = os.path.join(work, "%s.yaml" % workload)
        template = SLUICE_W1 if workload == "W1" else SLUICE_W2
        with open(cfg, "w") as f:
            f.write(template.format(state=os.path.join(work, "state"), input=input_path, output=output))
        return {
            "sluice": [sluice, "run", "--no-progress", cfg],
            "jq": ["jq", "-c", "." if workload == "W1" else W2_JQ],
            "mlr": ["mlr", "--ijsonl", "--ojsonl", "cat"] if workload == "W1"
                   else ["mlr", "--ijsonl", "--ojsonl"] + W2_MLR,
        }

    rows = []
    for workload in ("W1", "W2"):
        for tool in tools:
            output = os.path.join(work, "%s-%s.out.jsonl" % (workload, tool))
            argv = commands(workload, output)[tool]
            # sluice reads the file itself; peers read stdin and write stdout.
            stdin_path = os.devnull if tool == "sluice" else input_path
            stdout_path = os.devnull if tool == "sluice" else output
            samples = []
            for _ in range(args.runs):
                if os.path.exists(output):
                    os.remove(output)
                samples.append(measure(argv, stdin_path, stdout_path))
                print("  %s %-6s %.2fs" % (workload, tool, samples[-1][0]), flush=True)
            problem = check_output(workload, tool, input_path, output)
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.median(s[1] for s in samples)
            rss = max(s[2] for s in samples)
            rows.append((workload, tool, wall, input_mb / wall, cpu, rss / 2**20, problem))

    print()
    print("input: %d events, %.1f MB; median of %d runs on %d CPUs" % (args.events, input_mb, args.runs, os.cpu_count()))
    print("| workload | tool | wall s | MB/s | CPU s | peak RSS MiB | vs jq | output |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    jq_rate = {r[0]: r[3] for r in rows if r[1] == "jq"}
    failed = False
    for workload, tool, wall, rate, cpu, rss, problem in rows:
        ratio = "%.1fx" % (rate / jq_rate[workload]) if workload in jq_rate else "-"
        verdict = "ok" if problem is None else "WRONG: " + problem
        failed |= tool == "sluice" and problem is not None
        print("| %s | %s | %.2f | %.0f | %.2f | %.0f | %s | %s |" % (workload, tool, wall, rate, cpu, rss, ratio, verdict))
    if failed:
        sys.exit("sluice produced wrong output")


if __name__ == "__main__":
    main()
