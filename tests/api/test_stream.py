"""Live delivery (S5): the SSE stream (filtered by the read policy, resumable with
Last-Event-ID, heartbeats) and webhooks (HMAC-signed, retried from a durable outbox that
survives kill -9, filtered by the read policy, never for AMBER+STRICT)."""
import hashlib
import hmac
import http.server
import json
import queue
import socket
import struct
import threading
import time

import pytest
import requests

from conftest import Vigil, wait_for

REPORT = {"event": "ASSAULT", "mode": "aerial", "start": "2025-03-18T02:00:00Z",
          "location": {"lat": 31.51, "lon": 34.46, "precision_m": 500},
          "reliability": "B", "credibility": 2}


def post_report(vigil, token, **kw):
    r = vigil.request("POST", "/api/v1/reports", token=token, json=dict(REPORT, **kw))
    assert r.status_code == 201, r.text
    return r.json()["id"]


class Listener:
    """Reads an SSE stream in a thread; events land in a queue as (id, event, data), the id
    as sent (an opaque text)."""

    def __init__(self, vigil, token, last_id=None):
        self.q = queue.Queue()
        self.comments = queue.Queue()
        h = {"Authorization": "Bearer " + token, "Accept": "text/event-stream"}
        if last_id is not None:
            h["Last-Event-ID"] = str(last_id)
        self.resp = requests.get(vigil.url + "/api/v1/stream", headers=h, stream=True,
                                 timeout=30)
        assert self.resp.status_code == 200
        assert self.resp.headers["Content-Type"].startswith("text/event-stream")
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        ev = {}
        try:
            for line in self.resp.iter_lines(decode_unicode=True):
                if line is None:
                    continue
                if line.startswith(":"):
                    self.comments.put(line)
                elif line == "":
                    if "data" in ev:
                        self.q.put((ev["id"], ev["event"], json.loads(ev["data"])))
                    ev = {}
                else:
                    k, _, v = line.partition(": ")
                    ev[k] = v
        except (requests.RequestException, AttributeError, ValueError, OSError):
            pass  # the test closed the stream

    def events(self, wait=2.0):
        out, deadline = [], time.time() + wait
        while time.time() < deadline:
            try:
                out.append(self.q.get(timeout=0.1))
            except queue.Empty:
                pass
        return out

    def close(self):
        # Shut the socket down first: the reader thread is blocked reading it.
        try:
            self.resp.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.resp.close()
        self.t.join(timeout=5)


@pytest.fixture
def partners(vigil):
    vigil.allow_private_webhooks()  # the receiver listens on loopback
    for p in ("A", "C"):
        vigil.partner(p)
    return vigil, vigil.user("A", "a1", role="analyst"), vigil.user("C", "c1", role="analyst")


def test_stream_follows_the_read_policy_and_resumes(partners):
    vigil, ta, tc = partners
    la, lc, lcc = Listener(vigil, ta), Listener(vigil, tc), Listener(vigil, vigil.admin_token)
    time.sleep(0.3)
    amber = post_report(vigil, ta, marking="amber", title="amber")
    green = post_report(vigil, ta, marking="green", title="green")
    got = {name: [e[2]["id"] for e in l.events()] for name, l in
           (("a", la), ("c", lc), ("cc", lcc))}
    assert got["a"] == [amber, green]
    assert got["cc"] == [amber, green]  # the coordination center reads AMBER without group
    assert got["c"] == [green]
    for l in (la, lc, lcc):
        l.close()
    # Resume after the first event: only what came after it.
    first_id = None
    r = Listener(vigil, ta, last_id=0)
    evs = r.events()
    r.close()
    assert [e[2]["id"] for e in evs] == [amber, green]
    first_id = evs[0][0]
    r = Listener(vigil, ta, last_id=first_id)
    assert [e[2]["id"] for e in r.events()] == [green]
    r.close()


def test_stream_heartbeats(tmp_path):
    v = Vigil(tmp_path / "d")
    with open(v.data / "vigil.conf", "a") as f:
        f.write("sse_heartbeat = 1\n")
    v.start()
    try:
        l = Listener(v, v.admin_token)
        beats = []
        deadline = time.time() + 5
        while time.time() < deadline and len(beats) < 2:
            try:
                c = l.comments.get(timeout=0.2)
                if "heartbeat" in c:
                    beats.append(c)
            except queue.Empty:
                pass
        l.close()
        assert len(beats) >= 2
    finally:
        v.stop()


def read_replay(vigil, token, n):
    """Opens a stream from the first event on a raw socket and reads until n reports came;
    returns the socket (still open) and the reports' ids in the order they came."""
    s = socket.create_connection(("127.0.0.1", vigil.port), timeout=10)
    s.sendall(("GET /api/v1/stream HTTP/1.0\r\nLast-Event-ID: 0\r\n"  # 1.0: not chunked
               "Authorization: Bearer %s\r\n\r\n" % token).encode())
    got, ids, deadline = b"", [], time.time() + 10
    while len(ids) < n and time.time() < deadline:
        got += s.recv(65536)
        blocks = [dict(l.split(b": ", 1) for l in b.split(b"\n") if b": " in l)
                  for b in got.split(b"\n\n")[:-1]]  # the last may be cut short
        ids = [json.loads(b[b"data"])["id"] for b in blocks if b.get(b"event") == b"report"]
    assert got.split(b" ")[1] == b"200", got[:200]
    return s, ids


def test_departed_stream_clients_free_their_connections(tmp_path):
    # With heartbeats an hour apart nothing is sent on a quiet stream, so only the server's
    # own check notices that its client has gone; until then the connection (and its
    # buffers) would stay and count against the client address's limit of 3.
    v = Vigil(tmp_path / "d")
    with open(v.data / "vigil.conf", "a") as f:
        f.write("sse_heartbeat = 3600\nper_ip_connection_limit = 3\n")
    v.start()
    try:
        v.partner("A")
        ta = v.user("A", "a1", role="analyst")
        posted = [post_report(v, ta, title="report %d of a replay longer than a batch" % i,
                              description="x" * 300) for i in range(60)]
        for i in range(6):  # one after the other: 3 left open would refuse the 4th
            s, ids = read_replay(v, ta, len(posted))
            assert ids == posted  # every event once, in order, across batches
            if i % 2:  # an abrupt disconnect (RST) or an orderly close (FIN)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            deadline, open_ = time.time() + 5, None
            while time.time() < deadline and open_ != 1:  # 1: the request asking
                time.sleep(0.1)
                open_ = v.metric("vigil_http_connections_open")
            assert open_ == 1
    finally:
        v.stop()


class Receiver:
    """A local webhook receiver; fails the first `failures` deliveries with 500."""

    def __init__(self, failures=0, port=0):
        self.got = []
        self.failures = failures
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(500)
                else:
                    outer.got.append((dict(self.headers), body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def wait(self, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.got) < n:
            time.sleep(0.1)
        return self.got

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def subscribe(vigil, token, port):
    r = vigil.request("POST", "/api/v1/webhooks", token=token,
                      json={"url": f"http://127.0.0.1:{port}/hook",
                            "secret": "s3cret-for-the-test-0123"})
    assert r.status_code == 201, r.text
    return r.json()


def test_webhooks_signed_retried_and_filtered(partners):
    vigil, ta, tc = partners
    rx = Receiver(failures=1)
    try:
        subscribe(vigil, tc, rx.port)
        assert vigil.request("POST", "/api/v1/webhooks", token=tc,
                             json={"url": "ftp://x"}).status_code == 400
        post_report(vigil, ta, marking="amber", title="not for C")
        green = post_report(vigil, ta, marking="green", title="for C")
        got = rx.wait(1)
        assert len(got) == 1
        headers, body = got[0]
        sig = hmac.new(b"s3cret-for-the-test-0123", body, hashlib.sha256).hexdigest()
        assert headers["X-Vigil-Signature"] == "sha256=" + sig
        msg = json.loads(body)
        assert msg["event"] == "report" and msg["data"]["id"] == green
        assert headers["X-Vigil-Delivery"] == str(msg["delivery"])
        time.sleep(1)
        assert len(rx.got) == 1  # the AMBER report never went to C
    finally:
        rx.close()


def test_amber_strict_never_leaves_the_hub(partners):
    vigil, ta, tc = partners
    rx = Receiver()
    try:
        subscribe(vigil, ta, rx.port)  # the owner itself may read it, still no webhook
        post_report(vigil, ta, marking="amber+strict", title="strict")
        post_report(vigil, ta, marking="green", title="green")
        got = rx.wait(1)
        time.sleep(1)
        titles = [json.loads(b)["data"]["title"] for _, b in rx.got]
        assert titles == ["green"]
    finally:
        rx.close()


class Tarpit:
    """A hostile partner's receiver: accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            while True:
                self.held.append(self.sock.accept()[0])
        except OSError:
            pass

    def open_connections(self):
        """How many of the connections it accepted the hub still holds open."""
        n = 0
        for c in self.held:
            try:
                n += c.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
            except BlockingIOError:
                n += 1  # nothing to read, still open
            except OSError:
                pass
        return n

    def pending(self, vigil):
        """Deliveries to its webhooks not tried to an end yet (never the other subscribers':
        the hub records a delivery's result just after its receiver has read it)."""
        rows = vigil.sql("SELECT COUNT(*) FROM outbox o JOIN webhooks w ON w.id = o.hook"
                         f" WHERE o.state = 0 AND o.attempts = 0 AND w.url LIKE"
                         f" 'http://127.0.0.1:{self.port}/%'")
        return int(rows[0][0])

    def close(self):
        for c in self.held + [self.sock]:
            c.close()


def test_a_receiver_that_never_answers_holds_back_no_one_elses_deliveries(partners):
    """The sender made one delivery at a time, each allowed 10 s: a partner whose webhooks
    pointed at a server that accepts and never answers held every other subscriber's
    deliveries back by 10 s per delivery of its own, 200 s a report with 20 webhooks, so its
    queue never drained. Deliveries now run side by side, one per webhook at a time: C's
    arrive while A's are still waiting for their answer."""
    vigil, ta, tc = partners
    tarpit, rx = Tarpit(), Receiver()
    try:
        for i in range(5):
            r = vigil.request("POST", "/api/v1/webhooks", token=ta,
                              json={"url": f"http://127.0.0.1:{tarpit.port}/{i}"})
            assert r.status_code == 201, r.text
        subscribe(vigil, tc, rx.port)
        ids = [post_report(vigil, ta, marking="green", title=f"report {i}") for i in range(3)]
        got = rx.wait(3)
        assert [json.loads(b)["data"]["id"] for _, b in got] == ids
        # A's deliveries were in progress all along, one per webhook, none given up yet
        assert tarpit.open_connections() == 5
        assert tarpit.pending(vigil) == 15
    finally:
        tarpit.close()
        rx.close()


def test_one_partners_silent_receivers_leave_the_other_partners_places(partners):
    """The sender runs 64 deliveries at once. A partner allowed many webhooks (an operator's
    webhooks_per_partner of 100 here) pointed 70 at a server that never answers: they took
    every place, and C's delivery waited 10 s for the first of them to time out. One partner's
    webhooks now hold at most 8 places together: C's delivery arrives while A's 8 are still
    waiting for their answer."""
    vigil, ta, tc = partners
    vigil.stop()
    conf = vigil.data / "vigil.conf"
    conf.write_text(conf.read_text() + "webhooks_per_partner = 100\n")
    vigil.start()
    tarpit, rx = Tarpit(), Receiver()
    try:
        for i in range(70):
            r = vigil.request("POST", "/api/v1/webhooks", token=ta,
                              json={"url": f"http://127.0.0.1:{tarpit.port}/{i}"})
            assert r.status_code == 201, r.text
        subscribe(vigil, tc, rx.port)
        rid = post_report(vigil, ta, marking="green", title="held back")
        got = rx.wait(1)
        assert [json.loads(b)["data"]["id"] for _, b in got] == [rid]
        assert tarpit.open_connections() == 8
        assert tarpit.pending(vigil) == 70
    finally:
        tarpit.close()
        rx.close()


def test_a_webhooks_backlog_drains_in_order_once_its_receiver_is_back(partners):
    """Deliveries to one webhook go one at a time, each started as soon as the one before
    ends. The receiver is down while 40 reports are queued for it, each tried once; back up,
    it gets all 40, once each, in the order they were queued."""
    vigil, ta, tc = partners
    rx = Receiver()
    port = rx.port
    subscribe(vigil, tc, port)
    rx.close()  # down: each delivery fails once and waits for its retry
    ids = [post_report(vigil, ta, marking="green", title=f"backlog {i}") for i in range(40)]
    assert wait_for(lambda: int(vigil.sql("SELECT COUNT(*) FROM outbox WHERE attempts >= 1")[0][0])
                    == 40, timeout=30)
    rx = Receiver(port=port)
    try:
        got = rx.wait(40, timeout=20)
        assert [json.loads(b)["data"]["id"] for _, b in got] == ids
    finally:
        rx.close()


def test_outbox_survives_kill_9(partners):
    vigil, ta, tc = partners
    rx = Receiver()
    port = rx.port
    subscribe(vigil, tc, port)
    rx.close()  # nobody listening: the delivery fails and waits in the outbox
    rid = post_report(vigil, ta, marking="green", title="durable")
    time.sleep(0.5)
    vigil.kill9()
    rx = Receiver(port=port)
    try:
        vigil.start()
        got = rx.wait(1, timeout=20)
        assert [json.loads(b)["data"]["id"] for _, b in got] == [rid]
        time.sleep(1)
        assert len(rx.got) == 1  # delivered once
    finally:
        rx.close()
