"""The dataset sink and OpenLineage events through the real binary.

- A run writes shards whose index.json entries (SHA-256, record counts,
  sizes) match the files, readable with the zstd CLI.
- SIGTERM at different moments of a never-ending run: every shard listed in
  index.json exists, is complete (checksum and record count match) and no
  temporary file is listed or left; a reader polling index.json during the
  run never finds a listed shard missing or different.
- OpenLineage: the events in lineage.file have the shape the spec requires
  (START then COMPLETE, FAIL with an errorMessage, ABORT after SIGTERM), and
  an HTTP server the test starts on 127.0.0.1 receives the same events.
- Warnings about the lineage endpoint never show the credentials, path or
  query of its URL (nor anything of an interpolated URL).
- `sluice check` refuses a directory that already holds a dataset.
- A second run writing into the dataset another run is writing is refused,
  with the pid of the other; a dataset locked by another process stops a
  run that resumes a checkpoint without passing over that checkpoint or
  moving output aside.
- 20,000 records with a field name each: quick, and index.json stays small
  (the schema is capped, the rest counted under _other_fields).
"""
import fcntl
import hashlib
import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import harness

EVENT_TYPES = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def zstd_lines(path):
    out = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    return out


def check_dataset(root, expect_finished=True):
    """Checks every listed shard against its file; returns (index, records)."""
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    assert index["format"] == "sluice-dataset" and index["version"] == 1
    if expect_finished:
        assert index["finished"] is True
    total = 0
    for shard in index["shards"]:
        assert not shard["file"].endswith(".inprogress"), shard
        path = os.path.join(root, shard["file"])
        with open(path, "rb") as f:
            data = f.read()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"], shard["file"]
        assert len(data) == shard["compressed_bytes"], shard["file"]
        text = zstd_lines(path)
        assert len(text) == shard["bytes"], shard["file"]
        lines = text.splitlines()
        assert len(lines) == shard["records"], shard["file"]
        for line in lines:
            json.loads(line)
        total += shard["records"]
    splits = index["splits"]
    assert sum(s["records"] for s in splits.values()) == total
    return index, total


def inprogress_files(root):
    found = []
    for split in ("train", "validation", "test"):
        d = os.path.join(root, split)
        if os.path.isdir(d):
            found += [n for n in os.listdir(d) if n.endswith(".inprogress")]
    return found


def test_run_writes_checked_shards(work):
    with open(work.write("in.jsonl", ""), "w") as f:
        for i in range(3000):
            f.write(json.dumps({"id": "doc-%d" % i, "text": "document number %d " % i * 3}) + "\n")
    cfg = work.write("p.yaml", """\
data_dir: {d}/state
sources:
  docs: {{type: file, paths: ["{d}/in.jsonl"], format: jsonl}}
sinks:
  ds:
    type: dataset
    inputs: [docs]
    path: {d}/ds
    shard_records: 500
    split: {{key: id, train: 0.9, validation: 0.05, test: 0.05}}
report: {{path: {d}/report.html}}
""".format(d=work.path))
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    index, total = check_dataset(work("ds"))
    assert total == 3000
    # The report's training-data section shows each split as index.json lists it.
    report = open(work("report.html")).read()
    for split in ("train", "validation", "test"):
        shards = [s for s in index["shards"] if s["split"] == split]
        row = "<code>%s</code></td><td class=\"n\">%s</td><td class=\"n\">%d</td>" % (
            split, "{:,}".format(sum(s["records"] for s in shards)), len(shards))
        assert row in report, "report lacks %r" % row
    assert [f["name"] for f in index["schema"]] == ["id", "text"]
    for shard in index["shards"]:
        assert shard["split"] in ("train", "validation", "test")
        assert shard["file"].startswith(shard["split"] + "/shard-")
        (inp,) = shard["inputs"]
        assert inp["source"] == "docs" and inp["origin"] == work("in.jsonl")
        assert 0 <= inp["first_offset"] <= inp["last_offset"] < os.path.getsize(work("in.jsonl"))
    assert not inprogress_files(work("ds"))
    # A second run into the same directory is refused.
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode != 0
    assert "already holds a dataset" in harness.text(proc.stderr), harness.text(proc.stderr)


SIGTERM_CFG = """\
data_dir: {d}/state
workers: 2
batch: {{max_records: 200}}
lineage: {{file: {d}/lineage.jsonl}}
sources:
  gen: {{type: generate, count: 0, seed: 5}}
sinks:
  ds:
    type: dataset
    inputs: [gen]
    path: {d}/ds
    shard_records: 1500
    split: {{key: request_id, train: 0.8, validation: 0.1, test: 0.1}}
    shuffle: {{buffer: 500, seed: 3}}
"""


def listed_shards(root):
    try:
        with open(os.path.join(root, "index.json")) as f:
            return json.load(f)["shards"]
    except (OSError, ValueError, KeyError):
        return []


def test_sigterm_leaves_only_complete_listed_shards(work):
    for attempt, wait_shards in enumerate((0, 2, 5, 9)):
        d = work("run%d" % attempt)
        os.makedirs(d)
        cfg = work.write("run%d/p.yaml" % attempt, SIGTERM_CFG.format(d=d))
        proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen = 0
        deadline = time.monotonic() + 60
        # A reader polling during the run: every listed shard is complete.
        while time.monotonic() < deadline:
            shards = listed_shards(os.path.join(d, "ds"))
            for s in shards[seen:]:
                with open(os.path.join(d, "ds", s["file"]), "rb") as f:
                    assert hashlib.sha256(f.read()).hexdigest() == s["sha256"], s
            seen = len(shards)
            if seen >= wait_shards and (wait_shards or os.path.exists(os.path.join(d, "ds", "index.json"))):
                break
            time.sleep(0.02)
        assert seen >= wait_shards, "the run published %d shards in 60 s" % seen
        code, _, err = harness.stop(proc, signal.SIGTERM)
        assert code == 0, harness.text(err)
        index, total = check_dataset(os.path.join(d, "ds"))
        assert total > 0 or wait_shards == 0
        assert not inprogress_files(os.path.join(d, "ds")), inprogress_files(os.path.join(d, "ds"))
        events = harness.read_jsonl(os.path.join(d, "lineage.jsonl"))
        assert [e["eventType"] for e in events] == ["START", "ABORT"], events
        for e in events:
            check_event(e)


def test_second_writer_is_refused(work):
    d = work.path
    cfg = work.write("a.yaml", SIGTERM_CFG.format(d=d))
    proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        harness.wait_for(lambda: os.path.exists(os.path.join(d, "ds", "index.json")), what="the first run")
        other = work.write("b.yaml", SIGTERM_CFG.format(d=d).replace("/state", "/state-b"))
        second = harness.run(["run", "--no-progress", other])
        assert second.returncode != 0
        assert "the dataset directory %s/ds is in use by another sluice run (pid %d)" % (d, proc.pid) in \
            harness.text(second.stderr), harness.text(second.stderr)
    finally:
        code, _, err = harness.stop(proc, signal.SIGTERM)
    assert code == 0, harness.text(err)
    _, total = check_dataset(os.path.join(d, "ds"))
    assert total > 0


def test_locked_dataset_stops_the_run_untouched(work):
    """A dataset directory locked by another process stops the run with the
    lock's message, however many checkpoints there are: a lock held is not
    a checkpoint this run cannot read, so none is passed over and no output
    is moved aside."""
    d = work.path
    cfg = work.write("p.yaml", SIGTERM_CFG.format(d=d) + "  out: {type: file, inputs: [gen], path: %s/out.jsonl}\n" % d)
    proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:   # a crash: the dataset is left unfinished, for the next run to continue
        harness.wait_for(lambda: harness.bytes_written(os.path.join(d, "out.jsonl")) > 0, what="output")
    finally:
        harness.stop(proc, signal.SIGKILL)
    checkpoints = {n: open(os.path.join(d, "state", n), "rb").read() for n in ("checkpoint", "checkpoint.prev")}
    with open(os.path.join(d, "ds", ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("%d\n" % os.getpid())
        lock.flush()
        second = harness.run(["run", "--no-progress", cfg])
    log = harness.text(second.stderr)
    assert second.returncode == 1, log
    assert "the dataset directory %s/ds is in use by another sluice run (pid %d)" % (d, os.getpid()) in log, log
    assert "cannot read its state" not in log and "aside" not in log, log
    assert os.listdir(d) == [n for n in os.listdir(d) if ".aside-" not in n], os.listdir(d)
    for name, data in checkpoints.items():
        assert open(os.path.join(d, "state", name), "rb").read() == data, name + " changed"


def check_facets(facets, where):
    assert isinstance(facets, dict), where
    for name, facet in facets.items():
        assert URI.match(facet["_producer"]), (where, name)
        assert URI.match(facet["_schemaURL"]), (where, name)


def check_event(e):
    """The OpenLineage 2-0-2 RunEvent shape: required fields and types."""
    for key in ("eventType", "eventTime", "producer", "schemaURL", "run", "job"):
        assert key in e, key
    assert e["eventType"] in EVENT_TYPES, e["eventType"]
    assert RFC3339.match(e["eventTime"]), e["eventTime"]
    assert URI.match(e["producer"]) and URI.match(e["schemaURL"])
    assert e["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/OpenLineage.json")
    run_id = uuid.UUID(e["run"]["runId"])
    assert str(run_id) == e["run"]["runId"] and run_id.version == 4
    check_facets(e["run"].get("facets", {}), "run")
    assert isinstance(e["job"]["namespace"], str) and e["job"]["namespace"]
    assert isinstance(e["job"]["name"], str) and e["job"]["name"]
    check_facets(e["job"].get("facets", {}), "job")
    for kind in ("inputs", "outputs"):
        for ds in e.get(kind, []):
            assert isinstance(ds["namespace"], str) and isinstance(ds["name"], str), ds
            check_facets(ds.get("facets", {}), kind)
            check_facets(ds.get("inputFacets", ds.get("outputFacets", {})), kind)


class Collector(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_openlineage_events(work):
    with open(work.write("in.jsonl", ""), "w") as f:
        for i in range(500):
            f.write(json.dumps({"id": i, "text": "t%d" % i, "score": i / 2}) + "\n")
    port = harness.free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cfg = work.write("corpus.yaml", """\
data_dir: {d}/state
lineage: {{file: {d}/lineage.jsonl, url: "http://127.0.0.1:{port}/api/v1/lineage", namespace: training}}
sources:
  docs: {{type: file, paths: ["{d}/in.jsonl"], format: jsonl}}
transforms:
  keep: {{type: filter, inputs: [docs], condition: ".id >= 0"}}
sinks:
  ds: {{type: dataset, inputs: [keep], path: {d}/ds, split: {{key: id, train: 0.5, validation: 0.25, test: 0.25}}}}
""".format(d=work.path, port=port))
        proc = harness.run(["run", "--no-progress", cfg])
        assert proc.returncode == 0, harness.text(proc.stderr)
        events = harness.read_jsonl(work("lineage.jsonl"))
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
        for e in events:
            check_event(e)
        start, complete = events
        assert start["run"]["runId"] == complete["run"]["runId"]
        assert complete["job"] == {**complete["job"], "namespace": "training", "name": "corpus"}
        assert start["inputs"] == [{"namespace": "file", "name": work("in.jsonl")}]
        (out,) = complete["outputs"]
        assert out["namespace"] == "file" and out["name"] == work("ds")
        fields = out["facets"]["schema"]["fields"]
        assert fields == [{"name": "id", "type": "int"}, {"name": "text", "type": "string"},
                          {"name": "score", "type": "float"}], fields
        lineage = out["facets"]["columnLineage"]["fields"]
        assert lineage["text"]["inputFields"][0]["name"] == work("in.jsonl")
        assert lineage["text"]["inputFields"][0]["field"] == "text"
        assert out["outputFacets"]["outputStatistics"]["rowCount"] == 500
        with open(cfg, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        assert complete["run"]["facets"]["sluice"]["config_sha256"] == sha
        # The HTTP endpoint got the same two events.
        posted = [json.loads(body) for path, ctype, body in Collector.received]
        assert all(path == "/api/v1/lineage" and ctype == "application/json"
                   for path, ctype, _ in Collector.received)
        assert posted == events, (posted, events)

        # A failed run (the dataset directory cannot be created under a
        # file): FAIL with the error message.
        Collector.received.clear()
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("path: %s/ds" % work.path, "path: %s/in.jsonl/ds" % work.path))
        proc = harness.run(["run", "--no-progress", cfg])
        assert proc.returncode != 0
        events = harness.read_jsonl(work("lineage.jsonl"))[2:]
        assert [e["eventType"] for e in events] == ["START", "FAIL"]
        for e in events:
            check_event(e)
        message = events[1]["run"]["facets"]["errorMessage"]["message"]
        assert "cannot create" in message and "in.jsonl/ds" in message, message
        assert len(Collector.received) == 2
    finally:
        server.shutdown()
        server.server_close()


def test_lineage_endpoint_down_is_not_fatal(work):
    port = harness.free_port()   # nothing listens there
    cfg = work.write("p.yaml", """\
data_dir: {d}/state
lineage: {{url: "http://127.0.0.1:{port}/lineage"}}
sources:
  gen: {{type: generate, count: 100}}
sinks:
  ds: {{type: dataset, inputs: [gen], path: {d}/ds}}
""".format(d=work.path, port=port))
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert "cannot POST the lineage event" in harness.text(proc.stderr)
    _, total = check_dataset(work("ds"))
    assert total == 100


def test_lineage_url_credentials_never_logged(work):
    port = harness.free_port()   # nothing listens there
    body = """\
data_dir: {d}/state
lineage: {{url: "{url}"}}
sources:
  gen: {{type: generate, count: 10}}
sinks:
  ds: {{type: dataset, inputs: [gen], path: {d}/{ds}}}
"""
    url = "http://alice:hunter2@127.0.0.1:%d/api/v1/lineage?api_key=topsecret" % port
    cfg = work.write("p.yaml", body.format(d=work.path, url=url, ds="ds1"))
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    err = harness.text(proc.stderr)
    assert "cannot POST the lineage event to http://127.0.0.1:%d:" % port in err, err
    for secret in ("alice", "hunter2", "topsecret", "api_key", "/api/v1/lineage"):
        assert secret not in err, (secret, err)
    # An interpolated URL is a secret: not even its host is shown.
    cfg = work.write("q.yaml", body.format(d=work.path, url="${env:LINEAGE_URL}", ds="ds2"))
    proc = harness.run(["run", "--no-progress", cfg], env={"LINEAGE_URL": url})
    assert proc.returncode == 0, harness.text(proc.stderr)
    err = harness.text(proc.stderr)
    assert "cannot POST the lineage event to <redacted>:" in err, err
    for secret in ("hunter2", "topsecret", "127.0.0.1:%d" % port):
        assert secret not in err, (secret, err)


def test_check_reports_existing_dataset(work):
    cfg = work.write("p.yaml", """\
data_dir: {d}/state
sources:
  gen: {{type: generate, count: 50}}
sinks:
  ds: {{type: dataset, inputs: [gen], path: {d}/ds}}
""".format(d=work.path))
    proc = harness.run(["check", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    proc = harness.run(["run", "--no-progress", cfg])
    assert proc.returncode == 0, harness.text(proc.stderr)
    proc = harness.run(["check", cfg])
    assert proc.returncode != 0
    err = harness.text(proc.stderr)
    assert "p.yaml:" in err and "already holds a dataset" in err, err
    check_dataset(work("ds"))   # untouched


def test_unique_field_names_stay_cheap(work):
    n = 20000
    with open(work.write("in.jsonl", ""), "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": i, "field_%d" % i: i}) + "\n")
    cfg = work.write("p.yaml", """\
data_dir: {d}/state
sources:
  docs: {{type: file, paths: ["{d}/in.jsonl"], format: jsonl}}
sinks:
  ds: {{type: dataset, inputs: [docs], path: {d}/ds, shard_records: 2000}}
""".format(d=work.path))
    started = time.monotonic()
    proc = harness.run(["run", "--no-progress", cfg], timeout=60)
    assert proc.returncode == 0, harness.text(proc.stderr)
    assert time.monotonic() - started < 30
    index, total = check_dataset(work("ds"))
    assert total == n
    assert os.path.getsize(work("ds", "index.json")) < 150000
    names = [f["name"] for f in index["schema"]]
    assert len(names) == 1025 and names[0] == "id" and names[-1] == "_other_fields", names[-3:]
    assert index["other_fields"] == n - 1023


if __name__ == "__main__":
    harness.main([test_run_writes_checked_shards, test_sigterm_leaves_only_complete_listed_shards,
                  test_openlineage_events, test_lineage_endpoint_down_is_not_fatal,
                  test_lineage_url_credentials_never_logged, test_check_reports_existing_dataset,
                  test_second_writer_is_refused, test_locked_dataset_stops_the_run_untouched,
                  test_unique_field_names_stay_cheap])
