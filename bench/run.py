#!/usr/bin/env python3
"""The benchmark: sluice side by side with its peers on the same work.

    python3 bench/run.py build/release/sluice [--events 1000000] [--runs 3]
                         [--baseline OLD_BINARY]

Workloads (on the same generated input, ~390-byte JSON events):
  W1 passthrough       JSONL file -> decode -> encode -> JSONL file (no checkpoints)
  W1s W1 from stdin    `cat events | sluice ...`: the stdin source, wal.enabled: false
  W1c W1 checkpointed  W1 with checkpoints every 1 s (at-least-once sink): the
                       file twin of W1sw
  W1sw stdin + WAL     `cat events | sluice ...`: the stdin source with its
                       write-ahead log (the default), checkpoints every 1 s
  W1x W1 exactly-once  W1 with checkpoints every 1 s and the exactly-once file sink
  W2 filter + reshape  keep level warn/error, delete `prompt`, rename
                       `latency_ms` -> `latency`, add "pipeline":"bench"
  W3 W1 + contract     a 10-rule `validate` contract on every record
  W4 W1 + profile      a `profile` of every field (sketches)
  W5 corpus cleaning   >= 100,000 documents of 1-5 KB: normalize + redact +
                       exact dedup + near dedup + text_quality -> dataset
                       shards; W5n is near dedup alone, compared with a
                       plain-Python MinHash LSH (bench/minhash_ref.py)
  DRIFT                the events split at random into two halves; `sluice
                       profile` of one half is the baseline of the other and
                       of itself (`--fail-on warn`): no field may drift
  NEAR recall          near dedup's recall per Jaccard similarity on planted
                       pairs (bench/planted_pairs.py, 1,000 pairs per value),
                       defaults and `preset: datatrove`
  WF many files        W1x with a templated path, `out/{{ .group }}.jsonl` (10 files)
                       against `out/{{ .model }}.jsonl` (1,000 files), on the events
                       with those two fields added; quotes the 1,000/10 ratio
  WAL append           `sluice wal bench`: 256-byte records appended to the
                       write-ahead log with group commit (10 ms) and with
                       sync always; records/s, MB/s, fsyncs and their latency
Peers, for W1 and W2: `jq -c` and `mlr` (Miller), from Debian; for W1 also
`cat` (input file to output file: the floor of reading and writing the bytes).
Fluent Bit is not packaged in Debian, so it cannot be installed here; see
docs/performance.md.

For each (workload, tool) the command runs --runs times; the table shows the
median wall time, throughput in MB/s of input, CPU seconds (user + system) of
the tool's own process, CPU seconds per GB of input, peak RSS, and the
throughput ratio to jq. In the stdin workloads `cat` feeds sluice through a
pipe: the wall time is the pipeline's, the CPU seconds are sluice's alone
(cat's are the `cat` row of W1). Every tool's output is checked against the
expected transformation computed here (numbers compared exactly, as
decimals); the W1-shaped output of sluice (and cat) must be byte-identical to
its input.

--baseline OLD_BINARY runs a previous build in the same benchmark, side by
side with the current one, for the sluice workloads of the first table: each
run executes both binaries one after the other, alternating which goes first,
and a second table shows each binary's median wall and CPU seconds and the
paired ratio (the median over runs of current / baseline, for wall time and
for CPU seconds; below 1.00 the current build is faster). The baseline's
output is checked too. W5 and W5n run both binaries the same way; their
table gives the documents per CPU-second of each and the paired ratio of
those (current / baseline: above 1.00 the current build is faster).
"""
import argparse
import decimal
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import events  # noqa: E402
import planted_pairs  # noqa: E402

W2_JQ = ('select(.level == "warn" or .level == "error") | del(.prompt) '
         '| .latency = .latency_ms | del(.latency_ms) | .pipeline = "bench"')
W2_MLR = ["filter", '$level == "warn" || $level == "error"', "then", "cut", "-x", "-f", "prompt",
          "then", "rename", "latency_ms,latency", "then", "put", '$pipeline = "bench"']

# W1 is the engine without durability (no checkpoints, appending sink), the
# baseline every other workload is compared with; W1x is W1 as sluice runs it
# by default: checkpoints every second and the exactly-once file sink
# (two-phase commit: parts fsynced at each checkpoint, then published).
SLUICE_W1 = """\
data_dir: {state}
checkpoint: {{enabled: false}}
sources:
  in: {{type: file, paths: ["{input}"]}}
sinks:
  out: {{type: file, inputs: [in], path: "{output}", delivery: at_least_once}}
"""

# W1s: W1 reading standard input (`cat events | sluice run`), without the
# write-ahead log, which W1 (checkpoints off) would not use anyway.
SLUICE_W1S = SLUICE_W1.replace('{{type: file, paths: ["{input}"]}}', "{{type: stdin, wal: {{enabled: false}}}}")

# W1c: W1 with checkpoints every second and the at-least-once sink; W1sw is
# the same reading standard input through the write-ahead log (the default
# whenever checkpoints are on), so W1sw / W1c is what stdin and its log cost.
SLUICE_W1C = SLUICE_W1.replace("checkpoint: {{enabled: false}}", "checkpoint: {{interval: 1s}}")
SLUICE_W1SW = SLUICE_W1C.replace('{{type: file, paths: ["{input}"]}}', "{{type: stdin}}")

SLUICE_W1X = """\
data_dir: {state}
checkpoint: {{interval: 1s}}
sources:
  in: {{type: file, paths: ["{input}"]}}
sinks:
  out: {{type: file, inputs: [in], path: "{output}", delivery: exactly_once}}
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


# W3 and W4 put data-quality stages into W1; their output must still be the
# input, byte for byte (every generated event satisfies the contract).
SLUICE_W3 = SLUICE_W1.replace("""sinks:
  out: {{type: file, inputs: [in]""", """transforms:
  contract:
    type: validate
    inputs: [in]
    fields:
      ts: {{type: timestamp, required: true}}
      level: {{type: string, enum: [debug, info, warn, error]}}
      service: {{type: string, required: true, min_length: 1}}
      host: {{type: string, regex: '^node-[0-9]+$'}}
      user.id: {{type: int, min: 1}}
      user.email: {{type: string, format: email}}
      latency_ms: {{type: float, min: 0}}
      status: {{type: int, min: 100, max: 599}}
      tokens.in: {{type: int, min: 0, max: 100000}}
      request_id: {{type: string, regex: '^[0-9a-f]{{16}}$'}}
sinks:
  out: {{type: file, inputs: [contract]""")

SLUICE_W4 = SLUICE_W1.replace("""sinks:
  out: {{type: file, inputs: [in]""", """transforms:
  profile: {{type: profile, inputs: [in]}}
sinks:
  out: {{type: file, inputs: [profile]""")

SLUICE_TEMPLATES = {"W1": SLUICE_W1, "W1s": SLUICE_W1S, "W1c": SLUICE_W1C, "W1sw": SLUICE_W1SW, "W1x": SLUICE_W1X,
                    "W2": SLUICE_W2, "W3": SLUICE_W3, "W4": SLUICE_W4}
FROM_STDIN = {"W1s", "W1sw"}  # `cat events | sluice run`
# (workload, the file workload it is compared with) for the stdin summary
STDIN_TWINS = [("W1s", "W1"), ("W1sw", "W1c")]

# W5: a training corpus through every cleaning stage into dataset shards.
# The API is on so that the dedup index size can be read while it runs.
SLUICE_W5 = """\
data_dir: {state}
api: {{address: "127.0.0.1:{port}"}}
sources:
  corpus: {{type: file, paths: ["{input}"]}}
transforms:
  clean: {{type: normalize, inputs: [corpus], fields: [text]}}
  scrub: {{type: redact, inputs: [clean], fields: [text]}}
  exact: {{type: dedup, inputs: [scrub], mode: exact, fields: [text], normalize: true}}
  near: {{type: dedup, inputs: [exact], mode: near, fields: [text]}}
  quality: {{type: text_quality, inputs: [near], field: text, action: drop}}
sinks:
  shards: {{type: dataset, inputs: [quality], path: "{output}", overwrite: true,
            split: {{key: id, train: 0.98, validation: 0.01, test: 0.01}}}}
"""
# W5n: near dedup alone, the same work as the Python reference.
SLUICE_W5N = """\
data_dir: {state}
api: {{address: "127.0.0.1:{port}"}}
sources:
  corpus: {{type: file, paths: ["{input}"]}}
transforms:
  near: {{type: dedup, inputs: [corpus], mode: near, fields: [text]}}
sinks:
  out: {{type: blackhole, inputs: [near]}}
"""
PEERS = {"jq": {"W1", "W2"}, "mlr": {"W1", "W2"}, "cat": {"W1"}}   # workloads other tools can do too
PASSTHROUGH = {"W1", "W1s", "W1c", "W1sw", "W1x", "W3", "W4"}
BYTE_EXACT = {"sluice", "baseline", "cat"}   # their passthrough output must be the input, byte for byte


@functools.lru_cache(maxsize=None)
def rusage_tool():
    """bench/rusage.c, compiled once per benchmark run."""
    out = os.path.join(tempfile.mkdtemp(prefix="sluice-bench-"), "rusage")
    subprocess.run(["gcc", "-O2", "-o", out, os.path.join(os.path.dirname(os.path.abspath(__file__)), "rusage.c")],
                   check=True)
    return out


def measure(argv, stdin_path, stdout_path, pipe_from_cat=False):
    """Runs argv and returns its wall seconds, CPU seconds and peak RSS
    bytes, its own (bench/rusage.c says why not os.wait4). With
    pipe_from_cat its standard input is a pipe that `cat stdin_path` writes."""
    report = os.path.join(os.path.dirname(rusage_tool()), "report")
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        start = time.monotonic()
        feeder = subprocess.Popen(["cat"], stdin=fin, stdout=subprocess.PIPE) if pipe_from_cat else None
        proc = subprocess.Popen([rusage_tool(), report] + argv, stdin=feeder.stdout if feeder else fin, stdout=fout,
                                stderr=subprocess.DEVNULL)
        if feeder:
            feeder.stdout.close()   # sluice holds the only reading end
        proc.wait()
        wall = time.monotonic() - start
        if feeder and feeder.wait() != 0:
            sys.exit("cat failed to feed: " + " ".join(argv))
    if proc.returncode != 0:
        sys.exit("benchmark command could not be measured (rusage exit %d): %s" % (proc.returncode, " ".join(argv)))
    with open(report) as f:
        utime, stime, maxrss_kib, status = f.read().split()
    if int(status) != 0:
        sys.exit("benchmark command failed (exit %s): %s" % (status, " ".join(argv)))
    return wall, float(utime) + float(stime), int(maxrss_kib) * 1024


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
    if workload in PASSTHROUGH and tool in BYTE_EXACT:
        with open(input_path, "rb") as a, open(output_path, "rb") as b:
            while True:
                x, y = a.read(1 << 20), b.read(1 << 20)
                if x != y:
                    return "output is not byte-identical to the input"
                if not x:
                    return None
    with open(input_path) as fin, open(output_path) as fout:
        for n, line in enumerate(fin):
            want = exact(line) if workload in PASSTHROUGH else expected_w2(exact(line))
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
    ap.add_argument("--tools", default="sluice,cat,jq,mlr")
    ap.add_argument("--workloads", default="W1,W1s,W1c,W1sw,W1x,W2,W3,W4,W5,DRIFT,NEAR,WF,WAL")
    ap.add_argument("--baseline", metavar="BIN", help="a previous sluice build, run side by side with SLUICE "
                    "(alternating, paired) in the workloads of the first table")
    ap.add_argument("--corpus-docs", type=int, default=100_000)
    ap.add_argument("--workdir", default="build/bench")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    work = os.path.abspath(args.workdir)
    input_path = os.path.join(work, "events-%d.jsonl" % args.events)
    event_workloads = set(args.workloads.split(",")) - {"W5", "NEAR", "WAL"}
    if event_workloads and not os.path.exists(input_path):
        print("generating %d events -> %s" % (args.events, input_path), flush=True)
        events.write_events(input_path + ".tmp", args.events)
        os.rename(input_path + ".tmp", input_path)
    input_mb = os.path.getsize(input_path) / 1e6 if event_workloads else 0
    sluice = os.path.abspath(args.sluice)
    tools = args.tools.split(",")

    binaries = {"sluice": sluice}
    if args.baseline:
        binaries["baseline"] = os.path.abspath(args.baseline)
        tools = ["sluice", "baseline"] + [t for t in tools if t != "sluice"]

    def command(workload, tool, output):
        """(argv, stdin path, stdout path, fed by cat) of one tool in one workload."""
        if tool in binaries:
            cfg = os.path.join(work, "%s-%s.yaml" % (workload, tool))
            with open(cfg, "w") as f:
                f.write(SLUICE_TEMPLATES[workload].format(state=os.path.join(work, "state"), input=input_path,
                                                          output=output))
            stdin = input_path if workload in FROM_STDIN else os.devnull
            return [binaries[tool], "run", "--no-progress", cfg], stdin, os.devnull, workload in FROM_STDIN
        # peers read stdin and write stdout
        argv = {
            "cat": ["cat"],
            "jq": ["jq", "-c", "." if workload == "W1" else W2_JQ],
            "mlr": ["mlr", "--ijsonl", "--ojsonl", "cat"] if workload == "W1"
                   else ["mlr", "--ijsonl", "--ojsonl"] + W2_MLR,
        }[tool]
        return argv, input_path, output, False

    def run_once(workload, tool, output):
        argv, stdin_path, stdout_path, fed = command(workload, tool, output)
        if os.path.exists(output):
            os.remove(output)
        shutil.rmtree(os.path.join(work, "state"), ignore_errors=True)   # no resuming
        sample = measure(argv, stdin_path, stdout_path, fed)
        print("  %s %-8s %.2fs" % (workload, tool, sample[0]), flush=True)
        return sample

    rows = []
    paired = []   # (workload, current samples, baseline samples)
    workloads = args.workloads.split(",")
    for workload in [w for w in workloads if w not in ("W5", "DRIFT", "NEAR", "WF", "WAL")]:
        samples = {}
        todo = [t for t in tools if t in binaries or workload in PEERS.get(t, ())]
        for t in todo:
            samples[t] = []
        for run in range(args.runs):
            # the two builds one after the other, alternating which goes first
            pair = [t for t in binaries] if run % 2 == 0 else [t for t in reversed(list(binaries))]
            for tool in pair:
                samples[tool].append(run_once(workload, tool, os.path.join(work, "%s-%s.out.jsonl" % (workload, tool))))
        for tool in todo:
            output = os.path.join(work, "%s-%s.out.jsonl" % (workload, tool))
            if tool not in binaries:
                samples[tool] = [run_once(workload, tool, output) for _ in range(args.runs)]
            problem = check_output(workload, tool, input_path, output)
            wall = statistics.median(s[0] for s in samples[tool])
            cpu = statistics.median(s[1] for s in samples[tool])
            rss = max(s[2] for s in samples[tool])
            rows.append((workload, tool, wall, input_mb / wall, cpu, rss / 2**20, problem))
        if args.baseline:
            paired.append((workload, samples["sluice"], samples["baseline"]))

    if rows:
        print()
        print("input: %d events, %.1f MB; median of %d runs on %d CPUs" % (args.events, input_mb, args.runs,
                                                                         os.cpu_count()))
        print("| workload | tool | wall s | MB/s | CPU s | CPU s/GB | peak RSS MiB | vs jq | vs W1 | output |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    jq_rate = {r[0]: r[3] for r in rows if r[1] == "jq"}
    w1_rate = {r[1]: r[3] for r in rows if r[0] == "W1"}
    failed = False
    for workload, tool, wall, rate, cpu, rss, problem in rows:
        ratio = "%.1fx" % (rate / jq_rate[workload]) if workload in jq_rate else "-"
        vs_w1 = "%.0f%%" % (100 * rate / w1_rate[tool]) if tool in w1_rate and workload != "W1" else "-"
        verdict = "ok" if problem is None else "WRONG: " + problem
        failed |= tool in binaries and problem is not None
        print("| %s | %s | %.2f | %.0f | %.2f | %.2f | %.0f | %s | %s | %s |" % (
            workload, tool, wall, rate, cpu, cpu / (input_mb / 1000), rss, ratio, vs_w1, verdict))
    print_stdin_twins(rows)
    if paired:
        print_paired(paired, input_mb, args.baseline)
    if "W5" in workloads:
        corpus_rows, corpus_mb, corpus_paired = run_corpus(binaries, work, args.corpus_docs, args.runs)
        print_corpus(corpus_rows, args.corpus_docs, corpus_mb)
        if corpus_paired:
            print_corpus_paired(corpus_paired, args.corpus_docs, args.baseline)
    if "DRIFT" in workloads:
        failed |= not run_drift(sluice, work, input_path)
    if "NEAR" in workloads:
        run_near_recall(sluice, work)
    if "WF" in workloads:
        print_many_files(run_many_files(sluice, work, args.events, args.runs))
    if "WAL" in workloads:
        print_wal(run_wal(sluice, work, args.runs))
    if failed:
        sys.exit("sluice produced wrong output")


def print_stdin_twins(rows):
    """stdin workloads against their file twins (ratios of the medians)."""
    by = {(r[0], r[1]): r for r in rows}
    lines = []
    for stdin_w, file_w in STDIN_TWINS:
        for tool in ("sluice", "baseline"):
            a, b = by.get((stdin_w, tool)), by.get((file_w, tool))
            if a and b:
                lines.append("| %s / %s | %s | %.2fx | %.2fx |" % (stdin_w, file_w, tool, a[4] / b[4], a[2] / b[2]))
    if lines:
        print()
        print("stdin against the file source (ratio of medians; the goal is within 1.10x)")
        print("| workloads | tool | CPU | wall |")
        print("|---|---|---:|---:|")
        print("\n".join(lines))


def print_paired(paired, input_mb, baseline):
    """Current build against --baseline: medians and the median paired ratio."""
    print()
    print("current build against the baseline %s (runs paired, alternating which goes first; "
          "ratio = median over runs of current / baseline)" % baseline)
    print("| workload | wall s base | wall s now | wall ratio | CPU s base | CPU s now | CPU ratio "
          "| CPU s/GB base | CPU s/GB now |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for workload, now, base in paired:
        med = statistics.median
        wall_ratio = med(n[0] / b[0] for n, b in zip(now, base))
        cpu_ratio = med(n[1] / b[1] for n, b in zip(now, base))
        cpu_now, cpu_base = med(n[1] for n in now), med(b[1] for b in base)
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
            workload, med(b[0] for b in base), med(n[0] for n in now), wall_ratio, cpu_base, cpu_now, cpu_ratio,
            cpu_base / (input_mb / 1000), cpu_now / (input_mb / 1000)))


def run_drift(sluice, work, input_path):
    """Two random halves of the input, each line to either with probability
    1/2 (seeded): the profile of half A against itself and against half B
    must drift nowhere (`--fail-on warn`). Prints each field's largest
    metric; returns False when a field drifted."""
    import random
    rng = random.Random(2026)
    halves = [os.path.join(work, "drift-%s.jsonl" % h) for h in "ab"]
    with open(input_path) as f, open(halves[0], "w") as a, open(halves[1], "w") as b:
        for line in f:
            (a if rng.random() < 0.5 else b).write(line)
    baseline = os.path.join(work, "drift-a.json")
    ok = True
    print()
    print("DRIFT: `sluice profile` of a random half of the input as the baseline")
    print("| current | wall s | status | largest psi | largest length psi | largest chars psi | fields not ok |")
    print("|---|---:|---|---:|---:|---:|---|")
    for name, argv in (("half A (itself)", [halves[0], "-o", baseline]), ("half A (itself)", [halves[0]]),
                       ("half B", [halves[1]])):
        extra = [] if "-o" in argv else ["--baseline", baseline, "--fail-on", "warn"]
        start = time.time()
        out = subprocess.run([sluice, "profile"] + argv + extra, capture_output=True, text=True)
        wall = time.time() - start
        if "-o" in argv:
            if out.returncode != 0:
                sys.exit("sluice profile failed: " + out.stderr.strip())
            continue
        table = out.stdout.split("drift against the baseline:", 1)[-1].splitlines()
        rows = [l.split() for l in table[3:] if l.strip()]
        bad = [r[0] for r in rows if next((t for t in r[2:] if t in ("ok", "warn", "alert")), "?") != "ok"]
        largest = [max((float(r[c]) for r in rows if r[c] != "-"), default=0) for c in (2, 3, 4)]
        status = table[0].strip() if table else "?"
        ok &= out.returncode == 0 and not bad
        print("| %s | %.1f | %s | %.4f | %.4f | %.4f | %s |" % (name, wall, status, largest[0], largest[1],
                                                              largest[2], ", ".join(bad) or "none"))
    return ok
def run_near_recall(sluice, work, pairs=1000):
    """Near dedup's recall per planted Jaccard similarity (docs/dedup.md)."""
    docs, planted = planted_pairs.build(pairs, seed=7)
    results = []
    for label, options in (("defaults", []), ("preset: datatrove", [("preset", "datatrove")])):
        table, bases = planted_pairs.measure(sluice, docs, planted, options, work)
        results.append((label, table, bases))
    print()
    print("near dedup on planted pairs: %d per similarity, %d documents; found = duplicate of its base "
          "(at 0.5 and 0.7: flagged as a duplicate of anything)" % (pairs, len(docs)))
    planted_pairs.print_table(results)


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_corpus(binaries, work, docs, runs):
    """W5 and W5n on a generated corpus, with each binary of binaries
    ({"sluice": path} and maybe "baseline"), runs alternating which goes
    first; returns table rows and (workload, current samples, baseline
    samples) for each workload when there is a baseline."""
    import json as _json
    import threading
    import urllib.request
    corpus = os.path.join(work, "corpus-%d.jsonl" % docs)
    if not os.path.exists(corpus):
        print("generating a corpus of %d documents -> %s" % (docs, corpus), flush=True)
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "corpus.py"),
                        corpus + ".tmp", "--docs", str(docs)], check=True)
        os.rename(corpus + ".tmp", corpus)
    size_mb = os.path.getsize(corpus) / 1e6
    rows, paired = [], []
    for name, template in (("W5", SLUICE_W5), ("W5n", SLUICE_W5N)):
        samples, index_bytes = {tool: [] for tool in binaries}, [0]
        state = os.path.join(work, "state-" + name)   # a data_dir per pipeline
        order = list(binaries)
        for run, tool in [(r, t) for r in range(runs) for t in (order if r % 2 == 0 else order[::-1])]:
            shutil.rmtree(state, ignore_errors=True)     # no resuming: every run does the whole work
            port = free_port()
            cfg = os.path.join(work, "%s.yaml" % name)
            with open(cfg, "w") as f:
                f.write(template.format(state=state, port=port, input=corpus,
                                        output=os.path.join(work, "dataset")))
            done = threading.Event()

            def poll():           # the dedup index size, read from /stats while it runs
                while not done.wait(0.2):
                    try:
                        with urllib.request.urlopen("http://127.0.0.1:%d/stats" % port, timeout=1) as r:
                            state = _json.loads(r.read())["state"]
                        index_bytes[0] = max(index_bytes[0], sum(
                            v.get("index_bytes", 0) for v in state.values() if v.get("type") == "dedup"))
                    except (OSError, ValueError, KeyError):
                        pass
            t = threading.Thread(target=poll)
            t.start()
            samples[tool].append(measure([binaries[tool], "run", "--no-progress", cfg], os.devnull, os.devnull))
            done.set()
            t.join()
            print("  %s %-8s %.2fs %.2f CPU-s" % (name, tool, samples[tool][-1][0], samples[tool][-1][1]),
                  flush=True)
        for tool in order:
            wall = statistics.median(x[0] for x in samples[tool])
            cpu = statistics.median(x[1] for x in samples[tool])
            rows.append((name, tool, wall, docs / wall, size_mb / wall, cpu,
                         max(x[2] for x in samples[tool]) / 2**20, index_bytes[0] / 2**20 if tool == "sluice" else 0))
        if "baseline" in samples:
            paired.append((name, samples["sluice"], samples["baseline"]))
    # The Python reference is ~100x slower: time it on a prefix and scale.
    limit = min(docs, 3000)
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "minhash_ref.py"), corpus,
                          "--limit", str(limit)], capture_output=True, text=True, check=True)
    ref = _json.loads(out.stdout.strip().splitlines()[-1])
    rate = ref["docs_per_s"]
    rows.append(("W5n", "python minhash (%d docs)" % limit, docs / rate, rate, rate * size_mb / docs,
                 None, None, None))
    return rows, size_mb, paired


def print_corpus(rows, docs, size_mb):
    print()
    print("corpus: %d documents, %.1f MB; W5 = normalize + redact + exact dedup + near dedup + "
          "text_quality -> dataset; W5n = near dedup only" % (docs, size_mb))
    print("| workload | tool | wall s | docs/s | MB/s | CPU s | MB/s per CPU s | peak RSS MiB | dedup index MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, tool, wall, dps, mbps, cpu, rss, index in rows:
        per_core = "%.1f" % (size_mb / cpu) if cpu else "-"
        print("| %s | %s | %.1f | %.0f | %.1f | %s | %s | %s | %s |" % (
            name, tool, wall, dps, mbps, "%.1f" % cpu if cpu else "-", per_core,
            "%.0f" % rss if rss else "-", "%.1f" % index if index else "-"))
    ref = [r for r in rows if r[1].startswith("python")]
    mine = [r for r in rows if r[0] == "W5n" and r[1] == "sluice"]
    if ref and mine:
        print("near dedup, sluice vs Python reference: %.0fx the documents/s" % (mine[0][3] / ref[0][3]))


def print_corpus_paired(paired, docs, baseline):
    """W5 and W5n against --baseline: medians, and the median over runs of
    the paired ratio of documents per CPU-second (current / baseline; above
    1.00 the current build does more with each CPU-second)."""
    med = statistics.median
    print()
    print("corpus, current build against the baseline %s (runs paired, alternating which goes first)" % baseline)
    print("| workload | CPU s base | CPU s now | docs per CPU-s base | docs per CPU-s now | paired ratio "
          "| wall s base | wall s now |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for workload, now, base in paired:
        cpu_now, cpu_base = med(n[1] for n in now), med(b[1] for b in base)
        print("| %s | %.2f | %.2f | %.0f | %.0f | %.2fx | %.2f | %.2f |" % (
            workload, cpu_base, cpu_now, docs / cpu_base, docs / cpu_now, med(b[1] / n[1] for n, b in zip(now, base)),
            med(b[0] for b in base), med(n[0] for n in now)))


# WF: the exactly-once sink (W1x) with a path template, 10 files against
# 1,000: the events get a `group` (10 values) and a `model` (1,000 values)
# field, and each file must hold exactly its events, in input order.
WF_MEMORY_LIMIT_MIB = 256   # the default, written out: the table says whether peak RSS stayed inside it
SLUICE_WF = """\
data_dir: {state}
memory_limit: {limit}MiB
checkpoint: {{interval: 1s}}
sources:
  in: {{type: file, paths: ["{input}"]}}
sinks:
  out: {{type: file, inputs: [in], path: "{output}/{{{{ .{field} }}}}.jsonl", delivery: exactly_once}}
"""
WF_FILES = [("group", 10), ("model", 1000)]


def many_files_input(work, count):
    """The events with `group` and `model` fields in front."""
    import random
    path = os.path.join(work, "events-%d-models.jsonl" % count)
    if not os.path.exists(path):
        print("generating %d events with 10 groups and 1,000 models -> %s" % (count, path), flush=True)
        rng = random.Random(42)
        with open(path + ".tmp", "w") as f:
            for i in range(count):
                e = {"group": "g%d" % (i % 10), "model": "m%03d" % (i % 1000), **events.event(rng, i)}
                f.write(json.dumps(e, separators=(",", ":")) + "\n")
        os.rename(path + ".tmp", path)
    return path


def check_many_files(input_path, output_dir, field, files):
    """None when each file holds exactly its events in input order, else why not."""
    import hashlib
    want = {}
    with open(input_path, "rb") as f:
        for line in f:
            key = json.loads(line)[field]
            want.setdefault(key, hashlib.sha256()).update(line)
    names = os.listdir(output_dir)
    if len(names) != files:
        return "%d files, not %d" % (len(names), files)
    for key, h in want.items():
        with open(os.path.join(output_dir, key + ".jsonl"), "rb") as f:
            if hashlib.file_digest(f, "sha256").digest() != h.digest():
                return "%s.jsonl does not hold exactly its events" % key
    return None


def run_many_files(sluice, work, count, runs):
    """WF with 10 and with 1,000 files; returns table rows."""
    input_path = many_files_input(work, count)
    size_mb = os.path.getsize(input_path) / 1e6
    rows = []
    for field, files in WF_FILES:
        output = os.path.join(work, "WF-%d" % files)
        cfg = os.path.join(work, "WF-%d.yaml" % files)
        with open(cfg, "w") as f:
            f.write(SLUICE_WF.format(state=os.path.join(work, "state"), input=input_path, output=output,
                                     field=field, limit=WF_MEMORY_LIMIT_MIB))
        samples = []
        for _ in range(runs):
            set_aside(work, output)
            set_aside(work, os.path.join(work, "state"))
            samples.append(measure([sluice, "run", "--no-progress", cfg], os.devnull, os.devnull))
            print("  WF %d files %.2fs" % (files, samples[-1][0]), flush=True)
        wall = statistics.median(s[0] for s in samples)
        rows.append((files, wall, size_mb / wall, statistics.median(s[1] for s in samples),
                     max(s[2] for s in samples) / 2**20, check_many_files(input_path, output, field, files)))
    shutil.rmtree(os.path.join(work, "set-aside"), ignore_errors=True)
    return rows, size_mb


def set_aside(work, path):
    """Moves a previous run's output out of the way, emptied (its bytes freed,
    from the page cache too), to be deleted after the last run. Deleting a
    thousand files right before a run would measure the file system
    instead: ext4 without a journal (this benchmark's machines) does not
    reuse an inode freed in the last 30 s and scans past each one
    (recently_deleted()), so creating 1,000 files right after deleting 1,000
    took 0.2 s instead of 0.02 s."""
    if not os.path.lexists(path):
        return
    for root, _, names in os.walk(path):
        for name in names:
            os.truncate(os.path.join(root, name), 0)
    aside = os.path.join(work, "set-aside")
    os.makedirs(aside, exist_ok=True)
    os.rename(path, os.path.join(aside, "%s.%d" % (os.path.basename(path), len(os.listdir(aside)))))


def print_many_files(result):
    rows, size_mb = result
    print()
    print("WF: W1x (checkpoints every 1 s, exactly-once sink) with a templated path; %.1f MB" % size_mb)
    print("| files | wall s | MB/s | CPU s | peak RSS MiB (max of the runs) | memory_limit MiB | RSS inside | "
          "vs 10 files | output |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|---|")
    base = rows[0][2]
    for files, wall, rate, cpu, rss, problem in rows:
        print("| %d | %.2f | %.0f | %.2f | %.0f | %d | %s | %.0f%% | %s |" % (
            files, wall, rate, cpu, rss, WF_MEMORY_LIMIT_MIB, "yes" if rss <= WF_MEMORY_LIMIT_MIB else "NO",
            100 * rate / base, "ok" if problem is None else "WRONG: " + problem))
    if any(r[5] for r in rows):
        sys.exit("sluice produced wrong output in WF")


# WAL append: (sync policy, records, appender threads). An append returns once
# durable, so group commit needs many concurrent appenders to fill each sync.
WAL_RECORD_BYTES = 256
WAL_RUNS = [("group_commit_ms:10", 200_000, 512), ("always", 200_000, 512), ("always", 2_000, 1)]
WAL_COLUMNS = ["records/s", "MB/s", "fsyncs", "fsync p50 ms", "fsync p99 ms"]
WAL_BENCH_OUTPUT = ["sync", "threads", "records", "record B", "seconds", "records/s", "MB/s", "fsyncs",
                    "fsync p50 ms", "fsync p99 ms", "fsync max ms"]   # the columns `wal bench` prints


def run_wal(sluice, work, runs):
    """`sluice wal bench` for each of WAL_RUNS; returns table rows of medians."""
    import shutil
    wal_dir = os.path.join(work, "wal-bench")
    rows = []
    for sync, records, threads in WAL_RUNS:
        samples = []
        for _ in range(runs):
            shutil.rmtree(wal_dir, ignore_errors=True)     # bench writes only into a new directory
            out = subprocess.run([sluice, "wal", "bench", "--sync", sync, "--records", str(records),
                                  "--record-bytes", str(WAL_RECORD_BYTES), "--threads", str(threads), wal_dir],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit("sluice wal bench failed (exit %d): %s" % (out.returncode, out.stderr.strip()))
            header, values = out.stdout.splitlines()[:2]
            if not all(c in header for c in WAL_BENCH_OUTPUT):
                sys.exit("sluice wal bench printed an unexpected header: " + header)
            row = dict(zip(WAL_BENCH_OUTPUT, values.split()))
            samples.append(row)
            print("  WAL %s x%d %ss" % (sync, threads, row["seconds"]), flush=True)
        rows.append((sync, threads, records, [statistics.median(float(s[c]) for s in samples) for c in WAL_COLUMNS]))
    return rows


def print_wal(rows):
    print()
    print("WAL append: %d-byte records (`sluice wal bench`), median of the runs" % WAL_RECORD_BYTES)
    print("| sync | threads | records | records/s | MB/s | fsyncs | fsync p50 ms | fsync p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for sync, threads, records, (rate, mbps, fsyncs, p50, p99) in rows:
        print("| %s | %d | %d | %.0f | %.1f | %.0f | %.2f | %.2f |" % (sync, threads, records, rate, mbps, fsyncs,
                                                                     p50, p99))


if __name__ == "__main__":
    main()
