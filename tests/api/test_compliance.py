"""Ceasefire compliance (S8): agreements with zones over the Gaza governorates, candidate
violations found as reports arrive (late and corrected ones too), the verification workflow,
opinions and evidence, tallies checked against hand-computed fixtures, the daily report, and
the rule that derived products never leak evidence a reader may not read (S3)."""
import copy
import csv
import io
import json

import pytest

from conftest import ROOT

GOV = {f["properties"]["shapeName"]: f for f in
       json.loads((ROOT / "data/geo/gaza_governorates.geojson").read_text())["features"]}

# Points checked against the governorate polygons (geo_contains in test_compliance.c).
RAFAH = (31.2900, 34.2500)        # inside Rafah
KHAN_YUNIS = (31.3450, 34.3060)   # inside Khan Yunis
NORTH_GAZA = (31.5400, 34.5000)   # inside North Gaza
# The withdrawal line, and points near it and far from it.
LINE = {"type": "LineString", "coordinates": [[34.40, 31.40], [34.45, 31.45]]}
NEAR_LINE = (31.4230, 34.4270)    # ~300 m from the line
FAR_LINE = (31.4400, 34.4000)     # ~2.5 km from it

AGREEMENT = {
    "name": "Synthetic Gaza ceasefire (test)",
    "description": "A synthetic agreement for tests; not a real text.",
    "effective": "2025-01-19T06:30:00Z",
    "marking": "green",
    "parties": [{"name": "Party A", "aliases": ["A forces", "Alpha Brigade"]},
                {"name": "Party B", "aliases": ["B militia"]}],
    "phases": [{"name": "Phase 1", "start": "2025-01-19T06:30:00Z",
                "deadline": "2025-02-01T00:00:00Z"}],
    "zones": [
        {"name": "Rafah", "kind": "no-fire-area", "geometry": GOV["Rafah"],
         "terms": [{"party": "*", "prohibited": ["ASSAULT", "COERCE"]}]},
        {"name": "Khan Yunis corridor", "kind": "humanitarian-corridor",
         "geometry": GOV["Khan Yunis"]["geometry"],
         "terms": [{"party": "Party A", "prohibited": ["ASSAULT"],
                    "permitted": [{"event": "ASSAULT", "modes": ["firearms"]}]}]},
        {"name": "North Gaza", "kind": "buffer-zone", "geometry": GOV["North Gaza"],
         "terms": [{"party": "Party B", "prohibited": ["ASSAULT"]}]},
        {"name": "Withdrawal line", "kind": "withdrawal-line", "geometry": LINE,
         "distance_m": 1000,
         "terms": [{"party": "Party A", "prohibited": [{"event": "MOBILIZE",
                                                        "modes": ["troops"]}],
                    "phase": "Phase 1", "when": "after-deadline"}]},
    ],
}


def report(at, when, actor="A forces", event="ASSAULT", mode="aerial", **kw):
    r = {"event": event, "start": when, "location": {"lat": at[0], "lon": at[1]},
         "actors": [actor], "reliability": "B", "credibility": 2, "marking": "green"}
    if mode:
        r["mode"] = mode
    r.update(kw)
    return r


def post_report(vigil, body, token=None):
    r = vigil.post("/api/v1/reports", token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def load(vigil, agreement=AGREEMENT, token=None):
    r = vigil.post("/api/v1/agreements", token=token, json=agreement)
    assert r.status_code == 201, r.text
    return r.json()


def violations(vigil, token=None, **params):
    r = vigil.get("/api/v1/violations", token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json()["violations"]


def transition(vigil, vid, to, reason="checked", token=None):
    return vigil.post(f"/api/v1/violations/{vid}/transition", token=token,
                      json={"to": to, "reason": reason})


@pytest.fixture
def hub(vigil):
    load(vigil)
    return vigil


# ---- agreements ---------------------------------------------------------------------------

def test_an_agreement_loads_and_is_published_over_taxii(vigil):
    got = load(vigil)
    assert got["id"].startswith("grouping--") and got["name"] == AGREEMENT["name"]
    assert [z["kind"] for z in got["zones"]] == ["no-fire-area", "humanitarian-corridor",
                                                 "buffer-zone", "withdrawal-line"]
    listed = vigil.get("/api/v1/agreements").json()["agreements"]
    assert [a["id"] for a in listed] == [got["id"]]
    coll = vigil.collection("compliance")
    objs = vigil.get(f"/taxii2/api/collections/{coll}/objects/").json()["objects"]
    grouping = [o for o in objs if o["id"] == got["id"]][0]
    assert grouping["type"] == "grouping"
    zones = [o for o in objs if o["type"] == "location"]
    assert len(zones) == 4
    ext = [v for k, v in zones[0]["extensions"].items()][0]
    assert ext["geometry"]["type"] == "Polygon" and ext["zone_kind"] == "no-fire-area"
    assert {z["id"] for z in zones} <= set(grouping["object_refs"])
    # Loading it again replaces it: still one agreement.
    load(vigil)
    assert len(vigil.get("/api/v1/agreements").json()["agreements"]) == 1


@pytest.mark.parametrize("mutate,where", [
    (lambda a: a["zones"][0]["geometry"]["geometry"]["coordinates"][0].__setitem__(
        3, [34.2, 95.0]), "zones[0].geometry.coordinates[0][3]"),
    (lambda a: a["zones"][1]["terms"][0]["prohibited"].append("EXPLODE"),
     "zones[1].terms[0].prohibited[1]"),
    (lambda a: a["zones"][3]["terms"][0]["prohibited"][0].__setitem__("modes", ["boats"]),
     "zones[3].terms[0].prohibited[0].modes[0]"),
    (lambda a: a["zones"][3].pop("distance_m"), "zones[3].distance_m"),
    (lambda a: a["zones"][2]["terms"][0].__setitem__("party", "Party C"),
     "zones[2].terms[0].party"),
    (lambda a: a["zones"][0].__setitem__("kind", "safe-zone"), "zones[0].kind"),
    (lambda a: a.__setitem__("colour", "red"), "colour"),
])
def test_bad_agreements_are_refused_naming_the_place_and_write_nothing(vigil, mutate, where):
    bad = copy.deepcopy(AGREEMENT)
    mutate(bad)
    r = vigil.post("/api/v1/agreements", json=bad)
    assert r.status_code == 400, r.text
    assert where in r.json()["description"], r.json()["description"]
    assert vigil.get("/api/v1/agreements").json()["agreements"] == []
    coll = vigil.collection("compliance")
    assert vigil.get(f"/taxii2/api/collections/{coll}/objects/").json().get("objects", []) == []


def test_the_cli_loads_agreements_and_refuses_bad_ones(vigil, tmp_path):
    good = tmp_path / "ag.json"
    good.write_text(json.dumps(AGREEMENT))
    out = vigil.run("agreement", "load", str(good), "--as", "admin").stdout.strip()
    assert out.startswith("grouping--")
    bad = copy.deepcopy(AGREEMENT)
    bad["zones"][1]["terms"][0]["prohibited"] = ["SHOOT"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = vigil.run("agreement", "load", str(tmp_path / "bad.json"), "--as", "admin", check=False)
    assert r.returncode == 1 and "zones[1].terms[0].prohibited[0]" in r.stderr
    vigil.partner("Egypt")
    vigil.user("Egypt", "eg", role="admin")
    r = vigil.run("agreement", "load", str(good), "--as", "eg", check=False)
    assert r.returncode == 1 and "coordination center" in r.stderr


def test_only_coordination_center_reviewers_load_agreements(vigil):
    vigil.partner("Egypt")
    tok = vigil.user("Egypt", "eg", role="admin")
    assert vigil.post("/api/v1/agreements", token=tok, json=AGREEMENT).status_code == 403


# ---- candidates ---------------------------------------------------------------------------

def test_candidates_by_party_zone_act_and_time(hub):
    t = "2025-02-10T10:00:00Z"
    yes = post_report(hub, report(RAFAH, t))                               # any party, Rafah
    post_report(hub, report(RAFAH, t, actor="Unknown"))                    # not a party
    post_report(hub, report(RAFAH, "2025-01-10T10:00:00Z"))                # before effective
    post_report(hub, report(RAFAH, t, future=True))                        # a warning
    post_report(hub, report(RAFAH, t, event="MOBILIZE", mode="troops"))    # not prohibited
    post_report(hub, report(KHAN_YUNIS, t, mode="firearms"))               # permitted mode
    ky = post_report(hub, report(KHAN_YUNIS, t, mode="drone"))             # prohibited
    post_report(hub, report(NORTH_GAZA, t))                                # Party B's zone only
    ng = post_report(hub, report(NORTH_GAZA, t, actor="b MILITIA"))        # alias, any case
    vs = violations(hub)
    got = sorted((v["report"], v["zone"]["name"], v["party"]) for v in vs)
    assert got == sorted([(yes, "Rafah", "Party A"), (ky, "Khan Yunis corridor", "Party A"),
                          (ng, "North Gaza", "Party B")])
    v = [v for v in vs if v["report"] == yes][0]
    assert v["status"] == "reported" and v["evidence"] == [yes]
    assert v["time"].startswith("2025-02-10T10:00:00")
    assert v["id"].startswith("x-vigil-violation--")


def test_a_line_counts_within_its_distance_after_the_phase_deadline(hub):
    before = "2025-01-25T10:00:00Z"
    after = "2025-02-05T10:00:00Z"
    mob = dict(event="MOBILIZE", mode="troops")
    post_report(hub, report(NEAR_LINE, before, **mob))   # before the deadline
    near = post_report(hub, report(NEAR_LINE, after, **mob))
    post_report(hub, report(FAR_LINE, after, **mob))     # too far
    vs = violations(hub, zone="Withdrawal line")
    assert [v["report"] for v in vs] == [near]


def test_reports_already_stored_are_evaluated_when_an_agreement_is_loaded(vigil):
    rid = post_report(vigil, report(RAFAH, "2025-02-10T10:00:00Z"))
    assert violations(vigil) == []
    load(vigil)
    assert [v["report"] for v in violations(vigil)] == [rid]


def test_late_reports_count_on_their_event_day(hub):
    # Arrives now, happened in February: it is a February violation.
    rid = post_report(hub, report(RAFAH, "2025-02-03T23:30:00Z"))
    t = hub.get("/api/v1/tallies", params={"from": "2025-02-03", "to": "2025-02-04"}).json()
    assert t["daily"][0]["all"] == 1 and t["daily"][1]["all"] == 0
    assert violations(hub, since="2025-02-03", until="2025-02-04")[0]["report"] == rid


def test_a_corrected_report_re_evaluates_its_candidates(hub):
    src = "acled:PSE-CORR-1"
    first = post_report(hub, report(RAFAH, "2025-02-10T10:00:00Z", source_ref=src))
    vs = violations(hub)
    assert len(vs) == 1
    # The source corrects the place: not in any zone any more; the candidate goes.
    again = post_report(hub, report((31.0, 34.0), "2025-02-10T10:00:00Z", source_ref=src))
    assert again == first
    assert violations(hub) == []
    # Back in Rafah, then under review, then corrected away: the violation stays, with a note.
    post_report(hub, report(RAFAH, "2025-02-10T10:00:00Z", source_ref=src))
    vid = violations(hub)[0]["id"]
    assert transition(hub, vid, "under_review").status_code == 200
    post_report(hub, report((31.0, 34.0), "2025-02-10T10:00:00Z", source_ref=src))
    v = hub.get(f"/api/v1/violations/{vid}").json()
    assert v["status"] == "under_review"
    assert v["history"][-1]["note"] is True and "corrected" in v["history"][-1]["reason"]
    # A correction that still shows it updates it (new time) without a new violation.
    post_report(hub, report(RAFAH, "2025-02-11T08:00:00Z", source_ref=src))
    vs = violations(hub)
    assert [v["id"] for v in vs] == [vid] and vs[0]["time"].startswith("2025-02-11T08")


# ---- the workflow -------------------------------------------------------------------------

def test_every_transition_allowed_and_refused(hub):
    ids = []
    statuses = ["reported", "under_review", "confirmed", "not_confirmed", "disputed"]
    allowed = {("reported", "under_review"), ("under_review", "confirmed"),
               ("under_review", "not_confirmed"), ("under_review", "disputed"),
               ("disputed", "under_review")}
    paths = {"reported": [], "under_review": ["under_review"],
             "confirmed": ["under_review", "confirmed"],
             "not_confirmed": ["under_review", "not_confirmed"],
             "disputed": ["under_review", "disputed"]}
    # For each starting status, try every target on a fresh violation in that status.
    for start in statuses:
        for target in statuses:
            post_report(hub, report(RAFAH, "2025-02-20T10:00:00Z",
                                    source_ref=f"acled:T-{start}-{target}"))
            vid = [v["id"] for v in violations(hub) if v["id"] not in ids][0]
            ids.append(vid)
            for step in paths[start]:
                assert transition(hub, vid, step).status_code == 200
            r = transition(hub, vid, target, reason=f"{start} to {target}")
            want = 200 if (start, target) in allowed else 409
            assert r.status_code == want, (start, target, r.text)
            v = hub.get(f"/api/v1/violations/{vid}").json()
            assert v["status"] == (target if want == 200 else start)
    # Who, when and why are kept for every transition.
    v = hub.get(f"/api/v1/violations/{ids[-1]}").json()
    h = v["history"]
    assert h[0]["to"] == "reported" and h[0]["by"] == "vigil"
    assert [s["to"] for s in h[1:]] == ["under_review", "disputed"]
    assert all(s["by"] == "admin" and s["at"] and s["reason"] for s in h[1:])


def test_transition_roles_reasons_and_unknown_statuses(hub):
    post_report(hub, report(RAFAH, "2025-02-10T10:00:00Z"))
    vid = violations(hub)[0]["id"]
    # an admin of another partner
    hub.partner("Egypt")
    eg_admin = hub.user("Egypt", "eg", role="admin")
    assert transition(hub, vid, "under_review", token=eg_admin).status_code == 403
    assert transition(hub, vid, "under_review", reason="").status_code == 400
    assert transition(hub, vid, "approved").status_code == 400
    assert transition(hub, "x-vigil-violation--00000000-0000-4000-8000-000000000000",
                      "under_review").status_code == 404
    r = hub.post(f"/api/v1/violations/{vid}/transition", json={"to": "under_review"})
    assert r.status_code == 400
    assert transition(hub, vid, "under_review").status_code == 200


def test_a_decision_without_a_reason_is_refused_and_changes_nothing(hub):
    """Confirming or rejecting with an empty or blank reason: 400 naming `reason`, and the
    violation keeps its status and history (the dashboard used to send a made-up reason)."""
    post_report(hub, report(RAFAH, "2025-02-11T10:00:00Z"))
    vid = violations(hub)[0]["id"]
    assert transition(hub, vid, "under_review", reason="two sources").status_code == 200
    before = hub.get(f"/api/v1/violations/{vid}").json()
    for to in ("confirmed", "not_confirmed"):
        for blank in ("", "   ", " \t\n"):
            r = transition(hub, vid, to, reason=blank)
            assert r.status_code == 400, (to, repr(blank), r.text)
            assert r.json()["description"].startswith("reason:")
    after = hub.get(f"/api/v1/violations/{vid}").json()
    assert after["status"] == "under_review" and after["history"] == before["history"]
    assert transition(hub, vid, "confirmed", reason=" imagery ").status_code == 200


def test_the_daily_report_carries_its_marking_and_whose_view_it_is(hub):
    """The banner is the strictest marking of what the report is made from, as its reader
    sees it: AMBER evidence marks the coordination center's report AMBER, while a partner who
    cannot read it gets a GREEN report without it."""
    hub.partner("Egypt")
    eg = hub.user("Egypt", "eg", role="analyst")
    post_report(hub, report(RAFAH, "2025-03-05T08:00:00Z"))
    d = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-05", "format": "json"})
    assert d.json()["marking"] == "green"
    post_report(hub, report(RAFAH, "2025-03-05T09:00:00Z", marking="amber"))
    vs = violations(hub)
    assert sorted(v["marking"] for v in vs) == ["amber", "green"]
    d = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-05", "format": "json"}).json()
    assert d["marking"] == "amber" and d["summary"]["all"] == 2
    assert d["view"] == {"user": "admin", "partner": "Coordination Center"}
    assert d["generated"].endswith("Z")
    h = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-05"}).text
    assert h.count('class="tlp tlp-amber') == 2 and h.count("TLP:AMBER") >= 3
    assert "<title>TLP:AMBER" in h and "The view of admin (Coordination Center)" in h
    assert "@media print" in h
    # The day after: the previous day's AMBER violation is counted, so the banner stays AMBER.
    d = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-06", "format": "json"}).json()
    assert d["summary"]["previous_all"] == 2 and d["marking"] == "amber"
    # Egypt does not see the AMBER report: its report is GREEN and says it is Egypt's view.
    d = hub.get("/api/v1/compliance/daily", token=eg,
                params={"date": "2025-03-05", "format": "json"}).json()
    assert d["marking"] == "green" and d["summary"]["all"] == 1
    assert d["view"] == {"user": "eg", "partner": "Egypt"}
    h = hub.get("/api/v1/compliance/daily", token=eg, params={"date": "2025-03-05"}).text
    assert "TLP:AMBER" not in h and "TLP:GREEN" in h and "The view of eg (Egypt)" in h


def test_opinions_and_evidence(hub):
    hub.partner("Egypt")
    eg = hub.user("Egypt", "eg", role="analyst")
    rid = post_report(hub, report(RAFAH, "2025-02-10T10:00:00Z"))
    vid = violations(hub)[0]["id"]
    r = hub.post(f"/api/v1/violations/{vid}/opinions", token=eg,
                 json={"opinion": "agree", "explanation": "our observers saw it"})
    assert r.status_code == 201, r.text
    op = r.json()["opinions"][0]
    assert op["type"] == "opinion" and op["opinion"] == "agree"
    assert op["object_refs"] == [vid] and op["explanation"] == "our observers saw it"
    assert hub.post(f"/api/v1/violations/{vid}/opinions",
                    json={"opinion": "maybe"}).status_code == 400
    listed = hub.get(f"/api/v1/violations/{vid}/opinions").json()["opinions"]
    assert [o["id"] for o in listed] == [op["id"]]
    other = post_report(hub, report((31.0, 34.0), "2025-02-10T11:00:00Z"), token=eg)
    r = hub.post(f"/api/v1/violations/{vid}/evidence", token=eg, json={"report": other})
    assert r.status_code == 201 and r.json()["evidence"] == [rid, other]
    r = hub.post(f"/api/v1/violations/{vid}/evidence", json={"report": other})
    assert r.status_code == 201 and r.json()["evidence"] == [rid, other]   # no duplicate
    r = hub.post(f"/api/v1/violations/{vid}/evidence",
                 json={"report": "report--00000000-0000-4000-8000-000000000000"})
    assert r.status_code == 404


# ---- tallies ------------------------------------------------------------------------------

# (day, place, actor, event, mode) -> hand-computed tallies below.
FIXTURE = [
    ("2025-03-01T08:00:00Z", RAFAH, "A forces", "ASSAULT", "aerial"),        # A Rafah
    ("2025-03-01T09:00:00Z", RAFAH, "B militia", "ASSAULT", "firearms"),     # B Rafah
    ("2025-03-02T08:00:00Z", RAFAH, "A forces", "COERCE", None),             # A Rafah
    ("2025-03-02T09:00:00Z", KHAN_YUNIS, "A forces", "ASSAULT", "drone"),    # A Khan Yunis
    ("2025-03-02T10:00:00Z", NORTH_GAZA, "B militia", "ASSAULT", "aerial"),  # B North Gaza
    ("2025-03-03T08:00:00Z", RAFAH, "A forces", "ASSAULT", "aerial"),        # A Rafah
    ("2025-02-27T08:00:00Z", RAFAH, "A forces", "ASSAULT", "aerial"),        # previous period
    ("2025-02-26T08:00:00Z", NORTH_GAZA, "B militia", "ASSAULT", "aerial"),  # previous period
    ("2025-02-20T08:00:00Z", RAFAH, "A forces", "ASSAULT", "aerial"),        # before both
]


def seed(vigil):
    for when, at, actor, event, mode in FIXTURE:
        post_report(vigil, report(at, when, actor=actor, event=event, mode=mode))
    vs = violations(vigil)
    assert len(vs) == len(FIXTURE)
    # confirm: A Rafah 03-01, B North Gaza 03-02, A Rafah 02-27
    for v in vs:
        key = (v["time"][:10], v["party"], v["zone"]["name"])
        if key in {("2025-03-01", "Party A", "Rafah"), ("2025-03-02", "Party B", "North Gaza"),
                   ("2025-02-27", "Party A", "Rafah")}:
            assert transition(vigil, v["id"], "under_review").status_code == 200
            assert transition(vigil, v["id"], "confirmed").status_code == 200
    return vs


def test_tallies_match_the_hand_computed_fixture(hub):
    seed(hub)
    t = hub.get("/api/v1/tallies", params={"from": "2025-03-01", "to": "2025-03-03"}).json()
    assert (t["from"], t["to"], t["days"]) == ("2025-03-01", "2025-03-03", 3)
    assert t["totals"] == {"all": 6, "confirmed": 2}
    assert t["previous"] == {"from": "2025-02-26", "to": "2025-02-28", "all": 2, "confirmed": 1}
    assert t["change"] == {"all": 4, "confirmed": 1, "all_pct": 200.0, "confirmed_pct": 100.0}
    # cells come ordered by (day, party, zone id)
    assert [(c["day"], c["party"], c["zone"]) for c in t["cells"]] == \
        sorted((c["day"], c["party"], c["zone"]) for c in t["cells"])
    cells = sorted((c["day"], c["party"], c["zone_name"], c["all"], c["confirmed"])
                   for c in t["cells"])
    assert cells == [
        ("2025-03-01", "Party A", "Rafah", 1, 1),
        ("2025-03-01", "Party B", "Rafah", 1, 0),
        ("2025-03-02", "Party A", "Khan Yunis corridor", 1, 0),
        ("2025-03-02", "Party A", "Rafah", 1, 0),
        ("2025-03-02", "Party B", "North Gaza", 1, 1),
        ("2025-03-03", "Party A", "Rafah", 1, 0),
    ]
    # rolling 7 days: 03-01 covers 02-23..03-01 = 02-26, 02-27, 2 x 03-01 -> 4/7
    daily = [(d["day"], d["all"], d["confirmed"], d["rate7_all"], d["rate7_confirmed"])
             for d in t["daily"]]
    assert daily == [("2025-03-01", 2, 1, round(4 / 7, 3), round(2 / 7, 3)),
                     ("2025-03-02", 3, 1, round(7 / 7, 3), round(3 / 7, 3)),
                     ("2025-03-03", 1, 0, round(8 / 7, 3), round(3 / 7, 3))]
    parties = {p["party"]: (p["all"], p["confirmed"], p["previous_all"], p["change_all"])
               for p in t["by_party"]}
    assert parties == {"Party A": (4, 1, 1, 3), "Party B": (2, 1, 1, 1)}
    zones = {z["zone_name"]: (z["all"], z["confirmed"], z["previous_all"]) for z in t["by_zone"]}
    assert zones == {"Rafah": (4, 1, 1), "Khan Yunis corridor": (1, 0, 0),
                     "North Gaza": (1, 1, 1)}
    assert hub.get("/api/v1/tallies", params={"from": "2025-03-03",
                                               "to": "2025-03-01"}).status_code == 400


def test_the_daily_report_in_three_formats_and_from_the_cli(hub):
    seed(hub)
    j = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-02", "format": "json"})
    assert j.status_code == 200
    d = j.json()
    assert d["summary"] == {"all": 3, "confirmed": 1, "previous_all": 2,
                            "previous_confirmed": 1, "change_all": 1, "change_confirmed": 0}
    assert [v["party"] for v in d["confirmed"]] == ["Party B"]
    assert len(d["violations"]) == 3
    c = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-02", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert sorted(r["status"] for r in rows) == ["confirmed", "reported", "reported"]
    h = hub.get("/api/v1/compliance/daily", params={"date": "2025-03-02"})
    assert h.headers["Content-Type"].startswith("text/html")
    assert "<svg" in h.text and h.text.count('class="zone"') == 4
    assert h.text.count('class="violation"') == 3 and "North Gaza" in h.text
    assert "http://" not in h.text.replace("http://www.w3.org/2000/svg", "")
    out = hub.run("report", "daily", "--date", "2025-03-02", "--as", "admin",
                  "--format", "json").stdout
    assert json.loads(out)["summary"] == d["summary"]


# ---- S3: derived products never leak -------------------------------------------------------

def test_a_partner_sees_a_violation_as_its_own_reading_supports_it(hub):
    """A violation exists for a reader who may read its agreement and the report it was found
    in; other evidence is listed only to those who may read it, and changes nothing else."""
    hub.partner("Egypt")
    hub.partner("Qatar")
    eg = hub.user("Egypt", "eg", role="analyst")
    qa = hub.user("Qatar", "qa", role="analyst")
    # Public evidence: everyone sees the violation.
    public = post_report(hub, report(RAFAH, "2025-03-01T08:00:00Z"))
    # Evidence only the coordination center may read (AMBER, no group).
    secret = post_report(hub, report(RAFAH, "2025-03-01T09:00:00Z", marking="amber"))
    sv = [v for v in violations(hub) if v["report"] == secret][0]["id"]
    # Egypt files AMBER evidence about the public violation: Egypt's and the CC's to read.
    pv = [v for v in violations(hub) if v["report"] != secret][0]["id"]
    eg_only = post_report(hub, report((31.0, 34.0), "2025-03-01T10:00:00Z", marking="amber"),
                          token=eg)
    assert hub.post(f"/api/v1/violations/{pv}/evidence", token=eg,
                    json={"report": eg_only}).status_code == 201
    for v in (sv, pv):
        assert transition(hub, v, "under_review").status_code == 200
        assert transition(hub, v, "confirmed").status_code == 200

    def seen(token):
        vs = {v["id"]: v for v in violations(hub, token=token)}
        t = hub.get("/api/v1/tallies", token=token,
                    params={"from": "2025-03-01", "to": "2025-03-01"}).json()
        d = hub.get("/api/v1/compliance/daily", token=token,
                    params={"date": "2025-03-01", "format": "json"}).json()
        h = hub.get("/api/v1/compliance/daily", token=token, params={"date": "2025-03-01"}).text
        c = hub.get("/api/v1/compliance/daily", token=token,
                    params={"date": "2025-03-01", "format": "csv"}).text
        return vs, t, d, h, c

    vs, t, d, h, c = seen(None)                  # the coordination center: both, all evidence
    assert set(vs) == {sv, pv} and t["totals"] == {"all": 2, "confirmed": 2}
    assert vs[pv]["evidence"] == [public, eg_only]
    vs, t, d, h, c = seen(eg)                    # Egypt: pv with its own evidence, not sv
    assert set(vs) == {pv} and t["totals"] == {"all": 1, "confirmed": 1}
    assert vs[pv]["evidence"] == [public, eg_only]
    assert d["summary"]["all"] == 1 and secret not in h and secret not in c
    vs, t, d, h, c = seen(qa)                    # Qatar: pv without Egypt's evidence, not sv
    assert set(vs) == {pv} and vs[pv]["evidence"] == [public]
    assert t["totals"] == {"all": 1, "confirmed": 1} and len(t["cells"]) == 1
    assert [x["all"] for x in t["daily"]] == [1]
    assert d["summary"]["all"] == 1 and [v["id"] for v in d["confirmed"]] == [pv]
    assert h.count('class="violation"') == 1 and len(c.strip().splitlines()) == 2
    for text in (str(vs), str(t), str(d), h, c):
        assert secret not in text and eg_only not in text
    assert hub.get(f"/api/v1/violations/{sv}", token=qa).status_code == 404   # as if it did
    assert hub.post(f"/api/v1/violations/{sv}/opinions", token=qa,           # not exist
                    json={"opinion": "agree"}).status_code == 404
    assert hub.get(f"/api/v1/violations/{sv}/opinions", token=qa).status_code == 404
    assert hub.get(f"/api/v1/violations/{pv}", token=qa).json()["evidence"] == [public]
    r = hub.run("report", "daily", "--date", "2025-03-01", "--as", "qa", "--format", "json")
    assert json.loads(r.stdout)["summary"]["all"] == 1


def test_daily_csv_keeps_negative_coordinates_and_quotes_formulas(vigil):
    """West of Greenwich and south of the equator, coordinates stay numbers in the CSV, while a
    party named like a spreadsheet formula is written as text."""
    square = {"type": "Polygon", "coordinates": [[[-2, -2], [-1, -2], [-1, -1], [-2, -1],
                                                  [-2, -2]]]}
    load(vigil, {"name": "West and south (test)", "effective": "2025-01-01T00:00:00Z",
                 "marking": "green", "parties": [{"name": "=HYPERLINK(\"x\")"}],
                 "zones": [{"name": "Square", "kind": "no-fire-area", "geometry": square,
                            "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]}]})
    post_report(vigil, report((-1.5, -1.25), "2025-03-02T10:00:00Z",
                              actor="=HYPERLINK(\"x\")"))
    c = vigil.get("/api/v1/compliance/daily", params={"date": "2025-03-02", "format": "csv"})
    assert c.status_code == 200, c.text
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert len(rows) == 1
    assert (float(rows[0]["lat"]), float(rows[0]["lon"])) == (-1.5, -1.25)
    assert rows[0]["party"] == "'=HYPERLINK(\"x\")"
