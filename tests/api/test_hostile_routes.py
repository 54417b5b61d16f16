"""Hostile partners against every route, re-audited (S3, S12; after issue #18): the attacks that
no other test file wrote, each asserting the safe outcome.
- an escalation alert is named by its first alarm day: another partner's RED reports that add
  an earlier alarm day must not rename the alert a reader sees (its id, bookmark, triage and
  TAXII grouping), nor answer differently for the renamed id;
- a report or violation the caller may not read is answered byte for byte like one that does
  not exist, on every route that names it (reads, opinions, evidence, the review), and the
  attempt changes nothing;
- another partner's webhook and token are answered like ones that do not exist, and stay; a
  partner's admin does not reload the hub's rules.
The table of routes and the tests that attack them is in the report of branch hostile3."""
import datetime
import json
import uuid

import pytest

from conftest import wait_for
from test_alert_rename import DAY0, assault, escalation, fired_day, post_all, wait_escalation
from test_compliance import RAFAH, load, post_report, report, violations
from test_stream import Receiver, subscribe


def same_answer(a, b):
    """Two answers a client cannot tell apart: status, media type and body."""
    assert (a.status_code, a.headers.get("Content-Type"), a.content) == \
        (b.status_code, b.headers.get("Content-Type"), b.content), (a.text, b.text)


# ---- alert ids: what a reader may not read renames nothing it sees ----------------------------

def test_hidden_reports_do_not_rename_the_escalation_alert_another_partner_sees(vigil):
    """Ana (observers) sees an escalation alert that first alarms on day 41. Hid (another
    partner) posts RED assaults that make day 40 alarm too: the engine renames the alert after
    day 40. For Ana nothing changed: the same id (her bookmark answers), the same alert, the
    same TAXII grouping, her triage and audit name her id; Hid's id is no alert for her."""
    v = vigil
    v.partner("observers")
    v.partner("hidden")
    ana = v.user("observers", "ana")
    boss = v.user("observers", "boss", role="admin")
    hid = v.user("hidden", "hid")
    post_all(v, ana, [assault(d, 0) for d in range(41)])
    post_all(v, ana, [assault(41, i) for i in range(14)] + [assault(42, 0)])
    first = wait_escalation(v, ana, lambda a: True)
    assert fired_day(first) == str(DAY0 + datetime.timedelta(days=41))

    post_all(v, hid, [dict(assault(40, i), marking="red") for i in range(1, 15)])
    day40 = str(DAY0 + datetime.timedelta(days=40))
    theirs = wait_escalation(v, hid, lambda a: fired_day(a) == day40)
    assert theirs["id"] != first["id"]  # the attack took: the engine renamed the alert

    assert escalation(v, ana) == first  # the id included: nothing Ana sees moved
    mark = v.get(f"/api/v1/alerts/{first['id']}", token=ana)
    assert mark.status_code == 200 and mark.json() == first
    same_answer(v.get(f"/api/v1/alerts/{theirs['id']}", token=ana),
                v.get(f"/api/v1/alerts/{uuid.uuid4()}", token=ana))
    same_answer(v.post(f"/api/v1/alerts/{theirs['id']}/triage", token=ana,
                       json={"comment": "probe"}),
                v.post(f"/api/v1/alerts/{uuid.uuid4()}/triage", token=ana,
                       json={"comment": "probe"}))
    # Hid, who sees day 40, is not answered under Ana's id either: one id per view.
    assert v.get(f"/api/v1/alerts/{first['id']}", token=hid).status_code == 404

    # Ana acts on the alert under her id; what she gets back, and her audit, name it.
    r = v.post(f"/api/v1/alerts/{first['id']}/status", token=ana, json={"status": "acknowledged"})
    assert r.status_code == 200 and r.json()["id"] == first["id"], r.text
    r = v.post(f"/api/v1/alerts/{first['id']}/triage", token=ana, json={"comment": "seen"})
    assert r.status_code == 200 and r.json()["id"] == first["id"], r.text
    audit = v.get("/api/v1/audit", token=boss, params={"order": "newest", "action": "alert"})
    assert audit.status_code == 200
    entries = audit.json()["entries"]
    assert len(entries) == 2 and all(e["object"] == e["detail"]["alert"] == first["id"]
                                     for e in entries), entries
    assert theirs["id"] not in audit.text and "d:" not in audit.text  # no situation key
    # The shared lifecycle reached Hid's view of the same alert (one situation).
    assert escalation(v, hid)["status"] == "acknowledged"

    coll = v.collection("alerts")
    objs = v.get(f"/taxii2/api/collections/{coll}/objects/", token=ana).json()["objects"]
    esc = [o for o in objs if o["type"] == "grouping" and
           any(x.get("rule") == "escalation" for x in o["extensions"].values())]
    assert [o["id"] for o in esc] == ["grouping--" + first["id"]], objs
    one = v.get(f"/taxii2/api/collections/{coll}/objects/grouping--{first['id']}/", token=ana)
    assert one.status_code == 200 and one.json()["objects"][0]["id"] == esc[0]["id"]
    assert v.get(f"/taxii2/api/collections/{coll}/objects/grouping--{theirs['id']}/",
                 token=ana).status_code == 404

    v.stop()  # a restart names it again from the same reports: the same id for each
    v.start()
    again = wait_escalation(v, ana, lambda a: a["status"] == "acknowledged")
    assert again["id"] == first["id"]
    assert wait_escalation(v, hid, lambda a: fired_day(a) == day40)["id"] == theirs["id"]


def test_another_partners_triage_reaches_no_stream_webhook_or_replay(vigil):
    """Egypt assigns an alert Qatar also sees, comments on it and acknowledges it. Qatar hears
    of the acknowledgement (the lifecycle is shared) on its stream, its webhook and a replay
    from the start, and of nothing else: not Egypt's users, assignee or comment."""
    from test_alerts import MOVEMENT, WARNING, post, wait_alerts
    from test_stream import Listener
    vigil.allow_private_webhooks()  # the receiver listens on loopback
    for p in ("Egypt", "Qatar"):
        vigil.partner(p)
    eg = vigil.user("Egypt", "egypt1")
    vigil.user("Egypt", "egypt2")
    qa = vigil.user("Qatar", "qatar1")
    post(vigil, eg, dict(WARNING, marking="green"))
    post(vigil, qa, dict(MOVEMENT, marking="green"))
    a = wait_alerts(vigil, qa)[0]
    rx = Receiver()
    try:
        subscribe(vigil, qa, rx.port)
        live = Listener(vigil, qa)
        r = vigil.post(f"/api/v1/alerts/{a['id']}/triage", token=eg,
                       json={"assignee": "egypt2", "comment": "Checking with the field team"})
        assert r.status_code == 200, r.text
        r = vigil.post(f"/api/v1/alerts/{a['id']}/status", token=eg,
                       json={"status": "acknowledged"})
        assert r.status_code == 200 and r.json()["triage"]["status_by"] == "egypt1"
        assert wait_for(lambda: any(b"acknowledged" in b for _, b in rx.got), timeout=20)
        heard = live.events(2)
        live.close()
        replay = Listener(vigil, qa, last_id=0)
        replayed = replay.events(2)
        replay.close()
        assert any(e[2].get("status") == "acknowledged" for e in heard), heard  # it works
        told = json.dumps([e[2] for e in heard + replayed]) + \
            b"".join(b for _, b in rx.got).decode()
        for secret in ("egypt1", "egypt2", "field team"):
            assert secret not in told, secret
    finally:
        rx.close()


# ---- hidden is answered like missing, and changes nothing ------------------------------------

@pytest.fixture
def hub(vigil):
    vigil.allow_private_webhooks()  # the receiver listens on loopback
    load(vigil)  # a GREEN agreement: every partner reads it
    vigil.partner("Egypt")
    vigil.partner("Qatar")
    vigil.eg = vigil.user("Egypt", "eg", role="analyst")
    vigil.qa = vigil.user("Qatar", "qa", role="analyst")
    vigil.qa_admin = vigil.user("Qatar", "qa-admin", role="admin")
    return vigil


def test_a_hidden_report_and_violation_are_answered_like_missing_ones(hub):
    """Egypt's RED report in Rafah is a violation only Egypt sees. Qatar (analyst, and its
    admin) names the report and the violation on every route that takes them: each answer is
    the one for an id that never existed, and nothing changes."""
    v = hub
    secret = post_report(v, report(RAFAH, "2025-03-01T10:00:00Z", marking="red",
                                   title="Secret strike"), token=v.eg)
    visible = post_report(v, report(RAFAH, "2025-03-02T10:00:00Z", title="Open strike"),
                          token=v.qa)
    mine = violations(v, token=v.eg)
    hidden = [x for x in mine if x["report"] == secret]
    assert len(hidden) == 1, mine
    vid = hidden[0]["id"]
    before = v.get(f"/api/v1/violations/{vid}", token=v.eg).json()
    open_v = [x for x in violations(v, token=v.qa) if x["report"] == visible]
    assert len(open_v) == 1
    assert vid not in json.dumps(violations(v, token=v.qa))

    fake_report = f"report--{uuid.uuid4()}"
    fake_vid = vid.rsplit("--", 1)[0] + f"--{uuid.uuid4()}"
    for who in (v.qa, v.qa_admin):
        same_answer(v.get(f"/api/v1/reports/{secret}", token=who),
                    v.get(f"/api/v1/reports/{fake_report}", token=who))
        for suffix in ("", "/opinions"):
            same_answer(v.get(f"/api/v1/violations/{vid}{suffix}", token=who),
                        v.get(f"/api/v1/violations/{fake_vid}{suffix}", token=who))
        for suffix, body in (("/opinions", {"opinion": "disagree", "explanation": "x"}),
                             ("/evidence", {"report": visible}),
                             ("/transition", {"to": "not_confirmed", "reason": "fake"})):
            a = v.post(f"/api/v1/violations/{vid}{suffix}", token=who, json=body)
            b = v.post(f"/api/v1/violations/{fake_vid}{suffix}", token=who, json=body)
            assert a.status_code == 404, (suffix, a.text)
            same_answer(a, b)
        # Egypt's hidden report offered as evidence for a violation Qatar does see: as if
        # no such report existed, and it is not added.
        ov = open_v[0]["id"]
        same_answer(v.post(f"/api/v1/violations/{ov}/evidence", token=who,
                           json={"report": secret}),
                    v.post(f"/api/v1/violations/{ov}/evidence", token=who,
                           json={"report": fake_report}))
    assert v.get(f"/api/v1/violations/{vid}", token=v.eg).json() == before
    # Nor is it counted or drawn in what is derived for Qatar: tallies and the daily report.
    day = {"from": "2025-03-01", "to": "2025-03-01"}
    assert v.get("/api/v1/tallies", token=v.eg, params=day).json()["totals"]["all"] == 1
    assert vid in v.get("/api/v1/compliance/daily", token=v.eg,
                        params={"date": "2025-03-01", "format": "json"}).text
    for who in (v.qa, v.qa_admin):
        assert v.get("/api/v1/tallies", token=who, params=day).json()["totals"]["all"] == 0
        for fmt in ("json", "csv", "html"):
            d = v.get("/api/v1/compliance/daily", token=who,
                      params={"date": "2025-03-01", "format": fmt})
            assert d.status_code == 200
            assert secret not in d.text and vid not in d.text and "Secret" not in d.text
    for who in (v.eg, v.qa, v.admin_token):
        ev = v.get(f"/api/v1/violations/{open_v[0]['id']}", token=who).json()["evidence"]
        assert secret not in json.dumps(ev), ev


# ---- another partner's webhooks and tokens ---------------------------------------------------

def test_another_partners_webhook_and_token_are_answered_like_missing_ones(hub):
    """Qatar's admin removes, by id, Egypt's webhook and Egypt's analyst's token: both answers
    are those for an id nobody has, the webhook still delivers and the token still works; nor
    can it reload the rules."""
    v = hub
    rx = Receiver()
    try:
        hook = subscribe(v, v.eg, rx.port)
        eg_tokens = [t for t in v.get("/api/v1/tokens").json()["tokens"] if t["user"] == "eg"]
        assert len(eg_tokens) == 1
        assert hook["url"] not in v.get("/api/v1/webhooks", token=v.qa_admin).text
        listed = v.get("/api/v1/tokens", token=v.qa_admin).json()["tokens"]
        assert {t["id"] for t in eg_tokens}.isdisjoint({t["id"] for t in listed})
        for who in (v.qa, v.qa_admin):
            same_answer(v.request("DELETE", f"/api/v1/webhooks/{hook['id']}", token=who),
                        v.request("DELETE", "/api/v1/webhooks/987654", token=who))
        same_answer(v.request("DELETE", f"/api/v1/tokens/{eg_tokens[0]['id']}",
                              token=v.qa_admin),
                    v.request("DELETE", "/api/v1/tokens/987654", token=v.qa_admin))
        assert v.get("/api/v1/me", token=v.eg).status_code == 200
        # Nor does a partner's admin rebuild the hub's alert engine (a reload is the hub's).
        r = v.post("/api/v1/rules/reload", token=v.qa_admin)
        assert r.status_code == 403 and "reloaded" not in r.text
        rid = post_report(v, report(RAFAH, "2025-03-03T10:00:00Z", title="After"), token=v.eg)
        assert wait_for(lambda: any(rid in b.decode() for _, b in rx.got), timeout=20)
    finally:
        rx.close()
