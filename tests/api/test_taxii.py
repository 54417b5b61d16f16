"""TAXII 2.1 conformance (S4; OASIS TAXII Version 2.1): every endpoint, every filter, every
error code the server answers, visibility (S3) on every read path, pagination under
concurrent writes, and a client flow that behaves like the OASIS taxii2-client library.
Section numbers in comments are those of the TAXII 2.1 specification."""
import re
import threading
import urllib.parse
import uuid

import requests

from conftest import TAXII, Vigil, basic
from stix_samples import (TLP_GREEN, TLP_RED, envelope, indicator, ipv4, location,
                          new_version)

ROOT = "/taxii2/api/"
TS6 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
T1, T2, T3 = "2024-03-18T02:00:00.000Z", "2024-03-19T02:00:00.000Z", "2024-03-20T02:00:00.000Z"


# -- helpers ------------------------------------------------------------------------------
def objects_url(coll, oid=None, versions=False):
    u = f"{ROOT}collections/{coll}/objects/"
    if oid:
        u += f"{oid}/"
        if versions:
            u += "versions/"
    return u


def manifest_url(coll):
    return f"{ROOT}collections/{coll}/manifest/"


def post(v, coll, *objs, token=None):
    return v.post(objects_url(coll), token=token, json=envelope(*objs))


def post_ok(v, coll, *objs, token=None):
    r = post(v, coll, *objs, token=token)
    assert r.status_code == 202, r.text
    st = r.json()
    assert st["failure_count"] == 0, st
    return st


def is_taxii(r):
    return r.headers["Content-Type"] == TAXII


def assert_error(r, code):
    """A TAXII error message (3.6.1) with the TAXII media type and a matching http_status."""
    assert r.status_code == code, (r.status_code, r.text)
    assert is_taxii(r), r.headers["Content-Type"]
    body = r.json()
    assert isinstance(body["title"], str) and body["title"]
    assert body["http_status"] == str(code)
    return body


def partners(v):
    """Two partners with an analyst each: returns (token A, token B)."""
    v.partner("Alpha")
    v.partner("Bravo")
    return v.user("Alpha", "alice"), v.user("Bravo", "bob")


def manifest(v, coll, token=None, **params):
    r = v.get(manifest_url(coll), token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json().get("objects", [])


# -- discovery, API root, collections (4.1, 4.2, 5.1, 5.2) -------------------------------
def test_discovery(vigil):
    r = vigil.get("/taxii2/")
    assert r.status_code == 200 and is_taxii(r)
    d = r.json()
    assert d["title"]
    # 4.1.1: API root URLs are https absolute or relative ("/..."), and default is one of them
    assert d["api_roots"] == ["/taxii2/api/"]
    assert d["default"] in d["api_roots"]


def test_api_root(vigil):
    r = vigil.get(ROOT)
    assert r.status_code == 200 and is_taxii(r)
    a = r.json()
    assert a["title"] and TAXII in a["versions"]
    assert isinstance(a["max_content_length"], int) and a["max_content_length"] > 0
    assert_error(vigil.get("/taxii2/nope/"), 404)
    assert_error(vigil.get("/taxii2/nope/collections/"), 404)
    assert_error(vigil.get("/taxii2/nope/status/" + str(uuid.uuid4()) + "/"), 404)


def test_collections_and_rights(vigil):
    vigil.partner("Alpha")
    analyst = vigil.user("Alpha", "alice")
    reader = vigil.user("Alpha", "rita", role="reader")
    ro = vigil.user("Alpha", "otto", read_only=True)
    r = vigil.get(ROOT + "collections/", token=analyst)
    assert r.status_code == 200 and is_taxii(r)
    cols = {c["title"].lower(): c for c in r.json()["collections"]}
    assert {"reports", "alerts", "compliance"} <= set(cols)
    for c in cols.values():
        assert set(c) >= {"id", "title", "can_read", "can_write", "media_types"}
        assert c["can_read"] is True
        assert c["media_types"] == ["application/stix+json;version=2.1"]
        uuid.UUID(c["id"])
    assert cols["reports"]["can_write"] is True
    assert cols["alerts"]["can_write"] is False and cols["compliance"]["can_write"] is False
    # the same order on every request (3.3)
    again = vigil.get(ROOT + "collections/", token=analyst).json()["collections"]
    assert [c["id"] for c in again] == [c["id"] for c in r.json()["collections"]]
    for tok in (reader, ro):
        rep = vigil.get(f"{ROOT}collections/{cols['reports']['id']}/", token=tok)
        assert rep.status_code == 200 and is_taxii(rep)
        assert rep.json()["can_write"] is False and rep.json()["can_read"] is True
    one = vigil.get(f"{ROOT}collections/{cols['reports']['id']}/", token=analyst).json()
    assert one == cols["reports"]
    assert_error(vigil.get(f"{ROOT}collections/{uuid.uuid4()}/"), 404)
    assert_error(vigil.get(f"{ROOT}collections/reports/"), 404)  # ids, not names
    assert_error(vigil.get(f"{ROOT}collections/{uuid.uuid4()}/objects/"), 404)
    assert_error(vigil.get(f"{ROOT}collections/{uuid.uuid4()}/manifest/"), 404)
    assert_error(vigil.post(f"{ROOT}collections/{uuid.uuid4()}/objects/",
                            json=envelope(indicator())), 404)


# -- authentication (1.6.9) ----------------------------------------------------------------
def test_every_endpoint_needs_authentication(vigil):
    coll = vigil.collection()
    oid = indicator()["id"]
    paths = ["/taxii2/", ROOT, ROOT + "collections/", f"{ROOT}collections/{coll}/",
             objects_url(coll), objects_url(coll, oid), objects_url(coll, oid, True),
             manifest_url(coll), f"{ROOT}status/{uuid.uuid4()}/"]
    for p in paths:
        r = vigil.get(p, auth=False)
        assert_error(r, 401)
        assert "Basic" in r.headers["WWW-Authenticate"]
    assert_error(vigil.post(objects_url(coll), auth=False, json=envelope(indicator())), 401)
    assert_error(vigil.request("DELETE", objects_url(coll, oid), auth=False), 401)


# -- content negotiation (1.6.8, 3.1) -----------------------------------------------------
def test_accept_header(vigil):
    coll = vigil.collection()
    good = [TAXII, "application/taxii+json", "application/taxii+json; version=2.1",
            'application/taxii+json;version="2.1"', "APPLICATION/TAXII+JSON;VERSION=2.1",
            "*/*", "application/*", "text/html, application/taxii+json;version=2.1;q=0.5"]
    bad = ["application/json", "application/taxii+json;version=2.0",
           "application/taxii+json;version=2.10", "application/taxii+json;version=2.1;q=0",
           "application/stix+json;version=2.1", "text/html"]
    for path in ("/taxii2/", ROOT, ROOT + "collections/", objects_url(coll)):
        for a in good:
            r = vigil.get(path, headers={"Accept": a})
            assert r.status_code == 200 and is_taxii(r), (path, a, r.text)
        for a in bad:
            assert_error(vigil.get(path, headers={"Accept": a}), 406)
    # the manifest's Accept (5.3) lists the STIX media type too: it must not be 406
    r = vigil.get(manifest_url(coll), headers={"Accept": "application/stix+json;version=2.1"})
    assert r.status_code == 200 and is_taxii(r)
    assert_error(vigil.get(manifest_url(coll), headers={"Accept": "application/json"}), 406)


def test_content_type_of_post(vigil):
    coll = vigil.collection()
    for ct in ("application/json", "application/stix+json;version=2.1",
               "application/taxii+json;version=2.0", "text/plain"):
        r = vigil.post(objects_url(coll), json=envelope(indicator()),
                       headers={"Content-Type": ct})
        assert_error(r, 415)
    r = vigil.post(objects_url(coll), data=b'{"objects":[]}', headers={"Content-Type": ""})
    assert_error(r, 415)
    r = vigil.post(objects_url(coll), json=envelope(indicator()),
                   headers={"Accept": "application/json"})
    assert_error(r, 406)
    assert manifest(vigil, coll) == []
    r = vigil.post(objects_url(coll), json=envelope(indicator()),
                   headers={"Content-Type": "application/taxii+json"})
    assert r.status_code == 202 and is_taxii(r)
    assert manifest(vigil, coll) and len(manifest(vigil, coll)) == 1


# -- add objects and status (5.5, 4.3) ----------------------------------------------------
STATUS_KEYS = {"id", "status", "request_timestamp", "total_count", "success_count",
               "failure_count", "pending_count"}


def test_post_answers_a_complete_status_resource(vigil):
    coll = vigil.collection()
    a, b = indicator(1, modified="2024-03-18T02:00:00.123Z"), location()
    r = post(vigil, coll, a, b)
    assert r.status_code == 202 and is_taxii(r)
    st = r.json()
    # 4.3.1: required fields; empty lists are omitted (2: no empty lists)
    assert set(st) == STATUS_KEYS | {"successes"}, st
    uuid.UUID(st["id"])
    assert st["status"] == "complete"
    assert TS6.match(st["request_timestamp"])
    assert (st["total_count"], st["success_count"], st["failure_count"],
            st["pending_count"]) == (2, 2, 0, 0)
    # status-details: id and version (= modified) of each object
    assert st["successes"] == [{"id": a["id"], "version": "2024-03-18T02:00:00.123Z"},
                               {"id": b["id"], "version": b["modified"]}]
    r = vigil.get(f"{ROOT}status/{st['id']}/")
    assert r.status_code == 200 and is_taxii(r)
    assert r.json() == st


def test_status_is_private_to_its_partner(vigil):
    ta, tb = partners(vigil)
    coll = vigil.collection()
    st = post_ok(vigil, coll, indicator(), token=ta)
    assert vigil.get(f"{ROOT}status/{st['id']}/", token=ta).status_code == 200
    assert_error(vigil.get(f"{ROOT}status/{st['id']}/", token=tb), 404)
    assert_error(vigil.get(f"{ROOT}status/{uuid.uuid4()}/", token=ta), 404)
    assert_error(vigil.get(f"{ROOT}status/not-a-uuid/", token=ta), 404)


def test_invalid_objects_are_failures_in_the_status(vigil):
    coll = vigil.collection()
    good = indicator(1)
    broken = indicator(2)
    del broken["pattern"]
    r = post(vigil, coll, good, broken, "not an object")
    assert r.status_code == 202
    st = r.json()
    assert (st["total_count"], st["success_count"], st["failure_count"]) == (3, 1, 2)
    assert "pendings" not in st
    assert st["successes"] == [{"id": good["id"], "version": good["modified"]}]
    f0, f1 = st["failures"]
    assert f0["id"] == broken["id"] and f0["version"] == broken["modified"]
    assert "pattern" in f0["message"]
    assert set(f1) == {"id", "version", "message"}
    assert [o["id"] for o in manifest(vigil, coll)] == [good["id"]]


def test_post_body_errors(vigil):
    coll = vigil.collection()
    url = objects_url(coll)
    assert_error(vigil.post(url, data=b"{not json"), 400)
    for body in ([indicator()], {"objects": []}, {"objects": "x"}, {"more": False},
                 {"type": "bundle", "id": "bundle--x", "objects": [indicator()]},
                 {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": []},
                 {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "spec_version": "2.1",
                  "objects": [indicator()], "more": False}):
        assert_error(vigil.post(url, json=body), 422)
    assert_error(vigil.post(url + "?limit=3", json=envelope(indicator())), 400)
    assert manifest(vigil, coll) == []


def test_repost_of_the_same_version_is_not_an_error_and_adds_nothing(vigil):
    coll = vigil.collection()
    o = indicator(7)
    post_ok(vigil, coll, o)
    st = post_ok(vigil, coll, o, o)
    assert st["success_count"] == 2
    assert all(s["id"] == o["id"] and s["version"] == o["modified"] for s in st["successes"])
    assert len(manifest(vigil, coll, **{"match[version]": "all"})) == 1
    r = vigil.get(objects_url(coll, o["id"], versions=True))
    assert r.json()["versions"] == [o["modified"]]


def test_sco_is_versioned_by_date_added(vigil):
    coll = vigil.collection()
    o = ipv4("203.0.113.9")
    st = post_ok(vigil, coll, o)
    ver = st["successes"][0]["version"]
    m = manifest(vigil, coll)
    assert m[0]["id"] == o["id"] and m[0]["version"] == ver
    assert vigil.get(objects_url(coll, o["id"], True)).json()["versions"] == [ver]
    again = post_ok(vigil, coll, o)
    assert again["successes"][0]["version"] == ver and again["successes"][0]["message"]
    assert len(manifest(vigil, coll, **{"match[version]": "all"})) == 1


def test_accepted_objects_survive_kill_9(vigil):
    coll = vigil.collection()
    objs = [indicator(i) for i in range(20)]
    st = post_ok(vigil, coll, *objs)
    assert vigil.kill9() == -9
    vigil.start()
    for o in objs:
        r = vigil.get(objects_url(coll, o["id"]))
        assert r.status_code == 200 and r.json()["objects"] == [o]
    assert vigil.get(f"{ROOT}status/{st['id']}/").json() == st


def test_max_content_length_is_413(tmp_path):
    v = Vigil(tmp_path / "d")
    with open(v.data / "vigil.conf", "a") as f:
        f.write("max_content_length = 2048\nmax_objects_per_request = 3\n")
    v.start()
    try:
        assert v.get(ROOT).json()["max_content_length"] == 2048
        coll = v.collection()
        big = indicator(1)
        big["description"] = "x" * 4000
        assert_error(post(v, coll, big), 413)
        assert_error(post(v, coll, *[location() for _ in range(4)]), 413)
        assert post(v, coll, indicator(2)).status_code == 202  # under the limit: never 413
        assert len(manifest(v, coll)) == 1
    finally:
        v.stop()


def test_write_refusals_are_403_and_change_nothing(vigil):
    vigil.partner("Alpha")
    analyst = vigil.user("Alpha", "alice")
    reader = vigil.user("Alpha", "rita", role="reader")
    ro = vigil.user("Alpha", "otto", read_only=True)
    reports, alerts = vigil.collection("reports"), vigil.collection("alerts")
    o = indicator(1)
    post_ok(vigil, reports, o, token=analyst)
    for tok in (reader, ro):
        assert_error(post(vigil, reports, indicator(2), token=tok), 403)
        assert_error(vigil.request("DELETE", objects_url(reports, o["id"]), token=tok), 403)
    assert_error(post(vigil, alerts, indicator(3), token=analyst), 403)
    assert_error(vigil.request("DELETE", objects_url(alerts, o["id"]), token=analyst), 403)
    assert [m["id"] for m in manifest(vigil, reports)] == [o["id"]]
    assert manifest(vigil, alerts) == []


# -- versions and match[version] (3.4.1, 5.4, 5.6, 5.8) ---------------------------------
def three_versions(v, coll, token=None):
    """Posts v2, then v1, then v3 of one indicator: date_added order differs from version
    order. Returns (object with v3, date_added of each version by modified)."""
    base = indicator(9, modified=T2)
    for m in (T2, T1, T3):
        post_ok(v, coll, new_version(base, m), token=token)
    added = {m["version"]: m["date_added"]
             for m in manifest(v, coll, token=token, **{"match[version]": "all"})}
    return new_version(base, T3), added


def test_match_version_on_objects_object_and_manifest(vigil):
    coll = vigil.collection()
    o, added = three_versions(vigil, coll)
    oid = o["id"]

    def versions(path, value=None):
        r = vigil.get(path, params={"match[version]": value} if value else None)
        assert r.status_code == 200, r.text
        return [x.get("modified", x.get("version")) for x in r.json().get("objects", [])]

    for path in (objects_url(coll), objects_url(coll, oid), manifest_url(coll)):
        assert versions(path) == [T3]  # default: last, by version, not by date_added
        assert versions(path, "last") == [T3]
        assert versions(path, "first") == [T1]
        assert versions(path, "all") == [T2, T1, T3]  # sorted by date_added (3.3)
        assert versions(path, "first,last") == [T1, T3]
        assert versions(path, T2) == [T2]
        assert versions(path, f"{T2},{T1}") == [T2, T1]
        assert versions(path, f"first,{T2}") == [T2, T1]
        assert versions(path, "2024-03-18T02:00:00Z") == [T1]  # same instant, other text
    assert vigil.get(objects_url(coll), params={"match[version]": "2001-01-01T00:00:00Z"}
                     ).json() == {}
    assert_error(vigil.get(objects_url(coll, oid),
                           params={"match[version]": "2001-01-01T00:00:00Z"}), 404)
    r = vigil.get(objects_url(coll, oid, versions=True))
    assert r.status_code == 200 and is_taxii(r)
    body = r.json()
    assert body == {"versions": [T2, T1, T3], "more": False}
    assert r.headers["X-TAXII-Date-Added-First"] == added[T2]
    assert r.headers["X-TAXII-Date-Added-Last"] == added[T3]
    # "last" is chosen before added_after filters: after v3 was added, nothing is newer
    assert vigil.get(objects_url(coll), params={"added_after": added[T3]}).json() == {}
    # ... and after v1's date_added, the latest version (v3) is the only match
    r = vigil.get(objects_url(coll), params={"added_after": added[T1]})
    assert [x["modified"] for x in r.json()["objects"]] == [T3]


def test_versions_endpoint_pages(vigil):
    coll = vigil.collection()
    o, added = three_versions(vigil, coll)
    url = objects_url(coll, o["id"], versions=True)
    r1 = vigil.get(url, params={"limit": 2})
    b1 = r1.json()
    assert b1["versions"] == [T2, T1] and b1["more"] is True and b1["next"]
    assert r1.headers["X-TAXII-Date-Added-Last"] == added[T1]
    r2 = vigil.get(url, params={"limit": 2, "next": b1["next"]})
    assert r2.json() == {"versions": [T3], "more": False}
    assert r2.headers["X-TAXII-Date-Added-First"] == added[T3]
    r = vigil.get(url, params={"added_after": added[T2]})
    assert r.json()["versions"] == [T1, T3]
    assert vigil.get(url, params={"match[spec_version]": "2.1"}).json()["versions"] == [T2, T1,
                                                                                      T3]
    assert_error(vigil.get(url, params={"match[spec_version]": "2.0"}), 404)
    assert_error(vigil.get(objects_url(coll, indicator()["id"], versions=True)), 404)
    assert_error(vigil.get(url, params={"match[version]": "all"}), 400)


def test_manifest_records(vigil):
    coll = vigil.collection()
    objs = [indicator(i) for i in range(3)]
    post_ok(vigil, coll, *objs)
    r = vigil.get(manifest_url(coll))
    assert r.status_code == 200 and is_taxii(r)
    body = r.json()
    assert body["more"] is False and "next" not in body
    recs = body["objects"]
    assert [m["id"] for m in recs] == [o["id"] for o in objs]
    for m, o in zip(recs, objs):
        assert set(m) == {"id", "date_added", "version", "media_type"}
        assert TS6.match(m["date_added"]) and m["version"] == o["modified"]
        assert m["media_type"] == "application/stix+json;version=2.1"
    dates = [m["date_added"] for m in recs]
    assert dates == sorted(dates) and len(set(dates)) == 3
    assert r.headers["X-TAXII-Date-Added-First"] == dates[0]
    assert r.headers["X-TAXII-Date-Added-Last"] == dates[-1]


# -- filters (3.4) --------------------------------------------------------------------------
def test_match_id_type_spec_version(vigil):
    coll = vigil.collection()
    i1, i2, l1 = indicator(1), indicator(2), location()
    post_ok(vigil, coll, i1, l1, i2)

    def ids(**params):
        r = vigil.get(objects_url(coll), params=params)
        assert r.status_code == 200, r.text
        return [o["id"] for o in r.json().get("objects", [])]

    assert ids() == [i1["id"], l1["id"], i2["id"]]
    assert ids(**{"match[type]": "indicator"}) == [i1["id"], i2["id"]]
    assert ids(**{"match[type]": "location,indicator"}) == [i1["id"], l1["id"], i2["id"]]
    assert ids(**{"match[type]": "malware"}) == []  # a STIX type, none stored: not an error
    assert ids(**{"match[type]": "x-custom-thing"}) == []
    assert ids(**{"match[id]": l1["id"]}) == [l1["id"]]
    assert ids(**{"match[id]": f"{i2['id']},{l1['id']}"}) == [l1["id"], i2["id"]]
    assert ids(**{"match[id]": i1["id"], "match[type]": "location"}) == []  # ANDed
    assert ids(**{"match[spec_version]": "2.1"}) == [i1["id"], l1["id"], i2["id"]]
    assert ids(**{"match[spec_version]": "2.0"}) == []
    assert ids(**{"match[spec_version]": "2.0,2.1", "match[type]": "location"}) == [l1["id"]]
    # 3.4: unknown match fields may be ignored
    assert ids(**{"match[x_acme_score]": "high"}) == [i1["id"], l1["id"], i2["id"]]
    m = [x["id"] for x in manifest(vigil, coll, **{"match[type]": "indicator"})]
    assert m == [i1["id"], i2["id"]]  # manifest filters on the objects (5.3)


def test_added_after_is_exclusive_and_headers_match(vigil):
    coll = vigil.collection()
    objs = [indicator(i) for i in range(5)]
    post_ok(vigil, coll, *objs)
    recs = manifest(vigil, coll)
    r = vigil.get(objects_url(coll), params={"added_after": recs[1]["date_added"]})
    assert [o["id"] for o in r.json()["objects"]] == [o["id"] for o in objs[2:]]
    assert r.headers["X-TAXII-Date-Added-First"] == recs[2]["date_added"]
    assert r.headers["X-TAXII-Date-Added-Last"] == recs[4]["date_added"]
    r = vigil.get(manifest_url(coll), params={"added_after": recs[4]["date_added"]})
    assert r.status_code == 200 and r.json() == {}
    assert r.headers["X-TAXII-Date-Added-First"] == recs[4]["date_added"]
    assert r.headers["X-TAXII-Date-Added-Last"] == recs[4]["date_added"]
    # an object by id honours added_after too
    oid = objs[0]["id"]
    assert vigil.get(objects_url(coll, oid), params={"added_after": recs[0]["date_added"]}
                     ).status_code == 404
    ok = vigil.get(objects_url(coll, oid), params={"added_after": "2000-01-01T00:00:00Z"})
    assert ok.json()["objects"] == [objs[0]]
    assert ok.headers["X-TAXII-Date-Added-First"] == recs[0]["date_added"]


def test_empty_answers_are_empty_objects_with_headers(vigil):
    coll = vigil.collection("alerts")
    for url in (objects_url(coll), manifest_url(coll)):
        r = vigil.get(url)
        assert r.status_code == 200 and is_taxii(r)
        assert r.json() == {}
        assert TS6.match(r.headers["X-TAXII-Date-Added-First"])
        assert TS6.match(r.headers["X-TAXII-Date-Added-Last"])
    oid = indicator()["id"]
    assert_error(vigil.get(objects_url(coll, oid)), 404)
    assert_error(vigil.get(objects_url(coll, oid, versions=True)), 404)
    assert_error(vigil.get(objects_url(coll, "not-an-id")), 404)


def test_limit(vigil):
    coll = vigil.collection()
    post_ok(vigil, coll, *[indicator(i) for i in range(10)])
    r = vigil.get(objects_url(coll), params={"limit": 3})
    b = r.json()
    assert len(b["objects"]) == 3 and b["more"] is True and b["next"]
    r = vigil.get(objects_url(coll), params={"limit": 10})
    assert len(r.json()["objects"]) == 10 and r.json()["more"] is False
    assert "next" not in r.json()
    r = vigil.get(objects_url(coll), params={"limit": 1000000})  # above page_max: clamped
    assert len(r.json()["objects"]) == 10


def test_malformed_parameters_are_400(vigil):
    coll = vigil.collection()
    o = indicator()
    post_ok(vigil, coll, o)
    obj = objects_url(coll, o["id"])
    cases = [
        (objects_url(coll), [("limit", "0")]),
        (objects_url(coll), [("limit", "-1")]),
        (objects_url(coll), [("limit", "ten")]),
        (objects_url(coll), [("limit", "")]),
        (objects_url(coll), [("limit", " 5")]),
        (objects_url(coll), [("added_after", "yesterday")]),
        (objects_url(coll), [("added_after", "")]),
        (objects_url(coll), [("added_after", "2024-01-01T00:00:00Z")] * 2),
        (objects_url(coll), [("match[type]", "indicator"), ("match[type]", "location")]),
        (objects_url(coll), [("match[type]", "indicator,,location")]),
        (objects_url(coll), [("match[type]", "")]),
        (objects_url(coll), [("match[id]", "indicator--nope")]),
        (objects_url(coll), [("match[version]", "all,last")]),
        (objects_url(coll), [("match[version]", "last,last")]),
        (objects_url(coll), [("match[version]", f"{T1},{T1}")]),
        (objects_url(coll), [("match[version]", "newest")]),
        (objects_url(coll), [("frobnicate", "1")]),
        (manifest_url(coll), [("match[version]", "first,all")]),
        (manifest_url(coll), [("next", "")]),
        (obj, [("match[id]", o["id"])]),
        (obj, [("match[type]", "indicator")]),
        (objects_url(coll, o["id"], True), [("match[version]", "last")]),
        (objects_url(coll, o["id"], True), [("match[type]", "indicator")]),
    ]
    for url, params in cases:
        r = vigil.get(url, params=params)
        body = assert_error(r, 400)
        assert body.get("description"), (url, params)
    for params in ([("added_after", "2024-01-01T00:00:00Z")], [("limit", "1")],
                   [("match[version]", "all,first")]):
        assert_error(vigil.request("DELETE", obj, params=params), 400)
    assert vigil.get(obj).status_code == 200  # nothing was deleted


# -- pagination and cursors (3.5) ---------------------------------------------------------
def walk(v, url, token=None, limit=37, **filters):
    """Follows next with the same filters, like taxii2-client's as_pages. Returns the pages
    as (body, headers)."""
    pages = []
    params = dict(filters, limit=limit)
    while True:
        r = v.get(url, token=token, params=params)
        assert r.status_code == 200, r.text
        pages.append((r.json(), r.headers))
        if not r.json().get("more"):
            return pages
        params = dict(filters, limit=limit, next=r.json()["next"])


def test_cursor_is_bound_to_its_filters_and_sealed(vigil):
    ta, tb = partners(vigil)
    coll = vigil.collection()
    post_ok(vigil, coll, *[indicator(i) for i in range(6)], token=ta)
    f = {"match[type]": "indicator", "added_after": "2000-01-01T00:00:00Z"}
    first = vigil.get(objects_url(coll), token=ta, params=dict(f, limit=2)).json()
    cur = first["next"]
    # same filters, another limit, another parameter order: fine
    ok = vigil.get(objects_url(coll), token=ta,
                   params=[("added_after", f["added_after"]), ("next", cur), ("limit", "3"),
                           ("match[type]", "indicator")])
    assert ok.status_code == 200 and len(ok.json()["objects"]) == 3
    flipped = cur[:5] + ("A" if cur[5] != "A" else "B") + cur[6:]
    bad = [
        (objects_url(coll), ta, dict(f, next=flipped)),
        (objects_url(coll), ta, dict(f, next="AAAA")),
        (objects_url(coll), ta, dict(f, next=cur + "A")),
        (objects_url(coll), ta, {"match[type]": "indicator", "next": cur}),
        (objects_url(coll), ta, dict(f, next=cur, **{"match[type]": "location"})),
        (objects_url(coll), ta, dict(f, next=cur, **{"match[version]": "all"})),
        (manifest_url(coll), ta, dict(f, next=cur)),
        (objects_url(vigil.collection("alerts")), ta, dict(f, next=cur)),
        (objects_url(coll), tb, dict(f, next=cur)),  # another user's cursor
    ]
    for url, tok, params in bad:
        assert_error(vigil.get(url, token=tok, params=params), 400)
    # a cursor does not expire: it still works after a restart
    vigil.stop()
    vigil.start()
    r = vigil.get(objects_url(coll), token=ta, params=dict(f, next=cur, limit=100))
    assert r.status_code == 200 and len(r.json()["objects"]) == 4


def test_pagination_with_concurrent_writes_skips_and_repeats_nothing(vigil):
    coll = vigil.collection()
    before = [indicator(i) for i in range(1000)]
    for k in range(0, 1000, 250):
        post_ok(vigil, coll, *before[k:k + 250])
    stop = threading.Event()
    added, errors = [], []

    def writer():
        n = 0
        while not stop.is_set():
            batch = [indicator(5000 + n + i) for i in range(5)]
            n += 5
            try:
                r = post(vigil, coll, *batch)
                if r.status_code != 202:
                    errors.append(r.text)
                added.extend(o["id"] for o in batch)
                # and new versions of objects the writer made itself
                r = post(vigil, coll, new_version(batch[0], "2024-04-01T00:00:00.000Z"))
                if r.status_code != 202:
                    errors.append(r.text)
            except requests.RequestException as e:
                errors.append(str(e))

    t = threading.Thread(target=writer)
    t.start()
    try:
        obj_pages = walk(vigil, objects_url(coll), limit=37)
        man_pages = walk(vigil, manifest_url(coll), limit=37, **{"match[version]": "all"})
    finally:
        stop.set()
        t.join()
    assert not errors, errors[:3]
    assert added, "the writer wrote nothing during the walk"

    seen = [(o["id"], o["modified"]) for body, _ in obj_pages for o in body.get("objects", [])]
    assert len(seen) == len(set(seen)), "an object version was served twice"
    ids = [i for i, _ in seen]
    for o in before:
        assert ids.count(o["id"]) == 1, o["id"]
    for body, _ in obj_pages[:-1]:
        assert len(body["objects"]) == 37 and body["more"] is True
    assert len(obj_pages) >= 1000 // 37

    last = ""
    man_seen = []
    for body, headers in man_pages:
        recs = body.get("objects", [])
        if not recs:
            continue
        assert headers["X-TAXII-Date-Added-First"] == recs[0]["date_added"]
        assert headers["X-TAXII-Date-Added-Last"] == recs[-1]["date_added"]
        for m in recs:
            assert m["date_added"] > last, "date_added not strictly increasing across pages"
            last = m["date_added"]
            man_seen.append((m["id"], m["version"]))
    assert len(man_seen) == len(set(man_seen))
    man_ids = {i for i, _ in man_seen}
    assert all(o["id"] in man_ids for o in before)


# -- visibility (S3): what a partner may not read does not exist for it -------------------
def test_red_object_of_another_partner_is_invisible_everywhere(vigil):
    ta, tb = partners(vigil)
    coll = vigil.collection()
    g1 = indicator(1, markings=[TLP_GREEN])
    g2 = indicator(2, markings=[TLP_GREEN])
    red = indicator(3, markings=[TLP_RED])
    post_ok(vigil, coll, g1, token=ta)
    post_ok(vigil, coll, g2, token=ta)
    post_ok(vigil, coll, red, new_version(red, T3), token=ta)
    recs_a = manifest(vigil, coll, token=ta)
    assert [m["id"] for m in recs_a] == [g1["id"], g2["id"], red["id"]]

    # listings: absent; the last visible page says more=false and its headers end at g2
    r = vigil.get(objects_url(coll), token=tb, params={"limit": 2})
    assert [o["id"] for o in r.json()["objects"]] == [g1["id"], g2["id"]]
    assert r.json()["more"] is False and "next" not in r.json()
    assert r.headers["X-TAXII-Date-Added-Last"] == recs_a[1]["date_added"]
    assert [m["id"] for m in manifest(vigil, coll, token=tb, **{"match[version]": "all"})] \
        == [g1["id"], g2["id"]]
    assert vigil.get(objects_url(coll), token=tb, params={"match[id]": red["id"]}).json() == {}
    after = vigil.get(manifest_url(coll), token=tb,
                      params={"added_after": recs_a[1]["date_added"]})
    assert after.json() == {}
    assert after.headers["X-TAXII-Date-Added-Last"] == recs_a[1]["date_added"]

    # by id, versions, delete: exactly what a missing object answers
    ghost = indicator()["id"]
    for suffix in ("", "versions/"):
        seen = vigil.get(objects_url(coll, red["id"]) + suffix, token=tb)
        missing = vigil.get(objects_url(coll, ghost) + suffix, token=tb)
        assert_error(seen, 404)
        assert seen.json() == missing.json()
    d_red = vigil.request("DELETE", objects_url(coll, red["id"]), token=tb)
    d_missing = vigil.request("DELETE", objects_url(coll, ghost), token=tb)
    assert_error(d_red, 404)
    assert d_red.json() == d_missing.json()
    # the owner still sees both versions
    r = vigil.get(objects_url(coll, red["id"], versions=True), token=ta)
    assert r.json()["versions"] == [red["modified"], T3]


def test_another_partner_cannot_version_or_delete_an_object(vigil):
    ta, tb = partners(vigil)
    coll = vigil.collection()
    o = indicator(1, markings=[TLP_GREEN])
    post_ok(vigil, coll, o, token=ta)
    r = post(vigil, coll, new_version(o, T3), token=tb)
    assert r.status_code == 202
    st = r.json()
    assert st["success_count"] == 0 and st["failure_count"] == 1
    assert st["failures"][0]["id"] == o["id"] and st["failures"][0]["version"] == T3
    assert_error(vigil.request("DELETE", objects_url(coll, o["id"]), token=tb), 403)
    r = vigil.get(objects_url(coll, o["id"], versions=True), token=ta)
    assert r.json()["versions"] == [o["modified"]]
    assert vigil.get(objects_url(coll, o["id"]), token=tb).json()["objects"] == [o]


# -- delete (5.7) --------------------------------------------------------------------------
def test_delete(vigil):
    coll = vigil.collection()
    o, _ = three_versions(vigil, coll)
    url = objects_url(coll, o["id"])
    r = vigil.request("DELETE", url, params={"match[version]": "first"})
    assert r.status_code == 200 and is_taxii(r) and r.content == b""
    assert vigil.get(url + "versions/").json()["versions"] == [T2, T3]
    assert_error(vigil.get(url, params={"match[version]": T1}), 404)
    assert_error(vigil.request("DELETE", url, params={"match[version]": T1}), 404)
    assert vigil.request("DELETE", url, params={"match[version]": T3}).status_code == 200
    assert [x["modified"] for x in vigil.get(url).json()["objects"]] == [T2]  # new last
    other = indicator(4)
    post_ok(vigil, coll, other)
    assert vigil.request("DELETE", url).status_code == 200  # no filter: every version
    assert_error(vigil.get(url), 404)
    assert_error(vigil.get(url + "versions/"), 404)
    assert [m["id"] for m in manifest(vigil, coll, **{"match[version]": "all"})] == [
        other["id"]]
    assert_error(vigil.request("DELETE", url), 404)
    assert_error(vigil.request("DELETE", objects_url(coll, "nonsense")), 404)


def test_delete_many_versions(vigil):
    coll = vigil.collection()
    o = indicator(1)
    vers = [f"2024-05-01T00:{m // 60:02d}:{m % 60:02d}.000Z" for m in range(150)]
    post_ok(vigil, coll, *[new_version(o, m) for m in vers])
    assert vigil.request("DELETE", objects_url(coll, o["id"])).status_code == 200
    assert manifest(vigil, coll, **{"match[version]": "all"}) == []


# -- a client like the OASIS taxii2-client (v21) ------------------------------------------
class Taxii2Client:
    """What taxii2-client does on the wire: Basic auth with user name and token; Accept
    application/taxii+json;version=2.1 on every request; the answer's Content-Type must carry
    every token of the Accept; as_pages follows next with the same filters; add_objects posts
    an envelope and polls the status until complete."""

    def __init__(self, base, user, password):
        self.base = base
        self.s = requests.Session()
        self.s.auth = requests.auth.HTTPBasicAuth(user, password)
        self.s.headers["User-Agent"] = "taxii2-client/2.3.0"

    def get(self, url, **params):
        params = {k: v for k, v in params.items() if v}  # taxii2-client drops empty values
        r = self.s.get(url, headers={"Accept": TAXII}, params=params)
        r.raise_for_status()
        ct = r.headers["Content-Type"].replace(" ", "").split(";")
        assert all(t in ct for t in TAXII.split(";")) and ct[0] == "application/taxii+json"
        return r

    def as_pages(self, url, per_request, **filters):
        env = self.get(url, limit=per_request, **filters).json()
        yield env
        while env.get("more", False):
            env = self.get(url, limit=per_request, next=env.get("next", ""), **filters).json()
            yield env

    def add_objects(self, objects_url_, objs, status_root):
        r = self.s.post(objects_url_, data=__import__("json").dumps(envelope(*objs)),
                        headers={"Accept": TAXII, "Content-Type": TAXII})
        r.raise_for_status()
        status = r.json()
        for _ in range(60):
            if status["status"] == "complete":
                break
            status = self.get(f"{status_root}status/{status['id']}/").json()
        c = status
        assert c["success_count"] + c["failure_count"] + c["pending_count"] == c["total_count"]
        for k, n in (("successes", "success_count"), ("failures", "failure_count"),
                     ("pendings", "pending_count")):
            if c.get(k):
                assert len(c[k]) == c[n]
        return status

    def delete(self, url, **params):
        r = self.s.delete(url, headers={"Accept": TAXII}, params=params)
        r.raise_for_status()
        return r


def test_taxii2_client_flow(vigil):
    vigil.partner("Alpha")
    token = vigil.user("Alpha", "alice")
    c = Taxii2Client(vigil.url, "alice", token)
    server = urllib.parse.urljoin(vigil.url, "/taxii2/")
    disc = c.get(server).json()
    root = urllib.parse.urljoin(server, disc["default"])
    assert root == urllib.parse.urljoin(server, disc["api_roots"][0])
    info = c.get(root).json()
    assert TAXII in info["versions"]
    cols = c.get(root + "collections/").json()["collections"]
    rep = next(x for x in cols if x["title"] == "Reports")
    col_url = f"{root}collections/{rep['id']}/"
    assert c.get(col_url).json()["can_write"] is True

    objs = [indicator(i) for i in range(25)] + [location()]
    st = c.add_objects(col_url + "objects/", objs, root)
    assert st["status"] == "complete" and st["success_count"] == 26

    got = []
    pages = list(c.as_pages(col_url + "objects/", 10, **{"match[type]": "indicator"}))
    assert len(pages) == 3
    for env in pages:
        got += [o["id"] for o in env.get("objects", [])]
    assert got == [o["id"] for o in objs[:25]]
    man = [m["id"] for env in c.as_pages(col_url + "manifest/", 0) for m in env["objects"]]
    assert len(man) == 26
    one = c.get(col_url + f"objects/{objs[0]['id']}/").json()
    assert one["objects"] == [objs[0]]
    vers = c.get(col_url + f"objects/{objs[0]['id']}/versions/").json()
    assert vers["versions"] == [objs[0]["modified"]]
    c.delete(col_url + f"objects/{objs[0]['id']}/")
    r = c.s.get(col_url + f"objects/{objs[0]['id']}/", headers={"Accept": TAXII})
    assert r.status_code == 404
    # wrong password: 401 with a Basic challenge
    r = requests.get(root, headers={"Accept": TAXII, "Authorization": basic("alice", "x")})
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
