"""One TAXII envelope whose objects depend on each other and on what is stored: each object's
outcome in the status resource, and what is stored after, are those of putting the objects one
by one in their order. The PostgreSQL store sends an envelope's new ids in one pipeline
(store_txn_objects_put, docs/ARCHITECTURE.md): this is the attack on its order and on whose
outcome is whose. Runs on either store (VIGIL_TEST_STORE)."""
import copy
import datetime
import uuid

from stix_samples import envelope, indicator, new_version

T1, T2, T3 = "2024-03-18T02:00:00.000Z", "2024-03-19T02:00:00.000Z", "2024-03-20T02:00:00.000Z"
REPORT = {"event": "ASSAULT", "mode": "aerial", "future": False,
          "start": "2025-03-18T02:00:00Z", "end": "2025-03-18T03:00:00Z",
          "location": {"lat": 31.51, "lon": 34.46, "precision_m": 500},
          "actors": ["Unit 1"], "targets": ["civilians"], "reliability": "B",
          "credibility": 2, "marking": "green", "title": "Air strike on a shelter"}


def test_an_envelope_gets_each_objects_own_outcome_in_order(vigil):
    vigil.partner("Bravo")
    bravo = vigil.user("Bravo", "bob")
    coll = vigil.collection("reports")
    url = f"/taxii2/api/collections/{coll}/objects/"

    def post(*objs, token=None):
        r = vigil.post(url, token=token, json=envelope(*objs))
        assert r.status_code == 202, r.text
        return r.json()

    # Stored before: an event report (through REST), X at T2 and T3, C at T1, Bravo's B.
    made = vigil.request("POST", "/api/v1/reports", json=REPORT)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    rep = vigil.get(url + f"{rid}/").json()["objects"][0]
    x1 = indicator(1, modified=T2)
    c1 = indicator(2, modified=T1)
    b1 = indicator(3, modified=T1)
    assert post(x1, new_version(x1, T3), c1)["failure_count"] == 0
    assert post(b1, token=bravo)["failure_count"] == 0

    n = indicator(4, modified=T1)                       # new
    d1 = indicator(5, modified=T1)                      # new, then
    d2 = new_version(d1, T2)                            # its next version, then
    d3 = copy.deepcopy(d2)                              # the same again
    x0 = new_version(x1, T1)                            # older than the newest stored
    c1b = dict(c1, name="Something else")               # same id and version, other content
    b2 = new_version(b1, T2)                            # Bravo's id
    later = (datetime.datetime.fromisoformat(rep["modified"].replace("Z", "+00:00")) +
             datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    rep2 = new_version(rep, later)                      # the stored report, retitled
    rep2["name"] = "Air strike on a school"
    r1 = dict(copy.deepcopy(rep), id=f"report--{uuid.uuid4()}")  # a new event report, then
    r1["created"] = r1["modified"] = T1
    r2 = new_version(r1, T2)                            # no longer one, in the same envelope
    r2["extensions"] = {}
    del r2["extensions"]
    before = len(vigil.get(url, params={"match[version]": "all"}).json()["objects"])

    st = post(n, d1, d2, d3, x0, c1b, b2, rep2, r1, r2)
    ok = [(s["id"], s["version"], s.get("message")) for s in st["successes"]]
    assert ok == [(n["id"], T1, None), (d1["id"], T1, None), (d1["id"], T2, None),
                  (d1["id"], T2, "already stored"), (x1["id"], T1, None),
                  (rep["id"], rep2["modified"], None), (r1["id"], T1, None),
                  (r1["id"], T2, None)]
    bad = [(s["id"], s["version"]) for s in st["failures"]]
    assert bad == [(c1["id"], T1), (b1["id"], T2)]
    assert st["failures"][0]["message"] != st["failures"][1]["message"]
    assert (st["total_count"], st["success_count"], st["failure_count"]) == (10, 8, 2)

    def versions(oid):
        return vigil.get(url + f"{oid}/versions/").json()["versions"]

    assert versions(n["id"]) == [T1]
    assert versions(d1["id"]) == [T1, T2]
    assert sorted(versions(x1["id"])) == [T1, T2, T3]
    assert vigil.get(url + f"{x1['id']}/").json()["objects"][0]["modified"] == T3
    assert vigil.get(url + f"{c1['id']}/").json()["objects"][0]["name"] == c1["name"]
    assert versions(b1["id"]) == [T1]  # Bravo's only
    assert versions(r1["id"]) == [T1, T2]
    # 7 versions added (the repeat is none), none of the refused
    after = vigil.get(url, params={"match[version]": "all"}).json()["objects"]
    assert len(after) == before + 7
    # The report index: the stored report retitled; r1 indexed, then undone by r2.
    reports = {r["id"]: r for r in vigil.get("/api/v1/reports").json()["reports"]}
    assert set(reports) == {rid}
    assert reports[rid]["title"] == "Air strike on a school"
