#!/usr/bin/env python3
"""bench/takeover.py - how long a PostgreSQL front-end takes to publish alerts after the one
holding the services lock is killed -9, at a store of ROWS generated ACLED reports
(docs/BENCHMARKS.md, "Take-over from the saved state").

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/takeover.py [ROWS] [OTHER_VIGIL_BIN]

One hub in a throwaway PostgreSQL cluster (tests/api/conftest.py), ROWS (default 100,000) rows
of bench/acledgen imported with `vigil import acled`. Then, for each binary (VIGIL_BIN, then
OTHER_VIGIL_BIN if given), on the same hub: front-end 1 starts and leads, until the engine's
state is saved at the head; front-end 2 starts (its engine whole); a report that raises
nothing is posted (both engines are fed past the published mark, so the taker cannot keep its
own engine); kill -9 of front-end 1, then at once a warning and a corroborating movement at a
new place posted to front-end 2. Prints: the seconds from the kill until front-end 2 logs the
take-over, until its engine is whole again (from the state or rebuilt), until the pair's alert
event is in the store; front-end 2's CPU seconds over the take-over; the load average; then
front-end 2's first log lines after the kill, each with its seconds after the kill.
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "api"))
os.environ["VIGIL_TEST_STORE"] = "postgresql"
import conftest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
BINS = [conftest.BIN] + sys.argv[2:3]


def cpu_s(proc):
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait(pred, timeout=1800):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def alerts(v):
    return int(v.sql("SELECT count(*) FROM events WHERE kind = 'alert'")[0][0])


def timeline(log, t0, limit=12):
    """The front-end's log lines after the kill, each with its seconds after it (the log's own
    millisecond timestamps): where the take-over's time goes."""
    for line in log.decode(errors="replace").splitlines()[:limit]:
        m = re.match(r"(\S+Z) +\S+ +(.*)", line)
        if m:
            t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
            t = t.replace(tzinfo=timezone.utc).timestamp()
            print(f"    {t - t0:6.2f} s  {m.group(2)[:110]}", flush=True)


def report(fe, tok, **kw):
    r = fe.request("POST", "/api/v1/reports", token=tok, json=dict(kw, marking="green"))
    assert r.status_code == 201, r.text


def run(binary, v, tok, tmp, n):
    conftest.BIN = binary
    v.log = b""
    v.start()
    wait(lambda: b"now runs the hub's services" in v.log)
    [(head,)] = v.sql("SELECT max(seq) FROM reports")
    t0 = time.time()
    wait(lambda: v.sql("SELECT mark FROM service_states WHERE name = 'alerts.engine'")
         and int(v.sql("SELECT mark FROM service_states WHERE name = 'alerts.engine'")[0][0])
         >= int(head))
    print(f"[{binary}] front-end 1: state saved at the head {time.time() - t0:.1f} s after"
          f" the lock", flush=True)
    other = v.front_end(pathlib.Path(tmp) / f"fe2-{n}").start()
    wait(lambda: re.search(rb"engine started from its saved state|rebuilding", other.log))
    if b"rebuilding" in other.log:  # no line at its end: until the engine stops growing
        seen = []
        wait(lambda: seen.append(other.metric("vigil_fusion_reports")) or
             (len(seen) > 100 and seen[-1] == seen[-100] and seen[-1] > 0))
    lat = -60 + n  # a place of its own, far from the generated rows
    report(v, tok["b"], event="MOBILIZE", mode="troops", start=f"2025-0{n + 1}-01T09:00:00Z",
           end=f"2025-0{n + 1}-01T10:00:00Z", title="alone",
           location={"lat": lat + 0.5, "lon": -100, "precision_m": 500},
           reliability="C", credibility=3)
    time.sleep(5)
    before = alerts(v)
    c0 = cpu_s(other.proc)
    log0 = len(other.log)
    t0 = time.time()
    v.kill9()
    report(other, tok["a"], event="ASSAULT", future=True, start="2026-12-07T18:00:00Z",
           end="2026-12-07T22:00:00Z", location={"lat": lat, "lon": -100, "precision_m": 1000},
           reliability="B", credibility=3, title="Planned attack")
    report(other, tok["b"], event="MOBILIZE", mode="troops", start="2026-12-07T09:00:00Z",
           end="2026-12-07T10:00:00Z", location={"lat": lat + 0.01, "lon": -99.99,
                                                 "precision_m": 500},
           reliability="C", credibility=3, title="Troops massing")
    wait(lambda: b"publishes the alert events now" in other.log[log0:])
    t_lock = time.time() - t0
    wait(lambda: alerts(v) > before)
    t_alert = time.time() - t0
    c1 = cpu_s(other.proc)
    tail = other.log[log0:]
    how = ("from the saved state" if b"engine started from its saved state" in tail
           else "kept its engine" if b"its engine is current" in tail else "rebuilt")
    load = os.getloadavg()[0]
    print(f"[{binary}] take-over ({how}): lock {t_lock:.2f} s, first alert {t_alert:.2f} s"
          f" after the kill; front-end 2 CPU {c1 - c0:.1f} s; load {load:.2f}", flush=True)
    timeline(tail, t0)
    other.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="vigil-takeover-") as tmp:
        v = conftest.Vigil(pathlib.Path(tmp) / "hub")
        tok = {}
        for p, k in (("alpha", "a"), ("bravo", "b")):
            v.partner(p)
            tok[k] = v.user(p, "rep_" + p, role="reporter")
        csv = pathlib.Path(tmp) / "rows.csv"
        with open(csv, "w") as f:
            subprocess.run([str(ROOT / "build" / "bench" / "acledgen"), "rows", str(ROWS)],
                           stdout=f, check=True)
        t0 = time.time()
        subprocess.run([conftest.BIN, "--data", str(v.data), "import", "acled", str(csv), "--as",
                        "admin"], check=True, capture_output=True)
        [(head,)] = v.sql("SELECT max(seq) FROM reports")
        print(f"imported {ROWS} rows ({head} reports) in {time.time() - t0:.0f} s", flush=True)
        for n, b in enumerate(BINS):
            run(b, v, tok, tmp, n)


if __name__ == "__main__":
    main()
