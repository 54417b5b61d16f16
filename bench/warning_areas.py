#!/usr/bin/env python3
"""Would per-area series help the fatality detector warn of ceasefire collapses? (issue #19)

Measures `escalation-fatal` on the real UCDP GED files (tests/data/real) two ways, with the
shipped binary and no change to it: the GED deaths (`best`) summed per day are imported as
daily casualty aggregates (`vigil import casualties`), either as ONE series for the whole
conflict, or as one series per first-level administrative unit (GED `adm_1`, named
"country.adm-1"; events without adm_1 in "country.no-adm1"). The alerts are then judged against
tests/data/real/ceasefires.csv as `vigil replay --evaluate` does, except that an alarm in ANY
area counts: a warning when it fires in [start, collapse), a false alarm when it fires in a
quiet period. False alarms are also given per area. `--zone-threshold-add X` raises the
threshold of every series by X (a multiple-testing correction: with k series and an in-control
run length that grows about as e^h, h + ln k keeps the family's false-alarm rate).

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/warning_areas.py [--zone-threshold-add X]

Prints figures only; it asserts nothing (docs/FUSION.md, Back-testing, per-area series).
"""
import collections
import csv
import datetime as dt
import gzip
import io
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "real"
BIN = os.environ.get("VIGIL_BIN", str(ROOT / "build" / "vigil"))
FILES = {"ukraine-donbas": "ucdp_ged_ukraine_2014_2022.csv",
         "syria": "ucdp_ged_syria_2016_2019.csv.gz"}
RULE = "escalation-fatal"
FATAL_H = 8.0  # the shipped fatal_threshold (src/fusion/escalation.c)


def vigil(data, *args):
    r = subprocess.run([BIN, "--data", str(data), *args], capture_output=True, text=True,
                       timeout=1800)
    if r.returncode != 0:
        sys.exit(f"vigil {' '.join(args)}: {r.stderr}")
    return r.stdout


def ged_rows(name):
    path = REAL / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        return list(csv.DictReader(f))


def slug(s):
    """An area name the casualty importer takes into its source_ref (printable, no spaces)."""
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in s.lower())


def series(rows, per_area, conflict):
    """{area: {day: deaths}}"""
    out = collections.defaultdict(lambda: collections.Counter())
    for r in rows:
        if per_area:
            area = slug(f"{r['country']}.{r['adm_1'] or 'no-adm1'}")
        else:
            area = conflict
        out[area][r["date_start"][:10]] += int(r["best"] or 0)
    return out


def day(s):
    return dt.date.fromisoformat(s[:10]).toordinal()


def run(tmp, conflict, per_area, h_add):
    data = pathlib.Path(tmp) / f"{conflict}-{'areas' if per_area else 'whole'}-{h_add}"
    vigil(data, "init")
    vigil(data, "partner", "add", "observers")
    vigil(data, "user", "add", "observers", "ana", "--role", "analyst")
    rows = ged_rows(FILES[conflict])
    areas = series(rows, per_area, conflict)
    for i, (area, days) in enumerate(sorted(areas.items())):
        path = pathlib.Path(tmp) / f"s{i}.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["report_date", "report_period", "killed"])
            for d in sorted(days):
                w.writerow([d, 24, days[d]])
        out = vigil(data, "import", "casualties", str(path), "--area", area, "--as", "ana")
        assert f"imported {len(days)} report(s)" in out, out
    extra = []
    if h_add:
        rules = pathlib.Path(tmp) / "rules.ini"
        rules.write_text(f"[escalation]\nfatal_threshold = {FATAL_H + h_add:.3f}\n")
        extra = ["--rules", str(rules)]
    ev = json.loads(vigil(data, "replay", "--as", "ana", *extra, "--evaluate",
                          str(REAL / "ceasefires.csv"), "--conflict", conflict, "--json"))
    alerts = [json.loads(l) for l in
              vigil(data, "replay", "--as", "ana", *extra).splitlines() if l.strip()]
    # the quiet periods as --evaluate judges them on the whole-conflict series
    last = max(day(r["date_start"]) for r in rows)
    starts = sorted(day(c["start"]) for c in ev["ceasefires"])
    for c in ev["ceasefires"]:
        if "judged_until" not in c:
            s = day(c["start"])
            e = day(c["collapse"]) if c["collapse"] else s + 90
            e = min([e] + [t for t in starts if t > s] + ([last + 1] if not c["collapse"] else []))
            c["judged_until"] = dt.date.fromordinal(e).isoformat()
    alarms = []
    for a in alerts:
        # one series: the conflict's own (the overall one is the same sum); per area: every
        # area and the overall series
        if a["rule"] != RULE or (not per_area and a.get("area") != conflict):
            continue
        # fired_at is the end of the first alarm day
        fired = dt.datetime.fromisoformat(a["fired_at"].replace("Z", "+00:00"))
        first = (fired - dt.timedelta(microseconds=1)).date().toordinal()
        alarms.append((a.get("area") or "(overall)", first, day(a["end"])))
    return len(areas), ev, alarms


def judge(ev, alarms):
    collapses = warned = falses = 0
    months = 0.0
    per_area = collections.Counter()
    lines = []
    for c in ev["ceasefires"]:
        s, e = day(c["start"]), day(c["judged_until"])
        col = day(c["collapse"]) if c["collapse"] else None
        if col:
            collapses += 1
            leads = [(col - first, area) for area, first, _ in alarms if s <= first < col]
            lead = max(leads, default=None)
            warned += bool(lead and lead[0] >= 2)
            lines.append(f"  {c['name'][:36]:36} collapse {c['collapse']}: "
                         + (f"first warning {lead[0]} d before, in {lead[1]}" if lead
                            else "no warning"))
        else:
            months += (e - s) / 30.44
            f = [area for area, first, _ in alarms if s <= first < e]
            falses += len(f)
            per_area.update(f)
            lines.append(f"  {c['name'][:36]:36} {len(f)} false alarm(s) in "
                         f"{(e - s) / 30.44:.1f} quiet month(s)")
    return collapses, warned, falses, months, per_area, lines


def main():
    h_add = 0.0
    if len(sys.argv) == 3 and sys.argv[1] == "--zone-threshold-add":
        h_add = float(sys.argv[2])
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix="vigil-areas-") as tmp:
        for conflict in FILES:
            for per_area in (False, True):
                k, ev, alarms = run(tmp, conflict, per_area, h_add if per_area else 0.0)
                col, warned, falses, months, per, lines = judge(ev, alarms)
                how = f"{k} ADM1 series" if per_area else "one series"
                if per_area and h_add:
                    how += f", threshold {FATAL_H} + {h_add} (ln {k} = {math.log(k):.2f})"
                print(f"{conflict}, {RULE}, {how}:")
                print("\n".join(lines))
                worst = max(per.values(), default=0)
                print(f"  collapses {col}, warned >= 2 days before {warned}; false alarms "
                      f"{falses} in {months:.1f} quiet months ({falses / months * 3:.2f} per 3 "
                      f"months, family); worst area {worst} ({worst / months * 3:.2f} per 3 "
                      f"months)")
                if per_area:
                    print("  per area: " + ", ".join(f"{a} {n}" for a, n in per.most_common()))


if __name__ == "__main__":
    main()
