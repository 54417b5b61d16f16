"""The triage of an alert (issue #23, item 3): who acknowledged it and when, an assignee and
comments, and "why it fired" in words. The triage is a partner's own (docs/ACCESS.md): the
attacks below are another partner trying to read or write it."""
import pytest

from test_alerts import MOVEMENT, WARNING, alerts, post, wait_alerts, wait_for


@pytest.fixture
def world(vigil):
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1", role="analyst") for p in ("Egypt", "Qatar",
                                                                       "Observer")}
    vigil.user("Egypt", "egypt2", role="analyst")
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    a = wait_alerts(vigil, t["Observer"])[0]
    return vigil, t, a


def triage(vigil, token, alert, **body):
    return vigil.request("POST", f"/api/v1/alerts/{alert['id']}/triage", token=token, json=body)


def test_acknowledgement_records_who_and_when_for_their_partner_only(world):
    vigil, t, a = world
    r = vigil.request("POST", f"/api/v1/alerts/{a['id']}/status", token=t["Egypt"],
                      json={"status": "acknowledged"})
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["status"] == "acknowledged"
    assert mine["triage"]["status_by"] == "egypt1"
    assert mine["triage"]["status_at"] and mine["status_at"]
    # Qatar sees the status (the lifecycle is shared) but not which of Egypt's users moved it.
    theirs = alerts(vigil, t["Qatar"])[0]
    assert theirs["status"] == "acknowledged" and theirs["status_at"] == mine["status_at"]
    assert "status_by" not in theirs["triage"]
    assert "egypt1" not in str(theirs)


def test_another_partners_assignee_and_comments_do_not_leak(world):
    """Egypt assigns the alert and comments on it; Qatar and Observer, who see the same alert,
    see none of it on the list, the alert, or the stream's answer to their own triage."""
    vigil, t, a = world
    r = triage(vigil, t["Egypt"], a, assignee="egypt2", comment="Checking with the field team")
    assert r.status_code == 200, r.text
    assert r.json()["triage"]["assignee"] == "egypt2"
    assert [c["text"] for c in r.json()["triage"]["comments"]] == ["Checking with the field team"]
    assert r.json()["triage"]["comments"][0]["by"] == "egypt1"
    for who in ("Qatar", "Observer"):
        seen = alerts(vigil, t[who])[0]
        one = vigil.get(f"/api/v1/alerts/{a['id']}", token=t[who]).json()
        for v in (seen, one):
            assert v["triage"] == {"assignee": "", "comments": []}, v
            assert "field team" not in str(v) and "egypt2" not in str(v)
    # Qatar's own triage is Qatar's, and does not overwrite or show Egypt's.
    q = triage(vigil, t["Qatar"], a, comment="Our sources say otherwise")
    assert q.status_code == 200
    assert [c["text"] for c in q.json()["triage"]["comments"]] == ["Our sources say otherwise"]
    e = alerts(vigil, t["Egypt"])[0]["triage"]
    assert e["assignee"] == "egypt2"
    assert [c["text"] for c in e["comments"]] == ["Checking with the field team"]


def test_triage_refuses_another_partners_user_and_bad_input(world):
    vigil, t, a = world
    # Qatar cannot assign one of Egypt's users (nor learn whether the name exists)
    r = triage(vigil, t["Qatar"], a, assignee="egypt2")
    assert r.status_code == 400
    assert triage(vigil, t["Qatar"], a, assignee="nobody-at-all").status_code == 400
    assert triage(vigil, t["Egypt"], a).status_code == 400
    assert triage(vigil, t["Egypt"], a, comment="").status_code == 400
    assert triage(vigil, t["Egypt"], a, comment="x" * 2001).status_code == 400
    assert triage(vigil, t["Egypt"], a, comment=7).status_code == 400
    assert triage(vigil, t["Egypt"], a, colour="red").status_code == 400
    reader = vigil.user("Egypt", "e-reader", role="reader")
    assert triage(vigil, reader, a, comment="hi").status_code == 403
    r = vigil.request("POST", "/api/v1/alerts/99999/triage", token=t["Egypt"],
                      json={"comment": "hi"})
    assert r.status_code == 404
    assert alerts(vigil, t["Egypt"])[0]["triage"] == {"assignee": "", "comments": []}


def test_an_alert_a_partner_cannot_see_cannot_be_triaged_by_it(vigil):
    """Observer sees no alert (the evidence is Egypt's and Qatar's AMBER): triaging it is a
    404, the same as for an alert that does not exist."""
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar", "Observer")}
    post(vigil, t["Egypt"], dict(WARNING, marking="amber"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="amber"))
    a = wait_alerts(vigil, vigil.admin_token)[0]
    assert alerts(vigil, t["Observer"]) == []
    r = triage(vigil, t["Observer"], a, comment="probe")
    assert r.status_code == 404


def test_why_it_fired_and_the_marking_of_its_evidence(world):
    vigil, t, a = world
    why = a["why"]
    assert why["text"].startswith("Fires on a warning (future) of ASSAULT")
    assert "MOBILIZE" in why["text"] and "5 km" in why["text"]
    assert why["figures"]["evidence"] == 2 and why["figures"]["partners"] == 2
    assert why["figures"]["warnings"] == 1
    assert a["marking"] == "green"
    assert a["fired_at"]


def test_triage_survives_a_restart(world):
    vigil, t, a = world
    assert triage(vigil, t["Egypt"], a, assignee="egypt1", comment="mine").status_code == 200
    vigil.stop()
    vigil.start()
    assert wait_for(lambda: alerts(vigil, t["Egypt"]))
    tr = alerts(vigil, t["Egypt"])[0]["triage"]
    assert tr["assignee"] == "egypt1" and tr["comments"][0]["text"] == "mine"
