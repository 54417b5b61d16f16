"""Hostile partners (S3 "Hostile partners", issue #18 items 8, 9, 10, 12), each written as the
attack, asserting the safe outcome: counts and side channels (/metrics, REST cursors, sharing
groups), what admins see in the audit log, webhooks as a server-side request forgery, CSV
formulas in exports, and an audit chain re-chained after tampering."""
import csv
import hashlib
import io
import re
import sqlite3
import struct
import time

import pytest

from conftest import PG, TAXII
from stix_samples import TLP_AMBER, envelope, indicator

REPORT = {"event": "ASSAULT", "mode": "aerial", "start": "2025-03-18T02:00:00Z",
          "location": {"lat": 31.51, "lon": 34.46, "precision_m": 500},
          "reliability": "B", "credibility": 2, "marking": "green"}


def post_report(vigil, token, **kw):
    r = vigil.request("POST", "/api/v1/reports", token=token, json=dict(REPORT, **kw))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def hub(vigil):
    """Partners A, B and C, each with an analyst (a1, b1, c1) and an admin (a-adm, b-adm);
    the coordination center's analyst cc1. Tokens by user name ("admin": the hub's admin)."""
    for p in ("A", "B", "C"):
        vigil.partner(p)
    t = {"admin": vigil.admin_token}
    for name, partner, role in (("a1", "A", "analyst"), ("b1", "B", "analyst"),
                                ("c1", "C", "analyst"), ("a-adm", "A", "admin"),
                                ("b-adm", "B", "admin"),
                                ("cc1", "Coordination Center", "analyst")):
        t[name] = vigil.user(partner, name, role=role)
    return vigil, t


# -- 8. counts and side channels ------------------------------------------------------------

def test_metrics_are_for_the_coordination_centers_admins_only(hub):
    """/metrics counts every report fused (vigil_fusion_reports moves with reports a partner
    may not read): any other token reading it learns of hidden reports."""
    vigil, t = hub
    post_report(vigil, t["b1"], marking="amber", title="B's own, hidden from A")
    for who in ("a1", "a-adm", "cc1"):
        r = vigil.get("/metrics", token=t[who])
        assert r.status_code == 403, who
        assert "vigil_fusion_reports" not in r.text
    r = vigil.get("/metrics", token=t["admin"])
    assert r.status_code == 200 and "vigil_fusion_reports" in r.text


def test_report_cursors_are_opaque_and_bound_to_their_reader(hub):
    """A cursor carried the index's global sequence ("start.seq"): the gap between two of
    them counted the reports of others. It must say nothing, and serve its reader only."""
    vigil, t = hub
    mine = [post_report(vigil, t["a1"], title=f"A {i}",
                        start=f"2025-03-1{i}T02:00:00Z") for i in range(3)]
    for i in range(4):
        post_report(vigil, t["b1"], marking="amber", title=f"hidden {i}")
    first = vigil.get("/api/v1/reports?limit=1&partner=A", token=t["a1"]).json()
    cur = first["next"]
    assert not re.search(r"\d+\.\d+", cur) and not cur.isdigit()
    seen = [r["id"] for r in first["reports"]]
    while cur:
        page = vigil.get(f"/api/v1/reports?limit=1&partner=A&cursor={cur}", token=t["a1"])
        assert page.status_code == 200, page.text
        seen += [r["id"] for r in page.json()["reports"]]
        cur = page.json().get("next")
    assert sorted(seen) == sorted(mine)
    # Another reader cannot use it, nor a forged or altered one.
    cur = first["next"]
    other = vigil.get(f"/api/v1/reports?limit=1&partner=A&cursor={cur}", token=t["c1"])
    assert other.status_code == 400
    flipped = cur[:-2] + ("A" if cur[-2] != "A" else "B") + cur[-1]
    for bad in (flipped, "1742263200000000.5", "0"):
        r = vigil.get(f"/api/v1/reports?limit=1&cursor={bad}", token=t["a1"])
        assert r.status_code == 400, bad


def test_posting_into_a_group_one_is_not_in_is_like_an_unknown_group(hub):
    """Posting into a group told apart groups that exist from those that do not (and let a
    non-member push reports into others' groups)."""
    vigil, t = hub
    ab = vigil.run("group", "add", "AB", "A", "B").stdout.strip()
    theirs = vigil.request("POST", "/api/v1/reports", token=t["c1"],
                           json=dict(REPORT, marking="amber", group="AB"))
    nothing = vigil.request("POST", "/api/v1/reports", token=t["c1"],
                            json=dict(REPORT, marking="amber", group="ZZ"))
    assert theirs.status_code == nothing.status_code == 400
    assert theirs.json()["description"].replace('"AB"', '"ZZ"') == \
        nothing.json()["description"]
    # Members may.
    assert vigil.request("POST", "/api/v1/reports", token=t["a1"],
                         json=dict(REPORT, marking="amber", group="AB")).status_code == 201
    # Over TAXII, another's group marking reads as an unknown marking: the owner only.
    coll = vigil.collection("reports")
    o = indicator(1, markings=[TLP_AMBER, ab])
    r = vigil.post(f"/taxii2/api/collections/{coll}/objects/", token=t["c1"], json=envelope(o))
    assert r.status_code == 202
    url = f"/taxii2/api/collections/{coll}/objects/{o['id']}/"
    assert vigil.get(url, token=t["c1"]).status_code == 200
    assert vigil.get(url, token=t["b1"]).status_code == 404
    assert vigil.get(url, token=t["a1"]).status_code == 404


# -- 9. admins and the audit log --------------------------------------------------------------

def test_admins_see_no_audit_content_of_other_partners(hub):
    """Partner A's search terms and the ids of its hidden reports were in the audit log that
    the coordination center's admin reads."""
    vigil, t = hub
    vigil.run("group", "add", "A-only", "A")
    hidden = post_report(vigil, t["a1"], marking="amber", group="A-only",
                         title="A's secret: operation nightjar")
    assert vigil.get("/api/v1/reports?q=nightjar", token=t["a1"]).status_code == 200
    assert vigil.get(f"/api/v1/reports/{hidden}", token=t["a1"]).status_code == 200
    green = post_report(vigil, t["a1"], marking="green", title="public")

    def entries(who):
        r = vigil.get("/api/v1/audit?limit=1000", token=t[who])
        assert r.status_code == 200, r.text
        return r.json()["entries"]

    # Reads are audited just after they are answered: wait for both to be in the log.
    for _ in range(100):
        a_view = entries("a-adm")
        if sum(e["action"] == "read" for e in a_view) >= 2:
            break
        time.sleep(0.1)
    hub_view = entries("admin")
    text = repr(hub_view)
    assert "nightjar" not in text and hidden not in text
    a_entries = [e for e in hub_view if e["partner"] != hub_view[0]["partner"]]
    assert a_entries and all(e["action"] for e in a_entries)  # who did what kind, and when
    assert any(e.get("object") == green for e in hub_view)  # a report it may read: named
    # A's own admin sees A's entries in full; B's admin sees none of them.
    assert "nightjar" in repr(a_view) and hidden in repr(a_view)
    assert "nightjar" not in repr(entries("b-adm")) and hidden not in repr(entries("b-adm"))
    # The global sequence is the hub's admins' only: partner admins page with an opaque cursor.
    assert all("seq" not in e for e in a_view)
    assert vigil.get("/api/v1/audit?after=1", token=t["a-adm"]).status_code == 400
    page = vigil.get("/api/v1/audit?limit=1", token=t["a-adm"]).json()
    nxt = vigil.get(f"/api/v1/audit?limit=1&cursor={page['next']}", token=t["a-adm"])
    assert nxt.status_code == 200 and nxt.json()["entries"] != page["entries"]
    assert vigil.get(f"/api/v1/audit?limit=1&cursor={page['next']}",
                     token=t["b-adm"]).status_code == 400


# -- 10. webhooks are not a way into the hub's network -----------------------------------------

SSRF_URLS = [
    "http://127.0.0.1:8443/metrics", "http://localhost/", "http://169.254.169.254/latest/",
    "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/",
    "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://user:pw@127.0.0.1/",
]


@pytest.mark.parametrize("url", SSRF_URLS)
def test_webhooks_to_internal_addresses_are_refused(hub, url):
    vigil, t = hub
    r = vigil.request("POST", "/api/v1/webhooks", token=t["a1"],
                      json={"url": url, "secret": "s3cret-for-the-test-0123"})
    assert r.status_code == 400, (url, r.text)
    assert r.json()["description"].startswith("url:")
    assert vigil.get("/api/v1/webhooks", token=t["a1"]).json()["webhooks"] == []


def test_deliveries_do_not_connect_to_internal_addresses(hub):
    """The check at registration is not enough (a name may resolve elsewhere later): the
    connection itself is refused. A hook registered while private targets were allowed is
    not delivered once they are not."""
    import http.server
    import threading
    vigil, t = hub
    got = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        vigil.allow_private_webhooks()
        r = vigil.request("POST", "/api/v1/webhooks", token=t["a1"],
                          json={"url": f"http://localhost:{srv.server_address[1]}/hook",
                                "secret": "s3cret-for-the-test-0123"})
        assert r.status_code == 201, r.text
        vigil.allow_private_webhooks(False)
        post_report(vigil, t["a1"], title="must not reach loopback")
        row = None
        for _ in range(100):
            rows = vigil.sql("SELECT attempts, last_error FROM outbox")
            row = rows[0] if rows else None
            if row and int(row[0]) >= 1:
                break
            time.sleep(0.1)
        assert row and int(row[0]) >= 1 and "not public" in row[1], row
        assert got == []
    finally:
        srv.shutdown()
        srv.server_close()


# -- 11. one partner's subscriptions cannot load every other partner ----------------------------

def test_a_partner_cannot_multiply_its_webhooks(hub):
    """Every report is offered to every webhook of the hub in the transaction that stores it
    (the subscriber's groups loaded, the egress gate asked, a delivery queued): an analyst who
    subscribed thousands slowed every partner's writes and made the hub send each report
    thousands of times. A partner's users hold webhooks_per_partner (20) together: the next is
    refused and stores nothing, removing one frees a place, another partner counts its own."""
    vigil, t = hub
    vigil.allow_private_webhooks()

    def hook(who, i):
        return vigil.request("POST", "/api/v1/webhooks", token=t[who],
                             json={"url": f"http://127.0.0.1:9/{who}/{i}", "kinds": "report"})

    made = [hook("a1" if i % 2 else "a-adm", i) for i in range(20)]
    assert [r.status_code for r in made] == [201] * 20
    for who in ("a1", "a-adm"):
        r = hook(who, 99)
        assert r.status_code == 409, r.text
        assert "webhooks_per_partner" in r.json()["description"]
    assert len(vigil.sql("SELECT id FROM webhooks WHERE disabled = 0")) == 20
    b = hook("b1", 0)
    assert b.status_code == 201
    post_report(vigil, t["c1"], title="offered to every webhook")
    assert int(vigil.sql("SELECT COUNT(*) FROM outbox")[0][0]) == 21
    # another partner's webhook is not A's to remove, nor to free a place with
    bid = b.json()["id"]
    assert vigil.request("DELETE", f"/api/v1/webhooks/{bid}", token=t["a1"]).status_code == 404
    assert hook("a1", 100).status_code == 409
    gone = made[1].json()["id"]  # one of a1's
    assert vigil.request("DELETE", f"/api/v1/webhooks/{gone}", token=t["a1"]).status_code == 200
    assert hook("a1", 100).status_code == 201
    assert hook("a-adm", 101).status_code == 409
    # the removal is audited like the subscription
    removals = vigil.sql("SELECT object FROM audit WHERE detail = '{\"op\":\"webhook remove\"}'")
    assert [r[0] for r in removals] == [str(gone)]


@pytest.mark.parametrize("kinds", ["violation", "report,violation", "alerts", ",alert",
                                   "REPORT", "report alert"])
def test_webhook_kinds_it_would_never_deliver_are_refused(hub, kinds):
    """kinds named anything, "violation" included (the error message suggested it), and the
    subscription silently received nothing of it: webhooks deliver reports and alerts."""
    vigil, t = hub
    vigil.allow_private_webhooks()
    r = vigil.request("POST", "/api/v1/webhooks", token=t["a1"],
                      json={"url": "http://127.0.0.1:9/hook", "kinds": kinds})
    assert r.status_code == 400 and r.json()["description"].startswith("kinds:"), r.text
    assert vigil.sql("SELECT id FROM webhooks") == []
    for ok in ("report", "alert", "report,alert", "alert,report", ""):
        r = vigil.request("POST", "/api/v1/webhooks", token=t["a1"],
                          json={"url": "http://127.0.0.1:9/hook", "kinds": ok})
        assert r.status_code == 201, (ok, r.text)


def test_a_partner_cannot_multiply_the_groups_it_puts_others_in(hub):
    """A partner names any other partner as a member of the groups it creates, and each of
    those groups is loaded with every request of the member's users: a partner creating groups
    without end made every request of another partner slower. One partner creates at most
    groups_per_partner through the API (5 here); the operator's `vigil group add` is not
    limited, and another partner creates its own."""
    vigil, t = hub
    vigil.stop()
    with open(vigil.data / "vigil.conf", "a") as f:
        f.write("groups_per_partner = 5\n")
    vigil.start()

    def group(who, name):
        return vigil.request("POST", "/api/v1/groups", token=t[who],
                             json={"name": name, "members": ["B"]})

    assert [group("a1" if i % 2 else "a-adm", f"a-group-{i}").status_code
            for i in range(5)] == [201] * 5
    r = group("a1", "a-group-5")
    assert r.status_code == 409, r.text
    assert "groups_per_partner" in r.json()["description"]
    names = [g["name"] for g in vigil.get("/api/v1/groups", token=t["b1"]).json()["groups"]]
    assert "a-group-5" not in names and sum(n.startswith("a-group-") for n in names) == 5
    assert group("c1", "c-group").status_code == 201
    vigil.run("group", "add", "a-group-by-the-operator", "B", "--owner", "A")


# -- 12. CSV formulas, the audit chain re-chained ----------------------------------------------

def test_csv_export_neutralises_formulas(hub):
    vigil, t = hub
    post_report(vigil, t["a1"], title="=HYPERLINK(\"http://evil/\",\"click\")",
                description="+cmd|' /C calc'!A0", actors=["@SUM(1+1)", "x"],
                targets=["-2+3"], location={"lat": -1.5, "lon": 34.46, "precision_m": 500})
    out = vigil.run("export", "csv", "--as", "a1").stdout
    row = next(csv.DictReader(io.StringIO(out)))
    for col in ("title", "description", "actors", "targets"):
        assert row[col][0] == "'", (col, row[col])
    assert row["title"] == "'=HYPERLINK(\"http://evil/\",\"click\")"
    assert row["lat"] == "-1.5"  # a number is not a formula: written as it is


def chain_hash(prev, seq, tm, partner, user, action, obj, detail):
    h = hashlib.sha256(prev)
    h.update(struct.pack("<qqqq", seq, tm, partner, user))
    for s in (action, obj, detail):
        h.update(s.encode() + b"\0")
    return h.digest()


def rechain(db, seq, detail):
    """What someone who can write the store does: alter an entry and recompute every hash
    from it on, so that the chain verifies again."""
    con = sqlite3.connect(db)
    con.execute("UPDATE audit SET detail = ? WHERE seq = ?", (detail, seq))
    prev = bytes(32)
    for row in con.execute("SELECT seq, time, partner, user, action, object, detail FROM audit"
                           " ORDER BY seq").fetchall():
        h = chain_hash(prev, *row)
        con.execute("UPDATE audit SET prev = ?, hash = ? WHERE seq = ?", (prev, h, row[0]))
        prev = h
    con.commit()
    con.close()


@pytest.mark.skipif(PG, reason="re-chains with SQLite blob updates; the PostgreSQL store's audit"
                    " rows are tampered with in test_access.py")
def test_audit_rechained_after_tampering_fails_against_a_checkpoint(hub, tmp_path):
    vigil, t = hub
    post_report(vigil, t["a1"], title="recorded")
    vigil.stop()
    cp = vigil.run("audit", "checkpoint").stdout.strip()
    assert cp.startswith("vigil-audit-checkpoint v1 seq=") and " sig=" in cp
    assert (vigil.data / "audit.key").stat().st_mode & 0o077 == 0
    kept = tmp_path / "checkpoint"
    kept.write_text(cp + "\n")
    ok = vigil.run("audit", "verify", "--checkpoint", str(kept), check=False)
    assert ok.returncode == 0 and "checkpoint holds" in ok.stdout
    # Entries added later do not disturb it.
    vigil.run("partner", "add", "D")
    assert vigil.run("audit", "verify", "--checkpoint", str(kept),
                     check=False).returncode == 0
    # A forged checkpoint (another head) does not verify.
    forged = tmp_path / "forged"
    forged.write_text(re.sub(r"head=[0-9a-f]{4}", "head=0000", cp) + "\n")
    bad = vigil.run("audit", "verify", "--checkpoint", str(forged), check=False)
    assert bad.returncode == 1 and "signature" in bad.stderr
    # The attack: alter entry 2 and re-chain. The chain alone verifies...
    rechain(vigil.data / "vigil.db", 2, '{"op":"forged"}')
    assert vigil.run("audit", "verify", check=False).returncode == 0
    # ...but not against the checkpoint kept elsewhere.
    bad = vigil.run("audit", "verify", "--checkpoint", str(kept), check=False)
    assert bad.returncode == 1 and "re-chained" in bad.stderr


def test_a_token_asked_for_loosely_is_refused_not_made_stronger(hub):
    """"read_only": "true" was read as false (a token that may write) and "expires_days":
    "30" as 0 (one that never expires); 2**32 + 1 days wrapped to one. Each is refused now,
    and no token is made."""
    vigil, t = hub
    before = len(vigil.get("/api/v1/tokens", token=t["a-adm"]).json()["tokens"])
    for bad in ({"read_only": "true"}, {"read_only": 1}, {"expires_days": "30"},
                {"expires_days": 2 ** 32 + 1}, {"expires_days": 3651}, {"expires_days": -1},
                {"expires_days": 1.5}, {"label": 5}):
        r = vigil.post("/api/v1/tokens", token=t["a-adm"], json=dict(user="a1", **bad))
        assert r.status_code == 400, (bad, r.text)
    assert len(vigil.get("/api/v1/tokens", token=t["a-adm"]).json()["tokens"]) == before
    r = vigil.post("/api/v1/tokens", token=t["a-adm"],
                   json={"user": "a1", "read_only": True, "expires_days": 30})
    assert r.status_code == 201
    assert vigil.post("/api/v1/reports", token=r.json()["token"], json=REPORT).status_code == 403
    r = vigil.post("/api/v1/partners", token=t["admin"], json={"name": "D", "coordinator": "no"})
    assert r.status_code == 400
    assert "D" not in [p["name"] for p in
                       vigil.get("/api/v1/partners", token=t["admin"]).json()["partners"]]
