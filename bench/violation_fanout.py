#!/usr/bin/env python3
"""violation_fanout.py - cost of the live stream's violation events per reader (S5, S8).

Each step of a violation's history is a `violation` event on the stream, and the stream sends
each reader the violation as that reader may see it: one violation read per reader per event
(src/service/stream.c). This starts a hub with one GREEN agreement (a no-fire zone), opens R
streams (`kinds=violation`, R users over 4 partners), then posts N GREEN reports of an
ASSAULT in the zone, one at a time, each of which is a violation found. Prints, per run: the
time from each POST's 201 to the moment the last of the R streams had its event (p50, p99),
and the daemon's CPU time (user + system, /proc) over the posts, per violation and per
violation and reader. Not a test.

  python3 bench/violation_fanout.py BUILD/vigil [N=200] [R ...]   (default R: 1 16 64)
"""
import functools
import os
import shutil
import sys
import time

from alert_latency import Stream, pct
from serve import fresh_hub, post, serve

print = functools.partial(print, flush=True)
ZONE = {"type": "Polygon", "coordinates": [[[34.70, 31.70], [34.80, 31.70], [34.80, 31.80],
                                            [34.70, 31.80], [34.70, 31.70]]]}
AGREEMENT = {"name": "Fan-out bench", "effective": "2025-01-01T00:00:00Z", "marking": "green",
             "parties": [{"name": "Party A", "aliases": ["A forces"]}],
             "zones": [{"name": "Square", "kind": "no-fire-area", "geometry": ZONE,
                        "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]}]}
PARTNERS = ("Egypt", "Qatar", "Observer", "Norway")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(binary, n, readers):
    # every stream comes from 127.0.0.1
    tmp, data, cli = fresh_hub(binary, "vigil-bench-fanout-", "per_ip_connection_limit = 1000\n")
    admin = open(data + "/admin.token").read().strip()
    for p in PARTNERS:
        cli("partner", "add", p)
    tokens = []
    for i in range(readers):
        user = "u%d" % i
        cli("user", "add", PARTNERS[i % len(PARTNERS)], user, "--role", "analyst")
        tokens.append(cli("token", "create", user))
    proc, port = serve(binary, data)
    try:
        status, _ = post(port, "/api/v1/agreements", admin, AGREEMENT)
        assert status == 201, status
        streams = [Stream(port, t, kind="violation") for t in tokens]
        for s in streams:
            s.start()
        for s in streams:
            s.connected.wait(30)
            if s.error:
                raise s.error
        lags, cpu0 = [], cpu_seconds(proc.pid)
        for i in range(n):
            when = "2025-03-%02dT%02d:%02d:00Z" % (1 + i // 720 % 28, i // 30 % 24, i % 30 * 2)
            status, _ = post(port, "/api/v1/reports", admin, {
                "event": "ASSAULT", "mode": "aerial", "actors": ["A forces"], "start": when,
                "location": {"lat": 31.71 + (i % 80) * 0.001, "lon": 34.71 + (i // 80) * 0.001},
                "reliability": "B", "credibility": 2, "marking": "green"})
            assert status == 201, status
            t0 = time.monotonic()
            last = t0
            for s in streams:  # each stream's (i+1)-th violation event
                with s.cv:
                    while len(s.events) <= i and not s.error:
                        if not s.cv.wait(30):
                            raise TimeoutError("no violation event within 30 s")
                    if s.error:
                        raise s.error
                    last = max(last, s.events[i][0])
            lags.append(last - t0)
        cpu = cpu_seconds(proc.pid) - cpu0
        lags.sort()
        print("readers=%d violations=%d last_reader_ms_p50=%.2f last_reader_ms_p99=%.2f "
              "daemon_cpu_s=%.2f cpu_ms_per_violation=%.3f cpu_us_per_violation_reader=%.1f"
              % (readers, n, 1000 * pct(lags, 50), 1000 * pct(lags, 99), cpu,
                 1000 * cpu / n, 1e6 * cpu / n / readers))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, True)


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    for readers in [int(r) for r in sys.argv[3:]] or [1, 16, 64]:
        run(binary, n, readers)


if __name__ == "__main__":
    main()
