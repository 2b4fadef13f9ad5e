"""The HTTP API of a running pipeline, on a random free loopback port:
/health, /ready, /metrics (Prometheus text), /stats (JSON), 404 and 405.
"""
import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request

import harness

PIPELINE = """\
data_dir: {dir}/state
api: {{address: "127.0.0.1:{port}"}}
sources:
  gen: {{type: generate, count: 0, rate: 2000}}
transforms:
  keep: {{type: filter, inputs: [gen], condition: '.level == "error"'}}
  levels: {{type: validate, inputs: [keep], fields: {{level: {{enum: [error]}}}}}}
  ids: {{type: validate, inputs: [levels], fields: {{user.id: {{type: int, min: 1}}}}}}
sinks:
  out: {{type: blackhole, inputs: [ids]}}
"""


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def metric(text, name, component):
    m = re.search(r'^%s\{[^}]*component="%s"[^}]*\} (\d+)' % (name, component), text, re.M)
    return int(m.group(1)) if m else None


def test_api_endpoints(work):
    port = harness.free_port()
    cfg = work.write("api.yaml", PIPELINE.format(dir=work.path, port=port))
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = "http://127.0.0.1:%d" % port
    try:
        def up():
            try:
                return get(base + "/health")[0] == 200
            except OSError:
                return False
        harness.wait_for(up, what="/health")
        harness.wait_for(lambda: get(base + "/ready")[0] == 200, what="/ready")
        status, ctype, body = get(base + "/health")
        assert json.loads(body)["status"] == "ok"

        def counted():
            text = get(base + "/metrics")[2]
            n = metric(text, "sluice_component_received_events_total", "keep")
            return n is not None and n > 500
        harness.wait_for(counted, what="metrics to count events")
        status, ctype, text = get(base + "/metrics")
        assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
        assert "# TYPE sluice_component_received_events_total counter" in text
        received = metric(text, "sluice_component_received_events_total", "keep")
        sent = metric(text, "sluice_component_sent_events_total", "keep")
        assert 0 < sent < received, (sent, received)     # the filter keeps errors only
        assert re.search(r'sluice_component_processing_seconds_bucket\{[^}]*component="keep"', text), text[:2000]
        # Two components of one type: each family's HELP and TYPE appear once,
        # with both components' samples after them.
        types = re.findall(r"^# TYPE (\S+)", text, re.M)
        assert len(types) == len(set(types)), sorted(t for t in types if types.count(t) > 1)
        family = text.split("# TYPE sluice_validate_records_total", 1)[1].split("# ", 1)[0]
        assert 'component="levels"' in family and 'component="ids"' in family, family

        status, ctype, body = get(base + "/stats")
        assert status == 200 and "json" in ctype
        stats = json.loads(body)
        names = [c["name"] for c in stats["components"]]
        assert names == ["gen", "keep", "levels", "ids", "out"], names
        assert stats["state"]["levels"]["type"] == "validate", stats["state"]
        assert stats["delivery"] == {"out": "at-least-once"}, stats["delivery"]   # a blackhole

        assert get(base + "/nope")[0] == 404
        assert get(base + "/metrics", method="POST")[0] == 405
    finally:
        code, _, err = harness.stop(proc, signal.SIGTERM)
    assert code == 0, harness.text(err)


def test_health_answers_beside_idle_connections(work):
    """80 connections that send nothing (more than the 64 threads the server
    used to allow, which left /health unanswered until they timed out) do
    not keep /health from answering."""
    import socket
    port = harness.free_port()
    cfg = work.write("api.yaml", PIPELINE.format(dir=work.path, port=port))
    proc = subprocess.Popen([harness.SLUICE, "run", "--no-progress", cfg],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = "http://127.0.0.1:%d" % port
    idle = []
    try:
        def up():
            try:
                return get(base + "/health")[0] == 200
            except OSError:
                return False
        harness.wait_for(up, what="/health")
        for _ in range(80):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            idle.append(s)
        idle[-1].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")   # a half-sent request too
        status, _, body = get(base + "/health")   # a 5 s timeout: the old server needed 10 s
        assert status == 200 and json.loads(body)["status"] == "ok", (status, body)
        assert get(base + "/ready")[0] == 200
    finally:
        for s in idle:
            s.close()
        code, _, err = harness.stop(proc, signal.SIGTERM)
    assert code == 0, harness.text(err)


def test_api_address_in_use(work):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = work.write("busy.yaml", PIPELINE.format(dir=work.path, port=port).replace("count: 0", "count: 10"))
        proc = harness.run(["run", "--no-progress", cfg], timeout=30)
    assert proc.returncode != 0
    err = harness.text(proc.stderr)
    assert "127.0.0.1:%d" % port in err, err


if __name__ == "__main__":
    harness.main([test_api_endpoints, test_health_answers_beside_idle_connections, test_api_address_in_use])
