"""A hostile partner counting what it may not see through hub-wide counters (SPEC S3: nothing
derived from a report, a count included, may tell anyone who may not read it).

Partner A posts GREEN reports (everyone reads them) with AMBER and RED ones between them, in a
sharing group C is not in. C watches the live stream's event ids and its webhook's `seq` and
`delivery` numbers: with hub-wide numbers, the gap between two ids C sees is how many events C
may not see. The ids must tell C nothing (opaque stream ids; per-webhook numbers), and the
stream must still resume exactly from an id it gave (docs/ACCESS.md, "Side channels")."""
import base64
import csv
import json
import os
import time

import pytest
import requests

from conftest import wait_for
from test_stream import Listener, Receiver, post_report, subscribe

HIDDEN = 3  # A's posts C may not see, between two C may


@pytest.fixture
def world(vigil):
    vigil.allow_private_webhooks()  # the receiver listens on loopback
    for p in ("A", "B", "C"):
        vigil.partner(p)
    ta = vigil.user("A", "a1", role="analyst")
    tb = vigil.user("B", "b1", role="analyst")
    tc = vigil.user("C", "c1", role="analyst")
    r = vigil.request("POST", "/api/v1/groups", token=ta, json={"name": "ab", "members": ["B"]})
    assert r.status_code == 201, r.text
    return vigil, ta, tb, tc


def post_hidden(vigil, ta, n=HIDDEN):
    """n reports of A that C may not read (AMBER to a group without C, and RED)."""
    for i in range(n):
        post_report(vigil, ta, marking="red" if i % 2 else "amber", group="ab",
                    title="hidden %d" % i)


def raw_events(vigil, token, last_id, wait=2.0):
    """(id, event, data) of what a stream resumed from last_id sends within `wait`."""
    l = Listener(vigil, token, last_id=last_id)
    try:
        return l.events(wait)
    finally:
        l.close()


def stream_status(vigil, token, last_id=None, since=None):
    h = {"Authorization": "Bearer " + token, "Accept": "text/event-stream"}
    if last_id is not None:
        h["Last-Event-ID"] = last_id
    url = vigil.url + "/api/v1/stream" + ("" if since is None else "?since=" + since)
    with requests.get(url, headers=h, stream=True, timeout=10) as r:
        body = b"" if r.status_code == 200 else r.content
        return r.status_code, body


def count_between(a, b):
    """What a hostile reader infers from two ids: the events it did not see between them."""
    try:
        return int(b) - int(a) - 1
    except ValueError:
        return None  # opaque: nothing to count


def test_stream_ids_do_not_count_what_the_reader_may_not_see(world):
    vigil, ta, tb, tc = world
    lc, lb = Listener(vigil, tc), Listener(vigil, tb)
    time.sleep(0.3)
    g1 = post_report(vigil, ta, marking="green", title="first")
    post_hidden(vigil, ta)
    g2 = post_report(vigil, ta, marking="green", title="second")
    seen_c, seen_b = lc.events(), lb.events()
    lc.close()
    lb.close()
    assert [e[2]["id"] for e in seen_c] == [g1, g2]
    # B is in the group: it reads the AMBER ones (the RED ones are for named users only).
    assert len(seen_b) == 2 + (HIDDEN + 1) // 2
    (i1, _, _), (i2, _, _) = seen_c
    assert count_between(i1, i2) in (None, 0), "C counts A's hidden posts: %r, %r" % (i1, i2)
    # Opaque and unguessable: no number in sight, and B's ids for the same events differ.
    for i in (i1, i2):
        assert len(i) >= 32 and not any(ch.isspace() for ch in i), i
    assert {e[0] for e in seen_b}.isdisjoint({i1, i2})


def test_stream_resumes_exactly_from_an_opaque_id_across_hidden_events(world):
    vigil, ta, tb, tc = world
    g1 = post_report(vigil, ta, marking="green", title="one")
    post_hidden(vigil, ta)
    g2 = post_report(vigil, ta, marking="green", title="two")
    first = raw_events(vigil, tc, "0")
    assert [e[2]["id"] for e in first] == [g1, g2]
    # From each id: exactly what came after it, nothing missed, nothing repeated.
    assert [e[2]["id"] for e in raw_events(vigil, tc, first[0][0])] == [g2]
    assert raw_events(vigil, tc, first[1][0], wait=1.0) == []
    post_hidden(vigil, ta)
    g3 = post_report(vigil, ta, marking="green", title="three")
    assert [e[2]["id"] for e in raw_events(vigil, tc, first[1][0])] == [g3]
    # ?since= takes the same ids.
    h = {"Authorization": "Bearer " + tc, "Accept": "text/event-stream"}
    with requests.get(vigil.url + "/api/v1/stream", params={"since": first[0][0]}, headers=h,
                      stream=True, timeout=10) as r:
        assert r.status_code == 200
        got, ev = [], {}
        for line in r.iter_lines(decode_unicode=True):
            if line == "" and "data" in ev:
                got.append(json.loads(ev["data"])["id"])
                ev = {}
                if len(got) == 2:
                    break
            elif line and not line.startswith(":"):
                k, _, v = line.partition(": ")
                ev[k] = v
        assert got == [g2, g3]


def test_stream_id_resumes_after_a_restart_and_webhook_numbers_go_on(world):
    # The key is secret.key's: an id handed out before a restart still resumes after it, and a
    # webhook's numbering goes on from where it was.
    vigil, ta, tb, tc = world
    rx = Receiver()
    try:
        subscribe(vigil, tc, rx.port)
        g1 = post_report(vigil, ta, marking="green", title="before")
        last = raw_events(vigil, tc, "0")[-1][0]
        assert len(rx.wait(1)) == 1
        vigil.stop()
        vigil.start()
        post_hidden(vigil, ta)
        g2 = post_report(vigil, ta, marking="green", title="after")
        assert [e[2]["id"] for e in raw_events(vigil, tc, last)] == [g2]
        got = rx.wait(2)
        assert [json.loads(b)["data"]["id"] for _, b in got] == [g1, g2]
        assert [json.loads(b)["seq"] for _, b in got] == [1, 2]
    finally:
        rx.close()


def test_stream_position_cannot_be_probed_by_number(world):
    # With numeric ?since= a reader bisects for the seq of each event it sees, and so counts
    # the others; only 0 (the start) and ids the stream gave are taken.
    vigil, ta, tb, tc = world
    post_report(vigil, ta, marking="green", title="x")
    post_hidden(vigil, ta)
    for n in ("1", "2", "4", "5", "100"):
        code, body = stream_status(vigil, tc, since=n)
        assert code == 400, (n, code)
        code, body = stream_status(vigil, tc, last_id=n)
        assert code == 400, (n, code)
        assert b"Last-Event-ID" in body


def test_forged_and_malformed_last_event_ids_are_refused_and_harmless(world):
    vigil, ta, tb, tc = world
    g = post_report(vigil, ta, marking="green", title="real")
    real = raw_events(vigil, tc, "0")[0][0]
    raw = base64.urlsafe_b64decode(real + "=" * (-len(real) % 4))
    flipped = bytearray(raw)
    flipped[-1] ^= 1
    b64 = lambda b: base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode()
    bad = ["", "-1", "+1", " 1", "1 ", "0x10", "1e3", "18446744073709551616",
           "9223372036854775807", "abc", real[:-1], real + "A", real[:-4] + "====",
           b64(flipped), b64(os.urandom(len(raw))), b64(os.urandom(200)), "A" * 4000,
           "\u00e9t\u00e9", "%00", "0" + real]
    std = real.replace("-", "+").replace("_", "/")  # standard base64: the same text
    if std != real:  # when the id has neither character
        bad.append(std)
    for v in bad:
        try:
            code, body = stream_status(vigil, tc, last_id=v)
        except (requests.RequestException, ValueError, UnicodeError):
            continue  # the client would not send it (or the server closed it)
        assert code in (400, 431), (v, code)
        if code == 400:
            assert b"Last-Event-ID" in body, body
    # Another user's id is refused too: ids are bound to the user they were given to.
    assert stream_status(vigil, tb, last_id=real)[0] == 400
    # Still serving, and the real id still resumes.
    assert vigil.get("/healthz").status_code == 200
    assert raw_events(vigil, tc, real, wait=1.0) == []
    g2 = post_report(vigil, ta, marking="green", title="after")
    assert [e[2]["id"] for e in raw_events(vigil, tc, real)] == [g2]
    assert g != g2


def test_webhook_numbers_count_only_what_the_target_received(world):
    vigil, ta, tb, tc = world
    rx_c, rx_a = Receiver(), Receiver()
    try:
        subscribe(vigil, tc, rx_c.port)
        subscribe(vigil, ta, rx_a.port)  # A's own hook takes deliveries between C's
        g1 = post_report(vigil, ta, marking="green", title="first")
        post_hidden(vigil, ta)
        g2 = post_report(vigil, ta, marking="green", title="second")
        got = rx_c.wait(2)
        rx_a.wait(2 + (HIDDEN + 1) // 2)  # A's AMBER ones leave the hub, its RED ones do not
        assert len(got) == 2
        msgs = [json.loads(b) for _, b in got]
        assert [m["data"]["id"] for m in msgs] == [g1, g2]
        seq = [m["seq"] for m in msgs]
        delivery = [m["delivery"] for m in msgs]
        assert seq[1] - seq[0] == 1, "C counts hidden events by seq: %r" % seq
        assert delivery[1] - delivery[0] == 1, "C counts others' deliveries: %r" % delivery
        assert seq == [1, 2] and delivery == [1, 2]
        assert [h["X-Vigil-Delivery"] for h, _ in got] == ["1", "2"]
        # A's hook counts its own, from 1 as well.
        assert [json.loads(b)["seq"] for _, b in rx_a.got][:2] == [1, 2]
    finally:
        rx_c.close()
        rx_a.close()


def alert_world(vigil, ta, tb, tc):
    """C sees two alerts (GREEN reports of A and B); between them A and B raise one from AMBER
    reports of their group, which C may not read. Returns (C's alerts, B's hidden alert)."""
    from test_alerts import MOVEMENT, WARNING, alerts, post

    def pair(lat, **marking):
        at = lambda r: dict(r, location=dict(r["location"], lat=r["location"]["lat"] + lat))
        post(vigil, ta, dict(at(WARNING), **marking))
        post(vigil, tb, dict(at(MOVEMENT), **marking))

    pair(0.0, marking="green")
    assert wait_for(lambda: len(alerts(vigil, tc)) == 1)
    pair(1.0, marking="amber", group="ab")  # A and B's alert: C may read neither report
    assert wait_for(lambda: len(alerts(vigil, tb)) == 2)
    pair(2.0, marking="green")
    assert wait_for(lambda: len(alerts(vigil, tc)) == 2)
    seen_c = alerts(vigil, tc)
    hidden = [a for a in alerts(vigil, tb) if a["id"] not in {x["id"] for x in seen_c}]
    assert len(hidden) == 1, hidden
    return seen_c, hidden[0]


def is_alert_id(i):
    return isinstance(i, str) and len(i) == 36 and i == i.lower() and i.count("-") == 4


def test_alert_ids_do_not_count_alerts_the_reader_may_not_see(world):
    """The attack: C sees two alerts, with an alert between them formed from reports C may not
    read. Their ids must not tell C that (with the engine's numbers they were 1 and 3)."""
    vigil, ta, tb, tc = world
    lc = Listener(vigil, tc)
    try:
        time.sleep(0.3)
        seen_c, hidden = alert_world(vigil, ta, tb, tc)
        streamed = {e[2]["id"] for e in lc.events(1.0) if e[1] == "alert"}
    finally:
        lc.close()
    ids = [a["id"] for a in seen_c]
    for i in ids + [hidden["id"]]:  # opaque: no number to subtract or order by
        assert is_alert_id(i), "C counts the alert it may not see: %r" % ids
        assert count_between("0", i) is None
    # One id per alert for every reader and every way out (REST, stream, TAXII's grouping).
    assert streamed == set(ids)
    assert set(ids) <= {a["id"] for a in alerts_of(vigil, tb)}
    r = vigil.get("/taxii2/api/collections/%s/objects/" % vigil.collection("alerts"), token=tc,
                  headers={"Accept": "application/taxii+json;version=2.1"})
    assert r.status_code == 200, r.text
    assert sorted(o["id"] for o in r.json()["objects"] if o["type"] == "grouping") == \
        sorted("grouping--" + i for i in ids)
    # Stable: after a restart C's bookmarks still name its alerts, and nothing else.
    vigil.stop()
    vigil.start()
    assert wait_for(lambda: len(alerts_of(vigil, tc)) == 2)
    assert sorted(a["id"] for a in alerts_of(vigil, tc)) == sorted(ids)
    for i in ids:
        assert vigil.get("/api/v1/alerts/" + i, token=tc).json()["id"] == i


def alerts_of(vigil, token):
    r = vigil.get("/api/v1/alerts", token=token)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def test_another_readers_alert_id_is_answered_as_no_alert(world):
    """C is given (or guesses) the id of B's alert formed from reports C may not read: reading
    or changing it answers exactly as an id that names nothing, and changes nothing."""
    vigil, ta, tb, tc = world
    seen_c, hidden = alert_world(vigil, ta, tb, tc)
    hid = hidden["id"]

    def answers(i):
        out = []
        for method, path, body in (("GET", "", None),
                                   ("POST", "/status", {"status": "false_alarm"}),
                                   ("POST", "/triage", {"comment": "seen"})):
            r = vigil.request(method, "/api/v1/alerts/" + i + path, token=tc, json=body)
            out.append((r.status_code, r.text))
        return out

    assert answers(seen_c[0]["id"])[0][0] == 200  # C's own alert: found
    nothing = answers("00000000-0000-4000-8000-000000000000")
    assert [c for c, _ in nothing] == [404, 404, 404]
    assert answers(hid) == nothing
    # Forged ids: another case, numbers (the old ids), junk and over-long text.
    for forged in (hid.upper(), hid[:-1] + ("0" if hid[-1] != "0" else "1"), "1", "2", "3",
                   "-1", "%00", "grouping--" + hid, hid + "x", "x" * 4000):
        got = answers(requests.utils.quote(forged, safe=""))
        assert [c for c, _ in got] in ([404] * 3, [400] * 3), (forged, got)
        assert vigil.get("/healthz").status_code == 200
    after = vigil.get("/api/v1/alerts/" + hid, token=tb).json()
    assert after["status"] == hidden["status"] == "new"
    assert "comments" not in after.get("triage", {}) or after["triage"]["comments"] == []


def test_hidden_reports_do_not_push_a_readers_incidents_out_of_taxii(vigil, tmp_path):
    """The TAXII alerts collection publishes each reader's fused incidents, from a window of
    20,000 reports. The window was the hub's newest 20,000 rows: a partner importing 20,001
    reports the reader may not read pushed the reader's incident out of the collection, which
    told the reader how many reports it was not shown. The window is now the newest 20,000
    reports the reader may read: B's and C's two reports of one attack (one of A's hidden
    between them) still make C's incident after A stores 20,001 more."""
    from test_alerts import WARNING, post
    from test_import_bulk import SAMPLE, write
    for p in ("A", "B", "C"):
        vigil.partner(p)
    ta, tb, tc = (vigil.user(p, p.lower() + "1", role="analyst") for p in ("A", "B", "C"))
    url = f"/taxii2/api/collections/{vigil.collection('alerts')}/objects/?match[type]=grouping"

    def incidents_c_sees():
        objs = vigil.get(url, token=tc).json().get("objects", [])
        return [sorted(o["object_refs"]) for o in objs if o.get("context") == "fused-incident"]

    e = post(vigil, tb, dict(WARNING, marking="green"))
    post(vigil, ta, dict(WARNING, marking="amber", title="A's, hidden from C"))
    q = post(vigil, tc, dict(WARNING, marking="green", title="Same attack",
                             location=dict(WARNING["location"], lat=31.521)))
    assert incidents_c_sees() == [sorted([e, q])]
    with open(SAMPLE, newline="") as f:
        header, *base = list(csv.reader(f))
    rows = []
    for i in range(20001):
        row = list(base[i % len(base)])
        row[header.index("event_id_cnty")] = f"HID{i}"
        rows.append(row)
    out = vigil.run("import", "acled", str(write(tmp_path / "hidden.csv", header, rows)), "--as",
                    "a1", "--marking", "amber")  # AMBER with no group: not C's to read
    assert "imported 20001 report(s)" in out.stdout, out.stdout
    assert incidents_c_sees() == [sorted([e, q])]
