"""The daemon is built hardened (meson.build, docs/TESTING.md): read from the built binary's ELF
with readelf. The binary is $VIGIL_BIN, else build/vigil; _FORTIFY_SOURCE is expected only when
its build is optimised and has no sanitizer (meson.build turns it off otherwise)."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("VIGIL_BIN", str(ROOT / "build" / "vigil")))

pytestmark = [
    pytest.mark.skipif(not BIN.is_file(), reason=f"{BIN} is not built"),
    pytest.mark.skipif(not shutil.which("readelf"), reason="readelf (binutils) is missing"),
]


def readelf(*flags):
    return subprocess.run(["readelf", "-W", *flags, str(BIN)], capture_output=True, text=True,
                          check=True).stdout


def build_options():
    """The meson options of the binary's build directory ({} when it has none)."""
    intro = BIN.parent / "meson-info" / "intro-buildoptions.json"
    if not intro.is_file():
        return {}
    return {o["name"]: o["value"] for o in json.loads(intro.read_text())}


def dynamic_symbols():
    return {line.split()[7].split("@")[0] for line in readelf("--dyn-syms").splitlines()
            if len(line.split()) >= 8 and line.split()[0].rstrip(":").isdigit()}


def test_position_independent():
    assert re.search(r"Type:\s+DYN", readelf("-h"))


def test_full_relro():
    assert re.search(r"^\s*GNU_RELRO\s", readelf("-l"), re.M)
    dyn = readelf("-d")
    assert re.search(r"\(FLAGS\)\s+.*BIND_NOW", dyn) or re.search(r"\(FLAGS_1\).*\bNOW\b", dyn)


def test_stack_not_executable():
    stack = [l for l in readelf("-l").splitlines() if l.strip().startswith("GNU_STACK")]
    assert stack and "E" not in stack[0].split()[-2]


def test_stack_protector():
    assert "__stack_chk_fail" in dynamic_symbols()


def test_fortify_source():
    opts = build_options()
    sanitized = opts.get("b_sanitize", "none") not in ("none", [])
    if opts.get("optimization") in ("0", "plain") or sanitized:
        pytest.skip("_FORTIFY_SOURCE is off in unoptimised, plain and sanitizer builds")
    checked = {s for s in dynamic_symbols() if re.fullmatch(r"__\w+_chk", s)}
    checked.discard("__stack_chk_fail")
    assert checked, "no fortified (__*_chk) calls in the binary"
