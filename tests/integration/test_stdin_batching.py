"""stdin batching: every record exactly once and in order, however the
writer writes.

The stdin source grows its pipe to 1 MiB and, after a read that took all
there was, goes on filling the batch when more is ready (handing it on only
when nothing is), so that a writer that keeps up fills whole batches instead
of one per read. Here writers cut the input in odd-sized chunks that end in
the middle of records (and of multi-byte characters): a slow one that
trickles with short pauses, and a fast one that writes as fast as the pipe
takes it; both
with `wal.enabled: false` and through the log; and gzip input trickled in.
The output must be the input, record for record. And the pipe sluice reads from must have grown beyond the
kernel's 64 KiB default (when the kernel allows 1 MiB).
"""
import fcntl
import gzip
import json
import os
import subprocess
import time

from harness import SLUICE, main, text

F_GETPIPE_SZ = 1032
DEFAULT_PIPE = 65536

PIPELINE = """
data_dir: {dir}/state-{name}
checkpoint: {checkpoint}
sources:
  piped: {{type: stdin, wal: {{enabled: {wal}}}}}
sinks:
  out: {{type: file, inputs: [piped], path: "{dir}/{name}.jsonl"}}
"""

MODES = [("nowal", "false", "{enabled: false}"), ("wal", "true", "{interval: 50ms}")]


def records(n):
    """Lines of varied lengths (2 to ~900 bytes), some with 2- and 3-byte characters."""
    out = []
    for i in range(n):
        pad = "é€x" * (i * 7919 % 300) if i % 5 == 0 else "p" * (i * 104729 % 700)
        out.append(json.dumps({"n": i, "pad": pad}, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return out


def pipe_size_allowed():
    with open("/proc/sys/fs/pipe-max-size") as f:
        return int(f.read()) >= 1 << 20


def feed(work, name, wal, checkpoint, chunks, pause):
    """Runs sluice on a pipe the chunks are written to; returns (output, pipe size seen)."""
    cfg = work.write("%s.yaml" % name, PIPELINE.format(dir=work.path, name=name, wal=wal, checkpoint=checkpoint))
    err = open(work("%s.err" % name), "wb")
    proc = subprocess.Popen([SLUICE, "run", "--no-progress", cfg], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=err)
    fd = proc.stdin.fileno()
    for i, chunk in enumerate(chunks):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]
        if pause:
            time.sleep(pause[i % len(pause)])
    size = fcntl.fcntl(fd, F_GETPIPE_SZ)   # sluice has read: it grew the pipe first
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0, text(open(work("%s.err" % name), "rb").read())
    with open(work("%s.jsonl" % name), "rb") as f:
        return f.read(), size


def cut(data, sizes):
    """data in chunks of the given sizes, in turn."""
    chunks, at, i = [], 0, 0
    while at < len(data):
        chunks.append(data[at:at + sizes[i % len(sizes)]])
        at += sizes[i % len(sizes)]
        i += 1
    return chunks


def check(work, name, lines, chunks, pause, data=None):
    data = data or b"".join(lines)
    for mode, wal, checkpoint in MODES:
        out, size = feed(work, "%s-%s" % (name, mode), wal, checkpoint, chunks, pause)
        got = out.splitlines(keepends=True)
        assert len(got) == len(lines), "%s %s: %d records out of %d" % (name, mode, len(got), len(lines))
        for i, (a, b) in enumerate(zip(got, lines)):
            assert json.loads(a) == json.loads(b), "%s %s: record %d is %r, not %r" % (name, mode, i, a[:80], b[:80])
        assert out == b"".join(lines), "%s %s: output differs from the input" % (name, mode)
        if pipe_size_allowed() and len(data) > DEFAULT_PIPE:   # the writer waited for sluice to read
            assert size > DEFAULT_PIPE, "%s %s: the pipe holds %d bytes" % (name, mode, size)


def test_slow_trickling_writer(work):
    lines = records(600)
    chunks = cut(b"".join(lines), [1, 3, 17, 211, 2, 1021, 5, 97])
    # short pauses, about 2 s in all
    check(work, "slow", lines, chunks, [0.0002, 0.001, 0.003, 0, 0.0005, 0.002])


def test_fast_writer_in_odd_chunks(work):
    lines = records(40_000)
    chunks = cut(b"".join(lines), [1, 4093, 65537, 7, 131071, 333337, 12, 1048583])
    check(work, "fast", lines, chunks, None)


def test_compressed_writer(work):
    # gzip is decompressed while the pipe may be empty; nothing is lost.
    lines = records(3000)
    packed = gzip.compress(b"".join(lines))
    chunks = cut(packed, [1, 7, 4099, 3, 65537])
    check(work, "gzip", lines, chunks, [0.001, 0, 0.0003], data=packed)


if __name__ == "__main__":
    main([test_slow_trickling_writer, test_fast_writer_in_odd_chunks, test_compressed_writer])
