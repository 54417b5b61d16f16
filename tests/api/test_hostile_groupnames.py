"""Sharing-group names as an oracle, written as the attack (docs/ACCESS.md, "Sharing groups").

Group names were unique over the whole hub: `POST /api/v1/groups` with a name another
partner's group used answered 409 "already exists", so any partner could probe which group
names exist anywhere on the hub. Names are now unique per owner partner, and a name names,
for the one who uses it, its own partner's group of that name, else the one group of that
name it is a member of; the name of several other partners' groups it is in asks for the
group's marking-definition id (always accepted instead of the name). Groups the caller may
not use answer as a name nobody uses.
"""
import pytest

from conftest import PG, TAXII
from test_hostile_alerts import ACLED_MOVEMENT as ACLED_ROW

REPORT = {"event": "ASSAULT", "mode": "aerial", "start": "2025-03-18T02:00:00Z",
          "location": {"lat": 31.51, "lon": 34.46, "precision_m": 500},
          "reliability": "B", "credibility": 2, "marking": "amber"}


@pytest.fixture
def hub(vigil):
    """Partners A, B, C and D, each with an analyst (a1, b1, c1, d1); B's second analyst b2;
    the coordination center's analyst cc1. Tokens by user name ("admin": the hub's admin)."""
    for p in ("A", "B", "C", "D"):
        vigil.partner(p)
    t = {"admin": vigil.admin_token}
    for name, partner in (("a1", "A"), ("b1", "B"), ("b2", "B"), ("c1", "C"), ("d1", "D"),
                          ("cc1", "Coordination Center")):
        t[name] = vigil.user(partner, name)
    return vigil, t


def add_group(vigil, token, name, members):
    return vigil.post("/api/v1/groups", token=token, json={"name": name, "members": members})


def made(vigil, token, name, members):
    r = add_group(vigil, token, name, members)
    assert r.status_code == 201, r.text
    return r.json()["marking_id"]


def post(vigil, token, **kw):
    return vigil.post("/api/v1/reports", token=token, json=dict(REPORT, **kw))


def posted(vigil, token, **kw):
    r = post(vigil, token, **kw)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def markings(vigil, token, rid):
    """The object_marking_refs of a report as `token`'s user reads it over TAXII."""
    coll = vigil.collection("reports")
    r = vigil.get(f"/taxii2/api/collections/{coll}/objects/{rid}/", token=token,
                  headers={"Accept": TAXII})
    assert r.status_code == 200, r.text
    return r.json()["objects"][0]["object_marking_refs"]


def readable(vigil, token, rid):
    return vigil.get(f"/api/v1/reports/{rid}", token=token).status_code == 200


def test_a_name_another_partner_uses_is_not_told_apart_from_a_free_one(hub):
    """B creates "Ops North"; A probing that name got 409 "already exists". Now A's group of
    that name is created like any other (201), a group of its own, and only A's own name
    taken answers 409."""
    vigil, t = hub
    theirs = made(vigil, t["b1"], "Ops North", ["B"])
    probe = add_group(vigil, t["a1"], "Ops North", ["A"])
    assert probe.status_code == 201, probe.text
    assert probe.json()["name"] == "Ops North"
    ours = probe.json()["marking_id"]
    assert ours != theirs
    fresh = add_group(vigil, t["a1"], "Ops South", ["A"])
    assert fresh.status_code == 201 and fresh.json().keys() == probe.json().keys()
    again = add_group(vigil, t["a1"], "Ops North", ["A", "C"])
    assert again.status_code == 409 and "already exists" in again.text
    # the operator's `vigil group add` makes the same distinction
    assert vigil.run("group", "add", "Ops North", "C", "--owner", "C").returncode == 0
    dup = vigil.run("group", "add", "Ops North", "C", "--owner", "C", check=False)
    assert dup.returncode != 0 and "already exists" in dup.stderr
    # each sees its own group only
    for who, mine in (("a1", ours), ("b1", theirs)):
        groups = vigil.get("/api/v1/groups", token=t[who]).json()["groups"]
        assert [g["marking_id"] for g in groups if g["name"] == "Ops North"] == [mine], who


def test_a_report_into_a_shared_name_lands_in_the_writers_own_group(hub, tmp_path):
    """A posting into "Ops North", a name B's group also has, lands in A's group, never B's:
    B's users cannot read it. B's report into B's "Ops North" stays unreadable to A. C, a
    member of B's group only, lands in B's."""
    vigil, t = hub
    theirs = made(vigil, t["b1"], "Ops North", ["B", "C"])
    ours = made(vigil, t["a1"], "Ops North", ["A", "D"])
    assert ours != theirs

    a_report = posted(vigil, t["a1"], group="Ops North", title="A's")
    assert ours in markings(vigil, t["a1"], a_report)
    assert theirs not in markings(vigil, t["a1"], a_report)
    assert readable(vigil, t["d1"], a_report)  # A's group's member, so the group is A's
    for who in ("b1", "b2", "c1"):
        assert not readable(vigil, t[who], a_report), who
        assert a_report not in vigil.get("/api/v1/reports", token=t[who]).text, who

    b_report = posted(vigil, t["b1"], group="Ops North", title="B's")
    assert theirs in markings(vigil, t["b1"], b_report)
    assert readable(vigil, t["c1"], b_report) and readable(vigil, t["b2"], b_report)
    for who in ("a1", "d1"):
        assert not readable(vigil, t[who], b_report), who
        assert b_report not in vigil.get("/api/v1/reports", token=t[who]).text, who

    c_report = posted(vigil, t["c1"], group="Ops North", title="C's")
    assert theirs in markings(vigil, t["c1"], c_report)
    assert readable(vigil, t["b1"], c_report) and not readable(vigil, t["a1"], c_report)

    # `vigil import --group` resolves the name for the importing user alike
    csv = tmp_path / "row.csv"
    csv.write_text(ACLED_ROW)
    r = vigil.run("import", "acled", str(csv), "--as", "a1", "--group", "Ops North")
    assert "imported 1 report(s)" in r.stdout, r.stdout + r.stderr
    mine = {x["id"] for x in vigil.get("/api/v1/reports?partner=A", token=t["a1"])
            .json()["reports"]}
    imported = (mine - {a_report}).pop()
    assert ours in markings(vigil, t["a1"], imported)
    assert readable(vigil, t["d1"], imported) and not readable(vigil, t["b1"], imported)


def test_a_name_of_several_others_groups_asks_for_the_marking_id(hub):
    """c1 is a named user in A's and in B's "Liaison": the name alone names neither, so the
    answer asks for the marking id, which then picks the group. The owners' own users get
    their own; a partner in neither gets the answer of a name nobody uses."""
    vigil, t = hub
    of_a = made(vigil, t["a1"], "Liaison", ["A", "user:c1"])
    of_b = made(vigil, t["b1"], "Liaison", ["B", "user:c1"])
    assert of_a != of_b

    r = post(vigil, t["c1"], group="Liaison")
    assert r.status_code == 400, r.text
    assert "several sharing groups" in r.json()["description"]
    assert "marking_id" in r.json()["description"]

    rid = posted(vigil, t["c1"], group=of_b, title="for B's liaison")
    assert of_b in markings(vigil, t["c1"], rid) and of_a not in markings(vigil, t["c1"], rid)
    assert readable(vigil, t["b1"], rid) and not readable(vigil, t["a1"], rid)

    # the owners' users: their own partner's group first
    assert of_a in markings(vigil, t["a1"], posted(vigil, t["a1"], group="Liaison"))
    assert of_b in markings(vigil, t["b1"], posted(vigil, t["b1"], group="Liaison"))

    # D is in neither: the name and either marking id answer as a name nobody uses
    unknown = post(vigil, t["d1"], group="Nobody's").json()["description"]
    for g in ("Liaison", of_a):
        r = post(vigil, t["d1"], group=g)
        assert r.status_code == 400
        assert r.json()["description"].replace(f'"{g}"', '"Nobody\'s"') == unknown


def test_the_coordination_centers_users_resolve_names_like_any_partner(hub):
    """The hub's admin lists every group, but shares into its own partner's groups and those
    it is in, like any partner: another's name is unknown to it, its own group of that name
    is its own."""
    vigil, t = hub
    made(vigil, t["b1"], "Watch", ["B"])
    unknown = post(vigil, t["admin"], group="Nobody's").json()["description"]
    for who in ("admin", "cc1"):
        r = post(vigil, t[who], group="Watch")
        assert r.status_code == 400, (who, r.text)
        assert r.json()["description"].replace('"Watch"', '"Nobody\'s"') == unknown
    ours = made(vigil, t["admin"], "Watch", ["Coordination Center"])
    rid = posted(vigil, t["cc1"], group="Watch")
    assert ours in markings(vigil, t["cc1"], rid)
    assert not readable(vigil, t["b1"], rid)


def test_a_hub_from_before_per_owner_names_keeps_its_groups(hub):
    """A store whose group names were unique over the hub (schema 15) moves to 16 at the next
    start with its groups, their marking ids and members: then another partner may take a
    name one of them has."""
    vigil, t = hub
    theirs = made(vigil, t["b1"], "Ops North", ["B", "C"])
    rid = posted(vigil, t["b1"], group="Ops North")
    vigil.stop()
    if PG:
        vigil.sql("ALTER TABLE groups DROP CONSTRAINT groups_name_owner_key;"
                  "ALTER TABLE groups ADD CONSTRAINT groups_name_key UNIQUE(name);"
                  "UPDATE vigil_schema SET version = 15;")
    else:
        vigil.sql("CREATE TABLE groups_v2(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                  "  marking_id TEXT NOT NULL UNIQUE, owner INTEGER NOT NULL"
                  "  REFERENCES partners(id), created INTEGER NOT NULL);"
                  "INSERT INTO groups_v2 SELECT * FROM groups; DROP TABLE groups;"
                  "ALTER TABLE groups_v2 RENAME TO groups; PRAGMA user_version = 15;")
    vigil.start()
    version = vigil.sql("SELECT version FROM vigil_schema" if PG else "PRAGMA user_version")
    assert int(version[0][0]) == 16
    assert made(vigil, t["a1"], "Ops North", ["A"]) != theirs
    assert readable(vigil, t["c1"], rid)
    assert theirs in markings(vigil, t["c1"], posted(vigil, t["c1"], group="Ops North"))
    again = add_group(vigil, t["b1"], "Ops North", ["B"])
    assert again.status_code == 409


def test_a_green_report_does_not_name_its_group_to_every_partner(hub):
    """A GREEN report (or agreement) with a group was stored with the group's name in its
    REST document, which every partner reads: C, in no group of A's, read "A-B back channel".
    A group narrows AMBER and RED only; with CLEAR or GREEN it is refused (400) and nothing is
    stored. AMBER with the group is still what members read."""
    vigil, t = hub
    made(vigil, t["a1"], "A-B back channel", ["A", "B"])
    before = vigil.get("/api/v1/reports", token=t["c1"]).json()["reports"]
    for marking in ("green", "clear"):
        r = post(vigil, t["a1"], marking=marking, group="A-B back channel")
        assert r.status_code == 400, r.text
        assert "narrows amber" in r.json()["description"]
    made(vigil, t["cc1"], "Mediators", ["A"])
    agreement = {"name": "Side deal", "effective": "2025-01-01T00:00:00Z", "marking": "green",
                 "group": "Mediators", "parties": [{"name": "P"}],
                 "zones": [{"name": "Z", "kind": "buffer-zone", "geometry": {
                     "type": "Polygon", "coordinates": [[[34.4, 31.5], [34.5, 31.5],
                                                         [34.5, 31.6], [34.4, 31.5]]]},
                            "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]}]}
    r = vigil.post("/api/v1/agreements", token=t["cc1"], json=agreement)
    assert r.status_code == 400 and "narrows amber" in r.text, r.text
    after = vigil.get("/api/v1/reports", token=t["c1"]).json()["reports"]
    assert after == before
    assert "A-B back channel" not in vigil.get("/api/v1/reports", token=t["c1"]).text
    rid = posted(vigil, t["a1"], marking="amber", group="A-B back channel")
    assert readable(vigil, t["b1"], rid) and not readable(vigil, t["c1"], rid)
