"""Bounded memory and the start (issue #20): the alert service's engine forgets the reports its
rules and detectors can no longer reach, rebuilds at start from the history in event-time order,
and takes forgotten reports back from the store when a late report reaches them. What readers
get must not change for any of it: the alerts of a restart are those before it (with their
status), none is published twice, and a late report fuses with forgotten ones as it would have
with an engine that forgot nothing (the replay's, which holds every report)."""
import csv
import pathlib
import sqlite3
import tempfile
import time

from conftest import Vigil
from test_stream import Listener
from test_warning_real import UKRAINE, cli, fresh, reordered, replay

WARNING = {"event": "ASSAULT", "future": True, "start": "2015-03-14T18:00:00Z",
           "end": "2015-03-14T22:00:00Z", "location": {"lat": 48.02, "lon": 37.80,
                                                        "precision_m": 1000},
           "reliability": "B", "credibility": 3, "title": "Planned attack", "marking": "green"}
MOVEMENT = {"event": "MOBILIZE", "mode": "troops", "start": "2015-03-14T09:00:00Z",
            "end": "2015-03-14T10:00:00Z", "location": {"lat": 48.03, "lon": 37.81,
                                                          "precision_m": 500},
            "reliability": "C", "credibility": 3, "title": "Troops massing", "marking": "green"}


def full_signature(alerts):
    """Each alert as a reader gets it, but for the id: rule, area, times, status, evidence."""
    return sorted((a["rule"], a.get("area"), a["fired_at"], a["start"], a["end"], a["status"],
                   a["severity"], a["confidence"], tuple(sorted(a["evidence"])))
                  for a in alerts)


def live_alerts(v, token):
    r = v.get("/api/v1/alerts?limit=1000", token=token)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def wait_equal(fn, want, timeout=300):
    got = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got == want:
            return got
        time.sleep(0.5)
    return got


class AlertsOnly:
    """What Listener needs of a daemon, its URL: one that asks the stream for alert events only
    (Listener appends its path after the fragment, which is not sent)."""

    def __init__(self, v):
        self.url = v.url + "/api/v1/stream?kinds=alert#"


def alert_events(v, token):
    """Every alert event of the log, replayed from the start: read until the stream is idle
    (a heartbeat came and no event for 3 s)."""
    l = Listener(AlertsOnly(v), token, last_id=0)
    evs, quiet, beat, deadline = [], 0, False, time.time() + 180
    while time.time() < deadline:
        got = l.events(1)
        evs += [e for e in got if e[1] == "alert"]
        while not l.comments.empty():
            beat = beat or l.comments.get() == ": heartbeat"
        quiet = 0 if got or not beat else quiet + 1
        if quiet >= 3:
            break
    l.close()
    return evs


def named(events):
    """The alerts that stream events name, in the order told, each as a reader gets it."""
    return [(e[2]["id"], *full_signature([e[2]])[0]) for e in events]


def test_restart_and_late_reports_keep_the_alerts():
    with tempfile.TemporaryDirectory(prefix="vigil-restart-") as tmp:
        path = pathlib.Path(tmp) / "newest.csv"
        reordered(UKRAINE, path, "newest")  # every report comes late but the first
        v = fresh(tmp, "live")
        v.partner("second")
        v.run("user", "add", "second", "bo", "--role", "analyst")
        ana = v.run("token", "create", "ana").stdout.strip()
        bo = v.run("token", "create", "bo").stdout.strip()
        v.start()
        try:
            cli(v, "import", "ucdp", str(path), "--as", "ana")
            want = full_signature(replay(v))
            assert len([w for w in want if w[0].startswith("escalation")]) >= 5
            assert wait_equal(lambda: full_signature(live_alerts(v, ana)), want) == want
            # it forgot what its rules and detectors can no longer reach (alerts' evidence stays)
            held = v.metric("vigil_fusion_reports")
            assert 0 < held < 3077, held
            # a warning and its corroboration, both in 2015, far behind the latest event (2022):
            # the engine takes back what they reach, and they fuse as in the replay
            for tok, body in ((ana, WARNING), (bo, MOVEMENT)):
                r = v.request("POST", "/api/v1/reports", token=tok, json=body)
                assert r.status_code == 201, r.text
            want = full_signature(replay(v))
            assert [w for w in want if w[0] == "planned-attack-corroborated"]
            assert wait_equal(lambda: full_signature(live_alerts(v, ana)), want) == want
            rule = [a for a in live_alerts(v, ana) if a["rule"] == "planned-attack-corroborated"]
            r = v.request("POST", f"/api/v1/alerts/{rule[0]['id']}/status", token=ana,
                          json={"status": "acknowledged"})
            assert r.status_code == 200, r.text
            before = full_signature(live_alerts(v, ana))
            ids = sorted(a["id"] for a in live_alerts(v, ana))
            events = named(alert_events(v, ana))
            assert events
            v.stop()
            v.start()
            # the same alerts under the same ids, the acknowledgement kept, and nothing
            # published again: the stream, replayed from the start, tells of the same alerts
            # (an event names its alert by id: the engine's numbers differ after a restart)
            assert wait_equal(lambda: full_signature(live_alerts(v, ana)), before) == before
            assert any(a[5] == "acknowledged" for a in before)
            assert sorted(a["id"] for a in live_alerts(v, ana)) == ids
            time.sleep(2)
            assert named(alert_events(v, ana)) == events
            again = v.metric("vigil_fusion_reports")
            print("held", held, "after the restart", again)
            assert 0 < again < 3077
        finally:
            v.stop()


def wait_log(v, text, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline and text not in v.log:
        time.sleep(0.2)
    return text in v.log


def store_sql(v, sql):
    """Runs sql on v's store behind the daemon's back (it is stopped)."""
    if v.pg:
        from conftest import pg_cluster
        pg_cluster().psql(v.db, sql)
    else:
        db = sqlite3.connect(v.data / "vigil.db")
        db.executescript(sql)
        db.close()


def test_a_restart_from_the_saved_state_raises_what_an_uninterrupted_daemon_does():
    """restart2 (issue #20): a clean stop saves the engine's state; the next start loads it,
    reads only the reports the engine held and those after its mark, and goes on as a daemon
    that never stopped would (the replay holds everything): the second half of the history
    and a late warning and corroboration in 2015 fuse with the first half, the escalation
    series carried over the restart. A corrupt or missing state is rebuilt from the reports,
    with the same alerts; nothing is published twice."""
    with tempfile.TemporaryDirectory(prefix="vigil-restart-") as tmp:
        tmp = pathlib.Path(tmp)
        reordered(UKRAINE, tmp / "oldest.csv", "oldest")
        with open(tmp / "oldest.csv", newline="") as f:
            rows = list(csv.reader(f))
        half = len(rows) // 2
        for name, body in (("first.csv", rows[1:half]), ("second.csv", rows[half:])):
            with open(tmp / name, "w", newline="") as f:
                csv.writer(f).writerows([rows[0], *body])
        v = fresh(tmp, "state")
        v.partner("second")
        v.run("user", "add", "second", "bo", "--role", "analyst")
        ana = v.run("token", "create", "ana").stdout.strip()
        bo = v.run("token", "create", "bo").stdout.strip()
        v.start()
        try:
            cli(v, "import", "ucdp", str(tmp / "first.csv"), "--as", "ana")
            want = full_signature(replay(v))
            assert wait_equal(lambda: full_signature(live_alerts(v, ana)), want) == want
            v.stop()  # a clean stop saves the state
            v.log = b""
            v.start()
            assert wait_log(v, b"engine started from its saved state"), v.log.decode()
            assert b"rebuilding from the reports" not in v.log
            assert wait_equal(lambda: full_signature(live_alerts(v, ana)), want) == want
            cli(v, "import", "ucdp", str(tmp / "second.csv"), "--as", "ana")
            for tok, body in ((ana, WARNING), (bo, MOVEMENT)):
                r = v.request("POST", "/api/v1/reports", token=tok, json=body)
                assert r.status_code == 201, r.text
            want = full_signature(replay(v))
            assert len([w for w in want if w[0].startswith("escalation")]) >= 5
            assert [w for w in want if w[0] == "planned-attack-corroborated"]
            assert wait_equal(lambda: full_signature(live_alerts(v, ana)), want) == want
            events = len(alert_events(v, ana))
            for bad, why in (("UPDATE service_states SET data = substr(data, 1, 40)",
                              b"stale (other rules or detectors) or corrupt"),
                             ("DELETE FROM service_states", None)):
                v.stop()
                store_sql(v, bad + ";")
                v.log = b""
                v.start()
                assert wait_equal(lambda: full_signature(live_alerts(v, ana)), want) == want
                assert b"engine started from its saved state" not in v.log
                if why:
                    assert why in v.log, v.log.decode()
                time.sleep(2)
                assert len(alert_events(v, ana)) == events
        finally:
            v.stop()
