"""A sharing group's members change, and the change holds on every path at once, written as
the attack (docs/ACCESS.md, "Sharing groups").

A group's members were fixed when it was made: a partner that left the ceasefire's monitoring,
or fell out with the group's owner, went on reading every AMBER report shared into the group,
and its users every RED one, with no way to stop it short of making a new group and
re-marking every object. `PATCH /api/v1/groups/{group}` (and `vigil group add-member |
remove-member`) change the members; every read path loads the reader's groups again, the live
stream with each batch.
"""
import time

from conftest import TAXII, wait_for
from test_hostile_admin import hub, post_report  # noqa: F401 (the fixture)
from test_stream import Listener, Receiver, subscribe


def members(vigil, token, group, add=(), remove=()):
    body = {}
    if add:
        body["add"] = list(add)
    if remove:
        body["remove"] = list(remove)
    return vigil.request("PATCH", f"/api/v1/groups/{group}", token=token, json=body)


def group_of(vigil, token, name, ms):
    r = vigil.post("/api/v1/groups", token=token, json={"name": name, "members": ms})
    assert r.status_code == 201, r.text
    return r.json()["marking_id"]


def listed(vigil, token, marking):
    groups = vigil.get("/api/v1/groups", token=token).json()["groups"]
    return [g for g in groups if g["marking_id"] == marking]


def taxii_ids(vigil, token):
    coll = vigil.collection("reports")
    r = vigil.get(f"/taxii2/api/collections/{coll}/objects/", token=token,
                  headers={"Accept": TAXII})
    assert r.status_code == 200, r.text
    return {o["id"] for o in r.json().get("objects", [])}


def test_a_partner_taken_out_of_a_group_reads_none_of_it_at_once(hub):
    """A shares AMBER reports into "Ops" (A, B, C). A takes B out: B's analyst reads none of
    them on REST, on TAXII, on its open stream and cannot share into the group, while C (the
    control) still does; put back, B reads them again."""
    vigil, t = hub
    ops = group_of(vigil, t["a1"], "Ops", ["A", "B", "C"])
    before = post_report(vigil, t["a1"], marking="amber", group="Ops", title="before")
    assert vigil.get(f"/api/v1/reports/{before}", token=t["b1"]).status_code == 200
    assert any(before in i for i in taxii_ids(vigil, t["b1"]))
    stream_b, stream_c = Listener(vigil, t["b1"]), Listener(vigil, t["c1"])
    try:
        time.sleep(0.3)
        r = members(vigil, t["a1"], ops, remove=["B"])
        assert r.status_code == 200, r.text
        assert r.json() == {"group": ops, "added": [], "removed": ["B"]}

        assert vigil.get(f"/api/v1/reports/{before}", token=t["b1"]).status_code == 404
        assert not any(before in i for i in taxii_ids(vigil, t["b1"]))
        listing = vigil.get("/api/v1/reports", token=t["b1"]).json()["reports"]
        assert before not in [x["id"] for x in listing]
        assert listed(vigil, t["b1"], ops) == []  # B no longer lists the group either
        assert vigil.get(f"/api/v1/reports/{before}", token=t["c1"]).status_code == 200

        after = post_report(vigil, t["a1"], marking="amber", group=ops, title="after")
        got_c = [e[2]["id"] for e in stream_c.events(wait=2) if e[1] == "report"]
        got_b = [e[2]["id"] for e in stream_b.events(wait=0.5) if e[1] == "report"]
        assert after in got_c  # the control's stream got it...
        assert after not in got_b  # ...the stream B opened while a member did not

        denied = vigil.post("/api/v1/reports", token=t["b1"],
                            json={"event": "ASSAULT", "start": "2025-03-18T02:00:00Z",
                                  "location": {"lat": 31.5, "lon": 34.4}, "marking": "amber",
                                  "group": ops})
        assert denied.status_code == 400 and "no sharing group" in denied.text, denied.text

        r = members(vigil, t["a1"], ops, add=["B"])
        assert r.status_code == 200, r.text
        assert vigil.get(f"/api/v1/reports/{after}", token=t["b1"]).status_code == 200
        assert sorted(listed(vigil, t["a1"], ops)[0]["members"]) == ["A", "B", "C"]
    finally:
        stream_b.close()
        stream_c.close()


def test_a_delivery_queued_while_a_member_is_not_sent_after_it_left(hub):
    """A delivery that failed once waits for its retry (2 s). B, taken out of the group
    meanwhile, must not get it when its receiver is back; C's retry (the control) arrives."""
    vigil, t = hub
    vigil.allow_private_webhooks()
    ops = group_of(vigil, t["a1"], "Ops", ["A", "B", "C"])
    rx_b, rx_c = Receiver(failures=1), Receiver(failures=1)
    try:
        subscribe(vigil, t["b1"], rx_b.port)
        subscribe(vigil, t["c1"], rx_c.port)
        post_report(vigil, t["a1"], marking="amber", group=ops, title="queued")
        assert wait_for(lambda: rx_b.failures == 0 and rx_c.failures == 0)  # first tries failed
        assert members(vigil, t["a1"], ops, remove=["B"]).status_code == 200
        assert len(rx_c.wait(1)) == 1  # the control's retry
        time.sleep(3)
        assert rx_b.got == []
    finally:
        rx_b.close()
        rx_c.close()


def test_a_user_taken_out_of_a_red_group_reads_none_of_it(hub):
    """RED: the group names users. a1 takes c1 out; c1 no longer reads the RED report."""
    vigil, t = hub
    red = group_of(vigil, t["a1"], "Eyes only", ["user:a1", "user:c1"])
    rid = post_report(vigil, t["a1"], marking="red", group=red, title="eyes only")
    assert vigil.get(f"/api/v1/reports/{rid}", token=t["c1"]).status_code == 200
    r = members(vigil, t["a1"], "Eyes only", remove=["user:c1"])  # its own group, by name
    assert r.status_code == 200, r.text
    assert vigil.get(f"/api/v1/reports/{rid}", token=t["c1"]).status_code == 404
    assert vigil.get(f"/api/v1/reports/{rid}", token=t["a1"]).status_code == 200


def test_only_the_owner_adds_members_and_the_hubs_admins_take_out(hub):
    """B, a member, cannot take A out of A's group nor add itself a friend (403); C, not a
    member, gets the same 404 as for a group that does not exist, by marking id or name. The
    coordination center's admin may not add C to A's group (that widens A's sharing: 403) but
    takes B out, by marking id. Nothing is changed by the refused attempts."""
    vigil, t = hub
    ops = group_of(vigil, t["a1"], "Ops", ["A", "B"])
    before = listed(vigil, t["a1"], ops)
    for who in ("b1", "b-adm"):
        r = members(vigil, t[who], ops, add=["C"], remove=["A"])
        assert r.status_code == 403, r.text
    unknown = members(vigil, t["c1"], "marking-definition--00000000-0000-4000-8000-000000000000",
                      add=["C"])
    for key in (ops, "Ops"):
        r = members(vigil, t["c1"], key, add=["C"])
        assert r.status_code == 404, r.text
        assert r.json()["title"] == unknown.json()["title"]
        assert r.json().get("description", "").replace(key, "?") == \
            unknown.json().get("description", "").replace(
                "marking-definition--00000000-0000-4000-8000-000000000000", "?")
    assert listed(vigil, t["a1"], ops) == before
    # The hub's admin widens nobody's sharing: adding C to A's group is A's to decide...
    r = members(vigil, t["admin"], ops, add=["C"])
    assert r.status_code == 403, r.text
    assert listed(vigil, t["a1"], ops) == before
    # ...but takes a partner out of any group, by marking id (a name is the caller's own).
    r = members(vigil, t["admin"], "Ops", remove=["B"])
    assert r.status_code == 404, r.text
    r = members(vigil, t["admin"], ops, remove=["B"])
    assert r.status_code == 200, r.text
    assert listed(vigil, t["a1"], ops)[0]["members"] == ["A"]
    # A's admins learn that the hub changed A's group, in A's own audit log.
    log = vigil.get("/api/v1/audit?limit=50", token=t["a-adm"]).json()["entries"]
    told = [e for e in log if e.get("object") == ops and "remove B" in str(e.get("detail"))]
    assert len(told) == 1 and told[0]["detail"].get("by") == "the hub", log
    says = {who: {k: v for k, v in listed(vigil, t[who], ops)[0].items() if k.startswith("may_")}
            for who in ("a1", "admin")}
    assert says == {"a1": {"may_add_members": True, "may_remove_members": True},
                    "admin": {"may_add_members": False, "may_remove_members": True}}


def test_a_reader_or_a_read_only_token_of_the_owner_may_not(hub):
    """The owner's reader gets 403; a read-only token of its analyst is refused by the write
    gate (403)."""
    vigil, t = hub
    ops = group_of(vigil, t["a1"], "Ops", ["A", "B"])
    reader = vigil.user("A", "a-rdr", role="reader")
    assert members(vigil, reader, ops, remove=["B"]).status_code == 403
    ro = vigil.post("/api/v1/tokens", token=t["a-adm"],
                    json={"user": "a1", "read_only": True}).json()["token"]
    assert members(vigil, ro, ops, remove=["B"]).status_code == 403
    assert sorted(listed(vigil, t["a1"], ops)[0]["members"]) == ["A", "B"]


def test_bad_requests_change_nothing(hub):
    """One unknown member among good ones, a list that is not one, an extra field, nothing to
    do: 400, and the members are as they were."""
    vigil, t = hub
    ops = group_of(vigil, t["a1"], "Ops", ["A", "B"])
    for body in ({"add": ["C", "Nobody"]}, {"remove": ["B"], "add": ["user:ghost"]},
                 {"add": "C"}, {"add": [3]}, {"remove": ["B"], "owner": "C"}, {},
                 {"add": [], "remove": []}):
        r = vigil.request("PATCH", f"/api/v1/groups/{ops}", token=t["a1"], json=body)
        assert r.status_code == 400, (body, r.text)
    assert sorted(listed(vigil, t["a1"], ops)[0]["members"]) == ["A", "B"]


def test_each_change_is_audited_and_the_operator_changes_members_too(hub):
    """An audit entry per member changed, under the group's marking id; on the command line
    the operator names a group by --owner and name, or by marking id."""
    vigil, t = hub
    ops = group_of(vigil, t["a1"], "Ops", ["A", "B"])
    assert members(vigil, t["a1"], ops, add=["C"], remove=["B"]).status_code == 200
    audit = vigil.get("/api/v1/audit?limit=50", token=t["a-adm"]).json()["entries"]
    ops_entries = [str(e.get("detail")) for e in audit if e.get("object") == ops]
    assert any("group member add C" in d for d in ops_entries), audit
    assert any("group member remove B" in d for d in ops_entries), audit
    vigil.run("group", "remove-member", "Ops", "C", "--owner", "A")
    vigil.run("group", "add-member", ops, "B")
    assert sorted(listed(vigil, t["a1"], ops)[0]["members"]) == ["A", "B"]
    bad = vigil.run("group", "add-member", "Ops", "Nobody", "--owner", "A", check=False)
    assert bad.returncode == 1 and 'no partner named "Nobody"' in bad.stderr
    assert sorted(listed(vigil, t["a1"], ops)[0]["members"]) == ["A", "B"]
