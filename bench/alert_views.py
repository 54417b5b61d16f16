"""Cost of the per-reader alert views (docs/FUSION.md): N situations (a GREEN warning and two
GREEN movements from other partners, each situation 55 km from the next) posted over REST; then
the time to list every alert (pages of 100) and to GET each one, as the coordination center.
Usage: python3 bench/alert_views.py BUILD/vigil N   (prints figures; not a test)"""
import atexit, functools, shutil, json, subprocess, sys, tempfile, time, urllib.request
from serve import serve
print = functools.partial(print, flush=True)
BIN, N = sys.argv[1], int(sys.argv[2])
TMP = tempfile.mkdtemp(prefix="vigil-bench-views-")
atexit.register(shutil.rmtree, TMP, True)
DATA = TMP + "/d"
run = lambda *a: subprocess.run([BIN, "--data", DATA, *a], capture_output=True, text=True, check=True)
run("init")
tok = {"admin": open(DATA + "/admin.token").read().strip()}
for p in ("Egypt", "Qatar", "Observer"):
    run("partner", "add", p)
    run("user", "add", p, p.lower(), "--role", "analyst")
    tok[p] = run("token", "create", p.lower()).stdout.strip()
url = "http://127.0.0.1:%d" % serve(BIN, DATA)[1]
def req(path, who="admin", body=None):
    r = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + tok[who],
        "Content-Type": "application/json"}, data=json.dumps(body).encode() if body else None)
    return json.load(urllib.request.urlopen(r, timeout=600))
for k in range(N):
    lat, lon = 10 + (k // 40) * 0.5, 10 + (k % 40) * 0.5
    req("/api/v1/reports", "Egypt", {"event": "ASSAULT", "future": True, "targets": ["civilians"],
        "start": "2025-10-14T18:00:00Z", "end": "2025-10-14T22:00:00Z", "marking": "green",
        "location": {"lat": lat, "lon": lon, "precision_m": 1000}, "reliability": "B",
        "credibility": 3})
    for who in ("Qatar", "Observer"):
        req("/api/v1/reports", who, {"event": "MOBILIZE", "mode": "troops", "marking": "green",
            "start": "2025-10-14T09:00:00Z", "end": "2025-10-14T10:00:00Z", "reliability": "C",
            "location": {"lat": lat + 0.01, "lon": lon + 0.01, "precision_m": 500},
            "credibility": 3})
while len(req("/api/v1/alerts?limit=1000")["alerts"]) < N:
    time.sleep(0.5)
best = None
for _ in range(5):
    t0, cur, n = time.time(), None, 0
    while True:
        d = req("/api/v1/alerts?limit=100" + ("&cursor=" + cur if cur else ""))
        n += len(d["alerts"]); cur = d.get("next")
        if not cur: break
    el = time.time() - t0
    best = el if best is None else min(best, el)
print("alerts", n, "list all pages (best of 5) ms", round(1000 * best, 1))
ids = [a["id"] for a in req("/api/v1/alerts?limit=1000")["alerts"]]
ts = []
for i in ids:
    t0 = time.time(); req("/api/v1/alerts/%s" % i); ts.append(time.time() - t0)
ts.sort()
print("GET one alert ms p50", round(1000 * ts[len(ts) // 2], 2), "p99",
      round(1000 * ts[max(0, int(len(ts) * .99) - 1)], 2))
