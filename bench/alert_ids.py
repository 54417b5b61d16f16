"""Cost of looking up alert ids that name no alert (docs/ACCESS.md, "Alert ids"): a partner asks
for made-up UUIDs, as an attacker would. ZONES areas each get one escalation alert of DAYS
alarm days, or two (the count's and the weighted detector's): one GREEN assault on day 0 starts
each area's series, which then has 8 assaults a day on days 60 .. 60+DAYS-1 (and one assault
in another area on the day after judges the last), posted over REST. Then N GETs of
/api/v1/alerts/{random uuid} by one partner's analyst, one at a time on one connection:
look-ups per second (best of 3), and the alert ids computed per look-up (/metrics, vigil_alert_ids_computed_total; absent before it was counted: "-").
Usage: python3 bench/alert_ids.py BUILD/vigil [ZONES [DAYS [N]]]  (prints figures; not a test)"""
import atexit, datetime, functools, http.client, json, re, shutil, subprocess, sys, tempfile
import time, uuid
from serve import serve
print = functools.partial(print, flush=True)
BIN = sys.argv[1]
ZONES, DAYS, N = (int(a) for a in (sys.argv[2:] + ["1000", "4", "2000"][len(sys.argv) - 2:]))
TMP = tempfile.mkdtemp(prefix="vigil-bench-ids-")
atexit.register(shutil.rmtree, TMP, True)
DATA = TMP + "/d"
run = lambda *a: subprocess.run([BIN, "--data", DATA, *a], capture_output=True, text=True, check=True)
run("init")
conf = open(DATA + "/vigil.conf").read()
unlimited = re.sub(r"(?m)^(rate_limit|rate_limit_per_partner) = .*$", r"\1 = 0", conf)
open(DATA + "/vigil.conf", "w").write(unlimited)
tok = {"admin": open(DATA + "/admin.token").read().strip()}
run("partner", "add", "Observers")
run("user", "add", "Observers", "ana", "--role", "analyst")
tok["ana"] = run("token", "create", "ana").stdout.strip()
port = serve(BIN, DATA)[1]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def req(method, path, who="ana", body=None):
    conn.request(method, path, body=json.dumps(body) if body else None,
                 headers={"Authorization": "Bearer " + tok[who],
                          "Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


DAY0 = datetime.date(2024, 1, 1)


def assault(area, day, i):
    d = DAY0 + datetime.timedelta(days=day)
    return {"event": "ASSAULT", "start": f"{d}T{i % 24:02d}:00:00Z",
            "end": f"{d}T{i % 24:02d}:30:00Z", "location": {"area": area},
            "reliability": "B", "credibility": 2, "marking": "green"}


t0 = time.time()
bodies = [assault("Area-start", 0, 0)]
for z in range(ZONES):
    bodies += [assault(f"Area-{z}", 0, 0)]  # starts the area's series
    bodies += [assault(f"Area-{z}", 60 + d, i) for d in range(DAYS) for i in range(8)]
bodies += [assault("Area-start", 60 + DAYS, 0)]  # judges the last alarm day
for b in bodies:
    st, text = req("POST", "/api/v1/reports", body=b)
    assert st == 201, text
print("reports", len(bodies), "posted s", round(time.time() - t0, 1))


def escalations():
    """The escalation alerts the analyst sees, and their alarm days (fired_at: the first
    day's end; end: the last day's)."""
    n, days, cur = 0, 0, None
    while True:
        st, text = req("GET", "/api/v1/alerts?limit=1000" + ("&cursor=" + cur if cur else ""))
        d = json.loads(text)
        for a in d["alerts"]:
            if a["rule"].startswith("escalation"):
                n += 1
                days += (datetime.date.fromisoformat(a["end"][:10]) -
                         datetime.date.fromisoformat(a["fired_at"][:10])).days + 2
        cur = d.get("next")
        if not cur:
            return n, days


n, days, was = 0, 0, None
while n < ZONES or (n, days) != was:  # until every area's alarms are in
    was = (n, days)
    time.sleep(1)
    n, days = escalations()
print("escalation alerts", n, "alarm days", days, "ready s", round(time.time() - t0, 1))


def computed():
    st, text = req("GET", "/metrics", "admin")
    m = re.search(rb"^vigil_alert_ids_computed_total (\d+)", text, re.M)
    return int(m.group(1)) if m else None


req("GET", f"/api/v1/alerts/{uuid.uuid4()}")  # the first look-up maps the ids
best, c0 = None, computed()
for _ in range(3):
    ids = [str(uuid.uuid4()) for _ in range(N)]
    t = time.time()
    for i in ids:
        st, _ = req("GET", f"/api/v1/alerts/{i}")
        assert st == 404
    el = time.time() - t
    best = el if best is None else min(best, el)
c1 = computed()
print("unknown-id look-ups", N, "per s (best of 3)", round(N / best), "ms each",
      round(1000 * best / N, 3), "ids computed per look-up",
      "-" if c0 is None else round((c1 - c0) / (3 * N), 3))
