"""A large import opens the SQLite store with bulk_load (store.h, struct store_options): while
no other process has the store open, its one transaction is written through a rollback journal
(each new page written once, not to the WAL and again at a checkpoint), and the store is back
in WAL when the import ends. What must hold with it: an import killed in the middle leaves the
store as it was (SQLite rolls the journal back at the next open), and an import beside a
running server keeps WAL, so the server's readers are never locked out."""
import csv
import io
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, ROOT

SAMPLE = ROOT / "tests" / "data" / "acled_sample.csv"


def big_file(path, n):
    """n ACLED rows made from the sample, each its own source record."""
    with open(SAMPLE, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        base = list(r)
    col = header.index("event_id_cnty")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for i in range(n):
        row = list(base[i % len(base)])
        row[col] = f"JRN{i}"
        w.writerow(row)
    path.write_text(buf.getvalue())
    assert path.stat().st_size > 3500000  # past cli_data.c's "large" (3.4 MB)
    return path


def journal_mode(vigil):
    return vigil.sql("PRAGMA journal_mode")[0][0]


def reports(vigil):
    return vigil.sql("SELECT COUNT(*) FROM reports")[0][0]


@pytest.fixture
def sqlite_only(vigil):
    if vigil.pg:
        pytest.skip("a journal of the SQLite store")
    vigil.stop()
    return vigil


def test_an_import_killed_in_its_transaction_leaves_the_store_as_it_was(sqlite_only, tmp_path):
    v = sqlite_only
    first = big_file(tmp_path / "first.csv", 12000)
    assert "imported 12000 report(s)" in v.run("import", "acled", str(first), "--as",
                                                "admin").stdout
    assert journal_mode(v) == "wal"
    before = v.sql("SELECT seq, stix_id, doc FROM reports ORDER BY seq")
    objects = v.sql("SELECT COUNT(*), MAX(seq) FROM objects")
    size = (v.data / "vigil.db").stat().st_size

    more = big_file(tmp_path / "more.csv", 40000)
    more.write_text(more.read_text().replace("JRN", "MORE"))
    journal = v.data / "vigil.db-journal"
    proc = subprocess.Popen([BIN, "--data", str(v.data), "import", "acled", str(more), "--as",
                             "admin"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Killed once its transaction has written pages into the database file itself (the file
    # grew past its size before the import), the journal still there: the commit not done.
    seen = grown = False
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        if journal.exists():
            seen = True
            try:
                grown = (v.data / "vigil.db").stat().st_size > size
            except FileNotFoundError:
                grown = False
            if grown and journal.exists():
                os.kill(proc.pid, signal.SIGKILL)
                break
        time.sleep(0.001)
    proc.wait(timeout=60)
    assert seen, "the import never wrote a rollback journal"
    assert grown, "the import ended before it could be killed in its commit"
    assert proc.returncode == -signal.SIGKILL
    assert journal.exists()  # a hot journal: what the next open rolls back

    # The next open (vigil's own) rolls it back and returns the store to WAL.
    v.start()
    try:
        r = v.get("/api/v1/reports", params={"limit": 1})
        assert r.status_code == 200
    finally:
        v.stop()
    assert not journal.exists()
    assert journal_mode(v) == "wal"
    assert v.sql("PRAGMA integrity_check") == [("ok",)]
    assert v.sql("SELECT seq, stix_id, doc FROM reports ORDER BY seq") == before
    assert v.sql("SELECT COUNT(*), MAX(seq) FROM objects") == objects

    # And the same file imports whole afterwards.
    out = v.run("import", "acled", str(more), "--as", "admin")
    assert "imported 40000 report(s), 0 already present" in out.stdout, out.stdout + out.stderr
    assert reports(v) == 52000
    assert journal_mode(v) == "wal"


def test_an_import_beside_a_running_server_keeps_wal_and_the_server_reads(vigil, tmp_path):
    if vigil.pg:
        pytest.skip("a journal of the SQLite store")
    path = big_file(tmp_path / "rows.csv", 12000)
    journal = vigil.data / "vigil.db-journal"
    proc = subprocess.Popen([BIN, "--data", str(vigil.data), "import", "acled", str(path),
                             "--as", "admin"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen, reads = False, 0
    while proc.poll() is None:
        seen |= journal.exists()
        r = vigil.get("/api/v1/reports", params={"limit": 1})
        assert r.status_code == 200  # readers are never locked out
        reads += 1
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert b"imported 12000 report(s)" in out
    assert b"kept in WAL" in err
    assert not seen
    assert reads > 0
    assert journal_mode(vigil) == "wal"
    r = vigil.get("/api/v1/reports", params={"limit": 1})
    assert r.status_code == 200 and r.json()["reports"]


def test_a_server_started_while_an_import_holds_the_store_says_why_and_changes_nothing(
        sqlite_only):
    """While a large import writes through its rollback journal it holds the store's lock to its
    end; a server or another import started meanwhile waits the busy timeout, then stops with
    an error that says so (not SQLite's bare "database is locked"), and the store is as it
    was. The lock is taken here as the import takes it, so that the test waits for no
    import."""
    import sqlite3
    v = sqlite_only
    before = reports(v)
    db = sqlite3.connect(v.data / "vigil.db", isolation_level=None)
    try:
        assert db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
        db.execute("BEGIN EXCLUSIVE")
        for args in (["serve", "--listen", "127.0.0.1:0"],
                     ["import", "acled", str(SAMPLE), "--as", "admin"]):
            out = v.run(*args, check=False)
            assert out.returncode != 0, args
            assert "another process holds the store" in out.stderr, out.stderr
            assert "vigil import" in out.stderr, out.stderr
        db.execute("ROLLBACK")
        assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    finally:
        db.close()
    assert reports(v) == before
    v.start()
    assert v.get("/api/v1/reports").status_code == 200
