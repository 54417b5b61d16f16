"""Fusion and early warning end to end (S7): a planned attack corroborated by another partner
raises a HIGH alert before the attack window; each reader sees the alert only as the evidence
THEY may read supports it (REST, SSE, TAXII); the lifecycle; rules reload and SIGHUP; the alert
survives a restart with its status."""
import json
import os
import signal
import threading
import time

import pytest

from conftest import wait_for  # noqa: F401 (test_alert_triage and others import it from here)

from test_stream import Listener

WARNING = {"event": "ASSAULT", "future": True, "targets": ["civilians"],
           "start": "2025-10-14T18:00:00Z", "end": "2025-10-14T22:00:00Z",
           "location": {"lat": 31.52, "lon": 34.45, "precision_m": 1000},
           "reliability": "B", "credibility": 3, "title": "Planned attack on a shelter"}
MOVEMENT = {"event": "MOBILIZE", "mode": "troops",
            "start": "2025-10-14T09:00:00Z", "end": "2025-10-14T10:00:00Z",
            "location": {"lat": 31.53, "lon": 34.47, "precision_m": 500},
            "reliability": "C", "credibility": 3, "title": "Troops massing"}


def post(vigil, token, body):
    r = vigil.request("POST", "/api/v1/reports", token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def alerts(vigil, token, query=""):
    r = vigil.get("/api/v1/alerts" + query, token=token)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def wait_alerts(vigil, token, n=1, timeout=10):
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = alerts(vigil, token)
        if len(got) >= n:
            return got
        time.sleep(0.2)
    return got


@pytest.fixture
def world(vigil):
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1", role="analyst") for p in ("Egypt", "Qatar",
                                                                     "Observer")}
    vigil.run("group", "add", "EG-CC", "Egypt", "Coordination Center")
    return vigil, t


def test_corroborated_warning_raises_high_alert_before_the_window(world):
    vigil, t = world
    w = post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    assert wait_alerts(vigil, vigil.admin_token, timeout=2) == []  # one source: no alert
    m = post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    got = wait_alerts(vigil, vigil.admin_token)
    assert len(got) == 1, got
    a = got[0]
    assert a["rule"] == "planned-attack-corroborated" and a["severity"] == "high"
    assert a["status"] == "new" and sorted(a["evidence"]) == sorted([w, m])
    assert a["location"] and 0 < a["confidence"] <= 100
    # Raised before the attack window opens (the reports' event time precedes it).
    assert a["start"] < WARNING["start"] or a["start"] == MOVEMENT["start"]
    for field in ("id", "title", "end", "created", "updated"):
        assert field in a
    assert vigil.get(f"/api/v1/alerts/{a['id']}").json()["id"] == a["id"]
    # More evidence updates the same alert; it is not duplicated.
    post(vigil, t["Observer"], dict(MOVEMENT, marking="green", title="More troops"))
    time.sleep(1.5)
    again = alerts(vigil, vigil.admin_token)
    assert len(again) == 1 and len(again[0]["evidence"]) == 3


def test_each_reader_sees_the_alert_its_own_evidence_supports(world):
    vigil, t = world
    # The warning is shared with Egypt's group (Egypt + CC); the movements are Qatar's AMBER
    # (Qatar and the CC). Only the CC reads both.
    w = post(vigil, t["Egypt"], dict(WARNING, marking="amber", group="EG-CC"))
    m = post(vigil, t["Qatar"], dict(MOVEMENT, marking="amber"))
    cc = wait_alerts(vigil, vigil.admin_token)
    assert len(cc) == 1 and sorted(cc[0]["evidence"]) == sorted([w, m])
    time.sleep(0.5)
    for p in ("Egypt", "Qatar", "Observer"):
        assert alerts(vigil, t[p]) == [], p  # no partner sees it: nor its severity, nor count
        assert vigil.get(f"/api/v1/alerts/{cc[0]['id']}", token=t[p]).status_code == 404
    # TAXII's alerts collection follows the same views.
    coll = vigil.collection("alerts")
    objs = vigil.get(f"/taxii2/api/collections/{coll}/objects/").json().get("objects", [])
    assert len(objs) == 1 and objs[0]["type"] == "grouping"
    assert sorted(objs[0]["object_refs"]) == sorted([w, m])
    none = vigil.get(f"/taxii2/api/collections/{coll}/objects/", token=t["Egypt"]).json()
    assert none.get("objects", []) == []


def test_alerts_come_in_pages(world):
    """Lists of alerts are paged (bounded memory per request): REST newest first with limit and
    cursor, TAXII's alerts collection oldest first with limit, more and next."""
    vigil, t = world
    for k in range(3):  # three situations, 55 km apart
        post(vigil, t["Egypt"], dict(WARNING, marking="green", location=dict(
            WARNING["location"], lat=30.5 + k / 2)))
        post(vigil, t["Qatar"], dict(MOVEMENT, marking="green", location=dict(
            MOVEMENT["location"], lat=30.51 + k / 2)))
    every = wait_alerts(vigil, vigil.admin_token, n=3)
    assert vigil.metric("vigil_fusion_reports") == 6
    assert vigil.metric("vigil_fusion_memory_bytes") > 6 * 200
    ids = [a["id"] for a in every]  # opaque (docs/ACCESS.md): newest first by creation
    assert len(set(ids)) == 3
    assert [a["created"] for a in every] == sorted((a["created"] for a in every), reverse=True)
    first = vigil.get("/api/v1/alerts?limit=2").json()
    assert [a["id"] for a in first["alerts"]] == ids[:2] and first["next"]
    rest = vigil.get("/api/v1/alerts?limit=2&cursor=" + first["next"]).json()
    assert [a["id"] for a in rest["alerts"]] == ids[2:] and "next" not in rest
    for bad in ("?limit=0", "?limit=x", "?cursor=x", "?cursor=-3"):
        assert vigil.get("/api/v1/alerts" + bad).status_code == 400, bad

    url = f"/taxii2/api/collections/{vigil.collection('alerts')}/objects/"
    p1 = vigil.get(url + "?limit=2").json()
    assert len(p1["objects"]) == 2 and p1["more"] is True
    p2 = vigil.get(url + "?limit=2&next=" + p1["next"]).json()
    assert len(p2["objects"]) == 1 and p2["more"] is False and "next" not in p2
    groupings = [o["id"] for o in p1["objects"] + p2["objects"]]
    assert len(set(groupings)) == 3
    one = vigil.get(url + "?match[id]=" + groupings[2]).json()
    assert [o["id"] for o in one["objects"]] == groupings[2:]
    assert vigil.get(url + "?limit=2&next=" + p1["next"][:-2] + "AA").status_code == 400
    assert vigil.get(url + "?match[type]=indicator").json() == {}


def test_alerts_arrive_live_on_the_stream_filtered(world):
    vigil, t = world
    cc = Listener(vigil, vigil.admin_token)
    eg = Listener(vigil, t["Egypt"])
    time.sleep(0.3)
    post(vigil, t["Egypt"], dict(WARNING, marking="amber", group="EG-CC"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="amber"))
    cc_events = [e for e in cc.events(4) if e[1] == "alert"]
    eg_events = [e for e in eg.events(1) if e[1] == "alert"]
    cc.close()
    eg.close()
    assert cc_events and cc_events[0][2]["severity"] == "high"
    assert eg_events == []


def test_lifecycle_and_persistence(world):
    vigil, t = world
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    a = wait_alerts(vigil, vigil.admin_token)[0]
    url = f"/api/v1/alerts/{a['id']}/status"
    reader = vigil.user("Qatar", "q-reader", role="reader")
    assert vigil.request("POST", url, token=reader, json={"status": "acknowledged"}
                         ).status_code == 403
    assert vigil.request("POST", url, json={"status": "nonsense"}).status_code == 400
    assert vigil.request("POST", url, json={"status": "acknowledged"}).status_code == 200
    assert vigil.request("POST", url, json={"status": "resolved"}).status_code == 200
    assert vigil.request("POST", url, json={"status": "acknowledged"}).status_code == 409
    assert vigil.request("POST", "/api/v1/alerts/99999/status",
                         json={"status": "resolved"}).status_code == 404
    vigil.stop()
    vigil.start()
    again = wait_alerts(vigil, vigil.admin_token)
    assert again[0]["status"] == "resolved"
    assert alerts(vigil, vigil.admin_token, "?status=new") == []
    audit = vigil.get("/api/v1/audit?limit=1000").json()["entries"]
    assert any(e["action"] == "alert" for e in audit)


def race(calls):
    """Runs the calls at once (threads released together); their results, in order."""
    out = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i):
        gate.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def test_two_status_changes_decided_on_one_version_one_wins_the_other_gets_409(world):
    """The race: two analysts read the alert (status new, one status_version) and decide at
    once, one to acknowledge, the other to call it a false alarm. Both moves are allowed from
    new, but the second to arrive was decided on a status that is no longer there: a
    compare-and-set refuses it (409, saying so) and keeps the first, alone in the history."""
    vigil, t = world
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    a = wait_alerts(vigil, vigil.admin_token)[0]
    assert a["status"] == "new" and isinstance(a["status_version"], int)
    url = f"/api/v1/alerts/{a['id']}/status"
    got = race([lambda: vigil.request("POST", url, token=t["Egypt"], json={
                    "status": "acknowledged", "status_version": a["status_version"]}),
                lambda: vigil.request("POST", url, token=t["Qatar"], json={
                    "status": "false_alarm", "status_version": a["status_version"]})])
    codes = sorted(r.status_code for r in got)
    assert codes == [200, 409], [r.text for r in got]
    won = next(r for r in got if r.status_code == 200).json()
    lost = next(r for r in got if r.status_code == 409).json()
    assert "changed since you read it" in lost["description"], lost
    now = vigil.get(f"/api/v1/alerts/{a['id']}").json()
    assert now["status"] == won["status"] and now["status_version"] != a["status_version"]
    [(history,)] = vigil.sql("SELECT history FROM alert_states")
    assert [s["to"] for s in json.loads(history)] == [won["status"]]
    # decided on the status as it is now, the change goes through where the lifecycle allows
    if won["status"] == "acknowledged":
        r = vigil.request("POST", url, token=t["Qatar"], json={
            "status": "resolved", "status_version": now["status_version"]})
        assert r.status_code == 200, r.text
    assert vigil.request("POST", url, json={"status": "resolved", "status_version": "x"}
                         ).status_code == 400


def test_corrected_and_deleted_reports_leave_the_alerts(world):
    """What an alert shows follows its reports as they are now: a correction that moves a
    report away, or restricts who may read it, and a deletion take it out of the alerts (and
    of what they derive) at once, as after a restart."""
    vigil, t = world
    cc = vigil.admin_token
    w = post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    moving = dict(MOVEMENT, marking="green", source_ref="acled:CORR-1")
    m = post(vigil, t["Qatar"], moving)
    first = wait_alerts(vigil, cc)
    assert len(first) == 1 and sorted(first[0]["evidence"]) == sorted([w, m])
    assert len(wait_alerts(vigil, t["Egypt"])) == 1
    # The source corrects the place of the movement, 150 km away: no corroboration is left.
    assert post(vigil, t["Qatar"], dict(moving, location={"lat": 30.2, "lon": 34.4,
                                                          "precision_m": 500})) == m
    assert wait_for(lambda: alerts(vigil, cc) == []), alerts(vigil, cc)
    assert vigil.get(f"/api/v1/alerts/{first[0]['id']}").status_code == 404
    # Corrected back: the same situation, the same alert.
    post(vigil, t["Qatar"], moving)
    assert wait_for(lambda: len(alerts(vigil, cc)) == 1)
    again = alerts(vigil, cc)[0]
    assert again["id"] == first[0]["id"] and sorted(again["evidence"]) == sorted([w, m])
    assert wait_for(lambda: len(alerts(vigil, t["Egypt"])) == 1)
    # Qatar now restricts it to itself (AMBER): Egypt may no longer read the movement, so the
    # alert it derived is gone for Egypt; the coordination center still reads both.
    post(vigil, t["Qatar"], dict(moving, marking="amber"))
    assert wait_for(lambda: alerts(vigil, t["Egypt"]) == []), alerts(vigil, t["Egypt"])
    assert len(alerts(vigil, cc)) == 1
    vigil.stop()
    vigil.start()
    assert len(wait_alerts(vigil, cc)) == 1
    assert alerts(vigil, t["Egypt"]) == []
    # Egypt deletes its warning: the alert goes for everyone.
    coll = vigil.collection("reports")
    d = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{w}/",
                      token=t["Egypt"])
    assert d.status_code == 200, d.text
    assert wait_for(lambda: alerts(vigil, cc) == []), alerts(vigil, cc)
    vigil.stop()
    vigil.start()
    time.sleep(1)
    assert alerts(vigil, cc) == []


def test_an_alert_whose_trigger_is_withdrawn_comes_back_with_its_lifecycle(world):
    """A correction that takes away what fired an alert retires it (404, as if it never was);
    corrected back, the situation fires again: the situation's alert id and STIX id again (as a
    restart would name it) and the status the analysts gave it."""
    vigil, t = world
    cc = vigil.admin_token
    warning = dict(WARNING, marking="green", source_ref="acled:CORR-2")
    post(vigil, t["Egypt"], warning)
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    first = wait_alerts(vigil, cc)[0]
    assert vigil.request("POST", f"/api/v1/alerts/{first['id']}/status",
                         json={"status": "acknowledged"}).status_code == 200
    coll = vigil.collection("alerts")
    stix = vigil.get(f"/taxii2/api/collections/{coll}/objects/").json()["objects"]
    post(vigil, t["Egypt"], dict(warning, location={"lat": 30.2, "lon": 34.4,
                                                    "precision_m": 500}))
    assert wait_for(lambda: alerts(vigil, cc) == []), alerts(vigil, cc)
    assert vigil.get(f"/api/v1/alerts/{first['id']}").status_code == 404
    post(vigil, t["Egypt"], warning)
    assert wait_for(lambda: len(alerts(vigil, cc)) == 1)
    again = alerts(vigil, cc)[0]
    assert again["id"] == first["id"] and again["status"] == "acknowledged"
    assert vigil.get(f"/api/v1/alerts/{first['id']}").json()["status"] == "acknowledged"
    assert [o["id"] for o in vigil.get(f"/taxii2/api/collections/{coll}/objects/"
                                       ).json()["objects"]] == [o["id"] for o in stix]


def test_bad_rules_are_refused_and_the_old_rules_stay(world):
    vigil, t = world
    rules = vigil.data / "rules.conf"
    good = rules.read_text()
    rules.write_text(good + "\n[rule broken]\nseverity = apocalyptic\n")
    r = vigil.request("POST", "/api/v1/rules/reload")
    assert r.status_code == 400 and "line" in r.json()["description"]
    os.kill(vigil.proc.pid, signal.SIGHUP)  # also refused, and the daemon lives on
    time.sleep(0.3)
    assert vigil.get("/healthz", auth=False).status_code == 200
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    assert len(wait_alerts(vigil, vigil.admin_token)) == 1  # the old rules still fire
    # A rules file without the planned-attack rule: new warnings no longer raise it.
    rules.write_text(good.replace("[rule planned-attack-corroborated]",
                                  "[rule planned-attack-corroborated-off]").replace(
        "match = event:ASSAULT future", "match = event:ASSAULT future zone:nowhere", 1))
    assert vigil.request("POST", "/api/v1/rules/reload").status_code == 200
    far = dict(WARNING, marking="green", location={"lat": 31.30, "lon": 34.25,
                                                    "precision_m": 500})
    post(vigil, t["Egypt"], far)
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green", location=far["location"]))
    time.sleep(1.5)
    assert len(alerts(vigil, vigil.admin_token)) == 1


def test_replay_back_tests_rules_without_touching_live_alerts(world, tmp_path):
    vigil, t = world
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    live = wait_alerts(vigil, vigil.admin_token)[0]
    vigil.request("POST", f"/api/v1/alerts/{live['id']}/status", json={"status": "acknowledged"})
    out = vigil.run("replay", "--as", "admin")
    replayed = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["rule"] for a in replayed] == ["planned-attack-corroborated"]
    assert replayed[0]["status"] == "new"  # a back-test, not the live lifecycle
    off = tmp_path / "off.rules"
    off.write_text("[rule only-drones]\nseverity = low\nmatch = event:ASSAULT mode:drone\n"
                   "require = second_source\n")
    out = vigil.run("replay", "--as", "admin", "--rules", str(off))
    assert out.stdout.strip() == ""
    bad = tmp_path / "bad.rules"
    bad.write_text("[rule x]\nseverity = huge\n")
    r = vigil.run("replay", "--as", "admin", "--rules", str(bad), check=False)
    assert r.returncode == 1 and "line" in r.stderr
    assert alerts(vigil, vigil.admin_token)[0]["status"] == "acknowledged"
