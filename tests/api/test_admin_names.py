"""The admin pages' server side (issue #23, item 9): users with their partner, groups with
their members, and an audit log with names, newest first, filtered on the server over the
whole log (not the page loaded). The attacks: a partner's admin filtering the log for another
partner's content, and a group's member learning another partner's user names."""
import time

import pytest

from test_hostile_admin import hub, post_report  # noqa: F401 (the fixture)


def audit(vigil, token, query=""):
    r = vigil.get("/api/v1/audit" + query, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def test_users_carry_their_partner(hub):  # noqa: F811
    vigil, t = hub
    users = {u["name"]: u for u in vigil.get("/api/v1/users").json()["users"]}
    assert users["a1"]["partner"] == "A" and users["cc1"]["partner"] == "Coordination Center"
    mine = vigil.get("/api/v1/users", token=t["a-adm"]).json()["users"]
    assert {u["partner"] for u in mine} == {"A"}


def test_groups_show_members_but_not_another_partners_user_names(hub):  # noqa: F811
    vigil, t = hub
    vigil.run("group", "add", "AB", "A", "B", "user:c1")
    groups = {g["name"]: g for g in vigil.get("/api/v1/groups").json()["groups"]}
    assert sorted(groups["AB"]["members"]) == ["A", "B", "user:c1"]  # the hub's admin
    # A is a member: it sees the partners, and that a user is named, but not C's user's name
    a = {g["name"]: g for g in vigil.get("/api/v1/groups", token=t["a1"]).json()["groups"]}
    assert sorted(a["AB"]["members"]) == ["A", "B"] and a["AB"]["users_withheld"] == 1
    # the name itself, not a substring: a group's uuid may contain "c1" by chance
    assert "user:c1" not in str(a) and "'c1'" not in str(a)


def test_audit_newest_first_with_names(hub):  # noqa: F811
    vigil, t = hub
    for i in range(5):
        post_report(vigil, t["a1"], title=f"r{i}")
    time.sleep(0.3)
    page = audit(vigil, vigil.admin_token, "?order=newest&limit=3")
    seqs = [e["seq"] for e in page["entries"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    assert all("_seq" not in e for e in page["entries"])
    head = audit(vigil, vigil.admin_token, "?limit=1000")["entries"][-1]["seq"]
    assert seqs[0] == head
    more = audit(vigil, vigil.admin_token, "?order=newest&limit=3&cursor=" + page["next"])
    assert [e["seq"] for e in more["entries"]] == [seqs[-1] - 1, seqs[-1] - 2, seqs[-1] - 3]
    mine = [e for e in page["entries"] + more["entries"] if e["user_name"] == "a1"]
    assert mine and all(e["partner_name"] == "A" for e in mine)
    # the whole log, newest first, in pages, is the log reversed
    seen, cur = [], ""
    while True:
        p = audit(vigil, vigil.admin_token, "?order=newest&limit=7" + cur)
        seen += [e["seq"] for e in p["entries"]]
        if "next" not in p:
            break
        cur = "&cursor=" + p["next"]
    assert seen == list(range(head, 0, -1))
    assert vigil.get("/api/v1/audit?order=sideways").status_code == 400


def test_audit_filters_search_the_whole_log_on_the_server(hub):  # noqa: F811
    vigil, t = hub
    bid = post_report(vigil, t["b1"], title="b's")
    for i in range(120):  # more than a page of A's entries after B's
        post_report(vigil, t["a1"], title=f"a{i}")
    time.sleep(0.5)
    r = audit(vigil, vigil.admin_token, "?order=newest&limit=100&user=b1")
    assert r["entries"] and all(e["user_name"] == "b1" for e in r["entries"])
    assert "next" not in r  # the whole log was searched
    q = audit(vigil, vigil.admin_token, "?order=newest&limit=100&q=" + bid.upper())  # any case
    assert q["entries"] and all(e["object"] == bid for e in q["entries"])
    w = audit(vigil, vigil.admin_token, "?order=newest&limit=100&action=write")
    assert len(w["entries"]) == 100 and all(e["action"] == "write" for e in w["entries"])
    # A partner's admin: its own partner's log only, the filter cannot reach another's
    assert audit(vigil, t["a-adm"], "?order=newest&user=b1")["entries"] == []
    own = audit(vigil, t["b-adm"], "?order=newest&user=b1")["entries"]
    assert own and all(e["partner_name"] == "B" for e in own)


def test_audit_filter_does_not_search_withheld_content(hub):  # noqa: F811
    """The hub's admin searching for A's hidden search terms finds nothing: the filter looks
    only at what the admin is shown."""
    vigil, t = hub
    assert vigil.get("/api/v1/reports?q=nightjar", token=t["a1"]).status_code == 200
    time.sleep(0.5)
    assert audit(vigil, vigil.admin_token, "?order=newest&q=nightjar")["entries"] == []
    assert audit(vigil, vigil.admin_token, "?q=nightjar")["entries"] == []
