"""The command line: check, graph, version, help, and how it treats mistakes
(unknown flags, missing files, bad configs): one clear line, never a crash.
"""
import os
import re

import harness

GOOD = """\
sources:
  gen: {type: generate, count: 10}
transforms:
  keep: {type: filter, inputs: [gen], condition: '.level != "debug"'}
  split:
    type: route
    inputs: [keep]
    routes: {errors: '.level == "error"'}
sinks:
  errors: {type: blackhole, inputs: [split.errors]}
  rest: {type: file, inputs: [split._unmatched], path: out.jsonl}
"""


def test_check_ok(work):
    path = work.write("p.yaml", GOOD)
    proc = harness.run(["check", path])
    assert proc.returncode == 0, harness.text(proc.stderr + proc.stdout)
    assert "ok" in harness.text(proc.stdout + proc.stderr)


def test_check_reports_every_error_with_positions(work):
    path = work.write("bad.yaml", """\
sources:
  gen: {type: generat, count: 10}
transforms:
  keep: {type: filter, inputs: [gen], conditon: '.a'}
sinks:
  out: {type: file, inputs: [kep], path: x.jsonl}
""")
    proc = harness.run(["check", path])
    assert proc.returncode == 1
    err = harness.text(proc.stdout + proc.stderr)
    assert re.search(r"bad\.yaml:2:\d+: error: .*generat.*did you mean 'generate'", err), err
    assert re.search(r"bad\.yaml:4:\d+: error: .*conditon.*did you mean 'condition'", err), err
    assert re.search(r"bad\.yaml:6:\d+: error: .*kep.*did you mean 'keep'", err), err


def test_check_expression_error_points_at_column(work):
    path = work.write("expr.yaml", GOOD.replace(".level != \"debug\"", "lowr(.level) != \"debug\""))
    proc = harness.run(["check", path])
    assert proc.returncode == 1
    err = harness.text(proc.stdout + proc.stderr)
    assert re.search(r"expr\.yaml:4:\d+: error: .*lowr.*did you mean 'lower'", err), err


def test_secrets_are_redacted(work):
    path = work.write("s.yaml", GOOD.replace("path: out.jsonl", "path: \"${env:SECRET_PATH}\""))
    proc = harness.run(["check", "--print", path], env={"SECRET_PATH": "hunter2-secret.jsonl"})
    out = harness.text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, out
    assert "hunter2" not in out, out
    assert "<redacted>" in out, out


def test_unknown_flag_and_missing_file(work):
    proc = harness.run(["run", "--frobnicate", "x.yaml"])
    assert proc.returncode == 2
    err = harness.text(proc.stderr).strip()
    assert "--frobnicate" in err and len(err.splitlines()) == 1, err
    proc = harness.run(["run", work("does-not-exist.yaml")])
    assert proc.returncode != 0
    err = harness.text(proc.stderr)
    assert "does-not-exist.yaml" in err and "No such file" in err, err
    proc = harness.run(["frobnicate"])
    assert proc.returncode == 2 and "frobnicate" in harness.text(proc.stderr)


def test_graph_is_dot(work):
    path = work.write("p.yaml", GOOD)
    proc = harness.run(["graph", path])
    assert proc.returncode == 0, harness.text(proc.stderr)
    dot = harness.text(proc.stdout)
    assert dot.lstrip().startswith("digraph"), dot
    for edge in ('"gen" -> "keep"', '"keep" -> "split"', '"split" -> "errors"', '"split" -> "rest"'):
        assert edge in dot, (edge, dot)


def test_version_and_help(work):
    proc = harness.run(["version"])
    assert proc.returncode == 0 and re.match(r"sluice \d+\.\d+\.\d+", harness.text(proc.stdout)), proc
    proc = harness.run(["help", "filter"])
    out = harness.text(proc.stdout)
    assert proc.returncode == 0 and "condition" in out, out
    proc = harness.run(["help", "nosuchthing"])
    assert proc.returncode == 2


def test_generated_reference_is_fresh(work):
    proc = harness.run(["help", "--reference"])
    assert proc.returncode == 0
    with open(os.path.join(harness.REPO, "docs", "components.md"), "rb") as f:
        committed = f.read()
    assert committed == proc.stdout, "docs/components.md is stale: run `make docs`"


if __name__ == "__main__":
    harness.main([test_check_ok, test_check_reports_every_error_with_positions,
                  test_check_expression_error_points_at_column, test_secrets_are_redacted,
                  test_unknown_flag_and_missing_file, test_graph_is_dot, test_version_and_help,
                  test_generated_reference_is_fresh])
