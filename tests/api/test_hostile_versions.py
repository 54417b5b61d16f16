"""Hostile partners and object versions (S3 "Ownership", "Hostile partners"; STIX 2.1 3.6):
each test is an attack, and asserts the safe outcome: the daemon still answers, the attacker
gets a clear refusal, and nothing of the victim's changed or leaked.

- an id belongs to the partner that first stored it: nobody else versions it or stores a
  second object under it, whether they may read the first or not (observables, whose ids
  derive from their value, excepted); the same id and modified with other content is refused;
- REST report ids cannot be predicted by other partners;
- a version that arrives late does not replace the newest in the report index;
- a correction to a stricter marking, or a deletion, withdraws the earlier versions (TAXII
  versions, objects, manifest, export) and their live-stream events from whoever may not
  read what is there now."""
import json
import uuid

import pytest
import requests

from conftest import TAXII
from stix_samples import TLP_GREEN, TLP_RED, envelope, indicator, ipv4, new_version

PROFILE_NS = uuid.UUID("43b4d670-2806-444e-8df2-7bcc5e7dcd21")
REPORT = {"event": "ASSAULT", "mode": "aerial", "start": "2025-03-18T02:00:00Z",
          "location": {"lat": 31.51, "lon": 34.46, "precision_m": 500},
          "reliability": "B", "credibility": 2}
T1, T2, T3 = "2024-03-18T02:00:00.000Z", "2024-03-19T02:00:00.000Z", "2024-03-20T02:00:00.000Z"


@pytest.fixture
def world(vigil):
    """Partners A and B (analysts a1, b1) and the coordination center's admin."""
    vigil.partner("A")
    vigil.partner("B")
    return vigil, vigil.user("A", "a1"), vigil.user("B", "b1")


def objects_url(coll, oid=None, versions=False):
    u = f"/taxii2/api/collections/{coll}/objects/"
    return u + (f"{oid}/" + ("versions/" if versions else "") if oid else "")


def post_stix(vigil, token, *objs):
    coll = vigil.collection()
    r = vigil.post(objects_url(coll), token=token, json=envelope(*objs))
    assert r.status_code == 202, r.text
    return r.json()


def post_report(vigil, token, **kw):
    return vigil.post("/api/v1/reports", token=token, json=dict(REPORT, **kw))


def assert_alive(vigil):
    """The daemon did not die: it still runs and answers."""
    assert vigil.proc.poll() is None, vigil.log.decode(errors="replace")[-2000:]
    assert vigil.get("/api/v1/me").status_code == 200


def stix_of(vigil, token, oid, **params):
    coll = vigil.collection()
    r = vigil.get(objects_url(coll, oid), token=token, params=params)
    return r.json().get("objects", []) if r.status_code == 200 else []


def replay(vigil, token, until):
    """The ids of the report events a stream replaying from the start shows to token, up to
    and including the report `until` (posted last, so everything before it has come)."""
    h = {"Authorization": "Bearer " + token, "Accept": "text/event-stream",
         "Last-Event-ID": "0"}
    ids, ev = [], {}
    with requests.get(vigil.url + "/api/v1/stream", headers=h, stream=True, timeout=30) as r:
        assert r.status_code == 200
        for line in r.iter_lines(decode_unicode=True):
            if line == "":
                if ev.get("event") == "report":
                    ids.append(json.loads(ev["data"])["id"])
                    if ids[-1] == until:
                        return ids
                ev = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(": ")
                ev[k] = v
    raise AssertionError(f"the stream ended before {until}: {ids}")


# -- item 1: who may store an id ----------------------------------------------------------
def test_a_report_id_squatted_by_another_partner_does_not_kill_the_daemon(world):
    vigil, ta, tb = world
    # B learns A's STIX identity from any report of A it may read...
    r = post_report(vigil, ta, marking="green", title="public")
    assert r.status_code == 201, r.text
    identity = stix_of(vigil, tb, r.json()["id"])[0]["created_by_ref"]
    # ...computes the id A's next report of a source record would get if it were derived
    # from public names, and stores an object of its own there first (RED: A cannot read it).
    source = "acled:PSE99999"
    guessed = f"report--{uuid.uuid5(PROFILE_NS, identity + '|' + source)}"
    squat = {"type": "report", "spec_version": "2.1", "id": guessed, "created": T1,
             "modified": T1, "name": "squatted", "published": T1,
             "object_refs": [indicator()["id"]], "object_marking_refs": [TLP_RED]}
    st = post_stix(vigil, tb, squat)
    assert st["success_count"] == 1, st
    # A posts that source record: it is stored under an id B could not guess.
    r = post_report(vigil, ta, marking="green", title="A's report", source_ref=source)
    assert_alive(vigil)
    assert r.status_code == 201, r.text
    mine = r.json()["id"]
    assert mine != guessed
    assert vigil.get(f"/api/v1/reports/{mine}", token=ta).json()["title"] == "A's report"
    # The same record again is the same report (re-imports do not duplicate).
    again = post_report(vigil, ta, marking="green", title="A's report", source_ref=source)
    assert again.status_code == 201 and again.json()["id"] == mine
    # B's object is untouched, and still B's alone.
    assert [o["name"] for o in stix_of(vigil, tb, guessed)] == ["squatted"]
    assert stix_of(vigil, ta, guessed) == []


def test_another_partner_cannot_store_under_an_id_it_may_not_read(world):
    vigil, ta, tb = world
    secret = indicator(1, markings=[TLP_RED])
    assert post_stix(vigil, ta, secret)["success_count"] == 1
    # B, which may not read it, tries a new version, and the same version with its content.
    forged = dict(new_version(secret, T3), name="forged", object_marking_refs=[TLP_GREEN])
    twin = dict(secret, name="twin", object_marking_refs=[TLP_GREEN])
    for attempt in (forged, twin):
        st = post_stix(vigil, tb, attempt)
        assert st["success_count"] == 0 and st["failure_count"] == 1, st
        assert "another partner" in st["failures"][0]["message"]
        assert_alive(vigil)
    # Nothing was stored: the id still stands for A's object only, for everyone.
    assert [o["name"] for o in stix_of(vigil, ta, secret["id"], **{"match[version]": "all"})] \
        == [secret["name"]]
    assert stix_of(vigil, tb, secret["id"]) == []
    assert stix_of(vigil, vigil.admin_token, secret["id"]) == []


def test_a_readable_object_cannot_be_versioned_by_another_partner(world):
    vigil, ta, tb = world
    o = indicator(2, markings=[TLP_GREEN])
    assert post_stix(vigil, ta, o)["success_count"] == 1
    for attempt in (dict(new_version(o, T3), name="forged"), dict(o, name="twin")):
        st = post_stix(vigil, tb, attempt)
        assert st["failure_count"] == 1 and "another partner" in st["failures"][0]["message"]
    # An admin that may read everything A and B share sees one object under the id.
    got = stix_of(vigil, vigil.admin_token, o["id"], **{"match[version]": "all"})
    assert got == [o]


def test_the_same_version_with_other_content_is_refused(world):
    vigil, ta, tb = world
    o = indicator(3, markings=[TLP_GREEN])
    assert post_stix(vigil, ta, o)["success_count"] == 1
    st = post_stix(vigil, ta, dict(o, name="rewritten without a new modified"))
    assert st["success_count"] == 0 and st["failure_count"] == 1, st
    assert "modified" in st["failures"][0]["message"]
    # The same content again (keys in another order) is a harmless repeat.
    st = post_stix(vigil, ta, dict(reversed(list(o.items()))))
    assert st["success_count"] == 1, st
    assert stix_of(vigil, tb, o["id"], **{"match[version]": "all"}) == [o]


def test_observables_stay_each_partners_own(world):
    vigil, ta, tb = world
    ip = ipv4("203.0.113.9")
    assert post_stix(vigil, ta, dict(ip, object_marking_refs=[TLP_GREEN]))["success_count"] == 1
    st = post_stix(vigil, tb, dict(ip, object_marking_refs=[TLP_GREEN]))
    assert st["success_count"] == 1, st
    assert len(stix_of(vigil, vigil.admin_token, ip["id"])) == 2


# -- item 7: corrections and versions -----------------------------------------------------
def test_a_late_older_version_does_not_replace_the_newest_in_the_report_index(world):
    vigil, ta, tb = world
    r = post_report(vigil, ta, marking="green", title="first")
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    first = stix_of(vigil, ta, rid)[0]
    newest = dict(first, modified="2099-01-02T00:00:00.000Z", name="newest")
    stale = dict(first, modified="2099-01-01T00:00:00.000Z", name="stale")
    assert post_stix(vigil, ta, newest)["success_count"] == 1
    assert post_stix(vigil, ta, stale)["success_count"] == 1  # kept, as an older version
    for token in (ta, tb):
        assert [o["name"] for o in stix_of(vigil, token, rid)] == ["newest"]
        assert vigil.get(f"/api/v1/reports/{rid}", token=token).json()["title"] == "newest"
        listed = vigil.get("/api/v1/reports", token=token).json()["reports"]
        assert [x["title"] for x in listed if x["id"] == rid] == ["newest"]


def test_a_stricter_correction_withdraws_the_earlier_versions(world):
    vigil, ta, tb = world
    coll = vigil.collection()
    r = post_report(vigil, ta, marking="green", title="posted green", source_ref="x:1")
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    loc = stix_of(vigil, ta, rid)[0]["object_refs"][0]
    assert stix_of(vigil, tb, rid) != []  # B read it while it was green
    # A corrects it: RED from now on.
    r = post_report(vigil, ta, marking="red", title="corrected red", source_ref="x:1")
    assert r.status_code == 201 and r.json()["id"] == rid
    marker = post_report(vigil, ta, marking="green", title="marker").json()["id"]
    for oid in (rid, loc):
        # A (the owner) keeps both versions...
        assert len(stix_of(vigil, ta, oid, **{"match[version]": "all"})) == 2
        # ...B no longer reads any of them, on any path.
        assert vigil.get(objects_url(coll, oid, versions=True), token=tb).status_code == 404
        for match in ("all", "first", "last"):
            assert stix_of(vigil, tb, oid, **{"match[version]": match}) == []
        r = vigil.get(objects_url(coll), token=tb,
                      params={"match[id]": oid, "match[version]": "all"})
        assert r.status_code == 200 and r.json().get("objects", []) == []
    man = vigil.get(f"/taxii2/api/collections/{coll}/manifest/", token=tb,
                    params={"match[version]": "all"}).json().get("objects", [])
    assert {m["id"] for m in man}.isdisjoint({rid, loc})
    assert vigil.get(f"/api/v1/reports/{rid}", token=tb).status_code == 404
    # The live stream no longer replays the green event (to anyone: the report is RED now,
    # and its owner gets the corrected event).
    assert rid not in replay(vigil, tb, marker)
    assert replay(vigil, ta, marker).count(rid) == 1
    # An export as B leaves it out too.
    vigil.user("B", "b2")
    out = json.loads(vigil.run("export", "stix", "--as", "b2").stdout)
    assert {o["id"] for o in out["objects"]}.isdisjoint({rid, loc})
    assert_alive(vigil)


def test_a_deleted_report_is_not_replayed_on_the_stream(world):
    vigil, ta, tb = world
    coll = vigil.collection()
    rid = post_report(vigil, ta, marking="green", title="to delete").json()["id"]
    d = vigil.request("DELETE", objects_url(coll, rid), token=ta)
    assert d.status_code == 200, d.text
    marker = post_report(vigil, ta, marking="green", title="marker").json()["id"]
    for token in (ta, tb, vigil.admin_token):
        assert rid not in replay(vigil, token, marker)
    assert_alive(vigil)


def test_deleting_the_newest_version_puts_the_one_before_back_in_the_report_index(world):
    vigil, ta, tb = world
    coll = vigil.collection()
    rid = post_report(vigil, ta, marking="green", title="first", source_ref="x:2").json()["id"]
    r = post_report(vigil, ta, marking="green", title="second", source_ref="x:2")
    assert r.status_code == 201 and r.json()["id"] == rid
    newest = stix_of(vigil, ta, rid)[0]["modified"]
    d = vigil.request("DELETE", objects_url(coll, rid), token=ta,
                      params={"match[version]": newest})
    assert d.status_code == 200, d.text
    for token in (ta, tb):
        assert [o["name"] for o in stix_of(vigil, token, rid)] == ["first"]
        assert vigil.get(f"/api/v1/reports/{rid}", token=token).json()["title"] == "first"
    marker = post_report(vigil, ta, marking="green", title="marker").json()["id"]
    assert replay(vigil, tb, marker).count(rid) == 1  # the report as it is now, once


def test_a_correction_that_is_no_event_report_takes_the_report_out_of_the_index(world):
    vigil, ta, tb = world
    rid = post_report(vigil, ta, marking="green", title="was a report").json()["id"]
    obj = stix_of(vigil, ta, rid)[0]
    plain = {k: v for k, v in obj.items() if k != "extensions"}
    plain.update(modified="2099-01-01T00:00:00.000Z", name="now secret",
                 object_marking_refs=[TLP_RED])
    assert post_stix(vigil, ta, plain)["success_count"] == 1
    assert vigil.get(f"/api/v1/reports/{rid}", token=tb).status_code == 404
    assert rid not in [x["id"] for x in vigil.get("/api/v1/reports", token=tb).json()["reports"]]
    assert stix_of(vigil, tb, rid, **{"match[version]": "all"}) == []
    marker = post_report(vigil, ta, marking="green", title="marker").json()["id"]
    assert rid not in replay(vigil, tb, marker)
