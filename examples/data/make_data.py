#!/usr/bin/env python3
"""Makes the small bundled example datasets (deterministic; the outputs are
committed, this script documents how they were made and can re-make them).

container-logs.jsonl  3,000 lines in Docker's json-file log format: an envelope
                      {"log": "<the app's own JSON line>", "stream", "time"}.
                      About 2% are broken the way real logs break: a line cut
                      off mid-write, a Latin-1 byte that is not UTF-8, an app
                      line that is plain text instead of JSON, a stray
                      trailing character.
orders.csv            500 rows of RFC 4180 CSV with a header, quoted fields
                      with commas and newlines, and a few rows that do not
                      match their column types.
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = ["checkout", "search", "inference", "auth"]
PATHS = ["/v1/complete", "/v1/embed", "/v1/search", "/login", "/cart"]


def app_line(rng, i):
    level = rng.choices(["debug", "info", "warn", "error"], [20, 60, 12, 8])[0]
    status = 500 if level == "error" and rng.random() < 0.6 else rng.choice([200, 200, 201, 404])
    return {
        "level": level,
        "service": rng.choice(SERVICES),
        "msg": rng.choice(["request done", "cache miss", "upstream slow", "retrying", "token limit"]),
        "path": rng.choice(PATHS),
        "status": status,
        "latency_ms": round(rng.lognormvariate(3.5, 1.0), 2),
        "user": {"id": rng.randint(1, 5000), "email": "user%d@example.com" % rng.randint(1, 5000)},
        "tokens": rng.randint(1, 8192),
    }


def container_logs(path, count=3000, seed=7):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        for i in range(count):
            t = "2026-11-20T10:%02d:%02d.%06dZ" % (i // 60 % 60, i % 60, rng.randint(0, 999999))
            inner = json.dumps(app_line(rng, i), separators=(",", ":"))
            broken = rng.random()
            if broken < 0.005:
                inner = "Traceback (most recent call last): File \"app.py\", line %d" % rng.randint(1, 900)
            line = json.dumps({"log": inner, "stream": "stdout", "time": t}, separators=(",", ":")).encode()
            if 0.005 <= broken < 0.010:
                line = line[: rng.randint(10, len(line) - 5)]          # cut off mid-write
            elif 0.010 <= broken < 0.014:
                line = line.replace(b"example.com", b"ex\xe4mple.com", 1)  # Latin-1, not UTF-8
            elif 0.014 <= broken < 0.018:
                line = line + b"}"                                      # stray trailing brace
            f.write(line + b"\n")


def orders(path, count=500, seed=11):
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        f.write("order_id,customer,amount,paid,created_at,note\r\n")
        for i in range(count):
            amount = "%.2f" % rng.uniform(3, 900)
            if rng.random() < 0.02:
                amount = rng.choice(["N/A", "12,50", "?"])
            note = rng.choice(["", "gift", "leave at door", '"fragile", handle with care', "call first\nthen ring"])
            if any(c in note for c in ",\"\n"):
                note = '"' + note.replace('"', '""') + '"'
            f.write("%d,%s,%s,%s,2026-11-%02dT%02d:00:00Z,%s\r\n" % (
                1000 + i, rng.choice(["Ada", "Linus", "Grace", "Ken", "Barbara"]), amount,
                rng.choice(["true", "false"]), rng.randint(1, 28), rng.randint(0, 23), note))


if __name__ == "__main__":
    container_logs(os.path.join(HERE, "container-logs.jsonl"))
    orders(os.path.join(HERE, "orders.csv"))
