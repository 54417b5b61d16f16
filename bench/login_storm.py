#!/usr/bin/env python3
"""login_storm.py - what a burst of wrong dashboard logins costs the other users (issue #18).

Starts `vigil serve` (BIN, default build/vigil) on a fresh data directory, then ROUNDS times
sends 24 wrong logins for one account at once (each its own connection), while another user
asks GET /api/v1/me with an API token, one request after the other, all the time. Prints one
"key=value ..." line: the answers to the logins, and the other user's latency (median, max).

  bench/login_storm.py [BIN] [--rounds 3] [--parallel 24]
"""
import argparse
import http.client
import json
import pathlib
import re
import statistics
import subprocess
import tempfile
import threading
import time


def vigil(bin_, data, *args, input=None):
    return subprocess.run([bin_, "--data", data, *args], capture_output=True, text=True,
                          input=input, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin", nargs="?", default="build/vigil")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=24)
    o = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = str(pathlib.Path(tmp) / "d")
        vigil(o.bin, data, "init")
        vigil(o.bin, data, "partner", "add", "A")
        vigil(o.bin, data, "user", "add", "A", "alice", "--role", "analyst")
        vigil(o.bin, data, "user", "passwd", "alice", input="a long passphrase\n")
        vigil(o.bin, data, "user", "add", "A", "bob", "--role", "analyst")
        bob = vigil(o.bin, data, "token", "create", "bob")
        proc = subprocess.Popen([o.bin, "--data", data, "serve", "--listen", "127.0.0.1:0"],
                                stderr=subprocess.PIPE)
        port = None
        while port is None:
            m = re.search(rb"listening on https?://[^:]+:(\d+)/", proc.stderr.readline())
            port = int(m.group(1)) if m else None
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        codes, lat, stop = {}, [], threading.Event()

        def login(i):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("POST", "/api/v1/login",
                      body=json.dumps({"user": "alice", "password": f"guess {i}"}),
                      headers={"Content-Type": "application/json"})
            st = c.getresponse().status
            codes[st] = codes.get(st, 0) + 1
            c.close()

        def other():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            while not stop.is_set():
                t = time.monotonic()
                c.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + bob})
                c.getresponse().read()
                lat.append(time.monotonic() - t)
            c.close()

        watcher = threading.Thread(target=other)
        watcher.start()
        for _ in range(o.rounds):
            ts = [threading.Thread(target=login, args=(i,)) for i in range(o.parallel)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        stop.set()
        watcher.join()
        proc.terminate()
        proc.wait()
        print(f"logins={o.rounds * o.parallel} answers={dict(sorted(codes.items()))} "
              f"other_requests={len(lat)} other_p50_ms={statistics.median(lat) * 1e3:.1f} "
              f"other_max_ms={max(lat) * 1e3:.1f}")


if __name__ == "__main__":
    main()
