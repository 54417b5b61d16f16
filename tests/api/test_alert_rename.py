"""An escalation alert is named after its first alarm day (docs/FUSION.md), so a late report that
makes an earlier day alarm renames it. What analysts did with it must go with it: its status
(the lifecycle every partner sees) and each partner's own triage (assignee, comments), on the
running daemon and after a restart, which rebuilds the alert under its new name."""
import datetime
import time

from test_alerts import alerts

DAY0 = datetime.date(2024, 3, 1)


def assault(day, i):
    """One observed assault on DAY0 + day, its point apart from every other's."""
    d = DAY0 + datetime.timedelta(days=day)
    return {"event": "ASSAULT", "start": f"{d}T10:00:00Z", "end": f"{d}T11:00:00Z",
            "location": {"lat": 30.0 + day * 0.05, "lon": 30.0 + i * 0.05, "precision_m": 100},
            "reliability": "B", "credibility": 2, "title": f"Assault {day}/{i}",
            "marking": "green"}


def post_all(v, token, bodies):
    for b in bodies:
        r = v.request("POST", "/api/v1/reports", token=token, json=b)
        assert r.status_code == 201, r.text


def escalation(v, token):
    got = [a for a in alerts(v, token, "?limit=1000") if a["rule"] == "escalation"]
    assert len(got) <= 1, got
    return got[0] if got else None


def wait_escalation(v, token, pred, timeout=60):
    deadline = time.time() + timeout
    a = None
    while time.time() < deadline:
        a = escalation(v, token)
        if a and pred(a):
            return a
        time.sleep(0.3)
    raise AssertionError(f"no escalation alert as expected: {a}")


def fired_day(a):
    """The alarm day that opened it: fired_at is the end of that day (midnight after it)."""
    return str(datetime.date.fromisoformat(a["fired_at"][:10]) - datetime.timedelta(days=1))


def test_a_renamed_alert_keeps_its_status_and_triage_through_a_restart(vigil):
    v = vigil
    v.partner("observers")
    ana = v.user("observers", "ana")
    v.user("observers", "bob")
    # one assault a day for 41 days, 14 on day 41 (an alarm under the shipped threshold), and
    # one on day 42 to complete day 41
    post_all(v, ana, [assault(d, 0) for d in range(41)])
    post_all(v, ana, [assault(41, i) for i in range(14)] + [assault(42, 0)])
    first = wait_escalation(v, ana, lambda a: True)
    assert fired_day(first) == str(DAY0 + datetime.timedelta(days=41))
    r = v.request("POST", f"/api/v1/alerts/{first['id']}/status", token=ana,
                  json={"status": "acknowledged"})
    assert r.status_code == 200, r.text
    r = v.request("POST", f"/api/v1/alerts/{first['id']}/triage", token=ana,
                  json={"assignee": "bob", "comment": "Field team asked"})
    assert r.status_code == 200, r.text

    # late reporting: day 40 had 14 more assaults. Day 40 now alarms too: the episode starts a
    # day earlier, and the alert is renamed after it
    post_all(v, ana, [assault(40, i) for i in range(1, 15)])
    day40 = str(DAY0 + datetime.timedelta(days=40))
    renamed = wait_escalation(v, ana, lambda a: fired_day(a) == day40)
    assert renamed["id"] != first["id"]  # named after its first alarm day (docs/ACCESS.md)

    def kept(a):
        assert a["status"] == "acknowledged", a
        assert a["triage"]["assignee"] == "bob", a["triage"]
        assert [c["text"] for c in a["triage"]["comments"]] == ["Field team asked"]
        assert a["triage"]["status_by"] == "ana"

    kept(renamed)
    v.stop()
    v.start()
    again = wait_escalation(v, ana, lambda a: fired_day(a) == day40)
    assert again["id"] == renamed["id"]
    kept(again)
