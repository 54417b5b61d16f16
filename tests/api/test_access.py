"""S3 access control: the read policy on every read path, proven by an exhaustive matrix and
a seeded random test against a reference model; foreign writes; tokens, sessions, rate
limits; the audit chain and its tamper detection."""
import hashlib
import json
import random
import subprocess
import uuid

import pytest

from conftest import TAXII, Vigil
from stix_samples import TLP_AMBER, TLP_CLEAR, TLP_GREEN, TLP_RED, envelope, indicator

TLP_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP_IDS = {"clear": TLP_CLEAR, "green": TLP_GREEN, "amber": TLP_AMBER,
           "amber+strict": TLP_AMBER_STRICT, "red": TLP_RED}


# -- the reference model of S3 ----------------------------------------------------------------

class Reader:
    def __init__(self, name, partner, token, coordinator=False):
        self.name, self.partner, self.token, self.coordinator = name, partner, token, coordinator


def model_can_read(reader, obj, groups):
    """obj: dict(owner, tlp, group). groups: name -> dict(partners=set, users=set)."""
    if obj["owner"] == reader.partner:
        return True
    tlp, g = obj["tlp"], groups.get(obj["group"]) if obj["group"] else None
    if tlp in ("clear", "green"):
        return True
    if tlp in ("amber", "amber+strict"):
        return reader.partner in g["partners"] if g else reader.coordinator
    if tlp == "red":
        return bool(g) and reader.name in g["users"]
    return False  # unknown marking: owner only


# -- helpers --------------------------------------------------------------------------------

def markings_for(tlp, group_marking):
    refs = []
    if tlp in TLP_IDS:
        refs.append(TLP_IDS[tlp])
    elif tlp == "unknown":
        refs.append(f"marking-definition--{uuid.uuid4()}")
    if group_marking:
        refs.append(group_marking)
    return refs


def post_objects(vigil, token, objs):
    coll = vigil.collection("reports")
    r = vigil.post(f"/taxii2/api/collections/{coll}/objects/", token=token,
                   json=envelope(*objs))
    assert r.status_code == 202, r.text
    assert r.json()["failure_count"] == 0, r.text
    return r.json()


def walk(vigil, token, path, key, limit=7):
    """Every item of a paged TAXII listing, following next."""
    items, nxt = [], None
    for _ in range(1000):
        q = f"limit={limit}" + (f"&next={nxt}" if nxt else "")
        r = vigil.get(f"{path}?{q}", token=token)
        assert r.status_code == 200, r.text
        body = r.json()
        page = body.get(key, [])
        assert len(page) <= limit
        items += page
        if not body.get("more"):
            assert "next" not in body
            return items
        assert len(page) == limit  # a short page never claims more
        nxt = body["next"]
    raise AssertionError("pagination did not end")


def visible_sets(vigil, reader, all_ids):
    """What reader sees of all_ids, through every TAXII read path."""
    coll = vigil.collection("reports")
    base = f"/taxii2/api/collections/{coll}"
    listed = {o["id"] for o in walk(vigil, reader.token, f"{base}/objects/", "objects")}
    manifest = {o["id"] for o in walk(vigil, reader.token, f"{base}/manifest/", "objects")}
    by_id, versions = set(), set()
    for oid in all_ids:
        r = vigil.get(f"{base}/objects/{oid}/", token=reader.token)
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            assert [o["id"] for o in r.json()["objects"]] == [oid]
            by_id.add(oid)
        else:
            assert r.json()["title"] == "no such object"
        r = vigil.get(f"{base}/objects/{oid}/versions/", token=reader.token)
        assert r.status_code in (200, 404)
        if r.status_code == 200:
            versions.add(oid)
    return {"objects": listed & set(all_ids), "manifest": manifest & set(all_ids),
            "object": by_id, "versions": versions}


@pytest.fixture
def world(vigil):
    """Partners A, B, C and the coordination center (CC); groups AB (partners A and B) and
    RED-b1 (the user b1, and a1, who shares with b1: only members post into a group)."""
    readers = {"cc": Reader("admin", "CC", vigil.admin_token, coordinator=True)}
    for p in ("A", "B", "C"):
        vigil.partner(p)
    for name, partner in (("a1", "A"), ("b1", "B"), ("b2", "B"), ("c1", "C")):
        readers[name] = Reader(name, partner, vigil.user(partner, name, role="analyst"))
    ab = vigil.run("group", "add", "AB", "A", "B").stdout.strip()
    redb1 = vigil.run("group", "add", "RED-b1", "user:b1", "user:a1").stdout.strip()
    groups = {"AB": {"partners": {"A", "B"}, "users": set(), "marking": ab},
              "RED-b1": {"partners": set(), "users": {"b1", "a1"}, "marking": redb1}}
    return vigil, readers, groups


def test_matrix_every_level_group_reader_and_read_path(world):
    vigil, readers, groups = world
    objs, meta = [], {}
    for tlp in ("clear", "green", "amber", "amber+strict", "red", "unknown", None):
        for group in (None, "AB", "RED-b1"):
            gm = groups[group]["marking"] if group else None
            o = indicator(len(objs), markings=markings_for(tlp, gm) or None)
            objs.append(o)
            # No marking at all: the partner's default (AMBER); a group alone means AMBER.
            eff = tlp if tlp else "amber"
            meta[o["id"]] = {"owner": "A", "tlp": eff, "group": group}
    post_objects(vigil, readers["a1"].token, objs)
    ids = [o["id"] for o in objs]
    for reader in readers.values():
        expected = {i for i in ids if model_can_read(reader, meta[i], groups)}
        got = visible_sets(vigil, reader, ids)
        for path, seen in got.items():
            assert seen == expected, (reader.name, path,
                                      sorted((meta[i]["tlp"], meta[i]["group"])
                                             for i in seen ^ expected))
    # Spot checks of the rule in words: the hub's admin does not bypass RED, and AMBER
    # without a group reaches the coordination center only.
    red_nogroup = [i for i in ids if meta[i] == {"owner": "A", "tlp": "red", "group": None}][0]
    assert red_nogroup not in visible_sets(vigil, readers["cc"], [red_nogroup])["object"]


def test_random_world_against_reference_model(vigil):
    rng = random.Random(20261125)
    partners = [f"P{i}" for i in range(5)]
    for p in partners:
        vigil.partner(p)
    readers = []
    for i in range(8):
        p = partners[i % 5]
        readers.append(Reader(f"u{i}", p, vigil.user(p, f"u{i}", role="reporter")))
    groups = {}
    for g in range(4):
        members = rng.sample(partners, rng.randint(1, 3))
        users = rng.sample([r.name for r in readers], rng.randint(1, 3))
        args = members + [f"user:{u}" for u in users]
        marking = vigil.run("group", "add", f"G{g}", *args).stdout.strip()
        groups[f"G{g}"] = {"partners": set(members), "users": set(users), "marking": marking}
    meta, per_owner = {}, {}
    for n in range(120):
        owner = rng.choice(readers)
        tlp = rng.choice(["clear", "green", "amber", "amber+strict", "red", "unknown"])
        group = rng.choice([None, None] + list(groups))
        o = indicator(n, markings=markings_for(tlp, groups[group]["marking"] if group else None))
        g = groups.get(group)
        if g and owner.partner not in g["partners"] and owner.name not in g["users"]:
            # Only members share into a group: another's group reads as an unknown marking.
            tlp, group = "unknown", None
        meta[o["id"]] = {"owner": owner.partner, "tlp": tlp, "group": group}
        per_owner.setdefault(owner, []).append(o)
    for owner, objs in per_owner.items():
        post_objects(vigil, owner.token, objs)
    ids = list(meta)
    sample = rng.sample(ids, 30)
    for reader in readers:
        expected = {i for i in ids if model_can_read(reader, meta[i], groups)}
        got = visible_sets(vigil, reader, sample)
        coll = vigil.collection("reports")
        listed = {o["id"] for o in walk(vigil, reader.token,
                                        f"/taxii2/api/collections/{coll}/objects/", "objects",
                                        limit=11)}
        assert listed == expected, reader.name
        for path, seen in got.items():
            assert seen == expected & set(sample), (reader.name, path)


def test_unreadable_object_is_a_404_like_a_missing_one(world):
    vigil, readers, groups = world
    secret = indicator(1, markings=[TLP_RED])
    post_objects(vigil, readers["a1"].token, [secret])
    coll = vigil.collection("reports")
    hidden = vigil.get(f"/taxii2/api/collections/{coll}/objects/{secret['id']}/",
                       token=readers["c1"].token)
    missing = vigil.get(f"/taxii2/api/collections/{coll}/objects/indicator--{uuid.uuid4()}/",
                        token=readers["c1"].token)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    # Deleting it is 404 too, not 403, and it stays.
    d = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{secret['id']}/",
                      token=readers["c1"].token)
    assert d.status_code == 404
    assert vigil.get(f"/taxii2/api/collections/{coll}/objects/{secret['id']}/",
                     token=readers["a1"].token).status_code == 200


def test_only_the_owner_versions_or_deletes(world):
    vigil, readers, groups = world
    coll = vigil.collection("reports")
    o = indicator(1, markings=[TLP_GREEN])
    post_objects(vigil, readers["a1"].token, [o])
    forged = dict(o, modified="2025-01-01T00:00:00.000Z", name="forged")
    r = vigil.post(f"/taxii2/api/collections/{coll}/objects/", token=readers["b1"].token,
                   json=envelope(forged))
    assert r.status_code == 202
    assert r.json()["failure_count"] == 1 and r.json()["success_count"] == 0
    d = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{o['id']}/",
                      token=readers["b1"].token)
    assert d.status_code == 403
    got = vigil.get(f"/taxii2/api/collections/{coll}/objects/{o['id']}/versions/",
                    token=readers["a1"].token).json()
    assert got["versions"] == [o["modified"]]
    # The owner may.
    ok = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{o['id']}/",
                       token=readers["a1"].token)
    assert ok.status_code == 200


def test_read_only_tokens_and_reader_role_cannot_write(vigil):
    vigil.partner("A")
    ro = vigil.user("A", "ro", role="analyst", read_only=True)
    rd = vigil.user("A", "rd", role="reader")
    coll = vigil.collection("reports")
    for tok in (ro, rd):
        r = vigil.post(f"/taxii2/api/collections/{coll}/objects/", token=tok,
                       json=envelope(indicator(1)))
        assert r.status_code == 403
        c = vigil.get(f"/taxii2/api/collections/{coll}/", token=tok).json()
        assert c["can_write"] is False and c["can_read"] is True
    r = vigil.request("POST", "/api/v1/groups", token=ro, json={"name": "x", "members": ["A"]})
    assert r.status_code == 403


def test_token_revocation_and_listing(vigil):
    vigil.partner("A")
    tok = vigil.user("A", "a1", role="analyst")
    assert vigil.get("/api/v1/me", token=tok).status_code == 200
    tokens = vigil.get("/api/v1/tokens").json()["tokens"]
    mine = [t for t in tokens if t["user"] == "a1"]
    assert len(mine) == 1 and "hash" not in mine[0] and tok not in str(tokens)
    r = vigil.request("DELETE", f"/api/v1/tokens/{mine[0]['id']}")
    assert r.status_code == 200
    assert vigil.get("/api/v1/me", token=tok).status_code == 401
    assert vigil.request("DELETE", "/api/v1/tokens/999999").status_code == 404
    # Tokens are stored only as hashes.
    blob = b"".join(bytes(r[0]) for r in vigil.sql("SELECT hash FROM tokens"))
    assert tok.encode() not in blob and len(blob) % 32 == 0


def test_rest_administration_roles(vigil):
    r = vigil.request("POST", "/api/v1/partners", json={"name": "Qatar"})
    assert r.status_code == 201 and r.json()["identity"].startswith("identity--")
    assert vigil.request("POST", "/api/v1/partners", json={"name": "Qatar"}).status_code == 409
    assert vigil.request("POST", "/api/v1/partners",
                         json={"name": "X", "bogus": 1}).status_code == 400
    r = vigil.request("POST", "/api/v1/users",
                      json={"partner": "Qatar", "name": "q-admin", "role": "admin"})
    assert r.status_code == 201
    qtok = vigil.request("POST", "/api/v1/tokens", json={"user": "q-admin"}).json()["token"]
    vigil.partner("Egypt")
    # A partner's admin manages its own partner only.
    assert vigil.request("POST", "/api/v1/users", token=qtok,
                         json={"partner": "Egypt", "name": "e", "role": "reader"}
                         ).status_code == 403
    assert vigil.request("POST", "/api/v1/users", token=qtok,
                         json={"partner": "Qatar", "name": "q2", "role": "reader"}
                         ).status_code == 201
    assert vigil.request("POST", "/api/v1/partners", token=qtok,
                         json={"name": "Y"}).status_code == 403
    users = vigil.get("/api/v1/users", token=qtok).json()["users"]
    assert sorted(u["name"] for u in users) == ["q-admin", "q2"]


def test_session_login_cookie_and_csrf(vigil):
    vigil.partner("A")
    vigil.run("user", "add", "A", "alice", "--role", "analyst")
    vigil.run("user", "passwd", "alice", input="a long passphrase\n")
    s = __import__("requests").Session()
    bad = s.post(vigil.url + "/api/v1/login", json={"user": "alice", "password": "nope"})
    assert bad.status_code == 401
    ghost = s.post(vigil.url + "/api/v1/login", json={"user": "ghost", "password": "nope"})
    assert ghost.status_code == 401 and ghost.json() == bad.json()
    r = s.post(vigil.url + "/api/v1/login",
               json={"user": "alice", "password": "a long passphrase"})
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    csrf = r.json()["csrf_token"]
    assert s.get(vigil.url + "/api/v1/me").json()["user"] == "alice"
    body = {"name": "G1", "members": ["A"]}
    assert s.post(vigil.url + "/api/v1/groups", json=body).status_code == 403
    ok = s.post(vigil.url + "/api/v1/groups", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    s.post(vigil.url + "/api/v1/logout")
    assert s.get(vigil.url + "/api/v1/me").status_code == 401


def test_a_session_reads_its_csrf_token_again_from_me(vigil):
    """A reloaded dashboard page asks /api/v1/me for the session's CSRF token (the page keeps it
    only in memory): the same session gets the same token back and can write with it; a token
    or another session gets none of it."""
    vigil.partner("A")
    vigil.run("user", "add", "A", "alice", "--role", "analyst")
    vigil.run("user", "passwd", "alice", input="a long passphrase\n")
    login = {"user": "alice", "password": "a long passphrase"}
    s = __import__("requests").Session()
    csrf = s.post(vigil.url + "/api/v1/login", json=login).json()["csrf_token"]
    me = s.get(vigil.url + "/api/v1/me").json()
    assert me["user"] == "alice" and me["csrf_token"] == csrf
    ok = s.post(vigil.url + "/api/v1/groups", json={"name": "G2", "members": ["A"]},
                headers={"X-CSRF-Token": me["csrf_token"]})
    assert ok.status_code == 201
    other = __import__("requests").Session()
    other_csrf = other.post(vigil.url + "/api/v1/login", json=login).json()["csrf_token"]
    assert other_csrf != csrf and other.get(vigil.url + "/api/v1/me").json()["csrf_token"] == \
        other_csrf
    assert "csrf_token" not in vigil.get("/api/v1/me").json()  # a bearer token: none
    # Without a session, the page's own call gets a 401 without a Basic challenge (a browser
    # would hold it to ask for a password); other clients still get the challenge.
    r = vigil.get("/api/v1/me", auth=False, headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 401 and "WWW-Authenticate" not in r.headers
    r = vigil.get("/api/v1/me", auth=False)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    s.post(vigil.url + "/api/v1/logout", headers={"X-CSRF-Token": csrf})
    assert s.get(vigil.url + "/api/v1/me").status_code == 401


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    v = Vigil(tmp_path / "d")
    with open(v.data / "vigil.conf", "a") as f:
        f.write("rate_limit = 5\n")
    v.start()
    try:
        codes = [v.get("/api/v1/me").status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
        r = v.get("/api/v1/me")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert v.get("/healthz", auth=False).status_code == 200  # public, not limited
    finally:
        v.stop()


def audit_verify(vigil):
    return vigil.run("audit", "verify", check=False)


def test_audit_entries_of_many_objects_are_bounded_and_checkable(world):
    vigil, readers, groups = world
    objs = [indicator(i, markings=[TLP_GREEN]) for i in range(25)]
    post_objects(vigil, readers["a1"].token, objs)
    coll = vigil.collection("reports")
    page = vigil.get(f"/taxii2/api/collections/{coll}/objects/?limit=20",
                     token=readers["c1"].token).json()["objects"]
    vigil.stop()  # the read's entry is committed by the writer before it stops
    entries = [json.loads(l) for l in vigil.run("audit", "export").stdout.splitlines()]

    def detail(e):
        return e["detail"] if isinstance(e["detail"], dict) else json.loads(e["detail"])

    write = [detail(e) for e in entries if e["action"] == "write" and e["object"] == "objects"]
    read = [detail(e) for e in entries if e["action"] == "read"]
    assert len(write) == 1 and len(read) == 1
    w, r = write[0], read[0]
    assert w["count"] == 25 and len(w["items"]) == 10
    assert r["count"] == 20 and r["query"] == {"limit": "20"}
    assert [i["id"] for i in r["items"]] == [o["id"] for o in page[:10]]
    # The digest, as docs/ACCESS.md says: BLAKE2b-256 of every item's text, each with a NUL.
    def digest(items):
        text = b"".join(json.dumps(i, separators=(",", ":")).encode() + b"\0" for i in items)
        return hashlib.blake2b(text, digest_size=32).hexdigest()
    versions = {o["id"]: "2024-03-18T02:00:00.000Z" for o in objs}
    assert w["digest"] == digest([{"id": o["id"], "version": versions[o["id"]]} for o in objs])
    assert r["digest"] == digest([{"id": o["id"], "version": o["modified"]} for o in page])
    assert w["date_added_first"] <= w["date_added_last"]


def test_audit_records_reads_and_writes_and_detects_tampering(world):
    vigil, readers, groups = world
    o = indicator(1, markings=[TLP_GREEN])
    post_objects(vigil, readers["a1"].token, [o])
    coll = vigil.collection("reports")
    assert vigil.get(f"/taxii2/api/collections/{coll}/objects/{o['id']}/",
                     token=readers["c1"].token).status_code == 200
    vigil.stop()  # the read's audit entry is committed by the writer before it stops
    ok = audit_verify(vigil)
    assert ok.returncode == 0 and "audit chain ok" in ok.stdout
    lines = vigil.run("audit", "export", "--partner", "C").stdout.splitlines()
    assert any('"action":"read"' in l and o["id"] in l for l in lines)
    assert all('"partner":' in l for l in lines)
    a_lines = vigil.run("audit", "export", "--partner", "A").stdout
    assert '"action":"write"' in a_lines and o["id"] in a_lines

    # Altered.
    vigil.sql("UPDATE audit SET detail = '{\"op\":\"forged\"}' WHERE seq = 3")
    bad = audit_verify(vigil)
    assert bad.returncode == 1 and "audit entry 3" in bad.stderr and "altered" in bad.stderr


@pytest.mark.parametrize("how,expect", [
    ("DELETE FROM audit WHERE seq = 2", "audit entry 3"),
    ("UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;"
     " UPDATE audit SET seq = 3 WHERE seq = -1", "audit entry 2"),
])
def test_audit_detects_removed_and_reordered_entries(vigil, how, expect):
    vigil.partner("A")
    vigil.partner("B")
    vigil.stop()
    assert audit_verify(vigil).returncode == 0
    vigil.sql(how)
    bad = audit_verify(vigil)
    assert bad.returncode == 1 and expect in bad.stderr


def test_an_id_taken_by_an_unreadable_object_is_refused_like_any_taken_id(world):
    """An id belongs to the partner that first stored it (STIX 2.1 3.6; S3 Ownership): posting
    an id another partner holds is refused whether or not you may read their object, with the
    same answer either way, and theirs is untouched. (Ids are random UUIDs: a partner only
    hits one it was told; docs/ACCESS.md.)"""
    vigil, readers, groups = world
    coll = vigil.collection("reports")
    secret = indicator(1, markings=[TLP_RED])
    shared = indicator(2, markings=[TLP_GREEN])
    post_objects(vigil, readers["a1"].token, [secret, shared])
    answers = []
    for o in (secret, shared):
        mine = dict(o, name="B's own", object_marking_refs=[TLP_GREEN])
        r = vigil.post(f"/taxii2/api/collections/{coll}/objects/", token=readers["b1"].token,
                       json=envelope(mine))
        assert r.status_code == 202 and r.json()["failure_count"] == 1, r.text
        answers.append(r.json()["failures"][0]["message"])
    assert answers[0] == answers[1]
    a_view = vigil.get(f"/taxii2/api/collections/{coll}/objects/{secret['id']}/",
                       token=readers["a1"].token).json()["objects"]
    assert [o["name"] for o in a_view] == [secret["name"]]
    c_view = vigil.get(f"/taxii2/api/collections/{coll}/objects/{secret['id']}/",
                       token=readers["c1"].token)
    assert c_view.status_code == 404
