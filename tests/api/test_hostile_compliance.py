"""Hostile partners against every compliance read path (S3, S8; issue #18 items 2, 3 and 7).

Each test is an attack by a partner's reporter or analyst, asserting the safe outcome:
- evidence a reader cannot read is withheld from that reader, and never used to withhold the
  rest (violations, tallies, daily reports, opinions, the review);
- zone names, lines and terms of an agreement are data under its marking, and so is what is
  derived from them (alerts' areas, near-line firings, violations, maps);
- a violation follows the report it was found in: corrected, it shows the new version;
  deleted, an unreviewed candidate goes (or loses that evidence), while one the coordination
  center took up stays, flagged (tests/api/test_hostile_withdrawal.py has the attacks).
"""
import copy
import csv
import datetime
import io
import time

import pytest

from conftest import wait_for

from test_compliance import (AGREEMENT, KHAN_YUNIS, RAFAH, load, post_report, report,
                             transition, violations)
from test_stream import Listener, Receiver, subscribe

SECRET = "Secret Zone Kilo"
SECRET_AT = (31.75, 34.75)            # inside the secret zone
SQUARE = {"type": "Polygon", "coordinates": [[[34.70, 31.70], [34.80, 31.70], [34.80, 31.80],
                                              [34.70, 31.80], [34.70, 31.70]]]}
RED_LINE = {"type": "LineString", "coordinates": [[34.90, 31.90], [34.95, 31.95]]}
NEAR_RED_LINE = (31.9230, 34.9270)    # ~300 m from the red line
GREEN_LINE = {"type": "LineString", "coordinates": [[35.30, 32.30], [35.35, 32.35]]}
NEAR_GREEN_LINE = (32.3230, 35.3270)  # ~300 m from the green line, 60 km from the red one


def secret_agreement(**kw):
    """An agreement only the coordination center may read (RED, no group: its owner)."""
    a = {"name": "Secret annex (test)", "effective": "2025-01-01T00:00:00Z",
         "marking": "red", "parties": [{"name": "Party A", "aliases": ["A forces"]}],
         "zones": [{"name": SECRET, "kind": "no-fire-area", "geometry": SQUARE,
                    "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]},
                   {"name": "Secret line", "kind": "withdrawal-line", "geometry": RED_LINE,
                    "distance_m": 1000,
                    "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]}]}
    a.update(kw)
    return a


@pytest.fixture
def hub(vigil):
    vigil.allow_private_webhooks()  # the receiver listens on loopback
    vigil.partner("Egypt")
    vigil.partner("Qatar")
    vigil.eg = vigil.user("Egypt", "eg", role="reporter")
    vigil.qa = vigil.user("Qatar", "qa", role="reporter")
    vigil.qa_analyst = vigil.user("Qatar", "qa2", role="analyst")
    load(vigil)
    return vigil


def everything(vigil, token, day):
    """What token sees of the compliance record of one day, on every read path."""
    t = vigil.get("/api/v1/tallies", token=token, params={"from": day, "to": day})
    assert t.status_code == 200, t.text
    d = vigil.get("/api/v1/compliance/daily", token=token, params={"date": day, "format": "json"})
    c = vigil.get("/api/v1/compliance/daily", token=token, params={"date": day, "format": "csv"})
    h = vigil.get("/api/v1/compliance/daily", token=token, params={"date": day})
    assert d.status_code == c.status_code == h.status_code == 200
    until = (datetime.date.fromisoformat(day) + datetime.timedelta(days=1)).isoformat()
    vs = violations(vigil, token=token, since=day, until=until)
    return {v["id"]: v for v in vs}, t.json(), d.json(), c.text, h.text


def evidence_of(vigil, token, vid):
    r = vigil.get(f"/api/v1/violations/{vid}", token=token)
    assert r.status_code == 200, r.text
    return r.json()["evidence"]


# ---- item 2: restricted evidence hides nothing ---------------------------------------------

def test_attaching_a_red_report_as_evidence_hides_the_violation_from_no_one(hub):
    day = "2025-03-01"
    trigger = post_report(hub, report(RAFAH, day + "T08:00:00Z"))
    vid = violations(hub)[0]["id"]
    for token in (hub.eg, hub.qa):
        assert vid in everything(hub, token, day)[0]
    # Egypt's reporter attaches its own RED report (readable by nobody but Egypt).
    red = post_report(hub, report((31.0, 34.0), day + "T09:00:00Z", marking="red"), token=hub.eg)
    r = hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.eg, json={"report": red})
    assert r.status_code == 201, r.text
    assert r.json()["evidence"] == [trigger, red]          # Egypt may read both
    # Everyone who saw the violation still sees it, on every path, without the RED report.
    for token in (None, hub.qa):
        vs, t, d, c, h = everything(hub, token, day)
        assert list(vs) == [vid] and vs[vid]["evidence"] == [trigger]
        assert t["totals"]["all"] == 1 and t["cells"][0]["all"] == 1
        assert d["summary"]["all"] == 1 and [v["id"] for v in d["violations"]] == [vid]
        rows = list(csv.DictReader(io.StringIO(c)))
        assert [x["id"] for x in rows] == [vid] and rows[0]["evidence"] == trigger
        assert h.count('class="violation"') == 1
        for text in (str(vs), str(t), str(d), c, h):
            assert red not in text
        assert evidence_of(hub, token, vid) == [trigger]
        assert hub.get(f"/api/v1/violations/{vid}/opinions", token=token).status_code == 200
    # The review goes on; the answers carry only what each actor may read.
    r = transition(hub, vid, "under_review")
    assert r.status_code == 200 and r.json()["evidence"] == [trigger]
    r = hub.post(f"/api/v1/violations/{vid}/opinions", token=hub.qa, json={"opinion": "agree"})
    assert r.status_code == 201 and r.json()["evidence"] == [trigger]
    assert red not in r.text
    assert transition(hub, vid, "confirmed").status_code == 200
    vs, t, d, c, h = everything(hub, hub.qa, day)
    assert t["totals"] == {"all": 1, "confirmed": 1} and trigger in h and red not in h
    # A report the attacker cannot read is "no such report", exactly like one that never was.
    r = hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.qa, json={"report": red})
    ghost = hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.qa,
                     json={"report": "report--00000000-0000-4000-8000-000000000000"})
    assert r.status_code == ghost.status_code == 404 and r.json() == ghost.json()


def test_evidence_shared_with_some_is_listed_for_them_only(hub):
    trigger = post_report(hub, report(RAFAH, "2025-03-01T08:00:00Z"))
    vid = violations(hub)[0]["id"]
    # AMBER without a group: Egypt and the coordination center may read it, Qatar not.
    amber = post_report(hub, report((31.0, 34.0), "2025-03-01T09:00:00Z", marking="amber"),
                        token=hub.eg)
    assert hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.eg,
                    json={"report": amber}).status_code == 201
    assert evidence_of(hub, None, vid) == [trigger, amber]
    assert evidence_of(hub, hub.eg, vid) == [trigger, amber]
    assert evidence_of(hub, hub.qa, vid) == [trigger]
    # Qatar's analyst adds Qatar's own evidence: the answer shows Qatar what Qatar may read.
    mine = post_report(hub, report((31.0, 34.0), "2025-03-01T10:00:00Z", marking="amber"),
                       token=hub.qa_analyst)
    r = hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.qa_analyst,
                 json={"report": mine})
    assert r.status_code == 201 and r.json()["evidence"] == [trigger, mine]
    assert evidence_of(hub, None, vid) == [trigger, amber, mine]
    assert evidence_of(hub, hub.eg, vid) == [trigger, amber]


def test_a_zone_name_of_an_unreadable_agreement_does_not_change_a_filter(vigil):
    vigil.partner("Qatar")
    qa = vigil.user("Qatar", "qa", role="reporter")
    # The CC's RED annex names a zone "Rafah" too, and was loaded first.
    hidden = copy.deepcopy(AGREEMENT)
    hidden.update(name="Hidden annex (test)", marking="red")
    hidden["zones"] = [hidden["zones"][0]]
    load(vigil, hidden)
    load(vigil)
    post_report(vigil, report(RAFAH, "2025-03-01T08:00:00Z"))
    assert len(violations(vigil, zone="Rafah")) == 2               # one per agreement
    mine = violations(vigil, token=qa, zone="rafah")
    assert len(mine) == 1 and mine[0]["agreement"]["name"] == AGREEMENT["name"]
    assert violations(vigil, token=qa, zone="Hidden annex (test)") == []


# ---- item 3: what derives from an agreement follows its marking -----------------------------

def alerts(vigil, token):
    r = vigil.get("/api/v1/alerts", token=token)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def warning(at, **kw):
    w = {"event": "ASSAULT", "future": True, "targets": ["civilians"],
         "start": "2025-10-14T18:00:00Z", "end": "2025-10-14T22:00:00Z",
         "location": {"lat": at[0], "lon": at[1], "precision_m": 500},
         "reliability": "B", "credibility": 3, "marking": "green",
         "title": "Planned attack"}
    w.update(kw)
    return w


def taxii_text(vigil, token, collection):
    coll = vigil.collection(collection)
    r = vigil.get(f"/taxii2/api/collections/{coll}/objects/", token=token)
    assert r.status_code == 200, r.text
    return r.text


def test_a_red_agreement_zone_names_no_alert_area_for_others(hub):
    load(hub, secret_agreement())
    cc_live, eg_live = Listener(hub, hub.admin_token), Listener(hub, hub.eg)
    rx = Receiver()
    subscribe(hub, hub.qa_analyst, rx.port)               # a partner analyst's webhook
    time.sleep(0.3)
    # Two partners warn, in GREEN, of an attack inside the secret zone: an alert everyone sees.
    post_report(hub, warning(SECRET_AT), token=hub.eg)
    post_report(hub, warning(SECRET_AT), token=hub.qa)
    assert wait_for(lambda: len(alerts(hub, None)) == 1)
    cc_events = [e for e in cc_live.events(3) if e[1] == "alert"]
    eg_events = [e for e in eg_live.events(1) if e[1] == "alert"]
    cc_live.close()
    eg_live.close()
    assert cc_events and cc_events[-1][2].get("area") == SECRET          # the live stream too
    assert eg_events and all(SECRET not in str(e[2]) for e in eg_events)
    try:                                                  # and Qatar's webhook deliveries
        assert wait_for(lambda: any(b'"alert"' in body for _, body in rx.got))
        assert all(SECRET.encode() not in body for _, body in rx.got)
    finally:
        rx.close()
    cc = alerts(hub, None)[0]
    assert cc["area"] == SECRET                            # the CC reads the annex
    for token in (hub.eg, hub.qa):
        got = alerts(hub, token)
        assert len(got) == 1 and "area" not in got[0], got
        assert SECRET not in str(got)
        one = hub.get(f"/api/v1/alerts/{cc['id']}", token=token)
        assert one.status_code == 200 and SECRET not in one.text
        assert SECRET not in taxii_text(hub, token, "alerts")
        # Nor anywhere else: agreements, the compliance collection, violations, the daily map.
        assert SECRET not in hub.get("/api/v1/agreements", token=token).text
        assert SECRET not in taxii_text(hub, token, "compliance")
    assert SECRET in taxii_text(hub, None, "compliance")
    # The annex is re-marked GREEN: the area follows at once; RED again, and it goes again.
    load(hub, secret_agreement(marking="green"))
    assert wait_for(lambda: alerts(hub, hub.eg)[0].get("area") == SECRET), alerts(hub, hub.eg)
    load(hub, secret_agreement())
    assert wait_for(lambda: "area" not in alerts(hub, hub.eg)[0]), alerts(hub, hub.eg)
    assert alerts(hub, None)[0]["area"] == SECRET


def test_a_red_agreement_line_fires_no_near_line_alert_for_others(hub):
    green = {"name": "Public line (test)", "effective": "2025-01-01T00:00:00Z",
             "marking": "green", "parties": [{"name": "Party A", "aliases": ["A forces"]}],
             "zones": [{"name": "Public line", "kind": "withdrawal-line",
                        "geometry": GREEN_LINE, "distance_m": 1000,
                        "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]}]}
    load(hub, secret_agreement())
    load(hub, green)
    # Egypt reports movements near each line; the built-in buildup-near-line rule fires.
    for at in (NEAR_RED_LINE, NEAR_GREEN_LINE):
        for hour in range(4):
            post_report(hub, {"event": "MOBILIZE", "mode": "troops",
                              "start": f"2025-10-14T0{hour}:00:00Z",
                              "location": {"lat": at[0], "lon": at[1] + hour * 0.001,
                                           "precision_m": 100},
                              "reliability": "B", "credibility": 2, "marking": "green"},
                        token=hub.eg)
    assert wait_for(lambda: len(alerts(hub, None)) == 2), alerts(hub, None)
    both = {round(a["location"]["lat"], 1): a for a in alerts(hub, None)}
    assert {a["rule"] for a in both.values()} == {"buildup-near-line"}
    secret_id = both[round(NEAR_RED_LINE[0], 1)]["id"]
    public_id = both[round(NEAR_GREEN_LINE[0], 1)]["id"]
    for token in (hub.eg, hub.qa):
        # The green line's alert, yes; the red line's, not even its existence.
        assert [a["id"] for a in alerts(hub, token)] == [public_id]
        assert hub.get(f"/api/v1/alerts/{secret_id}", token=token).status_code == 404
        assert taxii_text(hub, token, "alerts").count('"grouping--') == 1


def test_violations_of_a_red_agreement_stay_with_its_readers(hub):
    load(hub, secret_agreement())
    day = "2025-03-02"
    # Egypt's own GREEN report is a violation of the secret annex: Egypt still sees nothing
    # of the annex (its zone, its party list, the violation, the counts, the map).
    post_report(hub, report(SECRET_AT, day + "T08:00:00Z"), token=hub.eg)
    cc = everything(hub, None, day)
    assert len(cc[0]) == 1 and SECRET in cc[4]
    for token in (hub.eg, hub.qa):
        vs, t, d, c, h = everything(hub, token, day)
        assert vs == {} and t["totals"]["all"] == 0 and d["summary"]["all"] == 0
        for text in (str(t), str(d), c, h):
            assert SECRET not in text
        vid = list(cc[0])[0]
        assert hub.get(f"/api/v1/violations/{vid}", token=token).status_code == 404


# ---- item 7: a violation follows its report --------------------------------------------------

def test_a_corrected_report_shows_its_new_version_in_the_violation(hub):
    src = "acled:HOSTILE-CORR-1"
    rid = post_report(hub, report(RAFAH, "2025-03-01T08:00:00Z", source_ref=src), token=hub.eg)
    vid = violations(hub)[0]["id"]
    assert transition(hub, vid, "under_review").status_code == 200
    # Egypt corrects the place: outside every zone. The CC keeps its review, with a note, but
    # the violation no longer shows the old place, anywhere.
    assert post_report(hub, report((31.0, 34.0), "2025-03-04T08:00:00Z", source_ref=src),
                       token=hub.eg) == rid
    v = hub.get(f"/api/v1/violations/{vid}").json()
    assert v["status"] == "under_review" and v["history"][-1].get("note") is True
    assert v["location"] == {"lat": 31.0, "lon": 34.0}
    assert v["time"].startswith("2025-03-04T08:00")
    old = everything(hub, None, "2025-03-01")
    assert old[0] == {} and old[1]["totals"]["all"] == 0 and old[2]["summary"]["all"] == 0
    new = everything(hub, None, "2025-03-04")
    assert list(new[0]) == [vid] and new[2]["summary"]["all"] == 1
    # Egypt restricts the report to itself: the report is withdrawn from everyone else, but
    # the violation under review stays as it was shared, flagged, without the RED report.
    post_report(hub, report((31.0, 34.0), "2025-03-04T08:00:00Z", source_ref=src,
                            marking="red"), token=hub.eg)
    for token in (None, hub.qa):
        vs, t, d, c, h = everything(hub, token, "2025-03-04")
        assert list(vs) == [vid] and t["totals"]["all"] == 1 and d["summary"]["all"] == 1
        assert vs[vid]["evidence"] == [] and vs[vid]["needs_review"] is True


def delete_report(vigil, token, rid):
    coll = vigil.collection("reports")
    r = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{rid}/", token=token)
    assert r.status_code == 200, r.text


def test_a_deleted_report_takes_its_unreviewed_candidate_and_leaves_the_reviewed_one(hub):
    day = "2025-03-01"
    rid = post_report(hub, report(RAFAH, day + "T08:00:00Z"), token=hub.eg)
    gone = post_report(hub, report(RAFAH, day + "T10:00:00Z"), token=hub.eg)
    keep = post_report(hub, report(KHAN_YUNIS, day + "T09:00:00Z", mode="drone"))
    vid = [v["id"] for v in violations(hub) if v["report"] == rid][0]
    gid = [v["id"] for v in violations(hub) if v["report"] == gone][0]
    assert transition(hub, vid, "under_review").status_code == 200
    assert hub.post(f"/api/v1/violations/{vid}/opinions", token=hub.qa,
                    json={"opinion": "agree"}).status_code == 201
    delete_report(hub, hub.eg, rid)
    delete_report(hub, hub.eg, gone)
    for token in (None, hub.eg, hub.qa):
        vs, t, d, c, h = everything(hub, token, day)
        assert sorted(v["report"] for v in vs.values()) == sorted([rid, keep])
        assert vs[vid]["evidence"] == [] and vs[vid]["needs_review"] is True
        assert t["totals"]["all"] == 2 and d["summary"]["all"] == 2
        assert gone not in c and gid not in h
        assert hub.get(f"/api/v1/violations/{gid}", token=token).status_code == 404
        assert len(hub.get(f"/api/v1/violations/{vid}", token=token).json()["opinions"]) == 1
    assert transition(hub, gid, "under_review").status_code == 404
    assert transition(hub, vid, "confirmed").status_code == 200


def test_a_deleted_report_leaves_the_evidence_it_was_added_to(hub):
    trigger = post_report(hub, report(RAFAH, "2025-03-01T08:00:00Z"))
    vid = violations(hub)[0]["id"]
    extra = post_report(hub, report((31.0, 34.0), "2025-03-01T09:00:00Z"), token=hub.eg)
    assert hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.eg,
                    json={"report": extra}).status_code == 201
    assert evidence_of(hub, hub.qa, vid) == [trigger, extra]
    delete_report(hub, hub.eg, extra)
    for token in (None, hub.eg, hub.qa):
        assert evidence_of(hub, token, vid) == [trigger]
    c = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-01", "format": "csv"}).text
    assert extra not in c and trigger in c


# ---- the live stream: violation status changes (SPEC S5) ------------------------------------

def test_one_partner_cannot_bury_a_violation_under_its_opinions(hub):
    """Every reader of a violation gets its opinions with it (GET /api/v1/violations/{id}, and
    the stream's event of each of its steps), each up to 16 KB: a reporter adding opinions
    without end made the violation heavier for every reader, with every step. One partner
    gives at most 20 opinions on one violation; the next is refused and stores nothing, and
    another partner's opinions are its own."""
    post_report(hub, report(RAFAH, "2025-02-10T10:00:00Z"))
    vid = violations(hub)[0]["id"]
    url = f"/api/v1/violations/{vid}/opinions"
    heavy = {"opinion": "disagree", "explanation": "x" * 16384}
    codes = [hub.post(url, token=hub.eg, json=heavy).status_code for _ in range(20)]
    assert codes == [201] * 20
    r = hub.post(url, token=hub.eg, json=heavy)
    assert r.status_code == 400, r.status_code  # (the body of a 201 is the heavy violation)
    assert "opinions" in r.json()["description"]
    got = hub.get(f"/api/v1/violations/{vid}", token=hub.qa).json()["opinions"]
    assert len(got) == 20
    assert hub.post(url, token=hub.qa, json={"opinion": "agree"}).status_code == 201


def test_one_partner_cannot_bury_a_violation_under_its_evidence(hub):
    """The same with evidence: every reader gets the evidence of a violation it may read, and
    a reporter could attach any number of its own GREEN reports. One partner adds at most 100
    reports to one violation; the next is refused and stores nothing."""
    post_report(hub, report(RAFAH, "2025-02-10T10:00:00Z"))
    vid = violations(hub)[0]["id"]
    url = f"/api/v1/violations/{vid}/evidence"
    mine = [post_report(hub, report((31.0, 34.0), f"2025-02-10T11:{i // 60:02d}:{i % 60:02d}Z"),
                        token=hub.eg) for i in range(101)]
    codes = [hub.post(url, token=hub.eg, json={"report": r}).status_code for r in mine[:100]]
    assert codes == [201] * 100
    r = hub.post(url, token=hub.eg, json={"report": mine[100]})
    assert r.status_code == 400 and "evidence" in r.json()["description"], r.status_code
    assert len(evidence_of(hub, hub.qa, vid)) == 101  # the violation's report and the 100
    theirs = post_report(hub, report((31.0, 34.0), "2025-02-10T12:00:00Z"), token=hub.qa)
    assert hub.post(url, token=hub.qa, json={"report": theirs}).status_code == 201


def test_the_stream_tells_each_reader_of_the_violations_it_may_see_only(hub):
    """A violation found, and each change of its status, is an event of the live stream, sent
    as the reader's view of it (as GET /api/v1/violations/{id} gives it): Qatar hears of the
    violation in Egypt's GREEN report and of its review, and of the one in Egypt's RED report
    nothing at all, not even its id."""
    ears = {"eg": Listener(hub, hub.eg), "qa": Listener(hub, hub.qa)}
    try:
        post_report(hub, report(RAFAH, "2025-03-05T08:00:00Z"), token=hub.eg)
        post_report(hub, report(KHAN_YUNIS, "2025-03-05T09:00:00Z", marking="red"),
                    token=hub.eg)
        seen = {v["id"] for v in violations(hub, token=hub.eg)}
        green = [v["id"] for v in violations(hub, token=hub.qa)]
        assert len(seen) == 2 and len(green) == 1
        red = (seen - set(green)).pop()
        assert transition(hub, green[0], "under_review").status_code == 200
        evs = {who: [e for e in ear.events(3) if e[1] == "violation"]
               for who, ear in ears.items()}
        told = {who: [(e[2]["id"], e[2]["status"]) for e in v] for who, v in evs.items()}
        assert told["qa"] == [(green[0], "reported"), (green[0], "under_review")]
        assert sorted(told["eg"]) == sorted([(green[0], "reported"), (red, "reported"),
                                             (green[0], "under_review")])
        assert red not in str(evs["qa"])
        # each is the reader's own view, as GET gives it
        last = evs["qa"][-1][2]
        assert last == hub.get(f"/api/v1/violations/{green[0]}", token=hub.qa).json()
    finally:
        for ear in ears.values():
            ear.close()
