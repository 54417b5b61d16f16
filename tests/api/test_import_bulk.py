"""A large import builds the report index's secondary indexes and R*Tree once, at its end, in
its own transaction (store_txn_reports_bulk_begin, docs/BENCHMARKS.md). What must not change
with it: the reports stored and every query's answer are those of the same rows imported one
by one, and a failed bulk import leaves the store as it was, indexes included."""
import csv
import datetime
import io
import pathlib
import tempfile

import pytest

from conftest import ROOT, Vigil

SAMPLE = ROOT / "tests" / "data" / "acled_sample.csv"
ROWS = 12000  # a file of more than 10,000 rows' worth of bytes: the bulk path
CHUNK = 2000  # a file of fewer: row by row


def rows():
    with open(SAMPLE, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        base = list(r)
    col = {name: i for i, name in enumerate(header)}
    out = []
    day0 = datetime.date(2024, 1, 1)
    for i in range(ROWS):
        row = list(base[i % len(base)])
        row[col["event_id_cnty"]] = f"BLK{i}"
        row[col["event_date"]] = (day0 + datetime.timedelta(days=i * 7 % 400)).isoformat()
        row[col["year"]] = row[col["event_date"]][:4]
        row[col["latitude"]] = f"{31.0 + (i * 37 % 1000) / 1000:.4f}"
        row[col["longitude"]] = f"{34.0 + (i * 91 % 1000) / 1000:.4f}"
        out.append(row)
    return header, out


def write(path, header, body):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    path.write_text(buf.getvalue())
    return path


def answers(v):
    """What a set of queries answers, each report by its source record, in the given order."""
    out = {}
    queries = [{"since": "2024-01-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"}]
    for k in range(6):  # boxes of 0.2 degrees with a time window of 60 days
        lat, lon = 31.0 + k * 0.15, 34.0 + k * 0.13
        queries.append({"bbox": f"{lon},{lat},{lon + 0.2},{lat + 0.2}",
                        "since": f"2024-0{k + 1}-01T00:00:00Z",
                        "until": f"2024-0{k + 3}-01T00:00:00Z"})
        queries.append({"bbox": f"{lon},{lat},{lon + 0.2},{lat + 0.2}"})
    for event in ("ASSAULT", "PROTEST", "OTHER"):
        queries.append({"event": event, "since": "2024-03-01T00:00:00Z"})
    queries.append({"q": "drone", "until": "2024-06-01T00:00:00Z"})
    queries.append({"mode": "aerial", "since": "2024-10-01T00:00:00Z"})
    for q in queries:
        got, params = [], dict(q, limit=1000)
        while True:
            r = v.get("/api/v1/reports", params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            got += [(x.get("source_ref"), x.get("start"), x.get("event")) for x in
                    body["reports"]]
            if not body.get("next"):
                break
            params = dict(q, limit=1000, cursor=body["next"])
        out[str(sorted(q.items()))] = got
    return out


def index_names(v):
    return sorted(r[0] for r in v.sql("SELECT name FROM sqlite_master WHERE type = 'index'"
                                      " AND tbl_name LIKE 'reports%'"))


def test_a_bulk_import_answers_every_query_as_a_row_by_row_one(vigil, tmp_path):
    header, body = rows()
    whole = write(tmp_path / "whole.csv", header, body)
    assert whole.stat().st_size / 256 >= 10000  # the bulk path's threshold (reports.c)
    vigil.stop()
    out = vigil.run("import", "acled", str(whole), "--as", "admin")
    assert f"imported {ROWS} report(s)" in out.stdout, out.stdout + out.stderr

    with tempfile.TemporaryDirectory(prefix="vigil-api-") as tmp:
        ref = Vigil(pathlib.Path(tmp) / "data")
        for k in range(0, ROWS, CHUNK):
            part = write(tmp_path / f"part{k}.csv", header, body[k:k + CHUNK])
            assert part.stat().st_size / 256 < 10000
            ref.run("import", "acled", str(part), "--as", "admin")
        if not vigil.pg:
            assert index_names(vigil) == index_names(ref)
            assert "reports_start" in index_names(vigil) and "reports_event" in index_names(vigil)
            assert vigil.sql("PRAGMA integrity_check") == [("ok",)]
            assert vigil.sql("SELECT rtreecheck('reports_geo')") == [("ok",)]
            n = "SELECT (SELECT COUNT(*) FROM reports), (SELECT COUNT(*) FROM reports_geo)"
            assert vigil.sql(n) == ref.sql(n) == [(ROWS, ROWS)]
            # The same R*Tree boxes (the 32-bit floats the queries compare) for the same rows.
            box = ("SELECT r.source_ref, g.min_lat, g.max_lat, g.min_lon, g.max_lon, g.min_hour,"
                   " g.max_hour FROM reports_geo g JOIN reports r ON r.seq = g.seq"
                   " ORDER BY r.source_ref")
            assert vigil.sql(box) == ref.sql(box)
        vigil.start()
        ref.start()
        try:
            a, b = answers(vigil), answers(ref)
            assert sum(len(x) for x in a.values()) > ROWS  # the queries find reports
            for q in a:
                assert a[q] == b[q], q
        finally:
            ref.stop()


def test_a_failed_bulk_import_leaves_the_store_and_its_indexes_as_they_were(vigil, tmp_path):
    header, body = rows()
    whole = write(tmp_path / "whole.csv", header, body)
    vigil.stop()
    before = index_names(vigil) if not vigil.pg else None
    # Every row parses; the unknown group fails at the first report written, after the
    # indexes were dropped for the bulk load.
    r = vigil.run("import", "acled", str(whole), "--as", "admin", "--group", "no-such-group",
                  "--on-error", "abort", check=False)
    assert r.returncode == 1 and "nothing was imported" in r.stderr, r.stdout + r.stderr
    if not vigil.pg:
        assert index_names(vigil) == before
        assert "reports_start" in before
        assert vigil.sql("SELECT COUNT(*) FROM reports") == [(0,)]
    ok = vigil.run("import", "acled", str(whole), "--as", "admin")
    assert f"imported {ROWS} report(s)" in ok.stdout
    if not vigil.pg:
        assert index_names(vigil) == before
        assert vigil.sql("PRAGMA integrity_check") == [("ok",)]


def test_a_bulk_import_into_a_located_store_packs_old_and_new_rows_and_takes_more(vigil,
                                                                                    tmp_path):
    """The packed R*Tree (geo_pack.c) holds the rows stored before the bulk load as well as its
    own, and a row-by-row import after it inserts into it (splitting its full nodes): the
    boxes, rtreecheck and every answer are those of the same rows imported one file of 2,000 at
    a time."""
    header, body = rows()
    first, last = body[:CHUNK], body[-CHUNK:]
    middle = body[CHUNK:-CHUNK] + first  # the first 2,000 again: "already present"
    vigil.stop()
    vigil.run("import", "acled", str(write(tmp_path / "first.csv", header, first)), "--as",
              "admin")
    big = write(tmp_path / "middle.csv", header, middle)
    assert big.stat().st_size / 256 >= 10000
    out = vigil.run("import", "acled", str(big), "--as", "admin")
    assert f"imported {ROWS - 2 * CHUNK} report(s), {CHUNK} already present" in out.stdout, \
        out.stdout
    vigil.run("import", "acled", str(write(tmp_path / "last.csv", header, last)), "--as",
              "admin")
    with tempfile.TemporaryDirectory(prefix="vigil-api-") as tmp:
        ref = Vigil(pathlib.Path(tmp) / "data")
        for k in range(0, ROWS, CHUNK):
            part = write(tmp_path / f"part{k}.csv", header, body[k:k + CHUNK])
            ref.run("import", "acled", str(part), "--as", "admin")
        if not vigil.pg:
            assert vigil.sql("SELECT rtreecheck('reports_geo')") == [("ok",)]
            depth = "SELECT hex(substr(data, 1, 2)) FROM reports_geo_node WHERE nodeno = 1"
            assert vigil.sql(depth) != [("0000",)]  # a tree of several levels
            box = ("SELECT r.source_ref, g.min_lat, g.max_lat, g.min_lon, g.max_lon, g.min_hour,"
                   " g.max_hour FROM reports_geo g JOIN reports r ON r.seq = g.seq"
                   " ORDER BY r.source_ref")
            got = vigil.sql(box)
            assert len(got) == ROWS and got == ref.sql(box)
        vigil.start()
        ref.start()
        try:
            a, b = answers(vigil), answers(ref)
            assert sum(len(x) for x in a.values()) > ROWS
            for q in a:
                assert a[q] == b[q], q
        finally:
            ref.stop()


def test_a_bulk_import_correcting_its_own_rows_stores_what_a_row_by_row_one_does(vigil, tmp_path):
    """A bulk load holds its objects' id rows in memory until its end (objects.c): a row that
    corrects an earlier row of the same file must still find that row's report by id, and add
    a version to it (one latest, one first), exactly as the same rows imported a few thousand
    at a time do."""
    if vigil.pg:
        pytest.skip("the SQLite store's id index")
    header, body = rows()
    col = {name: i for i, name in enumerate(header)}

    def fix(i, n):
        row = list(body[i])
        row[col["notes"]] = f"Correction {n} of row {i}."
        row[col["fatalities"]] = str(10 + n)
        return row

    # Row 3 corrected twice, far apart: two versions written within the same millisecond
    # would be the same version with other content (refused, bulk or not).
    every = (body[:6000] + [fix(3, 1)] + body[6000:] + [fix(500, 2), fix(4000, 3), fix(3, 4)]
             + [list(body[10])])  # the same row again: already present
    whole = write(tmp_path / "whole.csv", header, every)
    assert whole.stat().st_size / 256 >= 10000  # the bulk path (reports.c)
    vigil.stop()
    out = vigil.run("import", "acled", str(whole), "--as", "admin")
    assert f"imported {ROWS + 4} report(s), 1 already present, 0 bad" in out.stdout, out.stdout

    with tempfile.TemporaryDirectory(prefix="vigil-api-") as tmp:
        ref = Vigil(pathlib.Path(tmp) / "data")
        for k in range(0, len(every), CHUNK):
            part = write(tmp_path / f"part{k}.csv", header, every[k:k + CHUNK])
            assert part.stat().st_size / 256 < 10000
            ref.run("import", "acled", str(part), "--as", "admin")
        versions = ("SELECT r.source_ref, r.text, json_extract(r.doc, '$.fatalities'),"
                    " COUNT(o.seq), SUM(o.latest), SUM(o.first),"
                    " MAX(CASE WHEN o.latest THEN json_extract(o.json, '$.description') END)"
                    " FROM reports r JOIN objects o ON o.stix_id = r.stix_id"
                    " GROUP BY r.seq ORDER BY r.source_ref")
        got = vigil.sql(versions)
        assert got == ref.sql(versions)
        assert len(got) == ROWS
        by_ref = {r[0].removeprefix("acled:"): r for r in got}
        three = by_ref[body[3][col["event_id_cnty"]]]
        assert "Correction 4 of row 3." in three[1] and three[2] == 14
        assert three[3:6] == (3, 1, 1)  # three versions, one latest, one first
        assert "Correction 4 of row 3." in three[6]  # the latest is the last correction
        assert by_ref[body[500][col["event_id_cnty"]]][3:6] == (2, 1, 1)
        assert by_ref[body[10][col["event_id_cnty"]]][3:6] == (1, 1, 1)
        kinds = "SELECT type, COUNT(*), SUM(latest), SUM(first) FROM objects GROUP BY type"
        assert vigil.sql(kinds) == ref.sql(kinds)
        events = ("SELECT (SELECT COUNT(*) FROM events WHERE kind = 'report'),"
                  " (SELECT SUM(gone) FROM events WHERE kind = 'report'),"
                  " (SELECT COUNT(*) FROM reports_withdrawn)")
        assert vigil.sql(events) == ref.sql(events) == [(ROWS + 4, 4, 4)]
        # One id row per object, in the main level: the load wrote them there at its end.
        ids = ("SELECT (SELECT COUNT(*) FROM objects), (SELECT COUNT(*) FROM object_ids),"
               " (SELECT COUNT(*) FROM object_ids_new), (SELECT COUNT(*) FROM objects WHERE seq"
               " NOT IN (SELECT seq FROM object_ids UNION ALL SELECT seq FROM object_ids_new))")
        n = vigil.sql(ids)[0]
        assert n[0] == n[1] and n[2] == 0 and n[3] == 0
        assert vigil.sql("PRAGMA integrity_check") == [("ok",)]
        # And after it, a row-by-row import corrects a row of the bulk load as ever.
        row = list(body[7])
        row[col["notes"]] = "Corrected after the load."
        after = write(tmp_path / "after.csv", header, [row])
        assert "imported 1 report(s)" in vigil.run("import", "acled", str(after), "--as",
                                                   "admin").stdout
        now = {r[0].removeprefix("acled:"): r for r in vigil.sql(versions)}
        seven = now[body[7][col["event_id_cnty"]]]
        assert "Corrected after the load." in seven[6] and seven[3:6] == (2, 1, 1)
