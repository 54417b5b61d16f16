"""The `make demo` scenario (data/demo/scenario.py) against a fresh daemon: partners, groups,
reports, how views differ per partner (S3), violations for both parties moved through the
workflow (S8), and the early warning of the planned attack (S7)."""
import datetime as dt
import json
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "data" / "demo"))
import scenario  # noqa: E402


@pytest.fixture
def demo(vigil):
    summary = scenario.load(vigil.url, vigil.admin_token, log=lambda *a: None)
    tok = {u: v["token"] for u, v in summary["users"].items()}
    return vigil, summary, tok


def all_reports(vigil, token):
    out, params = [], {"limit": 500}
    while True:
        r = vigil.get("/api/v1/reports", token=token, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["reports"]
        if not body.get("next"):
            return out
        params["cursor"] = body["next"]


def violations(vigil, token, **params):
    r = vigil.get("/api/v1/violations", token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json()["violations"]


def when(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_deterministic():
    a, b = scenario.build_reports(), scenario.build_reports()
    assert [r["body"] for r in a] == [r["body"] for r in b]
    assert 150 <= len(a) <= 400
    days = {r["body"]["start"][:10] for r in a if not r["body"]["future"]}
    assert min(days) == "2025-10-01" and max(days) == "2025-10-21"
    for r in a:
        assert r["body"]["title"].startswith("SYNTHETIC")
        assert "SYNTHETIC" in r["body"]["description"]
        if r["body"]["future"]:  # a warning is reported before the window it warns of
            assert r["reported"] < when(r["body"]["start"])
    agreement = json.loads(scenario.AGREEMENT.read_text())
    assert "SYNTHETIC" in agreement["name"] and "SYNTHETIC" in agreement["description"]
    for z in agreement["zones"]:
        assert z["name"].startswith("ILLUSTRATIVE")


def test_demo_scenario(demo):
    vigil, s, tok = demo
    reports, tags = s["reports"], s["tags"]

    # Partners and sharing groups.
    r = vigil.get("/api/v1/partners")
    names = {p["name"] for p in r.json()["partners"]}
    assert set(scenario.PARTNERS) | {scenario.CC} <= names
    groups = {g["name"] for g in vigil.get("/api/v1/groups", token=tok["cc.amina"])
              .json()["groups"]}
    assert {"Mediators", "Principals"} <= groups
    assert "Mediators" not in {g["name"] for g in vigil.get(
        "/api/v1/groups", token=tok["il.liaison"]).json()["groups"]}

    # Reports: each user sees exactly what the S3 rule allows; views differ.
    seen = {}
    for user in tok:
        got = all_reports(vigil, tok[user])
        assert len(got) == sum(scenario.can_read(user, x) for x in reports), user
        seen[user] = {x["id"] for x in got}
    assert len(seen["cc.amina"]) == len(reports)
    green = sum(x["body"]["marking"] in ("clear", "green") for x in reports)
    assert len(seen["id.observer"]) == green < len(seen["cc.amina"])
    assert len(seen["il.liaison"]) < len(seen["eg.liaison"])  # not in Mediators
    assert len(seen["cc.lars"]) < len(seen["cc.amina"])       # not a RED recipient
    red = [x for x in reports if x["body"]["marking"] == "red"]
    assert red
    for x in red:
        for user, ok in [("us.analyst", True), ("us.liaison", True), ("cc.amina", True),
                         ("qa.liaison", True), ("cc.lars", False), ("eg.liaison", False),
                         ("il.liaison", False), ("id.observer", False)]:
            code = vigil.get(f"/api/v1/reports/{x['id']}", token=tok[user]).status_code
            assert code == (200 if ok else 404), (user, x["tag"])

    # Violations: both parties, moved through the workflow, opinions from partners.
    vs = violations(vigil, tok["cc.amina"])
    assert len(vs) == sum(s["violations"].values())
    by = {(v["party"], v["status"]) for v in vs}
    for party in ("Party A", "Party B"):
        assert (party, "confirmed") in by and (party, "reported") in by, party
    statuses = {v["status"] for v in vs}
    assert {"confirmed", "disputed", "not_confirmed", "under_review", "reported"} <= statuses
    assert {v["party"] for v in vs if v["status"] == "disputed"} == {"Party A", "Party B"}
    attack = [v for v in vs if v["report"] == tags["attempted-attack"]]
    assert attack and all(v["status"] == "confirmed" and v["party"] == "Party B"
                          for v in attack)
    strike = [v for v in vs if v["report"] == tags["airstrike-0"]][0]
    assert len(strike["evidence"]) == 3 and strike["status"] == "confirmed"
    detail = vigil.get(f"/api/v1/violations/{strike['id']}", token=tok["cc.amina"]).json()
    assert [h["to"] for h in detail["history"]] == ["reported", "under_review", "confirmed"]
    assert any(len(vigil.get(f"/api/v1/violations/{v['id']}", token=tok["cc.amina"])
                   .json()["opinions"]) for v in vs if v["status"] == "disputed")
    # derived products follow the evidence: observers see fewer violations
    assert 0 < len(violations(vigil, tok["id.observer"])) < len(vs)
    t = vigil.get("/api/v1/tallies", token=tok["cc.amina"],
                  params={"from": "2025-10-01", "to": "2025-10-21"}).json()
    # a party's totals count a report once, however many (overlapping) zones it falls in
    assert t["totals"]["all"] == len({(v["party"], v["report"]) for v in vs}) < len(vs)
    assert t["totals"]["confirmed"] == len({(v["party"], v["report"]) for v in vs
                                            if v["status"] == "confirmed"})
    assert sum(z["all"] for z in t["by_zone"]) == len(vs)


def test_demo_early_warning(demo):
    vigil, s, tok = demo
    tags = {r["tag"]: r for r in s["reports"] if r["tag"]}
    r = vigil.get("/api/v1/alerts", token=tok["cc.amina"])
    if r.status_code == 404:
        pytest.skip("GET /api/v1/alerts does not exist yet (the fusion engine is not wired "
                    "into the server): the planned-attack HIGH alert cannot be checked")
    assert r.status_code == 200, r.text
    alerts = r.json()["alerts"]

    def find(rule, *evidence, token=tok["cc.amina"]):
        got = vigil.get("/api/v1/alerts", token=token).json()["alerts"] if token else alerts
        return [a for a in got if a["rule"] == rule
                and all(tags[e]["id"] in a["evidence"] for e in evidence)]

    window_start = when(s["attack_window"][0])
    hits = find("planned-attack-corroborated", "intel-planned-attack",
                "corroboration-movement")
    assert hits, "no planned-attack-corroborated alert holds the intelligence and movement"
    a = hits[0]
    assert a["severity"] == "high"
    # The warning is there before the attack: its evidence starts before the window (event
    # time), it fired no later than the window's start, and in the replayed timeline it was
    # raised (wall clock) before the attempted attack was reported.
    assert when(a["start"]) < window_start
    if "fired_at" in a:
        assert when(a["fired_at"]) <= window_start
    assert when(a["created"]) < tags["attempted-attack"]["posted"]
    # Derived products never leak: Israel and the observers cannot read the evidence.
    for user in ("il.liaison", "id.observer"):
        assert not find("planned-attack-corroborated", "intel-planned-attack", token=tok[user])
    # The uncorroborated warning raises nothing.
    assert not [x for x in alerts if tags["intel-uncorroborated"]["id"] in x["evidence"]
                and x["rule"] == "planned-attack-corroborated"]
    # The RED warning's alert exists for the RED recipients only.
    assert find("planned-attack-corroborated", "intel-red", "red-corroboration")
    assert find("planned-attack-corroborated", "intel-red", token=tok["qa.liaison"])
    assert not find("planned-attack-corroborated", "intel-red", token=tok["cc.lars"])
    # The other shipped rules fire on the story too.
    assert [x for x in find("exchange-of-fire", "fire-B") if x["severity"] == "high"]
    assert [x for x in find("buildup-near-line", "buildup-0", "buildup-2")
            if x["severity"] == "medium"]
