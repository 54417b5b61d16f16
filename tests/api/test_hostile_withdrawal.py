"""A reporter withdraws the evidence behind a violation the coordination center verified (S8).

Each test is the attack, asserting the safe outcome (docs/COMPLIANCE.md, "When the evidence
is withdrawn"):
- a violation the coordination center has taken up (any status but `reported`) is the
  mission's record: it survives its report's deletion (TAXII DELETE) and its re-marking to a
  stricter marking, for everyone who saw it, with its status, history and opinions, a history
  step saying who withdrew the evidence and when, and a flag for re-review;
- the withdrawn report is served to no one who could not read it anyway: it leaves the
  evidence list, and a restricted version's content never reaches the violation;
- an unreviewed candidate whose only evidence is withdrawn goes; one with other evidence stays,
  flagged;
- the tallies count a kept violation as before (it is still confirmed).
"""
import pytest

from stix_samples import envelope

from test_compliance import KHAN_YUNIS, RAFAH, load, post_report, report, transition, violations

DAY = "2025-03-01"


@pytest.fixture
def hub(vigil):
    vigil.partner("Egypt")
    vigil.partner("Qatar")
    vigil.eg = vigil.user("Egypt", "eg", role="reporter")
    vigil.qa = vigil.user("Qatar", "qa", role="reporter")
    load(vigil)
    return vigil


def delete_report(vigil, token, rid, **params):
    coll = vigil.collection("reports")
    r = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{rid}/", token=token,
                      params=params)
    assert r.status_code == 200, r.text


def get(vigil, vid, token=None):
    r = vigil.get(f"/api/v1/violations/{vid}", token=token)
    assert r.status_code == 200, r.text
    return r.json()


def confirmed_violation(hub, body):
    """Egypt's report, verified by the coordination center, with Qatar's opinion."""
    rid = post_report(hub, body, token=hub.eg)
    vid = [v["id"] for v in violations(hub) if v["report"] == rid][0]
    assert transition(hub, vid, "under_review", reason="checking the crater").status_code == 200
    assert hub.post(f"/api/v1/violations/{vid}/opinions", token=hub.qa,
                    json={"opinion": "agree"}).status_code == 201
    assert transition(hub, vid, "confirmed", reason="seen by the patrol").status_code == 200
    return rid, vid


def tallies(vigil, token=None, day=DAY):
    r = vigil.get("/api/v1/tallies", token=token, params={"from": day, "to": day})
    assert r.status_code == 200, r.text
    return r.json()


def daily(vigil, token=None, day=DAY):
    r = vigil.get("/api/v1/compliance/daily", token=token, params={"date": day, "format": "json"})
    assert r.status_code == 200, r.text
    return r.json()


def assert_kept(hub, vid, rid, how, by):
    """The violation is there for the coordination center and for Qatar, as verified."""
    for token in (None, hub.qa):
        v = get(hub, vid, token)
        assert v["status"] == "confirmed"
        assert v["needs_review"] is True and v["withdrawn"]
        assert rid not in v["evidence"]
        steps = [s["to"] for s in v["history"]]
        assert steps[:3] == ["reported", "under_review", "confirmed"]
        last = v["history"][-1]
        assert last["note"] is True and last["by"] == by and how in last["reason"]
        assert last["at"] == v["withdrawn"]
        assert [o["opinion"] for o in v["opinions"]] == ["agree"]
        assert [x["id"] for x in violations(hub, token=token, status="confirmed")] == [vid]
        t = tallies(hub, token)
        assert t["totals"] == {"all": 1, "confirmed": 1}
        d = daily(hub, token)
        assert [x["id"] for x in d["confirmed"]] == [vid]


def test_a_reporter_deleting_the_report_over_taxii_does_not_delete_the_confirmed_violation(hub):
    rid, vid = confirmed_violation(hub, report(RAFAH, DAY + "T08:00:00Z"))
    before = get(hub, vid)
    delete_report(hub, hub.eg, rid)
    assert hub.get(f"/api/v1/reports/{rid}").status_code == 404
    assert_kept(hub, vid, rid, "deleted", "eg")
    after = get(hub, vid)
    assert after["evidence"] == [] and after["report"] == rid
    for k in ("time", "location", "party", "zone", "event", "mode", "marking"):
        assert after[k] == before[k], k
    # The flag is for the reviewer, who lists what is flagged ...
    assert [x["id"] for x in violations(hub, needs_review="true")] == [vid]
    assert hub.get("/api/v1/violations", params={"needs_review": "no"}).status_code == 400
    # ... and may take a final state back to review, once: the re-review clears the flag.
    r = transition(hub, vid, "under_review", reason="evidence withdrawn: re-examine")
    assert r.status_code == 200, r.text
    assert r.json()["needs_review"] is False
    assert transition(hub, vid, "confirmed", reason="the patrol's photographs").status_code == 200
    assert transition(hub, vid, "under_review").status_code == 409
    assert violations(hub, needs_review="true") == []
    # The audit log keeps the delete.
    audit = hub.get("/api/v1/audit", params={"object": rid})
    assert audit.status_code == 200 and "delete" in audit.text


def test_a_reporter_re_marking_the_report_red_does_not_hide_the_confirmed_violation(hub):
    src = "acled:WITHDRAW-RED-1"
    rid, vid = confirmed_violation(hub, report(RAFAH, DAY + "T08:00:00Z", source_ref=src))
    before = get(hub, vid)
    # A correction to RED, which also moves the event elsewhere: the RED content must not
    # reach the violation (its readers cannot read it), and the violation must not go.
    moved = report(KHAN_YUNIS, "2025-03-02T10:00:00Z", source_ref=src, marking="red")
    assert post_report(hub, moved, token=hub.eg) == rid
    assert_kept(hub, vid, rid, "restricted", "eg")
    after = get(hub, vid)
    for k in ("time", "location", "zone", "marking"):
        assert after[k] == before[k], k
    assert "2025-03-02" not in str(after) and str(KHAN_YUNIS[0]) not in str(after)
    assert tallies(hub, day="2025-03-02")["totals"]["all"] == 0
    # Egypt may still read its own RED report: to Egypt it is listed, to no one else.
    assert get(hub, vid, hub.eg)["evidence"] == [rid]
    # A later correction back to GREEN does not rewrite the verified record either.
    post_report(hub, report(KHAN_YUNIS, "2025-03-02T10:00:00Z", source_ref=src), token=hub.eg)
    assert get(hub, vid)["location"] == before["location"]
    # And deleting it now keeps the violation as well.
    delete_report(hub, hub.eg, rid)
    assert get(hub, vid)["status"] == "confirmed"
    assert get(hub, vid, hub.eg)["evidence"] == []


def test_deleting_the_newest_version_to_reveal_a_red_one_is_a_withdrawal(hub):
    """TAXII DELETE of the newest version only: the report index falls back to the older
    version. An older version that was stricter restricts the report like a correction."""
    src = "acled:WITHDRAW-VERS-1"
    rid = post_report(hub, report(RAFAH, DAY + "T07:00:00Z", source_ref=src, marking="red"),
                      token=hub.eg)
    assert post_report(hub, report(RAFAH, DAY + "T08:00:00Z", source_ref=src),
                       token=hub.eg) == rid
    vid = violations(hub)[0]["id"]
    for to in ("under_review", "confirmed"):
        assert transition(hub, vid, to).status_code == 200
    coll = hub.collection("reports")
    vs = hub.get(f"/taxii2/api/collections/{coll}/objects/{rid}/versions/", token=hub.eg)
    assert vs.status_code == 200, vs.text
    newest = sorted(vs.json()["versions"])[-1]
    delete_report(hub, hub.eg, rid, **{"match[version]": newest})
    v = get(hub, vid)
    assert v["status"] == "confirmed" and v["needs_review"] is True
    assert v["time"].startswith(DAY + "T08:00") and v["evidence"] == []
    assert v["history"][-1]["by"] == "eg" and "restricted" in v["history"][-1]["reason"]


def test_an_unreviewed_candidate_goes_with_its_only_evidence(hub):
    rid = post_report(hub, report(RAFAH, DAY + "T08:00:00Z"), token=hub.eg)
    vid = violations(hub)[0]["id"]
    delete_report(hub, hub.eg, rid)
    assert hub.get(f"/api/v1/violations/{vid}").status_code == 404
    assert tallies(hub)["totals"]["all"] == 0


def test_an_unreviewed_candidate_with_other_evidence_stays_flagged(hub):
    rid = post_report(hub, report(RAFAH, DAY + "T08:00:00Z"), token=hub.eg)
    vid = violations(hub)[0]["id"]
    other = post_report(hub, report((31.0, 34.0), DAY + "T09:00:00Z"), token=hub.qa)
    assert hub.post(f"/api/v1/violations/{vid}/evidence", token=hub.qa,
                    json={"report": other}).status_code == 201
    delete_report(hub, hub.eg, rid)
    for token in (None, hub.qa, hub.eg):
        v = get(hub, vid, token)
        assert v["status"] == "reported" and v["needs_review"] is True
        assert v["evidence"] == [other]
        assert v["history"][-1]["by"] == "eg"
    assert tallies(hub)["totals"] == {"all": 1, "confirmed": 0}


def test_an_amber_report_withdrawn_stays_with_the_audience_it_had(hub):
    """A kept violation keeps the handling its report had: Qatar never could read Egypt's
    AMBER report, so it does not see the kept violation either."""
    rid, vid = None, None
    rid = post_report(hub, report(RAFAH, DAY + "T08:00:00Z", marking="amber"), token=hub.eg)
    vid = violations(hub)[0]["id"]
    for to in ("under_review", "confirmed"):
        assert transition(hub, vid, to).status_code == 200
    assert hub.get(f"/api/v1/violations/{vid}", token=hub.qa).status_code == 404
    delete_report(hub, hub.eg, rid)
    v = get(hub, vid)
    assert v["status"] == "confirmed" and v["marking"] == "amber"
    assert hub.get(f"/api/v1/violations/{vid}", token=hub.qa).status_code == 404
    assert tallies(hub, hub.qa)["totals"]["all"] == 0
    assert tallies(hub)["totals"]["confirmed"] == 1


def test_the_rest_api_has_no_report_delete_that_bypasses_this(hub):
    rid, vid = confirmed_violation(hub, report(RAFAH, DAY + "T08:00:00Z"))
    r = hub.request("DELETE", f"/api/v1/reports/{rid}", token=hub.eg)
    assert r.status_code in (404, 405)
    assert hub.get(f"/api/v1/reports/{rid}").status_code == 200
    assert get(hub, vid)["status"] == "confirmed"


def test_a_new_version_that_is_no_event_report_does_not_hide_the_confirmed_violation(hub):
    """A version without the Vigil report extension takes the report out of the index: the
    report is withdrawn as by a deletion."""
    rid, vid = confirmed_violation(hub, report(RAFAH, DAY + "T08:00:00Z"))
    coll = hub.collection("reports")
    r = hub.get(f"/taxii2/api/collections/{coll}/objects/{rid}/", token=hub.eg)
    assert r.status_code == 200, r.text
    obj = r.json()["objects"][0]
    plain = {k: v for k, v in obj.items() if k != "extensions"}
    plain.update(modified="2099-01-01T00:00:00.000Z", name="nothing to see")
    r = hub.post(f"/taxii2/api/collections/{coll}/objects/", token=hub.eg,
                 json=envelope(plain))
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
    assert hub.get(f"/api/v1/reports/{rid}").status_code == 404
    assert_kept(hub, vid, rid, "no longer a report", "eg")


def test_revoking_the_report_is_a_withdrawal_that_does_not_hide_the_confirmed_violation(hub):
    """STIX `revoked: true` is the creator saying the object is no longer valid: the report
    leaves the index, the live picture and its alerts, as by a deletion; the confirmed
    violation stays, flagged for review. (Before, the revoked version was indexed as the
    report's newest content, and the report went on counting.)"""
    rid, vid = confirmed_violation(hub, report(RAFAH, DAY + "T08:00:00Z"))
    coll = hub.collection("reports")
    r = hub.get(f"/taxii2/api/collections/{coll}/objects/{rid}/", token=hub.eg)
    assert r.status_code == 200, r.text
    obj = dict(r.json()["objects"][0], modified="2099-01-01T00:00:00.000Z", revoked=True)
    r = hub.post(f"/taxii2/api/collections/{coll}/objects/", token=hub.eg, json=envelope(obj))
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
    assert hub.get(f"/api/v1/reports/{rid}").status_code == 404
    assert rid not in hub.get("/api/v1/reports").text
    assert_kept(hub, vid, rid, "no longer a report", "eg")
    # TAXII keeps the revoked version, so that every consumer learns of the revocation
    r = hub.get(f"/taxii2/api/collections/{coll}/objects/{rid}/", token=hub.qa)
    assert r.status_code == 200 and r.json()["objects"][0]["revoked"] is True, r.text
