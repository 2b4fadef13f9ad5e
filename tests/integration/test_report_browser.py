"""The HTML report, rendered in a real browser.

A real pipeline (the bundled container logs: parse, a quality check, a
profile when the profile transform exists, broken lines into the DLQ)
writes its report; Debian's chromium renders it headless. The screenshot
must not be blank (its PNG is decoded here with zlib: many colours, a fair
share of non-white pixels), the DOM must hold the sections and the numbers
of the run (the DLQ count is the number of lines in the DLQ file), and the
page must have no scripts and log no console errors. The live /report of a
streaming run is fetched too.

Chromium runs with a fresh profile, no network features, and a timeout;
on timeout it is killed by its process id.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, SLUICE, free_port, main, run, stop, text, wait_for  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DATA = os.path.join(REPO, "examples", "data", "container-logs.jsonl")


def has_profile_transform():
    out = text(run(["help"]).stdout)
    line = next((l for l in out.splitlines() if l.strip().startswith("Transforms")), "")
    return "profile" in line.replace(",", " ").split()


def chromium(args, timeout=90):
    """Runs chromium headless with a fresh profile; returns (rc, stdout, stderr)."""
    assert CHROMIUM, "chromium is not installed (scripts/install-deps.sh installs it)"
    profile = tempfile.mkdtemp(prefix="sluice-chromium-")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # its own session: the browser and its helpers
        proc.communicate()
        raise AssertionError("chromium did not finish within %d s" % timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return proc.returncode, text(out), text(err)


def console_errors(stderr):
    return [l for l in stderr.splitlines()
            if "Uncaught" in l or ("CONSOLE" in l and "error" in l.lower())
            or "Refused to" in l or "net::ERR" in l]


def png_pixels(path, step=4):
    """Decodes an 8-bit RGB/RGBA PNG (what chromium writes); returns
    (width, height, list of rows of (r, g, b) tuples), every step-th pixel
    of each row."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        elif kind == b"IDAT":
            idat += body
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp * step)])
        prev = line
    return width, height, rows


def pipeline(w, profile, extra=""):
    transforms = """
  app:
    type: parse
    inputs: [logs]
    field: log
  checks:
    type: quality
    inputs: [app]
    checks:
      - {name: latency_p95, check: quantile, field: latency_ms, q: 0.95, max: 400}
      - {name: status_known, check: null_rate, field: status, max: 0.01}
"""
    last = "checks"
    if profile:
        transforms += """  fields:
    type: profile
    inputs: [checks]
"""
        last = "fields"
    return """data_dir: {d}/.sluice
sources:
  logs: {{type: file, paths: ["{data}"], format: jsonl}}
transforms:{t}
sinks:
  events: {{type: file, inputs: [{last}], path: {d}/out/events.jsonl}}
dlq: {{path: {d}/out/dlq}}
report: {{path: {d}/out/report.html, title: "Container logs <nightly>"}}
{extra}""".format(d=w.path, data=DATA, t=transforms, last=last, extra=extra)


def test_report_renders(w):
    profile = has_profile_transform()
    if not profile:
        print("  note: no profile transform in this build; the profile section is not checked")
    w.write("p.yaml", pipeline(w, profile))
    r = run(["run", "--no-progress", w("p.yaml")])
    assert r.returncode == 0, text(r.stderr)
    report = w("out", "report.html")
    assert "report: %s" % report in text(r.stderr), text(r.stderr)
    html = open(report, encoding="utf-8").read()
    assert len(html) < 1_000_000, len(html)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the report must not load anything"

    dlq_entries = len(open(w("out", "dlq", "dlq.jsonl"), "rb").read().splitlines())
    assert dlq_entries > 0
    reasons = {}
    for line in open(w("out", "dlq", "dlq.jsonl"), encoding="utf-8"):
        e = json.loads(line)
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    events = len(open(w("out", "events.jsonl"), "rb").read().splitlines())

    shot = w("shot.png")
    rc, _, err = chromium(["--screenshot=" + shot, "--window-size=1280,2000", "file://" + report])
    assert rc == 0 and os.path.exists(shot), err[-2000:]
    assert not console_errors(err), console_errors(err)
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1280, 2000), (width, height)
    colours, non_white, total = set(), 0, 0
    for row in rows[::4]:
        for px in row:
            colours.add(px)
            total += 1
            non_white += px != (255, 255, 255)
    assert len(colours) >= 50, "the screenshot looks blank: %d colours" % len(colours)
    assert non_white / total > 0.15, "the screenshot looks blank: %.2f non-white" % (non_white / total)

    rc, dom, err = chromium(["--dump-dom", "--window-size=1280,2000", "file://" + report])
    assert rc == 0, err[-2000:]
    assert not console_errors(err), console_errors(err)
    for section in ["graph", "dlq", "checks", "throughput"] + (["profile"] if profile else []):
        assert '<section id="%s">' % section in dom, section
    assert "<title>Container logs &lt;nightly&gt;</title>" in dom

    def kpi(name):
        m = re.search(r'id="%s"><div class="l">[^<]*</div><div class="v">([^<]*)</div>' % name, dom)
        assert m, name
        return m.group(1)

    assert kpi("records-in") == "{:,}".format(3000), kpi("records-in")
    assert kpi("dlq-total") == "{:,}".format(dlq_entries), (kpi("dlq-total"), dlq_entries)
    assert kpi("records-out") == "{:,}".format(events), (kpi("records-out"), events)
    for reason, n in reasons.items():
        assert re.search(r'<code class="reason">%s</code>.*?<div class="n dlq-count">%s</div>'
                         % (reason, "{:,}".format(n)), dom, re.S), reason
    assert 'id="dlq-examples"' in dom
    assert "latency_p95" in dom and "status_known" in dom
    if profile:
        assert "<code>latency_ms</code>" in dom and "<code>user.email</code>" in dom
        assert "@example.com" not in dom, "e-mail addresses must be masked"
    assert '<span class="badge ok" id="status">succeeded</span>' in dom


def test_narrow_window(w):
    """At 900 px the page still renders."""
    w.write("p.yaml", pipeline(w, has_profile_transform()))
    r = run(["run", "--no-progress", w("p.yaml")])
    assert r.returncode == 0, text(r.stderr)
    shot = w("narrow.png")
    rc, _, err = chromium(["--screenshot=" + shot, "--window-size=900,1200", "file://" + w("out", "report.html")])
    assert rc == 0, err[-2000:]
    width, _, rows = png_pixels(shot)
    assert width == 900
    assert len({px for row in rows[::8] for px in row}) >= 30


SINK_TINT = (0xff, 0xf7, 0xe6)   # the fill of sink boxes in the graph (src/report/html.h)


def blobs(rows, colour):
    """Bounding boxes (x0, y0, x1, y1) of the 4-connected regions of colour."""
    todo = {(x, y) for y, row in enumerate(rows) for x, px in enumerate(row) if px == colour}
    boxes = []
    while todo:
        stack = [todo.pop()]
        x0 = x1 = stack[0][0]
        y0 = y1 = stack[0][1]
        while stack:
            x, y = stack.pop()
            x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
            for n in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if n in todo:
                    todo.remove(n)
                    stack.append(n)
        boxes.append((x0, y0, x1, y1))
    return boxes


def test_graph_fits_its_card(w):
    """A long pipeline (the shape of the training-corpus example: eight
    stages, three sinks) is drawn whole at 800 and 1280 px: every sink box is
    on the screenshot with its full width (a box cut at the card's edge would
    be narrower than its 158:64 shape)."""
    chain = ["app"] + ["stage%d" % i for i in range(1, 7)]
    transforms = "  app: {type: parse, inputs: [logs], field: log}\n"
    for prev, name in zip(chain, chain[1:]):
        transforms += "  %s: {type: filter, inputs: [%s], condition: 'true'}\n" % (name, prev)
    sinks = "".join("  sink%d: {type: file, inputs: [%s], path: %s}\n" % (i, chain[-1], w("out", "s%d.jsonl" % i))
                    for i in range(3))
    w.write("p.yaml", """data_dir: {d}/.sluice
sources:
  logs: {{type: file, paths: ["{data}"], format: jsonl}}
transforms:
{t}sinks:
{s}report: {{path: {d}/out/report.html}}
""".format(d=w.path, data=DATA, t=transforms, s=sinks))
    r = run(["run", "--no-progress", w("p.yaml")])
    assert r.returncode == 0, text(r.stderr)
    for width in (800, 1280):
        shot = w("graph-%d.png" % width)
        rc, _, err = chromium(["--screenshot=" + shot, "--window-size=%d,2400" % width,
                               "file://" + w("out", "report.html")])
        assert rc == 0, err[-2000:]
        shot_w, shot_h, rows = png_pixels(shot, step=1)
        boxes = [b for b in blobs(rows, SINK_TINT) if b[2] - b[0] > 20]
        assert len(boxes) == 3, "at %d px, %d of 3 sink boxes are on the page: %r" % (width, len(boxes), boxes)
        for x0, y0, x1, y1 in boxes:
            ratio = (x1 - x0 + 1) / (y1 - y0 + 1)
            assert 2.2 < ratio < 2.8, "at %d px a sink box is cut off: %r (width/height %.2f)" % (
                width, (x0, y0, x1, y1), ratio)
            assert x1 < shot_w - 20, "at %d px a sink box touches the window's edge" % width


def test_failed_run_has_a_report(w):
    w.write("p.yaml", pipeline(w, False).replace(
        "max: 0.01}", "max: 0.01}\n      - {name: never, check: row_count, min: 1000000, action: fail}"))
    r = run(["run", "--no-progress", w("p.yaml")])
    assert r.returncode == 1, text(r.stderr)
    html = open(w("out", "report.html"), encoding="utf-8").read()
    assert '<span class="badge bad" id="status">failed</span>' in html
    assert 'id="run-error"' in html and "never" in html


def test_live_report(w):
    port = free_port()
    w.write("p.yaml", """data_dir: {d}/.sluice
api: {{address: 127.0.0.1:{port}}}
sources:
  in: {{type: stdin, format: jsonl}}
sinks:
  out: {{type: blackhole, inputs: [in]}}
report: {{path: {d}/out/report.html}}
""".format(d=w.path, port=port))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    proc = subprocess.Popen([SLUICE, "run", "--no-progress", w("p.yaml")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        proc.stdin.write(b'{"a":1}\n{"a":2}\nnot json\n')
        proc.stdin.flush()

        def live():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/report" % port, timeout=5) as resp:
                    body = resp.read().decode()
                    return resp.headers["Content-Type"].startswith("text/html") and \
                        '<div class="v">3</div>' in body and body
            except OSError:
                return False
        wait_for(live, what="the live report with 3 records")
        body = live()
        assert '<span class="badge run" id="status">running</span>' in body
        proc.stdin.close()
        rc = proc.wait(timeout=60)
        assert rc == 0, text(proc.stderr.read())
    finally:
        if proc.poll() is None:
            stop(proc)
    assert os.path.exists(w("out", "report.html"))


main([test_report_renders, test_narrow_window, test_graph_fits_its_card, test_failed_run_has_a_report, test_live_report])
