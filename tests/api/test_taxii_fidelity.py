"""TAXII 2.1 / STIX 2.1 as the partners' tools expect it (issue #22), written as a client of the
specifications: the alerts collection pages by added_after with stable date_added and
headers that match the records (TAXII 3.2, 3.4.2); one (id, modified) is one content for
every reader (STIX 3.6); a STIX bundle is accepted as an envelope (python-stix2's sink);
no null and no empty list is emitted (STIX 3.1); the alerts collection answers versions and
match[version] / match[spec_version]; a missing trailing slash is redirected (308)."""
import json
import time
import uuid

from stix_samples import envelope, indicator
from test_alerts import MOVEMENT, WARNING, post, wait_alerts
from test_compliance import AGREEMENT, load

STIX = "application/stix+json;version=2.1"


def objects_url(coll, oid=None, versions=False):
    u = f"/taxii2/api/collections/{coll}/objects/"
    if oid:
        u += oid + "/"
        if versions:
            u += "versions/"
    return u


def walk(v, path="$"):
    """Every (path, value) of v."""
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from walk(x, f"{path}[{i}]")


def assert_no_null_or_empty(o):
    for path, x in walk(o):
        assert x is not None, f"{o.get('id')}: {path} is null"
        assert x != [], f"{o.get('id')}: {path} is an empty list"


# ---- bundles (item 3) ---------------------------------------------------------------------

def test_a_stix_bundle_is_taken_as_an_envelope_of_its_objects(vigil):
    """python-stix2's TAXIICollectionSink.add posts a bundle; the OASIS server accepts it."""
    coll = vigil.collection()
    a, b = indicator(1), indicator(2)
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [a, b]}
    r = vigil.post(objects_url(coll), json=bundle)
    assert r.status_code == 202, r.text
    st = r.json()
    assert st["success_count"] == 2 and st["failure_count"] == 0
    got = vigil.get(objects_url(coll, a["id"])).json()["objects"]
    assert got == [a]
    # A bundle with something else in it, or a bad id, is still not an envelope.
    for bad in ({"type": "bundle", "id": "bundle--1", "objects": [indicator(3)]},
                {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [indicator(4)],
                 "next": "x"},
                {"type": "indicator", "id": f"bundle--{uuid.uuid4()}", "objects": [indicator()]}):
        assert vigil.post(objects_url(coll), json=bad).status_code == 422, bad


# ---- redirects (item 6) -------------------------------------------------------------------

def test_a_missing_trailing_slash_is_redirected_with_308(vigil):
    coll = vigil.collection()
    o = indicator(5)
    assert vigil.post(objects_url(coll), json=envelope(o)).status_code == 202
    for path, query in ((objects_url(coll, o["id"]), ""),
                        (objects_url(coll, o["id"], versions=True), "?match[spec_version]=2.1"),
                        (f"/taxii2/api/collections/{coll}/", ""),
                        (f"/taxii2/api/collections/{coll}/manifest/", "?limit=3")):
        r = vigil.get(path[:-1] + query, allow_redirects=False)
        assert r.status_code == 308, (path, r.status_code)
        assert r.headers["Location"] == path + query.replace("[", "%5B").replace("]", "%5D")
        followed = vigil.get(path[:-1] + query)
        assert followed.status_code == 200, (path, followed.text)
    r = vigil.request("DELETE", objects_url(coll, o["id"])[:-1], allow_redirects=False)
    assert r.status_code == 308
    assert vigil.get(objects_url(coll, o["id"])).status_code == 200  # nothing was deleted


# ---- null and empty (item 5) --------------------------------------------------------------

def test_an_agreement_without_ends_and_phases_emits_no_null_nor_empty_list(vigil):
    bare = {k: v for k, v in AGREEMENT.items() if k not in ("ends", "phases")}
    bare["zones"] = [dict(z, terms=[{"party": t["party"], "prohibited": t["prohibited"]}
                                    for t in z["terms"] if "phase" not in t])
                     for z in AGREEMENT["zones"]]
    bare["zones"] = [z for z in bare["zones"] if z["terms"]]
    got = load(vigil, bare)
    coll = vigil.collection("compliance")
    objs = vigil.get(objects_url(coll)).json()["objects"]
    assert any(o["id"] == got["id"] for o in objs)
    for o in objs:
        assert_no_null_or_empty(o)
    g = [o for o in objs if o["id"] == got["id"]][0]
    ext = list(g["extensions"].values())[0]
    assert "ends" not in ext and "phases" not in ext and ext["effective"]


# ---- the alerts collection (items 1, 2, 5) ------------------------------------------------

def alerts_world(vigil):
    """One situation seen two ways: the warning and Observer's movement are GREEN (everyone);
    Qatar's movement is AMBER (Qatar and the CC). Egypt and Observer see the same view, Qatar
    and the CC another."""
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar", "Observer")}
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Observer"], dict(MOVEMENT, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="amber", title="Armour massing"))
    assert wait_alerts(vigil, vigil.admin_token)
    for p in t:
        assert wait_alerts(vigil, t[p]), p
    time.sleep(0.5)
    return t


def test_one_id_and_modified_is_one_content_for_every_reader(vigil):
    t = alerts_world(vigil)
    coll = vigil.collection("alerts")
    seen = {}
    for who, tok in [("cc", None)] + list(t.items()):
        r = vigil.get(objects_url(coll), token=tok)
        assert r.status_code == 200, r.text
        objs = r.json()["objects"]
        assert len(objs) == 1
        o = objs[0]
        assert_no_null_or_empty(o)
        seen.setdefault((o["id"], o["modified"]), []).append((who, json.dumps(o,
                                                                              sort_keys=True)))
    for key, views in seen.items():
        assert len({text for _, text in views}) == 1, (key, views)
    by = {who: key for key, views in seen.items() for who, _ in views}
    assert by["Egypt"] == by["Observer"] and by["Qatar"] == by["cc"]
    assert by["Egypt"][0] == by["cc"][0] and by["Egypt"][1] != by["cc"][1]  # two versions


def test_alerts_page_by_added_after_with_stable_date_added(vigil):
    for p in ("Egypt", "Qatar"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar")}
    for k in range(3):  # three situations, 55 km apart
        post(vigil, t["Egypt"], dict(WARNING, marking="green", location=dict(
            WARNING["location"], lat=30.5 + k / 2)))
        post(vigil, t["Qatar"], dict(MOVEMENT, marking="green", location=dict(
            MOVEMENT["location"], lat=30.51 + k / 2)))
    assert len(wait_alerts(vigil, vigil.admin_token, n=3)) == 3
    time.sleep(0.5)
    coll = vigil.collection("alerts")
    man = vigil.get(f"/taxii2/api/collections/{coll}/manifest/")
    records = man.json()["objects"]
    assert len(records) == 3
    added = [m["date_added"] for m in records]
    assert added == sorted(added)
    assert man.headers["X-TAXII-Date-Added-First"] == added[0]
    assert man.headers["X-TAXII-Date-Added-Last"] == added[-1]
    time.sleep(0.05)
    again = vigil.get(f"/taxii2/api/collections/{coll}/manifest/").json()["objects"]
    assert again == records  # not re-stamped at each request
    # A poller walking by added_after, one object a page, gets each once, then nothing.
    got, after = [], None
    for _ in range(10):
        q = {"limit": "1"} | ({"added_after": after} if after else {})
        r = vigil.get(objects_url(coll), params=q)
        assert r.status_code == 200
        body = r.json()
        if "objects" not in body:
            assert r.headers["X-TAXII-Date-Added-Last"] == after
            break
        assert len(body["objects"]) == 1
        rec = [m for m in records if m["id"] == body["objects"][0]["id"]][0]
        assert r.headers["X-TAXII-Date-Added-First"] == rec["date_added"]
        got.append(body["objects"][0]["id"])
        after = r.headers["X-TAXII-Date-Added-Last"]
    assert got == [m["id"] for m in records]
    # next walks the same way.
    p1 = vigil.get(objects_url(coll) + "?limit=2").json()
    p2 = vigil.get(objects_url(coll) + "?limit=2&next=" + p1["next"]).json()
    assert [o["id"] for o in p1["objects"] + p2["objects"]] == got and p2["more"] is False


def test_alerts_answer_versions_and_match_version(vigil):
    for p in ("Egypt", "Qatar"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar")}
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    assert wait_alerts(vigil, vigil.admin_token)
    time.sleep(0.5)
    coll = vigil.collection("alerts")
    o = vigil.get(objects_url(coll)).json()["objects"][0]
    r = vigil.get(objects_url(coll, o["id"], versions=True))
    assert r.status_code == 200, r.text
    assert r.json()["versions"] == [o["modified"]]
    assert vigil.get(objects_url(coll, "grouping--" + str(uuid.uuid4()),
                                 versions=True)).status_code == 404
    for q, n in (({"match[version]": o["modified"]}, 1), ({"match[version]": "first"}, 1),
                 ({"match[version]": "2020-01-01T00:00:00.000Z"}, 0),
                 ({"match[spec_version]": "2.1"}, 1), ({"match[spec_version]": "2.0"}, 0)):
        body = vigil.get(objects_url(coll), params=q).json()
        assert len(body.get("objects", [])) == n, q
    one = vigil.get(objects_url(coll, o["id"]), params={"match[version]": "2020-01-01T00:00:00Z"})
    assert one.status_code == 200 and one.json() == {}
