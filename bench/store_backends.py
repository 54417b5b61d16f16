#!/usr/bin/env python3
"""bench/store_backends.py - ingest and reads on SQLite, on PostgreSQL with one front-end and
with two, and the failover time of the services lock (docs/BENCHMARKS.md, PostgreSQL).

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/store_backends.py [OBJECTS] [SECONDS]

Each run: a fresh hub (tests/api/conftest.py's Vigil; PostgreSQL in a throwaway cluster with
fsync on), OBJECTS indicators (default 5000) posted through TAXII in envelopes of 100 by 4
clients (spread over the front-ends), then SECONDS (default 10) of 4 clients paging the
collection (limit=100) through the front-ends. Failover: kill -9 of the front-end holding the
services lock until the other logs that it took it over. Prints one line per figure.
"""
import os
import pathlib
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "api"))
os.environ.setdefault("VIGIL_TEST_STORE", "sqlite")
os.environ["VIGIL_PG_DURABLE"] = "1"  # PostgreSQL with fsync, as SQLite's synchronous=FULL
import conftest  # noqa: E402
from stix_samples import envelope, indicator  # noqa: E402

OBJECTS = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10
PER, CLIENTS = 100, 4


def run(name, store, fronts, tmp):
    v = conftest.Vigil(pathlib.Path(tmp) / name, store=store)
    with open(v.data / "vigil.conf", "a") as f:  # the 4 clients share one token: no 429s
        f.write("rate_limit = 0\nrate_limit_per_partner = 0\n")
    v.start()
    fes = [v] + [v.front_end(pathlib.Path(tmp) / f"{name}-{i}").start() for i in range(1, fronts)]
    coll = v.collection("reports")
    url = f"/taxii2/api/collections/{coll}/objects/"
    chunks = [[indicator(i * PER + k) for k in range(PER)] for i in range(OBJECTS // PER)]
    t0 = time.time()

    def post(c):
        for i in range(c, len(chunks), CLIENTS):
            r = fes[c % fronts].post(url, json=envelope(*chunks[i]))
            assert r.status_code == 202, r.text

    ts = [threading.Thread(target=post, args=(c,)) for c in range(CLIENTS)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    ingest = OBJECTS / (time.time() - t0)
    count = [0] * CLIENTS
    stop = time.time() + SECONDS

    def read(c):
        while time.time() < stop:
            r = fes[c % fronts].get(url, params={"limit": 100})
            assert r.status_code == 200, r.text
            count[c] += 1

    ts = [threading.Thread(target=read, args=(c,)) for c in range(CLIENTS)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print(f"{name}: ingest {ingest:,.0f} objects/s; reads {sum(count) / SECONDS:,.1f} pages/s"
          f" (limit=100)", flush=True)
    failover = None
    if fronts > 1:
        leader = next(f for f in fes if b"now runs the hub's services" in f.log)
        other = next(f for f in fes if f is not leader)
        before = other.log.count(b"now runs the hub's services")
        t0 = time.time()
        leader.kill9()
        while other.log.count(b"now runs the hub's services") == before:
            time.sleep(0.05)
        failover = time.time() - t0
        print(f"{name}: failover of the services lock after kill -9: {failover:.2f} s",
              flush=True)
    for f in fes:
        f.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        run("sqlite", "sqlite", 1, tmp)
        cluster = conftest.pg_cluster()
        for fronts in (1, 2):
            run(f"postgresql-{fronts}fe", cluster.uri(cluster.new_db()), fronts, tmp)


if __name__ == "__main__":
    main()
