"""TAXII 2.1 / STIX 2.1 as the partners' tools expect it (issue #22), written as a client of the
specifications: the alerts collection pages by added_after with stable date_added and
headers that match the records (TAXII 3.2, 3.4.2); one (id, modified) is one content for
every reader (STIX 3.6); a STIX bundle is accepted as an envelope (python-stix2's sink);
no null and no empty list is emitted (STIX 3.1); the alerts collection answers versions and
match[version] / match[spec_version]; a missing trailing slash is redirected (308)."""
import json
import re
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
        for o in objs:
            assert_no_null_or_empty(o)
            seen.setdefault((o["id"], o["modified"]), []).append(
                (who, o["context"], json.dumps(o, sort_keys=True)))
        assert len([o for o in objs if o["context"] == "suspicious-activity"]) == 1
    for key, views in seen.items():
        assert len({text for _, _, text in views}) == 1, (key, views)
    by = {who: key for key, views in seen.items() for who, ctx, _ in views
          if ctx == "suspicious-activity"}
    assert by["Egypt"] == by["Observer"] and by["Qatar"] == by["cc"]
    assert by["Egypt"][0] == by["cc"][0] and by["Egypt"][1] != by["cc"][1]  # two versions


def test_every_version_of_an_alert_keeps_one_created(vigil):
    """Qatar's AMBER movement makes the alert for Qatar and the CC before Observer's GREEN one
    makes it for everyone: two views that came into being at different times. STIX 2.1 3.6:
    versions of one id share their created; and neither view's own time may leak into the
    other's."""
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar", "Observer")}
    post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="amber", title="Armour massing"))
    assert wait_alerts(vigil, t["Qatar"])
    time.sleep(0.05)  # the next report is accepted in a later millisecond
    post(vigil, t["Observer"], dict(MOVEMENT, marking="green"))
    for p in t:
        assert wait_alerts(vigil, t[p]), p
    coll = vigil.collection("alerts")
    versions = {}
    for who, tok in [("cc", None)] + list(t.items()):
        for o in vigil.get(objects_url(coll), token=tok).json()["objects"]:
            if o["context"] == "suspicious-activity":
                versions[who] = o
    assert versions["Egypt"]["id"] == versions["Qatar"]["id"]
    assert versions["Egypt"]["modified"] != versions["Qatar"]["modified"]
    assert len({o["created"] for o in versions.values()}) == 1, versions
    assert all(o["created"] <= o["modified"] for o in versions.values())


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
    # by id, as on a stored collection: nothing selected is 404
    one = vigil.get(objects_url(coll, o["id"]), params={"match[version]": "2020-01-01T00:00:00Z"})
    assert one.status_code == 404
    one = vigil.get(objects_url(coll, o["id"]), params={"match[version]": o["modified"]})
    assert one.status_code == 200 and one.json()["objects"] == [o]


# ---- references resolve (item 4) ----------------------------------------------------------

# The TLP marking-definitions are OASIS's, not the hub's: STIX 2.1 (7.2.1.4) predefines the
# TLP 1.0 ones, and OASIS publishes the TLP 2.0 ones Vigil uses (stix/stix.h) with their
# extension. The hub does not republish them (docs/STIX-PROFILE.md).
PREDEFINED = {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
              "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
              "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
              "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
              "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
              "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
              "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
              "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
              "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}


def references(o):
    """Every id o refers to: *_ref, *_refs, and the extension-definitions of its extensions."""
    for path, x in walk(o):
        key = path.rsplit(".", 1)[-1].split("[")[0]
        if key.endswith("_ref") and isinstance(x, str):
            yield x
        elif key.endswith("_refs") and isinstance(x, list):
            yield from (r for r in x if isinstance(r, str))
    for k in (o.get("extensions") or {}):
        if k.startswith("extension-definition--"):
            yield k


def readable(vigil, token, texts=None):
    """Every object token can read, by id, over all the collections it can read; and into
    texts, (id, modified or created) -> the set of its serialisations seen."""
    got = {}
    texts = {} if texts is None else texts
    for c in vigil.get("/taxii2/api/collections/", token=token).json()["collections"]:
        url = objects_url(c["id"])
        nxt = None
        while True:
            r = vigil.get(url, token=token, params={"next": nxt} if nxt else {})
            assert r.status_code == 200, r.text
            body = r.json()
            for o in body.get("objects", []):
                got.setdefault(o["id"], o)
                texts.setdefault((o["id"], o.get("modified", o.get("created"))), set()).add(
                    json.dumps(o, sort_keys=True))
            nxt = body.get("next")
            if not nxt:
                break
    return got


def test_every_reference_of_every_object_resolves_for_its_reader(vigil):
    t = a_full_hub(vigil)
    defs = [c["id"] for c in vigil.get("/taxii2/api/collections/").json()["collections"]
            if c["title"] == "Definitions"][0]
    seen_group, texts, types = {}, {}, set()
    for who, tok in [("cc", None)] + list(t.items()):
        objs = readable(vigil, tok, texts)
        assert objs
        types |= {(o["type"], o.get("context")) for o in objs.values()}
        for o in objs.values():
            assert_no_null_or_empty(o)
            if o["type"] == "location":  # STIX 2.1 4.11: one of these is required
                assert "region" in o or "country" in o or (
                    "latitude" in o and "longitude" in o), o
            if o["type"] == "grouping":  # 4.7: context and object_refs are required
                assert o["context"] and o["object_refs"], o
            for ref in references(o):
                assert ref in objs or ref in PREDEFINED, (who, o["id"], ref)
        marks = {i for i, o in objs.items() if o["type"] == "marking-definition"}
        seen_group[who] = marks
        # the definitions are read-only
        assert vigil.post(objects_url(defs), token=tok,
                          json=envelope(indicator())).status_code == 403
    # What is checked covers each kind of object the hub makes.
    assert {("report", None), ("location", None), ("grouping", "suspicious-activity"),
            ("grouping", "fused-incident"), ("grouping", "ceasefire-agreement"),
            ("identity", None), ("extension-definition", None),
            ("marking-definition", None)} <= types
    # One (id, modified), one content: for every reader, in every collection.
    for key, seen in texts.items():
        assert len(seen) == 1, (key, seen)
    # Every version of one id keeps its created (STIX 2.1 3.6), whichever reader got it.
    created = {}
    for (oid, _), seen in texts.items():
        created.setdefault(oid, set()).update(json.loads(t).get("created") for t in seen)
    assert all(len(c) == 1 for c in created.values()), {
        i: c for i, c in created.items() if len(c) > 1}
    # Named areas: Egypt's AMBER report names Rafah crossing, Qatar's GREEN Beit Hanoun.
    for who, tok in [("cc", None)] + list(t.items()):
        mine = {o["name"] for o in readable(vigil, tok).values()
                if o["type"] == "location" and o.get("country") == "ZZ"}
        assert mine == ({"Rafah crossing", "Beit Hanoun"} if who in ("cc", "Egypt")
                        else {"Beit Hanoun"}), who
    # A sharing group's marking-definition goes to its members only.
    assert seen_group["Egypt"] == seen_group["cc"] and len(seen_group["cc"]) == 1
    assert seen_group["Qatar"] == seen_group["Observer"] == set()
    # The extension's schema is a JSON Schema the hub serves.
    for ext in ("extension-definition--be8a5059-3b81-42f3-91f3-60b9db4ffdb0",
                "extension-definition--7a0f1c2e-4b8d-4e51-9c3a-6f2d8e1b5a90"):
        o = vigil.get(objects_url(defs, ext)).json()["objects"][0]
        r = vigil.get(o["schema"], auth=False)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(
            "application/schema+json")
        schema = r.json()
        assert schema["$schema"].startswith("https://json-schema.org/") and schema["properties"]
    assert vigil.get("/stix/schemas/nope.json", auth=False).status_code == 404


# ---- JSON Schemas (item 4: "a real JSON Schema served by the hub") ------------------------

DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def schema_errors(s, v, path="$"):
    """The errors of v against JSON Schema s, for the keywords the hub's schemas use (a
    client-side check written from JSON Schema 2020-12; unknown keywords are annotations)."""
    errs = []
    if "oneOf" in s:
        ok = [sub for sub in s["oneOf"] if not schema_errors(sub, v, path)]
        if len(ok) != 1:
            errs.append(f"{path}: matches {len(ok)} of oneOf")
    if "const" in s and v != s["const"]:
        errs.append(f"{path}: not {s['const']!r}")
    if "enum" in s and v not in s["enum"]:
        errs.append(f"{path}: {v!r} not in enum")
    if "type" in s:
        want = s["type"] if isinstance(s["type"], list) else [s["type"]]

        def is_a(t):
            if t == "integer":
                return isinstance(v, int) and not isinstance(v, bool)
            if t == "number":
                return isinstance(v, (int, float)) and not isinstance(v, bool)
            return isinstance(v, TYPES[t]) and not (t != "boolean" and isinstance(v, bool))
        if not any(is_a(t) for t in want):
            return errs + [f"{path}: {v!r} is not {want}"]
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                errs.append(f"{path}: {k} required")
        props = s.get("properties", {})
        for k, x in v.items():
            if k in props:
                errs += schema_errors(props[k], x, f"{path}.{k}")
            elif s.get("additionalProperties") is False:
                errs.append(f"{path}: {k} not allowed")
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            errs += schema_errors(s["items"], x, f"{path}[{i}]")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            errs.append(f"{path}: below {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            errs.append(f"{path}: above {s['maximum']}")
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0):
            errs.append(f"{path}: too short")
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append(f"{path}: does not match {s['pattern']}")
        if s.get("format") == "date-time" and not DATE_TIME.match(v):
            errs.append(f"{path}: not a date-time")
    return errs


def test_the_schema_checker_can_fail():
    s = {"type": "object", "required": ["a"], "additionalProperties": False,
         "properties": {"a": {"oneOf": [{"type": "integer", "minimum": 1},
                                        {"type": "string", "format": "date-time"}]}}}
    assert schema_errors(s, {"a": 2}) == [] and schema_errors(s, {"a": "2025-01-01T00:00:00Z"}) == []
    for bad in ({}, {"a": 0}, {"a": "x"}, {"a": 1, "b": 1}, {"a": True}, []):
        assert schema_errors(s, bad), bad


def a_full_hub(vigil):
    """Reports (a point, a named area, AMBER and GREEN, a sharing group), an agreement, an
    alert and a fused incident, for three partners and the coordination center."""
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar", "Observer")}
    vigil.run("group", "add", "EG-CC", "Egypt", "Coordination Center")
    load(vigil)
    post(vigil, t["Egypt"], dict(WARNING, marking="amber", group="EG-CC"))
    post(vigil, t["Qatar"], dict(MOVEMENT, marking="green"))
    post(vigil, t["Observer"], dict(MOVEMENT, marking="green", title="Armour"))
    post(vigil, t["Observer"], dict(MOVEMENT, marking="amber", title="Tanks"))
    post(vigil, t["Egypt"], dict(AREA_REPORT, marking="amber"))
    post(vigil, t["Qatar"], dict(AREA_REPORT, marking="green", location={"area": "Beit Hanoun"}))
    assert wait_alerts(vigil, vigil.admin_token)
    time.sleep(0.5)
    return t


AREA_REPORT = {"event": "ASSAULT", "mode": "heavy-weapons", "start": "2025-10-20T06:00:00Z",
               "location": {"area": "Rafah crossing"}, "reliability": "C", "credibility": 3}


def test_every_extension_names_a_json_schema_the_hub_serves_and_follows_it(vigil):
    a_full_hub(vigil)
    objs = readable(vigil, None)
    defs = {i: o for i, o in objs.items() if o["type"] == "extension-definition"}
    assert len(defs) == 4  # event report, alert, incident, compliance
    schemas = {}
    for i, d in defs.items():
        assert d["schema"].startswith("/stix/schemas/"), d  # served here, not a placeholder
        r = vigil.get(d["schema"], auth=False)
        assert r.status_code == 200, d["schema"]
        assert r.headers["Content-Type"].startswith("application/schema+json")
        schemas[i] = r.json()
        assert schemas[i]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    used = set()
    for o in objs.values():
        for k, body in (o.get("extensions") or {}).items():
            used.add(k)
            assert schema_errors(schemas[k], body) == [], (o["id"], k)
    assert used == set(defs)  # each is used by something the hub emits, and checked


# ---- named areas (item 4) -----------------------------------------------------------------

def area_id(name):
    return "location--" + str(uuid.uuid5(uuid.UUID("43b4d670-2806-444e-8df2-7bcc5e7dcd21"),
                                         "area:" + name))


def defs_get(vigil, token, oid):
    defs = vigil.collection("definitions")
    return vigil.get(objects_url(defs, oid), token=token)


def test_a_named_areas_location_goes_to_who_may_read_a_report_naming_it(vigil):
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar", "Observer")}
    lid = area_id("Rafah crossing")
    assert lid == "location--" + str(uuid.uuid5(uuid.UUID(
        "43b4d670-2806-444e-8df2-7bcc5e7dcd21"), "area:Rafah crossing"))
    rid = post(vigil, t["Egypt"], dict(AREA_REPORT, marking="amber"))
    reports = vigil.collection("reports")
    rep = vigil.get(objects_url(reports, rid), token=t["Egypt"]).json()["objects"][0]
    assert rep["object_refs"] == [lid]
    # Egypt (the author) and the coordination center get it, marked as the report is.
    mine = defs_get(vigil, t["Egypt"], lid)
    assert mine.status_code == 200, mine.text
    loc = mine.json()["objects"][0]
    assert loc["name"] == "Rafah crossing" and loc["country"] == "ZZ"
    assert "latitude" not in loc and loc["created_by_ref"].startswith("identity--")
    assert loc["object_marking_refs"] == [AMBER]
    assert_no_null_or_empty(loc)
    cc = defs_get(vigil, None, lid).json()["objects"][0]
    assert cc == loc  # one handling seen, one version, the same bytes
    # The attack: Observer and Qatar cannot read the report; the area's name (which the
    # report alone reveals) is not theirs to learn, by id or by listing.
    for who in ("Observer", "Qatar"):
        assert defs_get(vigil, t[who], lid).status_code == 404
        assert lid not in readable(vigil, t[who])
    # Qatar reports the same area at GREEN: now everyone may read a report naming it, and
    # everyone gets the same version, marked GREEN (the loosest handling of what each sees).
    qid = post(vigil, t["Qatar"], dict(AREA_REPORT, marking="green"))
    views = {who: defs_get(vigil, tok, lid) for who, tok in [("cc", None)] + list(t.items())}
    assert all(r.status_code == 200 for r in views.values())
    green = {json.dumps(r.json()["objects"][0], sort_keys=True) for r in views.values()}
    assert len(green) == 1
    g = views["Observer"].json()["objects"][0]
    assert g["object_marking_refs"] == [GREEN] and g["modified"] > loc["modified"]
    assert g["created"] == loc["created"]  # for Egypt and the CC it came into being earlier
    # added_after finds the new version for a poller that had the old one.
    defs = vigil.collection("definitions")
    after = vigil.get(objects_url(defs), token=t["Egypt"],
                      params={"added_after": loc["modified"], "match[type]": "location"})
    assert [o["id"] for o in after.json()["objects"]] == [lid]
    # Qatar deletes its report: Observer may read none naming the area any more.
    assert vigil.request("DELETE", objects_url(reports, qid), token=t["Qatar"]).status_code == 200
    assert defs_get(vigil, t["Observer"], lid).status_code == 404
    assert defs_get(vigil, t["Egypt"], lid).json()["objects"][0] == loc


# ---- fused incidents in the alerts collection (#20) ---------------------------------------

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
SHELLING = {"event": "ASSAULT", "mode": "heavy-weapons", "start": "2025-10-14T09:00:00Z",
            "end": "2025-10-14T10:00:00Z", "reliability": "B", "credibility": 2,
            "location": {"lat": 31.40, "lon": 34.35, "precision_m": 200}}


def incidents(vigil, token, **params):
    coll = vigil.collection("alerts")
    r = vigil.get(objects_url(coll), token=token, params=params)
    assert r.status_code == 200, r.text
    return {o["id"]: o for o in r.json().get("objects", []) if o["context"] == "fused-incident"}


def test_an_incident_is_a_grouping_of_the_reports_its_reader_may_read(vigil):
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1") for p in ("Egypt", "Qatar", "Observer")}
    e1 = post(vigil, t["Egypt"], dict(SHELLING, marking="green"))
    o1 = post(vigil, t["Observer"], dict(SHELLING, marking="green", reliability="C"))
    before = {who: incidents(vigil, tok) for who, tok in [("cc", None)] + list(t.items())}
    assert all(len(v) == 1 for v in before.values())
    g = before["Egypt"][f"grouping--{e1.split('--')[1]}"]
    assert all(v == before["Egypt"] for v in before.values())  # one content, one version
    assert g["object_refs"] == [e1, o1] and g["object_marking_refs"] == [GREEN]
    ext = g["extensions"]["extension-definition--aea918a2-7077-4022-9640-2e6758a82086"]
    assert ext["sources"] == 2 and ext["corroborated"] is True and ext["event"] == "ASSAULT"
    assert ext["place"] == {"lat": 31.4, "lon": 34.35}
    assert_no_null_or_empty(g)
    # The REST incident and the grouping are one incident under one UUID.
    rest = vigil.get("/api/v1/incidents", token=t["Egypt"]).json()["incidents"]
    assert [i["id"].split("--")[1] for i in rest] == [g["id"].split("--")[1]]
    assert rest[0]["confidence"] == g["confidence"]
    # The attack: Qatar's AMBER report joins the incident; Egypt and Observer cannot read it,
    # so their grouping must not change at all: not its refs, their count, its confidence,
    # its name, nor its modified (a poller by added_after gets nothing new).
    q1 = post(vigil, t["Qatar"], dict(SHELLING, marking="amber", reliability="A",
                                      credibility=1))
    for who in ("Egypt", "Observer"):
        assert incidents(vigil, t[who]) == before[who], who
        assert incidents(vigil, t[who], added_after=g["modified"]) == {}
    cc = incidents(vigil, None)[g["id"]]
    assert cc["object_refs"] == [e1, o1, q1] and cc["modified"] > g["modified"]
    assert cc["object_marking_refs"] == [AMBER] and cc["confidence"] != g["confidence"]
    assert incidents(vigil, t["Qatar"])[g["id"]] == cc
    coll = vigil.collection("alerts")
    assert vigil.get(objects_url(coll, g["id"], versions=True), token=t["Egypt"]).json()[
        "versions"] == [g["modified"]]
    assert vigil.get(objects_url(coll, g["id"], versions=True)).json()["versions"] == [
        cc["modified"]]
    # A report alone is no incident, and a partner's own report does not name an incident
    # that only a report it cannot read makes: Egypt asks for it by the id it could guess.
    e2 = post(vigil, t["Egypt"], dict(SHELLING, marking="green",
                                      location=dict(SHELLING["location"], lat=31.6)))
    q2 = post(vigil, t["Qatar"], dict(SHELLING, marking="amber",
                                      location=dict(SHELLING["location"], lat=31.6)))
    hidden = f"grouping--{e2.split('--')[1]}"
    assert incidents(vigil, None)[hidden]["object_refs"] == [e2, q2]
    assert hidden not in incidents(vigil, t["Egypt"])
    assert vigil.get(objects_url(coll, hidden), token=t["Egypt"]).status_code == 404
    assert vigil.get(objects_url(coll, hidden, versions=True),
                     token=t["Egypt"]).status_code == 404
    assert vigil.get(f"/taxii2/api/collections/{coll}/manifest/", token=t["Egypt"],
                     params={"match[id]": hidden}).json() == {}


def test_incidents_and_alerts_page_by_added_after_once_each(vigil):
    t = alerts_world(vigil)
    for k in range(4):  # four incidents of two reports each, 20 km apart
        for who in ("Egypt", "Qatar"):
            post(vigil, t[who], dict(SHELLING, marking="green", location=dict(
                SHELLING["location"], lat=31.0 + k / 5)))
    coll = vigil.collection("alerts")
    whole = vigil.get(objects_url(coll)).json()["objects"]
    kinds = [o["context"] for o in whole]
    assert kinds.count("fused-incident") == 5 and kinds.count("suspicious-activity") == 1
    man = vigil.get(f"/taxii2/api/collections/{coll}/manifest/").json()["objects"]
    assert [m["id"] for m in man] == [o["id"] for o in whole]
    assert all(m["date_added"] == m["version"] == o["modified"] for m, o in zip(man, whole))
    got, after = [], None
    for _ in range(20):
        r = vigil.get(objects_url(coll), params={"limit": "2"} | (
            {"added_after": after} if after else {}))
        body = r.json()
        if "objects" not in body:
            break
        got += body["objects"]
        after = r.headers["X-TAXII-Date-Added-Last"]
    assert sorted(json.dumps(o, sort_keys=True) for o in got) == sorted(
        json.dumps(o, sort_keys=True) for o in whole)
    assert len({o["id"] for o in got}) == len(got)


def test_two_users_of_one_partner_get_each_their_own_incidents(vigil):
    """The attack on the kept result: egypt2 is named by a RED group; egypt1, of the same
    partner, asks right after egypt2 and must not get egypt2's incident."""
    for p in ("Egypt", "Qatar"):
        vigil.partner(p)
    e1, e2 = vigil.user("Egypt", "egypt1"), vigil.user("Egypt", "egypt2")
    q = vigil.user("Qatar", "qatar1")
    vigil.run("group", "add", "E2", "user:egypt2", "user:qatar1", "--owner", "Qatar")
    mine = post(vigil, e1, dict(SHELLING, marking="green"))
    red = post(vigil, q, dict(SHELLING, marking="red", group="E2"))
    for _ in range(2):  # each twice: computed, then kept
        assert [g["object_refs"] for g in incidents(vigil, e2).values()] == [[mine, red]]
        assert incidents(vigil, e1) == {}
    coll = vigil.collection("alerts")
    hidden = f"grouping--{mine.split('--')[1]}"
    assert vigil.get(objects_url(coll, hidden), token=e1).status_code == 404
    assert vigil.get(objects_url(coll, hidden), token=e2).status_code == 200
