"""The tail source, run by the real binary against files a test writes while
it runs: appends and half-written lines, rename rotation (with late writes
to the old file and an unterminated last line), copytruncate and rewriting
in place, deletion, files appearing later, exclude, compressed files,
multi-line events, read_from: end, resuming after a stop (including a
rotation while stopped), CSV headers, oversized lines, and config errors.

Output goes to a file sink that publishes at every checkpoint (100 ms), so
what the source handed over shows up in out/out.jsonl while it runs.
"""
import gzip
import os
import shutil
import subprocess
import time

from harness import SLUICE, main, read_jsonl, run, stop, text, wait_for

PIPELINE = """
data_dir: state
checkpoint: {interval: 100ms}
sources:
  logs:
    type: tail
    poll_interval: 30ms
    glob_interval: 200ms
    rotate_wait: 300ms
%s
sinks:
  out: {type: file, inputs: [logs], path: out/out.jsonl}
"""


class Tail:
    """sluice running a tail source (options as YAML lines) in work's directory."""

    def __init__(self, work, options):
        self.work = work
        work.write("p.yaml", PIPELINE % "\n".join("    " + line for line in options.strip().splitlines()))
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.log_path = self.work("sluice.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([SLUICE, "run", "p.yaml"], cwd=self.work.path, stdout=log, stderr=log,
                                         env=env)
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return text(f.read())

    def wait_log(self, line, timeout=20):
        """Waits until sluice has logged `line` (it may start slowly under sanitizers)."""
        wait_for(lambda: line in self.log(), timeout=timeout, what="%r in the log" % line)

    def records(self):
        return read_jsonl(self.work("out", "out.jsonl"))

    def expect(self, expected, key=None, timeout=20):
        """Waits until the output is `expected` (records, or values of `key`)."""
        def got():
            recs = self.records()
            return [r.get(key) for r in recs] if key else recs
        try:
            wait_for(lambda: got() == expected, timeout=timeout, what="output %r" % (expected,))
        except AssertionError:
            raise AssertionError("output is %r, expected %r" % (got(), expected))

    def settle(self, expected, key=None):
        """The output is `expected` and stays so (nothing more is coming)."""
        self.expect(expected, key)
        time.sleep(0.4)
        self.expect(expected, key, timeout=0.1)

    def stop(self):
        rc, _, _ = stop(self.proc)
        log = self.log()
        assert rc == 0, "sluice exited %d:\n%s" % (rc, log)
        return log

    def dlq(self):
        return read_jsonl(self.work("state", "dlq", "dlq.jsonl"))


def append(path, data, mode="a"):
    with open(path, mode) as f:
        f.write(data)


def test_append_and_half_written_line(work):
    os.makedirs(work("logs"))
    append(work("logs", "app.log"), '{"n":1}\n{"n":2}\n')
    t = Tail(work, 'paths: ["logs/app.log"]').start()
    try:
        t.expect([1, 2], "n")
        append(work("logs", "app.log"), '{"n":3}\n{"n":')
        t.settle([1, 2, 3], "n")     # the half-written line waits for its end
        append(work("logs", "app.log"), '4}\n')
        t.expect([1, 2, 3, 4], "n")
    finally:
        log = t.stop()
    assert "following logs/app.log from byte 0" in log, log


def test_rename_rotation(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    append(path, '{"n":1}\n')
    t = Tail(work, 'paths: ["logs/app.log"]').start()
    try:
        t.expect([1], "n")
        old = open(path, "a")
        old.write('{"n":2}\n')
        old.flush()
        os.rename(path, work("logs", "app.log.1"))
        old.write('{"n":3}\n{"n":4}')   # the writer finishes after the rename, without a last line break
        old.close()
        append(path, '{"n":5}\n')       # the new file at the path
        # The old file's rest comes first; its unterminated last line only
        # once the file has been quiet for rotate_wait (it could still grow).
        t.expect([1, 2, 3, 5, 4], "n")
        append(path, '{"n":6}\n')
        t.expect([1, 2, 3, 5, 4, 6], "n")
    finally:
        log = t.stop()
    assert "logs/app.log was renamed to logs/app.log.1" in log, log
    origins = {os.path.basename(r["origin"]) for r in t.dlq()}
    assert not origins, t.dlq()


def test_copytruncate_and_rewrite(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    append(path, '{"n":1}\n{"n":2}\n')
    t = Tail(work, 'paths: ["logs/app.log"]').start()
    try:
        t.expect([1, 2], "n")
        shutil.copy(path, work("logs", "app.log.1"))   # logrotate copytruncate
        append(path, "", "w")
        append(path, '{"n":3}\n')
        t.expect([1, 2, 3], "n")
        # Rewritten in place with more bytes than were read: only the first
        # bytes tell (the size alone does not).
        append(path, '{"n":4,"pad":"%s"}\n{"n":5}\n' % ("y" * 100), "w")
        t.expect([1, 2, 3, 4, 5], "n")
        # Rewritten to exactly the same size: the modification time tells.
        append(path, '{"n":6,"pad":"%s"}\n{"n":7}\n' % ("z" * 100), "w")
        t.expect([1, 2, 3, 4, 5, 6, 7], "n")
        # Truncated and written again past where reading was, with the same
        # first KiB (a long first line): the last bytes read tell.
        banner = '{"n":0,"banner":"%s"}\n' % ("b" * 1100)
        append(path, banner + '{"n":1}\n', "w")
        t.expect([1, 2, 3, 4, 5, 6, 7, 0, 1], "n")
        shutil.copy(path, work("logs", "app.log.2"))
        with open(path, "r+") as f:   # truncated and written again at once
            f.truncate(0)
            f.write(banner + '{"n":2,"pad":"%s"}\n' % ("q" * 50))
        t.expect([1, 2, 3, 4, 5, 6, 7, 0, 1, 0, 2], "n")
        # Truncated without a copy beside it: read again from the start.
        append(path, "", "w")
        append(path, '{"n":8}\n')
        t.expect([1, 2, 3, 4, 5, 6, 7, 0, 1, 0, 2, 8], "n")
    finally:
        log = t.stop()
    assert "app.log was truncated; the rest of what it had is read from its copy logs/app.log.1" in log, log
    assert "was rewritten; reading it again from the start (no copy of it was found beside it)" in log, log
    assert "was truncated; reading it again from the start (no copy of it was found beside it)" in log, log


def test_deletion_and_recreation(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    append(path, '{"n":1}\n')
    t = Tail(work, 'paths: ["logs/app.log"]').start()
    try:
        t.expect([1], "n")
        f = open(path, "a")
        os.unlink(path)
        f.write('{"n":2}\n')            # written after the deletion, read by the open descriptor
        f.close()
        t.expect([1, 2], "n")
        append(path, '{"n":3}\n')
        t.expect([1, 2, 3], "n")
    finally:
        log = t.stop()
    assert "logs/app.log was deleted" in log, log


def test_late_files_exclude_and_compressed(work):
    t = Tail(work, 'paths: ["logs/*.log*", "more/*"]\nexclude: ["*.gz", "logs/skip-*"]').start()
    try:
        t.wait_log("no file matches 'logs/*.log*' yet")   # started with nothing to follow
        os.makedirs(work("logs"))
        os.makedirs(work("more"))
        append(work("logs", "a.log"), '{"f":"a"}\n')
        append(work("logs", "skip-b.log"), '{"f":"skip"}\n')
        with gzip.open(work("logs", "c.log.gz"), "wt") as g:
            g.write('{"f":"gz"}\n')
        with gzip.open(work("more", "d.bin"), "wt") as g:   # not excluded: warned about, not read
            g.write('{"f":"gz2"}\n')
        t.expect(["a"], "f")
        append(work("more", "e.log"), '{"f":"e"}\n')
        t.settle(["a", "e"], "f")
    finally:
        log = t.stop()
    assert "no file matches 'logs/*.log*' yet" in log, log
    assert "not following more/d.bin: it is gzip-compressed" in log, log
    assert "c.log.gz" not in log and "skip-b" not in log, log


def test_multiline(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    append(path, "2026-01-01 first\n  at a\n  at b\n2026-01-01 second\nnot a start\n")
    t = Tail(work, """
paths: ["logs/app.log"]
format: text
multiline: {start: '^\\d{4}-', max_lines: 3, timeout: 300ms}
""").start()
    try:
        # The second event is complete only at the next start or after the timeout.
        t.expect(["2026-01-01 first\n  at a\n  at b", "2026-01-01 second\nnot a start"], "message")
        append(path, "2026-01-02 third\n  1\n  2\n  3\n  4\n2026-01-03 fourth\n")
        t.expect(["2026-01-01 first\n  at a\n  at b", "2026-01-01 second\nnot a start",
                  "2026-01-02 third\n  1\n  2", "  3\n  4", "2026-01-03 fourth"], "message")
        # copytruncate in the middle of an event: its last line is only in the copy.
        append(path, "2026-01-04 fifth\n  x\n")
        time.sleep(0.1)
        append(path, "  y\n")
        shutil.copy(path, path + ".1")
        append(path, "2026-01-05 sixth\n", "w")
        t.expect(["2026-01-01 first\n  at a\n  at b", "2026-01-01 second\nnot a start",
                  "2026-01-02 third\n  1\n  2", "  3\n  4", "2026-01-03 fourth", "2026-01-04 fifth\n  x\n  y",
                  "2026-01-05 sixth"], "message")
    finally:
        t.stop()


def test_read_from_end(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    append(path, "old 1\nold 2\npart")
    t = Tail(work, 'paths: ["logs/app.log"]\nformat: text\nread_from: end').start()
    try:
        time.sleep(0.3)
        append(path, "ial\nnew\n")
        t.settle(["partial", "new"], "message")   # the line being written when it started is read whole
    finally:
        t.stop()
    # A restart resumes from the checkpoint: read_from only applies without one.
    append(path, "after\n")
    t.start()
    try:
        t.settle(["partial", "new", "after"], "message")
    finally:
        t.stop()


def test_resume_after_stop_with_rotation_while_stopped(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    append(path, '{"n":1}\n{"n":2}\n{"n":')
    t = Tail(work, 'paths: ["logs/app.log"]').start()
    try:
        t.expect([1, 2], "n")
    finally:
        t.stop()
    # While sluice is stopped: the half line is finished, the file rotated
    # away (no pattern matches its new name) and a new one started.
    append(path, '3}\n{"n":4}\n')
    os.rename(path, work("logs", "app.log.1"))
    append(path, '{"n":5}\n')
    t.start()
    try:
        t.settle([1, 2, 3, 4, 5], "n")
    finally:
        log = t.stop()
    assert "following logs/app.log.1 (rotated while sluice was stopped) from byte 16" in log, log
    t.start()                            # nothing new: nothing again
    try:
        time.sleep(0.5)
        t.settle([1, 2, 3, 4, 5], "n")
    finally:
        t.stop()


def copytruncate_while_stopped(work, pattern):
    """Lines sluice had not read when the file was copied and truncated
    while it was stopped are read from the copy, from where the checkpoint
    was; with `paths` matching the copy too, it is not read again."""
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    first = "".join('{"n":%d,"pad":"%s"}\n' % (i, "p" * 90) for i in range(30))   # over a hash block
    append(path, first + '{"n":')
    t = Tail(work, 'paths: ["logs/%s"]' % pattern).start()
    try:
        t.expect(list(range(30)), "n")
    finally:
        t.stop()
    append(path, '30}\n{"n":31}\n')
    shutil.copy(path, path + ".1")
    append(path, "", "w")
    append(path, '{"n":32}\n')
    t.start()
    try:
        t.settle(list(range(33)), "n")
    finally:
        log = t.stop()
    assert "logs/app.log was truncated since the last checkpoint" in log, log
    assert "the rest of what logs/app.log had is read from its copy logs/app.log.1, from byte %d" % len(first) in log, log


def test_copytruncate_while_stopped(work):
    copytruncate_while_stopped(work, "app.log")


def test_copytruncate_while_stopped_copies_matched(work):
    copytruncate_while_stopped(work, "app.log*")


def test_csv_header_on_resume(work):
    os.makedirs(work("logs"))
    path = work("logs", "prices.csv")
    append(path, "item,price\n")
    t = Tail(work, 'paths: ["logs/*.csv"]\nformat: csv\ncsv: {columns: {price: int}}').start()
    try:
        time.sleep(0.3)
        append(path, "a,1\nb,2\n")
        t.expect([{"item": "a", "price": 1}, {"item": "b", "price": 2}])
    finally:
        t.stop()
    append(path, "c,3\n")
    t.start()
    try:
        t.settle([{"item": "a", "price": 1}, {"item": "b", "price": 2}, {"item": "c", "price": 3}])
    finally:
        t.stop()


def test_oversized_line(work):
    os.makedirs(work("logs"))
    path = work("logs", "app.log")
    t = Tail(work, 'paths: ["logs/app.log"]\nmax_record_bytes: 100').start()
    try:
        append(path, '{"n":1}\n{"big":"%s"' % ("z" * 300))
        time.sleep(0.3)
        append(path, '}\n{"n":2}\n')
        t.settle([1, 2], "n")
    finally:
        t.stop()
    dlq = t.dlq()
    assert [d["reason"] for d in dlq] == ["record_too_large"], dlq
    assert dlq[0]["position"]["offset"] == 8 and dlq[0]["raw"].startswith('{"big":"zzz'), dlq


def test_config_errors(work):
    work.write("p.yaml", PIPELINE % """    paths: ["x.csv"]
    format: csv
    multiline: {start: '^\\d', timeout: 0s}""")
    r = run(["check", work("p.yaml")])
    err = text(r.stderr) + text(r.stdout)
    assert r.returncode != 0, err
    assert "multiline joins lines of text or JSON" in err, err
    assert "multiline.timeout must be longer than 0" in err, err
    work.write("p.yaml", PIPELINE % """    paths: ["x.log"]
    multiline: {start: '(unclosed'}""")
    r = run(["check", work("p.yaml")])
    err = text(r.stderr) + text(r.stdout)
    assert r.returncode != 0 and "multiline.start: invalid regex" in err, err


if __name__ == "__main__":
    main([test_append_and_half_written_line, test_rename_rotation, test_copytruncate_and_rewrite,
          test_copytruncate_while_stopped, test_copytruncate_while_stopped_copies_matched,
          test_deletion_and_recreation, test_late_files_exclude_and_compressed, test_multiline,
          test_read_from_end, test_resume_after_stop_with_rotation_while_stopped, test_csv_header_on_resume,
          test_oversized_line, test_config_errors])
