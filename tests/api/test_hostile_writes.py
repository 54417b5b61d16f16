"""Hostile partners on the WRITE paths (S3 "Ownership", "Hostile partners"; docs/ACCESS.md):
a partner with a valid token tries to change, shadow or block another partner's data, to
write under another partner's identity, or to learn from a write's answer what it may not
see. Each test is the attack and asserts the safe outcome (so it fails while the hole is
open)."""
import json
import uuid

import pytest

from stix_samples import TLP_GREEN, TLP_RED, envelope, indicator

EPOCH = "1970-01-01T00:00:00.000Z"  # parses to version 0: the store's "observable" marker
REPORT = {"event": "ASSAULT", "mode": "aerial", "start": "2025-03-18T02:00:00Z",
          "location": {"lat": 31.51, "lon": 34.46, "precision_m": 500},
          "reliability": "B", "credibility": 2, "marking": "green"}
TLP_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


@pytest.fixture
def world(vigil):
    """Partners A (the attacker, analyst a1) and B (the victim, analyst b1)."""
    ida = vigil.partner("A")
    idb = vigil.partner("B")
    return vigil, vigil.user("A", "a1"), vigil.user("B", "b1"), ida, idb


def objects_url(vigil, oid=None):
    u = f"/taxii2/api/collections/{vigil.collection()}/objects/"
    return u + (f"{oid}/" if oid else "")


def post_stix(vigil, token, *objs):
    r = vigil.post(objects_url(vigil), token=token, json=envelope(*objs))
    assert r.status_code == 202, r.text
    return r.json()


def all_versions(vigil, token, oid):
    r = vigil.get(objects_url(vigil, oid), token=token, params={"match[version]": "all"})
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    return r.json().get("objects", [])


def assert_alive(vigil):
    assert vigil.proc.poll() is None, vigil.log.decode(errors="replace")[-2000:]
    assert vigil.get("/api/v1/me").status_code == 200


def at_epoch(obj, **changes):
    """A copy of obj dated created = modified = 1970-01-01T00:00:00.000Z."""
    o = json.loads(json.dumps(obj))
    o["created"] = o["modified"] = EPOCH
    o.update(changes)
    return o


# ---- ownership bypassed with a version at the epoch -------------------------------------------

def test_an_epoch_dated_version_does_not_put_a_second_object_under_another_partners_id(world):
    """POST {"objects":[B's indicator with created=modified=1970-01-01T00:00:00.000Z and
    name FORGED]} by A. The version parses to 0, which the store takes for an observable's
    (each partner's own record), so the "this id belongs to another partner" check is
    skipped and one id stands for two objects."""
    vigil, a1, b1, _, _ = world
    ind = indicator(1, markings=[TLP_GREEN])
    assert post_stix(vigil, b1, ind)["success_count"] == 1
    st = post_stix(vigil, a1, at_epoch(ind, name="FORGED"))
    assert st["success_count"] == 0, st
    assert "1970-01-01T00:00:00.000Z" in st["failures"][0]["message"]
    seen = all_versions(vigil, b1, ind["id"])
    assert [o["name"] for o in seen] == [ind["name"]], seen
    assert_alive(vigil)


def test_an_epoch_dated_report_does_not_enter_the_report_index_under_anothers_id(world):
    """B submits a GREEN REST report; A re-posts its STIX report over TAXII under the same id,
    dated at the epoch, with name FORGED and 999 fatalities. Every reader's
    GET /api/v1/reports then lists the forgery under B's report id (and it feeds fusion)."""
    vigil, a1, b1, _, _ = world
    r = vigil.post("/api/v1/reports", token=b1, json=dict(REPORT, title="B's report"))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    stix = all_versions(vigil, a1, rid)[0]
    evil = at_epoch(stix, name="FORGED")
    ext = next(iter(evil["extensions"]))
    evil["extensions"][ext]["fatalities"] = 999
    post_stix(vigil, a1, evil)
    for token in (b1, None, a1):  # the victim, the coordination center, the attacker
        listed = vigil.get("/api/v1/reports", token=token).json()["reports"]
        assert [x["title"] for x in listed if x["id"] == rid] == ["B's report"], listed
        assert all(x.get("fatalities") != 999 for x in listed), listed
    assert_alive(vigil)


def test_an_epoch_dated_squat_does_not_block_the_owners_corrections(world):
    """A posts B's report id at the epoch (any content); B's own correction, by REST (same
    source_ref) or by TAXII (a later modified), is then refused as "this id belongs to
    another partner": A froze B's report."""
    vigil, a1, b1, _, _ = world
    r = vigil.post("/api/v1/reports", token=b1,
                   json=dict(REPORT, title="v1", source_ref="acled:PSE1"))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    stix = all_versions(vigil, a1, rid)[0]
    squat = at_epoch(stix, name="squat")
    squat.pop("extensions")
    post_stix(vigil, a1, squat)
    r = vigil.post("/api/v1/reports", token=b1,
                   json=dict(REPORT, title="v2", source_ref="acled:PSE1"))
    assert r.status_code == 201, r.text
    nv = dict(stix, modified="2030-01-01T00:00:00.000Z", name="v3")
    st = post_stix(vigil, b1, nv)
    assert st["success_count"] == 1, st
    assert_alive(vigil)


# ---- writing under another's identity, or the standard's --------------------------------------

def test_an_object_claiming_another_partners_identity_is_refused(world):
    """POST {"objects":[indicator with created_by_ref = B's identity]} by A: accepted, so
    every reader sees an object that says B made it (STIX-PROFILE: created_by_ref is the
    submitting partner)."""
    vigil, a1, b1, ida, idb = world
    ind = indicator(2, markings=[TLP_GREEN])
    ind["created_by_ref"] = idb
    st = post_stix(vigil, a1, ind)
    assert st["success_count"] == 0, st
    assert all_versions(vigil, b1, ind["id"]) == []
    hub = dict(indicator(3, markings=[TLP_GREEN]),
               created_by_ref="identity--0dfbfc8d-db3f-4849-8f94-b4c2851d01f6")
    assert post_stix(vigil, a1, hub)["success_count"] == 0
    # nor may A store an object under B's identity id, or under a sharing group's marking
    r = vigil.post("/api/v1/groups", token=b1, json={"name": "bgroup", "members": ["B"]})
    assert r.status_code == 201, r.text
    for oid, typ in ((idb, "identity"), (r.json()["marking_id"], "marking-definition")):
        o = {"type": typ, "spec_version": "2.1", "id": oid, "created": "2025-01-01T00:00:00.000Z",
             "modified": "2025-01-01T00:00:00.000Z", "name": "B"}
        if typ == "identity":
            o["identity_class"] = "organization"
        else:
            o.update(definition_type="statement", definition={"statement": "B's group"})
            del o["modified"]
        st = post_stix(vigil, a1, o)
        assert st["success_count"] == 0 and "id:" in st["failures"][0]["message"], st
    # an object A says A made, or a third party outside the hub made, is A's to share
    for by in (ida, "identity--" + str(uuid.uuid4())):
        st = post_stix(vigil, a1, dict(indicator(4 if by == ida else 5,
                                                 markings=[TLP_GREEN]), created_by_ref=by))
        assert st["success_count"] == 1, st


def test_a_partner_cannot_own_the_tlp_marking_definitions(world):
    """A posts a marking-definition under the official TLP:RED id, named "TLP:CLEAR". It is
    stored as A's; B's system then posting the official TLP:RED definition (as STIX
    producers put them in their bundles) is refused: "this id belongs to another partner"."""
    vigil, a1, b1, _, _ = world
    forged = {"type": "marking-definition", "spec_version": "2.1", "id": TLP_RED,
              "created": "2022-10-01T00:00:00.000Z", "name": "TLP:CLEAR",
              "object_marking_refs": [TLP_GREEN],
              "extensions": {TLP_EXT: {"extension_type": "property-extension",
                                       "tlp_2_0": "clear"}}}
    st = post_stix(vigil, a1, forged)
    assert st["success_count"] == 0 and "predefined" in st["failures"][0]["message"], st
    official = {"type": "marking-definition", "spec_version": "2.1", "id": TLP_RED,
                "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED",
                "extensions": {TLP_EXT: {"extension_type": "property-extension",
                                         "tlp_2_0": "red"}}}
    st = post_stix(vigil, b1, official)
    assert not any("another partner" in f.get("message", "") for f in st.get("failures", [])), st
    assert all(o.get("name") != "TLP:CLEAR" for o in all_versions(vigil, b1, TLP_RED))


# ---- odd but valid input: stored or refused cleanly ---------------------------------------------

def test_extreme_timestamps_are_stored_read_and_deleted_or_refused_cleanly(world):
    """Far past/future, sub-microsecond and malformed created/modified: each object is a
    clean success or failure, reads and version-matched DELETE work, the daemon lives."""
    vigil, a1, _, _, _ = world
    for ts in ("9999-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z",
               "2024-01-01T00:00:00.1234567890123Z", "0000-01-01T00:00:00Z",
               "2016-12-31T23:59:60Z", "2024-02-30T00:00:00.000Z",
               "2024-01-01T00:00:00.000+01:00"):
        o = indicator(7)
        o["created"] = o["modified"] = ts
        st = post_stix(vigil, a1, o)
        assert st["success_count"] + st["failure_count"] == 1
        if st["success_count"]:
            assert len(all_versions(vigil, a1, o["id"])) == 1
            v = vigil.get(objects_url(vigil, o["id"]) + "versions/", token=a1).json()
            r = vigil.request("DELETE", objects_url(vigil, o["id"]), token=a1,
                              params={"match[version]": v["versions"][0]})
            assert r.status_code == 200, r.text
            assert vigil.get(objects_url(vigil, o["id"]), token=a1).status_code == 404
        assert_alive(vigil)


def test_duplicate_keys_in_an_envelope_are_refused_and_store_nothing(world):
    """A second "id" inside an object (the validator and the stored JSON could disagree on
    which id it is) or a second "objects" list: 400, nothing stored."""
    vigil, a1, b1, _, _ = world
    o = indicator(8, markings=[TLP_GREEN])
    other = f"indicator--{uuid.uuid4()}"
    body = '{"objects":[' + json.dumps(o)[:-1] + f', "id": "{other}"' + '}]}'
    r = vigil.request("POST", objects_url(vigil), token=a1, data=body)
    assert r.status_code == 400, r.text
    body = '{"objects":[' + json.dumps(o) + '], "objects": []}'
    r = vigil.request("POST", objects_url(vigil), token=a1, data=body)
    assert r.status_code == 400, r.text
    assert all_versions(vigil, b1, o["id"]) == [] and all_versions(vigil, b1, other) == []
    assert_alive(vigil)
