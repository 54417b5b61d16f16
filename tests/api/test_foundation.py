"""The daemon, its CLI contract (S10), authentication on every endpoint, health and metrics,
and durability across kill -9 (issue: foundation)."""
import os
import stat
import subprocess

import requests

from conftest import BIN, PG, TAXII, Vigil, basic
from stix_samples import envelope, indicator


def test_version_and_help():
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("vigil ")
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "serve" in r.stdout and "init" in r.stdout
    for sub in (["init"], ["serve"], ["partner"], ["user"], ["token"]):
        r = subprocess.run([BIN, "--data", "/nonexistent", *sub, "--help"], capture_output=True,
                           text=True)
        assert r.returncode == 0 and "usage: vigil" in r.stdout, sub
    r = subprocess.run([BIN, "frobnicate"], capture_output=True, text=True,
                       env={**os.environ, "VIGIL_DATA": "/tmp/x"})
    assert r.returncode == 2 and "unknown command" in r.stderr


def test_init_layout_and_permissions(tmp_path):
    v = Vigil(tmp_path / "d")
    assert stat.S_IMODE(os.stat(v.data).st_mode) == 0o700
    for f in ("admin.token", "vigil.conf", "secret.key") + (() if PG else ("vigil.db",)):
        assert stat.S_IMODE(os.stat(v.data / f).st_mode) == 0o600, f
    assert v.admin_token.startswith("vgl_") and len(v.admin_token) == 47
    again = v.run("init", check=False)
    assert again.returncode == 1 and "already holds" in again.stderr
    assert v.integrity() == "ok"


def test_bad_config_is_refused_with_line(tmp_path):
    v = Vigil(tmp_path / "d")
    with open(v.data / "vigil.conf", "a") as f:
        f.write("page_max = lots\n")
    r = subprocess.run([BIN, "--data", str(v.data), "serve", "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "vigil.conf:" in r.stderr and "page_max must be an integer" in r.stderr


def test_health_is_public_everything_else_needs_a_token(vigil):
    assert vigil.get("/healthz", auth=False).json() == {"status": "ok"}
    assert vigil.get("/readyz", auth=False).status_code == 200
    for path in ("/metrics", "/taxii2/", "/taxii2/api/", "/taxii2/api/collections/"):
        r = vigil.get(path, auth=False)
        assert r.status_code == 401, path
        assert "Basic" in r.headers["WWW-Authenticate"]
        r = vigil.get(path, token="vgl_" + "A" * 43)
        assert r.status_code == 401, path
        assert vigil.get(path).status_code == 200, path


def test_basic_auth_takes_user_name_and_token(vigil):
    ok = vigil.get("/taxii2/", auth=False, headers={"Authorization": basic("admin",
                                                                           vigil.admin_token)})
    assert ok.status_code == 200
    wrong_user = vigil.get("/taxii2/", auth=False,
                           headers={"Authorization": basic("someone", vigil.admin_token)})
    assert wrong_user.status_code == 401
    garbage = vigil.get("/taxii2/", auth=False, headers={"Authorization": "Basic !!!"})
    assert garbage.status_code == 401


def test_cli_partner_user_token(vigil):
    ident = vigil.partner("Egypt")
    assert ident.startswith("identity--")
    dup = vigil.run("partner", "add", "Egypt", check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    tok = vigil.user("Egypt", "amira", role="reporter")
    assert vigil.get("/taxii2/", token=tok).status_code == 200
    bad_role = vigil.run("user", "add", "Egypt", "x", "--role", "god", check=False)
    assert bad_role.returncode == 1 and "role must be" in bad_role.stderr
    no_partner = vigil.run("user", "add", "Nowhere", "y", "--role", "reader", check=False)
    assert no_partner.returncode == 1 and "no partner" in no_partner.stderr
    no_user = vigil.run("token", "create", "ghost", check=False)
    assert no_user.returncode == 1 and "no user" in no_user.stderr


def test_metrics_count_requests(vigil):
    for _ in range(3):
        vigil.get("/healthz", auth=False)
    text = vigil.get("/metrics").text
    assert "# TYPE vigil_http_requests_total counter" in text
    line = [l for l in text.splitlines()
            if l.startswith("vigil_http_requests_total{") and 'route="healthz"' in l]
    assert line and float(line[0].rsplit(" ", 1)[1]) >= 3
    assert "vigil_http_request_duration_seconds_bucket" in text
    gauges = {l.split()[0]: int(l.split()[1]) for l in text.splitlines()
              if l.startswith(("vigil_store_memory_bytes ", "vigil_heap_"))}
    assert gauges["vigil_store_memory_bytes"] > 0
    # glibc's heap gauges; absent when a sanitizer replaces malloc (mallinfo2 cannot see it)
    sanitized = "libasan" in subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout
    assert ("vigil_heap_in_use_bytes" in gauges) != sanitized
    if not sanitized:  # the heap holds at least what SQLite holds (it allocates with malloc)
        assert gauges["vigil_heap_in_use_bytes"] >= gauges["vigil_store_memory_bytes"]
        assert gauges["vigil_heap_free_bytes"] >= 0


def test_acknowledged_writes_survive_kill_9(vigil):
    coll = vigil.collection("reports")
    ids = []
    for batch in range(5):
        objs = [indicator(batch * 10 + i) for i in range(10)]
        r = vigil.post(f"/taxii2/api/collections/{coll}/objects/", json=envelope(*objs))
        assert r.status_code == 202, r.text
        assert r.json()["success_count"] == 10
        ids += [o["id"] for o in objs]
    assert vigil.kill9() == -9
    assert vigil.integrity() == "ok"
    vigil.start()
    r = vigil.get(f"/taxii2/api/collections/{coll}/objects/?limit=1000")
    assert r.status_code == 200
    assert sorted(o["id"] for o in r.json()["objects"]) == sorted(ids)


def test_sigterm_stops_cleanly(vigil):
    assert vigil.stop() == 0
    assert b"stopping on signal" in vigil.log
