"""`make install`: what it installs, and that the installed vigil works from where it lands.

One `make install PREFIX=<tmp>` into a temporary prefix, from a temporary build tree
(INSTALL_BUILD), so the developer's build/ and build-install/ are left alone. VIGIL_WITH_WEB=0
keeps npm out of it: the dashboard installed is whatever web/dist holds (make check has built
it). The manual is checked against the installed binary's own --help texts, so a command,
option or config key added without documenting it fails here.
"""
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES1 = ["vigil", "vigil-init", "vigil-serve", "vigil-partner", "vigil-user", "vigil-token",
          "vigil-group", "vigil-audit", "vigil-import", "vigil-export"]
HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
    "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces": "yes",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
    "SystemCallFilter": "@system-service", "CapabilityBoundingSet": "", "UMask": "0077",
    "Restart": "on-failure", "StateDirectory": "vigil", "StateDirectoryMode": "0700",
}


def make_install(build, **variables):
    env = dict(os.environ, VIGIL_WITH_WEB="0")
    for inherited in ("DESTDIR", "PREFIX", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(inherited, None)  # e.g. when make check runs this
    args = ["make", "--no-print-directory", "-C", str(ROOT), "install",
            f"INSTALL_BUILD={build}"] + [f"{k}={v}" for k, v in variables.items()]
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"make install failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    prefix = tmp / "prefix"
    had_dist = (ROOT / "web" / "dist" / "index.html").is_file()
    make_install(tmp / "build", PREFIX=prefix)
    return {"tmp": tmp, "prefix": prefix, "bin": prefix / "bin" / "vigil", "had_dist": had_dist}


def run(binary, *args, data=None, check=True):
    argv = [str(binary)] + (["--data", str(data)] if data else []) + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, f"{' '.join(argv)}: {r.returncode}: {r.stderr}"
    return r


def render(page):
    """The page as plain text (needs groff); fails on any groff warning."""
    r = subprocess.run(["groff", "-man", "-Tutf8", "-P-c", "-ww", str(page)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", f"{page.name}: groff: {r.stderr}"
    text = re.sub(".\b", "", r.stdout)  # overstrike bold and underline
    return text.replace("\u2212", "-").replace("\u2010", "-")


def needs_groff():
    if not shutil.which("groff"):
        pytest.skip("groff is not installed (scripts/install-deps.sh installs groff-base)")


def commands(binary):
    """The commands `vigil --help` lists: every word of its Commands section that vigil
    accepts as a command (a word like "add" or "stix" gets "unknown command")."""
    usage = run(binary, "--help").stdout
    section = usage.split("Commands:", 1)[1]
    found = []
    for word in sorted(set(re.findall(r"(?:^|\n)\s+([a-z]+)|\|\s+([a-z]+)", section))):
        for w in word:
            if w and w not in found and run(binary, w, "--help", check=False).returncode == 0:
                found.append(w)
    return found


def options(help_text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-h)\b", help_text))


def test_installs_a_binary_that_runs(inst):
    assert os.access(inst["bin"], os.X_OK)
    version = re.search(r"version\s*:\s*'([^']+)'", (ROOT / "meson.build").read_text()).group(1)
    assert run(inst["bin"], "--version").stdout == f"vigil {version}\n"


def test_installs_the_dashboard_and_the_binary_serves_it(inst, tmp_path):
    web = inst["prefix"] / "share" / "vigil" / "web"
    if not inst["had_dist"]:
        assert not (web / "index.html").exists()
        pytest.skip("web/dist was not built: no dashboard to install")
    src = ROOT / "web" / "dist"
    listing = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())
    assert listing(web) == listing(src)

    # The installed binary's default web_root is the installed dashboard, not the source tree.
    data = tmp_path / "data"
    run(inst["bin"], "init", data=data)
    conf = (data / "vigil.conf").read_text()
    assert re.search(rf"^web_root = {re.escape(str(web))}$", conf, re.M), conf
    proc = subprocess.Popen([str(inst["bin"]), "--data", str(data), "serve", "--listen",
                             "127.0.0.1:0"], stderr=subprocess.PIPE)
    try:
        port, deadline, log = None, time.time() + 30, b""
        while port is None and time.time() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            log += line
            m = re.search(rb"listening on http://[^:]+:(\d+)/", line)
            port = int(m.group(1)) if m else None
        assert port, f"installed vigil serve did not start: {log.decode(errors='replace')}"
        r = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert r.status_code == 200
        assert r.content == (web / "index.html").read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_installs_man_pages_that_render_cleanly(inst):
    man = inst["prefix"] / "share" / "man"
    pages = [man / "man1" / f"{p}.1" for p in PAGES1] + [man / "man5" / "vigil.conf.5"]
    for page in pages:
        assert page.is_file(), f"{page} not installed"
    needs_groff()
    for page in pages:
        name = page.name.rsplit(".", 1)[0]
        text = render(page)
        assert re.search(rf"^NAME\s+{re.escape(name)} - \S", text, re.M), f"{page.name}: NAME"
        assert "SYNOPSIS" in text and "DESCRIPTION" in text


def test_every_command_has_a_man_page_that_covers_its_options(inst):
    needs_groff()
    man1 = inst["prefix"] / "share" / "man" / "man1"
    main_page = render(man1 / "vigil.1")
    cmds = commands(inst["bin"])
    assert {"init", "serve", "partner", "import", "export"} <= set(cmds), cmds
    usage = run(inst["bin"], "--help").stdout
    global_opts = options(usage.split("Commands:", 1)[0])
    assert {"--data", "--help", "--version"} <= global_opts
    for opt in global_opts:
        assert opt in main_page, f"vigil(1) does not document {opt}"
    for cmd in cmds:
        page = man1 / f"vigil-{cmd}.1"
        assert page.is_file(), (f"vigil {cmd} has no man page: write man/vigil-{cmd}.1 and "
                                f"list it in man/meson.build")
        text = render(page)
        assert re.search(rf"\bvigil-{cmd}\(1\)", main_page), f"vigil(1) does not name {cmd}"
        help_text = run(inst["bin"], cmd, "--help").stdout
        for opt in options(help_text):
            assert re.search(rf"(?<![\w-]){re.escape(opt)}\b", text), \
                f"vigil-{cmd}(1) does not document {opt} (from vigil {cmd} --help)"


def test_config_page_covers_every_key(inst, tmp_path):
    needs_groff()
    run(inst["bin"], "init", data=tmp_path / "d")
    keys = re.findall(r"^([a-z_]+) = ", (tmp_path / "d" / "vigil.conf").read_text(), re.M)
    assert "listen" in keys and "rate_limit" in keys
    text = render(inst["prefix"] / "share" / "man" / "man5" / "vigil.conf.5")
    missing = [k for k in keys if not re.search(rf"\b{k}\b", text)]
    assert not missing, f"vigil.conf(5) does not document {missing}"


def test_installs_a_hardened_systemd_unit(inst):
    unit = inst["prefix"] / "share" / "vigil" / "vigil.service"
    text = unit.read_text()
    settings = {}
    for line in text.replace("\\\n", " ").splitlines():  # continuation lines joined
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            settings.setdefault(m.group(1), []).append(m.group(2))
    assert settings["ExecStart"] == [f"{inst['bin']} --data /var/lib/vigil serve"]
    assert not re.search(r"@[A-Z]+@", text)  # every placeholder filled in
    assert f"{inst['bin']} --data /var/lib/vigil init" in settings["ExecStartPre"][0]
    for key, value in HARDENING.items():
        assert value in settings.get(key, []), f"vigil.service: {key}={value} missing"
    assert settings.get("DynamicUser") == ["yes"] or settings.get("User") == ["vigil"]
    if shutil.which("systemd-analyze"):
        env = dict(os.environ, MANPATH=str(inst["prefix"] / "share" / "man"))
        r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                           text=True, env=env, timeout=60)
        assert r.returncode == 0 and "vigil.service" not in r.stderr, r.stderr


def test_destdir_stages_an_install_for_the_final_prefix(inst):
    # Same build tree, reconfigured for another prefix: only config.c and the link are redone.
    stage = inst["tmp"] / "stage"
    make_install(inst["tmp"] / "build", PREFIX="/opt/vigil", DESTDIR=stage)
    staged = stage / "opt" / "vigil"
    binary = staged / "bin" / "vigil"
    assert run(binary, "--version").stdout.startswith("vigil ")
    assert (staged / "share" / "man" / "man5" / "vigil.conf.5").is_file()
    assert "ExecStart=/opt/vigil/bin/vigil --data /var/lib/vigil serve\n" in \
        (staged / "share" / "vigil" / "vigil.service").read_text()
    data = inst["tmp"] / "staged-data"
    run(binary, "init", data=data)
    assert "\nweb_root = /opt/vigil/share/vigil/web\n" in (data / "vigil.conf").read_text()
    assert not pathlib.Path("/opt/vigil/bin/vigil").exists() or \
        not os.path.samefile("/opt/vigil/bin/vigil", binary)
