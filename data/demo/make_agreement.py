#!/usr/bin/env python3
"""Writes data/demo/agreement.json, the SYNTHETIC ceasefire agreement of the demo scenario.

The zones are ILLUSTRATIVE: drawn from the Gaza governorates of geoBoundaries
(data/geo/gaza_governorates.geojson) by simple geometric rules, not from any real text:

- the eastern boundary of the governorates is traced at fixed latitudes (the easternmost
  crossing of each parallel with a governorate's border, 100 m inside);
- the withdrawal line runs 1.3 km west of it (a horizontal offset, at the same latitudes);
- the buffer zone is the strip between the two;
- the no-fire area is the Deir Al Balah governorate polygon;
- the humanitarian corridor is a line 600 m inland of the westernmost (coastal) crossing.

Run it again only when those rules change; the output is deterministic (plain Python, no
randomness) and is committed. Usage: python3 data/demo/make_agreement.py
"""
import json
import math
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
GEO = HERE.parent / "geo" / "gaza_governorates.geojson"
OUT = HERE / "agreement.json"

LAT_DEG_M = 111_195.0  # metres per degree of latitude (mean Earth radius 6371008.8 m)


def lon_deg_m(lat):
    return LAT_DEG_M * math.cos(math.radians(lat))


def load_features():
    return {f["properties"]["shapeName"]: f
            for f in json.loads(GEO.read_text())["features"]}


def edges_of(features):
    out = []
    for f in features.values():
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            for ring in poly:
                out.extend(zip(ring, ring[1:]))
    return out


def crossings(edges, lat):
    xs = []
    for (x1, y1), (x2, y2) in edges:
        if (y1 <= lat < y2) or (y2 <= lat < y1):
            xs.append(x1 + (lat - y1) * (x2 - x1) / (y2 - y1))
    return xs


def r5(x):
    return round(x, 5)


def build():
    gov = load_features()
    edges = edges_of(gov)
    # Eastern boundary, south to north: from near the southern tip to where the boundary
    # turns north-west.
    lats = [round(31.245 + 0.015 * i, 3) for i in range(20)]  # 31.245 .. 31.530
    border, line = [], []
    for lat in lats:
        east = max(crossings(edges, lat))
        border.append([r5(east - 100 / lon_deg_m(lat)), lat])
        line.append([r5(east - 1300 / lon_deg_m(lat)), lat])
    buffer_ring = border + line[::-1] + [border[0]]
    # Coastal corridor, south to north (Al-Mawasi to Gaza City), 600 m inland.
    corridor = []
    for i in range(13):
        lat = round(31.340 + 0.015 * i, 3)  # 31.340 .. 31.520
        west = min(crossings(edges, lat))
        corridor.append([r5(west + 600 / lon_deg_m(lat)), lat])

    deir = gov["Deir Al Balah"]
    no_fire = {"type": "Feature",
               "properties": {"name": "ILLUSTRATIVE no-fire area (Deir Al Balah governorate)",
                              "source": "geoBoundaries ADM2 PS-DEB"},
               "geometry": deir["geometry"]}

    heavy = {"event": "ASSAULT", "modes": ["aerial", "drone", "heavy-weapons", "explosives"]}
    return {
        "name": "SYNTHETIC DEMO - Gaza ceasefire monitoring exercise (ILLUSTRATIVE)",
        "description": (
            "SYNTHETIC scenario for the Vigil demo (make demo). NOT a real agreement, NOT real "
            "events. The parties are placeholders (Party A, Party B); all zones are ILLUSTRATIVE "
            "shapes derived geometrically from the geoBoundaries Gaza governorates "
            "(data/demo/make_agreement.py) and do not reproduce any real line. Phase 1: Party A "
            "withdraws east of the illustrative withdrawal line by 2025-10-04 12:00 UTC."),
        "effective": "2025-10-01T09:00:00Z",
        "ends": "2026-01-01T00:00:00Z",
        "marking": "green",
        "parties": [
            {"name": "Party A",
             "aliases": ["Party A forces", "Party A armoured units", "Party A air force"]},
            {"name": "Party B",
             "aliases": ["Party B armed wing", "Party B fighters", "Party B rocket units"]},
        ],
        "phases": [
            {"name": "Phase 1 (ILLUSTRATIVE): withdrawal to the line",
             "start": "2025-10-01T09:00:00Z", "deadline": "2025-10-04T12:00:00Z"},
            {"name": "Phase 2 (ILLUSTRATIVE): consolidation",
             "start": "2025-10-04T12:00:00Z", "deadline": "2025-11-15T00:00:00Z"},
        ],
        "zones": [
            {"name": "ILLUSTRATIVE withdrawal line",
             "kind": "withdrawal-line", "distance_m": 1500,
             "geometry": {"type": "LineString", "coordinates": line},
             "terms": [
                 {"party": "Party A",
                  "prohibited": [{"event": "MOBILIZE", "modes": ["troops", "weapons"]}],
                  "phase": "Phase 1 (ILLUSTRATIVE): withdrawal to the line",
                  "when": "after-deadline"},
                 {"party": "Party B", "prohibited": ["ASSAULT"]},
             ]},
            {"name": "ILLUSTRATIVE eastern buffer zone",
             "kind": "buffer-zone",
             "geometry": {"type": "Polygon", "coordinates": [buffer_ring]},
             "terms": [
                 {"party": "Party B",
                  "prohibited": ["ASSAULT",
                                 {"event": "MOBILIZE", "modes": ["troops", "weapons"]}]},
                 {"party": "Party A", "prohibited": [heavy]},
             ]},
            {"name": "ILLUSTRATIVE no-fire area - Deir Al Balah",
             "kind": "no-fire-area",
             "geometry": no_fire,
             "terms": [{"party": "*", "prohibited": ["ASSAULT"]}]},
            {"name": "ILLUSTRATIVE humanitarian corridor - coastal road",
             "kind": "humanitarian-corridor", "distance_m": 600,
             "geometry": {"type": "LineString", "coordinates": corridor},
             "terms": [{"party": "*",
                        "prohibited": ["ASSAULT",
                                       {"event": "COERCE",
                                        "modes": ["confiscate", "restrict", "withhold"]}]}]},
        ],
    }


def main():
    OUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
