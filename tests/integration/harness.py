"""Shared helpers for the integration tests, which run the real sluice binary.

Every test gets the binary's path as argv[1], works in a fresh temporary
directory, and fails by raising (an AssertionError or SystemExit) so that the
process exits non-zero. Tests print "N passed, N failed" at the end.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

SLUICE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/release/sluice"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Workdir:
    """A temporary directory that is removed when the test passes and kept
    (and printed) when it fails, for inspection."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="sluice-test-")

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def write(self, name, data):
        path = self(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path


def run(args, cwd=None, input=None, timeout=120, env=None):
    """Runs sluice with args; returns CompletedProcess (text stdout/stderr)."""
    full_env = dict(os.environ)
    full_env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if env:
        full_env.update(env)
    return subprocess.run([SLUICE] + args, cwd=cwd, input=input, capture_output=True,
                          timeout=timeout, env=full_env)


def text(b):
    return b.decode("utf-8", "replace")


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [json.loads(line) for line in f if line.strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def stop(proc, sig=signal.SIGTERM, timeout=30):
    """Stops a process by PID and returns (returncode, stdout, stderr)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def start_logged(work, args):
    """Starts sluice with args in the background, its output appended to
    work("sluice.log") (kept across restarts, for the failure message)."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    log = open(work("sluice.log"), "ab")
    return subprocess.Popen([SLUICE] + args, stdout=log, stderr=log, env=env)


def assert_sequence(seqs, n, seed, log):
    """Checks that seqs is exactly 0..n-1 in order; the failure says what is
    missing, duplicated and where the output first differs."""
    if seqs == list(range(n)):
        return
    missing = sorted(set(range(n)) - set(seqs))
    first = next((i for i, (a, b) in enumerate(zip(seqs, range(n))) if a != b), min(len(seqs), n))
    raise AssertionError("output differs from the written lines (seed %d): %d records, %d missing (first %s), "
                         "%d duplicates, first difference at index %s; see %s"
                         % (seed, len(seqs), len(missing), missing[:5], len(seqs) - len(set(seqs)), first, log))


def metric(port, name):
    """The value of the first sample of `name` on the API at port (labels or
    not), or None when the API is not up or has no such sample."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            body = r.read().decode()
    except OSError:
        return None
    m = re.search(r"^%s(?:\{[^}]*\})? (\d+)" % re.escape(name), body, re.M)
    return int(m.group(1)) if m else None


def bytes_written(*patterns):
    """Total size of the files matching the glob patterns: a sink's published
    files and its parts in progress, read while the sink renames and removes
    them (a file gone meanwhile counts nothing)."""
    total = 0
    for pattern in patterns:
        for p in glob.glob(pattern):
            try:
                total += os.path.getsize(p)
            except OSError:
                pass
    return total


def crc32c(data):
    """CRC-32C (Castagnoli), bitwise, as sluice frames its files: Python's
    zlib has only CRC-32."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def run_killed(args, progressed, rng, timeout=60.0, log_path=None):
    """Starts sluice with args and SIGKILLs it once progressed() is true,
    plus a random 0-3 ms (so kills land anywhere, mid-checkpoint included).
    Returns True when it ended by itself before the kill, which it must do
    successfully: a restart that cannot recover fails the test here. Its
    log is appended to log_path when given (kept with a failed test's files)."""
    with (open(log_path, "a+b") if log_path else tempfile.TemporaryFile()) as log:
        start = log.seek(0, os.SEEK_END)
        proc = subprocess.Popen([SLUICE] + args, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and not progressed() and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.003))
        ended = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if ended and proc.returncode != 0:
            log.seek(start)
            raise AssertionError("a run failed before its kill (exit %d): %s"
                                 % (proc.returncode, text(log.read())[-2000:]))
    return ended


def main(tests):
    passed = failed = 0
    for test in tests:
        work = Workdir()
        try:
            test(work)
            passed += 1
            print("ok   %s" % test.__name__, flush=True)
            shutil.rmtree(work.path, ignore_errors=True)
        except Exception:
            failed += 1
            print("FAIL %s (files kept in %s)" % (test.__name__, work.path), flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
