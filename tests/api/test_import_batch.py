"""A report import is one transaction audited as ONE entry (docs/ACCESS.md, "Audit"): the file,
its format, and the objects stored as a list (count, digest, first ten, date_added range). What
must not change with it: abort writes nothing, a second import of the same file stores nothing
and adds no entry, and the chain verifies."""
import hashlib
import json

from conftest import ROOT

DATA = ROOT / "tests" / "data"


def entries(vigil):
    out = []
    for line in vigil.run("audit", "export").stdout.splitlines():
        e = json.loads(line)
        if not isinstance(e["detail"], dict):
            e["detail"] = json.loads(e["detail"])
        out.append(e)
    return out


def imports(vigil):
    return [e for e in entries(vigil) if e["action"] == "import"]


def n_reports(vigil):
    return len(json.loads(vigil.run("export", "geojson", "--as", "admin").stdout)["features"])


def all_objects(vigil):
    coll = vigil.collection("reports")
    r = vigil.get(f"/taxii2/api/collections/{coll}/objects/?match[version]=all&limit=1000")
    assert r.status_code == 200, r.text
    return r.json().get("objects", [])


def digest(items):
    text = b"".join(json.dumps(i, separators=(",", ":")).encode() + b"\0" for i in items)
    return hashlib.blake2b(text, digest_size=32).hexdigest()


def test_an_import_is_one_audit_entry_naming_the_file_and_every_object(vigil):
    before = len(entries(vigil))
    r = vigil.run("import", "acled", str(DATA / "acled_sample.csv"), "--as", "admin")
    added = int(r.stdout.split()[1])
    assert added >= 5, r.stdout + r.stderr
    after = entries(vigil)
    assert len(after) == before + 1  # not one per object
    e = after[-1]
    d = e["detail"]
    assert e["action"] == "import" and e["object"] == "objects"
    assert d["file"] == str(DATA / "acled_sample.csv") and d["format"] == "acled"
    assert d["reports_added"] == added
    objs = all_objects(vigil)  # every object stored, in date_added order
    assert d["count"] == len(objs) == 2 * added  # a report and its location each
    assert len(d["items"]) == 10
    assert d["digest"] == digest([{"id": o["id"], "version": o["modified"]} for o in objs])
    assert d["date_added_first"] <= d["date_added_last"]
    # The same file again stores nothing, and so writes no entry.
    again = vigil.run("import", "acled", str(DATA / "acled_sample.csv"), "--as", "admin")
    assert f"imported 0 report(s), {added} already present" in again.stdout
    assert len(imports(vigil)) == 1 and n_reports(vigil) == added
    ok = vigil.run("audit", "verify", check=False)
    assert ok.returncode == 0 and "audit chain ok" in ok.stdout


def test_abort_on_a_bad_row_writes_nothing_not_even_the_audit_entry(vigil):
    bad = vigil.run("import", "acled", str(DATA / "acled_bad.csv"), "--as", "admin",
                    "--on-error", "abort", check=False)
    assert bad.returncode == 1 and "nothing was imported" in bad.stderr
    assert n_reports(vigil) == 0 and imports(vigil) == [] and all_objects(vigil) == []


def test_a_failure_while_writing_rolls_the_whole_import_back(vigil):
    # Every row parses (the checking pass passes); the unknown group fails at the first
    # report written, and what the import had written by then is undone with its entry.
    r = vigil.run("import", "acled", str(DATA / "acled_sample.csv"), "--as", "admin",
                  "--group", "no-such-group", "--on-error", "abort", check=False)
    assert r.returncode == 1 and "nothing was imported" in r.stderr, r.stdout + r.stderr
    assert n_reports(vigil) == 0 and imports(vigil) == [] and all_objects(vigil) == []
    ok = vigil.run("import", "acled", str(DATA / "acled_sample.csv"), "--as", "admin")
    assert int(ok.stdout.split()[1]) == len(all_objects(vigil)) // 2 > 0
    assert len(imports(vigil)) == 1
