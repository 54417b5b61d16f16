#!/usr/bin/env python3
"""Totals test results over every suite of `make check` and prints them as the last line.

Reads meson's testlog.json files (cmocka binaries: counts come from cmocka's own
"[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines; a binary that crashed before
printing them counts as one failure) and JUnit XML files (pytest's, and node --test's for the
browser tests, whose top-level test cases sit outside any testsuite element).
"""
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    if path.suffix == ".json":
        for line in path.read_text().splitlines():
            t = json.loads(line)
            out = t.get("stdout", "") + t.get("stderr", "")
            p = re.search(r"\[  PASSED  \] (\d+) test", out)
            f = re.search(r"\[  FAILED  \] (\d+) test", out)
            np, nf = int(p.group(1)) if p else 0, int(f.group(1)) if f else 0
            if t.get("result") != "OK" and nf == 0:
                nf = 1
            passed += np
            failed += nf
    elif path.suffix == ".xml":
        root = ET.parse(path).getroot()
        for s in root.iter("testsuite"):
            total = int(s.get("tests", 0))
            bad = int(s.get("failures", 0)) + int(s.get("errors", 0))
            skip = int(s.get("skipped", 0))
            passed += total - bad - skip
            failed += bad
            skipped += skip
        for c in root.findall("testcase"):  # node --test puts top-level tests outside a suite
            if c.find("skipped") is not None:
                skipped += 1
            elif c.find("failure") is not None or c.find("error") is not None:
                failed += 1
            else:
                passed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
