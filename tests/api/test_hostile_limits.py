"""Hostile partners (issue #18, item 11): exhaustion and revocation, each written as the attack
with the safe outcome asserted. A partner's token must not hold every live stream or every
connection; a burst of wrong logins must not take the workers from other users; a revoked
token or a changed password must end what they opened."""
import http.client
import json
import socket
import threading
import time

import requests

from conftest import Vigil


def configured(tmp_path, **settings):
    v = Vigil(tmp_path / "d")
    with open(v.data / "vigil.conf", "a") as f:
        for k, val in settings.items():
            f.write(f"{k} = {val}\n")
    v.start()
    return v


class Stream:
    """An open /api/v1/stream; a thread reads it until the server ends it."""

    def __init__(self, vigil, token=None, cookie=None):
        h = {"Accept": "text/event-stream"}
        if token:
            h["Authorization"] = "Bearer " + token
        if cookie:
            h["Cookie"] = cookie
        self.resp = requests.get(vigil.url + "/api/v1/stream", headers=h, stream=True,
                                 timeout=30)
        self.status = self.resp.status_code
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = self.resp.content
            self.ended.set()

    def _read(self):
        try:
            for _ in self.resp.iter_content(chunk_size=None):
                pass
        except (requests.RequestException, OSError, AttributeError):
            pass
        self.ended.set()

    def close(self):
        # Shut the socket down first: the reader thread is blocked reading it.
        try:
            self.resp.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.resp.close()


def stream_when_free(vigil, token, timeout=10):
    """A stream opened as soon as a place is free (the server notices a departed client within
    a second): the last try's Stream."""
    deadline = time.time() + timeout
    while True:
        s = Stream(vigil, token=token)
        if s.status == 200 or time.time() >= deadline:
            return s
        time.sleep(0.2)


def token_id(vigil, user):
    toks = vigil.get("/api/v1/tokens").json()["tokens"]
    return max(t["id"] for t in toks if t["user"] == user)


def login(vigil, user, password, source=None):
    """POST /api/v1/login from a chosen loopback address; (status, headers)."""
    c = http.client.HTTPConnection("127.0.0.1", vigil.port, timeout=60,
                                   source_address=(source, 0) if source else None)
    try:
        c.request("POST", "/api/v1/login", body=json.dumps({"user": user, "password": password}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status, dict(r.getheaders())
    finally:
        c.close()


def test_one_token_cannot_hold_every_stream(tmp_path):
    v = configured(tmp_path, stream_limit_per_credential=3)
    streams = []
    try:
        v.partner("A")
        ta = v.user("A", "a1")
        tb = v.user("A", "a2")
        for _ in range(3):
            streams.append(Stream(v, token=ta))
        assert [s.status for s in streams] == [200, 200, 200]
        extra = Stream(v, token=ta)
        assert extra.status == 429, extra.body
        assert int(extra.resp.headers["Retry-After"]) >= 1
        other = Stream(v, token=tb)  # another credential still gets one
        streams.append(other)
        assert other.status == 200
        # A stream that ends gives its place back.
        streams.pop(0).close()
        again = stream_when_free(v, ta)
        streams.append(again)
        assert again.status == 200
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        for s in streams:
            s.close()
        v.stop()


def test_one_partner_cannot_hold_every_stream_with_many_tokens(tmp_path):
    """A partner's admin mints tokens at will, and each token held its own
    stream_limit_per_credential: 32 tokens of one partner held all 256 streams of the hub, and
    no other partner's dashboard had a live picture. The partner's credentials together hold
    at most stream_limit_per_partner."""
    v = configured(tmp_path, stream_limit_per_credential=2, stream_limit_per_partner=3)
    streams = []
    try:
        v.partner("A")
        v.partner("B")
        ta = [v.user("A", f"a{i}") for i in range(3)]
        tb = v.user("B", "b1")
        for t in (ta[0], ta[0], ta[1]):
            streams.append(Stream(v, token=t))
        assert [s.status for s in streams] == [200, 200, 200]
        for t in ta[1:]:  # each token could hold more; the partner holds as many as it may
            extra = Stream(v, token=t)
            assert extra.status == 429, extra.body
            assert b"partner" in extra.body
        other = Stream(v, token=tb)
        streams.append(other)
        assert other.status == 200
        streams.pop(0).close()  # gives the partner's place back
        again = stream_when_free(v, ta[2])
        streams.append(again)
        assert again.status == 200
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        for s in streams:
            s.close()
        v.stop()


def test_one_partner_cannot_multiply_its_request_rate_with_many_tokens(tmp_path):
    """rate_limit is per token, and a partner's admin mints tokens at will: three tokens had
    three times the rate. The partner's credentials share rate_limit_per_partner."""
    v = configured(tmp_path, rate_limit=5, rate_limit_per_partner=8)
    try:
        v.partner("A")
        v.partner("B")
        ta = [v.user("A", f"a{i}") for i in range(3)]
        tb = v.user("B", "b1")
        codes = [v.get("/api/v1/me", token=t).status_code for t in ta for _ in range(5)]
        assert codes.count(200) in (8, 9) and set(codes) == {200, 429}, codes
        assert codes[:5] == [200] * 5, codes
        r = v.get("/api/v1/me", token=ta[2])
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert v.get("/api/v1/me", token=tb).status_code == 200  # another partner's own
    finally:
        v.stop()


def test_streams_in_all_stay_below_the_connection_limit(tmp_path):
    # 8 connections in all; 6 users each try 2 streams. Streams may take at most half of
    # the connections, so ordinary requests are still answered.
    v = configured(tmp_path, connection_limit=8, threads=2)
    streams = []
    try:
        v.partner("A")
        tokens = [v.user("A", f"u{i}") for i in range(6)]
        codes = []
        for t in tokens:
            for _ in range(2):
                s = Stream(v, token=t)
                streams.append(s)
                codes.append(s.status)
        assert codes.count(200) == 4, codes
        assert set(codes) == {200, 429}, codes
        for _ in range(3):
            assert v.get("/api/v1/me", token=tokens[0]).status_code == 200
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        for s in streams:
            s.close()
        v.stop()


def test_parallel_wrong_logins_are_throttled_and_others_are_answered(tmp_path):
    v = configured(tmp_path)
    try:
        v.partner("A")
        v.run("user", "add", "A", "alice", "--role", "analyst")
        v.run("user", "passwd", "alice", input="a long passphrase\n")
        bob = v.user("A", "bob")
        codes, lock = [], threading.Lock()

        def attack(i):
            st, h = login(v, "alice", f"wrong guess {i}")
            with lock:
                codes.append((st, h.get("Retry-After")))

        threads = [threading.Thread(target=attack, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        # Another user's requests are answered while the attack runs.
        mine = [v.get("/api/v1/me", token=bob).status_code for _ in range(5)]
        for t in threads:
            t.join()
        assert mine == [200] * 5
        assert len(codes) == 24
        assert all(st in (401, 429) for st, _ in codes), codes
        refused = [ra for st, ra in codes if st == 429]
        assert refused, codes
        assert all(ra and int(ra) >= 1 for ra in refused)
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        v.stop()


def test_wrong_logins_are_throttled_per_account_across_addresses(tmp_path):
    v = configured(tmp_path, login_rate_limit=4, login_rate_limit_address=100)
    try:
        v.partner("A")
        for name in ("alice", "carol"):
            v.run("user", "add", "A", name, "--role", "analyst")
            v.run("user", "passwd", name, input="a long passphrase\n")
        # One guess each from many addresses: the account's own budget runs out.
        got = [login(v, "alice", f"guess {i}", source=f"127.0.0.{10 + i}")[0]
               for i in range(8)]
        assert got[:4] == [401] * 4 and got[4:] == [429] * 4, got
        # Even the right password waits now (the attacker cannot tell it was right) ...
        assert login(v, "alice", "a long passphrase", source="127.0.0.50")[0] == 429
        # ... while another account is not affected.
        assert login(v, "carol", "a long passphrase", source="127.0.0.51")[0] == 200
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        v.stop()


def test_wrong_logins_are_throttled_per_address_across_accounts(tmp_path):
    v = configured(tmp_path, login_rate_limit=100, login_rate_limit_address=4)
    try:
        v.partner("A")
        v.run("user", "add", "A", "carol", "--role", "analyst")
        v.run("user", "passwd", "carol", input="a long passphrase\n")
        got = [login(v, f"name{i}", "guess", source="127.0.0.7")[0] for i in range(8)]
        assert got[:4] == [401] * 4 and got[4:] == [429] * 4, got
        # Another address is not affected.
        assert login(v, "carol", "a long passphrase", source="127.0.0.8")[0] == 200
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        v.stop()


def test_a_revoked_tokens_stream_ends(tmp_path):
    v = configured(tmp_path)
    try:
        v.partner("A")
        t = v.user("A", "a1")
        s = Stream(v, token=t)
        assert s.status == 200
        assert not s.ended.wait(1.5)  # it stays open while the token is good
        r = v.request("DELETE", f"/api/v1/tokens/{token_id(v, 'a1')}")
        assert r.status_code == 200, r.text
        assert s.ended.wait(15), "the revoked token's stream is still open"
        assert v.get("/api/v1/me", token=t).status_code == 401
        s.close()
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        v.stop()


def test_a_password_change_ends_the_old_sessions_and_their_streams(tmp_path):
    v = configured(tmp_path)
    try:
        v.partner("A")
        v.run("user", "add", "A", "alice", "--role", "analyst")
        v.run("user", "passwd", "alice", input="a long passphrase\n")
        st, h = login(v, "alice", "a long passphrase")
        assert st == 200
        cookie = h["Set-Cookie"].split(";")[0]
        assert v.get("/api/v1/me", auth=False, headers={"Cookie": cookie}).status_code == 200
        s = Stream(v, cookie=cookie)
        assert s.status == 200
        assert not s.ended.wait(1.5)
        v.run("user", "passwd", "alice", input="another long passphrase\n")
        assert v.get("/api/v1/me", auth=False, headers={"Cookie": cookie}).status_code == 401
        assert s.ended.wait(15), "the old session's stream is still open"
        s.close()
        st, _ = login(v, "alice", "another long passphrase")
        assert st == 200
        assert v.stop() == 0  # clean exit (under ASan: no leak)
    finally:
        v.stop()
