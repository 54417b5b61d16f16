"""Black-box API tests: each test talks HTTP to a real `vigil serve` on loopback.

The `vigil` fixture gives a fresh data directory (vigil init) and a running daemon on a free
port; `Vigil` also runs CLI subcommands against the same directory and can kill -9 and
restart the daemon. The binary comes from $VIGIL_BIN (make check sets it), else build/vigil.

The store: SQLite in the data directory, or with VIGIL_TEST_STORE=postgresql a database of its
own in a throwaway PostgreSQL cluster (initdb/pg_ctl in a temporary directory, a unix socket
only, started at the first use and stopped at the end of the session; as root, the cluster
runs as the `postgres` user, since initdb refuses root). Each hub's database is a copy of a
template that holds the schema this vigil creates (made once; the next copies are made ahead,
while a test runs). `vigil.sql()` reads and tampers with the store whichever it is.
"""
import atexit
import base64
import glob
import os
import pathlib
import queue
import re
import shutil
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
PG = os.environ.get("VIGIL_TEST_STORE", "sqlite") == "postgresql"


class PgCluster:
    """A throwaway PostgreSQL cluster: a unix socket in its own temporary directory."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh)")
        self.bin = pathlib.Path(bins[-1]).parent
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="vigil-pg-"))
        self.as_user = []
        if os.geteuid() == 0:  # initdb refuses root: the cluster runs as postgres
            shutil.chown(self.dir, user="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        self._pg("initdb", "-D", str(data), "-U", "vigil", "-A", "trust", "-E", "UTF8",
                 "--locale=C", "--no-sync")
        # Tests need no durability; benchmarks (VIGIL_PG_DURABLE=1) keep PostgreSQL's defaults.
        fast = "" if os.environ.get("VIGIL_PG_DURABLE") else \
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg("pg_ctl", "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o",
                 f"-k {self.dir} -c listen_addresses='' -c max_connections=400{fast}", "start")
        self.n = 0
        self.lock = threading.Lock()
        self.ready = queue.Queue(maxsize=2)
        self.template = None
        self.busy = threading.Lock()  # a CREATE DATABASE, or a restart

    def _make_template(self):
        """A database holding the schema that this vigil creates, and nothing else: the empty
        store every test's `vigil init` starts from. The schema comes from vigil itself (a
        command that opens the store migrates it); init on it then does what it does on an
        empty database, less the CREATE TABLEs. test_store_pg.py's init tests keep empty
        databases (new_db)."""
        name = "vigil_template"
        self.psql("postgres", f"CREATE DATABASE {name}")
        data = self.dir / "template"
        data.mkdir(mode=0o700)
        (data / "vigil.conf").write_text(f"store = {self.uri(name)}\n")
        r = subprocess.run([BIN, "--data", str(data), "audit", "verify"], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"the template's schema: {r.stderr}")
        self.template = name

    def _fill(self):
        """Keeps cloned databases ready ahead of the tests that take them (hub_db): the
        CREATE DATABASE of the next test overlaps the current one."""
        while True:
            try:
                with self.lock:
                    self.n += 1
                    name = f"h{os.getpid()}_{self.n}"
                with self.busy:
                    self.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {self.template}")
                self.ready.put(name)
            except Exception as e:  # noqa: BLE001 (handed to the test that waits)
                self.ready.put(e)
                return

    def hub_db(self):
        """A new database with the schema already in it (the template's), for `vigil init`."""
        with self.lock:
            if self.template is None:
                self._make_template()
                threading.Thread(target=self._fill, daemon=True).start()
        name = self.ready.get(timeout=120)
        if isinstance(name, Exception):
            raise name
        return name

    def _pg(self, tool, *args):
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def psql(self, db, sql):
        r = subprocess.run(["psql", "-h", str(self.dir), "-U", "vigil", "-d", db, "-X", "-A",
                            "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"psql: {r.stderr}")
        return r.stdout

    def new_db(self):
        with self.lock:
            self.n += 1
            name = f"t{os.getpid()}_{self.n}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def restart(self):
        """Restarts the server (every connection to it is dropped)."""
        with self.busy:
            self._pg("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                     "-m", "fast", "restart")

    def uri(self, db):
        return f"postgresql://vigil@/{db}?host={self.dir}"

    def stop(self):
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


_cluster = None


def pg_cluster():
    global _cluster
    if _cluster is None:
        _cluster = PgCluster()
        atexit.register(_cluster.stop)
    return _cluster


class Vigil:
    def __init__(self, data, store=None):
        """store: None for the suite's store (SQLite, or PostgreSQL under VIGIL_TEST_STORE),
        "sqlite" for SQLite whatever the suite's, or a postgresql:// URI (init --store)."""
        self.data = pathlib.Path(data)
        self.proc = None
        self.port = None
        self.log = b""
        self.drain = None
        self.db = None
        self.pg = PG if store is None else store != "sqlite"
        if store and store != "sqlite":
            self.db = store.split("?")[0].rsplit("/", 1)[1]
            self.run("init", "--store", store)
        elif self.pg:
            self.db = pg_cluster().hub_db()
            self.run("init", "--store", pg_cluster().uri(self.db))
        else:
            self.run("init")
        self.admin_token = (self.data / "admin.token").read_text().strip()

    # -- the store, behind the daemon's back -------------------------------------------------
    def sql(self, statements):
        """Runs SQL on the store (SQLite or PostgreSQL); the rows of the last statement, as
        tuples (blobs as bytes, everything else from PostgreSQL as text)."""
        if not self.pg:
            con = sqlite3.connect(str(self.data / "vigil.db"))
            try:
                if ";" in statements.strip().rstrip(";"):
                    con.executescript(statements)
                    return []
                rows = con.execute(statements).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        out = pg_cluster().psql(self.db, statements)
        rows = []
        for line in out.splitlines():
            if line == "" or re.fullmatch(r"(UPDATE|DELETE|INSERT)( \d+)+", line):
                continue
            rows.append(tuple(bytes.fromhex(v[2:]) if v.startswith("\\x") else v
                              for v in line.split("\x1f")))
        return rows

    def front_end(self, data):
        """Another `vigil serve` of the same hub (PostgreSQL): a data directory with copies of
        this one's vigil.conf, secret.key and rules.conf, as docs/OPERATIONS.md says."""
        other = object.__new__(Vigil)
        other.data = pathlib.Path(data)
        other.data.mkdir(mode=0o700)
        for f in ("vigil.conf", "secret.key", "rules.conf", "admin.token"):
            shutil.copy2(self.data / f, other.data / f)
        other.proc = other.port = other.drain = None
        other.log = b""
        other.db, other.pg = self.db, self.pg
        other.admin_token = self.admin_token
        return other

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

    def allow_private_webhooks(self, allow=True):
        """Restarts the daemon with webhooks to loopback allowed (or forbidden again): the
        tests' receivers listen there, which a hub refuses by default (docs/CONFIG.md)."""
        conf = self.data / "vigil.conf"
        line = "webhook_allow_private = true\n"
        self.stop()
        text = conf.read_text().replace(line, "")
        conf.write_text(text + line if allow else text)
        return self.start()

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
        if self.pg:  # the server keeps its files sound; the schema is there and answers
            return "ok" if self.sql("SELECT version FROM vigil_schema") else "no schema"
        con = sqlite3.connect(f"file:{self.data / 'vigil.db'}?mode=ro", uri=True)
        try:
            return con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()


def wait_for(fn, timeout=10):
    """Polls fn until it is true or timeout seconds pass; returns its last answer (to assert)."""
    deadline = time.time() + timeout
    while not fn() and time.time() < deadline:
        time.sleep(0.2)
    return fn()


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
