#!/usr/bin/env python3
"""webhook_fanout.py - what one partner's webhooks cost every other partner's reports (S3, S5).

Every report event is offered to every active webhook of the hub, inside the transaction that
stores the report (src/access/events.c, events_publish): the subscriber's groups are loaded,
the egress gate asked and a delivery queued for each. This starts a hub, lets partner B's
analyst subscribe H webhooks (as many as the hub accepts: `webhooks_per_partner`), then has
partner A post N GREEN reports, one at a time. Prints, per H asked: the webhooks the hub
accepted, the p50 and p99 of A's POST /api/v1/reports, and the deliveries queued. The
receiver is a closed loopback port (deliveries fail and are retried later). Not a test.

  python3 bench/webhook_fanout.py BUILD/vigil [N=100] [H ...]   (default H: 0 20 1000)
"""
import functools
import shutil
import sqlite3
import sys
import time

from alert_latency import pct
from serve import fresh_hub, post, serve

print = functools.partial(print, flush=True)


def run(binary, n, hooks):
    # the receiver is on loopback; no 429s here
    tmp, data, cli = fresh_hub(binary, "vigil-bench-hooks-", "webhook_allow_private = true\n"
                               "rate_limit = 0\nrate_limit_per_partner = 0\n")
    tokens = {}
    for p, user in (("A", "a1"), ("B", "b1")):
        cli("partner", "add", p)
        cli("user", "add", p, user, "--role", "analyst")
        tokens[user] = cli("token", "create", user)
    proc, port = serve(binary, data)
    try:
        accepted = 0
        for i in range(hooks):
            status, _ = post(port, "/api/v1/webhooks", tokens["b1"],
                             {"url": "http://127.0.0.1:9/hook%d" % i, "kinds": "report"})
            accepted += status == 201
        lat = []
        for i in range(n):
            t0 = time.monotonic()
            status, _ = post(port, "/api/v1/reports", tokens["a1"], {
                "event": "ASSAULT", "mode": "aerial", "start": "2025-03-01T%02d:%02d:00Z"
                % (i // 60 % 24, i % 60), "location": {"lat": 31.5, "lon": 34.4},
                "reliability": "B", "credibility": 2, "marking": "green"})
            lat.append(time.monotonic() - t0)
            assert status == 201, status
        lat.sort()
        queued = sqlite3.connect(data + "/vigil.db").execute(
            "SELECT COUNT(*) FROM outbox").fetchone()[0]
        print("webhooks_asked=%d webhooks_accepted=%d reports=%d post_ms_p50=%.2f "
              "post_ms_p99=%.2f deliveries_queued=%d"
              % (hooks, accepted, n, 1000 * pct(lat, 50), 1000 * pct(lat, 99), queued))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, True)


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    for hooks in [int(h) for h in sys.argv[3:]] or [0, 20, 1000]:
        run(binary, n, hooks)


if __name__ == "__main__":
    main()
