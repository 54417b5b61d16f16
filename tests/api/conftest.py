"""Black-box API tests: each test talks HTTP to a real `vigil serve` on loopback.

The `vigil` fixture gives a fresh data directory (vigil init) and a running daemon on a free
port; `Vigil` also runs CLI subcommands against the same directory and can kill -9 and
restart the daemon. The binary comes from $VIGIL_BIN (make check sets it), else build/vigil.
"""
import base64
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("VIGIL_BIN", str(ROOT / "build" / "vigil"))
TAXII = "application/taxii+json;version=2.1"


class Vigil:
    def __init__(self, data):
        self.data = pathlib.Path(data)
        self.proc = None
        self.port = None
        self.log = b""
        self.drain = None
        self.run("init")
        self.admin_token = (self.data / "admin.token").read_text().strip()

    # -- the CLI ---------------------------------------------------------------------------
    def run(self, *args, check=True, input=None):
        r = subprocess.run([BIN, "--data", str(self.data), *args], capture_output=True,
                           text=True, input=input, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"vigil {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def partner(self, name, coordinator=False):
        args = ["partner", "add", name] + (["--coordinator"] if coordinator else [])
        return self.run(*args).stdout.strip()

    def user(self, partner, name, role="analyst", read_only=False):
        """Adds a user and returns a new token for it."""
        self.run("user", "add", partner, name, "--role", role)
        args = ["token", "create", name] + (["--read-only"] if read_only else [])
        return self.run(*args).stdout.strip()

    # -- the daemon ------------------------------------------------------------------------
    def start(self, listen="127.0.0.1:0"):
        self.proc = subprocess.Popen([BIN, "--data", str(self.data), "serve", "--listen", listen],
                                     stderr=subprocess.PIPE)
        deadline = time.time() + 30
        line = b""
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log += line
            m = re.search(rb"listening on https?://[^:]+:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                # keep reading its log, so that a daemon that logs a lot never blocks on a full
                # pipe; what it said is in self.log
                self.drain = threading.Thread(target=self._read_log, args=(self.proc,),
                                              daemon=True)
                self.drain.start()
                return self
        raise AssertionError(f"vigil serve did not start: {self.log.decode(errors='replace')}")

    def _read_log(self, proc):
        for line in proc.stderr:
            self.log += line

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.drain:
            self.drain.join(timeout=10)
            self.proc.stderr.close()
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def kill9(self):
        return self.stop(signal.SIGKILL)

    # -- HTTP ------------------------------------------------------------------------------
    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, token=None, auth=True, headers=None, **kw):
        h = {}
        if auth:
            h["Authorization"] = "Bearer " + (token or self.admin_token)
        if path.startswith("/taxii2/"):
            h["Accept"] = TAXII
            if method == "POST":
                h["Content-Type"] = TAXII
        h.update(headers or {})
        return requests.request(method, self.url + path, headers=h, timeout=60, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def metric(self, name):
        """The value of an unlabelled series of /metrics."""
        r = self.get("/metrics")
        assert r.status_code == 200
        return float(next(l.split()[1] for l in r.text.splitlines()
                          if l.startswith(name + " ")))

    def collection(self, name="reports"):
        r = self.get("/taxii2/api/collections/")
        assert r.status_code == 200, r.text
        for c in r.json()["collections"]:
            if c["title"].lower() == name:
                return c["id"]
        raise KeyError(name)

    def integrity(self):
        con = sqlite3.connect(f"file:{self.data / 'vigil.db'}?mode=ro", uri=True)
        try:
            return con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()


def basic(user, token):
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


@pytest.fixture
def vigil():
    with tempfile.TemporaryDirectory(prefix="vigil-api-") as tmp:
        v = Vigil(pathlib.Path(tmp) / "data")
        v.start()
        try:
            yield v
        finally:
            v.stop()
