#!/usr/bin/env python3
"""alert_latency.py - ingest -> alert latency of Vigil's fusion engine (S7, S11).

Subscribes to /api/v1/stream?kinds=alert, then, for each pair, POSTs to /api/v1/reports
  1. as partner A: a warning of a planned attack (event ASSAULT, future: true), and
  2. as partner B: troops moving (event MOBILIZE, mode troops) 1 km away, 2 h before the
     warned time,
which the default rule planned-attack-corroborated turns into an alert (a second, independent
partner sees troops moving within 5 km and 24 h of the warned attack). Each pair is at a fresh
place (a grid with 11 km spacing; --first picks where in the grid to start) so that each pair
makes a new alert. The latency is the time from the moment the second POST's 201 answer was read
to the moment the alert event that cites the second report was read from the stream (a thread
reads the stream and stamps each event as it arrives; both clocks are this process's
monotonic clock). Prints one "key=value ..." line.

  alert_latency.py measure --port P --stream-token F --token-a F --token-b F [--pairs 300]
                   [--first 0] [--gap-ms 20]
  alert_latency.py probe --port P ... --t0-us T [--every-ms 50] [--timeout 600]
      Startup: posts a pair every --every-ms (250; 50 in the first 2 s) until one of them
      raises an alert on the stream;
      prints alerts_ready_ms, the time from T (CLOCK_REALTIME microseconds, when the daemon
      was started) to that alert, and how many pairs were posted before.

Event times are the present (the generated history ends in 2025), so each pair's neighbours in
the fusion engine's grid cell are the stored history of that cell, found by binary search.
Places are never reused within a store: --first must differ between runs on the same store
(probe prints next=, the first unused place).
"""
import argparse
import http.client
import json
import socket
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

# The grid: Ukraine, where the generated ACLED rows are densest (Donetsk, Kharkiv, Zaporizhia,
# Luhansk, Kherson): 44.5..52.4 N x 24.0..39.96 E, 0.1 deg spacing in latitude (11 km), 0.14
# deg in longitude (~10 km at 48 N): 9,120 places. Should a run go round the grid, each round is
# 3 days later in event time, beyond the rule's 24 h, so pairs never meet earlier ones.
LAT0, LON0, NLAT, NLON, DLAT, DLON = 44.5, 24.0, 80, 114, 0.1, 0.14


def place(i):
    k = i % (NLAT * NLON)
    return (round(LAT0 + (k % NLAT) * DLAT, 5), round(LON0 + (k // NLAT) * DLON, 5),
            i // (NLAT * NLON))


def read_token(path):
    with open(path) as f:
        return f.read().strip()


class Stream(threading.Thread):
    """Reads the SSE stream; records (arrival time, event JSON) for every event of kind."""

    def __init__(self, port, token, kind="alert"):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(("GET /api/v1/stream?kinds=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n"
                           % (kind, token)).encode())
        self.mark = ("event: %s\ndata: " % kind).encode()
        self.cv = threading.Condition()
        self.events = []  # (t, event dict)
        self.connected = threading.Event()
        self.error = None

    def run(self):
        buf = b""
        head = True
        try:
            while True:
                data = self.sock.recv(65536)
                t = time.monotonic()
                if not data:
                    raise EOFError("the server closed the stream")
                buf += data
                if head:
                    if b"\r\n\r\n" not in buf:
                        continue
                    status, buf = buf.split(b"\r\n\r\n", 1)
                    if b" 200 " not in status.split(b"\r\n")[0]:
                        raise RuntimeError("stream: " + status.split(b"\r\n")[0].decode())
                    head = False
                    self.connected.set()
                # Chunked transfer encoding: chunk-size lines sit between the SSE lines.
                # Events are found by their "event: KIND" line followed by a "data:" line,
                # both of which the server writes in one piece.
                while True:
                    k = buf.find(self.mark)
                    if k < 0:
                        buf = buf[-64:] if len(buf) > 64 else buf
                        break
                    end = buf.find(b"\n", k + len(self.mark))
                    if end < 0:
                        buf = buf[k:]
                        break
                    ev = json.loads(buf[k + len(self.mark):end])
                    buf = buf[end + 1:]
                    with self.cv:
                        self.events.append((t, ev))
                        self.cv.notify_all()
        except Exception as e:  # reported by the main thread
            self.error = e
            self.connected.set()
            with self.cv:
                self.cv.notify_all()

    def wait_for(self, report_id, deadline):
        """The arrival time of the alert citing report_id, or None at the deadline."""
        with self.cv:
            while True:
                for t, ev in self.events:
                    if report_id in ev.get("evidence", []):
                        return t
                if self.error:
                    raise self.error
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)


class Poster:
    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port)

    def post(self, body):
        data = json.dumps(body)
        for attempt in range(2):
            try:
                self.conn.request("POST", "/api/v1/reports", data, {
                    "Authorization": "Bearer " + self.token,
                    "Content-Type": "application/json"})
                r = self.conn.getresponse()
                out = r.read()
                t = time.monotonic()
                break
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port)
        if r.status != 201:
            raise RuntimeError("POST /api/v1/reports: %d %s" % (r.status, out[:300]))
        return t, json.loads(out)["id"]


def ts(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def pair(a, b, i):
    lat, lon, rnd = place(i)
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3 * rnd)
    warn = {"event": "ASSAULT", "future": True, "start": ts(now + timedelta(hours=2)),
            "location": {"lat": lat, "lon": lon, "precision_m": 500},
            "reliability": "B", "credibility": 2, "marking": "green",
            "title": "bench: warning of a planned attack #%d" % i,
            "description": "A source reports an assault planned near the crossing."}
    move = {"event": "MOBILIZE", "mode": "troops", "start": ts(now),
            "location": {"lat": round(lat + 0.009, 5), "lon": lon, "precision_m": 200},
            "reliability": "B", "credibility": 2, "marking": "green",
            "title": "bench: troops moving #%d" % i,
            "description": "A patrol observed a column of troops moving towards the crossing."}
    a.post(warn)
    return b.post(move)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["measure", "probe"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stream-token", required=True)
    ap.add_argument("--token-a", required=True)
    ap.add_argument("--token-b", required=True)
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--gap-ms", type=float, default=20)
    ap.add_argument("--t0-us", type=int)
    ap.add_argument("--every-ms", type=float, default=250)
    ap.add_argument("--timeout", type=float, default=600)
    o = ap.parse_args()

    st = Stream(o.port, read_token(o.stream_token))
    st.start()
    st.connected.wait(30)
    if st.error:
        raise st.error
    a = Poster(o.port, read_token(o.token_a))
    b = Poster(o.port, read_token(o.token_b))

    if o.mode == "probe":
        start = time.monotonic()
        end = start + o.timeout
        posted = []
        i = o.first
        while time.monotonic() < end:
            _, rid = pair(a, b, i)
            posted.append(rid)
            i += 1
            every = 50.0 if time.monotonic() - start < 2 else o.every_ms
            deadline = time.monotonic() + every / 1000.0
            for rid2 in posted:
                if st.wait_for(rid2, deadline) is not None:
                    ready_us = time.time_ns() // 1000
                    print("alerts_ready_ms=%.0f pairs_posted=%d first_alerting_pair=%d next=%d"
                          % ((ready_us - o.t0_us) / 1000.0, len(posted), posted.index(rid2) + 1,
                             i))
                    return 0
                deadline = time.monotonic()  # the others: only what has already arrived
        print("alerts_ready_ms=timeout pairs_posted=%d next=%d" % (len(posted), i))
        return 1

    lat = []
    missed = 0
    for k in range(o.pairs):
        t1, rid = pair(a, b, o.first + k)
        t2 = st.wait_for(rid, time.monotonic() + 5.0)
        if t2 is None:
            missed += 1
        else:
            lat.append((t2 - t1) * 1000.0)
        time.sleep(o.gap_ms / 1000.0)
    print("pairs=%d alerts=%d missed=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
          "mean_ms=%.2f min_ms=%.2f next=%d"
          % (o.pairs, len(lat), missed, pct(lat, 50), pct(lat, 90), pct(lat, 99),
             max(lat) if lat else float("nan"), statistics.mean(lat) if lat else float("nan"),
             min(lat) if lat else float("nan"), o.first + o.pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
