"""What the colleagues of a user named in a RED sharing group can learn of what only that user
may read, and other attacks by a partner with a valid token on reads the other hostile tests
leave out. Each is written as the attack and asserts the safe behaviour.

- RED shared with one named user: the other users of that user's partner (its analyst and its
  admin) learn nothing of the report from any derived product or side door: the sorted,
  counted and filtered report lists, incidents, violations, tallies, the live stream's
  incident events, TAXII, and the partner's own audit log (an administrator role does not
  bypass markings, SPEC S3);
- the sorted, counted and filtered report lists count only what the reader may read;
- REST cursors replayed by another user or on another endpoint;
- HEAD, OPTIONS and write methods on a hidden report answer as on a missing one.
"""
import socket
import time
import uuid

import pytest

from test_compliance import RAFAH, load, post_report, report


@pytest.fixture
def world(vigil):
    """A GREEN agreement over Rafah. Partners A and B. A's analyst a1 shares a RED report with
    B's analyst b1 by name (group "red-b1": user:a1, user:b1); B's other analyst b2 and B's
    admin b-adm are not named. A also posts an AMBER report (no group: the coordination center
    only) and B posts a GREEN one."""
    v = vigil
    load(v)
    v.partner("A")
    v.partner("B")
    t = {"a1": v.user("A", "a1"), "b1": v.user("B", "b1"), "b2": v.user("B", "b2"),
         "b-adm": v.user("B", "b-adm", role="admin")}
    r = v.post("/api/v1/groups", token=t["a1"],
               json={"name": "red-b1", "members": ["user:a1", "user:b1"]})
    assert r.status_code == 201, r.text
    ids = {
        "red": post_report(v, report(RAFAH, "2025-03-01T10:00:00Z", marking="red",
                                     group="red-b1", title="RedForB1"), token=t["a1"]),
        "amber": post_report(v, report(RAFAH, "2025-03-01T10:05:00Z", marking="amber",
                                       title="AmberForCC"), token=t["a1"]),
        "green": post_report(v, report(RAFAH, "2025-03-01T10:10:00Z", title="GreenOfB"),
                             token=t["b1"]),
    }
    return v, t, ids


def sse(vigil, token, path, wait=2.5):
    """The raw bytes a live stream sends within `wait` seconds."""
    s = socket.create_connection(("127.0.0.1", vigil.port), timeout=wait)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode())
    got, end = b"", time.time() + wait
    try:
        while time.time() < end:
            s.settimeout(max(0.05, end - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    return got.decode(errors="replace")


# ---- RED shared with one named user ---------------------------------------------------------

def test_red_shared_with_one_user_reaches_no_colleague_through_lists_counts_or_stream(world):
    """b2 and b-adm (B's users not named in the RED group) probe every list, filter, count and
    derived product that could carry the RED report (or a trace of it); b1 (named) sees it, so
    the attack is real."""
    v, t, ids = world
    red = ids["red"]
    # b1 is named: the report and what derives from it reach b1.
    assert v.get(f"/api/v1/reports/{red}", token=t["b1"]).status_code == 200
    assert red in v.get("/api/v1/incidents", token=t["b1"]).text
    assert red in v.get("/api/v1/violations", token=t["b1"]).text
    coll = v.collection("reports")
    for who in ("b2", "b-adm"):
        tok = t[who]
        assert v.get(f"/api/v1/reports/{red}", token=tok).status_code == 404
        for q in ("", "?total=true", "?sort=marking", "?sort=-marking&total=true",
                  "?marking=red&total=true", "?partner=A&total=true", "?q=RedForB1&total=true",
                  "?bbox=34,31,35,32&total=true", "?format=geojson&total=true",
                  "?sort=title&limit=1"):
            r = v.get("/api/v1/reports" + q, token=tok)
            assert r.status_code == 200, (q, r.text)
            assert red not in r.text and "RedForB1" not in r.text, (who, q)
            if "total" in r.json():
                assert r.json()["total"] == (0 if "partner=A" in q or "RedForB1" in q
                                             or "marking=red" in q else 1), (who, q, r.text)
        for path in ("/api/v1/incidents", "/api/v1/incidents?corroborated=true",
                     "/api/v1/violations", "/api/v1/alerts"):
            r = v.get(path, token=tok)
            assert r.status_code == 200 and red not in r.text, (who, path)
        tallies = v.get("/api/v1/tallies", token=tok,
                        params={"from": "2025-03-01", "to": "2025-03-01"}).json()
        # only B's own GREEN report is a violation for them
        assert tallies["totals"]["all"] == 1, (who, tallies)
        daily = v.get("/api/v1/compliance/daily", token=tok,
                      params={"date": "2025-03-01", "format": "json"})
        assert red not in daily.text and "RedForB1" not in daily.text
        for path in (f"objects/{red}/", f"objects/{red}/versions/",
                     f"objects/?match[id]={red}", f"manifest/?match[id]={red}"):
            r = v.get(f"/taxii2/api/collections/{coll}/{path}", token=tok)
            assert red not in r.text, (who, path, r.text)
        # the live stream, replayed from the start, with incidents asked for
        got = sse(v, tok, "/api/v1/stream?since=0&kinds=report,incident,violation,alert")
        assert ": connected" in got
        assert red not in got and "RedForB1" not in got, (who, got)
    got = sse(v, t["b1"], "/api/v1/stream?since=0&kinds=report,incident")
    assert red in got  # the named user does get it


def test_a_partner_admin_does_not_learn_of_red_reports_read_by_the_one_user_named(world):
    """SPEC S3: RED is for the named users only, and an administrator role does not bypass
    markings. B's admin is not named in the RED group, so it may not read the report, and
    GET /api/v1/reports/{id} tells it 404. Yet B's audit log, which a partner's admins read in
    full, named the RED report every time b1 read it (REST by id, TAXII, lists): its id, its
    version and date_added. b1 reads more than B's admin, so b1's entries are now shown to it
    as another partner's (who, when, what kind; "withheld"); b2, who reads no more than the
    admin, keeps its entries in full."""
    v, t, ids = world
    red = ids["red"]
    coll = v.collection("reports")
    assert v.get(f"/api/v1/reports/{red}", token=t["b1"]).status_code == 200
    assert v.get(f"/taxii2/api/collections/{coll}/objects/{red}/", token=t["b1"]).status_code \
        == 200
    assert red in v.get("/api/v1/reports", token=t["b1"]).text
    assert v.get(f"/api/v1/reports/{ids['green']}", token=t["b2"]).status_code == 200
    assert v.get(f"/api/v1/reports/{red}", token=t["b-adm"]).status_code == 404
    time.sleep(0.5)  # reads are audited just after they are answered
    log = v.get("/api/v1/audit", token=t["b-adm"], params={"order": "newest", "limit": 1000})
    assert log.status_code == 200, log.text
    assert red not in log.text, "B's admin reads the id of a RED report it may not read"
    entries = log.json()["entries"]
    b1_reads = [e for e in entries if e["user_name"] == "b1" and e["action"] == "read"]
    assert len(b1_reads) >= 3 and all(e.get("withheld") for e in b1_reads), b1_reads
    assert all(e["detail"] == {} and e["object"] == "" for e in b1_reads), b1_reads
    b2_reads = [e for e in entries if e["user_name"] == "b2" and e["action"] == "read"]
    assert [e["detail"] for e in b2_reads] == [{"reports": [ids["green"]]}], b2_reads
    assert not any(e.get("withheld") for e in b2_reads)
    # nor does a search find b1's entries by the id
    found = v.get("/api/v1/audit", token=t["b-adm"], params={"q": red}).json()["entries"]
    assert found == []
    # b1 itself is no admin; A's admin (not named either) sees none of B's entries
    assert v.get("/api/v1/audit", token=t["b1"]).status_code == 403


# ---- counts and cursors ---------------------------------------------------------------------

def test_sorted_counted_and_filtered_lists_count_only_what_the_reader_may_read(world):
    """A's RED and AMBER reports under every sort key, marking filter and total: the page,
    the total and the next cursor of B's analyst b2 are those of a hub holding B's one GREEN
    report (and nothing moves when A adds more hidden reports)."""
    v, t, ids = world

    def answers():
        out = {}
        for key in ("start", "event", "mode", "future", "title", "partner", "grading",
                    "marking", "fatalities"):
            for sign in ("", "-"):
                r = v.get("/api/v1/reports", token=t["b2"],
                          params={"sort": sign + key, "limit": 1, "total": "true"})
                assert r.status_code == 200, r.text
                body = r.json()
                assert body["total"] == 1 and "next" not in body, (key, body)
                out[sign + key] = [x["id"] for x in body["reports"]]
        for m in ("clear", "green", "amber", "amber+strict", "red"):
            r = v.get("/api/v1/reports", token=t["b2"], params={"marking": m})
            out[m] = (r.json()["total"], [x["id"] for x in r.json()["reports"]])
        return out

    before = answers()
    assert before["green"] == (1, [ids["green"]]) and before["red"] == (0, [])
    assert before["amber"] == (0, [])
    for i in range(5):
        post_report(v, report(RAFAH, f"2025-03-01T11:0{i}:00Z", marking="red",
                              title=f"more {i}"), token=t["a1"])
    assert answers() == before


def test_report_cursors_replayed_by_a_colleague_or_on_another_endpoint_are_refused(world):
    """b1's cursors (sorted and unsorted report lists, alerts) are sealed to b1 and to their
    endpoint: b2 (same partner) replaying them, or b1 sending one endpoint's cursor to another,
    is refused with the same 400 as a made-up cursor, and reveals nothing."""
    v, t, ids = world
    post_report(v, report(RAFAH, "2025-03-01T12:00:00Z", title="second green"), token=t["b1"])
    unsorted = v.get("/api/v1/reports", token=t["b1"], params={"limit": 1}).json()
    sorted_ = v.get("/api/v1/reports", token=t["b1"],
                    params={"limit": 1, "sort": "title"}).json()
    assert "next" in unsorted and "next" in sorted_
    bogus = v.get("/api/v1/reports", token=t["b2"], params={"cursor": "AAAA" * 20})
    assert bogus.status_code == 400
    for cur, extra in ((unsorted["next"], {}), (sorted_["next"], {"sort": "title"})):
        r = v.get("/api/v1/reports", token=t["b2"], params=dict(extra, cursor=cur))
        assert (r.status_code, r.content) == (bogus.status_code, bogus.content), r.text
    # across endpoints, for the user who got them
    for path, params in (("/api/v1/reports", {"cursor": sorted_["next"]}),
                         ("/api/v1/reports", {"cursor": unsorted["next"], "sort": "title"}),
                         ("/api/v1/alerts", {"cursor": sorted_["next"]})):
        r = v.get(path, token=t["b1"], params=params)
        assert r.status_code == 400, (path, params, r.text)
    r = v.get("/api/v1/stream", token=t["b1"], params={"since": sorted_["next"]})
    assert r.status_code == 400


# ---- methods on routes ----------------------------------------------------------------------

def test_head_and_options_on_a_hidden_report_answer_like_on_a_missing_one(world):
    """HEAD and OPTIONS on another partner's RED report, on a made-up report id, and on the
    TAXII object of each: the same answers, so the method cannot tell hidden from missing."""
    v, t, ids = world
    coll = v.collection("reports")
    fake = f"report--{uuid.uuid4()}"
    for method in ("HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"):
        for base in ("/api/v1/reports/{}", f"/taxii2/api/collections/{coll}/objects/{{}}/",
                     f"/taxii2/api/collections/{coll}/objects/{{}}/versions/"):
            a = v.request(method, base.format(ids["red"]), token=t["b2"])
            b = v.request(method, base.format(fake), token=t["b2"])
            assert (a.status_code, a.headers.get("Content-Type"), a.content,
                    a.headers.get("Allow")) == \
                (b.status_code, b.headers.get("Content-Type"), b.content,
                 b.headers.get("Allow")), (method, base)
            assert a.status_code in (404, 405), (method, base, a.status_code)
    assert v.get("/healthz").status_code == 200
