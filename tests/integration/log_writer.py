"""A seeded application log writer for the tail tests (run as a script).

    python3 log_writer.py LOGS SEED N K rename|copytruncate

Appends N JSON lines {"seq": i, "pad": "x..."} to LOGS/app.log, often in two
writes so that readers see lines half written, with short random pauses.
Every K lines it rotates the file:
  rename        app.log -> app.log.<generation>, then a new app.log
                (logrotate's default create mode);
  copytruncate  older copies shifted (app.log.1 -> app.log.2 ...), app.log
                copied to app.log.1 and truncated to 0, while the writer keeps
                its O_APPEND descriptor (logrotate's copytruncate). The copy
                and the truncation happen between two of its writes, as for an
                application that is quiet while logrotate runs.
The same SEED writes the same lines, so a failing run can be replayed.
"""
import os
import random
import shutil
import sys
import time


def rotate(f, path, mode, generation):
    """Rotates app.log as `mode` says; returns the descriptor to go on with."""
    if mode == "rename":
        f.close()
        os.rename(path, "%s.%d" % (path, generation))
        return open(path, "a")
    for g in range(generation - 1, 0, -1):
        os.rename("%s.%d" % (path, g), "%s.%d" % (path, g + 1))
    shutil.copyfile(path, path + ".1")
    os.truncate(path, 0)
    return f


def write_log(logs, seed, n, k, mode):
    rng = random.Random(seed)
    path = os.path.join(logs, "app.log")
    f = open(path, "a")
    generation = 0
    for i in range(n):
        if i and i % k == 0:
            generation += 1
            f = rotate(f, path, mode, generation)
        line = '{"seq":%d,"pad":"%s"}\n' % (i, "x" * rng.randrange(0, 200))
        if rng.random() < 0.3:                      # half a line now, the rest later
            cut = rng.randrange(1, len(line))
            f.write(line[:cut])
            f.flush()
            time.sleep(rng.random() * 0.002)
            f.write(line[cut:])
        else:
            f.write(line)
        f.flush()
        if rng.random() < 0.5:
            time.sleep(rng.random() * 0.005)
    f.close()


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[5] not in ("rename", "copytruncate"):
        sys.exit(__doc__)
    write_log(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
