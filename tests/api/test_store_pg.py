"""The PostgreSQL store (docs/OPERATIONS.md): a hub moved there from SQLite with its audit chain
intact; several `vigil serve` front-ends serving one hub; TAXII paging exact while rows commit
through several front-ends at once. Runs with the suite on PostgreSQL (VIGIL_TEST_STORE)."""
import json
import os
import pathlib
import re
import subprocess
import threading
import time

import pytest

from conftest import BIN, PG, Vigil, pg_cluster
from stix_samples import envelope, indicator
from test_stream import Listener, Receiver, post_report, subscribe

pytestmark = pytest.mark.skipif(not PG, reason="needs the PostgreSQL store: make check runs it"
                                " with VIGIL_TEST_STORE=postgresql")

ROOT = "/taxii2/api/"


def audit_head(v):
    r = v.run("audit", "verify", check=False)
    assert r.returncode == 0, r.stderr
    return re.search(r"audit chain ok: \d+ entries, head [0-9a-f]+", r.stdout).group(0)


def test_store_copy_moves_a_sqlite_hub_with_its_audit_chain(tmp_path):
    src = Vigil(tmp_path / "src", store="sqlite")
    src.partner("A")
    src.start()
    ids = [post_report(src, src.admin_token, title=f"moved {i}") for i in range(3)]
    src.stop()
    head = audit_head(src)
    uri = pg_cluster().uri(pg_cluster().new_db())
    r = src.run("store", "copy", "--from", str(src.data), "--to", uri)
    assert "copied" in r.stdout
    dst = src.front_end(tmp_path / "dst")
    dst.db, dst.pg = uri.split("?")[0].rsplit("/", 1)[1], True
    conf = dst.data / "vigil.conf"
    conf.write_text(re.sub(r"(?m)^store = $", f"store = {uri}", conf.read_text()))
    assert audit_head(dst) == head  # the same entries, the same hashes
    dst.start()
    try:
        got = dst.get("/api/v1/reports").json()["reports"]
        assert sorted(x["id"] for x in got) == sorted(ids)
        # The live stream replays the copied report events with their documents (SQLite may
        # keep an event's data in its report's row).
        listen = Listener(dst, dst.admin_token, last_id=0)
        replayed = []
        while len(replayed) < len(ids):
            _id, event, data = listen.q.get(timeout=20)
            if event == "report":
                replayed.append(data["id"])
        listen.resp.close()
        assert sorted(replayed) == sorted(ids)
        # The hub goes on where it was: new numbers after the copied ones, the chain extended.
        new = post_report(dst, dst.admin_token, title="after the move")
        assert dst.get(f"/api/v1/reports/{new}").status_code == 200
    finally:
        dst.stop()
    after = audit_head(dst)
    assert after != head and int(after.split()[3]) > int(head.split()[3])
    # A store that holds a hub is not copied over.
    again = src.run("store", "copy", "--from", str(src.data), "--to", uri, check=False)
    assert again.returncode == 1 and "not empty" in again.stderr


def test_a_report_posted_to_one_front_end_is_live_on_another(vigil, tmp_path):
    other = vigil.front_end(tmp_path / "b").start()
    try:
        listen = Listener(other, other.admin_token)
        rid = post_report(vigil, vigil.admin_token, title="seen through the other front-end")
        seen = []
        while True:  # the other front-end hears of the commit (LISTEN/NOTIFY), not a poll
            _id, event, data = listen.q.get(timeout=20)
            seen.append(data.get("id"))
            if event == "report" and data["id"] == rid:
                break
        assert other.get(f"/api/v1/reports/{rid}").status_code == 200
        listen.resp.close()
    finally:
        other.stop()


def test_taxii_paging_is_exact_while_two_front_ends_commit(vigil, tmp_path):
    """The attack on a sequence-ordered feed: rows that commit out of the order of their
    numbers make a client that pages with added_after skip some for good."""
    other = vigil.front_end(tmp_path / "b").start()
    coll = vigil.collection("reports")
    url = f"{ROOT}collections/{coll}/objects/"
    posted, errors = [], []

    def writer(v, base):
        for i in range(12):
            objs = [indicator(base + 10 * i + k) for k in range(3)]
            r = v.post(url, json=envelope(*objs))
            if r.status_code != 202:
                errors.append(r.text)
            posted.extend(o["id"] for o in objs)

    threads = [threading.Thread(target=writer, args=(v, b)) for v, b in
               ((vigil, 0), (other, 1000), (vigil, 2000), (other, 3000))]
    for t in threads:
        t.start()
    seen, after = [], None
    try:
        def poll():
            nonlocal after
            while True:
                params = {"limit": 7}
                if after:
                    params["added_after"] = after
                r = other.get(url, params=params)
                assert r.status_code == 200, r.text
                page = r.json().get("objects", [])
                seen.extend(o["id"] for o in page)
                if page:
                    after = r.headers["X-TAXII-Date-Added-Last"]
                if not r.json().get("more"):
                    return
        while any(t.is_alive() for t in threads):
            poll()
        for t in threads:
            t.join()
        poll()
    finally:
        other.stop()
    assert not errors, errors[:3]
    assert len(seen) == len(set(seen)), "an object came twice"
    assert sorted(seen) == sorted(posted), f"{len(set(posted) - set(seen))} objects skipped"


WARNING = {"event": "ASSAULT", "future": True, "targets": ["civilians"],
           "start": "2025-10-14T18:00:00Z", "end": "2025-10-14T22:00:00Z",
           "location": {"lat": 31.52, "lon": 34.45, "precision_m": 1000},
           "reliability": "B", "credibility": 3, "title": "Planned attack on a shelter"}
MOVEMENT = {"event": "MOBILIZE", "mode": "troops",
            "start": "2025-10-14T09:00:00Z", "end": "2025-10-14T10:00:00Z",
            "location": {"lat": 31.53, "lon": 34.47, "precision_m": 500},
            "reliability": "C", "credibility": 3, "title": "Troops massing"}


def alert_events(v):
    return [row[0] for row in v.sql("SELECT data FROM events WHERE kind = 'alert' ORDER BY seq")]


def wait_for(pred, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def test_one_front_end_publishes_alerts_and_another_takes_over_after_kill9(vigil, tmp_path):
    """Two front-ends each run the fusion engine; only the one holding the services lock
    publishes alert events (else every alert would be published once per front-end). Killed
    with -9, it loses the lock with its connection, and the other publishes what comes next."""
    other = vigil.front_end(tmp_path / "b").start()
    try:
        vigil.partner("A")
        vigil.partner("B")
        a = vigil.user("A", "a1")
        b = vigil.user("B", "b1")
        wait_for(lambda: b"now runs the hub's services" in vigil.log + other.log,
                 "a front-end takes the services lock")
        leader = vigil if b"now runs the hub's services" in vigil.log else other
        follower = other if leader is vigil else vigil
        for body, tok, fe in ((WARNING, a, vigil), (MOVEMENT, b, other)):
            r = fe.request("POST", "/api/v1/reports", token=tok, json=body)
            assert r.status_code == 201, r.text
        wait_for(lambda: alert_events(vigil), "an alert event")
        first = alert_events(vigil)
        time.sleep(3)  # both engines have long fed both reports: a second publisher would show
        assert alert_events(vigil) == first
        assert len(first) == len(set(first)), "an alert event was published twice"

        leader.kill9()
        moved = dict(WARNING, location={"lat": 33.3, "lon": 36.2, "precision_m": 1000},
                     title="Planned attack elsewhere")
        seen = dict(MOVEMENT, location={"lat": 33.31, "lon": 36.21, "precision_m": 500})
        for body, tok in ((moved, a), (seen, b)):
            r = follower.request("POST", "/api/v1/reports", token=tok, json=body)
            assert r.status_code == 201, r.text
        wait_for(lambda: len(alert_events(vigil)) > len(first), "the survivor publishes")
        assert b"now runs the hub's services" in follower.log
        events = alert_events(vigil)
        assert len(events) == len(set(events)), "an alert event was published twice"
    finally:
        other.stop()


def stream_alerts(v, token):
    """The ids of the alerts that v's stream, replayed from the start, tells of, in order."""
    lst = Listener(v, token, last_id=0)
    try:
        return [e[2]["id"] for e in lst.events(4) if e[1] == "alert"]
    finally:
        lst.close()


def test_every_front_end_replays_the_stream_naming_the_same_alerts(vigil, tmp_path):
    """Each front-end's engine numbers its alerts itself, and a stored alert event is the
    publisher's: it names the alert by its id, which every front-end gives the alert alike, so
    the stream replayed through another front-end (started after an alert was raised and
    retired) tells of the same alerts. (The engines here happen to number alike, so this does
    not fail on the events that named the number: test_restart.py shows that case.)"""
    vigil.partner("A")
    vigil.partner("B")
    a = vigil.user("A", "a1")
    b = vigil.user("B", "b1")

    def post_pair(day, dlat):
        ids = []
        for body, tok in ((WARNING, a), (MOVEMENT, b)):
            body = dict(body, marking="green", start=body["start"].replace("2025-10-14", day),
                        end=body["end"].replace("2025-10-14", day),
                        location=dict(body["location"], lat=body["location"]["lat"] + dlat))
            r = vigil.request("POST", "/api/v1/reports", token=tok, json=body)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        return ids

    def alert_ids(v):
        return {x["id"] for x in v.get("/api/v1/alerts", token=a).json()["alerts"]}

    gone = post_pair("2025-10-04", 0.3)
    wait_for(lambda: alert_ids(vigil), "the first alert")
    coll = vigil.collection("reports")
    r = vigil.request("DELETE", f"/taxii2/api/collections/{coll}/objects/{gone[0]}/", token=a)
    assert r.status_code == 200, r.text
    wait_for(lambda: not alert_ids(vigil), "the first alert retired")
    post_pair("2025-10-14", 0)
    wait_for(lambda: alert_ids(vigil), "the second alert")
    (kept,) = alert_ids(vigil)
    wait_for(lambda: kept in stream_alerts(vigil, a), "its event")
    told = stream_alerts(vigil, a)
    assert set(told) == {kept}, told  # the retired alert's events tell of nothing now
    other = vigil.front_end(tmp_path / "b").start()
    try:
        wait_for(lambda: alert_ids(other) == {kept}, "the other front-end's engine holds it")
        assert stream_alerts(other, a) == told
    finally:
        other.stop()


def lock_waiters(v):
    """The sessions of v's database waiting for the services lock (pg_locks)."""
    [(n,)] = v.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                   " AND database = (SELECT oid FROM pg_database"
                   "                 WHERE datname = current_database())")
    return int(n)


def test_the_others_wait_for_the_services_lock_and_leave_no_waiting_session(vigil, tmp_path):
    """A front-end that does not hold the services lock waits for it in PostgreSQL (granted the
    moment the holder's session ends) rather than asking once a second. That wait must not
    outlive the front-end: one that stops cancels it, and one killed -9 (it cannot) is found
    gone by the server (client_connection_check_interval), else each would keep a session,
    a connection of max_connections, until the holder died. The survivor then takes over."""
    wait_for(lambda: b"now runs the hub's services" in vigil.log, "the first front-end leads")
    stopped = vigil.front_end(tmp_path / "b").start()
    try:
        wait_for(lambda: lock_waiters(vigil) == 1, "the second front-end waits for the lock")
    finally:
        stopped.stop()
    wait_for(lambda: lock_waiters(vigil) == 0, "the stopped front-end's wait is cancelled")
    killed = vigil.front_end(tmp_path / "c").start()
    wait_for(lambda: lock_waiters(vigil) == 1, "the third front-end waits for the lock")
    killed.kill9()
    wait_for(lambda: lock_waiters(vigil) == 0, "the killed front-end's wait ends", timeout=20)
    other = vigil.front_end(tmp_path / "d").start()
    try:
        wait_for(lambda: lock_waiters(vigil) == 1, "the fourth front-end waits for the lock")
        assert b"now runs the hub's services" not in other.log
        vigil.kill9()
        wait_for(lambda: b"now runs the hub's services" in other.log, "the waiter takes over")
        assert lock_waiters(vigil) == 0
    finally:
        other.stop()


def marks(v):
    """The engine state's mark and the published marks, as the store holds them."""
    [(state,)] = v.sql("SELECT mark FROM service_states WHERE name = 'alerts.engine'")
    got = dict(v.sql("SELECT name, value FROM service_marks"))
    return int(state), int(got["alerts.reports"])


def alert_deliveries(rx):
    return [json.loads(b) for _, b in rx.got if json.loads(b)["event"] == "alert"]


def test_a_take_over_starts_from_the_saved_state_and_publishes_once(vigil, tmp_path):
    """A front-end that takes over publishing after the holder's kill -9 starts its engine from
    the state the holder saved, as a start does (not by reading every report), feeds the reports
    between that state's mark and the take-over as history (their alert events were published
    by the holder), and publishes what comes next once: on the event log, so on every live
    stream, and on the webhook. A save also moves the published marks up to what the engine
    was fed, so a state saved after reports that raised nothing is still loaded. (Green
    reports, so that their alerts may leave on the webhook.)"""
    vigil.allow_private_webhooks()  # the receiver listens on loopback
    vigil.partner("A")
    vigil.partner("B")
    a = vigil.user("A", "a1")
    b = vigil.user("B", "b1")
    rx = Receiver()
    other = None
    try:
        subscribe(vigil, a, rx.port)
        # the holder alone: an alert, then a report that raises nothing, then a clean stop
        for body, tok in ((WARNING, a), (MOVEMENT, b)):
            r = vigil.request("POST", "/api/v1/reports", token=tok,
                              json=dict(body, marking="green"))
            assert r.status_code == 201, r.text
        wait_for(lambda: alert_events(vigil), "an alert event")
        first = alert_events(vigil)
        quiet = dict(MOVEMENT, location={"lat": 12.0, "lon": 45.0, "precision_m": 500},
                     start="2025-06-01T09:00:00Z", end="2025-06-01T10:00:00Z", title="Alone")
        r = vigil.request("POST", "/api/v1/reports", token=b, json=dict(quiet, marking="green"))
        assert r.status_code == 201, r.text
        time.sleep(2)
        assert alert_events(vigil) == first  # it raised nothing: no publication moved a mark
        vigil.stop()
        [(head,)] = vigil.sql("SELECT max(seq) FROM reports")
        assert marks(vigil) == (int(head), int(head))  # the save moved the marks up to it

        # the holder again, from its state, and a second front-end
        vigil.log = b""
        vigil.start()
        wait_for(lambda: b"engine started from its saved state" in vigil.log, "the holder loads")
        wait_for(lambda: b"now runs the hub's services" in vigil.log, "the holder leads")
        time.sleep(2)  # a start that comes to lead after its engine is whole keeps that engine
        assert vigil.log.count(b"engine started from its saved state") == 1, vigil.log.decode()
        other = vigil.front_end(tmp_path / "b").start()
        # reports after the state's mark, their alert published by the holder before it dies
        moved = dict(WARNING, location={"lat": 33.3, "lon": 36.2, "precision_m": 1000},
                     title="Planned attack elsewhere")
        seen = dict(MOVEMENT, location={"lat": 33.31, "lon": 36.21, "precision_m": 500})
        for body, tok in ((moved, a), (seen, b)):
            r = vigil.request("POST", "/api/v1/reports", token=tok,
                              json=dict(body, marking="green"))
            assert r.status_code == 201, r.text
        wait_for(lambda: len(alert_events(vigil)) > len(first), "the holder publishes")
        second = alert_events(vigil)
        # and one that raises nothing: the front-ends' engines are fed beyond the published
        # mark, so the one taking over cannot go on with its own engine (what it was fed
        # after the mark was not published); it starts from the holder's state
        quiet = dict(quiet, title="Alone again", start="2025-06-02T09:00:00Z",
                     end="2025-06-02T10:00:00Z")
        r = vigil.request("POST", "/api/v1/reports", token=b, json=dict(quiet, marking="green"))
        assert r.status_code == 201, r.text
        time.sleep(2)
        assert alert_events(vigil) == second
        wait_for(lambda: len(alert_deliveries(rx)) == len(second), "the webhook delivered")
        assert marks(vigil)[0] == int(head)  # the state is older than the last reports
        stream = Listener(other, a)
        vigil.kill9()

        wait_for(lambda: b"publishes the alert events now" in other.log, "the take-over")
        wait_for(lambda: b"engine started from its saved state" in other.log
                 or b"rebuilding from the reports" in other.log, "the taken-over engine")
        assert b"engine started from its saved state at report %d" % int(head) in other.log, \
            other.log.decode()
        assert b"rebuilding from the reports" not in other.log
        time.sleep(3)  # what the holder published is not published again
        assert alert_events(other) == second
        assert not [e for e in stream.events(wait=0.5) if e[1] == "alert"]

        # what comes next is published once, through the new holder
        third = dict(WARNING, location={"lat": 34.0, "lon": 35.5, "precision_m": 1000},
                     title="Planned attack in the north")
        near = dict(MOVEMENT, location={"lat": 34.01, "lon": 35.51, "precision_m": 500})
        for body, tok in ((third, a), (near, b)):
            r = other.request("POST", "/api/v1/reports", token=tok,
                              json=dict(body, marking="green"))
            assert r.status_code == 201, r.text
        wait_for(lambda: len(alert_events(other)) > len(second), "the new holder publishes")
        time.sleep(3)
        events = alert_events(other)
        assert events[:len(second)] == second
        assert len(events) == len(set(events)), "an alert event was published twice"
        live = [e for e in stream.events(wait=1) if e[1] == "alert"]
        assert len(live) == len(events) - len(second), live
        stream.close()
        wait_for(lambda: len(alert_deliveries(rx)) == len(events), "the webhook delivered")
        time.sleep(2)
        got = alert_deliveries(rx)
        numbers = sorted(json.loads(body)["delivery"] for _, body in rx.got)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), \
            "a delivery lost or sent twice"
        assert len(got) == len(events), got
    finally:
        if other:
            other.stop()
        rx.close()


def test_a_status_set_through_one_front_end_is_seen_through_another(vigil, tmp_path):
    """Each front-end's engine holds the alerts' lifecycles in memory: an acknowledgement made
    through one is taken up by the others when the commit wakes them (the status change's
    alert event names its situation), as each reader sees it (the leak rule), and is published
    once."""
    other = vigil.front_end(tmp_path / "b").start()
    try:
        vigil.partner("A")
        vigil.partner("B")
        tok = {"a1": vigil.user("A", "a1"), "b1": vigil.user("B", "b1"),
               "admin": vigil.admin_token}
        for body, t in ((WARNING, tok["a1"]), (MOVEMENT, tok["b1"])):  # both see both
            body = dict(body, marking="green")
            r = vigil.request("POST", "/api/v1/reports", token=t, json=body)
            assert r.status_code == 201, r.text

        def listed(fe, t):
            r = fe.get("/api/v1/alerts", token=t)
            assert r.status_code == 200, r.text
            return {a["id"]: a for a in r.json()["alerts"]}

        wait_for(lambda: listed(vigil, vigil.admin_token) and listed(other, vigil.admin_token),
                 "both front-ends show the alert")
        [aid] = listed(vigil, vigil.admin_token)
        assert listed(other, vigil.admin_token)[aid]["status"] == "new"
        r = vigil.request("POST", f"/api/v1/alerts/{aid}/status", token=tok["a1"],
                          json={"status": "acknowledged"})
        assert r.status_code == 200, r.text
        wait_for(lambda: listed(other, vigil.admin_token)[aid]["status"] == "acknowledged",
                 "the other front-end shows the acknowledgement", timeout=10)
        for name, t in tok.items():  # each reader's status, the same through either
            here, there = listed(vigil, t), listed(other, t)
            assert {i: a["status"] for i, a in here.items()} == \
                {i: a["status"] for i, a in there.items()}, name
            if aid in there:
                assert there[aid].get("status_at") == here[aid].get("status_at"), name
        got = other.get(f"/api/v1/alerts/{aid}", token=vigil.admin_token).json()
        assert got["status"] == "acknowledged"
        # the partner's triage is read from the store on each request: whose change it was
        got = other.get(f"/api/v1/alerts/{aid}", token=tok["a1"]).json()
        assert got["status"] == "acknowledged" and got["triage"]["status_by"] == "a1", got
        # Taken up, not made again: one event for the change, whoever leads.
        changes = [d for d in alert_events(vigil) if '"key"' in d]
        assert len(changes) == 1, changes
        # And back the other way: a false alarm called through the other front-end.
        r = other.request("POST", f"/api/v1/alerts/{aid}/status", token=tok["a1"],
                          json={"status": "false_alarm"})
        assert r.status_code == 200, r.text
        wait_for(lambda: listed(vigil, vigil.admin_token)[aid]["status"] == "false_alarm",
                 "the first front-end shows the false alarm", timeout=10)
    finally:
        other.stop()


def test_the_hub_goes_on_after_postgresql_restarts(vigil):
    """A restart drops every connection, and with them the statements prepared on them
    (pg.c prepares each statement once per connection): the hub reconnects and prepares them
    again, for writes and reads. Before that was done, every statement after the restart
    failed ("prepared statement ... does not exist") and nothing was stored again."""
    url = ROOT + f"collections/{vigil.collection('reports')}/objects/"

    def ids():
        r = vigil.get(url, params={"limit": 100})
        return {o["id"] for o in r.json().get("objects", [])} if r.status_code == 200 else set()

    before = [indicator(i) for i in range(20)]
    assert vigil.post(url, json=envelope(*before)).status_code == 202
    assert {o["id"] for o in before} <= ids()  # the writer's and a reader's statements prepared
    pg_cluster().restart()
    after = [indicator(100 + i) for i in range(20)]
    want = {o["id"] for o in before + after}
    deadline = time.time() + 30
    while time.time() < deadline and not want <= ids():
        # the first statements on a dropped connection fail; the next ones reconnect
        vigil.post(url, json=envelope(*after))
        time.sleep(0.5)
    assert want <= ids()
    # and it goes on: every object is known now. A pooled connection that was idle through the
    # restart fails its first statement and reconnects, so a request may still fail once per
    # such connection (as before statements were prepared).
    for _ in range(20):
        r = vigil.post(url, json=envelope(*after))
        if r.status_code == 202:
            break
        time.sleep(0.2)
    assert r.status_code == 202, r.text
    assert r.json()["failure_count"] == 0, r.text


def test_two_status_changes_through_two_front_ends_one_wins_the_other_gets_409(vigil, tmp_path):
    """The race across front-ends: each engine holds the lifecycles in memory, and the one a
    change did not go through learns of it only when the commit wakes it. Two analysts who read
    the alert at one status_version decide at once through two front-ends: the change is a
    compare-and-set on the stored lifecycle (the writers' transactions are serial across
    front-ends), so one wins and the other gets 409; before, the last written won and the first
    decision was lost from the history."""
    other = vigil.front_end(tmp_path / "b").start()
    try:
        vigil.partner("A")
        vigil.partner("B")
        tok = {"a1": vigil.user("A", "a1"), "b1": vigil.user("B", "b1")}
        for body, t in ((WARNING, tok["a1"]), (MOVEMENT, tok["b1"])):
            r = vigil.request("POST", "/api/v1/reports", token=t, json=dict(body, marking="green"))
            assert r.status_code == 201, r.text

        def listed(fe):
            r = fe.get("/api/v1/alerts", token=vigil.admin_token)
            assert r.status_code == 200, r.text
            return r.json()["alerts"]

        wait_for(lambda: listed(vigil) and listed(other), "both front-ends show the alert")
        [seen] = listed(other)
        assert seen["status"] == "new"
        url = f"/api/v1/alerts/{seen['id']}/status"
        gate = threading.Barrier(2)
        got = {}

        def change(fe, who, status):
            gate.wait()
            got[who] = fe.request("POST", url, token=tok[who], json={
                "status": status, "status_version": seen["status_version"]})

        threads = [threading.Thread(target=change, args=(vigil, "a1", "acknowledged")),
                   threading.Thread(target=change, args=(other, "b1", "false_alarm"))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        codes = sorted(r.status_code for r in got.values())
        assert codes == [200, 409], {k: r.text for k, r in got.items()}
        winner = next(k for k, r in got.items() if r.status_code == 200)
        loser = next(k for k, r in got.items() if r.status_code == 409)
        assert "changed since you read it" in got[loser].json()["description"], got[loser].text
        status = got[winner].json()["status"]
        [(history,)] = vigil.sql("SELECT history FROM alert_states")
        steps = json.loads(history)
        assert [(s["who"], s["to"]) for s in steps] == [(winner, status)], steps
        for fe in (vigil, other):  # both front-ends show the winner's decision
            wait_for(lambda fe=fe: listed(fe)[0]["status"] == status, "the winner's status")
        # A change decided on what is there now goes through either front-end.
        if status == "acknowledged":
            now = listed(other)[0]
            r = other.request("POST", url, token=tok["b1"], json={
                "status": "resolved", "status_version": now["status_version"]})
            assert r.status_code == 200, r.text
    finally:
        other.stop()


def test_the_store_unit_tests_pass_on_postgresql():
    """The store's unit tests that take a PostgreSQL database (VIGIL_TEST_PG; skipped without
    one, as in the unit suite) run here on a new database of the tests' cluster: each must run,
    none skipped, and pass."""
    unit = pathlib.Path(BIN).parent / "tests" / "unit" / "test_store"
    assert unit.exists(), unit
    cluster = pg_cluster()
    env = dict(os.environ, VIGIL_TEST_PG=cluster.uri(cluster.new_db()))
    r = subprocess.run([str(unit)], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    ran = re.findall(r"\[ +OK +\] (\w+_pg)\b", r.stdout + r.stderr)
    assert {"service_state_round_trip_pg", "reports_by_seqs_pg", "alert_rekey_pg",
            "objects_put_in_order_pg", "outbox_due_gives_each_webhooks_oldest_pg"} <= set(ran), \
        r.stdout
    assert "SKIPPED" not in r.stdout + r.stderr, r.stdout
