"""Deterministic synthetic events, the input of the benchmarks.

Each event is one compact JSON line of about 390 bytes, shaped like an
inference log: a timestamp, a level, a service, a nested user, a latency with
a fraction, a status, a prompt of ordinary words, token counts, tags and a
request id. The same seed always gives the same bytes.
"""
import json
import random

LEVELS = ["debug", "info", "info", "info", "info", "warn", "error"]
SERVICES = ["api", "worker", "gateway", "search", "billing", "auth"]
WORDS = ("the of and to in is that for it as was with be by on not he this are or "
         "his from at which but have an they you were her she there been one all "
         "model token prompt data vector cache stream batch shard record latency").split()


def event(rng, i):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 32)))
    return {
        "ts": "2026-01-01T%02d:%02d:%02d.%03dZ" % (i // 3600000 % 24, i // 60000 % 60, i // 1000 % 60, i % 1000),
        "level": rng.choice(LEVELS),
        "service": rng.choice(SERVICES),
        "host": "node-%02d" % rng.randint(1, 40),
        "user": {"id": rng.randint(1, 100000), "email": "user%d@example.com" % rng.randint(1, 100000)},
        "latency_ms": round(rng.uniform(0.5, 2500.0), 2),
        "status": rng.choice([200, 200, 200, 201, 204, 400, 404, 500, 503]),
        "prompt": words[:175],
        "tokens": {"in": rng.randint(5, 4000), "out": rng.randint(1, 4000)},
        "tags": rng.sample(["prod", "eu", "us", "canary", "batch", "gpu"], 2),
        "request_id": "%016x" % rng.getrandbits(64),
    }


def write_events(path, count, seed=42):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps(event(rng, i), separators=(",", ":")))
            f.write("\n")
